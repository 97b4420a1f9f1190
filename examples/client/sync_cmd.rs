//! `sync MAILBOX DIR`: a two-way sync between a server mailbox and a local
//! Maildir ([`LocalMaildir`]), driven by the sans-IO engine
//! [`imap_client_core::sync::MailboxSync`].
//!
//! One run:
//! 1. Read the sync state (`DIR/.imap-client-sync`, the engine's
//!    [`MailboxCache`] text; empty on the first run) and scan DIR. Changes
//!    made offline become the journal: a file whose Maildir flags differ from
//!    the cached flags is a flag delta (only the six flags a file name can
//!    show; keywords stay as the server has them), a cached UID without a file
//!    was deleted, a file without `,U=` is a new message to APPEND. (A Maildir
//!    has no way to say "moved": a message moved to another folder by a mail
//!    reader looks deleted here and new there.)
//! 2. Run the engine: it catches up with the server (QRESYNC, CONDSTORE or
//!    plain) and replays the journal under its documented conflict rules
//!    (server deletes win over local flag changes, local deletes win over
//!    server flag changes, local flag deltas win for the flags they touch).
//! 3. Apply the outcome to DIR: rename files whose flags changed on the
//!    server, remove expunged ones, give appended files their `,U=`, and
//!    download the bodies of new messages (`UID FETCH … BODY.PEEK[]`, in
//!    batches, progress on stderr; the engine fetched their headers first).
//! 4. Only then save the new state, atomically. A run that fails anywhere
//!    leaves the old state: the next run redoes the catch-up. That is safe
//!    because downloads are keyed by UID (a message already in DIR is not
//!    fetched again) and the replay is idempotent (flag deltas, deletes of
//!    vanished UIDs), with one exception: a draft whose APPEND reached the
//!    server but whose file could not be renamed afterwards is appended again.
//!
//! A lost connection makes the whole run start again after the backoff delay
//! (the plan is recomputed from DIR and the saved state).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::time::Instant;

use imap_client_core::imap_proto::{
    FetchAttribute, FetchItems, Flag, Mailbox, Section, SequenceSet, Uid,
};
use imap_client_core::sync::{
    fetched_body, Applied, Draft, LocalChange, MailboxCache, MailboxSync, ServerFeatures,
    SyncEvent, SyncOptions, SyncPlan,
};
use imap_client_core::ClientEvent;

use crate::commands::Failure;
use crate::maildir::{info_letters, representable, LocalFile, LocalMaildir};
use imap_client::blocking::{Client, Error, Reconnecting, Transport};

/// Whole messages per `UID FETCH … BODY.PEEK[]` when downloading.
const BODY_BATCH: usize = 50;

/// What one run did, printed as one line on stdout.
#[derive(Debug, Default)]
struct Summary {
    plan: Option<SyncPlan>,
    new: usize,
    changed: usize,
    vanished: usize,
    applied: usize,
    conflicts: usize,
    downloaded: usize,
}

/// `sync MAILBOX DIR`.
pub(crate) fn sync(s: &mut Reconnecting, mailbox: &Mailbox, dir: &Path) -> Result<(), Failure> {
    let local = LocalMaildir::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let summary = s.retry(|c| run_once(c, mailbox, &local))?;
    let plan = match summary.plan {
        Some(SyncPlan::QResync) => "qresync",
        Some(SyncPlan::CondStore) => "condstore",
        _ => "plain",
    };
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "plan={plan} new={} changed={} vanished={} applied={} conflicts={} downloaded={}",
        summary.new,
        summary.changed,
        summary.vanished,
        summary.applied,
        summary.conflicts,
        summary.downloaded
    )
    .and_then(|()| out.flush())
    .map_err(|e| format!("stdout: {e}"))
}

/// Local I/O failed: not a connection problem, so never retried.
fn local(e: io::Error) -> Error {
    Error::Unsupported(format!("local Maildir: {e}"))
}

