//! The storage contract suite of the server core, against PostgreSQL: each
//! check on a fresh database of one private cluster shared by this test
//! binary (see `imap_store_postgres::testing`).

use imap_server_core::contract;
use imap_store_postgres::testing::TestCluster;
use imap_store_postgres::{PgStore, PgStoreOptions};

fn fresh(cluster: &TestCluster, options: &PgStoreOptions) -> PgStore {
    let db = cluster.create_database();
    PgStore::open_with(&cluster.socket_url(&db), options.clone())
        .unwrap_or_else(|e| panic!("open {db}: {e}"))
}

#[test]
fn contract_suite() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    contract::run_all(|| fresh(cluster, &PgStoreOptions::default()));
}

#[test]
fn contract_suite_without_special_folders() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let options = PgStoreOptions {
        special_folders: false,
        ..PgStoreOptions::default()
    };
    contract::run_all(|| fresh(cluster, &options));
}
