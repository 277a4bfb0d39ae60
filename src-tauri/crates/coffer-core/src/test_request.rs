//! The *test request*: one HTTP request with secrets placed by reference, so a developer
//! can check an integration without ever seeing a value.
//!
//! A [`RequestSpec`] holds templates only (`{{ secrets.NAME }}`, `coffer://…`,
//! `$secret:…`); [`send`] fills them in through a resolve callback — this module knows
//! nothing of the vault — places the values in headers, the query, basic auth or an
//! HMAC-SHA256 signature over the body, and returns a [`TestResponse`] in which every
//! value used (in each form [`crate::masking`] knows) is already masked.
//!
//! Sending is two steps so the vault can decide and audit in between: [`prepare`]
//! fills every reference in and parses the final URL into a [`Destination`] (https,
//! or http to loopback only; no user-info; the host never comes from a reference);
//! the caller checks it against each secret's allowed hosts and audits the use
//! (`Resolver::finish_request`); then [`Prepared::send`] sends. So the trail holds a
//! request even when sending fails, and a refused one never leaves.
//!
//! Errors name the host and what went wrong, never a URL, header or body: the HTTP
//! client's own messages can embed the URL with its query, so they are not passed on.
//! Redirects are not followed (the secret stays with the host the user named), proxies
//! from the environment are ignored (only an explicit `proxy` is used), and the
//! response body is cut at [`MAX_BODY_BYTES`].

use std::fmt;
use std::io::Read;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;
use ureq::http::{self, HeaderName, HeaderValue};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
pub use crate::hosts::Destination;
use crate::masking::Masker;
use crate::references::{self, Target};
use crate::value::SecretValue;

/// Largest response body shown; the rest is dropped with a note.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Characters percent-encoded in a value placed in the URL: all but RFC 3986's
/// unreserved ones, so a value can never end a query parameter or the path.
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What to send. Every string except `method` and header names is a template.
pub struct RequestSpec {
    pub method: String,
    /// `http://` or `https://`; references in it are URL-encoded when filled in.
    pub url: String,
    /// `Name: value template`.
    pub headers: Vec<String>,
    /// `key=value template`, appended to the URL's query, URL-encoded.
    pub query: Vec<String>,
    /// `user:password template`, sent as `Authorization: Basic …`.
    pub basic: Option<String>,
    pub hmac: Option<HmacSpec>,
    pub body: Option<String>,
    pub timeout: Duration,
    /// `http://host:port` of a proxy to send through. Proxies named by the environment
    /// (`HTTPS_PROXY`, `ALL_PROXY`, …) are never used: they would see where values go.
    pub proxy: Option<String>,
}

/// A signature header: `header: prefix + hex(HMAC-SHA256(key, body))`.
pub struct HmacSpec {
    /// For example `X-Signature`.
    pub header: String,
    /// Template, usually one reference; the whole filled-in text is the key.
    pub key: String,
    /// For example `sha256=`; may be empty.
    pub prefix: String,
}

impl RequestSpec {
    /// Every reference the request would resolve, once each, in order of appearance:
    /// lets a caller resolve (and audit) them up front, then send without holding the
    /// vault.
    pub fn targets(&self) -> Vec<Target> {
        let templates = std::iter::once(self.url.as_str())
            .chain(self.headers.iter().map(String::as_str))
            .chain(self.query.iter().map(String::as_str))
            .chain(self.basic.as_deref())
            .chain(self.hmac.as_ref().map(|h| h.key.as_str()))
            .chain(self.body.as_deref());
        let mut out: Vec<Target> = Vec::new();
        for t in templates {
            for r in references::scan(t).references {
                if r.form != references::Form::Structured && !out.contains(&r.target) {
                    out.push(r.target);
                }
            }
        }
        out
    }
}

// Templates hold no values, but a user may type a literal key or body: show the shape.
impl fmt::Debug for RequestSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self
            .headers
            .iter()
            .map(|h| h.split_once(':').map_or(h.as_str(), |(n, _)| n.trim()))
            .collect();
        f.debug_struct("RequestSpec")
            .field("method", &self.method)
            .field("host", &host_of(&self.url))
            .field("headers", &names)
            .field("query", &self.query.len())
            .field("basic", &self.basic.is_some())
            .field("hmac", &self.hmac.as_ref().map(|h| &h.header))
            .field("body", &self.body.as_ref().map(|b| b.len()))
            .field("timeout", &self.timeout)
            .field("proxy", &self.proxy.is_some())
            .finish()
    }
}

