// First run: create the vault and its owner, then show the owner's recovery key once
// and ask three of its words back. The passphrase fields are uncontrolled (React never
// mirrors them into a DOM attribute) and emptied when submitted; the recovery words are
// held in this component's state only until they are confirmed or put off, and are
// dropped before the app goes on. Put off, the key is removed: one nobody wrote down
// must not pass for one the owner has.
//
// The owner may also turn on the check for updates at start here: off unless ticked, so
// an offline tool does not reach for the network until its owner asks it to.

import { useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { Checkbox } from "../../components/Field";
import { api, errorMessage } from "../../lib/ipc";
import type { UnlockResult } from "../../lib/types";
import { RecoveryKeyCeremony } from "../recovery/RecoveryKeyCeremony";
import { AuthCard } from "./AuthCard";
import { MemberPassphraseForm } from "./MemberPassphraseForm";

/** The owner gets a recovery key next: said before they choose the passphrase. */
export const FIRST_RUN_NOTE =
  "Keep it safe: Coffer cannot tell it to you. Next you get a recovery key: with it, Recover on the unlock screen sets a new passphrase; without it, nothing can.";

export function FirstRun({
  path,
  onCreated,
  onJoin,
}: {
  path: string;
  onCreated: (result: UnlockResult) => void;
  /** Join a team vault someone else owns instead (with their invitation code). */
  onJoin?: () => void;
}) {
  const [created, setCreated] = useState<{ unlocked: UnlockResult; words: string[] } | null>(null);
  const [laterError, setLaterError] = useState<string | null>(null);
  const [checkUpdates, setCheckUpdates] = useState(false);
  const [updatesError, setUpdatesError] = useState<string | null>(null);

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
        {updatesError ? (
          <Alert tone="info" title="Checking for updates at start is still off">
            {updatesError} Settings → Updates can turn it on.
          </Alert>
        ) : null}
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
      {onJoin ? (
        <Button variant="link" className="auth-switch" onClick={onJoin}>
          Invited to a team? Join its vault
        </Button>
      ) : null}
      <MemberPassphraseForm
        member={{
          label: "Owner name",
          hint: "Your member name: letters, digits, _ - or .",
          placeholder: "e.g. alice",
          checkName: true,
        }}
        passphrase="new"
        submitLabel="Create vault"
        after={
          <>
            <Checkbox
              label="Check for updates at start"
              description="Coffer then asks its update server for a new version each time it starts. Off, it never does on its own."
              checked={checkUpdates}
              onChange={(e) => setCheckUpdates(e.target.checked)}
            />
            <Alert tone="info">{FIRST_RUN_NOTE}</Alert>
          </>
        }
        onSubmit={async (owner, passphrase) => {
          const made = await api.createVault(owner, passphrase);
          // The vault exists now: a failure here only leaves the check off.
          if (checkUpdates) {
            try {
              const status = await api.updateStatus();
              await api.setUpdatePreferences(status.endpoint, true);
            } catch (e) {
              setUpdatesError(errorMessage(e));
            }
          }
          setCreated({ unlocked: made.unlocked, words: made.recovery_key.words });
        }}
      />
    </AuthCard>
  );
}
