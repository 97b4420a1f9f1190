//! The IMAP server core: a sans-IO session state machine, a storage trait and an
//! authenticator trait.
//!
//! **Not built yet.** This crate is a placeholder in the workspace layout; its
//! work is tracked as its own issue and it exports nothing today. It will do no
//! I/O and read no clock: bytes in, bytes and driver events out, with time
//! passed in as an argument.

pub use imap_codec as codec;
