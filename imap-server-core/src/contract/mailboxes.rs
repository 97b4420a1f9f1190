//! Contract checks on mailboxes: CREATE, DELETE, RENAME, subscriptions, names.

use std::collections::BTreeSet;

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, MailboxAttribute};

use super::*;
use crate::store::{Mailstore, StoreErrorKind};

/// A new user has a selectable, empty-or-not INBOX; the delimiter is ASCII.
pub fn inbox_exists<S: Mailstore>(s: &S) {
    let list = listing(s, USER);
    let inbox = list.iter().find(|i| i.name.is_inbox());
    let inbox = inbox.unwrap_or_else(|| panic!("a new user's LIST lacks INBOX: {list:?}"));
    assert!(!is_noselect(inbox), "INBOX is \\Noselect");
    let snap = ok(s.snapshot(USER, &Mailbox::inbox()), "snapshot INBOX");
    assert!(snap.highest_modseq >= 1, "HIGHESTMODSEQ must be at least 1");
    assert!(snap.uid_next >= 1, "UIDNEXT must be at least 1");
    assert!(
        s.delimiter().is_ascii() && s.delimiter() != 0,
        "bad delimiter"
    );
    ok(s.snapshot(USER, &mbx("inbox")), "INBOX is case-insensitive");
}

/// Users do not see each other's mailboxes or messages.
pub fn users_are_separate<S: Mailstore>(s: &S) {
    ok(s.create(USER, &mbx("Contract"), None), "create");
    append(s, &Mailbox::inbox(), "Subject: a\r\n\r\nmine\r\n", &[]);
    let theirs = listing(s, OTHER_USER);
    assert!(
        !theirs.iter().any(|i| i.name == mbx("Contract")),
        "another user sees a mailbox created by {USER}"
    );
    let snap = ok(s.snapshot(OTHER_USER, &Mailbox::inbox()), "snapshot");
    assert!(snap.messages.is_empty(), "another user sees {USER}'s INBOX");
}

/// CREATE makes the mailbox and its missing parents; LIST shows them;
/// CREATE-SPECIAL-USE either works or is refused.
pub fn create_and_list<S: Mailstore>(s: &S) {
    ok(s.create(USER, &mbx("Contract"), None), "create Contract");
    let snap = ok(s.snapshot(USER, &mbx("Contract")), "snapshot new mailbox");
    assert!(snap.messages.is_empty(), "a new mailbox has messages");
    ok(
        s.create(USER, &mbx("ContractP/q/r"), None),
        "create with parents",
    );
    let all = names(s);
    for n in ["Contract", "ContractP", "ContractP/q", "ContractP/q/r"] {
        assert!(all.contains(&mbx(n)), "LIST lacks {n}: {all:?}");
    }
    ok(
        s.create(USER, &mbx("INBOX/ContractKid"), None),
        "create below INBOX",
    );
    assert!(names(s).contains(&mbx("INBOX/ContractKid")));
    match s.create(
        USER,
        &mbx("ContractArchive"),
        Some(MailboxAttribute::Archive),
    ) {
        Ok(()) => {
            let i = info(s, &mbx("ContractArchive"));
            let i = i.unwrap_or_else(|| panic!("special-use mailbox not listed"));
            assert!(
                i.attributes.contains(&MailboxAttribute::Archive),
                "CREATE-SPECIAL-USE lost its attribute: {i:?}"
            );
        }
        Err(e) => assert!(
            e.kind == StoreErrorKind::Cannot,
            "CREATE-SPECIAL-USE refused with {:?}, expected Cannot",
            e.kind
        ),
    }
}

/// CREATE of INBOX (any case), an existing name, or an empty name fails.
pub fn create_errors<S: Mailstore>(s: &S) {
    use StoreErrorKind::*;
    for n in ["INBOX", "inbox", "InBoX"] {
        err(
            s.create(USER, &mbx(n), None),
            &[AlreadyExists],
            "create INBOX",
        );
    }
    ok(s.create(USER, &mbx("Contract"), None), "create");
    err(
        s.create(USER, &mbx("Contract"), None),
        &[AlreadyExists],
        "create twice",
    );
    err(
        s.create(USER, &mbx(""), None),
        &[Cannot],
        "create empty name",
    );
    for n in ["Contract\r\nX", "Contract\0X"] {
        err(s.create(USER, &mbx(n), None), &[Cannot], "create CR/LF/NUL");
    }
}

