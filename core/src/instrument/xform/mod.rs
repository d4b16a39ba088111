//! The instrument as an ODK XForm, written the way pyxform 4.5 writes the
//! same XLSForm, so that ODK tools (Collect, Web Forms, Central) read it as
//! they read pyxform's: same instance tree, bind nodesets and expressions,
//! itext ids and texts, secondary instances and body controls.
//!
//! `${name}` references become XPath paths by [`PathIndex`]'s rules (which
//! are pyxform's), padded with a space on each side as pyxform pads them:
//! the XForm reader (`xform_read`) takes a padded path back as the
//! reference it was, and a path the author wrote stays a path.

mod binds;
mod body;
mod instance;
mod itext;
mod outputs;
mod prepare;
mod xml;

pub(crate) use binds::{bind_type, default_is_dynamic, effective_preload};
// The XForm reader's (the `xlsx` feature's) name for a type's preload.
#[cfg(feature = "xlsx")]
pub(crate) use binds::preload as preload_of;
pub(crate) use outputs::instance_expressions;
pub(crate) use prepare::{add_other_choices, is_single_reference, rewrite_table_lists};

use std::collections::HashSet;

use super::model::{Instrument, Node, NodeKind, Text};
use super::paths::{ElementPath, PathIndex, RefError};
use itext::Itext;
use prepare::{META, is_translated};
use xml::{Content, Element, is_ncname};

/// Why an instrument could not be written as an XForm. Validation reports
/// these first, with sheet and cell; this is the last line of defence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XformError {
    #[error("survey row {row}, question {name}, {column}: {source}")]
    Reference { name: String, row: u32, column: String, source: RefError },
}

impl Instrument {
    /// The ODK XForm (XML text) for this instrument.
    pub fn to_xform(&self) -> std::result::Result<String, XformError> {
        let prepared = prepare::prepare(self);
        let writer = Writer::new(&prepared);
        writer.write()
    }
}

const NS: [(&str, &str); 7] = [
    ("xmlns", "http://www.w3.org/2002/xforms"),
    ("xmlns:h", "http://www.w3.org/1999/xhtml"),
    ("xmlns:ev", "http://www.w3.org/2001/xml-events"),
    ("xmlns:xsd", "http://www.w3.org/2001/XMLSchema"),
    ("xmlns:jr", "http://openrosa.org/javarosa"),
    ("xmlns:orx", "http://openrosa.org/xforms"),
    ("xmlns:odk", "http://www.opendatakit.org/xforms"),
];

struct Writer<'a> {
    inst: &'a Instrument,
    index: PathIndex,
    /// The language that unsuffixed columns are in (pyxform's
    /// `default_language`: the setting, or "default").
    default_lang: String,
    /// Languages in column order, as itext names them.
    lang_order: Vec<String>,
    itext: Itext,
    /// Choice lists whose labels go through itext.
    itext_lists: HashSet<String>,
    /// Triggering question name -> what it triggers (see [`body::Triggers`]).
    triggers: body::Triggers,
    /// Extra namespaces from settings `namespaces` (`esri=http://...`).
    namespaces: Vec<(String, String)>,
}

type Result<T> = std::result::Result<T, XformError>;

impl<'a> Writer<'a> {
    fn new(inst: &'a Instrument) -> Self {
        let default_lang = inst.default_language.clone().unwrap_or_else(|| "default".to_string());
        let mut lang_order: Vec<String> = Vec::new();
        for l in &inst.languages {
            if !lang_order.contains(l) {
                lang_order.push(l.clone());
            }
        }
        let itext_lists = inst
            .choices
            .iter()
            .filter(|(_, list)| {
                list.choices.iter().any(|c| {
                    c.media.values().any(|t| !t.is_empty())
                        || is_translated(&c.label)
                        || c.label.0.values().any(|l| l.contains("${"))
                })
            })
            .map(|(name, _)| name.clone())
            .collect();
        let mut triggers = body::Triggers::new();
        body::collect_triggers(&inst.children, &mut triggers);
        Writer {
            inst,
            index: PathIndex::new(inst),
            default_lang,
            lang_order,
            itext: Itext::default(),
            itext_lists,
            triggers,
            namespaces: extra_namespaces(inst.settings.other.get("namespaces")),
        }
    }

