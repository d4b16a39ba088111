//! The `type` column: question types with pyxform's aliases, `select_one
//! list [or_other]`, `select_one_from_file f.csv`, `rank list`, and the
//! begin/end rows of groups and repeats.

use crate::instrument::model::{Question, QuestionType};

/// What a `type` cell says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeCell {
    Question(Question),
    Begin {
        repeat: bool,
    },
    End {
        repeat: bool,
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

/// Plain (non-select) type names pyxform accepts, with what they mean.
const PLAIN: &[(&str, QuestionType)] = {
    use QuestionType::*;
    &[
        ("text", Text),
        ("string", Text),
        ("integer", Integer),
        ("int", Integer),
        ("decimal", Decimal),
        ("range", Range),
        ("note", Note),
        ("acknowledge", Acknowledge),
        ("trigger", Acknowledge),
        ("date", Date),
        ("time", Time),
        ("dateTime", DateTime),
        ("datetime", DateTime),
        ("geopoint", Geopoint),
        ("gps", Geopoint),
        ("location", Geopoint),
        ("geotrace", Geotrace),
        ("geoshape", Geoshape),
        ("image", Image),
        ("photo", Image),
        ("audio", Audio),
        ("video", Video),
        ("file", File),
        ("barcode", Barcode),
        ("calculate", Calculate),
        ("hidden", Hidden),
        ("start", Start),
        ("end", End),
        ("today", Today),
        ("deviceid", DeviceId),
        ("imei", DeviceId),
        ("username", Username),
        ("email", Email),
        ("phonenumber", PhoneNumber),
        ("simserial", SimSerial),
        ("subscriberid", SubscriberId),
        ("audit", Audit),
    ]
};

/// Types pyxform accepts that Enumera does not (yet) carry out.
const UNSUPPORTED: &[&str] = &[
    "osm",
    "background-audio",
    "background-geopoint",
    "start-geopoint",
    "xml-external",
    "csv-external",
    "select_one_external",
];

const SELECTS: &[(&str, QuestionType)] = {
    use QuestionType::*;
    &[
        ("select_one", SelectOne),
        ("select one", SelectOne),
        ("select1", SelectOne),
        ("select_multiple", SelectMultiple),
        ("select all that apply", SelectMultiple),
        ("select_one_from_file", SelectOneFromFile),
        ("select one from file", SelectOneFromFile),
        ("select_multiple_from_file", SelectMultipleFromFile),
        ("select multiple from file", SelectMultipleFromFile),
        ("rank", Rank),
    ]
};

const CONTAINERS: &[(&str, bool)] =
    &[("group", false), ("repeat", true), ("looped group", true), ("lgroup", true)];

/// Every type name a person may write, for suggestions.
fn vocabulary() -> impl Iterator<Item = &'static str> {
    PLAIN.iter().map(|(n, _)| *n).chain(SELECTS.iter().map(|(n, _)| *n)).chain([
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
    if let Some((_, t)) = PLAIN.iter().find(|(n, _)| *n == cell) {
        return TypeCell::Question(question(*t, None, None, false));
    }
    if let Some(s) = setting(cell) {
        return TypeCell::Setting(s);
    }
    if UNSUPPORTED.contains(&cell) || cell.starts_with("select_one_external ") {
        return TypeCell::Unsupported(cell.split(' ').next().unwrap_or(cell).to_string());
    }
    if let Some(q) = select(cell) {
        return q;
    }
    // `select_onee list`: suggest the command and keep the list name.
    let suggestion = match cell.split_once(' ') {
        Some((head, rest)) if !SELECTS.iter().any(|(n, _)| *n == head) => {
            suggest(head, SELECTS.iter().map(|(n, _)| *n))
                .map(|s| format!("{s} {rest}"))
                .or_else(|| suggest(cell, vocabulary()))
        }
        _ => suggest(cell, vocabulary()),
    };
    TypeCell::Unknown { suggestion }
}

fn question(
    qtype: QuestionType,
    list: Option<String>,
    file: Option<String>,
    or_other: bool,
) -> Question {
    Question { qtype, list, file, or_other }
}

/// `begin group`, `begin_group`, `end repeat`, `begin repeat over list`...
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
        return Some(TypeCell::Question(question(*qtype, list, file, or_other)));
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
            TypeCell::Question(q) => q,
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
        assert_eq!(parse("osm"), TypeCell::Unsupported("osm".into()));
        assert_eq!(parse("select_one yn extra"), TypeCell::Unknown { suggestion: None });
    }
}
