//! The client benchmark: fetch the headers of every message of a mailbox
//! (`UID FETCH 1:* (UID BODY.PEEK[HEADER])`) with our client
//! (`imap-client-core` driven by `imap_client::tokio`) and with the
//! `async-imap` crate, alternately, and report the wall times, their medians,
//! the ratio async-imap / ours and each client's peak RSS.
//!
//! ```text
//! client-compare --port PORT --user USER --password PASS [--runs 5] [--warmup 1] [--expect N]
//! client-compare one --client ours|async-imap --port PORT --user USER --password PASS
//! ```
//!
//! Every run is a process of its own (`one`), so that its peak RSS (`VmHWM`)
//! is that client's alone; the parent alternates the clients (each round
//! starts with the other one) and checks that every run saw the same UIDs, the
//! same total header bytes and the same digest of (UID, header) pairs. The
//! time counted is from TCP connect to the end of LOGOUT: connect, LOGIN,
//! SELECT INBOX, the FETCH with every header collected into memory, LOGOUT.
//! `scripts/client-bench.sh` sets up Dovecot and runs this.

use imap_client::tokio as driver;

use std::net::SocketAddr;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use imap_client_core::ClientConfig;
use imap_proto::{
    Data, FetchAttribute, FetchItem, FetchItems, Mailbox, Section, SectionText, SequenceSet,
};

use driver::{Client, Timeouts};

/// The two clients.
const CLIENTS: [&str; 2] = ["ours", "async-imap"];

/// Command-line options.
#[derive(Debug, Clone)]
struct Options {
    port: u16,
    user: String,
    password: String,
    runs: usize,
    warmup: usize,
    expect: Option<usize>,
    client: Option<String>,
}

fn usage(msg: &str) -> ! {
    eprintln!("client-compare: {msg}");
    eprintln!(
        "usage: client-compare [one --client ours|async-imap] --port PORT --user USER \
         --password PASS [--runs N] [--warmup N] [--expect MESSAGES]"
    );
    std::process::exit(2)
}

fn parse_args() -> (bool, Options) {
    let mut args = std::env::args().skip(1).peekable();
    let one = args.peek().is_some_and(|a| a == "one");
    if one {
        args.next();
    }
    let mut o = Options {
        port: 0,
        user: String::new(),
        password: String::new(),
        runs: 5,
        warmup: 1,
        expect: None,
        client: None,
    };
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            usage(&format!("{flag} needs a value"))
        };
        let number = || -> usize {
            value
                .parse()
                .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {value}")))
        };
        match flag.as_str() {
            "--port" => o.port = u16::try_from(number()).unwrap_or_else(|_| usage("bad port")),
            "--user" => o.user.clone_from(&value),
            "--password" => o.password.clone_from(&value),
            "--runs" => o.runs = number(),
            "--warmup" => o.warmup = number(),
            "--expect" => o.expect = Some(number()),
            "--client" => o.client = Some(value.clone()),
            _ => usage(&format!("unknown argument {flag}")),
        }
    }
    if o.port == 0 || o.user.is_empty() {
        usage("--port and --user are required");
    }
    (one, o)
}

/// What one run measured and saw.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    client: String,
    seconds: f64,
    messages: usize,
    header_bytes: u64,
    /// FNV-1a over the (UID, header) pairs in UID order.
    digest: u64,
    /// CPU time of the client's thread (user + system) over the timed part.
    cpu_seconds: f64,
    /// Peak resident set size of the process, KiB.
    peak_rss_kib: u64,
}

impl Outcome {
    fn to_line(&self) -> String {
        format!(
            "RESULT client={} seconds={:.6} cpu_seconds={:.6} messages={} header_bytes={} digest={:016x} peak_rss_kib={}",
            self.client,
            self.seconds,
            self.cpu_seconds,
            self.messages,
            self.header_bytes,
            self.digest,
            self.peak_rss_kib
        )
    }

    fn from_line(line: &str) -> Option<Self> {
        let rest = line.strip_prefix("RESULT ")?;
        let field = |name: &str| {
            rest.split(' ')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        };
        Some(Self {
            client: field("client")?.to_owned(),
            seconds: field("seconds")?.parse().ok()?,
            cpu_seconds: field("cpu_seconds")?.parse().ok()?,
            messages: field("messages")?.parse().ok()?,
            header_bytes: field("header_bytes")?.parse().ok()?,
            digest: u64::from_str_radix(field("digest")?, 16).ok()?,
            peak_rss_kib: field("peak_rss_kib")?.parse().ok()?,
        })
    }
}

/// The (UID, header) pairs fetched, summarised.
fn summarise(mut pairs: Vec<(u32, &[u8])>) -> (usize, u64, u64) {
    pairs.sort_unstable_by_key(|p| p.0);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    let mut total = 0u64;
    for (uid, header) in &pairs {
        eat(&uid.to_be_bytes());
        eat(header);
        total += header.len() as u64;
    }
    (pairs.len(), total, h)
}

