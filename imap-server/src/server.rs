//! The builder, the accept loops and shutdown.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use imap_server_core::{Authenticator, Mailstore, ServerConfig};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use crate::connection::{serve, Online, ShutdownReceiver};
use crate::{Limits, PlaintextAuth, StoreCalls};

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Listener {
    /// IMAP in plaintext (port 143), with STARTTLS offered when the server has
    /// a TLS configuration ([`ServerBuilder::tls`]; RFC 9051 §6.2.1).
    Plain,
    /// IMAP over implicit TLS (port 993, RFC 8314); needs
    /// [`ServerBuilder::tls`].
    ImplicitTls,
}

/// The text of the `* BYE` every client gets at shutdown, unless
/// [`ServerBuilder::shutdown_text`] sets another.
pub const SHUTDOWN_TEXT: &str = "Server shutting down";

/// Sets up a [`Server`]: the store, the authenticator, TLS, limits and the
/// listeners. See the [crate documentation](crate) for an example.
pub struct ServerBuilder {
    store: Arc<dyn Mailstore>,
    auth: Arc<dyn Authenticator>,
    config: ServerConfig,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    limits: Limits,
    plaintext_auth: PlaintextAuth,
    store_calls: StoreCalls,
    shutdown_text: String,
    addrs: Vec<(SocketAddr, Listener)>,
    listeners: Vec<(TcpListener, Listener)>,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("config", &self.config)
            .field("tls", &self.tls.is_some())
            .field("limits", &self.limits)
            .field("plaintext_auth", &self.plaintext_auth)
            .field("store_calls", &self.store_calls)
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// A server over `store`, checking passwords with `auth`. Defaults: no
    /// TLS, [`Limits::default`], [`PlaintextAuth::Loopback`],
    /// [`StoreCalls::BlockInPlace`], and the core's
    /// [`ServerConfig::default`] with COMPRESS=DEFLATE offered.
    pub fn new(store: Arc<dyn Mailstore>, auth: Arc<dyn Authenticator>) -> Self {
        let mut config = ServerConfig::default();
        config.compress = true;
        Self {
            store,
            auth,
            config,
            tls: None,
            limits: Limits::default(),
            plaintext_auth: PlaintextAuth::default(),
            store_calls: StoreCalls::default(),
            shutdown_text: SHUTDOWN_TEXT.to_owned(),
            addrs: Vec::new(),
            listeners: Vec::new(),
        }
    }

    /// The session settings (greeting, server name, session limits, whether
    /// COMPRESS=DEFLATE is offered). The driver sets `starttls` and
    /// `plaintext_auth` per connection: STARTTLS is offered on
    /// [`Listener::Plain`] when there is a TLS configuration, and plaintext
    /// logins follow [`ServerBuilder::plaintext_auth`].
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// The rustls configuration for STARTTLS and implicit TLS. Offer ALPN
    /// `imap` in it (`alpn_protocols`, RFC 7301) to stop cross-protocol
    /// attacks.
    pub fn tls(mut self, tls: Arc<tokio_rustls::rustls::ServerConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The driver's limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Where logins are allowed before TLS.
    pub fn plaintext_auth(mut self, policy: PlaintextAuth) -> Self {
        self.plaintext_auth = policy;
        self
    }

    /// How the session (and so the store and the authenticator) is called;
    /// see [`StoreCalls`].
    pub fn store_calls(mut self, calls: StoreCalls) -> Self {
        self.store_calls = calls;
        self
    }

    /// The text of the `* BYE` sent to every client at shutdown (default
    /// [`SHUTDOWN_TEXT`]).
    pub fn shutdown_text(mut self, text: impl Into<String>) -> Self {
        self.shutdown_text = text.into();
        self
    }

    /// Listen on `addr` (bound by [`ServerBuilder::bind`]). Port 0 picks a
    /// free port: see [`Server::local_addrs`].
    pub fn listen(mut self, addr: SocketAddr, kind: Listener) -> Self {
        self.addrs.push((addr, kind));
        self
    }

    /// Serve an already bound listener.
    pub fn listener(mut self, listener: TcpListener, kind: Listener) -> Self {
        self.listeners.push((listener, kind));
        self
    }

    /// Bind the [`listen`](ServerBuilder::listen) addresses and make the
    /// server. Fails when an address cannot be bound (the error names it),
    /// when there is no listener at all, or when an implicit-TLS listener
    /// has no TLS configuration.
    pub async fn bind(mut self) -> io::Result<Server> {
        for (addr, kind) in std::mem::take(&mut self.addrs) {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("{addr}: {e}")))?;
            self.listeners.push((listener, kind));
        }
        if self.listeners.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no listener: call ServerBuilder::listen or ServerBuilder::listener",
            ));
        }
        if self.tls.is_none() && self.listeners.iter().any(|l| l.1 == Listener::ImplicitTls) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an implicit-TLS listener needs ServerBuilder::tls",
            ));
        }
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let configs = SessionConfigs::new(&self.config, self.tls.is_some());
        let limits = self.limits;
        let slots = Arc::new(Semaphore::new(permits(&limits)));
        Ok(Server {
            shutdown: ShutdownHandle {
                tx: Arc::new(shutdown_tx),
                slots: Arc::clone(&slots),
                max: permits(&limits),
                open_at_shutdown: Arc::default(),
            },
            slots,
            shared: Arc::new(Shared {
                store: self.store,
                auth: self.auth,
                tls: self.tls.map(TlsAcceptor::from),
                configs,
                plaintext_auth: self.plaintext_auth,
                store_calls: self.store_calls,
                shutdown_text: self.shutdown_text,
                online: Online::default(),
                shutdown: shutdown_rx,
                limits,
            }),
            listeners: self.listeners,
        })
    }
}

