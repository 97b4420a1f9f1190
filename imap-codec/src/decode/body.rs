//! ENVELOPE and BODY/BODYSTRUCTURE (RFC 9051 §7.5.2 and §9 `envelope`, `body`),
//! owned by the response grammar.
//!
//! Every nested body passes through [`Parser::enter`], so a 100,000-deep
//! BODYSTRUCTURE fails with `TooDeep` instead of exhausting the stack. Strings
//! are zero-copy slices of the received message.

use imap_proto::{
    Address, Body, BodyExtension, BodyFields, BodySpecific, BodyStructure, Disposition,
    DispositionExt, Envelope, IString, LanguageExt, LocationExt, MultiPartExtension,
    SinglePartExtension,
};

use bytes::Bytes;

use super::{PResult, Parser};
use crate::config::{DecodeConfig, Limits, Quirks};

// ===== building checked values =====

/// The configuration [`build_envelope`] and [`build_body`] parse with: every
/// quirk on and no limits. The bytes were checked when the response was
/// decoded, under the caller's configuration; quirks only widen what is
/// accepted (none changes the value of input a stricter setting accepts),
/// and the checked bytes are finite, so this reads them the same way.
fn permissive() -> DecodeConfig {
    DecodeConfig {
        limits: Limits {
            max_depth: usize::MAX,
            max_list_items: usize::MAX,
            ..Limits::responses()
        },
        quirks: Quirks::default(),
        utf8_mailboxes: true,
        defer_structures: false,
    }
}

/// Build an ENVELOPE from bytes [`super::skip::envelope`] accepted: the
/// `build` function of the [`imap_proto::Lazy`] in `FetchItem::Envelope`.
/// Bytes that were not checked and do not parse give an empty envelope.
pub(crate) fn build_envelope(raw: &Bytes) -> Envelope {
    let cfg = permissive();
    let mut p = Parser::new(raw, &cfg);
    let mut e = Envelope::default();
    match envelope_into(&mut p, &mut e) {
        Ok(()) => e,
        // Not reached for checked bytes (`fuzzing::lazy_agrees` holds the
        // checker and this builder together); no panic either way.
        Err(_) => Envelope::default(),
    }
}

/// Build a BODY or BODYSTRUCTURE from bytes [`super::skip::body`] accepted
/// (see [`build_envelope`]). Bytes that were not checked and do not parse give
/// an empty `TEXT/PLAIN` part.
pub(crate) fn build_body(raw: &Bytes) -> BodyStructure {
    let cfg = permissive();
    let mut p = Parser::new(raw, &cfg);
    let mut b = empty_body();
    match body_into(&mut p, &mut b) {
        Ok(()) => b,
        // As for `build_envelope`.
        Err(_) => BodyStructure::Single {
            body: Body {
                media_type: IString::from_static("TEXT"),
                subtype: IString::from_static("PLAIN"),
                fields: BodyFields::default(),
                specific: BodySpecific::Text { lines: 0 },
            },
            extension: None,
        },
    }
}

