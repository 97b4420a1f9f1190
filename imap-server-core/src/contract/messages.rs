//! Contract checks on messages: APPEND, STORE, EXPUNGE, COPY, MOVE, the
//! change log and STATUS.

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, Uid};

use super::*;
use crate::store::{FlagOp, Mailstore, NewMessage, StoreErrorKind};

/// APPEND returns strictly increasing UIDs with the mailbox's UIDVALIDITY, and
/// UIDNEXT stays above them; APPEND to a missing mailbox is NonExistent.
pub fn append_uids<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    let v = ok(s.snapshot(USER, &inbox), "snapshot").uid_validity;
    let mut last = 0;
    for i in 0..5 {
        let (validity, u) = ok(s.append(USER, &inbox, new_message("x", &[])), "append");
        assert_eq!(validity, v, "APPEND returned another UIDVALIDITY");
        assert!(u.get() > last, "APPEND #{i} returned UID {u} after {last}");
        last = u.get();
    }
    let snap = ok(s.snapshot(USER, &inbox), "snapshot");
    assert!(
        snap.uid_next > last,
        "UIDNEXT {} not above UID {last}",
        snap.uid_next
    );
    assert_eq!(snap.messages.len(), 5, "messages lost");
    let r = s.append(USER, &mbx("ContractNone"), new_message("x", &[]));
    err(
        r,
        &[StoreErrorKind::NonExistent],
        "append to a missing mailbox",
    );
}

/// Message bytes, flags and internal date come back exactly as appended.
pub fn message_round_trip<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    let mut data = b"Subject: bin\r\n\r\n".to_vec();
    data.extend((0..=255u8).chain([b'\r', b'\n', 0, b'\n', b'\r']));
    let msg = NewMessage {
        flags: vec![Flag::Flagged, kw("$Label1")],
        internal_date: (-86_400, -330),
        data: Bytes::from(data.clone()),
    };
    let (_, u) = ok(s.append(USER, &inbox, msg), "append");
    let got = ok(s.message(USER, &inbox, u), "message");
    assert_eq!(got.entry.uid, u, "wrong UID");
    assert!(got.data[..] == data[..], "message bytes changed");
    assert_eq!(got.internal_date, (-86_400, -330), "internal date changed");
    assert_flags(
        &got.entry.flags,
        &[Flag::Flagged, kw("$Label1")],
        "appended",
    );
    let empty = ok(s.append(USER, &inbox, new_message("", &[])), "append empty").1;
    assert!(ok(s.message(USER, &inbox, empty), "message")
        .data
        .is_empty());
    let missing = uid(u.get().saturating_add(1000));
    assert!(
        s.message(USER, &inbox, missing).is_err(),
        "message of a missing UID"
    );
}

/// SELECT's snapshot: messages in UID order with their flags, keywords in use,
/// never `\Recent`, MODSEQs no higher than HIGHESTMODSEQ.
pub fn snapshot_contents<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    let u1 = append(s, &inbox, "a", &[Flag::Seen, Flag::Recent]);
    let u2 = append(s, &inbox, "b", &[kw("$Work"), Flag::Draft]);
    let u3 = append(s, &inbox, "c", &[]);
    let snap = ok(s.snapshot(USER, &inbox), "snapshot");
    let uids: Vec<Uid> = snap.messages.iter().map(|m| m.uid).collect();
    assert_eq!(uids, vec![u1, u2, u3], "snapshot not in UID order");
    assert_flags(
        &snap.messages[0].flags,
        &[Flag::Seen],
        "\\Recent must not be stored",
    );
    assert_flags(
        &snap.messages[1].flags,
        &[kw("$Work"), Flag::Draft],
        "flags",
    );
    assert!(snap.messages[2].flags.is_empty(), "flags appeared");
    assert!(
        snap.keywords.contains(&kw("$Work")),
        "keyword in use not in FLAGS"
    );
    for m in &snap.messages {
        assert!(
            m.modseq >= 1 && m.modseq <= snap.highest_modseq,
            "MODSEQ {m:?}"
        );
    }
    let a = snap.messages[0].modseq;
    let (b, c) = (snap.messages[1].modseq, snap.messages[2].modseq);
    assert!(
        a < b && b < c,
        "APPENDs must get increasing MODSEQs ({a}, {b}, {c})"
    );
    assert_eq!(
        snap.highest_modseq, c,
        "HIGHESTMODSEQ is not the last change's"
    );
}

