//! Random XLSForms (from a fixed seed, so every run sees the same ones):
//! question types, groups and repeats nested, references between questions
//! in labels and logic, defaults, triggers, one or two languages. They find
//! the combinations the hand-written fixtures do not think of.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Workbook, XlsxError};

/// A small deterministic generator (xorshift64*); the forms must not change
/// from run to run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const TYPES: &[&str] = &[
    "text",
    "integer",
    "decimal",
    "date",
    "time",
    "dateTime",
    "geopoint",
    "note",
    "select_one l1",
    "select_multiple l2",
    "rank l1",
    "calculate",
    "acknowledge",
    "barcode",
    "image",
    "range",
    "hidden",
    "select_one l1 or_other",
];

const HEAD: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "relevant",
    "constraint",
    "constraint_message",
    "required",
    "calculation",
    "default",
    "appearance",
    "choice_filter",
    "repeat_count",
    "read_only",
    "trigger",
];

/// Ends the innermost group or repeat, giving it a question if it has none.
fn close(open: &mut Vec<(&str, usize)>, rows: &mut Vec<Vec<String>>, width: usize) {
    let Some((kind, children)) = open.pop() else {
        return;
    };
    if children == 0 {
        let mut filler = vec![String::new(); width];
        filler[0] = "text".into();
        filler[1] = format!("filler{}", rows.len());
        filler[2] = "Filler".into();
        rows.push(filler);
    }
    let mut row = vec![String::new(); width];
    row[0] = format!("end_{kind}");
    rows.push(row);
}

