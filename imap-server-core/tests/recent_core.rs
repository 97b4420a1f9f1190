//! `\Recent` (RFC 3501 §2.3.2) for a store that keeps no watermark of its
//! own (`StoreFeatures::recent` false, `Mailstore::claim_recent` left at its
//! default): the core keeps one per `ChangeHub`, so every backend gets the
//! IMAP4rev1 semantics: a message is recent to exactly one session, EXAMINE
//! and STATUS only look, and a new UIDVALIDITY starts again.

mod ext;

use std::sync::Arc;

use ext::{untagged, Client, Plain};
use imap_server_core::{Mailstore, ServerConfig};

fn recent_line(r: &str) -> &str {
    untagged(r)
        .into_iter()
        .find(|l| l.ends_with(" RECENT"))
        .unwrap_or_else(|| panic!("no RECENT in {r}"))
}

#[test]
fn one_session_gets_each_message() {
    let store: Arc<dyn Mailstore> = Arc::new(Plain::default());
    assert!(!store.features().recent);
    // Sessions of one server share its configuration, and so its hub.
    let config = Arc::new(ext::config());
    let mut a = Client::login_sharing(&store, &config);
    let mut b = Client::login_sharing(&store, &config);
    a.append_to("INBOX", "Subject: 1\r\n\r\none\r\n");
    a.append_to("INBOX", "Subject: 2\r\n\r\ntwo\r\n");
    // STATUS and EXAMINE look without claiming.
    let r = b.ok("S", "STATUS INBOX (RECENT)", "OK");
    assert_eq!(untagged(&r), ["* STATUS INBOX (RECENT 2)"]);
    let r = b.ok("E", "EXAMINE INBOX", "OK");
    assert_eq!(recent_line(&r), "* 2 RECENT");
    b.ok("C", "CLOSE", "OK");
    // The first SELECT claims both; the next session gets none.
    let r = a.ok("A", "SELECT INBOX", "OK");
    assert_eq!(recent_line(&r), "* 2 RECENT");
    let r = a.ok("F", "FETCH 1:* FLAGS", "OK");
    assert!(r.contains("* 1 FETCH (FLAGS (\\Recent))"), "{r}");
    let r = b.ok("B", "SELECT INBOX", "OK");
    assert_eq!(recent_line(&r), "* 0 RECENT");
    // A new message from a third session: the first session told of it
    // claims it.
    let mut c = Client::login_sharing(&store, &config);
    c.append_to("INBOX", "Subject: 3\r\n\r\nthree\r\n");
    let r = b.ok("N", "NOOP", "OK");
    assert!(r.contains("* 3 EXISTS\r\n* 1 RECENT\r\n"), "{r}");
    let r = a.ok("N", "NOOP", "OK");
    assert!(r.contains("* 3 EXISTS\r\n* 2 RECENT\r\n"), "{r}");
    // STATUS RECENT of the selected mailbox counts this session's own.
    let r = a.ok("S", "STATUS INBOX (RECENT)", "OK");
    assert_eq!(untagged(&r), ["* STATUS INBOX (RECENT 2)"]);
}

#[test]
fn a_new_uidvalidity_starts_again() {
    let store: Arc<dyn Mailstore> = Arc::new(Plain::default());
    let config = Arc::new(ext::config());
    let mut a = Client::login_sharing(&store, &config);
    a.ok("C", "CREATE Box", "OK");
    a.append_to("Box", "Subject: 1\r\n\r\none\r\n");
    let r = a.ok("S", "SELECT Box", "OK");
    assert_eq!(recent_line(&r), "* 1 RECENT");
    a.ok("U", "UNSELECT", "OK");
    // The same name, a new mailbox: its message has not been handed out.
    a.ok("D", "DELETE Box", "OK");
    a.ok("C", "CREATE Box", "OK");
    a.append_to("Box", "Subject: 1\r\n\r\nagain\r\n");
    let r = a.ok("S", "SELECT Box", "OK");
    assert_eq!(recent_line(&r), "* 1 RECENT");
}

#[test]
fn separate_hubs_keep_separate_watermarks() {
    // Two configurations are two servers as far as the core knows: each
    // hands a message out once (the store would have to keep the watermark
    // for them to agree, which is what StoreFeatures::recent is for).
    let store: Arc<dyn Mailstore> = Arc::new(Plain::default());
    let mut a = Client::login_with(&store, ext::config());
    let mut b = Client::login_with(&store, ServerConfig::clone(&ext::config()));
    a.append_to("INBOX", "Subject: 1\r\n\r\none\r\n");
    assert_eq!(recent_line(&a.ok("A", "SELECT INBOX", "OK")), "* 1 RECENT");
    assert_eq!(recent_line(&b.ok("B", "SELECT INBOX", "OK")), "* 1 RECENT");
}