/// STORE with Set, Add and Remove; keywords; only changed messages are
/// reported; every change gets a MODSEQ above the previous HIGHESTMODSEQ.
pub fn store_flags_ops<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    let u1 = append(s, &inbox, "a", &[Flag::Seen]);
    let u2 = append(s, &inbox, "b", &[]);
    let u3 = append(s, &inbox, "c", &[]);
    let mut high = ok(s.snapshot(USER, &inbox), "snapshot").highest_modseq;
    let mut step = |op, uids: &[Uid], flags: &[Flag], expect: &[Uid], what: &str| {
        let out = ok(s.store_flags(USER, &inbox, uids, op, flags, None), what);
        let changed: Vec<Uid> = out.changed.iter().map(|m| m.uid).collect();
        assert_eq!(changed, expect, "{what}: changed messages (in UID order)");
        assert!(
            out.modified.is_empty(),
            "{what}: modified without UNCHANGEDSINCE"
        );
        let snap = ok(s.snapshot(USER, &inbox), "snapshot");
        for m in &out.changed {
            assert!(
                m.modseq > high,
                "{what}: MODSEQ {} not above {high}",
                m.modseq
            );
            assert!(
                m.modseq <= snap.highest_modseq,
                "{what}: MODSEQ above HIGHESTMODSEQ"
            );
            let now = snap.messages.iter().find(|e| e.uid == m.uid);
            assert_eq!(
                now,
                Some(m),
                "{what}: reported state differs from the snapshot"
            );
        }
        if expect.is_empty() {
            assert_eq!(
                snap.highest_modseq, high,
                "{what}: no-op changed HIGHESTMODSEQ"
            );
        }
        high = snap.highest_modseq;
    };
    step(FlagOp::Add, &[u1, u2], &[Flag::Seen], &[u2], "add \\Seen");
    step(
        FlagOp::Add,
        &[u2, u1],
        &[Flag::Seen],
        &[],
        "add \\Seen again",
    );
    let missing = uid(u3.get() + 100);
    step(
        FlagOp::Add,
        &[u3, missing],
        &[kw("$Work")],
        &[u3],
        "add keyword",
    );
    step(
        FlagOp::Set,
        &[u1, u3],
        &[Flag::Flagged, kw("$Later")],
        &[u1, u3],
        "set",
    );
    step(
        FlagOp::Remove,
        &[u1, u2, u3],
        &[Flag::Seen],
        &[u2],
        "remove \\Seen",
    );
    step(FlagOp::Remove, &[u2], &[Flag::Seen], &[], "remove again");
    step(FlagOp::Set, &[u3], &[], &[u3], "set to nothing");
    assert_flags(
        &flags_of(s, &inbox, u1),
        &[Flag::Flagged, kw("$Later")],
        "u1",
    );
    assert_flags(&flags_of(s, &inbox, u2), &[], "u2");
    assert_flags(&flags_of(s, &inbox, u3), &[], "u3");
    let snap = ok(s.snapshot(USER, &inbox), "snapshot");
    assert!(
        snap.keywords.contains(&kw("$Later")),
        "keyword not in FLAGS"
    );
    let r = s.store_flags(USER, &mbx("ContractNone"), &[u1], FlagOp::Add, &[], None);
    err(
        r,
        &[StoreErrorKind::NonExistent],
        "store in a missing mailbox",
    );
}

