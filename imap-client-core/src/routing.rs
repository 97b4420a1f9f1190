//! Which untagged data a command in flight asked for.
//!
//! Servers answer commands in order, so untagged data between a command's send
//! and its tagged completion belongs to the first command in flight that could
//! have asked for it; anything else is unsolicited (RFC 9051 §7: "the client
//! MUST be prepared to accept any response at all times").

use imap_proto::{
    CommandBody, Data, FetchAttribute, FetchItem, FetchItems, Mailbox, SequenceSet, Tag,
};

/// What untagged data a command solicits.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    /// Nothing (NOOP, LOGIN, APPEND, …).
    None,
    Capability,
    Enable,
    Namespace,
    Id,
    Quota,
    Metadata,
    /// SELECT/EXAMINE: the mailbox data, while it is the oldest command in flight.
    Select,
    /// LIST/LSUB (with STATUS data for `RETURN (STATUS …)`).
    List,
    /// STATUS of one mailbox.
    Status(Mailbox),
    /// SEARCH, SORT, THREAD.
    Search,
    /// FETCH: messages in `set` answering the requested attributes.
    Fetch {
        uid: bool,
        set: SequenceSet,
        attrs: Vec<FetchAttribute>,
        vanished: bool,
    },
    /// STORE without `.SILENT`: the new flags of messages in `set`.
    Store {
        uid: bool,
        set: SequenceSet,
    },
    /// EXPUNGE, UID EXPUNGE, MOVE: the expunges they cause.
    Expunge,
}

impl Route {
    pub(crate) fn of(body: &CommandBody) -> Self {
        use imap_proto::FetchModifier;
        match body {
            CommandBody::Capability => Self::Capability,
            CommandBody::Enable(_) => Self::Enable,
            CommandBody::Namespace => Self::Namespace,
            CommandBody::Id(_) => Self::Id,
            CommandBody::GetQuota(_) | CommandBody::GetQuotaRoot(_) => Self::Quota,
            CommandBody::GetMetadata { .. } => Self::Metadata,
            CommandBody::Select { .. } | CommandBody::Examine { .. } => Self::Select,
            CommandBody::List { .. } | CommandBody::Lsub { .. } => Self::List,
            CommandBody::Status { mailbox, .. } => Self::Status(mailbox.clone()),
            CommandBody::Search { .. } | CommandBody::Sort { .. } | CommandBody::Thread { .. } => {
                Self::Search
            }
            CommandBody::Fetch {
                uid,
                set,
                items,
                modifiers,
            } => Self::Fetch {
                uid: *uid,
                set: set.clone(),
                attrs: match items {
                    FetchItems::Macro(m) => m.expand(),
                    FetchItems::Attributes(a) => a.clone(),
                    _ => Vec::new(),
                },
                vanished: modifiers.contains(&FetchModifier::Vanished),
            },
            CommandBody::Store {
                uid,
                set,
                silent: false,
                ..
            } => Self::Store {
                uid: *uid,
                set: set.clone(),
            },
            CommandBody::Expunge | CommandBody::UidExpunge(_) | CommandBody::Move { .. } => {
                Self::Expunge
            }
            _ => Self::None,
        }
    }

