// Sets the member's own passphrase: the current one, then the new one twice. After an
// unlock with a passphrase someone else chose (given by the admin who added them, or
// made by an upgrade) it is required: nothing closes it but setting one or locking.
// From Settings it is an ordinary dialog. Every field is emptied once submitted.

import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { Modal } from "../../components/Modal";
import { FORGOTTEN_PASSPHRASE } from "../../components/NewPassphraseFields";
import { usePassphraseForm } from "../../components/PassphraseForm";
import { useToast } from "../../components/Toast";
import { api } from "../../lib/ipc";

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
  const toast = useToast();
  const form = usePassphraseForm({
    current: {
      label: "Current passphrase",
      hint: required ? "The one you just unlocked with." : undefined,
      missing: "Enter your current passphrase.",
    },
    fresh: { label: "New passphrase", repeatLabel: "Repeat new passphrase" },
    onSubmit: async ({ current, fresh }) => {
      await api.changePassphrase(current, fresh);
      toast("Your passphrase is set. Use it from now on, here and on the command line.");
      onChanged();
    },
  });
  const busy = form.busy;

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
      onSubmit={() => void form.submit()}
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
      {form.fields}
      <Alert tone="info">{FORGOTTEN_PASSPHRASE}</Alert>
      {form.error ? <Alert>{form.error}</Alert> : null}
    </Modal>
  );
}
