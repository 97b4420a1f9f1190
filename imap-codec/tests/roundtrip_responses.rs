//! Property tests: every response value the strategies generate (canonical
//! values only: what the decoder itself produces) survives
//! `decode(encode(x)) == x` through the public API.
#![allow(missing_docs)]

mod common;

use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};
use common::*;
use imap_codec::{
    decode_greeting, decode_response, encode_greeting, encode_response, DecodeConfig, Decoded,
    EncodeConfig, ResponseCodec,
};
use imap_proto::smallvec::SmallVec;
use imap_proto::*;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

// ===== response-specific strategies =====

fn u63() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1000, 0u64..=ModSeq::MAX]
}

fn mod_seq() -> impl Strategy<Value = ModSeq> {
    prop_oneof![1u64..1000, 1u64..=ModSeq::MAX].prop_map(|n| ModSeq::new(n).unwrap())
}

fn ext_atom() -> impl Strategy<Value = Atom> {
    "X-[A-Z0-9]{1,8}".prop_map(|s| Atom::try_from(s).unwrap())
}

/// Raw code argument text: no `]`, no CR/LF.
fn code_text() -> impl Strategy<Value = Bytes> {
    "[ -\\\\^-~]{0,20}".prop_map(|s| Bytes::from(s.into_bytes()))
}

/// A complete IMAP value, as kept raw in unknown items.
fn raw_value() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        Just("NIL"),
        Just("42"),
        Just("\"a \\\"quoted\\\" (str)\""),
        Just("(1 2 3)"),
        Just("(a (b \"c d\") ())"),
        Just("{3}\r\nx)y"),
        Just("(\\Seen $x {2}\r\n())"),
        Just("1:5,7"),
    ]
    .prop_map(|s| Bytes::from_static(s.as_bytes()))
}

fn code() -> impl Strategy<Value = Code> {
    prop_oneof![
        Just(Code::Alert),
        vec(
            prop_oneof![
                "[A-Za-z0-9-]{1,10}".prop_map(|s| IString::try_from(s).unwrap()),
                istring()
            ],
            0..3
        )
        .prop_map(Code::BadCharset),
        vec(capability(), 0..4).prop_map(Code::Capability),
        Just(Code::Parse),
        vec(
            prop_oneof![4 => flag().prop_map(FlagPerm::Flag), 1 => Just(FlagPerm::Wildcard)],
            0..5
        )
        .prop_map(Code::PermanentFlags),
        Just(Code::ReadOnly),
        Just(Code::ReadWrite),
        Just(Code::TryCreate),
        nz().prop_map(|n| Code::UidNext(Uid(n))),
        nz().prop_map(Code::UidValidity),
        nz().prop_map(|n| Code::Unseen(SeqNum(n))),
        (nz(), uid_set()).prop_map(|(uid_validity, uids)| Code::AppendUid { uid_validity, uids }),
        (nz(), uid_set(), uid_set()).prop_map(|(uid_validity, source, destination)| {
            Code::CopyUid {
                uid_validity,
                source,
                destination,
            }
        }),
        Just(Code::UidNotSticky),
        mod_seq().prop_map(Code::HighestModSeq),
        Just(Code::NoModSeq),
        plain_sequence_set().prop_map(Code::Modified),
        prop_oneof![
            Just(Code::Closed),
            Just(Code::Unavailable),
            Just(Code::AuthenticationFailed),
            Just(Code::AuthorizationFailed),
            Just(Code::Expired),
            Just(Code::PrivacyRequired),
            Just(Code::ContactAdmin),
            Just(Code::NoPerm),
            Just(Code::InUse),
            Just(Code::ExpungeIssued),
            Just(Code::Corruption),
            Just(Code::ServerBug),
            Just(Code::ClientBug),
            Just(Code::Cannot),
            Just(Code::Limit),
            Just(Code::OverQuota),
            Just(Code::AlreadyExists),
            Just(Code::NonExistent),
            Just(Code::TooBig),
            Just(Code::CompressionActive),
            Just(Code::NotSaved),
            Just(Code::HasChildren),
            Just(Code::UnknownCte),
            Just(Code::UseAttr),
            Just(Code::NotificationOverflow),
            Just(Code::MetadataTooMany),
            Just(Code::MetadataNoPrivate),
        ],
        object_id().prop_map(Code::MailboxId),
        any::<u32>().prop_map(Code::MetadataLongEntries),
        any::<u32>().prop_map(Code::MetadataMaxSize),
        code_text().prop_map(Code::Referral),
        vec(atom(), 1..4).prop_map(Code::BadEvent),
        "[!-\\\\^-~][ -\\\\^-~]{0,20}".prop_map(|s| Code::BadUrl(Bytes::from(s.into_bytes()))),
        (ext_atom(), of(code_text())).prop_map(|(name, text)| Code::Other { name, text }),
    ]
}

