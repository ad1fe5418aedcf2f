//! Response bodies made of arena slices: sent as they are, never joined into one buffer; and a
//! body whose first frames were read ahead (by the journal) and are given back first.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A body of several `Bytes` parts with an exact length, so hyper sends `Content-Length` and
/// writes the parts without copying them together.
#[derive(Debug, Default)]
pub struct PartsBody {
    parts: VecDeque<Bytes>,
    remaining: u64,
}

impl PartsBody {
    /// A body of `parts`, in order.
    pub fn new(parts: Vec<Bytes>) -> Self {
        let remaining = parts.iter().map(|p| p.len() as u64).sum();
        Self {
            parts: parts.into_iter().filter(|p| !p.is_empty()).collect(),
            remaining,
        }
    }
}

impl http_body::Body for PartsBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = self.parts.pop_front();
        if let Some(part) = &next {
            self.remaining -= part.len() as u64;
        }
        Poll::Ready(next.map(|part| Ok(Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// A body whose first frames were already read: gives them back, then the rest of the body (or
/// the error that stopped the reading). Its size is the whole body's, so `Content-Length` stays.
pub struct Resumed {
    taken: TakenFrames,
    /// The body not read yet; `None` once it ended (it is not polled past its end).
    rest: Option<axum::body::Body>,
    failed: Option<axum::Error>,
}

impl Resumed {
    /// `taken` frames first, then `rest`, or the error that stopped reading it.
    pub fn new(taken: TakenFrames, rest: Option<axum::body::Body>, failed: Option<axum::Error>) -> Self {
        Self { taken, rest, failed }
    }
}

/// Frames read ahead, in order: the first two kept inline (a page is one or two frames before
/// the journal has its prefix), more in a queue, so the usual case allocates nothing.
#[derive(Debug, Default)]
pub struct TakenFrames {
    inline: [Option<Frame<Bytes>>; 2],
    more: VecDeque<Frame<Bytes>>,
}

impl TakenFrames {
    /// Adds `frame` after the others.
    pub fn push(&mut self, frame: Frame<Bytes>) {
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) if self.more.is_empty() => *slot = Some(frame),
            _ => self.more.push_back(frame),
        }
    }

    fn pop(&mut self) -> Option<Frame<Bytes>> {
        match self.inline.iter_mut().find(|slot| slot.is_some()) {
            Some(slot) => slot.take(),
            None => self.more.pop_front(),
        }
    }

    fn is_empty(&self) -> bool {
        self.inline.iter().all(Option::is_none) && self.more.is_empty()
    }

    fn data_len(&self) -> u64 {
        self.inline
            .iter()
            .flatten()
            .chain(&self.more)
            .filter_map(Frame::data_ref)
            .map(|d| d.len() as u64)
            .sum()
    }
}

impl std::fmt::Debug for Resumed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resumed")
            .field("taken", &self.taken)
            .field("failed", &self.failed.is_some())
            .finish_non_exhaustive()
    }
}

impl http_body::Body for Resumed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Some(frame) = self.taken.pop() {
            return Poll::Ready(Some(Ok(frame)));
        }
        if let Some(error) = self.failed.take() {
            return Poll::Ready(Some(Err(error)));
        }
        match &mut self.rest {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.taken.is_empty()
            && self.failed.is_none()
            && self.rest.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let taken = self.taken.data_len();
        let rest = self
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint);
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower() + taken);
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper + taken);
        }
        hint
    }
}

/// Bodies up to this size are joined into one buffer: copying a few KiB costs less than writing
/// several small frames, while a large page is sent as its arena slices, uncopied.
pub const JOIN_BELOW_BYTES: usize = 16 * 1024;

/// A `200 application/json` response of `parts`.
pub fn json_parts(parts: Vec<Bytes>) -> Response {
    let total: usize = parts.iter().map(Bytes::len).sum();
    let body = if total <= JOIN_BELOW_BYTES && parts.len() > 1 {
        let mut joined = Vec::with_capacity(total);
        for part in &parts {
            joined.extend_from_slice(part);
        }
        axum::body::Body::from(joined)
    } else {
        axum::body::Body::new(PartsBody::new(parts))
    };
    json_body(body)
}

/// A `200 application/json` response of `body`.
pub fn json_body(body: axum::body::Body) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use http_body::Body as _;
    use http_body_util::BodyExt as _;

    use super::*;

    #[tokio::test]
    async fn a_body_read_ahead_gives_back_every_byte_in_order_with_its_length() {
        for read_ahead in 0..=4 {
            let parts: Vec<Bytes> = ["{\"a\":", "1,", "\"b\":", "2}", ""]
                .iter()
                .map(|p| Bytes::from_static(p.as_bytes()))
                .collect();
            let mut rest = axum::body::Body::new(PartsBody::new(parts));
            let mut taken = TakenFrames::default();
            let mut cx = Context::from_waker(std::task::Waker::noop());
            let mut ended = false;
            for _ in 0..read_ahead {
                match Pin::new(&mut rest).poll_frame(&mut cx) {
                    Poll::Ready(Some(Ok(frame))) => taken.push(frame),
                    Poll::Ready(None) => ended = true,
                    other => panic!("{other:?}"),
                }
            }
            let resumed = Resumed::new(taken, (!ended).then_some(rest), None);
            assert_eq!(resumed.size_hint().exact(), Some(13), "read ahead {read_ahead}");
            let whole = resumed.collect().await.expect("infallible").to_bytes();
            assert_eq!(&whole[..], b"{\"a\":1,\"b\":2}", "read ahead {read_ahead}");
        }
    }
}