/// The server's answer with every value used masked.
#[derive(Debug, Clone)]
pub struct TestResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than [`MAX_BODY_BYTES`] and was cut.
    pub truncated: bool,
}

impl TestResponse {
    /// `HTTP 200 OK`, one `name: value` line per header, a blank line, the body.
    pub fn render_text(&self) -> String {
        let mut out = format!("HTTP {} {}\n", self.status, self.reason);
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\n"));
        }
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(&self.body));
        if self.truncated {
            out.push_str(&format!(
                "\n[body truncated at {} KiB]",
                MAX_BODY_BYTES / 1024
            ));
        }
        out
    }
}

/// A request with every reference filled in, not sent yet. Holds values: it prints
/// as its destination only.
pub struct Prepared {
    destination: Destination,
    method: http::Method,
    uri: http::Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Zeroizing<String>,
    used: Vec<SecretValue>,
    timeout: Duration,
    proxy: Option<ureq::Proxy>,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("method", &self.method)
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

/// Fills in `spec` and checks where it goes; nothing is sent.
pub fn prepare(
    spec: &RequestSpec,
    resolve: impl FnMut(&Target) -> Result<SecretValue>,
) -> Result<Prepared> {
    checked_host(&spec.url)?;
    let method = http::Method::from_bytes(spec.method.trim().to_ascii_uppercase().as_bytes())
        .map_err(|_| Error::invalid(format!("'{}' is not an HTTP method", spec.method)))?;
    let proxy = spec
        .proxy
        .as_deref()
        .map(|p| {
            ureq::Proxy::new(p).map_err(|_| {
                Error::invalid("the proxy is not a URL such as http://proxy.example:3128")
            })
        })
        .transpose()?;
    let mut filler = Filler {
        resolve,
        used: Vec::new(),
    };
    let url = filler.url(spec)?;
    // One parser decides the host and writes the URL the client gets, so the check
    // below and the connection cannot disagree about where the request goes.
    let (destination, url) = Destination::parse(&url)?;
    let uri: http::Uri = url
        .parse()
        .map_err(|_| Error::invalid("the URL is not valid once its references are filled in"))?;
    let same_host = uri
        .host()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .is_some_and(|h| h == destination.host);
    if !same_host || uri.port_u16().is_some_and(|p| p != destination.port) {
        return Err(Error::invalid(format!(
            "the URL's host is ambiguous (read as {})",
            destination.host
        )));
    }

    let mut headers = Vec::with_capacity(spec.headers.len() + 2);
    for line in &spec.headers {
        let (name, template) = line
            .split_once(':')
            .ok_or_else(|| Error::invalid("a header must be written 'Name: value'"))?;
        let name = header_name(name)?;
        let value = filler.fill(template.trim_start(), &format!("header {name}"), false)?;
        headers.push((name.clone(), header_value(name.as_str(), &value)?));
    }
    if let Some(basic) = &spec.basic {
        let credentials = filler.fill(basic, "basic auth", false)?;
        filler.keep(&credentials)?;
        let value = Zeroizing::new(format!("Basic {}", STANDARD.encode(credentials.as_bytes())));
        headers.push((
            http::header::AUTHORIZATION,
            header_value("Authorization", &value)?,
        ));
    }
    let body = match &spec.body {
        Some(template) => filler.fill(template, "the body", false)?,
        None => Zeroizing::new(String::new()),
    };
    if let Some(h) = &spec.hmac {
        let name = header_name(&h.header)?;
        let key = filler.fill(&h.key, "the HMAC key", false)?;
        if key.is_empty() {
            return Err(Error::invalid("the HMAC key is empty"));
        }
        filler.keep(&key)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
            .map_err(|_| Error::invalid("the HMAC key cannot be used"))?;
        mac.update(body.as_bytes());
        let value = format!("{}{}", h.prefix, hex::encode(mac.finalize().into_bytes()));
        headers.push((name.clone(), header_value(name.as_str(), &value)?));
    }
    Ok(Prepared {
        destination,
        method,
        uri,
        headers,
        body,
        used: filler.used,
        timeout: spec.timeout,
        proxy,
    })
}

impl Prepared {
    /// Where the request goes, for the allowed-hosts check.
    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// Sends the request and returns the masked, terminal-safe response.
    pub fn send(self) -> Result<TestResponse> {
        let host = self.destination.label();
        let masker = Masker::new(self.used.iter());
        let mut request = http::Request::builder().method(self.method).uri(self.uri);
        for (name, value) in self.headers {
            request = request.header(name, value);
        }
        let request = request
            .body(self.body.as_bytes())
            .map_err(|_| Error::invalid("the request could not be built"))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            // Never the environment's HTTPS_PROXY / ALL_PROXY (ureq's default).
            .proxy(self.proxy)
            .user_agent(concat!("coffer/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        tracing::debug!(method = %request.method(), %host, "sending a test request");
        let response = agent
            .run(request)
            .map_err(|e| not_reached(&host, &reason(&e)))?;
        read_response(response, &masker, &host)
    }
}

/// Resolves templates and remembers every value it filled in, for the masker.
struct Filler<F> {
    resolve: F,
    used: Vec<SecretValue>,
}

impl<F: FnMut(&Target) -> Result<SecretValue>> Filler<F> {
    /// Fills `template`; `url_encode` places each value percent-encoded (both the
    /// value and its encoded form are then masked). `place` names the template in
    /// errors about its references.
    fn fill(&mut self, template: &str, place: &str, url_encode: bool) -> Result<Zeroizing<String>> {
        let resolve = &mut self.resolve;
        let used = &mut self.used;
        references::render(template, |target| {
            let value = resolve(target)?;
            used.push(copy(value.expose())?);
            if !url_encode {
                return Ok(value);
            }
            let encoded =
                Zeroizing::new(utf8_percent_encode(value.expose(), URL_COMPONENT).to_string());
            if encoded.as_str() != value.expose() {
                used.push(copy(&encoded)?);
            }
            copy(&encoded)
        })
        .map_err(|e| match e {
            Error::Invalid(msg) => Error::invalid(format!("{place}: {msg}")),
            other => other,
        })
    }

    /// Masks a whole filled-in text too (basic credentials, an HMAC key).
    fn keep(&mut self, text: &str) -> Result<()> {
        if !text.is_empty() {
            self.used.push(copy(text)?);
        }
        Ok(())
    }

    /// The URL with its references encoded and the `--query` pairs appended.
    fn url(&mut self, spec: &RequestSpec) -> Result<Zeroizing<String>> {
        // The fragment is never sent.
        let template = spec.url.trim();
        let template = template.split_once('#').map_or(template, |(u, _)| u);
        let mut url = self.fill(template, "the URL", true)?;
        for pair in &spec.query {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| Error::invalid("a query parameter must be written 'key=value'"))?;
            let place = format!("query {key}");
            let key = self.fill(key, &place, true)?;
            let value = self.fill(value, &place, true)?;
            let separator = if url.contains('?') { '&' } else { '?' };
            url.push(separator);
            url.push_str(&key);
            url.push('=');
            url.push_str(&value);
        }
        Ok(url)
    }
}

fn copy(text: &str) -> Result<SecretValue> {
    SecretValue::from_bytes(Zeroizing::new(text.as_bytes().to_vec()))
}

/// The host and port named by the URL template, after checking its scheme. Taken from
/// the template, so it never holds a value.
fn checked_host(url: &str) -> Result<String> {
    let url = url.trim();
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), Some("http" | "https")) {
        return Err(Error::invalid(
            "a test request URL must start with http:// or https://",
        ));
    }
    let host = host_of(url);
    if host.contains('@') {
        return Err(Error::invalid(
            "put credentials in basic auth (--user), not in the URL",
        ));
    }
    if host.is_empty() {
        return Err(Error::invalid("the URL names no host"));
    }
    // The host is checked against allowed hosts and named in errors: it must not
    // come from a value.
    if host.contains("{{") || !references::scan(host).references.is_empty() {
        return Err(Error::invalid(
            "the host of a test request cannot come from a secret: place references in \
             the path, the query, a header or the body",
        ));
    }
    Ok(host.to_owned())
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

fn header_name(name: &str) -> Result<HeaderName> {
    HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| Error::invalid(format!("'{}' is not a valid header name", name.trim())))
}

