//! Replays the committed fuzzing seed corpora of the server-core targets
//! (`fuzz/corpus/<target>/`) through the target bodies in
//! `imap_server_core::fuzzing`, so `cargo test` catches a regression on any
//! input the fuzzers were seeded with or once crashed on.

use std::fs;
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus");

/// Every file of the target's corpus directory, sorted. Fails if the
/// directory is missing or empty.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
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
fn replay(target: &str, body: fn(&[u8])) {
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
