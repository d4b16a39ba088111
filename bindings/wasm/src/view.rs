//! What a screen shows, read from a session: questions in the current
//! language, screens, and one screen with its surroundings. Shared by the
//! store-backed [`crate::Interview`] and the researcher's [`crate::Preview`],
//! so both draw the same thing from the same engine.

use std::collections::BTreeMap;

use enumera_core::session::navigation::Screen as CoreScreen;
use enumera_core::session::{NodeId, Session};

use crate::errors::Result;
use crate::types::{
    ChoiceItem, IssueKind, Progress, Question, RepeatPlace, Screen, ScreenView, ValidationIssue,
};

pub(crate) fn question_at(session: &Session, reference: &str) -> Result<Question> {
    let node = session.resolve(reference)?;
    Ok(question_of(session, node))
}

/// A question from core's prompt (label, hint, choices in the current
/// language) and leaf state. Metadata fields have no prompt.
pub(crate) fn question_of(session: &Session, node: NodeId) -> Question {
    let leaf = session.leaf_state(node);
    let prompt = session.prompt(node);
    let issue = leaf.violation_message.map(|text| ValidationIssue {
        kind: if leaf.constraint_valid { IssueKind::Required } else { IssueKind::Constraint },
        reference: leaf.reference.clone(),
        text,
    });
    let media = prompt.as_ref().map(|p| p.media.clone()).unwrap_or_default();
    let (label, hint, appearance, parameters, choices) = match prompt {
        Some(p) => (
            Some(p.label),
            p.hint,
            p.appearance,
            p.parameters,
            p.choices.into_iter().map(|o| ChoiceItem { value: o.value, label: o.label }).collect(),
        ),
        None => (leaf.label, None, None, BTreeMap::new(), Vec::new()),
    };
    Question {
        reference: leaf.reference,
        question_type: leaf.qtype,
        label,
        hint,
        appearance,
        parameters,
        value: leaf.value,
        relevant: leaf.relevant,
        required: leaf.required,
        readonly: leaf.readonly,
        issue,
        choices,
        image: media.get("image").cloned(),
        big_image: media.get("big-image").cloned(),
        audio: media.get("audio").cloned(),
        video: media.get("video").cloned(),
    }
}

pub(crate) fn screen_of(session: &Session, screen: &CoreScreen) -> Screen {
    match screen {
        CoreScreen::Question { node } => {
            Screen::Question { question: Box::new(question_of(session, *node)) }
        }
        CoreScreen::FieldList { group, questions } => {
            let reference = session.reference(*group);
            let form = session.form();
            let label = form
                .by_path
                .get(&template_path(&reference))
                .and_then(|&t| form.template(t).label())
                .map(|l| session.render(l, *group));
            Screen::FieldList {
                reference,
                label,
                questions: questions.iter().map(|&q| question_of(session, q)).collect(),
            }
        }
        CoreScreen::AddRepeat { parent, repeat } => {
            let p = session.repeat_prompt(*parent, *repeat);
            Screen::AddRepeat {
                reference: p.reference,
                label: p.label,
                count: u32::try_from(p.count).unwrap_or(u32::MAX),
            }
        }
    }
}

/// The reference that names a screen: its question, its group, or for
/// "add another?" the repeat with `#add` (no node has that reference).
fn anchor_of(session: &Session, screen: &CoreScreen) -> String {
    match screen {
        CoreScreen::Question { node } => session.reference(*node),
        CoreScreen::FieldList { group, .. } => session.reference(*group),
        CoreScreen::AddRepeat { parent, repeat } => {
            format!("{}#add", session.repeat_prompt(*parent, *repeat).reference)
        }
    }
}

/// The node a screen is about (its question or group; the repeat's parent
/// for "add another?").
fn node_of(screen: &CoreScreen) -> NodeId {
    match screen {
        CoreScreen::Question { node } => *node,
        CoreScreen::FieldList { group, .. } => *group,
        CoreScreen::AddRepeat { parent, .. } => *parent,
    }
}

/// Where to go: the screen named `anchor` moved by `offset`, or the first
/// screen showing `target` (a question, group or repeat instance).
#[derive(Debug, Clone, Default)]
pub(crate) struct Place {
    pub anchor: Option<String>,
    pub offset: i32,
    pub target: Option<String>,
}

