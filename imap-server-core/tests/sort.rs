//! SORT and UID SORT (RFC 5256 §3, base subject §2.1, sent date §2.2) with
//! DISPLAYFROM/DISPLAYTO (RFC 5957), driven through the in-memory pump of
//! `tests/common` (MemStore, no sockets). Every test asserts the exact order
//! of the numbers in `* SORT`.

mod common;

use std::sync::Arc;

use imap_server_core::ServerConfig;

use common::{store, Client};

// ===== harness =====

/// A logged-in session on a fresh MemStore.
fn session() -> Client {
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    let (mut c, greeting) = Client::start(&store(), Arc::new(cfg), false);
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let r = c.send("L1 LOGIN alice secret\r\n");
    assert!(r.contains("L1 OK"), "{r}");
    c
}

/// The tagged line of `r` for `tag`; panics when there is none.
fn tagged<'a>(r: &'a str, tag: &str) -> &'a str {
    r.lines()
        .find(|l| l.starts_with(&format!("{tag} ")))
        .unwrap_or_else(|| panic!("no tagged {tag} in {r:?}"))
}

impl Client {
    /// Send `tag cmd`, assert the tagged answer starts with `tag want`.
    fn ok(&mut self, tag: &str, cmd: &str, want: &str) -> String {
        let r = self.send(&format!("{tag} {cmd}\r\n"));
        let line = tagged(&r, tag);
        assert!(
            line.starts_with(&format!("{tag} {want}")),
            "{cmd}: want `{tag} {want}…`, got {line:?} in {r:?}"
        );
        r
    }

    /// APPEND a message (header lines joined with CRLF, then a body) to INBOX,
    /// with an internal date when `date` is given (`dd-Mon-yyyy hh:mm:ss +zzzz`).
    fn add(&mut self, headers: &[&str], body: &str, date: Option<&str>) {
        let mut msg = String::new();
        for h in headers {
            msg.push_str(h);
            msg.push_str("\r\n");
        }
        msg.push_str("\r\n");
        msg.push_str(body);
        let date = date.map(|d| format!(" \"{d}\"")).unwrap_or_default();
        let r = self.send(&format!(
            "AP APPEND INBOX{date} {{{}+}}\r\n{msg}\r\n",
            msg.len()
        ));
        assert!(tagged(&r, "AP").starts_with("AP OK"), "{r}");
    }

    fn select(&mut self) {
        self.ok("SE", "SELECT INBOX", "OK");
    }

    /// Run a SORT command, assert it completed, and return the numbers of its
    /// one `* SORT` line.
    fn sort(&mut self, cmd: &str) -> Vec<u32> {
        let r = self.ok("S", cmd, "OK");
        let lines: Vec<&str> = r.lines().filter(|l| l.starts_with("* SORT")).collect();
        assert_eq!(lines.len(), 1, "{cmd}: one * SORT line in {r:?}");
        lines[0]["* SORT".len()..]
            .split_whitespace()
            .map(|n| {
                n.parse()
                    .unwrap_or_else(|_| panic!("{cmd}: bad number in {r:?}"))
            })
            .collect()
    }
}

/// A session with one message per subject, INBOX selected.
fn with_subjects(subjects: &[&str]) -> Client {
    let mut c = session();
    for s in subjects {
        c.add(&[&format!("Subject: {s}")], "x\r\n", None);
    }
    c.select();
    c
}

// ===== capability =====

#[test]
fn capability_lists_sort_after_login_only() {
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    let (mut c, _) = Client::start(&store(), Arc::new(cfg), false);
    let r = c.ok("C0", "CAPABILITY", "OK");
    let caps = r.lines().find(|l| l.starts_with("* CAPABILITY")).unwrap();
    assert!(!caps.split(' ').any(|w| w == "SORT"), "{caps}");
    c.ok("L", "LOGIN alice secret", "OK");
    let r = c.ok("C1", "CAPABILITY", "OK");
    let caps = r.lines().find(|l| l.starts_with("* CAPABILITY")).unwrap();
    let words: Vec<&str> = caps.split(' ').collect();
    assert!(words.contains(&"SORT"), "{caps}");
    assert!(words.contains(&"SORT=DISPLAY"), "{caps}");
}

// ===== base subject (RFC 5256 §2.1) =====

