//! The subcommands of `imap-client`, each a function of the connected
//! [`Reconnecting`] session. Idempotent work goes through
//! [`Reconnecting::retry`] (a lost connection is made again and the step
//! repeated); MOVE runs once.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use imap_client_core::imap_proto::{
    AString, Capability, Code, CommandBody, Data, ESearchItem, FetchAttribute, FetchItem,
    FetchItems, Flag, Mailbox, SearchKey, Section, SectionText, SequenceSet, StoreKind,
    StoreTarget, Uid,
};
use imap_client_core::ClientEvent;

use imap_client::blocking::{
    lossy, Client, Error, IdleControl, IdleEvent, Reconnecting, Transport,
};

/// Messages per UID FETCH of `fetch` (and how often progress is shown).
const FETCH_BATCH: usize = 500;

/// The most UIDs one search answer may name (an ESEARCH range can name
/// billions in a few bytes).
const MAX_SEARCH_RESULTS: u64 = 10_000_000;

/// What ends a subcommand with exit status 1: the message for stderr (a
/// driver [`Error`] converts with `?`, by its message).
pub(crate) type Failure = String;

/// `list`: every mailbox name (`LIST "" *`, RFC 9051 §6.3.9), decoded, one
/// per line.
pub(crate) fn list(s: &mut Reconnecting) -> Result<(), Failure> {
    let done = s.retry(|c| {
        let h = c.conn().list(&Mailbox::from_utf8(""), "*");
        c.run_ok(h)
    })?;
    let mut out = io::stdout().lock();
    for data in done.data {
        if let Data::List(l) = data {
            writeln!(out, "{}", l.mailbox).map_err(stdout_error)?;
        }
    }
    out.flush().map_err(stdout_error)
}

/// The UIDs of the selected mailbox matching `criteria`, ascending (SEARCH or
/// ESEARCH answers, RFC 9051 §7.3.4 / RFC 4731).
fn uids_of(c: &mut Client<Transport>, body: CommandBody) -> Result<Vec<u32>, Error> {
    let done = c.execute(body)?;
    let mut uids = Vec::new();
    for data in &done.data {
        match data {
            Data::Search { numbers, .. } => uids.extend(numbers.iter().map(|n| n.get())),
            Data::ESearch(e) => {
                for item in &e.items {
                    if let ESearchItem::All(set) = item {
                        // `1:4294967295` is a few bytes on the wire and four
                        // billion UIDs in memory: refuse what no mailbox holds.
                        let count = set.count(u32::MAX);
                        if count + uids.len() as u64 > MAX_SEARCH_RESULTS {
                            return Err(Error::Unsupported(format!(
                                "the server answered a search with {count} UIDs"
                            )));
                        }
                        uids.extend(set.iter(u32::MAX));
                    }
                }
            }
            _ => {}
        }
    }
    uids.sort_unstable();
    uids.dedup();
    Ok(uids)
}

fn uid_search(criteria: Vec<SearchKey>) -> CommandBody {
    CommandBody::Search {
        uid: true,
        return_options: None,
        charset: None,
        criteria,
    }
}

fn uid_set(uid: Uid) -> SequenceSet {
    SequenceSet::single(uid.0)
}

/// Fail unless the selected mailbox has a message with `uid`.
fn require_uid(c: &mut Client<Transport>, mailbox: &Mailbox, uid: Uid) -> Result<(), Error> {
    let found = uids_of(c, uid_search(vec![SearchKey::Uid(uid_set(uid))]))?;
    if found.contains(&uid.get()) {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "no message with UID {uid} in {mailbox}"
        )))
    }
}

