//! METADATA and METADATA-SERVER (RFC 5464) through the session, over MemStore
//! and MaildirStore: exact responses, DEPTH and MAXSIZE, the response codes,
//! RENAME/DELETE, a store without metadata, and persistence of Maildir
//! entries across a reopen.

mod ext;

use std::sync::Arc;

use bytes::Bytes;
use ext::{backends, config, untagged, Client, Plain, TempDir};
use imap_server_core::{MaildirStore, Mailstore};

/// §4.2, §4.3: server entries (mailbox ""), set, read back, NIL for a
/// missing entry (as Dovecot), removal with NIL.
#[test]
fn server_entries_set_get_remove() {
    for b in backends() {
        let mut c = Client::login(&b.store);
        let r = c.ok("A", "GETMETADATA \"\" /private/foo", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA \"\" (/private/foo NIL)"],
            "{}",
            b.name
        );
        c.ok(
            "B",
            "SETMETADATA \"\" (/private/foo \"bar\" /shared/Vendor/x \"y\")",
            "OK",
        );
        let r = c.ok(
            "C",
            "GETMETADATA \"\" (/private/foo /shared/vendor/X /shared/none)",
            "OK",
        );
        assert_eq!(
            untagged(&r),
            vec!["* METADATA \"\" (/private/foo \"bar\" /shared/vendor/x \"y\" /shared/none NIL)"],
            "{}: names are case-insensitive and reported in lower case",
            b.name
        );
        // Server entries are not INBOX's.
        let r = c.ok("D", "GETMETADATA INBOX /private/foo", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA INBOX (/private/foo NIL)"],
            "{}",
            b.name
        );
        c.ok("E", "SETMETADATA \"\" (/private/foo NIL)", "OK");
        let r = c.ok("F", "GETMETADATA \"\" /private/foo", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA \"\" (/private/foo NIL)"],
            "{}",
            b.name
        );
    }
}

/// §4.2.2 DEPTH, §4.2.1 MAXSIZE and `[METADATA LONGENTRIES n]`.
#[test]
fn depth_and_maxsize() {
    for b in backends() {
        let mut c = Client::login(&b.store);
        c.ok(
            "A",
            "SETMETADATA INBOX (/shared/a \"1\" /shared/a/b \"22\" /shared/a/b/c \"333\" /private/p \"4444\")",
            "OK",
        );
        let r = c.ok("B", "GETMETADATA (DEPTH 0) INBOX /shared/a", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA INBOX (/shared/a \"1\")"],
            "{}",
            b.name
        );
        let r = c.ok("C", "GETMETADATA (DEPTH 1) INBOX /shared/a", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA INBOX (/shared/a \"1\" /shared/a/b \"22\")"],
            "{}",
            b.name
        );
        let r = c.ok("D", "GETMETADATA (DEPTH infinity) INBOX /shared", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA INBOX (/shared/a \"1\" /shared/a/b \"22\" /shared/a/b/c \"333\")"],
            "{}",
            b.name
        );
        // Nothing below: no METADATA response at all.
        let r = c.ok("E", "GETMETADATA (DEPTH 1) INBOX /shared/none", "OK");
        assert!(untagged(&r).is_empty(), "{}: {r}", b.name);
        let r = c.ok(
            "F",
            "GETMETADATA (MAXSIZE 2 DEPTH infinity) INBOX (/shared /private)",
            "OK [METADATA LONGENTRIES 4]",
        );
        assert_eq!(
            untagged(&r),
            vec!["* METADATA INBOX (/shared/a \"1\" /shared/a/b \"22\")"],
            "{}",
            b.name
        );
        let r = c.ok(
            "G",
            "GETMETADATA (MAXSIZE 0) INBOX /private/p",
            "OK [METADATA LONGENTRIES 4]",
        );
        assert!(untagged(&r).is_empty(), "{}: {r}", b.name);
    }
}

/// Bad entry names are a BAD (as Dovecot); a missing mailbox is NO
/// [NONEXISTENT]; a value may be a literal and hold any octet but NUL.
#[test]
fn names_mailboxes_and_literal_values() {
    for b in backends() {
        let mut c = Client::login(&b.store);
        for (t, cmd) in [
            ("A", "SETMETADATA INBOX (/foo \"x\")"),
            ("B", "SETMETADATA INBOX (/private/a* \"x\")"),
            ("C", "SETMETADATA INBOX (/shared/ \"x\")"),
            ("D", "SETMETADATA INBOX (/shared//a \"x\")"),
            ("E", "SETMETADATA INBOX (/shared \"x\")"),
            ("F", "GETMETADATA INBOX /sharedx"),
            ("G", "GETMETADATA INBOX /private/%"),
        ] {
            c.ok(t, cmd, "BAD [CLIENTBUG]");
        }
        c.ok("H", "GETMETADATA nosuch /private/x", "NO [NONEXISTENT]");
        c.ok(
            "I",
            "SETMETADATA nosuch (/private/x \"1\")",
            "NO [NONEXISTENT]",
        );
        let r = c.send("J SETMETADATA INBOX (/private/multi {6+}\r\nl1\r\nl2)\r\n");
        ext::assert_tagged(&r, "J", "OK");
        let r = c.ok("K", "GETMETADATA INBOX /private/multi", "OK");
        assert!(
            r.starts_with("* METADATA INBOX (/private/multi {6}\r\nl1\r\nl2)\r\n"),
            "{}: {r}",
            b.name
        );
    }
}

