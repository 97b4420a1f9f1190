//! The public decoders and encoders.

use bytes::{Buf, Bytes, BytesMut};
use imap_proto::{AuthenticateData, Command, Greeting, Response, Tag};

use crate::config::{DecodeConfig, EncodeConfig};
use crate::decode::{self, PError, Parser};
use crate::encode::{self, Writer};
use crate::error::{excerpt, DecodeError};
use crate::framing::{FrameError, Framer, LiteralMode, Side, Step};

/// The result of a decode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decoded<T> {
    /// A whole message; `consumed` bytes were taken from the input.
    Complete {
        /// The message.
        value: T,
        /// Bytes it occupied on the wire.
        consumed: usize,
    },
    /// More bytes are needed.
    Incomplete,
    /// The client announced a synchronising literal of `len` bytes and waits for a
    /// continuation request. Answer `+ …` and keep decoding, or refuse (for
    /// example `tag NO [TOOBIG]`) and call [`CommandCodec::reject_literal`].
    LiteralAnnounced {
        /// The command's tag, when readable.
        tag: Option<Tag>,
        /// The announced length.
        len: u64,
        /// Always [`LiteralMode::Sync`]; non-synchronising literals are not announced.
        mode: LiteralMode,
    },
}

/// Read the tag at the start of a message, for error replies.
fn leading_tag(buf: &[u8]) -> Option<Tag> {
    let end = buf.iter().position(|&b| b == b' ')?;
    Tag::try_from(&buf[..end]).ok()
}

/// Shared streaming machinery of both codecs.
#[derive(Debug, Clone)]
struct Stream {
    framer: Framer,
    config: DecodeConfig,
    /// Bytes consumed from the stream so far (for absolute error offsets).
    offset: u64,
}

impl Stream {
    fn new(side: Side, config: DecodeConfig) -> Self {
        Self {
            framer: Framer::new(side),
            config,
            offset: 0,
        }
    }

    /// Frame the next message; on success the message bytes are split off `buf`.
    #[inline(always)]
    fn next_frame(&mut self, buf: &mut BytesMut) -> Result<Option<FrameOutcome>, DecodeError> {
        loop {
            match self.framer.step(buf, &self.config) {
                Ok(Step::Complete(n)) => {
                    let bytes = buf.split_to(n).freeze();
                    let start = self.offset;
                    self.offset += n as u64;
                    return Ok(Some(FrameOutcome::Message { bytes, start }));
                }
                Ok(Step::Incomplete) => return Ok(None),
                Ok(Step::Skip(n)) => {
                    buf.advance(n);
                    self.offset += n as u64;
                }
                Ok(Step::Announce { len }) => {
                    return Ok(Some(FrameOutcome::Announce {
                        tag: leading_tag(buf),
                        len,
                    }))
                }
                Err(e) => return Err(self.frame_error(buf, e)),
            }
        }
    }

    /// Report a framing error and drop what the framer says to drop.
    #[cold]
    #[inline(never)]
    fn frame_error(&mut self, buf: &mut BytesMut, e: FrameError) -> DecodeError {
        let FrameError { kind, at, drop } = e;
        let err = DecodeError {
            offset: self.offset + at as u64,
            kind,
            expected: "message within limits",
            excerpt: excerpt(buf, at),
            tag: leading_tag(buf),
        };
        let drop = drop.min(buf.len());
        buf.advance(drop);
        self.offset += drop as u64;
        err
    }