/// One attempt: plan from DIR and the state, run the engine, apply, save.
fn run_once(
    c: &mut Client<Transport>,
    mailbox: &Mailbox,
    dir: &LocalMaildir,
) -> Result<Summary, Error> {
    let cache = match dir.load_state().map_err(local)? {
        Some(text) => MailboxCache::from_text(&text).map_err(|e| {
            Error::Unsupported(format!(
                "{}: corrupt sync state ({e}); move it away for a full sync",
                dir.root().join(crate::maildir::STATE_FILE).display()
            ))
        })?,
        None => MailboxCache::new(),
    };
    let files = dir.scan().map_err(local)?;
    let (journal, mut by_uid, drafts) = journal_of(&cache, &files).map_err(local)?;
    if !journal.is_empty() {
        eprintln!("sync: {} local change(s) to send", journal.len());
    }

    // ENABLE QRESYNC needs the post-login capabilities.
    c.capabilities()?;
    let features = ServerFeatures::of(c.core());
    let mut sync = MailboxSync::new(
        mailbox.clone(),
        cache,
        journal,
        features,
        SyncOptions::default(),
    );
    let mut summary = Summary::default();
    let mut download: BTreeMap<Uid, Vec<Flag>> = BTreeMap::new();
    let started = Instant::now();
    loop {
        apply_events(
            &mut sync,
            dir,
            &mut by_uid,
            &drafts,
            &mut download,
            &mut summary,
        )?;
        if sync.is_done() {
            break;
        }
        if let Some(e) = sync.error() {
            return Err(Error::Unsupported(format!("sync of {mailbox}: {e}")));
        }
        let Some(cmd) = sync.poll_command() else {
            return Err(Error::Unsupported(format!(
                "sync of {mailbox} stalled (no next step)"
            )));
        };
        let h = c.conn().enqueue(cmd);
        let done = c.run(h)?;
        // Data and codes that arrived while the command ran (NOMODSEQ,
        // COPYUID after MOVE, another client's EXPUNGE) go in first.
        while let Some(ev) = c.poll_event() {
            match &ev {
                ClientEvent::Unsolicited(d) => sync.handle_unsolicited(d),
                ClientEvent::Status {
                    code: Some(code), ..
                } => sync.handle_untagged_code(code),
                _ => {}
            }
        }
        if let Err(e) =
            sync.handle_completion(done.status, done.code, done.data, c.core().mailbox())
        {
            let text = imap_client::blocking::lossy(done.text.as_bytes());
            return Err(Error::Unsupported(format!("sync of {mailbox}: {e} {text}")));
        }
    }
    if summary.new > 0 {
        eprintln!(
            "sync: headers of {} new message(s) in {:.1} s",
            summary.new,
            started.elapsed().as_secs_f64()
        );
    }
    let outcome = sync.finish();

    // Bodies of messages DIR does not have yet.
    let wanted: Vec<(Uid, Vec<Flag>)> = download.into_iter().collect();
    let total = wanted.len();
    for (i, batch) in wanted.chunks(BODY_BATCH).enumerate() {
        let set = SequenceSet::from_numbers(batch.iter().map(|(u, _)| u.get()))
            .expect("UIDs are non-zero");
        let h = c.conn().uid_fetch(
            set,
            FetchItems::Attributes(vec![
                FetchAttribute::Uid,
                FetchAttribute::BodySection {
                    peek: true,
                    section: Section::default(),
                    partial: None,
                },
            ]),
        );
        let done = c.run_ok(h)?;
        for (uid, flags) in batch {
            // Gone meanwhile (expunged by another client): the next run sees it.
            let Some(body) = fetched_body(&done.data, *uid) else {
                continue;
            };
            let path = dir.deliver(uid.get(), flags, &body).map_err(local)?;
            by_uid.insert(uid.get(), local_file(path, uid.get(), flags));
            summary.downloaded += 1;
        }
        let so_far = ((i + 1) * BODY_BATCH).min(total);
        eprintln!("sync: downloaded {so_far}/{total} message(s)");
    }

    // Every file shows the flags the sync ended with (the catch-up's
    // FlagsChanged came before the replay merged in the local deltas), and
    // files naming UIDs the server no longer has (left by an interrupted run)
    // go.
    for (uid, file) in &by_uid {
        match Uid::new(*uid).and_then(|u| outcome.cache.messages.get(&u)) {
            Some(cached) => {
                let want: Vec<Flag> = cached
                    .flags
                    .iter()
                    .filter(|f| representable(f))
                    .cloned()
                    .collect();
                if info_letters(&want) != info_letters(&file.flags) {
                    dir.set_flags(file, &want).map_err(local)?;
                }
            }
            None => dir.remove(file).map_err(local)?,
        }
    }
    dir.save_state(&outcome.cache.to_text()).map_err(local)?;
    Ok(summary)
}

