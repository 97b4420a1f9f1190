//! URLAUTH (RFC 4467) through the in-memory pump with exact responses:
//! GENURLAUTH, URLFETCH, RESETKEY, access identifiers, EXPIRE against the
//! session's wall clock, URLAUTH URLs in CATENATE (RFC 4469 §5), and keys
//! that outlive a reopened MaildirStore; and URLAUTH=BINARY (RFC 5524):
//! URLFETCH with BODYPARTSTRUCTURE, BINARY and BODY on a multipart message
//! with base64, quoted-printable, message/rfc822 and unknown-encoding parts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use imap_server_core::{
    MaildirStore, Mailstore, MemStore, ServerConfig, ServerConnection, StaticAuthenticator,
    UrlfetchBinaryStyle,
};

/// One session of `user` (alice or bob, password `secret`).
struct Session {
    conn: ServerConnection,
    now: Instant,
}

impl Session {
    fn login(store: Arc<dyn Mailstore>, user: &str) -> Self {
        Self::login_with(store, user, ServerConfig::default())
    }

    fn login_with(store: Arc<dyn Mailstore>, user: &str, mut cfg: ServerConfig) -> Self {
        cfg.plaintext_auth = true;
        let auth = StaticAuthenticator::new()
            .with_user("alice", "secret")
            .with_user("bob", "secret");
        let now = Instant::now();
        let conn = ServerConnection::new(
            store,
            Arc::new(auth),
            Arc::new(cfg),
            false,
            Arc::new(|| {}),
            now,
        );
        let mut s = Self { conn, now };
        s.drain();
        let r = s.send(&format!("L LOGIN {user} secret\r\n"));
        assert!(r.contains("L OK"), "{r}");
        s
    }

