// The audit trail's copies outside the vault, in words: the command that checks a file
// offline, and the moment an archive cuts at.

import { parseDuration } from "./format";

/** `path` as one shell word: left alone when plain, else in single quotes. */
export function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** What an auditor runs, with no vault, to check an exported or archived trail. */
export function verifyCommand(path: string): string {
  return `coffer audit verify --file ${shellQuote(path)}`;
}

/**
 * The moment "before" names as the backend reads it: a duration back from `now`
 * (`365d`), a date (`2026-11-01`, midnight UTC) or an RFC 3339 time; null when
 * unreadable (the backend then says why).
 */
export function archiveCutoff(before: string, now: number = Date.now()): number | null {
  const text = before.trim();
  const back = parseDuration(text);
  if (back !== null) return back > 0 ? now - back : null;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(ms) ? null : ms;
}
