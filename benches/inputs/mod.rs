//! Deterministic benchmark inputs, generated in code (no data files).
//!
//! Every generator returns the whole stream plus the byte length of each message
//! in it, so that parsers can be checked to have consumed exactly that many
//! messages and the parse-only benchmarks can pre-split the stream.

use std::fmt::Write as _;

/// A generated stream: all bytes, and the length of each message in order.
pub(crate) struct Stream {
    pub(crate) bytes: Vec<u8>,
    pub(crate) lens: Vec<usize>,
}

impl Stream {
    fn new() -> Self {
        Self {
            bytes: Vec::new(),
            lens: Vec::new(),
        }
    }

    fn push(&mut self, msg: &[u8]) {
        self.bytes.extend_from_slice(msg);
        self.lens.push(msg.len());
    }

    /// The messages as slices of `bytes`.
    pub(crate) fn messages(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.lens.iter().scan(0usize, |pos, &len| {
            let start = *pos;
            *pos += len;
            Some((start, len))
        })
    }
}

/// SplitMix64: a tiny deterministic generator (fixed seed, same bytes every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const ZONES: [&str; 5] = ["-0700", "+0000", "+0200", "-0400", "+0530"];

const PEOPLE: [(&str, &str, &str); 16] = [
    ("\"Alice Example\"", "alice", "example.com"),
    ("\"Bob Smith\"", "bob.smith", "example.org"),
    ("NIL", "carol", "mail.example.net"),
    (
        "\"=?utf-8?q?J=C3=BCrgen_M=C3=BCller?=\"",
        "juergen",
        "example.de",
    ),
    ("\"Dave O'Brien\"", "dave", "lists.example.com"),
    ("\"Erin \\\"E.\\\" Walker\"", "erin.walker", "example.co.uk"),
    ("\"GitHub\"", "notifications", "github.com"),
    ("NIL", "noreply", "accounts.example.com"),
    ("\"Frank Li\"", "frank", "example.cn"),
    (
        "\"=?UTF-8?B?0JjQstCw0L0g0J/QtdGC0YDQvtCy?=\"",
        "ivan",
        "example.ru",
    ),
    ("\"Grace Hopper\"", "grace", "navy.example.mil"),
    ("\"Heidi Klum\"", "heidi", "example.at"),
    ("\"Support Team\"", "support", "help.example.com"),
    ("\"Mallory\"", "mallory", "example.invalid"),
    ("\"Niaj Patel\"", "niaj.patel", "corp.example.in"),
    ("\"Olivia Martin\"", "olivia", "example.fr"),
];

const SUBJECTS: [&str; 20] = [
    "Quarterly report",
    "Meeting notes from Tuesday",
    "Lunch?",
    "[rust-lang/rust] Tracking issue for async closures (#62290)",
    "Your invoice is ready",
    "Re: \\\"Q3 numbers\\\" draft",
    "=?UTF-8?Q?=C3=84nderung_der_Planung?=",
    "Build failed: main (3f2a9c1)",
    "Weekend plans",
    "Please review: migration plan v2",
    "=?UTF-8?B?5Lya6K6u57qq6KaB?=",
    "Security alert: new sign-in",
    "Fwd: travel itinerary",
    "Contract draft (final, really)",
    "Team offsite 2024 - agenda",
    "[PATCH v3 2/7] imap: handle literal8 in APPEND",
    "Newsletter #142: what's new",
    "Out of office",
    "Photos from the trip",
    "Reminder: dentist appointment",
];

/// Non-ASCII subjects, which servers send as literals.
const LITERAL_SUBJECTS: [&str; 3] = [
    "Überprüfung der Rechnung Nr. 4711",
    "Résumé — candidature spontanée",
    "見積書の送付について",
];

const ATTACHMENTS: [(&str, &str, &str); 4] = [
    ("application", "pdf", "report-q3.pdf"),
    ("image", "png", "screenshot 2024-03-01.png"),
    (
        "application",
        "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "budget.xlsx",
    ),
    ("application", "zip", "logs.zip"),
];

