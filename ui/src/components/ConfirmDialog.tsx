// "Are you sure?" with the action's own words on the button; optionally the user must
// type a word (a secret's name) before the button enables.

import { useState, type ReactNode } from "react";
import { errorMessage } from "../lib/ipc";
import { Alert } from "./Alert";
import { Button } from "./Button";
import { TextField } from "./Field";
import { Modal } from "./Modal";

export interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  tone?: "primary" | "danger";
  /** When set, the confirm button waits until this exact text is typed. */
  typeToConfirm?: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  tone = "primary",
  typeToConfirm,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ready = typeToConfirm === undefined || typed === typeToConfirm;

  async function confirm() {
    if (!ready || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <Modal
      title={title}
      size="sm"
      busy={busy}
      onClose={onClose}
      onSubmit={confirm}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant={tone === "danger" ? "danger" : "primary"} busy={busy} disabled={!ready}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="confirm-text">{children}</div>
      {typeToConfirm !== undefined ? (
        <TextField
          label={`Type ${typeToConfirm} to confirm`}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          className="mono"
          data-autofocus
        />
      ) : null}
      {error ? <Alert>{error}</Alert> : null}
    </Modal>
  );
}
