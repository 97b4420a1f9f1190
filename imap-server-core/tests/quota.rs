//! QUOTA (RFC 9208) through the session, over MemStore and MaildirStore:
//! exact GETQUOTA/GETQUOTAROOT/SETQUOTA answers, `NO [OVERQUOTA]` for
//! APPEND, MULTIAPPEND (all or nothing) and COPY, MOVE within the root,
//! APPENDLIMIT from the room left (RFC 7889), STATUS DELETED-STORAGE, and
//! Maildir usage after expunge, reopen, a simulated crash and delivery into
//! `new/`.

mod ext;

use std::fs;
use std::sync::Arc;

use ext::{backends, config, untagged, Client, Plain, TempDir};
use imap_server_core::{
    MaildirStore, Mailstore, MemStore, QuotaLimits, QuotaUsage, ServerConfig, StaticQuota,
};

/// Storage limit of the tests: 4 KiB.
const STORAGE: u64 = 4096;
/// Message limit of the tests.
const MESSAGES: u64 = 3;

fn limits() -> QuotaLimits {
    QuotaLimits {
        storage: Some(STORAGE),
        messages: Some(MESSAGES),
        mailboxes: None,
    }
}

fn quota_config(policy: StaticQuota) -> ServerConfig {
    let mut cfg = config();
    cfg.quota = Some(Arc::new(policy));
    cfg
}

fn login(store: &Arc<dyn Mailstore>) -> Client {
    Client::login_with(store, quota_config(StaticQuota::new(limits())))
}

/// A message of exactly `n` octets (n ≥ 16).
fn msg(n: usize) -> String {
    let head = "Subject: q\r\n\r\n";
    format!("{head}{}", "x".repeat(n - head.len()))
}

fn append(c: &mut Client, tag: &str, mailbox: &str, m: &str) -> String {
    c.send(&format!(
        "{tag} APPEND {mailbox} {{{}+}}\r\n{m}\r\n",
        m.len()
    ))
}

fn tagged<'a>(r: &'a str, tag: &str) -> &'a str {
    r.lines()
        .find(|l| l.starts_with(&format!("{tag} ")))
        .unwrap_or_else(|| panic!("no {tag} in {r:?}"))
}

fn getquota(c: &mut Client) -> String {
    let r = c.ok("GQ", "GETQUOTA \"User quota\"", "OK");
    untagged(&r).join("\n")
}

fn messages_in(c: &mut Client, mailbox: &str) -> String {
    let r = c.ok("ST", &format!("STATUS {mailbox} (MESSAGES)"), "OK");
    untagged(&r).join("\n")
}

/// §3.1, §5: QUOTA and the resources are advertised after login when the
/// store counts usage and a policy is set; not before login, not without a
/// policy; QUOTASET only for a user the policy lets set limits.
#[test]
fn capabilities() {
    for b in backends() {
        let mut c = login(&b.store);
        let r = c.ok("A", "CAPABILITY", "OK");
        for want in [
            " QUOTA ",
            " QUOTA=RES-STORAGE ",
            " QUOTA=RES-MESSAGE ",
            " QUOTA=RES-MAILBOX",
        ] {
            assert!(r.contains(want), "{}: {want} missing in {r}", b.name);
        }
        assert!(!r.contains("QUOTASET"), "{r}");
        // The literal limit is larger than the room: APPENDLIMIT is the room.
        assert!(r.contains(" APPENDLIMIT=4096 "), "{}: {r}", b.name);
        let mut plain = Client::login(&b.store);
        let r = plain.ok("B", "CAPABILITY", "OK");
        assert!(!r.contains("QUOTA"), "no policy: {r}");
        plain.ok("C", "GETQUOTAROOT INBOX", "BAD");
        let admin = StaticQuota::new(limits()).with_admin("alice");
        let mut a = Client::login_with(&b.store, quota_config(admin));
        let r = a.ok("D", "CAPABILITY", "OK");
        assert!(r.contains(" QUOTASET"), "{r}");
    }
}

