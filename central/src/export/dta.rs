//! Stata `.dta` files, format 118 (Stata 14 and later, UTF-8), written
//! from StataCorp's published description of the format.
//!
//! A `.dta` file declares every variable's storage type before the data,
//! and a string variable's width is the longest value it holds, which is
//! only known once every row has been seen. So rows are first spooled to a
//! file beside the output (length-prefixed values, nothing kept in memory);
//! `finish` then picks each variable's type (`byte`/`int`/`long`/`double`
//! for numbers as Stata's `compress` would, `str1`..`str2045`, or `strL`
//! for longer text) and streams the spool into the `.dta`. The section map
//! is written as zeros and patched once the offsets are known.
//!
//! A variable declared numeric whose values are not all numbers (or a
//! coded variable holding a value outside its codes) is written as a string
//! rather than losing a value; empty values are Stata's system missing `.`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::ExportError;

/// Longest `str#` type; longer text is written as `strL`.
pub const STR_MAX: usize = 2045;
/// Stata's limits on label lengths: characters, and the bytes they take.
const VAR_LABEL_CHARS: usize = 80;
const VAR_LABEL_BYTES: usize = 320;
const VALUE_LABEL_BYTES: usize = 32_000;
/// Name fields (variable, value label) hold 32 characters of 4 bytes + NUL.
const NAME_FIELD: usize = 129;
const FORMAT_FIELD: usize = 57;
const LABEL_FIELD: usize = 321;

const T_STRL: u16 = 32768;
const T_DOUBLE: u16 = 65526;
const T_LONG: u16 = 65528;
const T_INT: u16 = 65529;
const T_BYTE: u16 = 65530;

/// A value of a coded variable: an integer, or an extended missing value
/// (`.a` is 1, `.b` 2, ... `.z` 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Int(i32),
    Missing(u8),
}

impl Code {
    /// From the text stata.rs writes in the `.do` file (`5`, `.a`).
    pub fn parse(s: &str) -> Option<Code> {
        match s.strip_prefix('.') {
            Some(l) if l.len() == 1 && l.as_bytes()[0].is_ascii_lowercase() => {
                Some(Code::Missing(l.as_bytes()[0] - b'a' + 1))
            }
            Some(_) => None,
            None => s.parse().ok().map(Code::Int),
        }
    }

    /// The value as a value-label table stores it: extended missing values
    /// take the `long` missing codes.
    fn label_value(self) -> i32 {
        match self {
            Code::Int(n) => n,
            Code::Missing(k) => LONG_MISSING + i32::from(k),
        }
    }
}

/// System missing `.` of each integer type; `.a` is one more, and so on.
const BYTE_MISSING: i32 = 101;
const INT_MISSING: i32 = 32_741;
const LONG_MISSING: i32 = 2_147_483_621;
/// System missing `.` as a double; `.a`..`.z` add `k << 40`.
const DOUBLE_MISSING: u64 = 0x7FE0_0000_0000_0000;

/// A double holding extended missing value `k` (0 = `.`, 1 = `.a`).
pub fn double_missing(k: u8) -> f64 {
    f64::from_bits(DOUBLE_MISSING + (u64::from(k) << 40))
}

/// How a variable is meant to be stored.
#[derive(Debug, Clone)]
pub enum Kind {
    Text,
    /// Numbers as written (`12`, `-3.5`).
    Number,
    /// Values mapped to codes, with the value label of that name.
    Coded {
        codes: HashMap<String, Code>,
        value_label: String,
    },
}

/// One variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// A valid Stata name (see names.rs).
    pub name: String,
    pub label: String,
    pub kind: Kind,
}

/// A value label: a name and (code, text) pairs.
#[derive(Debug, Clone)]
pub struct ValueLabel {
    pub name: String,
    pub entries: Vec<(Code, String)>,
}

/// What the spool has seen of one variable.
#[derive(Debug, Clone)]
struct Seen {
    max_len: usize,
    /// Every non-empty value is a number (or one of the codes).
    numeric: bool,
    /// Every number is a whole number; with its range.
    whole: bool,
    min: f64,
    max: f64,
}

