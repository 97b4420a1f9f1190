//! Command-by-command tests of the session state machine, driven through the
//! same in-memory pump as `tests/session.rs`: no sockets, a virtual clock,
//! bytes in and out. Each test names the RFC section it checks. Tests that
//! fail because the server disagrees with the RFC are kept and marked
//! `#[ignore = "server bug: …"]` (none are left: every bug these tests found
//! has been fixed).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use imap_server_core::{MemStore, ServerConfig, ServerEvent};

use common::{store, Client};

// ===== harness (after tests/session.rs) =====

fn config() -> ServerConfig {
    let mut c = ServerConfig::default();
    c.plaintext_auth = true;
    c.starttls = true;
    c
}

impl Client {
    fn with(store: &Arc<MemStore>, cfg: ServerConfig, tls: bool) -> (Self, String) {
        Self::start(store, Arc::new(cfg), tls)
    }

    fn new(store: &Arc<MemStore>) -> Self {
        Self::with(store, config(), false).0
    }

    fn login_with(store: &Arc<MemStore>, cfg: ServerConfig) -> Self {
        let (mut c, _) = Self::with(store, cfg, false);
        let r = c.send("L1 LOGIN alice secret\r\n");
        assert!(r.contains("L1 OK"), "{r}");
        c
    }

    fn login(store: &Arc<MemStore>) -> Self {
        Self::login_with(store, config())
    }

    /// A logged-in session that has enabled IMAP4rev2.
    fn login_rev2(store: &Arc<MemStore>) -> Self {
        let mut c = Self::login(store);
        let r = c.send("E1 ENABLE IMAP4rev2\r\n");
        assert!(r.contains("* ENABLED IMAP4rev2"), "{r}");
        c
    }

    fn append(&mut self, mailbox: &str, msg: &str) -> String {
        let r = self.send(&format!(
            "AP APPEND {mailbox} {{{}+}}\r\n{msg}\r\n",
            msg.len()
        ));
        assert_tagged(&r, "AP", "OK");
        r
    }

    fn append_with(&mut self, mailbox: &str, flags: &str, date: &str, msg: &str) -> String {
        let r = self.send(&format!(
            "AP APPEND {mailbox} {flags} \"{date}\" {{{}+}}\r\n{msg}\r\n",
            msg.len()
        ));
        assert_tagged(&r, "AP", "OK");
        r
    }

    fn select(&mut self, mailbox: &str) -> String {
        let r = self.send(&format!("SE SELECT {mailbox}\r\n"));
        assert_tagged(&r, "SE", "OK [READ-WRITE]");
        r
    }

    /// Move the virtual clock.
    fn advance(&mut self, d: Duration) {
        self.now += d;
    }
}

/// `out` with the free-form text of status responses dropped (RFC 9051
/// §7.1: only the status and the response code are fixed), e.g.
/// `t1 OK [READ-WRITE] SELECT completed` becomes `t1 OK [READ-WRITE]`.
fn norm(out: &str) -> String {
    out.split_inclusive("\r\n")
        .map(|line| {
            let body = line.strip_suffix("\r\n").unwrap_or(line);
            let mut words = body.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some(tag), Some(kind), rest)
                    if tag != "+" && matches!(kind, "OK" | "NO" | "BAD" | "BYE" | "PREAUTH") =>
                {
                    let code = rest
                        .filter(|r| r.starts_with('['))
                        .and_then(|r| r.find(']').map(|end| format!(" {}", &r[..=end])))
                        .unwrap_or_default();
                    format!("{tag} {kind}{code}\r\n")
                }
                _ => line.to_owned(),
            }
        })
        .collect()
}

/// A single continuation request (`+ …`; its text is free-form).
#[track_caller]
fn assert_continuation(out: &str) {
    assert!(
        out.starts_with("+ ") && out.ends_with("\r\n") && lines(out).len() == 1,
        "want one continuation request, got {out:?}"
    );
}

/// The response lines (literal data may span several "lines").
fn lines(out: &str) -> Vec<&str> {
    out.split("\r\n").filter(|l| !l.is_empty()).collect()
}

/// The tagged status line for `tag`.
#[track_caller]
fn tagged_line<'a>(out: &'a str, tag: &str) -> &'a str {
    let prefix = format!("{tag} ");
    out.split("\r\n")
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no tagged response for {tag} in:\n{out}"))
}

/// Assert that `tag`'s tagged response begins with `want` (`OK`, `NO
/// [TRYCREATE]`, `BAD`, …).
#[track_caller]
fn assert_tagged(out: &str, tag: &str, want: &str) {
    let line = tagged_line(out, tag);
    assert!(
        line.starts_with(&format!("{tag} {want}")),
        "want `{tag} {want}…`, got {line:?} in:\n{out}"
    );
}

/// Numbers of the `* SEARCH` response.
#[track_caller]
fn search_numbers(out: &str) -> Vec<u32> {
    let line = out
        .split("\r\n")
        .find(|l| *l == "* SEARCH" || l.starts_with("* SEARCH "))
        .unwrap_or_else(|| panic!("no SEARCH response in:\n{out}"));
    line["* SEARCH".len()..]
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

/// The items of `* STATUS <mailbox> (…)`.
#[track_caller]
fn status_items(out: &str, mailbox: &str) -> BTreeMap<String, u64> {
    let prefix = format!("* STATUS {mailbox} (");
    let line = out
        .split("\r\n")
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no STATUS for {mailbox} in:\n{out}"));
    let inner = line[prefix.len()..].trim_end_matches(')');
    let words: Vec<&str> = inner.split_whitespace().collect();
    words
        .chunks(2)
        .map(|kv| (kv[0].to_owned(), kv[1].parse().unwrap()))
        .collect()
}

/// `(attributes, name)` of each `* LIST` (or `* LSUB`) response, in order.
fn list_rows(out: &str, verb: &str) -> Vec<(String, String)> {
    let prefix = format!("* {verb} (");
    out.split("\r\n")
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let close = rest.find(')').unwrap();
            let attrs = rest[..close].to_owned();
            // `) "/" name`
            let after = rest[close + 1..].trim_start();
            let name = after
                .strip_prefix("\"/\" ")
                .or_else(|| after.strip_prefix("NIL "))
                .unwrap_or(after);
            let name = name.split(" (").next().unwrap();
            (attrs, name.trim_matches('"').to_owned())
        })
        .collect()
}

fn list_names(out: &str, verb: &str) -> Vec<String> {
    list_rows(out, verb).into_iter().map(|r| r.1).collect()
}

fn list_attrs(out: &str, verb: &str, name: &str) -> Option<String> {
    list_rows(out, verb)
        .into_iter()
        .find(|r| r.1 == name)
        .map(|r| r.0)
}

/// The sequence numbers of the `* n EXPUNGE` responses, in order.
fn expunges(out: &str) -> Vec<usize> {
    out.split("\r\n")
        .filter_map(|l| l.strip_prefix("* ")?.strip_suffix(" EXPUNGE"))
        .map(|n| n.parse().unwrap())
        .collect()
}

/// Apply EXPUNGE responses to a client's view (UIDs in sequence order).
fn apply_expunges(view: &mut Vec<u32>, out: &str) {
    for n in expunges(out) {
        assert!(n >= 1 && n <= view.len(), "EXPUNGE {n} out of range: {out}");
        view.remove(n - 1);
    }
}

/// The `* n FETCH (…)` lines for message `n` (first line only).
fn fetch_lines(out: &str, n: u32) -> Vec<&str> {
    let prefix = format!("* {n} FETCH (");
    out.split("\r\n")
        .filter(|l| l.starts_with(&prefix))
        .collect()
}

fn simple(i: usize) -> String {
    format!("Subject: m{i}\r\n\r\nbody {i}\r\n")
}

/// A logged-in session with `n` simple messages in INBOX, INBOX selected.
fn selected_inbox(s: &Arc<MemStore>, n: usize) -> Client {
    let mut c = Client::login(s);
    for i in 1..=n {
        c.append("INBOX", &simple(i));
    }
    take_recent(s, "INBOX");
    c.select("INBOX");
    c
}

/// Another session selects `mailbox` and so takes `\Recent` of its messages
/// (RFC 3501 §2.3.2): the tests that follow see the flags as stored.
fn take_recent(s: &Arc<MemStore>, mailbox: &str) {
    Client::login(s).select(mailbox);
}

const MSG: &str = "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: Hello there\r\nDate: Wed, 17 Jul 1996 02:23:25 -0700\r\nMessage-ID: <1@example.org>\r\n\r\nHi Bob,\r\nthe quick brown fox.\r\n";

/// multipart/mixed: part 1 text/plain in base64 ("Hello, world!"), part 2 text/html.
const MULTIPART: &str = "From: Carol <carol@example.org>\r\nTo: Dave <dave@example.org>\r\nSubject: Report\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\nPreamble.\r\n--XYZ\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8sIHdvcmxkIQ==\r\n--XYZ\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n<p>Hi</p>\r\n--XYZ--\r\n";

// ===== command validity per state (RFC 9051 §3, §6.1–§6.4) =====

/// Every command of the authenticated and selected states, for the state
/// matrix (command lines without tag).
const AUTH_AND_SELECTED: &[&str] = &[
    "SELECT INBOX",
    "EXAMINE INBOX",
    "CREATE Foo",
    "DELETE Foo",
    "RENAME Foo Bar",
    "SUBSCRIBE INBOX",
    "UNSUBSCRIBE INBOX",
    "LIST \"\" *",
    "LSUB \"\" *",
    "NAMESPACE",
    "STATUS INBOX (MESSAGES)",
    "APPEND INBOX {3+}\r\nx\r\n",
    "IDLE",
    "ENABLE IMAP4rev2",
];

const SELECTED_ONLY: &[&str] = &[
    "CHECK",
    "CLOSE",
    "UNSELECT",
    "EXPUNGE",
    "UID EXPUNGE 1",
    "SEARCH ALL",
    "UID SEARCH ALL",
    "FETCH 1 (FLAGS)",
    "UID FETCH 1 (FLAGS)",
    "STORE 1 +FLAGS (\\Seen)",
    "UID STORE 1 +FLAGS (\\Seen)",
    "COPY 1 INBOX",
    "UID COPY 1 INBOX",
    "MOVE 1 Trash",
    "UID MOVE 1 Trash",
];

// RFC 9051 §6.2 / §3.1: in the not-authenticated state only the universal
// commands, STARTTLS, AUTHENTICATE and LOGIN are valid; anything else is BAD.
#[test]
fn not_authenticated_state_refuses_later_commands_with_bad() {
    let s = store();
    for cmd in AUTH_AND_SELECTED.iter().chain(SELECTED_ONLY) {
        let mut c = Client::new(&s);
        let r = c.send(&format!("t1 {cmd}\r\n"));
        assert_tagged(&r, "t1", "BAD");
        assert!(!r.contains("+ "), "no continuation for {cmd}: {r}");
        assert!(c.conn.user().is_none(), "{cmd}");
    }
}

// RFC 9051 §6.1.1, §6.1.2, §6.1.3: CAPABILITY, NOOP and LOGOUT are valid in
// every state; RFC 2971 §3.1: ID too.
#[test]
fn not_authenticated_state_allows_universal_commands() {
    let s = store();
    let mut c = Client::new(&s);
    let r = c.send("t1 CAPABILITY\r\n");
    assert!(r.starts_with("* CAPABILITY IMAP4rev1 IMAP4rev2 "), "{r}");
    assert_tagged(&r, "t1", "OK");
    let r = c.send("t2 NOOP\r\n");
    assert_eq!(lines(&r).len(), 1, "{r}");
    assert_tagged(&r, "t2", "OK");
    let r = c.send("t3 ID NIL\r\n");
    assert_tagged(&r, "t3", "OK");
}

// RFC 9051 §6.4: the selected-state commands (CLOSE, UNSELECT, EXPUNGE,
// SEARCH, FETCH, STORE, COPY, MOVE, UID) are invalid in the authenticated
// state; RFC 3501 §6.4.1 CHECK likewise.
#[test]
fn authenticated_state_refuses_selected_state_commands_with_bad() {
    let s = store();
    for cmd in SELECTED_ONLY {
        let mut c = Client::login(&s);
        let r = c.send(&format!("t1 {cmd}\r\n"));
        assert_tagged(&r, "t1", "BAD");
        // The connection stays usable and unselected.
        let r = c.send("t2 NOOP\r\n");
        assert_tagged(&r, "t2", "OK");
    }
}

// RFC 9051 §6.3: every authenticated-state command is valid after login.
#[test]
fn authenticated_state_allows_its_commands() {
    let s = store();
    let mut c = Client::login(&s);
    for (i, cmd) in [
        "CREATE Foo",
        "RENAME Foo Bar",
        "SUBSCRIBE Bar",
        "UNSUBSCRIBE Bar",
        "DELETE Bar",
        "LIST \"\" *",
        "LSUB \"\" *",
        "NAMESPACE",
        "STATUS INBOX (MESSAGES)",
        "APPEND INBOX {3+}\r\nx\r\n",
        "ENABLE UTF8=ACCEPT",
        "EXAMINE INBOX",
        "SELECT INBOX",
    ]
    .iter()
    .enumerate()
    {
        let tag = format!("t{i}");
        let r = c.send(&format!("{tag} {cmd}\r\n"));
        assert_tagged(&r, &tag, "OK");
    }
}

