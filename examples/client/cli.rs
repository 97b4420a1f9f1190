//! The command line of `imap-client`: flags (before or after the subcommand),
//! the subcommand and its arguments, checked before any connection is made.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use imap_client_core::imap_codec::{decode_command, DecodeConfig, Decoded};
use imap_client_core::imap_proto::{is_astring_char, CommandBody, Flag, Mailbox, StoreKind, Uid};

use imap_client::blocking::Security;
use imap_client::tls::Trust;

/// The `--help` text.
pub(crate) const USAGE: &str = "\
imap-client: a command-line IMAP client (imap-rs example, blocking I/O)

Usage: imap-client --server HOST[:PORT] --user NAME [OPTIONS] COMMAND [ARGS]...

Commands:
  list                          mailbox names, one per line
  fetch MAILBOX                 one line per message: UID<TAB>DATE<TAB>FROM<TAB>SUBJECT
                                (DATE in RFC 3339; progress on stderr)
  read MAILBOX UID              the raw message (BODY.PEEK[], \\Seen unchanged) to stdout
  search MAILBOX CRITERIA...    UIDs of the messages matching IMAP search keys given
                                as separate words, one per line:
                                search INBOX FROM alice UNSEEN
  flag MAILBOX UID (+|-)FLAG... add or remove flags: flag INBOX 7 +\\Seen -\\Flagged +$Label
  move MAILBOX UID DEST         move a message (UID MOVE, or UID COPY + \\Deleted +
                                UID EXPUNGE with UIDPLUS; never a plain EXPUNGE)
  watch MAILBOX                 IDLE: one line per change (EXISTS n, EXPUNGE n,
                                FETCH n FLAGS (...), VANISHED uids) until SIGINT/SIGTERM
  sync MAILBOX DIR              two-way sync with the Maildir DIR (created if missing;
                                state in DIR/.imap-client-sync): flag changes, deleted
                                files and new files made in DIR go to the server; one
                                summary line on stdout, progress on stderr

