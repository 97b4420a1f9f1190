//! Shared by the server integration tests: start an example server binary on
//! free loopback ports (killed on drop), a temporary directory, and a minimal
//! line-based IMAP client.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Read timeout of [`Client`].
pub(crate) const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

/// A directory removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "imap-rs-{label}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A Python with imaplib (`python3`, else `python`), if there is one.
pub(crate) fn python() -> Option<&'static str> {
    python_with("imaplib")
}

/// A Python (`python3`, else `python`) that can `import {modules}`, if there
/// is one.
pub(crate) fn python_with(modules: &str) -> Option<&'static str> {
    let import = format!("import {modules}");
    ["python3", "python"]
        .into_iter()
        .find(|p| have(p, &["-c", &import]))
}

/// Whether `cmd args` runs and exits with success (a tool is installed).
pub(crate) fn have(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run `python -c script args…`, killed after `limit`; fails the test if
/// the script fails, else returns what it printed.
pub(crate) fn run_python(python: &str, script: &str, args: &[&str], limit: Duration) -> String {
    let out = run_with_timeout(Command::new(python).args(["-c", script]).args(args), limit);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the Python script failed ({}):\n{}\n{stdout}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// What a script printed after `name ` on its line `name …` (the scripts
/// print one line per step).
pub(crate) fn step<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no step {name} in:\n{out}"))
}

/// The path of an example binary of this package, brought up to date.
///
/// `cargo test` builds the examples before the tests, but `cargo test --test
/// NAME` does not: so `cargo build --example NAME` runs once per test binary
/// (a no-op when the binary is fresh), with the test binary's profile.
pub(crate) fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    // current_exe is target/<profile>/deps/<test>-<hash>.
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary in target/<profile>/deps");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    if !built.iter().any(|b| b == name) {
        let mut cmd = Command::new(env!("CARGO"));
        // `--workspace`: the features `cargo test --workspace` unified, so
        // that this build finds its artifacts fresh instead of rebuilding.
        cmd.args(["build", "--quiet", "--workspace", "--example", name]);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        match cmd.status() {
            Ok(status) if status.success() => {}
            // An existing binary may still do (say, offline with a stale lock).
            _ if path.exists() => eprintln!(
                "NOTE: cargo build --example {name} failed; using {}",
                path.display()
            ),
            other => panic!("cargo build --example {name} failed: {other:?}"),
        }
        built.push(name.to_owned());
    }
    assert!(path.exists(), "{} not found", path.display());
    path
}

/// Run a command to completion, killing it after `limit`. Its output is
/// read while it runs, so a chatty command cannot block on a full pipe.
pub(crate) fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} still running after {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&stderr.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("read stdout"),
        stderr: stderr.join().expect("read stderr"),
    }
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A running example server; killed on drop (its log is printed if the test
/// is failing).
pub(crate) struct Server {
    child: Child,
    /// The plaintext (STARTTLS) port.
    pub(crate) port: u16,
    /// The implicit-TLS port (`imap-server` only).
    pub(crate) tls_port: u16,
    /// The `--data` directory (`imap-server` only).
    pub(crate) data: PathBuf,
    logs: TempDir,
    _own_data: Option<TempDir>,
}

impl Server {
    /// `imap-server` with a fresh data directory and `args`.
    pub(crate) fn start(args: &[&str]) -> Self {
        let data = TempDir::new("data");
        let mut server = Self::start_in(data.path(), args);
        server._own_data = Some(data);
        server
    }

    /// `imap-server` with the data directory `data` and `args`.
    pub(crate) fn start_in(data: &Path, args: &[&str]) -> Self {
        Self::launch("imap-server", Some(data), args)
    }

    /// `imap-server-blocking` with `args`.
    pub(crate) fn start_blocking(args: &[&str]) -> Self {
        Self::launch("imap-server-blocking", None, args)
    }

    fn launch(example: &str, data: Option<&Path>, args: &[&str]) -> Self {
        let binary = example_binary(example);
        let mut last_log = String::new();
        // A port picked free can be taken before the server binds it: retry.
        for _attempt in 0..5 {
            let (port, tls_port) = (free_port(), free_port());
            if port == tls_port {
                continue;
            }
            let logs = TempDir::new("log");
            let mut cmd = Command::new(&binary);
            cmd.arg("--listen").arg(format!("127.0.0.1:{port}"));
            if let Some(data) = data {
                cmd.arg("--tls-listen")
                    .arg(format!("127.0.0.1:{tls_port}"))
                    .arg("--data")
                    .arg(data);
            }
            cmd.args(args)
                .env("RUST_LOG", "debug")
                .stdin(Stdio::null())
                .stdout(fs::File::create(logs.path().join("stdout")).expect("stdout file"))
                .stderr(fs::File::create(logs.path().join("stderr")).expect("stderr file"));
            let child = cmd.spawn().expect("start the server");
            let mut server = Self {
                child,
                port,
                tls_port,
                data: data.map(Path::to_path_buf).unwrap_or_default(),
                logs,
                _own_data: None,
            };
            let ports: &[u16] = if data.is_some() {
                &[port, tls_port]
            } else {
                &[port]
            };
            match server.wait_listening(ports) {
                Ok(()) => return server,
                Err(log) => {
                    last_log = log;
                    if !last_log.contains("in use") {
                        break;
                    }
                }
            }
        }
        panic!("the server did not start; its log:\n{last_log}");
    }

    /// Wait until the server listens on every port; on early exit, its log.
    fn wait_listening(&mut self, ports: &[u16]) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}\n{}", self.stderr()));
            }
            // The servers log each listening address once bound: this also
            // tells our server from another process on a reused port.
            let log = self.stderr();
            if ports
                .iter()
                .all(|p| log.contains(&format!("addr=127.0.0.1:{p}")))
            {
                return Ok(());
            }
            if start.elapsed() > START_TIMEOUT {
                let _ = self.child.kill();
                return Err(format!(
                    "not listening after {START_TIMEOUT:?}\n{}",
                    self.stderr()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server printed on stdout.
    pub(crate) fn stdout(&self) -> String {
        fs::read_to_string(self.logs.path().join("stdout")).unwrap_or_default()
    }

    /// The server's log (stderr).
    pub(crate) fn stderr(&self) -> String {
        fs::read_to_string(self.logs.path().join("stderr")).unwrap_or_default()
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send SIGTERM and wait (at most 30 s) for the exit status.
    pub(crate) fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        self.wait_exit(Duration::from_secs(30))
            .expect("the server did not exit within 30 s of SIGTERM")
    }

    /// The exit status, if the server exits within `limit`.
    pub(crate) fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "----- server log -----\n{}\n----- end of server log -----",
                self.stderr()
            );
        }
    }
}

