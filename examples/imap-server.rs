//! A runnable IMAP server: the [`imap_server`] crate (tokio, plaintext with
//! STARTTLS and implicit TLS over rustls, COMPRESS=DEFLATE, limits, graceful
//! shutdown) over the Maildir++ store of `imap-server-core`, or with
//! `--store postgres://...` over a PostgreSQL database that several servers
//! share (`imap-store-postgres`).
//!
//! ```text
//! cargo run --release --example imap-server -- --user alice:secret
//! ```
//!
//! serves IMAP on 127.0.0.1:1143 (plaintext + STARTTLS) and 127.0.0.1:1993
//! (implicit TLS) with a self-signed development certificate. Mail is stored
//! in a crash-safe Maildir++ tree under `DATA/mail/<user>/` ([`MaildirStore`]),
//! which Dovecot, mbsync and mutt can read; a second server on the same
//! `--data` is refused. Run with `--help` for the flags.
//!
//! This file is argument parsing and wiring: the network driver is the
//! `imap-server` crate, the users file and its SIGHUP reload are here.

#[path = "common/mod.rs"]
mod common;
#[path = "common/credentials.rs"]
mod credentials;
#[path = "imap-server/reload.rs"]
mod reload;
#[path = "imap-server/tls.rs"]
mod tls;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use imap_server::{Limits, Listener, ServerBuilder, StoreCalls};
use imap_server_core::{
    Authenticator, MaildirStore, Mailstore, QuotaLimits, ServerConfig, UrlfetchBinaryStyle,
};
use imap_store_postgres::{PgAuthenticator, PgStore};

use crate::common::cli;
use crate::common::users::Users;
use crate::reload::{
    reload_on_hangup, OAuthOptions, Reloadable, ReloadableJwks, UserQuotas, UserSources,
};

const USAGE: &str = "\
imap-server: an IMAP4rev2 server example on tokio (imap-rs)

Usage: cargo run --release --example imap-server -- [OPTIONS]
       cargo run --release --example imap-server -- hash-password
       cargo run --release --example imap-server -- --store postgres://... SUBCOMMAND

Options:
  --listen ADDR          plaintext IMAP with STARTTLS [default: 127.0.0.1:1143]
  --tls-listen ADDR      IMAP over implicit TLS [default: 127.0.0.1:1993]
  --data DIR             data directory, created if missing [default: ./imap-data];
                         holds the mail (a Maildir++ tree under DIR/mail) and
                         the generated development certificate.
  --store STORE          where the mail is kept: `maildir` (a Maildir++ tree
                         under DIR/mail) or `postgres://USER@HOST:PORT/DB` (a
                         PostgreSQL database that several servers can share;
                         its schema is created or migrated at start)
                         [default: maildir]
  --users-from-store     with --store postgres://...: check passwords and app
                         passwords against the database's credentials (see
                         the subcommands below) instead of --user/--users; a
                         removed app password ends that device's sessions on
                         every server of the database at their next command
  --user NAME:PASSWORD   add a user (repeatable)
  --users FILE           add the users of a Dovecot-style passwd file: lines
                         `name:{SCHEME}hash[:extra fields]`, with SCHEME
                         SHA512-CRYPT or SHA256-CRYPT (`openssl passwd -6`,
                         `doveadm pw -s SHA512-CRYPT`), or PLAIN for tests;
                         extra fields may hold `quota_storage=SIZE`,
                         `quota_messages=N`, `quota_mailboxes=N` (Dovecot
                         style; others ignored)
                         and `app=LABEL`: an app password, one line per
                         device, any number per user; removing the line
                         revokes it, also for its open sessions at their next
                         command (the file is re-read when it changes);
                         blank lines and # comments are ignored (repeatable)
  --max-connections N    most connections served at once; more are turned
                         away with * BYE [UNAVAILABLE] [default: 1000]
  --max-connections-per-user N
                         most logged-in connections of one user; a further
                         login gets NO [UNAVAILABLE] [default: 50]
  --store-calls MODE     how store and password calls run: block-in-place
                         (off the other connections' worker) or inline
                         [default: block-in-place]
  --quota-storage SIZE   every user's storage quota (RFC 9208), e.g. 500M,
                         2G; 0 is none [default: 0]
  --quota-messages N     every user's message-count quota; 0 is none
                         [default: 0]
  --quota-mailboxes N    every user's mailbox-count quota (INBOX included;
                         a CREATE beyond it gets NO [OVERQUOTA]); 0 is none
                         [default: 0]
  --oauth-jwks FILE      accept OAuth 2.0 access tokens (AUTHENTICATE OAUTHBEARER
                         and XOAUTH2): signed JWTs checked against the public
                         keys of this JWKS file; needs --oauth-issuer and
                         --oauth-audience. A token logs in the account it
                         names, with or without a password in the users file.
  --oauth-issuer ISS     the `iss` the tokens must carry
  --oauth-audience AUD   the `aud` the tokens must contain
  --oauth-claim NAME     the claim holding the account name
                         [default: email, else sub]
  --urlfetch-binary STYLE
                         the layout of URLFETCH answers with BINARY or
                         BODYPARTSTRUCTURE (URLAUTH=BINARY, RFC 5524):
                         rfc5524, or dovecot-2.3 for clients written against
                         Dovecot 2.3 (one list; declared encodings; multipart
                         and message parts decoded throughout)
                         [default: rfc5524]
  --cert FILE            TLS certificate chain (PEM); needs --key
  --key FILE             TLS private key (PEM); needs --cert.
                         Without them a self-signed certificate for localhost
                         and 127.0.0.1 is made in DIR at first start and reused.
  -h, --help             print this help

