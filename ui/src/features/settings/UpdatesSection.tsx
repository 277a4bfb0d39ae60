// Settings → Updates: where Coffer looks for new versions, whether it looks at start,
// "Check for updates" with a one-line status, then "Download and install" with a
// progress bar (the backend verifies the signature before installing) and a restart.
//
// These are preferences of this installation, not of one workspace: where the app
// fetches the code it runs from is the vault's root owner's to change (the backend
// refuses anyone else, and audits it). Every failure is one line; nothing else on the
// page moves.

import { Channel } from "@tauri-apps/api/core";
import { useEffect, useState } from "react";
import type { AvailableUpdate_Serialize, DownloadProgress_Deserialize, LastCheck_Serialize } from "../../bindings";
import { Button } from "../../components/Button";
import { Checkbox } from "../../components/Field";
import { useToast } from "../../components/Toast";
import { formatBytes, formatRelative } from "../../lib/format";
import { api, errorMessage, toAppError } from "../../lib/ipc";
import { useLoad } from "../../lib/useLoad";

type AvailableUpdate = AvailableUpdate_Serialize;

/** The outcome of the latest check, made here or at start. */
type Outcome =
  | { at: number; available: AvailableUpdate | null; error?: undefined }
  | { at: number; error: string; offline: boolean; available?: undefined };

type Phase =
  | { kind: "idle" }
  | { kind: "checking" }
  | { kind: "downloading"; downloaded: number; total: number | null }
  | { kind: "installing" }
  | { kind: "installed"; version: string }
  | { kind: "failed"; message: string };

function fromLastCheck(last: LastCheck_Serialize | null | undefined): Outcome | null {
  if (!last) return null;
  if (last.error) return { at: last.at_ms, error: errorMessage(last.error), offline: last.error.code === "unavailable" };
  return { at: last.at_ms, available: last.available };
}

function StatusLine({ phase, outcome, checking, checkAtStart }: {
  phase: Phase;
  outcome: Outcome | null;
  checking: boolean;
  checkAtStart: boolean;
}) {
  let text: string;
  // Offline is an everyday state, said plainly; a refused update is a warning sign.
  let tone: "muted" | "success" | "accent" | "danger" = "muted";
  if (phase.kind === "checking" || (checking && phase.kind === "idle")) {
    text = "Checking for updates…";
  } else if (phase.kind === "downloading") {
    const of = phase.total ? ` of ${formatBytes(phase.total)}` : "";
    text = `Downloading… ${formatBytes(phase.downloaded)}${of}`;
  } else if (phase.kind === "installing") {
    text = "Verifying the signature and installing…";
  } else if (phase.kind === "installed") {
    text = `Coffer ${phase.version} is installed. Restart Coffer to use it.`;
    tone = "success";
  } else if (phase.kind === "failed") {
    text = phase.message;
    tone = "danger";
  } else if (!outcome) {
    text = checkAtStart ? "Not checked yet." : "Not checked yet: checking at start is off.";
  } else if (outcome.error !== undefined) {
    text = outcome.error;
    tone = outcome.offline ? "muted" : "danger";
  } else if (outcome.available) {
    text = `Coffer ${outcome.available.version} is available (this is ${outcome.available.current_version}).`;
    tone = "accent";
  } else {
    text = `Coffer is up to date. Checked ${formatRelative(outcome.at)}.`;
    tone = "success";
  }
  return (
    <p className={`update-status update-status-${tone}`} role="status" aria-label="Update status">
      {text}
    </p>
  );
}

