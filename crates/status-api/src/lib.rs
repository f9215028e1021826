//! domi-nix-status: a small HTTP/1.1 status service.
//!
//! `GET /health`, `GET /features` (the manifest the domi-nix trunk writes,
//! `/etc/domi-nix/features.json`) and `GET /metrics` (Prometheus text), with
//! HEAD on each. Built to face hostile clients: every connection has bounded
//! buffers and timers, the number of connections is capped, bodies are never
//! read, and nothing a client sends can make it panic.
//!
//! [`Server::bind`] binds every address (so a bad `--listen` is an error
//! before anything is served), [`Server::serve`] runs it; [`spawn`] runs one
//! on a thread of its own (for tests and embedding).

use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

mod conn;
mod log;

pub use log::line as log_line;
mod metrics;
mod routes;

pub use conn::MAX_HEAD;
pub use routes::MANIFEST_LIMIT;

/// The version served in `/health` and `/metrics`: this crate's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Connections over `--max-connections` that may be lingering at once after
/// their 503; more are closed without waiting.
const REFUSALS_LINGERING: usize = 64;
/// The listen backlog: connections the kernel queues before they are accepted.
const BACKLOG: i32 = 1024;
/// How long accepting pauses after an error such as "too many open files".
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What to serve, and how; the command line's flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// The addresses to listen on (at least one).
    pub listen: Vec<SocketAddr>,
    /// The feature manifest served at `/features`, read at every request.
    pub manifest: PathBuf,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// How long a client has to send a complete request head, from connect
    /// (first request) or from its first byte (later requests).
    pub header_timeout: Duration,
    /// How long a keep-alive connection may sit between requests, or a
    /// response may make no progress.
    pub idle_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: vec![SocketAddr::from(([127, 0, 0, 1], 9180))],
            manifest: PathBuf::from("/etc/domi-nix/features.json"),
            max_connections: 512,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An address of `--listen` cannot be bound.
    #[error("cannot listen on {addr}: {source}. Fix: {fix}")]
    Bind {
        addr: SocketAddr,
        source: io::Error,
        fix: &'static str,
    },
    /// The configuration cannot be served.
    #[error("{what}. Fix: {fix}")]
    Config {
        what: &'static str,
        fix: &'static str,
    },
    /// `TOKIO_WORKER_THREADS` is not a number of threads.
    #[error(
        "{THREADS_ENV}={0:?} is not a number of worker threads. Fix: set it to a number from 1 to 64, or unset it (1 thread)"
    )]
    Threads(String),
    /// The runtime (threads, the event loop) cannot be started.
    #[error(
        "cannot start the runtime: {0}. Fix: check the service's limits on threads and open files"
    )]
    Runtime(#[source] io::Error),
}

/// What every connection shares: the configuration's values, the counters, the log.
#[derive(Debug)]
pub(crate) struct Shared {
    started: Instant,
    manifest: PathBuf,
    header_timeout: Duration,
    idle_timeout: Duration,
    metrics: metrics::Metrics,
    log: log::Log,
}

