//! ODK's `max-pixels` image parameter, honoured in core so that every
//! platform stores the same file: a JPEG photo whose longer side passes the
//! limit is scaled down, keeping its proportions, and re-encoded as JPEG at
//! quality 90. One within the limit, a PNG (signatures, drawings), or a file
//! that cannot be decoded is kept byte for byte (ODK Collect keeps what it
//! cannot scale too).
//!
//! The codecs are the smallest well-kept pure-Rust ones, without their SIMD
//! paths so that every CPU computes the same pixels: zune-jpeg to decode,
//! jpeg-encoder to encode (`image` with only JPEG and PNG added 0.58 MiB to
//! the mobile library, these about a third of that: docs/ARCHITECTURE.md).
//! The scaling is an area average, a few lines with no library to call.

use std::io::Cursor;

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// Most pixels a photo may have to be decoded at all (a 100-megapixel
/// camera), so a hostile file cannot make the device allocate without bound.
const MAX_DECODED_PIXELS: usize = 100_000_000;

/// The `max-pixels` value of a question's parameters: a positive whole
/// number, else none.
pub fn max_pixels(parameters: &std::collections::BTreeMap<String, String>) -> Option<u32> {
    parameters.get("max-pixels").and_then(|v| v.trim().parse::<u32>().ok()).filter(|&n| n > 0)
}

/// The photo scaled so its longer side is at most `max` pixels, re-encoded;
/// None when it is within the limit or is not a JPEG this can read (then
/// it is kept as it is).
pub fn downscale(bytes: &[u8], max: u32) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        return None;
    }
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(Cursor::new(bytes), options);
    decoder.decode_headers().ok()?;
    let (w, h) = decoder.dimensions()?;
    let max = max as usize;
    if w.max(h) <= max || w.saturating_mul(h) > MAX_DECODED_PIXELS || w == 0 || h == 0 {
        return None;
    }
    let pixels = decoder.decode().ok()?;
    if pixels.len() != w * h * 3 {
        return None;
    }
    // Proportions kept, rounding to the nearest pixel, at least 1.
    let (nw, nh) = if w >= h {
        (max, ((h * max + w / 2) / w).max(1))
    } else {
        (((w * max + h / 2) / h).max(1), max)
    };
    let small = area_average(&pixels, w, h, nw, nh);
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder
        .encode(
            &small,
            u16::try_from(nw).ok()?,
            u16::try_from(nh).ok()?,
            jpeg_encoder::ColorType::Rgb,
        )
        .ok()?;
    Some(out)
}

/// Scales an RGB image down: each output pixel is the mean of the source
/// pixels its area covers (integer arithmetic, the same on every CPU).
fn area_average(src: &[u8], w: usize, h: usize, nw: usize, nh: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(nw * nh * 3);
    for oy in 0..nh {
        let (y0, y1) = (oy * h / nh, ((oy + 1) * h / nh).max(oy * h / nh + 1));
        for ox in 0..nw {
            let (x0, x1) = (ox * w / nw, ((ox + 1) * w / nw).max(ox * w / nw + 1));
            let mut sum = [0u64; 3];
            for y in y0..y1 {
                let row = &src[(y * w + x0) * 3..(y * w + x1) * 3];
                for px in row.chunks_exact(3) {
                    for c in 0..3 {
                        sum[c] += u64::from(px[c]);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u64;
            out.extend(sum.iter().map(|s| ((s + n / 2) / n) as u8));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A JPEG of `w` x `h` made by the test.
    pub(crate) fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let pixels: Vec<u8> = (0..usize::from(h))
            .flat_map(|y| (0..usize::from(w)).flat_map(move |x| [x as u8, y as u8, 128]))
            .collect();
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 85)
            .encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    fn size_of(bytes: &[u8]) -> (usize, usize) {
        let mut d = JpegDecoder::new(Cursor::new(bytes));
        d.decode_headers().unwrap();
        d.dimensions().unwrap()
    }

    #[test]
    fn a_large_photo_is_scaled_to_max_pixels_keeping_its_proportions() {
        let big = jpeg(1600, 1200);
        let small = downscale(&big, 640).expect("scaled");
        assert_eq!(size_of(&small), (640, 480));
        // The same input gives the same bytes (every platform alike).
        assert_eq!(downscale(&big, 640).unwrap(), small);
        assert_eq!(size_of(&downscale(&jpeg(300, 1000), 500).unwrap()), (150, 500));
    }

    #[test]
    fn small_or_other_files_are_kept() {
        assert_eq!(downscale(&jpeg(800, 600), 1024), None);
        assert_eq!(downscale(b"\xff\xd8\xff\xe0 not really a jpeg", 10), None);
        assert_eq!(downscale(b"\x89PNG\r\n\x1a\n a signature", 10), None);
        let p = |v: &str| [("max-pixels".to_string(), v.to_string())].into_iter().collect();
        assert_eq!(max_pixels(&p("1024")), Some(1024));
        assert_eq!(max_pixels(&p("0")), None);
        assert_eq!(max_pixels(&p("big")), None);
    }

    #[test]
    fn area_average_means_each_block() {
        let src = [0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30];
        assert_eq!(area_average(&src, 2, 2, 1, 1), vec![15, 15, 15]);
    }
}
