//! SPSS system files (`.sav`), written from the format's public description
//! (GNU PSPP's "System File Format", the reference every open reader of
//! `.sav` follows): a UTF-8 dictionary with long variable names, variable
//! labels, value labels, user-missing values, display parameters, very long
//! strings, then the cases compressed with SPSS's bytecode scheme.
//!
//! Why a writer of our own rather than ReadStat: ReadStat is C, so it would
//! bring a C build and `unsafe` bindings into a workspace that denies
//! `unsafe_code`, and its writer wants the whole dictionary (string widths
//! included) before the first case, which the spool gives us anyway. The
//! format needed is small; the tests read every file back with PSPP,
//! pyreadstat (ReadStat itself) and R's haven (ReadStat again).
//!
//! The rows come from a finished spool (spool.rs): numbers as doubles,
//! choices as their codes (codes.rs) with value labels and the
//! missing-style codes declared user-missing, dates as `DATE11`, date-times
//! in UTC as `DATETIME20`, times of day as `TIME8`; empty answers are the
//! system-missing value. Text is padded with spaces (SPSS compares strings
//! that way, so trailing spaces of an answer do not survive) and at most
//! 32,767 bytes: export.rs reports a longer value and keeps it whole beside
//! the file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::ExportError;
use super::codes::{Code, SpssMissing};
use super::dta::truncate_bytes;
use super::spool::{Cell, Finished, Resolved};

/// The widest string SPSS holds, in bytes.
pub const MAX_STRING: usize = 32_767;
const SYSMIS: f64 = -f64::MAX;
const BIAS: f64 = 100.0;
const VAR_LABEL_BYTES: usize = 255;
const VALUE_LABEL_BYTES: usize = 120;

/// How a variable is measured (SPSS's measurement level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Nominal = 1,
    Ordinal = 2,
    Scale = 3,
}

/// One variable as the dictionary describes it.
#[derive(Debug, Clone)]
pub struct Variable {
    /// A valid SPSS name (names.rs), at most 64 bytes.
    pub name: String,
    pub label: String,
    /// Value labels: (code, label).
    pub value_labels: Vec<(f64, String)>,
    pub missing: SpssMissing,
    pub measure: Measure,
}

/// A format: type, width, decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Format(u8, u8, u8);

impl Format {
    fn code(self) -> i32 {
        (i32::from(self.0) << 16) | (i32::from(self.1) << 8) | i32::from(self.2)
    }
}

const F_A: u8 = 1;
const F_F: u8 = 5;
const F_DATE: u8 = 20;
const F_TIME: u8 = 21;
const F_DATETIME: u8 = 22;

/// What one variable takes in a case.
#[derive(Debug, Clone)]
struct Layout {
    /// 0 for numbers, else the string width in bytes.
    width: usize,
    format: Format,
    /// Segment widths of a string (one unless longer than 255 bytes).
    segments: Vec<usize>,
    short: String,
    /// Short names of the segments after the first.
    segment_shorts: Vec<String>,
}

/// Number of segments of a string of `width` bytes.
fn segments(width: usize) -> Vec<usize> {
    if width <= 255 {
        return vec![width];
    }
    let n = width.div_ceil(252);
    let mut s = vec![255; n - 1];
    s.push(width - 252 * (n - 1));
    s
}

/// 8-byte elements a string segment of `w` bytes takes.
fn elements(w: usize) -> usize {
    w.div_ceil(8).max(1)
}

/// Unique short (8-byte, upper-case) names.
#[derive(Debug, Default)]
struct Shorts(std::collections::HashSet<String>);

