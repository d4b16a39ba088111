//! One submission (instance XML) into table rows, or into one nested JSON
//! document, following a [`FormSchema`]. Elements the schema does not know
//! (personal data left out, `meta` in Enumera's layout) are skipped.

use std::collections::HashMap;

use enumera_core::instrument::QuestionType;
use serde_json::{Map, Value as Json};

use super::codes::{Meaning, meaning};
use super::schema::{FormSchema, Layout, Leaf, MetaField, SchemaNode, Slot};
use super::types::{ValueType, number};

/// How values are written.
#[derive(Debug, Clone, Copy)]
pub struct ValueStyle<'a> {
    /// Choice labels instead of choice names.
    pub labels: bool,
    /// Language of labels (a key of the instrument's texts).
    pub lang: Option<&'a str>,
    /// This response's files written to `media/` under another path than
    /// their name (another response's file had the name): (name, path
    /// within `media/`). A file question's cell gives that path, so every
    /// cell names its own response's file.
    pub media: &'a [(String, String)],
}

impl<'a> ValueStyle<'a> {
    pub fn new(labels: bool, lang: Option<&'a str>) -> Self {
        ValueStyle { labels, lang, media: &[] }
    }

    /// The value of a file question as exported: where its file is in
    /// `media/`.
    fn file<'v>(&self, leaf: &Leaf, raw: &'v str) -> &'v str
    where
        'a: 'v,
    {
        if self.media.is_empty() || !leaf.qtype.is_attachment() {
            return raw;
        }
        self.media.iter().find(|(name, _)| name == raw).map_or(raw, |(_, path)| path.as_str())
    }
}

/// The participant id as collected and as exported: any answer equal to
/// the id is exported as the pseudonym too.
#[derive(Debug, Clone, Copy)]
pub struct ParticipantSwap<'a> {
    pub raw: &'a str,
    pub exported: &'a str,
}

/// The response's metadata, for the metadata columns.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowMeta<'a> {
    pub key: &'a str,
    pub participant: &'a str,
    pub round: &'a str,
    pub form_version: &'a str,
    pub device_id: &'a str,
    pub enumerator: &'a str,
    pub submitted: &'a str,
    pub received: &'a str,
    /// ODK Central's `SubmissionDate` (received, as Central writes times).
    pub submission_date: &'a str,
    pub attachments: &'a str,
    pub edits: &'a str,
    /// ODK Central's `Status` (`not decrypted`).
    pub status: &'a str,
    /// The audit summary: duration, active time, pauses, answers changed.
    pub audit: [&'a str; 4],
}

impl RowMeta<'_> {
    fn value(&self, f: MetaField) -> &str {
        use MetaField::*;
        match f {
            Key => self.key,
            Participant => self.participant,
            Round => self.round,
            FormVersion => self.form_version,
            DeviceId | SubmitterId => self.device_id,
            Enumerator | SubmitterName => self.enumerator,
            Submitted => self.submitted,
            Received => self.received,
            SubmissionDate => self.submission_date,
            AttachmentsPresent | AttachmentsExpected => self.attachments,
            Edits => self.edits,
            Status => self.status,
            AuditDuration => self.audit[0],
            AuditActive => self.audit[1],
            AuditPauses => self.audit[2],
            AuditChanges => self.audit[3],
            ParentKey | Started | Ended | ReviewState => "",
        }
    }
}

/// What the high-frequency checks count while a response is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    /// Optional questions shown (in the submission) and left empty.
    pub skipped: u32,
    /// Optional questions shown.
    pub optional: u32,
    /// Select answers given, and those that are "don't know".
    pub selects: u32,
    pub dont_know: u32,
}

/// Rows of one response: (table index, values), the main row first. The
/// buffers are kept from one response to the next (no allocation per value).
#[derive(Debug, Default)]
pub struct Rows {
    rows: Vec<(usize, Vec<String>)>,
    len: usize,
    /// Count what the checks need into `tally` (only when they run).
    pub counting: bool,
    pub tally: Tally,
    /// Metadata questions whose answer differs from what central knows
    /// (`deviceid` answered with another device's id): (question, answer).
    pub differs: Vec<(String, String)>,
    /// The value being read, kept from one response to the next.
    text: String,
}

impl Rows {
    /// Buffers that count what the checks need when `counting`.
    pub fn new(counting: bool) -> Rows {
        Rows { counting, ..Rows::default() }
    }

    pub fn iter(&self) -> impl Iterator<Item = &(usize, Vec<String>)> {
        self.rows[..self.len].iter()
    }

    pub fn main(&self) -> &[String] {
        self.rows.first().map(|r| r.1.as_slice()).unwrap_or_default()
    }

