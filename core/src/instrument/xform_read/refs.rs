//! Turning the XPath paths an XForm writes back into the `${name}`
//! references an XLSForm author wrote: the inverse of [`PathIndex::expand`].
//!
//! A path becomes `${name}` only when expanding `${name}` at the same place
//! gives exactly that path back, so what the writer wrote from a
//! reference returns to the reference and anything else (a path into a
//! secondary instance, a relative path the writer would not write, a
//! repeat instance by index) stays as written.
//!
//! pyxform pads what it writes for a reference with a space on each side
//! (` /data/age `); with `padded`, one space on each side of a path that
//! has both is taken back as well, so a form pyxform converted reads as
//! its author wrote it.

use crate::instrument::paths::{ElementPath, PathIndex};

/// Where an expression stands, for the rules of expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// A bind, setvalue, count or output: `${x}` is `expand`ed.
    Plain,
    /// A choice filter: relative references get `current()/`.
    Predicate,
}

/// `src` with every padded path that a `${name}` expands to replaced by
/// it (padding and all); other paths stay as written.
pub(crate) fn unexpand(
    index: &PathIndex,
    names: &[String],
    src: &str,
    ctx: &ElementPath,
    place: Place,
) -> String {
    let bytes = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let mut quote: Option<u8> = None;
    let mut copied = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if b == b'\'' || b == b'"' {
            quote = Some(b);
            i += 1;
            continue;
        }
        let padded_start = b == b' ' && i + 1 < bytes.len() && starts_path(src, i + 1);
        if !padded_start {
            i += 1;
            continue;
        }
        let start = i + 1;
        let end = path_end(src, start);
        if bytes.get(end) != Some(&b' ') {
            i = end.max(start);
            continue;
        }
        let path = &src[start..end];
        match reference_for(index, names, path, src, i, end + 1, ctx, place) {
            Some(name) => {
                out.push_str(&src[copied..i]);
                out.push_str("${");
                out.push_str(&name);
                out.push('}');
                copied = end + 1;
                i = end + 1;
            }
            None => i = end,
        }
    }
    out.push_str(&src[copied..]);
    out
}

/// An `<output value>`: a single path back to its `${name}` whether padded
/// or not (a label has no other way to show an answer); `None` when it is
/// not one.
pub(crate) fn output_reference(
    index: &PathIndex,
    names: &[String],
    value: &str,
    ctx: &ElementPath,
) -> Option<String> {
    let path = value.trim();
    if !starts_path(path, 0) || path_end(path, 0) != path.len() {
        return None;
    }
    let padded = format!(" {path} ");
    reference_for(index, names, path, &padded, 0, padded.len(), ctx, Place::Plain)
        .map(|n| format!("${{{n}}}"))
}

/// Whether a location path that may stand for a reference starts at `i`:
/// `/x`, `../x` or `current()/` where an expression may begin (not after
/// a name, `)` or `]`, where a `/` continues another path).
fn starts_path(src: &str, i: usize) -> bool {
    let rest = &src[i..];
    let opens = rest.starts_with('/') && !rest.starts_with("//")
        || rest.starts_with("../")
        || rest.starts_with("current()/");
    if !opens {
        return false;
    }
    // After white space anything may follow (`a - /data/b`); right after
    // another character only an opening or an operator may.
    match src[..i].chars().last() {
        None => true,
        Some(c) if c.is_whitespace() => true,
        Some(c) => matches!(c, '(' | ',' | '[' | '=' | '<' | '>' | '+' | '*' | '|' | '!'),
    }
}

/// The end of the path starting at `i`: names, `/`, `..`, `current()`.
fn path_end(src: &str, i: usize) -> usize {
    let mut end = i;
    let rest = &src[i..];
    if rest.starts_with("current()") {
        end += "current()".len();
    }
    for (k, c) in src[end..].char_indices() {
        let name_char = c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/');
        if !name_char {
            return end + k;
        }
    }
    src.len()
}