/// A header value marked sensitive, so the HTTP client's own logs leave it out.
fn header_value(name: &str, value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| {
        Error::invalid(format!(
            "header {name}: the value holds a line break or another control character"
        ))
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// "could not reach HOST: reason"; HOST comes from the URL template, so holds no value.
fn not_reached(host: &str, reason: &str) -> Error {
    Error::Io(format!("could not reach {host}: {reason}"))
}

/// What went wrong, by kind: the client's own messages may quote the URL.
fn reason(e: &ureq::Error) -> String {
    use ureq::Error as E;
    match e {
        E::Io(io) => io_reason(io),
        E::Timeout(_) => "timed out".to_owned(),
        E::HostNotFound => "host not found".to_owned(),
        E::ConnectionFailed => "connection failed".to_owned(),
        E::Tls(what) => format!("TLS: {what}"),
        // rustls describes certificates and handshakes, never the request.
        E::Rustls(tls) => format!("TLS: {tls}"),
        E::Pem(_) => "TLS: unreadable certificate".to_owned(),
        E::InvalidProxyUrl => "the proxy is not a URL".to_owned(),
        E::ConnectProxyFailed(_) => "the proxy refused the connection".to_owned(),
        E::Protocol(_) => "the reply is not valid HTTP".to_owned(),
        E::LargeResponseHeader(..) => "the response headers are too large".to_owned(),
        _ => "the request failed".to_owned(),
    }
}

/// An I/O failure by kind, or the TLS failure it carries; DNS failures by name.
fn io_reason(e: &std::io::Error) -> String {
    let inner = e.get_ref();
    if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return format!("TLS: {tls}");
    }
    if let Some(ureq) = inner.and_then(|i| i.downcast_ref::<ureq::Error>()) {
        return reason(ureq);
    }
    // std reports a failed lookup as an uncategorized error with this text.
    if e.to_string()
        .starts_with("failed to lookup address information")
    {
        return "host not found".to_owned();
    }
    e.kind().to_string()
}

fn read_response(
    mut response: http::Response<ureq::Body>,
    masker: &Masker,
    host: &str,
) -> Result<TestResponse> {
    let status = response.status();
    let reason = mask_text(masker, status.canonical_reason().unwrap_or(""));
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                mask_text(masker, name.as_str()),
                mask_text(masker, &String::from_utf8_lossy(value.as_bytes())),
            )
        })
        .collect();
    let mut reader = response.body_mut().as_reader();
    let mut stream = masker.stream();
    let mut body = Vec::new();
    let mut chunk = Zeroizing::new(vec![0u8; 16 * 1024]);
    let mut read = 0;
    let mut truncated = false;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => return Err(not_reached(host, &io_reason(&e))),
        };
        let room = MAX_BODY_BYTES - read;
        stream.push(&chunk[..n.min(room)], &mut body);
        read += n.min(room);
        if n > room {
            truncated = true;
            break;
        }
    }
    // When cut, what the stream holds back may begin a value: drop it.
    if !truncated {
        stream.finish(&mut body);
    }
    // The server wrote the body: its escape sequences are shown, never interpreted.
    // Masked first, so a value holding a control character is still found.
    let body = match crate::text::terminal_safe(&String::from_utf8_lossy(&body)) {
        std::borrow::Cow::Borrowed(_) => body,
        std::borrow::Cow::Owned(safe) => safe.into_bytes(),
    };
    Ok(TestResponse {
        status: status.as_u16(),
        reason,
        headers,
        body,
        truncated,
    })
}