// RFC 9051 §6.4: in the selected state the authenticated-state commands stay
// valid.
#[test]
fn selected_state_allows_authenticated_state_commands() {
    let s = store();
    let mut c = selected_inbox(&s, 1);
    for (i, cmd) in [
        "CREATE Foo",
        "RENAME Foo Bar",
        "SUBSCRIBE Bar",
        "UNSUBSCRIBE Bar",
        "DELETE Bar",
        "LIST \"\" *",
        "NAMESPACE",
        "STATUS Trash (MESSAGES)",
        "APPEND Trash {3+}\r\nx\r\n",
    ]
    .iter()
    .enumerate()
    {
        let tag = format!("t{i}");
        let r = c.send(&format!("{tag} {cmd}\r\n"));
        assert_tagged(&r, &tag, "OK");
    }
    // Still selected.
    let r = c.send("f1 FETCH 1 (UID)\r\n");
    assert!(r.contains("* 1 FETCH (UID 1)"), "{r}");
}

// RFC 9051 §6.2.1, §6.2.2, §6.2.3: STARTTLS, AUTHENTICATE and LOGIN are only
// valid in the not-authenticated state.
#[test]
fn login_authenticate_starttls_after_login_are_bad() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("t1 LOGIN alice secret\r\n");
    assert_tagged(&r, "t1", "BAD");
    let r = c.send("t2 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    assert_tagged(&r, "t2", "BAD");
    let r = c.send("t3 STARTTLS\r\n");
    assert_tagged(&r, "t3", "BAD");
    assert_eq!(c.conn.poll_event(), None, "no TLS handshake");
    c.select("INBOX");
    let r = c.send("t4 LOGIN alice secret\r\n");
    assert_tagged(&r, "t4", "BAD");
    let r = c.send("t5 STARTTLS\r\n");
    assert_tagged(&r, "t5", "BAD");
    assert_eq!(c.conn.user(), Some("alice"));
}

// RFC 9051 §6.1.3: LOGOUT is valid in every state; the server sends an
// untagged BYE, then the tagged OK, then closes.
#[test]
fn logout_in_every_state() {
    let s = store();
    let (mut c, _) = Client::with(&s, config(), false);
    let r = c.send("z LOGOUT\r\n");
    assert_eq!(norm(&r), "* BYE\r\nz OK\r\n");
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::Close));
    assert!(c.conn.is_closed());

    let mut c = Client::login(&s);
    let r = c.send("z LOGOUT\r\n");
    assert_eq!(norm(&r), "* BYE\r\nz OK\r\n");
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::Close));

    let mut c = selected_inbox(&s, 1);
    let r = c.send("z LOGOUT\r\n");
    assert_eq!(norm(&r), "* BYE\r\nz OK\r\n");
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::Close));
    assert!(c.conn.is_closed());
    assert_eq!(c.conn.poll_timeout(), None);
}

// RFC 9051 §6.1.3: after LOGOUT the server closes the connection; nothing
// pipelined behind it is executed.
#[test]
fn commands_after_logout_are_ignored() {
    let s = store();
    let mut c = selected_inbox(&s, 1);
    let r = c.send("z LOGOUT\r\nn1 NOOP\r\nd1 STORE 1 +FLAGS (\\Deleted)\r\n");
    assert!(norm(&r).ends_with("z OK\r\n"), "{r}");
    assert!(!r.contains("n1") && !r.contains("d1"), "{r}");
    assert_eq!(c.send("n2 NOOP\r\n"), "");
    // The STORE never ran.
    let mut other = Client::login(&s);
    let r = other.send("st STATUS INBOX (DELETED)\r\n");
    assert_eq!(status_items(&r, "INBOX")["DELETED"], 0, "{r}");
}

// RFC 9051 §6.1.2: NOOP always succeeds, also before login.
#[test]
fn noop_before_login() {
    let s = store();
    let mut c = Client::new(&s);
    assert_eq!(norm(&c.send("n1 NOOP\r\n")), "n1 OK\r\n");
}

// ===== CAPABILITY, STARTTLS, LOGIN (RFC 9051 §6.1.1, §6.2) =====

// RFC 9051 §6.1.1, §6.2.3: without TLS and without plaintext permission the
// server advertises LOGINDISABLED and no AUTH=; with permission it lists
// AUTH=PLAIN. After login: no LOGINDISABLED, STARTTLS or AUTH=, and (RFC
// 7889 §2) APPENDLIMIT=<the configured limit>.
#[test]
fn capability_before_and_after_login() {
    let s = store();
    let mut cfg = config();
    cfg.plaintext_auth = false;
    let (mut c, _) = Client::with(&s, cfg, false);
    let r = c.send("c1 CAPABILITY\r\n");
    let caps = lines(&r)[0];
    assert!(caps.contains(" LOGINDISABLED"), "{caps}");
    assert!(caps.contains(" STARTTLS"), "{caps}");
    assert!(!caps.contains("AUTH="), "{caps}");

    let mut cfg = config();
    cfg.limits.max_literal = 12_345;
    let (mut c, _) = Client::with(&s, cfg, false);
    let r = c.send("c1 CAPABILITY\r\n");
    let caps = lines(&r)[0];
    assert!(caps.contains(" AUTH=PLAIN"), "{caps}");
    assert!(!caps.contains("LOGINDISABLED"), "{caps}");
    assert!(!caps.contains("APPENDLIMIT"), "{caps}");
    c.send("l1 LOGIN alice secret\r\n");
    let r = c.send("c2 CAPABILITY\r\n");
    let caps = lines(&r)[0];
    assert!(
        caps.starts_with("* CAPABILITY IMAP4rev1 IMAP4rev2"),
        "{caps}"
    );
    assert!(caps.contains(" APPENDLIMIT=12345"), "{caps}");
    assert!(
        // " AUTH=": URLAUTH=BINARY is advertised after login.
        !caps.contains(" AUTH=") && !caps.contains("LOGINDISABLED") && !caps.contains("STARTTLS"),
        "{caps}"
    );
    assert_tagged(&r, "c2", "OK");
}

// RFC 9051 §6.2.1: STARTTLS is only offered (and accepted) when the server
// can do TLS and the connection is not yet encrypted.
#[test]
fn starttls_when_not_offered_is_refused() {
    let s = store();
    let mut cfg = config();
    cfg.starttls = false;
    let (mut c, greeting) = Client::with(&s, cfg, false);
    assert!(!greeting.contains("STARTTLS"), "{greeting}");
    let r = c.send("t1 STARTTLS\r\n");
    assert_tagged(&r, "t1", "BAD");
    assert_eq!(c.conn.poll_event(), None);
    let r = c.send("t2 NOOP\r\n");
    assert_tagged(&r, "t2", "OK");
}

// RFC 9051 §6.2.1: once TLS is active STARTTLS is not advertised, and a
// second negotiation is refused.
#[test]
fn starttls_when_already_tls_is_refused() {
    let s = store();
    let (mut c, greeting) = Client::with(&s, config(), true);
    assert!(!greeting.contains("STARTTLS"), "{greeting}");
    let r = c.send("t1 STARTTLS\r\n");
    let line = tagged_line(&r, "t1");
    assert!(
        line.starts_with("t1 BAD") || line.starts_with("t1 NO"),
        "{line}"
    );
    assert_eq!(c.conn.poll_event(), None);
    let r = c.send("t2 LOGIN alice secret\r\n");
    assert_tagged(&r, "t2", "OK");
}

// RFC 9051 §4.3, §6.2.3: LOGIN arguments may be synchronising literals; the
// server sends a continuation request for each.
#[test]
fn login_with_synchronising_literals() {
    let s = store();
    let mut c = Client::new(&s);
    assert_continuation(&c.send("a LOGIN {5}\r\n"));
    assert_continuation(&c.send("alice {6}\r\n"));
    let r = c.send("secret\r\n");
    assert_tagged(&r, "a", "OK");
    assert_eq!(c.conn.user(), Some("alice"));
}

// ===== ID (RFC 2971 §3.1, §3.2) =====

// RFC 2971 §3.1: ID is valid in any state; the server answers with its own
// parameter list (or NIL) in an untagged ID response.
#[test]
fn id_returns_server_parameters_in_every_state() {
    let s = store();
    let mut c = Client::new(&s);
    let r = c.send("i1 ID (\"name\" \"test-client\" \"version\" \"1.0\")\r\n");
    assert_eq!(norm(&r), "* ID (\"name\" \"imap-rs\")\r\ni1 OK\r\n");
    c.send("l LOGIN alice secret\r\n");
    let r = c.send("i2 ID NIL\r\n");
    assert!(r.starts_with("* ID (\"name\" \"imap-rs\")\r\n"), "{r}");
    assert_tagged(&r, "i2", "OK");
}

// ===== ENABLE (RFC 5161 §3.1, RFC 6855 §3) =====

// RFC 5161 §3.1: ENABLE answers `* ENABLED` with what it enabled; RFC 6855
// §3: after ENABLE UTF8=ACCEPT mailbox names are exchanged as UTF-8.
#[test]
fn enable_utf8_accept_then_utf8_mailbox_names() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("e1 ENABLE UTF8=ACCEPT\r\n");
    assert_eq!(norm(&r), "* ENABLED UTF8=ACCEPT\r\ne1 OK\r\n");
    let r = c.send("c1 CREATE \"Entwürfe\"\r\n");
    assert_tagged(&r, "c1", "OK");
    let r = c.send("l1 LIST \"\" Entw*\r\n");
    assert_eq!(list_names(&r, "LIST"), vec!["Entwürfe"], "{r}");
    assert!(
        !r.contains("&APw-"),
        "no modified UTF-7 after UTF8=ACCEPT: {r}"
    );
}

// RFC 5161 §3.1: ENABLE is not valid before authentication.
#[test]
fn enable_before_login_is_bad() {
    let s = store();
    let mut c = Client::new(&s);
    let r = c.send("e1 ENABLE UTF8=ACCEPT\r\n");
    assert_tagged(&r, "e1", "BAD");
    assert!(!r.contains("ENABLED"), "{r}");
}

// ===== errors and limits (RFC 9051 §7.1.3) =====

// RFC 9051 §7.1.3: an unknown command is answered with BAD; the session goes
// on.
#[test]
fn unknown_command_after_login_is_bad_and_session_continues() {
    let s = store();
    let mut c = selected_inbox(&s, 1);
    let r = c.send("x1 FROBNICATE 1 2 3\r\n");
    assert_tagged(&r, "x1", "BAD");
    assert!(!r.contains("BYE"), "{r}");
    assert!(!c.conn.is_closed());
    let r = c.send("f1 FETCH 1 (UID)\r\n");
    assert!(r.contains("* 1 FETCH (UID 1)"), "{r}");
}

// ServerLimits::max_bad (20 by default, as Dovecot): the 20th BAD command
// after login ends the session with BYE (RFC 9051 §7.1.5).
#[test]
fn twenty_bad_commands_after_login_close_the_connection() {
    let s = store();
    let mut c = Client::login(&s);
    for i in 1..20 {
        let tag = format!("x{i}");
        let r = c.send(&format!("{tag} FROBNICATE\r\n"));
        assert_tagged(&r, &tag, "BAD");
        assert!(!r.contains("BYE"), "closed early at {i}: {r}");
    }
    let r = c.send("x20 FROBNICATE\r\n");
    assert_tagged(&r, "x20", "BAD");
    assert!(r.contains("* BYE "), "{r}");
    assert!(c.conn.is_closed());
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::Close));
}

// ===== timers: IDLE timeout and autologout (RFC 9051 §5.4, §6.3.13) =====

// RFC 9051 §6.3.13: a server with an inactivity timeout may log an idling
// client off at the end of it (ServerLimits::idle_timeout), with BYE (§7.1.5).
#[test]
fn idle_timeout_ends_the_session_with_bye() {
    let s = store();
    let mut cfg = config();
    cfg.limits.idle_timeout = Duration::from_secs(600);
    let mut c = Client::login_with(&s, cfg);
    c.select("INBOX");
    assert_continuation(&c.send("i1 IDLE\r\n"));
    let start = c.now;
    assert_eq!(
        c.conn.poll_timeout(),
        Some(start + Duration::from_secs(600))
    );
    c.advance(Duration::from_secs(599));
    c.conn.handle_timeout(c.now);
    assert_eq!(c.drain(), "", "not yet");
    assert!(!c.conn.is_closed());
    c.advance(Duration::from_secs(1));
    c.conn.handle_timeout(c.now);
    let r = c.drain();
    assert!(r.starts_with("* BYE "), "{r}");
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::Close));
    assert!(c.conn.is_closed());
}

// RFC 9051 §5.4: an autologout timer after authentication is at least 30
// minutes; input restarts it.
#[test]
fn autologout_after_thirty_minutes_of_inactivity() {
    let s = store();
    let mut c = Client::login(&s);
    assert_eq!(
        c.conn.poll_timeout(),
        Some(c.now + Duration::from_secs(30 * 60))
    );
    c.advance(Duration::from_secs(20 * 60));
    assert_tagged(&c.send("n1 NOOP\r\n"), "n1", "OK");
    let deadline = c.now + Duration::from_secs(30 * 60);
    assert_eq!(c.conn.poll_timeout(), Some(deadline));
    c.advance(Duration::from_secs(29 * 60 + 59));
    c.conn.handle_timeout(c.now);
    assert_eq!(c.drain(), "");
    assert!(!c.conn.is_closed());
    c.now = deadline;
    c.conn.handle_timeout(c.now);
    let r = c.drain();
    assert!(r.starts_with("* BYE "), "{r}");
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::Close));
    assert!(c.conn.is_closed());
}