impl Shorts {
    fn make(&mut self, long: &str) -> String {
        let upper: String = long
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let base = if upper.is_empty() || upper.starts_with(|c: char| c.is_ascii_digit()) {
            format!("V{upper}")
        } else {
            upper
        };
        let first: String = base.chars().take(8).collect();
        if self.0.insert(first.clone()) {
            return first;
        }
        for n in 1.. {
            let suffix = n.to_string();
            let keep: String = base.chars().take(8 - suffix.len().min(7)).collect();
            let candidate = format!("{keep}{suffix}");
            if self.0.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("names run out after usize::MAX tries")
    }
}

fn layouts(vars: &[Variable], resolved: &[Resolved], decimals: &[u8]) -> Vec<Layout> {
    let mut shorts = Shorts::default();
    vars.iter()
        .zip(resolved)
        .zip(decimals.iter().chain(std::iter::repeat(&2)))
        .map(|((v, r), d)| {
            let (width, format) = match *r {
                Resolved::Text { width, .. } => {
                    let w = width.clamp(1, MAX_STRING);
                    (w, Format(F_A, w.min(255) as u8, 0))
                }
                Resolved::Number { whole, min, max, .. } => {
                    let digits = |x: f64| (x.abs().max(1.0).log10().floor() as u8) + 1;
                    let w = digits(min).max(digits(max)) + u8::from(min < 0.0);
                    if whole {
                        (0, Format(F_F, w.clamp(8, 40), 0))
                    } else {
                        // As many decimals as the values have (2.63 shows as 2.63).
                        let d = (*d).clamp(1, 16);
                        (0, Format(F_F, (w + d + 1).clamp(8, 40), d))
                    }
                }
                Resolved::Date => (0, Format(F_DATE, 11, 0)),
                Resolved::DateTime => (0, Format(F_DATETIME, 20, 0)),
                Resolved::Time => (0, Format(F_TIME, 8, 0)),
            };
            let segs = if width == 0 { vec![0] } else { segments(width) };
            let short = shorts.make(&v.name);
            let segment_shorts = (1..segs.len()).map(|_| shorts.make(&v.name)).collect();
            Layout { width, format, segments: segs, short, segment_shorts }
        })
        .collect()
}

struct Out<W: Write> {
    w: W,
}

impl<W: Write> Out<W> {
    fn i32(&mut self, n: i32) -> std::io::Result<()> {
        self.w.write_all(&n.to_le_bytes())
    }

    fn f64(&mut self, x: f64) -> std::io::Result<()> {
        self.w.write_all(&x.to_le_bytes())
    }

    fn bytes(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.w.write_all(b)
    }

    /// `s` in exactly `n` bytes, padded with spaces.
    fn padded(&mut self, s: &str, n: usize) -> std::io::Result<()> {
        let s = truncate_bytes(s, n);
        self.bytes(s.as_bytes())?;
        self.bytes(&vec![b' '; n - s.len()])
    }

