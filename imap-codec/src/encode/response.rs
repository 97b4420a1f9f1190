//! Response encoding (RFC 9051 §7 and §9 and the extensions' responses),
//! always in the strict grammar. Literals in responses are plain `{n}`;
//! BINARY data that is a `literal8` is written `~{n}`.

use imap_proto::{
    encode_base64, Capability, Code, Continue, Data, ESearchItem, FetchItem, FlagPerm, Greeting,
    GreetingKind, IString, ListData, ListExtendedItem, Literal, MetadataResponse,
    NamespaceDescription, Response, Status, StatusItem, StatusKind, Text, Thread, UrlFetchItem,
    UrlFetchValue,
};

use super::body::{body, envelope};
use super::Writer;

/// Encode a response with its CRLF (RFC 9051 §7).
pub(crate) fn response(w: &mut Writer<'_>, r: &Response) {
    match r {
        Response::Status(s) => status(w, s),
        Response::Data(d) => data(w, d),
        Response::Continue(c) => continuation(w, c),
        _ => {}
    }
}

/// Encode a greeting with its CRLF (RFC 9051 §7.1.1).
pub(crate) fn greeting(w: &mut Writer<'_>, g: &Greeting) {
    w.raw(b"* ");
    w.raw(match g.kind {
        GreetingKind::PreAuth => b"PREAUTH",
        GreetingKind::Bye => b"BYE",
        _ => b"OK",
    });
    w.sp();
    resp_text(w, g.code.as_ref(), &g.text);
    w.crlf();
}

// ===== status responses =====

fn status(w: &mut Writer<'_>, s: &Status) {
    match s {
        Status::Tagged {
            tag,
            kind,
            code,
            text,
        } => {
            w.raw(tag.as_bytes());
            w.sp();
            w.raw(kind_name(*kind));
            w.sp();
            resp_text(w, code.as_ref(), text);
        }
        Status::Untagged { kind, code, text } => {
            w.raw(b"* ");
            w.raw(kind_name(*kind));
            w.sp();
            resp_text(w, code.as_ref(), text);
        }
        Status::PreAuth { code, text } => {
            w.raw(b"* PREAUTH ");
            resp_text(w, code.as_ref(), text);
        }
        Status::Bye { code, text } => {
            w.raw(b"* BYE ");
            resp_text(w, code.as_ref(), text);
        }
        _ => {}
    }
    w.crlf();
}

fn kind_name(k: StatusKind) -> &'static [u8] {
    match k {
        StatusKind::No => b"NO",
        StatusKind::Bad => b"BAD",
        _ => b"OK",
    }
}

/// `resp-text = ["[" resp-text-code "]" SP] [text]`.
fn resp_text(w: &mut Writer<'_>, c: Option<&Code>, text: &Text) {
    if let Some(c) = c {
        w.byte(b'[');
        code(w, c);
        w.raw(b"] ");
    }
    w.raw(text.as_bytes());
}

