//! Command encoding (RFC 9051 §6 and §9, RFC 3501 §6, and the extensions'
//! commands), canonical: upper-case keywords, single spaces, CRLF. Strings take
//! the cheapest form the grammar allows, literals follow the literal policy
//! (see [`Writer::literal`]).

use imap_proto::{
    encode_base64, AString, AppendContent, AuthenticateData, CatenatePart, Command, CommandBody,
    Compression, FetchAttribute, FetchItems, FetchMacro, FetchModifier, GetMetadataOption,
    ListReturn, ListSelect, Mailbox, MailboxAttribute, MetadataDepth, NotifyEvent, NotifyFilter,
    NotifyGroup, NotifySet, SearchReturn, SelectParam, StoreKind, StoreModifier, StoreTarget,
    ThreadAlgorithm, UrlFetchParam,
};

use super::search_key::search_keys;
use super::Writer;
use crate::framing::{find_literal, LiteralMode};

/// Encode a command: `tag SP command CRLF` (RFC 9051 §9 `command`).
pub(crate) fn command(w: &mut Writer<'_>, c: &Command) {
    w.raw(c.tag.as_bytes());
    w.sp();
    body(w, &c.body);
    w.crlf();
}

/// Encode an AUTHENTICATE continuation line (RFC 9051 §6.2.2): base64 data or
/// `*`, then CRLF.
pub(crate) fn authenticate_data(w: &mut Writer<'_>, d: &AuthenticateData) {
    match d {
        AuthenticateData::Continue(data) => w.raw(encode_base64(data.expose()).as_bytes()),
        _ => w.byte(b'*'),
    }
    w.crlf();
}

/// `"UID "` when `uid`.
fn uid_prefix(w: &mut Writer<'_>, uid: bool) {
    if uid {
        w.raw(b"UID ");
    }
}

/// A keyword followed by a space and a mailbox.
fn keyword_mailbox(w: &mut Writer<'_>, keyword: &[u8], m: &Mailbox) {
    w.raw(keyword);
    w.sp();
    w.mailbox(m);
}

