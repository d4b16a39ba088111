//! Problems found in a form, each pinned to the cell a person must fix.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where in the workbook a problem is. `row` is 1-based as a spreadsheet
/// shows it; `column` is the letter(s) (`E`), absent when the problem is about
/// a whole row or sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub sheet: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl Location {
    pub fn sheet(sheet: &str) -> Self {
        Location { sheet: sheet.to_string(), row: None, column: None }
    }

    pub fn row(sheet: &str, row: u32) -> Self {
        Location { sheet: sheet.to_string(), row: Some(row), column: None }
    }

    /// `col` is 0-based, as calamine counts.
    pub fn cell(sheet: &str, row: u32, col: usize) -> Self {
        Location { sheet: sheet.to_string(), row: Some(row), column: Some(column_letters(col)) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.sheet)?;
        match (&self.column, self.row) {
            (Some(c), Some(r)) => write!(f, "!{c}{r}"),
            (None, Some(r)) => write!(f, "!{r}:{r}"),
            _ => Ok(()),
        }
    }
}

/// One problem: `survey!E12: unknown reference ${agee} in relevant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    pub message: String,
}

impl Diagnostic {
    pub fn error(location: Location, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, location, message: message.into() }
    }

    pub fn warning(location: Location, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, location, message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// 0 -> A, 25 -> Z, 26 -> AA.
pub fn column_letters(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(4), "E");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn display() {
        let d = Diagnostic::error(
            Location::cell("survey", 12, 4),
            "unknown reference ${agee} in relevant",
        );
        assert_eq!(d.to_string(), "survey!E12: unknown reference ${agee} in relevant");
        assert_eq!(Location::row("choices", 3).to_string(), "choices!3:3");
        assert_eq!(Location::sheet("settings").to_string(), "settings");
    }
}
