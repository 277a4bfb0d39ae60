// How long the unlocked app may stay idle before the screen locks: the backend's limit
// (the shortest auto-lock over the member's workspaces), read again whenever the vault
// changes. Until it answers, or when it cannot, the shortest allowed delay: not knowing
// how long to wait must lock sooner, never later.

import { api } from "../../lib/ipc";
import { useLoad } from "../../lib/useLoad";

/** The shortest auto-lock a workspace may set (the backend's bound). */
export const SHORTEST_AUTO_LOCK_MS = 60_000;

export function useAutoLockLimit(change: number): number {
  const limit = useLoad(() => api.autoLockLimit(), [change]);
  return limit.data ?? SHORTEST_AUTO_LOCK_MS;
}
