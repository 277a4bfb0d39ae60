// Copying: references as they are, secret values through the backend.
//
// A reference (`coffer://project/NAME`), an audit export or a command carries nothing
// secret and is written by the webview. A revealed value goes to the backend (`copyValue`), which
// puts it on the system clipboard kept out of clipboard managers' history, and clears
// it after the delay, on lock, when the window closes and when the app quits — only if
// the clipboard still holds it. The webview keeps just the countdown for the UI.

import { api } from "./ipc";

let clearsAt: number | null = null;
let forgetTimer: ReturnType<typeof setTimeout> | null = null;

function fallbackCopy(text: string): void {
  // Older WebKit without the async Clipboard API: a throw-away, off-screen textarea.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    document.execCommand("copy");
  } finally {
    area.value = "";
    area.remove();
  }
}

/** Puts `text` (never a secret value) on the clipboard. */
export async function copyText(text: string): Promise<void> {
  try {
    if (!navigator.clipboard) throw new Error("no async clipboard");
    await navigator.clipboard.writeText(text);
  } catch {
    fallbackCopy(text);
  }
}

/** Copies a secret value through the backend; resolves to the ms until it is cleared. */
export async function copySecret(text: string): Promise<number> {
  const { clearAfterMs } = await api.copyValue(text);
  if (forgetTimer) clearTimeout(forgetTimer);
  clearsAt = Date.now() + clearAfterMs;
  forgetTimer = setTimeout(forgetCopiedSecret, clearAfterMs);
  return clearAfterMs;
}

/** Drops the countdown (on lock: the backend has already cleared the clipboard). */
export function forgetCopiedSecret(): void {
  if (forgetTimer) clearTimeout(forgetTimer);
  forgetTimer = null;
  clearsAt = null;
}

/** Whether a copied secret is still waiting to be cleared. */
export function hasPendingClear(): boolean {
  return clearsAt !== null;
}

/** Whole seconds until the copied secret is cleared, or null when none waits. */
export function secondsUntilClear(now: number = Date.now()): number | null {
  return clearsAt === null ? null : Math.max(0, Math.ceil((clearsAt - now) / 1000));
}
