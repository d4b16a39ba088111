//! ODK's XPath dialect as XLSForm authors write it: parser, evaluator,
//! function library and dependency extraction.
//!
//! - [`parse`] turns source into an [`Expr`] (errors carry a 1-based
//!   column); `expr.to_string()` prints it back as XPath.
//! - [`Document`] is the tree the evaluator reads (the session implements it;
//!   [`MemDoc`] is a small in-memory one), [`Env`] is the clock, randomness,
//!   uuids and labels ([`FixedEnv`] is deterministic, [`SystemEnv`] is real).
//! - [`evaluate`] (or an [`Evaluator`] for repeated use) gives a [`Value`];
//!   the `eval_*` helpers convert with ODK's rules.
//! - [`refs`] lists `${}` references, function names and referenced paths for
//!   form checks and the session's dependency graph.
//!
//! ```
//! use enumera_core::expr::{parse, evaluate, Document, FixedEnv, MemDoc};
//!
//! let doc = MemDoc::from_xml("<data><age>34</age><consent>yes</consent></data>").unwrap();
//! let expr = parse("/data/age >= 18 and /data/consent = 'yes'").unwrap();
//! let env = FixedEnv::default();
//! let v = evaluate(&expr, &doc, &env, doc.root()).unwrap();
//! assert!(v.to_bool());
//! assert_eq!(expr.to_string(), "/data/age >= 18 and /data/consent = 'yes'");
//! ```

mod ast;
mod doc;
mod env;
mod eval;
mod functions;
mod lexer;
mod memdoc;
mod parser;
mod print;
#[cfg(test)]
mod proptests;
pub mod refs;
#[cfg(any(test, feature = "testdata"))]
pub mod testdata;
mod value;

pub use ast::{Axis, BinOp, Call, Expr, Filter, NodeTest, Path, Step};
pub use doc::{Document, NodeId, NodeKind, default_compare_order};
pub use env::{Env, FixedEnv, SystemEnv};
pub use eval::{
    Context, EvalError, EvalResult, Evaluator, evaluate, evaluate_bool, evaluate_string,
};
pub use functions::{Func, ParkMiller, is_known_function, now_string, seeded_order, today_string};
pub use memdoc::{MemDoc, XmlError};
pub use parser::{ParseError, parse};
pub use value::{Value, number_to_string, string_to_number};