    fn drain(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.conn.poll_transmit(self.now) {
            out.extend_from_slice(&b);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn send(&mut self, s: &str) -> String {
        self.conn.handle_input(s.as_bytes(), self.now);
        self.drain()
    }

    /// GENURLAUTH one rump; the authorized URL (checked for shape).
    fn gen(&mut self, rump: &str) -> String {
        let r = self.send(&format!("G GENURLAUTH \"{rump}\" INTERNAL\r\n"));
        let url = r
            .strip_prefix("* GENURLAUTH ")
            .and_then(|r| r.split_once("\r\nG OK GENURLAUTH completed\r\n"))
            .map(|(u, rest)| {
                assert_eq!(rest, "", "{r}");
                u.trim_matches('"').to_owned()
            })
            .unwrap_or_else(|| panic!("{r}"));
        let token = url
            .strip_prefix(&format!("{rump}:internal:"))
            .unwrap_or_else(|| panic!("{url}"));
        assert_eq!(token.len(), 40, "{url}"); // HMAC-SHA1, hex
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        url
    }

    /// URLFETCH one URL; its data, or `None` for NIL (exact response).
    fn fetch(&mut self, url: &str) -> Option<String> {
        let r = self.send(&format!("U URLFETCH \"{url}\"\r\n"));
        let rest = r
            .strip_prefix("* URLFETCH ")
            .and_then(|r| r.strip_suffix("\r\nU OK URLFETCH completed\r\n"))
            .unwrap_or_else(|| panic!("{r}"));
        let rest = rest
            .strip_prefix(url)
            .or_else(|| rest.strip_prefix(&format!("\"{url}\"")))
            .unwrap_or_else(|| panic!("{r}"))
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("{r}"));
        if rest == "NIL" {
            return None;
        }
        let (len, data) = rest[1..]
            .split_once("}\r\n")
            .unwrap_or_else(|| panic!("{r}"));
        assert_eq!(len.parse::<usize>().unwrap(), data.len(), "{r}");
        Some(data.to_owned())
    }
}

const MSG: &str = "From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n";

fn append(s: &mut Session, mailbox: &str, msg: &str) {
    let r = s.send(&format!(
        "A APPEND {mailbox} {{{}+}}\r\n{msg}\r\n",
        msg.len()
    ));
    assert!(r.contains("A OK [APPENDUID"), "{r}");
}

fn mem() -> Arc<dyn Mailstore> {
    Arc::new(MemStore::new())
}

#[test]
fn capability_advertised_after_login() {
    let store = mem();
    let mut a = Session::login(store, "alice");
    let r = a.send("C CAPABILITY\r\n");
    assert!(r.contains(" URLAUTH "), "{r}");
    assert!(r.contains(" URLAUTH=BINARY"), "{r}");
}

#[test]
fn genurlauth_urlfetch_exact() {
    let store = mem();
    let mut a = Session::login(store, "alice");
    append(&mut a, "INBOX", MSG);
    let rump = "imap://alice@example.com/INBOX/;uid=1;urlauth=user+alice";
    let url = a.gen(rump);
    // The same rump under the same key gives the same token.
    assert_eq!(a.gen(rump), url);
    let r = a.send(&format!("U URLFETCH {url}\r\n"));
    assert_eq!(
        r,
        format!(
            "* URLFETCH {url} {{{}}}\r\n{MSG}\r\nU OK URLFETCH completed\r\n",
            MSG.len()
        )
    );
    // Sections and partials as in RFC 5092.
    let part = a.gen("imap://alice@example.com/INBOX/;uid=1/;section=TEXT;urlauth=user+alice");
    assert_eq!(a.fetch(&part).as_deref(), Some("hello\r\n"));
    let partial = a.gen("imap://alice@example.com/INBOX/;uid=1/;partial=6.7;urlauth=anonymous");
    assert_eq!(a.fetch(&partial).as_deref(), Some("a@examp"));
    // Several URLs in one response; a broken one is NIL.
    let mut bad = url.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    let r = a.send(&format!("U URLFETCH {url} {bad} /INBOX/;uid=1\r\n"));
    assert_eq!(
        r,
        format!(
            "* URLFETCH {url} {{{}}}\r\n{MSG} {bad} NIL /INBOX/;uid=1 NIL\r\nU OK URLFETCH completed\r\n",
            MSG.len()
        )
    );
    // A message that does not exist (yet) signs but fetches NIL.
    let later = a.gen("imap://alice@example.com/INBOX/;uid=9;urlauth=user+alice");
    assert_eq!(a.fetch(&later), None);
    // The token covers the whole rump: change the UID and it fails.
    assert_eq!(a.fetch(&url.replace(";uid=1;", ";uid=9;")), None);
    // Upper-case hex and mechanism names are accepted on the way in.
    let up = url.replace(":internal:", ":INTERNAL:");
    assert_eq!(a.fetch(&up).as_deref(), Some(MSG));
}

#[test]
fn genurlauth_refusals() {
    let store = mem();
    let mut a = Session::login(store, "alice");
    append(&mut a, "INBOX", MSG);
    let ok = "imap://alice@h/INBOX/;uid=1;urlauth=anonymous";
    for (args, answer) in [
        (
            format!("\"{ok}\" X-OTHER"),
            "G BAD [CLIENTBUG] unknown URLAUTH mechanism (only INTERNAL)\r\n",
        ),
        (
            "\"/INBOX/;uid=1;urlauth=anonymous\" INTERNAL".to_owned(),
            "G BAD [CLIENTBUG] not a URLAUTH-ready URL\r\n",
        ),
        (
            "\"imap://alice@h/INBOX/;uid=1;urlauth=anonymous:internal:00\" INTERNAL".to_owned(),
            "G BAD [CLIENTBUG] not a URLAUTH-ready URL\r\n",
        ),
        (
            "\"imap://alice@h/INBOX/;uid=1;urlauth=someone\" INTERNAL".to_owned(),
            "G BAD [CLIENTBUG] not a URLAUTH-ready URL\r\n",
        ),
        (
            "\"imap://alice@h/INBOX/;uid=1;expire=tomorrow;urlauth=anonymous\" INTERNAL".to_owned(),
            "G BAD [CLIENTBUG] not a URLAUTH-ready URL\r\n",
        ),
        (
            "\"imap://bob@h/INBOX/;uid=1;urlauth=anonymous\" INTERNAL".to_owned(),
            "G NO [NOPERM] the URL names another user's mailbox\r\n",
        ),
        (
            "\"imap://alice@h/nope/;uid=1;urlauth=anonymous\" INTERNAL".to_owned(),
            "G NO [NONEXISTENT] ",
        ),
        (
            "\"imap://alice@h/INBOX;UIDVALIDITY=4000000000/;uid=1;urlauth=anonymous\" INTERNAL"
                .to_owned(),
            "G NO UIDVALIDITY has changed\r\n",
        ),
        // All or nothing: a good URL before a bad one gives nothing.
        (
            format!("\"{ok}\" INTERNAL \"/x\" INTERNAL"),
            "G BAD [CLIENTBUG] not a URLAUTH-ready URL\r\n",
        ),
    ] {
        let r = a.send(&format!("G GENURLAUTH {args}\r\n"));
        assert!(r.starts_with(answer), "{args}: {r}");
    }
    let r = a.send("G GENURLAUTH\r\n");
    assert!(r.starts_with("G BAD"), "{r}");
}

#[test]
fn resetkey_invalidates() {
    let store = mem();
    let mut a = Session::login(store, "alice");
    append(&mut a, "INBOX", MSG);
    assert!(a.send("C CREATE other\r\n").contains("C OK"));
    append(&mut a, "other", MSG);
    let inbox = a.gen("imap://alice@h/INBOX/;uid=1;urlauth=authuser");
    let other = a.gen("imap://alice@h/other/;uid=1;urlauth=authuser");
    assert_eq!(a.fetch(&inbox).as_deref(), Some(MSG));
    // Resetting another mailbox leaves INBOX's key alone.
    assert_eq!(
        a.send("R RESETKEY other\r\n"),
        "R OK RESETKEY completed\r\n"
    );
    assert_eq!(a.fetch(&inbox).as_deref(), Some(MSG));
    assert_eq!(a.fetch(&other), None);
    // A new key signs differently; the old URL stays dead.
    let other2 = a.gen("imap://alice@h/other/;uid=1;urlauth=authuser");
    assert_ne!(other2, other);
    assert_eq!(a.fetch(&other2).as_deref(), Some(MSG));
    assert_eq!(a.fetch(&other), None);
    assert_eq!(
        a.send("R RESETKEY inbox INTERNAL\r\n"),
        "R OK RESETKEY completed\r\n"
    );
    assert_eq!(a.fetch(&inbox), None);
    // RESETKEY without a mailbox: every key.
    let inbox = a.gen("imap://alice@h/INBOX/;uid=1;urlauth=authuser");
    assert_eq!(a.send("R RESETKEY\r\n"), "R OK RESETKEY completed\r\n");
    assert_eq!(a.fetch(&inbox), None);
    assert_eq!(a.fetch(&other2), None);
    // Errors.
    assert_eq!(
        a.send("R RESETKEY INBOX X-FOO\r\n"),
        "R NO unknown URLAUTH mechanism (only INTERNAL)\r\n"
    );
    let r = a.send("R RESETKEY nope\r\n");
    assert!(r.starts_with("R NO [NONEXISTENT]"), "{r}");
}

#[test]
fn access_identifiers() {
    let store = mem();
    let mut a = Session::login(store.clone(), "alice");
    let mut b = Session::login(store, "bob");
    append(&mut a, "INBOX", MSG);
    append(&mut b, "INBOX", "Subject: bob's\r\n\r\nx\r\n");
    let rump = |access: &str| format!("imap://alice@h/INBOX/;uid=1;urlauth={access}");
    let for_alice = a.gen(&rump("user+alice"));
    let for_bob = a.gen(&rump("user+bob"));
    let authuser = a.gen(&rump("authuser"));
    let anonymous = a.gen(&rump("anonymous"));
    let submit = a.gen(&rump("submit+alice"));
    // user+name: only that user.
    assert_eq!(a.fetch(&for_alice).as_deref(), Some(MSG));
    assert_eq!(b.fetch(&for_alice), None);
    assert_eq!(b.fetch(&for_bob).as_deref(), Some(MSG));
    assert_eq!(a.fetch(&for_bob), None);
    // authuser and anonymous: anyone logged in here.
    assert_eq!(b.fetch(&authuser).as_deref(), Some(MSG));
    assert_eq!(b.fetch(&anonymous).as_deref(), Some(MSG));
    // submit+name: no submission identity on this server.
    assert_eq!(a.fetch(&submit), None);
    assert_eq!(b.fetch(&submit), None);
    // A URL naming bob's mailbox signed with alice's key does not verify
    // as bob's (each user's keys are their own).
    let forged = authuser.replace("imap://alice@", "imap://bob@");
    assert_eq!(b.fetch(&forged), None);
    // An unknown owner is NIL, and bob may not sign for alice.
    assert_eq!(b.fetch(&authuser.replace("alice@", "carol@")), None);
    let r = b.send(&format!(
        "G GENURLAUTH \"{}\" INTERNAL\r\n",
        rump("authuser")
    ));
    assert_eq!(r, "G NO [NOPERM] the URL names another user's mailbox\r\n");
}

#[test]
fn expire_uses_the_wall_clock() {
    let store = mem();
    let mut a = Session::login(store, "alice");
    append(&mut a, "INBOX", MSG);
    // 2030-01-01T00:00:00Z = 1893456000.
    let url =
        a.gen("imap://alice@h/INBOX/;uid=1;expire=2030-01-01T01:00:00+01:00;urlauth=user+alice");
    a.conn.set_wall_clock(1_893_455_999);
    assert_eq!(a.fetch(&url).as_deref(), Some(MSG));
    a.conn.set_wall_clock(1_893_456_000);
    assert_eq!(a.fetch(&url), None);
    a.conn.set_wall_clock(1_893_455_000);
    assert_eq!(a.fetch(&url).as_deref(), Some(MSG));
    // The EXPIRE is signed: moving it breaks the token.
    let moved = url.replace("2030-01-01T01", "2031-01-01T01");
    assert_eq!(a.fetch(&moved), None);
}

#[test]
fn uidvalidity_binds_the_key() {
    let store = mem();
    let mut a = Session::login(store, "alice");
    assert!(a.send("C CREATE box\r\n").contains("C OK"));
    append(&mut a, "box", MSG);
    let url = a.gen("imap://alice@h/box/;uid=1;urlauth=authuser");
    assert_eq!(a.fetch(&url).as_deref(), Some(MSG));
    assert!(a.send("D DELETE box\r\n").contains("D OK"));
    assert!(a.send("C CREATE box\r\n").contains("C OK"));
    append(&mut a, "box", "Subject: new\r\n\r\nnew\r\n");
    assert_eq!(a.fetch(&url), None);
}

#[test]
fn catenate_with_urlauth() {
    let store = mem();
    let mut a = Session::login(store.clone(), "alice");
    let mut b = Session::login(store, "bob");
    append(&mut a, "INBOX", MSG);
    let url = a.gen("imap://alice@h/INBOX/;uid=1/;section=TEXT;urlauth=authuser");
    let r = b.send(&format!(
        "B APPEND INBOX CATENATE (TEXT {{16+}}\r\nSubject: fwd\r\n\r\n URL \"{url}\")\r\n"
    ));
    assert!(r.starts_with("B OK [APPENDUID "), "{r}");
    let r = b.send("S SELECT INBOX\r\n");
    assert!(r.contains("* 1 EXISTS"), "{r}");
    let r = b.send("F FETCH 1 BODY.PEEK[]\r\n");
    assert!(r.contains("{23}\r\nSubject: fwd\r\n\r\nhello\r\n)"), "{r}");
    // A user+ URL for someone else, or a bad token: BADURL, nothing appended.
    let for_alice = a.gen("imap://alice@h/INBOX/;uid=1;urlauth=user+alice");
    let r = b.send(&format!(
        "B APPEND INBOX CATENATE (URL \"{for_alice}\")\r\n"
    ));
    assert_eq!(r, format!("B NO [BADURL {for_alice}] bad URL\r\n"));
    let r = a.send(&format!(
        "B APPEND INBOX CATENATE (URL \"{for_alice}\")\r\n"
    ));
    assert!(r.starts_with("B OK [APPENDUID "), "{r}");
    let flip = if url.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{flip}", &url[..url.len() - 1]);
    let r = b.send(&format!("B APPEND INBOX CATENATE (URL \"{forged}\")\r\n"));
    assert!(r.starts_with("B NO [BADURL "), "{r}");
}

/// A scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "imap-rs-urlauth-{tag}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn maildir_keys_survive_reopen() {
    let dir = TempDir::new("reopen");
    let (url, other) = {
        let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
        let mut a = Session::login(store, "alice");
        append(&mut a, "INBOX", MSG);
        assert!(a.send("C CREATE other\r\n").contains("C OK"));
        append(&mut a, "other", MSG);
        let url = a.gen("imap://alice@h/INBOX/;uid=1;urlauth=user+alice");
        let other = a.gen("imap://alice@h/other/;uid=1;urlauth=user+alice");
        assert_eq!(a.fetch(&url).as_deref(), Some(MSG));
        (url, other)
    };
    {
        let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
        let mut a = Session::login(store, "alice");
        assert_eq!(a.fetch(&url).as_deref(), Some(MSG));
        assert_eq!(a.fetch(&other).as_deref(), Some(MSG));
        // The same key signs the same rump after the reopen.
        assert_eq!(a.gen("imap://alice@h/INBOX/;uid=1;urlauth=user+alice"), url);
        assert_eq!(
            a.send("R RESETKEY other\r\n"),
            "R OK RESETKEY completed\r\n"
        );
    }
    let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
    let mut a = Session::login(store, "alice");
    assert_eq!(a.fetch(&url).as_deref(), Some(MSG));
    assert_eq!(a.fetch(&other), None);
    // URLFETCH of an unknown owner sets nothing up on disk.
    let before: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(a.fetch(&url.replace("alice@", "mallory@")), None);
    let after: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
}

