// A passphrase strength estimate for the meter on first run and when adding a member.
//
// Deliberately simple and conservative: the character pool and length give an upper
// bound in bits, then repeats, sequences, keyboard runs and well-known passwords take
// bits away. Words separated by spaces are scored as words (about 2.2 bits a letter),
// so a long diceware-style passphrase rates well without symbols and a short one does not.

/** The shortest passphrase the backend accepts for a new member. */
export const MIN_PASSPHRASE_LENGTH = 10;

export type StrengthScore = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  score: StrengthScore;
  label: "Too short" | "Very weak" | "Weak" | "Fair" | "Strong" | "Very strong";
  /** About how many bits of guessing it would take. */
  bits: number;
  /** One piece of advice, or null when there is nothing to add. */
  advice: string | null;
}

const COMMON = [
  "password",
  "passphrase",
  "qwerty",
  "azerty",
  "letmein",
  "welcome",
  "admin",
  "secret",
  "coffer",
  "iloveyou",
  "monkey",
  "dragon",
  "football",
  "baseball",
  "master",
  "login",
  "abc123",
  "123456",
  "changeme",
  "trustno1",
];

const RUNS = ["abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

function poolSize(p: string): number {
  let pool = 0;
  if (/[a-z]/.test(p)) pool += 26;
  if (/[A-Z]/.test(p)) pool += 26;
  if (/[0-9]/.test(p)) pool += 10;
  if (/[ ]/.test(p)) pool += 1;
  if (/[^a-zA-Z0-9 ]/.test(p)) pool += 33;
  return Math.max(pool, 1);
}

/** Characters continuing a run of three (aaa, abc, 321, qwe) add almost nothing. */
function effectiveLength(p: string): number {
  const lower = p.toLowerCase();
  let length = 0;
  for (let i = 0; i < lower.length; i++) {
    const [a, b, c] = [lower[i - 2], lower[i - 1], lower[i]!];
    if (a === undefined || b === undefined) {
      length += 1;
      continue;
    }
    const repeat = a === b && b === c;
    const inRun = RUNS.some((run) => {
      const [x, y, z] = [run.indexOf(a), run.indexOf(b), run.indexOf(c)];
      return x >= 0 && y >= 0 && z >= 0 && y - x === z - y && Math.abs(y - x) === 1;
    });
    length += repeat || inRun ? 0.25 : 1;
  }
  return length;
}

function label(score: StrengthScore): Strength["label"] {
  return (["Very weak", "Weak", "Fair", "Strong", "Very strong"] as const)[score];
}

export function passphraseStrength(passphrase: string): Strength {
  if (passphrase.length === 0) {
    return { score: 0, label: "Too short", bits: 0, advice: `Use at least ${MIN_PASSPHRASE_LENGTH} characters.` };
  }
  let bits = effectiveLength(passphrase) * Math.log2(poolSize(passphrase));
  const words = passphrase.trim().split(/\s+/);
  if (words.length >= 2) {
    // Words are not random letters: about 2.2 bits per character (a diceware word of
    // 5.9 characters gives 12.9 bits), plus a little for each extra character class.
    const extras = [/[A-Z]/, /[0-9]/, /[^a-zA-Z0-9 ]/].filter((re) => re.test(passphrase)).length;
    bits = Math.min(bits, effectiveLength(passphrase) * 2.2 + extras * 4);
  }
  const lower = passphrase.toLowerCase();
  const common = COMMON.find((w) => lower.includes(w));
  // A well-known word counts as one guess from a short list (~10 bits), not as letters.
  if (common) bits -= Math.max(0, common.length * Math.log2(poolSize(passphrase)) - 10);
  bits = Math.max(0, Math.round(bits));

  const score: StrengthScore = bits < 28 ? 0 : bits < 40 ? 1 : bits < 56 ? 2 : bits < 72 ? 3 : 4;
  let advice: string | null = null;
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    return { score: 0, label: "Too short", bits, advice: `Use at least ${MIN_PASSPHRASE_LENGTH} characters.` };
  }
  if (common) advice = `Avoid well-known words like “${common}”.`;
  else if (score < 3) advice = "Add a few more unrelated words — length beats symbols.";
  return { score, label: label(score), bits, advice };
}

/** Whether a new passphrase may be submitted: long enough and at least fair. */
export function isAcceptable(strength: Strength): boolean {
  return strength.label !== "Too short" && strength.score >= 2;
}
