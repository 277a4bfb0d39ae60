// First run: create the vault and its owner. The passphrase fields are uncontrolled
// (React never mirrors them into a DOM attribute) and emptied when submitted.

import { useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { NewPassphraseFields, type NewPassphraseHandle } from "../../components/NewPassphraseFields";
import { api, errorMessage } from "../../lib/ipc";
import { nameProblem } from "../../lib/names";
import type { UnlockResult } from "../../lib/types";
import { AuthCard } from "./AuthCard";

export function FirstRun({ path, onCreated }: { path: string; onCreated: (result: UnlockResult) => void }) {
  const [owner, setOwner] = useState("");
  const passphrase = useRef<NewPassphraseHandle>(null);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const ownerProblem = nameProblem("member", owner);

  async function submit() {
    setTouched(true);
    if (ownerProblem) return;
    const p = passphrase.current?.take();
    if (!p) return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await api.createVault(owner, p));
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <AuthCard
      title="Create your vault"
      path={path}
      intro="Coffer keeps your team's secrets in one encrypted file on this computer. You will be its owner: you can add members, give roles and reveal values."
    >
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        noValidate
      >
        <TextField
          label="Owner name"
          value={owner}
          onChange={(e) => setOwner(e.target.value)}
          placeholder="e.g. alice"
          hint="Your member name: letters, digits, _ - or ."
          error={touched && owner ? ownerProblem : touched && !owner ? "Enter your member name." : null}
          autoFocus
        />
        <NewPassphraseFields ref={passphrase} repeatLabel="Repeat passphrase" />
        <Alert tone="info">
          Keep it in a safe place: Coffer cannot tell it to you, and backups do not replace it — a snapshot opens only with the passphrases its members had when it was taken.
        </Alert>
        {error ? <Alert>{error}</Alert> : null}
        <Button type="submit" variant="primary" busy={busy} className="btn-block">
          Create vault
        </Button>
      </form>
    </AuthCard>
  );
}
