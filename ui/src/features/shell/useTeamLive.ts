// The team server as the backend's watcher sees it, kept live: one long poll at a time
// (`teamWait` answers when anything changes, or after 25 s), so another member's change
// reaches the screen as soon as the watcher has synced it. When a sync took changes
// from the server (`revision` moved), `onChanges` reloads every screen.

import { useEffect, useRef, useState } from "react";
import { api } from "../../lib/ipc";
import type { TeamState } from "../../lib/types";

export function useTeamLive(onChanges: () => void): TeamState | null {
  const [state, setState] = useState<TeamState | null>(null);
  const onChangesRef = useRef(onChanges);
  onChangesRef.current = onChanges;

  useEffect(() => {
    let stopped = false;
    let revision: number | null = null;
    async function follow() {
      let seen = -1;
      while (!stopped) {
        try {
          const next = await api.teamWait(seen);
          if (stopped) return;
          seen = next.version;
          setState(next);
          if (revision !== null && next.revision !== revision) onChangesRef.current();
          revision = next.revision;
        } catch {
          // Locked, or the backend is busy: look again shortly.
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    }
    void follow();
    return () => {
      stopped = true;
    };
  }, []);

  return state;
}
