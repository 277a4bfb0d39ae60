//! The test request end to end: the secret arrives where it was placed, the printed
//! response is masked and terminal-safe even when the server echoes it, failures are
//! one clear line, and a secret goes only to the hosts its writers allowed (members
//! who may reveal: anywhere), audited before it is sent.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use super::support::{random_token, Vault};

/// A one-shot HTTP server on 127.0.0.1 that sends back what `answer` makes of the
/// request's head; the head is also handed to the test.
fn serve_once(answer: fn(&str) -> String) -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        let body = answer(&head);
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tx.send(head);
    });
    (port, rx)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn the_header_arrives_and_the_echoed_response_is_masked() {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("payments-api-key", &value, &[]);
    let (port, got) = serve_once(|head| {
        let auth = header(head, "authorization").unwrap_or("").to_string();
        format!("you sent {auth}\n")
    });
    let url = format!("http://127.0.0.1:{port}/v1/me");
    let run = vault
        .run(&[
            "request",
            "GET",
            &url,
            "-H",
            "Authorization: Bearer {{ secrets.payments-api-key }}",
        ])
        .ok();
    let head = got.recv().unwrap();
    assert_eq!(
        header(&head, "authorization"),
        Some(format!("Bearer {value}").as_str())
    );
    assert!(run.stdout.starts_with("HTTP 200 OK"), "{}", run.describe());
    assert!(
        run.stdout.contains("you sent Bearer ********"),
        "{}",
        run.describe()
    );
    assert!(!run.stdout.contains(&value) && !run.stderr.contains(&value));
    let audit = vault
        .run(&["audit", "--json", "--action", "secret.use"])
        .ok()
        .json();
    assert_eq!(audit[0]["detail"]["via"], "request");
}

#[test]
fn query_and_basic_auth_placements_and_who_may_send() {
    let vault = Vault::new();
    let value = random_token("pw_");
    // A developer may not reveal: the secret must allow the server's host.
    vault.set("pw", &value, &["--allow-host", "127.0.0.1"]);
    let (port, got) = serve_once(|head| head.lines().next().unwrap_or("").to_string());
    let url = format!("http://127.0.0.1:{port}/q");
    let dev = vault.add_member("dora", "developer");
    let run = vault
        .cli()
        .acting_as(&dev)
        .run(&[
            "request",
            "GET",
            &url,
            "--query",
            "key={{ secrets.pw }}",
            "-u",
            "bot:{{ secrets.pw }}",
        ])
        .ok();
    let head = got.recv().unwrap();
    assert!(head.starts_with(&format!("GET /q?key={value} ")), "{head}");
    let basic = header(&head, "authorization").unwrap();
    let expected = std::process::Command::new("sh")
        .args(["-c", "printf 'bot:%s' \"$0\" | base64 -w0", &value])
        .output()
        .unwrap();
    assert_eq!(
        basic,
        format!("Basic {}", String::from_utf8_lossy(&expected.stdout))
    );
    assert!(!run.stdout.contains(&value), "{}", run.describe());
    let auditor = vault.add_member("audrey", "auditor");
    vault
        .cli()
        .acting_as(&auditor)
        .run(&["request", "GET", &url, "-H", "X: {{ secrets.pw }}"])
        .refused(4);
}

#[test]
fn an_unreachable_server_and_bad_input_are_one_line_each() {
    let vault = Vault::new();
    let value = random_token("v_");
    vault.set("k", &value, &[]);
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let run = vault.run(&["request", "GET", &url, "-H", "X: {{ secrets.k }}"]);
    assert_ne!(run.code(), Some(0));
    assert!(run.stderr.contains("could not reach"), "{}", run.describe());
    assert!(!run.stderr.contains(&value));
    vault
        .run(&[
            "request",
            "GET",
            "ftp://127.0.0.1/",
            "-H",
            "X: {{ secrets.k }}",
        ])
        .refused(2);
    vault
        .run(&["request", "GET", &url, "-H", "X: {{ secrets.missing }}"])
        .refused(3);
}