impl Default for Seen {
    fn default() -> Self {
        Seen { max_len: 0, numeric: true, whole: true, min: 0.0, max: 0.0 }
    }
}

/// A value as it goes into the data section.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Missing(u8),
    Value(f64),
}

/// Storage decided at `finish`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    Str(usize),
    StrL,
    Byte,
    Int,
    Long,
    Double,
}

impl Storage {
    fn code(self) -> u16 {
        match self {
            Storage::Str(n) => n as u16,
            Storage::StrL => T_STRL,
            Storage::Byte => T_BYTE,
            Storage::Int => T_INT,
            Storage::Long => T_LONG,
            Storage::Double => T_DOUBLE,
        }
    }

    fn format(self) -> String {
        match self {
            Storage::Str(n) => format!("%{}s", n.min(244)),
            Storage::StrL => "%9s".into(),
            Storage::Byte | Storage::Int => "%8.0g".into(),
            Storage::Long => "%12.0g".into(),
            Storage::Double => "%10.0g".into(),
        }
    }

    fn is_numeric(self) -> bool {
        !matches!(self, Storage::Str(_) | Storage::StrL)
    }

    /// The smallest type holding whole numbers in `min..=max`, as Stata's
    /// `compress` picks it (each type's top values are its missing codes).
    fn whole(min: f64, max: f64) -> Storage {
        let fits = |lo: f64, hi: f64| min >= lo && max <= hi;
        if fits(-127.0, 100.0) {
            Storage::Byte
        } else if fits(-32_767.0, 32_740.0) {
            Storage::Int
        } else if fits(-2_147_483_647.0, 2_147_483_620.0) {
            Storage::Long
        } else {
            Storage::Double
        }
    }
}

/// A `.dta` file being written: rows go to a spool until `finish`.
#[derive(Debug)]
pub struct DtaFile {
    path: PathBuf,
    spool_path: PathBuf,
    spool: BufWriter<File>,
    label: String,
    vars: Vec<Variable>,
    value_labels: Vec<ValueLabel>,
    seen: Vec<Seen>,
    pub rows: u64,
}

