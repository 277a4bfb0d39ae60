//! `coffer request METHOD URL`: the test request's arguments, turned into the core's
//! [`RequestSpec`]. Every value argument is a template (`{{ secrets.NAME }}`,
//! `coffer://…`, `$secret:…`); the resolving, sending and masking happen in
//! [`coffer_core::test_request`], the allowed-hosts check and the audit (before
//! sending) in the resolver.

use std::time::Duration;

use clap::Args;
use coffer_core::test_request::{HmacSpec, RequestSpec};
use coffer_core::{Error, Result};

#[derive(Args)]
pub struct RequestArgs {
    /// HTTP method (GET, POST, …)
    #[arg(value_name = "METHOD")]
    pub method: String,
    /// http:// or https:// URL; references in it are URL-encoded
    #[arg(value_name = "URL")]
    pub url: String,
    /// Environment to resolve references in
    #[arg(long = "env", value_name = "E")]
    pub environment: Option<String>,
    /// A header, 'Name: value' (repeatable)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// A query parameter, key=value, appended URL-encoded (repeatable)
    #[arg(long = "query", value_name = "K=V")]
    pub query: Vec<String>,
    /// Basic auth credentials, 'user:password'
    #[arg(short = 'u', long = "user", value_name = "USER:PASS")]
    pub user: Option<String>,
    /// Header to carry an HMAC-SHA256 signature of the body (hex)
    #[arg(long, value_name = "NAME", requires = "hmac_key")]
    pub hmac_header: Option<String>,
    /// The HMAC key, usually one reference
    #[arg(long, value_name = "TEMPLATE", requires = "hmac_header")]
    pub hmac_key: Option<String>,
    /// Text before the hex signature, such as 'sha256='
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "",
        requires = "hmac_header"
    )]
    pub hmac_prefix: String,
    /// Request body
    #[arg(
        short = 'd',
        long = "data",
        value_name = "BODY",
        conflicts_with = "data_stdin"
    )]
    pub data: Option<String>,
    /// Read the request body from standard input
    #[arg(long)]
    pub data_stdin: bool,
    /// Give up after this long (for example 10s, 1m)
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Send through this HTTP proxy (http://host:port). Proxies named by the
    /// environment (HTTPS_PROXY, ALL_PROXY, …) are never used.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
}

impl RequestArgs {
    /// The request to send; `stdin_body` is standard input, read by the caller when
    /// `--data-stdin` is given.
    pub fn spec(&self, stdin_body: Option<String>) -> Result<RequestSpec> {
        let body = match (&self.data, self.data_stdin, stdin_body) {
            (Some(data), _, _) => Some(data.clone()),
            (None, true, Some(body)) => Some(body),
            (None, true, None) => {
                return Err(Error::invalid(
                    "--data-stdin was given but no body was read",
                ))
            }
            (None, false, _) => None,
        };
        if self.timeout.is_zero() {
            return Err(Error::invalid("--timeout must be longer than zero"));
        }
        let hmac = match (&self.hmac_header, &self.hmac_key) {
            (Some(header), Some(key)) => Some(HmacSpec {
                header: header.clone(),
                key: key.clone(),
                prefix: self.hmac_prefix.clone(),
            }),
            (None, None) => None,
            _ => return Err(Error::invalid("--hmac-header and --hmac-key go together")),
        };
        Ok(RequestSpec {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self.headers.clone(),
            query: self.query.clone(),
            basic: self.user.clone(),
            hmac,
            body,
            timeout: self.timeout,
            proxy: self.proxy.clone(),
        })
    }
}

/// `coffer request`: resolve, check the destination against every secret's allowed
/// hosts, audit the use, then send and print the masked answer. The audit comes first,
/// so it holds even when the server cannot be reached (the values may have left).
pub fn request(ctx: &crate::commands::Ctx, a: RequestArgs) -> Result<u8> {
    let body = if a.data_stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::Io(format!("could not read the body from stdin: {e}")))?;
        Some(text)
    } else {
        None
    };
    let spec = a.spec(body)?;
    let mut session = ctx.session()?;
    let purpose = coffer_core::Purpose::new("request");
    let mut resolver = session.resolver(&ctx.scope, a.environment.as_deref(), purpose)?;
    let prepared = coffer_core::test_request::prepare(&spec, |t| resolver.resolve(t))?;
    resolver.finish_request(prepared.destination())?;
    drop(session);
    let response = prepared.send()?;
    if ctx.json {
        crate::output::json(&serde_json::json!({
            "status": response.status,
            "reason": response.reason,
            "headers": response.headers,
            "body": String::from_utf8_lossy(&response.body),
            "truncated": response.truncated,
        }));
    } else {
        crate::output::outln!("{}", response.render_text());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: RequestArgs,
    }

    fn parse(argv: &[&str]) -> std::result::Result<RequestArgs, clap::Error> {
        Cmd::try_parse_from(std::iter::once("request").chain(argv.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn every_placement_reaches_the_spec() {
        let a = parse(&[
            "POST",
            "https://api.example.com/v1",
            "-H",
            "Authorization: Bearer {{ secrets.api-key }}",
            "--header",
            "X-Trace: 1",
            "--query",
            "key={{ secrets.q }}",
            "--user",
            "svc:{{ secrets.pw }}",
            "--hmac-header",
            "X-Signature",
            "--hmac-key",
            "{{ secrets.whsec }}",
            "--hmac-prefix",
            "sha256=",
            "-d",
            "{\"a\":1}",
            "--timeout",
            "3s",
        ])
        .unwrap();
        let s = a.spec(None).unwrap();
        assert_eq!(
            (s.method.as_str(), s.url.as_str()),
            ("POST", "https://api.example.com/v1")
        );
        assert_eq!(s.headers.len(), 2);
        assert_eq!(s.query, ["key={{ secrets.q }}"]);
        assert_eq!(s.basic.as_deref(), Some("svc:{{ secrets.pw }}"));
        let h = s.hmac.unwrap();
        assert_eq!(
            (h.header.as_str(), h.key.as_str(), h.prefix.as_str()),
            ("X-Signature", "{{ secrets.whsec }}", "sha256=")
        );
        assert_eq!(s.body.as_deref(), Some("{\"a\":1}"));
        assert_eq!(s.timeout, Duration::from_secs(3));
    }

    #[test]
    fn defaults_and_stdin_body() {
        let a = parse(&["GET", "http://127.0.0.1/", "--data-stdin"]).unwrap();
        assert_eq!(a.timeout, Duration::from_secs(10));
        assert_eq!(
            a.spec(Some("piped".into())).unwrap().body.as_deref(),
            Some("piped")
        );
        assert!(a.spec(None).is_err());
        let plain = parse(&["GET", "http://127.0.0.1/"])
            .unwrap()
            .spec(None)
            .unwrap();
        assert!(plain.body.is_none() && plain.hmac.is_none() && plain.basic.is_none());
    }

    #[test]
    fn mismatched_options_are_refused() {
        assert!(parse(&["GET", "http://x/", "--hmac-header", "X-Sig"]).is_err());
        assert!(parse(&["GET", "http://x/", "--hmac-key", "k"]).is_err());
        assert!(parse(&["GET", "http://x/", "-d", "a", "--data-stdin"]).is_err());
        assert!(parse(&["GET", "http://x/", "--timeout", "soon"]).is_err());
        let zero = parse(&["GET", "http://x/", "--timeout", "0s"]).unwrap();
        assert!(zero.spec(None).is_err());
    }
}
