//! Replays the committed fuzzing seed corpora (`fuzz/corpus/<target>/`) through
//! the fuzz target bodies in `imap_codec::fuzzing`, so `cargo test` catches a
//! regression on any input the fuzzers were seeded with or once crashed on.
//!
//! The replay itself is `tests/shared/fuzz_corpus.rs` at the workspace root.

#[path = "../../tests/shared/fuzz_corpus.rs"]
mod corpus_replay;

use corpus_replay::{corpus, replay};

#[test]
fn command_decode() {
    replay("command_decode", imap_codec::fuzzing::command_decode);
}

#[test]
fn response_decode() {
    replay("response_decode", imap_codec::fuzzing::response_decode);
}

#[test]
fn framing() {
    replay("framing", imap_codec::fuzzing::framing);
}

#[test]
fn command_roundtrip() {
    replay("command_roundtrip", imap_codec::fuzzing::command_roundtrip);
}

#[test]
fn response_roundtrip() {
    replay(
        "response_roundtrip",
        imap_codec::fuzzing::response_roundtrip,
    );
}

/// `lazy_agrees` over its own seeds (which must hold accepted values, or
/// the comparison proves nothing) and over every response corpus.
#[test]
fn lazy_agrees() {
    let accepted: usize = corpus("lazy_agrees")
        .iter()
        .map(|(_, data)| imap_codec::fuzzing::lazy_agrees(data))
        .sum();
    assert!(accepted > 20, "only {accepted} values accepted");
    for target in ["response_decode", "response_roundtrip", "framing"] {
        replay(target, |data| {
            imap_codec::fuzzing::lazy_agrees(data);
        });
    }
}

/// `lazy_agrees` over mutations of its seeds: each byte replaced, deleted or
/// doubled, and bytes that matter to the grammar inserted, at pseudo-random
/// places (a fixed-seed generator, so every run tries the same inputs).
#[test]
fn lazy_agrees_on_mutations() {
    const INTERESTING: &[u8] = b"() \"\\NIL{}0123456789\r\n\x00\x80~+";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut accepted = 0;
    for (path, seed) in corpus("lazy_agrees") {
        for _ in 0..400 {
            let mut data = seed.clone();
            for _ in 0..1 + next(3) {
                let at = next(data.len().max(1));
                match next(4) {
                    0 if at < data.len() => data[at] = INTERESTING[next(INTERESTING.len())],
                    1 if at < data.len() => {
                        data.remove(at);
                    }
                    2 if at < data.len() => data.insert(at, data[at]),
                    _ => data.insert(at.min(data.len()), INTERESTING[next(INTERESTING.len())]),
                }
            }
            let result = std::panic::catch_unwind(|| imap_codec::fuzzing::lazy_agrees(&data));
            match result {
                Ok(n) => accepted += n,
                Err(_) => panic!(
                    "lazy_agrees failed on a mutation of {}: {:?}",
                    path.display(),
                    String::from_utf8_lossy(&data)
                ),
            }
        }
    }
    assert!(accepted > 1000, "only {accepted} mutated values accepted");
}
