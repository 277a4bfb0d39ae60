//! The commands the session agent runs for the CLI, in the session it keeps open.
//!
//! With `coffer unlock --for`, each command used to take the agent's key, open SQLite,
//! read its schema and verify the member's certificates and the signed rows on its
//! path before doing any work, and a write created, synced and checkpointed a WAL of
//! its own. The everyday commands — `reveal`, `run`, `set` and `ls` — are sent to the
//! agent instead: it keeps one session (with the rows it has verified and the keys it
//! has opened) and one SQLite connection for its life, runs the command's core call
//! and answers with the result, which this process prints as it always has. Only the
//! binary that started the agent is answered, as for the key itself.
//!
//! The agent declines — and the command runs here, the usual way — when it should not
//! serve: a change to a protected environment (the passphrase must be given in this
//! process), another member, a vault it cannot open. Errors it meets come back with
//! their code and message, so exit codes and output are the same either way.
//!
//! One request per connection: the agent greets a client it has identified, the
//! client (no longer inspectable) sends one JSON line, the agent answers one JSON line
//! — `{"ok": …}`, `{"err": {code, message}}` or `{"fallback": why}` — followed, for a
//! listing, by the listing's text.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use coffer_core::value::SecretValue;
use coffer_core::{
    Error, ErrorCode, Lease, Result, Scope, SecretKind, SecretScope, Session, SetOutcome,
    SetRequest, ValueSource, Vault,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::commands::Ctx;

/// How long a client waits for the agent's answer: the agent does the work (a `run`
/// of 100,000 values), so longer than the wait for its greeting.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// A request: whose, where, and what.
#[derive(Serialize, Deserialize)]
struct Envelope<C> {
    member: String,
    workspace: String,
    project: String,
    #[serde(flatten)]
    call: C,
}

/// What a client asks, borrowed from what it keeps for doing it the usual way.
#[derive(Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Request<'a> {
    Reveal {
        name: &'a str,
        environment: Option<&'a str>,
        version: Option<i64>,
        reason: Option<&'a str>,
    },
    Set(&'a SetCall),
    List {
        environment: Option<&'a str>,
        deleted: bool,
        json: bool,
    },
    Run(&'a crate::run::RunPlan),
}

/// What the agent may be asked to do: a [`Request`] as the agent reads it.
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Call {
    Reveal {
        name: String,
        environment: Option<String>,
        version: Option<i64>,
        reason: Option<String>,
    },
    Set(SetCall),
    List {
        environment: Option<String>,
        deleted: bool,
        json: bool,
    },
    Run(crate::run::RunPlan),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer<T> {
    Ok(T),
    Err { code: String, message: String },
    Fallback(String),
}

/// A revealed value on the wire.
#[derive(Serialize, Deserialize)]
pub(crate) struct Revealed(#[serde(with = "secret_value")] pub SecretValue);

/// `coffer set` as sent: the arguments as typed (parsed again where they are used)
/// and the value as read.
#[derive(Serialize, Deserialize)]
pub(crate) struct SetCall {
    pub name: String,
    pub environment: Option<String>,
    #[serde(with = "value_source")]
    pub value: ValueSource,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub scope: Option<String>,
    pub expires_in_ms: Option<i64>,
    pub rotate_every_ms: Option<i64>,
    pub if_version: Option<i64>,
    pub allowed_hosts: Option<Vec<String>>,
}

impl SetCall {
    /// The environment the value goes to.
    pub fn environment(&self) -> &str {
        self.environment
            .as_deref()
            .unwrap_or(coffer_core::DEFAULT_ENVIRONMENT)
    }

    pub fn into_request(self) -> Result<SetRequest> {
        Ok(SetRequest {
            kind: self.kind.as_deref().map(SecretKind::parse).transpose()?,
            scope: self.scope.as_deref().map(SecretScope::parse).transpose()?,
            name: self.name,
            environment: self.environment,
            value: self.value,
            description: self.description,
            expires_in_ms: self.expires_in_ms,
            rotate_every_ms: self.rotate_every_ms,
            if_version: self.if_version,
            allowed_hosts: self.allowed_hosts,
        })
    }
}

// ---- the client ----

/// Asks the running agent to do `call`; `None` when there is no agent for this vault
/// and member or it declines (then the caller does it the usual way).
pub(crate) fn ask<T: DeserializeOwned>(ctx: &Ctx, call: Request<'_>) -> Option<Result<T>> {
    let mut reader = send(ctx, call)?;
    read_answer(&mut reader)
}

/// Like [`ask`] for a call whose answer is text to print: copied to `out` as it comes.
pub(crate) fn ask_output(ctx: &Ctx, call: Request<'_>, mut out: impl Write) -> Option<Result<()>> {
    let mut reader = send(ctx, call)?;
    match read_answer::<()>(&mut reader)? {
        Ok(()) => Some(
            std::io::copy(&mut reader, &mut out)
                .and_then(|_| out.flush())
                .map(|_| ())
                .or_else(ignore_closed_pipe),
        ),
        Err(e) => Some(Err(e)),
    }
}

/// `coffer ls | head` closes the pipe early: not an error.
fn ignore_closed_pipe(e: std::io::Error) -> Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Error::Io(format!("could not print the listing: {e}")))
    }
}

/// Connects, waits for the agent's greeting (while this process may be identified),
/// and sends the request; the reader then holds the answer.
fn send(ctx: &Ctx, call: Request<'_>) -> Option<BufReader<UnixStream>> {
    let member = crate::credentials::member(ctx.member.as_deref()).ok()?;
    let socket = crate::agent::socket_path(&ctx.vault, &member).ok()?;
    if !socket.exists() {
        return None;
    }
    let mut reader = crate::agent::greeted(&socket)?;
    reader
        .get_ref()
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .ok()?;
    let envelope = Envelope {
        member,
        workspace: ctx.scope.workspace.clone(),
        project: ctx.scope.project.clone(),
        call,
    };
    let mut line = Zeroizing::new(serde_json::to_vec(&envelope).ok()?);
    drop(envelope);
    line.push(b'\n');
    reader.get_mut().write_all(&line).ok()?;
    Some(reader)
}

fn read_answer<T: DeserializeOwned>(reader: &mut BufReader<UnixStream>) -> Option<Result<T>> {
    let mut line = Zeroizing::new(String::new());
    reader.read_line(&mut line).ok()?;
    match serde_json::from_str::<Answer<T>>(&line).ok()? {
        Answer::Ok(value) => Some(Ok(value)),
        Answer::Err { code, message } => Some(Err(Error::Relayed {
            code: ErrorCode::parse(&code).unwrap_or(ErrorCode::Internal),
            message,
        })),
        Answer::Fallback(_) => None,
    }
}

// ---- the agent ----

/// The agent's side: the session it opens at the first request and keeps, for the
/// vault file it was opened on.
pub(crate) struct Server<'a> {
    vault: PathBuf,
    lease: &'a Lease,
    open: Option<(Session, (u64, u64))>,
}

