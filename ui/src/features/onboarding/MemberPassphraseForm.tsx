// The passphrase form as the screens before a session lay it out (First run, Unlock,
// Recover): the shared fields of `usePassphraseForm`, the screen's own parts
// (`between` the name and the passphrase, `after` them, more `actions`), the error of
// the last try and a full-width submit button.

import type { ReactNode } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { usePassphraseForm, type PassphraseFormOptions } from "../../components/PassphraseForm";

export interface MemberPassphraseFormProps {
  member?: PassphraseFormOptions["member"];
  /** The member's current passphrase, or a new one typed twice. */
  passphrase: "current" | "new";
  passphraseLabel?: string;
  repeatLabel?: string;
  submitLabel: string;
  between?: ReactNode;
  after?: ReactNode;
  actions?: ReactNode;
  /** Another action of the screen is running: the form waits. */
  busy?: boolean;
  /** The error of another action of the screen, shown where the form's own goes. */
  error?: string | null;
  validate?: () => string | null;
  onSubmit: (member: string, passphrase: string) => Promise<void>;
}

export function MemberPassphraseForm({
  member = {},
  passphrase,
  passphraseLabel,
  repeatLabel,
  submitLabel,
  between,
  after,
  actions,
  busy: otherBusy = false,
  error: otherError = null,
  validate,
  onSubmit,
}: MemberPassphraseFormProps) {
  const form = usePassphraseForm({
    member,
    current: passphrase === "current" ? { label: passphraseLabel } : undefined,
    fresh: passphrase === "new" ? { label: passphraseLabel, repeatLabel } : undefined,
    validate,
    onSubmit: ({ member: name, current, fresh }) => onSubmit(name, passphrase === "new" ? fresh : current),
  });
  const shown = form.error ?? otherError;
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (!otherBusy) void form.submit();
      }}
      noValidate
    >
      {form.memberField}
      {between}
      {form.passphraseFields}
      {after}
      {shown ? <Alert>{shown}</Alert> : null}
      <Button type="submit" variant="primary" busy={form.busy} disabled={otherBusy} className="btn-block">
        {submitLabel}
      </Button>
      {actions}
    </form>
  );
}
