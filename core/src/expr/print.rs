//! Writes a syntax tree back as XPath source, with the fewest parentheses
//! that keep its meaning, so that `parse(e.to_string()) == e`. The XForm
//! writer uses this after `${}` references are replaced by paths.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::{Axis, Expr, NEG_PRECEDENCE, NodeTest, Step};

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_expr(f, self, 0)
    }
}

/// The precedence an expression has as an operand (primaries and paths bind
/// tightest).
fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Binary(op, _, _) => op.precedence(),
        Expr::Neg(_) => NEG_PRECEDENCE,
        _ => 9,
    }
}

fn write_expr(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if precedence(e) < min {
        f.write_char('(')?;
        write_expr(f, e, 0)?;
        return f.write_char(')');
    }
    match e {
        Expr::Num(n) => write_number(f, *n),
        Expr::Str(s) => write_literal(f, s),
        Expr::Ref(r) => write!(f, "${{{r}}}"),
        Expr::Path(p) => {
            if p.absolute && p.steps.is_empty() {
                // A bare `/` followed by an operator would be misread.
                return f.write_str("(/)");
            }
            write_steps(f, &p.steps, p.absolute)
        }
        Expr::Filter(flt) => {
            match &flt.base {
                Expr::Call(_) | Expr::Ref(_) | Expr::Str(_) => write_expr(f, &flt.base, 9)?,
                other => {
                    f.write_char('(')?;
                    write_expr(f, other, 0)?;
                    f.write_char(')')?;
                }
            }
            write_predicates(f, &flt.predicates)?;
            if !flt.steps.is_empty() {
                write_steps(f, &flt.steps, true)?;
            }
            Ok(())
        }
        Expr::Binary(op, a, b) => {
            let p = op.precedence();
            write_expr(f, a, p)?;
            write!(f, " {} ", op.symbol())?;
            write_expr(f, b, p + 1)
        }
        Expr::Neg(a) => {
            f.write_char('-')?;
            // `- -1` keeps a space so it never reads as one token in other tools.
            if matches!(**a, Expr::Neg(_)) {
                f.write_char(' ')?;
            }
            write_expr(f, a, NEG_PRECEDENCE)
        }
        Expr::Call(c) => {
            f.write_str(&c.name)?;
            f.write_char('(')?;
            for (i, a) in c.args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_expr(f, a, 0)?;
            }
            f.write_char(')')
        }
    }
}

fn write_number(f: &mut Formatter<'_>, n: f64) -> fmt::Result {
    if n.is_finite() {
        // Rust prints the shortest digits that read back to the same f64,
        // and never in exponent form, which XPath would not accept.
        write!(f, "{n}")
    } else if n.is_nan() {
        f.write_str("(0 div 0)")
    } else if n > 0.0 {
        f.write_str("(1 div 0)")
    } else {
        f.write_str("(-1 div 0)")
    }
}

fn write_literal(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    if !s.contains('\'') {
        write!(f, "'{s}'")
    } else if !s.contains('"') {
        write!(f, "\"{s}\"")
    } else {
        // XPath 1.0 literals cannot hold both quotes; concat keeps the value
        // (the tree differs, which only matters for such strings).
        f.write_str("concat(")?;
        for (i, part) in s.split('\'').enumerate() {
            if i > 0 {
                f.write_str(", \"'\", ")?;
            }
            write!(f, "\"{part}\"")?;
        }
        f.write_char(')')
    }
}

fn write_predicates(f: &mut Formatter<'_>, preds: &[Expr]) -> fmt::Result {
    for p in preds {
        f.write_char('[')?;
        write_expr(f, p, 0)?;
        f.write_char(']')?;
    }
    Ok(())
}

/// Writes steps joined by `/`, with a leading `/` when `lead`; an inner
/// `descendant-or-self::node()` step is abbreviated so the result reads `//`.
fn write_steps(f: &mut Formatter<'_>, steps: &[Step], lead: bool) -> fmt::Result {
    for (i, s) in steps.iter().enumerate() {
        if i > 0 || lead {
            f.write_char('/')?;
        }
        let abbreviate_dos = s.axis == Axis::DescendantOrSelf
            && s.test == NodeTest::Node
            && s.predicates.is_empty()
            && i + 1 < steps.len()
            && (i > 0 || lead);
        if abbreviate_dos {
            continue;
        }
        write_step(f, s)?;
    }
    Ok(())
}

fn write_step(f: &mut Formatter<'_>, s: &Step) -> fmt::Result {
    match (s.axis, &s.test, s.predicates.is_empty()) {
        (Axis::SelfAxis, NodeTest::Node, true) => return f.write_char('.'),
        (Axis::Parent, NodeTest::Node, true) => return f.write_str(".."),
        (Axis::Child, _, _) => {}
        (Axis::Attribute, _, _) => f.write_char('@')?,
        (axis, _, _) => write!(f, "{}::", axis.name())?,
    }
    match &s.test {
        NodeTest::Name(n) => f.write_str(n)?,
        NodeTest::Any => f.write_char('*')?,
        NodeTest::AnyInPrefix(p) => write!(f, "{p}:*")?,
        NodeTest::Node => f.write_str("node()")?,
        NodeTest::Text => f.write_str("text()")?,
    }
    write_predicates(f, &s.predicates)
}

#[cfg(test)]
mod tests {
    use crate::expr::parse;

    fn round(src: &str) -> String {
        parse(src).map(|e| e.to_string()).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn prints_minimal_parentheses() {
        assert_eq!(round("(1 + 2) * 3"), "(1 + 2) * 3");
        assert_eq!(round("1 + (2 * 3)"), "1 + 2 * 3");
        assert_eq!(round("1 - (2 - 3)"), "1 - (2 - 3)");
        assert_eq!(round("-(a | b)"), "-a | b");
        assert_eq!(round("-(1 + 2)"), "-(1 + 2)");
        assert_eq!(round("/data/a//b[. > 1]/@c"), "/data/a//b[. > 1]/@c");
        assert_eq!(
            round("instance('c')/root/item[name=current()/../x]"),
            "instance('c')/root/item[name = current()/../x]"
        );
        assert_eq!(round("(../x)[2]"), "(../x)[2]");
        assert_eq!(round("ancestor::g/self::node()[1]"), "ancestor::g/self::node()[1]");
        assert_eq!(round("${a}+1"), "${a} + 1");
        assert_eq!(round("\"it's\""), "\"it's\"");
    }
}
