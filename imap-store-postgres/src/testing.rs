//! A private PostgreSQL cluster for tests: `initdb` in a temporary
//! directory, trust authentication, listening on a free loopback port and on
//! a unix socket inside that directory, stopped and removed at the end.
//!
//! The binaries are looked up on `PATH`, then under
//! `/usr/lib/postgresql/*/bin` (where Debian's `postgresql` package puts
//! them, off `PATH`). `initdb` refuses to run as root: as root the directory
//! is given to the `postgres` user (Debian's package makes it) or `nobody`,
//! and `initdb`/`pg_ctl` run through `runuser -u USER --`.
//!
//! Teardown: [`TestCluster`] runs `pg_ctl stop -m immediate` and removes the
//! directory when dropped (also when a test panics). The cluster that
//! [`TestCluster::shared`] keeps for a whole test binary lives in a `static`,
//! which is never dropped; so every cluster also has a *reaper*: a small
//! shell process that waits for its standard input to close, which happens
//! when the test process exits however it exits (even `kill -9`), and then
//! stops the cluster and removes the directory.
//!
//! Tests that need PostgreSQL call [`TestCluster::shared`]; it returns
//! `None`, after printing why, only when no `initdb` is installed; any other
//! failure to start panics, so a broken set-up is never a silent pass.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The database superuser the test cluster is made with.
pub const SUPERUSER: &str = "imaprs";

/// The first loopback port tried for a cluster; ports up to
/// [`PORT_RANGE_END`] (exclusive) are tried from a point that depends on the
/// process id, so that parallel test binaries rarely collide. The
/// environment variable [`PORTS_ENV`] overrides the range.
pub const PORT_RANGE_START: u16 = 25000;
/// See [`PORT_RANGE_START`].
pub const PORT_RANGE_END: u16 = 26000;

/// An environment variable naming the loopback ports test clusters may use,
/// as `FIRST-LAST` (both included), for machines where several people share
/// loopback and each has a range: `IMAP_RS_PG_TEST_PORTS=15100-15199`.
/// Unset (or not of that form), [`PORT_RANGE_START`]..[`PORT_RANGE_END`].
pub const PORTS_ENV: &str = "IMAP_RS_PG_TEST_PORTS";

/// The ports to try: [`PORTS_ENV`] or the default range.
fn port_range() -> (u16, u16) {
    let from_env = std::env::var(PORTS_ENV).ok().and_then(|v| {
        let (a, b) = v.trim().split_once('-')?;
        let (a, b): (u16, u16) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        (a <= b && b < u16::MAX).then_some((a, b + 1))
    });
    from_env.unwrap_or((PORT_RANGE_START, PORT_RANGE_END))
}

/// How many times starting the server is tried (another process may take
/// the port between the check and the start).
const START_ATTEMPTS: usize = 5;

/// Server settings of a test cluster: no `fsync` (the data is thrown away;
/// a crash of the server *process*, as `pg_ctl stop -m immediate`, still
/// loses nothing committed, since WAL is written at commit and only the
/// machine crashing would lose it), room for many connections.
const SERVER_OPTIONS: &str = "-c fsync=off -c full_page_writes=off \
     -c max_connections=300 -c shared_buffers=32MB";

/// A running private cluster. See the module docs.
#[derive(Debug)]
pub struct TestCluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    run_as: Option<String>,
    reaper: Option<Child>,
}

