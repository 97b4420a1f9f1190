//! The umbrella package of the imap-rs workspace. It exists so that
//! `cargo run --example …` and `cargo bench` work from the top of the checkout;
//! it re-exports the libraries.

pub use imap_codec as codec;
pub use imap_proto as proto;