/// A server that must never be reached: fails the test if anyone connects.
fn must_not_be_reached() -> (u16, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || loop {
        if listener.accept().is_ok() {
            let _ = tx.send(());
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    });
    (port, rx)
}

#[test]
fn a_developer_sends_only_to_allowed_hosts_and_a_refusal_is_audited() {
    let vault = Vault::new();
    let value = random_token("sk_live_");
    vault.set("stripe", &value, &["--allow-host", "api.stripe.com"]);
    let dev = vault.add_member("dora", "developer");
    let (port, reached) = must_not_be_reached();
    let url = format!("http://127.0.0.1:{port}/v1?q={{{{ secrets.stripe }}}}");
    let run = vault
        .cli()
        .acting_as(&dev)
        .run(&[
            "request",
            "GET",
            &url,
            "-H",
            "Authorization: Bearer {{ secrets.stripe }}",
        ])
        .refused(4);
    let message = run.message();
    assert!(
        message.contains("'stripe'") && message.contains("127.0.0.1"),
        "{message}"
    );
    assert!(
        message.contains("coffer set stripe --allow-host 127.0.0.1"),
        "says how to allow it: {message}"
    );
    assert!(
        !message.contains("/v1") && !message.contains(&value),
        "{message}"
    );
    assert!(
        reached.try_recv().is_err(),
        "a refused request reached the server"
    );

    // Userinfo cannot make an allowed host out of another one.
    vault
        .cli()
        .acting_as(&dev)
        .run(&[
            "request",
            "GET",
            "https://api.stripe.com@127.0.0.1/",
            "-H",
            "X: {{ secrets.stripe }}",
        ])
        .refused(2);
    // Plain http beyond loopback is refused for everyone, owner included.
    vault
        .run(&[
            "request",
            "GET",
            "http://api.stripe.com/",
            "-H",
            "X: {{ secrets.stripe }}",
        ])
        .refused(2);

    let audit = vault
        .run(&["audit", "--json", "--action", "secret.use"])
        .ok()
        .json();
    let denied = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["outcome"] == "denied")
        .expect("the refusal is in the trail");
    assert_eq!(denied["actor"], "dora");
    assert_eq!(denied["secret"], "stripe");
    assert_eq!(denied["detail"]["host"], "127.0.0.1");
    assert_eq!(denied["detail"]["missing"], "allowed host");
    let trail = vault.run(&["audit", "--json"]).ok().stdout;
    assert!(!trail.contains(&value) && !trail.contains("/v1"), "{trail}");
}

