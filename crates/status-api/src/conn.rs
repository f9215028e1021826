//! One connection: the socket wrapped to watch its progress, hyper's HTTP/1
//! state machine on top, the header and idle timers around both, and a
//! lingering close at the end.

use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use crate::Shared;
use crate::metrics::{Route, Status};

/// The largest request head (request line and header fields) read; a larger
/// one is answered 431.
pub const MAX_HEAD: usize = 8 * 1024;
/// hyper's read buffer: a head, and what a client pipelines after it. Also
/// all of a request body that is ever read (bodies are never asked for).
const MAX_BUFFER: usize = 16 * 1024;
/// How long, and how much, a closing connection is still read from, so that
/// the close does not reset the connection and destroy the last response.
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 64 * 1024;

/// Where a connection stands, packed in one word: the top bit says a request
/// head is being waited for ("head", the header timeout runs), else the
/// connection is between requests ("idle", the idle timeout runs); the other
/// bits are the milliseconds since accept at which that phase started or
/// last made progress. A new connection starts in "head" at 0: a client that
/// connects and sends nothing is closed after the header timeout.
#[derive(Debug)]
struct Clock {
    accepted: Instant,
    state: AtomicU64,
    eof: AtomicU64,
}

const HEAD: u64 = 1 << 63;

impl Clock {
    fn new() -> Clock {
        Clock {
            accepted: Instant::now(),
            state: AtomicU64::new(HEAD),
            eof: AtomicU64::new(0),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.accepted.elapsed().as_millis()).unwrap_or(HEAD - 1) & !HEAD
    }

    /// Bytes arrived: the first bytes after a response start the next head.
    fn on_read(&self) {
        let state = self.state.load(Ordering::Relaxed);
        if state & HEAD == 0 {
            self.state.store(HEAD | self.now(), Ordering::Relaxed);
        }
    }

    /// Bytes left: a response being written to a slow reader is progress.
    fn on_write(&self) {
        let state = self.state.load(Ordering::Relaxed);
        if state & HEAD == 0 {
            self.state.store(self.now(), Ordering::Relaxed);
        }
    }

    /// A response was made: the connection is idle until the next request.
    fn on_response(&self) {
        self.state.store(self.now(), Ordering::Relaxed);
    }

    fn on_eof(&self) {
        self.eof.store(1, Ordering::Relaxed);
    }

    fn saw_eof(&self) -> bool {
        self.eof.load(Ordering::Relaxed) == 1
    }

    /// When the connection is to be closed, and whether it is waiting for a head.
    fn deadline(&self, header_timeout: Duration, idle_timeout: Duration) -> (Instant, bool) {
        let state = self.state.load(Ordering::Relaxed);
        let head = state & HEAD != 0;
        let since = self.accepted + Duration::from_millis(state & !HEAD);
        let timeout = if head { header_timeout } else { idle_timeout };
        (since + timeout, head)
    }
}