/// Masks one line of server text, then escapes its control characters.
fn mask_text(masker: &Masker, text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut stream = masker.stream();
    stream.push(text.as_bytes(), &mut out);
    stream.finish(&mut out);
    crate::text::terminal_safe_line(&String::from_utf8_lossy(&out)).into_owned()
}

#[cfg(test)]
mod targets_tests {
    use super::*;

    #[test]
    fn targets_are_listed_once_each_from_every_template() {
        let spec = RequestSpec {
            method: "POST".into(),
            url: "https://h/x?a={{ secrets.a }}".into(),
            headers: vec!["X: {{ secrets.b }} {{ secrets.a }}".into()],
            query: vec!["k=$secret:hh".into()],
            basic: Some("u:{{ secrets.c }}".into()),
            hmac: Some(HmacSpec {
                header: "S".into(),
                key: "{{ secrets.d }}".into(),
                prefix: String::new(),
            }),
            body: Some("{{ secrets.b }}".into()),
            timeout: Duration::from_secs(1),
            proxy: None,
        };
        let names: Vec<String> = spec.targets().iter().map(|t| t.to_string()).collect();
        assert_eq!(names, ["a", "b", "$secret:hh…", "c", "d"]);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread::{self, JoinHandle};

    use super::*;
    use crate::ErrorCode;

    const VALUE: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

    /// A one-request server on 127.0.0.1: returns the port and, on join, the raw
    /// request it received. `reply` builds the full response from the request.
    fn serve(reply: impl FnOnce(&[u8]) -> Vec<u8> + Send + 'static) -> (u16, JoinHandle<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            let head_end = loop {
                if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at + 4;
                }
                let n = conn.read(&mut buf).unwrap();
                assert!(n > 0, "client closed before the headers ended");
                request.extend_from_slice(&buf[..n]);
            };
            let length = header_in(&request, "content-length").map_or(0, |v| v.parse().unwrap());
            while request.len() < head_end + length {
                let n = conn.read(&mut buf).unwrap();
                request.extend_from_slice(&buf[..n]);
            }
            conn.write_all(&reply(&request)).unwrap();
            request
        });
        (port, handle)
    }

    fn ok(body: &[u8], extra_headers: &str) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn header_in(request: &[u8], name: &str) -> Option<String> {
        let text = String::from_utf8_lossy(request);
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    fn request_line(request: &[u8]) -> String {
        String::from_utf8_lossy(request)
            .lines()
            .next()
            .unwrap()
            .to_owned()
    }

    fn body_of(request: &[u8]) -> &[u8] {
        let at = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        &request[at..]
    }

    fn spec(url: String) -> RequestSpec {
        RequestSpec {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            query: Vec::new(),
            basic: None,
            hmac: None,
            body: None,
            timeout: Duration::from_secs(5),
            proxy: None,
        }
    }

    /// Prepares and sends with no allowed-hosts check: that is the vault's part
    /// (`Resolver::finish_request`), tested with it.
    fn send(
        spec: &RequestSpec,
        resolve: impl FnMut(&Target) -> Result<SecretValue>,
    ) -> Result<TestResponse> {
        prepare(spec, resolve)?.send()
    }

    /// Resolves `{{ secrets.NAME }}` from `pairs`; anything else is not found.
    fn vault<'a>(
        pairs: &'a [(&'a str, &'a str)],
    ) -> impl FnMut(&Target) -> Result<SecretValue> + 'a {
        move |target| match target {
            Target::Name { name, .. } => pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| SecretValue::from_string((*v).to_owned()).unwrap())
                .ok_or_else(|| Error::not_found(format!("secret '{name}'"))),
            Target::Handle(_) => Err(Error::not_found("handle")),
        }
    }

    #[test]
    fn header_placement_arrives_exactly() {
        let (port, server) = serve(|_| ok(b"fine", ""));
        let mut s = spec(format!("http://127.0.0.1:{port}/v1/charges"));
        s.headers = vec![
            "Authorization: Bearer {{ secrets.api-key }}".into(),
            "X-Plain:no reference".into(),
        ];
        let response = send(&s, vault(&[("api-key", VALUE)])).unwrap();
        let request = server.join().unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(request_line(&request), "GET /v1/charges HTTP/1.1");
        assert_eq!(
            header_in(&request, "authorization").unwrap(),
            format!("Bearer {VALUE}")
        );
        assert_eq!(header_in(&request, "x-plain").unwrap(), "no reference");
    }

    #[test]
    fn url_and_query_values_are_url_encoded() {
        let tricky = "p@ss w/rd&x=1+ü#";
        let (port, server) = serve(|_| ok(b"", ""));
        let mut s = spec(format!(
            "http://127.0.0.1:{port}/search?q={{{{ secrets.tricky }}}}#fragment"
        ));
        s.query = vec!["key={{ secrets.tricky }}".into(), "plain=a-b".into()];
        send(&s, vault(&[("tricky", tricky)])).unwrap();
        let encoded = "p%40ss%20w%2Frd%26x%3D1%2B%C3%BC%23";
        assert_eq!(
            request_line(&server.join().unwrap()),
            format!("GET /search?q={encoded}&key={encoded}&plain=a-b HTTP/1.1")
        );
    }

    #[test]
    fn basic_auth_arrives_as_base64() {
        let (port, server) = serve(|_| ok(b"", ""));
        let mut s = spec(format!("http://127.0.0.1:{port}/"));
        s.basic = Some("svc-payments:{{ secrets.password }}".into());
        send(&s, vault(&[("password", VALUE)])).unwrap();
        let expected = STANDARD.encode(format!("svc-payments:{VALUE}"));
        assert_eq!(
            header_in(&server.join().unwrap(), "authorization").unwrap(),
            format!("Basic {expected}")
        );
    }

    #[test]
    fn hmac_header_signs_the_body_sent() {
        // RFC 4231, test case 2, computed over the body as it arrived.
        let (port, server) = serve(|_| ok(b"", ""));
        let mut s = spec(format!("http://127.0.0.1:{port}/hook"));
        s.method = "post".into();
        s.body = Some("what do ya want for nothing?".into());
        s.hmac = Some(HmacSpec {
            header: "X-Signature".into(),
            key: "{{ secrets.whsec }}".into(),
            prefix: "sha256=".into(),
        });
        send(&s, vault(&[("whsec", "Jefe")])).unwrap();
        let request = server.join().unwrap();
        assert!(request_line(&request).starts_with("POST /hook "));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(body_of(&request));
        let independent = hex::encode(mac.finalize().into_bytes());
        assert_eq!(
            independent,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            header_in(&request, "x-signature").unwrap(),
            format!("sha256={independent}")
        );
    }

    #[test]
    fn a_body_with_references_is_signed_after_filling_in() {
        let (port, server) = serve(|_| ok(b"", ""));
        let mut s = spec(format!("http://127.0.0.1:{port}/"));
        s.method = "PUT".into();
        s.body = Some(r#"{"token":"{{ secrets.api-key }}"}"#.into());
        s.hmac = Some(HmacSpec {
            header: "X-Hub-Signature-256".into(),
            key: "literal-signing-key".into(),
            prefix: String::new(),
        });
        send(&s, vault(&[("api-key", VALUE)])).unwrap();
        let request = server.join().unwrap();
        assert_eq!(
            body_of(&request),
            format!(r#"{{"token":"{VALUE}"}}"#).as_bytes()
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(b"literal-signing-key").unwrap();
        mac.update(body_of(&request));
        assert_eq!(
            header_in(&request, "x-hub-signature-256").unwrap(),
            hex::encode(mac.finalize().into_bytes())
        );
    }

    #[test]
    fn printed_response_shows_no_value_in_any_form() {
        let (port, server) = serve(|request| {
            // Echo every request header, plus the value raw, base64'd and hex'd.
            let head = String::from_utf8_lossy(request).replace("\r\n", "\n");
            let body = format!(
                "{head}\nraw={VALUE}\nb64={}\nhex={}\n",
                STANDARD.encode(VALUE),
                hex::encode(VALUE)
            );
            ok(
                body.as_bytes(),
                &format!(
                    "X-Echo: {VALUE}\r\nX-Echo-B64: {}\r\n",
                    STANDARD.encode(VALUE)
                ),
            )
        });
        let mut s = spec(format!("http://127.0.0.1:{port}/echo"));
        s.headers = vec!["X-Api-Key: {{ secrets.api-key }}".into()];
        s.query = vec!["k={{ secrets.api-key }}".into()];
        s.basic = Some("user:{{ secrets.api-key }}".into());
        s.hmac = Some(HmacSpec {
            header: "X-Sig".into(),
            key: "hmac-key-literal-1234".into(),
            prefix: String::new(),
        });
        let text = send(&s, vault(&[("api-key", VALUE)]))
            .unwrap()
            .render_text();
        server.join().unwrap();
        assert!(text.starts_with("HTTP 200 OK\n"), "{text}");
        for leaked in [
            VALUE.to_owned(),
            STANDARD.encode(VALUE),
            hex::encode(VALUE),
            STANDARD.encode(format!("user:{VALUE}")),
            "hmac-key-literal-1234".to_owned(),
        ] {
            assert!(!text.contains(&leaked), "{leaked} in:\n{text}");
        }
        assert!(text.contains("x-echo: ********"), "{text}");
        assert!(text.contains("raw=********"), "{text}");
        assert!(text.contains("b64=********"), "{text}");
    }

    #[test]
    fn a_long_body_is_cut_with_a_note_and_stays_masked() {
        // The value straddles the cut: the part before it must not be shown either.
        let mut body = vec![b'.'; MAX_BODY_BYTES - 10];
        body.extend_from_slice(VALUE.as_bytes());
        body.extend_from_slice(b"after");
        let (port, server) = serve(move |_| ok(&body, ""));
        let response = send(
            &spec(format!("http://127.0.0.1:{port}/big?k={{{{ secrets.k }}}}")),
            vault(&[("k", VALUE)]),
        )
        .unwrap();
        server.join().unwrap();
        assert!(response.truncated);
        assert!(response.body.len() <= MAX_BODY_BYTES);
        let text = response.render_text();
        assert!(
            text.ends_with("[body truncated at 1024 KiB]"),
            "{}",
            &text[text.len() - 80..]
        );
        assert!(!text.contains(&VALUE[..6]));
    }

    #[test]
    fn escape_sequences_from_the_server_are_shown_not_sent() {
        let (port, server) = serve(|_| {
            ok(
                b"line 1\r\n\x1b]52;c;ZXZpbA==\x07\x1b[2J{\"m\":\"\\u001b\"}\n\tend",
                // HTTP refuses ESC in a header, but not C1 (U+009B is CSI to some
                // terminals) sent as UTF-8 obs-text.
                "X-Evil: a\u{9b}31mred\r\n",
            )
        });
        let response = send(&spec(format!("http://127.0.0.1:{port}/")), vault(&[])).unwrap();
        server.join().unwrap();
        let text = response.render_text();
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(
            text.contains("line 1\r\n\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J"),
            "{text:?}"
        );
        // A JSON escape is text, not an ESC byte: shown as the server wrote it.
        assert!(text.contains(r#"{"m":"\u001b"}"#), "{text:?}");
        assert!(text.ends_with("\n\tend"), "{text:?}");
        assert!(text.contains("x-evil: a\\u{9b}31mred\n"), "{text:?}");
    }

    #[test]
    fn the_host_never_comes_from_a_reference() {
        let calls = AtomicUsize::new(0);
        for url in [
            "https://{{ secrets.k }}.evil.com/",
            "https://api.example.com{{ secrets.k }}/",
            "https://$secret:abcdef/",
            "https://x:{{ secrets.k }}@evil.com/",
        ] {
            let err = prepare(&spec(url.into()), |_| {
                calls.fetch_add(1, Ordering::Relaxed);
                SecretValue::from_string(VALUE.into())
            })
            .unwrap_err();
            assert_eq!(err.code(), ErrorCode::Invalid, "{url}: {err}");
        }
        assert_eq!(calls.load(Ordering::Relaxed), 0, "nothing resolved");
    }

    #[test]
    fn the_destination_is_the_final_url_canonically() {
        let mut s = spec("http://LOCALHOST.:8080/x/{{ secrets.k }}?q=1".into());
        s.query = vec!["k={{ secrets.k }}".into()];
        let p = prepare(&s, vault(&[("k", "a/b@evil.com#")])).unwrap();
        let to = p.destination();
        assert_eq!((to.host.as_str(), to.port), ("localhost", 8080));
        assert!(!format!("{p:?}").contains("evil"), "{p:?}");
        for url in ["http://example.com/", "https://u@example.com/"] {
            assert_eq!(
                prepare(&spec(url.into()), vault(&[])).unwrap_err().code(),
                ErrorCode::Invalid,
                "{url}"
            );
        }
    }

    /// A server that records whether anyone connected, answering 502.
    fn fake_proxy() -> (u16, JoinHandle<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            let until = std::time::Instant::now() + Duration::from_secs(3);
            while std::time::Instant::now() < until {
                if let Ok((mut conn, _)) = listener.accept() {
                    let _ =
                        conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
                    return true;
                }
                thread::sleep(Duration::from_millis(20));
            }
            false
        });
        (port, handle)
    }

    #[test]
    fn proxies_from_the_environment_are_not_used() {
        let (proxy_port, proxy) = fake_proxy();
        let proxy_url = format!("http://127.0.0.1:{proxy_port}");
        // nextest runs each test in its own process, so this touches no other test.
        for var in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "http_proxy"] {
            std::env::set_var(var, &proxy_url);
        }
        std::env::remove_var("NO_PROXY");
        let (port, server) = serve(|_| ok(b"direct", ""));
        let response = send(&spec(format!("http://127.0.0.1:{port}/")), vault(&[])).unwrap();
        server.join().unwrap();
        assert_eq!(response.body, b"direct");
        assert!(!proxy.join().unwrap(), "the environment's proxy was used");
    }

    #[test]
    fn an_explicit_proxy_is_used() {
        let (proxy_port, proxy) = fake_proxy();
        let mut s = spec("http://127.0.0.1:9/".into());
        s.proxy = Some(format!("http://127.0.0.1:{proxy_port}"));
        let _ = send(&s, vault(&[]));
        assert!(proxy.join().unwrap(), "the proxy given was not used");
        s.proxy = Some("not a proxy url".into());
        assert_eq!(
            prepare(&s, vault(&[])).unwrap_err().code(),
            ErrorCode::Invalid
        );
    }

    #[test]
    fn redirects_are_not_followed() {
        let (port, server) = serve(|_| {
            b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/\r\nContent-Length: 0\r\n\r\n"
                .to_vec()
        });
        let mut s = spec(format!("http://127.0.0.1:{port}/"));
        s.headers = vec!["Authorization: Bearer {{ secrets.k }}".into()];
        let response = send(&s, vault(&[("k", VALUE)])).unwrap();
        server.join().unwrap();
        assert_eq!((response.status, response.reason.as_str()), (302, "Found"));
        assert!(response
            .headers
            .iter()
            .any(|(n, v)| n == "location" && v == "http://elsewhere.invalid/"));
    }

    #[test]
    fn unreachable_port_says_could_not_reach_without_the_value() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut s = spec(format!("http://127.0.0.1:{port}/x?k={{{{ secrets.k }}}}"));
        s.headers = vec!["Authorization: Bearer {{ secrets.k }}".into()];
        s.query = vec!["q={{ secrets.k }}".into()];
        let err = send(&s, vault(&[("k", VALUE)])).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("could not reach 127.0.0.1:{port}: ")),
            "{message}"
        );
        assert!(!message.contains(VALUE) && !format!("{err:?}").contains(VALUE));
        assert!(!message.contains("/x"), "{message}");
        assert_eq!(err.code(), ErrorCode::Internal);
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            thread::sleep(Duration::from_millis(800));
            drop(conn);
        });
        let mut s = spec(format!("http://127.0.0.1:{port}/"));
        s.timeout = Duration::from_millis(200);
        let err = send(&s, vault(&[])).unwrap_err();
        server.join().unwrap();
        assert_eq!(
            err.to_string(),
            format!("could not reach 127.0.0.1:{port}: timed out")
        );
    }

    #[test]
    fn only_http_and_https_are_sent() {
        let calls = AtomicUsize::new(0);
        for url in [
            "ftp://example.com/{{ secrets.k }}",
            "file:///etc/passwd",
            "coffer://payments/k",
            "127.0.0.1:8080/",
            "http:///no-host",
        ] {
            let err = send(&spec(url.into()), |_| {
                calls.fetch_add(1, Ordering::Relaxed);
                SecretValue::from_string(VALUE.into())
            })
            .unwrap_err();
            assert_eq!(err.code(), ErrorCode::Invalid, "{url}");
        }
        let err = send(&spec("http://user:pw@example.com/".into()), vault(&[])).unwrap_err();
        assert!(err.to_string().contains("--user"), "{err}");
        assert_eq!(calls.load(Ordering::Relaxed), 0, "nothing resolved");
    }

    #[test]
    fn malformed_or_missing_references_are_refused_by_place() {
        let mut s = spec("http://127.0.0.1:9/".into());
        s.headers = vec!["X-Key: {{ secrets.api-key".into()];
        let err = send(&s, vault(&[("api-key", VALUE)])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Invalid);
        let message = err.to_string();
        assert!(
            message.starts_with("header x-key: malformed reference"),
            "{message}"
        );
        assert!(message.contains("not closed"), "{message}");

        let mut s = spec("http://127.0.0.1:9/".into());
        s.body = Some("{{ secrets.nope }}".into());
        let err = send(&s, vault(&[])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotFound);
        assert!(err.to_string().contains("nope"));

        let mut s = spec("http://127.0.0.1:9/".into());
        s.headers = vec!["no colon here".into()];
        assert_eq!(send(&s, vault(&[])).unwrap_err().code(), ErrorCode::Invalid);
    }

    #[test]
    fn a_value_that_would_break_a_header_is_refused_unquoted() {
        let mut s = spec("http://127.0.0.1:9/".into());
        s.headers = vec!["X-Key: {{ secrets.k }}".into()];
        let err = send(&s, vault(&[("k", "line\r\nX-Injected: 1")])).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Invalid);
        assert!(!err.to_string().contains("Injected"), "{err}");
    }

    #[test]
    fn debug_of_a_spec_shows_shape_not_text() {
        let mut s = spec("https://api.example.com/v1?token=literal-token-123".into());
        s.headers = vec!["X-Key: literal-header-456".into()];
        s.body = Some("literal-body-789".into());
        s.basic = Some("u:literal-pass-000".into());
        s.hmac = Some(HmacSpec {
            header: "X-Sig".into(),
            key: "literal-key-111".into(),
            prefix: String::new(),
        });
        let shown = format!("{s:?}");
        for hidden in ["token-123", "header-456", "body-789", "pass-000", "key-111"] {
            assert!(!shown.contains(hidden), "{shown}");
        }
        assert!(shown.contains("api.example.com") && shown.contains("X-Key"));
    }
}