/// §4.1.2, §4.1.1: GETQUOTAROOT names the root and gives its QUOTA;
/// STORAGE in units of 1024 octets rounded up (§5.1), MESSAGE a count
/// (§5.2); an unknown root or mailbox is NO.
#[test]
fn getquotaroot_and_getquota() {
    for b in backends() {
        let mut c = login(&b.store);
        let r = c.ok("A", "GETQUOTAROOT INBOX", "OK");
        assert_eq!(
            untagged(&r),
            vec![
                "* QUOTAROOT INBOX \"User quota\"",
                "* QUOTA \"User quota\" (STORAGE 0 4 MESSAGE 0 3)"
            ],
            "{}",
            b.name
        );
        let m = msg(1500);
        assert!(tagged(&append(&mut c, "B", "INBOX", &m), "B").starts_with("B OK"));
        c.ok("C", "CREATE Sub", "OK");
        assert!(tagged(&append(&mut c, "D", "Sub", &msg(100)), "D").starts_with("D OK"));
        // 1600 octets in two mailboxes: 2 units, 2 messages, for every mailbox.
        let r = c.ok("E", "GETQUOTAROOT Sub", "OK");
        assert_eq!(
            untagged(&r),
            vec![
                "* QUOTAROOT Sub \"User quota\"",
                "* QUOTA \"User quota\" (STORAGE 2 4 MESSAGE 2 3)"
            ],
            "{}",
            b.name
        );
        assert_eq!(
            getquota(&mut c),
            "* QUOTA \"User quota\" (STORAGE 2 4 MESSAGE 2 3)"
        );
        let r = c.ok("F", "GETQUOTA \"\"", "NO");
        assert!(tagged(&r, "F").starts_with("F NO [NONEXISTENT]"), "{r}");
        let r = c.ok("G", "GETQUOTAROOT Nope", "NO");
        assert!(tagged(&r, "G").starts_with("G NO [NONEXISTENT]"), "{r}");
    }
}

/// §4.3: an APPEND that would pass the storage limit fails with
/// `[OVERQUOTA]` and stores nothing; after EXPUNGE it fits again.
#[test]
fn append_over_storage_then_expunge() {
    for b in backends() {
        let mut c = login(&b.store);
        assert!(tagged(&append(&mut c, "A", "INBOX", &msg(3000)), "A").starts_with("A OK"));
        let r = append(&mut c, "B", "INBOX", &msg(1200));
        assert_eq!(
            tagged(&r, "B"),
            "B NO [OVERQUOTA] Quota exceeded (mailbox for user is full)",
            "{}",
            b.name
        );
        assert_eq!(messages_in(&mut c, "INBOX"), "* STATUS INBOX (MESSAGES 1)");
        // A missing mailbox is still TRYCREATE.
        let r = append(&mut c, "B2", "Missing", &msg(1200));
        assert!(tagged(&r, "B2").starts_with("B2 NO [TRYCREATE]"), "{r}");
        // Exactly the room left fits.
        assert!(tagged(&append(&mut c, "C", "INBOX", &msg(1096)), "C").starts_with("C OK"));
        assert_eq!(
            getquota(&mut c),
            "* QUOTA \"User quota\" (STORAGE 4 4 MESSAGE 2 3)"
        );
        let r = append(&mut c, "D", "INBOX", &msg(16));
        assert!(tagged(&r, "D").starts_with("D NO [OVERQUOTA]"), "{r}");
        c.ok("E", "SELECT INBOX", "OK");
        c.ok("F", "STORE 1 +FLAGS (\\Deleted)", "OK");
        // DELETED-STORAGE: what EXPUNGE would free, in KiB (§4.2).
        let r = c.ok("G", "STATUS INBOX (DELETED DELETED-STORAGE)", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* STATUS INBOX (DELETED 1 DELETED-STORAGE 3)"],
            "{}",
            b.name
        );
        c.ok("H", "EXPUNGE", "OK");
        assert_eq!(
            getquota(&mut c),
            "* QUOTA \"User quota\" (STORAGE 2 4 MESSAGE 1 3)"
        );
        assert!(tagged(&append(&mut c, "I", "INBOX", &msg(1200)), "I").starts_with("I OK"));
    }
}

