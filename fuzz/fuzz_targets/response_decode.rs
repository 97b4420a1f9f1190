//! Fuzz target: `imap_codec::fuzzing::response_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    imap_codec::fuzzing::response_decode(data);
});
