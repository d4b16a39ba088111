//! The web app in Chromium (issue 14): the size of its WebAssembly engine,
//! its cold start from `enumera central serve` on localhost, and the same
//! generated forms and answers as `engines` (500, 2,000, 5,000 rows)
//! opened and answered in the browser by Enumera's WebAssembly build and
//! by ODK Web Forms' engine (`@getodk/xforms-engine`), side by side in the
//! same Chromium.
//!
//! This writes the forms (instrument JSON, XForm, answers) and hands over
//! to scripts/bench-web.sh, which builds the app and drives Chromium
//! (web/bench/bench.mjs). Needs node, npm and the machine's Chromium; says
//! so and stops without them.
//!
//! `cargo bench -p enumera-benches --bench web [-- SIZES...]`; with
//! `ENUMERA_BENCH_FORMS=DIR` the generated forms are written (and kept)
//! there, and only written.

use std::path::PathBuf;
use std::process::Command;

use enumera_benches::forms;

fn main() {
    let mut sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![500, 2000, 5000];
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = tempfile::tempdir().expect("temp dir");
    let keep = std::env::var_os("ENUMERA_BENCH_FORMS").map(PathBuf::from);
    let dir = keep.clone().unwrap_or_else(|| work.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("forms folder");
    for &n in &sizes {
        let rows = forms::rows(n, 42, 0.30, 0.10);
        let instrument = forms::instrument(&rows);
        let xml = instrument.to_xform().expect("the generated form has an XForm");
        let answers: Vec<[String; 2]> =
            forms::hot_answers(&rows, 200, 7).into_iter().map(|(r, v)| [r, v]).collect();
        std::fs::write(dir.join(format!("large_{n}.json")), instrument.canonical_json())
            .expect("write the form");
        std::fs::write(dir.join(format!("large_{n}.xml")), xml).expect("write the XForm");
        std::fs::write(
            dir.join(format!("answers_{n}.json")),
            serde_json::to_vec(&answers).unwrap_or_default(),
        )
        .expect("write the answers");
    }
    if keep.is_some() {
        println!("forms written to {}", dir.display());
        return;
    }
    let status = Command::new("bash")
        .arg(repo.join("scripts/bench-web.sh"))
        .arg(&dir)
        .args(sizes.iter().map(ToString::to_string))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => println!("(not measured: scripts/bench-web.sh failed: {s})"),
        Err(e) => println!("(not measured: {e})"),
    }
}
