#![doc = include_str!("../README.md")]
//!
//! This umbrella package exists so that `cargo run --example …` and `cargo bench`
//! work from the top of the checkout (and so the README's examples are doctested);
//! it re-exports the libraries.

pub use imap_codec as codec;
pub use imap_proto as proto;
