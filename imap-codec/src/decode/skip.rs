//! ENVELOPE and BODYSTRUCTURE validated without building values.
//!
//! A FETCH response carries its ENVELOPE and BODYSTRUCTURE as
//! [`Lazy`](imap_proto::Lazy) values: the decoder checks their syntax here,
//! keeps the bytes, and builds the structure (with [`super::body`]) only when
//! someone looks at it. Building is most of the cost of a sync-stream FETCH
//! (some forty strings and a dozen allocations, and as many frees when the value
//! is dropped unread); checking is a walk over the bytes.
//!
//! Every function here mirrors the one of the same name in [`super::body`] and
//! accepts exactly the same input under the same
//! [`DecodeConfig`](crate::DecodeConfig) (quirks and limits), failing at the
//! same offset with the same expectation. `fuzzing::lazy_agrees`, run by
//! `cargo test` over its seeds, every response corpus and thousands of
//! mutations (and a fuzz target), holds the two to that. Keep them in step
//! when the grammar changes.

use super::body::{another_part, lenient_spaces, more};
use super::{scan_quoted, PResult, Parser};

/// What a validated string holds, for the few places that look at it (the
/// media type and subtype of a body part): its bytes as they are on the wire,
/// and whether they hold backslash escapes (a quoted string's).
#[derive(Clone, Copy)]
struct Content<'a> {
    bytes: &'a [u8],
    escaped: bool,
}

impl Content<'_> {
    /// Whether the content is `word`, ASCII case-insensitively.
    fn eq_ignore_case(self, word: &[u8]) -> bool {
        if !self.escaped {
            return self.bytes.eq_ignore_ascii_case(word);
        }
        let mut unescaped = Vec::with_capacity(self.bytes.len());
        let mut bytes = self.bytes.iter();
        while let Some(&b) = bytes.next() {
            let b = if b == b'\\' {
                bytes.next().copied().unwrap_or(b)
            } else {
                b
            };
            unescaped.push(b);
        }
        unescaped.eq_ignore_ascii_case(word)
    }
}

impl<'a> Parser<'a> {
    /// [`Parser::string`], checked only.
    #[inline(never)]
    fn skip_string(&mut self) -> PResult<Content<'a>> {
        match self.peek() {
            Some(b'"') => {
                let start = self.pos + 1;
                let escaped = self.skip_quoted()?;
                Ok(Content {
                    bytes: &self.buf[start..self.pos - 1],
                    escaped,
                })
            }
            Some(b'{') => {
                let start = self.pos;
                let (data_start, data_end) = self.literal_span()?;
                let data = &self.buf[data_start..data_end];
                if memchr::memchr(0, data).is_some() {
                    self.pos = start;
                    return self.err("literal without NUL");
                }
                Ok(Content {
                    bytes: data,
                    escaped: false,
                })
            }
            _ => self.err("string"),
        }
    }

    /// [`Parser::quoted_span`], checked only, with the cursor in a local
    /// (where the compiler keeps it in a register) and without the span.
    /// Says whether the string holds escapes.
    #[inline(always)]
    fn skip_quoted(&mut self) -> PResult<bool> {
        let buf = self.buf;
        let strict8 = self.strict8;
        // The caller saw the opening quote.
        let mut i = self.pos + 1;
        let mut escaped = false;
        loop {
            i += scan_quoted(buf.get(i..).unwrap_or_default(), strict8);
            let (at, expected) = match buf.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(escaped);
                }
                Some(b'\\') => match buf.get(i + 1) {
                    Some(b'"') | Some(b'\\') => {
                        i += 2;
                        escaped = true;
                        continue;
                    }
                    _ => (i + 1, "escaped \" or \\"),
                },
                Some(0) | Some(b'\r') | Some(b'\n') => (i, "quoted character"),
                Some(0x80..=0xff) => (i, "7-bit quoted character"),
                Some(_) => {
                    i += 1;
                    continue;
                }
                None => (i, "closing quote"),
            };
            self.pos = at;
            return self.err(expected);
        }
    }

    /// [`Parser::nstring`], checked only (one call; see
    /// [`Parser::skip_nstring_inline`]).
    #[inline(never)]
    fn skip_nstring(&mut self) -> PResult<()> {
        self.skip_nstring_inline()
    }

    /// [`Parser::skip_nstring`], inlined: for the loop over an address's four
    /// fields, where the call cost a fifth of the field.
    #[inline(always)]
    fn skip_nstring_inline(&mut self) -> PResult<()> {
        match self.peek() {
            Some(b'"') => self.skip_quoted().map(drop),
            Some(b'{') => self.skip_string().map(drop),
            _ if self.eat_nil() => Ok(()),
            _ => self.err("nstring"),
        }
    }
}

// ===== envelope =====

/// [`super::body::envelope`], checked only.
pub(crate) fn envelope(p: &mut Parser<'_>) -> PResult<()> {
    p.expect(b'(', "envelope")?;
    p.skip_nstring()?;
    p.sp()?;
    p.skip_nstring()?;
    p.sp()?;
    // From, Sender, Reply-To, To, Cc, Bcc.
    for _ in 0..6 {
        addresses(p)?;
        p.sp()?;
    }
    p.skip_nstring()?;
    p.sp()?;
    p.skip_nstring()?;
    p.skip_space_before_close();
    p.expect(b')', ") after envelope")
}

