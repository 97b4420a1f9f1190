//! `maildir-bench`: times the big-folder commands of one IMAP server.
//!
//! Written for the question "how does our Maildir store compare with Dovecot on
//! a 100,000-message folder?": `scripts/maildir-bench.sh` generates one Maildir,
//! gives a copy to our `examples/imap-server` and a copy to a private Dovecot,
//! and runs this program against each, in the same run. This program talks to
//! one server over plaintext IMAP on a single connection:
//!
//! ```text
//! LOGIN user password
//! SELECT INBOX                      once: the cold SELECT (index built / loaded)
//! SELECT INBOX                      K times: warm
//! UID FETCH 1:* (FLAGS)             K times
//! SEARCH UNSEEN                     K times
//! FETCH 1:* (ENVELOPE)              K times
//! LOGOUT
//! ```
//!
//! Each command's wall time is measured from the first byte sent to the tagged
//! `OK` (so it includes transfer and decoding of every untagged line with this
//! workspace's `imap_codec::ResponseCodec`; commands are encoded with
//! `encode_command_fragments`). For repeated commands it reports the first run
//! and the median of the other runs (the first alone when `--repeat 1`).
//!
//! The replies are checked, so a broken server cannot look fast: every SELECT
//! must report the same `EXISTS` (and equal `--expect N` when given); each
//! FETCH must return exactly one line per message, each with the item asked
//! for (FLAGS with a UID; a non-NIL ENVELOPE subject); SEARCH UNSEEN must be
//! non-empty and list exactly the messages that UID FETCH (FLAGS) showed
//! without `\Seen` (by count and by sequence number); repeats must agree.
//! Any mismatch is an error (exit status 1).
//!
//! Output: a table on standard output and, as its last line, one JSON object
//! (`{"label":…,"messages":N,"unseen":U,"results":{…}}`, times in
//! milliseconds).
//!
//! ```text
//! cargo run --release --example maildir-bench -- --server 127.0.0.1:1143 \
//!     --user bench --password pass [--repeat 3] [--mailbox INBOX] \
//!     [--expect 100000] [--label NAME] [--timeout 600]
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use imap_codec::{encode_command_fragments, Decoded, EncodeConfig, Fragment, ResponseCodec};
use imap_proto::{
    Command, CommandBody, Data, ESearchItem, FetchAttribute, FetchItem, FetchItems, Flag,
    GreetingKind, IString, Mailbox, Response, SearchKey, Secret, SeqBound, SequenceSet, Status,
    StatusKind, Tag,
};

#[derive(Debug)]
struct Args {
    server: String,
    user: String,
    password: String,
    repeat: usize,
    mailbox: String,
    expect: Option<u32>,
    label: String,
    timeout: Duration,
}

fn usage() -> &'static str {
    "usage: maildir-bench --server HOST:PORT --user NAME --password PW [--repeat K] \
     [--mailbox NAME] [--expect N] [--label NAME] [--timeout SECS]"
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        server: String::new(),
        user: String::new(),
        password: String::new(),
        repeat: 3,
        mailbox: "INBOX".to_owned(),
        expect: None,
        label: String::new(),
        timeout: Duration::from_secs(600),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{}", usage());
            std::process::exit(0);
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
            "--repeat" => args.repeat = number("--repeat")? as usize,
            "--mailbox" => args.mailbox = value.clone(),
            "--expect" => {
                args.expect =
                    Some(u32::try_from(number("--expect")?).map_err(|_| "--expect: too large")?);
            }
            "--label" => args.label = value.clone(),
            "--timeout" => args.timeout = Duration::from_secs(number("--timeout")?.max(1)),
            other => return Err(format!("unknown option {other}\n{}", usage())),
        }
    }
    if args.server.is_empty() || args.user.is_empty() {
        return Err(format!("--server and --user are required\n{}", usage()));
    }
    if args.repeat == 0 {
        return Err("--repeat must be at least 1".to_owned());
    }
    if args.label.is_empty() {
        args.label = args.server.clone();
    }
    Ok(args)
}

/// One blocking IMAP connection.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    codec: ResponseCodec,
    encode: EncodeConfig,
    next_tag: u32,
}

