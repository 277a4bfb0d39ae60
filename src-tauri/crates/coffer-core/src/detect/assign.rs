//! Whether a value assigned to a name is a credential written in plain text: the name
//! must read as a credential's (`API_KEY`, `dbPassword`, `creds`, not `primaryKey` or
//! `token_url`), and the value as one (random-looking and long enough for a key or a
//! token; not a plain word for a password; never a placeholder, a template, a path or
//! a URL). The words come from the `assignment` section of `rules.json`.

use super::rules::{NameWord, RULES};

#[derive(Clone, Copy)]
enum NameClass {
    /// Passwords are often short and human-chosen: length and shape, not entropy.
    Password,
    Secret,
}

fn name_class(name: &str) -> Option<NameClass> {
    let v = &RULES.vocabulary;
    let last = last_segment(name);
    if v
        .descriptive_segments
        .iter()
        .any(|s| last.eq_ignore_ascii_case(s))
        // A Vault AppRole `secret_id` is a credential.
        && !(last.eq_ignore_ascii_case("id") && contains_ignore_case(name, "secret"))
    {
        return None;
    }
    let mut class = None;
    for m in RULES.name_words.find_iter(name) {
        match RULES.name_word_class[m.pattern().as_usize()] {
            NameWord::Password => class = Some(NameClass::Password),
            NameWord::Secret => class = class.or(Some(NameClass::Secret)),
        }
    }
    class?;
    let squeezed: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .collect();
    if RULES.veto.is_match(&squeezed) {
        return None;
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
pub(super) fn credential_value<'a>(
    name: &str,
    value: &'a str,
    at: usize,
) -> Option<(usize, &'a str)> {
    let class = name_class(name)?;
    let v = &RULES.vocabulary;
    let (at, value) = match v
        .auth_schemes
        .iter()
        .find(|s| starts_with_ignore_case(value, s))
    {
        Some(scheme) => (at + scheme.len(), value[scheme.len()..].trim_start()),
        None => (at, value),
    };
    if value.contains(char::is_whitespace)
        || is_placeholder(value)
        || is_locator(value)
        || RULES.owned_by_a_rule(value)
    {
        return None;
    }
    let len = value.chars().count();
    let suspect = match class {
        NameClass::Password => len >= v.min_password_len && !is_plain_word(value),
        NameClass::Secret => {
            len >= v.min_secret_len && entropy(value) >= v.entropy && looks_random(value)
        }
    };
    suspect.then_some((at, value))
}

pub(super) fn is_placeholder(value: &str) -> bool {
    let v = &RULES.vocabulary;
    value.is_empty()
        || v.non_values.iter().any(|w| value.eq_ignore_ascii_case(w))
        || value.parse::<f64>().is_ok()
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with('[') && value.ends_with(']'))
        || value
            .bytes()
            .all(|c| matches!(c, b'*' | b'x' | b'X' | b'#' | b'.'))
        || is_variable(value)
        || v.template_marks.iter().any(|m| value.contains(m.as_str()))
        || v.placeholder_prefixes
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

pub(super) fn has_filler(value: &str) -> bool {
    RULES.filler.is_match(value)
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
pub(super) fn entropy(value: &str) -> f64 {
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
pub(super) fn looks_random(value: &str) -> bool {
    let b = value.as_bytes();
    // An alphabet written out (`ABC…xyz0123456789`): every byte differs, nothing is
    // random about it.
    let steps = b
        .windows(2)
        .filter(|w| w[1] == w[0].wrapping_add(1))
        .count();
    if b.len() >= 8 && steps * 2 >= b.len() {
        return false;
    }
    let has = |f: fn(&u8) -> bool| b.iter().any(f);
    let hex = b.iter().all(u8::is_ascii_hexdigit)
        && !(has(u8::is_ascii_lowercase) && has(u8::is_ascii_uppercase));
    // Long, all three classes, many distinct bytes: random even when the draw
    // happened to run in one case (`YiKfDbmeurw64wIosmRgefx…`).
    let mixed = b.len() >= 20
        && has(u8::is_ascii_digit)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_uppercase)
        && entropy(value) >= 4.0;
    switch_rate(value) >= 0.25 || (hex && value.len() >= 16) || mixed
}

/// The share of adjacent ASCII letters and digits that switch between lower case,
/// upper case and digit, not counting a capital followed by a lower-case letter (a
/// capitalised word). About 0.5 for random alphanumerics; below 0.2 for identifiers.
pub(super) fn switch_rate(value: &str) -> f64 {
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

pub(super) fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    value
        .as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

pub(super) fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

pub(super) fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-')
}

pub(super) fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}
