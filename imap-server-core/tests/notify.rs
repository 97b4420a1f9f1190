//! NOTIFY (RFC 5465) through the in-memory pump: two sessions on one
//! store; one changes things, the other is told, with exact responses. The
//! metadata events (§5.6, §5.7) run over MemStore and MaildirStore.

mod common;
mod ext;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use imap_server_core::{
    Authenticator, Mailstore, MemStore, ServerConfig, ServerConnection, StaticAuthenticator,
};

use common::{store, Client};

fn login(store: &Arc<MemStore>) -> Client {
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    let (mut c, _) = Client::start(store, Arc::new(cfg), false);
    let r = c.send("L1 LOGIN alice secret\r\n");
    assert!(r.contains("L1 OK"), "{r}");
    c
}

/// What the session sends when its waker has fired (as a driver does).
fn wake(c: &mut Client) -> String {
    let now = c.now;
    c.conn.handle_wakeup(now);
    c.drain()
}

fn append(c: &mut Client, mailbox: &str, msg: &str) {
    let r = c.send(&format!(
        "A APPEND {mailbox} {{{}+}}\r\n{msg}\r\n",
        msg.len()
    ));
    assert!(r.contains("A OK"), "{r}");
}

fn status(c: &mut Client, mailbox: &str, items: &str) -> String {
    let r = c.send(&format!("S STATUS {mailbox} ({items})\r\n"));
    r.lines().next().unwrap().to_owned()
}

#[test]
fn advertised() {
    let s = store();
    let mut c = login(&s);
    assert!(c.send("C CAPABILITY\r\n").contains(" NOTIFY"));
}

#[test]
fn initial_status() {
    let s = store();
    let mut a = login(&s);
    assert!(a.send("C CREATE box\r\n").contains("C OK"));
    append(&mut a, "box", "Subject: 1\r\n\r\nx\r\n");
    let st = status(&mut a, "box", "UIDVALIDITY HIGHESTMODSEQ");
    let v: Vec<&str> = st.split(['(', ')', ' ']).collect();
    let (validity, modseq) = (v[5], v[7]);
    assert_eq!(
        a.send("N NOTIFY SET STATUS (MAILBOXES box (MessageExpunge))\r\n"),
        "* STATUS box (MESSAGES 1)\r\nN OK NOTIFY completed\r\n"
    );
    assert_eq!(
        a.send("N NOTIFY SET STATUS (MAILBOXES box (MessageNew))\r\n"),
        format!("* STATUS box (MESSAGES 1 UIDNEXT 2 UIDVALIDITY {validity})\r\nN OK NOTIFY completed\r\n")
    );
    assert_eq!(
        a.send("N NOTIFY SET STATUS (MAILBOXES box (FlagChange))\r\n"),
        format!("* STATUS box (UIDVALIDITY {validity} HIGHESTMODSEQ {modseq})\r\nN OK NOTIFY completed\r\n")
    );
    assert_eq!(
        a.send("N NOTIFY SET (MAILBOXES box (MessageNew MessageExpunge FlagChange))\r\n"),
        "N OK NOTIFY completed\r\n"
    );
    assert_eq!(a.send("N NOTIFY NONE\r\n"), "N OK NOTIFY completed\r\n");
}

