// Renders a component inside an unlocked session, for component tests.

import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { PassphrasePromptProvider } from "../components/PassphrasePrompt";
import { ToastProvider } from "../components/Toast";
import { SessionContext, type Session } from "../features/shell/session";
import type { Capability, TeamState } from "../lib/types";

export const ALL_CAPABILITIES: Capability[] = ["list", "use", "reveal", "write", "delete", "audit", "manage"];

export function testSession(over: Partial<Session> = {}): Session {
  return {
    member: "alice",
    workspace: "default",
    project: "default",
    scope: { workspace: "default", project: "default" },
    environments: [
      { name: "development", protected: false },
      { name: "staging", protected: false },
      { name: "production", protected: false },
    ],
    access: { role: "owner", capabilities: ALL_CAPABILITIES },
    settings: [{ key: "recovery-window", value: "7d", raw: 7 * 86_400_000, is_default: true }],
    revision: 1,
    refresh: () => undefined,
    team: null,
    navigate: () => undefined,
    ...over,
  };
}

/** A vault on a team server, online, nothing queued. */
export const ONLINE_TEAM: TeamState = {
  on_team: true,
  server: "postgres://db.example:5432/coffer",
  online: true,
  problem: null,
  queued: 0,
  conflicts: 0,
  refused: [],
  read_only: false,
  last_sync_ms: Date.now() - 5_000,
  revision: 3,
  version: 9,
};

export function renderInSession(ui: ReactElement, session: Session = testSession()) {
  return render(
    <ToastProvider>
      <PassphrasePromptProvider>
        <SessionContext.Provider value={session}>{ui}</SessionContext.Provider>
      </PassphrasePromptProvider>
    </ToastProvider>,
  );
}
