//! `tokio_util::codec` adapters (feature `tokio-util`).
//!
//! [`ServerCodec`] decodes client commands and encodes responses; [`ClientCodec`]
//! decodes responses and encodes commands. Wrap an `AsyncRead`/`AsyncWrite` with
//! `tokio_util::codec::Framed::new(io, ServerCodec::new())` to get a stream of
//! [`ServerItem`]s and a sink for responses.
//!
//! Errors. Both decoders return [`CodecError`]. A [`CodecError::Decode`] means
//! one message was malformed or over a limit; the codec has already skipped it,
//! so decoding can go on with the next message (a server replies `tag BAD …`,
//! using [`DecodeError::tag`]). Note how `tokio_util`'s `FramedRead` treats a
//! decoder error: it yields the error, then `None` once, and when polled again
//! it reads more bytes from the socket before decoding again. A server that
//! wants to keep serving after a bad command keeps polling after that `None`;
//! commands already buffered behind the bad one are decoded once more bytes
//! arrive (or call [`tokio_util::codec::Decoder::decode`] on
//! `Framed::read_buffer_mut()` yourself to drain them at once).

use std::io;

use bytes::BytesMut;
use imap_proto::{AuthenticateData, Command, Greeting, Response, Tag};
use tokio_util::codec::{Decoder, Encoder};

use crate::codec::{
    encode_authenticate_data, encode_command, encode_greeting, encode_response, CommandCodec,
    Decoded, ResponseCodec,
};
use crate::config::{DecodeConfig, EncodeConfig};
use crate::error::DecodeError;

/// The error of [`ServerCodec`] and [`ClientCodec`]: a bad message, or an I/O
/// error from the transport (`tokio_util` requires `From<io::Error>`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A message could not be decoded. The codec has skipped it; the stream can
    /// go on.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Reading or writing the transport failed, or it ended inside a message
    /// ([`io::ErrorKind::UnexpectedEof`]).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// What a server reads from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerItem {
    /// A complete command.
    Command(Command),
    /// The client announced a synchronising literal of `len` bytes and waits for
    /// a continuation request: send `+ …` and keep reading, or refuse (for
    /// example `tag NO [TOOBIG]`) and call [`ServerCodec::reject_literal`] on the
    /// read buffer.
    LiteralAnnounced {
        /// The command's tag, when readable.
        tag: Option<Tag>,
        /// The announced length in bytes.
        len: u64,
    },
    /// `DONE`, ending IDLE (only after [`ServerCodec::expect_idle_done`]).
    IdleDone,
    /// A line of SASL data or `*` during AUTHENTICATE (only after
    /// [`ServerCodec::expect_authenticate_data`]).
    AuthenticateData(AuthenticateData),
}

/// What the next client line is, for the server side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Command,
    IdleDone,
    AuthenticateData,
}

/// The server side: decodes [`ServerItem`]s, encodes [`Response`]s and
/// [`Greeting`]s.
#[derive(Debug, Clone)]
pub struct ServerCodec {
    decoder: CommandCodec,
    encode: EncodeConfig,
    expect: Expect,
}

impl Default for ServerCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerCodec {
    /// A codec with [`DecodeConfig::commands`] and the default [`EncodeConfig`].
    pub fn new() -> Self {
        Self::with_config(DecodeConfig::commands(), EncodeConfig::default())
    }

    /// A codec with the given configurations.
    pub fn with_config(decode: DecodeConfig, encode: EncodeConfig) -> Self {
        Self {
            decoder: CommandCodec::with_config(decode),
            encode,
            expect: Expect::Command,
        }
    }

    /// The decoding configuration, to change mid-stream (after `ENABLE
    /// UTF8=ACCEPT`, say).
    pub fn decode_config_mut(&mut self) -> &mut DecodeConfig {
        self.decoder.config_mut()
    }

    /// The encoding configuration, to change mid-stream.
    pub fn encode_config_mut(&mut self) -> &mut EncodeConfig {
        &mut self.encode
    }

    /// Bytes consumed from the stream so far.
    pub fn stream_offset(&self) -> u64 {
        self.decoder.stream_offset()
    }

