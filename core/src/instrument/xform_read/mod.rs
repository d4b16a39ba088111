//! Reading an ODK XForm (.xml) into an [`Instrument`]: forms a team has only
//! as XForms (as ODK Central and KoboToolbox serve them), and ODK's own
//! XForm fixtures. The instrument is the one the equivalent XLSForm gives:
//! what the XForm writer (and pyxform) turned `${name}` into becomes
//! `${name}` again ([`refs`]), and the rewrites pyxform makes (`or_other`,
//! a `repeat_count` calculate, `table-list`, the `meta` group) are undone
//! ([`undo`]), so a form read back from the XForm Enumera or pyxform wrote
//! has the same content hash as the XLSForm it came from. What an XForm
//! cannot say (the sheet rows things came from) is numbered in document
//! order and is not part of the hash.
//!
//! What Enumera carries out of the XForm spec is read; what it does not (a
//! bind on an element that does not exist, an unknown control) is reported
//! as a diagnostic against the element's path, as an XLSForm's problems
//! are against their cell.

mod refs;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod tests_support;
mod undo;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use roxmltree::{Document, Node as XmlNode, ParsingOptions};

use super::diagnostic::{Diagnostic, Location};
use super::model::{
    Bind, Choice, ChoiceList, Instrument, MAX_NESTING, MODEL_VERSION, Node, NodeKind, Question,
    QuestionType, Settings, Text,
};
use super::paths::{ElementPath, PathIndex};
use super::validate::{self, SourceColumns};
use super::xlsform::{ImportError, Imported};
use refs::{Place, output_reference, unexpand};

const XF: &str = "http://www.w3.org/2002/xforms";
const H: &str = "http://www.w3.org/1999/xhtml";
const JR: &str = "http://openrosa.org/javarosa";
const ODK: &str = "http://www.opendatakit.org/xforms";
const ORX: &str = "http://openrosa.org/xforms";
/// Enumera's own attributes (`enumera:pii`, `enumera:preload`): what an
/// XLSForm says that the XForm spec has no place for.
use super::xform_read_ns::ENUMERA_NS;

/// Elements an XForm may hold: far more than any form.
const MAX_XML_NODES: u32 = 4_000_000;

/// Reads the XForm at `path`; files it names (`jr://file-csv/x.csv`) are
/// read from the same folder.
pub fn import_xform(path: &Path) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(path)
        .map_err(|source| ImportError::Io { path: path.to_path_buf(), source })?;
    let name = path
        .file_name()
        .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    import_xform_bytes(&bytes, &name, path.parent())
}

/// Reads XForm bytes. `name` is for messages; files are read from
/// `media_dir` when given.
pub fn import_xform_bytes(
    bytes: &[u8],
    name: &str,
    media_dir: Option<&Path>,
) -> Result<Imported, ImportError> {
    let unreadable = |reason: String| ImportError::NotAnXForm { name: name.to_string(), reason };
    if bytes.is_empty() {
        return Err(ImportError::Empty { name: name.to_string() });
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| unreadable("it is not UTF-8 text, as an XForm is".into()))?;
    let options =
        ParsingOptions { allow_dtd: false, nodes_limit: MAX_XML_NODES, ..Default::default() };
    let doc = Document::parse_with_options(text, options)
        .map_err(|e| unreadable(format!("it is not well-formed XML: {e}")))?;
    let mut reader = Reader::new(&doc, name).map_err(unreadable)?;
    let mut instrument = reader.read().map_err(unreadable)?;
    let mut diagnostics = std::mem::take(&mut reader.diagnostics);
    instrument.files = load_files(&instrument, media_dir, &mut diagnostics);
    // An XForm control may have no label (pyxform refuses that in an
    // XLSForm; ODK shows the control bare): a warning here.
    for mut d in validate::validate(&instrument, &SourceColumns::default()) {
        if d.message.ends_with(validate::NO_LABEL) {
            d.severity = super::diagnostic::Severity::Warning;
        }
        diagnostics.push(d);
    }
    Ok(Imported { instrument, diagnostics })
}

