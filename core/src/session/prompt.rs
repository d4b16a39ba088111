//! What an interviewer puts in front of the enumerator for one question or
//! one "add another?" screen, gathered in one place: label, hint and choices
//! in the current language, the current answer, and what is wrong with it.
//! Front ends (the terminal interview, the apps) read these instead of
//! walking templates themselves.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::instrument::QuestionType;

use super::Session;
use super::form::{TplId, TplKind};
use super::navigation::Screen;
use super::state::ChoiceOption;
use super::tree::NodeId;

/// One question as the enumerator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prompt {
    pub node: NodeId,
    /// ODK's reference (`/data/members[2]/name`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// The question's name (the `name` column).
    pub name: String,
    #[serde(rename = "type")]
    pub qtype: QuestionType,
    /// The label in the current language with `${}` filled in; the name
    /// when the question has no label.
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    /// The `parameters` column (`start`, `end`, `step` of a range, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    /// Media shown with the label (`image`, `big-image`, `audio`, `video`):
    /// the form media file's name in the current language (XLSForm's
    /// `media::image::LANG` columns), falling back as labels do.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub media: BTreeMap<String, String>,
    /// The current choices of a select (choice_filter applied); empty otherwise.
    pub choices: Vec<ChoiceOption>,
    /// The stored answer, as ODK's string value.
    pub value: String,
    pub required: bool,
    pub readonly: bool,
    /// The constraint message (current language) when the answer violates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint_violation: Option<String>,
    /// The required message when the question is required and unanswered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_violation: Option<String>,
}

/// The "add another?" screen at the end of a user-controlled repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatPrompt {
    /// What [`Session::add_repeat`] takes (`/data/hh[2]/members`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// The repeat's label in the current language, or its name.
    pub label: String,
    /// Instances there are now.
    pub count: usize,
}

/// Questions shown now that the enumerator can answer, and how many of
/// them hold an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub answered: usize,
    pub asked: usize,
}

/// A repeat instance that holds some node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepeatInstance {
    pub node: NodeId,
    /// What [`Session::remove_repeat`] takes (`/data/members[2]`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// The repeat (range) reference, what [`Session::add_repeat`] takes.
    pub repeat_reference: String,
    pub label: String,
    /// 1-based position among its siblings.
    pub position: usize,
    /// Whether `repeat_count` decides the number of instances (then the
    /// enumerator can neither add nor remove one).
    pub count_controlled: bool,
}

impl Session {
    /// The prompt for a question node; `None` for groups, repeats and
    /// metadata.
    pub fn prompt(&self, n: NodeId) -> Option<Prompt> {
        let t = self.form.template(self.tree.node(n).tpl);
        let TplKind::Leaf(qtype) = t.kind else {
            return None;
        };
        let state = self.leaf_state(n);
        let node = t.node.as_ref();
        let hint = node
            .map(|x| &x.hint)
            .filter(|h| !h.is_empty())
            .map(|h| self.render(h, n))
            .filter(|h| !h.is_empty());
        let constraint_violation =
            if state.constraint_valid { None } else { state.violation_message.clone() };
        let required_violation = if state.constraint_valid && !state.required_valid {
            state.violation_message.clone()
        } else {
            None
        };
        Some(Prompt {
            node: n,
            reference: state.reference,
            name: t.name.clone(),
            qtype,
            label: state.label.filter(|l| !l.is_empty()).unwrap_or_else(|| t.name.clone()),
            hint,
            appearance: node.and_then(|x| x.appearance.clone()),
            parameters: node.map(|x| x.parameters.clone()).unwrap_or_default(),
            media: node.map(|x| self.media_in_language(&x.media)).unwrap_or_default(),
            choices: if qtype.is_select() { self.options_of(n) } else { Vec::new() },
            value: self.tree.node(n).value.clone(),
            required: state.required,
            readonly: state.readonly,
            constraint_violation,
            required_violation,
        })
    }

