//! Writing your own store: `TinyStore` (`tiny-store/store.rs`), a complete
//! [`Mailstore`](imap_server_core::Mailstore) in memory, written from scratch
//! in about 300 lines, served by the `imap-server` driver.
//!
//! ```text
//! cargo run --example tiny-store -- --listen 127.0.0.1:1143 --user alice:secret
//! ```
//!
//! Plaintext only (LOGIN is allowed on loopback connections); mail is lost
//! when the server stops. It prints `listening on ADDR` once bound (with
//! `--listen 127.0.0.1:0`, the port the system chose) and runs until Ctrl-C.

#[path = "tiny-store/store.rs"]
mod store;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use imap_server::{Listener, ServerBuilder, StoreCalls};
use imap_server_core::StaticAuthenticator;

use crate::store::TinyStore;

const USAGE: &str = "\
tiny-store: an IMAP server over a store written in ~300 lines (imap-rs)

Usage: cargo run --example tiny-store -- [--listen ADDR] --user NAME:PASSWORD...

  --listen ADDR          plaintext IMAP [default: 127.0.0.1:1143]
  --user NAME:PASSWORD   a user (repeatable; at least one)
";

#[tokio::main]
async fn main() -> ExitCode {
    let mut listen: SocketAddr = ([127, 0, 0, 1], 1143).into();
    let mut users = StaticAuthenticator::new();
    let mut any_user = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--listen" => match args.next().and_then(|v| v.parse().ok()) {
                Some(addr) => listen = addr,
                None => return usage("--listen needs an address like 127.0.0.1:1143"),
            },
            "--user" => match args.next().as_deref().and_then(|v| v.split_once(':')) {
                Some((name, password)) => {
                    users = users.with_user(name, password);
                    any_user = true;
                }
                None => return usage("--user needs NAME:PASSWORD"),
            },
            _ => return usage(&format!("unknown argument {arg:?}")),
        }
    }
    if !any_user {
        return usage("give at least one --user NAME:PASSWORD");
    }

    // The whole server: a store, who may log in, a listener. The store never
    // blocks (no I/O), so its calls may run inline on the tokio workers.
    let server = ServerBuilder::new(Arc::new(TinyStore::new()), Arc::new(users))
        .listen(listen, Listener::Plain)
        .store_calls(StoreCalls::Inline)
        .bind()
        .await;
    let server = match server {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tiny-store: --listen {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (addr, _) in server.local_addrs() {
        println!("listening on {addr}");
    }
    server
        .run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    ExitCode::SUCCESS
}

/// Print `problem` and the usage; exit status 2.
fn usage(problem: &str) -> ExitCode {
    eprintln!("tiny-store: {problem}\n\n{USAGE}");
    ExitCode::from(2)
}
