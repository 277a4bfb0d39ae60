//! Finding credentials written in plain text into definition files.
//!
//! `coffer check` runs [`scan`] over YAML, JSON, `.env` or any other text. It reports
//! tokens with the shape of a well-known credential (AWS, GitHub, GitLab, Slack, Stripe,
//! Google, OpenAI, a private key, a JWT, a password inside a URL) and high-entropy
//! values assigned to names such as `API_KEY` or `password`. A finding carries only a
//! [`redact`]ed preview, so a report can be printed and logged. Coffer references
//! (`{{ secrets.X }}`, `$secret:…`, `coffer://…`) and placeholders are never findings.
//! [`candidates`] lists the tokens worth comparing with stored values by fingerprint.
//!
//! Speed: the known shapes are one regex, compiled once, whose literal prefixes let it
//! skip clean text; assignments come from one allocation-free pass over each line.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde::Serialize;

/// A suspected plaintext credential. Holds nothing of it beyond [`redact`]'s preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based.
    pub line: usize,
    /// 1-based, counted in chars: where the suspect token starts.
    pub column: usize,
    pub kind: FindingKind,
    /// From [`redact`]: never the whole token.
    pub preview: String,
}

/// What a [`Finding`] looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    AwsAccessKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    StripeKey,
    GoogleApiKey,
    OpenAiKey,
    PrivateKeyBlock,
    Jwt,
    PasswordInUrl,
    /// A random-looking value assigned to a name like `*_KEY`, `*TOKEN`, `*SECRET`,
    /// `password`, `credential` or `auth`.
    HighEntropyAssignment,
}

impl FindingKind {
    /// A short description for reports.
    pub fn describe(&self) -> &'static str {
        match self {
            FindingKind::AwsAccessKey => "AWS access key id",
            FindingKind::GithubToken => "GitHub token",
            FindingKind::GitlabToken => "GitLab personal access token",
            FindingKind::SlackToken => "Slack token",
            FindingKind::StripeKey => "Stripe API key",
            FindingKind::GoogleApiKey => "Google API key",
            FindingKind::OpenAiKey => "OpenAI API key",
            FindingKind::PrivateKeyBlock => "private key block",
            FindingKind::Jwt => "JSON Web Token",
            FindingKind::PasswordInUrl => "password in a URL",
            FindingKind::HighEntropyAssignment => {
                "random-looking value assigned to a credential name"
            }
        }
    }
}

/// A token worth fingerprinting and comparing with stored values. Derives no `Debug`:
/// the token may be a plaintext secret.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// 1-based.
    pub line: usize,
    /// 1-based, counted in chars.
    pub column: usize,
    pub token: &'a str,
}

/// Tokens shorter than this are previewed by their length alone.
const PREVIEW_FROM_LEN: usize = 12;
const PREVIEW_CHARS: usize = 4;
/// Bare (unquoted, unassigned) tokens shorter than this are not candidates.
const MIN_BARE_LEN: usize = 8;
/// Quoted strings are lexed again inside, this many levels deep (a `curl -H '…'` in a
/// YAML string).
const MAX_DEPTH: u8 = 2;

/// The known shapes, one capture group each in [`SHAPES`], in this order.
const SHAPE_PATTERNS: [(FindingKind, &str); 9] = [
    (
        FindingKind::AwsAccessKey,
        r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}",
    ),
    (
        FindingKind::GithubToken,
        r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}",
    ),
    (FindingKind::GitlabToken, r"glpat-[A-Za-z0-9_-]{20,}"),
    (FindingKind::SlackToken, r"xox[abposr]-[A-Za-z0-9-]{10,}"),
    (
        FindingKind::StripeKey,
        r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}",
    ),
    (FindingKind::GoogleApiKey, r"AIza[A-Za-z0-9_-]{35}"),
    (FindingKind::OpenAiKey, r"sk-[A-Za-z0-9_-]{20,}"),
    (
        FindingKind::PrivateKeyBlock,
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    ),
    (
        FindingKind::Jwt,
        r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    ),
];

static SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    let groups: Vec<String> = SHAPE_PATTERNS
        .iter()
        .map(|(_, p)| format!("({p})"))
        .collect();
    Regex::new(&groups.join("|")).expect("the credential shapes are valid patterns")
});

/// Words that make a name credential-like, by [`NameClass`]; `public` vetoes.
const NAME_WORDS: [(&str, Option<NameClass>); 11] = [
    ("public", None),
    ("password", Some(NameClass::Password)),
    ("passwd", Some(NameClass::Password)),
    ("passphrase", Some(NameClass::Password)),
    ("pwd", Some(NameClass::Password)),
    ("key", Some(NameClass::Secret)),
    ("token", Some(NameClass::Secret)),
    ("secret", Some(NameClass::Secret)),
    ("credential", Some(NameClass::Secret)),
    ("auth", Some(NameClass::Secret)),
    ("private", Some(NameClass::Secret)),
];

