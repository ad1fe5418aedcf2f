//! Response bodies made of arena slices: sent as they are, never joined into one buffer.

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
