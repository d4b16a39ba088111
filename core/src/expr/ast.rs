//! The syntax tree of an expression. It is also the compiled form: names are
//! split into steps and functions resolved to [`Func`] once, at parse time, so
//! evaluation does no string matching on function names.

use super::functions::Func;

/// One parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal (never negative: `-1` is `Neg(Num(1))`).
    Num(f64),
    /// A string literal, without its quotes.
    Str(String),
    /// An XLSForm `${name}` reference. The instrument layer replaces these with
    /// paths (as pyxform does) through [`Expr::map_refs`]; left in place they
    /// evaluate as the first element of that name anywhere in the main
    /// instance (`//name`), which is convenient in tests.
    Ref(String),
    /// A location path: `/data/age`, `../x`, `.`, `//item`.
    Path(Path),
    /// A primary expression followed by predicates and/or further steps:
    /// `instance('c')/root/item[name = 'a']/label`, `(../x)[2]`.
    Filter(Box<Filter>),
    /// A binary operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A function call.
    Call(Call),
}

/// A location path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Starts with `/` (from the root of the main instance).
    pub absolute: bool,
    pub steps: Vec<Step>,
}

/// `base[pred]*/step*`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub base: Expr,
    pub predicates: Vec<Expr>,
    pub steps: Vec<Step>,
}

/// One step of a path: `axis::test[predicate]*`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub axis: Axis,
    pub test: NodeTest,
    pub predicates: Vec<Expr>,
}

/// The XPath axes ODK forms use (and the rest of XPath 1.0's, for completeness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    Child,
    Parent,
    SelfAxis,
    Ancestor,
    AncestorOrSelf,
    Descendant,
    DescendantOrSelf,
    Attribute,
    FollowingSibling,
    PrecedingSibling,
    Following,
    Preceding,
}

impl Axis {
    pub fn name(self) -> &'static str {
        match self {
            Axis::Child => "child",
            Axis::Parent => "parent",
            Axis::SelfAxis => "self",
            Axis::Ancestor => "ancestor",
            Axis::AncestorOrSelf => "ancestor-or-self",
            Axis::Descendant => "descendant",
            Axis::DescendantOrSelf => "descendant-or-self",
            Axis::Attribute => "attribute",
            Axis::FollowingSibling => "following-sibling",
            Axis::PrecedingSibling => "preceding-sibling",
            Axis::Following => "following",
            Axis::Preceding => "preceding",
        }
    }

    pub fn from_name(name: &str) -> Option<Axis> {
        Some(match name {
            "child" => Axis::Child,
            "parent" => Axis::Parent,
            "self" => Axis::SelfAxis,
            "ancestor" => Axis::Ancestor,
            "ancestor-or-self" => Axis::AncestorOrSelf,
            "descendant" => Axis::Descendant,
            "descendant-or-self" => Axis::DescendantOrSelf,
            "attribute" => Axis::Attribute,
            "following-sibling" => Axis::FollowingSibling,
            "preceding-sibling" => Axis::PrecedingSibling,
            "following" => Axis::Following,
            "preceding" => Axis::Preceding,
            _ => return None,
        })
    }

    /// Reverse axes number positions from the context node backwards.
    pub fn is_reverse(self) -> bool {
        matches!(
            self,
            Axis::Parent
                | Axis::Ancestor
                | Axis::AncestorOrSelf
                | Axis::PrecedingSibling
                | Axis::Preceding
        )
    }
}

/// What a step selects on its axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeTest {
    /// A name, possibly prefixed (`jr:template`); compared as written.
    Name(String),
    /// `*`
    Any,
    /// `prefix:*`
    AnyInPrefix(String),
    /// `node()`
    Node,
    /// `text()`
    Text,
}

/// Binary operators, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Union,
}

impl BinOp {
    /// XPath precedence: higher binds tighter. Unary minus sits at 7,
    /// between `* div mod` (6) and `|` (8).
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 6,
            BinOp::Union => 8,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
            BinOp::Union => "|",
        }
    }
}

/// Precedence of unary minus, for the printer.
pub const NEG_PRECEDENCE: u8 = 7;

/// A function call; `func` is `name` resolved once at parse time.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub func: Option<Func>,
    pub args: Vec<Expr>,
}

impl Call {
    pub fn new(name: impl Into<String>, args: Vec<Expr>) -> Call {
        let name = name.into();
        let func = Func::lookup(&name);
        Call { name, func, args }
    }
}

impl Expr {
    /// Calls `f` on this expression and every expression inside it, outermost
    /// first (predicates and arguments included).
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Num(_) | Expr::Str(_) | Expr::Ref(_) => {}
            Expr::Path(p) => walk_steps(&p.steps, f),
            Expr::Filter(flt) => {
                flt.base.walk(f);
                flt.predicates.iter().for_each(|p| p.walk(f));
                walk_steps(&flt.steps, f);
            }
            Expr::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Neg(a) => a.walk(f),
            Expr::Call(c) => c.args.iter().for_each(|a| a.walk(f)),
        }
    }

    /// Replaces every `${name}` for which `f` returns a replacement (the
    /// instrument layer turns them into absolute or relative paths).
    pub fn map_refs(&mut self, f: &mut dyn FnMut(&str) -> Option<Expr>) {
        match self {
            Expr::Ref(name) => {
                if let Some(new) = f(name) {
                    *self = new;
                }
            }
            Expr::Num(_) | Expr::Str(_) => {}
            Expr::Path(p) => map_steps(&mut p.steps, f),
            Expr::Filter(flt) => {
                flt.base.map_refs(f);
                flt.predicates.iter_mut().for_each(|p| p.map_refs(f));
                map_steps(&mut flt.steps, f);
            }
            Expr::Binary(_, a, b) => {
                a.map_refs(f);
                b.map_refs(f);
            }
            Expr::Neg(a) => a.map_refs(f),
            Expr::Call(c) => c.args.iter_mut().for_each(|a| a.map_refs(f)),
        }
    }
}

fn walk_steps<'a>(steps: &'a [Step], f: &mut dyn FnMut(&'a Expr)) {
    for s in steps {
        for p in &s.predicates {
            p.walk(f);
        }
    }
}

fn map_steps(steps: &mut [Step], f: &mut dyn FnMut(&str) -> Option<Expr>) {
    for s in steps {
        for p in &mut s.predicates {
            p.map_refs(f);
        }
    }
}
