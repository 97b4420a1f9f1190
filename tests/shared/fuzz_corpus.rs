//! Replaying the committed fuzzing seed corpora (`fuzz/corpus/<target>/`)
//! through the fuzz target bodies, shared by the `fuzz_corpus` tests of
//! imap-codec, imap-server-core and imap-client-core (each includes this file
//! with `#[path]`), so `cargo test` catches a regression on any input the
//! fuzzers were seeded with or once crashed on.
//!
//! Cargo builds only `tests/*.rs` and `tests/*/main.rs` as test targets, so
//! this file is not a test of the root package by itself.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// `fuzz/corpus`, from the including crate (one level below the workspace).
const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus");

/// Every file of the target's corpus directory, sorted. Fails if the
/// directory is missing or empty.
pub(crate) fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(CORPUS).join(target);
    let entries = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus directory {} is missing: {e}", dir.display()));
    let mut files: Vec<(PathBuf, Vec<u8>)> = entries
        .map(|entry| entry.expect("read corpus directory").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let data = fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            (path, data)
        })
        .collect();
    assert!(
        !files.is_empty(),
        "corpus directory {} is empty",
        dir.display()
    );
    files.sort();
    files
}

/// Run `body` over every file of `target`'s corpus, naming the file that
/// fails.
pub(crate) fn replay(target: &str, body: fn(&[u8])) {
    for (path, data) in corpus(target) {
        let result = std::panic::catch_unwind(|| body(&data));
        if let Err(panic) = result {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("fuzz target {target} failed on {}: {msg}", path.display());
        }
    }
}
