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

pub fn parse(format: ImportFormat, text: &str) -> Result<Vec<(String, SecretValue)>> {
    match format {
        ImportFormat::Dotenv => parse_dotenv(text),
        ImportFormat::Json => parse_json(text),
    }
}

/// `.env`: `NAME=value` lines, optional `export `, `#` comments, blank lines, single
/// quotes (literal) and double quotes (with `\n`, `\"`, `\\` escapes, may span lines).
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, SecretValue)>> {
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let lineno = i + 1;
        let line = lines[i].trim_start_matches('\u{feff}').trim();
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
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
            let mut buf = Zeroizing::new(String::new());
            let mut cur = body.to_string();
            let mut closed = false;
            loop {
                let mut chars = cur.chars();
                let mut tail = None;
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some('n') => buf.push('\n'),
                            Some('r') => buf.push('\r'),
                            Some('t') => buf.push('\t'),
                            Some(o) => buf.push(o),
                            None => buf.push('\\'),
                        },
                        '"' => {
                            tail = Some(chars.as_str().to_string());
                            break;
                        }
                        o => buf.push(o),
                    }
                }
                if let Some(t) = tail {
                    let t = t.trim();
                    if !(t.is_empty() || t.starts_with('#')) {
                        return Err(Error::invalid(format!(
                            "line {lineno}: unexpected text after the closing quote"
                        )));
                    }
                    closed = true;
                    break;
                }
                if i >= lines.len() {
                    break;
                }
                buf.push('\n');
                cur = lines[i].to_string();
                i += 1;
            }
            if !closed {
                return Err(Error::invalid(format!(
                    "line {lineno}: unterminated double quote"
                )));
            }
            Zeroizing::new(buf.as_bytes().to_vec())
        } else if let Some(body) = rest.strip_prefix('\'') {
            let Some(end) = body.find('\'') else {
                return Err(Error::invalid(format!(
                    "line {lineno}: unterminated single quote"
                )));
            };
            let t = body[end + 1..].trim();
            if !(t.is_empty() || t.starts_with('#')) {
                return Err(Error::invalid(format!(
                    "line {lineno}: unexpected text after the closing quote"
                )));
            }
            Zeroizing::new(body.as_bytes()[..end].to_vec())
        } else {
            // Unquoted: an inline comment starts at " #".
            let v = match rest.find(" #") {
                Some(p) => &rest[..p],
                None => rest,
            };
            Zeroizing::new(v.trim_end().as_bytes().to_vec())
        };
        let value = SecretValue::from_bytes(value)
            .map_err(|e| Error::invalid(format!("line {lineno} ({key}): {e}")))?;
        out.push((key.to_string(), value));
    }
    if out.is_empty() {
        return Err(Error::invalid("the file holds no NAME=value entries"));
    }
    Ok(out)
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
            pairs(parse_dotenv(text).unwrap()),
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
}
