import type { ReactNode } from "react";
import { Icon } from "./Icon";

/** An inline message inside a form or a page: errors are announced (role="alert"). */
export function Alert({
  tone = "danger",
  title,
  children,
  action,
}: {
  tone?: "danger" | "warning" | "info" | "success";
  title?: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className={`alert alert-${tone}`} role={tone === "danger" || tone === "warning" ? "alert" : "status"}>
      <Icon name={tone === "success" ? "check" : tone === "info" ? "shield" : "alert"} />
      <div className="alert-body">
        {title ? <strong>{title}</strong> : null}
        {children ? <div>{children}</div> : null}
        {action ? <div className="alert-action">{action}</div> : null}
      </div>
    </div>
  );
}
