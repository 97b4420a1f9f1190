//! A command-line probe: parse a recorded IMAP byte stream and print it back in
//! canonical form.
//!
//! ```text
//! cargo run --release -p imap-codec --example imap-parse -- commands  < client.bin
//! cargo run --release -p imap-codec --example imap-parse -- responses < server.bin
//! ```
//!
//! Standard input is one direction of a session exactly as on the wire (literals
//! inline). Each message is decoded, re-encoded and written to standard output;
//! at the end `parsed N messages` goes to standard error and the exit status is 0.
//! On the first malformed message, or a message cut short by the end of input,
//! `offset N: reason` goes to standard error (N is the absolute byte offset in the
//! input) and the exit status is 1. A wrong or missing argument prints the usage
//! and exits with 2.
//!
//! Input is read in 64 KiB chunks and decoded as it arrives, so memory stays
//! bounded by the codec's default limits whatever the input.
//!
//! In a command stream, the line after `IDLE` must be `DONE`, and after
//! `AUTHENTICATE` every line without a space is SASL data (or `*`), until a line
//! that is a command (a tagged command always contains a space).

use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::process::ExitCode;

use bytes::BytesMut;
use imap_codec::imap_proto::CommandBody;
use imap_codec::{
    encode_authenticate_data, encode_command, encode_idle_done, encode_response, CommandCodec,
    DecodeError, Decoded, EncodeConfig, ResponseCodec,
};

const CHUNK: usize = 64 * 1024;
const USAGE: &str = "usage: imap-parse commands|responses < stream\n\
    \n\
    Reads a client-to-server (commands) or server-to-client (responses) IMAP byte\n\
    stream from standard input, writes each message re-encoded to standard output,\n\
    and reports `parsed N messages` or `offset N: reason` on standard error.";

/// Which direction the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Commands,
    Responses,
}

/// Why the probe stopped early.
#[derive(Debug)]
enum Failure {
    /// A message could not be decoded.
    Decode(DecodeError),
    /// The input ended inside a message that started at this offset.
    Truncated(u64),
    /// Reading standard input or writing standard output failed.
    Io(&'static str, io::Error),
}

impl From<DecodeError> for Failure {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

/// What the next client line is expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommandState {
    /// A command.
    Command,
    /// `DONE`, ending IDLE.
    IdleDone,
    /// SASL data (lines without a space) or a command.
    Authenticate,
}

/// A message decoder for one direction, re-encoding what it decodes into `out`.
trait Probe {
    /// Decode and re-encode as many messages as `buf` holds; returns how many.
    fn drain(&mut self, buf: &mut BytesMut, out: &mut BytesMut) -> Result<u64, DecodeError>;
    /// Where the message being received started, if the input is cut inside one.
    fn truncated_at(&self, buf: &BytesMut) -> Option<u64>;
}

/// The client-to-server side.
#[derive(Debug)]
struct Commands {
    codec: CommandCodec,
    state: CommandState,
    encode: EncodeConfig,
}

impl Commands {
    fn new() -> Self {
        Self {
            codec: CommandCodec::new(),
            state: CommandState::Command,
            encode: EncodeConfig::default(),
        }
    }