/// A multipart message: a base64 text part (1), a quoted-printable text
/// part with 8-bit content (2), a message/rfc822 part whose body is base64
/// binary data (3; 3.1 is that body), and a part in an encoding this server
/// does not know (4).
const MULTI: &str = "From: a@example.com\r\n\
Subject: parts\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
aGVsbG8g\r\n\
d29ybGQ=\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
caf=C3=A9 =\r\n\
au lait\r\n\
\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: b@example.com\r\n\
Subject: inner\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
AAEC/w==\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\
Content-Transfer-Encoding: x-uuencode\r\n\
\r\n\
begin 644 x\r\n\
--b1--\r\n";

/// GENURLAUTH a URL of alice's message 1 with `section` (may be empty).
fn multi_url(a: &mut Session, section: &str) -> String {
    let section = if section.is_empty() {
        String::new()
    } else {
        format!("/;section={section}")
    };
    a.gen(&format!(
        "imap://alice@h/INBOX/;uid=1{section};urlauth=user+alice"
    ))
}

/// `U URLFETCH (url params)`: the data after `* URLFETCH url `, checked to
/// be the only untagged response and followed by the tagged OK.
fn ext_fetch(a: &mut Session, url: &str, params: &str) -> String {
    let r = a.send(&format!("U URLFETCH ({url} {params})\r\n"));
    r.strip_prefix(&format!("* URLFETCH {url} "))
        .and_then(|r| r.strip_suffix("\r\nU OK URLFETCH completed\r\n"))
        .unwrap_or_else(|| panic!("{r}"))
        .to_owned()
}

