//! `idle-load`: many idling IMAP connections, what they cost a server in
//! memory, and how fast a new message reaches them.
//!
//! ```text
//! ulimit -n 65536
//! cargo run --release --example idle-load -- --server 127.0.0.1:1143 \
//!     --user 'bench%d' --users 100 --password pass --connections 10000 \
//!     --pid SERVER_PID [--pid ...] [--rounds 20] [--open-concurrency 200]
//! ```
//!
//! 1. Reads the resident memory (VmRSS in `/proc/PID/status`, summed over
//!    every `--pid`; `--pgrep NAME` adds every process whose command name is
//!    NAME, for servers that fork, like Dovecot's `imap`) before connecting.
//! 2. Opens `--connections` plaintext connections, spread evenly over the
//!    users (`%d` in `--user` replaced by 1..=`--users`), and on each sends
//!    LOGIN, SELECT INBOX and IDLE and waits for the `+`.
//! 3. Waits two seconds, reads the memory again, and reports the growth per
//!    connection (KiB).
//! 4. `--rounds` times: appends a small message to one user's INBOX from a
//!    separate connection and measures, for every idling connection of that
//!    user, the time from just before the APPEND is written to the moment
//!    that connection reads the `* n EXISTS`. Reports p50, p99 and the
//!    maximum over all of them.
//!
//! The last line of standard output is the same as JSON. Exit status 1 when a
//! connection failed or a notification did not arrive within `--timeout`.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};

const USAGE: &str = "usage: idle-load --server HOST:PORT --user NAME[%d] --password P \
[--users N] [--connections N] [--pid PID]... [--pgrep NAME] [--rounds N] \
[--open-concurrency N] [--timeout SECS]";

struct Options {
    server: String,
    user: String,
    users: usize,
    password: String,
    connections: usize,
    pids: Vec<u32>,
    pgrep: Option<String>,
    rounds: usize,
    open_concurrency: usize,
    timeout: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        server: "127.0.0.1:1143".into(),
        user: String::new(),
        users: 1,
        password: String::new(),
        connections: 1000,
        pids: Vec::new(),
        pgrep: None,
        rounds: 20,
        open_concurrency: 200,
        timeout: Duration::from_secs(30),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value"));
        let num = |v: String| v.parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match a.as_str() {
            "--server" => o.server = val()?,
            "--user" => o.user = val()?,
            "--users" => o.users = num(val()?)?.max(1),
            "--password" => o.password = val()?,
            "--connections" => o.connections = num(val()?)?,
            "--pid" => o.pids.push(num(val()?)? as u32),
            "--pgrep" => o.pgrep = Some(val()?),
            "--rounds" => o.rounds = num(val()?)?,
            "--open-concurrency" => o.open_concurrency = num(val()?)?.max(1),
            "--timeout" => o.timeout = Duration::from_secs(num(val()?)? as u64),
            "-h" | "--help" => return Err(USAGE.into()),
            _ => return Err(format!("unknown argument {a}\n{USAGE}")),
        }
    }
    if o.user.is_empty() {
        return Err(USAGE.into());
    }
    Ok(o)
}

fn user_name(pattern: &str, i: usize) -> String {
    pattern.replace("%d", &i.to_string())
}

/// Resident memory in KiB of the given processes plus those named `comm`.
fn rss_kib(pids: &[u32], comm: Option<&str>) -> u64 {
    let mut all: Vec<u32> = pids.to_vec();
    if let Some(comm) = comm {
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for e in dir.flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                    continue;
                };
                let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
                if name.trim_end() == comm && !all.contains(&pid) {
                    all.push(pid);
                }
            }
        }
    }
    all.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum()
}

/// Read lines until one starts with `prefix`; fail on a tagged NO/BAD.
async fn until<R: AsyncBufReadExt + Unpin>(r: &mut R, prefix: &str) -> io::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed",
            ));
        }
        if line.starts_with(prefix) {
            return Ok(());
        }
        if (line.contains(" NO ") || line.contains(" BAD ")) && !line.starts_with('*') {
            return Err(io::Error::other(line.trim_end().to_owned()));
        }
    }
}

