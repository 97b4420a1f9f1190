//! `imap-load`: a small IMAP load generator, for comparing servers.
//!
//! It opens `--clients N` concurrent connections (tokio tasks) to a plaintext
//! IMAP server and, for `--duration SECS`, has each one repeat a session:
//!
//! ```text
//! connect, greeting
//! LOGIN user password
//! SELECT mailbox
//! APPEND mailbox {n+}        (LITERAL+ when advertised, else {n} and wait for "+")
//! UID FETCH lo:* (UID FLAGS ENVELOPE BODY.PEEK[HEADER])   (the last ~10 messages)
//! UID STORE uid +FLAGS (\Seen)                            (the appended message)
//! UID SEARCH UNSEEN
//! UID SEARCH SUBJECT token                                (matches only that message)
//! LOGOUT
//! ```
//!
//! Each command's latency (from the first byte sent to the tagged reply) is
//! recorded. At the end it prints commands per second and p50/p90/p99/max
//! latency per command type and overall, as a table and as one JSON line (the
//! last line of standard output, starting with `{`).
//!
//! The replies are checked, not just counted: the appended message must come
//! back from FETCH with its subject in ENVELOPE and BODY[HEADER], with `\Seen`
//! after STORE, must not be UNSEEN, and must be the only SUBJECT match; any
//! mismatch counts as a validation error and the first few are printed.
//!
//! Commands are encoded with this workspace's `imap_codec::encode_command_fragments`
//! and responses decoded with `imap_codec::ResponseCodec`, so a run also exercises
//! the client side of the codec against whichever server it talks to.
//!
//! ```text
//! cargo run --release --example imap-load -- --server 127.0.0.1:1143 \
//!     --user 'load%d' --password pass --clients 16 --duration 20 \
//!     [--mailbox INBOX] [--message-size 2048] [--timeout 30] [--threads N] [--label NAME] \
//!     [--sync-literals]
//! ```
//!
//! `--sync-literals` ignores LITERAL+/LITERAL- and always waits for the `+`
//! continuation before sending the APPEND literal.
//!
//! With `%d` in `--user`, client `i` (1-based) logs in as the name with `%d`
//! replaced by `i` (`load1`, `load2`, …); otherwise all clients share one user.
//! The exit status is 0 when every command succeeded and validated, 1 when some
//! failed (the report is printed either way), 2 on bad arguments.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use imap_codec::{
    encode_command_fragments, Decoded, EncodeConfig, Fragment, LiteralPolicy, ResponseCodec,
};
use imap_proto::{
    AppendMessage, Capability, Code, Command, CommandBody, Continue, Data, FetchAttribute,
    FetchItem, FetchItems, Flag, GreetingKind, IString, Literal, Mailbox, Response, SearchKey,
    Secret, Section, SectionText, SeqBound, SequenceSet, Status, StatusKind, StoreKind,
    StoreTarget, Tag,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Command types, in the order they run (and are reported).
const KINDS: [&str; 9] = [
    "CONNECT",
    "LOGIN",
    "SELECT",
    "APPEND",
    "UID FETCH",
    "UID STORE",
    "UID SEARCH UNSEEN",
    "UID SEARCH SUBJECT",
    "LOGOUT",
];

/// Print at most this many individual errors (the rest are only counted).
const MAX_PRINTED_ERRORS: usize = 20;

/// How many messages before the appended one UID FETCH asks for.
const FETCH_WINDOW: u32 = 9;

#[derive(Debug, Clone)]
struct Args {
    server: String,
    user: String,
    password: String,
    clients: usize,
    duration: Duration,
    mailbox: String,
    message_size: usize,
    timeout: Duration,
    threads: usize,
    label: String,
    sync_literals: bool,
}

fn usage() -> &'static str {
    "usage: imap-load --server HOST:PORT --user NAME[%d] --password PW --clients N \
     --duration SECS [--mailbox NAME] [--message-size BYTES] [--timeout SECS] \
     [--threads N] [--label NAME] [--sync-literals]"
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        server: String::new(),
        user: String::new(),
        password: String::new(),
        clients: 1,
        duration: Duration::from_secs(10),
        mailbox: "INBOX".to_owned(),
        message_size: 2048,
        timeout: Duration::from_secs(30),
        threads: std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        label: String::new(),
        sync_literals: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{}", usage());
            std::process::exit(0);
        }
        if flag == "--sync-literals" {
            args.sync_literals = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{}", usage()))?;
        let number = |what: &str| -> Result<u64, String> {
            value
                .parse::<u64>()
                .map_err(|_| format!("{what}: not a number: {value:?}"))
        };
        match flag.as_str() {
            "--server" => args.server = value.clone(),
            "--user" => args.user = value.clone(),
            "--password" => args.password = value.clone(),
            "--clients" => args.clients = number("--clients")? as usize,
            "--duration" => {
                let secs: f64 = value
                    .parse()
                    .map_err(|_| format!("--duration: not a number: {value:?}"))?;
                if !(secs > 0.0 && secs.is_finite()) {
                    return Err("--duration must be positive".to_owned());
                }
                args.duration = Duration::from_secs_f64(secs);
            }
            "--mailbox" => args.mailbox = value.clone(),
            "--message-size" => args.message_size = number("--message-size")? as usize,
            "--timeout" => args.timeout = Duration::from_secs(number("--timeout")?.max(1)),
            "--threads" => args.threads = (number("--threads")? as usize).max(1),
            "--label" => args.label = value.clone(),
            other => return Err(format!("unknown option {other}\n{}", usage())),
        }
    }
    if args.server.is_empty() || args.user.is_empty() {
        return Err(format!("--server and --user are required\n{}", usage()));
    }
    if args.clients == 0 {
        return Err("--clients must be at least 1".to_owned());
    }
    if args.label.is_empty() {
        args.label = args.server.clone();
    }
    Ok(args)
}

