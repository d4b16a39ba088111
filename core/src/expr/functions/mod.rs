//! The function library: names, arities, and the dispatch from [`Func`] to
//! the implementations in the submodules (grouped by what they work on).

mod dates;
mod digest;
mod geo;
mod nodes;
mod numbers;
mod selects;
mod strings;

pub(crate) use dates::DateParts;
pub use dates::{now_string, today_string};
pub(crate) use digest::is_digest_algorithm;
pub use nodes::{ParkMiller, seeded_order};

macro_rules! functions {
    ($($variant:ident => $name:literal, $min:literal, $max:expr;)*) => {
        /// A known function, resolved from its name at parse time.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Func { $($variant),* }

        impl Func {
            /// Every known function.
            pub const ALL: &'static [Func] = &[$(Func::$variant),*];

            /// The function a call name refers to. Names with the `jr:` prefix
            /// and without it are both accepted, as ODK engines do.
            pub fn lookup(name: &str) -> Option<Func> {
                let bare = name.strip_prefix("jr:").unwrap_or(name);
                match bare {
                    $($name => Some(Func::$variant),)*
                    _ => None,
                }
            }

            /// The canonical name (`jr:` functions are written with their prefix).
            pub fn name(self) -> &'static str {
                match self { $(Func::$variant => $name),* }
            }

            /// Minimum and maximum number of arguments (`None`: unbounded).
            pub fn arity(self) -> (usize, Option<usize>) {
                match self { $(Func::$variant => ($min, $max)),* }
            }
        }
    };
}

functions! {
    // XPath 1.0 core
    Last => "last", 0, Some(0);
    Position => "position", 0, Some(1);
    Count => "count", 1, Some(1);
    LocalName => "local-name", 0, Some(1);
    Name => "name", 0, Some(1);
    String => "string", 0, Some(1);
    Concat => "concat", 0, None;
    StartsWith => "starts-with", 2, Some(2);
    EndsWith => "ends-with", 2, Some(2);
    Contains => "contains", 2, Some(2);
    SubstringBefore => "substring-before", 2, Some(2);
    SubstringAfter => "substring-after", 2, Some(2);
    Substring => "substring", 2, Some(3);
    Substr => "substr", 2, Some(3);
    StringLength => "string-length", 0, Some(1);
    NormalizeSpace => "normalize-space", 0, Some(1);
    Translate => "translate", 3, Some(3);
    Boolean => "boolean", 1, Some(1);
    Not => "not", 1, Some(1);
    True => "true", 0, Some(0);
    False => "false", 0, Some(0);
    Lang => "lang", 1, Some(1);
    Number => "number", 0, Some(1);
    Sum => "sum", 1, Some(1);
    Floor => "floor", 1, Some(1);
    Ceiling => "ceiling", 1, Some(1);
    Round => "round", 1, Some(2);
    // ODK strings
    Join => "join", 1, None;
    Uuid => "uuid", 0, Some(1);
    Digest => "digest", 2, Some(3);
    Regex => "regex", 2, Some(2);
    Base64Decode => "base64-decode", 1, Some(1);
    // ODK logic
    If => "if", 3, Some(3);
    Coalesce => "coalesce", 2, Some(2);
    Once => "once", 1, Some(1);
    BooleanFromString => "boolean-from-string", 1, Some(1);
    Checklist => "checklist", 2, None;
    WeightedChecklist => "weighted-checklist", 2, None;
    // ODK numbers
    Random => "random", 0, Some(0);
    Int => "int", 1, Some(1);
    Max => "max", 1, None;
    Min => "min", 1, None;
    Pow => "pow", 2, Some(2);
    Log => "log", 1, Some(1);
    Log10 => "log10", 1, Some(1);
    Abs => "abs", 1, Some(1);
    Sin => "sin", 1, Some(1);
    Cos => "cos", 1, Some(1);
    Tan => "tan", 1, Some(1);
    Asin => "asin", 1, Some(1);
    Acos => "acos", 1, Some(1);
    Atan => "atan", 1, Some(1);
    Atan2 => "atan2", 2, Some(2);
    Sqrt => "sqrt", 1, Some(1);
    Exp => "exp", 1, Some(1);
    Exp10 => "exp10", 1, Some(1);
    Pi => "pi", 0, Some(0);
    CountNonEmpty => "count-non-empty", 1, Some(1);
    // ODK nodes
    Instance => "instance", 1, Some(1);
    Current => "current", 0, Some(0);
    Randomize => "randomize", 1, Some(2);
    IndexedRepeat => "indexed-repeat", 3, None;
    Pulldata => "pulldata", 4, Some(4);
    // ODK dates
    Today => "today", 0, Some(0);
    Now => "now", 0, Some(0);
    FormatDate => "format-date", 2, Some(2);
    FormatDateTime => "format-date-time", 2, Some(2);
    Date => "date", 1, Some(1);
    DateTime => "date-time", 1, Some(1);
    DecimalDateTime => "decimal-date-time", 1, Some(1);
    DecimalTime => "decimal-time", 1, Some(1);
    // ODK selects
    Selected => "selected", 2, Some(2);
    SelectedAt => "selected-at", 2, Some(2);
    CountSelected => "count-selected", 1, Some(1);
    ChoiceName => "choice-name", 2, Some(2);
    Itext => "itext", 1, Some(1);
    // ODK geo
    Area => "area", 1, Some(1);
    Distance => "distance", 1, None;
    Geofence => "geofence", 2, Some(2);
}