static NAME_MATCHER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostFirst)
        .build(NAME_WORDS.iter().map(|(w, _)| w))
        .expect("the name words are valid patterns")
});

/// Last name segments that say the value describes a credential rather than being
/// one: `token_url`, `secretName`, `key_file`, `password_min_length`, …
const DESCRIPTIVE_SEGMENTS: [&str; 24] = [
    "url", "uri", "endpoint", "host", "ip", "path", "file", "dir", "name", "id", "ref", "type",
    "env", "var", "header", "field", "version", "ttl", "length", "size", "mode", "method",
    "format", "timeout",
];
/// Values that are not a credential whatever they are assigned to.
const NON_VALUES: [&str; 11] = [
    "true",
    "false",
    "null",
    "none",
    "nil",
    "yes",
    "no",
    "on",
    "off",
    "undefined",
    "~",
];
/// Template and interpolation syntax: a value holding one is filled in elsewhere.
const TEMPLATE_MARKS: [&str; 5] = ["{{", "${", "$(", "((", "#{"];
/// Compared case-insensitively. `enc[` is a sops-encrypted value, `vault:` a Vault path.
const PLACEHOLDER_PREFIXES: [&str; 9] = [
    "your",
    "coffer://",
    "$secret:",
    "enc[",
    "vault:",
    "xxx",
    "***",
    "...",
    "…",
];
/// Compared case-insensitively, anywhere in a value or token (also a known shape:
/// `AKIAIOSFODNN7EXAMPLE` is AWS's documented example key).
const FILLER: [&str; 13] = [
    "changeme",
    "change_me",
    "change-me",
    "replaceme",
    "replace_me",
    "replace-me",
    "placeholder",
    "redacted",
    "example",
    "dummy",
    "xxxxxx",
    "******",
    "000000",
];
/// Words standing in for a password in a URL.
const PASSWORD_WORDS: [&str; 5] = ["password", "pass", "passwd", "pwd", "secret"];
const AUTH_SCHEMES: [&str; 3] = ["bearer ", "basic ", "token "];

/// Every suspected plaintext credential in `text`, by line then column.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut hits = Vec::new();
    shaped_tokens(text, &mut hits);
    url_passwords(text, &mut hits);
    hits.sort_by_key(|h| h.start);

    let mut findings = Vec::new();
    let mut next_hit = 0;
    // Per line: (byte offset, token, kind).
    let mut suspects: Vec<(usize, &str, FindingKind)> = Vec::new();
    // The value of the latest `name:`, for a `value:` that follows (Kubernetes `env`,
    // ECS task definitions).
    let mut named: Option<(usize, &str)> = None;
    for (number, start, line) in lines(text) {
        suspects.clear();
        while let Some(hit) = hits.get(next_hit).filter(|h| h.start <= start + line.len()) {
            let at = hit.start - start;
            if !inside_reference(line, at) {
                suspects.push((at, &text[hit.start..hit.end], hit.kind));
            }
            next_hit += 1;
        }
        lex_line(line, &mut |token| {
            let Token::Assignment { name, at, value } = token else {
                return;
            };
            if name.eq_ignore_ascii_case("name") {
                named = Some((number, value));
                return;
            }
            let name = match named {
                Some((at_line, pair))
                    if number - at_line <= 2 && name.eq_ignore_ascii_case("value") =>
                {
                    pair
                }
                _ => name,
            };
            let Some((at, value)) = credential_value(name, value, at) else {
                return;
            };
            let end = at + value.len();
            if !suspects
                .iter()
                .any(|&(s, t, _)| s < end && at < s + t.len())
            {
                suspects.push((at, value, FindingKind::HighEntropyAssignment));
            }
        });
        suspects.sort_by_key(|&(at, ..)| at);
        let mut columns = Columns::new(line);
        findings.extend(suspects.iter().map(|&(at, token, kind)| Finding {
            line: number,
            column: columns.at(at),
            kind,
            preview: redact(token),
        }));
    }
    findings
}

