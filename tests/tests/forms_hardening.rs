//! Regression tests for the hardening classes of issue 15 in forms and
//! sessions, named after their class (docs/RELIABILITY.md, "Hardening
//! classes"): fail closed, input at entry, resource bounds.

use enumera_core::instrument::{Imported, import_xlsform};
use enumera_tests::XlsForm;

fn check(form: XlsForm) -> Imported {
    let (_dir, path) = form.write_temp("hostile");
    import_xlsform(&path).expect("a readable workbook")
}

fn errors(form: XlsForm) -> Vec<String> {
    check(form).errors().map(|d| d.to_string()).collect()
}

#[test]
fn fail_closed_form_check_reports_what_can_never_be_evaluated() {
    let errs = errors(XlsForm::new().survey(&[
        &["type", "name", "label", "constraint", "calculation"],
        &["text", "code", "Code", "regex(., '^\\w{100000}$')", ""],
        &["text", "bad", "Bad", "regex(., '(?i)abc')", ""],
        &["calculate", "h", "", "", "digest(${code}, 'SHA-999')"],
        &["text", "fine", "Fine", "regex(., '^\\w{10}$')", ""],
    ]));
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(
        errs[0].starts_with("survey!D2: bad regular expression") && errs[0].contains("size limit")
    );
    assert!(
        errs[1].starts_with("survey!D3: bad regular expression")
            && errs[1].contains("inline flags")
    );
    assert!(errs[2].starts_with("survey!E4: digest(): unsupported algorithm 'SHA-999'"));
}

// ---- resource bounds: hostile workbooks ------------------------------------

use std::io::{Cursor, Read, Write};

use enumera_core::instrument::{ImportError, import_xlsform_bytes};

fn simple_form() -> XlsForm {
    XlsForm::new().survey(&[&["type", "name", "label"], &["text", "q", "Q"]])
}

/// The workbook's parts, with `edit` applied, packed again.
fn repack(
    xlsx: &[u8],
    edit: impl Fn(&str, Vec<u8>) -> Vec<u8>,
    extra: &[(&str, Vec<u8>)],
) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).expect("a zip");
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).expect("part");
        let name = part.name().expect("name").to_string();
        let mut bytes = Vec::new();
        part.read_to_end(&mut bytes).expect("read part");
        out.start_file(name.as_str(), opts).expect("start");
        out.write_all(&edit(&name, bytes)).expect("write");
    }
    for (name, bytes) in extra {
        out.start_file(*name, opts).expect("start");
        out.write_all(bytes).expect("write");
    }
    out.finish().expect("finish").into_inner()
}

#[test]
fn resource_bounds_one_cell_at_the_far_corner_costs_one_cell() {
    // On main the reader built the whole rectangle: 17 billion cells, and abort.
    let form = simple_form().cell("survey", 1_048_575, 16_383, "far away".into());
    let bytes = form.to_bytes();
    assert!(bytes.len() < 16 * 1024, "a tiny file: {} bytes", bytes.len());
    let imported = import_xlsform_bytes(&bytes, "far.xlsx", None).expect("read cell by cell");
    assert!(!imported.has_errors(), "{:?}", imported.diagnostics);
    assert_eq!(imported.instrument.children.len(), 1);
}

#[test]
fn resource_bounds_a_zip_bomb_is_refused_before_it_unpacks() {
    let base = simple_form().to_bytes();
    // 130 MiB of zeros compress to about 130 KiB.
    let bomb = vec![0u8; 130 << 20];
    let bytes = repack(&base, |_, b| b, &[("xl/media/bomb.bin", bomb)]);
    assert!(bytes.len() < 1 << 20, "{} bytes", bytes.len());
    match import_xlsform_bytes(&bytes, "bomb.xlsx", None) {
        Err(ImportError::TooLarge { reason, .. }) => {
            assert!(reason.contains("unpacks to more than 128 MiB"), "{reason}")
        }
        other => panic!("expected a refusal, got {:?}", other.map(|i| i.diagnostics)),
    }
}

#[test]
fn resource_bounds_a_shared_string_table_cannot_claim_billions() {
    // The reader reserved room for the declared count up front: 96 GB, abort.
    let base = simple_form().to_bytes();
    let bytes = repack(
        &base,
        |name, b| {
            if !name.ends_with("sharedStrings.xml") {
                return b;
            }
            let text = String::from_utf8(b).expect("xml");
            let at = text.find("uniqueCount=\"").expect("a count") + "uniqueCount=\"".len();
            let end = at + text[at..].find('"').expect("closing quote");
            format!("{}4000000000{}", &text[..at], &text[end..]).into_bytes()
        },
        &[],
    );
    match import_xlsform_bytes(&bytes, "sst.xlsx", None) {
        Err(ImportError::TooLarge { reason, .. }) => {
            assert!(reason.contains("4000000000"), "{reason}")
        }
        other => panic!("expected a refusal, got {:?}", other.map(|i| i.diagnostics)),
    }
}

