//! Commands of the authenticated and selected states that work on mailboxes:
//! CREATE, DELETE, RENAME, (UN)SUBSCRIBE, LIST/LSUB (with LIST-EXTENDED,
//! LIST-STATUS, SPECIAL-USE), NAMESPACE, STATUS, APPEND (MULTIAPPEND), and the
//! dispatch of selected-state commands.

use std::num::NonZeroU32;

use imap_proto::{
    AString, AppendMessage, Code, CommandBody, Data, Flag, ListData, ListExtendedItem, ListMailbox,
    ListReturn, ListSelect, Mailbox, MailboxAttribute, NamespaceDescription, StatusAttribute,
    StatusItem, StatusKind, Tag, Uid,
};

use super::{istr, ServerConnection, State};
use crate::store::{MailboxInfo, NewMessage, StoreErrorKind};

impl ServerConnection {
    pub(super) fn mailbox_command(&mut self, tag: Tag, body: CommandBody) {
        let selected = matches!(self.state, State::Selected { .. });
        match body {
            CommandBody::Select { mailbox, params } => self.select(tag, mailbox, params, false),
            CommandBody::Examine { mailbox, params } => self.select(tag, mailbox, params, true),
            CommandBody::Create {
                mailbox,
                special_use,
            } => self.create(tag, mailbox, special_use),
            CommandBody::Delete(mailbox) => {
                let user = self.user().unwrap_or_default().to_owned();
                let r = self.store.delete(&user, &mailbox);
                if r.is_ok() && self.selected_name() == Some(&mailbox) {
                    // The selected mailbox is gone: leave it, keep the session.
                    self.unselect(false);
                    self.untagged(StatusKind::Ok, Some(Code::Closed), "mailbox deleted");
                }
                self.simple(tag, r, "DELETE completed");
            }
            CommandBody::Rename { from, to } => {
                let user = self.user().unwrap_or_default().to_owned();
                // RFC 9051 §6.3.6: RENAME INBOX moves INBOX's messages to a
                // new mailbox and leaves INBOX, empty: one mailbox more,
                // checked as CREATE is (RFC 9208 §5.3). Any RENAME adds the
                // missing superior names of its target.
                let r = self
                    .check_mailbox_room(&user, &to, from.is_inbox())
                    .and_then(|()| self.store.rename(&user, &from, &to));
                if r.is_ok() {
                    self.follow_rename(&from, &to);
                }
                self.simple(tag, r, "RENAME completed");
            }
            CommandBody::Subscribe(mailbox) => {
                let user = self.user().unwrap_or_default().to_owned();
                let r = self.store.set_subscribed(&user, &mailbox, true);
                self.simple(tag, r, "SUBSCRIBE completed");
            }
            CommandBody::Unsubscribe(mailbox) => {
                let user = self.user().unwrap_or_default().to_owned();
                let r = self.store.set_subscribed(&user, &mailbox, false);
                self.simple(tag, r, "UNSUBSCRIBE completed");
            }
            CommandBody::List {
                selection,
                reference,
                patterns,
                return_options,
            } => self.list(tag, selection, reference, patterns, return_options, false),
            CommandBody::Lsub { reference, pattern } => self.list(
                tag,
                vec![ListSelect::Subscribed],
                reference,
                vec![pattern],
                None,
                true,
            ),
            CommandBody::Namespace => {
                let ns = NamespaceDescription {
                    prefix: istr(""),
                    delimiter: Some(self.store.delimiter()),
                    extensions: Vec::new(),
                };
                self.data(Data::Namespace {
                    personal: vec![ns],
                    other: Vec::new(),
                    shared: Vec::new(),
                });
                self.tagged(tag, StatusKind::Ok, None, "NAMESPACE completed");
            }
            CommandBody::Status {
                mailbox,
                attributes,
            } => self.status(tag, mailbox, attributes),
            CommandBody::Append { mailbox, messages } => self.append(tag, mailbox, messages),
            CommandBody::AppendCatenate { mailbox, messages } => {
                self.append_catenate(tag, mailbox, messages)
            }
            CommandBody::Compress(algorithm) => self.compress(tag, &algorithm),
            // RFC 5464, when the store keeps metadata.
            CommandBody::GetMetadata {
                options,
                mailbox,
                entries,
            } if self.store.features().metadata => {
                self.get_metadata(tag, options, mailbox, entries)
            }
            CommandBody::SetMetadata { mailbox, entries } if self.store.features().metadata => {
                self.set_metadata(tag, mailbox, entries)
            }
            CommandBody::Notify(set) => self.notify_cmd(tag, set),
            // RFC 4467, when the store keeps URLAUTH keys.
            CommandBody::GenUrlauth(items) if self.store.features().urlauth => {
                self.gen_urlauth(tag, items)
            }
            CommandBody::ResetKey {
                mailbox,
                mechanisms,
            } if self.store.features().urlauth => self.reset_key(tag, mailbox, mechanisms),
            CommandBody::UrlFetch(urls) if self.store.features().urlauth => {
                self.url_fetch(tag, urls)
            }
            // RFC 9208, when the store counts usage and a policy is set.
            body @ (CommandBody::GetQuota(_)
            | CommandBody::GetQuotaRoot(_)
            | CommandBody::SetQuota { .. }) => self.quota_command(tag, body),
            CommandBody::Unauthenticate
            | CommandBody::GetMetadata { .. }
            | CommandBody::SetMetadata { .. }
            | CommandBody::GenUrlauth(_)
            | CommandBody::ResetKey { .. }
            | CommandBody::UrlFetch(_) => {
                let name = body.name().to_owned();
                self.tagged(
                    tag,
                    StatusKind::Bad,
                    None,
                    &format!("{name} is not supported"),
                );
            }
            // ----- selected state -----
            body if !selected => {
                let name = body.name().to_owned();
                self.tagged(
                    tag,
                    StatusKind::Bad,
                    None,
                    &format!("{name} needs a selected mailbox"),
                );
            }
            CommandBody::Check => {
                self.sync_mailbox(true);
                self.tagged(tag, StatusKind::Ok, None, "CHECK completed");
            }
            CommandBody::Close => {
                self.unselect(true);
                self.tagged(tag, StatusKind::Ok, None, "CLOSE completed");
            }
            CommandBody::Unselect => {
                self.unselect(false);
                self.tagged(tag, StatusKind::Ok, None, "UNSELECT completed");
            }
            CommandBody::Expunge => self.expunge(tag, None),
            CommandBody::UidExpunge(set) => self.expunge(tag, Some(set)),
            CommandBody::Search {
                uid,
                return_options,
                charset,
                criteria,
            } => self.search(tag, uid, return_options, charset, criteria),
            CommandBody::Sort {
                uid,
                return_options,
                criteria,
                charset,
                search,
            } => self.sort(tag, uid, return_options, criteria, charset, search),
            CommandBody::CancelUpdate(tags) => self.cancel_update(tag, &tags),
            CommandBody::Thread {
                uid,
                algorithm,
                charset,
                search,
            } => self.thread_cmd(tag, uid, algorithm, charset, search),
            CommandBody::Fetch {
                uid,
                set,
                items,
                modifiers,
            } => self.fetch(tag, uid, set, items, modifiers),
            CommandBody::Store {
                uid,
                set,
                modifiers,
                kind,
                silent,
                target,
            } => self.store_cmd(tag, uid, set, modifiers, kind, silent, target),
            CommandBody::Copy { uid, set, mailbox } => {
                self.copy_move(tag, uid, set, mailbox, false)
            }
            CommandBody::Move { uid, set, mailbox } => self.copy_move(tag, uid, set, mailbox, true),
            other => {
                let name = other.name().to_owned();
                self.tagged(
                    tag,
                    StatusKind::Bad,
                    None,
                    &format!("{name} is not supported"),
                );
            }
        }
    }