/// STORE UNCHANGEDSINCE (RFC 7162 §3.1.3): messages changed after the given
/// MODSEQ are left alone and reported as modified.
pub fn store_unchanged_since<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    let u1 = append(s, &inbox, "a", &[]);
    let u2 = append(s, &inbox, "b", &[]);
    let m1 = ok(s.message(USER, &inbox, u1), "message").entry.modseq;
    let m2 = ok(s.message(USER, &inbox, u2), "message").entry.modseq;
    let out = ok(
        s.store_flags(
            USER,
            &inbox,
            &[u1, u2],
            FlagOp::Add,
            &[Flag::Seen],
            Some(m1),
        ),
        "store unchanged since",
    );
    assert!(m2 > m1, "MODSEQ of a later APPEND is not larger");
    assert_eq!(out.modified, vec![u2], "UNCHANGEDSINCE {m1}: modified");
    let changed: Vec<Uid> = out.changed.iter().map(|m| m.uid).collect();
    assert_eq!(changed, vec![u1], "UNCHANGEDSINCE {m1}: changed");
    assert!(
        flags_of(s, &inbox, u2).is_empty(),
        "a modified message was changed"
    );
    assert_flags(&flags_of(s, &inbox, u1), &[Flag::Seen], "u1");
    let out = ok(
        s.store_flags(USER, &inbox, &[u1], FlagOp::Add, &[Flag::Flagged], Some(0)),
        "store unchanged since 0",
    );
    assert_eq!(
        out.modified,
        vec![u1],
        "UNCHANGEDSINCE 0 must fail every message"
    );
}

/// EXPUNGE removes only `\Deleted` messages, and only the given UIDs when
/// given; it returns the UIDs removed.
pub fn expunge_only_deleted<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    let u1 = append(s, &inbox, "a", &[Flag::Deleted]);
    let u2 = append(s, &inbox, "b", &[]);
    let u3 = append(s, &inbox, "c", &[Flag::Deleted, Flag::Seen]);
    let u4 = append(s, &inbox, "d", &[Flag::Deleted]);
    let gone = ok(s.expunge(USER, &inbox, Some(&[u3, u2])), "UID EXPUNGE");
    assert_eq!(gone, vec![u3], "UID EXPUNGE removed the wrong messages");
    assert_eq!(uids_of(s, &inbox), vec![u1, u2, u4], "after UID EXPUNGE");
    let gone = ok(s.expunge(USER, &inbox, None), "EXPUNGE");
    assert_eq!(gone, vec![u1, u4], "EXPUNGE removed the wrong messages");
    assert_eq!(uids_of(s, &inbox), vec![u2], "after EXPUNGE");
    assert!(
        s.message(USER, &inbox, u1).is_err(),
        "expunged message still readable"
    );
    let gone = ok(s.expunge(USER, &inbox, None), "EXPUNGE again");
    assert!(
        gone.is_empty(),
        "EXPUNGE without \\Deleted removed {gone:?}"
    );
    err(
        s.expunge(USER, &mbx("ContractNone"), None),
        &[StoreErrorKind::NonExistent],
        "",
    );
}

/// UIDs are never reused: after the last message is expunged, the next APPEND
/// gets a higher UID.
pub fn uids_never_reused<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    append(s, &inbox, "a", &[]);
    let last = append(s, &inbox, "b", &[Flag::Deleted]);
    ok(s.expunge(USER, &inbox, None), "expunge");
    let snap = ok(s.snapshot(USER, &inbox), "snapshot");
    assert!(
        snap.uid_next > last.get(),
        "UIDNEXT went back to {}",
        snap.uid_next
    );
    let next = append(s, &inbox, "c", &[]);
    assert!(next > last, "UID {next} reused after expunging UID {last}");
}

