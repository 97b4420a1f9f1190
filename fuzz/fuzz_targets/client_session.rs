//! Fuzz target: `imap_client_core::fuzzing::client_session`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    imap_client_core::fuzzing::client_session(data);
});