/// The files a form's external instances and selects name, read as the
/// XLSForm importer reads them (one rule: missing is a warning).
fn load_files(
    instrument: &Instrument,
    dir: Option<&Path>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, super::model::DataFile> {
    super::xlsform::load_files(instrument, &SourceColumns::default(), dir, diagnostics)
}

/// A label, hint or message: inline text (with `<output>`s) or an itext id.
#[derive(Debug, Clone, Default)]
struct Rich {
    /// Text pieces, outputs as `Err(expression)`.
    pieces: Vec<Result<String, String>>,
}

/// A body control, group or repeat, by the path it refers to.
#[derive(Debug, Clone)]
struct Control<'a, 'i> {
    el: XmlNode<'a, 'i>,
}

struct Reader<'a, 'i> {
    doc: &'a Document<'i>,
    file: String,
    model: XmlNode<'a, 'i>,
    root: XmlNode<'a, 'i>,
    binds: HashMap<String, XmlNode<'a, 'i>>,
    controls: HashMap<String, Control<'a, 'i>>,
    /// Repeat body elements by nodeset.
    repeats: HashMap<String, XmlNode<'a, 'i>>,
    /// itext id -> form -> language -> content.
    itext: HashMap<String, BTreeMap<String, BTreeMap<String, Rich>>>,
    /// Languages in the order of their translations.
    langs: Vec<String>,
    /// Text ids whose default-language text came from an unsuffixed
    /// column (`enumera:unsuffixed`).
    unsuffixed: std::collections::HashSet<String>,
    /// Languages some text is written in from its own (suffixed) column.
    suffixed: std::collections::HashSet<String>,
    default_lang: Option<String>,
    /// Secondary instance id -> its element.
    instances: HashMap<String, XmlNode<'a, 'i>>,
    /// Inline instances an itemset reads with other value and label
    /// fields than `name` and `label`.
    item_refs: HashMap<String, (String, String)>,
    diagnostics: Vec<Diagnostic>,
}

fn is(n: &XmlNode, ns: &str, local: &str) -> bool {
    n.is_element() && n.tag_name().name() == local && same_ns(n.tag_name().namespace(), Some(ns))
}

/// Some tools write a namespace with a trailing slash
/// (`http://openrosa.org/javarosa/`); ODK reads it as the same one.
fn same_ns(a: Option<&str>, b: Option<&str>) -> bool {
    a.map(|u| u.trim_end_matches('/')) == b.map(|u| u.trim_end_matches('/'))
}

/// A body reference made absolute: relative ones (`name`, `./name`,
/// `current()/name`) are read from the nearest enclosing group's or
/// repeat's path, as XForms binds them.
fn absolute_ref(el: &XmlNode, reference: &str) -> String {
    let r = reference.trim();
    if r.starts_with('/') {
        return r.to_string();
    }
    let context = el.ancestors().skip(1).find_map(|a| {
        let name = a.tag_name().name();
        if !a.is_element() || !matches!(name, "group" | "repeat") {
            return None;
        }
        attr(&a, None, "ref").or(attr(&a, None, "nodeset")).map(|c| absolute_ref(&a, c))
    });
    let rel = r.trim_start_matches("current()/").trim_start_matches("./");
    match context {
        Some(c) => format!("{}/{rel}", c.trim_end_matches('/')),
        None => format!("/{rel}"),
    }
}

/// An attribute by namespace and local name.
fn attr<'a>(n: &XmlNode<'a, '_>, ns: Option<&str>, local: &str) -> Option<&'a str> {
    n.attributes().find(|a| a.name() == local && same_ns(a.namespace(), ns)).map(|a| a.value())
}

/// An attribute's name as an XLSForm column would write it (`jr:preload`).
fn qualified(doc_root: &XmlNode, a: &roxmltree::Attribute) -> String {
    match a.namespace() {
        None => a.name().to_string(),
        Some(uri) => {
            let prefix = match uri.trim_end_matches('/') {
                JR => Some("jr"),
                ODK => Some("odk"),
                ORX => Some("orx"),
                ENUMERA_NS => Some("enumera"),
                _ => doc_root.lookup_prefix(uri),
            };
            match prefix {
                Some(p) => format!("{p}:{}", a.name()),
                None => a.name().to_string(),
            }
        }
    }
}

impl<'a, 'i> Reader<'a, 'i> {
    fn new(doc: &'a Document<'i>, file: &str) -> Result<Self, String> {
        let html = doc.root_element();
        if !is(&html, H, "html") {
            return Err("it is not an XForm (its root is not <h:html>)".into());
        }
        let model = html
            .descendants()
            .find(|n| is(n, XF, "model"))
            .ok_or("it is not an XForm (it has no <model>)")?;
        let instance = model
            .children()
            .find(|n| is(n, XF, "instance"))
            .ok_or("the XForm has no primary <instance>")?;
        let root = instance
            .children()
            .find(XmlNode::is_element)
            .ok_or("the XForm's primary instance is empty")?;
        let mut r = Reader {
            doc,
            file: file.to_string(),
            model,
            root,
            binds: HashMap::new(),
            controls: HashMap::new(),
            repeats: HashMap::new(),
            itext: HashMap::new(),
            langs: Vec::new(),
            unsuffixed: Default::default(),
            suffixed: Default::default(),
            default_lang: None,
            instances: HashMap::new(),
            item_refs: HashMap::new(),
            diagnostics: Vec::new(),
        };
        for bind in model.children().filter(|n| is(n, XF, "bind")) {
            if let Some(nodeset) = attr(&bind, None, "nodeset").or(attr(&bind, None, "ref")) {
                r.binds.insert(nodeset.trim().to_string(), bind);
            }
        }
        for inst in model.children().filter(|n| is(n, XF, "instance")).skip(1) {
            if let Some(id) = attr(&inst, None, "id") {
                r.instances.insert(id.to_string(), inst);
            }
        }
        r.read_itext();
        if let Some(body) = html.children().find(|n| is(n, H, "body")) {
            for el in body.descendants().filter(XmlNode::is_element) {
                let name = el.tag_name().name();
                // Controls are XForms elements (and odk:rank); actions such
                // as setvalue also carry a `ref`, to their target.
                let control = el.tag_name().namespace() == Some(XF) || is(&el, ODK, "rank");
                if !control
                    || matches!(
                        name,
                        "label" | "hint" | "item" | "itemset" | "value" | "output" | "setvalue"
                    )
                {
                    continue;
                }
                if name == "repeat" {
                    if let Some(ns) = attr(&el, None, "nodeset") {
                        r.repeats.insert(absolute_ref(&el, ns), el);
                    }
                    continue;
                }
                if let Some(reference) = attr(&el, None, "ref") {
                    let key = absolute_ref(&el, reference);
                    // A repeat's label lives on the group around it; a
                    // control may not share that path.
                    r.controls.entry(key).or_insert(Control { el });
                }
            }
        }
        Ok(r)
    }

    fn read_itext(&mut self) {
        let Some(itext) = self.model.children().find(|n| is(n, XF, "itext")) else { return };
        for tr in itext.children().filter(|n| is(n, XF, "translation")) {
            let lang = attr(&tr, None, "lang").unwrap_or_default().to_string();
            if attr(&tr, None, "default").is_some() {
                self.default_lang = Some(lang.clone());
            }
            if !self.langs.contains(&lang) {
                self.langs.push(lang.clone());
            }
            for text in tr.children().filter(|n| is(n, XF, "text")) {
                let Some(id) = attr(&text, None, "id") else { continue };
                if attr(&text, Some(ENUMERA_NS), "unsuffixed").is_some() {
                    self.unsuffixed.insert(id.to_string());
                } else if text.children().any(|v| is(&v, XF, "value") && rich(&v).flat() != "-") {
                    self.suffixed.insert(lang.clone());
                }
                for value in text.children().filter(|n| is(n, XF, "value")) {
                    let form = attr(&value, None, "form").unwrap_or("long").to_string();
                    let rich = rich(&value);
                    self.itext
                        .entry(id.to_string())
                        .or_default()
                        .entry(form)
                        .or_default()
                        .insert(lang.clone(), rich);
                }
            }
        }
    }

    fn diag(&mut self, path: &str, message: String) {
        let _ = path;
        self.diagnostics.push(Diagnostic::warning(Location::sheet(&self.file), message));
    }

    fn read(&mut self) -> Result<Instrument, String> {
        let html = self.doc.root_element();
        let title = html
            .descendants()
            .find(|n| is(n, H, "title"))
            .and_then(|t| t.text())
            .unwrap_or_default()
            .to_string();
        let root_name = self.root.tag_name().name().to_string();
        let form_id = attr(&self.root, None, "id").unwrap_or(&root_name).to_string();
        let version = attr(&self.root, None, "version").unwrap_or_default().to_string();
        let root_path = ElementPath { segments: vec![root_name.clone()], repeat: vec![false] };
        let root = self.root;
        let mut children = self.elements(root, &root_path, 1)?;
        let mut settings = self.settings();
        // meta: instanceID and instanceName are the engine's; an audit is a
        // question (the XLSForm importer keeps it last).
        if let Some(pos) = children.iter().position(|n| n.name == "meta" && n.is_container()) {
            let meta = children.remove(pos);
            let mut audits = Vec::new();
            for n in meta.children {
                match n.name.as_str() {
                    "instanceID" => {
                        // pyxform's is read-only; an XForm may leave it open.
                        // (With a control, read-only made it a note.)
                        let readonly = n.question_type() == Some(QuestionType::Note)
                            || n.bind.readonly.as_deref().map(str::trim) == Some("true()");
                        if !readonly {
                            settings
                                .other
                                .insert(Settings::INSTANCE_ID_READONLY.into(), "false".into());
                        }
                    }
                    "deprecatedID" => {}
                    "instanceName" => settings.instance_name = n.bind.calculation.clone(),
                    _ if n.question_type() == Some(QuestionType::Audit) => audits.push(n),
                    _ => {
                        let msg = format!(
                            "meta/{} is read as a question at the end of the form (Enumera keeps only instanceID, instanceName and audit in meta)",
                            n.name
                        );
                        self.diag("meta", msg);
                        audits.push(n);
                    }
                }
            }
            children.extend(audits);
        }
        let mut instrument = Instrument {
            model_version: MODEL_VERSION,
            form_id,
            version,
            title: if title.is_empty() { root_name.clone() } else { title },
            root_name,
            default_language: self.default_lang.clone().filter(|l| l != "default"),
            // A translation only unsuffixed columns fill is the default
            // language's, not one of the form's columns.
            languages: self
                .langs
                .iter()
                .filter(|l| {
                    *l != "default"
                        && (self.suffixed.contains(*l) || self.default_lang.as_ref() != Some(*l))
                })
                .cloned()
                .collect(),
            settings,
            children,
            choices: BTreeMap::new(),
            files: BTreeMap::new(),
            osm: BTreeMap::new(),
            externals: BTreeMap::new(),
        };
        self.secondary(&mut instrument);
        undo::undo(&mut instrument);
        self.references(&mut instrument);
        undo::number_rows(&mut instrument);
        Ok(instrument)
    }

    fn settings(&self) -> Settings {
        let mut s = Settings::default();
        let html = self.doc.root_element();
        if let Some(sub) = self.model.children().find(|n| is(n, XF, "submission")) {
            s.submission_url = attr(&sub, None, "action").map(str::to_string);
            if let Some(k) = attr(&sub, None, "base64RsaPublicKey") {
                s.public_keys = k.split_whitespace().map(str::to_string).collect();
            }
            for (key, local) in [("auto_send", "auto-send"), ("auto_delete", "auto-delete")] {
                if let Some(v) = attr(&sub, Some(ORX), local) {
                    s.other.insert(key.into(), v.to_string());
                }
            }
        }
        if let Some(body) = html.children().find(|n| is(n, H, "body"))
            && let Some(class) = attr(&body, None, "class")
        {
            s.style = Some(class.to_string());
        }
        let standard = [
            XF,
            H,
            "http://www.w3.org/2001/xml-events",
            "http://www.w3.org/2001/XMLSchema",
            JR,
            ORX,
            ODK,
            ENUMERA_NS,
        ];
        let extra: Vec<String> = html
            .namespaces()
            .filter(|ns| {
                ns.name().is_some() && !standard.iter().any(|s| same_ns(Some(s), Some(ns.uri())))
            })
            .map(|ns| format!("{}=\"{}\"", ns.name().unwrap_or_default(), ns.uri()))
            .collect();
        if !extra.is_empty() {
            s.other.insert("namespaces".into(), extra.join(" "));
        }
        s
    }

    /// The children of an instance element as nodes; repeats once (the
    /// template, or the first instance).
    fn elements(
        &mut self,
        parent: XmlNode<'a, 'i>,
        path: &ElementPath,
        depth: usize,
    ) -> Result<Vec<Node>, String> {
        if depth > MAX_NESTING + 2 {
            return Err(format!(
                "its groups and repeats nest more than {MAX_NESTING} deep at {}",
                path.absolute()
            ));
        }
        let mut out: Vec<Node> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for el in parent.children().filter(XmlNode::is_element) {
            let name = el.tag_name().name().to_string();
            if seen.contains(&name) {
                continue; // a repeat's template and instances: once
            }
            seen.push(name.clone());
            let mut p = path.clone();
            p.segments.push(name.clone());
            let abs = p.absolute();
            let is_repeat =
                self.repeats.contains_key(&abs) || attr(&el, Some(JR), "template").is_some();
            p.repeat.push(is_repeat);
            let has_children = el.children().any(|c| c.is_element());
            let mut node = if is_repeat || (has_children && !self.is_leaf_bind(&abs)) {
                let kind =
                    if is_repeat { NodeKind::Repeat { count: None } } else { NodeKind::Group };
                let mut n = blank(&name, kind);
                n.children = self.elements(el, &p, depth + 1)?;
                n
            } else {
                self.question(el, &abs)
            };
            self.common(&mut node, el, &abs);
            out.push(node);
        }
        Ok(out)
    }

    /// A bound element with children that is still a question (an XForm
    /// may hold structured values); not one Enumera writes.
    fn is_leaf_bind(&self, _path: &str) -> bool {
        false
    }

    fn question(&mut self, el: XmlNode<'a, 'i>, path: &str) -> Node {
        let bind = self.binds.get(path).copied();
        let control = self.controls.get(path).map(|c| c.el);
        let bind_type = bind
            .and_then(|b| attr(&b, None, "type"))
            .map(|t| t.trim_start_matches("xsd:").to_string())
            .unwrap_or_else(|| "string".into());
        let preload = bind.and_then(|b| attr(&b, Some(JR), "preload"));
        let params = bind.and_then(|b| attr(&b, Some(JR), "preloadParams"));
        let has_calc = bind.and_then(|b| attr(&b, None, "calculate")).is_some();
        let readonly_true =
            bind.and_then(|b| attr(&b, None, "readonly")).is_some_and(|r| r.trim() == "true()");
        let name = el.tag_name().name();
        let model_action = |kind: &str| {
            self.model
                .children()
                .any(|n| is(&n, ODK, kind) && attr(&n, None, "ref").map(str::trim) == Some(path))
        };
        use QuestionType as Q;
        let qtype = match (control.map(|c| c.tag_name().name()), bind_type.as_str()) {
            (None, _) if model_action("setgeopoint") => Q::StartGeopoint,
            (None, _) if model_action("recordaudio") => Q::BackgroundAudio,
            (None, "geopoint") if self.triggered_geopoint(path) => Q::BackgroundGeopoint,
            (None, _) if preload.is_some() => {
                metadata(preload.unwrap_or_default(), params.unwrap_or_default(), &bind_type)
            }
            (None, "binary") if name == "audit" => Q::Audit,
            (None, "string") if has_calc => Q::Calculate,
            (None, "string") => Q::Hidden,
            // A typed value of the model alone, neither shown nor
            // calculated: hidden, its type kept as a bind attribute.
            (None, _) if !has_calc => Q::Hidden,
            (None, t) | (Some("input"), t) => match t {
                "int" | "integer" => Q::Integer,
                "decimal" => Q::Decimal,
                "date" => Q::Date,
                "time" => Q::Time,
                "dateTime" => Q::DateTime,
                "geopoint" => Q::Geopoint,
                "geotrace" => Q::Geotrace,
                "geoshape" => Q::Geoshape,
                "barcode" => Q::Barcode,
                "binary" => Q::File,
                _ if control.is_some() && readonly_true && !has_calc => Q::Note,
                _ => Q::Text,
            },
            (Some("select1"), _) => Q::SelectOne,
            (Some("select"), _) => Q::SelectMultiple,
            (Some("rank"), _) => Q::Rank,
            (Some("range"), _) => Q::Range,
            (Some("trigger"), _) => Q::Acknowledge,
            (Some("upload"), _) => match control.and_then(|c| attr(&c, None, "mediatype")) {
                Some(m) if m.starts_with("image") => Q::Image,
                Some(m) if m.starts_with("audio") => Q::Audio,
                Some(m) if m.starts_with("video") => Q::Video,
                Some(m) if m.starts_with("osm") => Q::Osm,
                _ => Q::File,
            },
            (Some(other), _) => {
                let msg = format!("{path}: the <{other}> control is read as a text question");
                self.diag(path, msg);
                Q::Text
            }
        };
        let mut node = blank(
            name,
            NodeKind::Question(Question { qtype, list: None, file: None, or_other: false }),
        );
        if qtype == QuestionType::Hidden && bind_type != "string" {
            node.extra.insert("bind::type".into(), bind_type.clone());
        }
        // A preload other than the type's own is a bind column's override.
        if let Some(p) = preload {
            let typed = super::xform::preload_of(qtype);
            if typed.map(|(k, _)| k) != Some(p) {
                node.extra.insert("bind::jr:preload".into(), p.to_string());
            }
            if let Some(params) = params
                && typed.map(|(_, v)| v) != Some(params)
            {
                node.extra.insert("bind::jr:preloadParams".into(), params.to_string());
            }
        }
        if let Some(c) = control {
            self.control(&mut node, c, path);
        }
        // A literal default is the instance's text; one an XLSForm would
        // read as an expression (`[1]`, `-`, `+258...`) is written as the
        // string it is.
        if let Some(t) = el.text().filter(|t| !t.is_empty())
            && !el.children().any(|c| c.is_element())
        {
            node.bind.default = Some(if super::xform::default_is_dynamic(t, Some(qtype)) {
                format!("\u{0}{}", string_literal(t))
            } else {
                t.to_string()
            });
        }
        node
    }

    fn triggered_geopoint(&self, path: &str) -> bool {
        self.controls.values().any(|c| {
            c.el.children().any(|n| {
                is(&n, ODK, "setgeopoint") && attr(&n, None, "ref").map(str::trim) == Some(path)
            })
        })
    }

    /// What a body control says about its question.
    fn control(&mut self, node: &mut Node, c: XmlNode<'a, 'i>, path: &str) {
        let qtype = node.question_type();
        for a in c.attributes() {
            let key = qualified(&self.doc.root_element(), &a);
            let v = a.value().to_string();
            match key.as_str() {
                "ref" | "mediatype" => {}
                "appearance" => node.appearance = Some(v),
                "start" | "end" | "step" if qtype == Some(QuestionType::Range) => {
                    node.parameters.insert(key, v);
                }
                "accuracyThreshold" => {
                    node.parameters.insert("capture-accuracy".into(), v);
                }
                "unacceptableAccuracyThreshold" => {
                    node.parameters.insert("warning-accuracy".into(), v);
                }
                _ => {
                    node.extra.insert(format!("body::{key}"), v);
                }
            }
        }
        let _ = path;
        for child in c.children().filter(XmlNode::is_element) {
            match child.tag_name().name() {
                "label" => self.label_into(child, &mut node.label, &mut node.media),
                "hint" => self.hint_into(child, node),
                "itemset" => self.itemset(child, node),
                "item" => self.inline_item(child, node),
                "tag" => self.osm_tag(child, node),
                "setvalue" => {}
                "setgeopoint" => {}
                _ => {}
            }
        }
    }

    fn label_into(&self, el: XmlNode, text: &mut Text, media: &mut BTreeMap<String, Text>) {
        match attr(&el, None, "ref").and_then(itext_id) {
            Some(id) => {
                let Some(forms) = self.itext.get(&id) else { return };
                for (form, by_lang) in forms {
                    for (lang, content) in by_lang {
                        let key = self.lang_key(lang, &id);
                        let value = content.flat();
                        if form == "long" {
                            if value != "-" {
                                text.0.insert(key, value);
                            }
                        } else if form != "short" && form != "guidance" {
                            let file = value
                                .strip_prefix("jr://")
                                .and_then(|r| r.split_once('/'))
                                .map_or(value.clone(), |(_, f)| f.to_string());
                            media.entry(form.clone()).or_default().0.insert(key, file);
                        }
                    }
                }
            }
            None => {
                let content = rich(&el);
                if !content.pieces.is_empty() {
                    text.0.insert(String::new(), content.flat());
                }
            }
        }
    }

    fn hint_into(&self, el: XmlNode, node: &mut Node) {
        match attr(&el, None, "ref").and_then(itext_id) {
            Some(id) => {
                let Some(forms) = self.itext.get(&id) else { return };
                for (form, by_lang) in forms {
                    for (lang, content) in by_lang {
                        let value = content.flat();
                        if value == "-" {
                            continue;
                        }
                        let key = self.lang_key(lang, &id);
                        match form.as_str() {
                            "guidance" => {
                                node.guidance_hint.0.insert(key, value);
                            }
                            _ => {
                                node.hint.0.insert(key, value);
                            }
                        }
                    }
                }
            }
            None => {
                let content = rich(&el);
                if !content.pieces.is_empty() {
                    node.hint.0.insert(String::new(), content.flat());
                }
            }
        }
    }

    /// A message attribute: inline, or `jr:itext('id')`.
    fn message(&self, value: &str) -> Text {
        match itext_id(value) {
            Some(id) => {
                let mut t = Text::default();
                if let Some(by_lang) = self.itext.get(&id).and_then(|f| f.get("long")) {
                    for (lang, content) in by_lang {
                        let v = content.flat();
                        if v != "-" {
                            t.0.insert(self.lang_key(lang, &id), v);
                        }
                    }
                }
                t
            }
            None => Text::plain(value),
        }
    }

    /// The key text `id` of translation `lang` has in the instrument: the
    /// language, or "" for pyxform's `default` and for a text the writer
    /// marked as from an unsuffixed column.
    fn lang_key(&self, lang: &str, id: &str) -> String {
        let unsuffixed = self.default_lang.as_deref() == Some(lang) && self.unsuffixed.contains(id);
        if lang == "default" || unsuffixed { String::new() } else { lang.to_string() }
    }

    fn itemset(&mut self, el: XmlNode, node: &mut Node) {
        let nodeset = attr(&el, None, "nodeset").unwrap_or_default().trim().to_string();
        let value_ref = el
            .children()
            .find(|n| is(n, XF, "value"))
            .and_then(|v| attr(&v, None, "ref"))
            .unwrap_or("name")
            .to_string();
        let label_ref = el
            .children()
            .find(|n| is(n, XF, "label"))
            .and_then(|v| attr(&v, None, "ref"))
            .unwrap_or("label")
            .to_string();
        let (inner, randomize) =
            match nodeset.strip_prefix("randomize(").and_then(|r| r.strip_suffix(')')) {
                Some(args) => match split_top_comma(args) {
                    // `, seed`: the separator's space off, the padding kept.
                    Some((a, seed)) => {
                        let seed = seed.strip_prefix(' ').unwrap_or(seed).to_string();
                        (a.trim().to_string(), Some(Some(seed)))
                    }
                    None => (args.trim().to_string(), Some(None)),
                },
                None => (nodeset.clone(), None),
            };
        if let Some(r) = randomize {
            node.parameters.insert("randomize".into(), "true".into());
            if let Some(seed) = r {
                node.parameters.insert("\u{0}seed".into(), seed);
            }
        }
        let NodeKind::Question(q) = &mut node.kind else { return };
        if let Some(rest) = inner.strip_prefix("instance(") {
            let quote = rest.chars().next().unwrap_or('\'');
            let Some(end) = rest[1..].find(quote) else { return };
            let id = rest[1..1 + end].to_string();
            let after = &rest[1 + end + 1..];
            let after = after.strip_prefix(')').unwrap_or(after);
            let after = after.strip_prefix("/root/item").unwrap_or(after);
            if let Some(filter) = after.strip_prefix('[').and_then(|f| f.strip_suffix(']')) {
                node.bind.choice_filter = Some(filter.to_string());
            }
            let src =
                self.instances.get(&id).and_then(|i| attr(i, None, "src")).map(str::to_string);
            match src {
                Some(src) => {
                    let file = src.rsplit('/').next().unwrap_or(&src).to_string();
                    q.file = Some(file.clone());
                    q.qtype = if q.qtype == QuestionType::SelectMultiple {
                        QuestionType::SelectMultipleFromFile
                    } else {
                        QuestionType::SelectOneFromFile
                    };
                    let (dv, dl) = if file.ends_with(".geojson") {
                        ("id", "title")
                    } else {
                        ("name", "label")
                    };
                    if value_ref != dv {
                        node.parameters.insert("value".into(), value_ref);
                    }
                    if label_ref != dl {
                        node.parameters.insert("label".into(), label_ref);
                    }
                }
                None => {
                    // An inline instance read with other fields than
                    // name and label: its choices take those.
                    if value_ref != "name" || label_ref != "label" {
                        self.item_refs.entry(id.clone()).or_insert((value_ref, label_ref));
                    }
                    q.list = Some(id);
                }
            }
        } else {
            // Choices from a repeat's answers: `/data/rep/name` or with a
            // filter pyxform adds (`[./name != '']`).
            let base = inner.split('[').next().unwrap_or(&inner).trim().to_string();
            q.list = Some(format!("\u{0}{base}"));
        }
    }

    fn inline_item(&mut self, el: XmlNode, node: &mut Node) {
        let value = el
            .children()
            .find(|n| is(n, XF, "value"))
            .and_then(|v| v.text())
            .unwrap_or_default()
            .trim()
            .to_string();
        let mut label = Text::default();
        let mut media = BTreeMap::new();
        if let Some(l) = el.children().find(|n| is(n, XF, "label")) {
            self.label_into(l, &mut label, &mut media);
        }
        let list_name = inline_list_name(node);
        if let NodeKind::Question(q) = &mut node.kind {
            q.list.get_or_insert(list_name);
        }
        // Numbered, so the list keeps the body's order.
        let n = node.extra.keys().filter(|k| k.starts_with("\u{0}inline:")).count();
        let key = format!("\u{0}inline:{n:06}:{value}");
        node.extra.insert(key, serde_json::to_string(&(label, media)).unwrap_or_default());
    }

    fn osm_tag(&mut self, el: XmlNode, node: &mut Node) {
        let Some(key) = attr(&el, None, "key") else { return };
        let mut label = Text::default();
        let mut media = BTreeMap::new();
        if let Some(l) = el.children().find(|n| is(n, XF, "label")) {
            self.label_into(l, &mut label, &mut media);
        }
        node.extra
            .insert(format!("\u{0}tag:{key}"), serde_json::to_string(&label).unwrap_or_default());
        let list = node.extra.remove("body::enumera:tags").unwrap_or_else(|| node.name.clone());
        if let NodeKind::Question(q) = &mut node.kind {
            q.list.get_or_insert(list);
        }
    }

    /// Binds, instance attributes, group and repeat controls, actions.
    fn common(&mut self, node: &mut Node, el: XmlNode<'a, 'i>, path: &str) {
        for a in el.attributes() {
            let key = qualified(&self.doc.root_element(), &a);
            if key == "jr:template" {
                continue;
            }
            node.extra.insert(format!("instance::{key}"), a.value().to_string());
        }
        if let Some(bind) = self.binds.get(path).copied() {
            let is_note = node.question_type() == Some(QuestionType::Note);
            let is_audit = node.question_type() == Some(QuestionType::Audit);
            for a in bind.attributes() {
                let key = qualified(&self.doc.root_element(), &a);
                let v = a.value().to_string();
                let b = &mut node.bind;
                match key.as_str() {
                    "nodeset" | "ref" | "type" | "jr:preload" | "jr:preloadParams" => {}
                    "relevant" => b.relevant = Some(v),
                    "required" => b.required = Some(v),
                    "constraint" => b.constraint = Some(v),
                    "calculate" => b.calculation = Some(v),
                    "readonly" => {
                        // A note's read-only is its type's.
                        if !is_note {
                            b.readonly = Some(v);
                        }
                    }
                    "jr:constraintMsg" => b.constraint_message = self.message(&v),
                    "jr:requiredMsg" => b.required_message = self.message(&v),
                    "orx:max-pixels" => {
                        node.parameters.insert("max-pixels".into(), v);
                    }
                    "enumera:pii" => node.pii = v.trim() == "true()",
                    "enumera:preload" => node.preload = v.trim() == "true()",
                    k if k.starts_with("odk:") && is_audit => {
                        node.parameters.insert(k.trim_start_matches("odk:").to_string(), v);
                    }
                    _ => {
                        node.extra.insert(format!("bind::{key}"), v);
                    }
                }
            }
        }
        if node.is_container() {
            let group = self.controls.get(path).map(|c| c.el);
            if let Some(g) = group {
                for a in g.attributes() {
                    let key = qualified(&self.doc.root_element(), &a);
                    match key.as_str() {
                        "ref" => {}
                        "appearance" if matches!(node.kind, NodeKind::Group) => {
                            node.appearance = Some(a.value().to_string())
                        }
                        _ if matches!(node.kind, NodeKind::Group) => {
                            node.extra.insert(format!("body::{key}"), a.value().to_string());
                        }
                        _ => {}
                    }
                }
                if let Some(l) = g.children().find(|n| is(n, XF, "label")) {
                    let (mut label, mut media) = (Text::default(), BTreeMap::new());
                    self.label_into(l, &mut label, &mut media);
                    node.label = label;
                    node.media = media;
                }
            }
            if let Some(rep) = self.repeats.get(path).copied() {
                for a in rep.attributes() {
                    let key = qualified(&self.doc.root_element(), &a);
                    let v = a.value().to_string();
                    match key.as_str() {
                        "nodeset" => {}
                        "appearance" => node.appearance = Some(v),
                        "jr:count" => node.kind = NodeKind::Repeat { count: Some(v) },
                        _ => {
                            node.extra.insert(format!("body::{key}"), v);
                        }
                    }
                }
            }
        }
        // Dynamic defaults and triggers.
        for sv in self.model.children().filter(|n| is(n, XF, "setvalue")) {
            if attr(&sv, None, "ref").map(str::trim) == Some(path)
                && attr(&sv, None, "event").is_some_and(|e| e.contains("odk-instance-first-load"))
            {
                let qtype = node.question_type();
                node.bind.default = attr(&sv, None, "value")
                    .map(|v| setvalue_default(v, qtype))
                    .filter(|d| !d.is_empty());
            }
        }
        for (cpath, c) in &self.controls {
            for sv in c.el.children().filter(|n| is(n, XF, "setvalue") || is(n, ODK, "setgeopoint"))
            {
                if attr(&sv, None, "ref").map(str::trim) != Some(path) {
                    continue;
                }
                if attr(&sv, None, "event").is_some_and(|e| e.contains("odk-new-repeat")) {
                    // pyxform repeats a repeat's dynamic defaults here.
                    if node.bind.default.is_none() {
                        let qtype = node.question_type();
                        node.bind.default = attr(&sv, None, "value")
                            .map(|v| setvalue_default(v, qtype))
                            .filter(|d| !d.is_empty());
                    }
                    continue;
                }
                let trigger = node.bind.trigger.get_or_insert_with(String::new);
                if !trigger.is_empty() {
                    trigger.push(' ');
                }
                trigger.push_str(&format!("\u{0}{cpath}"));
                if is(&sv, XF, "setvalue") {
                    node.bind.calculation = attr(&sv, None, "value").map(str::to_string);
                }
            }
        }
        if node.question_type() == Some(QuestionType::BackgroundAudio) {
            for ra in self.model.children().filter(|n| is(n, ODK, "recordaudio")) {
                if attr(&ra, None, "ref").map(str::trim) == Some(path)
                    && let Some(q) = attr(&ra, Some(ODK), "quality")
                {
                    node.parameters.insert("quality".into(), q.to_string());
                }
            }
        }
    }

    /// Choice lists from inline secondary instances, external instances,
    /// inline items and osm tags gathered on questions.
    fn secondary(&mut self, inst: &mut Instrument) {
        let mut files_named = Vec::new();
        collect_files(&inst.children, &mut files_named);
        let ids: Vec<String> = {
            let mut v: Vec<String> = self.instances.keys().cloned().collect();
            v.sort();
            v
        };
        for id in ids {
            let el = self.instances[&id];
            if let Some(src) = attr(&el, None, "src") {
                // A file a select or pulldata() names is read for them; any
                // other is a csv-external or xml-external instance.
                let file = src.rsplit('/').next().unwrap_or(src).to_string();
                if !files_named.contains(&file) && !self.pulldata_names_file(inst, &id) {
                    inst.externals.insert(id.clone(), file);
                }
                continue;
            }
            let Some(root) = el.children().find(XmlNode::is_element) else { continue };
            let mut list = ChoiceList { choices: Vec::new() };
            for item in root.children().filter(XmlNode::is_element) {
                let mut choice = Choice {
                    name: String::new(),
                    label: Text::default(),
                    media: BTreeMap::new(),
                    extra: BTreeMap::new(),
                    row: 0,
                };
                let (value_field, label_field) = self
                    .item_refs
                    .get(&id)
                    .map_or(("name", "label"), |(v, l)| (v.as_str(), l.as_str()));
                for f in item.children().filter(XmlNode::is_element) {
                    let v = f.text().unwrap_or_default().to_string();
                    let field = f.tag_name().name();
                    if field == value_field {
                        choice.name = v.clone();
                    }
                    if field == label_field {
                        choice.label.0.insert(String::new(), v.clone());
                    }
                    if field == value_field || field == label_field {
                        if field != "name" && field != "label" {
                            choice.extra.insert(field.to_string(), v);
                        }
                        continue;
                    }
                    match field {
                        "name" | "label" => {
                            choice.extra.insert(field.to_string(), v);
                        }
                        "itextId" => {
                            if let Some(forms) = self.itext.get(&v) {
                                for (form, by_lang) in forms {
                                    for (lang, content) in by_lang {
                                        let value = content.flat();
                                        let key = self.lang_key(lang, &v);
                                        if form == "long" {
                                            if value != "-" {
                                                choice.label.0.insert(key, value);
                                            }
                                        } else {
                                            let file = value
                                                .strip_prefix("jr://")
                                                .and_then(|r| r.split_once('/'))
                                                .map_or(value.clone(), |(_, f)| f.to_string());
                                            choice
                                                .media
                                                .entry(form.clone())
                                                .or_default()
                                                .0
                                                .insert(key, file);
                                        }
                                    }
                                }
                            }
                        }
                        other => {
                            choice.extra.insert(other.to_string(), v);
                        }
                    }
                }
                list.choices.push(choice);
            }
            inst.choices.insert(id, list);
        }
        undo::gather_inline_lists(inst);
    }

    fn pulldata_names_file(&self, inst: &Instrument, id: &str) -> bool {
        fn any(nodes: &[Node], id: &str) -> bool {
            nodes.iter().any(|n| {
                super::xlsform::expressions(n).iter().any(|(_, e)| {
                    e.contains(&format!("pulldata('{id}'"))
                        || e.contains(&format!("pulldata(\"{id}\""))
                }) || any(&n.children, id)
            })
        }
        any(&inst.children, id)
    }

    /// Every expression and text back to `${name}` references.
    fn references(&mut self, inst: &mut Instrument) {
        let index = PathIndex::new(inst);
        let mut names: Vec<String> = Vec::new();
        collect_names(&inst.children, &mut names);
        let root = ElementPath { segments: vec![inst.root_name.clone()], repeat: vec![false] };
        let back = Back { index: &index, names: &names };
        if let Some(n) = &mut inst.settings.instance_name {
            let mut ctx = root.clone();
            ctx.segments.extend(["meta".to_string(), "instanceName".to_string()]);
            ctx.repeat.extend([false, false]);
            *n = back.expr(n, &ctx, Place::Plain);
        }
        rewrite(&mut inst.children, &root, &back);
        // Choice labels have no question to be relative to.
        for list in inst.choices.values_mut() {
            for c in &mut list.choices {
                for v in c.label.0.values_mut() {
                    *v = back.text(v, &root);
                }
            }
        }
    }
}

/// Paths back to references, for one instrument.
struct Back<'x> {
    index: &'x PathIndex,
    names: &'x [String],
}

