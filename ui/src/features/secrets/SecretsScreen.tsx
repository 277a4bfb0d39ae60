// Secrets: the project's key list with search, Add secret, and each row's actions.

import { useCallback, useDeferredValue, useEffect, useMemo, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { EmptyState } from "../../components/EmptyState";
import { useConfirmPassphrase } from "../../components/PassphrasePrompt";
import { Checkbox } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { useToast } from "../../components/Toast";
import { copyText } from "../../lib/clipboard";
import { formatDateTime, formatDuration } from "../../lib/format";
import { api, errorMessage } from "../../lib/ipc";
import { buildSearchIndex, filterIndex } from "../../lib/search";
import { withPassphraseAgain } from "../../lib/reauth";
import type { Capability, Secret } from "../../lib/types";
import { can, settingRaw, useSession } from "../shell/session";
import { AddSecretDialog } from "./AddSecretDialog";
import { RevealDialog } from "./RevealDialog";
import { TestDialog } from "./TestDialog";
import { UsageList } from "./UsageList";
import { SecretTable, type RowAction } from "./SecretTable";
import { UpdateValueDialog } from "./UpdateValueDialog";
import { useSecretList } from "./useSecretList";

type Dialog =
  | { kind: "add" }
  | { kind: "update"; secret: Secret }
  | { kind: "reveal"; secret: Secret }
  | { kind: "test"; secret: Secret }
  | { kind: "delete"; secret: Secret };

const NO_CAPABILITIES: Capability[] = [];

export function referenceOf(project: string, name: string): string {
  return `coffer://${project}/${name}`;
}

/** "Now" for relative times: ticks every minute and whenever `data` changes. */
function useMinuteClock(data: unknown): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => setNow(Date.now()), [data]);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(t);
  }, []);
  return now;
}