impl<'a> Server<'a> {
    pub fn new(vault: &Path, lease: &'a Lease) -> Self {
        Server {
            vault: vault.to_path_buf(),
            lease,
            open: None,
        }
    }

    /// The session, opened again when the vault file was replaced (a restore that
    /// moved a damaged file aside) or never opened. `None` when the key no longer
    /// opens the vault — the member was removed, the file holds another vault — or it
    /// cannot be read: then the client unlocks the usual way, which says what is
    /// wrong (and ends this agent when its key opens nothing).
    fn session(&mut self) -> Option<&mut Session> {
        let meta = std::fs::metadata(&self.vault).ok()?;
        let id = (meta.dev(), meta.ino());
        let current = self.open.as_ref().is_some_and(|(s, opened)| {
            *opened == id && s.still_opened_by(self.lease).unwrap_or(false)
        });
        if !current {
            self.open = None;
            let s = Vault::open(&self.vault)
                .and_then(|v| v.unlock_with_lease(self.lease))
                .ok()?;
            self.open = Some((s, id));
        }
        self.open.as_mut().map(|(s, _)| s)
    }

    /// Answers one request line on `out`.
    pub fn handle(&mut self, line: &str, out: &mut UnixStream) {
        let Ok(request) = serde_json::from_str::<Envelope<Call>>(line) else {
            return fallback(out, "a request this agent does not know");
        };
        if request.member != self.lease.member {
            return fallback(out, "another member");
        }
        let scope = Scope {
            workspace: request.workspace,
            project: request.project,
        };
        let Some(s) = self.session() else {
            return fallback(out, "the vault did not open");
        };
        match request.call {
            Call::Reveal {
                name,
                environment,
                version,
                reason,
            } => answer(
                out,
                s.reveal(
                    &scope,
                    &name,
                    environment.as_deref(),
                    version,
                    reason.as_deref(),
                )
                .map(Revealed),
            ),
            Call::Set(call) => match s.needs_reauth(&scope, call.environment()) {
                Ok(true) => fallback(out, "a protected environment: the passphrase is asked"),
                Ok(false) => answer::<SetOutcome>(
                    out,
                    call.into_request().and_then(|r| s.set_secret(&scope, r)),
                ),
                Err(e) => answer::<()>(out, Err(e)),
            },
            Call::List {
                environment,
                deleted,
                json,
            } => match crate::commands::render_ls(s, &scope, deleted, environment.as_deref(), json)
            {
                Ok(text) => {
                    answer(out, Ok(()));
                    text.write_to(&mut *out);
                }
                Err(e) => answer::<()>(out, Err(e)),
            },
            Call::Run(plan) => answer(out, crate::run::resolve_plan(s, &scope, &plan)),
        }
    }
}

