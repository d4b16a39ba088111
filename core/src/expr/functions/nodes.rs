//! Functions over node-sets of repeats and secondary instances:
//! `randomize`, `indexed-repeat`, `pulldata`.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::expr::ast::Expr;
use crate::expr::doc::NodeId;
use crate::expr::eval::{Context, EvalResult, Evaluator};
use crate::expr::value::Value;

const MAX_INT_32: i64 = 2_147_483_647;

/// The Park–Miller "minimal standard" generator of the ODK XForms spec,
/// seeded as JavaRosa does (via ODK Web Forms' `JavaRosaPRNG`).
#[derive(Debug, Clone)]
pub struct ParkMiller {
    seed: i64,
}

impl ParkMiller {
    /// A numeric seed: NaN is 0, ±Infinity saturate, fractions truncate
    /// (Java's double-to-long).
    pub fn from_number(seed: f64) -> ParkMiller {
        let s: i128 = if seed.is_nan() {
            0
        } else if seed == f64::INFINITY {
            i128::from(i64::MAX)
        } else if seed == f64::NEG_INFINITY {
            i128::from(i64::MIN)
        } else {
            // Exact for every integer-valued double in i128's range.
            seed.trunc().clamp(-1.7e38, 1.7e38) as i128
        };
        ParkMiller::from_i128(s)
    }

    fn from_i128(seed: i128) -> ParkMiller {
        let mut s = (seed % i128::from(MAX_INT_32)) as i64;
        if s <= 0 {
            s += MAX_INT_32 - 1;
        }
        ParkMiller { seed: s }
    }

    /// A text seed: the first 8 bytes of its SHA-256 as a signed integer.
    pub fn from_text(text: &str) -> ParkMiller {
        let h = Sha256::digest(text.as_bytes());
        let mut b = [0u8; 8];
        b.copy_from_slice(&h[..8]);
        ParkMiller::from_i128(i128::from(i64::from_be_bytes(b)))
    }

    pub fn next_f64(&mut self) -> f64 {
        self.seed = self.seed * 16_807 % MAX_INT_32;
        (self.seed - 1) as f64 / (MAX_INT_32 - 1) as f64
    }
}

/// The shuffle of the spec (inside-out Fisher–Yates).
/// The order `randomize(items, seed)` puts `len` items in: the seed is a
/// number, or text when it is not one (as `randomize()` reads its second
/// argument). For choice lists with `randomize=true seed=...`.
pub fn seeded_order(len: usize, seed: &str) -> Vec<usize> {
    let n = crate::expr::string_to_number(seed);
    let mut prng = if !n.is_nan() {
        ParkMiller::from_number(n)
    } else if seed.is_empty() {
        ParkMiller::from_number(0.0)
    } else {
        ParkMiller::from_text(seed)
    };
    let idx: Vec<usize> = (0..len).collect();
    shuffle(&idx, || prng.next_f64())
}

fn shuffle<T: Copy>(values: &[T], mut random: impl FnMut() -> f64) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(values.len());
    for (i, &v) in values.iter().enumerate() {
        let j = ((random() * (i + 1) as f64).floor() as usize).min(i);
        if j == i {
            out.push(v);
        } else {
            let moved = out[j];
            out.push(moved);
            out[j] = v;
        }
    }
    out
}

impl<'a> Evaluator<'a> {
    pub(super) fn fn_randomize(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<Value<'a>> {
        let nodes = self.arg_nodes(args, 0, ctx, "randomize")?;
        let Some(seed_expr) = args.get(1) else {
            return Ok(Value::Nodes(shuffle(&nodes, || self.env.random())));
        };
        let seed = self.eval(seed_expr, ctx)?;
        let n = self.num(&seed);
        let mut prng = if n.is_nan() {
            let s = seed.to_str(self.doc);
            if s.is_empty() { ParkMiller::from_number(0.0) } else { ParkMiller::from_text(&s) }
        } else {
            ParkMiller::from_number(n)
        };
        Ok(Value::Nodes(shuffle(&nodes, || prng.next_f64())))
    }

    /// Whether `node` is `ancestor` or below it.
    fn is_within(&self, ancestor: NodeId, node: NodeId) -> bool {
        let mut n = Some(node);
        while let Some(x) = n {
            if x == ancestor {
                return true;
            }
            n = self.doc.parent(x);
        }
        false
    }

