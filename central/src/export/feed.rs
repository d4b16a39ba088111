//! The data API's feed (issue 19): a form's tables as the CSV export
//! writes them (Enumera's layout, choice names, personal data left out,
//! participants pseudonymized), as JSON rows keyed by column, so that
//! `jsonlite::fromJSON` and `pandas.DataFrame` read a page straight into a
//! data frame. Repeats are tables of their own, joined to their parent by
//! `PARENT_KEY` as in the CSVs. The rows come from the export's own reader
//! (`record::rows`), so the feed and the files never disagree.

use serde_json::{Map, Value};

use super::payload::{exported_participant, submission_xml};
use super::record::{self, ParticipantSwap, RowMeta, ValueStyle};
use super::{
    ExportError, ExportSource, Filter, FormSchema, Layout, StoredResponse, resolve_lang, schemas,
};

/// A form's tables, ready to turn responses into rows.
#[derive(Debug)]
pub struct Feed {
    pub schema: FormSchema,
    lang: Option<String>,
}

impl Feed {
    /// Every published version of `form_id` merged into one set of tables;
    /// `None` when the form has no published version central can read.
    pub fn of<S: ExportSource>(source: &S, form_id: &str) -> Result<Option<Feed>, ExportError> {
        let filter = Filter { form: Some(form_id.to_string()), ..Filter::default() };
        let schema =
            schemas(source.instruments(&filter)?, false, Layout::Enumera).into_iter().next();
        Ok(schema.map(|schema| Feed { lang: resolve_lang(None, &schema), schema }))
    }

    /// The index of the table named `name` (its CSV's file stem).
    pub fn table(&self, name: &str) -> Option<usize> {
        self.schema.tables.iter().position(|t| t.name == name)
    }

    /// The column names of table `t`, in order.
    pub fn columns(&self, t: usize) -> Vec<String> {
        self.schema.tables[t].columns.iter().map(|c| c.name.clone()).collect()
    }

    /// Appends the rows `r` has in table `t`; `Err(reason)` (nothing
    /// appended) when central cannot read the response (sealed, or its
    /// payload not matching its signed entry), as the export's report says.
    pub fn rows<S: super::ExportSource + ?Sized>(
        &self,
        source: &S,
        r: &StoredResponse,
        secret: &[u8; 32],
        t: usize,
        out: &mut Vec<Map<String, Value>>,
    ) -> Result<Result<(), String>, ExportError> {
        let mut reason = String::new();
        let xml = submission_xml(source, r, None, &mut |_, _, detail| {
            reason = detail.to_string();
            Ok(())
        })?;
        let Some(xml) = xml else { return Ok(Err(reason)) };
        let participant = exported_participant(r, Some(secret));
        let round = r.round.map(|n| n.to_string()).unwrap_or_default();
        let meta = RowMeta {
            key: &r.instance_id,
            participant: &participant,
            round: &round,
            form_version: &r.form_version,
            device_id: &r.device_id,
            enumerator: r.enumerator.as_deref().unwrap_or(""),
            submitted: &r.finalized_at,
            received: &r.received_at,
            ..RowMeta::default()
        };
        let style = ValueStyle::new(false, self.lang.as_deref());
        let swap =
            r.participant_id.as_deref().map(|raw| ParticipantSwap { raw, exported: &participant });
        let mut rows = record::Rows::new(false);
        if let Err(e) = record::rows(&self.schema, &xml, &meta, style, swap, &mut rows) {
            return Ok(Err(e.to_string()));
        }
        let columns = &self.schema.tables[t].columns;
        for (table, values) in rows.iter() {
            if *table != t {
                continue;
            }
            let row = columns
                .iter()
                .zip(values)
                .map(|(c, v)| (c.name.clone(), cell(c.is_numeric(), v)))
                .collect();
            out.push(row);
        }
        Ok(Ok(()))
    }
}

/// A cell as JSON: empty is null; a number column's numbers are numbers.
fn cell(numeric: bool, v: &str) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    if numeric && let Some(n) = v.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        return match v.parse::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => Value::Number(n),
        };
    }
    Value::String(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_null_numbers_or_text() {
        assert_eq!(cell(true, ""), Value::Null);
        assert_eq!(cell(false, ""), Value::Null);
        assert_eq!(cell(true, "12"), Value::from(12));
        assert_eq!(cell(true, "1.5"), serde_json::json!(1.5));
        assert_eq!(cell(true, "n/a"), Value::from("n/a"));
        assert_eq!(cell(false, "12"), Value::from("12"));
    }
}