/// Before an optional trailing field: consume the separating space and say
/// whether a field follows. A space that only precedes `)` is skipped when the
/// `trailing_space` quirk allows it, and then no field follows.
pub(crate) fn more(p: &mut Parser<'_>) -> PResult<bool> {
    p.skip_space_before_close();
    if p.at_sp() {
        p.sp()?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Whether lenient spacing is on (spaces where the grammar has none, as between
/// the parts of `1*body` or `1*address`).
#[inline]
pub(crate) fn lenient_spaces(p: &Parser<'_>) -> bool {
    p.cfg.quirks.extra_spaces || p.cfg.quirks.trailing_space
}

// ===== envelope =====

/// `envelope` (RFC 9051 §7.5.2 and §9): date, subject, six address lists,
/// in-reply-to and message-id. Address lists are empty for `NIL`.
pub(crate) fn envelope(p: &mut Parser<'_>) -> PResult<Box<Envelope>> {
    // Filled in place in its box: an envelope is 300 bytes, and returning it
    // by value copies it twice on the way into the box.
    let mut e = Box::<Envelope>::default();
    envelope_into(p, &mut e)?;
    Ok(e)
}

/// [`envelope`] into `e` (which starts empty).
fn envelope_into(p: &mut Parser<'_>, e: &mut Envelope) -> PResult<()> {
    p.expect(b'(', "envelope")?;
    p.nstring_into(&mut e.date)?;
    p.sp()?;
    p.nstring_into(&mut e.subject)?;
    p.sp()?;
    let start = p.pos;
    addresses_into(p, &mut e.from)?;
    let from = &p.buf[start..p.pos];
    p.sp()?;
    if !repeated_list(p, from, &e.from, &mut e.sender) {
        addresses_into(p, &mut e.sender)?;
    }
    p.sp()?;
    if !repeated_list(p, from, &e.from, &mut e.reply_to) {
        addresses_into(p, &mut e.reply_to)?;
    }
    p.sp()?;
    addresses_into(p, &mut e.to)?;
    p.sp()?;
    addresses_into(p, &mut e.cc)?;
    p.sp()?;
    addresses_into(p, &mut e.bcc)?;
    p.sp()?;
    p.nstring_into(&mut e.in_reply_to)?;
    p.sp()?;
    p.nstring_into(&mut e.message_id)?;
    p.skip_space_before_close();
    p.expect(b')', ") after envelope")
}

/// Servers send the same list for From, Sender and Reply-To. When the input
/// goes on with `text`, the bytes `list` was parsed from, `out` becomes a
/// copy of `list` and the bytes are skipped: parsing them again would give
/// the same value (an address list is self-delimiting, and its parse depends
/// on nothing but its bytes). Copying the strings costs a fraction of
/// parsing them.
#[inline]
fn repeated_list(
    p: &mut Parser<'_>,
    text: &[u8],
    list: &[Address],
    out: &mut Vec<Address>,
) -> bool {
    if list.is_empty() || !p.rest().starts_with(text) {
        return false;
    }
    *out = list.to_vec();
    p.pos += text.len();
    true
}

/// `"(" 1*address ")" / nil`, filled into `out` (empty for NIL).
fn addresses_into(p: &mut Parser<'_>, out: &mut Vec<Address>) -> PResult<()> {
    if !p.eat(b'(') {
        p.nil("address list")?;
        return Ok(());
    }
    // Most lists hold one or two addresses. (`with_capacity` allocates
    // directly; `reserve` on an empty vector takes the slower growth path.)
    *out = Vec::with_capacity(2);
    loop {
        match p.peek() {
            Some(b'(') => {
                out.push(Address::default());
                let slot = out.len() - 1;
                address_into(p, &mut out[slot])?;
                p.check_items(out.len())?;
            }
            Some(b')') => {
                if out.is_empty() && !p.cfg.quirks.empty_lists {
                    return p.err("address");
                }
                p.pos += 1;
                return Ok(());
            }
            Some(b' ') if lenient_spaces(p) => p.pos += 1,
            _ => return p.err("address"),
        }
    }
}

/// `address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`,
/// filled in place.
fn address_into(p: &mut Parser<'_>, a: &mut Address) -> PResult<()> {
    p.expect(b'(', "address")?;
    // One loop around one inlined copy of the nstring parser: a call per
    // field cost a fifth of the field.
    for (i, field) in [&mut a.name, &mut a.adl, &mut a.mailbox, &mut a.host]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            p.sp()?;
        }
        p.nstring_in_place(field)?;
    }
    p.skip_space_before_close();
    p.expect(b')', ") after address")
}

// ===== body =====

/// `body` (RFC 9051 §9): a single part or a multipart, with extension data when
/// present (BODYSTRUCTURE). [`BodySpecific`] is chosen from the media type:
/// `TEXT/*` has a line count, `MESSAGE/RFC822` and `MESSAGE/GLOBAL` an
/// encapsulated envelope and body, everything else is basic.
///
/// Boxed, as every user stores it: the value (some 450 bytes) is built in
/// place in its box, and the parts of a multipart in place in their vector,
/// instead of being copied through each level's `Result`.
pub(crate) fn body(p: &mut Parser<'_>) -> PResult<Box<BodyStructure>> {
    let mut b = Box::new(empty_body());
    body_into(p, &mut b)?;
    Ok(b)
}

/// A placeholder that [`body_into`] overwrites.
fn empty_body() -> BodyStructure {
    BodyStructure::Single {
        body: Body {
            media_type: IString::default(),
            subtype: IString::default(),
            fields: BodyFields::default(),
            specific: BodySpecific::Basic,
        },
        extension: None,
    }
}

/// [`body`] into `out`, which holds [`empty_body`].
fn body_into(p: &mut Parser<'_>, out: &mut BodyStructure) -> PResult<()> {
    p.expect(b'(', "body")?;
    p.enter()?;
    if p.peek() == Some(b'(') {
        multipart(p, out)?;
    } else {
        single_part(p, out)?;
    }
    p.skip_space_before_close();
    p.expect(b')', ") after body")?;
    p.leave();
    Ok(())
}

/// `body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]`.
fn multipart(p: &mut Parser<'_>, out: &mut BodyStructure) -> PResult<()> {
    let mut bodies = Vec::with_capacity(2);
    loop {
        bodies.push(empty_body());
        let slot = bodies.len() - 1;
        body_into(p, &mut bodies[slot])?;
        p.check_items(bodies.len())?;
        if !another_part(p) {
            break;
        }
    }
    p.sp()?;
    let subtype = p.string()?;
    let extension = if more(p)? {
        let params = params(p)?;
        let tail = if more(p)? {
            Some(disposition_ext(p)?)
        } else {
            None
        };
        Some(MultiPartExtension { params, tail })
    } else {
        None
    };
    *out = BodyStructure::Multi {
        bodies,
        subtype,
        extension,
    };
    Ok(())
}

/// After a part of a multipart: whether another part follows (`(` next, or,
/// with lenient spacing, after spaces, which are then skipped: some servers
/// separate the parts with a space).
pub(crate) fn another_part(p: &mut Parser<'_>) -> bool {
    if p.peek() == Some(b'(') {
        return true;
    }
    if p.at_sp() && lenient_spaces(p) {
        let skip = p.rest().iter().take_while(|&&b| b == b' ').count();
        if p.rest().get(skip) == Some(&b'(') {
            p.pos += skip;
            return true;
        }
    }
    false
}

/// `body-type-1part = (body-type-basic / body-type-msg / body-type-text)
/// [SP body-ext-1part]`, into `out` (which holds [`empty_body`]).
fn single_part(p: &mut Parser<'_>, out: &mut BodyStructure) -> PResult<()> {
    if !matches!(out, BodyStructure::Single { .. }) {
        *out = empty_body();
    }
    let BodyStructure::Single { body, extension } = out else {
        return p.err("body");
    };
    for (i, field) in [&mut body.media_type, &mut body.subtype]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            p.sp()?;
        }
        p.string_into(field)?;
    }
    p.sp()?;
    body_fields(p, &mut body.fields)?;
    if body.media_type.eq_ignore_case("TEXT") {
        p.sp()?;
        body.specific = BodySpecific::Text {
            lines: p.number64()?,
        };
    } else if body.media_type.eq_ignore_case("MESSAGE")
        && (body.subtype.eq_ignore_case("RFC822") || body.subtype.eq_ignore_case("GLOBAL"))
    {
        p.sp()?;
        let envelope = envelope(p)?;
        p.sp()?;
        let inner = self::body(p)?;
        p.sp()?;
        let lines = p.number64()?;
        body.specific = BodySpecific::Message {
            envelope,
            body: inner,
            lines,
        };
    }
    if more(p)? {
        let md5 = p.nstring()?;
        let tail = if more(p)? {
            Some(disposition_ext(p)?)
        } else {
            None
        };
        *extension = Some(SinglePartExtension { md5, tail });
    }
    Ok(())
}

