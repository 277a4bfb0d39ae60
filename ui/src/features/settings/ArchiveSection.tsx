// Settings → Audit archive: an owner moves old events out of the vault into a file in
// Downloads that anyone can verify offline. The vault keeps a signed archive mark (the
// last event moved and its hash), so the chain still verifies. The backend decides who
// may (audit and manage in every workspace); here the form is disabled for members who
// may not audit and manage in this one, as the other owner-only settings are.

import { useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { useToast } from "../../components/Toast";
import { formatDateTime } from "../../lib/format";
import { api } from "../../lib/ipc";
import { archiveCutoff } from "../../lib/trail";
import type { SavedTrail } from "../../lib/types";
import { can, useSession } from "../shell/session";

const DEFAULT_BEFORE = "365d";

export function ArchiveSection() {
  const session = useSession();
  const toast = useToast();
  const allowed = can(session, "audit") && can(session, "manage");
  const [before, setBefore] = useState(DEFAULT_BEFORE);
  const [confirming, setConfirming] = useState(false);
  const [archived, setArchived] = useState<SavedTrail | null>(null);
  const cutoff = archiveCutoff(before);
  const id = "archive-before";

  async function archive() {
    const saved = await api.archiveAudit(session.workspace, before.trim());
    setArchived(saved);
    toast(`Archived ${saved.copy.events} events`);
    session.refresh();
  }

  return (
    <section className="card" aria-labelledby="archive-settings">
      <header className="card-header">
        <h2 id="archive-settings">Audit archive</h2>
      </header>
      <form
        className="setting-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (allowed && before.trim()) setConfirming(true);
        }}
        noValidate
      >
        <div className="setting-text">
          <label htmlFor={id} className="setting-label">
            Archive events before
          </label>
          <p className="field-hint">
            Moves older events, from every workspace, out of the vault into a file in your Downloads folder that anyone
            can check offline with <code>coffer audit verify --file</code>. The vault keeps a signed archive mark, so
            its chain still verifies. Give a duration back from now (<code>365d</code>) or a date (
            <code>2026-01-01</code>).
            {allowed ? "" : " Only owners can archive."}
          </p>
        </div>
        <div className="setting-control">
          <div className="setting-input">
            <input
              id={id}
              className="input input-setting"
              aria-label="Archive events before"
              value={before}
              placeholder={DEFAULT_BEFORE}
              disabled={!allowed}
              onChange={(e) => setBefore(e.target.value)}
            />
            <Button type="submit" size="sm" icon="download" disabled={!allowed || !before.trim()}>
              Archive…
            </Button>
          </div>
          {allowed && cutoff !== null ? <p className="field-hint">Events before {formatDateTime(cutoff)}</p> : null}
        </div>
      </form>
      {archived ? (
        <div className="setting-row">
          <Alert tone="success" title={`Archived ${archived.copy.events} events (${archived.copy.first} to ${archived.copy.last})`}>
            <p>
              Saved to <code className="archive-path">{archived.path}</code>
            </p>
            <p>
              Keep it safe: the vault no longer holds these events. Anyone can check the file offline with{" "}
              <code>coffer audit verify --file</code>.
            </p>
          </Alert>
        </div>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title="Archive audit events?"
          confirmLabel="Archive events"
          tone="danger"
          onConfirm={archive}
          onClose={() => setConfirming(false)}
        >
          <p>
            Every event before <strong>{cutoff !== null ? formatDateTime(cutoff) : before.trim()}</strong>, in every
            workspace, moves out of the vault into a new file in your Downloads folder.
          </p>
          <p>
            The vault keeps a signed archive mark naming the last event moved and its hash, so the chain still verifies.
            The archived events themselves can then be read and checked only from the file: keep it safe.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
