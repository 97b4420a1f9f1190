//! Contract checks on the optional features (see
//! [`StoreFeatures`](crate::StoreFeatures)): metadata (RFC 5464), save dates
//! (RFC 8514) and object ids (RFC 8474). A check whose feature the store does
//! not claim only checks that the defaults hold (nothing known, metadata
//! refused).

use std::collections::BTreeSet;

use bytes::Bytes;
use imap_proto::Mailbox;

use super::*;
use crate::store::{Mailstore, StoreErrorKind};

fn entries<S: Mailstore>(s: &S, mailbox: Option<&Mailbox>) -> Vec<(String, Bytes)> {
    let mut v = ok(s.get_metadata(USER, mailbox), "get_metadata");
    v.sort();
    v
}

fn set<S: Mailstore>(s: &S, mailbox: Option<&Mailbox>, k: &str, v: Option<&str>, max: usize) {
    let change = [(
        k.to_owned(),
        v.map(|v| Bytes::copy_from_slice(v.as_bytes())),
    )];
    ok(s.set_metadata(USER, mailbox, &change, max), "set_metadata");
}

fn pair(k: &str, v: &str) -> (String, Bytes) {
    (k.to_owned(), Bytes::copy_from_slice(v.as_bytes()))
}

/// Metadata: set, replace and remove entries; server entries are apart from
/// every mailbox's; the entry limit refuses the whole change with `Limit`;
/// entries follow RENAME and go with DELETE; a missing mailbox is
/// NonExistent.
pub fn metadata_entries<S: Mailstore>(s: &S) {
    if !s.features().metadata {
        err(
            s.get_metadata(USER, None),
            &[StoreErrorKind::Cannot],
            "get_metadata without the feature",
        );
        return;
    }
    let a = mbx("ContractMeta");
    ok(s.create(USER, &a, None), "create");
    assert_eq!(entries(s, Some(&a)), vec![], "a new mailbox has entries");
    set(s, None, "/private/server", Some("s"), 10);
    set(s, Some(&a), "/shared/comment", Some("one"), 10);
    set(s, Some(&a), "/shared/comment", Some("two"), 10);
    set(s, Some(&a), "/private/x", Some("bin\u{1}ary"), 10);
    assert_eq!(
        entries(s, Some(&a)),
        vec![
            pair("/private/x", "bin\u{1}ary"),
            pair("/shared/comment", "two")
        ],
        "entries after set"
    );
    assert_eq!(
        entries(s, None),
        vec![pair("/private/server", "s")],
        "server entries"
    );
    assert_eq!(
        entries(s, Some(&Mailbox::inbox())),
        vec![],
        "INBOX got another mailbox's entries"
    );
    set(s, Some(&a), "/private/x", None, 10);
    set(s, Some(&a), "/private/never", None, 10);
    assert_eq!(
        entries(s, Some(&a)),
        vec![pair("/shared/comment", "two")],
        "after removal"
    );
    // All or nothing at the limit.
    let too_many = [
        ("/shared/b".to_owned(), Some(Bytes::from_static(b"1"))),
        ("/shared/c".to_owned(), Some(Bytes::from_static(b"2"))),
    ];
    err(
        s.set_metadata(USER, Some(&a), &too_many, 2),
        &[StoreErrorKind::Limit],
        "over the entry limit",
    );
    assert_eq!(
        entries(s, Some(&a)),
        vec![pair("/shared/comment", "two")],
        "a refused change left entries"
    );
    // RENAME and DELETE.
    let b = mbx("ContractMeta2");
    ok(s.rename(USER, &a, &b), "rename");
    assert_eq!(
        entries(s, Some(&b)),
        vec![pair("/shared/comment", "two")],
        "entries did not follow RENAME"
    );
    ok(s.delete(USER, &b), "delete");
    ok(s.create(USER, &b, None), "create again");
    assert_eq!(entries(s, Some(&b)), vec![], "entries outlived DELETE");
    err(
        s.get_metadata(USER, Some(&mbx("ContractNone"))),
        &[StoreErrorKind::NonExistent],
        "metadata of a missing mailbox",
    );
    assert_eq!(
        entries(s, None),
        vec![pair("/private/server", "s")],
        "server entries changed"
    );
    ok(s.delete(USER, &b), "delete");
}

