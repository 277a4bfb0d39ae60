//! Where a team vault lives and how to reach it: a PostgreSQL URL, always over TLS.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::Config;
use rustls::pki_types::pem::PemObject;
use zeroize::Zeroizing;

use super::Server;
use crate::error::{Error, Result};

/// How long connecting may take, from the first packet to a logged-in session,
/// before the server counts as unreachable (offline); `connect_timeout=N` in the URL
/// sets another.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What each session sets first: how long a statement may wait for a lock, and run.
const SESSION_OPTIONS: &str = "-c lock_timeout=5s -c statement_timeout=120s";

/// The connection attempts still running: server and login, and when each began.
type Attempts = std::collections::HashMap<u64, (String, std::time::Instant)>;
static IN_FLIGHT: std::sync::LazyLock<std::sync::Mutex<Attempts>> =
    std::sync::LazyLock::new(Default::default);
static NEXT_ATTEMPT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn attempt_over(id: u64) {
    if let Ok(mut running) = IN_FLIGHT.lock() {
        running.remove(&id);
    }
}

/// A connection whose sent data goes unacknowledged this long is dead (a network
/// gone mid-query); an idle one is probed after `KEEPALIVE_IDLE`.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(10);
const KEEPALIVE_IDLE: Duration = Duration::from_secs(5);

/// A team server's address, as `postgres://[user[:password]@]host[:port]/database`
/// with libpq's `sslrootcert=FILE` to trust one certificate authority instead of the
/// system's. TLS is always required and the server's name always verified: an
/// `sslmode` that would allow less is refused.
#[derive(Clone)]
pub struct ServerUrl {
    config: Config,
    ca: Option<PathBuf>,
}

impl ServerUrl {
    pub fn parse(url: &str) -> Result<ServerUrl> {
        let bad = |why: &str| Error::invalid(format!("team server URL: {why}"));
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad("it starts with postgres://"));
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut ca = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslrootcert" => {
                    let path = percent_encoding::percent_decode_str(v)
                        .decode_utf8()
                        .map_err(|_| bad("sslrootcert is not UTF-8"))?;
                    ca = Some(PathBuf::from(path.as_ref()));
                }
                "sslmode" if matches!(v, "require" | "verify-ca" | "verify-full") => {}
                "sslmode" => {
                    return Err(bad(
                        "a team vault is reached over TLS only (sslmode=verify-full)",
                    ))
                }
                "application_name" | "connect_timeout" | "options" => kept.push(pair),
                _ => return Err(bad(&format!("unknown parameter '{k}'"))),
            }
        }
        let plain = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config = Config::from_str(&plain).map_err(|_| bad("not a PostgreSQL URL"))?;
        if config.get_hosts().is_empty() || config.get_dbname().is_none() {
            return Err(bad("it names a host and a database"));
        }
        if config
            .get_hosts()
            .iter()
            .any(|h| !matches!(h, Host::Tcp(_)))
        {
            return Err(bad("the host is a name or an address, not a socket path"));
        }
        config.ssl_mode(SslMode::Require);
        // SCRAM bound to this TLS channel: a server that asks for the password in
        // the clear, or a man in the middle, gets nothing.
        config.channel_binding(postgres::config::ChannelBinding::Require);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config
            .keepalives(true)
            .keepalives_idle(KEEPALIVE_IDLE)
            .keepalives_interval(Duration::from_secs(1))
            .keepalives_retries(3)
            .tcp_user_timeout(TCP_USER_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("coffer");
        }
        // A lock another session holds (an administrator's open transaction on a
        // workspace's head row, a schema change) makes a commit wait: not forever, or
        // a sync would hold the app's session until the server let go. Options in the
        // URL come after these, so `options=-c lock_timeout=…` there wins.
        let given = config.get_options().map(str::to_string).unwrap_or_default();
        config.options(format!("{SESSION_OPTIONS} {given}").trim_end());
        Ok(ServerUrl { config, ca })
    }

    /// The same server, logged in as `user` with `password`.
    pub fn with_login(&self, user: &str, password: &str) -> ServerUrl {
        let mut config = self.config.clone();
        config.user(user);
        config.password(password);
        ServerUrl {
            config,
            ca: self.ca.clone(),
        }
    }

    /// The address without user or password, for messages and `team status`.
    pub fn display(&self) -> String {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            _ => String::new(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let db = self.config.get_dbname().unwrap_or("");
        format!("postgres://{host}:{port}/{db}")
    }

    /// The address to keep in the vault: no user, no password, the authority's path
    /// (absolute) kept.
    pub fn stored(&self) -> String {
        match &self.ca {
            None => self.display(),
            Some(ca) => {
                let ca = std::fs::canonicalize(ca).unwrap_or_else(|_| ca.clone());
                let path = ca.display().to_string();
                let encoded = percent_encoding::utf8_percent_encode(
                    &path,
                    percent_encoding::NON_ALPHANUMERIC,
                );
                format!("{}?sslrootcert={encoded}", self.display())
            }
        }
    }

    pub fn has_password(&self) -> bool {
        self.config.get_password().is_some()
    }

    pub fn user(&self) -> Option<&str> {
        self.config.get_user()
    }

    /// Connects over TLS, checking the server's certificate against `sslrootcert` or
    /// the system's roots.
    pub fn connect(&self) -> Result<Server> {
        let tls = tls_config(self.ca.as_deref())?;
        let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
        // The socket's own timeout covers reaching the server, not what follows: a
        // server that accepts and then says nothing (stopped, swapped out) would hold
        // the handshake forever. The whole of it runs on its own thread, waited for
        // until the deadline; a late answer is dropped with the thread.
        let deadline = self
            .config
            .get_connect_timeout()
            .copied()
            .unwrap_or(CONNECT_TIMEOUT);
        // An attempt that went unanswered past its deadline still waits on its
        // thread (a paused server answers it later): while one does, another to the
        // same server and login fails at once instead of piling up beside it.
        let key = format!("{}\0{}", self.display(), self.user().unwrap_or(""));
        let id = {
            let mut running = IN_FLIGHT
                .lock()
                .map_err(|_| Error::Io("connect state poisoned".into()))?;
            if running
                .values()
                .any(|(k, started)| *k == key && started.elapsed() > deadline)
            {
                return Err(Error::Io(format!(
                    "team server at {} is unreachable: an earlier attempt still waits for its answer",
                    self.display()
                )));
            }
            let id = NEXT_ATTEMPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            running.insert(id, (key, std::time::Instant::now()));
            id
        };
        let config = self.config.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("coffer-connect".into())
            .spawn(move || {
                let result = config.connect(connector);
                attempt_over(id);
                let _ = tx.send(result);
            });
        if let Err(e) = spawned {
            attempt_over(id);
            return Err(Error::Io(format!("cannot start a thread: {e}")));
        }
        let client = match rx.recv_timeout(deadline) {
            Ok(done) => done.map_err(|e| unreachable(self, &e))?,
            Err(_) => {
                return Err(Error::Io(format!(
                    "team server at {} is unreachable: no answer in {} s",
                    self.display(),
                    deadline.as_secs_f32()
                )))
            }
        };
        Ok(Server::new(client))
    }
}

