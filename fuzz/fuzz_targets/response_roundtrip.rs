//! Fuzz target: `imap_codec::fuzzing::response_roundtrip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    imap_codec::fuzzing::response_roundtrip(data);
});
