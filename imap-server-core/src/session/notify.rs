//! NOTIFY (RFC 5465): unsolicited notifications about mailboxes other than
//! the selected one (STATUS), about the selected one (EXISTS, EXPUNGE, FETCH,
//! with FETCH attributes for MessageNew), and about the mailbox list (LIST
//! for MailboxName and SubscriptionChange).
//!
//! How it works: NOTIFY SET registers one store watch ([`Mailstore::watch`])
//! per mailbox that a filter with message events names, and one mailbox-list
//! watch ([`Mailstore::watch_mailboxes`]). The watches record what changed
//! in a small shared queue and call the session's waker; the driver then
//! calls [`ServerConnection::handle_wakeup`], which sends the notifications
//! whenever no command is in progress (RFC 5465 §3: also outside IDLE).
//! STATUS notifications compare the mailbox's counters with the last ones
//! the session saw. Work is bounded by `ServerLimits::notify_max_mailboxes`
//! watched mailboxes and `notify_max_pending` queued list events; past the latter
//! the session sends `* OK [NOTIFICATIONOVERFLOW]` and stops notifying, as
//! if NOTIFY NONE had been given (RFC 5465 §5.8).
//!
//! Events: MessageNew, MessageExpunge, FlagChange, MailboxName and
//! SubscriptionChange; MailboxMetadataChange and ServerMetadataChange when
//! the store keeps metadata and reports its changes
//! ([`StoreFeatures::metadata_events`]). AnnotationChange (RFC 5257 is not
//! implemented), the metadata events on other stores, and unknown events
//! are refused with `NO [BADEVENT (…)]` listing the supported ones (RFC
//! 5465 §3.1).
//!
//! Mailbox events (MailboxName, SubscriptionChange, MailboxMetadataChange)
//! go to a mailbox if any group whose filter matches it asks for them
//! (RFC 5465 §6, first example); message events follow the first matching
//! group. Only message events may be given with SELECTED and
//! SELECTED-DELAYED (RFC 5465 §6.1, §8): others there are a tagged BAD.
//!
//! Metadata (RFC 5465 §5.6, §5.7; RFC 5464 §4.4.2): the store reports each
//! SETMETADATA that changed entries through the same mailbox-list watch
//! ([`MailboxEvent::MetadataChanged`]); the session sends the names of the
//! changed entries, without values: `* METADATA "INBOX" /private/comment`
//! for a mailbox that a group with MailboxMetadataChange matches,
//! `* METADATA "" /shared/comment` for server entries when any group has
//! ServerMetadataChange. Removed entries are named too. Watches are per
//! user, so another user's entries (its `/private` ones above all) are never
//! named. Changes the session made itself are not reported (RFC 5465 §5:
//! SHOULD omit): the store reports them from the thread that made them,
//! before `set_metadata` returns, and the session's sink drops what arrives
//! on that thread meanwhile.
//!
//! [`Mailstore::watch`]: crate::Mailstore::watch
//! [`Mailstore::watch_mailboxes`]: crate::Mailstore::watch_mailboxes
//! [`StoreFeatures::metadata_events`]: crate::StoreFeatures::metadata_events

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::ThreadId;

use bytes::Bytes;
use imap_proto::{
    AString, Atom, Code, Data, FetchAttribute, FetchItems, ListData, ListExtendedItem, Mailbox,
    MailboxAttribute, MetadataResponse, NotifyEvent, NotifyFilter, NotifySet, SequenceSet,
    StatusItem, StatusKind, Tag,
};

use super::{ServerConnection, State};
use crate::store::{MailboxEvent, MailboxEventSink, MailboxStatus, Waker, WatchGuard};

/// The events this server can always deliver, as `[BADEVENT]` lists them.
const SUPPORTED: [&str; 5] = [
    "MessageNew",
    "MessageExpunge",
    "FlagChange",
    "MailboxName",
    "SubscriptionChange",
];

