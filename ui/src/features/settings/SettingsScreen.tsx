// Settings, in four tabs. Team: the team server (see TeamSection). General: the workspace's windows and auto-lock (validated
// by the backend, errors shown inline), the audit archive (owners), the member's own
// passphrase and recovery key, "Remember on this device" through the OS keyring, and updates. Backups:
// the vault's snapshots, and a restore from one. Health: the app's `coffer doctor`.

import { useEffect, useState } from "react";
import { Alert } from "../../components/Alert";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { Checkbox } from "../../components/Field";
import { useConfirmPassphrase } from "../../components/PassphrasePrompt";
import { useToast } from "../../components/Toast";
import { api, errorMessage } from "../../lib/ipc";
import { withPassphraseAgain } from "../../lib/reauth";
import type { RestoreOutcome, Setting, Snapshot } from "../../lib/types";
import { useLoad } from "../../lib/useLoad";
import { ChangePassphraseDialog } from "../passphrase/ChangePassphraseDialog";
import { can, useSession } from "../shell/session";
import { ArchiveSection } from "./ArchiveSection";
import { BackupsSection } from "./BackupsSection";
import { HealthSection } from "./HealthSection";
import { RecoveryKeySetting } from "./RecoveryKeySection";
import { TeamSection } from "./TeamSection";
import { UpdatesSection } from "./UpdatesSection";

const SETTINGS: { key: string; label: string; help: string; placeholder: string }[] = [
  {
    key: "rollback-window",
    label: "Rollback window",
    help: "How long a replaced version can be rolled back to. After that its ciphertext and fingerprint are destroyed; its record stays.",
    placeholder: "7d",
  },
  {
    key: "max-versions",
    label: "Max versions",
    help: "How many versions per environment keep their ciphertext, whatever their age.",
    placeholder: "10",
  },
  {
    key: "recovery-window",
    label: "Recovery window",
    help: "How long a deleted secret can be restored before it is purged for good.",
    placeholder: "7d",
  },
  {
    key: "auto-lock",
    label: "Auto-lock after",
    help: "Lock the vault after this long without activity (1m to 7d). Locking drops every key from memory.",
    placeholder: "15m",
  },
];