/// `fetch MAILBOX`: `UID<TAB>DATE<TAB>FROM<TAB>SUBJECT` per message, by UID.
/// The header fields come from `BODY.PEEK[HEADER.FIELDS (DATE FROM
/// SUBJECT)]` (RFC 9051 §6.4.5) and are decoded by mail-parser (RFC 2047
/// encoded words included); DATE is RFC 3339, from the Date header or else
/// INTERNALDATE.
pub(crate) fn fetch(s: &mut Reconnecting, mailbox: &Mailbox) -> Result<(), Failure> {
    s.examine(mailbox)?;
    let uids = s.retry(|c| uids_of(c, uid_search(vec![SearchKey::All])))?;
    let fields = ["DATE", "FROM", "SUBJECT"]
        .iter()
        .map(|f| AString::try_from(*f).expect("header names are atoms"))
        .collect();
    let items = FetchItems::Attributes(vec![
        FetchAttribute::Uid,
        FetchAttribute::InternalDate,
        FetchAttribute::BodySection {
            peek: true,
            section: Section {
                part: Vec::new(),
                text: Some(SectionText::HeaderFields(fields)),
            },
            partial: None,
        },
    ]);
    let total = uids.len();
    let mut out = io::stdout().lock();
    for (i, batch) in uids.chunks(FETCH_BATCH).enumerate() {
        let set = SequenceSet::from_numbers(batch.iter().copied()).expect("UIDs are non-zero");
        let done = s.retry(|c| {
            let h = c.conn().uid_fetch(set.clone(), items.clone());
            c.run_ok(h)
        })?;
        let mut lines: Vec<(u32, String)> = done
            .data
            .iter()
            .filter_map(|d| match d {
                Data::Fetch { items, .. } => summary_line(items),
                _ => None,
            })
            .collect();
        lines.sort_by_key(|(uid, _)| *uid);
        lines.dedup_by_key(|(uid, _)| *uid);
        for (_, line) in lines {
            writeln!(out, "{line}").map_err(stdout_error)?;
        }
        out.flush().map_err(stdout_error)?;
        let so_far = (i * FETCH_BATCH + batch.len()).min(total);
        if total > FETCH_BATCH {
            eprintln!("fetch: {so_far}/{total} messages");
        }
    }
    Ok(())
}

/// One `fetch` line from a FETCH response's items, with its UID.
fn summary_line(items: &[FetchItem]) -> Option<(u32, String)> {
    let mut uid = None;
    let mut internal = None;
    let mut header: &[u8] = b"";
    for item in items {
        match item {
            FetchItem::Uid(u) => uid = Some(u.get()),
            FetchItem::InternalDate(d) => internal = Some(*d),
            FetchItem::BodySection {
                data: Some(data), ..
            } => header = data,
            _ => {}
        }
    }
    let uid = uid?;
    let parsed = mail_parser::MessageParser::new().parse_headers(header);
    let date = parsed
        .as_ref()
        .and_then(|m| m.date())
        .map(|d| {
            let zone = (i32::from(d.tz_hour) * 60 + i32::from(d.tz_minute))
                * if d.tz_before_gmt { -1 } else { 1 };
            rfc3339((d.year, d.month, d.day), (d.hour, d.minute, d.second), zone)
        })
        .or_else(|| {
            internal.map(|d| {
                let date = d.date();
                rfc3339(
                    (date.year(), date.month(), date.day()),
                    d.time(),
                    i32::from(d.zone_minutes()),
                )
            })
        })
        .unwrap_or_default();
    let from = parsed
        .as_ref()
        .and_then(|m| m.from())
        .and_then(|a| a.first())
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (Some(name), None) => name.to_owned(),
            (None, Some(addr)) => addr.to_owned(),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or_default()
        .to_owned();
    Some((
        uid,
        format!(
            "{uid}\t{}\t{}\t{}",
            one_field(&date),
            one_field(&from),
            one_field(&subject)
        ),
    ))
}

/// A field with tabs, line breaks and other control characters replaced by
/// spaces, so a line stays one record of four columns.
fn one_field(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A date and time with its zone offset in minutes as RFC 3339
/// (`2024-03-01T10:00:00+01:00`; UTC as `+00:00`), the same form whether it
/// came from the Date header or from INTERNALDATE.
fn rfc3339((y, mo, d): (u16, u8, u8), (h, mi, s): (u8, u8, u8), zone: i32) -> String {
    let sign = if zone < 0 { '-' } else { '+' };
    let zone = zone.unsigned_abs();
    format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{sign}{:02}:{:02}",
        zone / 60,
        zone % 60
    )
}

