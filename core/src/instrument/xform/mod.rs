//! The instrument as an ODK XForm, written the way pyxform 4.5 writes the
//! same XLSForm, so that ODK tools (Collect, Web Forms, Central) read it as
//! they read pyxform's: same instance tree, bind nodesets and expressions,
//! itext ids and texts, secondary instances and body controls.
//!
//! `${name}` references become XPath paths by [`PathIndex`]'s rules (which
//! are pyxform's); unlike pyxform we do not pad them with spaces.

mod itext;
mod prepare;
mod xml;

use std::collections::{HashMap, HashSet};

use super::model::{Instrument, Node, NodeKind, QuestionType, Text};
use super::paths::{ElementPath, PathIndex, RefError, references};
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
    pub fn to_xform(&self) -> Result<String> {
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
    /// Triggering question name -> (triggered question, value expression).
    triggers: HashMap<String, Vec<(String, String)>>,
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
        let mut triggers: HashMap<String, Vec<(String, String)>> = HashMap::new();
        collect_triggers(&inst.children, &mut triggers);
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

    // ---- paths and expressions -------------------------------------------

    fn expand(&self, src: &str, ctx: &ElementPath, node: &Node, column: &str) -> Result<String> {
        self.index.expand(src, ctx).map_err(|e| ref_error(node, column, e))
    }

    /// Text with `${name}` turned into `<output value="path"/>`, as labels
    /// and hints show answers. `ctx` is None for choice labels, whose
    /// references are absolute.
    fn rich(
        &self,
        text: &str,
        ctx: Option<&ElementPath>,
        node: &Node,
        column: &str,
    ) -> Result<Vec<Content>> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            let name = rest[start + 2..start + 2 + len].trim();
            let path = match ctx {
                Some(ctx) => self.expand(&format!("${{{name}}}"), ctx, node, column)?,
                None => self.index.get(name).map_err(|e| ref_error(node, column, e))?.absolute(),
            };
            if start > 0 {
                out.push(Content::Text(rest[..start].to_string()));
            }
            out.push(Content::El(Element::new("output").attr("value", path)));
            rest = &rest[start + 2 + len + 1..];
        }
        if !rest.is_empty() {
            out.push(Content::Text(rest.to_string()));
        }
        Ok(pad_outputs(out))
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
        for (id, form, lang, text) in items {
            // Choice labels have no question to be relative to; a reference
            // that does not resolve stays as written.
            let content = self.choice_rich(&text);
            self.itext.add(&id, &form, &lang, content);
        }
    }

    fn choice_rich(&self, text: &str) -> Vec<Content> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            let Ok(target) = self.index.get(rest[start + 2..start + 2 + len].trim()) else {
                break;
            };
            if start > 0 {
                out.push(Content::Text(rest[..start].to_string()));
            }
            out.push(Content::El(Element::new("output").attr("value", target.absolute())));
            rest = &rest[start + 2 + len + 1..];
        }
        if !rest.is_empty() {
            out.push(Content::Text(rest.to_string()));
        }
        pad_outputs(out)
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
            let content = self.rich(value, Some(ctx), node, column)?;
            let lang = self.lang(key).to_string();
            self.itext.add(id, form, &lang, content);
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

    // ---- the primary instance -----------------------------------------------

    fn primary_instance(&self, root: &ElementPath) -> Element {
        let mut el =
            Element::new(self.inst.root_name.as_str()).attr("id", self.inst.form_id.as_str());
        if !self.inst.version.is_empty() {
            el.set("version", self.inst.version.as_str());
        }
        for child in self.instance_nodes(&self.inst.children, root, false) {
            el.push(child);
        }
        el
    }

    /// pyxform writes each repeat as its template (`jr:template=""`) followed
    /// by one instance, except inside a repeat instance, where nested
    /// repeats get only the instance.
    fn instance_nodes(
        &self,
        nodes: &[Node],
        parent: &ElementPath,
        in_repeat_instance: bool,
    ) -> Vec<Element> {
        let mut out = Vec::new();
        for node in nodes {
            let ctx = child_path(parent, node);
            match &node.kind {
                NodeKind::Repeat { .. } => {
                    if !in_repeat_instance {
                        out.push(self.template(node, &ctx));
                    }
                    out.push(self.section(node, &ctx, true));
                }
                NodeKind::Group => out.push(self.section(node, &ctx, in_repeat_instance)),
                NodeKind::Question(_) => out.push(self.leaf(node, &ctx)),
            }
        }
        out
    }

    fn section(&self, node: &Node, ctx: &ElementPath, in_repeat_instance: bool) -> Element {
        let mut el = self.instance_element(node, ctx);
        for child in self.instance_nodes(&node.children, ctx, in_repeat_instance) {
            el.push(child);
        }
        if self.is_meta(node) {
            el.push(Element::new("instanceID"));
            if self.inst.settings.instance_name.is_some() {
                el.push(Element::new("instanceName"));
            }
        }
        el
    }

    fn template(&self, node: &Node, ctx: &ElementPath) -> Element {
        let mut el = self.instance_element(node, ctx).attr("jr:template", "");
        for child in &node.children {
            let child_ctx = child_path(ctx, child);
            el.push(match &child.kind {
                NodeKind::Repeat { .. } => self.template(child, &child_ctx),
                NodeKind::Group => self.section(child, &child_ctx, false),
                NodeKind::Question(_) => self.leaf(child, &child_ctx),
            });
        }
        el
    }

    fn leaf(&self, node: &Node, ctx: &ElementPath) -> Element {
        let el = self.instance_element(node, ctx);
        match &node.bind.default {
            Some(d) if !default_is_dynamic(d, node.question_type()) => el.text(d.as_str()),
            _ => el,
        }
    }

    /// The element with its `instance::X` attributes. A reference that does
    /// not resolve is left as written (validation reports it).
    fn instance_element(&self, node: &Node, ctx: &ElementPath) -> Element {
        let mut el = Element::new(node.name.as_str());
        for (column, value) in &node.extra {
            if let Some(attr) = column.strip_prefix("instance::").filter(|a| self.declared(a)) {
                let value = self.index.expand(value, ctx).unwrap_or_else(|_| value.clone());
                el.set(attr, value);
            }
        }
        el
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

    // ---- secondary instances ----------------------------------------------

    fn secondary_instances(&self) -> Vec<Element> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut externals = Vec::new();
        collect_external(&self.inst.children, &mut externals);
        for (id, src) in externals {
            if seen.insert(id.clone()) {
                out.push(Element::new("instance").attr("id", id).attr("src", src));
            }
        }
        for (list_name, list) in &self.inst.choices {
            if !seen.insert(list_name.clone()) {
                continue;
            }
            let itext = self.itext_lists.contains(list_name);
            let mut root = Element::new("root");
            for (i, choice) in list.choices.iter().enumerate() {
                let mut item = Element::new("item");
                if itext {
                    item.push(Element::new("itextId").text(format!("{list_name}-{i}")));
                }
                item.push(Element::new("name").text(choice.name.as_str()));
                if !itext && let Some(label) = choice.label.0.get("") {
                    item.push(Element::new("label").text(label.as_str()));
                }
                for (k, v) in &choice.extra {
                    if !v.is_empty() && is_ncname(k) {
                        item.push(Element::new(k.as_str()).text(v.as_str()));
                    }
                }
                root.push(item);
            }
            out.push(Element::new("instance").attr("id", list_name.as_str()).child(root));
        }
        out
    }

    // ---- binds -------------------------------------------------------------

    fn binds(
        &mut self,
        nodes: &[Node],
        parent: &ElementPath,
        out: &mut Vec<Element>,
    ) -> Result<()> {
        for node in nodes {
            let ctx = child_path(parent, node);
            if let Some(bind) = self.bind(node, &ctx)? {
                out.push(bind);
            }
            if let Some(d) = &node.bind.default
                && default_is_dynamic(d, node.question_type())
            {
                let value = self.expand(d, &ctx, node, "default")?;
                out.push(setvalue(&ctx.absolute(), "odk-instance-first-load", Some(value)));
            }
            self.binds(&node.children, &ctx, out)?;
            if self.is_meta(node) {
                out.push(
                    Element::new("bind")
                        .attr("nodeset", format!("{}/instanceID", ctx.absolute()))
                        .attr("type", "string")
                        .attr("readonly", "true()")
                        .attr("jr:preload", "uid"),
                );
                if let Some(expr) = &self.inst.settings.instance_name {
                    let mut name_ctx = ctx.clone();
                    name_ctx.segments.push("instanceName".into());
                    name_ctx.repeat.push(false);
                    let calc = self.expand(expr, &name_ctx, node, "instance_name")?;
                    out.push(
                        Element::new("bind")
                            .attr("nodeset", name_ctx.absolute())
                            .attr("type", "string")
                            .attr("calculate", calc),
                    );
                }
            }
        }
        Ok(())
    }

    fn bind(&mut self, node: &Node, ctx: &ElementPath) -> Result<Option<Element>> {
        let mut el = Element::new("bind").attr("nodeset", ctx.absolute());
        let qtype = node.question_type();
        if let Some(t) = qtype {
            if let Some((preload, params)) = preload(t) {
                el.set("jr:preload", preload);
                el.set("jr:preloadParams", params);
            }
            el.set("type", bind_type(node, t));
            if t == QuestionType::Note {
                el.set("readonly", "true()");
            }
        }
        let b = &node.bind;
        let has_trigger = b.trigger.as_deref().is_some_and(|t| !t.trim().is_empty());
        let exprs = [
            ("required", "required", &b.required),
            ("relevant", "relevant", &b.relevant),
            ("constraint", "constraint", &b.constraint),
            ("calculate", "calculation", &b.calculation),
            ("readonly", "read_only", &b.readonly),
        ];
        for (attr, column, value) in exprs {
            let Some(src) = value.as_deref().filter(|s| !s.trim().is_empty()) else {
                continue;
            };
            // A triggered calculation runs in a setvalue, not in the bind.
            if attr == "calculate" && has_trigger {
                continue;
            }
            let value = match convert_bool(src) {
                Some(v) => v.to_string(),
                None => self.expand(src, ctx, node, column)?,
            };
            el.set(attr, value);
        }
        if let Some(msg) = self.message(
            &b.constraint_message,
            "jr:constraintMsg",
            ctx,
            node,
            "constraint_message",
        )? {
            el.set("jr:constraintMsg", msg);
        }
        if let Some(msg) =
            self.message(&b.required_message, "jr:requiredMsg", ctx, node, "required_message")?
        {
            el.set("jr:requiredMsg", msg);
        }
        if let Some(t) = qtype {
            for (key, attr) in bind_parameters(t) {
                if let Some(v) = node.parameters.get(*key) {
                    el.set(*attr, v.as_str());
                }
            }
        }
        for (column, value) in &node.extra {
            if let Some(attr) = column.strip_prefix("bind::").filter(|a| self.declared(a)) {
                let value = self.expand(value, ctx, node, column)?;
                el.set(attr, value);
            }
        }
        self.element_itext(node, ctx)?;
        // Groups and repeats get a bind only when they carry logic.
        Ok((el.attrs.len() > 1).then_some(el))
    }

    // ---- body --------------------------------------------------------------

    fn body_nodes(&mut self, nodes: &[Node], parent: &ElementPath) -> Result<Vec<Element>> {
        let mut out = Vec::new();
        for node in nodes {
            let ctx = child_path(parent, node);
            let el = match &node.kind {
                NodeKind::Group if self.is_meta(node) => None,
                NodeKind::Group => Some(self.group(node, &ctx)?),
                NodeKind::Repeat { count } => Some(self.repeat(node, count.as_deref(), &ctx)?),
                NodeKind::Question(_) => self.control(node, &ctx)?,
            };
            out.extend(el);
        }
        Ok(out)
    }

    fn group(&mut self, node: &Node, ctx: &ElementPath) -> Result<Element> {
        let mut el = Element::new("group");
        self.body_attributes(node, ctx, &mut el)?;
        if let Some(a) = &node.appearance {
            el.set("appearance", a.as_str());
        }
        el.set("ref", ctx.absolute());
        if !node.label.is_empty() {
            el.push(self.label(node, ctx)?);
        }
        for child in self.body_nodes(&node.children, ctx)? {
            el.push(child);
        }
        Ok(el)
    }

    fn repeat(&mut self, node: &Node, count: Option<&str>, ctx: &ElementPath) -> Result<Element> {
        let path = ctx.absolute();
        let mut repeat = Element::new("repeat").attr("nodeset", path.as_str());
        self.body_attributes(node, ctx, &mut repeat)?;
        if let Some(a) = &node.appearance {
            repeat.set("appearance", a.as_str());
        }
        if let Some(count) = count.filter(|c| !c.trim().is_empty()) {
            repeat.set("jr:count", self.expand(count, ctx, node, "repeat_count")?);
        }
        for child in self.body_nodes(&node.children, ctx)? {
            repeat.push(child);
        }
        // Dynamic defaults of questions whose nearest repeat is this one are
        // also set whenever a new instance of the repeat is added.
        self.new_repeat_setvalues(&node.children, ctx, &mut repeat)?;
        let label = if node.label.is_empty() && node.media.is_empty() {
            Element::new("label")
        } else {
            self.label(node, ctx)?
        };
        Ok(Element::new("group").attr("ref", path).child(label).child(repeat))
    }

    fn new_repeat_setvalues(
        &self,
        nodes: &[Node],
        parent: &ElementPath,
        out: &mut Element,
    ) -> Result<()> {
        for node in nodes {
            let ctx = child_path(parent, node);
            match &node.kind {
                NodeKind::Repeat { .. } => {}
                NodeKind::Group => self.new_repeat_setvalues(&node.children, &ctx, out)?,
                NodeKind::Question(q) => {
                    if let Some(d) = &node.bind.default
                        && default_is_dynamic(d, Some(q.qtype))
                    {
                        let value = self.expand(d, &ctx, node, "default")?;
                        out.push(setvalue(&ctx.absolute(), "odk-new-repeat", Some(value)));
                    }
                }
            }
        }
        Ok(())
    }

    fn control(&mut self, node: &Node, ctx: &ElementPath) -> Result<Option<Element>> {
        let NodeKind::Question(q) = &node.kind else {
            return Ok(None);
        };
        let qtype = q.qtype;
        let hidden = qtype == QuestionType::Calculate
            || qtype == QuestionType::Hidden
            || qtype.is_metadata()
            || ((node.bind.calculation.is_some() || node.bind.trigger.is_some())
                && node.label.is_empty()
                && node.hint.is_empty());
        if hidden {
            return Ok(None);
        }
        let tag = match qtype {
            QuestionType::SelectOne | QuestionType::SelectOneFromFile => "select1",
            QuestionType::SelectMultiple | QuestionType::SelectMultipleFromFile => "select",
            QuestionType::Rank => "odk:rank",
            QuestionType::Range => "range",
            QuestionType::Acknowledge => "trigger",
            QuestionType::Image
            | QuestionType::Audio
            | QuestionType::Video
            | QuestionType::File => "upload",
            _ => "input",
        };
        let mut el = Element::new(tag).attr("ref", ctx.absolute());
        match qtype {
            QuestionType::Image => el.set("mediatype", "image/*"),
            QuestionType::Audio => el.set("mediatype", "audio/*"),
            QuestionType::Video => el.set("mediatype", "video/*"),
            QuestionType::File => el.set("mediatype", "application/*"),
            QuestionType::Range => {
                for (key, default) in [("start", "1"), ("end", "10"), ("step", "1")] {
                    let v = node.parameters.get(key).map_or(default, String::as_str);
                    el.set(key, v);
                }
            }
            QuestionType::Geopoint | QuestionType::Geotrace | QuestionType::Geoshape => {
                if let Some(v) = node.parameters.get("capture-accuracy") {
                    el.set("accuracyThreshold", v.as_str());
                }
                if let Some(v) = node.parameters.get("warning-accuracy") {
                    el.set("unacceptableAccuracyThreshold", v.as_str());
                }
            }
            _ => {}
        }
        if let Some(a) = &node.appearance {
            el.set("appearance", a.as_str());
        }
        self.body_attributes(node, ctx, &mut el)?;

        let has_media = node.media.values().any(|t| !t.is_empty());
        let has_label = !node.label.is_empty() || has_media;
        if has_label {
            el.push(self.label(node, ctx)?);
        }
        if !node.hint.is_empty() || !node.guidance_hint.is_empty() {
            if !has_label {
                el.push(self.label(node, ctx)?);
            }
            el.push(self.hint(node, ctx)?);
        }
        if qtype.is_select() {
            el.push(self.itemset(node, ctx)?);
        }
        if let Some(triggered) = self.triggers.get(&node.name) {
            for (target, value) in triggered.clone() {
                let target_path =
                    self.index.get(&target).map_err(|e| ref_error(node, "trigger", e))?.absolute();
                let value = if value.trim().is_empty() {
                    None
                } else {
                    Some(self.expand(&value, ctx, node, "calculation")?)
                };
                el.push(setvalue(&target_path, "xforms-value-changed", value));
            }
        }
        Ok(Some(el))
    }

    /// `body::X` columns.
    fn body_attributes(&self, node: &Node, ctx: &ElementPath, el: &mut Element) -> Result<()> {
        for (column, value) in &node.extra {
            if let Some(attr) = column.strip_prefix("body::").filter(|a| self.declared(a)) {
                let value = self.expand(value, ctx, node, column)?;
                el.set(attr, value);
            }
        }
        Ok(())
    }

    fn label(&self, node: &Node, ctx: &ElementPath) -> Result<Element> {
        let has_media = node.media.values().any(|t| !t.is_empty());
        if is_translated(&node.label) || has_media {
            let id = format!("{}:label", ctx.absolute());
            return Ok(Element::new("label").attr("ref", format!("jr:itext('{id}')")));
        }
        let mut el = Element::new("label");
        if let Some(text) = node.label.0.get("") {
            el.extend(self.rich(text, Some(ctx), node, "label")?);
        }
        Ok(el)
    }

    fn hint(&self, node: &Node, ctx: &ElementPath) -> Result<Element> {
        if is_translated(&node.hint) || !node.guidance_hint.is_empty() {
            let id = format!("{}:hint", ctx.absolute());
            return Ok(Element::new("hint").attr("ref", format!("jr:itext('{id}')")));
        }
        let mut el = Element::new("hint");
        if let Some(text) = node.hint.0.get("") {
            el.extend(self.rich(text, Some(ctx), node, "hint")?);
        }
        Ok(el)
    }

    fn itemset(&self, node: &Node, ctx: &ElementPath) -> Result<Element> {
        let NodeKind::Question(q) = &node.kind else {
            return Ok(Element::new("itemset"));
        };
        let (mut nodeset, value_ref, label_ref) = match (&q.file, &q.list) {
            (Some(file), _) => {
                let stem = file_stem(file);
                let (value, label) =
                    if file.ends_with(".geojson") { ("id", "title") } else { ("name", "label") };
                let value = node.parameters.get("value").map_or(value, String::as_str);
                let label = node.parameters.get("label").map_or(label, String::as_str);
                (format!("instance('{stem}')/root/item"), value.to_string(), label.to_string())
            }
            (None, list) => {
                let list = list.as_deref().unwrap_or_default();
                let label =
                    if self.itext_lists.contains(list) { "jr:itext(itextId)" } else { "label" };
                (format!("instance('{list}')/root/item"), "name".to_string(), label.to_string())
            }
        };
        if let Some(filter) = node.bind.choice_filter.as_deref().filter(|f| !f.trim().is_empty()) {
            let filter = self
                .index
                .expand_predicate(filter, ctx)
                .map_err(|e| ref_error(node, "choice_filter", e))?;
            nodeset = format!("{nodeset}[{filter}]");
        }
        if node.parameters.get("randomize").is_some_and(|v| v == "true") {
            nodeset = match node.parameters.get("seed") {
                Some(seed) => {
                    let seed = self.expand(seed, ctx, node, "parameters")?;
                    format!("randomize({nodeset}, {seed})")
                }
                None => format!("randomize({nodeset})"),
            };
        }
        Ok(Element::new("itemset")
            .attr("nodeset", nodeset)
            .child(Element::new("value").attr("ref", value_ref))
            .child(Element::new("label").attr("ref", label_ref)))
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

/// pyxform writes text that holds `<output>`s with a space before and after
/// (` Age of <output value="/data/name"/> `); ODK shows labels as written,
/// so we do the same.
fn pad_outputs(mut content: Vec<Content>) -> Vec<Content> {
    if !content.iter().any(|c| matches!(c, Content::El(_))) {
        return content;
    }
    match content.first_mut() {
        Some(Content::Text(t)) => t.insert(0, ' '),
        _ => content.insert(0, Content::Text(" ".into())),
    }
    match content.last_mut() {
        Some(Content::Text(t)) => t.push(' '),
        _ => content.push(Content::Text(" ".into())),
    }
    content
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

fn setvalue(reference: &str, event: &str, value: Option<String>) -> Element {
    let mut el = Element::new("setvalue").attr("ref", reference).attr("event", event);
    if let Some(v) = value {
        el.set("value", v);
    }
    el
}

fn collect_triggers(nodes: &[Node], out: &mut HashMap<String, Vec<(String, String)>>) {
    for node in nodes {
        if let Some(trigger) = &node.bind.trigger
            && let Ok(names) = references(trigger)
        {
            for name in names {
                out.entry(name.to_string())
                    .or_default()
                    .push((node.name.clone(), node.bind.calculation.clone().unwrap_or_default()));
            }
        }
        collect_triggers(&node.children, out);
    }
}

/// `select_*_from_file` files and `pulldata('file', ...)` calls become
/// external secondary instances, in form order.
fn collect_external(nodes: &[Node], out: &mut Vec<(String, String)>) {
    for node in nodes {
        let b = &node.bind;
        // pyxform reads these columns (and the choice filter and default) for
        // pulldata() calls.
        let exprs = [
            &b.calculation,
            &b.constraint,
            &b.readonly,
            &b.required,
            &b.relevant,
            &b.choice_filter,
            &b.default,
        ];
        for e in exprs.into_iter().flatten() {
            for file in pulldata_files(e) {
                out.push((file.clone(), format!("jr://file-csv/{file}.csv")));
            }
        }
        if let NodeKind::Question(q) = &node.kind
            && let Some(file) = &q.file
        {
            let stem = file_stem(file);
            let src = match file.rsplit_once('.').map(|(_, e)| e) {
                Some("csv") => format!("jr://file-csv/{file}"),
                _ => format!("jr://file/{file}"),
            };
            out.push((stem.to_string(), src));
        }
        collect_external(&node.children, out);
    }
}

fn pulldata_files(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("pulldata(") {
        rest = &rest[at + "pulldata(".len()..];
        let arg = rest.split(',').next().unwrap_or_default();
        let name = arg.trim().trim_matches(['\'', '"']).trim();
        if !name.is_empty() {
            out.push(name.to_string());
        }
    }
    out
}

fn file_stem(file: &str) -> &str {
    file.rsplit_once('.').map_or(file, |(stem, _)| stem)
}

/// pyxform's spelling of yes/no in logic columns.
fn convert_bool(src: &str) -> Option<&'static str> {
    match src.trim() {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" => Some("true()"),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" => Some("false()"),
        _ => None,
    }
}

fn preload(t: QuestionType) -> Option<(&'static str, &'static str)> {
    use QuestionType::*;
    Some(match t {
        Start => ("timestamp", "start"),
        End => ("timestamp", "end"),
        Today => ("date", "today"),
        DeviceId => ("property", "deviceid"),
        Username => ("property", "username"),
        Email => ("property", "email"),
        PhoneNumber => ("property", "phonenumber"),
        SimSerial => ("property", "simserial"),
        SubscriberId => ("property", "subscriberid"),
        _ => return None,
    })
}

pub(crate) fn bind_type(node: &Node, t: QuestionType) -> &'static str {
    if t == QuestionType::Range {
        // A range with a fractional bound or step holds decimals.
        let fractional = ["start", "end", "step"].iter().any(|k| {
            node.parameters
                .get(*k)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .is_some_and(|v| v.fract() != 0.0)
        });
        if fractional {
            return "decimal";
        }
    }
    t.xform_type()
}

