//! Errors of the client core.

use imap_proto::{Tag, ValidationError};

/// What went wrong in the client core. None of these end the session (the
/// connection state stays consistent and later input is processed normally),
/// except [`ClientError::Compression`] and [`ClientError::StartTlsInjection`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// An argument of a typed helper is not a valid IMAP value (a user name
    /// with CR/LF, a message with a NUL byte, …). Nothing was queued.
    #[error("invalid argument")]
    InvalidArgument(#[from] ValidationError),
    /// [`crate::ClientConnection::idle_done`] was called while no IDLE runs.
    #[error("not idling")]
    NotIdling,
    /// The server sent a continuation request (`+`) that no command waits for.
    #[error("unexpected continuation request")]
    UnexpectedContinuation,
    /// The server completed a tag the client never sent.
    #[error("completion for unknown tag {0:?}")]
    UnknownTag(Tag),
    /// The untagged data answering one command passed
    /// [`crate::ClientConfig::max_command_data`] bytes; the rest of it was
    /// dropped (the command still completes, with the data kept so far).
    #[error("data for command {tag:?} exceeds {limit} bytes; the rest was dropped")]
    DataLimit {
        /// The command's tag.
        tag: Tag,
        /// The limit.
        limit: usize,
    },
    /// Bytes arrived before the greeting could be read and did not form one.
    #[error("unexpected data before the greeting")]
    BeforeGreeting,
    /// [`crate::ClientConnection::compress`]: the server did not advertise
    /// `COMPRESS=DEFLATE` (RFC 4978 §3). Nothing was queued.
    #[error("the server does not offer COMPRESS=DEFLATE")]
    CompressNotOffered,
    /// [`crate::ClientConnection::compress`]: compression is already on, or a
    /// `COMPRESS` command is already queued or waiting for its result (RFC 4978
    /// §3 allows one per connection). Nothing was queued.
    #[error("COMPRESS is already active or requested")]
    CompressActive,
    /// The compressed stream broke (RFC 4978 §3): the server's bytes are not
    /// valid DEFLATE, or continue after the end of its DEFLATE stream. This one
    /// is fatal: nothing more is read or written, the state becomes
    /// [`crate::ClientState::Logout`], and the driver should close the
    /// connection (commands in flight will not complete).
    #[error("compressed stream broken: {0}")]
    Compression(String),
    /// The server's STARTTLS OK was followed, in the same read, by more bytes
    /// before the TLS handshake: plaintext that anyone on the path could
    /// have injected (the CVE-2011-0411 class). Fatal, like
    /// [`ClientError::Compression`]: no TLS hand-off is offered, the state
    /// becomes [`crate::ClientState::Logout`], nothing more is read or
    /// written, and the driver should close the connection.
    #[error("bytes after the STARTTLS OK before the TLS handshake (possible injection)")]
    StartTlsInjection,
}