/// What went wrong in a session.
#[derive(Debug)]
enum LoadError {
    /// Socket trouble (connect, read, write, EOF).
    Io(String),
    /// No reply within `--timeout`.
    Timeout,
    /// The codec could not decode what the server sent.
    Decode(String),
    /// The server answered NO or BAD, or BYE unexpectedly.
    Refused(String),
    /// The server answered OK but the data was not what it should be.
    Invalid(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(s) => write!(f, "I/O error: {s}"),
            Self::Timeout => f.write_str("timed out waiting for the server"),
            Self::Decode(s) => write!(f, "undecodable response: {s}"),
            Self::Refused(s) => write!(f, "refused: {s}"),
            Self::Invalid(s) => write!(f, "validation failed: {s}"),
        }
    }
}

/// A tagged reply and the untagged responses that came before it.
#[derive(Debug)]
struct Reply {
    code: Option<Code>,
    untagged: Vec<Response>,
}

/// One IMAP connection: socket, receive buffer, decoder and tag counter.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    codec: ResponseCodec,
    encode: EncodeConfig,
    next_tag: u32,
    timeout: Duration,
    capabilities: Vec<Capability>,
    sync_literals: bool,
}

impl Conn {
    async fn connect(
        addr: &str,
        timeout: Duration,
        sync_literals: bool,
    ) -> Result<Self, LoadError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| LoadError::Timeout)?
            .map_err(|e| LoadError::Io(format!("connect {addr}: {e}")))?;
        stream.set_nodelay(true).ok();
        let mut conn = Self {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            codec: ResponseCodec::new(),
            encode: EncodeConfig::default(),
            next_tag: 0,
            timeout,
            capabilities: Vec::new(),
            sync_literals,
        };
        let greeting = loop {
            match conn.codec.decode_greeting(&mut conn.buf) {
                Ok(Decoded::Complete { value, .. }) => break value,
                Ok(_) => conn.fill().await?,
                Err(e) => return Err(LoadError::Decode(format!("greeting: {e}"))),
            }
        };
        if greeting.kind != GreetingKind::Ok {
            return Err(LoadError::Refused(format!(
                "greeting {:?}: {}",
                greeting.kind,
                String::from_utf8_lossy(greeting.text.as_bytes())
            )));
        }
        if let Some(Code::Capability(caps)) = greeting.code {
            conn.set_capabilities(caps);
        }
        Ok(conn)
    }

    fn set_capabilities(&mut self, caps: Vec<Capability>) {
        self.encode.literals = if self.sync_literals {
            LiteralPolicy::Sync
        } else if caps.contains(&Capability::LiteralPlus) {
            LiteralPolicy::Plus
        } else if caps.contains(&Capability::LiteralMinus) {
            LiteralPolicy::Minus
        } else {
            LiteralPolicy::Sync
        };
        self.capabilities = caps;
    }

    /// Read more bytes into the buffer, within the timeout.
    async fn fill(&mut self) -> Result<(), LoadError> {
        let n = tokio::time::timeout(self.timeout, self.stream.read_buf(&mut self.buf))
            .await
            .map_err(|_| LoadError::Timeout)?
            .map_err(|e| LoadError::Io(format!("read: {e}")))?;
        if n == 0 {
            return Err(LoadError::Io("server closed the connection".to_owned()));
        }
        Ok(())
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), LoadError> {
        tokio::time::timeout(self.timeout, self.stream.write_all(bytes))
            .await
            .map_err(|_| LoadError::Timeout)?
            .map_err(|e| LoadError::Io(format!("write: {e}")))
    }

    async fn next_response(&mut self) -> Result<Response, LoadError> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Decoded::Complete { value, .. }) => return Ok(value),
                Ok(_) => self.fill().await?,
                Err(e) => return Err(LoadError::Decode(e.to_string())),
            }
        }
    }

    /// Send one command (waiting for `+` before each synchronising literal) and
    /// collect responses up to its tagged reply. `logout` accepts the BYE.
    async fn run(&mut self, body: CommandBody) -> Result<Reply, LoadError> {
        self.next_tag += 1;
        let tag = Tag::try_from(format!("L{}", self.next_tag)).expect("valid tag");
        let name = body.name().to_owned();
        let logout = matches!(body, CommandBody::Logout);
        let cmd = Command {
            tag: tag.clone(),
            body,
        };
        let mut untagged = Vec::new();
        for fragment in encode_command_fragments(&cmd, &self.encode) {
            match fragment {
                Fragment::Line(bytes) => self.send(&bytes).await?,
                Fragment::Literal(bytes) => {
                    // Wait for the continuation request; a tagged reply means the
                    // server refused the literal.
                    loop {
                        match self.next_response().await? {
                            Response::Continue(_) => break,
                            Response::Status(Status::Tagged {
                                tag: t, kind, text, ..
                            }) if t == tag => {
                                return Err(LoadError::Refused(format!(
                                    "{name}: {kind:?} {} (before the literal)",
                                    String::from_utf8_lossy(text.as_bytes())
                                )))
                            }
                            other => untagged.push(other),
                        }
                    }
                    self.send(&bytes).await?;
                }
                _ => unreachable!("unknown fragment"),
            }
        }
        loop {
            match self.next_response().await? {
                Response::Status(Status::Tagged {
                    tag: t,
                    kind,
                    code,
                    text,
                }) => {
                    if t != tag {
                        return Err(LoadError::Invalid(format!(
                            "{name}: reply for tag {:?}, expected {:?}",
                            String::from_utf8_lossy(t.as_bytes()),
                            String::from_utf8_lossy(tag.as_bytes())
                        )));
                    }
                    if kind != StatusKind::Ok {
                        return Err(LoadError::Refused(format!(
                            "{name}: {kind:?} {}",
                            String::from_utf8_lossy(text.as_bytes())
                        )));
                    }
                    return Ok(Reply { code, untagged });
                }
                Response::Status(Status::Bye { text, .. }) if !logout => {
                    return Err(LoadError::Refused(format!(
                        "{name}: BYE {}",
                        String::from_utf8_lossy(text.as_bytes())
                    )));
                }
                Response::Continue(Continue::Basic { .. }) if !logout => {
                    return Err(LoadError::Invalid(format!(
                        "{name}: unexpected continuation request"
                    )));
                }
                other => untagged.push(other),
            }
        }
    }
}

