//! The update service against a local server: manifests and artifacts signed here with
//! throw-away minisign keys, in the form `tauri signer` writes (base64 of the whole
//! key or signature file). Nothing is ever installed.

use std::io::Cursor;

use base64::Engine;
use coffer_app::updates::{check_endpoint, download_verified, UpdateError, Updates};
use serde_json::json;
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime};
use tauri::Url;

use crate::server::Server;

const ARTIFACT: &[u8] = b"!<arch>\ndebian-binary   a stand-in for a signed .deb";

struct Key(minisign::KeyPair);

impl Key {
    fn new() -> Key {
        Key(minisign::KeyPair::generate_unencrypted_keypair().unwrap())
    }

    /// `plugins.updater.pubkey` as Tauri wants it.
    fn public(&self) -> String {
        b64(self.0.pk.to_box().unwrap().to_string())
    }

    /// The `signature` field of a manifest, as the Tauri bundler writes it: the trusted
    /// comment names the version the artifact was built as.
    fn sign(&self, data: &[u8], version: &str) -> String {
        self.sign_with_comment(
            data,
            &format!("timestamp:0\tfile:Coffer_{version}_amd64.deb\tversion:{version}"),
        )
    }

    fn sign_with_comment(&self, data: &[u8], comment: &str) -> String {
        let sig = minisign::sign(
            Some(&self.0.pk),
            &self.0.sk,
            Cursor::new(data),
            Some(comment),
            Some("signature from tauri secret key"),
        )
        .unwrap();
        b64(sig.to_string())
    }
}

fn b64(s: String) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// An app on the mock runtime, running this crate's version with the shipped updater
/// configuration, except that it trusts `key` and (only here: the local server has no
/// certificate) allows plain http.
fn app_trusting(key: &Key) -> tauri::App<MockRuntime> {
    let shipped: serde_json::Value =
        serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
    let mut updater = shipped["plugins"]["updater"].clone();
    updater["pubkey"] = json!(key.public());
    updater["endpoints"] = json!(["https://example.invalid/coffer/latest.json"]);
    updater["dangerousInsecureTransportProtocol"] = json!(true);
    let mut context = mock_context(noop_assets());
    context
        .config_mut()
        .plugins
        .0
        .insert("updater".into(), updater);
    context.package_info_mut().version = env!("CARGO_PKG_VERSION").parse().unwrap();
    mock_builder()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .build(context)
        .unwrap()
}

/// The error a check ends with; panics when the check succeeded.
fn refusal(app: &tauri::App<MockRuntime>, url: &str) -> UpdateError {
    match check(app, url) {
        Err(e) => e,
        Ok(offer) => panic!("{url} was accepted: {:?}", offer.map(|u| u.version)),
    }
}

/// A version above this crate's, whatever it is now.
fn newer() -> String {
    let mut parts = env!("CARGO_PKG_VERSION").split('.');
    let major = parts.next().unwrap();
    let minor: u64 = parts.next().unwrap().parse().unwrap();
    format!("{major}.{}.0", minor + 1)
}

fn target() -> String {
    format!("linux-{}", std::env::consts::ARCH)
}

fn manifest(version: &str, url: &str, signature: &str) -> Vec<u8> {
    let mut platforms = serde_json::Map::new();
    platforms.insert(target(), json!({ "url": url, "signature": signature }));
    serde_json::to_vec(&json!({
        "version": version,
        "notes": "Faster unlock.",
        "pub_date": "2026-03-01T12:00:00Z",
        "platforms": platforms
    }))
    .unwrap()
}

fn check(
    app: &tauri::App<MockRuntime>,
    url: &str,
) -> Result<Option<tauri_plugin_updater::Update>, UpdateError> {
    tauri::async_runtime::block_on(check_endpoint(app.handle(), Url::parse(url).unwrap()))
}

