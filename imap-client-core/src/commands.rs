//! Typed helpers for the common commands: each builds a [`CommandBody`] and
//! calls [`ClientConnection::enqueue`].

use bytes::Bytes;
use imap_proto::{
    AString, AppendMessage, Capability, CommandBody, Compression, FetchItems, Flag, ListMailbox,
    Literal, Mailbox, SearchKey, Secret, SequenceSet, StatusAttribute, StoreKind, StoreTarget,
};

use crate::connection::ClientConnection;
use crate::error::ClientError;
use crate::event::CommandHandle;
use crate::sasl::Sasl;

impl ClientConnection {
    /// `CAPABILITY`; the answer also updates [`ClientConnection::capabilities`].
    pub fn capability(&mut self) -> CommandHandle {
        self.enqueue(CommandBody::Capability)
    }

    /// `NOOP` (polls for mailbox changes).
    pub fn noop(&mut self) -> CommandHandle {
        self.enqueue(CommandBody::Noop)
    }

    /// `LOGOUT`.
    pub fn logout(&mut self) -> CommandHandle {
        self.enqueue(CommandBody::Logout)
    }

    /// `STARTTLS`; on success [`crate::ClientEvent::StartTls`] follows the completion.
    pub fn starttls(&mut self) -> CommandHandle {
        self.enqueue(CommandBody::StartTls)
    }

    /// `COMPRESS DEFLATE` (RFC 4978): compress both directions of the
    /// connection.
    ///
    /// Refused with [`ClientError::CompressNotOffered`] unless the server
    /// advertised `COMPRESS=DEFLATE` (ask for [`capability`](Self::capability)
    /// after login if it did not say so with its OK), and with
    /// [`ClientError::CompressActive`] when compression is on or already asked
    /// for. The command waits until nothing else is in flight, and commands
    /// queued behind it are held until its result (RFC 4978 §3: the client
    /// must not send more meanwhile). On OK,
    /// [`is_compressed`](Self::is_compressed) turns true and from then on
    /// [`poll_transmit`](Self::poll_transmit) returns raw DEFLATE, each chunk
    /// ended with a sync flush (§4), and
    /// [`handle_input`](Self::handle_input) expects it, including bytes that
    /// followed the OK in the same input (§3: the server compresses right
    /// after that line's CRLF). On NO or BAD nothing changes and the held
    /// commands go out. If TLS is wanted too, negotiate it first (§3, §8).
    pub fn compress(&mut self) -> Result<CommandHandle, ClientError> {
        let offered = self.capabilities().iter().any(|c| {
            matches!(c, Capability::Compress(a) if a.as_bytes().eq_ignore_ascii_case(b"DEFLATE"))
        });
        if self.is_compressed() || self.compress_requested() {
            return Err(ClientError::CompressActive);
        }
        if !offered {
            return Err(ClientError::CompressNotOffered);
        }
        Ok(self.enqueue(CommandBody::Compress(Compression::Deflate)))
    }

    /// `LOGIN user password` (strings are quoted or sent as literals as needed).
    pub fn login(&mut self, user: &str, password: &str) -> Result<CommandHandle, ClientError> {
        let username = AString::try_from(user)?;
        let password = Secret::new(AString::try_from(password)?);
        Ok(self.enqueue(CommandBody::Login { username, password }))
    }

    /// `AUTHENTICATE PLAIN` (RFC 4616), with the credentials as initial response
    /// when the server offers SASL-IR, otherwise after the server's `+`.
    pub fn authenticate_plain(&mut self, user: &str, password: &str) -> CommandHandle {
        self.authenticate(Sasl::Plain {
            authzid: String::new(),
            user: user.to_owned(),
            password: Secret::new(password.to_owned()),
        })
    }

    /// `AUTHENTICATE LOGIN`: user name and password in answer to two challenges.
    pub fn authenticate_login(&mut self, user: &str, password: &str) -> CommandHandle {
        self.authenticate(Sasl::Login {
            user: user.to_owned(),
            password: Secret::new(password.to_owned()),
        })
    }

