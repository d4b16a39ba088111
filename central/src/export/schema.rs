//! The tables of a form's export, built from every published version of the
//! form: one table for the form, one per repeat; columns named by group path
//! (`group-question`, as ODK Central does). Versions are merged: a column
//! appears once, with the versions it is in; new columns go at the end.

use std::collections::{BTreeMap, HashMap};

use enumera_core::instrument::{Instrument, Node, NodeKind, QuestionType, Text};

/// Metadata columns at the start of a form's main table.
pub const META_COLUMNS: &[(&str, &str)] = &[
    ("KEY", "Instance id (uuid) of the response"),
    ("meta-participant", "Participant (pseudonym unless --include-pii)"),
    ("meta-round", "Round of the study (1 = baseline)"),
    ("meta-form_version", "Instrument version"),
    ("meta-device_id", "Device that collected the response"),
    ("meta-enumerator", "Enumerator"),
    ("meta-started", "Interview started"),
    ("meta-ended", "Interview ended"),
    ("meta-submitted", "Finalized on the device"),
    ("meta-received", "Received by central"),
];

/// Link columns at the start of a repeat table.
pub const REPEAT_COLUMNS: &[(&str, &str)] = &[
    ("PARENT_KEY", "KEY of the parent row"),
    ("KEY", "Key of this repeat instance (PARENT_KEY/name[n])"),
];

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRole {
    /// A metadata or link column.
    Meta,
    /// The answer to a question as stored (for select_multiple: the
    /// space-separated values).
    Value,
    /// 1 when `choice` is among a select_multiple's answers, 0 when not,
    /// empty when the question was not answered.
    Choice(String),
    /// One part of a geopoint: 0 latitude, 1 longitude, 2 altitude, 3 accuracy.
    GeoPart(usize),
}

/// One column of a table.
#[derive(Debug, Clone)]
pub struct Column {
    /// The CSV header (`group-question`, `q/choice`, `q-Latitude`).
    pub name: String,
    /// The question's name (last path segment), for short names.
    pub leaf: String,
    pub role: ColumnRole,
    pub label: Text,
    pub qtype: Option<QuestionType>,
    /// Choice list (selects).
    pub list: Option<String>,
    pub relevant: Option<String>,
    pub constraint: Option<String>,
    pub pii: bool,
    /// Versions of the form this column appears in.
    pub versions: Vec<String>,
}

impl Column {
    pub(crate) fn meta(name: &str, label: &str) -> Self {
        Column {
            name: name.into(),
            leaf: name.strip_prefix("meta-").unwrap_or(name).into(),
            role: ColumnRole::Meta,
            label: Text::plain(label),
            qtype: None,
            list: None,
            relevant: None,
            constraint: None,
            pii: false,
            versions: Vec::new(),
        }
    }

    /// True for values a statistics package should read as numbers.
    pub fn is_numeric(&self) -> bool {
        match self.role {
            ColumnRole::Choice(_) | ColumnRole::GeoPart(_) => true,
            // `round` is the panel's.
            ColumnRole::Meta => matches!(self.name.as_str(), "meta-round" | "round"),
            ColumnRole::Value => matches!(
                self.qtype,
                Some(QuestionType::Integer | QuestionType::Decimal | QuestionType::Range)
            ),
        }
    }
}

/// One output table.
#[derive(Debug, Clone)]
pub struct Table {
    /// File stem: `form_id` or `form_id-repeat` (nested: `form_id-outer-inner`).
    pub name: String,
    /// Index of the parent table (None for the form's main table).
    pub parent: Option<usize>,
    /// Repeat path in the submission (`interview/practice/changes`), empty for main.
    pub path: String,
    pub label: Text,
    pub columns: Vec<Column>,
}

/// Where an element of the submission goes.
#[derive(Debug, Clone)]
pub enum Slot {
    Group(SchemaNode),
    Repeat { table: usize, node: SchemaNode },
    Leaf(Leaf),
}

#[derive(Debug, Clone, Default)]
pub struct SchemaNode {
    pub children: HashMap<String, Slot>,
}

/// A question and the columns it fills.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub qtype: QuestionType,
    pub list: Option<String>,
    pub value_col: Option<usize>,
    /// select_multiple: (choice name, column) per choice.
    pub choice_cols: Vec<(String, usize)>,
    /// geopoint: latitude, longitude, altitude, accuracy.
    pub geo_cols: Option<[usize; 4]>,
}

