//! The panel: one row per participant and round, with the main-table
//! answers of every exported form side by side (e.g. the capacity scores
//! of round 1, 2 and 3 in rows of one column), so that change across rounds
//! needs no joins. Read in participant order from an index: one row in
//! memory at a time. As `panel.csv`, and `panel.dta` / `panel.sav` beside
//! the Stata and SPSS files.
//!
//! Names are short and the same in every file: `participant`, `round`,
//! then per form `ALIAS_key` (the KEY of its response) and its questions by
//! name. A question name that several forms share takes its form's alias as
//! a prefix (`capacity_consent`, `practice_followup_consent`), or the
//! alias's initials when that would pass Stata's 32 characters
//! (`pf_change_type_other`). A form's alias is its id without the prefix
//! all exported forms share (`p2p_capacity` -> `capacity`). The codebook
//! lists each name with the form and column it comes from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::csv::{CsvFile, CsvStyle};
use super::names::{Namer, Tool};
use super::payload::{exported_participant, submission_xml};
use super::record::{self, ParticipantSwap, RowMeta, ValueStyle};
use super::report::{Report, ReportKind};
use super::schema::{Column, FormSchema, MetaField};
use super::spool::{Plan, Spool};
use super::types::ValueType;
use super::{ExportError, ExportSource, Order, StoredResponse, TypedOut, Var};

/// The panel's columns, with the form each comes from (None for
/// participant and round) and its one name.
#[derive(Debug)]
pub struct Layout {
    pub columns: Vec<(Option<usize>, Column)>,
    pub names: Vec<String>,
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
            .map(|((f, column), name)| {
                let (schema, lang) = &schemas[f.unwrap_or(0)];
                Var { schema, lang: lang.as_deref(), column, stata: name, spss: name }
            })
            .collect()
    }
}

/// Each form's alias: its id without the `_`-separated prefix every form shares.
pub fn aliases(form_ids: &[&str]) -> Vec<String> {
    let parts: Vec<Vec<&str>> = form_ids.iter().map(|f| f.split('_').collect()).collect();
    let mut common = 0;
    if parts.len() > 1 {
        while parts.iter().all(|p| p.len() > common + 1 && p[common] == parts[0][common]) {
            common += 1;
        }
    }
    parts.iter().map(|p| p[common..].join("_")).collect()
}

fn initials(alias: &str) -> String {
    alias.split('_').filter_map(|w| w.chars().next()).collect()
}

pub fn layout(schemas: &[(FormSchema, Option<String>)]) -> Layout {
    let meta = |name: &str, field: MetaField, label: &str, vtype: ValueType| {
        let mut c = Column::meta(name, field, label);
        c.leaf = name.to_string();
        c.vtype = vtype;
        c
    };
    let mut columns = vec![
        (
            None,
            meta(
                "participant",
                MetaField::Participant,
                "Participant (pseudonym unless --include-pii)",
                ValueType::Text,
            ),
        ),
        (
            None,
            meta("round", MetaField::Round, "Round of the study (1 = baseline)", ValueType::Number),
        ),
    ];
    let ids: Vec<&str> = schemas.iter().map(|(s, _)| s.form_id.as_str()).collect();
    let aliases = aliases(&ids);
    let mut count = HashMap::<&str, usize>::new();
    for (s, _) in schemas {
        for c in s.tables[0].columns.iter().filter(|c| !c.is_meta()) {
            *count.entry(c.leaf.as_str()).or_default() += 1;
        }
    }
    let mut namer = Namer::new(Tool::Stata);
    let mut names = vec![namer.name("participant"), namer.name("round")];
    let mut offsets = Vec::new();
    for (f, (s, _)) in schemas.iter().enumerate() {
        let alias = &aliases[f];
        let prefixed = |leaf: &str| {
            let full = format!("{alias}_{leaf}");
            if full.len() <= Tool::Stata.max_len() {
                full
            } else {
                format!("{}_{leaf}", initials(alias))
            }
        };
        let mut cols = Vec::new();
        offsets.push((columns.len(), Vec::new()));
        let key = meta(
            &format!("{}-KEY", s.form_id),
            MetaField::Key,
            &format!("KEY of the {} response", s.form_id),
            ValueType::Text,
        );
        columns.push((Some(f), key));
        names.push(namer.name(&prefixed("key")));
        for (i, c) in s.tables[0].columns.iter().enumerate().filter(|(_, c)| !c.is_meta()) {
            let wanted =
                if count[c.leaf.as_str()] > 1 { prefixed(&c.leaf) } else { c.leaf.clone() };
            names.push(namer.name(&wanted));
            columns.push((Some(f), c.clone()));
            cols.push(i);
        }
        offsets[f].1 = cols;
    }
    Layout { columns, names, offsets }
}