/// Tokens worth comparing with stored values by keyed fingerprint: the value side of
/// assignments (`KEY=value`, `key: value`, `"key": "value"`), quoted strings, and bare
/// whitespace-separated tokens of at least 8 chars; quotes and trailing commas
/// stripped. Each distinct token is listed once per line, at its first column.
pub fn candidates(text: &str) -> Vec<Candidate<'_>> {
    let mut out = Vec::new();
    let mut tokens: Vec<(usize, &str)> = Vec::new();
    for (number, _, line) in lines(text) {
        tokens.clear();
        lex_line(line, &mut |token| {
            let (Token::Quoted { at, text }
            | Token::Assignment {
                at, value: text, ..
            }) = token;
            if !text.is_empty() {
                tokens.push((at, text));
            }
        });
        bare_tokens(line, &mut tokens);
        tokens.sort_by_key(|&(at, _)| at);
        let mut columns = Columns::new(line);
        for (i, &(at, token)) in tokens.iter().enumerate() {
            if !tokens[..i].iter().any(|&(_, seen)| seen == token) {
                out.push(Candidate {
                    line: number,
                    column: columns.at(at),
                    token,
                });
            }
        }
    }
    out
}

/// A preview that identifies a token without revealing it: its first 4 chars and its
/// length (`AKIA… (20 chars)`), or only its length when shorter than 12 chars.
pub fn redact(token: &str) -> String {
    let len = token.chars().count();
    let unit = if len == 1 { "char" } else { "chars" };
    if len < PREVIEW_FROM_LEN {
        format!("… ({len} {unit})")
    } else {
        let head: String = token.chars().take(PREVIEW_CHARS).collect();
        format!("{head}… ({len} {unit})")
    }
}

/// A suspect token by byte range in the whole text.
struct Hit {
    start: usize,
    end: usize,
    kind: FindingKind,
}

/// (1-based number, byte offset, line without its `\r\n` or `\n`).
fn lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut start = 0;
    text.split('\n').enumerate().map(move |(index, raw)| {
        let here = start;
        start += raw.len() + 1;
        (index + 1, here, raw.strip_suffix('\r').unwrap_or(raw))
    })
}

/// Char columns of byte offsets in one line, asked for in increasing order, so a long
/// line is walked once.
struct Columns<'a> {
    line: &'a str,
    byte: usize,
    column: usize,
}

impl<'a> Columns<'a> {
    fn new(line: &'a str) -> Self {
        Columns {
            line,
            byte: 0,
            column: 1,
        }
    }

    fn at(&mut self, byte: usize) -> usize {
        self.column += self.line[self.byte..byte].chars().count();
        self.byte = byte;
        self.column
    }
}

fn shaped_tokens(text: &str, hits: &mut Vec<Hit>) {
    let bytes = text.as_bytes();
    for caps in SHAPES.captures_iter(text) {
        let Some((group, m)) = caps
            .iter()
            .enumerate()
            .skip(1)
            .find_map(|(i, m)| m.map(|m| (i, m)))
        else {
            continue;
        };
        let kind = SHAPE_PATTERNS[group - 1].0;
        let token = m.as_str();
        // Part of a longer word is not the credential it resembles.
        let joined = (m.start() > 0 && is_token_byte(bytes[m.start() - 1]))
            || bytes.get(m.end()).is_some_and(u8::is_ascii_alphanumeric);
        let unlikely = match kind {
            FindingKind::PrivateKeyBlock => false,
            // `sk-` also starts kebab-case words: `sk-learning-platform-deployment`.
            FindingKind::OpenAiKey => joined || !looks_random(&token[3..]),
            _ => joined || has_filler(token),
        };
        if !unlikely {
            hits.push(Hit {
                start: m.start(),
                end: m.end(),
                kind,
            });
        }
    }
}

/// The password of every `scheme://user:password@host`.
fn url_passwords(text: &str, hits: &mut Vec<Hit>) {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices("://") {
        if at == 0 || !bytes[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let from = at + 3;
        let rest = &text[from..];
        let end = rest
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '/' | '?' | '#' | '@' | '"' | '\'' | '`' | '<')
            })
            .unwrap_or(rest.len());
        if rest.as_bytes().get(end) != Some(&b'@') {
            continue;
        }
        let Some(colon) = rest[..end].find(':') else {
            continue;
        };
        let password = &rest[colon + 1..end];
        if is_placeholder(password)
            || PASSWORD_WORDS
                .iter()
                .any(|w| password.eq_ignore_ascii_case(w))
        {
            continue;
        }
        hits.push(Hit {
            start: from + colon + 1,
            end: from + end,
            kind: FindingKind::PasswordInUrl,
        });
    }
}

