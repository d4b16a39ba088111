//! An enumerator in the simulation: walks a form screen by screen as a
//! person would, answers each question plausibly for the participant in
//! front of them, and when an answer is refused (a constraint) tries again,
//! as happens in the field.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate};
use enumera_core::fill::{Fill, FillError};
use enumera_core::instrument::QuestionType;
use enumera_core::session::navigation::Screen;
use enumera_core::session::{NodeId, Prompt};
use enumera_core::store::Store;

use super::people::{District, Participant, Rng};

/// What one interview did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Interviewed {
    pub answered: usize,
    /// Answers first refused by a constraint, then corrected.
    pub corrected: usize,
    /// Repeat instances added.
    pub repeats: usize,
}

/// Who is being interviewed, in which round, where.
pub struct Respondent<'a> {
    pub participant: &'a Participant,
    pub district: &'a District,
    pub round: u32,
    /// Today, in the simulation's calendar.
    pub today: NaiveDate,
}

/// Answers questions until none is left to answer, or until `stop_after`
/// answers (an interview cut short).
pub fn interview(
    fill: &mut Fill,
    store: &mut Store,
    who: &Respondent<'_>,
    rng: &mut Rng,
    stop_after: Option<usize>,
) -> Result<Interviewed, FillError> {
    let mut done = Interviewed::default();
    let mut given_up: HashSet<String> = HashSet::new();
    let mut declined_repeats: HashSet<(NodeId, usize)> = HashSet::new();
    // A bound on steps: a form can always be walked in fewer.
    for _ in 0..2_000 {
        if stop_after.is_some_and(|n| done.answered >= n) {
            break;
        }
        let Some(next) = next_step(fill, &given_up, &declined_repeats) else { break };
        match next {
            Next::Question(prompt) => {
                let mut accepted = false;
                for attempt in 0..6 {
                    let Some(value) = choose(&prompt, who, rng, attempt) else { break };
                    if fill.set(store, &prompt.reference, &value).is_err() {
                        continue;
                    }
                    let valid = fill
                        .session()
                        .prompt(prompt.node)
                        .is_some_and(|p| p.constraint_violation.is_none());
                    if valid {
                        accepted = true;
                        done.answered += 1;
                        done.corrected += usize::from(attempt > 0);
                        break;
                    }
                }
                if !accepted {
                    // Leave it for a supervisor; the draft stays unfinished.
                    let _ = fill.set(store, &prompt.reference, "");
                    given_up.insert(prompt.reference.clone());
                }
            }
            Next::AddRepeat { parent, repeat, reference, count } => {
                let wanted = wanted_instances(&reference, who);
                if count < wanted {
                    fill.add_repeat(store, &reference)?;
                    done.repeats += 1;
                } else {
                    declined_repeats.insert((parent, repeat));
                }
            }
        }
    }
    Ok(done)
}

enum Next {
    Question(Box<Prompt>),
    AddRepeat { parent: NodeId, repeat: usize, reference: String, count: usize },
}

/// The first screen with something left to do.
fn next_step(
    fill: &Fill,
    given_up: &HashSet<String>,
    declined: &HashSet<(NodeId, usize)>,
) -> Option<Next> {
    let session = fill.session();
    for screen in session.screens() {
        let nodes = match screen {
            Screen::Question { node } => vec![node],
            Screen::FieldList { questions, .. } => questions,
            Screen::AddRepeat { parent, repeat } => {
                if declined.contains(&(parent, repeat)) {
                    continue;
                }
                let p = session.repeat_prompt(parent, repeat);
                return Some(Next::AddRepeat {
                    parent,
                    repeat,
                    reference: p.reference,
                    count: p.count,
                });
            }
        };
        for n in nodes {
            let Some(p) = session.prompt(n) else { continue };
            if p.readonly
                || !p.value.is_empty()
                || given_up.contains(&p.reference)
                || p.qtype.is_attachment()
                || p.qtype == QuestionType::Note
            {
                continue;
            }
            return Some(Next::Question(Box::new(p)));
        }
    }
    None
}

/// How many instances of a repeat this respondent reports: practice
/// changes grow with P2P participation and with time since the event.
fn wanted_instances(repeat: &str, who: &Respondent<'_>) -> usize {
    if repeat.ends_with("/changes") {
        let base = usize::from(who.round >= 2) + usize::from(who.round >= 3);
        match who.participant.p2p {
            super::people::P2pRole::None => base.saturating_sub(1),
            _ => base + 1,
        }
    } else {
        1
    }
}

/// A value for `prompt`; later attempts try other plausible values after a
/// constraint refused the first.
fn choose(prompt: &Prompt, who: &Respondent<'_>, rng: &mut Rng, attempt: usize) -> Option<String> {
    let name = prompt.name.as_str();
    let q = prompt.qtype;
    Some(match q {
        QuestionType::SelectOne | QuestionType::SelectOneFromFile => {
            select_one(prompt, who, rng, attempt)?
        }
        QuestionType::SelectMultiple | QuestionType::SelectMultipleFromFile => {
            let usable = usable_choices(prompt, attempt);
            let first = rng.pick(&usable)?.clone();
            if attempt == 0 && usable.len() > 2 && rng.chance(0.5) {
                let second = rng.pick(&usable)?.clone();
                if second != first {
                    return Some(format!("{first} {second}"));
                }
            }
            first
        }
        QuestionType::Rank => usable_choices(prompt, 1).join(" "),
        QuestionType::Integer | QuestionType::Decimal | QuestionType::Range => {
            number(name, prompt, rng, attempt).to_string()
        }
        QuestionType::Date => {
            let back = [30 + rng.below(300), 400, 900, 2, 10, 60][attempt.min(5)] as i64;
            (who.today - Duration::days(back)).format("%Y-%m-%d").to_string()
        }
        QuestionType::Time => {
            ["09:30", "11:15", "14:00", "16:45", "08:00", "18:30"][attempt.min(5)].to_string()
        }
        QuestionType::DateTime => format!("{}T10:30:00.000+00:00", who.today.format("%Y-%m-%d")),
        QuestionType::Geopoint => format!(
            "{:.5} {:.5} {} {}",
            who.district.lat + rng.noise() * 0.01,
            who.district.lon + rng.noise() * 0.01,
            10 + rng.below(30),
            5 + rng.below(10)
        ),
        QuestionType::Acknowledge => "OK".to_string(),
        QuestionType::Barcode => format!("{}", 100_000 + rng.below(900_000)),
        QuestionType::Text => text(name, who, rng, attempt),
        _ => return None,
    })
}

