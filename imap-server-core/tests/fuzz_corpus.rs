//! Replays the committed fuzzing seed corpora of the server-core targets
//! (`fuzz/corpus/<target>/`) through the target bodies in
//! `imap_server_core::fuzzing`, so `cargo test` catches a regression on any
//! input the fuzzers were seeded with or once crashed on.
//!
//! The replay itself is `tests/shared/fuzz_corpus.rs` at the workspace root.

#[path = "../../tests/shared/fuzz_corpus.rs"]
mod corpus_replay;

use corpus_replay::replay;

#[test]
fn server_session() {
    replay("server_session", imap_server_core::fuzzing::server_session);
}

#[test]
fn mime() {
    replay("mime", imap_server_core::fuzzing::mime);
}

#[cfg(unix)]
#[test]
fn maildir_index() {
    replay("maildir_index", imap_server_core::fuzzing::maildir_index);
}