#[test]
fn allowing_the_host_lets_the_developer_send_and_the_use_is_audited_first() {
    let vault = Vault::new();
    let value = random_token("tok_");
    vault.set("tok", &value, &[]);
    let dev = vault.add_member("dora", "developer");
    // Only the list changes: no value is given, and the version stays 1.
    let changed = vault
        .run(&[
            "set",
            "tok",
            "--allow-host",
            "*.example.com",
            "--allow-host",
            "127.0.0.1",
        ])
        .ok();
    assert!(
        changed.stdout.contains("*.example.com, 127.0.0.1"),
        "{}",
        changed.describe()
    );
    let show = vault.run(&["show", "tok"]).ok();
    assert!(
        show.stdout
            .contains("allowed hosts: *.example.com, 127.0.0.1"),
        "{}",
        show.describe()
    );
    let json = vault.run(&["show", "tok", "--json"]).ok().json();
    assert_eq!(
        json["allowed_hosts"],
        serde_json::json!(["*.example.com", "127.0.0.1"])
    );
    assert_eq!(json["versions"].as_array().unwrap().len(), 1);

    let (port, got) = serve_once(|_| "ok\n".to_string());
    let url = format!("http://127.0.0.1:{port}/");
    vault
        .cli()
        .acting_as(&dev)
        .run(&["request", "GET", &url, "-H", "X-Key: {{ secrets.tok }}"])
        .ok();
    assert_eq!(header(&got.recv().unwrap(), "x-key"), Some(value.as_str()));

    // A server that cannot be reached: the use is in the trail all the same.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = vault.cli().acting_as(&dev).run(&[
        "request",
        "GET",
        &format!("http://127.0.0.1:{closed}/"),
        "-H",
        "X: {{ secrets.tok }}",
    ]);
    assert!(run.stderr.contains("could not reach"), "{}", run.describe());
    let uses = vault
        .run(&[
            "audit",
            "--json",
            "--action",
            "secret.use",
            "--actor",
            "dora",
        ])
        .ok()
        .json();
    assert_eq!(uses.as_array().unwrap().len(), 2, "{uses}");
    assert!(
        uses.as_array()
            .unwrap()
            .iter()
            .any(|e| e["detail"]["host"] == "127.0.0.1" && e["detail"]["port"] == closed),
        "the use names where the request went: {uses}"
    );

    // The change of the list is audited with the hosts; clearing it refuses again.
    let hosts = vault
        .run(&["audit", "--json", "--action", "secret.hosts"])
        .ok()
        .json();
    assert_eq!(
        hosts[0]["detail"]["allowed_hosts"],
        serde_json::json!(["*.example.com", "127.0.0.1"])
    );
    vault.run(&["set", "tok", "--no-allowed-hosts"]).ok();
    let (port, reached) = must_not_be_reached();
    vault
        .cli()
        .acting_as(&dev)
        .run(&[
            "request",
            "GET",
            &format!("http://127.0.0.1:{port}/"),
            "-H",
            "X: {{ secrets.tok }}",
        ])
        .refused(4);
    assert!(reached.try_recv().is_err());
    // The owner may reveal, so may send anywhere.
    let (port, got) = serve_once(|_| "ok\n".to_string());
    vault
        .run(&[
            "request",
            "GET",
            &format!("http://127.0.0.1:{port}/"),
            "-H",
            "X: {{ secrets.tok }}",
        ])
        .ok();
    got.recv().unwrap();
}

#[test]
fn every_secret_used_must_allow_the_host() {
    let vault = Vault::new();
    vault.set("a", &random_token("a_"), &["--allow-host", "127.0.0.1"]);
    vault.set(
        "b",
        &random_token("b_"),
        &["--allow-host", "api.example.com"],
    );
    let dev = vault.add_member("dora", "developer");
    let (port, reached) = must_not_be_reached();
    let run = vault
        .cli()
        .acting_as(&dev)
        .run(&[
            "request",
            "POST",
            &format!("http://127.0.0.1:{port}/"),
            "-H",
            "X-A: {{ secrets.a }}",
            "-d",
            "{{ secrets.b }}",
        ])
        .refused(4);
    assert!(run.message().contains("'b'"), "{}", run.describe());
    assert!(reached.try_recv().is_err());
}

#[test]
fn bad_allowed_hosts_are_refused_at_write_time() {
    let vault = Vault::new();
    vault.set("k", "v", &[]);
    for bad in [
        "https://api.stripe.com",
        "api.stripe.com/v1",
        "*.com",
        "",
        "a b",
    ] {
        let run = vault.run(&["set", "k", "--allow-host", bad]).refused(2);
        assert!(run.message().contains("allowed host"), "{}", run.describe());
    }
    vault
        .run(&["set", "k", "--allow-host", "x.com", "--no-allowed-hosts"])
        .refused(2);
    vault
        .run(&["set", "nope", "--allow-host", "x.com"])
        .refused(3);
    let dev = vault.add_member("dora", "developer");
    vault
        .cli()
        .acting_as(&dev)
        .run(&["set", "k", "--allow-host", "evil.com"])
        .refused(4);
    let json = vault.run(&["show", "k", "--json"]).ok().json();
    assert_eq!(json["allowed_hosts"], serde_json::json!([]));
}

#[test]
fn a_server_answer_with_escape_sequences_is_printed_escaped() {
    let vault = Vault::new();
    let (port, _got) = serve_once(|_| "hi\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J\nbye\n".to_string());
    let run = vault
        .run(&["request", "GET", &format!("http://127.0.0.1:{port}/")])
        .ok();
    assert!(
        !run.stdout.contains('\u{1b}') && !run.stdout.contains('\u{7}'),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("hi\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\nbye"),
        "{}",
        run.describe()
    );
}
