//! The masker against the cases public CI maskers test (GitLab Runner's trace masker,
//! Azure Pipelines' secret masker, the GitHub Actions runner's value encoders),
//! restated in Coffer's terms — every overlapping or adjacent run is one `********` —
//! and against a naive whole-input reference under random values, outputs and write
//! boundaries (set `COFFER_MASKING_CASES` to run more than the 10,000 of CI).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use coffer_core::masking::{forms, Masker, MASK};
use coffer_core::value::SecretValue;
use proptest::prelude::*;
use proptest::sample::Index;
use rand::{Rng, SeedableRng};

fn values(list: &[&str]) -> Vec<SecretValue> {
    list.iter()
        .map(|s| SecretValue::from_string((*s).to_string()).unwrap())
        .collect()
}

/// Masks `input` written in the pieces between its `|` characters.
fn mask_pieces(secrets: &[&str], input: &str) -> String {
    let values = values(secrets);
    let masker = Masker::new(values.iter());
    let mut stream = masker.stream();
    let mut out = Vec::new();
    for piece in input.split('|') {
        stream.push(piece.as_bytes(), &mut out);
    }
    stream.finish(&mut out);
    String::from_utf8(out).unwrap()
}

fn m(text: &str) -> String {
    text.replace('#', std::str::from_utf8(MASK).unwrap())
}

// ---- GitLab Runner's trace masker: values split across writes ----

#[test]
fn gitlab_values_split_across_writes() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["secrets"], "secrets", "#"),
        (&["secrets"], "secret|s", "#"),
        (&["secrets"], "s|ecrets", "#"),
        // GitLab writes two masks; adjacent matches are one run here.
        (&["secrets"], "secretssecrets", "#"),
        (&["secrets"], "ssecrets", "s#"),
        (&["secrets"], "s|secrets", "s#"),
        (
            &["at"],
            "at the start of the buffer",
            "# the start of the buffer",
        ),
        (
            &["middle"],
            "in the middle of the buffer",
            "in the # of the buffer",
        ),
        (
            &["buffer"],
            "at the end of the buffer",
            "at the end of the #",
        ),
        (
            &["all", "values", "are", "masked"],
            "all values are masked",
            "# # # #",
        ),
        (
            &["foo", "bar"],
            "prefixed and suffixed: xfoox ybary ffoo barr ffooo bbarr",
            "prefixed and suffixed: x#x y#y f# #r f#o b#r",
        ),
        (
            &["foo", "bar"],
            "prefix|ed, su|ffi|xed |and split|:| xfo|ox y|bary ffo|o ba|rr ffooo b|barr",
            "prefixed, suffixed and split: x#x y#y f# #r f#o b#r",
        ),
        (
            &["split", "all", "values", "are", "masked"],
            "sp|lit al|l val|ues ar|e |mask|ed",
            "# # # # #",
        ),
        (
            &["mask", "prefix_mask"],
            "prefix_mask mask prefix_|mask prefix_ma|sk mas|k",
            "# # # # #",
        ),
        (
            &["this is the end", "en foobar", "en"],
            "overlap: this is the en| foobar",
            "overlap: this is the #",
        ),
    ];
    for (secrets, input, want) in cases {
        assert_eq!(
            mask_pieces(secrets, input),
            m(want),
            "{secrets:?} in {input:?}"
        );
    }
}

#[test]
fn gitlab_a_large_value_split_in_two() {
    let value = "_".repeat(16_000);
    let input = format!("large secret: {}|{}", &value[..8000], &value[8000..]);
    assert_eq!(mask_pieces(&[&value], &input), m("large secret: #"));
}

// ---- Azure Pipelines' secret masker: overlapping, adjacent, repeated ----

