//! Command grammar (client → server): RFC 9051 §6 and §9 (`command`), the
//! IMAP4rev1 commands of RFC 3501 §6, and the extensions' commands.
//!
//! Commands are recognised by their name (read once with
//! [`Parser::atom_span`] and compared case-insensitively), never by trying one
//! alternative after another. A name the grammar does not know becomes
//! [`CommandBody::Other`] with its raw arguments; a known name with bad
//! arguments is an error.

use bytes::Bytes;
use imap_proto::{
    decode_base64, AString, AppendContent, AppendMessage, Atom, AuthMechanism, AuthenticateData,
    Capability, CatenateMessage, CatenatePart, Command, CommandBody, Compression, FetchAttribute,
    FetchItems, FetchMacro, FetchModifier, GenUrlauthItem, GetMetadataOption, IString, ListReturn,
    ListSelect, Mailbox, MailboxAttribute, MetadataDepth, ModSeq, NString, NotifyEvent,
    NotifyFilter, NotifyGroup, NotifySet, ObjectId, PartialRange, QResyncParam, QuotaLimit,
    SearchReturn, Secret, SelectParam, SequenceSet, SortCriterion, SortKey, StatusAttribute,
    StoreKind, StoreModifier, StoreTarget, Tag, ThreadAlgorithm, UrlFetchArg, UrlFetchParam,
};

use super::search_key::search_keys;
use super::{PResult, Parser};

/// ASCII case-insensitive equality of a name and a keyword.
#[inline]
pub(crate) fn eq(name: &[u8], keyword: &[u8]) -> bool {
    name.eq_ignore_ascii_case(keyword)
}

/// The first byte of a name, upper-cased (0 for an empty name).
#[inline]
pub(crate) fn first_upper(name: &[u8]) -> u8 {
    name.first().map_or(0, u8::to_ascii_uppercase)
}

/// Whether another space-separated element follows: a space that neither ends
/// the line (trailing-space quirk) nor closes a list (`x )`). Nothing is consumed.
pub(crate) fn more(p: &Parser<'_>) -> bool {
    if !p.at_sp() || p.at_eol() {
        return false;
    }
    p.rest().iter().find(|&&b| b != b' ') != Some(&b')')
}

/// Report an error at `pos` (the start of the offending token).
fn err_at<T>(p: &mut Parser<'_>, pos: usize, expected: &'static str) -> PResult<T> {
    p.pos = pos;
    p.err(expected)
}

/// `command = tag SP (command-any / command-auth / command-nonauth /
/// command-select) CRLF` (RFC 9051 §9): a whole tagged command through CRLF,
/// which must be the end of the message.
pub(crate) fn command(p: &mut Parser<'_>) -> PResult<Command> {
    let tag = p.tag()?;
    p.sp()?;
    let body = command_body(p)?;
    p.eol()?;
    Ok(Command { tag, body })
}

/// The command name and its arguments, up to (not including) CRLF.
fn command_body(p: &mut Parser<'_>) -> PResult<CommandBody> {
    use CommandBody as C;
    let start = p.pos;
    let name = p.atom_span();
    if name.is_empty() {
        return p.err("command name");
    }
    Ok(match (name.len(), first_upper(name)) {
        (2, b'I') if eq(name, b"ID") => id(p)?,
        (3, b'U') if eq(name, b"UID") => uid(p)?,
        (4, b'C') if eq(name, b"COPY") => copy_move(p, false, false)?,
        (4, b'I') if eq(name, b"IDLE") => C::Idle,
        (4, b'L') if eq(name, b"LIST") => list(p)?,
        (4, b'L') if eq(name, b"LSUB") => lsub(p)?,
        (4, b'M') if eq(name, b"MOVE") => copy_move(p, false, true)?,
        (4, b'N') if eq(name, b"NOOP") => C::Noop,
        (4, b'S') if eq(name, b"SORT") => sort(p, false)?,
        (5, b'C') if eq(name, b"CHECK") => C::Check,
        (5, b'C') if eq(name, b"CLOSE") => C::Close,
        (5, b'F') if eq(name, b"FETCH") => fetch(p, false)?,
        (5, b'L') if eq(name, b"LOGIN") => login(p)?,
        (5, b'S') if eq(name, b"STORE") => store(p, false)?,
        (6, b'A') if eq(name, b"APPEND") => append(p)?,
        (6, b'C') if eq(name, b"CREATE") => create(p)?,
        (6, b'D') if eq(name, b"DELETE") => C::Delete(sp_mailbox(p)?),
        (6, b'E') if eq(name, b"ENABLE") => enable(p)?,
        (6, b'L') if eq(name, b"LOGOUT") => C::Logout,
        (6, b'N') if eq(name, b"NOTIFY") => C::Notify(notify(p)?),
        (6, b'R') if eq(name, b"RENAME") => rename(p)?,
        (6, b'S') if eq(name, b"SEARCH") => search(p, false)?,
        (6, b'S') if eq(name, b"SELECT") => {
            let (mailbox, params) = select(p)?;
            C::Select { mailbox, params }
        }
        (6, b'S') if eq(name, b"STATUS") => status(p)?,
        (6, b'T') if eq(name, b"THREAD") => thread(p, false)?,
        (7, b'E') if eq(name, b"EXAMINE") => {
            let (mailbox, params) = select(p)?;
            C::Examine { mailbox, params }
        }
        (7, b'E') if eq(name, b"EXPUNGE") => C::Expunge,
        (8, b'C') if eq(name, b"COMPRESS") => compress(p)?,
        (8, b'R') if eq(name, b"RESETKEY") => reset_key(p)?,
        (8, b'U') if eq(name, b"URLFETCH") => C::UrlFetch(url_fetch(p)?),
        (8, b'G') if eq(name, b"GETQUOTA") => {
            p.sp()?;
            C::GetQuota(p.astring()?)
        }
        (8, b'S') if eq(name, b"SETQUOTA") => set_quota(p)?,
        (8, b'S') if eq(name, b"STARTTLS") => C::StartTls,
        (8, b'U') if eq(name, b"UNSELECT") => C::Unselect,
        (9, b'N') if eq(name, b"NAMESPACE") => C::Namespace,
        (9, b'S') if eq(name, b"SUBSCRIBE") => C::Subscribe(sp_mailbox(p)?),
        (10, b'C') if eq(name, b"CAPABILITY") => C::Capability,
        (10, b'G') if eq(name, b"GENURLAUTH") => C::GenUrlauth(gen_urlauth(p)?),
        (11, b'G') if eq(name, b"GETMETADATA") => get_metadata(p)?,
        (11, b'S') if eq(name, b"SETMETADATA") => set_metadata(p)?,
        (11, b'U') if eq(name, b"UNSUBSCRIBE") => C::Unsubscribe(sp_mailbox(p)?),
        (12, b'A') if eq(name, b"AUTHENTICATE") => authenticate(p)?,
        (12, b'C') if eq(name, b"CANCELUPDATE") => cancel_update(p)?,
        (12, b'G') if eq(name, b"GETQUOTAROOT") => C::GetQuotaRoot(sp_mailbox(p)?),
        (14, b'U') if eq(name, b"UNAUTHENTICATE") => C::Unauthenticate,
        _ => other(p, start)?,
    })
}

