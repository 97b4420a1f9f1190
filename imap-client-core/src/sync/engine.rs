//! The step machine: plans commands, applies their answers, replays the journal.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::num::NonZeroU32;

use imap_proto::{
    AppendMessage, Capability, Code, CommandBody, Data, FetchAttribute, FetchItem, FetchItems,
    Flag, Literal, Mailbox, ModSeq, QResyncParam, SearchKey, SearchReturn, Section, SectionText,
    SelectParam, SeqBound, SequenceSet, StatusKind, StoreKind, StoreModifier, StoreTarget, Uid,
};

use crate::connection::ClientConnection;
use crate::event::{ClientEvent, CommandHandle, MailboxState};
use crate::sync::cache::{CachedMessage, MailboxCache};
use crate::sync::event::{Applied, ConflictKind, NewMessage, SyncError, SyncEvent, SyncPlan};
use crate::sync::journal::LocalChange;

/// A UID's net flag delta: added, removed, and the journal entries behind it.
type NetDelta = (Vec<Flag>, Vec<Flag>, Vec<usize>);
/// STOREs grouped by (add?, flag list as text, UNCHANGEDSINCE).
type GroupKey = (bool, String, Option<u64>);
/// One group: its flags, and its UIDs with their journal entries.
type Group = (Vec<Flag>, Vec<(Uid, Vec<usize>)>);

/// The most ranges sent as QRESYNC `known-uids` (RFC 7162 §3.2.5) before
/// `1:highest` is sent instead (servers limit command lines, RFC 7162 §4).
const MAX_KNOWN_UID_RANGES: usize = 200;

/// The most UIDs one replayed STORE, MOVE, COPY or EXPUNGE names, so that
/// sparse sets keep command lines short (RFC 7162 §4).
const MAX_UIDS_PER_COMMAND: usize = 500;

/// How many times a conditional STORE is retried after `MODIFIED` before it
/// is sent without `UNCHANGEDSINCE` (the offline delta wins in the end).
const MAX_STORE_ATTEMPTS: u8 = 3;

/// The default "header" items fetched for new messages:
/// `UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER]`.
pub fn default_header_items() -> Vec<FetchAttribute> {
    vec![
        FetchAttribute::Uid,
        FetchAttribute::Flags,
        FetchAttribute::Rfc822Size,
        FetchAttribute::InternalDate,
        FetchAttribute::BodySection {
            peek: true,
            section: Section {
                part: Vec::new(),
                text: Some(SectionText::Header),
            },
            partial: None,
        },
    ]
}

/// Settings of a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncOptions {
    /// What to fetch for each new message ("headers first"); `UID` is added
    /// when missing. Empty: new messages are reported with their flags only
    /// and cached without headers. Default: [`default_header_items`].
    pub header_items: Vec<FetchAttribute>,
    /// How many new messages one header FETCH asks for. Default: 50.
    pub header_batch: usize,
    /// Use QRESYNC when the server offers it. Default: true.
    pub use_qresync: bool,
    /// Use CONDSTORE when the server offers it. Default: true.
    pub use_condstore: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            header_items: default_header_items(),
            header_batch: 50,
            use_qresync: true,
            use_condstore: true,
        }
    }
}

/// The server extensions the plan depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServerFeatures {
    /// CONDSTORE (RFC 7162 §3.1), also implied by QRESYNC.
    pub condstore: bool,
    /// QRESYNC offered (RFC 7162 §3.2).
    pub qresync: bool,
    /// QRESYNC already enabled on this connection (no `ENABLE` needed).
    pub qresync_enabled: bool,
    /// UIDPLUS (RFC 4315): `UID EXPUNGE`, `APPENDUID`, `COPYUID`.
    pub uidplus: bool,
    /// MOVE (RFC 6851).
    pub move_cmd: bool,
    /// ESEARCH (RFC 4731): `UID SEARCH RETURN (ALL)`.
    pub esearch: bool,
}

impl ServerFeatures {
    /// From the server's capabilities and the extensions already enabled.
    pub fn from_capabilities(caps: &[Capability], enabled: &[Capability]) -> Self {
        Self {
            condstore: caps.contains(&Capability::CondStore) || caps.contains(&Capability::QResync),
            qresync: caps.contains(&Capability::QResync),
            qresync_enabled: enabled.contains(&Capability::QResync),
            uidplus: caps.contains(&Capability::UidPlus),
            move_cmd: caps.contains(&Capability::Move),
            esearch: caps.contains(&Capability::ESearch),
        }
    }

    /// What `conn` knows: [`ClientConnection::capabilities`] and
    /// [`ClientConnection::enabled`].
    pub fn of(conn: &ClientConnection) -> Self {
        Self::from_capabilities(conn.capabilities(), conn.enabled())
    }
}

/// What [`MailboxSync::finish`] hands back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The updated cache after success; the cache the sync started from after
    /// a failure (nothing half-applied).
    pub cache: MailboxCache,
    /// Journal entries not yet replayed (empty after success): keep them for
    /// the next sync. Entries already applied or dropped are not in it.
    pub journal: Vec<LocalChange>,
    /// Why the sync failed, if it did.
    pub error: Option<SyncError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Enable,
    Select,
    CatchUp,
    Headers,
    Replay,
    Reconcile,
    Finish,
    Done,
    Failed,
}