fn status_kind() -> impl Strategy<Value = StatusKind> {
    prop_oneof![
        Just(StatusKind::Ok),
        Just(StatusKind::No),
        Just(StatusKind::Bad)
    ]
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        (tag(), status_kind(), of(code()), text()).prop_map(|(tag, kind, code, text)| {
            Status::Tagged {
                tag,
                kind,
                code,
                text,
            }
        }),
        (status_kind(), of(code()), text()).prop_map(|(kind, code, text)| Status::Untagged {
            kind,
            code,
            text
        }),
        (of(code()), text()).prop_map(|(code, text)| Status::PreAuth { code, text }),
        (of(code()), text()).prop_map(|(code, text)| Status::Bye { code, text }),
    ]
}

fn greeting() -> impl Strategy<Value = Greeting> {
    (
        prop_oneof![
            Just(GreetingKind::Ok),
            Just(GreetingKind::PreAuth),
            Just(GreetingKind::Bye)
        ],
        of(code()),
        text(),
    )
        .prop_map(|(kind, code, text)| Greeting { kind, code, text })
}

fn address() -> impl Strategy<Value = Address> {
    (nstring(), nstring(), nstring(), nstring()).prop_map(|(name, adl, mailbox, host)| Address {
        name,
        adl,
        mailbox,
        host,
    })
}

fn addresses() -> impl Strategy<Value = Vec<Address>> {
    vec(address(), 0..3)
}

fn envelope() -> BoxedStrategy<Envelope> {
    (
        (nstring(), nstring(), addresses(), addresses(), addresses()),
        (addresses(), addresses(), addresses(), nstring(), nstring()),
    )
        .prop_map(
            |((date, subject, from, sender, reply_to), (to, cc, bcc, in_reply_to, message_id))| {
                Envelope {
                    date,
                    subject,
                    from,
                    sender,
                    reply_to,
                    to,
                    cc,
                    bcc,
                    in_reply_to,
                    message_id,
                }
            },
        )
        .boxed()
}

fn params() -> impl Strategy<Value = Vec<(IString, IString)>> {
    vec((istring(), istring()), 0..3)
}

fn body_fields() -> BoxedStrategy<BodyFields> {
    (params(), nstring(), nstring(), istring(), any::<u32>())
        .prop_map(|(params, id, description, encoding, size)| BodyFields {
            params,
            id,
            description,
            encoding,
            size,
        })
        .boxed()
}

fn body_extension() -> impl Strategy<Value = BodyExtension> {
    let leaf = prop_oneof![
        nstring().prop_map(BodyExtension::NString),
        u63().prop_map(BodyExtension::Number),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        vec(inner, 1..3).prop_map(BodyExtension::List)
    })
}

fn disposition_ext() -> BoxedStrategy<DispositionExt> {
    let location =
        (nstring(), vec(body_extension(), 0..3)).prop_map(|(location, extensions)| LocationExt {
            location,
            extensions,
        });
    let language = (vec(istring(), 0..3), of(location))
        .prop_map(|(language, tail)| LanguageExt { language, tail });
    let disposition = (istring(), params()).prop_map(|(kind, params)| Disposition { kind, params });
    (of(disposition), of(language))
        .prop_map(|(disposition, tail)| DispositionExt { disposition, tail })
        .boxed()
}

