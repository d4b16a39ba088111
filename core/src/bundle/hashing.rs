//! A writer that hashes (SHA-256) and counts what passes through it: how
//! the device, the bundle and the export check a file against its hash
//! while streaming it, never holding it whole.

use std::io::Write;

use sha2::{Digest, Sha256};

/// Writes through to `out`, hashing and counting every byte written.
#[derive(Debug)]
pub struct HashingWriter<W> {
    pub out: W,
    pub sha: Sha256,
    /// Bytes written so far.
    pub n: u64,
}

impl<W> HashingWriter<W> {
    pub fn new(out: W) -> Self {
        HashingWriter { out, sha: Sha256::new(), n: 0 }
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.sha.update(&buf[..n]);
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_counts_what_it_writes() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        assert_eq!(w.n, 3);
        assert_eq!(w.out, b"abc");
        assert_eq!(super::super::hex(&w.sha.finalize()), super::super::sha256_hex(b"abc"));
    }
}