/// §4.3: `[METADATA MAXSIZE n]`, `[METADATA TOOMANY]` (all or nothing) and
/// `[METADATA NOPRIVATE]`, from the configured limits.
#[test]
fn set_limits() {
    for b in backends() {
        let mut cfg = config();
        cfg.limits.metadata_max_entry_size = 4;
        cfg.limits.metadata_max_entries = 2;
        let mut c = Client::login_with(&b.store, cfg);
        c.ok(
            "A",
            "SETMETADATA INBOX (/shared/a \"12345\")",
            "NO [METADATA MAXSIZE 4]",
        );
        c.ok(
            "B",
            "SETMETADATA INBOX (/shared/a \"1234\" /shared/b \"1\")",
            "OK",
        );
        c.ok(
            "C",
            "SETMETADATA INBOX (/shared/c \"1\")",
            "NO [METADATA TOOMANY]",
        );
        // Replacing and removing at the limit work; nothing of C was kept.
        c.ok(
            "D",
            "SETMETADATA INBOX (/shared/b \"2\" /shared/c NIL)",
            "OK",
        );
        c.ok(
            "E",
            "SETMETADATA INBOX (/shared/a NIL /shared/c \"3\")",
            "OK",
        );
        let r = c.ok("F", "GETMETADATA (DEPTH 1) INBOX /shared", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA INBOX (/shared/b \"2\" /shared/c \"3\")"],
            "{}",
            b.name
        );
        let mut cfg = config();
        cfg.metadata_private = false;
        let mut c = Client::login_with(&b.store, cfg);
        c.ok(
            "G",
            "SETMETADATA INBOX (/private/x \"1\")",
            "NO [METADATA NOPRIVATE]",
        );
        c.ok("H", "SETMETADATA INBOX (/shared/d NIL)", "OK");
    }
}

/// Entries follow RENAME and go with DELETE (a new mailbox of the same name
/// starts empty).
#[test]
fn rename_and_delete() {
    for b in backends() {
        let mut c = Client::login(&b.store);
        c.ok("A", "CREATE Old", "OK");
        c.ok("B", "SETMETADATA Old (/shared/comment \"kept\")", "OK");
        c.ok("C", "RENAME Old New", "OK");
        let r = c.ok("D", "GETMETADATA New /shared/comment", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA New (/shared/comment \"kept\")"],
            "{}",
            b.name
        );
        c.ok("E", "GETMETADATA Old /shared/comment", "NO [NONEXISTENT]");
        c.ok("F", "DELETE New", "OK");
        c.ok("G", "CREATE New", "OK");
        let r = c.ok("H", "GETMETADATA New /shared/comment", "OK");
        assert_eq!(
            untagged(&r),
            vec!["* METADATA New (/shared/comment NIL)"],
            "{}",
            b.name
        );
    }
}

/// Maildir: server and mailbox entries survive closing and reopening the
/// store.
#[test]
fn maildir_entries_persist() {
    let dir = TempDir::new("metadata-persist");
    {
        let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
        let mut c = Client::login(&store);
        c.ok("A", "CREATE Box", "OK");
        c.ok("B", "SETMETADATA \"\" (/private/s \"server\")", "OK");
        c.send("C SETMETADATA Box (/shared/bin {5+}\r\na\r\n\"b)\r\n");
        c.ok("D", "SETMETADATA Box (/shared/x \"1\" /shared/x NIL)", "OK");
    }
    let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
    let mut c = Client::login(&store);
    let r = c.ok("E", "GETMETADATA \"\" /private/s", "OK");
    assert_eq!(
        untagged(&r),
        vec!["* METADATA \"\" (/private/s \"server\")"]
    );
    let r = c.ok("F", "GETMETADATA (DEPTH 1) Box /shared", "OK");
    assert!(
        r.starts_with("* METADATA Box (/shared/bin {5}\r\na\r\n\"b)\r\n"),
        "{r}"
    );
}