    /// Read the next client line as the `DONE` that ends IDLE (after answering
    /// an `IDLE` command with `+ idling`). Applies to the next item only.
    pub fn expect_idle_done(&mut self) {
        self.expect = Expect::IdleDone;
    }

    /// Read the next client line as SASL data or `*` (after sending an
    /// AUTHENTICATE challenge). Applies to the next item only: call it again
    /// before each further challenge.
    pub fn expect_authenticate_data(&mut self) {
        self.expect = Expect::AuthenticateData;
    }

    /// Refuse the synchronising literal just announced: the client will not send
    /// it, so the partial command is dropped from `buf` (pass
    /// `Framed::read_buffer_mut()`).
    pub fn reject_literal(&mut self, buf: &mut BytesMut) {
        self.decoder.reject_literal(buf);
    }

    /// Whether a command has been partly received.
    pub fn in_message(&self, buf: &BytesMut) -> bool {
        self.decoder.in_message(buf)
    }
}

impl Decoder for ServerCodec {
    type Item = ServerItem;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<ServerItem>, CodecError> {
        let item = match self.expect {
            Expect::Command => match self.decoder.decode(src)? {
                Decoded::Complete { value, .. } => Some(ServerItem::Command(value)),
                Decoded::LiteralAnnounced { tag, len, .. } => {
                    Some(ServerItem::LiteralAnnounced { tag, len })
                }
                _ => None,
            },
            Expect::IdleDone => match self.decoder.decode_idle_done(src) {
                Ok(Decoded::Complete { .. }) => Some(ServerItem::IdleDone),
                Ok(_) => None,
                Err(e) => {
                    // Whatever came instead of DONE, the next line is a command.
                    self.expect = Expect::Command;
                    return Err(e.into());
                }
            },
            Expect::AuthenticateData => match self.decoder.decode_authenticate_data(src) {
                Ok(Decoded::Complete { value, .. }) => Some(ServerItem::AuthenticateData(value)),
                Ok(_) => None,
                Err(e) => {
                    self.expect = Expect::Command;
                    return Err(e.into());
                }
            },
        };
        if matches!(
            item,
            Some(ServerItem::IdleDone | ServerItem::AuthenticateData(_))
        ) {
            self.expect = Expect::Command;
        }
        Ok(item)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<ServerItem>, CodecError> {
        match self.decode(buf)? {
            Some(item) => Ok(Some(item)),
            None if self.decoder.in_message(buf) => Err(truncated()),
            None => Ok(None),
        }
    }
}

impl Encoder<&Response> for ServerCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Response, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_response(item, dst, &self.encode);
        Ok(())
    }
}

impl Encoder<Response> for ServerCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Response, dst: &mut BytesMut) -> Result<(), CodecError> {
        Encoder::<&Response>::encode(self, &item, dst)
    }
}

impl Encoder<&Greeting> for ServerCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Greeting, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_greeting(item, dst, &self.encode);
        Ok(())
    }
}

impl Encoder<Greeting> for ServerCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Greeting, dst: &mut BytesMut) -> Result<(), CodecError> {
        Encoder::<&Greeting>::encode(self, &item, dst)
    }
}

/// The client side: decodes [`Response`]s (the greeting included: it decodes as
/// an untagged OK, PREAUTH or BYE), encodes [`Command`]s and AUTHENTICATE data.
///
/// A command is written in one piece, literals inline, as
/// [`crate::encode_command`] does. That is only right for literals the server
/// accepts without a continuation request: set [`EncodeConfig::literals`] to
/// [`crate::LiteralPolicy::Plus`] or [`crate::LiteralPolicy::Minus`] from the
/// server's capabilities, or send commands with synchronising literals through
/// [`crate::encode_command_fragments`], waiting for `+` before each literal.
/// `DONE` (ending IDLE) can be written with [`crate::encode_idle_done`] into
/// `Framed::write_buffer_mut()`.
#[derive(Debug, Clone)]
pub struct ClientCodec {
    decoder: ResponseCodec,
    encode: EncodeConfig,
}

impl Default for ClientCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl ClientCodec {
    /// A codec with [`DecodeConfig::responses`] and the default [`EncodeConfig`].
    pub fn new() -> Self {
        Self::with_config(DecodeConfig::responses(), EncodeConfig::default())
    }

