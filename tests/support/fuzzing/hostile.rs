//! Resource-bound targets (issue 15, findings 4 and 7): workbooks built
//! part by part from a recipe, so the fuzzer can place cells anywhere,
//! claim any dimension or shared-string count, add zip bombs, nest groups
//! and drive nested repeat counts; and the submission XML of values no
//! one should type. Both run inside libFuzzer's memory limit (1 GiB in
//! fuzz/run.sh): an allocation the bounds miss is a crash.

use std::fmt::Write as _;
use std::io::{Cursor, Write};
use std::sync::{Arc, OnceLock};

use enumera_core::expr::FixedEnv;
use enumera_core::instrument::import_xlsform_bytes;
use enumera_core::session::{Form, Session, SessionOptions};

use super::xlsform::use_instrument;

/// Largest zip bomb part one input may ask for (just over the bound).
const MAX_BOMB_MIB: usize = 130;
/// Most recipe lines one input may use.
const MAX_LINES: usize = 400;

/// The input is a recipe, one instruction a line:
/// - `cell ROW COL TEXT`: a cell of the survey sheet (0-based, any numbers);
/// - `dim REF`: the sheet's `<dimension ref>`;
/// - `sst COUNT`: a shared-strings part claiming COUNT strings;
/// - `bomb MIB`: an extra part of MIB mebibytes of zeros;
/// - `nest N`: N nested groups around a question;
/// - `counts N M`: a repeat counted by N holding one counted by M;
/// - `xls R0 R1 C0 C1 [ROW COL]...`: instead, a legacy .xls whose sheet
///   declares those dimensions and holds numbers at those cells.
///
/// The workbook is imported; what imports cleanly is written as an XForm,
/// compiled and filled.
pub fn xlsx_limits(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut recipe = Recipe::default();
    for line in text.lines().take(MAX_LINES) {
        recipe.read(line);
    }
    let bytes = match &recipe.xls {
        Some(xls) => legacy_xls(xls),
        None => recipe.xlsx(),
    };
    let Some(bytes) = bytes else { return };
    let Ok(imported) = import_xlsform_bytes(&bytes, "hostile.xlsx", None) else { return };
    if imported.has_errors() {
        return;
    }
    let counts = recipe.counts;
    use_instrument(imported.instrument.clone());
    if let (Some((n, m)), Ok(form)) = (counts, Form::compile(imported.instrument)) {
        let mut s = Session::with_env(
            Arc::new(form),
            SessionOptions::default(),
            Box::new(FixedEnv::default()),
        );
        let _ = s.set("/data/n", &n.to_string());
        let _ = s.set("/data/m", &m.to_string());
        let _ = s.submission_xml();
    }
}

#[derive(Debug, Default)]
struct Recipe {
    cells: Vec<(u64, u64, String)>,
    dim: Option<String>,
    sst: Option<String>,
    bomb: usize,
    nest: usize,
    counts: Option<(i64, i64)>,
    xls: Option<Vec<u64>>,
}

impl Recipe {
    fn read(&mut self, line: &str) {
        let mut words = line.splitn(4, ' ');
        let (Some(word), rest) = (words.next(), words.collect::<Vec<_>>()) else { return };
        let num = |i: usize| rest.get(i).and_then(|w| w.parse::<u64>().ok());
        match word {
            "cell" => {
                if let (Some(r), Some(c)) = (num(0), num(1)) {
                    self.cells.push((r, c, rest.get(2).unwrap_or(&"").to_string()));
                }
            }
            "dim" => self.dim = rest.first().map(|s| s.to_string()),
            "sst" => self.sst = Some(rest.join(" ")),
            "bomb" => self.bomb = num(0).unwrap_or(0).min(MAX_BOMB_MIB as u64) as usize,
            "nest" => self.nest = num(0).unwrap_or(0).min(5_000) as usize,
            "counts" => {
                let n = rest.first().and_then(|w| w.parse().ok()).unwrap_or(0);
                let m = rest.get(1).and_then(|w| w.parse().ok()).unwrap_or(0);
                self.counts = Some((n, m));
            }
            "xls" => {
                let nums: Vec<u64> =
                    line.split(' ').skip(1).filter_map(|w| w.parse().ok()).collect();
                self.xls = Some(nums);
            }
            _ => {}
        }
    }