/// The BODYPARTSTRUCTURE of MULTI's part 3 (message/rfc822), unchanged
/// by BINARY: a message/rfc822 part has no transfer encoding to remove.
const PART3: &str = "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 122 (NIL \"inner\" \
((NIL NIL \"b\" \"example.com\")) ((NIL NIL \"b\" \"example.com\")) \
((NIL NIL \"b\" \"example.com\")) NIL NIL NIL NIL NIL) \
(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 8 NIL NIL NIL NIL) 6 NIL NIL NIL NIL)";

/// MULTI's part 3 as stored: the whole encapsulated message, its base64
/// body still encoded.
const PART3_DATA: &str = "From: b@example.com\r\nSubject: inner\r\n\
Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC/w==";

#[test]
fn urlfetch_binary_base64_and_quoted_printable() {
    let mut a = Session::login(mem(), "alice");
    append(&mut a, "INBOX", MULTI);
    // Part 1, base64 text: decoded; with BINARY the structure describes
    // the decoded data (7BIT, 11 octets, 0 lines as Dovecot reports it).
    let p1 = multi_url(&mut a, "1");
    assert_eq!(
        ext_fetch(&mut a, &p1, "BINARY"),
        "(BINARY {11}\r\nhello world)"
    );
    assert_eq!(
        ext_fetch(&mut a, &p1, "BODYPARTSTRUCTURE"),
        "(BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"BASE64\" 18 2 NIL NIL NIL NIL))"
    );
    // Items come BODYPARTSTRUCTURE, BODY, BINARY, each in its own list,
    // whatever the order asked (and a repeat is answered once).
    let both = "(BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 11 0 NIL NIL NIL NIL)) (BINARY {11}\r\nhello world)";
    assert_eq!(ext_fetch(&mut a, &p1, "BINARY BODYPARTSTRUCTURE"), both);
    assert_eq!(
        ext_fetch(&mut a, &p1, "BODYPARTSTRUCTURE binary BINARY"),
        both
    );
    assert_eq!(
        ext_fetch(&mut a, &p1, "BINARY BODY"),
        "(BODY {18}\r\naGVsbG8g\r\nd29ybGQ=) (BINARY {11}\r\nhello world)"
    );
    // Part 2, quoted-printable with a soft line break and UTF-8: 8BIT.
    let p2 = multi_url(&mut a, "2");
    assert_eq!(
        ext_fetch(&mut a, &p2, "BODYPARTSTRUCTURE BINARY"),
        "(BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"8BIT\" 15 0 NIL NIL NIL NIL)) (BINARY {15}\r\ncaf\u{e9} au lait\r\n)"
    );
    assert_eq!(
        ext_fetch(&mut a, &p2, "BODY"),
        "(BODY {22}\r\ncaf=C3=A9 =\r\nau lait\r\n)"
    );
    // `(url)` without parameters is BODY; the plain form is unchanged.
    assert_eq!(
        a.send(&format!("U URLFETCH ({p2})\r\n")),
        format!("* URLFETCH {p2} (BODY {{22}}\r\ncaf=C3=A9 =\r\nau lait\r\n)\r\nU OK URLFETCH completed\r\n")
    );
    assert_eq!(a.fetch(&p2).as_deref(), Some("caf=C3=A9 =\r\nau lait\r\n"));
    // Part 4, an encoding this server does not know: BINARY NIL, the
    // structure as stored.
    let p4 = multi_url(&mut a, "4");
    assert_eq!(
        ext_fetch(&mut a, &p4, "BINARY BODYPARTSTRUCTURE"),
        "(BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"X-UUENCODE\" 11 1 NIL NIL NIL NIL)) (BINARY NIL)"
    );
    // PARTIAL counts decoded octets for BINARY, stored ones for BODY.
    let part = a.gen("imap://alice@h/INBOX/;uid=1/;section=1/;partial=6.3;urlauth=user+alice");
    assert_eq!(
        ext_fetch(&mut a, &part, "BODY BINARY"),
        "(BODY {3}\r\n8g\r) (BINARY {3}\r\nwor)"
    );
}

