//! One leaf's state as both engines report it, and the comparison of two
//! traces field by field.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// The fields compared, in the order they are reported.
pub const FIELDS: &[&str] = &[
    "relevant",
    "required",
    "readonly",
    "value",
    "constraint_valid",
    "required_valid",
    "label",
    "options",
    "violation_message",
];

/// The messages Enumera shows when a form gives none.
const DEFAULT_MESSAGES: &[&str] = &["Value not allowed", "This field is required."];

/// One leaf: its reference and the compared fields as JSON values.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub reference: String,
    pub fields: BTreeMap<&'static str, Json>,
}

/// A leaf read from either engine's JSON (`ref` plus the fields).
pub fn leaf_from_json(j: &Json) -> Leaf {
    let mut fields = BTreeMap::new();
    for &f in FIELDS {
        let mut v = j.get(f).cloned().unwrap_or(Json::Null);
        match f {
            "value" => v = Json::String(mask_uuids(v.as_str().unwrap_or_default())),
            // pyxform pads `<output/>` in labels with spaces; neither engine
            // trims them, but Enumera renders its own label text.
            "label" | "violation_message" => {
                if let Some(s) = v.as_str() {
                    v = Json::String(s.split_whitespace().collect::<Vec<_>>().join(" "));
                }
            }
            _ => {}
        }
        fields.insert(f, v);
    }
    Leaf { reference: j["ref"].as_str().unwrap_or_default().to_string(), fields }
}

/// Replaces every UUID (8-4-4-4-12 hex digits) with `<uuid>`: the engines
/// draw them differently, and only their place matters.
pub fn mask_uuids(s: &str) -> String {
    const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    'outer: while i < b.len() {
        let mut j = i;
        for (k, &n) in SHAPE.iter().enumerate() {
            if j + n > b.len() || !b[j..j + n].iter().all(u8::is_ascii_hexdigit) {
                break;
            }
            j += n;
            if k == 4 {
                out.push_str("<uuid>");
                i = j;
                continue 'outer;
            }
            if b.get(j) != Some(&b'-') {
                break;
            }
            j += 1;
        }
        let c = s[i..].chars().next().unwrap_or_default();
        out.push(c);
        i += c.len_utf8().max(1);
    }
    out
}

/// One field of one leaf that the engines see differently.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// 0: before any step; k: after step k (1-based).
    pub step: usize,
    pub reference: String,
    pub field: String,
    pub odk: String,
    pub enumera: String,
}

/// Compares two snapshots; `present` is the pseudo-field for a leaf only
/// one engine has.
pub fn compare(step: usize, odk: &[Leaf], ours: &[Leaf]) -> (usize, Vec<Difference>) {
    let ours_by: BTreeMap<&str, &Leaf> = ours.iter().map(|l| (l.reference.as_str(), l)).collect();
    let odk_by: BTreeMap<&str, &Leaf> = odk.iter().map(|l| (l.reference.as_str(), l)).collect();
    let mut diffs = Vec::new();
    let mut states = 0;
    for l in odk {
        states += 1;
        let Some(o) = ours_by.get(l.reference.as_str()) else {
            diffs.push(Difference {
                step,
                reference: l.reference.clone(),
                field: "present".into(),
                odk: "yes".into(),
                enumera: "no".into(),
            });
            continue;
        };
        for &f in FIELDS {
            let (a, b) = (&l.fields[f], &o.fields[f]);
            // Options exist on selects only; Enumera names none for a
            // select it cannot list, ODK an empty list: the same thing.
            let same = a == b
                || (f == "options" && is_empty_list(a) && is_empty_list(b))
                || (matches!(f, "label" | "violation_message") && is_blank(a) && is_blank(b))
                // With no message in the form, Web Forms' engine gives none
                // (its UI shows its own); Enumera gives its default text.
                || (f == "violation_message"
                    && a.is_null()
                    && DEFAULT_MESSAGES.contains(&b.as_str().unwrap_or_default()));
            if !same {
                diffs.push(Difference {
                    step,
                    reference: l.reference.clone(),
                    field: f.to_string(),
                    odk: a.to_string(),
                    enumera: b.to_string(),
                });
            }
        }
    }
    for l in ours {
        if !odk_by.contains_key(l.reference.as_str()) {
            states += 1;
            diffs.push(Difference {
                step,
                reference: l.reference.clone(),
                field: "present".into(),
                odk: "no".into(),
                enumera: "yes".into(),
            });
        }
    }
    (states, diffs)
}

fn is_empty_list(v: &Json) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

fn is_blank(v: &Json) -> bool {
    v.is_null() || v.as_str().is_some_and(str::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_masked_wherever_they_stand() {
        assert_eq!(mask_uuids("uuid:00000000-0000-4000-8000-00000000000a x"), "uuid:<uuid> x");
        assert_eq!(mask_uuids("12-34 ção"), "12-34 ção");
    }

    #[test]
    fn a_changed_field_is_reported() {
        let a =
            leaf_from_json(&serde_json::json!({"ref": "/data/a", "value": "1", "relevant": true}));
        let b =
            leaf_from_json(&serde_json::json!({"ref": "/data/a", "value": "2", "relevant": true}));
        let (n, d) = compare(1, &[a], &[b]);
        assert_eq!(n, 1);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].field, "value");
    }
}
