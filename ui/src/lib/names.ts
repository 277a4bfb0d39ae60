// The backend's naming rule (secrets, members, workspaces, projects), checked as the
// user types so mistakes show before a round trip. The backend checks again.

const NAME = /^[A-Za-z0-9_.-]+$/;

export function nameProblem(kind: "secret" | "member", raw: string): string | null {
  const max = kind === "secret" ? 128 : 64;
  if (raw.length === 0) return `Enter a ${kind} name.`;
  if (raw.length > max) return `A ${kind} name has at most ${max} characters.`;
  const bad = [...raw].find((c) => !NAME.test(c));
  if (bad !== undefined) {
    const shown = bad === " " ? "a space" : `“${bad}”`;
    return `${shown} is not allowed: use letters, digits, _ - or .`;
  }
  return null;
}
