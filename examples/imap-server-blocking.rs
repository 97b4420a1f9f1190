//! The smallest useful driver of the sans-IO [`ServerConnection`]: blocking
//! `std::net` sockets, a thread per connection, no async runtime, plaintext
//! only (no TLS, so LOGIN works only on loopback connections).
//!
//! ```text
//! cargo run --example imap-server-blocking -- --listen 127.0.0.1:1143 --user alice:secret
//! ```
//!
//! Mail is kept in memory (one [`MemStore`] shared by all connections). Each
//! connection has two threads: a reader that forwards socket bytes over a
//! channel, and the session thread, which waits on that channel with the
//! timeout from `poll_timeout`; the store's waker (IDLE) posts to the same
//! channel. See `imap-server.rs` for the full tokio server with TLS.

#[path = "common/mod.rs"]
mod common;

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_codec::deflate::Deflate;
use imap_server_core::{
    Authenticator, MemStore, ServerConfig, ServerConnection, ServerEvent, Waker,
};

use crate::common::cli;
use crate::common::users::Users;

const USAGE: &str = "\
imap-server-blocking: a blocking, thread-per-connection IMAP server example (imap-rs)

Usage: cargo run --example imap-server-blocking -- [OPTIONS]

Options:
  --listen ADDR          plaintext IMAP, no TLS [default: 127.0.0.1:1143]
  --user NAME:PASSWORD   add a user (repeatable)
  --users FILE           add the users of a Dovecot-style passwd file
                         (`name:{SHA512-CRYPT}$6$...` or `name:{PLAIN}secret`)
  -h, --help             print this help

Mail is kept in memory and lost when the server stops. Without --user or
--users, a user 'demo' with a random password is created and printed on stdout.
Having no TLS, the server allows LOGIN only on loopback connections.
Logs go to stderr; RUST_LOG sets the filter (default: info).
";

/// Most connections served at once (two threads each).
const MAX_CONNECTIONS: usize = 256;
/// Time allowed for one write to the client.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// Size of the reader thread's buffer.
const READ_BUFFER: usize = 64 * 1024;
/// Socket reads queued for the session thread before the reader waits.
const QUEUED_READS: usize = 4;

/// What the session thread waits for.
enum Input {
    Data(Vec<u8>),
    Eof,
    Error(io::Error),
    Wakeup,
}

