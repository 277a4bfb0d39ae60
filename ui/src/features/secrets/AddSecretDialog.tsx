// Add secret: name, description, type, visibility, a value per environment (typed or
// generated), expiry, rotation period and the hosts test requests may send it to. One setSecret per environment that has a
// value; every value field is emptied as soon as the form is submitted, whatever the
// outcome, and the values read from them are dropped when the calls finish.

import { useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { useConfirmPassphrase } from "../../components/PassphrasePrompt";
import { ALLOWED_HOSTS_HINT, allowedHostsProblem, parseAllowedHosts } from "../../lib/allowedHosts";
import { isDuration } from "../../lib/format";
import { api, errorMessage } from "../../lib/ipc";
import { nameProblem } from "../../lib/names";
import { withPassphraseAgain } from "../../lib/reauth";
import { useSession } from "../shell/session";
import { useValueSlots, ValueInput, type ValueRequest } from "./ValueInput";

type Kind = "string" | "multiline" | "json";

// The backend refuses these in a description: a terminal would interpret them.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

interface Job extends ValueRequest {
  environment: string;
}

export function AddSecretDialog({
  existingNames,
  onClose,
  onSaved,
}: {
  existingNames: ReadonlySet<string>;
  onClose: () => void;
  onSaved: (name: string, environments: string[]) => void;
}) {
  const session = useSession();
  const confirmPassphrase = useConfirmPassphrase();
  const envs = session.environments;

  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [kind, setKind] = useState<Kind>("string");
  const [scope, setScope] = useState<"workspace" | "user">("workspace");
  const [expiresIn, setExpiresIn] = useState("");
  const [rotateEvery, setRotateEvery] = useState("");
  const [allowedHosts, setAllowedHosts] = useState("");
  const slots = useValueSlots(envs.map((e) => e.name));
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const problems = {
    name: nameProblem("secret", name) ?? (existingNames.has(name) ? `A secret named ${name} already exists — use Update value on it.` : null),
    description:
      description.length > 1000
        ? "At most 1000 characters."
        : CONTROL.test(description)
          ? "Line breaks, tabs and control characters are not allowed."
          : null,
    expiresIn: expiresIn && !isDuration(expiresIn) ? "Write a duration like 30d, 12h or 90m." : null,
    rotateEvery: rotateEvery && !isDuration(rotateEvery) ? "Write a duration like 90d." : null,
    allowedHosts: allowedHostsProblem(allowedHosts),
  };
  const hosts = parseAllowedHosts(allowedHosts);
  const anyValue = slots.has();

  async function submit() {
    setTouched(true);
    if (busy || Object.values(problems).some(Boolean)) return;
    if (!anyValue) {
      setError("Give at least one environment a value: type one or generate it.");
      return;
    }
    // Read every value once and empty the fields before anything is sent.
    const jobs: Job[] = slots.take(envs.map((e) => e.name)).map(({ key, request }) => ({ environment: key, ...request }));
    setBusy(true);
    setError(null);

    const saved: string[] = [];
    try {
      for (const job of jobs) {
        await withPassphraseAgain(
          () =>
            api.setSecret(session.scope, {
              name,
              environment: job.environment,
              value: job.value,
              generateLength: job.generateLength,
              generateAlphabet: job.generateAlphabet,
              description,
              kind,
              scope,
              expiresIn: expiresIn || null,
              rotateEvery: rotateEvery || null,
              ifVersion: 0,
              allowedHosts: hosts.length ? hosts : null,
            }),
          confirmPassphrase,
        );
        saved.push(job.environment);
      }
    } catch (e) {
      const failedAt = jobs[saved.length]?.environment;
      setError(
        saved.length
          ? `Saved in ${saved.join(", ")}, but not in ${failedAt}: ${errorMessage(e)} Use Update value to set the rest.`
          : errorMessage(e),
      );
      setBusy(false);
      if (saved.length) onSaved(name, []);
      return;
    } finally {
      jobs.length = 0; // drop the values read from the fields
    }
    onSaved(name, saved);
    onClose();
  }

  return (
    <Modal
      title="Add secret"
      description="Values go straight to the encrypted vault. Nobody sees them here again unless they hold the reveal permission."
      size="lg"
      busy={busy}
      onClose={onClose}
      onSubmit={() => void submit()}
      footer={
        <>
          <Button onClick={onClose} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" busy={busy}>
            Add secret
          </Button>
        </>
      }
    >
      <div className="form-grid">
        <TextField
          label="Name"
          className="mono"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="PAYMENTS_API_KEY"
          hint="Letters, digits, _ - and . — how code and configs refer to it."
          error={touched || name ? problems.name : null}
          data-autofocus
        />
        <TextField
          label="Description"
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          placeholder="What it is for and who issued it"
          optional
          error={problems.description}
        />
        <SelectField label="Type" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          <option value="string">String</option>
          <option value="multiline">Multiline (PEM, certificates)</option>
          <option value="json">JSON (service accounts)</option>
        </SelectField>
        <SelectField label="Visible to" value={scope} onChange={(e) => setScope(e.target.value as "workspace" | "user")}>
          <option value="workspace">Everyone in the workspace</option>
          <option value="user">Only me</option>
        </SelectField>
      </div>

      <fieldset className="env-values">
        <legend>Values</legend>
        <p className="field-hint">Fill the environments this secret exists in; leave the others empty.</p>
        {envs.map((env) => (
          <div className="env-value-row" key={env.name}>
            <span className="env-value-name">
              {env.name}
              {env.protected ? <span className="env-protected">protected</span> : null}
            </span>
            <ValueInput
              environment={env.name}
              label={`Value for ${env.name}`}
              multiline={kind !== "string"}
              {...slots.bind(env.name)}
            />
          </div>
        ))}
      </fieldset>

      <div className="form-grid">
        <TextField
          label="Expires after"
          value={expiresIn}
          onChange={(e) => setExpiresIn(e.target.value)}
          placeholder="e.g. 30d"
          optional
          hint="After this the value cannot be used until it is updated."
          error={problems.expiresIn}
        />
        <TextField
          label="Rotation period"
          value={rotateEvery}
          onChange={(e) => setRotateEvery(e.target.value)}
          placeholder="e.g. 90d"
          optional
          hint="Flags the secret as rotation due when it gets older."
          error={problems.rotateEvery}
        />
      </div>
      <TextField
        label="Allowed hosts"
        value={allowedHosts}
        onChange={(e) => setAllowedHosts(e.target.value)}
        placeholder="e.g. api.stripe.com"
        optional
        hint={ALLOWED_HOSTS_HINT}
        error={problems.allowedHosts}
      />
      {error ? <Alert>{error}</Alert> : null}
    </Modal>
  );
}
