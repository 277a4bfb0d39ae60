//! The forms a value takes when a program prints it: the byte strings the masker
//! searches for.
//!
//! A value is searched for as itself and as each common encoding of it: base64 and
//! base64url (padded and not) at each of the three byte alignments a value can have
//! inside a longer encoded text — `base64("user:" + value)` puts it at offset 1 or 2 —
//! hex in both cases, URL-encoded (`%XX` in both cases, `+` for a space, with each
//! common set of characters left as they are) and JSON-escaped (minimal, ASCII-only
//! `\uXXXX` with surrogate pairs, HTML-safe, `\/`). A multiline value (a PEM key) is
//! also searched for line by line, since tools print keys a line at a time.
//!
//! An encoded form shorter than [`MIN_ENCODED_LEN`] is left out: it carries less than
//! the value itself and would mask ordinary text everywhere. The value itself is always
//! searched for, however short.

use base64::alphabet::{Alphabet, STANDARD as STANDARD_ALPHABET, URL_SAFE as URL_ALPHABET};
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use zeroize::Zeroizing;

/// Shortest encoded form searched for.
pub const MIN_ENCODED_LEN: usize = 4;
/// Shortest line of a multiline value masked on its own.
pub const MIN_LINE_LEN: usize = 8;

/// One form of a value, zeroized on drop.
pub type Form = Zeroizing<Vec<u8>>;

/// Every form of `value` to mask, each once, in no particular order.
pub fn forms(value: &str) -> Vec<Form> {
    let mut out: Vec<Form> = Vec::new();
    add_unit(value, &mut out);
    if value.contains('\n') {
        for line in value.lines() {
            let line = line.trim();
            if line.len() >= MIN_LINE_LEN && !is_pem_armor(line) && line != value {
                add_unit(line, &mut out);
            }
        }
    }
    out.sort_unstable_by(|a, b| a.as_slice().cmp(b.as_slice()));
    out.dedup_by(|a, b| a.as_slice() == b.as_slice());
    out
}

/// Every form of a binary value's bytes (a secret file a child may print): the bytes
/// themselves, their base64 and hex; URL and JSON forms only where they are text.
pub fn forms_of_bytes(raw: &[u8]) -> Vec<Form> {
    let mut out: Vec<Form> = Vec::new();
    match std::str::from_utf8(raw) {
        Ok(text) => add_unit(text, &mut out),
        Err(_) => add_bytes(raw, &mut out),
    }
    out.sort_unstable_by(|a, b| a.as_slice().cmp(b.as_slice()));
    out.dedup_by(|a, b| a.as_slice() == b.as_slice());
    out
}

/// `-----BEGIN RSA PRIVATE KEY-----` and its like say what a key is, not what it holds.
fn is_pem_armor(line: &str) -> bool {
    line.starts_with("-----") && line.ends_with("-----")
}

fn add_unit(value: &str, out: &mut Vec<Form>) {
    let raw = value.as_bytes();
    let mut encoded = byte_forms(raw);
    url_encoded(value, &mut encoded);
    json_escaped(value, &mut encoded);
    keep(raw, encoded, out);
}

fn add_bytes(raw: &[u8], out: &mut Vec<Form>) {
    let encoded = byte_forms(raw);
    keep(raw, encoded, out);
}

/// The encodings of any bytes: base64 and base64url at each alignment, hex.
fn byte_forms(raw: &[u8]) -> Vec<Form> {
    let mut encoded: Vec<Form> = Vec::new();
    for alphabet in [&STANDARD_ALPHABET, &URL_ALPHABET] {
        for align in 0..3 {
            base64_at(raw, alphabet, align, &mut encoded);
        }
    }
    encoded.push(Zeroizing::new(hex::encode(raw).into_bytes()));
    encoded.push(Zeroizing::new(hex::encode_upper(raw).into_bytes()));
    encoded
}

