//! The `type` column: question types with pyxform's aliases, `select_one
//! list [or_other]`, `select_one_from_file f.csv`, `rank list`, and the
//! begin/end rows of groups and repeats.

use crate::instrument::model::{Question, QuestionType};

/// What a `type` cell says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeCell {
    Question(Question, TypeDefaults),
    Begin {
        repeat: bool,
    },
    /// `begin loop over LIST`: a group holding one group per choice of
    /// LIST, each with a copy of the loop's rows (pyxform's loop).
    BeginLoop {
        list: String,
    },
    End {
        repeat: bool,
    },
    /// `csv-external` / `xml-external`: a secondary instance from a file
    /// named after the row, with no question of its own.
    External {
        csv: bool,
    },
    /// A settings column written as a survey row (`form_title`, `form_id`).
    Setting(&'static str),
    /// A type pyxform knows that Enumera does not carry out.
    Unsupported(String),
    /// A select without its list name (`select_one`).
    MissingList(String),
    Unknown {
        suggestion: Option<String>,
    },
}

/// What pyxform's question type dictionary adds to a row of some types
/// (`phone number` is a text with a digits-only constraint and a hint), used
/// where the row gives none of its own; and the preload parameter of the
/// `uri:` spellings of metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TypeDefaults {
    pub constraint: Option<&'static str>,
    pub hint: Option<&'static str>,
    pub preload_params: Option<&'static str>,
}

const NONE: TypeDefaults = TypeDefaults { constraint: None, hint: None, preload_params: None };

const fn checked(constraint: &'static str, hint: Option<&'static str>) -> TypeDefaults {
    TypeDefaults { constraint: Some(constraint), hint, preload_params: None }
}

const fn uri(params: &'static str) -> TypeDefaults {
    TypeDefaults { constraint: None, hint: None, preload_params: Some(params) }
}

