//! URLAUTH (RFC 4467): GENURLAUTH, RESETKEY, URLFETCH, and the verification
//! of URLAUTH-authorized URLs that CATENATE (RFC 4469 §5) uses too.
//!
//! A URL is `imap://user@host/mailbox[;UIDVALIDITY=v]/;UID=n[/;SECTION=s]
//! [/;PARTIAL=o.l][;EXPIRE=datetime];URLAUTH=access:mechanism:token`. The
//! part before `:mechanism` is the *rump*; the only mechanism is `INTERNAL`:
//! the token is the hex HMAC-SHA1 (RFC 2104) of the rump's octets under the
//! owner's per-mailbox key ([`crate::Mailstore::urlauth_key`]). RESETKEY
//! makes the store forget keys, so every URL signed with them stops working.
//!
//! Choices where the RFC leaves room:
//! - GENURLAUTH signs only URLs of the logged-in user's own mailboxes that
//!   exist (and, with `;UIDVALIDITY=`, still have it); the message need not
//!   exist yet. It is all or nothing: no URL is returned unless all are
//!   signed. A malformed rump or a mechanism other than INTERNAL is `BAD`
//!   (RFC 4467 §7: arguments invalid; Dovecot 2.3 answers BAD too); another
//!   user's mailbox is `NO [NOPERM]` (Dovecot: BAD); a missing mailbox is
//!   `NO [NONEXISTENT]` (Dovecot: BAD). RESETKEY with a mechanism other than
//!   INTERNAL is `NO`, as in Dovecot. The host is not checked: this
//!   server does not know the names it is reached by.
//! - URLFETCH answers NIL for a URL that is malformed, has a wrong token, an
//!   access identifier that does not admit this session, an EXPIRE in the
//!   past (by the session's wall clock), or names data that does not exist.
//! - Access identifiers (RFC 4467 §3): `anonymous` admits every session,
//!   `authuser` every logged-in session, `user+name` only `name`.
//!   `submit+name` is for a submission server acting for `name`; this server
//!   has no such trusted submit identity, so it admits nobody here (a URL may
//!   still be generated for one, for a submission server elsewhere).
//! - Tokens are compared in constant time.

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use imap_proto::{
    AString, Atom, Code, Data, GenUrlauthItem, Literal, Mailbox, StatusKind, Tag, UrlFetchArg,
    UrlFetchData, UrlFetchValue,
};
use sha1::Sha1;

use super::catenate::{parse_url, percent_decode, ImapUrl};
use super::ServerConnection;
use crate::constant_time_eq;

type HmacSha1 = Hmac<Sha1>;

/// Who may fetch a URL (RFC 4467 §3 `access`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    /// `anonymous`.
    Anonymous,
    /// `authuser`.
    AuthUser,
    /// `user+name`.
    User(String),
    /// `submit+name`.
    Submit(String),
}