/// A command the grammar does not know: its name, and the raw bytes after the
/// name and one space up to (not including) the final CRLF.
fn other(p: &mut Parser<'_>, start: usize) -> PResult<CommandBody> {
    let name = Atom::from_validated(p.slice(start, p.pos));
    let rest = p.rest();
    let end = p.pos + rest.len()
        - if rest.ends_with(b"\r\n") {
            2
        } else {
            usize::from(rest.ends_with(b"\n"))
        };
    let raw = if p.pos >= end {
        Bytes::new()
    } else {
        p.expect(b' ', "SP")?;
        let raw = p.slice(p.pos, end);
        p.pos = end;
        raw
    };
    Ok(CommandBody::Other { name, raw })
}

/// `SP mailbox`.
fn sp_mailbox(p: &mut Parser<'_>) -> PResult<Mailbox> {
    p.sp()?;
    p.mailbox()
}

/// A mod-sequence value (RFC 7162 §7 `mod-sequence-value`): 1 to 2^63-1.
fn mod_seq(p: &mut Parser<'_>) -> PResult<ModSeq> {
    let start = p.pos;
    let n = p.number64()?;
    match ModSeq::new(n) {
        Some(m) => Ok(m),
        None => err_at(p, start, "mod-sequence ≥ 1"),
    }
}

// ===== any state (RFC 9051 §6.1) =====

/// `id = "ID" SP id-params-list` (RFC 2971 §4): `NIL` or
/// `"(" string SP nstring *(SP string SP nstring) ")"`; NIL is an empty list.
fn id(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    if p.eat_keyword(b"NIL") {
        return Ok(CommandBody::Id(Vec::new()));
    }
    let params = p.paren_list(false, |p| {
        let key = p.string()?;
        p.sp()?;
        let value = p.nstring()?;
        Ok((key, value))
    })?;
    Ok(CommandBody::Id(params))
}

// ===== not authenticated (RFC 9051 §6.2) =====

/// `authenticate = "AUTHENTICATE" SP auth-type [SP (base64 / "=")]`
/// (RFC 9051 §6.2.2, SASL-IR RFC 4959 §3): `=` is an empty initial response.
fn authenticate(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let mechanism = AuthMechanism::from_atom(p.atom()?);
    let initial_response = if more(p) {
        p.sp()?;
        Some(Secret::new(base64(p, false)?))
    } else {
        None
    };
    Ok(CommandBody::Authenticate {
        mechanism,
        initial_response,
    })
}

/// Base64 data (`base64` of RFC 9051 §9), decoded. With `allow_empty`, no data
/// at all is empty data; a lone `=` is always empty data.
fn base64(p: &mut Parser<'_>, allow_empty: bool) -> PResult<Bytes> {
    let rest = p.rest();
    let n = rest
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='))
        .unwrap_or(rest.len());
    let (span, _) = rest.split_at(n);
    if span.is_empty() && !allow_empty {
        return p.err("base64 or =");
    }
    match decode_base64(span) {
        Some(v) => {
            p.pos += n;
            Ok(Bytes::from(v))
        }
        None => p.err("base64"),
    }
}

/// A client line during AUTHENTICATE (RFC 9051 §6.2.2): base64 SASL data
/// (an empty line is empty data) or `*` to cancel, then CRLF.
pub(crate) fn authenticate_data(p: &mut Parser<'_>) -> PResult<AuthenticateData> {
    if p.eat(b'*') {
        p.eol()?;
        return Ok(AuthenticateData::Cancel);
    }
    let data = base64(p, true)?;
    p.eol()?;
    Ok(AuthenticateData::Continue(Secret::new(data)))
}

/// `login = "LOGIN" SP userid SP password` (RFC 9051 §6.2.3).
fn login(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let username = p.astring()?;
    p.sp()?;
    let password = Secret::new(p.astring()?);
    Ok(CommandBody::Login { username, password })
}

// ===== authenticated (RFC 9051 §6.3) =====

/// `enable = "ENABLE" 1*(SP capability)` (RFC 5161 §4, RFC 9051 §6.3.1).
fn enable(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let caps = p.sp_list(|p| Ok(Capability::from_atom(p.atom()?)))?;
    Ok(CommandBody::Enable(caps))
}

/// `select = "SELECT" SP mailbox [select-params]` (RFC 9051 §6.3.2, RFC 4466
/// §2.1), with the CONDSTORE and QRESYNC parameters of RFC 7162 §3.1.8/§3.2.5.
/// EXAMINE has the same arguments.
fn select(p: &mut Parser<'_>) -> PResult<(Mailbox, Vec<SelectParam>)> {
    let mailbox = sp_mailbox(p)?;
    let params = if more(p) {
        p.sp()?;
        p.paren_list(false, select_param)?
    } else {
        Vec::new()
    };
    Ok((mailbox, params))
}

