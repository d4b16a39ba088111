//! The tables of a form's export, built from every published version of the
//! form: one table for the form, one per repeat; columns named by group path
//! (`group-question`, as ODK Central does). Versions are merged: a column
//! appears once, with the versions it is in; new columns go at the end.
//!
//! Two layouts:
//!
//! - **Enumera's** (the default): the response's metadata first (`KEY`,
//!   participant, round, version, device, enumerator, started, ended,
//!   submitted, received), then the answers. The form's own `start`, `end`,
//!   `deviceid` and `username` questions hold what these metadata columns
//!   hold, so they fill them instead of repeating them; a repeat table
//!   starts with `PARENT_KEY` and `KEY` (`PARENT_KEY/repeat[n]`).
//! - **ODK Central's** (`--layout odk`): `SubmissionDate` first, every field
//!   of the form in order (notes and metadata questions included, then
//!   `meta-instanceID`), then `KEY`, `SubmitterID`, `SubmitterName`,
//!   `AttachmentsPresent`, `AttachmentsExpected`, `Status`, `ReviewState`,
//!   `DeviceID`, `Edits`, `FormVersion`; a repeat table ends with
//!   `PARENT_KEY` and `KEY` in Central's form
//!   (`uuid:…/group/repeat[n]`); select_multiple choice columns are 0 when
//!   not chosen or not answered.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;

use enumera_core::instrument::paths::PathIndex;
use enumera_core::instrument::{Instrument, Node, NodeKind, QuestionType, Text};

use super::types::{ValueType, calculate_types};

/// Which column layout to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    #[default]
    Enumera,
    /// As ODK Central writes its CSV export.
    Odk,
}

/// What a metadata column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaField {
    /// The response's instance id, or a repeat instance's key.
    Key,
    ParentKey,
    Participant,
    Round,
    FormVersion,
    DeviceId,
    Enumerator,
    Started,
    Ended,
    Submitted,
    Received,
    // ODK Central's columns.
    SubmissionDate,
    SubmitterId,
    SubmitterName,
    AttachmentsPresent,
    AttachmentsExpected,
    Status,
    ReviewState,
    Edits,
    // Sums of the response's audit log (forms with an `audit` question).
    AuditDuration,
    AuditActive,
    AuditPauses,
    AuditChanges,
}

impl MetaField {
    pub fn value_type(self) -> ValueType {
        use MetaField::*;
        match self {
            Round | AttachmentsPresent | AttachmentsExpected | Edits | AuditDuration
            | AuditActive | AuditPauses | AuditChanges => ValueType::Number,
            Started | Ended | Submitted | Received | SubmissionDate => ValueType::DateTime,
            _ => ValueType::Text,
        }
    }
}

/// Metadata columns at the start of a form's main table (Enumera's layout):
/// header, what it holds, label.
pub const META_COLUMNS: &[(&str, MetaField, &str)] = &[
    ("KEY", MetaField::Key, "Instance id (uuid) of the response"),
    ("meta-participant", MetaField::Participant, "Participant (pseudonym unless --include-pii)"),
    ("meta-round", MetaField::Round, "Round of the study (1 = baseline)"),
    ("meta-form_version", MetaField::FormVersion, "Instrument version"),
    ("meta-device_id", MetaField::DeviceId, "Device that collected the response"),
    ("meta-enumerator", MetaField::Enumerator, "Enumerator"),
    ("meta-started", MetaField::Started, "Interview started"),
    ("meta-ended", MetaField::Ended, "Interview ended"),
    ("meta-submitted", MetaField::Submitted, "Finalized on the device"),
    ("meta-received", MetaField::Received, "Received by central"),
];

/// The audit summary columns, at the end of the main table of a form with
/// an `audit` question (Enumera's layout).
pub const AUDIT_COLUMNS: &[(&str, MetaField, &str)] = &[
    (
        "meta-audit_duration",
        MetaField::AuditDuration,
        "Seconds from the first to the last audit event",
    ),
    ("meta-audit_active", MetaField::AuditActive, "Seconds on question screens (audit)"),
    ("meta-audit_pauses", MetaField::AuditPauses, "Times the form was left and resumed (audit)"),
    (
        "meta-audit_changes",
        MetaField::AuditChanges,
        "Answers changed from an earlier value (audit track-changes)",
    ),
];