/// `raw` itself and those of its `encoded` forms long enough to mask.
fn keep(raw: &[u8], encoded: Vec<Form>, out: &mut Vec<Form>) {
    out.push(Zeroizing::new(raw.to_vec()));
    out.extend(
        encoded
            .into_iter()
            .filter(|f| f.len() >= MIN_ENCODED_LEN && f.as_slice() != raw),
    );
}

/// The base64 characters of `raw` that do not depend on what surrounds it when it
/// starts `align` bytes into a 3-byte group; and, when it ends an encoded text, the
/// same run followed by its last partial character and the padding.
fn base64_at(raw: &[u8], alphabet: &Alphabet, align: usize, out: &mut Vec<Form>) {
    let padded = GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new().with_encode_padding(true),
    );
    let mut shifted = Zeroizing::new(vec![0u8; align]);
    shifted.extend_from_slice(raw);
    let text = Zeroizing::new(padded.encode(shifted.as_slice()).into_bytes());
    // Character j holds bits [6j, 6j + 6) of `shifted`; the value owns bits
    // [8 * align, 8 * (align + len)).
    let first = (8 * align).div_ceil(6);
    let end = 8 * (align + raw.len()) / 6;
    if first < end {
        out.push(Zeroizing::new(text[first..end].to_vec()));
    }
    if first < text.len() {
        out.push(Zeroizing::new(text[first..].to_vec()));
    }
}

/// RFC 3986's unreserved characters stay as they are.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// As `application/x-www-form-urlencoded` (space as `+` is added below).
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');
/// As JavaScript's `encodeURIComponent`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');
/// As Python's `urllib.parse.quote` (slashes kept).
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

fn url_encoded(value: &str, out: &mut Vec<Form>) {
    // Letters and digits are never encoded: such a value is its own URL form.
    if value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return;
    }
    for set in [NON_ALPHANUMERIC, UNRESERVED, FORM, COMPONENT, PATH] {
        let upper = Zeroizing::new(
            percent_encoding::utf8_percent_encode(value, set)
                .to_string()
                .into_bytes(),
        );
        let lower = Zeroizing::new(lowercase_escapes(&upper, b'%', 2));
        for text in [upper, lower] {
            if value.contains(' ') {
                out.push(Zeroizing::new(replace(&text, b"%20", b"+")));
            }
            out.push(text);
        }
    }
}

/// `text` with the `digits` hex digits after each `marker` in lower case.
fn lowercase_escapes(text: &[u8], marker: u8, digits: usize) -> Vec<u8> {
    let mut out = text.to_vec();
    let mut i = 0;
    while i < out.len() {
        if out[i] == marker {
            for b in out.iter_mut().skip(i + 1).take(digits) {
                b.make_ascii_lowercase();
            }
            i += digits;
        }
        i += 1;
    }
    out
}

fn replace(text: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

/// How a JSON encoder escapes a string's contents.
#[derive(Clone, Copy)]
struct JsonStyle {
    /// Everything outside printable ASCII as `\uXXXX` (Python's default).
    ascii: bool,
    /// `\u00E9` rather than `\u00e9` (.NET, Java).
    upper: bool,
    /// `<`, `>`, `&`, U+2028 and U+2029 as `\uXXXX` (Go's default).
    html: bool,
    /// `/` as `\/` (PHP's default).
    slash: bool,
}

fn json_escaped(value: &str, out: &mut Vec<Form>) {
    // Printable ASCII that no encoder escapes is its own JSON form.
    if value
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) && !b"\"\\/<>&".contains(&b))
    {
        return;
    }
    for bits in 0u8..16 {
        let style = JsonStyle {
            ascii: bits & 1 != 0,
            upper: bits & 2 != 0,
            html: bits & 4 != 0,
            slash: bits & 8 != 0,
        };
        out.push(json_escape(value, style));
    }
}

