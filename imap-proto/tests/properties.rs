//! Property tests of the data model's own codecs: modified UTF-7 mailbox names,
//! base64, sequence-set syntax and date formatting.

use bytes::Bytes;
use imap_proto::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any Unicode name survives modified UTF-7 and the encoding is pure
    /// printable ASCII (RFC 3501 §5.1.3).
    #[test]
    fn utf7_round_trip(name in "\\PC{0,24}") {
        let wire = encode_utf7(&name);
        prop_assert!(wire.bytes().all(|b| (0x20..0x7f).contains(&b)));
        prop_assert_eq!(decode_utf7(wire.as_bytes()), Some(name));
    }

    /// A mailbox decoded from any wire bytes re-encodes to bytes that decode to
    /// the same mailbox, in both modes.
    #[test]
    fn mailbox_wire_round_trip(raw in proptest::collection::vec(1u8..=255, 0..32), utf8: bool) {
        let m = Mailbox::from_wire(Bytes::from(raw), utf8);
        let wire = m.to_wire(utf8).into_owned();
        prop_assert_eq!(Mailbox::from_wire(Bytes::from(wire), utf8), m);
    }

    #[test]
    fn base64_round_trip(data in proptest::collection::vec(any::<u8>(), 0..100)) {
        let enc = encode_base64(&data);
        prop_assert_eq!(decode_base64(enc.as_bytes()), Some(data));
    }

    #[test]
    fn sequence_set_display_parse(ranges in proptest::collection::vec((0u32..5, 1u32..=u32::MAX, 1u32..=u32::MAX), 1..6)) {
        let b = |k: u32, n: u32| if k == 0 { SeqBound::Star } else { SeqBound::Value(std::num::NonZeroU32::new(n).unwrap()) };
        let set = SequenceSet::from_ranges(ranges.iter().map(|&(k, a, c)| SeqRange { start: b(k, a), end: b(k.saturating_sub(1), c) })).unwrap();
        let text = set.to_string();
        prop_assert_eq!(text.parse::<SequenceSet>().unwrap(), set);
    }

    #[test]
    fn from_numbers_contains_exactly(nums in proptest::collection::btree_set(1u32..200, 1..40)) {
        let set = SequenceSet::from_numbers(nums.iter().copied()).unwrap();
        for n in 1..220 {
            prop_assert_eq!(set.contains(n, 1000), nums.contains(&n));
        }
    }

    #[test]
    fn pattern_star_matches_everything(name in "[a-zA-Z./]{0,20}") {
        prop_assert!(ListMailbox::from_utf8("*").matches(name.as_bytes(), Some(b'/')));
        let no_delim = !name.contains('/');
        prop_assert_eq!(ListMailbox::from_utf8("%").matches(name.as_bytes(), Some(b'/')), no_delim);
    }
}
