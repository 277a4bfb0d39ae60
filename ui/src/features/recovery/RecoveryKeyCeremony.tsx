// The recovery key's one showing: 24 numbered words in four columns read down (as the
// CLI prints them), a Print button whose print stylesheet shows only the words, then
// three of them asked back — one from each third — before going on. A wrong word says
// so beside its field and may be typed again. The words live only in the parent's
// state for as long as this screen is up; the typed-back fields are uncontrolled (never
// mirrored into the page's HTML) and emptied when checked.

import { useId, useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { pickPositions, sameWord } from "../../lib/recoveryKey";

export const WRONG_WORD = (n: number) => `That is not word ${n}: look at your copy again.`;

export function RecoveryKeyCeremony({
  member,
  words,
  onConfirmed,
  onLater,
}: {
  member: string;
  words: readonly string[];
  /** The three words were typed back right: the parent drops the words now. */
  onConfirmed: () => void;
  /** When given, "I will make one later" leaves without the check. */
  onLater?: () => void;
}) {
  const [step, setStep] = useState<"show" | "check">("show");
  const [positions] = useState(() => pickPositions(words.length));
  const [wrong, setWrong] = useState<ReadonlySet<number>>(new Set());
  const [right, setRight] = useState<ReadonlySet<number>>(new Set());
  const fields = useRef<Record<number, HTMLInputElement | null>>({});
  const gridTitle = useId();

  function check() {
    const nowWrong = new Set<number>();
    const nowRight = new Set(right);
    for (const i of positions) {
      if (nowRight.has(i)) continue;
      const field = fields.current[i];
      if (field && sameWord(field.value, words[i] ?? "")) nowRight.add(i);
      else nowWrong.add(i);
    }
    setWrong(nowWrong);
    setRight(nowRight);
    if (nowWrong.size === 0) {
      Object.values(fields.current).forEach((f) => f && (f.value = ""));
      onConfirmed();
      return;
    }
    fields.current[[...nowWrong][0]!]?.focus();
  }

  const later = onLater ? (
    <Button variant="ghost" onClick={onLater}>
      I will make one later
    </Button>
  ) : null;

  if (step === "check") {
    return (
      <form
        className="stack recovery-check"
        aria-label="Check your recovery key"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          check();
        }}
      >
        <p>To be sure you have the words, type three of them back from your copy.</p>
        {positions.map((i, k) =>
          right.has(i) ? (
            <p key={i} className="recovery-right">
              <Icon name="check" /> Word {i + 1}: right
            </p>
          ) : (
            <TextField
              key={i}
              ref={(el) => {
                fields.current[i] = el;
              }}
              label={`Word ${i + 1}`}
              className="mono"
              autoComplete="off"
              autoCapitalize="off"
              autoCorrect="off"
              spellCheck={false}
              autoFocus={k === 0 || (wrong.size > 0 && [...wrong][0] === i)}
              error={wrong.has(i) ? WRONG_WORD(i + 1) : null}
              onInput={() =>
                setWrong((w) => {
                  if (!w.has(i)) return w;
                  const next = new Set(w);
                  next.delete(i);
                  return next;
                })
              }
            />
          ),
        )}
        <div className="recovery-actions">
          <Button onClick={() => setStep("show")}>Show the words again</Button>
          {later}
          <Button type="submit" variant="primary" icon="check">
            Check words
          </Button>
        </div>
      </form>
    );
  }

  return (
    <div className="stack recovery-show">
      <Alert tone="warning" title="Write these words down now: they are shown only once.">
        If you forget your passphrase, <strong>Recover</strong> on the unlock screen sets a new one with them. Keep
        them away from this computer: anyone who holds them and a copy of the vault can open your keys.
      </Alert>
      <section className="recovery-print" aria-labelledby={gridTitle}>
        <h2 id={gridTitle} className="recovery-print-title">
          Coffer recovery key for {member}
        </h2>
        <ol className="recovery-grid" aria-label="Recovery key words">
          {words.map((w, i) => (
            <li key={i}>
              <span className="recovery-n" aria-hidden="true">
                {i + 1}
              </span>
              <span className="recovery-word">{w}</span>
            </li>
          ))}
        </ol>
      </section>
      <div className="recovery-actions">
        <Button icon="print" onClick={() => window.print()}>
          Print
        </Button>
        {later}
        <Button variant="primary" onClick={() => setStep("check")}>
          I have written them down
        </Button>
      </div>
    </div>
  );
}
