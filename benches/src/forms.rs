//! Generated forms of any size, the same shape for every engine we compare:
//! integer / text / select_one questions (40/30/30), about 10% calculates
//! chained on each other (one early answer ripples down the whole chain), and
//! about 30% of questions relevant on one random earlier question.

use std::collections::BTreeMap;

use enumera_core::instrument::{
    Bind, Choice, ChoiceList, Instrument, MODEL_VERSION, Node, NodeKind, Question, QuestionType,
    Settings, Text,
};

/// One generated row.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    /// `integer`, `text`, `select_one` or `calculate`.
    pub kind: &'static str,
    pub relevant: Option<String>,
    pub calculation: Option<String>,
    /// How many other rows' expressions name this one.
    pub referenced_by: usize,
}

/// A small deterministic generator (xorshift), so forms are the same on
/// every machine for a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// The rows of an `n`-row form.
pub fn rows(n: usize, seed: u64, relevant_frac: f64, calc_frac: f64) -> Vec<Row> {
    let mut rng = Rng::new(seed);
    let mut rows: Vec<Row> = Vec::with_capacity(n);
    let mut questions: Vec<(usize, &'static str)> = Vec::new();
    let mut ints: Vec<usize> = Vec::new();
    let mut last_calc: Option<usize> = None;
    let calc_every = ((1.0 / calc_frac).round() as usize).max(1);
    let kinds = ["integer", "integer", "integer", "integer", "text", "text", "text"];
    let kinds = [&kinds[..], &["select_one"; 3]].concat();
    let mut q_i = 0;
    for i in 0..n {
        if i % calc_every == calc_every - 1 && !ints.is_empty() {
            let src = ints[rng.below(ints.len())];
            let mut terms = vec![format!("coalesce(${{{}}}, 0) * 2", rows[src].name)];
            rows[src].referenced_by += 1;
            if rng.chance(0.5) && ints.len() > 1 {
                let other = ints[rng.below(ints.len())];
                terms.push(format!("coalesce(${{{}}}, 0)", rows[other].name));
                rows[other].referenced_by += 1;
            }
            if let Some(c) = last_calc {
                terms.insert(0, format!("coalesce(${{{}}}, 0)", rows[c].name));
                rows[c].referenced_by += 1;
            }
            rows.push(Row {
                name: format!("c{i:04}"),
                kind: "calculate",
                relevant: None,
                calculation: Some(terms.join(" + ")),
                referenced_by: 0,
            });
            last_calc = Some(i);
            continue;
        }
        let kind = kinds[q_i % kinds.len()];
        q_i += 1;
        let mut relevant = None;
        if !questions.is_empty() && rng.chance(relevant_frac) {
            let (dep, dkind) = questions[rng.below(questions.len())];
            rows[dep].referenced_by += 1;
            let d = &rows[dep].name;
            relevant = Some(match dkind {
                "integer" => format!("${{{d}}} > 50"),
                "select_one" => format!("${{{d}}} = 'b'"),
                _ => format!("string-length(${{{d}}}) > 3"),
            });
        }
        rows.push(Row {
            name: format!("q{i:04}"),
            kind,
            relevant,
            calculation: None,
            referenced_by: 0,
        });
        questions.push((i, kind));
        if kind == "integer" {
            ints.push(i);
        }
    }
    rows
}

/// The instrument for `rows`.
pub fn instrument(rows: &[Row]) -> Instrument {
    let children = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let qtype = match r.kind {
                "integer" => QuestionType::Integer,
                "text" => QuestionType::Text,
                "select_one" => QuestionType::SelectOne,
                _ => QuestionType::Calculate,
            };
            Node {
                name: r.name.clone(),
                kind: NodeKind::Question(Question {
                    qtype,
                    list: (r.kind == "select_one").then(|| "abc".to_string()),
                    file: None,
                    or_other: false,
                }),
                row: i as u32 + 2,
                label: if r.kind == "calculate" {
                    Text::default()
                } else {
                    Text::plain(format!("Question {i}"))
                },
                hint: Text::default(),
                guidance_hint: Text::default(),
                media: BTreeMap::new(),
                bind: Bind {
                    relevant: r.relevant.clone(),
                    calculation: r.calculation.clone(),
                    ..Bind::default()
                },
                appearance: None,
                parameters: BTreeMap::new(),
                pii: false,
                preload: false,
                extra: BTreeMap::new(),
                children: vec![],
            }
        })
        .collect();
    let choices = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, v)| Choice {
            name: v.to_string(),
            label: Text::plain(v.to_uppercase()),
            media: BTreeMap::new(),
            extra: BTreeMap::new(),
            row: i as u32 + 2,
        })
        .collect();
    Instrument {
        model_version: MODEL_VERSION,
        form_id: format!("large_{}", rows.len()),
        version: "1".into(),
        title: format!("Large {}", rows.len()),
        root_name: "data".into(),
        default_language: None,
        languages: vec![],
        settings: Settings::default(),
        children,
        choices: BTreeMap::from([("abc".to_string(), ChoiceList { choices })]),
        files: BTreeMap::new(),
        osm: BTreeMap::new(),
        externals: BTreeMap::new(),
    }
}

/// Answers for the questions others depend on (the ones whose answer
/// triggers recomputation), in form order: (ref, value).
pub fn hot_answers(rows: &[Row], count: usize, seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed ^ 0xA5A5);
    rows.iter()
        .filter(|r| r.referenced_by > 0 && r.kind != "calculate")
        .take(count)
        .map(|r| {
            let v = match r.kind {
                "integer" => (rng.below(100) + 1).to_string(),
                "select_one" => ["a", "b", "c"][rng.below(3)].to_string(),
                _ => "some text".to_string(),
            };
            (format!("/data/{}", r.name), v)
        })
        .collect()
}

/// Answers to questions nothing else reads: each touches a fixed number of
/// expressions (its own), so its cost must not grow with the form.
pub fn quiet_answers(rows: &[Row], count: usize) -> Vec<(String, String)> {
    rows.iter()
        .filter(|r| r.referenced_by == 0 && r.kind == "integer")
        .take(count)
        .map(|r| (format!("/data/{}", r.name), "7".to_string()))
        .collect()
}
