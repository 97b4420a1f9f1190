//! Regressions found by the `maildir_index` fuzz target.
#![cfg(unix)]

/// A valid index header with UIDNEXT 4294967295 left no UID for the message
/// files it does not list: opening the mailbox failed with "run out of UIDs"
/// instead of repairing it under a new UIDVALIDITY.
#[test]
fn uidnext_at_the_top_is_repaired_not_refused() {
    imap_server_core::fuzzing::maildir_index(include_bytes!(
        "../../fuzz/findings/maildir_index-uidnext-at-the-top-locks-the-mailbox"
    ));
}