// RFC 9051 §6.3.13: IDLE ends with "DONE"; anything else is a protocol error
// answered with a tagged BAD for the IDLE, after which commands work again.
#[test]
fn idle_garbage_instead_of_done_is_bad() {
    let s = store();
    let mut c = selected_inbox(&s, 1);
    assert_continuation(&c.send("i1 IDLE\r\n"));
    let r = c.send("n0 NOOP\r\n");
    assert_tagged(&r, "i1", "BAD");
    assert!(!c.conn.is_closed());
    let r = c.send("n1 NOOP\r\n");
    assert_tagged(&r, "n1", "OK");
}

// RFC 9051 §6.3.13: IDLE is valid in the authenticated state too.
#[test]
fn idle_in_authenticated_state() {
    let s = store();
    let mut c = Client::login(&s);
    assert_continuation(&c.send("i1 IDLE\r\n"));
    assert_eq!(norm(&c.send("DONE\r\n")), "i1 OK\r\n");
}

// ===== CREATE / DELETE (RFC 9051 §6.3.4, §6.3.5) =====

// RFC 9051 §6.3.5: DELETE of a missing mailbox is an error (NO); RFC 9051
// §7.1 NONEXISTENT.
#[test]
fn delete_missing_mailbox_is_no_nonexistent() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("d1 DELETE Nowhere\r\n");
    assert_tagged(&r, "d1", "NO [NONEXISTENT]");
}

// RFC 9051 §6.3.5: "It is an error to attempt to delete INBOX".
#[test]
fn delete_inbox_is_refused() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", &simple(1));
    let r = c.send("d1 DELETE INBOX\r\n");
    assert_tagged(&r, "d1", "NO");
    let r = c.send("d2 DELETE inbox\r\n");
    assert_tagged(&r, "d2", "NO");
    let r = c.send("st STATUS INBOX (MESSAGES)\r\n");
    assert_eq!(status_items(&r, "INBOX")["MESSAGES"], 1);
}

// RFC 9051 §6.3.5: a server that does not delete a name with inferiors
// SHOULD answer NO with the HASCHILDREN response code; DELETE never removes
// the inferiors.
#[test]
fn delete_mailbox_with_children_is_refused_with_haschildren() {
    let s = store();
    let mut c = Client::login(&s);
    assert_tagged(&c.send("c1 CREATE Work/2024\r\n"), "c1", "OK");
    let r = c.send("d1 DELETE Work\r\n");
    assert_tagged(&r, "d1", "NO [HASCHILDREN]");
    let r = c.send("l1 LIST \"\" Work*\r\n");
    assert_eq!(list_names(&r, "LIST"), vec!["Work", "Work/2024"], "{r}");
    // Children first, then the parent.
    assert_tagged(&c.send("d2 DELETE Work/2024\r\n"), "d2", "OK");
    assert_tagged(&c.send("d3 DELETE Work\r\n"), "d3", "OK");
    let r = c.send("l2 LIST \"\" Work*\r\n");
    assert!(list_names(&r, "LIST").is_empty(), "{r}");
}

// RFC 9051 §6.3.5: the highest UID of a deleted mailbox is preserved, so a new
// mailbox of the same name does not reuse its UIDs, unless UIDVALIDITY changes.
#[test]
fn delete_then_recreate_does_not_reuse_uids() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Tmp\r\n");
    c.append("Tmp", &simple(1));
    c.append("Tmp", &simple(2));
    let before = status_items(&c.send("s1 STATUS Tmp (UIDVALIDITY UIDNEXT)\r\n"), "Tmp");
    assert_tagged(&c.send("d1 DELETE Tmp\r\n"), "d1", "OK");
    assert_tagged(
        &c.send("s2 STATUS Tmp (MESSAGES)\r\n"),
        "s2",
        "NO [NONEXISTENT]",
    );
    c.send("c2 CREATE Tmp\r\n");
    let after = status_items(&c.send("s3 STATUS Tmp (UIDVALIDITY UIDNEXT)\r\n"), "Tmp");
    assert!(
        after["UIDVALIDITY"] != before["UIDVALIDITY"] || after["UIDNEXT"] >= before["UIDNEXT"],
        "{before:?} -> {after:?}"
    );
}

// RFC 9051 §6.3.5: DELETE removes the mailbox and its messages with a tagged
// OK; §7.1.5: BYE is only for logout, shutdown, autologout or a refused
// connection, so deleting the selected mailbox must not end the session (and
// a tagged OK must not follow a BYE).
#[test]
fn delete_selected_mailbox_keeps_the_session() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Tmp\r\n");
    c.append("Tmp", &simple(1));
    c.select("Tmp");
    let r = c.send("d1 DELETE Tmp\r\n");
    assert_tagged(&r, "d1", "OK");
    assert!(!r.contains("* BYE"), "{r}");
    assert!(!c.conn.is_closed());
    let r = c.send("n1 NOOP\r\n");
    assert_tagged(&r, "n1", "OK");
    let r = c.send("s1 STATUS Tmp (MESSAGES)\r\n");
    assert_tagged(&r, "s1", "NO [NONEXISTENT]");
}

// ===== RENAME (RFC 9051 §6.3.6) =====

// RFC 9051 §6.3.6: "If the name has inferior hierarchical names, then the
// inferior hierarchical names MUST also be renamed"; missing superiors of the
// new name SHOULD be created.
#[test]
fn rename_moves_children() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Work/2024/Q1\r\n");
    c.append("Work/2024/Q1", &simple(1));
    let r = c.send("r1 RENAME Work Old/Job\r\n");
    assert_tagged(&r, "r1", "OK");
    let r = c.send("l1 LIST \"\" *\r\n");
    let names = list_names(&r, "LIST");
    for n in ["Old", "Old/Job", "Old/Job/2024", "Old/Job/2024/Q1"] {
        assert!(names.contains(&n.to_owned()), "{n} missing: {r}");
    }
    assert!(!names.iter().any(|n| n.starts_with("Work")), "{r}");
    let r = c.send("s1 STATUS Old/Job/2024/Q1 (MESSAGES)\r\n");
    assert_eq!(status_items(&r, "Old/Job/2024/Q1")["MESSAGES"], 1);
}

// RFC 9051 §6.3.6: renaming INBOX moves all its messages to the new mailbox
// and leaves INBOX empty; INBOX's inferiors are unaffected.
#[test]
fn rename_inbox_moves_messages_and_leaves_inbox_empty() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", &simple(1));
    c.append("INBOX", &simple(2));
    c.send("c1 CREATE INBOX/Sub\r\n");
    let r = c.send("r1 RENAME INBOX Old-Mail\r\n");
    assert_tagged(&r, "r1", "OK");
    let r = c.send("s1 STATUS INBOX (MESSAGES)\r\ns2 STATUS Old-Mail (MESSAGES)\r\n");
    assert_eq!(status_items(&r, "INBOX")["MESSAGES"], 0, "{r}");
    assert_eq!(status_items(&r, "Old-Mail")["MESSAGES"], 2, "{r}");
    let r = c.send("l1 LIST \"\" *\r\n");
    let names = list_names(&r, "LIST");
    for n in ["INBOX", "INBOX/Sub", "Old-Mail"] {
        assert!(names.contains(&n.to_owned()), "{n} missing: {r}");
    }
    let r = c.send("f0 SELECT Old-Mail\r\nf1 FETCH 1:* (BODY.PEEK[TEXT])\r\n");
    assert!(r.contains("body 1") && r.contains("body 2"), "{r}");
}

// RFC 9051 §6.3.6 + §7.5.1: when INBOX is selected, renaming it removes its
// messages, which the session reports with EXPUNGE responses.
#[test]
fn rename_selected_inbox_reports_expunges() {
    let s = store();
    let mut c = selected_inbox(&s, 2);
    let r = c.send("r1 RENAME INBOX Old-Mail\r\n");
    assert_tagged(&r, "r1", "OK");
    let mut view = vec![1, 2];
    apply_expunges(&mut view, &r);
    assert!(view.is_empty(), "{r}");
    let r = c.send("f1 SEARCH ALL\r\n");
    assert!(search_numbers(&r).is_empty(), "{r}");
}

// RFC 9051 §6.3.6: RENAME returns OK once the mailbox is renamed; renaming the
// selected mailbox is not an error, and §7.1.5 leaves no room for a BYE here.
#[test]
fn rename_selected_mailbox_keeps_the_session() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Work\r\n");
    c.append("Work", &simple(1));
    c.select("Work");
    let r = c.send("r1 RENAME Work Play\r\n");
    assert_tagged(&r, "r1", "OK");
    assert!(!r.contains("* BYE"), "{r}");
    assert!(!c.conn.is_closed());
    let r = c.send("n1 NOOP\r\n");
    assert_tagged(&r, "n1", "OK");
}

// RFC 9051 §6.3.6: renaming a missing mailbox or to an existing name is an
// error (NO); RFC 9051 §7.1 NONEXISTENT / ALREADYEXISTS.
#[test]
fn rename_errors() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE A\r\nc2 CREATE B\r\n");
    assert_tagged(&c.send("r1 RENAME Nowhere X\r\n"), "r1", "NO [NONEXISTENT]");
    assert_tagged(&c.send("r2 RENAME A B\r\n"), "r2", "NO [ALREADYEXISTS]");
    assert_tagged(&c.send("r3 RENAME A INBOX\r\n"), "r3", "NO");
    let r = c.send("l1 LIST \"\" %\r\n");
    let names = list_names(&r, "LIST");
    assert!(names.contains(&"A".to_owned()) && names.contains(&"B".to_owned()));
}

// ===== SUBSCRIBE / UNSUBSCRIBE / LSUB / LIST (SUBSCRIBED) =====

// RFC 9051 §6.3.7, §6.3.8: SUBSCRIBE and UNSUBSCRIBE return OK also when
// already (un)subscribed; RFC 3501 §6.3.9: LSUB lists the subscribed names.
#[test]
fn subscribe_unsubscribe_and_lsub() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Work\r\n");
    assert_tagged(&c.send("s1 SUBSCRIBE Work\r\n"), "s1", "OK");
    assert_tagged(&c.send("s2 SUBSCRIBE Work\r\n"), "s2", "OK");
    assert_tagged(&c.send("s3 SUBSCRIBE INBOX\r\n"), "s3", "OK");
    let r = c.send("l1 LSUB \"\" *\r\n");
    assert_eq!(list_names(&r, "LSUB"), vec!["INBOX", "Work"], "{r}");
    assert_tagged(&r, "l1", "OK");
    assert_tagged(&c.send("u1 UNSUBSCRIBE Work\r\n"), "u1", "OK");
    assert_tagged(&c.send("u2 UNSUBSCRIBE Work\r\n"), "u2", "OK");
    let r = c.send("l2 LSUB \"\" *\r\n");
    assert_eq!(list_names(&r, "LSUB"), vec!["INBOX"], "{r}");
}

// RFC 9051 §6.3.7: the server SHOULD NOT remove a name from the subscription
// list when the mailbox goes away; RFC 3501 §6.3.9: LSUB returns names from
// the subscription list (which may name mailboxes that do not exist).
#[test]
fn lsub_lists_subscribed_names_without_mailbox() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Gone\r\n");
    c.send("s1 SUBSCRIBE Gone\r\ns2 SUBSCRIBE Never\r\n");
    assert_tagged(&c.send("d1 DELETE Gone\r\n"), "d1", "OK");
    let r = c.send("l1 LSUB \"\" *\r\n");
    let names = list_names(&r, "LSUB");
    assert!(names.contains(&"Gone".to_owned()), "{r}");
    assert!(names.contains(&"Never".to_owned()), "{r}");
}

// RFC 3501 §6.3.9: if "foo/bar" is subscribed but "foo" is not, `LSUB "" %`
// must return foo, flagged \Noselect.
#[test]
fn lsub_percent_returns_unsubscribed_parent_as_noselect() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Foo/Bar\r\n");
    c.send("s1 SUBSCRIBE Foo/Bar\r\n");
    let r = c.send("l1 LSUB \"\" %\r\n");
    let attrs = list_attrs(&r, "LSUB", "Foo").unwrap_or_else(|| panic!("no Foo: {r}"));
    assert!(attrs.contains("\\Noselect"), "{r}");
    assert!(
        !list_names(&r, "LSUB").contains(&"Foo/Bar".to_owned()),
        "{r}"
    );
}

// RFC 9051 §6.3.9.1: LIST (SUBSCRIBED) lists subscribed names, each with the
// \Subscribed attribute, and only those.
#[test]
fn list_subscribed_selection_option() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Work\r\nc2 CREATE Play\r\n");
    c.send("s1 SUBSCRIBE Work\r\ns2 SUBSCRIBE INBOX\r\n");
    let r = c.send("l1 LIST (SUBSCRIBED) \"\" *\r\n");
    assert_eq!(list_names(&r, "LIST"), vec!["INBOX", "Work"], "{r}");
    for (attrs, name) in list_rows(&r, "LIST") {
        assert!(attrs.contains("\\Subscribed"), "{name}: {r}");
    }
    assert_tagged(&r, "l1", "OK");
}