#[test]
fn status_for_other_mailboxes_outside_idle() {
    let s = store();
    let mut a = login(&s);
    let mut b = login(&s);
    assert!(a.send("C CREATE box\r\n").contains("C OK"));
    assert!(a.send("C CREATE other\r\n").contains("C OK"));
    assert_eq!(
        a.send("N NOTIFY SET (MAILBOXES box (MessageNew MessageExpunge FlagChange))\r\n"),
        "N OK NOTIFY completed\r\n"
    );
    let before = a.wakes.load(Ordering::SeqCst);
    // Another session appends: a's waker fires; no command is in progress.
    append(&mut b, "box", "Subject: 1\r\n\r\nx\r\n");
    assert!(a.wakes.load(Ordering::SeqCst) > before);
    let st = status(&mut b, "box", "UIDVALIDITY HIGHESTMODSEQ");
    let v: Vec<&str> = st.split(['(', ')', ' ']).collect();
    let (validity, modseq) = (v[5], v[7]);
    // FlagChange is in the group: the new HIGHESTMODSEQ comes along.
    assert_eq!(
        wake(&mut a),
        format!("* STATUS box (MESSAGES 1 UIDNEXT 2 UIDVALIDITY {validity} UNSEEN 1 HIGHESTMODSEQ {modseq})\r\n")
    );
    // Nothing new: nothing sent.
    assert_eq!(wake(&mut a), "");
    // A flag change.
    assert!(b.send("S SELECT box\r\n").contains("S OK"));
    assert!(b.send("T STORE 1 +FLAGS (\\Seen)\r\n").contains("T OK"));
    let modseq2: u64 = modseq.parse::<u64>().unwrap() + 1;
    assert_eq!(
        wake(&mut a),
        format!("* STATUS box (UIDVALIDITY {validity} UNSEEN 0 HIGHESTMODSEQ {modseq2})\r\n")
    );
    // An expunge.
    assert!(b.send("T STORE 1 +FLAGS (\\Deleted)\r\n").contains("T OK"));
    wake(&mut a);
    assert!(b.send("E EXPUNGE\r\n").contains("E OK"));
    let out = wake(&mut a);
    assert!(out.starts_with("* STATUS box (MESSAGES 0 "), "{out}");
    // A mailbox no filter names: nothing.
    append(&mut b, "other", "Subject: 2\r\n\r\ny\r\n");
    assert_eq!(wake(&mut a), "");
}

#[test]
fn mailbox_name_and_subscription_events() {
    let s = store();
    let mut a = login(&s);
    let mut b = login(&s);
    assert_eq!(
        a.send("N NOTIFY SET (PERSONAL (MailboxName SubscriptionChange))\r\n"),
        "N OK NOTIFY completed\r\n"
    );
    assert!(b.send("C CREATE p/q\r\n").contains("C OK"));
    assert_eq!(wake(&mut a), "* LIST () \"/\" p\r\n* LIST () \"/\" p/q\r\n");
    assert!(b.send("R RENAME p/q p/r\r\n").contains("R OK"));
    assert_eq!(wake(&mut a), "* LIST () \"/\" p/r (OLDNAME (p/q))\r\n");
    assert!(b.send("U SUBSCRIBE p/r\r\n").contains("U OK"));
    assert_eq!(wake(&mut a), "* LIST (\\Subscribed) \"/\" p/r\r\n");
    assert!(b.send("U UNSUBSCRIBE p/r\r\n").contains("U OK"));
    assert_eq!(wake(&mut a), "* LIST () \"/\" p/r\r\n");
    assert!(b.send("D DELETE p/r\r\n").contains("D OK"));
    assert_eq!(wake(&mut a), "* LIST (\\NonExistent) \"/\" p/r\r\n");
}

#[test]
fn selected_mailbox_with_fetch_attributes() {
    let s = store();
    let mut a = login(&s);
    let mut b = login(&s);
    assert!(a.send("S SELECT INBOX\r\n").contains("S OK"));
    assert_eq!(
        a.send("N NOTIFY SET (SELECTED (MessageNew (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)]) MessageExpunge))\r\n"),
        "N OK NOTIFY completed\r\n"
    );
    append(&mut b, "INBOX", "Subject: hi\r\n\r\nbody\r\n");
    assert_eq!(
        wake(&mut a),
        // a is the first to learn of the message: it is recent to a.
        "* 1 EXISTS\r\n* 1 RECENT\r\n* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {15}\r\nSubject: hi\r\n\r\n)\r\n"
    );
    // The internal FETCH's completion was not sent, and commands go on.
    assert_eq!(a.send("X NOOP\r\n"), "X OK NOOP completed\r\n");
    // Expunges are sent at once with SELECTED.
    assert!(b.send("S SELECT INBOX\r\n").contains("S OK"));
    assert!(b
        .send("T STORE 1 +FLAGS.SILENT (\\Deleted)\r\n")
        .contains("T OK"));
    assert!(b.send("E EXPUNGE\r\n").contains("E OK"));
    let out = wake(&mut a);
    assert!(out.ends_with("* 1 EXPUNGE\r\n"), "{out}");
}

