//! APPEND with CATENATE (RFC 4469) through the in-memory pump, with exact
//! expected responses.

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

fn lit(s: &str) -> String {
    format!("{{{}+}}\r\n{s}", s.len())
}

/// Append `msg` to `mailbox`; the APPENDUID's UIDVALIDITY.
fn setup(c: &mut Client) -> u32 {
    assert!(c.send("C CREATE src\r\n").contains("C OK"));
    assert!(c.send("C CREATE dst\r\n").contains("C OK"));
    let r = c.send(&format!(
        "A APPEND src {}\r\n",
        lit("From: a@example.com\r\nSubject: one\r\n\r\nbody one\r\n")
    ));
    // "A OK [APPENDUID v 1] ..."
    let v = r
        .split_whitespace()
        .nth(3)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{r}"));
    let r = c.send(&format!(
        "A APPEND src {}\r\n",
        lit("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\npart one\r\n--b--\r\n")
    ));
    assert!(r.contains("A OK [APPENDUID"), "{r}");
    v
}

fn body_of(c: &mut Client, seq: u32) -> String {
    let r = c.send(&format!("F FETCH {seq} BODY.PEEK[]\r\n"));
    assert!(r.contains("F OK"), "{r}");
    let start = r.find("}\r\n").unwrap() + 3;
    let end = r.rfind(")\r\nF OK").unwrap();
    r[start..end].to_owned()
}

#[test]
fn catenate_text_and_urls() {
    let s = store();
    let mut c = login(&s);
    let v = setup(&mut c);
    let dv = dst_validity(&mut c);
    let r = c.send(&format!(
        "B APPEND dst (\\Seen) CATENATE (URL \"/src;UIDVALIDITY={v}/;UID=1/;SECTION=HEADER\" TEXT {})\r\n",
        lit("new body\r\n")
    ));
    assert_eq!(r, format!("B OK [APPENDUID {dv} 1] APPEND completed\r\n"));
    let r = c.send(&format!(
        "B APPEND dst CATENATE (TEXT {} URL \"/src/;uid=2/;section=1\" URL \"/src/;uid=1/;partial=0.4\" URL \"/src/;uid=1/;partial=1000\")\r\n",
        lit("Subject: x\r\n\r\n")
    ));
    assert!(r.starts_with("B OK [APPENDUID "), "{r}");
    let r = c.send("S SELECT dst\r\n");
    assert!(r.contains("* 2 EXISTS"), "{r}");
    assert_eq!(
        body_of(&mut c, 1),
        "From: a@example.com\r\nSubject: one\r\n\r\nnew body\r\n"
    );
    assert_eq!(body_of(&mut c, 2), "Subject: x\r\n\r\npart oneFrom");
    let r = c.send("F FETCH 1 FLAGS\r\n");
    // This session selected dst first after the APPENDs: \Recent is its own
    // (RFC 3501 §2.3.2).
    assert!(r.contains("* 1 FETCH (FLAGS (\\Recent \\Seen))"), "{r}");
}

fn dst_validity(c: &mut Client) -> u32 {
    let r = c.send("S STATUS dst (UIDVALIDITY)\r\n");
    let i = r.find("UIDVALIDITY ").unwrap() + 12;
    r[i..].split(')').next().unwrap().parse().unwrap()
}

#[test]
fn bad_urls_append_nothing() {
    let s = store();
    let mut c = login(&s);
    let v = setup(&mut c);
    let wrong = v.wrapping_add(1).max(1);
    for (url, shown) in [
        (
            format!("/src;UIDVALIDITY={wrong}/;UID=1"),
            format!("/src;UIDVALIDITY={wrong}/;UID=1"),
        ),
        ("/src/;UID=9".to_owned(), "/src/;UID=9".to_owned()),
        ("/nosuch/;UID=1".to_owned(), "/nosuch/;UID=1".to_owned()),
        (
            "/src/;UID=1/;SECTION=7".to_owned(),
            "/src/;UID=1/;SECTION=7".to_owned(),
        ),
        (
            "imap://alice@host/src/;UID=1".to_owned(),
            "imap://alice@host/src/;UID=1".to_owned(),
        ),
    ] {
        // MULTIAPPEND: a good message first, then the bad URL.
        let r = c.send(&format!(
            "B APPEND dst {} CATENATE (TEXT {} URL \"{url}\")\r\n",
            lit("good\r\n"),
            lit("x")
        ));
        assert_eq!(r, format!("B NO [BADURL {shown}] bad URL\r\n"));
    }
    let r = c.send("S STATUS dst (MESSAGES)\r\n");
    assert!(r.contains("* STATUS dst (MESSAGES 0)"), "{r}");
}

#[test]
fn missing_target_is_trycreate() {
    let s = store();
    let mut c = login(&s);
    setup(&mut c);
    // Even with a bad URL, the missing target is what the client must learn.
    let r = c.send("B APPEND nosuch CATENATE (URL \"/src;UIDVALIDITY=1/;UID=99\")\r\n");
    assert!(r.starts_with("B NO [TRYCREATE]"), "{r}");
}

#[test]
fn too_big() {
    let s = store();
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    cfg.limits.max_literal = 80;
    let (mut c, _) = Client::start(&s, Arc::new(cfg), false);
    assert!(c.send("L1 LOGIN alice secret\r\n").contains("L1 OK"));
    setup(&mut c);
    let r = c.send("B APPEND dst CATENATE (URL \"/src/;UID=1\" URL \"/src/;UID=1\")\r\n");
    assert_eq!(r, "B NO [TOOBIG] message too big\r\n");
}

#[test]
fn advertised() {
    let s = store();
    let mut c = login(&s);
    let r = c.send("C CAPABILITY\r\n");
    assert!(r.contains(" CATENATE"), "{r}");
}
