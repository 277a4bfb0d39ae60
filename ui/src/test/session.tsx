// Renders a component inside an unlocked session, for component tests.

import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { PassphrasePromptProvider } from "../components/PassphrasePrompt";
import { ToastProvider } from "../components/Toast";
import { SessionContext, type Session } from "../features/shell/session";
import type { Capability } from "../lib/types";

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

export function renderInSession(ui: ReactElement, session: Session = testSession()) {
  return render(
    <ToastProvider>
      <PassphrasePromptProvider>
        <SessionContext.Provider value={session}>{ui}</SessionContext.Provider>
      </PassphrasePromptProvider>
    </ToastProvider>,
  );
}