#[test]
fn urlfetch_binary_message_rfc822() {
    let mut a = Session::login(mem(), "alice");
    append(&mut a, "INBOX", MULTI);
    // A message/rfc822 part: BINARY is the encapsulated message as stored
    // (its own parts still encoded); its structure is unchanged.
    let p3 = multi_url(&mut a, "3");
    assert_eq!(
        ext_fetch(&mut a, &p3, "BINARY"),
        format!("(BINARY {{122}}\r\n{PART3_DATA})")
    );
    assert_eq!(
        ext_fetch(&mut a, &p3, "BINARY BODYPARTSTRUCTURE"),
        format!("(BODYPARTSTRUCTURE {PART3}) (BINARY {{122}}\r\n{PART3_DATA})")
    );
    // Its part 3.1 (the inner body, base64 of 00 01 02 ff): decoded, sent
    // as literal8, described as BINARY data.
    let p31 = multi_url(&mut a, "3.1");
    assert_eq!(
        ext_fetch(&mut a, &p31, "BODYPARTSTRUCTURE BINARY"),
        "(BODYPARTSTRUCTURE (\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BINARY\" 4 NIL NIL NIL NIL)) (BINARY ~{4}\r\n\0\u{1}\u{2}\u{fffd})"
    );
    // The whole message: BINARY as stored, BODYPARTSTRUCTURE its
    // BODYSTRUCTURE.
    let whole = multi_url(&mut a, "");
    let r = ext_fetch(&mut a, &whole, "BODYPARTSTRUCTURE BINARY");
    let expect = format!(
        "(BODYPARTSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"BASE64\" 18 2 NIL NIL NIL NIL)\
(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 22 2 NIL NIL NIL NIL)\
{PART3}(\"TEXT\" \"PLAIN\" NIL NIL NIL \"X-UUENCODE\" 11 1 NIL NIL NIL NIL) \
\"MIXED\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)) (BINARY {{{}}}\r\n{MULTI})",
        MULTI.len()
    );
    assert_eq!(r, expect);
    // A header section names no body part: BINARY NIL, no structure; a
    // URL asking only for the structure of one is NIL.
    let hdr = multi_url(&mut a, "3.HEADER");
    assert_eq!(
        ext_fetch(&mut a, &hdr, "BODYPARTSTRUCTURE BINARY"),
        "(BINARY NIL)"
    );
    assert_eq!(ext_fetch(&mut a, &hdr, "BODYPARTSTRUCTURE"), "NIL");
    // A URL that does not verify is NIL whatever the parameters.
    let mut bad = p3.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    assert_eq!(ext_fetch(&mut a, &bad, "BINARY"), "NIL");
    // Several URLs, plain and extended, in one response.
    let r = a.send(&format!("U URLFETCH {p3} ({p31} BINARY) ({bad} BODY)\r\n"));
    assert_eq!(
        r,
        format!(
            "* URLFETCH {p3} {{122}}\r\n{PART3_DATA} {p31} (BINARY ~{{4}}\r\n\0\u{1}\u{2}\u{fffd}) {bad} NIL\r\nU OK URLFETCH completed\r\n"
        )
    );
}

