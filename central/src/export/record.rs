//! One submission (instance XML) into table rows, or into one nested JSON
//! document, following a [`FormSchema`]. Elements the schema does not know
//! (personal data left out, `meta`) are skipped.

use std::collections::HashMap;

use enumera_core::instrument::QuestionType;
use serde_json::{Map, Value as Json};

use super::schema::{FormSchema, Leaf, SchemaNode, Slot};

/// How values are written.
#[derive(Debug, Clone, Copy)]
pub struct ValueStyle<'a> {
    /// Choice labels instead of choice names.
    pub labels: bool,
    /// Language of labels (a key of the instrument's texts).
    pub lang: Option<&'a str>,
}

/// The participant id as collected and as exported: any answer equal to
/// the id is exported as the pseudonym too.
#[derive(Debug, Clone, Copy)]
pub struct ParticipantSwap<'a> {
    pub raw: &'a str,
    pub exported: &'a str,
}

/// The response's metadata for the main table.
#[derive(Debug, Clone, Copy)]
pub struct RowMeta<'a> {
    pub key: &'a str,
    pub participant: &'a str,
    pub round: &'a str,
    pub form_version: &'a str,
    pub device_id: &'a str,
    pub enumerator: &'a str,
    pub submitted: &'a str,
    pub received: &'a str,
}

/// Rows of one response: (table index, values), the main row first. The
/// buffers are kept from one response to the next (no allocation per value).
#[derive(Debug, Default)]
pub struct Rows {
    rows: Vec<(usize, Vec<String>)>,
    len: usize,
}

impl Rows {
    pub fn iter(&self) -> impl Iterator<Item = &(usize, Vec<String>)> {
        self.rows[..self.len].iter()
    }

    pub fn main(&self) -> &[String] {
        self.rows.first().map(|r| r.1.as_slice()).unwrap_or_default()
    }

    /// A new empty row of `width` columns for `table`; its index.
    fn push(&mut self, table: usize, width: usize) -> usize {
        if self.len == self.rows.len() {
            self.rows.push((table, Vec::new()));
        }
        let row = &mut self.rows[self.len];
        row.0 = table;
        row.1.truncate(width);
        row.1.iter_mut().for_each(String::clear);
        row.1.resize(width, String::new());
        self.len += 1;
        self.len - 1
    }
}

/// Why a submission could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the submission XML is not well formed: {0}")]
    Xml(#[from] roxmltree::Error),
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
    let doc = roxmltree::Document::parse(xml)?;
    out.push(0, schema.tables[0].columns.len());
    let main = &mut out.rows[0].1;
    for (i, v) in [
        meta.key,
        meta.participant,
        meta.round,
        meta.form_version,
        meta.device_id,
        meta.enumerator,
        "",
        "",
        meta.submitted,
        meta.received,
    ]
    .into_iter()
    .enumerate()
    {
        main[i].push_str(v);
    }
    let mut w = Walker { schema, style, swap, out };
    w.fill(&schema.root, doc.root_element(), 0, meta.key);
    let main = &mut out.rows[0].1;
    if let Some(c) = schema.start_col {
        let v = std::mem::take(&mut main[c]);
        main[6].push_str(&v);
        main[c] = v;
    }
    if let Some(c) = schema.end_col {
        let v = std::mem::take(&mut main[c]);
        main[7].push_str(&v);
        main[c] = v;
    }
    Ok(())
}

struct Walker<'a, 's> {
    schema: &'s FormSchema,
    style: ValueStyle<'a>,
    swap: Option<ParticipantSwap<'a>>,
    out: &'a mut Rows,
}

impl Walker<'_, '_> {
    fn fill(&mut self, node: &SchemaNode, elem: roxmltree::Node<'_, '_>, row: usize, key: &str) {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for child in elem.children().filter(roxmltree::Node::is_element) {
            let name = child.tag_name().name();
            match node.children.get(name) {
                None => {}
                Some(Slot::Group(g)) => self.fill(g, child, row, key),
                Some(Slot::Repeat { table, node }) => {
                    let n = counts.entry(name).or_insert(0);
                    *n += 1;
                    let child_key = format!("{key}/{name}[{n}]");
                    let idx = self.out.push(*table, self.schema.tables[*table].columns.len());
                    let values = &mut self.out.rows[idx].1;
                    values[0].push_str(key);
                    values[1].push_str(&child_key);
                    self.fill(node, child, idx, &child_key);
                }
                Some(Slot::Leaf(leaf)) => {
                    let raw = child.text().unwrap_or("");
                    self.leaf(leaf, raw, row);
                }
            }
        }
    }

    fn leaf(&mut self, leaf: &Leaf, raw: &str, row: usize) {
        let raw = match self.swap {
            Some(s) if raw == s.raw && !raw.is_empty() => s.exported,
            _ => raw,
        };
        let values = &mut self.out.rows[row].1;
        if let Some(geo) = leaf.geo_cols {
            for (col, part) in geo.iter().zip(raw.split_whitespace()) {
                values[*col].push_str(part);
            }
            return;
        }
        if let Some(col) = leaf.value_col {
            if self.style.labels && leaf.list.is_some() {
                values[col] = display(self.schema, leaf, raw, self.style);
            } else {
                values[col].push_str(raw);
            }
        }
        if !raw.is_empty() {
            for (choice, col) in &leaf.choice_cols {
                let chosen = raw.split_whitespace().any(|v| v == choice);
                values[*col].push(if chosen { '1' } else { '0' });
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
/// arrays, answers as strings (labels when asked).
pub fn document(
    schema: &FormSchema,
    xml: &str,
    style: ValueStyle<'_>,
    swap: Option<ParticipantSwap<'_>>,
) -> Result<Map<String, Json>, RecordError> {
    let doc = roxmltree::Document::parse(xml)?;
    Ok(object(schema, &schema.root, doc.root_element(), style, swap))
}

fn object(
    schema: &FormSchema,
    node: &SchemaNode,
    elem: roxmltree::Node<'_, '_>,
    style: ValueStyle<'_>,
    swap: Option<ParticipantSwap<'_>>,
) -> Map<String, Json> {
    let mut map = Map::new();
    for child in elem.children().filter(roxmltree::Node::is_element) {
        let name = child.tag_name().name();
        match node.children.get(name) {
            None => {}
            Some(Slot::Group(g)) => {
                map.insert(name.into(), Json::Object(object(schema, g, child, style, swap)));
            }
            Some(Slot::Repeat { node, .. }) => {
                let item = Json::Object(object(schema, node, child, style, swap));
                match map.entry(name).or_insert_with(|| Json::Array(Vec::new())) {
                    Json::Array(a) => a.push(item),
                    other => *other = Json::Array(vec![item]),
                }
            }
            Some(Slot::Leaf(leaf)) => {
                let raw = child.text().unwrap_or("");
                let raw = match swap {
                    Some(s) if raw == s.raw && !raw.is_empty() => s.exported,
                    _ => raw,
                };
                map.insert(name.into(), Json::String(display(schema, leaf, raw, style)));
            }
        }
    }
    map
}