Options (before or after the command):
  --server HOST[:PORT]   the server; PORT defaults to 993 with --tls, else 143
  --user NAME            the user name
  --password PW          the password (default: the IMAP_PASSWORD environment variable)
  --tls                  TLS from the first byte (implicit TLS)
  --starttls             plain text, then STARTTLS (fails if the server lacks it)
                         (neither: plain text)
  --ca FILE              trust the certificates in this PEM file
  --insecure             DANGEROUS: accept any server certificate
                         (neither: the system's CA bundle)
  --timeout SECS         give up a read after SECS seconds [default: 60]
  --retries N            reconnect attempts after a lost connection [default: 8]
                         (0.5 s, then doubling up to 30 s between attempts)
  -h, --help             print this help

Mailbox names are UTF-8. Exit status: 0 success, 1 server, protocol or
connection error (the server's text on stderr), 2 usage error.
";

/// A subcommand with its checked arguments.
#[derive(Debug, Clone)]
pub(crate) enum Command {
    /// `list`.
    List,
    /// `fetch MAILBOX`.
    Fetch {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `read MAILBOX UID`.
    Read {
        /// The mailbox.
        mailbox: Mailbox,
        /// The message.
        uid: Uid,
    },
    /// `search MAILBOX CRITERIA...`.
    Search {
        /// The mailbox.
        mailbox: Mailbox,
        /// `UID SEARCH [CHARSET UTF-8] criteria`, decoded by imap-codec.
        body: CommandBody,
    },
    /// `flag MAILBOX UID (+|-)FLAG...`.
    Flag {
        /// The mailbox.
        mailbox: Mailbox,
        /// The message.
        uid: Uid,
        /// Flags to add and to remove, in command-line order.
        changes: Vec<(StoreKind, Flag)>,
    },
    /// `move MAILBOX UID DEST`.
    Move {
        /// The source mailbox.
        mailbox: Mailbox,
        /// The message.
        uid: Uid,
        /// The destination.
        dest: Mailbox,
    },
    /// `watch MAILBOX`.
    Watch {
        /// The mailbox.
        mailbox: Mailbox,
    },
    /// `sync MAILBOX DIR`.
    Sync {
        /// The mailbox.
        mailbox: Mailbox,
        /// The local Maildir.
        dir: PathBuf,
    },
}

/// Everything the command line says.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// `host:port`.
    pub(crate) addr: String,
    /// The host part (for the certificate check).
    pub(crate) host: String,
    /// The user name.
    pub(crate) user: String,
    /// The password.
    pub(crate) password: String,
    /// Plain, STARTTLS or implicit TLS.
    pub(crate) security: Security,
    /// Which certificates to accept.
    pub(crate) trust: Trust,
    /// Read timeout.
    pub(crate) timeout: Duration,
    /// Reconnect attempts.
    pub(crate) retries: u32,
    /// The subcommand.
    pub(crate) command: Command,
}

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// `--help`.
    Help,
    /// Run a subcommand.
    Run(Box<Options>),
}

/// Parse the arguments (without the program name); `env_password` is
/// `IMAP_PASSWORD`. `Err` is a usage error message.
pub(crate) fn parse(
    args: impl IntoIterator<Item = String>,
    env_password: Option<String>,
) -> Result<Parsed, String> {
    let mut server = None;
    let mut user = None;
    let mut password = None;
    let (mut tls, mut starttls, mut insecure) = (false, false, false);
    let mut ca = None;
    let mut timeout = Duration::from_secs(60);
    let mut retries = 8;
    let mut words = Vec::new();
    let args: Vec<String> = args.into_iter().collect();
    // `--help` wins wherever it is (before a `--`), whatever else is wrong.
    if args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "-h" || a == "--help")
    {
        return Ok(Parsed::Help);
    }
    let mut args = args.into_iter();
    let mut only_words = false;
    while let Some(arg) = args.next() {
        if only_words || !arg.starts_with("--") && arg != "-h" {
            words.push(arg);
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
            None => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--" => only_words = true,
            "-h" | "--help" => return Ok(Parsed::Help),
            "--server" => server = Some(value()?),
            "--user" => user = Some(value()?),
            "--password" => password = Some(value()?),
            "--ca" => ca = Some(PathBuf::from(value()?)),
            "--timeout" => {
                let v = value()?;
                let secs: u64 = v
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| format!("--timeout: {v:?} is not a number of seconds"))?;
                timeout = Duration::from_secs(secs);
            }
            "--retries" => {
                let v = value()?;
                retries = v
                    .parse()
                    .map_err(|_| format!("--retries: {v:?} is not a number"))?;
            }
            "--tls" | "--starttls" | "--insecure" if inline.is_some() => {
                return Err(format!("{flag} takes no value"))
            }
            "--tls" => tls = true,
            "--starttls" => starttls = true,
            "--insecure" => insecure = true,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if tls && starttls {
        return Err("--tls and --starttls exclude each other".into());
    }
    if insecure && ca.is_some() {
        return Err("--ca and --insecure exclude each other".into());
    }
    let security = match (tls, starttls) {
        (true, _) => Security::Tls,
        (_, true) => Security::StartTls,
        _ => Security::Plain,
    };
    let trust = match (insecure, ca) {
        (true, _) => Trust::DangerAcceptAnyCertificate,
        (_, Some(file)) => Trust::CaFile(file),
        _ => Trust::SystemRoots,
    };
    let command = parse_command(&words)?;
    let server = server.ok_or("--server HOST:PORT is required")?;
    let (addr, host) = split_server(&server, security)?;
    let user = user.ok_or("--user NAME is required")?;
    let password = password
        .or(env_password)
        .ok_or("--password PW (or the IMAP_PASSWORD environment variable) is required")?;
    Ok(Parsed::Run(Box::new(Options {
        addr,
        host,
        user,
        password,
        security,
        trust,
        timeout,
        retries,
        command,
    })))
}

/// `host:port`, `host`, `[v6]:port`, `[v6]` → (`addr` to connect to, host).
fn split_server(server: &str, security: Security) -> Result<(String, String), String> {
    let default_port = if security == Security::Tls { 993 } else { 143 };
    let bad = || format!("--server: {server:?} is not HOST[:PORT]");
    let (host, port) = if let Some(rest) = server.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(bad()),
        }
    } else {
        match server.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => (server, None), // bare IPv6
            Some((host, port)) => (host, Some(port)),
            None => (server, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port: u16 = match port {
        Some(p) => p.parse().map_err(|_| bad())?,
        None => default_port,
    };
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((addr, host.to_owned()))
}

fn parse_command(words: &[String]) -> Result<Command, String> {
    let Some((name, args)) = words.split_first() else {
        return Err(
            "a command is required (list, fetch, read, search, flag, move, watch, sync)".into(),
        );
    };
    let arity = |n: usize, shape: &str| {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!("usage: {name} {shape}"))
        }
    };
    let mailbox = |i: usize| Mailbox::from_utf8(&args[i]);
    Ok(match name.as_str() {
        "list" => {
            arity(0, "")?;
            Command::List
        }
        "fetch" => {
            arity(1, "MAILBOX")?;
            Command::Fetch {
                mailbox: mailbox(0),
            }
        }
        "read" => {
            arity(2, "MAILBOX UID")?;
            Command::Read {
                mailbox: mailbox(0),
                uid: parse_uid(&args[1])?,
            }
        }
        "search" => {
            if args.len() < 2 {
                return Err(format!("usage: {name} MAILBOX CRITERIA..."));
            }
            Command::Search {
                mailbox: mailbox(0),
                body: search_body(&args[1..])?,
            }
        }
        "flag" => {
            if args.len() < 3 {
                return Err(format!("usage: {name} MAILBOX UID (+|-)FLAG..."));
            }
            let changes = args[2..]
                .iter()
                .map(|w| parse_flag_change(w))
                .collect::<Result<_, _>>()?;
            Command::Flag {
                mailbox: mailbox(0),
                uid: parse_uid(&args[1])?,
                changes,
            }
        }
        "move" => {
            arity(3, "MAILBOX UID DEST")?;
            Command::Move {
                mailbox: mailbox(0),
                uid: parse_uid(&args[1])?,
                dest: mailbox(2),
            }
        }
        "watch" => {
            arity(1, "MAILBOX")?;
            Command::Watch {
                mailbox: mailbox(0),
            }
        }
        "sync" => {
            arity(2, "MAILBOX DIR")?;
            Command::Sync {
                mailbox: mailbox(0),
                dir: PathBuf::from(&args[1]),
            }
        }
        other => return Err(format!("unknown command {other:?}")),
    })
}