/// `"(" 1*address ")" / nil`.
fn addresses(p: &mut Parser<'_>) -> PResult<()> {
    if !p.eat(b'(') {
        return p.nil("address list");
    }
    let mut n = 0;
    loop {
        match p.peek() {
            Some(b'(') => {
                n += 1;
                address(p)?;
                p.check_items(n)?;
            }
            Some(b')') => {
                if n == 0 && !p.cfg.quirks.empty_lists {
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

/// `"(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"`.
fn address(p: &mut Parser<'_>) -> PResult<()> {
    p.expect(b'(', "address")?;
    for i in 0..4 {
        if i > 0 {
            p.sp()?;
        }
        p.skip_nstring_inline()?;
    }
    p.skip_space_before_close();
    p.expect(b')', ") after address")
}

// ===== body =====

/// [`super::body::body`], checked only.
pub(crate) fn body(p: &mut Parser<'_>) -> PResult<()> {
    p.expect(b'(', "body")?;
    p.enter()?;
    if p.peek() == Some(b'(') {
        multipart(p)?;
    } else {
        single_part(p)?;
    }
    p.skip_space_before_close();
    p.expect(b')', ") after body")?;
    p.leave();
    Ok(())
}

/// `1*body SP media-subtype [SP body-ext-mpart]`.
fn multipart(p: &mut Parser<'_>) -> PResult<()> {
    let mut n = 0;
    loop {
        n += 1;
        body(p)?;
        p.check_items(n)?;
        if !another_part(p) {
            break;
        }
    }
    p.sp()?;
    p.skip_string()?;
    if more(p)? {
        params(p)?;
        if more(p)? {
            disposition_ext(p)?;
        }
    }
    Ok(())
}

/// `(body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]`.
fn single_part(p: &mut Parser<'_>) -> PResult<()> {
    let media_type = p.skip_string()?;
    p.sp()?;
    let subtype = p.skip_string()?;
    p.sp()?;
    body_fields(p)?;
    if media_type.eq_ignore_case(b"TEXT") {
        p.sp()?;
        p.number64()?;
    } else if media_type.eq_ignore_case(b"MESSAGE")
        && (subtype.eq_ignore_case(b"RFC822") || subtype.eq_ignore_case(b"GLOBAL"))
    {
        p.sp()?;
        envelope(p)?;
        p.sp()?;
        body(p)?;
        p.sp()?;
        p.number64()?;
    }
    if more(p)? {
        p.skip_nstring()?;
        if more(p)? {
            disposition_ext(p)?;
        }
    }
    Ok(())
}

/// `body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
/// body-fld-octets`.
fn body_fields(p: &mut Parser<'_>) -> PResult<()> {
    params(p)?;
    p.sp()?;
    p.skip_nstring()?;
    p.sp()?;
    p.skip_nstring()?;
    p.sp()?;
    nil_as_empty(p)?;
    p.sp()?;
    p.number()?;
    Ok(())
}

/// A string, or `NIL` with the `nil_param_value` quirk.
#[inline]
fn nil_as_empty(p: &mut Parser<'_>) -> PResult<()> {
    if p.cfg.quirks.nil_param_value && p.peek() != Some(b'"') && p.eat_nil() {
        return Ok(());
    }
    p.skip_string().map(drop)
}

/// `"(" string SP string *(SP string SP string) ")" / nil`.
fn params(p: &mut Parser<'_>) -> PResult<()> {
    if p.peek() != Some(b'(') {
        return p.nil("body parameters");
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
        return Ok(());
    }
    let mut n = 0;
    loop {
        n += 1;
        p.skip_string()?;
        p.sp()?;
        nil_as_empty(p)?;
        p.check_items(n)?;
        p.skip_space_before_close();
        if p.eat(b')') {
            break;
        }
        p.sp()?;
    }
    p.leave();
    Ok(())
}

/// `body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]`.
fn disposition_ext(p: &mut Parser<'_>) -> PResult<()> {
    if p.eat(b'(') {
        p.skip_string()?;
        p.sp()?;
        params(p)?;
        p.skip_space_before_close();
        p.expect(b')', ") after disposition")?;
    } else {
        p.nil("body disposition")?;
    }
    if more(p)? {
        language_ext(p)?;
    }
    Ok(())
}

/// `body-fld-lang [SP body-fld-loc *(SP body-extension)]`.
fn language_ext(p: &mut Parser<'_>) -> PResult<()> {
    if p.peek() == Some(b'(') {
        // A vector of `()` never allocates.
        p.paren_list(false, |p| p.skip_string().map(drop))?;
    } else {
        p.skip_nstring()?;
    }
    if more(p)? {
        p.skip_nstring()?;
        let mut n = 0;
        while more(p)? {
            body_extension(p)?;
            n += 1;
            p.check_items(n)?;
        }
    }
    Ok(())
}

/// `nstring / number / number64 / "(" body-extension *(SP body-extension) ")"`.
fn body_extension(p: &mut Parser<'_>) -> PResult<()> {
    match p.peek() {
        Some(b'(') => p.paren_list(false, body_extension).map(drop),
        Some(b) if b.is_ascii_digit() => p.number64().map(drop),
        _ => p.skip_nstring(),
    }
}