fn answer<T: Serialize>(out: &mut UnixStream, result: Result<T>) {
    let reply = match result {
        Ok(value) => Answer::Ok(value),
        Err(e) => Answer::Err {
            code: e.code().as_str().to_string(),
            message: e.to_string(),
        },
    };
    write_line(out, &reply);
}

fn fallback(out: &mut UnixStream, why: &str) {
    write_line(out, &Answer::<()>::Fallback(why.to_string()));
}

fn write_line<T: Serialize>(out: &mut UnixStream, reply: &Answer<T>) {
    if let Ok(bytes) = serde_json::to_vec(reply) {
        let mut line = Zeroizing::new(bytes);
        line.push(b'\n');
        let _ = out.write_all(&line);
    }
}

// ---- values on the wire ----

/// A [`SecretValue`] as `{"text": …, "binary": …}` (a binary value's text is its
/// base64); read back into zeroized memory.
pub(crate) mod secret_value {
    use super::*;

    /// A value as written.
    #[derive(Serialize)]
    pub(super) struct Out<'a> {
        text: &'a str,
        binary: bool,
    }

    impl<'a> Out<'a> {
        pub(super) fn of(v: &'a SecretValue) -> Self {
            Out {
                text: v.expose(),
                binary: v.is_binary(),
            }
        }
    }

    #[derive(Deserialize)]
    struct In {
        text: Zeroizing<String>,
        binary: bool,
    }

    pub fn serialize<S: serde::Serializer>(v: &SecretValue, s: S) -> Result<S::Ok, S::Error> {
        Out::of(v).serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretValue, D::Error> {
        let v = In::deserialize(d)?;
        let value = if v.binary {
            SecretValue::binary_from_base64(&v.text)
        } else {
            SecretValue::from_string(String::clone(&v.text))
        };
        value.map_err(|e| serde::de::Error::custom(e.code().as_str()))
    }
}