/// A server offering a newer version, signed by `signer`, with
/// `served` as the artifact actually downloaded.
fn offering(signer: &Key, served: &[u8]) -> Server {
    let server = Server::start();
    server.route("/coffer_amd64.deb", 200, served.to_vec());
    let body = manifest(
        &newer(),
        &server.url("/coffer_amd64.deb"),
        &signer.sign(ARTIFACT, &newer()),
    );
    server.route("/latest.json", 200, body);
    server
}

#[test]
fn a_newer_version_is_found_and_its_download_verified() {
    let key = Key::new();
    let app = app_trusting(&key);
    let server = offering(&key, ARTIFACT);

    let update = check(&app, &server.url("/latest.json"))
        .unwrap()
        .expect("a newer version is offered");
    assert_eq!(update.version, newer());
    assert_eq!(update.current_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(update.body.as_deref(), Some("Faster unlock."));

    let mut progress = Vec::new();
    let bytes = tauri::async_runtime::block_on(download_verified(&update, |done, total| {
        progress.push((done, total))
    }))
    .unwrap();
    assert_eq!(bytes, ARTIFACT);
    let last = *progress.last().expect("progress was reported");
    assert_eq!(last, (ARTIFACT.len() as u64, Some(ARTIFACT.len() as u64)));
}

#[test]
fn the_app_state_records_an_offer_from_the_endpoint_the_user_chose() {
    let key = Key::new();
    let app = app_trusting(&key);
    let server = offering(&key, ARTIFACT);
    let dir = tempfile::tempdir().unwrap();
    let updates = Updates::new(app.handle(), dir.path().join("updates.json"));
    assert_eq!(
        updates.endpoint(),
        "https://example.invalid/coffer/latest.json"
    );

    updates
        .set_preferences(&server.url("/latest.json"), false)
        .unwrap();
    let offer = tauri::async_runtime::block_on(updates.check())
        .unwrap()
        .expect("offered");
    assert_eq!(offer.version, newer());
    assert_eq!(offer.date.as_deref(), Some("2026-03-01T12:00:00Z"));
    let record = updates.last_check().unwrap();
    assert_eq!(record.outcome.unwrap().unwrap().version, newer());

    // The preference survives a restart.
    let again = Updates::new(app.handle(), dir.path().join("updates.json"));
    assert_eq!(again.endpoint(), server.url("/latest.json"));
    assert!(!again.preferences().check_at_start);
}

#[test]
fn a_tampered_artifact_is_refused_after_download() {
    let key = Key::new();
    let app = app_trusting(&key);
    let mut tampered = ARTIFACT.to_vec();
    tampered[20] ^= 1;
    let server = offering(&key, &tampered);

    let update = check(&app, &server.url("/latest.json")).unwrap().unwrap();
    let refused = tauri::async_runtime::block_on(download_verified(&update, |_, _| {}))
        .expect_err("a tampered artifact must not verify");
    assert!(
        matches!(refused, UpdateError::BadSignature { .. }),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "integrity");
    assert!(refused
        .to_string()
        .starts_with("the update was refused: its signature does not verify"));
}

#[test]
fn an_old_release_announced_as_a_new_one_is_refused() {
    let key = Key::new();
    let app = app_trusting(&key);
    let server = Server::start();
    server.route("/old.deb", 200, ARTIFACT.to_vec());
    // A genuine, validly signed 0.0.9 artifact replayed under a higher version number.
    let replay = manifest(
        &newer(),
        &server.url("/old.deb"),
        &key.sign(ARTIFACT, "0.0.9"),
    );
    server.route("/latest.json", 200, replay);

    let update = check(&app, &server.url("/latest.json")).unwrap().unwrap();
    let refused = tauri::async_runtime::block_on(download_verified(&update, |_, _| {}))
        .expect_err("the signed version differs from the announced one");
    assert_eq!(
        refused.to_string(),
        format!(
            "the update was refused: its signature does not verify (it was signed for version 0.0.9, not {})",
            newer()
        )
    );

    // `tauri signer sign` by hand writes no version: refused too (requireSignedVersion).
    let unversioned = key.sign_with_comment(ARTIFACT, "timestamp:0\tfile:Coffer.deb");
    server.route(
        "/unversioned.json",
        200,
        manifest(&newer(), &server.url("/old.deb"), &unversioned),
    );
    let update = check(&app, &server.url("/unversioned.json"))
        .unwrap()
        .unwrap();
    let refused = tauri::async_runtime::block_on(download_verified(&update, |_, _| {}))
        .expect_err("a signature must name its version");
    assert!(
        refused
            .to_string()
            .ends_with("(it does not name the version it was signed for)"),
        "{refused}"
    );
}

#[test]
fn a_release_signed_with_another_key_is_refused() {
    let trusted = Key::new();
    let stranger = Key::new();
    let app = app_trusting(&trusted);
    let server = offering(&stranger, ARTIFACT);

    let refused = refusal(&app, &server.url("/latest.json"));
    assert!(matches!(refused, UpdateError::UntrustedKey), "{refused:?}");
    assert_eq!(
        refused.to_string(),
        "the update was refused: it is signed with a key this app does not trust"
    );
}

#[test]
fn an_unreachable_endpoint_is_reported_in_one_line() {
    let key = Key::new();
    let app = app_trusting(&key);
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = refusal(&app, &format!("http://127.0.0.1:{port}/latest.json"));
    assert_eq!(refused.code(), "unavailable");
    assert_eq!(
        refused.to_string(),
        format!("could not check for updates: 127.0.0.1:{port} could not be reached")
    );

    let server = Server::start(); // answers 404 everywhere
    let missing = refusal(&app, &server.url("/latest.json"));
    assert_eq!(missing.code(), "unavailable");
    assert!(missing
        .to_string()
        .starts_with("could not check for updates:"));
}

#[test]
fn a_lower_or_equal_version_means_up_to_date() {
    let key = Key::new();
    let app = app_trusting(&key);
    let server = Server::start();
    let artifact = server.url("/old.deb");
    server.route(
        "/equal.json",
        200,
        manifest(
            env!("CARGO_PKG_VERSION"),
            &artifact,
            &key.sign(ARTIFACT, env!("CARGO_PKG_VERSION")),
        ),
    );
    server.route(
        "/lower.json",
        200,
        manifest("0.0.9", &artifact, &key.sign(ARTIFACT, "0.0.9")),
    );
    assert!(check(&app, &server.url("/equal.json")).unwrap().is_none());
    assert!(check(&app, &server.url("/lower.json")).unwrap().is_none());
}

#[test]
fn malformed_manifests_are_refused_with_a_reason() {
    let key = Key::new();
    let app = app_trusting(&key);
    let server = Server::start();
    let url = server.url("/a.deb");
    let cases: Vec<(&str, Vec<u8>, &str)> =
        vec![
        ("/html.json", b"<html>maintenance</html>".to_vec(), "not JSON"),
        (
            "/no-version.json",
            serde_json::to_vec(&json!({ "url": url, "signature": key.sign(ARTIFACT, &newer()) })).unwrap(),
            "missing field `version`",
        ),
        (
            "/bad-version.json",
            manifest("soon", &url, &key.sign(ARTIFACT, &newer())),
            "parsing major version number",
        ),
        (
            "/other-platform.json",
            serde_json::to_vec(&json!({
                "version": newer(),
                "platforms": { "windows-x86_64": { "url": url, "signature": key.sign(ARTIFACT, &newer()) } }
            }))
            .unwrap(),
            "no build for this computer",
        ),
        (
            "/bad-signature.json",
            manifest(&newer(), &url, "bm90IGEgc2lnbmF0dXJl"),
            "not a minisign signature",
        ),
    ];
    for (path, body, expected) in cases {
        server.route(path, 200, body);
        let refused = refusal(&app, &server.url(path));
        assert_eq!(
            refused.code(),
            if path == "/bad-signature.json" {
                "integrity"
            } else {
                "invalid"
            },
            "{path}: {refused}"
        );
        assert!(refused.to_string().contains(expected), "{path}: {refused}");
        assert!(!refused.to_string().contains('\n'), "{path}: one line");
    }
}
