// Unlock with a member name and passphrase, or with the device keyring when this
// member chose "Remember on this device" here before.

import { useEffect, useRef, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { Checkbox, TextField } from "../../components/Field";
import { api, errorMessage } from "../../lib/ipc";
import { lastMember } from "../../lib/lastMember";
import type { UnlockResult } from "../../lib/types";
import { AuthCard } from "./AuthCard";

export function Unlock({
  path,
  notice,
  onUnlocked,
}: {
  path: string;
  notice: string | null;
  onUnlocked: (result: UnlockResult) => void;
}) {
  const [member, setMember] = useState(lastMember);
  const pass = useRef<HTMLInputElement>(null);
  const [remember, setRemember] = useState(false);
  const [deviceReady, setDeviceReady] = useState(false);
  const [busy, setBusy] = useState<"passphrase" | "device" | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setDeviceReady(false);
    if (!member.trim()) return;
    let cancelled = false;
    const t = setTimeout(() => {
      api.deviceRemembered(member.trim()).then(
        (yes) => !cancelled && setDeviceReady(yes),
        () => undefined,
      );
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [member]);

  async function submit() {
    const name = member.trim();
    const passphrase = pass.current?.value ?? "";
    if (pass.current) pass.current.value = "";
    if (!name || !passphrase) {
      setError(!name ? "Enter your member name." : "Enter your passphrase.");
      return;
    }
    setBusy("passphrase");
    setError(null);
    try {
      onUnlocked(await api.unlock(name, passphrase, remember));
    } catch (e) {
      setError(errorMessage(e));
      setBusy(null);
      pass.current?.focus();
    }
  }

  async function withDevice() {
    setBusy("device");
    setError(null);
    try {
      onUnlocked(await api.unlockWithDevice(member.trim()));
    } catch (e) {
      setError(errorMessage(e));
      setBusy(null);
    }
  }

  return (
    <AuthCard title="Unlock Coffer" path={path} intro="Enter your member name and passphrase to open the vault.">
      {notice ? <Alert tone="info">{notice}</Alert> : null}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        noValidate
      >
        <TextField
          label="Member name"
          value={member}
          onChange={(e) => setMember(e.target.value)}
          autoComplete="username"
          autoFocus={!member}
        />
        <TextField ref={pass} label="Passphrase" type="password" autoComplete="current-password" autoFocus={!!member} />
        <Checkbox
          label="Remember on this device"
          checked={remember}
          onChange={(e) => setRemember(e.target.checked)}
          description="Keep a device key in the system keyring so this computer can unlock without the passphrase."
        />
        {error ? <Alert>{error}</Alert> : null}
        <Button type="submit" variant="primary" busy={busy === "passphrase"} disabled={busy !== null} className="btn-block">
          Unlock
        </Button>
        {deviceReady ? (
          <Button onClick={() => void withDevice()} busy={busy === "device"} disabled={busy !== null} icon="key" className="btn-block">
            Unlock with this device
          </Button>
        ) : null}
      </form>
    </AuthCard>
  );
}