    /// During AUTHENTICATE: whether the line at the front of `buf` is a command.
    /// `None` until a whole line (or a space) is there.
    fn front_is_command(buf: &[u8]) -> Option<bool> {
        let end = memchr_lf(buf);
        let line = &buf[..end.unwrap_or(buf.len())];
        if line.contains(&b' ') {
            Some(true)
        } else if end.is_some() {
            Some(false)
        } else {
            None
        }
    }
}

fn memchr_lf(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

impl Probe for Commands {
    fn drain(&mut self, buf: &mut BytesMut, out: &mut BytesMut) -> Result<u64, DecodeError> {
        let mut n = 0;
        loop {
            if self.state == CommandState::Authenticate {
                match Self::front_is_command(buf) {
                    Some(true) => self.state = CommandState::Command,
                    Some(false) => {}
                    // No whole line yet: let the decoder buffer it (and refuse it
                    // once it is over the line limit).
                    None => match self.codec.decode_authenticate_data(buf)? {
                        Decoded::Complete { value, .. } => {
                            encode_authenticate_data(&value, out);
                            n += 1;
                            continue;
                        }
                        _ => return Ok(n),
                    },
                }
            }
            match self.state {
                CommandState::Command => match self.codec.decode(buf)? {
                    Decoded::Complete { value, .. } => {
                        encode_command(&value, out, &self.encode);
                        n += 1;
                        self.state = match value.body {
                            CommandBody::Idle => CommandState::IdleDone,
                            CommandBody::Authenticate { .. } => CommandState::Authenticate,
                            _ => CommandState::Command,
                        };
                    }
                    // A synchronising literal: in a recording its bytes follow
                    // inline, so just keep reading.
                    _ => return Ok(n),
                },
                CommandState::IdleDone => match self.codec.decode_idle_done(buf)? {
                    Decoded::Complete { .. } => {
                        encode_idle_done(out);
                        n += 1;
                        self.state = CommandState::Command;
                    }
                    _ => return Ok(n),
                },
                CommandState::Authenticate => match self.codec.decode_authenticate_data(buf)? {
                    Decoded::Complete { value, .. } => {
                        encode_authenticate_data(&value, out);
                        n += 1;
                    }
                    _ => return Ok(n),
                },
            }
        }
    }

    fn truncated_at(&self, buf: &BytesMut) -> Option<u64> {
        self.codec
            .in_message(buf)
            .then(|| self.codec.stream_offset())
    }
}

/// The server-to-client side.
#[derive(Debug)]
struct Responses {
    codec: ResponseCodec,
    encode: EncodeConfig,
}

impl Probe for Responses {
    fn drain(&mut self, buf: &mut BytesMut, out: &mut BytesMut) -> Result<u64, DecodeError> {
        let mut n = 0;
        loop {
            match self.codec.decode(buf)? {
                Decoded::Complete { value, .. } => {
                    encode_response(&value, out, &self.encode);
                    n += 1;
                }
                _ => return Ok(n),
            }
        }
    }

    fn truncated_at(&self, buf: &BytesMut) -> Option<u64> {
        self.codec
            .in_message(buf)
            .then(|| self.codec.stream_offset())
    }
}

/// Read standard input to its end, decoding as it arrives.
fn run(
    probe: &mut dyn Probe,
    input: &mut dyn Read,
    output: &mut dyn Write,
) -> Result<u64, Failure> {
    let mut chunk = vec![0u8; CHUNK];
    let mut buf = BytesMut::with_capacity(CHUNK);
    let mut out = BytesMut::new();
    let mut messages = 0u64;
    loop {
        let read = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::Io("reading standard input", e)),
        };
        buf.extend_from_slice(&chunk[..read]);
        let drained = probe.drain(&mut buf, &mut out);
        // Whatever decoded before an error still goes out.
        output
            .write_all(&out)
            .map_err(|e| Failure::Io("writing standard output", e))?;
        out.clear();
        messages += drained?;
    }
    if let Some(start) = probe.truncated_at(&buf) {
        return Err(Failure::Truncated(start));
    }
    Ok(messages)
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let direction = match (args.next(), args.next()) {
        (Some(a), None) if a == "commands" => Direction::Commands,
        (Some(a), None) if a == "responses" => Direction::Responses,
        _ => {
            let _ = writeln!(io::stderr(), "{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut probe: Box<dyn Probe> = match direction {
        Direction::Commands => Box::new(Commands::new()),
        Direction::Responses => Box::new(Responses {
            codec: ResponseCodec::new(),
            encode: EncodeConfig::default(),
        }),
    };

    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut output = BufWriter::new(stdout.lock());
    let result = run(probe.as_mut(), &mut input, &mut output);
    let flushed = output.flush();

    let mut stderr = io::stderr();
    match (result, flushed) {
        (Ok(n), Ok(())) => {
            let _ = writeln!(stderr, "parsed {n} messages");
            ExitCode::SUCCESS
        }
        (Ok(_), Err(e)) => {
            let _ = writeln!(stderr, "error writing standard output: {e}");
            ExitCode::from(1)
        }
        (Err(Failure::Decode(e)), _) => {
            let _ = writeln!(stderr, "offset {}: {e}", e.offset);
            ExitCode::from(1)
        }
        (Err(Failure::Truncated(at)), _) => {
            let _ = writeln!(stderr, "offset {at}: truncated message");
            ExitCode::from(1)
        }
        (Err(Failure::Io(what, e)), _) => {
            let _ = writeln!(stderr, "error {what}: {e}");
            ExitCode::from(1)
        }
    }
}
