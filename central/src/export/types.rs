//! What kind of value a column holds, so that every file that types its
//! columns (Stata, SPSS, XLSX, JSON) types it the same way.
//!
//! A question's type says it for most columns. A calculate says nothing in
//! XLSForm, so its type comes from, in order: a `bind::type` column
//! (`int`, `decimal`, `date`, `dateTime`, `string`), then its expression
//! read statically (arithmetic, `count()`, `round()`, ... are numbers;
//! `concat()` and quoted words are text; `today()` is a date; `if()` is
//! what both branches are, an empty `''` branch taking the other's type),
//! and when that cannot tell, every value of the column (numbers when every
//! non-empty value is one). The same holds for `hidden` questions.
//!
//! Dates and times are converted here for every writer: Stata counts days
//! (`%td`) or milliseconds (`%tc`) from 1960-01-01, SPSS seconds from
//! 1582-10-14, Excel days from 1899-12-30. Date-times are stored in UTC
//! (the CSV and JSON keep the text as collected, with its offset); a time of
//! day is kept as the clock showed it.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use enumera_core::expr::{BinOp, Expr};
use enumera_core::instrument::{Instrument, Node, QuestionType};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Text,
    /// Whole numbers or decimals (integer, decimal, range, numeric calculates).
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// ISO 8601 with an offset (`2026-03-09T09:30:00.000+02:00`).
    DateTime,
    /// `HH:MM:SS.sss+02:00`: a clock time.
    Time,
    /// A select_one answer: written as its numeric code (codes.rs).
    Coded,
    /// A select_multiple choice column: 1 chosen, 0 not.
    Flag,
    /// A calculate whose type only its values tell: numbers when every
    /// non-empty value is a number, else text.
    Infer,
}

impl ValueType {
    /// The type of a question's value column.
    pub fn of_question(q: QuestionType) -> ValueType {
        use QuestionType::*;
        match q {
            Integer | Decimal | Range => ValueType::Number,
            Date | Today => ValueType::Date,
            DateTime | Start | End => ValueType::DateTime,
            Time => ValueType::Time,
            SelectOne => ValueType::Coded,
            Calculate | Hidden => ValueType::Infer,
            _ => ValueType::Text,
        }
    }

    /// Read as numbers by statistics packages.
    pub fn is_numeric(self) -> bool {
        matches!(self, ValueType::Number | ValueType::Coded | ValueType::Flag)
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, ValueType::Date | ValueType::DateTime | ValueType::Time)
    }

    /// The word the codebook uses.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Text => "text",
            ValueType::Number => "number",
            ValueType::Date => "date",
            ValueType::DateTime => "datetime (UTC in .dta/.sav/.xlsx)",
            ValueType::Time => "time of day",
            ValueType::Coded => "coded choice",
            ValueType::Flag => "0/1",
            ValueType::Infer => "number or text (from the values)",
        }
    }
}

/// The type of every calculate and hidden question of an instrument, by
/// question name (the first of a name wins: `${name}` must be unique).
pub fn calculate_types(inst: &Instrument) -> HashMap<String, ValueType> {
    let mut questions: HashMap<&str, &Node> = HashMap::new();
    fn collect<'a>(nodes: &'a [Node], into: &mut HashMap<&'a str, &'a Node>) {
        for n in nodes {
            into.entry(n.name.as_str()).or_insert(n);
            collect(&n.children, into);
        }
    }
    collect(&inst.children, &mut questions);
    let mut out = HashMap::new();
    for (name, node) in &questions {
        if matches!(node.question_type(), Some(QuestionType::Calculate | QuestionType::Hidden)) {
            let t = node_type(node, &questions, 0);
            out.insert((*name).to_string(), t);
        }
    }
    out
}

/// Static types of expressions, before they become column types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Static {
    Number,
    Text,
    Date,
    DateTime,
    /// `''`: what ODK writes for "no value".
    Empty,
    Unknown,
}

fn join(a: Static, b: Static) -> Static {
    match (a, b) {
        (x, y) if x == y => x,
        (Static::Empty, x) | (x, Static::Empty) => x,
        _ => Static::Unknown,
    }
}

