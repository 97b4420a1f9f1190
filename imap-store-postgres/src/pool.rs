//! Connections: a small pool of blocking clients, each with its own cache of
//! prepared statements, and the transaction runner that retries what
//! PostgreSQL asks to be retried.
//!
//! **Pool.** At most [`PoolOptions::max_connections`] clients are open; a call
//! takes an idle one or opens a new one, and waits (up to
//! [`POOL_WAIT`]) when all are busy. A client whose connection was closed is
//! not put back. Why not r2d2: it adds a scheduler thread pool and a
//! health-check policy we do not need; the pool is forty lines over a
//! `Mutex<Vec<Client>>` and a `Condvar`.
//!
//! **Retries.** A transaction is a closure run from `BEGIN` to `COMMIT`. It
//! is run again, on a fresh connection when the old one died, when
//! PostgreSQL reports a serialisation failure (`40001`), a deadlock
//! (`40P01`) or a foreign-key violation (`23503`: a body cleaned up by one
//! node while another APPENDs the same bytes), or when the connection was lost *before* `COMMIT` was sent (the
//! server then rolled the transaction back, so running it again cannot apply
//! it twice). A connection lost *during* `COMMIT` is the one ambiguous case:
//! it is reported as [`StoreErrorKind::Unavailable`] and never retried.
//!
//! **Stale statements.** A prepared statement whose table changed shape
//! since it was prepared (another node's migration, a hand edit) fails with
//! "cached plan must not change result type" (`0A000`) every time it runs.
//! On that code the connection's statement cache is emptied and the
//! transaction run again, once, so the statements are prepared against the
//! schema as it is now (and a column this program cannot read then fails
//! in the row readers, see the `row` module, not forever in PostgreSQL).

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls, Row, Statement};

use imap_server_core::{StoreError, StoreErrorKind};

/// How long a call waits for a pooled connection when all are busy before it
/// fails with [`StoreErrorKind::Unavailable`].
pub const POOL_WAIT: Duration = Duration::from_secs(30);

/// How many times a transaction is run again after a retryable failure
/// (serialisation failure, deadlock, connection lost before COMMIT).
pub const MAX_RETRIES: u32 = 8;

/// The first pause before a retry; it doubles with each retry.
const RETRY_BACKOFF: Duration = Duration::from_millis(2);

/// How long opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Pool sizing.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Most connections open at once (the listener's connection is extra).
    pub max_connections: usize,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
        }
    }
}

/// One client and its prepared statements (keyed by their SQL text, which is
/// always a `&'static str` of this crate).
pub(crate) struct Conn {
    client: Client,
    stmts: HashMap<&'static str, Statement>,
}

struct PoolState {
    idle: Vec<Conn>,
    open: usize,
}

/// The pool.
pub(crate) struct Pool {
    config: postgres::Config,
    max: usize,
    state: Mutex<PoolState>,
    freed: Condvar,
}

/// Errors inside a transaction: a store error to pass on, a database error
/// (maybe retryable), or a failed COMMIT.
#[derive(Debug)]
pub(crate) enum Error {
    /// A refusal decided by the store (no such mailbox, ...).
    Store(StoreError),
    /// A database error.
    Pg(postgres::Error),
    /// COMMIT failed; whether it took effect is unknown if the connection
    /// was lost.
    Commit(postgres::Error),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Self::Pg(e)
    }
}

/// Whether `e` means the connection (or the server) went away.
pub(crate) fn is_connection_error(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        let c = code.code();
        // Class 08: connection exception; 57P0x: admin/crash shutdown,
        // cannot connect now; 53: insufficient resources.
        return c.starts_with("08") || c.starts_with("57P0") || c.starts_with("53");
    }
    // No SQLSTATE: an I/O error (or a timeout) unless it is one of our own
    // conversion errors, whose source is not io::Error.
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Whether running the transaction again may succeed: a serialisation
/// failure, a deadlock, a lost connection (before COMMIT), or a foreign-key
/// violation (a message body removed by a concurrent clean-up between
/// APPEND's upsert of it and the message row, or taken by a concurrent
/// APPEND while the clean-up removed it: run again, each sees the other).
fn is_retryable(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
        || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
        || e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION)
        || is_connection_error(e)
}

/// Whether `e` may mean a cached statement outlived a schema change (see
/// the module docs). PostgreSQL reports that as `feature_not_supported`;
/// its other uses fail again on the fresh statement, which costs one run.
fn is_stale_statement(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED)
}

/// The store error a database error becomes.
pub(crate) fn store_error(e: postgres::Error) -> StoreError {
    let kind = if is_connection_error(&e) || is_retryable(&e) {
        StoreErrorKind::Unavailable
    } else if e.code() == Some(&SqlState::PROGRAM_LIMIT_EXCEEDED) {
        StoreErrorKind::Limit
    } else {
        StoreErrorKind::Internal
    };
    let text = match kind {
        StoreErrorKind::Unavailable => "the mail database is unavailable".to_owned(),
        _ => "mail database error".to_owned(),
    };
    StoreError::new(kind, text).with_source(e)
}

impl Error {
    fn into_store(self) -> StoreError {
        match self {
            Self::Store(e) => e,
            Self::Pg(e) => store_error(e),
            Self::Commit(e) if is_connection_error(&e) => StoreError::new(
                StoreErrorKind::Unavailable,
                "the mail database went away during COMMIT; the change may not have been made",
            )
            .with_source(e),
            Self::Commit(e) => store_error(e),
        }
    }
}

