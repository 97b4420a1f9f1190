//! Command grammar (client → server): RFC 9051 §6 and §9 (`command`), the
//! IMAP4rev1 commands of RFC 3501 §6, and the extensions' commands.
//!
//! Commands are recognised by their name (read once with
//! [`Parser::atom_span`] and compared case-insensitively), never by trying one
//! alternative after another. A name the grammar does not know becomes
//! [`CommandBody::Other`] with its raw arguments; a known name with bad
//! arguments is an error.
//!
//! The grammar is split by connection state, as RFC 9051 §6 is: this module
//! has the entry points, the name dispatch, the any-state commands (§6.1) and
//! the not-authenticated ones with SASL (§6.2); [`authenticated`] the
//! mailbox commands of §6.3; [`extension`] the commands of the extensions
//! used in that state (QUOTA, URLAUTH, COMPRESS, METADATA, NOTIFY);
//! [`selected`] UID, COPY/MOVE, SEARCH, SORT and THREAD; [`mod@fetch`] FETCH
//! and STORE.

use bytes::Bytes;
use imap_proto::{
    decode_base64, Atom, AuthMechanism, AuthenticateData, Command, CommandBody, Mailbox, ModSeq,
    Secret,
};

use super::{PResult, Parser};

mod authenticated;
mod extension;
mod fetch;
mod selected;

use self::authenticated::{append, create, enable, list, lsub, rename, select, status};
use self::extension::{
    compress, gen_urlauth, get_metadata, notify, reset_key, set_metadata, set_quota, url_fetch,
};
use self::fetch::{fetch, store};
pub(crate) use self::fetch::{gm_label, object_id};
pub(crate) use self::selected::partial_range;
use self::selected::{cancel_update, copy_move, search, sort, thread, uid};

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

/// `idle-done`: `DONE` CRLF (RFC 2177 §3).
pub(crate) fn idle_done(p: &mut Parser<'_>) -> PResult<()> {
    p.keyword(b"DONE", "DONE")?;
    p.eol()
}