/// What the panel wrote: its files, its rows, and its columns' types when
/// the typed files were asked for.
pub type Written = (Vec<PathBuf>, u64, Option<Vec<super::spool::Resolved>>);

/// Writes `panel.csv` (and the typed files asked for).
#[allow(clippy::too_many_arguments)]
pub fn write<S: ExportSource>(
    source: &S,
    opts: &super::ExportOptions,
    out: &Path,
    schemas: &[(FormSchema, Option<String>)],
    layout: &Layout,
    secret: Option<&[u8; 32]>,
    style: CsvStyle,
    typed: &TypedOut,
    report: &mut Report,
) -> Result<Written, ExportError> {
    let h: Vec<&str> = layout.names.iter().map(String::as_str).collect();
    let mut csv = CsvFile::create(&out.join("panel.csv"), &h, style)?;
    let mut spool = if typed.any() {
        let vars = layout.vars(schemas);
        let plans: Vec<Plan> = vars
            .iter()
            .map(|v| super::dictionary::plan(v.schema, v.column, v.lang, opts.labels))
            .collect();
        Some(Spool::create(&out.join("panel"), plans)?)
    } else {
        None
    };
    let width = h.len();
    let mut current: Option<(String, Option<i64>)> = None;
    let mut row = vec![String::new(); width];
    let mut filled = vec![false; schemas.len()];
    let mut rows = record::Rows::default();
    let flush = |csv: &mut CsvFile,
                 spool: &mut Option<Spool>,
                 row: &mut Vec<String>,
                 filled: &mut Vec<bool>| {
        let mut r = Ok(());
        if filled.iter().any(|f| *f) {
            r = csv.write(row);
            if let (Ok(()), Some(s)) = (&r, spool.as_mut()) {
                r = s.write(row);
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
        let Some(xml) = submission_xml(source, &r, opts.identity.as_ref(), &mut |_, _, _| Ok(()))? else {
            return Ok(());
        };
        let key = (r.participant_id.clone().unwrap_or_default(), r.round);
        if current.as_ref() != Some(&key) {
            flush(&mut csv, &mut spool, &mut row, &mut filled)?;
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
            submitted: &r.finalized_at,
            received: &r.received_at,
            ..RowMeta::default()
        };
        let style = ValueStyle::new(opts.labels, lang.as_deref());
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
    flush(&mut csv, &mut spool, &mut row, &mut filled)?;
    let n = csv.rows;
    let mut files = vec![csv.finish()?];
    let mut resolved = None;
    if let Some(s) = spool {
        let data = s.finish()?;
        resolved = Some(data.resolved.clone());
        let vars = layout.vars(schemas);
        let table = super::TableVars {
            name: "panel",
            label: "Panel: one row per participant and round".into(),
            vars,
        };
        files.extend(typed.write_table(out, &table, &data)?);
    }
    Ok((files, n, resolved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_drop_the_prefix_all_forms_share() {
        assert_eq!(
            aliases(&["p2p_capacity", "p2p_capacity_sealed", "p2p_practice_followup"]),
            vec!["capacity", "capacity_sealed", "practice_followup"]
        );
        assert_eq!(aliases(&["study", "sealed"]), vec!["study", "sealed"]);
        assert_eq!(aliases(&["p2p_a"]), vec!["p2p_a"], "one form keeps its id");
        assert_eq!(aliases(&["x_y", "x_y_z"]), vec!["y", "y_z"]);
        assert_eq!(initials("practice_followup"), "pf");
    }
}