fn parse_uid(word: &str) -> Result<Uid, String> {
    word.parse::<u32>()
        .ok()
        .and_then(Uid::new)
        .ok_or_else(|| format!("{word:?} is not a UID (a number from 1 to 4294967295)"))
}

/// `+FLAG` or `-FLAG`, the flag as on the wire (`\Seen`, `$Label`).
fn parse_flag_change(word: &str) -> Result<(StoreKind, Flag), String> {
    let (kind, name) = if let Some(name) = word.strip_prefix('+') {
        (StoreKind::Add, name)
    } else if let Some(name) = word.strip_prefix('-') {
        (StoreKind::Remove, name)
    } else {
        return Err(format!("{word:?}: flags are written +FLAG or -FLAG"));
    };
    let flag = Flag::try_from(name).map_err(|e| format!("{word:?}: not a flag ({e})"))?;
    if flag == Flag::Recent {
        return Err(format!(
            "{word:?}: \\Recent cannot be stored (RFC 3501 §2.3.2)"
        ));
    }
    Ok((kind, flag))
}

/// The typed `UID SEARCH` for command-line words: the words are put on an
/// IMAP command line (words that are not atoms become quoted strings, or
/// literals when not ASCII, with `CHARSET UTF-8`) and decoded by imap-codec,
/// so the search-key grammar is the codec's (RFC 9051 §6.4.4).
pub(crate) fn search_body(words: &[String]) -> Result<CommandBody, String> {
    let mut line = Vec::from(&b"x UID SEARCH "[..]);
    let utf8 = words.iter().any(|w| !w.is_ascii());
    if utf8 {
        line.extend_from_slice(b"CHARSET UTF-8 ");
    }
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            line.push(b' ');
        }
        let bytes = word.as_bytes();
        if !bytes.is_empty()
            && bytes
                .iter()
                .all(|&b| is_astring_char(b) || b == b'(' || b == b')')
        {
            line.extend_from_slice(bytes);
        } else if word.is_ascii() && !bytes.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
            line.push(b'"');
            for &b in bytes {
                if b == b'"' || b == b'\\' {
                    line.push(b'\\');
                }
                line.push(b);
            }
            line.push(b'"');
        } else {
            // A non-synchronising literal (RFC 7888): the whole command is here.
            line.extend_from_slice(format!("{{{}+}}\r\n", bytes.len()).as_bytes());
            line.extend_from_slice(bytes);
        }
    }
    line.extend_from_slice(b"\r\n");
    let shown = words.join(" ");
    match decode_command(&Bytes::from(line), &DecodeConfig::commands()) {
        Ok(Decoded::Complete { value, .. }) => match value.body {
            body @ CommandBody::Search { .. } => Ok(body),
            _ => Err(format!("search criteria {shown:?}: not a search")),
        },
        Ok(_) => Err(format!("search criteria {shown:?}: incomplete")),
        Err(e) => Err(format!("search criteria {shown:?}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_client_core::imap_proto::SearchKey;

    fn run(args: &[&str]) -> Result<Options, String> {
        match parse(args.iter().map(|s| s.to_string()), None)? {
            Parsed::Run(o) => Ok(*o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn flags_go_before_or_after_the_command() {
        let a = run(&["--server", "h:1", "--user", "u", "--password", "p", "list"]).unwrap();
        let b = run(&["list", "--server=h:1", "--user", "u", "--password=p"]).unwrap();
        assert_eq!((a.addr, a.user, a.password), (b.addr, b.user, b.password));
        assert!(matches!(b.command, Command::List));
    }

    #[test]
    fn usage_errors() {
        let base = ["--server", "h", "--user", "u", "--password", "p"];
        for extra in [
            &["--bogus", "list"][..],
            &[],
            &["frobnicate"],
            &["read", "INBOX"],
            &["read", "INBOX", "0"],
            &["flag", "INBOX", "1", "Seen"],
            &["search", "INBOX", "FROM"],
            &["list", "--tls", "--starttls"],
        ] {
            let args: Vec<&str> = base.iter().chain(extra).copied().collect();
            assert!(run(&args).is_err(), "{extra:?} accepted");
        }
        assert!(run(&["--user", "u", "--password", "p", "list"]).is_err());
    }

    #[test]
    fn search_words_decode_to_typed_keys() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let CommandBody::Search {
            uid,
            charset,
            criteria,
            ..
        } = search_body(&words(&["FROM", "alice smith", "UNSEEN"])).unwrap()
        else {
            panic!("not a search")
        };
        assert!(uid);
        assert!(charset.is_none());
        assert_eq!(criteria.len(), 2);
        assert!(matches!(&criteria[0], SearchKey::From(s) if s.as_bytes() == b"alice smith"));
        assert_eq!(criteria[1], SearchKey::Unseen);
        let CommandBody::Search { charset, .. } =
            search_body(&words(&["SUBJECT", "Grüße"])).unwrap()
        else {
            panic!("not a search")
        };
        assert_eq!(charset.unwrap().as_bytes(), b"UTF-8");
    }

    #[test]
    fn server_ports_default_by_security() {
        assert_eq!(
            split_server("mail.example", Security::Tls).unwrap().0,
            "mail.example:993"
        );
        assert_eq!(
            split_server("[::1]", Security::Plain).unwrap(),
            ("[::1]:143".to_owned(), "::1".to_owned())
        );
        assert!(split_server("h:port", Security::Plain).is_err());
    }
}