/// A minimal IMAP client: sends lines, reads response lines.
pub(crate) struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_tag: u32,
    /// The greeting line.
    pub(crate) greeting: String,
}

impl Client {
    /// Connect to a plaintext port and read the greeting.
    pub(crate) fn connect(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(CLIENT_TIMEOUT))
            .expect("set timeout");
        let writer = stream.try_clone().expect("clone socket");
        let mut client = Self {
            reader: BufReader::new(stream),
            writer,
            next_tag: 0,
            greeting: String::new(),
        };
        client.greeting = client.line();
        client
    }

    /// One response line (with its CRLF); empty at end of stream.
    pub(crate) fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .expect("read a response line");
        line
    }

    /// Send raw bytes.
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// Run a command; returns every line up to and including the tagged one.
    pub(crate) fn command(&mut self, command: &str) -> Vec<String> {
        self.next_tag += 1;
        let tag = format!("t{}", self.next_tag);
        self.send(format!("{tag} {command}\r\n").as_bytes());
        self.until_tagged(&tag)
    }

    /// Read lines until the one tagged `tag` (the last line returned).
    pub(crate) fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let prefix = format!("{tag} ");
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            assert!(!line.is_empty(), "connection closed; got so far: {lines:?}");
            let done = line.starts_with(&prefix);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Read lines until one contains `needle` (returned last).
    pub(crate) fn until_contains(&mut self, needle: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            assert!(
                !line.is_empty(),
                "connection closed waiting for {needle:?}; got {lines:?}"
            );
            let done = line.contains(needle);
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// Read everything up to the end of the stream.
    pub(crate) fn rest(&mut self) -> String {
        let mut rest = String::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                return rest;
            }
            rest.push_str(&line);
        }
    }
}

/// The last line of a command's response (the tagged status).
pub(crate) fn tagged(lines: &[String]) -> &str {
    lines.last().map_or("", String::as_str)
}

/// A private Dovecot started with `scripts/dovecot-loopback.sh` (plain text
/// on loopback, any user name, password `pass`), stopped on drop.
pub(crate) struct Dovecot {
    /// Its IMAP port on 127.0.0.1.
    pub(crate) port: u16,
    dir: PathBuf,
}

impl Dovecot {
    /// Start one; `None` (with a note on stderr) when Dovecot is not
    /// installed, so the calling test can skip.
    pub(crate) fn start() -> Option<Self> {
        let installed = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .iter()
            .any(|p| Path::new(p).exists())
            || Command::new("sh")
                .args(["-c", "command -v dovecot"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        if !installed {
            eprintln!("NOTE: dovecot is not installed; skipping the Dovecot test");
            return None;
        }
        // The daemon inherits the script's stdout and stderr and keeps them
        // open: they go to files, never to pipes a reader would wait on.
        let logs = TempDir::new("dovecot-start");
        let (out_path, err_path) = (logs.path().join("out"), logs.path().join("err"));
        let status = Command::new("bash")
            .arg(Self::script())
            .arg("start")
            .stdin(Stdio::null())
            .stdout(fs::File::create(&out_path).expect("create out"))
            .stderr(fs::File::create(&err_path).expect("create err"))
            .status()
            .expect("run dovecot-loopback.sh");
        let stdout = fs::read_to_string(&out_path).unwrap_or_default();
        let stderr = fs::read_to_string(&err_path).unwrap_or_default();
        assert!(status.success(), "dovecot-loopback.sh failed: {stderr}");
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {stdout}"))
                .to_owned()
        };
        let dovecot = Self {
            port: field("DOVECOT_PORT=").parse().expect("port"),
            dir: PathBuf::from(field("DOVECOT_DIR=")),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", dovecot.port)).is_err() {
            assert!(Instant::now() < deadline, "Dovecot does not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(dovecot)
    }

    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/dovecot-loopback.sh")
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(Self::script())
            .arg("stop")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