/// `body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP
/// body-fld-enc SP body-fld-octets`.
fn body_fields(p: &mut Parser<'_>, f: &mut BodyFields) -> PResult<()> {
    f.params = params(p)?;
    p.sp()?;
    p.nstring_into(&mut f.id)?;
    p.sp()?;
    p.nstring_into(&mut f.description)?;
    p.sp()?;
    nil_as_empty_into(p, &mut f.encoding)?;
    p.sp()?;
    f.size = p.number()?;
    Ok(())
}

/// A string, or with the `nil_param_value` quirk `NIL` read as an empty string
/// (Mail.ru's `("boundary" NIL)`).
#[inline(always)]
fn nil_as_empty_into(p: &mut Parser<'_>, out: &mut IString) -> PResult<()> {
    if p.cfg.quirks.nil_param_value && p.peek() != Some(b'"') && p.eat_nil() {
        *out = IString::default();
        return Ok(());
    }
    p.string_into(out)
}

/// `body-fld-param = "(" string SP string *(SP string SP string) ")" / nil`;
/// empty for NIL.
fn params(p: &mut Parser<'_>) -> PResult<Vec<(IString, IString)>> {
    if p.peek() != Some(b'(') {
        p.nil("body parameters")?;
        return Ok(Vec::new());
    }
    p.expect(b'(', "body parameters")?;
    p.enter()?;
    p.skip_space_before_close();
    if p.eat(b')') {
        if !p.cfg.quirks.empty_lists {
            p.pos -= 1;
            return p.err("list item");
        }
        p.leave();
        return Ok(Vec::new());
    }
    // One or two pairs as a rule (charset; name and size).
    let mut out = Vec::with_capacity(2);
    loop {
        out.push((IString::default(), IString::default()));
        let slot = out.len() - 1;
        let (key, value) = &mut out[slot];
        p.string_into(key)?;
        p.sp()?;
        nil_as_empty_into(p, value)?;
        p.check_items(out.len())?;
        p.skip_space_before_close();
        if p.eat(b')') {
            break;
        }
        p.sp()?;
    }
    p.leave();
    Ok(out)
}

