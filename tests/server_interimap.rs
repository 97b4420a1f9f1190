//! Two-way QRESYNC sync with `interimap` between the example server and a
//! private Dovecot.
//!
//! interimap (Debian: `apt-get install interimap`) keeps two IMAP servers in
//! step through RFC 7162: `ENABLE QRESYNC`, `LIST "" * RETURN (SUBSCRIBED
//! STATUS (UIDVALIDITY UIDNEXT HIGHESTMODSEQ))`, `SELECT m (QRESYNC (…))`,
//! `UID FETCH 1:4294967295 (MODSEQ FLAGS INTERNALDATE BODY.PEEK[])`,
//! `UID STORE n (UNCHANGEDSINCE m) FLAGS.SILENT (…)`, `UID EXPUNGE` and
//! MULTIAPPEND with LITERAL+. Here `examples/imap-server` is its `[remote]`
//! and a Dovecot from `scripts/dovecot-loopback.sh` its `[local]`, both in
//! plain text on 127.0.0.1; config, SQLite state and logs live in a temp
//! directory. Three runs of `interimap --debug`:
//!
//! 1. our INBOX and a folder `Work` (raw APPENDs with flags, one message of
//!    8-bit text and 6 KiB) reach Dovecot: the same mailboxes, the same
//!    bodies byte for byte (`UID FETCH BODY.PEEK[]`), the same flags;
//! 2. after changes on both sides — a new message on each, flag changes on
//!    each (one message changed on both: interimap stores the union), an
//!    expunge on each, a new folder on each — both sides hold exactly the
//!    expected mailboxes, bodies (as a multiset per mailbox) and flags;
//! 3. with nothing changed, interimap sends nothing but ENABLE and LIST (and
//!    COMPRESS DEFLATE, which it takes from our server) to either server (no mailbox is dirty) and neither side changes: same
//!    UIDs, flags, bodies, and `STATUS (UIDNEXT HIGHESTMODSEQ)`.
//!
//! A failure message carries interimap's debug output (its whole IMAP
//! exchange with both servers). The test prints `SKIPPED: …` and passes when
//! interimap or Dovecot is not installed.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{run_with_timeout, Dovecot, Server, TempDir, CLIENT_TIMEOUT};

const USER: &str = "alice";
const PASSWORD: &str = "secret";
/// What `scripts/dovecot-loopback.sh` accepts for any user.
const DOVECOT_PASSWORD: &str = "pass";
/// How long one interimap run may take (a run here takes well under 1 s).
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
/// The mailboxes both servers have from the start (Dovecot's
/// `auto = subscribe` ones, our server's special-use defaults).
const SPECIAL: [&str; 5] = ["Archive", "Drafts", "Junk", "Sent", "Trash"];

/// A test message: `Subject: name`, a body line naming it, then `extra`.
fn message(name: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\r\n\
         To: Bob <bob@example.org>\r\n\
         Subject: {name}\r\n\
         Message-ID: <{name}@interimap.test>\r\n\
         Date: Mon, 3 Jun 2024 10:00:00 +0200\r\n\
         \r\n\
         This is {name}.\r\n{extra}"
    )
    .into_bytes()
}

/// The messages of the scenario, by name.
fn corpus() -> BTreeMap<&'static str, Vec<u8>> {
    let mut long = String::from("Grüße aus Köln — 8-bit text, trailing blanks   \r\n");
    for i in 0..100 {
        long.push_str(&format!(
            "line {i:03} of a longer message body, 60 bytes of text\r\n"
        ));
    }
    let mut m = BTreeMap::new();
    m.insert("a-inbox-seen", message("a-inbox-seen", ""));
    m.insert(
        "b-inbox-flagged",
        message(
            "b-inbox-flagged",
            "A second paragraph.\r\n\r\n-- \r\nAlice\r\n",
        ),
    );
    m.insert("c-inbox-plain", message("c-inbox-plain", "\r\n"));
    m.insert("d-work-answered", message("d-work-answered", ""));
    m.insert("e-work-long", message("e-work-long", &long));
    m.insert(
        "f-work-draft",
        message("f-work-draft", "no final line break"),
    );
    m.insert("g-remote-new", message("g-remote-new", ""));
    m.insert("h-remote-folder", message("h-remote-folder", ""));
    m.insert("i-local-new", message("i-local-new", ""));
    m.insert("j-local-folder", message("j-local-folder", ""));
    m
}

// --- a small IMAP client with literals --------------------------------------

/// One server response: its text with each literal replaced by `{}`, and
/// the literals' bytes.
struct Reply {
    text: String,
    literals: Vec<Vec<u8>>,
}

struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_tag: u32,
    /// `remote` (our server) or `local` (Dovecot), for messages.
    side: &'static str,
}

impl Imap {
    fn login(side: &'static str, port: u16, user: &str, password: &str) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(CLIENT_TIMEOUT))
            .expect("set timeout");
        let writer = stream.try_clone().expect("clone socket");
        let mut imap = Self {
            reader: BufReader::new(stream),
            writer,
            next_tag: 0,
            side,
        };
        let greeting = imap.reply();
        assert!(
            greeting.text.starts_with("* OK"),
            "{side}: {}",
            greeting.text
        );
        imap.ok(&format!("LOGIN {user} {password}"));
        imap
    }

    /// One response, literals included.
    fn reply(&mut self) -> Reply {
        let mut text = String::new();
        let mut literals = Vec::new();
        loop {
            let mut line = Vec::new();
            self.reader
                .read_until(b'\n', &mut line)
                .expect("read a response line");
            assert!(
                line.ends_with(b"\r\n"),
                "{}: connection closed or bare LF; got {text:?} then {:?}",
                self.side,
                String::from_utf8_lossy(&line)
            );
            line.truncate(line.len() - 2);
            let line = String::from_utf8_lossy(&line).into_owned();
            let size = line
                .strip_suffix('}')
                .and_then(|l| l.rfind('{').map(|i| &l[i + 1..]))
                .and_then(|n| n.parse::<usize>().ok());
            match size {
                Some(n) => {
                    text.push_str(&line[..line.rfind('{').expect("literal")]);
                    text.push_str("{}");
                    let mut literal = vec![0; n];
                    self.reader
                        .read_exact(&mut literal)
                        .expect("read a literal");
                    literals.push(literal);
                }
                None => {
                    text.push_str(&line);
                    return Reply { text, literals };
                }
            }
        }
    }

    fn tag(&mut self) -> String {
        self.next_tag += 1;
        format!("c{}", self.next_tag)
    }

    /// Read responses up to the tagged one, which must be OK.
    fn until_ok(&mut self, tag: &str, what: &str) -> Vec<Reply> {
        let mut replies = Vec::new();
        loop {
            let r = self.reply();
            if let Some(status) = r.text.strip_prefix(&format!("{tag} ")) {
                assert!(
                    status.starts_with("OK"),
                    "{}: {what} failed: {}\nafter: {:?}",
                    self.side,
                    r.text,
                    replies.iter().map(|r: &Reply| &r.text).collect::<Vec<_>>()
                );
                replies.push(r);
                return replies;
            }
            replies.push(r);
        }
    }

    /// Run a literal-free command; its responses, tagged OK last.
    fn ok(&mut self, command: &str) -> Vec<Reply> {
        let tag = self.tag();
        self.writer
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .expect("send");
        self.until_ok(&tag, command)
    }

    /// APPEND with a synchronizing literal.
    fn append(&mut self, mailbox: &str, flags: &str, body: &[u8]) {
        let tag = self.tag();
        self.writer
            .write_all(
                format!(
                    "{tag} APPEND \"{mailbox}\" ({flags}) {{{}}}\r\n",
                    body.len()
                )
                .as_bytes(),
            )
            .expect("send");
        let cont = self.reply();
        assert!(
            cont.text.starts_with('+'),
            "{}: APPEND: no continuation: {}",
            self.side,
            cont.text
        );
        self.writer.write_all(body).expect("send literal");
        self.writer.write_all(b"\r\n").expect("send");
        self.until_ok(&tag, "APPEND");
    }

    /// The names of all mailboxes (`LIST "" "*"`).
    fn mailboxes(&mut self) -> BTreeSet<String> {
        self.ok("LIST \"\" \"*\"")
            .iter()
            .filter(|r| r.text.starts_with("* LIST "))
            .map(|r| {
                let name = r.text.rsplit(' ').next().expect("name");
                name.trim_matches('"').to_owned()
            })
            .collect()
    }

    /// `STATUS m (UIDNEXT HIGHESTMODSEQ)`, the attribute list as sent.
    fn status(&mut self, mailbox: &str) -> String {
        let replies = self.ok(&format!("STATUS \"{mailbox}\" (UIDNEXT HIGHESTMODSEQ)"));
        let line = replies
            .iter()
            .find(|r| r.text.starts_with("* STATUS "))
            .unwrap_or_else(|| panic!("{}: no STATUS for {mailbox}", self.side));
        line.text[line.text.find('(').expect("(")..].to_owned()
    }

