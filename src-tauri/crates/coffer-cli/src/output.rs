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

/// A table gathered cell by cell into one buffer and printed aligned, as [`table`]
/// prints it: a 100,000-row listing allocates no string per cell or row.
pub struct Grid {
    text: String,
    ends: Vec<usize>,
    widths: Vec<usize>,
    column: usize,
}

impl Grid {
    /// A grid whose first row is `headers` (at least one).
    pub fn new<'h>(headers: impl IntoIterator<Item = &'h str>) -> Self {
        let headers: Vec<&str> = headers.into_iter().collect();
        assert!(!headers.is_empty(), "a table has at least one column");
        let mut grid = Grid {
            text: String::new(),
            ends: Vec::new(),
            widths: vec![0; headers.len()],
            column: 0,
        };
        for header in headers {
            grid.cell(header);
        }
        grid
    }

    /// The next cell, escaped for a terminal (rows wrap at the headers' count).
    pub fn cell(&mut self, text: &str) {
        self.cell_with(|buf| buf.push_str(text));
    }

    /// The next cell, written by `write` straight into the buffer.
    pub fn cell_with(&mut self, write: impl FnOnce(&mut String)) {
        let start = self.text.len();
        write(&mut self.text);
        if let std::borrow::Cow::Owned(safe) = terminal_safe_line(&self.text[start..]) {
            self.text.truncate(start);
            self.text.push_str(&safe);
        }
        let width = self.text[start..].chars().count();
        self.widths[self.column] = self.widths[self.column].max(width);
        self.ends.push(self.text.len());
        self.column = (self.column + 1) % self.widths.len();
    }

    /// Prints the rows, the headers first; a closed pipe ends it quietly.
    pub fn write_to(self, mut out: impl Write) {
        let columns = self.widths.len();
        let mut line = Aligned::new(self.widths);
        let mut start = 0;
        for row in self.ends.chunks(columns) {
            let text = &self.text;
            let cells = row.iter().map(|&end| {
                let cell = &text[start..end];
                start = end;
                cell
            });
            if !line.write(&mut out, cells) {
                return;
            }
        }
        let _ = out.flush();
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
    /// Each element is formatted here first (reused: no allocation per element).
    scratch: Vec<u8>,
}

impl<W: Write> JsonArray<W> {
    pub fn new(mut out: W) -> Self {
        let open = write!(out, "[").is_ok();
        JsonArray {
            out,
            first: true,
            open,
            scratch: Vec::new(),
        }
    }