/// `select-param`: `CONDSTORE` or `QRESYNC SP "(" … ")"`.
fn select_param(p: &mut Parser<'_>) -> PResult<SelectParam> {
    let start = p.pos;
    let name = p.atom_span();
    if eq(name, b"CONDSTORE") {
        Ok(SelectParam::CondStore)
    } else if eq(name, b"QRESYNC") {
        p.sp()?;
        Ok(SelectParam::QResync(qresync(p)?))
    } else {
        err_at(p, start, "CONDSTORE or QRESYNC")
    }
}

/// `"(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data]
/// ")"` (RFC 7162 §3.2.5).
fn qresync(p: &mut Parser<'_>) -> PResult<QResyncParam> {
    p.expect(b'(', "(")?;
    p.enter()?;
    let uid_validity = p.nz_number()?;
    p.sp()?;
    let mod_seq = mod_seq(p)?;
    let mut known_uids = None;
    let mut seq_match = None;
    if more(p) {
        p.sp()?;
        if p.peek() == Some(b'(') {
            seq_match = Some(seq_match_data(p)?);
        } else {
            known_uids = Some(p.sequence_set()?);
            if more(p) {
                p.sp()?;
                seq_match = Some(seq_match_data(p)?);
            }
        }
    }
    p.skip_space_before_close();
    p.expect(b')', ")")?;
    p.leave();
    Ok(QResyncParam {
        uid_validity,
        mod_seq,
        known_uids,
        seq_match,
    })
}

/// `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`.
fn seq_match_data(p: &mut Parser<'_>) -> PResult<(SequenceSet, SequenceSet)> {
    p.expect(b'(', "(")?;
    p.enter()?;
    let seqs = p.sequence_set()?;
    p.sp()?;
    let uids = p.sequence_set()?;
    p.skip_space_before_close();
    p.expect(b')', ")")?;
    p.leave();
    Ok((seqs, uids))
}

/// `create = "CREATE" SP mailbox [create-params]` (RFC 9051 §6.3.4, RFC 4466),
/// with `USE (attrs)` of RFC 6154 §3; several USE lists are merged.
fn create(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(p)?;
    let mut special_use = Vec::new();
    if more(p) {
        p.sp()?;
        let lists = p.paren_list(false, |p| {
            p.keyword(b"USE", "USE")?;
            p.sp()?;
            p.paren_list(true, mailbox_attribute)
        })?;
        special_use = lists.into_iter().flatten().collect();
    }
    Ok(CommandBody::Create {
        mailbox,
        special_use,
    })
}

/// `"\" atom`: a mailbox attribute.
fn mailbox_attribute(p: &mut Parser<'_>) -> PResult<MailboxAttribute> {
    p.expect(b'\\', "\\attribute")?;
    Ok(MailboxAttribute::from_atom(p.atom()?))
}

/// `rename = "RENAME" SP mailbox SP mailbox` (RFC 9051 §6.3.6).
fn rename(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let from = sp_mailbox(p)?;
    let to = sp_mailbox(p)?;
    Ok(CommandBody::Rename { from, to })
}

/// `list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
/// [SP list-return-opts]` (RFC 9051 §6.3.9, RFC 5258 §6, RFC 5819 §4).
fn list(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let selection = if p.peek() == Some(b'(') {
        let s = p.paren_list(true, list_select)?;
        p.sp()?;
        s
    } else {
        Vec::new()
    };
    let reference = p.mailbox()?;
    p.sp()?;
    let patterns = if p.peek() == Some(b'(') {
        p.paren_list(false, Parser::list_mailbox)?
    } else {
        vec![p.list_mailbox()?]
    };
    let return_options = if more(p) {
        p.sp()?;
        p.keyword(b"RETURN", "RETURN")?;
        p.sp()?;
        Some(p.paren_list(true, list_return)?)
    } else {
        None
    };
    Ok(CommandBody::List {
        selection,
        reference,
        patterns,
        return_options,
    })
}

/// `list-select-opt` (RFC 5258, RFC 6154).
fn list_select(p: &mut Parser<'_>) -> PResult<ListSelect> {
    let a = p.atom()?;
    let b = a.as_bytes();
    Ok(if eq(b, b"SUBSCRIBED") {
        ListSelect::Subscribed
    } else if eq(b, b"REMOTE") {
        ListSelect::Remote
    } else if eq(b, b"RECURSIVEMATCH") {
        ListSelect::RecursiveMatch
    } else if eq(b, b"SPECIAL-USE") {
        ListSelect::SpecialUse
    } else {
        ListSelect::Other(a)
    })
}

/// `return-option` (RFC 5258, RFC 5819 `STATUS (…)`, RFC 6154, RFC 8440).
fn list_return(p: &mut Parser<'_>) -> PResult<ListReturn> {
    let a = p.atom()?;
    let b = a.as_bytes();
    Ok(if eq(b, b"SUBSCRIBED") {
        ListReturn::Subscribed
    } else if eq(b, b"CHILDREN") {
        ListReturn::Children
    } else if eq(b, b"SPECIAL-USE") {
        ListReturn::SpecialUse
    } else if eq(b, b"MYRIGHTS") {
        ListReturn::MyRights
    } else if eq(b, b"STATUS") {
        p.sp()?;
        ListReturn::Status(p.paren_list(false, status_att)?)
    } else {
        ListReturn::Other(a)
    })
}

/// `lsub = "LSUB" SP mailbox SP list-mailbox` (RFC 3501 §6.3.9).
fn lsub(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let reference = sp_mailbox(p)?;
    p.sp()?;
    let pattern = p.list_mailbox()?;
    Ok(CommandBody::Lsub { reference, pattern })
}

/// `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`
/// (RFC 9051 §6.3.11).
fn status(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(p)?;
    p.sp()?;
    let attributes = p.paren_list(false, status_att)?;
    Ok(CommandBody::Status {
        mailbox,
        attributes,
    })
}

/// `status-att`, by [`StatusAttribute::from_name`].
fn status_att(p: &mut Parser<'_>) -> PResult<StatusAttribute> {
    let start = p.pos;
    let name = p.atom_span();
    match StatusAttribute::from_name(name) {
        Some(a) => Ok(a),
        None => err_at(p, start, "status attribute"),
    }
}

