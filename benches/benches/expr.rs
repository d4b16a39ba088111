//! Expression evaluation speed: a typical relevant, a constraint with a
//! regex, a choice filter over a 200-row list, a date calculation, and the
//! cost of parsing. Target: a typical relevant under 1 µs.
//!
//! Run: `cargo bench -p enumera-benches --bench expr`.

use std::hint::black_box;
use std::time::Instant;

use enumera_benches::{Samples, fmt_duration};
use enumera_core::expr::{Context, Document, Evaluator, FixedEnv, MemDoc, parse};

/// A form-sized instance: 300 questions, a few with answers.
fn document() -> MemDoc {
    let mut doc = MemDoc::new();
    let data = doc.append_element(doc.root(), "data", "");
    for i in 0..300 {
        doc.append_element(data, &format!("q{i}"), if i % 3 == 0 { "3" } else { "" });
    }
    doc.append_element(data, "age", "34");
    doc.append_element(data, "consent", "yes");
    doc.append_element(data, "phone", "+258 84 123 4567");
    doc.append_element(data, "dob", "1990-06-15");
    doc.append_element(data, "district", "d7");
    let rows: Vec<Vec<String>> = (0..200)
        .map(|i| vec![format!("v{i}"), format!("Village {i}"), format!("d{}", i % 20)])
        .collect();
    let row_refs: Vec<Vec<&str>> =
        rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
    let slices: Vec<&[&str]> = row_refs.iter().map(Vec::as_slice).collect();
    doc.add_instance_rows("villages", &["name", "label", "district"], &slices);
    doc
}

fn bench(name: &str, src: &str, doc: &MemDoc, iterations: usize) {
    let expr = match parse(src) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{name}: {e}");
            return;
        }
    };
    let env = FixedEnv::default();
    let ctx = doc.node_at("/data/q1").unwrap_or(doc.root());
    // Batches of 100 evaluations per sample keep timer overhead out of
    // sub-microsecond numbers.
    const BATCH: usize = 100;
    let mut samples = Samples::default();
    let mut last = String::new();
    for _ in 0..iterations / BATCH {
        samples.time(|| {
            for _ in 0..BATCH {
                let ev = Evaluator::new(doc, &env, ctx);
                let v = ev.eval(black_box(&expr), &Context::new(ctx));
                black_box(&v);
            }
        });
    }
    if let Ok(v) = Evaluator::new(doc, &env, ctx).eval(&expr, &Context::new(ctx)) {
        last = v.to_str(doc).into_owned();
    }
    let per = |d: std::time::Duration| fmt_duration(d / BATCH as u32);
    println!(
        "{name:<28} median {:>9}  p95 {:>9}  max {:>9}   = {last:?}",
        per(samples.quantile(0.5)),
        per(samples.quantile(0.95)),
        per(samples.max()),
    );
}

fn main() {
    // `cargo bench` passes --bench; under `cargo test --all-targets` this
    // binary runs once as a smoke test, so keep that run short.
    let full = std::env::args().any(|a| a == "--bench");
    let scale = |n: usize| if full { n } else { (n / 100).max(100) };
    let doc = document();
    println!("expression evaluation (per evaluation; samples of 100)");
    bench("relevant", "/data/age >= 18 and /data/consent = 'yes'", &doc, scale(200_000));
    bench(
        "relevant (selected)",
        "selected(/data/consent, 'yes') or /data/q3 > 2",
        &doc,
        scale(200_000),
    );
    bench(
        "constraint (regex)",
        "regex(., '^[0-9]*$') and string-length(/data/phone) >= 9",
        &doc,
        scale(200_000),
    );
    bench("calculate (dates)", "int((today() - date(/data/dob)) div 365.25)", &doc, scale(100_000));
    bench(
        "calculate (if/concat)",
        "if(/data/age > 60, 'senior', concat('age ', /data/age))",
        &doc,
        scale(100_000),
    );
    bench(
        "choice filter (200 rows)",
        "count(instance('villages')/root/item[district = /data/district])",
        &doc,
        scale(10_000),
    );

    let src = "if(selected(${consent}, 'yes') and ${age} >= 18, concat(${name}, ' ', format-date(today(), '%Y')), '')";
    let mut samples = Samples::default();
    let t = Instant::now();
    for _ in 0..scale(1000) {
        samples.time(|| {
            for _ in 0..100 {
                black_box(parse(black_box(src)).is_ok());
            }
        });
    }
    println!(
        "{:<28} median {:>9}  p95 {:>9}   ({} total)",
        "parse (typical calculate)",
        fmt_duration(samples.quantile(0.5) / 100),
        fmt_duration(samples.quantile(0.95) / 100),
        fmt_duration(t.elapsed()),
    );
}
