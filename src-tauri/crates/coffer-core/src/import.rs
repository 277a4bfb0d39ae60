//! Parsing `.env` and JSON files for import: every entry checked before anything is
//! written; errors name the line (or key), never a value.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::names;
use crate::value::SecretValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Dotenv,
    Json,
}

impl ImportFormat {
    /// Picks the format from the file name, then from the first character.
    pub fn detect(file_name: &str, text: &str) -> ImportFormat {
        if file_name.ends_with(".json") || text.trim_start().starts_with('{') {
            ImportFormat::Json
        } else {
            ImportFormat::Dotenv
        }
    }
}

/// What an import file holds: its entries, in file order (a key given twice appears
/// once, with its last value), and notes about what was skipped or decided.
pub struct Parsed {
    pub entries: Vec<(String, SecretValue)>,
    pub notes: Vec<String>,
}

/// Names and notes only: values never reach `Debug`.
impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed")
            .field(
                "keys",
                &self.entries.iter().map(|e| &e.0).collect::<Vec<_>>(),
            )
            .field("notes", &self.notes)
            .finish()
    }
}

pub fn parse(format: ImportFormat, text: &str) -> Result<Parsed> {
    match format {
        ImportFormat::Dotenv => parse_dotenv(text),
        ImportFormat::Json => parse_json(text).map(|entries| Parsed {
            entries,
            notes: Vec::new(),
        }),
    }
}

/// `.env` as python-dotenv, dotenvy and motdotla/dotenv read it where they agree:
/// `NAME=value` lines, optional `export `, `#` comments (a whole line, or after a space
/// or tab in an unquoted value), blank lines, single quotes (literal, may span lines)
/// and double quotes (`\n`, `\t`, `\"`, `\\` escapes, may span lines). An empty value
/// is skipped with a note (Coffer stores no empty secret) and a key given twice keeps
/// its last value, with a note. On purpose, `$VAR` and `${VAR}` are kept as written,
/// never expanded: a `$` in a password is common, and expansion would read this
/// process's environment into the vault.
pub fn parse_dotenv(text: &str) -> Result<Parsed> {
    let mut entries: Vec<(String, SecretValue)> = Vec::new();
    let mut notes = Vec::new();
    let mut expanded_note = false;
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let lineno = i + 1;
        let raw = if i == 0 {
            lines[i].trim_start_matches('\u{feff}')
        } else {
            lines[i]
        };
        let line = raw.trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export")
            .filter(|r| r.starts_with([' ', '\t']))
            .map(str::trim_start)
            .unwrap_or(line);
        let Some((key, rest)) = line.split_once('=') else {
            return Err(Error::invalid(format!(
                "line {lineno}: expected NAME=value"
            )));
        };
        let key = key.trim();
        names::secret(key).map_err(|e| Error::invalid(format!("line {lineno}: {e}")))?;
        let rest = rest.trim_start();
        let value = if let Some(body) = rest.strip_prefix('"') {
            let (value, next) = double_quoted(&lines, body, i, lineno)?;
            i = next;
            value
        } else if let Some(body) = rest.strip_prefix('\'') {
            let (value, next) = single_quoted(&lines, body, i, lineno)?;
            i = next;
            value
        } else {
            // Unquoted: a comment starts at a `#` after a space or a tab.
            let end = rest
                .char_indices()
                .find(|&(p, c)| c == '#' && p > 0 && rest[..p].ends_with([' ', '\t']))
                .map_or(rest.len(), |(p, _)| p);
            Zeroizing::new(rest[..end].trim_end().as_bytes().to_vec())
        };
        if value.is_empty() {
            notes.push(format!(
                "line {lineno} ({key}): the value is empty; skipped (Coffer stores no empty secret)"
            ));
            continue;
        }
        if !expanded_note && value.windows(2).any(|w| w == b"${") {
            expanded_note = true;
            notes.push(format!(
                "line {lineno} ({key}): '${{...}}' is kept as written; Coffer does not expand variables"
            ));
        }
        let value = SecretValue::from_bytes(value)
            .map_err(|e| Error::invalid(format!("line {lineno} ({key}): {e}")))?;
        if let Some(p) = entries.iter().position(|(k, _)| k == key) {
            notes.push(format!(
                "line {lineno}: {key} is given again; the later value is kept"
            ));
            entries.remove(p);
        }
        entries.push((key.to_string(), value));
    }
    if entries.is_empty() {
        return Err(Error::invalid(if notes.is_empty() {
            "the file holds no NAME=value entries".to_string()
        } else {
            format!("the file holds no value to import ({})", notes.join("; "))
        }));
    }
    Ok(Parsed { entries, notes })
}

