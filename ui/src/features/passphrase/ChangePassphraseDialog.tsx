// Sets the member's own passphrase: the current one, then the new one twice. After an
// unlock with a passphrase someone else chose (given by the admin who added them, or
// made by an upgrade) it is required: nothing closes it but setting one or locking.
// From Settings it is an ordinary dialog. Every field is emptied once submitted.

import { useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { NewPassphraseFields, type NewPassphraseHandle } from "../../components/NewPassphraseFields";
import { useToast } from "../../components/Toast";
import { api, errorMessage } from "../../lib/ipc";

export function ChangePassphraseDialog({
  required = false,
  onChanged,
  onCancel,
}: {
  /** The member must set their own before going on; the only other way out is to lock. */
  required?: boolean;
  onChanged: () => void;
  /** Closes the dialog, or locks the vault when it is required. */
  onCancel: () => void;
}) {
  const current = useRef<HTMLInputElement>(null);
  const next = useRef<NewPassphraseHandle>(null);
  const [missingCurrent, setMissingCurrent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const toast = useToast();

  async function submit() {
    if (busy) return;
    const now = current.current?.value ?? "";
    if (!now) {
      setMissingCurrent(true);
      current.current?.focus();
      return;
    }
    const chosen = next.current?.take();
    if (!chosen) return;
    if (current.current) current.current.value = "";
    setBusy(true);
    setError(null);
    try {
      await api.changePassphrase(now, chosen);
      toast("Your passphrase is set. Use it from now on, here and on the command line.");
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
      current.current?.focus();
    }
  }

  return (
    <Modal
      title={required ? "Set your own passphrase" : "Change passphrase"}
      description={
        required
          ? "You unlocked with a passphrase someone else chose. Choose one only you know: the one you were given stops working."
          : "Your keys are sealed again under the new passphrase. A device you chose to remember keeps unlocking."
      }
      size="sm"
      busy={busy}
      dismissible={!required}
      onClose={onCancel}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onCancel} disabled={busy} icon={required ? "lock" : undefined}>
            {required ? "Lock for now" : "Cancel"}
          </Button>
          <Button type="submit" variant="primary" busy={busy}>
            {required ? "Set passphrase" : "Change passphrase"}
          </Button>
        </>
      }
    >
      <TextField
        ref={current}
        label="Current passphrase"
        type="password"
        autoComplete="current-password"
        hint={required ? "The one you just unlocked with." : undefined}
        error={missingCurrent ? "Enter your current passphrase." : null}
        onInput={() => setMissingCurrent(false)}
        data-autofocus
      />
      <NewPassphraseFields ref={next} label="New passphrase" repeatLabel="Repeat new passphrase" />
      <Alert tone="info">
        Keep it in a safe place: Coffer cannot tell it to you, and backups do not replace it — a snapshot opens only with the passphrases its members had when it was taken.
      </Alert>
      {error ? <Alert>{error}</Alert> : null}
    </Modal>
  );
}