    /// A codec with the given configurations.
    pub fn with_config(decode: DecodeConfig, encode: EncodeConfig) -> Self {
        Self {
            decoder: ResponseCodec::with_config(decode),
            encode,
        }
    }

    /// The decoding configuration, to change mid-stream.
    pub fn decode_config_mut(&mut self) -> &mut DecodeConfig {
        self.decoder.config_mut()
    }

    /// The encoding configuration, to change mid-stream (the literal policy once
    /// the capabilities are known, say).
    pub fn encode_config_mut(&mut self) -> &mut EncodeConfig {
        &mut self.encode
    }

    /// While AUTHENTICATE runs, read continuation requests as base64 SASL
    /// challenges (see [`ResponseCodec::set_sasl`]).
    pub fn set_sasl(&mut self, on: bool) {
        self.decoder.set_sasl(on);
    }

    /// Bytes consumed from the stream so far.
    pub fn stream_offset(&self) -> u64 {
        self.decoder.stream_offset()
    }
}

impl Decoder for ClientCodec {
    type Item = Response;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Response>, CodecError> {
        match self.decoder.decode(src)? {
            Decoded::Complete { value, .. } => Ok(Some(value)),
            _ => Ok(None),
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Response>, CodecError> {
        match self.decode(buf)? {
            Some(item) => Ok(Some(item)),
            None if self.decoder.in_message(buf) => Err(truncated()),
            None => Ok(None),
        }
    }
}

impl Encoder<&Command> for ClientCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Command, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_command(item, dst, &self.encode);
        Ok(())
    }
}

impl Encoder<Command> for ClientCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Command, dst: &mut BytesMut) -> Result<(), CodecError> {
        Encoder::<&Command>::encode(self, &item, dst)
    }
}

impl Encoder<&AuthenticateData> for ClientCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &AuthenticateData, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_authenticate_data(item, dst);
        Ok(())
    }
}

impl Encoder<AuthenticateData> for ClientCodec {
    type Error = CodecError;

    fn encode(&mut self, item: AuthenticateData, dst: &mut BytesMut) -> Result<(), CodecError> {
        Encoder::<&AuthenticateData>::encode(self, &item, dst)
    }
}

