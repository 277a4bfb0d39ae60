// Changes to a protected environment need the passphrase again: the backend refuses
// with `auth` and a message naming the protection; the UI asks, confirms and retries
// the same change once.

import { AppError, toAppError } from "./ipc";

export function needsPassphraseAgain(e: unknown): boolean {
  const err = toAppError(e);
  return err.code === "auth" && /protected/i.test(err.message);
}

/**
 * Runs `change`; when a protected environment refuses it, calls `confirm` (which asks
 * for the passphrase and resolves true once the backend accepted it) and runs `change`
 * again. Any other error, or a cancelled prompt, is thrown.
 */
export async function withPassphraseAgain<T>(
  change: () => Promise<T>,
  confirm: (why: string) => Promise<boolean>,
): Promise<T> {
  try {
    return await change();
  } catch (e) {
    if (!needsPassphraseAgain(e)) throw e;
    const ok = await confirm(toAppError(e).message);
    if (!ok) throw new AppError("auth", "cancelled: the change needs your passphrase");
    return change();
  }
}