impl Func {
    /// Functions whose value changes between evaluations with the same
    /// inputs: the session must not cache or skip them.
    pub fn is_volatile(self) -> bool {
        matches!(self, Func::Now | Func::Today | Func::Random | Func::Uuid)
    }
}

/// Whether `name` is a function the evaluator knows (`jr:choice-name`,
/// `count`, ...). Use it to report unknown functions when a form is checked.
pub fn is_known_function(name: &str) -> bool {
    Func::lookup(name).is_some()
}

use std::borrow::Cow;

use super::ast::Expr;
use super::eval::{Context, EvalError, EvalResult, Evaluator, type_name};
use super::value::Value;

impl<'a> Evaluator<'a> {
    /// Calls a known function; arity is already checked by the caller.
    pub(crate) fn call_function(
        &self,
        f: Func,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        use Func::*;
        match f {
            Last => Ok(Value::Num(ctx.size as f64)),
            Position => self.fn_position(args, ctx),
            Count => Ok(Value::Num(self.arg_nodes(args, 0, ctx, "count")?.len() as f64)),
            LocalName | Name => {
                let node = match args.first() {
                    Some(a) => {
                        self.arg_nodes(std::slice::from_ref(a), 0, ctx, f.name())?.first().copied()
                    }
                    None => Some(ctx.node),
                };
                let name = node.map_or("", |n| self.doc.name(n));
                let name =
                    if f == LocalName { name.rsplit(':').next().unwrap_or(name) } else { name };
                Ok(Value::Str(Cow::Borrowed(name)))
            }
            True => Ok(Value::Bool(true)),
            False => Ok(Value::Bool(false)),
            Boolean => Ok(Value::Bool(self.eval_bool(&args[0], ctx)?)),
            Not => Ok(Value::Bool(!self.eval_bool(&args[0], ctx)?)),
            Lang => Ok(Value::Bool(false)),
            Current => Ok(Value::Nodes(vec![self.current])),
            Instance => {
                let id = self.eval_str(&args[0], ctx)?;
                Ok(Value::Nodes(self.doc.instance(&id).into_iter().collect()))
            }
            If => {
                let pick = if self.eval_bool(&args[0], ctx)? { &args[1] } else { &args[2] };
                self.eval(pick, ctx)
            }
            Coalesce => {
                let a = self.eval(&args[0], ctx)?;
                if !a.to_str(self.doc).is_empty() {
                    return Ok(a);
                }
                self.eval(&args[1], ctx)
            }
            Once => {
                let own = self.doc.value(ctx.node);
                if own.is_empty() {
                    Ok(Value::Str(self.eval_str(&args[0], ctx)?))
                } else {
                    Ok(Value::Str(Cow::Borrowed(own)))
                }
            }
            String | Concat | StartsWith | EndsWith | Contains | SubstringBefore
            | SubstringAfter | Substring | Substr | StringLength | NormalizeSpace | Translate
            | Join | Uuid | Regex | Base64Decode | BooleanFromString => {
                self.string_function(f, args, ctx)
            }
            Digest => self.fn_digest(args, ctx),
            Number | Sum | Floor | Ceiling | Round | Random | Int | Max | Min | Pow | Log
            | Log10 | Abs | Sin | Cos | Tan | Asin | Acos | Atan | Atan2 | Sqrt | Exp | Exp10
            | Pi | CountNonEmpty => self.number_function(f, args, ctx),
            Checklist | WeightedChecklist => self.fn_checklist(f, args, ctx),
            Randomize => self.fn_randomize(args, ctx),
            IndexedRepeat => self.fn_indexed_repeat(args, ctx),
            Pulldata => self.fn_pulldata(args, ctx),
            Today | Now | FormatDate | FormatDateTime | Date | DateTime | DecimalDateTime
            | DecimalTime => self.date_function(f, args, ctx),
            Selected | SelectedAt | CountSelected | ChoiceName | Itext => {
                self.select_function(f, args, ctx)
            }
            Area | Distance | Geofence => self.geo_function(f, args, ctx),
        }
    }

