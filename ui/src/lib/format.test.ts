import { describe, expect, it } from "vitest";
import {
  DAY,
  daysLeft,
  describeEnv,
  formatDuration,
  formatRelative,
  isDuration,
  lastRotated,
  originLabel,
  parseDuration,
  rotationLabel,
  secretBadges,
} from "./format";
import type { EnvStatus, Secret } from "./types";

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

function env(over: Partial<EnvStatus> & { environment: string }): EnvStatus {
  return {
    state: "set",
    version: 1,
    updated_at: NOW - 2 * DAY,
    expires_at: null,
    expiring_soon: false,
    rotation_due: false,
    same_as: [],
    exposed_to: [],
    ...over,
  };
}

function secret(environments: EnvStatus[]): Secret {
  return {
    name: "STRIPE_KEY",
    description: "Stripe",
    kind: "string",
    scope: "workspace",
    deleted_at: null,
    purge_at: null,
    environments,
  };
}

describe("environment cells", () => {
  it("shows the version of a set value", () => {
    const cell = describeEnv(env({ environment: "production", version: 3 }), NOW);
    expect(cell.label).toBe("v3");
    expect(cell.tone).toBe("success");
    expect(cell.hint).toBeNull();
    expect(cell.description).toContain("Version 3 set in production 2 days ago");
  });

  it("says missing when there is no value", () => {
    const cell = describeEnv(env({ environment: "staging", state: "missing", version: null }), NOW);
    expect(cell).toMatchObject({ label: "missing", tone: "neutral", hint: null });
  });

  it("marks an expired value in red and keeps its version as the hint", () => {
    const cell = describeEnv(
      env({ environment: "production", state: "expired", version: 2, expires_at: NOW - DAY }),
      NOW,
    );
    expect(cell).toMatchObject({ label: "expired", tone: "danger", hint: "v2" });
    expect(cell.description).toContain("expired 1 day ago");
  });

  it("hints at equal values in other environments", () => {
    const cell = describeEnv(env({ environment: "staging", same_as: ["production"] }), NOW);
    expect(cell.hint).toBe("same as production");
    expect(cell.description).toContain("same value as production");
  });

  it("says a value a removed member could use should be rotated", () => {
    const cell = describeEnv(env({ environment: "production", exposed_to: ["bob"], same_as: ["staging"] }), NOW);
    expect(cell.tone).toBe("warning");
    expect(cell.hint).toBe("exposed: rotate");
    expect(cell.description).toContain("exposed to bob");
    expect(cell.description).toContain("rotate the credential");
  });

  it("prefers the expiry warning over the same-as hint", () => {
    const cell = describeEnv(
      env({ environment: "staging", same_as: ["production"], expiring_soon: true, expires_at: NOW + 3 * DAY }),
      NOW,
    );
    expect(cell.tone).toBe("warning");
    expect(cell.hint).toBe("expires in 3 days");
  });
});

describe("row badges", () => {
  it("names the environments that need attention", () => {
    const badges = secretBadges(
      secret([
        env({ environment: "staging", rotation_due: true }),
        env({ environment: "production", rotation_due: true, expiring_soon: true }),
      ]),
    );
    expect(badges.map((b) => b.label)).toEqual(["rotation due", "expiring soon"]);
    expect(badges[0]!.title).toBe("Rotation due in staging, production");
    expect(badges[1]!.title).toBe("Expiring soon in production");
  });

  it("has none for a healthy secret", () => {
    expect(secretBadges(secret([env({ environment: "production" })]))).toEqual([]);
  });

  it("takes the newest update across environments as last rotated", () => {
    const s = secret([
      env({ environment: "staging", updated_at: NOW - 5 * DAY }),
      env({ environment: "production", updated_at: NOW - DAY }),
      env({ environment: "development", state: "missing", updated_at: null }),
    ]);
    expect(lastRotated(s)).toBe(NOW - DAY);
    expect(lastRotated(secret([]))).toBeNull();
  });
});

describe("times and durations", () => {
  it("formats relative times both ways", () => {
    expect(formatRelative(NOW - 10_000, NOW)).toBe("just now");
    expect(formatRelative(NOW - 5 * 60_000, NOW)).toBe("5 minutes ago");
    expect(formatRelative(NOW - 3600_000, NOW)).toBe("1 hour ago");
    expect(formatRelative(NOW + 3 * DAY, NOW)).toBe("in 3 days");
    expect(formatRelative(NOW - 60 * DAY, NOW)).toBe("25 Sept");
    expect(formatRelative(NOW - 400 * DAY, NOW)).toBe("20 Oct 2025");
  });

  it("formats durations with at most two units", () => {
    expect(formatDuration(7 * DAY)).toBe("7 days");
    expect(formatDuration(15 * 60_000)).toBe("15 minutes");
    expect(formatDuration(DAY + 2 * 3600_000 + 5000)).toBe("1 day 2 hours");
    expect(formatDuration(90_000)).toBe("1 minute 30 seconds");
  });

  it("reads the backend's humantime durations", () => {
    expect(parseDuration("2M 29d 2h 52m 48s")).toBe(90 * DAY);
    expect(parseDuration("7d")).toBe(7 * DAY);
    expect(parseDuration("15m")).toBe(15 * 60_000);
    expect(parseDuration("soon")).toBeNull();
    expect(parseDuration("")).toBeNull();
    expect(rotationLabel("2M 29d 2h 52m 48s")).toBe("every 90 days");
    expect(rotationLabel(null)).toBeNull();
  });

  it("validates what people type as a duration", () => {
    expect(isDuration("30d")).toBe(true);
    expect(isDuration("90s")).toBe(true);
    expect(isDuration("0d")).toBe(false);
    expect(isDuration("thirty days")).toBe(false);
  });

  it("counts whole days left, rounding up", () => {
    expect(daysLeft(NOW + 6.2 * DAY, NOW)).toBe(7);
    expect(daysLeft(NOW + 1000, NOW)).toBe(1);
    expect(daysLeft(NOW - DAY, NOW)).toBe(0);
  });

  it("explains where a version came from", () => {
    expect(originLabel("set")).toBe("typed");
    expect(originLabel("generate")).toBe("generated");
    expect(originLabel("rollback:2")).toBe("rollback to v2");
    expect(originLabel("import")).toBe("imported");
  });
});