/// §4.3 with MULTIAPPEND (RFC 3502): a batch that would pass the message
/// limit is refused whole, even though its first message would fit.
#[test]
fn multiappend_all_or_nothing() {
    for b in backends() {
        let mut c = login(&b.store);
        for t in ["A", "B"] {
            assert!(tagged(&append(&mut c, t, "INBOX", &msg(20)), t).contains("OK"));
        }
        let (m1, m2) = (msg(20), msg(21));
        let r = c.send(&format!(
            "C APPEND INBOX {{{}+}}\r\n{m1} {{{}+}}\r\n{m2}\r\n",
            m1.len(),
            m2.len()
        ));
        assert!(tagged(&r, "C").starts_with("C NO [OVERQUOTA]"), "{r}");
        assert_eq!(messages_in(&mut c, "INBOX"), "* STATUS INBOX (MESSAGES 2)");
        assert_eq!(
            getquota(&mut c),
            "* QUOTA \"User quota\" (STORAGE 1 4 MESSAGE 2 3)"
        );
    }
}

/// COPY adds the copies' size (refused when it would pass a limit); MOVE
/// stays in the one root and is never refused; a COPY to a missing mailbox
/// is still `[TRYCREATE]`.
#[test]
fn copy_and_move() {
    for b in backends() {
        let mut c = login(&b.store);
        c.ok("A", "CREATE Other", "OK");
        assert!(tagged(&append(&mut c, "B", "INBOX", &msg(2500)), "B").contains("OK"));
        c.ok("C", "SELECT INBOX", "OK");
        let r = c.ok("D", "COPY 1 Other", "NO");
        assert!(tagged(&r, "D").starts_with("D NO [OVERQUOTA]"), "{r}");
        assert_eq!(messages_in(&mut c, "Other"), "* STATUS Other (MESSAGES 0)");
        let r = c.ok("E", "COPY 1 Missing", "NO");
        assert!(tagged(&r, "E").starts_with("E NO [TRYCREATE]"), "{r}");
        // Two small messages fill the message limit; MOVE still works.
        assert!(tagged(&append(&mut c, "F", "INBOX", &msg(20)), "F").contains("OK"));
        assert!(tagged(&append(&mut c, "G", "INBOX", &msg(20)), "G").contains("OK"));
        c.ok("H", "MOVE 1:* Other", "OK");
        assert_eq!(messages_in(&mut c, "Other"), "* STATUS Other (MESSAGES 3)");
        c.ok("I", "SELECT Other", "OK");
        let r = c.ok("J", "COPY 2 INBOX", "NO");
        assert!(tagged(&r, "J").starts_with("J NO [OVERQUOTA]"), "{r}");
        assert_eq!(
            getquota(&mut c),
            "* QUOTA \"User quota\" (STORAGE 3 4 MESSAGE 3 3)"
        );
    }
}