/// The name whose `${}`, padded, expands to `src[from..to]` (a space, the
/// path, a space) here, if one does.
#[allow(clippy::too_many_arguments)]
fn reference_for(
    index: &PathIndex,
    names: &[String],
    path: &str,
    src: &str,
    from: usize,
    to: usize,
    ctx: &ElementPath,
    place: Place,
) -> Option<String> {
    let last = path.trim_end_matches('/').rsplit('/').next()?;
    if last.is_empty() || last == ".." || last == "." || !names.iter().any(|n| n == last) {
        return None;
    }
    // Expand the reference where it stands, in the whole text, so that the
    // predicate and `indexed-repeat` rules apply as they did when writing;
    // the rest holds no `${}` (references are taken back one at a time).
    let probe = format!("{}${{{last}}}{}", &src[..from], &src[to..]);
    let expanded = match place {
        Place::Plain => index.expand_padded(&probe, ctx),
        Place::Predicate => index.expand_predicate_padded(&probe, ctx),
    }
    .ok()?;
    (expanded == src).then(|| last.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instrument::model::{
        Instrument, MODEL_VERSION, Node, NodeKind, Question, QuestionType,
    };

    fn q(name: &str) -> Node {
        let mut n = crate::instrument::xform_read::tests_support::node(name);
        n.kind = NodeKind::Question(Question {
            qtype: QuestionType::Text,
            list: None,
            file: None,
            or_other: false,
        });
        n
    }

    fn form() -> Instrument {
        let mut rep = q("m");
        rep.kind = NodeKind::Repeat { count: None };
        rep.children = vec![q("name"), q("age")];
        Instrument {
            model_version: MODEL_VERSION,
            form_id: "f".into(),
            version: String::new(),
            title: "f".into(),
            root_name: "data".into(),
            default_language: None,
            languages: vec![],
            settings: Default::default(),
            children: vec![q("a"), q("b"), rep],
            choices: Default::default(),
            files: Default::default(),
            osm: Default::default(),
            externals: Default::default(),
        }
    }

    fn ctx(segs: &[&str]) -> ElementPath {
        ElementPath {
            segments: segs.iter().map(|s| s.to_string()).collect(),
            repeat: segs.iter().map(|s| *s == "m").collect(),
        }
    }

    #[test]
    fn what_expansion_writes_comes_back() {
        let i = form();
        let index = PathIndex::new(&i);
        let names: Vec<String> = ["a", "b", "m", "name", "age"].map(String::from).to_vec();
        let at_b = ctx(&["data", "b"]);
        let at_age = ctx(&["data", "m", "age"]);
        for (src, ctx) in [
            ("${a} > 3 and ${b} != ''", &at_b),
            ("concat(${name}, '/data/a')", &at_age),
            ("sum(${age}) + count(${m})", &at_b),
            ("instance('c')/root/item[name = ${a}]/label", &at_b),
            ("indexed-repeat(${name}, ${m}, ${a})", &at_age),
            ("${a}div 2", &at_b),
            ("count(${m}[age > 3]) - /data/a", &at_b),
        ] {
            let expanded = index.expand_padded(src, ctx).unwrap();
            assert_eq!(unexpand(&index, &names, &expanded, ctx, Place::Plain), src, "{expanded}");
        }
        // Paths an author wrote stay: into a secondary instance, by index,
        // with a predicate, unpadded.
        let keep = "instance('c')/root/item/name = /data/m[2]/name + /data/a";
        assert_eq!(unexpand(&index, &names, keep, &at_b, Place::Plain), keep);
        // A choice filter's relative references carry current()/.
        let filter = index.expand_predicate_padded("kind = ${name}", &at_age).unwrap();
        assert!(filter.contains("current()/"), "{filter}");
        assert_eq!(unexpand(&index, &names, &filter, &at_age, Place::Predicate), "kind = ${name}");
        assert_eq!(output_reference(&index, &names, " /data/a ", &at_b).as_deref(), Some("${a}"));
        assert_eq!(output_reference(&index, &names, "/data/a", &at_b).as_deref(), Some("${a}"));
        assert_eq!(output_reference(&index, &names, "/data/a + 1", &at_b), None);
    }
}
