//! COMPRESS=DEFLATE (RFC 4978) as a sans-IO transform: raw DEFLATE (RFC 1951,
//! no zlib or gzip header) in both directions of a connection, for clients
//! and servers alike.
//!
//! After the tagged OK to `COMPRESS DEFLATE` (which itself is not
//! compressed), each side passes what it sends through [`Deflate::deflate`],
//! which ends every call with a sync flush (RFC 4978 §4) so that the peer can
//! act on each command or response as soon as it arrives, and what it
//! receives through [`Deflate::inflate`] before decoding (§3).
//!
//! Inflated bytes come out in chunks of at most [`INFLATE_CHUNK`] bytes: hand
//! each to the decoder before the next is produced, and a small compressed
//! input that inflates hugely (a decompression bomb) is never held in memory
//! at once; the decoder's limits apply to what it inflates to.
//!
//! ```
//! use imap_codec::deflate::Deflate;
//! let (mut client, mut server) = (Deflate::new(), Deflate::new());
//! let mut wire = Vec::new();
//! client.deflate(b"a1 NOOP\r\n", &mut wire).unwrap();
//! let mut got = Vec::new();
//! server.inflate(&wire, |chunk| got.extend_from_slice(chunk)).unwrap();
//! assert_eq!(got, b"a1 NOOP\r\n");
//! ```

use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The most inflated bytes handed to the parser at once.
pub const INFLATE_CHUNK: usize = 64 * 1024;

/// The DEFLATE level: zlib's default (6), a fair trade of CPU
/// for size on mail text.
const LEVEL: u32 = 6;

/// Why a compressed stream cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeflateError {
    /// The peer's bytes are not valid DEFLATE.
    Corrupt(String),
    /// The peer ended its DEFLATE stream (RFC 4978 has no use for that) and
    /// sent more bytes after the end.
    AfterEnd,
    /// The compressor failed (not expected with in-memory buffers).
    Compress(String),
}

impl fmt::Display for DeflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Corrupt(e) => write!(f, "corrupt compressed input: {e}"),
            Self::AfterEnd => f.write_str("input after the end of the peer's DEFLATE stream"),
            Self::Compress(e) => write!(f, "compression failed: {e}"),
        }
    }
}

impl std::error::Error for DeflateError {}

/// Both directions of one compressed connection.
pub struct Deflate {
    inflate: Decompress,
    deflate: Compress,
    /// The peer ended its stream (a final block).
    ended: bool,
    /// Scratch space for inflated input.
    chunk: Box<[u8]>,
}

impl fmt::Debug for Deflate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deflate")
            .field("bytes_in", &self.inflate.total_in())
            .field("inflated", &self.inflate.total_out())
            .field("bytes_out", &self.deflate.total_out())
            .field("ended", &self.ended)
            .finish()
    }
}

impl Default for Deflate {
    fn default() -> Self {
        Self::new()
    }
}

impl Deflate {
    /// Fresh compressor and decompressor, without headers (raw DEFLATE).
    pub fn new() -> Self {
        Self {
            inflate: Decompress::new(false),
            deflate: Compress::new(Compression::new(LEVEL), false),
            ended: false,
            chunk: vec![0; INFLATE_CHUNK].into_boxed_slice(),
        }
    }