/// The socket, reporting progress to its [`Clock`].
struct Watched {
    stream: TcpStream,
    clock: Arc<Clock>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            if buf.filled().len() > before {
                self.clock.on_read();
            } else if buf.remaining() > 0 {
                self.clock.on_eof();
            }
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll
            && n > 0
        {
            self.clock.on_write();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll
            && n > 0
        {
            self.clock.on_write();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Counts the connection open for as long as it lives, and holds its
/// `--max-connections` permit.
struct Open<'a> {
    shared: &'a Shared,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.shared.metrics.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves HTTP/1.1 on `stream` until the client leaves, a timer runs out,
/// or the connection fails; never panics on what the client sends.
pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    permit: OwnedSemaphorePermit,
) {
    shared.metrics.open.fetch_add(1, Ordering::Relaxed);
    let _open = Open {
        shared: &shared,
        _permit: permit,
    };
    let _ = stream.set_nodelay(true);
    let clock = Arc::new(Clock::new());
    let io = TokioIo::new(Watched {
        stream,
        clock: Arc::clone(&clock),
    });
    let service = {
        let shared = Arc::clone(&shared);
        let clock = Arc::clone(&clock);
        service_fn(move |req| {
            let response = crate::routes::respond(&req, &shared);
            clock.on_response();
            std::future::ready(Ok::<_, std::convert::Infallible>(response))
        })
    };
    let mut conn = http1::Builder::new()
        .max_buf_size(MAX_BUFFER)
        .max_header_size(MAX_HEAD)
        // The header and idle timers are ours (below), not hyper's.
        .header_read_timeout(None)
        .keep_alive(true)
        .serve_connection(io, service);

    let (header_timeout, idle_timeout) = (shared.header_timeout, shared.idle_timeout);
    let mut sleep = Box::pin(tokio::time::sleep_until(
        clock.deadline(header_timeout, idle_timeout).0,
    ));
    let outcome = poll_fn(|cx| {
        if let Poll::Ready(result) = conn.poll_without_shutdown(cx) {
            return Poll::Ready(Outcome::Done(result));
        }
        while sleep.as_mut().poll(cx).is_ready() {
            let (deadline, head) = clock.deadline(header_timeout, idle_timeout);
            if deadline <= Instant::now() {
                return Poll::Ready(Outcome::TimedOut { head });
            }
            sleep.as_mut().reset(deadline);
        }
        Poll::Pending
    })
    .await;

    match outcome {
        Outcome::TimedOut { head: false } => {} // idle keep-alive connection: a normal close
        Outcome::TimedOut { head: true } => {
            shared
                .metrics
                .header_timeouts
                .fetch_add(1, Ordering::Relaxed);
            shared.log.problem(format_args!(
                "{peer}: no complete request head within --header-timeout ({} s); connection closed",
                header_timeout.as_secs()
            ));
        }
        Outcome::Done(result) => {
            if let Err(error) = result {
                problem(&shared, peer, &error);
            }
            // Closing a socket with unread input resets the connection, and
            // the reset can destroy the response just written (a 400, a 431,
            // the answer to a request whose body was not read). So: end our
            // side, then read what the client still sends, for a bounded time.
            if !clock.saw_eof() {
                let stream = conn.into_parts().io.into_inner().stream;
                linger(stream).await;
            }
        }
    }
}

/// How a connection ended.
enum Outcome {
    Done(hyper::Result<()>),
    TimedOut { head: bool },
}

/// Counts and logs what hyper reports. Parse errors were answered by hyper
/// itself (400 or 431) before it stopped; no path is known for them.
fn problem(shared: &Shared, peer: SocketAddr, error: &hyper::Error) {
    if error.is_parse_too_large() {
        shared.metrics.count(Route::Other, Status::HeadersTooLarge);
        shared.log.problem(format_args!(
            "{peer}: request head larger than {MAX_HEAD} bytes or with too many header fields: answered 431"
        ));
    } else if error.is_parse_version_h2() {
        shared.log.problem(format_args!(
            "{peer}: HTTP/2 without negotiation is not served (HTTP/1.1 only); connection closed"
        ));
    } else if error.is_parse() {
        shared.metrics.count(Route::Other, Status::BadRequest);
        shared.log.problem(format_args!(
            "{peer}: malformed request ({error}): answered 400"
        ));
    } else if error.is_incomplete_message() {
        shared.log.problem(format_args!(
            "{peer}: connection closed in the middle of a request head"
        ));
    } else {
        shared
            .log
            .problem(format_args!("{peer}: connection failed: {error}"));
    }
}

/// Shuts down the write side, then reads and drops what the client still
/// sends until it closes, for at most [`LINGER_TIME`] and [`LINGER_BYTES`].
async fn linger(mut stream: TcpStream) {
    if poll_fn(|cx| Pin::new(&mut stream).poll_shutdown(cx))
        .await
        .is_err()
    {
        return;
    }
    let deadline = Instant::now() + LINGER_TIME;
    let mut scratch = [0u8; 2048];
    let mut read = 0;
    while read < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, stream.readable()).await {
            Ok(Ok(())) => match stream.try_read(&mut scratch) {
                Ok(0) => return,
                Ok(n) => read += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            },
            Ok(Err(_)) | Err(_) => return,
        }
    }
}

/// Answers a connection over `--max-connections` with a 503 and closes it.
/// The response is written only if the socket takes it at once (a new
/// socket's send buffer is empty); nothing waits on the client but the
/// bounded linger, and only while `permit` (one of few) is held.
pub(crate) async fn refuse(stream: TcpStream, permit: Option<OwnedSemaphorePermit>) {
    let Ok(n) = stream.try_write(crate::routes::REFUSED) else {
        return;
    };
    if n == crate::routes::REFUSED.len()
        && let Some(_permit) = permit
    {
        linger(stream).await;
    }
}