/// COPY: new UIDs in the target in source-UID order, flags, internal date and
/// bytes kept, source untouched, missing UIDs ignored.
pub fn copy_messages<S: Mailstore>(s: &S) {
    let (inbox, to) = (Mailbox::inbox(), mbx("ContractTo"));
    ok(s.create(USER, &to, None), "create");
    let u1 = append(s, &inbox, "one", &[Flag::Seen]);
    let u2 = append(s, &inbox, "two", &[kw("$Work"), Flag::Answered]);
    let missing = uid(u2.get() + 100);
    let before = ok(s.snapshot(USER, &inbox), "snapshot");
    let out = ok(s.copy(USER, &inbox, &[missing, u2, u1], &to), "copy");
    let target = ok(s.snapshot(USER, &to), "snapshot");
    assert_eq!(out.uid_validity, target.uid_validity, "COPYUID UIDVALIDITY");
    let src: Vec<Uid> = out.pairs.iter().map(|p| p.0).collect();
    assert_eq!(src, vec![u1, u2], "COPY pairs not in source UID order");
    assert!(out.pairs[0].1 < out.pairs[1].1, "COPY UIDs not increasing");
    assert_eq!(
        uids_of(s, &to),
        vec![out.pairs[0].1, out.pairs[1].1],
        "target"
    );
    for (from, new) in &out.pairs {
        let a = ok(s.message(USER, &inbox, *from), "message");
        let b = ok(s.message(USER, &to, *new), "message");
        assert_eq!(a.data, b.data, "COPY changed bytes");
        assert_eq!(
            a.internal_date, b.internal_date,
            "COPY changed internal date"
        );
        assert_flags(&b.entry.flags, &a.entry.flags, "COPY flags");
    }
    assert_eq!(
        ok(s.snapshot(USER, &inbox), "snapshot"),
        before,
        "COPY changed the source"
    );
    let again = ok(s.copy(USER, &inbox, &[u1], &to), "copy again");
    assert!(
        again.pairs[0].1 > out.pairs[1].1,
        "second COPY reused a UID"
    );
}

/// MOVE: like COPY, and the sources are gone (and reported as expunged).
pub fn move_messages<S: Mailstore>(s: &S) {
    let (inbox, to) = (Mailbox::inbox(), mbx("ContractTo"));
    ok(s.create(USER, &to, None), "create");
    let u1 = append(s, &inbox, "one", &[Flag::Seen]);
    let u2 = append(s, &inbox, "two", &[kw("$Work")]);
    let u3 = append(s, &inbox, "three", &[]);
    let high = ok(s.snapshot(USER, &inbox), "snapshot").highest_modseq;
    let out = ok(s.move_messages(USER, &inbox, &[u3, u1], &to), "move");
    let src: Vec<Uid> = out.pairs.iter().map(|p| p.0).collect();
    assert_eq!(src, vec![u1, u3], "MOVE pairs not in source UID order");
    assert_eq!(
        out.uid_validity,
        ok(s.snapshot(USER, &to), "snapshot").uid_validity
    );
    assert_eq!(uids_of(s, &inbox), vec![u2], "MOVE left sources behind");
    assert_eq!(
        uids_of(s, &to),
        vec![out.pairs[0].1, out.pairs[1].1],
        "target"
    );
    let moved = ok(s.message(USER, &to, out.pairs[0].1), "message");
    assert_eq!(&moved.data[..], b"one", "MOVE changed bytes");
    assert_flags(&moved.entry.flags, &[Flag::Seen], "MOVE flags");
    assert_eq!(moved.internal_date, DATE, "MOVE changed internal date");
    let ch = ok(s.changes_since(USER, &inbox, high), "changes_since");
    assert_eq!(
        ch.expunged,
        vec![u1, u3],
        "MOVE sources not logged as expunged"
    );
}

/// COPY/MOVE to or from a missing mailbox is NonExistent and changes nothing.
pub fn copy_move_errors<S: Mailstore>(s: &S) {
    use StoreErrorKind::NonExistent;
    let (inbox, none) = (Mailbox::inbox(), mbx("ContractNone"));
    let u1 = append(s, &inbox, "one", &[]);
    let before = ok(s.snapshot(USER, &inbox), "snapshot");
    err(
        s.copy(USER, &inbox, &[u1], &none),
        &[NonExistent],
        "copy to missing",
    );
    err(
        s.move_messages(USER, &inbox, &[u1], &none),
        &[NonExistent],
        "move to missing",
    );
    err(
        s.copy(USER, &none, &[u1], &inbox),
        &[NonExistent],
        "copy from missing",
    );
    err(
        s.move_messages(USER, &none, &[u1], &inbox),
        &[NonExistent],
        "move from missing",
    );
    let after = ok(s.snapshot(USER, &inbox), "snapshot");
    assert_eq!(after, before, "a failed COPY/MOVE changed the source");
}