fn usable_choices(prompt: &Prompt, attempt: usize) -> Vec<String> {
    let avoid = |v: &str| {
        v.contains("other") || v == "none" || v == "dk" || v == "na" || v.contains("refus")
    };
    let preferred: Vec<String> =
        prompt.choices.iter().map(|c| c.value.clone()).filter(|v| !avoid(v)).collect();
    if attempt == 0 && !preferred.is_empty() {
        preferred
    } else {
        prompt.choices.iter().map(|c| c.value.clone()).collect()
    }
}

fn select_one(
    prompt: &Prompt,
    who: &Respondent<'_>,
    rng: &mut Rng,
    attempt: usize,
) -> Option<String> {
    let name = prompt.name.as_str();
    let has = |v: &str| prompt.choices.iter().any(|c| c.value == v);
    if name.starts_with("consent") && has("yes") {
        return Some("yes".into());
    }
    if name == "country" && has(who.district.country) {
        return Some(who.district.country.into());
    }
    if name.starts_with("cap_") && has("3") {
        let score = (who.participant.expected_score(who.round) + rng.noise() * 0.6).round();
        return Some((score.clamp(1.0, 5.0) as u8).to_string());
    }
    if matches!(name, "p2p_role" | "p2p_since_last") {
        let p2p = who.participant.p2p;
        let wanted = match (name, p2p) {
            ("p2p_role", super::people::P2pRole::Host) => "host",
            ("p2p_role", super::people::P2pRole::Visitor) => "visitor",
            ("p2p_role", _) => "none",
            (_, super::people::P2pRole::None) => "no",
            _ => "yes",
        };
        if has(wanted) {
            return Some(wanted.into());
        }
    }
    // Some answers are "don't know"; more with the second tablet's
    // enumerator, whom the high-frequency checks should single out.
    if attempt == 0 && has("dk") {
        let rate = if who.participant.device == 1 { 0.2 } else { 0.03 };
        if rng.chance(rate) {
            return Some("dk".into());
        }
    }
    // Names, places and roles: the same participant answers the same way.
    let usable = usable_choices(prompt, attempt);
    if matches!(name, "province" | "local_gov" | "district" | "role") && !usable.is_empty() {
        let i = who.participant.id.bytes().map(usize::from).sum::<usize>() % usable.len();
        return usable.get(i).cloned();
    }
    rng.pick(&usable).cloned()
}

fn number(name: &str, prompt: &Prompt, rng: &mut Rng, attempt: usize) -> i64 {
    if let (Some(start), Some(end)) = (prompt.parameters.get("start"), prompt.parameters.get("end"))
    {
        let (s, e) = (start.parse::<i64>().unwrap_or(1), end.parse::<i64>().unwrap_or(5));
        return s + rng.below((e - s + 1).max(1) as usize) as i64;
    }
    let first = if name.contains("age") {
        28 + rng.below(30) as i64
    } else if name.contains("year") && !name.contains("years") {
        2016 + rng.below(9) as i64
    } else if name.contains("years") {
        1 + rng.below(12) as i64
    } else if name.contains("day") {
        1 + rng.below(3) as i64
    } else if name.contains("min") {
        45 + rng.below(60) as i64
    } else {
        1 + rng.below(8) as i64
    };
    [first, first + 5, first + 12, 1, 0, 2022][attempt.min(5)]
}

fn text(name: &str, who: &Respondent<'_>, rng: &mut Rng, attempt: usize) -> String {
    let p = who.participant;
    if name == "participant_id" {
        return p.id.clone();
    }
    if name.contains("phone") {
        return [p.phone.clone(), p.phone.replace(' ', ""), "+258841234567".into()][attempt.min(2)]
            .clone();
    }
    if name.contains("email") {
        let user = p.name.to_lowercase().replace(' ', ".");
        let ascii: String =
            user.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
        return format!("{ascii}@example.org");
    }
    if name.contains("name") {
        return p.name.clone();
    }
    const SENTENCES: [&str; 8] = [
        "Scheduled emptying started in two wards with a private operator.",
        "The council approved a by-law on faecal sludge transport.",
        "A budget line for sanitation was added to next year's plan.",
        "Staff now record emptying requests in a shared register.",
        "We met the host municipality's team twice by video call.",
        "Lack of money for trucks is still the main problem.",
        "Community meetings now include women's groups and informal settlements.",
        "We plan to pilot a treatment site with the neighbouring district.",
    ];
    SENTENCES[(rng.below(SENTENCES.len()) + attempt) % SENTENCES.len()].to_string()
}
