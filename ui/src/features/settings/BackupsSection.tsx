// Settings → Backups: where the vault's snapshots are kept, the newest one, "Back up
// now", how many daily ones rotate, and every snapshot (newest first) with "Restore…".
//
// The backend decides who may: any unlocked member lists and takes snapshots (a copy
// holds what the file does, no key); changing the rotation needs manage; a restore
// needs the vault's owner, or audit and manage in every workspace. Here the controls
// a member may not use are disabled, judged by this workspace as the other owner
// settings are. A restore ends the session: `onRestored` takes the app to unlock.

import { useEffect, useState } from "react";
import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { useToast } from "../../components/Toast";
import type { Tone } from "../../lib/format";
import { formatBytes, formatDateTime, formatRelative } from "../../lib/format";
import { api, errorMessage } from "../../lib/ipc";
import {
  describeKeep,
  fileName,
  KIND_LABEL,
  KIND_MEANING,
  parseKeep,
  restorable,
  shortPath,
} from "../../lib/snapshots";
import type { Keep, RestoreOutcome, Snapshot } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { can, useSession } from "../shell/session";
import { RestoreDialog } from "./RestoreDialog";

const KIND_TONE: Record<Snapshot["kind"], Tone> = {
  daily: "neutral",
  upgrade: "accent",
  manual: "success",
  "before-restore": "warning",
  damaged: "danger",
};

function KindBadge({ snapshot }: { snapshot: Snapshot }) {
  return (
    <Badge tone={KIND_TONE[snapshot.kind]} title={KIND_MEANING[snapshot.kind]}>
      {KIND_LABEL[snapshot.kind]}
    </Badge>
  );
}

const taken = (s: Snapshot) => (s.taken_at != null ? formatDateTime(s.taken_at) : "unknown");
const age = (s: Snapshot) => (s.taken_at != null ? formatRelative(s.taken_at) : "");

function Newest({ snapshot }: { snapshot: Snapshot | undefined }) {
  if (!snapshot) return <p className="field-hint">No snapshot yet. One is taken at the first change of each day.</p>;
  return (
    <div className="backup-newest" aria-label="Newest snapshot">
      <span className="muted">Newest</span>
      <KindBadge snapshot={snapshot} />
      <span>{taken(snapshot)}</span>
      <span className="muted backup-newest-age">
        {age(snapshot)} · {formatBytes(snapshot.bytes ?? 0)}
      </span>
    </div>
  );
}

