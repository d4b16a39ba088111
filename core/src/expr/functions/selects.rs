//! Select-question functions: space-separated lists of choice values, and
//! the label hooks (`jr:choice-name`, `jr:itext`).

use std::borrow::Cow;

use super::Func;
use super::strings::{is_xml_space, parse_int};
use crate::expr::ast::Expr;
use crate::expr::eval::{Context, EvalError, EvalResult, Evaluator};
use crate::expr::value::Value;

fn items(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_xml_space).filter(|w| !w.is_empty())
}

impl<'a> Evaluator<'a> {
    pub(super) fn select_function(
        &self,
        f: Func,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        let s = |i: usize| self.eval_str(&args[i], ctx);
        Ok(match f {
            Func::Selected => {
                let list = s(0)?;
                let v = s(1)?;
                let v = v.trim_matches(is_xml_space);
                Value::Bool(items(&list).any(|i| i == v))
            }
            Func::CountSelected => Value::Num(items(&s(0)?).count() as f64),
            Func::SelectedAt => {
                let list = s(0)?;
                let i = parse_int(&s(1)?);
                let item = if i >= 0.0 { items(&list).nth(i as usize) } else { None };
                Value::Str(Cow::Owned(item.unwrap_or("").to_string()))
            }
            Func::ChoiceName => {
                let value = s(0)?;
                let path = s(1)?;
                let parsed = crate::expr::parse(path.trim()).map_err(|e| {
                    EvalError::new(format!("jr:choice-name(): bad path '{path}': {e}"))
                })?;
                // The path is evaluated here, so it borrows only locally.
                let node = {
                    let ev = Evaluator::new(self.doc, self.env, self.current);
                    match ev.eval(&parsed, ctx)? {
                        Value::Nodes(ns) => ns.first().copied(),
                        _ => None,
                    }
                };
                let label = node.and_then(|n| self.env.choice_label(self.doc, n, &value));
                Value::Str(Cow::Owned(label.unwrap_or_default()))
            }
            Func::Itext => {
                let id = s(0)?;
                Value::Str(Cow::Owned(self.env.itext(&id).unwrap_or_default()))
            }
            _ => {
                return Err(EvalError::new(format!("{}() is not a select function", f.name())));
            }
        })
    }
}
