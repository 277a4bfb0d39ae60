//! How results look: aligned columns for people, JSON for programs.
//!
//! Every line printed here passes through [`coffer_core::text`]: descriptions, names
//! and server answers were written by someone else, and a terminal must show their
//! escape sequences, not run them. JSON is escaped by its serializer, and the few
//! characters it leaves raw (DEL, C1) are written as `\u00XX` here.

use std::io::Write;

use coffer_core::text::{terminal_safe, terminal_safe_line};
use serde::Serialize;

/// Prints rows under headers, each column as wide as its widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    // One write per screenful, not per line (a locked stdout flushes at each newline).
    table_to(
        std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock()),
        headers,
        rows,
    );
}

/// [`table`] written to `out` (the session agent writes it to the client's socket).
/// Each line is built in one reused buffer: a 100,000-row listing allocates per row
/// only where a cell needs escaping.
pub fn table_to(mut out: impl Write, headers: &[&str], rows: &[Vec<String>]) {
    let safe: Vec<Vec<std::borrow::Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| terminal_safe_line(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &safe {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut line = Aligned::new(widths);
    if !line.write(&mut out, headers.iter().copied()) {
        return;
    }
    for row in &safe {
        if !line.write(&mut out, row.iter().map(|c| c.as_ref())) {
            return;
        }
    }
    let _ = out.flush();
}

/// Writes table lines: cells padded to their column's width, two spaces apart, the
/// line's trailing spaces trimmed; built in one buffer reused for every line.
struct Aligned {
    widths: Vec<usize>,
    line: String,
}

impl Aligned {
    fn new(widths: Vec<usize>) -> Self {
        Aligned {
            widths,
            line: String::new(),
        }
    }

    /// Whether the line could be written (a closed pipe ends the table).
    fn write<'c>(&mut self, out: &mut impl Write, cells: impl Iterator<Item = &'c str>) -> bool {
        self.line.clear();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                self.line.push_str("  ");
            }
            self.line.push_str(cell);
            let width = self.widths.get(i).copied().unwrap_or(0);
            let pad = width.saturating_sub(cell.chars().count());
            self.line.extend(std::iter::repeat_n(' ', pad));
        }
        writeln!(out, "{}", self.line.trim_end()).is_ok()
    }
}

/// Hands each row of a table to the visitor it is given.
pub type RowSource<'a> = dyn FnMut(&mut dyn FnMut(Vec<String>)) -> coffer_core::Result<()> + 'a;

/// A table too long to hold in memory: `rows` is called twice, once to measure the
/// columns and once to print, each time handing every row to the visitor it gets.
pub fn table_streamed(headers: &[&str], rows: &mut RowSource<'_>) -> coffer_core::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    rows(&mut |row| {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(terminal_safe_line(cell).chars().count());
        }
    })?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut line = Aligned::new(widths);
    let mut open = line.write(&mut out, headers.iter().copied());
    rows(&mut |row| {
        if open {
            let cells: Vec<_> = row.iter().map(|cell| terminal_safe_line(cell)).collect();
            open = line.write(&mut out, cells.iter().map(|c| c.as_ref()));
        }
    })?;
    let _ = out.flush();
    Ok(())
}

/// A JSON array written element by element, as [`json`] would print it whole.
pub struct JsonArray<W: Write> {
    out: W,
    first: bool,
    pub open: bool,
}

impl<W: Write> JsonArray<W> {
    pub fn new(mut out: W) -> Self {
        let open = write!(out, "[").is_ok();
        JsonArray {
            out,
            first: true,
            open,
        }
    }

    pub fn push<T: Serialize>(&mut self, value: &T) {
        let Ok(text) = serde_json::to_string_pretty(value) else {
            return;
        };
        let sep = if self.first { "\n" } else { ",\n" };
        self.first = false;
        let indented = json_safe(&text).replace('\n', "\n  ");
        self.open = self.open && write!(self.out, "{sep}  {indented}").is_ok();
    }

    pub fn finish(self) {
        self.finish_into();
    }

    /// Closes the array and hands back what it was written to.
    pub fn finish_into(mut self) -> W {
        let end = if self.first { "]" } else { "\n]" };
        let _ = writeln!(self.out, "{end}");
        let _ = self.out.flush();
        self.out
    }
}

/// Writes one line to stdout. A reader that went away (`coffer ls | head -1`) is not
/// an error worth a panic: the rest of the output is simply dropped.
/// A revealed binary value: its bytes exactly (no newline) into a pipe or file; on a
/// terminal, where raw bytes would garble the screen or run as escapes, its base64.
pub fn binary_value(name: &str, value: &coffer_core::value::SecretValue, no_newline: bool) {
    use std::io::IsTerminal;
    let mut out = std::io::stdout().lock();
    if out.is_terminal() {
        err_line(format!(
            "note: {name} is binary, shown as base64 here; redirect it (coffer reveal {name} > FILE) to get the bytes"
        ));
        let _ = out.write_all(value.expose().as_bytes());
        if !no_newline {
            let _ = out.write_all(b"\n");
        }
    } else {
        let _ = out.write_all(&value.to_bytes());
    }
    let _ = out.flush();
}