#[derive(Debug, Clone)]
enum CatchUp {
    ChangedSince(ModSeq),
    FetchAll,
    /// `UID FETCH n:* (UID FLAGS MODSEQ)`: messages above the known UIDs.
    FetchNew(Uid),
    Search,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FlagChange {
    Add(Vec<Flag>),
    Remove(Vec<Flag>),
    /// `FLAGS (…)` under `UNCHANGEDSINCE` for a message with both: the target
    /// is the cached flags with the delta, computed when sent.
    Replace {
        add: Vec<Flag>,
        remove: Vec<Flag>,
    },
}

#[derive(Debug, Clone)]
struct StoreOp {
    uids: Vec<Uid>,
    change: FlagChange,
    unchanged_since: Option<u64>,
    entries: Vec<usize>,
    attempts: u8,
}

#[derive(Debug, Clone)]
enum Op {
    Store(StoreOp),
    Refetch {
        uids: Vec<Uid>,
        retry: StoreOp,
    },
    Expunge {
        uids: Vec<Uid>,
        entries: Vec<usize>,
    },
    Move {
        uids: Vec<Uid>,
        to: Mailbox,
        entries: Vec<usize>,
    },
    Copy {
        uids: Vec<Uid>,
        to: Mailbox,
        entries: Vec<usize>,
    },
    Append {
        entry: usize,
    },
}

/// What the outstanding command was for.
#[derive(Debug, Clone)]
enum Step {
    Enable,
    Select,
    ChangedSince,
    FetchAll,
    FetchNew,
    Search { reconcile: bool },
    Headers(Vec<Uid>),
    Op(Op),
}

#[derive(Debug, Clone)]
struct Entry {
    change: LocalChange,
    pending: u32,
    outcome: Option<Applied>,
    done: bool,
}

#[derive(Debug, Clone, Default)]
struct Discovered {
    flags: Vec<Flag>,
    mod_seq: Option<ModSeq>,
}

/// One mailbox's synchronisation, as a sans-IO step machine beside a
/// [`ClientConnection`] (see the [module documentation](crate::sync)).
///
/// Loop: [`poll_command`](Self::poll_command) → send it → feed its completion
/// to [`handle_completion`](Self::handle_completion) (and unsolicited data to
/// [`handle_unsolicited`](Self::handle_unsolicited) /
/// [`handle_untagged_code`](Self::handle_untagged_code)) → drain
/// [`poll_event`](Self::poll_event), until [`SyncEvent::Done`] or an error;
/// then [`finish`](Self::finish). [`send_next`](Self::send_next) and
/// [`handle_event`](Self::handle_event) do the bookkeeping for a driver that
/// owns a [`ClientConnection`]. One command is outstanding at a time.
#[derive(Debug)]
pub struct MailboxSync {
    mailbox: Mailbox,
    original: MailboxCache,
    cache: MailboxCache,
    entries: Vec<Entry>,
    features: ServerFeatures,
    options: SyncOptions,
    phase: Phase,
    outstanding: Option<Step>,
    /// The next command, prepared as soon as the previous one completed (so
    /// [`SyncEvent::Done`] follows the last completion at once).
    ready: Option<(CommandBody, Step)>,
    command_name: String,
    current: Option<CommandHandle>,
    events: VecDeque<SyncEvent>,
    qresync_on: bool,
    sent_qresync: bool,
    nomodseq: bool,
    validity_changed: bool,
    /// SELECT answered `[READ-ONLY]`.
    read_only: bool,
    select_modseq: Option<ModSeq>,
    select_uid_next: Option<Uid>,
    catch_up: VecDeque<CatchUp>,
    discovered: BTreeMap<Uid, Discovered>,
    ops: VecDeque<Op>,
    net_flags: BTreeMap<Uid, (Vec<Flag>, Vec<Flag>)>,
    foreign_expunge: bool,
    copy_uid: Option<Code>,
    error: Option<SyncError>,
}

impl MailboxSync {
    /// A sync of `mailbox` from `cache`, replaying `journal` afterwards. The
    /// connection must be authenticated; the sync SELECTs the mailbox itself.
    pub fn new(
        mailbox: Mailbox,
        cache: MailboxCache,
        journal: Vec<LocalChange>,
        features: ServerFeatures,
        mut options: SyncOptions,
    ) -> Self {
        if !options.header_items.is_empty() && !options.header_items.contains(&FetchAttribute::Uid)
        {
            options.header_items.insert(0, FetchAttribute::Uid);
        }
        options.header_batch = options.header_batch.max(1);
        let entries = journal
            .into_iter()
            .map(|change| Entry {
                change,
                pending: 0,
                outcome: None,
                done: false,
            })
            .collect();
        Self {
            mailbox,
            original: cache.clone(),
            cache,
            entries,
            qresync_on: features.qresync_enabled && options.use_qresync,
            features,
            options,
            phase: Phase::Enable,
            outstanding: None,
            ready: None,
            command_name: String::new(),
            current: None,
            events: VecDeque::new(),
            sent_qresync: false,
            nomodseq: false,
            validity_changed: false,
            read_only: false,
            select_modseq: None,
            select_uid_next: None,
            catch_up: VecDeque::new(),
            discovered: BTreeMap::new(),
            ops: VecDeque::new(),
            net_flags: BTreeMap::new(),
            foreign_expunge: false,
            copy_uid: None,
            error: None,
        }
    }

    // ===== getters =====

    /// The working cache (the result so far; not yet committed).
    pub fn cache(&self) -> &MailboxCache {
        &self.cache
    }

    /// Whether [`SyncEvent::Done`] was reached.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The error that stopped the sync, if any.
    pub fn error(&self) -> Option<&SyncError> {
        self.error.as_ref()
    }

    // ===== outputs =====

    /// The next command to send, or `None` while a command is outstanding or
    /// once the sync is done or failed.
    #[must_use]
    pub fn poll_command(&mut self) -> Option<CommandBody> {
        self.prepare();
        let (cmd, step) = self.ready.take()?;
        self.command_name = cmd.name().to_owned();
        self.outstanding = Some(step);
        Some(cmd)
    }