impl Conn {
    fn connect(addr: &str, timeout: Duration) -> Result<Self, String> {
        let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).ok();
        stream
            .set_read_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(Some(timeout))
            .map_err(|e| e.to_string())?;
        let mut conn = Self {
            stream,
            buf: BytesMut::with_capacity(256 * 1024),
            codec: ResponseCodec::new(),
            encode: EncodeConfig::default(),
            next_tag: 0,
        };
        let greeting = loop {
            match conn.codec.decode_greeting(&mut conn.buf) {
                Ok(Decoded::Complete { value, .. }) => break value,
                Ok(_) => conn.fill()?,
                Err(e) => return Err(format!("greeting: {e}")),
            }
        };
        if greeting.kind != GreetingKind::Ok {
            return Err(format!("greeting {:?}", greeting.kind));
        }
        Ok(conn)
    }

    fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self
            .stream
            .read(&mut chunk)
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("server closed the connection".to_owned());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    fn next_response(&mut self) -> Result<Response, String> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Decoded::Complete { value, .. }) => return Ok(value),
                Ok(_) => self.fill()?,
                Err(e) => return Err(format!("undecodable response: {e}")),
            }
        }
    }

    /// Send a command and hand every untagged response to `each` until the
    /// tagged reply, which must be OK. Synchronising literals are not used by
    /// the commands here except possibly LOGIN, whose `+` is awaited.
    fn run(
        &mut self,
        body: CommandBody,
        mut each: impl FnMut(Response) -> Result<(), String>,
    ) -> Result<(), String> {
        self.next_tag += 1;
        let tag = Tag::try_from(format!("B{}", self.next_tag)).expect("valid tag");
        let name = body.name().to_owned();
        let logout = matches!(body, CommandBody::Logout);
        let cmd = Command {
            tag: tag.clone(),
            body,
        };
        for fragment in encode_command_fragments(&cmd, &self.encode) {
            match fragment {
                Fragment::Line(bytes) => self
                    .stream
                    .write_all(&bytes)
                    .map_err(|e| format!("write: {e}"))?,
                Fragment::Literal(bytes) => {
                    loop {
                        match self.next_response()? {
                            Response::Continue(_) => break,
                            Response::Status(Status::Tagged { tag: t, kind, .. }) if t == tag => {
                                return Err(format!("{name}: {kind:?} before the literal"));
                            }
                            other => each(other)?,
                        }
                    }
                    self.stream
                        .write_all(&bytes)
                        .map_err(|e| format!("write: {e}"))?;
                }
                _ => unreachable!("unknown fragment"),
            }
        }
        loop {
            match self.next_response()? {
                Response::Status(Status::Tagged {
                    tag: t, kind, text, ..
                }) => {
                    if t != tag {
                        return Err(format!("{name}: reply for another tag"));
                    }
                    if kind != StatusKind::Ok {
                        return Err(format!(
                            "{name}: {kind:?} {}",
                            String::from_utf8_lossy(text.as_bytes())
                        ));
                    }
                    return Ok(());
                }
                Response::Status(Status::Bye { text, .. }) if !logout => {
                    return Err(format!(
                        "{name}: BYE {}",
                        String::from_utf8_lossy(text.as_bytes())
                    ));
                }
                other => each(other)?,
            }
        }
    }
}

fn all() -> SequenceSet {
    SequenceSet::range(SeqBound::Value(NonZeroU32::MIN), SeqBound::Star)
}

/// What one SELECT reported.
fn select(conn: &mut Conn, mailbox: &str) -> Result<u32, String> {
    let mut exists = None;
    conn.run(
        CommandBody::Select {
            mailbox: Mailbox::from(mailbox),
            params: vec![],
        },
        |r| {
            if let Response::Data(Data::Exists(n)) = r {
                exists = Some(n);
            }
            Ok(())
        },
    )?;
    exists.ok_or_else(|| "SELECT: no EXISTS".to_owned())
}

