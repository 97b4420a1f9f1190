//! The message-structure layer: ENVELOPE, BODY/BODYSTRUCTURE, BODY[section],
//! BINARY, SEARCH helpers and PREVIEW on known messages, and bounded behaviour on
//! hostile ones.

use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};
use imap_codec::{decode_response, encode_response, DecodeConfig, Decoded, EncodeConfig};
use imap_proto::smallvec::smallvec;
use imap_proto::{
    Address, BodySpecific, BodyStructure, Data, Date, Envelope, FetchItem, IString, Lazy, Response,
    Section, SectionText, SeqNum,
};
use imap_server_core::mime::{MimeLimits, ParsedMessage, UnknownCte};
use proptest::prelude::*;

// ===== helpers =====

fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn parse(raw: impl Into<Vec<u8>>) -> ParsedMessage {
    ParsedMessage::parse(Bytes::from(raw.into()), &MimeLimits::default())
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("non-zero")
}

fn path(p: &[u32]) -> Vec<NonZeroU32> {
    p.iter().map(|&n| nz(n)).collect()
}

fn sec(p: &[u32], text: Option<SectionText>) -> Section {
    Section {
        part: path(p),
        text,
    }
}

fn names(list: &[&str]) -> Vec<IString> {
    list.iter()
        .map(|n| IString::try_from(*n).unwrap())
        .collect()
}

/// The section's bytes as text (`"<none>"` for `None`).
fn section(m: &ParsedMessage, p: &[u32], text: Option<SectionText>) -> String {
    match m.section(&sec(p, text)) {
        Some(b) => String::from_utf8_lossy(&b).into_owned(),
        None => "<none>".to_owned(),
    }
}

fn s(v: &Option<IString>) -> Option<String> {
    v.as_ref()
        .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
}

fn addr(name: Option<&str>, mailbox: Option<&str>, host: Option<&str>) -> Address {
    let f = |v: Option<&str>| v.map(|v| IString::try_from(v).unwrap());
    Address {
        name: f(name),
        adl: None,
        mailbox: f(mailbox),
        host: f(host),
    }
}

fn fetch(items: Vec<FetchItem>) -> Response {
    let mut v = smallvec![];
    v.extend(items);
    Response::Data(Data::Fetch {
        seq: SeqNum(nz(12)),
        items: v,
    })
}

fn encode(resp: &Response) -> Bytes {
    let mut out = BytesMut::new();
    encode_response(resp, &mut out, &EncodeConfig::default());
    out.freeze()
}

/// Encode ENVELOPE, BODY and BODYSTRUCTURE in a FETCH response, decode the wire
/// form back, and check the values survive: they are valid wire values.
fn assert_wire_roundtrip(m: &ParsedMessage) {
    let resp = fetch(vec![
        FetchItem::Envelope(Lazy::new(m.envelope())),
        FetchItem::Body(Lazy::new(m.body_structure(false))),
        FetchItem::BodyStructure(Lazy::new(m.body_structure(true))),
    ]);
    let wire = encode(&resp);
    match decode_response(&wire, &DecodeConfig::responses()) {
        Ok(Decoded::Complete { value, consumed }) => {
            assert_eq!(consumed, wire.len());
            assert_eq!(
                value,
                resp,
                "round trip of {}",
                String::from_utf8_lossy(&wire)
            );
        }
        other => panic!(
            "decoding {:?} failed: {other:?}",
            String::from_utf8_lossy(&wire)
        ),
    }
}

/// The wire form of one FETCH item's value, e.g. `BODY (…)`, without the
/// `* 12 FETCH (` … `)\r\n` around it.
fn wire_item(item: FetchItem) -> String {
    let wire = encode(&fetch(vec![item]));
    let text = String::from_utf8(wire.to_vec()).unwrap();
    text.strip_prefix("* 12 FETCH (")
        .and_then(|t| t.strip_suffix(")\r\n"))
        .unwrap()
        .to_owned()
}

fn bodystructure_wire(m: &ParsedMessage) -> String {
    wire_item(FetchItem::BodyStructure(Lazy::new(m.body_structure(true))))
}

fn body_wire(m: &ParsedMessage) -> String {
    wire_item(FetchItem::Body(Lazy::new(m.body_structure(false))))
}

/// Nesting depth of a body structure (a leaf is 1).
fn depth(b: &BodyStructure) -> usize {
    match b {
        BodyStructure::Multi { bodies, .. } => 1 + bodies.iter().map(depth).max().unwrap_or(0),
        BodyStructure::Single {
            body:
                imap_proto::Body {
                    specific: BodySpecific::Message { body, .. },
                    ..
                },
            ..
        } => 1 + depth(body),
        _ => 1,
    }
}

/// Every part path of a structure, with the structure at that path.
fn part_paths(b: &BodyStructure, prefix: Vec<u32>, out: &mut Vec<(Vec<u32>, BodyStructure)>) {
    match b {
        BodyStructure::Multi { bodies, .. } => {
            for (i, child) in bodies.iter().enumerate() {
                let mut p = prefix.clone();
                p.push(i as u32 + 1);
                out.push((p.clone(), child.clone()));
                part_paths(child, p, out);
            }
        }
        BodyStructure::Single {
            body:
                imap_proto::Body {
                    specific: BodySpecific::Message { body, .. },
                    ..
                },
            ..
        } => match &**body {
            BodyStructure::Multi { .. } => part_paths(body, prefix, out),
            inner => {
                let mut p = prefix;
                p.push(1);
                out.push((p.clone(), inner.clone()));
                part_paths(inner, p, out);
            }
        },
        _ => {}
    }
}

/// Invariants that hold for any message: every part BODYSTRUCTURE reports is
/// addressable by BODY[path] and has the reported size.
fn check_invariants(m: &ParsedMessage) {
    let bs = m.body_structure(true);
    let mut paths = Vec::new();
    match &bs {
        BodyStructure::Multi { .. } => part_paths(&bs, Vec::new(), &mut paths),
        single => {
            paths.push((vec![1], single.clone()));
            part_paths(single, vec![1], &mut paths);
        }
    }
    for (p, part) in &paths {
        let bytes = m
            .section(&sec(p, None))
            .unwrap_or_else(|| panic!("BODY[{p:?}] missing"));
        if let BodyStructure::Single { body, .. } = part {
            assert_eq!(
                bytes.len() as u64,
                u64::from(body.fields.size),
                "size of {p:?}"
            );
        }
        assert!(m.section(&sec(p, Some(SectionText::Mime))).is_some());
        let _ = m.binary(&path(p));
        let _ = m.binary_size(&path(p));
    }
}

