// Locks after `limitMs` without keyboard, mouse, wheel or touch activity in the window.
// The backend has its own timer on commands; activity seen here is reported to it
// (at most every 30 s) so both agree that a member reading a screen is present.

import { useEffect, useRef } from "react";
import { api } from "../../lib/ipc";

const ACTIVITY = ["mousemove", "mousedown", "keydown", "wheel", "touchstart", "focus"] as const;

const REPORT_EVERY_MS = 30_000;

/** Best effort: a failed report only means the backend may lock a little early. */
function reportToBackend(): void {
  try {
    void api.noteActivity().catch(() => undefined);
  } catch {
    // No backend (component tests): nothing to tell.
  }
}

export function useIdleLock(
  limitMs: number | null,
  onIdle: () => void,
  checkEveryMs = 1000,
  reportActivity: () => void = reportToBackend,
): void {
  const last = useRef(Date.now());
  const reported = useRef(0);
  const reportRef = useRef(reportActivity);
  reportRef.current = reportActivity;
  const onIdleRef = useRef(onIdle);
  onIdleRef.current = onIdle;

  useEffect(() => {
    if (!limitMs) return;
    last.current = Date.now();
    const touch = () => {
      last.current = Date.now();
      if (last.current - reported.current >= REPORT_EVERY_MS) {
        reported.current = last.current;
        reportRef.current();
      }
    };
    ACTIVITY.forEach((e) => window.addEventListener(e, touch, { passive: true, capture: true }));
    const timer = setInterval(() => {
      if (Date.now() - last.current >= limitMs) onIdleRef.current();
    }, checkEveryMs);
    return () => {
      ACTIVITY.forEach((e) => window.removeEventListener(e, touch, { capture: true }));
      clearInterval(timer);
    };
  }, [limitMs, checkEveryMs]);
}
