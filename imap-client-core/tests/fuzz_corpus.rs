//! Replays the committed fuzzing seed corpora of the client-core target
//! (`fuzz/corpus/<target>/`) through the target bodies in
//! `imap_client_core::fuzzing`, so `cargo test` catches a regression on any
//! input the fuzzers were seeded with or once crashed on.
//!
//! The replay itself is `tests/shared/fuzz_corpus.rs` at the workspace root.

#[path = "../../tests/shared/fuzz_corpus.rs"]
mod corpus_replay;

use corpus_replay::replay;

#[test]
fn client_session() {
    replay("client_session", imap_client_core::fuzzing::client_session);
}