    /// Whether `data` answers this command. `tag` is the command's tag,
    /// `oldest` whether it is the oldest command in flight, `exists` the
    /// current message count (to resolve `*`).
    pub(crate) fn accepts(&self, data: &Data, tag: &Tag, oldest: bool, exists: u32) -> bool {
        if let Data::ESearch(r) = data {
            if let Some(t) = &r.tag {
                return t == tag;
            }
        }
        match (self, data) {
            (Self::Capability, Data::Capability(_))
            | (Self::Enable, Data::Enabled(_))
            | (Self::Namespace, Data::Namespace { .. })
            | (Self::Id, Data::Id(_))
            | (Self::Quota, Data::Quota { .. } | Data::QuotaRoot { .. })
            | (Self::Metadata, Data::Metadata { .. })
            | (Self::List, Data::List(_) | Data::Lsub(_) | Data::Status { .. })
            | (
                Self::Search,
                Data::Search { .. } | Data::ESearch(_) | Data::Sort { .. } | Data::Thread(_),
            )
            | (Self::Expunge, Data::Expunge(_) | Data::Vanished { earlier: false, .. })
            | (Self::Fetch { vanished: true, .. }, Data::Vanished { earlier: true, .. }) => true,
            (
                Self::Select,
                Data::Flags(_)
                | Data::Exists(_)
                | Data::Recent(_)
                | Data::Vanished { earlier: true, .. }
                | Data::Fetch { .. },
            ) => oldest,
            (Self::Status(m), Data::Status { mailbox, .. }) => {
                m == mailbox || (m.is_inbox() && mailbox.is_inbox())
            }
            (
                Self::Fetch {
                    uid, set, attrs, ..
                },
                Data::Fetch { seq, items },
            ) => {
                // An answer carries at least one requested item; servers add
                // items nobody asked for (Gmail's X-GM-*, MODSEQ, FLAGS after a
                // non-PEEK fetch), which do not make it unsolicited. A FETCH with
                // only items the command did not ask for (a flag change during a
                // BODY fetch) is unsolicited.
                in_set(*uid, set, seq.get(), items, exists) && {
                    let mut asked = items
                        .iter()
                        .filter(|i| !matches!(i, FetchItem::Uid(_) | FetchItem::ModSeq(_)))
                        .peekable();
                    asked.peek().is_none() || asked.any(|i| attrs.iter().any(|a| answers(i, a)))
                }
            }
            (Self::Store { uid, set }, Data::Fetch { seq, items }) => {
                in_set(*uid, set, seq.get(), items, exists)
                    && items.iter().all(|i| {
                        matches!(
                            i,
                            FetchItem::Flags(_) | FetchItem::Uid(_) | FetchItem::ModSeq(_)
                        )
                    })
            }
            _ => false,
        }
    }
}

/// Whether a FETCH response is about a message of `set`.
fn in_set(uid: bool, set: &SequenceSet, seq: u32, items: &[FetchItem], exists: u32) -> bool {
    if uid {
        items.iter().any(|i| match i {
            FetchItem::Uid(u) => set.contains(u.get(), u32::MAX),
            _ => false,
        })
    } else {
        set.contains(seq, exists.max(seq))
    }
}

/// Whether a FETCH response item answers a requested attribute.
fn answers(item: &FetchItem, attr: &FetchAttribute) -> bool {
    use FetchAttribute as A;
    use FetchItem as I;
    matches!(
        (item, attr),
        (I::Flags(_), A::Flags)
            | (I::InternalDate(_), A::InternalDate)
            | (I::Rfc822Size(_), A::Rfc822Size)
            | (I::Envelope(_), A::Envelope)
            | (I::Body(_), A::Body)
            | (I::BodyStructure(_), A::BodyStructure)
            | (I::BodySection { .. }, A::BodySection { .. })
            | (I::Binary { .. }, A::Binary { .. })
            | (I::BinarySize { .. }, A::BinarySize { .. })
            | (I::Rfc822(_), A::Rfc822)
            | (I::Rfc822Header(_), A::Rfc822Header)
            | (I::Rfc822Text(_), A::Rfc822Text)
            | (I::EmailId(_), A::EmailId)
            | (I::ThreadId(_), A::ThreadId)
            | (I::SaveDate(_), A::SaveDate)
            | (I::Preview(_), A::Preview { .. })
            | (I::GmMsgId(_), A::GmMsgId)
            | (I::GmThrId(_), A::GmThrId)
            | (I::GmLabels(_), A::GmLabels)
            // A non-PEEK body fetch sets \Seen, and the server reports the flags.
            | (
                I::Flags(_),
                A::BodySection { peek: false, .. }
                    | A::Binary { peek: false, .. }
                    | A::Rfc822
                    | A::Rfc822Text
            )
            // An item the model does not know answers whatever was asked.
            | (I::Other { .. }, _)
    )
}
