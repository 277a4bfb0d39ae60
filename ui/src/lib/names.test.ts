import { describe, expect, it } from "vitest";
import { nameProblem } from "./names";

describe("names", () => {
  it("accepts the backend's alphabet", () => {
    expect(nameProblem("secret", "PAYMENTS_API_KEY")).toBeNull();
    expect(nameProblem("secret", "payments-api.key")).toBeNull();
  });
  it("explains what is wrong", () => {
    expect(nameProblem("secret", "")).toBe("Enter a secret name.");
    expect(nameProblem("secret", "MY KEY")).toContain("a space is not allowed");
    expect(nameProblem("member", "bob!")).toContain("“!” is not allowed");
    expect(nameProblem("member", "x".repeat(65))).toContain("at most 64");
    expect(nameProblem("secret", "x".repeat(128))).toBeNull();
  });
});