    /// `indexed-repeat(arg, repeat1, index1[, repeat2, index2...])`: `arg`
    /// inside the index1-th repeat1, inside that the index2-th repeat2, ...
    pub(super) fn fn_indexed_repeat(
        &self,
        args: &'a [Expr],
        ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        if args.len().is_multiple_of(2) {
            return Err(crate::expr::eval::EvalError::new(
                "indexed-repeat() needs a value and then repeat and index pairs",
            ));
        }
        let mut pairs: Vec<(Vec<NodeId>, f64)> = Vec::new();
        for pair in args[1..].chunks(2) {
            let pos = self.eval_num(&pair[1], ctx)?;
            if pos.is_nan() {
                return Ok(Value::Nodes(Vec::new()));
            }
            let repeats = match self.eval(&pair[0], ctx)? {
                Value::Nodes(n) => n,
                _ => Vec::new(),
            };
            if repeats.is_empty() {
                return Ok(Value::Nodes(Vec::new()));
            }
            pairs.push((repeats, pos));
        }
        // Outer repeats first, whatever order they were written in.
        pairs.sort_by(|(a, _), (b, _)| {
            let a_in_b =
                a.first().zip(b.first()).is_some_and(|(&x, &y)| x != y && self.is_within(y, x));
            let b_in_a =
                a.first().zip(b.first()).is_some_and(|(&x, &y)| x != y && self.is_within(x, y));
            if b_in_a {
                std::cmp::Ordering::Less
            } else if a_in_b {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        let mut chosen: Option<NodeId> = None;
        for (repeats, pos) in pairs {
            let candidates: Vec<NodeId> = match chosen {
                Some(c) => repeats.into_iter().filter(|&r| self.is_within(c, r)).collect(),
                None => repeats,
            };
            let idx = pos - 1.0;
            let pick = if idx >= 0.0 && idx.fract() == 0.0 {
                candidates.get(idx as usize).copied()
            } else {
                None
            };
            match pick {
                Some(p) => chosen = Some(p),
                None => return Ok(Value::Nodes(Vec::new())),
            }
        }
        let targets = match self.eval(&args[0], ctx)? {
            Value::Nodes(n) => n,
            _ => Vec::new(),
        };
        let Some(c) = chosen else {
            return Ok(Value::Nodes(Vec::new()));
        };
        Ok(Value::Nodes(targets.into_iter().filter(|&t| self.is_within(c, t)).collect()))
    }

    /// `pulldata(instance, column, key_column, key)`: the `column` of the first
    /// row of `instance('instance')/root/item` whose `key_column` is `key`.
    pub(super) fn fn_pulldata(&self, args: &'a [Expr], ctx: &Context) -> EvalResult<Value<'a>> {
        let id = self.eval_str(&args[0], ctx)?;
        let want = self.eval_str(&args[1], ctx)?;
        let key_col = self.eval_str(&args[2], ctx)?;
        let key = self.eval_str(&args[3], ctx)?;
        let doc = self.doc;
        let Some(root) = doc.instance(&id) else {
            return Ok(Value::Str(Cow::Borrowed("")));
        };
        let mut top = doc.first_child(root);
        while let Some(r) = top {
            let mut item = doc.first_child(r);
            while let Some(it) = item {
                if doc
                    .child_named(it, &key_col)
                    .is_some_and(|k| doc.string_value(k) == key.as_ref())
                {
                    let v = doc
                        .child_named(it, &want)
                        .map_or(Cow::Borrowed(""), |n| doc.string_value(n));
                    return Ok(Value::Str(v));
                }
                item = doc.next_sibling(it);
            }
            top = doc.next_sibling(r);
        }
        Ok(Value::Str(Cow::Borrowed("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Document, FixedEnv, MemDoc, evaluate, parse};

    #[test]
    fn indexed_repeat_walks_nested_repeats_in_any_order() {
        let xml = "<data>\
            <hh><name>A</name><m><age>1</age></m><m><age>2</age></m></hh>\
            <hh><name>B</name><m><age>3</age></m><m><age>4</age></m><m><age>5</age></m></hh>\
            </data>";
        let Ok(doc) = MemDoc::from_xml(xml) else { panic!("xml") };
        let env = FixedEnv::default();
        let run = |src: &str| {
            let Ok(e) = parse(src) else {
                return "parse error".to_string();
            };
            match evaluate(&e, &doc, &env, doc.root()) {
                Ok(v) => v.to_str(&doc).into_owned(),
                Err(e) => format!("error: {e}"),
            }
        };
        assert_eq!(run("indexed-repeat(/data/hh/m/age, /data/hh, 2, /data/hh/m, 3)"), "5");
        assert_eq!(run("indexed-repeat(/data/hh/m/age, /data/hh/m, 1, /data/hh, 2)"), "3");
        assert_eq!(run("indexed-repeat(/data/hh/name, /data/hh, 2)"), "B");
        assert_eq!(run("indexed-repeat(/data/hh/m/age, /data/hh, 1, /data/hh/m, 3)"), "");
        assert_eq!(run("count(indexed-repeat(/data/hh/m, /data/hh, 2))"), "3");
    }

    #[test]
    fn park_miller_matches_the_minimal_standard() {
        // Park & Miller 1988: from seed 1, the 10000th value is 1043618065.
        let mut p = ParkMiller::from_number(1.0);
        for _ in 0..10_000 {
            p.next_f64();
        }
        assert_eq!(p.seed, 1_043_618_065);
    }
}
