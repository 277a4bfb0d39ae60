//! One identity everywhere: the name, identifier, version and description the Cargo
//! workspace, `package.json` and `tauri.conf.json` give the app (the .deb takes its
//! fields from them; `tests/package/check.sh` reads them back from the package), the
//! icons the bundle lists, the desktop entry template and the shipped updater settings.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::Value;

const PRODUCT_NAME: &str = "Coffer";
const IDENTIFIER: &str = "dev.coffer.app";

fn shell_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn tauri_conf() -> Value {
    json(&shell_dir().join("tauri.conf.json"))
}

#[test]
fn name_identifier_version_and_description_agree_everywhere() {
    let conf = tauri_conf();
    let npm = json(&shell_dir().join("../package.json"));
    // The crate inherits both from [workspace.package].
    let version = env!("CARGO_PKG_VERSION");
    let description = env!("CARGO_PKG_DESCRIPTION");

    assert_eq!(conf["productName"], PRODUCT_NAME);
    assert_eq!(conf["identifier"], IDENTIFIER);
    assert_eq!(conf["version"], version, "tauri.conf.json version");
    assert_eq!(npm["version"], version, "package.json version");
    assert_eq!(conf["bundle"]["shortDescription"], description);
    assert_eq!(npm["description"], description, "package.json description");
    let long = conf["bundle"]["longDescription"].as_str().unwrap();
    assert!(long.starts_with(PRODUCT_NAME), "{long}");

    let workspace = std::fs::read_to_string(shell_dir().join("../Cargo.toml")).unwrap();
    assert!(
        workspace.contains(&format!("version = \"{version}\""))
            && workspace.contains(&format!("description = \"{description}\"")),
        "the workspace declares the version and description once"
    );
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is a PNG",
        path.display()
    );
    let n = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (n(16), n(20))
}

#[test]
fn every_bundled_icon_exists_at_the_size_its_name_says() {
    let conf = tauri_conf();
    let icons: Vec<&str> = conf["bundle"]["icon"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    for needed in [
        "32x32.png",
        "128x128.png",
        "128x128@2x.png",
        "icon.icns",
        "icon.ico",
    ] {
        assert!(
            icons.iter().any(|i| i.ends_with(&format!("/{needed}"))),
            "Tauri expects {needed}"
        );
    }
    for icon in icons {
        let path = shell_dir().join(icon);
        assert!(path.is_file(), "{icon} is missing: npm run icons");
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if let Some((w, rest)) = name.split_once('x') {
            let (h, scale) = match rest.split_once('@') {
                Some((h, s)) => (h, s.trim_end_matches('x').parse::<u32>().unwrap()),
                None => (rest, 1),
            };
            let expect = (
                w.parse::<u32>().unwrap() * scale,
                h.parse::<u32>().unwrap() * scale,
            );
            assert_eq!(png_size(&path), expect, "{icon}");
        } else if name == "icon" && icon.ends_with(".png") {
            assert_eq!(png_size(&path), (512, 512), "{icon}");
        }
    }
    let (w, h) = png_size(&shell_dir().join("../icons/source.png"));
    assert!(
        w == h && w >= 512,
        "the source icon is square, 512 px or more"
    );
}

#[test]
fn the_desktop_entry_puts_coffer_in_the_menu() {
    let conf = tauri_conf();
    let template = conf["bundle"]["linux"]["deb"]["desktopTemplate"]
        .as_str()
        .expect("a desktop template");
    let entry = std::fs::read_to_string(shell_dir().join(template)).unwrap();
    for line in [
        "[Desktop Entry]",
        "Type=Application",
        "Name={{name}}",
        "Comment={{comment}}",
        "Exec={{exec}}",
        "Icon={{icon}}",
        "Categories=Utility;Security;",
    ] {
        assert!(entry.lines().any(|l| l == line), "missing {line}");
    }
}

#[test]
fn the_shipped_updater_trusts_one_key_over_https_only() {
    let conf = tauri_conf();
    let updater = &conf["plugins"]["updater"];
    let b64 = base64::engine::general_purpose::STANDARD;
    let pubkey = String::from_utf8(b64.decode(updater["pubkey"].as_str().unwrap()).unwrap())
        .expect("the pubkey is base64 of a minisign public key file");
    assert!(pubkey.starts_with("untrusted comment: minisign public key"));
    let endpoints = updater["endpoints"].as_array().unwrap();
    assert!(!endpoints.is_empty());
    for e in endpoints {
        assert!(e.as_str().unwrap().starts_with("https://"), "{e}");
    }
    // The signature must name the version announced: no replay of an old release.
    assert_eq!(updater["requireSignedVersion"], true);
    // Plain http makes a release build panic at start; only tests may allow it.
    assert!(updater.get("dangerousInsecureTransportProtocol").is_none());
    // Updater artifacts need the private key: only `npm run package` asks for them.
    assert!(conf["bundle"].get("createUpdaterArtifacts").is_none());
}