/// `append = "APPEND" SP mailbox 1*append-message` (RFC 9051 §6.3.12,
/// MULTIAPPEND RFC 3502 §6, BINARY RFC 3516 §4.4, UTF8 RFC 6855 §4,
/// CATENATE RFC 4469 §5): `append-message = [SP flag-list] [SP date-time] SP
/// append-data`, `append-data = literal / literal8 / "UTF8" SP "(" literal8
/// ")" / "CATENATE" SP "(" cat-part *(SP cat-part) ")"`. Gives
/// [`CommandBody::AppendCatenate`] when any message uses CATENATE.
fn append(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(p)?;
    let mut messages: Vec<CatenateMessage> = Vec::with_capacity(1);
    let mut catenate = false;
    loop {
        p.sp()?;
        let flags = if p.peek() == Some(b'(') {
            let f = p.flag_list()?;
            p.sp()?;
            f
        } else {
            Vec::new()
        };
        let date = if p.peek() == Some(b'"') {
            let d = p.date_time()?;
            p.sp()?;
            Some(d)
        } else {
            None
        };
        let content = match p.peek() {
            Some(b'{') | Some(b'~') => AppendContent::Literal {
                data: p.literal_value()?,
                utf8: false,
            },
            _ if p.eat_keyword(b"CATENATE") => {
                catenate = true;
                p.sp()?;
                let start = p.pos;
                let parts = p.paren_list(false, cat_part)?;
                if parts.is_empty() {
                    // `1*cat-part`, whatever the empty-list quirk says.
                    return err_at(p, start + 1, "TEXT or URL");
                }
                AppendContent::Catenate(parts)
            }
            _ => {
                p.keyword(b"UTF8", "literal, literal8, UTF8 or CATENATE")?;
                p.sp()?;
                p.expect(b'(', "(")?;
                let data = p.literal_value()?;
                p.skip_space_before_close();
                p.expect(b')', ")")?;
                AppendContent::Literal { data, utf8: true }
            }
        };
        messages.push(CatenateMessage {
            flags,
            date,
            content,
        });
        p.check_items(messages.len())?;
        if !more(p) {
            break;
        }
    }
    if catenate {
        return Ok(CommandBody::AppendCatenate { mailbox, messages });
    }
    // No message used CATENATE: every content is a literal.
    let messages = messages
        .into_iter()
        .filter_map(|m| match m.content {
            AppendContent::Literal { data, utf8 } => Some(AppendMessage {
                flags: m.flags,
                date: m.date,
                data,
                utf8,
            }),
            _ => None,
        })
        .collect();
    Ok(CommandBody::Append { mailbox, messages })
}

/// `cat-part = text-literal / url` (RFC 4469 §5): `text-literal = "TEXT" SP
/// literal` (or `literal8` with BINARY), `url = "URL" SP astring`.
fn cat_part(p: &mut Parser<'_>) -> PResult<CatenatePart> {
    if p.eat_keyword(b"TEXT") {
        p.sp()?;
        return Ok(CatenatePart::Text(p.literal_value()?));
    }
    p.keyword(b"URL", "TEXT or URL")?;
    p.sp()?;
    Ok(CatenatePart::Url(p.astring()?))
}

/// `setquota = "SETQUOTA" SP quota-root-name SP setquota-list` (RFC 9208 §4.3);
/// `setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"`.
fn set_quota(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let root = p.astring()?;
    p.sp()?;
    let limits = p.paren_list(true, |p| {
        let name = p.atom()?;
        p.sp()?;
        let limit = p.number64()?;
        Ok(QuotaLimit { name, limit })
    })?;
    Ok(CommandBody::SetQuota { root, limits })
}

/// `genurlauth = "GENURLAUTH" 1*(SP url-rump SP mechanism)` (RFC 4467 §9).
fn gen_urlauth(p: &mut Parser<'_>) -> PResult<Vec<GenUrlauthItem>> {
    p.sp()?;
    p.sp_list(|p| {
        let url = p.astring()?;
        p.sp()?;
        let mechanism = p.atom()?;
        Ok(GenUrlauthItem { url, mechanism })
    })
}

/// `resetkey = "RESETKEY" [SP mailbox *(SP mechanism)]` (RFC 4467 §9).
fn reset_key(p: &mut Parser<'_>) -> PResult<CommandBody> {
    if !p.at_sp() || p.at_eol() {
        return Ok(CommandBody::ResetKey {
            mailbox: None,
            mechanisms: Vec::new(),
        });
    }
    let mailbox = sp_mailbox(p)?;
    let mut mechanisms = Vec::new();
    while p.at_sp() && !p.at_eol() {
        p.sp()?;
        mechanisms.push(p.atom()?);
        p.check_items(mechanisms.len())?;
    }
    Ok(CommandBody::ResetKey {
        mailbox: Some(mailbox),
        mechanisms,
    })
}

/// `urlfetch = "URLFETCH" 1*(SP url-fetch-arg)` (RFC 4467 §9, RFC 5524 §5);
/// `url-fetch-arg = url / "(" url *(SP url-fetch-param) ")"`.
fn url_fetch(p: &mut Parser<'_>) -> PResult<Vec<UrlFetchArg>> {
    p.sp()?;
    p.sp_list(|p| {
        if !p.eat(b'(') {
            return Ok(UrlFetchArg {
                url: p.astring()?,
                params: None,
            });
        }
        p.enter()?;
        let url = p.astring()?;
        let mut params = Vec::new();
        while p.at_sp() {
            p.sp()?;
            params.push(url_fetch_param(p)?);
            p.check_items(params.len())?;
        }
        p.expect(b')', ")")?;
        p.leave();
        Ok(UrlFetchArg {
            url,
            params: Some(params),
        })
    })
}