/// The command name and its arguments, without tag and CRLF.
fn body(w: &mut Writer<'_>, b: &CommandBody) {
    use CommandBody as C;
    match b {
        C::Capability => w.raw(b"CAPABILITY"),
        C::Noop => w.raw(b"NOOP"),
        C::Logout => w.raw(b"LOGOUT"),
        C::Id(params) => {
            w.raw(b"ID ");
            w.id_params(params);
        }
        C::StartTls => w.raw(b"STARTTLS"),
        C::Authenticate {
            mechanism,
            initial_response,
        } => {
            w.raw(b"AUTHENTICATE ");
            w.raw(mechanism.as_bytes());
            if let Some(ir) = initial_response {
                w.sp();
                if ir.expose().is_empty() {
                    w.byte(b'=');
                } else {
                    w.raw(encode_base64(ir.expose()).as_bytes());
                }
            }
        }
        C::Login { username, password } => {
            w.raw(b"LOGIN ");
            w.astring(username.as_bytes());
            w.sp();
            w.astring(password.expose().as_bytes());
        }
        C::Enable(caps) => {
            w.raw(b"ENABLE");
            for c in caps {
                w.sp();
                w.raw(&c.to_wire());
            }
        }
        C::Select { mailbox, params } => {
            keyword_mailbox(w, b"SELECT", mailbox);
            select_params(w, params);
        }
        C::Examine { mailbox, params } => {
            keyword_mailbox(w, b"EXAMINE", mailbox);
            select_params(w, params);
        }
        C::Create {
            mailbox,
            special_use,
        } => {
            keyword_mailbox(w, b"CREATE", mailbox);
            if !special_use.is_empty() {
                w.raw(b" (USE ");
                w.paren_list(special_use, mailbox_attribute);
                w.byte(b')');
            }
        }
        C::Delete(m) => keyword_mailbox(w, b"DELETE", m),
        C::Rename { from, to } => {
            keyword_mailbox(w, b"RENAME", from);
            w.sp();
            w.mailbox(to);
        }
        C::Subscribe(m) => keyword_mailbox(w, b"SUBSCRIBE", m),
        C::Unsubscribe(m) => keyword_mailbox(w, b"UNSUBSCRIBE", m),
        C::List {
            selection,
            reference,
            patterns,
            return_options,
        } => {
            w.raw(b"LIST ");
            if !selection.is_empty() {
                w.paren_list(selection, list_select);
                w.sp();
            }
            w.mailbox(reference);
            w.sp();
            match patterns.as_slice() {
                [one] => w.list_mailbox(one),
                many => w.paren_list(many, |w, m| w.list_mailbox(m)),
            }
            if let Some(r) = return_options {
                w.raw(b" RETURN ");
                w.paren_list(r, list_return);
            }
        }
        C::Lsub { reference, pattern } => {
            keyword_mailbox(w, b"LSUB", reference);
            w.sp();
            w.list_mailbox(pattern);
        }
        C::Namespace => w.raw(b"NAMESPACE"),
        C::Status {
            mailbox,
            attributes,
        } => {
            keyword_mailbox(w, b"STATUS", mailbox);
            w.sp();
            w.paren_list(attributes, |w, a| w.raw(a.name().as_bytes()));
        }
        C::Append { mailbox, messages } => {
            keyword_mailbox(w, b"APPEND", mailbox);
            for m in messages {
                w.sp();
                if !m.flags.is_empty() {
                    w.flag_list(&m.flags);
                    w.sp();
                }
                if let Some(d) = &m.date {
                    w.date_time(d);
                    w.sp();
                }
                if m.utf8 {
                    w.raw(b"UTF8 (");
                    w.literal_value(&m.data);
                    w.byte(b')');
                } else {
                    w.literal_value(&m.data);
                }
            }
        }
        C::AppendCatenate { mailbox, messages } => {
            keyword_mailbox(w, b"APPEND", mailbox);
            for m in messages {
                w.sp();
                if !m.flags.is_empty() {
                    w.flag_list(&m.flags);
                    w.sp();
                }
                if let Some(d) = &m.date {
                    w.date_time(d);
                    w.sp();
                }
                append_content(w, &m.content);
            }
        }
        C::Idle => w.raw(b"IDLE"),
        C::Unauthenticate => w.raw(b"UNAUTHENTICATE"),
        C::GetQuota(root) => {
            w.raw(b"GETQUOTA ");
            w.astring(root.as_bytes());
        }
        C::GetQuotaRoot(m) => keyword_mailbox(w, b"GETQUOTAROOT", m),
        C::SetQuota { root, limits } => {
            w.raw(b"SETQUOTA ");
            w.astring(root.as_bytes());
            w.sp();
            w.paren_list(limits, |w, l| {
                w.atom(&l.name);
                w.sp();
                w.number(l.limit);
            });
        }
        C::Compress(c) => {
            w.raw(b"COMPRESS ");
            match c {
                Compression::Other(a) => w.atom(a),
                _ => w.raw(b"DEFLATE"),
            }
        }
        C::GetMetadata {
            options,
            mailbox,
            entries,
        } => {
            w.raw(b"GETMETADATA ");
            if !options.is_empty() {
                w.paren_list(options, metadata_option);
                w.sp();
            }
            w.mailbox(mailbox);
            w.sp();
            match entries.as_slice() {
                [one] => w.astring(one.as_bytes()),
                many => w.paren_list(many, |w, e| w.astring(e.as_bytes())),
            }
        }
        C::SetMetadata { mailbox, entries } => {
            keyword_mailbox(w, b"SETMETADATA", mailbox);
            w.sp();
            w.paren_list(entries, |w, (e, v)| {
                w.astring(e.as_bytes());
                w.sp();
                w.nstring(v.as_ref());
            });
        }
        C::Notify(n) => notify(w, n),
        C::GenUrlauth(items) => {
            w.raw(b"GENURLAUTH");
            for i in items {
                w.sp();
                w.astring(i.url.as_bytes());
                w.sp();
                w.atom(&i.mechanism);
            }
        }
        C::ResetKey {
            mailbox,
            mechanisms,
        } => {
            w.raw(b"RESETKEY");
            if let Some(m) = mailbox {
                w.sp();
                w.mailbox(m);
                for mech in mechanisms {
                    w.sp();
                    w.atom(mech);
                }
            }
        }
        C::UrlFetch(args) => {
            w.raw(b"URLFETCH");
            for a in args {
                w.sp();
                match &a.params {
                    None => w.astring(a.url.as_bytes()),
                    Some(params) => {
                        w.raw(b"(");
                        w.astring(a.url.as_bytes());
                        for p in params {
                            w.sp();
                            w.raw(url_fetch_param(*p));
                        }
                        w.raw(b")");
                    }
                }
            }
        }
        C::Check => w.raw(b"CHECK"),
        C::Close => w.raw(b"CLOSE"),
        C::Unselect => w.raw(b"UNSELECT"),
        C::CancelUpdate(tags) => {
            w.raw(b"CANCELUPDATE");
            for t in tags {
                w.sp();
                w.string(t.as_bytes());
            }
        }
        C::Expunge => w.raw(b"EXPUNGE"),
        C::UidExpunge(set) => {
            w.raw(b"UID EXPUNGE ");
            w.sequence_set(set);
        }
        C::Search {
            uid,
            return_options,
            charset,
            criteria,
        } => {
            uid_prefix(w, *uid);
            w.raw(b"SEARCH");
            search_return(w, return_options.as_deref());
            if let Some(c) = charset {
                w.raw(b" CHARSET ");
                w.astring(c.as_bytes());
            }
            w.sp();
            search_keys(w, criteria);
        }
        C::Fetch {
            uid,
            set,
            items,
            modifiers,
        } => {
            uid_prefix(w, *uid);
            w.raw(b"FETCH ");
            w.sequence_set(set);
            w.sp();
            fetch_items(w, items);
            if !modifiers.is_empty() {
                w.sp();
                w.paren_list(modifiers, fetch_modifier);
            }
        }
        C::Store {
            uid,
            set,
            modifiers,
            kind,
            silent,
            target,
        } => {
            uid_prefix(w, *uid);
            w.raw(b"STORE ");
            w.sequence_set(set);
            w.sp();
            if !modifiers.is_empty() {
                w.paren_list(modifiers, |w, m| {
                    if let StoreModifier::UnchangedSince(n) = m {
                        w.raw(b"UNCHANGEDSINCE ");
                        w.number(*n);
                    }
                });
                w.sp();
            }
            match kind {
                StoreKind::Add => w.byte(b'+'),
                StoreKind::Remove => w.byte(b'-'),
                _ => {}
            }
            match target {
                StoreTarget::GmLabels(_) => w.raw(b"X-GM-LABELS"),
                _ => w.raw(b"FLAGS"),
            }
            if *silent {
                w.raw(b".SILENT");
            }
            w.sp();
            match target {
                StoreTarget::Flags(f) => w.flag_list(f),
                StoreTarget::GmLabels(l) => w.paren_list(l, gm_label),
                _ => w.raw(b"()"),
            }
        }
        C::Copy { uid, set, mailbox } => {
            uid_prefix(w, *uid);
            w.raw(b"COPY ");
            w.sequence_set(set);
            w.sp();
            w.mailbox(mailbox);
        }
        C::Move { uid, set, mailbox } => {
            uid_prefix(w, *uid);
            w.raw(b"MOVE ");
            w.sequence_set(set);
            w.sp();
            w.mailbox(mailbox);
        }
        C::Sort {
            uid,
            return_options,
            criteria,
            charset,
            search,
        } => {
            uid_prefix(w, *uid);
            w.raw(b"SORT");
            search_return(w, return_options.as_deref());
            w.sp();
            w.paren_list(criteria, |w, c| {
                if c.reverse {
                    w.raw(b"REVERSE ");
                }
                w.raw(c.key.name().as_bytes());
            });
            w.sp();
            w.astring(charset.as_bytes());
            w.sp();
            search_keys(w, search);
        }
        C::Thread {
            uid,
            algorithm,
            charset,
            search,
        } => {
            uid_prefix(w, *uid);
            w.raw(b"THREAD ");
            match algorithm {
                ThreadAlgorithm::OrderedSubject => w.raw(b"ORDEREDSUBJECT"),
                ThreadAlgorithm::References => w.raw(b"REFERENCES"),
                ThreadAlgorithm::Refs => w.raw(b"REFS"),
                ThreadAlgorithm::Other(a) => w.atom(a),
                _ => w.raw(b"REFERENCES"),
            }
            w.sp();
            w.astring(charset.as_bytes());
            w.sp();
            search_keys(w, search);
        }
        C::Other { name, raw } => {
            w.atom(name);
            if !raw.is_empty() {
                w.sp();
                other_raw(w, raw);
            }
        }
        // A command added to the model after this encoder: its name at least.
        other => w.raw(other.name().as_bytes()),
    }
}

