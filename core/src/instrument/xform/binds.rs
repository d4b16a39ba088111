//! The `<bind>`s: type, logic, messages and preloads of every element, and
//! the `setvalue`s of dynamic defaults.

use super::xml::Element;
use super::{Result, Writer, child_path};
use crate::instrument::model::{Node, QuestionType};
use crate::instrument::paths::ElementPath;

impl Writer<'_> {
    // ---- binds -------------------------------------------------------------

    pub(super) fn binds(
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
            // Actions pyxform writes in the model, after the bind.
            match node.question_type() {
                Some(QuestionType::StartGeopoint) => out.push(
                    Element::new("odk:setgeopoint")
                        .attr("ref", ctx.absolute())
                        .attr("event", "odk-instance-first-load"),
                ),
                Some(QuestionType::BackgroundAudio) => {
                    let mut el = Element::new("odk:recordaudio")
                        .attr("ref", ctx.absolute())
                        .attr("event", "odk-instance-load");
                    if let Some(q) = node.parameters.get("quality") {
                        el.set("odk:quality", q.as_str());
                    }
                    out.push(el);
                }
                _ => {}
            }
            if let Some(d) = &node.bind.default
                && default_is_dynamic(d, node.question_type())
            {
                let value = self.expand(d, &ctx, node, "default")?;
                out.push(setvalue(&ctx.absolute(), "odk-instance-first-load", Some(value)));
            }
            self.binds(&node.children, &ctx, out)?;
            if self.is_meta(node) {
                let mut id = Element::new("bind")
                    .attr("nodeset", format!("{}/instanceID", ctx.absolute()))
                    .attr("type", "string");
                // Read-only, as pyxform writes it, unless an XForm read
                // in said otherwise.
                if self.inst.settings.instance_id_readonly() {
                    id.set("readonly", "true()");
                }
                id.set("jr:preload", "uid");
                out.push(id);
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

    pub(super) fn bind(&mut self, node: &Node, ctx: &ElementPath) -> Result<Option<Element>> {
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
        if node.pii {
            el.set("enumera:pii", "true()");
        }
        if node.preload {
            el.set("enumera:preload", "true()");
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
}

/// pyxform's spelling of yes/no in logic columns.
fn convert_bool(src: &str) -> Option<&'static str> {
    match src.trim() {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" => Some("true()"),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" => Some("false()"),
        _ => None,
    }
}

/// The preload (`jr:preload`, `jr:preloadParams`) pyxform writes for a
/// metadata type.
pub(crate) fn preload(t: QuestionType) -> Option<(&'static str, &'static str)> {
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

/// The preload an element has in the XForm: its type's, with what
/// `bind::jr:preload` and `bind::jr:preloadParams` columns override (as
/// pyxform merges a row's bind over its type's).
pub(crate) fn effective_preload(node: &Node) -> Option<(String, String)> {
    let own = |k: &str| node.extra.get(k).map(|v| v.trim().to_string());
    let typed = node.question_type().and_then(preload);
    let kind = own("bind::jr:preload").or_else(|| typed.map(|(k, _)| k.to_string()))?;
    let params = own("bind::jr:preloadParams")
        .or_else(|| typed.map(|(_, p)| p.to_string()))
        .unwrap_or_default();
    Some((kind, params))
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

pub(super) fn setvalue(reference: &str, event: &str, value: Option<String>) -> Element {
    let mut el = Element::new("setvalue").attr("ref", reference).attr("event", event);
    if let Some(v) = value {
        el.set("value", v);
    }
    el
}
