//! Small command-line helpers: flag values, usage errors, logging set-up.

use std::fmt::Display;
use std::io::IsTerminal;
use std::net::SocketAddr;

/// Split `--flag=value` into (`--flag`, `Some("value")`); anything else is
/// returned whole.
pub(crate) fn split_flag(arg: String) -> (String, Option<String>) {
    if arg.starts_with("--") {
        if let Some((flag, value)) = arg.split_once('=') {
            return (flag.to_owned(), Some(value.to_owned()));
        }
    }
    (arg, None)
}

/// The value of `flag`: the inline `--flag=value` part, or the next argument.
pub(crate) fn value(
    flag: &str,
    inline: Option<String>,
    rest: &mut impl Iterator<Item = String>,
) -> String {
    inline
        .or_else(|| rest.next())
        .unwrap_or_else(|| usage_error(format!("{flag} needs a value")))
}

/// A socket address flag value (`127.0.0.1:1143`, `[::1]:1143`).
pub(crate) fn socket_addr(flag: &str, value: &str) -> SocketAddr {
    value.parse().unwrap_or_else(|e| {
        usage_error(format!(
            "{flag}: {value:?} is not an address like 127.0.0.1:1143 ({e})"
        ))
    })
}

/// Print a usage error and exit with status 2.
pub(crate) fn usage_error(msg: impl Display) -> ! {
    let program = std::env::args()
        .next()
        .unwrap_or_else(|| "imap-server".into());
    eprintln!("{program}: {msg}");
    eprintln!("Try '{program} --help' for more information.");
    std::process::exit(2)
}

/// Structured logs on stderr; the filter comes from `RUST_LOG` (default
/// `info`), so stdout carries only what the program prints on purpose.
pub(crate) fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
