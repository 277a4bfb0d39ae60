//! `coffer team audit`: every member's events, read back from the team server and
//! checked one by one, and what a database administrator's edits to them look like.

use crate::support::{random_token, Vault};
use crate::team::{database, dump, joined, psql, restore, sync};

/// The JSON body of an event as the server keeps it, for the administrator's edits.
const BODY: &str = "convert_from(body, 'UTF8')::jsonb";

#[test]
fn every_members_events_come_back_from_the_server_each_one_checked() {
    let owner = Vault::new();
    let first = random_token("first-");
    owner.set("API_KEY", &first, &[]);
    let (_, url) = database();
    owner.run(&["team", "create", &url]).ok();
    let (dana_home, dana) = joined(&owner, "dana", "admin");
    let (ann_home, ann) = joined(&owner, "ann", "auditor");
    let (vic_home, vic) = joined(&owner, "vic", "viewer");

    // Dana writes on her machine; her events reach the server with her sync.
    let hers = random_token("hers-");
    let dana_cli = || dana_home.cli().acting_as(&dana);
    dana_cli().run(&["team", "sync"]).ok();
    dana_cli()
        .stdin(hers.clone())
        .run(&["set", "DANA_KEY", "--value-stdin"])
        .ok();
    dana_cli()
        .stdin(random_token("more-"))
        .run(&["set", "DANA_OTHER", "--value-stdin"])
        .ok();
    dana_cli().run(&["team", "sync"]).ok();
    sync(&owner).ok();

    // The owner reads both members' events, each checked.
    let trail = owner.run(&["--json", "team", "audit"]).ok().json();
    let events = trail["events"].as_array().unwrap();
    let by = |actor: &str, action: &str| {
        events
            .iter()
            .any(|e| e["actor"] == actor && e["action"] == action)
    };
    assert!(by("dana", "secret.create"), "{trail:#}");
    assert!(by("alice", "secret.create"), "{trail:#}");
    assert!(trail["authors"].as_u64().unwrap() >= 2, "{trail:#}");
    assert_eq!(trail["vault_wide"], true);
    // Oldest first.
    let times: Vec<i64> = events
        .iter()
        .map(|e| e["at_ms"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // An auditor of the workspace reads the same members' events there (not the
    // vault's own trail, which only the root owner reads); a filter narrows them.
    let ann_cli = || ann_home.cli().acting_as(&ann);
    let seen = ann_cli()
        .run(&["--json", "team", "audit", "--actor", "dana"])
        .ok()
        .json();
    let only = seen["events"].as_array().unwrap();
    assert!(!only.is_empty(), "{seen:#}");
    assert!(only.iter().all(|e| e["actor"] == "dana"), "{seen:#}");
    assert_eq!(seen["vault_wide"], false);
    // She sees every event of the workspace that the owner sees there (a commit's
    // events all go into one trail, so each is covered by a signature she can read).
    let hers_all = ann_cli().run(&["--json", "team", "audit"]).ok().json();
    let in_ws = |t: &serde_json::Value| {
        t["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["workspace"] == "default")
            .count()
    };
    assert_eq!(in_ws(&hers_all), in_ws(&trail), "{hers_all:#}");
    let table = ann_cli().run(&["team", "audit"]).ok();
    assert!(table.stdout.contains("DANA_KEY"), "{}", table.describe());
    assert!(
        table.stdout.contains("each one signed by its author"),
        "{}",
        table.describe()
    );
    // No value is in the trail, here or on the server.
    for v in [&first, &hers] {
        assert!(!table.stdout.contains(v.as_str()));
        assert!(!crate::support::contains_bytes(&dump(&url), v.as_bytes()));
    }
    // A viewer may not read the trail.
    vic_home
        .cli()
        .acting_as(&vic)
        .run(&["team", "audit"])
        .refused(4);

    // What a database administrator does to the events is named, with exit 7.
    let good = dump(&url);
    // Her events in the workspace, which the auditor reads.
    let danas = format!("scope <> 0 AND {BODY}->>'actor' = 'dana'");
    let caught = |edit: &str, expect: &str| {
        psql(&url, edit);
        let refused = ann_cli().run(&["team", "audit"]).refused(7);
        assert!(
            refused.message().contains(expect),
            "{edit}\n{}",
            refused.describe()
        );
        restore(&url, &good);
        ann_cli().run(&["team", "audit"]).ok();
    };
    // A field of one of her events changed.
    caught(
        &format!(
            "UPDATE coffer.events SET body = convert_to(jsonb_set({BODY}, '{{secret}}', '\"OTHER_KEY\"')::text, 'UTF8')
              WHERE {danas} AND {BODY}->>'secret' = 'DANA_KEY'"
        ),
        "was edited on the server",
    );
    // Her commit's signature taken off: the events it covered are covered by none.
    caught(
        &format!(
            "UPDATE coffer.events SET body = convert_to(jsonb_set({BODY}, '{{sig}}', 'null')::text, 'UTF8')
              WHERE {danas} AND {BODY}->'sig' <> 'null'::jsonb"
        ),
        "not covered by its author's signature",
    );
    // One of her events shown twice: a copy put at the trail's head.
    caught(
        &format!(
            "INSERT INTO coffer.events (scope, seq, n, prev, hash, author, body)
             SELECT scope, (SELECT seq + 1 FROM coffer.heads h WHERE h.scope = e.scope), 1,
                    (SELECT chain FROM coffer.heads h WHERE h.scope = e.scope), hash, author, body
               FROM coffer.events e WHERE {danas} ORDER BY seq LIMIT 1;
             UPDATE coffer.heads h SET seq = seq + 1,
                    chain = (SELECT hash FROM coffer.events e WHERE e.scope = h.scope ORDER BY seq DESC, n DESC LIMIT 1)
              WHERE scope = (SELECT scope FROM coffer.events WHERE {danas} LIMIT 1)"
        ),
        "again (copied on the server)",
    );
    // Her commit's signature swapped for another commit's (the hash does not cover
    // the signature, the signature covers the hash).
    caught(
        &format!(
            "UPDATE coffer.events e SET body = convert_to(jsonb_set({BODY}, '{{sig}}',
                (SELECT convert_from(o.body, 'UTF8')::jsonb->'sig' FROM coffer.events o
                  WHERE o.scope <> 0 AND convert_from(o.body, 'UTF8')::jsonb->>'actor' = 'dana'
                    AND convert_from(o.body, 'UTF8')::jsonb->'sig' <> 'null'::jsonb
                    AND o.hash <> e.hash LIMIT 1))::text, 'UTF8')
              WHERE {danas} AND {BODY}->'sig' <> 'null'::jsonb
                AND e.hash = (SELECT hash FROM coffer.events WHERE {danas} AND {BODY}->'sig' <> 'null'::jsonb ORDER BY seq DESC, n DESC LIMIT 1)"
        ),
        "does not verify",
    );
    // One event taken out of the middle.
    caught(
        &format!(
            "DELETE FROM coffer.events WHERE (scope, seq, n) = (SELECT scope, seq, n FROM coffer.events WHERE {danas} ORDER BY seq, n LIMIT 1)"
        ),
        "does not join",
    );
    // The same signed event in two trails (a commit sent again after a sync was cut
    // short, once its workspace became known): shown once, not an alarm.
    psql(
        &url,
        &format!(
            "INSERT INTO coffer.events (scope, seq, n, prev, hash, author, body)
             SELECT 0, (SELECT seq + 1 FROM coffer.heads WHERE scope = 0), 1,
                    (SELECT chain FROM coffer.heads WHERE scope = 0), hash, author, body
               FROM coffer.events e WHERE {danas} AND {BODY}->'sig' <> 'null'::jsonb ORDER BY seq LIMIT 1;
             UPDATE coffer.heads SET seq = seq + 1,
                    chain = (SELECT hash FROM coffer.events WHERE scope = 0 ORDER BY seq DESC, n DESC LIMIT 1)
              WHERE scope = 0"
        ),
    );
    let again = owner.run(&["--json", "team", "audit"]).ok().json();
    let creates = |t: &serde_json::Value| {
        t["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["actor"] == "dana" && e["action"] == "secret.create")
            .count()
    };
    assert_eq!(creates(&again), 2, "{again:#}");
}