/// The offline changes DIR shows against the cache, the files by UID, and
/// the files to append (by their file name, the drafts' local id).
#[allow(clippy::type_complexity)]
fn journal_of(
    cache: &MailboxCache,
    files: &[LocalFile],
) -> io::Result<(
    Vec<LocalChange>,
    BTreeMap<u32, LocalFile>,
    BTreeMap<String, LocalFile>,
)> {
    let mut journal = Vec::new();
    let mut by_uid = BTreeMap::new();
    let mut drafts = BTreeMap::new();
    for f in files {
        match f.uid {
            Some(uid) => {
                let Some(u) = Uid::new(uid) else { continue };
                if let Some(cached) = cache.messages.get(&u) {
                    let had: BTreeSet<String> = cached
                        .flags
                        .iter()
                        .filter(|fl| representable(fl))
                        .map(ToString::to_string)
                        .collect();
                    let add: Vec<Flag> = f
                        .flags
                        .iter()
                        .filter(|fl| !had.contains(&fl.to_string()))
                        .cloned()
                        .collect();
                    let remove: Vec<Flag> = cached
                        .flags
                        .iter()
                        .filter(|fl| representable(fl) && !f.flags.contains(fl))
                        .cloned()
                        .collect();
                    if !add.is_empty() || !remove.is_empty() {
                        journal.push(LocalChange::Flags {
                            uid: u,
                            add,
                            remove,
                        });
                    }
                }
                by_uid.insert(uid, f.clone());
            }
            None => {
                let id = f
                    .path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                journal.push(LocalChange::Append(Draft {
                    local_id: id.clone(),
                    message: fs::read(&f.path)?.into(),
                    flags: f.flags.clone(),
                    date: None,
                }));
                drafts.insert(id, f.clone());
            }
        }
    }
    for uid in cache.messages.keys() {
        if !by_uid.contains_key(&uid.get()) {
            journal.push(LocalChange::Delete { uid: *uid });
        }
    }
    Ok((journal, by_uid, drafts))
}

/// Apply the engine's events to DIR as they come.
fn apply_events(
    sync: &mut MailboxSync,
    dir: &LocalMaildir,
    by_uid: &mut BTreeMap<u32, LocalFile>,
    drafts: &BTreeMap<String, LocalFile>,
    download: &mut BTreeMap<Uid, Vec<Flag>>,
    summary: &mut Summary,
) -> Result<(), Error> {
    while let Some(ev) = sync.poll_event() {
        match ev {
            SyncEvent::Plan { plan, full } => {
                summary.plan = Some(plan);
                eprintln!(
                    "sync: {} catch-up{}",
                    match plan {
                        SyncPlan::QResync => "QRESYNC",
                        SyncPlan::CondStore => "CONDSTORE",
                        _ => "plain",
                    },
                    if full { " (full)" } else { "" }
                );
            }
            SyncEvent::UidValidityChanged { old, new } => {
                // The old UIDs name nothing now: forget the local copies; the
                // full sync that follows downloads the mailbox again.
                eprintln!("sync: UIDVALIDITY changed ({old} -> {new}): downloading again");
                for file in std::mem::take(by_uid).values() {
                    dir.remove(file).map_err(local)?;
                }
            }
            SyncEvent::NewMessage(m) => {
                summary.new += 1;
                if summary.new % 1000 == 0 {
                    eprintln!("sync: {} new message(s) so far", summary.new);
                }
                match by_uid.get(&m.uid.get()) {
                    // Delivered by an earlier, interrupted run.
                    Some(file) => {
                        let path = dir.set_flags(file, &m.flags).map_err(local)?;
                        by_uid.insert(m.uid.get(), local_file(path, m.uid.get(), &m.flags));
                    }
                    None => {
                        download.insert(m.uid, m.flags.clone());
                    }
                }
            }
            SyncEvent::FlagsChanged { uid, flags } => {
                summary.changed += 1;
                if let Some(file) = by_uid.get(&uid.get()) {
                    let path = dir.set_flags(file, &flags).map_err(local)?;
                    by_uid.insert(uid.get(), local_file(path, uid.get(), &flags));
                } else if let Some(f) = download.get_mut(&uid) {
                    *f = flags;
                }
            }
            SyncEvent::Vanished { uids } => {
                summary.vanished += uids.len();
                for uid in uids {
                    download.remove(&uid);
                    if let Some(file) = by_uid.remove(&uid.get()) {
                        dir.remove(&file).map_err(local)?;
                    }
                }
            }
            SyncEvent::LocalApplied { change, outcome } => {
                summary.applied += 1;
                if let Applied::Appended { local_id, uid } = outcome {
                    let Some(file) = drafts.get(&local_id) else {
                        continue;
                    };
                    match uid {
                        Some(uid) => {
                            let flags = match &change {
                                LocalChange::Append(d) => d.flags.clone(),
                                _ => Vec::new(),
                            };
                            let path = dir.assign_uid(file, uid.get(), &flags).map_err(local)?;
                            by_uid.insert(uid.get(), local_file(path, uid.get(), &flags));
                        }
                        // No APPENDUID (no UIDPLUS): the next sync brings the
                        // server's copy; keeping this file would append it again.
                        None => dir.remove(file).map_err(local)?,
                    }
                }
            }
            SyncEvent::Conflict { change, kind } => {
                summary.conflicts += 1;
                eprintln!(
                    "sync: conflict ({}): {kind:?} on {change:?}",
                    if kind.dropped() {
                        "local change dropped"
                    } else {
                        "applied"
                    }
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn local_file(path: std::path::PathBuf, uid: u32, flags: &[Flag]) -> LocalFile {
    LocalFile {
        path,
        uid: Some(uid),
        flags: flags.iter().filter(|f| representable(f)).cloned().collect(),
    }
}