Without --user or --users, a user 'demo' with a random password is created and
its credentials are printed on stdout.
LOGIN and AUTHENTICATE PLAIN/LOGIN (and OAUTHBEARER/XOAUTH2) work without TLS
only on loopback connections; elsewhere the server advertises LOGINDISABLED until STARTTLS.
Logs go to stderr; RUST_LOG sets the filter (default: info).
SIGTERM or Ctrl-C: stop accepting, send * BYE to every client, exit 0.
SIGHUP, or a change to a --users file: read the --users files again (logins
from then on use the new users; open sessions stay, except those of a removed
password or app password); a file that fails to load keeps the previous users.
The same for --oauth-jwks (SIGHUP, or a change to the file): the new keys
check the tokens from then on; a file that fails to load keeps the old keys.
hash-password: read a password on standard input (no echo on a terminal) and
print its {SHA512-CRYPT} hash for a --users line.
Credentials in the database (for --users-from-store), with --store postgres://...:
  set-password NAME               set NAME's password (read as hash-password does)
  add-app-password NAME LABEL     add an app password for one device (same)
  remove-app-password NAME LABEL  remove it; its sessions end on every server
  list-app-passwords NAME         print each label and when it was made
";

/// The parsed command line.
struct Options {
    listen: SocketAddr,
    tls_listen: SocketAddr,
    data: PathBuf,
    /// The `--user` flags and `--users` files, loaded again on SIGHUP.
    sources: UserSources,
    users: Users,
    cert_and_key: Option<(PathBuf, PathBuf)>,
    limits: Limits,
    store_calls: StoreCalls,
    /// `--quota-storage` and `--quota-messages`: every user's limits unless
    /// the users file says otherwise.
    quota: QuotaLimits,
    oauth: Option<OAuthOptions>,
    /// `--store`: `maildir` or a `postgres://` URL.
    store: String,
    /// `--users-from-store`: log in with the database's credentials.
    users_from_store: bool,
    /// `--urlfetch-binary`: the layout of extended URLFETCH answers.
    urlfetch_binary: UrlfetchBinaryStyle,
}