    /// Each kind of label media in the current language (then the
    /// unsuffixed column, the default language, any), as labels fall back.
    fn media_in_language(
        &self,
        media: &BTreeMap<String, crate::instrument::Text>,
    ) -> BTreeMap<String, String> {
        let default_lang = self.form.instrument.default_language.as_deref();
        media
            .iter()
            .filter_map(|(kind, files)| {
                let file = files.get(self.language.as_deref(), default_lang)?.trim();
                (!file.is_empty()).then(|| (kind.clone(), file.to_string()))
            })
            .collect()
    }

    /// The "add another?" prompt for repeat template `repeat` under `parent`
    /// (as [`super::navigation::Screen::AddRepeat`] names them).
    pub fn repeat_prompt(&self, parent: NodeId, repeat: TplId) -> RepeatPrompt {
        let t = self.form.template(repeat);
        RepeatPrompt {
            reference: format!("{}/{}", self.tree.reference(&self.form, parent), t.name),
            label: t
                .label()
                .map(|l| self.render(l, parent))
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| t.name.clone()),
            count: self.tree.instances(parent, repeat).len(),
        }
    }

    /// The innermost repeat instance holding `n` (or `n` itself).
    pub fn repeat_instance_of(&self, n: NodeId) -> Option<RepeatInstance> {
        let mut cur = Some(n);
        while let Some(c) = cur {
            let t = self.form.template(self.tree.node(c).tpl);
            if t.kind == TplKind::Repeat {
                let parent = self.tree.node(c).parent.unwrap_or(self.tree.root());
                return Some(RepeatInstance {
                    node: c,
                    reference: self.tree.reference(&self.form, c),
                    repeat_reference: format!(
                        "{}/{}",
                        self.tree.reference(&self.form, parent),
                        t.name
                    ),
                    label: t
                        .label()
                        .map(|l| self.render(l, c))
                        .filter(|l| !l.is_empty())
                        .unwrap_or_else(|| t.name.clone()),
                    position: self.tree.position(c),
                    count_controlled: t.logic.repeat_count.is_some(),
                });
            }
            cur = self.tree.node(c).parent;
        }
        None
    }

    /// The labels of the labelled groups and the repeat instances around
    /// `n`, outermost first (a repeat instance as `Member 2`), for a "where
    /// am I" line.
    pub fn breadcrumbs(&self, n: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = self.tree.node(n).parent;
        while let Some(c) = cur {
            let t = self.form.template(self.tree.node(c).tpl);
            let label = || {
                t.label()
                    .map(|l| self.render(l, c))
                    .filter(|l| !l.is_empty())
                    .unwrap_or_else(|| t.name.clone())
            };
            match t.kind {
                // An unlabelled group is only structure (ODK shows nothing).
                TplKind::Group if t.label().is_some() => out.push(label()),
                TplKind::Repeat => out.push(format!("{} {}", label(), self.tree.position(c))),
                _ => {}
            }
            cur = self.tree.node(c).parent;
        }
        out.reverse();
        out
    }

    /// Whether `n` is `ancestor` or lies inside it.
    pub fn is_within(&self, n: NodeId, ancestor: NodeId) -> bool {
        let mut cur = Some(n);
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.tree.node(c).parent;
        }
        false
    }

    /// How far the response is over `screens` (from [`Session::screens`]):
    /// questions the enumerator can answer, and how many hold an answer.
    /// Cheap: no label is rendered, so a progress line can be drawn for
    /// every screen of a large form.
    pub fn progress(&self, screens: &[Screen]) -> Progress {
        let mut p = Progress::default();
        let mut count = |n: NodeId| {
            if self.is_answerable(n) {
                p.asked += 1;
                if !self.tree.node(n).value.is_empty() {
                    p.answered += 1;
                }
            }
        };
        for s in screens {
            match s {
                Screen::Question { node } => count(*node),
                Screen::FieldList { questions, .. } => {
                    questions.iter().copied().for_each(&mut count)
                }
                Screen::AddRepeat { .. } => {}
            }
        }
        p
    }

    /// Whether the enumerator can answer `n` now: a question, neither a
    /// note nor read-only.
    pub fn is_answerable(&self, n: NodeId) -> bool {
        let node = self.tree.node(n);
        let t = self.form.template(node.tpl);
        matches!(t.kind, TplKind::Leaf(q) if q != QuestionType::Note) && !node.readonly
    }

    /// The stored answer of a question (kept while non-relevant), without
    /// building a whole prompt.
    pub fn value_of(&self, n: NodeId) -> &str {
        &self.tree.node(n).value
    }

    /// ODK's reference for a node (`/data/members[2]/name`).
    pub fn reference_of(&self, n: NodeId) -> String {
        self.tree.reference(&self.form, n)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use crate::expr::FixedEnv;
    use crate::instrument::{Instrument, QuestionType};
    use crate::session::{Form, Session, SessionOptions};

    /// Label media (issue 18, item 2): per language, falling back to the
    /// unsuffixed column, reaching the app as form media file names.
    #[test]
    fn label_media_reach_the_prompt_in_the_current_language() {
        let v = json!({
            "model_version": 1, "form_id": "m", "version": "1", "title": "M",
            "root_name": "data", "settings": {},
            "languages": ["English (en)", "Português (pt)"],
            "children": [
                {"name": "site", "kind": {"kind": "question", "type": "text"}, "row": 2,
                 "label": {"English (en)": "Site", "Português (pt)": "Local"},
                 "media": {
                    "image": {"English (en)": "latrine-en.png", "Português (pt)": "latrine-pt.png"},
                    "big-image": {"": "latrine-large.jpg"},
                    "audio": {"Português (pt)": "pergunta.mp3"}}},
                {"name": "plain", "kind": {"kind": "question", "type": "text"}, "row": 3},
            ],
        });
        let i = Instrument::from_json(v.to_string().as_bytes()).unwrap();
        let mut s = Session::with_env(
            Arc::new(Form::compile(i).unwrap()),
            SessionOptions::default(),
            Box::new(FixedEnv::default()),
        );
        let at = |s: &Session, r: &str| s.prompt(s.resolve(r).unwrap()).unwrap().media;
        s.set_language("English (en)").unwrap();
        let en = at(&s, "/data/site");
        assert_eq!(en.get("image").map(String::as_str), Some("latrine-en.png"));
        assert_eq!(en.get("big-image").map(String::as_str), Some("latrine-large.jpg"));
        s.set_language("Português (pt)").unwrap();
        let pt = at(&s, "/data/site");
        assert_eq!(pt.get("image").map(String::as_str), Some("latrine-pt.png"));
        assert_eq!(pt.get("audio").map(String::as_str), Some("pergunta.mp3"));
        assert!(at(&s, "/data/plain").is_empty());
    }

    fn session() -> Session {
        let v = json!({
            "model_version": 1, "form_id": "t", "version": "1", "title": "T",
            "root_name": "data", "settings": {},
            "languages": ["English (en)", "Português (pt)"],
            "children": [
                {"name": "age", "kind": {"kind": "question", "type": "integer"}, "row": 2,
                 "label": {"English (en)": "Age of ${name}", "Português (pt)": "Idade de ${name}"},
                 "hint": {"English (en)": "In years"},
                 "bind": {"required": "true()", "constraint": ". < 120",
                          "constraint_message": {"English (en)": "Too old", "Português (pt)": "Velho demais"}}},
                {"name": "name", "kind": {"kind": "question", "type": "text"}, "row": 3},
                {"name": "members", "kind": {"kind": "repeat"}, "row": 4,
                 "label": {"English (en)": "Member"},
                 "children": [
                    {"name": "m", "kind": {"kind": "question", "type": "select_one", "list": "yn"}, "row": 5}
                 ]},
            ],
            "choices": {"yn": {"choices": [
                {"name": "y", "label": {"English (en)": "Yes", "Português (pt)": "Sim"}, "row": 2},
                {"name": "n", "label": {"English (en)": "No", "Português (pt)": "Não"}, "row": 3}
            ]}},
        });
        let i = Instrument::from_json(v.to_string().as_bytes()).unwrap();
        Session::with_env(
            Arc::new(Form::compile(i).unwrap()),
            SessionOptions::default(),
            Box::new(FixedEnv::default()),
        )
    }

    #[test]
    fn prompt_carries_label_hint_and_violations_in_the_language() {
        let mut s = session();
        s.set("/data/name", "Ana").unwrap();
        let age = s.resolve("/data/age").unwrap();
        let p = s.prompt(age).unwrap();
        assert_eq!(p.label, "Age of Ana");
        assert_eq!(p.hint.as_deref(), Some("In years"));
        assert_eq!(p.qtype, QuestionType::Integer);
        assert!(p.required);
        assert!(p.required_violation.is_some());
        assert_eq!(p.constraint_violation, None);

        s.set("/data/age", "130").unwrap();
        s.set_language("pt").unwrap();
        let p = s.prompt(age).unwrap();
        assert_eq!(p.label, "Idade de Ana");
        assert_eq!(p.value, "130");
        assert_eq!(p.constraint_violation.as_deref(), Some("Velho demais"));
        assert_eq!(p.required_violation, None);

        let name = s.resolve("/data/name").unwrap();
        assert_eq!(s.prompt(name).unwrap().label, "name", "falls back to the name");
    }

    #[test]
    fn breadcrumbs_skip_unlabelled_groups() {
        let v = json!({
            "model_version": 1, "form_id": "t", "title": "T", "root_name": "data", "settings": {},
            "children": [{"name": "outer", "kind": {"kind": "group"}, "row": 2, "children": [
                {"name": "inner", "kind": {"kind": "group"}, "row": 3, "label": {"": "Inner"},
                 "children": [{"name": "x", "kind": {"kind": "question", "type": "text"}, "row": 4}]}
            ]}],
        });
        let i = Instrument::from_json(v.to_string().as_bytes()).unwrap();
        let s = Session::with_env(
            Arc::new(Form::compile(i).unwrap()),
            SessionOptions::default(),
            Box::new(FixedEnv::default()),
        );
        let x = s.resolve("/data/outer/inner/x").unwrap();
        assert_eq!(s.breadcrumbs(x), ["Inner"]);
    }

    #[test]
    fn choices_repeat_instance_and_breadcrumbs() {
        let mut s = session();
        s.add_repeat("/data/members").unwrap();
        let m = s.resolve("/data/members[2]/m").unwrap();
        let p = s.prompt(m).unwrap();
        let labels: Vec<&str> = p.choices.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["Yes", "No"]);
        assert_eq!(s.breadcrumbs(m), ["Member 2"]);
        let r = s.repeat_instance_of(m).unwrap();
        assert_eq!(r.reference, "/data/members[2]");
        assert_eq!(r.repeat_reference, "/data/members");
        assert_eq!(r.position, 2);
        assert!(!r.count_controlled);
        assert!(s.is_within(m, r.node));
        assert!(!s.is_within(s.resolve("/data/age").unwrap(), r.node));
        assert_eq!(s.reference_of(m), "/data/members[2]/m");
        let root = s.resolve("/data").unwrap();
        let tpl = s.form().by_path["/data/members"];
        let rp = s.repeat_prompt(root, tpl);
        assert_eq!(
            (rp.reference.as_str(), rp.label.as_str(), rp.count),
            ("/data/members", "Member", 2)
        );
        assert!(s.prompt(r.node).is_none(), "a repeat instance is not a question");
    }
}
