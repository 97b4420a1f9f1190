//! Contract check on quota usage (RFC 9208; see [`crate::quota`]):
//! [`Mailstore::quota_usage`] counts every message of the user, in every
//! mailbox, exactly, through each operation that adds or removes one.

use imap_proto::Flag;

use super::*;
use crate::quota::QuotaUsage;
use crate::store::Mailstore;

#[track_caller]
fn usage<S: Mailstore>(s: &S, user: &str) -> QuotaUsage {
    ok(s.quota_usage(user), "quota_usage")
}

fn u(storage: u64, messages: u64) -> QuotaUsage {
    QuotaUsage { storage, messages }
}

/// Usage is the sum over all mailboxes of the user, and follows APPEND,
/// COPY (adds), MOVE and RENAME (no change), EXPUNGE (only the expunged
/// messages go), flag changes (no change), DELETE of a mailbox (its
/// messages go); another user's mail never counts. A store that does not
/// claim [`StoreFeatures::quota`](crate::StoreFeatures::quota) gets the
/// default sum, which this checks too.
pub fn quota_usage_accounting<S: Mailstore>(s: &S) {
    let base = usage(s, USER);
    assert_eq!(base, u(0, 0), "a new user has no mail");
    let inbox = mbx("INBOX");
    let a = mbx("ContractQuotaA");
    let b = mbx("ContractQuotaB");
    ok(s.create(USER, &a, None), "create A");
    ok(s.create(USER, &b, None), "create B");
    let m1 = "Subject: 1\r\n\r\none\r\n"; // 19 octets
    let m2 = "Subject: 2\r\n\r\ntwo two\r\n"; // 23 octets
    let m3 = "Subject: 3\r\n\r\n3\r\n"; // 17 octets
    append(s, &inbox, m1, &[]);
    let a2 = append(s, &a, m2, &[]);
    let a3 = append(s, &a, m3, &[Flag::Seen]);
    let total = (m1.len() + m2.len() + m3.len()) as u64;
    assert_eq!(usage(s, USER), u(total, 3), "after APPEND to two mailboxes");
    ok(
        s.append(OTHER_USER, &inbox, new_message(m2, &[])),
        "append for the other user",
    );
    assert_eq!(usage(s, USER), u(total, 3), "another user's mail");
    assert_eq!(usage(s, OTHER_USER), u(m2.len() as u64, 1), "other user");
    ok(s.copy(USER, &a, &[a2], &b), "copy");
    let total = total + m2.len() as u64;
    assert_eq!(usage(s, USER), u(total, 4), "after COPY");
    ok(s.move_messages(USER, &a, &[a3], &b), "move");
    assert_eq!(usage(s, USER), u(total, 4), "MOVE changes nothing");
    ok(
        s.store_flags(USER, &a, &[a2], FlagOp::Add, &[Flag::Deleted], None),
        "store",
    );
    assert_eq!(usage(s, USER), u(total, 4), "\\Deleted alone frees nothing");
    ok(s.expunge(USER, &a, None), "expunge");
    let total = total - m2.len() as u64;
    assert_eq!(usage(s, USER), u(total, 3), "after EXPUNGE");
    let renamed = mbx("ContractQuotaRenamed");
    ok(s.rename(USER, &b, &renamed), "rename");
    assert_eq!(usage(s, USER), u(total, 3), "RENAME changes nothing");
    ok(s.delete(USER, &renamed), "delete");
    assert_eq!(
        usage(s, USER),
        u(m1.len() as u64, 1),
        "DELETE frees the mailbox's messages"
    );
}