fn main() -> std::process::ExitCode {
    cli::init_logging();
    let mut listen: SocketAddr = "127.0.0.1:1143".parse().expect("valid default");
    let mut users = Users::new();
    let mut given_users = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = cli::split_flag(arg);
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return std::process::ExitCode::SUCCESS;
            }
            "--listen" => listen = cli::socket_addr(&flag, &cli::value(&flag, inline, &mut args)),
            "--user" => users
                .add_flag(&cli::value(&flag, inline, &mut args))
                .unwrap_or_else(|e| cli::usage_error(e)),
            "--users" => {
                given_users = true;
                let file = PathBuf::from(cli::value(&flag, inline, &mut args));
                let n = users
                    .load_file(&file)
                    .unwrap_or_else(|e| cli::usage_error(e));
                tracing::info!(file = %file.display(), users = n, "loaded users");
            }
            _ => cli::usage_error(format!("unknown argument {flag:?}")),
        }
    }

    if users.is_empty() && given_users {
        cli::usage_error("--users: the files define no user");
    }
    let listener = match TcpListener::bind(listen) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("--listen {listen}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if users.is_empty() {
        match users.add_demo_user() {
            Ok(password) => {
                println!("No --user or --users given: created a demo user.");
                println!("  user:     {}", Users::DEMO_USER);
                println!("  password: {password}");
                let _ = io::stdout().flush();
            }
            Err(e) => {
                tracing::error!("{e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let addr = listener.local_addr().unwrap_or(listen);
    tracing::info!(%addr, users = users.len(), "listening for IMAP (plaintext, mail in memory)");

    let store = Arc::new(MemStore::new());
    let auth: Arc<dyn Authenticator> = Arc::new(users);
    let active = Arc::new(AtomicUsize::new(0));
    for (id, accepted) in listener.incoming().enumerate() {
        let mut stream = match accepted {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let peer = stream
            .peer_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(%peer, limit = MAX_CONNECTIONS, "too many connections: turned away");
            let _ = stream.write_all(b"* BYE [UNAVAILABLE] Too many connections\r\n");
            continue;
        }
        let (store, auth, active) = (Arc::clone(&store), Arc::clone(&auth), Arc::clone(&active));
        let spawned = std::thread::Builder::new()
            .name(format!("imap-conn-{}", id + 1))
            .spawn(move || {
                let _span = tracing::info_span!("conn", id = id + 1, %peer).entered();
                tracing::info!("connection opened");
                match session(stream, peer, store, auth) {
                    Ok(reason) => tracing::info!(reason, "connection closed"),
                    Err(e) => tracing::warn!(error = %e, "connection closed on an error"),
                }
                active.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a connection thread");
        }
    }
    std::process::ExitCode::SUCCESS
}

fn session(
    mut stream: TcpStream,
    peer: SocketAddr,
    store: Arc<MemStore>,
    auth: Arc<dyn Authenticator>,
) -> io::Result<&'static str> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let _ = stream.set_nodelay(true);
    let (tx, rx) = mpsc::sync_channel(QUEUED_READS);

    // The reader thread ends when the socket is shut down or the session
    // thread has gone (the send fails).
    let mut reader = stream.try_clone()?;
    let reader_tx = tx.clone();
    std::thread::Builder::new()
        .name("imap-conn-reader".into())
        .spawn(move || {
            let mut buf = vec![0u8; READ_BUFFER];
            loop {
                let input = match reader.read(&mut buf) {
                    Ok(0) => Input::Eof,
                    Ok(n) => {
                        // Acknowledge at once (TCP_QUICKACK, reset by the
                        // kernel, so after every read): a client that sends a
                        // literal and its CRLF in two writes with Nagle on
                        // otherwise waits for the 40 ms delayed ACK.
                        #[cfg(target_os = "linux")]
                        let _ = rustix::net::sockopt::set_tcp_quickack(&reader, true);
                        Input::Data(buf[..n].to_vec())
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Input::Error(e),
                };
                let last = !matches!(input, Input::Data(_));
                if reader_tx.send(input).is_err() || last {
                    return;
                }
            }
        })?;

    // The waker may fire while the channel is full of reads: the flag keeps
    // the wake-up from being lost.
    let woken = Arc::new(AtomicBool::new(false));
    let waker: Waker = {
        let woken = Arc::clone(&woken);
        Arc::new(move || {
            woken.store(true, Ordering::SeqCst);
            let _ = tx.try_send(Input::Wakeup);
        })
    };

    let mut config = ServerConfig::default();
    config.starttls = false;
    config.plaintext_auth = peer.ip().is_loopback();
    config.compress = true;
    let mut conn =
        ServerConnection::new(store, auth, Arc::new(config), false, waker, Instant::now());
    let result = run(&mut conn, &mut stream, &rx, &woken);
    let _ = stream.shutdown(Shutdown::Both);
    result
}

fn run(
    conn: &mut ServerConnection,
    stream: &mut TcpStream,
    rx: &mpsc::Receiver<Input>,
    woken: &AtomicBool,
) -> io::Result<&'static str> {
    // COMPRESS=DEFLATE (RFC 4978), once the session has accepted it.
    let mut deflate: Option<Box<Deflate>> = None;
    let mut compressed = Vec::new();
    loop {
        while let Some(bytes) = conn.poll_transmit(Instant::now()) {
            match deflate.as_mut() {
                Some(d) => {
                    compressed.clear();
                    d.deflate(&bytes, &mut compressed)
                        .map_err(io::Error::other)?;
                    stream.write_all(&compressed)?;
                }
                None => stream.write_all(&bytes)?,
            }
        }
        while let Some(event) = conn.poll_event() {
            match event {
                ServerEvent::Close => return Ok("session ended"),
                // The tagged OK went out uncompressed just above (RFC 4978 §3).
                ServerEvent::Compress => deflate = Some(Box::new(Deflate::new())),
                ServerEvent::StartTls => {
                    return Err(io::Error::other("STARTTLS without TLS support"))
                }
                other => tracing::debug!(?other, "unknown session event ignored"),
            }
        }
        if conn.is_closed() {
            return Ok("session ended");
        }
        let input = match conn.poll_timeout() {
            Some(deadline) => {
                match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(input) => Some(input),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Ok("reader gone"),
                }
            }
            None => match rx.recv() {
                Ok(input) => Some(input),
                Err(_) => return Ok("reader gone"),
            },
        };
        match input {
            None => conn.handle_timeout(Instant::now()),
            Some(Input::Data(data)) => {
                conn.set_wall_clock(unix_now());
                match deflate.as_mut() {
                    Some(d) => d
                        .inflate(&data, |chunk| conn.handle_input(chunk, Instant::now()))
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
                    None => conn.handle_input(&data, Instant::now()),
                }
            }
            Some(Input::Eof) => return Ok("client closed the connection"),
            Some(Input::Error(e)) => return Err(e),
            Some(Input::Wakeup) => {}
        }
        if woken.swap(false, Ordering::SeqCst) {
            conn.handle_wakeup(Instant::now());
        }
    }
}

/// The wall clock in seconds since the Unix epoch, for
/// `ServerConnection::set_wall_clock` (the session reads no clock itself).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
