//! JSON Lines: one nested document per response, one per line.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::ExportError;

#[derive(Debug)]
pub struct JsonLines {
    path: PathBuf,
    out: BufWriter<File>,
    pub rows: u64,
}

impl JsonLines {
    pub fn create(path: &Path) -> Result<Self, ExportError> {
        let file = File::create(path).map_err(|e| ExportError::io(path, e))?;
        Ok(JsonLines { path: path.to_path_buf(), out: BufWriter::new(file), rows: 0 })
    }

    pub fn write(&mut self, doc: &serde_json::Value) -> Result<(), ExportError> {
        let err = |e: std::io::Error| ExportError::io(&self.path, e);
        serde_json::to_writer(&mut self.out, doc).map_err(|e| err(e.into()))?;
        self.out.write_all(b"\n").map_err(err)?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<PathBuf, ExportError> {
        self.out.flush().map_err(|e| ExportError::io(&self.path, e))?;
        Ok(self.path)
    }
}