#[test]
fn urlfetch_binary_over_maildir() {
    let dir = TempDir::new("binary");
    let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
    let mut a = Session::login(store, "alice");
    append(&mut a, "INBOX", MULTI);
    let r = a.send("C CAPABILITY\r\n");
    assert!(r.contains(" URLAUTH=BINARY"), "{r}");
    let p1 = multi_url(&mut a, "1");
    assert_eq!(
        ext_fetch(&mut a, &p1, "BINARY"),
        "(BINARY {11}\r\nhello world)"
    );
}

/// A session whose server answers extended URLFETCH as Dovecot 2.3 does.
fn dovecot23_session(store: Arc<dyn Mailstore>) -> Session {
    let mut cfg = ServerConfig::default();
    cfg.urlfetch_binary = UrlfetchBinaryStyle::Dovecot23;
    Session::login_with(store, "alice", cfg)
}

/// MULTI's part 3 with `UrlfetchBinaryStyle::Dovecot23` and BINARY: the
/// encapsulated message with its base64 body decoded and its
/// Content-Transfer-Encoding field saying so.
const PART3_DEEP: &str = "From: b@example.com\r\nSubject: inner\r\n\
Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\0\u{1}\u{2}\u{fffd}";

#[test]
fn urlfetch_binary_dovecot23_layout() {
    let mut a = dovecot23_session(mem());
    append(&mut a, "INBOX", MULTI);
    // A leaf: one list, BODYPARTSTRUCTURE first; the structure keeps the
    // declared encoding but gives the decoded size.
    let p1 = multi_url(&mut a, "1");
    let leaf = "(BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"BASE64\" 11 0 NIL NIL NIL NIL) BINARY ~{11}\r\nhello world)";
    assert_eq!(ext_fetch(&mut a, &p1, "BINARY BODYPARTSTRUCTURE"), leaf);
    assert_eq!(ext_fetch(&mut a, &p1, "BODYPARTSTRUCTURE BINARY"), leaf);
    // Without BINARY the structure is the stored one, as in RFC 5524's
    // layout; BODY alone is a one-item list either way.
    assert_eq!(
        ext_fetch(&mut a, &p1, "BODYPARTSTRUCTURE BODY"),
        "(BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"BASE64\" 18 2 NIL NIL NIL NIL) BODY {18}\r\naGVsbG8g\r\nd29ybGQ=)"
    );
    // Quoted-printable; decoded text is given 0 lines, and every BINARY
    // is a literal8, as Dovecot 2.3 answers.
    let p2 = multi_url(&mut a, "2");
    assert_eq!(
        ext_fetch(&mut a, &p2, "BINARY BODYPARTSTRUCTURE"),
        "(BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 15 0 NIL NIL NIL NIL) BINARY ~{15}\r\ncaf\u{e9} au lait\r\n)"
    );
    // An unknown encoding: BINARY NIL, the stored structure.
    let p4 = multi_url(&mut a, "4");
    assert_eq!(
        ext_fetch(&mut a, &p4, "BINARY BODYPARTSTRUCTURE"),
        "(BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"X-UUENCODE\" 11 1 NIL NIL NIL NIL) BINARY NIL)"
    );
    // A message/rfc822 part: decoded throughout (literal8, as it now holds
    // NUL), and its structure describes that: 118 octets, the inner part 4.
    let p3 = multi_url(&mut a, "3");
    assert_eq!(PART3_DEEP.replace('\u{fffd}', "x").len(), 118);
    let part3 = "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 118 (NIL \"inner\" \
((NIL NIL \"b\" \"example.com\")) ((NIL NIL \"b\" \"example.com\")) \
((NIL NIL \"b\" \"example.com\")) NIL NIL NIL NIL NIL) \
(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 4 NIL NIL NIL NIL) 6 NIL NIL NIL NIL)";
    assert_eq!(
        ext_fetch(&mut a, &p3, "BINARY BODYPARTSTRUCTURE"),
        format!("(BODYPARTSTRUCTURE {part3} BINARY ~{{118}}\r\n{PART3_DEEP})")
    );
    // ... and without BINARY, the part as stored.
    assert_eq!(
        ext_fetch(&mut a, &p3, "BODYPARTSTRUCTURE"),
        format!("(BODYPARTSTRUCTURE {PART3})")
    );
    // PARTIAL applies to the converted data.
    let part = a.gen("imap://alice@h/INBOX/;uid=1/;section=3/;partial=100.16;urlauth=user+alice");
    assert_eq!(
        ext_fetch(&mut a, &part, "BINARY"),
        "(BINARY ~{16}\r\nng: binary\r\n\r\n\0\u{1})"
    );
    // The whole message: every encoded leaf decoded and relabelled; the
    // rest (preamble, boundaries, the unknown-encoding part) as stored.
    let whole = multi_url(&mut a, "");
    let deep = format!(
        "From: a@example.com\r\n\
Subject: parts\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
hello world\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
caf\u{e9} au lait\r\n\
\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
{PART3_DEEP}\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\
Content-Transfer-Encoding: x-uuencode\r\n\
\r\n\
begin 644 x\r\n\
--b1--\r\n"
    );
    // On the wire 0xff is one octet; the lossy reading made it U+FFFD.
    let len = deep.len() - "\u{fffd}".len() + 1;
    assert_eq!(
        ext_fetch(&mut a, &whole, "BINARY"),
        format!("(BINARY ~{{{len}}}\r\n{deep})")
    );
}