/// Plain (non-select) type names, as pyxform 4.5's question type dictionary
/// and alias table (`aliases.py`, `question_type_dictionary.py`) spell
/// them, with what they mean.
const PLAIN: &[(&str, QuestionType, TypeDefaults)] = {
    use QuestionType::*;
    &[
        ("text", Text, NONE),
        ("string", Text, NONE),
        ("q string", Text, NONE),
        ("add text prompt", Text, NONE),
        ("integer", Integer, NONE),
        ("int", Integer, NONE),
        ("q int", Integer, NONE),
        ("add integer prompt", Integer, NONE),
        ("decimal", Decimal, NONE),
        ("q decimal", Decimal, NONE),
        ("add decimal prompt", Decimal, NONE),
        ("range", Range, NONE),
        ("note", Note, NONE),
        ("q note", Note, NONE),
        ("add note prompt", Note, NONE),
        ("acknowledge", Acknowledge, NONE),
        ("q acknowledge", Acknowledge, NONE),
        ("add acknowledge prompt", Acknowledge, NONE),
        ("trigger", Acknowledge, NONE),
        ("date", Date, NONE),
        ("q date", Date, NONE),
        ("add date prompt", Date, NONE),
        ("time", Time, NONE),
        ("dateTime", DateTime, NONE),
        ("datetime", DateTime, NONE),
        ("date time", DateTime, NONE),
        ("q date time", DateTime, NONE),
        ("q dateTime", DateTime, NONE),
        ("add date time prompt", DateTime, NONE),
        ("add dateTime prompt", DateTime, NONE),
        ("geopoint", Geopoint, NONE),
        ("q geopoint", Geopoint, NONE),
        ("gps", Geopoint, NONE),
        ("location", Geopoint, NONE),
        ("q location", Geopoint, NONE),
        ("add location prompt", Geopoint, NONE),
        ("geotrace", Geotrace, NONE),
        ("q geotrace", Geotrace, NONE),
        ("geoshape", Geoshape, NONE),
        ("q geoshape", Geoshape, NONE),
        ("image", Image, NONE),
        ("photo", Image, NONE),
        ("q image", Image, NONE),
        ("q picture", Image, NONE),
        ("add image prompt", Image, NONE),
        ("add photo prompt", Image, NONE),
        ("audio", Audio, NONE),
        ("q audio", Audio, NONE),
        ("add audio prompt", Audio, NONE),
        ("video", Video, NONE),
        ("q video", Video, NONE),
        ("add video prompt", Video, NONE),
        ("file", File, NONE),
        ("add file prompt", File, NONE),
        ("barcode", Barcode, NONE),
        ("q barcode", Barcode, NONE),
        ("add barcode prompt", Barcode, NONE),
        ("osm", Osm, NONE),
        ("calculate", Calculate, NONE),
        ("q calculate", Calculate, NONE),
        ("add calculate prompt", Calculate, NONE),
        ("hidden", Hidden, NONE),
        ("start", Start, NONE),
        ("start time", Start, NONE),
        ("get start time", Start, NONE),
        ("end", End, NONE),
        ("end time", End, NONE),
        ("get end time", End, NONE),
        ("today", Today, NONE),
        ("get today", Today, NONE),
        ("deviceid", DeviceId, NONE),
        ("device id", DeviceId, NONE),
        ("get device id", DeviceId, NONE),
        ("imei", DeviceId, NONE),
        ("uri:deviceid", DeviceId, uri("uri:deviceid")),
        ("username", Username, NONE),
        ("uri:username", Username, uri("uri:username")),
        ("email", Email, NONE),
        ("uri:email", Email, uri("uri:email")),
        ("phonenumber", PhoneNumber, NONE),
        ("get phone number", PhoneNumber, NONE),
        ("uri:phonenumber", PhoneNumber, uri("uri:phonenumber")),
        ("simserial", SimSerial, NONE),
        ("sim id", SimSerial, NONE),
        ("get sim id", SimSerial, NONE),
        ("uri:simserial", SimSerial, uri("uri:simserial")),
        ("subscriberid", SubscriberId, NONE),
        ("subscriber id", SubscriberId, NONE),
        ("get subscriber id", SubscriberId, NONE),
        ("uri:subscriberid", SubscriberId, uri("uri:subscriberid")),
        ("audit", Audit, NONE),
        ("start-geopoint", StartGeopoint, NONE),
        ("background-geopoint", BackgroundGeopoint, NONE),
        ("background-audio", BackgroundAudio, NONE),
        // Not metadata: an input with a check and a hint of its own.
        ("phone number", Text, checked("regex(., '^\\d*$')", Some("Enter numbers only."))),
        ("percentage", Integer, checked("0 <= . and . <= 100", None)),
        (
            "number of days in last month",
            Integer,
            checked("0 <= . and . <= 31", Some("Enter a number 0-31.")),
        ),
        (
            "number of days in last six months",
            Integer,
            checked("0 <= . and . <= 183", Some("Enter a number 0-183.")),
        ),
        (
            "number of days in last year",
            Integer,
            checked("0 <= . and . <= 365", Some("Enter a number 0-365.")),
        ),
    ]
};

/// Types pyxform accepts that Enumera does not (yet) carry out.
const UNSUPPORTED: &[&str] = &["select_one_external"];

/// pyxform's select commands (`aliases.select`), each followed by a list
/// name (or a file name), then optionally `or_other`.
const SELECTS: &[(&str, QuestionType)] = {
    use QuestionType::*;
    &[
        ("select_one", SelectOne),
        ("select one", SelectOne),
        ("select1", SelectOne),
        ("select one from", SelectOne),
        ("add select one prompt using", SelectOne),
        ("select_multiple", SelectMultiple),
        ("select all that apply", SelectMultiple),
        ("select all that apply from", SelectMultiple),
        ("add select multiple prompt using", SelectMultiple),
        ("select_one_from_file", SelectOneFromFile),
        ("select one from file", SelectOneFromFile),
        ("select_multiple_from_file", SelectMultipleFromFile),
        ("select multiple from file", SelectMultipleFromFile),
        ("rank", Rank),
    ]
};