/// Everything about one form's export.
#[derive(Debug, Clone)]
pub struct FormSchema {
    pub form_id: String,
    pub title: String,
    /// Versions merged, in order.
    pub versions: Vec<String>,
    pub languages: Vec<String>,
    pub default_language: Option<String>,
    pub tables: Vec<Table>,
    pub root: SchemaNode,
    /// Choice lists, merged across versions: list -> [(name, label)].
    pub choices: BTreeMap<String, Vec<(String, Text)>>,
    /// Main-table columns of the `start` and `end` questions.
    pub start_col: Option<usize>,
    pub end_col: Option<usize>,
}

impl FormSchema {
    /// Merges the versions of one form (all with the same form id), in the
    /// order given. `include_pii` keeps questions marked as personal data.
    pub fn build(instruments: &[Instrument], include_pii: bool) -> Option<FormSchema> {
        let first = instruments.first()?;
        let mut schema = FormSchema {
            form_id: first.form_id.clone(),
            title: first.title.clone(),
            versions: Vec::new(),
            languages: Vec::new(),
            default_language: first.default_language.clone(),
            tables: vec![Table {
                name: first.form_id.clone(),
                parent: None,
                path: String::new(),
                label: Text::plain(first.title.clone()),
                columns: META_COLUMNS.iter().map(|(n, l)| Column::meta(n, l)).collect(),
            }],
            root: SchemaNode::default(),
            choices: BTreeMap::new(),
            start_col: None,
            end_col: None,
        };
        for inst in instruments {
            schema.versions.push(inst.version.clone());
            schema.title = inst.title.clone();
            for l in &inst.languages {
                if !schema.languages.contains(l) {
                    schema.languages.push(l.clone());
                }
            }
            for (list, cl) in &inst.choices {
                let merged = schema.choices.entry(list.clone()).or_default();
                for c in &cl.choices {
                    match merged.iter_mut().find(|(n, _)| *n == c.name) {
                        Some(slot) => slot.1 = c.label.clone(),
                        None => merged.push((c.name.clone(), c.label.clone())),
                    }
                }
            }
            let mut root = std::mem::take(&mut schema.root);
            let mut b = Builder { schema: &mut schema, inst, include_pii };
            b.add_children(&inst.children, &mut root, 0, "", "");
            schema.root = root;
        }
        schema.title = instruments.last().map(|i| i.title.clone()).unwrap_or_default();
        Some(schema)
    }

    /// The label of a choice in `lang`.
    pub fn choice_label(&self, list: &str, name: &str, lang: Option<&str>) -> Option<&str> {
        self.choices
            .get(list)?
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, t)| t.get(lang, self.default_language.as_deref()))
    }
}

struct Builder<'a> {
    schema: &'a mut FormSchema,
    inst: &'a Instrument,
    include_pii: bool,
}