    fn write(mut self) -> Result<String> {
        let root = ElementPath { segments: vec![self.inst.root_name.clone()], repeat: vec![false] };
        let inst = self.inst;
        self.choice_itext();
        let mut model_items = Vec::new();
        self.binds(&inst.children, &root, &mut model_items)?;
        let body_children = self.body_nodes(&inst.children, &root)?;

        let mut html = Element::new("h:html");
        for (k, v) in NS {
            html.set(k, v);
        }
        for (prefix, uri) in &self.namespaces {
            html.set(format!("xmlns:{prefix}"), uri.as_str());
        }
        // Enumera's own attributes (pii, preload), which ODK tools ignore;
        // the declaration also tells a reader the paths are not padded.
        html.set("xmlns:enumera", crate::instrument::xform_read_ns::ENUMERA_NS);
        let mut model = Element::new("model").attr("odk:xforms-version", "1.0.0");
        if let Some(submission) = self.submission() {
            model.push(submission);
        }
        if !self.itext.is_empty() {
            model.push(self.itext.to_element(&self.lang_order, &self.default_lang));
        }
        model.push(Element::new("instance").child(self.primary_instance(&root)));
        for instance in self.secondary_instances() {
            model.push(instance);
        }
        for item in model_items {
            model.push(item);
        }
        let head = Element::new("h:head")
            .child(Element::new("h:title").text(self.inst.title.as_str()))
            .child(model);
        let mut body = Element::new("h:body");
        if let Some(style) = &self.inst.settings.style {
            body.set("class", style.as_str());
        }
        for el in body_children {
            body.push(el);
        }
        Ok(html.child(head).child(body).to_document())
    }

    fn submission(&self) -> Option<Element> {
        let s = &self.inst.settings;
        let flags = ["auto_send", "auto_delete"];
        if s.submission_url.is_none()
            && s.public_keys.is_empty()
            && !flags.iter().any(|k| s.other.contains_key(*k))
        {
            return None;
        }
        let mut el = Element::new("submission");
        if let Some(url) = &s.submission_url {
            el.set("action", url.as_str());
            el.set("method", "post");
        }
        if !s.public_keys.is_empty() {
            el.set("base64RsaPublicKey", s.public_keys.join(" "));
        }
        for (key, attr) in [("auto_send", "orx:auto-send"), ("auto_delete", "orx:auto-delete")] {
            if let Some(v) = s.other.get(key) {
                el.set(attr, v.as_str());
            }
        }
        Some(el)
    }

    /// Whether an attribute name from a `bind::`, `body::` or `instance::`
    /// column can be written: unprefixed, or with a declared prefix (an
    /// undeclared one would make the XML unreadable; validation warns).
    fn declared(&self, attr: &str) -> bool {
        match attr.split_once(':') {
            None => is_ncname(attr),
            Some((prefix, local)) => {
                is_ncname(local)
                    && (NS.iter().any(|(k, _)| k.strip_prefix("xmlns:") == Some(prefix))
                        || self.namespaces.iter().any(|(p, _)| p == prefix))
            }
        }
    }

    /// Whether `node` is the `meta` group [`prepare::prepare`] appended
    /// (always the last top-level child).
    fn is_meta(&self, node: &Node) -> bool {
        node.name == META && self.inst.children.last().is_some_and(|m| std::ptr::eq(m, node))
    }

    // ---- paths and expressions -------------------------------------------

    fn expand(&self, src: &str, ctx: &ElementPath, node: &Node, column: &str) -> Result<String> {
        self.index.expand_padded(src, ctx).map_err(|e| ref_error(node, column, e))
    }

    /// Text with its `${name}` and `instance(...)` expressions turned into
    /// `<output value="path"/>`, as labels and hints show answers.
    fn rich(
        &self,
        text: &str,
        ctx: &ElementPath,
        node: &Node,
        column: &str,
    ) -> Result<Vec<Content>> {
        outputs::rich(&self.index, text, ctx).map_err(|e| ref_error(node, column, e))
    }

    /// The language a text's key stands for in itext.
    fn lang<'k>(&'k self, key: &'k str) -> &'k str {
        if key.is_empty() { &self.default_lang } else { key }
    }

    // ---- itext -----------------------------------------------------------

