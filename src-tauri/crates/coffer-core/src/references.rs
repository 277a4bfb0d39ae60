//! References: how definitions name a secret without holding its value.
//!
//! Four written forms, parsed here and nowhere else:
//! - `{{ secrets.NAME }}` inside any string;
//! - a structured value `{source: secret, name: NAME}` (YAML flow or block, JSON);
//! - `coffer://PROJECT/NAME` and `coffer://PROJECT/ENV/NAME` across projects;
//! - an opaque handle `$secret:<random>` minted by `coffer ref`.
//!
//! [`scan`] finds every reference in a text with its line and column and reports the
//! malformed ones precisely; [`render`] replaces the string forms with resolved values
//! for a resolver (a `run` template, a test request).

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::names;
use crate::value::SecretValue;

/// The prefix of an opaque handle.
pub const HANDLE_PREFIX: &str = "$secret:";
const URL_PREFIX: &str = "coffer://";
const PLACEHOLDER_OPEN: &str = "{{";
const PLACEHOLDER_CLOSE: &str = "}}";

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A secret by name; project and environment default to the resolver's own.
    Name {
        project: Option<String>,
        environment: Option<String>,
        name: String,
    },
    /// An opaque handle (the part after `$secret:`), resolved through the vault.
    Handle(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Name {
                project,
                environment,
                name,
            } => {
                if let Some(p) = project {
                    write!(f, "{p}/")?;
                }
                if let Some(e) = environment {
                    write!(f, "{e}/")?;
                }
                f.write_str(name)
            }
            // A handle is a bearer token for a few minutes: show only its start.
            Target::Handle(h) => write!(f, "{HANDLE_PREFIX}{}…", &h[..h.len().min(6)]),
        }
    }
}

/// How a reference was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    Placeholder,
    Structured,
    Url,
    Handle,
}

/// One reference found in a text. Lines and columns are 1-based; columns count chars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub line: usize,
    pub column: usize,
    pub form: Form,
    pub target: Target,
    /// Byte range of the whole written reference (string forms only; for a structured
    /// value it covers the name).
    pub span: std::ops::Range<usize>,
}

/// A reference that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Everything [`scan`] found in one text.
#[derive(Debug, Default)]
pub struct Scan {
    pub references: Vec<Reference>,
    pub malformed: Vec<Malformed>,
}

/// Finds every reference in `text`, in order of position.
pub fn scan(text: &str) -> Scan {
    let mut out = Scan::default();
    let lines: Vec<(usize, &str)> = line_starts(text).collect();
    for (index, &(start, line)) in lines.iter().enumerate() {
        scan_string_forms(line, start, index + 1, &mut out);
        scan_structured(&lines, index, &mut out);
    }
    out.references.sort_by_key(|r| (r.line, r.column));
    out.malformed.sort_by_key(|m| (m.line, m.column));
    out
}

/// Parses a text that must hold exactly one reference and nothing else, such as an
/// argument naming a secret by reference.
pub fn parse_one(text: &str) -> Result<Target> {
    let scan = scan(text);
    if let Some(m) = scan.malformed.first() {
        return Err(Error::invalid(m.message.clone()));
    }
    match scan.references.as_slice() {
        [r] if r.span == (0..text.trim_end().len()) && r.form != Form::Structured => {
            Ok(r.target.clone())
        }
        _ => Err(Error::invalid(
            "expected one reference: {{ secrets.NAME }}, coffer://PROJECT/NAME or $secret:…",
        )),
    }
}

