// Settings → Health, the app's `coffer doctor`: one line per finding — ok, a note, or
// something that needs action, with the fix in its text. The backend checks the vault
// file, the signed directory of this workspace and project, the audit chain and this
// device's keyring state; "Check again" asks once more.

import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import type { Tone } from "../../lib/format";
import { api } from "../../lib/ipc";
import type { Finding, FindingLevel } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { useSession } from "../shell/session";

const LEVEL: Record<FindingLevel, { label: string; tone: Tone }> = {
  ok: { label: "ok", tone: "success" },
  note: { label: "note", tone: "neutral" },
  fix: { label: "needs action", tone: "danger" },
};

/** What a check is about, in words ("anchor" is this machine's memory of the trail). */
const CHECK_LABEL: Record<string, string> = {
  vault: "Vault",
  permissions: "Permissions",
  integrity: "Integrity",
  schema: "Format",
  anchor: "Trail seen here",
  snapshots: "Snapshots",
  directory: "Signed directory",
  audit: "Audit chain",
  keyring: "This device",
  unlock: "Unlock",
};

export function checkLabel(check: string): string {
  return CHECK_LABEL[check] ?? check.charAt(0).toUpperCase() + check.slice(1);
}

/** "Nothing needs action", or how many findings do. */
export function healthSummary(findings: Finding[]): { text: string; tone: "success" | "danger" } {
  const fixes = findings.filter((f) => f.level === "fix").length;
  if (fixes === 0) return { text: "Nothing needs action.", tone: "success" };
  return { text: `${fixes} ${fixes === 1 ? "finding needs" : "findings need"} action.`, tone: "danger" };
}

/**
 * The text as a sentence: a capital first letter and a full stop. A text that starts
 * with a member's name (case-sensitive, an identifier) or a path keeps its first letter.
 */
export function findingSentence(text: string, member: string): string {
  const t = text.trim();
  const named = t.startsWith(member) && !/^[\p{L}\p{N}_.-]/u.test(t.slice(member.length));
  const s = named ? t : t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

export function HealthSection() {
  const session = useSession();
  const health = useLoad(() => api.checkHealth(session.scope), [session.workspace, session.project]);
  const findings = health.data ?? [];
  const summary = health.data ? healthSummary(findings) : null;

  return (
    <section className="card" aria-labelledby="health-settings">
      <header className="card-header">
        <h2 id="health-settings">Health</h2>
        <div className="health-actions">
          {summary ? (
            <span className={`health-summary health-${summary.tone}`} role="status" aria-label="Health summary">
              {summary.text}
            </span>
          ) : null}
          <Button icon="refresh" busy={health.loading} onClick={health.reload}>
            Check again
          </Button>
        </div>
      </header>
      <p className="card-intro field-hint">
        What <code>coffer doctor</code> checks: the vault file, and the signatures and audit chain of workspace{" "}
        <strong>{session.workspace}</strong>, project <strong>{session.project}</strong>. A line that needs action says
        how to fix it.
      </p>
      {health.error ? (
        <div className="setting-row">
          <Alert title="Could not check the vault">{health.error.message}</Alert>
        </div>
      ) : null}
      {findings.length > 0 ? (
        <ul className="findings" aria-label="Findings">
          {findings.map((f, i) => (
            <li key={`${f.check}-${i}`} className={`finding finding-${f.level}`}>
              <span className="finding-level">
                <Badge tone={LEVEL[f.level].tone}>{LEVEL[f.level].label}</Badge>
              </span>
              <span className="finding-check">{checkLabel(f.check)}</span>
              <span className="finding-text">{findingSentence(f.text, session.member)}</span>
            </li>
          ))}
        </ul>
      ) : health.loading ? (
        <p className="card-empty">Checking…</p>
      ) : null}
    </section>
  );
}
