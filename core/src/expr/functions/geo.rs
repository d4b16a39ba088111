//! Geographic functions over ODK geopoint/geotrace/geoshape strings.

use super::Func;
use crate::expr::ast::Expr;
use crate::expr::eval::{Context, EvalError, EvalResult, Evaluator};
use crate::expr::value::Value;

impl<'a> Evaluator<'a> {
    pub(super) fn geo_function(
        &self,
        f: Func,
        _args: &'a [Expr],
        _ctx: &Context,
    ) -> EvalResult<Value<'a>> {
        Err(EvalError::new(format!("{}() is not implemented yet", f.name())))
    }
}
