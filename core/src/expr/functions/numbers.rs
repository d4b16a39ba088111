//! Number functions, including the node-set aggregates `sum`, `max`, `min`
//! and `count-non-empty`.

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
                    // ODK Web Forms: the sum of no nodes is NaN (XPath 1.0 says 0).
                    f64::NAN
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
    /// whether the number (or total weight) of true items is within
    /// [min, max]. Items are each node of a node-set, true when non-empty
    /// (XPath boolean); a max of -1 means no upper bound (ODK Web Forms).
    pub(super) fn fn_checklist(
        &self,
        f: Func,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        let min = self.eval_num(&args[0], ctx)?;
        let mut max = self.eval_num(&args[1], ctx)?;
        if max == -1.0 {
            if min < 1.0 {
                return Ok(Value::Bool(true));
            }
            max = f64::INFINITY;
        }
        let mut satisfied = 0.0;
        if f == Func::Checklist {
            for a in &args[2..] {
                for item in self.items(a, ctx)? {
                    if self.item_bool(&item) {
                        satisfied += 1.0;
                        if satisfied > max {
                            return Ok(Value::Bool(false));
                        }
                    }
                }
            }
        } else {
            if !(args.len() - 2).is_multiple_of(2) {
                return Err(EvalError::new("weighted-checklist() needs value and weight pairs"));
            }
            for pair in args[2..].chunks(2) {
                let values = self.items(&pair[0], ctx)?;
                let weights = self.items(&pair[1], ctx)?;
                for (j, w) in weights.iter().enumerate() {
                    let Some(v) = values.get(j) else {
                        return Ok(Value::Bool(false));
                    };
                    if self.item_bool(v) {
                        satisfied += self.num(w);
                        if satisfied > max {
                            return Ok(Value::Bool(false));
                        }
                    }
                }
            }
        }
        Ok(Value::Bool(satisfied >= min))
    }

    /// An item is true when it is a node whose value is not blank (ODK Web
    /// Forms' node boolean), or a true value.
    fn item_bool(&self, v: &Value<'_>) -> bool {
        match v {
            Value::Nodes(ns) => {
                ns.first().is_some_and(|&k| !self.doc.string_value(k).trim().is_empty())
            }
            other => other.to_bool(),
        }
    }

    /// A value as a list: each node of a node-set (as a one-node set), or
    /// the value itself.
    fn items(&self, e: &'a Expr, ctx: &Context) -> EvalResult<Vec<Value<'a>>> {
        Ok(match self.eval(e, ctx)? {
            Value::Nodes(ns) => ns.into_iter().map(|k| Value::Nodes(vec![k])).collect(),
            v => vec![v],
        })
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
