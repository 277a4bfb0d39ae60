// Adds a member with a role and an initial passphrase (uncontrolled, emptied on submit).

import { useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { StrengthMeter } from "../../components/StrengthMeter";
import { api, errorMessage } from "../../lib/ipc";
import { nameProblem } from "../../lib/names";
import { isAcceptable, passphraseStrength, type Strength } from "../../lib/strength";
import { ROLES, type Role } from "../../lib/types";

export function AddMemberDialog({
  workspace,
  existing,
  onClose,
  onAdded,
}: {
  workspace: string;
  existing: ReadonlySet<string>;
  onClose: () => void;
  onAdded: (name: string, role: Role) => void;
}) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("developer");
  const pass = useRef<HTMLInputElement>(null);
  const [strength, setStrength] = useState<Strength>(passphraseStrength(""));
  const [empty, setEmpty] = useState(true);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const problem = nameProblem("member", name) ?? (existing.has(name) ? `${name} is already a member.` : null);

  async function submit() {
    setTouched(true);
    if (problem || busy) return;
    const passphrase = pass.current?.value ?? "";
    if (!isAcceptable(passphraseStrength(passphrase))) {
      setError("Choose a stronger initial passphrase: at least 10 characters, rated fair or better.");
      return;
    }
    if (pass.current) pass.current.value = "";
    setEmpty(true);
    setStrength(passphraseStrength(""));
    setBusy(true);
    setError(null);
    try {
      await api.addMember(workspace, name, role, passphrase);
      onAdded(name, role);
      onClose();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <Modal
      title="Add member"
      description={`They unlock ${workspace} with their own passphrase; give it to them in person.`}
      busy={busy}
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={busy}>
            Add member
          </Button>
        </>
      }
    >
      <div className="form-grid">
        <TextField
          label="Member name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={touched || name ? problem : null}
          placeholder="e.g. bob"
          data-autofocus
        />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </SelectField>
      </div>
      <TextField
        ref={pass}
        label="Initial passphrase"
        type="password"
        autoComplete="new-password"
        onInput={(e) => {
          const p = e.currentTarget.value;
          setStrength(passphraseStrength(p));
          setEmpty(p.length === 0);
        }}
      />
      <StrengthMeter strength={strength} empty={empty} />
      {error ? <Alert>{error}</Alert> : null}
    </Modal>
  );
}
