import { describe, expect, it } from "vitest";
import { buildSearchIndex, filterIndex } from "./search";

const items = [
  { name: "STRIPE_API_KEY", description: "Payments, live account" },
  { name: "stripe-webhook-secret", description: "Signs webhook calls" },
  { name: "DATABASE_URL", description: "Primary Postgres" },
  { name: "SENTRY_DSN", description: "" },
];
const index = buildSearchIndex(items);
const names = (q: string) => filterIndex(index, q).map((i) => i.name);

describe("secret search", () => {
  it("returns everything for an empty query", () => {
    expect(names("")).toHaveLength(4);
    expect(names("   ")).toHaveLength(4);
  });

  it("matches names case-insensitively", () => {
    expect(names("stripe")).toEqual(["STRIPE_API_KEY", "stripe-webhook-secret"]);
  });

  it("matches descriptions", () => {
    expect(names("postgres")).toEqual(["DATABASE_URL"]);
    expect(names("WEBHOOK CALLS")).toEqual(["stripe-webhook-secret"]);
  });

  it("needs every word to match, in name or description", () => {
    expect(names("stripe live")).toEqual(["STRIPE_API_KEY"]);
    expect(names("stripe postgres")).toEqual([]);
  });

  it("keeps list order and stays fast on 10,000 rows", () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      name: `SECRET_${String(i).padStart(5, "0")}`,
      description: i % 10 === 0 ? "billing" : "other",
    }));
    const big = buildSearchIndex(many);
    const start = performance.now();
    const hits = filterIndex(big, "secret_0 billing");
    const elapsed = performance.now() - start;
    expect(hits).toHaveLength(1000);
    expect(hits[0]!.name).toBe("SECRET_00000");
    expect(elapsed).toBeLessThan(50);
  });
});
