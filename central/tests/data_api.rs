//! The data API for researchers (issue 19, item 3) over a real server:
//! which tokens may read, forms and versions, paging with a cursor and an
//! offset, the filters, one submission as the export writes it, and the
//! export zip holding exactly the files `central export` writes. Also:
//! docs/openapi.yaml describes every data route the router serves, and
//! nothing else under /v1/data.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;
// Shared with the conformance suite, which uses all of it.
#[allow(dead_code)]
#[path = "conformance/stores.rs"]
mod stores;

use common::http::serve_at;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;

use common::Device;
use enumera_central::export::{ExportOptions, Filter, Format, Layout, export};
use enumera_central::server::DATA_ROUTES;
use enumera_central::{AnyStore, Central, Role, Scope, TokenGrant};
use enumera_core::review::ReviewKind;
use serde_json::Value;
use stores::Backend;

fn token(c: &mut Central<AnyStore>, role: Role, subject: &str) -> String {
    let scope = Scope { districts: ["Beira".to_string()].into(), devices: Default::default() };
    let scope = if role == Role::Supervisor { scope } else { Scope::default() };
    c.create_role_token(&TokenGrant { role, subject: subject.into(), scope }).unwrap()
}

/// (status, body) of a GET with a bearer token.
fn get(addr: SocketAddr, token: &str, path: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent =
        ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut reply = agent
        .get(format!("http://{addr}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = reply.status().as_u16();
    let body = reply.body_mut().with_config().limit(1 << 30).read_to_vec().unwrap();
    (status, body)
}

fn json(addr: SocketAddr, token: &str, path: &str) -> Value {
    let (status, body) = get(addr, token, path);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["instance_id"].as_str().unwrap().to_string())
        .collect()
}

/// Every file under `dir`, by relative name.
fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(f.name().unwrap().to_string(), data);
    }
    out
}

#[test]
fn researchers_read_forms_pages_filters_one_submission_and_the_export_zip_sqlite() {
    researchers_read_the_data(&Backend::sqlite().unwrap());
}

/// The same on PostgreSQL (skipped, saying so, without a cluster).
#[test]
fn researchers_read_forms_pages_filters_one_submission_and_the_export_zip_postgres() {
    if let Some(backend) = Backend::postgres() {
        researchers_read_the_data(&backend);
    }
}

