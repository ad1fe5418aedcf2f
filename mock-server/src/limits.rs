//! Request limits (`[options.limits]`): the largest request head, query and body, the most open
//! connections, and how long a client may take to send a request head.
//!
//! Each limit has one clean answer, documented in `docs/fidelity.md`:
//!
//! | Limit | Default | Answer |
//! |---|---|---|
//! | `header_bytes` (request line and headers) | 64 KiB | 431 from the HTTP layer, empty body |
//! | `query_bytes` | 32 KiB | 400 `{"code":40002,"message":"Invalid request parameters",…}` |
//! | `body_bytes` | 1 MiB | 413 `{"code":41300,"message":"Request entity too large",…}` |
//! | `connections` | 1024 | 503 `{"code":50300,"message":"Service Unavailable",…}`, then close |
//! | `header_read_timeout_ms` | 15 s | the connection is closed without an answer |
//! | the same time again for the body | 15 s | 408 `{"code":40800,"message":"Request timeout",…}` |
//!
//! The query and body limits are checked before routing (so before the journal and fault rules,
//! as Duo's front end would), and apply to the Admin API only: the control API keeps axum's own
//! 2 MiB body limit, so a test that shrinks the limits can still load a scenario. Connection-level
//! limits (head size, timeout, cap) are read when a connection opens: a scenario loaded through
//! the control API governs the connections opened after it.

use std::error::Error as StdError;
use std::time::Duration;

use axum::http::{Request, header};
use serde::Deserialize;

use crate::api_error::ApiError;

/// Default largest request head: Duo's clients send a few hundred bytes of headers.
pub const DEFAULT_HEADER_BYTES: usize = 64 * 1024;
/// Default largest query string. Below the head limit on purpose, so that a long query is
/// answered with Duo's envelope instead of the HTTP layer's bare 431.
pub const DEFAULT_QUERY_BYTES: usize = 32 * 1024;
/// Default largest request body (the Admin API's POST bodies are a few hundred bytes).
pub const DEFAULT_BODY_BYTES: usize = 1024 * 1024;
/// Default cap on open connections, well under the usual 1024-descriptor soft limit's pair
/// (each connection is one descriptor here and one in the client).
pub const DEFAULT_CONNECTIONS: usize = 1024;
/// Default time a client has to send a whole request head (slow-loris guard); also how long an
/// idle keep-alive connection is kept.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 15_000;

/// Smallest `header_bytes` a scenario may set: a signed Duo request's head is about 400 bytes,
/// so anything smaller refuses every client, which is a typo rather than a test.
pub const MIN_HEADER_BYTES: usize = 1024;
/// Largest `body_bytes`: the write handlers read the body again through axum, whose own limit
/// is 2 MiB; above it a large body would get axum's bare 413 instead of Duo's envelope.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Duo's code for a body over the limit (Duo's own is undocumented; `status × 100`, as for
/// 50000 and 50300).
pub const BODY_TOO_LARGE_CODE: u32 = 41300;
/// Duo's code for the connection cap (the one its 503 answers carry).
pub const OVER_CAPACITY_CODE: u32 = 50300;

/// The scenario's `[options.limits]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request head (request line and headers), bytes.
    pub header_bytes: usize,
    /// Largest raw query string (after `?`, still percent-encoded), bytes.
    pub query_bytes: usize,
    /// Largest request body, bytes.
    pub body_bytes: usize,
    /// Most connections open at once; the next ones are answered 503 and closed.
    pub connections: usize,
    /// Time to send a whole request head, milliseconds; a body then gets as long again.
    pub header_read_timeout_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_bytes: DEFAULT_HEADER_BYTES,
            query_bytes: DEFAULT_QUERY_BYTES,
            body_bytes: DEFAULT_BODY_BYTES,
            connections: DEFAULT_CONNECTIONS,
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
        }
    }
}

impl Limits {
    /// What is wrong with these limits, in the scenario's words.
    pub fn check(&self) -> Result<(), String> {
        if self.header_bytes < MIN_HEADER_BYTES {
            return Err(format!(
                "options.limits.header_bytes must be at least {MIN_HEADER_BYTES}, not {}",
                self.header_bytes
            ));
        }
        if self.body_bytes > MAX_BODY_BYTES {
            return Err(format!(
                "options.limits.body_bytes must be at most {MAX_BODY_BYTES}, not {}",
                self.body_bytes
            ));
        }
        if self.connections == 0 {
            return Err("options.limits.connections must be at least 1".into());
        }
        if self.header_read_timeout_ms == 0 {
            return Err("options.limits.header_read_timeout_ms must be at least 1".into());
        }
        Ok(())
    }