    /// The .xlsx, written part by part.
    fn xlsx(&self) -> Option<Vec<u8>> {
        let mut rows: Vec<(u64, u64, String)> = vec![
            (0, 0, "type".into()),
            (0, 1, "name".into()),
            (0, 2, "label".into()),
            (0, 3, "repeat_count".into()),
        ];
        let mut r = 1;
        let mut row = |rows: &mut Vec<(u64, u64, String)>, cells: [&str; 4]| {
            for (c, v) in cells.iter().enumerate() {
                if !v.is_empty() {
                    rows.push((r, c as u64, v.to_string()));
                }
            }
            r += 1;
        };
        for i in 0..self.nest {
            row(&mut rows, ["begin group", &format!("g{i}"), "G", ""]);
        }
        row(&mut rows, ["text", "q", "Q", ""]);
        for _ in 0..self.nest {
            row(&mut rows, ["end group", "", "", ""]);
        }
        if self.counts.is_some() {
            row(&mut rows, ["integer", "n", "N", ""]);
            row(&mut rows, ["integer", "m", "M", ""]);
            row(&mut rows, ["begin repeat", "outer", "Outer", "${n}"]);
            row(&mut rows, ["begin repeat", "inner", "Inner", "${m}"]);
            row(&mut rows, ["text", "x", "X", ""]);
            row(&mut rows, ["end repeat", "", "", ""]);
            row(&mut rows, ["end repeat", "", "", ""]);
        }
        rows.extend(self.cells.iter().cloned());
        let mut sheet = String::from(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
        );
        if let Some(d) = &self.dim {
            let _ = write!(sheet, r#"<dimension ref="{}"/>"#, xml_attr(d));
        }
        sheet.push_str("<sheetData>");
        for (r, c, v) in &rows {
            let _ = write!(
                sheet,
                r#"<row r="{}"><c r="{}{}" t="inlineStr"><is><t>{}</t></is></c></row>"#,
                r + 1,
                column_name(*c),
                r + 1,
                xml_text(v)
            );
        }
        sheet.push_str("</sheetData></worksheet>");
        let mut parts: Vec<(&str, Vec<u8>)> = vec![
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes().to_vec()),
            ("_rels/.rels", RELS.as_bytes().to_vec()),
            ("xl/workbook.xml", WORKBOOK.as_bytes().to_vec()),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.as_bytes().to_vec()),
            ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
        ];
        if let Some(count) = &self.sst {
            let sst = format!(
                r#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}"><si><t>a</t></si></sst>"#,
                xml_attr(count)
            );
            parts.push(("xl/sharedStrings.xml", sst.into_bytes()));
        }
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in parts {
            zip.start_file(name, opts).ok()?;
            zip.write_all(&bytes).ok()?;
        }
        if self.bomb > 0 {
            zip.start_file("xl/media/bomb.bin", opts).ok()?;
            let zeros = vec![0u8; 1 << 20];
            for _ in 0..self.bomb {
                zip.write_all(&zeros).ok()?;
            }
        }
        Some(zip.finish().ok()?.into_inner())
    }
}

/// A legacy .xls: the sheet declares `nums[0..4]` as its dimensions
/// (first row, last row + 1, first column, last column + 1) and holds a
/// number at each (row, column) pair after them.
fn legacy_xls(nums: &[u64]) -> Option<Vec<u8>> {
    fn record(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
        out.extend(kind.to_le_bytes());
        out.extend((body.len() as u16).to_le_bytes());
        out.extend(body);
    }
    let at = |i: usize| nums.get(i).copied().unwrap_or(0);
    let bof = |kind: u16| {
        let mut b = vec![0x00, 0x06];
        b.extend(kind.to_le_bytes());
        b.extend([0u8; 12]);
        b
    };
    let mut out = Vec::new();
    record(&mut out, 0x0809, &bof(0x0005));
    let sheet_at = out.len() + 4 + 4 + 2 + 6 + 4;
    let mut bs = (sheet_at as u32).to_le_bytes().to_vec();
    bs.extend([0, 0, 6, 0]);
    bs.extend(b"survey");
    record(&mut out, 0x0085, &bs);
    record(&mut out, 0x000A, &[]);
    record(&mut out, 0x0809, &bof(0x0010));
    let mut dims = (at(0) as u32).to_le_bytes().to_vec();
    dims.extend((at(1) as u32).to_le_bytes());
    dims.extend((at(2) as u16).to_le_bytes());
    dims.extend((at(3) as u16).to_le_bytes());
    dims.extend([0, 0]);
    record(&mut out, 0x0200, &dims);
    for pair in nums.get(4..).unwrap_or_default().chunks(2).take(64) {
        let (r, c) = (pair[0], pair.get(1).copied().unwrap_or(0));
        let mut number = (r as u16).to_le_bytes().to_vec();
        number.extend((c as u16).to_le_bytes());
        number.extend([0, 0]);
        number.extend(1.0f64.to_le_bytes());
        record(&mut out, 0x0203, &number);
    }
    record(&mut out, 0x000A, &[]);
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).ok()?;
    file.create_stream("/Workbook").ok()?.write_all(&out).ok()?;
    file.flush().ok()?;
    Some(file.into_inner().into_inner())
}

