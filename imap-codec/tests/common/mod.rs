//! proptest strategies for the primitive types, shared by the round-trip tests.
//! Each strategy generates only canonical values (what the decoder produces), so
//! `decode(encode(x)) == x` must hold exactly.
#![allow(dead_code, unreachable_pub)]

use std::num::NonZeroU32;

use bytes::Bytes;
use imap_proto::*;
use proptest::collection::vec;
use proptest::prelude::*;

/// Atom text: letters, digits and a few atom-safe punctuation marks.
pub fn atom_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9$_.+-]{1,12}"
}

pub fn atom() -> impl Strategy<Value = Atom> {
    atom_text().prop_map(|s| Atom::try_from(s).unwrap())
}

pub fn tag() -> impl Strategy<Value = Tag> {
    "[A-Za-z0-9.]{1,8}".prop_map(|s| Tag::try_from(s).unwrap())
}

/// Any string content: empty, atom-like, with specials and quotes, 8-bit, CR/LF.
pub fn istring() -> impl Strategy<Value = IString> {
    prop_oneof![
        Just(IString::default()),
        atom_text().prop_map(|s| IString::try_from(s).unwrap()),
        "[ -~]{0,20}".prop_map(|s| IString::try_from(s).unwrap()),
        vec(1u8..=255, 0..40).prop_map(|v| IString::try_from(v).unwrap()),
        Just(IString::try_from("NIL").unwrap()),
        Just(IString::try_from("a\r\nb").unwrap()),
        Just(IString::try_from("\"\\").unwrap()),
    ]
}

pub fn nstring() -> impl Strategy<Value = NString> {
    proptest::option::of(istring())
}

pub fn text() -> impl Strategy<Value = Text> {
    prop_oneof![
        Just(Text::default()),
        "[ -~]{1,30}".prop_filter_map("no bracket start", |s| {
            // A text that starts with "[" would be read as a response code.
            if s.starts_with('[') || s.starts_with(' ') {
                None
            } else {
                Text::try_from(s).ok()
            }
        }),
    ]
}

pub fn nz() -> impl Strategy<Value = NonZeroU32> {
    prop_oneof![1u32..100, 1u32..=u32::MAX].prop_map(|n| NonZeroU32::new(n).unwrap())
}

pub fn seq_bound() -> impl Strategy<Value = SeqBound> {
    prop_oneof![4 => nz().prop_map(SeqBound::Value), 1 => Just(SeqBound::Star)]
}

pub fn sequence_set() -> impl Strategy<Value = SequenceSet> {
    prop_oneof![
        10 => vec((seq_bound(), seq_bound()), 1..5).prop_map(|r| {
            SequenceSet::from_ranges(r.into_iter().map(|(start, end)| SeqRange { start, end })).unwrap()
        }),
        1 => Just(SequenceSet::saved()),
    ]
}

/// A sequence set without `$` (for places where `$` is not allowed, like responses).
pub fn plain_sequence_set() -> impl Strategy<Value = SequenceSet> {
    vec((seq_bound(), seq_bound()), 1..5).prop_map(|r| {
        SequenceSet::from_ranges(r.into_iter().map(|(start, end)| SeqRange { start, end })).unwrap()
    })
}

pub fn uid_set() -> impl Strategy<Value = SequenceSet> {
    vec((nz(), nz()), 1..5).prop_map(|r| {
        SequenceSet::from_ranges(r.into_iter().map(|(a, b)| SeqRange {
            start: SeqBound::Value(a),
            end: SeqBound::Value(b),
        }))
        .unwrap()
    })
}

pub fn flag() -> impl Strategy<Value = Flag> {
    prop_oneof![
        Just(Flag::Answered),
        Just(Flag::Flagged),
        Just(Flag::Deleted),
        Just(Flag::Seen),
        Just(Flag::Draft),
        "[A-Za-z$][A-Za-z0-9_-]{0,10}".prop_map(|s| Flag::Keyword(Atom::try_from(s).unwrap())),
        "X[A-Za-z0-9]{1,8}".prop_map(|s| Flag::Extension(Atom::try_from(s).unwrap())),
    ]
}