/// The events delivered when the store reports metadata changes
/// ([`crate::StoreFeatures::metadata_events`]).
const SUPPORTED_METADATA: [&str; 2] = ["MailboxMetadataChange", "ServerMetadataChange"];

/// The tag of the FETCH run for MessageNew's attributes; its tagged
/// completion is not sent.
const FETCH_TAG: &str = "notify-fetch";

/// Which events a group asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Events {
    new: bool,
    expunge: bool,
    flags: bool,
    name: bool,
    subscription: bool,
    /// MailboxMetadataChange (RFC 5465 §5.6).
    mailbox_metadata: bool,
    /// ServerMetadataChange (RFC 5465 §5.7).
    server_metadata: bool,
}

impl Events {
    fn message(self) -> bool {
        self.new || self.expunge || self.flags
    }

    /// Events delivered through the mailbox-list watch.
    fn list(self) -> bool {
        self.name || self.subscription || self.mailbox_metadata || self.server_metadata
    }
}

/// One event group other than SELECTED.
#[derive(Debug, Clone)]
struct Group {
    filter: NotifyFilter,
    events: Events,
}

/// What the watches recorded since the last delivery.
#[derive(Default)]
struct Pending {
    /// Watched mailboxes that changed.
    dirty: BTreeSet<Mailbox>,
    /// Mailbox-list events, in order.
    list: Vec<MailboxEvent>,
    /// More than `notify_max_pending` list events came in.
    overflow: bool,
    /// The thread on which this session is changing metadata itself: what
    /// the store reports from it meanwhile is the session's own change.
    own: Option<ThreadId>,
}

fn lock(p: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    p.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A session's NOTIFY state (after NOTIFY SET).
pub(super) struct Notify {
    /// Events for the selected mailbox, the MessageNew FETCH attributes, and
    /// whether expunges wait for a command (SELECTED-DELAYED).
    selected: Option<(Events, Vec<FetchAttribute>, bool)>,
    groups: Vec<Group>,
    pending: Arc<Mutex<Pending>>,
    /// Store watches of the watched mailboxes.
    watches: BTreeMap<Mailbox, WatchGuard>,
    /// The counters last seen, per watched mailbox.
    known: BTreeMap<Mailbox, MailboxStatus>,
    /// The watch on the selected mailbox (SELECTED filter), and its name.
    selected_watch: Option<(Mailbox, WatchGuard)>,
    _list_watch: WatchGuard,
    subscriptions: BTreeSet<Mailbox>,
    /// The internal MessageNew FETCH is running: swallow its tagged reply.
    swallow: bool,
}

impl std::fmt::Debug for Notify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notify")
            .field("groups", &self.groups)
            .field("watched", &self.watches.len())
            .finish_non_exhaustive()
    }
}

/// Whether `name` is `root` or below it.
fn in_subtree(name: &Mailbox, root: &Mailbox, d: u8) -> bool {
    let (n, r) = (name.as_bytes(), root.as_bytes());
    n == r || (n.len() > r.len() && n.starts_with(r) && n[r.len()] == d)
}

impl Notify {
    /// Whether `filter` matches `name` (RFC 5465 §6). INBOXES is INBOX
    /// alone: it is the only mailbox this server delivers to.
    fn matches(&self, filter: &NotifyFilter, name: &Mailbox, d: u8) -> bool {
        match filter {
            NotifyFilter::Inboxes => name.is_inbox(),
            NotifyFilter::Personal => true,
            NotifyFilter::Subscribed => self.subscriptions.contains(name),
            NotifyFilter::Subtree(roots) => roots.iter().any(|r| in_subtree(name, r, d)),
            NotifyFilter::Mailboxes(list) => list.contains(name),
            _ => false,
        }
    }