    /// `AUTHENTICATE XOAUTH2` with an OAuth 2.0 access token (Gmail, Outlook).
    pub fn authenticate_xoauth2(&mut self, user: &str, token: &str) -> CommandHandle {
        self.authenticate(Sasl::XOAuth2 {
            user: user.to_owned(),
            token: Secret::new(token.to_owned()),
        })
    }

    /// `AUTHENTICATE OAUTHBEARER` (RFC 7628) with an OAuth 2.0 bearer token;
    /// `host` and `port` are the server's, as the token's audience.
    pub fn authenticate_oauthbearer(
        &mut self,
        user: &str,
        host: &str,
        port: u16,
        token: &str,
    ) -> CommandHandle {
        self.authenticate(Sasl::OAuthBearer {
            user: user.to_owned(),
            host: host.to_owned(),
            port,
            token: Secret::new(token.to_owned()),
        })
    }

    fn authenticate(&mut self, sasl: Sasl) -> CommandHandle {
        let body = CommandBody::Authenticate {
            mechanism: sasl.mechanism(),
            initial_response: None,
        };
        self.enqueue_inner(body, Some(sasl))
    }

    /// `ENABLE cap…` (RFC 5161). Enabling `UTF8=ACCEPT` or `IMAP4rev2` switches
    /// mailbox names to UTF-8 once the server confirms with `ENABLED`.
    pub fn enable(&mut self, caps: impl IntoIterator<Item = Capability>) -> CommandHandle {
        self.enqueue(CommandBody::Enable(caps.into_iter().collect()))
    }

    /// `SELECT mailbox`.
    pub fn select(&mut self, mailbox: &Mailbox) -> CommandHandle {
        self.enqueue(CommandBody::Select {
            mailbox: mailbox.clone(),
            params: Vec::new(),
        })
    }

    /// `EXAMINE mailbox` (read-only SELECT).
    pub fn examine(&mut self, mailbox: &Mailbox) -> CommandHandle {
        self.enqueue(CommandBody::Examine {
            mailbox: mailbox.clone(),
            params: Vec::new(),
        })
    }

    /// `CREATE mailbox`.
    pub fn create(&mut self, mailbox: &Mailbox) -> CommandHandle {
        self.enqueue(CommandBody::Create {
            mailbox: mailbox.clone(),
            special_use: Vec::new(),
        })
    }

    /// `DELETE mailbox`.
    pub fn delete(&mut self, mailbox: &Mailbox) -> CommandHandle {
        self.enqueue(CommandBody::Delete(mailbox.clone()))
    }

    /// `RENAME from to`.
    pub fn rename(&mut self, from: &Mailbox, to: &Mailbox) -> CommandHandle {
        self.enqueue(CommandBody::Rename {
            from: from.clone(),
            to: to.clone(),
        })
    }

    /// `SUBSCRIBE mailbox`.
    pub fn subscribe(&mut self, mailbox: &Mailbox) -> CommandHandle {
        self.enqueue(CommandBody::Subscribe(mailbox.clone()))
    }

    /// `LIST reference pattern` (`*` and `%` are wildcards in `pattern`).
    pub fn list(&mut self, reference: &Mailbox, pattern: &str) -> CommandHandle {
        self.enqueue(CommandBody::List {
            selection: Vec::new(),
            reference: reference.clone(),
            patterns: vec![ListMailbox::from_utf8(pattern)],
            return_options: None,
        })
    }

    /// `STATUS mailbox (attributes)`.
    pub fn status(&mut self, mailbox: &Mailbox, attributes: &[StatusAttribute]) -> CommandHandle {
        self.enqueue(CommandBody::Status {
            mailbox: mailbox.clone(),
            attributes: attributes.to_vec(),
        })
    }

    /// `APPEND mailbox (flags) {n}` + the message. The literal is synchronising
    /// (sent after the server's `+`) unless LITERAL+/LITERAL- allow `{n+}`.
    /// Refuses a message with a NUL byte (use [`ClientConnection::enqueue`] with
    /// [`Literal::binary`] and BINARY for those).
    pub fn append(
        &mut self,
        mailbox: &Mailbox,
        flags: &[Flag],
        message: impl Into<Bytes>,
    ) -> Result<CommandHandle, ClientError> {
        let data = Literal::new(message)?;
        Ok(self.enqueue(CommandBody::Append {
            mailbox: mailbox.clone(),
            messages: vec![AppendMessage {
                flags: flags.to_vec(),
                date: None,
                data,
                utf8: false,
            }],
        }))
    }