/// DELETE removes a mailbox and its messages; re-creating the name gives a
/// larger UIDVALIDITY; INBOX cannot be deleted; a missing mailbox is NonExistent.
pub fn delete_mailbox<S: Mailstore>(s: &S) {
    use StoreErrorKind::*;
    let name = mbx("Contract");
    ok(s.create(USER, &name, None), "create");
    append(s, &name, "Subject: x\r\n\r\nx\r\n", &[]);
    let old = ok(s.snapshot(USER, &name), "snapshot").uid_validity;
    ok(s.delete(USER, &name), "delete");
    assert!(!names(s).contains(&name), "deleted mailbox still listed");
    err(s.snapshot(USER, &name), &[NonExistent], "snapshot deleted");
    err(
        s.append(USER, &name, new_message("x", &[])),
        &[NonExistent],
        "append deleted",
    );
    err(s.delete(USER, &name), &[NonExistent], "delete twice");
    err(
        s.delete(USER, &mbx("ContractNone")),
        &[NonExistent],
        "delete missing",
    );
    err(
        s.delete(USER, &mbx("inbox")),
        &[NoPermission, Cannot],
        "delete INBOX",
    );
    assert!(
        names(s).contains(&Mailbox::inbox()),
        "INBOX gone after DELETE"
    );
    ok(s.create(USER, &name, None), "re-create");
    let snap = ok(s.snapshot(USER, &name), "snapshot re-created");
    assert!(
        snap.messages.is_empty(),
        "re-created mailbox has old messages"
    );
    assert!(
        snap.uid_validity > old,
        "re-created mailbox must get a larger UIDVALIDITY ({} after {old})",
        snap.uid_validity
    );
}

/// DELETE of a mailbox with children: refused with HasChildren, or (RFC 9051
/// §6.3.5) the mailbox becomes `\Noselect` or disappears; children survive.
pub fn delete_with_children<S: Mailstore>(s: &S) {
    let (parent, child) = (mbx("Contract"), mbx("Contract/Kid"));
    ok(s.create(USER, &child, None), "create child");
    let kid = append(s, &child, "Subject: kid\r\n\r\nkid\r\n", &[]);
    match s.delete(USER, &parent) {
        Err(e) => {
            assert_eq!(e.kind, StoreErrorKind::HasChildren, "delete parent: {e}");
            assert!(
                names(s).contains(&parent),
                "refused DELETE removed the parent"
            );
        }
        Ok(()) => {
            if let Some(i) = info(s, &parent) {
                assert!(is_noselect(&i), "deleted parent listed without \\Noselect");
            }
        }
    }
    assert!(
        names(s).contains(&child),
        "DELETE of the parent removed a child"
    );
    assert_eq!(uids_of(s, &child), vec![kid], "the child lost its messages");
    ok(s.delete(USER, &child), "delete child");
}

