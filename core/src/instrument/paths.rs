//! Where each element lives in the submission tree, and how `${name}`
//! references become XPath paths.
//!
//! pyxform replaces `${name}` textually, and so do we, with its rules:
//! - a target outside any repeat the context shares is written absolute
//!   (`/data/group/age`);
//! - a target inside a repeat that also contains the context is written
//!   relative to the context node, climbing only to the lowest common
//!   ancestor (group or repeat): `../age`, so each repeat instance sees its
//!   own sibling. A reference to the repeat itself stays absolute;
//! - inside a predicate (`[...]`) of an expression that reads a secondary
//!   `instance(...)`, and in choice filters, a relative reference is anchored
//!   with `current()/` so that it is relative to the question, not to the
//!   item being filtered;
//! - in `indexed-repeat(value, repeat, index, ...)` the value and repeat
//!   arguments (1st, 2nd, 4th, 6th) are absolute, since they name the repeat
//!   from outside; the index arguments follow the usual rule.

use std::collections::HashMap;
use std::fmt;

use super::model::{Instrument, Node, NodeKind};

/// One element's place: its path segments from the root (root name first)
/// and which of those segments are repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementPath {
    pub segments: Vec<String>,
    /// `repeat[i]` is true when `segments[i]` is a repeat.
    pub repeat: Vec<bool>,
}

impl ElementPath {
    /// `/data/group/name`.
    pub fn absolute(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            s.push('/');
            s.push_str(seg);
        }
        s
    }

    /// Relative path from `context` to `self` when both lie inside a shared
    /// repeat, per pyxform: the repeat must be a proper ancestor of both;
    /// the path then climbs from the context node to the lowest common
    /// ancestor (of any kind) and walks down to the target.
    pub fn relative_from(&self, context: &ElementPath) -> Option<String> {
        let common =
            self.segments.iter().zip(&context.segments).take_while(|(a, b)| a == b).count();
        // Only proper ancestors of both count: an element is not its own
        // ancestor, and neither is the context.
        let lca = common.min(self.segments.len() - 1).min(context.segments.len() - 1);
        let shared_repeat = (1..=lca).any(|depth| self.repeat[depth - 1]);
        if !shared_repeat {
            return None;
        }
        let ups = context.segments.len() - lca;
        let mut parts: Vec<&str> = vec![".."; ups];
        parts.extend(self.segments[lca..].iter().map(String::as_str));
        Some(parts.join("/"))
    }
}

/// A `${name}` that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefError {
    Unknown { name: String },
    Ambiguous { name: String, paths: Vec<String> },
    Unterminated { column: usize },
}

impl fmt::Display for RefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefError::Unknown { name } => write!(f, "unknown reference ${{{name}}}"),
            RefError::Ambiguous { name, paths } => write!(
                f,
                "reference ${{{name}}} is ambiguous: more than one element is named {name} ({})",
                paths.join(", ")
            ),
            RefError::Unterminated { column } => {
                write!(f, "'${{' at column {column} is not closed with '}}'")
            }
        }
    }
}

impl std::error::Error for RefError {}

/// Every named element of an instrument with its path, for resolving
/// `${name}` references.
#[derive(Debug, Clone, Default)]
pub struct PathIndex {
    by_name: HashMap<String, Vec<ElementPath>>,
}

impl PathIndex {
    pub fn new(instrument: &Instrument) -> Self {
        let mut index = PathIndex::default();
        let root =
            ElementPath { segments: vec![instrument.root_name.clone()], repeat: vec![false] };
        for child in &instrument.children {
            index.add(child, &root);
        }
        index
    }

    fn add(&mut self, node: &Node, parent: &ElementPath) {
        let mut path = parent.clone();
        path.segments.push(node.name.clone());
        path.repeat.push(matches!(node.kind, NodeKind::Repeat { .. }));
        for child in &node.children {
            self.add(child, &path);
        }
        self.by_name.entry(node.name.clone()).or_default().push(path);
    }

