//! `panel.csv`: one row per participant and round, with the main-table
//! answers of every exported form side by side (e.g. the capacity scores
//! of round 1, 2 and 3 in rows of one column), so that change across rounds
//! needs no joins. Read in participant order from an index: one row in
//! memory at a time. With `--format stata`, also `panel.dta`.

use std::path::{Path, PathBuf};

use super::csv::CsvFile;
use super::dta::DtaFile;
use super::record::{self, ParticipantSwap, RowMeta, ValueStyle};
use super::report::{Report, ReportKind};
use super::schema::{Column, ColumnRole, FormSchema};
use super::{
    ExportError, ExportOptions, ExportSource, Format, Order, StoredResponse, Var, column_names,
    exported_participant, stata, submission_xml,
};

/// The panel's columns, each named by its header (`name`, and `leaf` for
/// the Stata/SPSS names), with the form it comes from (None for
/// participant and round).
#[derive(Debug)]
pub struct Layout {
    pub columns: Vec<(Option<usize>, Column)>,
    /// Valid (Stata, SPSS) names per column.
    pub names: Vec<(String, String)>,
    /// Per form: the column of its KEY, then (main-table column index) of
    /// each of its columns that follow.
    offsets: Vec<(usize, Vec<usize>)>,
}

impl Layout {
    /// The variables for the Stata and SPSS files.
    pub(crate) fn vars<'a>(&'a self, schemas: &'a [(FormSchema, Option<String>)]) -> Vec<Var<'a>> {
        self.columns
            .iter()
            .zip(&self.names)
            .map(|((f, column), (stata, spss))| {
                let (schema, lang) = &schemas[f.unwrap_or(0)];
                Var { schema, lang: lang.as_deref(), column, stata, spss }
            })
            .collect()
    }
}

pub fn layout(schemas: &[(FormSchema, Option<String>)]) -> Layout {
    let named = |name: &str, label: &str| {
        let mut c = Column::meta(name, label);
        c.leaf = name.to_string();
        c
    };
    let mut columns = vec![
        (None, named("participant", "Participant (pseudonym unless --include-pii)")),
        (None, named("round", "Round of the study (1 = baseline)")),
    ];
    let mut offsets = Vec::new();
    for (f, (form_cols, (s, _))) in self::columns(schemas).into_iter().zip(schemas).enumerate() {
        let key = format!("{}-KEY", s.form_id);
        offsets.push((columns.len(), form_cols.iter().map(|(i, _)| *i).collect()));
        columns.push((Some(f), named(&key, &format!("KEY of the {} response", s.form_id))));
        for (i, name) in form_cols {
            let mut c = s.tables[0].columns[i].clone();
            c.name.clone_from(&name);
            c.leaf = name;
            columns.push((Some(f), c));
        }
    }
    let plain: Vec<Column> = columns.iter().map(|(_, c)| c.clone()).collect();
    Layout { names: column_names(&plain), columns, offsets }
}

/// Panel columns: for each form, (main-table column index, panel name).
fn columns(schemas: &[(FormSchema, Option<String>)]) -> Vec<Vec<(usize, String)>> {
    let mut count = std::collections::HashMap::<&str, usize>::new();
    for (s, _) in schemas {
        for c in s.tables[0].columns.iter().filter(|c| c.role != ColumnRole::Meta) {
            *count.entry(c.leaf.as_str()).or_default() += 1;
        }
    }
    schemas
        .iter()
        .map(|(s, _)| {
            s.tables[0]
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.role != ColumnRole::Meta)
                .map(|(i, c)| {
                    let name = if count[c.leaf.as_str()] > 1 {
                        format!("{}-{}", s.form_id, c.name)
                    } else {
                        c.leaf.clone()
                    };
                    (i, name)
                })
                .collect()
        })
        .collect()
}