export function UpdatesSection() {
  const toast = useToast();
  const status = useLoad(() => api.updateStatus(), []);
  const data = status.data;
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const [checked, setChecked] = useState<Outcome | null>(null);
  const [endpoint, setEndpoint] = useState("");
  const [endpointError, setEndpointError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const savedEndpoint = data?.endpoint ?? "";
  useEffect(() => setEndpoint(savedEndpoint), [savedEndpoint]);

  // The check at start may still be running when this screen opens: follow it.
  useEffect(() => {
    if (!data?.checking) return;
    const timer = setTimeout(status.reload, 700);
    return () => clearTimeout(timer);
  }, [data, status.reload]);

  const outcome = checked ?? fromLastCheck(data?.last_check);
  const busy = phase.kind === "checking" || phase.kind === "downloading" || phase.kind === "installing";
  const offered = outcome?.available ?? null;

  async function check() {
    setPhase({ kind: "checking" });
    try {
      const available = await api.checkForUpdates();
      setChecked({ at: Date.now(), available });
    } catch (e) {
      setChecked({ at: Date.now(), error: errorMessage(e), offline: toAppError(e).code === "unavailable" });
    }
    setPhase({ kind: "idle" });
  }

  async function install() {
    const progress = new Channel<DownloadProgress_Deserialize>();
    progress.onmessage = (p) =>
      setPhase(
        p.total != null && p.downloaded >= p.total
          ? { kind: "installing" }
          : { kind: "downloading", downloaded: p.downloaded, total: p.total ?? null },
      );
    setPhase({ kind: "downloading", downloaded: 0, total: null });
    try {
      const version = await api.installUpdate(progress);
      setPhase({ kind: "installed", version });
    } catch (e) {
      setPhase({ kind: "failed", message: errorMessage(e) });
    }
  }

  async function savePreferences(nextEndpoint: string, checkAtStart: boolean) {
    setSaving(true);
    setEndpointError(null);
    try {
      const saved = await api.setUpdatePreferences(nextEndpoint, checkAtStart);
      if (saved.endpoint !== savedEndpoint) {
        setChecked(null);
        toast(saved.endpoint === saved.default_endpoint ? "Update endpoint reset to the default" : "Update endpoint saved");
      } else if (checkAtStart !== data?.check_at_start) {
        toast(checkAtStart ? "Coffer will check for updates at start" : "Coffer will not check for updates at start");
      }
      status.reload();
    } catch (e) {
      setEndpointError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  }

  const dirty = endpoint.trim() !== savedEndpoint;
  const custom = data ? data.endpoint !== data.default_endpoint : false;

  return (
    <section className="card" aria-labelledby="update-settings">
      <header className="card-header">
        <h2 id="update-settings">Updates</h2>
      </header>

      <div className="setting-row">
        <div className="setting-text">
          <span className="setting-label">Coffer {data?.current_version ?? ""}</span>
          <StatusLine
            phase={phase}
            outcome={outcome}
            checking={data?.checking ?? false}
            checkAtStart={data?.check_at_start ?? false}
          />
          {offered?.notes && phase.kind === "idle" ? <p className="field-hint update-notes">{offered.notes}</p> : null}
          {phase.kind === "downloading" || phase.kind === "installing" ? (
            <progress
              className="update-progress"
              aria-label="Download progress"
              max={phase.kind === "downloading" && phase.total ? phase.total : 1}
              value={phase.kind === "installing" ? 1 : phase.total ? phase.downloaded : undefined}
            />
          ) : null}
        </div>
        <div className="update-actions">
          {phase.kind === "installed" ? (
            <Button variant="primary" icon="refresh" onClick={() => void api.restartApp()}>
              Restart Coffer
            </Button>
          ) : (
            <>
              {offered && (phase.kind === "idle" || phase.kind === "failed") ? (
                <Button variant="primary" icon="download" onClick={() => void install()}>
                  Download and install
                </Button>
              ) : null}
              <Button icon="refresh" busy={phase.kind === "checking"} disabled={busy || !data} onClick={() => void check()}>
                Check for updates
              </Button>
            </>
          )}
        </div>
      </div>

      <form
        className="setting-row setting-row-stacked"
        onSubmit={(e) => {
          e.preventDefault();
          if (dirty) void savePreferences(endpoint, data?.check_at_start ?? false);
        }}
        noValidate
      >
        <div className="setting-text">
          <label htmlFor="update-endpoint" className="setting-label">
            Update endpoint
          </label>
          <p className="field-hint">
            Where Coffer looks for new versions (https). Whatever it offers is installed only when signed with
            Coffer&apos;s release key.
          </p>
        </div>
        <div className="setting-control">
          <div className="setting-input">
            <input
              id="update-endpoint"
              className="input input-setting"
              aria-label="Update endpoint"
              aria-invalid={endpointError ? true : undefined}
              aria-describedby={endpointError ? "update-endpoint-error" : undefined}
              value={endpoint}
              placeholder={data?.default_endpoint}
              spellCheck={false}
              autoComplete="off"
              disabled={!data}
              onChange={(e) => {
                setEndpoint(e.target.value);
                setEndpointError(null);
              }}
            />
            <Button
              type="submit"
              size="sm"
              variant="primary"
              className={dirty || saving ? undefined : "invisible"}
              disabled={!dirty}
              busy={saving}
              aria-label="Save update endpoint"
            >
              Save
            </Button>
          </div>
          {endpointError ? (
            <p className="field-error" id="update-endpoint-error" role="alert">
              {endpointError}
            </p>
          ) : custom ? (
            <Button
              variant="link"
              size="sm"
              className="update-reset"
              aria-label="Use the default update endpoint"
              onClick={() => void savePreferences("", data?.check_at_start ?? false)}
            >
              Use the default endpoint
            </Button>
          ) : null}
        </div>
      </form>

      <div className="setting-row">
        <div className="setting-text">
          <Checkbox
            label="Check for updates at start"
            checked={data?.check_at_start ?? false}
            disabled={!data || saving}
            onChange={(e) => void savePreferences(savedEndpoint, e.target.checked)}
            description="In the background, once per start. Without a network it says so in one line and nothing else changes."
          />
        </div>
      </div>
    </section>
  );
}