export function SecretsScreen() {
  const session = useSession();
  const toast = useToast();
  const confirmPassphrase = useConfirmPassphrase();
  const [includeDeleted, setIncludeDeleted] = useState(false);
  const [query, setQuery] = useState("");
  const deferredQuery = useDeferredValue(query);
  const [dialog, setDialog] = useState<Dialog | null>(null);

  const list = useSecretList(session.scope, includeDeleted, session.revision);
  const secrets = useMemo(() => list.data ?? [], [list.data]);
  const now = useMinuteClock(list.data);
  const index = useMemo(() => buildSearchIndex(secrets), [secrets]);
  const shown = useMemo(() => filterIndex(index, deferredQuery), [index, deferredQuery]);
  const names = useMemo(() => new Set(secrets.map((s) => s.name)), [secrets]);
  const listed = list.data !== undefined;
  useEffect(() => {
    // After the first list is committed: the benchmark reads unlocked → listed.
    if (listed) performance.mark("coffer:secrets-listed");
  }, [listed]);
  const live = useMemo(() => secrets.filter((s) => s.deleted_at == null).length, [secrets]);

  const canWrite = can(session, "write");
  const recoveryMs = settingRaw(session, "recovery-window");
  const { project, scope, refresh, navigate } = session;

  const onAction = useCallback(
    (action: RowAction, secret: Secret) => {
      switch (action) {
        case "history":
          navigate({ name: "history", secret: secret.name });
          break;
        case "copy-reference": {
          const ref = referenceOf(project, secret.name);
          copyText(ref).then(
            () => toast(`Copied ${ref}`),
            (e: unknown) => toast(`Could not copy: ${errorMessage(e)}`, "danger"),
          );
          break;
        }
        case "restore":
          withPassphraseAgain(() => api.restoreSecret(scope, secret.name), confirmPassphrase).then(
            () => {
              toast(`Restored ${secret.name}`);
              refresh();
            },
            (e: unknown) => toast(errorMessage(e), "danger"),
          );
          break;
        case "update":
        case "test":
        case "reveal":
        case "delete":
          setDialog({ kind: action, secret });
          break;
      }
    },
    [navigate, project, scope, refresh, toast],
  );

  // Memoised with the table's other props, so that a keystroke renders the search box
  // at once and the table only when the filtered list (deferredQuery) is ready.
  const noSecrets = secrets.length === 0;
  const emptyState = useMemo(
    () =>
      noSecrets ? (
        <EmptyState
          title="No secrets yet"
          action={
            canWrite ? (
              <Button variant="primary" icon="plus" onClick={() => setDialog({ kind: "add" })}>
                Add secret
              </Button>
            ) : null
          }
        >
          {canWrite
            ? `Add the first credential of ${project}: an API key, a token, a password.`
            : `Nobody has added a secret to ${project} yet.`}
        </EmptyState>
      ) : (
        <EmptyState
          icon="search"
          title={`No secrets match “${deferredQuery}”`}
          action={<Button onClick={() => setQuery("")}>Clear search</Button>}
        >
          Search looks at names and descriptions.
        </EmptyState>
      ),
    [noSecrets, canWrite, project, deferredQuery],
  );

  return (
    <section className="page page-fill" aria-labelledby="secrets-title">
      <div className="page-header">
        <div>
          <h1 id="secrets-title">Secrets</h1>
          <p className="page-subtitle">
            {list.complete ? `${live} ${live === 1 ? "secret" : "secrets"}` : "Loading secrets"} in{" "}
            <strong>{session.project}</strong> · {session.environments.length} environments
          </p>
        </div>
        {canWrite ? (
          <Button variant="primary" icon="plus" onClick={() => setDialog({ kind: "add" })}>
            Add secret
          </Button>
        ) : null}
      </div>

      <div className="toolbar">
        <div className="search">
          <Icon name="search" />
          <input
            type="search"
            className="input"
            aria-label="Search secrets"
            placeholder="Search by name or description"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
        </div>
        {query ? (
          <span className="toolbar-count" aria-live="polite">
            {shown.length} of {secrets.length}
          </span>
        ) : null}
        <div className="toolbar-spacer" />
        <Checkbox
          label="Show deleted"
          checked={includeDeleted}
          onChange={(e) => setIncludeDeleted(e.target.checked)}
        />
      </div>

      {list.error ? <Alert title="Could not load the secrets">{list.error.message}</Alert> : null}

      {list.loading && !list.data ? (
        // Until the first list arrives, an empty frame in the table's place: mounting the
        // virtualised table forces a layout, and the request (sent from a layout effect,
        // which runs after the table's) would wait for it instead of overlapping it.
        <div className="vtable" aria-busy="true" aria-label="Loading secrets" />
      ) : (
        <SecretTable
          secrets={shown}
          environments={session.environments}
          capabilities={session.access?.capabilities ?? NO_CAPABILITIES}
          now={now}
          onAction={onAction}
          empty={emptyState}
        />
      )}

      {dialog?.kind === "add" ? (
        <AddSecretDialog
          existingNames={names}
          onClose={() => setDialog(null)}
          onSaved={(name, envs) => {
            if (envs.length) toast(`Added ${name} to ${envs.join(" and ")}`);
            refresh();
          }}
        />
      ) : null}
      {dialog?.kind === "update" ? (
        <UpdateValueDialog
          secret={dialog.secret}
          onClose={() => setDialog(null)}
          onSaved={(env, version) => {
            toast(`${dialog.secret.name} in ${env} is now at version ${version}`);
            refresh();
          }}
        />
      ) : null}
      {dialog?.kind === "reveal" ? <RevealDialog secret={dialog.secret} onClose={() => setDialog(null)} /> : null}
      {dialog?.kind === "test" ? <TestDialog secret={dialog.secret} onClose={() => setDialog(null)} /> : null}
      {dialog?.kind === "delete" ? (
        <ConfirmDialog
          title={`Delete ${dialog.secret.name}?`}
          confirmLabel="Delete secret"
          tone="danger"
          typeToConfirm={dialog.secret.name}
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const purge = await withPassphraseAgain(
              () => api.deleteSecret(scope, dialog.secret.name),
              confirmPassphrase,
            );
            toast(`Deleted ${dialog.secret.name}. It can be restored until ${formatDateTime(purge.at_ms)}.`);
            refresh();
          }}
        >
          <p>
            Its values stop resolving everywhere at once: runs, references and exports that use{" "}
            <code>{referenceOf(project, dialog.secret.name)}</code> will fail.
          </p>
          <UsageList name={dialog.secret.name} intro="Definitions that reference it (from the last recorded check):" />
          <p>
            You can restore it during the recovery window
            {recoveryMs ? (
              <>
                {" "}
                of <strong>{formatDuration(recoveryMs)}</strong>
              </>
            ) : null}
            ; after that it is purged for good.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
