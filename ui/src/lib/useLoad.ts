// Loads data for a screen and reloads it when its inputs change (including the
// vault's change counter, so edits made by the CLI appear). The previous data stays
// on screen while a reload runs, so polling never flickers.

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { AppError, toAppError } from "./ipc";

export interface Loaded<T> {
  data: T | undefined;
  error: AppError | undefined;
  loading: boolean;
  reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[], enabled = true): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<AppError | undefined>(undefined);
  const [loading, setLoading] = useState(enabled);
  const [nonce, setNonce] = useState(0);
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  // A layout effect sends the request before the browser paints this render rather
  // than after: the backend works while the webview paints, and each step of a chain
  // of loads (workspace, project, environments, secrets) saves a frame.
  useLayoutEffect(() => {
    if (!enabled) {
      setLoading(false);
      return;
    }
    const ticket = ++latest.current;
    setLoading(true);
    loadRef.current().then(
      (d) => {
        if (ticket !== latest.current) return; // a newer request won
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (ticket !== latest.current) return;
        setError(toAppError(e));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, nonce, enabled]);

  useEffect(
    () => () => {
      latest.current++; // ignore answers arriving after unmount
    },
    [],
  );

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { data, error, loading, reload };
}
