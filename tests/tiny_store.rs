//! The tiny store of `examples/tiny-store.rs`: the core's storage contract
//! suite against it, and the example server driven by Python's imaplib.

#[allow(dead_code)]
#[path = "../examples/tiny-store/store.rs"]
mod store;

use imap_server_core::contract;

use crate::store::TinyStore;

/// Every check of the storage contract, `watch_wakes` included.
#[test]
fn tiny_store_meets_the_storage_contract() {
    contract::run_all(TinyStore::new);
}
