//! Fuzz target: `imap_server_core::fuzzing::server_session`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    imap_server_core::fuzzing::server_session(data);
});