/// What may follow a closing quote: nothing, or a comment.
fn after_quote(tail: &str, lineno: usize) -> Result<()> {
    let t = tail.trim();
    if t.is_empty() || t.starts_with('#') {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "line {lineno}: unexpected text after the closing quote"
        )))
    }
}

/// A double-quoted value from `body` (the rest of its first line) on, with escapes;
/// returns it and the index of the line after it.
fn double_quoted(
    lines: &[&str],
    body: &str,
    mut next: usize,
    lineno: usize,
) -> Result<(Zeroizing<Vec<u8>>, usize)> {
    let mut buf = Zeroizing::new(String::new());
    let mut cur = body;
    loop {
        let mut chars = cur.char_indices();
        while let Some((p, c)) = chars.next() {
            match c {
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('n') => buf.push('\n'),
                    Some('r') => buf.push('\r'),
                    Some('t') => buf.push('\t'),
                    Some(o) => buf.push(o),
                    None => buf.push('\\'),
                },
                '"' => {
                    after_quote(&cur[p + 1..], lineno)?;
                    return Ok((Zeroizing::new(buf.as_bytes().to_vec()), next));
                }
                o => buf.push(o),
            }
        }
        let Some(line) = lines.get(next) else {
            return Err(Error::invalid(format!(
                "line {lineno}: unterminated double quote"
            )));
        };
        buf.push('\n');
        cur = line;
        next += 1;
    }
}

/// A single-quoted value: literal, up to the next `'`, across lines if need be.
fn single_quoted(
    lines: &[&str],
    body: &str,
    mut next: usize,
    lineno: usize,
) -> Result<(Zeroizing<Vec<u8>>, usize)> {
    let mut buf = Zeroizing::new(String::new());
    let mut cur = body;
    loop {
        if let Some(end) = cur.find('\'') {
            buf.push_str(&cur[..end]);
            after_quote(&cur[end + 1..], lineno)?;
            return Ok((Zeroizing::new(buf.as_bytes().to_vec()), next));
        }
        let Some(line) = lines.get(next) else {
            return Err(Error::invalid(format!(
                "line {lineno}: unterminated single quote"
            )));
        };
        buf.push_str(cur);
        buf.push('\n');
        cur = line;
        next += 1;
    }
}

