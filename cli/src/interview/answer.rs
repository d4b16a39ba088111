//! Turning what the enumerator typed into the value the session takes:
//! choices by number, value or label, and a few forgiving spellings. Type
//! checking itself is the session's job (one set of rules everywhere).

use enumera_core::instrument::QuestionType;
use enumera_core::session::Prompt;
use enumera_core::session::state::ChoiceOption;

/// The key shown in front of choice `index`: its position (1-based), or its
/// value when some value is itself a number (then "1" could mean either,
/// so only values are offered and the ambiguity never arises).
pub fn choice_key(choices: &[ChoiceOption], index: usize) -> String {
    if keys_are_values(choices) {
        choices.get(index).map(|c| c.value.clone()).unwrap_or_default()
    } else {
        (index + 1).to_string()
    }
}

fn keys_are_values(choices: &[ChoiceOption]) -> bool {
    choices.iter().any(|c| c.value.trim().parse::<i64>().is_ok())
}

/// One typed token to a choice value: exact value, then number (when keys
/// are positions), then a unique label or value ignoring case.
fn resolve_one<'a>(choices: &'a [ChoiceOption], token: &str) -> Result<&'a str, String> {
    if let Some(c) = choices.iter().find(|c| c.value == token) {
        return Ok(&c.value);
    }
    if !keys_are_values(choices)
        && let Ok(n) = token.parse::<usize>()
    {
        return match n.checked_sub(1).and_then(|i| choices.get(i)) {
            Some(c) => Ok(&c.value),
            None => Err(format!("there is no choice {n}: pick 1 to {}", choices.len())),
        };
    }
    let folded = token.to_lowercase();
    let matching: Vec<&ChoiceOption> = choices
        .iter()
        .filter(|c| c.label.to_lowercase() == folded || c.value.to_lowercase() == folded)
        .collect();
    match matching.as_slice() {
        [one] => Ok(&one.value),
        _ => Err(format!("{token:?} is not one of the choices")),
    }
}