/// `begin X` / `end X` (`aliases.control`); a `loop` is read apart.
const CONTAINERS: &[(&str, bool)] =
    &[("group", false), ("repeat", true), ("looped group", true), ("lgroup", true)];

/// Every type name a person may write, for suggestions.
fn vocabulary() -> impl Iterator<Item = &'static str> {
    PLAIN.iter().map(|(n, _, _)| *n).chain(SELECTS.iter().map(|(n, _)| *n)).chain([
        "begin group",
        "end group",
        "begin repeat",
        "end repeat",
    ])
}

/// Interprets a type cell (already trimmed, spaces collapsed).
pub(crate) fn parse(cell: &str) -> TypeCell {
    if let Some(c) = container(cell) {
        return c;
    }
    if let Some((_, t, defaults)) = PLAIN.iter().find(|(n, _, _)| *n == cell) {
        return TypeCell::Question(question(*t, None, None, false), *defaults);
    }
    if let Some(s) = setting(cell) {
        return TypeCell::Setting(s);
    }
    match cell {
        "csv-external" => return TypeCell::External { csv: true },
        "xml-external" => return TypeCell::External { csv: false },
        _ => {}
    }
    if UNSUPPORTED.contains(&cell) || cell.starts_with("select_one_external ") {
        return TypeCell::Unsupported(cell.split(' ').next().unwrap_or(cell).to_string());
    }
    if let Some(list) = cell.strip_prefix("osm ").filter(|l| !l.contains(' ')) {
        let q = question(QuestionType::Osm, Some(list.to_string()), None, false);
        return TypeCell::Question(q, NONE);
    }
    if let Some(q) = select(cell) {
        return q;
    }
    TypeCell::Unknown { suggestion: suggestion(cell) }
}

/// A correction of a misspelt type that is itself valid: the closest
/// command for the first one, two, three... words, with the rest kept
/// (`select_onee yn` -> `select_one yn`), or the closest whole type name.
fn suggestion(cell: &str) -> Option<String> {
    let valid = |s: &str| matches!(parse_known(s), Some(TypeCell::Question(..)));
    let words: Vec<&str> = cell.split(' ').collect();
    // The closest correction over every split into command and rest.
    let mut best: Option<(usize, String)> = None;
    for k in 1..words.len() {
        let head = words[..k].join(" ");
        let rest = words[k..].join(" ");
        let commands = SELECTS.iter().map(|(n, _)| *n).chain(["osm"]);
        // A command of as many words as the head: a correction, not a
        // shortening that eats the list name.
        let Some(s) = suggest(&head, commands).filter(|s| s.split(' ').count() == k) else {
            continue;
        };
        let d = distance(&head.to_lowercase(), &s.to_lowercase());
        let proposal = format!("{s} {rest}");
        if valid(&proposal) && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
            best = Some((d, proposal));
        }
    }
    best.map(|(_, s)| s)
        .or_else(|| suggest(cell, vocabulary()).filter(|s| parse_known(s).is_some()))
}

/// [`parse`] without suggestions (for checking one).
fn parse_known(cell: &str) -> Option<TypeCell> {
    match parse_without_suggestion(cell) {
        TypeCell::Unknown { .. } => None,
        other => Some(other),
    }
}

fn parse_without_suggestion(cell: &str) -> TypeCell {
    if container(cell).is_some()
        || PLAIN.iter().any(|(n, _, _)| *n == cell)
        || cell.strip_prefix("osm ").is_some_and(|l| !l.contains(' '))
    {
        return parse(cell);
    }
    select(cell).unwrap_or(TypeCell::Unknown { suggestion: None })
}