#[test]
fn azure_overlapping_adjacent_and_repeated_values() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["def", "bcd"], "abcdefg", "a#g"),
        (&["bcd", "efg"], "abcdefgh", "a#h"),
        (&["abc"], "abcqabc", "#q#"),
        (&["abc"], "abcabcdef", "#def"),
        (&["abc", "ghi"], "abcdefghijklm", "#def#jklm"),
        (&["abcd"], "", ""),
        (&["abcd", "abcd"], "xabcdx", "x#x"),
        (&["abc", "abcdefgh"], "value=abcdefgh", "value=#"),
        (&["xyz", "789xyz"], "value 789xyz here", "value # here"),
        (
            &["mid", "prefmidsuf"],
            "value prefmidsuf here",
            "value # here",
        ),
        (&["aaaa", "aa"], "value=aaaaa", "value=#"),
    ];
    for (secrets, input, want) in cases {
        assert_eq!(
            mask_pieces(secrets, input),
            m(want),
            "{secrets:?} in {input:?}"
        );
        // The same at every single split point.
        for cut in 0..=input.len() {
            let split = format!("{}|{}", &input[..cut], &input[cut..]);
            assert_eq!(
                mask_pieces(secrets, &split),
                m(want),
                "{secrets:?} in {split:?}"
            );
        }
    }
}

// ---- The GitHub Actions runner's value encoders ----

#[test]
fn github_base64_at_every_offset_inside_a_longer_encoding() {
    let value = "mypassword-4eC39HqLyjWD";
    for prefix in ["", "u", "us", "user:", "user:x", "a-longer-user-name:"] {
        for suffix in ["", "\n", "@host", "x"] {
            let whole = format!("{prefix}{value}{suffix}");
            for encoded in [STANDARD.encode(&whole), STANDARD_NO_PAD.encode(&whole)] {
                let out = mask_pieces(&[value], &format!("Authorization: Basic {encoded}"));
                // The characters before the value (and the one it shares with the
                // prefix) stay; everything that depends only on the value is masked.
                let kept = (8 * prefix.len()).div_ceil(6);
                let expected_head = format!("Authorization: Basic {}", &encoded[..kept]);
                assert!(
                    out.starts_with(&expected_head)
                        && out[expected_head.len()..].starts_with(&m("#")),
                    "{prefix:?}+value+{suffix:?}: {out}"
                );
                let value_end = 8 * (prefix.len() + value.len()) / 6;
                let tail = &out[expected_head.len() + MASK.len()..];
                assert!(
                    tail.len() <= encoded.len() - value_end,
                    "{prefix:?}+value+{suffix:?}: value bits after the mask: {out}"
                );
            }
        }
    }
}

#[test]
fn github_json_uri_and_hex_encodings() {
    let value = "p@ss w/\"quotes\" & \\slashes\\ é😀";
    let json = serde_json::to_string(value).unwrap();
    assert_eq!(
        mask_pieces(&[value], &format!("{{\"k\":{json}}}")),
        m("{\"k\":\"#\"}")
    );
    let python = "p@ss w/\\\"quotes\\\" & \\\\slashes\\\\ \\u00e9\\ud83d\\ude00";
    assert_eq!(mask_pieces(&[value], &format!("\"{python}\"")), m("\"#\""));
    let uri = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    assert_eq!(
        mask_pieces(&[value], &format!("?q={uri}&x=1")),
        m("?q=#&x=1")
    );
    let form = uri.replace("%20", "+").to_lowercase();
    assert_eq!(
        mask_pieces(&[value], &format!("?q={form}&x=1")),
        m("?q=#&x=1")
    );
    let hex = hex::encode(value);
    assert_eq!(mask_pieces(&[value], &format!("[{hex}]")), m("[#]"));
    assert_eq!(
        mask_pieces(&[value], &format!("[{}]", hex.to_uppercase())),
        m("[#]")
    );
}

#[test]
fn a_multiline_key_is_masked_when_printed_a_few_lines_at_a_time() {
    let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nVJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZH\ntCSuTwb+f7Tu4TCXgY3NsNJb0jArT/3w8IEsQX8ZzQb3gM9cb1fO1v2nZ1NB7E3+3KQH\n-----END PRIVATE KEY-----\n";
    let head3: String = key.lines().take(3).map(|l| format!("{l}\n")).collect();
    let out = mask_pieces(&[key], &head3);
    assert_eq!(out, m("-----BEGIN PRIVATE KEY-----\n#\n#\n"));
    // Through a terminal every line ends in \r\n.
    let crlf = head3.replace('\n', "\r\n");
    assert_eq!(
        mask_pieces(&[key], &crlf),
        m("-----BEGIN PRIVATE KEY-----\r\n#\r\n#\r\n")
    );
}