fn truncated() -> CodecError {
    CodecError::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the stream ended inside a message",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;
    use imap_proto::{CommandBody, Secret, Status, StatusKind, Text};

    fn buf(b: &[u8]) -> BytesMut {
        BytesMut::from(b)
    }

    fn tag(s: &str) -> Tag {
        Tag::try_from(s).unwrap()
    }

    #[test]
    fn server_decodes_pipelined_commands() {
        let mut codec = ServerCodec::new();
        let mut b = buf(b"a1 NOOP\r\na2 CAPABILITY\r\na3 LOG");
        let first = codec.decode(&mut b).unwrap();
        assert_eq!(
            first,
            Some(ServerItem::Command(Command {
                tag: tag("a1"),
                body: CommandBody::Noop
            }))
        );
        let Some(ServerItem::Command(second)) = codec.decode(&mut b).unwrap() else {
            panic!("a2")
        };
        assert_eq!(second.body, CommandBody::Capability);
        assert_eq!(codec.decode(&mut b).unwrap(), None);
        b.extend_from_slice(b"OUT\r\n");
        let Some(ServerItem::Command(third)) = codec.decode(&mut b).unwrap() else {
            panic!("a3")
        };
        assert_eq!(third.body, CommandBody::Logout);
        assert!(b.is_empty());
        assert_eq!(codec.decode_eof(&mut b).unwrap(), None);
    }

    #[test]
    fn server_announces_synchronising_literals_once() {
        let mut codec = ServerCodec::new();
        let mut b = buf(b"a1 LOGIN {5}\r\n");
        assert_eq!(
            codec.decode(&mut b).unwrap(),
            Some(ServerItem::LiteralAnnounced {
                tag: Some(tag("a1")),
                len: 5
            })
        );
        // Asked again before the literal arrives: nothing new.
        assert_eq!(codec.decode(&mut b).unwrap(), None);
        b.extend_from_slice(b"alice {6}\r\n");
        assert_eq!(
            codec.decode(&mut b).unwrap(),
            Some(ServerItem::LiteralAnnounced {
                tag: Some(tag("a1")),
                len: 6
            })
        );
        b.extend_from_slice(b"secret\r\n");
        let Some(ServerItem::Command(cmd)) = codec.decode(&mut b).unwrap() else {
            panic!("LOGIN")
        };
        let CommandBody::Login { username, password } = cmd.body else {
            panic!("{:?}", cmd.body)
        };
        assert_eq!(username.as_ref(), b"alice");
        assert_eq!(password.expose().as_ref(), b"secret");
    }

    #[test]
    fn server_rejects_a_literal_and_goes_on() {
        let mut codec = ServerCodec::new();
        let mut b = buf(b"a1 APPEND INBOX {500000000}\r\n");
        // Over the default 64 MiB: refused when announced.
        let err = codec.decode(&mut b).unwrap_err();
        let CodecError::Decode(e) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            e.kind,
            DecodeErrorKind::LiteralTooLarge { len: 500_000_000 }
        );
        assert_eq!(e.tag, Some(tag("a1")));
        // Within the limit, but the server refuses it anyway.
        b.extend_from_slice(b"a2 APPEND INBOX {10}\r\n");
        assert!(matches!(
            codec.decode(&mut b).unwrap(),
            Some(ServerItem::LiteralAnnounced { len: 10, .. })
        ));
        codec.reject_literal(&mut b);
        assert!(b.is_empty());
        assert!(!codec.in_message(&b));
        b.extend_from_slice(b"a3 NOOP\r\n");
        assert!(matches!(
            codec.decode(&mut b).unwrap(),
            Some(ServerItem::Command(Command {
                body: CommandBody::Noop,
                ..
            }))
        ));
    }

    #[test]
    fn server_resumes_after_a_bad_command() {
        let mut codec = ServerCodec::new();
        let mut b = buf(b"a1 LOGIN\r\na2 NOOP\r\n");
        let err = codec.decode(&mut b).unwrap_err();
        let CodecError::Decode(e) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(e.tag, Some(tag("a1")));
        assert_eq!(e.offset, 8);
        assert!(err.to_string().contains("a1 LOGIN"), "{err}");
        assert!(matches!(
            codec.decode(&mut b).unwrap(),
            Some(ServerItem::Command(Command {
                body: CommandBody::Noop,
                ..
            }))
        ));
        assert_eq!(codec.stream_offset(), 19);
    }

    #[test]
    fn server_idle_done() {
        let mut codec = ServerCodec::new();
        let mut b = buf(b"DONE\r\nDONE\r\n");
        codec.expect_idle_done();
        assert_eq!(codec.decode(&mut b).unwrap(), Some(ServerItem::IdleDone));
        // Back to commands: a second DONE is not a command.
        assert!(codec.decode(&mut b).is_err());
        // Something other than DONE during IDLE is an error, then commands again.
        codec.expect_idle_done();
        let mut b = buf(b"a1 NOOP\r\na2 NOOP\r\n");
        assert!(codec.decode(&mut b).is_err());
        assert!(matches!(
            codec.decode(&mut b).unwrap(),
            Some(ServerItem::Command(_))
        ));
    }

    #[test]
    fn server_authenticate_data() {
        let mut codec = ServerCodec::new();
        let mut b = buf(b"dGVzdA==\r\n*\r\n");
        codec.expect_authenticate_data();
        assert_eq!(
            codec.decode(&mut b).unwrap(),
            Some(ServerItem::AuthenticateData(AuthenticateData::Continue(
                Secret::new(bytes::Bytes::from_static(b"test"))
            )))
        );
        codec.expect_authenticate_data();
        assert_eq!(
            codec.decode(&mut b).unwrap(),
            Some(ServerItem::AuthenticateData(AuthenticateData::Cancel))
        );
    }

    #[test]
    fn decode_eof_reports_truncation() {
        let mut codec = ServerCodec::new();
        let mut b = buf(b"a1 NO");
        assert_eq!(codec.decode(&mut b).unwrap(), None);
        let err = codec.decode_eof(&mut b).unwrap_err();
        assert!(
            matches!(&err, CodecError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
            "{err:?}"
        );
        let mut empty = BytesMut::new();
        assert_eq!(ServerCodec::new().decode_eof(&mut empty).unwrap(), None);

        let mut codec = ClientCodec::new();
        let mut b = buf(b"* 1 FETCH (BODY[] {10}\r\nabc");
        assert_eq!(codec.decode(&mut b).unwrap(), None);
        assert!(matches!(codec.decode_eof(&mut b), Err(CodecError::Io(_))));
    }

    #[test]
    fn server_encodes_responses_and_greetings() {
        let mut codec = ServerCodec::new();
        let resp = Response::Status(Status::Tagged {
            tag: tag("a1"),
            kind: StatusKind::Ok,
            code: None,
            text: Text::try_from("done").unwrap(),
        });
        let mut dst = BytesMut::new();
        codec.encode(&resp, &mut dst).unwrap();
        codec.encode(resp.clone(), &mut dst).unwrap();
        let mut expected = BytesMut::new();
        encode_response(&resp, &mut expected, &EncodeConfig::default());
        encode_response(&resp, &mut expected, &EncodeConfig::default());
        assert_eq!(dst, expected);
        assert_eq!(&dst[..], b"a1 OK done\r\na1 OK done\r\n");

        let greeting = Greeting {
            kind: imap_proto::GreetingKind::Ok,
            code: None,
            text: Text::try_from("ready").unwrap(),
        };
        let mut dst = BytesMut::new();
        codec.encode(greeting, &mut dst).unwrap();
        assert_eq!(&dst[..], b"* OK ready\r\n");
    }

    #[test]
    fn client_round_trip() {
        let mut client = ClientCodec::new();
        let mut b = buf(b"* OK ready\r\na1 OK [READ-WRITE] done\r\n+ go on\r\n");
        let greeting = client.decode(&mut b).unwrap().unwrap();
        assert!(matches!(
            greeting,
            Response::Status(Status::Untagged {
                kind: StatusKind::Ok,
                ..
            })
        ));
        let done = client.decode(&mut b).unwrap().unwrap();
        assert!(matches!(done, Response::Status(Status::Tagged { .. })));
        assert!(matches!(
            client.decode(&mut b).unwrap(),
            Some(Response::Continue(_))
        ));
        assert_eq!(client.decode(&mut b).unwrap(), None);

        // What the client encodes, the server decodes.
        let cmd = Command {
            tag: tag("a2"),
            body: CommandBody::Select {
                mailbox: imap_proto::Mailbox::inbox(),
                params: Vec::new(),
            },
        };
        let mut wire = BytesMut::new();
        client.encode(&cmd, &mut wire).unwrap();
        client.encode(&AuthenticateData::Cancel, &mut wire).unwrap();
        assert_eq!(&wire[..], b"a2 SELECT INBOX\r\n*\r\n");
        let mut server = ServerCodec::new();
        assert_eq!(
            server.decode(&mut wire).unwrap(),
            Some(ServerItem::Command(cmd))
        );
    }

    #[test]
    fn client_literal_plus_is_one_piece() {
        let mut client = ClientCodec::new();
        client.encode_config_mut().literals = crate::LiteralPolicy::Plus;
        let cmd = Command {
            tag: tag("a1"),
            body: CommandBody::Login {
                username: imap_proto::AString::try_from("al ice").unwrap(),
                password: Secret::new(imap_proto::AString::try_from("se\"cr\r\net").unwrap()),
            },
        };
        let mut wire = BytesMut::new();
        client.encode(cmd.clone(), &mut wire).unwrap();
        // Whatever the form, the server decodes it without a continuation.
        let mut server = ServerCodec::new();
        assert_eq!(
            server.decode(&mut wire).unwrap(),
            Some(ServerItem::Command(cmd))
        );
        assert!(wire.is_empty());
    }

    #[test]
    fn codec_error_conversions() {
        let e: CodecError = io::Error::other("boom").into();
        assert_eq!(e.to_string(), "I/O error: boom");
        let mut codec = ClientCodec::new();
        let mut b = buf(b")))\r\n");
        let e = codec.decode(&mut b).unwrap_err();
        assert!(
            matches!(e, CodecError::Decode(ref d) if d.offset == 0),
            "{e:?}"
        );
        assert!(b.is_empty());
    }
}