/// The environment variable a secret name becomes: `payments-api-key` →
/// `PAYMENTS_API_KEY`. Names starting with a digit gain a leading `_`.
pub fn env_var_name(secret: &str) -> String {
    let mut out: String = secret
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Replaces every string-form reference in `template` with the value `resolve` gives
/// for it. Malformed references are an error naming their column; structured values
/// are left alone (they belong to whole documents, not strings).
pub fn render(
    template: &str,
    mut resolve: impl FnMut(&Target) -> Result<SecretValue>,
) -> Result<Zeroizing<String>> {
    let scan = scan(template);
    if let Some(m) = scan.malformed.first() {
        return Err(Error::invalid(format!(
            "malformed reference at column {}: {}",
            m.column, m.message
        )));
    }
    let mut out = Zeroizing::new(String::with_capacity(template.len()));
    let mut at = 0;
    for r in scan
        .references
        .iter()
        .filter(|r| r.form != Form::Structured)
    {
        out.push_str(&template[at..r.span.start]);
        out.push_str(resolve(&r.target)?.expose());
        at = r.span.end;
    }
    out.push_str(&template[at..]);
    Ok(out)
}

fn line_starts(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.split_inclusive('\n').map(move |raw| {
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        let here = start;
        start += raw.len();
        (here, line)
    })
}

fn column_of(line: &str, byte: usize) -> usize {
    line[..byte].chars().count() + 1
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

fn name_len(s: &str) -> usize {
    s.find(|c: char| !is_name_char(c)).unwrap_or(s.len())
}

fn scan_string_forms(line: &str, line_start: usize, line_no: usize, out: &mut Scan) {
    let mut from = 0;
    while let Some(found) = next_marker(&line[from..]) {
        let at = from + found;
        let rest = &line[at..];
        let column = column_of(line, at);
        let parsed = if rest.starts_with(PLACEHOLDER_OPEN) {
            parse_placeholder(rest)
        } else if rest.starts_with(URL_PREFIX) {
            parse_url(rest)
        } else {
            parse_handle(rest)
        };
        match parsed {
            Parsed::Ref(len, form, target) => {
                out.references.push(Reference {
                    line: line_no,
                    column,
                    form,
                    target,
                    span: line_start + at..line_start + at + len,
                });
                from = at + len;
            }
            Parsed::Bad(message) => {
                out.malformed.push(Malformed {
                    line: line_no,
                    column,
                    message,
                });
                from = at + 2;
            }
            Parsed::NotOurs => from = at + 2,
        }
    }
}

/// The earliest place a string-form reference may start.
fn next_marker(s: &str) -> Option<usize> {
    [PLACEHOLDER_OPEN, URL_PREFIX, HANDLE_PREFIX]
        .iter()
        .filter_map(|m| s.find(m))
        .min()
}

enum Parsed {
    Ref(usize, Form, Target),
    Bad(String),
    NotOurs,
}

fn parse_placeholder(s: &str) -> Parsed {
    let body = &s[PLACEHOLDER_OPEN.len()..];
    let trimmed = body.trim_start();
    let Some(after) = trimmed.strip_prefix("secrets.") else {
        // `{{ env.X }}` and friends belong to other template languages.
        return Parsed::NotOurs;
    };
    let n = name_len(after);
    let name = &after[..n];
    let tail = &after[n..];
    let close = tail.trim_start();
    if !close.starts_with(PLACEHOLDER_CLOSE) {
        return match close.chars().next() {
            None => Parsed::Bad(format!("'{{{{ secrets.{name}' is not closed with '}}}}'")),
            Some(c) => Parsed::Bad(format!(
                "unexpected '{c}' in a secret reference; names use letters, digits, '_', '-' or '.'"
            )),
        };
    }
    if let Err(e) = names::secret(name) {
        return Parsed::Bad(e.to_string());
    }
    let len = s.len() - close.len() + PLACEHOLDER_CLOSE.len();
    Parsed::Ref(len, Form::Placeholder, named(None, None, name))
}

fn parse_url(s: &str) -> Parsed {
    let body = &s[URL_PREFIX.len()..];
    let n = body
        .find(|c: char| !(is_name_char(c) || c == '/'))
        .unwrap_or(body.len());
    let path = &body[..n];
    let parts: Vec<&str> = path.split('/').collect();
    let (project, environment, name) = match parts.as_slice() {
        [p, s] => (*p, None, *s),
        [p, e, s] => (*p, Some(*e), *s),
        _ => {
            return Parsed::Bad(format!(
                "'{URL_PREFIX}{path}' should be {URL_PREFIX}PROJECT/NAME or {URL_PREFIX}PROJECT/ENV/NAME"
            ))
        }
    };
    let checked = names::project(project)
        .and_then(|_| environment.map_or(Ok(""), names::environment))
        .and_then(|_| names::secret(name));
    if let Err(e) = checked {
        return Parsed::Bad(e.to_string());
    }
    Parsed::Ref(
        URL_PREFIX.len() + n,
        Form::Url,
        named(Some(project), environment, name),
    )
}

fn parse_handle(s: &str) -> Parsed {
    let body = &s[HANDLE_PREFIX.len()..];
    let n = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(body.len());
    if n == 0 {
        return Parsed::Bad(format!("'{HANDLE_PREFIX}' is followed by no handle"));
    }
    Parsed::Ref(
        HANDLE_PREFIX.len() + n,
        Form::Handle,
        Target::Handle(body[..n].to_string()),
    )
}

fn named(project: Option<&str>, environment: Option<&str>, name: &str) -> Target {
    Target::Name {
        project: project.map(str::to_string),
        environment: environment.map(str::to_string),
        name: name.to_string(),
    }
}

/// A `key: value` pair (YAML or JSON, quoted or not) found at `at` within a line.
struct KeyValue<'a> {
    key_at: usize,
    key: &'a str,
    value_at: usize,
    value: &'a str,
}

/// Every `key: value` pair on a line, where value is a scalar (quoted or bare).
fn key_values(line: &str) -> Vec<KeyValue<'_>> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() || c == b'"' || c == b'\'' {
            let quote = (c == b'"' || c == b'\'').then_some(c);
            let key_start = i + usize::from(quote.is_some());
            let mut j = key_start;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            let key = &line[key_start..j];
            if let Some(q) = quote {
                if bytes.get(j) != Some(&q) {
                    i = j.max(i + 1);
                    continue;
                }
                j += 1;
            }
            let mut k = j;
            while k < bytes.len() && bytes[k] == b' ' {
                k += 1;
            }
            if key.is_empty() || bytes.get(k) != Some(&b':') {
                i = j.max(i + 1);
                continue;
            }
            k += 1;
            while k < bytes.len() && bytes[k] == b' ' {
                k += 1;
            }
            let (value_at, value, end) = scalar_at(line, k);
            out.push(KeyValue {
                key_at: i,
                key,
                value_at,
                value,
            });
            i = end.max(k + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The scalar starting at byte `at`: its start, text (without quotes) and end.
fn scalar_at(line: &str, at: usize) -> (usize, &str, usize) {
    let rest = &line[at..];
    match rest.chars().next() {
        // A nested mapping or list: its own keys are scanned next.
        Some('{' | '[') => (at, "", at + 1),
        Some(q @ ('"' | '\'')) => {
            let body = &rest[1..];
            let end = body.find(q).unwrap_or(body.len());
            (at + 1, &body[..end], at + 1 + end + 1)
        }
        _ => {
            let end = rest
                .find(|c: char| matches!(c, ',' | '}' | ']' | '#') || c.is_whitespace())
                .unwrap_or(rest.len());
            (at, &rest[..end], at + end)
        }
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '-']).len()
}

/// `{source: secret, name: NAME}` written on one line, or as sibling keys of a YAML
/// block or a pretty-printed JSON object.
fn scan_structured(lines: &[(usize, &str)], index: usize, out: &mut Scan) {
    let (start, line) = lines[index];
    let pairs = key_values(line);
    let Some(source) = pairs
        .iter()
        .find(|p| p.key == "source" && p.value == "secret")
    else {
        return;
    };
    let name = pairs
        .iter()
        .find(|p| p.key == "name")
        .map(|p| (index, start, line, p.value_at, p.value.to_string()))
        .or_else(|| sibling_name(lines, index, source.key_at));
    let Some((at_index, at_start, at_line, value_at, name)) = name else {
        out.malformed.push(Malformed {
            line: index + 1,
            column: column_of(line, source.key_at),
            message: "a structured reference with 'source: secret' has no 'name'".into(),
        });
        return;
    };
    let column = column_of(at_line, value_at);
    match names::secret(&name) {
        Ok(_) => out.references.push(Reference {
            line: at_index + 1,
            column,
            form: Form::Structured,
            span: at_start + value_at..at_start + value_at + name.len(),
            target: named(None, None, &name),
        }),
        Err(e) => out.malformed.push(Malformed {
            line: at_index + 1,
            column,
            message: e.to_string(),
        }),
    }
}

type Located<'a> = (usize, usize, &'a str, usize, String);