#[test]
fn store_without_features_advertises_none() {
    let store: Arc<dyn Mailstore> = Arc::new(Plain::default());
    let mut c = Client::login(&store);
    let r = c.ok("A", "CAPABILITY", "OK");
    let caps = untagged(&r)[0];
    for absent in [" METADATA", " METADATA-SERVER", " SAVEDATE", " OBJECTID"] {
        assert!(!caps.contains(absent), "{absent} in {caps}");
    }
    assert!(caps.contains(" PREVIEW"), "{caps}");
    c.ok("B", "GETMETADATA \"\" /private/x", "BAD");
    c.ok("C", "SETMETADATA \"\" (/private/x \"1\")", "BAD");
    c.append_to("INBOX", "Subject: x\r\n\r\nx\r\n");
    let r = c.ok("D", "SELECT INBOX", "OK");
    assert!(!r.contains("MAILBOXID"), "{r}");
    c.ok("E", "FETCH 1 SAVEDATE", "BAD");
    c.ok("F", "FETCH 1 EMAILID", "BAD");
    c.ok("G", "SEARCH SAVEDATESUPPORTED", "BAD");
    c.ok("H", "SEARCH EMAILID M1", "BAD");
    // The metadata methods' defaults refuse.
    assert!(store.get_metadata("alice", None).is_err());
    let change = [("/private/x".to_owned(), Some(Bytes::from_static(b"1")))];
    assert!(store.set_metadata("alice", None, &change, 10).is_err());
}

/// Capabilities appear after login only.
#[test]
fn advertised_after_login() {
    for b in backends() {
        let auth: Arc<dyn imap_server_core::Authenticator> =
            Arc::new(imap_server_core::StaticAuthenticator::new().with_user("alice", "secret"));
        let mut conn = imap_server_core::ServerConnection::new(
            b.store.clone(),
            auth,
            Arc::new(config()),
            false,
            Arc::new(|| {}),
            std::time::Instant::now(),
        );
        let greeting = conn.poll_transmit(std::time::Instant::now()).unwrap();
        let greeting = String::from_utf8_lossy(&greeting);
        assert!(!greeting.contains("METADATA"), "{greeting}");
        let mut c = Client::login(&b.store);
        let r = c.ok("A", "CAPABILITY", "OK");
        for want in [
            " METADATA ",
            " METADATA-SERVER ",
            " SAVEDATE ",
            " OBJECTID ",
            " PREVIEW",
        ] {
            assert!(r.contains(want), "{}: {want} missing in {r}", b.name);
        }
    }
}

/// The store's change feed (`watch_mailboxes`): one `MetadataChanged` per
/// `set_metadata` that changed entries, naming those entries (removals
/// included), the mailbox by its canonical name; nothing for a call that
/// changed nothing or failed; nothing for another user's watch.
#[test]
fn stores_report_metadata_changes() {
    use imap_proto::Mailbox;
    use imap_server_core::{MailboxEvent, MailboxEventSink};
    use std::sync::Mutex;

    for b in backends() {
        assert!(b.store.features().metadata_events, "{}", b.name);
        let seen: Arc<Mutex<Vec<MailboxEvent>>> = Arc::default();
        let sink: MailboxEventSink = {
            let seen = seen.clone();
            Arc::new(move |e: &MailboxEvent| seen.lock().unwrap().push(e.clone()))
        };
        let _guard = b.store.watch_mailboxes("alice", sink);
        let take = || std::mem::take(&mut *seen.lock().unwrap());
        let v = |s: &'static str| Some(Bytes::from_static(s.as_bytes()));
        let inbox = Mailbox::from("inbox");
        // Reach the user once so that both stores know it.
        b.store.list("alice").unwrap();
        b.store
            .set_metadata(
                "alice",
                Some(&inbox),
                &[
                    ("/shared/a".into(), v("1")),
                    ("/private/b".into(), v("2")),
                    ("/shared/a".into(), v("3")),
                ],
                10,
            )
            .unwrap();
        assert_eq!(
            take(),
            vec![MailboxEvent::MetadataChanged {
                mailbox: Some(Mailbox::from("INBOX")),
                entries: vec!["/shared/a".into(), "/private/b".into()],
            }],
            "{}",
            b.name
        );
        // Same values, and removing what does not exist: no change.
        b.store
            .set_metadata(
                "alice",
                Some(&inbox),
                &[("/shared/a".into(), v("3")), ("/shared/none".into(), None)],
                10,
            )
            .unwrap();
        assert_eq!(take(), vec![], "{}", b.name);
        // Over the limit: refused, nothing reported.
        let many: Vec<_> = (0..3).map(|i| (format!("/shared/m{i}"), v("x"))).collect();
        assert!(b
            .store
            .set_metadata("alice", Some(&inbox), &many, 3)
            .is_err());
        assert_eq!(take(), vec![], "{}", b.name);
        b.store
            .set_metadata("alice", None, &[("/private/b".into(), v("1"))], 10)
            .unwrap();
        b.store
            .set_metadata("alice", None, &[("/private/b".into(), None)], 10)
            .unwrap();
        let server = |e: &str| MailboxEvent::MetadataChanged {
            mailbox: None,
            entries: vec![e.into()],
        };
        assert_eq!(
            take(),
            vec![server("/private/b"), server("/private/b")],
            "{}",
            b.name
        );
        // Another user's change is not reported to alice's watch.
        b.store.list("bob").unwrap();
        b.store
            .set_metadata("bob", None, &[("/private/b".into(), v("1"))], 10)
            .unwrap();
        assert_eq!(take(), vec![], "{}", b.name);
    }
}
