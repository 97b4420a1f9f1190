//! Address lists (RFC 5322 §3.4, with the obsolete forms of §4.4) turned into the
//! ENVELOPE address structure of RFC 9051 §7.5.2.
//!
//! The parser is lenient (real mail is full of broken address lists), linear in
//! its input, and stops after a caller-given number of entries. Strings stay raw:
//! display names keep their RFC 2047 encoded words, as ENVELOPE requires; only
//! quoted strings are unquoted.

/// One entry of an ENVELOPE address list: an address, or a group marker (group
/// start: `mailbox` is the group name and `host` is `None`; group end: all `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Addr {
    pub(crate) name: Option<Vec<u8>>,
    pub(crate) adl: Option<Vec<u8>>,
    pub(crate) mailbox: Option<Vec<u8>>,
    pub(crate) host: Option<Vec<u8>>,
}

impl Addr {
    /// Whether this is a group marker rather than an address.
    pub(crate) fn is_group_marker(&self) -> bool {
        self.host.is_none()
    }
}

/// What ENVELOPE reports when an address has no local part (Dovecot's spelling).
pub(crate) const MISSING_MAILBOX: &[u8] = b"MISSING_MAILBOX";
/// What ENVELOPE reports when an address has no domain (Dovecot's spelling).
pub(crate) const MISSING_DOMAIN: &[u8] = b"MISSING_DOMAIN";