    fn selected_name(&self) -> Option<&Mailbox> {
        match &self.state {
            State::Selected { mailbox, .. } => Some(&mailbox.name),
            _ => None,
        }
    }

    /// After RENAME, keep a selected mailbox (or one below the renamed one)
    /// selected under its new name.
    fn follow_rename(&mut self, from: &Mailbox, to: &Mailbox) {
        let d = self.store.delimiter();
        let State::Selected { mailbox, .. } = &mut self.state else {
            return;
        };
        if from.is_inbox() {
            return; // INBOX stays; its messages moved.
        }
        let name = mailbox.name.as_bytes();
        let mut prefix = from.as_bytes().to_vec();
        prefix.push(d);
        if name == from.as_bytes() {
            mailbox.name = to.clone();
        } else if let Some(rest) = name.strip_prefix(prefix.as_slice()) {
            let mut new = to.as_bytes().to_vec();
            new.push(d);
            new.extend_from_slice(rest);
            mailbox.name = Mailbox::from_decoded(bytes::Bytes::from(new));
        }
        if self.watch.is_some() {
            self.watch_selected(true);
        }
    }

    fn simple(&mut self, tag: Tag, r: Result<(), crate::StoreError>, ok: &str) {
        match r {
            Ok(()) => {
                self.sync_mailbox(true);
                self.tagged(tag, StatusKind::Ok, None, ok);
            }
            Err(e) => self.store_error(tag, &e),
        }
    }