    fn choice_itext(&mut self) {
        let mut items = Vec::new();
        for (list_name, list) in &self.inst.choices {
            if !self.itext_lists.contains(list_name) {
                continue;
            }
            for (i, choice) in list.choices.iter().enumerate() {
                let id = format!("{list_name}-{i}");
                for (lang, label) in &choice.label.0 {
                    items.push((
                        id.clone(),
                        "long".to_string(),
                        self.lang(lang).to_string(),
                        label.clone(),
                    ));
                }
                for (media, by_lang) in &choice.media {
                    for (lang, file) in &by_lang.0 {
                        items.push((
                            id.clone(),
                            media.clone(),
                            self.lang(lang).to_string(),
                            file.clone(),
                        ));
                    }
                }
            }
        }
        let unsuffixed_choices: Vec<String> = if self.inst.default_language.is_some() {
            self.inst
                .choices
                .iter()
                .filter(|(name, _)| self.itext_lists.contains(*name))
                .flat_map(|(name, list)| {
                    list.choices
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| {
                            c.label.0.contains_key("")
                                || c.media.values().any(|m| m.0.contains_key(""))
                        })
                        .map(move |(i, _)| format!("{name}-{i}"))
                })
                .collect()
        } else {
            Vec::new()
        };
        for id in unsuffixed_choices {
            self.itext.mark_unsuffixed(&id);
        }
        for (id, form, lang, text) in items {
            // Choice labels have no question to be relative to; a reference
            // that does not resolve stays as written.
            let content = self.choice_rich(&text);
            self.itext.add(&id, &form, &lang, content);
        }
    }

    /// A choice label's text: references are absolute (a choice belongs to
    /// no question); one that does not resolve leaves the text as written
    /// (validation reports it).
    fn choice_rich(&self, text: &str) -> Vec<Content> {
        let root = ElementPath { segments: vec![self.inst.root_name.clone()], repeat: vec![false] };
        outputs::rich(&self.index, text, &root)
            .unwrap_or_else(|_| vec![Content::Text(text.to_string())])
    }

    /// Adds `text` in every language it has (the unsuffixed form in the
    /// default language).
    fn add_itext(
        &mut self,
        id: &str,
        form: &str,
        text: &Text,
        ctx: &ElementPath,
        node: &Node,
        column: &str,
    ) -> Result<()> {
        for (key, value) in &text.0 {
            let content = self.rich(value, ctx, node, column)?;
            let lang = self.lang(key).to_string();
            self.itext.add(id, form, &lang, content);
            if key.is_empty() && self.inst.default_language.is_some() {
                self.itext.mark_unsuffixed(id);
            }
        }
        Ok(())
    }

    /// Itext for one element's label, hint, guidance hint and media, with
    /// pyxform's rules for when a text goes to itext rather than inline.
    fn element_itext(&mut self, node: &Node, ctx: &ElementPath) -> Result<()> {
        let path = ctx.absolute();
        let has_media = node.media.values().any(|t| !t.is_empty());
        if is_translated(&node.label) || (has_media && !node.label.is_empty()) {
            self.add_itext(&format!("{path}:label"), "long", &node.label, ctx, node, "label")?;
        }
        let has_guidance = !node.guidance_hint.is_empty();
        if is_translated(&node.hint) || (has_guidance && !node.hint.is_empty()) {
            self.add_itext(&format!("{path}:hint"), "long", &node.hint, ctx, node, "hint")?;
        }
        if has_guidance {
            self.add_itext(
                &format!("{path}:hint"),
                "guidance",
                &node.guidance_hint,
                ctx,
                node,
                "guidance_hint",
            )?;
        }
        for (media, by_lang) in &node.media {
            for (key, file) in &by_lang.0 {
                if key.is_empty() && self.inst.default_language.is_some() {
                    self.itext.mark_unsuffixed(&format!("{path}:label"));
                }
                let lang = self.lang(key).to_string();
                self.itext.add(
                    &format!("{path}:label"),
                    media,
                    &lang,
                    vec![Content::Text(file.clone())],
                );
            }
        }
        Ok(())
    }

    /// A constraint or required message: inline when plain, else an itext
    /// reference. Returns the attribute value.
    fn message(
        &mut self,
        text: &Text,
        attr: &str,
        ctx: &ElementPath,
        node: &Node,
        column: &str,
    ) -> Result<Option<String>> {
        if text.is_empty() {
            return Ok(None);
        }
        if !is_translated(text) && !text.0.values().any(|t| t.contains("${")) {
            return Ok(text.0.values().next().cloned());
        }
        let id = format!("{}:{attr}", ctx.absolute());
        self.add_itext(&id, "long", text, ctx, node, column)?;
        Ok(Some(format!("jr:itext('{id}')")))
    }
}

/// Settings `namespaces`: space-separated `prefix=uri` pairs, quotes
/// allowed around the uri, as pyxform reads them.
fn extra_namespaces(setting: Option<&String>) -> Vec<(String, String)> {
    let Some(setting) = setting else {
        return Vec::new();
    };
    setting
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter(|(prefix, _)| is_ncname(prefix) && !NS.iter().any(|(k, _)| k.ends_with(prefix)))
        .map(|(prefix, uri)| (prefix.to_string(), uri.trim_matches(['"', '\'']).to_string()))
        .collect()
}

fn ref_error(node: &Node, column: &str, source: RefError) -> XformError {
    XformError::Reference {
        name: node.name.clone(),
        row: node.row,
        column: column.to_string(),
        source,
    }
}

fn child_path(parent: &ElementPath, node: &Node) -> ElementPath {
    let mut p = parent.clone();
    p.segments.push(node.name.clone());
    p.repeat.push(matches!(node.kind, NodeKind::Repeat { .. }));
    p
}

#[cfg(test)]
mod tests;
