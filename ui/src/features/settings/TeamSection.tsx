// Settings → Team: the team server this vault shares through (PostgreSQL), as the
// backend's watcher sees it — online or offline, what waits to be pushed, conflicts —
// and, for those who may manage, inviting a member and admitting them once the
// fingerprint on their screen has been typed here. The code of an invitation is shown
// once; the fingerprint of the keys that joined never comes to this screen (the owner
// types what the invitee reads out, and the backend compares).

import { useEffect, useState } from "react";
import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { useToast } from "../../components/Toast";
import { copyText } from "../../lib/clipboard";
import { formatDateTime, formatRelative } from "../../lib/format";
import { api, AppError, errorMessage } from "../../lib/ipc";
import type { Invitation, Invited, TeamState } from "../../lib/types";
import { ROLES } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { can, useSession } from "../shell/session";
import { teamStatusText } from "../shell/TeamStatus";

/** What the badge does not say: queued writes and conflicts ("", or " · 2 queued"). */
function teamStatusDetail(t: TeamState): string {
  const text = teamStatusText(t);
  return text.slice(text.indexOf(" ·") >= 0 ? text.indexOf(" ·") : text.length);
}

/** How often the list asks whether someone invited has joined: a join changes no record,
 * so no notification and no sync tells this screen about it. */
export const INVITATION_POLL_MS = 2_000;

const VALID_FOR: { hours: number; label: string }[] = [
  { hours: 1, label: "1 hour" },
  { hours: 24, label: "24 hours" },
  { hours: 168, label: "7 days" },
];

export function TeamSection() {
  const session = useSession();
  const team = session.team;
  if (!team) return <div className="page-loading" aria-busy="true" aria-label="Loading" />;
  if (!team.on_team) return <NotOnTeam />;
  return (
    <>
      <StatusCard team={team} />
      {can(session, "manage") ? <InviteCard /> : null}
    </>
  );
}

function NotOnTeam() {
  return (
    <section className="card" aria-labelledby="team-settings">
      <header className="card-header">
        <h2 id="team-settings">Team server</h2>
      </header>
      <p className="card-intro field-hint">
        This vault lives on this machine only. To share it with your team, its owner moves it onto a PostgreSQL
        database from the command line: <code>coffer team create postgres://…</code>. Values, keys and the audit trail
        stay sealed there; each member joins from their own machine with an invitation.
      </p>
    </section>
  );
}

