import { describe, expect, it } from "vitest";
import { isAcceptable, passphraseStrength } from "./strength";

describe("passphrase strength", () => {
  it("refuses anything under ten characters", () => {
    const s = passphraseStrength("Xy7$kq2!");
    expect(s.label).toBe("Too short");
    expect(isAcceptable(s)).toBe(false);
    expect(passphraseStrength("").label).toBe("Too short");
  });

  it("rates repeats and keyboard runs as very weak", () => {
    expect(passphraseStrength("aaaaaaaaaaaa").score).toBe(0);
    expect(passphraseStrength("1234567890").score).toBe(0);
    expect(passphraseStrength("qwertyuiop").score).toBe(0);
  });

  it("punishes well-known passwords even when padded", () => {
    const s = passphraseStrength("Password2024");
    expect(s.score).toBeLessThanOrEqual(1);
    expect(s.advice).toContain("password");
    expect(isAcceptable(s)).toBe(false);
  });

  it("rates a long multi-word passphrase as strong", () => {
    const s = passphraseStrength("correct horse battery staple orbit");
    expect(s.score).toBeGreaterThanOrEqual(3);
    expect(isAcceptable(s)).toBe(true);
  });

  it("rates a long random mix as very strong", () => {
    const s = passphraseStrength("t9#Vq2!mLz8@pR4w");
    expect(s.score).toBe(4);
    expect(s.advice).toBeNull();
  });

  it("gets stronger as it gets longer", () => {
    const a = passphraseStrength("brisk otter");
    const b = passphraseStrength("brisk otter lamp");
    const c = passphraseStrength("brisk otter lamp quarry");
    expect(a.bits).toBeLessThan(b.bits);
    expect(b.bits).toBeLessThan(c.bits);
  });
});

describe("passphrase strength of ordinary words", () => {
  it("does not punish letter pairs that words are full of", () => {
    expect(passphraseStrength("correct horse battery staple").label).toBe("Strong");
    expect(passphraseStrength("brisk otter").score).toBeLessThan(2);
  });
});
