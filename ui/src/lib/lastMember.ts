// The member name last unlocked on this computer, to prefill the unlock screen. A name
// is not a secret; no passphrase or key is ever stored by the UI.

const KEY = "coffer.lastMember";

export function lastMember(): string {
  try {
    return localStorage.getItem(KEY) ?? "";
  } catch {
    return "";
  }
}

export function rememberMember(name: string): void {
  try {
    localStorage.setItem(KEY, name);
  } catch {
    // storage unavailable: nothing to prefill next time
  }
}