/// The choices whose label or value contains `typed` (ignoring case), by
/// index: what "type part of a name" finds in a long list.
pub fn search(choices: &[ChoiceOption], typed: &str) -> Vec<usize> {
    let needle = typed.trim().to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    choices
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            c.label.to_lowercase().contains(&needle) || c.value.to_lowercase().contains(&needle)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The value to give the session for `typed` on this prompt.
pub fn value_for(prompt: &Prompt, typed: &str) -> Result<String, String> {
    let q = prompt.qtype;
    if q.is_select() {
        if prompt.choices.is_empty() {
            return Err("this question has no choices right now".into());
        }
        let typed = typed.trim();
        if q.is_multi() {
            let mut picked: Vec<&str> = Vec::new();
            for token in typed.split([' ', ',', '\t']).filter(|t| !t.is_empty()) {
                let v = resolve_one(&prompt.choices, token)?;
                if !picked.contains(&v) {
                    picked.push(v);
                }
            }
            return Ok(picked.join(" "));
        }
        // A whole label may hold spaces ("Not sure"): try it before tokens.
        return resolve_one(&prompt.choices, typed).map(str::to_string);
    }
    match q {
        QuestionType::Acknowledge => match typed.trim().to_lowercase().as_str() {
            "y" | "yes" | "ok" | "1" | "true" => Ok("OK".into()),
            _ => Err("type y to acknowledge (or Enter to skip)".into()),
        },
        // Free text is kept as typed; everything else is trimmed.
        QuestionType::Text => Ok(typed.to_string()),
        _ => Ok(typed.trim().to_string()),
    }
}

/// What a prompt expects, in a few words, for the line under the label.
pub fn expects(prompt: &Prompt) -> String {
    use QuestionType::*;
    let range = || {
        let p = |k: &str| prompt.parameters.get(k);
        match (p("start"), p("end")) {
            (Some(s), Some(e)) => format!("a number from {s} to {e}"),
            _ => "a number".into(),
        }
    };
    match prompt.qtype {
        Text => String::new(),
        Integer => "a whole number".into(),
        Decimal => "a number".into(),
        Range => range(),
        SelectOne | SelectOneFromFile => "pick one: its number or value".into(),
        SelectMultiple | SelectMultipleFromFile => {
            "pick any: numbers or values, separated by spaces".into()
        }
        Rank => "every choice, in order: numbers or values separated by spaces".into(),
        Note => "press Enter to go on".into(),
        Acknowledge => "type y to acknowledge".into(),
        Date => "a date: YYYY-MM-DD".into(),
        Time => "a time: HH:MM".into(),
        DateTime => "a date and time: YYYY-MM-DDTHH:MM".into(),
        Geopoint => "latitude longitude [altitude accuracy]".into(),
        Geotrace | Geoshape => "points: lat lon alt acc; lat lon alt acc; ...".into(),
        Barcode => "the code".into(),
        Image | Audio | Video | File | Audit => "the path of a file".into(),
        _ => String::new(),
    }
}

/// The file a line names: as typed, less the quotes a terminal adds
/// around a path dropped on it (`'/media/sd/site 7.jpg'`).
pub(super) fn file_path(text: &str) -> std::path::PathBuf {
    let t = text.trim();
    let unquoted = [('\'', '\''), ('"', '"')]
        .iter()
        .find_map(|&(a, b)| t.strip_prefix(a).and_then(|r| r.strip_suffix(b)))
        .unwrap_or(t);
    std::path::PathBuf::from(unquoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(qtype: QuestionType, choices: &[(&str, &str)]) -> Prompt {
        Prompt {
            node: 1,
            reference: "/data/q".into(),
            name: "q".into(),
            qtype,
            label: "Q".into(),
            hint: None,
            appearance: None,
            parameters: Default::default(),
            media: Default::default(),
            choices: choices
                .iter()
                .map(|(v, l)| ChoiceOption { value: (*v).into(), label: (*l).into() })
                .collect(),
            value: String::new(),
            required: false,
            readonly: false,
            constraint_violation: None,
            required_violation: None,
        }
    }

    const FRUIT: &[(&str, &str)] = &[("apple", "Apple"), ("mango", "Mango"), ("ns", "Not sure")];

    #[test]
    fn select_one_by_number_value_or_label() {
        let p = prompt(QuestionType::SelectOne, FRUIT);
        assert_eq!(value_for(&p, "2"), Ok("mango".into()));
        assert_eq!(value_for(&p, " apple "), Ok("apple".into()));
        assert_eq!(value_for(&p, "not sure"), Ok("ns".into()));
        assert!(value_for(&p, "4").unwrap_err().contains("1 to 3"));
        assert!(value_for(&p, "pear").unwrap_err().contains("\"pear\""));
    }

    #[test]
    fn numeric_values_are_their_own_keys() {
        let p = prompt(QuestionType::SelectOne, &[("0", "No"), ("1", "Yes")]);
        assert_eq!(choice_key(&p.choices, 1), "1");
        assert_eq!(value_for(&p, "1"), Ok("1".into()), "1 is Yes, not the first choice");
        assert_eq!(value_for(&p, "0"), Ok("0".into()));
        assert!(value_for(&p, "2").is_err());
        let q = prompt(QuestionType::SelectOne, FRUIT);
        assert_eq!(choice_key(&q.choices, 1), "2");
    }

    #[test]
    fn select_multiple_takes_several_without_repeats() {
        let p = prompt(QuestionType::SelectMultiple, FRUIT);
        assert_eq!(value_for(&p, "1 3"), Ok("apple ns".into()));
        assert_eq!(value_for(&p, "mango,1, mango"), Ok("mango apple".into()));
        assert!(value_for(&p, "1 9").is_err());
    }

    #[test]
    fn search_finds_parts_of_labels_and_values() {
        let p = prompt(QuestionType::SelectOne, FRUIT);
        assert_eq!(search(&p.choices, "AN"), [1]);
        assert_eq!(search(&p.choices, "p"), [0]);
        assert_eq!(search(&p.choices, "s"), [2]);
        assert!(search(&p.choices, "kiwi").is_empty());
        assert!(search(&p.choices, " ").is_empty());
    }

    #[test]
    fn other_types() {
        let ack = prompt(QuestionType::Acknowledge, &[]);
        assert_eq!(value_for(&ack, "y"), Ok("OK".into()));
        assert!(value_for(&ack, "maybe").is_err());
        let text = prompt(QuestionType::Text, &[]);
        assert_eq!(value_for(&text, " a b "), Ok(" a b ".into()));
        let int = prompt(QuestionType::Integer, &[]);
        assert_eq!(value_for(&int, " 34 "), Ok("34".into()));
        assert_eq!(expects(&int), "a whole number");
    }

    #[test]
    fn a_path_is_taken_as_typed_or_dropped() {
        assert_eq!(file_path(" /sd/site.jpg "), std::path::Path::new("/sd/site.jpg"));
        assert_eq!(file_path("'/sd/site 7.jpg'"), std::path::Path::new("/sd/site 7.jpg"));
        assert_eq!(file_path("\"C:\\site.jpg\""), std::path::Path::new("C:\\site.jpg"));
        assert_eq!(file_path("'odd"), std::path::Path::new("'odd"));
    }
}