/// `resp-text-code` without the brackets.
fn code(w: &mut Writer<'_>, c: &Code) {
    let name: &[u8] = match c {
        Code::Alert => b"ALERT",
        Code::BadCharset(charsets) => {
            w.raw(b"BADCHARSET");
            if !charsets.is_empty() {
                w.sp();
                w.paren_list(charsets, |w, c| w.astring(c.as_bytes()));
            }
            return;
        }
        Code::Capability(caps) => {
            w.raw(b"CAPABILITY");
            for cap in caps {
                w.sp();
                capability(w, cap);
            }
            return;
        }
        Code::Parse => b"PARSE",
        Code::PermanentFlags(flags) => {
            w.raw(b"PERMANENTFLAGS ");
            w.paren_list(flags, |w, f| match f {
                FlagPerm::Flag(f) => w.flag(f),
                _ => w.raw(b"\\*"),
            });
            return;
        }
        Code::ReadOnly => b"READ-ONLY",
        Code::ReadWrite => b"READ-WRITE",
        Code::TryCreate => b"TRYCREATE",
        Code::UidNext(uid) => {
            w.raw(b"UIDNEXT ");
            w.nz(uid.0);
            return;
        }
        Code::UidValidity(n) => {
            w.raw(b"UIDVALIDITY ");
            w.nz(*n);
            return;
        }
        Code::Unseen(n) => {
            w.raw(b"UNSEEN ");
            w.nz(n.0);
            return;
        }
        Code::AppendUid { uid_validity, uids } => {
            w.raw(b"APPENDUID ");
            w.nz(*uid_validity);
            w.sp();
            w.sequence_set(uids);
            return;
        }
        Code::CopyUid {
            uid_validity,
            source,
            destination,
        } => {
            w.raw(b"COPYUID ");
            w.nz(*uid_validity);
            w.sp();
            w.sequence_set(source);
            w.sp();
            w.sequence_set(destination);
            return;
        }
        Code::UidNotSticky => b"UIDNOTSTICKY",
        Code::HighestModSeq(m) => {
            w.raw(b"HIGHESTMODSEQ ");
            w.number(m.get());
            return;
        }
        Code::NoModSeq => b"NOMODSEQ",
        Code::Modified(set) => {
            w.raw(b"MODIFIED ");
            w.sequence_set(set);
            return;
        }
        Code::Closed => b"CLOSED",
        Code::Unavailable => b"UNAVAILABLE",
        Code::AuthenticationFailed => b"AUTHENTICATIONFAILED",
        Code::AuthorizationFailed => b"AUTHORIZATIONFAILED",
        Code::Expired => b"EXPIRED",
        Code::PrivacyRequired => b"PRIVACYREQUIRED",
        Code::ContactAdmin => b"CONTACTADMIN",
        Code::NoPerm => b"NOPERM",
        Code::InUse => b"INUSE",
        Code::ExpungeIssued => b"EXPUNGEISSUED",
        Code::Corruption => b"CORRUPTION",
        Code::ServerBug => b"SERVERBUG",
        Code::ClientBug => b"CLIENTBUG",
        Code::Cannot => b"CANNOT",
        Code::Limit => b"LIMIT",
        Code::OverQuota => b"OVERQUOTA",
        Code::AlreadyExists => b"ALREADYEXISTS",
        Code::NonExistent => b"NONEXISTENT",
        Code::TooBig => b"TOOBIG",
        Code::CompressionActive => b"COMPRESSIONACTIVE",
        Code::NotSaved => b"NOTSAVED",
        Code::HasChildren => b"HASCHILDREN",
        Code::UnknownCte => b"UNKNOWN-CTE",
        Code::UseAttr => b"USEATTR",
        Code::NotificationOverflow => b"NOTIFICATIONOVERFLOW",
        Code::BadEvent(events) => {
            w.raw(b"BADEVENT ");
            w.paren_list(events, |w, e| w.atom(e));
            return;
        }
        Code::BadUrl(text) => {
            w.raw(b"BADURL ");
            w.raw(text);
            return;
        }
        Code::MailboxId(id) => {
            w.raw(b"MAILBOXID (");
            w.raw(id.as_bytes());
            w.byte(b')');
            return;
        }
        Code::MetadataLongEntries(n) => {
            w.raw(b"METADATA LONGENTRIES ");
            w.number(u64::from(*n));
            return;
        }
        Code::MetadataMaxSize(n) => {
            w.raw(b"METADATA MAXSIZE ");
            w.number(u64::from(*n));
            return;
        }
        Code::MetadataTooMany => b"METADATA TOOMANY",
        Code::MetadataNoPrivate => b"METADATA NOPRIVATE",
        Code::Referral(url) => {
            w.raw(b"REFERRAL ");
            w.raw(url);
            return;
        }
        Code::Other { name, text } => {
            w.atom(name);
            if let Some(t) = text {
                w.sp();
                w.raw(t);
            }
            return;
        }
        _ => b"ALERT",
    };
    w.raw(name);
}

/// A capability's wire atom, written without allocating.
fn capability(w: &mut Writer<'_>, c: &Capability) {
    if let Some(s) = c.static_name() {
        w.raw(s.as_bytes());
        return;
    }
    match c {
        Capability::Auth(m) => {
            w.raw(b"AUTH=");
            w.raw(m.as_bytes());
        }
        Capability::Compress(a) => {
            w.raw(b"COMPRESS=");
            w.atom(a);
        }
        Capability::Thread(a) => {
            w.raw(b"THREAD=");
            w.atom(a);
        }
        Capability::AppendLimit(None) => w.raw(b"APPENDLIMIT"),
        Capability::AppendLimit(Some(n)) => {
            w.raw(b"APPENDLIMIT=");
            w.number(*n);
        }
        Capability::Rights(a) => {
            w.raw(b"RIGHTS=");
            w.atom(a);
        }
        Capability::QuotaRes(a) => {
            w.raw(b"QUOTA=RES-");
            w.atom(a);
        }
        Capability::I18nLevel(n) => {
            w.raw(b"I18NLEVEL=");
            w.number(u64::from(*n));
        }
        Capability::Other(a) => w.atom(a),
        other => w.raw(&other.to_wire()),
    }
}