#[test]
fn urlfetch_binary_dovecot23_over_maildir() {
    let dir = TempDir::new("binary23");
    let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
    let mut a = dovecot23_session(store);
    append(&mut a, "INBOX", MULTI);
    let p3 = multi_url(&mut a, "3");
    assert_eq!(
        ext_fetch(&mut a, &p3, "BINARY"),
        format!("(BINARY ~{{118}}\r\n{PART3_DEEP})")
    );
}

/// A message/rfc822 part holding a multipart/alternative of two base64
/// parts, one of them with white space around its lines (RFC 2045 §6.8:
/// ignored when decoding), between a prologue and an epilogue.
const NESTED: &str = "From: a@example.com\r\n\
Subject: nested\r\n\
Content-Type: multipart/mixed; boundary=\"out\"\r\n\
\r\n\
--out\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: b@example.com\r\n\
Subject: in\r\n\
Content-Type: multipart/alternative; boundary=\"in\"\r\n\
\r\n\
prologue\r\n\
--in\r\n\
Content-Type: text/plain\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
Z29v\r\nZCBk\r\nYXk=\r\n\
\r\n\
--in\r\n\
Content-Type: text/html\r\n\
Content-Transfer-Encoding: BASE64\r\n\
\r\n\
\x20\x20PGI+\t\r\n aGk8L2I+ \r\n\
--in--\r\n\
epilogue\r\n\
\r\n\
--out--\r\n";

