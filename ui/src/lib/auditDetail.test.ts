import { describe, expect, it } from "vitest";
import { describeDetail } from "./auditDetail";

describe("audit details", () => {
  it("explains a refusal", () => {
    expect(describeDetail({ role: "admin", missing: "reveal" })).toBe("role admin may not reveal");
  });

  it("reads a reveal with its reason", () => {
    expect(describeDetail({ version: 4, reason: "rotate the webhook" })).toBe("v4 · reason: “rotate the webhook”");
  });

  it("reads a rollback", () => {
    expect(describeDetail({ from_version: 1, version: 4, fingerprint: "7f282b78" })).toBe(
      "v4 with the value of v1 · fingerprint 7f282b78",
    );
  });

  it("reads a write, skipping what says nothing", () => {
    expect(
      describeDetail({ created: false, generated: false, expires_at: null, version: 2, fingerprint: "ab12" }),
    ).toBe("v2 · fingerprint ab12");
    expect(describeDetail({ created: true, generated: true, version: 1 })).toBe("v1 · new secret · generated");
  });

  it("reads member and settings changes", () => {
    expect(describeDetail({ member: "bob", role: "admin" })).toBe("bob as admin");
    expect(describeDetail({ member: "bob", role: "owner", previous: "admin" })).toBe("bob as owner · was admin");
    expect(describeDetail({ key: "auto-lock", value: "5m" })).toBe("auto-lock = 5m");
  });

  it("keeps unknown keys readable", () => {
    expect(describeDetail({ some_thing: 3, empty: null })).toBe("some thing: 3");
  });
});
