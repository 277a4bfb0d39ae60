// The one passphrase form: a member name, the current passphrase, a new one typed
// twice with its strength meter — any of the three — with the error of the last try.
// First run (name + new), Unlock (name + current), Recover (name + new) and Change
// passphrase (current + new) are this form; each screen places `fields` in its own
// frame (a card or a dialog), submits through `submit`, and shows `error` and `busy`.
// Passphrase fields are uncontrolled (React never mirrors them into a DOM attribute)
// and emptied when submitted, whatever the outcome.

import { useRef, useState, type ReactNode } from "react";
import { errorMessage } from "../lib/ipc";
import { nameProblem } from "../lib/names";
import { TextField } from "./Field";
import { NewPassphraseFields, type NewPassphraseHandle } from "./NewPassphraseFields";

export const ENTER_MEMBER = "Enter your member name.";
export const ENTER_PASSPHRASE = "Enter your passphrase.";

export interface PassphraseFormOptions {
  member?: {
    label?: string;
    hint?: string;
    placeholder?: string;
    initial?: string;
    /** Checks the name as a new member's name, beside the field (first run). */
    checkName?: boolean;
    onChange?: (member: string) => void;
  };
  current?: {
    label?: string;
    hint?: string;
    /** Said beside the field when it is left empty. */
    missing?: string;
    autoFocus?: boolean;
  };
  fresh?: { label?: string; repeatLabel?: string };
  /** A problem with the screen's own parts, checked before any passphrase is read. */
  validate?: () => string | null;
  /** Throws to show its error and let the member try again. */
  onSubmit: (typed: { member: string; current: string; fresh: string }) => Promise<void>;
}

export interface PassphraseForm {
  /** The member's name field (when asked). */
  memberField: ReactNode;
  /** The passphrase fields: current, then new and its repetition. */
  passphraseFields: ReactNode;
  /** Both, in that order. */
  fields: ReactNode;
  submit: () => Promise<void>;
  busy: boolean;
  error: string | null;
  /** Clears the error (another action of the screen is starting). */
  clearError: () => void;
}

export function usePassphraseForm({ member: memberOpts, current: currentOpts, fresh: freshOpts, validate, onSubmit }: PassphraseFormOptions): PassphraseForm {
  const [member, setMember] = useState(memberOpts?.initial ?? "");
  const current = useRef<HTMLInputElement>(null);
  const fresh = useRef<NewPassphraseHandle>(null);
  const [touched, setTouched] = useState(false);
  const [missingCurrent, setMissingCurrent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const checkName = memberOpts?.checkName ?? false;
  const name = checkName ? member : member.trim();
  const problem = memberOpts && checkName ? (name ? nameProblem("member", name) : ENTER_MEMBER) : null;

  function emptyCurrent() {
    if (current.current) current.current.value = "";
  }

  async function submit() {
    if (busy) return;
    setTouched(true);
    if (problem) return;
    if (memberOpts && !name) {
      emptyCurrent();
      setError(ENTER_MEMBER);
      return;
    }
    const own = validate?.() ?? null;
    if (own) {
      setError(own);
      return;
    }
    const now = current.current?.value ?? "";
    if (currentOpts && !now) {
      setMissingCurrent(true);
      current.current?.focus();
      return;
    }
    let chosen = "";
    if (freshOpts) {
      const taken = fresh.current?.take();
      if (!taken) return;
      chosen = taken;
    }
    emptyCurrent();
    setBusy(true);
    setError(null);
    try {
      await onSubmit({ member: name, current: now, fresh: chosen });
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
      current.current?.focus();
    }
  }

  const memberField = memberOpts ? (
        <TextField
          label={memberOpts.label ?? "Member name"}
          value={member}
          onChange={(e) => {
            setMember(e.target.value);
            memberOpts.onChange?.(e.target.value);
          }}
          placeholder={memberOpts.placeholder}
          hint={memberOpts.hint}
          error={checkName && touched ? problem : null}
          autoComplete="username"
          autoFocus={!memberOpts.initial}
        />
  ) : null;
  const passphraseFields = (
    <>
      {currentOpts ? (
        <TextField
          ref={current}
          label={currentOpts.label ?? "Passphrase"}
          type="password"
          autoComplete="current-password"
          hint={currentOpts.hint}
          error={missingCurrent ? (currentOpts.missing ?? ENTER_PASSPHRASE) : null}
          onInput={() => setMissingCurrent(false)}
          autoFocus={currentOpts.autoFocus ?? !!memberOpts?.initial}
          data-autofocus={memberOpts ? undefined : true}
        />
      ) : null}
      {freshOpts ? (
        <NewPassphraseFields
          ref={fresh}
          label={freshOpts.label ?? "Passphrase"}
          repeatLabel={freshOpts.repeatLabel ?? "Repeat passphrase"}
        />
      ) : null}
    </>
  );

  const fields = (
    <>
      {memberField}
      {passphraseFields}
    </>
  );
  return { memberField, passphraseFields, fields, submit, busy, error, clearError: () => setError(null) };
}