/// One idling connection: log in, select, IDLE; then report the arrival time
/// of every `* n EXISTS` on `seen`.
async fn idler(
    server: String,
    user: String,
    password: String,
    ready: mpsc::Sender<io::Result<()>>,
    seen: mpsc::UnboundedSender<(String, Instant)>,
    permit: Arc<Semaphore>,
) {
    let setup = async {
        let _p = permit.acquire().await.map_err(io::Error::other)?;
        let s = TcpStream::connect(&server).await?;
        s.set_nodelay(true)?;
        let (r, mut w) = s.into_split();
        let mut r = BufReader::with_capacity(1024, r);
        until(&mut r, "* OK").await?;
        w.write_all(
            format!("a LOGIN {user} {password}\r\nb SELECT INBOX\r\nc IDLE\r\n").as_bytes(),
        )
        .await?;
        until(&mut r, "a OK").await?;
        until(&mut r, "b OK").await?;
        until(&mut r, "+").await?;
        Ok::<_, io::Error>((r, w))
    };
    let (mut r, _w) = match setup.await {
        Ok(x) => {
            let _ = ready.send(Ok(())).await;
            x
        }
        Err(e) => {
            let _ = ready.send(Err(e)).await;
            return;
        }
    };
    drop(ready);
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if line.starts_with("* ") && line.trim_end().ends_with(" EXISTS") {
                    let _ = seen.send((user.clone(), Instant::now()));
                }
            }
        }
    }
}

/// Append one message to `user`'s INBOX; returns when the APPEND is written
/// (the instant just before) and after its tagged OK.
async fn append(server: &str, user: &str, password: &str, n: usize) -> io::Result<Instant> {
    let s = TcpStream::connect(server).await?;
    s.set_nodelay(true)?;
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    until(&mut r, "* OK").await?;
    w.write_all(format!("a LOGIN {user} {password}\r\n").as_bytes())
        .await?;
    until(&mut r, "a OK").await?;
    let msg = format!("From: load@example.org\r\nSubject: idle-load {n}\r\n\r\nhello {n}\r\n");
    // Wait for the continuation, so the clock starts when the whole command
    // can be written at once.
    w.write_all(format!("b APPEND INBOX {{{}}}\r\n", msg.len()).as_bytes())
        .await?;
    until(&mut r, "+").await?;
    let t0 = Instant::now();
    w.write_all(format!("{msg}\r\n").as_bytes()).await?;
    until(&mut r, "b OK").await?;
    w.write_all(b"c LOGOUT\r\n").await?;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), r.read_to_end(&mut rest)).await;
    Ok(t0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let before = rss_kib(&o.pids, o.pgrep.as_deref());
    let (ready_tx, mut ready_rx) = mpsc::channel(1024);
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let permit = Arc::new(Semaphore::new(o.open_concurrency));
    let started = Instant::now();
    for i in 0..o.connections {
        let user = user_name(&o.user, i % o.users + 1);
        tokio::spawn(idler(
            o.server.clone(),
            user,
            o.password.clone(),
            ready_tx.clone(),
            seen_tx.clone(),
            permit.clone(),
        ));
    }
    drop(ready_tx);
    let mut ok = 0usize;
    let mut failed = 0usize;
    while let Some(r) = ready_rx.recv().await {
        match r {
            Ok(()) => ok += 1,
            Err(e) => {
                if failed < 5 {
                    eprintln!("idle-load: a connection failed: {e}");
                }
                failed += 1;
            }
        }
    }
    let opened_in = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(&o.pids, o.pgrep.as_deref());
    let per_conn = if ok > 0 {
        (after.saturating_sub(before)) as f64 / ok as f64
    } else {
        f64::NAN
    };
    println!(
        "{ok} connections idling ({failed} failed) after {:.1} s; server memory {before} KiB -> {after} KiB: {per_conn:.1} KiB per connection",
        opened_in.as_secs_f64()
    );
    // Drain arrivals from setup (none expected) before measuring.
    while seen_rx.try_recv().is_ok() {}
    let per_user = |u: usize| (0..o.connections).filter(|i| i % o.users + 1 == u).count();
    let mut latencies = Vec::new();
    let mut missing = 0usize;
    for round in 0..o.rounds {
        let u = round % o.users + 1;
        let user = user_name(&o.user, u);
        let expect = per_user(u).min(ok);
        let t0 = match append(&o.server, &user, &o.password, round).await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("idle-load: APPEND failed: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + o.timeout;
        while got < expect {
            match tokio::time::timeout_at(deadline, seen_rx.recv()).await {
                Ok(Some((who, at))) if who == user => {
                    latencies.push(at.saturating_duration_since(t0).as_secs_f64() * 1000.0);
                    got += 1;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        missing += expect - got;
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    let (p50, p99, max) = (
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "notifications: {} received, {missing} missing; p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms",
        latencies.len()
    );
    println!(
        "{{\"connections\":{ok},\"failed\":{failed},\"rss_before_kib\":{before},\"rss_after_kib\":{after},\"kib_per_connection\":{per_conn:.2},\"notifications\":{},\"missing\":{missing},\"p50_ms\":{p50:.3},\"p99_ms\":{p99:.3},\"max_ms\":{max:.3}}}",
        latencies.len()
    );
    if failed > 0 || missing > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
