//! A small lexer for definition files, one line at a time: quoted strings, and
//! assignments in the shapes config files and code write them — `KEY=value`,
//! `key: value`, `"key": "value"`, `key => "value"` (Logstash, Ruby), `KEY := v`,
//! `KEY ::= v`, `KEY ?= v` (make), `$key .= "v"` (PHP), `var key string = "v"` (Go),
//! `setProperty("KEY", "v")` — and XML elements, `<key>value</key>`, the value
//! possibly alone on the next line. Allocation-free; offsets are bytes into the line.

use super::assign::is_name_byte;
use super::rules::RULES;

/// Quoted strings are lexed again inside, this many levels deep (a `curl -H '…'` in a
/// YAML string).
const MAX_DEPTH: u8 = 2;
/// Bare (unquoted, unassigned) tokens shorter than this are not candidates.
const MIN_BARE_LEN: usize = 8;

/// What [`lex_line`] sees. Offsets are bytes into the line.
pub(super) enum Token<'a> {
    /// The inside of a quoted string.
    Quoted { at: usize, text: &'a str },
    /// `name = value`, `name: value`, `"name": "value"`; the value unquoted.
    Assignment {
        name: &'a str,
        at: usize,
        value: &'a str,
    },
}

pub(super) fn lex_line<'a>(line: &'a str, emit: &mut impl FnMut(Token<'a>)) {
    lex(line, 0, line.len(), 0, emit);
}

/// Quoted strings and assignments in `line[from..to]`, in order.
fn lex<'a>(line: &'a str, from: usize, to: usize, depth: u8, emit: &mut impl FnMut(Token<'a>)) {
    let b = line.as_bytes();
    let mut i = from;
    // A quoted string followed so far by blanks only: a name if a separator comes.
    let mut quoted_name: Option<&'a str> = None;
    // Whether that string is a call's first argument: `setProperty("KEY", "v")`.
    let mut first_argument = false;
    while i < to {
        match b[i] {
            b',' if first_argument => {
                let mut j = i + 1;
                while j < to && matches!(b[j], b' ' | b'\t') {
                    j += 1;
                }
                if let Some(name) = quoted_name.filter(|_| j < to && matches!(b[j], b'"' | b'\'')) {
                    i = assignment(line, name, j, to, true, depth, emit);
                    quoted_name = None;
                    first_argument = false;
                    continue;
                }
            }
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
                    first_argument = i > from && b[i - 1] == b'(';
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
                        first_argument = false;
                        continue;
                    }
                }
            }
            _ => {}
        }
        quoted_name = None;
        first_argument = false;
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
/// YAML wants a blank after `:` unless the name was quoted (JSON); `:=`, `::=`,
/// `:::=` (make) and `=>` (Logstash, Ruby, PHP) separate too; `==`, `!=`, `<=`, `::`
/// and the `:` of `http://` or `12:30` separate nothing.
fn separator(b: &[u8], i: usize, to: usize, after_quoted: bool) -> Option<usize> {
    let next = (i + 1 < to).then(|| b[i + 1]);
    let prev = i.checked_sub(1).map(|p| b[p]);
    if b[i] == b':' {
        if prev == Some(b':') {
            return None;
        }
        let mut j = i;
        while j < to && b[j] == b':' {
            j += 1;
        }
        match (j - i, b.get(j).filter(|_| j < to)) {
            (1..=3, Some(b'=')) => return Some(j + 1),
            (1, _) => {}
            _ => return None,
        }
        match next {
            None | Some(b' ' | b'\t') => Some(i + 1),
            _ if after_quoted => Some(i + 1),
            _ => None,
        }
    } else {
        match (prev, next) {
            (_, Some(b'>')) if !matches!(prev, Some(b'=' | b'<' | b'>' | b'!')) => Some(i + 2),
            (Some(b'=' | b'!' | b'<' | b'>'), _) | (_, Some(b'=' | b'~')) => None,
            _ => Some(i + 1),
        }
    }
}

/// The name written before the separator at `separator`, skipping the operator's
/// own marks (`+=`, `?=`, `.=`) and a type word (`var key string = …`).
fn bare_name_before(line: &str, from: usize, separator: usize) -> Option<&str> {
    let b = line.as_bytes();
    let word_before = |end: usize| {
        let mut end = end;
        while end > from && matches!(b[end - 1], b' ' | b'\t' | b'+' | b'?' | b'.' | b'$') {
            end -= 1;
        }
        let mut start = end;
        while start > from && is_name_byte(b[start - 1]) {
            start -= 1;
        }
        (start < end).then_some((start, end))
    };
    let (start, end) = word_before(separator)?;
    let name = &line[start..end];
    let typed = RULES
        .vocabulary
        .type_words
        .iter()
        .any(|w| name.eq_ignore_ascii_case(w));
    if typed && start > from && matches!(b[start - 1], b' ' | b'\t') {
        if let Some((s, e)) = word_before(start) {
            return Some(&line[s..e]);
        }
    }
    Some(name)
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
        b'"' | b'\'' | b'`' => {
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
        // A comment, or an escaped newline inside a string lexed again
        // (`"KEY=value\nOTHER=x"`), ends the value.
        [" #", "\\n", "\\r"]
            .iter()
            .filter_map(|m| line[j..to].find(m))
            .min()
            .map_or(to, |k| j + k)
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
pub(super) fn bare_tokens<'a>(line: &'a str, out: &mut Vec<(usize, &'a str)>) {
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

/// What an XML line holds, for credentials written as elements.
pub(super) enum XmlLine<'a> {
    /// `<apiToken>` alone: the value may be on the next line.
    Open(&'a str),
    /// `<apiToken>value</apiToken>`.
    Element {
        name: &'a str,
        at: usize,
        value: &'a str,
    },
}

pub(super) fn xml_line(line: &str) -> Option<XmlLine<'_>> {
    let start = line.len() - line.trim_start().len();
    let rest = line[start..].strip_prefix('<')?;
    let name_len = rest
        .bytes()
        .take_while(|&c| is_name_byte(c) || c == b':')
        .count();
    let name = &rest[..name_len];
    let after = rest[name_len..].strip_prefix('>')?;
    if name.is_empty() {
        return None;
    }
    if after.trim().is_empty() {
        return Some(XmlLine::Open(name));
    }
    let close = after.find("</")?;
    let value = after[..close].trim();
    let at = line.len() - after.len() + (after.len() - after.trim_start().len());
    (!value.is_empty() && !value.contains('<')).then_some(XmlLine::Element { name, at, value })
}