// RFC 9051 §6.3.9.1: with SUBSCRIBED "the list MUST include exactly those
// mailbox names that match the canonical list pattern and are subscribed to",
// including names that don't exist, which §6.3.9.3 / §6.3.9.8 example 2 show
// as `(\Subscribed \NonExistent)`.
#[test]
fn list_subscribed_includes_nonexistent_names() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("s1 SUBSCRIBE Fruit/Peach\r\n");
    let r = c.send("l1 LIST (SUBSCRIBED) \"\" *\r\n");
    let attrs = list_attrs(&r, "LIST", "Fruit/Peach").unwrap_or_else(|| panic!("missing: {r}"));
    assert!(
        attrs.contains("\\Subscribed") && attrs.contains("\\NonExistent"),
        "{r}"
    );
}

// RFC 9051 §6.3.9.2: RETURN (SUBSCRIBED) reports the subscription state of
// every matching mailbox; §6.3.9.8 example 6.
#[test]
fn list_return_subscribed() {
    let s = store();
    let mut c = Client::login(&s);
    c.send("c1 CREATE Work\r\nc2 CREATE Play\r\n");
    c.send("s1 SUBSCRIBE Work\r\n");
    let r = c.send("l1 LIST \"\" * RETURN (SUBSCRIBED)\r\n");
    let names = list_names(&r, "LIST");
    assert!(names.contains(&"Play".to_owned()), "{r}");
    assert!(list_attrs(&r, "LIST", "Work")
        .unwrap()
        .contains("\\Subscribed"));
    assert!(!list_attrs(&r, "LIST", "Play")
        .unwrap()
        .contains("\\Subscribed"));
    assert!(!list_attrs(&r, "LIST", "INBOX")
        .unwrap()
        .contains("\\Subscribed"));
}

// RFC 9051 §6.3.9.5: RETURN (CHILDREN) yields \HasChildren or \HasNoChildren
// (never both) on every mailbox.
#[test]
fn list_return_children() {
    let s = Arc::new(MemStore::empty_users());
    let mut c = Client::login(&s);
    c.send("c1 CREATE Foo/Bar\r\nc2 CREATE Moo\r\n");
    let r = c.send("l1 LIST \"\" % RETURN (CHILDREN)\r\n");
    assert_eq!(list_names(&r, "LIST"), vec!["Foo", "INBOX", "Moo"], "{r}");
    let foo = list_attrs(&r, "LIST", "Foo").unwrap();
    assert!(
        foo.contains("\\HasChildren") && !foo.contains("\\HasNoChildren"),
        "{r}"
    );
    let moo = list_attrs(&r, "LIST", "Moo").unwrap();
    assert!(
        moo.contains("\\HasNoChildren") && !moo.contains("\\HasChildren"),
        "{r}"
    );
    assert_tagged(&r, "l1", "OK");
}

// ===== LIST patterns (RFC 9051 §6.3.9) =====

fn list_fixture() -> Client {
    let s = Arc::new(MemStore::empty_users());
    let mut c = Client::login(&s);
    let r = c.send("c1 CREATE Work/2024/Q1\r\nc2 CREATE Play\r\n");
    assert_tagged(&r, "c2", "OK");
    c
}

// RFC 9051 §6.3.9: "%" does not match the hierarchy delimiter.
#[test]
fn list_percent_matches_one_level() {
    let mut c = list_fixture();
    let r = c.send("l1 LIST \"\" %\r\n");
    assert_eq!(list_names(&r, "LIST"), vec!["INBOX", "Play", "Work"], "{r}");
    let r = c.send("l2 LIST \"\" Work/%\r\n");
    assert_eq!(list_names(&r, "LIST"), vec!["Work/2024"], "{r}");
}

// RFC 9051 §6.3.9: "*" matches zero or more characters, delimiters included.
#[test]
fn list_star_matches_every_level() {
    let mut c = list_fixture();
    let r = c.send("l1 LIST \"\" *\r\n");
    assert_eq!(
        list_names(&r, "LIST"),
        vec!["INBOX", "Play", "Work", "Work/2024", "Work/2024/Q1"],
        "{r}"
    );
    let r = c.send("l2 LIST \"\" Work*\r\n");
    assert_eq!(
        list_names(&r, "LIST"),
        vec!["Work", "Work/2024", "Work/2024/Q1"],
        "{r}"
    );
    assert_eq!(list_attrs(&r, "LIST", "Work").unwrap(), "\\HasChildren");
    assert_eq!(
        list_attrs(&r, "LIST", "Work/2024/Q1").unwrap(),
        "\\HasNoChildren"
    );
}

// RFC 9051 §6.3.9: without break-out characters the canonical pattern is the
// reference followed by the mailbox name, and the reference prefixes the
// returned names (Table 1: `archive/` + `%` = `archive/%`).
#[test]
fn list_with_reference_name() {
    let mut c = list_fixture();
    let r = c.send("l1 LIST Work/ %\r\n");
    assert_eq!(list_names(&r, "LIST"), vec!["Work/2024"], "{r}");
    let r = c.send("l2 LIST Work/ *\r\n");
    assert_eq!(
        list_names(&r, "LIST"),
        vec!["Work/2024", "Work/2024/Q1"],
        "{r}"
    );
    assert_tagged(&r, "l2", "OK");
}

// RFC 9051 §6.3.9 (extended syntax): several patterns in parentheses; a
// mailbox matching any of them is listed once.
#[test]
fn list_several_patterns() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("l1 LIST \"\" (INBOX Sent)\r\n");
    assert_eq!(list_names(&r, "LIST"), vec!["INBOX", "Sent"], "{r}");
    let r = c.send("l2 LIST \"\" (INBOX I* *)\r\n");
    let names = list_names(&r, "LIST");
    assert_eq!(
        names.iter().filter(|n| *n == "INBOX").count(),
        1,
        "one response per mailbox: {r}"
    );
}

// RFC 9051 §6.3.9: "A server MUST respond to options it does not recognize
// with a BAD response."
#[test]
fn list_unknown_selection_option_is_bad() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("l1 LIST (FOOBAR) \"\" *\r\n");
    assert_tagged(&r, "l1", "BAD");
}

// RFC 9051 §6.3.9.1: RECURSIVEMATCH must not be the only selection option;
// "The server MUST return a BAD tagged response in such case."
#[test]
fn list_recursivematch_alone_is_bad() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("l1 LIST (RECURSIVEMATCH) \"\" *\r\n");
    assert_tagged(&r, "l1", "BAD");
}

// ===== NAMESPACE (RFC 9051 §6.3.10) =====

// RFC 9051 §6.3.10: one personal namespace with an empty prefix, no other
// users' or shared namespaces (NIL).
#[test]
fn namespace_has_one_personal_namespace() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("n1 NAMESPACE\r\n");
    assert_eq!(norm(&r), "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nn1 OK\r\n");
}

// ===== STATUS (RFC 9051 §6.3.11; RFC 3501 §6.3.10 RECENT; RFC 7889 §3.1) =====

// RFC 9051 §6.3.11: MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN, DELETED, SIZE;
// RFC 3501 §6.3.10: RECENT; RFC 7889 §3.1: APPENDLIMIT.
#[test]
fn status_every_attribute() {
    let s = store();
    let mut cfg = config();
    cfg.limits.max_literal = 1_000_000;
    let mut c = Client::login_with(&s, cfg);
    c.send("c1 CREATE Box\r\n");
    let m1 = simple(1);
    let m2 = simple(22);
    let m3 = simple(333);
    c.append_with("Box", "(\\Seen)", "01-Jan-2024 00:00:00 +0000", &m1);
    c.append_with("Box", "(\\Deleted)", "01-Jan-2024 00:00:00 +0000", &m2);
    c.append("Box", &m3);
    let validity = {
        let r = c.send("e1 EXAMINE Box\r\n");
        let i = r.find("[UIDVALIDITY ").unwrap() + "[UIDVALIDITY ".len();
        let v: u64 = r[i..].split(']').next().unwrap().parse().unwrap();
        c.send("u1 UNSELECT\r\n");
        v
    };
    let r = c.send(
        "s1 STATUS Box (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE APPENDLIMIT)\r\n",
    );
    assert_tagged(&r, "s1", "OK");
    let st = status_items(&r, "Box");
    assert_eq!(st["MESSAGES"], 3, "{r}");
    // EXAMINE does not claim \Recent: no session has (RFC 3501 §2.3.2).
    assert_eq!(st["RECENT"], 3, "{r}");
    assert_eq!(st["UIDNEXT"], 4, "{r}");
    assert_eq!(st["UIDVALIDITY"], validity, "{r}");
    assert_eq!(st["UNSEEN"], 2, "{r}");
    assert_eq!(st["DELETED"], 1, "{r}");
    assert_eq!(st["SIZE"], (m1.len() + m2.len() + m3.len()) as u64, "{r}");
    assert_eq!(st["APPENDLIMIT"], 1_000_000, "{r}");
    assert_eq!(st.len(), 8, "{r}");
}

// RFC 9051 §6.3.11: "servers MUST be able to execute the STATUS command on
// the selected mailbox"; STATUS does not change the selection.
#[test]
fn status_on_the_selected_mailbox() {
    let s = store();
    let mut c = selected_inbox(&s, 2);
    c.send("t1 STORE 1 +FLAGS.SILENT (\\Seen \\Deleted)\r\n");
    let r = c.send("s1 STATUS INBOX (MESSAGES UNSEEN DELETED UIDNEXT)\r\n");
    assert_tagged(&r, "s1", "OK");
    let st = status_items(&r, "INBOX");
    assert_eq!(
        (st["MESSAGES"], st["UNSEEN"], st["DELETED"], st["UIDNEXT"]),
        (2, 1, 1, 3),
        "{r}"
    );
    let r = c.send("f1 FETCH 2 (UID)\r\n");
    assert!(r.contains("* 2 FETCH (UID 2)"), "still selected: {r}");
}

// RFC 9051 §6.3.11 + §7.1: STATUS of a missing mailbox is NO [NONEXISTENT].
#[test]
fn status_of_missing_mailbox_is_no() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("s1 STATUS Nowhere (MESSAGES)\r\n");
    assert_tagged(&r, "s1", "NO [NONEXISTENT]");
    assert!(!r.contains("* STATUS"), "{r}");
}

// ===== SELECT / EXAMINE / CLOSE / UNSELECT (RFC 9051 §6.3.2, §6.3.3, §6.4.1, §6.4.2) =====

// RFC 9051 §6.3.2: selecting while a mailbox is selected first closes it with
// an untagged `OK [CLOSED]`.
#[test]
fn select_while_selected_sends_closed_first() {
    let s = store();
    let mut c = selected_inbox(&s, 1);
    let r = c.send("s2 SELECT Trash\r\n");
    let closed = r.find("* OK [CLOSED]").unwrap_or_else(|| panic!("{r}"));
    let exists = r.find("* 0 EXISTS").unwrap_or_else(|| panic!("{r}"));
    assert!(closed < exists, "{r}");
    assert_tagged(&r, "s2", "OK [READ-WRITE]");
}

// RFC 9051 §6.3.2: "if a mailbox is selected and a SELECT command that fails
// is attempted, no mailbox is selected".
#[test]
fn failed_select_leaves_no_mailbox_selected() {
    let s = store();
    let mut c = selected_inbox(&s, 1);
    let r = c.send("s2 SELECT Nowhere\r\n");
    assert!(r.contains("* OK [CLOSED]"), "{r}");
    assert_tagged(&r, "s2", "NO [NONEXISTENT]");
    let r = c.send("f1 FETCH 1 (UID)\r\n");
    assert_tagged(&r, "f1", "BAD");
}

// RFC 9051 §6.3.3: EXAMINE selects read-only: `OK [READ-ONLY]`, no permanent
// flags, and "No changes to the permanent state of the mailbox, including
// per-user state, are permitted": STORE, EXPUNGE, UID EXPUNGE and MOVE fail,
// and BODY[] does not set \Seen (§6.4.5).
#[test]
fn examine_is_read_only() {
    let s = store();
    let mut a = selected_inbox(&s, 2);
    a.send("t0 STORE 2 +FLAGS.SILENT (\\Deleted)\r\nu0 UNSELECT\r\n");
    let r = a.send("e1 EXAMINE INBOX\r\n");
    assert!(r.contains("* OK [PERMANENTFLAGS ()]"), "{r}");
    assert!(r.contains("* 2 EXISTS"), "{r}");
    assert_tagged(&r, "e1", "OK [READ-ONLY]");
    let r = a.send("f1 FETCH 1 BODY[]\r\n");
    assert!(r.contains("* 1 FETCH (BODY[] {"), "{r}");
    assert!(!r.contains("\\Seen"), "{r}");
    let r = a.send("f2 FETCH 1 (FLAGS)\r\n");
    assert!(r.contains("* 1 FETCH (FLAGS ())"), "{r}");
    assert_tagged(&a.send("t1 STORE 1 +FLAGS (\\Seen)\r\n"), "t1", "NO");
    assert_tagged(&a.send("x1 EXPUNGE\r\n"), "x1", "NO");
    assert_tagged(&a.send("x2 UID EXPUNGE 2\r\n"), "x2", "NO");
    assert_tagged(&a.send("m1 MOVE 2 Trash\r\n"), "m1", "NO");
    // Copying out of a read-only mailbox is fine.
    assert_tagged(&a.send("c1 COPY 1 Trash\r\n"), "c1", "OK");
    let mut b = Client::login(&s);
    let r = b.send("s1 STATUS INBOX (MESSAGES UNSEEN DELETED)\r\n");
    let st = status_items(&r, "INBOX");
    assert_eq!(
        (st["MESSAGES"], st["UNSEEN"], st["DELETED"]),
        (2, 2, 1),
        "{r}"
    );
}

