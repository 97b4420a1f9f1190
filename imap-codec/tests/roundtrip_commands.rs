//! Property test: every `CommandBody` variant, generated with canonical values,
//! survives `decode(encode(x)) == x` through the public API.

mod common;

use bytes::{Bytes, BytesMut};
use imap_codec::{
    decode_command, encode_command, DecodeConfig, Decoded, EncodeConfig, LiteralPolicy,
};
use imap_proto::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

// ===== command-specific strategies =====

/// A name that no known keyword matches (extensions are `X-` prefixed).
fn x_atom() -> impl Strategy<Value = Atom> {
    "X-[A-Z0-9]{1,8}".prop_map(|s| Atom::try_from(s).unwrap())
}

fn secret_bytes() -> impl Strategy<Value = Secret<Bytes>> {
    vec(any::<u8>(), 0..40).prop_map(|v| Secret::new(Bytes::from(v)))
}

fn auth_mechanism() -> impl Strategy<Value = AuthMechanism> {
    prop_oneof![
        select(vec![
            AuthMechanism::Plain,
            AuthMechanism::Login,
            AuthMechanism::XOAuth2,
            AuthMechanism::OAuthBearer,
            AuthMechanism::ScramSha1,
            AuthMechanism::ScramSha256,
            AuthMechanism::External,
            AuthMechanism::Anonymous,
            AuthMechanism::CramMd5,
        ]),
        x_atom().prop_map(AuthMechanism::Other),
    ]
}

fn mod_seq() -> impl Strategy<Value = ModSeq> {
    prop_oneof![1u64..1000, 1u64..=ModSeq::MAX].prop_map(|n| ModSeq::new(n).unwrap())
}

/// A `mod-sequence-valzer` / `number64`: 0 to 2^63-1.
fn number64() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1000, 0u64..=(i64::MAX as u64)]
}

fn select_param() -> impl Strategy<Value = SelectParam> {
    prop_oneof![
        Just(SelectParam::CondStore),
        (
            common::nz(),
            mod_seq(),
            option::of(common::sequence_set()),
            option::of((common::sequence_set(), common::sequence_set())),
        )
            .prop_map(|(uid_validity, mod_seq, known_uids, seq_match)| {
                SelectParam::QResync(QResyncParam {
                    uid_validity,
                    mod_seq,
                    known_uids,
                    seq_match,
                })
            }),
    ]
}

fn mailbox_attribute() -> impl Strategy<Value = MailboxAttribute> {
    prop_oneof![
        select(vec![
            MailboxAttribute::All,
            MailboxAttribute::Archive,
            MailboxAttribute::Drafts,
            MailboxAttribute::Flagged,
            MailboxAttribute::Junk,
            MailboxAttribute::Sent,
            MailboxAttribute::Trash,
            MailboxAttribute::Important,
            MailboxAttribute::NoSelect,
            MailboxAttribute::HasChildren,
        ]),
        x_atom().prop_map(MailboxAttribute::Extension),
    ]
}

fn status_attribute() -> impl Strategy<Value = StatusAttribute> {
    select(
        StatusAttribute::NAMES
            .iter()
            .map(|(_, a)| a.clone())
            .collect::<Vec<_>>(),
    )
}

fn list_select() -> impl Strategy<Value = ListSelect> {
    prop_oneof![
        select(vec![
            ListSelect::Subscribed,
            ListSelect::Remote,
            ListSelect::RecursiveMatch,
            ListSelect::SpecialUse,
        ]),
        x_atom().prop_map(ListSelect::Other),
    ]
}

fn list_return() -> impl Strategy<Value = ListReturn> {
    prop_oneof![
        select(vec![
            ListReturn::Subscribed,
            ListReturn::Children,
            ListReturn::SpecialUse,
            ListReturn::MyRights,
        ]),
        vec(status_attribute(), 1..4).prop_map(ListReturn::Status),
        x_atom().prop_map(ListReturn::Other),
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        common::bytes_nonul().prop_map(|b| Literal::new(b).unwrap()),
        vec(any::<u8>(), 0..64).prop_map(Literal::binary),
    ]
}

