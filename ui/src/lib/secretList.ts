// The key list arrives compact (src-tauri/src/secret_list.rs: environment names once,
// one short array per cell, usual values left out) so that 10,000 secrets cross IPC
// quickly. This turns it back into the rows the Secrets screen and its dialogs read.

import type { EnvStatus_Serialize, ListedCell_Serialize, SecretList_Serialize, SecretSummary_Serialize } from "../bindings";

export type EnvStatus = EnvStatus_Serialize;

/** A row of the key list: what the list shows of a secret (a `SecretDetail` is one too). */
export type Secret = Pick<SecretSummary_Serialize, "name" | "description" | "kind" | "scope" | "deleted_at" | "purge_at"> & {
  environments: EnvStatus[];
};

// The bits of a cell's flags, as secret_list.rs sets them.
const EXPIRED = 1;
const EXPIRING_SOON = 2;
const ROTATION_DUE = 4;
const EXPOSED = 8;

/** The rows of a compact list, one `EnvStatus` per environment in column order. */
export function decodeSecretList(list: SecretList_Serialize): Secret[] {
  const envs = list.environments;
  return list.secrets.map((s) => ({
    name: s.name,
    description: s.description ?? "",
    kind: s.kind ?? "string",
    scope: s.scope ?? "workspace",
    deleted_at: s.deleted_at ?? null,
    purge_at: s.purge_at ?? null,
    environments: envs.map((environment, column) => envStatus(environment, column, s.cells, envs, s.exposed_to ?? [])),
  }));
}

function envStatus(
  environment: string,
  column: number,
  cells: (ListedCell_Serialize | null)[],
  envs: string[],
  exposedTo: string[],
): EnvStatus {
  const cell = cells[column];
  if (!cell) {
    return {
      environment,
      state: "missing",
      version: null,
      updated_at: null,
      expires_at: null,
      expiring_soon: false,
      rotation_due: false,
      same_as: [],
      exposed_to: [],
    };
  }
  const [version, updatedAt, expiresAt, flags, firstEqual] = cell;
  const sameAs: string[] = [];
  for (let other = 0; other < cells.length; other++) {
    if (other !== column && cells[other]?.[4] === firstEqual) sameAs.push(envs[other]!);
  }
  return {
    environment,
    state: flags & EXPIRED ? "expired" : "set",
    version,
    updated_at: updatedAt,
    expires_at: expiresAt,
    expiring_soon: (flags & EXPIRING_SOON) !== 0,
    rotation_due: (flags & ROTATION_DUE) !== 0,
    same_as: sameAs,
    exposed_to: flags & EXPOSED ? exposedTo : [],
  };
}