/// RENAME moves a mailbox with its children, messages and UIDVALIDITY, and
/// creates missing parents of the new name.
pub fn rename_mailbox<S: Mailstore>(s: &S) {
    let (a, ab, abc) = (mbx("ContractA"), mbx("ContractA/b"), mbx("ContractA/b/c"));
    ok(s.create(USER, &abc, None), "create");
    let u1 = append(s, &a, "Subject: a\r\n\r\na\r\n", &[Flag::Seen]);
    let u2 = append(s, &ab, "Subject: b\r\n\r\nb\r\n", &[kw("$Work")]);
    let va = ok(s.snapshot(USER, &a), "snapshot").uid_validity;
    let vb = ok(s.snapshot(USER, &ab), "snapshot").uid_validity;
    ok(s.rename(USER, &a, &mbx("ContractC")), "rename");
    let all = names(s);
    for gone in [&a, &ab, &abc] {
        assert!(!all.contains(gone), "{gone} still listed after RENAME");
    }
    for n in ["ContractC", "ContractC/b", "ContractC/b/c"] {
        assert!(
            all.contains(&mbx(n)),
            "{n} not listed after RENAME: {all:?}"
        );
    }
    let c = ok(s.snapshot(USER, &mbx("ContractC")), "snapshot renamed");
    assert_eq!(c.uid_validity, va, "RENAME changed UIDVALIDITY");
    assert_eq!(
        uids_of(s, &mbx("ContractC")),
        vec![u1],
        "RENAME lost messages"
    );
    let cb = ok(
        s.snapshot(USER, &mbx("ContractC/b")),
        "snapshot renamed child",
    );
    assert_eq!(cb.uid_validity, vb, "RENAME changed a child's UIDVALIDITY");
    assert_flags(
        &flags_of(s, &mbx("ContractC/b"), u2),
        &[kw("$Work")],
        "renamed child",
    );
    let m = ok(s.message(USER, &mbx("ContractC"), u1), "message");
    assert_eq!(
        &m.data[..],
        b"Subject: a\r\n\r\na\r\n",
        "RENAME changed bytes"
    );
    ok(
        s.rename(USER, &mbx("ContractC/b/c"), &mbx("ContractX/y/z")),
        "rename deep",
    );
    let all = names(s);
    for n in ["ContractX", "ContractX/y", "ContractX/y/z"] {
        assert!(
            all.contains(&mbx(n)),
            "{n} not listed after RENAME: {all:?}"
        );
    }
    assert!(
        !all.contains(&mbx("ContractC/b/c")),
        "old name still listed"
    );
}

/// RENAME errors: missing source, existing target, INBOX as the target.
pub fn rename_errors<S: Mailstore>(s: &S) {
    use StoreErrorKind::*;
    let (a, b) = (mbx("ContractA"), mbx("ContractB"));
    ok(s.create(USER, &a, None), "create");
    ok(s.create(USER, &b, None), "create");
    let none = mbx("ContractNone");
    err(
        s.rename(USER, &none, &mbx("ContractZ")),
        &[NonExistent],
        "rename missing",
    );
    err(
        s.rename(USER, &a, &b),
        &[AlreadyExists],
        "rename onto existing",
    );
    err(
        s.rename(USER, &a, &a),
        &[AlreadyExists],
        "rename onto itself",
    );
    err(
        s.rename(USER, &a, &mbx("inbox")),
        &[AlreadyExists],
        "rename onto INBOX",
    );
    err(
        s.rename(USER, &a, &mbx("")),
        &[Cannot],
        "rename to empty name",
    );
    assert!(
        names(s).contains(&a) && names(s).contains(&b),
        "failed RENAME changed LIST"
    );
}

/// RENAME of INBOX moves its messages to a new mailbox and leaves INBOX
/// empty; INBOX's children stay where they are.
pub fn rename_inbox<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    ok(
        s.create(USER, &mbx("INBOX/ContractKid"), None),
        "create INBOX child",
    );
    let before = ok(s.snapshot(USER, &inbox), "snapshot");
    let u1 = append(s, &inbox, "Subject: 1\r\n\r\none\r\n", &[Flag::Seen]);
    let u2 = append(s, &inbox, "Subject: 2\r\n\r\ntwo\r\n", &[kw("$Work")]);
    let old = mbx("ContractOld");
    ok(s.rename(USER, &inbox, &old), "rename INBOX");
    let all = names(s);
    assert!(all.contains(&inbox), "INBOX gone after RENAME INBOX");
    assert!(all.contains(&old), "target of RENAME INBOX not listed");
    assert!(
        all.contains(&mbx("INBOX/ContractKid")),
        "INBOX's child moved"
    );
    assert!(
        !all.contains(&mbx("ContractOld/ContractKid")),
        "INBOX's child moved"
    );
    assert!(
        uids_of(s, &inbox).is_empty(),
        "INBOX not empty after RENAME"
    );
    let moved = uids_of(s, &old);
    assert_eq!(
        moved.len(),
        2,
        "RENAME INBOX moved {} messages, not 2",
        moved.len()
    );
    let m1 = ok(s.message(USER, &old, moved[0]), "message");
    let m2 = ok(s.message(USER, &old, moved[1]), "message");
    assert_eq!(&m1.data[..], b"Subject: 1\r\n\r\none\r\n", "bytes changed");
    assert_eq!(&m2.data[..], b"Subject: 2\r\n\r\ntwo\r\n", "bytes changed");
    assert_flags(&m1.entry.flags, &[Flag::Seen], "moved message");
    assert_flags(&m2.entry.flags, &[kw("$Work")], "moved message");
    assert_eq!(m1.internal_date, DATE, "internal date changed");
    let u3 = append(s, &inbox, "Subject: 3\r\n\r\nthree\r\n", &[]);
    let after = ok(s.snapshot(USER, &inbox), "snapshot");
    assert!(
        u3 > u2 || after.uid_validity != before.uid_validity,
        "INBOX reused UID {u3} (had {u1}, {u2}) with the same UIDVALIDITY"
    );
}