fn researchers_read_the_data(backend: &Backend) {
    let mut a = Device::new("tablet A");
    let mut b = Device::new("tablet B");
    let mut plain = Vec::new();
    for answer in ["12", "40", "33"] {
        plain.push(a.finalize(answer, false, None));
    }
    for answer in ["7", "8"] {
        plain.push(b.finalize(answer, false, None));
    }
    let sealed = a.finalize("secret", true, None);
    let (mut c, at) = backend.fresh_at();
    c.publish(&common::instrument("plain", &[])).unwrap();
    c.publish(&common::instrument("sealed", &[common::TEST_RECIPIENT])).unwrap();
    c.ingest(&a.bundle(false)).unwrap();
    c.ingest(&b.bundle(false)).unwrap();
    let device = c.create_token(&a.device_id()).unwrap();
    let supervisor = token(&mut c, Role::Supervisor, "Ana");
    let researcher = token(&mut c, Role::Researcher, "Rui");
    let admin = token(&mut c, Role::Admin, "Ada");
    c.review_with_token(&researcher, &plain[1], ReviewKind::Approve, vec![]).unwrap();
    drop(c);
    let (addr, stop, handle) = serve_at(&at);

    // Roles: device and supervisor tokens are refused with the error shape
    // of every other refusal; no token is 401.
    let routes = [
        "/v1/data/forms".to_string(),
        "/v1/data/forms/plain/submissions".into(),
        format!("/v1/data/submissions/{}", plain[0]),
        "/v1/data/forms/plain/export.zip".into(),
    ];
    for path in &routes {
        for t in [&device, &supervisor] {
            let (status, body) = get(addr, t, path);
            assert_eq!(status, 403, "{path}");
            let e: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(e["error"], "forbidden_role", "{path}");
            assert!(e["message"].as_str().unwrap().contains("researcher"), "{e}");
        }
        assert_eq!(get(addr, "enm_nobody", path).0, 401, "{path}");
        for t in [&researcher, &admin] {
            assert_eq!(get(addr, t, path).0, 200, "{path}");
        }
    }

    // Forms and versions.
    let forms = json(addr, &researcher, "/v1/data/forms");
    let forms = forms.as_array().unwrap();
    assert_eq!(forms.len(), 2);
    let p = forms.iter().find(|f| f["form_id"] == "plain").unwrap();
    assert_eq!(p["submissions"], 5);
    assert_eq!(p["versions"][0]["version"], "1");
    assert_eq!(p["versions"][0]["hash"].as_str().unwrap().len(), 64);
    let s = forms.iter().find(|f| f["form_id"] == "sealed").unwrap();
    assert_eq!(s["submissions"], 1);

    // Paging: a cursor walks every submission once, in the order of one
    // page holding all; an offset gives the same pages.
    let all = json(addr, &researcher, "/v1/data/forms/plain/submissions?limit=1000&count=true");
    assert_eq!(all["total"], 5);
    // Counting is asked for: a page without it is only as dear as its size.
    let uncounted = json(addr, &researcher, "/v1/data/forms/plain/submissions?limit=1000");
    assert!(uncounted["total"].is_null());
    assert_eq!(ids(&uncounted), ids(&all));
    assert!(all["next_cursor"].is_null());
    let every = ids(&all);
    let mut sorted = every.clone();
    sorted.sort();
    let mut expected = plain.clone();
    expected.sort();
    assert_eq!(sorted, expected);
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/data/forms/plain/submissions?limit=2&cursor={c}"),
            None => "/v1/data/forms/plain/submissions?limit=2".into(),
        };
        let page = json(addr, &researcher, &path);
        let offset = json(
            addr,
            &researcher,
            &format!("/v1/data/forms/plain/submissions?limit=2&offset={}", walked.len()),
        );
        assert_eq!(ids(&page), ids(&offset));
        walked.extend(ids(&page));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!((walked, pages), (every.clone(), 3));
    let first = &all["items"][0];
    assert_eq!(first["form_id"], "plain");
    assert_eq!(first["form_version"], "1");
    assert_eq!(first["sealed"], false);

    // Filters.
    let count = |query: &str| {
        json(addr, &researcher, &format!("/v1/data/forms/plain/submissions?count=true&{query}"))
            ["total"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("review_state=approved"), 1);
    assert_eq!(
        ids(&json(addr, &admin, "/v1/data/forms/plain/submissions?review_state=approved")),
        vec![plain[1].clone()]
    );
    assert_eq!(count("review_state=received"), 4);
    assert_eq!(count("version=1"), 5);
    assert_eq!(count("version=2"), 0);
    assert_eq!(count("since=2000-01-01"), 5);
    assert_eq!(count("since=2999-01-01"), 0);
    // These responses belong to no round.
    assert_eq!(count("round=1"), 0);
    // An offset counts after a cursor; an empty cursor is the start.
    let first_page = json(addr, &researcher, "/v1/data/forms/plain/submissions?limit=1");
    let after_first = first_page["next_cursor"].as_str().unwrap();
    let after_cursor = json(
        addr,
        &researcher,
        &format!("/v1/data/forms/plain/submissions?limit=2&offset=1&cursor={after_first}"),
    );
    assert_eq!(ids(&after_cursor), every[2..4].to_vec());
    let from_start = json(addr, &researcher, "/v1/data/forms/plain/submissions?cursor=&limit=2");
    assert_eq!(ids(&from_start), every[..2].to_vec());
    // A cursor no store wrote (or the other store's kind) is a bad query.
    for bad in [
        "review_state=done",
        "limit=0",
        "limit=1001",
        "offset=-1",
        "round=x",
        "cursor=nope",
        "cursor=1.2.3",
        "cursor=-4",
        "count=maybe",
    ] {
        let (status, body) =
            get(addr, &researcher, &format!("/v1/data/forms/plain/submissions?{bad}"));
        assert_eq!(status, 400, "{bad}");
        let e: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(e["error"], "bad_query", "{bad}");
    }
    assert_eq!(get(addr, &researcher, "/v1/data/forms/nothing/submissions").0, 404);

    // One submission: the export's JSON document, metadata, review state.
    let one = json(addr, &researcher, &format!("/v1/data/submissions/{}", plain[1]));
    assert_eq!(one["submission"]["review_state"], "approved");
    assert_eq!(one["answers"]["KEY"], plain[1].as_str());
    assert_eq!(one["answers"]["data"]["a"], "40");
    assert!(one["not_exported"].is_null());
    // Sealed stays sealed: listed, never decrypted.
    let closed = json(addr, &researcher, &format!("/v1/data/submissions/{sealed}"));
    assert_eq!(closed["submission"]["sealed"], true);
    assert!(closed["answers"].is_null());
    assert!(closed["not_exported"].as_str().unwrap().contains("identity"), "{closed}");
    assert_eq!(get(addr, &researcher, "/v1/data/submissions/uuid:none").0, 404);

    // The zip holds exactly the files `central export --form F` writes.
    let (status, plain_zip) = get(addr, &researcher, "/v1/data/forms/plain/export.zip");
    assert_eq!(status, 200);
    let (_, sealed_zip) = get(addr, &admin, "/v1/data/forms/sealed/export.zip");
    assert_eq!(get(addr, &researcher, "/v1/data/forms/nothing/export.zip").0, 404);
    // With `central export`'s choices as query parameters.
    let (status, chosen_zip) = get(
        addr,
        &researcher,
        "/v1/data/forms/plain/export.zip?format=csv,json&layout=odk&labels=true&bom=true\
         &no_media=true&raw_csv=true&version=1&since=2000-01-01",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&chosen_zip));
    assert_eq!(get(addr, &researcher, "/v1/data/forms/plain/export.zip?lang=xx").0, 404);
    for bad in ["format=pdf", "layout=kobo", "since=yesterday", "labels=maybe"] {
        let (status, body) =
            get(addr, &researcher, &format!("/v1/data/forms/plain/export.zip?{bad}"));
        assert_eq!(status, 400, "{bad}: {}", String::from_utf8_lossy(&body));
        let e: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(e["error"], "bad_query", "{bad}");
    }

    // The feed: the main table's rows, a page of submissions at a time.
    let mut feed_rows: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    loop {
        let page =
            json(addr, &researcher, &format!("/v1/data/forms/plain/rows?limit=2&cursor={cursor}"));
        assert_eq!(page["table"], "plain");
        assert_eq!(page["tables"], serde_json::json!([{"name": "plain", "parent": null}]));
        assert!(page["not_exported"].as_array().unwrap().is_empty());
        let columns = page["columns"].as_array().unwrap();
        for row in page["rows"].as_array().unwrap() {
            assert_eq!(row.as_object().unwrap().len(), columns.len());
            feed_rows.push(row.clone());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let sealed_rows = json(addr, &researcher, "/v1/data/forms/sealed/rows");
    assert!(sealed_rows["rows"].as_array().unwrap().is_empty());
    assert_eq!(sealed_rows["not_exported"][0]["instance_id"], sealed.as_str());
    let approved = json(addr, &researcher, "/v1/data/forms/plain/rows?review_state=approved");
    assert_eq!(approved["rows"].as_array().unwrap().len(), 1);
    assert_eq!(approved["rows"][0]["KEY"], plain[1].as_str());
    assert_eq!(get(addr, &researcher, "/v1/data/forms/plain/rows?table=nothing").0, 404);
    for bad in ["limit=0", "cursor=nope"] {
        assert_eq!(get(addr, &researcher, &format!("/v1/data/forms/plain/rows?{bad}")).0, 400);
    }
    assert_eq!(get(addr, &researcher, "/v1/data/forms/nothing/rows").0, 404);
    let _ = stop.send(());
    handle.join().unwrap();

    let central: Central<AnyStore> = Central::open_at(&at).unwrap();
    for (form, zipped) in [("plain", &plain_zip), ("sealed", &sealed_zip)] {
        let out = common::tempdir();
        let opts = ExportOptions {
            filter: Filter { form: Some(form.into()), ..Filter::default() },
            ..ExportOptions::default()
        };
        export(central.store(), &opts, out.path(), &mut |_, _| {}).unwrap();
        let written = files_in(out.path());
        let got = unzip(zipped);
        assert_eq!(got.keys().collect::<Vec<_>>(), written.keys().collect::<Vec<_>>(), "{form}");
        assert_eq!(got, written, "{form}");
        assert!(got.contains_key(&format!("{form}.csv")), "{form}");
    }
    // The chosen zip is `central export` with those options.
    let out = common::tempdir();
    let opts = ExportOptions {
        format: Some(Format::Csv),
        also: vec![Format::Json],
        filter: Filter {
            form: Some("plain".into()),
            version: Some("1".into()),
            since: Some("2000-01-01".into()),
        },
        layout: Layout::Odk,
        labels: true,
        bom: Some(true),
        no_media: true,
        raw_csv: true,
        ..ExportOptions::default()
    };
    export(central.store(), &opts, out.path(), &mut |_, _| {}).unwrap();
    assert_eq!(unzip(&chosen_zip), files_in(out.path()));
    assert!(unzip(&chosen_zip).contains_key("plain.jsonl"));
    // The feed's rows are the CSV's rows (empty cells null).
    let csv_bytes = &unzip(&plain_zip)["plain.csv"];
    let text = String::from_utf8_lossy(csv_bytes);
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let from_csv: Vec<BTreeMap<String, String>> = reader
        .records()
        .map(|r| headers.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect())
        .collect();
    let from_feed: Vec<BTreeMap<String, String>> = feed_rows
        .iter()
        .map(|row| {
            row.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Null => String::new(),
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .collect();
    assert_eq!(from_feed.len(), 5);
    assert_eq!(from_feed, from_csv);

    // The answers are the export's JSON Lines document for that response.
    let out = common::tempdir();
    let opts = ExportOptions { format: Some(Format::Json), ..ExportOptions::default() };
    export(central.store(), &opts, out.path(), &mut |_, _| {}).unwrap();
    let lines = std::fs::read_to_string(out.path().join("plain.jsonl")).unwrap();
    let line: Value = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|d| d["KEY"] == plain[1].as_str())
        .unwrap();
    assert_eq!(one["answers"], line);
    let report = String::from_utf8_lossy(&unzip(&sealed_zip)["report.csv"]).into_owned();
    assert!(report.contains(&sealed), "{report}");
}

/// docs/openapi.yaml describes every data route the router serves, and
/// only those (and the uploads in parts), each with a GET and its path
/// parameters.
#[test]
fn the_openapi_file_describes_every_data_route() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    let doc = &docs[0];
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_hash().unwrap();
    let described: Vec<&str> = paths.keys().map(|k| k.as_str().unwrap()).collect();
    let mut served: Vec<&str> = DATA_ROUTES.to_vec();
    served.sort();
    let mut data_described: Vec<&str> =
        described.iter().copied().filter(|p| p.starts_with("/v1/data/")).collect();
    data_described.sort();
    assert_eq!(data_described, served);
    // Besides them, the device's uploads in parts (issue 18, item 5).
    let uploads = ["/v1/uploads", "/v1/uploads/{upload_id}", "/v1/uploads/{upload_id}/finish"];
    for route in uploads {
        assert!(described.contains(&route), "{route} is described");
    }
    assert_eq!(
        described.len(),
        served.len() + uploads.len(),
        "only data routes and uploads are described"
    );
    for route in served {
        let get = &doc["paths"][route]["get"];
        assert!(!get.is_badvalue(), "{route}: no get");
        assert!(get["responses"]["200"].as_hash().is_some(), "{route}: no 200");
        assert!(get["responses"]["403"].as_hash().is_some(), "{route}: no 403");
        // Each {param} of the path is a path parameter (inline or by $ref).
        for param in route.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')) {
            let listed = get["parameters"].as_vec().unwrap().iter().any(|p| {
                let p = match p["$ref"].as_str() {
                    Some(r) => &doc["components"]["parameters"][r.rsplit('/').next().unwrap()],
                    None => p,
                };
                p["name"].as_str() == Some(param) && p["in"].as_str() == Some("path")
            });
            assert!(listed, "{route}: {param} is not a path parameter");
        }
    }
}