fn question(
    qtype: QuestionType,
    list: Option<String>,
    file: Option<String>,
    or_other: bool,
) -> Question {
    Question { qtype, list, file, or_other }
}

/// `begin group`, `begin_group`, `end repeat`, `begin repeat over list`,
/// `begin loop over list`, `end loop`...
fn container(cell: &str) -> Option<TypeCell> {
    let lower = cell.to_lowercase();
    let (begin, rest) =
        if let Some(r) = lower.strip_prefix("begin ").or_else(|| lower.strip_prefix("begin_")) {
            (true, r)
        } else if let Some(r) = lower.strip_prefix("end ").or_else(|| lower.strip_prefix("end_")) {
            (false, r)
        } else {
            return None;
        };
    if rest == "loop" {
        return (!begin).then_some(TypeCell::End { repeat: false });
    }
    if begin && let Some(list) = rest.strip_prefix("loop ") {
        // pyxform: `begin loop over LIST` (or `begin loop LIST`), case kept.
        let original = &cell[cell.len() - list.len()..];
        let list = original.strip_prefix("over ").unwrap_or(original);
        if !list.is_empty() && !list.contains(' ') {
            return Some(TypeCell::BeginLoop { list: list.to_string() });
        }
        return None;
    }
    CONTAINERS.iter().find_map(|(name, repeat)| {
        let matches = rest == *name || (begin && rest.starts_with(&format!("{name} ")));
        matches.then_some(if begin {
            TypeCell::Begin { repeat: *repeat }
        } else {
            TypeCell::End { repeat: *repeat }
        })
    })
}

fn setting(cell: &str) -> Option<&'static str> {
    match cell {
        "form_title" | "set_form_title" => Some("form_title"),
        "form_id" | "set_form_id" => Some("form_id"),
        _ => None,
    }
}

/// `select_one list`, `select_multiple list or_other`, `rank list`,
/// `select_one_from_file places.csv`.
fn select(cell: &str) -> Option<TypeCell> {
    // Longest command first so `select_one_from_file` is not read as `select_one`.
    let mut commands: Vec<&(&str, QuestionType)> = SELECTS.iter().collect();
    commands.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    for (command, qtype) in commands {
        if cell == *command {
            return Some(TypeCell::MissingList(command.to_string()));
        }
        let Some(rest) = cell.strip_prefix(command).and_then(|r| r.strip_prefix(' ')) else {
            continue;
        };
        let mut words = rest.split(' ');
        let list = words.next().unwrap_or_default().to_string();
        let tail: Vec<&str> = words.collect();
        let or_other = match tail.join(" ").as_str() {
            "" => false,
            "or_other" | "or other" | "or specify other" => true,
            _ => return None,
        };
        let from_file =
            matches!(qtype, QuestionType::SelectOneFromFile | QuestionType::SelectMultipleFromFile);
        let (list, file) = if from_file { (None, Some(list)) } else { (Some(list), None) };
        return Some(TypeCell::Question(question(*qtype, list, file, or_other), NONE));
    }
    None
}