/// `url-fetch-param = "BODYPARTSTRUCTURE" / "BINARY" / "BODY"` (RFC 5524 §5).
fn url_fetch_param(p: &mut Parser<'_>) -> PResult<UrlFetchParam> {
    let start = p.pos;
    let w = p.atom_span();
    Ok(if eq(w, b"BODYPARTSTRUCTURE") {
        UrlFetchParam::BodyPartStructure
    } else if eq(w, b"BINARY") {
        UrlFetchParam::Binary
    } else if eq(w, b"BODY") {
        UrlFetchParam::Body
    } else {
        return err_at(p, start, "BODYPARTSTRUCTURE, BINARY or BODY");
    })
}

/// `compress = "COMPRESS" SP algorithm` (RFC 4978 §4).
fn compress(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let a = p.atom()?;
    Ok(CommandBody::Compress(if a.eq_ignore_case("DEFLATE") {
        Compression::Deflate
    } else {
        Compression::Other(a)
    }))
}

/// `getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries`
/// (RFC 5464 §5); `entries = entry / "(" entry *(SP entry) ")"`.
fn get_metadata(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let options = if p.peek() == Some(b'(') {
        let o = p.paren_list(false, metadata_option)?;
        p.sp()?;
        o
    } else {
        Vec::new()
    };
    let mailbox = p.mailbox()?;
    p.sp()?;
    // RFC 5464's examples put the options after the mailbox, unlike its ABNF;
    // accept that order too (an entry name is never MAXSIZE or DEPTH).
    let options = if options.is_empty() && metadata_options_follow(p) {
        let o = p.paren_list(false, metadata_option)?;
        p.sp()?;
        o
    } else {
        options
    };
    let entries = if p.peek() == Some(b'(') {
        p.paren_list(false, Parser::astring)?
    } else {
        vec![p.astring()?]
    };
    Ok(CommandBody::GetMetadata {
        options,
        mailbox,
        entries,
    })
}

/// Whether `"(" ("MAXSIZE" / "DEPTH") SP` comes next (nothing is consumed).
fn metadata_options_follow(p: &mut Parser<'_>) -> bool {
    let save = p.pos;
    let found = p.eat(b'(') && (p.eat_keyword(b"MAXSIZE") || p.eat_keyword(b"DEPTH")) && p.at_sp();
    p.pos = save;
    found
}

/// `MAXSIZE number` / `DEPTH ("0" / "1" / "infinity")` (RFC 5464 §4.2).
fn metadata_option(p: &mut Parser<'_>) -> PResult<GetMetadataOption> {
    let start = p.pos;
    let name = p.atom_span();
    if eq(name, b"MAXSIZE") {
        p.sp()?;
        return Ok(GetMetadataOption::MaxSize(p.number()?));
    }
    if !eq(name, b"DEPTH") {
        return err_at(p, start, "MAXSIZE or DEPTH");
    }
    p.sp()?;
    let start = p.pos;
    let v = p.atom_span();
    let depth = if v == b"0" {
        MetadataDepth::Zero
    } else if v == b"1" {
        MetadataDepth::One
    } else if eq(v, b"INFINITY") {
        MetadataDepth::Infinity
    } else {
        return err_at(p, start, "0, 1 or infinity");
    };
    Ok(GetMetadataOption::Depth(depth))
}

/// `setmetadata = "SETMETADATA" SP mailbox SP entry-values` (RFC 5464 §5);
/// `entry-values = "(" entry-value *(SP entry-value) ")"`,
/// `entry-value = entry SP value`, `value = nstring / literal8`.
fn set_metadata(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(p)?;
    p.sp()?;
    let entries = p.paren_list(false, |p| {
        let entry = p.astring()?;
        p.sp()?;
        Ok((entry, metadata_value(p)?))
    })?;
    Ok(CommandBody::SetMetadata { mailbox, entries })
}

/// `value = nstring / literal8`; the model holds strings, so NUL is refused.
fn metadata_value(p: &mut Parser<'_>) -> PResult<NString> {
    if p.peek() != Some(b'~') {
        return p.nstring();
    }
    let start = p.pos;
    let (data, _) = p.literal()?;
    if memchr::memchr(0, &data).is_some() {
        return err_at(p, start, "value without NUL");
    }
    Ok(Some(IString::from_validated(data)))
}

/// `notify = "NOTIFY" SP (notify-set / notify-none)` (RFC 5465 §8):
/// `notify-set = "SET" [SP "STATUS"] SP event-group *(SP event-group)`.
fn notify(p: &mut Parser<'_>) -> PResult<NotifySet> {
    p.sp()?;
    let start = p.pos;
    let w = p.atom_span();
    if eq(w, b"NONE") {
        return Ok(NotifySet::None);
    }
    if !eq(w, b"SET") {
        return err_at(p, start, "SET or NONE");
    }
    p.sp()?;
    let status = p.eat_keyword(b"STATUS");
    if status {
        p.sp()?;
    }
    let groups = p.sp_list(notify_group)?;
    Ok(NotifySet::Set { status, groups })
}

/// `event-group = "(" filter-mailboxes SP events ")"`.
fn notify_group(p: &mut Parser<'_>) -> PResult<NotifyGroup> {
    p.expect(b'(', "event group")?;
    p.enter()?;
    let filter = notify_filter(p)?;
    p.sp()?;
    let events = if p.eat_keyword(b"NONE") {
        Vec::new()
    } else {
        p.paren_list(false, notify_event)?
    };
    p.skip_space_before_close();
    p.expect(b')', ")")?;
    p.leave();
    Ok(NotifyGroup { filter, events })
}

/// `filter-mailboxes` (RFC 5465 §8).
fn notify_filter(p: &mut Parser<'_>) -> PResult<NotifyFilter> {
    let start = p.pos;
    let w = p.atom_span();
    Ok(if eq(w, b"SELECTED") {
        NotifyFilter::Selected
    } else if eq(w, b"SELECTED-DELAYED") {
        NotifyFilter::SelectedDelayed
    } else if eq(w, b"INBOXES") {
        NotifyFilter::Inboxes
    } else if eq(w, b"PERSONAL") {
        NotifyFilter::Personal
    } else if eq(w, b"SUBSCRIBED") {
        NotifyFilter::Subscribed
    } else if eq(w, b"SUBTREE") {
        p.sp()?;
        NotifyFilter::Subtree(one_or_more_mailbox(p)?)
    } else if eq(w, b"MAILBOXES") {
        p.sp()?;
        NotifyFilter::Mailboxes(one_or_more_mailbox(p)?)
    } else {
        return err_at(p, start, "mailbox filter");
    })
}