fn append_message() -> impl Strategy<Value = AppendMessage> {
    (
        vec(common::flag(), 0..4),
        option::of(common::date_time()),
        literal(),
        any::<bool>(),
    )
        .prop_map(|(flags, date, data, utf8)| AppendMessage {
            flags,
            date,
            data,
            utf8,
        })
}

fn metadata_option() -> impl Strategy<Value = GetMetadataOption> {
    prop_oneof![
        any::<u32>().prop_map(GetMetadataOption::MaxSize),
        select(vec![
            MetadataDepth::Zero,
            MetadataDepth::One,
            MetadataDepth::Infinity
        ])
        .prop_map(GetMetadataOption::Depth),
    ]
}

fn fetch_attribute() -> impl Strategy<Value = FetchAttribute> {
    use FetchAttribute as A;
    prop_oneof![
        select(vec![
            A::Envelope,
            A::Flags,
            A::InternalDate,
            A::Rfc822,
            A::Rfc822Header,
            A::Rfc822Size,
            A::Rfc822Text,
            A::Body,
            A::BodyStructure,
            A::Uid,
            A::ModSeq,
            A::EmailId,
            A::ThreadId,
            A::SaveDate,
            A::Preview { lazy: false },
            A::Preview { lazy: true },
            A::GmMsgId,
            A::GmThrId,
            A::GmLabels,
        ]),
        (
            any::<bool>(),
            common::section(),
            option::of(common::partial())
        )
            .prop_map(|(peek, section, partial)| A::BodySection {
                peek,
                section,
                partial
            }),
        (any::<bool>(), common::part(), option::of(common::partial())).prop_map(
            |(peek, part, partial)| A::Binary {
                peek,
                part,
                partial
            }
        ),
        common::part().prop_map(|part| A::BinarySize { part }),
    ]
}

fn fetch_items() -> impl Strategy<Value = FetchItems> {
    prop_oneof![
        select(vec![FetchMacro::All, FetchMacro::Fast, FetchMacro::Full])
            .prop_map(FetchItems::Macro),
        vec(fetch_attribute(), 1..5).prop_map(FetchItems::Attributes),
    ]
}

fn fetch_modifier() -> impl Strategy<Value = FetchModifier> {
    prop_oneof![
        mod_seq().prop_map(FetchModifier::ChangedSince),
        Just(FetchModifier::Vanished),
    ]
}

/// A Gmail label: any string, or a system label such as `\Inbox`.
fn gm_label() -> impl Strategy<Value = IString> {
    prop_oneof![
        common::istring(),
        "\\\\[A-Za-z]{1,8}".prop_map(|s| IString::try_from(s).unwrap()),
    ]
}

fn search_return() -> impl Strategy<Value = Option<Vec<SearchReturn>>> {
    let opt = prop_oneof![
        4 => select(vec![
            SearchReturn::Min,
            SearchReturn::Max,
            SearchReturn::All,
            SearchReturn::Count,
            SearchReturn::Save,
            SearchReturn::Update,
            SearchReturn::Context,
        ]),
        1 => (common::nz(), common::nz(), any::<bool>()).prop_map(|(first, second, from_end)| {
            SearchReturn::Partial(PartialRange {
                first,
                second,
                from_end,
            })
        }),
    ];
    option::of(vec(opt, 0..4))
}

fn charset() -> impl Strategy<Value = Charset> {
    prop_oneof![
        Just(IString::from_static("UTF-8")),
        Just(IString::from_static("US-ASCII")),
        common::istring(),
    ]
}