#[test]
fn selected_delayed_holds_expunges() {
    let s = store();
    let mut a = login(&s);
    let mut b = login(&s);
    append(&mut b, "INBOX", "Subject: hi\r\n\r\nbody\r\n");
    assert!(a.send("S SELECT INBOX\r\n").contains("S OK"));
    assert_eq!(
        a.send("N NOTIFY SET (SELECTED-DELAYED (MessageNew MessageExpunge))\r\n"),
        "N OK NOTIFY completed\r\n"
    );
    assert!(b.send("S SELECT INBOX\r\n").contains("S OK"));
    assert!(b
        .send("T STORE 1 +FLAGS.SILENT (\\Deleted)\r\n")
        .contains("T OK"));
    assert!(b.send("E EXPUNGE\r\n").contains("E OK"));
    let out = wake(&mut a);
    assert!(!out.contains("EXPUNGE"), "{out}");
    let out = a.send("X NOOP\r\n");
    assert!(out.contains("* 1 EXPUNGE\r\n"), "{out}");
}

#[test]
fn errors() {
    let s = store();
    let mut a = login(&s);
    assert_eq!(
        a.send("N NOTIFY SET (SELECTED (MessageNew))\r\n"),
        "N BAD [CLIENTBUG] MessageNew and MessageExpunge must go together\r\n"
    );
    assert_eq!(
        a.send("N NOTIFY SET (SELECTED (FlagChange))\r\n"),
        "N BAD [CLIENTBUG] FlagChange needs MessageNew and MessageExpunge\r\n"
    );
    assert_eq!(
        a.send("N NOTIFY SET (PERSONAL (MessageNew (UID)))\r\n"),
        "N BAD [CLIENTBUG] MessageNew FETCH attributes need SELECTED or SELECTED-DELAYED\r\n"
    );
    assert_eq!(
        a.send("N NOTIFY SET (SELECTED (MessageNew MessageExpunge)) (SELECTED-DELAYED (MessageNew MessageExpunge))\r\n"),
        "N BAD [CLIENTBUG] SELECTED given twice\r\n"
    );
    // RFC 5257 (ANNOTATE) is not implemented; MemStore reports metadata
    // changes, so the metadata events are listed as supported.
    assert_eq!(
        a.send("N NOTIFY SET (PERSONAL (AnnotationChange))\r\n"),
        "N NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)] unsupported event\r\n"
    );
    // §6.1: only message events with SELECTED / SELECTED-DELAYED.
    for (filter, event) in [
        ("SELECTED", "MailboxMetadataChange"),
        ("SELECTED-DELAYED", "ServerMetadataChange"),
        ("SELECTED", "MailboxName"),
        ("SELECTED-DELAYED", "SubscriptionChange"),
    ] {
        assert_eq!(
            a.send(&format!(
                "N NOTIFY SET ({filter} (MessageNew MessageExpunge {event}))\r\n"
            )),
            "N BAD [CLIENTBUG] SELECTED and SELECTED-DELAYED take message events only\r\n"
        );
    }
}

#[test]
fn subscribed_filter_follows_subscriptions() {
    let s = store();
    let mut a = login(&s);
    let mut b = login(&s);
    assert!(a.send("C CREATE box\r\n").contains("C OK"));
    assert_eq!(
        a.send("N NOTIFY SET (SUBSCRIBED (MessageNew MessageExpunge))\r\n"),
        "N OK NOTIFY completed\r\n"
    );
    append(&mut b, "box", "Subject: 1\r\n\r\nx\r\n");
    assert_eq!(wake(&mut a), "");
    assert!(b.send("U SUBSCRIBE box\r\n").contains("U OK"));
    assert_eq!(wake(&mut a), "");
    append(&mut b, "box", "Subject: 2\r\n\r\nx\r\n");
    assert_eq!(
        wake(&mut a),
        "* STATUS box (MESSAGES 2 UIDNEXT 3 UNSEEN 2)\r\n"
    );
}

