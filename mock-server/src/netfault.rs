//! Network faults (`network = "…"` on a fault rule): what the connection does instead of, or
//! while, carrying an answer. The fault middleware cannot touch the socket, so every connection
//! gets a [`ConnectionFault`] (in each request's extensions) that the middleware arms, and its
//! stream is wrapped in a [`FaultIo`] that acts on it:
//!
//! - [`Cut::Reset`]: `SO_LINGER` 0, then the connection is dropped: a TCP RST before any answer
//!   byte (the client sees ECONNRESET).
//! - [`Cut::CloseBeforeAnswer`]: shut down (TLS `close_notify`, then FIN) before any answer byte.
//! - [`Cut::CloseMidBody`]: the answer's head and that many body bytes go through, then the same
//!   clean close: the client sees fewer bytes than `Content-Length`.
//! - [`Cut::Trickle`]: the answer goes out a few bytes at a time, at a given rate.
//!
//! With TLS, [`FaultIo`] wraps the TLS stream, so bytes are counted in plaintext (the cut falls
//! after whole, valid TLS records) while the reset still reaches the TCP socket underneath.
//!
//! A connection handles one request at a time (HTTP/1.1), so the fault armed while a request is
//! answered applies to that answer's bytes; the server clears it when the next request arrives.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// What the connection does with the answer being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Reset (RST) before any answer byte.
    Reset,
    /// Close cleanly (FIN) before any answer byte.
    CloseBeforeAnswer,
    /// Write the answer's head and this many body bytes, then close cleanly.
    CloseMidBody {
        /// Body bytes let through.
        body_bytes: u64,
    },
    /// Write the answer at this many bytes per second, in small writes.
    Trickle {
        /// Bytes per second (at least 1).
        bytes_per_s: u64,
    },
}

/// Where the connection is in carrying out its fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    /// No fault: bytes pass untouched.
    #[default]
    Idle,
    /// Reset at the next write.
    Reset,
    /// Flush what was let through, shut down, and fail every later write.
    Close,
    /// Close mid-body, still in the head; `matched` bytes of the blank line seen.
    Head { matched: usize, body: u64 },
    /// Close mid-body, in the body; `left` bytes still let through.
    Body { left: u64 },
    /// Rate-limited writes.
    Trickle { bytes_per_s: u64 },
}

/// The end of a response head.
const HEAD_END: &[u8; 4] = b"\r\n\r\n";

impl Phase {
    fn of(cut: Cut) -> Self {
        match cut {
            Cut::Reset => Self::Reset,
            Cut::CloseBeforeAnswer => Self::Close,
            Cut::CloseMidBody { body_bytes } => Self::Head {
                matched: 0,
                body: body_bytes,
            },
            Cut::Trickle { bytes_per_s } => Self::Trickle {
                bytes_per_s: bytes_per_s.max(1),
            },
        }
    }

    /// How many bytes of `buf` a mid-body cut lets through, and the phase after them.
    fn pass(self, buf: &[u8]) -> (usize, Self) {
        match self {
            Self::Head { mut matched, body } => {
                for (i, byte) in buf.iter().enumerate() {
                    matched = if *byte == HEAD_END[matched] {
                        matched + 1
                    } else {
                        usize::from(*byte == b'\r')
                    };
                    if matched == HEAD_END.len() {
                        let (n, next) = Self::Body { left: body }.pass(&buf[i + 1..]);
                        return (i + 1 + n, next);
                    }
                }
                (buf.len(), Self::Head { matched, body })
            }
            Self::Body { left } => {
                let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                (
                    n,
                    Self::Body {
                        left: left - n as u64,
                    },
                )
            }
            other => (buf.len(), other),
        }
    }
}

/// One connection's network fault, shared by the fault middleware (which arms it) and the
/// connection's [`FaultIo`] (which carries it out).
#[derive(Debug, Default)]
pub struct ConnectionFault {
    /// Whether `phase` is not `Idle` (checked on every write without the lock).
    active: AtomicBool,
    phase: Mutex<Phase>,
    /// The connection's number since the process started (fault rules counted per connection).
    id: u64,
}

