//! NOTIFY (RFC 5465) through the in-memory pump: two sessions on one
//! MemStore; one changes things, the other is told, with exact responses.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use imap_server_core::{MemStore, ServerConfig};

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
    assert_eq!(
        a.send("N NOTIFY SET (PERSONAL (AnnotationChange))\r\n"),
        "N NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] unsupported event\r\n"
    );
    assert_eq!(
        a.send("N NOTIFY SET (PERSONAL (ServerMetadataChange))\r\n"),
        "N NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] unsupported event\r\n"
    );
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