function StatusCard({ team }: { team: TeamState }) {
  const session = useSession();
  const toast = useToast();
  const [busy, setBusy] = useState<"sync" | "verify" | "mine" | "theirs" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tampered, setTampered] = useState<string | null>(null);

  async function run(what: "sync" | "verify" | "mine" | "theirs") {
    setBusy(what);
    setError(null);
    setTampered(null);
    try {
      if (what === "sync") {
        await api.teamSyncNow();
      } else if (what === "verify") {
        const v = await api.teamVerify();
        const unchecked = v.unchecked.length > 0 ? `; not checked (no longer shown to you): ${v.unchecked.join(", ")}` : "";
        toast(
          `The server holds what this machine exchanged with it: ${v.records} ${v.records === 1 ? "record" : "records"} and ${v.events} audit ${v.events === 1 ? "event" : "events"} checked${unchecked}`,
        );
      } else {
        const n = await api.teamResolve(what);
        toast(`${n} ${n === 1 ? "conflict" : "conflicts"} settled: kept ${what === "mine" ? "this machine's" : "the server's"}`);
      }
      session.refresh();
    } catch (e) {
      if (e instanceof AppError && e.code === "integrity") {
        setTampered(e.message);
      } else {
        setError(errorMessage(e));
      }
    } finally {
      setBusy(null);
    }
  }

  return (
    <section className="card" aria-labelledby="team-settings">
      <header className="card-header">
        <h2 id="team-settings">Team server</h2>
        <div className="card-header-actions">
          <Button busy={busy === "verify"} disabled={busy !== null} onClick={() => void run("verify")}>
            Verify server
          </Button>
          <Button icon="refresh" busy={busy === "sync"} disabled={busy !== null} onClick={() => void run("sync")}>
            Sync now
          </Button>
        </div>
      </header>
      {error ? <Alert title="The team server did not take it">{error}</Alert> : null}
      {tampered ? <Alert title="The team server was changed outside Coffer">{tampered}</Alert> : null}
      <dl className="team-facts">
        <dt>Server</dt>
        <dd>
          <code>{team.server}</code>
        </dd>
        <dt>Status</dt>
        <dd role="status" aria-label="Team status">
          <Badge tone={team.online ? "success" : "warning"}>{team.online ? "online" : "offline"}</Badge>
          {teamStatusDetail(team)}
          {!team.online && team.problem ? <span className="field-hint"> — {team.problem}</span> : null}
        </dd>
        <dt>Last sync</dt>
        <dd>{team.last_sync_ms ? formatRelative(team.last_sync_ms) : "not yet"}</dd>
        <dt>Waiting to push</dt>
        <dd>
          {team.queued === 0
            ? "nothing"
            : `${team.queued} ${team.queued === 1 ? "change" : "changes"}, sent as soon as the server answers`}
        </dd>
      </dl>
      {team.read_only ? (
        <Alert tone="warning" title="The server runs a newer Coffer">
          Changes made here stay on this machine until you upgrade Coffer.
        </Alert>
      ) : null}
      {team.refused.length > 0 ? (
        <Alert tone="warning" title="The server refused some changes">
          <ul className="plain-list">
            {team.refused.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </Alert>
      ) : null}
      {team.conflicts > 0 ? (
        <div className="team-conflicts" role="group" aria-label="Conflicts">
          <p>
            {team.conflicts} {team.conflicts === 1 ? "record was" : "records were"} changed here and on the server
            apart. Both sides are kept and neither is sent until you choose.
          </p>
          <div className="team-conflict-actions">
            <Button busy={busy === "mine"} disabled={busy !== null} onClick={() => void run("mine")}>
              Keep this machine's
            </Button>
            <Button busy={busy === "theirs"} disabled={busy !== null} onClick={() => void run("theirs")}>
              Keep the server's
            </Button>
          </div>
        </div>
      ) : null}
    </section>
  );
}