/// Two subjects have the same base subject exactly when both SORT (SUBJECT)
/// and SORT (REVERSE SUBJECT) keep them in mailbox order (ties are broken by
/// sequence number in both directions).
fn same_base(a: &str, b: &str) -> bool {
    let mut c = with_subjects(&[a, b]);
    let up = c.sort("SORT (SUBJECT) UTF-8 ALL");
    let down = c.sort("SORT (REVERSE SUBJECT) UTF-8 ALL");
    up == [1, 2] && down == [1, 2]
}

#[test]
fn base_subject_strips_rfc5256_prefixes_and_trailers() {
    for (raw, base) in [
        ("Re: [list] Fwd: hello (fwd)", "hello"),
        ("re: re: hi", "hi"),
        ("RE: Fw: FWD: hi", "hi"),
        ("Re[2]: hi", "hi"),
        ("[list] [tag] hi", "hi"),
        ("hi (fwd)  (FWD)", "hi"),
        ("  hi \t  there ", "hi there"),
        ("[Fwd: Re: hi]", "hi"),
        ("Re: [fwd: [list] hi (fwd)]", "hi"),
        // A subject that is only a blob keeps it.
        ("[list]", "[list]"),
        // RFC 2047: decoded first, then stripped.
        ("=?UTF-8?Q?Re=3A_h=C3=A9llo?=", "héllo"),
        ("Re: =?ISO-8859-1?Q?h=E9llo?= (fwd)", "héllo"),
        // Case-insensitive comparison.
        ("HELLO", "hello"),
    ] {
        assert!(same_base(raw, base), "{raw:?} should have base {base:?}");
    }
    // And not too much is stripped.
    for (a, b) in [
        ("Rebate: x", "x"),
        ("hi fwd", "hi"),
        ("[list]", "list"),
        ("Re: hi", "hi2"),
    ] {
        assert!(!same_base(a, b), "{a:?} and {b:?} should differ");
    }
}

// ===== criteria =====

#[test]
fn sort_by_subject() {
    let mut c = with_subjects(&["Re: banana", "apple", "[list] Cherry", "Fwd: Apple", ""]);
    // Empty subject first; APPLE (2, 4) by sequence number; BANANA; CHERRY.
    assert_eq!(c.sort("SORT (SUBJECT) UTF-8 ALL"), [5, 2, 4, 1, 3]);
    assert_eq!(c.sort("SORT (REVERSE SUBJECT) UTF-8 ALL"), [3, 1, 2, 4, 5]);
}

#[test]
fn sort_by_date_normalises_time_zones_and_falls_back_to_internaldate() {
    let mut c = session();
    // 10:00Z
    c.add(
        &["Date: Mon, 1 Jan 2024 10:00:00 +0000"],
        "1\r\n",
        Some("01-Jan-2020 00:00:00 +0000"),
    );
    // 09:00Z
    c.add(
        &["Date: Mon, 1 Jan 2024 11:00:00 +0200"],
        "2\r\n",
        Some("01-Jan-2030 00:00:00 +0000"),
    );
    // No Date: internal date 09:30Z.
    c.add(
        &["Subject: no date"],
        "3\r\n",
        Some("01-Jan-2024 11:30:00 +0200"),
    );
    // 10:00Z too: equal to message 1.
    c.add(
        &["Date: Sun, 31 Dec 2023 23:00:00 -1100"],
        "4\r\n",
        Some("01-Jan-2000 00:00:00 +0000"),
    );
    // Unparsable Date: internal date 08:00Z.
    c.add(
        &["Date: not a date at all"],
        "5\r\n",
        Some("01-Jan-2024 08:00:00 +0000"),
    );
    c.select();
    assert_eq!(c.sort("SORT (DATE) UTF-8 ALL"), [5, 2, 3, 1, 4]);
    // REVERSE reverses the order, not the tie-break (1 before 4 still).
    assert_eq!(c.sort("SORT (REVERSE DATE) UTF-8 ALL"), [1, 4, 3, 2, 5]);
}

#[test]
fn sort_by_arrival_uses_internaldate_instant() {
    let mut c = session();
    // Date headers in the opposite order, to show they are not used.
    c.add(
        &["Date: Mon, 1 Jan 2024 01:00:00 +0000"],
        "1\r\n",
        Some("02-Jan-2024 00:00:00 +0000"),
    );
    // 02-Jan 01:00Z.
    c.add(
        &["Date: Mon, 1 Jan 2024 02:00:00 +0000"],
        "2\r\n",
        Some("01-Jan-2024 23:00:00 -0200"),
    );
    c.add(
        &["Date: Mon, 1 Jan 2024 03:00:00 +0000"],
        "3\r\n",
        Some("01-Jan-2024 12:00:00 +0000"),
    );
    c.select();
    assert_eq!(c.sort("SORT (ARRIVAL) UTF-8 ALL"), [3, 1, 2]);
    assert_eq!(c.sort("SORT (DATE) UTF-8 ALL"), [1, 2, 3]);
    assert_eq!(c.sort("SORT (REVERSE ARRIVAL) UTF-8 ALL"), [2, 1, 3]);
}

