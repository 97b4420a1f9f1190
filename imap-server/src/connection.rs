//! One connection, from accept to close: the driver loop around a
//! [`ServerConnection`].

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use imap_codec::deflate::Deflate;
use imap_server_core::{AuthError, Authenticator, Login, ServerConnection, ServerEvent, Waker};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::server::Shared;
use crate::{Limits, StoreCalls};

/// Who is logged in how many times, for
/// [`Limits::max_connections_per_user`].
pub(crate) type Online = Arc<Mutex<HashMap<String, usize>>>;

/// One connection, from accept to close (holds a connection slot).
pub(crate) async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    implicit_tls: bool,
    shared: Arc<Shared>,
    _slot: OwnedSemaphorePermit,
) {
    tracing::info!("connection opened");
    let started = Instant::now();
    let result = session(tcp, peer, implicit_tls, &shared).await;
    let duration = started.elapsed();
    match result {
        Ok(reason) => tracing::info!(reason, ?duration, "connection closed"),
        // What clients and port scanners cause: not the server's problem.
        Err(e) if is_client_side(&e) => {
            tracing::info!(error = %e, ?duration, "connection closed on a client error");
        }
        Err(e) => tracing::warn!(error = %e, ?duration, "connection closed on an error"),
    }
}

/// Errors a client causes: it went away, stalled, or spoke bad TLS.
fn is_client_side(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe | TimedOut | InvalidData
    )
}

/// What one connection's loop works with.
struct Io<'a> {
    stream: Stream,
    /// COMPRESS=DEFLATE, once the session has accepted it (RFC 4978).
    deflate: Option<Box<Deflate>>,
    limits: &'a Limits,
    calls: StoreCalls,
}

/// The session loop; returns why the connection ended.
///
/// Socket bytes go to [`ServerConnection::handle_input`]; after every input
/// the loop drains `poll_transmit` (and writes it all), then `poll_event`
/// (STARTTLS handshake, COMPRESS switched on, close), then sleeps until
/// `poll_timeout`, the next socket read, a store wake-up (IDLE) or shutdown.
async fn session(
    tcp: TcpStream,
    peer: SocketAddr,
    implicit_tls: bool,
    shared: &Shared,
) -> io::Result<&'static str> {
    let _ = tcp.set_nodelay(true);
    let limits = &shared.limits;
    let mut shutdown = shared.shutdown.clone();
    let stream = if implicit_tls {
        let Some(acceptor) = &shared.tls else {
            return Err(io::Error::other("implicit TLS without a TLS configuration"));
        };
        tokio::select! {
            tls = handshake(acceptor, tcp, limits) => Stream::Tls(Box::new(tls?)),
            _ = shutdown.changed() => return Ok("server shutdown during the TLS handshake"),
        }
    } else {
        Stream::Plain(tcp)
    };
    let mut io = Io {
        stream,
        deflate: None,
        limits,
        calls: shared.store_calls,
    };

    let notify = Arc::new(Notify::new());
    let waker: Waker = {
        let notify = Arc::clone(&notify);
        Arc::new(move || notify.notify_one())
    };
    let mut conn = ServerConnection::new(
        Arc::clone(&shared.store),
        Arc::new(ConnectionAuth {
            inner: Arc::clone(&shared.auth),
            online: Arc::clone(&shared.online),
            limit: limits.max_connections_per_user,
            slot: Mutex::new(None),
        }),
        shared.session_config(implicit_tls, peer),
        implicit_tls,
        waker,
        now(),
    );

    let mut shutting_down = *shutdown.borrow_and_update();
    if shutting_down {
        conn.shutdown(&shared.shutdown_text);
    }
    // Reads go straight from the socket to the session: the driver buffers
    // nothing, so no plaintext read before a STARTTLS switch can reach the
    // session afterwards (the session itself drops what was pipelined behind
    // STARTTLS in the same read).
    let mut reader = Reader::new(limits.read_buffer, implicit_tls);
    loop {
        io.send(&mut conn).await?;
        while let Some(event) = conn.poll_event() {
            match event {
                ServerEvent::StartTls => {
                    let (Stream::Plain(_), Some(acceptor)) = (&io.stream, &shared.tls) else {
                        return Err(io::Error::other("STARTTLS on a TLS connection"));
                    };
                    let Stream::Plain(tcp) = std::mem::replace(&mut io.stream, Stream::Closed)
                    else {
                        unreachable!("checked just above");
                    };
                    io.stream = tokio::select! {
                        tls = handshake(acceptor, tcp, limits) => Stream::Tls(Box::new(tls?)),
                        _ = shutdown.changed(), if !shutting_down => {
                            return Ok("server shutdown during the TLS handshake");
                        }
                    };
                    conn.tls_established();
                    // The handshake may have read the first command too.
                    reader.direct = true;
                    io.send(&mut conn).await?;
                }
                // The tagged OK went out uncompressed just above; from here
                // on both directions are compressed (RFC 4978 §3).
                ServerEvent::Compress => io.deflate = Some(Box::new(Deflate::new())),
                ServerEvent::Close => return io.close(&mut conn, shutting_down).await,
                other => tracing::debug!(?other, "unknown session event ignored"),
            }
        }
        if conn.is_closed() {
            return io.close(&mut conn, shutting_down).await;
        }

        let deadline = conn.poll_timeout();
        tokio::select! {
            _ = shutdown.changed(), if !shutting_down => {
                shutting_down = true;
                conn.shutdown(&shared.shutdown_text);
            }
            read = reader.read(&mut io.stream) => match read {
                Ok(0) => return Ok("client closed the connection"),
                Ok(_) => {
                    io.stream.quick_ack();
                    conn.set_wall_clock(unix_now());
                    let calls = io.calls;
                    let input = reader.filled();
                    match io.deflate.as_mut() {
                        Some(d) => calls
                            .call(|| d.inflate(input, |chunk| conn.handle_input(chunk, now())))
                            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
                        None => calls.call(|| conn.handle_input(input, now())),
                    }
                    reader.release();
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Ok("connection reset by the client");
                }
                Err(e) => return Err(e),
            },
            () = sleep_until(deadline) => io.calls.call(|| conn.handle_timeout(now())),
            // Of the sessions idling on one mailbox only the first woken
            // for a change reads the store (`ChangeHub`); the others need
            // no thread hand-off.
            () = notify.notified() => if conn.wakeup_needs_store() {
                io.calls.call(|| conn.handle_wakeup(now()));
            } else {
                conn.handle_wakeup(now());
            },
        }
    }
}

