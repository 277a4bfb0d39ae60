// Audit: the tamper-evident trail, filtered by actor, action, secret and time; the
// chain's verification status and state (see ChainCard); CSV and JSON export of the
// filtered view; activity per day.

import { useDeferredValue, useEffect, useMemo, useState } from "react";
import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { EmptyState } from "../../components/EmptyState";
import { SelectField, TextField } from "../../components/Field";
import { VirtualTable, type Column } from "../../components/VirtualTable";
import { describeDetail } from "../../lib/auditDetail";
import { eventsPerDay } from "../../lib/auditExport";
import { formatDateTime } from "../../lib/format";
import { api, errorMessage } from "../../lib/ipc";
import type { AuditEvent, TeamAuditEvent } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { useSession } from "../shell/session";
import { ActivityChart } from "./ActivityChart";
import { ChainCard } from "./ChainCard";
import { ExportDialog } from "./ExportDialog";
import { TeamTrailCard } from "./TeamTrailCard";

const ACTIONS = [
  "secret.create",
  "secret.update",
  "secret.rollback",
  "secret.reveal",
  "secret.use",
  "secret.delete",
  "secret.restore",
  "secret.purge",
  "secret.import",
  "version.destroy",
  "member.add",
  "member.grant",
  "member.remove",
  "settings.set",
  "device.remember",
  "device.forget",
  "vault.init",
  "vault.backup",
  "vault.restore",
  "audit.checkpoint",
  "audit.export",
  "audit.archive",
];

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** An event of the team's trail is known by its author's own numbering, time and name. */
const rowKey = (e: AuditEvent | TeamAuditEvent) =>
  "seq" in e ? `${e.seq}.${e.n}.${e.actor}.${e.id}.${e.at_ms}` : String(e.id);

type Source = "here" | "team";
const SOURCES: { id: Source; label: string }[] = [
  { id: "here", label: "This machine" },
  { id: "team", label: "Whole team" },
];

const COLUMNS: Column<AuditEvent>[] = [
  { key: "time", header: "Time", width: "168px", render: (e) => <span title={e.time}>{formatDateTime(e.at_ms)}</span> },
  { key: "actor", header: "Actor", width: "minmax(90px, 0.6fr)", render: (e) => e.actor },
  { key: "action", header: "Action", width: "minmax(130px, 0.9fr)", render: (e) => <span className="mono">{e.action}</span> },
  {
    key: "outcome",
    header: "Outcome",
    width: "96px",
    render: (e) => <Badge tone={e.outcome === "ok" ? "success" : "danger"}>{e.outcome}</Badge>,
  },
  {
    key: "target",
    header: "Secret",
    width: "minmax(140px, 1fr)",
    render: (e) =>
      e.secret || e.environment ? (
        <span className="stacked" title={e.secret ? `${e.project ?? ""}/${e.secret}` : undefined}>
          {e.secret ? <span className="mono ellipsis">{e.secret}</span> : null}
          {e.environment ? <span className="muted small">{e.environment}</span> : null}
        </span>
      ) : (
        <span className="muted">—</span>
      ),
  },
  {
    key: "detail",
    header: "Detail",
    width: "minmax(160px, 1.4fr)",
    render: (e) => {
      const text = describeDetail(e.detail);
      return text ? (
        <span className="description-cell" title={text}>
          {text}
        </span>
      ) : (
        <span className="muted">—</span>
      );
    },
  },
];