/// `UID FETCH 1:* (FLAGS)`: the sequence numbers without `\Seen` (sorted).
fn fetch_flags(conn: &mut Conn, n: u32) -> Result<Vec<u32>, String> {
    let mut lines = 0u32;
    let mut unseen = Vec::new();
    let mut seen_seq = vec![false; n as usize + 1];
    conn.run(
        CommandBody::Fetch {
            uid: true,
            set: all(),
            items: FetchItems::Attributes(vec![FetchAttribute::Flags]),
            modifiers: vec![],
        },
        |r| {
            if let Response::Data(Data::Fetch { seq, items }) = r {
                let seq = seq.get();
                if seq > n || std::mem::replace(&mut seen_seq[seq as usize], true) {
                    return Err(format!("UID FETCH: bad or repeated sequence number {seq}"));
                }
                lines += 1;
                let mut flags = None;
                let mut uid = false;
                for item in &items {
                    match item {
                        FetchItem::Flags(f) => flags = Some(f.contains(&Flag::Seen)),
                        FetchItem::Uid(_) => uid = true,
                        _ => {}
                    }
                }
                match (flags, uid) {
                    (Some(seen), true) => {
                        if !seen {
                            unseen.push(seq);
                        }
                    }
                    _ => return Err(format!("UID FETCH: message {seq} lacks FLAGS or UID")),
                }
            }
            Ok(())
        },
    )?;
    if lines != n {
        return Err(format!(
            "UID FETCH (FLAGS): {lines} FETCH lines, expected {n}"
        ));
    }
    unseen.sort_unstable();
    Ok(unseen)
}

/// `SEARCH UNSEEN`: the matching sequence numbers (sorted).
fn search_unseen(conn: &mut Conn) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    conn.run(
        CommandBody::Search {
            uid: false,
            return_options: None,
            charset: None,
            criteria: vec![SearchKey::Unseen],
        },
        |r| {
            match r {
                Response::Data(Data::Search { numbers, .. }) => {
                    out.extend(numbers.iter().map(|n| n.get()));
                }
                Response::Data(Data::ESearch(es)) => {
                    for item in &es.items {
                        if let ESearchItem::All(set) = item {
                            out.extend(set.iter(u32::MAX));
                        }
                    }
                }
                _ => {}
            }
            Ok(())
        },
    )?;
    out.sort_unstable();
    Ok(out)
}

/// `FETCH 1:* (ENVELOPE)`: how many envelopes have a subject.
fn fetch_envelope(conn: &mut Conn, n: u32) -> Result<u32, String> {
    let mut lines = 0u32;
    let mut with_subject = 0u32;
    conn.run(
        CommandBody::Fetch {
            uid: false,
            set: all(),
            items: FetchItems::Attributes(vec![FetchAttribute::Envelope]),
            modifiers: vec![],
        },
        |r| {
            if let Response::Data(Data::Fetch { seq, items }) = r {
                lines += 1;
                let env = items.iter().find_map(|i| match i {
                    FetchItem::Envelope(e) => Some(e),
                    _ => None,
                });
                match env {
                    Some(e) => {
                        if e.subject.is_some() {
                            with_subject += 1;
                        }
                    }
                    None => return Err(format!("FETCH: message {} lacks ENVELOPE", seq.get())),
                }
            }
            Ok(())
        },
    )?;
    if lines != n {
        return Err(format!(
            "FETCH (ENVELOPE): {lines} FETCH lines, expected {n}"
        ));
    }
    if with_subject == 0 {
        return Err("FETCH (ENVELOPE): no envelope has a subject".to_owned());
    }
    Ok(with_subject)
}

/// Timings of one command: every run, in milliseconds.
struct Timing {
    name: &'static str,
    runs: Vec<f64>,
}

impl Timing {
    fn first(&self) -> f64 {
        self.runs[0]
    }

    /// Median of the runs after the first (the first alone when there is one run).
    fn median_rest(&self) -> f64 {
        let mut rest: Vec<f64> = self.runs[1..].to_vec();
        if rest.is_empty() {
            return self.first();
        }
        rest.sort_by(f64::total_cmp);
        let m = rest.len() / 2;
        if rest.len() % 2 == 1 {
            rest[m]
        } else {
            (rest[m - 1] + rest[m]) / 2.0
        }
    }
}

fn timed<T>(runs: &mut Vec<f64>, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let started = Instant::now();
    let v = f()?;
    runs.push(started.elapsed().as_secs_f64() * 1000.0);
    Ok(v)
}

struct Report {
    messages: u32,
    unseen: usize,
    with_subject: u32,
    timings: Vec<Timing>,
}