/// Writes `panel.csv` (and `panel.dta` for Stata); the files and the rows.
pub fn write<S: ExportSource>(
    source: &S,
    opts: &ExportOptions,
    out: &Path,
    schemas: &[(FormSchema, Option<String>)],
    layout: &Layout,
    secret: Option<&[u8; 32]>,
    report: &mut Report,
) -> Result<(Vec<PathBuf>, u64), ExportError> {
    let h: Vec<&str> = layout.columns.iter().map(|(_, c)| c.name.as_str()).collect();
    let mut csv = CsvFile::create(&out.join("panel.csv"), &h)?;
    let mut dta = match opts.format {
        Some(Format::Stata) => {
            let vars = layout.vars(schemas);
            let (vars, labels) = stata::dta_variables(
                vars.iter().map(|v| (v.schema, v.lang, v.column, v.stata)),
                opts.labels,
            );
            let label = "Panel: one row per participant and round";
            Some(DtaFile::create(&out.join("panel.dta"), label, vars, labels)?)
        }
        _ => None,
    };
    let width = h.len();
    let mut current: Option<(String, Option<i64>)> = None;
    let mut row = vec![String::new(); width];
    let mut filled = vec![false; schemas.len()];
    let mut rows = record::Rows::default();
    let flush = |csv: &mut CsvFile,
                 dta: &mut Option<DtaFile>,
                 row: &mut Vec<String>,
                 filled: &mut Vec<bool>| {
        let mut r = Ok(());
        if filled.iter().any(|f| *f) {
            r = csv.write(row);
            if let (Ok(()), Some(d)) = (&r, dta.as_mut()) {
                r = d.write(row);
            }
        }
        row.iter_mut().for_each(String::clear);
        filled.iter_mut().for_each(|f| *f = false);
        r
    };
    source.responses(&opts.filter, Order::Participant, &mut |r: StoredResponse| {
        let Some(f) = schemas.iter().position(|(s, _)| s.form_id == r.form_id) else {
            return Ok(());
        };
        let (schema, lang) = &schemas[f];
        if !schema.versions.contains(&r.form_version) {
            return Ok(());
        }
        // Problems were reported by the main pass already.
        let Some(xml) = submission_xml(&r, opts.identity.as_ref(), &mut |_, _, _| Ok(()))? else {
            return Ok(());
        };
        let key = (r.participant_id.clone().unwrap_or_default(), r.round);
        if current.as_ref() != Some(&key) {
            flush(&mut csv, &mut dta, &mut row, &mut filled)?;
            current = Some(key);
        }
        if filled[f] {
            report.item(
                ReportKind::PanelDuplicate,
                &r,
                "another response of this participant, round and form came earlier; the panel keeps this later one",
            )?;
        }
        let participant = exported_participant(&r, secret);
        let swap = r
            .participant_id
            .as_deref()
            .filter(|_| secret.is_some())
            .map(|raw| ParticipantSwap { raw, exported: &participant });
        let round = r.round.map(|n| n.to_string()).unwrap_or_default();
        let meta = RowMeta {
            key: &r.instance_id,
            participant: &participant,
            round: &round,
            form_version: &r.form_version,
            device_id: &r.device_id,
            enumerator: "",
            submitted: &r.finalized_at,
            received: &r.received_at,
        };
        let style = ValueStyle { labels: opts.labels, lang: lang.as_deref() };
        if record::rows(schema, &xml, &meta, style, swap, &mut rows).is_err() {
            return Ok(());
        }
        let main = rows.main();
        row[0] = participant.clone();
        row[1] = round;
        let (at, cols) = &layout.offsets[f];
        row[*at] = r.instance_id.clone();
        for (k, i) in cols.iter().enumerate() {
            row[at + 1 + k].clone_from(&main[*i]);
        }
        filled[f] = true;
        Ok(())
    })?;
    flush(&mut csv, &mut dta, &mut row, &mut filled)?;
    let n = csv.rows;
    let mut files = vec![csv.finish()?];
    if let Some(d) = dta {
        files.push(d.finish()?);
    }
    Ok((files, n))
}