/// `changes_since` returns exactly what changed after a MODSEQ: new and
/// changed messages in their current state, and expunged UIDs.
pub fn changes_since_log<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    let keep = append(s, &inbox, "keep", &[]);
    let flag = append(s, &inbox, "flag", &[]);
    let gone = append(s, &inbox, "gone", &[Flag::Deleted]);
    let early = append(s, &inbox, "early", &[Flag::Deleted]);
    ok(s.expunge(USER, &inbox, Some(&[early])), "expunge");
    ok(
        s.store_flags(USER, &inbox, &[keep], FlagOp::Add, &[kw("$K")], None),
        "store",
    );
    let mark = ok(s.snapshot(USER, &inbox), "snapshot").highest_modseq;
    let none = ok(s.changes_since(USER, &inbox, mark), "changes_since now");
    let empty = none.changed.is_empty() && none.expunged.is_empty();
    assert!(
        empty,
        "changes_since(HIGHESTMODSEQ) must be empty: {none:?}"
    );
    assert_eq!(none.highest_modseq, mark);
    ok(
        s.store_flags(USER, &inbox, &[flag], FlagOp::Add, &[Flag::Seen], None),
        "store",
    );
    let new = append(s, &inbox, "new", &[]);
    ok(s.expunge(USER, &inbox, None), "expunge");
    let ch = ok(s.changes_since(USER, &inbox, mark), "changes_since");
    let snap = ok(s.snapshot(USER, &inbox), "snapshot");
    let changed: Vec<Uid> = ch.changed.iter().map(|m| m.uid).collect();
    assert_eq!(changed, vec![flag, new], "changed since {mark} (UID order)");
    assert_eq!(ch.expunged, vec![gone], "expunged since {mark}");
    assert_eq!(ch.highest_modseq, snap.highest_modseq, "HIGHESTMODSEQ");
    assert_eq!(ch.uid_next, snap.uid_next, "UIDNEXT");
    assert!(
        ch.changed.iter().all(|m| snap.messages.contains(m)),
        "stale state"
    );
    assert!(
        !changed.contains(&keep),
        "an unchanged message was reported"
    );
    let all = ok(s.changes_since(USER, &inbox, 0), "changes_since 0");
    assert_eq!(
        all.changed, snap.messages,
        "changes_since 0 must list every message"
    );
    assert!(all.expunged.contains(&early) && all.expunged.contains(&gone));
    let r = s.changes_since(USER, &mbx("ContractNone"), 0);
    err(
        r,
        &[StoreErrorKind::NonExistent],
        "changes_since of a missing mailbox",
    );
}

/// STATUS counters agree with the messages.
pub fn status_counters<S: Mailstore>(s: &S) {
    let name = mbx("Contract");
    ok(s.create(USER, &name, None), "create");
    let st = ok(s.status(USER, &name), "status");
    assert_eq!(
        (st.messages, st.unseen, st.deleted, st.size),
        (0, 0, 0, 0),
        "{st:?}"
    );
    let u1 = append(s, &name, "12345", &[Flag::Seen]);
    append(s, &name, "123", &[Flag::Deleted]);
    append(s, &name, "1", &[Flag::Seen, Flag::Deleted]);
    ok(
        s.store_flags(USER, &name, &[u1], FlagOp::Remove, &[Flag::Seen], None),
        "store",
    );
    let st = ok(s.status(USER, &name), "status");
    let snap = ok(s.snapshot(USER, &name), "snapshot");
    assert_eq!(st.messages, 3, "STATUS MESSAGES");
    assert_eq!(st.unseen, 2, "STATUS UNSEEN");
    assert_eq!(st.deleted, 2, "STATUS DELETED");
    assert_eq!(st.size, 9, "STATUS SIZE");
    assert_eq!(st.uid_next, snap.uid_next, "STATUS UIDNEXT");
    assert_eq!(st.uid_validity, snap.uid_validity, "STATUS UIDVALIDITY");
    assert_eq!(
        st.highest_modseq, snap.highest_modseq,
        "STATUS HIGHESTMODSEQ"
    );
    ok(s.expunge(USER, &name, None), "expunge");
    let st = ok(s.status(USER, &name), "status");
    assert_eq!(
        (st.messages, st.unseen, st.deleted, st.size),
        (1, 1, 0, 5),
        "{st:?}"
    );
    err(
        s.status(USER, &mbx("ContractNone")),
        &[StoreErrorKind::NonExistent],
        "status",
    );
}