impl Io<'_> {
    /// Send what is pending, then close the socket.
    async fn close(
        &mut self,
        conn: &mut ServerConnection,
        shutting_down: bool,
    ) -> io::Result<&'static str> {
        self.send(conn).await?;
        let _ = tokio::time::timeout(self.limits.write_timeout, self.stream.shutdown()).await;
        Ok(if shutting_down {
            "server shutdown"
        } else {
            "session ended"
        })
    }

    /// Write everything the session has to send (deflated, with a sync flush
    /// per batch, once COMPRESS is on).
    async fn send(&mut self, conn: &mut ServerConnection) -> io::Result<()> {
        let mut wrote = false;
        let mut compressed = Vec::new();
        let calls = self.calls;
        // `poll_transmit` produces the next part of a large FETCH from the
        // store once the previous one has been taken.
        let poll = |conn: &mut ServerConnection| {
            if conn.transmit_needs_store() {
                calls.call(|| conn.poll_transmit(now()))
            } else {
                conn.poll_transmit(now())
            }
        };
        while let Some(bytes) = poll(conn) {
            match self.deflate.as_mut() {
                Some(d) => {
                    compressed.clear();
                    d.deflate(&bytes, &mut compressed)
                        .map_err(io::Error::other)?;
                    write_timeout(self.limits, self.stream.write_all(&compressed)).await?;
                }
                None => write_timeout(self.limits, self.stream.write_all(&bytes)).await?,
            }
            wrote = true;
        }
        if wrote {
            write_timeout(self.limits, self.stream.flush()).await?;
        }
        Ok(())
    }
}

async fn write_timeout<T>(
    limits: &Limits,
    f: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(limits.write_timeout, f)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "write timed out"))?
}

async fn handshake(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    limits: &Limits,
) -> io::Result<TlsStream<TcpStream>> {
    let tls = tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
        .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake failed: {e}")))?;
    let (_, session) = tls.get_ref();
    tracing::debug!(
        version = ?session.protocol_version(),
        cipher = ?session.negotiated_cipher_suite().map(|s| s.suite()),
        "TLS established"
    );
    Ok(tls)
}

/// Sleep until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// The session's clock: tokio's, so that it agrees with `sleep_until`.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The wall clock in seconds since the Unix epoch, for
/// [`ServerConnection::set_wall_clock`] (the session reads no clock itself).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A logged-in connection counted against
/// [`Limits::max_connections_per_user`].
struct UserSlot {
    online: Online,
    user: String,
}

impl UserSlot {
    fn enter(online: &Online, user: &str, limit: usize) -> Option<Self> {
        let mut map = online.lock().unwrap_or_else(PoisonError::into_inner);
        let count = map.entry(user.to_owned()).or_insert(0);
        if *count >= limit {
            if *count == 0 {
                map.remove(user);
            }
            return None;
        }
        *count += 1;
        Some(Self {
            online: Arc::clone(online),
            user: user.to_owned(),
        })
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut map = self.online.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = map.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.user);
            }
        }
    }
}

/// A connection's authenticator: asks the server's, then, for every login
/// (password or OAuth token), takes one of the user's
/// [`Limits::max_connections_per_user`] slots (held until the connection
/// ends), or refuses the login with `NO [UNAVAILABLE]`.
struct ConnectionAuth {
    inner: Arc<dyn Authenticator>,
    online: Online,
    limit: usize,
    slot: Mutex<Option<UserSlot>>,
}