fn bench(args: &Args) -> Result<Report, String> {
    let mut conn = Conn::connect(&args.server, args.timeout)?;
    conn.run(
        CommandBody::Login {
            username: IString::try_from(args.user.as_str()).map_err(|e| e.to_string())?,
            password: Secret::new(
                IString::try_from(args.password.as_str()).map_err(|e| e.to_string())?,
            ),
        },
        |_| Ok(()),
    )?;

    let mut cold = Vec::new();
    let n = timed(&mut cold, || select(&mut conn, &args.mailbox))?;
    if let Some(expect) = args.expect {
        if n != expect {
            return Err(format!("SELECT: EXISTS {n}, expected {expect}"));
        }
    }
    if n == 0 {
        return Err("SELECT: the mailbox is empty".to_owned());
    }
    eprintln!(
        "maildir-bench: {}: cold SELECT {:.1} ms, {n} messages",
        args.label, cold[0]
    );

    let mut warm = Vec::new();
    let mut flags = Vec::new();
    let mut search = Vec::new();
    let mut envelope = Vec::new();
    let mut unseen_ref: Option<Vec<u32>> = None;
    let mut subject_ref = None;
    for round in 0..args.repeat {
        let again = timed(&mut warm, || select(&mut conn, &args.mailbox))?;
        if again != n {
            return Err(format!(
                "SELECT #{}: EXISTS {again}, first said {n}",
                round + 2
            ));
        }
        let unseen = timed(&mut flags, || fetch_flags(&mut conn, n))?;
        let found = timed(&mut search, || search_unseen(&mut conn))?;
        if found.is_empty() {
            return Err("SEARCH UNSEEN: empty result".to_owned());
        }
        if found != unseen {
            return Err(format!(
                "SEARCH UNSEEN: {} matches, but UID FETCH (FLAGS) shows {} messages without \\Seen",
                found.len(),
                unseen.len()
            ));
        }
        if let Some(prev) = &unseen_ref {
            if *prev != unseen {
                return Err("UID FETCH (FLAGS): unseen set changed between runs".to_owned());
            }
        }
        unseen_ref = Some(unseen);
        let subjects = timed(&mut envelope, || fetch_envelope(&mut conn, n))?;
        if subject_ref.is_some_and(|s| s != subjects) {
            return Err("FETCH (ENVELOPE): results changed between runs".to_owned());
        }
        subject_ref = Some(subjects);
        eprintln!(
            "maildir-bench: {}: round {} done ({:.0} / {:.0} / {:.0} / {:.0} ms)",
            args.label,
            round + 1,
            warm[round],
            flags[round],
            search[round],
            envelope[round]
        );
    }
    let _ = conn.run(CommandBody::Logout, |_| Ok(()));
    Ok(Report {
        messages: n,
        unseen: unseen_ref.map_or(0, |u| u.len()),
        with_subject: subject_ref.unwrap_or(0),
        timings: vec![
            Timing {
                name: "SELECT (cold)",
                runs: cold,
            },
            Timing {
                name: "SELECT (warm)",
                runs: warm,
            },
            Timing {
                name: "UID FETCH 1:* (FLAGS)",
                runs: flags,
            },
            Timing {
                name: "SEARCH UNSEEN",
                runs: search,
            },
            Timing {
                name: "FETCH 1:* (ENVELOPE)",
                runs: envelope,
            },
        ],
    })
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("maildir-bench: {e}");
            std::process::exit(2);
        }
    };
    let report = match bench(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("maildir-bench: {}: {e}", args.label);
            std::process::exit(1);
        }
    };
    println!(
        "{}: {} messages, {} unseen, {} envelopes with a subject, repeat {}",
        args.label, report.messages, report.unseen, report.with_subject, args.repeat
    );
    println!(
        "{:<24} {:>12} {:>16} {:>6}",
        "command", "first ms", "median rest ms", "runs"
    );
    for t in &report.timings {
        println!(
            "{:<24} {:>12.1} {:>16.1} {:>6}",
            t.name,
            t.first(),
            t.median_rest(),
            t.runs.len()
        );
    }
    let mut json = format!(
        "{{\"label\":\"{}\",\"messages\":{},\"unseen\":{},\"repeat\":{},\"results\":{{",
        json_escape(&args.label),
        report.messages,
        report.unseen,
        args.repeat
    );
    for (i, t) in report.timings.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        let runs: Vec<String> = t.runs.iter().map(|r| format!("{r:.3}")).collect();
        json.push_str(&format!(
            "\"{}\":{{\"first_ms\":{:.3},\"median_rest_ms\":{:.3},\"runs_ms\":[{}]}}",
            t.name,
            t.first(),
            t.median_rest(),
            runs.join(",")
        ));
    }
    json.push_str("}}");
    println!("{json}");
}
