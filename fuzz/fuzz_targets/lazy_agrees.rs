//! Fuzz target: `imap_codec::fuzzing::lazy_agrees`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    imap_codec::fuzzing::lazy_agrees(data);
});
