// The status line of a team vault, at the foot of the sidebar: online or offline, and
// how many writes wait to be pushed. Clicking it opens Settings → Team.

import type { TeamState } from "../../lib/types";

export function teamStatusText(t: TeamState): string {
  const queued = t.queued > 0 ? ` · ${t.queued} queued` : "";
  const conflicts = t.conflicts > 0 ? ` · ${t.conflicts} ${t.conflicts === 1 ? "conflict" : "conflicts"}` : "";
  return `${t.online ? "Online" : "Offline"}${queued}${conflicts}`;
}

export function TeamStatus({ team, onOpen }: { team: TeamState | null; onOpen: () => void }) {
  if (!team?.on_team) return null;
  const tone = !team.online ? "offline" : team.conflicts > 0 || team.refused.length > 0 ? "attention" : "online";
  const title = [team.server ?? "", team.online ? null : team.problem].filter(Boolean).join(" — ");
  return (
    <button
      type="button"
      className={`team-status team-status-${tone}`}
      onClick={onOpen}
      title={title}
      aria-label={`Team server: ${teamStatusText(team)}`}
    >
      <span className="team-dot" aria-hidden="true" />
      <span className="team-status-text">{teamStatusText(team)}</span>
    </button>
  );
}
