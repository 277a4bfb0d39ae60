//! Where a secret may be sent: each secret's *allowed hosts*, and the destination of a
//! test request they are checked against.
//!
//! A writer lists hosts per secret (`coffer set NAME --allow-host api.stripe.com`); a
//! test request that uses the secret may go only there, unless the member may `reveal`
//! it anyway. Both sides are parsed by the `url` crate's WHATWG host parser, so they
//! compare in one canonical form: IDNA to ASCII, lowercase, one trailing dot dropped,
//! IPv4 in dotted decimal (`0x7f.1` is `127.0.0.1`), IPv6 compressed in brackets.
//!
//! The pattern syntax, decided here:
//! - `api.stripe.com`: that host, on any port;
//! - `api.stripe.com:8443`: that host on that port only;
//! - `*.example.com`: any subdomain at any depth (`a.example.com`, `a.b.example.com`),
//!   never the apex `example.com` (list it too when wanted); the part after `*.` must
//!   have two labels at least, so `*.com` is refused;
//! - `127.0.0.1`, `[::1]`, `::1`, `[::1]:8080`: an IP literal, compared canonically.
//!
//! No scheme, path, query, user or wildcard elsewhere. A destination's user-info is
//! refused outright (`https://api.stripe.com@evil.com/` goes to `evil.com`, and is not
//! sent at all), and `http://` is only for loopback.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Longest pattern kept (a DNS name is at most 253 characters, plus a port).
const MAX_PATTERN: usize = 260;
/// Most patterns per secret.
pub const MAX_ALLOWED_HOSTS: usize = 64;

/// What the `set --allow-host` help and refusals say a pattern looks like.
pub const PATTERN_HINT: &str =
    "a host name or IP address with an optional port (api.stripe.com, *.example.com, \
     127.0.0.1:8443), without scheme or path";

/// One allowed-host pattern, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    host: PatternHost,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternHost {
    /// A domain (ASCII, lowercase, no trailing dot) or a canonical IP literal.
    Exact(String),
    /// `*.suffix`: subdomains of `suffix` only.
    Subdomains(String),
}

impl HostPattern {
    /// Parses what a writer typed; the error names the pattern (hosts are not secret).
    pub fn parse(raw: &str) -> Result<HostPattern> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "allowed host '{}' {why}: give {PATTERN_HINT}",
                crate::text::terminal_safe_line(raw)
            ))
        };
        let text = raw.trim();
        if text.is_empty() {
            return Err(bad("is empty"));
        }
        if text.chars().count() > MAX_PATTERN {
            return Err(bad("is too long"));
        }
        if text.contains("://") {
            return Err(bad("has a scheme"));
        }
        if text.contains(['/', '?', '#']) {
            return Err(bad("has a path"));
        }
        if text.contains('@') {
            return Err(bad("has a user name"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("has a space or a control character"));
        }
        let (host, port) = split_port(text).map_err(&bad)?;
        if let Some(suffix) = host.strip_prefix("*.") {
            let suffix = match Host::parse(suffix.strip_suffix('.').unwrap_or(suffix)) {
                Ok(Host::Domain(d)) => d,
                Ok(_) => return Err(bad("puts a wildcard before an IP address")),
                Err(_) => return Err(bad("is not a valid host name")),
            };
            let suffix = suffix.trim_end_matches('.').to_owned();
            if suffix.contains('*') {
                return Err(bad("has more than one wildcard"));
            }
            if !suffix.contains('.') {
                return Err(bad("is too broad (a wildcard needs two labels after it)"));
            }
            return Ok(HostPattern {
                host: PatternHost::Subdomains(suffix),
                port,
            });
        }
        if host.contains('*') {
            return Err(bad("has a wildcard that is not the whole first label"));
        }
        let exact = canonical_host(host).ok_or_else(|| bad("is not a valid host name"))?;
        Ok(HostPattern {
            host: PatternHost::Exact(exact),
            port,
        })
    }

    /// Whether a request to `to` matches this pattern.
    pub fn allows(&self, to: &Destination) -> bool {
        let host = match &self.host {
            PatternHost::Exact(h) => *h == to.host,
            PatternHost::Subdomains(suffix) => {
                to.ip.is_none()
                    && to.host.len() > suffix.len() + 1
                    && to.host.ends_with(suffix.as_str())
                    && to.host.as_bytes()[to.host.len() - suffix.len() - 1] == b'.'
            }
        };
        host && self.port.is_none_or(|p| p == to.port)
    }
}

