import { describe, expect, it, vi } from "vitest";

vi.mock("../bindings", () => ({
  commands: {
    vaultStatus: vi.fn(async () => ({ path: "/v.db", exists: true, unlocked: false, member: null, change: 3 })),
    listProjects: vi.fn(async () => ({ status: "ok", data: [{ name: "default" }] })),
    showSecret: vi.fn(async () => ({
      status: "error",
      error: { code: "not_found", message: "secret 'X' not found" },
    })),
    lock: vi.fn(async () => {
      throw new Error("ipc channel closed");
    }),
    listSecrets: vi.fn(async () => ({
      status: "error",
      error: { code: "auth", message: "the vault is locked" },
    })),
    roleMatrix: vi.fn(async () => [{ role: "owner", capabilities: ["list"] }]),
  },
}));

import { AppError, api, errorMessage, onVaultLocked, toAppError, unwrap } from "./ipc";

describe("the ipc facade", () => {
  it("returns the data of an ok result", async () => {
    await expect(api.listProjects("default")).resolves.toEqual([{ name: "default" }]);
  });

  it("passes plain (non-result) returns through", async () => {
    await expect(api.vaultStatus()).resolves.toMatchObject({ exists: true, change: 3 });
    await expect(api.roleMatrix()).resolves.toEqual([{ role: "owner", capabilities: ["list"] }]);
  });

  it("throws an AppError with the backend's code and message", async () => {
    const err = await api.showSecret({ workspace: "default", project: "default" }, "X").catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("not_found");
    expect(err.message).toBe("secret 'X' not found");
  });

  it("turns a thrown Error into an internal AppError", async () => {
    const err = await api.lock().catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("internal");
    expect(err.message).toBe("ipc channel closed");
  });

  it("maps unknown codes to internal and keeps known ones", () => {
    expect(toAppError({ code: "conflict", message: "m" }).code).toBe("conflict");
    expect(toAppError({ code: "weird", message: "m" }).code).toBe("internal");
    expect(toAppError("boom").message).toBe("boom");
    expect(toAppError(undefined).code).toBe("internal");
  });

  it("tells listeners when a command finds the vault locked", async () => {
    const seen = vi.fn();
    const stop = onVaultLocked(seen);
    const err = await api.listSecrets({ workspace: "w", project: "p" }, false).catch((e) => e);
    expect(err.isLocked).toBe(true);
    expect(seen).toHaveBeenCalledTimes(1);
    stop();
    await api.listSecrets({ workspace: "w", project: "p" }, false).catch(() => undefined);
    expect(seen).toHaveBeenCalledTimes(1);
  });

  it("unwrap works on a bare promise too", async () => {
    await expect(unwrap(Promise.resolve({ status: "ok" as const, data: 5 }))).resolves.toBe(5);
    await expect(unwrap(Promise.reject({ code: "denied", message: "no" }))).rejects.toMatchObject({
      code: "denied",
    });
  });

  it("phrases messages as sentences", () => {
    expect(errorMessage(new AppError("invalid", "name is empty"))).toBe("Name is empty.");
    expect(errorMessage(new AppError("invalid", "Done!"))).toBe("Done!");
  });
});