    /// Inflate `input`, bytes received from the peer, handing the result to
    /// `sink` in chunks of at most [`INFLATE_CHUNK`] bytes. Bytes that do not
    /// complete a block yet are kept by the decompressor for the next call.
    pub fn inflate(
        &mut self,
        mut input: &[u8],
        mut sink: impl FnMut(&[u8]),
    ) -> Result<(), DeflateError> {
        loop {
            if self.ended {
                return if input.is_empty() {
                    Ok(())
                } else {
                    Err(DeflateError::AfterEnd)
                };
            }
            let (in_before, out_before) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, &mut self.chunk, FlushDecompress::None)
                .map_err(|e| DeflateError::Corrupt(e.to_string()))?;
            let consumed = usize::try_from(self.inflate.total_in() - in_before).unwrap_or(0);
            let produced = usize::try_from(self.inflate.total_out() - out_before).unwrap_or(0);
            input = &input[consumed.min(input.len())..];
            if produced > 0 {
                sink(&self.chunk[..produced]);
            }
            if status == Status::StreamEnd {
                self.ended = true;
                continue;
            }
            // Done when the input is used up and the output did not fill the
            // chunk (nothing more is pending), or when no progress is made
            // (the rest of a block has not arrived yet).
            let full = produced == self.chunk.len();
            if (input.is_empty() && !full) || (consumed == 0 && produced == 0) {
                return Ok(());
            }
        }
    }

    /// Deflate `data` and end with a sync flush (RFC 4978 §4), appending to
    /// `out`: everything given so far can be inflated from `out` at once.
    pub fn deflate(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
        loop {
            // Room for the data (text shrinks, random bytes grow a little)
            // and the flush marker.
            out.reserve(data.len() + 64);
            let before = self.deflate.total_in();
            self.deflate
                .compress_vec(data, out, FlushCompress::Sync)
                .map_err(|e| DeflateError::Compress(e.to_string()))?;
            let consumed = usize::try_from(self.deflate.total_in() - before).unwrap_or(0);
            data = &data[consumed.min(data.len())..];
            // The flush is complete when the compressor stopped short of the
            // room it had.
            if data.is_empty() && out.len() < out.capacity() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_by_chunks_with_sync_flush() {
        let mut client = Deflate::new();
        let mut server = Deflate::new();
        for i in 0..30 {
            let batch = format!("A{i:04} NOOP\r\n").repeat(i % 5 + 1);
            let mut wire = Vec::new();
            client.deflate(batch.as_bytes(), &mut wire).unwrap();
            let mut got = Vec::new();
            server.inflate(&wire, |c| got.extend_from_slice(c)).unwrap();
            assert_eq!(got, batch.as_bytes());
        }
    }

    #[test]
    fn bomb_comes_out_in_bounded_chunks() {
        let zeros = vec![0u8; 16 << 20];
        let mut tx = Deflate::new();
        let mut wire = Vec::new();
        tx.deflate(&zeros, &mut wire).unwrap();
        let mut rx = Deflate::new();
        let (mut total, mut largest) = (0, 0);
        rx.inflate(&wire, |c| {
            total += c.len();
            largest = largest.max(c.len());
        })
        .unwrap();
        assert_eq!(total, zeros.len());
        assert!(largest <= INFLATE_CHUNK);
    }

    /// Input split anywhere (one byte at a time) inflates to the same bytes.
    #[test]
    fn inflate_any_split() {
        let text = b"a001 LOGIN alice secret\r\na002 SELECT INBOX\r\n".repeat(20);
        let mut tx = Deflate::new();
        let mut wire = Vec::new();
        tx.deflate(&text, &mut wire).unwrap();
        let mut rx = Deflate::new();
        let mut got = Vec::new();
        for b in &wire {
            rx.inflate(std::slice::from_ref(b), |c| got.extend_from_slice(c))
                .unwrap();
        }
        assert_eq!(got, text);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut rx = Deflate::new();
        assert!(matches!(
            rx.inflate(b"\xff\xff\xff\xff not deflate", |_| {}),
            Err(DeflateError::Corrupt(_))
        ));
    }

    #[test]
    fn bytes_after_the_end_are_an_error() {
        let mut tx = Compress::new(Compression::new(LEVEL), false);
        let mut wire = Vec::with_capacity(256);
        tx.compress_vec(b"* OK bye\r\n", &mut wire, FlushCompress::Finish)
            .unwrap();
        let mut rx = Deflate::new();
        let mut got = Vec::new();
        rx.inflate(&wire, |c| got.extend_from_slice(c)).unwrap();
        assert_eq!(got, b"* OK bye\r\n");
        assert!(matches!(
            rx.inflate(b"x", |_| {}),
            Err(DeflateError::AfterEnd)
        ));
    }
}