/// Link columns at the start of a repeat table (Enumera's layout).
pub const REPEAT_COLUMNS: &[(&str, MetaField, &str)] = &[
    ("PARENT_KEY", MetaField::ParentKey, "KEY of the parent row"),
    ("KEY", MetaField::Key, "Key of this repeat instance (PARENT_KEY/name[n])"),
];

/// ODK Central's columns after the fields of a form's main table.
pub const ODK_TAIL: &[(&str, MetaField, &str)] = &[
    ("KEY", MetaField::Key, "Instance id of the submission"),
    ("SubmitterID", MetaField::SubmitterId, "Device that submitted (Central: the app user's id)"),
    ("SubmitterName", MetaField::SubmitterName, "Enumerator (Central: the app user's name)"),
    ("AttachmentsPresent", MetaField::AttachmentsPresent, "Attachments held"),
    ("AttachmentsExpected", MetaField::AttachmentsExpected, "Attachments the submission names"),
    ("Status", MetaField::Status, "Empty, or why the data is not there (not decrypted)"),
    ("ReviewState", MetaField::ReviewState, "Review state (none yet)"),
    ("DeviceID", MetaField::DeviceId, "Device that collected the response"),
    ("Edits", MetaField::Edits, "Earlier versions this response replaces"),
    ("FormVersion", MetaField::FormVersion, "Form version"),
];

/// ODK Central's link columns at the end of a repeat table.
pub const ODK_REPEAT_TAIL: &[(&str, MetaField, &str)] = &[
    ("PARENT_KEY", MetaField::ParentKey, "KEY of the parent row"),
    ("KEY", MetaField::Key, "Key of this repeat instance"),
];

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRole {
    /// A metadata or link column.
    Meta(MetaField),
    /// The answer to a question as stored (for select_multiple: the
    /// space-separated values).
    Value,
    /// 1 when `choice` is among a select_multiple's answers, 0 when not,
    /// empty when the question was not answered (ODK layout: 0).
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
    /// The element path in the submission (`interview/capacity/capacity_mean`).
    pub path: String,
    pub role: ColumnRole,
    pub label: Text,
    pub qtype: Option<QuestionType>,
    /// How the value is typed in .dta, .sav, .xlsx and JSON.
    pub vtype: ValueType,
    /// Choice list (selects).
    pub list: Option<String>,
    pub relevant: Option<String>,
    pub constraint: Option<String>,
    pub required: bool,
    pub pii: bool,
    /// Versions of the form this column appears in.
    pub versions: Vec<String>,
}

impl Column {
    pub(crate) fn meta(name: &str, field: MetaField, label: &str) -> Self {
        Column {
            name: name.into(),
            leaf: name.strip_prefix("meta-").unwrap_or(name).into(),
            path: String::new(),
            role: ColumnRole::Meta(field),
            label: Text::plain(label),
            qtype: None,
            vtype: field.value_type(),
            list: None,
            relevant: None,
            constraint: None,
            required: false,
            pii: false,
            versions: Vec::new(),
        }
    }

    pub fn is_meta(&self) -> bool {
        matches!(self.role, ColumnRole::Meta(_))
    }

    /// True for values a statistics package should read as numbers.
    pub fn is_numeric(&self) -> bool {
        self.vtype.is_numeric()
    }
}

/// One output table.
#[derive(Debug, Clone)]
pub struct Table {
    /// File stem: `form_id` or `form_id-repeat` (nested: `form_id-outer-inner`;
    /// ODK layout: `form_id-repeat` as Central names it).
    pub name: String,
    /// Index of the parent table (None for the form's main table).
    pub parent: Option<usize>,
    /// Repeat path in the submission (`interview/practice/changes`), empty for main.
    pub path: String,
    pub label: Text,
    pub columns: Vec<Column>,
    /// Per column, what a new row holds before the submission fills it.
    pub defaults: Vec<&'static str>,
    /// The metadata columns: (column, what it holds).
    pub meta_cols: Vec<(usize, MetaField)>,
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
    pub children: HashMap<String, Slot, BuildHasherDefault<Fnv>>,
}

/// FNV-1a: element names are short and ours, so the export's hottest
/// lookup (every element of every submission) needs no DoS-resistant hash.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
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
    /// A metadata question whose value a metadata column holds instead
    /// (Enumera's layout: `start` fills `meta-started`).
    pub fold: Option<MetaField>,
    /// Answered by a person (not a calculate, note or metadata), not required:
    /// an empty answer is a skipped optional question.
    pub optional: bool,
    /// Where its constraint is re-checked (checks.rs), when it has one.
    pub constraint: Option<String>,
}