function KeepForm({ keep, editable, onSaved }: { keep: Keep; editable: boolean; onSaved: () => void }) {
  const toast = useToast();
  const [daily, setDaily] = useState(String(keep.daily));
  const [weekly, setWeekly] = useState(String(keep.weekly));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDaily(String(keep.daily));
    setWeekly(String(keep.weekly));
  }, [keep.daily, keep.weekly]);
  const d = parseKeep(daily, 366);
  const w = parseKeep(weekly, 520);
  const dirty = daily.trim() !== String(keep.daily) || weekly.trim() !== String(keep.weekly);

  async function save() {
    if (!dirty || busy) return;
    if (d === null || w === null) {
      setError("Give whole numbers: at most 366 days and 520 weeks.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const saved = await api.setSnapshotKeep(d, w);
      toast(saved.daily === 0 && saved.weekly === 0 ? "Daily snapshots are off" : "Snapshot rotation saved");
      onSaved();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="setting-row"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      noValidate
    >
      <div className="setting-text">
        <span className="setting-label">Daily snapshots</span>
        <p className="field-hint">
          {describeKeep(keep)} Set both to 0 to take none. Snapshots taken before an upgrade (the newest three), before a
          restore and with Back up now are kept until you remove them.
          {editable ? "" : " Only members who may manage can change this."}
        </p>
      </div>
      <div className="setting-control">
        <div className="setting-input keep-inputs">
          <label className="keep-field">
            <input
              className="input input-keep"
              aria-label="Days to keep"
              inputMode="numeric"
              value={daily}
              disabled={!editable}
              aria-invalid={error ? true : undefined}
              onChange={(e) => {
                setDaily(e.target.value);
                setError(null);
              }}
            />
            <span>days</span>
          </label>
          <label className="keep-field">
            <input
              className="input input-keep"
              aria-label="Weeks to keep"
              inputMode="numeric"
              value={weekly}
              disabled={!editable}
              aria-invalid={error ? true : undefined}
              onChange={(e) => {
                setWeekly(e.target.value);
                setError(null);
              }}
            />
            <span>weeks</span>
          </label>
          {editable ? (
            <Button
              type="submit"
              size="sm"
              variant="primary"
              className={dirty || busy ? undefined : "invisible"}
              disabled={!dirty}
              busy={busy}
              aria-label="Save snapshot rotation"
            >
              Save
            </Button>
          ) : null}
        </div>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </form>
  );
}

function SnapshotTable({
  snapshots,
  mayRestore,
  onRestore,
}: {
  snapshots: Snapshot[];
  mayRestore: boolean;
  onRestore: (s: Snapshot) => void;
}) {
  return (
    <table className="table snapshots" aria-label="Snapshots">
      <thead>
        <tr>
          <th scope="col">Taken</th>
          <th scope="col">Age</th>
          <th scope="col">Kind</th>
          <th scope="col" className="align-end">
            Size
          </th>
          <th scope="col">
            <span className="sr-only">Restore</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {snapshots.map((s) => (
          <tr key={s.path} title={s.path} aria-label={fileName(s.path)}>
            <td className="nowrap">{taken(s)}</td>
            <td className="muted nowrap">{age(s)}</td>
            <td>
              <KindBadge snapshot={s} />
            </td>
            <td className="align-end nowrap">{formatBytes(s.bytes ?? 0)}</td>
            <td className="align-end">
              {restorable(s) ? (
                <Button
                  size="sm"
                  icon="restore"
                  disabled={!mayRestore}
                  onClick={() => onRestore(s)}
                  aria-label={`Restore the snapshot of ${taken(s)}`}
                >
                  Restore…
                </Button>
              ) : (
                <span className="muted small">kept, cannot be restored</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function BackupsSection({ onRestored }: { onRestored: (from: Snapshot, outcome: RestoreOutcome) => void }) {
  const session = useSession();
  const toast = useToast();
  const backups = useLoad(() => api.listSnapshots(), [session.revision]);
  const [backingUp, setBackingUp] = useState(false);
  const [backupError, setBackupError] = useState<string | null>(null);
  const [restoring, setRestoring] = useState<Snapshot | null>(null);
  const mayManage = can(session, "manage");
  const mayRestore = can(session, "audit") && can(session, "manage");
  const data = backups.data;
  const newest = data?.snapshots.find(restorable);

  async function backUpNow() {
    setBackingUp(true);
    setBackupError(null);
    try {
      const made = await api.backUpNow();
      toast(`Backed up the vault (${formatBytes(made.bytes ?? 0)})`);
      backups.reload();
      session.refresh();
    } catch (e) {
      setBackupError(errorMessage(e));
    } finally {
      setBackingUp(false);
    }
  }

  return (
    <>
      <section className="card" aria-labelledby="backup-settings">
        <header className="card-header">
          <h2 id="backup-settings">Backups</h2>
          <Button icon="download" variant="primary" busy={backingUp} onClick={() => void backUpNow()}>
            Back up now
          </Button>
        </header>
        {backups.error ? (
          <div className="setting-row">
            <Alert title="Could not list the snapshots">{backups.error.message}</Alert>
          </div>
        ) : null}
        {backupError ? (
          <div className="setting-row">
            <Alert title="No snapshot was taken">{backupError}</Alert>
          </div>
        ) : null}
        <div className="setting-row">
          <div className="setting-text">
            <span className="setting-label">Snapshot folder</span>
            <p className="field-hint">
              Whole copies of the vault file, kept beside it: sealed values, signed rows and the signed trail, no key.
              Each opens with the passphrases members had when it was taken. Copy the folder elsewhere to keep them
              off this disk.
            </p>
          </div>
          <div className="setting-control backup-where">
            {data ? (
              <code className="path" title={data.directory} aria-label="Snapshot folder">
                {shortPath(data.directory)}
              </code>
            ) : null}
            <Newest snapshot={data ? newest : undefined} />
          </div>
        </div>
        {data ? (
          <KeepForm keep={data.keep} editable={mayManage} onSaved={() => backups.reload()} />
        ) : null}
      </section>

      <section className="card" aria-labelledby="snapshot-list">
        <header className="card-header">
          <h2 id="snapshot-list">
            Snapshots
            {data ? <Badge tone="neutral">{data.snapshots.length}</Badge> : null}
          </h2>
          {mayRestore ? null : <span className="muted small">Only owners can restore.</span>}
        </header>
        {data && data.snapshots.length === 0 ? (
          <p className="card-empty">No snapshots yet. Back up now takes one.</p>
        ) : null}
        {data && data.snapshots.length > 0 ? (
          <SnapshotTable snapshots={data.snapshots} mayRestore={mayRestore} onRestore={setRestoring} />
        ) : null}
      </section>

      {restoring ? (
        <RestoreDialog
          snapshot={restoring}
          member={session.member}
          onClose={() => setRestoring(null)}
          onRestored={(outcome) => onRestored(restoring, outcome)}
        />
      ) : null}
    </>
  );
}
