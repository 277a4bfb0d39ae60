// Reveal: a small ceremony. The member gives a reason (kept in the audit event), the
// value shows for 10 seconds with a countdown, then it is masked and dropped from
// state; closing the dialog unmounts it and the value goes with it. Copy hands it to
// the backend, which puts it on the clipboard and clears it 30 seconds later (or at
// lock, window close or quit).

import { useEffect, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { useToast } from "../../components/Toast";
import { copySecret } from "../../lib/clipboard";
import { api, errorMessage } from "../../lib/ipc";
import type { Secret } from "../../lib/types";
import { useSession } from "../shell/session";

export const REVEAL_SECONDS = 10;

export function RevealDialog({ secret, onClose }: { secret: Secret; onClose: () => void }) {
  const session = useSession();
  const toast = useToast();
  const withValue = secret.environments.filter((e) => e.state === "set");
  const [environment, setEnvironment] = useState(withValue[0]?.environment ?? "");
  const [reason, setReason] = useState("");
  const [revealed, setRevealed] = useState<{ value: string; environment: string } | null>(null);
  const [secondsLeft, setSecondsLeft] = useState(0);
  const [hidden, setHidden] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!revealed) return;
    const startedAt = Date.now();
    setSecondsLeft(REVEAL_SECONDS);
    const timer = setInterval(() => {
      const left = REVEAL_SECONDS - Math.floor((Date.now() - startedAt) / 1000);
      if (left <= 0) {
        setRevealed(null); // the value leaves state (and the DOM) here
        setHidden(true);
        setSecondsLeft(0);
      } else {
        setSecondsLeft(left);
      }
    }, 250);
    return () => clearInterval(timer);
  }, [revealed]);

  async function reveal() {
    if (!reason.trim()) {
      setError("Say why you need to see it; the reason is kept in the audit trail.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await api.revealSecret(session.scope, secret.name, environment, reason.trim());
      setHidden(false);
      setRevealed({ value: result.value, environment });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!revealed) return;
    try {
      const clearAfterMs = await copySecret(revealed.value);
      toast(`Copied. The clipboard clears in ${clearAfterMs / 1000} s.`, "info");
    } catch (e) {
      toast(`Could not copy: ${errorMessage(e)}`, "danger");
    }
  }

  function hideNow() {
    setRevealed(null);
    setHidden(true);
  }

  if (withValue.length === 0) {
    return (
      <Modal title={`Reveal ${secret.name}`} size="sm" onClose={onClose}>
        <p>This secret has no current value in any environment.</p>
      </Modal>
    );
  }

  return (
    <Modal
      title={`Reveal ${secret.name}`}
      description="Revealing shows the plaintext on this screen. It is recorded in the audit trail with your name and reason."
      onClose={onClose}
      onSubmit={revealed ? undefined : () => void reveal()}
      footer={
        revealed ? (
          <>
            <Button onClick={hideNow}>Hide now</Button>
            <Button variant="primary" icon="copy" onClick={() => void copy()} aria-label="Copy value">
              Copy
            </Button>
          </>
        ) : (
          <>
            <Button onClick={onClose}>Close</Button>
            <Button type="submit" variant="primary" icon="eye" busy={busy}>
              {hidden ? "Reveal again" : "Reveal value"}
            </Button>
          </>
        )
      }
    >
      <div className="form-grid">
        <SelectField
          label="Environment"
          value={environment}
          disabled={revealed !== null}
          onChange={(e) => {
            setEnvironment(e.target.value);
            setHidden(false);
          }}
        >
          {withValue.map((e) => (
            <option key={e.environment} value={e.environment}>
              {e.environment} (v{e.version})
            </option>
          ))}
        </SelectField>
        <TextField
          label="Reason"
          value={reason}
          disabled={revealed !== null}
          onChange={(e) => setReason(e.target.value)}
          placeholder="e.g. entering it in the provider's dashboard"
          maxLength={500}
          data-autofocus
        />
      </div>
      {revealed ? (
        <div className="revealed">
          <div className="revealed-head">
            <span>
              Value in <strong>{revealed.environment}</strong>
            </span>
            <span className="countdown" aria-live="off">
              Hides in {secondsLeft} s
            </span>
          </div>
          <pre className="revealed-value" aria-label="Revealed value">
            {revealed.value}
          </pre>
          <div className="countdown-bar" aria-hidden="true">
            <span style={{ animationDuration: `${REVEAL_SECONDS}s` }} />
          </div>
        </div>
      ) : hidden ? (
        <div className="revealed masked" aria-label="Value hidden">
          <pre className="revealed-value">••••••••••••••••</pre>
          <p className="field-hint">Hidden again. Reveal it again if you still need it; that is recorded too.</p>
        </div>
      ) : null}
      {error ? <Alert>{error}</Alert> : null}
    </Modal>
  );
}
