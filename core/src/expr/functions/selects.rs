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
                // As in ODK Web Forms, a path that finds nothing is an error.
                let node = node.ok_or_else(|| {
                    EvalError::new(format!("jr:choice-name(): no question at '{path}'"))
                })?;
                let label = self.env.choice_label(self.doc, node, &value);
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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use crate::expr::{Document, Env, FixedEnv, MemDoc, NodeId, evaluate, parse};

    /// Labels come from the session; this one knows one select.
    struct Labels(FixedEnv);

    impl Env for Labels {
        fn now(&self) -> DateTime<Utc> {
            self.0.now()
        }
        fn random(&self) -> f64 {
            self.0.random()
        }
        fn uuid(&self) -> String {
            self.0.uuid()
        }
        fn language(&self) -> Option<&str> {
            Some("Português (pt)")
        }
        fn itext(&self, id: &str) -> Option<String> {
            (id == "/data/q:label").then(|| "Pergunta".to_string())
        }
        fn choice_label(&self, doc: &dyn Document, node: NodeId, value: &str) -> Option<String> {
            (doc.name(node) == "fruit" && value == "a").then(|| "Ananás".to_string())
        }
    }

    fn run(src: &str) -> String {
        let Ok(doc) = MemDoc::from_xml("<data><fruit>a</fruit><g><x/></g></data>") else {
            return "bad xml".into();
        };
        let env = Labels(FixedEnv::default());
        let Ok(e) = parse(src) else {
            return "parse error".into();
        };
        let ctx = doc.node_at("/data/g/x").unwrap_or(doc.root());
        match evaluate(&e, &doc, &env, ctx) {
            Ok(v) => v.to_str(&doc).into_owned(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn label_functions_ask_the_environment() {
        assert_eq!(run("jr:choice-name(/data/fruit, '/data/fruit')"), "Ananás");
        assert_eq!(run("jr:choice-name('a', ' ../../fruit ')"), "Ananás");
        assert_eq!(run("jr:choice-name('b', '/data/fruit')"), "");
        assert!(run("jr:choice-name('a', '/data/nothing')").starts_with("error: "));
        assert_eq!(run("jr:itext('/data/q:label')"), "Pergunta");
        assert_eq!(run("jr:itext('other')"), "");
    }
}
