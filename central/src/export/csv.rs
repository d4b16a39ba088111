//! CSV as RFC 4180 with a header: UTF-8, comma, `"` quoting only when a
//! field needs it, CRLF-free (`\n`) lines. Written as rows come, buffered.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::ExportError;

/// Appends one field, quoted when it holds a comma, quote or line break.
pub fn push_field(line: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        line.push('"');
        for c in field.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(field);
    }
}

/// A CSV file being written.
#[derive(Debug)]
pub struct CsvFile {
    path: PathBuf,
    out: BufWriter<File>,
    line: String,
    pub rows: u64,
}

impl CsvFile {
    pub fn create(path: &Path, header: &[&str]) -> Result<Self, ExportError> {
        let file = File::create(path).map_err(|e| ExportError::io(path, e))?;
        let mut csv = CsvFile {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, file),
            line: String::new(),
            rows: 0,
        };
        csv.write(header)?;
        csv.rows = 0;
        Ok(csv)
    }

    pub fn write<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), ExportError> {
        self.line.clear();
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            push_field(&mut self.line, f.as_ref());
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes()).map_err(|e| ExportError::io(&self.path, e))?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<PathBuf, ExportError> {
        self.out.flush().map_err(|e| ExportError::io(&self.path, e))?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        let mut s = String::new();
        push_field(&mut s, "plain");
        s.push(',');
        push_field(&mut s, "a, \"b\"\nc");
        assert_eq!(s, "plain,\"a, \"\"b\"\"\nc\"");
    }
}
