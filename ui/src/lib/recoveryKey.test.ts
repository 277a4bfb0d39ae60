import { describe, expect, it } from "vitest";
import { pickPositions, sameWord } from "./recoveryKey";

describe("the recovery key grid and check", () => {
  it("asks one word from each third, wherever the random numbers fall", () => {
    for (const seq of [[0, 0, 0], [7, 255, 13], [200, 8, 99]]) {
      const it = seq[Symbol.iterator]();
      const [a, b, c] = pickPositions(24, () => it.next().value as number);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThan(8);
      expect(b).toBeGreaterThanOrEqual(8);
      expect(b).toBeLessThan(16);
      expect(c).toBeGreaterThanOrEqual(16);
      expect(c).toBeLessThan(24);
    }
    const [a, b, c] = pickPositions();
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it("accepts a word in any case with spaces around, and nothing else", () => {
    expect(sameWord("  Abandon ", "abandon")).toBe(true);
    expect(sameWord("abandons", "abandon")).toBe(false);
    expect(sameWord("", "abandon")).toBe(false);
  });
});
