//! Field supervision end to end (issue 17) with a real `enumera central
//! serve`: two devices sync; a supervisor scoped to one of them rejects a
//! response over HTTP with two question comments; the device syncs, sees
//! the comments at those questions, reopens, corrects and re-finalizes;
//! the supervisor approves from the command line; the export holds the
//! latest version, the review history and the edited-after-return flag,
//! and the device's outbox holds both versions; the form has ODK's audit
//! with track-changes and reasons on edits, filled under the test clock
//! (`--now`, `wait` steps), and the export's `hh-audit.csv` holds each
//! event with its exact times, the change reason of the correction, and
//! the summary columns of the main table. Security over HTTP: a
//! device token cannot review, a supervisor cannot review outside its
//! scope, and an action must be signed by the token that sends it.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use common::{enumera, form_file};
use enumera_central::roles::reviewer_seed;
use enumera_core::review::{Comment, ReviewAction, ReviewKind};

fn run(args: &[&str]) -> Output {
    Command::new(enumera()).args(args).output().expect("enumera runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("json")
}

struct Served(Child, String);

impl Served {
    fn start(db: &str) -> Served {
        let mut child = Command::new(enumera())
            .args(["central", "--db", db, "serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = lines
            .by_ref()
            .take(20)
            .map_while(Result::ok)
            .find_map(|l| l.split("listening on http://").nth(1).map(str::to_owned))
            .expect("serve prints its address");
        thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Served(child, addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request; (status, body).
fn http(addr: &str, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The test clock every fill starts at.
const NOW: &str = "2026-12-04T09:00:00Z";

/// The household form with ODK's audit: track-changes, reasons on edits.
fn audited_form(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = form_file(dir);
    let mut form: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("form")).expect("json");
    form["children"].as_array_mut().expect("children").push(serde_json::json!({
        "name": "audit", "kind": {"kind": "question", "type": "audit"}, "row": 6,
        "parameters": {"track-changes": "true", "track-changes-reasons": "on-form-edit"}
    }));
    std::fs::write(&path, form.to_string()).expect("write");
    path
}

struct Tablet {
    db: String,
    id: String,
    token: String,
}

impl Tablet {
    fn new(dir: &Path, central: &str, name: &str) -> Tablet {
        let db = dir.join(format!("{name}.db")).to_string_lossy().into_owned();
        let id = ok(&["device", "--db", &db, "init", "--name", name]);
        let token = ok(&["central", "--db", central, "token", "create", "--device", &id]);
        Tablet { db, id, token }
    }

    fn sync(&self, addr: &str) -> Value {
        let url = format!("http://{addr}");
        json(&[
            "device",
            "--db",
            &self.db,
            "sync",
            "--server",
            &url,
            "--token",
            &self.token,
            "--json",
        ])
    }

    /// 3 s before the age, 2 s on it, 5 s on school, 1 s on the name
    /// (the audit's durations), after `first` steps.
    fn steps(&self, dir: &Path, age: &str, name: &str, first: &str) -> String {
        let steps = dir.join(format!("{name}-{age}.json"));
        std::fs::write(
            &steps,
            format!(r#"[{first}{{"wait": 3}}, {{"set": "/data/age", "value": "{age}"}}, {{"wait": 2}}, {{"set": "/data/school", "value": "no"}}, {{"wait": 5}}, {{"set": "/data/name", "value": "{name}"}}, {{"wait": 1}}]"#),
        )
        .expect("steps");
        steps.to_string_lossy().into_owned()
    }

    fn fill(&self, dir: &Path, age: &str, name: &str) -> String {
        let steps = self.steps(dir, age, name, "");
        ok(&[
            "device",
            "--db",
            &self.db,
            "fill",
            "hh",
            "--steps",
            &steps,
            "--now",
            NOW,
            "--finalize",
        ])
    }
}

#[test]
fn a_supervisor_returns_a_response_the_device_corrects_it_and_it_is_approved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let central = d.join("central.db").to_string_lossy().into_owned();
    ok(&["central", "--db", &central, "init"]);
    let scratch = tempfile::tempdir().expect("tempdir");
    ok(&["central", "--db", &central, "publish", audited_form(&scratch).to_str().expect("utf-8")]);
    let (one, two) = (Tablet::new(d, &central, "tablet-1"), Tablet::new(d, &central, "tablet-2"));
    let sup = json(&[
        "central",
        "--db",
        &central,
        "token",
        "create",
        "--role",
        "supervisor",
        "--name",
        "Ana",
        "--device",
        &one.id,
        "--json",
    ])["token"]
        .as_str()
        .expect("token")
        .to_string();
    let rui = ok(&[
        "central",
        "--db",
        &central,
        "token",
        "create",
        "--role",
        "researcher",
        "--name",
        "Rui",
    ]);
    // Each tablet is assigned one interview of the form (it has no roster:
    // a quantity), and learns it on its first sync.
    for tablet in [&one, &two] {
        ok(&[
            "central",
            "--db",
            &central,
            "assign",
            "--form",
            "hh",
            "--quantity",
            "1",
            "--device",
            &tablet.id,
        ]);
    }
    let served = Served::start(&central);
    let addr = served.1.as_str();
    one.sync(addr);
    two.sync(addr);
    for tablet in [&one, &two] {
        let assigned = json(&["device", "--db", &tablet.db, "assignments", "--json"]);
        let assigned = assigned.as_array().expect("assignments");
        assert_eq!(assigned.len(), 1, "{assigned:?}");
        assert_eq!(assigned[0]["form_id"], "hh", "{assigned:?}");
    }
    let x = one.fill(d, "19", "Ada");
    let y = two.fill(d, "33", "Bea");
    one.sync(addr);
    two.sync(addr);
    // The next sync reports them; progress counts both assigned interviews
    // as finalized and received.
    one.sync(addr);
    two.sync(addr);
    let progress = json(&["central", "--db", &central, "progress", "--json"]);
    let total = |k: &str| -> u64 {
        progress.as_array().expect("rows").iter().map(|r| r[k].as_u64().unwrap_or(0)).sum()
    };
    assert_eq!(
        ["assigned", "started", "finalized", "received"].map(total),
        [2, 2, 2, 2],
        "{progress}"
    );

    // Who may review what, over HTTP.
    let (status, body) = http(addr, "GET", "/v1/review", &one.token, b"");
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden_role")));
    let (status, listed) = http(addr, "GET", "/v1/review", &sup, b"");
    assert_eq!(status, 200);
    let ids: Vec<&str> =
        listed.as_array().expect("list").iter().filter_map(|i| i["instance_id"].as_str()).collect();
    assert_eq!(ids, [x.as_str()], "a supervisor sees only its scope");
    let sign = |token: &str, id: &str, kind, comments| {
        ReviewAction::new(id, kind, comments, "2026-12-04T10:00:00Z")
            .sign(&reviewer_seed(token))
            .file
    };
    let why = || vec![Comment::general("see the comments")];
    let (status, body) = http(
        addr,
        "POST",
        "/v1/review/actions",
        &one.token,
        &sign(&one.token, &x, ReviewKind::Approve, vec![]),
    );
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden_role")));
    let (status, body) =
        http(addr, "POST", "/v1/review/actions", &sup, &sign(&sup, &y, ReviewKind::Reject, why()));
    assert_eq!((status, body["error"].as_str()), (403, Some("out_of_scope")));
    let (status, body) =
        http(addr, "POST", "/v1/review/actions", &sup, &sign(&rui, &x, ReviewKind::Reject, why()));
    assert_eq!((status, body["error"].as_str()), (403, Some("not_reviewer_key")));
    let (status, _) = http(addr, "POST", "/v1/review/actions", &sup, b"{\"not\": \"an action\"}");
    assert_eq!(status, 400);

    // Ana returns x with two question comments.
    let comments = vec![
        Comment::at("/data/age", "19 does not match the ID card: ask again"),
        Comment::at("/data/name", "write the full name"),
    ];
    let (status, out) = http(
        addr,
        "POST",
        "/v1/review/actions",
        &sup,
        &sign(&sup, &x, ReviewKind::Reject, comments),
    );
    assert_eq!((status, out["state"].as_str()), (200, Some("rejected")), "{out}");
    let (status, shown) = http(addr, "GET", &format!("/v1/review/{x}"), &sup, b"");
    assert_eq!((status, shown["state"].as_str()), (200, Some("rejected")));
    assert_eq!(shown["events"][0]["reviewer"], "Ana");

    // Tablet 1 syncs and sees the comments at those questions; tablet 2 gets nothing.
    assert_eq!(one.sync(addr)["returns"]["new"], serde_json::json!([x]));
    assert_eq!(two.sync(addr)["returns"]["new"], serde_json::json!([]));
    let returns = json(&["device", "--db", &one.db, "returns", "--json"]);
    let at = |r: &str| -> Vec<String> {
        returns[0]["comments"]
            .as_array()
            .expect("comments")
            .iter()
            .filter(|c| c["ref"] == r)
            .map(|c| c["text"].as_str().expect("text").to_string())
            .collect()
    };
    assert_eq!(at("/data/age"), ["19 does not match the ID card: ask again"]);
    assert_eq!(at("/data/name"), ["write the full name"]);
    assert_eq!(returns[0]["status"], "returned");

    // Reopen, correct, finalize, sync: the correction names x.
    let draft = ok(&["device", "--db", &one.db, "reopen", &x]);
    // Without a reason the correction is not finalized (the draft stays).
    let nothing = d.join("nothing.json");
    std::fs::write(&nothing, "[]").expect("steps");
    let refused = run(&[
        "device",
        "--db",
        &one.db,
        "fill",
        "--resume",
        &draft,
        "--steps",
        nothing.to_str().expect("utf-8"),
        "--now",
        NOW,
        "--finalize",
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("reason"), "{refused:?}");
    let steps = one.steps(d, "21", "Ada Lovelace", r#"{"change_reason": "ID card says 21"}, "#);
    ok(&[
        "device",
        "--db",
        &one.db,
        "fill",
        "--resume",
        &draft,
        "--steps",
        &steps,
        "--now",
        NOW,
        "--finalize",
    ]);
    assert_eq!(json(&["device", "--db", &one.db, "returns", "--json"])[0]["status"], "corrected");
    one.sync(addr);
    let received = json(&[
        "central", "--db", &central, "review", "list", "--token", &sup, "--state", "received",
        "--json",
    ]);
    assert_eq!(received[0]["instance_id"], draft.as_str());
    assert_eq!(received[0]["deprecated_id"], x.as_str());
    assert_eq!(received[0]["edited_after_return"], true);
    ok(&["central", "--db", &central, "review", "approve", &draft, "--token", &sup]);
    let shown =
        json(&["central", "--db", &central, "review", "show", &draft, "--token", &sup, "--json"]);
    assert_eq!(shown["state"], "approved");
    assert_eq!(shown["answers"]["age"], "21");
    let (status, progress) = http(addr, "GET", "/v1/progress", &sup, b"");
    assert_eq!(status, 200);
    // Within Ana's scope (tablet 1): its one assigned interview, received
    // and approved (rows are by round, district and enumerator).
    let sum = |k: &str| -> u64 {
        progress.as_array().expect("rows").iter().map(|r| r[k].as_u64().unwrap_or(0)).sum()
    };
    assert_eq!(["assigned", "received", "approved"].map(sum), [1, 1, 1], "{progress}");
    let (status, _) = http(addr, "GET", "/v1/progress", &one.token, b"");
    assert_eq!(status, 403);
    let everything = json(&["central", "--db", &central, "progress", "--json"]);
    let total: u64 = everything
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["received"].as_u64().expect("n"))
        .sum();
    assert_eq!(total, 2, "{everything}");
    drop(served);

    // The export: the corrected version, the history, the flag.
    let out = d.join("export").to_string_lossy().into_owned();
    ok(&["central", "--db", &central, "export", "--format", "csv", "--out", &out]);
    let main = std::fs::read_to_string(d.join("export/hh.csv")).expect("hh.csv");
    assert!(main.contains(&draft) && !main.contains(&format!("{x},")), "{main}");
    let history = std::fs::read_to_string(d.join("export/review.csv")).expect("review.csv");
    assert_eq!(history.lines().count(), 3, "{history}");
    assert!(history.contains(&format!("{x},hh,")) && history.contains("approve"));
    let status = std::fs::read_to_string(d.join("export/review_status.csv")).expect("status");
    assert!(status.contains(&format!("{draft},hh,approved,{x},1")), "{status}");

    // The audit table: every event of the exported versions, at the times
    // the steps gave on the test clock; the correction's reason.
    let t = chrono::DateTime::parse_from_rfc3339(NOW).expect("instant").timestamp_millis();
    let audit = std::fs::read_to_string(d.join("export/hh-audit.csv")).expect("hh-audit.csv");
    let audit = audit.trim_start_matches('\u{feff}');
    let rows = |key: &str| -> Vec<String> {
        audit.lines().filter(|l| l.starts_with(&format!("{key},"))).map(str::to_string).collect()
    };
    let (a, b, c, e) = (t + 3000, t + 5000, t + 10000, t + 11000);
    assert_eq!(
        audit.lines().next(),
        Some(
            "KEY,event,node,start,end,latitude,longitude,accuracy,old-value,new-value,user,change-reason"
        )
    );
    assert_eq!(
        rows(&y),
        [
            format!("{y},form start,,{t},,,,,,,,"),
            format!("{y},question,/data/age,{a},{b},,,,,33,,"),
            format!("{y},question,/data/school,{b},{c},,,,,no,,"),
            format!("{y},question,/data/name,{c},{e},,,,,Bea,,"),
            format!("{y},end screen,,{e},{e},,,,,,,"),
            format!("{y},form save,,{e},,,,,,,,"),
            format!("{y},form finalize,,{e},,,,,,,,"),
        ]
    );
    let fixed: Vec<String> = rows(&draft);
    assert_eq!(
        fixed,
        [
            format!("{draft},form resume,,{t},,,,,,,,"),
            format!("{draft},form resume,,{t},,,,,,,,"),
            format!("{draft},change reason,,{t},,,,,,,,ID card says 21"),
            format!("{draft},question,/data/age,{a},{b},,,,19,21,,"),
            format!("{draft},question,/data/school,{b},{c},,,,,,,"),
            format!("{draft},question,/data/name,{c},{e},,,,Ada,Ada Lovelace,,"),
            format!("{draft},end screen,,{e},{e},,,,,,,"),
            format!("{draft},form save,,{e},,,,,,,,"),
            format!("{draft},form finalize,,{e},,,,,,,,"),
        ],
        "{audit}"
    );
    assert!(rows(&x).is_empty(), "the returned version is replaced in the export");
    // Summary columns: duration, active time (s), pauses, answers changed.
    let header: Vec<&str> = main.lines().next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let summary = |key: &str| -> Vec<String> {
        let line = main.lines().find(|l| l.starts_with(&format!("{key},"))).expect("row");
        let cells: Vec<&str> = line.split(',').collect();
        ["meta-audit_duration", "meta-audit_active", "meta-audit_pauses", "meta-audit_changes"]
            .iter()
            .map(|c| cells[col(c)].to_string())
            .collect()
    };
    assert_eq!(summary(&y), ["11", "8", "0", "0"]);
    assert_eq!(summary(&draft), ["11", "8", "2", "2"]);

    // The device's outbox chain holds both versions.
    let list = json(&["device", "--db", &one.db, "list", "--json"]);
    let mine: Vec<&str> = list["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .filter_map(|r| r["instance_id"].as_str())
        .collect();
    assert!(mine.contains(&x.as_str()) && mine.contains(&draft.as_str()), "{mine:?}");
    ok(&["device", "--db", &one.db, "verify"]);
}
