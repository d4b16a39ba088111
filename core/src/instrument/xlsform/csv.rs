//! The CSV files an XLSForm ships beside itself (`select_one_from_file`,
//! `pulldata`): RFC 4180 with the forgiving edges spreadsheets produce (a
//! UTF-8 byte-order mark, CRLF or LF line ends, a missing final newline).

use crate::instrument::model::DataFile;

/// Why a CSV file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("is not UTF-8 text (save it from the spreadsheet as \"CSV UTF-8\")")]
    NotUtf8,
    #[error("is empty: it needs a header row")]
    Empty,
    #[error("has a quote opened on line {line} that is never closed")]
    UnclosedQuote { line: usize },
}

/// Parses CSV bytes: the first record names the columns; fully blank records
/// are skipped; short records are padded so every row has every column.
pub fn parse(bytes: &[u8]) -> Result<DataFile, CsvError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CsvError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = records(text)?.into_iter();
    let columns: Vec<String> = match records.next() {
        Some(header) if header.iter().any(|c| !c.trim().is_empty()) => {
            header.into_iter().map(|c| c.trim().to_string()).collect()
        }
        _ => return Err(CsvError::Empty),
    };
    let rows = records
        .filter(|r| r.iter().any(|c| !c.is_empty()))
        .map(|mut r| {
            r.resize(columns.len().max(r.len()), String::new());
            r
        })
        .collect();
    Ok(DataFile { columns, rows, xml: None })
}

fn records(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut in_quotes = false;
    let mut quote_line = 0;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                quote_line = line;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                line += 1;
                record.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut record));
                any = false;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError::UnclosedQuote { line: quote_line });
    }
    if any {
        record.push(field);
        out.push(record);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_quoted_and_bom() {
        let f = parse(
            "\u{feff}name,label\r\na,\"A, the first\"\r\nb,\"say \"\"hi\"\"\"\n\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(f.columns, ["name", "label"]);
        assert_eq!(f.rows, [["a", "A, the first"], ["b", "say \"hi\""]]);
    }

    #[test]
    fn newline_in_quotes_and_no_final_newline() {
        let f = parse(b"name,label\nx,\"two\nlines\"").unwrap();
        assert_eq!(f.rows, [["x", "two\nlines"]]);
    }

    #[test]
    fn short_rows_are_padded() {
        let f = parse(b"name,label,state\nx,X\n").unwrap();
        assert_eq!(f.rows, [["x", "X", ""]]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse(b""), Err(CsvError::Empty));
        assert_eq!(parse(b"\n\n"), Err(CsvError::Empty));
        assert_eq!(parse(&[0xff, 0xfe, 0x00]), Err(CsvError::NotUtf8));
        assert_eq!(parse(b"name\n\"open\nstill"), Err(CsvError::UnclosedQuote { line: 2 }));
    }
}