/// Per-command-type results of one client (merged at the end).
#[derive(Debug, Default)]
struct Stats {
    /// Latencies in microseconds of commands that completed before the deadline.
    latencies: BTreeMap<&'static str, Vec<u32>>,
    errors: BTreeMap<&'static str, u64>,
    validation_errors: u64,
    sessions: u64,
}

impl Stats {
    fn merge(&mut self, other: Self) {
        for (k, mut v) in other.latencies {
            self.latencies.entry(k).or_default().append(&mut v);
        }
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.validation_errors += other.validation_errors;
        self.sessions += other.sessions;
    }
}

/// State shared by all clients.
struct Shared {
    args: Args,
    deadline: Instant,
    printed_errors: AtomicUsize,
    run_id: u64,
}

impl Shared {
    fn report(&self, client: usize, kind: &str, err: &LoadError) {
        let n = self.printed_errors.fetch_add(1, Ordering::Relaxed);
        if n < MAX_PRINTED_ERRORS {
            eprintln!("imap-load: client {client}: {kind}: {err}");
        } else if n == MAX_PRINTED_ERRORS {
            eprintln!("imap-load: (further errors are only counted)");
        }
    }
}

/// A test message of about `size` bytes whose subject carries `token`.
fn make_message(token: &str, client: usize, size: usize) -> Bytes {
    let mut m = String::with_capacity(size + 512);
    let _ = write!(
        m,
        "From: Load Client {client} <load{client}@example.org>\r\n\
         To: Load Sink <sink@example.org>\r\n\
         Subject: imap-load {token}\r\n\
         Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n\
         Message-ID: <{token}@imap-load.example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n"
    );
    let line = "The quick brown fox jumps over the lazy dog; pack my box with five dozen.\r\n";
    while m.len() + line.len() <= size {
        m.push_str(line);
    }
    if m.len() < size {
        m.push_str(&"x".repeat(size.saturating_sub(m.len() + 2)));
        m.push_str("\r\n");
    }
    Bytes::from(m)
}

