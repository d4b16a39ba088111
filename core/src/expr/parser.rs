//! Recursive-descent parser for XPath 1.0 with ODK's additions (`${name}`).

use super::ast::{Axis, BinOp, Call, Expr, Filter, NodeTest, Path, Step};
use super::lexer::{Spanned, Tok, tokenize};

/// A syntax error: a 1-based character column and a plain message. The
/// caller adds where the expression came from (`in relevant of survey!G12`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}")]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(column: usize, message: impl Into<String>) -> ParseError {
        ParseError { column, message: message.into() }
    }
}

/// Deepest nesting accepted (parentheses, calls, predicates, unary minus),
/// so that parsing and evaluating hostile input cannot overflow the stack.
/// Real forms nest a few levels; a debug build copes with about 400.
const MAX_NESTING: usize = 128;

/// Deepest tree accepted counting operator chains too (`a + b + c` is three
/// deep): printing, comparing and dropping a tree recurse down it, while
/// evaluation walks chains in a loop. Allows sums of a thousand fields.
const MAX_DEPTH: usize = 2048;

/// Parses one expression.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let toks = tokenize(src)?;
    let end_col = src.chars().count() + 1;
    let mut p = Parser { toks, pos: 0, end_col, depth: 0, nesting: 0 };
    if p.toks.is_empty() {
        return Err(ParseError::new(1, "empty expression"));
    }
    let e = p.expr()?;
    if let Some((t, col)) = p.toks.get(p.pos) {
        return Err(ParseError::new(*col, format!("unexpected {}", t.describe())));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Spanned>,
    pos: usize,
    end_col: usize,
    depth: usize,
    nesting: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.pos + n).map(|(t, _)| t)
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end_col, |(_, c)| *c)
    }

    fn unexpected(&self) -> ParseError {
        match self.toks.get(self.pos) {
            Some((t, c)) => ParseError::new(*c, format!("unexpected {}", t.describe())),
            None => ParseError::new(self.end_col, "unexpected end of expression"),
        }
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: &Tok) -> Result<(), ParseError> {
        if self.eat(t) {
            Ok(())
        } else {
            match self.toks.get(self.pos) {
                Some((got, c)) => Err(ParseError::new(
                    *c,
                    format!("expected {} but found {}", t.describe(), got.describe()),
                )),
                None => Err(ParseError::new(
                    self.end_col,
                    format!("expected {} at end of expression", t.describe()),
                )),
            }
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        self.nesting += 1;
        if self.nesting > MAX_NESTING || self.depth > MAX_DEPTH {
            return Err(ParseError::new(self.col(), "expression nested too deeply"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
        self.nesting -= 1;
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let e = self.binary(1);
        self.leave();
        e
    }

    fn peek_binop(&self) -> Option<BinOp> {
        Some(match self.peek()? {
            Tok::Op("or") => BinOp::Or,
            Tok::Op("and") => BinOp::And,
            Tok::Op("=") => BinOp::Eq,
            Tok::Op("!=") => BinOp::Ne,
            Tok::Op("<") => BinOp::Lt,
            Tok::Op("<=") => BinOp::Le,
            Tok::Op(">") => BinOp::Gt,
            Tok::Op(">=") => BinOp::Ge,
            Tok::Op("+") => BinOp::Add,
            Tok::Op("-") => BinOp::Sub,
            Tok::Op("*") => BinOp::Mul,
            Tok::Op("div") => BinOp::Div,
            Tok::Op("mod") => BinOp::Mod,
            Tok::Op("|") => BinOp::Union,
            _ => return None,
        })
    }

    /// Precedence climbing over the left-associative binary operators;
    /// unary minus sits between `* div mod` and `|`.
    fn binary(&mut self, min_prec: u8) -> Result<Expr, ParseError> {
        let mut lhs = if min_prec <= 7 { self.unary()? } else { self.path_expr()? };
        // Each operator in a chain deepens the (left-leaning) tree by one.
        let mut chained = 0;
        while let Some(op) = self.peek_binop() {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.pos += 1;
            self.depth += 1;
            chained += 1;
            if self.depth > MAX_DEPTH {
                return Err(ParseError::new(self.col(), "expression too long"));
            }
            let rhs = self.binary(prec + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        self.depth -= chained;
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat(&Tok::Op("-")) {
            self.enter()?;
            let inner = self.unary();
            self.leave();
            return Ok(Expr::Neg(Box::new(inner?)));
        }
        self.binary(8)
    }

    /// PathExpr: a location path, or a filter expression optionally
    /// followed by `/` or `//` and a relative path.
    fn path_expr(&mut self) -> Result<Expr, ParseError> {
        let primary = match self.peek() {
            Some(Tok::Num(_) | Tok::Str(_) | Tok::Ref(_) | Tok::LParen) => true,
            Some(Tok::Name(n)) => {
                self.peek_at(1) == Some(&Tok::LParen) && !matches!(n.as_str(), "node" | "text")
            }
            _ => false,
        };
        if !primary {
            return self.location_path().map(Expr::Path);
        }
        let base = self.primary()?;
        let mut predicates = Vec::new();
        while self.peek() == Some(&Tok::LBracket) {
            predicates.push(self.predicate()?);
        }
        let mut steps = Vec::new();
        if matches!(self.peek(), Some(Tok::Slash | Tok::DoubleSlash)) {
            self.relative_steps(&mut steps)?;
        }
        if predicates.is_empty() && steps.is_empty() {
            return Ok(base);
        }
        Ok(Expr::Filter(Box::new(Filter { base, predicates, steps })))
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(Expr::Num(n)),
            Tok::Str(s) => Ok(Expr::Str(s)),
            Tok::Ref(r) => Ok(Expr::Ref(r)),
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Tok::Name(name) => {
                self.expect(&Tok::LParen)?;
                let mut args = Vec::new();
                if !self.eat(&Tok::RParen) {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(&Tok::Comma) {
                            continue;
                        }
                        self.expect(&Tok::RParen)?;
                        break;
                    }
                }
                Ok(Expr::Call(Call::new(name, args)))
            }
            _ => {
                self.pos -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn predicate(&mut self) -> Result<Expr, ParseError> {
        self.expect(&Tok::LBracket)?;
        let e = self.expr()?;
        self.expect(&Tok::RBracket)?;
        Ok(e)
    }

    fn location_path(&mut self) -> Result<Path, ParseError> {
        let mut steps = Vec::new();
        match self.peek() {
            Some(Tok::Slash) => {
                self.pos += 1;
                // `/` alone is the root; a step follows only if one can start here.
                if self.step_can_start() {
                    self.step_into(&mut steps)?;
                    self.relative_steps(&mut steps)?;
                }
                Ok(Path { absolute: true, steps })
            }
            Some(Tok::DoubleSlash) => {
                self.relative_steps(&mut steps)?;
                Ok(Path { absolute: true, steps })
            }
            _ => {
                if !self.step_can_start() {
                    return Err(self.unexpected());
                }
                self.step_into(&mut steps)?;
                self.relative_steps(&mut steps)?;
                Ok(Path { absolute: false, steps })
            }
        }
    }

    fn step_can_start(&self) -> bool {
        matches!(
            self.peek(),
            Some(Tok::Name(_) | Tok::Star | Tok::PrefixStar(_) | Tok::At | Tok::Dot | Tok::DotDot)
        )
    }

    /// Consumes `(/ step | // step)*`.
    fn relative_steps(&mut self, steps: &mut Vec<Step>) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(Tok::Slash) => {
                    self.pos += 1;
                    self.step_into(steps)?;
                }
                Some(Tok::DoubleSlash) => {
                    self.pos += 1;
                    steps.push(Step {
                        axis: Axis::DescendantOrSelf,
                        test: NodeTest::Node,
                        predicates: vec![],
                    });
                    self.step_into(steps)?;
                }
                _ => return Ok(()),
            }
        }
    }

    fn step_into(&mut self, steps: &mut Vec<Step>) -> Result<(), ParseError> {
        let step = self.step()?;
        steps.push(step);
        Ok(())
    }

    fn step(&mut self) -> Result<Step, ParseError> {
        if self.eat(&Tok::Dot) {
            return Ok(Step { axis: Axis::SelfAxis, test: NodeTest::Node, predicates: vec![] });
        }
        if self.eat(&Tok::DotDot) {
            return Ok(Step { axis: Axis::Parent, test: NodeTest::Node, predicates: vec![] });
        }
        let mut axis = Axis::Child;
        if self.eat(&Tok::At) {
            axis = Axis::Attribute;
        } else if let (Some(Tok::Name(n)), Some(Tok::ColonColon)) = (self.peek(), self.peek_at(1)) {
            let col = self.col();
            axis = Axis::from_name(n)
                .ok_or_else(|| ParseError::new(col, format!("unknown axis '{n}'")))?;
            self.pos += 2;
        }
        let test = match self.toks.get(self.pos).cloned() {
            Some((Tok::Star, _)) => {
                self.pos += 1;
                NodeTest::Any
            }
            Some((Tok::PrefixStar(p), _)) => {
                self.pos += 1;
                NodeTest::AnyInPrefix(p)
            }
            Some((Tok::Name(n), _)) if self.peek_at(1) == Some(&Tok::LParen) => {
                let t = match n.as_str() {
                    "node" => NodeTest::Node,
                    "text" => NodeTest::Text,
                    _ => return Err(self.unexpected()),
                };
                self.pos += 2;
                self.expect(&Tok::RParen)?;
                t
            }
            Some((Tok::Name(n), _)) => {
                self.pos += 1;
                NodeTest::Name(n)
            }
            _ => return Err(self.unexpected()),
        };
        let mut predicates = Vec::new();
        while self.peek() == Some(&Tok::LBracket) {
            predicates.push(self.predicate()?);
        }
        Ok(Step { axis, test, predicates })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        parse(src).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn errors_point_at_the_character() {
        assert_eq!(err("${a} + ) and 1"), "unexpected ')' at column 8");
        assert_eq!(err("concat('a', "), "unexpected end of expression at column 13");
        assert_eq!(err("'abc"), "unclosed string literal at column 1");
        assert_eq!(err(""), "empty expression at column 1");
        assert_eq!(err("1 2"), "unexpected number 2 at column 3");
        assert_eq!(err("foo::x"), "unknown axis 'foo' at column 1");
    }

    #[test]
    fn precedence_and_associativity() {
        let e = parse("1 + 2 * 3 - 4").ok();
        let want = Expr::Binary(
            BinOp::Sub,
            Box::new(Expr::Binary(
                BinOp::Add,
                Box::new(Expr::Num(1.0)),
                Box::new(Expr::Binary(
                    BinOp::Mul,
                    Box::new(Expr::Num(2.0)),
                    Box::new(Expr::Num(3.0)),
                )),
            )),
            Box::new(Expr::Num(4.0)),
        );
        assert_eq!(e, Some(want));
    }

    #[test]
    fn star_and_names_are_disambiguated() {
        assert!(matches!(parse("2*3"), Ok(Expr::Binary(BinOp::Mul, _, _))));
        assert!(matches!(parse("div div div"), Ok(Expr::Binary(BinOp::Div, _, _))));
        assert!(matches!(parse("/data/*"), Ok(Expr::Path(_))));
        assert!(
            matches!(parse("jr:choice-name(1, 'x')"), Ok(Expr::Call(c)) if c.name == "jr:choice-name")
        );
    }

    #[test]
    fn paths_and_filters() {
        let Ok(Expr::Filter(f)) = parse("instance('c')/root/item[name = current()/../x]/label")
        else {
            panic!("not a filter");
        };
        assert_eq!(f.steps.len(), 3);
        assert_eq!(f.steps[1].predicates.len(), 1);
        let Ok(Expr::Path(p)) = parse("//a/../@b") else { panic!("not a path") };
        assert!(p.absolute);
        assert_eq!(p.steps.len(), 4);
        assert_eq!(p.steps[3].axis, Axis::Attribute);
        assert!(
            matches!(parse("/"), Ok(Expr::Path(Path { absolute: true, steps })) if steps.is_empty())
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = "(".repeat(10_000) + "1" + &")".repeat(10_000);
        assert!(parse(&src).is_err());
        let src = "-".repeat(10_000) + "1";
        assert!(parse(&src).is_err());
        let src = vec!["1"; 5000].join(" + ");
        assert!(parse(&src).is_err());
        let src = "(".repeat(129) + "1" + &")".repeat(129);
        assert!(parse(&src).is_err());
    }

    /// The deepest trees the parser accepts evaluate, print and drop within
    /// a test thread's 2 MiB stack (debug build).
    #[test]
    fn the_deepest_accepted_trees_are_safe() {
        use crate::expr::{Document, FixedEnv, MemDoc, evaluate};
        let doc = MemDoc::new();
        let env = FixedEnv::default();
        let chain = vec!["1"; 2000].join(" + ");
        let nested = "(".repeat(120) + "1" + &")".repeat(120);
        let negs = "-".repeat(120) + "1";
        let calls = "not(".repeat(120) + "1" + &")".repeat(120);
        // Chains inside nesting: the total depth budget applies.
        let mixed = "(".repeat(100) + &vec!["1"; 15].join(" + ") + &" + 1)".repeat(100);
        for src in [chain, nested, negs, calls, mixed] {
            let Ok(e) = parse(&src) else { panic!("not accepted: {}", &src[..20]) };
            assert!(evaluate(&e, &doc, &env, doc.root()).is_ok());
            assert!(!e.to_string().is_empty());
            assert_eq!(parse(&e.to_string()).ok(), Some(e));
        }
    }
}