// ===== continuation requests =====

fn continuation(w: &mut Writer<'_>, c: &Continue) {
    w.raw(b"+ ");
    match c {
        Continue::Basic { code, text } => resp_text(w, code.as_ref(), text),
        Continue::Base64(data) => w.raw(encode_base64(data).as_bytes()),
        _ => {}
    }
    w.crlf();
}

// ===== untagged data =====

fn data(w: &mut Writer<'_>, d: &Data) {
    w.raw(b"* ");
    match d {
        Data::Capability(caps) => {
            w.raw(b"CAPABILITY");
            for c in caps {
                w.sp();
                capability(w, c);
            }
        }
        Data::Enabled(caps) => {
            w.raw(b"ENABLED");
            for c in caps {
                w.sp();
                capability(w, c);
            }
        }
        Data::List(l) => {
            w.raw(b"LIST ");
            list_data(w, l);
        }
        Data::Lsub(l) => {
            w.raw(b"LSUB ");
            list_data(w, l);
        }
        Data::Namespace {
            personal,
            other,
            shared,
        } => {
            w.raw(b"NAMESPACE");
            for ns in [personal, other, shared] {
                w.sp();
                namespace(w, ns);
            }
        }
        Data::Status { mailbox, items } => {
            w.raw(b"STATUS ");
            w.mailbox(mailbox);
            w.sp();
            w.paren_list(items, status_item);
        }
        Data::Search { numbers, mod_seq } => {
            w.raw(b"SEARCH");
            search_numbers(w, numbers, mod_seq.map(|m| m.get()));
        }
        Data::Sort { numbers, mod_seq } => {
            w.raw(b"SORT");
            search_numbers(w, numbers, mod_seq.map(|m| m.get()));
        }
        Data::ESearch(e) => {
            w.raw(b"ESEARCH");
            if let Some(tag) = &e.tag {
                w.raw(b" (TAG ");
                w.string(tag.as_bytes());
                w.byte(b')');
            }
            if e.uid {
                w.raw(b" UID");
            }
            for item in &e.items {
                w.sp();
                match item {
                    ESearchItem::Min(n) => {
                        w.raw(b"MIN ");
                        w.number(u64::from(*n));
                    }
                    ESearchItem::Max(n) => {
                        w.raw(b"MAX ");
                        w.number(u64::from(*n));
                    }
                    ESearchItem::All(set) => {
                        w.raw(b"ALL ");
                        w.sequence_set(set);
                    }
                    ESearchItem::Count(n) => {
                        w.raw(b"COUNT ");
                        w.number(u64::from(*n));
                    }
                    ESearchItem::ModSeq(m) => {
                        w.raw(b"MODSEQ ");
                        w.number(m.get());
                    }
                    ESearchItem::AddTo(updates) | ESearchItem::RemoveFrom(updates) => {
                        w.raw(if matches!(item, ESearchItem::AddTo(_)) {
                            b"ADDTO "
                        } else {
                            b"REMOVEFROM "
                        });
                        w.paren_list(updates, |w, u| {
                            w.number(u64::from(u.position));
                            w.sp();
                            w.sequence_set(&u.set);
                        });
                    }
                    ESearchItem::Partial { range, results } => {
                        w.raw(b"PARTIAL (");
                        w.partial_range(range);
                        w.sp();
                        match results {
                            Some(set) => w.sequence_set(set),
                            None => w.raw(b"NIL"),
                        }
                        w.byte(b')');
                    }
                    ESearchItem::Other { name, raw } => {
                        w.atom(name);
                        w.sp();
                        w.raw(raw);
                    }
                    _ => {}
                }
            }
        }
        Data::Thread(threads) => {
            w.raw(b"THREAD");
            if !threads.is_empty() {
                w.sp();
                for t in threads {
                    thread(w, t);
                }
            }
        }
        Data::Flags(flags) => {
            w.raw(b"FLAGS ");
            w.flag_list(flags);
        }
        Data::Exists(n) => {
            w.number(u64::from(*n));
            w.raw(b" EXISTS");
        }
        Data::Recent(n) => {
            w.number(u64::from(*n));
            w.raw(b" RECENT");
        }
        Data::Expunge(n) => {
            w.nz(n.0);
            w.raw(b" EXPUNGE");
        }
        Data::Vanished { earlier, uids } => {
            w.raw(b"VANISHED ");
            if *earlier {
                w.raw(b"(EARLIER) ");
            }
            w.sequence_set(uids);
        }
        Data::Fetch { seq, items } => {
            w.nz(seq.0);
            w.raw(b" FETCH ");
            w.paren_list(items, fetch_item);
        }
        Data::Id(params) => {
            w.raw(b"ID ");
            w.id_params(params);
        }
        Data::Quota { root, resources } => {
            w.raw(b"QUOTA ");
            w.astring(root.as_bytes());
            w.sp();
            w.paren_list(resources, |w, r| {
                w.atom(&r.name);
                w.sp();
                w.number(r.usage);
                w.sp();
                w.number(r.limit);
            });
        }
        Data::QuotaRoot { mailbox, roots } => {
            w.raw(b"QUOTAROOT ");
            w.mailbox(mailbox);
            for r in roots {
                w.sp();
                w.astring(r.as_bytes());
            }
        }
        Data::Metadata { mailbox, response } => {
            w.raw(b"METADATA ");
            w.mailbox(mailbox);
            match response {
                MetadataResponse::Values(values) => {
                    w.sp();
                    w.paren_list(values, |w, (entry, value)| {
                        w.astring(entry.as_bytes());
                        w.sp();
                        w.nstring(value.as_ref());
                    });
                }
                MetadataResponse::Changed(entries) => {
                    for e in entries {
                        w.sp();
                        w.astring(e.as_bytes());
                    }
                }
                _ => {}
            }
        }
        Data::GenUrlauth(urls) => {
            w.raw(b"GENURLAUTH");
            for u in urls {
                w.sp();
                w.astring(u.as_bytes());
            }
        }
        Data::UrlFetch(items) => {
            w.raw(b"URLFETCH");
            for d in items {
                w.sp();
                w.astring(d.url.as_bytes());
                w.sp();
                url_fetch_value(w, &d.value);
            }
        }
        Data::Other { name, raw } => {
            w.atom(name);
            if !raw.is_empty() {
                w.sp();
                w.raw(raw);
            }
        }
        _ => {}
    }
    w.crlf();
}