/// Whether byte `at` of `line` lies inside a Coffer reference or a `{{ … }}` template.
fn inside_reference(line: &str, at: usize) -> bool {
    let before = &line[..at];
    if before
        .rfind("{{")
        .is_some_and(|open| !before[open..].contains("}}"))
    {
        return true;
    }
    ["coffer://", "$secret:"].iter().any(|prefix| {
        before.rfind(prefix).is_some_and(|p| {
            !before[p..].contains(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        })
    })
}

#[derive(Clone, Copy)]
enum NameClass {
    /// Passwords are often short and human-chosen: length and shape, not entropy.
    Password,
    Secret,
}

fn name_class(name: &str) -> Option<NameClass> {
    let last = last_segment(name);
    if DESCRIPTIVE_SEGMENTS
        .iter()
        .any(|s| last.eq_ignore_ascii_case(s))
        // A Vault AppRole `secret_id` is a credential.
        && !(last.eq_ignore_ascii_case("id") && contains_ignore_case(name, "secret"))
    {
        return None;
    }
    let mut class = None;
    for m in NAME_MATCHER.find_iter(name) {
        match NAME_WORDS[m.pattern().as_usize()].1 {
            None => return None,
            Some(NameClass::Password) => class = Some(NameClass::Password),
            Some(NameClass::Secret) => {
                class = class.or(Some(NameClass::Secret));
            }
        }
    }
    class
}

/// The last word of a name: `secretName` → `Name`, `TOKEN_URL` → `URL`.
fn last_segment(name: &str) -> &str {
    let b = name.as_bytes();
    let mut start = b.len();
    while start > 0 {
        let c = b[start - 1];
        if matches!(c, b'_' | b'-' | b'.') {
            break;
        }
        start -= 1;
        if c.is_ascii_uppercase() && start > 0 && b[start - 1].is_ascii_lowercase() {
            break;
        }
    }
    &name[start..]
}

/// The suspect part of `value` (at byte `at`) when assigning it to `name` looks like
/// writing a credential in plain text.
fn credential_value<'a>(name: &str, value: &'a str, at: usize) -> Option<(usize, &'a str)> {
    let class = name_class(name)?;
    let (at, value) = match AUTH_SCHEMES
        .iter()
        .find(|s| starts_with_ignore_case(value, s))
    {
        Some(scheme) => (at + scheme.len(), &value[scheme.len()..]),
        None => (at, value),
    };
    if value.contains(char::is_whitespace) || is_placeholder(value) || is_locator(value) {
        return None;
    }
    let len = value.chars().count();
    let suspect = match class {
        NameClass::Password => len >= 8 && !is_plain_word(value),
        NameClass::Secret => len >= 12 && entropy(value) >= 3.0 && looks_random(value),
    };
    suspect.then_some((at, value))
}

fn is_placeholder(value: &str) -> bool {
    value.is_empty()
        || NON_VALUES.iter().any(|w| value.eq_ignore_ascii_case(w))
        || value.parse::<f64>().is_ok()
        || (value.starts_with('<') && value.ends_with('>'))
        || is_variable(value)
        || TEMPLATE_MARKS.iter().any(|m| value.contains(m))
        || PLACEHOLDER_PREFIXES
            .iter()
            .any(|p| starts_with_ignore_case(value, p))
        || has_filler(value)
}

/// `$NAME` or `%NAME%`.
fn is_variable(value: &str) -> bool {
    let name = value
        .strip_prefix('$')
        .or_else(|| value.strip_prefix('%')?.strip_suffix('%'));
    name.is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'))
}

fn has_filler(value: &str) -> bool {
    FILLER.iter().any(|f| contains_ignore_case(value, f))
}

/// A URL, a path or an ARN: where a credential is, not what it is.
fn is_locator(value: &str) -> bool {
    value.contains("://")
        || ["/", "./", "../", "~/"]
            .iter()
            .any(|p| value.starts_with(p))
        || starts_with_ignore_case(value, "arn:")
}

/// Letters only, in words: `sunshine`, `DB_PASSWORD`, `myDbPassword`.
fn is_plain_word(value: &str) -> bool {
    value
        .bytes()
        .all(|c| c.is_ascii_alphabetic() || matches!(c, b'-' | b'_' | b'.'))
        && !looks_random(value)
}

