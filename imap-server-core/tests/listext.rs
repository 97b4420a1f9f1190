//! LIST-EXTENDED (RFC 5258) edge cases found by imaptest's `listext` group:
//! option errors and RECURSIVEMATCH with CHILDINFO, with exact responses.

mod common;

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

fn ok(c: &mut Client, cmd: &str) {
    let r = c.send(&format!("T {cmd}\r\n"));
    assert!(
        r.ends_with("T OK CREATE completed\r\n") || r.contains("T OK"),
        "{cmd}: {r}"
    );
}

fn tree(c: &mut Client) {
    for name in ["m/t1", "m/t2/t1", "m/t3", "m/t7/t7", "m/t8/t8", "m/t8/t9"] {
        ok(c, &format!("CREATE {name}"));
    }
    for name in ["m/t1", "m/t2/t1", "m/t7/t7", "m/t8/t8", "m/t8/t9"] {
        ok(c, &format!("SUBSCRIBE {name}"));
    }
}

#[test]
fn option_errors_are_bad() {
    let s = store();
    let mut c = login(&s);
    assert_eq!(
        c.send("A LIST (RECURSIVEMATCH REMOTE) \"\" \"\"\r\n"),
        "A BAD RECURSIVEMATCH needs another selection option\r\n"
    );
    assert_eq!(
        c.send("A LIST (RECURSIVEMATCH) \"\" \"\"\r\n"),
        "A BAD RECURSIVEMATCH needs another selection option\r\n"
    );
    assert_eq!(
        c.send("A LIST \"\" \"\" RETURN (IMAPTEST)\r\n"),
        "A BAD [CLIENTBUG] unknown LIST return option IMAPTEST\r\n"
    );
    assert_eq!(
        c.send("A LIST (IMAPTEST) \"\" \"\"\r\n"),
        "A BAD unknown LIST selection option\r\n"
    );
    assert_eq!(
        c.send("A LIST (REMOTE) \"\" \"\"\r\n"),
        "A OK LIST completed\r\n"
    );
}

#[test]
fn recursivematch_childinfo() {
    let s = store();
    let mut c = login(&s);
    tree(&mut c);
    // t2's subscribed child does not match `m/t2%`: CHILDINFO.
    assert_eq!(
        c.send("A LIST (SUBSCRIBED RECURSIVEMATCH) \"\" m/t2% RETURN (CHILDREN)\r\n"),
        "* LIST (\\HasChildren) \"/\" m/t2 (CHILDINFO (\"SUBSCRIBED\"))\r\n\
         A OK LIST completed\r\n"
    );
    // The child matches the pattern itself: no CHILDINFO for t7.
    assert_eq!(
        c.send("A LIST (SUBSCRIBED RECURSIVEMATCH) \"\" m*t7\r\n"),
        "* LIST (\\HasNoChildren \\Subscribed) \"/\" m/t7/t7\r\n\
         A OK LIST completed\r\n"
    );
    // t8/t9 does not match `m*t8`, t8/t8 does.
    assert_eq!(
        c.send("A LIST (SUBSCRIBED RECURSIVEMATCH) \"\" m*t8\r\n"),
        "* LIST (\\HasChildren) \"/\" m/t8 (CHILDINFO (\"SUBSCRIBED\"))\r\n\
         * LIST (\\HasNoChildren \\Subscribed) \"/\" m/t8/t8\r\n\
         A OK LIST completed\r\n"
    );
    // Both patterns: the child is listed, the parent is not.
    assert_eq!(
        c.send("A LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (m/t2 m/t2/t1)\r\n"),
        "* LIST (\\HasNoChildren \\Subscribed) \"/\" m/t2/t1\r\n\
         A OK LIST completed\r\n"
    );
    // Without RECURSIVEMATCH only subscribed names come back.
    assert_eq!(
        c.send("A LIST (SUBSCRIBED) \"\" m/t2\r\n"),
        "A OK LIST completed\r\n"
    );
}

#[test]
fn recursivematch_nonexistent_parent() {
    let s = store();
    let mut c = login(&s);
    ok(&mut c, "SUBSCRIBE gone/child");
    assert_eq!(
        c.send("A LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n"),
        "* LIST (\\NonExistent) \"/\" gone (CHILDINFO (\"SUBSCRIBED\"))\r\n\
         A OK LIST completed\r\n"
    );
}