/// `mailbox-list`.
fn list_data(w: &mut Writer<'_>, l: &ListData) {
    w.paren_list(&l.attributes, |w, a| {
        w.byte(b'\\');
        w.raw(a.name());
    });
    w.sp();
    match l.delimiter {
        Some(d) => quoted_char(w, d),
        None => w.raw(b"NIL"),
    }
    w.sp();
    w.mailbox(&l.mailbox);
    if !l.extended.is_empty() {
        w.sp();
        w.paren_list(&l.extended, |w, item| match item {
            ListExtendedItem::ChildInfo(opts) => {
                w.raw(b"CHILDINFO ");
                w.paren_list(opts, |w, o| w.string(o.as_bytes()));
            }
            ListExtendedItem::OldName(m) => {
                w.raw(b"OLDNAME (");
                w.mailbox(m);
                w.byte(b')');
            }
            ListExtendedItem::Other { tag, raw } => {
                w.astring(tag.as_bytes());
                w.sp();
                w.raw(raw);
            }
            _ => {}
        });
    }
}

/// `DQUOTE QUOTED-CHAR DQUOTE`.
fn quoted_char(w: &mut Writer<'_>, c: u8) {
    w.byte(b'"');
    if c == b'"' || c == b'\\' {
        w.byte(b'\\');
    }
    w.byte(c);
    w.byte(b'"');
}