impl Authenticator for ConnectionAuth {
    fn authenticate(&self, authzid: &str, user: &str, password: &[u8]) -> Result<Login, AuthError> {
        // Called from `handle_input`, so already under `StoreCalls::call`:
        // a slow salted hash does not stall the other connections.
        self.inner.authenticate(authzid, user, password)
    }

    fn still_valid(&self, login: &Login) -> bool {
        self.inner.still_valid(login)
    }

    /// Every login, by password or by OAuth token, takes a slot.
    fn admit(&self, login: Login) -> Result<Login, AuthError> {
        let login = self.inner.admit(login)?;
        let Some(slot) = UserSlot::enter(&self.online, &login.user, self.limit) else {
            tracing::warn!(
                user = login.user,
                limit = self.limit,
                "login refused: too many connections for this user"
            );
            return Err(AuthError::Unavailable);
        };
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(slot);
        Ok(login)
    }
}

/// A connection's read buffer, held only while bytes are being read: an
/// idle connection (thousands of IMAP IDLE clients) holds none.
///
/// The wait for input is a wait for the socket's readiness, without a
/// buffer; the buffer is taken when the socket has bytes and given back once
/// the session has them. A TLS stream may hold decrypted bytes the socket no
/// longer signals (after a read that filled the buffer, or a handshake that
/// read the first command too): then [`Reader::direct`] skips the readiness
/// wait and reads at once, keeping the buffer until a read leaves room.
struct Reader {
    buf: Vec<u8>,
    size: usize,
    /// Read without waiting for the socket's readiness first.
    direct: bool,
}

impl Reader {
    fn new(size: usize, implicit_tls: bool) -> Self {
        Self {
            buf: Vec::new(),
            size: size.max(1),
            direct: implicit_tls,
        }
    }

    /// Read some bytes (cancellation-safe: a read cancelled while waiting
    /// loses nothing). Returns how many; 0 at end of stream.
    async fn read(&mut self, stream: &mut Stream) -> io::Result<usize> {
        loop {
            if !self.direct {
                stream.readable().await?;
            }
            self.buf.clear();
            self.buf.reserve_exact(self.size);
            let room = self.buf.capacity();
            // One attempt: readiness can be stale (tokio clears it only when
            // a read would block), and a TLS record can be incomplete.
            let polled = {
                let mut attempt = std::pin::pin!(stream.read_buf(&mut self.buf));
                std::future::poll_fn(|cx| Poll::Ready(attempt.as_mut().poll(cx))).await
            };
            match polled {
                Poll::Ready(n) => {
                    let n = n?;
                    // A full buffer may have left decrypted bytes in a TLS
                    // stream.
                    self.direct = n == room && matches!(stream, Stream::Tls(_));
                    return Ok(n);
                }
                Poll::Pending => {
                    // Nothing after all: no buffer while waiting.
                    self.buf = Vec::new();
                    self.direct = false;
                }
            }
        }
    }

    /// The bytes of the last read.
    fn filled(&self) -> &[u8] {
        &self.buf
    }

    /// Give the buffer back unless the next read goes straight on.
    fn release(&mut self) {
        if self.direct {
            self.buf.clear();
        } else {
            self.buf = Vec::new();
        }
    }
}

/// The connection's byte stream: plaintext until STARTTLS, or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while the plaintext stream is handed to the TLS handshake.
    Closed,
}

impl Stream {
    /// Wait until the socket has something to read (or an error, or EOF).
    async fn readable(&self) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.readable().await,
            Self::Tls(tls) => tls.get_ref().0.readable().await,
            Self::Closed => Err(closed()),
        }
    }

    /// Acknowledge what was just read at once instead of after Linux's
    /// delayed-ACK timer (up to 40 ms; `TCP_QUICKACK`, tcp(7), which the
    /// kernel resets, hence after every read). A client that writes a
    /// synchronising literal and its closing CRLF in two writes with Nagle on
    /// (Python's imaplib does) holds the CRLF until the literal is
    /// acknowledged: without this every APPEND took 44 ms instead of 0.3 ms.
    fn quick_ack(&self) {
        #[cfg(target_os = "linux")]
        {
            let tcp = match self {
                Self::Plain(tcp) => tcp,
                Self::Tls(tls) => tls.get_ref().0,
                Self::Closed => return,
            };
            let _ = rustix::net::sockopt::set_tcp_quickack(tcp, true);
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "stream handed to TLS")
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_read(cx, buf),
            Self::Closed => Poll::Ready(Err(closed())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s).poll_write(cx, buf),
            Self::Closed => Poll::Ready(Err(closed())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s).poll_flush(cx),
            Self::Closed => Poll::Ready(Err(closed())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s).poll_shutdown(cx),
            Self::Closed => Poll::Ready(Err(closed())),
        }
    }
}

/// The watch channel every connection listens on for shutdown.
pub(crate) type ShutdownReceiver = watch::Receiver<bool>;
