// The unlocked app: sidebar, top bar with the workspace and project pickers, and the
// current screen. Mounted once per unlock (keyed by session), so locking unmounts it
// and every piece of state goes with it. A trail warning sits between the top bar and
// the screen, outside the scrolling content, so it stays in view on every screen.

import { useCallback, useEffect, useMemo, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { api } from "../../lib/ipc";
import type { RestoreOutcome, Scope, Snapshot } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { AuditScreen } from "../audit/AuditScreen";
import { HistoryScreen } from "../history/HistoryScreen";
import { MembersScreen } from "../members/MembersScreen";
import { SecretsScreen } from "../secrets/SecretsScreen";
import { SettingsScreen } from "../settings/SettingsScreen";
import { SessionContext, type Screen, type Session } from "./session";
import { Sidebar } from "./Sidebar";
import { TopBar } from "./TopBar";
import { useAutoLockLimit } from "./autoLockLimit";
import { useIdleLock } from "./useIdleLock";
import { useTeamLive } from "./useTeamLive";

function preferred(names: string[], current: string | null): string | null {
  if (current && names.includes(current)) return current;
  if (names.includes("default")) return "default";
  return names[0] ?? null;
}

export interface ShellProps {
  member: string;
  vaultPath: string;
  keyringNote: string | null;
  /** The backend's sentence when the audit trail lost events this machine saw. */
  trailWarning: string | null;
  change: number;
  refresh: () => void;
  onLock: (reason: "user" | "idle") => void;
  /** A snapshot was restored: the backend locked the vault it replaced. */
  onRestored: (from: Snapshot, outcome: RestoreOutcome) => void;
}

export function Shell({
  member,
  vaultPath,
  keyringNote,
  trailWarning,
  change,
  refresh,
  onLock,
  onRestored,
}: ShellProps) {
  const [screen, setScreen] = useState<Screen>({ name: "secrets" });
  const [pickedWorkspace, setPickedWorkspace] = useState<string | null>(null);
  const [pickedProject, setPickedProject] = useState<string | null>(null);
  const [noteDismissed, setNoteDismissed] = useState(false);

  const workspaces = useLoad(() => api.listWorkspaces(), [change]);
  const workspace = preferred(workspaces.data?.map((w) => w.name) ?? [], pickedWorkspace);

  const projects = useLoad(() => api.listProjects(workspace!), [workspace, change], workspace !== null);
  const project = preferred(projects.data?.map((p) => p.name) ?? [], pickedProject);

  const scope: Scope | null = useMemo(
    () => (workspace && project ? { workspace, project } : null),
    [workspace, project],
  );
  const scopeKey = scope ? `${scope.workspace}/${scope.project}` : "";

  const environments = useLoad(() => api.listEnvironments(scope!), [scopeKey, change], scope !== null);
  const access = useLoad(() => api.myAccess(scope!), [scopeKey, change], scope !== null);
  const settings = useLoad(() => api.getSettings(workspace!), [workspace, change], workspace !== null);

  // The shortest over every workspace of the member, not the one on screen: the keys
  // of all of them are dropped together.
  useIdleLock(useAutoLockLimit(change), () => onLock("idle"));

  const navigate = useCallback((s: Screen) => setScreen(s), []);
  // Another member's change, synced by the backend's watcher: reload every screen.
  const team = useTeamLive(refresh);

  // A member who may not audit never lands on the audit screen (asking would be refused
  // and the refusal itself audited).
  const mayAudit = access.data?.capabilities.includes("audit") ?? false;
  useEffect(() => {
    if (screen.name === "audit" && access.data && !mayAudit) setScreen({ name: "secrets" });
  }, [screen.name, access.data, mayAudit]);

  const session: Session | null = useMemo(
    () =>
      scope && environments.data
        ? {
            member,
            workspace: scope.workspace,
            project: scope.project,
            scope,
            environments: environments.data,
            access: access.data ?? null,
            settings: settings.data ?? [],
            revision: change,
            refresh,
            team,
            navigate,
          }
        : null,
    [member, scope, environments.data, access.data, settings.data, change, refresh, team, navigate],
  );

  const loadError = workspaces.error ?? projects.error ?? environments.error;

  return (
    <div className="app">
      <Sidebar
        screen={screen}
        onNavigate={navigate}
        mayAudit={mayAudit}
        team={team}
        onLock={() => onLock("user")}
      />
      <div className="app-main">
        <TopBar
          member={member}
          role={access.data?.role ?? null}
          workspaces={workspaces.data?.map((w) => w.name) ?? []}
          workspace={workspace}
          onWorkspace={(w) => {
            setPickedWorkspace(w);
            setPickedProject(null);
            setScreen((s) => (s.name === "history" ? { name: "secrets" } : s));
          }}
          projects={projects.data?.map((p) => p.name) ?? []}
          project={project}
          onProject={(p) => {
            setPickedProject(p);
            setScreen((s) => (s.name === "history" ? { name: "secrets" } : s));
          }}
        />
        {trailWarning ? (
          <TrailWarning
            warning={trailWarning}
            mayAudit={access.data ? mayAudit : null}
            onAudit={screen.name === "audit"}
            onOpenAudit={() => navigate({ name: "audit" })}
          />
        ) : null}
        <main className="content" aria-label="Content">
          {keyringNote && !noteDismissed ? (
            <div className="content-banner">
              <Alert
                tone="warning"
                title="This device could not be remembered"
                action={
                  <Button size="sm" variant="ghost" onClick={() => setNoteDismissed(true)}>
                    Dismiss
                  </Button>
                }
              >
                {keyringNote}. You will unlock with your passphrase.
              </Alert>
            </div>
          ) : null}
          {loadError ? (
            <div className="content-banner">
              <Alert title="Coffer could not load this workspace">{loadError.message}</Alert>
            </div>
          ) : null}
          {session ? (
            <SessionContext.Provider value={session}>
              {screen.name === "secrets" ? <SecretsScreen /> : null}
              {screen.name === "history" ? <HistoryScreen name={screen.secret} /> : null}
              {screen.name === "audit" && mayAudit ? <AuditScreen /> : null}
              {screen.name === "members" ? <MembersScreen /> : null}
              {screen.name === "settings" ? (
                <SettingsScreen
                  key={screen.tab ?? "general"}
                  vaultPath={vaultPath}
                  initialTab={screen.tab}
                  onRestored={onRestored}
                />
              ) : null}
            </SessionContext.Provider>
          ) : loadError ? null : (
            <div className="page-loading" aria-busy="true" aria-label="Loading" />
          )}
        </main>
      </div>
    </div>
  );
}

/**
 * Not dismissible: it is evidence about the vault, not a passing notice. Where to look
 * next waits for the member's access (`null` while it loads), so it does not flicker,
 * and goes once the member is on the Audit screen, where the chain's verdict shows.
 */
function TrailWarning({
  warning,
  mayAudit,
  onAudit,
  onOpenAudit,
}: {
  warning: string;
  mayAudit: boolean | null;
  onAudit: boolean;
  onOpenAudit: () => void;
}) {
  const next =
    mayAudit === null || onAudit
      ? null
      : mayAudit
        ? " Open Audit → Verify chain to see where it breaks."
        : " Ask an owner or auditor to check it in Audit → Verify chain.";
  return (
    <section className="shell-banner" aria-label="Audit trail warning">
      <Alert
        tone="warning"
        title="Check this vault's audit trail"
        action={
          mayAudit && !onAudit ? (
            <Button size="sm" icon="audit" onClick={onOpenAudit}>
              Open Audit
            </Button>
          ) : null
        }
      >
        {warning}
        {next}
      </Alert>
    </section>
  );
}