/// An absolute URLAUTH URL, taken apart.
#[derive(Debug)]
struct AuthUrl {
    /// The owner (the URL's `enc-user`).
    owner: String,
    /// Mailbox, UID, section, partial.
    url: ImapUrl,
    /// `;EXPIRE=`, seconds since the epoch.
    expire: Option<i64>,
    /// The access identifier.
    access: Access,
    /// The octets the token signs (everything before `:mechanism`).
    rump_len: usize,
    /// `mechanism` and `token`, for an authorized URL.
    auth: Option<(String, String)>,
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 `date-time` (`2026-12-06T21:00:00Z`, `…+02:00`, fractions
/// allowed) as seconds since the epoch; RFC 4467 §3's `;EXPIRE=`.
fn parse_datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !b[10].eq_ignore_ascii_case(&b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = if rest.eq_ignore_ascii_case("Z") {
        0
    } else {
        let sign = match rest.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let r = rest.as_bytes();
        if r.len() != 6 || r[3] != b':' {
            return None;
        }
        let oh: i64 = rest[1..3].parse().ok()?;
        let om: i64 = rest[4..6].parse().ok()?;
        if oh > 23 || om > 59 {
            return None;
        }
        sign * (oh * 3600 + om * 60)
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// `access` (RFC 4467 §9): `"submit+" enc-user / "user+" enc-user /
/// "authuser" / "anonymous"`.
fn parse_access(s: &str) -> Option<Access> {
    let lower = s.to_ascii_lowercase();
    let name = |rest: &str| {
        let n = String::from_utf8(percent_decode(rest)?).ok()?;
        (!n.is_empty()).then_some(n)
    };
    if lower == "anonymous" {
        Some(Access::Anonymous)
    } else if lower == "authuser" {
        Some(Access::AuthUser)
    } else if lower.starts_with("user+") {
        Some(Access::User(name(&s[5..])?))
    } else if lower.starts_with("submit+") {
        Some(Access::Submit(name(&s[7..])?))
    } else {
        None
    }
}

/// Take an absolute URLAUTH URL apart: a rump (`authorized` false: it ends
/// with the access identifier) or an authorized URL (`:mechanism:token`
/// follows).
fn parse_auth_url(s: &str, authorized: bool) -> Option<AuthUrl> {
    let scheme = s.get(..7)?;
    if !scheme.eq_ignore_ascii_case("imap://") {
        return None;
    }
    let rest = &s[7..];
    let slash = rest.find('/')?;
    let (userinfo, _host) = rest[..slash].rsplit_once('@')?;
    let enc_user = userinfo.split(';').next()?;
    let owner = String::from_utf8(percent_decode(enc_user)?).ok()?;
    if owner.is_empty() {
        return None;
    }
    let url = parse_url(&rest[slash..])?;
    let tail = url.urlauth.clone()?;
    let mut parts = tail.split(';');
    let mut first = parts.next()?;
    let mut expire = None;
    if first.len() > 7 && first[..7].eq_ignore_ascii_case("EXPIRE=") {
        expire = Some(parse_datetime(&first[7..])?);
        first = parts.next()?;
    }
    if parts.next().is_some() || first.len() < 8 || !first[..8].eq_ignore_ascii_case("URLAUTH=") {
        return None;
    }
    let value = &first[8..];
    let (access, rump_len, auth) = if authorized {
        let mut it = value.rsplitn(3, ':');
        let token = it.next()?;
        let mech = it.next()?;
        let access = it.next()?;
        let len = s.len() - mech.len() - token.len() - 2;
        (access, len, Some((mech.to_owned(), token.to_owned())))
    } else {
        (value, s.len(), None)
    };
    if access.contains(':') {
        return None;
    }
    Some(AuthUrl {
        owner,
        url,
        expire,
        access: parse_access(access)?,
        rump_len,
        auth,
    })
}

/// The INTERNAL token: HMAC-SHA1 of the rump under the key.
fn internal_token(key: &[u8], rump: &[u8]) -> Option<Vec<u8>> {
    let mut mac = <HmacSha1 as KeyInit>::new_from_slice(key).ok()?;
    mac.update(rump);
    Some(mac.finalize().into_bytes().to_vec())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Message data as a literal (literal8 when it holds NUL).
pub(super) fn data_literal(d: Bytes) -> Literal {
    Literal::new(d.clone()).unwrap_or_else(|_| Literal::binary(d))
}

/// Whether `m` names the INTERNAL mechanism.
fn is_internal(m: &[u8]) -> bool {
    m.eq_ignore_ascii_case(b"INTERNAL")
}

impl ServerConnection {
    /// Verify an authorized URL for the logged-in `user` and return the data
    /// it names, or `None` (RFC 4467 §7 URLFETCH; RFC 4469 §5 CATENATE).
    pub(super) fn urlauth_fetch(&self, user: &str, text: &str) -> Option<Bytes> {
        let (owner, url) = self.urlauth_verify(user, text)?;
        self.resolve_url_data(&owner, &url)
    }

    /// Verify an authorized URL for the logged-in `user` (RFC 4467 §7): its
    /// access identifier admits `user`, it has not expired, and its token is
    /// the INTERNAL HMAC under the owner's current key. Returns the owner and
    /// the URL's mailbox, UID, section and partial; `None` when it fails.
    pub(super) fn urlauth_verify(&self, user: &str, text: &str) -> Option<(String, ImapUrl)> {
        let u = parse_auth_url(text, true)?;
        let admitted = match &u.access {
            Access::Anonymous | Access::AuthUser => true,
            Access::User(name) => name == user,
            Access::Submit(_) => false,
        };
        if !admitted || u.expire.is_some_and(|e| self.now_hint() >= e) {
            return None;
        }
        let (mech, token) = u.auth.as_ref()?;
        if !is_internal(mech.as_bytes()) {
            return None;
        }
        let given = unhex(token)?;
        let key = self
            .store
            .urlauth_key(&u.owner, &u.url.mailbox, false)
            .ok()??;
        let expected = internal_token(&key, &text.as_bytes()[..u.rump_len])?;
        if !constant_time_eq(&expected, &given) {
            return None;
        }
        let mut url = u.url;
        url.urlauth = None;
        Some((u.owner, url))
    }

    /// `GENURLAUTH url-rump mechanism …` (RFC 4467 §7).
    pub(super) fn gen_urlauth(&mut self, tag: Tag, items: Vec<GenUrlauthItem>) {
        let user = self.user().unwrap_or_default().to_owned();
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            if !is_internal(item.mechanism.as_bytes()) {
                return self.tagged(
                    tag,
                    StatusKind::Bad,
                    Some(Code::ClientBug),
                    "unknown URLAUTH mechanism (only INTERNAL)",
                );
            }
            let text = String::from_utf8_lossy(item.url.as_bytes()).into_owned();
            let Some(u) = parse_auth_url(&text, false) else {
                return self.tagged(
                    tag,
                    StatusKind::Bad,
                    Some(Code::ClientBug),
                    "not a URLAUTH-ready URL",
                );
            };
            if u.owner != user {
                return self.tagged(
                    tag,
                    StatusKind::No,
                    Some(Code::NoPerm),
                    "the URL names another user's mailbox",
                );
            }
            let status = match self.store.status(&user, &u.url.mailbox) {
                Ok(s) => s,
                Err(e) => return self.store_error(tag, &e),
            };
            if u.url
                .uid_validity
                .is_some_and(|v| v.get() != status.uid_validity)
            {
                return self.tagged(tag, StatusKind::No, None, "UIDVALIDITY has changed");
            }
            let key = match self.store.urlauth_key(&user, &u.url.mailbox, true) {
                Ok(Some(k)) => k,
                Ok(None) => {
                    return self.tagged(
                        tag,
                        StatusKind::No,
                        Some(Code::ServerBug),
                        "no URLAUTH key",
                    )
                }
                Err(e) => return self.store_error(tag, &e),
            };
            let Some(mac) = internal_token(&key, text.as_bytes()) else {
                return self.tagged(tag, StatusKind::No, Some(Code::ServerBug), "no HMAC");
            };
            let full = format!("{text}:internal:{}", hex(&mac));
            match AString::try_from(full) {
                Ok(a) => out.push(a),
                Err(_) => return self.tagged(tag, StatusKind::No, None, "bad URL"),
            }
        }
        self.data(Data::GenUrlauth(out));
        self.tagged(tag, StatusKind::Ok, None, "GENURLAUTH completed");
    }

    /// `RESETKEY [mailbox *(mechanism)]` (RFC 4467 §7).
    pub(super) fn reset_key(&mut self, tag: Tag, mailbox: Option<Mailbox>, mechanisms: Vec<Atom>) {
        let user = self.user().unwrap_or_default().to_owned();
        if mechanisms.iter().any(|m| !is_internal(m.as_bytes())) {
            return self.tagged(
                tag,
                StatusKind::No,
                None,
                "unknown URLAUTH mechanism (only INTERNAL)",
            );
        }
        if let Some(m) = &mailbox {
            if let Err(e) = self.store.status(&user, m) {
                return self.store_error(tag, &e);
            }
        }
        match self.store.reset_urlauth_keys(&user, mailbox.as_ref()) {
            Ok(()) => self.tagged(tag, StatusKind::Ok, None, "RESETKEY completed"),
            Err(e) => self.store_error(tag, &e),
        }
    }

    /// `URLFETCH url …` (RFC 4467 §7), and `URLFETCH (url param …) …` of
    /// URLAUTH=BINARY (RFC 5524 §3, see `urlauth_binary.rs`). A URL that
    /// does not verify or resolve gets NIL; the command itself succeeds.
    pub(super) fn url_fetch(&mut self, tag: Tag, args: Vec<UrlFetchArg>) {
        let user = self.user().unwrap_or_default().to_owned();
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            let text = String::from_utf8_lossy(a.url.as_bytes()).into_owned();
            let value = match &a.params {
                None => UrlFetchValue::Plain(self.urlauth_fetch(&user, &text).map(data_literal)),
                Some(params) => self
                    .urlauth_verify(&user, &text)
                    .and_then(|(owner, url)| self.url_fetch_extended(&owner, &url, params))
                    .map_or(UrlFetchValue::Plain(None), UrlFetchValue::Extended),
            };
            out.push(UrlFetchData { url: a.url, value });
        }
        self.data(Data::UrlFetch(out));
        self.tagged(tag, StatusKind::Ok, None, "URLFETCH completed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_datetime("2000-03-01T00:00:00z"), Some(951_868_800));
        assert_eq!(
            parse_datetime("2000-03-01T02:00:00.25+02:00"),
            Some(951_868_800)
        );
        assert_eq!(
            parse_datetime("1999-12-31T19:00:00-05:00"),
            Some(946_684_800)
        );
        for bad in [
            "",
            "2000-03-01",
            "2000-03-01T00:00:00",
            "2000-13-01T00:00:00Z",
            "2000-03-01T00:00:00+0200",
            "2000-03-01T00:00:00.Z",
            "2000-03-01 00:00:00Z",
            "+000-03-01T00:00:00Z",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls() {
        let rump = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred";
        let u = parse_auth_url(rump, false).unwrap();
        assert_eq!(u.owner, "joe");
        assert_eq!(u.access, Access::Submit("fred".into()));
        assert_eq!(u.rump_len, rump.len());
        let full = format!("{rump}:internal:91354a473744909de610943775f92038");
        let u = parse_auth_url(&full, true).unwrap();
        assert_eq!(u.rump_len, rump.len());
        assert_eq!(
            u.auth,
            Some(("internal".into(), "91354a473744909de610943775f92038".into()))
        );
        let u = parse_auth_url(
            "IMAP://a%40b;AUTH=*@h/x/;UID=1;EXPIRE=2030-01-01T00:00:00Z;URLAUTH=AuthUser",
            false,
        )
        .unwrap();
        assert_eq!(u.owner, "a@b");
        assert_eq!(u.access, Access::AuthUser);
        assert_eq!(u.expire, parse_datetime("2030-01-01T00:00:00Z"));
        for bad in [
            "/INBOX/;uid=1;urlauth=anonymous",
            "imap://joe@h/INBOX/;uid=1",
            "imap://@h/INBOX/;uid=1;urlauth=anonymous",
            "imap://joe@h/INBOX/;uid=1;urlauth=nobody",
            "imap://joe@h/INBOX/;uid=1;urlauth=user+",
            "imap://joe@h/INBOX/;uid=1;urlauth=anonymous:internal:00",
            "imap://joe@h/INBOX/;uid=1;expire=soon;urlauth=anonymous",
            "imap://joe@h/INBOX/;uid=1;urlauth=anonymous;expire=2030-01-01T00:00:00Z",
        ] {
            assert!(parse_auth_url(bad, false).is_none(), "{bad}");
        }
        assert!(parse_auth_url("imap://joe@h/INBOX/;uid=1;urlauth=anonymous", true).is_none());
    }

    #[test]
    fn hmac_sha1_rfc2202() {
        // RFC 2202 §3, test case 2.
        let mac = internal_token(b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(hex(&mac), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }
}