    pub fn push<T: Serialize>(&mut self, value: &T) {
        self.scratch.clear();
        self.scratch
            .extend_from_slice(if self.first { b"\n  " } else { b",\n  " });
        let mut ser =
            serde_json::Serializer::with_formatter(&mut self.scratch, NestedPretty::default());
        if value.serialize(&mut ser).is_err() {
            return;
        }
        self.first = false;
        self.open = self.open && self.out.write_all(&self.scratch).is_ok();
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

/// serde_json's pretty format one level deeper (an element of a top-level array),
/// with DEL and C1 escaped as [`json_safe`] does: written as it is serialised, in one
/// pass (re-indenting pretty output afterwards was a third of `ls --json`).
struct NestedPretty {
    depth: usize,
    has_value: bool,
}

impl Default for NestedPretty {
    fn default() -> Self {
        NestedPretty {
            depth: 1,
            has_value: false,
        }
    }
}

impl NestedPretty {
    fn line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> std::io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(w)
    }

    fn indent<W: ?Sized + Write>(&self, w: &mut W) -> std::io::Result<()> {
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> std::io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            self.indent(w)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for NestedPretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.line(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    /// serde_json escapes C0 controls but leaves DEL and C1 (U+007F..U+009F) in these
    /// runs of plain text; `\u00XX` means the same character.
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // In UTF-8 these are 0x7F, or 0xC2 then 0x80..=0x9F: most text has neither byte.
        if !fragment.bytes().any(|b| b == 0x7f || b == 0xc2) {
            return w.write_all(fragment.as_bytes());
        }
        let mut from = 0;
        for (i, c) in fragment.char_indices() {
            if matches!(c as u32, 0x7f..=0x9f) {
                w.write_all(&fragment.as_bytes()[from..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                from = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[from..])
    }
}

/// Output gathered in memory before it is written, in 1 MiB pieces: a 100 MB listing
/// is never copied to grow one buffer.
#[derive(Default)]
pub struct Spool {
    full: Vec<Vec<u8>>,
    current: Vec<u8>,
}

impl Spool {
    const PIECE: usize = 1 << 20;

    /// Writes everything gathered; a reader that went away gets no more.
    pub fn write_to(&self, mut out: impl Write) {
        for piece in self.full.iter().chain([&self.current]) {
            if out.write_all(piece).is_err() {
                return;
            }
        }
        let _ = out.flush();
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.current.len() + buf.len() > Self::PIECE && !self.current.is_empty() {
            self.full.push(std::mem::take(&mut self.current));
        }
        if self.current.capacity() == 0 {
            self.current.reserve(Self::PIECE.max(buf.len()));
        }
        self.current.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
    let mut s = String::new();
    clip_into(&mut s, text, max);
    s
}

/// [`clip`] written onto the end of `buf`.
pub fn clip_into(buf: &mut String, text: &str, max: usize) {
    if text.chars().count() <= max {
        buf.push_str(text);
    } else {
        buf.extend(text.chars().take(max.saturating_sub(1)));
        buf.push('…');
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

    /// A seeded generator of test shapes (no clock, the same every run).
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// The array written element by element is byte for byte the one [`json`] prints
    /// whole, for arrays of every length and shape (a seeded generator, no clock).
    #[test]
    fn a_streamed_json_array_is_the_whole_array_printed_at_once() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15_u64);
        for _ in 0..200 {
            let n = (next() % 6) as usize;
            let items: Vec<serde_json::Value> = (0..n)
                .map(|i| match next() % 4 {
                    0 => serde_json::json!(i),
                    1 => serde_json::json!({ "id": i, "detail": { "k": [1, 2, { "x": null }] }, "s": "a\nb\u{7f}\u{85}\u{a0}é\u{9f}\u{100}" }),
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

    /// A grid filled cell by cell prints what [`table_to`] prints from the same rows:
    /// cells needing escapes, wide and empty ones, a closing empty column.
    #[test]
    fn a_grid_prints_the_table_its_rows_make() {
        let cells = [
            "",
            "API_KEY",
            "é🔑",
            "a\u{1b}[2Jb",
            "line\nbreak",
            "v12 rotate!",
            "-",
        ];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d_u64);
        for _ in 0..100 {
            let columns = 1 + (next() % 4) as usize;
            let headers: Vec<&str> = ["NAME", "DESC", "DEV", "UPDATED"][..columns].to_vec();
            let rows: Vec<Vec<String>> = (0..next() % 5)
                .map(|_| {
                    (0..columns)
                        .map(|_| cells[(next() % cells.len() as u64) as usize].to_string())
                        .collect()
                })
                .collect();
            let mut whole = Vec::new();
            table_to(&mut whole, &headers, &rows);
            let mut grid = Grid::new(headers.iter().copied());
            for row in &rows {
                for cell in row {
                    grid.cell(cell);
                }
            }
            let mut streamed = Vec::new();
            grid.write_to(&mut streamed);
            assert_eq!(String::from_utf8(streamed), String::from_utf8(whole));
        }
    }

    /// Output spooled in pieces comes back whole and in order.
    #[test]
    fn a_spool_gives_back_what_it_took_across_its_pieces() {
        let mut spool = Spool::default();
        let mut expected = Vec::new();
        for i in 0..3000u32 {
            let chunk = vec![(i % 251) as u8; (i as usize * 37) % 4099];
            spool.write_all(&chunk).unwrap();
            expected.extend_from_slice(&chunk);
        }
        assert!(
            expected.len() > 3 * Spool::PIECE,
            "the test spans several pieces"
        );
        let mut back = Vec::new();
        spool.write_to(&mut back);
        assert!(back == expected);
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
