// Restoring one snapshot: what happens, in order, then the member's passphrase as it
// was when the snapshot was taken. The backend checks the file before anything
// changes; a refusal (wrong passphrase, not permitted, a file that fails a check)
// shows here and nothing changes. On success the backend has locked the vault: the
// caller takes the app back to the unlock screen.

import { useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { formatDateTime, formatRelative } from "../../lib/format";
import { api, errorMessage } from "../../lib/ipc";
import { KIND_LABEL } from "../../lib/snapshots";
import type { RestoreOutcome, Snapshot } from "../../lib/types";

export function RestoreDialog({
  snapshot,
  member,
  onRestored,
  onClose,
}: {
  snapshot: Snapshot;
  member: string;
  onRestored: (outcome: RestoreOutcome) => void;
  onClose: () => void;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const when = snapshot.taken_at != null ? formatDateTime(snapshot.taken_at) : "an unknown time";
  const age = snapshot.taken_at != null ? ` (${formatRelative(snapshot.taken_at)})` : "";

  async function submit() {
    if (busy) return;
    const passphrase = input.current?.value ?? "";
    if (!passphrase) {
      setMissing(true);
      input.current?.focus();
      return;
    }
    if (input.current) input.current.value = "";
    setBusy(true);
    setError(null);
    try {
      onRestored(await api.restoreSnapshot(snapshot.path, passphrase));
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
      input.current?.focus();
    }
  }

  return (
    <Modal
      title="Restore this snapshot?"
      description={
        <>
          The {KIND_LABEL[snapshot.kind]} snapshot of <strong>{when}</strong>
          {age}.
        </>
      }
      busy={busy}
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="danger" busy={busy} icon="restore">
            Restore vault
          </Button>
        </>
      }
    >
      <ol className="restore-steps" aria-label="What a restore does">
        <li>
          The snapshot is checked first: SQLite's integrity check, every signed row of its directory and its whole audit
          trail. If anything fails, nothing changes.
        </li>
        <li>The vault as it is now is kept as a snapshot, so this can be undone.</li>
        <li>
          Everything changed since {when}, in every workspace, is turned back: values, members, roles and settings.
        </li>
        <li>
          The restore is recorded in the audit trail. The events since the snapshot stay in the copy kept of the vault
          as it is now.
        </li>
        <li>Coffer locks. Unlock again with your passphrase as it was then.</li>
      </ol>
      <TextField
        ref={input}
        label="Passphrase when the snapshot was taken"
        type="password"
        autoComplete="current-password"
        hint={`${member}'s passphrase as it was on ${when}: if you changed it since, the old one.`}
        error={missing ? "Enter your passphrase as it was then." : null}
        onInput={() => setMissing(false)}
        data-autofocus
      />
      <p className="field-hint restore-file" title={snapshot.path}>
        File: <code>{snapshot.path}</code>
      </p>
      {error ? <Alert title="Nothing was restored">{error}</Alert> : null}
    </Modal>
  );
}
