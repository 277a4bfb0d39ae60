//! Unlocked sessions: `coffer unlock --for DUR` leaves a small agent process holding
//! the member's key on a private Unix socket, so later commands skip the passphrase's
//! key derivation; `coffer lock` (or the deadline) ends it.
//!
//! Why an agent and not the kernel keyring: keyutils calls are refused inside many
//! containers and CI sandboxes (seccomp) and a plain CI shell has no session keyring,
//! so an agent works in more places; it also ends on its own at the deadline, and
//! `lock` wipes the key from memory instead of trusting a keyring timeout. Like
//! ssh-agent, it trusts the directory it listens in: `$XDG_RUNTIME_DIR/coffer` (or
//! `/tmp/coffer-UID`), created 0700 and refused if anyone else owns it or can enter it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use coffer_core::clock::{Clock, SystemClock};
use coffer_core::time_fmt::{format_duration_ms, format_timestamp_ms, parse_duration_ms};
use coffer_core::{Error, Lease, Result, Session, Vault};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const LONGEST_MS: i64 = 24 * 3_600_000;
/// What the agent says first to a client it has identified.
const GREETING: &str = "coffer-agent\n";
/// How long a client waits for the agent before unlocking the usual way.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

fn now_ms() -> i64 {
    SystemClock.now_ms()
}

/// The private directory agents listen in (and `run --file` writes its run
/// directories in), created if needed and checked every time.
pub(crate) fn runtime_dir() -> Result<PathBuf> {
    let uid = nix::unistd::getuid().as_raw();
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(base) => PathBuf::from(base).join("coffer"),
        None => std::env::temp_dir().join(format!("coffer-{uid}")),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::Io(format!("cannot create {}: {e}", dir.display()))),
    }
    let meta = std::fs::symlink_metadata(&dir)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", dir.display())))?;
    if !meta.is_dir() || meta.uid() != uid || meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Io(format!(
            "{} must be a directory only you can enter (mode 0700); refusing to use it",
            dir.display()
        )));
    }
    Ok(dir)
}

/// One socket per vault file and member.
pub fn socket_path(vault: &Path, member: &str) -> Result<PathBuf> {
    let canonical = std::fs::canonicalize(vault).unwrap_or_else(|_| vault.to_path_buf());
    let mut h = Sha256::new();
    h.update(canonical.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(member.as_bytes());
    let id = hex::encode(&h.finalize()[..12]);
    Ok(runtime_dir()?.join(format!("agent-{id}.sock")))
}

/// Asks a running agent for its key; `None` when there is none (a stale socket is
/// removed). The session comes from the lease without key derivation.
pub fn session_from_agent(vault: &Path, member: &str) -> Option<Session> {
    let socket = socket_path(vault, member).ok()?;
    if !socket.exists() {
        return None;
    }
    // The agent checks that it is talking to this very binary by reading our
    // /proc/PID/exe, which only a dumpable process lets it do: `connect` waits for the
    // agent to say it has, and only then is the key asked for.
    let reply = match ask(&socket, "lease") {
        Ok(reply) => reply,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            let _ = std::fs::remove_file(&socket);
            return None;
        }
        Err(_) => return None,
    };
    let lease = Lease::decode(&reply).ok()?;
    if lease.member != member {
        return None;
    }
    match Vault::open(vault).and_then(|v| v.unlock_with_lease(&lease)) {
        Ok(s) => Some(s),
        Err(e) => {
            drop(lease);
            if e.code() == coffer_core::ErrorCode::Auth {
                // The member was removed (or the vault replaced): the agent's key
                // opens nothing any more, so it has no reason to live. The usual
                // unlock that follows says what is wrong.
                let _ = ask(&socket, "lock");
            } else {
                crate::output::err_line(format!("note: {e}; unlocking the usual way"));
            }
            None
        }
    }
}

