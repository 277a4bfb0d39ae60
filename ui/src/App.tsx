// The app's top level: which phase the vault is in (first run, locked, unlocked), and
// the poll that keeps the open window in step with the vault file. Every 2 s it asks
// the backend for the vault's status: a new change number makes the current screen
// reload (an edit from the CLI shows up without a restart); `unlocked` turning false
// (the backend's auto-lock) returns to the unlock screen and drops all state.
// Right after unlock, what the member must see first comes over the shell: an
// upgrade's one-time passphrases (owner only, once), then, for a member still on a
// passphrase someone else chose, the request to set their own. A warning that the
// audit trail lost events this machine saw stays over the shell for the whole session.
// A restore from Settings → Backups replaces the vault under the session, so the
// backend locks; the unlock screen says what was restored and where the old vault is,
// over it any one-time passphrases that restoring a pre-keys snapshot made (once).

import { useCallback, useEffect, useRef, useState } from "react";
import { PassphrasePromptProvider } from "./components/PassphrasePrompt";
import { ToastProvider } from "./components/Toast";
import { FirstRun } from "./features/onboarding/FirstRun";
import { JoinTeam } from "./features/onboarding/JoinTeam";
import { Unlock } from "./features/onboarding/Unlock";
import { VaultUpgradedDialog } from "./features/onboarding/VaultUpgradedDialog";
import { ChangePassphraseDialog } from "./features/passphrase/ChangePassphraseDialog";
import { Shell } from "./features/shell/Shell";
import { forgetCopiedSecret } from "./lib/clipboard";
import { api, errorMessage, onVaultLocked } from "./lib/ipc";
import { rememberMember } from "./lib/lastMember";
import { restoredNotice } from "./lib/snapshots";
import type { OneTimePassphrase, RestoreOutcome, Snapshot, UnlockResult } from "./lib/types";

const POLL_MS = 2000;

