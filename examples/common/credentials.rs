//! Credentials kept in the PostgreSQL store (`imap-server --store
//! postgres://… --users-from-store`) and the subcommands that manage them,
//! plus reading a password from standard input (`hash-password` too).
//!
//! ```text
//! imap-server --store postgres://… set-password NAME           (password on stdin)
//! imap-server --store postgres://… add-app-password NAME LABEL (password on stdin)
//! imap-server --store postgres://… remove-app-password NAME LABEL
//! imap-server --store postgres://… list-app-passwords NAME
//! ```
//!
//! A subcommand works on the database directly, so it runs on any machine
//! that reaches it: a removed app password ends that device's sessions on
//! every server node at their next command.

use std::io::{self, BufRead, IsTerminal};
use std::process::ExitCode;

use imap_server_core::{passwd, AuthError, Authenticator, Login};
use imap_store_postgres::{PgAuthenticator, PgStore};

use crate::common::cli;

/// The credential subcommands and the positional arguments each takes.
pub(crate) const SUBCOMMANDS: &[(&str, &[&str])] = &[
    ("set-password", &["NAME"]),
    ("add-app-password", &["NAME", "LABEL"]),
    ("remove-app-password", &["NAME", "LABEL"]),
    ("list-app-passwords", &["NAME"]),
];

/// Whether `arg` names one of [`SUBCOMMANDS`].
fn is_subcommand(arg: &str) -> bool {
    SUBCOMMANDS.iter().any(|(name, _)| *name == arg)
}

/// Whether the command line (without the program name) runs a subcommand:
/// one comes first, or right after `--store URL` / `--store=URL` (so that a
/// flag's value that happens to be a subcommand's name is not taken for one).
pub(crate) fn wants_subcommand(args: &[String]) -> bool {
    match args {
        [first, ..] if is_subcommand(first) => true,
        [store, _, word, ..] if store == "--store" => is_subcommand(word),
        [store, word, ..] if store.starts_with("--store=") => is_subcommand(word),
        _ => false,
    }
}

/// Read a password from standard input: asked twice without echo on a
/// terminal, else the first line.
pub(crate) fn read_password() -> Result<String, String> {
    if io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// [`PgAuthenticator`] with the example's log line for a revoked login.
#[derive(Debug)]
pub(crate) struct StoreUsers(pub(crate) PgAuthenticator);

impl Authenticator for StoreUsers {
    fn authenticate(&self, authzid: &str, user: &str, password: &[u8]) -> Result<Login, AuthError> {
        self.0.authenticate(authzid, user, password)
    }

    fn still_valid(&self, login: &Login) -> bool {
        let valid = self.0.still_valid(login);
        if !valid {
            tracing::info!(user = %login.user, "credential revoked: ending the session");
        }
        valid
    }
}

/// Run the subcommand in `args` (the command line without the program
/// name): `--store URL` anywhere, the subcommand, its arguments.
pub(crate) fn run(args: Vec<String>) -> ExitCode {
    let mut store = None;
    let mut words = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = cli::split_flag(arg);
        match flag.as_str() {
            "--store" => store = Some(cli::value(&flag, inline, &mut it)),
            f if f.starts_with('-') => {
                cli::usage_error(format!("{f}: not an option of the credential subcommands"))
            }
            _ => words.push(flag),
        }
    }
    let Some((command, rest)) = words.split_first() else {
        cli::usage_error("no subcommand");
    };
    let Some((_, wanted)) = SUBCOMMANDS.iter().find(|(n, _)| n == command) else {
        cli::usage_error(format!("unknown subcommand {command:?}"));
    };
    if rest.len() != wanted.len() {
        cli::usage_error(format!("usage: {command} {}", wanted.join(" ")));
    }
    let Some(store) =
        store.filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
    else {
        cli::usage_error(format!("{command} needs --store postgres://…"));
    };
    // The blocking PostgreSQL client may not run on a tokio worker as is.
    match tokio::task::block_in_place(|| execute(&store, command, rest)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{command}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn execute(store: &str, command: &str, args: &[String]) -> Result<(), String> {
    let hash = || -> Result<String, String> {
        let password = read_password()?;
        passwd::hash_password(&password).map_err(|e| e.to_string())
    };
    // Read the password before connecting: a mistyped one costs no
    // connection (and a prompt does not wait on the database).
    let hash = match command {
        "set-password" | "add-app-password" => Some(hash()?),
        _ => None,
    };
    let store = PgStore::open(store).map_err(|e| e.to_string())?;
    let auth = PgAuthenticator::new(&store);
    let e = |e: imap_store_postgres::CredentialError| e.to_string();
    match (command, args, hash) {
        ("set-password", [name], Some(hash)) => {
            auth.set_password(name, &hash).map_err(e)?;
            eprintln!("password of {name:?} set");
        }
        ("add-app-password", [name, label], Some(hash)) => {
            auth.add_app_password(name, label, &hash).map_err(e)?;
            eprintln!("app password {label:?} of {name:?} added");
        }
        ("remove-app-password", [name, label], _) => {
            if !auth.remove_app_password(name, label).map_err(e)? {
                return Err(format!("{name:?} has no app password {label:?}"));
            }
            eprintln!("app password {label:?} of {name:?} removed");
        }
        ("list-app-passwords", [name], _) => {
            for (label, created) in auth.app_passwords(name).map_err(e)? {
                println!("{label}\t{created}");
            }
        }
        _ => return Err("bad arguments".into()),
    }
    Ok(())
}
