// A new passphrase with its strength meter, and (unless someone else will replace it)
// typed a second time. The one passphrase form of first run, Add member and Change
// passphrase. The inputs are uncontrolled — React never mirrors them into a DOM
// attribute — and the form reads them once, through `take()`, which empties them.

import { forwardRef, useCallback, useId, useImperativeHandle, useRef, useState } from "react";
import { isAcceptable, MIN_PASSPHRASE_LENGTH, passphraseStrength, type Strength } from "../lib/strength";
import { TextField } from "./Field";
import { StrengthMeter } from "./StrengthMeter";

export const WEAK_PASSPHRASE = `Choose a stronger passphrase: at least ${MIN_PASSPHRASE_LENGTH} characters, rated fair or better.`;
export const PASSPHRASES_DIFFER = "The two passphrases differ.";
/** What happens to a forgotten passphrase, said wherever one is chosen. */
export const FORGOTTEN_PASSPHRASE =
  "Keep it safe: Coffer cannot tell it to you. With a recovery key (owners have one), Recover on the unlock screen sets a new passphrase; without it, nothing can.";

export interface NewPassphraseHandle {
  /** The passphrase, when strong enough and repeated alike; the fields are emptied.
   * Otherwise null, with the reason shown beside the field and the fields kept. */
  take(): string | null;
  /** Empties the fields. */
  clear(): void;
}

export interface NewPassphraseFieldsProps {
  label?: string;
  /** The second field's label; none when the passphrase is typed once. */
  repeatLabel?: string;
}

export const NewPassphraseFields = forwardRef<NewPassphraseHandle, NewPassphraseFieldsProps>(function NewPassphraseFields(
  { label = "Passphrase", repeatLabel },
  ref,
) {
  const pass = useRef<HTMLInputElement>(null);
  const repeat = useRef<HTMLInputElement>(null);
  const weakId = useId();
  const [strength, setStrength] = useState<Strength>(() => passphraseStrength(""));
  const [empty, setEmpty] = useState(true);
  const [weak, setWeak] = useState(false);
  const [mismatch, setMismatch] = useState(false);

  function onInput() {
    const p = pass.current?.value ?? "";
    setStrength(passphraseStrength(p));
    setEmpty(p.length === 0);
    setWeak(false);
    const r = repeat.current?.value ?? "";
    setMismatch(r.length > 0 && r !== p);
  }

  const clear = useCallback(() => {
    if (pass.current) pass.current.value = "";
    if (repeat.current) repeat.current.value = "";
    setStrength(passphraseStrength(""));
    setEmpty(true);
    setWeak(false);
    setMismatch(false);
  }, []);

  useImperativeHandle(
    ref,
    () => ({
      take() {
        const p = pass.current?.value ?? "";
        if (!isAcceptable(passphraseStrength(p))) {
          setWeak(true);
          pass.current?.focus();
          return null;
        }
        if (repeat.current && repeat.current.value !== p) {
          setMismatch(true);
          repeat.current.focus();
          return null;
        }
        clear();
        return p;
      },
      clear,
    }),
    [clear],
  );

  return (
    <>
      {/* The rule goes under the meter, which already says what is wrong with it. */}
      <TextField
        ref={pass}
        label={label}
        type="password"
        autoComplete="new-password"
        onInput={onInput}
        aria-invalid={weak || undefined}
        aria-describedby={weak ? weakId : undefined}
      />
      <StrengthMeter strength={strength} empty={empty} />
      {weak ? (
        <p className="field-error strength-error" id={weakId} role="alert">
          {WEAK_PASSPHRASE}
        </p>
      ) : null}
      {repeatLabel ? (
        <TextField
          ref={repeat}
          label={repeatLabel}
          type="password"
          autoComplete="new-password"
          onInput={onInput}
          error={mismatch ? PASSPHRASES_DIFFER : null}
        />
      ) : null}
    </>
  );
});
