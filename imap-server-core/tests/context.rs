//! Search contexts (RFC 5267 §4: CONTEXT=SEARCH, CONTEXT=SORT), PARTIAL
//! (§4.4) and WITHIN (RFC 5032), driven through the in-memory pump of
//! `tests/common` (MemStore, no sockets). The expected lines follow imaptest's
//! search-context-update*, search-partial and sort-partial scripts and what
//! Dovecot 2.3 answers (position 0 for SEARCH contexts, REMOVEFROM before the
//! EXPUNGE responses).

mod common;

use std::sync::Arc;

use imap_server_core::{MemStore, ServerConfig};

use common::{store, Client};

fn config(max_contexts: Option<usize>) -> Arc<ServerConfig> {
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    if let Some(n) = max_contexts {
        cfg.limits.max_search_contexts = n;
    }
    Arc::new(cfg)
}

/// A logged-in session on `store`.
fn session_on(store: &Arc<MemStore>, max_contexts: Option<usize>) -> Client {
    let (mut c, greeting) = Client::start(store, config(max_contexts), false);
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let r = c.send("L1 LOGIN alice secret\r\n");
    assert!(r.contains("L1 OK"), "{r}");
    c
}

fn tagged<'a>(r: &'a str, tag: &str) -> &'a str {
    r.lines()
        .find(|l| l.starts_with(&format!("{tag} ")))
        .unwrap_or_else(|| panic!("no tagged {tag} in {r:?}"))
}

impl Client {
    fn ok(&mut self, tag: &str, cmd: &str, want: &str) -> String {
        let r = self.send(&format!("{tag} {cmd}\r\n"));
        let line = tagged(&r, tag);
        assert!(
            line.starts_with(&format!("{tag} {want}")),
            "{cmd}: want `{tag} {want}…`, got {line:?} in {r:?}"
        );
        r
    }

    fn add(&mut self, subject: &str, flags: &str, date: &str) {
        let msg = format!("Subject: {subject}\r\n\r\nbody\r\n");
        let r = self.send(&format!(
            "AP APPEND INBOX {flags} \"{date}\" {{{}+}}\r\n{msg}\r\n",
            msg.len()
        ));
        assert!(tagged(&r, "AP").starts_with("AP OK"), "{r}");
    }
}

/// The untagged ESEARCH lines of `r`.
fn esearch(r: &str) -> Vec<&str> {
    r.lines().filter(|l| l.starts_with("* ESEARCH")).collect()
}

const DATE: &str = "22-Feb-2008 17:06:23 +0000";

/// A session with messages of these subjects, INBOX selected.
fn mailbox(store: &Arc<MemStore>, subjects: &[&str]) -> Client {
    let mut c = session_on(store, None);
    for s in subjects {
        c.add(s, "()", DATE);
    }
    c.ok("SE", "SELECT INBOX", "OK");
    c
}

/// imaptest's search-context-update, in one session.
#[test]
fn search_context_follows_own_changes() {
    let mut c = mailbox(&store(), &["s1", "s2", "s3", "s4", "s5"]);
    let r = c.ok("S", "SEARCH RETURN (UPDATE) BODY body SEEN", "OK");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\")"]);
    let r = c.ok("A", "STORE 1,2,4 +FLAGS (\\Seen)", "OK");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\") ADDTO (0 1:2,4)"]);
    let r = c.ok("B", "STORE 1,2 -FLAGS (\\Seen)", "OK");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\") REMOVEFROM (0 1:2)"]);
    c.ok("C", "STORE 3:5 +FLAGS.SILENT (\\Deleted)", "OK");
    let r = c.ok("D", "EXPUNGE", "OK");
    // REMOVEFROM comes first, numbered as before the expunges.
    let first = r.lines().next().unwrap();
    assert_eq!(first, "* ESEARCH (TAG \"S\") REMOVEFROM (0 4)", "{r}");
    assert_eq!(r.matches(" EXPUNGE\r\n").count(), 3, "{r}");
    // An APPEND to the selected mailbox: EXISTS, then ADDTO.
    let msg = "Subject: s6\r\n\r\nbody\r\n";
    let r = c.send(&format!(
        "AP APPEND INBOX (\\Seen) {{{}+}}\r\n{msg}\r\n",
        msg.len()
    ));
    let r = format!("{r}{}", c.ok("N", "NOOP", "OK"));
    let exists = r.find("* 3 EXISTS").unwrap_or_else(|| panic!("{r}"));
    let addto = r
        .find("* ESEARCH (TAG \"S\") ADDTO (0 3)")
        .unwrap_or_else(|| panic!("{r}"));
    assert!(exists < addto, "{r}");
    c.ok("X", "CANCELUPDATE \"S\"", "OK");
    let r = c.ok("E", "STORE 1 +FLAGS (\\Seen)", "OK");
    assert!(esearch(&r).is_empty(), "{r}");
}

