//! A command-line IMAP client for scripts: the sans-IO `ClientConnection` of
//! `imap-client-core` driven by blocking `std::net` I/O, with rustls for TLS
//! and reconnect with backoff.
//!
//! ```text
//! cargo run --example imap-client -- --server 127.0.0.1:1143 --user alice \
//!     --password secret fetch INBOX
//! ```
//!
//! Subcommands: `list`, `fetch MAILBOX`, `read MAILBOX UID`, `search MAILBOX
//! CRITERIA...`, `flag MAILBOX UID (+|-)FLAG...`, `move MAILBOX UID DEST`,
//! `watch MAILBOX`, `sync MAILBOX DIR`. Run with `--help` for the flags. Exit status: 0 success,
//! 1 server, protocol or connection error, 2 usage error.
//!
//! The driver (`imap_client::blocking`, the workspace's `imap-client`
//! crate) runs one command at a time: it writes
//! what the core queued, reads until the command's tagged completion, and
//! keeps unsolicited data for the caller; `watch` uses its IDLE loop.

#[path = "client/cli.rs"]
mod cli;
#[path = "client/commands.rs"]
mod commands;
#[path = "client/maildir.rs"]
mod maildir;
#[path = "client/sync_cmd.rs"]
mod sync_cmd;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::cli::{Command, Options, Parsed};
use imap_client::backoff::BackoffConfig;
use imap_client::blocking::{self, ConnectConfig, DriverConfig, Reconnecting, Security};
use imap_client::tls;

fn main() -> ExitCode {
    let program = std::env::args()
        .next()
        .unwrap_or_else(|| "imap-client".into());
    let parsed = cli::parse(
        std::env::args().skip(1),
        std::env::var("IMAP_PASSWORD").ok(),
    );
    let options = match parsed {
        Ok(Parsed::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Run(options)) => options,
        Err(msg) => {
            eprintln!("{program}: {msg}");
            eprintln!("Try '{program} --help' for more information.");
            return ExitCode::from(2);
        }
    };
    match run(*options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("{program}: {msg}");
            ExitCode::from(1)
        }
    }
}

/// Connect, log in, run the subcommand, log out (also after a failed
/// subcommand, while the connection lasts).
fn run(options: Options) -> Result<(), String> {
    // Set before connecting, so a signal during the session is never lost.
    let stop = match options.command {
        Command::Watch { .. } => stop_on_signals()?,
        _ => Arc::new(AtomicBool::new(false)),
    };
    let tls = match options.security {
        Security::Plain => None,
        Security::StartTls | Security::Tls => Some(tls::client_config(&options.trust)?),
    };
    let config = ConnectConfig {
        addr: options.addr.clone(),
        host: options.host.clone(),
        security: options.security,
        tls,
        user: options.user.clone(),
        password: options.password.clone(),
        driver: DriverConfig {
            io_timeout: options.timeout,
            ..DriverConfig::default()
        },
    };
    let backoff = BackoffConfig {
        max_attempts: Some(options.retries),
        ..BackoffConfig::default()
    };
    let notify = Box::new(|msg: &str| eprintln!("imap-client: {msg}"));
    let mut session = Reconnecting::connect(config, backoff, notify)
        .map_err(|e| format!("{}: {e}", options.addr))?;
    let result = match &options.command {
        Command::List => commands::list(&mut session),
        Command::Fetch { mailbox } => commands::fetch(&mut session, mailbox),
        Command::Read { mailbox, uid } => commands::read(&mut session, mailbox, *uid),
        Command::Search { mailbox, body } => commands::search(&mut session, mailbox, body),
        Command::Flag {
            mailbox,
            uid,
            changes,
        } => commands::flag(&mut session, mailbox, *uid, changes),
        Command::Move { mailbox, uid, dest } => {
            commands::move_message(&mut session, mailbox, *uid, dest)
        }
        Command::Watch { mailbox } => commands::watch(&mut session, mailbox, &stop),
        Command::Sync { mailbox, dir } => sync_cmd::sync(&mut session, mailbox, dir),
    };
    let logout = session.logout();
    result?;
    // A failed LOGOUT after a successful command is reported, but only a
    // rejected one: the server closing first is a normal end.
    match logout {
        Err(e @ blocking::Error::Rejected { .. }) => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// A flag set by SIGINT or SIGTERM (Ctrl-C elsewhere). The handlers are
/// tokio's (already a dependency of the examples), registered here and now on
/// a one-thread runtime that then waits on a thread of its own.
fn stop_on_signals() -> Result<Arc<AtomicBool>, String> {
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("signal handling: {e}"))?;
    let signalled = {
        let _guard = runtime.enter();
        signalled()?
    };
    let flag = stop.clone();
    std::thread::spawn(move || {
        runtime.block_on(signalled);
        flag.store(true, Ordering::SeqCst);
    });
    Ok(stop)
}

/// A future that ends at the first SIGINT or SIGTERM; the handlers are
/// installed before it is returned.
#[cfg(unix)]
fn signalled() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}

/// A future that ends at the first Ctrl-C.
#[cfg(not(unix))]
fn signalled() -> Result<impl std::future::Future<Output = ()>, String> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