/// The raw arguments of an unknown command, as they are. Synchronising
/// literals announced inside them are recorded like the encoder's own, so that
/// [`crate::encode_command_fragments`] splits there.
fn other_raw(w: &mut Writer<'_>, raw: &[u8]) {
    let base = w.len();
    w.raw(raw);
    let Some(splits) = w.splits.as_deref_mut() else {
        return;
    };
    let mut pos = 0;
    while let Some(i) = raw.get(pos..).and_then(|r| memchr::memchr(b'\n', r)) {
        let lf = pos + i;
        let line = raw.get(pos..lf).unwrap_or_default();
        pos = lf + 1;
        if let Some(Ok(a)) = find_literal(line, false) {
            let Some(end) = usize::try_from(a.len)
                .ok()
                .and_then(|n| pos.checked_add(n))
                .filter(|&e| e <= raw.len())
            else {
                return;
            };
            if a.mode == LiteralMode::Sync && end > pos {
                splits.push((base + pos, end - pos));
            }
            pos = end;
        }
    }
}

/// `[SP "(" select-param *(SP select-param) ")"]` (RFC 4466, RFC 7162).
fn select_params(w: &mut Writer<'_>, params: &[SelectParam]) {
    if params.is_empty() {
        return;
    }
    w.sp();
    w.paren_list(params, |w, p| match p {
        SelectParam::QResync(q) => {
            w.raw(b"QRESYNC (");
            w.nz(q.uid_validity);
            w.sp();
            w.number(q.mod_seq.get());
            if let Some(k) = &q.known_uids {
                w.sp();
                w.sequence_set(k);
            }
            if let Some((seqs, uids)) = &q.seq_match {
                w.raw(b" (");
                w.sequence_set(seqs);
                w.sp();
                w.sequence_set(uids);
                w.byte(b')');
            }
            w.byte(b')');
        }
        _ => w.raw(b"CONDSTORE"),
    });
}