function InviteCard() {
  const session = useSession();
  const toast = useToast();
  const invitations = useLoad(() => api.teamInvitations(), [session.revision]);
  const [name, setName] = useState("");
  const [role, setRole] = useState<string>("developer");
  const [hours, setHours] = useState(24);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [made, setMade] = useState<Invited | null>(null);
  // While someone invited has not joined yet, ask again a moment after each answer:
  // the owner waits on this screen for their fingerprint. Not while the server is
  // offline or the last question failed (the error shows; nothing asks in a loop).
  const waiting =
    session.team?.online === true &&
    !invitations.error &&
    !invitations.loading &&
    (invitations.data ?? []).some((i) => !i.joined && !i.expired);
  const { reload } = invitations;
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(reload, INVITATION_POLL_MS);
    return () => clearTimeout(timer);
  }, [waiting, reload, invitations.data]);

  async function invite() {
    if (busy || !name.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const inv = await api.teamInvite({ workspace: session.workspace, name: name.trim(), role, validHours: hours });
      setMade(inv);
      setName("");
      invitations.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="team-invite">
      <header className="card-header">
        <h2 id="team-invite">Invite a member</h2>
      </header>
      <p className="card-intro field-hint">
        They join from their own machine with <code>coffer team join CODE</code>: their keys are made there and never
        travel. Their screen then shows a fingerprint; admit them only when they have read it out to you.
      </p>
      <form
        className="team-invite-form"
        onSubmit={(e) => {
          e.preventDefault();
          void invite();
        }}
        noValidate
      >
        <label className="field">
          <span className="field-label">Name</span>
          <input
            className="input"
            aria-label="Member name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="bob"
            autoComplete="off"
          />
        </label>
        <label className="field">
          <span className="field-label">Role in {session.workspace}</span>
          <select className="input" aria-label="Role" value={role} onChange={(e) => setRole(e.target.value)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">Code works for</span>
          <select
            className="input"
            aria-label="Code works for"
            value={hours}
            onChange={(e) => setHours(Number(e.target.value))}
          >
            {VALID_FOR.map((v) => (
              <option key={v.hours} value={v.hours}>
                {v.label}
              </option>
            ))}
          </select>
        </label>
        <Button type="submit" variant="primary" busy={busy} disabled={!name.trim()}>
          Create invitation
        </Button>
      </form>
      {error ? <Alert title="No invitation was made">{error}</Alert> : null}
      {made ? (
        <div className="team-code" role="group" aria-label="Invitation code">
          <p>
            Give this code to <strong>{made.name}</strong> ({made.role} in {made.workspace}). It works once, until{" "}
            {formatDateTime(made.expires_at)}; treat it like a password.
          </p>
          <textarea className="input team-code-text" readOnly value={made.code} aria-label="Code" rows={3} />
          <div className="team-code-actions">
            <Button
              icon="copy"
              onClick={() => {
                void copyText(made.code).then(() => toast("Invitation code copied"));
              }}
            >
              Copy code
            </Button>
            <Button variant="ghost" onClick={() => setMade(null)}>
              Done
            </Button>
          </div>
        </div>
      ) : null}
      {invitations.error ? (
        <p className="field-error" role="alert">
          Could not read the open invitations: {invitations.error.message}
        </p>
      ) : null}
      <Invitations
        list={invitations.data ?? []}
        onChanged={() => {
          invitations.reload();
          session.refresh();
        }}
      />
    </section>
  );
}

function Invitations({ list, onChanged }: { list: Invitation[]; onChanged: () => void }) {
  if (list.length === 0) return null;
  return (
    <div className="team-invitations">
      <h3>Open invitations</h3>
      <ul className="plain-list" aria-label="Open invitations">
        {list.map((inv) => (
          <InvitationRow key={inv.name} inv={inv} onChanged={onChanged} />
        ))}
      </ul>
    </div>
  );
}

function InvitationRow({ inv, onChanged }: { inv: Invitation; onChanged: () => void }) {
  const toast = useToast();
  const [fingerprint, setFingerprint] = useState("");
  const [busy, setBusy] = useState<"admit" | "cancel" | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function act(what: "admit" | "cancel") {
    setBusy(what);
    setError(null);
    try {
      if (what === "admit") {
        await api.teamAdmit(inv.name, fingerprint);
        toast(`${inv.name} is a member now: their keys are sealed`);
      } else {
        await api.teamCancelInvitation(inv.name);
        toast(`The invitation for ${inv.name} is cancelled`);
      }
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  const state = inv.expired ? "expired" : inv.joined ? "joined: compare the fingerprint" : "not joined yet";
  return (
    <li className="team-invitation" aria-label={`Invitation for ${inv.name}`}>
      <div className="team-invitation-head">
        <strong>{inv.name}</strong> <span className="field-hint">{inv.role} in {inv.workspace}</span>{" "}
        <Badge tone={inv.expired ? "danger" : inv.joined ? "warning" : "neutral"}>{state}</Badge>
      </div>
      {inv.joined && !inv.expired ? (
        <form
          className="team-admit"
          onSubmit={(e) => {
            e.preventDefault();
            void act("admit");
          }}
          noValidate
        >
          <input
            className="input"
            aria-label={`Fingerprint on ${inv.name}'s screen`}
            placeholder="the fingerprint on their screen"
            value={fingerprint}
            onChange={(e) => setFingerprint(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
          <Button type="submit" variant="primary" busy={busy === "admit"} disabled={!fingerprint.trim() || busy !== null}>
            Admit
          </Button>
        </form>
      ) : null}
      <Button size="sm" variant="ghost" busy={busy === "cancel"} disabled={busy !== null} onClick={() => void act("cancel")}>
        Cancel invitation
      </Button>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}
