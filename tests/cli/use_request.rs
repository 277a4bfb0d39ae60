//! The test request end to end: the secret arrives where it was placed, the printed
//! response is masked even when the server echoes it, failures are one clear line.

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
    vault.set("pw", &value, &[]);
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
