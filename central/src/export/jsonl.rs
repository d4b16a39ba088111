//! JSON Lines: one nested document per response, one per line. Numeric
//! answers are JSON numbers (integers without a fraction), the rest
//! strings; dates are ISO 8601 text as collected.
//!
//! A calculate whose type only its values tell is known to be numeric only
//! after the last response, so a form with such calculates is written to a
//! spool first and rewritten at the end with those values as numbers.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::ExportError;
use super::record::numbers_in;
use super::schema::FormSchema;

#[derive(Debug)]
pub struct JsonLines {
    path: PathBuf,
    /// Where lines go: the file itself, or its spool.
    written: PathBuf,
    out: BufWriter<File>,
    pub rows: u64,
    /// (table, column) of calculates typed by their values -> all numbers so far.
    pub infer: HashMap<(usize, usize), bool>,
}

impl JsonLines {
    /// `spooled`: the form has calculates typed by their values.
    pub fn create(path: &Path, spooled: bool) -> Result<Self, ExportError> {
        let written = if spooled {
            let name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            path.with_file_name(format!(".{name}.spool"))
        } else {
            path.to_path_buf()
        };
        let file = File::create(&written).map_err(|e| ExportError::io(&written, e))?;
        Ok(JsonLines {
            path: path.to_path_buf(),
            written,
            out: BufWriter::new(file),
            rows: 0,
            infer: HashMap::new(),
        })
    }

    pub fn write(&mut self, doc: &serde_json::Value) -> Result<(), ExportError> {
        let err = |e: std::io::Error| ExportError::io(&self.written, e);
        serde_json::to_writer(&mut self.out, doc).map_err(|e| err(e.into()))?;
        self.out.write_all(b"\n").map_err(err)?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self, schema: &FormSchema) -> Result<PathBuf, ExportError> {
        self.out.flush().map_err(|e| ExportError::io(&self.written, e))?;
        if self.written == self.path {
            return Ok(self.path.clone());
        }
        let numeric: Vec<(usize, usize)> =
            self.infer.iter().filter(|(_, all)| **all).map(|(k, _)| *k).collect();
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e: std::io::Error| ExportError::io(&p, e)
        };
        let input = BufReader::new(File::open(&self.written).map_err(io(&self.written))?);
        let mut out = BufWriter::new(File::create(&self.path).map_err(io(&self.path))?);
        for line in input.lines() {
            let line = line.map_err(io(&self.written))?;
            let mut doc: serde_json::Value = serde_json::from_str(&line)
                .map_err(|e| ExportError::io(&self.written, e.into()))?;
            if !numeric.is_empty()
                && let Some(data) = doc.get_mut("data").and_then(|d| d.as_object_mut())
            {
                numbers_in(&schema.root, 0, data, &|t, c| numeric.contains(&(t, c)));
            }
            serde_json::to_writer(&mut out, &doc)
                .map_err(|e| ExportError::io(&self.path, e.into()))?;
            out.write_all(b"\n").map_err(io(&self.path))?;
        }
        out.flush().map_err(io(&self.path))?;
        Ok(self.path.clone())
    }
}

impl Drop for JsonLines {
    fn drop(&mut self) {
        if self.written != self.path {
            let _ = std::fs::remove_file(&self.written);
        }
    }
}