#[test]
fn sort_by_size() {
    let mut c = session();
    for body in [
        "x".repeat(30),
        "x".repeat(10),
        "x".repeat(20),
        "y".repeat(10),
    ] {
        c.add(&["Subject: s"], &body, None);
    }
    c.select();
    // Messages 2 and 4 have the same size: sequence order.
    assert_eq!(c.sort("SORT (SIZE) UTF-8 ALL"), [2, 4, 3, 1]);
    assert_eq!(c.sort("SORT (REVERSE SIZE) UTF-8 ALL"), [1, 3, 2, 4]);
}

/// Three messages with From, To and Cc for the address keys.
fn with_addresses() -> Client {
    let mut c = session();
    c.add(
        &[
            "From: \"Zed\" <bob@z.example>",
            "To: team: carol@x.example, aa@x.example;",
        ],
        "1\r\n",
        None,
    );
    c.add(
        &[
            "From: alice@y.example, aaron@y.example",
            "To: \"Aaron\" <Zoe@x.example>",
            "Cc: mike@x.example",
        ],
        "2\r\n",
        None,
    );
    c.add(
        &[
            "From: =?UTF-8?Q?Charlie?= <BOB@a.example>",
            "To: adam@x.example",
            "Cc: Al <al@x.example>",
        ],
        "3\r\n",
        None,
    );
    c.select();
    c
}

#[test]
fn sort_by_from_to_cc_local_part_of_first_address() {
    let mut c = with_addresses();
    // alice; bob and BOB equal (case-insensitive): sequence order.
    assert_eq!(c.sort("SORT (FROM) UTF-8 ALL"), [2, 1, 3]);
    // adam; carol (first address of the group); Zoe.
    assert_eq!(c.sort("SORT (TO) UTF-8 ALL"), [3, 1, 2]);
    // No Cc is the empty string, first; then al, mike.
    assert_eq!(c.sort("SORT (CC) UTF-8 ALL"), [1, 3, 2]);
    assert_eq!(c.sort("SORT (REVERSE CC) UTF-8 ALL"), [2, 3, 1]);
}

#[test]
fn sort_by_display_from_and_to() {
    let mut c = with_addresses();
    // alice@y.example (no name); Charlie (decoded); Zed.
    assert_eq!(c.sort("SORT (DISPLAYFROM) UTF-8 ALL"), [2, 3, 1]);
    // Aaron; adam@x.example; carol@x.example.
    assert_eq!(c.sort("SORT (DISPLAYTO) UTF-8 ALL"), [2, 3, 1]);
}

#[test]
fn strings_compare_with_ascii_casemap() {
    let mut c = session();
    c.add(&["From: _u@x.example"], "1\r\n", None);
    c.add(&["From: b@x.example"], "2\r\n", None);
    c.add(&["From: A@x.example"], "3\r\n", None);
    c.select();
    // i;ascii-casemap maps to upper case: "A" < "B" < "_" (0x5F).
    assert_eq!(c.sort("SORT (FROM) UTF-8 ALL"), [3, 2, 1]);
}

#[test]
fn reverse_applies_to_the_following_criterion_only() {
    let mut c = session();
    let msgs = [
        ("a", "Mon, 1 Jan 2024 10:00:00 +0000"),
        ("b", "Mon, 1 Jan 2024 09:00:00 +0000"),
        ("a", "Mon, 1 Jan 2024 11:00:00 +0000"),
        ("Re: a", "Mon, 1 Jan 2024 11:00:00 +0000"),
    ];
    for (s, d) in msgs {
        c.add(
            &[&format!("Subject: {s}"), &format!("Date: {d}")],
            "x\r\n",
            None,
        );
    }
    c.select();
    // a: 3 and 4 (11:00, tie: sequence order), 1 (10:00); then b.
    assert_eq!(
        c.sort("SORT (SUBJECT REVERSE DATE) UTF-8 ALL"),
        [3, 4, 1, 2]
    );
    // b first; then a by ascending date.
    assert_eq!(
        c.sort("SORT (REVERSE SUBJECT DATE) UTF-8 ALL"),
        [2, 1, 3, 4]
    );
    assert_eq!(c.sort("SORT (DATE SUBJECT) UTF-8 ALL"), [2, 1, 3, 4]);
}