    #[inline]
    fn decode_with<T>(
        &mut self,
        buf: &mut BytesMut,
        parse: impl FnOnce(&mut Parser<'_>) -> decode::PResult<T>,
    ) -> Result<Decoded<T>, DecodeError> {
        match self.next_frame(buf)? {
            None => Ok(Decoded::Incomplete),
            Some(FrameOutcome::Announce { tag, len }) => Ok(Decoded::LiteralAnnounced {
                tag,
                len,
                mode: LiteralMode::Sync,
            }),
            Some(FrameOutcome::Message { bytes, start }) => {
                // One match from the parser's result to ours: a `map_err` then a
                // `map` would move the value twice.
                let mut p = Parser::new(&bytes, &self.config);
                match parse(&mut p) {
                    Ok(value) => Ok(Decoded::Complete {
                        value,
                        consumed: bytes.len(),
                    }),
                    Err(e) => Err(parse_error(&bytes, start, e)),
                }
            }
        }
    }
}

enum FrameOutcome {
    Announce { tag: Option<Tag>, len: u64 },
    Message { bytes: Bytes, start: u64 },
}

fn parse_message<T>(
    bytes: &Bytes,
    config: &DecodeConfig,
    start: u64,
    parse: impl FnOnce(&mut Parser<'_>) -> decode::PResult<T>,
) -> Result<T, DecodeError> {
    let mut p = Parser::new(bytes, config);
    parse(&mut p).map_err(|e| parse_error(bytes, start, e))
}

/// The error for a message that frames but does not parse.
#[cold]
#[inline(never)]
fn parse_error(bytes: &[u8], start: u64, e: PError) -> DecodeError {
    let PError {
        pos,
        kind,
        expected,
    } = e;
    DecodeError {
        offset: start + pos as u64,
        kind,
        expected,
        excerpt: excerpt(bytes, pos),
        tag: leading_tag(bytes),
    }
}

/// Decodes client commands from a byte stream (the server side).
///
/// Feed it a `BytesMut` that you append received bytes to; each complete command
/// is split off the front. Between calls, only append. The codec keeps its scan
/// position, so partial input is never re-scanned.
#[derive(Debug, Clone)]
pub struct CommandCodec {
    stream: Stream,
}

impl Default for CommandCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandCodec {
    /// A decoder with [`DecodeConfig::commands`].
    pub fn new() -> Self {
        Self::with_config(DecodeConfig::commands())
    }

    /// A decoder with the given configuration.
    pub fn with_config(config: DecodeConfig) -> Self {
        Self {
            stream: Stream::new(Side::Commands, config),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DecodeConfig {
        &self.stream.config
    }

    /// The configuration, to change mid-stream (after `ENABLE UTF8=ACCEPT`, say).
    pub fn config_mut(&mut self) -> &mut DecodeConfig {
        &mut self.stream.config
    }

    /// Bytes consumed from the stream so far.
    pub fn stream_offset(&self) -> u64 {
        self.stream.offset
    }

    /// Decode the next command.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded<Command>, DecodeError> {
        self.stream.decode_with(buf, decode::command::command)
    }

    /// Decode a client line during AUTHENTICATE (RFC 9051 §6.2.2): base64 SASL
    /// data or `*` to cancel.
    pub fn decode_authenticate_data(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Decoded<AuthenticateData>, DecodeError> {
        self.stream
            .decode_with(buf, decode::command::authenticate_data)
    }

    /// Decode the `DONE` that ends IDLE (RFC 2177). Bytes after it stay in `buf`
    /// for [`CommandCodec::decode`] (clients pipeline commands behind DONE).
    pub fn decode_idle_done(&mut self, buf: &mut BytesMut) -> Result<Decoded<()>, DecodeError> {
        self.stream.decode_with(buf, decode::command::idle_done)
    }

    /// Refuse the synchronising literal just announced: the client will not send
    /// it, so the partial command is dropped from `buf`.
    pub fn reject_literal(&mut self, buf: &mut BytesMut) {
        let n = self.stream.framer.abandon().min(buf.len());
        buf.advance(n);
        self.stream.offset += n as u64;
    }

    /// Whether a command has been partly received (at end of input this means the
    /// stream was truncated).
    pub fn in_message(&self, buf: &BytesMut) -> bool {
        !buf.is_empty() || self.stream.framer.in_message()
    }
}

/// Decodes server responses from a byte stream (the client side).
#[derive(Debug, Clone)]
pub struct ResponseCodec {
    stream: Stream,
    sasl: bool,
}

impl Default for ResponseCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseCodec {
    /// A decoder with [`DecodeConfig::responses`].
    pub fn new() -> Self {
        Self::with_config(DecodeConfig::responses())
    }

    /// A decoder with the given configuration.
    pub fn with_config(config: DecodeConfig) -> Self {
        Self {
            stream: Stream::new(Side::Responses, config),
            sasl: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DecodeConfig {
        &self.stream.config
    }

    /// The configuration, to change mid-stream.
    pub fn config_mut(&mut self) -> &mut DecodeConfig {
        &mut self.stream.config
    }

    /// While AUTHENTICATE runs, continuation requests carry base64 SASL
    /// challenges ([`imap_proto::Continue::Base64`]); set this for that time.
    pub fn set_sasl(&mut self, on: bool) {
        self.sasl = on;
    }

    /// Bytes consumed from the stream so far.
    pub fn stream_offset(&self) -> u64 {
        self.stream.offset
    }

    /// Decode the greeting (the first line from the server).
    pub fn decode_greeting(
        &mut self,
        buf: &mut BytesMut,
    ) -> Result<Decoded<Greeting>, DecodeError> {
        self.stream.decode_with(buf, decode::response::greeting)
    }

    /// Decode the next response.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded<Response>, DecodeError> {
        let sasl = self.sasl;
        self.stream
            .decode_with(buf, |p| decode::response::response(p, sasl))
    }

    /// Whether a response has been partly received.
    pub fn in_message(&self, buf: &BytesMut) -> bool {
        !buf.is_empty() || self.stream.framer.in_message()
    }
}

/// Decode one command from the start of `input` (stateless).
///
/// <div class="warning">Calling this again and again on a growing buffer re-scans
/// it each time; streams should use [`CommandCodec`].</div>
pub fn decode_command(
    input: &Bytes,
    config: &DecodeConfig,
) -> Result<Decoded<Command>, DecodeError> {
    let mut buf = BytesMut::from(&input[..]);
    let mut codec = CommandCodec::with_config(config.clone());
    codec.decode(&mut buf)
}

/// Decode one response from the start of `input` (stateless; see [`decode_command`]).
pub fn decode_response(
    input: &Bytes,
    config: &DecodeConfig,
) -> Result<Decoded<Response>, DecodeError> {
    decode_one(input, config, |p| decode::response::response(p, false))
}

/// Decode a greeting from the start of `input` (stateless).
pub fn decode_greeting(
    input: &Bytes,
    config: &DecodeConfig,
) -> Result<Decoded<Greeting>, DecodeError> {
    decode_one(input, config, decode::response::greeting)
}

/// Frame and parse one server message at the start of `input`.
fn decode_one<T>(
    input: &Bytes,
    config: &DecodeConfig,
    parse: impl FnOnce(&mut Parser<'_>) -> decode::PResult<T>,
) -> Result<Decoded<T>, DecodeError> {
    let mut framer = Framer::new(Side::Responses);
    match framer.step(input, config) {
        Ok(Step::Complete(n)) => {
            let bytes = input.slice(..n);
            parse_message(&bytes, config, 0, parse)
                .map(|value| Decoded::Complete { value, consumed: n })
        }
        Ok(_) => Ok(Decoded::Incomplete),
        Err(FrameError { kind, at, .. }) => Err(DecodeError {
            offset: at as u64,
            kind,
            expected: "message within limits",
            excerpt: excerpt(input, at),
            tag: leading_tag(input),
        }),
    }
}

/// A piece of an encoded command. A client sends a [`Fragment::Line`], and before
/// a [`Fragment::Literal`] waits for the server's continuation request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fragment {
    /// Bytes to send at once (ends with `{n}\r\n` when a literal follows).
    Line(Bytes),
    /// Literal data to send after a `+` from the server.
    Literal(Bytes),
}

/// Encode a command into `dst` in one piece (literals as the policy says, with no
/// waiting: use [`encode_command_fragments`] to honour synchronising literals).
pub fn encode_command(cmd: &Command, dst: &mut BytesMut, config: &EncodeConfig) {
    let mut splits = Vec::new();
    let mut w = Writer::for_command(dst, config, &mut splits);
    encode::command::command(&mut w, cmd);
}

/// Encode a command split at its synchronising literals.
pub fn encode_command_fragments(cmd: &Command, config: &EncodeConfig) -> Vec<Fragment> {
    let mut dst = BytesMut::new();
    let mut splits = Vec::new();
    {
        let mut w = Writer::for_command(&mut dst, config, &mut splits);
        encode::command::command(&mut w, cmd);
    }
    let bytes = dst.freeze();
    let mut out = Vec::with_capacity(splits.len() * 2 + 1);
    let mut pos = 0;
    for (start, len) in splits {
        out.push(Fragment::Line(bytes.slice(pos..start)));
        out.push(Fragment::Literal(bytes.slice(start..start + len)));
        pos = start + len;
    }
    out.push(Fragment::Line(bytes.slice(pos..)));
    out
}

/// Encode an AUTHENTICATE continuation line (base64 data or `*`).
pub fn encode_authenticate_data(data: &AuthenticateData, dst: &mut BytesMut) {
    let cfg = EncodeConfig::default();
    let mut w = Writer::new(dst, &cfg);
    encode::command::authenticate_data(&mut w, data);
}

/// Encode `DONE\r\n`, which ends IDLE.
pub fn encode_idle_done(dst: &mut BytesMut) {
    dst.extend_from_slice(b"DONE\r\n");
}

/// Encode a response into `dst`.
pub fn encode_response(resp: &Response, dst: &mut BytesMut, config: &EncodeConfig) {
    let mut w = Writer::new(dst, config);
    encode::response::response(&mut w, resp);
}

/// Encode a greeting into `dst`.
pub fn encode_greeting(greeting: &Greeting, dst: &mut BytesMut, config: &EncodeConfig) {
    let mut w = Writer::new(dst, config);
    encode::response::greeting(&mut w, greeting);
}

/// Parse one framed message (for [`crate::fuzzing`]).
pub(crate) fn parse_framed<T>(
    bytes: &Bytes,
    config: &DecodeConfig,
    parse: impl FnOnce(&mut Parser<'_>) -> decode::PResult<T>,
) -> Result<T, DecodeError> {
    parse_message(bytes, config, 0, parse)
}
