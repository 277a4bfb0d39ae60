// The Audit screen's **Whole team** view: every member's events in this workspace, read
// from the team server and checked there by the backend, one by one (its content is
// what its author's chain names, its commit carries its author's signature, the links
// join). This card says what the check found, or what stopped it.

import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import type { AppError } from "../../lib/ipc";
import type { TeamTrail } from "../../lib/types";

const count = (n: number, what: string) => `${n} ${n === 1 ? what : `${what}s`}`;

export function TeamTrailCard({
  trail,
  error,
  loading,
  onReload,
}: {
  trail: TeamTrail | undefined;
  error: AppError | undefined;
  loading: boolean;
  onReload: () => void;
}) {
  return (
    <div className="card chain-card">
      <div className="chain-status" aria-label="Team trail status" aria-live="polite">
        {error ? (
          <Badge tone="danger">
            {error.code === "integrity" ? "Team trail does not verify" : "Could not read the team's trail"}
          </Badge>
        ) : !trail ? (
          <Badge tone="neutral">reading the team server…</Badge>
        ) : (
          <Badge tone="success">
            Every event checked · {count(trail.checked, "event")} of {count(trail.authors, "member")}
          </Badge>
        )}
      </div>
      {error ? (
        <p className="field-error" role="alert">
          {error.message}
        </p>
      ) : (
        <p className="field-hint">
          Read from the team server: each member&apos;s events as their machine signed them. An event edited,
          re-attributed or taken out on the server is named here.
        </p>
      )}
      {trail && !error ? (
        <ul className="chain-facts" aria-label="Team trail facts">
          <li>
            From <span className="mono chain-file">{trail.server}</span>
          </li>
          <li>
            {trail.vault_wide
              ? "This workspace's trail and the vault's own (joins, admissions, removals)"
              : "This workspace's trail (the vault's own is the root owner's to read)"}
          </li>
        </ul>
      ) : null}
      <div className="chain-actions">
        <Button size="sm" icon="shield" busy={loading && !!trail} onClick={onReload}>
          Read again
        </Button>
      </div>
    </div>
  );
}
