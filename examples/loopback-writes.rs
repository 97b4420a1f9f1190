//! `loopback-writes`: what one small write to one of N loopback TCP sockets
//! costs this machine, the floor under any server's IDLE fan-out.
//!
//! ```text
//! ulimit -n 20000     # two sockets per pair
//! cargo run --release --example loopback-writes -- [PAIRS] [ROUNDS]
//! ```
//!
//! Opens PAIRS (default 9,900) connected pairs on 127.0.0.1, then ROUNDS
//! times (default 9) writes a 26-byte `* 12 EXISTS` / `* 1 RECENT` pair of
//! lines to every server-side socket from one thread, timed, and reads it
//! from every client-side socket, timed. Blocking `std::net` only: no
//! runtime, no readiness wake-ups, no parsing, so what remains is the
//! system calls and the kernel's loopback delivery. Prints the median and
//! minimum microseconds per write and per read, and one round's writes.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

/// The lines an idling IMAP4rev1 session is sent for a new message.
const MESSAGE: &[u8] = b"* 12 EXISTS\r\n* 1 RECENT\r\n";

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .map_or(default, |a| a.parse().expect("a number"))
}

fn main() -> std::io::Result<()> {
    let pairs = arg(1, 9_900).max(1);
    let rounds = arg(2, 9).max(1);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut sockets = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let client = TcpStream::connect(addr)?;
        let (server, _) = listener.accept()?;
        server.set_nodelay(true)?;
        client.set_nodelay(true)?;
        sockets.push((server, client));
    }
    let mut buf = [0u8; 256];
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        for (server, _) in &mut sockets {
            server.write_all(MESSAGE)?;
        }
        writes.push(t.elapsed().as_secs_f64() * 1e6 / pairs as f64);
        let t = Instant::now();
        for (_, client) in &mut sockets {
            let mut got = 0;
            while got < MESSAGE.len() {
                got += client.read(&mut buf[got..])?;
            }
        }
        reads.push(t.elapsed().as_secs_f64() * 1e6 / pairs as f64);
    }
    writes.sort_by(f64::total_cmp);
    reads.sort_by(f64::total_cmp);
    let median = |v: &[f64]| v[v.len() / 2];
    println!(
        "{pairs} socket pairs, {rounds} rounds: write {:.2} us (min {:.2}), \
         read {:.2} us (min {:.2}) per socket (median); one round of writes {:.1} ms",
        median(&writes),
        writes[0],
        median(&reads),
        reads[0],
        median(&writes) * pairs as f64 / 1000.0
    );
    Ok(())
}
