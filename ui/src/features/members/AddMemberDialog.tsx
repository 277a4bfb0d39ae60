// Adds a member with a role and an initial passphrase (uncontrolled, emptied on submit),
// which the member replaces with their own at first unlock.

import { useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { NewPassphraseFields, type NewPassphraseHandle } from "../../components/NewPassphraseFields";
import { api, errorMessage } from "../../lib/ipc";
import { nameProblem } from "../../lib/names";
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
  const initial = useRef<NewPassphraseHandle>(null);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const problem = nameProblem("member", name) ?? (existing.has(name) ? `${name} is already a member.` : null);

  async function submit() {
    setTouched(true);
    if (problem || busy) return;
    const passphrase = initial.current?.take();
    if (!passphrase) return;
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
      description={`They join ${workspace} with this role. Give them the initial passphrase in person; at first unlock they choose their own.`}
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
      <NewPassphraseFields ref={initial} label="Initial passphrase" />
      {error ? <Alert>{error}</Alert> : null}
    </Modal>
  );
}