#[test]
fn overflow_turns_notify_off() {
    let s = store();
    let mut a = login(&s);
    let mut b = login(&s);
    assert_eq!(
        a.send("N NOTIFY SET (PERSONAL (SubscriptionChange))\r\n"),
        "N OK NOTIFY completed\r\n"
    );
    // More list events than a session queues between two deliveries.
    for i in 0..1001 {
        assert!(b.send(&format!("U SUBSCRIBE x{i}\r\n")).contains("U OK"));
    }
    assert_eq!(
        wake(&mut a),
        "* OK [NOTIFICATIONOVERFLOW] too many notifications; NOTIFY is now off\r\n"
    );
    assert!(b.send("U SUBSCRIBE y\r\n").contains("U OK"));
    assert_eq!(wake(&mut a), "");
}

#[test]
fn too_many_mailboxes_is_limit() {
    let s = store();
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    cfg.limits.notify_max_mailboxes = 2;
    let (mut a, _) = Client::start(&s, Arc::new(cfg), false);
    assert!(a.send("L1 LOGIN alice secret\r\n").contains("L1 OK"));
    for m in ["m1", "m2", "m3"] {
        assert!(a.send(&format!("C CREATE {m}\r\n")).contains("C OK"));
    }
    assert_eq!(
        a.send("N NOTIFY SET (MAILBOXES (m1 m2) (MessageNew MessageExpunge))\r\n"),
        "N OK NOTIFY completed\r\n"
    );
    assert_eq!(
        a.send("N NOTIFY SET (SUBTREE m (MessageNew MessageExpunge)) (PERSONAL (MessageNew))\r\n"),
        "N NO [LIMIT] NOTIFY watches at most 2 mailboxes\r\n"
    );
}

// ===== MailboxMetadataChange and ServerMetadataChange (§5.6, §5.7) =====

/// A session of `user` (alice/secret or bob/secret) on `store`, and how
/// often its waker fired.
fn session(store: &Arc<dyn Mailstore>, user: &str) -> (ext::Client, Arc<AtomicUsize>) {
    let auth: Arc<dyn Authenticator> = Arc::new(
        StaticAuthenticator::new()
            .with_user("alice", "secret")
            .with_user("bob", "secret"),
    );
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    let now = Instant::now();
    let conn = ServerConnection::new(
        store.clone(),
        auth,
        Arc::new(ext::config()),
        false,
        Arc::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        }),
        now,
    );
    let mut c = ext::Client {
        conn,
        now,
        wakes: Arc::clone(&wakes),
    };
    assert!(c.drain().starts_with("* OK"));
    c.ok("L", &format!("LOGIN {user} secret"), "OK");
    (c, wakes)
}

/// What a session sends once its waker has fired.
fn woken(c: &mut ext::Client) -> String {
    let now = c.now;
    c.conn.handle_wakeup(now);
    c.drain()
}

/// Send `tag cmd` and expect exactly the tagged OK line `tag OK text`.
fn only_ok(c: &mut ext::Client, tag: &str, cmd: &str, text: &str) {
    assert_eq!(c.cmd(tag, cmd), format!("{tag} OK {text}\r\n"), "{cmd}");
}

fn set(c: &mut ext::Client, args: &str) {
    only_ok(
        c,
        "M",
        &format!("SETMETADATA {args}"),
        "SETMETADATA completed",
    );
}

fn notify(c: &mut ext::Client, groups: &str) {
    only_ok(c, "N", &format!("NOTIFY SET {groups}"), "NOTIFY completed");
}

