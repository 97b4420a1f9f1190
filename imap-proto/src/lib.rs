//! The IMAP data model: owned, validated, cheap-to-clone types for every command,
//! response, response code, FETCH item, SEARCH key, STATUS item and LIST option of
//! IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501), plus the extensions real clients
//! and servers use.
//!
//! This crate does no I/O and contains no parser: it is the vocabulary shared by
//! `imap-codec` (which turns bytes into these values and back) and the server and
//! client cores.
//!
//! Design rules:
//! - Payloads are [`bytes::Bytes`], so a value parsed from a `Bytes` buffer refers to
//!   the received bytes without copying, and no public type has a lifetime parameter.
//! - Constructors validate: an [`Atom`] is an atom, a [`Tag`] is a tag, a
//!   [`SequenceSet`] is never empty, [`Uid`] and [`SeqNum`] are distinct non-zero types.
//! - Every public enum is `#[non_exhaustive]` and every extension is always compiled:
//!   no cargo feature changes the shape of a type.
//! - Values that the model does not know (a capability, a response code, a FETCH
//!   item) survive as raw values, so one odd item never fails a whole response.
//! - Mailbox names are Unicode in the model; the codec encodes them as modified UTF-7
//!   (RFC 3501 §5.1.3) or UTF-8 (IMAP4rev2, UTF8=ACCEPT), so users never hand-encode one.
//!
//! ```
//! use imap_proto::{Mailbox, SequenceSet, Flag};
//! let inbox = Mailbox::from_utf8("inbox");
//! assert!(inbox.is_inbox());
//! let set: SequenceSet = "1:5,7,10:*".parse().unwrap();
//! assert_eq!(set.to_string(), "1:5,7,10:*");
//! assert_eq!(Flag::try_from("\\Seen").unwrap(), Flag::Seen);
//! ```

#![forbid(unsafe_code)]

mod base64;
mod body;
mod capability;
mod command;
mod core;
mod datetime;
mod error;
mod fetch;
mod flag;
mod lazy;
mod list;
mod mailbox;
mod misc;
mod response;
mod search;
mod secret;
mod sequence;
mod status;
mod urlauth;

pub use crate::base64::{decode_base64, encode_base64};
pub use crate::body::{
    Body, BodyExtension, BodyFields, BodySpecific, BodyStructure, Disposition, DispositionExt,
    LanguageExt, LocationExt, MultiPartExtension, SinglePartExtension,
};
pub use crate::capability::{AuthMechanism, Capability};
pub use crate::command::{
    AppendContent, AppendMessage, AuthenticateData, CatenateMessage, CatenatePart, Command,
    CommandBody, FetchModifier, QResyncParam, SelectParam, StoreKind, StoreModifier, StoreTarget,
};
pub use crate::core::{
    is_astring_char, is_atom_char, is_list_char, is_tag_char, is_text_char, AString, Atom, Charset,
    IString, Literal, NString, Tag, Text,
};
pub use crate::datetime::{Date, DateTime};
pub use crate::error::ValidationError;
pub use crate::fetch::{
    Address, Envelope, FetchAttribute, FetchItem, FetchItemVec, FetchItems, FetchMacro, FlagVec,
    Partial, Section, SectionText,
};
pub use crate::flag::{Flag, FlagPerm};
pub use crate::lazy::Lazy;
pub use crate::list::{ListData, ListExtendedItem, ListReturn, ListSelect, MailboxAttribute};
pub use crate::mailbox::{decode_utf7, encode_utf7, ListMailbox, Mailbox};
pub use crate::misc::{
    Compression, EntryType, GetMetadataOption, MetadataDepth, MetadataResponse,
    NamespaceDescription, NotifyEvent, NotifyFilter, NotifyGroup, NotifySet, ObjectId, QuotaLimit,
    QuotaResource, SortCriterion, SortKey, Thread, ThreadAlgorithm,
};
pub use crate::response::{
    Code, Continue, Data, Greeting, GreetingKind, Response, Status, StatusKind,
};
pub use crate::search::{
    ContextUpdate, ESearchItem, ESearchResponse, PartialRange, SearchKey, SearchReturn,
};
pub use crate::secret::Secret;
pub use crate::sequence::{ModSeq, SeqBound, SeqNum, SeqRange, SequenceSet, Uid};
pub use crate::status::{StatusAttribute, StatusItem};
pub use crate::urlauth::{
    GenUrlauthItem, UrlFetchArg, UrlFetchData, UrlFetchItem, UrlFetchParam, UrlFetchValue,
};

/// Re-export of the `bytes` crate, whose [`bytes::Bytes`] carries every payload.
pub use bytes;
/// Re-export of the `smallvec` crate used for short, allocation-free lists.
pub use smallvec;