impl DtaFile {
    /// `label`: the dataset label. `value_labels`: those the coded
    /// variables name (others are left out).
    pub fn create(
        path: &Path,
        label: &str,
        vars: Vec<Variable>,
        value_labels: Vec<ValueLabel>,
    ) -> Result<Self, ExportError> {
        if vars.len() > 32_767 {
            return Err(ExportError::Dta {
                path: path.to_path_buf(),
                reason: format!("{} variables; a .dta file holds at most 32,767", vars.len()),
            });
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let spool_path = path.with_file_name(format!(".{name}.spool"));
        let file = File::create(&spool_path).map_err(|e| ExportError::io(&spool_path, e))?;
        let seen = vec![Seen::default(); vars.len()];
        Ok(DtaFile {
            path: path.to_path_buf(),
            spool_path,
            spool: BufWriter::with_capacity(256 * 1024, file),
            label: label.to_string(),
            vars,
            value_labels,
            seen,
            rows: 0,
        })
    }

    /// One row, a value per variable (missing values empty).
    pub fn write<S: AsRef<str>>(&mut self, row: &[S]) -> Result<(), ExportError> {
        for (i, var) in self.vars.iter().enumerate() {
            let v = row.get(i).map(AsRef::as_ref).unwrap_or("");
            let seen = &mut self.seen[i];
            seen.max_len = seen.max_len.max(v.len());
            if !v.is_empty() && seen.numeric && !matches!(var.kind, Kind::Text) {
                match number(&var.kind, v) {
                    None => seen.numeric = false,
                    Some(Num::Missing(_)) => {}
                    Some(Num::Value(x)) => {
                        if seen.whole && x.fract() == 0.0 {
                            seen.min = seen.min.min(x);
                            seen.max = seen.max.max(x);
                        } else {
                            seen.whole = false;
                        }
                    }
                }
            }
            let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
            self.spool
                .write_all(&len.to_le_bytes())
                .and_then(|()| self.spool.write_all(&v.as_bytes()[..len as usize]))
                .map_err(|e| ExportError::io(&self.spool_path, e))?;
        }
        self.rows += 1;
        Ok(())
    }

    /// Writes the `.dta` from the spool (removed when `self` drops).
    pub fn finish(mut self) -> Result<PathBuf, ExportError> {
        self.spool.flush().map_err(|e| ExportError::io(&self.spool_path, e))?;
        let storage: Vec<Storage> = self
            .vars
            .iter()
            .zip(&self.seen)
            .map(|(v, s)| match v.kind {
                Kind::Number | Kind::Coded { .. } if s.numeric => {
                    if s.whole {
                        Storage::whole(s.min, s.max)
                    } else {
                        Storage::Double
                    }
                }
                _ if s.max_len > STR_MAX => Storage::StrL,
                _ => Storage::Str(s.max_len.max(1)),
            })
            .collect();
        self.write_dta(&storage).map_err(|e| ExportError::io(&self.path, e))?;
        Ok(self.path.clone())
    }

    fn write_dta(&self, storage: &[Storage]) -> std::io::Result<()> {
        let file = File::create(&self.path)?;
        let mut w = Counted { out: BufWriter::with_capacity(256 * 1024, file), at: 0 };
        let k = self.vars.len();
        // Value labels actually attached (a coded variable stored as text
        // has none), each once.
        let attached: Vec<Option<&str>> = self
            .vars
            .iter()
            .zip(storage)
            .map(|(v, s)| match &v.kind {
                Kind::Coded { value_label, .. } if s.is_numeric() => Some(value_label.as_str()),
                _ => None,
            })
            .collect();

        let mut map = [0u64; 14];
        w.put(b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>")?;
        w.put(&(k as u16).to_le_bytes())?;
        w.put(b"</K><N>")?;
        w.put(&self.rows.to_le_bytes())?;
        w.put(b"</N><label>")?;
        let label = truncate_chars(&self.label, VAR_LABEL_CHARS, VAR_LABEL_BYTES);
        w.put(&(label.len() as u16).to_le_bytes())?;
        w.put(label.as_bytes())?;
        w.put(b"</label><timestamp>")?;
        let stamp = chrono::Utc::now().format("%d %b %Y %H:%M").to_string();
        w.put(&[stamp.len() as u8])?;
        w.put(stamp.as_bytes())?;
        w.put(b"</timestamp></header>")?;

        map[1] = w.at;
        let map_at = w.at + b"<map>".len() as u64;
        w.put(b"<map>")?;
        w.put(&[0u8; 14 * 8])?;
        w.put(b"</map>")?;

        map[2] = w.at;
        w.put(b"<variable_types>")?;
        for s in storage {
            w.put(&s.code().to_le_bytes())?;
        }
        w.put(b"</variable_types>")?;

        map[3] = w.at;
        w.put(b"<varnames>")?;
        for v in &self.vars {
            w.field(&v.name, NAME_FIELD)?;
        }
        w.put(b"</varnames>")?;

        map[4] = w.at;
        w.put(b"<sortlist>")?;
        w.put(&vec![0u8; (k + 1) * 2])?;
        w.put(b"</sortlist>")?;

        map[5] = w.at;
        w.put(b"<formats>")?;
        for s in storage {
            w.field(&s.format(), FORMAT_FIELD)?;
        }
        w.put(b"</formats>")?;

        map[6] = w.at;
        w.put(b"<value_label_names>")?;
        for a in &attached {
            w.field(a.unwrap_or(""), NAME_FIELD)?;
        }
        w.put(b"</value_label_names>")?;

        map[7] = w.at;
        w.put(b"<variable_labels>")?;
        for v in &self.vars {
            w.field(truncate_chars(&v.label, VAR_LABEL_CHARS, VAR_LABEL_BYTES), LABEL_FIELD)?;
        }
        w.put(b"</variable_labels>")?;

        map[8] = w.at;
        w.put(b"<characteristics></characteristics>")?;

        map[9] = w.at;
        w.put(b"<data>")?;
        let mut spool = Spool::open(&self.spool_path)?;
        for _ in 0..self.rows {
            spool.row(k)?;
            for (i, s) in storage.iter().enumerate() {
                let v = spool.value(i);
                match *s {
                    Storage::Str(width) => {
                        w.put(v)?;
                        w.put(&ZEROS[..width - v.len()])?;
                    }
                    Storage::StrL => {
                        // (v, o): variable and observation, 1-based; (0, 0) is "".
                        let key = if v.is_empty() { 0 } else { strl_key(i, spool.rows) };
                        w.put(&key.to_le_bytes())?;
                    }
                    numeric => {
                        let text = std::str::from_utf8(v).unwrap_or("");
                        let n = if text.is_empty() {
                            Num::Missing(0)
                        } else {
                            number(&self.vars[i].kind, text).unwrap_or(Num::Missing(0))
                        };
                        put_number(&mut w, numeric, n)?;
                    }
                }
            }
        }
        w.put(b"</data>")?;

        map[10] = w.at;
        w.put(b"<strls>")?;
        if storage.contains(&Storage::StrL) {
            let mut spool = Spool::open(&self.spool_path)?;
            for _ in 0..self.rows {
                spool.row(k)?;
                for (i, s) in storage.iter().enumerate() {
                    let v = spool.value(i);
                    if *s == Storage::StrL && !v.is_empty() {
                        w.put(b"GSO")?;
                        w.put(&(i as u32 + 1).to_le_bytes())?;
                        w.put(&spool.rows.to_le_bytes())?;
                        // 130: text, stored with a closing NUL.
                        w.put(&[130u8])?;
                        w.put(&(v.len() as u32 + 1).to_le_bytes())?;
                        w.put(v)?;
                        w.put(&[0u8])?;
                    }
                }
            }
        }
        w.put(b"</strls>")?;

        map[11] = w.at;
        w.put(b"<value_labels>")?;
        let mut written: Vec<&str> = Vec::new();
        for name in attached.iter().flatten() {
            if written.contains(name) {
                continue;
            }
            written.push(name);
            if let Some(vl) = self.value_labels.iter().find(|l| l.name == *name) {
                let table = value_label_table(vl);
                w.put(b"<lbl>")?;
                w.put(&(table.len() as u32).to_le_bytes())?;
                w.field(&vl.name, NAME_FIELD)?;
                w.put(&[0u8; 3])?;
                w.put(&table)?;
                w.put(b"</lbl>")?;
            }
        }
        w.put(b"</value_labels>")?;

        map[12] = w.at;
        w.put(b"</stata_dta>")?;
        map[13] = w.at;

        let mut file = w.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(map_at))?;
        let mut bytes = Vec::with_capacity(14 * 8);
        for m in map {
            bytes.extend_from_slice(&m.to_le_bytes());
        }
        file.write_all(&bytes)?;
        file.flush()
    }
}

/// The spool goes whether the export finished or failed half-way.
impl Drop for DtaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.spool_path);
    }
}