/// `"\" name`.
fn mailbox_attribute(w: &mut Writer<'_>, a: &MailboxAttribute) {
    w.byte(b'\\');
    w.raw(a.name());
}

/// `list-select-opt`.
fn list_select(w: &mut Writer<'_>, s: &ListSelect) {
    match s {
        ListSelect::Subscribed => w.raw(b"SUBSCRIBED"),
        ListSelect::Remote => w.raw(b"REMOTE"),
        ListSelect::RecursiveMatch => w.raw(b"RECURSIVEMATCH"),
        ListSelect::SpecialUse => w.raw(b"SPECIAL-USE"),
        ListSelect::Other(a) => w.atom(a),
        _ => w.raw(b"SUBSCRIBED"),
    }
}

/// `return-option`.
fn list_return(w: &mut Writer<'_>, r: &ListReturn) {
    match r {
        ListReturn::Subscribed => w.raw(b"SUBSCRIBED"),
        ListReturn::Children => w.raw(b"CHILDREN"),
        ListReturn::SpecialUse => w.raw(b"SPECIAL-USE"),
        ListReturn::MyRights => w.raw(b"MYRIGHTS"),
        ListReturn::Status(atts) => {
            w.raw(b"STATUS ");
            w.paren_list(atts, |w, a| w.raw(a.name().as_bytes()));
        }
        ListReturn::Other(a) => w.atom(a),
        _ => w.raw(b"CHILDREN"),
    }
}

/// `MAXSIZE n` / `DEPTH 0|1|infinity`.
/// `url-fetch-param` (RFC 5524 §5).
pub(crate) fn url_fetch_param(p: UrlFetchParam) -> &'static [u8] {
    match p {
        UrlFetchParam::BodyPartStructure => b"BODYPARTSTRUCTURE",
        UrlFetchParam::Binary => b"BINARY",
        _ => b"BODY",
    }
}

