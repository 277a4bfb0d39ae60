//! What the integration tests share: a vault in a temporary directory with a manual
//! clock, its owner's session, and short ways to set and reveal values.
#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::sync::Arc;

use coffer_core::access::Role;
use coffer_core::clock::ManualClock;
use coffer_core::crypto::KdfParams;
use coffer_core::value::{Passphrase, SecretValue};
use coffer_core::{Scope, Session, SetRequest, ValueSource, Vault};

pub const OWNER_PASS: &str = "owner pass phrase";

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub clock: ManualClock,
}

impl Fixture {
    pub fn new() -> (Fixture, Session) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vault.db");
        let clock = ManualClock::new(1_800_000_000_000);
        let s = Vault::create(
            &path,
            "alice",
            &pass(OWNER_PASS),
            KdfParams::INSECURE_FAST,
            Arc::new(clock.clone()),
        )
        .unwrap();
        (
            Fixture {
                _dir: dir,
                path,
                clock,
            },
            s,
        )
    }

    pub fn open(&self, member: &str, passphrase: &str) -> coffer_core::Result<Session> {
        Vault::open(&self.path)
            .unwrap()
            .with_clock(Arc::new(self.clock.clone()))
            .with_kdf(KdfParams::INSECURE_FAST)
            .unlock(member, &pass(passphrase))
    }

    pub fn member(&self, owner: &mut Session, name: &str, role: Role) -> Session {
        let p = format!("{name} pass phrase");
        owner.add_member("default", name, role, &pass(&p)).unwrap();
        self.open(name, &p).unwrap()
    }
}

pub fn pass(p: &str) -> Passphrase {
    Passphrase::new(p.to_string())
}

pub fn value(v: &str) -> ValueSource {
    ValueSource::Given(SecretValue::from_string(v.to_string()).unwrap())
}

pub fn set(s: &mut Session, name: &str, env: &str, v: &str) -> coffer_core::Result<i64> {
    let mut req = SetRequest::new(name, value(v));
    req.environment = Some(env.into());
    s.set_secret(&Scope::default(), req).map(|o| o.version)
}

pub fn reveal(s: &mut Session, name: &str, env: &str) -> coffer_core::Result<String> {
    s.reveal(&Scope::default(), name, Some(env), None, None)
        .map(|v| v.expose().to_string())
}

impl Fixture {
    /// The vault file opened with rusqlite, as an attacker without keys would.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path).unwrap()
    }
}