/// Connection slots: [`Limits::max_connections`], within what a semaphore
/// (and `acquire_many`) can count.
fn permits(limits: &Limits) -> usize {
    limits
        .max_connections
        .min(u32::MAX as usize)
        .min(Semaphore::MAX_PERMITS)
}

/// The four session configurations (TLS or not × plaintext login or not),
/// made once and shared by every connection.
struct SessionConfigs {
    /// Indexed by `[implicit_tls][plaintext_auth]`.
    configs: [[Arc<ServerConfig>; 2]; 2],
}

impl SessionConfigs {
    fn new(base: &ServerConfig, have_tls: bool) -> Self {
        let make = |implicit_tls: bool, plaintext_auth: bool| {
            let mut config = base.clone();
            config.starttls = have_tls && !implicit_tls;
            config.plaintext_auth = plaintext_auth;
            Arc::new(config)
        };
        Self {
            configs: [
                [make(false, false), make(false, true)],
                [make(true, false), make(true, true)],
            ],
        }
    }
}

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Mailstore>,
    pub(crate) auth: Arc<dyn Authenticator>,
    pub(crate) tls: Option<TlsAcceptor>,
    configs: SessionConfigs,
    plaintext_auth: PlaintextAuth,
    pub(crate) store_calls: StoreCalls,
    pub(crate) shutdown_text: String,
    pub(crate) online: Online,
    pub(crate) shutdown: ShutdownReceiver,
    pub(crate) limits: Limits,
}

impl Shared {
    /// The session configuration of a connection from `peer`.
    pub(crate) fn session_config(&self, implicit_tls: bool, peer: SocketAddr) -> Arc<ServerConfig> {
        let plaintext = match self.plaintext_auth {
            PlaintextAuth::Never => false,
            PlaintextAuth::Loopback => peer.ip().is_loopback(),
            PlaintextAuth::Always => true,
        };
        Arc::clone(&self.configs.configs[usize::from(implicit_tls)][usize::from(plaintext)])
    }
}

/// A server with bound listeners, ready to [`run`](Server::run).
pub struct Server {
    shared: Arc<Shared>,
    listeners: Vec<(TcpListener, Listener)>,
    slots: Arc<Semaphore>,
    shutdown: ShutdownHandle,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addrs", &self.local_addrs())
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

/// Stops a [`Server`]: it stops accepting, sends `* BYE` to every client
/// and [`Server::run`] returns once they are gone (or after
/// [`Limits::shutdown_grace`]). Cheap to clone; usable from any thread.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
    slots: Arc<Semaphore>,
    max: usize,
    /// Connections open when the shutdown started.
    open_at_shutdown: Arc<OnceLock<usize>>,
}

impl ShutdownHandle {
    /// Start the shutdown (again is harmless).
    pub fn shutdown(&self) {
        self.open_at_shutdown
            .get_or_init(|| self.max - self.slots.available_permits());
        self.tx.send_replace(true);
    }

