import type { Role } from "../../lib/types";

function Picker({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string | null;
  options: string[];
  onChange: (v: string) => void;
}) {
  return (
    <label className="picker">
      <span className="picker-label">{label}</span>
      <select
        aria-label={label}
        className="picker-select"
        value={value ?? ""}
        onChange={(e) => onChange(e.target.value)}
      >
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}

export function TopBar(props: {
  member: string;
  role: Role | null;
  workspaces: string[];
  workspace: string | null;
  onWorkspace: (w: string) => void;
  projects: string[];
  project: string | null;
  onProject: (p: string) => void;
}) {
  return (
    <header className="topbar">
      <div className="topbar-pickers">
        <Picker label="Workspace" value={props.workspace} options={props.workspaces} onChange={props.onWorkspace} />
        <span className="topbar-sep" aria-hidden="true">
          /
        </span>
        <Picker label="Project" value={props.project} options={props.projects} onChange={props.onProject} />
      </div>
      <div className="topbar-member" aria-label="Signed in member">
        <span className="avatar" aria-hidden="true">
          {props.member.charAt(0).toUpperCase()}
        </span>
        <span className="member-name">{props.member}</span>
        {props.role ? <span className="member-role">{props.role}</span> : null}
      </div>
    </header>
  );
}