/// The closest word in `candidates`, if close enough to be a likely typo
/// (case differences count as nearly nothing).
pub(crate) fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let d = if c.to_lowercase() == lower { 0 } else { distance(&lower, &c.to_lowercase()) + 1 };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = 1 + word.chars().count() / 3;
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c.to_string())
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use QuestionType::*;

    fn q(cell: &str) -> Question {
        match parse(cell) {
            TypeCell::Question(q, _) => q,
            other => panic!("{cell}: {other:?}"),
        }
    }

    #[test]
    fn plain_and_aliases() {
        assert_eq!(q("integer").qtype, Integer);
        assert_eq!(q("int").qtype, Integer);
        assert_eq!(q("photo").qtype, Image);
        assert_eq!(q("dateTime").qtype, DateTime);
        assert_eq!(q("imei").qtype, DeviceId);
        assert_eq!(q("gps").qtype, Geopoint);
    }

    #[test]
    fn selects() {
        let s = q("select_one yes_no");
        assert_eq!((s.qtype, s.list.as_deref(), s.or_other), (SelectOne, Some("yes_no"), false));
        let s = q("select_multiple crops or_other");
        assert_eq!((s.qtype, s.list.as_deref(), s.or_other), (SelectMultiple, Some("crops"), true));
        let s = q("select_one_from_file places.csv");
        assert_eq!(
            (s.qtype, s.file.as_deref(), s.list),
            (SelectOneFromFile, Some("places.csv"), None)
        );
        assert_eq!(q("rank prio").qtype, Rank);
        assert_eq!(q("select one yn").list.as_deref(), Some("yn"));
        assert_eq!(parse("select_one"), TypeCell::MissingList("select_one".into()));
    }

    #[test]
    fn pyxform_spellings() {
        // aliases.py and question_type_dictionary.py of pyxform 4.5.
        let s = q("select one from yn");
        assert_eq!((s.qtype, s.list.as_deref()), (SelectOne, Some("yn")));
        let s = q("select all that apply from crops or specify other");
        assert_eq!((s.qtype, s.list.as_deref(), s.or_other), (SelectMultiple, Some("crops"), true));
        assert_eq!(q("add select multiple prompt using c").qtype, SelectMultiple);
        assert_eq!(q("q int").qtype, Integer);
        assert_eq!(q("add file prompt").qtype, File);
        assert_eq!(q("get phone number").qtype, PhoneNumber);
        assert_eq!(q("osm tags").qtype, Osm);
        assert_eq!(q("start-geopoint").qtype, StartGeopoint);
        match parse("uri:deviceid") {
            TypeCell::Question(q, d) => {
                assert_eq!((q.qtype, d.preload_params), (DeviceId, Some("uri:deviceid")))
            }
            other => panic!("{other:?}"),
        }
        match parse("phone number") {
            TypeCell::Question(q, d) => {
                assert_eq!(q.qtype, Text);
                assert_eq!(d.constraint, Some("regex(., '^\\d*$')"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parse("begin loop over places"), TypeCell::BeginLoop { list: "places".into() });
        assert_eq!(parse("end loop"), TypeCell::End { repeat: false });
        assert_eq!(parse("csv-external"), TypeCell::External { csv: true });
    }

    #[test]
    fn containers() {
        assert_eq!(parse("begin group"), TypeCell::Begin { repeat: false });
        assert_eq!(parse("begin_group"), TypeCell::Begin { repeat: false });
        assert_eq!(parse("begin repeat"), TypeCell::Begin { repeat: true });
        assert_eq!(parse("End Repeat"), TypeCell::End { repeat: true });
        assert_eq!(parse("end_group"), TypeCell::End { repeat: false });
    }

    #[test]
    fn unknown_types_get_a_suggestion() {
        assert_eq!(parse("intger"), TypeCell::Unknown { suggestion: Some("integer".into()) });
        assert_eq!(parse("Integer"), TypeCell::Unknown { suggestion: Some("integer".into()) });
        assert_eq!(
            parse("select_onee yn"),
            TypeCell::Unknown { suggestion: Some("select_one yn".into()) }
        );
        assert_eq!(parse("zzzzzzzz"), TypeCell::Unknown { suggestion: None });
        assert_eq!(parse("select_one yn extra"), TypeCell::Unknown { suggestion: None });
        // Every suggestion is itself a valid type (it was not, for spaced
        // commands: `select one frm yn` was offered `select1 one frm yn`).
        assert_eq!(
            parse("select one frm yn"),
            TypeCell::Unknown { suggestion: Some("select one from yn".into()) }
        );
        assert_eq!(
            parse("select all that aply crops or_other"),
            TypeCell::Unknown { suggestion: Some("select all that apply crops or_other".into()) }
        );
    }
}