fn search_key_leaf() -> impl Strategy<Value = SearchKey> {
    use SearchKey as K;
    let flags = select(vec![
        K::All,
        K::Answered,
        K::Deleted,
        K::Draft,
        K::Flagged,
        K::New,
        K::Old,
        K::Recent,
        K::Seen,
        K::Unanswered,
        K::Undeleted,
        K::Undraft,
        K::Unflagged,
        K::Unseen,
        K::SaveDateSupported,
    ]);
    let strings = (0u8..9, common::istring()).prop_map(|(k, s)| match k {
        0 => K::Bcc(s),
        1 => K::Body(s),
        2 => K::Cc(s),
        3 => K::From(s),
        4 => K::Subject(s),
        5 => K::Text(s),
        6 => K::To(s),
        _ => K::GmRaw(s),
    });
    let dates = (0u8..9, common::date()).prop_map(|(k, d)| match k {
        0 => K::Before(d),
        1 => K::On(d),
        2 => K::SentBefore(d),
        3 => K::SentOn(d),
        4 => K::SentSince(d),
        5 => K::Since(d),
        6 => K::SavedBefore(d),
        7 => K::SavedOn(d),
        _ => K::SavedSince(d),
    });
    let numbers = (0u8..4, number64()).prop_map(|(k, n)| match k {
        0 => K::Larger(n),
        1 => K::Smaller(n),
        2 => K::GmMsgId(n),
        _ => K::GmThrId(n),
    });
    let entry_type = select(vec![EntryType::Private, EntryType::Shared, EntryType::All]);
    prop_oneof![
        flags,
        strings,
        dates,
        numbers,
        (common::istring(), common::istring()).prop_map(|(f, v)| K::Header(f, v)),
        common::atom().prop_map(K::Keyword),
        common::atom().prop_map(K::Unkeyword),
        common::sequence_set().prop_map(K::Uid),
        common::sequence_set().prop_map(K::SequenceSet),
        (option::of((common::istring(), entry_type)), number64())
            .prop_map(|(entry, modseq)| K::ModSeq { entry, modseq }),
        (1u32..=u32::MAX).prop_map(K::Older),
        (1u32..=u32::MAX).prop_map(K::Younger),
        common::object_id().prop_map(K::EmailId),
        common::object_id().prop_map(K::ThreadId),
        gm_label().prop_map(K::GmLabels),
    ]
}

fn search_key() -> impl Strategy<Value = SearchKey> {
    search_key_leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|k| SearchKey::Not(Box::new(k))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| SearchKey::Or(Box::new(a), Box::new(b))),
            vec(inner, 1..4).prop_map(SearchKey::And),
        ]
    })
}

fn search_keys() -> impl Strategy<Value = Vec<SearchKey>> {
    vec(search_key(), 1..4)
}

fn sort_criterion() -> impl Strategy<Value = SortCriterion> {
    (
        any::<bool>(),
        select(SortKey::NAMES.iter().map(|(_, k)| *k).collect::<Vec<_>>()),
    )
        .prop_map(|(reverse, key)| SortCriterion { reverse, key })
}

fn notify_event() -> impl Strategy<Value = NotifyEvent> {
    prop_oneof![
        select(vec![
            NotifyEvent::MessageExpunge,
            NotifyEvent::FlagChange,
            NotifyEvent::AnnotationChange,
            NotifyEvent::MailboxName,
            NotifyEvent::SubscriptionChange,
            NotifyEvent::MailboxMetadataChange,
            NotifyEvent::ServerMetadataChange,
        ]),
        vec(fetch_attribute(), 0..3).prop_map(NotifyEvent::MessageNew),
        x_atom().prop_map(NotifyEvent::Other),
    ]
}

fn notify_filter() -> impl Strategy<Value = NotifyFilter> {
    prop_oneof![
        select(vec![
            NotifyFilter::Selected,
            NotifyFilter::SelectedDelayed,
            NotifyFilter::Inboxes,
            NotifyFilter::Personal,
            NotifyFilter::Subscribed,
        ]),
        vec(common::mailbox(), 1..3).prop_map(NotifyFilter::Subtree),
        vec(common::mailbox(), 1..3).prop_map(NotifyFilter::Mailboxes),
    ]
}

