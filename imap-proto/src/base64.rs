//! Base64 (RFC 4648 §4), used for SASL data on the wire (RFC 9051 §6.2.2).
//!
//! Written here rather than pulled in as a crate because the modified-UTF-7 mailbox
//! codec needs the same routine with a different alphabet and no padding.

pub(crate) const STANDARD: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub(crate) const UTF7: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Encode with the standard alphabet and `=` padding.
pub fn encode_base64(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    encode_with(input, STANDARD, true, &mut out);
    out
}

pub(crate) fn encode_with(input: &[u8], alphabet: &[u8; 64], pad: bool, out: &mut String) {
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(alphabet[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
}

/// Decode standard base64; padding is optional, whitespace is not allowed.
/// Returns `None` on any invalid character or impossible length.
pub fn decode_base64(input: &[u8]) -> Option<Vec<u8>> {
    let trimmed = match input.iter().position(|&c| c == b'=') {
        Some(p) => {
            if input[p..].iter().any(|&c| c != b'=') || input.len() - p > 2 {
                return None;
            }
            &input[..p]
        }
        None => input,
    };
    decode_with(trimmed, STANDARD)
}

pub(crate) fn decode_with(input: &[u8], alphabet: &[u8; 64]) -> Option<Vec<u8>> {
    if input.len() % 4 == 1 {
        return None;
    }
    let value = |c: u8| alphabet.iter().position(|&a| a == c).map(|v| v as u32);
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    for chunk in input.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode_base64(plain.as_bytes()), enc);
            assert_eq!(decode_base64(enc.as_bytes()).unwrap(), plain.as_bytes());
        }
        assert_eq!(decode_base64(b"Zm9vYg").unwrap(), b"foob");
        assert!(decode_base64(b"Zm9v!").is_none());
        assert!(decode_base64(b"Z").is_none());
        assert!(decode_base64(b"Zg=a").is_none());
    }
}
