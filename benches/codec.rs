//! Decoding and encoding throughput of `imap-codec`, side by side with the
//! crates.io peers `imap-codec` 2.0.0-alpha.10 (`peer_imap_codec`) and
//! `imap-proto` 0.17 (`peer_imap_proto`, responses only), and a `memchr` scan
//! for line feeds as the floor no decoder can beat.
//!
//! Groups (see `benches/README.md`):
//! - `sync_stream`: 10,000 FETCH responses of a mailbox sync (ENVELOPE and
//!   BODYSTRUCTURE), also fed to our codec in 16 KiB chunks, and decoded by
//!   it with every (lazy) ENVELOPE and BODYSTRUCTURE built (`ours_built`;
//!   `ours_eager` builds them while decoding).
//! - `literal_stream`: FETCH responses carrying `BODY[]` literals of 2 KiB,
//!   64 KiB and 1 MiB.
//! - `command_stream`: a mixed client command stream.
//! - `encode`: encoding the parsed sync-stream responses again.
//!
//! All inputs are generated in code (`benches/inputs`). Before any timing, each
//! parser is run once over each input and must parse every message of it; a
//! parser that rejects a message makes the benchmark panic, naming it.
//!
//! Run with `cargo bench --bench codec` (filter: `cargo bench --bench codec --
//! literal`). Set `CODEC_BENCH_PEERS_ONLY=1` to skip our decoder (for checking
//! the inputs against the peers while our grammar is incomplete), or
//! `CODEC_BENCH_ONCE=<parser>` to run one parser once over the sync stream (for
//! callgrind).

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use imap_codec::fuzzing::{frame_responses, parse_framed_command, parse_framed_response};
use imap_codec::{
    encode_response, CommandCodec, DecodeConfig, Decoded, EncodeConfig, ResponseCodec,
};
use imap_proto::{Data, FetchItem, Response};
use peer_imap_codec::decode::Decoder as _;
use peer_imap_codec::encode::Encoder as _;

mod inputs;

use inputs::Stream;

/// Messages in the sync stream.
const SYNC_MESSAGES: usize = 10_000;
/// Bytes fed per read in the chunked variant.
const CHUNK: usize = 16 * 1024;
/// Approximate size of each literal stream.
const LITERAL_TOTAL: usize = 8 * 1024 * 1024;
/// Sessions in the command stream.
const SESSIONS: usize = 2_500;

/// The peer imap-codec's response type.
type PeerResponse<'a> = peer_imap_codec::imap_types::response::Response<'a>;

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn ours_enabled() -> bool {
    std::env::var_os("CODEC_BENCH_PEERS_ONLY").is_none()
}

// ---------------------------------------------------------------------------
// The decode loops: each returns the number of messages decoded and panics on
// the first rejected message (so the checks and the timed loops are the same
// code).
// ---------------------------------------------------------------------------

/// Ours: the streaming ResponseCodec over a buffer holding the whole input.
/// The buffer is borrowed so that freeing it is not timed: the peers parse a
/// borrowed slice and free nothing either (an 8 MiB buffer's `munmap` costs
/// as much as decoding the 1 MiB-literal stream).
#[inline(never)]
fn ours_responses(buf: &mut BytesMut) -> usize {
    let mut codec = ResponseCodec::new();
    let mut n = 0;
    loop {
        match codec.decode(buf) {
            Ok(Decoded::Complete { value, .. }) => {
                black_box(&value);
                n += 1;
            }
            Ok(Decoded::Incomplete) => break,
            Ok(other) => panic!("ours (ResponseCodec): unexpected {other:?} after {n} messages"),
            Err(e) => panic!(
                "ours (ResponseCodec) rejected message {}: {e} ({e:?})",
                n + 1
            ),
        }
    }
    assert!(
        buf.is_empty(),
        "ours (ResponseCodec): {} bytes left over",
        buf.len()
    );
    n
}