/// Connects to the agent and waits for its greeting, which says it has identified
/// this process; only this part runs while the process may be inspected.
fn connect(socket: &Path) -> std::io::Result<BufReader<UnixStream>> {
    coffer_core::hardening::while_identifiable(|| {
        let stream = UnixStream::connect(socket)?;
        stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
        stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
        let mut reader = BufReader::new(stream);
        let mut greeting = String::new();
        reader.read_line(&mut greeting)?;
        if greeting != GREETING {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the agent did not answer",
            ));
        }
        Ok(reader)
    })
}

/// A connection the agent has greeted, for one request ([`crate::served`]); `None`
/// when no agent answers (a stale socket is removed).
pub(crate) fn greeted(socket: &Path) -> Option<BufReader<UnixStream>> {
    match connect(socket) {
        Ok(reader) => Some(reader),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            let _ = std::fs::remove_file(socket);
            None
        }
        Err(_) => None,
    }
}

fn ask(socket: &Path, request: &str) -> std::io::Result<Zeroizing<String>> {
    let mut reader = connect(socket)?;
    reader
        .get_mut()
        .write_all(format!("{request}\n").as_bytes())?;
    let mut line = Zeroizing::new(String::new());
    reader.read_line(&mut line)?;
    Ok(line)
}

/// `coffer unlock --for DUR`: unlock once, then hand the key to a fresh agent.
pub fn unlock_for(session: &Session, vault: &Path, duration: &str) -> Result<String> {
    let ms = parse_duration_ms(duration)?;
    if !(1_000..=LONGEST_MS).contains(&ms) {
        return Err(Error::Invalid(format!(
            "an unlocked session lasts between 1s and {}",
            format_duration_ms(LONGEST_MS)
        )));
    }
    let socket = socket_path(vault, session.member())?;
    // An agent already serving this vault and member was ended by the caller, before
    // it unlocked; binding the socket anew replaces one that started since.
    let until = now_ms() + ms;
    let exe = std::env::current_exe()
        .map_err(|e| Error::Io(format!("cannot find the coffer binary: {e}")))?;
    let mut child = Command::new(exe)
        .arg("agent")
        .arg("--socket")
        .arg(&socket)
        .arg("--vault")
        // Absolute: the agent outlives this directory being the current one.
        .arg(std::fs::canonicalize(vault).unwrap_or_else(|_| vault.to_path_buf()))
        .arg("--until-ms")
        .arg(until.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_remove("COFFER_PASSPHRASE")
        .env_remove("COFFER_NEW_PASSPHRASE")
        // Its own process group: a Ctrl-C in this terminal does not end the session.
        .process_group(0)
        .spawn()
        .map_err(|e| Error::Io(format!("cannot start the session agent: {e}")))?;
    {
        // Both were set to Stdio::piped() above, so they are there to take.
        let mut stdin = child.stdin.take().expect("piped");
        let lease = session.lease().encode();
        stdin
            .write_all(lease.as_bytes())
            .and_then(|_| stdin.write_all(b"\n"))
            .map_err(|e| Error::Io(format!("cannot hand the key to the agent: {e}")))?;
    }
    let mut ready = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout)
        .read_line(&mut ready)
        .map_err(|e| Error::Io(format!("the session agent did not start: {e}")))?;
    if ready.trim() != "ready" {
        let _ = child.kill();
        return Err(Error::Io(format!(
            "the session agent did not start: {}",
            ready.trim()
        )));
    }
    Ok(format_timestamp_ms(until))
}

/// `coffer lock`: whether a session was ended.
pub fn lock(vault: &Path, member: &str) -> Result<bool> {
    let socket = socket_path(vault, member)?;
    if !socket.exists() {
        return Ok(false);
    }
    match ask(&socket, "lock") {
        Ok(reply) => Ok(reply.trim() == "locked"),
        Err(_) => {
            let _ = std::fs::remove_file(&socket);
            Ok(false)
        }
    }
}