/// Subscriptions: any name, existing or not; idempotent; shown by LIST.
pub fn subscriptions<S: Mailstore>(s: &S) {
    let name = mbx("ContractSub");
    ok(
        s.set_subscribed(USER, &name, true),
        "subscribe to a missing mailbox",
    );
    ok(s.set_subscribed(USER, &name, true), "subscribe twice");
    ok(s.create(USER, &name, None), "create");
    let i = info(s, &name).unwrap_or_else(|| panic!("created mailbox not listed"));
    assert!(i.subscribed, "subscription made before CREATE lost");
    ok(
        s.set_subscribed(USER, &Mailbox::inbox(), true),
        "subscribe INBOX",
    );
    assert!(
        info(s, &Mailbox::inbox()).is_some_and(|i| i.subscribed),
        "INBOX not subscribed"
    );
    ok(s.set_subscribed(USER, &name, false), "unsubscribe");
    let i = info(s, &name).unwrap_or_else(|| panic!("mailbox not listed"));
    assert!(!i.subscribed, "still subscribed after UNSUBSCRIBE");
    assert!(
        info(s, &Mailbox::inbox()).is_some_and(|i| i.subscribed),
        "INBOX lost"
    );
}

// ---------------------------------------------------------------- names

/// Unusual names (Unicode, `..`, spaces, control characters, `&`, wildcards,
/// 8-bit bytes, odd delimiters) are stored exactly or refused with Cannot, by
/// CREATE and by RENAME; never stored under another name.
pub fn names_faithful<S: Mailstore>(s: &S) {
    let d = char::from(s.delimiter());
    let mut cases: Vec<Mailbox> = [
        "ContractEntwürfe",
        "Contract日本語/子",
        "Contract😀",
        "Contractа", // Cyrillic а
        "Contract..",
        "Contract/..",
        "Contract/../x",
        "Contract/.",
        "Contract with space",
        "Contract trailing ",
        " Contract leading",
        "Contract\ttab",
        "Contract\u{7}bell",
        "Contract\u{7f}del",
        "Contract\u{85}c1",
        "Contract\u{202e}rtl",
        "Contract\u{200b}zw",
        "Contract&amp",
        "Contract&-",
        "Contract&AOQ-",
        "Contract\"quote",
        "Contract\\backslash",
        "~Contract",
        "Contract%",
        "Contract*",
        "Contract/",
        "/Contract",
        "Contract//x",
        "Contract.dot",
        "INBOX/Contract",
        "inbox/ContractLower",
    ]
    .iter()
    .map(|n| mbx(&n.replace('/', &d.to_string())))
    .collect();
    cases.push(Mailbox::from_decoded(Bytes::from_static(
        b"Contract\xe9latin1",
    )));
    cases.push(mbx(&format!("Contract{}", "x".repeat(300))));
    for name in &cases {
        check_create_name(s, name, d);
        check_rename_name(s, name, d);
    }
}

