// Where a secret is used, as recorded by `coffer check --record`: shown in History and
// in the delete confirmation, so nobody deletes a credential a definition still needs.

import type { ReactNode } from "react";
import { api } from "../../lib/ipc";
import { useLoad } from "../../lib/useLoad";
import { useSession } from "../shell/session";

export function UsageList({ name, intro, empty }: { name: string; intro: ReactNode; empty?: ReactNode }) {
  const session = useSession();
  const usages = useLoad(() => api.secretUsages(session.scope, name), [session.workspace, session.project, name]);
  const found = usages.data ?? [];
  if (found.length === 0) {
    return empty && usages.data ? <p className="field-hint">{empty}</p> : null;
  }
  return (
    <div aria-label={`Where ${name} is used`}>
      <p>{intro}</p>
      <ul className="usages">
        {found.map((u) => (
          <li key={`${u.file}:${u.line}:${u.column}`}>
            {u.file}:{u.line}:{u.column}
            {u.environment ? ` (${u.environment})` : ""}
          </li>
        ))}
      </ul>
    </div>
  );
}