/// `\Recent` claims ([`Mailstore::claim_recent`], RFC 3501 §2.3.2): new
/// messages are unclaimed; a claim returns the watermark as it was and raises
/// it (never lowers it, never past UIDNEXT), so of several sessions claiming
/// the same messages, even at once, exactly one gets each. A store that keeps
/// no watermark (the trait's default: `u32::MAX`, nothing is recent) passes
/// if it says so consistently.
pub fn recent_claims<S: Mailstore>(s: &S) {
    let name = mbx("ContractRecent");
    ok(s.create(USER, &name, None), "create");
    let peek = |what: &str| ok(s.claim_recent(USER, &name, None), what);
    if peek("peek") == u32::MAX {
        let r = ok(s.claim_recent(USER, &name, Some(1)), "claim");
        assert_eq!(r, u32::MAX, "a store without \\Recent claimed something");
        return;
    }
    let first: Vec<Uid> = (0..3)
        .map(|i| append(s, &name, &format!("r{i}"), &[]))
        .collect();
    let w = peek("peek after APPEND");
    assert!(
        w <= first[0].get(),
        "new messages are not recent (watermark {w})"
    );
    let next = ok(s.snapshot(USER, &name), "snapshot").uid_next;
    let got = ok(s.claim_recent(USER, &name, Some(next)), "claim");
    assert_eq!(got, w, "a claim did not return the watermark it found");
    let after = peek("peek after claim");
    assert!(
        after >= next,
        "the claim did not raise the watermark to {next}: {after}"
    );
    let again = ok(s.claim_recent(USER, &name, Some(next)), "second claim");
    assert!(
        again >= next,
        "two claims both got the messages below {next}"
    );
    // Never lowered, never beyond UIDNEXT.
    let _ = ok(s.claim_recent(USER, &name, Some(1)), "claim below");
    assert_eq!(peek("peek"), after, "a lower claim moved the watermark");
    let _ = ok(
        s.claim_recent(USER, &name, Some(u32::MAX - 1)),
        "claim beyond",
    );
    let more: Vec<Uid> = (0..2)
        .map(|i| append(s, &name, &format!("s{i}"), &[]))
        .collect();
    assert!(
        peek("peek after more") <= more[0].get(),
        "a claim beyond UIDNEXT swallowed later messages"
    );
    // A claim of part of the new messages leaves the rest unclaimed.
    let got = ok(
        s.claim_recent(USER, &name, Some(more[1].get())),
        "partial claim",
    );
    assert!(got <= more[0].get(), "partial claim missed {}", more[0]);
    let rest = peek("peek after partial");
    assert!(
        rest > more[0].get() && rest <= more[1].get(),
        "watermark {rest}"
    );
    // Concurrent claims: exactly one session gets the last message.
    let next = ok(s.snapshot(USER, &name), "snapshot").uid_next;
    let winners = std::thread::scope(|t| {
        let hs: Vec<_> = (0..4)
            .map(|_| t.spawn(|| ok(s.claim_recent(USER, &name, Some(next)), "claim")))
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap_or_else(|p| resume_unwind(p)))
            .filter(|before| *before <= more[1].get())
            .count()
    });
    assert_eq!(
        winners, 1,
        "{winners} concurrent claims got the same message"
    );
    err(
        s.claim_recent(USER, &mbx("ContractNone"), Some(5)),
        &[StoreErrorKind::NonExistent],
        "claim in a missing mailbox",
    );
}