#[test]
fn multibyte_values_split_inside_a_character() {
    let value = "pässwörd-日本語-😀";
    let text = format!("<{value}>");
    for cut in 0..=text.len() {
        let (a, b) = text.as_bytes().split_at(cut);
        let masker = Masker::new(values(&[value]).iter());
        let mut s = masker.stream();
        let mut out = Vec::new();
        s.push(a, &mut out);
        s.push(b, &mut out);
        s.finish(&mut out);
        assert_eq!(out, m("<#>").as_bytes(), "cut at byte {cut}");
    }
}

// ---- The differential test ----

/// The definition the stream must meet: every occurrence of every pattern, their
/// union replaced run by run. Quadratic and obviously right.
fn coverage(patterns: &[Vec<u8>], data: &[u8], starts_before: usize) -> Vec<bool> {
    let mut covered = vec![false; data.len()];
    for p in patterns {
        for i in 0..starts_before.min((data.len() + 1).saturating_sub(p.len())) {
            if data[i..].starts_with(p) {
                covered[i..i + p.len()].fill(true);
            }
        }
    }
    covered
}

fn reference(patterns: &[Vec<u8>], data: &[u8], upto: usize) -> Vec<u8> {
    let covered = coverage(patterns, data, upto);
    let mut out = Vec::new();
    let mut i = 0;
    while i < upto {
        if covered[i] {
            out.extend_from_slice(MASK);
            while i < data.len() && covered[i] {
                i += 1;
            }
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

/// The earliest position from which the rest could still become a match.
fn undecided_from(patterns: &[Vec<u8>], data: &[u8]) -> usize {
    (0..data.len())
        .find(|&q| {
            patterns
                .iter()
                .any(|p| p.len() > data.len() - q && p.starts_with(&data[q..]))
        })
        .unwrap_or(data.len())
}

fn patterns_of(values: &[SecretValue]) -> Vec<Vec<u8>> {
    values
        .iter()
        .flat_map(|v| forms(v.expose()))
        .map(|f| f.to_vec())
        .collect()
}

/// Streams `data` cut at `cuts`; after every write (if `every_write`) the output must
/// be exactly the reference's for what is decided, and at the end the reference's for
/// everything.
fn check_stream(
    values: &[SecretValue],
    data: &[u8],
    cuts: &[usize],
    every_write: bool,
) -> Result<(), String> {
    let patterns = patterns_of(values);
    let masker = Masker::new(values.iter());
    let mut stream = masker.stream();
    let mut out = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain(std::iter::once(&data.len())) {
        let cut = cut.clamp(at, data.len());
        stream.push(&data[at..cut], &mut out);
        at = cut;
        if !every_write {
            continue;
        }
        let seen = &data[..at];
        let want = reference(&patterns, seen, undecided_from(&patterns, seen));
        if out != want {
            return Err(format!(
                "after writing {at} bytes:\n got {:?}\nwant {:?}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&want)
            ));
        }
    }
    stream.finish(&mut out);
    let want = reference(&patterns, data, data.len());
    if out != want {
        return Err(format!(
            "at the end:\n got {:?}\nwant {:?}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&want)
        ));
    }
    Ok(())
}

const ALPHABETS: [&[&str]; 4] = [
    &["a", "b"],
    &["a", "b", "c", "=", "+", "/", "_", "-"],
    &[
        "A", "Q", "g", "w", "0", "9", "+", "/", "=", "x", "Y", "W", "F", "h", "Z", "G",
    ],
    &[
        "a", "é", "😀", "\"", "\\", "\n", " ", "%", "<", "\u{1}", "z",
    ],
];

fn text(alphabet: &[&str], letters: &[usize]) -> String {
    letters
        .iter()
        .map(|&i| alphabet[i % alphabet.len()])
        .collect()
}

/// A piece of output: noise, a form of a value, a part of one, or a value inside
/// a base64 text.
type Piece = (u8, Index, Index, Vec<usize>, Vec<usize>);

fn build(alphabet: &[&str], values: &[String], pieces: &[Piece]) -> Vec<u8> {
    let mut data = Vec::new();
    for (kind, which, part, before, after) in pieces {
        let value = which.get(values);
        let all = forms(value);
        let form = part.get(&all);
        match kind % 4 {
            0 => data.extend_from_slice(text(alphabet, before).as_bytes()),
            1 => data.extend_from_slice(form),
            2 => {
                let cut = part.index(form.len() + 1);
                data.extend_from_slice(&form[..cut]);
                data.extend_from_slice(text(alphabet, after).as_bytes());
            }
            _ => {
                let inner = format!("{}{value}{}", text(alphabet, before), text(alphabet, after));
                data.extend_from_slice(STANDARD.encode(inner).as_bytes());
            }
        }
    }
    data
}

fn cases() -> u32 {
    std::env::var("COFFER_MASKING_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        // A failure is printed with its minimal case; no files are left behind.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_stream_equals_the_whole_input_reference(
        alpha in 0..ALPHABETS.len(),
        raw_values in prop::collection::vec(prop::collection::vec(0usize..64, 1..20), 1..5),
        pieces in prop::collection::vec(
            (0u8..4, any::<Index>(), any::<Index>(),
             prop::collection::vec(0usize..64, 0..8), prop::collection::vec(0usize..64, 0..3)),
            0..10),
        cuts in prop::collection::vec(any::<Index>(), 0..8),
    ) {
        let alphabet = ALPHABETS[alpha];
        let strings: Vec<String> = raw_values.iter().map(|v| text(alphabet, v)).collect();
        let data = build(alphabet, &strings, &pieces);
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        let values: Vec<SecretValue> = strings
            .iter()
            .map(|s| SecretValue::from_string(s.clone()).unwrap())
            .collect();
        if let Err(e) = check_stream(&values, &data, &cuts, true) {
            return Err(TestCaseError::fail(format!("values {strings:?}: {e}")));
        }
    }
}

#[test]
fn long_values_in_long_outputs_under_random_writes() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(10);
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\n";
    for round in 0..25 {
        let count = rng.gen_range(1..6);
        let strings: Vec<String> = (0..count)
            .map(|_| {
                let len = rng.gen_range(8..3000);
                (0..len)
                    .map(|_| b64[rng.gen_range(0..b64.len())] as char)
                    .collect()
            })
            .collect();
        let values: Vec<SecretValue> = strings
            .iter()
            .map(|s| SecretValue::from_string(s.clone()).unwrap())
            .collect();
        let mut data = Vec::new();
        while data.len() < 30_000 {
            match rng.gen_range(0..4) {
                0 => data
                    .extend((0..rng.gen_range(0..500)).map(|_| b64[rng.gen_range(0..b64.len())])),
                1 => data.extend_from_slice(strings[rng.gen_range(0..count)].as_bytes()),
                2 => {
                    let s = &strings[rng.gen_range(0..count)];
                    let f = forms(s);
                    let f = &f[rng.gen_range(0..f.len())];
                    data.extend_from_slice(&f[..rng.gen_range(0..=f.len())]);
                }
                _ => {
                    let s = &strings[rng.gen_range(0..count)];
                    data.extend_from_slice(STANDARD.encode(format!("k:{s}")).as_bytes());
                }
            }
        }
        let mut cuts: Vec<usize> = (0..rng.gen_range(0..200))
            .map(|_| rng.gen_range(0..=data.len()))
            .collect();
        cuts.sort_unstable();
        check_stream(&values, &data, &cuts, false).unwrap_or_else(|e| panic!("round {round}: {e}"));
    }
}
