import { renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useIdleLock } from "./useIdleLock";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("auto-lock on inactivity", () => {
  it("fires after the limit without activity", () => {
    const onIdle = vi.fn();
    renderHook(() => useIdleLock(60_000, onIdle));
    vi.advanceTimersByTime(59_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalled();
  });

  it("keyboard and mouse activity push it back", () => {
    const onIdle = vi.fn();
    renderHook(() => useIdleLock(60_000, onIdle));
    vi.advanceTimersByTime(50_000);
    window.dispatchEvent(new Event("keydown"));
    vi.advanceTimersByTime(50_000);
    window.dispatchEvent(new Event("mousemove"));
    vi.advanceTimersByTime(50_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10_000);
    expect(onIdle).toHaveBeenCalled();
  });

  it("does nothing without a limit", () => {
    const onIdle = vi.fn();
    renderHook(() => useIdleLock(null, onIdle));
    vi.advanceTimersByTime(10 * 60_000);
    expect(onIdle).not.toHaveBeenCalled();
  });

  it("reports activity to the backend at most every 30 s", () => {
    const report = vi.fn();
    renderHook(() => useIdleLock(60_000, vi.fn(), 1000, report));
    window.dispatchEvent(new Event("keydown"));
    window.dispatchEvent(new Event("mousemove"));
    expect(report).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(31_000);
    window.dispatchEvent(new Event("mousemove"));
    expect(report).toHaveBeenCalledTimes(2);
  });
});