/// A failure to connect, said without the password (PostgreSQL's messages never hold
/// it; the URL is shown without it).
fn unreachable(url: &ServerUrl, e: &postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        // 28P01 wrong password, 28000 no such login or not allowed: one message.
        if db.code().code().starts_with("28") {
            return Error::Auth(format!(
                "the team server at {} refused this login (removed from the team, or not joined yet)",
                url.display()
            ));
        }
        return Error::Io(format!(
            "team server at {}: {}",
            url.display(),
            db.message()
        ));
    }
    // The cause chain (rustls names certificate problems there).
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    let why = if detail.contains("certificate") || detail.contains("Certificate") {
        "its TLS certificate is not trusted (give the authority with sslrootcert=FILE)"
    } else if detail.contains("timed out") || detail.contains("timeout") {
        "no answer in time"
    } else {
        "cannot connect"
    };
    Error::Io(format!(
        "team server at {} is unreachable: {why}",
        url.display()
    ))
}

fn tls_config(ca: Option<&Path>) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            let pem = Zeroizing::new(std::fs::read(path).map_err(|e| {
                Error::Io(format!(
                    "cannot read the certificate authority {}: {e}",
                    path.display()
                ))
            })?);
            let certs = rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| {
                    Error::invalid(format!("{} is not a PEM certificate", path.display()))
                })?;
            if certs.is_empty() {
                return Err(Error::invalid(format!(
                    "{} holds no certificate",
                    path.display()
                )));
            }
            for cert in certs {
                roots.add(cert).map_err(|_| {
                    Error::invalid(format!("{} is not a usable certificate", path.display()))
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                // A malformed system certificate is skipped, as every TLS client does.
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| Error::Io("TLS is not available".into()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_required_and_the_password_never_shows() {
        let url = ServerUrl::parse(
            "postgres://admin:hunter2@db.example:5433/coffer?sslmode=verify-full&sslrootcert=/tmp/ca%20x.crt",
        )
        .unwrap();
        assert_eq!(url.display(), "postgres://db.example:5433/coffer");
        assert_eq!(url.ca.as_deref(), Some(Path::new("/tmp/ca x.crt")));
        assert_eq!(url.user(), Some("admin"));
        for weak in ["disable", "allow", "prefer"] {
            let err = ServerUrl::parse(&format!("postgres://h/db?sslmode={weak}"))
                .err()
                .unwrap();
            assert!(err.to_string().contains("TLS only"), "{err}");
        }
        for bad in [
            "mysql://h/db",
            "postgres://h/db?sslcert=x",
            "postgres:///db?host=/run/postgresql",
            "postgres://h",
        ] {
            assert!(ServerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
