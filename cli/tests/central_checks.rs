//! The high-frequency checks of the demo campaign, as a field manager sees
//! them: the HTML report rendered by headless Chromium (no JavaScript is
//! needed). `ENUMERA_UPDATE_DOCS=1` also writes the screenshot shown in
//! docs/EXPORT.md (`docs/img/checks-demo.png`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// Width and height of a PNG, from its header.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&bytes[16..20]), be(&bytes[20..24])))
}

#[test]
fn the_demos_checks_render_in_a_browser() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = dir.path().join("demo");
    let run = Command::new(env!("CARGO_BIN_EXE_enumera"))
        .args(["demo", "--dir"])
        .arg(&demo)
        .output()
        .expect("demo");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report = demo.join("export/stata/checks/index.html");
    let html = std::fs::read_to_string(&report).expect("the demo writes the checks");
    assert!(!html.contains("<script"), "no JavaScript");
    for section in ["progress", "duplicates", "durations", "enumerators", "constraints", "outliers"]
    {
        assert!(html.contains(&format!("id=\"{section}\"")), "section {section}");
    }
    // The demo's rushed interviews and its don't-know-prone enumerator show.
    let durations =
        std::fs::read_to_string(demo.join("export/stata/checks/durations.csv")).expect("csv");
    assert!(durations.lines().count() > 1, "short interviews flagged:\n{durations}");
    assert!(html.matches("<svg").count() >= 10, "plots");

    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: no Chromium (apt-get install chromium); the report was not rendered");
        return;
    };
    let png = dir.path().join("checks.png");
    let mut child = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg("--window-size=1000,1400")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", report.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert_eq!(png_size(&bytes), Some((1000, 1400)), "a PNG of the window");
    assert!(bytes.len() > 20_000, "the page has content: {} bytes", bytes.len());
    if std::env::var_os("ENUMERA_UPDATE_DOCS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/img");
        std::fs::create_dir_all(&docs).expect("docs/img");
        std::fs::copy(&png, docs.join("checks-demo.png")).expect("copy");
    }
}