fn parse_args() -> Options {
    let mut listen = "127.0.0.1:1143".parse().expect("valid default");
    let mut tls_listen = "127.0.0.1:1993".parse().expect("valid default");
    let mut data = PathBuf::from("./imap-data");
    let mut sources = UserSources::default();
    let (mut cert, mut key) = (None, None);
    let mut limits = Limits::default();
    let mut store_calls = StoreCalls::default();
    let mut quota = QuotaLimits::default();
    let (mut jwks, mut issuer, mut audience, mut claim) = (None, None, None, None);
    let mut store = String::from("maildir");
    let mut users_from_store = false;
    let mut urlfetch_binary = UrlfetchBinaryStyle::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = cli::split_flag(arg);
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--listen" => listen = cli::socket_addr(&flag, &cli::value(&flag, inline, &mut args)),
            "--tls-listen" => {
                tls_listen = cli::socket_addr(&flag, &cli::value(&flag, inline, &mut args));
            }
            "--data" => data = PathBuf::from(cli::value(&flag, inline, &mut args)),
            "--store" => {
                store = cli::value(&flag, inline, &mut args);
                let pg = store.starts_with("postgres://") || store.starts_with("postgresql://");
                if store != "maildir" && !pg {
                    cli::usage_error(format!(
                        "--store: {store:?} is not maildir or a postgres:// URL"
                    ));
                }
            }
            "--users-from-store" => users_from_store = true,
            "--user" => sources.flags.push(cli::value(&flag, inline, &mut args)),
            "--users" => sources
                .files
                .push(PathBuf::from(cli::value(&flag, inline, &mut args))),
            "--max-connections" => {
                limits.max_connections = count(&flag, &cli::value(&flag, inline, &mut args));
            }
            "--max-connections-per-user" => {
                limits.max_connections_per_user =
                    count(&flag, &cli::value(&flag, inline, &mut args));
            }
            "--store-calls" => {
                store_calls = match cli::value(&flag, inline, &mut args).as_str() {
                    "block-in-place" => StoreCalls::BlockInPlace,
                    "inline" => StoreCalls::Inline,
                    other => cli::usage_error(format!(
                        "--store-calls: {other:?} is not block-in-place or inline"
                    )),
                };
            }
            "--quota-storage" => {
                let v = cli::value(&flag, inline, &mut args);
                quota.storage = imap_server_core::parse_size(&v)
                    .unwrap_or_else(|e| cli::usage_error(format!("{flag}: {e}")));
            }
            "--quota-messages" => {
                let v = cli::value(&flag, inline, &mut args);
                quota.messages = imap_server_core::parse_count(&v)
                    .unwrap_or_else(|e| cli::usage_error(format!("{flag}: {e}")));
            }
            "--quota-mailboxes" => {
                let v = cli::value(&flag, inline, &mut args);
                quota.mailboxes = imap_server_core::parse_count(&v)
                    .unwrap_or_else(|e| cli::usage_error(format!("{flag}: {e}")));
            }
            "--oauth-jwks" => jwks = Some(PathBuf::from(cli::value(&flag, inline, &mut args))),
            "--oauth-issuer" => issuer = Some(cli::value(&flag, inline, &mut args)),
            "--oauth-audience" => audience = Some(cli::value(&flag, inline, &mut args)),
            "--oauth-claim" => claim = Some(cli::value(&flag, inline, &mut args)),
            "--urlfetch-binary" => {
                urlfetch_binary = match cli::value(&flag, inline, &mut args).as_str() {
                    "rfc5524" => UrlfetchBinaryStyle::Rfc5524,
                    "dovecot-2.3" => UrlfetchBinaryStyle::Dovecot23,
                    other => cli::usage_error(format!(
                        "--urlfetch-binary: {other:?} is not rfc5524 or dovecot-2.3"
                    )),
                };
            }
            "--cert" => cert = Some(PathBuf::from(cli::value(&flag, inline, &mut args))),
            "--key" => key = Some(PathBuf::from(cli::value(&flag, inline, &mut args))),
            _ => cli::usage_error(format!("unknown argument {flag:?}")),
        }
    }
    let cert_and_key = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => cli::usage_error("--cert and --key go together"),
    };
    let oauth = match (jwks, issuer, audience) {
        (Some(jwks), Some(issuer), Some(audience)) => Some(OAuthOptions {
            jwks,
            issuer,
            audience,
            claim,
        }),
        (None, None, None) if claim.is_none() => None,
        _ => cli::usage_error("--oauth-jwks, --oauth-issuer and --oauth-audience go together"),
    };
    if users_from_store {
        if store == "maildir" {
            cli::usage_error("--users-from-store needs --store postgres://...");
        }
        if !sources.flags.is_empty() || !sources.files.is_empty() {
            cli::usage_error("--users-from-store replaces --user and --users");
        }
    }
    let users = sources.load().unwrap_or_else(|e| cli::usage_error(e));
    Options {
        listen,
        tls_listen,
        data,
        sources,
        users,
        cert_and_key,
        limits,
        store_calls,
        quota,
        oauth,
        store,
        users_from_store,
        urlfetch_binary,
    }
}

/// A positive whole number flag value.
fn count(flag: &str, value: &str) -> usize {
    match value.parse() {
        Ok(n) if n > 0 => n,
        _ => cli::usage_error(format!("{flag}: {value:?} is not a positive number")),
    }
}

/// What [`open_store`] opened: the store, its kind, where it is, and the
/// PostgreSQL store (for `--users-from-store`).
type OpenedStore = (
    Arc<dyn Mailstore>,
    &'static str,
    String,
    Option<Arc<PgStore>>,
);