fn uid_set(lo: u32, hi: Option<u32>) -> SequenceSet {
    let lo = NonZeroU32::new(lo.max(1)).expect("non-zero");
    match hi.and_then(NonZeroU32::new) {
        Some(hi) if hi == lo => SequenceSet::single(lo),
        Some(hi) => SequenceSet::range(SeqBound::Value(lo), SeqBound::Value(hi)),
        None => SequenceSet::range(SeqBound::Value(lo), SeqBound::Star),
    }
}

fn search_results(reply: &Reply) -> Vec<u32> {
    let mut out = Vec::new();
    for r in &reply.untagged {
        match r {
            Response::Data(Data::Search { numbers, .. }) => {
                out.extend(numbers.iter().map(|n| n.get()));
            }
            Response::Data(Data::ESearch(es)) => {
                for item in &es.items {
                    if let imap_proto::ESearchItem::All(set) = item {
                        out.extend(set.iter(u32::MAX));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// One session: returns Ok when it ran to LOGOUT, or the failing command type
/// and error.
async fn session(
    shared: &Shared,
    client: usize,
    iter: u64,
    user: &str,
    stats: &mut Stats,
) -> Result<(), (&'static str, LoadError)> {
    let args = &shared.args;
    let deadline = shared.deadline;
    // Record a command's latency if it completed within the measured window.
    let record = |stats: &mut Stats, kind: &'static str, started: Instant| {
        let now = Instant::now();
        if now <= deadline {
            let us = now
                .duration_since(started)
                .as_micros()
                .min(u128::from(u32::MAX)) as u32;
            stats.latencies.entry(kind).or_default().push(us);
        }
    };
    macro_rules! step {
        ($kind:expr, $fut:expr) => {{
            let started = Instant::now();
            let r = $fut.await.map_err(|e| ($kind, e))?;
            record(stats, $kind, started);
            r
        }};
    }
    macro_rules! invalid {
        ($kind:expr, $($fmt:tt)*) => {{
            stats.validation_errors += 1;
            return Err(($kind, LoadError::Invalid(format!($($fmt)*))));
        }};
    }

    let mut conn = step!(
        "CONNECT",
        Conn::connect(&args.server, args.timeout, args.sync_literals)
    );
    if conn.capabilities.contains(&Capability::LoginDisabled) {
        return Err((
            "LOGIN",
            LoadError::Refused("server advertises LOGINDISABLED on this port".to_owned()),
        ));
    }

    // LOGIN
    let login = CommandBody::Login {
        username: IString::try_from(user).map_err(|e| ("LOGIN", LoadError::Io(e.to_string())))?,
        password: Secret::new(
            IString::try_from(args.password.as_str())
                .map_err(|e| ("LOGIN", LoadError::Io(e.to_string())))?,
        ),
    };
    let reply = step!("LOGIN", conn.run(login));
    // Post-login capabilities: in the OK's code, or as untagged CAPABILITY.
    let mut caps = None;
    if let Some(Code::Capability(c)) = reply.code {
        caps = Some(c);
    }
    for r in reply.untagged {
        if let Response::Data(Data::Capability(c)) = r {
            caps = Some(c);
        }
    }
    match caps {
        Some(c) => conn.set_capabilities(c),
        None if conn.capabilities.is_empty() => {
            // Neither the greeting nor LOGIN said; ask (not timed).
            let reply = conn
                .run(CommandBody::Capability)
                .await
                .map_err(|e| ("LOGIN", e))?;
            for r in reply.untagged {
                if let Response::Data(Data::Capability(c)) = r {
                    conn.set_capabilities(c);
                }
            }
        }
        None => {}
    }

    // SELECT
    let mailbox = Mailbox::from_utf8(&args.mailbox);
    let reply = step!(
        "SELECT",
        conn.run(CommandBody::Select {
            mailbox: mailbox.clone(),
            params: vec![],
        })
    );
    let mut uid_next = None;
    let mut saw_exists = false;
    for r in &reply.untagged {
        match r {
            Response::Status(Status::Untagged {
                code: Some(Code::UidNext(u)),
                ..
            }) => uid_next = Some(u.get()),
            Response::Data(Data::Exists(_)) => saw_exists = true,
            _ => {}
        }
    }
    if !saw_exists {
        invalid!("SELECT", "no EXISTS in the SELECT reply");
    }

    // APPEND
    let token = format!("x{}.{client}.{iter}x", shared.run_id);
    let message = make_message(&token, client, args.message_size);
    let data =
        Literal::new(message.clone()).map_err(|e| ("APPEND", LoadError::Io(e.to_string())))?;
    let reply = step!(
        "APPEND",
        conn.run(CommandBody::Append {
            mailbox,
            messages: vec![AppendMessage {
                flags: vec![],
                date: None,
                data,
                utf8: false,
            }],
        })
    );
    let append_uid = match &reply.code {
        Some(Code::AppendUid { uids, .. }) => uids.iter(u32::MAX).next(),
        _ => None,
    };

    // UID FETCH of the newest messages: from a little before the appended one.
    let lo = append_uid
        .or(uid_next)
        .unwrap_or(1)
        .saturating_sub(FETCH_WINDOW);
    let fetch = CommandBody::Fetch {
        uid: true,
        set: uid_set(lo, None),
        items: FetchItems::Attributes(vec![
            FetchAttribute::Uid,
            FetchAttribute::Flags,
            FetchAttribute::Envelope,
            FetchAttribute::BodySection {
                peek: true,
                section: Section {
                    part: vec![],
                    text: Some(SectionText::Header),
                },
                partial: None,
            },
        ]),
        modifiers: vec![],
    };
    let reply = step!("UID FETCH", conn.run(fetch));
    let subject = format!("imap-load {token}");
    let mut found = None;
    let mut fetched = 0;
    for r in &reply.untagged {
        let Response::Data(Data::Fetch { items, .. }) = r else {
            continue;
        };
        fetched += 1;
        let mut uid = None;
        let mut env_subject = None;
        let mut header = None;
        let mut flags = None;
        for item in items {
            match item {
                FetchItem::Uid(u) => uid = Some(u.get()),
                FetchItem::Envelope(env) => env_subject = env.subject.clone(),
                FetchItem::BodySection { data, .. } => header = data.clone(),
                FetchItem::Flags(f) => flags = Some(f.clone()),
                _ => {}
            }
        }
        let is_ours = env_subject
            .as_ref()
            .is_some_and(|s| s.as_bytes() == subject.as_bytes());
        if !is_ours {
            continue;
        }
        let Some(uid) = uid else {
            invalid!("UID FETCH", "FETCH of the appended message has no UID");
        };
        if flags.is_none() {
            invalid!("UID FETCH", "FETCH of UID {uid} has no FLAGS");
        }
        let header_ok = header.as_ref().is_some_and(|h| {
            h.windows(subject.len()).any(|w| w == subject.as_bytes()) && h.ends_with(b"\r\n\r\n")
        });
        if !header_ok {
            invalid!(
                "UID FETCH",
                "BODY[HEADER] of UID {uid} does not hold the subject or does not end with a blank line: {:?}",
                header.map(|h| String::from_utf8_lossy(&h).into_owned())
            );
        }
        if let Some(a) = append_uid {
            if a != uid {
                invalid!(
                    "UID FETCH",
                    "APPENDUID said {a}, FETCH found the message at UID {uid}"
                );
            }
        }
        found = Some(uid);
    }
    let Some(uid) = found else {
        invalid!(
            "UID FETCH",
            "the appended message ({subject}) was not among the {fetched} messages of UID {lo}:*"
        );
    };

    // UID STORE +FLAGS (\Seen) on the appended message.
    let store = CommandBody::Store {
        uid: true,
        set: uid_set(uid, Some(uid)),
        modifiers: vec![],
        kind: StoreKind::Add,
        silent: false,
        target: StoreTarget::Flags(vec![Flag::Seen]),
    };
    let reply = step!("UID STORE", conn.run(store));
    let seen = reply.untagged.iter().any(|r| {
        matches!(r, Response::Data(Data::Fetch { items, .. })
            if items.iter().any(|i| matches!(i, FetchItem::Flags(f) if f.contains(&Flag::Seen))))
    });
    if !seen {
        invalid!(
            "UID STORE",
            "no FETCH with \\Seen after UID STORE {uid} +FLAGS (\\Seen)"
        );
    }

    // UID SEARCH UNSEEN: the message just marked \Seen must not be listed.
    let search = |key: SearchKey| CommandBody::Search {
        uid: true,
        return_options: None,
        charset: None,
        criteria: vec![key],
    };
    let reply = step!("UID SEARCH UNSEEN", conn.run(search(SearchKey::Unseen)));
    if search_results(&reply).contains(&uid) {
        invalid!(
            "UID SEARCH UNSEEN",
            "UID {uid} is \\Seen but SEARCH UNSEEN lists it"
        );
    }

    // UID SEARCH SUBJECT token: exactly the appended message.
    let key = SearchKey::Subject(IString::try_from(token.as_str()).expect("ascii token"));
    let reply = step!("UID SEARCH SUBJECT", conn.run(search(key)));
    let hits = search_results(&reply);
    if hits != [uid] {
        invalid!(
            "UID SEARCH SUBJECT",
            "SEARCH SUBJECT {token} returned {hits:?}, expected [{uid}]"
        );
    }

    // LOGOUT: BYE then OK.
    let reply = step!("LOGOUT", conn.run(CommandBody::Logout));
    if !reply
        .untagged
        .iter()
        .any(|r| matches!(r, Response::Status(Status::Bye { .. })))
    {
        invalid!("LOGOUT", "no BYE before the LOGOUT OK");
    }
    stats.sessions += 1;
    Ok(())
}

async fn client(shared: Arc<Shared>, client: usize) -> Stats {
    let mut stats = Stats::default();
    let user = if shared.args.user.contains("%d") {
        shared.args.user.replace("%d", &client.to_string())
    } else {
        shared.args.user.clone()
    };
    let mut iter = 0u64;
    while Instant::now() < shared.deadline {
        iter += 1;
        // A session may run past the deadline to finish with LOGOUT, but not
        // forever: a server that hangs is cut off one --timeout after it.
        let hard_stop = tokio::time::Instant::from_std(shared.deadline + shared.args.timeout);
        let result =
            tokio::time::timeout_at(hard_stop, session(&shared, client, iter, &user, &mut stats))
                .await
                .unwrap_or(Err(("SESSION", LoadError::Timeout)));
        if let Err((kind, err)) = result {
            // Errors after the deadline (a server shutting down) still count.
            *stats.errors.entry(kind).or_default() += 1;
            shared.report(client, kind, &err);
            // Back off a little so a dead server is not hammered.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    stats
}

/// Nearest-rank percentile of sorted microsecond values, in milliseconds.
fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

struct Row {
    name: String,
    count: usize,
    errors: u64,
    per_sec: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

fn row(name: &str, values: &mut [u32], errors: u64, secs: f64) -> Row {
    values.sort_unstable();
    Row {
        name: name.to_owned(),
        count: values.len(),
        errors,
        per_sec: values.len() as f64 / secs,
        p50: percentile(values, 50.0),
        p90: percentile(values, 90.0),
        p99: percentile(values, 99.0),
        max: percentile(values, 100.0),
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("imap-load: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(run(args));
    std::process::exit(code);
}

async fn run(args: Args) -> i32 {
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64 % 1_000_000_000);
    // Fail fast with a clear message when the server is not there at all.
    if let Err(e) = Conn::connect(&args.server, args.timeout, args.sync_literals).await {
        eprintln!("imap-load: cannot talk to {}: {e}", args.server);
        return 1;
    }
    eprintln!(
        "imap-load: {} clients against {} for {:.1} s (user {}, mailbox {}, {}-byte messages)",
        args.clients,
        args.server,
        args.duration.as_secs_f64(),
        args.user,
        args.mailbox,
        args.message_size
    );
    let start = Instant::now();
    let shared = Arc::new(Shared {
        deadline: start + args.duration,
        args: args.clone(),
        printed_errors: AtomicUsize::new(0),
        run_id,
    });
    let tasks: Vec<_> = (1..=args.clients)
        .map(|i| tokio::spawn(client(shared.clone(), i)))
        .collect();
    let mut stats = Stats::default();
    for t in tasks {
        match t.await {
            Ok(s) => stats.merge(s),
            Err(e) => {
                eprintln!("imap-load: a client task failed: {e}");
                *stats.errors.entry("CONNECT").or_default() += 1;
            }
        }
    }
    let secs = args.duration.as_secs_f64();

    let mut rows = Vec::new();
    let mut all = Vec::new();
    for kind in KINDS {
        let mut values = stats.latencies.remove(kind).unwrap_or_default();
        let errors = stats.errors.get(kind).copied().unwrap_or(0);
        rows.push(row(kind, &mut values, errors, secs));
        // CONNECT is reported but is not an IMAP command.
        if kind != "CONNECT" {
            all.extend_from_slice(&values);
        }
    }
    let total_errors: u64 = stats.errors.values().sum();
    let session_timeouts = stats.errors.get("SESSION").copied().unwrap_or(0);
    let overall = row("ALL COMMANDS", &mut all, total_errors, secs);

    println!();
    println!(
        "imap-load: {} ({}), {} clients, {:.1} s, {} sessions, {} errors ({} validation)",
        args.label,
        args.server,
        args.clients,
        secs,
        stats.sessions,
        total_errors,
        stats.validation_errors
    );
    if session_timeouts > 0 {
        println!("{session_timeouts} sessions were cut off after the deadline (server hung)");
    }
    println!(
        "{:<20} {:>8} {:>6} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "command", "count", "errors", "per sec", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for r in rows.iter().chain(std::iter::once(&overall)) {
        println!(
            "{:<20} {:>8} {:>6} {:>10.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            r.name, r.count, r.errors, r.per_sec, r.p50, r.p90, r.p99, r.max
        );
    }

    let stat_json = |r: &Row| {
        format!(
            "{{\"count\":{},\"errors\":{},\"per_sec\":{:.2},\"p50_ms\":{:.3},\"p90_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
            r.count, r.errors, r.per_sec, r.p50, r.p90, r.p99, r.max
        )
    };
    let mut json = format!(
        "{{\"label\":\"{}\",\"server\":\"{}\",\"clients\":{},\"duration_s\":{:.3},\"message_size\":{},\"sessions\":{},\"commands\":{},\"commands_per_sec\":{:.2},\"errors\":{},\"validation_errors\":{},\"overall\":{},\"by_command\":{{",
        json_escape(&args.label),
        json_escape(&args.server),
        args.clients,
        secs,
        args.message_size,
        stats.sessions,
        overall.count,
        overall.per_sec,
        total_errors,
        stats.validation_errors,
        stat_json(&overall)
    );
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        let _ = write!(json, "\"{}\":{}", json_escape(&r.name), stat_json(r));
    }
    json.push_str("}}");
    println!("{json}");

    if overall.count == 0 || total_errors > 0 {
        1
    } else {
        0
    }
}