/// Flags in FETCH responses may include `\Recent`.
pub fn flag_fetch() -> impl Strategy<Value = Flag> {
    prop_oneof![5 => flag(), 1 => Just(Flag::Recent)]
}

pub fn mailbox() -> impl Strategy<Value = Mailbox> {
    prop_oneof![
        Just(Mailbox::inbox()),
        "[A-Za-z0-9 ./&_-]{0,16}".prop_map(|s| Mailbox::from_utf8(&s)),
        "\\PC{1,8}".prop_map(|s| Mailbox::from_utf8(&s)),
        Just(Mailbox::from_utf8("Entwürfe")),
        Just(Mailbox::from_utf8("NIL")),
    ]
}

pub fn list_mailbox() -> impl Strategy<Value = ListMailbox> {
    prop_oneof![
        "[A-Za-z0-9%*./]{1,12}".prop_map(|s| ListMailbox::from_utf8(&s)),
        Just(ListMailbox::from_utf8("")),
        "\\PC{1,6}".prop_map(|s| ListMailbox::from_utf8(&s)),
    ]
}

pub fn date() -> impl Strategy<Value = Date> {
    (1000u16..=9999, 1u8..=12, 1u8..=28).prop_map(|(y, m, d)| Date::new(y, m, d).unwrap())
}

pub fn date_time() -> impl Strategy<Value = DateTime> {
    (
        date(),
        0u8..24,
        0u8..60,
        0u8..60,
        -23i16..=23,
        prop_oneof![Just(0i16), Just(30), Just(45)],
    )
        .prop_map(|(d, h, m, s, zh, zm)| {
            let zone = zh * 60 + if zh < 0 { -zm } else { zm };
            DateTime::new(d, h, m, s, zone).unwrap()
        })
}

pub fn part() -> impl Strategy<Value = Vec<NonZeroU32>> {
    vec(1u32..20, 0..4).prop_map(|v| v.into_iter().map(|n| NonZeroU32::new(n).unwrap()).collect())
}

pub fn header_names() -> impl Strategy<Value = Vec<AString>> {
    vec(
        prop_oneof![
            "[A-Za-z-]{1,12}".prop_map(|s| IString::try_from(s).unwrap()),
            istring()
        ],
        1..4,
    )
}

pub fn section() -> impl Strategy<Value = Section> {
    (part(), 0u8..6, header_names()).prop_map(|(part, k, names)| {
        let text = match k {
            0 => None,
            1 => Some(SectionText::Header),
            2 => Some(SectionText::HeaderFields(names)),
            3 => Some(SectionText::HeaderFieldsNot(names)),
            4 => Some(SectionText::Text),
            _ if !part.is_empty() => Some(SectionText::Mime),
            _ => None,
        };
        Section { part, text }
    })
}

pub fn partial() -> impl Strategy<Value = Partial> {
    (any::<u32>(), nz()).prop_map(|(offset, count)| Partial { offset, count })
}

pub fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        Just(Capability::Imap4Rev1),
        Just(Capability::Imap4Rev2),
        Just(Capability::Idle),
        Just(Capability::LiteralPlus),
        Just(Capability::CondStore),
        Just(Capability::QResync),
        Just(Capability::Utf8Accept),
        Just(Capability::Auth(AuthMechanism::Plain)),
        Just(Capability::AppendLimit(Some(35651584))),
        Just(Capability::AppendLimit(None)),
        "X-[A-Z]{1,8}".prop_map(|s| Capability::try_from(s.as_str()).unwrap()),
    ]
}

pub fn object_id() -> impl Strategy<Value = ObjectId> {
    "[A-Za-z0-9_-]{1,20}".prop_map(|s| ObjectId::try_from(s.as_str()).unwrap())
}

pub fn bytes_nonul() -> impl Strategy<Value = Bytes> {
    vec(1u8..=255, 0..64).prop_map(Bytes::from)
}
