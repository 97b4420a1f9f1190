//! Fuzz target: `imap_codec::fuzzing::command_roundtrip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    imap_codec::fuzzing::command_roundtrip(data);
});
