//! `imap-idle`: what idling connections cost a server, and how fast a new
//! message reaches them.
//!
//! ```text
//! ulimit -n 65536     # each connection is a socket on both sides
//! cargo run --release --example imap-idle -- --server 127.0.0.1:1143 \
//!     --user alice --password secret --connections 10000 [--server-pid PID] \
//!     [--rounds 5] [--threads N]
//! ```
//!
//! Opens `--connections N` plaintext connections, each `LOGIN`, `SELECT
//! INBOX`, `IDLE` (RFC 2177), all as one user (start the server with
//! `--max-connections N+10 --max-connections-per-user N+10`). With
//! `--server-pid`, the server's resident memory (`VmRSS` of
//! `/proc/PID/status`) is read before the first connection and once all are
//! idling: the difference divided by N is the cost of one idling connection.
//! Then, `--rounds` times, one more connection APPENDs a message to INBOX and
//! the time from sending the APPEND to each idler's `* n EXISTS` is recorded:
//! p50/p99/max over every idler and round (and per round, on stderr). The
//! idlers send DONE only after the last round, so that no round's timing
//! holds server work the clients caused. Prints a table and one JSON line.
//! Exit status 0, or 1 when an idler missed a message or a connection failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Barrier, Semaphore};

/// Connections being set up (connect, LOGIN, SELECT) at once.
const LOGINS_IN_FLIGHT: usize = 128;

const USAGE: &str = "\
imap-idle: idling connections' memory and notification latency

Usage: imap-idle --server ADDR --user NAME --password PW --connections N
                 [--server-pid PID] [--rounds R] [--threads T] [--timeout SECS]
";

struct Args {
    server: String,
    user: String,
    password: String,
    connections: usize,
    server_pid: Option<u32>,
    rounds: usize,
    threads: usize,
    timeout: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        server: "127.0.0.1:1143".into(),
        user: String::new(),
        password: String::new(),
        connections: 100,
        server_pid: None,
        rounds: 5,
        threads: 2,
        timeout: Duration::from_secs(30),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            print!("{USAGE}");
            std::process::exit(0);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag} {v:?}: {e}"));
        match flag.as_str() {
            "--server" => a.server = value,
            "--user" => a.user = value,
            "--password" => a.password = value,
            "--connections" => a.connections = number(&value)?,
            "--server-pid" => a.server_pid = Some(number(&value)? as u32),
            "--rounds" => a.rounds = number(&value)?,
            "--threads" => a.threads = number(&value)?.max(1),
            "--timeout" => a.timeout = Duration::from_secs(number(&value)? as u64),
            _ => return Err(format!("unknown argument {flag:?}")),
        }
    }
    if a.user.is_empty() {
        return Err("--user is required".into());
    }
    Ok(a)
}

/// The server's resident memory in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

type Lines = BufReader<TcpStream>;

