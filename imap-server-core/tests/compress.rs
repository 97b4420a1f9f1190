//! COMPRESS=DEFLATE (RFC 4978 §3) in the session: offered only when the
//! driver can compress and only after login; the tagged OK, then the
//! `Compress` event; refused when already active, for another algorithm, or
//! when not offered; input pipelined behind the command dropped. The
//! compression itself is the driver's (tests/server_compress.rs).

mod common;

use std::sync::Arc;

use imap_server_core::{ServerConfig, ServerEvent};

use common::{store, Client};

fn config(compress: bool) -> Arc<ServerConfig> {
    let mut c = ServerConfig::default();
    c.plaintext_auth = true;
    c.compress = compress;
    Arc::new(c)
}

#[test]
fn offered_after_login_and_accepted_once() {
    let store = store();
    let (mut c, greeting) = Client::start(&store, config(true), false);
    assert!(!greeting.contains("COMPRESS"), "{greeting}");
    let r = c.send("a1 CAPABILITY\r\n");
    assert!(!r.contains("COMPRESS=DEFLATE"), "{r}");
    // Not before login either (no RFC rule; as Dovecot: compress the
    // session, not the authentication).
    let r = c.send("a2 COMPRESS DEFLATE\r\n");
    assert!(r.starts_with("a2 BAD"), "{r}");
    assert_eq!(c.conn.poll_event(), None);

    let r = c.send("a3 LOGIN alice secret\r\n");
    assert!(r.contains("COMPRESS=DEFLATE"), "{r}");
    let r = c.send("a4 CAPABILITY\r\n");
    assert!(r.contains(" COMPRESS=DEFLATE"), "{r}");

    // Another algorithm: BAD, nothing turned on.
    let r = c.send("a5 COMPRESS ZSTD\r\n");
    assert!(r.starts_with("a5 BAD"), "{r}");
    assert_eq!(c.conn.poll_event(), None);

    // OK, then the event; what was pipelined behind is dropped (the client
    // must wait for the OK, §3).
    let r = c.send("a6 COMPRESS DEFLATE\r\na7 NOOP\r\n");
    assert_eq!(r, "a6 OK DEFLATE active\r\n");
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::Compress));
    assert_eq!(c.conn.poll_event(), None);

    // The session goes on (the driver now inflates and deflates).
    let r = c.send("a8 NOOP\r\n");
    assert!(r.starts_with("a8 OK"), "{r}");
    let r = c.send("a9 CAPABILITY\r\n");
    assert!(!r.contains("COMPRESS=DEFLATE"), "offered again: {r}");
    let r = c.send("b1 COMPRESS DEFLATE\r\n");
    assert!(r.starts_with("b1 BAD"), "{r}");
    assert_eq!(c.conn.poll_event(), None);
}

#[test]
fn not_offered_when_the_driver_cannot_compress() {
    let store = store();
    let (mut c, _) = Client::start(&store, config(false), false);
    let r = c.send("a1 LOGIN alice secret\r\n");
    assert!(r.contains("a1 OK") && !r.contains("COMPRESS"), "{r}");
    let r = c.send("a2 COMPRESS DEFLATE\r\n");
    assert!(r.starts_with("a2 BAD"), "{r}");
    assert_eq!(c.conn.poll_event(), None);
}