impl Shared {
    fn uptime_seconds(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// A server whose addresses are bound, ready to serve.
#[derive(Debug)]
pub struct Server {
    listeners: Vec<TcpListener>,
    shared: Arc<Shared>,
    max_connections: usize,
}

impl Server {
    /// Binds every address of `config.listen`. Must run inside a tokio
    /// runtime (the sockets register with its reactor).
    pub fn bind(config: Config) -> Result<Server, Error> {
        if config.listen.is_empty() {
            return Err(Error::Config {
                what: "no address to listen on",
                fix: "pass --listen ADDR:PORT at least once",
            });
        }
        if config.max_connections == 0 {
            return Err(Error::Config {
                what: "--max-connections is 0",
                fix: "pass --max-connections 1 or more",
            });
        }
        if config.header_timeout.is_zero() || config.idle_timeout.is_zero() {
            return Err(Error::Config {
                what: "a timeout is 0",
                fix: "pass --header-timeout and --idle-timeout of 1 second or more",
            });
        }
        let listeners = config
            .listen
            .iter()
            .map(|&addr| listen(addr))
            .collect::<Result<_, _>>()?;
        let started = Instant::now();
        Ok(Server {
            listeners,
            shared: Arc::new(Shared {
                started,
                manifest: config.manifest,
                header_timeout: config.header_timeout,
                idle_timeout: config.idle_timeout,
                metrics: metrics::Metrics::default(),
                log: log::Log::new(started),
            }),
            max_connections: config.max_connections,
        })
    }

    /// The bound addresses, in `--listen` order (with the ports the system
    /// chose for port 0).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serves until the process ends.
    pub async fn serve(self) {
        self.serve_until(std::future::pending()).await;
    }

    /// Serves until `shutdown` completes; then stops accepting and drops
    /// every connection.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) {
        // Shared by every listener: the cap is on the service, not per address.
        let slots = Arc::new(Semaphore::new(self.max_connections));
        let refusals = Arc::new(Semaphore::new(REFUSALS_LINGERING));
        let mut tasks = tokio::task::JoinSet::new();
        for listener in self.listeners {
            tasks.spawn(accept(
                listener,
                Arc::clone(&self.shared),
                Arc::clone(&slots),
                self.max_connections,
                Arc::clone(&refusals),
            ));
        }
        shutdown.await;
        tasks.abort_all();
    }
}

/// A listening socket on `addr`: address reuse (a restart does not wait for
/// old connections), IPv6 addresses IPv6 only (so `[::]` and `0.0.0.0` can
/// both be listened on), the backlog [`BACKLOG`].
fn listen(addr: SocketAddr) -> Result<TcpListener, Error> {
    let bind_error = |source: io::Error| Error::Bind {
        addr,
        fix: match source.kind() {
            io::ErrorKind::AddrInUse => {
                "another program (or another --listen) uses this address; stop it, or pass another --listen ADDR:PORT"
            }
            io::ErrorKind::PermissionDenied => {
                "ports below 1024 need CAP_NET_BIND_SERVICE; grant it, or listen on a port of 1024 or more"
            }
            io::ErrorKind::AddrNotAvailable => {
                "the address is not configured on this machine (`ip address` lists them); pass one that is, e.g. --listen 127.0.0.1:9180"
            }
            _ => "check the address and the system's network configuration",
        },
        source,
    };
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(bind_error)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).map_err(bind_error)?;
    }
    socket.set_reuse_address(true).map_err(bind_error)?;
    socket.set_nonblocking(true).map_err(bind_error)?;
    socket.bind(&addr.into()).map_err(bind_error)?;
    socket.listen(BACKLOG).map_err(bind_error)?;
    TcpListener::from_std(socket.into()).map_err(bind_error)
}

/// Accepts connections on `listener` forever: each gets a slot and its own
/// task, or, with every slot taken, a 503 and a close.
async fn accept(
    listener: TcpListener,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    max_connections: usize,
    refusals: Arc<Semaphore>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // Finished connections are reaped while waiting for the next one.
        let accepted = poll_fn(|cx| {
            while let Poll::Ready(Some(_)) = connections.poll_join_next(cx) {}
            listener.poll_accept(cx)
        })
        .await;
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(error) => {
                shared.log.problem(format_args!(
                    "accepting a connection failed: {error}; pausing {} ms",
                    ACCEPT_BACKOFF.as_millis()
                ));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => {
                connections.spawn(conn::serve(stream, peer, Arc::clone(&shared), permit));
            }
            Err(_) => {
                shared
                    .metrics
                    .refused
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                shared.log.problem(format_args!(
                    "{peer}: refused with 503: {max_connections} connections open (--max-connections)"
                ));
                let permit = Arc::clone(&refusals).try_acquire_owned().ok();
                connections.spawn(conn::refuse(stream, permit));
            }
        }
    }
}

/// A server running on a thread of its own; dropping it stops the server
/// and closes its connections.
#[derive(Debug)]
pub struct Running {
    addrs: Vec<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// The bound addresses (see [`Server::local_addrs`]).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The variable that sets the number of worker threads (default 1).
pub const THREADS_ENV: &str = "TOKIO_WORKER_THREADS";

/// The runtime the service runs on: one worker thread, unless
/// `TOKIO_WORKER_THREADS` says otherwise. One is plenty for a status service
/// (over 60,000 requests a second on loopback) and keeps a flood of clients
/// from taking more than one core from the machine's real work. The
/// variable is parsed here: tokio would panic on a bad value.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    let threads = match std::env::var(THREADS_ENV) {
        Err(std::env::VarError::NotPresent) => 1,
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=64).contains(&n) => n,
            _ => return Err(Error::Threads(text)),
        },
        Err(std::env::VarError::NotUnicode(text)) => {
            return Err(Error::Threads(text.to_string_lossy().into_owned()));
        }
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_io()
        .enable_time()
        .thread_name("domi-nix-status")
        .build()
        .map_err(Error::Runtime)
}

/// Binds `config` and serves it on a new thread with its own runtime;
/// returns once the addresses are bound (or could not be).
pub fn spawn(config: Config) -> Result<Running, Error> {
    let runtime = runtime()?;
    let server = runtime.block_on(async { Server::bind(config) })?;
    let addrs = server.local_addrs();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("domi-nix-status".into())
        .spawn(move || {
            runtime.block_on(server.serve_until(async {
                let _ = stopped.await;
            }));
        })
        .map_err(Error::Runtime)?;
    Ok(Running {
        addrs,
        stop: Some(stop),
        thread: Some(thread),
    })
}