/// RFC 7889: STATUS APPENDLIMIT is the room left; 0 when the message
/// count is at its limit.
#[test]
fn appendlimit_is_room_left() {
    for b in backends() {
        let mut c = login(&b.store);
        assert!(tagged(&append(&mut c, "A", "INBOX", &msg(1000)), "A").contains("OK"));
        let r = c.ok("B", "STATUS INBOX (APPENDLIMIT)", "OK");
        assert_eq!(untagged(&r), vec!["* STATUS INBOX (APPENDLIMIT 3096)"]);
        let r = c.ok("C", "CAPABILITY", "OK");
        assert!(r.contains(" APPENDLIMIT=3096 "), "{r}");
        for t in ["D", "E"] {
            assert!(tagged(&append(&mut c, t, "INBOX", &msg(20)), t).contains("OK"));
        }
        let r = c.ok("F", "STATUS INBOX (APPENDLIMIT)", "OK");
        assert_eq!(untagged(&r), vec!["* STATUS INBOX (APPENDLIMIT 0)"]);
    }
    // Without limits, the literal limit.
    let store: Arc<dyn Mailstore> = Arc::new(MemStore::new());
    let mut c = Client::login_with(&store, quota_config(StaticQuota::new(QuotaLimits::NONE)));
    let r = c.ok("G", "STATUS INBOX (APPENDLIMIT)", "OK");
    assert_eq!(
        untagged(&r),
        vec![format!(
            "* STATUS INBOX (APPENDLIMIT {})",
            imap_server_core::ServerLimits::MAX_LITERAL
        )]
    );
    let r = c.ok("H", "GETQUOTAROOT INBOX", "OK");
    assert_eq!(
        untagged(&r),
        vec![
            "* QUOTAROOT INBOX \"User quota\"",
            "* QUOTA \"User quota\" ()"
        ]
    );
}

/// §4.1.3: SETQUOTA is refused unless the administrator hook allows it;
/// then resources not named lose their limit, and an unknown one is refused.
#[test]
fn setquota_needs_admin() {
    let store: Arc<dyn Mailstore> = Arc::new(MemStore::new());
    let mut c = login(&store);
    let r = c.ok("A", "SETQUOTA \"User quota\" (STORAGE 10)", "NO");
    assert_eq!(
        tagged(&r, "A"),
        "A NO [NOPERM] Quota can be changed only by admin"
    );
    let admin = StaticQuota::new(limits()).with_admin("alice");
    let mut a = Client::login_with(&store, quota_config(admin));
    let r = a.ok("B", "SETQUOTA \"User quota\" (STORAGE 10)", "OK");
    assert_eq!(untagged(&r), vec!["* QUOTA \"User quota\" (STORAGE 0 10)"]);
    let r = a.ok("B2", "SETQUOTA \"User quota\" (MAILBOX 50)", "OK");
    let n = store.list("alice").unwrap().len();
    assert_eq!(
        untagged(&r),
        vec![format!("* QUOTA \"User quota\" (MAILBOX {n} 50)")]
    );
    let r = a.ok("C", "SETQUOTA \"User quota\" (FROBS 1)", "NO");
    assert!(tagged(&r, "C").starts_with("C NO [CANNOT]"), "{r}");
    let r = a.ok("D", "SETQUOTA \"Other\" (STORAGE 1)", "NO");
    assert!(tagged(&r, "D").starts_with("D NO [NONEXISTENT]"), "{r}");
}

/// Per-user overrides replace the defaults only for what they set.
#[test]
fn per_user_override() {
    let store: Arc<dyn Mailstore> = Arc::new(MemStore::new());
    let policy = StaticQuota::new(limits()).with_user(
        "alice",
        QuotaLimits {
            storage: Some(imap_server_core::parse_size("1M").unwrap().unwrap()),
            messages: None,
            mailboxes: None,
        },
    );
    let mut c = Client::login_with(&store, quota_config(policy));
    let r = c.ok("A", "GETQUOTAROOT INBOX", "OK");
    assert_eq!(
        untagged(&r)[1],
        "* QUOTA \"User quota\" (STORAGE 0 1024 MESSAGE 0 3)"
    );
}