export function AuditScreen() {
  const session = useSession();
  const [actor, setActor] = useState("");
  const [action, setAction] = useState("");
  const [secret, setSecret] = useState("");
  const [since, setSince] = useState("");
  const filter = useDebounced({ actor, action, secret, since }, 250);
  const [exporting, setExporting] = useState<"csv" | "json" | null>(null);

  // What is listed is what Save file writes: the backend reads the events again itself.
  const query = useMemo(
    () => ({
      actor: filter.actor.trim() || null,
      action: filter.action || null,
      secret: filter.secret.trim() || null,
      since: filter.since.trim() || null,
    }),
    [filter.actor, filter.action, filter.secret, filter.since],
  );
  // On a team vault the trail can also be read from the server: every member's events.
  const onTeam = Boolean(session.team?.on_team);
  const [source, setSource] = useState<Source>("here");
  const teamView = onTeam && source === "team";
  const local = useLoad(
    () => api.auditEvents(session.workspace, query),
    [session.workspace, query, session.revision],
    !teamView,
  );
  const team = useLoad(
    () => api.teamAudit(session.workspace, query),
    [session.workspace, query, session.revision],
    teamView,
  );
  const events = teamView
    ? { data: team.data?.events as AuditEvent[] | undefined, error: team.error, loading: team.loading }
    : local;
  const members = useLoad(() => api.listMembers(session.workspace), [session.workspace, session.revision]);

  const newestFirst = useMemo(() => [...(events.data ?? [])].reverse(), [events.data]);
  const deferred = useDeferredValue(newestFirst);
  const days = useMemo(() => eventsPerDay(events.data ?? [], 30), [events.data]);
  const sinceInvalid = events.error?.code === "invalid" && filter.since ? errorMessage(events.error) : null;
  const filtered = Boolean(actor || action || secret || since);

  return (
    <section className="page page-fill" aria-labelledby="audit-title">
      <div className="page-header">
        <div>
          <h1 id="audit-title">Audit trail</h1>
          <p className="page-subtitle">
            {teamView ? "Every member's" : "Every"} create, update, rotation, reveal, use and refusal in{" "}
            <strong>{session.workspace}</strong>
            {teamView ? ", read from the team server" : ""}. Events never contain values.
          </p>
        </div>
        {teamView ? null : (
          <div className="page-actions">
            <Button icon="download" onClick={() => setExporting("csv")} disabled={!events.data?.length}>
              Export CSV
            </Button>
            <Button icon="download" onClick={() => setExporting("json")} disabled={!events.data?.length}>
              Export JSON
            </Button>
          </div>
        )}
      </div>

      {onTeam ? (
        <div className="tabs" role="tablist" aria-label="Whose events">
          {SOURCES.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              aria-selected={source === t.id}
              className={`tab${source === t.id ? " active" : ""}`}
              onClick={() => setSource(t.id)}
            >
              {t.label}
            </button>
          ))}
        </div>
      ) : null}

      <div className="audit-top">
        {teamView ? (
          <TeamTrailCard trail={team.data} error={team.error} loading={team.loading} onReload={team.reload} />
        ) : (
          <ChainCard />
        )}
        <div className="card chart-card">
          <ActivityChart days={days} />
        </div>
      </div>

      <div className="filters" role="search" aria-label="Filter events">
        <TextField label="Actor" value={actor} onChange={(e) => setActor(e.target.value)} list="audit-actors" placeholder="anyone" />
        <datalist id="audit-actors">
          {(members.data ?? []).map((m) => (
            <option key={m.name} value={m.name} />
          ))}
        </datalist>
        <SelectField label="Action" value={action} onChange={(e) => setAction(e.target.value)}>
          <option value="">All actions</option>
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </SelectField>
        <TextField label="Secret" className="mono" value={secret} onChange={(e) => setSecret(e.target.value)} placeholder="any" />
        <TextField
          label="Since"
          value={since}
          onChange={(e) => setSince(e.target.value)}
          placeholder="e.g. 7d or 2026-11-01"
          error={sinceInvalid}
        />
      </div>

      {events.error && !sinceInvalid && !teamView ? (
        <Alert title="Could not load events">{events.error.message}</Alert>
      ) : null}

      <VirtualTable
        label="Audit events"
        rows={deferred}
        columns={COLUMNS}
        rowKey={rowKey}
        rowHeight={44}
        rowLabel={(e) => `${e.action} by ${e.actor}${e.secret ? ` on ${e.secret}` : ""}: ${e.outcome}`}
        rowClassName={(e) => (e.outcome === "ok" ? undefined : "row-denied")}
        empty={
          events.loading && !events.data ? null : (
            <EmptyState icon="audit" title={filtered ? "No events match these filters" : "No events yet"}>
              {filtered ? "Loosen a filter to see more." : "Actions in this workspace will appear here."}
            </EmptyState>
          )
        }
      />
      {exporting && events.data && !teamView ? (
        <ExportDialog
          kind={exporting}
          events={events.data}
          workspace={session.workspace}
          filter={query}
          filtered={filtered}
          onClose={() => setExporting(null)}
        />
      ) : null}
    </section>
  );
}
