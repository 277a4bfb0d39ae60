import { Icon, type IconName } from "../../components/Icon";
import { Logo } from "../../components/Logo";
import type { TeamState } from "../../lib/types";
import type { Screen } from "./session";
import { TeamStatus } from "./TeamStatus";

interface NavItem {
  screen: Screen["name"];
  label: string;
  icon: IconName;
}

export function Sidebar({
  screen,
  onNavigate,
  mayAudit,
  team = null,
  onLock,
}: {
  screen: Screen;
  onNavigate: (s: Screen) => void;
  mayAudit: boolean;
  team?: TeamState | null;
  onLock: () => void;
}) {
  const items: NavItem[] = [
    { screen: "secrets", label: "Secrets", icon: "key" },
    ...(mayAudit ? [{ screen: "audit", label: "Audit", icon: "audit" } as NavItem] : []),
    { screen: "members", label: "Members & roles", icon: "users" },
    { screen: "settings", label: "Settings", icon: "settings" },
  ];
  const active = screen.name === "history" ? "secrets" : screen.name;
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="sidebar-brand">
        <Logo />
        <span>Coffer</span>
      </div>
      <ul className="sidebar-nav">
        {items.map((item) => (
          <li key={item.screen}>
            <button
              type="button"
              className={`nav-item${active === item.screen ? " active" : ""}`}
              aria-current={active === item.screen ? "page" : undefined}
              onClick={() => onNavigate({ name: item.screen } as Screen)}
            >
              <Icon name={item.icon} />
              {item.label}
            </button>
          </li>
        ))}
      </ul>
      <div className="sidebar-footer">
        <TeamStatus team={team} onOpen={() => onNavigate({ name: "settings", tab: "team" })} />
        <button type="button" className="nav-item" onClick={onLock} aria-label="Lock">
          <Icon name="lock" />
          Lock
        </button>
      </div>
    </nav>
  );
}