fn delete_new<S: Mailstore>(s: &S, before: &BTreeSet<Mailbox>) {
    let mut new: Vec<Mailbox> = names(s).difference(before).cloned().collect();
    new.sort_by_key(|n| std::cmp::Reverse(n.as_bytes().len()));
    for n in new {
        ok(s.delete(USER, &n), &format!("delete {n:?}"));
    }
    assert_eq!(&names(s), before, "could not clean up");
}

/// Whether `n` is `name` or one of its ancestors (or `name` without a trailing
/// delimiter, RFC 9051 §6.3.4).
fn is_ancestor_or_self(n: &Mailbox, name: &Mailbox, d: u8) -> bool {
    let (a, b) = (n.as_bytes(), name.as_bytes());
    // INBOX as the first level may be spelled in any case.
    let inbox_ci = |x: &[u8]| {
        x.len() >= 5 && x[..5].eq_ignore_ascii_case(b"INBOX") && (x.len() == 5 || x[5] == d)
    };
    let same = |x: &[u8], y: &[u8]| x == y || (inbox_ci(x) && inbox_ci(y) && x[5..] == y[5..]);
    same(a, b) || (b.len() > a.len() && same(a, &b[..a.len()]) && b[a.len()] == d)
}

fn check_create_name<S: Mailstore>(s: &S, name: &Mailbox, d: char) {
    let before = names(s);
    match s.create(USER, name, None) {
        Err(e) => {
            assert_eq!(e.kind, StoreErrorKind::Cannot, "CREATE {name:?}: {e}");
            assert_eq!(names(s), before, "a refused CREATE {name:?} changed LIST");
        }
        Ok(()) => {
            let now = names(s);
            let d8 = d as u8;
            let trailing = name.as_bytes().last() == Some(&d8);
            let stored = if trailing {
                let b = name.as_bytes();
                Mailbox::from_decoded(Bytes::copy_from_slice(&b[..b.len() - 1]))
            } else {
                name.clone()
            };
            let found = now.iter().any(|n| {
                is_ancestor_or_self(n, &stored, d8) && n.as_bytes().len() == stored.as_bytes().len()
            });
            assert!(
                found,
                "CREATE {name:?} succeeded but LIST lacks it: {now:?}"
            );
            for n in now.difference(&before) {
                assert!(
                    is_ancestor_or_self(n, &stored, d8),
                    "CREATE {name:?} made {n:?}, which is neither it nor a parent"
                );
            }
            ok(s.snapshot(USER, &stored), &format!("snapshot {stored:?}"));
            let u = append(s, &stored, "x", &[]);
            assert_eq!(uids_of(s, &stored), vec![u], "{stored:?}: messages");
            err(
                s.create(USER, &stored, None),
                &[StoreErrorKind::AlreadyExists],
                "again",
            );
            delete_new(s, &before);
        }
    }
}

fn check_rename_name<S: Mailstore>(s: &S, name: &Mailbox, d: char) {
    let src = mbx("ContractRenameSource");
    ok(s.create(USER, &src, None), "create");
    let u = append(s, &src, "renamed", &[]);
    let before = names(s);
    match s.rename(USER, &src, name) {
        Err(e) => {
            assert_eq!(e.kind, StoreErrorKind::Cannot, "RENAME to {name:?}: {e}");
            assert_eq!(
                names(s),
                before,
                "a refused RENAME to {name:?} changed LIST"
            );
            ok(s.delete(USER, &src), "delete");
        }
        Ok(()) => {
            let now = names(s);
            assert!(!now.contains(&src), "RENAME to {name:?} kept the source");
            let d8 = d as u8;
            let target = now.iter().find(|n| {
                is_ancestor_or_self(n, name, d8) && n.as_bytes().len() == name.as_bytes().len()
            });
            let target = target.unwrap_or_else(|| panic!("RENAME to {name:?}: not listed"));
            assert_eq!(
                uids_of(s, target),
                vec![u],
                "RENAME to {name:?} lost messages"
            );
            for n in now.difference(&before) {
                assert!(
                    is_ancestor_or_self(n, name, d8),
                    "RENAME to {name:?} made {n:?}, which is neither it nor a parent"
                );
            }
            let mut keep = before.clone();
            keep.remove(&src);
            delete_new(s, &keep);
        }
    }
}
