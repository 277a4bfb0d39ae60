//! Text bound for a spreadsheet cell (the audit trail's CSV export).
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and
//! some also after a leading tab or carriage return: a name like `-1-1` or a crafted
//! `=HYPERLINK(…)` would compute, or send data away, when an auditor opens the export.
//! [`formula_safe`] prefixes such a cell with `'`, which spreadsheets show as text.
//!
//! The app's export applies the same rule in TypeScript (`ui/src/lib/auditExport.ts`);
//! both test it over one table, `spreadsheet_cells.json` beside this file, so the two
//! cannot drift apart unnoticed.

use std::borrow::Cow;

/// The characters that make a spreadsheet treat a cell as a formula when it starts
/// with one.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet will show it, never run it: `'` before a formula start.
pub fn formula_safe(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table the UI's test reads too.
    const CASES: &str = include_str!("spreadsheet_cells.json");

    #[test]
    fn formula_safe_follows_the_shared_table() {
        let cases: Vec<(String, String)> = serde_json::from_str(CASES).unwrap();
        assert!(cases.len() >= 10);
        for (raw, expected) in cases {
            assert_eq!(formula_safe(&raw), expected.as_str(), "for {raw:?}");
        }
    }
}