fn notify_set() -> impl Strategy<Value = NotifySet> {
    prop_oneof![
        Just(NotifySet::None),
        (
            any::<bool>(),
            vec(
                (notify_filter(), vec(notify_event(), 0..4))
                    .prop_map(|(filter, events)| NotifyGroup { filter, events }),
                1..3,
            ),
        )
            .prop_map(|(status, groups)| NotifySet::Set { status, groups }),
    ]
}

// ===== command bodies, grouped by state =====

fn any_state() -> impl Strategy<Value = CommandBody> {
    use CommandBody as C;
    prop_oneof![
        Just(C::Capability),
        Just(C::Noop),
        Just(C::Logout),
        vec((common::istring(), common::nstring()), 0..4).prop_map(C::Id),
        Just(C::StartTls),
        (auth_mechanism(), option::of(secret_bytes())).prop_map(|(mechanism, initial_response)| {
            C::Authenticate {
                mechanism,
                initial_response,
            }
        }),
        (common::istring(), common::istring()).prop_map(|(username, password)| C::Login {
            username,
            password: Secret::new(password),
        }),
        // Unknown commands: raw bytes without braces (a trailing `{n}` would
        // announce a literal).
        (x_atom(), "[ -z|~]{0,24}").prop_map(|(name, raw)| C::Other {
            name,
            raw: Bytes::from(raw),
        }),
    ]
}

fn authenticated() -> impl Strategy<Value = CommandBody> {
    use CommandBody as C;
    let mailboxes = prop_oneof![
        (common::mailbox(), vec(select_param(), 0..3))
            .prop_map(|(mailbox, params)| C::Select { mailbox, params }),
        (common::mailbox(), vec(select_param(), 0..3))
            .prop_map(|(mailbox, params)| C::Examine { mailbox, params }),
        (common::mailbox(), vec(mailbox_attribute(), 0..3)).prop_map(|(mailbox, special_use)| {
            C::Create {
                mailbox,
                special_use,
            }
        }),
        common::mailbox().prop_map(C::Delete),
        (common::mailbox(), common::mailbox()).prop_map(|(from, to)| C::Rename { from, to }),
        common::mailbox().prop_map(C::Subscribe),
        common::mailbox().prop_map(C::Unsubscribe),
        (
            vec(list_select(), 0..3),
            common::mailbox(),
            vec(common::list_mailbox(), 1..4),
            option::of(vec(list_return(), 0..3)),
        )
            .prop_map(|(selection, reference, patterns, return_options)| C::List {
                selection,
                reference,
                patterns,
                return_options,
            }),
        (common::mailbox(), common::list_mailbox())
            .prop_map(|(reference, pattern)| C::Lsub { reference, pattern }),
        (common::mailbox(), vec(status_attribute(), 1..5)).prop_map(|(mailbox, attributes)| {
            C::Status {
                mailbox,
                attributes,
            }
        }),
        (common::mailbox(), vec(append_message(), 1..3))
            .prop_map(|(mailbox, messages)| C::Append { mailbox, messages }),
    ];
    let others = prop_oneof![
        vec(common::capability(), 1..4).prop_map(C::Enable),
        Just(C::Namespace),
        Just(C::Idle),
        Just(C::Unauthenticate),
        common::istring().prop_map(C::GetQuota),
        common::mailbox().prop_map(C::GetQuotaRoot),
        (
            common::istring(),
            vec(
                (common::atom(), number64()).prop_map(|(name, limit)| QuotaLimit { name, limit }),
                0..3
            )
        )
            .prop_map(|(root, limits)| C::SetQuota { root, limits }),
        prop_oneof![
            Just(Compression::Deflate),
            x_atom().prop_map(Compression::Other)
        ]
        .prop_map(C::Compress),
        (
            vec(metadata_option(), 0..3),
            common::mailbox(),
            vec(common::istring(), 1..4)
        )
            .prop_map(|(options, mailbox, entries)| C::GetMetadata {
                options,
                mailbox,
                entries
            }),
        (
            common::mailbox(),
            vec((common::istring(), common::nstring()), 1..4)
        )
            .prop_map(|(mailbox, entries)| C::SetMetadata { mailbox, entries }),
        notify_set().prop_map(C::Notify),
    ];
    prop_oneof![mailboxes, others]
}