function SettingRow({
  meta,
  setting,
  editable,
  onSave,
}: {
  meta: (typeof SETTINGS)[number];
  setting: Setting | undefined;
  editable: boolean;
  onSave: (key: string, value: string) => Promise<void>;
}) {
  const [value, setValue] = useState(setting?.value ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const saved = setting?.value ?? "";
  useEffect(() => setValue(saved), [saved]);
  const dirty = value.trim() !== saved;
  const id = `setting-${meta.key}`;

  async function save() {
    if (!dirty || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onSave(meta.key, value.trim());
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="setting-row"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      noValidate
    >
      <div className="setting-text">
        <label htmlFor={id} className="setting-label">
          {meta.label}
          {setting?.is_default ? <Badge tone="neutral">default</Badge> : null}
        </label>
        <p className="field-hint">{meta.help}</p>
      </div>
      <div className="setting-control">
        <div className="setting-input">
          <input
            id={id}
            className="input input-setting"
            aria-label={meta.label}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-error` : undefined}
            value={value}
            placeholder={meta.placeholder}
            disabled={!editable}
            onChange={(e) => {
              setValue(e.target.value);
              setError(null);
            }}
          />
          {editable ? (
            <Button
              type="submit"
              size="sm"
              variant="primary"
              className={dirty || busy ? undefined : "invisible"}
              disabled={!dirty}
              busy={busy}
              aria-label={`Save ${meta.label.toLowerCase()}`}
            >
              Save
            </Button>
          ) : null}
        </div>
        {error ? (
          <p className="field-error" id={`${id}-error`} role="alert">
            {error}
          </p>
        ) : null}
      </div>
    </form>
  );
}

function DeviceSetting() {
  const session = useSession();
  const toast = useToast();
  const status = useLoad(() => api.deviceStatus(), [session.revision]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remembered = status.data != null;

  async function toggle(remember: boolean) {
    setBusy(true);
    setError(null);
    try {
      await api.setRememberDevice(remember);
      toast(remember ? "This device will unlock without the passphrase" : "This device is forgotten");
      status.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="setting-row">
      <div className="setting-text">
        <Checkbox
          label="Remember on this device"
          checked={remembered}
          disabled={busy || status.loading}
          onChange={(e) => void toggle(e.target.checked)}
          description={
            remembered
              ? `A device key for ${session.member} is kept in ${status.data}. Unchecking removes it.`
              : `Keep a device key for ${session.member} in the system keyring (e.g. GNOME Keyring), so this computer unlocks without the passphrase.`
          }
        />
        {error ? (
          <Alert tone="warning" title="The system keyring is not available">
            {error} Unlock keeps using your passphrase.
          </Alert>
        ) : null}
      </div>
    </div>
  );
}

function PassphraseSetting() {
  const session = useSession();
  const [changing, setChanging] = useState(false);
  return (
    <div className="setting-row">
      <div className="setting-text">
        <span className="setting-label">Passphrase</span>
        <p className="field-hint">
          Opens the vault as {session.member}, in this app and on the command line. Devices you chose to remember keep
          unlocking after a change.
        </p>
      </div>
      <Button icon="key" onClick={() => setChanging(true)}>
        Change passphrase
      </Button>
      {changing ? <ChangePassphraseDialog onChanged={() => setChanging(false)} onCancel={() => setChanging(false)} /> : null}
    </div>
  );
}

const TABS = [
  { id: "general", label: "General" },
  { id: "team", label: "Team" },
  { id: "backups", label: "Backups" },
  { id: "health", label: "Health" },
] as const;

export type SettingsTab = (typeof TABS)[number]["id"];

function Tabs({ tab, onTab }: { tab: SettingsTab; onTab: (t: SettingsTab) => void }) {
  return (
    <div className="tabs" role="tablist" aria-label="Settings sections">
      {TABS.map((t) => (
        <button
          key={t.id}
          type="button"
          role="tab"
          id={`settings-tab-${t.id}`}
          aria-selected={tab === t.id}
          aria-controls={`settings-panel-${t.id}`}
          tabIndex={tab === t.id ? 0 : -1}
          className={`tab${tab === t.id ? " active" : ""}`}
          onClick={() => onTab(t.id)}
          onKeyDown={(e) => {
            // Arrow keys move between tabs, as a tablist's do.
            const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
            if (!step) return;
            const i = TABS.findIndex((x) => x.id === tab);
            const next = TABS[(i + step + TABS.length) % TABS.length]!;
            onTab(next.id);
            document.getElementById(`settings-tab-${next.id}`)?.focus();
          }}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function SettingsScreen({
  vaultPath,
  initialTab = "general",
  onRestored = () => undefined,
}: {
  vaultPath: string;
  initialTab?: SettingsTab;
  /** After a restore: the backend has locked the vault; the app shows the unlock screen. */
  onRestored?: (from: Snapshot, outcome: RestoreOutcome) => void;
}) {
  const [tab, setTab] = useState<SettingsTab>(initialTab);
  return (
    <section className="page" aria-labelledby="settings-title">
      <SettingsHeader tab={tab} />
      <Tabs tab={tab} onTab={setTab} />
      <div
        className="tab-panel"
        role="tabpanel"
        id={`settings-panel-${tab}`}
        aria-labelledby={`settings-tab-${tab}`}
      >
        {tab === "general" ? <GeneralSettings vaultPath={vaultPath} /> : null}
        {tab === "team" ? <TeamSection /> : null}
        {tab === "backups" ? <BackupsSection onRestored={onRestored} /> : null}
        {tab === "health" ? <HealthSection /> : null}
      </div>
    </section>
  );
}

function SettingsHeader({ tab }: { tab: SettingsTab }) {
  const session = useSession();
  const editable = can(session, "manage");
  return (
    <div className="page-header">
      <div>
        <h1 id="settings-title">Settings</h1>
        <p className="page-subtitle">
          {tab === "backups" || tab === "team" ? (
            "The whole vault: every workspace in it"
          ) : (
            <>
              Workspace <strong>{session.workspace}</strong>
              {editable || tab !== "general" ? "" : " · only members who may manage can change these"}
            </>
          )}
        </p>
      </div>
    </div>
  );
}

function GeneralSettings({ vaultPath }: { vaultPath: string }) {
  const session = useSession();
  const toast = useToast();
  const editable = can(session, "manage");
  const confirmPassphrase = useConfirmPassphrase();
  const settings = useLoad(() => api.getSettings(session.workspace), [session.workspace, session.revision]);

  async function save(key: string, value: string) {
    // A shorter window destroys old values; with a protected environment the backend
    // asks for the passphrase first.
    const s = await withPassphraseAgain(
      () => api.setSetting(session.workspace, key, value),
      confirmPassphrase,
    );
    toast(`${SETTINGS.find((m) => m.key === key)?.label ?? key} set to ${s.value}`);
    settings.reload();
    session.refresh();
  }

  return (
    <>
      {settings.error ? <Alert title="Could not load settings">{settings.error.message}</Alert> : null}

      <section className="card" aria-labelledby="ws-settings">
        <header className="card-header">
          <h2 id="ws-settings">Versions and recovery</h2>
        </header>
        {SETTINGS.map((meta) => (
          <SettingRow
            key={meta.key}
            meta={meta}
            setting={settings.data?.find((s) => s.key === meta.key)}
            editable={editable}
            onSave={save}
          />
        ))}
      </section>

      <ArchiveSection />

      <section className="card" aria-labelledby="passphrase-settings">
        <header className="card-header">
          <h2 id="passphrase-settings">Your passphrase</h2>
        </header>
        <PassphraseSetting />
        <RecoveryKeySetting />
      </section>

      <section className="card" aria-labelledby="device-settings">
        <header className="card-header">
          <h2 id="device-settings">This device</h2>
        </header>
        <DeviceSetting />
        <div className="setting-row">
          <div className="setting-text">
            <span className="setting-label">Vault file</span>
            <p className="field-hint">
              Shared with the <code>coffer</code> command line: changes made there appear here within two seconds.
            </p>
          </div>
          <code className="path">{vaultPath}</code>
        </div>
      </section>

      <UpdatesSection />
    </>
  );
}