    /// A record 7 of `size`-byte items.
    fn extension(&mut self, subtype: i32, size: i32, data: &[u8]) -> std::io::Result<()> {
        self.i32(7)?;
        self.i32(subtype)?;
        self.i32(size)?;
        self.i32((data.len() / size as usize) as i32)?;
        self.bytes(data)
    }
}

/// Writes `path` from a finished spool. `label`: the file label.
pub fn write(
    path: &Path,
    label: &str,
    vars: &[Variable],
    data: &Finished,
) -> Result<PathBuf, ExportError> {
    let io = |e: std::io::Error| ExportError::io(path, e);
    let file = File::create(path).map_err(io)?;
    let mut out = Out { w: BufWriter::with_capacity(256 * 1024, file) };
    let layout = layouts(vars, &data.resolved, &data.decimals);
    dictionary(&mut out, label, vars, &layout, data.rows).map_err(io)?;
    cases(&mut out, &layout, data).map_err(|e| match e {
        CaseError::Io(e) => io(e),
        CaseError::Export(e) => e,
    })?;
    out.w.flush().map_err(io)?;
    Ok(path.to_path_buf())
}

fn dictionary<W: Write>(
    out: &mut Out<W>,
    label: &str,
    vars: &[Variable],
    layout: &[Layout],
    rows: u64,
) -> std::io::Result<()> {
    let case_size: usize = layout
        .iter()
        .map(|l| if l.width == 0 { 1 } else { l.segments.iter().map(|w| elements(*w)).sum() })
        .sum();
    // File header.
    out.bytes(b"$FL2")?;
    out.padded(&format!("@(#) SPSS DATA FILE Enumera {}", env!("CARGO_PKG_VERSION")), 60)?;
    out.i32(2)?;
    out.i32(i32::try_from(case_size).unwrap_or(-1))?;
    out.i32(1)?; // bytecode compression
    out.i32(0)?; // not weighted
    out.i32(i32::try_from(rows).unwrap_or(-1))?;
    out.f64(BIAS)?;
    let now = chrono::Utc::now();
    out.padded(&now.format("%d %b %y").to_string(), 9)?;
    out.padded(&now.format("%H:%M:%S").to_string(), 8)?;
    out.padded(label, 64)?;
    out.bytes(&[0; 3])?;

    // Variable records; dictionary indexes (1-based, per 8-byte element) for value labels.
    let mut index = Vec::with_capacity(vars.len());
    let mut next = 1i32;
    for (v, l) in vars.iter().zip(layout) {
        index.push(next);
        if l.width == 0 {
            let (n, values) = match &v.missing {
                SpssMissing::None => (0, vec![]),
                SpssMissing::Discrete(d) => (d.len() as i32, d.clone()),
                SpssMissing::Range { low, high, also: None } => (-2, vec![*low, *high]),
                SpssMissing::Range { low, high, also: Some(x) } => (-3, vec![*low, *high, *x]),
            };
            variable(out, 0, Some(&v.label), n, l.format, &l.short)?;
            for x in values {
                out.f64(x)?;
            }
            next += 1;
            continue;
        }
        for (s, w) in l.segments.iter().enumerate() {
            let short = if s == 0 { &l.short } else { &l.segment_shorts[s - 1] };
            let label = (s == 0).then_some(v.label.as_str());
            variable(out, *w as i32, label, 0, Format(F_A, (*w).min(255) as u8, 0), short)?;
            for _ in 1..elements(*w) {
                variable(out, -1, None, 0, Format(0, 0, 0), "")?;
            }
            next += elements(*w) as i32;
        }
    }

    // Value labels, one record pair per variable that has them.
    for ((v, l), at) in vars.iter().zip(layout).zip(&index) {
        if l.width != 0 || v.value_labels.is_empty() {
            continue;
        }
        out.i32(3)?;
        out.i32(v.value_labels.len() as i32)?;
        for (value, text) in &v.value_labels {
            out.f64(*value)?;
            let t = truncate_bytes(text, VALUE_LABEL_BYTES);
            out.bytes(&[t.len() as u8])?;
            out.bytes(t.as_bytes())?;
            let used = 1 + t.len();
            out.bytes(&vec![b' '; used.next_multiple_of(8) - used])?;
        }
        out.i32(4)?;
        out.i32(1)?;
        out.i32(*at)?;
    }

    // Machine integer info: version, machine, IEEE floats, compression, little-endian, UTF-8.
    let mut ints = Vec::new();
    for n in [1i32, 0, 0, -1, 1, 1, 2, 65001] {
        ints.extend_from_slice(&n.to_le_bytes());
    }
    out.extension(3, 4, &ints)?;
    let mut floats = Vec::new();
    let lowest = f64::from_bits((-f64::MAX).to_bits() - 1);
    for x in [SYSMIS, f64::MAX, lowest] {
        floats.extend_from_slice(&x.to_le_bytes());
    }
    out.extension(4, 8, &floats)?;
    // Display parameters: one set per segment.
    let mut display = Vec::new();
    for (v, l) in vars.iter().zip(layout) {
        let measure = if l.width == 0 { v.measure } else { Measure::Nominal };
        let align = if l.width == 0 { 1 } else { 0 };
        for w in &l.segments {
            let columns =
                if l.width == 0 { i32::from(l.format.1) } else { (*w).clamp(1, 40) as i32 };
            for n in [measure as i32, columns, align] {
                display.extend_from_slice(&n.to_le_bytes());
            }
        }
    }
    out.extension(11, 4, &display)?;
    // Long names.
    let names: Vec<String> =
        vars.iter().zip(layout).map(|(v, l)| format!("{}={}", l.short, v.name)).collect();
    out.extension(13, 1, names.join("\t").as_bytes())?;
    // Very long strings.
    let long: String = vars
        .iter()
        .zip(layout)
        .filter(|(_, l)| l.segments.len() > 1)
        .map(|(_, l)| format!("{}={:05}\0\t", l.short, l.width))
        .collect();
    if !long.is_empty() {
        out.extension(14, 1, long.as_bytes())?;
    }
    out.extension(20, 1, b"UTF-8")?;
    out.i32(999)?;
    out.i32(0)
}

fn variable<W: Write>(
    out: &mut Out<W>,
    kind: i32,
    label: Option<&str>,
    n_missing: i32,
    format: Format,
    short: &str,
) -> std::io::Result<()> {
    out.i32(2)?;
    out.i32(kind)?;
    let label = label.filter(|l| !l.is_empty());
    out.i32(i32::from(label.is_some()))?;
    out.i32(n_missing)?;
    out.i32(format.code())?;
    out.i32(format.code())?;
    out.padded(short, 8)?;
    if let Some(l) = label {
        let l = truncate_bytes(l, VAR_LABEL_BYTES);
        out.i32(l.len() as i32)?;
        out.bytes(l.as_bytes())?;
        out.bytes(&vec![b' '; l.len().next_multiple_of(4) - l.len()])?;
    }
    Ok(())
}

enum CaseError {
    Io(std::io::Error),
    Export(ExportError),
}

impl From<std::io::Error> for CaseError {
    fn from(e: std::io::Error) -> Self {
        CaseError::Io(e)
    }
}

impl From<ExportError> for CaseError {
    fn from(e: ExportError) -> Self {
        CaseError::Export(e)
    }
}

/// Bytecode compression: eight command bytes, then the 8-byte elements
/// those commands say come raw.
struct Compressor {
    codes: [u8; 8],
    n: usize,
    raw: Vec<u8>,
}

impl Compressor {
    fn push<W: Write>(
        &mut self,
        out: &mut Out<W>,
        code: u8,
        raw: Option<&[u8; 8]>,
    ) -> std::io::Result<()> {
        self.codes[self.n] = code;
        self.n += 1;
        if let Some(r) = raw {
            self.raw.extend_from_slice(r);
        }
        if self.n == 8 {
            self.flush(out)?;
        }
        Ok(())
    }

