// Unlock with a member name and passphrase, or with the device keyring when this
// member chose "Remember on this device" here before; "Forgot your passphrase?" opens
// Recover, which sets a new one with the member's recovery key.

import { useEffect, useState } from "react";
import { Alert } from "../../components/Alert";
import { Button } from "../../components/Button";
import { Checkbox } from "../../components/Field";
import { api, errorMessage } from "../../lib/ipc";
import { lastMember } from "../../lib/lastMember";
import type { UnlockResult } from "../../lib/types";
import { RecoverDialog } from "../recovery/RecoverDialog";
import { AuthCard } from "./AuthCard";
import { MemberPassphraseForm } from "./MemberPassphraseForm";

export function Unlock({
  path,
  notice,
  onUnlocked,
}: {
  path: string;
  notice: string | null;
  onUnlocked: (result: UnlockResult) => void;
}) {
  const [initial] = useState(lastMember);
  const [member, setMember] = useState(initial);
  const [remember, setRemember] = useState(false);
  const [deviceReady, setDeviceReady] = useState(false);
  const [deviceBusy, setDeviceBusy] = useState(false);
  const [deviceError, setDeviceError] = useState<string | null>(null);
  const [recovering, setRecovering] = useState(false);

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

  async function withDevice() {
    setDeviceBusy(true);
    setDeviceError(null);
    try {
      onUnlocked(await api.unlockWithDevice(member.trim()));
    } catch (e) {
      setDeviceError(errorMessage(e));
      setDeviceBusy(false);
    }
  }

  return (
    <AuthCard title="Unlock Coffer" path={path} intro="Enter your member name and passphrase to open the vault.">
      {notice ? <Alert tone="info">{notice}</Alert> : null}
      <MemberPassphraseForm
        member={{
          initial,
          onChange: (m) => {
            setMember(m);
            setDeviceError(null);
          },
        }}
        passphrase="current"
        submitLabel="Unlock"
        busy={deviceBusy}
        error={deviceError}
        after={
          <Checkbox
            label="Remember on this device"
            checked={remember}
            onChange={(e) => setRemember(e.target.checked)}
            description="Keep a device key in the system keyring so this computer can unlock without the passphrase."
          />
        }
        actions={
          <>
            {deviceReady ? (
              <Button onClick={() => void withDevice()} busy={deviceBusy} icon="key" className="btn-block">
                Unlock with this device
              </Button>
            ) : null}
            <Button variant="link" className="auth-forgot" onClick={() => setRecovering(true)}>
              Forgot your passphrase?
            </Button>
          </>
        }
        onSubmit={async (name, passphrase) => {
          setDeviceError(null);
          onUnlocked(await api.unlock(name, passphrase, remember));
        }}
      />
      {recovering ? (
        <RecoverDialog initialMember={member.trim()} onClose={() => setRecovering(false)} onRecovered={onUnlocked} />
      ) : null}
    </AuthCard>
  );
}
