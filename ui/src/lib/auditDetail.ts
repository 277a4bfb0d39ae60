// One line of human-readable context for an audit event, from its `detail` object.
// Known keys read as phrases ("v4 from v1", "role admin may not reveal"); unknown keys
// stay as "key: value". Details never hold values, only versions, names, reasons and
// keyed fingerprints.

import { formatDateTime } from "./format";
import type { AuditEvent } from "./types";

type Detail = AuditEvent["detail"];

export function describeDetail(detail: Detail): string {
  const d = { ...detail };
  const parts: string[] = [];
  const take = (key: string) => {
    const v = d[key];
    delete d[key];
    return v;
  };

  const missing = take("missing");
  const role = take("role");
  const member = take("member");
  if (missing != null) parts.push(`role ${role ?? "?"} may not ${missing}`);
  else if (member != null) parts.push(role != null ? `${member} as ${role}` : String(member));
  else if (role != null) parts.push(`role ${role}`);
  const previous = take("previous");
  if (previous != null) parts.push(`was ${previous}`);

  const version = take("version");
  const from = take("from_version");
  if (version != null && from != null) parts.push(`v${version} with the value of v${from}`);
  else if (version != null) parts.push(`v${version}`);
  else if (from != null) parts.push(`from v${from}`);

  const reason = take("reason");
  if (typeof reason === "string" && reason) parts.push(`reason: “${reason}”`);

  const key = take("key");
  const value = take("value");
  if (key != null) parts.push(value != null ? `${key} = ${value}` : String(key));

  if (take("created") === true) parts.push("new secret");
  if (take("generated") === true) parts.push("generated");
  const expires = take("expires_at");
  if (typeof expires === "number") parts.push(`expires ${formatDateTime(expires)}`);
  const purpose = take("purpose");
  if (purpose != null) parts.push(`for ${purpose}`);
  const store = take("store");
  if (store != null) parts.push(`in ${store}`);
  const source = take("source");
  if (source != null) parts.push(`from ${source}`);
  const owner = take("owner");
  if (owner != null) parts.push(`owner ${owner}`);
  const prot = take("protected");
  if (typeof prot === "boolean") parts.push(prot ? "protected" : "not protected");
  if (take("removed_from_vault") === true) parts.push("removed from the vault");
  const fingerprint = take("fingerprint");
  if (fingerprint != null) parts.push(`fingerprint ${fingerprint}`);

  for (const [k, v] of Object.entries(d)) {
    if (v === null || v === "" || v === false) continue;
    parts.push(`${k.replace(/_/g, " ")}: ${String(v)}`);
  }
  return parts.join(" · ");
}