/// Shannon entropy in bits per byte.
fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    for &c in value.as_bytes() {
        counts[usize::from(c)] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|&&k| k > 0)
        .map(|&k| {
            let p = f64::from(k) / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether a value reads as random rather than as words: it switches between lower
/// case, upper case and digits often, or it is a long hex string. Identifiers
/// (`database-password`, `awsSecretAccessKey`, `billing-tls-2024`) switch rarely.
fn looks_random(value: &str) -> bool {
    let hex = value.bytes().all(|c| c.is_ascii_hexdigit())
        && !(value.bytes().any(|c| c.is_ascii_lowercase())
            && value.bytes().any(|c| c.is_ascii_uppercase()));
    switch_rate(value) >= 0.25 || (hex && value.len() >= 16)
}

/// The share of adjacent ASCII letters and digits that switch between lower case,
/// upper case and digit, not counting a capital followed by a lower-case letter (a
/// capitalised word). About 0.5 for random alphanumerics; below 0.2 for identifiers.
fn switch_rate(value: &str) -> f64 {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Class {
        Lower,
        Upper,
        Digit,
    }
    let class = |c: u8| match c {
        b'a'..=b'z' => Some(Class::Lower),
        b'A'..=b'Z' => Some(Class::Upper),
        b'0'..=b'9' => Some(Class::Digit),
        _ => None,
    };
    let b = value.as_bytes();
    let (mut pairs, mut switches) = (0u32, 0u32);
    for i in 1..b.len() {
        let (Some(prev), Some(this)) = (class(b[i - 1]), class(b[i])) else {
            continue;
        };
        pairs += 1;
        let word_start = prev == Class::Upper
            && this == Class::Lower
            && (i < 2 || class(b[i - 2]) != Some(Class::Upper));
        if prev != this && !word_start {
            switches += 1;
        }
    }
    if pairs == 0 {
        0.0
    } else {
        f64::from(switches) / f64::from(pairs)
    }
}

fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    value
        .as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// What [`lex_line`] sees. Offsets are bytes into the line.
enum Token<'a> {
    /// The inside of a quoted string.
    Quoted { at: usize, text: &'a str },
    /// `name = value`, `name: value`, `"name": "value"`; the value unquoted.
    Assignment {
        name: &'a str,
        at: usize,
        value: &'a str,
    },
}

fn lex_line<'a>(line: &'a str, emit: &mut impl FnMut(Token<'a>)) {
    lex(line, 0, line.len(), 0, emit);
}

/// Quoted strings and assignments in `line[from..to]`, in order.
fn lex<'a>(line: &'a str, from: usize, to: usize, depth: u8, emit: &mut impl FnMut(Token<'a>)) {
    let b = line.as_bytes();
    let mut i = from;
    // A quoted string followed so far by blanks only: a name if a separator comes.
    let mut quoted_name: Option<&'a str> = None;
    while i < to {
        match b[i] {
            b'"' | b'\''
                if i == from
                    || matches!(
                        b[i - 1],
                        b' ' | b'\t' | b'=' | b':' | b',' | b'[' | b'{' | b'('
                    ) =>
            {
                if let Some(close) = closing_quote(b, i, to) {
                    let text = &line[i + 1..close];
                    emit(Token::Quoted { at: i + 1, text });
                    if depth < MAX_DEPTH {
                        lex(line, i + 1, close, depth + 1, emit);
                    }
                    quoted_name = Some(text);
                    i = close + 1;
                    continue;
                }
            }
            b' ' | b'\t' => {
                i += 1;
                continue;
            }
            b':' | b'=' => {
                let json = quoted_name.is_some();
                if let Some(after) = separator(b, i, to, json) {
                    if let Some(name) = quoted_name.or_else(|| bare_name_before(line, from, i)) {
                        i = assignment(line, name, after, to, json, depth, emit);
                        quoted_name = None;
                        continue;
                    }
                }
            }
            _ => {}
        }
        quoted_name = None;
        i += 1;
    }
}

/// The index of the quote closing the one at `open`, before `to`.
fn closing_quote(b: &[u8], open: usize, to: usize) -> Option<usize> {
    let quote = b[open];
    let mut j = open + 1;
    while j < to {
        match b[j] {
            b'\\' if quote == b'"' => j += 2,
            c if c == quote => return Some(j),
            _ => j += 1,
        }
    }
    None
}

/// Where the value starts if the `:` or `=` at `i` separates a name from a value.
/// YAML wants a blank after `:` unless the name was quoted (JSON); `==`, `=>`, `!=`,
/// `::` and the `:` of `http://` or `12:30` separate nothing.
fn separator(b: &[u8], i: usize, to: usize, after_quoted: bool) -> Option<usize> {
    let next = (i + 1 < to).then(|| b[i + 1]);
    let prev = i.checked_sub(1).map(|p| b[p]);
    if b[i] == b':' {
        match next {
            Some(b'=') => Some(i + 2),
            Some(b':') => None,
            _ if prev == Some(b':') => None,
            None | Some(b' ' | b'\t') => Some(i + 1),
            _ if after_quoted => Some(i + 1),
            _ => None,
        }
    } else {
        match (prev, next) {
            (Some(b'=' | b'!' | b'<' | b'>'), _) | (_, Some(b'=' | b'>' | b'~')) => None,
            _ => Some(i + 1),
        }
    }
}

fn bare_name_before(line: &str, from: usize, separator: usize) -> Option<&str> {
    let b = line.as_bytes();
    let mut end = separator;
    while end > from && matches!(b[end - 1], b' ' | b'\t' | b'+' | b'?') {
        end -= 1;
    }
    let mut start = end;
    while start > from && is_name_byte(b[start - 1]) {
        start -= 1;
    }
    (start < end).then(|| &line[start..end])
}

/// Emits the assignment whose value starts at `after` and returns where lexing goes
/// on. After a quoted name (JSON) an unquoted value ends at `,`, `}`, `]` or a blank;
/// otherwise it runs to the end of the line or a ` #` comment, and is lexed again
/// (`command: API_KEY=… ./run`).
fn assignment<'a>(
    line: &'a str,
    name: &'a str,
    after: usize,
    to: usize,
    json: bool,
    depth: u8,
    emit: &mut impl FnMut(Token<'a>),
) -> usize {
    let b = line.as_bytes();
    let mut j = after;
    while j < to && matches!(b[j], b' ' | b'\t') {
        j += 1;
    }
    if j >= to {
        // The value is on the following lines.
        return to;
    }
    match b[j] {
        b'"' | b'\'' => {
            if let Some(close) = closing_quote(b, j, to) {
                emit(Token::Assignment {
                    name,
                    at: j + 1,
                    value: &line[j + 1..close],
                });
                if depth < MAX_DEPTH {
                    lex(line, j + 1, close, depth + 1, emit);
                }
                return close + 1;
            }
            // A string continued on the next line: take what is here.
            j += 1;
        }
        // A nested mapping or list: lex its inside.
        b'{' | b'[' => return j,
        // A YAML block scalar: the value is on the following lines.
        b'|' | b'>' if line[j..to].trim_end().len() <= 3 => return to,
        _ => {}
    }
    let end = if json {
        line[j..to]
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ']'))
            .map_or(to, |k| j + k)
    } else {
        line[j..to].find(" #").map_or(to, |k| j + k)
    };
    let value = line[j..end].trim_end().trim_end_matches(',');
    if !value.is_empty() {
        emit(Token::Assignment { name, at: j, value });
    }
    if json {
        end
    } else {
        j
    }
}

