import type { Strength } from "../lib/strength";

/** Four segments filling with the score, the label, and one piece of advice. */
export function StrengthMeter({ strength, empty }: { strength: Strength; empty: boolean }) {
  const filled = empty ? 0 : Math.max(1, strength.score);
  const tone = strength.score >= 3 ? "strong" : strength.score === 2 ? "fair" : "weak";
  return (
    <div className="strength" aria-live="polite">
      <div className="strength-bar" aria-hidden="true">
        {[1, 2, 3, 4].map((i) => (
          <span key={i} className={i <= filled ? `on ${tone}` : ""} />
        ))}
      </div>
      <p className="strength-text" aria-label="Passphrase strength">
        {empty ? (
          "Use at least 10 characters — a few unrelated words work well."
        ) : (
          <>
            <strong className={`strength-label ${tone}`}>{strength.label}</strong>
            {strength.advice ? ` · ${strength.advice}` : null}
          </>
        )}
      </p>
    </div>
  );
}