// RFC 9051 §6.4.1: CLOSE removes the \Deleted messages and returns to the
// authenticated state; "No untagged EXPUNGE responses are sent."
#[test]
fn close_expunges_silently() {
    let s = store();
    let mut c = selected_inbox(&s, 3);
    c.send("t1 STORE 1,3 +FLAGS.SILENT (\\Deleted)\r\n");
    let r = c.send("c1 CLOSE\r\n");
    assert_eq!(norm(&r), "c1 OK\r\n");
    let r = c.send("s1 STATUS INBOX (MESSAGES)\r\n");
    assert_eq!(status_items(&r, "INBOX")["MESSAGES"], 1, "{r}");
    assert_tagged(&c.send("f1 FETCH 1 (UID)\r\n"), "f1", "BAD");
}

// RFC 9051 §6.4.1: "No messages are removed, and no error is given, if the
// mailbox is selected by an EXAMINE command".
#[test]
fn close_after_examine_does_not_expunge() {
    let s = store();
    let mut c = selected_inbox(&s, 2);
    c.send("t1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    c.send("e1 EXAMINE INBOX\r\n");
    let r = c.send("c1 CLOSE\r\n");
    assert_eq!(norm(&r), "c1 OK\r\n");
    let r = c.send("s1 STATUS INBOX (MESSAGES DELETED)\r\n");
    let st = status_items(&r, "INBOX");
    assert_eq!((st["MESSAGES"], st["DELETED"]), (2, 1), "{r}");
}

// RFC 9051 §6.4.2: UNSELECT is CLOSE without removing messages.
#[test]
fn unselect_does_not_expunge() {
    let s = store();
    let mut c = selected_inbox(&s, 2);
    c.send("t1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    let r = c.send("u1 UNSELECT\r\n");
    assert_eq!(norm(&r), "u1 OK\r\n");
    let r = c.send("s1 STATUS INBOX (MESSAGES DELETED)\r\n");
    let st = status_items(&r, "INBOX");
    assert_eq!((st["MESSAGES"], st["DELETED"]), (2, 1), "{r}");
    assert_tagged(&c.send("f1 FETCH 1 (UID)\r\n"), "f1", "BAD");
}

// ===== EXPUNGE / UID EXPUNGE (RFC 9051 §6.4.3, §7.5.1; RFC 4315 §2.1) =====

// RFC 9051 §6.4.3: an untagged EXPUNGE for each removed message before the
// tagged OK; §7.5.1: each one renumbers the messages after it.
#[test]
fn expunge_reports_each_removed_message() {
    let s = store();
    let mut c = selected_inbox(&s, 4);
    c.send("t1 STORE 2:3 +FLAGS.SILENT (\\Deleted)\r\n");
    let r = c.send("x1 EXPUNGE\r\n");
    assert_eq!(expunges(&r).len(), 2, "{r}");
    let mut view = vec![1, 2, 3, 4];
    apply_expunges(&mut view, &r);
    assert_eq!(view, vec![1, 4], "{r}");
    assert_tagged(&r, "x1", "OK");
    let r = c.send("f1 FETCH 1:* (UID)\r\n");
    assert!(
        r.contains("* 1 FETCH (UID 1)") && r.contains("* 2 FETCH (UID 4)"),
        "{r}"
    );
}

// RFC 4315 §2.1: UID EXPUNGE removes only the \Deleted messages whose UIDs
// are in the set.
#[test]
fn uid_expunge_removes_only_the_given_uids() {
    let s = store();
    let mut c = selected_inbox(&s, 4);
    c.send("t1 STORE 1:3 +FLAGS.SILENT (\\Deleted)\r\n");
    let r = c.send("x1 UID EXPUNGE 2:4\r\n");
    let mut view = vec![1, 2, 3, 4];
    apply_expunges(&mut view, &r);
    assert_eq!(view, vec![1, 4], "{r}");
    assert_tagged(&r, "x1", "OK");
    let r = c.send("f1 FETCH 1 (UID FLAGS)\r\n");
    assert!(r.contains("* 1 FETCH (UID 1 FLAGS (\\Deleted))"), "{r}");
}

// ===== COPY / MOVE (RFC 9051 §6.4.7, §6.4.8; RFC 4315 §3 COPYUID) =====

fn uidvalidity(c: &mut Client, mailbox: &str) -> u64 {
    let r = c.send(&format!("uv STATUS {mailbox} (UIDVALIDITY)\r\n"));
    status_items(&r, mailbox)["UIDVALIDITY"]
}

// RFC 9051 §6.4.7: COPY of a sequence range ("*" is the last message) keeps
// flags and internal dates; COPYUID pairs source and destination UIDs.
#[test]
fn copy_sequence_range_with_star() {
    let s = store();
    let mut c = Client::login(&s);
    for i in 1..=4 {
        c.append_with(
            "INBOX",
            "(\\Flagged)",
            "05-Jun-2020 10:20:30 +0200",
            &simple(i),
        );
    }
    c.select("INBOX");
    let v = uidvalidity(&mut c, "Trash");
    let r = c.send("c1 COPY 2:* Trash\r\n");
    assert_tagged(&r, "c1", &format!("OK [COPYUID {v} 2:4 1:3]"));
    let r = c.send("c2 COPY *:3 Trash\r\n");
    assert_tagged(&r, "c2", &format!("OK [COPYUID {v} 3:4 4:5]"));
    take_recent(&s, "Trash");
    let r = c.send("e1 EXAMINE Trash\r\nf1 FETCH 1:* (FLAGS INTERNALDATE)\r\n");
    assert!(r.contains("* 5 EXISTS"), "{r}");
    // date-day-fixed (RFC 9051 §9): the day is padded with a space.
    assert_eq!(
        r.matches("FLAGS (\\Flagged) INTERNALDATE \" 5-Jun-2020 10:20:30 +0200\"")
            .count(),
        5,
        "{r}"
    );
}

// RFC 6851 §4.3 / RFC 9051 §6.4.8: MOVE sends the COPYUID in an untagged OK
// before the EXPUNGE responses, then the tagged OK (IMAP4rev1 session).
#[test]
fn move_in_rev1_session() {
    let s = store();
    let mut c = selected_inbox(&s, 3);
    let v = uidvalidity(&mut c, "Trash");
    let r = c.send("m1 MOVE 2 Trash\r\n");
    let l = lines(&r);
    assert_eq!(l.len(), 3, "{r}");
    assert!(l[0].starts_with(&format!("* OK [COPYUID {v} 2 1]")), "{r}");
    assert_eq!(l[1], "* 2 EXPUNGE");
    assert!(l[2].starts_with("m1 OK"), "{r}");
    let r = c.send("m2 UID MOVE 3 Trash\r\n");
    let l = lines(&r);
    assert!(l[0].starts_with(&format!("* OK [COPYUID {v} 3 2]")), "{r}");
    assert_eq!(l[1], "* 2 EXPUNGE");
    assert_tagged(&r, "m2", "OK");
}

// RFC 9051 §6.4.8: the same in an IMAP4rev2 session.
#[test]
fn move_in_rev2_session() {
    let s = store();
    let mut c = Client::login_rev2(&s);
    for i in 1..=3 {
        c.append("INBOX", &simple(i));
    }
    c.select("INBOX");
    let v = uidvalidity(&mut c, "Trash");
    let r = c.send("m1 MOVE 1:2 Trash\r\n");
    let l = lines(&r);
    assert!(
        l[0].starts_with(&format!("* OK [COPYUID {v} 1:2 1:2]")),
        "{r}"
    );
    let mut view = vec![1, 2, 3];
    apply_expunges(&mut view, &r);
    assert_eq!(view, vec![3], "{r}");
    assert!(l.last().unwrap().starts_with("m1 OK"), "{r}");
    let r = c.send("m2 MOVE 1 Nowhere\r\n");
    assert_tagged(&r, "m2", "NO [TRYCREATE]");
    assert!(expunges(&r).is_empty(), "{r}");
}

// ===== UID ranges and sequence numbers (RFC 9051 §6.4.9, §9) =====

// RFC 9051 §6.4.9: UID ranges are legal up to 4294967295.
#[test]
fn uid_fetch_whole_uid_range() {
    let s = store();
    let mut c = selected_inbox(&s, 3);
    let r = c.send("f1 UID FETCH 1:4294967295 (FLAGS)\r\n");
    for u in 1..=3 {
        assert!(
            r.contains(&format!("* {u} FETCH (UID {u} FLAGS ())")),
            "{r}"
        );
    }
    assert_tagged(&r, "f1", "OK");
}

// RFC 9051 §6.4.9: "a UID range of 559:* always includes the UID of the last
// message in the mailbox, even if 559 is higher than any assigned UID value".
#[test]
fn uid_range_with_star_includes_the_last_message() {
    let s = store();
    let mut c = selected_inbox(&s, 3);
    let r = c.send("f1 UID FETCH 10:* (FLAGS)\r\n");
    assert_eq!(
        fetch_lines(&r, 3),
        vec!["* 3 FETCH (UID 3 FLAGS ())"],
        "{r}"
    );
    assert_eq!(r.matches(" FETCH (").count(), 1, "{r}");
}

// RFC 9051 §9 (seq-number): "The server should respond with a tagged BAD
// response to a command that uses a message sequence number greater than the
// number of messages in the selected mailbox. This includes "*" if the
// selected mailbox is empty."
#[test]
fn fetch_sequence_number_beyond_exists_is_bad() {
    let s = store();
    let mut c = selected_inbox(&s, 3);
    assert_tagged(&c.send("f1 FETCH 5 (UID)\r\n"), "f1", "BAD");
    c.select("Trash");
    assert_tagged(&c.send("f2 FETCH 1:* (UID)\r\n"), "f2", "BAD");
}

// ===== FETCH (RFC 9051 §6.4.5, §7.5.2; RFC 3516 BINARY) =====

// RFC 9051 §6.4.5: ALL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE),
// FAST = (FLAGS INTERNALDATE RFC822.SIZE), FULL = ALL + BODY.
#[test]
fn fetch_macros_all_fast_full() {
    let s = store();
    let mut c = Client::login(&s);
    c.append_with("INBOX", "(\\Flagged)", "17-Jul-1996 02:44:25 -0700", MSG);
    take_recent(&s, "INBOX");
    c.select("INBOX");
    let common = [
        "FLAGS (\\Flagged)".to_owned(),
        "INTERNALDATE \"17-Jul-1996 02:44:25 -0700\"".to_owned(),
        format!("RFC822.SIZE {}", MSG.len()),
    ];
    let r = c.send("f1 FETCH 1 FAST\r\n");
    let line = fetch_lines(&r, 1)[0];
    for item in &common {
        assert!(line.contains(item.as_str()), "{item}: {r}");
    }
    assert!(!line.contains("ENVELOPE") && !line.contains("BODY"), "{r}");
    let r = c.send("f2 FETCH 1 ALL\r\n");
    let line = fetch_lines(&r, 1)[0];
    for item in &common {
        assert!(line.contains(item.as_str()), "{item}: {r}");
    }
    assert!(
        line.contains("ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700\" \"Hello there\""),
        "{r}"
    );
    assert!(!line.contains("BODY"), "{r}");
    let r = c.send("f3 FETCH 1 FULL\r\n");
    let line = fetch_lines(&r, 1)[0];
    for item in &common {
        assert!(line.contains(item.as_str()), "{item}: {r}");
    }
    assert!(
        line.contains("ENVELOPE (") && line.contains(" BODY ("),
        "{r}"
    );
    assert!(!line.contains("BODYSTRUCTURE"), "{r}");
    // None of the macros sets \Seen.
    let r = c.send("f4 FETCH 1 (FLAGS)\r\n");
    assert!(r.contains("* 1 FETCH (FLAGS (\\Flagged))"), "{r}");
}

// RFC 9051 §7.5.2 BODYSTRUCTURE: a multipart lists its parts, then the
// subtype and (extension data) its parameters; a part's size is its body in
// octets, the CRLF before the boundary excluded (RFC 2046 §5.1.1); the
// encoding defaults to 7BIT.
#[test]
fn fetch_bodystructure_of_a_multipart() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", MULTIPART);
    c.select("INBOX");
    let r = c.send("f1 FETCH 1 (BODYSTRUCTURE)\r\n").to_uppercase();
    assert!(
        r.contains("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"BASE64\" 20 "),
        "{r}"
    );
    assert!(
        r.contains(")(\"TEXT\" \"HTML\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 9 "),
        "{r}"
    );
    assert!(r.contains(") \"MIXED\" (\"BOUNDARY\" \"XYZ\")"), "{r}");
    assert_tagged(&r, "F1", "OK");
}

// RFC 3516 §4.2 / RFC 9051 §6.4.5: BINARY[1] returns the part with its
// content-transfer-encoding removed; BINARY.SIZE[1] its decoded size;
// BINARY.PEEK does not set \Seen, BINARY does.
#[test]
fn fetch_binary_of_a_base64_part() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", MULTIPART);
    take_recent(&s, "INBOX");
    c.select("INBOX");
    let r = c.send("f1 FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n");
    assert!(r.contains("BINARY[1] {13}\r\nHello, world!"), "{r}");
    assert!(r.contains("BINARY.SIZE[1] 13"), "{r}");
    assert!(!r.contains("\\Seen"), "{r}");
    let r = c.send("f2 FETCH 1 (BINARY[1]<7.5>)\r\n");
    assert!(r.contains("BINARY[1]<7> {5}\r\nworld"), "{r}");
    assert!(r.contains("FLAGS (\\Seen)"), "{r}");
    assert_tagged(&r, "f2", "OK");
}

