//! What the enumerator moves through: screens in order (one question, or a
//! whole `field-list` group), the prompt to add another repeat instance, and
//! a hierarchy of the response for jumping around.

use serde::Serialize;

use crate::instrument::QuestionType;

use super::Session;
use super::form::{TplId, TplKind};
use super::tree::NodeId;

/// One screen of the interview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Screen {
    /// One question.
    Question { node: NodeId },
    /// A `field-list` group: its questions on one screen.
    FieldList { group: NodeId, questions: Vec<NodeId> },
    /// "Add another?" at the end of a user-controlled repeat.
    AddRepeat { parent: NodeId, repeat: TplId },
}

/// One line of the hierarchy view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HierarchyItem {
    pub depth: usize,
    #[serde(rename = "ref")]
    pub reference: String,
    pub label: String,
    /// `group`, `repeat`, or the question type.
    pub kind: String,
    pub answered: bool,
    pub relevant: bool,
}

impl Session {
    /// The screens of the interview in order, given the current answers
    /// (non-relevant questions and groups are skipped).
    pub fn screens(&self) -> Vec<Screen> {
        let mut out = Vec::new();
        self.screens_under(self.tree.root(), &mut out);
        out
    }

    fn screens_under(&self, parent: NodeId, out: &mut Vec<Screen>) {
        let children = &self.tree.node(parent).children;
        let ptpl = self.form.template(self.tree.node(parent).tpl);
        for (i, &c) in children.iter().enumerate() {
            let node = self.tree.node(c);
            let t = self.form.template(node.tpl);
            if node.relevant {
                match t.kind {
                    TplKind::Leaf(q)
                        if shown(q, t.logic.calculate.is_some() && t.logic.trigger.is_empty()) =>
                    {
                        out.push(Screen::Question { node: c })
                    }
                    TplKind::Group | TplKind::Repeat if self.is_field_list(node.tpl) => {
                        let mut questions = Vec::new();
                        self.questions_under(c, &mut questions);
                        if !questions.is_empty() {
                            out.push(Screen::FieldList { group: c, questions });
                        }
                    }
                    TplKind::Group | TplKind::Repeat => self.screens_under(c, out),
                    _ => {}
                }
            }
            // After the last instance of a user-controlled repeat, offer another.
            if t.kind == TplKind::Repeat && t.logic.repeat_count.is_none() {
                let last = children.get(i + 1).is_none_or(|&n| self.tree.node(n).tpl != node.tpl);
                if last && self.tree.node(parent).relevant {
                    out.push(Screen::AddRepeat { parent, repeat: node.tpl });
                }
            }
        }
        // A user-controlled repeat with no instance at all still gets its prompt.
        for &ct in &ptpl.children {
            let t = self.form.template(ct);
            if t.kind == TplKind::Repeat
                && t.logic.repeat_count.is_none()
                && self.tree.instances(parent, ct).is_empty()
                && self.tree.node(parent).relevant
            {
                out.push(Screen::AddRepeat { parent, repeat: ct });
            }
        }
    }

    fn questions_under(&self, parent: NodeId, out: &mut Vec<NodeId>) {
        for &c in &self.tree.node(parent).children {
            let node = self.tree.node(c);
            if !node.relevant {
                continue;
            }
            let t = self.form.template(node.tpl);
            match t.kind {
                TplKind::Leaf(q)
                    if shown(q, t.logic.calculate.is_some() && t.logic.trigger.is_empty()) =>
                {
                    out.push(c)
                }
                TplKind::Group | TplKind::Repeat => self.questions_under(c, out),
                _ => {}
            }
        }
    }

    fn is_field_list(&self, tpl: TplId) -> bool {
        self.form
            .template(tpl)
            .node
            .as_ref()
            .and_then(|n| n.appearance.as_deref())
            .is_some_and(|a| a.split_whitespace().any(|w| w == "field-list"))
    }

    /// The screen index showing `node` (for jumping to a question).
    pub fn screen_of(&self, node: NodeId) -> Option<usize> {
        self.screens().iter().position(|s| match s {
            Screen::Question { node: n } => *n == node,
            Screen::FieldList { group, questions } => *group == node || questions.contains(&node),
            Screen::AddRepeat { .. } => false,
        })
    }

    /// The response as a tree of groups, repeats and questions.
    pub fn hierarchy(&self) -> Vec<HierarchyItem> {
        let mut out = Vec::new();
        let mut stack: Vec<(NodeId, usize)> =
            self.tree.node(self.tree.root()).children.iter().rev().map(|&c| (c, 0)).collect();
        while let Some((n, depth)) = stack.pop() {
            let node = self.tree.node(n);
            let t = self.form.template(node.tpl);
            let kind = match t.kind {
                TplKind::Group => "group".to_string(),
                TplKind::Repeat => "repeat".to_string(),
                TplKind::Leaf(q)
                    if shown(q, t.logic.calculate.is_some() && t.logic.trigger.is_empty()) =>
                {
                    super::state::type_name(q)
                }
                _ => continue,
            };
            out.push(HierarchyItem {
                depth,
                reference: self.tree.reference(&self.form, n),
                label: t.label().map(|l| self.render(l, n)).unwrap_or_else(|| t.name.clone()),
                kind,
                answered: !node.value.is_empty(),
                relevant: node.relevant,
            });
            stack.extend(node.children.iter().rev().map(|&c| (c, depth + 1)));
        }
        out
    }
}

/// Whether a question of this type is put in front of the enumerator.
fn shown(q: QuestionType, calculated: bool) -> bool {
    !(q.is_metadata()
        || matches!(q, QuestionType::Calculate | QuestionType::Hidden)
        || calculated && q != QuestionType::Note)
}
