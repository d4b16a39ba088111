//! XPath 1.0 values and ODK's conversions between them.

use std::borrow::Cow;

use super::doc::{Document, NodeId};

/// The result of evaluating an expression. Strings borrow from the
/// expression or the document where they can, so evaluating a typical
/// condition allocates little.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    /// Nodes without duplicates, in document order (except the result of
    /// `randomize()`, which keeps its shuffled order).
    Nodes(Vec<NodeId>),
}

impl<'a> Value<'a> {
    /// XPath `string()`, with ODK's rule that NaN is written as "".
    pub fn to_str(&self, doc: &'a dyn Document) -> Cow<'a, str> {
        match self {
            Value::Str(s) => s.clone(),
            Value::Num(n) => Cow::Owned(number_to_string(*n)),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            Value::Nodes(ns) => match ns.first() {
                Some(&n) => doc.string_value(n),
                None => Cow::Borrowed(""),
            },
        }
    }

    /// XPath `number()`, ODK style: "" is NaN, other strings are read like
    /// JavaScript's `Number()` (what ODK Web Forms does).
    pub fn to_num(&self, doc: &dyn Document) -> f64 {
        match self {
            Value::Num(n) => *n,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Str(s) => string_to_number(s),
            Value::Nodes(ns) => match ns.first() {
                Some(&n) => string_to_number(&doc.string_value(n)),
                None => f64::NAN,
            },
        }
    }

    /// XPath `boolean()`.
    pub fn to_bool(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
            Value::Nodes(ns) => !ns.is_empty(),
        }
    }

    /// Detaches the value from the expression and document it borrows.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Num(n) => Value::Num(n),
            Value::Bool(b) => Value::Bool(b),
            Value::Nodes(ns) => Value::Nodes(ns),
        }
    }
}

/// Number to string as ODK Web Forms writes it (JavaScript's `String(n)`),
/// except that NaN is "" (ODK) rather than "NaN" (XPath 1.0).
pub fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        return String::new();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if n == 0.0 {
        return "0".into();
    }
    let a = n.abs();
    if (1e-6..1e21).contains(&a) {
        return format!("{n}");
    }
    // JavaScript switches to exponent form outside [1e-6, 1e21) and always
    // signs the exponent.
    let s = format!("{n:e}");
    match s.split_once('e') {
        Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
        _ => s,
    }
}

/// String to number the way ODK Web Forms reads it: "" is NaN; otherwise
/// JavaScript `Number()` (surrounding white space ignored, so "  " is 0;
/// exponents, `Infinity` and 0x/0o/0b prefixes accepted).
/// Date strings are not handled here: see the evaluator's `number()`.
pub fn string_to_number(s: &str) -> f64 {
    if s.is_empty() {
        return f64::NAN;
    }
    js_number(s)
}

fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

pub(crate) fn js_number(s: &str) -> f64 {
    let t = s.trim_matches(is_js_space);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)] {
        if let Some(digits) = t.strip_prefix(prefix) {
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            return digits.chars().fold(0.0, |acc, c| {
                acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
            });
        }
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let v = if body == "Infinity" {
        f64::INFINITY
    } else if is_js_decimal(body) {
        body.parse::<f64>().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    };
    if neg { -v } else { v }
}

/// `digits [. digits] [e [+-] digits]` with at least one mantissa digit.
fn is_js_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - f;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_web_forms() {
        assert_eq!(number_to_string(f64::NAN), "");
        assert_eq!(number_to_string(3.0), "3");
        assert_eq!(number_to_string(-0.0), "0");
        assert_eq!(number_to_string(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number_to_string(1e21), "1e+21");
        assert_eq!(number_to_string(1.5e-7), "1.5e-7");
        assert_eq!(number_to_string(123456789012345680000.0), "123456789012345680000");
        assert_eq!(number_to_string(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn strings_read_like_web_forms() {
        assert!(string_to_number("").is_nan());
        assert_eq!(string_to_number(" 12 "), 12.0);
        assert_eq!(string_to_number("  "), 0.0);
        assert_eq!(string_to_number("-1.5e2"), -150.0);
        assert_eq!(string_to_number(".5"), 0.5);
        assert_eq!(string_to_number("5."), 5.0);
        assert_eq!(string_to_number("0x1F"), 31.0);
        assert!(string_to_number("1,5").is_nan());
        assert!(string_to_number("abc").is_nan());
        assert!(string_to_number("-0x1").is_nan());
        assert_eq!(string_to_number("-Infinity"), f64::NEG_INFINITY);
    }
}