    /// Every message of `mailbox` (EXAMINE, then `UID FETCH 1:* (UID FLAGS
    /// BODY.PEEK[])`), by UID.
    fn messages(&mut self, mailbox: &str) -> BTreeMap<u32, Msg> {
        let replies = self.ok(&format!("EXAMINE \"{mailbox}\""));
        let exists = replies
            .iter()
            .find_map(|r| {
                r.text
                    .strip_prefix("* ")
                    .and_then(|t| t.strip_suffix(" EXISTS"))
            })
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("{}: no EXISTS selecting {mailbox}", self.side));
        let mut out = BTreeMap::new();
        if exists > 0 {
            for r in self.ok("UID FETCH 1:* (UID FLAGS BODY.PEEK[])") {
                if !(r.text.starts_with("* ") && r.text.contains(" FETCH (")) {
                    continue;
                }
                let (uid, msg) = parse_fetch(&r)
                    .unwrap_or_else(|| panic!("{}: cannot read {:?}", self.side, r.text));
                out.insert(uid, msg);
            }
        }
        assert_eq!(out.len(), exists as usize, "{}: {mailbox}", self.side);
        self.ok("UNSELECT");
        out
    }

    /// The UID of the message with this body in `mailbox`.
    fn uid_of(&mut self, mailbox: &str, body: &[u8]) -> u32 {
        let side = self.side;
        self.messages(mailbox)
            .into_iter()
            .find(|(_, m)| m.body == body)
            .map(|(uid, _)| uid)
            .unwrap_or_else(|| panic!("{side}: message not in {mailbox}"))
    }

    /// `UID STORE uid <how> (flags)` in `mailbox`.
    fn store(&mut self, mailbox: &str, uid: u32, how: &str, flags: &str) {
        self.ok(&format!("SELECT \"{mailbox}\""));
        self.ok(&format!("UID STORE {uid} {how}.SILENT ({flags})"));
        self.ok("UNSELECT");
    }

    /// Delete and expunge one message (UIDPLUS `UID EXPUNGE`).
    fn expunge(&mut self, mailbox: &str, uid: u32) {
        self.ok(&format!("SELECT \"{mailbox}\""));
        self.ok(&format!("UID STORE {uid} +FLAGS.SILENT (\\Deleted)"));
        self.ok(&format!("UID EXPUNGE {uid}"));
        self.ok("UNSELECT");
    }

    /// Every mailbox with its STATUS and messages.
    fn state(&mut self) -> BTreeMap<String, (String, BTreeMap<u32, Msg>)> {
        let mut state = BTreeMap::new();
        for name in self.mailboxes() {
            let status = self.status(&name);
            let messages = self.messages(&name);
            state.insert(name, (status, messages));
        }
        state
    }

    /// Every mailbox with its messages as a sorted multiset.
    fn contents(&mut self) -> Contents {
        self.state()
            .into_iter()
            .map(|(name, (_, msgs))| {
                let mut msgs: Vec<Msg> = msgs.into_values().collect();
                msgs.sort();
                (name, msgs)
            })
            .collect()
    }
}

/// `(uid, message)` from `* n FETCH (… UID u … FLAGS (…) … BODY[] {}…)`.
fn parse_fetch(r: &Reply) -> Option<(u32, Msg)> {
    let text = &r.text;
    let items = &text[text.find(" FETCH (")? + 8..];
    let mut words = items.split([' ', '(', ')']).filter(|w| !w.is_empty());
    let uid = words
        .by_ref()
        .skip_while(|w| !w.eq_ignore_ascii_case("UID"))
        .nth(1)?
        .parse()
        .ok()?;
    let flags_at = items.find("FLAGS (")? + 7;
    let flags = items[flags_at..flags_at + items[flags_at..].find(')')?]
        .split(' ')
        .filter(|f| !f.is_empty() && !f.eq_ignore_ascii_case("\\Recent"))
        .map(str::to_owned)
        .collect();
    let [body] = r.literals.as_slice() else {
        return None;
    };
    Some((
        uid,
        Msg {
            body: body.clone(),
            flags,
        },
    ))
}

/// A message as both servers must agree on it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Msg {
    body: Vec<u8>,
    flags: BTreeSet<String>,
}

impl fmt::Debug for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = String::from_utf8_lossy(&self.body);
        let subject = body
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or("?");
        write!(f, "{subject} ({} bytes) {:?}", self.body.len(), self.flags)
    }
}

type Contents = BTreeMap<String, Vec<Msg>>;

/// A message of the corpus by name, with its flags.
type MsgSpec<'a> = (&'a str, &'a [&'a str]);