#[test]
fn ties_are_broken_by_sequence_number() {
    let mut c = with_subjects(&["same", "Re: same", "SAME", "[x] same"]);
    assert_eq!(c.sort("SORT (SUBJECT) UTF-8 ALL"), [1, 2, 3, 4]);
    assert_eq!(c.sort("SORT (REVERSE SUBJECT) UTF-8 ALL"), [1, 2, 3, 4]);
    assert_eq!(c.sort("SORT (CC TO FROM) UTF-8 ALL"), [1, 2, 3, 4]);
}

// ===== search keys, UID SORT, errors =====

#[test]
fn search_keys_restrict_the_set() {
    let mut c = with_subjects(&["c", "a", "b", "d"]);
    c.ok("F", "STORE 3 +FLAGS (\\Seen)", "OK");
    assert_eq!(c.sort("SORT (SUBJECT) UTF-8 UNSEEN"), [2, 1, 4]);
    assert_eq!(c.sort("SORT (SUBJECT) US-ASCII 2:4"), [2, 3, 4]);
    assert_eq!(
        c.sort("SORT (REVERSE SUBJECT) utf-8 OR SUBJECT a SUBJECT d"),
        [4, 2]
    );
    // Nothing matches: an empty * SORT.
    let r = c.ok("E", "SORT (SUBJECT) UTF-8 DELETED", "OK");
    assert!(r.contains("* SORT\r\n"), "{r}");
}

#[test]
fn uid_sort_returns_uids() {
    let mut c = with_subjects(&["gone", "c", "a", "b"]);
    c.ok("D", "STORE 1 +FLAGS (\\Deleted)", "OK");
    c.ok("X", "EXPUNGE", "OK");
    // Sequence numbers 1..3 are now UIDs 2..4.
    assert_eq!(c.sort("SORT (SUBJECT) UTF-8 ALL"), [2, 3, 1]);
    assert_eq!(c.sort("UID SORT (SUBJECT) UTF-8 ALL"), [3, 4, 2]);
    assert_eq!(c.sort("UID SORT (REVERSE SUBJECT) UTF-8 UID 2:3"), [2, 3]);
}

#[test]
fn unknown_charset_is_badcharset() {
    let mut c = with_subjects(&["a"]);
    let r = c.ok(
        "B",
        "SORT (DATE) ISO-8859-99 ALL",
        "NO [BADCHARSET (UTF-8 US-ASCII)]",
    );
    assert!(!r.contains("* SORT"), "{r}");
}

#[test]
fn sort_needs_a_selected_mailbox() {
    let mut c = session();
    let r = c.ok("N", "SORT (DATE) UTF-8 ALL", "BAD");
    assert!(!r.contains("* SORT"), "{r}");
    c.add(&["Subject: b"], "x\r\n", None);
    c.add(&["Subject: a"], "x\r\n", None);
    c.ok("EX", "EXAMINE INBOX", "OK");
    assert_eq!(c.sort("SORT (SUBJECT) UTF-8 ALL"), [2, 1]);
}

#[test]
fn modseq_search_key_adds_the_highest_modseq() {
    let mut c = with_subjects(&["b", "a", "c"]);
    c.ok("F", "STORE 2 +FLAGS (\\Flagged)", "OK");
    let r = c.ok("M", "FETCH 1:3 (MODSEQ)", "OK");
    let modseq = |seq: u32| -> u64 {
        let line = r
            .lines()
            .find(|l| l.starts_with(&format!("* {seq} FETCH")))
            .unwrap_or_else(|| panic!("no FETCH {seq} in {r:?}"));
        let i = line.find("MODSEQ (").unwrap() + "MODSEQ (".len();
        line[i..].split(')').next().unwrap().parse().unwrap()
    };
    let (m1, m2, m3) = (modseq(1), modseq(2), modseq(3));
    assert!(m2 > m1 && m2 > m3, "{r}");
    // Only message 2 changed since m3.
    let r = c.ok(
        "S",
        &format!("SORT (SUBJECT) UTF-8 MODSEQ {}", m3 + 1),
        "OK",
    );
    assert!(r.contains(&format!("* SORT 2 (MODSEQ {m2})\r\n")), "{r}");
    let r = c.ok("S2", "SORT (REVERSE SUBJECT) UTF-8 MODSEQ 1", "OK");
    assert!(
        r.contains(&format!("* SORT 3 1 2 (MODSEQ {m2})\r\n")),
        "{r}"
    );
}

