//! Form engine: compile, open a session, and answer, on generated forms of
//! 500, 2,000 and 5,000 rows. Prints one Markdown table row per size.
//!
//! Run: `cargo bench -p enumera-benches --bench session` (scripts/bench.sh).

use std::sync::Arc;
use std::time::Instant;

use enumera_benches::forms;
use enumera_benches::{Samples, fmt_duration, peak_rss_bytes};
use enumera_core::expr::FixedEnv;
use enumera_core::session::{Form, Session, SessionOptions};

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect::<Vec<_>>()
        .into_iter()
        .chain(std::iter::empty())
        .collect();
    let sizes = if sizes.is_empty() { vec![500, 2000, 5000] } else { sizes };
    println!(
        "| rows | compile | open session | answer p50 | answer p95 | answer max | 200 answers | quiet answer p50 / p95 | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let rows = forms::rows(n, 42, 0.30, 0.10);
        let instrument = forms::instrument(&rows);
        let answers = forms::hot_answers(&rows, 200, 7);

        let t = Instant::now();
        let form = Arc::new(Form::compile(instrument).expect("generated form compiles"));
        let compile = t.elapsed();

        let t = Instant::now();
        let mut session =
            Session::with_env(form, SessionOptions::default(), Box::new(FixedEnv::default()));
        let open = t.elapsed();

        let mut samples = Samples::default();
        for (r, v) in &answers {
            samples.time(|| session.set(r, v)).expect("generated answer is valid");
        }
        // Answers nothing depends on: a fixed amount of work each.
        let mut quiet = Samples::default();
        for (r, v) in forms::quiet_answers(&rows, 100) {
            quiet.time(|| session.set(&r, &v)).expect("generated answer is valid");
        }
        println!(
            "| {n} | {} | {} | {} | {} | {} | {} | {} / {} | {:.1} MiB |",
            fmt_duration(compile),
            fmt_duration(open),
            fmt_duration(samples.quantile(0.5)),
            fmt_duration(samples.quantile(0.95)),
            fmt_duration(samples.max()),
            fmt_duration(samples.total()),
            fmt_duration(quiet.quantile(0.5)),
            fmt_duration(quiet.quantile(0.95)),
            peak_rss_bytes() as f64 / (1024.0 * 1024.0),
        );
    }
}