fn metadata_option(w: &mut Writer<'_>, o: &GetMetadataOption) {
    match o {
        GetMetadataOption::MaxSize(n) => {
            w.raw(b"MAXSIZE ");
            w.number(u64::from(*n));
        }
        GetMetadataOption::Depth(d) => w.raw(match d {
            MetadataDepth::Zero => b"DEPTH 0",
            MetadataDepth::One => b"DEPTH 1",
            _ => b"DEPTH infinity",
        }),
        _ => w.raw(b"DEPTH 0"),
    }
}

/// `NOTIFY NONE` / `NOTIFY SET [STATUS] event-group …` (RFC 5465 §8).
/// `append-data` (RFC 4469 §5): a literal, `UTF8 (literal8)` or `CATENATE
/// (cat-part …)`.
fn append_content(w: &mut Writer<'_>, c: &AppendContent) {
    match c {
        AppendContent::Literal { data, utf8: true } => {
            w.raw(b"UTF8 (");
            w.literal_value(data);
            w.byte(b')');
        }
        AppendContent::Literal { data, utf8: false } => w.literal_value(data),
        AppendContent::Catenate(parts) => {
            w.raw(b"CATENATE ");
            w.paren_list(parts, |w, part| match part {
                CatenatePart::Text(l) => {
                    w.raw(b"TEXT ");
                    w.literal_value(l);
                }
                CatenatePart::Url(u) => {
                    w.raw(b"URL ");
                    w.astring(u.as_bytes());
                }
                // No other part exists today.
                _ => w.raw(b"URL \"\""),
            });
        }
        // No other content exists today: an empty literal keeps the syntax.
        _ => w.raw(b"{0}\r\n"),
    }
}

fn notify(w: &mut Writer<'_>, n: &NotifySet) {
    match n {
        NotifySet::Set { status, groups } => {
            w.raw(b"NOTIFY SET");
            if *status {
                w.raw(b" STATUS");
            }
            for g in groups {
                w.sp();
                notify_group(w, g);
            }
        }
        _ => w.raw(b"NOTIFY NONE"),
    }
}

/// `"(" filter-mailboxes SP events ")"`.
fn notify_group(w: &mut Writer<'_>, g: &NotifyGroup) {
    w.byte(b'(');
    match &g.filter {
        NotifyFilter::Selected => w.raw(b"SELECTED"),
        NotifyFilter::SelectedDelayed => w.raw(b"SELECTED-DELAYED"),
        NotifyFilter::Inboxes => w.raw(b"INBOXES"),
        NotifyFilter::Personal => w.raw(b"PERSONAL"),
        NotifyFilter::Subscribed => w.raw(b"SUBSCRIBED"),
        NotifyFilter::Subtree(m) => {
            w.raw(b"SUBTREE ");
            one_or_more_mailbox(w, m);
        }
        NotifyFilter::Mailboxes(m) => {
            w.raw(b"MAILBOXES ");
            one_or_more_mailbox(w, m);
        }
        _ => w.raw(b"SELECTED"),
    }
    w.sp();
    if g.events.is_empty() {
        w.raw(b"NONE");
    } else {
        w.paren_list(&g.events, notify_event);
    }
    w.byte(b')');
}

/// One mailbox bare, several in parentheses.
fn one_or_more_mailbox(w: &mut Writer<'_>, m: &[Mailbox]) {
    match m {
        [one] => w.mailbox(one),
        many => w.paren_list(many, |w, m| w.mailbox(m)),
    }
}

/// A NOTIFY event.
fn notify_event(w: &mut Writer<'_>, e: &NotifyEvent) {
    match e {
        NotifyEvent::MessageNew(atts) => {
            w.raw(b"MessageNew");
            if !atts.is_empty() {
                w.sp();
                w.paren_list(atts, fetch_att);
            }
        }
        NotifyEvent::MessageExpunge => w.raw(b"MessageExpunge"),
        NotifyEvent::FlagChange => w.raw(b"FlagChange"),
        NotifyEvent::AnnotationChange => w.raw(b"AnnotationChange"),
        NotifyEvent::MailboxName => w.raw(b"MailboxName"),
        NotifyEvent::SubscriptionChange => w.raw(b"SubscriptionChange"),
        NotifyEvent::MailboxMetadataChange => w.raw(b"MailboxMetadataChange"),
        NotifyEvent::ServerMetadataChange => w.raw(b"ServerMetadataChange"),
        NotifyEvent::Other(a) => w.atom(a),
        _ => w.raw(b"MessageExpunge"),
    }
}