    /// The element named `name`, if exactly one is.
    pub fn get(&self, name: &str) -> Result<&ElementPath, RefError> {
        match self.by_name.get(name).map(Vec::as_slice) {
            None | Some([]) => Err(RefError::Unknown { name: name.to_string() }),
            Some([one]) => Ok(one),
            Some(many) => Err(RefError::Ambiguous {
                name: name.to_string(),
                paths: many.iter().map(ElementPath::absolute).collect(),
            }),
        }
    }

    /// Replaces every `${name}` in `src` by its path as seen from the element
    /// at `context` (the element whose column holds the expression).
    pub fn expand(&self, src: &str, context: &ElementPath) -> Result<String, RefError> {
        self.expand_with(src, context, false, false)
    }

    /// [`PathIndex::expand`] as pyxform writes an XForm: each path with a
    /// space on either side (` /data/age `). The XForm reader takes a path
    /// so padded back as the reference it was, and leaves a path an author
    /// wrote as a path.
    pub fn expand_padded(&self, src: &str, context: &ElementPath) -> Result<String, RefError> {
        self.expand_with(src, context, false, true)
    }

    /// [`PathIndex::expand_predicate`], padded as [`PathIndex::expand_padded`].
    pub fn expand_predicate_padded(
        &self,
        src: &str,
        context: &ElementPath,
    ) -> Result<String, RefError> {
        self.expand_with(src, context, true, true)
    }

    /// Like [`PathIndex::expand`], for an expression that is itself a
    /// predicate on a secondary instance (a `choice_filter`): relative
    /// references get `current()/`.
    pub fn expand_predicate(&self, src: &str, context: &ElementPath) -> Result<String, RefError> {
        self.expand_with(src, context, true, false)
    }

