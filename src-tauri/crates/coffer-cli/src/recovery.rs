//! The recovery key on the command line: shown once (at `init` and `recovery-key
//! rotate`) with three of its words asked back on a terminal, and `coffer recover`.

use std::io::IsTerminal;

use coffer_core::recovery::RecoveryKey;
use coffer_core::value::Passphrase;
use coffer_core::{Error, Result, Vault};
use zeroize::Zeroizing;

use crate::agent;
use crate::commands::Ctx;
use crate::credentials;
use crate::output::err_line;

/// The 24 words in four numbered columns, read down.
fn layout(words: &[&str]) -> Vec<String> {
    let rows = words.len().div_ceil(4);
    (0..rows)
        .map(|r| {
            (0..4)
                .filter_map(|c| {
                    let i = c * rows + r;
                    words.get(i).map(|w| format!("{:>4} {:<10}", i + 1, w))
                })
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

/// Shows the key once on stderr (the terminal, not a pipe's log) and, when a person is
/// there, asks three of its words back before going on.
pub(crate) fn show_once(key: &RecoveryKey) -> Result<()> {
    let words = key.words();
    err_line("");
    err_line("Your recovery key (shown only now: write it down or print it, and keep it away from this computer):");
    err_line("");
    for line in layout(&words) {
        err_line(line);
    }
    err_line("");
    err_line("If you forget your passphrase, `coffer recover` sets a new one with these words.");
    err_line("Anyone who holds them and a copy of the vault can open your keys.");
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(());
    }
    let mut random = [0u8; 3];
    getrandom::getrandom(&mut random).map_err(|e| Error::Io(e.to_string()))?;
    err_line("");
    err_line("To be sure you have it, type three of the words back.");
    ask_back(&words, picks(random), &mut |label| {
        rpassword::prompt_password(label)
            .map(Zeroizing::new)
            .map_err(|e| Error::Io(e.to_string()))
    })?;
    err_line("Thank you. Keep the words safe.");
    Ok(())
}

/// Three different words to ask back, one from each third of the key.
fn picks(random: [u8; 3]) -> [usize; 3] {
    [0, 1, 2].map(|k| k * 8 + random[k] as usize % 8)
}

/// Asks each picked word until it is typed right (any case, spaces around ignored).
fn ask_back(
    words: &[&str],
    picks: [usize; 3],
    read: &mut dyn FnMut(&str) -> Result<Zeroizing<String>>,
) -> Result<()> {
    for i in picks {
        loop {
            let typed = read(&format!("Word {}: ", i + 1))?;
            if typed.trim().eq_ignore_ascii_case(words[i]) {
                break;
            }
            err_line(format!(
                "That is not word {}; look at your copy again.",
                i + 1
            ));
        }
    }
    Ok(())
}

/// `coffer recover`: the recovery key, then a new passphrase.
pub(crate) fn recover(ctx: &Ctx) -> Result<u8> {
    let member = credentials::member(ctx.member.as_deref())?;
    let typed = match std::env::var("COFFER_RECOVERY_KEY")
        .ok()
        .filter(|k| !k.is_empty())
    {
        Some(k) => Zeroizing::new(k),
        None => Zeroizing::new(
            rpassword::prompt_password(format!("Recovery key for {member} (24 words): ")).map_err(
                |_| {
                    Error::Auth(
                        "give the recovery key in COFFER_RECOVERY_KEY, or run in a terminal".into(),
                    )
                },
            )?,
        ),
    };
    let key = RecoveryKey::parse(&typed)?;
    let new: Passphrase = credentials::new_passphrase(&member, None)?;
    // An agent still serving the old session ends: the member starts afresh.
    agent::lock(&ctx.vault, &member)?;
    Vault::open(&ctx.vault)?.recover(&member, &key, &new)?;
    ctx.say(format!(
        "set a new passphrase for {member}; your recovery key still works (if someone may have seen it, `coffer recovery-key rotate` replaces it)"
    ));
    Ok(0)
}

/// `coffer recovery-key rotate`: a new key, shown once; needs the passphrase now.
pub(crate) fn rotate(ctx: &Ctx) -> Result<u8> {
    let member = credentials::member(ctx.member.as_deref())?;
    // Never an agent's session: a recovery key outlives it.
    let mut s = credentials::unlock(&ctx.vault, &member)?;
    let key = match s.rotate_recovery_key() {
        Err(Error::Auth(_)) => {
            // Unlocked by the device keyring: the passphrase was not given.
            let p = credentials::passphrase(&format!("Passphrase for {member}: "))?;
            s.confirm_passphrase(&p)?;
            s.rotate_recovery_key()?
        }
        other => other?,
    };
    if ctx.json {
        crate::output::json(&serde_json::json!({ "recovery_key": key.words().join(" ") }));
        return Ok(0);
    }
    ctx.say(format!(
        "made a new recovery key for {member}; the old one opens nothing from now on"
    ));
    show_once(&key)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_words_from_each_third_are_asked_until_typed_right() {
        for r in [[0, 0, 0], [7, 255, 13], [200, 8, 99]] {
            let p = picks(r);
            assert!(
                p[0] < 8 && (8..16).contains(&p[1]) && (16..24).contains(&p[2]),
                "{p:?}"
            );
        }
        let words: Vec<String> = (1..=24).map(|i| format!("word{i}")).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let mut answers = vec!["wrong", " WORD2 ", "word10", "word17", "word18"].into_iter();
        let mut asked = Vec::new();
        ask_back(&refs, [1, 9, 17], &mut |label| {
            asked.push(label.to_string());
            Ok(Zeroizing::new(answers.next().unwrap().to_string()))
        })
        .unwrap();
        // Word 2 asked twice (a wrong answer first), word 18 once after word 10's.
        assert_eq!(
            asked,
            [
                "Word 2: ",
                "Word 2: ",
                "Word 10: ",
                "Word 18: ",
                "Word 18: "
            ]
        );
    }

    #[test]
    fn the_words_are_laid_out_in_numbered_columns_read_down() {
        let words: Vec<String> = (1..=24).map(|i| format!("w{i}")).collect();
        let refs: Vec<&str> = words.iter().map(String::as_str).collect();
        let lines = super::layout(&refs);
        assert_eq!(lines.len(), 6);
        assert!(lines[0].starts_with("   1 w1"), "{}", lines[0]);
        assert!(lines[0].contains("   7 w7") && lines[0].ends_with("19 w19"));
        assert!(lines[5].ends_with("24 w24"));
    }
}
