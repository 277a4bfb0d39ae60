// Key-list rows for component tests: a secret with one cell per environment, written
// as `env: version` (a number for a set value, null for missing).

import type { Secret } from "../lib/types";

export function secretWith(name: string, cells: Record<string, number | null>): Secret {
  return {
    name,
    description: "",
    kind: "string",
    scope: "workspace",
    deleted_at: null,
    purge_at: null,
    environments: Object.entries(cells).map(([environment, version]) => ({
      environment,
      state: version === null ? "missing" : "set",
      version,
      updated_at: version === null ? null : 1,
      expires_at: null,
      expiring_soon: false,
      rotation_due: false,
      same_as: [],
      exposed_to: [],
    })),
  };
}