/// ESORT (RFC 5267 §3): RETURN answers with ESEARCH; MIN and MAX are the
/// first and last message in sort order, ALL lists the messages in sort order
/// (runs of ascending numbers as ranges), as Dovecot 2.3 answers.
#[test]
fn esort_return_options() {
    // Sorted by subject: 2 (a), 3 (b), 1 (c), 5 (d), 4 (e).
    let mut c = with_subjects(&["c", "a", "b", "e", "d"]);
    let esearch = |r: &str| -> String {
        r.lines()
            .find(|l| l.starts_with("* ESEARCH"))
            .unwrap_or_else(|| panic!("no ESEARCH in {r:?}"))
            .to_owned()
    };
    let r = c.ok(
        "R1",
        "SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) US-ASCII ALL",
        "OK",
    );
    assert_eq!(
        esearch(&r),
        "* ESEARCH (TAG \"R1\") MIN 2 MAX 4 ALL 2:3,1,5,4 COUNT 5"
    );
    let r = c.ok(
        "R2",
        "SORT RETURN (MIN MAX) (REVERSE SUBJECT) US-ASCII ALL",
        "OK",
    );
    assert_eq!(esearch(&r), "* ESEARCH (TAG \"R2\") MIN 4 MAX 2");
    // RETURN () is ALL; nothing matched gives no MIN/MAX/ALL.
    let r = c.ok("R3", "SORT RETURN () (SUBJECT) US-ASCII ALL", "OK");
    assert_eq!(esearch(&r), "* ESEARCH (TAG \"R3\") ALL 2:3,1,5,4");
    let r = c.ok(
        "R4",
        "SORT RETURN (MIN ALL COUNT) (SUBJECT) US-ASCII DELETED",
        "OK",
    );
    assert_eq!(esearch(&r), "* ESEARCH (TAG \"R4\") COUNT 0");
    // UID SORT gives UIDs.
    let r = c.ok("R5", "UID SORT RETURN (MAX) (SUBJECT) US-ASCII 1:3", "OK");
    assert_eq!(esearch(&r), "* ESEARCH (TAG \"R5\") UID MAX 1");
    // PARTIAL (RFC 5267 §4.4), in sort order; with ALL it is refused.
    let r = c.ok(
        "R6",
        "SORT RETURN (PARTIAL 3:2 COUNT) (SUBJECT) US-ASCII ALL",
        "OK",
    );
    assert_eq!(
        esearch(&r),
        "* ESEARCH (TAG \"R6\") PARTIAL (2:3 3,1) COUNT 5"
    );
    c.ok(
        "R7",
        "SORT RETURN (PARTIAL 1:2 ALL) (SUBJECT) US-ASCII ALL",
        "BAD",
    );
    // SAVE alone answers nothing but fills `$`.
    let r = c.ok("R8", "SORT RETURN (SAVE) (SUBJECT) US-ASCII 4:5", "OK");
    assert!(!r.contains("* ESEARCH") && !r.contains("* SORT"), "{r}");
    let r = c.ok("R9", "SEARCH $", "OK");
    assert!(r.contains("* SEARCH 4 5\r\n"), "{r}");
    // Without RETURN, plain * SORT as before.
    let r = c.ok("R10", "SORT (SUBJECT) US-ASCII ALL", "OK");
    assert!(r.contains("* SORT 2 3 1 5 4\r\n"), "{r}");
}

/// Headers that start with a group sort by the group's name (as Dovecot;
/// imaptest's sort-addresses and sort-display-to).
#[test]
fn groups_sort_by_name() {
    let mut c = session();
    c.add(
        &["Cc: user2@domain2.org (foo bar)", "To: zed <z@x.test>"],
        "1\r\n",
        None,
    );
    c.add(
        &[
            "Cc: user2: blah@domain1.org;",
            "To: a: xx@xx.org, yy@yy.org;",
        ],
        "2\r\n",
        None,
    );
    c.add(&["Cc: user1@domain1.org", "To: empty:;"], "3\r\n", None);
    c.select();
    assert_eq!(c.sort("SORT (CC) US-ASCII ALL"), [3, 1, 2]);
    assert_eq!(c.sort("SORT (CC REVERSE ARRIVAL) US-ASCII ALL"), [3, 1, 2]);
    assert_eq!(c.sort("SORT (DISPLAYTO) US-ASCII ALL"), [2, 3, 1]);
}