/// Where `set`'s value comes from: given, as read (base64), or to be generated.
mod value_source {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Out<'a> {
        Given(secret_value::Out<'a>),
        Bytes(Zeroizing<String>),
        Generate { length: usize, alphabet: &'a str },
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum In {
        Given(#[serde(with = "secret_value")] SecretValue),
        Bytes(Zeroizing<String>),
        Generate { length: usize, alphabet: String },
    }

    pub fn serialize<S: serde::Serializer>(v: &ValueSource, s: S) -> Result<S::Ok, S::Error> {
        match v {
            ValueSource::Given(value) => Out::Given(secret_value::Out::of(value)),
            ValueSource::Bytes(bytes) => Out::Bytes(Zeroizing::new(STANDARD.encode(&bytes[..]))),
            ValueSource::Generate { length, alphabet } => Out::Generate {
                length: *length,
                alphabet,
            },
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ValueSource, D::Error> {
        Ok(match In::deserialize(d)? {
            In::Given(value) => ValueSource::Given(value),
            In::Bytes(text) => {
                let mut bytes = Zeroizing::new(Vec::with_capacity(text.len()));
                STANDARD
                    .decode_vec(text.as_bytes(), &mut bytes)
                    .map_err(|_| serde::de::Error::custom("the value's bytes"))?;
                ValueSource::Bytes(bytes)
            }
            In::Generate { length, alphabet } => ValueSource::Generate { length, alphabet },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through_the_wire(request: Request<'_>) -> Call {
        let envelope = Envelope {
            member: "alice".to_string(),
            workspace: "w".to_string(),
            project: "p".to_string(),
            call: request,
        };
        let line = serde_json::to_string(&envelope).unwrap();
        let read: Envelope<Call> = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (
                read.member.as_str(),
                read.workspace.as_str(),
                read.project.as_str()
            ),
            ("alice", "w", "p")
        );
        read.call
    }

    #[test]
    fn each_request_reads_back_as_the_call_the_agent_runs() {
        let Call::Reveal {
            name,
            environment,
            version,
            reason,
        } = through_the_wire(Request::Reveal {
            name: "API_KEY",
            environment: Some("production"),
            version: Some(3),
            reason: None,
        })
        else {
            panic!("not a reveal");
        };
        assert_eq!(
            (name.as_str(), environment.as_deref(), version, reason),
            ("API_KEY", Some("production"), Some(3), None)
        );

        let Call::List {
            environment,
            deleted,
            json,
        } = through_the_wire(Request::List {
            environment: None,
            deleted: true,
            json: true,
        })
        else {
            panic!("not a listing");
        };
        assert_eq!((environment, deleted, json), (None, true, true));

        // Bytes as read from a pipe (not UTF-8), a given binary value, a generator.
        let raw = vec![0u8, 159, 146, 150, b'\n', 255];
        for (value, check) in [
            (ValueSource::Bytes(Zeroizing::new(raw.clone())), 0),
            (
                ValueSource::Given(SecretValue::from_binary(Zeroizing::new(raw.clone())).unwrap()),
                1,
            ),
            (
                ValueSource::Generate {
                    length: 40,
                    alphabet: "hex".into(),
                },
                2,
            ),
        ] {
            let set = SetCall {
                name: "K".into(),
                environment: None,
                value,
                description: Some("d".into()),
                kind: Some("binary".into()),
                scope: None,
                expires_in_ms: Some(5),
                rotate_every_ms: None,
                if_version: Some(0),
                allowed_hosts: Some(vec![]),
            };
            let Call::Set(read) = through_the_wire(Request::Set(&set)) else {
                panic!("not a set");
            };
            assert_eq!(read.environment(), "development");
            let request = read.into_request().unwrap();
            assert_eq!(
                (request.if_version, request.expires_in_ms),
                (Some(0), Some(5))
            );
            match (check, request.value) {
                (0, ValueSource::Bytes(b)) => assert_eq!(&b[..], &raw[..]),
                (1, ValueSource::Given(v)) => assert!(v.is_binary() && v.to_bytes()[..] == raw[..]),
                (2, ValueSource::Generate { length, alphabet }) => {
                    assert_eq!((length, alphabet.as_str()), (40, "hex"))
                }
                _ => panic!("the value changed kind on the wire"),
            }
        }
    }

    #[test]
    fn an_error_keeps_its_code_and_message_and_a_value_its_bytes() {
        let (client, mut agent) = UnixStream::pair().unwrap();
        answer::<()>(&mut agent, Err(Error::not_found("secret 'X'")));
        answer(
            &mut agent,
            Ok(Revealed(
                SecretValue::from_string("line one\nline \"two\"".into()).unwrap(),
            )),
        );
        fallback(&mut agent, "a protected environment");
        let mut reader = BufReader::new(client);
        let e = read_answer::<()>(&mut reader).unwrap().unwrap_err();
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            (ErrorCode::NotFound, "secret 'X' not found")
        );
        let v = read_answer::<Revealed>(&mut reader).unwrap().unwrap();
        assert_eq!(v.0.expose(), "line one\nline \"two\"");
        assert!(
            read_answer::<()>(&mut reader).is_none(),
            "a fallback is done here"
        );
    }
}
