//! A TCP relay between an adapter and its server that counts round trips, so `bench` can
//! show how many each call costs: a round trip is a burst of bytes from the client that
//! follows an answer of the server (or opens a connection), however many writes it takes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running relay on 127.0.0.1; it stops when dropped.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    bursts: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `target`
    /// (`host:port`).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use conformance_cli::relay::Relay;
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// // An echo server stands in for a database.
    /// let echo = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// let target = echo.local_addr().unwrap().to_string();
    /// tokio::spawn(async move {
    ///     let (mut s, _) = echo.accept().await.unwrap();
    ///     let mut buf = [0u8; 64];
    ///     while let Ok(n @ 1..) = s.read(&mut buf).await { s.write_all(&buf[..n]).await.unwrap(); }
    /// });
    /// let relay = Relay::start(&target).await.unwrap();
    /// let mut client = tokio::net::TcpStream::connect(relay.addr()).await.unwrap();
    /// let mut buf = [0u8; 4];
    /// for _ in 0..3 {
    ///     client.write_all(b"ping").await.unwrap();
    ///     client.read_exact(&mut buf).await.unwrap();
    /// }
    /// assert_eq!(relay.round_trips(), 3);
    /// # });
    /// ```
    pub async fn start(target: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let bursts = Arc::new(AtomicU64::new(0));
        let counter = bursts.clone();
        let target = target.to_owned();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&target).await else {
                    continue;
                };
                tokio::spawn(pipe(client, server, counter.clone()));
            }
        });
        Ok(Self { addr, bursts, task })
    }

    /// Where clients connect instead of the server.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Round trips since the start or the last [`reset`](Self::reset).
    pub fn round_trips(&self) -> u64 {
        self.bursts.load(Ordering::SeqCst)
    }

    /// Starts counting from zero.
    pub fn reset(&self) {
        self.bursts.store(0, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, bursts: Arc<AtomicU64>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    // Whether the server spoke last on this connection: the client's next bytes start a
    // new round trip.
    let server_spoke = Arc::new(AtomicBool::new(true));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let spoke = server_spoke.clone();
    let upstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if spoke.swap(false, Ordering::SeqCst) {
                        bursts.fetch_add(1, Ordering::SeqCst);
                    }
                    if server_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match server_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if client_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    server_spoke.store(true, Ordering::SeqCst);
                }
            }
        }
        let _ = client_write.shutdown().await;
    };
    futures::join!(upstream, downstream);
}

/// `url` with its `host:port` replaced by `addr` (a URL of the form
/// `scheme://[user[:password]@]host:port[/…]`), or `None` when it has no such part.
///
/// ```
/// use conformance_cli::relay::{server_of, through};
/// let url = "postgres://postgres@127.0.0.1:5432/postgres";
/// assert_eq!(server_of(url).as_deref(), Some("127.0.0.1:5432"));
/// let addr = "127.0.0.1:40000".parse().unwrap();
/// assert_eq!(through(url, addr).as_deref(), Some("postgres://postgres@127.0.0.1:40000/postgres"));
/// ```
pub fn through(url: &str, addr: SocketAddr) -> Option<String> {
    let server = server_of(url)?;
    Some(url.replacen(&server, &addr.to_string(), 1))
}

/// The `host:port` of a server URL.
pub fn server_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port.contains(':').then(|| host_port.to_owned())
}