    /// The first group whose filter matches `name`: it decides the message
    /// events of that mailbox.
    fn group_for(&self, name: &Mailbox, d: u8) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| self.matches(&g.filter, name, d))
    }

    /// Whether any group whose filter matches `name` asks for the mailbox
    /// event `pick` selects (RFC 5465 §6: several groups may apply to one
    /// mailbox).
    fn wants(&self, name: &Mailbox, d: u8, pick: impl Fn(Events) -> bool) -> bool {
        self.groups
            .iter()
            .any(|g| pick(g.events) && self.matches(&g.filter, name, d))
    }

    /// Whether the tagged reply for `tag` is the internal FETCH's (and so is
    /// not sent).
    pub(super) fn swallow(&mut self, tag: &Tag) -> bool {
        if self.swallow && tag.as_bytes() == FETCH_TAG.as_bytes() {
            self.swallow = false;
            return true;
        }
        false
    }
}

/// Marks the session's own metadata change (see the module doc) until
/// dropped.
pub(super) struct OwnChange(Arc<Mutex<Pending>>);

impl Drop for OwnChange {
    fn drop(&mut self) {
        lock(&self.0).own = None;
    }
}

/// The events of a group, or the reason it is refused.
enum Refusal {
    Bad(&'static str),
    BadEvent,
}

/// `metadata`: the metadata events can be delivered.
fn parse_events(
    list: &[NotifyEvent],
    selected: bool,
    metadata: bool,
) -> Result<(Events, Vec<FetchAttribute>), Refusal> {
    let mut e = Events::default();
    let mut atts = Vec::new();
    for ev in list {
        match ev {
            NotifyEvent::MessageNew(a) => {
                e.new = true;
                if !a.is_empty() {
                    // §5.2: FETCH attributes only for the selected mailbox.
                    if !selected {
                        return Err(Refusal::Bad(
                            "MessageNew FETCH attributes need SELECTED or SELECTED-DELAYED",
                        ));
                    }
                    atts = a.clone();
                }
            }
            NotifyEvent::MessageExpunge => e.expunge = true,
            NotifyEvent::FlagChange => e.flags = true,
            NotifyEvent::MailboxName => e.name = true,
            NotifyEvent::SubscriptionChange => e.subscription = true,
            NotifyEvent::MailboxMetadataChange if metadata => e.mailbox_metadata = true,
            NotifyEvent::ServerMetadataChange if metadata => e.server_metadata = true,
            _ => return Err(Refusal::BadEvent),
        }
    }
    if selected {
        // §6.1: "The mailbox specifiers only apply to <message-event>s. It
        // is an error to specify other types of events" with them.
        if e.list() {
            return Err(Refusal::Bad(
                "SELECTED and SELECTED-DELAYED take message events only",
            ));
        }
        // §5: MessageNew and MessageExpunge go together, and FlagChange needs
        // both (checked for the selected mailbox, as Dovecot does).
        if e.new != e.expunge {
            return Err(Refusal::Bad(
                "MessageNew and MessageExpunge must go together",
            ));
        }
        if e.flags && !e.expunge {
            return Err(Refusal::Bad(
                "FlagChange needs MessageNew and MessageExpunge",
            ));
        }
    }
    Ok((e, atts))
}

/// `* METADATA mailbox entry …`: the names of changed entries, without
/// values (RFC 5464 §4.4.2); the mailbox `""` for server entries. `None`
/// when no name is left to send (the grammar needs one).
fn metadata_changed(mailbox: Option<&Mailbox>, entries: &[crate::MetadataEntry]) -> Option<Data> {
    let entries: Vec<AString> = entries
        .iter()
        .filter_map(|e| AString::try_from(Bytes::from(e.clone())).ok())
        .collect();
    (!entries.is_empty()).then(|| Data::Metadata {
        mailbox: mailbox
            .cloned()
            .unwrap_or_else(|| Mailbox::from_decoded(Bytes::new())),
        response: MetadataResponse::Changed(entries),
    })
}

/// STATUS items in their usual order.
fn items(
    st: &MailboxStatus,
    messages: bool,
    uidnext: bool,
    validity: bool,
    unseen: bool,
    modseq: bool,
) -> Vec<StatusItem> {
    let mut out = Vec::new();
    if messages {
        out.push(StatusItem::Messages(st.messages));
    }
    if uidnext {
        out.push(StatusItem::UidNext(st.uid_next));
    }
    if validity {
        out.push(StatusItem::UidValidity(st.uid_validity));
    }
    if unseen {
        out.push(StatusItem::Unseen(st.unseen));
    }
    if modseq {
        out.push(StatusItem::HighestModSeq(st.highest_modseq));
    }
    out
}

impl ServerConnection {
    /// `NOTIFY SET …` / `NOTIFY NONE` (RFC 5465 §3.1).
    pub(super) fn notify_cmd(&mut self, tag: Tag, set: NotifySet) {
        let NotifySet::Set {
            status,
            groups: groups_in,
        } = set
        else {
            self.notify = None;
            return self.tagged(tag, StatusKind::Ok, None, "NOTIFY completed");
        };
        let features = self.store.features();
        let metadata = features.metadata && features.metadata_events;
        let mut selected = None;
        let mut groups = Vec::new();
        let mut refusal = None;
        for g in groups_in {
            let sel = matches!(
                g.filter,
                NotifyFilter::Selected | NotifyFilter::SelectedDelayed
            );
            match parse_events(&g.events, sel, metadata) {
                Err(r) => {
                    // BAD wins over BADEVENT: look at every group.
                    if !matches!(refusal, Some(Refusal::Bad(_))) {
                        refusal = Some(r);
                    }
                }
                Ok((events, atts)) if sel => {
                    if selected.is_some() {
                        refusal = Some(Refusal::Bad("SELECTED given twice"));
                    }
                    let delayed = matches!(g.filter, NotifyFilter::SelectedDelayed);
                    selected = Some((events, atts, delayed));
                }
                Ok((events, _)) => groups.push(Group {
                    filter: g.filter,
                    events,
                }),
            }
        }
        match refusal {
            Some(Refusal::Bad(why)) => {
                return self.tagged(tag, StatusKind::Bad, Some(Code::ClientBug), why);
            }
            Some(Refusal::BadEvent) => {
                let extra: &[&str] = if metadata { &SUPPORTED_METADATA } else { &[] };
                let code = Code::BadEvent(
                    SUPPORTED
                        .iter()
                        .chain(extra)
                        .map(|e| Atom::from_static(e))
                        .collect(),
                );
                return self.tagged(tag, StatusKind::No, Some(code), "unsupported event");
            }
            None => {}
        }
        let user = self.user().unwrap_or_default().to_owned();
        // Drop the old watches first.
        self.notify = None;
        let pending = Arc::new(Mutex::new(Pending::default()));
        let max_pending = self.config.limits.notify_max_pending;
        let max_mailboxes = self.config.limits.notify_max_mailboxes;
        let sink: MailboxEventSink = {
            let pending = Arc::clone(&pending);
            let waker = Arc::clone(&self.waker);
            Arc::new(move |e: &MailboxEvent| {
                {
                    let mut p = lock(&pending);
                    if matches!(e, MailboxEvent::MetadataChanged { .. })
                        && p.own == Some(std::thread::current().id())
                    {
                        return;
                    }
                    if p.list.len() >= max_pending {
                        p.overflow = true;
                    } else {
                        p.list.push(e.clone());
                    }
                }
                waker();
            })
        };
        let wants_list = groups.iter().any(|g| g.events.list());
        let list_watch = if wants_list
            || groups.iter().any(|g| {
                matches!(
                    g.filter,
                    NotifyFilter::Subscribed | NotifyFilter::Personal | NotifyFilter::Subtree(_)
                )
            }) {
            self.store.watch_mailboxes(&user, sink)
        } else {
            WatchGuard::none()
        };
        let mut n = Notify {
            selected,
            groups,
            pending,
            watches: BTreeMap::new(),
            known: BTreeMap::new(),
            selected_watch: None,
            _list_watch: list_watch,
            subscriptions: BTreeSet::new(),
            swallow: false,
        };
        let targets = match self.notify_targets(&user, &mut n) {
            Ok(t) => t,
            Err(e) => return self.store_error(tag, &e),
        };
        if targets.len() > max_mailboxes {
            return self.tagged(
                tag,
                StatusKind::No,
                Some(Code::Limit),
                &format!("NOTIFY watches at most {max_mailboxes} mailboxes"),
            );
        }
        let selected_name = self.selected_mailbox().cloned();
        let d = self.store.delimiter();
        for name in targets {
            let Ok(st) = self.store.status(&user, &name) else {
                continue;
            };
            // §3.1: with STATUS, the current state of every mailbox with
            // message events (not the selected one) before the tagged OK.
            if status && selected_name.as_ref() != Some(&name) {
                if let Some(e) = n.group_for(&name, d).map(|g| g.events) {
                    let it = items(
                        &st,
                        e.new || e.expunge,
                        e.new,
                        e.new || e.flags,
                        false,
                        e.flags,
                    );
                    self.data(Data::Status {
                        mailbox: name.clone(),
                        items: it,
                    });
                }
            }
            n.known.insert(name.clone(), st);
            let guard = self
                .store
                .watch(&user, &name, self.mailbox_waker(&n, &name));
            n.watches.insert(name, guard);
        }
        self.notify = Some(Box::new(n));
        self.notify_follow_selected();
        self.tagged(tag, StatusKind::Ok, None, "NOTIFY completed");
    }

