//! Bounds on what a workbook may make the reader do, checked before the
//! spreadsheet library sees the file, so that a tiny hostile file (a cell
//! at `XFD1048576`, a zip bomb, a shared-strings table that claims four
//! billion entries, a legacy sheet claiming a million rows) is a clear
//! error, never an allocation that aborts the process (issue 15, finding
//! 7). Real XLSForms are far below every bound: the largest seen hold some
//! 100,000 choice rows in a few MiB of XML.

use std::io::{Cursor, Read};

use super::ImportError;

/// Decompressed bytes of all the parts of an .xlsx together.
pub const MAX_UNZIPPED_BYTES: u64 = 128 << 20;
/// Parts (files) in an .xlsx.
pub const MAX_PARTS: usize = 10_000;
/// Filled cells in a whole workbook.
pub const MAX_CELLS: usize = 2_000_000;
/// Cells of the rectangle a legacy .xls sheet spans (its reader allocates
/// the whole rectangle).
pub const MAX_XLS_SHEET_AREA: u64 = 2_000_000;

fn too_large(name: &str, reason: String) -> ImportError {
    ImportError::TooLarge { name: name.to_string(), reason }
}

/// Checks an .xlsx (zip) before it is parsed: the number of parts, the
/// size of everything decompressed (by decompressing it, since the sizes a
/// zip declares can lie), and the count a shared-strings table declares
/// (the reader reserves room for that many strings up front).
pub fn check_xlsx(bytes: &[u8], name: &str) -> Result<(), ImportError> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // Not a readable zip: the reader says so in its own words.
        return Ok(());
    };
    if zip.len() > MAX_PARTS {
        return Err(too_large(
            name,
            format!("it holds {} parts, more than the {MAX_PARTS} a workbook may", zip.len()),
        ));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let Ok(mut part) = zip.by_index(i) else { continue };
        let part_name = part.name().map(|n| n.to_string()).unwrap_or_default();
        let left = MAX_UNZIPPED_BYTES - total;
        let mut head = Vec::new();
        let mut counted: u64 = 0;
        let mut buf = [0u8; 64 * 1024];
        loop {
            let n = match part.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                // A damaged part is the reader's to report.
                Err(_) => break,
            };
            if head.len() < 4096 {
                head.extend_from_slice(&buf[..n.min(4096 - head.len())]);
            }
            counted += n as u64;
            if counted > left {
                return Err(too_large(
                    name,
                    format!(
                        "it unpacks to more than {} MiB (a zip bomb?); a form is a few MiB at most",
                        MAX_UNZIPPED_BYTES >> 20
                    ),
                ));
            }
        }
        total += counted;
        if part_name.to_ascii_lowercase().ends_with("sharedstrings.xml") {
            check_declared_strings(&head, counted, name)?;
        }
    }
    Ok(())
}

/// A shared string takes at least `<si><t/></si>` (13 bytes), so a table
/// cannot truthfully declare more strings than its size allows.
fn check_declared_strings(head: &[u8], size: u64, name: &str) -> Result<(), ImportError> {
    let text = String::from_utf8_lossy(head);
    let Some(sst) = text.find("<sst").or_else(|| text.find(":sst")) else { return Ok(()) };
    let tag = &text[sst..text[sst..].find('>').map_or(text.len(), |e| sst + e)];
    for attr in ["uniqueCount", "count"] {
        let Some(at) = tag.find(&format!("{attr}=")) else { continue };
        let value = tag[at + attr.len() + 1..].trim_start_matches(['"', '\'']);
        let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
        let Ok(n) = digits.parse::<u64>() else {
            if !digits.is_empty() {
                return Err(too_large(name, format!("its shared strings claim {digits} entries")));
            }
            continue;
        };
        if attr == "uniqueCount" && n > size / 13 + 16 {
            return Err(too_large(
                name,
                format!("its shared strings claim {n} entries in {size} bytes; save it again"),
            ));
        }
    }
    Ok(())
}

