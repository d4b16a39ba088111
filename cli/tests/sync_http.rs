//! `enumera central serve` and `enumera device sync` end to end, over
//! 127.0.0.1 only: three devices, concurrent uploads (the same bundle from
//! two clients at once), connections cut mid-upload and after central
//! replied, retries; then hostile requests while a well-behaved client
//! keeps syncing. Every loop here is bounded.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use common::{enumera, form_file};

fn run(args: &[&str]) -> Output {
    Command::new(enumera()).args(args).output().expect("enumera runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn fails(args: &[&str]) -> String {
    let o = run(args);
    assert!(!o.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `enumera central serve` on a free port; killed when dropped.
struct Served {
    child: Child,
    addr: String,
}

impl Served {
    fn start(db: &Path) -> Served {
        let mut child = Command::new(enumera())
            .args(["central", "--db", db.to_str().expect("utf-8 path"), "serve"])
            .args(["--listen", "127.0.0.1:0", "--max-body-mib", "1", "--request-timeout", "3"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = lines
            .by_ref()
            .take(20)
            .map_while(Result::ok)
            .find_map(|l| l.split("listening on http://").nth(1).map(str::to_owned))
            .expect("serve prints its address");
        // Keep draining stderr so the server never blocks on a full pipe.
        thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Served { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the proxy does with one connection.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// Forward this many bytes of the request, then drop both sides.
    RequestAfter(usize),
    /// Forward the whole request; drop the client as soon as central answers.
    Reply,
    Nothing,
}

/// A TCP proxy on 127.0.0.1 that cuts its first connections as planned and
/// forwards the rest. Serves at most `plan.len() + 8` connections.
fn proxy(target: String, plan: Vec<Cut>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("proxy binds");
    let addr = listener.local_addr().expect("addr").to_string();
    thread::spawn(move || {
        let limit = plan.len() + 8;
        for (i, client) in listener.incoming().take(limit).enumerate() {
            let Ok(client) = client else { continue };
            let cut = plan.get(i).copied().unwrap_or(Cut::Nothing);
            let target = target.clone();
            thread::spawn(move || relay(client, &target, cut));
        }
    });
    format!("http://{addr}")
}

fn relay(mut client: TcpStream, target: &str, cut: Cut) {
    let Ok(mut server) = TcpStream::connect(target) else { return };
    for s in [&client, &server] {
        let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    }
    match cut {
        Cut::RequestAfter(n) => {
            let mut left = n;
            let mut buf = [0u8; 512];
            while left > 0 {
                let Ok(got) = client.read(&mut buf[..left.min(512)]) else { break };
                if got == 0 || server.write_all(&buf[..got]).is_err() {
                    break;
                }
                left -= got;
            }
            let _ = server.shutdown(Shutdown::Both);
            let _ = client.shutdown(Shutdown::Both);
        }
        Cut::Reply => {
            let (mut c, mut s) =
                (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
            thread::spawn(move || std::io::copy(&mut c, &mut s));
            let mut first = [0u8; 1];
            let _ = server.read(&mut first);
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
        Cut::Nothing => {
            let (mut c, mut s) =
                (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
            thread::spawn(move || {
                let _ = std::io::copy(&mut c, &mut s);
                let _ = s.shutdown(Shutdown::Write);
            });
            let _ = std::io::copy(&mut server, &mut client);
            let _ = client.shutdown(Shutdown::Both);
        }
    }
}

/// One raw HTTP/1.1 exchange; returns the status (0 when the connection
/// broke before a status line) and the reply. The request is written from
/// another thread while this one reads, so a reply sent before the body is
/// all read (413) arrives before the connection is reset.
fn raw(addr: &str, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let mut writer = stream.try_clone().expect("clone");
    let mut request = head.as_bytes().to_vec();
    request.extend_from_slice(body);
    let writing = thread::spawn(move || {
        let _ = writer.write_all(&request);
    });
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let _ = writing.join();
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, reply)
}

fn post(addr: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    raw(addr, &head, body)
}

fn get(addr: &str, path: &str, token: &str) -> (u16, String) {
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    raw(addr, &head, b"")
}

struct Device {
    db: String,
    id: String,
    token: String,
}

impl Device {
    fn new(dir: &Path, central: &str, n: usize) -> Device {
        let db = dir.join(format!("tablet-{n}.db")).to_string_lossy().into_owned();
        let id = ok(&["device", "--db", &db, "init", "--name", &format!("tablet-{n}")]);
        let token = ok(&["central", "--db", central, "token", "create", "--device", &id]);
        Device { db, id, token }
    }

    fn sync(&self, url: &str, extra: &[&str]) -> Output {
        let mut args =
            vec!["device", "--db", &self.db, "sync", "--server", url, "--token", &self.token];
        args.extend_from_slice(extra);
        run(&args)
    }

    fn fill(&self, dir: &Path, name: &str) -> String {
        let steps = dir.join(format!("{name}.json"));
        std::fs::write(
            &steps,
            format!(r#"[{{"set": "/data/age", "value": "30"}}, {{"set": "/data/name", "value": "{name}"}}]"#),
        )
        .expect("steps");
        let steps = steps.to_string_lossy().into_owned();
        ok(&["device", "--db", &self.db, "fill", "hh", "--steps", &steps, "--finalize"])
    }

    /// Instance ids by state ("finalized", "sent").
    fn ids(&self, state: &str) -> BTreeSet<String> {
        let list: Value =
            serde_json::from_str(&ok(&["device", "--db", &self.db, "list", "--json"]))
                .expect("json");
        list["responses"]
            .as_array()
            .expect("responses")
            .iter()
            .filter(|r| r["state"] == state)
            .map(|r| r["instance_id"].as_str().expect("id").to_owned())
            .collect()
    }
}

/// The instance ids central holds entries for from a device (read from its
/// database: a receipt names only what lies past the chain held whole).
fn held(central: &str, device: &Device) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(central).expect("central db");
    let mut s = conn.prepare("SELECT instance_id FROM entries WHERE device_id = ?1").expect("sql");
    let ids = s.query_map([&device.id], |r| r.get(0)).expect("query");
    ids.collect::<Result<_, _>>().expect("rows")
}

fn setup(dir: &Path) -> (String, PathBuf) {
    let central = dir.join("central.db").to_string_lossy().into_owned();
    ok(&["central", "--db", &central, "init"]);
    let scratch = tempfile::tempdir().expect("tempdir");
    let form = dir.join("household.json");
    std::fs::copy(form_file(&scratch), &form).expect("copy the form");
    ok(&["central", "--db", &central, "publish", form.to_str().expect("utf-8")]);
    let roster = dir.join("round-1.json");
    std::fs::write(&roster, r#"{"participants":[{"id":"MZ-001","display":{"lga":"Maputo"}}]}"#)
        .expect("roster");
    ok(&["central", "--db", &central, "roster", "publish", roster.to_str().expect("utf-8")]);
    (central, form)
}

#[test]
fn three_devices_sync_through_cuts_and_races_and_central_holds_each_response_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (central, _) = setup(dir.path());
    let devices: Vec<Device> = (1..=3).map(|n| Device::new(dir.path(), &central, n)).collect();
    let server = Served::start(Path::new(&central));
    let url = server.url();

    // First sync: nothing to upload; the form and the roster arrive.
    for d in &devices {
        let o = d.sync(&url, &["--json"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let report: Value = serde_json::from_slice(&o.stdout).expect("json");
        assert_eq!(report["uploaded"], 0);
        assert_eq!(report["instruments_installed"][0]["form_id"], "hh");
        assert_eq!(report["rosters"][0]["import"]["added"], 1);
    }
    for (i, d) in devices.iter().enumerate() {
        for k in 0..(3 + i) {
            d.fill(dir.path(), &format!("d{i}r{k}"));
        }
        assert_eq!(d.ids("finalized").len(), 3 + i);
    }

    // Device 1's bundle, uploaded by two clients at the same moment.
    let bundle = dir.path().join("d1.bundle");
    ok(&["device", "--db", &devices[0].db, "bundle", "-o", bundle.to_str().expect("utf-8")]);
    let bytes = Arc::new(std::fs::read(&bundle).expect("bundle"));
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (addr, token, bytes) =
                (server.addr.clone(), devices[0].token.clone(), bytes.clone());
            thread::spawn(move || post(&addr, "/v1/bundles", Some(&token), &bytes))
        })
        .collect();
    for r in racers {
        let (status, reply) = r.join().expect("racer");
        assert_eq!(status, 200, "{reply}");
    }
    // Uploaded by hand: the device has no receipt yet, so nothing is sent.
    assert!(devices[0].ids("sent").is_empty());

    // Device 2: the connection cut inside the upload's body, then cut after
    // central stored the bundle but before the reply came back.
    let d2_bundle = dir.path().join("d2.bundle");
    ok(&["device", "--db", &devices[1].db, "bundle", "-o", d2_bundle.to_str().expect("utf-8")]);
    assert!(
        std::fs::metadata(&d2_bundle).expect("bundle").len() > 1400,
        "the cut is inside the body"
    );
    let responses = || -> u64 {
        let status = ok(&["central", "--db", &central, "status", "--json"]);
        serde_json::from_str::<Value>(&status).expect("json")["responses"].as_u64().expect("count")
    };
    assert_eq!(responses(), 3, "device 1's bundle, held once");
    for (cut, held_after) in [(Cut::RequestAfter(700), 3), (Cut::Reply, 3 + 4)] {
        let via = proxy(server.addr.clone(), vec![cut]);
        let err = String::from_utf8_lossy(&devices[1].sync(&via, &["--attempts", "1"]).stderr)
            .into_owned();
        assert!(err.contains("cannot reach central"), "{cut:?}: {err}");
        assert!(err.contains("still wait for a receipt"), "{err}");
        assert!(devices[1].ids("sent").is_empty(), "{cut:?}: marked sent without a receipt");
        assert_eq!(responses(), held_after, "{cut:?}");
    }

    // All three at once, straight to central.
    let syncs: Vec<_> = devices
        .iter()
        .map(|d| {
            let args = ["device", "--db", &d.db, "sync", "--server", &url, "--token", &d.token];
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            thread::spawn(move || Command::new(enumera()).args(&args).output().expect("sync runs"))
        })
        .collect();
    for s in syncs {
        let o = s.join().expect("sync thread");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    // Device 3: one more response; the first connection is cut, the
    // command's own retry gets it through.
    devices[2].fill(dir.path(), "late");
    let via = proxy(server.addr.clone(), vec![Cut::RequestAfter(300)]);
    let o = devices[2].sync(&via, &["--attempts", "3"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("trying again"));

    let status: Value =
        serde_json::from_str(&ok(&["central", "--db", &central, "status", "--json"]))
            .expect("json");
    let mut total = 0;
    for d in &devices {
        let sent = d.ids("sent");
        assert!(d.ids("finalized").is_empty(), "every response acknowledged");
        assert_eq!(held(&central, d), sent, "central holds exactly what was finalized");
        total += sent.len();
    }
    assert_eq!(total, 3 + 4 + 6);
    assert_eq!(status["responses"], total as u64, "each response once: {status}");
    assert_eq!(status["conflicts"], 0);
}

#[test]
fn hostile_requests_are_refused_while_a_good_client_keeps_syncing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (central, _) = setup(dir.path());
    let good = Device::new(dir.path(), &central, 1);
    let other = Device::new(dir.path(), &central, 2);
    let server = Served::start(Path::new(&central));
    let (url, addr) = (server.url(), server.addr.clone());
    assert!(good.sync(&url, &[]).status.success());
    assert!(other.sync(&url, &[]).status.success());
    other.fill(dir.path(), "other");
    let bundle = dir.path().join("other.bundle");
    ok(&["device", "--db", &other.db, "bundle", "-o", bundle.to_str().expect("utf-8")]);
    let other_bundle = std::fs::read(&bundle).expect("bundle");

    // A well-behaved client the whole time: bounded, 127.0.0.1 only.
    let served = Arc::new(AtomicUsize::new(0));
    let client = {
        let (addr, token, served) = (addr.clone(), good.token.clone(), served.clone());
        thread::spawn(move || {
            for _ in 0..30 {
                let (status, reply) = get(&addr, "/v1/instruments", &token);
                assert_eq!(status, 200, "{reply}");
                served.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let t = good.token.as_str();
    let cases: Vec<(u16, &str, (u16, String))> = vec![
        (413, "too_large", {
            let head = format!(
                "POST /v1/bundles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                2 << 20
            );
            raw(&addr, &head, b"")
        }),
        (413, "too_large", {
            // Chunked, no declared length: refused once past the limit.
            let chunk = vec![b'x'; 64 << 10];
            let mut body = Vec::new();
            for _ in 0..20 {
                body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                body.extend_from_slice(&chunk);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"0\r\n\r\n");
            let head = format!(
                "POST /v1/bundles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\
                 Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            );
            raw(&addr, &head, &body)
        }),
        (400, "not_a_bundle", post(&addr, "/v1/bundles", Some(t), b"{\"json\": \"not a bundle\"")),
        (400, "", post(&addr, "/v1/bundles", Some(t), &other_bundle[..other_bundle.len() / 2])),
        (401, "missing_token", post(&addr, "/v1/bundles", None, &other_bundle)),
        (401, "bad_token", post(&addr, "/v1/bundles", Some("enm_guess"), &other_bundle)),
        (401, "bad_token", get(&addr, "/v1/receipt", "x".repeat(5000).as_str())),
        (403, "other_device", post(&addr, "/v1/bundles", Some(t), &other_bundle)),
        (400, "bad_path", get(&addr, "/v1/rosters/%2e%2e%2f%2e%2e%2fetc%2fpasswd", t)),
        (400, "bad_path", get(&addr, "/v1/instruments/..%2F..%2Fcentral.db", t)),
        (404, "not_found", get(&addr, "/v1/instruments/../../central.db", t)),
        (404, "not_found", get(&addr, "/v1/rosters/nobody", t)),
        (404, "not_found", get(&addr, &format!("/v1/instruments/{}", "0".repeat(64)), t)),
        (404, "not_found", get(&addr, "/v1/receipt", t)),
        (408, "timeout", {
            // Declares a body and stalls: the request timeout ends it.
            let head = format!(
                "POST /v1/bundles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\
                 Content-Length: 1000\r\nConnection: close\r\n\r\n"
            );
            raw(&addr, &head, b"only a little")
        }),
    ];
    for (i, (status, code, (got, reply))) in cases.into_iter().enumerate() {
        assert_eq!(got, status, "case {i}: {reply}");
        assert!(reply.contains(&format!("\"error\":\"{code}")), "case {i}: {reply}");
    }
    // The bundle of another device, refused above, is not held.
    let status: Value =
        serde_json::from_str(&ok(&["central", "--db", &central, "status", "--json"]))
            .expect("json");
    assert_eq!(status["responses"], 0);

    client.join().expect("the good client was served every time");
    assert_eq!(served.load(Ordering::SeqCst), 30);
    good.fill(dir.path(), "good");
    let o = good.sync(&url, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(good.ids("sent").len(), 1);
}

#[test]
fn clear_errors_for_no_server_a_bad_token_and_a_rejected_bundle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (central, _) = setup(dir.path());
    let device = Device::new(dir.path(), &central, 1);
    // A port nothing listens on: bind one, then free it.
    let free = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let err = fails(&[
        "device",
        "--db",
        &device.db,
        "sync",
        "--server",
        &format!("http://{free}"),
        "--token",
        &device.token,
        "--attempts",
        "1",
    ]);
    assert!(err.contains("cannot reach central"), "{err}");

    let server = Served::start(Path::new(&central));
    let err = fails(&[
        "device",
        "--db",
        &device.db,
        "sync",
        "--server",
        &server.url(),
        "--token",
        "enm_wrong",
    ]);
    assert!(err.contains("refused the token"), "{err}");

    // Enrol another key under this device's id: its bundles are refused,
    // and so is its assignments file, which names the enrolled key.
    ok(&["central", "--db", &central, "enrol", "--device", &device.id, "--key", &"ab".repeat(32)]);
    let err = fails(&[
        "device",
        "--db",
        &device.db,
        "sync",
        "--server",
        &server.url(),
        "--token",
        &device.token,
    ]);
    assert!(err.contains("by another key"), "{err}");
    device.fill(dir.path(), "x");
    let err = fails(&[
        "device",
        "--db",
        &device.db,
        "sync",
        "--server",
        &server.url(),
        "--token",
        &device.token,
    ]);
    assert!(err.contains("device_key_mismatch"), "{err}");
    assert!(err.contains("1 response(s) still wait"), "{err}");
}

#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_ctrl_c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (central, _) = setup(dir.path());
    let mut server = Served::start(Path::new(&central));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().expect("kill runs").success());
    let mut waited = 0;
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(waited < 100, "the server did not stop within 10 s");
        thread::sleep(Duration::from_millis(100));
        waited += 1;
    };
    assert!(status.success(), "{status}");
}
