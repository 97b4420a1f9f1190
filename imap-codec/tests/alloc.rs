//! Decoding a steady stream of small FETCH responses must not touch the heap:
//! after the first line (which turns the buffer into a shared one), each
//! `* n FETCH (UID n FLAGS (\Seen))` line is framed, sliced out of the buffer
//! without copying and parsed into inline storage.
//!
//! A counting global allocator measures it.

// Implementing `GlobalAlloc` is unsafe by definition; this file is a test
// harness that only counts calls and forwards every one of them to `System`.
// The workspace denies unsafe code; this test opts in for that reason alone.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::BytesMut;
use imap_codec::imap_proto::{Data, FetchItem, Response};
use imap_codec::{Decoded, ResponseCodec};

/// Counts allocations made by the current thread (other test threads and the
/// harness do not disturb the count).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the thread-local may already be gone while a thread exits.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the only addition is bumping a
// const-initialised thread-local counter, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: as above; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const LINES: u32 = 1000;

#[test]
fn the_counter_counts() {
    let before = allocations();
    let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(16));
    drop(v);
    assert!(allocations() > before);
}

fn line(n: u32) -> String {
    format!("* {n} FETCH (UID {n} FLAGS (\\Seen))\r\n")
}

/// Decode one line and check what came out (without allocating).
fn decode_line(codec: &mut ResponseCodec, buf: &mut BytesMut, n: u32) {
    match codec.decode(buf) {
        Ok(Decoded::Complete {
            value: Response::Data(Data::Fetch { seq, items }),
            ..
        }) => {
            assert_eq!(seq.0.get(), n);
            assert_eq!(items.len(), 2);
            assert!(matches!(&items[0], FetchItem::Uid(uid) if uid.0.get() == n));
            assert!(matches!(&items[1], FetchItem::Flags(flags) if flags.len() == 1));
        }
        _ => panic!("line {n} did not decode as a FETCH"),
    }
}

#[test]
fn fetch_lines_decode_without_allocating() {
    // The whole stream already received.
    let mut stream = String::new();
    for n in 1..=LINES {
        stream.push_str(&line(n));
    }
    let mut buf = BytesMut::from(stream.as_bytes());
    let mut codec = ResponseCodec::new();
    decode_line(&mut codec, &mut buf, 1);
    let before = allocations();
    for n in 2..=LINES {
        decode_line(&mut codec, &mut buf, n);
    }
    let during = allocations() - before;
    assert!(buf.is_empty());
    assert_eq!(
        during, 0,
        "{during} allocations while decoding lines 2..={LINES} (all received at once)"
    );
}

#[test]
fn fetch_lines_arriving_one_by_one_decode_without_allocating() {
    // Lines arrive one at a time into a buffer with room for them all.
    let lines: Vec<String> = (1..=LINES).map(line).collect();
    let total: usize = lines.iter().map(String::len).sum();
    let mut buf = BytesMut::with_capacity(total);
    let mut codec = ResponseCodec::new();
    buf.extend_from_slice(lines[0].as_bytes());
    decode_line(&mut codec, &mut buf, 1);
    let before = allocations();
    for (n, l) in (2..=LINES).zip(&lines[1..]) {
        buf.extend_from_slice(l.as_bytes());
        decode_line(&mut codec, &mut buf, n);
    }
    let during = allocations() - before;
    assert_eq!(
        during, 0,
        "{during} allocations while decoding lines 2..={LINES} (arriving one by one)"
    );
}
