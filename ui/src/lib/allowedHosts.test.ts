import { describe, expect, it } from "vitest";
import { allowedHostsProblem, formatAllowedHosts, parseAllowedHosts } from "./allowedHosts";

describe("allowed hosts", () => {
  it("splits on commas, spaces and lines, once each", () => {
    expect(parseAllowedHosts(" api.stripe.com, *.example.com\n127.0.0.1:8443  api.stripe.com ")).toEqual([
      "api.stripe.com",
      "*.example.com",
      "127.0.0.1:8443",
    ]);
    expect(parseAllowedHosts("  ,  ")).toEqual([]);
  });

  it("catches a pasted URL before the backend does", () => {
    expect(allowedHostsProblem("https://api.stripe.com/v1")).toBe("Give api.stripe.com without the scheme.");
    expect(allowedHostsProblem("api.stripe.com/v1")).toMatch(/not a host name/);
    expect(allowedHostsProblem("user@api.stripe.com")).toMatch(/not a host name/);
    expect(allowedHostsProblem("api.stripe.com, [::1]:8080")).toBeNull();
  });

  it("formats a list as it is typed", () => {
    expect(formatAllowedHosts(["a.com", "*.b.com"])).toBe("a.com, *.b.com");
  });
});
