//! Commands of the extensions used in the authenticated state: SETQUOTA
//! (RFC 9208 §4.3), GENURLAUTH, RESETKEY and URLFETCH (RFC 4467 §9, RFC 5524
//! §5), COMPRESS (RFC 4978 §4), GETMETADATA and SETMETADATA (RFC 5464 §5),
//! and NOTIFY (RFC 5465 §8).

use imap_proto::{
    CommandBody, Compression, GenUrlauthItem, GetMetadataOption, IString, Mailbox, MetadataDepth,
    NString, NotifyEvent, NotifyFilter, NotifyGroup, NotifySet, QuotaLimit, UrlFetchArg,
    UrlFetchParam,
};

use super::fetch::fetch_att;
use super::{eq, err_at, more, sp_mailbox};
use crate::decode::{PResult, Parser};

/// `setquota = "SETQUOTA" SP quota-root-name SP setquota-list` (RFC 9208 §4.3);
/// `setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"`.
pub(super) fn set_quota(p: &mut Parser<'_>) -> PResult<CommandBody> {
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
pub(super) fn gen_urlauth(p: &mut Parser<'_>) -> PResult<Vec<GenUrlauthItem>> {
    p.sp()?;
    p.sp_list(|p| {
        let url = p.astring()?;
        p.sp()?;
        let mechanism = p.atom()?;
        Ok(GenUrlauthItem { url, mechanism })
    })
}

/// `resetkey = "RESETKEY" [SP mailbox *(SP mechanism)]` (RFC 4467 §9).
pub(super) fn reset_key(p: &mut Parser<'_>) -> PResult<CommandBody> {
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
pub(super) fn url_fetch(p: &mut Parser<'_>) -> PResult<Vec<UrlFetchArg>> {
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
pub(super) fn compress(p: &mut Parser<'_>) -> PResult<CommandBody> {
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
pub(super) fn get_metadata(p: &mut Parser<'_>) -> PResult<CommandBody> {
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
pub(super) fn set_metadata(p: &mut Parser<'_>) -> PResult<CommandBody> {
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
pub(super) fn notify(p: &mut Parser<'_>) -> PResult<NotifySet> {
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
