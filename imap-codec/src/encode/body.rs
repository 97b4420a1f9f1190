//! Encoding of ENVELOPE and BODY/BODYSTRUCTURE (RFC 9051 §7.5.2 and §9
//! `envelope`, `body`), always in the strict grammar.

use imap_proto::{
    Address, BodyExtension, BodyFields, BodySpecific, BodyStructure, DispositionExt, Envelope,
    IString, LanguageExt,
};

use super::Writer;

/// `envelope`: ten fields in parentheses; an empty address list is `NIL`.
pub(crate) fn envelope(w: &mut Writer<'_>, e: &Envelope) {
    w.byte(b'(');
    w.nstring(e.date.as_ref());
    w.sp();
    w.nstring(e.subject.as_ref());
    for list in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
        w.sp();
        addresses(w, list);
    }
    w.sp();
    w.nstring(e.in_reply_to.as_ref());
    w.sp();
    w.nstring(e.message_id.as_ref());
    w.byte(b')');
}

/// `"(" 1*address ")" / nil`.
fn addresses(w: &mut Writer<'_>, list: &[Address]) {
    if list.is_empty() {
        w.raw(b"NIL");
        return;
    }
    w.byte(b'(');
    for a in list {
        w.byte(b'(');
        w.nstring(a.name.as_ref());
        w.sp();
        w.nstring(a.adl.as_ref());
        w.sp();
        w.nstring(a.mailbox.as_ref());
        w.sp();
        w.nstring(a.host.as_ref());
        w.byte(b')');
    }
    w.byte(b')');
}

/// `body`: a single part or a multipart, with its extension data when present.
pub(crate) fn body(w: &mut Writer<'_>, b: &BodyStructure) {
    w.byte(b'(');
    match b {
        BodyStructure::Single {
            body: part,
            extension,
        } => {
            w.string(part.media_type.as_bytes());
            w.sp();
            w.string(part.subtype.as_bytes());
            w.sp();
            fields(w, &part.fields);
            match &part.specific {
                BodySpecific::Text { lines } => {
                    w.sp();
                    w.number(*lines);
                }
                BodySpecific::Message {
                    envelope: env,
                    body: inner,
                    lines,
                } => {
                    w.sp();
                    envelope(w, env);
                    w.sp();
                    body(w, inner);
                    w.sp();
                    w.number(*lines);
                }
                _ => {}
            }
            if let Some(ext) = extension {
                w.sp();
                w.nstring(ext.md5.as_ref());
                if let Some(t) = &ext.tail {
                    w.sp();
                    disposition_ext(w, t);
                }
            }
        }
        BodyStructure::Multi {
            bodies,
            subtype,
            extension,
        } => {
            for part in bodies {
                body(w, part);
            }
            w.sp();
            w.string(subtype.as_bytes());
            if let Some(ext) = extension {
                w.sp();
                params(w, &ext.params);
                if let Some(t) = &ext.tail {
                    w.sp();
                    disposition_ext(w, t);
                }
            }
        }
        _ => {}
    }
    w.byte(b')');
}

/// `body-fields`.
fn fields(w: &mut Writer<'_>, f: &BodyFields) {
    params(w, &f.params);
    w.sp();
    w.nstring(f.id.as_ref());
    w.sp();
    w.nstring(f.description.as_ref());
    w.sp();
    w.string(f.encoding.as_bytes());
    w.sp();
    w.number(u64::from(f.size));
}

/// `body-fld-param`: `NIL` when empty.
fn params(w: &mut Writer<'_>, params: &[(IString, IString)]) {
    if params.is_empty() {
        w.raw(b"NIL");
        return;
    }
    w.paren_list(params, |w, (k, v)| {
        w.string(k.as_bytes());
        w.sp();
        w.string(v.as_bytes());
    });
}

/// `body-fld-dsp [SP body-fld-lang [SP body-fld-loc *(SP body-extension)]]`.
fn disposition_ext(w: &mut Writer<'_>, d: &DispositionExt) {
    match &d.disposition {
        Some(dsp) => {
            w.byte(b'(');
            w.string(dsp.kind.as_bytes());
            w.sp();
            params(w, &dsp.params);
            w.byte(b')');
        }
        None => w.raw(b"NIL"),
    }
    if let Some(t) = &d.tail {
        w.sp();
        language_ext(w, t);
    }
}

/// `body-fld-lang [SP body-fld-loc *(SP body-extension)]`: no language is
/// `NIL`, one is a plain string, more are a list.
fn language_ext(w: &mut Writer<'_>, l: &LanguageExt) {
    match l.language.as_slice() {
        [] => w.raw(b"NIL"),
        [one] => w.string(one.as_bytes()),
        many => w.paren_list(many, |w, s| w.string(s.as_bytes())),
    }
    if let Some(loc) = &l.tail {
        w.sp();
        w.nstring(loc.location.as_ref());
        for e in &loc.extensions {
            w.sp();
            body_extension(w, e);
        }
    }
}

/// `body-extension`.
fn body_extension(w: &mut Writer<'_>, e: &BodyExtension) {
    match e {
        BodyExtension::NString(s) => w.nstring(s.as_ref()),
        BodyExtension::Number(n) => w.number(*n),
        BodyExtension::List(l) => w.paren_list(l, body_extension),
        _ => w.raw(b"NIL"),
    }
}