/// Builds every lazy value of `response` (its ENVELOPE, BODY and
/// BODYSTRUCTURE items, which our decoder checks but builds only on first
/// read) as a reader looking at each of them would; returns how many.
fn build_lazy(response: &Response) -> usize {
    let Response::Data(Data::Fetch { items, .. }) = response else {
        return 0;
    };
    let mut built = 0;
    for item in items {
        match item {
            FetchItem::Envelope(envelope) => {
                black_box(envelope.get());
                built += 1;
            }
            FetchItem::Body(body) | FetchItem::BodyStructure(body) => {
                black_box(body.get());
                built += 1;
            }
            _ => {}
        }
    }
    built
}

/// Ours, values built: as [`ours_responses`], but every ENVELOPE, BODY and
/// BODYSTRUCTURE is read (built, and dropped with its response), as the peers
/// build them. `cfg` is [`DecodeConfig::responses`] (`ours_built`: built on
/// the first read) or the same with `defer_structures` off (`ours_eager`:
/// built while decoding, so the read finds them built). Returns the messages
/// decoded and the values read.
#[inline(never)]
fn ours_built_responses(buf: &mut BytesMut, cfg: &DecodeConfig) -> (usize, usize) {
    let mut codec = ResponseCodec::with_config(cfg.clone());
    let mut n = 0;
    let mut built = 0;
    loop {
        match codec.decode(buf) {
            Ok(Decoded::Complete { value, .. }) => {
                built += build_lazy(&value);
                black_box(&value);
                n += 1;
            }
            Ok(Decoded::Incomplete) => break,
            Ok(other) => panic!("ours (built): unexpected {other:?} after {n} messages"),
            Err(e) => panic!("ours (built) rejected message {}: {e} ({e:?})", n + 1),
        }
    }
    assert!(
        buf.is_empty(),
        "ours (built): {} bytes left over",
        buf.len()
    );
    (n, built)
}

/// Ours: the streaming ResponseCodec fed `CHUNK` bytes at a time, as from a socket.
fn ours_responses_chunked(input: &[u8]) -> usize {
    let mut codec = ResponseCodec::new();
    let mut buf = BytesMut::with_capacity(4 * CHUNK);
    let mut n = 0;
    for chunk in input.chunks(CHUNK) {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Decoded::Complete { value, .. }) => {
                    black_box(&value);
                    n += 1;
                }
                Ok(Decoded::Incomplete) => break,
                Ok(other) => panic!("ours (chunked): unexpected {other:?} after {n} messages"),
                Err(e) => panic!("ours (chunked) rejected message {}: {e} ({e:?})", n + 1),
            }
        }
    }
    assert!(
        buf.is_empty(),
        "ours (chunked): {} bytes left over",
        buf.len()
    );
    n
}

/// Ours: parsing alone, over pre-framed messages (zero-copy slices of one
/// buffer).
#[inline(never)]
fn ours_parse_responses(messages: &[Bytes], cfg: &DecodeConfig) -> usize {
    for (i, m) in messages.iter().enumerate() {
        match parse_framed_response(m, cfg) {
            Ok(v) => {
                black_box(&v);
            }
            Err(e) => panic!("ours (parse only) rejected message {}: {e} ({e:?})", i + 1),
        }
    }
    messages.len()
}

/// Ours: framing alone.
#[inline(never)]
fn ours_frame_responses(input: &[u8]) -> usize {
    frame_responses(input)
}

/// Ours: the streaming CommandCodec (a sync literal already in the buffer is
/// not announced; if one were, the server would answer `+` and go on).
#[inline(never)]
fn ours_commands(buf: &mut BytesMut) -> usize {
    let mut codec = CommandCodec::new();
    let mut n = 0;
    loop {
        match codec.decode(buf) {
            Ok(Decoded::Complete { value, .. }) => {
                black_box(&value);
                n += 1;
            }
            Ok(Decoded::LiteralAnnounced { .. }) => continue,
            Ok(Decoded::Incomplete) => break,
            Ok(other) => panic!("ours (CommandCodec): unexpected {other:?} after {n} commands"),
            Err(e) => panic!(
                "ours (CommandCodec) rejected command {}: {e} ({e:?})",
                n + 1
            ),
        }
    }
    assert!(
        buf.is_empty(),
        "ours (CommandCodec): {} bytes left over",
        buf.len()
    );
    n
}