/// `0` -> `A`, `26` -> `AA` (any size: the reader must cope).
fn column_name(mut c: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn xml_attr(s: &str) -> String {
    xml_text(s).replace('"', "&quot;")
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="survey" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

// ---- the submission XML ----------------------------------------------------

/// A form with a text question, a calculation over base64 the input
/// supplies, a select and a repeat: every way a value reaches the XML.
fn submission_form() -> Option<Arc<Form>> {
    static CELL: OnceLock<Option<Arc<Form>>> = OnceLock::new();
    CELL.get_or_init(|| {
        let bytes = crate::XlsForm::new()
            .survey(&[
                &["type", "name", "label", "calculation"],
                &["text", "t", "T", ""],
                &["text", "b", "B", ""],
                &["calculate", "c", "", "concat(${t}, base64-decode(${b}))"],
                &["select_one yn", "s", "S", ""],
                &["begin repeat", "r", "R", ""],
                &["text", "rt", "RT", ""],
                &["end repeat", "", "", ""],
            ])
            .choices(&[&["list_name", "name", "label"], &["yn", "yes", "Yes"], &["yn", "no", "No"]])
            .settings(&[&["form_id", "version"], &["sub<&\"'>", "1\u{7}"]])
            .to_bytes();
        let imported = import_xlsform_bytes(&bytes, "submission.xlsx", None).ok()?;
        Form::compile(imported.instrument).ok().map(Arc::new)
    })
    .clone()
}

/// Whether the submission target's form compiles (the replay test checks
/// it, so the target never silently does nothing).
pub fn submission_form_compiles() -> bool {
    submission_form().is_some()
}

/// What the submission must hold for a value given by any route: the
/// value, with what XML 1.0 cannot carry replaced by U+FFFD.
fn expected(value: &str) -> String {
    value
        .chars()
        .map(|c| if enumera_core::session::submission::is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect()
}

/// The input, split at the first two NUL-free `\u{1}` markers, gives a
/// typed answer, base64 text for the calculation, and a raw draft value
/// (as a draft saved by an older version could hold). Whatever they are,
/// the submission is well-formed XML that reads back as the values.
pub fn submission_xml(data: &[u8]) {
    let Some(form) = submission_form() else { return };
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\u{1}');
    let typed = parts.next().unwrap_or_default();
    let b64 = parts.next().unwrap_or_default();
    let raw = parts.next().unwrap_or_default();
    let mut s = Session::restore(
        form,
        SessionOptions { device_id: Some(raw.to_string()), ..Default::default() },
        Box::new(FixedEnv::default()),
        &[("/data/r".into(), 2)],
        &[("/data/r[2]/rt".into(), raw.to_string()), ("/data/s".into(), raw.to_string())],
    );
    let accepted = s.set("/data/t", typed).is_ok();
    if accepted {
        assert!(typed.chars().all(enumera_core::session::submission::is_xml_char));
    }
    let _ = s.set("/data/b", b64);
    let xml = s.submission_xml();
    let doc = roxmltree::Document::parse(&xml)
        .unwrap_or_else(|e| panic!("the submission is not XML ({e}): {xml:?}"));
    let text_of = |name: &str| -> Vec<String> {
        doc.descendants()
            .filter(|n| n.has_tag_name(name))
            .map(|n| n.text().unwrap_or("").to_string())
            .collect()
    };
    if accepted {
        // The XML holds the answer as stored (white space alone is no answer).
        let stored = s.leaves().into_iter().find(|l| l.reference == "/data/t").map(|l| l.value);
        assert_eq!(text_of("t").first().cloned().unwrap_or_default(), stored.unwrap_or_default());
    }
    if !raw.is_empty() {
        assert_eq!(text_of("rt").get(1).cloned().unwrap_or_default(), expected(raw), "draft value");
    }
    let calc = s.leaves().into_iter().find(|l| l.reference == "/data/c").map(|l| l.value);
    assert_eq!(
        text_of("c").first().cloned().unwrap_or_default(),
        expected(&calc.unwrap_or_default())
    );
    let root = doc.root_element();
    assert_eq!(root.attribute("id"), Some("sub<&\"'>"));
    assert_eq!(root.attribute("version"), Some("1\u{FFFD}"));
}
