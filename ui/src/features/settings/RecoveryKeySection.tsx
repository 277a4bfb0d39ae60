// Settings → General → Recovery key: whether the member has one, and for owners
// "Replace recovery key…": the passphrase confirmed first, then the new words shown
// once with the same three-words check as first run. The words are held in this
// component's state only while that dialog is up.

import { useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { Modal } from "../../components/Modal";
import { useConfirmPassphrase } from "../../components/PassphrasePrompt";
import { useToast } from "../../components/Toast";
import { api, errorMessage } from "../../lib/ipc";
import { useLoad } from "../../lib/useLoad";
import { RecoveryKeyCeremony } from "../recovery/RecoveryKeyCeremony";
import { useSession } from "../shell/session";

export const OWNERS_ONLY =
  "Only owners have a recovery key. If you forget your passphrase, an owner can add you again with a new one.";

export function RecoveryKeySetting() {
  const session = useSession();
  const toast = useToast();
  const confirmPassphrase = useConfirmPassphrase();
  const status = useLoad(() => api.recoveryKeyStatus(), [session.revision]);
  const [words, setWords] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const exists = status.data?.exists ?? false;

  async function replace() {
    setError(null);
    const ok = await confirmPassphrase(
      exists
        ? "confirm your passphrase to replace your recovery key: the old one stops working"
        : "confirm your passphrase to make a recovery key",
    );
    if (!ok) return;
    setBusy(true);
    try {
      setWords((await api.replaceRecoveryKey()).words);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  function confirmed() {
    setWords(null); // the words leave the UI's state here
    toast("Your new recovery key is set. The old one opens nothing from now on.");
    status.reload();
  }

  let text: string;
  if (status.data === undefined) text = status.error ? errorMessage(status.error) : "Loading…";
  else if (!status.data.may_hold) text = OWNERS_ONLY;
  else if (exists)
    text =
      "You have one: with its 24 words, Recover on the unlock screen sets a new passphrase. Replace it if you have lost the words or someone may have seen them.";
  else text = "You have none.";

  return (
    <div className="setting-row">
      <div className="setting-text">
        <span className="setting-label">Recovery key</span>
        <p className="field-hint">{text}</p>
        {status.data?.may_hold && !exists ? (
          <Alert tone="warning" title="Make your recovery key">
            Without one, a forgotten passphrase loses your keys: no one, not Coffer, can open them.
          </Alert>
        ) : null}
        {error ? <Alert>{error}</Alert> : null}
      </div>
      {status.data?.may_hold ? (
        <Button icon="key" busy={busy} onClick={() => void replace()}>
          {exists ? "Replace recovery key…" : "Make a recovery key…"}
        </Button>
      ) : null}
      {words ? (
        <Modal
          title="Your new recovery key"
          description="The old recovery key opens nothing from now on. These words are shown only now."
          size="lg"
          dismissible={false}
          onClose={() => undefined}
        >
          <RecoveryKeyCeremony member={session.member} words={words} onConfirmed={confirmed} />
        </Modal>
      ) : null}
    </div>
  );
}
