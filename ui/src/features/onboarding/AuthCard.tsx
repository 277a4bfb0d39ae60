import type { ReactNode } from "react";
import { Logo } from "../../components/Logo";

/** The centred card of the first-run and unlock screens. */
export function AuthCard({
  title,
  intro,
  path,
  wide = false,
  children,
}: {
  title: string;
  intro?: ReactNode;
  path: string;
  /** Room for the recovery key's four columns. */
  wide?: boolean;
  children: ReactNode;
}) {
  return (
    <main className="auth-page">
      <div className={wide ? "auth-card auth-card-wide" : "auth-card"}>
        <div className="auth-brand">
          <Logo size={36} />
          <span>Coffer</span>
        </div>
        <h1>{title}</h1>
        {intro ? <p className="auth-intro">{intro}</p> : null}
        {children}
      </div>
      <p className="auth-path" title="The vault file this app opens">
        Vault file: <code>{path}</code>
      </p>
    </main>
  );
}
