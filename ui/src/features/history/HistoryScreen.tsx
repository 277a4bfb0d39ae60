// History of one secret: every version per environment, who wrote it and when, its
// value label (equal letters = equal values, compared by keyed fingerprint without
// revealing anything), and Roll back while the old version is inside the window. An
// environment whose current value a removed member could use names them.

import { useEffect, useState } from "react";
import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { EmptyState } from "../../components/EmptyState";
import { useConfirmPassphrase } from "../../components/PassphrasePrompt";
import { useToast } from "../../components/Toast";
import { daysLeft, describeEnv, formatDateTime, formatDuration, formatRelative, originLabel, rotationLabel } from "../../lib/format";
import { formatAllowedHosts } from "../../lib/allowedHosts";
import { api } from "../../lib/ipc";
import { withPassphraseAgain } from "../../lib/reauth";
import type { SecretDetail, Version } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { UsageList } from "../secrets/UsageList";
import { can, settingRaw, useSession } from "../shell/session";

function VersionStatus({
  version,
  now,
  canWrite,
  onRollback,
}: {
  version: Version;
  now: number;
  canWrite: boolean;
  onRollback: (v: Version) => void;
}) {
  if (version.current) {
    const expired = version.expires_at != null && version.expires_at <= now;
    return expired ? <Badge tone="danger">current · expired</Badge> : <Badge tone="success">current</Badge>;
  }
  if (version.destroyed) {
    return (
      <Badge tone="neutral" title="Its ciphertext was destroyed when the rollback window closed; the record stays">
        destroyed
      </Badge>
    );
  }
  if (version.rollback_until != null && version.rollback_until > now) {
    const left = daysLeft(version.rollback_until, now);
    const label = `Roll back (${left} ${left === 1 ? "day" : "days"} left)`;
    return canWrite ? (
      <Button
        size="sm"
        icon="restore"
        onClick={() => onRollback(version)}
        aria-label={`Roll back ${version.environment} to version ${version.version}`}
        title={`Possible until ${formatDateTime(version.rollback_until)}`}
      >
        {label}
      </Button>
    ) : (
      <span className="muted">{left} {left === 1 ? "day" : "days"} left to roll back</span>
    );
  }
  return <span className="muted" title="Outside the rollback window">superseded</span>;
}