    /// `IDLE` (RFC 2177): see [`crate::ClientEvent::IdleStarted`] and
    /// [`ClientConnection::idle_done`]; re-issued every
    /// [`crate::ClientConfig::idle_reissue`].
    pub fn idle(&mut self) -> CommandHandle {
        self.enqueue(CommandBody::Idle)
    }

    /// `CLOSE` (expunges `\Deleted` messages, then deselects).
    pub fn close(&mut self) -> CommandHandle {
        self.enqueue(CommandBody::Close)
    }

    /// `UNSELECT` (RFC 3691): deselect without expunging.
    pub fn unselect(&mut self) -> CommandHandle {
        self.enqueue(CommandBody::Unselect)
    }

    /// `EXPUNGE`.
    pub fn expunge(&mut self) -> CommandHandle {
        self.enqueue(CommandBody::Expunge)
    }

    /// `FETCH set items` (sequence numbers).
    pub fn fetch(&mut self, set: SequenceSet, items: FetchItems) -> CommandHandle {
        self.enqueue(CommandBody::Fetch {
            uid: false,
            set,
            items,
            modifiers: Vec::new(),
        })
    }

    /// `UID FETCH set items`.
    pub fn uid_fetch(&mut self, set: SequenceSet, items: FetchItems) -> CommandHandle {
        self.enqueue(CommandBody::Fetch {
            uid: true,
            set,
            items,
            modifiers: Vec::new(),
        })
    }

    /// `STORE set [+|-]FLAGS (flags)` (sequence numbers); the new flags come back
    /// in the completion's data.
    pub fn store(&mut self, set: SequenceSet, kind: StoreKind, flags: &[Flag]) -> CommandHandle {
        self.store_inner(false, set, kind, flags)
    }

    /// `UID STORE set [+|-]FLAGS (flags)`.
    pub fn uid_store(
        &mut self,
        set: SequenceSet,
        kind: StoreKind,
        flags: &[Flag],
    ) -> CommandHandle {
        self.store_inner(true, set, kind, flags)
    }

    fn store_inner(
        &mut self,
        uid: bool,
        set: SequenceSet,
        kind: StoreKind,
        flags: &[Flag],
    ) -> CommandHandle {
        self.enqueue(CommandBody::Store {
            uid,
            set,
            modifiers: Vec::new(),
            kind,
            silent: false,
            target: StoreTarget::Flags(flags.to_vec()),
        })
    }

    /// `SEARCH criteria` (all must match); results in the completion's data.
    pub fn search(&mut self, criteria: Vec<SearchKey>) -> CommandHandle {
        self.search_inner(false, criteria)
    }

    /// `UID SEARCH criteria`.
    pub fn uid_search(&mut self, criteria: Vec<SearchKey>) -> CommandHandle {
        self.search_inner(true, criteria)
    }

    fn search_inner(&mut self, uid: bool, criteria: Vec<SearchKey>) -> CommandHandle {
        let criteria = if criteria.is_empty() {
            vec![SearchKey::All]
        } else {
            criteria
        };
        self.enqueue(CommandBody::Search {
            uid,
            return_options: None,
            charset: None,
            criteria,
        })
    }

    /// `[UID] COPY set mailbox`.
    pub fn copy(&mut self, uid: bool, set: SequenceSet, mailbox: &Mailbox) -> CommandHandle {
        self.enqueue(CommandBody::Copy {
            uid,
            set,
            mailbox: mailbox.clone(),
        })
    }

    /// `[UID] MOVE set mailbox` (RFC 6851); the expunges it causes come back in
    /// the completion's data.
    pub fn move_messages(
        &mut self,
        uid: bool,
        set: SequenceSet,
        mailbox: &Mailbox,
    ) -> CommandHandle {
        self.enqueue(CommandBody::Move {
            uid,
            set,
            mailbox: mailbox.clone(),
        })
    }
}