fn selected() -> impl Strategy<Value = CommandBody> {
    use CommandBody as C;
    prop_oneof![
        Just(C::Check),
        Just(C::Close),
        Just(C::Unselect),
        vec(common::tag(), 1..3).prop_map(C::CancelUpdate),
        Just(C::Expunge),
        common::sequence_set().prop_map(C::UidExpunge),
        (
            any::<bool>(),
            search_return(),
            option::of(charset()),
            search_keys()
        )
            .prop_map(|(uid, return_options, charset, criteria)| C::Search {
                uid,
                return_options,
                charset,
                criteria,
            }),
        (
            any::<bool>(),
            common::sequence_set(),
            fetch_items(),
            vec(fetch_modifier(), 0..3)
        )
            .prop_map(|(uid, set, items, modifiers)| C::Fetch {
                uid,
                set,
                items,
                modifiers,
            }),
        (
            any::<bool>(),
            common::sequence_set(),
            vec(number64().prop_map(StoreModifier::UnchangedSince), 0..2),
            select(vec![StoreKind::Replace, StoreKind::Add, StoreKind::Remove]),
            any::<bool>(),
            prop_oneof![
                vec(common::flag(), 0..4).prop_map(StoreTarget::Flags),
                vec(gm_label(), 0..4).prop_map(StoreTarget::GmLabels),
            ],
        )
            .prop_map(|(uid, set, modifiers, kind, silent, target)| C::Store {
                uid,
                set,
                modifiers,
                kind,
                silent,
                target,
            }),
        (any::<bool>(), common::sequence_set(), common::mailbox())
            .prop_map(|(uid, set, mailbox)| C::Copy { uid, set, mailbox }),
        (any::<bool>(), common::sequence_set(), common::mailbox())
            .prop_map(|(uid, set, mailbox)| C::Move { uid, set, mailbox }),
        (
            any::<bool>(),
            search_return(),
            vec(sort_criterion(), 1..4),
            charset(),
            search_keys()
        )
            .prop_map(|(uid, return_options, criteria, charset, search)| C::Sort {
                uid,
                return_options,
                criteria,
                charset,
                search,
            }),
        (
            any::<bool>(),
            prop_oneof![
                Just(ThreadAlgorithm::OrderedSubject),
                Just(ThreadAlgorithm::References),
                Just(ThreadAlgorithm::Refs),
                x_atom().prop_map(ThreadAlgorithm::Other),
            ],
            charset(),
            search_keys()
        )
            .prop_map(|(uid, algorithm, charset, search)| C::Thread {
                uid,
                algorithm,
                charset,
                search,
            }),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    (
        common::tag(),
        prop_oneof![any_state(), authenticated(), selected()],
    )
        .prop_map(|(tag, body)| Command { tag, body })
}

/// Literal policy, and modified UTF-7 or UTF-8 (IMAP4rev2 / UTF8=ACCEPT) names.
fn encode_config() -> impl Strategy<Value = EncodeConfig> {
    (
        select(vec![
            LiteralPolicy::Sync,
            LiteralPolicy::Plus,
            LiteralPolicy::Minus,
        ]),
        any::<bool>(),
    )
        .prop_map(|(literals, utf8)| {
            let mut cfg = EncodeConfig::default();
            cfg.literals = literals;
            cfg.utf8_mailboxes = utf8;
            cfg.utf8_quoted = utf8;
            cfg
        })
}

/// Encode with `enc`, decode with the default (lenient) and the strict
/// configuration (UTF-8 names when `enc` uses them): both must give back `cmd`.
fn check_roundtrip(cmd: &Command, enc: &EncodeConfig) -> Result<(), TestCaseError> {
    let mut out = BytesMut::new();
    encode_command(cmd, &mut out, enc);
    let bytes = out.freeze();
    let mut lenient = DecodeConfig::commands();
    lenient.utf8_mailboxes = enc.utf8_mailboxes;
    let mut strict = lenient.clone();
    strict.quirks = imap_codec::Quirks::strict();
    for cfg in [lenient, strict] {
        match decode_command(&bytes, &cfg) {
            Ok(Decoded::Complete { value, consumed }) => {
                prop_assert_eq!(consumed, bytes.len());
                prop_assert_eq!(&value, cmd, "wire: {:?}", String::from_utf8_lossy(&bytes));
            }
            other => prop_assert!(
                false,
                "{:?} did not decode: {:?}",
                String::from_utf8_lossy(&bytes),
                other
            ),
        }
    }
    Ok(())
}

/// Pieces of commands for the no-panic test.
const TOKENS: &[&str] = &[
    " ",
    "  ",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    ".",
    "\"",
    "\\",
    "*",
    "$",
    "%",
    "+",
    "-",
    ":",
    ",",
    "0",
    "1",
    "1:*",
    "4294967296",
    "99999999999999999999",
    "{3}\r\nabc",
    "~{1}\r\n\0",
    "{0}\r\n",
    "UID",
    "FETCH",
    "STORE",
    "SEARCH",
    "SELECT",
    "LIST",
    "APPEND",
    "SORT",
    "THREAD",
    "NOTIFY",
    "SET",
    "STATUS",
    "AUTHENTICATE",
    "LOGIN",
    "ID",
    "NIL",
    "GETMETADATA",
    "SETMETADATA",
    "CREATE",
    "USE",
    "\\All",
    "BODY",
    "BODY.PEEK",
    "BINARY",
    ".SIZE",
    "HEADER.FIELDS",
    "MIME",
    "PREVIEW",
    "LAZY",
    "CHANGEDSINCE",
    "VANISHED",
    "UNCHANGEDSINCE",
    "FLAGS",
    "X-GM-LABELS",
    ".SILENT",
    "\\Seen",
    "NOT",
    "OR",
    "ALL",
    "MODSEQ",
    "RETURN",
    "CHARSET",
    "QRESYNC",
    "CONDSTORE",
    "1-Feb-1994",
    "\" 1-Jul-2002 22:14:14 +0000\"",
    "UTF8",
    "=",
    "dGVzdA==",
    "MessageNew",
    "SUBTREE",
    "MAXSIZE",
    "DEPTH",
    "EMAILID",
    "OLDER",
    "X-FOO",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn commands_roundtrip(cmd in command(), enc in encode_config()) {
        check_roundtrip(&cmd, &enc)?;
    }

    #[test]
    fn search_keys_roundtrip(tag in common::tag(), criteria in search_keys()) {
        let cmd = Command {
            tag,
            body: CommandBody::Search { uid: true, return_options: None, charset: None, criteria },
        };
        check_roundtrip(&cmd, &EncodeConfig::default())?;
    }

    #[test]
    fn fetch_roundtrip(
        tag in common::tag(),
        set in common::sequence_set(),
        items in fetch_items(),
        modifiers in vec(fetch_modifier(), 0..3),
    ) {
        let cmd = Command { tag, body: CommandBody::Fetch { uid: false, set, items, modifiers } };
        check_roundtrip(&cmd, &EncodeConfig::default())?;
    }

    /// Lines made of command tokens never make the decoder panic.
    #[test]
    fn decoding_never_panics(tokens in vec(select(TOKENS.to_vec()), 0..24), tail in "[ -~]{0,4}") {
        let mut line = b"a ".to_vec();
        for t in tokens {
            line.extend_from_slice(t.as_bytes());
        }
        line.extend_from_slice(tail.as_bytes());
        line.extend_from_slice(b"\r\n");
        let _ = decode_command(&Bytes::from(line), &DecodeConfig::commands());
    }
}