/// `body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]`.
fn disposition_ext(p: &mut Parser<'_>) -> PResult<DispositionExt> {
    let disposition = if p.eat(b'(') {
        let kind = p.string()?;
        p.sp()?;
        let params = params(p)?;
        p.skip_space_before_close();
        p.expect(b')', ") after disposition")?;
        Some(Disposition { kind, params })
    } else {
        p.nil("body disposition")?;
        None
    };
    let tail = if more(p)? {
        Some(language_ext(p)?)
    } else {
        None
    };
    Ok(DispositionExt { disposition, tail })
}

/// `body-fld-lang [SP body-fld-loc *(SP body-extension)]`; the language is
/// `nstring / "(" string *(SP string) ")"`.
fn language_ext(p: &mut Parser<'_>) -> PResult<LanguageExt> {
    let language = if p.peek() == Some(b'(') {
        p.paren_list(false, Parser::string)?
    } else {
        match p.nstring()? {
            Some(s) => vec![s],
            None => Vec::new(),
        }
    };
    let tail = if more(p)? {
        let location = p.nstring()?;
        let mut extensions = Vec::new();
        while more(p)? {
            extensions.push(body_extension(p)?);
            p.check_items(extensions.len())?;
        }
        Some(LocationExt {
            location,
            extensions,
        })
    } else {
        None
    };
    Ok(LanguageExt { language, tail })
}

/// `body-extension = nstring / number / number64 / "(" body-extension
/// *(SP body-extension) ")"`.
fn body_extension(p: &mut Parser<'_>) -> PResult<BodyExtension> {
    match p.peek() {
        Some(b'(') => Ok(BodyExtension::List(p.paren_list(false, body_extension)?)),
        Some(b) if b.is_ascii_digit() => Ok(BodyExtension::Number(p.number64()?)),
        _ => Ok(BodyExtension::NString(p.nstring()?)),
    }
}