/// `one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"`.
fn one_or_more_mailbox(p: &mut Parser<'_>) -> PResult<Vec<Mailbox>> {
    if p.peek() == Some(b'(') {
        p.paren_list(false, Parser::mailbox)
    } else {
        Ok(vec![p.mailbox()?])
    }
}

/// `event` (RFC 5465 §8), with `MessageNew [SP "(" fetch-att *(SP fetch-att) ")"]`.
fn notify_event(p: &mut Parser<'_>) -> PResult<NotifyEvent> {
    let a = p.atom()?;
    let b = a.as_bytes();
    Ok(if eq(b, b"MessageNew") {
        let mut atts = Vec::new();
        if more(p) {
            let save = p.pos;
            p.sp()?;
            if p.peek() == Some(b'(') {
                atts = p.paren_list(false, fetch_att)?;
            } else {
                p.pos = save;
            }
        }
        NotifyEvent::MessageNew(atts)
    } else if eq(b, b"MessageExpunge") {
        NotifyEvent::MessageExpunge
    } else if eq(b, b"FlagChange") {
        NotifyEvent::FlagChange
    } else if eq(b, b"AnnotationChange") {
        NotifyEvent::AnnotationChange
    } else if eq(b, b"MailboxName") {
        NotifyEvent::MailboxName
    } else if eq(b, b"SubscriptionChange") {
        NotifyEvent::SubscriptionChange
    } else if eq(b, b"MailboxMetadataChange") {
        NotifyEvent::MailboxMetadataChange
    } else if eq(b, b"ServerMetadataChange") {
        NotifyEvent::ServerMetadataChange
    } else {
        NotifyEvent::Other(a)
    })
}

// ===== selected (RFC 9051 §6.4) =====

/// `"UID" SP (copy / move / fetch / search / store / uid-expunge / sort /
/// thread)` (RFC 9051 §6.4.9, RFC 4315 §2.1, RFC 5256).
fn uid(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let start = p.pos;
    let name = p.atom_span();
    match (name.len(), first_upper(name)) {
        (4, b'C') if eq(name, b"COPY") => copy_move(p, true, false),
        (4, b'M') if eq(name, b"MOVE") => copy_move(p, true, true),
        (4, b'S') if eq(name, b"SORT") => sort(p, true),
        (5, b'F') if eq(name, b"FETCH") => fetch(p, true),
        (5, b'S') if eq(name, b"STORE") => store(p, true),
        (6, b'S') if eq(name, b"SEARCH") => search(p, true),
        (6, b'T') if eq(name, b"THREAD") => thread(p, true),
        (7, b'E') if eq(name, b"EXPUNGE") => {
            p.sp()?;
            Ok(CommandBody::UidExpunge(p.sequence_set()?))
        }
        _ => err_at(
            p,
            start,
            "FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, SORT or THREAD",
        ),
    }
}

/// `copy = "COPY" SP sequence-set SP mailbox` (RFC 9051 §6.4.7) and
/// `move = "MOVE" SP sequence-set SP mailbox` (RFC 6851 §3.3).
fn copy_move(p: &mut Parser<'_>, uid: bool, is_move: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    let mailbox = sp_mailbox(p)?;
    Ok(if is_move {
        CommandBody::Move { uid, set, mailbox }
    } else {
        CommandBody::Copy { uid, set, mailbox }
    })
}

/// `[SP "RETURN" SP "(" [search-return-opts] ")"]` (RFC 4731 §3, RFC 5182,
/// ESORT RFC 5267); `RETURN ()` is an empty list.
fn search_return(p: &mut Parser<'_>) -> PResult<Option<Vec<SearchReturn>>> {
    if !more(p) {
        return Ok(None);
    }
    let save = p.pos;
    p.sp()?;
    if !p.eat_keyword(b"RETURN") {
        p.pos = save;
        return Ok(None);
    }
    p.sp()?;
    Ok(Some(p.paren_list(true, search_return_opt)?))
}

/// `search-return-opt`: MIN / MAX / ALL / COUNT / SAVE, and UPDATE / CONTEXT
/// / `PARTIAL SP partial-range` (RFC 5267 §4, §6).
fn search_return_opt(p: &mut Parser<'_>) -> PResult<SearchReturn> {
    let start = p.pos;
    let w = p.atom_span();
    Ok(match (w.len(), first_upper(w)) {
        (3, b'M') if eq(w, b"MIN") => SearchReturn::Min,
        (3, b'M') if eq(w, b"MAX") => SearchReturn::Max,
        (3, b'A') if eq(w, b"ALL") => SearchReturn::All,
        (5, b'C') if eq(w, b"COUNT") => SearchReturn::Count,
        (4, b'S') if eq(w, b"SAVE") => SearchReturn::Save,
        (6, b'U') if eq(w, b"UPDATE") => SearchReturn::Update,
        (7, b'C') if eq(w, b"CONTEXT") => SearchReturn::Context,
        (7, b'P') if eq(w, b"PARTIAL") => {
            p.sp()?;
            SearchReturn::Partial(partial_range(p)?)
        }
        _ => {
            return err_at(
                p,
                start,
                "MIN, MAX, ALL, COUNT, SAVE, UPDATE, CONTEXT or PARTIAL",
            )
        }
    })
}

/// `partial-range = nz-number ":" nz-number` (RFC 5267 §6), or both negated
/// (RFC 9394 `partial-range-last`).
pub(crate) fn partial_range(p: &mut Parser<'_>) -> PResult<PartialRange> {
    let from_end = p.eat(b'-');
    let first = p.nz_number()?;
    p.expect(b':', ":")?;
    if from_end {
        p.expect(b'-', "-")?;
    }
    let second = p.nz_number()?;
    Ok(PartialRange {
        first,
        second,
        from_end,
    })
}