/// Checks a legacy .xls before it is parsed: every sheet's declared
/// dimensions and the rectangle its cells span stay within
/// [`MAX_XLS_SHEET_AREA`] (its reader reserves and fills the rectangle).
pub fn check_xls(bytes: &[u8], name: &str) -> Result<(), ImportError> {
    let Ok(mut file) = cfb::CompoundFile::open(Cursor::new(bytes)) else {
        return Ok(());
    };
    let stream = ["/Workbook", "/Book", "/WORKBOOK", "/BOOK"]
        .into_iter()
        .find(|p| file.is_stream(p))
        .and_then(|p| file.open_stream(p).ok());
    let Some(stream) = stream else { return Ok(()) };
    let mut data = Vec::new();
    // A stream cannot be larger than the file that holds it.
    if stream.take(bytes.len() as u64).read_to_end(&mut data).is_err() {
        return Ok(());
    }
    let mut sheet = Area::default();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let kind = u16::from_le_bytes([data[pos], data[pos + 1]]);
        let len = u16::from_le_bytes([data[pos + 2], data[pos + 3]]) as usize;
        let body = &data[(pos + 4).min(data.len())..(pos + 4 + len).min(data.len())];
        pos += 4 + len;
        let u16_at =
            |i: usize| body.get(i..i + 2).map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])));
        match kind {
            // BOF: a new substream (sheet).
            0x0809 => sheet = Area::default(),
            // DIMENSIONS: the reader reserves the rectangle it declares,
            // computed as it computes it (with wrapping arithmetic, so an
            // end before the start is a huge claim too).
            0x0200 => {
                if let Some(area) = declared_area(body)
                    && area > MAX_XLS_SHEET_AREA
                {
                    return Err(xls_too_large(name, area));
                }
            }
            // Cell records: row and column lead the body.
            0x0006 | 0x00BD | 0x00D6 | 0x00FD | 0x0203 | 0x0204 | 0x0205 | 0x027E => {
                if let (Some(r), Some(c)) = (u16_at(0), u16_at(2)) {
                    // MULRK holds consecutive columns up to the one before its last two bytes.
                    let last = if kind == 0x00BD && body.len() >= 2 {
                        u16_at(body.len() - 2).unwrap_or(c)
                    } else {
                        c
                    };
                    sheet.add(r, c);
                    sheet.add(r, last);
                    if sheet.area() > MAX_XLS_SHEET_AREA {
                        return Err(xls_too_large(name, sheet.area()));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The cells a DIMENSIONS record makes calamine 0.38 reserve
/// (`parse_dimensions` and the sheet reader in its xls.rs).
fn declared_area(body: &[u8]) -> Option<u64> {
    let u16_at = |i: usize| body.get(i..i + 2).map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])));
    let u32_at =
        |i: usize| body.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let (rf, rl, mut cf, cl) = match body.len() {
        10 => (u16_at(0)?, u16_at(2)?, u16_at(4)?, u16_at(6)?),
        14 | 16 => (u32_at(0)?, u32_at(4)?, u16_at(8)?, u16_at(10)?),
        _ => return None,
    };
    if 0xFF < cf || cl < cf {
        cf = 0;
    }
    let (end_r, end_c) = if 1 <= rl && 1 <= cl { (rl - 1, cl - 1) } else { (rf, cf) };
    let rows = u64::from(end_r.wrapping_sub(rf).wrapping_add(1));
    let cols = u64::from(end_c.wrapping_sub(cf).wrapping_add(1));
    Some(rows.saturating_mul(cols))
}

fn xls_too_large(name: &str, area: u64) -> ImportError {
    too_large(
        name,
        format!(
            "one sheet spans {area} cells, more than the {MAX_XLS_SHEET_AREA} Enumera reads; \
             delete what lies far below or right of the form, or save it as .xlsx"
        ),
    )
}

/// The rectangle a sheet's cells span.
#[derive(Debug, Default)]
struct Area {
    span: Option<(u64, u64, u64, u64)>,
}

impl Area {
    fn add(&mut self, r: u64, c: u64) {
        self.span = Some(match self.span {
            None => (r, r, c, c),
            Some((r0, r1, c0, c1)) => (r0.min(r), r1.max(r), c0.min(c), c1.max(c)),
        });
    }

    fn area(&self) -> u64 {
        self.span.map_or(0, |(r0, r1, c0, c1)| (r1 - r0 + 1) * (c1 - c0 + 1))
    }
}