const ZEROS: [u8; STR_MAX] = [0; STR_MAX];

/// A strL reference in format 118: the variable in the low 2 bytes, the
/// observation in the high 6.
fn strl_key(var: usize, obs: u64) -> u64 {
    (var as u64 + 1) | (obs << 16)
}

/// The value of a non-empty text for a numeric or coded variable; None
/// when it is neither a finite number nor one of the codes.
fn number(kind: &Kind, v: &str) -> Option<Num> {
    match kind {
        Kind::Coded { codes, .. } => codes.get(v).map(|c| match *c {
            Code::Int(n) => Num::Value(f64::from(n)),
            Code::Missing(k) => Num::Missing(k),
        }),
        _ => v.trim().parse::<f64>().ok().filter(|x| x.is_finite()).map(Num::Value),
    }
}

fn put_number<W: Write>(w: &mut Counted<W>, s: Storage, n: Num) -> std::io::Result<()> {
    let int = |missing: i32| match n {
        Num::Missing(k) => missing + i32::from(k),
        Num::Value(x) => x as i32,
    };
    match s {
        Storage::Byte => w.put(&(int(BYTE_MISSING) as i8).to_le_bytes()),
        Storage::Int => w.put(&(int(INT_MISSING) as i16).to_le_bytes()),
        Storage::Long => w.put(&int(LONG_MISSING).to_le_bytes()),
        _ => {
            let x = match n {
                Num::Missing(k) => double_missing(k),
                Num::Value(x) => x,
            };
            w.put(&x.to_le_bytes())
        }
    }
}