    /// Evaluates argument `i` as a node-set, or fails naming the function.
    pub(crate) fn arg_nodes(
        &self,
        args: &'a [Expr],
        i: usize,
        ctx: &Context,
        func: &str,
    ) -> EvalResult<Vec<super::doc::NodeId>> {
        match self.eval(&args[i], ctx)? {
            Value::Nodes(n) => Ok(n),
            other => Err(EvalError::new(format!(
                "{func}() expects a node-set as argument {} but got a {}",
                i + 1,
                type_name(&other)
            ))),
        }
    }

    fn fn_position(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<Value<'a>> {
        let Some(_) = args.first() else {
            return Ok(Value::Num(ctx.position as f64));
        };
        let nodes = self.arg_nodes(args, 0, ctx, "position")?;
        let Some(&n) = nodes.first() else {
            return Ok(Value::Num(f64::NAN));
        };
        if nodes.len() > 1 {
            return Err(EvalError::new("position() expects a single node but got several"));
        }
        // ODK: the 1-based index among the contiguous preceding siblings of
        // the same name (a repeat instance's index).
        let name = self.doc.name(n);
        let mut pos = 1;
        let mut p = self.doc.prev_sibling(n);
        while let Some(s) = p {
            if self.doc.name(s) != name {
                break;
            }
            pos += 1;
            p = self.doc.prev_sibling(s);
        }
        Ok(Value::Num(f64::from(pos)))
    }
}

#[cfg(test)]
mod tests {
    use super::regex_is_match;

    #[test]
    fn javascript_pattern_meanings() {
        let m = |p: &str, t: &str| regex_is_match(p, t).unwrap_or(false);
        assert!(!m("^a[]]b$", "a]b"));
        assert!(m("^a[^]b$", "a\nb"));
        assert!(m("^[\\w-]+$", "a-b_1"));
        assert!(!m("^\\w+$", "ação"));
        assert!(m("^\\d{2}$", "42"));
        assert!(!m("^\\d$", "٤"));
        assert!(m("\\bx\\b", "a x b"));
        assert!(m("[[]", "["));
        // JavaScript's whitespace, not Unicode's.
        assert!(m("^\\s+$", " \t\u{a0}\u{3000}\u{feff}"));
        assert!(!m("^\\s$", "\u{85}"));
        assert!(m("^[\\s,]+$", ", ,") && m("^\\S+$", "ação") && !m("\\S", " "));
        // No `u` flag: `\\p{L}` is the text `p{L}`.
        assert!(m("^\\p{L}$", "p{L}") && !m("^\\p{L}$", "a"));
        assert!(m("^a{2}b{1,}c{0,1}$", "aabbc") && m("^{x}$", "{x}") && m("^a{,2}$", "a{,2}"));
        assert!(regex_is_match("(?i)a", "A").is_err());
        assert!(m("(?:a)(?=b)?", "ab") || regex_is_match("(?=b)", "b").is_err());
    }
}

/// JavaScript's `\\s`: WhiteSpace and LineTerminator (ECMA-262), that is
/// tab, LF, VT, FF, CR, the Zs spaces, LS, PS and the BOM.
const JS_SPACE: &str = "[\\t\\n\\x0B\\x0C\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}]";
const JS_NON_SPACE: &str = "[^\\t\\n\\x0B\\x0C\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}]";

