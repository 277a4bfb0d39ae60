// Test: check an integration without seeing the secret. The form only ever holds a
// reference ({{ secrets.NAME }}); the backend resolves it, sends the request, and
// returns the response with every value masked. Audited as a use.

import { useState } from "react";
import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { SelectField, TextField } from "../../components/Field";
import { Modal } from "../../components/Modal";
import { api, errorMessage } from "../../lib/ipc";
import type { Secret } from "../../lib/types";
import type { TestRequestInput_Deserialize, TestResult } from "../../bindings";
import { useSession } from "../shell/session";

export type Placement = "header" | "query" | "basic" | "hmac";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;

export interface TestForm {
  environment: string;
  method: string;
  url: string;
  placement: Placement;
  /** Header name, query parameter, basic-auth user or signature header. */
  field: string;
  /** The header value around the reference, e.g. "Bearer {{ secrets.X }}". */
  template: string;
  body: string;
}

export function referenceTemplate(name: string): string {
  return `{{ secrets.${name} }}`;
}

const DEFAULT_FIELD: Record<Placement, string> = {
  header: "Authorization",
  query: "api_key",
  basic: "",
  hmac: "X-Signature",
};

/** The request the backend gets: references only, never a value. */
export function toRequest(form: TestForm, name: string): TestRequestInput_Deserialize {
  const ref = referenceTemplate(name);
  const base: TestRequestInput_Deserialize = {
    environment: form.environment,
    method: form.method,
    url: form.url.trim(),
    headers: [],
    query: [],
    basic: null,
    hmacHeader: null,
    hmacKey: null,
    body: form.body === "" ? null : form.body,
  };
  switch (form.placement) {
    case "header":
      return { ...base, headers: [`${form.field.trim()}: ${form.template}`] };
    case "query":
      return { ...base, query: [`${form.field.trim()}=${ref}`] };
    case "basic":
      return { ...base, basic: `${form.field.trim()}:${ref}` };
    case "hmac":
      return { ...base, hmacHeader: form.field.trim(), hmacKey: ref };
  }
}

function statusTone(status: number): "success" | "warning" | "danger" {
  if (status < 300) return "success";
  if (status < 500) return "warning";
  return "danger";
}

export function TestDialog({ secret, onClose }: { secret: Secret; onClose: () => void }) {
  const session = useSession();
  const withValue = secret.environments.filter((e) => e.state === "set");
  const [form, setForm] = useState<TestForm>({
    environment: withValue[0]?.environment ?? "",
    method: "GET",
    url: "https://",
    placement: "header",
    field: DEFAULT_FIELD.header,
    template: `Bearer ${referenceTemplate(secret.name)}`,
    body: "",
  });
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const update = (patch: Partial<TestForm>) => setForm((f) => ({ ...f, ...patch }));

  async function send() {
    if (!/^https?:\/\/[^/\s]+/.test(form.url.trim())) {
      setError("Give an http:// or https:// URL with a host.");
      return;
    }
    if (form.placement === "header" && !form.template.includes(referenceTemplate(secret.name))) {
      setError(`The header value must contain ${referenceTemplate(secret.name)}.`);
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api.testRequest(session.scope, toRequest(form, secret.name)));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  if (withValue.length === 0) {
    return (
      <Modal title={`Test ${secret.name}`} size="sm" onClose={onClose}>
        <p>This secret has no current value in any environment, so there is nothing to test.</p>
      </Modal>
    );
  }

  const fieldLabel: Record<Placement, string> = {
    header: "Header name",
    query: "Query parameter",
    basic: "User name",
    hmac: "Signature header",
  };

  return (
    <Modal
      title={`Test ${secret.name}`}
      description="Sends one request with the secret placed by reference. You see the response with the value masked; the use is recorded in the audit trail."
      onClose={onClose}
      busy={busy}
      onSubmit={() => void send()}
      footer={
        <>
          <Button onClick={onClose}>Close</Button>
          <Button type="submit" variant="primary" icon="send" busy={busy}>
            Send test request
          </Button>
        </>
      }
    >
      <div className="form-grid test-form">
        <SelectField label="Environment" value={form.environment} onChange={(e) => update({ environment: e.target.value })}>
          {withValue.map((e) => (
            <option key={e.environment} value={e.environment}>
              {e.environment} (v{e.version})
            </option>
          ))}
        </SelectField>
        <SelectField label="Method" value={form.method} onChange={(e) => update({ method: e.target.value })}>
          {METHODS.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </SelectField>
        <div className="span-2">
          <TextField
            label="URL"
            value={form.url}
            onChange={(e) => update({ url: e.target.value })}
            placeholder="https://api.example.com/v1/me"
            data-autofocus
          />
        </div>
        <SelectField
          label="Place the secret in"
          value={form.placement}
          onChange={(e) => {
            const placement = e.target.value as Placement;
            update({ placement, field: DEFAULT_FIELD[placement] });
          }}
        >
          <option value="header">A header</option>
          <option value="query">The query string</option>
          <option value="basic">Basic auth (as the password)</option>
          <option value="hmac">An HMAC-SHA256 signature of the body</option>
        </SelectField>
        <TextField label={fieldLabel[form.placement]} value={form.field} onChange={(e) => update({ field: e.target.value })} />
        {form.placement === "header" ? (
          <div className="span-2">
            <TextField
              label="Header value"
              value={form.template}
              onChange={(e) => update({ template: e.target.value })}
              hint="The reference is replaced by the value when the request is sent; you never see it."
            />
          </div>
        ) : null}
        {form.method !== "GET" && form.method !== "HEAD" ? (
          <label className="field span-2">
            <span className="field-label">Body</span>
            <textarea
              className="input textarea"
              aria-label="Body"
              rows={3}
              value={form.body}
              spellCheck={false}
              onChange={(e) => update({ body: e.target.value })}
            />
          </label>
        ) : null}
      </div>
      {error ? <Alert>{error}</Alert> : null}
      {result ? (
        <div className="test-result" aria-label="Test response">
          <div className="test-status">
            <Badge tone={statusTone(result.status)}>{result.status}</Badge> {result.reason}
          </div>
          {result.headers.length ? (
            <dl className="test-headers">
              {result.headers.map((h, i) => (
                <div key={`${h.name}-${i}`}>
                  <dt>{h.name}</dt>
                  <dd>{h.value}</dd>
                </div>
              ))}
            </dl>
          ) : null}
          <pre className="test-body" aria-label="Response body">
            {result.body || "(empty body)"}
            {result.truncated ? "\n[body truncated]" : ""}
          </pre>
        </div>
      ) : null}
    </Modal>
  );
}
