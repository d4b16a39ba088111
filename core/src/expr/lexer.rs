//! Splits expression source into tokens, applying XPath 1.0's rules for
//! when `*` and `and`/`or`/`div`/`mod` are operators rather than names.

use super::parser::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Str(String),
    /// `${name}`
    Ref(String),
    /// A name or QName (`x`, `jr:choice-name`).
    Name(String),
    /// `prefix:*`
    PrefixStar(String),
    /// `*` as a name test.
    Star,
    /// Operator names and symbols.
    Op(&'static str),
    Slash,
    DoubleSlash,
    LBracket,
    RBracket,
    LParen,
    RParen,
    At,
    Comma,
    Dot,
    DotDot,
    ColonColon,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Ref(r) => format!("${{{r}}}"),
            Tok::Name(n) => format!("'{n}'"),
            Tok::PrefixStar(p) => format!("'{p}:*'"),
            Tok::Star => "'*'".into(),
            Tok::Op(o) => format!("'{o}'"),
            Tok::Slash => "'/'".into(),
            Tok::DoubleSlash => "'//'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::At => "'@'".into(),
            Tok::Comma => "','".into(),
            Tok::Dot => "'.'".into(),
            Tok::DotDot => "'..'".into(),
            Tok::ColonColon => "'::'".into(),
        }
    }
}

/// A token and its 1-based character column.
pub(crate) type Spanned = (Tok, usize);

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '\u{b7}')
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Spanned>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Spanned> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // XPath 1.0 3.7: after a token that can end an operand, `*` and the
        // operator names are operators.
        let operand_ended = matches!(
            out.last(),
            Some((
                Tok::Num(_)
                    | Tok::Str(_)
                    | Tok::Ref(_)
                    | Tok::Name(_)
                    | Tok::PrefixStar(_)
                    | Tok::Star
                    | Tok::RBracket
                    | Tok::RParen
                    | Tok::Dot
                    | Tok::DotDot,
                _
            ))
        );
        let tok = match c {
            '$' if chars.get(i + 1) == Some(&'{') => {
                let start = i + 2;
                let mut j = start;
                while j < chars.len() && chars[j] != '}' {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(ParseError::new(col, "unclosed '${' reference"));
                }
                let name: String = chars[start..j].iter().collect::<String>().trim().to_string();
                if name.is_empty() {
                    return Err(ParseError::new(col, "empty '${}' reference"));
                }
                i = j + 1;
                Tok::Ref(name)
            }
            '\'' | '"' => {
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && chars[j] != c {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(ParseError::new(col, "unclosed string literal"));
                }
                i = j + 1;
                Tok::Str(chars[start..j].iter().collect())
            }
            '0'..='9' => lex_number(&chars, &mut i),
            '.' if chars.get(i + 1).is_some_and(char::is_ascii_digit) => lex_number(&chars, &mut i),
            '.' if chars.get(i + 1) == Some(&'.') => {
                i += 2;
                Tok::DotDot
            }
            '.' => {
                i += 1;
                Tok::Dot
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                i += 2;
                Tok::DoubleSlash
            }
            '/' => {
                i += 1;
                Tok::Slash
            }
            '[' => {
                i += 1;
                Tok::LBracket
            }
            ']' => {
                i += 1;
                Tok::RBracket
            }
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '@' => {
                i += 1;
                Tok::At
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            ':' if chars.get(i + 1) == Some(&':') => {
                i += 2;
                Tok::ColonColon
            }
            '|' => {
                i += 1;
                Tok::Op("|")
            }
            '+' => {
                i += 1;
                Tok::Op("+")
            }
            '-' => {
                i += 1;
                Tok::Op("-")
            }
            '=' => {
                i += 1;
                Tok::Op("=")
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Tok::Op("!=")
            }
            '<' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Tok::Op("<=")
            }
            '<' => {
                i += 1;
                Tok::Op("<")
            }
            '>' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Tok::Op(">=")
            }
            '>' => {
                i += 1;
                Tok::Op(">")
            }
            '*' => {
                i += 1;
                if operand_ended { Tok::Op("*") } else { Tok::Star }
            }
            c if is_name_start(c) => {
                let start = i;
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                let mut name: String = chars[start..i].iter().collect();
                if operand_ended {
                    match name.as_str() {
                        "and" => Tok::Op("and"),
                        "or" => Tok::Op("or"),
                        "div" => Tok::Op("div"),
                        "mod" => Tok::Op("mod"),
                        _ => Tok::Name(name),
                    }
                } else if chars.get(i) == Some(&':') && chars.get(i + 1) != Some(&':') {
                    // A QName `prefix:local` or `prefix:*`.
                    match chars.get(i + 1) {
                        Some('*') => {
                            i += 2;
                            Tok::PrefixStar(name)
                        }
                        Some(&n) if is_name_start(n) => {
                            i += 1;
                            let s = i;
                            while i < chars.len() && is_name_char(chars[i]) {
                                i += 1;
                            }
                            name.push(':');
                            name.extend(&chars[s..i]);
                            Tok::Name(name)
                        }
                        _ => return Err(ParseError::new(i + 1, "unexpected ':'")),
                    }
                } else {
                    Tok::Name(name)
                }
            }
            other => return Err(ParseError::new(col, format!("unexpected '{other}'"))),
        };
        out.push((tok, col));
    }
    Ok(out)
}

fn lex_number(chars: &[char], i: &mut usize) -> Tok {
    let start = *i;
    while *i < chars.len() && chars[*i].is_ascii_digit() {
        *i += 1;
    }
    if *i < chars.len() && chars[*i] == '.' && chars.get(*i + 1) != Some(&'.') {
        *i += 1;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
    }
    let text: String = chars[start..*i].iter().collect();
    Tok::Num(text.parse().unwrap_or(f64::NAN))
}