/// Whitespace-separated tokens of at least [`MIN_BARE_LEN`] chars, quotes and trailing
/// commas stripped. Left out: `key:` mapping keys, and tokens still holding a `"` (a
/// quoted string next to other text, `"pw": "s3cret"},`), whose strings [`lex`] lists.
fn bare_tokens<'a>(line: &'a str, out: &mut Vec<(usize, &'a str)>) {
    let mut start = None;
    for (i, c) in line.char_indices().chain([(line.len(), ' ')]) {
        if !c.is_whitespace() {
            start = start.or(Some(i));
            continue;
        }
        let Some(s) = start.take() else {
            continue;
        };
        let raw = &line[s..i];
        let trimmed = raw.trim_start_matches(['"', '\'']);
        let token = trimmed.trim_end_matches([',', '"', '\'']);
        if token.chars().count() >= MIN_BARE_LEN && !token.ends_with(':') && !token.contains('"') {
            out.push((s + raw.len() - trimmed.len(), token));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tokens are assembled from pieces so this file does not itself trip scanners.
    fn shaped() -> Vec<(FindingKind, String)> {
        vec![
            (FindingKind::AwsAccessKey, "AKIAIOSFODNN7EXAMPLQ".into()),
            (
                FindingKind::GithubToken,
                format!("ghp_{}", "aB3d".repeat(9)),
            ),
            (
                FindingKind::GithubToken,
                format!("github_pat_{}", "11ABCDEFG0abcdefghij_kLmNoPqR"),
            ),
            (
                FindingKind::GitlabToken,
                format!("glpat-{}", "Ab1_Cd2-Ef3Gh4Ij5Kl6"),
            ),
            (
                FindingKind::SlackToken,
                format!("xoxb-{}", "123456789012-1234567890123-AbCdEfGhIjKlMnOp"),
            ),
            (
                FindingKind::StripeKey,
                format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc"),
            ),
            (
                FindingKind::StripeKey,
                format!("rk_test_{}", "51Hb7cQ2eZvKYlo2C0aBcDeF"),
            ),
            (
                FindingKind::GoogleApiKey,
                format!("AIza{}", "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
            ),
            (
                FindingKind::OpenAiKey,
                format!("sk-{}", "T3BlbkFJx9Qm2LrV8pK4nZ7wYc1D"),
            ),
            (
                FindingKind::OpenAiKey,
                format!("sk-proj-{}", "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"),
            ),
            (
                FindingKind::PrivateKeyBlock,
                format!("-----BEGIN RSA {} KEY-----", "PRIVATE"),
            ),
            (
                FindingKind::Jwt,
                format!(
                    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{}",
                    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
                ),
            ),
        ]
    }

    fn found(text: &str) -> Vec<(usize, usize, FindingKind)> {
        scan(text)
            .into_iter()
            .map(|f| (f.line, f.column, f.kind))
            .collect()
    }

    #[test]
    fn every_known_shape_is_found_where_it_starts() {
        let prefixes = ["", "  field: ", "x = \"", "- '", "{\"v\": \"", "clé: "];
        for (i, (kind, token)) in shaped().into_iter().enumerate() {
            let prefix = prefixes[i % prefixes.len()];
            let text = format!("first: line\n{prefix}{token}\"\nlast: line\n");
            let column = prefix.chars().count() + 1;
            assert_eq!(found(&text), vec![(2, column, kind)], "{token}");
        }
    }

    #[test]
    fn shapes_inside_longer_words_or_references_are_not_found() {
        let key = "AKIAIOSFODNN7EXAMPLQ";
        for text in [
            format!("id: x{key}"),
            format!("id: {key}X"),
            format!("ref: \"{{{{ secrets.{key} }}}}\""),
            format!("ref: coffer://billing/{key}"),
            format!("ghp_{}", "x".repeat(36)),
            "team: sk-learning-platform-deployment-v2".into(),
            // AWS's documented example key.
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE".into(),
        ] {
            assert_eq!(found(&text), vec![], "{text}");
        }
    }

    #[test]
    fn passwords_in_urls_are_found_unless_referenced() {
        let text = "\
db: postgres://app:S3cr3t!pw@db.internal:5432/app
cache: redis://:hunter22@cache:6379
ok1: postgres://app@db:5432/app
ok2: redis://:${REDIS_PASSWORD}@cache:6379
ok3: https://user:{{ secrets.PW }}@example.com
ok4: amqp://guest:password@mq
ok5: https://example.com:8443/path?q=a:b@c
ok6: mysql://root:<password>@localhost
";
        assert_eq!(
            found(text),
            vec![
                (1, 20, FindingKind::PasswordInUrl),
                (2, 17, FindingKind::PasswordInUrl)
            ]
        );
    }

    #[test]
    fn random_values_assigned_to_credential_names_are_found() {
        let text = "\
name: svc
api_token: tok_Xk29fLq83hZpW0mN4vRt7yBc
SECRET_KEY_BASE=3f9a0c1e7b2d4a6f8e0c9b1a2d3e4f5a
{\"clientSecret\":\"Q2xpZW50U2VjcmV0OTg3NjU0\",\"n\":1}
password: hunter2!x
DB_PASSWD='Tr0ub4dor&3'
auth: Bearer dGhpcyBpcyBhIHRva2Vu9x
env:
  - name: PAYMENT_TOKEN
    value: Zk8mQ2pL9vX4rT7wB1nC
";
        let got = found(text);
        assert_eq!(
            got.iter().map(|&(l, c, _)| (l, c)).collect::<Vec<_>>(),
            vec![
                (2, 12),
                (3, 17),
                (4, 18),
                (5, 11),
                (6, 12),
                (7, 14),
                (10, 12)
            ]
        );
        assert!(got
            .iter()
            .all(|g| g.2 == FindingKind::HighEntropyAssignment));
    }

    #[test]
    fn identifiers_do_not_look_random() {
        for id in [
            "awsSecretAccessKey",
            "HTTPServerConfig",
            "DB_PASSWORD",
            "database-password",
            "billing-tls-2024",
            "myDbPassword2024",
            "k8s-prod-eu-west-1",
        ] {
            assert!(!looks_random(id), "{id}");
        }
        for random in [
            "Zk8mQ2pL9vX4rT7wB1nC",
            "3f9a0c1e7b2d4a6f8e0c9b1a2d3e4f5a",
            "XoUXFjIEjKGFtErBIKSseHVNBsv8uvXh",
        ] {
            assert!(looks_random(random), "{random}");
        }
    }

    #[test]
    fn passwords_are_found_unless_plain_words() {
        let text = "\
password: sunshine
password: Sunshine
password: DB_PASSWORD
password: shortpw
password: 12345678
password: aBcDeFgH
passphrase: sunshine42
";
        assert_eq!(
            found(text),
            vec![
                (6, 11, FindingKind::HighEntropyAssignment),
                (7, 13, FindingKind::HighEntropyAssignment)
            ]
        );
    }

    #[test]
    fn a_token_is_reported_once() {
        let token = format!("ghp_{}", "aB3d".repeat(9));
        let text = format!("github_token: {token}\nAuthorization: Bearer {token}\n");
        assert_eq!(
            found(&text),
            vec![
                (1, 15, FindingKind::GithubToken),
                (2, 23, FindingKind::GithubToken)
            ]
        );
    }

    #[test]
    fn clean_definitions_have_no_findings() {
        let yaml = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing-api
  annotations:
    author: Jane Doe
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/billing-api:1.4.2
          args: [\"--port=8080\", \"--log-level=info\"]
          env:
            - name: STRIPE_KEY
              value: \"{{ secrets.STRIPE_KEY }}\"
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: billing-db
                  key: database-password
            - name: API_TOKEN
              value: $secret:Xk29fLq83hZpW0mN4vRt7yBc
            - name: LOG_LEVEL
              value: info
      tls:
        secretName: billing-tls-2024
      db_password:
        source: secret
        name: DB_PASSWORD
      auth_url: https://auth.example.com/oauth2/token
      token_endpoint_auth_method: private_key_jwt
      auth_method: client_secret_post
      public_key: MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
      primary_key: id
      sort_key: created_at
      token_ttl: 3600
      password_min_length: 12
      private: false
      auth: true
      commit: 9fceb02d0ae598e95dc970b74767f19372d61af8
      start: \"12:30:00\"
      password: ENC[AES256_GCM,data:Tr7o=,iv:1Q==,tag:xk==,type:str]
      tls_key: |
        see the vault
";
        let json = r#"{"db_password":{"source":"secret","name":"DB_PASSWORD"},
"api_key":"{{ secrets.API_KEY }}","url":"coffer://billing/prod/STRIPE_KEY",
"client_secret":"<client-secret>","token":"xxxxxxxxxxxxxxxx","secret":"***",
"homepage":"https://example.com/docs","retries":3,"key_id":"kms-2024-alpha-7Q"}"#;
        let env = "\
# Fill these in with coffer references, never values.
DATABASE_URL=postgres://app@db:5432/app
REDIS_URL=redis://:${REDIS_PASSWORD}@cache:6379
API_KEY=${API_KEY}
GITHUB_TOKEN=$GITHUB_TOKEN
SENTRY_AUTH_TOKEN=your-sentry-token-here
DB_PASSWORD=changeme
ADMIN_PASSWORD=db-password
PWD=/home/app
SECRET_FILE=./secrets/app.key
";
        for text in [yaml, json, env] {
            let findings = scan(text);
            assert!(findings.is_empty(), "{findings:?}");
        }
    }

    #[test]
    fn previews_never_hold_a_whole_token() {
        let mut text = String::new();
        let mut tokens: Vec<String> = shaped().into_iter().map(|(_, t)| t).collect();
        for token in &tokens {
            text.push_str(&format!("value: {token}\n"));
        }
        tokens.extend(["tok_Xk29fLq83hZpW0mN4vRt7yBc", "hunter2!x", "S3cr3t!pw"].map(String::from));
        text.push_str("api_token: tok_Xk29fLq83hZpW0mN4vRt7yBc\npassword: hunter2!x\n");
        text.push_str("url: postgres://app:S3cr3t!pw@db\n");
        let findings = scan(&text);
        assert_eq!(findings.len(), tokens.len());
        for f in &findings {
            for token in &tokens {
                assert!(!f.preview.contains(token.as_str()), "{}", f.preview);
            }
        }
        assert_eq!(findings[0].preview, "AKIA… (20 chars)");
    }

    #[test]
    fn redact_shows_at_most_four_chars_and_the_length() {
        assert_eq!(redact("AKIAIOSFODNN7EXAMPLQ"), "AKIA… (20 chars)");
        assert_eq!(redact("abcdefghijk"), "… (11 chars)");
        assert_eq!(redact("x"), "… (1 char)");
        assert_eq!(redact("ünïcödé-sécrét"), "ünïc… (14 chars)");
    }

    fn listed(text: &str) -> Vec<(usize, usize, &str)> {
        candidates(text)
            .into_iter()
            .map(|c| (c.line, c.column, c.token))
            .collect()
    }

    #[test]
    fn candidates_are_values_quoted_strings_and_long_bare_tokens() {
        let text = "\
kind: Config
api_token: tok_Xk29fLq83hZpW0mN4vRt7yBc
  \"db\": {\"user\": \"app\", \"pw\": \"s3cret\"},
EXPORTED=plainvalue # a comment
run: curl -H 'X-Key: abc' https://example.com/x,
same: dup1234567 dup1234567
";
        assert_eq!(
            listed(text),
            vec![
                (1, 7, "Config"),
                (2, 12, "tok_Xk29fLq83hZpW0mN4vRt7yBc"),
                (3, 4, "db"),
                (3, 11, "user"),
                (3, 19, "app"),
                (3, 26, "pw"),
                (3, 32, "s3cret"),
                (4, 1, "EXPORTED=plainvalue"),
                (4, 10, "plainvalue"),
                (5, 6, "curl -H 'X-Key: abc' https://example.com/x"),
                (5, 15, "X-Key: abc"),
                (5, 22, "abc"),
                (5, 27, "https://example.com/x"),
                (6, 7, "dup1234567 dup1234567"),
                (6, 7, "dup1234567"),
            ]
        );
    }
}