    /// The header-read timeout.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    /// Whether the query and body limits apply to `request`: every route but the control API.
    pub fn applies_to<B>(request: &Request<B>) -> bool {
        !is_control_path(request.uri().path())
    }

    /// Duo's answer to a request whose head already breaks the query limit, or announces a body
    /// over the body limit; `None` when the head is within both. The body itself is bounded by
    /// wrapping it (see `server::run`), since a chunked body announces no length.
    pub fn refuse_head<B>(&self, request: &Request<B>) -> Option<ApiError> {
        let query = request.uri().query().map_or(0, str::len);
        if query > self.query_bytes {
            tracing::info!(
                path = request.uri().path(),
                query_bytes = query,
                limit = self.query_bytes,
                "400 40002: query string over options.limits.query_bytes"
            );
            return Some(query_too_long());
        }
        let announced = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match announced {
            Some(length) if length > self.body_bytes as u64 => {
                tracing::info!(
                    path = request.uri().path(),
                    content_length = length,
                    limit = self.body_bytes,
                    "413 41300: body over options.limits.body_bytes"
                );
                Some(body_too_large())
            }
            _ => None,
        }
    }
}

/// Whether `path` is a control API route (`/__duo-mock` or below it).
pub fn is_control_path(path: &str) -> bool {
    path.strip_prefix(crate::control::PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// 400 40002: the query string is over the limit. No `message_detail`: no one parameter is at
/// fault, and Duo's detail names a parameter.
pub fn query_too_long() -> ApiError {
    ApiError::custom(40002, "Invalid request parameters")
}

/// 413 41300: the body is over the limit.
pub fn body_too_large() -> ApiError {
    ApiError::custom(BODY_TOO_LARGE_CODE, "Request entity too large")
}

/// 408 40800: the body did not arrive within the header-read timeout after its head (the HTTP
/// layer bounds only the head; without this, a trickled body would hold a connection forever).
pub fn body_timeout() -> ApiError {
    ApiError::custom(40800, "Request timeout")
}

/// 503 50300: every connection slot is taken.
pub fn over_capacity() -> ApiError {
    ApiError::custom(OVER_CAPACITY_CODE, "Service Unavailable")
}

/// Whether reading a body failed because it went over a length limit (ours, or axum's), rather
/// than because the client sent a malformed body or went away. The limit error may sit under
/// several layers of boxed errors, so the whole `source` chain is searched.
pub fn is_length_limit(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        next = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(Limits::default().check(), Ok(()));
        let bad = |limits: Limits, name: &str| {
            let message = limits.check().expect_err(name);
            assert!(message.contains(name), "{message}");
        };
        let d = Limits::default();
        bad(
            Limits {
                header_bytes: 100,
                ..d
            },
            "header_bytes",
        );
        bad(
            Limits {
                body_bytes: 3 << 20,
                ..d
            },
            "body_bytes",
        );
        bad(Limits { connections: 0, ..d }, "connections");
        bad(
            Limits {
                header_read_timeout_ms: 0,
                ..d
            },
            "header_read_timeout_ms",
        );
    }

    #[test]
    fn heads_over_the_query_or_announced_body_limit_are_refused() {
        let limits = Limits {
            query_bytes: 10,
            body_bytes: 100,
            ..Limits::default()
        };
        let request = |uri: &str, length: Option<&str>| {
            let mut builder = Request::post(uri);
            if let Some(length) = length {
                builder = builder.header(header::CONTENT_LENGTH, length);
            }
            builder.body(()).expect("request")
        };
        assert_eq!(limits.refuse_head(&request("/a?0123456789", Some("100"))), None);
        assert_eq!(
            limits
                .refuse_head(&request("/a?0123456789a", None))
                .map(|e| e.code),
            Some(40002)
        );
        assert_eq!(
            limits.refuse_head(&request("/a", Some("101"))).map(|e| e.code),
            Some(41300)
        );
        // An unreadable length is left to the HTTP layer, which refuses it before us.
        assert_eq!(limits.refuse_head(&request("/a", Some("-1"))), None);
        assert!(Limits::applies_to(&request("/admin/v1/users", None)));
        assert!(!Limits::applies_to(&request("/__duo-mock/load", None)));
        assert!(Limits::applies_to(&request("/__duo-mockery", None)));
    }

    #[tokio::test]
    async fn a_length_limit_is_found_under_boxed_errors() {
        let limited = http_body_util::Limited::new(
            http_body_util::Full::new(bytes::Bytes::from_static(b"0123456789")),
            4,
        );
        let inner = axum::body::Body::new(limited);
        let error = axum::body::to_bytes(inner, 100)
            .await
            .expect_err("over the limit");
        assert!(is_length_limit(&error));
        let other = axum::Error::new(std::io::Error::other("client went away"));
        assert!(!is_length_limit(&other));
    }
}