/// The `--store`: the Maildir++ tree under `mail_dir`, or the PostgreSQL
/// database of a `postgres://` URL (connected and migrated now: a database
/// that cannot be reached stops start-up with its error). Also returns its
/// kind and where it is, to log (a URL without its password), and the
/// PostgreSQL store itself.
fn open_store(store: &str, mail_dir: &std::path::Path) -> Result<OpenedStore, String> {
    if store == "maildir" {
        let s = MaildirStore::open(mail_dir)
            .map_err(|e| format!("mail store {}: {e}", mail_dir.display()))?;
        return Ok((
            Arc::new(s),
            "Maildir++",
            mail_dir.display().to_string(),
            None,
        ));
    }
    // postgres://USER:PASSWORD@HOST...: log USER:***@HOST...
    let shown = match store
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
    {
        Some((userinfo, _)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            store.replacen(userinfo, &format!("{user}:***"), 1)
        }
        _ => store.to_owned(),
    };
    let s = tokio::task::block_in_place(|| PgStore::open(store))
        .map_err(|e| format!("--store {shown}: {e}"))?;
    let s = Arc::new(s);
    Ok((Arc::clone(&s) as _, "PostgreSQL", shown, Some(s)))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "hash-password")
    {
        return hash_password();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if credentials::wants_subcommand(&args) {
        return credentials::run(args);
    }
    cli::init_logging();
    let options = parse_args();
    match run(options).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    let Options {
        listen,
        tls_listen,
        data,
        sources,
        mut users,
        cert_and_key,
        limits,
        store_calls,
        quota,
        oauth,
        store,
        users_from_store,
        urlfetch_binary,
    } = options;
    std::fs::create_dir_all(&data).map_err(|e| format!("--data {}: {e}", data.display()))?;
    // The builder's defaults (COMPRESS=DEFLATE offered), plus the token
    // verifier when --oauth-jwks is given (the quota policy is added below).
    let mut config = ServerConfig::default();
    config.compress = true;
    config.urlfetch_binary = urlfetch_binary;
    let jwks = match oauth {
        Some(o) => {
            tracing::info!(jwks = %o.jwks.display(), issuer = %o.issuer, audience = %o.audience, "OAuth 2.0 tokens accepted");
            let jwks = Arc::new(ReloadableJwks::load(o)?);
            config.oauth = Some(Arc::clone(&jwks) as _);
            Some(jwks)
        }
        None => None,
    };
    let tls_config = tls::server_config(cert_and_key, &data)?;

    let demo_password = if users.is_empty() && !users_from_store {
        Some(users.add_demo_user()?)
    } else {
        None
    };
    tracing::info!(users = users.len(), "user database ready");
    let users = Arc::new(Reloadable::new(users, sources));

    let mail_dir = data.join("mail");
    let (store, store_kind, store_at, pg) = open_store(&store, &mail_dir)?;
    // The quota overrides still come from `users` (none with the store's).
    let authenticator: Arc<dyn Authenticator> = match pg.filter(|_| users_from_store) {
        Some(pg) => {
            tracing::info!("passwords and app passwords: the database's credentials");
            Arc::new(credentials::StoreUsers(PgAuthenticator::new(&pg)))
        }
        None => Arc::clone(&users) as _,
    };
    config.quota = Some(Arc::new(UserQuotas {
        users: Arc::clone(&users),
        default: quota,
    }));
    let server = ServerBuilder::new(store, authenticator)
        .config(config)
        .tls(tls_config)
        .limits(limits)
        .store_calls(store_calls)
        .listener(bind(listen, "--listen").await?, Listener::Plain)
        .listener(
            bind(tls_listen, "--tls-listen").await?,
            Listener::ImplicitTls,
        )
        .bind()
        .await
        .map_err(|e| e.to_string())?;

    if let Some(password) = demo_password {
        println!("No --user or --users given: created a demo user.");
        println!("  user:     {}", Users::DEMO_USER);
        println!("  password: {password}");
        let _ = io::Write::flush(&mut io::stdout());
    }
    // Installed before the listeners are announced, so that a signal sent
    // as soon as the server listens is handled.
    let signal = shutdown_signal().map_err(|e| format!("cannot handle signals: {e}"))?;
    reload_on_hangup(users, jwks).map_err(|e| format!("cannot handle SIGHUP: {e}"))?;
    tracing::info!(mail = %store_at, "{store_kind} store ready");
    let handle = server.shutdown_handle();
    tokio::spawn(async move {
        let why = signal.await;
        tracing::info!(signal = why, "shutting down");
        handle.shutdown();
    });
    server.run().await;
    Ok(())
}

/// `hash-password`: read a password from standard input (without echo on a
/// terminal, asked twice) and print its `{SHA512-CRYPT}` hash for a users
/// file line (`name:{SHA512-CRYPT}…` or, for an app password,
/// `name:{SHA512-CRYPT}…:app=LABEL`).
fn hash_password() -> std::process::ExitCode {
    match credentials::read_password().and_then(|p| common::users::hash_password(&p)) {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("hash-password: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bind(addr: SocketAddr, flag: &str) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{flag} {addr}: {e}"))
}

/// A future that resolves with the signal's name on Ctrl-C (SIGINT) or
/// SIGTERM. The handlers are installed now, not when the future is first
/// polled, so that a signal sent as soon as the server listens is not lost.
#[cfg(unix)]
fn shutdown_signal() -> io::Result<impl Future<Output = &'static str>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        }
    })
}

/// A future that resolves with `"Ctrl-C"` on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> io::Result<impl Future<Output = &'static str>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        "Ctrl-C"
    })
}