    /// Work out the next command when none is outstanding or prepared.
    fn prepare(&mut self) {
        if self.outstanding.is_none() && self.ready.is_none() {
            self.ready = self.next_step();
        }
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<SyncEvent> {
        self.events.pop_front()
    }

    /// End the sync: the updated cache after [`SyncEvent::Done`], otherwise the
    /// original cache with [`SyncOutcome::error`] set.
    pub fn finish(self) -> SyncOutcome {
        let journal = self
            .entries
            .iter()
            .filter(|e| !e.done)
            .map(|e| e.change.clone())
            .collect();
        if self.phase == Phase::Done {
            SyncOutcome {
                cache: self.cache,
                journal,
                error: None,
            }
        } else {
            SyncOutcome {
                cache: self.original,
                journal,
                error: Some(self.error.unwrap_or(SyncError::Incomplete)),
            }
        }
    }

    // ===== driver helpers =====

    /// Enqueue the next command on `conn` if none is outstanding; returns its
    /// handle.
    pub fn send_next(&mut self, conn: &mut ClientConnection) -> Option<CommandHandle> {
        if self.current.is_some() {
            return None;
        }
        let cmd = self.poll_command()?;
        let h = conn.enqueue(cmd);
        self.current = Some(h);
        Some(h)
    }

    /// Feed one event of `conn` (after [`send_next`](Self::send_next)): the
    /// completion of the sync's command (returns `Ok(true)`), unsolicited data
    /// and untagged response codes (observed, `Ok(false)`: the application
    /// may look at them too).
    pub fn handle_event(
        &mut self,
        ev: &ClientEvent,
        conn: &ClientConnection,
    ) -> Result<bool, SyncError> {
        match ev {
            ClientEvent::Completed {
                handle,
                status,
                code,
                text,
                data,
            } if Some(*handle) == self.current => {
                self.current = None;
                let r = self.handle_completion(*status, code.clone(), data.clone(), conn.mailbox());
                if let Some(SyncError::CommandFailed { text: t, .. }) = &mut self.error {
                    *t = String::from_utf8_lossy(text.as_bytes()).into_owned();
                }
                match r {
                    Ok(()) => Ok(true),
                    Err(_) => Err(self.error.clone().unwrap_or(SyncError::Incomplete)),
                }
            }
            ClientEvent::Unsolicited(d) => {
                self.handle_unsolicited(d);
                Ok(false)
            }
            ClientEvent::Status {
                code: Some(code), ..
            } => {
                self.handle_untagged_code(code);
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    // ===== inputs =====

    /// Untagged data no command asked for (EXPUNGE, VANISHED, FETCH with new
    /// flags): applied to the working cache.
    pub fn handle_unsolicited(&mut self, data: &Data) {
        match data {
            Data::Fetch { items, .. } => {
                let discover = matches!(self.phase, Phase::CatchUp | Phase::Headers)
                    || matches!(self.outstanding, Some(Step::Select));
                let storing: Vec<Uid> = match &self.outstanding {
                    Some(Step::Op(Op::Store(s))) => s.uids.clone(),
                    _ => Vec::new(),
                };
                let flags_ok = fetch_uid(items).is_none_or(|u| !storing.contains(&u));
                self.absorb_fetch(items, discover, flags_ok);
            }
            Data::Expunge(_) => self.foreign_expunge = true,
            Data::Vanished { uids, .. } => self.vanish_set(uids),
            _ => {}
        }
    }

    /// A response code of an untagged status (`* OK [COPYUID …]` after MOVE,
    /// RFC 6851 §4.3; `* OK [NOMODSEQ]`, RFC 7162 §3.1.2.2).
    pub fn handle_untagged_code(&mut self, code: &Code) {
        match code {
            Code::CopyUid { .. } if matches!(self.outstanding, Some(Step::Op(Op::Move { .. }))) => {
                self.copy_uid = Some(code.clone());
            }
            Code::NoModSeq if matches!(self.outstanding, Some(Step::Select)) => {
                self.nomodseq = true;
            }
            _ => {}
        }
    }

    /// The completion of the command last returned by
    /// [`poll_command`](Self::poll_command): its status, code and data (as in
    /// [`ClientEvent::Completed`]) and the connection's mailbox state (needed
    /// after SELECT: UIDVALIDITY, HIGHESTMODSEQ and UIDNEXT arrive as codes).
    ///
    /// A NO or BAD fails the sync (except for `ENABLE QRESYNC`, which falls
    /// back to CONDSTORE); [`finish`](Self::finish) then returns the old cache.
    pub fn handle_completion(
        &mut self,
        status: StatusKind,
        code: Option<Code>,
        data: Vec<Data>,
        mailbox: Option<&MailboxState>,
    ) -> Result<(), SyncError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let Some(step) = self.outstanding.take() else {
            return Err(SyncError::UnexpectedCompletion);
        };
        if status != StatusKind::Ok {
            if matches!(step, Step::Enable) {
                self.qresync_on = false;
                return Ok(());
            }
            let e = SyncError::CommandFailed {
                command: std::mem::take(&mut self.command_name),
                status,
                code: code.map(Box::new),
                text: String::new(),
            };
            return Err(self.fail(e));
        }
        match step {
            Step::Enable => {
                self.qresync_on = data
                    .iter()
                    .any(|d| matches!(d, Data::Enabled(c) if c.contains(&Capability::QResync)));
            }
            Step::Select => self.on_select(&data, mailbox)?,
            Step::ChangedSince => {
                for d in &data {
                    self.absorb_data(d, true);
                }
                // CONDSTORE does not report expunges: they are found by comparing
                // UIDs (RFC 7162 §3.1 has no VANISHED without QRESYNC), unless
                // the message count proves nothing left.
                let expected = self.cache.messages.len() + self.discovered.len();
                let exists = mailbox.map(|m| m.exists as usize);
                if exists != Some(expected) {
                    self.catch_up.push_back(CatchUp::Search);
                }
            }
            Step::FetchAll => {
                let mut seen = BTreeSet::new();
                for d in &data {
                    if let Some(u) = self.absorb_data(d, true) {
                        seen.insert(u);
                    }
                }
                let gone: Vec<Uid> = self
                    .cache
                    .messages
                    .keys()
                    .filter(|u| !seen.contains(u))
                    .copied()
                    .collect();
                self.vanish(&gone);
            }
            Step::FetchNew => {
                for d in &data {
                    self.absorb_data(d, true);
                }
            }
            Step::Search { reconcile } => self.on_search(&data, reconcile),
            Step::Headers(uids) => self.on_headers(&uids, &data),
            Step::Op(op) => self.on_op(op, code, &data),
        }
        self.prepare();
        Ok(())
    }

    // ===== planning =====

    fn next_step(&mut self) -> Option<(CommandBody, Step)> {
        loop {
            match self.phase {
                Phase::Enable => {
                    self.phase = Phase::Select;
                    if self.features.qresync && self.options.use_qresync && !self.qresync_on {
                        return Some((
                            CommandBody::Enable(vec![Capability::QResync]),
                            Step::Enable,
                        ));
                    }
                }
                Phase::Select => {
                    self.phase = Phase::CatchUp;
                    return Some((self.select_command(), Step::Select));
                }
                Phase::CatchUp => match self.catch_up.pop_front() {
                    Some(c) => return Some(self.catch_up_command(c)),
                    None => self.phase = Phase::Headers,
                },
                Phase::Headers => {
                    if self.options.header_items.is_empty() {
                        self.report_discovered_without_headers();
                    }
                    let batch: Vec<Uid> = self
                        .discovered
                        .keys()
                        .take(self.options.header_batch)
                        .copied()
                        .collect();
                    if let Some(set) = uid_set(&batch) {
                        let cmd = CommandBody::Fetch {
                            uid: true,
                            set,
                            items: FetchItems::Attributes(self.options.header_items.clone()),
                            modifiers: Vec::new(),
                        };
                        return Some((cmd, Step::Headers(batch)));
                    }
                    self.phase = Phase::Replay;
                    self.plan_replay();
                }
                Phase::Replay => match self.ops.pop_front() {
                    Some(op) => {
                        if let Some(cmd) = self.op_command(&op) {
                            return Some((cmd, Step::Op(op)));
                        }
                    }
                    None => self.phase = Phase::Reconcile,
                },
                Phase::Reconcile => {
                    self.phase = Phase::Finish;
                    if self.foreign_expunge && !self.cache.messages.is_empty() {
                        return Some((self.search_command(), Step::Search { reconcile: true }));
                    }
                }
                Phase::Finish => {
                    self.cache.highest_mod_seq = self.select_modseq;
                    let next = self
                        .cache
                        .messages
                        .keys()
                        .next_back()
                        .and_then(|u| Uid::new(u.get().saturating_add(1)));
                    self.cache.uid_next = match (self.select_uid_next, next) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    self.phase = Phase::Done;
                    self.events.push_back(SyncEvent::Done);
                }
                Phase::Done | Phase::Failed => return None,
            }
        }
    }

    fn select_command(&mut self) -> CommandBody {
        let mut params = Vec::new();
        let condstore = self.features.condstore && self.options.use_condstore;
        match (self.original.uid_validity, self.original.highest_mod_seq) {
            (Some(uid_validity), Some(mod_seq)) if self.qresync_on => {
                params.push(SelectParam::QResync(QResyncParam {
                    uid_validity,
                    mod_seq,
                    known_uids: self.known_uids_param(),
                    seq_match: None,
                }));
                self.sent_qresync = true;
            }
            _ if condstore || self.qresync_on => params.push(SelectParam::CondStore),
            _ => {}
        }
        CommandBody::Select {
            mailbox: self.mailbox.clone(),
            params,
        }
    }

    /// QRESYNC's `known-uids`: the cached UIDs, or `1:highest` when that set
    /// has more than [`MAX_KNOWN_UID_RANGES`] ranges (a superset is harmless:
    /// VANISHED for UIDs never cached is ignored) to keep the line short.
    fn known_uids_param(&self) -> Option<SequenceSet> {
        let set = self.original.known_uids()?;
        if set.ranges().len() <= MAX_KNOWN_UID_RANGES {
            return Some(set);
        }
        let top = self.original.messages.keys().next_back()?;
        Some(SequenceSet::range(
            SeqBound::Value(NonZeroU32::MIN),
            SeqBound::Value(top.0),
        ))
    }

    fn search_command(&self) -> CommandBody {
        CommandBody::Search {
            uid: true,
            return_options: self.features.esearch.then(|| vec![SearchReturn::All]),
            charset: None,
            criteria: vec![SearchKey::All],
        }
    }

    fn catch_up_command(&self, c: CatchUp) -> (CommandBody, Step) {
        let mut attrs = vec![FetchAttribute::Uid, FetchAttribute::Flags];
        match c {
            CatchUp::ChangedSince(m) => (
                CommandBody::Fetch {
                    uid: true,
                    set: SequenceSet::all(),
                    items: FetchItems::Attributes(attrs),
                    modifiers: vec![imap_proto::FetchModifier::ChangedSince(m)],
                },
                Step::ChangedSince,
            ),
            CatchUp::FetchAll => {
                if self.select_modseq.is_some() {
                    attrs.push(FetchAttribute::ModSeq);
                }
                (
                    CommandBody::Fetch {
                        uid: true,
                        set: SequenceSet::all(),
                        items: FetchItems::Attributes(attrs),
                        modifiers: Vec::new(),
                    },
                    Step::FetchAll,
                )
            }
            CatchUp::FetchNew(from) => (
                CommandBody::Fetch {
                    uid: true,
                    set: SequenceSet::range(SeqBound::Value(from.0), SeqBound::Star),
                    items: FetchItems::Attributes(vec![
                        FetchAttribute::Uid,
                        FetchAttribute::Flags,
                        FetchAttribute::ModSeq,
                    ]),
                    modifiers: Vec::new(),
                },
                Step::FetchNew,
            ),
            CatchUp::Search => (self.search_command(), Step::Search { reconcile: false }),
        }
    }

    fn on_select(
        &mut self,
        data: &[Data],
        mailbox: Option<&MailboxState>,
    ) -> Result<(), SyncError> {
        let Some(m) = mailbox.filter(|m| m.uid_validity.is_some()) else {
            return Err(self.fail(SyncError::NoUidValidity));
        };
        let new = m.uid_validity.unwrap_or(NonZeroU32::MIN);
        if let Some(old) = self.original.uid_validity {
            if old != new {
                self.validity_changed = true;
                self.cache = MailboxCache::new();
                self.events
                    .push_back(SyncEvent::UidValidityChanged { old, new });
            }
        }
        self.cache.uid_validity = Some(new);
        self.select_uid_next = m.uid_next;
        self.read_only = m.read_only;
        self.select_modseq = if self.nomodseq {
            None
        } else {
            m.highest_mod_seq
        };
        let usable = !self.validity_changed && self.original.uid_validity == Some(new);
        let plan = match (self.select_modseq, self.original.highest_mod_seq) {
            (Some(_), Some(_)) if usable && self.sent_qresync => SyncPlan::QResync,
            (Some(_), Some(_)) if usable => SyncPlan::CondStore,
            _ => SyncPlan::Plain,
        };
        let full = self.cache.messages.is_empty();
        self.events.push_back(SyncEvent::Plan { plan, full });
        let empty_mailbox = m.exists == 0;
        match plan {
            SyncPlan::QResync => {
                for d in data {
                    match d {
                        Data::Vanished { uids, .. } => self.vanish_set(uids),
                        Data::Fetch { items, .. } => {
                            self.absorb_fetch(items, true, true);
                        }
                        _ => {}
                    }
                }
                // With known-uids the server reports changes of those only
                // (RFC 7162 §3.2.5; Dovecot does): new messages show in the
                // count and are fetched above the highest known UID.
                let known = self.cache.messages.len() + self.discovered.len();
                let exists = m.exists as usize;
                if exists > known {
                    let top = self
                        .cache
                        .messages
                        .keys()
                        .chain(self.discovered.keys())
                        .max()
                        .map_or(0, |u| u.get());
                    if let Some(from) = Uid::new(top.saturating_add(1)) {
                        self.catch_up.push_back(CatchUp::FetchNew(from));
                    }
                } else if exists < known {
                    self.catch_up.push_back(CatchUp::Search);
                }
            }
            _ if empty_mailbox => {
                let gone: Vec<Uid> = self.cache.messages.keys().copied().collect();
                self.vanish(&gone);
            }
            SyncPlan::CondStore => match self.original.highest_mod_seq {
                // Nothing changed (RFC 7162 §3.1.2.1); only expunges may hide
                // behind an unchanged HIGHESTMODSEQ, and the count shows them.
                Some(since) if self.select_modseq == Some(since) => {
                    if m.exists as usize != self.cache.messages.len() {
                        self.catch_up.push_back(CatchUp::Search);
                    }
                }
                Some(since) => self.catch_up.push_back(CatchUp::ChangedSince(since)),
                None => self.catch_up.push_back(CatchUp::FetchAll),
            },
            _ => self.catch_up.push_back(CatchUp::FetchAll),
        }
        Ok(())
    }

    fn on_search(&mut self, data: &[Data], reconcile: bool) {
        let mut numbers = BTreeSet::new();
        let mut sets = Vec::new();
        for d in data {
            match d {
                Data::Search { numbers: n, .. } => numbers.extend(n.iter().map(|n| n.get())),
                Data::ESearch(r) => {
                    for item in &r.items {
                        if let imap_proto::ESearchItem::All(s) = item {
                            sets.push(s.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        let present = |u: u32| numbers.contains(&u) || sets.iter().any(|s| s.contains(u, u32::MAX));
        let gone: Vec<Uid> = self
            .cache
            .messages
            .keys()
            .filter(|u| !present(u.get()))
            .copied()
            .collect();
        self.vanish(&gone);
        if !reconcile {
            self.discovered.retain(|u, _| present(u.get()));
        }
        if reconcile {
            self.foreign_expunge = false;
        }
    }

    fn on_headers(&mut self, uids: &[Uid], data: &[Data]) {
        // A message's items may come in several FETCH responses (a flag
        // update interleaved with the answer): merge them per UID first.
        let mut order: Vec<Uid> = Vec::new();
        let mut merged: BTreeMap<Uid, Vec<FetchItem>> = BTreeMap::new();
        for d in data {
            let Data::Fetch { items, .. } = d else {
                self.absorb_data(d, false);
                continue;
            };
            let Some(uid) = fetch_uid(items) else {
                continue;
            };
            if !self.discovered.contains_key(&uid) {
                self.absorb_fetch(items, false, true);
                continue;
            }
            let all = merged.entry(uid).or_insert_with(|| {
                order.push(uid);
                Vec::new()
            });
            all.extend(items.iter().cloned());
        }
        for uid in order {
            let (Some(found), Some(items)) = (self.discovered.remove(&uid), merged.remove(&uid))
            else {
                continue;
            };
            let mut msg = NewMessage {
                uid,
                flags: found.flags,
                mod_seq: found.mod_seq,
                header: None,
                size: None,
                internal_date: None,
                items: Vec::new(),
            };
            for item in &items {
                match item {
                    FetchItem::Flags(f) => msg.flags = clean_flags(f),
                    FetchItem::ModSeq(m) => msg.mod_seq = Some(*m),
                    FetchItem::Rfc822Size(n) => msg.size = Some(*n),
                    FetchItem::InternalDate(t) => msg.internal_date = Some(*t),
                    FetchItem::BodySection { data, .. } | FetchItem::Rfc822Header(data)
                        if msg.header.is_none() =>
                    {
                        msg.header.clone_from(data);
                    }
                    _ => {}
                }
            }
            msg.items = items;
            self.cache.messages.insert(
                uid,
                CachedMessage {
                    flags: msg.flags.clone(),
                    mod_seq: msg.mod_seq,
                    headers: true,
                },
            );
            self.events.push_back(SyncEvent::NewMessage(Box::new(msg)));
        }
        // Asked for and not answered: expunged before we could fetch them.
        for u in uids {
            self.discovered.remove(u);
        }
    }

    fn report_discovered_without_headers(&mut self) {
        for (uid, d) in std::mem::take(&mut self.discovered) {
            self.cache.messages.insert(
                uid,
                CachedMessage {
                    flags: d.flags.clone(),
                    mod_seq: d.mod_seq,
                    headers: false,
                },
            );
            self.events
                .push_back(SyncEvent::NewMessage(Box::new(NewMessage {
                    uid,
                    flags: d.flags,
                    mod_seq: d.mod_seq,
                    header: None,
                    size: None,
                    internal_date: None,
                    items: Vec::new(),
                })));
        }
    }

    // ===== applying data =====

    /// Apply a FETCH/VANISHED/EXPUNGE that came with a completion; returns the
    /// UID of a FETCH.
    fn absorb_data(&mut self, d: &Data, discover: bool) -> Option<Uid> {
        match d {
            Data::Fetch { items, .. } => self.absorb_fetch(items, discover, true),
            Data::Vanished { uids, .. } => {
                self.vanish_set(uids);
                None
            }
            Data::Expunge(_) => {
                self.foreign_expunge = true;
                None
            }
            _ => None,
        }
    }

    /// Apply one FETCH response: new flags of a cached message (reported when
    /// they differ and `flags_ok`), its mod-sequence, or, when `discover`, a
    /// message the cache does not know.
    fn absorb_fetch(&mut self, items: &[FetchItem], discover: bool, flags_ok: bool) -> Option<Uid> {
        let uid = fetch_uid(items)?;
        let flags = items.iter().find_map(|i| match i {
            FetchItem::Flags(f) => Some(clean_flags(f)),
            _ => None,
        });
        let mod_seq = items.iter().find_map(|i| match i {
            FetchItem::ModSeq(m) => Some(*m),
            _ => None,
        });
        if let Some(m) = self.cache.messages.get_mut(&uid) {
            if mod_seq.is_some() {
                m.mod_seq = mod_seq;
            }
            if let Some(f) = flags.filter(|_| flags_ok) {
                if !same_flags(&m.flags, &f) {
                    m.flags.clone_from(&f);
                    self.events
                        .push_back(SyncEvent::FlagsChanged { uid, flags: f });
                }
            }
        } else if discover {
            let d = self.discovered.entry(uid).or_default();
            if let Some(f) = flags {
                d.flags = f;
            }
            if mod_seq.is_some() {
                d.mod_seq = mod_seq;
            }
        }
        Some(uid)
    }

    /// Forget the cached messages of `uids` (a VANISHED set, possibly huge or
    /// naming unknown UIDs: only cached ones are looked up).
    fn vanish_set(&mut self, uids: &SequenceSet) {
        let gone: Vec<Uid> = self
            .cache
            .messages
            .keys()
            .filter(|u| uids.contains(u.get(), u32::MAX))
            .copied()
            .collect();
        self.discovered
            .retain(|u, _| !uids.contains(u.get(), u32::MAX));
        self.vanish(&gone);
    }

    fn vanish(&mut self, uids: &[Uid]) {
        let mut gone = Vec::new();
        for u in uids {
            if self.cache.messages.remove(u).is_some() {
                gone.push(*u);
            }
        }
        if !gone.is_empty() {
            gone.sort_unstable();
            self.events.push_back(SyncEvent::Vanished { uids: gone });
        }
    }

    fn fail(&mut self, e: SyncError) -> SyncError {
        self.phase = Phase::Failed;
        self.outstanding = None;
        self.ready = None;
        self.error = Some(e.clone());
        e
    }

    // ===== replay =====

    fn conflict(&mut self, change: LocalChange, kind: ConflictKind) {
        self.events.push_back(SyncEvent::Conflict { change, kind });
    }

    fn drop_entry(&mut self, i: usize, kind: ConflictKind) {
        self.entries[i].done = true;
        let change = self.entries[i].change.clone();
        self.conflict(change, kind);
    }

    /// Turn the journal into replay operations (rules in the module doc).
    fn plan_replay(&mut self) {
        let mut gone = BTreeSet::new();
        let mut net: BTreeMap<Uid, NetDelta> = BTreeMap::new();
        let mut deletes: Vec<(Uid, usize)> = Vec::new();
        let mut moves: Vec<(Mailbox, Vec<Uid>, Vec<usize>)> = Vec::new();
        let mut appends = Vec::new();
        for i in 0..self.entries.len() {
            let change = self.entries[i].change.clone();
            let Some(uid) = change.uid() else {
                if let LocalChange::Append(d) = &change {
                    if Literal::new(d.message.clone()).is_err() {
                        self.drop_entry(i, ConflictKind::InvalidDraft);
                    } else {
                        self.entries[i].outcome = Some(Applied::Appended {
                            local_id: d.local_id.clone(),
                            uid: None,
                        });
                        appends.push(i);
                    }
                }
                continue;
            };
            if self.validity_changed {
                self.drop_entry(i, ConflictKind::UidValidityChanged);
            } else if self.read_only {
                self.drop_entry(i, ConflictKind::ReadOnly);
            } else if gone.contains(&uid) {
                self.drop_entry(i, ConflictKind::Superseded);
            } else if !self.cache.messages.contains_key(&uid) {
                self.drop_entry(i, ConflictKind::Vanished);
            } else {
                match change {
                    LocalChange::Flags { add, remove, .. } => {
                        // \Recent cannot be stored (RFC 3501 §2.3.2).
                        let (add, remove) = (clean_flags(&add), clean_flags(&remove));
                        let n = net.entry(uid).or_default();
                        for f in add {
                            n.1.retain(|x| *x != f);
                            if !n.0.contains(&f) {
                                n.0.push(f);
                            }
                        }
                        for f in remove {
                            n.0.retain(|x| *x != f);
                            if !n.1.contains(&f) {
                                n.1.push(f);
                            }
                        }
                        n.2.push(i);
                        self.entries[i].outcome = Some(Applied::Flags);
                    }
                    LocalChange::Delete { .. } => {
                        gone.insert(uid);
                        deletes.push((uid, i));
                        self.entries[i].outcome = Some(Applied::Deleted {
                            expunged: self.features.uidplus,
                        });
                    }
                    LocalChange::Move { to, .. } => {
                        gone.insert(uid);
                        match moves.iter_mut().find(|m| m.0 == to) {
                            Some(m) => {
                                m.1.push(uid);
                                m.2.push(i);
                            }
                            None => moves.push((to, vec![uid], vec![i])),
                        }
                        self.entries[i].outcome = Some(Applied::Moved {
                            new_uid: None,
                            expunged: self.features.move_cmd || self.features.uidplus,
                        });
                    }
                    _ => {}
                }
            }
        }

        // Flags: per-UID net deltas, minus what the server already has.
        let modseq = self.select_modseq.map(ModSeq::get);
        let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
        for (uid, (add, remove, idx)) in net {
            let server = self.cache.flags(uid).unwrap_or_default().to_vec();
            let add_eff: Vec<Flag> = add
                .iter()
                .filter(|f| !server.contains(f))
                .cloned()
                .collect();
            let rem_eff: Vec<Flag> = remove
                .iter()
                .filter(|f| server.contains(f))
                .cloned()
                .collect();
            if let Some(old) = self.original.flags(uid).filter(|_| !self.validity_changed) {
                let changed = |f: &Flag| old.contains(f) != server.contains(f);
                let over: Vec<Flag> = add_eff
                    .iter()
                    .chain(&rem_eff)
                    .filter(|f| changed(f))
                    .cloned()
                    .collect();
                if !over.is_empty() {
                    let change = LocalChange::Flags {
                        uid,
                        add: add.clone(),
                        remove: remove.clone(),
                    };
                    self.conflict(change, ConflictKind::FlagsOverridden { flags: over });
                }
            }
            self.net_flags.insert(uid, (add, remove));
            let msg_modseq = self
                .cache
                .messages
                .get(&uid)
                .and_then(|m| m.mod_seq)
                .map(ModSeq::get);
            let since = modseq.map(|h| h.max(msg_modseq.unwrap_or(0)));
            if !add_eff.is_empty() && !rem_eff.is_empty() && since.is_some() {
                for &i in &idx {
                    self.entries[i].pending += 1;
                }
                self.ops.push_back(Op::Store(StoreOp {
                    uids: vec![uid],
                    change: FlagChange::Replace {
                        add: add_eff,
                        remove: rem_eff,
                    },
                    unchanged_since: msg_modseq.or(since),
                    entries: idx,
                    attempts: 0,
                }));
                continue;
            }
            for (is_add, flags) in [(true, add_eff), (false, rem_eff)] {
                if flags.is_empty() {
                    continue;
                }
                let key = flags
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ");
                groups
                    .entry((is_add, key, since))
                    .or_insert_with(|| (flags, Vec::new()))
                    .1
                    .push((uid, idx.clone()));
            }
        }
        // Adds first, then removes (the key sorts `true` after `false`).
        let mut group_ops: Vec<(GroupKey, Group)> = groups.into_iter().collect();
        group_ops.sort_by_key(|((is_add, _, _), _)| !*is_add);
        for ((is_add, _, since), (flags, members)) in group_ops {
            for chunk in members.chunks(MAX_UIDS_PER_COMMAND) {
                let uids: Vec<Uid> = chunk.iter().map(|m| m.0).collect();
                let mut entries: Vec<usize> = chunk.iter().flat_map(|m| m.1.clone()).collect();
                entries.sort_unstable();
                entries.dedup();
                for &i in &entries {
                    self.entries[i].pending += 1;
                }
                let change = if is_add {
                    FlagChange::Add(flags.clone())
                } else {
                    FlagChange::Remove(flags.clone())
                };
                self.ops.push_back(Op::Store(StoreOp {
                    uids,
                    change,
                    unchanged_since: since,
                    entries,
                    attempts: 0,
                }));
            }
        }

        // Moves: flags were stored first, so the copies carry them. Each move
        // entry names one UID: `uids[k]` belongs to `idx[k]`.
        for (to, uids, idx) in moves {
            for (uids, idx) in uids
                .chunks(MAX_UIDS_PER_COMMAND)
                .zip(idx.chunks(MAX_UIDS_PER_COMMAND))
            {
                for &i in idx {
                    self.entries[i].pending += 1;
                }
                let (uids, to, entries) = (uids.to_vec(), to.clone(), idx.to_vec());
                self.ops.push_back(if self.features.move_cmd {
                    Op::Move { uids, to, entries }
                } else {
                    Op::Copy { uids, to, entries }
                });
            }
        }

        // Deletes: mark, then expunge exactly those UIDs (UIDPLUS).
        for chunk in deletes.chunks(MAX_UIDS_PER_COMMAND) {
            let uids: Vec<Uid> = chunk.iter().map(|d| d.0).collect();
            let idx: Vec<usize> = chunk.iter().map(|d| d.1).collect();
            self.push_delete_ops(uids, idx, false);
        }

        for i in appends {
            self.entries[i].pending += 1;
            self.ops.push_back(Op::Append { entry: i });
        }

        // Entries with nothing left to send (the server already agreed).
        for i in 0..self.entries.len() {
            self.settle(i);
        }
    }

    /// Queue `+FLAGS.SILENT (\Deleted)` and, with UIDPLUS, `UID EXPUNGE` for
    /// `uids` (at the front when `front`).
    fn push_delete_ops(&mut self, uids: Vec<Uid>, idx: Vec<usize>, front: bool) {
        let mut ops = vec![Op::Store(StoreOp {
            uids: uids.clone(),
            change: FlagChange::Add(vec![Flag::Deleted]),
            unchanged_since: None,
            entries: idx.clone(),
            attempts: 0,
        })];
        if self.features.uidplus {
            ops.push(Op::Expunge {
                uids,
                entries: idx.clone(),
            });
        }
        for &i in &idx {
            self.entries[i].pending += u32::try_from(ops.len()).unwrap_or(2);
        }
        if front {
            for op in ops.into_iter().rev() {
                self.ops.push_front(op);
            }
        } else {
            self.ops.extend(ops);
        }
    }

    /// Report entry `i` as applied once nothing is pending for it.
    fn settle(&mut self, i: usize) {
        let e = &mut self.entries[i];
        if e.done || e.pending > 0 {
            return;
        }
        let Some(outcome) = e.outcome.clone() else {
            return;
        };
        e.done = true;
        let change = e.change.clone();
        self.events
            .push_back(SyncEvent::LocalApplied { change, outcome });
    }

    fn op_done(&mut self, entries: &[usize]) {
        for &i in entries {
            let e = &mut self.entries[i];
            e.pending = e.pending.saturating_sub(1);
            self.settle(i);
        }
    }

    fn op_command(&self, op: &Op) -> Option<CommandBody> {
        Some(match op {
            Op::Store(s) => {
                let (kind, flags) = match &s.change {
                    FlagChange::Add(f) => (StoreKind::Add, f.clone()),
                    FlagChange::Remove(f) => (StoreKind::Remove, f.clone()),
                    FlagChange::Replace { add, remove } => {
                        let uid = *s.uids.first()?;
                        let mut target: Vec<Flag> = self
                            .cache
                            .flags(uid)
                            .unwrap_or_default()
                            .iter()
                            .filter(|f| !remove.contains(f))
                            .cloned()
                            .collect();
                        for f in add {
                            if !target.contains(f) {
                                target.push(f.clone());
                            }
                        }
                        (StoreKind::Replace, target)
                    }
                };
                CommandBody::Store {
                    uid: true,
                    set: uid_set(&s.uids)?,
                    modifiers: s
                        .unchanged_since
                        .map(StoreModifier::UnchangedSince)
                        .into_iter()
                        .collect(),
                    kind,
                    silent: true,
                    target: StoreTarget::Flags(flags),
                }
            }
            Op::Refetch { uids, .. } => CommandBody::Fetch {
                uid: true,
                set: uid_set(uids)?,
                items: FetchItems::Attributes(vec![
                    FetchAttribute::Uid,
                    FetchAttribute::Flags,
                    FetchAttribute::ModSeq,
                ]),
                modifiers: Vec::new(),
            },
            Op::Expunge { uids, .. } => CommandBody::UidExpunge(uid_set(uids)?),
            Op::Move { uids, to, .. } => CommandBody::Move {
                uid: true,
                set: uid_set(uids)?,
                mailbox: to.clone(),
            },
            Op::Copy { uids, to, .. } => CommandBody::Copy {
                uid: true,
                set: uid_set(uids)?,
                mailbox: to.clone(),
            },
            Op::Append { entry } => {
                let LocalChange::Append(d) = &self.entries.get(*entry)?.change else {
                    return None;
                };
                CommandBody::Append {
                    mailbox: self.mailbox.clone(),
                    messages: vec![AppendMessage {
                        flags: clean_flags(&d.flags),
                        date: d.date,
                        data: Literal::new(d.message.clone()).ok()?,
                        utf8: false,
                    }],
                }
            }
        })
    }

    fn on_op(&mut self, op: Op, code: Option<Code>, data: &[Data]) {
        match op {
            Op::Store(s) => {
                let modified: Vec<Uid> = match (&code, s.unchanged_since) {
                    (Some(Code::Modified(set)), Some(_)) => s
                        .uids
                        .iter()
                        .filter(|u| set.contains(u.get(), u32::MAX))
                        .copied()
                        .collect(),
                    _ => Vec::new(),
                };
                for &uid in &s.uids {
                    if modified.contains(&uid) {
                        continue;
                    }
                    if let Some(m) = self.cache.messages.get_mut(&uid) {
                        apply_change(&mut m.flags, &s.change);
                    }
                }
                for d in data {
                    self.absorb_data(d, false);
                }
                if modified.is_empty() {
                    self.op_done(&s.entries);
                    return;
                }
                for &uid in &modified {
                    if let Some((add, remove)) = self.net_flags.get(&uid).cloned() {
                        let change = LocalChange::Flags { uid, add, remove };
                        self.conflict(change, ConflictKind::ModifiedConcurrently);
                    }
                }
                let retry = StoreOp {
                    uids: modified.clone(),
                    attempts: s.attempts + 1,
                    ..s
                };
                self.ops.push_front(Op::Refetch {
                    uids: modified,
                    retry,
                });
            }
            Op::Refetch { uids, mut retry } => {
                for d in data {
                    self.absorb_data(d, false);
                }
                // Re-read: the delta is stored again under the new
                // mod-sequence; the last attempt is unconditional.
                retry.unchanged_since = if retry.attempts >= MAX_STORE_ATTEMPTS {
                    None
                } else {
                    uids.iter()
                        .filter_map(|u| self.cache.messages.get(u).and_then(|m| m.mod_seq))
                        .map(ModSeq::get)
                        .max()
                        .or(retry.unchanged_since)
                };
                retry.uids.retain(|u| self.cache.messages.contains_key(u));
                if retry.uids.is_empty() {
                    self.op_done(&retry.entries);
                } else {
                    self.ops.push_front(Op::Store(retry));
                }
            }
            Op::Expunge { uids, entries } => {
                self.count_expunges(data, &uids);
                for u in &uids {
                    self.cache.messages.remove(u);
                }
                self.op_done(&entries);
            }
            Op::Move { uids, entries, .. } => {
                let copy = match code {
                    Some(c @ Code::CopyUid { .. }) => Some(c),
                    _ => self.copy_uid.take(),
                };
                self.copy_uid = None;
                self.record_copy_uids(copy.as_ref(), &entries);
                self.count_expunges(data, &uids);
                for u in &uids {
                    self.cache.messages.remove(u);
                }
                self.op_done(&entries);
            }
            Op::Copy { uids, entries, .. } => {
                self.record_copy_uids(code.as_ref(), &entries);
                self.push_delete_ops(uids, entries.clone(), true);
                self.op_done(&entries);
            }
            Op::Append { entry } => {
                let new_uid = match code {
                    Some(Code::AppendUid { uid_validity, uids })
                        if Some(uid_validity) == self.cache.uid_validity =>
                    {
                        uids.ranges()
                            .first()
                            .map(|r| r.bounds(u32::MAX).0)
                            .and_then(Uid::new)
                    }
                    _ => None,
                };
                if let LocalChange::Append(d) = &self.entries[entry].change {
                    if let Some(uid) = new_uid {
                        self.cache.messages.insert(
                            uid,
                            CachedMessage {
                                flags: clean_flags(&d.flags),
                                mod_seq: None,
                                headers: true,
                            },
                        );
                    }
                    self.entries[entry].outcome = Some(Applied::Appended {
                        local_id: d.local_id.clone(),
                        uid: new_uid,
                    });
                }
                self.op_done(&[entry]);
            }
        }
    }

    /// Whether the expunges answering our `UID EXPUNGE`/`UID MOVE` of `ours`
    /// include others' (then the sync ends with a UID comparison).
    fn count_expunges(&mut self, data: &[Data], ours: &[Uid]) {
        let mut n = 0usize;
        for d in data {
            match d {
                Data::Expunge(_) => n += 1,
                Data::Vanished { uids, .. } => {
                    let foreign: Vec<Uid> = self
                        .cache
                        .messages
                        .keys()
                        .filter(|u| uids.contains(u.get(), u32::MAX) && !ours.contains(u))
                        .copied()
                        .collect();
                    self.vanish(&foreign);
                }
                _ => {}
            }
        }
        if n > ours.len() {
            self.foreign_expunge = true;
        }
    }

    /// Fill in the new UIDs of moved messages from `COPYUID` (RFC 4315 §3).
    fn record_copy_uids(&mut self, code: Option<&Code>, entries: &[usize]) {
        let Some(Code::CopyUid {
            source,
            destination,
            ..
        }) = code
        else {
            return;
        };
        // Both sets list UIDs in the same order; refuse `*` and sets larger
        // than what we moved (a hostile server could send 1:4294967295).
        let bounded = |s: &SequenceSet| {
            let mut n = 0u64;
            for r in s.ranges() {
                let (SeqBound::Value(a), SeqBound::Value(b)) = (r.start, r.end) else {
                    return false;
                };
                n += u64::from(a.get().abs_diff(b.get())) + 1;
            }
            n <= entries.len() as u64
        };
        if !bounded(source) || !bounded(destination) {
            return;
        }
        let pairs: Vec<(u32, u32)> = source
            .iter(u32::MAX)
            .zip(destination.iter(u32::MAX))
            .collect();
        for &i in entries {
            let Some(uid) = self.entries[i].change.uid() else {
                continue;
            };
            let new = pairs
                .iter()
                .find(|p| p.0 == uid.get())
                .and_then(|p| Uid::new(p.1));
            if let Some(Applied::Moved { new_uid, .. }) = &mut self.entries[i].outcome {
                *new_uid = new;
            }
        }
    }
}

/// The UID of a FETCH response.
fn fetch_uid(items: &[FetchItem]) -> Option<Uid> {
    items.iter().find_map(|i| match i {
        FetchItem::Uid(u) => Some(*u),
        _ => None,
    })
}

/// Flags without `\Recent` (session state, RFC 3501 §2.3.2), without repeats.
fn clean_flags(flags: &[Flag]) -> Vec<Flag> {
    let mut v: Vec<Flag> = Vec::with_capacity(flags.len());
    for f in flags {
        if *f != Flag::Recent && !v.contains(f) {
            v.push(f.clone());
        }
    }
    v
}

/// Whether two flag lists hold the same flags, in any order.
fn same_flags(a: &[Flag], b: &[Flag]) -> bool {
    a.iter().all(|f| b.contains(f)) && b.iter().all(|f| a.contains(f))
}

fn apply_change(flags: &mut Vec<Flag>, change: &FlagChange) {
    let (add, remove): (&[Flag], &[Flag]) = match change {
        FlagChange::Add(f) => (f, &[]),
        FlagChange::Remove(f) => (&[], f),
        FlagChange::Replace { add, remove } => (add, remove),
    };
    flags.retain(|f| !remove.contains(f));
    for f in add {
        if !flags.contains(f) {
            flags.push(f.clone());
        }
    }
}

/// A compact UID set; `None` for no UIDs.
fn uid_set(uids: &[Uid]) -> Option<SequenceSet> {
    SequenceSet::from_numbers(uids.iter().map(|u| u.get()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::journal::Draft;
    use imap_proto::{ESearchItem, ESearchResponse, SeqNum};
    use proptest::prelude::*;

    fn set() -> impl Strategy<Value = SequenceSet> {
        prop_oneof![
            proptest::collection::vec(1u32..30, 1..5)
                .prop_map(|v| SequenceSet::from_numbers(v).unwrap_or_else(SequenceSet::all)),
            Just(SequenceSet::all()),
            Just(
                "1:4294967295"
                    .parse()
                    .unwrap_or_else(|_| SequenceSet::all())
            ),
        ]
    }

    fn flags() -> impl Strategy<Value = Vec<Flag>> {
        proptest::collection::vec(
            prop_oneof![
                Just(Flag::Seen),
                Just(Flag::Deleted),
                Just(Flag::Recent),
                Just(Flag::keyword("$X"))
            ],
            0..3,
        )
    }

    fn data() -> impl Strategy<Value = Data> {
        prop_oneof![
            (1u32..30, 1u32..30, flags(), proptest::option::of(1u64..100)).prop_map(
                |(seq, u, f, m)| {
                    let mut items = imap_proto::FetchItemVec::new();
                    items.push(FetchItem::Uid(Uid::new(u).unwrap_or(Uid(NonZeroU32::MIN))));
                    items.push(FetchItem::Flags(f.into_iter().collect()));
                    if let Some(m) = m.and_then(ModSeq::new) {
                        items.push(FetchItem::ModSeq(m));
                    }
                    Data::Fetch {
                        seq: SeqNum::new(seq).unwrap_or(SeqNum(NonZeroU32::MIN)),
                        items,
                    }
                }
            ),
            (any::<bool>(), set()).prop_map(|(earlier, uids)| Data::Vanished { earlier, uids }),
            (1u32..30)
                .prop_map(|n| Data::Expunge(SeqNum::new(n).unwrap_or(SeqNum(NonZeroU32::MIN)))),
            proptest::collection::vec(1u32..30, 0..6).prop_map(|v| Data::Search {
                numbers: v.into_iter().filter_map(NonZeroU32::new).collect(),
                mod_seq: None,
            }),
            set().prop_map(|s| Data::ESearch(ESearchResponse {
                tag: None,
                uid: true,
                items: vec![ESearchItem::All(s)],
            })),
            Just(Data::Enabled(vec![Capability::QResync])),
        ]
    }

    fn code() -> impl Strategy<Value = Option<Code>> {
        prop_oneof![
            Just(None),
            set().prop_map(|s| Some(Code::Modified(s))),
            (set(), set()).prop_map(|(source, destination)| Some(Code::CopyUid {
                uid_validity: NonZeroU32::MIN,
                source,
                destination,
            })),
            set().prop_map(|uids| Some(Code::AppendUid {
                uid_validity: NonZeroU32::MIN,
                uids,
            })),
        ]
    }

    /// One server answer: status (mostly OK), code, data, and the mailbox
    /// state the connection would report.
    type Answer = (bool, Option<Code>, Vec<Data>, (u32, u32, Option<u64>));

    fn answer() -> impl Strategy<Value = Answer> {
        (
            prop::bool::weighted(0.95),
            code(),
            proptest::collection::vec(data(), 0..5),
            (1u32..3, 0u32..30, proptest::option::of(1u64..100)),
        )
    }

    fn change() -> impl Strategy<Value = LocalChange> {
        let uid = (1u32..30).prop_map(|u| Uid::new(u).unwrap_or(Uid(NonZeroU32::MIN)));
        prop_oneof![
            (uid.clone(), flags(), flags()).prop_map(|(uid, add, remove)| LocalChange::Flags {
                uid,
                add,
                remove
            }),
            uid.clone().prop_map(|uid| LocalChange::Delete { uid }),
            uid.prop_map(|uid| LocalChange::Move {
                uid,
                to: Mailbox::from_utf8("Archive"),
            }),
            any::<bool>().prop_map(|nul| LocalChange::Append(Draft {
                local_id: "d".into(),
                message: if nul {
                    bytes::Bytes::from_static(b"a\0b")
                } else {
                    bytes::Bytes::from_static(b"Subject: d\r\n\r\nx\r\n")
                },
                flags: vec![Flag::Draft],
                date: None,
            })),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Whatever the server answers, the engine neither panics nor loops;
        /// after success every journal entry was applied or dropped exactly
        /// once, after failure the original cache comes back.
        #[test]
        fn hostile_server_never_panics_and_accounts_for_every_entry(
            cached in proptest::collection::btree_map(1u32..30, (flags(), proptest::option::of(1u64..100)), 0..10),
            cache_modseq in proptest::option::of(1u64..100),
            journal in proptest::collection::vec(change(), 0..6),
            caps in proptest::collection::vec(any::<bool>(), 6),
            answers in proptest::collection::vec(answer(), 1..40),
        ) {
            let mut cache = MailboxCache::new();
            cache.uid_validity = Some(NonZeroU32::MIN);
            cache.highest_mod_seq = cache_modseq.and_then(ModSeq::new);
            for (u, (f, m)) in cached {
                if let Some(u) = Uid::new(u) {
                    cache.messages.insert(u, CachedMessage { flags: clean_flags(&f), mod_seq: m.and_then(ModSeq::new), headers: true });
                }
            }
            let features = ServerFeatures {
                condstore: caps[0],
                qresync: caps[1],
                qresync_enabled: caps[2],
                uidplus: caps[3],
                move_cmd: caps[4],
                esearch: caps[5],
            };
            let n = journal.len();
            let mut sync = MailboxSync::new(Mailbox::inbox(), cache.clone(), journal, features, SyncOptions::default());
            let mut events = Vec::new();
            let mut steps = 0;
            while let Some(_cmd) = sync.poll_command() {
                steps += 1;
                prop_assert!(steps < 500, "the sync does not end");
                let (ok, code, data, (v, exists, hms)) = answers[steps % answers.len()].clone();
                let mut m = MailboxState::new(Mailbox::inbox(), false);
                m.uid_validity = NonZeroU32::new(v);
                m.exists = exists;
                m.highest_mod_seq = hms.and_then(ModSeq::new);
                let status = if ok { StatusKind::Ok } else { StatusKind::No };
                if let Some(Code::CopyUid { .. }) = &code {
                    sync.handle_untagged_code(code.as_ref().unwrap_or(&Code::Alert));
                }
                for d in &data {
                    sync.handle_unsolicited(d);
                }
                let _ = sync.handle_completion(status, code, data, Some(&m));
                events.extend(std::iter::from_fn(|| sync.poll_event()));
            }
            let done = sync.is_done();
            let outcome = sync.finish();
            if done {
                prop_assert_eq!(outcome.error, None);
                prop_assert!(outcome.journal.is_empty());
                let accounted = events.iter().filter(|e| match e {
                    SyncEvent::LocalApplied { .. } => true,
                    SyncEvent::Conflict { kind, .. } => kind.dropped(),
                    _ => false,
                }).count();
                prop_assert_eq!(accounted, n, "{:?}", events);
                prop_assert_eq!(events.last(), Some(&SyncEvent::Done));
                prop_assert!(outcome.cache.messages.values().all(|m| !m.flags.contains(&Flag::Recent)));
            } else {
                prop_assert!(outcome.error.is_some());
                prop_assert_eq!(outcome.cache, cache);
                prop_assert!(outcome.journal.len() <= n);
            }
        }
    }
}
