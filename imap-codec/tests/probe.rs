//! Runs the `imap-parse` example (the command-line probe) as other tools do:
//! a byte stream on standard input, canonical messages on standard output, a
//! summary or `offset N: reason` on standard error, and the exit status.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;

/// What one run of the probe gave.
#[derive(Debug)]
struct Run {
    stdout: Vec<u8>,
    stderr: String,
    code: Option<i32>,
}

/// Build the example once (as `cargo run` would) and return its path.
fn probe_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "imap-codec", "--example", "imap-parse"])
            .arg("--message-format=json")
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build");
        assert!(
            out.status.success(),
            "cargo build --example imap-parse failed"
        );
        // One JSON object per line; the example's artifact names its executable.
        let json = String::from_utf8_lossy(&out.stdout);
        let line = json
            .lines()
            .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
            .find(|l| l.contains("\"name\":\"imap-parse\""))
            .expect("cargo reported the imap-parse artifact");
        let key = "\"executable\":\"";
        let start = line.find(key).expect("the artifact has an executable") + key.len();
        let len = line[start..].find('"').expect("end of the path");
        PathBuf::from(&line[start..start + len])
    })
}

/// Run the probe with `args`, feeding it `input`.
fn probe(args: &[&str], input: &[u8]) -> Run {
    let mut child = Command::new(probe_binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn imap-parse");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    // Write from another thread so a full stdout pipe cannot deadlock us.
    let writer = thread::spawn(move || {
        // The probe may exit (on an error) before reading everything.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for the probe");
    writer.join().expect("writer thread");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Run {
        stdout: out.stdout,
        stderr,
        code: out.status.code(),
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A good stream: exit 0, `parsed n messages`, and the output is a fixed point
/// (running the probe on its own output gives the same output).
fn assert_good(mode: &str, input: &[u8], n: usize) -> Vec<u8> {
    let run = probe(&[mode], input);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stderr, format!("parsed {n} messages\n"));
    let again = probe(&[mode], &run.stdout);
    assert_eq!(
        again.code,
        Some(0),
        "re-parsing {:?}: {}",
        show(&run.stdout),
        again.stderr
    );
    assert_eq!(again.stderr, format!("parsed {n} messages\n"));
    assert_eq!(
        show(&again.stdout),
        show(&run.stdout),
        "canonical form is not stable"
    );
    run.stdout
}

fn assert_fails(mode: &str, input: &[u8], expected_stderr_prefix: &str) -> Run {
    let run = probe(&[mode], input);
    assert_eq!(run.code, Some(1), "stderr: {}", run.stderr);
    assert!(
        run.stderr.starts_with(expected_stderr_prefix),
        "stderr {:?} does not start with {expected_stderr_prefix:?}",
        run.stderr
    );
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "one line on stderr: {:?}",
        run.stderr
    );
    run
}

#[test]
fn good_command_stream() {
    let input: &[u8] = b"a1 CAPABILITY\r\n\
        a2 LOGIN alice secret\r\n\
        a3 SELECT INBOX\r\n\
        a4 APPEND INBOX {5}\r\nhello\r\n\
        a5 IDLE\r\n\
        DONE\r\n\
        a6 NOOP\r\n\
        a7 LOGOUT\r\n";
    let out = assert_good("commands", input, 8);
    // These are all in canonical form already.
    assert_eq!(show(&out), show(input));
}

#[test]
fn command_stream_with_literal_plus_and_authenticate() {
    let input: &[u8] = b"a1 LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n\
        a2 AUTHENTICATE PLAIN\r\n\
        AGFsaWNlAHNlY3JldA==\r\n\
        a3 AUTHENTICATE PLAIN\r\n\
        *\r\n\
        a4 FETCH 1:* (FLAGS)\r\n\
        a5 AUTHENTICATE SCRAM-SHA-1 biwsbj11c2Vy\r\n\
        Yz1iaXdz\r\n\
        a6 NOOP\r\n";
    // SASL data may follow an initial response too (a multi-step mechanism).
    let out = assert_good("commands", input, 9);
    let out = show(&out);
    assert!(
        out.contains("a2 AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n"),
        "{out}"
    );
    assert!(out.contains("a3 AUTHENTICATE PLAIN\r\n*\r\n"), "{out}");
    assert!(
        out.ends_with("a5 AUTHENTICATE SCRAM-SHA-1 biwsbj11c2Vy\r\nYz1iaXdz\r\na6 NOOP\r\n"),
        "{out}"
    );
    // The literals are re-encoded (synchronising is the default policy).
    assert!(out.starts_with("a1 LOGIN alice secret\r\n"), "{out}");
}

#[test]
fn good_response_stream() {
    let input: &[u8] = b"* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n\
        * 3 EXISTS\r\n\
        * FLAGS (\\Answered \\Seen)\r\n\
        a1 OK [READ-WRITE] SELECT completed\r\n\
        * 1 FETCH (UID 7 BODY[] {5}\r\nhello)\r\n\
        + idling\r\n\
        * BYE bye\r\n";
    let out = assert_good("responses", input, 7);
    let out = show(&out);
    assert!(
        out.starts_with("* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n"),
        "{out}"
    );
    // The literal comes back as a quoted string or a literal, as the encoder likes.
    assert!(
        out.contains("BODY[] \"hello\")") || out.contains("{5}\r\nhello"),
        "{out}"
    );
}

#[test]
fn empty_input_is_zero_messages() {
    for mode in ["commands", "responses"] {
        let run = probe(&[mode], b"");
        assert_eq!(run.code, Some(0));
        assert_eq!(run.stderr, "parsed 0 messages\n");
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn malformed_command_stream() {
    // "(" cannot start a tag: the second message, at offset 9.
    let run = assert_fails("commands", b"a1 NOOP\r\n(bad\r\na2 NOOP\r\n", "offset 9: ");
    // What decoded before the error is still written.
    assert_eq!(show(&run.stdout), "a1 NOOP\r\n");

    // Bytes that are no command at all.
    assert_fails("commands", b"\x00\x01\x02\r\n", "offset 0: ");

    // After IDLE only DONE may come.
    assert_fails("commands", b"a1 IDLE\r\na2 NOOP\r\n", "offset 9: ");
}

#[test]
fn malformed_response_stream() {
    let run = assert_fails("responses", b"* 3 EXISTS\r\n)))\r\n", "offset 12: ");
    assert_eq!(show(&run.stdout), "* 3 EXISTS\r\n");
}

#[test]
fn oversized_literal_is_refused_at_its_announcement() {
    let input = b"a1 NOOP\r\na2 APPEND INBOX {99999999999}\r\n";
    let run = assert_fails("commands", input, "offset 25: ");
    assert!(run.stderr.contains("too large"), "{}", run.stderr);
}

#[test]
fn truncated_streams() {
    // Cut inside a line.
    let run = assert_fails(
        "commands",
        b"a1 NOOP\r\na2 NO",
        "offset 9: truncated message",
    );
    assert_eq!(show(&run.stdout), "a1 NOOP\r\n");
    // Cut inside a literal.
    assert_fails(
        "commands",
        b"a1 NOOP\r\na2 LOGIN {5}\r\nab",
        "offset 9: truncated message",
    );
    // Cut after a literal, before the rest of the message.
    assert_fails(
        "responses",
        b"* 1 EXISTS\r\n* 1 FETCH (BODY[] {3}\r\nabc",
        "offset 12: truncated message",
    );
    // Waiting for DONE is not a truncation, but half a DONE is.
    assert_fails("commands", b"a1 IDLE\r\nDO", "offset 9: truncated message");
}

#[test]
fn usage_errors() {
    for args in [
        &[][..],
        &["bogus"][..],
        &["commands", "responses"][..],
        &["--help"][..],
    ] {
        let run = probe(args, b"a1 NOOP\r\n");
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("usage: imap-parse"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn big_stream_in_many_chunks() {
    // Several 64 KiB reads, messages split across chunk boundaries.
    let mut input = Vec::new();
    let mut n = 0;
    while input.len() < 300 * 1024 {
        input.extend_from_slice(format!("a{n} APPEND INBOX {{1000}}\r\n").as_bytes());
        input.extend(std::iter::repeat_n(b'x', 1000));
        input.extend_from_slice(b"\r\n");
        n += 1;
    }
    let run = probe(&["commands"], &input);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, format!("parsed {n} messages\n"));
    assert_eq!(run.stdout.len(), input.len());
}