fn single_ext() -> BoxedStrategy<Option<SinglePartExtension>> {
    of(
        (nstring(), of(disposition_ext()))
            .prop_map(|(md5, tail)| SinglePartExtension { md5, tail }),
    )
    .boxed()
}

/// Media types whose [`BodySpecific`] is `Basic`.
fn basic_type() -> impl Strategy<Value = (IString, IString)> {
    prop_oneof![
        Just(("IMAGE", "PNG")),
        Just(("APPLICATION", "OCTET-STREAM")),
        Just(("message", "delivery-status")),
        Just(("AUDIO", "X-WAV")),
    ]
    .prop_map(|(t, s)| (IString::from_static(t), IString::from_static(s)))
}

fn text_type() -> impl Strategy<Value = (IString, IString)> {
    (
        prop_oneof![Just("TEXT"), Just("text")],
        prop_oneof![Just("PLAIN"), Just("html")],
    )
        .prop_map(|(t, s)| (IString::from_static(t), IString::from_static(s)))
}

fn body_structure() -> BoxedStrategy<BodyStructure> {
    let leaf = prop_oneof![
        (basic_type(), body_fields(), single_ext()).prop_map(|((t, s), fields, extension)| {
            BodyStructure::Single {
                body: Body {
                    media_type: t,
                    subtype: s,
                    fields,
                    specific: BodySpecific::Basic,
                },
                extension,
            }
        }),
        (text_type(), body_fields(), any::<u32>(), single_ext()).prop_map(
            |((t, s), fields, lines, extension)| BodyStructure::Single {
                body: Body {
                    media_type: t,
                    subtype: s,
                    fields,
                    specific: BodySpecific::Text {
                        lines: lines.into()
                    },
                },
                extension,
            }
        ),
    ];
    leaf.prop_recursive(3, 8, 3, |inner| {
        prop_oneof![
            (
                vec(inner.clone(), 1..3),
                istring(),
                of((params(), of(disposition_ext()))
                    .prop_map(|(params, tail)| MultiPartExtension { params, tail }))
            )
                .prop_map(|(bodies, subtype, extension)| BodyStructure::Multi {
                    bodies,
                    subtype,
                    extension
                }),
            (
                prop_oneof![Just("RFC822"), Just("global")],
                body_fields(),
                envelope(),
                inner,
                any::<u32>(),
                single_ext()
            )
                .prop_map(|(sub, fields, env, inner, lines, extension)| {
                    BodyStructure::Single {
                        body: Body {
                            media_type: IString::from_static("MESSAGE"),
                            subtype: IString::from_static(sub),
                            fields,
                            specific: BodySpecific::Message {
                                envelope: Box::new(env),
                                body: Box::new(inner),
                                lines: lines.into(),
                            },
                        },
                        extension,
                    }
                }),
        ]
    })
    .boxed()
}

fn gm_label() -> impl Strategy<Value = IString> {
    prop_oneof![
        istring(),
        "\\\\[A-Za-z]{1,8}".prop_map(|s| IString::try_from(s).unwrap()),
        Just(IString::from_static("\\")),
    ]
}

fn binary_data() -> impl Strategy<Value = Option<Literal>> {
    of(prop_oneof![
        vec(any::<u8>(), 0..40).prop_map(Literal::binary),
        bytes_nonul().prop_map(|b| Literal::new(b).unwrap()),
    ])
}

