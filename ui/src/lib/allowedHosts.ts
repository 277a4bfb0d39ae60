// Allowed hosts as typed in a dialog: one text field, hosts separated by commas or
// spaces. The backend parses and normalises each one (IDNA, ports, wildcards) and
// refuses what is not a host; this only splits the text and catches the common
// mistake of pasting a URL, so the hint shows before a round trip.

export const ALLOWED_HOSTS_HINT =
  "Where a test request may send this secret, separated by commas: api.stripe.com, *.example.com (its subdomains), 127.0.0.1:8443. Members who may reveal can send anywhere.";

export function parseAllowedHosts(text: string): string[] {
  const hosts = text
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter((h) => h !== "");
  return [...new Set(hosts)];
}

export function allowedHostsProblem(text: string): string | null {
  for (const host of parseAllowedHosts(text)) {
    if (host.includes("://")) return `Give ${host.split("://")[1]?.split("/")[0] ?? "the host"} without the scheme.`;
    if (/[/?#@]/.test(host)) return `${host} is not a host name: leave out the path and user.`;
  }
  return null;
}

export function formatAllowedHosts(hosts: readonly string[]): string {
  return hosts.join(", ");
}
