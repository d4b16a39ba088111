//! Secondary instances: each choice list and CSV file as a small read-only
//! tree, `instance('id')/root/item/{name,label,...}`, built once per form.

use std::collections::{BTreeMap, HashMap};

use crate::instrument::Instrument;

/// One node of a secondary instance.
#[derive(Debug, Clone)]
pub struct SecNode {
    pub name: String,
    pub value: String,
    pub parent: Option<usize>,
    pub first_child: Option<usize>,
    pub next: Option<usize>,
    pub prev: Option<usize>,
    /// An attribute of its parent element (from an XML file); attributes
    /// are chained by `next`/`prev` from the element's `first_attribute`.
    pub attribute: bool,
    pub first_attribute: Option<usize>,
}

/// All secondary instances of a form in one arena. Each instance has a
/// document root (name "") whose only child is `root`.
#[derive(Debug, Clone, Default)]
pub struct Secondary {
    pub nodes: Vec<SecNode>,
    pub roots: HashMap<String, usize>,
}

impl Secondary {
    pub fn new(instrument: &Instrument) -> Secondary {
        let mut s = Secondary::default();
        let lang = instrument.default_language.as_deref();
        for (name, list) in &instrument.choices {
            let items = list.choices.iter().map(|c| {
                let mut fields = vec![
                    ("name".to_string(), c.name.clone()),
                    ("label".to_string(), c.label.get(lang, lang).unwrap_or_default().to_string()),
                ];
                fields.extend(c.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
                fields
            });
            s.add_instance(name, items.collect());
        }
        for (file, data) in &instrument.files {
            let id = file.rsplit_once('.').map_or(file.as_str(), |(stem, _)| stem);
            if let Some(xml) = &data.xml
                && s.add_xml(id, xml)
            {
                continue;
            }
            let items = data
                .rows
                .iter()
                .map(|row| data.columns.iter().cloned().zip(row.iter().cloned()).collect())
                .collect();
            s.add_instance(id, items);
        }
        s
    }

    fn push(&mut self, name: &str, value: &str, parent: Option<usize>) -> usize {
        let id = self.nodes.len();
        self.nodes.push(SecNode {
            name: name.to_string(),
            value: value.to_string(),
            parent,
            first_child: None,
            next: None,
            prev: None,
            attribute: false,
            first_attribute: None,
        });
        if let Some(p) = parent {
            match self.nodes[p].first_child {
                None => self.nodes[p].first_child = Some(id),
                Some(first) => {
                    let mut last = first;
                    while let Some(n) = self.nodes[last].next {
                        last = n;
                    }
                    self.nodes[last].next = Some(id);
                    self.nodes[id].prev = Some(last);
                }
            }
        }
        id
    }

    fn add_instance(&mut self, id: &str, items: Vec<Vec<(String, String)>>) {
        if self.roots.contains_key(id) {
            return;
        }
        let doc = self.push("", "", None);
        let root = self.push("root", "", Some(doc));
        // Append items and fields with a running tail instead of push()'s
        // scan, so big CSVs load in linear time.
        let mut prev_item: Option<usize> = None;
        for fields in items {
            let item = self.nodes.len();
            self.nodes.push(SecNode {
                name: "item".into(),
                value: String::new(),
                parent: Some(root),
                first_child: None,
                next: None,
                prev: prev_item,
                attribute: false,
                first_attribute: None,
            });
            match prev_item {
                Some(p) => self.nodes[p].next = Some(item),
                None => self.nodes[root].first_child = Some(item),
            }
            prev_item = Some(item);
            let mut prev_field: Option<usize> = None;
            for (k, v) in fields {
                let f = self.nodes.len();
                self.nodes.push(SecNode {
                    name: k,
                    value: v,
                    parent: Some(item),
                    first_child: None,
                    next: None,
                    prev: prev_field,
                    attribute: false,
                    first_attribute: None,
                });
                match prev_field {
                    Some(p) => self.nodes[p].next = Some(f),
                    None => self.nodes[item].first_child = Some(f),
                }
                prev_field = Some(f);
            }
        }
        self.roots.insert(id.to_string(), doc);
    }

    /// An XML file as instance `id`, whatever its shape; false when it
    /// cannot be read (it was read at import, so only a hand-made
    /// instrument gets here).
    fn add_xml(&mut self, id: &str, xml: &str) -> bool {
        use crate::expr::Document;
        if self.roots.contains_key(id) {
            return true;
        }
        let Ok(doc) = crate::expr::MemDoc::from_xml(xml) else { return false };
        let top = self.push("", "", None);
        // Depth-first, appending each element under its copied parent.
        let mut stack = vec![(doc.root(), top)];
        while let Some((from, to)) = stack.pop() {
            let mut children = Vec::new();
            let mut c = doc.first_child(from);
            while let Some(x) = c {
                if doc.kind(x) == crate::expr::NodeKind::Element {
                    children.push(x);
                }
                c = doc.next_sibling(x);
            }
            for x in children {
                let copy = self.push(doc.name(x), doc.value(x), Some(to));
                let mut a = doc.first_attribute(x);
                let mut last: Option<usize> = None;
                while let Some(attr) = a {
                    let id = self.nodes.len();
                    self.nodes.push(SecNode {
                        name: doc.name(attr).to_string(),
                        value: doc.value(attr).to_string(),
                        parent: Some(copy),
                        first_child: None,
                        next: None,
                        prev: last,
                        attribute: true,
                        first_attribute: None,
                    });
                    match last {
                        Some(l) => self.nodes[l].next = Some(id),
                        None => self.nodes[copy].first_attribute = Some(id),
                    }
                    last = Some(id);
                    a = doc.next_sibling(attr);
                }
                stack.push((x, copy));
            }
        }
        self.roots.insert(id.to_string(), top);
        true
    }

    /// Rows of instance `id` as field maps (for itemsets).
    pub fn items(&self, id: &str) -> Vec<BTreeMap<&str, &str>> {
        let Some(&doc) = self.roots.get(id) else {
            return vec![];
        };
        let Some(root) = self.nodes[doc].first_child else {
            return vec![];
        };
        let mut out = Vec::new();
        let mut item = self.nodes[root].first_child;
        while let Some(i) = item {
            let mut fields = BTreeMap::new();
            let mut f = self.nodes[i].first_child;
            while let Some(x) = f {
                fields.insert(self.nodes[x].name.as_str(), self.nodes[x].value.as_str());
                f = self.nodes[x].next;
            }
            out.push(fields);
            item = self.nodes[i].next;
        }
        out
    }
}