impl ConnectionFault {
    /// A connection without a fault, with the next connection number.
    pub fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            ..Self::default()
        }
    }

    /// The connection's number: unique in this process, never reused.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Applies `cut` to the answer about to be written on this connection.
    pub fn arm(&self, cut: Cut) {
        self.set(Phase::of(cut));
    }

    /// Forgets the fault (a new request starts; the last answer is out).
    pub fn clear(&self) {
        if self.active.load(Ordering::Acquire) {
            self.set(Phase::Idle);
        }
    }

    /// Whether a fault is armed.
    pub fn is_armed(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    fn phase(&self) -> Phase {
        match self.phase.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    fn set(&self, phase: Phase) {
        match self.phase.lock() {
            Ok(mut guard) => *guard = phase,
            Err(poisoned) => *poisoned.into_inner() = phase,
        }
        self.active.store(phase != Phase::Idle, Ordering::Release);
    }
}

/// A stream whose TCP socket can be reached (to reset it).
pub trait Socket: AsyncRead + AsyncWrite + Unpin {
    /// The TCP socket underneath.
    fn tcp(&self) -> &TcpStream;
}

impl Socket for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Socket for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// Writes per second when trickling.
const TRICKLE_WRITES_PER_S: u64 = 10;

/// A connection's stream that carries out its [`ConnectionFault`]; without one armed, every call
/// goes straight to the stream.
#[derive(Debug)]
pub struct FaultIo<T> {
    inner: T,
    fault: std::sync::Arc<ConnectionFault>,
    /// The pause before the next trickled write.
    pause: Option<Pin<Box<Sleep>>>,
    /// Shut down already (by a close fault).
    closed: bool,
}

impl<T: Socket> FaultIo<T> {
    /// Wraps `inner`, acting on `fault`.
    pub fn new(inner: T, fault: std::sync::Arc<ConnectionFault>) -> Self {
        Self {
            inner,
            fault,
            pause: None,
            closed: false,
        }
    }

    /// Sets `SO_LINGER` 0, so that dropping the connection sends RST; the error makes hyper drop
    /// it.
    fn reset(&self) -> io::Error {
        if let Err(error) = self.inner.tcp().set_zero_linger() {
            tracing::debug!(%error, "could not set SO_LINGER 0 for a reset fault");
        }
        io::Error::new(io::ErrorKind::ConnectionReset, "network fault: connection reset")
    }

    /// Flushes what was let through, shuts the stream down (TLS `close_notify`, FIN), then fails:
    /// hyper drops the connection.
    fn poll_hang_up(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        if !self.closed {
            if let Err(error) = ready!(Pin::new(&mut self.inner).poll_flush(cx)) {
                return Poll::Ready(error);
            }
            if let Err(error) = ready!(Pin::new(&mut self.inner).poll_shutdown(cx)) {
                return Poll::Ready(error);
            }
            self.closed = true;
        }
        Poll::Ready(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "network fault: connection closed",
        ))
    }

    fn poll_trickle(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
        bytes_per_s: u64,
    ) -> Poll<io::Result<usize>> {
        if let Some(pause) = self.pause.as_mut() {
            ready!(pause.as_mut().poll(cx));
            self.pause = None;
        }
        let chunk = (bytes_per_s / TRICKLE_WRITES_PER_S).clamp(1, 16 * 1024);
        let n = buf.len().min(usize::try_from(chunk).unwrap_or(usize::MAX));
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[..n]))?;
        // Push each small write out now (through TLS too); a pending flush is finished later.
        let _ = Pin::new(&mut self.inner).poll_flush(cx);
        let wait = Duration::from_secs_f64(written as f64 / bytes_per_s as f64);
        self.pause = Some(Box::pin(tokio::time::sleep(wait)));
        Poll::Ready(Ok(written))
    }
}

impl<T: Socket> AsyncRead for FaultIo<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: Socket> AsyncWrite for FaultIo<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.fault.is_armed() {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        let phase = this.fault.phase();
        if !matches!(phase, Phase::Trickle { .. }) {
            this.pause = None;
        }
        match phase {
            Phase::Idle => Pin::new(&mut this.inner).poll_write(cx, buf),
            Phase::Reset => Poll::Ready(Err(this.reset())),
            Phase::Close => this.poll_hang_up(cx).map(Err),
            Phase::Trickle { bytes_per_s } => this.poll_trickle(cx, buf, bytes_per_s),
            Phase::Head { .. } | Phase::Body { .. } => {
                let (allowed, _) = phase.pass(buf);
                if allowed == 0 && !buf.is_empty() {
                    this.fault.set(Phase::Close);
                    return this.poll_hang_up(cx).map(Err);
                }
                let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..allowed]))?;
                this.fault.set(phase.pass(&buf[..written]).1);
                Poll::Ready(Ok(written))
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.fault.is_armed() {
            return Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs);
        }
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &**b);
        self.poll_write(cx, first)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.fault.is_armed() {
            match this.fault.phase() {
                Phase::Reset => return Poll::Ready(Err(this.reset())),
                Phase::Close | Phase::Body { left: 0 } => {
                    this.fault.set(Phase::Close);
                    return this.poll_hang_up(cx).map(Err);
                }
                _ => {}
            }
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.fault.is_armed() && this.fault.phase() == Phase::Reset {
            return Poll::Ready(Err(this.reset()));
        }
        if this.closed {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mut phase: Phase, writes: &[&[u8]]) -> (Vec<u8>, Phase) {
        let mut out = Vec::new();
        for w in writes {
            let (n, next) = phase.pass(w);
            out.extend_from_slice(&w[..n]);
            phase = next;
        }
        (out, phase)
    }

    #[test]
    fn a_mid_body_cut_lets_the_head_and_so_many_body_bytes_through() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n";
        let start = Phase::of(Cut::CloseMidBody { body_bytes: 5 });
        let whole = [&head[..], b"0123456789"].concat();
        let (out, end) = run(start, &[&whole]);
        assert_eq!(out, [&head[..], b"01234"].concat());
        assert_eq!(end, Phase::Body { left: 0 });
        // Split anywhere, even inside the blank line, the same bytes go through.
        for split in 1..whole.len() {
            let (a, b) = whole.split_at(split);
            assert_eq!(run(start, &[a, b]).0, out, "split at {split}");
        }
        // `\r\r\n\r\n` still ends the head.
        let odd = b"HTTP/1.1 200 OK\r\nx: y\r\r\n\r\nabcdef";
        assert_eq!(run(start, &[odd]).0, &odd[..odd.len() - 1]);
    }

    #[test]
    fn a_connection_fault_is_armed_and_cleared() {
        let fault = ConnectionFault::new();
        assert!(!fault.is_armed());
        fault.arm(Cut::Trickle { bytes_per_s: 0 });
        assert_eq!(fault.phase(), Phase::Trickle { bytes_per_s: 1 });
        fault.clear();
        assert!(!fault.is_armed());
        assert_eq!(fault.phase(), Phase::Idle);
    }
}