    /// Mark what the store reports from this thread as this session's own
    /// change until the guard is dropped (none without NOTIFY). Wrap
    /// [`crate::Mailstore::set_metadata`] in it.
    pub(super) fn notify_own_change(&self) -> Option<OwnChange> {
        let n = self.notify.as_deref()?;
        lock(&n.pending).own = Some(std::thread::current().id());
        Some(OwnChange(Arc::clone(&n.pending)))
    }

    /// A waker that marks `name` changed, then wakes the session.
    fn mailbox_waker(&self, n: &Notify, name: &Mailbox) -> Waker {
        let pending = Arc::clone(&n.pending);
        let waker = Arc::clone(&self.waker);
        let name = name.clone();
        Arc::new(move || {
            lock(&pending).dirty.insert(name.clone());
            waker();
        })
    }

    /// The existing mailboxes whose first matching group has message events
    /// (refreshes the subscription list too).
    fn notify_targets(
        &self,
        user: &str,
        n: &mut Notify,
    ) -> Result<Vec<Mailbox>, crate::StoreError> {
        if n.groups
            .iter()
            .any(|g| g.filter == NotifyFilter::Subscribed)
        {
            n.subscriptions = self.store.subscriptions(user)?.into_iter().collect();
        }
        let d = self.store.delimiter();
        let mut out: Vec<Mailbox> = Vec::new();
        for m in self.store.list(user)? {
            if m.attributes.contains(&MailboxAttribute::NoSelect) {
                continue;
            }
            if n.group_for(&m.name, d).is_some_and(|g| g.events.message()) {
                out.push(m.name);
            }
        }
        Ok(out)
    }

