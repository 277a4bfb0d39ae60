// Members & roles: who can open this workspace and with which role; add (or, on a team
// server, invite), change a role, remove (for members who may manage); the capability
// matrix for everyone.

import { useMemo, useState } from "react";
import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { useToast } from "../../components/Toast";
import { api, errorMessage } from "../../lib/ipc";
import { ROLES, type Member, type Role } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { can, useSession } from "../shell/session";
import { AddMemberDialog } from "./AddMemberDialog";
import { RoleMatrix } from "./RoleMatrix";

export function MembersScreen() {
  const session = useSession();
  const toast = useToast();
  const manage = can(session, "manage");
  // On a team server members make their own keys on their own machine: they are
  // invited (Settings → Team), never added here with a passphrase.
  const onTeam = session.team?.on_team === true;
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);
  const members = useLoad(() => api.listMembers(session.workspace), [session.workspace, session.revision]);
  const matrix = useLoad(() => api.roleMatrix(), []);
  const names = useMemo(() => new Set((members.data ?? []).map((m) => m.name)), [members.data]);

  async function changeRole(m: Member, role: Role) {
    try {
      await api.grantRole(session.workspace, m.name, role);
      toast(`${m.name} is now ${role}`);
      session.refresh();
    } catch (e) {
      toast(errorMessage(e), "danger");
      members.reload();
    }
  }

  return (
    <section className="page" aria-labelledby="members-title">
      <div className="page-header">
        <div>
          <h1 id="members-title">Members &amp; roles</h1>
          <p className="page-subtitle">
            Who can unlock <strong>{session.workspace}</strong>, and what their role lets them do.
          </p>
        </div>
        {manage && onTeam ? (
          <Button variant="primary" icon="plus" onClick={() => session.navigate({ name: "settings", tab: "team" })}>
            Invite member
          </Button>
        ) : manage ? (
          <Button variant="primary" icon="plus" onClick={() => setAdding(true)}>
            Add member
          </Button>
        ) : null}
      </div>

      {members.error ? <Alert title="Could not load members">{members.error.message}</Alert> : null}

      <section className="card" aria-label="Members">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Can</th>
              <th scope="col" className="align-end">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(members.data ?? []).map((m) => {
              const self = m.name === session.member;
              return (
                <tr key={`${m.name}/${m.project ?? ""}`}>
                  <td>
                    <span className="member-cell">
                      <span className="avatar avatar-sm" aria-hidden="true">
                        {m.name.charAt(0).toUpperCase()}
                      </span>
                      <strong>{m.name}</strong>
                      {self ? <span className="tag">you</span> : null}
                      {m.project ? <span className="tag">project {m.project}</span> : null}
                    </span>
                  </td>
                  <td>
                    {manage && !self ? (
                      <select
                        className="input select input-compact"
                        aria-label={`Role of ${m.name}`}
                        value={m.role}
                        onChange={(e) => void changeRole(m, e.target.value as Role)}
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <Badge tone={m.role === "owner" ? "accent" : "neutral"}>{m.role}</Badge>
                    )}
                  </td>
                  <td className="caps">{m.capabilities.join(", ")}</td>
                  <td className="align-end">
                    {manage && !self ? (
                      <Button size="sm" variant="ghost" icon="trash" onClick={() => setRemoving(m)} aria-label={`Remove ${m.name}`}>
                        Remove
                      </Button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>

      {matrix.data ? <RoleMatrix rows={matrix.data} /> : null}

      {adding ? (
        <AddMemberDialog
          workspace={session.workspace}
          existing={names}
          onClose={() => setAdding(false)}
          onAdded={(name, role) => {
            toast(`Added ${name} as ${role}`);
            session.refresh();
          }}
        />
      ) : null}
      {removing ? (
        <ConfirmDialog
          title={`Remove ${removing.name}?`}
          confirmLabel="Remove member"
          tone="danger"
          onClose={() => setRemoving(null)}
          onConfirm={async () => {
            await api.removeMember(session.workspace, removing.name);
            toast(`Removed ${removing.name}`);
            session.refresh();
          }}
        >
          <p>
            {removing.name} loses access to {session.workspace} at once. Secrets they created stay; consider rotating
            any value they could reveal or use.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