/// `read MAILBOX UID`: the exact bytes of `BODY.PEEK[]` (RFC 9051 §6.4.5;
/// `.PEEK` leaves `\Seen` alone) to stdout.
pub(crate) fn read(s: &mut Reconnecting, mailbox: &Mailbox, uid: Uid) -> Result<(), Failure> {
    s.examine(mailbox)?;
    let items = FetchItems::Attributes(vec![
        FetchAttribute::Uid,
        FetchAttribute::BodySection {
            peek: true,
            section: Section::default(),
            partial: None,
        },
    ]);
    let done = s.retry(|c| {
        let h = c.conn().uid_fetch(uid_set(uid), items.clone());
        c.run_ok(h)
    })?;
    let body = done.data.iter().find_map(|d| {
        let Data::Fetch { items, .. } = d else {
            return None;
        };
        if !items.iter().any(|i| *i == FetchItem::Uid(uid)) {
            return None;
        }
        items.iter().find_map(|i| match i {
            FetchItem::BodySection {
                section,
                origin: None,
                data,
            } if section.part.is_empty() && section.text.is_none() => Some(data.clone()),
            _ => None,
        })
    });
    match body {
        Some(Some(bytes)) => {
            let mut out = io::stdout().lock();
            out.write_all(&bytes).map_err(stdout_error)?;
            out.flush().map_err(stdout_error)
        }
        Some(None) => Err(format!("the server sent NIL for UID {uid} in {mailbox}")),
        None => Err(format!("no message with UID {uid} in {mailbox}")),
    }
}

/// `search MAILBOX CRITERIA...`: the matching UIDs, one per line.
pub(crate) fn search(
    s: &mut Reconnecting,
    mailbox: &Mailbox,
    body: &CommandBody,
) -> Result<(), Failure> {
    s.examine(mailbox)?;
    let uids = s.retry(|c| uids_of(c, body.clone()))?;
    let mut out = io::stdout().lock();
    for uid in uids {
        writeln!(out, "{uid}").map_err(stdout_error)?;
    }
    out.flush().map_err(stdout_error)
}

/// `flag MAILBOX UID (+|-)FLAG...`: `UID STORE uid +FLAGS.SILENT (...)` and
/// `-FLAGS.SILENT (...)` (RFC 9051 §6.4.6); both are idempotent.
pub(crate) fn flag(
    s: &mut Reconnecting,
    mailbox: &Mailbox,
    uid: Uid,
    changes: &[(StoreKind, Flag)],
) -> Result<(), Failure> {
    s.select(mailbox)?;
    s.retry(|c| require_uid(c, mailbox, uid))?;
    for kind in [StoreKind::Add, StoreKind::Remove] {
        let flags: Vec<Flag> = changes
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, f)| f.clone())
            .collect();
        if flags.is_empty() {
            continue;
        }
        s.retry(|c| c.execute(silent_store(uid, kind, flags.clone())))?;
    }
    Ok(())
}

fn silent_store(uid: Uid, kind: StoreKind, flags: Vec<Flag>) -> CommandBody {
    CommandBody::Store {
        uid: true,
        set: uid_set(uid),
        modifiers: Vec::new(),
        kind,
        silent: true,
        target: StoreTarget::Flags(flags),
    }
}