    fn selected_mailbox(&self) -> Option<&Mailbox> {
        match &self.state {
            State::Selected { mailbox, .. } => Some(&mailbox.name),
            _ => None,
        }
    }

    /// After every command: keep the watch on the selected mailbox (SELECTED
    /// filter) pointing at the mailbox now selected, and refresh the counters
    /// of a mailbox that stopped being selected (its changes were reported
    /// as EXISTS/EXPUNGE, not STATUS).
    pub(super) fn notify_follow_selected(&mut self) {
        let Some(n) = self.notify.as_deref() else {
            return;
        };
        let current = self.selected_mailbox().cloned();
        let watched = n.selected_watch.as_ref().map(|w| w.0.clone());
        if current == watched {
            return;
        }
        let user = self.user().unwrap_or_default().to_owned();
        let wants = n.selected.as_ref().is_some_and(|s| s.0.message());
        let guard = match (&current, wants) {
            (Some(name), true) => {
                let g = self.store.watch(&user, name, self.waker.clone());
                Some((name.clone(), g))
            }
            _ => None,
        };
        let refresh: Vec<Mailbox> = watched.into_iter().chain(current).collect();
        let statuses: Vec<(Mailbox, MailboxStatus)> = refresh
            .into_iter()
            .filter(|m| n.known.contains_key(m))
            .filter_map(|m| self.store.status(&user, &m).ok().map(|s| (m, s)))
            .collect();
        if let Some(n) = self.notify.as_deref_mut() {
            n.selected_watch = guard;
            n.known.extend(statuses);
        }
    }

