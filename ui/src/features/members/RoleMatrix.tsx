import type { Capability, RoleRow } from "../../lib/types";

export const CAPABILITIES: { key: Capability; label: string; meaning: string }[] = [
  { key: "list", label: "List", meaning: "see names and metadata" },
  { key: "use", label: "Use", meaning: "resolve values into a run or request, never displayed" },
  { key: "reveal", label: "Reveal", meaning: "display a value in plaintext" },
  { key: "write", label: "Write", meaning: "create, update, rotate, roll back" },
  { key: "delete", label: "Delete", meaning: "delete, restore, purge" },
  { key: "audit", label: "Audit", meaning: "read and export the audit trail" },
  { key: "manage", label: "Manage", meaning: "members, roles and settings" },
];

export function RoleMatrix({ rows }: { rows: RoleRow[] }) {
  return (
    <section className="card" aria-labelledby="matrix-title">
      <header className="card-header">
        <h2 id="matrix-title">What each role can do</h2>
        <span className="muted">Use is not reveal: only owners see plaintext.</span>
      </header>
      <table className="table matrix" aria-label="Capability matrix">
        <thead>
          <tr>
            <th scope="col">Role</th>
            {CAPABILITIES.map((c) => (
              <th key={c.key} scope="col" className="align-center" title={c.meaning}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.role}>
              <th scope="row">{r.role}</th>
              {CAPABILITIES.map((c) => {
                const yes = r.capabilities.includes(c.key);
                return (
                  <td key={c.key} className="align-center">
                    {yes ? (
                      <span className="tick" aria-label={`${r.role} can ${c.key}`}>
                        ✓
                      </span>
                    ) : (
                      <span className="no" aria-label={`${r.role} cannot ${c.key}`}>
                        ·
                      </span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <dl className="legend">
        {CAPABILITIES.map((c) => (
          <div key={c.key}>
            <dt>{c.label}</dt>
            <dd>{c.meaning}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