/// Another session's changes reach the context on the next sync (NOOP), in
/// a UID context (imaptest's search-context-update3).
#[test]
fn uid_context_follows_other_sessions() {
    let st = store();
    let mut c = mailbox(&st, &["s1", "s2", "s3", "s4", "s5"]);
    let mut other = session_on(&st, None);
    other.ok("SE", "SELECT INBOX", "OK");
    c.ok("A", "STORE 1,2 +FLAGS (\\Seen)", "OK");
    let r = c.ok(
        "S",
        "UID SEARCH RETURN (UPDATE ALL) OR SEEN SUBJECT s33",
        "OK",
    );
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\") UID ALL 1:2"]);
    other.ok("B", "STORE 3:5 +FLAGS (\\Seen)", "OK");
    let r = c.ok("N1", "NOOP", "OK");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\") UID ADDTO (0 3:5)"]);
    other.ok("C", "STORE 1:5 -FLAGS (\\Seen)", "OK");
    let r = c.ok("N2", "NOOP", "OK");
    assert_eq!(
        esearch(&r),
        ["* ESEARCH (TAG \"S\") UID REMOVEFROM (0 1:5)"]
    );
    other.add("new", "(\\Seen)", DATE);
    let r = c.ok("N3", "NOOP", "OK");
    assert!(r.contains("* 6 EXISTS"), "{r}");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\") UID ADDTO (0 6)"]);
    // The same in a sequence-number context, with the other session's
    // expunge: the old number, before the EXPUNGE.
    let r = c.ok("T", "SEARCH RETURN (UPDATE COUNT) SEEN", "OK");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"T\") COUNT 1"]);
    other.ok("D", "STORE 6 +FLAGS.SILENT (\\Deleted)", "OK");
    other.ok("E", "EXPUNGE", "OK");
    let r = c.ok("N4", "NOOP", "OK");
    let lines: Vec<&str> = r.lines().collect();
    let removal = lines
        .iter()
        .position(|l| *l == "* ESEARCH (TAG \"T\") REMOVEFROM (0 6)")
        .unwrap_or_else(|| panic!("{r}"));
    let expunge = lines.iter().position(|l| *l == "* 6 EXPUNGE").unwrap();
    assert!(removal < expunge, "{r}");
    assert!(
        r.contains("* ESEARCH (TAG \"S\") UID REMOVEFROM (0 6)"),
        "{r}"
    );
}

/// A SORT context gives positions: removals from the highest old position
/// down, additions at their new positions from the lowest up.
#[test]
fn sort_context_positions() {
    // By subject: 2 (a), 3 (b), 1 (c), 5 (d), 4 (e).
    let mut c = mailbox(&store(), &["c", "a", "b", "e", "d"]);
    let r = c.ok(
        "S",
        "SORT RETURN (UPDATE ALL) (SUBJECT) US-ASCII SEEN",
        "OK",
    );
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\")"]);
    let r = c.ok("A", "STORE 1,4 +FLAGS (\\Seen)", "OK");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\") ADDTO (1 1 2 4)"]);
    let r = c.ok("B", "STORE 2,5 +FLAGS (\\Seen)", "OK");
    // New order 2 (a), 1 (c), 5 (d), 4 (e).
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\") ADDTO (1 2 3 5)"]);
    let r = c.ok("C", "STORE 1,4 -FLAGS (\\Seen)", "OK");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S\") REMOVEFROM (4 4 2 1)"]);
    let r = c.ok(
        "D",
        "UID SORT RETURN (UPDATE) (REVERSE SUBJECT) US-ASCII SEEN",
        "OK",
    );
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"D\") UID"]);
    let r = c.ok("E", "STORE 3 +FLAGS (\\Seen)", "OK");
    // Reverse: 5 (d), 3 (b), 2 (a).
    assert!(r.contains("* ESEARCH (TAG \"D\") UID ADDTO (2 3)"), "{r}");
    assert!(r.contains("* ESEARCH (TAG \"S\") ADDTO (2 3)"), "{r}");
}

