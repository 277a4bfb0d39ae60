//! The credential rules: `rules.json`, embedded in the binary, parsed and compiled once.
//!
//! The file is data the project owns: each provider is one entry (a regex, the keywords
//! that must appear for the regex to run, an entropy floor, an allow-list), so adding a
//! provider is an entry and a test, not code. One `aho-corasick` automaton over every
//! keyword picks the few rules worth running on a file; a file with no keyword costs one
//! pass of that automaton. The file's `assignment` and `url_password` sections hold the
//! vocabulary of the two detectors that are code: credential names assigned a
//! random-looking value, and passwords inside URLs.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use regex::Regex;
use serde::Deserialize;

use super::assign::{entropy, has_filler, is_token_byte, looks_random};
use super::FindingKind;

const RULES_JSON: &str = include_str!("rules.json");

/// The parsed file, before compiling.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(rename = "_comment")]
    _comment: Vec<String>,
    rules: Vec<RuleSpec>,
    assignment: Vocabulary,
    url_password: UrlPasswordSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    description: String,
    regex: String,
    keywords: Vec<String>,
    #[serde(default)]
    entropy: f64,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    looks_random: bool,
    #[serde(default = "yes")]
    prefix: bool,
}

fn yes() -> bool {
    true
}

/// What makes a name credential-like and a value a placeholder, for the assignment
/// detector. Lists are compared case-insensitively.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Vocabulary {
    pub id: String,
    pub description: String,
    /// Names holding one take human-chosen values: judged by length and shape.
    pub password_words: Vec<String>,
    /// Names holding one take random values: judged by entropy and shape.
    pub secret_words: Vec<String>,
    /// Matched against the name with `_ - .` removed; any match and it is no
    /// credential name (`primaryKey`, `csrf-token`, `public_key`).
    pub veto_words: Vec<String>,
    /// A name ending in one describes a credential rather than holding one.
    pub descriptive_segments: Vec<String>,
    pub non_values: Vec<String>,
    pub template_marks: Vec<String>,
    pub placeholder_prefixes: Vec<String>,
    /// Anywhere in a value (or a shaped token): it is a placeholder.
    pub filler: Vec<String>,
    /// `Authorization: Bearer …`: the scheme is not part of the credential.
    pub auth_schemes: Vec<String>,
    /// `var apiToken string = "…"`: a type word before `=` is not the name.
    pub type_words: Vec<String>,
    pub min_secret_len: usize,
    pub min_password_len: usize,
    pub entropy: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UrlPasswordSpec {
    pub id: String,
    pub description: String,
    /// A URL password equal to one of these is a placeholder.
    pub placeholder_words: Vec<String>,
}

/// One compiled rule.
pub(super) struct Rule {
    pub id: String,
    pub description: String,
    regex: Regex,
    /// Index of the `secret` group, if the regex names one.
    secret_group: Option<usize>,
    entropy: f64,
    allow: Vec<Regex>,
    looks_random: bool,
}

/// Every rule, compiled, with the keyword automaton and the assignment vocabulary.
pub(super) struct RuleSet {
    pub rules: Vec<Rule>,
    keywords: AhoCorasick,
    /// Per keyword pattern, the rules it switches on.
    keyword_rules: Vec<Vec<usize>>,
    pub vocabulary: Vocabulary,
    pub url_password: UrlPasswordSpec,
    /// Secret and password words, then veto words; the class of each pattern.
    pub name_words: AhoCorasick,
    pub name_word_class: Vec<NameWord>,
    /// Keywords of rules whose keywords start their tokens (lower case).
    prefixes: Vec<String>,
    /// The veto words, over a name with `_ - . ` removed.
    pub veto: AhoCorasick,
    /// The filler words, anywhere in a value.
    pub filler: AhoCorasick,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum NameWord {
    Password,
    Secret,
}

// The file is compiled in, so it either parses everywhere or nowhere: the unit tests
// parse it, and a build that cannot would fail them before it ships.
pub(super) static RULES: LazyLock<RuleSet> =
    LazyLock::new(|| RuleSet::parse(RULES_JSON).expect("rules.json is valid"));

impl RuleSet {
    fn parse(json: &str) -> Result<RuleSet, String> {
        let file: RuleFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut rules = Vec::with_capacity(file.rules.len());
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut prefixes = Vec::new();
        for (index, spec) in file.rules.into_iter().enumerate() {
            if spec.keywords.is_empty() {
                return Err(format!("rule {} has no keywords", spec.id));
            }
            let regex = Regex::new(&spec.regex).map_err(|e| format!("{}: {e}", spec.id))?;
            let secret_group = regex.capture_names().position(|n| n == Some("secret"));
            let allow = spec
                .allow
                .iter()
                .map(|a| Regex::new(a).map_err(|e| format!("{}: {e}", spec.id)))
                .collect::<Result<Vec<_>, _>>()?;
            for keyword in spec.keywords {
                let keyword = keyword.to_ascii_lowercase();
                if spec.prefix {
                    prefixes.push(keyword.clone());
                }
                match keywords.iter().position(|k| *k == keyword) {
                    Some(k) => keyword_rules[k].push(index),
                    None => {
                        keywords.push(keyword);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
            rules.push(Rule {
                id: spec.id,
                description: spec.description,
                regex,
                secret_group,
                entropy: spec.entropy,
                allow,
                looks_random: spec.looks_random,
            });
        }
        let keywords = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| e.to_string())?;
        let v = &file.assignment;
        let mut words: Vec<&str> = Vec::new();
        let mut name_word_class = Vec::new();
        for (list, class) in [
            (&v.password_words, NameWord::Password),
            (&v.secret_words, NameWord::Secret),
        ] {
            for w in list {
                words.push(w);
                name_word_class.push(class);
            }
        }
        let name_words = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(&words)
            .map_err(|e| e.to_string())?;
        let veto = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&v.veto_words)
            .map_err(|e| e.to_string())?;
        let filler = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&v.filler)
            .map_err(|e| e.to_string())?;
        Ok(RuleSet {
            veto,
            filler,
            rules,
            keywords,
            keyword_rules,
            vocabulary: file.assignment,
            url_password: file.url_password,
            name_words,
            name_word_class,
            prefixes,
        })
    }