// RFC 9051 §6.4.5: "MIME" is the MIME header of the part, blank line
// included ("the blank line is included in all header fetches").
#[test]
fn fetch_mime_header_of_a_part() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", MULTIPART);
    c.select("INBOX");
    let want =
        "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    let r = c.send("f1 FETCH 1 (BODY.PEEK[1.MIME])\r\n");
    assert!(
        r.contains(&format!("BODY[1.MIME] {{{}}}\r\n{want}", want.len())),
        "{r}"
    );
    let r = c.send("f2 FETCH 1 (BODY.PEEK[1])\r\n");
    assert!(r.contains("BODY[1] {20}\r\nSGVsbG8sIHdvcmxkIQ=="), "{r}");
}

// RFC 9051 §6.4.5: HEADER.FIELDS returns only the named fields, with the
// delimiting blank line.
#[test]
fn fetch_header_fields_subject() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", MSG);
    c.select("INBOX");
    let r = c.send("f1 FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n");
    assert!(
        r.contains(
            "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {24}\r\nSubject: Hello there\r\n\r\n)"
        ),
        "{r}"
    );
    let r = c.send("f2 FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (FROM TO DATE MESSAGE-ID)])\r\n");
    assert!(r.contains("{24}\r\nSubject: Hello there\r\n\r\n)"), "{r}");
}

// RFC 9051 §6.4.5: a partial fetch `<origin.count>` returns that many octets
// from the origin, and the response names the origin; past the end it is an
// empty string.
#[test]
fn fetch_partial_of_a_section() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", MSG);
    c.append("INBOX", MULTIPART);
    c.select("INBOX");
    let r = c.send("f1 FETCH 1 (BODY.PEEK[TEXT]<0.10>)\r\n");
    assert!(
        r.contains("* 1 FETCH (BODY[TEXT]<0> {10}\r\nHi Bob,\r\nt)"),
        "{r}"
    );
    let r = c.send("f2 FETCH 2 (BODY.PEEK[1]<4.8>)\r\n");
    assert!(r.contains("BODY[1]<4> {8}\r\nbG8sIHdv)"), "{r}");
    let r = c.send("f3 FETCH 1 (BODY.PEEK[TEXT]<1000.10>)\r\n");
    assert!(
        r.contains("BODY[TEXT]<1000> \"\")") || r.contains("BODY[TEXT]<1000> {0}\r\n)"),
        "{r}"
    );
    assert!(!r.contains("\\Seen"), "{r}");
}

// RFC 9051 §6.4.5 (and RFC 3501 §6.4.5): RFC822 = BODY[], RFC822.HEADER =
// BODY.PEEK[HEADER], RFC822.TEXT = BODY[TEXT]; all but RFC822.HEADER set
// \Seen.
#[test]
fn fetch_rfc822_items() {
    let s = store();
    let mut c = Client::login(&s);
    for _ in 0..3 {
        c.append("INBOX", MSG);
    }
    take_recent(&s, "INBOX");
    c.select("INBOX");
    let (header, text) = MSG.split_at(MSG.find("\r\n\r\n").unwrap() + 4);
    let r = c.send("f1 FETCH 1 RFC822.HEADER\r\n");
    assert!(
        r.contains(&format!(
            "* 1 FETCH (RFC822.HEADER {{{}}}\r\n{header})",
            header.len()
        )),
        "{r}"
    );
    assert!(!r.contains("\\Seen"), "{r}");
    let r = c.send("f2 FETCH 2 RFC822.TEXT\r\n");
    assert!(
        r.contains(&format!("RFC822.TEXT {{{}}}\r\n{text}", text.len())),
        "{r}"
    );
    assert!(r.contains("FLAGS (\\Seen)"), "{r}");
    let r = c.send("f3 FETCH 3 RFC822\r\n");
    assert!(
        r.contains(&format!("RFC822 {{{}}}\r\n{MSG}", MSG.len())),
        "{r}"
    );
    assert!(r.contains("FLAGS (\\Seen)"), "{r}");
    let r = c.send("f4 FETCH 1:3 (FLAGS)\r\n");
    assert!(r.contains("* 1 FETCH (FLAGS ())"), "{r}");
}

// ===== STORE (RFC 9051 §6.4.6) =====

fn flagged_inbox(s: &Arc<MemStore>) -> Client {
    let mut c = Client::login(s);
    c.append_with(
        "INBOX",
        "(\\Seen \\Flagged)",
        "01-Jan-2024 00:00:00 +0000",
        MSG,
    );
    c.append("INBOX", MSG);
    take_recent(s, "INBOX");
    c.select("INBOX");
    c
}

// RFC 9051 §6.4.6: FLAGS replaces the flags; the untagged FETCH shows the new
// set.
#[test]
fn store_flags_replaces() {
    let s = store();
    let mut c = flagged_inbox(&s);
    let r = c.send("t1 STORE 1 FLAGS (\\Answered)\r\n");
    assert_eq!(norm(&r), "* 1 FETCH (FLAGS (\\Answered))\r\nt1 OK\r\n");
    let r = c.send("t2 STORE 1 FLAGS ()\r\n");
    assert!(r.contains("* 1 FETCH (FLAGS ())"), "{r}");
}

// RFC 9051 §6.4.6: -FLAGS removes the given flags only.
#[test]
fn store_minus_flags_removes() {
    let s = store();
    let mut c = flagged_inbox(&s);
    let r = c.send("t1 STORE 1 -FLAGS (\\Seen)\r\n");
    assert_eq!(norm(&r), "* 1 FETCH (FLAGS (\\Flagged))\r\nt1 OK\r\n");
}

// RFC 9051 §6.4.6: the .SILENT forms do not send the untagged FETCH.
#[test]
fn store_silent_sends_no_fetch() {
    let s = store();
    let mut c = flagged_inbox(&s);
    assert_eq!(
        norm(&c.send("t1 STORE 1:2 +FLAGS.SILENT (\\Draft)\r\n")),
        "t1 OK\r\n"
    );
    assert_eq!(
        norm(&c.send("t2 STORE 1 -FLAGS.SILENT (\\Seen)\r\n")),
        "t2 OK\r\n"
    );
    assert_eq!(
        norm(&c.send("t3 STORE 2 FLAGS.SILENT (\\Answered)\r\n")),
        "t3 OK\r\n"
    );
    let r = c.send("f1 FETCH 1:2 (FLAGS)\r\n");
    assert!(r.contains("* 1 FETCH (FLAGS (\\Flagged \\Draft))"), "{r}");
    assert!(r.contains("* 2 FETCH (FLAGS (\\Answered))"), "{r}");
}

// RFC 9051 §6.4.9: the FETCH responses of UID STORE include the UID.
#[test]
fn uid_store_responses_carry_the_uid() {
    let s = store();
    let mut c = flagged_inbox(&s);
    let r = c.send("t1 UID STORE 2 +FLAGS (\\Seen)\r\n");
    let l = fetch_lines(&r, 2);
    assert_eq!(l.len(), 1, "{r}");
    assert!(
        l[0].contains("UID 2") && l[0].contains("FLAGS (\\Seen)"),
        "{r}"
    );
}

// RFC 9051 §7.3.5 / §7.1 PERMANENTFLAGS: a keyword set by STORE is a flag of
// the mailbox from then on (FLAGS and PERMANENTFLAGS at the next SELECT), and
// `\*` says new keywords may be created.
#[test]
fn keywords_appear_in_flags_and_permanentflags() {
    let s = store();
    let mut c = flagged_inbox(&s);
    let r = c.send("t1 STORE 2 +FLAGS ($Work)\r\n");
    assert!(r.contains("* 2 FETCH (FLAGS ($Work))"), "{r}");
    let r = c.send("s2 SELECT INBOX\r\n");
    let flags = r
        .split("\r\n")
        .find(|l| l.starts_with("* FLAGS ("))
        .unwrap();
    assert!(flags.contains("$Work") && flags.contains("\\Seen"), "{r}");
    let perm = r
        .split("\r\n")
        .find(|l| l.starts_with("* OK [PERMANENTFLAGS ("))
        .unwrap();
    assert!(perm.contains("$Work") && perm.contains("\\*"), "{r}");
    let r = c.send("f1 FETCH 2 (FLAGS)\r\n");
    assert!(r.contains("* 2 FETCH (FLAGS ($Work))"), "{r}");
}

// ===== SEARCH (RFC 9051 §6.4.4) =====

const S1: &str = "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nCc: Carol <carol@example.org>\r\nBcc: Dave <dave@example.org>\r\nSubject: Lunch plans\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nLet us eat pizza.\r\n";
const S3: &str = "From: Carol <carol@example.org>\r\nTo: Dave <dave@example.org>\r\nSubject: Re: Lunch plans\r\nDate: Fri, 1 Mar 2024 09:00:00 +0100\r\n\r\nPizza again?\r\n";
const S4: &str = "From: Dave <dave@example.org>\r\nTo: Alice <alice@example.org>\r\nCc: Bob <bob@example.org>\r\nSubject: Hello\r\nDate: Sun, 10 Mar 2024 12:00:00 +0000\r\n\r\nNothing to see.\r\n";

fn s2() -> String {
    format!(
        "From: Bob <bob@example.org>\r\nTo: Alice <alice@example.org>\r\nSubject: Quarterly report\r\nDate: Thu, 15 Feb 2024 23:30:00 -0800\r\nX-Priority: 1\r\n\r\nThe revenue numbers.\r\n{}\r\n",
        "x".repeat(1000)
    )
}

/// INBOX with four messages (UID = sequence number), selected:
/// 1. \Answered \Seen, internal date 1 Jan 2024 (23:30 -0500), Date: 1 Jan
///    2024, from Alice to Bob, Cc Carol, Bcc Dave, "Lunch plans", "pizza";
/// 2. \Flagged \Draft $Work, 15 Feb 2024, Date: 15 Feb 2024 (23:30 -0800),
///    from Bob to Alice, "Quarterly report", X-Priority: 1, over 1000 octets;
/// 3. \Deleted, 1 Mar 2024, from Carol to Dave, "Re: Lunch plans", "Pizza";
/// 4. no flags, 10 Mar 2024, from Dave to Alice, Cc Bob, "Hello".
fn search_fixture(rev2: bool) -> Client {
    let s = store();
    let mut c = if rev2 {
        Client::login_rev2(&s)
    } else {
        Client::login(&s)
    };
    c.append_with(
        "INBOX",
        "(\\Answered \\Seen)",
        "01-Jan-2024 23:30:00 -0500",
        S1,
    );
    c.append_with(
        "INBOX",
        "(\\Flagged \\Draft $Work)",
        "15-Feb-2024 12:00:00 +0000",
        &s2(),
    );
    c.append_with("INBOX", "(\\Deleted)", "01-Mar-2024 08:00:00 +0100", S3);
    c.append_with("INBOX", "()", "10-Mar-2024 12:00:00 +0000", S4);
    c.select("INBOX");
    c
}

#[track_caller]
fn search(c: &mut Client, criteria: &str) -> Vec<u32> {
    let r = c.send(&format!("sx SEARCH {criteria}\r\n"));
    assert_tagged(&r, "sx", "OK");
    search_numbers(&r)
}