/// `move MAILBOX UID DEST`: `UID MOVE` when the server offers MOVE (RFC
/// 6851); else, with UIDPLUS (RFC 4315 §2.1), `UID COPY`, `+FLAGS.SILENT
/// (\Deleted)` and `UID EXPUNGE` of that one UID, which leaves other
/// `\Deleted` messages alone. Never a plain EXPUNGE. Not retried after a lost
/// connection (the move may have happened).
pub(crate) fn move_message(
    s: &mut Reconnecting,
    mailbox: &Mailbox,
    uid: Uid,
    dest: &Mailbox,
) -> Result<(), Failure> {
    s.select(mailbox)?;
    s.retry(|c| require_uid(c, mailbox, uid))?;
    s.once(|c| {
        if c.has_capability(&Capability::Move)? {
            let h = c.conn().move_messages(true, uid_set(uid), dest);
            c.run_ok(h)?;
        } else if c.has_capability(&Capability::UidPlus)? {
            let h = c.conn().copy(true, uid_set(uid), dest);
            c.run_ok(h)?;
            c.execute(silent_store(uid, StoreKind::Add, vec![Flag::Deleted]))?;
            c.execute(CommandBody::UidExpunge(uid_set(uid)))?;
        } else {
            return Err(Error::Unsupported(
                "the server offers neither MOVE nor UIDPLUS; a plain EXPUNGE could remove \
                 other deleted messages, so nothing was moved"
                    .to_owned(),
            ));
        }
        Ok(())
    })?;
    Ok(())
}

/// `watch MAILBOX`: SELECT, then IDLE (RFC 2177) until `stop` is set; one
/// line per change on stdout, flushed at once. After a lost connection the
/// session reconnects, selects again and prints `EXISTS n` when the count
/// changed meanwhile.
pub(crate) fn watch(
    s: &mut Reconnecting,
    mailbox: &Mailbox,
    stop: &AtomicBool,
) -> Result<(), Failure> {
    s.select(mailbox)?;
    let mut exists = s.client()?.core().mailbox().map_or(0, |m| m.exists);
    eprintln!("watching {mailbox} ({exists} messages); SIGINT or SIGTERM ends");
    let mut out = io::stdout();
    let mut write_error = None;
    while !stop.load(Ordering::SeqCst) && write_error.is_none() {
        s.retry(|c| {
            let now = c.core().mailbox().map_or(0, |m| m.exists);
            if now != exists {
                exists = now;
                write_error = print_line(&mut out, &format!("EXISTS {now}")).err();
            }
            c.idle(None, |ev| {
                let line = match ev {
                    IdleEvent::Tick => None,
                    IdleEvent::Event(ev) => change_line(&ev, &mut exists),
                };
                if let Some(line) = line {
                    if let Err(e) = print_line(&mut out, &line) {
                        write_error = Some(e);
                    }
                }
                if stop.load(Ordering::SeqCst) || write_error.is_some() {
                    IdleControl::Stop
                } else {
                    IdleControl::Continue
                }
            })?
            .ok()
        })?;
    }
    match write_error {
        Some(e) => Err(stdout_error(e)),
        None => Ok(()),
    }
}

fn print_line(out: &mut io::Stdout, line: &str) -> io::Result<()> {
    let mut out = out.lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// The `watch` line for an event, if it is a change; keeps `exists` current.
fn change_line(ev: &ClientEvent, exists: &mut u32) -> Option<String> {
    match ev {
        ClientEvent::Unsolicited(Data::Exists(n)) => {
            *exists = *n;
            Some(format!("EXISTS {n}"))
        }
        ClientEvent::Unsolicited(Data::Expunge(seq)) => {
            *exists = exists.saturating_sub(1);
            Some(format!("EXPUNGE {seq}"))
        }
        ClientEvent::Unsolicited(Data::Vanished {
            earlier: false,
            uids,
        }) => {
            let gone = uids.count(u32::MAX);
            *exists = exists.saturating_sub(u32::try_from(gone).unwrap_or(u32::MAX));
            Some(format!("VANISHED {uids}"))
        }
        ClientEvent::Unsolicited(Data::Fetch { seq, items }) => {
            items.iter().find_map(|i| match i {
                FetchItem::Flags(flags) => {
                    let names: Vec<String> = flags.iter().map(Flag::to_string).collect();
                    Some(format!("FETCH {seq} FLAGS ({})", names.join(" ")))
                }
                _ => None,
            })
        }
        ClientEvent::Status { code, text, .. } => {
            if matches!(code, Some(Code::Alert)) {
                eprintln!("ALERT: {}", lossy(text.as_bytes()));
            }
            None
        }
        _ => None,
    }
}

fn stdout_error(e: io::Error) -> Failure {
    format!("writing to stdout: {e}")
}
