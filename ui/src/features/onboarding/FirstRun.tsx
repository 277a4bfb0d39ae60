// First run: create the vault and its owner, then show the owner's recovery key once
// and ask three of its words back. The passphrase fields are uncontrolled (React never
// mirrors them into a DOM attribute) and emptied when submitted; the recovery words are
// held in this component's state only until they are confirmed or put off, and are
// dropped before the app goes on. Put off, the key is removed: one nobody wrote down
// must not pass for one the owner has.

import { useState } from "react";
import { Alert } from "../../components/Alert";
import { api, errorMessage } from "../../lib/ipc";
import type { UnlockResult } from "../../lib/types";
import { RecoveryKeyCeremony } from "../recovery/RecoveryKeyCeremony";
import { AuthCard } from "./AuthCard";
import { MemberPassphraseForm } from "./MemberPassphraseForm";

/** The owner gets a recovery key next: said before they choose the passphrase. */
export const FIRST_RUN_NOTE =
  "Keep it safe: Coffer cannot tell it to you. Next you get a recovery key: with it, Recover on the unlock screen sets a new passphrase; without it, nothing can.";

export function FirstRun({ path, onCreated }: { path: string; onCreated: (result: UnlockResult) => void }) {
  const [created, setCreated] = useState<{ unlocked: UnlockResult; words: string[] } | null>(null);
  const [laterError, setLaterError] = useState<string | null>(null);

  if (created) {
    const done = () => {
      const { unlocked } = created;
      setCreated(null); // the words leave the UI's state here
      onCreated(unlocked);
    };
    // Put off: the key nobody wrote down is removed, so Settings and Health say there
    // is none and offer to make one, on every start.
    const later = async () => {
      setLaterError(null);
      try {
        await api.removeRecoveryKey();
        done();
      } catch (e) {
        setLaterError(errorMessage(e));
      }
    };
    return (
      <AuthCard
        title="Your recovery key"
        path={path}
        wide
        intro="24 words that set a new passphrase for you if you forget yours. Coffer shows them only now."
      >
        {laterError ? (
          <Alert title="Could not put it off">{laterError} Write the words down and check them instead.</Alert>
        ) : null}
        <RecoveryKeyCeremony
          member={created.unlocked.member}
          words={created.words}
          onConfirmed={done}
          onLater={() => void later()}
        />
      </AuthCard>
    );
  }

  return (
    <AuthCard
      title="Create your vault"
      path={path}
      intro="Coffer keeps your team's secrets in one encrypted file on this computer. You will be its owner: you can add members, give roles and reveal values."
    >
      <MemberPassphraseForm
        member={{
          label: "Owner name",
          hint: "Your member name: letters, digits, _ - or .",
          placeholder: "e.g. alice",
          checkName: true,
        }}
        passphrase="new"
        submitLabel="Create vault"
        after={<Alert tone="info">{FIRST_RUN_NOTE}</Alert>}
        onSubmit={async (owner, passphrase) => {
          const made = await api.createVault(owner, passphrase);
          setCreated({ unlocked: made.unlocked, words: made.recovery_key.words });
        }}
      />
    </AuthCard>
  );
}
