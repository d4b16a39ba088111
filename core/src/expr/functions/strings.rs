//! String functions: XPath 1.0's and ODK's.
//!
//! Lengths and indexes count UTF-16 code units, as both ODK engines do
//! (JavaScript and Java strings), so `string-length('😀')` is 2 here too.

use std::borrow::Cow;

use super::Func;
use crate::expr::ast::Expr;
use crate::expr::eval::{Context, EvalError, EvalResult, Evaluator};
use crate::expr::value::Value;

/// XML white space, the only white space XPath's string functions know.
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The UTF-16 code units `[start, end)` of `s`, as a string (a split
/// surrogate pair becomes U+FFFD, like a lone surrogate shown by ODK).
pub(crate) fn utf16_slice(s: &str, start: usize, end: usize) -> String {
    if s.is_ascii() {
        let end = end.min(s.len());
        return s.get(start.min(end)..end).unwrap_or("").to_string();
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    let end = end.min(units.len());
    String::from_utf16_lossy(&units[start.min(end)..end])
}

/// JavaScript's `parseInt(s, 10)`: leading white space, sign and digits;
/// NaN when there are no digits.
pub(crate) fn parse_int(s: &str) -> f64 {
    let t = s.trim_start();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = body.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return f64::NAN;
    }
    let v: f64 = digits.parse().unwrap_or(f64::NAN);
    if neg { -v } else { v }
}

impl<'a> Evaluator<'a> {
    /// Every string of the arguments, node-sets contributing each node
    /// (ODK's `concat` and `join`).
    pub(crate) fn all_strings(
        &self,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Vec<Cow<'a, str>>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            match self.eval(a, ctx)? {
                Value::Nodes(ns) => out.extend(ns.iter().map(|&n| self.doc.string_value(n))),
                v => out.push(v.to_str(self.doc)),
            }
        }
        Ok(out)
    }

    fn str_arg_or_context(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<Cow<'a, str>> {
        match args.first() {
            Some(a) => self.eval_str(a, ctx),
            None => Ok(self.doc.string_value(ctx.node)),
        }
    }

    pub(super) fn string_function(
        &self,
        f: Func,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        let s = |i: usize| self.eval_str(&args[i], ctx);
        Ok(match f {
            Func::String => Value::Str(self.str_arg_or_context(args, ctx)?),
            Func::Concat => {
                let parts = self.all_strings(args, ctx)?;
                if parts.len() == 1 {
                    Value::Str(parts.into_iter().next().unwrap_or_default())
                } else {
                    Value::Str(Cow::Owned(parts.concat()))
                }
            }
            Func::Join => {
                let sep = s(0)?;
                let parts = self.all_strings(&args[1..], ctx)?;
                Value::Str(Cow::Owned(parts.join(sep.as_ref())))
            }
            Func::StartsWith => Value::Bool(s(0)?.starts_with(s(1)?.as_ref())),
            Func::EndsWith => Value::Bool(s(0)?.ends_with(s(1)?.as_ref())),
            Func::Contains => Value::Bool(s(0)?.contains(s(1)?.as_ref())),
            Func::SubstringBefore => {
                let (h, n) = (s(0)?, s(1)?);
                Value::Str(Cow::Owned(h.find(n.as_ref()).map_or("", |i| &h[..i]).to_string()))
            }
            Func::SubstringAfter => {
                // XPath 1.0: after the first occurrence of the whole needle.
                let (h, n) = (s(0)?, s(1)?);
                Value::Str(Cow::Owned(
                    h.find(n.as_ref()).map_or("", |i| &h[i + n.len()..]).to_string(),
                ))
            }
            Func::Substring => Value::Str(Cow::Owned(self.fn_substring(args, ctx)?)),
            Func::Substr => Value::Str(Cow::Owned(self.fn_substr(args, ctx)?)),
            Func::StringLength => {
                Value::Num(utf16_len(&self.str_arg_or_context(args, ctx)?) as f64)
            }
            Func::NormalizeSpace => {
                let v = self.str_arg_or_context(args, ctx)?;
                Value::Str(Cow::Owned(
                    v.split(is_xml_space).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "),
                ))
            }
            Func::Translate => {
                let (h, from, to) = (s(0)?, s(1)?, s(2)?);
                let from: Vec<char> = from.chars().collect();
                let to: Vec<char> = to.chars().collect();
                let out: String = h
                    .chars()
                    .filter_map(|c| match from.iter().position(|&x| x == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect();
                Value::Str(Cow::Owned(out))
            }
            Func::BooleanFromString => {
                // ODK Web Forms: exactly "true" or "1" (JavaRosa also takes "TRUE").
                let v = s(0)?;
                Value::Bool(v == "true" || v == "1")
            }
            Func::Uuid => Value::Str(Cow::Owned(self.fn_uuid(args, ctx)?)),
            Func::Regex => {
                let (v, p) = (s(0)?, s(1)?);
                Value::Bool(super::regex_is_match(&p, &v)?)
            }
            Func::Base64Decode => Value::Str(Cow::Owned(super::digest::base64_decode_utf8(&s(0)?))),
            _ => {
                return Err(EvalError::new(format!("{}() is not a string function", f.name())));
            }
        })
    }

    /// XPath 1.0 `substring`: 1-based, rounded positions; the characters
    /// whose position p satisfies `round(start) <= p < round(start) + round(len)`.
    fn fn_substring(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<String> {
        let st = self.eval_str(&args[0], ctx)?;
        let start = js_round(self.eval_num(&args[1], ctx)?);
        let end = match args.get(2) {
            Some(l) => start + js_round(self.eval_num(l, ctx)?),
            None => f64::INFINITY,
        };
        if start.is_nan() || end.is_nan() || st.is_empty() {
            return Ok(String::new());
        }
        let len = utf16_len(&st) as f64;
        let from = start.max(1.0);
        let to = end.min(len + 1.0);
        if to <= from {
            return Ok(String::new());
        }
        Ok(utf16_slice(&st, from as usize - 1, to as usize - 1))
    }

    /// ODK `substr(s, start[, end])`: 0-based, end exclusive, negative
    /// indexes count from the end; arguments read with parseInt.
    fn fn_substr(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<String> {
        let st = self.eval_str(&args[0], ctx)?;
        let len = utf16_len(&st) as f64;
        if len == 0.0 {
            return Ok(String::new());
        }
        let mut start = parse_int(&self.eval_str(&args[1], ctx)?);
        let mut end = match args.get(2) {
            Some(e) => parse_int(&self.eval_str(e, ctx)?),
            None => len,
        };
        if start < 0.0 {
            start += len;
        }
        if end < 0.0 {
            end += len;
        }
        // A NaN bound (no digits) gives "", as in ODK Web Forms.
        if start.is_nan() || end.is_nan() {
            return Ok(String::new());
        }
        let (start, end) = (start.clamp(0.0, len), end.clamp(0.0, len));
        if start > end {
            return Ok(String::new());
        }
        Ok(utf16_slice(&st, start as usize, end as usize))
    }

    fn fn_uuid(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<String> {
        let mut out = self.env.uuid();
        let Some(l) = args.first() else {
            return Ok(out);
        };
        let n = self.eval_num(l, ctx)?;
        if n.is_nan() {
            return Err(EvalError::new("uuid() expects a number for the length"));
        }
        // JavaScript's slice(0, n): a negative n counts back from the end.
        let n = if n < 0.0 { (36.0 + n.ceil()).max(0.0) } else { n.min(10_000.0) } as usize;
        while out.len() < n {
            out.push_str(&self.env.uuid());
        }
        out.truncate(n);
        Ok(out)
    }
}

/// JavaScript's `Math.round`: halves go towards +infinity.
pub(crate) fn js_round(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let f = x.floor();
    if x - f >= 0.5 { f + 1.0 } else { f }
}