    fn flush<W: Write>(&mut self, out: &mut Out<W>) -> std::io::Result<()> {
        if self.n == 0 {
            return Ok(());
        }
        self.codes[self.n..].fill(0);
        out.bytes(&self.codes)?;
        out.bytes(&self.raw)?;
        self.n = 0;
        self.raw.clear();
        Ok(())
    }

    fn number<W: Write>(&mut self, out: &mut Out<W>, x: f64) -> std::io::Result<()> {
        if x == SYSMIS {
            return self.push(out, 255, None);
        }
        let biased = x + BIAS;
        if x.fract() == 0.0 && (1.0..=251.0).contains(&biased) {
            self.push(out, biased as u8, None)
        } else {
            self.push(out, 253, Some(&x.to_le_bytes()))
        }
    }

    /// A string segment of `w` bytes holding `bytes`, space padded.
    fn string<W: Write>(
        &mut self,
        out: &mut Out<W>,
        bytes: &[u8],
        w: usize,
    ) -> std::io::Result<()> {
        for e in 0..elements(w) {
            let mut chunk = [b' '; 8];
            let from = (e * 8).min(bytes.len());
            let to = (e * 8 + 8).min(bytes.len());
            chunk[..to - from].copy_from_slice(&bytes[from..to]);
            if chunk == [b' '; 8] {
                self.push(out, 254, None)?;
            } else {
                self.push(out, 253, Some(&chunk))?;
            }
        }
        Ok(())
    }
}

fn cases<W: Write>(out: &mut Out<W>, layout: &[Layout], data: &Finished) -> Result<(), CaseError> {
    let mut c = Compressor { codes: [0; 8], n: 0, raw: Vec::with_capacity(64) };
    let mut rows = data.reader()?;
    while rows.next_row()? {
        for (i, l) in layout.iter().enumerate() {
            let v = rows.value(i);
            if l.width == 0 {
                let x = match data.cell(i, v) {
                    Cell::Number(x) => x,
                    Cell::Code(code) => f64::from(code_value(code)),
                    Cell::Time(t) => t.spss,
                    Cell::Empty | Cell::Text(_) => SYSMIS,
                };
                c.number(out, x)?;
                continue;
            }
            let bytes = truncate_bytes(v, l.width).as_bytes();
            // Segments hold 255 bytes each, the last what is left.
            let mut at = 0;
            for w in &l.segments {
                let take = (*w).min(255).min(bytes.len() - at.min(bytes.len()));
                let start = at.min(bytes.len());
                c.string(out, &bytes[start..start + take], *w)?;
                at += 255;
            }
        }
    }
    c.flush(out)?;
    Ok(())
}

fn code_value(c: Code) -> i32 {
    c.spss()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::spool::{Plan, Spool};
    use crate::export::types::ValueType;

    #[test]
    fn very_long_strings_are_cut_into_segments_as_spss_does() {
        assert_eq!(segments(8), vec![8]);
        assert_eq!(segments(255), vec![255]);
        assert_eq!(segments(256), vec![255, 4]);
        assert_eq!(segments(600), vec![255, 255, 96]);
        assert_eq!(segments(20_000).len(), 80);
        assert_eq!(segments(20_000)[79], 20_000 - 79 * 252);
    }

    #[test]
    fn short_names_are_unique_upper_case_and_eight_bytes() {
        let mut s = Shorts::default();
        assert_eq!(s.make("cap_planning"), "CAP_PLAN");
        assert_eq!(s.make("cap_planning_2"), "CAP_PLA1");
        assert_eq!(s.make("1st"), "V1ST");
        assert_eq!(s.make("ação"), "AO");
    }

    #[test]
    fn compression_codes_small_integers_and_blank_strings() {
        let mut out = Out { w: Vec::new() };
        let mut c = Compressor { codes: [0; 8], n: 0, raw: Vec::new() };
        c.number(&mut out, 1.0).expect("n");
        c.number(&mut out, SYSMIS).expect("n");
        c.number(&mut out, 2.5).expect("n");
        c.number(&mut out, -914.0).expect("n");
        c.string(&mut out, b"abc", 8).expect("s");
        c.string(&mut out, b"", 8).expect("s");
        c.flush(&mut out).expect("flush");
        assert_eq!(&out.w[..8], &[101, 255, 253, 253, 253, 254, 0, 0]);
        assert_eq!(&out.w[8..16], &2.5f64.to_le_bytes());
        assert_eq!(&out.w[16..24], &(-914f64).to_le_bytes());
        assert_eq!(&out.w[24..32], b"abc     ");
        assert_eq!(out.w.len(), 32);
    }

    #[test]
    fn a_file_starts_with_its_header_and_ends_its_dictionary() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.sav");
        let mut s = Spool::create(
            &path,
            vec![Plan { vtype: ValueType::Number, codes: None }, Plan::text()],
        )
        .expect("spool");
        s.write(&["3", "x"]).expect("write");
        let data = s.finish().expect("finish");
        let vars = vec![
            Variable {
                name: "staff".into(),
                label: "Staff".into(),
                value_labels: vec![],
                missing: SpssMissing::None,
                measure: Measure::Scale,
            },
            Variable {
                name: "note".into(),
                label: String::new(),
                value_labels: vec![],
                missing: SpssMissing::None,
                measure: Measure::Nominal,
            },
        ];
        write(&path, "T", &vars, &data).expect("write");
        let b = std::fs::read(&path).expect("read");
        assert_eq!(&b[..4], b"$FL2");
        assert_eq!(i32::from_le_bytes(b[64..68].try_into().expect("4")), 2);
        assert_eq!(i32::from_le_bytes(b[68..72].try_into().expect("4")), 2, "two elements a case");
        assert_eq!(i32::from_le_bytes(b[80..84].try_into().expect("4")), 1, "one case");
        let end = b.windows(8).position(|w| w == [231, 3, 0, 0, 0, 0, 0, 0]).expect("999");
        assert_eq!(
            &b[end + 8..],
            &[103, 253, 0, 0, 0, 0, 0, 0, b'x', b' ', b' ', b' ', b' ', b' ', b' ', b' ']
        );
        assert!(b.windows(11).any(|w| w == b"STAFF=staff"));
    }
}