/// The agent process: reads the lease from stdin, serves it (and the commands of
/// [`crate::served`], in a session on `vault`) until the deadline or a `lock`, then
/// removes its socket and exits (the key and the session are wiped on drop).
pub fn serve(socket: &Path, vault: &Path, until_ms: i64) -> Result<u8> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::Io(e.to_string()))?;
    let lease = Lease::decode(line.trim())?;
    drop(line);
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)
        .map_err(|e| Error::Io(format!("cannot listen on {}: {e}", socket.display())))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::Io(e.to_string()))?;
    // The socket as bound: at the end only this file is removed, never one another
    // agent has bound at the same path since (after this one's was moved away).
    let bound = std::fs::symlink_metadata(socket)
        .map(|m| (m.dev(), m.ino()))
        .map_err(|e| Error::Io(e.to_string()))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"ready\n").and_then(|_| out.flush());
    }
    let encoded = lease.encode();
    let own_exe = std::fs::read_link("/proc/self/exe").ok();
    let mut server = crate::served::Server::new(vault, &lease);
    // Waits for the next client until the deadline, then returns: dropping (and
    // zeroizing) the lease and the session, as `coffer lock` does. Nothing is sent
    // to the socket's path, which may by then be another agent's.
    while let Some(mut stream) = next_client(&listener, until_ms) {
        if !is_this_binary(&stream, own_exe.as_deref()) {
            // Another program of this user (a `coffer run` child, a script): it gets
            // nothing, not even an answer.
            continue;
        }
        let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
        let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
        if stream.write_all(GREETING.as_bytes()).is_err() {
            continue;
        }
        let mut request = Zeroizing::new(String::new());
        if BufReader::new(&stream).read_line(&mut request).is_err() {
            continue;
        }
        match request.trim() {
            served if served.starts_with('{') && now_ms() < until_ms => {
                server.handle(served, &mut stream);
            }
            "lease" if now_ms() < until_ms => {
                let _ = stream
                    .write_all(encoded.as_bytes())
                    .and_then(|_| stream.write_all(b"\n"));
            }
            "lock" => {
                // Gone before the answer, so a successor may bind the same path.
                remove_if_ours(socket, bound);
                let _ = stream.write_all(b"locked\n");
                return Ok(0);
            }
            _ => {}
        }
    }
    remove_if_ours(socket, bound);
    Ok(0)
}

/// The next connection, or `None` once `until_ms` has passed.
fn next_client(listener: &UnixListener, until_ms: i64) -> Option<UnixStream> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    loop {
        let left = until_ms - now_ms();
        if left <= 0 {
            return None;
        }
        let timeout = Timespec {
            tv_sec: left / 1000,
            tv_nsec: (left % 1000) * 1_000_000,
        };
        let mut fds = [PollFd::new(listener, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) => continue,
            Ok(_) => match listener.accept() {
                Ok((stream, _)) => return Some(stream),
                Err(_) => continue,
            },
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
}

/// Removes the socket file if it is still the one this agent bound.
fn remove_if_ours(socket: &Path, bound: (u64, u64)) {
    let ours = std::fs::symlink_metadata(socket).is_ok_and(|m| (m.dev(), m.ino()) == bound);
    if ours {
        let _ = std::fs::remove_file(socket);
    }
}

/// Whether the peer of `stream` runs as this user and is this very executable: its
/// `/proc/PID/exe` names the same file as ours. A peer that hides its `/proc` entry
/// (not dumpable), has exited, or runs another program is refused.
fn is_this_binary(stream: &UnixStream, own_exe: Option<&Path>) -> bool {
    let Ok(cred) = rustix::net::sockopt::socket_peercred(stream) else {
        return false;
    };
    if cred.uid != rustix::process::getuid() {
        return false;
    }
    let pid = cred.pid;
    match (
        own_exe,
        std::fs::read_link(format!("/proc/{}/exe", pid.as_raw_nonzero())),
    ) {
        (Some(own), Ok(peer)) => own == peer,
        _ => false,
    }
}