/// Deep enough for any real chain of calculates; a cycle stops here.
const MAX_DEPTH: usize = 32;

fn node_type(node: &Node, questions: &HashMap<&str, &Node>, depth: usize) -> ValueType {
    match node.question_type() {
        Some(QuestionType::Calculate | QuestionType::Hidden) => {}
        Some(q) => return ValueType::of_question(q),
        None => return ValueType::Text,
    }
    if let Some(t) = node.extra.get("bind::type").and_then(|t| bind_type(t)) {
        return t;
    }
    let Some(src) = node.bind.calculation.as_deref() else { return ValueType::Infer };
    let Ok(expr) = enumera_core::expr::parse(src) else { return ValueType::Infer };
    match expr_type(&expr, questions, depth) {
        Static::Number => ValueType::Number,
        Static::Date => ValueType::Date,
        Static::DateTime => ValueType::DateTime,
        Static::Text => ValueType::Text,
        Static::Empty | Static::Unknown => ValueType::Infer,
    }
}

/// `bind::type` as pyxform passes it to the XForm (`int`, `xsd:decimal`, ...).
fn bind_type(t: &str) -> Option<ValueType> {
    match t.trim().trim_start_matches("xsd:") {
        "int" | "integer" | "decimal" | "double" | "float" => Some(ValueType::Number),
        "date" => Some(ValueType::Date),
        "dateTime" | "datetime" => Some(ValueType::DateTime),
        "time" => Some(ValueType::Time),
        "string" => Some(ValueType::Text),
        _ => None,
    }
}

fn expr_type(e: &Expr, questions: &HashMap<&str, &Node>, depth: usize) -> Static {
    if depth > MAX_DEPTH {
        return Static::Unknown;
    }
    match e {
        Expr::Num(_) | Expr::Neg(_) => Static::Number,
        Expr::Str(s) if s.is_empty() => Static::Empty,
        // `'5'` may be meant as a number: let the values tell.
        Expr::Str(s) if super::csv::is_plain_number(s.trim()) => Static::Unknown,
        Expr::Str(_) => Static::Text,
        Expr::Ref(name) => match questions.get(name.as_str()) {
            Some(node) => match node.question_type() {
                Some(QuestionType::Calculate | QuestionType::Hidden) => {
                    match node_type(node, questions, depth + 1) {
                        ValueType::Number => Static::Number,
                        ValueType::Date => Static::Date,
                        ValueType::DateTime => Static::DateTime,
                        ValueType::Text => Static::Text,
                        _ => Static::Unknown,
                    }
                }
                Some(q) => match ValueType::of_question(q) {
                    ValueType::Number => Static::Number,
                    ValueType::Date => Static::Date,
                    ValueType::DateTime => Static::DateTime,
                    ValueType::Text if q == QuestionType::Text => Static::Text,
                    _ => Static::Unknown,
                },
                None => Static::Unknown,
            },
            None => Static::Unknown,
        },
        Expr::Binary(op, a, b) => match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => Static::Number,
            // ODK writes booleans as `true` / `false`.
            BinOp::Or
            | BinOp::And
            | BinOp::Eq
            | BinOp::Ne
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge => Static::Text,
            BinOp::Union => {
                let _ = (a, b);
                Static::Unknown
            }
        },
        Expr::Call(c) => {
            let arg = |i: usize| {
                c.args.get(i).map_or(Static::Unknown, |a| expr_type(a, questions, depth + 1))
            };
            match c.name.as_str() {
                "if" => join(arg(1), arg(2)),
                "coalesce" => join(arg(0), arg(1)),
                "once" => arg(0),
                "number" | "int" | "round" | "sum" | "count" | "count-selected"
                | "count-non-empty" | "string-length" | "floor" | "ceiling" | "abs" | "pow"
                | "log" | "log10" | "exp" | "exp10" | "sqrt" | "sin" | "cos" | "tan" | "asin"
                | "acos" | "atan" | "atan2" | "pi" | "random" | "position" | "last" | "max"
                | "min" | "decimal-date-time" | "decimal-time" | "distance" | "area" => {
                    Static::Number
                }
                "today" | "date" => Static::Date,
                "now" | "date-time" => Static::DateTime,
                "concat"
                | "substr"
                | "substring"
                | "substring-before"
                | "substring-after"
                | "translate"
                | "normalize-space"
                | "upper-case"
                | "lower-case"
                | "join"
                | "selected-at"
                | "jr:choice-name"
                | "format-date"
                | "format-date-time"
                | "uuid"
                | "digest"
                | "base64-decode"
                | "boolean"
                | "not"
                | "true"
                | "false"
                | "selected"
                | "regex"
                | "contains"
                | "starts-with"
                | "ends-with"
                | "boolean-from-string" => Static::Text,
                _ => Static::Unknown,
            }
        }
        Expr::Path(_) | Expr::Filter(_) => Static::Unknown,
    }
}