fn unique_suffix() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`, if installed.
pub fn find_bin_dir() -> Option<PathBuf> {
    let has_all = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| d.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let initdb = d.join("initdb");
            if initdb.is_file() {
                // Debian links initdb into PATH; the other tools sit beside
                // the link's target.
                let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
                if let Some(p) = real.parent() {
                    if has_all(p) {
                        return Some(p.to_path_buf());
                    }
                }
                if has_all(&d) {
                    return Some(d);
                }
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_all(&bin).then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg(name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port(attempt: usize) -> Option<u16> {
    let (first, end) = port_range();
    let span = u32::from(end - first);
    let start = std::process::id()
        .wrapping_mul(7919)
        .wrapping_add((attempt as u32).wrapping_mul(97))
        % span;
    (0..span)
        .map(|i| first + ((start + i) % span) as u16)
        .find(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok())
}

impl TestCluster {
    /// The cluster shared by the tests of this test binary, started on first
    /// use; `None` (with the reason printed) when PostgreSQL is not
    /// installed. Panics if it is installed but cannot be started.
    pub fn shared() -> Option<&'static Self> {
        static SHARED: OnceLock<Option<TestCluster>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let Some(bin) = find_bin_dir() else {
                    eprintln!(
                        "SKIPPED: PostgreSQL tests need initdb, pg_ctl and postgres (on PATH or \
                         under /usr/lib/postgresql/*/bin); install Debian's `postgresql` package"
                    );
                    return None;
                };
                Some(Self::start(&bin).unwrap_or_else(|e| panic!("test PostgreSQL cluster: {e}")))
            })
            .as_ref()
    }

    /// Make and start a new cluster with the binaries in `bin`.
    pub fn start(bin: &Path) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("imap-rs-pg-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let run_as = if is_root() {
            let user = ["postgres", "nobody"]
                .into_iter()
                .find(|u| user_exists(u))
                .ok_or("running as root, and neither `postgres` nor `nobody` exists")?;
            let st = Command::new("chown")
                .args([&format!("{user}:"), dir.to_str().unwrap_or_default()])
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !st.success() {
                return Err(format!("chown {user} {} failed", dir.display()));
            }
            Some(user.to_owned())
        } else {
            None
        };
        let mut cluster = Self {
            dir,
            bin: bin.to_path_buf(),
            port: 0,
            run_as,
            reaper: None,
        };
        cluster.reaper = cluster.spawn_reaper();
        let data = cluster.data_dir();
        cluster.run_tool(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let mut last = String::new();
        for attempt in 0..START_ATTEMPTS {
            let port = free_port(attempt).ok_or("no free loopback port")?;
            cluster.port = port;
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} {SERVER_OPTIONS}",
                cluster.dir.display()
            );
            let log = cluster.dir.join("server.log");
            match cluster.run_tool(
                "pg_ctl",
                &[
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    &data,
                    "-l",
                    log.to_str().unwrap_or_default(),
                    "-o",
                    &opts,
                ],
            ) {
                Ok(()) => return Ok(cluster),
                Err(e) => {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    last = format!("{e}\nserver log:\n{log}");
                }
            }
        }
        Err(last)
    }

    fn data_dir(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn run_tool(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let out = self
            .tool(name)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{name}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{name} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// The shell reaper (see the module docs).
    fn spawn_reaper(&self) -> Option<Child> {
        let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
        let pg_ctl = self.bin.join("pg_ctl").to_string_lossy().into_owned();
        let prefix = match &self.run_as {
            Some(u) => format!("runuser -u {} -- ", quote(u)),
            None => String::new(),
        };
        let script = format!(
            "cat >/dev/null; {prefix}{} stop -D {} -m immediate >/dev/null 2>&1; rm -rf {}",
            quote(&pg_ctl),
            quote(&self.data_dir()),
            quote(&self.dir.to_string_lossy()),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    }

    /// The loopback TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection string of database `db` over the unix socket.
    pub fn socket_url(&self, db: &str) -> String {
        format!(
            "host={} port={} user={SUPERUSER} dbname={db}",
            self.dir.display(),
            self.port
        )
    }

    /// The `postgres://` URL of database `db` over loopback TCP.
    pub fn tcp_url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Create a fresh, empty database; returns its name.
    pub fn create_database(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut client = postgres::Client::connect(&self.socket_url("postgres"), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the test cluster: {e}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        name
    }

    /// Stop the server now (`pg_ctl stop -m immediate`); the directory stays
    /// until drop. For tests of a database that goes away.
    pub fn stop(&self) -> Result<(), String> {
        self.run_tool(
            "pg_ctl",
            &["stop", "-D", &self.data_dir(), "-m", "immediate"],
        )
    }

    /// Start the server again after [`TestCluster::stop`], on the same port.
    pub fn restart(&self) -> Result<(), String> {
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} {SERVER_OPTIONS}",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        self.run_tool(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                &self.data_dir(),
                "-l",
                log.to_str().unwrap_or_default(),
                "-o",
                &opts,
            ],
        )
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(mut reaper) = self.reaper.take() {
            if let Some(mut stdin) = reaper.stdin.take() {
                let _ = stdin.flush();
            }
            let _ = reaper.wait();
        }
    }
}