type Phase =
  | { kind: "loading" }
  | { kind: "broken"; message: string }
  | { kind: "first-run"; path: string }
  | { kind: "join"; path: string; resume: boolean }
  | {
      kind: "locked";
      path: string;
      notice: string | null;
      /** After restoring a snapshot from before members' own keys: shown once, then dropped. */
      oneTimePassphrases?: OneTimePassphrase[];
    }
  | {
      kind: "unlocked";
      path: string;
      member: string;
      keyringNote: string | null;
      session: number;
      mustChangePassphrase: boolean;
      /** Checked once, as the session opened: it holds until the next unlock. */
      trailWarning: string | null;
      /** Dropped as soon as the owner closes the dialog showing them. */
      oneTimePassphrases: OneTimePassphrase[];
    };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [change, setChange] = useState(0);
  const sessions = useRef(0);
  const polling = useRef(false);
  const again = useRef(false);

  const lockedOut = useCallback((notice: string | null) => {
    forgetCopiedSecret();
    setPhase((p) => (p.kind === "unlocked" ? { kind: "locked", path: p.path, notice } : p));
  }, []);

  const check = useCallback(async () => {
    // One status request at a time; a check asked for meanwhile (right after an action
    // here) runs once more afterwards, so it sees that action's change.
    if (polling.current) {
      again.current = true;
      return;
    }
    polling.current = true;
    try {
      do {
        again.current = false;
        const status = await api.vaultStatus();
        if (!status.unlocked) {
          lockedOut("Coffer locked itself after a period of inactivity. Unlock to continue.");
          return;
        }
        setChange(status.change);
      } while (again.current);
    } catch {
      // A failed poll is retried at the next tick.
    } finally {
      polling.current = false;
    }
  }, [lockedOut]);

  useEffect(() => {
    let cancelled = false;
    api.vaultStatus().then(
      (status) => {
        if (cancelled) return;
        if (!status.exists) setPhase({ kind: "first-run", path: status.path });
        else if (status.joining) setPhase({ kind: "join", path: status.path, resume: true });
        else if (status.unlocked && status.member) {
          setChange(status.change);
          setPhase({
            kind: "unlocked",
            path: status.path,
            member: status.member,
            keyringNote: null,
            session: ++sessions.current,
            mustChangePassphrase: status.must_change_passphrase,
            trailWarning: status.trail_warning,
            oneTimePassphrases: [],
          });
        } else setPhase({ kind: "locked", path: status.path, notice: null });
      },
      (e: unknown) => !cancelled && setPhase({ kind: "broken", message: errorMessage(e) }),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  const unlocked = phase.kind === "unlocked";
  useEffect(() => {
    if (!unlocked) return;
    const timer = setInterval(() => void check(), POLL_MS);
    const stop = onVaultLocked(() => void check());
    return () => {
      clearInterval(timer);
      stop();
    };
  }, [unlocked, check]);

  const enter = useCallback((path: string, result: UnlockResult) => {
    performance.mark("coffer:unlocked"); // for the startup benchmark
    rememberMember(result.member);
    // The shell's lists reload whenever the change number moves: mounted with a stale
    // one, each would load twice, and the second round would delay the first paint.
    setChange(result.change);
    setPhase({
      kind: "unlocked",
      path,
      member: result.member,
      keyringNote: result.keyring_note,
      session: ++sessions.current,
      mustChangePassphrase: result.must_change_passphrase,
      trailWarning: result.trail_warning,
      oneTimePassphrases: result.one_time_passphrases,
    });
  }, []);

  const unlockedAs = useCallback(
    (update: Partial<Extract<Phase, { kind: "unlocked" }>>) =>
      setPhase((p) => (p.kind === "unlocked" ? { ...p, ...update } : p)),
    [],
  );

  const lock = useCallback(
    async (reason: "user" | "idle") => {
      // The screen (and every piece of state under it) goes first, then the keys.
      lockedOut(reason === "idle" ? "Coffer locked after a period of inactivity. Unlock to continue." : null);
      await api.lock().catch(() => undefined);
    },
    [lockedOut],
  );

  const restored = useCallback((from: Snapshot, outcome: RestoreOutcome) => {
    forgetCopiedSecret();
    // Whatever a poll made of the lock meanwhile, the restore is what happened.
    setPhase((p) =>
      p.kind === "unlocked" || p.kind === "locked"
        ? {
            kind: "locked",
            path: p.path,
            notice: restoredNotice(from, outcome),
            oneTimePassphrases: outcome.one_time_passphrases,
          }
        : p,
    );
  }, []);

  let content;
  switch (phase.kind) {
    case "loading":
      content = <div className="splash" aria-busy="true" aria-label="Loading" />;
      break;
    case "broken":
      content = (
        <div className="splash">
          <p role="alert">Coffer could not read its vault: {phase.message}</p>
        </div>
      );
      break;
    case "first-run":
      content = (
        <FirstRun
          path={phase.path}
          onCreated={(result) => enter(phase.path, result)}
          onJoin={() => setPhase({ kind: "join", path: phase.path, resume: false })}
        />
      );
      break;
    case "join":
      content = (
        <JoinTeam
          path={phase.path}
          resume={phase.resume}
          onJoined={(result) => enter(phase.path, result)}
          onBack={phase.resume ? undefined : () => setPhase({ kind: "first-run", path: phase.path })}
          onGone={() => setPhase({ kind: "locked", path: phase.path, notice: null })}
        />
      );
      break;
    case "locked":
      content = (
        <>
          <Unlock
            path={phase.path}
            notice={phase.notice}
            onUnlocked={(result) => enter(phase.path, result)}
          />
          {phase.oneTimePassphrases?.length ? (
            <VaultUpgradedDialog
              passphrases={phase.oneTimePassphrases}
              onDone={() => setPhase((p) => (p.kind === "locked" ? { ...p, oneTimePassphrases: [] } : p))}
            />
          ) : null}
        </>
      );
      break;
    case "unlocked":
      content = (
        <PassphrasePromptProvider key={phase.session}>
          <Shell
            member={phase.member}
            vaultPath={phase.path}
            keyringNote={phase.keyringNote}
            trailWarning={phase.trailWarning}
            change={change}
            refresh={check}
            onLock={lock}
            onRestored={restored}
          />
          {phase.oneTimePassphrases.length > 0 ? (
            <VaultUpgradedDialog
              passphrases={phase.oneTimePassphrases}
              onDone={() => unlockedAs({ oneTimePassphrases: [] })}
            />
          ) : phase.mustChangePassphrase ? (
            <ChangePassphraseDialog
              required
              onChanged={() => unlockedAs({ mustChangePassphrase: false })}
              onCancel={() => void lock("user")}
            />
          ) : null}
        </PassphrasePromptProvider>
      );
      break;
  }

  return <ToastProvider>{content}</ToastProvider>;
}