    /// The store's waker fired (or a command ended): send what NOTIFY asks
    /// for. Called only when no command is in progress.
    pub(super) fn notify_deliver(&mut self) {
        let Some(n) = self.notify.as_deref_mut() else {
            return;
        };
        let (dirty, list, overflow) = {
            let mut p = lock(&n.pending);
            (
                std::mem::take(&mut p.dirty),
                std::mem::take(&mut p.list),
                std::mem::take(&mut p.overflow),
            )
        };
        if overflow {
            return self.notify_overflow();
        }
        let user = self.user().unwrap_or_default().to_owned();
        let d = self.store.delimiter();
        // ----- the mailbox list and metadata (§5.4–§5.7) -----
        let mut rewatch = false;
        for e in &list {
            let Some(n) = self.notify.as_deref() else {
                return;
            };
            let row = |attributes: Vec<MailboxAttribute>, name: &Mailbox| {
                Data::List(ListData {
                    attributes,
                    delimiter: Some(d),
                    mailbox: name.clone(),
                    extended: Vec::new(),
                })
            };
            let name = |m: &Mailbox| n.wants(m, d, |e| e.name);
            let subscription = |m: &Mailbox| n.wants(m, d, |e| e.subscription);
            let out = match e {
                MailboxEvent::Created(m) => {
                    rewatch = true;
                    name(m).then(|| row(Vec::new(), m))
                }
                MailboxEvent::Deleted(m) => {
                    rewatch = true;
                    name(m).then(|| row(vec![MailboxAttribute::NonExistent], m))
                }
                MailboxEvent::Renamed { from, to } => {
                    rewatch = true;
                    (name(from) || name(to)).then(|| {
                        Data::List(ListData {
                            attributes: Vec::new(),
                            delimiter: Some(d),
                            mailbox: to.clone(),
                            extended: vec![ListExtendedItem::OldName(from.clone())],
                        })
                    })
                }
                MailboxEvent::Subscribed(m) => {
                    rewatch = true;
                    subscription(m).then(|| row(vec![MailboxAttribute::Subscribed], m))
                }
                MailboxEvent::Unsubscribed(m) => {
                    rewatch = true;
                    subscription(m).then(|| row(Vec::new(), m))
                }
                MailboxEvent::MetadataChanged { mailbox, entries } => {
                    let wanted = match mailbox {
                        Some(m) => n.wants(m, d, |e| e.mailbox_metadata),
                        None => n.groups.iter().any(|g| g.events.server_metadata),
                    };
                    wanted
                        .then(|| metadata_changed(mailbox.as_ref(), entries))
                        .flatten()
                }
            };
            if let Some(r) = out {
                self.data(r);
            }
        }
        if rewatch {
            self.notify_rewatch(&user);
        }
        // ----- other mailboxes: STATUS (§5.1–§5.3) -----
        let selected_name = self.selected_mailbox().cloned();
        for name in dirty {
            let Some(n) = self.notify.as_deref() else {
                return;
            };
            let Some(events) = n.group_for(&name, d).map(|g| g.events) else {
                continue;
            };
            let Some(old) = n.known.get(&name).cloned() else {
                continue;
            };
            let Ok(new) = self.store.status(&user, &name) else {
                continue;
            };
            if let Some(n) = self.notify.as_deref_mut() {
                n.known.insert(name.clone(), new.clone());
            }
            if selected_name.as_ref() == Some(&name) {
                continue;
            }
            let it = if new.uid_validity != old.uid_validity {
                items(&new, true, true, true, true, events.flags)
            } else {
                let appended = new.uid_next != old.uid_next;
                let added = u64::from(new.uid_next.saturating_sub(old.uid_next));
                let expunged = u64::from(new.messages) < u64::from(old.messages) + added;
                let msg_new = events.new && appended;
                let msg_gone = events.expunge && expunged;
                let flags = events.flags && new.highest_modseq != old.highest_modseq;
                if !(msg_new || msg_gone || (flags && !appended && !expunged)) {
                    continue;
                }
                items(
                    &new,
                    msg_new || msg_gone,
                    msg_new,
                    flags,
                    new.unseen != old.unseen,
                    flags,
                )
            };
            self.data(Data::Status {
                mailbox: name,
                items: it,
            });
        }
        // ----- the selected mailbox (§5.2, §5.3, §5.1) -----
        let Some(n) = self.notify.as_deref() else {
            return;
        };
        let Some((events, atts, delayed)) = n.selected.clone() else {
            return;
        };
        if !events.message() {
            return;
        }
        let before = self.view_len();
        self.sync_mailbox(events.expunge && !delayed);
        let after = self.view_len();
        if after > before && !atts.is_empty() {
            let seqs = (before + 1..=after).map(|s| s as u32);
            if let (Some(set), Ok(tag)) =
                (SequenceSet::from_numbers(seqs), Tag::try_from(FETCH_TAG))
            {
                if let Some(n) = self.notify.as_deref_mut() {
                    n.swallow = true;
                }
                self.fetch(tag, false, set, FetchItems::Attributes(atts), Vec::new());
                if self.fetch_job.is_none() {
                    // Done (or refused) at once: its tagged reply is gone.
                    if let Some(n) = self.notify.as_deref_mut() {
                        n.swallow = false;
                    }
                }
            }
        }
    }