impl Back<'_> {
    fn expr(&self, src: &str, ctx: &ElementPath, place: Place) -> String {
        unexpand(self.index, self.names, src, ctx, place)
    }

    /// One path, padded or not, as its `${name}`.
    fn output(&self, value: &str, ctx: &ElementPath) -> Option<String> {
        output_reference(self.index, self.names, value, ctx)
    }

    /// A text with `<output>`s (marked `\u{1}expr\u{2}` by [`Rich::flat`]):
    /// each output back to `${name}` (or its expression, references taken
    /// back), and the spaces pyxform and the writer put around such a text
    /// taken off.
    fn text(&self, v: &str, ctx: &ElementPath) -> String {
        if !v.contains('\u{1}') {
            return v.to_string();
        }
        let mut out = String::new();
        let mut rest = v;
        while let Some(start) = rest.find('\u{1}') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find('\u{2}').unwrap_or(after.len());
            let expr = &after[..end];
            match output_reference(self.index, self.names, expr, ctx) {
                Some(r) => out.push_str(&r),
                None => out.push_str(self.expr(expr, ctx, Place::Plain).trim()),
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        let t = out.strip_prefix(' ').unwrap_or(&out);
        t.strip_suffix(' ').unwrap_or(t).to_string()
    }
}

/// Rewrites the expressions and texts of `nodes` (and their children).
fn rewrite(nodes: &mut [Node], parent: &ElementPath, back: &Back) {
    for node in nodes.iter_mut() {
        let mut ctx = parent.clone();
        ctx.segments.push(node.name.clone());
        ctx.repeat.push(matches!(node.kind, NodeKind::Repeat { .. }));
        let qtype = node.question_type();
        let b = &mut node.bind;
        for e in [
            &mut b.relevant,
            &mut b.required,
            &mut b.constraint,
            &mut b.calculation,
            &mut b.readonly,
        ]
        .into_iter()
        .flatten()
        {
            *e = back.expr(e, &ctx, Place::Plain);
        }
        // A dynamic default (a setvalue) is an expression; a literal one,
        // the instance's text, is kept as written.
        if let Some(d) = &mut b.default
            && let Some(expr) = d.strip_prefix('\u{0}')
        {
            let e = back.expr(expr, &ctx, Place::Plain);
            // It must still read as an expression (`/data/x` alone would
            // read as a literal).
            *d = if super::xform::default_is_dynamic(&e, qtype) {
                e
            } else {
                format!("string({e})")
            };
        }
        if let Some(f) = &mut b.choice_filter {
            *f = back.expr(f, &ctx, Place::Predicate);
        }
        if let Some(t) = &mut b.trigger {
            // Paths of the controls that trigger it.
            *t = t
                .split(' ')
                .map(|p| {
                    let p = p.trim_start_matches('\u{0}');
                    match p.rsplit('/').next() {
                        Some(n) => format!("${{{n}}}"),
                        None => p.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
        }
        for msg in [&mut b.constraint_message, &mut b.required_message] {
            for v in msg.0.values_mut() {
                *v = back.text(v, &ctx);
            }
        }
        for t in [&mut node.label, &mut node.hint, &mut node.guidance_hint] {
            for v in t.0.values_mut() {
                *v = back.text(v, &ctx);
            }
        }
        if let NodeKind::Repeat { count: Some(c) } = &mut node.kind {
            *c = match c.strip_prefix('\u{0}') {
                // From the `NAME_count` calculate pyxform writes beside it.
                Some(expr) => {
                    let mut calc = parent.clone();
                    calc.segments.push(format!("{}_count", node.name));
                    calc.repeat.push(false);
                    back.expr(expr, &calc, Place::Plain)
                }
                // A count that is one path (as a person writes it in an
                // XForm) is that question's `${}`: counted directly, as
                // the XForm says, with no `NAME_count` calculate.
                None => back.output(c, &ctx).unwrap_or_else(|| back.expr(c, &ctx, Place::Plain)),
            };
        }
        if let NodeKind::Question(q) = &mut node.kind
            && let Some(list) = &mut q.list
            && let Some(path) = list.strip_prefix('\u{0}')
        {
            let name = path.trim().rsplit('/').next().unwrap_or(path);
            *list = format!("${{{name}}}");
        }
        if let Some(a) = &mut node.appearance {
            *a = back.expr(a, &ctx, Place::Plain);
        }
        if let Some(seed) = node.parameters.remove("\u{0}seed") {
            node.parameters.insert("seed".into(), back.expr(&seed, &ctx, Place::Plain));
        }
        let keys: Vec<String> = node.extra.keys().cloned().collect();
        for k in keys {
            if (k.starts_with("bind::") || k.starts_with("body::") || k.starts_with("instance::"))
                && let Some(v) = node.extra.get_mut(&k)
            {
                *v = back.expr(v, &ctx, Place::Plain);
            }
        }
        rewrite(&mut node.children, &ctx, back);
    }
}

impl Rich {
    /// The text, outputs marked as `\u{1}expression\u{2}`.
    fn flat(&self) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Ok(t) => s.push_str(t),
                Err(e) => {
                    s.push('\u{1}');
                    s.push_str(e);
                    s.push('\u{2}');
                }
            }
        }
        s
    }
}

