//! COMPRESS=DEFLATE (RFC 4978) for the server driver: raw DEFLATE (RFC 1951,
//! no zlib or gzip header) in both directions, as a transform between the
//! socket and the session.
//!
//! The session accepts `COMPRESS DEFLATE` and sends its tagged OK
//! uncompressed; the driver then turns this on. From there, bytes read from
//! the socket are inflated before the session sees them, and every batch the
//! session sends is deflated and ended with a sync flush (RFC 4978 §4), so the
//! client can decode each response as soon as it arrives. Under TLS the
//! compressed bytes go through TLS (compress first, then encrypt, §3).
//!
//! Inflated input reaches the session in chunks of at most [`INFLATE_CHUNK`]
//! bytes, so a small compressed read that inflates hugely (a decompression
//! bomb) is never held in memory at once; the session's own limits (line and
//! literal sizes) apply to what it receives, as without compression.

use std::io;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The most inflated bytes handed to the session at once.
pub(crate) const INFLATE_CHUNK: usize = 64 * 1024;

/// The DEFLATE level for responses: zlib's default (6), a good trade of CPU
/// for size on mail text.
const LEVEL: u32 = 6;

/// Both directions of one compressed connection.
pub(crate) struct Deflate {
    inflate: Decompress,
    deflate: Compress,
    /// Scratch space for inflated input.
    chunk: Vec<u8>,
}

impl Deflate {
    /// Fresh compressor and decompressor, no headers (raw DEFLATE).
    pub(crate) fn new() -> Self {
        Self {
            inflate: Decompress::new(false),
            deflate: Compress::new(Compression::new(LEVEL), false),
            chunk: vec![0; INFLATE_CHUNK],
        }
    }

    /// Inflate `input`, bytes read from the socket, handing the result to
    /// `sink` in chunks of at most [`INFLATE_CHUNK`] bytes. Corrupt input, or
    /// the end of the client's DEFLATE stream (which RFC 4978 has no use
    /// for), is an [`io::ErrorKind::InvalidData`] error.
    pub(crate) fn inflate(
        &mut self,
        mut input: &[u8],
        mut sink: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        loop {
            let (in_before, out_before) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, &mut self.chunk, FlushDecompress::None)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let consumed = (self.inflate.total_in() - in_before) as usize;
            let produced = (self.inflate.total_out() - out_before) as usize;
            input = &input[consumed.min(input.len())..];
            if produced > 0 {
                sink(&self.chunk[..produced]);
            }
            if status == Status::StreamEnd {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the client ended its DEFLATE stream",
                ));
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

    /// Deflate `data` and end with a sync flush, appending to `out`.
    pub(crate) fn deflate(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        loop {
            // Room for the data (mail text shrinks, random bytes grow a
            // little) and the flush marker.
            out.reserve(data.len() + 64);
            let before = self.deflate.total_in();
            self.deflate
                .compress_vec(data, out, FlushCompress::Sync)
                .map_err(io::Error::other)?;
            let consumed = (self.deflate.total_in() - before) as usize;
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

    /// Both directions of a connection, as a client would see them: what one
    /// side deflates, the other inflates, batch by batch.
    #[test]
    fn round_trip_by_batches_with_sync_flush() {
        let mut server = Deflate::new();
        let mut client = Deflate::new();
        let mut all = Vec::new();
        for i in 0..50 {
            let batch = format!("* {i} FETCH (UID {i} FLAGS (\\Seen))\r\n").repeat(i % 7 + 1);
            let mut wire = Vec::new();
            server.deflate(batch.as_bytes(), &mut wire).unwrap();
            // Sync flush: everything sent so far decodes now.
            let mut got = Vec::new();
            client.inflate(&wire, |c| got.extend_from_slice(c)).unwrap();
            assert_eq!(got, batch.as_bytes());
            all.extend_from_slice(&wire);
        }
        assert!(all.len() < 50 * 40, "compressed {} bytes", all.len());
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

    /// A bomb: a few KiB that inflate to 64 MiB come out in bounded chunks.
    #[test]
    fn inflated_output_comes_in_bounded_chunks() {
        let zeros = vec![0u8; 64 << 20];
        let mut tx = Deflate::new();
        let mut wire = Vec::new();
        tx.deflate(&zeros, &mut wire).unwrap();
        assert!(wire.len() < 128 << 10, "{} bytes", wire.len());
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

    #[test]
    fn garbage_is_invalid_data() {
        let mut rx = Deflate::new();
        let err = rx
            .inflate(b"\xff\xff\xff\xff not deflate", |_| {})
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