/// `cancelupdate = "CANCELUPDATE" 1*(SP tag-string)` (RFC 5267 §6), with
/// `tag-string = string`.
fn cancel_update(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mut tags = Vec::new();
    loop {
        p.sp()?;
        let start = p.pos;
        let s = p.string()?;
        match Tag::try_from(s.to_bytes()) {
            Ok(t) => tags.push(t),
            Err(_) => return err_at(p, start, "tag"),
        }
        p.check_items(tags.len())?;
        if !more(p) {
            return Ok(CommandBody::CancelUpdate(tags));
        }
    }
}

/// `search = "SEARCH" [search-return-opts] [SP "CHARSET" SP charset]
/// 1*(SP search-key)` (RFC 9051 §6.4.4, ESEARCH RFC 4731 §3).
fn search(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    let return_options = search_return(p)?;
    p.sp()?;
    let charset = if p.eat_keyword(b"CHARSET") {
        p.sp()?;
        let c = p.astring()?;
        p.sp()?;
        Some(c)
    } else {
        None
    };
    let criteria = search_keys(p)?;
    Ok(CommandBody::Search {
        uid,
        return_options,
        charset,
        criteria,
    })
}

/// `sort = ["UID" SP] "SORT" [SP sort-return-opts] SP sort-criteria SP
/// search-criteria` (RFC 5256 §5, ESORT RFC 5267 §3);
/// `search-criteria = charset 1*(SP search-key)`.
fn sort(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    let return_options = search_return(p)?;
    p.sp()?;
    let criteria = p.paren_list(false, sort_criterion)?;
    p.sp()?;
    let charset = p.astring()?;
    p.sp()?;
    let search = search_keys(p)?;
    Ok(CommandBody::Sort {
        uid,
        return_options,
        criteria,
        charset,
        search,
    })
}

/// `sort-criterion = ["REVERSE" SP] sort-key`.
fn sort_criterion(p: &mut Parser<'_>) -> PResult<SortCriterion> {
    let reverse = p.eat_keyword(b"REVERSE");
    if reverse {
        p.sp()?;
    }
    let start = p.pos;
    let w = p.atom_span();
    match SortKey::NAMES.iter().find(|(n, _)| eq(w, n.as_bytes())) {
        Some(&(_, key)) => Ok(SortCriterion { reverse, key }),
        None => err_at(p, start, "sort key"),
    }
}

/// `thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria`
/// (RFC 5256 §5).
fn thread(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let a = p.atom()?;
    let algorithm = if a.eq_ignore_case("ORDEREDSUBJECT") {
        ThreadAlgorithm::OrderedSubject
    } else if a.eq_ignore_case("REFERENCES") {
        ThreadAlgorithm::References
    } else if a.eq_ignore_case("REFS") {
        ThreadAlgorithm::Refs
    } else {
        ThreadAlgorithm::Other(a)
    };
    p.sp()?;
    let charset = p.astring()?;
    p.sp()?;
    let search = search_keys(p)?;
    Ok(CommandBody::Thread {
        uid,
        algorithm,
        charset,
        search,
    })
}

/// `fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
/// "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]` (RFC 9051 §6.4.5,
/// RFC 4466 §2.4, CONDSTORE/QRESYNC RFC 7162 §3.1.4/§3.2.6).
fn fetch(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let items = fetch_items(p)?;
    let modifiers = if more(p) {
        p.sp()?;
        p.paren_list(false, fetch_modifier)?
    } else {
        Vec::new()
    };
    Ok(CommandBody::Fetch {
        uid,
        set,
        items,
        modifiers,
    })
}

/// A macro, one attribute, or a parenthesised list of attributes.
fn fetch_items(p: &mut Parser<'_>) -> PResult<FetchItems> {
    if p.peek() == Some(b'(') {
        return Ok(FetchItems::Attributes(p.paren_list(false, fetch_att)?));
    }
    if p.eat_keyword(b"ALL") {
        return Ok(FetchItems::Macro(FetchMacro::All));
    }
    if p.eat_keyword(b"FAST") {
        return Ok(FetchItems::Macro(FetchMacro::Fast));
    }
    if p.eat_keyword(b"FULL") {
        return Ok(FetchItems::Macro(FetchMacro::Full));
    }
    Ok(FetchItems::Attributes(vec![fetch_att(p)?]))
}

/// `fetch-att` (RFC 9051 §9, RFC 3501 §9 `RFC822*`, BINARY RFC 3516 §4.2,
/// MODSEQ RFC 7162, EMAILID/THREADID RFC 8474, SAVEDATE RFC 8514, PREVIEW
/// RFC 8970, Gmail X-GM-*).
pub(crate) fn fetch_att(p: &mut Parser<'_>) -> PResult<FetchAttribute> {
    use FetchAttribute as A;
    let start = p.pos;
    let name = p.word_span();
    Ok(match (name.len(), first_upper(name)) {
        (3, b'U') if eq(name, b"UID") => A::Uid,
        (4, b'B') if eq(name, b"BODY") => {
            let peek = p.eat_prefix(b".PEEK");
            if p.peek() == Some(b'[') {
                let section = p.section()?;
                let partial = if p.peek() == Some(b'<') {
                    Some(p.partial()?)
                } else {
                    None
                };
                A::BodySection {
                    peek,
                    section,
                    partial,
                }
            } else if peek {
                return p.err("[");
            } else {
                A::Body
            }
        }
        (5, b'F') if eq(name, b"FLAGS") => A::Flags,
        (6, b'B') if eq(name, b"BINARY") => {
            if p.eat_prefix(b".SIZE") {
                return Ok(A::BinarySize {
                    part: p.section_binary()?,
                });
            }
            let peek = p.eat_prefix(b".PEEK");
            let part = p.section_binary()?;
            let partial = if p.peek() == Some(b'<') {
                Some(p.partial()?)
            } else {
                None
            };
            A::Binary {
                peek,
                part,
                partial,
            }
        }
        (6, b'M') if eq(name, b"MODSEQ") => A::ModSeq,
        (6, b'R') if eq(name, b"RFC822") => {
            if !p.eat(b'.') {
                return Ok(A::Rfc822);
            }
            let s = p.pos;
            let sub = p.word_span();
            if eq(sub, b"HEADER") {
                A::Rfc822Header
            } else if eq(sub, b"SIZE") {
                A::Rfc822Size
            } else if eq(sub, b"TEXT") {
                A::Rfc822Text
            } else {
                return err_at(p, s, "HEADER, SIZE or TEXT");
            }
        }
        (7, b'E') if eq(name, b"EMAILID") => A::EmailId,
        (7, b'P') if eq(name, b"PREVIEW") => A::Preview {
            lazy: preview_mods(p)?,
        },
        (8, b'E') if eq(name, b"ENVELOPE") => A::Envelope,
        (8, b'S') if eq(name, b"SAVEDATE") => A::SaveDate,
        (8, b'T') if eq(name, b"THREADID") => A::ThreadId,
        (10, b'X') if eq(name, b"X-GM-MSGID") => A::GmMsgId,
        (10, b'X') if eq(name, b"X-GM-THRID") => A::GmThrId,
        (11, b'X') if eq(name, b"X-GM-LABELS") => A::GmLabels,
        (12, b'I') if eq(name, b"INTERNALDATE") => A::InternalDate,
        (13, b'B') if eq(name, b"BODYSTRUCTURE") => A::BodyStructure,
        _ => return err_at(p, start, "fetch attribute"),
    })
}

