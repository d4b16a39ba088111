//! Assignments end to end (issue 17, item 5) with a real `enumera central
//! serve`: an admin and a supervisor assign the officials of a roster to
//! two tablets; each tablet syncs and holds only its own participants'
//! roster rows, fills its ASSIGNED interviews and reports them; progress
//! shows assigned, started, finalized and received by district and
//! enumerator; a reassignment moves a participant's row from one tablet to
//! the other. Security over HTTP: a device cannot read the assignment
//! list nor fetch whole rosters once participants are assigned, gets only
//! its own assignments file, and a supervisor cannot assign outside its
//! scope.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use common::{enumera, form_file};

fn run(args: &[&str]) -> Output {
    Command::new(enumera()).args(args).output().expect("enumera runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn to_json(args: &[&str]) -> Value {
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

/// One HTTP/1.1 request; (status, body as JSON or Null, raw body).
fn http(addr: &str, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Value, String) {
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
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null), body)
}

struct Tablet {
    db: String,
    id: String,
    token: String,
}

impl Tablet {
    fn new(dir: &Path, central: &str, name: &str, enumerator: &str) -> Tablet {
        let db = dir.join(format!("{name}.db")).to_string_lossy().into_owned();
        let id = ok(&["device", "--db", &db, "init", "--name", name, "--enumerator", enumerator]);
        let token = ok(&["central", "--db", central, "token", "create", "--device", &id]);
        Tablet { db, id, token }
    }

    fn sync(&self, addr: &str) -> Value {
        let url = format!("http://{addr}");
        let db = &self.db;
        to_json(&["device", "--db", db, "sync", "--server", &url, "--token", &self.token, "--json"])
    }

    fn roster(&self) -> Vec<String> {
        let list = to_json(&["device", "--db", &self.db, "roster", "list", "--json"]);
        let mut ids: Vec<String> = list
            .as_array()
            .expect("participants")
            .iter()
            .map(|p| p["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    }

    fn assignments(&self) -> Value {
        to_json(&["device", "--db", &self.db, "assignments", "--json"])
    }

    /// Fills the assigned interview of `participant` in round 1.
    fn fill(&self, dir: &Path, participant: &str, age: &str) -> String {
        let steps = dir.join(format!("{participant}.json"));
        std::fs::write(
            &steps,
            json!([{"set": "/data/age", "value": age}, {"set": "/data/school", "value": "no"},
                   {"set": "/data/name", "value": participant}])
            .to_string(),
        )
        .expect("steps");
        let steps = steps.to_string_lossy().into_owned();
        ok(&[
            "device",
            "--db",
            &self.db,
            "fill",
            "hh",
            "--participant",
            participant,
            "--round",
            "1",
            "--steps",
            &steps,
            "--finalize",
        ])
    }
}

#[test]
fn two_tablets_fill_their_assigned_interviews_and_hold_only_their_participants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let central = d.join("central.db").to_string_lossy().into_owned();
    ok(&["central", "--db", &central, "init"]);
    let scratch = tempfile::tempdir().expect("tempdir");
    ok(&["central", "--db", &central, "publish", form_file(&scratch).to_str().expect("utf-8")]);
    let roster = d.join("officials.json");
    std::fs::write(
        &roster,
        json!({"participants": [
            {"id": "OF-1", "display": {"district": "Beira"}, "personal": {"name": "Ana Lobo"}},
            {"id": "OF-2", "display": {"district": "Beira"}, "personal": {"name": "Rui Sá"}},
            {"id": "OF-3", "display": {"district": "Dondo"}, "personal": {"name": "Eva Mata"}},
        ]})
        .to_string(),
    )
    .expect("roster");
    ok(&["central", "--db", &central, "roster", "publish", roster.to_str().expect("utf-8")]);
    let one = Tablet::new(d, &central, "tablet-1", "enum-1");
    let two = Tablet::new(d, &central, "tablet-2", "enum-2");
    let token = |role: &str, name: &str, extra: &[&str]| {
        let mut args =
            vec!["central", "--db", &central, "token", "create", "--role", role, "--name", name];
        args.extend_from_slice(extra);
        ok(&args)
    };
    let admin = token("admin", "Root", &[]);
    let sup = token("supervisor", "Ana", &["--district", "Beira"]);
    let served = Served::start(&central);
    let addr = served.1.as_str();

    // Before any assignment, devices are served whole rosters, as before.
    let (status, listed, _) = http(addr, "GET", "/v1/rosters", &one.token, b"");
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(1)));

