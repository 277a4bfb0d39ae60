// How times, durations, environment cells and badges read on screen.

import type { EnvStatus, Secret } from "./types";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const dateTime = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const dayMonth = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });

/** "24 Nov 2026, 14:15" in local time. */
export function formatDateTime(ms: number): string {
  return dateTime.format(new Date(ms));
}

/** "24 Nov". */
export function formatDay(ms: number): string {
  return dayMonth.format(new Date(ms));
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** "just now", "5 minutes ago", "in 3 days"; past a month, the date. */
export function formatRelative(ms: number, now: number = Date.now()): string {
  const diff = ms - now;
  const abs = Math.abs(diff);
  // A moment in the very near future is a clock a few seconds behind, not "in 1 minute".
  if (abs < 45 * SECOND || (diff > 0 && diff < 90 * SECOND)) return "just now";
  let text: string;
  if (abs < HOUR) text = plural(Math.round(abs / MINUTE), "minute");
  else if (abs < DAY) text = plural(Math.round(abs / HOUR), "hour");
  else if (abs < 30 * DAY) text = plural(Math.round(abs / DAY), "day");
  else {
    const year = new Date(ms).getFullYear();
    return year === new Date(now).getFullYear() ? formatDay(ms) : `${formatDay(ms)} ${year}`;
  }
  return diff < 0 ? `${text} ago` : `in ${text}`;
}

/** "7 days", "15 minutes", "1 day 2 hours": at most the two largest units. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0 seconds";
  const units: [number, string][] = [
    [DAY, "day"],
    [HOUR, "hour"],
    [MINUTE, "minute"],
    [SECOND, "second"],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [size, name] of units) {
    if (parts.length === 2) break;
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(plural(n, name));
      rest -= n * size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.length ? parts.join(" ") : "less than a second";
}

// Units as humantime writes them (the backend formats rotation periods with it):
// a month is 30.44 days and a year 365.25 days.
const HUMANTIME_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  s: SECOND,
  m: MINUTE,
  h: HOUR,
  d: DAY,
  w: 7 * DAY,
  M: 2_630_016 * SECOND,
  y: 31_557_600 * SECOND,
};

/** Parses "2M 29d 2h 52m 48s" or "90d" into milliseconds; null when unreadable. */
export function parseDuration(text: string): number | null {
  const parts = text.trim().split(/\s+/);
  if (!text.trim()) return null;
  let total = 0;
  for (const part of parts) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h|d|w|M|y)$/.exec(part);
    if (!m) return null;
    total += Number(m[1]) * (HUMANTIME_UNITS[m[2]!] ?? 0);
  }
  return Math.round(total);
}

/** True when `text` is a duration the backend accepts, like 90s, 15m, 12h, 30d. */
export function isDuration(text: string): boolean {
  const ms = parseDuration(text);
  return ms !== null && ms > 0;
}

/** Whole days left until `until`, never negative, rounding up (so "1 day left" until the end). */
export function daysLeft(until: number, now: number = Date.now()): number {
  return Math.max(0, Math.ceil((until - now) / DAY));
}

/** "512 B", "20 KB", "3.2 MB": file sizes, in steps of 1024. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export type Tone = "neutral" | "success" | "warning" | "danger" | "accent";

export interface EnvCell {
  /** "v3", "missing" or "expired". */
  label: string;
  tone: Tone;
  /** A second, quieter line: an expiry warning or "same as production". */
  hint: string | null;
  /** The full sentence, for a tooltip and screen readers. */
  description: string;
}

/** What one environment column shows for a secret. */
export function describeEnv(status: EnvStatus, now: number = Date.now()): EnvCell {
  const env = status.environment;
  if (status.state === "missing") {
    return { label: "missing", tone: "neutral", hint: null, description: `No value in ${env}` };
  }
  const version = status.version ?? 0;
  if (status.state === "expired") {
    return {
      label: "expired",
      tone: "danger",
      hint: `v${version}`,
      description: `Version ${version} in ${env} expired${status.expires_at ? ` ${formatRelative(status.expires_at, now)}` : ""}; update it to use it again`,
    };
  }
  let hint: string | null = null;
  const parts = [`Version ${version} set in ${env}`];
  if (status.updated_at) parts[0] += ` ${formatRelative(status.updated_at, now)}`;
  const exposed = status.exposed_to.length > 0;
  if (exposed) {
    hint = "exposed: rotate";
    parts.push(`exposed to ${status.exposed_to.join(", ")}, who no longer has access: rotate the credential`);
  } else if (status.expiring_soon && status.expires_at) {
    hint = `expires ${formatRelative(status.expires_at, now)}`;
    parts.push(`expires ${formatDateTime(status.expires_at)}`);
  } else if (status.same_as.length > 0) {
    hint = `same as ${status.same_as.join(", ")}`;
  }
  if (exposed && status.expiring_soon && status.expires_at) parts.push(`expires ${formatDateTime(status.expires_at)}`);
  if (status.same_as.length > 0) parts.push(`same value as ${status.same_as.join(", ")}`);
  if (status.rotation_due) parts.push("rotation due");
  return {
    label: `v${version}`,
    tone: exposed || status.expiring_soon || status.rotation_due ? "warning" : "success",
    hint,
    description: parts.join("; "),
  };
}

export interface Badge {
  label: string;
  tone: Tone;
  title: string;
}

/** The row badges: rotation due and expiring soon, naming the environments concerned. */
export function secretBadges(secret: Secret): Badge[] {
  const badges: Badge[] = [];
  const due = secret.environments.filter((e) => e.rotation_due).map((e) => e.environment);
  const expiring = secret.environments.filter((e) => e.expiring_soon).map((e) => e.environment);
  const exposed = secret.environments.filter((e) => e.exposed_to.length > 0);
  if (exposed.length) {
    const who = [...new Set(exposed.flatMap((e) => e.exposed_to))];
    badges.push({
      label: "exposed",
      tone: "danger",
      title: `${who.join(", ")} could use the value in ${exposed.map((e) => e.environment).join(", ")} and no longer has access: rotate it`,
    });
  }
  if (due.length) {
    badges.push({ label: "rotation due", tone: "warning", title: `Rotation due in ${due.join(", ")}` });
  }
  if (expiring.length) {
    badges.push({ label: "expiring soon", tone: "warning", title: `Expiring soon in ${expiring.join(", ")}` });
  }
  return badges;
}

/** When any environment last got a new version; null when no value was ever set. */
export function lastRotated(secret: Secret): number | null {
  let latest: number | null = null;
  for (const e of secret.environments) {
    if (e.updated_at != null && (latest === null || e.updated_at > latest)) latest = e.updated_at;
  }
  return latest;
}

/** How a version came to be: "typed", "generated", "rollback to v2", "imported". */
export function originLabel(origin: string): string {
  if (origin === "set") return "typed";
  if (origin === "generate") return "generated";
  if (origin === "import") return "imported";
  const rollback = /^rollback:(\d+)$/.exec(origin);
  if (rollback) return `rollback to v${rollback[1]}`;
  return origin;
}

/** A rotation policy as people say it: "every 90 days". */
export function rotationLabel(rotateEvery: string | null): string | null {
  if (!rotateEvery) return null;
  const ms = parseDuration(rotateEvery);
  return ms ? `every ${formatDuration(ms)}` : `every ${rotateEvery}`;
}