/// `namespace`: `NIL` when empty.
fn namespace(w: &mut Writer<'_>, ns: &[NamespaceDescription]) {
    if ns.is_empty() {
        w.raw(b"NIL");
        return;
    }
    w.byte(b'(');
    for d in ns {
        w.byte(b'(');
        w.string(d.prefix.as_bytes());
        w.sp();
        match d.delimiter {
            Some(c) => quoted_char(w, c),
            None => w.raw(b"NIL"),
        }
        for (name, values) in &d.extensions {
            w.sp();
            w.string(name.as_bytes());
            w.sp();
            w.paren_list(values, |w, v: &IString| w.string(v.as_bytes()));
        }
        w.byte(b')');
    }
    w.byte(b')');
}

/// `status-att-val`.
fn status_item(w: &mut Writer<'_>, item: &StatusItem) {
    let (name, value): (&[u8], u64) = match item {
        StatusItem::Messages(n) => (b"MESSAGES", u64::from(*n)),
        StatusItem::Recent(n) => (b"RECENT", u64::from(*n)),
        StatusItem::UidNext(n) => (b"UIDNEXT", u64::from(*n)),
        StatusItem::UidValidity(n) => (b"UIDVALIDITY", u64::from(*n)),
        StatusItem::Unseen(n) => (b"UNSEEN", u64::from(*n)),
        StatusItem::Deleted(n) => (b"DELETED", u64::from(*n)),
        StatusItem::Size(n) => (b"SIZE", *n),
        StatusItem::HighestModSeq(n) => (b"HIGHESTMODSEQ", *n),
        StatusItem::DeletedStorage(n) => (b"DELETED-STORAGE", *n),
        StatusItem::Other(name, n) => (name.as_bytes(), *n),
        StatusItem::AppendLimit(limit) => {
            w.raw(b"APPENDLIMIT ");
            match limit {
                Some(n) => w.number(*n),
                None => w.raw(b"NIL"),
            }
            return;
        }
        StatusItem::MailboxId(id) => {
            w.raw(b"MAILBOXID (");
            w.raw(id.as_bytes());
            w.byte(b')');
            return;
        }
        _ => return,
    };
    w.raw(name);
    w.sp();
    w.number(value);
}

/// `*(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]`.
fn search_numbers(w: &mut Writer<'_>, numbers: &[std::num::NonZeroU32], mod_seq: Option<u64>) {
    for n in numbers {
        w.sp();
        w.nz(*n);
    }
    if let Some(m) = mod_seq {
        w.raw(b" (MODSEQ ");
        w.number(m);
        w.byte(b')');
    }
}

/// `thread-list`.
fn thread(w: &mut Writer<'_>, t: &Thread) {
    w.byte(b'(');
    w.sp_separated(&t.ids, |w, n| w.nz(*n));
    if !t.children.is_empty() {
        if !t.ids.is_empty() {
            w.sp();
        }
        for c in &t.children {
            thread(w, c);
        }
    }
    w.byte(b')');
}

// ===== FETCH =====