/// Days from 1960-01-01 (Stata's `%td`, and the base of `%tc`).
fn stata_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1960, 1, 1).unwrap_or_default()
}

/// SPSS counts seconds from the start of the Gregorian calendar.
fn spss_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1582, 10, 14).unwrap_or_default()
}

fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default()
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// A date-time as ODK writes it (offset `+02:00`, `Z`, or none: UTC).
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(d) = DateTime::<FixedOffset>::parse_from_rfc3339(s) {
        return Some(d.naive_utc());
    }
    // `+0200` offsets, and date-times written without an offset.
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.naive_utc());
        }
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

/// A clock time, its offset (if any) left off: the time the clock showed.
pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    let clock = s
        .find(['+', 'Z'])
        .or_else(|| s.get(1..).and_then(|t| t.find('-').map(|i| i + 1)))
        .map_or(s, |i| &s[..i]);
    NaiveTime::parse_from_str(clock, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(clock, "%H:%M"))
        .ok()
}

fn seconds_of_day(t: NaiveTime) -> f64 {
    f64::from(t.num_seconds_from_midnight()) + f64::from(t.nanosecond()) / 1e9
}

fn seconds_since(epoch: NaiveDate, dt: NaiveDateTime) -> f64 {
    let days = (dt.date() - epoch).num_days() as f64;
    days * 86_400.0 + seconds_of_day(dt.time())
}

/// A date, date-time or time value as each tool counts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instant {
    /// Stata: days (`%td`) or milliseconds (`%tc`, and times of day).
    pub stata: f64,
    /// SPSS: seconds from 1582-10-14 (`DATE`, `DATETIME`) or from midnight (`TIME`).
    pub spss: f64,
    /// Excel: days from 1899-12-30, the time as a fraction of a day.
    pub excel: f64,
}

/// The value of `s` in a column of type `t` (Date, DateTime or Time).
pub fn instant(t: ValueType, s: &str) -> Option<Instant> {
    match t {
        ValueType::Date => {
            let d = parse_date(s)?;
            Some(Instant {
                stata: (d - stata_epoch()).num_days() as f64,
                spss: (d - spss_epoch()).num_days() as f64 * 86_400.0,
                excel: (d - excel_epoch()).num_days() as f64,
            })
        }
        ValueType::DateTime => {
            let dt = parse_datetime(s)?;
            Some(Instant {
                stata: (seconds_since(stata_epoch(), dt) * 1000.0).round(),
                spss: seconds_since(spss_epoch(), dt),
                excel: seconds_since(excel_epoch(), dt) / 86_400.0,
            })
        }
        ValueType::Time => {
            let t = parse_time(s)?;
            let secs = seconds_of_day(t);
            Some(Instant { stata: (secs * 1000.0).round(), spss: secs, excel: secs / 86_400.0 })
        }
        _ => None,
    }
}

