//! The `<h:body>`: one control per question the enumerator sees, groups and
//! repeats around them, labels, hints and itemsets.

use std::collections::HashMap;

use super::binds::{default_is_dynamic, setvalue};
use super::instance::file_stem;
use super::prepare::is_translated;
use super::xml::Element;
use super::{Result, Writer, child_path, ref_error};
use crate::instrument::model::{Node, NodeKind, QuestionType};
use crate::instrument::paths::{ElementPath, references};

impl Writer<'_> {
    // ---- body --------------------------------------------------------------

    pub(super) fn body_nodes(
        &mut self,
        nodes: &[Node],
        parent: &ElementPath,
    ) -> Result<Vec<Element>> {
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

    pub(super) fn group(&mut self, node: &Node, ctx: &ElementPath) -> Result<Element> {
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

    pub(super) fn repeat(
        &mut self,
        node: &Node,
        count: Option<&str>,
        ctx: &ElementPath,
    ) -> Result<Element> {
        let path = ctx.absolute();
        let mut repeat = Element::new("repeat").attr("nodeset", path.as_str());
        self.body_attributes(node, ctx, &mut repeat)?;
        if let Some(a) = &node.appearance {
            repeat.set("appearance", self.expand(a, ctx, node, "appearance")?);
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

    pub(super) fn new_repeat_setvalues(
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

    pub(super) fn control(&mut self, node: &Node, ctx: &ElementPath) -> Result<Option<Element>> {
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
            | QuestionType::File
            | QuestionType::Osm => "upload",
            _ => "input",
        };
        let mut el = Element::new(tag).attr("ref", ctx.absolute());
        match qtype {
            QuestionType::Image => el.set("mediatype", "image/*"),
            QuestionType::Audio => el.set("mediatype", "audio/*"),
            QuestionType::Video => el.set("mediatype", "video/*"),
            QuestionType::File => el.set("mediatype", "application/*"),
            QuestionType::Osm => el.set("mediatype", "osm/*"),
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
            el.set("appearance", self.expand(a, ctx, node, "appearance")?);
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
        if let (QuestionType::Osm, Some(list)) = (qtype, &q.list) {
            // The list's name, which the tags alone do not say (ODK
            // ignores the attribute; Enumera reads it back).
            el.set("enumera:tags", list.as_str());
            for tag in self.osm_tags(list) {
                el.push(tag);
            }
        }
        if let Some(list) = search_list(node) {
            // Collect's search() reads the choices from the body, not from
            // an itemset.
            for item in self.inline_items(node, list) {
                el.push(item);
            }
        } else if qtype.is_select() {
            el.push(self.itemset(node, ctx)?);
        }
        if let Some(triggered) = self.triggers.get(&node.name) {
            for (target, value, geopoint) in triggered.clone() {
                let target_path =
                    self.index.get(&target).map_err(|e| ref_error(node, "trigger", e))?.absolute();
                if geopoint {
                    // background-geopoint: a location, taken on the change.
                    el.push(
                        Element::new("odk:setgeopoint")
                            .attr("ref", target_path)
                            .attr("event", "xforms-value-changed"),
                    );
                    continue;
                }
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
    pub(super) fn body_attributes(
        &self,
        node: &Node,
        ctx: &ElementPath,
        el: &mut Element,
    ) -> Result<()> {
        for (column, value) in &node.extra {
            if let Some(attr) = column.strip_prefix("body::").filter(|a| self.declared(a)) {
                let value = self.expand(value, ctx, node, column)?;
                el.set(attr, value);
            }
        }
        Ok(())
    }

    pub(super) fn label(&self, node: &Node, ctx: &ElementPath) -> Result<Element> {
        let has_media = node.media.values().any(|t| !t.is_empty());
        if is_translated(&node.label) || has_media {
            let id = format!("{}:label", ctx.absolute());
            return Ok(Element::new("label").attr("ref", format!("jr:itext('{id}')")));
        }
        let mut el = Element::new("label");
        if let Some(text) = node.label.0.get("") {
            el.extend(self.rich(text, ctx, node, "label")?);
        }
        Ok(el)
    }

    pub(super) fn hint(&self, node: &Node, ctx: &ElementPath) -> Result<Element> {
        if is_translated(&node.hint) || !node.guidance_hint.is_empty() {
            let id = format!("{}:hint", ctx.absolute());
            return Ok(Element::new("hint").attr("ref", format!("jr:itext('{id}')")));
        }
        let mut el = Element::new("hint");
        if let Some(text) = node.hint.0.get("") {
            el.extend(self.rich(text, ctx, node, "hint")?);
        }
        Ok(el)
    }

    /// The choices of a `search()` select as `<item>`s, as pyxform writes
    /// them (a choice label shows only when the question has one).
    fn inline_items(&self, node: &Node, list: &str) -> Vec<Element> {
        let Some(choices) = self.inst.choices.get(list) else {
            return Vec::new();
        };
        let itext = self.itext_lists.contains(list);
        let mut out = Vec::new();
        for (i, choice) in choices.choices.iter().enumerate() {
            let mut label = Element::new("label");
            if itext {
                label.set("ref", format!("jr:itext('{list}-{i}')"));
            } else if !node.label.is_empty()
                && let Some(text) = choice.label.0.get("")
            {
                label.extend(self.choice_rich(text));
            }
            out.push(
                Element::new("item")
                    .child(label)
                    .child(Element::new("value").text(choice.name.as_str())),
            );
        }
        out
    }

    pub(super) fn itemset(&self, node: &Node, ctx: &ElementPath) -> Result<Element> {
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
                .expand_predicate_padded(filter, ctx)
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

impl Writer<'_> {
    /// The `<tag>`s of an `osm LIST` question. pyxform refers a translated
    /// tag label to itext it never writes (`/building:label`); ODK then
    /// shows no label, so we write the default text inline instead.
    fn osm_tags(&self, list: &str) -> Vec<Element> {
        let Some(tags) = self.inst.osm.get(list) else {
            return Vec::new();
        };
        tags.choices
            .iter()
            .map(|tag| {
                let mut label = Element::new("label");
                let default = self.inst.default_language.as_deref();
                if let Some(text) = tag.label.get(None, default) {
                    label = label.text(text);
                }
                Element::new("tag").attr("key", tag.name.as_str()).child(label)
            })
            .collect()
    }
}

/// The choice list of a select whose appearance calls `search()`.
pub(super) fn search_list(node: &Node) -> Option<&str> {
    let NodeKind::Question(q) = &node.kind else {
        return None;
    };
    let searches = node.appearance.as_deref().is_some_and(|a| a.contains("search("));
    if !searches || q.file.is_some() || !q.qtype.is_select() {
        return None;
    }
    q.list.as_deref()
}

/// Triggering question name -> (triggered question, value expression,
/// whether it is a `background-geopoint`, which takes a location instead).
pub(super) type Triggers = HashMap<String, Vec<(String, String, bool)>>;

pub(super) fn collect_triggers(nodes: &[Node], out: &mut Triggers) {
    for node in nodes {
        if let Some(trigger) = &node.bind.trigger
            && let Ok(names) = references(trigger)
        {
            let geopoint = node.question_type() == Some(QuestionType::BackgroundGeopoint);
            for name in names {
                out.entry(name.to_string()).or_default().push((
                    node.name.clone(),
                    node.bind.calculation.clone().unwrap_or_default(),
                    geopoint,
                ));
            }
        }
        collect_triggers(&node.children, out);
    }
}
