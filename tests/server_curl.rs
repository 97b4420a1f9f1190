//! The example server (`examples/imap-server.rs`) against curl's IMAP client:
//! LIST, APPEND (`-T`), FETCH by UID, SEARCH, STARTTLS (`--ssl-reqd`) and
//! implicit TLS (`imaps://`). Skipped, with a notice, when curl is missing.

mod common;

use std::process::{Command, Output};

use common::{Server, TempDir};

fn have_curl() -> bool {
    Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("imap"))
}

/// Run curl with a 20 s limit; returns the output.
fn curl(args: &[&str]) -> Output {
    Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .output()
        .expect("run curl")
}

/// Run curl and return its stdout, failing the test if curl fails.
fn curl_ok(args: &[&str]) -> String {
    let out = curl(args);
    assert!(
        out.status.success(),
        "curl {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn curl_list_append_fetch_search_tls() {
    if !have_curl() {
        eprintln!("SKIPPED: curl with IMAP support is not installed");
        return;
    }
    let server = Server::start(&["--user", "alice:secret"]);
    let base = format!("imap://127.0.0.1:{}", server.port);
    let tls_base = format!("imaps://127.0.0.1:{}", server.tls_port);
    let auth = ["-u", "alice:secret"];

    // LIST.
    let list = curl_ok(&[&format!("{base}/"), auth[0], auth[1]]);
    for name in ["INBOX", "Sent", "Drafts", "Trash"] {
        assert!(
            list.lines()
                .any(|l| l.starts_with("* LIST ") && l.ends_with(&format!(" {name}"))),
            "{name} not in {list}"
        );
    }

    // APPEND with -T.
    let dir = TempDir::new("curl");
    let message = dir.path().join("message.eml");
    std::fs::write(
        &message,
        "From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nSubject: Uploaded by curl\r\n\r\nHello from curl.\r\n",
    )
    .expect("write the message");
    let message = message.to_str().expect("UTF-8 temp path");
    curl_ok(&["-T", message, &format!("{base}/INBOX"), auth[0], auth[1]]);

    // FETCH the whole message by UID, then one header field.
    let fetched = curl_ok(&[&format!("{base}/INBOX;UID=1"), auth[0], auth[1]]);
    assert_eq!(
        fetched,
        "From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: Uploaded by curl\n\nHello from curl.\n"
    );
    let subject = curl_ok(&[
        &format!("{base}/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)"),
        auth[0],
        auth[1],
    ]);
    assert_eq!(subject.trim_end(), "Subject: Uploaded by curl");

    // SEARCH.
    let search = curl_ok(&[&format!("{base}/INBOX?SUBJECT%20curl"), auth[0], auth[1]]);
    assert_eq!(search.trim_end(), "* SEARCH 1");
    let none = curl_ok(&[
        &format!("{base}/INBOX?SUBJECT%20nothing-like-this"),
        auth[0],
        auth[1],
    ]);
    assert_eq!(none.trim_end(), "* SEARCH");

    // A custom command: EXAMINE shows the message count.
    let examine = curl_ok(&["-X", "EXAMINE INBOX", &format!("{base}/"), auth[0], auth[1]]);
    assert!(examine.contains("* 1 EXISTS"), "{examine}");

    // STARTTLS (required) and implicit TLS, with the self-signed certificate.
    let over_starttls = curl_ok(&[
        "--ssl-reqd",
        "-k",
        &format!("{base}/INBOX;UID=1"),
        auth[0],
        auth[1],
    ]);
    assert_eq!(over_starttls, fetched);
    let over_tls = curl_ok(&["-k", &format!("{tls_base}/INBOX;UID=1"), auth[0], auth[1]]);
    assert_eq!(over_tls, fetched);

    // The development certificate is not trusted without -k.
    let untrusted = curl(&[&format!("{tls_base}/"), auth[0], auth[1]]);
    assert!(
        !untrusted.status.success(),
        "an untrusted certificate was accepted"
    );

    // A wrong password: curl's "login denied" (exit code 67).
    let denied = curl(&[&format!("{base}/"), "-u", "alice:wrong"]);
    assert_eq!(
        denied.status.code(),
        Some(67),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
}
