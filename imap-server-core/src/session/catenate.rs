//! APPEND with CATENATE (RFC 4469): a message put together from literal text
//! and from IMAP URLs (RFC 5092) naming messages or body parts the user can
//! read, relative to this server (`/mailbox[;UIDVALIDITY=n]/;UID=n
//! [/;SECTION=s][/;PARTIAL=o[.l]]`).
//!
//! Every URL of every message is resolved before anything is appended, so an
//! APPEND (MULTIAPPEND too) either adds all its messages or none (RFC 4469 §5,
//! RFC 3502 §6.3.11). A URL that cannot be resolved fails the command with
//! `NO [BADURL "url"]`; a result larger than the literal limit with
//! `NO [TOOBIG]`; a target that does not exist with `NO [TRYCREATE]` (checked
//! first, as Dovecot does, whatever the URLs say).

use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};
use imap_proto::{
    AString, AppendContent, CatenateMessage, CatenatePart, Code, Flag, Mailbox, Section,
    SectionText, StatusKind, Tag, Uid,
};

use super::ServerConnection;
use crate::mime::{MimeLimits, ParsedMessage};
use crate::store::NewMessage;

/// A parsed relative IMAP URL (RFC 5092 §6, `ipath-query` after the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImapUrl {
    /// The mailbox (`enc-mailbox`, percent-decoded UTF-8).
    pub mailbox: Mailbox,
    /// `;UIDVALIDITY=n`, when given.
    pub uid_validity: Option<NonZeroU32>,
    /// `;UID=n`.
    pub uid: Uid,
    /// `;SECTION=s` (the whole message when absent).
    pub section: Section,
    /// `;PARTIAL=offset[.length]`.
    pub partial: Option<(u64, Option<u64>)>,
    /// `;URLAUTH=…` was present (RFC 4467); the text after `;URLAUTH=`.
    pub urlauth: Option<String>,
}

/// `;PARTIAL=offset[.length]` (RFC 5092 §6) applied to a URL's data: the
/// octets from `offset` on, at most `length` of them, clamped to the data.
pub(crate) fn url_partial(data: Bytes, partial: Option<(u64, Option<u64>)>) -> Bytes {
    match partial {
        None => data,
        Some((offset, len)) => {
            let size = data.len() as u64;
            let start = offset.min(size);
            let end = len.map_or(size, |l| start.saturating_add(l).min(size));
            data.slice(start as usize..end as usize)
        }
    }
}

/// Percent-decode (RFC 3986 §2.1); `None` on a malformed escape.
pub(crate) fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Parse `enc-section` (RFC 5092 §6 after percent-decoding: RFC 9051's
/// `section-spec`): `1.2`, `HEADER`, `TEXT`, `1.MIME`, `HEADER.FIELDS (A B)`,
/// `1.HEADER.FIELDS.NOT (A)`.
pub(crate) fn parse_section(s: &str) -> Option<Section> {
    let mut part = Vec::new();
    let mut rest = s.trim();
    while let Some(first) = rest.bytes().next().filter(u8::is_ascii_digit) {
        let _ = first;
        let end = rest.find('.').unwrap_or(rest.len());
        part.push(NonZeroU32::new(rest[..end].parse::<u32>().ok()?)?);
        if end == rest.len() {
            rest = "";
        } else {
            rest = &rest[end + 1..];
            if rest.is_empty() {
                return None; // a trailing dot
            }
        }
    }
    if rest.is_empty() {
        return Some(Section { part, text: None });
    }
    let upper = rest.to_ascii_uppercase();
    let text = if upper == "HEADER" {
        SectionText::Header
    } else if upper == "TEXT" {
        SectionText::Text
    } else if upper == "MIME" && !part.is_empty() {
        SectionText::Mime
    } else if let Some(list) = upper.strip_prefix("HEADER.FIELDS.NOT") {
        SectionText::HeaderFieldsNot(header_list(list)?)
    } else if let Some(list) = upper.strip_prefix("HEADER.FIELDS") {
        SectionText::HeaderFields(header_list(list)?)
    } else {
        return None;
    };
    Some(Section {
        part,
        text: Some(text),
    })
}

/// ` (NAME NAME …)` of HEADER.FIELDS (atoms only; at least one).
fn header_list(s: &str) -> Option<Vec<AString>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    let names: Vec<AString> = inner
        .split_ascii_whitespace()
        .map(|n| AString::try_from(n.to_owned()).ok())
        .collect::<Option<_>>()?;
    (!names.is_empty()).then_some(names)
}