#[derive(Debug, Clone)]
enum Tok<'a> {
    /// An atom (dots included), raw.
    Atom(&'a [u8]),
    /// A quoted string: the raw form (with quotes) and the unquoted content.
    Quoted(&'a [u8], Vec<u8>),
    /// A domain literal `[…]`, raw.
    Literal(&'a [u8]),
    /// One of `< > , : ; @`.
    Special(u8),
    /// A comment's content (without the outer parentheses).
    Comment(&'a [u8]),
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// The next token and whether white space (or a comment) preceded it.
    fn next(&mut self) -> Option<(Tok<'a>, bool)> {
        let mut ws = false;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n' | 0)) {
            self.i += 1;
            ws = true;
        }
        let c = self.peek()?;
        let start = self.i;
        self.i += 1;
        let tok = match c {
            b'(' => {
                let mut depth = 1usize;
                while let Some(c) = self.peek() {
                    self.i += 1;
                    match c {
                        b'\\' => self.i += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let end = self.i.min(self.s.len());
                let inner_end = if depth == 0 {
                    end.saturating_sub(1)
                } else {
                    end
                };
                Tok::Comment(self.s.get(start + 1..inner_end).unwrap_or(&[]))
            }
            b'"' => {
                let mut content = Vec::new();
                while let Some(c) = self.peek() {
                    self.i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            if let Some(n) = self.peek() {
                                self.i += 1;
                                if !matches!(n, b'\r' | b'\n' | 0) {
                                    content.push(n);
                                }
                            }
                        }
                        b'\r' | b'\n' | 0 => {}
                        _ => content.push(c),
                    }
                }
                let end = self.i.min(self.s.len());
                Tok::Quoted(self.s.get(start..end).unwrap_or(&[]), content)
            }
            b'[' => {
                while let Some(c) = self.peek() {
                    self.i += 1;
                    match c {
                        b']' => break,
                        b'\\' => self.i += 1,
                        _ => {}
                    }
                }
                let end = self.i.min(self.s.len());
                Tok::Literal(self.s.get(start..end).unwrap_or(&[]))
            }
            b'<' | b'>' | b',' | b':' | b';' | b'@' => Tok::Special(c),
            _ => {
                while let Some(c) = self.peek() {
                    if matches!(
                        c,
                        b' ' | b'\t'
                            | b'\r'
                            | b'\n'
                            | 0
                            | b'('
                            | b')'
                            | b'"'
                            | b'['
                            | b']'
                            | b'<'
                            | b'>'
                            | b','
                            | b':'
                            | b';'
                            | b'@'
                    ) {
                        break;
                    }
                    self.i += 1;
                }
                Tok::Atom(self.s.get(start..self.i).unwrap_or(&[]))
            }
        };
        self.i = self.i.min(self.s.len());
        Some((tok, ws))
    }
}

/// A display name: the words of a phrase, quoted strings unquoted, one space where
/// the source had white space. `None` when empty.
fn phrase(toks: &[(Tok<'_>, bool)]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for (t, ws) in toks {
        let word: &[u8] = match t {
            Tok::Atom(a) | Tok::Literal(a) => a,
            Tok::Quoted(_, content) => content,
            Tok::Special(c) => std::slice::from_ref(c),
            Tok::Comment(_) => continue,
        };
        if *ws && !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    let n = out
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    out.truncate(n);
    (!out.is_empty()).then_some(out)
}

/// Raw tokens joined without white space (a local part or a domain).
fn join(toks: &[(Tok<'_>, bool)]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for (t, _) in toks {
        match t {
            Tok::Atom(a) | Tok::Literal(a) | Tok::Quoted(a, _) => out.extend_from_slice(a),
            Tok::Special(c) => out.push(*c),
            Tok::Comment(_) => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

/// `local-part "@" domain` from tokens (split at the last `@`).
fn addr_spec(toks: &[(Tok<'_>, bool)]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let at = toks
        .iter()
        .rposition(|(t, _)| matches!(t, Tok::Special(b'@')));
    match at {
        Some(at) => (
            join(toks.get(..at).unwrap_or(&[])),
            join(toks.get(at + 1..).unwrap_or(&[])),
        ),
        None => (join(toks), None),
    }
}

fn address(
    name: Option<Vec<u8>>,
    adl: Option<Vec<u8>>,
    local: Option<Vec<u8>>,
    domain: Option<Vec<u8>>,
) -> Addr {
    Addr {
        name,
        adl,
        mailbox: Some(local.unwrap_or_else(|| MISSING_MAILBOX.to_vec())),
        host: Some(domain.unwrap_or_else(|| MISSING_DOMAIN.to_vec())),
    }
}

/// Parse an address list (the raw value of `From:`, `To:`, …) into ENVELOPE
/// entries, group syntax as RFC 9051 §7.5.2 describes, stopping after `max`
/// entries (a group left open by the cut is still closed).
pub(crate) fn parse_addresses(v: &[u8], max: usize) -> Vec<Addr> {
    let mut lx = Lexer { s: v, i: 0 };
    let mut out: Vec<Addr> = Vec::new();
    let mut in_group = false;
    let mut item: Vec<(Tok<'_>, bool)> = Vec::new();
    let mut comment: Option<&[u8]> = None;

    fn flush(out: &mut Vec<Addr>, item: &mut Vec<(Tok<'_>, bool)>, comment: &mut Option<&[u8]>) {
        if !item.is_empty() {
            let (local, domain) = addr_spec(item);
            let name = comment
                .take()
                .map(|c| c.to_vec())
                .filter(|c| !c.iter().all(|b| b.is_ascii_whitespace()));
            out.push(address(name, None, local, domain));
        }
        item.clear();
        *comment = None;
    }

    while out.len() < max {
        let Some((tok, ws)) = lx.next() else {
            flush(&mut out, &mut item, &mut comment);
            break;
        };
        match tok {
            Tok::Comment(c) => comment = Some(c),
            Tok::Special(b'<') => {
                let name = phrase(&item);
                item.clear();
                comment = None;
                let (addr, sep) = angle(&mut lx, name);
                out.push(addr);
                let sep = match sep {
                    Some(s) => Some(s),
                    None => skip_to_separator(&mut lx),
                };
                if sep == Some(b';') && in_group {
                    out.push(Addr::default());
                    in_group = false;
                }
            }
            Tok::Special(b':') if !in_group => {
                let name = phrase(&item).unwrap_or_default();
                item.clear();
                comment = None;
                out.push(Addr {
                    mailbox: Some(name),
                    ..Addr::default()
                });
                in_group = true;
            }
            Tok::Special(b',') => flush(&mut out, &mut item, &mut comment),
            Tok::Special(b';') => {
                flush(&mut out, &mut item, &mut comment);
                if in_group {
                    out.push(Addr::default());
                    in_group = false;
                }
            }
            Tok::Special(b'>' | b':') => {}
            other => item.push((other, ws)),
        }
    }
    out.truncate(max);
    // Close a group left open by the end of the list or by the cut.
    let open = out
        .iter()
        .fold(false, |open, a| match (&a.mailbox, &a.host) {
            (Some(_), None) => true,
            (None, None) => false,
            _ => open,
        });
    if open {
        out.push(Addr::default());
    }
    out
}

/// The inside of `<…>`: an optional source route (`@a,@b:`), then the addr-spec.
/// Returns the separator (`,` or `;`) if an unterminated `<` ran into one.
fn angle(lx: &mut Lexer<'_>, name: Option<Vec<u8>>) -> (Addr, Option<u8>) {
    let mut toks: Vec<(Tok<'_>, bool)> = Vec::new();
    let mut route_end: Option<usize> = None;
    let mut sep = None;
    let mut empty = true;
    while let Some((t, ws)) = lx.next() {
        match t {
            Tok::Special(b'>') => break,
            Tok::Comment(_) => {}
            Tok::Special(b':') if route_end.is_none() => route_end = Some(toks.len()),
            Tok::Special(c @ (b',' | b';')) => {
                let in_route =
                    route_end.is_none() && matches!(toks.first(), Some((Tok::Special(b'@'), _)));
                if in_route && c == b',' {
                    toks.push((Tok::Special(c), ws));
                } else {
                    sep = Some(c);
                    break;
                }
            }
            t => {
                empty = false;
                toks.push((t, ws));
            }
        }
    }
    if empty && route_end.is_none() {
        // `<>`: the null address.
        let addr = Addr {
            name,
            adl: None,
            mailbox: Some(Vec::new()),
            host: Some(Vec::new()),
        };
        return (addr, sep);
    }
    let (adl, spec) = match route_end {
        Some(r) => (
            join(toks.get(..r).unwrap_or(&[])),
            toks.get(r..).unwrap_or(&[]),
        ),
        None => (None, &toks[..]),
    };
    let (local, domain) = addr_spec(spec);
    (address(name, adl, local, domain), sep)
}

/// Skip whatever follows `>` up to the next `,` or `;` (returned) or the end.
fn skip_to_separator(lx: &mut Lexer<'_>) -> Option<u8> {
    while let Some((t, _)) = lx.next() {
        if let Tok::Special(c @ (b',' | b';')) = t {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: Option<&str>, mailbox: &str, host: &str) -> Addr {
        Addr {
            name: name.map(|n| n.as_bytes().to_vec()),
            adl: None,
            mailbox: Some(mailbox.as_bytes().to_vec()),
            host: Some(host.as_bytes().to_vec()),
        }
    }

    #[test]
    fn simple_forms() {
        assert_eq!(
            parse_addresses(b"Terry Gray <gray@cac.washington.edu>", 10),
            vec![a(Some("Terry Gray"), "gray", "cac.washington.edu")]
        );
        assert_eq!(
            parse_addresses(
                b"\"Gray, Terry\" <gray@cac.washington.edu>, x@y.z (Comment)",
                10
            ),
            vec![
                a(Some("Gray, Terry"), "gray", "cac.washington.edu"),
                a(Some("Comment"), "x", "y.z")
            ]
        );
        assert_eq!(
            parse_addresses(b"=?utf-8?q?J=C3=B6rg?= <j@x.de>", 10),
            vec![a(Some("=?utf-8?q?J=C3=B6rg?="), "j", "x.de")]
        );
        assert_eq!(
            parse_addresses(b"<@a.net,@b.net:joe@c.net>", 10),
            vec![Addr {
                adl: Some(b"@a.net,@b.net".to_vec()),
                ..a(None, "joe", "c.net")
            }]
        );
        assert_eq!(
            parse_addresses(b"root", 10),
            vec![a(None, "root", "MISSING_DOMAIN")]
        );
        assert_eq!(parse_addresses(b"", 10), vec![]);
        assert_eq!(parse_addresses(b"<>", 10), vec![a(None, "", "")]);
    }

    #[test]
    fn groups() {
        let v = parse_addresses(b"undisclosed-recipients:;", 10);
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0].mailbox.as_deref(),
            Some(&b"undisclosed-recipients"[..])
        );
        assert!(v[0].is_group_marker() && v[1] == Addr::default());
        let v = parse_addresses(b"A Group: a@b.c, \"X\" <x@y.z>; d@e.f", 10);
        assert_eq!(v.len(), 5);
        assert_eq!(v[3], Addr::default());
        assert_eq!(v[4], a(None, "d", "e.f"));
        // Unterminated group is closed; the cut keeps it balanced.
        let v = parse_addresses(b"G: a@b, c@d, e@f", 2);
        assert_eq!(v.len(), 3);
        assert_eq!(v[2], Addr::default());
    }
}