/// Peak RSS of this process (`VmHWM` in /proc/self/status), KiB; 0 if unknown.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time this thread has run, in seconds (`/proc/thread-self/schedstat`,
/// nanoseconds; the runtime is single-threaded, so this is all the client's
/// work: parsing, copying, system calls); 0 if unknown.
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

fn header_items() -> FetchItems {
    FetchItems::Attributes(vec![
        FetchAttribute::Uid,
        FetchAttribute::BodySection {
            peek: true,
            section: Section {
                part: Vec::new(),
                text: Some(SectionText::Header),
            },
            partial: None,
        },
    ])
}

/// One run with our client; the FETCH responses stay in memory (as the
/// driver returns them) until the digest is taken.
async fn run_ours(o: &Options) -> Result<Outcome, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], o.port));
    let timeouts = Timeouts {
        response: Duration::from_secs(300),
        ..Timeouts::default()
    };
    let cpu = thread_cpu_seconds();
    let start = Instant::now();
    let mut c = Client::connect_tcp(addr, ClientConfig::default(), timeouts)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    c.login(&o.user, &o.password)
        .await
        .map_err(|e| format!("login: {e}"))?;
    c.select(&Mailbox::inbox())
        .await
        .map_err(|e| format!("select: {e}"))?;
    let fetched = c
        .uid_fetch(SequenceSet::all(), header_items())
        .await
        .map_err(|e| format!("fetch: {e}"))?;
    let pairs: Vec<(u32, &[u8])> = fetched
        .data
        .iter()
        .filter_map(|d| match d {
            Data::Fetch { items, .. } => {
                let mut uid = None;
                let mut header = None;
                for i in items {
                    match i {
                        FetchItem::Uid(u) => uid = Some(u.get()),
                        FetchItem::BodySection {
                            section:
                                Section {
                                    text: Some(SectionText::Header),
                                    ..
                                },
                            data: Some(d),
                            ..
                        } => header = Some(&d[..]),
                        _ => {}
                    }
                }
                Some((uid?, header?))
            }
            _ => None,
        })
        .collect();
    c.logout().await.map_err(|e| format!("logout: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = thread_cpu_seconds() - cpu;
    let (messages, header_bytes, digest) = summarise(pairs);
    Ok(Outcome {
        client: "ours".to_owned(),
        seconds,
        cpu_seconds,
        messages,
        header_bytes,
        digest,
        peak_rss_kib: peak_rss_kib(),
    })
}

/// One run with async-imap; its `Fetch` values stay in memory until the
/// digest is taken.
async fn run_async_imap(o: &Options) -> Result<Outcome, String> {
    let cpu = thread_cpu_seconds();
    let start = Instant::now();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", o.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let mut client = async_imap::Client::new(tcp);
    client
        .read_response()
        .await
        .map_err(|e| format!("greeting: {e}"))?
        .ok_or("no greeting")?;
    let mut session = client
        .login(&o.user, &o.password)
        .await
        .map_err(|(e, _)| format!("login: {e}"))?;
    session
        .select("INBOX")
        .await
        .map_err(|e| format!("select: {e}"))?;
    let mut fetches = Vec::new();
    {
        let mut stream = session
            .uid_fetch("1:*", "(UID BODY.PEEK[HEADER])")
            .await
            .map_err(|e| format!("fetch: {e}"))?;
        while let Some(f) = stream.next().await {
            fetches.push(f.map_err(|e| format!("fetch: {e}"))?);
        }
    }
    let pairs: Vec<(u32, &[u8])> = fetches
        .iter()
        .filter_map(|f| Some((f.uid?, f.header()?)))
        .collect();
    session.logout().await.map_err(|e| format!("logout: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = thread_cpu_seconds() - cpu;
    let (messages, header_bytes, digest) = summarise(pairs);
    Ok(Outcome {
        client: "async-imap".to_owned(),
        seconds,
        cpu_seconds,
        messages,
        header_bytes,
        digest,
        peak_rss_kib: peak_rss_kib(),
    })
}

/// `one`: a single run in this process; prints its RESULT line.
fn one(o: &Options) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("client-compare: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match o.client.as_deref() {
            Some("ours") => run_ours(o).await,
            Some("async-imap") => run_async_imap(o).await,
            other => Err(format!(
                "--client must be ours or async-imap, not {other:?}"
            )),
        }
    });
    match result {
        Ok(outcome) => {
            println!("{}", outcome.to_line());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("client-compare: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Run `client` once in a child process.
fn spawn_run(o: &Options, client: &str) -> Result<Outcome, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let out = Command::new(exe)
        .args(["one", "--client", client, "--port", &o.port.to_string()])
        .args(["--user", &o.user, "--password", &o.password])
        .output()
        .map_err(|e| format!("spawn: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{client} run failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    stdout
        .lines()
        .find_map(Outcome::from_line)
        .ok_or_else(|| format!("{client}: no RESULT line in {stdout:?}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The comparison: warm-up rounds, then `runs` rounds of both clients, each
/// round starting with the client the previous one ended with.
fn compare(o: &Options) -> ExitCode {
    let mut results: Vec<Outcome> = Vec::new();
    let mut reference: Option<(usize, u64, u64)> = None;
    for round in 0..o.warmup + o.runs {
        let order: [&str; 2] = if round % 2 == 0 {
            CLIENTS
        } else {
            [CLIENTS[1], CLIENTS[0]]
        };
        for client in order {
            let r = match spawn_run(o, client) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("client-compare: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let seen = (r.messages, r.header_bytes, r.digest);
            let warm = round < o.warmup;
            println!(
                "{:<8} {:<10} {:>7.1} ms wall {:>7.1} ms CPU  {:>6} messages  {:>10} header bytes  digest {:016x}  peak RSS {:>7} KiB",
                if warm { "warm-up".to_owned() } else { format!("run {}", round - o.warmup + 1) },
                r.client,
                r.seconds * 1e3,
                r.cpu_seconds * 1e3,
                r.messages,
                r.header_bytes,
                r.digest,
                r.peak_rss_kib
            );
            match reference {
                None => reference = Some(seen),
                Some(want) if want != seen => {
                    eprintln!(
                        "client-compare: {} saw (messages, bytes, digest) = {seen:?}, expected {want:?}",
                        r.client
                    );
                    return ExitCode::FAILURE;
                }
                Some(_) => {}
            }
            if let Some(n) = o.expect {
                if r.messages != n {
                    eprintln!(
                        "client-compare: {} fetched {} messages, expected {n}",
                        r.client, r.messages
                    );
                    return ExitCode::FAILURE;
                }
            }
            if !warm {
                results.push(r);
            }
        }
    }
    let of =
        |client: &str| -> Vec<&Outcome> { results.iter().filter(|r| r.client == client).collect() };
    let ours = of("ours");
    let theirs = of("async-imap");
    let med_ours = median(ours.iter().map(|r| r.seconds).collect());
    let med_theirs = median(theirs.iter().map(|r| r.seconds).collect());
    let cpu_ours = median(ours.iter().map(|r| r.cpu_seconds).collect());
    let cpu_theirs = median(theirs.iter().map(|r| r.cpu_seconds).collect());
    let rss_ours = median(ours.iter().map(|r| r.peak_rss_kib as f64).collect());
    let rss_theirs = median(theirs.iter().map(|r| r.peak_rss_kib as f64).collect());
    let (messages, bytes, _) = reference.unwrap_or_default();
    println!();
    println!("{messages} messages, {bytes} header bytes, same UIDs and headers for both clients in every run");
    println!(
        "median wall time: ours {:.1} ms, async-imap {:.1} ms; ratio async-imap/ours = {:.2}",
        med_ours * 1e3,
        med_theirs * 1e3,
        med_theirs / med_ours
    );
    println!(
        "median client CPU: ours {:.1} ms, async-imap {:.1} ms; ratio async-imap/ours = {:.2}",
        cpu_ours * 1e3,
        cpu_theirs * 1e3,
        cpu_theirs / cpu_ours
    );
    println!(
        "median peak RSS: ours {:.0} KiB, async-imap {:.0} KiB; ratio async-imap/ours = {:.2}",
        rss_ours,
        rss_theirs,
        rss_theirs / rss_ours
    );
    println!(
        "{{\"messages\":{messages},\"header_bytes\":{bytes},\"runs\":{},\"ours_ms\":[{}],\"async_imap_ms\":[{}],\
         \"median_ours_ms\":{:.1},\"median_async_imap_ms\":{:.1},\"ratio\":{:.3},\"median_cpu_ours_ms\":{:.1},\"median_cpu_async_imap_ms\":{:.1},\
         \"peak_rss_ours_kib\":{rss_ours:.0},\"peak_rss_async_imap_kib\":{rss_theirs:.0}}}",
        o.runs,
        ours.iter().map(|r| format!("{:.1}", r.seconds * 1e3)).collect::<Vec<_>>().join(","),
        theirs.iter().map(|r| format!("{:.1}", r.seconds * 1e3)).collect::<Vec<_>>().join(","),
        med_ours * 1e3,
        med_theirs * 1e3,
        med_theirs / med_ours,
        cpu_ours * 1e3,
        cpu_theirs * 1e3
    );
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let (is_one, o) = parse_args();
    if is_one {
        one(&o)
    } else {
        compare(&o)
    }
}
