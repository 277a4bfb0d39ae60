//! Finding credentials written in plain text into definition files.
//!
//! `coffer check` runs [`scan`] over YAML, JSON, `.env`, TOML, INI, XML or any other
//! text. Two detectors, both driven by `rules.json` (see [`rules`]):
//! - **rules**: one entry per provider token format (AWS, GitHub, GitLab, Slack,
//!   Stripe, Google, OpenAI, private keys, JWTs, …) — a regex run only when one of its
//!   keywords is in the text, an entropy floor and an allow-list of published examples;
//! - **assignments**: a random-looking value assigned to a credential name (`API_KEY`,
//!   `password`, `creds`, `Authorization: Bearer …`), in every assignment shape config
//!   files and code use (see [`lex`]), and passwords inside URLs.
//!
//! A finding carries only a [`redact`]ed preview, so a report can be printed and
//! logged. Coffer references (`{{ secrets.X }}`, `$secret:…`, `coffer://…`) and
//! placeholders are never findings. [`candidates`] lists the tokens worth comparing
//! with stored values by keyed fingerprint (a stored value written verbatim).

mod assign;
mod lex;
mod rules;
#[cfg(test)]
mod tests;

use serde::{Serialize, Serializer};

use assign::{credential_value, is_placeholder};
use lex::{bare_tokens, lex_line, xml_line, Token, XmlLine};
use rules::{shaped_tokens, Hit, RULES};

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

/// What a [`Finding`] looks like: the rule that found it. Serialises as the rule's id
/// (`aws_access_key`, `gitlab_runner_token`, `high_entropy_assignment`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FindingKind {
    id: &'static str,
    description: &'static str,
}

impl FindingKind {
    fn new(id: &'static str, description: &'static str) -> Self {
        FindingKind { id, description }
    }

    /// A random-looking value assigned to a name like `*_KEY`, `*TOKEN`, `*SECRET`,
    /// `password`, `creds` or `auth`.
    pub fn high_entropy_assignment() -> Self {
        let v = &RULES.vocabulary;
        FindingKind::new(&v.id, &v.description)
    }

    /// The password of `scheme://user:password@host`.
    pub fn password_in_url() -> Self {
        let u = &RULES.url_password;
        FindingKind::new(&u.id, &u.description)
    }

    /// The rule's id, as in `rules.json`.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// A short description for reports.
    pub fn describe(&self) -> &'static str {
        self.description
    }
}

impl Serialize for FindingKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id)
    }
}

/// How many credential rules `rules.json` holds (the assignment and URL-password
/// detectors not counted).
pub fn rule_count() -> usize {
    RULES.rules.len()
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

/// Every suspected plaintext credential in `text`, by line then column.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut hits = Vec::new();
    let mut allowed = Vec::new();
    shaped_tokens(text, &mut hits, &mut allowed);
    url_passwords(text, &mut hits);
    hits.sort_by_key(|h| h.start);
    allowed.sort_unstable();

    let mut findings = Vec::new();
    let mut next_hit = 0;
    // Per line: (byte offset, token, kind).
    let mut suspects: Vec<(usize, &str, FindingKind)> = Vec::new();
    // The value of the latest `name:`, for a `value:` that follows (Kubernetes `env`,
    // ECS task definitions).
    let mut named: Option<(usize, &str)> = None;
    // `<apiToken>` alone on the line before.
    let mut open_element: Option<(usize, &str)> = None;
    for (number, start, line) in lines(text) {
        suspects.clear();
        while let Some(hit) = hits.get(next_hit).filter(|h| h.start <= start + line.len()) {
            let at = hit.start - start;
            if !inside_reference(line, at) {
                suspects.push((at, &text[hit.start..hit.end], hit.kind));
            }
            next_hit += 1;
        }
        match xml_line(line) {
            Some(XmlLine::Open(name)) => open_element = Some((number, name)),
            Some(XmlLine::Element { name, at, value }) => {
                consider(&mut suspects, &allowed, line, start, name, at, value)
            }
            None => {
                if let Some((_, name)) = open_element.take().filter(|&(n, _)| n + 1 == number) {
                    let value = line.trim();
                    if !value.is_empty() && !value.starts_with('<') {
                        let at = line.len() - line.trim_start().len();
                        consider(&mut suspects, &allowed, line, start, name, at, value);
                    }
                }
            }
        }
        lex_line(line, &mut |token| {
            let Token::Assignment { name, at, value } = token else {
                return;
            };
            if name.eq_ignore_ascii_case("name") {
                named = Some((number, value));
                return;
            }
            // `<add key="ApiToken" value="…"/>`; a `key:` is judged itself too.
            if name.eq_ignore_ascii_case("key") {
                named = Some((number, value));
            }
            let name = match named {
                Some((at_line, pair))
                    if number - at_line <= 2 && name.eq_ignore_ascii_case("value") =>
                {
                    pair
                }
                _ => name,
            };
            consider(&mut suspects, &allowed, line, start, name, at, value);
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

/// Adds `value`, assigned to `name` at byte `at` of `line` (which starts at byte
/// `start` of the text), to the line's suspects if it reads as a credential and no
/// rule has already found it or let it go.
fn consider<'t>(
    suspects: &mut Vec<(usize, &'t str, FindingKind)>,
    allowed: &[(usize, usize)],
    line: &str,
    start: usize,
    name: &str,
    at: usize,
    value: &'t str,
) {
    let Some((at, value)) = credential_value(name, value, at) else {
        return;
    };
    let end = at + value.len();
    let clashes = suspects
        .iter()
        .any(|&(s, t, _)| s < end && at < s + t.len())
        || allowed
            .iter()
            .any(|&(s, e)| s < start + end && start + at < e);
    if !clashes && !inside_reference(line, at) {
        suspects.push((at, value, FindingKind::high_entropy_assignment()));
    }
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
            || RULES
                .url_password
                .placeholder_words
                .iter()
                .any(|w| password.eq_ignore_ascii_case(w))
        {
            continue;
        }
        hits.push(Hit {
            start: from + colon + 1,
            end: from + end,
            kind: FindingKind::password_in_url(),
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
