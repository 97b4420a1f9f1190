//! The blocking example driver (`examples/imap-server-blocking.rs`): login,
//! APPEND/FETCH, and IDLE woken by another connection's APPEND.

mod common;

use common::{tagged, Client, Server};

#[test]
fn blocking_server_serves_a_session_with_idle() {
    let server = Server::start_blocking(&["--user", "alice:secret"]);
    let mut a = Client::connect(server.port);
    assert!(a.greeting.starts_with("* OK "), "{}", a.greeting);
    assert!(
        !a.greeting.contains("STARTTLS"),
        "no TLS here: {}",
        a.greeting
    );
    assert!(tagged(&a.command("LOGIN alice secret")).contains(" OK "));
    let select = a.command("SELECT INBOX");
    assert!(select.iter().any(|l| l == "* 0 EXISTS\r\n"), "{select:?}");

    let mut b = Client::connect(server.port);
    assert!(tagged(&b.command("LOGIN alice secret")).contains(" OK "));
    let message = "Subject: hello\r\n\r\nbody\r\n";
    let append = b.command(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()));
    assert!(tagged(&append).contains("[APPENDUID "), "{append:?}");

    let noop = a.command("NOOP");
    assert!(noop.iter().any(|l| l == "* 1 EXISTS\r\n"), "{noop:?}");

    a.send(b"i1 IDLE\r\n");
    assert!(a.line().starts_with("+ "));
    let append = b.command(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()));
    assert!(tagged(&append).contains(" OK "), "{append:?}");
    let seen = a.until_contains("EXISTS");
    assert_eq!(
        seen.last().map(String::as_str),
        Some("* 2 EXISTS\r\n"),
        "{seen:?}"
    );
    a.send(b"DONE\r\n");
    assert!(tagged(&a.until_tagged("i1")).contains(" OK "));

    let fetch = a.command("FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    assert!(
        fetch.iter().any(|l| l.contains("Subject: hello")),
        "{fetch:?}"
    );
    let logout = a.command("LOGOUT");
    assert!(logout[0].starts_with("* BYE"), "{logout:?}");
    assert_eq!(a.rest(), "");
}