/// Another session's SETMETADATA names the changed entries, without values,
/// removed ones included, nothing for a SETMETADATA that changed nothing.
#[test]
fn metadata_changes_reach_other_sessions() {
    for b in ext::backends() {
        let (mut a, wakes) = session(&b.store, "alice");
        let (mut w, _) = session(&b.store, "alice");
        notify(
            &mut a,
            "(PERSONAL (MailboxMetadataChange ServerMetadataChange))",
        );
        let before = wakes.load(Ordering::SeqCst);
        set(&mut w, "INBOX (/private/comment \"x\")");
        assert!(wakes.load(Ordering::SeqCst) > before, "{}", b.name);
        assert_eq!(
            woken(&mut a),
            "* METADATA INBOX /private/comment\r\n",
            "{}",
            b.name
        );
        assert_eq!(woken(&mut a), "", "{}: told once", b.name);
        set(&mut w, "\"\" (/shared/Comment \"y\")");
        assert_eq!(
            woken(&mut a),
            "* METADATA \"\" /shared/comment\r\n",
            "{}",
            b.name
        );
        // Several entries, one removed (RFC 5465 §5.6: removals are always
        // named), one set to the value it has (not a change).
        set(
            &mut w,
            "inbox (/shared/a \"1\" /private/comment NIL /shared/b \"2\")",
        );
        assert_eq!(
            woken(&mut a),
            "* METADATA INBOX /shared/a /private/comment /shared/b\r\n",
            "{}",
            b.name
        );
        set(&mut w, "INBOX (/shared/a \"1\" /private/none NIL)");
        assert_eq!(woken(&mut a), "", "{}: nothing changed", b.name);
        // Two changes before the session looks: two responses, in order.
        w.ok("C", "CREATE Box", "OK");
        set(&mut w, "Box (/shared/c \"3\")");
        set(&mut w, "\"\" (/shared/comment NIL)");
        assert_eq!(
            woken(&mut a),
            "* METADATA Box /shared/c\r\n* METADATA \"\" /shared/comment\r\n",
            "{}",
            b.name
        );
        // A refused SETMETADATA changes nothing and tells nothing.
        w.ok(
            "T",
            "SETMETADATA nosuch (/shared/c \"3\")",
            "NO [NONEXISTENT]",
        );
        assert_eq!(woken(&mut a), "", "{}", b.name);
        // Also while idling (RFC 5465 §4).
        assert_eq!(a.cmd("I", "IDLE"), "+ idling\r\n", "{}", b.name);
        set(&mut w, "Box (/private/d \"4\")");
        assert_eq!(woken(&mut a), "* METADATA Box /private/d\r\n", "{}", b.name);
        assert_eq!(a.send("DONE\r\n"), "I OK IDLE terminated\r\n", "{}", b.name);
        // NOTIFY NONE: nothing more.
        only_ok(&mut a, "N", "NOTIFY NONE", "NOTIFY completed");
        set(&mut w, "Box (/private/d \"5\")");
        assert_eq!(woken(&mut a), "", "{}", b.name);
    }
}

/// Only the events asked for, for the mailboxes the filters name.
#[test]
fn metadata_events_follow_filters() {
    for b in ext::backends() {
        let (mut a, _) = session(&b.store, "alice");
        let (mut w, _) = session(&b.store, "alice");
        for m in ["box", "p", "p/q", "other"] {
            w.ok("C", &format!("CREATE {m}"), "OK");
        }
        // MailboxMetadataChange for one mailbox: not INBOX's, not the
        // server's.
        notify(&mut a, "(MAILBOXES box (MailboxMetadataChange))");
        set(&mut w, "INBOX (/shared/x \"1\")");
        set(&mut w, "\"\" (/shared/x \"1\")");
        assert_eq!(woken(&mut a), "", "{}", b.name);
        set(&mut w, "box (/shared/x \"1\")");
        assert_eq!(woken(&mut a), "* METADATA box /shared/x\r\n", "{}", b.name);
        // ServerMetadataChange alone (with any filter): server entries only.
        notify(&mut a, "(MAILBOXES box (ServerMetadataChange))");
        set(&mut w, "box (/shared/x \"2\")");
        assert_eq!(woken(&mut a), "", "{}", b.name);
        set(&mut w, "\"\" (/shared/x \"2\")");
        assert_eq!(woken(&mut a), "* METADATA \"\" /shared/x\r\n", "{}", b.name);
        // Other events, no metadata ones: nothing.
        notify(
            &mut a,
            "(PERSONAL (MailboxName SubscriptionChange MessageNew MessageExpunge))",
        );
        set(&mut w, "box (/shared/x \"3\")");
        set(&mut w, "\"\" (/shared/x \"3\")");
        assert_eq!(woken(&mut a), "", "{}", b.name);
        // SUBTREE: p and p/q, not other; INBOXES: INBOX.
        notify(
            &mut a,
            "(SUBTREE p (MailboxMetadataChange)) (INBOXES (MailboxMetadataChange))",
        );
        for m in ["p", "p/q", "other", "INBOX"] {
            set(&mut w, &format!("{m} (/private/y \"1\")"));
        }
        assert_eq!(
            woken(&mut a),
            "* METADATA p /private/y\r\n* METADATA p/q /private/y\r\n* METADATA INBOX /private/y\r\n",
            "{}",
            b.name
        );
        // SUBSCRIBED follows the subscriptions.
        notify(&mut a, "(SUBSCRIBED (MailboxMetadataChange))");
        set(&mut w, "other (/private/y \"2\")");
        assert_eq!(woken(&mut a), "", "{}", b.name);
        w.ok("U", "SUBSCRIBE other", "OK");
        assert_eq!(woken(&mut a), "", "{}", b.name);
        set(&mut w, "other (/private/y \"3\")");
        assert_eq!(
            woken(&mut a),
            "* METADATA other /private/y\r\n",
            "{}",
            b.name
        );
        // §6: every group that matches a mailbox counts, not only the
        // first (here the first has message events only).
        notify(
            &mut a,
            "(MAILBOXES INBOX (MessageNew MessageExpunge)) (PERSONAL (MailboxMetadataChange))",
        );
        set(&mut w, "INBOX (/private/y \"4\")");
        assert_eq!(
            woken(&mut a),
            "* METADATA INBOX /private/y\r\n",
            "{}",
            b.name
        );
        // A name outside ASCII goes out in modified UTF-7, as elsewhere.
        w.ok("C", "CREATE Entw&APw-rfe", "OK");
        set(&mut w, "Entw&APw-rfe (/private/y \"5\")");
        assert_eq!(
            woken(&mut a),
            "* METADATA Entw&APw-rfe /private/y\r\n",
            "{}",
            b.name
        );
    }
}