fn fetch_item() -> impl Strategy<Value = FetchItem> {
    prop_oneof![
        vec(flag_fetch(), 0..6).prop_map(|f| FetchItem::Flags(SmallVec::from_vec(f))),
        nz().prop_map(|n| FetchItem::Uid(Uid(n))),
        date_time().prop_map(FetchItem::InternalDate),
        u63().prop_map(FetchItem::Rfc822Size),
        envelope().prop_map(|e| FetchItem::Envelope(Lazy::new(e))),
        body_structure().prop_map(|b| FetchItem::Body(Lazy::new(b))),
        body_structure().prop_map(|b| FetchItem::BodyStructure(Lazy::new(b))),
        (section(), of(any::<u32>()), message_data()).prop_map(|(section, origin, data)| {
            FetchItem::BodySection {
                section,
                origin,
                data,
            }
        }),
        (part(), of(any::<u32>()), binary_data())
            .prop_map(|(part, origin, data)| FetchItem::Binary { part, origin, data }),
        (part(), u63()).prop_map(|(part, size)| FetchItem::BinarySize { part, size }),
        message_data().prop_map(FetchItem::Rfc822),
        message_data().prop_map(FetchItem::Rfc822Header),
        message_data().prop_map(FetchItem::Rfc822Text),
        mod_seq().prop_map(FetchItem::ModSeq),
        object_id().prop_map(FetchItem::EmailId),
        of(object_id()).prop_map(FetchItem::ThreadId),
        of(date_time()).prop_map(FetchItem::SaveDate),
        nstring().prop_map(FetchItem::Preview),
        u63().prop_map(FetchItem::GmMsgId),
        u63().prop_map(FetchItem::GmThrId),
        vec(gm_label(), 0..4).prop_map(FetchItem::GmLabels),
        (ext_atom(), raw_value()).prop_map(|(name, raw)| FetchItem::Other { name, raw }),
    ]
}

fn mailbox_attribute() -> impl Strategy<Value = MailboxAttribute> {
    prop_oneof![
        Just(MailboxAttribute::NoInferiors),
        Just(MailboxAttribute::NoSelect),
        Just(MailboxAttribute::Marked),
        Just(MailboxAttribute::Unmarked),
        Just(MailboxAttribute::NonExistent),
        Just(MailboxAttribute::Subscribed),
        Just(MailboxAttribute::Remote),
        Just(MailboxAttribute::HasChildren),
        Just(MailboxAttribute::HasNoChildren),
        Just(MailboxAttribute::All),
        Just(MailboxAttribute::Archive),
        Just(MailboxAttribute::Drafts),
        Just(MailboxAttribute::Flagged),
        Just(MailboxAttribute::Junk),
        Just(MailboxAttribute::Sent),
        Just(MailboxAttribute::Trash),
        Just(MailboxAttribute::Important),
        ext_atom().prop_map(MailboxAttribute::Extension),
    ]
}

fn delimiter() -> impl Strategy<Value = Option<u8>> {
    of(b'!'..=b'~')
}

fn list_data() -> impl Strategy<Value = ListData> {
    let item = prop_oneof![
        vec(istring(), 0..3).prop_map(ListExtendedItem::ChildInfo),
        mailbox().prop_map(ListExtendedItem::OldName),
        (ext_atom().prop_map(IString::from), raw_value())
            .prop_map(|(tag, raw)| ListExtendedItem::Other { tag, raw }),
    ];
    (
        vec(mailbox_attribute(), 0..4),
        delimiter(),
        mailbox(),
        vec(item, 0..3),
    )
        .prop_map(|(attributes, delimiter, mailbox, extended)| ListData {
            attributes,
            delimiter,
            mailbox,
            extended,
        })
}

fn namespace() -> impl Strategy<Value = Vec<NamespaceDescription>> {
    vec(
        (
            istring(),
            delimiter(),
            vec((istring(), vec(istring(), 1..3)), 0..2),
        )
            .prop_map(|(prefix, delimiter, extensions)| NamespaceDescription {
                prefix,
                delimiter,
                extensions,
            }),
        0..3,
    )
}

fn status_item() -> impl Strategy<Value = StatusItem> {
    prop_oneof![
        any::<u32>().prop_map(StatusItem::Messages),
        any::<u32>().prop_map(StatusItem::Recent),
        any::<u32>().prop_map(StatusItem::UidNext),
        any::<u32>().prop_map(StatusItem::UidValidity),
        any::<u32>().prop_map(StatusItem::Unseen),
        any::<u32>().prop_map(StatusItem::Deleted),
        u63().prop_map(StatusItem::Size),
        u63().prop_map(StatusItem::HighestModSeq),
        of(u63()).prop_map(StatusItem::AppendLimit),
        object_id().prop_map(StatusItem::MailboxId),
        u63().prop_map(StatusItem::DeletedStorage),
        (ext_atom(), u63()).prop_map(|(a, n)| StatusItem::Other(a, n)),
    ]
}

