import { act, renderHook } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../bindings", () => ({
  commands: { streamSecrets: vi.fn() },
}));

// A channel without a webview: the test plays the backend's pieces.
vi.mock("@tauri-apps/api/core", () => ({
  Channel: class<T> {
    onmessage: (message: T) => void = () => undefined;
  },
}));

import type { SecretList_Serialize } from "../../bindings";
import { commands } from "../../bindings";
import { useSecretList } from "./useSecretList";

const streamSecrets = vi.mocked(commands.streamSecrets);

interface Call {
  send: (names: string[]) => void;
  finish: (total: number) => Promise<void>;
  fail: () => Promise<void>;
}

const piece = (names: string[]): SecretList_Serialize => ({
  environments: ["development"],
  secrets: names.map((name) => ({ name, cells: [[1, 1_700_000_000_000, null, 0, 0]] })),
});

/** Each streamSecrets call, for the test to answer. */
function backend(): Call[] {
  const calls: Call[] = [];
  streamSecrets.mockImplementation((_scope, _deleted, channel) => {
    const ch = channel as unknown as { onmessage: (m: SecretList_Serialize) => void };
    return new Promise((resolve) => {
      calls.push({
        send: (names) => act(() => ch.onmessage(piece(names))),
        finish: (total) =>
          act(async () => {
            resolve({ status: "ok", data: total });
          }),
        fail: () =>
          act(async () => {
            resolve({ status: "error", error: { code: "auth", message: "the vault is locked" } });
          }),
      });
    });
  });
  return calls;
}

const names = (data: { name: string }[] | undefined) => data?.map((s) => s.name);

describe("useSecretList", () => {
  beforeEach(() => {
    streamSecrets.mockReset();
  });

  it("shows a new list's first piece at once and the whole list when the last piece is in", async () => {
    const calls = backend();
    const { result } = renderHook(() => useSecretList({ workspace: "w", project: "p" }, false, 0));
    expect(result.current.data).toBeUndefined();
    calls[0]!.send(["A", "B"]);
    expect(names(result.current.data)).toEqual(["A", "B"]);
    expect(result.current.complete).toBe(false);
    expect(result.current.loading).toBe(true);
    // The answer may come before the last piece: the list is whole only with all of it.
    await calls[0]!.finish(4);
    expect(result.current.complete).toBe(false);
    calls[0]!.send(["C", "D"]);
    expect(names(result.current.data)).toEqual(["A", "B", "C", "D"]);
    expect(result.current.complete).toBe(true);
    expect(result.current.loading).toBe(false);
  });

  it("keeps the list on screen through a reload until the new one is whole", async () => {
    const calls = backend();
    const { result, rerender } = renderHook(({ revision }) => useSecretList({ workspace: "w", project: "p" }, false, revision), {
      initialProps: { revision: 0 },
    });
    calls[0]!.send(["A"]);
    await calls[0]!.finish(1);
    rerender({ revision: 1 });
    calls[1]!.send(["A", "B"]);
    expect(names(result.current.data)).toEqual(["A"]);
    await calls[1]!.finish(3);
    calls[1]!.send(["C"]);
    expect(names(result.current.data)).toEqual(["A", "B", "C"]);
    expect(result.current.complete).toBe(true);
  });

  it("ignores a superseded list and reports a failure", async () => {
    const calls = backend();
    const { result, rerender } = renderHook(({ project }) => useSecretList({ workspace: "w", project }, false, 0), {
      initialProps: { project: "p" },
    });
    rerender({ project: "q" });
    calls[0]!.send(["OLD"]);
    await calls[0]!.finish(1);
    expect(result.current.data).toBeUndefined();
    await calls[1]!.fail();
    expect(result.current.error?.isLocked).toBe(true);
    expect(result.current.loading).toBe(false);
  });

  it("an empty project is a whole, empty list", async () => {
    const calls = backend();
    const { result } = renderHook(() => useSecretList({ workspace: "w", project: "p" }, false, 0));
    await calls[0]!.finish(0);
    expect(result.current.data).toEqual([]);
    expect(result.current.complete).toBe(true);
  });
});