fn address(out: &mut String, p: &(&str, &str, &str)) {
    let _ = write!(out, "({} NIL \"{}\" \"{}\")", p.0, p.1, p.2);
}

fn address_list(out: &mut String, rng: &mut Rng, n: usize) {
    if n == 0 {
        out.push_str("NIL");
        return;
    }
    out.push('(');
    for _ in 0..n {
        address(out, rng.pick(&PEOPLE));
    }
    out.push(')');
}

fn message_id(rng: &mut Rng) -> String {
    format!(
        "\"<{:016x}.{}@{}>\"",
        rng.next(),
        rng.below(100_000),
        rng.pick(&PEOPLE).2
    )
}

/// A single text part with Dovecot's extension data (md5, disposition,
/// language, location all NIL).
fn text_part(out: &mut String, rng: &mut Rng, subtype: &str, enc: &str) {
    let params = if subtype == "plain" && rng.chance(1, 3) {
        "(\"charset\" \"utf-8\" \"format\" \"flowed\")"
    } else if rng.chance(1, 5) {
        "(\"charset\" \"iso-8859-1\")"
    } else {
        "(\"charset\" \"utf-8\")"
    };
    let size = 200 + rng.below(20_000);
    let lines = size / 60 + 1;
    let _ = write!(
        out,
        "(\"text\" \"{subtype}\" {params} NIL NIL \"{enc}\" {size} {lines} NIL NIL NIL NIL)"
    );
}

fn alternative(out: &mut String, rng: &mut Rng) {
    out.push('(');
    text_part(out, rng, "plain", "quoted-printable");
    text_part(out, rng, "html", "quoted-printable");
    let _ = write!(
        out,
        " \"alternative\" (\"boundary\" \"----=_Part_{}_{}.{}\") NIL NIL NIL)",
        rng.below(1_000_000),
        rng.below(1_000_000_000),
        rng.below(10_000_000_000_000)
    );
}

fn bodystructure(out: &mut String, rng: &mut Rng) {
    match rng.below(20) {
        // text/plain
        0..=9 => {
            let enc = if rng.chance(1, 2) { "7bit" } else { "8bit" };
            text_part(out, rng, "plain", enc);
        }
        // multipart/alternative (text/plain + text/html)
        10..=16 => alternative(out, rng),
        // multipart/mixed: a body (plain or alternative) and an attachment
        _ => {
            out.push('(');
            if rng.chance(1, 2) {
                alternative(out, rng);
            } else {
                text_part(out, rng, "plain", "7bit");
            }
            let (ty, sub, file) = *rng.pick(&ATTACHMENTS);
            let size = 10_000 + rng.below(2_000_000);
            let _ = write!(
                out,
                "(\"{ty}\" \"{sub}\" (\"name\" \"{file}\") NIL NIL \"base64\" {size} NIL \
                 (\"attachment\" (\"filename\" \"{file}\" \"size\" \"{}\")) NIL NIL)",
                size * 3 / 4
            );
            let _ = write!(
                out,
                " \"mixed\" (\"boundary\" \"b1_{:032x}\") NIL NIL NIL)",
                u128::from(rng.next()) << 64 | u128::from(rng.next())
            );
        }
    }
}