/// Everything about one form's export.
#[derive(Debug, Clone)]
pub struct FormSchema {
    pub form_id: String,
    pub title: String,
    pub layout: Layout,
    /// Versions merged, in order.
    pub versions: Vec<String>,
    pub languages: Vec<String>,
    pub default_language: Option<String>,
    pub tables: Vec<Table>,
    pub root: SchemaNode,
    /// Choice lists, merged across versions: list -> [(name, label)].
    pub choices: BTreeMap<String, Vec<(String, Text)>>,
    /// Constraints as XPath over the submission (`${}` resolved), for the
    /// checks to test again: the latest version's, by question.
    pub constraints: Vec<Constrained>,
}

/// A question's constraint, ready to evaluate on a submission.
#[derive(Debug, Clone)]
pub struct Constrained {
    /// The question's column (its CSV header) in its table.
    pub column: String,
    pub table: usize,
    /// Element names from the root element down to the question.
    pub path: Vec<String>,
    /// The constraint with `${name}` resolved to paths.
    pub xpath: String,
    /// As the form author wrote it.
    pub source: String,
}

impl FormSchema {
    /// Merges the versions of one form (all with the same form id), in the
    /// order given. `include_pii` keeps questions marked as personal data.
    pub fn build(
        instruments: &[Instrument],
        include_pii: bool,
        layout: Layout,
    ) -> Option<FormSchema> {
        let first = instruments.first()?;
        let head: &[(&str, MetaField, &str)] = match layout {
            Layout::Enumera => META_COLUMNS,
            Layout::Odk => &[("SubmissionDate", MetaField::SubmissionDate, "Received by central")],
        };
        let columns: Vec<Column> = head.iter().map(|(n, f, l)| Column::meta(n, *f, l)).collect();
        let mut schema = FormSchema {
            form_id: first.form_id.clone(),
            title: first.title.clone(),
            layout,
            versions: Vec::new(),
            languages: Vec::new(),
            default_language: first.default_language.clone(),
            tables: vec![Table {
                name: first.form_id.clone(),
                parent: None,
                path: String::new(),
                label: Text::plain(first.title.clone()),
                defaults: Vec::new(),
                meta_cols: Vec::new(),
                columns,
            }],
            root: SchemaNode::default(),
            choices: BTreeMap::new(),
            constraints: Vec::new(),
        };
        for inst in instruments {
            schema.versions.push(inst.version.clone());
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
            let calc_types = calculate_types(inst);
            let mut root = std::mem::take(&mut schema.root);
            let paths = PathIndex::new(inst);
            let mut b = Builder {
                schema: &mut schema,
                inst,
                include_pii,
                calc_types: &calc_types,
                paths: &paths,
            };
            b.add_children(&inst.children, &mut root, 0, "", "");
            schema.root = root;
        }
        schema.title = instruments.last().map(|i| i.title.clone()).unwrap_or_default();
        if layout == Layout::Enumera && instruments.iter().any(|i| has_audit(&i.children)) {
            // At the end: the question columns' places are already taken.
            let cols = AUDIT_COLUMNS.iter().map(|(n, f, l)| Column::meta(n, *f, l));
            schema.tables[0].columns.extend(cols);
        }
        if layout == Layout::Odk {
            schema.add_odk_tail(instruments.iter().any(|i| i.settings.instance_name.is_some()));
        }
        for t in &mut schema.tables {
            t.defaults = t
                .columns
                .iter()
                .map(|c| match (&c.role, layout) {
                    (ColumnRole::Choice(_), Layout::Odk) => "0",
                    _ => "",
                })
                .collect();
            t.meta_cols = t
                .columns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| match c.role {
                    ColumnRole::Meta(f) => Some((i, f)),
                    _ => None,
                })
                .collect();
        }
        Some(schema)
    }

    /// `meta-instanceID` after every field, then Central's columns; repeat
    /// tables end with their links.
    fn add_odk_tail(&mut self, instance_name: bool) {
        let mut meta = match self.root.children.remove("meta") {
            Some(Slot::Group(g)) => g,
            _ => SchemaNode::default(),
        };
        let mut fields = vec!["instanceID"];
        if instance_name {
            fields.push("instanceName");
        }
        for f in fields {
            let cols = &mut self.tables[0].columns;
            let mut c = Column::meta(&format!("meta-{f}"), MetaField::Key, "");
            c.role = ColumnRole::Value;
            c.leaf = f.to_string();
            c.path = format!("meta/{f}");
            c.vtype = ValueType::Text;
            c.qtype = Some(QuestionType::Text);
            c.versions = self.versions.clone();
            c.label = Text::plain(if f == "instanceID" { "Instance id" } else { "Instance name" });
            cols.push(c);
            let leaf = Leaf {
                qtype: QuestionType::Text,
                list: None,
                value_col: Some(cols.len() - 1),
                choice_cols: Vec::new(),
                geo_cols: None,
                fold: None,
                optional: false,
                constraint: None,
            };
            meta.children.insert(f.to_string(), Slot::Leaf(leaf));
        }
        self.root.children.insert("meta".into(), Slot::Group(meta));
        for (i, t) in self.tables.iter_mut().enumerate() {
            let tail = if i == 0 { ODK_TAIL } else { ODK_REPEAT_TAIL };
            t.columns.extend(tail.iter().map(|(n, f, l)| Column::meta(n, *f, l)));
        }
    }

    /// The label of a choice in `lang`.
    pub fn choice_label(&self, list: &str, name: &str, lang: Option<&str>) -> Option<&str> {
        self.choices
            .get(list)?
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, t)| t.get(lang, self.default_language.as_deref()))
    }

    /// The column of a metadata field in a table.
    pub fn meta_col(&self, table: usize, field: MetaField) -> Option<usize> {
        self.tables[table].columns.iter().position(|c| c.role == ColumnRole::Meta(field))
    }
}

