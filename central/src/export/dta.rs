//! Stata `.dta` files, format 118 (Stata 14 and later, UTF-8), written
//! from StataCorp's published description of the format.
//!
//! The rows come from a finished spool (spool.rs), which knows each
//! column's type once every value has been seen: numbers take the smallest
//! of `byte`/`int`/`long`/`double` that holds them, as Stata's `compress`
//! would; text takes `str1`..`str2045`, or `strL` when longer; dates are
//! `long` days with format `%td`, date-times `double` milliseconds in UTC
//! with `%tc`, times of day `%tcHH:MM:SS`. Choices are their codes
//! (codes.rs) with value labels; missing-style choices are Stata's
//! extended missing values (`.d`, `.r`, `.n`, ...) and empty answers `.`.
//! The section map is written as zeros and patched once offsets are known.
//!
//! Labels in several languages are stored as Stata's `label language`
//! stores them: characteristics `_dta[_lang_list]` and `_dta[_lang_c]`, and
//! for each other language `_dta[_lang_l_L]` (dataset label),
//! `var[_lang_l_L]` (variable label) and `var[_lang_v_L]` (the value label
//! set of that language, `l_list_L`); `label language pt` switches.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::ExportError;
use super::codes::Code;
use super::spool::{Cell, Finished, Resolved};

/// Longest `str#` type; longer text is written as `strL`.
pub const STR_MAX: usize = 2045;
/// Stata's limits on label lengths: characters, and the bytes they take.
const VAR_LABEL_CHARS: usize = 80;
const VAR_LABEL_BYTES: usize = 320;
const VALUE_LABEL_BYTES: usize = 32_000;
/// Characteristics hold at most 67,784 bytes.
const CHAR_BYTES: usize = 67_783;
/// Name fields (variable, value label) hold 32 characters of 4 bytes + NUL.
const NAME_FIELD: usize = 129;
const FORMAT_FIELD: usize = 57;
const LABEL_FIELD: usize = 321;

const T_STRL: u16 = 32768;
const T_DOUBLE: u16 = 65526;
const T_LONG: u16 = 65528;
const T_INT: u16 = 65529;
const T_BYTE: u16 = 65530;

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

/// The value a value-label table stores for a code: extended missing
/// values take the `long` missing codes.
fn label_value(c: Code) -> i32 {
    match c {
        Code::Valid(n) => n,
        Code::Missing { letter, .. } => LONG_MISSING + i32::from(letter),
    }
}

/// One variable: a valid Stata name, its label per language (the first
/// the current language), and the value label set it uses, if any.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub labels: Vec<String>,
    pub value_label: Option<String>,
}

/// A value label set: (code, label per language) pairs.
#[derive(Debug, Clone)]
pub struct ValueLabels {
    pub name: String,
    pub entries: Vec<(Code, Vec<String>)>,
}

/// What goes into one `.dta` besides the rows.
#[derive(Debug, Clone)]
pub struct Dictionary {
    /// Dataset label per language.
    pub labels: Vec<String>,
    /// Label languages as Stata names (`en`, `pt`); empty or one: no `label language`.
    pub languages: Vec<String>,
    pub vars: Vec<Variable>,
    pub value_labels: Vec<ValueLabels>,
}

/// The name of a value label set in language `i` (0: the set's own name).
pub fn set_name(name: &str, languages: &[String], i: usize) -> String {
    if i == 0 {
        return name.to_string();
    }
    let suffix = format!("_{}", languages[i]);
    let keep = super::dta::truncate_bytes(name, 32 - suffix.len().min(31));
    format!("{keep}{suffix}")
}