function EnvironmentHistory({
  detail,
  environment,
  protectedEnv,
  now,
  canWrite,
  onRollback,
}: {
  detail: SecretDetail;
  environment: string;
  protectedEnv: boolean;
  now: number;
  canWrite: boolean;
  onRollback: (v: Version) => void;
}) {
  const versions = detail.versions
    .filter((v) => v.environment === environment)
    .sort((a, b) => b.version - a.version);
  const status = detail.environments.find((e) => e.environment === environment);
  const cell = status ? describeEnv(status, now) : null;
  return (
    <section className="card history-env" aria-label={`History in ${environment}`}>
      <header className="card-header">
        <h2>
          {environment}
          {protectedEnv ? <span className="env-protected">protected</span> : null}
        </h2>
        {cell ? (
          <span className={`env-state env-${cell.tone}`} title={cell.description}>
            <span className="dot" aria-hidden="true" />
            {status?.state === "set" ? `at version ${status.version}` : cell.label}
            {cell.hint ? ` · ${cell.hint}` : ""}
          </span>
        ) : null}
      </header>
      {status && status.exposed_to.length > 0 ? (
        <div className="history-exposed">
          <Alert tone="danger" title={`Exposed to ${status.exposed_to.join(", ")}`}>
            {status.exposed_to.length === 1 ? "This member" : "These members"} could use the current value in {environment}{" "}
            and no longer {status.exposed_to.length === 1 ? "has" : "have"} access. Rotate the credential where it was
            issued, then update it here.
          </Alert>
        </div>
      ) : null}
      {versions.length === 0 ? (
        <p className="card-empty">No value in {environment} yet.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Value</th>
              <th scope="col">Origin</th>
              <th scope="col">By</th>
              <th scope="col">When</th>
              <th scope="col" className="align-end">
                Status
              </th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} className={v.current ? "row-current" : undefined}>
                <td className="mono">v{v.version}</td>
                <td>
                  {v.value_label === "-" ? (
                    <span title="Destroyed: its value and its fingerprint are gone">—</span>
                  ) : (
                    <span className="value-label" title={`Value ${v.value_label}: versions with the same letter hold the same value`}>
                      {v.value_label}
                    </span>
                  )}
                </td>
                <td>{originLabel(v.origin)}</td>
                <td>{v.created_by}</td>
                <td title={formatDateTime(v.created_at)}>{formatRelative(v.created_at, now)}</td>
                <td className="align-end">
                  <VersionStatus version={v} now={now} canWrite={canWrite} onRollback={onRollback} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function HistoryScreen({ name }: { name: string }) {
  const session = useSession();
  const toast = useToast();
  const confirmPassphrase = useConfirmPassphrase();
  const [now, setNow] = useState(() => Date.now());
  const [rollback, setRollback] = useState<Version | null>(null);
  const detail = useLoad(
    () => api.showSecret(session.scope, name),
    [session.workspace, session.project, name, session.revision],
  );
  useEffect(() => setNow(Date.now()), [detail.data]);

  const back = () => session.navigate({ name: "secrets" });
  const rollbackMs = settingRaw(session, "rollback-window");
  const d = detail.data;

  const nextVersion = (env: string) =>
    Math.max(0, ...(d?.versions.filter((v) => v.environment === env).map((v) => v.version) ?? [])) + 1;
  const currentLabel = (env: string) => d?.versions.find((v) => v.environment === env && v.current)?.value_label;

  return (
    <section className="page" aria-labelledby="history-title">
      <Button variant="link" icon="back" onClick={back} className="back-link" aria-label="Back to secrets">
        Secrets
      </Button>
      <div className="page-header">
        <div>
          <h1 id="history-title" className="mono">
            {name}
          </h1>
          {d ? (
            <p className="page-subtitle">
              {d.description || "No description"} · {d.kind} · {d.scope === "user" ? "only its owner" : "workspace"} · owner{" "}
              {d.owner} · created {formatRelative(d.created_at, now)}
              {rotationLabel(d.rotate_every) ? ` · rotate ${rotationLabel(d.rotate_every)}` : ""}
            </p>
          ) : null}
          {d ? (
            <p className="page-subtitle" aria-label="Allowed hosts">
              Allowed hosts:{" "}
              {d.allowed_hosts.length ? (
                <span className="mono">{formatAllowedHosts(d.allowed_hosts)}</span>
              ) : (
                "none — test requests with it need the reveal permission"
              )}
            </p>
          ) : null}
        </div>
      </div>

      {detail.error ? (
        detail.error.code === "not_found" ? (
          <EmptyState icon="history" title={`${name} is gone`} action={<Button onClick={back}>Back to secrets</Button>}>
            It was deleted or renamed, perhaps from another window or the command line.
          </EmptyState>
        ) : (
          <Alert title="Could not load the history">{detail.error.message}</Alert>
        )
      ) : null}

      {d ? (
        <>
          <div className="callout">
            <strong>Value labels</strong> — versions that show the same letter hold the same value. Coffer compares
            keyed fingerprints, so anyone who can list secrets sees that, say, staging still uses the production key,
            without anyone seeing a value.
            {rollbackMs ? ` Old versions can be rolled back for ${formatDuration(rollbackMs)}, then their ciphertext and fingerprint are destroyed.` : ""}
          </div>
          <section className="card usage-card" aria-label="Where it is used">
            <UsageList
              name={name}
              intro={
                <>
                  Referenced by these definitions (recorded by <code>coffer check --record</code>):
                </>
              }
              empty={
                <>
                  No recorded references. Run <code>coffer check --record</code> over your definitions to see where it
                  is used.
                </>
              }
            />
          </section>
          {session.environments.map((env) => (
            <EnvironmentHistory
              key={env.name}
              detail={d}
              environment={env.name}
              protectedEnv={env.protected}
              now={now}
              canWrite={can(session, "write")}
              onRollback={setRollback}
            />
          ))}
        </>
      ) : null}

      {rollback && d ? (
        <ConfirmDialog
          title={`Roll back ${rollback.environment} to version ${rollback.version}?`}
          confirmLabel="Roll back"
          onClose={() => setRollback(null)}
          onConfirm={async () => {
            const outcome = await withPassphraseAgain(
              () => api.rollbackSecret(session.scope, name, rollback.environment, rollback.version),
              confirmPassphrase,
            );
            toast(`${name} in ${rollback.environment} is back to the value of v${rollback.version} (now v${outcome.version})`);
            session.refresh();
          }}
        >
          <p>
            Coffer writes version {nextVersion(rollback.environment)} of {name} in {rollback.environment} with the value
            of version {rollback.version} (label <span className="value-label">{rollback.value_label}</span>
            {currentLabel(rollback.environment) ? (
              <>
                , replacing <span className="value-label">{currentLabel(rollback.environment)}</span>
              </>
            ) : null}
            ). Nothing is erased: the current version stays in the history.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