pub fn line(text: impl std::fmt::Display) {
    let text = text.to_string();
    let _ = writeln!(std::io::stdout().lock(), "{}", terminal_safe(&text));
}

/// One `error:` or `note:` line on stderr, escaped like everything else printed.
pub fn err_line(text: impl std::fmt::Display) {
    let text = text.to_string();
    let _ = writeln!(std::io::stderr().lock(), "{}", terminal_safe_line(&text));
}

/// `println!` that never panics on a closed pipe.
macro_rules! outln {
    () => { $crate::output::line("") };
    ($($arg:tt)*) => { $crate::output::line(format_args!($($arg)*)) };
}
pub(crate) use outln;

pub fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => {
            let _ = writeln!(std::io::stdout().lock(), "{}", json_safe(&text));
        }
        Err(e) => err_line(format!("error: could not format output: {e}")),
    }
}

/// serde_json escapes C0 controls but writes DEL and C1 (U+0080..U+009F) raw; they can
/// only occur inside strings, where `\u00XX` means the same character.
/// `reveal --json`: `{"encoding"?, "name", "value"}` as [`json`] prints it, built only
/// in memory that is wiped when dropped (a `serde_json::Value` would keep a plain
/// copy of the value).
pub fn revealed_json(name: &str, value: &coffer_core::value::SecretValue) {
    let doc = revealed_json_text(name, value);
    let _ = std::io::stdout().lock().write_all(doc.as_bytes());
}

fn revealed_json_text(
    name: &str,
    value: &coffer_core::value::SecretValue,
) -> zeroize::Zeroizing<String> {
    let quoted = |text: &str| -> zeroize::Zeroizing<String> {
        // to_string of a str cannot fail; the String it makes is moved, not copied.
        let raw = zeroize::Zeroizing::new(serde_json::to_string(text).unwrap_or_default());
        match json_safe(&raw) {
            std::borrow::Cow::Borrowed(_) => raw,
            std::borrow::Cow::Owned(escaped) => zeroize::Zeroizing::new(escaped),
        }
    };
    let value_json = quoted(value.expose());
    let name_json = quoted(name);
    let mut doc = zeroize::Zeroizing::new(String::with_capacity(
        value_json.len() + name_json.len() + 64,
    ));
    doc.push_str("{\n");
    if value.is_binary() {
        doc.push_str("  \"encoding\": \"base64\",\n");
    }
    doc.push_str("  \"name\": ");
    doc.push_str(&name_json);
    doc.push_str(",\n  \"value\": ");
    doc.push_str(&value_json);
    doc.push_str("\n}\n");
    doc
}

fn json_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let raw = |c: char| matches!(c as u32, 0x7f..=0x9f);
    if !text.chars().any(raw) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Shortens one-line text for a column.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// "1 event", "3 events".
pub fn count(n: i64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_what_serde_leaves_raw_and_stays_json() {
        let doc = serde_json::json!({ "d": "a\u{1b}]52;c;eA==\u{7}b\u{9b}2J\u{7f}" });
        let text = serde_json::to_string(&doc).unwrap();
        let safe = json_safe(&text);
        assert!(!safe.chars().any(char::is_control), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, doc, "the same document, only spelled safely");
    }

    /// The array written element by element is byte for byte the one [`json`] prints
    /// whole, for arrays of every length and shape (a seeded generator, no clock).
    #[test]
    fn a_streamed_json_array_is_the_whole_array_printed_at_once() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200 {
            let n = (next() % 6) as usize;
            let items: Vec<serde_json::Value> = (0..n)
                .map(|i| match next() % 4 {
                    0 => serde_json::json!(i),
                    1 => serde_json::json!({ "id": i, "detail": { "k": [1, 2, { "x": null }] }, "s": "a\nb\u{7f}" }),
                    2 => serde_json::json!([]),
                    _ => serde_json::json!({}),
                })
                .collect();
            let mut streamed = JsonArray::new(Vec::new());
            for item in &items {
                streamed.push(item);
            }
            let out = String::from_utf8(streamed.finish_into()).unwrap();
            let whole = format!(
                "{}\n",
                json_safe(&serde_json::to_string_pretty(&items).unwrap())
            );
            assert_eq!(out, whole);
        }
    }
}

#[cfg(test)]
mod revealed_json_tests {
    /// The hand-built document reads back as the `serde_json` one it replaces.
    #[test]
    fn reveal_json_is_the_document_serde_would_print() {
        use coffer_core::value::SecretValue;
        for (name, value) in [
            (
                "API_KEY",
                SecretValue::from_string("line \"one\"\n\u{7f}\u{85} é".into()).unwrap(),
            ),
            (
                "BIN",
                SecretValue::from_binary(zeroize::Zeroizing::new(vec![0, 1, 2, 255])).unwrap(),
            ),
        ] {
            let mut expected = serde_json::json!({ "name": name, "value": value.expose() });
            if value.is_binary() {
                expected["encoding"] = "base64".into();
            }
            let pretty = super::json_safe(&serde_json::to_string_pretty(&expected).unwrap())
                .into_owned()
                + "\n";
            let ours = super::revealed_json_text(name, &value);
            assert_eq!(*ours, pretty);
        }
    }
}
