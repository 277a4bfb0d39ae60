// The Secrets screen's key list, streamed: the backend sends a first screenful at once
// and the rest in large pieces (`stream_secrets`), so that the first paint after
// unlock does not wait for 100,000 secrets to be read, sent and parsed.
//
// A list of another project (or with deleted ones shown or not) is shown as soon as
// its first piece arrives, then whole when the last has; a reload of the same list
// (the vault's change counter moved) keeps the one on screen until the new one is
// complete, so polling never flickers and a search never sees half a list.

import { Channel } from "@tauri-apps/api/core";
import { useLayoutEffect, useRef, useState } from "react";
import type { ScopeDto, SecretList_Deserialize, SecretList_Serialize } from "../../bindings";
import { api, AppError, toAppError } from "../../lib/ipc";
import { decodeSecretList } from "../../lib/secretList";
import type { Secret } from "../../lib/types";

export interface SecretListLoad {
  /** Undefined until the first piece of the first list. */
  data: Secret[] | undefined;
  /** False while `data` is only the first piece of a list still arriving. */
  complete: boolean;
  error: AppError | undefined;
  loading: boolean;
}

interface Shown {
  key: string;
  data: Secret[];
  complete: boolean;
}

export function useSecretList(scope: ScopeDto, includeDeleted: boolean, revision: unknown): SecretListLoad {
  const [shown, setShown] = useState<Shown | undefined>(undefined);
  const [error, setError] = useState<AppError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const shownKey = useRef<string | undefined>(undefined);
  const key = JSON.stringify([scope.workspace, scope.project, includeDeleted]);

  // Sent from a layout effect, before the browser paints this render: the backend
  // reads while the webview paints (see useLoad).
  useLayoutEffect(() => {
    const ticket = ++latest.current;
    const current = () => ticket === latest.current;
    // Only another list is shown in part; a reload waits for the whole.
    const inPart = shownKey.current !== key;
    let rows: Secret[] = [];
    let total: number | undefined;
    const show = (complete: boolean) => {
      shownKey.current = key;
      setShown({ key, data: rows, complete });
    };
    const finishIfWhole = () => {
      if (total === undefined || rows.length < total) return;
      show(true);
      setError(undefined);
      setLoading(false);
    };
    setLoading(true);
    const channel = new Channel<SecretList_Serialize>();
    channel.onmessage = (piece) => {
      if (!current()) return;
      const first = rows.length === 0;
      rows = rows.concat(decodeSecretList(piece));
      if (first && inPart) show(false);
      finishIfWhole();
    };
    // The channel carries what the backend serialises; the generated binding types the
    // parameter with the deserialising shape, which the backend never reads.
    api.streamSecrets(scope, includeDeleted, channel as unknown as Channel<SecretList_Deserialize>).then(
      (n) => {
        if (!current()) return;
        total = n;
        finishIfWhole();
      },
      (e: unknown) => {
        if (!current()) return;
        setError(toAppError(e));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, revision]);

  useLayoutEffect(
    () => () => {
      latest.current++; // ignore pieces arriving after unmount
    },
    [],
  );

  return { data: shown?.data, complete: shown?.complete ?? false, error, loading };
}
