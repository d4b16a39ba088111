//! The files a key-informant interview carries, made by code: the tablet's
//! recording of the conversation (a short WAV) and the informant's consent
//! signature drawn on screen (a JPEG). Each interview's are its own, so a
//! file exported under another interview's name would not match its hash.

use std::f64::consts::PI;

/// Mono 16-bit PCM at 8 kHz: what a phone's voice recorder writes, small.
const RATE: u32 = 8_000;

/// A WAV of `tenths` tenths of a second: a tone whose pitch depends on
/// `seed`, rising and falling like speech.
pub fn recording(seed: u64, tenths: u32) -> Vec<u8> {
    let samples = RATE / 10 * tenths;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    // The canonical 44-byte RIFF header (PCM, one channel, 16 bits).
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // channels
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let pitch = 110.0 + (seed % 120) as f64;
    for i in 0..samples {
        let t = f64::from(i) / f64::from(RATE);
        let f = pitch * (1.0 + 0.2 * (2.0 * PI * 3.0 * t).sin());
        let s = (2.0 * PI * f * t).sin() * 8_000.0;
        out.extend_from_slice(&(s as i16).to_le_bytes());
    }
    out
}

/// A signature: a dark wavy stroke on white, shaped by `seed`, as a JPEG
/// small enough that the question's `max-pixels` keeps it as it is.
pub fn signature(seed: u64) -> Result<Vec<u8>, jpeg_encoder::EncodingError> {
    const W: u16 = 240;
    const H: u16 = 80;
    let mut pixels = vec![255u8; usize::from(W) * usize::from(H) * 3];
    let (a, b) = (8.0 + (seed % 13) as f64, 2.0 + (seed % 5) as f64);
    for x in 10..(W - 10) {
        let xf = f64::from(x);
        let y = f64::from(H) / 2.0 + 22.0 * (xf / a).sin() * (xf / (b * 17.0)).cos();
        for dy in -1..=1 {
            let yy = (y as i32 + dy).clamp(0, i32::from(H) - 1) as usize;
            let at = (yy * usize::from(W) + usize::from(x)) * 3;
            pixels[at..at + 3].copy_from_slice(&[20, 30, 90]);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85).encode(&pixels, W, H, jpeg_encoder::ColorType::Rgb)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recording_is_a_wav_of_the_length_asked() {
        let wav = recording(3, 5);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(wav.len(), 44 + 4_000 * 2);
        assert_ne!(recording(3, 5), recording(4, 5), "each interview its own");
    }

    #[test]
    fn the_signature_is_a_jpeg_each_its_own() {
        let sig = signature(1).unwrap();
        assert_eq!(&sig[..2], &[0xFF, 0xD8]);
        assert_ne!(sig, signature(2).unwrap());
    }
}