/// Parse a URL relative to this server (`"/" enc-mailbox [uidvalidity] iuid
/// [isection] [ipartial] [iurlauth]`, RFC 5092 §6). Absolute `imap://` URLs
/// are refused: the server cannot tell whether they name itself.
pub(crate) fn parse_url(url: &str) -> Option<ImapUrl> {
    let path = url.strip_prefix('/')?;
    let semi = path.find(';')?;
    let enc_mailbox = path[..semi].strip_suffix('/').unwrap_or(&path[..semi]);
    if enc_mailbox.is_empty() {
        return None;
    }
    let name = String::from_utf8(percent_decode(enc_mailbox)?).ok()?;
    let mailbox = Mailbox::from_utf8(&name);
    let mut uid_validity = None;
    let mut uid = None;
    let mut section = Section::default();
    let mut partial = None;
    let mut urlauth = None;
    let mut params = path[semi + 1..].split(';').peekable();
    while let Some(param) = params.next() {
        let param = param.strip_suffix('/').unwrap_or(param);
        let (key, value) = param.split_once('=')?;
        match key.to_ascii_uppercase().as_str() {
            "UIDVALIDITY" if uid.is_none() && uid_validity.is_none() => {
                uid_validity = Some(value.parse::<NonZeroU32>().ok()?);
            }
            "UID" if uid.is_none() => uid = Some(value.parse::<NonZeroU32>().ok()?),
            "SECTION" if uid.is_some() && partial.is_none() => {
                let decoded = String::from_utf8(percent_decode(value)?).ok()?;
                section = parse_section(&decoded)?;
            }
            "PARTIAL" if uid.is_some() && partial.is_none() => {
                let (o, l) = match value.split_once('.') {
                    Some((o, l)) => (o.parse::<u64>().ok()?, Some(l.parse::<u64>().ok()?)),
                    None => (value.parse::<u64>().ok()?, None),
                };
                partial = Some((o, l));
            }
            "EXPIRE" | "URLAUTH" if uid.is_some() => {
                // The rest of the URL is the authorization (RFC 4467 §3).
                let mut rest = param.to_owned();
                for p in params.by_ref() {
                    rest.push(';');
                    rest.push_str(p);
                }
                urlauth = Some(rest);
            }
            _ => return None,
        }
    }
    Some(ImapUrl {
        mailbox,
        uid_validity,
        uid: Uid(uid?),
        section,
        partial,
        urlauth,
    })
}

/// Why a CATENATE message could not be put together.
enum CatError {
    /// `[BADURL "url"]`.
    BadUrl(String),
    /// `[TOOBIG]`.
    TooBig,
    /// `[LIMIT]`: too many parts.
    TooManyParts,
}

impl ServerConnection {
    /// The data a relative URL names, for the logged-in user; `None` when it
    /// does not resolve (no such mailbox, UIDVALIDITY changed, no such UID or
    /// section, or a URLAUTH this command does not take).
    pub(super) fn resolve_url(&self, user: &str, url: &ImapUrl) -> Option<Bytes> {
        if url.urlauth.is_some() {
            return None;
        }
        self.resolve_url_data(user, url)
    }

    /// The data `url` names in `user`'s mailboxes, whatever its URLAUTH part
    /// (the caller has checked that).
    pub(super) fn resolve_url_data(&self, user: &str, url: &ImapUrl) -> Option<Bytes> {
        let raw = self.url_message(user, url)?;
        let data = if url.section == Section::default() {
            raw
        } else {
            let parsed = ParsedMessage::parse(raw, &MimeLimits::default());
            parsed.section(&url.section)?
        };
        Some(url_partial(data, url.partial))
    }

    /// The whole message a URL names in `user`'s mailbox, when the mailbox
    /// exists, still has the URL's UIDVALIDITY (if it gives one), and holds
    /// the UID.
    pub(super) fn url_message(&self, user: &str, url: &ImapUrl) -> Option<Bytes> {
        let status = self.store.status(user, &url.mailbox).ok()?;
        if url
            .uid_validity
            .is_some_and(|v| v.get() != status.uid_validity)
        {
            return None;
        }
        Some(self.store.message(user, &url.mailbox, url.uid).ok()?.data)
    }

    /// Put one CATENATE message together.
    fn catenate_parts(&self, user: &str, parts: &[CatenatePart]) -> Result<Bytes, CatError> {
        if parts.len() > self.config.limits.catenate_max_parts {
            return Err(CatError::TooManyParts);
        }
        let max = self.config.limits.max_literal;
        let mut out = BytesMut::new();
        for part in parts {
            match part {
                CatenatePart::Text(l) => out.extend_from_slice(l.data()),
                CatenatePart::Url(u) => {
                    let text = String::from_utf8_lossy(u.as_bytes()).into_owned();
                    // RFC 4469 §5 with RFC 4467: a URL carrying URLAUTH is
                    // verified as URLFETCH would (when the store has keys);
                    // a plain one must be relative and the user's own.
                    let data = if self.store.features().urlauth
                        && text
                            .get(..7)
                            .is_some_and(|s| s.eq_ignore_ascii_case("imap://"))
                    {
                        self.urlauth_fetch(user, &text)
                    } else {
                        parse_url(&text).and_then(|url| self.resolve_url(user, &url))
                    };
                    let data = data.ok_or(CatError::BadUrl(text))?;
                    out.extend_from_slice(&data);
                }
                _ => return Err(CatError::BadUrl(String::new())),
            }
            if out.len() as u64 > max {
                return Err(CatError::TooBig);
            }
        }
        Ok(out.freeze())
    }