/// `count` untagged FETCH responses as a client's initial mailbox sync gets
/// them from Dovecot: UID, FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE and
/// BODYSTRUCTURE with extension data. One in 40 subjects is non-ASCII and sent
/// as a literal, as servers do.
pub(crate) fn sync_stream(count: usize) -> Stream {
    let mut rng = Rng(0x1A2B_3C4D);
    let mut stream = Stream::new();
    let mut msg = String::with_capacity(4096);
    for i in 1..=count {
        msg.clear();
        let uid = 1000 + i * 3 + rng.below(3) as usize;
        let flags = *rng.pick(&[
            "\\Seen",
            "\\Seen",
            "\\Seen",
            "",
            "\\Seen \\Answered",
            "\\Seen $Forwarded",
            "\\Flagged \\Seen",
            "$Junk",
        ]);
        let day = 1 + rng.below(28);
        let mon = rng.pick(&MONTHS);
        let year = 2015 + rng.below(10);
        let (h, m, s) = (rng.below(24), rng.below(60), rng.below(60));
        let zone = rng.pick(&ZONES);
        let size = 1_500 + rng.below(200_000);
        let _ = write!(
            msg,
            "* {i} FETCH (UID {uid} FLAGS ({flags}) INTERNALDATE \
             \"{day:02}-{mon}-{year} {h:02}:{m:02}:{s:02} {zone}\" RFC822.SIZE {size} ENVELOPE ("
        );
        // date
        let _ = write!(
            msg,
            "\"{}, {day} {mon} {year} {h:02}:{m:02}:{:02} {zone}\" ",
            rng.pick(&WEEKDAYS),
            s.saturating_sub(3)
        );
        // subject
        if rng.chance(1, 40) {
            let subj = rng.pick(&LITERAL_SUBJECTS);
            let _ = write!(msg, "{{{}}}\r\n{subj} ", subj.len());
        } else {
            let prefix = *rng.pick(&["", "", "", "Re: ", "Re: Re: ", "Fwd: "]);
            let _ = write!(msg, "\"{prefix}{}\" ", rng.pick(&SUBJECTS));
        }
        // from, sender, reply-to (Dovecot repeats from when absent)
        let mut from = String::new();
        address_list(&mut from, &mut rng, 1);
        let reply_to = if rng.chance(1, 8) {
            let mut r = String::new();
            address_list(&mut r, &mut rng, 1);
            r
        } else {
            from.clone()
        };
        let _ = write!(msg, "{from} {from} {reply_to} ");
        // to, cc, bcc
        let n_to = 1 + rng.below(3) as usize;
        address_list(&mut msg, &mut rng, n_to);
        msg.push(' ');
        let n_cc = *rng.pick(&[0, 0, 0, 1, 2]);
        address_list(&mut msg, &mut rng, n_cc);
        msg.push_str(" NIL ");
        // in-reply-to, message-id
        if rng.chance(2, 5) {
            msg.push_str(&message_id(&mut rng));
        } else {
            msg.push_str("NIL");
        }
        msg.push(' ');
        msg.push_str(&message_id(&mut rng));
        msg.push_str(") BODYSTRUCTURE ");
        bodystructure(&mut msg, &mut rng);
        msg.push_str(")\r\n");
        stream.push(msg.as_bytes());
    }
    stream
}

/// Text that looks like a mail message (headers, then 72-column lines ending
/// in CRLF), never containing NUL. At least `len` bytes.
pub(crate) fn mail_text(len: usize) -> Vec<u8> {
    let mut rng = Rng(0xFEED);
    let mut out = Vec::with_capacity(len + 128);
    out.extend_from_slice(
        b"Return-Path: <alice@example.com>\r\n\
          Received: from mx.example.com (mx.example.com [192.0.2.1])\r\n\
          \tby imap.example.org with LMTP id 8Zx3K; Wed, 17 Jul 1996 02:44:25 -0700\r\n\
          From: \"Alice Example\" <alice@example.com>\r\n\
          To: \"Bob Smith\" <bob.smith@example.org>\r\n\
          Subject: Quarterly report\r\n\
          Date: Wed, 17 Jul 1996 02:23:25 -0700\r\n\
          Message-ID: <B27397-0100000@example.com>\r\n\
          MIME-Version: 1.0\r\n\
          Content-Type: text/plain; charset=utf-8\r\n\
          Content-Transfer-Encoding: 8bit\r\n\r\n",
    );
    const WORDS: [&str; 16] = [
        "the", "report", "numbers", "quarter", "revenue", "meeting", "please", "review",
        "attached", "draft", "thanks", "regards", "team", "schedule", "budget", "update",
    ];
    let mut col = 0;
    while out.len() < len {
        let w = rng.pick(&WORDS);
        if col + w.len() + 1 > 72 {
            out.extend_from_slice(b"\r\n");
            col = 0;
        } else if col > 0 {
            out.push(b' ');
            col += 1;
        }
        out.extend_from_slice(w.as_bytes());
        col += w.len();
    }
    out
}

