import { describe, expect, it, vi } from "vitest";
import { AppError } from "./ipc";
import { needsPassphraseAgain, withPassphraseAgain } from "./reauth";

const protectedError = new AppError(
  "auth",
  "environment 'production' is protected: confirm your passphrase to change it",
);

describe("passphrase again for protected environments", () => {
  it("recognises only the protected refusal", () => {
    expect(needsPassphraseAgain(protectedError)).toBe(true);
    expect(needsPassphraseAgain(new AppError("auth", "the vault is locked"))).toBe(false);
    expect(needsPassphraseAgain(new AppError("conflict", "protected"))).toBe(false);
  });

  it("retries once after the passphrase is confirmed", async () => {
    const change = vi.fn().mockRejectedValueOnce(protectedError).mockResolvedValueOnce("v2");
    const confirm = vi.fn(async () => true);
    await expect(withPassphraseAgain(change, confirm)).resolves.toBe("v2");
    expect(change).toHaveBeenCalledTimes(2);
    expect(confirm).toHaveBeenCalledWith(protectedError.message);
  });

  it("gives up when the prompt is cancelled", async () => {
    const change = vi.fn().mockRejectedValue(protectedError);
    await expect(withPassphraseAgain(change, async () => false)).rejects.toMatchObject({
      code: "auth",
      message: expect.stringContaining("cancelled"),
    });
    expect(change).toHaveBeenCalledTimes(1);
  });

  it("passes other errors straight through without asking", async () => {
    const confirm = vi.fn(async () => true);
    const change = vi.fn().mockRejectedValue(new AppError("conflict", "version mismatch"));
    await expect(withPassphraseAgain(change, confirm)).rejects.toMatchObject({ code: "conflict" });
    expect(confirm).not.toHaveBeenCalled();
  });
});
