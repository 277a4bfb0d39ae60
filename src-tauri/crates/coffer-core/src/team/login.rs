//! A member's login on a team server: an opaque role name and a password, both derived
//! from the member's own key, so any machine where they unlock can connect and the
//! passphrase never leaves it.

use base64::Engine;
use zeroize::Zeroizing;

use crate::crypto::Identity;

/// A member's login: `name` is opaque (it says nothing about who they are).
pub struct Login {
    pub name: String,
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The login of `identity` on the team server of vault `vault_id`.
pub fn login_for(identity: &Identity, vault_id: &str) -> Login {
    let name_key = identity.derive(&format!("coffer team login name {vault_id}"));
    let pass_key = identity.derive(&format!("coffer team login password {vault_id}"));
    let name = format!("coffer_m_{}", hex::encode(&name_key.expose()[..8]));
    let password =
        Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pass_key.expose()));
    Login { name, password }
}

/// The SCRAM-SHA-256 verifier of `password` (random salt), which is all the server
/// stores: it can check the password and never learns it.
pub fn scram_verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_the_members_own_per_vault_and_opaque() {
        let alice = Identity::generate().unwrap();
        let bob = Identity::generate().unwrap();
        let a1 = login_for(&alice, "vault-1");
        assert_eq!(a1.name, login_for(&alice, "vault-1").name);
        assert_eq!(*a1.password, *login_for(&alice, "vault-1").password);
        assert_ne!(a1.name, login_for(&alice, "vault-2").name);
        assert_ne!(a1.name, login_for(&bob, "vault-1").name);
        assert!(a1.name.starts_with("coffer_m_") && a1.name.len() == 25);
        assert!(a1.password.len() >= 43);
        assert!(!format!("{a1:?}").contains(a1.password.as_str()));
        let v = scram_verifier(&a1.password);
        assert!(v.starts_with("SCRAM-SHA-256$4096:"), "{v}");
        assert!(!v.contains(a1.password.as_str()));
    }
}
