//! Number functions, including the node-set aggregates `sum`, `max`, `min`
//! and `count-non-empty`.

use std::borrow::Cow;

use super::Func;
use super::strings::js_round;
use crate::expr::ast::Expr;
use crate::expr::eval::{Context, EvalError, EvalResult, Evaluator};
use crate::expr::value::Value;

impl<'a> Evaluator<'a> {
    /// Numbers of all arguments, node-sets contributing each node; stops at
    /// the first NaN (ODK Web Forms' `max`/`min`).
    fn all_numbers(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<Vec<f64>> {
        let mut out = Vec::new();
        for a in args {
            match self.eval(a, ctx)? {
                Value::Nodes(ns) => {
                    for n in ns {
                        let v = self.num(&Value::Nodes(vec![n]));
                        out.push(v);
                        if v.is_nan() {
                            return Ok(out);
                        }
                    }
                }
                v => {
                    let x = self.num(&v);
                    out.push(x);
                    if x.is_nan() {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    pub(super) fn number_function(
        &self,
        f: Func,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        let n = |i: usize| self.eval_num(&args[i], ctx);
        let x = match f {
            Func::Number => match args.first() {
                None => self.num(&Value::Nodes(vec![ctx.node])),
                Some(a) => self.eval_num(a, ctx)?,
            },
            Func::Sum => {
                let nodes = self.arg_nodes(args, 0, ctx, "sum")?;
                if nodes.is_empty() {
                    // XPath 1.0: the sum of no nodes is 0.
                    0.0
                } else {
                    nodes.iter().map(|&k| self.num(&Value::Nodes(vec![k]))).sum()
                }
            }
            Func::CountNonEmpty => {
                let nodes = self.arg_nodes(args, 0, ctx, "count-non-empty")?;
                nodes.iter().filter(|&&k| !self.doc.string_value(k).is_empty()).count() as f64
            }
            Func::Floor => n(0)?.floor(),
            Func::Ceiling => n(0)?.ceil(),
            Func::Round => {
                let v = n(0)?;
                let d = match args.get(1) {
                    Some(_) => n(1)?,
                    None => 0.0,
                };
                round_half_away(v, d)
            }
            Func::Int => {
                let v = n(0)?;
                v.trunc()
            }
            Func::Random => self.env.random(),
            Func::Max | Func::Min => {
                let all = self.all_numbers(args, ctx)?;
                if all.is_empty() || all.iter().any(|v| v.is_nan()) {
                    f64::NAN
                } else if f == Func::Max {
                    all.into_iter().fold(f64::NEG_INFINITY, f64::max)
                } else {
                    all.into_iter().fold(f64::INFINITY, f64::min)
                }
            }
            Func::Pow => n(0)?.powf(n(1)?),
            Func::Log => n(0)?.ln(),
            Func::Log10 => n(0)?.log10(),
            Func::Abs => n(0)?.abs(),
            Func::Sin => n(0)?.sin(),
            Func::Cos => n(0)?.cos(),
            Func::Tan => n(0)?.tan(),
            Func::Asin => n(0)?.asin(),
            Func::Acos => n(0)?.acos(),
            Func::Atan => n(0)?.atan(),
            Func::Atan2 => n(0)?.atan2(n(1)?),
            Func::Sqrt => n(0)?.sqrt(),
            Func::Exp => n(0)?.exp(),
            Func::Exp10 => 10f64.powf(n(0)?),
            Func::Pi => std::f64::consts::PI,
            _ => {
                return Err(EvalError::new(format!("{}() is not a number function", f.name())));
            }
        };
        Ok(Value::Num(x))
    }

    /// `checklist(min, max, v...)` and `weighted-checklist(min, max, v, w, ...)`:
    /// whether the count (or weight) of true values is within [min, max];
    /// -1 means no bound.
    pub(super) fn fn_checklist(
        &self,
        f: Func,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        let min = self.eval_num(&args[0], ctx)?;
        let max = self.eval_num(&args[1], ctx)?;
        let mut values: Vec<Value<'a>> = Vec::new();
        for a in &args[2..] {
            match self.eval(a, ctx)? {
                Value::Nodes(ns) => values.extend(ns.into_iter().map(|k| Value::Nodes(vec![k]))),
                v => values.push(v),
            }
        }
        let total: f64 = if f == Func::Checklist {
            values.iter().filter(|v| self.truthy(v)).count() as f64
        } else {
            if !values.len().is_multiple_of(2) {
                return Err(EvalError::new("weighted-checklist() needs value and weight pairs"));
            }
            values.chunks(2).filter(|p| self.truthy(&p[0])).map(|p| self.num(&p[1])).sum()
        };
        let ok = (min < 0.0 || total >= min) && (max < 0.0 || total <= max);
        Ok(Value::Bool(ok))
    }

    /// A checklist item counts when its string reads as a true boolean.
    fn truthy(&self, v: &Value<'_>) -> bool {
        match v {
            Value::Nodes(_) | Value::Str(_) => {
                let s: Cow<'_, str> = match v {
                    Value::Nodes(ns) => {
                        ns.first().map_or(Cow::Borrowed(""), |&k| self.doc.string_value(k))
                    }
                    Value::Str(s) => Cow::Borrowed(s.as_ref()),
                    _ => Cow::Borrowed(""),
                };
                s.eq_ignore_ascii_case("true") || s == "1"
            }
            other => other.to_bool(),
        }
    }
}

/// ODK Web Forms' `round(x, d)`: half away from zero, at `d` decimals.
pub(crate) fn round_half_away(v: f64, d: f64) -> f64 {
    if v.is_nan() || d.is_nan() {
        return f64::NAN;
    }
    let sign = if v < 0.0 { -1.0 } else { 1.0 };
    let m = 10f64.powf(d);
    js_round(v.abs() * m) / m * sign
}
