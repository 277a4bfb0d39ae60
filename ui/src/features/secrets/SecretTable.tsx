// The project's key list: one row per secret, one column per environment. Virtualised,
// so 10,000 rows render as fast as ten. Holds no values: the backend never sends any.

import { memo, useMemo } from "react";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { Icon } from "../../components/Icon";
import { Menu, type MenuItem } from "../../components/Menu";
import { VirtualTable, type Column } from "../../components/VirtualTable";
import { daysLeft, describeEnv, formatDateTime, formatRelative, lastRotated, secretBadges } from "../../lib/format";
import type { Capability, EnvironmentInfo, Secret } from "../../lib/types";

export type RowAction = "update" | "history" | "copy-reference" | "test" | "reveal" | "delete" | "restore";

function EnvCellView({ secret, env, now }: { secret: Secret; env: string; now: number }) {
  const status = secret.environments.find((e) => e.environment === env);
  if (!status) return <span className="env-cell muted">—</span>;
  const cell = describeEnv(status, now);
  return (
    <span className="env-cell" title={cell.description} aria-label={`${env}: ${cell.description}`}>
      <span className={`env-state env-${cell.tone}`}>
        <span className="dot" aria-hidden="true" />
        {cell.label}
      </span>
      {cell.hint ? <span className={`env-hint${cell.tone === "warning" ? " warn" : ""}`}>{cell.hint}</span> : null}
    </span>
  );
}

const nameOf = (s: Secret) => s.name;
const classOf = (s: Secret) => (s.deleted_at != null ? "row-deleted" : undefined);

/** Memoised, so a keystroke in the search box renders the table only once the filtered list is ready. */
export const SecretTable = memo(function SecretTable({
  secrets,
  environments,
  capabilities,
  now,
  onAction,
  empty,
}: {
  secrets: Secret[];
  environments: EnvironmentInfo[];
  capabilities: Capability[];
  now: number;
  onAction: (action: RowAction, secret: Secret) => void;
  empty: React.ReactNode;
}) {
  const may = (c: Capability) => capabilities.includes(c);
  const canWrite = may("write");
  const canUse = may("use");
  const canReveal = may("reveal");
  const canDelete = may("delete");

  const columns = useMemo<Column<Secret>[]>(() => {
    const cols: Column<Secret>[] = [
      {
        key: "name",
        header: "Name",
        width: "minmax(200px, 1fr)",
        render: (s) => (
          <span className="name-cell">
            <span className="name-line">
              <button
                type="button"
                className="secret-name"
                title={`Open the history of ${s.name}`}
                onClick={() => onAction("history", s)}
                disabled={s.deleted_at != null}
              >
                {s.name}
              </button>
              {s.scope === "user" ? <span className="tag">only you</span> : null}
              {s.deleted_at != null ? <span className="tag tag-danger">deleted</span> : null}
            </span>
            {s.deleted_at != null ? (
              <span className="description-cell muted" title={s.purge_at ? `Purged for good on ${formatDateTime(s.purge_at)}` : undefined}>
                Deleted {formatRelative(s.deleted_at, now)}
                {s.purge_at ? ` · restorable for ${daysLeft(s.purge_at, now)} more days` : ""}
              </span>
            ) : (
              <span className={`description-cell${s.description ? "" : " muted"}`} title={s.description || undefined}>
                {s.description || "No description"}
              </span>
            )}
          </span>
        ),
      },
      ...environments.map<Column<Secret>>((env) => ({
        key: `env:${env.name}`,
        header: (
          <span className="env-header" title={env.protected ? `${env.name} is protected: changes ask for your passphrase` : env.name}>
            {env.name}
            {env.protected ? <Icon name="lock" size={12} /> : null}
          </span>
        ),
        width: "120px",
        render: (s) => <EnvCellView secret={s} env={env.name} now={now} />,
      })),
      {
        key: "rotated",
        header: "Last rotated",
        width: "96px",
        render: (s) => {
          const at = lastRotated(s);
          return at ? (
            <span title={formatDateTime(at)}>{formatRelative(at, now)}</span>
          ) : (
            <span className="muted">never</span>
          );
        },
      },
      {
        key: "status",
        header: "Status",
        width: "116px",
        render: (s) => {
          if (s.deleted_at != null) {
            return canDelete ? (
              <Button size="sm" icon="restore" onClick={() => onAction("restore", s)} aria-label={`Restore ${s.name}`}>
                Restore
              </Button>
            ) : (
              <Badge tone="danger">deleted</Badge>
            );
          }
          const badges = secretBadges(s);
          return badges.length ? (
            <span className="badges">
              {badges.map((b) => (
                <Badge key={b.label} tone={b.tone} title={b.title}>
                  {b.label}
                </Badge>
              ))}
            </span>
          ) : (
            <span className="muted" aria-label="nothing to do">—</span>
          );
        },
      },
      {
        key: "actions",
        header: <span className="sr-only">Actions</span>,
        width: "40px",
        align: "end",
        render: (s) => {
          if (s.deleted_at != null) return null;
          const items: MenuItem[] = [];
          if (canWrite) items.push({ label: "Update value", icon: "edit", onSelect: () => onAction("update", s) });
          items.push({ label: "History", icon: "history", onSelect: () => onAction("history", s) });
          items.push({ label: "Copy reference", icon: "copy", onSelect: () => onAction("copy-reference", s) });
          if (canUse) items.push({ label: "Test", icon: "send", onSelect: () => onAction("test", s) });
          if (canReveal) items.push({ label: "Reveal", icon: "eye", onSelect: () => onAction("reveal", s) });
          if (canDelete) items.push({ label: "Delete", icon: "trash", tone: "danger", onSelect: () => onAction("delete", s) });
          return <Menu label={`Actions for ${s.name}`} items={items} />;
        },
      },
    ];
    return cols;
  }, [environments, now, onAction, canWrite, canUse, canReveal, canDelete]);

  return (
    <VirtualTable
      label="Secrets"
      rows={secrets}
      columns={columns}
      rowKey={nameOf}
      rowHeight={56}
      rowLabel={nameOf}
      rowClassName={classOf}
      empty={empty}
    />
  );
});