/// Mixed content of a label or value.
fn rich(el: &XmlNode) -> Rich {
    let mut r = Rich::default();
    for c in el.children() {
        if c.is_text() {
            r.pieces.push(Ok(c.text().unwrap_or_default().to_string()));
        } else if c.is_element() && c.tag_name().name() == "output" {
            let v = attr(&c, None, "value").or(attr(&c, None, "ref")).unwrap_or_default();
            r.pieces.push(Err(v.to_string()));
        }
    }
    r
}

/// `text` as an XPath string literal (`concat()` when it holds both
/// quotes).
fn string_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// A setvalue's value as a default: an expression the XLSForm reading
/// takes as one (a call, a path, arithmetic), or the literal it stands
/// for (`'text'`, `5`).
fn setvalue_default(value: &str, qtype: Option<QuestionType>) -> String {
    let v = value.trim();
    if super::xform::default_is_dynamic(v, qtype) || v.starts_with('/') || v.starts_with('.') {
        return format!("\u{0}{value}");
    }
    // One string literal (`'a' = 'b'` is not one), whose text an XLSForm
    // default would not read as an expression.
    let literal = [b'\'', b'"'].into_iter().find_map(|q| {
        let inner = v.strip_prefix(q as char)?.strip_suffix(q as char)?;
        (!inner.contains(q as char)).then_some(inner)
    });
    if let Some(text) = literal
        && !super::xform::default_is_dynamic(text, qtype)
    {
        return text.to_string();
    }
    let number = !v.is_empty()
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && v.parse::<f64>().is_ok();
    if number {
        return v.to_string();
    }
    format!("\u{0}string({value})")
}