    /// Whether `value` starts like a provider's token: then that provider's rule, not
    /// the generic assignment check, decides (`xoxb-12345-abcd234` is no Slack token,
    /// and no random value either).
    pub fn owned_by_a_rule(&self, value: &str) -> bool {
        self.prefixes.iter().any(|p| {
            value
                .as_bytes()
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()))
        })
    }

    pub fn kind(&'static self, rule: usize) -> FindingKind {
        let r = &self.rules[rule];
        FindingKind::new(&r.id, &r.description)
    }
}

/// A suspect token by byte range in the whole text.
pub(super) struct Hit {
    pub start: usize,
    pub end: usize,
    pub kind: FindingKind,
}

/// Every token in `text` that one of the rules finds, and, in `allowed`, the byte
/// ranges of tokens a rule recognised and let go (published examples, placeholders):
/// those are not credentials whatever name they are assigned to.
pub(super) fn shaped_tokens(text: &str, hits: &mut Vec<Hit>, allowed: &mut Vec<(usize, usize)>) {
    let set = &*RULES;
    let mut active = vec![false; set.rules.len()];
    let mut any = false;
    // Non-overlapping is enough: a keyword hidden inside another one's match
    // (`xoxb-` in `xoxe.xoxb-`) belongs to a token the other rule covers.
    for m in set.keywords.find_iter(text) {
        for &rule in &set.keyword_rules[m.pattern().as_usize()] {
            active[rule] = true;
            any = true;
        }
    }
    if !any {
        return;
    }
    let bytes = text.as_bytes();
    for (index, rule) in set.rules.iter().enumerate() {
        if !active[index] {
            continue;
        }
        // The capture engine only for rules naming a `secret` group: plain matches
        // come from the faster search.
        let matches: Box<dyn Iterator<Item = regex::Match<'_>>> = match rule.secret_group {
            Some(g) => Box::new(
                rule.regex
                    .captures_iter(text)
                    .filter_map(move |caps| caps.get(g)),
            ),
            None => Box::new(rule.regex.find_iter(text)),
        };
        for m in matches {
            let token = m.as_str();
            // Part of a longer word is not the credential it resembles.
            let joined = (m.start() > 0 && is_token_byte(bytes[m.start() - 1]) && {
                rule.secret_group.is_none()
            }) || bytes.get(m.end()).is_some_and(u8::is_ascii_alphanumeric);
            if joined {
                continue;
            }
            let weak = entropy(token) < rule.entropy
                || (rule.looks_random && !looks_random(token))
                || has_filler(token);
            if weak || rule.allow.iter().any(|a| a.is_match(token)) {
                allowed.push((m.start(), m.end()));
                continue;
            }
            hits.push(Hit {
                start: m.start(),
                end: m.end(),
                kind: set.kind(index),
            });
        }
    }
    // Two rules may find the same token (a Slack bot token is also a legacy one): keep
    // the first found at each place, in file order.
    hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
    let mut last_end = 0;
    hits.retain(|h| {
        let keep = h.start >= last_end;
        if keep {
            last_end = h.end;
        }
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_file_parses_and_every_rule_has_a_unique_id() {
        let set = &*RULES;
        assert!(set.rules.len() >= 30, "{}", set.rules.len());
        let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        ids.push(&set.vocabulary.id);
        ids.push(&set.url_password.id);
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule ids");
    }

    #[test]
    fn a_broken_rule_file_is_refused_with_the_rule_named() {
        let good: serde_json::Value = serde_json::from_str(RULES_JSON).unwrap();
        let mut bad = good.clone();
        bad["rules"][0]["regex"] = "(unclosed".into();
        let err = RuleSet::parse(&bad.to_string()).err().unwrap();
        assert!(err.starts_with("aws_access_key"), "{err}");
        let mut bad = good;
        bad["rules"][1]["keywords"] = serde_json::json!([]);
        assert!(RuleSet::parse(&bad.to_string()).is_err());
    }
}