/// Ours: command parsing alone, over pre-framed commands.
#[inline(never)]
fn ours_parse_commands(messages: &[Bytes], cfg: &DecodeConfig) -> usize {
    for (i, m) in messages.iter().enumerate() {
        match parse_framed_command(m, cfg) {
            Ok(v) => {
                black_box(&v);
            }
            Err(e) => panic!("ours (parse only) rejected command {}: {e} ({e:?})", i + 1),
        }
    }
    messages.len()
}

/// Peer imap-codec: `ResponseCodec::decode` over the remaining input.
#[inline(never)]
fn peer_codec_responses(input: &[u8]) -> usize {
    let codec = peer_imap_codec::ResponseCodec::default();
    let mut rest = input;
    let mut n = 0;
    while !rest.is_empty() {
        match codec.decode(rest) {
            Ok((r, v)) => {
                black_box(&v);
                rest = r;
                n += 1;
            }
            Err(e) => panic!(
                "peer imap-codec rejected message {} at offset {}: {e:?}",
                n + 1,
                input.len() - rest.len()
            ),
        }
    }
    n
}

/// Peer imap-codec: `CommandCodec::decode` over the remaining input.
#[inline(never)]
fn peer_codec_commands(input: &[u8]) -> usize {
    let codec = peer_imap_codec::CommandCodec::default();
    let mut rest = input;
    let mut n = 0;
    while !rest.is_empty() {
        match codec.decode(rest) {
            Ok((r, v)) => {
                black_box(&v);
                rest = r;
                n += 1;
            }
            Err(e) => panic!(
                "peer imap-codec rejected command {} at offset {}: {e:?}",
                n + 1,
                input.len() - rest.len()
            ),
        }
    }
    n
}

/// Peer imap-proto: `Response::parse` over the remaining input.
#[inline(never)]
fn peer_proto_responses(input: &[u8]) -> usize {
    let mut rest = input;
    let mut n = 0;
    while !rest.is_empty() {
        match peer_imap_proto::Response::parse(rest) {
            Ok((r, v)) => {
                black_box(&v);
                rest = r;
                n += 1;
            }
            Err(e) => panic!(
                "peer imap-proto rejected message {} at offset {}: {e:?}",
                n + 1,
                input.len() - rest.len()
            ),
        }
    }
    n
}

/// The floor: count line feeds.
fn memchr_lines(input: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', input).count()
}

// ---------------------------------------------------------------------------
// Checks (once per input, outside the timed loops).
// ---------------------------------------------------------------------------

fn check(who: &str, input: &str, got: usize, want: usize) {
    assert_eq!(
        got, want,
        "{who} parsed {got} of the {want} messages of {input}: the benchmark would be meaningless"
    );
}

fn split(stream: &Stream) -> (Bytes, Vec<Bytes>) {
    let all = Bytes::from(stream.bytes.clone());
    let messages = stream
        .messages()
        .map(|(start, len)| all.slice(start..start + len))
        .collect();
    (all, messages)
}

/// [`DecodeConfig::responses`] with ENVELOPE, BODY and BODYSTRUCTURE built
/// while decoding rather than on first read.
fn eager_config() -> DecodeConfig {
    let mut cfg = DecodeConfig::responses();
    cfg.defer_structures = false;
    cfg
}

/// The messages at `offsets` (start, length), sliced out of a fresh copy of
/// `input`: new memory, like the buffer of the `ours` row. Made untimed
/// before each iteration of the `*_parse_only` rows; the copy is freed
/// (untimed) when the slices are dropped after it.
fn fresh_messages(input: &[u8], offsets: &[(usize, usize)]) -> Vec<Bytes> {
    let all = Bytes::copy_from_slice(input);
    offsets
        .iter()
        .map(|&(start, len)| all.slice(start..start + len))
        .collect()
}

