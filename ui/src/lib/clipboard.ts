// Copying: references as they are, secret values with a clear-after timer.
//
// A revealed value copied to the clipboard is wiped after 30 s, or at once when the
// vault locks. If the clipboard can be read and now holds something else (the user
// copied over it), it is left alone.

export const CLEAR_AFTER_MS = 30_000;

interface PendingClear {
  text: string;
  timer: ReturnType<typeof setTimeout>;
}

let pending: PendingClear | null = null;

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

/** Puts `text` on the clipboard. */
export async function copyText(text: string): Promise<void> {
  try {
    if (!navigator.clipboard) throw new Error("no async clipboard");
    await navigator.clipboard.writeText(text);
  } catch {
    fallbackCopy(text);
  }
}

async function clearIfStill(text: string): Promise<void> {
  let current: string | null = null;
  try {
    current = (await navigator.clipboard?.readText?.()) ?? null;
  } catch {
    current = null; // unreadable: clear anyway, a leftover secret is the worse outcome
  }
  if (current === null || current === text) await copyText("");
}

/** Copies a secret value and clears the clipboard `clearAfterMs` later. */
export async function copySecret(text: string, clearAfterMs: number = CLEAR_AFTER_MS): Promise<void> {
  if (pending) clearTimeout(pending.timer);
  await copyText(text);
  const entry: PendingClear = {
    text,
    timer: setTimeout(() => {
      if (pending === entry) pending = null;
      void clearIfStill(text);
    }, clearAfterMs),
  };
  pending = entry;
}

/** Clears a copied secret now (on lock); does nothing when none is waiting. */
export async function clearCopiedSecretNow(): Promise<void> {
  if (!pending) return;
  const { text, timer } = pending;
  clearTimeout(timer);
  pending = null;
  await clearIfStill(text);
}

/** Whether a copied secret is still waiting to be cleared. */
export function hasPendingClear(): boolean {
  return pending !== null;
}
