// Join a team vault from this machine, with the code its owner sent: this member's
// keys are made here under the passphrase they choose, the screen shows the
// fingerprint to read out to the owner, and waits — asking the server every few
// seconds — until the owner admits them; then the vault is pulled into this machine's
// file and unlocked. Started earlier (the app closed meanwhile), it asks for the
// passphrase again and carries on. The passphrase is held in a ref (never rendered)
// only while waiting.

import { useEffect, useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { usePassphraseForm } from "../../components/PassphraseForm";
import { api, AppError, errorMessage } from "../../lib/ipc";
import type { UnlockResult } from "../../lib/types";
import { AuthCard } from "./AuthCard";

/** How often a waiting join asks whether the owner has admitted it. */
export const JOIN_POLL_MS = 3_000;

export function JoinTeam({
  path,
  resume,
  onJoined,
  onBack,
  onGone,
}: {
  path: string;
  /** A join started earlier waits in this file: ask for the passphrase, carry on. */
  resume: boolean;
  onJoined: (result: UnlockResult) => void;
  /** Back to creating a vault (a new join only). */
  onBack?: () => void;
  /** The join finished elsewhere (another window): on to the unlock screen. */
  onGone?: () => void;
}) {
  const [code, setCode] = useState("");
  const [waiting, setWaiting] = useState<{ name: string; fingerprint: string; server: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const passphrase = useRef<string | null>(null);

  // Admitted yet? Asked now and then while the fingerprint shows.
  const finish = async (): Promise<boolean> => {
    const typed = passphrase.current;
    if (typed === null) return false;
    const progress = await api.teamJoinFinish(typed);
    if (!progress.joined) {
      setWaiting((w) => ({ name: progress.name, fingerprint: progress.fingerprint, server: w?.server ?? "" }));
      return false;
    }
    const unlocked = await api.unlock(progress.name, typed, false);
    passphrase.current = null;
    onJoined(unlocked);
    return true;
  };

  // One question at a time: the next is asked a while after the last one answered.
  // A failure that waiting cannot mend (a wrong passphrase, an invitation refused, a
  // server that sent something broken) stops the asking; a server out of reach does
  // not. A join finished meanwhile (another window) sends the member to unlock.
  useEffect(() => {
    if (!waiting) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = () => {
      timer = setTimeout(() => {
        if (stopped) return;
        finish().then(
          (done) => {
            if (!done && !stopped) ask();
          },
          (e: unknown) => {
            if (stopped) return;
            if (e instanceof AppError && e.code === "not_found" && onGone) {
              onGone();
              return;
            }
            setError(errorMessage(e));
            if (!(e instanceof AppError) || e.code === "internal" || e.code === "unavailable") ask();
          },
        );
      }, JOIN_POLL_MS);
    };
    ask();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // Started once the fingerprint shows; `finish` reads refs and setters only.
  }, [waiting !== null]);

  const form = usePassphraseForm({
    current: resume ? { label: "Your passphrase", autoFocus: true } : undefined,
    fresh: resume ? undefined : { label: "Choose a passphrase", repeatLabel: "Repeat the passphrase" },
    validate: () => (!resume && !code.trim() ? "Paste the invitation code the owner sent you." : null),
    onSubmit: async ({ current, fresh }) => {
      setError(null);
      if (resume) {
        passphrase.current = current;
        try {
          if (!(await finish())) setWaiting((w) => w ?? { name: "", fingerprint: "", server: "" });
        } catch (e) {
          passphrase.current = null;
          throw e;
        }
        return;
      }
      const started = await api.teamJoinStart(code.trim(), fresh);
      passphrase.current = fresh;
      setWaiting({ name: started.name, fingerprint: started.fingerprint, server: started.server });
    },
  });

  if (waiting && waiting.fingerprint) {
    return (
      <AuthCard
        title="Waiting for the owner"
        path={path}
        intro={`You asked to join${waiting.server ? ` ${waiting.server}` : ""} as ${waiting.name}. Your keys were made on this computer and never leave it.`}
      >
        <div className="stack">
          <div className="join-fingerprint" role="group" aria-label="Your fingerprint">
            <span className="field-label">Your fingerprint</span>
            <code>{waiting.fingerprint}</code>
          </div>
          <Alert tone="info" title="Read it out to the owner who invited you">
            In person or on a call, not in the chat the code came by. They admit you only when it matches what their
            Coffer shows; this screen goes on by itself once they have.
          </Alert>
          {error ? <Alert title="Could not ask the team server">{error}</Alert> : null}
          <p className="field-hint" aria-live="polite">
            Asking the server every few seconds…
          </p>
        </div>
      </AuthCard>
    );
  }

  return (
    <AuthCard
      title={resume ? "Finish joining your team" : "Join a team vault"}
      path={path}
      intro={
        resume
          ? "This computer asked to join a team vault. Enter the passphrase you chose then to carry on."
          : "Paste the invitation code the vault's owner sent you and choose your passphrase. Your keys are made here and never leave this computer."
      }
    >
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void form.submit();
        }}
        noValidate
      >
        {resume ? null : (
          <TextField
            label="Invitation code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            placeholder="coffer-invite:…"
            autoFocus
          />
        )}
        {form.passphraseFields}
        {form.error ?? error ? <Alert>{form.error ?? error}</Alert> : null}
        <Button type="submit" variant="primary" busy={form.busy} className="btn-block">
          {resume ? "Carry on" : "Ask to join"}
        </Button>
        {onBack ? (
          <Button variant="link" className="auth-forgot" onClick={onBack}>
            Create a vault of your own instead
          </Button>
        ) : null}
      </form>
    </AuthCard>
  );
}