/// The normalised text, as stored and shown.
impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            PatternHost::Exact(h) => f.write_str(h)?,
            PatternHost::Subdomains(s) => write!(f, "*.{s}")?,
        }
        match self.port {
            Some(p) => write!(f, ":{p}"),
            None => Ok(()),
        }
    }
}

/// Parses and normalises a list of patterns, dropping repeats, keeping order.
pub fn normalize(raw: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for r in raw {
        let p = HostPattern::parse(r)?.to_string();
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.len() > MAX_ALLOWED_HOSTS {
        return Err(Error::invalid(format!(
            "a secret allows at most {MAX_ALLOWED_HOSTS} hosts"
        )));
    }
    Ok(out)
}

/// Whether any of the stored `patterns` allows `to`. A stored pattern that no longer
/// parses allows nothing.
pub fn any_allows(patterns: &[String], to: &Destination) -> bool {
    patterns
        .iter()
        .filter_map(|p| HostPattern::parse(p).ok())
        .any(|p| p.allows(to))
}

/// The stored form of a normalised list: a JSON array.
pub(crate) fn encode(hosts: &[String]) -> String {
    serde_json::Value::from(hosts.to_vec()).to_string()
}

/// Reads a stored list back; anything but an array of strings is an integrity failure.
pub(crate) fn decode(stored: &str, secret: &str) -> Result<Vec<String>> {
    serde_json::from_str(stored)
        .map_err(|_| Error::Integrity(format!("the allowed hosts of '{secret}' are unreadable")))
}

/// `host[:port]` of a pattern, split. Brackets mark IPv6 with a port; a bare text with
/// two colons or more is IPv6 without one.
fn split_port(text: &str) -> std::result::Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let end = rest.find(']').ok_or("has an unclosed '['")?;
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("has text after ']'"),
        };
        (&text[..end + 2], port)
    } else if text.matches(':').count() >= 2 {
        (text, None)
    } else if let Some((h, p)) = text.rsplit_once(':') {
        (h, Some(p))
    } else {
        (text, None)
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err("has an invalid port (1 to 65535)"),
        },
    };
    Ok((host, port))
}

/// The canonical text of a host: bare IPv6 gets brackets, a domain loses its trailing
/// dot. `None` when it is not a host.
fn canonical_host(host: &str) -> Option<String> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parsed = if !host.starts_with('[') && host.contains(':') {
        Host::parse(&format!("[{host}]"))
    } else {
        Host::parse(host)
    };
    match parsed.ok()? {
        Host::Domain(d) => {
            let d = d.trim_end_matches('.');
            (!d.is_empty()).then(|| d.to_owned())
        }
        Host::Ipv4(ip) => Some(ip.to_string()),
        Host::Ipv6(ip) => Some(format!("[{ip}]")),
    }
}

/// Where a filled-in test request goes: parsed once, by the same parser that produces
/// the URL handed to the HTTP client, so the check and the connection cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `http` or `https`.
    pub scheme: String,
    /// Canonical host (see the module doc); IPv6 in brackets.
    pub host: String,
    pub port: u16,
    ip: Option<IpAddr>,
}