/// RFC 5465 §5: the session's own SETMETADATA is not reported back to it;
/// another session's still is.
#[test]
fn own_metadata_changes_are_not_reported() {
    for b in ext::backends() {
        let (mut a, _) = session(&b.store, "alice");
        let (mut w, _) = session(&b.store, "alice");
        notify(
            &mut a,
            "(PERSONAL (MailboxMetadataChange ServerMetadataChange))",
        );
        set(&mut a, "INBOX (/private/mine \"1\")");
        set(&mut a, "\"\" (/shared/mine \"1\")");
        assert_eq!(woken(&mut a), "", "{}", b.name);
        assert_eq!(a.cmd("X", "NOOP"), "X OK NOOP completed\r\n", "{}", b.name);
        set(&mut w, "INBOX (/private/mine \"2\")");
        assert_eq!(
            woken(&mut a),
            "* METADATA INBOX /private/mine\r\n",
            "{}",
            b.name
        );
    }
}

/// Another user's entries, `/private` and `/shared`, mailbox and server,
/// are never named; the session is not even woken.
#[test]
fn other_users_metadata_is_never_reported() {
    for b in ext::backends() {
        let (mut a, wakes) = session(&b.store, "alice");
        let (mut bob, _) = session(&b.store, "bob");
        notify(
            &mut a,
            "(PERSONAL (MailboxMetadataChange ServerMetadataChange))",
        );
        let before = wakes.load(Ordering::SeqCst);
        set(
            &mut bob,
            "INBOX (/private/comment \"secret\" /shared/comment \"x\")",
        );
        set(
            &mut bob,
            "\"\" (/private/comment \"secret\" /shared/comment \"x\")",
        );
        assert_eq!(wakes.load(Ordering::SeqCst), before, "{}", b.name);
        assert_eq!(woken(&mut a), "", "{}", b.name);
        // Bob's own NOTIFY hears alice's changes no more than alice hears
        // bob's.
        notify(
            &mut bob,
            "(PERSONAL (MailboxMetadataChange ServerMetadataChange))",
        );
        set(&mut a, "INBOX (/private/comment \"mine\")");
        assert_eq!(woken(&mut bob), "", "{}", b.name);
    }
}

/// A store that keeps no metadata: the metadata events are refused with
/// BADEVENT, which lists only what can be delivered.
#[test]
fn metadata_events_need_a_store_that_reports_them() {
    let store: Arc<dyn Mailstore> = Arc::new(ext::Plain::default());
    let mut c = ext::Client::login(&store);
    for ev in ["MailboxMetadataChange", "ServerMetadataChange"] {
        assert_eq!(
            c.cmd("N", &format!("NOTIFY SET (PERSONAL ({ev}))")),
            "N NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] unsupported event\r\n"
        );
    }
}
