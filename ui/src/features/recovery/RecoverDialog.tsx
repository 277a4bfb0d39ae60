// Recover, from the unlock screen: a member's recovery key (the 24 words, typed or
// pasted with any spacing or numbering) and a new passphrase twice set that member's
// passphrase and unlock the app as them. The words' field is uncontrolled (never
// mirrored into the page's HTML); it keeps what was typed after a refusal, so a
// misspelt word named by the error can be mended, and goes with the dialog.

import { useRef } from "react";
import { Button } from "../../components/Button";
import { Modal } from "../../components/Modal";
import { api } from "../../lib/ipc";
import type { UnlockResult } from "../../lib/types";
import { MemberPassphraseForm } from "../onboarding/MemberPassphraseForm";

export const ENTER_WORDS = "Enter the 24 words of your recovery key.";

export function RecoverDialog({
  initialMember,
  onClose,
  onRecovered,
}: {
  initialMember: string;
  onClose: () => void;
  onRecovered: (result: UnlockResult) => void;
}) {
  const words = useRef<HTMLTextAreaElement>(null);

  return (
    <Modal
      title="Recover with your recovery key"
      description="The 24 words you wrote down when your recovery key was made set a new passphrase. Only owners have a recovery key; other members ask an owner to add them again."
      size="md"
      onClose={onClose}
    >
      <MemberPassphraseForm
        member={{ initial: initialMember }}
        passphrase="new"
        passphraseLabel="New passphrase"
        repeatLabel="Repeat new passphrase"
        submitLabel="Recover and unlock"
        between={
          <div className="field">
            <label className="field-label" htmlFor="recover-words">
              Recovery key
            </label>
            <textarea
              id="recover-words"
              aria-label="Recovery key"
              ref={words}
              className="input mono recover-words"
              rows={4}
              autoComplete="off"
              autoCapitalize="off"
              autoCorrect="off"
              spellCheck={false}
              placeholder="24 words, in order"
              aria-describedby="recover-words-hint"
            />
            <p className="field-hint" id="recover-words-hint">
              Spaces, new lines and numbering do not matter.
            </p>
          </div>
        }
        after={
          <p className="field-hint">
            Your recovery key keeps working afterwards. If someone may have seen it, replace it in Settings.
          </p>
        }
        actions={<Button onClick={onClose} className="btn-block">Cancel</Button>}
        validate={() => (words.current?.value.trim() ? null : ENTER_WORDS)}
        onSubmit={async (member, passphrase) => {
          const typed = words.current?.value ?? "";
          const result = await api.recover(member, typed, passphrase);
          if (words.current) words.current.value = "";
          onRecovered(result);
        }}
      />
    </Modal>
  );
}
