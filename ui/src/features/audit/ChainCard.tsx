// The chain's verdict and what backs it: the newest event this device saw (its anchor,
// so a trail cut short or a vault put back from an older copy is noticed), the newest
// signed checkpoint and archive, and the root key an outside auditor compares with what
// `coffer audit verify --file` prints. From here a member who may audit verifies again,
// signs a checkpoint, or exports the whole trail as a file anyone can check offline.

import { useState } from "react";
import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { Modal } from "../../components/Modal";
import { useToast } from "../../components/Toast";
import { copyText } from "../../lib/clipboard";
import { formatDateTime } from "../../lib/format";
import { api, errorMessage } from "../../lib/ipc";
import { verifyCommand } from "../../lib/trail";
import type { SavedTrail, TrailMark, TrailState } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { can, useSession } from "../shell/session";

/** A mark's RFC 3339 time as the screen shows times; as given if unreadable. */
function when(mark: TrailMark): string {
  const ms = Date.parse(mark.time);
  return Number.isNaN(ms) ? mark.time : formatDateTime(ms);
}

const events = (n: number) => `${n} ${n === 1 ? "event" : "events"}`;

function ArchiveFact({ state }: { state: TrailState }) {
  const kept =
    state.first === state.last
      ? `the vault keeps event ${state.first}`
      : `the vault keeps events ${state.first}–${state.last}`;
  const a = state.archive;
  if (a) {
    return (
      <li>
        Events {a.from ?? 1}–{a.events} archived to <span className="mono chain-file">{a.file ?? "a file"}</span> by {a.actor} on{" "}
        {when(a)}; {kept}
      </li>
    );
  }
  // Archived by a mark this workspace does not show (made from another workspace).
  return state.first > 1 ? (
    <li>
      Events 1–{state.first - 1} archived; {kept}
    </li>
  ) : null;
}

function ChainFacts({ state }: { state: TrailState }) {
  const c = state.checkpoint;
  return (
    <ul className="chain-facts" aria-label="Chain state">
      <li>
        {state.anchor == null ? "Not yet anchored on this device" : `This device last saw event ${state.anchor}`}
      </li>
      <li>
        {c
          ? `Checkpoint #${c.id} by ${c.actor}, ${when(c)}, covering events up to ${c.events}`
          : state.first > 1
            ? "No checkpoint since the archive"
            : "No checkpoint yet"}
      </li>
      <ArchiveFact state={state} />
      <li className="chain-root">
        <span>
          Root key <code aria-label="Root key fingerprint">{state.root}</code>,
        </span>{" "}
        <span className="muted">
          as <code>coffer audit verify --file</code> prints it
        </span>
      </li>
    </ul>
  );
}

function TrailExportedDialog({ saved, onClose }: { saved: SavedTrail; onClose: () => void }) {
  const toast = useToast();
  const command = verifyCommand(saved.path);
  const { first, last, root } = saved.copy;
  return (
    <Modal
      title="Verifiable trail exported"
      description={`${events(saved.copy.events)} (${first} to ${last}), signed and chained, with the public keys that check them. Events carry names and metadata, never values.`}
      onClose={onClose}
      footer={
        <>
          <Button
            icon="copy"
            onClick={() =>
              copyText(command).then(
                () => toast("Copied the command"),
                (e: unknown) => toast(`Could not copy: ${errorMessage(e)}`, "danger"),
              )
            }
          >
            Copy command
          </Button>
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        </>
      }
    >
      <div className="trail-saved">
        <p>Saved to</p>
        <code className="path" aria-label="Exported file">
          {saved.path}
        </code>
        <p>Anyone can check it offline, with no vault and no passphrase:</p>
        <code className="path" aria-label="Verify command">
          {command}
        </code>
        <p className="field-hint">
          It should report root key <code>{root}</code>, the one the Audit screen shows.
        </p>
      </div>
    </Modal>
  );
}

export function ChainCard() {
  const session = useSession();
  const toast = useToast();
  const [verifyNonce, setVerifyNonce] = useState(0);
  const [busy, setBusy] = useState<"checkpoint" | "export" | null>(null);
  const [problem, setProblem] = useState<{ title: string; message: string } | null>(null);
  const [exported, setExported] = useState<SavedTrail | null>(null);
  const mayAudit = can(session, "audit");

  const verify = useLoad(() => api.verifyAudit(session.workspace), [session.workspace, session.revision, verifyNonce]);
  // Verifying moves this device's anchor: read the state once the verdict is in.
  const verified = verify.data !== undefined || verify.error !== undefined;
  const trail = useLoad(
    () => api.trailState(session.workspace),
    [session.workspace, session.revision, verify.data, verify.error],
    verified,
  );

  async function run<T>(what: "checkpoint" | "export", title: string, action: () => Promise<T>, done: (t: T) => void) {
    setBusy(what);
    setProblem(null);
    try {
      done(await action());
    } catch (e) {
      setProblem({ title, message: errorMessage(e) });
    } finally {
      // Both write an event (a refusal too), which moves the head and this anchor.
      setBusy(null);
      trail.reload();
      session.refresh();
    }
  }

  const signCheckpoint = () =>
    run("checkpoint", "Could not sign a checkpoint", () => api.checkpointAudit(session.workspace), (c) => {
      setVerifyNonce((n) => n + 1);
      if (c.event == null) {
        setProblem({
          title: "No checkpoint signed",
          message: `The chain is broken at event ${c.report.first_bad ?? "?"}: ${c.report.problem ?? "unknown problem"}. A checkpoint only vouches for a chain that verifies.`,
        });
      } else {
        toast(`Checkpoint #${c.event} signed after verifying ${events(c.report.events)}`);
      }
    });

  const exportTrail = () =>
    run("export", "Could not export the trail", () => api.exportAuditTrail(session.workspace), setExported);

  const v = verify.data;
  return (
    <div className="card chain-card">
      <div className="chain-status" aria-label="Chain status" aria-live="polite">
        {verify.error ? (
          <Badge tone="danger">could not verify: {verify.error.message}</Badge>
        ) : !v ? (
          <Badge tone="neutral">verifying…</Badge>
        ) : v.ok ? (
          <Badge tone="success">Chain intact · {events(v.events)}</Badge>
        ) : (
          <Badge tone="danger">
            Chain broken at event {v.first_bad}: {v.problem}
          </Badge>
        )}
      </div>
      <p className="field-hint">
        Each event is signed by its author and linked to the one before it by its hash; editing, deleting or
        reordering any row breaks the chain.
      </p>
      {trail.error ? (
        <p className="field-error">Could not read the chain's state: {errorMessage(trail.error)}</p>
      ) : trail.data ? (
        <ChainFacts state={trail.data} />
      ) : null}
      <div className="chain-actions">
        <Button size="sm" icon="shield" busy={verify.loading && !!v} onClick={() => setVerifyNonce((n) => n + 1)}>
          Verify chain
        </Button>
        {mayAudit ? (
          <>
            <Button
              size="sm"
              icon="check"
              busy={busy === "checkpoint"}
              disabled={busy !== null}
              onClick={() => void signCheckpoint()}
            >
              Sign checkpoint
            </Button>
            <Button
              size="sm"
              icon="download"
              busy={busy === "export"}
              disabled={busy !== null}
              onClick={() => void exportTrail()}
            >
              Export verifiable trail
            </Button>
          </>
        ) : null}
      </div>
      {problem ? <Alert title={problem.title}>{problem.message}</Alert> : null}
      {exported ? <TrailExportedDialog saved={exported} onClose={() => setExported(null)} /> : null}
    </div>
  );
}