/// One `msg-att` item.
fn fetch_item(w: &mut Writer<'_>, item: &FetchItem) {
    match item {
        FetchItem::Flags(flags) => {
            w.raw(b"FLAGS ");
            w.flag_list(flags);
        }
        FetchItem::Uid(uid) => {
            w.raw(b"UID ");
            w.nz(uid.0);
        }
        FetchItem::InternalDate(d) => {
            w.raw(b"INTERNALDATE ");
            w.date_time(d);
        }
        FetchItem::Rfc822Size(n) => {
            w.raw(b"RFC822.SIZE ");
            w.number(*n);
        }
        FetchItem::Envelope(e) => {
            w.raw(b"ENVELOPE ");
            match e.verbatim() {
                Some(raw) => w.raw(raw),
                None => envelope(w, e),
            }
        }
        FetchItem::Body(b) => {
            w.raw(b"BODY ");
            match b.verbatim() {
                Some(raw) => w.raw(raw),
                None => body(w, b),
            }
        }
        FetchItem::BodyStructure(b) => {
            w.raw(b"BODYSTRUCTURE ");
            match b.verbatim() {
                Some(raw) => w.raw(raw),
                None => body(w, b),
            }
        }
        FetchItem::BodySection {
            section,
            origin,
            data,
        } => {
            w.raw(b"BODY");
            w.section(section);
            write_origin(w, *origin);
            w.sp();
            w.nstring_data(data.as_ref());
        }
        FetchItem::Binary { part, origin, data } => {
            w.raw(b"BINARY");
            w.section_binary(part);
            write_origin(w, *origin);
            w.sp();
            match data {
                Some(l) => {
                    let binary = l.is_binary() || memchr::memchr(0, l.data()).is_some();
                    w.literal(l.data(), binary);
                }
                None => w.raw(b"NIL"),
            }
        }
        FetchItem::BinarySize { part, size } => {
            w.raw(b"BINARY.SIZE");
            w.section_binary(part);
            w.sp();
            w.number(*size);
        }
        FetchItem::Rfc822(s) => {
            w.raw(b"RFC822 ");
            w.nstring_data(s.as_ref());
        }
        FetchItem::Rfc822Header(s) => {
            w.raw(b"RFC822.HEADER ");
            w.nstring_data(s.as_ref());
        }
        FetchItem::Rfc822Text(s) => {
            w.raw(b"RFC822.TEXT ");
            w.nstring_data(s.as_ref());
        }
        FetchItem::ModSeq(m) => {
            w.raw(b"MODSEQ (");
            w.number(m.get());
            w.byte(b')');
        }
        FetchItem::EmailId(id) => {
            w.raw(b"EMAILID (");
            w.raw(id.as_bytes());
            w.byte(b')');
        }
        FetchItem::ThreadId(id) => match id {
            Some(id) => {
                w.raw(b"THREADID (");
                w.raw(id.as_bytes());
                w.byte(b')');
            }
            None => w.raw(b"THREADID NIL"),
        },
        FetchItem::SaveDate(d) => match d {
            Some(d) => {
                w.raw(b"SAVEDATE ");
                w.date_time(d);
            }
            None => w.raw(b"SAVEDATE NIL"),
        },
        FetchItem::Preview(s) => {
            w.raw(b"PREVIEW ");
            w.nstring(s.as_ref());
        }
        FetchItem::GmMsgId(n) => {
            w.raw(b"X-GM-MSGID ");
            w.number(*n);
        }
        FetchItem::GmThrId(n) => {
            w.raw(b"X-GM-THRID ");
            w.number(*n);
        }
        FetchItem::GmLabels(labels) => {
            w.raw(b"X-GM-LABELS ");
            w.paren_list(labels, |w, l| gm_label(w, l));
        }
        FetchItem::Other { name, raw } => {
            w.atom(name);
            w.sp();
            w.raw(raw);
        }
        _ => {}
    }
}

/// `"<" number ">"`.
fn write_origin(w: &mut Writer<'_>, origin: Option<u32>) {
    if let Some(o) = origin {
        w.byte(b'<');
        w.number(u64::from(o));
        w.byte(b'>');
    }
}

/// An X-GM-LABELS label: `\Name` system labels as they are, others as astrings.
fn gm_label(w: &mut Writer<'_>, l: &IString) {
    match l.as_bytes().split_first() {
        Some((b'\\', rest)) if Writer::is_atom(rest) => w.raw(l.as_bytes()),
        _ => w.astring(l.as_bytes()),
    }
}

/// Message data as a literal (literal8 when it holds NUL or was one), or NIL.
fn data_literal(w: &mut Writer<'_>, data: Option<&Literal>) {
    match data {
        Some(l) => {
            let binary = l.is_binary() || memchr::memchr(0, l.data()).is_some();
            w.literal(l.data(), binary);
        }
        None => w.raw(b"NIL"),
    }
}

/// The data of one URL of `* URLFETCH` (RFC 4467 §9, RFC 5524 §3.2).
fn url_fetch_value(w: &mut Writer<'_>, v: &UrlFetchValue) {
    match v {
        UrlFetchValue::Plain(d) => data_literal(w, d.as_ref()),
        UrlFetchValue::Extended(lists) => {
            for (i, list) in lists.iter().enumerate() {
                if i > 0 {
                    w.sp();
                }
                w.paren_list(list, |w, item| match item {
                    UrlFetchItem::BodyPartStructure(b) => {
                        w.raw(b"BODYPARTSTRUCTURE ");
                        body(w, b);
                    }
                    UrlFetchItem::Binary(d) => {
                        w.raw(b"BINARY ");
                        data_literal(w, d.as_ref());
                    }
                    UrlFetchItem::Body(d) => {
                        w.raw(b"BODY ");
                        data_literal(w, d.as_ref());
                    }
                    _ => {}
                });
            }
        }
        _ => w.raw(b"NIL"),
    }
}
