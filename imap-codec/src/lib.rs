//! Sans-IO framing, parsing and encoding of IMAP4rev2 (RFC 9051) and IMAP4rev1
//! (RFC 3501) with extensions, in both directions.
//!
//! This crate does no I/O and reads no clock: bytes in, [`imap_proto`] values out;
//! values in, bytes out. Decoding is two-stage: a framer finds where a message ends
//! (lines and literals, with limits checked before anything is buffered), then one
//! parse turns the framed bytes into a value, slicing strings and literals out of
//! the input without copying.
//!
//! A decode says one of three things ([`Decoded`]): need more bytes; a
//! synchronising literal of `n` bytes was announced (a server answers `+`, or
//! refuses with `[TOOBIG]` before receiving it); or a complete message, with the
//! bytes it consumed. A [`DecodeError`] carries the byte offset, an escaped excerpt
//! and what was expected, and the decoder has already skipped the bad message so
//! the stream can go on.
//!
//! The ENVELOPE, BODY and BODYSTRUCTURE of a FETCH response, most of the cost
//! of a mailbox sync, come out as [`imap_proto::Lazy`] values: their syntax is
//! checked as the response is decoded (a malformed one is treated exactly as
//! before), their bytes are kept, and the structure is built the first time it
//! is read. A reader that looks at every one of them can have them built in
//! the same pass instead ([`DecodeConfig::defer_structures`]).
//!
//! ```
//! use bytes::Bytes;
//! use imap_codec::{decode_response, DecodeConfig, Decoded};
//! use imap_proto::{Data, FetchItem, Response};
//!
//! let line = Bytes::from_static(b"* 1 FETCH (ENVELOPE (NIL \"Hi\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n");
//! let Ok(Decoded::Complete { value, .. }) = decode_response(&line, &DecodeConfig::responses()) else { panic!() };
//! let Response::Data(Data::Fetch { items, .. }) = value else { panic!() };
//! let FetchItem::Envelope(envelope) = &items[0] else { panic!() };
//! assert!(!envelope.is_built());
//! assert_eq!(envelope.subject.as_ref().map(|s| s.as_bytes()), Some(&b"Hi"[..])); // built here
//! ```
//!
//! ```
//! use bytes::BytesMut;
//! use imap_codec::{CommandCodec, Decoded};
//! use imap_proto::CommandBody;
//!
//! let mut codec = CommandCodec::new();
//! let mut buf = BytesMut::from(&b"a1 LOGIN {5}\r\n"[..]);
//! // The server must answer "+ " before the client sends the literal.
//! assert!(matches!(codec.decode(&mut buf), Ok(Decoded::LiteralAnnounced { len: 5, .. })));
//! buf.extend_from_slice(b"alice secret\r\n");
//! let Ok(Decoded::Complete { value, consumed }) = codec.decode(&mut buf) else { panic!() };
//! assert_eq!(consumed, 28);
//! assert!(matches!(value.body, CommandBody::Login { .. }));
//! ```

#![forbid(unsafe_code)]

mod codec;
mod config;
mod decode;
pub mod deflate;
mod encode;
mod error;
mod framing;
pub mod structure;
#[cfg(feature = "tokio-util")]
mod tokio;

pub mod fuzzing;

pub use crate::codec::{
    decode_command, decode_greeting, decode_response, encode_authenticate_data, encode_command,
    encode_command_fragments, encode_greeting, encode_idle_done, encode_response, CommandCodec,
    Decoded, Fragment, ResponseCodec,
};
pub use crate::config::{DecodeConfig, EncodeConfig, Limits, LiteralPolicy, Quirks};
pub use crate::error::{DecodeError, DecodeErrorKind};
pub use crate::framing::LiteralMode;
#[cfg(feature = "tokio-util")]
pub use crate::tokio::{ClientCodec, CodecError, ServerCodec, ServerItem};

pub use imap_proto;
