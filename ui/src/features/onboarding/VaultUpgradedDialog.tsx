// After the owner's unlock upgraded a vault made by an earlier Coffer: each member the
// upgrade re-created, with the one-time passphrase to hand them. The backend sends
// them once and keeps no copy, so the dialog stays until the owner says they have
// them; closing it (or locking) drops them from the page.

import { useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { Checkbox } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { useToast } from "../../components/Toast";
import type { OneTimePassphrase } from "../../lib/types";
import { copySecret } from "../../lib/clipboard";
import { errorMessage } from "../../lib/ipc";

export function VaultUpgradedDialog({ passphrases, onDone }: { passphrases: OneTimePassphrase[]; onDone: () => void }) {
  const [noted, setNoted] = useState(false);
  const toast = useToast();
  const byName = [...passphrases].sort((a, b) => a.member.localeCompare(b.member));

  async function copy({ member, passphrase }: OneTimePassphrase) {
    try {
      const clearAfterMs = await copySecret(passphrase);
      toast(`Copied ${member}'s passphrase. The clipboard clears in ${clearAfterMs / 1000} s.`, "info");
    } catch (e) {
      toast(`Could not copy: ${errorMessage(e)}`, "danger");
    }
  }

  return (
    <Modal
      title="Vault upgraded"
      description="This vault was made by an earlier Coffer. Now every member holds only the keys their role needs: a passphrase opens nothing beyond its member's role."
      dismissible={false}
      onClose={onDone}
      footer={
        <Button variant="primary" disabled={!noted} onClick={onDone}>
          Done
        </Button>
      }
    >
      <Alert tone="warning" title="Shown only now">
        Coffer keeps no copy of these one-time passphrases. Hand each member theirs in person; the passphrases they
        used before no longer open the vault. At first unlock, each member sets their own.
      </Alert>
      <table className="table one-time" aria-label="One-time passphrases">
        <thead>
          <tr>
            <th scope="col">Member</th>
            <th scope="col">One-time passphrase</th>
            <th scope="col">
              <span className="sr-only">Copy</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {byName.map((p) => (
            <tr key={p.member}>
              <th scope="row">{p.member}</th>
              <td className="mono one-time-passphrase" aria-label={`One-time passphrase for ${p.member}`}>
                {p.passphrase}
              </td>
              <td className="align-end">
                <Button size="sm" icon="copy" onClick={() => void copy(p)} aria-label={`Copy ${p.member}'s passphrase`}>
                  Copy
                </Button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Checkbox
        label="I have handed these out or noted them"
        checked={noted}
        onChange={(e) => setNoted(e.target.checked)}
      />
    </Modal>
  );
}