/// `jr:itext('id')` -> `id`.
fn itext_id(s: &str) -> Option<String> {
    let inner = s.trim().strip_prefix("jr:itext(")?.strip_suffix(')')?.trim();
    Some(inner.trim_matches(['\'', '"']).to_string())
}

/// `a, b` at the top level of `args` (not inside brackets or quotes).
fn split_top_comma(args: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in args.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => return Some((&args[..i], &args[i + 1..])),
            _ => {}
        }
    }
    None
}

fn metadata(preload: &str, params: &str, bind_type: &str) -> QuestionType {
    use QuestionType as Q;
    match (preload, params.trim_start_matches("uri:")) {
        ("timestamp", "start") => Q::Start,
        ("timestamp", "end") => Q::End,
        ("date", "today") => Q::Today,
        ("property", "deviceid") => Q::DeviceId,
        ("property", "username") => Q::Username,
        ("property", "email") => Q::Email,
        ("property", "phonenumber") => Q::PhoneNumber,
        ("property", "simserial") => Q::SimSerial,
        ("property", "subscriberid") => Q::SubscriberId,
        _ => match bind_type {
            "dateTime" => Q::DateTime,
            "date" => Q::Date,
            _ => Q::Hidden,
        },
    }
}

/// The list name for a select whose choices are written in the body: the
/// list `search('x')` names, else the question's own name.
fn inline_list_name(node: &Node) -> String {
    let search = node.appearance.as_deref().and_then(|a| a.split_once("search(")).map(|(_, r)| r);
    search
        .and_then(|r| {
            let r = r.trim_start();
            let q = r.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            r[1..].split(q).next().map(str::to_string)
        })
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| node.name.clone())
}

pub(crate) fn blank(name: &str, kind: NodeKind) -> Node {
    Node {
        name: name.to_string(),
        kind,
        row: 0,
        label: Text::default(),
        hint: Text::default(),
        guidance_hint: Text::default(),
        media: BTreeMap::new(),
        bind: Bind::default(),
        appearance: None,
        parameters: BTreeMap::new(),
        pii: false,
        preload: false,
        extra: BTreeMap::new(),
        children: Vec::new(),
    }
}

fn collect_files(nodes: &[Node], out: &mut Vec<String>) {
    for n in nodes {
        if let NodeKind::Question(Question { file: Some(f), .. }) = &n.kind {
            out.push(f.clone());
        }
        collect_files(&n.children, out);
    }
}

fn collect_names(nodes: &[Node], out: &mut Vec<String>) {
    for n in nodes {
        out.push(n.name.clone());
        collect_names(&n.children, out);
    }
}