#[test]
fn store_without_quota_advertises_none() {
    let store: Arc<dyn Mailstore> = Arc::new(Plain::default());
    assert!(!store.features().quota);
    let mut c = login(&store);
    let r = c.ok("A", "CAPABILITY", "OK");
    assert!(!r.contains("QUOTA"), "{r}");
    assert!(
        r.contains(&format!(
            " APPENDLIMIT={} ",
            imap_server_core::ServerLimits::MAX_LITERAL
        )),
        "{r}"
    );
    c.ok("B", "GETQUOTAROOT INBOX", "BAD");
    c.ok("C", "GETQUOTA \"User quota\"", "BAD");
    c.ok("D", "SETQUOTA \"User quota\" (STORAGE 1)", "BAD");
    // No limit applies: 5 messages over a limit of 3.
    for t in ["E1", "E2", "E3", "E4", "E5"] {
        assert!(tagged(&append(&mut c, t, "INBOX", &msg(2000)), t).contains("OK"));
    }
    // The default usage sum still works for a store that calls it.
    assert_eq!(
        store.quota_usage("alice").unwrap(),
        QuotaUsage {
            storage: 10_000,
            messages: 5
        }
    );
}

// ------------------------------------------------------------ Maildir

fn maildir(dir: &TempDir) -> Arc<dyn Mailstore> {
    Arc::new(MaildirStore::open(&dir.0).expect("open maildir"))
}

/// Usage is the same after expunge and after the store is opened again.
#[test]
fn maildir_usage_after_expunge_and_reopen() {
    let dir = TempDir::new("quota-reopen");
    {
        let store = maildir(&dir);
        let mut c = login(&store);
        c.ok("A", "CREATE Sub", "OK");
        assert!(tagged(&append(&mut c, "B", "INBOX", &msg(1500)), "B").contains("OK"));
        assert!(tagged(&append(&mut c, "C", "Sub", &msg(600)), "C").contains("OK"));
        assert!(tagged(&append(&mut c, "D", "Sub", &msg(700)), "D").contains("OK"));
        c.ok("E", "SELECT Sub", "OK");
        c.ok("F", "STORE 1 +FLAGS (\\Deleted)", "OK");
        c.ok("G", "EXPUNGE", "OK");
        assert_eq!(
            store.quota_usage("alice").unwrap(),
            QuotaUsage {
                storage: 2200,
                messages: 2
            }
        );
    }
    let store = maildir(&dir);
    assert_eq!(
        store.quota_usage("alice").unwrap(),
        QuotaUsage {
            storage: 2200,
            messages: 2
        }
    );
    let mut c = login(&store);
    assert_eq!(
        getquota(&mut c),
        "* QUOTA \"User quota\" (STORAGE 3 4 MESSAGE 2 3)"
    );
}

/// A crash after the message file was written but before anything else
/// was recorded (simulated: a file put into `cur/` behind the store's
/// back) still counts after restart.
#[test]
fn maildir_usage_after_simulated_crash() {
    let dir = TempDir::new("quota-crash");
    {
        let store = maildir(&dir);
        let mut c = login(&store);
        assert!(tagged(&append(&mut c, "A", "INBOX", &msg(1000)), "A").contains("OK"));
    }
    let inbox = dir.0.join("alice");
    assert!(inbox.join("cur").is_dir(), "INBOX layout changed?");
    fs::write(
        inbox
            .join("cur")
            .join("1700000000.M1P1.crashhost,S=900:2,S"),
        msg(900),
    )
    .unwrap();
    let store = maildir(&dir);
    assert_eq!(
        store.quota_usage("alice").unwrap(),
        QuotaUsage {
            storage: 1900,
            messages: 2
        }
    );
    let mut c = login(&store);
    assert_eq!(
        getquota(&mut c),
        "* QUOTA \"User quota\" (STORAGE 2 4 MESSAGE 2 3)"
    );
}

