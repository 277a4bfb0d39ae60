// First run: create the vault and its owner. The passphrase fields are uncontrolled
// (React never mirrors them into a DOM attribute) and emptied after submitting.

import { useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { StrengthMeter } from "../../components/StrengthMeter";
import { api, errorMessage } from "../../lib/ipc";
import { isAcceptable, passphraseStrength, type Strength } from "../../lib/strength";
import { nameProblem } from "../../lib/names";
import { AuthCard } from "./AuthCard";

export function FirstRun({ path, onCreated }: { path: string; onCreated: (member: string, change: number) => void }) {
  const [owner, setOwner] = useState("");
  const pass = useRef<HTMLInputElement>(null);
  const repeat = useRef<HTMLInputElement>(null);
  const [strength, setStrength] = useState<Strength>(passphraseStrength(""));
  const [empty, setEmpty] = useState(true);
  const [mismatch, setMismatch] = useState(false);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function onPassInput() {
    const p = pass.current?.value ?? "";
    setStrength(passphraseStrength(p));
    setEmpty(p.length === 0);
    const r = repeat.current?.value ?? "";
    setMismatch(r.length > 0 && r !== p);
  }

  const ownerProblem = nameProblem("member", owner);

  async function submit() {
    setTouched(true);
    const p = pass.current?.value ?? "";
    const r = repeat.current?.value ?? "";
    if (ownerProblem) return;
    if (!isAcceptable(passphraseStrength(p))) {
      setError("Choose a stronger passphrase: at least 10 characters, and rated fair or better.");
      return;
    }
    if (p !== r) {
      setMismatch(true);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await api.createVault(owner, p);
      onCreated(owner, result.change);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    } finally {
      if (pass.current) pass.current.value = "";
      if (repeat.current) repeat.current.value = "";
      setEmpty(true);
      setStrength(passphraseStrength(""));
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
        <TextField
          ref={pass}
          label="Passphrase"
          type="password"
          autoComplete="new-password"
          onInput={onPassInput}
        />
        <StrengthMeter strength={strength} empty={empty} />
        <TextField
          ref={repeat}
          label="Repeat passphrase"
          type="password"
          autoComplete="new-password"
          onInput={onPassInput}
          error={mismatch ? "The two passphrases differ." : null}
        />
        <Alert tone="info">
          There is no way to recover a forgotten passphrase. Keep it in a safe place.
        </Alert>
        {error ? <Alert>{error}</Alert> : null}
        <Button type="submit" variant="primary" busy={busy} className="btn-block">
          Create vault
        </Button>
      </form>
    </AuthCard>
  );
}