/// `[SP "RETURN" SP "(" [opts] ")"]` (RFC 4731, RFC 5267).
fn search_return(w: &mut Writer<'_>, r: Option<&[SearchReturn]>) {
    let Some(r) = r else {
        return;
    };
    w.raw(b" RETURN ");
    w.paren_list(r, |w, o| match o {
        SearchReturn::Min => w.raw(b"MIN"),
        SearchReturn::Max => w.raw(b"MAX"),
        SearchReturn::Count => w.raw(b"COUNT"),
        SearchReturn::Save => w.raw(b"SAVE"),
        SearchReturn::Update => w.raw(b"UPDATE"),
        SearchReturn::Context => w.raw(b"CONTEXT"),
        SearchReturn::Partial(r) => {
            w.raw(b"PARTIAL ");
            w.partial_range(r);
        }
        _ => w.raw(b"ALL"),
    });
}

/// A macro, one attribute bare, or several in parentheses.
fn fetch_items(w: &mut Writer<'_>, items: &FetchItems) {
    match items {
        FetchItems::Macro(m) => w.raw(match m {
            FetchMacro::All => b"ALL",
            FetchMacro::Fast => b"FAST",
            _ => b"FULL",
        }),
        FetchItems::Attributes(atts) => match atts.as_slice() {
            [one] => fetch_att(w, one),
            many => w.paren_list(many, fetch_att),
        },
        _ => w.raw(b"FAST"),
    }
}

/// `fetch-att` (RFC 9051 §9 and extensions).
pub(crate) fn fetch_att(w: &mut Writer<'_>, a: &FetchAttribute) {
    use FetchAttribute as A;
    match a {
        A::Envelope => w.raw(b"ENVELOPE"),
        A::Flags => w.raw(b"FLAGS"),
        A::InternalDate => w.raw(b"INTERNALDATE"),
        A::Rfc822 => w.raw(b"RFC822"),
        A::Rfc822Header => w.raw(b"RFC822.HEADER"),
        A::Rfc822Size => w.raw(b"RFC822.SIZE"),
        A::Rfc822Text => w.raw(b"RFC822.TEXT"),
        A::Body => w.raw(b"BODY"),
        A::BodyStructure => w.raw(b"BODYSTRUCTURE"),
        A::Uid => w.raw(b"UID"),
        A::BodySection {
            peek,
            section,
            partial,
        } => {
            w.raw(if *peek { b"BODY.PEEK" } else { b"BODY" });
            w.section(section);
            if let Some(p) = partial {
                w.partial(p);
            }
        }
        A::Binary {
            peek,
            part,
            partial,
        } => {
            w.raw(if *peek { b"BINARY.PEEK" } else { b"BINARY" });
            w.section_binary(part);
            if let Some(p) = partial {
                w.partial(p);
            }
        }
        A::BinarySize { part } => {
            w.raw(b"BINARY.SIZE");
            w.section_binary(part);
        }
        A::ModSeq => w.raw(b"MODSEQ"),
        A::EmailId => w.raw(b"EMAILID"),
        A::ThreadId => w.raw(b"THREADID"),
        A::SaveDate => w.raw(b"SAVEDATE"),
        A::Preview { lazy } => w.raw(if *lazy { b"PREVIEW (LAZY)" } else { b"PREVIEW" }),
        A::GmMsgId => w.raw(b"X-GM-MSGID"),
        A::GmThrId => w.raw(b"X-GM-THRID"),
        A::GmLabels => w.raw(b"X-GM-LABELS"),
        _ => w.raw(b"UID"),
    }
}

/// `CHANGEDSINCE n` / `VANISHED`.
fn fetch_modifier(w: &mut Writer<'_>, m: &FetchModifier) {
    match m {
        FetchModifier::ChangedSince(n) => {
            w.raw(b"CHANGEDSINCE ");
            w.number(n.get());
        }
        _ => w.raw(b"VANISHED"),
    }
}

/// A Gmail label: `\Name` system labels bare, others as astrings.
pub(crate) fn gm_label(w: &mut Writer<'_>, l: &AString) {
    match l.as_bytes().split_first() {
        Some((b'\\', name)) if Writer::is_atom(name) => w.raw(l.as_bytes()),
        _ => w.astring(l.as_bytes()),
    }
}