struct Builder<'a> {
    schema: &'a mut FormSchema,
    inst: &'a Instrument,
    include_pii: bool,
    calc_types: &'a HashMap<String, ValueType>,
    paths: &'a PathIndex,
}

/// The metadata column a metadata question fills instead of its own
/// (Enumera's layout, main table only).
fn fold_of(q: QuestionType) -> Option<MetaField> {
    match q {
        QuestionType::Start => Some(MetaField::Started),
        QuestionType::End => Some(MetaField::Ended),
        QuestionType::DeviceId => Some(MetaField::DeviceId),
        QuestionType::Username => Some(MetaField::Enumerator),
        _ => None,
    }
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
        let layout = self.schema.layout;
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
                            let name = match layout {
                                Layout::Enumera => {
                                    format!("{}-{}", self.schema.tables[table].name, node.name)
                                }
                                Layout::Odk => self.odk_table_name(&node.name),
                            };
                            let head: &[(&str, MetaField, &str)] = match layout {
                                Layout::Enumera => REPEAT_COLUMNS,
                                Layout::Odk => &[],
                            };
                            self.schema.tables.push(Table {
                                name,
                                parent: Some(table),
                                path: elem_path.clone(),
                                label: node.label.clone(),
                                columns: head
                                    .iter()
                                    .map(|(n, f, l)| Column::meta(n, *f, l))
                                    .collect(),
                                defaults: Vec::new(),
                                meta_cols: Vec::new(),
                            });
                            (self.schema.tables.len() - 1, SchemaNode::default())
                        }
                    };
                    self.add_children(&node.children, &mut child, t, "", &elem_path);
                    into.children.insert(node.name.clone(), Slot::Repeat { table: t, node: child });
                }
                NodeKind::Question(q) => {
                    let fold = match layout {
                        Layout::Enumera if table == 0 => fold_of(q.qtype),
                        _ => None,
                    };
                    if q.qtype == QuestionType::Note && layout == Layout::Enumera {
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
                            fold,
                            optional: false,
                            constraint: None,
                        },
                    };
                    leaf.optional = !q.qtype.is_metadata()
                        && !matches!(
                            q.qtype,
                            QuestionType::Calculate | QuestionType::Hidden | QuestionType::Note
                        )
                        && !is_required(node);
                    leaf.constraint.clone_from(&node.bind.constraint);
                    if fold.is_none() {
                        let name = format!("{prefix}{}", node.name);
                        self.add_leaf(&mut leaf, node, table, &name, &elem_path);
                        if let Some(src) = &node.bind.constraint {
                            self.add_constraint(&name, table, &elem_path, src);
                        }
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
                                fold: None,
                                optional: true,
                                constraint: None,
                            },
                        };
                        let mut synthetic = node.clone();
                        synthetic.name = other.clone();
                        synthetic.bind = Default::default();
                        synthetic.kind = NodeKind::Question(enumera_core::instrument::Question {
                            qtype: QuestionType::Text,
                            list: None,
                            file: None,
                            or_other: false,
                        });
                        let other_path =
                            format!("{path}{}{other}", if path.is_empty() { "" } else { "/" });
                        self.add_leaf(
                            &mut l,
                            &synthetic,
                            table,
                            &format!("{prefix}{other}"),
                            &other_path,
                        );
                        into.children.insert(other, Slot::Leaf(l));
                    }
                }
            }
        }
    }

    /// Keeps a question's constraint with `${}` resolved (the latest
    /// version's); one that cannot be resolved is not checked.
    fn add_constraint(&mut self, column: &str, table: usize, elem_path: &str, src: &str) {
        let mut path = vec![self.inst.root_name.clone()];
        path.extend(elem_path.split('/').map(String::from));
        let Ok(target) = self.paths.get(path.last().map_or("", String::as_str)) else { return };
        let Ok(xpath) = self.paths.expand(src, target) else { return };
        path.remove(0);
        self.schema.constraints.retain(|c| c.column != column || c.table != table);
        self.schema.constraints.push(Constrained {
            column: column.to_string(),
            table,
            path,
            xpath,
            source: src.to_string(),
        });
    }

    /// Central names a repeat's file after the repeat alone; repeats of
    /// one name get `~1`, `~2`, ... (in depth-first order).
    fn odk_table_name(&mut self, repeat: &str) -> String {
        let base = format!("{}-{repeat}", self.schema.form_id);
        let numbered = format!("{base}~");
        let same: Vec<usize> = (0..self.schema.tables.len())
            .filter(|i| {
                let n = &self.schema.tables[*i].name;
                *n == base || n.starts_with(&numbered)
            })
            .collect();
        match same.as_slice() {
            [] => base,
            [only] if self.schema.tables[*only].name == base => {
                self.schema.tables[*only].name = format!("{base}~1");
                format!("{base}~2")
            }
            many => format!("{base}~{}", many.len() + 1),
        }
    }

    /// Adds (or marks with this version) the columns of one question.
    fn add_leaf(&mut self, leaf: &mut Leaf, node: &Node, table: usize, name: &str, path: &str) {
        let qtype = node.question_type().unwrap_or(QuestionType::Text);
        let list = match &node.kind {
            NodeKind::Question(q) => q.list.clone(),
            _ => None,
        };
        let vtype = match qtype {
            QuestionType::Calculate | QuestionType::Hidden => {
                self.calc_types.get(&node.name).copied().unwrap_or(ValueType::Infer)
            }
            q => ValueType::of_question(q),
        };
        let version = self.inst.version.clone();
        let template = Column {
            name: name.to_string(),
            leaf: node.name.clone(),
            path: path.to_string(),
            role: ColumnRole::Value,
            label: node.label.clone(),
            qtype: Some(qtype),
            vtype,
            list: list.clone(),
            relevant: node.bind.relevant.clone(),
            constraint: node.bind.constraint.clone(),
            required: is_required(node),
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
                    c.required = col.required;
                    // A type that changed between versions: let the values tell.
                    if c.vtype != col.vtype && c.role == ColumnRole::Value {
                        c.vtype = match (c.vtype, col.vtype) {
                            (
                                ValueType::Number | ValueType::Infer,
                                ValueType::Number | ValueType::Infer,
                            ) => ValueType::Infer,
                            _ => ValueType::Text,
                        };
                    }
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
                c.vtype = ValueType::Number;
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
                c.vtype = ValueType::Flag;
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

fn is_required(node: &Node) -> bool {
    node.bind.required.as_deref().is_some_and(|r| {
        let r = r.trim();
        r == "true()" || r.eq_ignore_ascii_case("yes") || r.eq_ignore_ascii_case("true")
    })
}

/// Whether a form has ODK's `audit` question (anywhere: its row may sit in
/// a group).
fn has_audit(nodes: &[enumera_core::instrument::Node]) -> bool {
    nodes.iter().any(|n| {
        n.question_type() == Some(enumera_core::instrument::QuestionType::Audit)
            || has_audit(&n.children)
    })
}
