// Asks the member's passphrase again before a change to a protected environment and
// confirms it with the backend. `useConfirmPassphrase()` returns a function resolving
// true once confirmed, false when cancelled.

import { createContext, useCallback, useContext, useRef, useState, type ReactNode } from "react";
import { api, errorMessage } from "../lib/ipc";
import { Alert } from "./Alert";
import { Button } from "./Button";
import { TextField } from "./Field";
import { Modal } from "./Modal";

type Confirm = (why: string) => Promise<boolean>;
const PromptContext = createContext<Confirm>(async () => false);

export function useConfirmPassphrase(): Confirm {
  return useContext(PromptContext);
}

export function PassphrasePromptProvider({ children }: { children: ReactNode }) {
  const [why, setWhy] = useState<string | null>(null);
  const resolver = useRef<((ok: boolean) => void) | null>(null);

  const ask = useCallback<Confirm>(
    (reason) =>
      new Promise<boolean>((resolve) => {
        resolver.current?.(false);
        resolver.current = resolve;
        setWhy(reason);
      }),
    [],
  );

  function finish(ok: boolean) {
    resolver.current?.(ok);
    resolver.current = null;
    setWhy(null);
  }

  return (
    <PromptContext.Provider value={ask}>
      {children}
      {why !== null ? <PromptDialog why={why} onDone={finish} /> : null}
    </PromptContext.Provider>
  );
}

function PromptDialog({ why, onDone }: { why: string; onDone: (ok: boolean) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit() {
    const passphrase = input.current?.value ?? "";
    if (input.current) input.current.value = "";
    if (!passphrase) return;
    setBusy(true);
    setError(null);
    try {
      await api.confirmPassphrase(passphrase);
      onDone(true);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
      input.current?.focus();
    }
  }

  return (
    <Modal
      title="Confirm your passphrase"
      description={errorMessage({ code: "auth", message: why })}
      size="sm"
      busy={busy}
      onClose={() => onDone(false)}
      onSubmit={submit}
      footer={
        <>
          <Button onClick={() => onDone(false)} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={busy}>
            Confirm and continue
          </Button>
        </>
      }
    >
      <TextField ref={input} label="Your passphrase" type="password" autoComplete="current-password" />
      {error ? <Alert>{error}</Alert> : null}
    </Modal>
  );
}