fn numbers() -> impl Strategy<Value = Vec<NonZeroU32>> {
    vec(nz(), 0..8)
}

fn context_update() -> impl Strategy<Value = ContextUpdate> {
    (any::<u32>(), plain_sequence_set()).prop_map(|(position, set)| ContextUpdate { position, set })
}

fn esearch() -> impl Strategy<Value = ESearchResponse> {
    let item = prop_oneof![
        any::<u32>().prop_map(ESearchItem::Min),
        any::<u32>().prop_map(ESearchItem::Max),
        plain_sequence_set().prop_map(ESearchItem::All),
        any::<u32>().prop_map(ESearchItem::Count),
        mod_seq().prop_map(ESearchItem::ModSeq),
        vec(context_update(), 1..3).prop_map(ESearchItem::AddTo),
        vec(context_update(), 1..3).prop_map(ESearchItem::RemoveFrom),
        (nz(), nz(), any::<bool>(), of(plain_sequence_set())).prop_map(
            |(first, second, from_end, results)| ESearchItem::Partial {
                range: PartialRange {
                    first,
                    second,
                    from_end,
                },
                results,
            }
        ),
        (ext_atom(), raw_value()).prop_map(|(name, raw)| ESearchItem::Other { name, raw }),
    ];
    (of(tag()), any::<bool>(), vec(item, 0..5)).prop_map(|(tag, uid, items)| ESearchResponse {
        tag,
        uid,
        items,
    })
}

/// A thread: a chain of messages followed by zero or at least two branches.
fn thread() -> impl Strategy<Value = Thread> {
    let leaf = vec(nz(), 1..4).prop_map(|ids| Thread {
        ids,
        children: vec![],
    });
    leaf.prop_recursive(4, 24, 3, |inner| {
        (vec(nz(), 0..3), vec(inner, 2..4)).prop_map(|(ids, children)| Thread { ids, children })
    })
}

fn data() -> impl Strategy<Value = Data> {
    prop_oneof![
        vec(capability(), 0..5).prop_map(Data::Capability),
        vec(capability(), 0..3).prop_map(Data::Enabled),
        list_data().prop_map(Data::List),
        list_data().prop_map(Data::Lsub),
        (namespace(), namespace(), namespace()).prop_map(|(personal, other, shared)| {
            Data::Namespace {
                personal,
                other,
                shared,
            }
        }),
        (mailbox(), vec(status_item(), 0..5))
            .prop_map(|(mailbox, items)| Data::Status { mailbox, items }),
        (numbers(), of(mod_seq())).prop_map(|(numbers, mod_seq)| Data::Search { numbers, mod_seq }),
        esearch().prop_map(Data::ESearch),
        (numbers(), of(mod_seq())).prop_map(|(numbers, mod_seq)| Data::Sort { numbers, mod_seq }),
        vec(thread(), 0..4).prop_map(Data::Thread),
        vec(flag(), 0..6).prop_map(Data::Flags),
        any::<u32>().prop_map(Data::Exists),
        any::<u32>().prop_map(Data::Recent),
        nz().prop_map(|n| Data::Expunge(SeqNum(n))),
        (any::<bool>(), uid_set()).prop_map(|(earlier, uids)| Data::Vanished { earlier, uids }),
        (nz(), vec(fetch_item(), 0..6)).prop_map(|(seq, items)| Data::Fetch {
            seq: SeqNum(seq),
            items: SmallVec::from_vec(items)
        }),
        vec((istring(), nstring()), 0..4).prop_map(Data::Id),
        (
            istring(),
            vec(
                (atom(), u63(), u63()).prop_map(|(name, usage, limit)| QuotaResource {
                    name,
                    usage,
                    limit
                }),
                0..3
            )
        )
            .prop_map(|(root, resources)| Data::Quota { root, resources }),
        (mailbox(), vec(istring(), 0..3))
            .prop_map(|(mailbox, roots)| Data::QuotaRoot { mailbox, roots }),
        (
            mailbox(),
            prop_oneof![
                vec((istring(), nstring()), 0..3).prop_map(MetadataResponse::Values),
                vec(istring(), 0..3).prop_map(MetadataResponse::Changed),
            ]
        )
            .prop_map(|(mailbox, response)| Data::Metadata { mailbox, response }),
        (
            "X[A-Z]{1,8}".prop_map(|s| Atom::try_from(s).unwrap()),
            "[a-zA-Z0-9 ().,\\\\\"]{0,20}".prop_map(|s| Bytes::from(s.into_bytes()))
        )
            .prop_map(|(name, raw)| Data::Other { name, raw }),
    ]
}