/// Checks all response parsers on `stream` and registers the response
/// benchmarks shared by `sync_stream` and `literal_stream`; `sync` adds the
/// rows for the sync stream only (`ours_built`, `ours_eager`).
fn response_benches(g: &mut Group<'_>, name: &str, stream: &Stream, sync: bool) {
    let want = stream.lens.len();
    let input = &stream.bytes[..];
    let (_, messages) = split(stream);
    let offsets: Vec<(usize, usize)> = stream.messages().collect();
    let cfg = DecodeConfig::responses();
    let eager = eager_config();

    check("peer imap-codec", name, peer_codec_responses(input), want);
    check("peer imap-proto", name, peer_proto_responses(input), want);
    if ours_enabled() {
        check(
            "ours (ResponseCodec)",
            name,
            ours_responses(&mut BytesMut::from(input)),
            want,
        );
        check("ours (chunked)", name, ours_responses_chunked(input), want);
        if sync {
            for (who, cfg) in [("ours (built)", &cfg), ("ours (eager)", &eager)] {
                let (n, built) = ours_built_responses(&mut BytesMut::from(input), cfg);
                check(who, name, n, want);
                // Every sync-stream message has an ENVELOPE and a BODYSTRUCTURE:
                // the row must read both, or it measures nothing more than `ours`.
                assert_eq!(
                    built,
                    2 * want,
                    "{who} read {built} ENVELOPE/BODY/BODYSTRUCTURE values in {name}, \
                     expected 2 per message"
                );
            }
        }
        check(
            "ours (parse only)",
            name,
            ours_parse_responses(&fresh_messages(input, &offsets), &cfg),
            want,
        );
        check(
            "ours (parse only, hot)",
            name,
            ours_parse_responses(&messages, &cfg),
            want,
        );
        check(
            "ours (framing only)",
            name,
            ours_frame_responses(input),
            want,
        );
    }

    g.throughput(Throughput::Bytes(input.len() as u64));
    if ours_enabled() {
        g.bench_function(format!("{name}/ours"), |b| {
            b.iter_batched_ref(
                || BytesMut::from(input),
                ours_responses,
                BatchSize::PerIteration,
            )
        });
        if sync {
            // Ours with every ENVELOPE and BODYSTRUCTURE built, as the peers
            // build them: `ours` only checks them and keeps their bytes.
            g.bench_function(format!("{name}/ours_built"), |b| {
                b.iter_batched_ref(
                    || BytesMut::from(input),
                    |buf| ours_built_responses(buf, &cfg),
                    BatchSize::PerIteration,
                )
            });
            // The same with `defer_structures` off: built while decoding, as
            // a reader that will read every one can configure it.
            g.bench_function(format!("{name}/ours_eager"), |b| {
                b.iter_batched_ref(
                    || BytesMut::from(input),
                    |buf| ours_built_responses(buf, &eager),
                    BatchSize::PerIteration,
                )
            });
        }
        // As a socket delivers them: 16 KiB reads appended to one buffer
        // (for the literal streams too: issue 13 measures them this way).
        g.bench_function(format!("{name}/ours_chunked_16k"), |b| {
            b.iter(|| ours_responses_chunked(black_box(input)))
        });
        // Parsing alone, over messages in a fresh copy of the input made
        // untimed before each iteration, as for `ours`: `ours` against this
        // row is what streaming framing costs, with the same memory beneath.
        g.bench_function(format!("{name}/ours_parse_only"), |b| {
            b.iter_batched_ref(
                || fresh_messages(input, &offsets),
                |messages| ours_parse_responses(messages, &cfg),
                BatchSize::PerIteration,
            )
        });
        // The same over one reused input, hot in the caches: against
        // `ours_parse_only`, what a cold buffer costs.
        g.bench_function(format!("{name}/ours_parse_only_hot"), |b| {
            b.iter(|| ours_parse_responses(black_box(&messages), &cfg))
        });
        g.bench_function(format!("{name}/ours_framing_only"), |b| {
            b.iter(|| ours_frame_responses(black_box(input)))
        });
    }
    // The peers parse a fresh copy of the input too, made (untimed) just
    // before each iteration like ours: our streaming decoder consumes its
    // buffer, and a fresh buffer is cold in the caches and TLB where a reused
    // one stays hot (on the 1 MiB-literal stream, where only a few lines per
    // MiB are read, that alone made a 1.5x difference).
    g.bench_function(format!("{name}/peer_imap_codec"), |b| {
        b.iter_batched_ref(
            || input.to_vec(),
            |v| peer_codec_responses(v),
            BatchSize::PerIteration,
        )
    });
    g.bench_function(format!("{name}/peer_imap_proto"), |b| {
        b.iter_batched_ref(
            || input.to_vec(),
            |v| peer_proto_responses(v),
            BatchSize::PerIteration,
        )
    });
    g.bench_function(format!("{name}/memchr_lf"), |b| {
        b.iter(|| memchr_lines(black_box(input)))
    });
}