/// Object ids and save dates: MAILBOXIDs are distinct, kept by RENAME and
/// not reused after DELETE; EMAILIDs are distinct for separate APPENDs, valid
/// `objectid`s, and kept by MOVE; every message has a save date, and a moved
/// or copied message's is no older than the original's.
pub fn object_ids<S: Mailstore>(s: &S) {
    let f = s.features();
    let inbox = Mailbox::inbox();
    if !f.object_id && !f.save_date {
        assert_eq!(
            ok(s.mailbox_id(USER, &inbox), "mailbox_id"),
            None,
            "an id without the feature"
        );
        return;
    }
    let a = mbx("ContractIds");
    let b = mbx("ContractIds2");
    ok(s.create(USER, &a, None), "create");
    let u1 = append(s, &a, "Subject: one\r\n\r\n1\r\n", &[]);
    let u2 = append(s, &a, "Subject: two\r\n\r\n2\r\n", &[]);
    let objs = ok(
        s.message_objects(USER, &a, &[u1, u2, uid(999)]),
        "message_objects",
    );
    assert_eq!(
        objs.iter().map(|o| o.uid).collect::<Vec<_>>(),
        vec![u1, u2],
        "message_objects UIDs"
    );
    if f.save_date {
        assert!(
            objs.iter().all(|o| o.save_date.is_some()),
            "a message without a save date"
        );
    }
    if f.object_id {
        let valid = |id: &str| {
            !id.is_empty() && id.len() <= 255 && id.bytes().all(imap_proto::ObjectId::is_char)
        };
        let ids: Vec<String> = objs
            .iter()
            .map(|o| o.email_id.clone().expect("no EMAILID"))
            .collect();
        assert!(
            ids.iter().all(|i| valid(i)),
            "EMAILIDs {ids:?} are not objectids"
        );
        assert_ne!(ids[0], ids[1], "two messages share an EMAILID");
        let ma = ok(s.mailbox_id(USER, &a), "mailbox_id").expect("no MAILBOXID");
        let mi = ok(s.mailbox_id(USER, &inbox), "mailbox_id").expect("no MAILBOXID");
        assert!(valid(&ma), "MAILBOXID {ma} is not an objectid");
        assert_ne!(ma, mi, "two mailboxes share a MAILBOXID");
        assert_eq!(
            ok(s.mailbox_id(USER, &a), "mailbox_id").as_deref(),
            Some(ma.as_str()),
            "MAILBOXID changed"
        );
        ok(s.rename(USER, &a, &b), "rename");
        assert_eq!(
            ok(s.mailbox_id(USER, &b), "mailbox_id").as_deref(),
            Some(ma.as_str()),
            "RENAME changed the MAILBOXID"
        );
        let moved = ok(s.move_messages(USER, &b, &[u1], &inbox), "move");
        let new = moved.pairs[0].1;
        let after = ok(s.message_objects(USER, &inbox, &[new]), "message_objects");
        assert_eq!(
            after[0].email_id.as_deref(),
            Some(ids[0].as_str()),
            "MOVE changed the EMAILID"
        );
        if f.save_date {
            assert!(
                after[0].save_date >= objs[0].save_date,
                "MOVE gave an older save date"
            );
        }
        ok(s.delete(USER, &b), "delete");
        ok(s.create(USER, &b, None), "create again");
        let again = ok(s.mailbox_id(USER, &b), "mailbox_id").expect("no MAILBOXID");
        let seen: BTreeSet<&str> = [ma.as_str(), mi.as_str()].into();
        assert!(!seen.contains(again.as_str()), "a MAILBOXID was reused");
        ok(s.delete(USER, &b), "delete");
    } else {
        ok(s.delete(USER, &a), "delete");
    }
}