async fn read_line(r: &mut Lines, line: &mut String) -> Result<(), String> {
    line.clear();
    match r.read_line(line).await {
        Ok(0) => Err("connection closed".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Send `tag command` and read to its tagged reply, which must be OK.
async fn command(r: &mut Lines, tag: &str, command: &str) -> Result<(), String> {
    r.get_mut()
        .write_all(format!("{tag} {command}\r\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    loop {
        read_line(r, &mut line).await?;
        if line.starts_with(&format!("{tag} ")) {
            return if line.starts_with(&format!("{tag} OK")) {
                Ok(())
            } else {
                Err(format!("{command}: {}", line.trim_end()))
            };
        }
    }
}

async fn login(args: &Args) -> Result<Lines, String> {
    let tcp = TcpStream::connect(&args.server)
        .await
        .map_err(|e| format!("connect {}: {e}", args.server))?;
    let _ = tcp.set_nodelay(true);
    let mut r = BufReader::with_capacity(1024, tcp);
    let mut line = String::new();
    read_line(&mut r, &mut line).await?;
    if !line.starts_with("* OK") {
        return Err(format!("greeting: {}", line.trim_end()));
    }
    command(
        &mut r,
        "a",
        &format!("LOGIN \"{}\" \"{}\"", args.user, args.password),
    )
    .await?;
    command(&mut r, "b", "SELECT INBOX").await?;
    Ok(r)
}

/// One idler: log in, IDLE, wait at the barrier, then report the arrival
/// time of each `EXISTS`.
async fn idler(
    args: Arc<Args>,
    setting_up: Arc<Semaphore>,
    ready: Arc<Barrier>,
    arrivals: mpsc::UnboundedSender<Result<Instant, String>>,
    mut finished: watch::Receiver<bool>,
) {
    // At most LOGINS_IN_FLIGHT connections being set up at once: a burst
    // of thousands of connects overflows the server's listen backlog.
    let logged_in = {
        let _permit = setting_up.acquire().await.expect("never closed");
        tokio::time::timeout(args.timeout, login(&args))
            .await
            .unwrap_or_else(|_| Err("no greeting, LOGIN or SELECT reply in time".into()))
    };
    let mut r = match logged_in {
        Ok(r) => r,
        Err(e) => {
            let _ = arrivals.send(Err(e));
            ready.wait().await;
            return;
        }
    };
    let started = async {
        r.get_mut()
            .write_all(b"i IDLE\r\n")
            .await
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        read_line(&mut r, &mut line).await?;
        if line.starts_with('+') {
            Ok(())
        } else {
            Err(format!("IDLE: {}", line.trim_end()))
        }
    }
    .await;
    ready.wait().await;
    if let Err(e) = started {
        let _ = arrivals.send(Err(e));
        return;
    }
    let mut line = String::new();
    for _ in 0..args.rounds {
        loop {
            if let Err(e) = read_line(&mut r, &mut line).await {
                let _ = arrivals.send(Err(e));
                return;
            }
            if line.ends_with(" EXISTS\r\n") {
                let _ = arrivals.send(Ok(Instant::now()));
                break;
            }
        }
    }
    // DONE only once every round is over: 10,000 DONEs sent as the last
    // EXISTS arrives would be server work inside the last round's timing.
    let _ = finished.wait_for(|f| *f).await;
    let _ = r.get_mut().write_all(b"DONE\r\n").await;
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

async fn run(args: Args) -> i32 {
    let args = Arc::new(args);
    let n = args.connections;
    let before = args.server_pid.and_then(rss_kib);
    let ready = Arc::new(Barrier::new(n + 1));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let opened = Instant::now();
    let setting_up = Arc::new(Semaphore::new(LOGINS_IN_FLIGHT));
    let (finish, finished) = watch::channel(false);
    for _ in 0..n {
        tokio::spawn(idler(
            Arc::clone(&args),
            Arc::clone(&setting_up),
            Arc::clone(&ready),
            tx.clone(),
            finished.clone(),
        ));
    }
    drop(tx);
    ready.wait().await;
    let setup = opened.elapsed();
    eprintln!("imap-idle: {n} connections set up in {setup:?}");
    // Let the server settle (allocator, lazily freed buffers).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = args.server_pid.and_then(rss_kib);

    // Idlers that failed before the barrier report nothing more.
    let mut failures = 0usize;
    while let Ok(Err(e)) = rx.try_recv() {
        if failures < 5 {
            eprintln!("imap-idle: idler: {e}");
        }
        failures += 1;
    }
    let mut alive = n - failures;
    let mut latencies = Vec::with_capacity(n * args.rounds);
    let mut appender = match login(&args).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("imap-idle: appender: {e}");
            return 1;
        }
    };
    for round in 0..args.rounds {
        let message = format!("Subject: idle round {round}\r\n\r\nhello\r\n");
        let sent = Instant::now();
        let append = format!("APPEND INBOX {{{}+}}\r\n{message}", message.len());
        if let Err(e) = command(&mut appender, &format!("r{round}"), &append).await {
            eprintln!("imap-idle: {e}");
            return 1;
        }
        let (mut got, mut lost) = (0, 0);
        let first = latencies.len();
        while got + lost < alive {
            match tokio::time::timeout(args.timeout, rx.recv()).await {
                Ok(Some(Ok(at))) => {
                    latencies.push(at.saturating_duration_since(sent).as_secs_f64() * 1000.0);
                    got += 1;
                }
                Ok(Some(Err(e))) => {
                    if failures < 5 {
                        eprintln!("imap-idle: idler: {e}");
                    }
                    lost += 1;
                }
                Ok(None) | Err(_) => {
                    eprintln!("imap-idle: round {round}: only {got} of {alive} idlers heard");
                    lost = alive - got;
                }
            }
        }
        failures += lost;
        alive -= lost;
        let mut this: Vec<f64> = latencies[first..].to_vec();
        this.sort_by(f64::total_cmp);
        eprintln!(
            "imap-idle: round {round}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(&this, 0.5),
            percentile(&this, 0.99),
            this.last().copied().unwrap_or(0.0)
        );
    }
    let _ = finish.send(true);
    latencies.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0),
    );
    let per_conn = match (before, after) {
        (Some(b), Some(a)) => Some(a.saturating_sub(b) as f64 / n as f64),
        _ => None,
    };
    println!(
        "connections      {n} (set up in {:.1} s)",
        setup.as_secs_f64()
    );
    if let (Some(b), Some(a), Some(per)) = (before, after, per_conn) {
        println!("server RSS       {b} KiB before, {a} KiB idling: {per:.1} KiB per connection");
    }
    println!(
        "notification     p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms ({} samples)",
        latencies.len()
    );
    println!("failures         {failures}");
    println!(
        "{{\"connections\":{n},\"rss_before_kib\":{},\"rss_idle_kib\":{},\"kib_per_connection\":{},\"p50_ms\":{p50:.2},\"p99_ms\":{p99:.2},\"max_ms\":{max:.2},\"failures\":{failures}}}",
        before.map_or_else(|| "null".into(), |v| v.to_string()),
        after.map_or_else(|| "null".into(), |v| v.to_string()),
        per_conn.map_or_else(|| "null".into(), |v| format!("{v:.2}")),
    );
    i32::from(failures > 0)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("imap-idle: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    std::process::exit(runtime.block_on(run(args)));
}