/// A value-label table: n, text length, offsets, values, texts (each
/// closed by NUL), ordered by value.
fn value_label_table(vl: &ValueLabel) -> Vec<u8> {
    let mut entries: Vec<(i32, &str)> = vl
        .entries
        .iter()
        .map(|(c, t)| (c.label_value(), truncate_bytes(t, VALUE_LABEL_BYTES)))
        .collect();
    entries.sort_by_key(|(v, _)| *v);
    entries.dedup_by_key(|(v, _)| *v);
    let mut txt = Vec::new();
    let mut offsets = Vec::new();
    for (_, t) in &entries {
        offsets.push(txt.len() as i32);
        txt.extend_from_slice(t.as_bytes());
        txt.push(0);
    }
    let mut out = Vec::with_capacity(8 + entries.len() * 8 + txt.len());
    out.extend_from_slice(&(entries.len() as i32).to_le_bytes());
    out.extend_from_slice(&(txt.len() as i32).to_le_bytes());
    for o in offsets {
        out.extend_from_slice(&o.to_le_bytes());
    }
    for (v, _) in &entries {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&txt);
    out
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// At most `chars` characters and `bytes` bytes of `s`.
pub fn truncate_chars(s: &str, chars: usize, bytes: usize) -> &str {
    let end = s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i);
    truncate_bytes(&s[..end], bytes)
}

/// A writer that knows its position, for the map.
struct Counted<W: Write> {
    out: W,
    at: u64,
}

impl<W: Write> Counted<W> {
    fn put(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.at += b.len() as u64;
        self.out.write_all(b)
    }

    /// A fixed-width text field: the text (cut at a character boundary so
    /// a NUL always fits) padded with NULs.
    fn field(&mut self, s: &str, width: usize) -> std::io::Result<()> {
        let s = truncate_bytes(s, width - 1);
        self.put(s.as_bytes())?;
        self.put(&ZEROS[..width - s.len()])
    }
}

/// Reads the spool back a row at a time.
struct Spool {
    input: BufReader<File>,
    buf: Vec<u8>,
    ends: Vec<usize>,
    rows: u64,
}

impl Spool {
    fn open(path: &Path) -> std::io::Result<Self> {
        let input = BufReader::with_capacity(256 * 1024, File::open(path)?);
        Ok(Spool { input, buf: Vec::new(), ends: Vec::new(), rows: 0 })
    }

    fn row(&mut self, k: usize) -> std::io::Result<()> {
        self.buf.clear();
        self.ends.clear();
        for _ in 0..k {
            let mut len = [0u8; 4];
            self.input.read_exact(&mut len)?;
            let len = u32::from_le_bytes(len) as usize;
            let start = self.buf.len();
            self.buf.resize(start + len, 0);
            self.input.read_exact(&mut self.buf[start..])?;
            self.ends.push(self.buf.len());
        }
        self.rows += 1;
        Ok(())
    }

    fn value(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, kind: Kind) -> Variable {
        Variable { name: name.into(), label: format!("Label of {name}"), kind }
    }

    fn coded() -> Kind {
        let codes = [("1", Code::Int(1)), ("2", Code::Int(2)), ("na", Code::Missing(1))];
        Kind::Coded {
            codes: codes.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
            value_label: "l_scale".into(),
        }
    }