/// More live contexts than the limit: the search is answered, the context
/// refused with NOUPDATE (RFC 5267 §4.3.1). SELECT ends every context.
#[test]
fn context_limit_and_reselect() {
    let st = store();
    let mut c = session_on(&st, Some(2));
    c.add("x", "()", DATE);
    c.ok("SE", "SELECT INBOX", "OK");
    c.ok("S1", "SEARCH RETURN (UPDATE) SEEN", "OK");
    c.ok("S2", "SEARCH RETURN (UPDATE) SEEN", "OK");
    let r = c.ok("S3", "SEARCH RETURN (UPDATE COUNT) SEEN", "OK");
    assert!(r.contains("* NO [NOUPDATE \"S3\"]"), "{r}");
    assert_eq!(esearch(&r), ["* ESEARCH (TAG \"S3\") COUNT 0"]);
    // The same tag again replaces its context rather than adding one.
    let r = c.ok("S2", "SEARCH RETURN (UPDATE) SEEN", "OK");
    assert!(!r.contains("NOUPDATE"), "{r}");
    let r = c.ok("A", "STORE 1 +FLAGS (\\Seen)", "OK");
    assert_eq!(
        esearch(&r),
        [
            "* ESEARCH (TAG \"S1\") ADDTO (0 1)",
            "* ESEARCH (TAG \"S2\") ADDTO (0 1)"
        ]
    );
    c.ok("SE2", "SELECT INBOX", "OK");
    let r = c.ok("B", "STORE 1 -FLAGS (\\Seen)", "OK");
    assert!(esearch(&r).is_empty(), "{r}");
}

/// imaptest's search-partial (RFC 5267 §4.4).
#[test]
fn search_partial() {
    let mut c = mailbox(&store(), &["1", "2", "3", "4", "5"]);
    for (cmd, want) in [
        ("SEARCH RETURN (PARTIAL 1:1) ALL", "PARTIAL (1:1 1)"),
        ("SEARCH RETURN (PARTIAL 4:2) ALL", "PARTIAL (2:4 2:4)"),
        ("SEARCH RETURN (PARTIAL 1:6) ALL", "PARTIAL (1:6 1:5)"),
        ("SEARCH RETURN (PARTIAL 6:6) ALL", "PARTIAL (6:6 NIL)"),
        ("SEARCH RETURN (PARTIAL 2:3) 1:2,4:5", "PARTIAL (2:3 2,4)"),
        (
            "SEARCH RETURN (MIN PARTIAL 2:10) 1:2,4:5",
            "MIN 1 PARTIAL (2:10 2,4:5)",
        ),
        (
            "UID SEARCH RETURN (PARTIAL 5:10) 1:4",
            "UID PARTIAL (5:10 NIL)",
        ),
        (
            "SORT RETURN (PARTIAL 1:6) (REVERSE SUBJECT) US-ASCII ALL",
            "PARTIAL (1:6 5,4,3,2,1)",
        ),
    ] {
        let r = c.ok("P", cmd, "OK");
        assert_eq!(
            esearch(&r),
            [format!("* ESEARCH (TAG \"P\") {want}")],
            "{cmd}"
        );
    }
    for bad in [
        "SEARCH RETURN (PARTIAL 1) ALL",
        "SEARCH RETURN (PARTIAL 1:*) ALL",
        "SEARCH RETURN (PARTIAL -1:-2) ALL",
        "SEARCH RETURN (PARTIAL 1:2 ALL) ALL",
        "SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL",
    ] {
        c.ok("B", bad, "BAD");
    }
}

/// WITHIN (RFC 5032): OLDER and YOUNGER against the internal date and the
/// session's wall clock.
#[test]
fn within() {
    let mut c = session_on(&store(), None);
    c.add("old", "()", "01-Jan-2024 00:00:00 +0000"); // 1704067200
    c.add("new", "()", "01-Jan-2024 01:00:00 +0000"); // 1704070800
    c.ok("SE", "SELECT INBOX", "OK");
    c.conn.set_wall_clock(1_704_070_800 + 60);
    let r = c.ok("A", "SEARCH OLDER 3600", "OK");
    assert!(r.contains("* SEARCH 1\r\n"), "{r}");
    let r = c.ok("B", "SEARCH YOUNGER 60", "OK");
    assert!(r.contains("* SEARCH 2\r\n"), "{r}");
    let r = c.ok("C", "SEARCH YOUNGER 59", "OK");
    assert!(r.contains("* SEARCH\r\n"), "{r}");
    let r = c.ok("D", "SEARCH OLDER 3660", "OK");
    assert!(r.contains("* SEARCH 1\r\n"), "{r}");
    let r = c.ok("E", "SEARCH OLDER 3661", "OK");
    assert!(r.contains("* SEARCH\r\n"), "{r}");
    c.ok("F", "SEARCH OLDER 0", "BAD");
    let r = c.ok("G", "CAPABILITY", "OK");
    for cap in ["WITHIN", "ESORT", "CONTEXT=SEARCH", "CONTEXT=SORT"] {
        assert!(r.split_whitespace().any(|w| w == cap), "{cap} in {r}");
    }
}
