//! Passwords and app passwords in the database ([`PgAuthenticator`]): two
//! nodes on one database accept the same credentials, and removing an app
//! password on one node revokes the logins made with it on the other, within
//! a second, also when the other node's listening connection was away when
//! the removal was committed.

use std::time::{Duration, Instant};

use imap_server_core::passwd::hash_password;
use imap_server_core::{AuthError, Authenticator, Login};
use imap_store_postgres::testing::TestCluster;
use imap_store_postgres::{CredentialError, PgAuthenticator, PgStore};

const U: &str = "alice";

/// Wait up to `limit` for `f` to hold; returns how long it took.
fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// Two nodes (store and authenticator each) on one fresh database, alice
/// with a password and the app passwords `phone` and `laptop`.
fn two_nodes(
    cluster: &TestCluster,
) -> (
    (PgStore, PgAuthenticator),
    (PgStore, PgAuthenticator),
    String,
) {
    let db = cluster.create_database();
    let a = PgStore::open(&cluster.socket_url(&db)).expect("open node A");
    let b = PgStore::open(&cluster.tcp_url(&db)).expect("open node B");
    let (auth_a, auth_b) = (PgAuthenticator::new(&a), PgAuthenticator::new(&b));
    auth_a
        .set_password(U, &hash_password("main-secret").unwrap())
        .unwrap();
    auth_a
        .add_app_password(U, "phone", &hash_password("phone-secret").unwrap())
        .unwrap();
    auth_a
        .add_app_password(U, "laptop", "{PLAIN}laptop-secret")
        .unwrap();
    ((a, auth_a), (b, auth_b), db)
}

fn login(auth: &PgAuthenticator, password: &str) -> Result<Login, AuthError> {
    auth.authenticate("", U, password.as_bytes())
}

#[test]
fn app_password_removed_on_one_node_ends_logins_on_the_other() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let ((_a, auth_a), (_b, auth_b), _db) = two_nodes(cluster);

    // Both nodes accept every credential; the login names the label.
    let phone_b = login(&auth_b, "phone-secret").expect("phone on B");
    let laptop_b = login(&auth_b, "laptop-secret").expect("laptop on B");
    let main_b = login(&auth_b, "main-secret").expect("password on B");
    let phone_a = login(&auth_a, "phone-secret").expect("phone on A");
    assert_eq!(phone_b.user, U);
    let cred = phone_b.credential.clone().unwrap();
    assert!(cred.ends_with("/phone"), "{cred}");
    assert!(!cred.contains("secret"), "{cred}");
    assert!(laptop_b.credential.as_deref().unwrap().ends_with("/laptop"));
    assert!(main_b.credential.as_deref().unwrap().ends_with('/'));
    for l in [&phone_b, &laptop_b, &main_b] {
        assert!(auth_b.still_valid(l));
    }
    assert!(auth_a.still_valid(&phone_a));
    // Wrong passwords, unknown users and other identities are refused.
    assert_eq!(
        login(&auth_b, "not-a-password"),
        Err(AuthError::InvalidCredentials)
    );
    assert_eq!(
        auth_b.authenticate("", "nobody", b"phone-secret"),
        Err(AuthError::InvalidCredentials)
    );
    assert_eq!(
        auth_b.authenticate("bob", U, b"phone-secret"),
        Err(AuthError::NotAuthorized)
    );
    // A label is used once; bad hashes and empty names are refused.
    assert!(matches!(
        auth_a.add_app_password(U, "phone", "{PLAIN}x"),
        Err(CredentialError::LabelTaken(l)) if l == "phone"
    ));
    assert!(matches!(
        auth_a.add_app_password(U, "tablet", "{MD5}x"),
        Err(CredentialError::Hash(_))
    ));
    assert!(matches!(
        auth_a.add_app_password(U, "", "{PLAIN}x"),
        Err(CredentialError::Empty)
    ));
    let labels: Vec<String> = auth_b
        .app_passwords(U)
        .unwrap()
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    assert_eq!(labels, ["laptop", "phone"]);

    // Node A removes the phone: node B's phone login ends within 1 s.
    assert!(auth_a.remove_app_password(U, "phone").unwrap());
    let took = wait_for(Duration::from_secs(1), || !auth_b.still_valid(&phone_b));
    assert!(took.is_some(), "node B still accepts the removed phone");
    eprintln!("revocation seen on node B after {took:?}");
    assert!(wait_for(Duration::from_secs(1), || !auth_a.still_valid(&phone_a)).is_some());
    // The laptop and the password go on; the phone cannot log in again.
    assert!(auth_b.still_valid(&laptop_b));
    assert!(auth_b.still_valid(&main_b));
    assert_eq!(
        login(&auth_b, "phone-secret"),
        Err(AuthError::InvalidCredentials)
    );
    assert!(!auth_a.remove_app_password(U, "phone").unwrap());

    // A new password ends the sessions of the old one, not the laptop's.
    auth_a
        .set_password(U, &hash_password("new-secret").unwrap())
        .unwrap();
    assert!(wait_for(Duration::from_secs(1), || !auth_b.still_valid(&main_b)).is_some());
    assert!(auth_b.still_valid(&laptop_b));
    assert_eq!(
        login(&auth_b, "main-secret"),
        Err(AuthError::InvalidCredentials)
    );
    let main2 = login(&auth_b, "new-secret").expect("new password");
    assert!(auth_b.still_valid(&main2));
}

/// A removal committed while node B's listening connection is gone (its
/// backend killed, new connections to the database refused) is not
/// announced to B; B finds it when its listener is back and reads the
/// credentials again.
#[test]
fn removal_while_the_listener_is_away_is_found_after_reconnect() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let ((_a, auth_a), (b, auth_b), db) = two_nodes(cluster);
    let phone = login(&auth_b, "phone-secret").unwrap();
    let laptop = login(&auth_b, "laptop-secret").unwrap();
    let connects = b.listener_connects();
    assert!(connects >= 1);

    let mut own = postgres::Client::connect(&cluster.socket_url(&db), postgres::NoTls)
        .expect("connect to the test database");
    // No new connection to the database, and the nodes' ones killed
    // (a database's connections are switched off from another one).
    let mut admin = postgres::Client::connect(&cluster.socket_url("postgres"), postgres::NoTls)
        .expect("connect to postgres");
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {db} WITH ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{db}' AND application_name = 'imap-rs';"
        ))
        .unwrap();
    let gone = wait_for(Duration::from_secs(5), || {
        own.query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'imap-rs'",
            &[],
        )
        .is_ok_and(|r| r.get::<_, i64>(0) == 0)
    });
    assert!(gone.is_some(), "a node is still connected");
    let removed = own
        .execute(
            "DELETE FROM imap_credentials WHERE user_name = $1 AND label = 'phone'",
            &[&U],
        )
        .unwrap();
    assert_eq!(removed, 1);
    admin
        .batch_execute(&format!("ALTER DATABASE {db} WITH ALLOW_CONNECTIONS true"))
        .unwrap();
    // The listener comes back within its longest pause and resyncs.
    let took = wait_for(Duration::from_secs(5), || !auth_b.still_valid(&phone));
    assert!(took.is_some(), "node B missed a removal made while away");
    assert!(b.listener_connects() > connects);
    assert!(auth_b.still_valid(&laptop));
    drop(auth_a);
}