    /// Writes `rows` and returns the file's bytes.
    fn write(vars: Vec<Variable>, rows: &[&[&str]]) -> Vec<u8> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.dta");
        let labels = vec![ValueLabel {
            name: "l_scale".into(),
            entries: vec![
                (Code::Int(1), "Low".into()),
                (Code::Int(2), "High".into()),
                (Code::Missing(1), "Not applicable".into()),
            ],
        }];
        let mut f = DtaFile::create(&path, "Test", vars, labels).expect("create");
        for r in rows {
            f.write(r).expect("write");
        }
        f.finish().expect("finish");
        assert!(!dir.path().join(".t.dta.spool").exists(), "spool left behind");
        std::fs::read(&path).expect("read")
    }

    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).position(|w| w == needle).expect("tag")
    }

    fn map(bytes: &[u8]) -> Vec<u64> {
        let at = find(bytes, b"<map>") + 5;
        (0..14)
            .map(|i| u64::from_le_bytes(bytes[at + i * 8..at + i * 8 + 8].try_into().expect("8")))
            .collect()
    }

    #[test]
    fn header_declares_release_byte_order_and_counts() {
        let b = write(
            vec![var("a", Kind::Number), var("b", Kind::Text)],
            &[&["1", "x"], &["2", "y"], &["", ""]],
        );
        let head = b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>";
        assert_eq!(&b[..head.len()], head);
        let k = head.len();
        assert_eq!(u16::from_le_bytes([b[k], b[k + 1]]), 2);
        assert_eq!(&b[k + 2..k + 9], b"</K><N>");
        assert_eq!(u64::from_le_bytes(b[k + 9..k + 17].try_into().expect("8")), 3);
        assert_eq!(&b[k + 17..k + 34], b"</N><label>\x04\x00Test");
        assert!(b.ends_with(b"</stata_dta>"));
    }

    #[test]
    fn map_points_at_every_section() {
        let b = write(
            vec![var("a", Kind::Number), var("s", coded()), var("t", Kind::Text)],
            &[&["1.5", "na", "x"], &["", "2", &"é".repeat(1500)], &["", "", ""]],
        );
        let m = map(&b);
        assert_eq!(m[0], 0);
        let tags: [&[u8]; 12] = [
            b"<map>",
            b"<variable_types>",
            b"<varnames>",
            b"<sortlist>",
            b"<formats>",
            b"<value_label_names>",
            b"<variable_labels>",
            b"<characteristics>",
            b"<data>",
            b"<strls>",
            b"<value_labels>",
            b"</stata_dta>",
        ];
        for (i, tag) in tags.iter().enumerate() {
            let at = m[i + 1] as usize;
            assert_eq!(&b[at..at + tag.len()], *tag, "map entry {}", i + 1);
        }
        assert_eq!(m[13] as usize, b.len());
        // 3000 bytes of text: a strL, with a GSO for each non-empty value.
        let types = m[2] as usize + b"<variable_types>".len();
        let t: Vec<u16> =
            (0..3).map(|i| u16::from_le_bytes([b[types + 2 * i], b[types + 2 * i + 1]])).collect();
        assert_eq!(t, vec![T_DOUBLE, T_BYTE, T_STRL]);
        let strls = &b[m[10] as usize..m[11] as usize];
        assert_eq!(strls.windows(3).filter(|w| w == b"GSO").count(), 2);
    }

    #[test]
    fn strings_are_cut_at_a_character_boundary() {
        // "ação" is a, ç (2 bytes), ã (2 bytes), o.
        assert_eq!(truncate_bytes("ação", 2), "a");
        assert_eq!(truncate_bytes("ação", 3), "aç");
        assert_eq!(truncate_bytes("ação", 100), "ação");
        let bengali = "পরিকল্পনা"; // 3 bytes a character
        assert_eq!(truncate_bytes(bengali, 4), "প");
        let long = "ç".repeat(100);
        assert_eq!(truncate_chars(&long, 80, 320).chars().count(), 80);
        assert_eq!(truncate_chars(&"প".repeat(100), 80, 320).len(), 240);
        assert_eq!(truncate_chars(&"😀".repeat(100), 80, 318).len(), 316);
        // In the file: a variable label of 100 Bengali characters fills at
        // most 320 bytes and still ends with a NUL.
        let mut v = var("b", Kind::Text);
        v.label = "প".repeat(100);
        let b = write(vec![v], &[&["x"]]);
        let at = map(&b)[7] as usize + b"<variable_labels>".len();
        let field = &b[at..at + LABEL_FIELD];
        let text = field.split(|c| *c == 0).next().expect("text");
        assert_eq!(std::str::from_utf8(text).expect("utf-8"), "প".repeat(80));
    }

    #[test]
    fn extended_missing_values_are_encoded_per_type() {
        assert_eq!(double_missing(0).to_bits(), 0x7FE0_0000_0000_0000);
        assert_eq!(double_missing(1).to_bits(), 0x7FE0_0100_0000_0000);
        assert_eq!(double_missing(26).to_bits(), 0x7FE0_1A00_0000_0000);
        assert_eq!(Code::parse(".a"), Some(Code::Missing(1)));
        assert_eq!(Code::parse(".c"), Some(Code::Missing(3)));
        assert_eq!(Code::parse("-4"), Some(Code::Int(-4)));
        assert_eq!(Code::parse(".A"), None);
        assert_eq!(Code::Missing(2).label_value(), 2_147_483_623);
        // In the data: a byte variable, "na" (.a) is 102 and empty (.) is 101.
        let b = write(vec![var("s", coded())], &[&["2"], &["na"], &[""]]);
        let m = map(&b);
        let data = &b[m[9] as usize + b"<data>".len()..m[10] as usize - b"</data>".len()];
        assert_eq!(data, &[2u8, 102, 101]);
        // A long variable holds .a as the long code.
        let mut k = coded();
        if let Kind::Coded { codes, .. } = &mut k {
            codes.insert("x".into(), Code::Int(100_000));
        }
        let b = write(vec![var("s", k)], &[&["na"], &["x"]]);
        let m = map(&b);
        let data = &b[m[9] as usize + 6..m[10] as usize - 7];
        assert_eq!(data.len(), 8);
        assert_eq!(&data[..4], &(LONG_MISSING + 1).to_le_bytes());
        // Value labels store .a with the long code too.
        let table = &b[m[11] as usize..m[12] as usize];
        assert!(table.windows(4).any(|w| w == (LONG_MISSING + 1).to_le_bytes()));
    }

    #[test]
    fn doubles_hold_missing_values_as_bit_patterns() {
        let mut w = Counted { out: Vec::new(), at: 0 };
        put_number(&mut w, Storage::Double, Num::Missing(2)).expect("put");
        put_number(&mut w, Storage::Double, Num::Value(-1.25)).expect("put");
        assert_eq!(w.at, 16);
        assert_eq!(&w.out[..8], &0x7FE0_0200_0000_0000u64.to_le_bytes());
        assert_eq!(&w.out[8..], &(-1.25f64).to_le_bytes());
    }

    #[test]
    fn a_spool_left_by_a_failed_export_is_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.dta");
        let mut f = DtaFile::create(&path, "", vec![var("a", Kind::Text)], vec![]).expect("create");
        f.write(&["x"]).expect("write");
        assert!(dir.path().join(".t.dta.spool").exists());
        drop(f);
        assert!(!dir.path().join(".t.dta.spool").exists());
        assert!(!path.exists());
    }

    #[test]
    fn a_number_column_with_text_is_kept_as_text() {
        let b = write(vec![var("n", Kind::Number)], &[&["12"], &["twelve"]]);
        let m = map(&b);
        let at = m[2] as usize + b"<variable_types>".len();
        assert_eq!(u16::from_le_bytes([b[at], b[at + 1]]), 6);
    }
}
