//! The IMAP client core: a sans-IO client session state machine and an offline
//! synchronisation engine.
//!
//! **Not built yet.** This crate is a placeholder in the workspace layout; its
//! work is tracked as its own issue and it exports nothing today. It will do no
//! I/O and read no clock.

pub use imap_codec as codec;