/// What imaptest's `release-2.3` `urlauth-binary` group checks of Dovecot
/// 2.3's layout, on a message of the same shape: BINARY of a
/// message/rfc822 part decodes the parts inside it; its BODYPARTSTRUCTURE
/// gives the converted sizes and lines under the declared encodings; and a
/// leaf's BINARY and structure share one list.
#[test]
fn urlfetch_binary_dovecot23_nested_multipart() {
    let mut a = dovecot23_session(mem());
    append(&mut a, "INBOX", NESTED);
    let inner = "From: b@example.com\r\n\
Subject: in\r\n\
Content-Type: multipart/alternative; boundary=\"in\"\r\n\
\r\n\
prologue\r\n\
--in\r\n\
Content-Type: text/plain\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
good day\r\n\
--in\r\n\
Content-Type: text/html\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
<b>hi</b>\r\n\
--in--\r\n\
epilogue\r\n";
    let p1 = multi_url(&mut a, "1");
    assert_eq!(
        ext_fetch(&mut a, &p1, "BINARY"),
        format!("(BINARY ~{{{}}}\r\n{inner})", inner.len())
    );
    let envelope =
        "(NIL \"in\" ((NIL NIL \"b\" \"example.com\")) ((NIL NIL \"b\" \"example.com\")) \
((NIL NIL \"b\" \"example.com\")) NIL NIL NIL NIL NIL)";
    let parts = |a: &str, b: &str| {
        format!(
            "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"BASE64\" {a} NIL NIL NIL NIL)\
(\"TEXT\" \"HTML\" NIL NIL NIL \"BASE64\" {b} NIL NIL NIL NIL) \
\"ALTERNATIVE\" (\"BOUNDARY\" \"in\") NIL NIL NIL)"
        )
    };
    // As stored: the leaves 18 octets in 3 lines and 19 in 2; the part is
    // the encapsulated message, up to the line ending before `--out--`.
    let stored = NESTED
        .split_once("message/rfc822\r\n\r\n")
        .and_then(|(_, rest)| rest.split_once("\r\n--out--"))
        .map(|(part, _)| part)
        .unwrap();
    assert_eq!(stored.matches('\n').count(), 21);
    assert_eq!(inner.matches('\n').count(), 17);
    assert_eq!(stored.len() - inner.len(), (18 - 8) + (19 - 9));
    assert_eq!(
        ext_fetch(&mut a, &p1, "BODYPARTSTRUCTURE"),
        format!(
            "(BODYPARTSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" {} {envelope} {} 21 NIL NIL NIL NIL))",
            stored.len(),
            parts("18 3", "19 2")
        )
    );
    // Converted: 8 and 9 octets, no lines; the part as long as `inner`,
    // in its 17 lines.
    assert_eq!(
        ext_fetch(&mut a, &p1, "BODYPARTSTRUCTURE BINARY"),
        format!(
            "(BODYPARTSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" {} {envelope} {} 17 NIL NIL NIL NIL) BINARY ~{{{}}}\r\n{inner})",
            inner.len(),
            parts("8 0", "9 0"),
            inner.len()
        )
    );
    let p112 = multi_url(&mut a, "1.2");
    assert_eq!(
        ext_fetch(&mut a, &p112, "BINARY BODYPARTSTRUCTURE"),
        "(BODYPARTSTRUCTURE (\"TEXT\" \"HTML\" NIL NIL NIL \"BASE64\" 9 0 NIL NIL NIL NIL) BINARY ~{9}\r\n<b>hi</b>)"
    );
}