    /// A new row of `table` holding its defaults; its index.
    fn push(&mut self, table: usize, defaults: &[&str]) -> usize {
        if self.len == self.rows.len() {
            self.rows.push((table, Vec::new()));
        }
        let row = &mut self.rows[self.len];
        row.0 = table;
        row.1.truncate(defaults.len());
        row.1.iter_mut().for_each(String::clear);
        row.1.resize(defaults.len(), String::new());
        for (v, d) in row.1.iter_mut().zip(defaults) {
            v.push_str(d);
        }
        self.len += 1;
        self.len - 1
    }
}

/// Why a submission could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the submission XML is not well formed: {0}")]
    Xml(#[from] roxmltree::Error),
    #[error("the submission XML is not well formed: {0}")]
    Stream(#[from] quick_xml::Error),
    #[error("the submission XML is not well formed: {0}")]
    Malformed(String),
}

pub fn rows(
    schema: &FormSchema,
    xml: &str,
    meta: &RowMeta<'_>,
    style: ValueStyle<'_>,
    swap: Option<ParticipantSwap<'_>>,
    out: &mut Rows,
) -> Result<(), RecordError> {
    out.len = 0;
    out.tally = Tally::default();
    out.differs.clear();
    out.push(0, &schema.tables[0].defaults);
    let main = &mut out.rows[0].1;
    for (i, f) in &schema.tables[0].meta_cols {
        main[*i].push_str(meta.value(*f));
    }
    let mut w = Walker { schema, style, swap, meta, out };
    w.read(xml)
}

/// Where the reader is in the submission.
enum Frame<'s> {
    /// A group or repeat instance (or the root): its schema node, the row
    /// it fills, its key, the group path since the row's table began
    /// (Central's repeat keys name the groups), and the repeat instances
    /// counted so far among its children.
    Node {
        node: &'s SchemaNode,
        row: usize,
        /// Shared by a row's groups: cloning it costs a count, not a copy.
        key: std::rc::Rc<str>,
        groups: String,
        counts: Vec<(&'s str, usize)>,
    },
    /// A question: its value is gathered until the element closes.
    Leaf { leaf: &'s Leaf, name: &'s str, row: usize },
    /// An element the schema does not know (personal data left out, `meta`).
    Skip,
}

struct Walker<'a, 's> {
    schema: &'s FormSchema,
    style: ValueStyle<'a>,
    swap: Option<ParticipantSwap<'a>>,
    meta: &'a RowMeta<'a>,
    out: &'a mut Rows,
}

impl<'s> Walker<'_, 's> {
    /// Reads the submission as a stream of events (no tree is built: this
    /// is most of the export's work per response).
    fn read(&mut self, xml: &str) -> Result<(), RecordError> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut stack: Vec<Frame<'s>> = Vec::with_capacity(16);
        let mut text = std::mem::take(&mut self.out.text);
        let mut seen_root = false;
        loop {
            let event = reader.read_event()?;
            let (start, end) = match &event {
                Event::Start(_) => (true, false),
                Event::Empty(_) => (true, true),
                Event::End(_) => (false, true),
                _ => (false, false),
            };
            if start {
                let (Event::Start(e) | Event::Empty(e)) = &event else { unreachable!() };
                let name = e.local_name().into_inner();
                let frame = if stack.is_empty() {
                    if seen_root {
                        return Err(RecordError::Malformed("more than one root element".into()));
                    }
                    seen_root = true;
                    let key: std::rc::Rc<str> = self.meta.key.into();
                    Frame::Node {
                        node: &self.schema.root,
                        row: 0,
                        key,
                        groups: String::new(),
                        counts: Vec::new(),
                    }
                } else {
                    self.open(stack.last_mut(), name)
                };
                if matches!(frame, Frame::Leaf { .. }) {
                    text.clear();
                }
                stack.push(frame);
            }
            match &event {
                Event::Text(t) => {
                    if let Some(Frame::Leaf { .. }) = stack.last() {
                        text.push_str(&t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if let Some(Frame::Leaf { .. }) = stack.last() {
                        text.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match quick_xml::escape::resolve_predefined_entity(r) {
                            Some(s) => s.to_string(),
                            None => {
                                return Err(RecordError::Malformed(format!(
                                    "unknown entity &{};",
                                    &**r
                                )));
                            }
                        },
                        Err(e) => return Err(RecordError::Malformed(e.to_string())),
                    };
                    if let Some(Frame::Leaf { .. }) = stack.last() {
                        text.push_str(&c);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            if end {
                match stack.pop() {
                    Some(Frame::Leaf { leaf, name, row }) => self.leaf(leaf, name, &text, row),
                    Some(_) => {}
                    None => {
                        return Err(RecordError::Malformed("an end tag without a start".into()));
                    }
                }
            }
        }
        self.out.text = text;
        if !stack.is_empty() || !seen_root {
            return Err(RecordError::Malformed("the document ends inside an element".into()));
        }
        Ok(())
    }

    /// The frame of a child element `name` of `parent`.
    fn open(&mut self, parent: Option<&mut Frame<'s>>, name: &str) -> Frame<'s> {
        let Some(Frame::Node { node, row, key, groups, counts }) = parent else {
            return Frame::Skip;
        };
        let Some((child_name, slot)) = node.children.get_key_value(name) else {
            return Frame::Skip;
        };
        match slot {
            Slot::Group(g) => Frame::Node {
                node: g,
                row: *row,
                key: key.clone(),
                groups: match self.schema.layout {
                    Layout::Odk => format!("{groups}{name}/"),
                    Layout::Enumera => String::new(),
                },
                counts: Vec::new(),
            },
            Slot::Repeat { table, node: child } => {
                let n = match counts.iter_mut().find(|(c, _)| *c == child_name.as_str()) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counts.push((child_name.as_str(), 1));
                        1
                    }
                };
                let child_key = match self.schema.layout {
                    Layout::Enumera => format!("{key}/{name}[{n}]"),
                    Layout::Odk => format!("{key}/{groups}{name}[{n}]"),
                };
                let t = &self.schema.tables[*table];
                let idx = self.out.push(*table, &t.defaults);
                let values = &mut self.out.rows[idx].1;
                for (i, f) in &t.meta_cols {
                    match f {
                        MetaField::ParentKey => values[*i].push_str(&key[..]),
                        MetaField::Key => values[*i].push_str(&child_key),
                        _ => {}
                    }
                }
                Frame::Node {
                    node: child,
                    row: idx,
                    key: child_key.into(),
                    groups: String::new(),
                    counts: Vec::new(),
                }
            }
            Slot::Leaf(leaf) => Frame::Leaf { leaf, name: child_name.as_str(), row: *row },
        }
    }

    fn leaf(&mut self, leaf: &Leaf, name: &str, raw: &str, row: usize) {
        let raw = match self.swap {
            Some(s) if raw == s.raw && !raw.is_empty() => s.exported,
            _ => self.style.file(leaf, raw),
        };
        if self.out.counting {
            let tally = &mut self.out.tally;
            if leaf.optional {
                tally.optional += 1;
                if raw.is_empty() {
                    tally.skipped += 1;
                }
            }
            if leaf.qtype.is_select() && !raw.is_empty() {
                tally.selects += 1;
                if raw.split_whitespace().any(|v| meaning(v) == Some(Meaning::DontKnow)) {
                    tally.dont_know += 1;
                }
            }
        }
        if let Some(f) = leaf.fold {
            let main = &mut self.out.rows[0].1;
            let Some((col, _)) = self.schema.tables[0].meta_cols.iter().find(|(_, m)| *m == f)
            else {
                return;
            };
            match f {
                MetaField::Started | MetaField::Ended => {
                    if main[*col].is_empty() {
                        main[*col].push_str(raw);
                    }
                }
                _ => {
                    if !raw.is_empty() && raw != self.meta.value(f) {
                        self.out.differs.push((name.to_string(), raw.to_string()));
                    }
                }
            }
            return;
        }
        let values = &mut self.out.rows[row].1;
        if let Some(geo) = leaf.geo_cols {
            for (col, part) in geo.iter().zip(raw.split_whitespace()) {
                values[*col].push_str(part);
            }
            return;
        }
        if let Some(col) = leaf.value_col {
            values[col].clear();
            if self.style.labels && leaf.list.is_some() {
                values[col] = display(self.schema, leaf, raw, self.style);
            } else {
                values[col].push_str(raw);
            }
        }
        if !raw.is_empty() && !leaf.choice_cols.is_empty() {
            for (_, col) in &leaf.choice_cols {
                values[*col].clear();
                values[*col].push('0');
            }
            // One pass over the answer, not one per choice.
            for v in raw.split_whitespace() {
                if let Some((_, col)) = leaf.choice_cols.iter().find(|(c, _)| c == v) {
                    values[*col].clear();
                    values[*col].push('1');
                }
            }
        }
    }
}

/// A value as exported: the stored value, or its choice labels.
pub fn display(schema: &FormSchema, leaf: &Leaf, raw: &str, style: ValueStyle<'_>) -> String {
    let Some(list) = leaf.list.as_deref().filter(|_| style.labels) else {
        return raw.to_string();
    };
    let label = |v: &str| schema.choice_label(list, v, style.lang).unwrap_or(v).to_string();
    match leaf.qtype {
        QuestionType::SelectOne => label(raw),
        QuestionType::SelectMultiple | QuestionType::Rank => {
            raw.split_whitespace().map(label).collect::<Vec<_>>().join("; ")
        }
        _ => raw.to_string(),
    }
}

/// The submission as one nested JSON object: groups as objects, repeats as
/// arrays, numeric answers as numbers, everything else as strings (labels
/// when asked). `infer` collects, per (table, column) of a calculate whose
/// type only its values tell, whether every value so far was a number.
pub fn document(
    schema: &FormSchema,
    xml: &str,
    style: ValueStyle<'_>,
    swap: Option<ParticipantSwap<'_>>,
    infer: &mut HashMap<(usize, usize), bool>,
) -> Result<Map<String, Json>, RecordError> {
    let doc = roxmltree::Document::parse(xml)?;
    let mut w = DocWalker { schema, style, swap, infer };
    Ok(w.object(&schema.root, 0, doc.root_element()))
}

struct DocWalker<'a, 's> {
    schema: &'s FormSchema,
    style: ValueStyle<'a>,
    swap: Option<ParticipantSwap<'a>>,
    infer: &'a mut HashMap<(usize, usize), bool>,
}

impl DocWalker<'_, '_> {
    fn object(
        &mut self,
        node: &SchemaNode,
        table: usize,
        elem: roxmltree::Node<'_, '_>,
    ) -> Map<String, Json> {
        let mut map = Map::new();
        for child in elem.children().filter(roxmltree::Node::is_element) {
            let name = child.tag_name().name();
            match node.children.get(name) {
                None => {}
                Some(Slot::Group(g)) => {
                    let o = self.object(g, table, child);
                    map.insert(name.into(), Json::Object(o));
                }
                Some(Slot::Repeat { node, table }) => {
                    let item = Json::Object(self.object(node, *table, child));
                    match map.entry(name).or_insert_with(|| Json::Array(Vec::new())) {
                        Json::Array(a) => a.push(item),
                        other => *other = Json::Array(vec![item]),
                    }
                }
                Some(Slot::Leaf(leaf)) => {
                    let raw = child.text().unwrap_or("");
                    let raw = match self.swap {
                        Some(s) if raw == s.raw && !raw.is_empty() => s.exported,
                        _ => self.style.file(leaf, raw),
                    };
                    let vtype = self.leaf_type(leaf, table);
                    let value = match (vtype, number(raw)) {
                        (ValueType::Number, Some(x)) => json_number(raw, x),
                        (ValueType::Infer, n) => {
                            if let Some(col) = leaf.value_col
                                && !raw.is_empty()
                            {
                                let all = self.infer.entry((table, col)).or_insert(true);
                                *all &= n.is_some();
                            }
                            Json::String(raw.to_string())
                        }
                        _ => Json::String(display(self.schema, leaf, raw, self.style)),
                    };
                    map.insert(name.into(), value);
                }
            }
        }
        map
    }

    fn leaf_type(&self, leaf: &Leaf, table: usize) -> ValueType {
        match leaf.value_col {
            Some(c) => self.schema.tables[table].columns[c].vtype,
            None if leaf.fold.is_some() => ValueType::DateTime,
            None => ValueType::Text,
        }
    }
}

/// A number as JSON: integers as integers (no `.0`), the rest as floats.
pub fn json_number(raw: &str, x: f64) -> Json {
    let raw = raw.trim();
    if !raw.contains(['.', 'e', 'E'])
        && let Ok(n) = raw.parse::<i64>()
    {
        return Json::from(n);
    }
    serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
}

/// Turns the values of calculates found to be numbers into JSON numbers
/// (the JSON Lines writer, once every value has been seen).
pub fn numbers_in(
    node: &SchemaNode,
    table: usize,
    map: &mut Map<String, Json>,
    numeric: &dyn Fn(usize, usize) -> bool,
) {
    for (name, value) in map.iter_mut() {
        match (node.children.get(name.as_str()), value) {
            (Some(Slot::Group(g)), Json::Object(o)) => numbers_in(g, table, o, numeric),
            (Some(Slot::Repeat { node, table }), Json::Array(items)) => {
                for item in items {
                    if let Json::Object(o) = item {
                        numbers_in(node, *table, o, numeric);
                    }
                }
            }
            (Some(Slot::Leaf(leaf)), v @ Json::String(_)) => {
                if let (Some(col), Json::String(s)) = (leaf.value_col, &*v)
                    && numeric(table, col)
                    && let Some(x) = number(s)
                {
                    *v = json_number(s, x);
                }
            }
            _ => {}
        }
    }
}
