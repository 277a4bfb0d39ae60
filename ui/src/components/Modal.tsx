// A centred dialog over a dimmed backdrop: focus moves in and is trapped, Escape and
// the close button dismiss it (unless busy, or not dismissible at all: then only its
// own buttons end it), and focus returns where it was.

import { useEffect, useId, useRef, type FormEvent, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { Icon } from "./Icon";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export interface ModalProps {
  title: string;
  description?: ReactNode;
  onClose: () => void;
  /** While true, Escape and the backdrop do nothing (an action is running). */
  busy?: boolean;
  /** False for a dialog that must be answered: no close button, and Escape and the
   * backdrop do nothing. */
  dismissible?: boolean;
  size?: "sm" | "md" | "lg";
  /** When set, the body is a form and Enter submits it. */
  onSubmit?: () => void;
  footer?: ReactNode;
  children?: ReactNode;
}

export function Modal({
  title,
  description,
  onClose,
  busy = false,
  dismissible = true,
  size = "md",
  onSubmit,
  footer,
  children,
}: ModalProps) {
  const titleId = useId();
  const descId = useId();
  const panel = useRef<HTMLDivElement>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  // Escape and the backdrop close only a dismissible dialog with nothing running.
  const closableRef = useRef(dismissible && !busy);
  closableRef.current = dismissible && !busy;

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    const node = panel.current;
    const first =
      node?.querySelector<HTMLElement>("[data-autofocus]") ??
      node?.querySelector<HTMLElement>(".modal-body " + FOCUSABLE) ??
      node?.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    return () => {
      if (before && document.contains(before)) before.focus();
    };
  }, []);

  function onKeyDown(e: React.KeyboardEvent) {
    if (e.key === "Escape") {
      e.stopPropagation();
      if (closableRef.current) closeRef.current();
      return;
    }
    if (e.key !== "Tab" || !panel.current) return;
    const items = Array.from(panel.current.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
      (el) => el.offsetParent !== null || el === document.activeElement,
    );
    if (items.length === 0) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    onSubmit?.();
  }

  const body = (
    <>
      <div className="modal-body">{children}</div>
      {footer ? <div className="modal-footer">{footer}</div> : null}
    </>
  );

  return createPortal(
    <div
      className="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget && closableRef.current) closeRef.current();
      }}
    >
      <div
        ref={panel}
        className={`modal modal-${size}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={description ? descId : undefined}
        onKeyDown={onKeyDown}
      >
        <div className="modal-header">
          <div>
            <h2 id={titleId}>{title}</h2>
            {description ? (
              <p id={descId} className="modal-description">
                {description}
              </p>
            ) : null}
          </div>
          {dismissible ? (
            <button type="button" className="modal-close" aria-label="Close dialog" onClick={onClose} disabled={busy}>
              <Icon name="close" />
            </button>
          ) : null}
        </div>
        {onSubmit ? (
          <form className="modal-form" onSubmit={submit} noValidate autoComplete="off">
            {body}
          </form>
        ) : (
          body
        )}
      </div>
    </div>,
    document.body,
  );
}