impl Destination {
    /// Parses a final URL, refusing what must not be sent: another scheme, no host, a
    /// user name or password in the URL, plain `http://` beyond loopback. Returns the
    /// destination and the URL as the client must send it (normalised, no fragment).
    ///
    /// Errors name the host at most, never the URL: its path and query may hold values.
    pub fn parse(url: &str) -> Result<(Destination, Zeroizing<String>)> {
        let mut parsed = Url::parse(url.trim()).map_err(|_| {
            Error::invalid("the URL is not valid once its references are filled in")
        })?;
        let scheme = parsed.scheme().to_owned();
        if scheme != "http" && scheme != "https" {
            return Err(Error::invalid(
                "a test request URL must start with http:// or https://",
            ));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Error::invalid(
                "put credentials in basic auth (--user), not in the URL",
            ));
        }
        let (host, ip) = match parsed.host() {
            Some(Host::Domain(d)) => (d.trim_end_matches('.').to_owned(), None),
            Some(Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(Host::Ipv6(ip)) => (format!("[{ip}]"), Some(IpAddr::V6(ip))),
            None => return Err(Error::invalid("the URL names no host")),
        };
        if host.is_empty() {
            return Err(Error::invalid("the URL names no host"));
        }
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| Error::invalid("the URL names no port"))?;
        parsed.set_fragment(None);
        let to = Destination {
            scheme,
            host,
            port,
            ip,
        };
        if to.scheme == "http" && !to.is_loopback() {
            return Err(Error::invalid(format!(
                "a test request to {} must use https:// (plain http:// only to this machine: \
                 127.0.0.1, [::1], localhost)",
                to.host
            )));
        }
        Ok((to, Zeroizing::new(parsed.into())))
    }

    /// 127.0.0.0/8, ::1 (also as IPv4-mapped 127.x) and the name `localhost`.
    pub fn is_loopback(&self) -> bool {
        match self.ip {
            Some(IpAddr::V4(ip)) => ip.is_loopback(),
            Some(IpAddr::V6(ip)) => {
                ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
            }
            None => self.host == "localhost",
        }
    }

    /// `host:port` for messages.
    pub fn label(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> String {
        HostPattern::parse(raw)
            .unwrap_or_else(|e| panic!("{raw}: {e}"))
            .to_string()
    }

    fn to(url: &str) -> Destination {
        Destination::parse(url)
            .unwrap_or_else(|e| panic!("{url}: {e}"))
            .0
    }

    fn allowed(pattern: &str, url: &str) -> bool {
        HostPattern::parse(pattern).unwrap().allows(&to(url))
    }

    #[test]
    fn patterns_are_normalised() {
        assert_eq!(norm("API.Stripe.com"), "api.stripe.com");
        assert_eq!(norm(" api.stripe.com. "), "api.stripe.com");
        assert_eq!(norm("api.stripe.com:8443"), "api.stripe.com:8443");
        assert_eq!(norm("*.Example.COM"), "*.example.com");
        assert_eq!(norm("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(norm("127.0.0.1"), "127.0.0.1");
        assert_eq!(norm("0x7f.1"), "127.0.0.1");
        assert_eq!(norm("::1"), "[::1]");
        assert_eq!(norm("[0:0:0:0:0:0:0:1]:8080"), "[::1]:8080");
        assert_eq!(norm("localhost"), "localhost");
    }

    #[test]
    fn bad_patterns_are_refused_with_the_hint() {
        for raw in [
            "",
            "  ",
            "https://api.stripe.com",
            "api.stripe.com/v1",
            "api.stripe.com?x",
            "user@api.stripe.com",
            "api.stripe.com:0",
            "api.stripe.com:99999",
            "api.stripe.com:http",
            "*.com",
            "*",
            "a.*.example.com",
            "*.*.example.com",
            "*.127.0.0.1",
            "[::1",
            "[::1]x",
            "exa mple.com",
            "bad\u{1b}]52;c;x\u{7}.com",
            "exa<mple.com",
        ] {
            let err = HostPattern::parse(raw).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::Invalid, "{raw}");
            let msg = err.to_string();
            assert!(msg.contains("api.stripe.com, *.example.com"), "{msg}");
            assert!(!msg.contains('\u{1b}'), "{msg:?}");
        }
    }

    #[test]
    fn normalize_drops_repeats_and_caps_the_list() {
        let raw = vec!["A.com".into(), "a.com".into(), "b.com:1".into()];
        assert_eq!(normalize(&raw).unwrap(), ["a.com", "b.com:1"]);
        let many: Vec<String> = (0..=MAX_ALLOWED_HOSTS)
            .map(|i| format!("h{i}.com"))
            .collect();
        assert!(normalize(&many).is_err());
    }

    #[test]
    fn exact_hosts_match_any_port_unless_one_is_given() {
        assert!(allowed(
            "api.stripe.com",
            "https://api.stripe.com/v1/charges"
        ));
        assert!(allowed("api.stripe.com", "https://API.STRIPE.COM.:8443/"));
        assert!(allowed("api.stripe.com:443", "https://api.stripe.com/"));
        assert!(!allowed("api.stripe.com:8443", "https://api.stripe.com/"));
        assert!(!allowed(
            "api.stripe.com",
            "https://api.stripe.com.evil.com/"
        ));
        assert!(!allowed("api.stripe.com", "https://evilapi.stripe.com/"));
        assert!(!allowed("api.stripe.com", "https://stripe.com/"));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        assert!(allowed("*.example.com", "https://a.example.com/"));
        assert!(allowed("*.example.com", "https://a.b.example.com/"));
        assert!(!allowed("*.example.com", "https://example.com/"));
        assert!(!allowed("*.example.com", "https://badexample.com/"));
        assert!(!allowed("*.example.com", "https://example.com.evil.com/"));
        assert!(!allowed("*.example.com:8443", "https://a.example.com/"));
    }

    #[test]
    fn idna_and_ip_literals_compare_canonically() {
        assert!(allowed("bücher.example", "https://xn--bcher-kva.example/"));
        assert!(allowed("xn--bcher-kva.example", "https://BÜCHER.example/"));
        assert!(allowed("127.0.0.1", "http://2130706433:8080/"));
        assert!(allowed("127.0.0.1", "http://0x7f.0.0.1/"));
        assert!(allowed("[::1]", "http://[0:0::1]:9/"));
        assert!(!allowed("127.0.0.1", "http://127.0.0.2/"));
        assert!(!allowed("[::1]", "http://127.0.0.1/"));
    }

    #[test]
    fn userinfo_cannot_disguise_the_host() {
        for url in [
            "https://api.stripe.com@evil.com/",
            "https://api.stripe.com:pw@evil.com/",
            "https://evil.com\\@api.stripe.com/",
        ] {
            match Destination::parse(url) {
                Err(e) => assert!(e.to_string().contains("basic auth"), "{url}: {e}"),
                // The WHATWG parser reads a backslash as a path separator: evil.com.
                Ok((d, _)) => {
                    assert_eq!(d.host, "evil.com", "{url}");
                    assert!(!HostPattern::parse("api.stripe.com").unwrap().allows(&d));
                }
            }
        }
    }

    #[test]
    fn plain_http_goes_only_to_loopback() {
        for url in [
            "http://127.0.0.1:1/",
            "http://127.1.2.3/",
            "http://[::1]/",
            "http://localhost:8080/",
            "http://LOCALHOST./",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(to(url).is_loopback(), "{url}");
        }
        for url in [
            "http://example.com/",
            "http://10.0.0.1/",
            "http://localhost.evil.com/",
            "http://[::2]/",
        ] {
            let err = Destination::parse(url).unwrap_err();
            assert!(
                err.to_string().contains("must use https://"),
                "{url}: {err}"
            );
        }
        assert!(Destination::parse("https://example.com/").is_ok());
    }

    #[test]
    fn the_url_sent_is_the_url_checked() {
        let (d, sent) = Destination::parse("HTTPS://API.Stripe.com:443/v1/x?a=%2F#frag").unwrap();
        assert_eq!((d.host.as_str(), d.port), ("api.stripe.com", 443));
        assert_eq!(sent.as_str(), "https://api.stripe.com/v1/x?a=%2F");
        assert_eq!(d.label(), "api.stripe.com:443");
        for bad in [
            "ftp://x.com/",
            "file:///etc/passwd",
            "http:///nohost",
            "not a url",
        ] {
            assert_eq!(
                Destination::parse(bad).unwrap_err().code(),
                crate::ErrorCode::Invalid,
                "{bad}"
            );
        }
    }
}
