//! Connection set-up: TCP with keepalive ([`Client::connect_tcp`]), STARTTLS
//! (RFC 9051 §6.2.1, [`Client::starttls`]) and implicit TLS (RFC 8314) over
//! tokio-rustls, the [`Transport`] that holds either, and [`connect`], which
//! also logs in and selects as [`ConnectOptions`] say.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use imap_client_core::imap_proto::Mailbox;
use imap_client_core::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use crate::backoff::BackoffConfig;
use crate::net;

use super::{Client, Error, Timeouts};
// Only named in doc links.
#[cfg(doc)]
use super::Session;

impl Client<TcpStream> {
    /// Connect over TCP to `addr` (within `timeouts.connect`) and read the
    /// greeting.
    pub async fn connect_tcp(
        addr: SocketAddr,
        config: ClientConfig,
        timeouts: Timeouts,
    ) -> Result<Self, Error> {
        let tcp = tokio::time::timeout(timeouts.connect, TcpStream::connect(addr))
            .await
            .map_err(|_| Error::Timeout)?
            .map_err(Error::Io)?;
        let _ = tcp.set_nodelay(true);
        let _ = net::keepalive(&tcp);
        Self::new(tcp, config, timeouts).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Put the stream into another type (say, into [`Transport`]).
    pub fn map_stream<T>(self, f: impl FnOnce(S) -> T) -> Client<T> {
        Client {
            stream: f(self.stream),
            d: self.d,
        }
    }

    /// `STARTTLS` (RFC 9051 §6.2.1): after the tagged OK, a TLS handshake with
    /// `connector` for `name` (within [`Timeouts::tls`]), then CAPABILITY
    /// again, since capabilities learnt before TLS must be forgotten. A NO
    /// or BAD is [`Error::Rejected`] and, like every other error, ends the
    /// connection (the stream cannot be given back).
    pub async fn starttls(
        mut self,
        connector: &TlsConnector,
        name: ServerName<'static>,
    ) -> Result<Client<TlsStream<S>>, Error> {
        let h = self.d.conn.starttls();
        self.run(h).await?.into_ok()?;
        self.collect();
        if !self.d.tls_requested || self.d.out_pos != self.d.out.len() {
            return Err(Error::Protocol(
                "STARTTLS completed without the TLS hand-off",
            ));
        }
        self.d.tls_requested = false;
        // Bytes still unflushed belong to the plaintext phase: flush them.
        poll_fn(|cx| Pin::new(&mut self.stream).poll_flush(cx))
            .await
            .map_err(Error::Io)?;
        let tls = tokio::time::timeout(self.d.timeouts.tls, connector.connect(name, self.stream))
            .await
            .map_err(|_| Error::Timeout)?
            .map_err(Error::Tls)?;
        let mut client = Client {
            stream: tls,
            d: self.d,
        };
        client.d.conn.tls_established();
        client.capability().await?;
        Ok(client)
    }
}

/// A TCP stream, plaintext or under TLS (implicit or after STARTTLS): one
/// type for [`Session`]'s clients.
#[derive(Debug)]
pub enum Transport {
    /// Plaintext TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How [`Session`] secures its connections.
#[derive(Clone)]
pub enum Security {
    /// Plaintext (loopback and tests only).
    None,
    /// STARTTLS after the greeting (RFC 9051 §6.2.1); refused servers fail.
    StartTls(TlsConnector, ServerName<'static>),
    /// TLS from the first byte (RFC 8314, port 993).
    Implicit(TlsConnector, ServerName<'static>),
}

impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::StartTls(_, name) => write!(f, "StartTls({name:?})"),
            Self::Implicit(_, name) => write!(f, "Implicit({name:?})"),
        }
    }
}

/// Where and how [`Session`] connects.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The server.
    pub addr: SocketAddr,
    /// TLS.
    pub security: Security,
    /// The LOGIN user name.
    pub user: String,
    /// The LOGIN password.
    pub password: String,
    /// The mailbox selected after login, until the caller selects another.
    pub mailbox: Option<Mailbox>,
    /// The core's settings.
    pub config: ClientConfig,
    /// Network time limits.
    pub timeouts: Timeouts,
    /// The reconnect schedule.
    pub backoff: BackoffConfig,
}

impl ConnectOptions {
    /// Plaintext to `addr` as `user`, defaults for everything else.
    pub fn new(addr: SocketAddr, user: &str, password: &str) -> Self {
        Self {
            addr,
            security: Security::None,
            user: user.to_owned(),
            password: password.to_owned(),
            mailbox: None,
            config: ClientConfig::default(),
            timeouts: Timeouts::default(),
            backoff: BackoffConfig::default(),
        }
    }
}

/// Connect, secure, log in and select as `opts` says. `mailbox` (with
/// read-only for EXAMINE) overrides `opts.mailbox`.
pub async fn connect(
    opts: &ConnectOptions,
    mailbox: Option<(&Mailbox, bool)>,
) -> Result<Client<Transport>, Error> {
    let mut client = match &opts.security {
        Security::None => Client::connect_tcp(opts.addr, opts.config.clone(), opts.timeouts)
            .await?
            .map_stream(Transport::Plain),
        Security::StartTls(connector, name) => {
            Client::connect_tcp(opts.addr, opts.config.clone(), opts.timeouts)
                .await?
                .starttls(connector, name.clone())
                .await?
                .map_stream(|s| Transport::Tls(Box::new(s)))
        }
        Security::Implicit(connector, name) => {
            let tcp = tokio::time::timeout(opts.timeouts.connect, TcpStream::connect(opts.addr))
                .await
                .map_err(|_| Error::Timeout)?
                .map_err(Error::Io)?;
            let _ = tcp.set_nodelay(true);
            let _ = net::keepalive(&tcp);
            let tls = tokio::time::timeout(opts.timeouts.tls, connector.connect(name.clone(), tcp))
                .await
                .map_err(|_| Error::Timeout)?
                .map_err(Error::Tls)?;
            Client::new(
                Transport::Tls(Box::new(tls)),
                opts.config.clone(),
                opts.timeouts,
            )
            .await?
        }
    };
    if client.conn().state() == imap_client_core::ClientState::NotAuthenticated {
        client.login(&opts.user, &opts.password).await?;
    }
    match mailbox.or_else(|| opts.mailbox.as_ref().map(|m| (m, false))) {
        Some((m, true)) => {
            client.examine(m).await?;
        }
        Some((m, false)) => {
            client.select(m).await?;
        }
        None => {}
    }
    Ok(client)
}