fn json_escape(value: &str, style: JsonStyle) -> Form {
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() + 8));
    let unit = |out: &mut Vec<u8>, u: u16| {
        let hex = if style.upper {
            format!("\\u{u:04X}")
        } else {
            format!("\\u{u:04x}")
        };
        out.extend_from_slice(hex.as_bytes());
    };
    for c in value.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '/' if style.slash => out.extend_from_slice(b"\\/"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.html => unit(&mut out, c as u16),
            c if (c as u32) < 0x20 => unit(&mut out, c as u16),
            c if style.ascii && !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    unit(&mut out, *u);
                }
            }
            c => {
                let mut bytes = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut bytes).as_bytes());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    fn has(forms: &[Form], s: &str) -> bool {
        forms.iter().any(|f| f.as_slice() == s.as_bytes())
    }

    /// Every form, wherever it sits in an encoded text, is a substring of that text.
    fn contains_a_form(forms: &[Form], text: &str) -> bool {
        forms
            .iter()
            .any(|f| text.as_bytes().windows(f.len()).any(|w| w == f.as_slice()))
    }

    #[test]
    fn base64_is_found_at_every_alignment_and_with_any_neighbours() {
        let value = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
        let f = forms(value);
        for prefix in ["", "u", "us", "user:", "ab", "x"] {
            for suffix in ["", "\n", "!", "ok"] {
                let whole = format!("{prefix}{value}{suffix}");
                let std = STANDARD.encode(&whole);
                let url = URL_SAFE_NO_PAD.encode(&whole);
                assert!(contains_a_form(&f, &std), "{prefix:?} {suffix:?}: {std}");
                assert!(contains_a_form(&f, &url), "{prefix:?} {suffix:?}: {url}");
            }
        }
        assert!(has(&f, &STANDARD.encode(value)), "the padded whole value");
    }

    #[test]
    fn hex_url_and_json_forms() {
        let value = "pa ss/wörd\"\\x<😀>";
        let f = forms(value);
        assert!(has(&f, &hex::encode(value)));
        assert!(has(&f, &hex::encode_upper(value)));
        let upper = percent_encoding::utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
        assert!(has(&f, &upper));
        assert!(has(&f, &upper.to_lowercase()), "lower-case escapes");
        assert!(has(&f, &upper.replace("%20", "+")));
        let serde = serde_json::to_string(value).unwrap();
        assert!(has(&f, &serde[1..serde.len() - 1]), "serde_json's escaping");
        assert!(
            has(&f, r#"pa ss/w\u00f6rd\"\\x<\ud83d\ude00>"#),
            "Python's ensure_ascii"
        );
        assert!(
            has(&f, r#"pa ss\/w\u00F6rd\"\\x<\uD83D\uDE00>"#),
            "upper case, slash"
        );
        assert!(
            has(&f, r#"pa ss/wörd\"\\x\u003c😀\u003e"#),
            "Go's HTML-safe escaping"
        );
    }

    #[test]
    fn short_encodings_are_left_out_but_the_value_stays() {
        let f = forms("x");
        assert!(has(&f, "x"));
        assert!(f
            .iter()
            .all(|p| p.len() >= MIN_ENCODED_LEN || p.as_slice() == b"x"));
        assert!(
            has(&f, "eA=="),
            "the padded base64 of a whole short value is kept"
        );
    }

    #[test]
    fn multiline_values_are_also_masked_line_by_line() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\n  BKcwggSjAgEAAoIBAQC7\nshort\n-----END PRIVATE KEY-----\n";
        let f = forms(pem);
        assert!(has(&f, pem));
        assert!(has(&f, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"));
        assert!(has(&f, "BKcwggSjAgEAAoIBAQC7"), "trimmed");
        assert!(
            !has(&f, "short"),
            "lines under {MIN_LINE_LEN} bytes would mask noise"
        );
        assert!(
            !has(&f, "-----BEGIN PRIVATE KEY-----"),
            "armor is not secret"
        );
    }

    #[test]
    fn every_form_is_listed_once() {
        let f = forms("abcdefghij");
        let mut sorted: Vec<&[u8]> = f.iter().map(|p| p.as_slice()).collect();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), f.len());
    }
}