thread_local! {
    /// Compiled patterns: a form uses a handful, evaluated on every change.
    static REGEX_CACHE: std::cell::RefCell<std::collections::HashMap<std::string::String, regex::Regex>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Rewrites the JavaScript-only meanings in a pattern for the `regex`
/// crate: `\\w \\d \\b` and their negations are ASCII in JavaScript (Unicode
/// in Rust), `\\s` is JavaScript's own whitespace set (not Unicode's: no
/// U+0085, but U+FEFF), `\\p` is a plain `p` without the `u` flag ODK never
/// sets, and inline flags like `(?i)` are a syntax error in JavaScript.
/// Spelling every class out also keeps the Unicode tables out of the
/// phone's library.
fn js_pattern_to_rust(p: &str) -> EvalResult<std::string::String> {
    let mut out = std::string::String::with_capacity(p.len() + 8);
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    return Err(EvalError::new(format!(
                        "bad regular expression '{p}': ends with '\\'"
                    )));
                };
                match n {
                    'w' => out.push_str("[0-9A-Za-z_]"),
                    'W' => out.push_str("[^0-9A-Za-z_]"),
                    'd' => out.push_str("[0-9]"),
                    'D' => out.push_str("[^0-9]"),
                    's' => out.push_str(JS_SPACE),
                    'S' => out.push_str(JS_NON_SPACE),
                    'p' | 'P' => out.push(n),
                    'b' if !in_class => out.push_str("(?-u:\\b)"),
                    'B' if !in_class => out.push_str("(?-u:\\B)"),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' if !in_class => {
                // JavaScript: `[]` matches nothing and `[^]` any character;
                // otherwise a leading `]` closes the class.
                let mut look = chars.clone();
                let negated = look.peek() == Some(&'^');
                if negated {
                    look.next();
                }
                if look.peek() == Some(&']') {
                    look.next();
                    chars = look;
                    out.push_str(if negated { "(?s:.)" } else { "[a&&b]" });
                    continue;
                }
                in_class = true;
                out.push(c);
                if negated {
                    out.push('^');
                    chars.next();
                }
            }
            '[' if in_class => out.push_str("\\["),
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '(' if !in_class && chars.peek() == Some(&'?') => {
                let mut look = chars.clone();
                look.next();
                match look.peek() {
                    Some(':' | '=' | '!' | '<') => out.push(c),
                    _ => {
                        return Err(EvalError::new(format!(
                            "bad regular expression '{p}': inline flags are not supported"
                        )));
                    }
                }
            }
            // JavaScript (Annex B) reads a `{` that starts no `{n}`, `{n,}`
            // or `{n,m}`, and a `}` closing none, as themselves; the regex
            // crate refuses them.
            '{' if !in_class => {
                if starts_quantifier(chars.clone()) {
                    out.push(c);
                    for d in chars.by_ref() {
                        out.push(d);
                        if d == '}' {
                            break;
                        }
                    }
                } else {
                    out.push_str("\\{");
                }
            }
            '}' if !in_class => out.push_str("\\}"),
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Whether what follows a `{` is `n}`, `n,}` or `n,m}`.
fn starts_quantifier(mut rest: impl Iterator<Item = char>) -> bool {
    let mut digits = 0;
    let mut comma = false;
    for c in rest.by_ref() {
        match c {
            '0'..='9' => digits += 1,
            ',' if digits > 0 && !comma => comma = true,
            '}' => return digits > 0,
            _ => return false,
        }
    }
    false
}

/// The size a compiled pattern may take: a tablet evaluates it on every
/// change. A pattern over it is an error, which a constraint treats as a
/// refusal (fail closed) and `form check` reports when the pattern is
/// written literally.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

fn compile_regex(pattern: &str) -> EvalResult<regex::Regex> {
    regex::RegexBuilder::new(&js_pattern_to_rust(pattern)?)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| EvalError::new(format!("bad regular expression '{pattern}': {e}")))
}

/// Whether an ODK `regex()` pattern compiles here (for `form check`).
pub fn check_regex(pattern: &str) -> Result<(), String> {
    compile_regex(pattern).map(|_| ()).map_err(|e| e.to_string())
}

/// Whether `text` matches an ODK `regex()` pattern (compiled once per thread). Like ODK Web Forms
/// (JavaScript `RegExp.test`), the pattern is not anchored: authors write
/// `^...$` to match the whole value.
pub(crate) fn regex_is_match(pattern: &str, text: &str) -> EvalResult<bool> {
    // Matching through the cached Regex (no clone: a clone makes a new
    // scratch pool, which costs more than the match).
    if let Some(m) = REGEX_CACHE.with(|c| c.borrow().get(pattern).map(|r| r.is_match(text))) {
        return Ok(m);
    }
    let re = compile_regex(pattern)?;
    let m = re.is_match(text);
    REGEX_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 256 {
            c.clear();
        }
        c.insert(pattern.to_string(), re);
    });
    Ok(m)
}
