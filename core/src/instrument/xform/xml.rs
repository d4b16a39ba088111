//! A tiny XML element tree and its serializer: just what an XForm needs.
//! Writing by hand keeps the core free of an XML dependency; escaping is
//! the only subtle part and is tested here.

use std::fmt::Write;

/// Mixed content: elements and text.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    El(Element),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Content>,
}

impl Element {
    pub fn new(name: impl Into<String>) -> Self {
        Element { name: name.into(), attrs: Vec::new(), children: Vec::new() }
    }

    /// Adds an attribute (builder style).
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.attrs.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name, value)),
        }
    }

    pub fn child(mut self, el: Element) -> Self {
        self.children.push(Content::El(el));
        self
    }

    pub fn push(&mut self, el: Element) {
        self.children.push(Content::El(el));
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        if !text.is_empty() {
            self.children.push(Content::Text(text));
        }
        self
    }

    pub fn extend(&mut self, content: impl IntoIterator<Item = Content>) {
        self.children.extend(content);
    }

    /// The document: an XML declaration and the element, indented where
    /// that cannot change meaning (elements holding only elements).
    pub fn to_document(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\"?>\n");
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attrs {
            let _ = write!(out, " {name}=\"{}\"", escape_attr(value));
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        // Whitespace inside mixed content is content: indent only elements
        // whose children are all elements.
        let indent = self.children.iter().all(|c| matches!(c, Content::El(_)));
        for child in &self.children {
            match child {
                Content::El(el) => {
                    if indent {
                        out.push('\n');
                        out.push_str(&"  ".repeat(depth + 1));
                    }
                    // Mixed content is written flat all the way down.
                    el.write(out, if indent { depth + 1 } else { usize::MAX / 4 });
                }
                Content::Text(t) => out.push_str(&escape_text(t)),
            }
        }
        if indent {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
        let _ = write!(out, "</{}>", self.name);
    }
}

/// Characters XML 1.0 cannot hold at all, even as references: most C0
/// controls and U+FFFE/U+FFFF. A spreadsheet cell may still contain them;
/// they are dropped.
fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| is_xml_char(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| is_xml_char(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Kept as characters references so that attribute-value
            // normalization does not turn them into spaces.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            _ => out.push(c),
        }
    }
    out
}

/// Whether `s` can be an XML element name without a prefix (an NCName, by
/// the ASCII-plus-any-non-ASCII approximation that ODK tools use).
pub fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start = |c: char| c.is_alphabetic() || c == '_';
    start(first) && chars.all(|c| start(c) || c.is_ascii_digit() || matches!(c, '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let el = Element::new("label").attr("ref", "a < \"b\" & c\nd").text("x < y & z > 'w'");
        let mut out = String::new();
        el.write(&mut out, 0);
        assert_eq!(
            out,
            "<label ref=\"a &lt; &quot;b&quot; &amp; c&#10;d\">x &lt; y &amp; z &gt; 'w'</label>"
        );
    }

    #[test]
    fn indents_element_only_content_and_keeps_mixed_content_flat() {
        let doc = Element::new("a")
            .child(Element::new("b"))
            .child(
                Element::new("c")
                    .text(" Hi ")
                    .child(Element::new("output").attr("value", "/d/n"))
                    .text("!"),
            )
            .to_document();
        assert_eq!(
            doc,
            "<?xml version=\"1.0\"?>\n<a>\n  <b/>\n  <c> Hi <output value=\"/d/n\"/>!</c>\n</a>\n"
        );
    }

    #[test]
    fn characters_xml_cannot_hold_are_dropped() {
        assert_eq!(escape_text("a\u{1}b\tc\u{FFFF}"), "ab\tc");
        assert_eq!(escape_attr("a\u{1F}b"), "ab");
    }

    #[test]
    fn ncnames() {
        assert!(is_ncname("name_1"));
        assert!(is_ncname("região"));
        assert!(is_ncname("a-b.c"));
        assert!(!is_ncname("1a"));
        assert!(!is_ncname("a b"));
        assert!(!is_ncname(""));
        assert!(!is_ncname("a:b"));
    }
}
