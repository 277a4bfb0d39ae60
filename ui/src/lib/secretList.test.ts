import { describe, expect, it } from "vitest";
import { decodeSecretList } from "./secretList";

const T = 1_764_000_000_000;

describe("decoding the compact key list", () => {
  it("fills in the usual values and names every environment", () => {
    const [row] = decodeSecretList({
      environments: ["development", "staging", "production"],
      secrets: [{ name: "API_KEY", cells: [[2, T, null, 0, 0], null, [5, T + 1, null, 0, 2]] }],
    });
    expect(row).toEqual({
      name: "API_KEY",
      description: "",
      kind: "string",
      scope: "workspace",
      deleted_at: null,
      purge_at: null,
      environments: [
        { environment: "development", state: "set", version: 2, updated_at: T, expires_at: null, expiring_soon: false, rotation_due: false, same_as: [], exposed_to: [] },
        { environment: "staging", state: "missing", version: null, updated_at: null, expires_at: null, expiring_soon: false, rotation_due: false, same_as: [], exposed_to: [] },
        { environment: "production", state: "set", version: 5, updated_at: T + 1, expires_at: null, expiring_soon: false, rotation_due: false, same_as: [], exposed_to: [] },
      ],
    });
  });

  it("keeps what differs from the usual", () => {
    const [row] = decodeSecretList({
      environments: ["development", "production"],
      secrets: [
        {
          name: "CERT",
          description: "TLS",
          kind: "multiline",
          scope: "user",
          deleted_at: T + 7,
          purge_at: T + 8,
          cells: [
            [3, T, T + 9, 1, 0],
            [4, T, T + 10, 2 | 4, 1],
          ],
        },
      ],
    });
    expect(row).toMatchObject({ description: "TLS", kind: "multiline", scope: "user", deleted_at: T + 7, purge_at: T + 8 });
    expect(row!.environments[0]).toMatchObject({ state: "expired", expires_at: T + 9, expiring_soon: false, rotation_due: false });
    expect(row!.environments[1]).toMatchObject({ state: "set", expires_at: T + 10, expiring_soon: true, rotation_due: true });
  });

  it("names the other environments holding an equal value", () => {
    const [row] = decodeSecretList({
      environments: ["a", "b", "c", "d"],
      secrets: [{ name: "TOKEN", cells: [[1, T, null, 0, 0], [1, T, null, 0, 1], [1, T, null, 0, 1], [1, T, null, 0, 1]] }],
    });
    expect(row!.environments.map((e) => e.same_as)).toEqual([[], ["c", "d"], ["b", "d"], ["b", "c"]]);
  });

  it("reads a short cell array as missing in the remaining environments", () => {
    const [row] = decodeSecretList({ environments: ["a", "b"], secrets: [{ name: "X", cells: [[1, T, null, 0, 0]] }] });
    expect(row!.environments.map((e) => e.state)).toEqual(["set", "missing"]);
  });

  it("decodes an empty list", () => {
    expect(decodeSecretList({ environments: [], secrets: [] })).toEqual([]);
  });
});
