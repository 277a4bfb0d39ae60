// How snapshots and their places read on screen: each kind in words, long paths
// shortened (the full one goes in a title), and the sentence after a restore.

import { formatDateTime } from "./format";
import type { Keep, RestoreOutcome, Snapshot, SnapshotKind } from "./types";

export const KIND_LABEL: Record<SnapshotKind, string> = {
  daily: "daily",
  upgrade: "before upgrade",
  manual: "manual",
  "before-restore": "before restore",
  damaged: "damaged",
};

/** Why a snapshot of each kind exists, for its badge's title. */
export const KIND_MEANING: Record<SnapshotKind, string> = {
  daily: "Taken at the first change of a day; rotated as set below.",
  upgrade: "The vault as it was before Coffer upgraded its format; the newest three are kept.",
  manual: "Taken when a member asked (Back up now); kept until removed.",
  "before-restore": "The vault as it was before a restore replaced it; kept until removed.",
  damaged: "A vault file SQLite could not read, moved aside by a restore so nothing of it is lost. It cannot be restored.",
};

/** Only a readable vault can be restored: a damaged file is kept, never put back. */
export function restorable(s: Snapshot): boolean {
  return s.kind !== "damaged";
}

/** The last part of a path: "2026-12-02T163934.123Z-daily.db". */
export function fileName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/**
 * A long path with its head elided: "…/coffer/vault.db.snapshots". Paths of `keep`
 * parts or fewer come back whole.
 */
export function shortPath(path: string, keep = 2): string {
  const parts = path.split("/").filter(Boolean);
  if (parts.length <= keep) return path;
  return `…/${parts.slice(-keep).join("/")}`;
}

/** "the newest daily snapshot of 7 days and 4 weeks", or that daily ones are off. */
export function describeKeep(keep: Keep): string {
  if (keep.daily === 0 && keep.weekly === 0) return "Daily snapshots are off.";
  const days = `${keep.daily} day${keep.daily === 1 ? "" : "s"}`;
  const weeks = `${keep.weekly} week${keep.weekly === 1 ? "" : "s"}`;
  return `Keeping the newest daily snapshot of each of the last ${days} and ${weeks}.`;
}

/** A count of snapshots to keep as typed, or null when it is not a whole number in range. */
export function parseKeep(text: string, max: number): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n <= max ? n : null;
}

/** What the unlock screen says after a restore: what was put back, and where the old vault is. */
export function restoredNotice(from: Snapshot, outcome: RestoreOutcome): string {
  const when = from.taken_at != null ? ` of ${formatDateTime(from.taken_at)}` : "";
  const kept = outcome.restored.kept
    ? " The vault as it was is kept beside it as a before-restore snapshot, listed under Settings → Backups."
    : "";
  return (
    `The vault was restored from the ${KIND_LABEL[from.kind]} snapshot${when}; its directory and audit trail verify.` +
    kept +
    " Unlock with your passphrase as it was then."
  );
}