impl Builder<'_> {
    /// `prefix` is the column-name prefix within the current table
    /// (`group-`), `path` the element path from the root.
    fn add_children(
        &mut self,
        nodes: &[Node],
        into: &mut SchemaNode,
        table: usize,
        prefix: &str,
        path: &str,
    ) {
        for node in nodes {
            if node.pii && !self.include_pii {
                continue;
            }
            let elem_path =
                if path.is_empty() { node.name.clone() } else { format!("{path}/{}", node.name) };
            match &node.kind {
                NodeKind::Group => {
                    let mut child = match into.children.remove(&node.name) {
                        Some(Slot::Group(g)) => g,
                        _ => SchemaNode::default(),
                    };
                    let prefix = format!("{prefix}{}-", node.name);
                    self.add_children(&node.children, &mut child, table, &prefix, &elem_path);
                    into.children.insert(node.name.clone(), Slot::Group(child));
                }
                NodeKind::Repeat { .. } => {
                    let (t, mut child) = match into.children.remove(&node.name) {
                        Some(Slot::Repeat { table, node }) => (table, node),
                        _ => {
                            let name = format!("{}-{}", self.schema.tables[table].name, node.name);
                            self.schema.tables.push(Table {
                                name,
                                parent: Some(table),
                                path: elem_path.clone(),
                                label: node.label.clone(),
                                columns: REPEAT_COLUMNS
                                    .iter()
                                    .map(|(n, l)| Column::meta(n, l))
                                    .collect(),
                            });
                            (self.schema.tables.len() - 1, SchemaNode::default())
                        }
                    };
                    self.add_children(&node.children, &mut child, t, "", &elem_path);
                    into.children.insert(node.name.clone(), Slot::Repeat { table: t, node: child });
                }
                NodeKind::Question(q) => {
                    if q.qtype == QuestionType::Note {
                        continue;
                    }
                    let mut leaf = match into.children.remove(&node.name) {
                        Some(Slot::Leaf(l)) => l,
                        _ => Leaf {
                            qtype: q.qtype,
                            list: q.list.clone(),
                            value_col: None,
                            choice_cols: Vec::new(),
                            geo_cols: None,
                        },
                    };
                    let name = format!("{prefix}{}", node.name);
                    self.add_leaf(&mut leaf, node, table, &name);
                    if table == 0
                        && q.qtype == QuestionType::Start
                        && self.schema.start_col.is_none()
                    {
                        self.schema.start_col = leaf.value_col;
                    }
                    if table == 0 && q.qtype == QuestionType::End && self.schema.end_col.is_none() {
                        self.schema.end_col = leaf.value_col;
                    }
                    into.children.insert(node.name.clone(), Slot::Leaf(leaf));
                    // `or_other` adds a NAME_other text question the sheet does not list.
                    let other = format!("{}_other", node.name);
                    if q.or_other && !nodes.iter().any(|n| n.name == other) {
                        let mut l = match into.children.remove(&other) {
                            Some(Slot::Leaf(l)) => l,
                            _ => Leaf {
                                qtype: QuestionType::Text,
                                list: None,
                                value_col: None,
                                choice_cols: Vec::new(),
                                geo_cols: None,
                            },
                        };
                        let mut synthetic = node.clone();
                        synthetic.name = other.clone();
                        synthetic.kind = NodeKind::Question(enumera_core::instrument::Question {
                            qtype: QuestionType::Text,
                            list: None,
                            file: None,
                            or_other: false,
                        });
                        self.add_leaf(&mut l, &synthetic, table, &format!("{prefix}{other}"));
                        into.children.insert(other, Slot::Leaf(l));
                    }
                }
            }
        }
    }

    /// Adds (or marks with this version) the columns of one question.
    fn add_leaf(&mut self, leaf: &mut Leaf, node: &Node, table: usize, name: &str) {
        let qtype = node.question_type().unwrap_or(QuestionType::Text);
        let list = match &node.kind {
            NodeKind::Question(q) => q.list.clone(),
            _ => None,
        };
        let version = self.inst.version.clone();
        let template = Column {
            name: name.to_string(),
            leaf: node.name.clone(),
            role: ColumnRole::Value,
            label: node.label.clone(),
            qtype: Some(qtype),
            list: list.clone(),
            relevant: node.bind.relevant.clone(),
            constraint: node.bind.constraint.clone(),
            pii: node.pii,
            versions: Vec::new(),
        };
        let cols = &mut self.schema.tables[table].columns;
        let touch = |cols: &mut Vec<Column>, existing: Option<usize>, col: Column| -> usize {
            match existing {
                Some(i) => {
                    let c = &mut cols[i];
                    // The latest version's wording wins.
                    c.label = col.label;
                    c.relevant = col.relevant;
                    c.constraint = col.constraint;
                    if !c.versions.contains(&version) {
                        c.versions.push(version.clone());
                    }
                    i
                }
                None => {
                    let mut col = col;
                    col.versions.push(version.clone());
                    cols.push(col);
                    cols.len() - 1
                }
            }
        };
        if qtype == QuestionType::Geopoint {
            let mut geo = leaf.geo_cols.unwrap_or([usize::MAX; 4]);
            for (i, part) in ["Latitude", "Longitude", "Altitude", "Accuracy"].iter().enumerate() {
                let mut c = template.clone();
                c.name = format!("{name}-{part}");
                c.leaf = format!("{}-{part}", node.name);
                c.role = ColumnRole::GeoPart(i);
                let existing = (geo[i] != usize::MAX).then_some(geo[i]);
                geo[i] = touch(cols, existing, c);
            }
            leaf.geo_cols = Some(geo);
            return;
        }
        leaf.value_col = Some(touch(cols, leaf.value_col, template.clone()));
        if qtype == QuestionType::SelectMultiple {
            let choices = list.as_ref().and_then(|l| self.inst.choices.get(l));
            for choice in choices.map(|c| c.choices.as_slice()).unwrap_or_default() {
                let mut c = template.clone();
                c.name = format!("{name}/{}", choice.name);
                c.leaf = format!("{}/{}", node.name, choice.name);
                c.role = ColumnRole::Choice(choice.name.clone());
                let existing =
                    leaf.choice_cols.iter().find(|(n, _)| *n == choice.name).map(|(_, i)| *i);
                let i = touch(cols, existing, c);
                if existing.is_none() {
                    leaf.choice_cols.push((choice.name.clone(), i));
                }
            }
        }
    }
}