/// A finite number written the way ODK writes numbers (`12`, `-3.5`, `.5`).
pub fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    if !super::csv::is_plain_number(s) {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calc(name: &str, expr: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "kind": {"kind": "question", "type": "calculate"}, "row": 2,
            "bind": {"calculation": expr}})
    }

    fn q(name: &str, ty: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "kind": {"kind": "question", "type": ty}, "row": 2})
    }

    #[test]
    fn calculates_are_typed_from_bind_type_then_expression() {
        let mut typed = calc("typed", "${t}");
        typed["extra"] = serde_json::json!({"bind::type": "int"});
        let json = serde_json::json!({
            "model_version": enumera_core::instrument::model::MODEL_VERSION,
            "form_id": "f", "version": "1", "title": "f", "root_name": "data", "settings": {},
            "children": [
                q("age", "integer"), q("t", "text"), q("dob", "date"), q("s", "select_one"),
                calc("mean", "if(${n} > 0, round((${age} + 2) div ${n}, 2), '')"),
                calc("n", "count-selected(${s})"),
                calc("band", "if(${age} < 25, '18_24', '25_plus')"),
                calc("flag", "if(${age} > 3, '1', '0')"),
                calc("copy", "${mean}"),
                calc("label", "concat('P-', ${t})"),
                calc("when", "today()"),
                calc("days", "today() - ${dob}"),
                calc("choice", "${s}"),
                calc("cycle_a", "${cycle_b}"),
                calc("cycle_b", "${cycle_a}"),
                calc("bool", "${age} > 18"),
                typed,
            ],
        });
        let inst = Instrument::from_json(json.to_string().as_bytes()).expect("instrument");
        let t = calculate_types(&inst);
        assert_eq!(t["mean"], ValueType::Number);
        assert_eq!(t["n"], ValueType::Number);
        assert_eq!(t["band"], ValueType::Text);
        assert_eq!(t["flag"], ValueType::Infer, "'1' and '0' may be numbers: the values tell");
        assert_eq!(t["copy"], ValueType::Number);
        assert_eq!(t["label"], ValueType::Text);
        assert_eq!(t["when"], ValueType::Date);
        assert_eq!(t["days"], ValueType::Number);
        assert_eq!(t["choice"], ValueType::Infer);
        assert_eq!(t["cycle_a"], ValueType::Infer);
        assert_eq!(t["bool"], ValueType::Text);
        assert_eq!(t["typed"], ValueType::Number);
    }

    #[test]
    fn dates_count_from_each_tools_epoch() {
        let d = instant(ValueType::Date, "1960-01-02").expect("date");
        assert_eq!(d.stata, 1.0);
        assert_eq!(d.excel, 21_917.0);
        assert_eq!(instant(ValueType::Date, "1582-10-15").expect("date").spss, 86_400.0);
        // 09:30 at +02:00 is 07:30 UTC.
        let dt = instant(ValueType::DateTime, "1960-01-01T09:30:00.500+02:00").expect("dt");
        assert_eq!(dt.stata, (7.5 * 3600.0 + 0.5) * 1000.0);
        let z = instant(ValueType::DateTime, "2026-03-09T09:30:00Z").expect("z");
        let plus = instant(ValueType::DateTime, "2026-03-09T11:30:00.000+02:00").expect("+");
        assert_eq!(z, plus);
        assert_eq!(instant(ValueType::DateTime, "2026-03-09T09:30:00+0000"), Some(z));
        let t = instant(ValueType::Time, "10:30:15.250+02:00").expect("time");
        assert_eq!(t.spss, 10.0 * 3600.0 + 30.0 * 60.0 + 15.25);
        assert_eq!(instant(ValueType::Time, "10:30:00-05:00").expect("t").spss, 37_800.0);
        assert!(instant(ValueType::Date, "next week").is_none());
        assert!(instant(ValueType::DateTime, "2026-13-01T00:00:00Z").is_none());
    }

    #[test]
    fn numbers_as_odk_writes_them() {
        assert_eq!(number("-3.5"), Some(-3.5));
        assert_eq!(number(".5"), Some(0.5));
        assert_eq!(number("NaN"), None);
        assert_eq!(number("inf"), None);
        assert_eq!(number("1e999"), None);
        assert_eq!(number("12 "), Some(12.0));
        assert_eq!(number("0x1"), None);
    }
}