/// One screen and what surrounds it. The end of the form is the position
/// one past the last screen (`screen: None`). An anchor that is no longer
/// shown (its question became non-relevant) falls back to `fallback_index`.
pub(crate) fn view(session: &Session, place: &Place, fallback_index: u32) -> Result<ScreenView> {
    let screens = session.screens();
    let count = screens.len();
    let mut index = fallback_index as usize;
    if let Some(target) = &place.target {
        let node = session.resolve(target)?;
        index = screens
            .iter()
            .position(|s| {
                let n = node_of(s);
                n == node
                    || session.is_within(n, node)
                    || matches!(s, CoreScreen::FieldList { questions, .. } if questions.contains(&node))
            })
            .unwrap_or(index);
    } else if let Some(i) =
        place.anchor.as_ref().and_then(|a| screens.iter().position(|s| &anchor_of(session, s) == a))
    {
        index = i;
    }
    let index = (index as i64 + i64::from(place.offset)).clamp(0, count as i64) as usize;
    let progress = session.progress(&screens);
    let here = screens.get(index);
    let (breadcrumbs, repeat) = match here {
        Some(s) => {
            let node = match s {
                CoreScreen::AddRepeat { .. } => None,
                other => Some(node_of(other)),
            };
            let crumbs = match s {
                CoreScreen::AddRepeat { parent, .. } => {
                    let mut c = session.breadcrumbs(*parent);
                    if *parent != root(session) {
                        c.extend(group_label(session, *parent));
                    }
                    c
                }
                other => session.breadcrumbs(node_of(other)),
            };
            let repeat = node.and_then(|n| session.repeat_instance_of(n)).map(|r| RepeatPlace {
                reference: r.reference,
                repeat_reference: r.repeat_reference,
                label: r.label,
                position: u32::try_from(r.position).unwrap_or(u32::MAX),
                count_controlled: r.count_controlled,
            });
            (crumbs, repeat)
        }
        None => (Vec::new(), None),
    };
    Ok(ScreenView {
        index: u32::try_from(index).unwrap_or(u32::MAX),
        count: u32::try_from(count).unwrap_or(u32::MAX),
        anchor: here.map(|s| anchor_of(session, s)).unwrap_or_default(),
        screen: here.map(|s| screen_of(session, s)),
        breadcrumbs,
        repeat,
        progress: Progress { answered: progress.answered as u64, asked: progress.asked as u64 },
        language: session.language().map(str::to_string),
        languages: session.form().instrument.languages.clone(),
    })
}

fn root(session: &Session) -> NodeId {
    // The root is the node `/root_name` resolves to; it always exists.
    let name = &session.form().root().name;
    session.resolve(&format!("/{name}")).unwrap_or_default()
}

/// A container's own label, for the crumbs of an "add another?" screen.
fn group_label(session: &Session, node: NodeId) -> Option<String> {
    let reference = session.reference(node);
    let form = session.form();
    let t = form.by_path.get(&template_path(&reference))?;
    form.template(*t).label().map(|l| session.render(l, node)).filter(|l| !l.is_empty())
}

/// `/data/members[2]/name` -> `/data/members/name`: the template's path.
pub(crate) fn template_path(reference: &str) -> String {
    let mut out = String::with_capacity(reference.len());
    let mut skipping = false;
    for c in reference.chars() {
        match c {
            '[' => skipping = true,
            ']' => skipping = false,
            _ if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use enumera_core::expr::FixedEnv;
    use enumera_core::session::{Form, SessionOptions};

    use super::*;

    fn session() -> Session {
        let json = serde_json::json!({
            "model_version": enumera_core::instrument::model::MODEL_VERSION,
            "form_id": "f", "version": "1", "title": "F", "root_name": "data",
            "settings": {}, "children": [
                {"name": "a", "kind": {"kind": "question", "type": "integer"}, "row": 2},
                {"name": "b", "kind": {"kind": "question", "type": "text"}, "row": 3,
                 "bind": {"relevant": "${a} > 1"}},
                {"name": "c", "kind": {"kind": "question", "type": "text"}, "row": 4},
            ],
        });
        let i = enumera_core::instrument::Instrument::from_json(json.to_string().as_bytes())
            .expect("instrument");
        let form = Arc::new(Form::compile(i).expect("compiles"));
        Session::with_env(form, SessionOptions::default(), Box::new(FixedEnv::default()))
    }

    #[test]
    fn an_anchor_keeps_its_screen_when_others_appear_before_the_next() {
        let mut s = session();
        let first = view(&s, &Place::default(), 0).expect("view");
        assert_eq!((first.index, first.count, first.anchor.as_str()), (0, 2, "/data/a"));
        s.set("/data/a", "5").expect("answer");
        let here = Place { anchor: Some("/data/a".into()), ..Default::default() };
        assert_eq!(view(&s, &here, 0).expect("view").count, 3);
        let next = Place { anchor: Some("/data/a".into()), offset: 1, target: None };
        assert_eq!(view(&s, &next, 0).expect("view").anchor, "/data/b");
        let end = Place { anchor: Some("/data/c".into()), offset: 5, target: None };
        let end = view(&s, &end, 0).expect("view");
        assert_eq!((end.index, end.screen.is_none()), (3, true));
    }

    #[test]
    fn a_hidden_anchor_falls_back_and_a_target_is_found() {
        let mut s = session();
        s.set("/data/a", "5").expect("answer");
        s.set("/data/a", "0").expect("answer");
        let gone = Place { anchor: Some("/data/b".into()), ..Default::default() };
        assert_eq!(view(&s, &gone, 1).expect("view").anchor, "/data/c");
        let jump = Place { target: Some("/data/c".into()), ..Default::default() };
        assert_eq!(view(&s, &jump, 0).expect("view").index, 1);
    }

    #[test]
    fn template_paths_drop_instance_indices() {
        assert_eq!(template_path("/data/hh[2]/members[10]/name"), "/data/hh/members/name");
    }
}