/// `parameters` that become bind attributes.
fn bind_parameters(t: QuestionType) -> &'static [(&'static str, &'static str)] {
    match t {
        QuestionType::Image => &[("max-pixels", "orx:max-pixels")],
        QuestionType::Audit => &[
            ("location-priority", "odk:location-priority"),
            ("location-min-interval", "odk:location-min-interval"),
            ("location-max-age", "odk:location-max-age"),
            ("track-changes", "odk:track-changes"),
            ("track-changes-reasons", "odk:track-changes-reasons"),
            ("identify-user", "odk:identify-user"),
        ],
        _ => &[],
    }
}

/// pyxform's test for a default that must be computed (a `setvalue`) rather
/// than written into the instance: it holds a reference, a function call, a
/// predicate, a union or an arithmetic operator. A leading minus is part of a
/// number, and dates and geo values may hold hyphens.
pub(crate) fn default_is_dynamic(default: &str, qtype: Option<QuestionType>) -> bool {
    use QuestionType::*;
    let hyphens_ok = matches!(qtype, Some(Date | DateTime | Geopoint | Geotrace | Geoshape));
    let chars: Vec<char> = default.chars().collect();
    let name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
    let mut quote = None;
    for (i, &c) in chars.iter().enumerate() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' => quote = Some(c),
            '$' if next == Some('{') => return true,
            '[' | '|' | '*' | '+' => return true,
            '(' if prev.is_some_and(name_char) => return true,
            '-' if !hyphens_ok => {
                let in_name = prev.is_some_and(|p| p.is_alphabetic() || p == '_');
                let number = next.is_some_and(|n| n.is_ascii_digit() || n == '.');
                if !in_name && !number {
                    return true;
                }
            }
            ' ' => {
                let rest: String = chars[i..].iter().take(5).collect();
                if rest == " div " || rest == " mod " {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests;