/// Mail an MDA drops into `new/` counts, even over quota (delivery is not
/// refused); GETQUOTA shows it and the next APPEND fails until EXPUNGE.
#[test]
fn maildir_delivery_into_new_counts() {
    let dir = TempDir::new("quota-new");
    let store = maildir(&dir);
    let mut c = login(&store);
    assert!(tagged(&append(&mut c, "A", "INBOX", &msg(3000)), "A").contains("OK"));
    let new = dir.0.join("alice").join("new");
    fs::write(new.join("1700000001.M2P2.mda"), msg(2000)).unwrap();
    assert_eq!(
        getquota(&mut c),
        "* QUOTA \"User quota\" (STORAGE 5 4 MESSAGE 2 3)"
    );
    let r = append(&mut c, "B", "INBOX", &msg(16));
    assert!(tagged(&r, "B").starts_with("B NO [OVERQUOTA]"), "{r}");
    let r = c.ok("C", "STATUS INBOX (APPENDLIMIT)", "OK");
    assert_eq!(untagged(&r), vec!["* STATUS INBOX (APPENDLIMIT 0)"]);
    c.ok("D", "SELECT INBOX", "OK");
    c.ok("E", "STORE 2 +FLAGS (\\Deleted)", "OK");
    c.ok("F", "EXPUNGE", "OK");
    assert!(tagged(&append(&mut c, "G", "INBOX", &msg(16)), "G").contains("OK"));
    // A restart sees the same.
    drop(c);
    drop(store);
    let store = maildir(&dir);
    assert_eq!(
        store.quota_usage("alice").unwrap(),
        QuotaUsage {
            storage: 3016,
            messages: 2
        }
    );
}

/// §5.3: the MAILBOX resource counts the user's mailboxes (INBOX included);
/// a CREATE at the limit fails with `NO [OVERQUOTA]` and creates nothing;
/// after a DELETE there is room again. SETQUOTA accepts MAILBOX.
#[test]
fn mailbox_resource() {
    for b in backends() {
        let mut c = Client::login_with(
            &b.store,
            quota_config(StaticQuota::new(QuotaLimits {
                mailboxes: Some(3),
                ..QuotaLimits::NONE
            })),
        );
        let have = b.store.list("alice").unwrap().len() as u64;
        let r = c.ok("A", "GETQUOTAROOT INBOX", "OK");
        assert_eq!(
            untagged(&r)[1],
            format!("* QUOTA \"User quota\" (MAILBOX {have} 3)"),
            "{}",
            b.name
        );
        // Fill up to the limit (a new user may already have a few).
        let mut made = Vec::new();
        for i in 0..3u64.saturating_sub(have) {
            let name = format!("Box{i}");
            c.ok("C", &format!("CREATE {name}"), "OK");
            made.push(name);
        }
        let r = c.send("D CREATE Overflow\r\n");
        assert!(
            tagged(&r, "D").starts_with("D NO [OVERQUOTA]"),
            "{}: {r}",
            b.name
        );
        let r = c.ok("E", "LIST \"\" Overflow", "OK");
        assert!(untagged(&r).is_empty(), "{}: created anyway: {r}", b.name);
        if let Some(name) = made.pop() {
            c.ok("F", &format!("DELETE {name}"), "OK");
            c.ok("G", "CREATE Overflow", "OK");
        }
    }
}