#[test]
fn resource_bounds_nesting_is_bounded_and_nothing_deep_reaches_the_writers() {
    // On main 3,000 nested groups passed form check and overflowed the
    // stack in `form convert -o x.xml`.
    let mut rows: Vec<Vec<String>> = vec![vec!["type".into(), "name".into(), "label".into()]];
    for i in 0..3000 {
        rows.push(vec!["begin group".into(), format!("g{i}"), format!("G{i}")]);
    }
    rows.push(vec!["text".into(), "q".into(), "Q".into()]);
    for _ in 0..3000 {
        rows.push(vec!["end group".into(), String::new(), String::new()]);
    }
    let refs: Vec<Vec<&str>> =
        rows.iter().map(|r| r.iter().map(String::as_str).collect()).collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    let imported = check(XlsForm::new().survey(&slices));
    let errs: Vec<String> = imported.errors().map(|d| d.to_string()).collect();
    assert_eq!(
        errs,
        ["survey!A34: 'g32' is nested 33 groups and repeats deep; Enumera reads at most 32 levels"]
    );
    // What was read is at most 32 deep, so every later walk is safe.
    fn depth(nodes: &[enumera_core::instrument::Node]) -> usize {
        nodes
            .iter()
            .map(|n| if n.is_container() { 1 + depth(&n.children) } else { 0 })
            .max()
            .unwrap_or(0)
    }
    assert_eq!(depth(&imported.instrument.children), 32);
    imported.instrument.to_xform().expect("written without overflowing the stack");
    let json = imported.instrument.canonical_json();
    enumera_core::instrument::Instrument::from_json(&json).expect("and read back");
}

/// A legacy .xls whose one sheet claims `rows` x 256 cells.
fn xls_claiming(rows: u32) -> Vec<u8> {
    fn record(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
        out.extend(kind.to_le_bytes());
        out.extend((body.len() as u16).to_le_bytes());
        out.extend(body);
    }
    let bof = |kind: u16| {
        let mut b = vec![0x00, 0x06]; // BIFF8
        b.extend(kind.to_le_bytes());
        b.extend([0u8; 12]);
        b
    };
    let mut globals = Vec::new();
    record(&mut globals, 0x0809, &bof(0x0005));
    let sheet_name = b"survey";
    let boundsheet_len = 4 + 8 + 2 + sheet_name.len();
    let sheet_at = globals.len() + boundsheet_len + 4 + 4; // + BOUNDSHEET + EOF
    let mut bs = (sheet_at as u32).to_le_bytes().to_vec();
    bs.extend([0, 0, sheet_name.len() as u8, 0]);
    bs.extend(sheet_name);
    record(&mut globals, 0x0085, &bs);
    record(&mut globals, 0x000A, &[]);
    let mut dims = 0u32.to_le_bytes().to_vec();
    dims.extend(rows.to_le_bytes());
    dims.extend(0u16.to_le_bytes());
    dims.extend(256u16.to_le_bytes());
    dims.extend(0u16.to_le_bytes());
    record(&mut globals, 0x0809, &bof(0x0010));
    record(&mut globals, 0x0200, &dims);
    record(&mut globals, 0x000A, &[]);
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("cfb");
    file.create_stream("/Workbook").expect("stream").write_all(&globals).expect("write");
    file.flush().expect("flush");
    file.into_inner().into_inner()
}

#[test]
fn resource_bounds_a_legacy_sheet_cannot_claim_a_million_rows() {
    let bytes = xls_claiming(1_000_000);
    assert!(bytes.len() < 32 * 1024, "{} bytes", bytes.len());
    match import_xlsform_bytes(&bytes, "old.xls", None) {
        Err(ImportError::TooLarge { reason, .. }) => {
            assert!(reason.contains("256000000 cells"), "{reason}")
        }
        other => panic!("expected a refusal, got {:?}", other.map(|i| i.diagnostics)),
    }
    // A small claim is read as usual (here: a sheet without cells).
    if let Err(ImportError::TooLarge { reason, .. }) =
        import_xlsform_bytes(&xls_claiming(10), "old.xls", None)
    {
        panic!("refused: {reason}");
    }
}