    fn create(&mut self, tag: Tag, mailbox: Mailbox, special_use: Vec<MailboxAttribute>) {
        let user = self.user().unwrap_or_default().to_owned();
        if special_use.len() > 1 || special_use.iter().any(|a| !a.is_special_use()) {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::UseAttr),
                "one special-use attribute at most",
            );
            return;
        }
        // A trailing delimiter only says the client intends children (§6.3.4).
        let d = self.store.delimiter();
        let name = match mailbox.as_bytes().strip_suffix(&[d]) {
            Some(stripped) if !stripped.is_empty() => {
                Mailbox::from_decoded(bytes::Bytes::copy_from_slice(stripped))
            }
            _ => mailbox,
        };
        let r = self.check_mailbox_room(&user, &name, true).and_then(|()| {
            self.store
                .create(&user, &name, special_use.into_iter().next())
        });
        // RFC 8474 §4.1: the tagged OK of CREATE carries the new MAILBOXID.
        match (&r, self.mailbox_id_code(&user, &name)) {
            (Ok(()), Some(code)) => {
                self.sync_mailbox(true);
                self.tagged(tag, StatusKind::Ok, Some(code), "CREATE completed");
            }
            _ => self.simple(tag, r, "CREATE completed"),
        }
    }

    /// LIST (RFC 9051 §6.3.9, RFC 5258, RFC 5819, RFC 6154) and LSUB.
    fn list(
        &mut self,
        tag: Tag,
        selection: Vec<ListSelect>,
        reference: Mailbox,
        patterns: Vec<ListMailbox>,
        return_options: Option<Vec<ListReturn>>,
        lsub: bool,
    ) {
        let user = self.user().unwrap_or_default().to_owned();
        let d = self.store.delimiter();
        // RFC 9051 §6.3.9: unknown selection options, and RECURSIVEMATCH without
        // another selection option, are errors.
        if selection.iter().any(|s| matches!(s, ListSelect::Other(_))) {
            self.tagged(tag, StatusKind::Bad, None, "unknown LIST selection option");
            return;
        }
        // RFC 5258 §3: RECURSIVEMATCH alone, or with only REMOTE (which does
        // not select anything by itself), is BAD.
        if selection.contains(&ListSelect::RecursiveMatch)
            && selection
                .iter()
                .all(|s| matches!(s, ListSelect::RecursiveMatch | ListSelect::Remote))
        {
            self.tagged(
                tag,
                StatusKind::Bad,
                None,
                "RECURSIVEMATCH needs another selection option",
            );
            return;
        }
        // RFC 5258 §3: an unknown return option is BAD (MYRIGHTS needs ACL,
        // which is not offered).
        if let Some(r) = return_options
            .iter()
            .flatten()
            .find(|r| matches!(r, ListReturn::Other(_) | ListReturn::MyRights))
        {
            let what = match r {
                ListReturn::Other(a) => String::from_utf8_lossy(a.as_bytes()).into_owned(),
                _ => "MYRIGHTS".to_owned(),
            };
            self.tagged(
                tag,
                StatusKind::Bad,
                Some(Code::ClientBug),
                &format!("unknown LIST return option {what}"),
            );
            return;
        }
        let extended = !selection.is_empty() || return_options.is_some();
        // `LIST "" ""`: the delimiter and root (§6.3.9); the extended syntax gives
        // the empty name no special meaning.
        if patterns.len() == 1 && patterns[0].as_bytes().is_empty() && !lsub && !extended {
            self.data(Data::List(ListData {
                attributes: vec![MailboxAttribute::NoSelect],
                delimiter: Some(d),
                mailbox: Mailbox::from_utf8(""),
                extended: Vec::new(),
            }));
            self.tagged(tag, StatusKind::Ok, None, "LIST completed");
            return;
        }
        let mut all = match self.store.list(&user) {
            Ok(l) => l,
            Err(e) => return self.store_error(tag, &e),
        };
        let subscriptions = match self.store.subscriptions(&user) {
            Ok(s) => s,
            Err(e) => return self.store_error(tag, &e),
        };
        let ret = return_options.unwrap_or_default();
        let subscribed_only = selection.contains(&ListSelect::Subscribed);
        let special_only = selection.contains(&ListSelect::SpecialUse);
        let want_subscribed = subscribed_only || ret.contains(&ListReturn::Subscribed) || lsub;
        // Subscribed names without a mailbox: `\NonExistent` in LIST (SUBSCRIBED)
        // (§6.3.9.3), `\Noselect` in LSUB (RFC 3501 §6.3.9).
        if subscribed_only || lsub {
            for name in &subscriptions {
                if !all.iter().any(|m| &m.name == name) {
                    all.push(MailboxInfo {
                        name: name.clone(),
                        attributes: vec![if lsub {
                            MailboxAttribute::NoSelect
                        } else {
                            MailboxAttribute::NonExistent
                        }],
                        subscribed: true,
                    });
                }
            }
        }
        let all = all;
        let status: Option<Vec<StatusAttribute>> = ret.iter().find_map(|r| match r {
            ListReturn::Status(s) => Some(s.clone()),
            _ => None,
        });
        if status
            .as_ref()
            .is_some_and(|a| a.contains(&StatusAttribute::HighestModSeq))
        {
            self.enable_condstore();
        }
        let has_children = |name: &Mailbox| {
            let mut prefix = name.as_bytes().to_vec();
            prefix.push(d);
            all.iter().any(|m| m.name.as_bytes().starts_with(&prefix))
        };
        let matches = |name: &Mailbox| {
            patterns.iter().any(|p| {
                let mut full = reference.as_bytes().to_vec();
                full.extend_from_slice(p.as_bytes());
                ListMailbox::from_decoded(bytes::Bytes::from(full))
                    .matches(name.as_bytes(), Some(d))
            })
        };
        // RFC 5258 §3.5 (RECURSIVEMATCH with SUBSCRIBED): a mailbox that
        // matches the pattern is also returned, with `CHILDINFO ("SUBSCRIBED")`,
        // when a subscribed descendant exists that the pattern does not match
        // (so the client would not otherwise learn of it).
        let recursive = subscribed_only && selection.contains(&ListSelect::RecursiveMatch);
        let childinfo = |name: &Mailbox| {
            let mut prefix = name.as_bytes().to_vec();
            prefix.push(d);
            recursive
                && subscriptions
                    .iter()
                    .any(|s| s.as_bytes().starts_with(&prefix) && !matches(s))
        };
        let mut rows: Vec<(MailboxInfo, bool, bool)> = Vec::new();
        for m in &all {
            if !matches(&m.name) {
                continue;
            }
            let info = childinfo(&m.name);
            if subscribed_only && !m.subscribed && !info {
                continue;
            }
            if special_only && !m.attributes.iter().any(MailboxAttribute::is_special_use) {
                continue;
            }
            rows.push((m.clone(), has_children(&m.name), info));
        }
        if recursive {
            // Parents of subscribed names that are not mailboxes themselves.
            for name in &subscriptions {
                let bytes = name.as_bytes();
                for (i, _) in bytes.iter().enumerate().filter(|(_, &c)| c == d) {
                    let parent = Mailbox::from_decoded(bytes::Bytes::copy_from_slice(&bytes[..i]));
                    if matches(&parent)
                        && !all.iter().any(|m| m.name == parent)
                        && !rows.iter().any(|r| r.0.name == parent)
                        && childinfo(&parent)
                    {
                        rows.push((
                            MailboxInfo {
                                name: parent,
                                attributes: vec![MailboxAttribute::NonExistent],
                                subscribed: false,
                            },
                            true,
                            true,
                        ));
                    }
                }
            }
        }
        // RFC 3501 §6.3.9: when `%` stops above a subscribed name, LSUB returns
        // the unsubscribed level it stopped at with \Noselect.
        if lsub {
            for name in &subscriptions {
                let bytes = name.as_bytes();
                for (i, _) in bytes.iter().enumerate().filter(|(_, &c)| c == d) {
                    let parent = Mailbox::from_decoded(bytes::Bytes::copy_from_slice(&bytes[..i]));
                    if matches(&parent)
                        && !subscriptions.contains(&parent)
                        && !rows.iter().any(|r| r.0.name == parent)
                    {
                        rows.push((
                            MailboxInfo {
                                name: parent,
                                attributes: vec![MailboxAttribute::NoSelect],
                                subscribed: false,
                            },
                            false,
                            false,
                        ));
                    }
                }
            }
        }
        rows.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        for (m, children, info) in rows {
            // Special-use attributes are always listed (RFC 6154 §2 allows it).
            let mut attributes: Vec<MailboxAttribute> = m.attributes.clone();
            let missing = attributes.contains(&MailboxAttribute::NonExistent);
            if !lsub && !missing {
                attributes.push(if children {
                    MailboxAttribute::HasChildren
                } else {
                    MailboxAttribute::HasNoChildren
                });
            }
            if want_subscribed && m.subscribed && !lsub {
                attributes.push(MailboxAttribute::Subscribed);
            }
            let row = ListData {
                attributes,
                delimiter: Some(d),
                mailbox: m.name.clone(),
                extended: if info {
                    vec![ListExtendedItem::ChildInfo(vec![AString::from_static(
                        "SUBSCRIBED",
                    )])]
                } else {
                    Vec::new()
                },
            };
            self.data(if lsub {
                Data::Lsub(row)
            } else {
                Data::List(row)
            });
            if let Some(attrs) = &status {
                if let Ok(items) = self.status_items(&user, &m.name, attrs) {
                    self.data(Data::Status {
                        mailbox: m.name.clone(),
                        items,
                    });
                }
            }
        }
        let verb = if lsub {
            "LSUB completed"
        } else {
            "LIST completed"
        };
        self.tagged(tag, StatusKind::Ok, None, verb);
    }

    fn status_items(
        &self,
        user: &str,
        name: &Mailbox,
        attrs: &[StatusAttribute],
    ) -> Result<Vec<StatusItem>, crate::StoreError> {
        let st = self.store.status(user, name)?;
        Ok(attrs
            .iter()
            .filter_map(|a| {
                Some(match a {
                    StatusAttribute::Messages => StatusItem::Messages(st.messages),
                    StatusAttribute::Recent => {
                        StatusItem::Recent(self.status_recent(user, name, st.uid_validity))
                    }
                    StatusAttribute::UidNext => StatusItem::UidNext(st.uid_next),
                    StatusAttribute::UidValidity => StatusItem::UidValidity(st.uid_validity),
                    StatusAttribute::Unseen => StatusItem::Unseen(st.unseen),
                    StatusAttribute::Deleted => StatusItem::Deleted(st.deleted),
                    StatusAttribute::Size => StatusItem::Size(st.size),
                    StatusAttribute::AppendLimit => {
                        StatusItem::AppendLimit(Some(self.append_limit(user)))
                    }
                    // RFC 9208 §4.2, when QUOTA is on.
                    StatusAttribute::DeletedStorage => {
                        StatusItem::DeletedStorage(self.deleted_storage(user, name)?.ok()?)
                    }
                    // RFC 7162 §3.1.7 (0 for a mailbox without MODSEQs).
                    StatusAttribute::HighestModSeq => StatusItem::HighestModSeq(st.highest_modseq),
                    // RFC 8474 §4.3.
                    StatusAttribute::MailboxId => {
                        StatusItem::MailboxId(self.mailbox_object_id(user, name)?)
                    }
                    _ => return None,
                })
            })
            .collect())
    }

    /// STATUS (RFC 9051 §6.3.11).
    fn status(&mut self, tag: Tag, mailbox: Mailbox, attrs: Vec<StatusAttribute>) {
        let user = self.user().unwrap_or_default().to_owned();
        // RFC 7162 §3.1: STATUS HIGHESTMODSEQ is a CONDSTORE-enabling command.
        if attrs.contains(&StatusAttribute::HighestModSeq) {
            self.enable_condstore();
        }
        match self.status_items(&user, &mailbox, &attrs) {
            Ok(items) => {
                self.data(Data::Status { mailbox, items });
                self.tagged(tag, StatusKind::Ok, None, "STATUS completed");
            }
            Err(e) => self.store_error(tag, &e),
        }
    }

    /// APPEND (RFC 9051 §6.3.12), several messages with MULTIAPPEND (RFC 3502).
    fn append(&mut self, tag: Tag, mailbox: Mailbox, messages: Vec<AppendMessage>) {
        let messages = messages
            .into_iter()
            .map(|m| {
                let (secs, zone) = match m.date {
                    Some(d) => (d.unix_timestamp(), d.zone_minutes()),
                    None => (self.now_hint(), 0),
                };
                NewMessage {
                    flags: m.flags.into_iter().filter(|f| *f != Flag::Recent).collect(),
                    internal_date: (secs, zone),
                    data: super::append_binary::convert_binary_parts(m.data.into_data()),
                }
            })
            .collect();
        self.append_all(tag, mailbox, messages);
    }

    /// Append `messages` all or nothing: if one fails, those already added are
    /// removed again (RFC 3502 §6.3.11), and answer with APPENDUID (RFC 4315).
    pub(super) fn append_all(&mut self, tag: Tag, mailbox: Mailbox, messages: Vec<NewMessage>) {
        let user = self.user().unwrap_or_default().to_owned();
        // RFC 9208 §4.3: the whole batch must fit, or nothing is stored.
        let add = crate::QuotaUsage {
            storage: messages.iter().map(|m| m.data.len() as u64).sum(),
            messages: messages.len() as u64,
        };
        if let Err(e) = self.quota_check_into(&user, &mailbox, add) {
            if e.kind == StoreErrorKind::NonExistent {
                self.tagged(tag, StatusKind::No, Some(Code::TryCreate), &e.text);
                return;
            }
            return self.store_error(tag, &e);
        }
        let mut added: Vec<Uid> = Vec::new();
        let mut validity = 0;
        for msg in messages {
            match self.store.append(&user, &mailbox, msg) {
                Ok((v, uid)) => {
                    validity = v;
                    added.push(uid);
                }
                Err(e) => {
                    if !added.is_empty() {
                        let _ = self.store.store_flags(
                            &user,
                            &mailbox,
                            &added,
                            crate::FlagOp::Add,
                            &[Flag::Deleted],
                            None,
                        );
                        let _ = self.store.expunge(&user, &mailbox, Some(&added));
                    }
                    return self.append_error(tag, &e);
                }
            }
        }
        self.sync_mailbox(true);
        let code = NonZeroU32::new(validity).and_then(|v| {
            imap_proto::SequenceSet::from_numbers(added.iter().map(|u| u.get())).map(|uids| {
                Code::AppendUid {
                    uid_validity: v,
                    uids,
                }
            })
        });
        self.tagged(tag, StatusKind::Ok, code, "APPEND completed");
    }

    /// A failed APPEND: `[TRYCREATE]` for a missing target (RFC 9051 §6.3.12).
    pub(super) fn append_error(&mut self, tag: Tag, e: &crate::StoreError) {
        if e.kind == StoreErrorKind::NonExistent {
            self.tagged(tag, StatusKind::No, Some(Code::TryCreate), &e.text);
        } else {
            self.store_error(tag, e);
        }
    }

    /// A time for messages appended without a date. The session reads no clock,
    /// so this is the time the driver last gave, as seconds since the epoch;
    /// drivers set it with [`ServerConnection::set_wall_clock`].
    pub(super) fn now_hint(&self) -> i64 {
        self.wall_clock
    }
}