/// §5.3 with RFC 9051 §6.3.6: RENAME INBOX moves INBOX's messages to a new
/// mailbox and leaves INBOX, empty, so it adds a mailbox: at the MAILBOX
/// limit it fails with `NO [OVERQUOTA]` and moves nothing. A plain RENAME
/// keeps the count, so it works at the limit; with room, RENAME INBOX works.
#[test]
fn rename_inbox_counts_against_mailbox_resource() {
    for b in backends() {
        // The user's own mailboxes (a new user may start with several), and
        // room for one more, which the test makes.
        let have = b.store.list("alice").unwrap().len() as u64;
        let limit = have + 1;
        let mut c = Client::login_with(
            &b.store,
            quota_config(StaticQuota::new(QuotaLimits {
                mailboxes: Some(limit),
                ..QuotaLimits::NONE
            })),
        );
        c.ok("C", "CREATE Mine", "OK");
        c.append_to("INBOX", &msg(100));
        c.append_to("INBOX", &msg(200));
        let r = c.send("R RENAME INBOX Moved\r\n");
        assert_eq!(
            tagged(&r, "R"),
            "R NO [OVERQUOTA] Quota exceeded (mailbox for user is full)",
            "{}: {r}",
            b.name
        );
        let r = c.ok("L", "LIST \"\" Moved", "OK");
        assert!(untagged(&r).is_empty(), "{}: created anyway: {r}", b.name);
        assert_eq!(
            messages_in(&mut c, "INBOX"),
            "* STATUS INBOX (MESSAGES 2)",
            "{}: messages moved anyway",
            b.name
        );
        let r = c.ok("Q", "GETQUOTAROOT INBOX", "OK");
        assert_eq!(
            untagged(&r)[1],
            format!("* QUOTA \"User quota\" (MAILBOX {limit} {limit})"),
            "{}",
            b.name
        );
        // A plain RENAME at the limit: the count stays, so it is allowed.
        c.ok("P", "RENAME Mine Renamed", "OK");
        // With room, RENAME INBOX moves the messages and leaves INBOX empty.
        c.ok("D", "DELETE Renamed", "OK");
        c.ok("M", "RENAME INBOX Moved", "OK");
        assert_eq!(
            messages_in(&mut c, "Moved"),
            "* STATUS Moved (MESSAGES 2)",
            "{}",
            b.name
        );
        assert_eq!(
            messages_in(&mut c, "INBOX"),
            "* STATUS INBOX (MESSAGES 0)",
            "{}",
            b.name
        );
    }
}

/// §5.3 with RFC 9051 §6.3.4: CREATE of `a/b/c` also creates the missing
/// `a` and `a/b`, and RENAME to `x/y` the missing `x`; all of them count.
/// A CREATE that would pass the limit so is refused whole; an existing name
/// is left to the store (`[ALREADYEXISTS]`), even at the limit.
#[test]
fn superior_names_count_against_mailbox_resource() {
    for b in backends() {
        let have = b.store.list("alice").unwrap().len() as u64;
        let limit = have + 2;
        let mut c = Client::login_with(
            &b.store,
            quota_config(StaticQuota::new(QuotaLimits {
                mailboxes: Some(limit),
                ..QuotaLimits::NONE
            })),
        );
        // Three new names, room for two.
        let r = c.send("A CREATE a/b/c\r\n");
        assert_eq!(
            tagged(&r, "A"),
            "A NO [OVERQUOTA] Quota exceeded (mailbox for user is full)",
            "{}: {r}",
            b.name
        );
        let r = c.ok("L", "LIST \"\" a*", "OK");
        assert!(untagged(&r).is_empty(), "{}: created anyway: {r}", b.name);
        // Two fit.
        c.ok("B", "CREATE a/b", "OK");
        assert_eq!(
            b.store.list("alice").unwrap().len() as u64,
            limit,
            "{}",
            b.name
        );
        // At the limit: an existing name is the store's to refuse.
        let r = c.send("C CREATE a/b\r\n");
        assert!(
            tagged(&r, "C").starts_with("C NO [ALREADYEXISTS]"),
            "{}: {r}",
            b.name
        );
        // RENAME a/b to x/y would add x: refused; to a/z adds nothing: OK.
        let r = c.send("D RENAME a/b x/y\r\n");
        assert!(
            tagged(&r, "D").starts_with("D NO [OVERQUOTA]"),
            "{}: {r}",
            b.name
        );
        c.ok("E", "RENAME a/b a/z", "OK");
        let r = c.ok("F", "LIST \"\" *", "OK");
        assert!(
            r.contains("\"a/z\"") || r.contains(" a/z\r\n"),
            "{}: {r}",
            b.name
        );
        assert!(
            !r.contains("x/y") && !r.contains(" x\r\n"),
            "{}: {r}",
            b.name
        );
    }
}