/// The expected contents: the special mailboxes empty, plus `boxes`.
fn expected(corpus: &BTreeMap<&str, Vec<u8>>, boxes: &[(&str, &[MsgSpec<'_>])]) -> Contents {
    let mut out: Contents = SPECIAL.iter().map(|s| (s.to_string(), vec![])).collect();
    for (name, msgs) in boxes {
        let mut msgs: Vec<Msg> = msgs
            .iter()
            .map(|(m, flags)| Msg {
                body: corpus[m].clone(),
                flags: flags.iter().map(|f| f.to_string()).collect(),
            })
            .collect();
        msgs.sort();
        out.insert(name.to_string(), msgs);
    }
    out
}

// --- interimap -------------------------------------------------------------

fn interimap_installed() -> bool {
    Command::new("interimap")
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The config file: `[local]` Dovecot, `[remote]` our server, plain LOGIN
/// over TCP on loopback, the SQLite database in `dir`.
fn write_config(dir: &Path, local_port: u16, remote_port: u16) -> PathBuf {
    let config = dir.join("interimap.conf");
    let text = format!(
        "database = {db}\n\
         \n\
         [local]\n\
         type = imap\n\
         host = 127.0.0.1\n\
         port = {local_port}\n\
         STARTTLS = NO\n\
         username = {USER}\n\
         password = {DOVECOT_PASSWORD}\n\
         \n\
         [remote]\n\
         type = imap\n\
         host = 127.0.0.1\n\
         port = {remote_port}\n\
         STARTTLS = NO\n\
         username = {USER}\n\
         password = {PASSWORD}\n",
        db = dir.join("interimap.db").display()
    );
    std::fs::write(&config, text).expect("write interimap config");
    config
}

/// Run `interimap --debug`; its stderr (debug log and notices). Panics with
/// that log when it fails.
fn run_interimap(dir: &Path, config: &Path, label: &str) -> String {
    let out = run_with_timeout(
        Command::new("interimap")
            .arg(format!("--config={}", config.display()))
            .arg("--debug")
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .current_dir(dir),
        RUN_TIMEOUT,
    );
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "interimap ({label}) exited with {}; its log:\n{log}",
        out.status
    );
    log
}

/// The commands interimap sent to one side (`local` or `remote`), tags cut.
fn commands(log: &str, side: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            // With a log file interimap puts a timestamp first.
            let at = match l.strip_prefix(side) {
                Some(_) => 0,
                None => l.find(&format!(" {side}"))? + 1,
            };
            let rest = &l[at + side.len()..];
            // "local: C: …" or "local(INBOX): C: …"
            let rest = rest.strip_prefix(':').or_else(|| {
                rest.strip_prefix('(')
                    .and_then(|r| r.find("):").map(|i| &r[i + 2..]))
            })?;
            let command = rest.strip_prefix(" C: ")?;
            Some(command.split_once(' ').map_or(command, |c| c.1).to_owned())
        })
        .collect()
}

// --- the test --------------------------------------------------------------

#[test]
fn interimap_syncs_our_server_with_dovecot() {
    if !interimap_installed() {
        eprintln!("SKIPPED: interimap not installed");
        return;
    }
    let Some(dovecot) = Dovecot::start() else {
        eprintln!("SKIPPED: dovecot not installed");
        return;
    };
    let server = Server::start(&["--user", &format!("{USER}:{PASSWORD}")]);
    let dir = TempDir::new("interimap");
    let config = write_config(dir.path(), dovecot.port, server.port);
    let corpus = corpus();
    let body = |name: &str| corpus[name].as_slice();
    let remote = || Imap::login("remote", server.port, USER, PASSWORD);
    let local = || Imap::login("local", dovecot.port, USER, DOVECOT_PASSWORD);

    // 1. Our server has INBOX and Work; Dovecot only its empty defaults.
    let mut r = remote();
    r.append("INBOX", "\\Seen", body("a-inbox-seen"));
    r.append("INBOX", "\\Flagged $Label1", body("b-inbox-flagged"));
    r.append("INBOX", "", body("c-inbox-plain"));
    r.ok("CREATE Work");
    r.append("Work", "\\Seen \\Answered", body("d-work-answered"));
    r.append("Work", "", body("e-work-long"));
    r.append("Work", "\\Draft", body("f-work-draft"));
    let first = expected(
        &corpus,
        &[
            (
                "INBOX",
                &[
                    ("a-inbox-seen", &["\\Seen"]),
                    ("b-inbox-flagged", &["\\Flagged", "$Label1"]),
                    ("c-inbox-plain", &[]),
                ],
            ),
            (
                "Work",
                &[
                    ("d-work-answered", &["\\Seen", "\\Answered"]),
                    ("e-work-long", &[]),
                    ("f-work-draft", &["\\Draft"]),
                ],
            ),
        ],
    );
    assert_eq!(r.contents(), first, "our server before the first run");

    let log = run_interimap(dir.path(), &config, "first run");
    let mut l = local();
    assert_eq!(
        l.contents(),
        first,
        "Dovecot after the first run; interimap's log:\n{log}"
    );
    assert_eq!(
        r.contents(),
        first,
        "our server after the first run; interimap's log:\n{log}"
    );
    assert!(
        log.contains("local: Created mailbox Work"),
        "interimap did not create Work on Dovecot:\n{log}"
    );

    // 2. Changes on both sides.
    // Ours: a new message, a flag added, an expunge, the flags of b changed
    // (Dovecot changes them too), a new folder with a message.
    r.append("INBOX", "\\Draft", body("g-remote-new"));
    let c = r.uid_of("INBOX", body("c-inbox-plain"));
    r.store("INBOX", c, "+FLAGS", "\\Seen");
    let a = r.uid_of("INBOX", body("a-inbox-seen"));
    r.expunge("INBOX", a);
    let b = r.uid_of("INBOX", body("b-inbox-flagged"));
    r.store("INBOX", b, "+FLAGS", "\\Answered");
    r.ok("CREATE Projects");
    r.append("Projects", "\\Flagged", body("h-remote-folder"));
    // Dovecot's: a new message, flags replaced, an expunge, b's flags, a new
    // folder with a message.
    l.append("Work", "$Local", body("i-local-new"));
    let d = l.uid_of("Work", body("d-work-answered"));
    l.store("Work", d, "FLAGS", "\\Flagged");
    let e = l.uid_of("Work", body("e-work-long"));
    l.expunge("Work", e);
    let b = l.uid_of("INBOX", body("b-inbox-flagged"));
    l.store("INBOX", b, "+FLAGS", "\\Draft");
    l.ok("CREATE Local");
    l.append("Local", "", body("j-local-folder"));

    let log = run_interimap(dir.path(), &config, "second run");
    let second = expected(
        &corpus,
        &[
            (
                "INBOX",
                &[
                    // Changed on both sides since the last run: the union.
                    (
                        "b-inbox-flagged",
                        &["\\Flagged", "$Label1", "\\Answered", "\\Draft"],
                    ),
                    ("c-inbox-plain", &["\\Seen"]),
                    ("g-remote-new", &["\\Draft"]),
                ],
            ),
            (
                "Work",
                &[
                    ("d-work-answered", &["\\Flagged"]),
                    ("f-work-draft", &["\\Draft"]),
                    ("i-local-new", &["$Local"]),
                ],
            ),
            ("Projects", &[("h-remote-folder", &["\\Flagged"])]),
            ("Local", &[("j-local-folder", &[])]),
        ],
    );
    assert_eq!(
        r.contents(),
        second,
        "our server after the second run; interimap's log:\n{log}"
    );
    assert_eq!(
        l.contents(),
        second,
        "Dovecot after the second run; interimap's log:\n{log}"
    );
    assert!(
        log.contains("WARNING: Conflicting flag update in INBOX"),
        "interimap did not see b changed on both sides:\n{log}"
    );

    // 3. Nothing changed: nothing to do.
    let (remote_before, local_before) = (r.state(), l.state());
    let log = run_interimap(dir.path(), &config, "third run");
    // interimap takes the COMPRESS=DEFLATE our server offers (RFC 4978).
    assert!(
        commands(&log, "remote")
            .iter()
            .any(|c| c == "COMPRESS DEFLATE"),
        "interimap did not compress with our server:\n{log}"
    );
    for side in ["local", "remote"] {
        let sent = commands(&log, side);
        let idle: Vec<&String> = sent
            .iter()
            .filter(|c| {
                !(c.starts_with("AUTHENTICATE ")
                    || c.starts_with("LOGIN ")
                    || *c == "ENABLE QRESYNC"
                    || *c == "COMPRESS DEFLATE"
                    || c.starts_with("LIST "))
            })
            .collect();
        assert!(
            sent.iter().any(|c| c.starts_with("LIST ")) && idle.is_empty(),
            "third run: interimap had work to do on {side}: {idle:?}; its log:\n{log}"
        );
    }
    assert_eq!(
        r.state(),
        remote_before,
        "our server changed in the third run; interimap's log:\n{log}"
    );
    assert_eq!(
        l.state(),
        local_before,
        "Dovecot changed in the third run; interimap's log:\n{log}"
    );
    assert_eq!(r.contents(), second);
    drop(server);
}
