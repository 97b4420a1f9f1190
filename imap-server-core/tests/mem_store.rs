//! The in-memory store: the storage contract, plus what is specific to it
//! (limits, special-use folders, name rules, DELETE with children).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};
use imap_server_core::{contract, FlagOp, Mailstore, MemStore, NewMessage, StoreErrorKind, Waker};

const U: &str = "alice";

fn mbx(s: &str) -> Mailbox {
    Mailbox::from_utf8(s)
}

fn msg(data: &str, flags: &[Flag]) -> NewMessage {
    NewMessage {
        flags: flags.to_vec(),
        internal_date: (1_700_000_000, 0),
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}

fn names(s: &MemStore) -> Vec<String> {
    let mut v: Vec<String> = s
        .list(U)
        .unwrap()
        .into_iter()
        .map(|i| i.name.to_string())
        .collect();
    v.sort();
    v
}

fn kind<T: std::fmt::Debug>(r: Result<T, imap_server_core::StoreError>) -> StoreErrorKind {
    r.expect_err("expected an error").kind
}

#[test]
fn contract_default() {
    contract::run_all(MemStore::new);
}

#[test]
fn contract_empty_users() {
    contract::run_all(MemStore::empty_users);
}

#[test]
fn contract_polling_entry_point() {
    contract::run_all_polling(MemStore::new);
}

#[test]
fn special_use_folders() {
    let s = MemStore::new();
    let list = s.list(U).unwrap();
    let attr = |n: &str| {
        list.iter()
            .find(|i| i.name == mbx(n))
            .unwrap_or_else(|| panic!("{n} missing"))
            .attributes
            .clone()
    };
    assert!(attr("INBOX").is_empty());
    assert_eq!(attr("Sent"), vec![MailboxAttribute::Sent]);
    assert_eq!(attr("Drafts"), vec![MailboxAttribute::Drafts]);
    assert_eq!(attr("Trash"), vec![MailboxAttribute::Trash]);
    assert_eq!(attr("Junk"), vec![MailboxAttribute::Junk]);
    assert_eq!(attr("Archive"), vec![MailboxAttribute::Archive]);
    assert_eq!(list.len(), 6);
    assert_eq!(names(&MemStore::empty_users()), vec!["INBOX"]);
    s.create(U, &mbx("Later"), Some(MailboxAttribute::Flagged))
        .unwrap();
    let flagged = s
        .list(U)
        .unwrap()
        .into_iter()
        .find(|i| i.name == mbx("Later"));
    assert_eq!(flagged.unwrap().attributes, vec![MailboxAttribute::Flagged]);
    let r = s.create(U, &mbx("Odd"), Some(MailboxAttribute::HasChildren));
    assert_eq!(kind(r), StoreErrorKind::Cannot);
}

#[test]
fn default_limits() {
    assert_eq!(MemStore::DEFAULT_MAX_MESSAGE_SIZE, 64 * 1024 * 1024);
    assert_eq!(MemStore::DEFAULT_MAX_MAILBOXES, 10_000);
    assert_eq!(MemStore::DEFAULT_MAX_MESSAGES, 1_000_000);
    let dbg = format!("{:?}", MemStore::new());
    assert!(dbg.contains("max_message_size: 67108864"), "{dbg}");
}

#[test]
fn message_size_limit() {
    let s = MemStore::empty_users().with_max_message_size(10);
    let inbox = Mailbox::inbox();
    s.append(U, &inbox, msg("0123456789", &[])).unwrap();
    let r = s.append(U, &inbox, msg("0123456789a", &[]));
    assert_eq!(kind(r), StoreErrorKind::TooBig);
    assert_eq!(s.status(U, &inbox).unwrap().messages, 1);
}

#[test]
fn mailbox_count_limit() {
    let s = MemStore::empty_users().with_max_mailboxes(3);
    s.create(U, &mbx("a"), None).unwrap();
    // x and x/y would make four.
    assert_eq!(kind(s.create(U, &mbx("x/y"), None)), StoreErrorKind::Limit);
    assert_eq!(names(&s), vec!["INBOX", "a"]);
    s.create(U, &mbx("b"), None).unwrap();
    assert_eq!(kind(s.create(U, &mbx("c"), None)), StoreErrorKind::Limit);
    // RENAME that would create a parent counts too.
    assert_eq!(
        kind(s.rename(U, &mbx("a"), &mbx("p/a"))),
        StoreErrorKind::Limit
    );
    s.rename(U, &mbx("a"), &mbx("c")).unwrap();
    assert_eq!(names(&s), vec!["INBOX", "b", "c"]);
    // RENAME INBOX creates a mailbox.
    assert_eq!(
        kind(s.rename(U, &mbx("INBOX"), &mbx("old"))),
        StoreErrorKind::Limit
    );
    s.delete(U, &mbx("c")).unwrap();
    s.rename(U, &mbx("INBOX"), &mbx("old")).unwrap();
}

#[test]
fn message_count_limit() {
    let s = MemStore::empty_users().with_max_messages(2);
    let (inbox, other) = (Mailbox::inbox(), mbx("other"));
    s.create(U, &other, None).unwrap();
    let (_, u1) = s.append(U, &inbox, msg("a", &[])).unwrap();
    let (_, u2) = s.append(U, &inbox, msg("b", &[])).unwrap();
    assert_eq!(
        kind(s.append(U, &inbox, msg("c", &[]))),
        StoreErrorKind::Limit
    );
    s.append(U, &other, msg("x", &[])).unwrap();
    let r = s.copy(U, &inbox, &[u1, u2], &other);
    assert_eq!(kind(r), StoreErrorKind::Limit);
    let r = s.move_messages(U, &inbox, &[u1, u2], &other);
    assert_eq!(kind(r), StoreErrorKind::Limit);
    assert_eq!(s.status(U, &other).unwrap().messages, 1, "partial COPY");
    assert_eq!(s.status(U, &inbox).unwrap().messages, 2, "partial MOVE");
    // A MOVE within a full mailbox adds no messages.
    let out = s.move_messages(U, &inbox, &[u1], &inbox).unwrap();
    assert!(out.pairs[0].1 > u2);
    let snap = s.snapshot(U, &inbox).unwrap();
    let uids: Vec<Uid> = snap.messages.iter().map(|m| m.uid).collect();
    assert_eq!(uids, vec![u2, out.pairs[0].1]);
    let ch = s.changes_since(U, &inbox, 1).unwrap();
    assert_eq!(ch.expunged, vec![u1]);
}

#[test]
fn delete_rules() {
    let s = MemStore::empty_users();
    s.create(U, &mbx("a/b"), None).unwrap();
    assert_eq!(kind(s.delete(U, &mbx("a"))), StoreErrorKind::HasChildren);
    assert_eq!(kind(s.delete(U, &mbx("INBOX"))), StoreErrorKind::Cannot);
    s.delete(U, &mbx("a/b")).unwrap();
    s.delete(U, &mbx("a")).unwrap();
    assert_eq!(names(&s), vec!["INBOX"]);
    // Subscriptions outlive the mailbox (RFC 9051 §6.3.7).
    s.create(U, &mbx("gone"), None).unwrap();
    s.set_subscribed(U, &mbx("gone"), true).unwrap();
    s.delete(U, &mbx("gone")).unwrap();
    s.create(U, &mbx("gone"), None).unwrap();
    assert!(s
        .list(U)
        .unwrap()
        .iter()
        .any(|i| i.name == mbx("gone") && i.subscribed));
}

#[test]
fn name_rules() {
    let s = MemStore::empty_users();
    let long = "x".repeat(MemStore::MAX_NAME_LEN + 1);
    for bad in [
        "", "a/", "/a", "a//b", "a\tb", "a\u{85}b", "a*", "a%b", &long,
    ] {
        let r = s.create(U, &mbx(bad), None);
        assert_eq!(kind(r), StoreErrorKind::Cannot, "{bad:?}");
    }
    let latin1 = Mailbox::from_decoded(Bytes::from_static(b"caf\xe9"));
    assert_eq!(kind(s.create(U, &latin1, None)), StoreErrorKind::Cannot);
    assert_eq!(names(&s), vec!["INBOX"]);
    for good in ["Entwürfe", "a..b", "../x", " sp ace ", "&-", "a.b"] {
        s.create(U, &mbx(good), None).unwrap();
    }
    assert!(names(&s).contains(&"../x".to_owned()));
    assert!(names(&s).contains(&"..".to_owned()));
    // INBOX as the first level is case-insensitive.
    s.create(U, &mbx("inbox/kid"), None).unwrap();
    assert!(names(&s).contains(&"INBOX/kid".to_owned()));
    assert_eq!(
        kind(s.create(U, &mbx("Inbox/kid"), None)),
        StoreErrorKind::AlreadyExists
    );
    s.snapshot(U, &mbx("iNbOx/kid")).unwrap();
    s.create(U, &mbx("INBOXES"), None).unwrap();
    assert!(names(&s).contains(&"INBOXES".to_owned()));
    // RENAME below itself.
    assert_eq!(
        kind(s.rename(U, &mbx("a.b"), &mbx("a.b/c"))),
        StoreErrorKind::Cannot
    );
    s.rename(U, &mbx("INBOX"), &mbx("INBOX/old")).unwrap();
}

#[test]
fn uid_validity_is_deterministic_and_distinct() {
    let run = || {
        let s = MemStore::new();
        s.create(U, &mbx("a"), None).unwrap();
        s.delete(U, &mbx("a")).unwrap();
        s.create(U, &mbx("a"), None).unwrap();
        let mut v: Vec<u32> = s
            .list(U)
            .unwrap()
            .iter()
            .map(|i| s.status(U, &i.name).unwrap().uid_validity)
            .collect();
        v.push(s.status("bob", &Mailbox::inbox()).unwrap().uid_validity);
        v
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let mut d = a.clone();
    d.sort();
    d.dedup();
    assert_eq!(d.len(), a.len(), "UIDVALIDITY values repeat: {a:?}");
}

#[test]
fn modseq_steps_by_one() {
    let s = MemStore::empty_users();
    let inbox = Mailbox::inbox();
    assert_eq!(s.snapshot(U, &inbox).unwrap().highest_modseq, 1);
    let (_, u1) = s.append(U, &inbox, msg("a", &[])).unwrap();
    let (_, u2) = s.append(U, &inbox, msg("b", &[])).unwrap();
    assert_eq!(s.snapshot(U, &inbox).unwrap().highest_modseq, 3);
    let out = s
        .store_flags(U, &inbox, &[u1, u2], FlagOp::Add, &[Flag::Deleted], None)
        .unwrap();
    assert!(out.changed.iter().all(|m| m.modseq == 4));
    s.expunge(U, &inbox, Some(&[u1])).unwrap();
    let ch = s.changes_since(U, &inbox, 4).unwrap();
    assert_eq!((ch.highest_modseq, ch.expunged), (5, vec![u1]));
    assert!(ch.changed.is_empty());
    let ch = s.changes_since(U, &inbox, u64::MAX).unwrap();
    assert!(ch.changed.is_empty() && ch.expunged.is_empty());
}

#[test]
fn keywords_are_case_insensitive() {
    let s = MemStore::empty_users();
    let inbox = Mailbox::inbox();
    let (_, u) = s
        .append(U, &inbox, msg("a", &[Flag::keyword("$Work")]))
        .unwrap();
    let out = s
        .store_flags(
            U,
            &inbox,
            &[u],
            FlagOp::Add,
            &[Flag::keyword("$WORK")],
            None,
        )
        .unwrap();
    assert!(out.changed.is_empty());
    let out = s
        .store_flags(
            U,
            &inbox,
            &[u],
            FlagOp::Remove,
            &[Flag::keyword("$work")],
            None,
        )
        .unwrap();
    assert_eq!(out.changed[0].flags, vec![]);
    let snap = s.snapshot(U, &inbox).unwrap();
    assert_eq!(snap.keywords, vec![Flag::keyword("$Work")]);
    let dup = [
        Flag::Seen,
        Flag::Seen,
        Flag::keyword("a"),
        Flag::keyword("A"),
    ];
    let (_, u) = s.append(U, &inbox, msg("b", &dup)).unwrap();
    assert_eq!(s.message(U, &inbox, u).unwrap().entry.flags.len(), 2);
}

#[test]
fn status_counters_track_changes() {
    let s = MemStore::empty_users();
    let (inbox, other) = (Mailbox::inbox(), mbx("o"));
    s.create(U, &other, None).unwrap();
    let mut uids = Vec::new();
    for i in 0..20 {
        let flags = if i % 3 == 0 { vec![Flag::Seen] } else { vec![] };
        uids.push(s.append(U, &inbox, msg(&"x".repeat(i), &flags)).unwrap().1);
    }
    let even: Vec<Uid> = uids.iter().copied().step_by(2).collect();
    s.store_flags(U, &inbox, &even, FlagOp::Add, &[Flag::Deleted], None)
        .unwrap();
    s.store_flags(U, &inbox, &uids[..5], FlagOp::Set, &[Flag::Seen], None)
        .unwrap();
    s.move_messages(U, &inbox, &uids[10..15], &other).unwrap();
    s.copy(U, &inbox, &uids[..3], &other).unwrap();
    s.expunge(U, &inbox, Some(&uids[..8])).unwrap();
    for name in [&inbox, &other] {
        let st = s.status(U, name).unwrap();
        let snap = s.snapshot(U, name).unwrap();
        let mut size = 0;
        for m in &snap.messages {
            size += s.message(U, name, m.uid).unwrap().data.len() as u64;
        }
        let unseen = snap
            .messages
            .iter()
            .filter(|m| !m.flags.contains(&Flag::Seen))
            .count();
        let deleted = snap
            .messages
            .iter()
            .filter(|m| m.flags.contains(&Flag::Deleted))
            .count();
        assert_eq!(st.messages as usize, snap.messages.len());
        assert_eq!(st.unseen as usize, unseen);
        assert_eq!(st.deleted as usize, deleted);
        assert_eq!(st.size, size);
    }
}

#[test]
fn watch_details() {
    let s = MemStore::empty_users();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    let waker: Waker = Arc::new(move || {
        h.fetch_add(1, Ordering::SeqCst);
    });
    // Watching a name in another case; wakes on rename and delete.
    let guard = s.watch(U, &mbx("inbox/a"), waker);
    s.create(U, &mbx("INBOX/a"), None).unwrap();
    s.append(U, &mbx("INBOX/a"), msg("x", &[])).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    s.rename(U, &mbx("INBOX/a"), &mbx("b")).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    s.rename(U, &mbx("b"), &mbx("INBOX/a")).unwrap();
    s.delete(U, &mbx("INBOX/a")).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    // No-op changes do not wake.
    s.create(U, &mbx("INBOX/a"), None).unwrap();
    s.expunge(U, &mbx("INBOX/a"), None).unwrap();
    s.store_flags(U, &mbx("INBOX/a"), &[], FlagOp::Add, &[Flag::Seen], None)
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    // Another user's mailbox of the same name does not wake it.
    s.create("bob", &mbx("INBOX/a"), None).unwrap();
    s.append("bob", &mbx("INBOX/a"), msg("x", &[])).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    assert!(format!("{s:?}").contains("watches: 1"));
    drop(guard);
    assert!(format!("{s:?}").contains("watches: 0"));
    // A guard may outlive its store.
    let s2 = MemStore::new();
    let g = s2.watch(U, &Mailbox::inbox(), Arc::new(|| {}));
    drop(s2);
    drop(g);
}

#[test]
fn waker_may_call_back_into_the_store() {
    let s = Arc::new(MemStore::empty_users());
    let seen = Arc::new(AtomicUsize::new(0));
    let (s2, seen2) = (Arc::clone(&s), Arc::clone(&seen));
    let waker: Waker = Arc::new(move || {
        let n = s2.snapshot(U, &Mailbox::inbox()).unwrap().messages.len();
        seen2.store(n, Ordering::SeqCst);
    });
    let _guard = s.watch(U, &Mailbox::inbox(), waker);
    s.append(U, &Mailbox::inbox(), msg("x", &[])).unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[test]
fn odd_inputs_do_not_panic() {
    let s = MemStore::new();
    let inbox = Mailbox::inbox();
    let max = Uid::new(u32::MAX).unwrap();
    assert_eq!(kind(s.message(U, &inbox, max)), StoreErrorKind::NonExistent);
    let out = s
        .store_flags(
            U,
            &inbox,
            &[max, max],
            FlagOp::Set,
            &[Flag::Recent],
            Some(u64::MAX),
        )
        .unwrap();
    assert_eq!(out, Default::default());
    assert!(s.expunge(U, &inbox, Some(&[])).unwrap().is_empty());
    let out = s.copy(U, &inbox, &[], &mbx("Trash")).unwrap();
    assert!(out.pairs.is_empty());
    assert_eq!(
        kind(s.set_subscribed(U, &mbx(""), true)),
        StoreErrorKind::Cannot
    );
    for user in ["", "\0", "ü", "a/../b"] {
        s.append(user, &inbox, msg("x", &[])).unwrap();
        assert_eq!(s.status(user, &inbox).unwrap().messages, 1);
    }
    let (_, u) = s
        .append(U, &inbox, msg("x", &[Flag::Recent, Flag::Seen]))
        .unwrap();
    assert_eq!(
        s.message(U, &inbox, u).unwrap().entry.flags,
        vec![Flag::Seen]
    );
}
