//! Text that shows answers: `${name}` and `instance('list')/root/item[...]/x`
//! expressions inside labels, hints and messages become `<output value>`
//! elements, as pyxform makes them.

use super::xml::{Content, Element};
use crate::instrument::paths::{ElementPath, PathIndex, RefError};

/// `text` as mixed content seen from the element at `ctx`.
pub fn rich(index: &PathIndex, text: &str, ctx: &ElementPath) -> Result<Vec<Content>, RefError> {
    let mut out = Vec::new();
    let mut pos = 0;
    for (start, end) in instance_expressions(text) {
        references(index, &text[pos..start], ctx, &mut out)?;
        out.push(output(index.expand_padded(&text[start..end], ctx)?));
        pos = end;
    }
    references(index, &text[pos..], ctx, &mut out)?;
    Ok(pad_outputs(out))
}

fn output(value: String) -> Content {
    Content::El(Element::new("output").attr("value", value))
}

fn references(
    index: &PathIndex,
    text: &str,
    ctx: &ElementPath,
    out: &mut Vec<Content>,
) -> Result<(), RefError> {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let reference = &rest[start..start + 2 + len + 1];
        if start > 0 {
            out.push(Content::Text(rest[..start].to_string()));
        }
        out.push(output(index.expand_padded(reference, ctx)?));
        rest = &rest[start + reference.len()..];
    }
    if !rest.is_empty() {
        out.push(Content::Text(rest.to_string()));
    }
    Ok(())
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

/// Byte ranges of the `instance('x')/path[pred]/path` expressions in free
/// text, bounded as pyxform bounds them: the call, then a path that ends at
/// whitespace, with predicates (which may hold spaces) and further steps.
pub fn instance_expressions(text: &str) -> Vec<(usize, usize)> {
    const CALL: &str = "instance(";
    let bytes = text.as_bytes();
    let name_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':');
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(CALL) {
        let start = from + found;
        if start > 0 && name_char(bytes[start - 1]) {
            from = start + CALL.len();
            continue;
        }
        let mut end = start + CALL.len();
        // The instance name, quoted.
        if let Some(&q @ (b'\'' | b'"')) = bytes.get(end)
            && let Some(close) = text[end + 1..].find(q as char)
        {
            end += 1 + close + 1;
            if bytes.get(end) == Some(&b')') {
                end += 1;
                // Steps: `/name...` up to whitespace or a predicate.
                while bytes.get(end) == Some(&b'/') {
                    end += 1;
                    while let Some(&b) = bytes.get(end) {
                        if b.is_ascii_whitespace() || b == b'[' {
                            break;
                        }
                        end += 1;
                    }
                    if bytes.get(end) == Some(&b'[') {
                        match text[end..].find(']') {
                            Some(close) => end += close + 1,
                            None => end = text.len(),
                        }
                    }
                }
            }
        }
        out.push((start, end));
        from = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any text, however it mixes calls, quotes and brackets, gives
        /// ranges that lie on character boundaries, in order.
        #[test]
        fn ranges_are_sound(a in ".*", b in ".*", c in "[\\[\\]/'\" ]{0,6}") {
            let text = format!("{a}instance({c}{b}){c}/x{a}[{b}]/y {c}instance('l')/{a}");
            let mut last = 0;
            for (s, e) in instance_expressions(&text) {
                prop_assert!(last <= s && s < e && e <= text.len());
                prop_assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
                last = e;
            }
        }
    }

    fn spans(text: &str) -> Vec<&str> {
        instance_expressions(text).into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn instance_expressions_bounded_as_pyxform_does() {
        assert_eq!(
            spans("You chose instance('c')/root/item[name = ${x}]/label today"),
            ["instance('c')/root/item[name = ${x}]/label"]
        );
        assert_eq!(
            spans("a instance(\"c\")/root/item/label, b"),
            ["instance(\"c\")/root/item/label,"]
        );
        assert_eq!(spans("myinstance('c')/x"), Vec::<&str>::new());
        assert_eq!(spans("instance('c') alone"), ["instance('c')"]);
        assert_eq!(
            spans("instance('a')/x instance('b')/y[z = 'p q']"),
            ["instance('a')/x", "instance('b')/y[z = 'p q']"]
        );
    }
}