fn continue_basic() -> impl Strategy<Value = Continue> {
    (of(code()), text()).prop_map(|(code, text)| Continue::Basic { code, text })
}

fn response() -> impl Strategy<Value = Response> {
    prop_oneof![
        status().prop_map(Response::Status),
        data().prop_map(Response::Data),
        continue_basic().prop_map(Response::Continue),
    ]
}

// ===== the round trip =====

fn roundtrip(r: &Response) -> Result<(), TestCaseError> {
    let mut out = BytesMut::new();
    encode_response(r, &mut out, &EncodeConfig::default());
    let wire = out.freeze();
    match decode_response(&wire, &DecodeConfig::responses()) {
        Ok(Decoded::Complete { value, consumed }) => {
            prop_assert_eq!(consumed, wire.len(), "wire {:?}", wire);
            prop_assert_eq!(&value, r, "wire {:?}", wire);
        }
        other => prop_assert!(false, "{:?} does not decode: {:?}", wire, other),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn status_responses(s in status()) {
        roundtrip(&Response::Status(s))?;
    }

    #[test]
    fn codes(c in code()) {
        roundtrip(&Response::Status(Status::Untagged {
            kind: StatusKind::Ok,
            code: Some(c),
            text: Text::from_static("x"),
        }))?;
    }

    #[test]
    fn greetings(g in greeting()) {
        let mut out = BytesMut::new();
        encode_greeting(&g, &mut out, &EncodeConfig::default());
        let wire = out.freeze();
        match decode_greeting(&wire, &DecodeConfig::responses()) {
            Ok(Decoded::Complete { value, .. }) => prop_assert_eq!(value, g, "wire {:?}", wire),
            other => prop_assert!(false, "{:?} does not decode: {:?}", wire, other),
        }
    }

    #[test]
    fn continuations(c in continue_basic()) {
        roundtrip(&Response::Continue(c))?;
    }

    #[test]
    fn sasl_challenges(data in vec(any::<u8>(), 0..64)) {
        let c = Response::Continue(Continue::Base64(Bytes::from(data)));
        let mut out = BytesMut::new();
        encode_response(&c, &mut out, &EncodeConfig::default());
        let mut codec = ResponseCodec::new();
        codec.set_sasl(true);
        match codec.decode(&mut out) {
            Ok(Decoded::Complete { value, .. }) => prop_assert_eq!(value, c),
            other => prop_assert!(false, "does not decode: {:?}", other),
        }
    }

    #[test]
    fn untagged_data(d in data()) {
        roundtrip(&Response::Data(d))?;
    }

    #[test]
    fn fetch_items(items in vec(fetch_item(), 1..4), seq in nz()) {
        roundtrip(&Response::Data(Data::Fetch { seq: SeqNum(seq), items: SmallVec::from_vec(items) }))?;
    }

    #[test]
    fn body_structures(b in body_structure()) {
        roundtrip(&Response::Data(Data::Fetch {
            seq: SeqNum(NonZeroU32::MIN),
            items: [FetchItem::BodyStructure(Lazy::new(b))].into_iter().collect(),
        }))?;
    }

    #[test]
    fn any_response(r in response()) {
        roundtrip(&r)?;
    }
}

/// Message data for BODY[]/RFC822: NIL, text, or any bytes (NUL included).
fn message_data() -> impl Strategy<Value = Option<Bytes>> {
    of(prop_oneof![
        nstring().prop_filter_map("not NIL", |s| s.map(|s| s.to_bytes())),
        vec(any::<u8>(), 0..64).prop_map(Bytes::from),
    ])
}