// ===== RFC 3501 §8 =====

fn rfc3501_message() -> Vec<u8> {
    let mut m = crlf(
        "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n\
         From: Terry Gray <gray@cac.washington.edu>\n\
         Subject: IMAP4rev1 WG mtg summary and minutes\n\
         To: imap@cac.washington.edu\n\
         cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\n\
         Message-Id: <B27397-0100000@cac.washington.edu>\n\
         MIME-Version: 1.0\n\
         Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n\
         \n",
    );
    // 92 lines, 3028 octets: 91 lines of 31 characters and one of 23, each + CRLF.
    for i in 0..91 {
        m.extend_from_slice(format!("{:031}\r\n", i).as_bytes());
    }
    m.extend_from_slice(format!("{:023}\r\n", 91).as_bytes());
    m
}

#[test]
fn rfc3501_example_envelope_and_body() {
    let raw = rfc3501_message();
    let m = parse(raw.clone());
    assert_eq!(
        m.section(&sec(&[], Some(SectionText::Text))).unwrap().len(),
        3028
    );

    let env = m.envelope();
    assert_eq!(
        s(&env.date).as_deref(),
        Some("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)")
    );
    assert_eq!(
        s(&env.subject).as_deref(),
        Some("IMAP4rev1 WG mtg summary and minutes")
    );
    let gray = vec![addr(
        Some("Terry Gray"),
        Some("gray"),
        Some("cac.washington.edu"),
    )];
    assert_eq!(env.from, gray);
    assert_eq!(env.sender, gray, "Sender defaults to From");
    assert_eq!(env.reply_to, gray, "Reply-To defaults to From");
    assert_eq!(
        env.to,
        vec![addr(None, Some("imap"), Some("cac.washington.edu"))]
    );
    assert_eq!(
        env.cc,
        vec![
            addr(None, Some("minutes"), Some("CNRI.Reston.VA.US")),
            addr(Some("John Klensin"), Some("KLENSIN"), Some("MIT.EDU")),
        ]
    );
    assert!(env.bcc.is_empty());
    assert_eq!(env.in_reply_to, None);
    assert_eq!(
        s(&env.message_id).as_deref(),
        Some("<B27397-0100000@cac.washington.edu>")
    );

    // The RFC's response text, unwrapped (the RFC's line break between the two
    // cc addresses is presentation: `1*address` has no separator).
    let expected = "ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \
        \"IMAP4rev1 WG mtg summary and minutes\" \
        ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
        ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
        ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
        ((NIL NIL \"imap\" \"cac.washington.edu\")) \
        ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")\
        (\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
        \"<B27397-0100000@cac.washington.edu>\")";
    assert_eq!(wire_item(FetchItem::Envelope(Lazy::new(env))), expected);
    assert_eq!(
        body_wire(&m),
        "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)"
    );
    assert_eq!(
        bodystructure_wire(&m),
        "BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92 \
         NIL NIL NIL NIL)"
    );
    assert_eq!(m.sent_date(), Some(Date::new(1996, 7, 17).unwrap()));
    assert_eq!(m.size(), raw.len() as u64);
    assert_eq!(m.section(&Section::default()).unwrap(), Bytes::from(raw));
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

#[test]
fn header_fields_and_not() {
    let m = parse(rfc3501_message());
    assert_eq!(
        section(
            &m,
            &[],
            Some(SectionText::HeaderFields(names(&["subject", "FROM"])))
        ),
        "From: Terry Gray <gray@cac.washington.edu>\r\n\
         Subject: IMAP4rev1 WG mtg summary and minutes\r\n\r\n"
    );
    assert_eq!(
        section(
            &m,
            &[],
            Some(SectionText::HeaderFieldsNot(names(&[
                "Date",
                "From",
                "Subject",
                "To",
                "Mime-Version"
            ])))
        ),
        "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\
         Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
         Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n"
    );
    // No match: just the empty line.
    assert_eq!(
        section(&m, &[], Some(SectionText::HeaderFields(names(&["X-None"])))),
        "\r\n"
    );
    // Folded fields come with their continuation lines; repeated fields all come.
    let m = parse(crlf(
        "Received: from a\n\tby b\nSubject: one\nreceived: from c\nX: y\n\nbody\n",
    ));
    assert_eq!(
        section(
            &m,
            &[],
            Some(SectionText::HeaderFields(names(&["RECEIVED"])))
        ),
        "Received: from a\r\n\tby b\r\nreceived: from c\r\n\r\n"
    );
    // A header the message ends inside still yields a well-formed header.
    let m = parse(b"Subject: cut".to_vec());
    assert_eq!(
        section(
            &m,
            &[],
            Some(SectionText::HeaderFields(names(&["subject"])))
        ),
        "Subject: cut\r\n\r\n"
    );
    assert_eq!(section(&m, &[], Some(SectionText::Header)), "Subject: cut");
    assert_eq!(section(&m, &[], Some(SectionText::Text)), "");
}

// ===== multipart =====

const ALTERNATIVE: &str = "From: Alice <alice@example.com>\n\
To: Bob <bob@example.org>\n\
Subject: alt\n\
Date: Mon, 7 Feb 1994 21:52:25 -0800\n\
Message-ID: <alt@example.com>\n\
MIME-Version: 1.0\n\
Content-Type: multipart/alternative; boundary=\"b1\"\n\
\n\
This is the preamble.\n\
--b1\n\
Content-Type: text/plain; charset=UTF-8\n\
Content-Transfer-Encoding: quoted-printable\n\
\n\
Hello w=C3=B6rld\n\
--b1\n\
Content-Type: text/html; charset=\"ISO-8859-1\"\n\
Content-Language: en, de\n\
\n\
<p>Hello &amp; bye</p>\n\
--b1--\n\
epilogue\n";

#[test]
fn multipart_alternative() {
    let m = parse(crlf(ALTERNATIVE));
    assert_eq!(
        bodystructure_wire(&m),
        "BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"QUOTED-PRINTABLE\" 16 1 \
         NIL NIL NIL NIL)(\"TEXT\" \"HTML\" (\"CHARSET\" \"ISO-8859-1\") NIL NIL \"7BIT\" 22 1 \
         NIL NIL (\"en\" \"de\") NIL) \"ALTERNATIVE\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)"
    );
    assert_eq!(
        body_wire(&m),
        "BODY ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"QUOTED-PRINTABLE\" 16 1)\
         (\"TEXT\" \"HTML\" (\"CHARSET\" \"ISO-8859-1\") NIL NIL \"7BIT\" 22 1) \"ALTERNATIVE\")"
    );
    assert_eq!(section(&m, &[1], None), "Hello w=C3=B6rld");
    assert_eq!(section(&m, &[2], None), "<p>Hello &amp; bye</p>");
    assert_eq!(
        section(&m, &[1], Some(SectionText::Mime)),
        "Content-Type: text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    );
    assert_eq!(section(&m, &[3], None), "<none>");
    assert_eq!(section(&m, &[1, 1], None), "<none>");
    assert_eq!(section(&m, &[1], Some(SectionText::Header)), "<none>");
    assert!(
        section(&m, &[], Some(SectionText::Text)).starts_with("This is the preamble.\r\n--b1\r\n")
    );
    assert_eq!(
        m.binary(&path(&[1])).unwrap().unwrap(),
        Bytes::from("Hello wörld")
    );
    assert_eq!(
        m.binary_size(&path(&[1])).unwrap(),
        Some("Hello wörld".len() as u64)
    );
    assert!(m.body_contains("WÖRLD"));
    assert!(m.body_contains("hello & bye"), "HTML is searched as text");
    assert!(!m.body_contains("&amp;"));
    assert_eq!(m.preview().as_deref(), Some("Hello wörld"));
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

fn mixed_with_attachment() -> (Vec<u8>, Vec<u8>) {
    let data: Vec<u8> = (0..=255u8).collect();
    let b64 = imap_proto::encode_base64(&data);
    let wrapped: Vec<String> = b64
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let raw = crlf(&format!(
        "From: a@example.com\n\
         Subject: attachment\n\
         Content-Type: multipart/mixed; boundary=XYZ\n\
         \n\
         --XYZ\n\
         Content-Type: text/plain\n\
         \n\
         See attached.\n\
         --XYZ\n\
         Content-Type: application/octet-stream; name=\"data.bin\"\n\
         Content-Transfer-Encoding: base64\n\
         Content-Disposition: attachment;\n filename=\"data.bin\"; size=256\n\
         Content-ID: <part2@example.com>\n\
         Content-Description: some data\n\
         Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n\
         Content-Location: http://example.com/data.bin\n\
         \n\
         {}\n\
         --XYZ--\n",
        wrapped.join("\n")
    ));
    (raw, data)
}

#[test]
fn multipart_mixed_base64_attachment() {
    let (raw, data) = mixed_with_attachment();
    let m = parse(raw);
    let encoded_len = section(&m, &[2], None).len();
    assert_eq!(
        bodystructure_wire(&m),
        format!(
            "BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL)\
             (\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"data.bin\") \"<part2@example.com>\" \
             \"some data\" \"BASE64\" {encoded_len} \"Q2hlY2sgSW50ZWdyaXR5IQ==\" \
             (\"ATTACHMENT\" (\"FILENAME\" \"data.bin\" \"SIZE\" \"256\")) NIL \
             \"http://example.com/data.bin\") \"MIXED\" (\"BOUNDARY\" \"XYZ\") NIL NIL NIL)"
        )
    );
    assert_eq!(m.binary(&path(&[2])).unwrap().unwrap(), Bytes::from(data));
    assert_eq!(m.binary_size(&path(&[2])).unwrap(), Some(256));
    assert_eq!(
        m.binary(&path(&[1])).unwrap().unwrap(),
        Bytes::from("See attached.")
    );
    assert_eq!(m.binary(&path(&[3])), Ok(None));
    assert_eq!(m.binary_size(&path(&[3])), Ok(None));
    // BINARY[] is the whole message.
    assert_eq!(m.binary(&[]).unwrap().unwrap(), m.raw().clone());
    assert_eq!(m.binary_size(&[]).unwrap(), Some(m.size()));
    // The attachment is not searched as text; the preview skips it.
    assert!(!m.body_contains("data.bin"));
    assert!(m.body_contains("see ATTACHED"));
    assert!(
        m.text_contains("data.bin"),
        "TEXT searches MIME headers too"
    );
    assert_eq!(m.preview().as_deref(), Some("See attached."));
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

#[test]
fn unknown_cte_is_an_error_for_binary() {
    let m = parse(crlf(
        "Content-Type: multipart/mixed; boundary=q\n\n--q\n\
         Content-Type: application/x-thing\nContent-Transfer-Encoding: x-uuencode\n\n\
         begin 644 x\n--q--\n",
    ));
    let err = m.binary(&path(&[1])).unwrap_err();
    assert_eq!(
        err,
        UnknownCte {
            encoding: "X-UUENCODE".into()
        }
    );
    assert!(m.binary_size(&path(&[1])).is_err());
    // BODY[1] still works, and BODYSTRUCTURE reports the encoding.
    assert_eq!(section(&m, &[1], None), "begin 644 x");
    assert!(bodystructure_wire(&m).contains("\"X-UUENCODE\""));
    assert_wire_roundtrip(&m);
}

// ===== message/rfc822 =====

const FORWARD: &str = "From: Bob <bob@example.org>\n\
To: Alice <alice@example.com>\n\
Subject: Fwd: inner\n\
Content-Type: multipart/mixed; boundary=\"outer\"\n\
\n\
--outer\n\
Content-Type: text/plain; charset=us-ascii\n\
\n\
Forwarding.\n\
--outer\n\
Content-Type: message/rfc822\n\
Content-Description: forwarded\n\
\n\
From: Carol <carol@example.net>\n\
To: dave@example.net\n\
Subject: inner\n\
Date: Tue, 1 Mar 2022 10:00:00 +0000\n\
Message-ID: <inner@example.net>\n\
Content-Type: multipart/mixed; boundary=\"inner\"\n\
\n\
--inner\n\
Content-Type: text/plain\n\
\n\
inner text\n\
--inner\n\
Content-Type: text/html\n\
\n\
<b>inner</b>\n\
--inner--\n\
--outer--\n";

#[test]
fn message_rfc822_inside_multipart() {
    let m = parse(crlf(FORWARD));
    assert_eq!(
        section(&m, &[2], Some(SectionText::Header)),
        "From: Carol <carol@example.net>\r\nTo: dave@example.net\r\nSubject: inner\r\n\
         Date: Tue, 1 Mar 2022 10:00:00 +0000\r\nMessage-ID: <inner@example.net>\r\n\
         Content-Type: multipart/mixed; boundary=\"inner\"\r\n\r\n"
    );
    assert_eq!(
        section(&m, &[2], Some(SectionText::Mime)),
        "Content-Type: message/rfc822\r\nContent-Description: forwarded\r\n\r\n"
    );
    assert_eq!(section(&m, &[2, 1], None), "inner text");
    assert_eq!(section(&m, &[2, 2], None), "<b>inner</b>");
    assert_eq!(
        section(&m, &[2, 2], Some(SectionText::Mime)),
        "Content-Type: text/html\r\n\r\n"
    );
    assert_eq!(section(&m, &[2, 3], None), "<none>");
    assert!(section(&m, &[2], None).starts_with("From: Carol"));
    assert!(section(&m, &[2], None).ends_with("--inner--"));
    assert!(section(&m, &[2], Some(SectionText::Text)).starts_with("--inner\r\n"));
    assert_eq!(
        section(
            &m,
            &[2],
            Some(SectionText::HeaderFields(names(&["subject"])))
        ),
        "Subject: inner\r\n\r\n"
    );
    assert_eq!(section(&m, &[1], Some(SectionText::Text)), "<none>");

    let bs = m.body_structure(true);
    let BodyStructure::Multi { bodies, .. } = &bs else {
        panic!("multipart expected")
    };
    let BodyStructure::Single { body, .. } = &bodies[1] else {
        panic!("single part expected")
    };
    assert_eq!(body.media_type.as_bytes(), b"MESSAGE");
    assert_eq!(body.subtype.as_bytes(), b"RFC822");
    assert_eq!(s(&body.fields.description).as_deref(), Some("forwarded"));
    let BodySpecific::Message {
        envelope,
        body: inner,
        lines,
    } = &body.specific
    else {
        panic!("message/rfc822 carries its message")
    };
    assert_eq!(s(&envelope.subject).as_deref(), Some("inner"));
    assert_eq!(
        envelope.from,
        vec![addr(Some("Carol"), Some("carol"), Some("example.net"))]
    );
    assert_eq!(
        s(&envelope.message_id).as_deref(),
        Some("<inner@example.net>")
    );
    assert_eq!(*lines, 16);
    assert!(matches!(&**inner, BodyStructure::Multi { bodies, .. } if bodies.len() == 2));
    // The outer envelope is the outer message's.
    assert_eq!(s(&m.envelope().subject).as_deref(), Some("Fwd: inner"));
    // BODY SEARCH reaches into the forwarded message.
    assert!(m.body_contains("INNER TEXT"));
    assert!(m.text_contains("carol@example.net"));
    assert!(!m.address_contains("from", "carol"));
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

#[test]
fn message_rfc822_with_single_part_inside() {
    let m = parse(crlf(
        "Subject: outer\nContent-Type: multipart/mixed; boundary=o\n\n--o\n\
         Content-Type: message/rfc822\n\nSubject: inner\n\ninner body\nline 2\n--o--\n",
    ));
    assert_eq!(section(&m, &[1, 1], None), "inner body\r\nline 2");
    assert_eq!(
        section(&m, &[1, 1], Some(SectionText::Mime)),
        "Subject: inner\r\n\r\n"
    );
    assert_eq!(section(&m, &[1, 2], None), "<none>");
    assert_eq!(
        section(&m, &[1], Some(SectionText::Text)),
        "inner body\r\nline 2"
    );
    assert!(body_wire(&m)
        .contains("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 18 2) 4)"));
    assert_wire_roundtrip(&m);
    check_invariants(&m);

    // A top-level message/rfc822: part 1 is the body, the encapsulated message.
    let m = parse(crlf(
        "Subject: wrapper\nContent-Type: message/rfc822\n\nSubject: in\n\nhi\n",
    ));
    assert_eq!(section(&m, &[1], None), "Subject: in\r\n\r\nhi\r\n");
    assert_eq!(
        section(&m, &[1], Some(SectionText::Header)),
        "Subject: in\r\n\r\n"
    );
    assert_eq!(section(&m, &[1, 1], None), "hi\r\n");
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

#[test]
fn encoded_or_too_deep_message_rfc822_is_opaque() {
    let m = parse(crlf(
        "Content-Type: multipart/mixed; boundary=o\n\n--o\n\
         Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n\
         U3ViamVjdDogeAoKYm9keQo=\n--o--\n",
    ));
    assert!(
        bodystructure_wire(&m).contains("(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\"")
    );
    assert_eq!(
        m.binary(&path(&[1])).unwrap().unwrap(),
        Bytes::from("Subject: x\n\nbody\n")
    );
    assert_eq!(section(&m, &[1], Some(SectionText::Header)), "<none>");
    assert!(!m.is_truncated(), "not a limit, just not representable");
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

#[test]
fn multipart_digest_defaults_to_message_rfc822() {
    let m = parse(crlf(
        "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nfirst\n\
         --d\nContent-Type: text/plain\n\nplain\n--d--\n",
    ));
    let bs = m.body_structure(false);
    let BodyStructure::Multi {
        bodies, subtype, ..
    } = &bs
    else {
        panic!()
    };
    assert_eq!(subtype.as_bytes(), b"DIGEST");
    assert!(matches!(&bodies[0], BodyStructure::Single { body, .. }
        if body.media_type.as_bytes() == b"MESSAGE" && matches!(body.specific, BodySpecific::Message { .. })));
    assert_eq!(section(&m, &[1, 1], None), "first");
    assert_eq!(
        section(&m, &[1], Some(SectionText::Header)),
        "Subject: one\r\n\r\n"
    );
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

// ===== defaults and odd shapes =====

#[test]
fn no_content_type() {
    let m = parse(crlf("Subject: plain\nFrom: x@y.z\n\nline one\nline two\n"));
    assert_eq!(
        body_wire(&m),
        "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 20 2)"
    );
    // Part 1 of a non-multipart message is its body; its MIME header is the
    // message header.
    assert_eq!(section(&m, &[1], None), "line one\r\nline two\r\n");
    assert_eq!(
        section(&m, &[1], Some(SectionText::Mime)),
        "Subject: plain\r\nFrom: x@y.z\r\n\r\n"
    );
    assert_eq!(section(&m, &[2], None), "<none>");
    assert_eq!(section(&m, &[1, 1], None), "<none>");
    assert_eq!(section(&m, &[], Some(SectionText::Mime)), "<none>");
    assert_eq!(
        m.binary(&path(&[1])).unwrap().unwrap(),
        Bytes::from("line one\r\nline two\r\n")
    );
    let env = m.envelope();
    assert_eq!(env.date, None);
    assert!(env.to.is_empty());
    assert_eq!(env.sender, env.from);
    assert_eq!(m.preview().as_deref(), Some("line one line two"));
    assert_wire_roundtrip(&m);
    check_invariants(&m);

    // Invalid Content-Type: RFC 2045 §5.2 default.
    let m = parse(crlf("Content-Type: garbage\n\nx\n"));
    assert_eq!(
        body_wire(&m),
        "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3 1)"
    );
    // Empty message.
    let m = parse(Vec::new());
    assert_eq!(
        body_wire(&m),
        "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0)"
    );
    assert_eq!(m.envelope(), Envelope::default());
    assert_eq!(m.preview().as_deref(), Some(""));
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

#[test]
fn multipart_edge_cases() {
    // No boundary parameter: opaque.
    let m = parse(crlf("Content-Type: multipart/mixed\n\n--x\n\nhi\n--x--\n"));
    assert!(
        body_wire(&m).starts_with("BODY (\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\"")
    );
    assert_wire_roundtrip(&m);
    // A boundary that never occurs: one empty text/plain part.
    let m = parse(crlf(
        "Content-Type: multipart/mixed; boundary=nope\n\njust text\n",
    ));
    assert_eq!(
        body_wire(&m),
        "BODY ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0) \"MIXED\")"
    );
    assert_eq!(section(&m, &[1], None), "");
    assert_eq!(section(&m, &[], Some(SectionText::Text)), "just text\r\n");
    assert_wire_roundtrip(&m);
    check_invariants(&m);
    // Unclosed inner multipart ended by the outer boundary; nested boundaries
    // that share a prefix are told apart.
    let m = parse(crlf(
        "Content-Type: multipart/mixed; boundary=b\n\n--b\n\
         Content-Type: multipart/alternative; boundary=b2\n\n--b2\n\none\n--b2\n\ntwo\n\
         --b\n\nthree\n--b--\n",
    ));
    assert_eq!(section(&m, &[1, 1], None), "one");
    assert_eq!(section(&m, &[1, 2], None), "two");
    assert_eq!(section(&m, &[2], None), "three");
    assert_wire_roundtrip(&m);
    check_invariants(&m);
    // A part without a header, boundaries with trailing white space, and a
    // boundary inside a line that is not a delimiter.
    let m = parse(crlf(
        "Content-Type: multipart/mixed; boundary=zz\n\n--zz  \n\nnot --zz here\n--zz--  \n",
    ));
    assert_eq!(section(&m, &[1], None), "not --zz here");
    assert_eq!(section(&m, &[1], Some(SectionText::Mime)), "\r\n");
    check_invariants(&m);
}

#[test]
fn group_addresses() {
    let m = parse(crlf(
        "From: Pete <pete@silly.example>\n\
         To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;\n\
         Cc: Undisclosed recipients:;\n\
         Bcc: \"Q, X\" <q@x.test> (comment), <@relay.test:route@x.test>\n\
         Reply-To: \n\
         Sender: Secretary <sec@silly.example>\n\
         Subject:\n\
         In-Reply-To: <parent@silly.example>\n\n",
    ));
    let env = m.envelope();
    assert_eq!(
        env.to,
        vec![
            addr(None, Some("A Group"), None),
            addr(Some("Ed Jones"), Some("c"), Some("a.test")),
            addr(None, Some("joe"), Some("where.test")),
            addr(Some("John"), Some("jdoe"), Some("one.test")),
            addr(None, None, None),
        ]
    );
    assert_eq!(
        env.cc,
        vec![
            addr(None, Some("Undisclosed recipients"), None),
            addr(None, None, None)
        ]
    );
    assert_eq!(env.bcc[0], addr(Some("Q, X"), Some("q"), Some("x.test")));
    assert_eq!(s(&env.bcc[1].adl).as_deref(), Some("@relay.test"));
    assert_eq!(
        env.sender,
        vec![addr(Some("Secretary"), Some("sec"), Some("silly.example"))]
    );
    assert_eq!(env.reply_to, env.from, "empty Reply-To defaults to From");
    assert_eq!(
        s(&env.subject).as_deref(),
        Some(""),
        "present but empty: empty string"
    );
    assert_eq!(
        s(&env.in_reply_to).as_deref(),
        Some("<parent@silly.example>")
    );
    assert!(m.address_contains("to", "ED JONES"));
    assert!(m.address_contains("TO", "jdoe@one"));
    // A group's name is searched too, as Dovecot does (imaptest's
    // search-addresses `SEARCH TO groupname`).
    assert!(m.address_contains("to", "A Group"));
    assert!(!m.address_contains("to", "B Group"));
    assert!(m.address_contains("bcc", "q, x"));
    assert!(
        !m.address_contains("cc", ""),
        "a group alone has no address"
    );
    assert!(m.address_contains("to", ""));
    assert!(!m.address_contains("bcc", "nobody"));
    assert_wire_roundtrip(&m);
}

#[test]
fn bare_lf_message() {
    let raw = b"From: a@b.example\nSubject: lf\nContent-Type: multipart/mixed; boundary=z\n\n\
        --z\nContent-Type: text/plain\n\none\ntwo\n--z\n\nthree\n--z--\n"
        .to_vec();
    let m = parse(raw);
    assert_eq!(section(&m, &[1], None), "one\ntwo");
    assert_eq!(section(&m, &[2], None), "three");
    assert_eq!(section(&m, &[2], Some(SectionText::Mime)), "\n");
    assert_eq!(
        section(
            &m,
            &[],
            Some(SectionText::HeaderFields(names(&["subject"])))
        ),
        "Subject: lf\n\n"
    );
    assert_eq!(
        body_wire(&m),
        "BODY ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 7 2)\
         (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1) \"MIXED\")"
    );
    assert_eq!(s(&m.envelope().subject).as_deref(), Some("lf"));
    assert!(m.body_contains("one\ntwo"));
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

// ===== SEARCH =====

#[test]
fn eight_bit_headers() {
    let m = parse(crlf(
        "From: Jörg Müller <joerg@example.de>\nSubject: Grüße aus Köln\n\nHallo\n",
    ));
    let env = m.envelope();
    assert_eq!(
        env.subject.as_ref().unwrap().as_bytes(),
        "Grüße aus Köln".as_bytes()
    );
    assert_eq!(
        env.from[0].name.as_ref().unwrap().as_bytes(),
        "Jörg Müller".as_bytes()
    );
    assert!(m.header_contains("subject", "KÖLN"));
    assert!(m.address_contains("from", "jörg"));
    assert_eq!(m.subject().as_deref(), Some("Grüße aus Köln"));
    assert_wire_roundtrip(&m);
}

#[test]
fn encoded_word_subject() {
    let m = parse(crlf(
        "From: =?UTF-8?Q?J=C3=B6rg?= <j@example.de>\n\
         Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= from\n =?UTF-8?B?S8O2bG4=?=\n\nx\n",
    ));
    // ENVELOPE keeps the encoded words (clients decode them)…
    assert_eq!(
        s(&m.envelope().subject).as_deref(),
        Some("=?ISO-8859-1?Q?Gr=FC=DFe?= from =?UTF-8?B?S8O2bG4=?=")
    );
    assert_eq!(
        s(&m.envelope().from[0].name).as_deref(),
        Some("=?UTF-8?Q?J=C3=B6rg?=")
    );
    // …SEARCH sees the decoded text.
    assert_eq!(m.subject().as_deref(), Some("Grüße from Köln"));
    assert!(m.header_contains("Subject", "grüße from köln"));
    assert!(!m.header_contains("Subject", "=?ISO"));
    assert!(m.header_contains("subject", ""));
    assert!(!m.header_contains("x-missing", ""));
    assert!(m.address_contains("from", "JÖRG"));
    assert!(m.text_contains("köln"));
    assert!(m.text_contains("subject: grüße"));
}

#[test]
fn quoted_printable_body_search() {
    let m = parse(crlf(
        "Content-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: quoted-printable\n\n\
         Je voudrais un caf=C3=A9 cr=C3=A8me, s'il vous pla=\n=C3=AEt.\n",
    ));
    assert!(m.body_contains("CAFÉ CRÈME"));
    assert!(m.body_contains("plaît"), "soft line breaks are joined");
    assert!(!m.body_contains("caf=c3"));
    assert!(m.text_contains("plaît"));
    assert_eq!(
        m.binary(&path(&[1])).unwrap().unwrap(),
        Bytes::from("Je voudrais un café crème, s'il vous plaît.\r\n")
    );
    assert_eq!(
        m.preview().as_deref(),
        Some("Je voudrais un café crème, s'il vous plaît.")
    );
}

#[test]
fn iso_8859_1_body_search() {
    let mut raw =
        crlf("Content-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n\n");
    raw.extend_from_slice(b"Gr\xfc\xdfe aus K\xf6ln\r\n");
    let m = parse(raw);
    assert!(m.body_contains("grüße"));
    assert!(m.body_contains("KÖLN"));
    assert!(!m.body_contains("koln"));
    // Base64 in a legacy charset too.
    let m2 = parse(crlf(&format!(
        "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n{}\n",
        imap_proto::encode_base64(b"Gr\xfc\xdfe")
    )));
    assert!(m2.body_contains("GRÜ"));
}

#[test]
fn unlabelled_eight_bit_body_is_read_as_utf8() {
    // No Content-Type (so US-ASCII by default), yet UTF-8 text: common in practice.
    let m = parse(crlf("Subject: x\n\nUn café, por favor\n"));
    assert!(m.body_contains("CAFÉ"));
    let m = parse(crlf(
        "Content-Type: text/plain; charset=us-ascii\n\nStraße\n",
    ));
    assert!(m.body_contains("straße"));
}

#[test]
fn sent_date_in_own_zone() {
    let m = parse(crlf("Date: Mon, 31 Dec 2001 23:30:00 -0800\n\nx\n"));
    // In UTC this is 1 Jan 2002; SENT* compares the header's own date.
    assert_eq!(m.sent_date(), Some(Date::new(2001, 12, 31).unwrap()));
    assert_eq!(parse(crlf("Date: not a date\n\nx\n")).sent_date(), None);
    assert_eq!(parse(crlf("Subject: x\n\nx\n")).sent_date(), None);
}

#[test]
fn preview_collapses_and_truncates() {
    let body = format!("  Line one.\n\n\tLine   two.\n{}\n", "word ".repeat(100));
    let m = parse(crlf(&format!("Subject: p\n\n{body}")));
    let p = m.preview().unwrap();
    assert!(p.starts_with("Line one. Line two. word word"));
    assert_eq!(
        p.chars().count(),
        200 - 1,
        "at most 200 characters, no trailing space"
    );
    assert!(!p.contains("  "));
    // HTML-only message.
    let m = parse(crlf(
        "Content-Type: text/html\n\n<html><body><p>Hi&nbsp;there</p></body></html>\n",
    ));
    assert_eq!(m.preview().as_deref(), Some("Hi there"));
    // No text part at all.
    let m = parse(crlf(
        "Content-Type: image/png\nContent-Transfer-Encoding: base64\n\nAAAA\n",
    ));
    assert_eq!(m.preview(), None);
}

#[test]
fn cheap_to_clone_and_share() {
    fn assert_bounds<T: Clone + Send + Sync + 'static>() {}
    assert_bounds::<ParsedMessage>();
    let m = parse(crlf(ALTERNATIVE));
    let c = m.clone();
    assert_eq!(c.envelope(), m.envelope());
    let handle = std::thread::spawn(move || c.body_structure(true));
    assert_eq!(handle.join().unwrap(), m.body_structure(true));
    // Zero-copy sections: slices of the raw message.
    let part = m.section(&sec(&[2], None)).unwrap();
    let raw = m.raw();
    let start = part.as_ptr() as usize - raw.as_ptr() as usize;
    assert!(start < raw.len());
    assert_eq!(&raw[start..start + part.len()], &part[..]);
}

// ===== hostile input =====

#[test]
fn ten_thousand_nested_multiparts() {
    let n = 10_000;
    let mut raw = Vec::new();
    for i in 0..n {
        raw.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n")
                .as_bytes(),
        );
    }
    raw.extend_from_slice(b"Content-Type: text/plain\r\n\r\nleaf\r\n");
    for i in (0..n).rev() {
        raw.extend_from_slice(format!("--b{i}--\r\n").as_bytes());
    }
    let m = parse(raw);
    assert!(m.is_truncated());
    assert!(m.part_count() <= MimeLimits::DEFAULT_MAX_DEPTH + 2);
    let bs = m.body_structure(true);
    assert!(
        depth(&bs) <= MimeLimits::DEFAULT_MAX_DEPTH + 1,
        "depth {}",
        depth(&bs)
    );
    let deepest = vec![1; MimeLimits::DEFAULT_MAX_DEPTH];
    assert!(m.section(&sec(&deepest, None)).is_some());
    assert!(m.section(&sec(&[1; 40], None)).is_none());
    assert_wire_roundtrip(&m);
    check_invariants(&m);
    let _ = m.body_contains("leaf");
    let _ = m.preview();

    // Tighter limits are honoured too.
    let limits = MimeLimits {
        max_depth: 3,
        ..MimeLimits::default()
    };
    let m2 = ParsedMessage::parse(m.raw().clone(), &limits);
    assert!(depth(&m2.body_structure(false)) <= 4);
    // And a huge configured depth is capped.
    let limits = MimeLimits {
        max_depth: usize::MAX,
        ..MimeLimits::default()
    };
    let m3 = ParsedMessage::parse(m.raw().clone(), &limits);
    assert!(depth(&m3.body_structure(true)) <= MimeLimits::MAX_DEPTH_CEILING + 1);
    assert_wire_roundtrip(&m3);
}

#[test]
fn ten_thousand_nested_messages() {
    let mut raw = Vec::new();
    for _ in 0..10_000 {
        raw.extend_from_slice(b"Subject: layer\r\nContent-Type: message/rfc822\r\n\r\n");
    }
    raw.extend_from_slice(b"Subject: core\r\n\r\ncore body\r\n");
    let m = parse(raw);
    assert!(m.is_truncated());
    assert!(depth(&m.body_structure(true)) <= MimeLimits::DEFAULT_MAX_DEPTH + 1);
    assert!(m.part_count() <= MimeLimits::DEFAULT_MAX_DEPTH + 2);
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

#[test]
fn hundred_thousand_parts() {
    let mut raw = b"Content-Type: multipart/mixed; boundary=p\r\n\r\n".to_vec();
    for i in 0..100_000 {
        raw.extend_from_slice(format!("--p\r\n\r\n{i}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"--p--\r\n");
    let m = parse(raw);
    assert!(m.is_truncated());
    assert_eq!(m.part_count(), MimeLimits::DEFAULT_MAX_PARTS);
    let BodyStructure::Multi { bodies, .. } = m.body_structure(true) else {
        panic!()
    };
    assert_eq!(bodies.len(), MimeLimits::DEFAULT_MAX_PARTS - 1);
    assert_eq!(section(&m, &[999], None), "998");
    assert_eq!(section(&m, &[1000], None), "<none>");
    assert_wire_roundtrip(&m);
}

#[test]
fn hundred_thousand_addresses() {
    let list: Vec<String> = (0..100_000)
        .map(|i| format!("User {i} <u{i}@example.com>"))
        .collect();
    let raw = format!(
        "From: a@b.example\r\nTo: {}\r\nSubject: many\r\n\r\nbody\r\n",
        list.join(", ")
    );
    let m = parse(raw.into_bytes());
    let env = m.envelope();
    assert_eq!(env.to.len(), MimeLimits::DEFAULT_MAX_ADDRESSES);
    assert_eq!(s(&env.to[999].mailbox).as_deref(), Some("u999"));
    assert_eq!(
        env.subject, None,
        "a field starting past the 1 MiB header window is ignored"
    );
    assert!(m.address_contains("to", "u5@example.com"));
    assert!(
        !m.address_contains("to", "u5000@example.com"),
        "beyond the address limit"
    );
    assert_wire_roundtrip(&m);

    // The same in a hundred thousand separate To: fields (CVE-2024-23184's shape).
    let mut raw = Vec::new();
    for i in 0..100_000 {
        raw.extend_from_slice(format!("To: u{i}@example.com\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\nbody\r\n");
    let m = parse(raw);
    assert_eq!(m.envelope().to.len(), 1, "the first To: field counts");
    assert!(
        m.address_contains("to", "u40000@"),
        "SEARCH looks at every field in the window"
    );
    assert!(
        !m.address_contains("to", "u90000@"),
        "fields past the header window are ignored"
    );
}

#[test]
fn five_megabyte_header() {
    let long = "x".repeat(5 * 1024 * 1024);
    let raw = format!("Subject: {long}\r\nFrom: late@example.com\r\n\r\nbody\r\n");
    let m = parse(raw.clone().into_bytes());
    let subject = m.envelope().subject.unwrap();
    assert!(subject.len() <= MimeLimits::DEFAULT_MAX_HEADER_BYTES);
    assert!(
        m.envelope().from.is_empty(),
        "a field starting past the window is ignored"
    );
    assert_eq!(section(&m, &[], Some(SectionText::Text)), "body\r\n");
    assert_eq!(
        m.section(&sec(&[], Some(SectionText::Header)))
            .unwrap()
            .len(),
        raw.len() - "body\r\n".len()
    );
    assert!(m.body_contains("body"));
    assert_wire_roundtrip(&m);

    // Many small fields.
    let mut raw = Vec::new();
    while raw.len() < 5 * 1024 * 1024 {
        raw.extend_from_slice(b"X-Spam: yes\r\n");
    }
    raw.extend_from_slice(b"Subject: found\r\n\r\nx\r\n");
    let m = parse(raw);
    assert_eq!(m.envelope().subject, None);
    assert!(!m.header_contains("subject", ""));
    assert_eq!(
        section(
            &m,
            &[],
            Some(SectionText::HeaderFields(names(&["subject"])))
        ),
        "Subject: found\r\n\r\n",
        "BODY[HEADER.FIELDS] still sees the whole header"
    );
    assert_wire_roundtrip(&m);
}

#[test]
fn garbage_bytes() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut raw = Vec::with_capacity(1 << 20);
    for _ in 0..(1 << 20) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        raw.push(x as u8);
    }
    let m = parse(raw);
    exercise(&m);
    assert_wire_roundtrip(&m);
    check_invariants(&m);
}

/// Call every accessor.
fn exercise(m: &ParsedMessage) {
    let _ = m.envelope();
    let _ = m.body_structure(false);
    let _ = m.body_structure(true);
    for p in [
        &[][..],
        &[1],
        &[2],
        &[1, 1],
        &[1, 2, 3],
        &[2, 1],
        &[4_000_000_000],
    ] {
        for text in [
            None,
            Some(SectionText::Header),
            Some(SectionText::Text),
            Some(SectionText::Mime),
            Some(SectionText::HeaderFields(names(&["From", "Content-Type"]))),
            Some(SectionText::HeaderFieldsNot(names(&["Subject"]))),
        ] {
            let _ = m.section(&sec(p, text));
        }
        let _ = m.binary(&path(p));
        let _ = m.binary_size(&path(p));
    }
    let _ = m.header_contains("subject", "a");
    let _ = m.header_contains("from", "");
    let _ = m.address_contains("to", "a");
    let _ = m.body_contains("a");
    let _ = m.text_contains("é");
    let _ = m.sent_date();
    let _ = m.subject();
    let _ = m.preview();
}

// ===== property tests =====

/// MIME-ish lines to build structured random messages from.
const FRAGMENTS: &[&str] = &[
    "Content-Type: multipart/mixed; boundary=a\r\n",
    "Content-Type: multipart/alternative; boundary=\"b\"\r\n",
    "Content-Type: multipart/digest; boundary=a\r\n",
    "Content-Type: multipart/mixed\r\n",
    "Content-Type: message/rfc822\r\n",
    "Content-Type: message/global\r\n",
    "Content-Type: text/plain; charset=iso-8859-1\r\n",
    "Content-Type: text/html; charset=\"utf-8\r\n",
    "Content-Type: application/pdf; name*0=\"a\"; name*1*=utf-8''%C3%A9\r\n",
    "Content-Type: /\r\n",
    "Content-Type: ;;;==\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "Content-Transfer-Encoding: quoted-printable\r\n",
    "Content-Transfer-Encoding: x-weird\r\n",
    "Content-Disposition: attachment; filename=\"x\\\"y\"\r\n",
    "Content-Language: en, (c) de\r\n",
    "From: A <a@b>, (c) \"q\\\" <x>\" <@r:c@d>, e\r\n",
    "To: g: a@b, <c@d>; h:;, ,,, <>\r\n",
    "Cc: \"unterminated\r\n",
    "Bcc: (((\r\n",
    "Subject: =?utf-8?q?caf=C3=A9?= =?x?b?\r\n",
    "Date: Mon, 31 Feb 2001 25:61:61 +9999\r\n",
    " folded continuation\r\n",
    "\r\n",
    "\n",
    "--a\r\n",
    "--a--\r\n",
    "--b\r\n",
    "--b--\r\n",
    "--a  \r\n",
    "text line\r\n",
    "=C3=A9=\r\n",
    "SGVsbG8=\r\n",
    "\u{0}\u{80}\r",
    "no newline",
];

fn fragment_message() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0..FRAGMENTS.len(), 0..120)
        .prop_map(|ix| ix.into_iter().flat_map(|i| FRAGMENTS[i].bytes()).collect())
}

proptest! {
    // 300 cases by default; `PROPTEST_CASES=…` runs more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(raw in prop::collection::vec(any::<u8>(), 0..2048)) {
        let m = parse(raw);
        exercise(&m);
        assert_wire_roundtrip(&m);
        check_invariants(&m);
    }

    #[test]
    fn structured_random_messages(raw in fragment_message()) {
        let m = parse(raw);
        exercise(&m);
        assert_wire_roundtrip(&m);
        check_invariants(&m);
    }

    #[test]
    fn structured_random_messages_small_limits(raw in fragment_message(), depth in 0usize..4, parts in 0usize..6) {
        let limits = MimeLimits { max_depth: depth, max_parts: parts, max_header_bytes: 64, max_addresses: 2 };
        let m = ParsedMessage::parse(Bytes::from(raw), &limits);
        exercise(&m);
        assert_wire_roundtrip(&m);
        check_invariants(&m);
        prop_assert!(m.envelope().to.len() <= 3);
    }
}