    /// Messages in the selected view.
    fn view_len(&self) -> usize {
        match &self.state {
            State::Selected { mailbox, .. } => mailbox.messages.len(),
            _ => 0,
        }
    }

    /// The mailbox list or subscriptions changed: watch what the filters
    /// name now.
    fn notify_rewatch(&mut self, user: &str) {
        let Some(mut n) = self.notify.take() else {
            return;
        };
        let Ok(targets) = self.notify_targets(user, &mut n) else {
            self.notify = Some(n);
            return;
        };
        if targets.len() > self.config.limits.notify_max_mailboxes {
            return self.notify_overflow();
        }
        let keep: BTreeSet<&Mailbox> = targets.iter().collect();
        n.watches.retain(|m, _| keep.contains(m));
        n.known.retain(|m, _| keep.contains(m));
        for name in &targets {
            if n.watches.contains_key(name) {
                continue;
            }
            if let Ok(st) = self.store.status(user, name) {
                n.known.insert(name.clone(), st);
            }
            let guard = self.store.watch(user, name, self.mailbox_waker(&n, name));
            n.watches.insert(name.clone(), guard);
        }
        self.notify = Some(n);
    }

    /// §5.8: too much to tell; stop notifying, as after NOTIFY NONE.
    fn notify_overflow(&mut self) {
        self.notify = None;
        self.untagged(
            StatusKind::Ok,
            Some(Code::NotificationOverflow),
            "too many notifications; NOTIFY is now off",
        );
    }
}