    /// Whether the shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        *self.tx.borrow()
    }
}

/// How a [`Server::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Connections open when the shutdown started.
    pub open_at_shutdown: usize,
    /// Connections still open when [`Limits::shutdown_grace`] ran out (0
    /// when every client was gone in time).
    pub still_open: usize,
}

impl Server {
    /// The bound addresses and what each serves.
    pub fn local_addrs(&self) -> Vec<(SocketAddr, Listener)> {
        self.listeners
            .iter()
            .filter_map(|(l, kind)| l.local_addr().ok().map(|a| (a, *kind)))
            .collect()
    }

    /// A handle that stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// How many connections are open now.
    pub fn open_connections(&self) -> usize {
        permits(&self.shared.limits) - self.slots.available_permits()
    }

    /// Serve until `signal` completes, then shut down as
    /// [`ShutdownHandle::shutdown`] does.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) -> ShutdownReport {
        let handle = self.shutdown_handle();
        let run = self.run();
        tokio::pin!(run);
        tokio::select! {
            report = &mut run => return report,
            () = signal => handle.shutdown(),
        }
        run.await
    }

    /// Serve every listener (one accept task each, a task per connection)
    /// until a [`ShutdownHandle`] stops the server; then close the
    /// listeners, send `* BYE` to every client (a command in progress
    /// finishes first) and wait for them at most
    /// [`Limits::shutdown_grace`].
    pub async fn run(self) -> ShutdownReport {
        for (addr, kind) in self.local_addrs() {
            match kind {
                Listener::Plain if self.shared.tls.is_some() => {
                    tracing::info!(%addr, "listening for IMAP (STARTTLS)");
                }
                Listener::Plain => tracing::info!(%addr, "listening for IMAP (plaintext)"),
                Listener::ImplicitTls => tracing::info!(%addr, "listening for IMAP over TLS"),
            }
        }
        let next_id = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut accepting = Vec::new();
        for (listener, kind) in self.listeners {
            accepting.push(tokio::spawn(accept_loop(
                listener,
                kind == Listener::ImplicitTls,
                Arc::clone(&self.shared),
                Arc::clone(&self.slots),
                Arc::clone(&next_id),
            )));
        }
        for task in accepting {
            // An accept loop ends at shutdown (or panics: then stop too).
            if task.await.is_err() {
                self.shutdown.shutdown();
            }
        }
        // Every accept loop is gone: the listeners are closed.
        let max = permits(&self.shared.limits);
        let open_at_shutdown = *self
            .shutdown
            .open_at_shutdown
            .get_or_init(|| max - self.slots.available_permits());
        tracing::info!("shutting down: no longer accepting connections");
        if open_at_shutdown > 0 {
            tracing::info!(
                open = open_at_shutdown,
                "saying goodbye to the open connections"
            );
        }
        let all = u32::try_from(max).unwrap_or(u32::MAX);
        let grace = self.shared.limits.shutdown_grace;
        let still_open = match tokio::time::timeout(grace, self.slots.acquire_many(all)).await {
            Ok(_) => {
                tracing::info!("shutdown complete");
                0
            }
            Err(_) => {
                let open = max - self.slots.available_permits();
                tracing::warn!(
                    ?grace,
                    open,
                    "connections still open after the grace period"
                );
                open
            }
        };
        ShutdownReport {
            open_at_shutdown,
            still_open,
        }
    }
}

/// Accept connections on one listener until shutdown.
async fn accept_loop(
    listener: TcpListener,
    implicit_tls: bool,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    next_id: Arc<std::sync::atomic::AtomicU64>,
) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        if *shutdown.borrow_and_update() {
            return;
        }
        let accepted = tokio::select! {
            _ = shutdown.changed() => return,
            r = listener.accept() => r,
        };
        let (tcp, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off a little.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(shared.limits.accept_error_pause).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(
                %peer,
                limit = shared.limits.max_connections,
                "too many connections: turned away"
            );
            if !implicit_tls {
                let _ = tcp.try_write(b"* BYE [UNAVAILABLE] Too many connections\r\n");
            }
            continue;
        };
        let id = next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let span = tracing::info_span!("conn", id, %peer, tls = implicit_tls);
        tokio::spawn(serve(tcp, peer, implicit_tls, Arc::clone(&shared), permit).instrument(span));
    }
}