/// `[SP "(" preview-mod *(SP preview-mod) ")"]` after PREVIEW (RFC 8970 §7),
/// `preview-mod = "LAZY"`. A following list that does not start with LAZY is
/// left alone (it is the FETCH modifiers).
fn preview_mods(p: &mut Parser<'_>) -> PResult<bool> {
    if !more(p) {
        return Ok(false);
    }
    let save = p.pos;
    p.sp()?;
    let list_start = p.pos;
    if !(p.eat(b'(') && p.eat_keyword(b"LAZY")) {
        p.pos = save;
        return Ok(false);
    }
    p.pos = list_start;
    let mods = p.paren_list(false, |p| p.keyword(b"LAZY", "LAZY"))?;
    Ok(!mods.is_empty())
}

/// `fetch-modifier`: `CHANGEDSINCE mod-sequence-value` (RFC 7162 §3.1.4.1;
/// zero is refused) or `VANISHED` (RFC 7162 §3.2.6).
fn fetch_modifier(p: &mut Parser<'_>) -> PResult<FetchModifier> {
    let start = p.pos;
    let w = p.atom_span();
    if eq(w, b"CHANGEDSINCE") {
        p.sp()?;
        Ok(FetchModifier::ChangedSince(mod_seq(p)?))
    } else if eq(w, b"VANISHED") {
        Ok(FetchModifier::Vanished)
    } else {
        err_at(p, start, "CHANGEDSINCE or VANISHED")
    }
}

/// `store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags`
/// (RFC 9051 §6.4.6, RFC 4466 §2.5, UNCHANGEDSINCE RFC 7162 §3.1.3, Gmail
/// `X-GM-LABELS`); `store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
/// (flag-list / (flag *(SP flag)))`.
fn store(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let modifiers = if p.peek() == Some(b'(') {
        let m = p.paren_list(false, store_modifier)?;
        p.sp()?;
        m
    } else {
        Vec::new()
    };
    let kind = if p.eat(b'+') {
        StoreKind::Add
    } else if p.eat(b'-') {
        StoreKind::Remove
    } else {
        StoreKind::Replace
    };
    let start = p.pos;
    let name = p.word_span();
    let labels = if eq(name, b"FLAGS") {
        false
    } else if eq(name, b"X-GM-LABELS") {
        true
    } else {
        return err_at(p, start, "FLAGS or X-GM-LABELS");
    };
    let silent = p.eat_keyword(b".SILENT");
    if !silent && p.peek() == Some(b'.') {
        return p.err(".SILENT");
    }
    p.sp()?;
    let paren = p.peek() == Some(b'(');
    let target = if labels {
        StoreTarget::GmLabels(if paren {
            p.paren_list(true, gm_label)?
        } else {
            p.sp_list(gm_label)?
        })
    } else {
        StoreTarget::Flags(if paren {
            p.flag_list()?
        } else {
            p.sp_list(Parser::flag)?
        })
    };
    Ok(CommandBody::Store {
        uid,
        set,
        modifiers,
        kind,
        silent,
        target,
    })
}

/// `store-modifier`: `UNCHANGEDSINCE mod-sequence-valzer` (RFC 7162 §3.1.3).
fn store_modifier(p: &mut Parser<'_>) -> PResult<StoreModifier> {
    let start = p.pos;
    let w = p.atom_span();
    if !eq(w, b"UNCHANGEDSINCE") {
        return err_at(p, start, "UNCHANGEDSINCE");
    }
    p.sp()?;
    Ok(StoreModifier::UnchangedSince(p.number64()?))
}

/// A Gmail label: an astring, or a system label such as `\Inbox` (kept with its
/// backslash).
pub(crate) fn gm_label(p: &mut Parser<'_>) -> PResult<AString> {
    if p.peek() != Some(b'\\') {
        return p.astring();
    }
    let start = p.pos;
    p.pos += 1;
    if p.atom_span().is_empty() {
        return p.err("label");
    }
    Ok(IString::from_validated(p.slice(start, p.pos)))
}

/// `objectid = 1*255(ALPHA / DIGIT / "_" / "-")` (RFC 8474 §7).
pub(crate) fn object_id(p: &mut Parser<'_>) -> PResult<ObjectId> {
    let start = p.pos;
    let rest = p.rest();
    let n = rest
        .iter()
        .position(|&b| !ObjectId::is_char(b))
        .unwrap_or(rest.len());
    match ObjectId::try_from(p.slice(start, start + n)) {
        Ok(id) => {
            p.pos += n;
            Ok(id)
        }
        Err(_) => p.err("objectid"),
    }
}

/// `idle-done`: `DONE` CRLF (RFC 2177 §3).
pub(crate) fn idle_done(p: &mut Parser<'_>) -> PResult<()> {
    p.keyword(b"DONE", "DONE")?;
    p.eol()
}