    /// `APPEND` with at least one `CATENATE` message (RFC 4469 §5).
    pub(super) fn append_catenate(
        &mut self,
        tag: Tag,
        mailbox: Mailbox,
        messages: Vec<CatenateMessage>,
    ) {
        let user = self.user().unwrap_or_default().to_owned();
        if let Err(e) = self.store.status(&user, &mailbox) {
            return self.append_error(tag, &e);
        }
        let mut out = Vec::with_capacity(messages.len());
        for m in messages {
            let data = match &m.content {
                AppendContent::Literal { data, .. } => data.data().clone(),
                AppendContent::Catenate(parts) => match self.catenate_parts(&user, parts) {
                    Ok(d) => d,
                    Err(CatError::BadUrl(url)) => {
                        let code = Code::BadUrl(url_resp_text(&url));
                        return self.tagged(tag, StatusKind::No, Some(code), "bad URL");
                    }
                    Err(CatError::TooBig) => {
                        return self.tagged(
                            tag,
                            StatusKind::No,
                            Some(Code::TooBig),
                            "message too big",
                        );
                    }
                    Err(CatError::TooManyParts) => {
                        return self.tagged(
                            tag,
                            StatusKind::No,
                            Some(Code::Limit),
                            "too many CATENATE parts",
                        );
                    }
                },
                _ => {
                    return self.tagged(
                        tag,
                        StatusKind::Bad,
                        Some(Code::ClientBug),
                        "unknown APPEND data",
                    )
                }
            };
            let (secs, zone) = match m.date {
                Some(d) => (d.unix_timestamp(), d.zone_minutes()),
                None => (self.now_hint(), 0),
            };
            out.push(NewMessage {
                flags: m.flags.into_iter().filter(|f| *f != Flag::Recent).collect(),
                internal_date: (secs, zone),
                data: super::append_binary::convert_binary_parts(data),
            });
        }
        self.append_all(tag, mailbox, out);
    }
}

/// A URL as BADURL's `url-resp-text` (RFC 4469 §6): TEXT-CHARs but `]`.
fn url_resp_text(s: &str) -> Bytes {
    let clean: Vec<u8> = s
        .bytes()
        .filter(|&b| !matches!(b, b'\r' | b'\n' | b'\0' | b']'))
        .collect();
    if clean.is_empty() {
        Bytes::from_static(b"URL")
    } else {
        Bytes::from(clean)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("/INBOX;UIDVALIDITY=7/;UID=20/;section=1.MIME").unwrap();
        assert_eq!(u.mailbox, Mailbox::inbox());
        assert_eq!(u.uid_validity, NonZeroU32::new(7));
        assert_eq!(u.uid.get(), 20);
        assert_eq!(
            u.section,
            Section {
                part: vec![NonZeroU32::new(1).unwrap()],
                text: Some(SectionText::Mime)
            }
        );
        let u = parse_url("/a%20b/c/;uid=3/;partial=10.5").unwrap();
        assert_eq!(u.mailbox, Mailbox::from_utf8("a b/c"));
        assert_eq!(u.partial, Some((10, Some(5))));
        assert_eq!(u.section, Section::default());
        let u = parse_url("/x/;uid=3/;section=header.fields%20(subject%20from)").unwrap();
        assert_eq!(
            u.section.text,
            Some(SectionText::HeaderFields(vec![
                AString::from_static("SUBJECT"),
                AString::from_static("FROM")
            ]))
        );
        let u = parse_url("/x/;uid=3;urlauth=anonymous:internal:abc").unwrap();
        assert_eq!(u.urlauth.as_deref(), Some("urlauth=anonymous:internal:abc"));
        for bad in [
            "",
            "imap://host/INBOX/;uid=1",
            "/INBOX",
            "/INBOX/;uid=0",
            "/INBOX/;uid=x",
            "/;uid=1",
            "/INBOX/;section=1",
            "/INBOX/;uid=1/;section=1.X",
            "/INBOX/;uid=1/;foo=1",
            "/INBOX/;uid=1/;uid=2",
            "/a%zz/;uid=1",
        ] {
            assert!(parse_url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn sections() {
        assert_eq!(parse_section("TEXT").unwrap().text, Some(SectionText::Text));
        assert_eq!(parse_section("2.3").unwrap().part.len(), 2);
        assert!(parse_section("MIME").is_none());
        assert!(parse_section("0").is_none());
        assert!(parse_section("HEADER.FIELDS ()").is_none());
    }
}