/// One test per search key: `SEARCH <criteria>` over [`search_fixture`]
/// returns exactly these sequence numbers.
macro_rules! search_key {
    ($(#[$m:meta])* $name:ident, $criteria:expr, $want:expr) => {
        $(#[$m])*
        #[test]
        fn $name() {
            let mut c = search_fixture(false);
            let criteria: &str = &$criteria;
            let want: &[u32] = &$want;
            assert_eq!(search(&mut c, criteria), want, "SEARCH {criteria}");
        }
    };
}

search_key!(
    /// RFC 9051 §6.4.4 ALL.
    search_all, "ALL", [1, 2, 3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 ANSWERED.
    search_answered, "ANSWERED", [1]
);
search_key!(
    /// RFC 9051 §6.4.4 BCC.
    search_bcc, "BCC dave", [1]
);
search_key!(
    /// RFC 9051 §6.4.4 BEFORE: internal date, disregarding time and timezone.
    search_before, "BEFORE 15-Feb-2024", [1]
);
search_key!(
    /// RFC 9051 §6.4.4 BODY: case-insensitive substring of the body.
    search_body, "BODY pizza", [1, 3]
);
search_key!(
    /// RFC 9051 §6.4.4 BODY: "Unlike TEXT ..., this doesn't match any header
    /// fields."
    search_body_ignores_headers, "BODY quarterly", []
);
search_key!(
    /// RFC 9051 §6.4.4 CC.
    search_cc, "CC bob", [4]
);
search_key!(
    /// RFC 9051 §6.4.4 DELETED.
    search_deleted, "DELETED", [3]
);
search_key!(
    /// RFC 9051 §6.4.4 DRAFT.
    search_draft, "DRAFT", [2]
);
search_key!(
    /// RFC 9051 §6.4.4 FLAGGED.
    search_flagged, "FLAGGED", [2]
);
search_key!(
    /// RFC 9051 §6.4.4 FROM: the envelope's FROM field only.
    search_from, "FROM carol", [3]
);
search_key!(
    /// RFC 9051 §6.4.4 HEADER: substring of the named field's value.
    search_header, "HEADER X-Priority 1", [2]
);
search_key!(
    /// RFC 9051 §6.4.4 HEADER with "": every message that has the field.
    search_header_empty_string, "HEADER Cc \"\"", [1, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 KEYWORD.
    search_keyword, "KEYWORD $Work", [2]
);
search_key!(
    /// RFC 9051 §6.4.4 LARGER: RFC822.SIZE strictly larger.
    search_larger, format!("LARGER {}", S1.len() - 1), [1, 2]
);
search_key!(
    /// RFC 9051 §6.4.4 NOT.
    search_not, "NOT SEEN", [2, 3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 ON: the internal date in its own zone (23:30 -0500 on
    /// 1 Jan is 2 Jan in UTC).
    search_on, "ON 01-Jan-2024", [1]
);
search_key!(
    /// RFC 9051 §6.4.4 OR.
    search_or, "OR FLAGGED DELETED", [2, 3]
);
search_key!(
    /// RFC 9051 §6.4.4 SEEN.
    search_seen, "SEEN", [1]
);
search_key!(
    /// RFC 9051 §6.4.4 SENTBEFORE: the Date: header field.
    search_sentbefore, "SENTBEFORE 15-Feb-2024", [1]
);
search_key!(
    /// RFC 9051 §6.4.4 SENTON: Date: disregarding time and timezone (23:30
    /// -0800 on 15 Feb is 16 Feb in UTC).
    search_senton, "SENTON 15-Feb-2024", [2]
);
search_key!(
    /// RFC 9051 §6.4.4 SENTSINCE: on or after.
    search_sentsince, "SENTSINCE 01-Mar-2024", [3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 SINCE: internal date on or after.
    search_since, "SINCE 01-Mar-2024", [3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 SMALLER: RFC822.SIZE strictly smaller.
    search_smaller, format!("SMALLER {}", S1.len()), [3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 SUBJECT: case-insensitive substring.
    search_subject, "SUBJECT LUNCH", [1, 3]
);
search_key!(
    /// RFC 9051 §6.4.4 TEXT: the body...
    search_text_body, "TEXT pizza", [1, 3]
);
search_key!(
    /// RFC 9051 §6.4.4 TEXT: ...and the header.
    search_text_header, "TEXT quarterly", [2]
);
search_key!(
    /// RFC 9051 §6.4.4 TO.
    search_to, "TO alice", [2, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 UID.
    search_uid, "UID 2:3", [2, 3]
);
search_key!(
    /// RFC 9051 §6.4.4 UNANSWERED.
    search_unanswered, "UNANSWERED", [2, 3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 UNDELETED.
    search_undeleted, "UNDELETED", [1, 2, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 UNDRAFT.
    search_undraft, "UNDRAFT", [1, 3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 UNFLAGGED.
    search_unflagged, "UNFLAGGED", [1, 3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 UNKEYWORD.
    search_unkeyword, "UNKEYWORD $Work", [1, 3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 UNSEEN.
    search_unseen, "UNSEEN", [2, 3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 <sequence set>.
    search_sequence_set, "2,4", [2, 4]
);
search_key!(
    /// RFC 9051 §6.4.4 <sequence set> with "*", the last message.
    search_sequence_set_star, "3:*", [3, 4]
);
search_key!(
    /// RFC 9051 §6.4.4: several keys are ANDed; a parenthesised list is one key.
    search_parentheses, "(OR SEEN FLAGGED) UNDELETED", [1, 2]
);
search_key!(
    /// RFC 9051 §6.4.4: NOT of a parenthesised OR.
    search_not_parenthesised_or, "NOT (OR SEEN DELETED)", [2, 4]
);
search_key!(
    /// RFC 9051 §6.4.4: no match is an empty SEARCH response (IMAP4rev1).
    search_no_match, "KEYWORD $Nothing", []
);

// RFC 9051 §6.4.4, §6.4.4.1: SAVE stores the result (and alone returns
// nothing); "$" refers to it in SEARCH and FETCH.
#[test]
fn search_saved_result_with_dollar() {
    let mut c = search_fixture(false);
    let r = c.send("s1 SEARCH RETURN (SAVE) FLAGGED\r\n");
    assert_eq!(norm(&r), "s1 OK\r\n");
    assert_eq!(search(&mut c, "OR $ 1"), [1, 2]);
    assert_eq!(search(&mut c, "NOT $"), [1, 3, 4]);
    let r = c.send("f1 FETCH $ (UID)\r\n");
    assert_eq!(norm(&r), "* 2 FETCH (UID 2)\r\nf1 OK\r\n");
}

// RFC 9051 §6.4.4.1: "Upon successful completion of a SELECT or an EXAMINE
// command ..., the current search result variable is reset to the empty
// sequence"; FETCH $ then returns OK and no data.
#[test]
fn select_resets_the_saved_search_result() {
    let mut c = search_fixture(false);
    c.send("s1 SEARCH RETURN (SAVE) ALL\r\n");
    c.select("INBOX");
    let r = c.send("f1 FETCH $ (UID)\r\n");
    assert_eq!(norm(&r), "f1 OK\r\n");
}

// RFC 9051 §6.4.4.1 (Table 4): with SAVE and MIN (without ALL or COUNT) "the
// "$" marker would contain a single message as returned in the MIN".
#[test]
fn search_save_with_min_saves_only_the_min() {
    let mut c = search_fixture(false);
    let r = c.send("s1 SEARCH RETURN (SAVE MIN) UNSEEN\r\n");
    assert!(r.contains("* ESEARCH (TAG \"s1\") MIN 2\r\n"), "{r}");
    let r = c.send("f1 FETCH $ (UID)\r\n");
    assert_eq!(norm(&r), "* 2 FETCH (UID 2)\r\nf1 OK\r\n");
}

// RFC 9051 §6.4.4.1: "A SEARCH command with the SAVE result option that
// caused the server to return the NO tagged response sets the value of the
// search result variable to the empty sequence" (example 5: BADCHARSET).
#[test]
fn failed_search_with_save_empties_the_saved_result() {
    let mut c = search_fixture(false);
    c.send("s1 SEARCH RETURN (SAVE) ALL\r\n");
    let r = c.send("s2 SEARCH RETURN (SAVE) CHARSET KOI8-R ALL\r\n");
    assert_tagged(&r, "s2", "NO [BADCHARSET");
    let r = c.send("f1 FETCH $ (UID)\r\n");
    assert_eq!(norm(&r), "f1 OK\r\n");
}

// RFC 9051 §6.4.4: COUNT "MUST always be included in the ESEARCH response";
// MIN, MAX and ALL are left out when nothing matches, but the ESEARCH
// response is still sent.
#[test]
fn search_return_count_with_no_match() {
    let mut c = search_fixture(false);
    let r = c.send("s1 SEARCH RETURN (COUNT) KEYWORD $Nothing\r\n");
    assert_eq!(norm(&r), "* ESEARCH (TAG \"s1\") COUNT 0\r\ns1 OK\r\n");
    let r = c.send("s2 SEARCH RETURN (MIN MAX ALL) KEYWORD $Nothing\r\n");
    assert_eq!(norm(&r), "* ESEARCH (TAG \"s2\")\r\ns2 OK\r\n");
    let r = c.send("s3 SEARCH RETURN () UNSEEN\r\n");
    assert!(r.starts_with("* ESEARCH (TAG \"s3\") ALL 2:4\r\n"), "{r}");
}

// RFC 9051 §6.4.4: in IMAP4rev2 SEARCH answers with ESEARCH; for UID SEARCH
// the response carries the UID indicator and UIDs; no match still yields an
// ESEARCH response (example A284).
#[test]
fn rev2_search_uses_esearch_with_uid_indicator() {
    let mut c = search_fixture(true);
    let r = c.send("u1 UID SEARCH UNDELETED\r\n");
    assert_eq!(
        norm(&r),
        "* ESEARCH (TAG \"u1\") UID ALL 1:2,4\r\nu1 OK\r\n"
    );
    let r = c.send("s1 SEARCH UNDELETED\r\n");
    assert_eq!(norm(&r), "* ESEARCH (TAG \"s1\") ALL 1:2,4\r\ns1 OK\r\n");
    let r = c.send("s2 SEARCH TEXT \"string not in mailbox\"\r\n");
    assert_eq!(norm(&r), "* ESEARCH (TAG \"s2\")\r\ns2 OK\r\n");
    let r = c.send("u2 UID SEARCH RETURN (MIN MAX) 1:5000\r\n");
    assert!(
        r.starts_with("* ESEARCH (TAG \"u2\") UID MIN 1 MAX 4\r\n"),
        "{r}"
    );
}

// RFC 9051 §6.4.4: "Any options not defined by extensions that the server
// supports MUST be rejected with a BAD response."
#[test]
fn search_unknown_return_option_is_bad() {
    let mut c = search_fixture(false);
    let r = c.send("s1 SEARCH RETURN (FROBNICATE) ALL\r\n");
    assert_tagged(&r, "s1", "BAD");
}

// ===== APPEND (RFC 9051 §6.3.12; RFC 3502 MULTIAPPEND; RFC 4315 APPENDUID;
// RFC 7889 APPENDLIMIT) =====

// RFC 9051 §6.3.12: the flags and the date-time given are set on the message;
// the OK carries APPENDUID.
#[test]
fn append_with_flags_and_date() {
    let s = store();
    let mut c = Client::login(&s);
    let v = uidvalidity(&mut c, "INBOX");
    let r = c.append_with("INBOX", "(\\Seen $Work)", "17-Jul-1996 02:44:25 -0700", MSG);
    assert_tagged(&r, "AP", &format!("OK [APPENDUID {v} 1]"));
    c.select("INBOX");
    let r = c.send("f1 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)\r\n");
    let line = fetch_lines(&r, 1)[0];
    assert!(line.contains("\\Seen") && line.contains("$Work"), "{r}");
    assert!(
        line.contains("INTERNALDATE \"17-Jul-1996 02:44:25 -0700\""),
        "{r}"
    );
    assert!(line.contains(&format!("RFC822.SIZE {}", MSG.len())), "{r}");
}

// RFC 9051 §6.3.12: a missing destination is an error with [TRYCREATE], and
// the mailbox "MUST NOT" be created automatically.
#[test]
fn append_to_missing_mailbox_is_trycreate() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send(&format!(
        "a1 APPEND Nowhere {{{}+}}\r\n{MSG}\r\n",
        MSG.len()
    ));
    assert_tagged(&r, "a1", "NO [TRYCREATE]");
    let r = c.send("s1 STATUS Nowhere (MESSAGES)\r\n");
    assert_tagged(&r, "s1", "NO");
}

// RFC 9051 §6.3.12: APPEND to the selected mailbox SHOULD be followed by an
// untagged EXISTS at once.
#[test]
fn append_to_selected_mailbox_sends_exists() {
    let s = store();
    let mut c = selected_inbox(&s, 1);
    let r = c.append("INBOX", MSG);
    assert!(r.contains("* 2 EXISTS\r\n"), "{r}");
}

// RFC 3502 §6 and RFC 4315 §3: one APPEND with several messages; APPENDUID
// lists the UIDs of all of them.
#[test]
fn multiappend_two_messages() {
    let s = store();
    let mut c = Client::login(&s);
    let v = uidvalidity(&mut c, "INBOX");
    let m2 = simple(2);
    let r = c.send(&format!(
        "a1 APPEND INBOX {{{}+}}\r\n{MSG} (\\Flagged) {{{}+}}\r\n{m2}\r\n",
        MSG.len(),
        m2.len()
    ));
    assert_tagged(&r, "a1", &format!("OK [APPENDUID {v} 1:2]"));
    take_recent(&s, "INBOX");
    c.select("INBOX");
    let r = c.send("f1 FETCH 1:2 (FLAGS RFC822.SIZE)\r\n");
    assert!(
        r.contains(&format!("* 1 FETCH (FLAGS () RFC822.SIZE {})", MSG.len())),
        "{r}"
    );
    assert!(
        r.contains(&format!(
            "* 2 FETCH (FLAGS (\\Flagged) RFC822.SIZE {})",
            m2.len()
        )),
        "{r}"
    );
}

// RFC 3502 §6: "If the server fails to append any message, none are
// appended"; RFC 9051 §6.3.12: the mailbox is restored to its state before
// the APPEND (other than possibly UIDNEXT).
#[test]
fn multiappend_failure_of_the_second_appends_none() {
    let s = Arc::new(MemStore::new().with_max_message_size(40));
    let mut c = Client::login(&s);
    let small = "Subject: s\r\n\r\nsmall\r\n";
    let big = format!("Subject: b\r\n\r\n{}\r\n", "x".repeat(100));
    let r = c.send(&format!(
        "a1 APPEND INBOX {{{}+}}\r\n{small} {{{}+}}\r\n{big}\r\n",
        small.len(),
        big.len()
    ));
    assert_tagged(&r, "a1", "NO [TOOBIG]");
    assert!(!r.contains("APPENDUID"), "{r}");
    let r = c.send("s1 STATUS INBOX (MESSAGES UNSEEN SIZE)\r\n");
    let st = status_items(&r, "INBOX");
    assert_eq!((st["MESSAGES"], st["UNSEEN"], st["SIZE"]), (0, 0, 0), "{r}");
}

// RFC 7889 §4 / RFC 9051 §7.1 TOOBIG: a synchronising literal over the limit
// is refused with [TOOBIG] without a continuation request; the client sends
// nothing more and the next command works.
#[test]
fn append_synchronising_literal_over_the_limit_is_toobig() {
    let s = store();
    let mut cfg = config();
    cfg.limits.max_literal = 100;
    let mut c = Client::login_with(&s, cfg);
    let r = c.send("a1 APPEND INBOX {200}\r\n");
    assert!(!r.contains("+ "), "{r}");
    let line = tagged_line(&r, "a1");
    assert!(
        line.starts_with("a1 NO [TOOBIG]") || line.starts_with("a1 BAD [TOOBIG]"),
        "{r}"
    );
    assert_tagged(&c.send("n1 NOOP\r\n"), "n1", "OK");
    let r = c.send("s1 STATUS INBOX (MESSAGES)\r\n");
    assert_eq!(status_items(&r, "INBOX")["MESSAGES"], 0, "{r}");
}

// RFC 7888 §4 (LITERAL+) / RFC 7889 §4: a non-synchronising literal over the
// limit is refused with [TOOBIG]; its octets, sent anyway, are skipped (never
// run as commands) and the stream recovers at the next command.
#[test]
fn append_non_synchronising_literal_over_the_limit_recovers() {
    let s = store();
    let mut cfg = config();
    cfg.limits.max_literal = 100;
    let mut c = Client::login_with(&s, cfg);
    let payload = "x1 DELETE Trash\r\n".repeat(12);
    let r = c.send(&format!(
        "a1 APPEND INBOX {{{}+}}\r\n{payload}\r\nn1 NOOP\r\n",
        payload.len()
    ));
    let line = tagged_line(&r, "a1");
    assert!(
        line.starts_with("a1 NO [TOOBIG]") || line.starts_with("a1 BAD [TOOBIG]"),
        "{r}"
    );
    assert!(
        !r.split("\r\n").any(|l| l.starts_with("x1 ")),
        "literal data ran as a command: {r}"
    );
    assert_tagged(&r, "n1", "OK");
    let r = c.send("s1 STATUS Trash (MESSAGES)\r\ns2 STATUS INBOX (MESSAGES)\r\n");
    assert_tagged(&r, "s1", "OK");
    assert_eq!(status_items(&r, "INBOX")["MESSAGES"], 0, "{r}");
}

// ===== concurrent sessions (RFC 9051 §5.2, §5.5, §7.4.1, §7.5.1) =====

// RFC 9051 §5.2, §7.5.2: flag changes made by another session reach a
// session with the mailbox selected as untagged FETCH (FLAGS …) on NOOP.
#[test]
fn flag_change_by_other_session_reaches_noop() {
    let s = store();
    let mut a = selected_inbox(&s, 2);
    let mut b = Client::login(&s);
    b.select("INBOX");
    b.send("t1 STORE 2 +FLAGS.SILENT (\\Seen \\Flagged)\r\n");
    let r = a.send("n1 NOOP\r\n");
    let l = fetch_lines(&r, 2);
    assert_eq!(l.len(), 1, "{r}");
    assert!(l[0].contains("FLAGS (\\Seen \\Flagged)"), "{r}");
    assert!(fetch_lines(&r, 1).is_empty(), "{r}");
    assert_tagged(&r, "n1", "OK");
    // Once reported, not again.
    assert_eq!(norm(&a.send("n2 NOOP\r\n")), "n2 OK\r\n");
}

// RFC 9051 §7.4.1 / §5.5: EXISTS may be sent at any time, but EXPUNGE "MUST
// NOT" be sent while responding to SEARCH (by sequence number); the expunge
// is reported on the next NOOP.
#[test]
fn search_during_concurrent_append_and_expunge() {
    let s = store();
    let mut a = selected_inbox(&s, 2);
    let mut b = Client::login(&s);
    b.select("INBOX");
    b.append("INBOX", &simple(3));
    b.send("t1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\nx1 EXPUNGE\r\n");
    let r = a.send("s1 SEARCH ALL\r\n");
    assert!(r.contains("* 3 EXISTS\r\n"), "{r}");
    assert!(expunges(&r).is_empty(), "{r}");
    assert_tagged(&r, "s1", "OK");
    let r = a.send("n1 NOOP\r\n");
    assert_eq!(expunges(&r), vec![1], "{r}");
    assert_eq!(search(&mut a, "ALL"), [1, 2]);
    let r = a.send("f1 FETCH 1:* (UID)\r\n");
    assert!(
        r.contains("* 1 FETCH (UID 2)") && r.contains("* 2 FETCH (UID 3)"),
        "{r}"
    );
}

// RFC 9051 §7.4.1 and RFC 2180 §4.2: STORE by sequence number while another
// session has expunged a message: no EXPUNGE during the STORE, the other
// messages keep their numbers; the EXPUNGE follows on NOOP.
#[test]
fn store_during_concurrent_expunge() {
    let s = store();
    let mut a = selected_inbox(&s, 3);
    let mut b = Client::login(&s);
    b.select("INBOX");
    b.send("t1 STORE 2 +FLAGS.SILENT (\\Deleted)\r\nx1 EXPUNGE\r\n");
    let r = a.send("t2 STORE 1:3 +FLAGS (\\Flagged)\r\n");
    assert!(expunges(&r).is_empty(), "{r}");
    assert!(
        fetch_lines(&r, 1)[0].contains("\\Flagged") && fetch_lines(&r, 3)[0].contains("\\Flagged"),
        "{r}"
    );
    let line = tagged_line(&r, "t2");
    assert!(
        line.starts_with("t2 OK") || line.starts_with("t2 NO [EXPUNGEISSUED]"),
        "{r}"
    );
    let r = a.send("n1 NOOP\r\n");
    assert_eq!(expunges(&r), vec![2], "{r}");
    let r = a.send("f1 FETCH 1:* (UID FLAGS)\r\n");
    assert!(r.contains("* 1 FETCH (UID 1 FLAGS (\\Flagged))"), "{r}");
    assert!(r.contains("* 2 FETCH (UID 3 FLAGS (\\Flagged))"), "{r}");
}

// RFC 9051 §6.4.9: "A non-existent unique identifier is ignored without any
// error message generated", and §7.4.1 lets UID commands report EXPUNGEs.
// (Data for a message the client has not yet seen expunged may still be
// returned, RFC 2180 §4.1.)
#[test]
fn uid_fetch_after_concurrent_expunge_is_ok() {
    let s = store();
    let mut a = selected_inbox(&s, 3);
    let mut b = Client::login(&s);
    b.select("INBOX");
    b.send("t1 STORE 2 +FLAGS.SILENT (\\Deleted)\r\nx1 EXPUNGE\r\n");
    let r = a.send("f1 UID FETCH 1:* (RFC822.SIZE)\r\n");
    let size = simple(1).len();
    assert!(
        r.contains(&format!("* 1 FETCH (UID 1 RFC822.SIZE {size})")),
        "{r}"
    );
    assert!(r.contains(&format!("(UID 3 RFC822.SIZE {size})")), "{r}");
    assert_eq!(expunges(&r), vec![2], "{r}");
    assert_tagged(&r, "f1", "OK");
}

// RFC 9051 §6.4.9 + §7.4.1: the same with FLAGS only.
#[test]
fn uid_fetch_flags_after_concurrent_expunge_is_ok() {
    let s = store();
    let mut a = selected_inbox(&s, 3);
    let mut b = Client::login(&s);
    b.select("INBOX");
    b.send("t1 STORE 2 +FLAGS.SILENT (\\Deleted)\r\nx1 EXPUNGE\r\n");
    let r = a.send("f1 UID FETCH 1:* (FLAGS)\r\n");
    assert!(r.contains("* 1 FETCH (UID 1 FLAGS ())"), "{r}");
    assert!(r.contains("(UID 3 FLAGS ())"), "{r}");
    assert_eq!(expunges(&r), vec![2], "{r}");
    assert_tagged(&r, "f1", "OK");
}

// ===== a few more corners =====

// RFC 9051 §6.4.5: "non-multipart [MIME-IMB] messages with no encapsulated
// message only have a part 1": BODY[1] is the body.
#[test]
fn fetch_part_1_of_a_single_part_message() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", MSG);
    c.select("INBOX");
    let text = &MSG[MSG.find("\r\n\r\n").unwrap() + 4..];
    let r = c.send("f1 FETCH 1 (BODY.PEEK[1])\r\n");
    assert!(
        r.contains(&format!("* 1 FETCH (BODY[1] {{{}}}\r\n{text})", text.len())),
        "{r}"
    );
}

// RFC 9051 §6.4.4.1: "When a message listed in the search result variable is
// EXPUNGEd, it is automatically removed from the list."
#[test]
fn expunged_messages_leave_the_saved_search_result() {
    let s = store();
    let mut c = selected_inbox(&s, 3);
    c.send("s1 SEARCH RETURN (SAVE) ALL\r\n");
    c.send("t1 STORE 2 +FLAGS.SILENT (\\Deleted)\r\nx1 EXPUNGE\r\n");
    let r = c.send("f1 FETCH $ (UID)\r\n");
    assert_eq!(
        norm(&r),
        "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\nf1 OK\r\n"
    );
}

// RFC 3501 §6.4.1: CHECK (IMAP4rev1) is a checkpoint; it succeeds in the
// selected state.
#[test]
fn check_in_selected_state() {
    let s = store();
    let mut c = selected_inbox(&s, 1);
    assert_eq!(norm(&c.send("k1 CHECK\r\n")), "k1 OK\r\n");
}

// RFC 3501 §6.3.1: SELECT in IMAP4rev1 reports the first unseen message as
// `OK [UNSEEN n]`.
#[test]
fn select_in_rev1_reports_first_unseen() {
    let s = store();
    let mut c = flagged_inbox(&s);
    let r = c.select("INBOX");
    assert!(r.contains("* OK [UNSEEN 2]"), "{r}");
    assert!(r.contains("* 0 RECENT"), "{r}");
}

// RFC 9051 §5.1: INBOX is case-insensitive.
#[test]
fn inbox_is_case_insensitive() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("inbox", &simple(1));
    let r = c.send("s1 STATUS iNbOx (MESSAGES)\r\n");
    assert_tagged(&r, "s1", "OK");
    assert!(r.contains("(MESSAGES 1)"), "{r}");
    let r = c.send("s2 SELECT inbox\r\n");
    assert!(r.contains("* 1 EXISTS"), "{r}");
    assert_tagged(&r, "s2", "OK [READ-WRITE]");
}

// RFC 9051 §6.3.13: changes reach an idling client at once; "If the server
// chooses to send unsolicited FETCH responses, they MUST include a UID FETCH
// item."
#[test]
fn idle_flag_updates_carry_the_uid() {
    let s = store();
    let mut a = selected_inbox(&s, 2);
    let mut b = Client::login(&s);
    b.select("INBOX");
    assert_continuation(&a.send("i1 IDLE\r\n"));
    b.send("t1 STORE 2 +FLAGS.SILENT (\\Answered)\r\n");
    assert!(a.wakes.load(Ordering::SeqCst) >= 1);
    a.conn.handle_wakeup(a.now);
    let r = a.drain();
    let l = fetch_lines(&r, 2);
    assert_eq!(l.len(), 1, "{r}");
    assert!(
        l[0].contains("UID 2") && l[0].contains("FLAGS (\\Answered)"),
        "{r}"
    );
    b.send("t2 STORE 1 +FLAGS.SILENT (\\Deleted)\r\nx1 EXPUNGE\r\n");
    a.conn.handle_wakeup(a.now);
    assert_eq!(a.drain(), "* 1 EXPUNGE\r\n");
    assert_eq!(norm(&a.send("DONE\r\n")), "i1 OK\r\n");
}

// RFC 9051 §6.3.9: the empty mailbox name asks for the delimiter only in the
// basic syntax; "In the extended syntax, any mailbox name arguments that are
// empty strings are ignored. There is no special meaning for empty mailbox
// names when the extended syntax is used."
#[test]
fn list_extended_syntax_ignores_empty_pattern() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("l1 LIST \"\" \"\"\r\n");
    assert_eq!(list_rows(&r, "LIST").len(), 1, "basic syntax: {r}");
    let r = c.send("l2 LIST \"\" \"\" RETURN (CHILDREN)\r\n");
    assert_eq!(norm(&r), "l2 OK\r\n");
    c.send("s1 SUBSCRIBE INBOX\r\n");
    let r = c.send("l3 LIST (SUBSCRIBED) \"\" \"\"\r\n");
    assert_eq!(norm(&r), "l3 OK\r\n");
}