fn sibling_name<'a>(
    lines: &[(usize, &'a str)],
    index: usize,
    key_at: usize,
) -> Option<Located<'a>> {
    let is_sibling_block = |line: &str| !line.trim().is_empty() && indent_of(line) >= key_at;
    let find_in = |i: usize| -> Option<Located<'a>> {
        let (start, line) = lines[i];
        key_values(line)
            .into_iter()
            .find(|p| p.key == "name" && p.key_at == key_at)
            .map(|p| (i, start, line, p.value_at, p.value.to_string()))
    };
    let after = (index + 1..lines.len())
        .take_while(|&i| is_sibling_block(lines[i].1))
        .find_map(find_in);
    // A list item `- name: X` has its dash outdented; the line above still belongs.
    after.or_else(|| {
        (0..index)
            .rev()
            .take_while(|&i| {
                let l = lines[i].1;
                is_sibling_block(l) || l.trim_start().starts_with('-')
            })
            .find_map(find_in)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_of(text: &str) -> Vec<(usize, usize, String)> {
        scan(text)
            .references
            .into_iter()
            .map(|r| (r.line, r.column, r.target.to_string()))
            .collect()
    }

    #[test]
    fn placeholders_with_and_without_spaces() {
        let text =
            "a: \"Bearer {{ secrets.payments-api-key }}\"\nb: {{secrets.X}}-{{ secrets.y.z }}\n";
        assert_eq!(
            names_of(text),
            vec![
                (1, 12, "payments-api-key".to_string()),
                (2, 4, "X".into()),
                (2, 18, "y.z".into())
            ]
        );
    }

    #[test]
    fn other_template_languages_are_not_ours() {
        let s = scan("x: {{ env.HOME }} and {{ .Values.x }}");
        assert!(s.references.is_empty() && s.malformed.is_empty());
    }

    #[test]
    fn malformed_placeholders_name_their_column() {
        let s = scan("ok\n  key: {{ secrets.bad name }}\n");
        assert_eq!(s.malformed.len(), 1);
        assert_eq!((s.malformed[0].line, s.malformed[0].column), (2, 8));
        assert!(s.malformed[0].message.contains("'n'"), "{}", s.malformed[0]);
        let s = scan("{{ secrets.open");
        assert!(s.malformed[0].message.contains("not closed"));
        let s = scan("{{ secrets. }}");
        assert!(s.malformed[0].message.contains("empty"));
    }

    #[test]
    fn urls_across_projects_and_environments() {
        assert_eq!(
            names_of("url: coffer://billing/stripe-key, coffer://billing/production/db.pass;"),
            vec![
                (1, 6, "billing/stripe-key".to_string()),
                (1, 35, "billing/production/db.pass".into())
            ]
        );
        let s = scan("coffer://only-one");
        assert!(s.malformed[0].message.contains("PROJECT/NAME"));
        assert!(!scan("coffer://a/b/c/d").malformed.is_empty());
    }

    #[test]
    fn handles() {
        let s = scan("X=$secret:AbC_-123 tail");
        assert_eq!(s.references[0].target, Target::Handle("AbC_-123".into()));
        assert_eq!(s.references[0].span, 2..18);
        assert!(scan("$secret: nothing").malformed[0]
            .message
            .contains("no handle"));
    }

    #[test]
    fn structured_flow_and_json_on_one_line() {
        assert_eq!(
            names_of("key: {source: secret, name: DB_PASS}\n"),
            vec![(1, 29, "DB_PASS".to_string())]
        );
        assert_eq!(
            names_of(r#"{"key": {"name": "DB_PASS", "source": "secret"}}"#),
            vec![(1, 19, "DB_PASS".to_string())]
        );
    }

    #[test]
    fn structured_blocks_in_yaml_and_pretty_json() {
        let yaml =
            "env:\n  DB:\n    source: secret\n    name: db-pass\n  OTHER:\n    name: not-a-ref\n";
        assert_eq!(names_of(yaml), vec![(4, 11, "db-pass".to_string())]);
        let list = "items:\n  - name: api-key\n    source: secret\n";
        assert_eq!(names_of(list), vec![(2, 11, "api-key".to_string())]);
        let json = "{\n  \"k\": {\n    \"source\": \"secret\",\n    \"name\": \"tok\"\n  },\n  \"name\": \"x\"\n}\n";
        assert_eq!(names_of(json), vec![(4, 14, "tok".to_string())]);
        let lonely = "a:\n  source: secret\nb:\n  name: x\n";
        assert!(scan(lonely).malformed[0].message.contains("no 'name'"));
    }

    #[test]
    fn a_plain_source_key_is_not_a_reference() {
        let s = scan("source: git\nname: coffer\n");
        assert!(s.references.is_empty() && s.malformed.is_empty());
    }

    #[test]
    fn render_substitutes_string_forms() {
        let out = render("Bearer {{ secrets.a }} / $secret:h1 / x", |t| {
            Ok(SecretValue::from_string(match t {
                Target::Name { name, .. } => format!("<{name}>"),
                Target::Handle(h) => format!("[{h}]"),
            })
            .unwrap())
        })
        .unwrap();
        assert_eq!(&*out, "Bearer <a> / [h1] / x");
        assert!(render("{{ secrets.a b }}", |_| unreachable!()).is_err());
    }

    #[test]
    fn parse_one_wants_exactly_one_reference() {
        assert!(matches!(
            parse_one("{{ secrets.a }}"),
            Ok(Target::Name { .. })
        ));
        assert!(matches!(parse_one("$secret:abc"), Ok(Target::Handle(_))));
        assert!(parse_one("x {{ secrets.a }}").is_err());
        assert!(parse_one("plain").is_err());
    }

    #[test]
    fn environment_safe_names() {
        assert_eq!(env_var_name("payments-api-key"), "PAYMENTS_API_KEY");
        assert_eq!(env_var_name("db.pass"), "DB_PASS");
        assert_eq!(env_var_name("1st"), "_1ST");
    }

    #[test]
    fn handle_display_shows_only_a_prefix() {
        let t = Target::Handle("abcdefghijklmnop".into());
        assert_eq!(t.to_string(), "$secret:abcdef…");
    }
}