/// Storage decided from a resolved column.
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
    fn of(r: Resolved) -> Storage {
        match r {
            Resolved::Text { width, .. } if width > STR_MAX => Storage::StrL,
            Resolved::Text { width, .. } => Storage::Str(width.max(1)),
            Resolved::Number { whole: true, min, max } => Storage::whole(min, max),
            Resolved::Number { .. } | Resolved::DateTime | Resolved::Time => Storage::Double,
            Resolved::Date => Storage::Long,
        }
    }

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

    fn format(self, r: Resolved) -> String {
        match (self, r) {
            (_, Resolved::Date) => "%td".into(),
            (_, Resolved::DateTime) => "%tc".into(),
            (_, Resolved::Time) => "%tcHH:MM:SS".into(),
            (Storage::Str(n), _) => format!("%{}s", n.min(244)),
            (Storage::StrL, _) => "%9s".into(),
            (Storage::Byte | Storage::Int, _) => "%8.0g".into(),
            (Storage::Long, _) => "%12.0g".into(),
            (Storage::Double, _) => "%10.0g".into(),
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

/// Writes `path` from a finished spool.
pub fn write(path: &Path, dict: &Dictionary, data: &Finished) -> Result<PathBuf, ExportError> {
    if dict.vars.len() > 32_767 {
        return Err(ExportError::Dta {
            path: path.to_path_buf(),
            reason: format!("{} variables; a .dta file holds at most 32,767", dict.vars.len()),
        });
    }
    let storage: Vec<Storage> = data.resolved.iter().map(|r| Storage::of(*r)).collect();
    write_dta(path, dict, data, &storage).map_err(|e| match e {
        DtaError::Io(e) => ExportError::io(path, e),
        DtaError::Export(e) => e,
    })?;
    Ok(path.to_path_buf())
}

enum DtaError {
    Io(std::io::Error),
    Export(ExportError),
}

impl From<std::io::Error> for DtaError {
    fn from(e: std::io::Error) -> Self {
        DtaError::Io(e)
    }
}

impl From<ExportError> for DtaError {
    fn from(e: ExportError) -> Self {
        DtaError::Export(e)
    }
}

fn write_dta(
    path: &Path,
    dict: &Dictionary,
    data: &Finished,
    storage: &[Storage],
) -> Result<(), DtaError> {
    let file = File::create(path)?;
    let mut w = Counted { out: BufWriter::with_capacity(256 * 1024, file), at: 0 };
    let k = dict.vars.len();
    let langs = dict.languages.len().max(1);
    // Value labels actually attached (a coded variable stored as text has
    // none), each once.
    let attached: Vec<Option<&str>> = dict
        .vars
        .iter()
        .zip(storage)
        .map(|(v, s)| v.value_label.as_deref().filter(|_| s.is_numeric()))
        .collect();

    let mut map = [0u64; 14];
    w.put(b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder><K>")?;
    w.put(&(k as u16).to_le_bytes())?;
    w.put(b"</K><N>")?;
    w.put(&data.rows.to_le_bytes())?;
    w.put(b"</N><label>")?;
    let label = truncate_chars(
        dict.labels.first().map_or("", String::as_str),
        VAR_LABEL_CHARS,
        VAR_LABEL_BYTES,
    );
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
    for v in &dict.vars {
        w.field(&v.name, NAME_FIELD)?;
    }
    w.put(b"</varnames>")?;

    map[4] = w.at;
    w.put(b"<sortlist>")?;
    w.put(&vec![0u8; (k + 1) * 2])?;
    w.put(b"</sortlist>")?;

    map[5] = w.at;
    w.put(b"<formats>")?;
    for (s, r) in storage.iter().zip(&data.resolved) {
        w.field(&s.format(*r), FORMAT_FIELD)?;
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
    for v in &dict.vars {
        let l = v.labels.first().map_or("", String::as_str);
        w.field(truncate_chars(l, VAR_LABEL_CHARS, VAR_LABEL_BYTES), LABEL_FIELD)?;
    }
    w.put(b"</variable_labels>")?;

    map[8] = w.at;
    w.put(b"<characteristics>")?;
    if langs > 1 {
        let list = dict.languages.join(" ");
        w.characteristic("_dta", "_lang_list", &list)?;
        w.characteristic("_dta", "_lang_c", &dict.languages[0])?;
        for (i, lang) in dict.languages.iter().enumerate().skip(1) {
            let dl = dict.labels.get(i).map_or("", String::as_str);
            w.characteristic("_dta", &format!("_lang_l_{lang}"), truncate_chars(dl, 80, 320))?;
            for (v, a) in dict.vars.iter().zip(&attached) {
                let l = v.labels.get(i).map_or("", String::as_str);
                if !l.is_empty() {
                    w.characteristic(
                        &v.name,
                        &format!("_lang_l_{lang}"),
                        truncate_chars(l, 80, 320),
                    )?;
                }
                if let Some(set) = a {
                    let name = set_name(set, &dict.languages, i);
                    w.characteristic(&v.name, &format!("_lang_v_{lang}"), &name)?;
                }
            }
        }
    }
    w.put(b"</characteristics>")?;

    map[9] = w.at;
    w.put(b"<data>")?;
    let mut rows = data.reader()?;
    while rows.next_row()? {
        for (i, s) in storage.iter().enumerate() {
            let v = rows.value(i);
            match *s {
                Storage::Str(width) => {
                    let b = truncate_bytes(v, width).as_bytes();
                    w.put(b)?;
                    w.put(&ZEROS[..width - b.len()])?;
                }
                Storage::StrL => {
                    // (v, o): variable and observation, 1-based; (0, 0) is "".
                    let key = if v.is_empty() { 0 } else { strl_key(i, rows.row) };
                    w.put(&key.to_le_bytes())?;
                }
                numeric => put_number(&mut w, numeric, data.cell(i, v))?,
            }
        }
    }
    w.put(b"</data>")?;

    map[10] = w.at;
    w.put(b"<strls>")?;
    if storage.contains(&Storage::StrL) {
        let mut rows = data.reader()?;
        while rows.next_row()? {
            for (i, s) in storage.iter().enumerate() {
                let v = rows.value(i).as_bytes();
                if *s == Storage::StrL && !v.is_empty() {
                    w.put(b"GSO")?;
                    w.put(&(i as u32 + 1).to_le_bytes())?;
                    w.put(&rows.row.to_le_bytes())?;
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
        if let Some(vl) = dict.value_labels.iter().find(|l| l.name == *name) {
            for i in 0..langs {
                let table = value_label_table(vl, i);
                w.put(b"<lbl>")?;
                w.put(&(table.len() as u32).to_le_bytes())?;
                w.field(&set_name(&vl.name, &dict.languages, i), NAME_FIELD)?;
                w.put(&[0u8; 3])?;
                w.put(&table)?;
                w.put(b"</lbl>")?;
            }
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
    file.flush()?;
    Ok(())
}

const ZEROS: [u8; STR_MAX] = [0; STR_MAX];

/// A strL reference in format 118: the variable in the low 2 bytes, the
/// observation in the high 6.
fn strl_key(var: usize, obs: u64) -> u64 {
    (var as u64 + 1) | (obs << 16)
}

fn put_number<W: Write>(w: &mut Counted<W>, s: Storage, c: Cell<'_>) -> std::io::Result<()> {
    // (missing letter, or the value)
    let (missing, x) = match c {
        Cell::Number(x) => (None, x),
        Cell::Code(Code::Valid(n)) => (None, f64::from(n)),
        Cell::Code(Code::Missing { letter, .. }) => (Some(letter), 0.0),
        Cell::Time(t) => (None, t.stata),
        Cell::Empty | Cell::Text(_) => (Some(0), 0.0),
    };
    let int = |base: i32| missing.map_or(x as i32, |k| base + i32::from(k));
    match s {
        Storage::Byte => w.put(&(int(BYTE_MISSING) as i8).to_le_bytes()),
        Storage::Int => w.put(&(int(INT_MISSING) as i16).to_le_bytes()),
        Storage::Long => w.put(&int(LONG_MISSING).to_le_bytes()),
        _ => {
            let x = missing.map_or(x, double_missing);
            w.put(&x.to_le_bytes())
        }
    }
}

/// A value-label table in language `lang`: n, text length, offsets,
/// values, texts (each closed by NUL), ordered by value.
fn value_label_table(vl: &ValueLabels, lang: usize) -> Vec<u8> {
    let mut entries: Vec<(i32, &str)> = vl
        .entries
        .iter()
        .map(|(c, t)| {
            let text = t.get(lang).or_else(|| t.first()).map_or("", String::as_str);
            (label_value(*c), truncate_bytes(text, VALUE_LABEL_BYTES))
        })
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

    /// `<ch>`: length, variable (or `_dta`), name, contents with a NUL.
    fn characteristic(&mut self, var: &str, name: &str, contents: &str) -> std::io::Result<()> {
        let contents = truncate_bytes(contents, CHAR_BYTES);
        self.put(b"<ch>")?;
        self.put(&((2 * NAME_FIELD + contents.len() + 1) as u32).to_le_bytes())?;
        self.field(var, NAME_FIELD)?;
        self.field(name, NAME_FIELD)?;
        self.put(contents.as_bytes())?;
        self.put(&[0u8])?;
        self.put(b"</ch>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::spool::{Plan, Spool};
    use crate::export::types::ValueType;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn coded_plan() -> Plan {
        let codes: HashMap<String, Code> = [
            ("1", Code::Valid(1)),
            ("2", Code::Valid(2)),
            ("na", Code::Missing { letter: 14, spss: -914 }),
        ]
        .iter()
        .map(|(n, c)| (n.to_string(), *c))
        .collect();
        Plan { vtype: ValueType::Coded, codes: Some(Arc::new(codes)) }
    }

    fn var(name: &str, set: Option<&str>) -> Variable {
        Variable {
            name: name.into(),
            labels: vec![format!("Label of {name}"), format!("Rótulo de {name}")],
            value_label: set.map(String::from),
        }
    }

    /// Writes `rows` and returns the file's bytes.
    fn write_rows(
        plans: Vec<Plan>,
        vars: Vec<Variable>,
        rows: &[&[&str]],
        langs: &[&str],
    ) -> Vec<u8> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.dta");
        let mut s = Spool::create(&path, plans).expect("spool");
        for r in rows {
            s.write(r).expect("write");
        }
        let data = s.finish().expect("finish");
        let dict = Dictionary {
            labels: vec!["Test".into(), "Teste".into()],
            languages: langs.iter().map(|l| l.to_string()).collect(),
            vars,
            value_labels: vec![ValueLabels {
                name: "l_scale".into(),
                entries: vec![
                    (Code::Valid(1), vec!["Low".into(), "Baixa".into()]),
                    (Code::Valid(2), vec!["High".into(), "Alta".into()]),
                    (Code::Missing { letter: 14, spss: -914 }, vec!["Not applicable".into()]),
                ],
            }],
        };
        write(&path, &dict, &data).expect("write");
        drop(data);
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

    fn types(b: &[u8], k: usize) -> Vec<u16> {
        let at = map(b)[2] as usize + b"<variable_types>".len();
        (0..k).map(|i| u16::from_le_bytes([b[at + 2 * i], b[at + 2 * i + 1]])).collect()
    }

    #[test]
    fn header_declares_release_byte_order_and_counts() {
        let b = write_rows(
            vec![Plan { vtype: ValueType::Number, codes: None }, Plan::text()],
            vec![var("a", None), var("b", None)],
            &[&["1", "x"], &["2", "y"], &["", ""]],
            &[],
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
        let b = write_rows(
            vec![Plan { vtype: ValueType::Number, codes: None }, coded_plan(), Plan::text()],
            vec![var("a", None), var("s", Some("l_scale")), var("t", None)],
            &[&["1.5", "na", "x"], &["", "2", &"é".repeat(1500)], &["", "", ""]],
            &["en", "pt"],
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
        assert_eq!(types(&b, 3), vec![T_DOUBLE, T_BYTE, T_STRL]);
        let strls = &b[m[10] as usize..m[11] as usize];
        assert_eq!(strls.windows(3).filter(|w| w == b"GSO").count(), 2);
    }

    #[test]
    fn label_languages_are_characteristics_and_one_value_label_set_each() {
        let b = write_rows(
            vec![coded_plan()],
            vec![var("s", Some("l_scale"))],
            &[&["1"]],
            &["en", "pt"],
        );
        let m = map(&b);
        let chars = &b[m[8] as usize..m[9] as usize];
        let has = |s: &[u8]| chars.windows(s.len()).any(|w| w == s);
        assert!(has(b"_lang_list"));
        assert!(has(b"en pt\0"));
        assert!(has(b"_lang_c"));
        assert!(has(b"_lang_l_pt"));
        assert!(has("Rótulo de s".as_bytes()));
        assert!(has(b"_lang_v_pt"));
        assert!(has(b"l_scale_pt\0"));
        let labels = &b[m[11] as usize..m[12] as usize];
        assert_eq!(labels.windows(5).filter(|w| w == b"<lbl>").count(), 2);
        assert!(labels.windows(5).any(|w| w == b"Baixa"));
        // The missing-style choice has no Portuguese label: the first language's.
        assert_eq!(labels.windows(14).filter(|w| w == b"Not applicable").count(), 2);
    }

    #[test]
    fn dates_are_days_and_date_times_milliseconds_in_utc() {
        let b = write_rows(
            vec![
                Plan { vtype: ValueType::Date, codes: None },
                Plan { vtype: ValueType::DateTime, codes: None },
            ],
            vec![var("d", None), var("t", None)],
            &[&["1960-01-03", "1960-01-01T02:00:01.000+02:00"], &["", ""]],
            &[],
        );
        let m = map(&b);
        assert_eq!(types(&b, 2), vec![T_LONG, T_DOUBLE]);
        let formats = &b[m[5] as usize..m[6] as usize];
        assert!(formats.windows(4).any(|w| w == b"%td\0"));
        assert!(formats.windows(4).any(|w| w == b"%tc\0"));
        let data = &b[m[9] as usize + 6..m[10] as usize - 7];
        assert_eq!(&data[..4], &2i32.to_le_bytes());
        assert_eq!(&data[4..12], &1000f64.to_le_bytes());
        assert_eq!(&data[12..16], &LONG_MISSING.to_le_bytes());
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
        let mut v = var("b", None);
        v.labels = vec!["প".repeat(100)];
        let b = write_rows(vec![Plan::text()], vec![v], &[&["x"]], &[]);
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
        assert_eq!(label_value(Code::Missing { letter: 2, spss: 0 }), 2_147_483_623);
        // In the data: a byte variable, "na" (.n) is 101 + 14 and empty (.) is 101.
        let b = write_rows(
            vec![coded_plan()],
            vec![var("s", Some("l_scale"))],
            &[&["2"], &["na"], &[""]],
            &[],
        );
        let m = map(&b);
        let data = &b[m[9] as usize + b"<data>".len()..m[10] as usize - b"</data>".len()];
        assert_eq!(data, &[2u8, 115, 101]);
        // Value labels store .n with the long code.
        let table = &b[m[11] as usize..m[12] as usize];
        assert!(table.windows(4).any(|w| w == (LONG_MISSING + 14).to_le_bytes()));
    }

    #[test]
    fn doubles_hold_missing_values_as_bit_patterns() {
        let mut w = Counted { out: Vec::new(), at: 0 };
        put_number(&mut w, Storage::Double, Cell::Code(Code::Missing { letter: 2, spss: 0 }))
            .expect("put");
        put_number(&mut w, Storage::Double, Cell::Number(-1.25)).expect("put");
        assert_eq!(w.at, 16);
        assert_eq!(&w.out[..8], &0x7FE0_0200_0000_0000u64.to_le_bytes());
        assert_eq!(&w.out[8..], &(-1.25f64).to_le_bytes());
    }

    #[test]
    fn a_number_column_with_text_is_kept_as_text() {
        let b = write_rows(
            vec![Plan { vtype: ValueType::Number, codes: None }],
            vec![var("n", None)],
            &[&["12"], &["twelve"]],
            &[],
        );
        assert_eq!(types(&b, 1), vec![6]);
    }
}