/// Writes form number `k` as `random_K.xlsx` into `dir`.
pub fn write(dir: &Path, k: u64) -> Result<PathBuf, XlsxError> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (k + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let two_languages = rng.chance(40);
    let langs: &[&str] = if two_languages { &["English (en)", "Português (pt)"] } else { &[""] };
    let col =
        |c: &str, lang: &str| if lang.is_empty() { c.to_string() } else { format!("{c}::{lang}") };

    let mut head: Vec<String> = Vec::new();
    for h in HEAD {
        if matches!(*h, "label" | "hint") {
            head.extend(langs.iter().map(|l| col(h, l)));
        } else {
            head.push(h.to_string());
        }
    }
    let at = |name: &str| head.iter().position(|h| h == name).unwrap_or(0);
    let mut rows: Vec<Vec<String>> = vec![head.clone()];
    // Names a reference may use, and those a trigger may (shown questions).
    let mut names: Vec<String> = Vec::new();
    let mut shown: Vec<String> = Vec::new();
    // Open groups and repeats, each with how many rows it holds so far (an
    // empty one gets a question, as ODK refuses empty groups).
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut n = 0;
    let count = 5 + rng.below(25);
    for _ in 0..count {
        let mut row = vec![String::new(); head.len()];
        let reference = |rng: &mut Rng, names: &[String]| {
            if names.is_empty() {
                "1".to_string()
            } else {
                format!("${{{}}}", names[rng.below(names.len())])
            }
        };
        let roll = rng.below(100);
        if roll < 10 && open.len() < 3 {
            let kind = if rng.chance(50) { "group" } else { "repeat" };
            n += 1;
            let name = format!("{}{n}", &kind[..1]);
            row[0] = format!("begin_{kind}");
            row[1] = name.clone();
            if rng.chance(70) {
                for l in langs {
                    row[at(&col("label", l))] = format!("{name} label");
                }
            }
            if rng.chance(30) {
                row[at("relevant")] = format!("{} != ''", reference(&mut rng, &names));
            }
            if kind == "repeat" && rng.chance(40) {
                let r = reference(&mut rng, &names);
                row[at("repeat_count")] = match rng.below(3) {
                    0 => "3".to_string(),
                    1 => r,
                    _ => format!("{r} + 1"),
                };
            }
            if kind == "group" && rng.chance(30) {
                row[at("appearance")] = "field-list".into();
            }
            if let Some(parent) = open.last_mut() {
                parent.1 += 1;
            }
            open.push((kind, 0));
            rows.push(row);
            continue;
        }
        if roll < 18 && !open.is_empty() {
            close(&mut open, &mut rows, head.len());
            continue;
        }
        if let Some(parent) = open.last_mut() {
            parent.1 += 1;
        }
        let t = rng.pick(TYPES);
        n += 1;
        let name = format!("q{n}");
        row[0] = t.to_string();
        row[1] = name.clone();
        match t {
            "calculate" => {
                let r = reference(&mut rng, &names);
                row[at("calculation")] = match rng.below(4) {
                    0 => format!("{r} + 1"),
                    1 => format!("concat('a', {r})"),
                    2 => format!("count({r})"),
                    _ => "today()".to_string(),
                };
            }
            "hidden" => {}
            _ => {
                for l in langs {
                    let r = reference(&mut rng, &names);
                    row[at(&col("label", l))] = match rng.below(3) {
                        0 => format!("Q {name}"),
                        1 => format!("Q {name} about {r}"),
                        _ => format!("<b>{name}</b> & more"),
                    };
                }
                if rng.chance(30) {
                    row[at(&col("hint", langs[0]))] = format!("hint {name}");
                }
            }
        }
        if rng.chance(30) {
            let (a, b) = (reference(&mut rng, &names), reference(&mut rng, &names));
            row[at("relevant")] = match rng.below(3) {
                0 => format!("{a} = 'a'"),
                1 => format!("{a} > 2 and {b} < 9"),
                _ => format!("selected({a}, 'a')"),
            };
        }
        let asked = !matches!(t, "calculate" | "note" | "acknowledge" | "hidden");
        if asked && rng.chance(20) {
            let r = reference(&mut rng, &names);
            row[at("constraint")] =
                if rng.chance(50) { ". > 0".into() } else { format!(". != {r}") };
            row[at("constraint_message")] =
                if rng.chance(50) { "bad".into() } else { format!("not {r}") };
        }
        if asked && rng.chance(20) {
            let r = reference(&mut rng, &names);
            row[at("required")] =
                rng.pick(&["yes", "no", "true()", "expr"]).replace("expr", &format!("{r} = 1"));
        }
        if matches!(t, "text" | "integer" | "decimal" | "date") && rng.chance(15) {
            let r = reference(&mut rng, &names);
            row[at("default")] =
                rng.pick(&["1", "2020-01-01", "today()", "ref", "abc"]).replace("ref", &r);
        }
        if t == "select_one l1" && rng.chance(15) {
            let r = reference(&mut rng, &names);
            row[at("choice_filter")] =
                if rng.chance(50) { "f = 'x'".into() } else { format!("f = {r}") };
        }
        if t == "dateTime" && !shown.is_empty() && rng.chance(20) {
            row[at("trigger")] = format!("${{{}}}", shown[rng.below(shown.len())]);
            row[at("calculation")] = "now()".into();
        }
        if t == "text" && rng.chance(10) {
            let r = reference(&mut rng, &names);
            row[at("read_only")] = if rng.chance(50) { "yes".into() } else { format!("{r} != ''") };
        }
        names.push(name.clone());
        if asked {
            shown.push(name);
        }
        rows.push(row);
    }
    while !open.is_empty() {
        close(&mut open, &mut rows, head.len());
    }

    let mut choices: Vec<Vec<String>> = vec![{
        let mut h = vec!["list_name".to_string(), "name".to_string()];
        h.extend(langs.iter().map(|l| col("label", l)));
        h.push("f".into());
        h
    }];
    for list in ["l1", "l2"] {
        for c in ["a", "b", "c"] {
            let mut row = vec![list.to_string(), c.to_string()];
            row.extend(langs.iter().map(|l| format!("{c} {l}").trim().to_string()));
            row.push(rng.pick(&["x", "y"]).to_string());
            choices.push(row);
        }
    }

    let mut book = Workbook::new();
    let mut sheets = vec![("survey", rows), ("choices", choices)];
    if two_languages {
        sheets
            .push(("settings", vec![vec!["default_language".into()], vec![langs[0].to_string()]]));
    }
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(name)?;
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    ws.write_string(r as u32, c as u16, cell.as_str())?;
                }
            }
        }
    }
    let path = dir.join(format!("random_{k:02}.xlsx"));
    book.save(&path)?;
    Ok(path)
}
