//! XLSForm import benchmark: a generated 2,000-question form (two languages,
//! groups and repeats, relevance, constraints, calculations, choice filters)
//! read from .xlsx bytes, validated (every expression parsed, every
//! reference resolved), written as canonical JSON with its hash, and
//! compiled for filling (`session::Form::compile`: the dependency graph).
//! Target: under 50 ms. pyxform converting the same file is timed beside it
//! when python3 is there (installed into the cache on first run).
//!
//! `cargo bench -p enumera-benches --bench import`
//! (ENUMERA_BENCH_QUESTIONS=N to change the size).

use std::process::Command;
use std::time::Instant;

use enumera_benches::{Samples, fmt_duration, generated_xlsform, peak_rss_bytes, thread_cpu_time};
use enumera_core::instrument::import_xlsform_bytes;
use enumera_core::session::Form;

fn main() {
    let n: usize =
        std::env::var("ENUMERA_BENCH_QUESTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let bytes = match generated_xlsform(n) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot generate the form: {e}");
            std::process::exit(1);
        }
    };
    let path = std::env::temp_dir().join(format!("enumera-bench-import-{n}.xlsx"));
    if let Err(e) = std::fs::write(&path, &bytes) {
        eprintln!("cannot write {}: {e}", path.display());
        std::process::exit(1);
    }

    let mut import = Samples::default();
    let mut output = Samples::default();
    let mut compile = Samples::default();
    let mut total = Samples::default();
    let runs = 30;
    let mut cpu_start = None;
    for i in 0..runs + 3 {
        if i == 3 {
            cpu_start = thread_cpu_time();
        }
        let t = Instant::now();
        let imported = match import_xlsform_bytes(&bytes, "generated.xlsx", None) {
            Ok(imported) => imported,
            Err(e) => {
                eprintln!("import failed: {e}");
                std::process::exit(1);
            }
        };
        let after_import = t.elapsed();
        let hash = imported.instrument.hash();
        let after_hash = t.elapsed();
        assert!(!imported.has_errors(), "the generated form must be valid");
        assert_eq!(hash.len(), 64);
        let form = Form::compile(imported.instrument);
        let all = t.elapsed();
        if let Err(e) = form {
            eprintln!("compile failed: {e}");
            std::process::exit(1);
        }
        if i >= 3 {
            import.0.push(after_import);
            output.0.push(after_hash - after_import);
            compile.0.push(all - after_hash);
            total.0.push(all);
        }
    }
    println!("XLSForm import, {n} questions, {} KiB .xlsx, {runs} runs", bytes.len() / 1024);
    for (what, s) in [
        ("read + import + validate", &import),
        ("canonical JSON + hash", &output),
        ("compile (session::Form)", &compile),
        ("total", &total),
    ] {
        println!(
            "  {what:<26} p50 {:>10}  p95 {:>10}  max {:>10}",
            fmt_duration(s.quantile(0.5)),
            fmt_duration(s.quantile(0.95)),
            fmt_duration(s.max())
        );
    }
    // CPU time per run: what a run costs when the machine is not shared.
    let cpu = match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) => Some((b - a) / runs),
        _ => None,
    };
    if let Some(c) = cpu {
        println!(
            "  {:<26} mean {:>10} (CPU time; wall above includes waiting for a core)",
            "total CPU per run",
            fmt_duration(c)
        );
    }
    let p50 = total.quantile(0.5);
    println!(
        "  target: total under 50 ms: wall p50 {}, CPU {}",
        if p50.as_millis() < 50 { "met" } else { "NOT met" },
        match cpu {
            Some(c) if c.as_millis() < 50 => "met",
            Some(_) => "NOT met",
            None => "not measured",
        }
    );
    println!("  peak RSS {:.1} MiB", peak_rss_bytes() as f64 / 1048576.0);

    pyxform_line(&path);
}

/// pyxform converting the same file (no ODK Validate), median of 5 runs.
fn pyxform_line(path: &std::path::Path) {
    if std::env::var_os("ENUMERA_BENCH_NO_PYXFORM").is_some() {
        return;
    }
    let Some(python) = enumera_tests::pyxform_python() else {
        println!("  pyxform: skipped (no python3 or pyxform could not be installed)");
        return;
    };
    let script = r#"
import sys, time
from pyxform.xls2xform import convert
times = []
for _ in range(5):
    t = time.perf_counter()
    convert(xlsform=sys.argv[1], validate=False)
    times.append(time.perf_counter() - t)
times.sort()
print(f"{times[len(times) // 2] * 1000:.1f}")
"#;
    match Command::new(&python).args(["-c", script]).arg(path).output() {
        Ok(o) if o.status.success() => {
            let ms = String::from_utf8_lossy(&o.stdout).trim().to_string();
            println!("  pyxform convert (same file, median of 5): {ms} ms");
        }
        Ok(o) => println!(
            "  pyxform: failed: {}",
            String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
        ),
        Err(e) => println!("  pyxform: could not run: {e}"),
    }
}
