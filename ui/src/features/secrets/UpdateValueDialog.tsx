// Update value (rotate): a new version in one environment. The versions shown when the
// dialog opened are kept, and the write says "only if it is still at that version"
// (ifVersion): a change made meanwhile, e.g. with the CLI, is refused as a conflict
// and said plainly instead of being overwritten. The allowed hosts (where test
// requests may send the secret) are loaded when the dialog opens and sent only when
// edited, so saving a value never rewrites a list someone changed meanwhile.

import { useEffect, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { useConfirmPassphrase } from "../../components/PassphrasePrompt";
import {
  ALLOWED_HOSTS_HINT,
  allowedHostsProblem,
  formatAllowedHosts,
  parseAllowedHosts,
} from "../../lib/allowedHosts";
import { formatRelative, isDuration } from "../../lib/format";
import { api, errorMessage, toAppError } from "../../lib/ipc";
import { withPassphraseAgain } from "../../lib/reauth";
import type { Secret } from "../../lib/types";
import { useSession } from "../shell/session";
import { useValueSlots, ValueInput } from "./ValueInput";

const NEW_VALUE = "new";

export const CONFLICT_MESSAGE = "Someone changed this secret since you opened it";

type Snapshot = Record<string, { version: number; updatedAt: number | null }>;

function snapshotOf(secret: Secret): Snapshot {
  return Object.fromEntries(
    secret.environments.map((e) => [e.environment, { version: e.version ?? 0, updatedAt: e.updated_at }]),
  );
}

export function UpdateValueDialog({
  secret,
  initialEnvironment,
  onClose,
  onSaved,
}: {
  secret: Secret;
  initialEnvironment?: string;
  onClose: () => void;
  onSaved: (environment: string, version: number) => void;
}) {
  const session = useSession();
  const confirmPassphrase = useConfirmPassphrase();
  const envs = session.environments;
  const firstSet = secret.environments.find((e) => e.state !== "missing")?.environment;
  const [environment, setEnvironment] = useState(initialEnvironment ?? firstSet ?? envs[0]?.name ?? "");
  const [snapshot, setSnapshot] = useState<Snapshot>(() => snapshotOf(secret));
  const slots = useValueSlots([NEW_VALUE]);
  const [expiresIn, setExpiresIn] = useState("");
  const [allowedHosts, setAllowedHosts] = useState("");
  const [hostsEdited, setHostsEdited] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);

  const seen = snapshot[environment] ?? { version: 0, updatedAt: null };
  const expiresProblem = expiresIn && !isDuration(expiresIn) ? "Write a duration like 30d." : null;
  const hostsProblem = allowedHostsProblem(allowedHosts);

  useEffect(() => {
    let live = true;
    api
      .showSecret(session.scope, secret.name)
      .then((d) => {
        const loaded = d?.allowed_hosts;
        if (live && loaded) setAllowedHosts((typed) => (typed === "" ? formatAllowedHosts(loaded) : typed));
      })
      .catch(() => undefined); // the field stays empty; the list is kept unless edited
    return () => {
      live = false;
    };
  }, [session.scope, secret.name]);

  async function submit() {
    if (busy || expiresProblem || hostsProblem) return;
    if (!slots.has(NEW_VALUE)) {
      setError("Type the new value, or generate one.");
      return;
    }
    const request = slots.take([NEW_VALUE])[0]?.request;
    if (!request) return;
    setBusy(true);
    setError(null);
    setConflict(null);
    try {
      const outcome = await withPassphraseAgain(
        () =>
          api.setSecret(session.scope, {
            name: secret.name,
            environment,
            ...request,
            description: null,
            kind: null,
            scope: null,
            expiresIn: expiresIn || null,
            rotateEvery: null,
            ifVersion: seen.version,
            allowedHosts: hostsEdited ? parseAllowedHosts(allowedHosts) : null,
          }),
        confirmPassphrase,
      );
      onSaved(environment, outcome.version);
      onClose();
    } catch (e) {
      const err = toAppError(e);
      if (err.code === "conflict" && /version/i.test(err.message)) setConflict(err.message);
      else setError(errorMessage(err));
      setBusy(false);
    } finally {
      request.value = null; // drop the value read from the field
    }
  }

  async function loadLatest() {
    try {
      const fresh = await api.showSecret(session.scope, secret.name);
      setSnapshot(snapshotOf(fresh));
      setConflict(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  return (
    <Modal
      title={`Update value · ${secret.name}`}
      description="Writes a new version. The previous one stays available for roll back during the rollback window."
      busy={busy}
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={busy} disabled={conflict !== null}>
            Save new version
          </Button>
        </>
      }
    >
      <SelectField
        label="Environment"
        value={environment}
        onChange={(e) => {
          setEnvironment(e.target.value);
          setConflict(null);
          setError(null);
        }}
        hint={
          seen.version > 0
            ? `Now at version ${seen.version}${seen.updatedAt ? `, set ${formatRelative(seen.updatedAt)}` : ""}. Saving writes version ${seen.version + 1}.`
            : `No value in ${environment} yet. Saving writes version 1.`
        }
      >
        {envs.map((e) => (
          <option key={e.name} value={e.name}>
            {e.name}
            {e.protected ? " (protected)" : ""}
          </option>
        ))}
      </SelectField>
      <div className="field">
        <span className="field-label">New value</span>
        <ValueInput
          environment={environment}
          label="New value"
          multiline={secret.kind !== "string"}
          {...slots.bind(NEW_VALUE)}
        />
      </div>
      <TextField
        label="Expires after"
        value={expiresIn}
        onChange={(e) => setExpiresIn(e.target.value)}
        placeholder="e.g. 30d"
        optional
        error={expiresProblem}
      />
      <TextField
        label="Allowed hosts"
        value={allowedHosts}
        onChange={(e) => {
          setAllowedHosts(e.target.value);
          setHostsEdited(true);
        }}
        placeholder="e.g. api.stripe.com"
        optional
        hint={ALLOWED_HOSTS_HINT}
        error={hostsProblem}
      />
      {conflict ? (
        <Alert
          tone="warning"
          title={`${CONFLICT_MESSAGE}.`}
          action={
            <Button size="sm" icon="refresh" onClick={() => void loadLatest()}>
              Load the latest version
            </Button>
          }
        >
          Nothing was saved: {environment} is no longer at version {seen.version}. Check the history, then
          load the latest version and enter the value again if it should still replace it.
          <span className="alert-detail">{errorMessage({ code: "conflict", message: conflict })}</span>
        </Alert>
      ) : null}
      {error ? <Alert>{error}</Alert> : null}
    </Modal>
  );
}