/// FETCH responses each carrying a whole message as a `BODY[]` literal of
/// `len` bytes; about `total` bytes in all (at least 4 messages).
pub(crate) fn literal_stream(len: usize, total: usize) -> Stream {
    let text = mail_text(len + 4096);
    let count = (total / len).max(4);
    let mut stream = Stream::new();
    let mut msg = Vec::with_capacity(len + 64);
    for i in 1..=count {
        msg.clear();
        let off = (i * 97) % 4096;
        let _ = write!(
            Adapter(&mut msg),
            "* {i} FETCH (UID {} BODY[] {{{len}}}\r\n",
            2000 + i
        );
        msg.extend_from_slice(&text[off..off + len]);
        msg.extend_from_slice(b")\r\n");
        stream.push(&msg);
    }
    stream
}

/// `fmt::Write` into a byte vector.
struct Adapter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Adapter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Size of the APPEND literal in the command stream.
pub(crate) const APPEND_LEN: usize = 4096;

/// A client's command stream: `sessions` repetitions of a session (LOGIN,
/// CAPABILITY, SELECT with CONDSTORE, UID FETCH of flags and of header fields,
/// UID STORE, UID SEARCH, LIST, STATUS, NOOP, LOGOUT), every fourth one also
/// saving a sent message with APPEND and a 4 KiB `LITERAL+` literal.
///
/// `LIST "" "*"` has no `RETURN (SPECIAL-USE)`: the peer imap-codec does not
/// parse LIST-EXTENDED, so it is left out for every parser.
pub(crate) fn command_stream(sessions: usize) -> Stream {
    let mut rng = Rng(0xC0FFEE);
    let text = mail_text(APPEND_LEN);
    let mut stream = Stream::new();
    let mut msg = Vec::with_capacity(8192);
    let mut tag = 0u32;
    let mut cmd = |stream: &mut Stream, body: &[u8]| {
        tag += 1;
        msg.clear();
        let _ = write!(Adapter(&mut msg), "A{tag:04} ");
        msg.extend_from_slice(body);
        msg.extend_from_slice(b"\r\n");
        stream.push(&msg);
    };
    for s in 0..sessions {
        let user = rng.pick(&PEOPLE);
        let base = 1000 + rng.below(50_000);
        cmd(
            &mut stream,
            format!("LOGIN \"{}@{}\" \"p@ss w0rd {s}\"", user.1, user.2).as_bytes(),
        );
        cmd(&mut stream, b"CAPABILITY");
        cmd(&mut stream, b"SELECT INBOX (CONDSTORE)");
        cmd(&mut stream, b"UID FETCH 1:* (FLAGS)");
        cmd(
            &mut stream,
            format!(
                "UID FETCH {base}:{} (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS \
                 (From To Cc Subject Date Message-ID In-Reply-To References)])",
                base + 49
            )
            .as_bytes(),
        );
        cmd(
            &mut stream,
            format!(
                "UID STORE {base},{}:{} +FLAGS.SILENT (\\Seen)",
                base + 2,
                base + 5
            )
            .as_bytes(),
        );
        cmd(
            &mut stream,
            format!(
                "UID SEARCH UNSEEN SINCE {}-{}-2024 FROM \"{}@{}\" NOT DELETED \
                 OR FLAGGED SUBJECT \"quarterly report\" LARGER 10000 UID {base}:*",
                1 + rng.below(28),
                rng.pick(&MONTHS),
                user.1,
                user.2
            )
            .as_bytes(),
        );
        cmd(&mut stream, b"LIST \"\" \"*\"");
        cmd(
            &mut stream,
            b"STATUS \"Archive/2024\" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)",
        );
        if s % 4 == 0 {
            let mut append = Vec::with_capacity(APPEND_LEN + 100);
            append.extend_from_slice(b"APPEND Sent (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {");
            let _ = write!(Adapter(&mut append), "{APPEND_LEN}+}}\r\n");
            append.extend_from_slice(&text[..APPEND_LEN]);
            cmd(&mut stream, &append);
        }
        cmd(&mut stream, b"NOOP");
        cmd(&mut stream, b"LOGOUT");
    }
    stream
}