fn configure(g: &mut Group<'_>) {
    // Iterations take milliseconds to a second: flat sampling keeps the run short.
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

// ---------------------------------------------------------------------------
// Groups.
// ---------------------------------------------------------------------------

fn sync_stream(c: &mut Criterion) {
    let stream = inputs::sync_stream(SYNC_MESSAGES);
    let mut g = c.benchmark_group("sync_stream");
    configure(&mut g);
    response_benches(&mut g, "fetch_envelope_bodystructure", &stream, true);
    g.finish();
}

fn literal_stream(c: &mut Criterion) {
    let mut g = c.benchmark_group("literal_stream");
    configure(&mut g);
    for (name, len) in [("2k", 2 * 1024), ("64k", 64 * 1024), ("1m", 1024 * 1024)] {
        let stream = inputs::literal_stream(len, LITERAL_TOTAL);
        response_benches(&mut g, name, &stream, false);
    }
    g.finish();
}

fn command_stream(c: &mut Criterion) {
    let stream = inputs::command_stream(SESSIONS);
    let name = "command stream";
    let want = stream.lens.len();
    let input = &stream.bytes[..];
    let (_, messages) = split(&stream);
    let offsets: Vec<(usize, usize)> = stream.messages().collect();
    let cfg = DecodeConfig::commands();

    check("peer imap-codec", name, peer_codec_commands(input), want);
    if ours_enabled() {
        check(
            "ours (CommandCodec)",
            name,
            ours_commands(&mut BytesMut::from(input)),
            want,
        );
        check(
            "ours (parse only)",
            name,
            ours_parse_commands(&fresh_messages(input, &offsets), &cfg),
            want,
        );
        check(
            "ours (parse only, hot)",
            name,
            ours_parse_commands(&messages, &cfg),
            want,
        );
    }

    let mut g = c.benchmark_group("command_stream");
    configure(&mut g);
    g.throughput(Throughput::Bytes(input.len() as u64));
    if ours_enabled() {
        g.bench_function("mixed/ours", |b| {
            b.iter_batched_ref(
                || BytesMut::from(input),
                ours_commands,
                BatchSize::PerIteration,
            )
        });
        // Fresh and hot, as for responses (see `response_benches`).
        g.bench_function("mixed/ours_parse_only", |b| {
            b.iter_batched_ref(
                || fresh_messages(input, &offsets),
                |messages| ours_parse_commands(messages, &cfg),
                BatchSize::PerIteration,
            )
        });
        g.bench_function("mixed/ours_parse_only_hot", |b| {
            b.iter(|| ours_parse_commands(black_box(&messages), &cfg))
        });
    }
    // A fresh copy per iteration, as for ours (see `response_benches`).
    g.bench_function("mixed/peer_imap_codec", |b| {
        b.iter_batched_ref(
            || input.to_vec(),
            |v| peer_codec_commands(v),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("mixed/memchr_lf", |b| {
        b.iter(|| memchr_lines(black_box(input)))
    });
    g.finish();
}

/// Ours: parse every message of `stream` (outside the timed loops).
///
/// ENVELOPE and BODYSTRUCTURE are built while parsing (`defer_structures`
/// off), as a server's own values are built in place: the `encode` group
/// measures the encoder on values that exist, not their deferred building.
fn ours_parsed(stream: &Stream) -> Vec<Response> {
    let mut cfg = DecodeConfig::responses();
    cfg.defer_structures = false;
    let (_, messages) = split(stream);
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            parse_framed_response(m, &cfg)
                .unwrap_or_else(|e| panic!("ours rejected message {}: {e}", i + 1))
        })
        .collect()
}

/// Peer imap-codec: parse every message of `input` (outside the timed loops).
fn peer_parsed(input: &[u8]) -> Vec<PeerResponse<'_>> {
    let codec = peer_imap_codec::ResponseCodec::default();
    let mut peer = Vec::with_capacity(SYNC_MESSAGES);
    let mut rest = input;
    while !rest.is_empty() {
        let (r, v) = codec.decode(rest).unwrap_or_else(|e| {
            panic!("peer imap-codec rejected message {}: {e:?}", peer.len() + 1)
        });
        peer.push(v);
        rest = r;
    }
    peer
}

/// Ours: encode all responses into `dst` (cleared first).
#[inline(never)]
fn ours_encode_all(responses: &[Response], dst: &mut BytesMut) {
    let cfg = EncodeConfig::default();
    dst.clear();
    for r in responses {
        encode_response(r, dst, &cfg);
    }
}

/// Peer imap-codec: encode all responses, appending every fragment to `out`
/// (cleared first).
#[inline(never)]
fn peer_encode_all(responses: &[PeerResponse<'_>], out: &mut Vec<u8>) {
    let codec = peer_imap_codec::ResponseCodec::default();
    out.clear();
    for r in responses {
        for fragment in codec.encode(r) {
            match fragment {
                peer_imap_codec::encode::Fragment::Line { data }
                | peer_imap_codec::encode::Fragment::Literal { data, .. } => {
                    out.extend_from_slice(&data)
                }
            }
        }
    }
}

fn encode(c: &mut Criterion) {
    let stream = inputs::sync_stream(SYNC_MESSAGES);
    let input = &stream.bytes[..];
    let mut g = c.benchmark_group("encode");
    configure(&mut g);

    if ours_enabled() {
        let ours = ours_parsed(&stream);
        let mut dst = BytesMut::with_capacity(input.len() * 2);
        ours_encode_all(&ours, &mut dst);
        // What we wrote must decode back to as many messages.
        check(
            "ours (re-encoded)",
            "sync stream",
            ours_responses(&mut dst.clone()),
            ours.len(),
        );
        g.throughput(Throughput::Bytes(dst.len() as u64));
        g.bench_function("fetch_envelope_bodystructure/ours", |b| {
            b.iter(|| {
                ours_encode_all(black_box(&ours), &mut dst);
                black_box(dst.len())
            })
        });
    }

    let peer = peer_parsed(input);
    let mut out = Vec::with_capacity(input.len() * 2);
    peer_encode_all(&peer, &mut out);
    check(
        "peer imap-codec (re-encoded)",
        "sync stream",
        peer_codec_responses(&out),
        peer.len(),
    );
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("fetch_envelope_bodystructure/peer_imap_codec", |b| {
        b.iter(|| {
            peer_encode_all(black_box(&peer), &mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

/// `CODEC_BENCH_ONCE=<parser>`: run one parser once over the sync stream and
/// exit, for counting instructions with callgrind (see `benches/README.md`).
fn once(parser: &str) {
    let stream = inputs::sync_stream(SYNC_MESSAGES);
    let input = &stream.bytes[..];
    let n = match parser {
        "ours" => ours_responses(&mut BytesMut::from(input)),
        "ours_built" | "ours_eager" => {
            let cfg = if parser == "ours_built" {
                DecodeConfig::responses()
            } else {
                eager_config()
            };
            let (n, built) = ours_built_responses(&mut BytesMut::from(input), &cfg);
            println!("{parser}: {built} ENVELOPE/BODY/BODYSTRUCTURE values read");
            n
        }
        "ours_parse_only" => {
            let (_, messages) = split(&stream);
            ours_parse_responses(&messages, &DecodeConfig::responses())
        }
        "ours_framing_only" => ours_frame_responses(input),
        "peer_imap_codec" => peer_codec_responses(input),
        "peer_imap_proto" => peer_proto_responses(input),
        "commands_ours" | "commands_ours_parse_only" | "commands_peer_imap_codec" => {
            let stream = inputs::command_stream(SESSIONS);
            let n = match parser {
                "commands_ours" => ours_commands(&mut BytesMut::from(&stream.bytes[..])),
                "commands_ours_parse_only" => {
                    let (_, messages) = split(&stream);
                    ours_parse_commands(&messages, &DecodeConfig::commands())
                }
                _ => peer_codec_commands(&stream.bytes),
            };
            println!("{parser}: {n} commands, {} bytes", stream.bytes.len());
            return;
        }
        "literal2k_ours"
        | "literal2k_ours_parse_only"
        | "literal2k_peer_imap_proto"
        | "literal1m_ours"
        | "literal1m_ours_parse_only"
        | "literal1m_peer_imap_proto" => {
            let (size, which) = parser.split_at("literal2k".len());
            let len = if size == "literal1m" {
                1024 * 1024
            } else {
                2 * 1024
            };
            let stream = inputs::literal_stream(len, LITERAL_TOTAL);
            let n = match which {
                "_ours" => ours_responses(&mut BytesMut::from(&stream.bytes[..])),
                "_ours_parse_only" => {
                    let (_, messages) = split(&stream);
                    ours_parse_responses(&messages, &DecodeConfig::responses())
                }
                _ => peer_proto_responses(&stream.bytes),
            };
            println!("{parser}: {n} messages, {} bytes", stream.bytes.len());
            return;
        }
        "encode_ours" => {
            let ours = ours_parsed(&stream);
            let mut dst = BytesMut::with_capacity(input.len() * 2);
            ours_encode_all(&ours, &mut dst);
            println!("encode_ours: {} bytes written", dst.len());
            ours.len()
        }
        "encode_peer_imap_codec" => {
            let peer = peer_parsed(input);
            let mut out = Vec::with_capacity(input.len() * 2);
            peer_encode_all(&peer, &mut out);
            println!("encode_peer_imap_codec: {} bytes written", out.len());
            peer.len()
        }
        other => panic!(
            "CODEC_BENCH_ONCE={other}: expected ours, ours_built, ours_eager, \
             ours_parse_only, ours_framing_only, peer_imap_codec, peer_imap_proto, \
             encode_ours, encode_peer_imap_codec, commands_ours, commands_ours_parse_only, \
             commands_peer_imap_codec, literal2k_ours, literal2k_ours_parse_only, \
             literal2k_peer_imap_proto, literal1m_ours, literal1m_ours_parse_only or \
             literal1m_peer_imap_proto"
        ),
    };
    println!("{parser}: {n} messages, {} bytes", input.len());
}

fn main() {
    if let Some(parser) = std::env::var_os("CODEC_BENCH_ONCE") {
        once(&parser.to_string_lossy());
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    sync_stream(&mut c);
    literal_stream(&mut c);
    command_stream(&mut c);
    encode(&mut c);
    c.final_summary();
}
