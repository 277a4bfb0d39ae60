// What every screen of an unlocked vault needs: who is working, where (workspace and
// project), with which environments and capabilities, and a revision number that
// moves whenever the vault changes (from this app or from the CLI), so screens reload.

import { createContext, useContext } from "react";
import type { Access, Capability, EnvironmentInfo, Scope, Setting, TeamState } from "../../lib/types";

export type Screen =
  | { name: "secrets" }
  | { name: "history"; secret: string }
  | { name: "audit" }
  | { name: "members" }
  | { name: "settings"; tab?: "general" | "team" | "backups" | "health" };

export interface Session {
  member: string;
  workspace: string;
  project: string;
  scope: Scope;
  environments: EnvironmentInfo[];
  access: Access | null;
  settings: Setting[];
  /** Moves with every change to the vault; a dependency for every screen's data. */
  revision: number;
  /** Checks the vault for changes now (after an action here) instead of at the next poll. */
  refresh: () => void;
  /** The team server as the backend's watcher sees it; null until it has said. */
  team: TeamState | null;
  navigate: (screen: Screen) => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside an unlocked vault");
  return s;
}

export function can(session: Session, capability: Capability): boolean {
  return session.access?.capabilities.includes(capability) ?? false;
}

export function settingRaw(session: Session, key: string): number | null {
  return session.settings.find((s) => s.key === key)?.raw ?? null;
}