    // The supervisor assigns Beira's officials over HTTP: OF-1 to tablet 1,
    // OF-2 to the enumerator carrying tablet 2; Dondo is outside its scope.
    let new = |participant: &str, target: Value| {
        let mut body = json!({"form_id": "hh", "round": 1, "participants": [participant]});
        body["target"] = target;
        body.to_string().into_bytes()
    };
    let (status, made, _) =
        http(addr, "POST", "/v1/assignments/new", &sup, &new("OF-1", json!({"device": one.id})));
    assert_eq!(status, 200, "{made}");
    assert_eq!(made[0]["district"], "Beira");
    let (status, _, _) = http(
        addr,
        "POST",
        "/v1/assignments/new",
        &sup,
        &new("OF-2", json!({"enumerator": "enum-2"})),
    );
    assert_eq!(status, 200);
    let (status, body, _) =
        http(addr, "POST", "/v1/assignments/new", &sup, &new("OF-3", json!({"device": two.id})));
    assert_eq!((status, body["error"].as_str()), (403, Some("out_of_scope")));
    // A device may not assign, nor read the list.
    let (status, body, _) = http(
        addr,
        "POST",
        "/v1/assignments/new",
        &one.token,
        &new("OF-3", json!({"device": one.id})),
    );
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden_role")));
    let (status, _, _) = http(addr, "GET", "/v1/assignments", &one.token, b"");
    assert_eq!(status, 403);
    // The admin assigns Dondo's official from the command line.
    let made = to_json(&[
        "central",
        "--db",
        &central,
        "assign",
        "--form",
        "hh",
        "--round",
        "1",
        "--participant",
        "OF-3",
        "--device",
        &two.id,
        "--token",
        &admin,
        "--json",
    ]);
    assert_eq!(made[0]["participant_id"], "OF-3");
    let (status, listed, _) = http(addr, "GET", "/v1/assignments", &sup, b"");
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(2)), "Beira only");

    // Once participants are assigned, no device gets a whole roster.
    let (status, listed, _) = http(addr, "GET", "/v1/rosters", &one.token, b"");
    assert_eq!((status, listed.as_array().map(Vec::len)), (200, Some(0)));
    let (status, _, _) = http(addr, "GET", "/v1/rosters/officials", &one.token, b"");
    assert_eq!(status, 404);

    // Each tablet's first sync brings its work and its participants only.
    let synced = one.sync(addr);
    assert_eq!(synced["assignments"]["assignments"], 1, "{synced}");
    assert!(synced["assignments"]["central_key_learned"].as_bool().expect("flag"));
    two.sync(addr);
    assert_eq!(one.roster(), ["OF-1"]);
    assert_eq!(two.roster(), ["OF-2", "OF-3"]);
    // A device's own file names only its own work; asking as another
    // enumerator's device gets that enumerator's work, never another
    // device's.
    let (status, _, file) = http(addr, "POST", "/v1/assignments", &one.token, b"{}");
    assert_eq!(status, 200);
    assert!(file.contains("OF-1") && !file.contains("OF-3"), "{file}");

    // They fill their ASSIGNED interviews and sync.
    one.fill(d, "OF-1", "51");
    two.fill(d, "OF-2", "44");
    one.sync(addr);
    two.sync(addr);
    // The next sync reports what each has done (progress travels in the request).
    one.sync(addr);
    two.sync(addr);
    let done = one.assignments();
    assert_eq!(
        (done[0]["participant_id"].as_str(), done[0]["done"].as_bool()),
        (Some("OF-1"), Some(true))
    );
    let progress = to_json(&["central", "--db", &central, "progress", "--json"]);
    let row = |district: &str, enumerator: &str| -> Value {
        progress
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["district"] == district && r["enumerator"] == enumerator)
            .cloned()
            .unwrap_or_else(|| panic!("no row {district}/{enumerator} in {progress}"))
    };
    let beira_1 = row("Beira", "enum-1");
    let counts = |r: &Value| {
        ["assigned", "started", "finalized", "received"].map(|k| r[k].as_u64().expect("count"))
    };
    assert_eq!(counts(&beira_1), [1, 1, 1, 1], "{progress}");
    assert_eq!(counts(&row("Beira", "enum-2")), [1, 1, 1, 1], "{progress}");
    assert_eq!(counts(&row("Dondo", "enum-2"))[..3], [1, 0, 0], "{progress}");

    // The supervisor moves OF-1 to tablet 2: tablet 1's OF-1 response is
    // sent and acknowledged, so its roster row leaves tablet 1.
    let list = to_json(&[
        "central",
        "--db",
        &central,
        "assignments",
        "list",
        "--participant",
        "OF-1",
        "--token",
        &sup,
        "--json",
    ]);
    let id = list[0]["assignment_id"].as_str().expect("id").to_string();
    let path = format!("/v1/assignments/{id}/reassign");
    let body = json!({"device": two.id}).to_string();
    let (status, moved, _) = http(addr, "POST", &path, &sup, body.as_bytes());
    assert_eq!((status, moved["replaces"].as_str()), (200, Some(id.as_str())), "{moved}");
    let synced = one.sync(addr);
    assert_eq!(synced["assignments"]["participants_removed"], json!(["OF-1"]), "{synced}");
    assert!(one.roster().is_empty());
    two.sync(addr);
    assert_eq!(two.roster(), ["OF-1", "OF-2", "OF-3"]);
    let all = to_json(&["central", "--db", &central, "assignments", "list", "--all", "--json"]);
    assert_eq!(all.as_array().map(Vec::len), Some(4), "{all}");
    drop(served);

    // By file: central writes tablet 2's signed assignments; tablet 1
    // refuses it (another device's), tablet 2 applies it.
    let file = d.join("two.assignments").to_string_lossy().into_owned();
    ok(&["central", "--db", &central, "assignments", "file", "--device", &two.id, "-o", &file]);
    let refused = run(&["device", "--db", &one.db, "assignments", "--apply", &file]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not this device"));
    let listed = to_json(&["device", "--db", &two.db, "assignments", "--apply", &file, "--json"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
}
