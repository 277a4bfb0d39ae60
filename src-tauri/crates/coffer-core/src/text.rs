//! Text others wrote, made safe to print on a terminal.
//!
//! A description, a name in an error, a test request's response: each was written by a
//! member or a server, and a terminal interprets what it is sent. `ESC ] 52 ; c ; … BEL`
//! writes the clipboard, `ESC [ 2 J` clears the screen, a lone `CR` overwrites a line
//! so a warning vanishes. [`terminal_safe`] shows every such character as a visible
//! escape (`\x1b`, `\x07`, `\r`, `\u{9b}`) instead; printable text, line feeds and tabs
//! pass unchanged, so a body's lines stay lines. It is one pass and idempotent (its
//! output holds no control character), so printing layers may apply it again.
//!
//! Backslashes are not doubled: the point is that nothing is *interpreted*, and a
//! description reading `C:\temp` should stay readable.

use std::borrow::Cow;

/// `text` with every control character except `\n` and `\t` (and the `\r` of a `\r\n`
/// line end) shown escaped: C0 as `\xNN` (`\r` as `\r`), DEL as `\x7f`, C1 (U+0080 to
/// U+009F, which some terminals take as `ESC`-sequences) as `\u{NN}`.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// Like [`terminal_safe`] for one-line fields (names, descriptions, header values, a
/// table cell): line feeds and tabs are escaped too, so a value cannot forge a line.
pub fn terminal_safe_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

fn escape(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let needs = |i: usize, c: char| -> bool {
        match c {
            '\n' | '\t' => !keep_lines,
            '\r' => !(keep_lines && bytes.get(i + 1) == Some(&b'\n')),
            c => c.is_control(),
        }
    };
    if !text.char_indices().any(|(i, c)| needs(i, c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.char_indices() {
        if !needs(i, c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// The first control character in `text`, for refusing it at write time.
pub fn first_control(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for text in [
            "",
            "Stripe live key",
            "ünïcødé ✓ 秘密",
            "C:\\temp\\x1b literally",
        ] {
            assert!(matches!(terminal_safe(text), Cow::Borrowed(t) if t == text));
            assert!(matches!(terminal_safe_line(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn osc_52_clipboard_write_is_shown_not_sent() {
        let evil = "ok\x1b]52;c;Y3VybCBldmlsLmNvbQ==\x07done";
        let shown = terminal_safe(evil);
        assert_eq!(shown, "ok\\x1b]52;c;Y3VybCBldmlsLmNvbQ==\\x07done");
        assert!(!shown.contains('\x1b') && !shown.contains('\x07'));
    }

    #[test]
    fn every_c0_del_and_c1_character_is_escaped() {
        for code in (0u32..0x20).chain(0x7f..0xa0) {
            let c = char::from_u32(code).unwrap();
            let shown = terminal_safe_line(&format!("a{c}b")).into_owned();
            assert!(
                !shown.chars().any(char::is_control),
                "{code:#x} -> {shown:?}"
            );
            assert!(shown.starts_with("a\\") && shown.ends_with('b'), "{shown}");
        }
        assert_eq!(terminal_safe("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(terminal_safe("\x7f"), "\\x7f");
        assert_eq!(terminal_safe("\0"), "\\x00");
    }

    #[test]
    fn lines_and_tabs_survive_in_bodies_but_not_in_fields() {
        let body = "line 1\r\n\tline 2\nline 3";
        assert_eq!(terminal_safe(body), body);
        assert_eq!(terminal_safe_line(body), "line 1\\r\\n\\tline 2\\nline 3");
    }

    #[test]
    fn a_lone_carriage_return_cannot_overwrite_a_line() {
        assert_eq!(
            terminal_safe("warning: rotate me\rall good        "),
            "warning: rotate me\\rall good        "
        );
        assert_eq!(terminal_safe("end\r"), "end\\r");
    }

    #[test]
    fn escaping_is_idempotent() {
        let evil = "\x1b[2J\x1b]0;title\x07\u{85}\r\n\x08";
        let once = terminal_safe(evil).into_owned();
        assert_eq!(terminal_safe(&once), once);
        let once = terminal_safe_line(evil).into_owned();
        assert_eq!(terminal_safe_line(&once), once);
    }

    #[test]
    fn a_json_escape_is_text_not_a_control() {
        let body = r#"{"msg":"\u001b[31mred"}"#;
        assert_eq!(terminal_safe(body), body);
    }

    #[test]
    fn first_control_finds_the_offender() {
        assert_eq!(first_control("fine"), None);
        assert_eq!(first_control("a\x1b]52"), Some('\x1b'));
        assert_eq!(first_control("tab\there"), Some('\t'));
        assert_eq!(first_control("c1\u{9b}"), Some('\u{9b}'));
    }
}
