// Pure helpers for the recovery key's one showing: the three words asked back, as the
// CLI asks them (one from each third, so a copy missing a whole column is caught).

export const RECOVERY_WORDS = 24;

/** Three different positions (0-based), one from each third of the key. `random`
 * gives integers in [0, 8); by default from the platform's secure generator. */
export function pickPositions(count = RECOVERY_WORDS, random: () => number = secureEighth): [number, number, number] {
  const third = Math.floor(count / 3);
  return [0, 1, 2].map((k) => k * third + (random() % third)) as [number, number, number];
}

function secureEighth(): number {
  const b = new Uint8Array(1);
  crypto.getRandomValues(b);
  return b[0]!;
}

/** Whether a typed word is the expected one: any case, spaces around ignored. */
export function sameWord(typed: string, expected: string): boolean {
  return typed.trim().toLowerCase() === expected.toLowerCase();
}