/// JSON: one flat object of `"NAME": "value"` (nested objects and arrays are stored
/// as their JSON text).
pub fn parse_json(text: &str) -> Result<Vec<(String, SecretValue)>> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Error::invalid(format!(
            "invalid JSON at line {}, column {}",
            e.line(),
            e.column()
        ))
    })?;
    let serde_json::Value::Object(map) = doc else {
        return Err(Error::invalid(
            "the JSON file must be one object of NAME: value",
        ));
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, v) in map {
        names::secret(&key)
            .map_err(|e| Error::invalid(format!("key '{}': {e}", key.escape_debug())))?;
        let text = match v {
            serde_json::Value::String(s) => Zeroizing::new(s.into_bytes()),
            serde_json::Value::Null => {
                return Err(Error::invalid(format!("key '{key}': the value is null")))
            }
            other => Zeroizing::new(other.to_string().into_bytes()),
        };
        let value = SecretValue::from_bytes(text)
            .map_err(|e| Error::invalid(format!("key '{key}': {e}")))?;
        out.push((key, value));
    }
    if out.is_empty() {
        return Err(Error::invalid("the JSON object is empty"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: Vec<(String, SecretValue)>) -> Vec<(String, String)> {
        v.into_iter()
            .map(|(k, v)| (k, v.expose().to_string()))
            .collect()
    }

    #[test]
    fn dotenv_forms() {
        let text = "# comment\n\nA=plain\nexport B = spaced  # note\nC='single # kept'\nD=\"esc\\n\\\"q\\\"\"\nE=\"multi\nline\"\n";
        assert_eq!(
            pairs(parse_dotenv(text).unwrap().entries),
            vec![
                ("A".into(), "plain".into()),
                ("B".into(), "spaced".into()),
                ("C".into(), "single # kept".into()),
                ("D".into(), "esc\n\"q\"".into()),
                ("E".into(), "multi\nline".into()),
            ]
        );
    }

    #[test]
    fn dotenv_errors_name_the_line_not_the_value() {
        let e = parse_dotenv("GOOD=1\nthis line is broken\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2:"), "{e}");
        let e = parse_dotenv("A=1\nbad name=sekrit-value\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && !e.contains("sekrit"), "{e}");
        let e = parse_dotenv("A=\"never closed sekrit\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1") && !e.contains("sekrit"), "{e}");
        let e = parse_dotenv("EMPTY=\n").unwrap_err().to_string();
        assert!(e.contains("line 1 (EMPTY)") && e.contains("empty"), "{e}");
        let e = parse_dotenv("A='never closed sekrit\nmore\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1") && !e.contains("sekrit"), "{e}");
        assert!(parse_dotenv("# nothing\n").is_err());
    }

    #[test]
    fn json_forms_and_errors() {
        let got = pairs(parse_json(r#"{"A":"x","B":{"k":1},"C":5}"#).unwrap());
        assert_eq!(
            got,
            vec![
                ("A".into(), "x".into()),
                ("B".into(), r#"{"k":1}"#.into()),
                ("C".into(), "5".into())
            ]
        );
        let e = parse_json("{\"A\": \"sekrit\",}").unwrap_err().to_string();
        assert!(e.contains("line 1") && !e.contains("sekrit"), "{e}");
        assert!(parse_json("[1,2]").is_err());
        assert!(parse_json(r#"{"bad name":"x"}"#).is_err());
    }

    /// Cases where python-dotenv, dotenvy and motdotla/dotenv agree (each suite has
    /// its own version of them), written here as input and the pairs all three read.
    #[test]
    fn dotenv_reads_what_the_well_kept_parsers_agree_on() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("A=b", &[("A", "b")]),
            ("A = b", &[("A", "b")]),
            ("  A=b  ", &[("A", "b")]),
            ("export A=b", &[("A", "b")]),
            ("export\tA=b", &[("A", "b")]),
            ("EXPORTED=b", &[("EXPORTED", "b")]),
            ("A=b c", &[("A", "b c")]),
            ("A=b # comment", &[("A", "b")]),
            ("A=b\t# a tab before the hash", &[("A", "b")]),
            ("A=b#not-a-comment", &[("A", "b#not-a-comment")]),
            ("A='b # c'", &[("A", "b # c")]),
            ("A=\"b # c\"", &[("A", "b # c")]),
            ("A=\"b\" # c", &[("A", "b")]),
            ("A='b' # c", &[("A", "b")]),
            ("A=\"line\\nbreak\"", &[("A", "line\nbreak")]),
            ("A='line\\nbreak'", &[("A", "line\\nbreak")]),
            ("A=\"multi\nline\"", &[("A", "multi\nline")]),
            (
                "KEY='-----BEGIN PRIVATE KEY-----\nMIIB\nabc=\n-----END PRIVATE KEY-----'\nB=1",
                &[
                    (
                        "KEY",
                        "-----BEGIN PRIVATE KEY-----\nMIIB\nabc=\n-----END PRIVATE KEY-----",
                    ),
                    ("B", "1"),
                ],
            ),
            ("A=\"it's\"", &[("A", "it's")]),
            ("A='say \"hi\"'", &[("A", "say \"hi\"")]),
            ("A=b\r\nC=d\r\n", &[("A", "b"), ("C", "d")]),
            ("\u{feff}A=b", &[("A", "b")]),
            ("A=b=c", &[("A", "b=c")]),
            ("A=pa$$word", &[("A", "pa$$word")]),
            ("# only\n\nA=b\n#C=d", &[("A", "b")]),
            ("A=1\nB=2\nA=3", &[("B", "2"), ("A", "3")]),
            ("A=\nB=2", &[("B", "2")]),
            ("A=''\nB=\"\"\nC=3", &[("C", "3")]),
        ];
        for (text, want) in cases {
            let got = parse_dotenv(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(pairs(got.entries), want, "{text:?}");
        }
    }

    #[test]
    fn skipped_and_repeated_keys_are_noted_and_nothing_else_is_lost() {
        let mut text = String::new();
        for i in 0..99 {
            text.push_str(&format!("KEY_{i:02}=value-{i}\n"));
        }
        text.push_str("EMPTY=\nKEY_00=again\nTPL=${HOME}/x\n");
        let got = parse_dotenv(&text).unwrap();
        assert_eq!(got.entries.len(), 100, "99 keys and TPL; EMPTY skipped");
        assert_eq!(
            got.entries
                .iter()
                .find(|(k, _)| k == "KEY_00")
                .unwrap()
                .1
                .expose(),
            "again"
        );
        let notes = got.notes.join("\n");
        assert!(
            notes.contains("line 100 (EMPTY): the value is empty; skipped"),
            "{notes}"
        );
        assert!(notes.contains("line 101: KEY_00 is given again"), "{notes}");
        assert!(
            notes.contains("line 102 (TPL): '${...}' is kept as written"),
            "{notes}"
        );
        assert!(
            !notes.contains("value-") && !notes.contains("again\n"),
            "no value in a note"
        );
    }
}