/// How a transaction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// READ COMMITTED, writing: writers serialise on the rows they lock.
    Write,
    /// REPEATABLE READ, read only: several statements see one snapshot.
    Read,
    /// No explicit transaction: each statement on its own (one round trip
    /// for a one-statement read, instead of three with BEGIN and COMMIT).
    Auto,
}

/// A transaction (or, in [`Mode::Auto`], the bare connection) with the
/// connection's statement cache.
pub(crate) struct Tx<'a> {
    tx: Inner<'a>,
    stmts: &'a mut HashMap<&'static str, Statement>,
}

enum Inner<'a> {
    Tx(postgres::Transaction<'a>),
    Client(&'a mut Client),
}

impl Inner<'_> {
    fn prepare(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        match self {
            Self::Tx(t) => t.prepare(sql),
            Self::Client(c) => c.prepare(sql),
        }
    }

    fn query(
        &mut self,
        s: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        match self {
            Self::Tx(t) => t.query(s, params),
            Self::Client(c) => c.query(s, params),
        }
    }

    fn query_opt(
        &mut self,
        s: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        match self {
            Self::Tx(t) => t.query_opt(s, params),
            Self::Client(c) => c.query_opt(s, params),
        }
    }

    fn query_one(
        &mut self,
        s: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        match self {
            Self::Tx(t) => t.query_one(s, params),
            Self::Client(c) => c.query_one(s, params),
        }
    }

    fn execute(
        &mut self,
        s: &Statement,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        match self {
            Self::Tx(t) => t.execute(s, params),
            Self::Client(c) => c.execute(s, params),
        }
    }
}

impl Tx<'_> {
    fn stmt(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        self.stmts.insert(sql, s.clone());
        Ok(s)
    }

    /// Rows of a query.
    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let s = self.stmt(sql)?;
        self.tx.query(&s, params)
    }

    /// The row of a query that returns at most one.
    pub(crate) fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let s = self.stmt(sql)?;
        self.tx.query_opt(&s, params)
    }

    /// The row of a query that returns exactly one.
    pub(crate) fn query_one(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        let s = self.stmt(sql)?;
        self.tx.query_one(&s, params)
    }

    /// Rows affected by a statement.
    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let s = self.stmt(sql)?;
        self.tx.execute(&s, params)
    }
}

impl Pool {
    pub(crate) fn new(config: postgres::Config, options: PoolOptions) -> Self {
        Self {
            config,
            max: options.max_connections.max(1),
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Open a new client (not counted in the pool).
    pub(crate) fn connect(&self) -> Result<Client, postgres::Error> {
        self.config.connect(NoTls)
    }

    fn get(&self) -> Result<Conn, StoreError> {
        let deadline = Instant::now() + POOL_WAIT;
        let mut st = self.lock();
        loop {
            if let Some(c) = st.idle.pop() {
                return Ok(c);
            }
            if st.open < self.max {
                st.open += 1;
                drop(st);
                return match self.connect() {
                    Ok(client) => Ok(Conn {
                        client,
                        stmts: HashMap::new(),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(StoreError::new(
                            StoreErrorKind::Unavailable,
                            "cannot connect to the mail database",
                        )
                        .with_source(e))
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::new(
                    StoreErrorKind::Unavailable,
                    "all mail database connections are busy",
                ));
            }
            st = self
                .freed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn put(&self, c: Conn) {
        let mut st = self.lock();
        if c.client.is_closed() {
            st.open -= 1;
        } else {
            st.idle.push(c);
        }
        drop(st);
        self.freed.notify_one();
    }

    /// Drop every idle connection (after a failure that suggests they are
    /// all dead: the server restarted).
    fn drop_idle(&self) {
        let mut st = self.lock();
        let n = st.idle.len();
        st.idle.clear();
        st.open -= n;
        drop(st);
        self.freed.notify_all();
    }

    /// Run `f` in a transaction, retrying as the module docs say.
    pub(crate) fn run<T>(
        &self,
        mode: Mode,
        mut f: impl FnMut(&mut Tx<'_>) -> Result<T, Error>,
    ) -> Result<T, StoreError> {
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            let mut conn = self.get()?;
            let r = run_once(&mut conn, mode, &mut f);
            let stale = matches!(&r, Err(Error::Pg(e)) if is_stale_statement(e));
            if stale {
                conn.stmts.clear();
            }
            self.put(conn);
            match r {
                Ok(v) => return Ok(v),
                Err(Error::Pg(_)) if stale && !refreshed => refreshed = true,
                Err(Error::Pg(e)) if is_retryable(&e) && attempt < MAX_RETRIES => {
                    if is_connection_error(&e) {
                        self.drop_idle();
                    } else {
                        std::thread::sleep(RETRY_BACKOFF * 2u32.pow(attempt.min(8)));
                    }
                    attempt += 1;
                }
                Err(e) => {
                    if let Error::Pg(pe) | Error::Commit(pe) = &e {
                        if is_connection_error(pe) {
                            self.drop_idle();
                        }
                    }
                    return Err(e.into_store());
                }
            }
        }
    }
}

fn run_once<T>(
    conn: &mut Conn,
    mode: Mode,
    f: &mut impl FnMut(&mut Tx<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let Conn { client, stmts } = conn;
    let tx = match mode {
        Mode::Write => Inner::Tx(client.transaction()?),
        Mode::Read => Inner::Tx(
            client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?,
        ),
        Mode::Auto => Inner::Client(client),
    };
    let mut tx = Tx { tx, stmts };
    let v = f(&mut tx)?;
    if let Inner::Tx(t) = tx.tx {
        t.commit().map_err(Error::Commit)?;
    }
    Ok(v)
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("Pool")
            .field("max", &self.max)
            .field("open", &st.open)
            .field("idle", &st.idle.len())
            .finish()
    }
}
