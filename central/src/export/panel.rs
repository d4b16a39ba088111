//! `panel.csv`: one row per participant and round, with the main-table
//! answers of every exported form side by side (e.g. the capacity scores
//! of round 1, 2 and 3 in rows of one column), so that change across rounds
//! needs no joins. Read in participant order from an index: one row in
//! memory at a time.

use std::path::{Path, PathBuf};

use super::csv::CsvFile;
use super::record::{self, ParticipantSwap, RowMeta, ValueStyle};
use super::report::{Report, ReportKind};
use super::schema::{ColumnRole, FormSchema};
use super::{
    ExportError, ExportOptions, ExportSource, Order, StoredResponse, exported_participant,
    submission_xml,
};

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

pub fn write<S: ExportSource>(
    source: &S,
    opts: &ExportOptions,
    out: &Path,
    schemas: &[(FormSchema, Option<String>)],
    secret: Option<&[u8; 32]>,
    report: &mut Report,
) -> Result<(PathBuf, u64), ExportError> {
    let cols = columns(schemas);
    let mut offsets = Vec::new();
    let mut header = vec!["participant".to_string(), "round".to_string()];
    for (form_cols, (s, _)) in cols.iter().zip(schemas) {
        offsets.push(header.len());
        header.push(format!("{}-KEY", s.form_id));
        header.extend(form_cols.iter().map(|(_, n)| n.clone()));
    }
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut csv = CsvFile::create(&out.join("panel.csv"), &h)?;
    let width = header.len();
    let mut current: Option<(String, Option<i64>)> = None;
    let mut row = vec![String::new(); width];
    let mut filled = vec![false; schemas.len()];
    let mut rows = record::Rows::default();
    let flush = |csv: &mut CsvFile, row: &mut Vec<String>, filled: &mut Vec<bool>| {
        let r = if filled.iter().any(|f| *f) { csv.write(row) } else { Ok(()) };
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
            flush(&mut csv, &mut row, &mut filled)?;
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
        let at = offsets[f];
        row[at] = r.instance_id.clone();
        for (k, (i, _)) in cols[f].iter().enumerate() {
            row[at + 1 + k] = main[*i].clone();
        }
        filled[f] = true;
        Ok(())
    })?;
    flush(&mut csv, &mut row, &mut filled)?;
    let n = csv.rows;
    Ok((csv.finish()?, n))
}