    fn expand_with(
        &self,
        src: &str,
        context: &ElementPath,
        use_current: bool,
        pad: bool,
    ) -> Result<String, RefError> {
        let mut out = String::with_capacity(src.len() + 16);
        for piece in scan(src) {
            match piece? {
                Piece::Text(t) => out.push_str(t),
                Piece::Ref { name, in_predicate, absolute_only } => {
                    let target = self.get(name)?;
                    let relative = if absolute_only { None } else { target.relative_from(context) };
                    if pad {
                        out.push(' ');
                    }
                    match relative {
                        Some(rel) if in_predicate || use_current => {
                            out.push_str("current()/");
                            out.push_str(&rel);
                        }
                        Some(rel) => out.push_str(&rel),
                        None => out.push_str(&target.absolute()),
                    }
                    if pad {
                        out.push(' ');
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The names referenced as `${name}` in `src`, in order (with duplicates).
pub fn references(src: &str) -> Result<Vec<&str>, RefError> {
    scan(src)
        .filter_map(|p| match p {
            Ok(Piece::Ref { name, .. }) => Some(Ok(name)),
            Ok(Piece::Text(_)) => None,
            Err(e) => Some(Err(e)),
        })
        .collect()
}

enum Piece<'a> {
    Text(&'a str),
    Ref {
        name: &'a str,
        /// Inside `[...]` of an expression that reads a secondary instance.
        in_predicate: bool,
        /// A value or repeat argument of `indexed-repeat()`.
        absolute_only: bool,
    },
}

/// Splits `src` into text and `${name}` references, tracking (outside string
/// literals) whether each reference sits inside `[...]` or in which argument
/// of `indexed-repeat(...)`.
fn scan(src: &str) -> impl Iterator<Item = Result<Piece<'_>, RefError>> {
    let bytes = src.as_bytes();
    // pyxform anchors predicates with current() only in expressions that
    // read a secondary instance.
    let reads_instance = src.contains("instance(");
    let mut i = 0;
    let mut text_start = 0;
    let mut quote: Option<u8> = None;
    let mut brackets = 0usize;
    // Paren depth and current argument index of each open
    // `indexed-repeat(` call.
    let mut parens = 0usize;
    let mut indexed_at: Vec<(usize, usize)> = Vec::new();
    let mut pending: Option<Result<Piece<'_>, RefError>> = None;
    let mut done = false;
    std::iter::from_fn(move || {
        if let Some(p) = pending.take() {
            return Some(p);
        }
        if done {
            return None;
        }
        while i < bytes.len() {
            let b = bytes[i];
            if let Some(q) = quote {
                if b == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            match b {
                b'\'' | b'"' => quote = Some(b),
                b'[' => brackets += 1,
                b']' => brackets = brackets.saturating_sub(1),
                b'(' => {
                    parens += 1;
                    if src[..i].trim_end().ends_with("indexed-repeat") {
                        indexed_at.push((parens, 0));
                    }
                }
                b')' => {
                    if indexed_at.last().map(|(depth, _)| *depth) == Some(parens) {
                        indexed_at.pop();
                    }
                    parens = parens.saturating_sub(1);
                }
                b',' => {
                    if let Some((depth, arg)) = indexed_at.last_mut()
                        && *depth == parens
                    {
                        *arg += 1;
                    }
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    let Some(close) = src[i + 2..].find('}') else {
                        done = true;
                        let column = src[..i].chars().count() + 1;
                        return Some(Err(RefError::Unterminated { column }));
                    };
                    let name = &src[i + 2..i + 2 + close];
                    let text = &src[text_start..i];
                    i += 2 + close + 1;
                    text_start = i;
                    let r = Piece::Ref {
                        name: name.trim(),
                        in_predicate: reads_instance && brackets > 0,
                        absolute_only: indexed_at
                            .last()
                            .is_some_and(|(_, arg)| matches!(arg, 0 | 1 | 3 | 5)),
                    };
                    if text.is_empty() {
                        return Some(Ok(r));
                    }
                    pending = Some(Ok(r));
                    return Some(Ok(Piece::Text(text)));
                }
                _ => {}
            }
            i += 1;
        }
        done = true;
        let text = &src[text_start..];
        (!text.is_empty()).then_some(Ok(Piece::Text(text)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segs: &[(&str, bool)]) -> ElementPath {
        ElementPath {
            segments: segs.iter().map(|(s, _)| s.to_string()).collect(),
            repeat: segs.iter().map(|(_, r)| *r).collect(),
        }
    }

    fn index(entries: &[(&str, ElementPath)]) -> PathIndex {
        let mut by_name: HashMap<String, Vec<ElementPath>> = HashMap::new();
        for (n, p) in entries {
            by_name.entry(n.to_string()).or_default().push(p.clone());
        }
        PathIndex { by_name }
    }

    #[test]
    fn absolute_outside_repeats() {
        let age = path(&[("data", false), ("g", false), ("age", false)]);
        let q = path(&[("data", false), ("q", false)]);
        let idx = index(&[("age", age)]);
        assert_eq!(idx.expand("${age} > 18", &q).unwrap(), "/data/g/age > 18");
    }

    #[test]
    fn relative_within_same_repeat() {
        let name = path(&[("data", false), ("m", true), ("name", false)]);
        let age = path(&[("data", false), ("m", true), ("g", false), ("age", false)]);
        let idx = index(&[("name", name.clone()), ("age", age.clone())]);
        assert_eq!(idx.expand("${name} != ''", &age).unwrap(), "../../name != ''");
        assert_eq!(idx.expand("${age}", &name).unwrap(), "../g/age");
    }

    #[test]
    fn absolute_into_a_repeat_from_outside() {
        let age = path(&[("data", false), ("m", true), ("age", false)]);
        let total = path(&[("data", false), ("total", false)]);
        let idx = index(&[("age", age)]);
        assert_eq!(idx.expand("sum(${age})", &total).unwrap(), "sum(/data/m/age)");
    }

    #[test]
    fn nested_repeats_climb_to_shared_repeat() {
        let hh = path(&[("data", false), ("hh", true), ("head", false)]);
        let child = path(&[("data", false), ("hh", true), ("kids", true), ("k", false)]);
        let idx = index(&[("head", hh)]);
        assert_eq!(idx.expand("${head}", &child).unwrap(), "../../head");
    }

    #[test]
    fn predicate_and_indexed_repeat() {
        let st = path(&[("data", false), ("m", true), ("state", false)]);
        let city = path(&[("data", false), ("m", true), ("city", false)]);
        let idx = index(&[("state", st)]);
        assert_eq!(
            idx.expand("state = ${state}", &city).unwrap(),
            "state = ../state",
            "outside a predicate, plain relative"
        );
        assert_eq!(
            idx.expand("instance('c')/root/item[state = ${state}]", &city).unwrap(),
            "instance('c')/root/item[state = current()/../state]"
        );
        assert_eq!(
            idx.expand("indexed-repeat(${state}, /data/m, 1)", &city).unwrap(),
            "indexed-repeat(/data/m/state, /data/m, 1)"
        );
    }

    /// Each expected string is what pyxform 4.5 writes for the same form
    /// (spaces it pads around paths left out).
    #[test]
    fn matches_pyxform_on_groups_in_repeats_and_predicates() {
        let top = path(&[("data", false), ("top", false)]);
        let r = path(&[("data", false), ("r", true)]);
        let i = path(&[("data", false), ("r", true), ("i", false)]);
        let g = |n: &str| path(&[("data", false), ("r", true), ("g", false), (n, false)]);
        let idx = index(&[("top", top), ("r", r), ("i", i), ("a", g("a")), ("b", g("b"))]);
        let b = g("b");
        // Climb only to the group both share, not to the repeat.
        assert_eq!(idx.expand("${b} < ${a}", &b).unwrap(), "../b < ../a");
        // The repeat itself is named from outside.
        assert_eq!(idx.expand("count(${r}) + ${a}", &b).unwrap(), "count(/data/r) + ../a");
        // A predicate on the main instance gets no current().
        assert_eq!(
            idx.expand("${r}[position() = ${i}]", &b).unwrap(),
            "/data/r[position() = ../../i]"
        );
        assert_eq!(
            idx.expand("instance('yn')/root/item[name = ${i}]/label", &b).unwrap(),
            "instance('yn')/root/item[name = current()/../../i]/label"
        );
        // indexed-repeat: value and repeat absolute, index relative.
        assert_eq!(
            idx.expand("indexed-repeat(${a}, ${r}, ${i})", &b).unwrap(),
            "indexed-repeat(/data/r/g/a, /data/r, ../../i)"
        );
        // A choice filter is a predicate: current() on relative paths only.
        assert_eq!(
            idx.expand_predicate("name = ${a} or ${top} = 1", &b).unwrap(),
            "name = current()/../a or /data/top = 1"
        );
    }

    #[test]
    fn strings_are_left_alone_and_errors_are_clear() {
        let q = path(&[("data", false), ("q", false)]);
        let idx = index(&[("q", q.clone())]);
        assert_eq!(idx.expand("'[' = ${q}", &q).unwrap(), "'[' = /data/q");
        assert_eq!(
            idx.expand("${nope} = 1", &q).unwrap_err().to_string(),
            "unknown reference ${nope}"
        );
        assert_eq!(idx.expand("1 + ${q", &q).unwrap_err(), RefError::Unterminated { column: 5 });
        assert_eq!(references("${a} + ${ b } * ${a}").unwrap(), vec!["a", "b", "a"]);
    }

    #[test]
    fn ambiguous_names_are_named() {
        let a = path(&[("data", false), ("g1", false), ("x", false)]);
        let b = path(&[("data", false), ("g2", false), ("x", false)]);
        let idx = index(&[("x", a.clone()), ("x", b)]);
        let err = idx.expand("${x}", &a).unwrap_err().to_string();
        assert!(err.contains("/data/g1/x") && err.contains("/data/g2/x"), "{err}");
    }
}
