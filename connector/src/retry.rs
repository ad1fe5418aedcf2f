//! The retry policy, as data: which answers are retried, how often, and how long to wait.
//!
//! | Outcome                                   | Retries | Waits (before jitter)     |
//! |-------------------------------------------|---------|---------------------------|
//! | 429 (Duo's 42901)                         | 6       | 1, 2, 4, 8, 16, 32 s      |
//! | 5xx (Duo's or a gateway's)                | 2       | 1, 2 s                    |
//! | refused, reset or closed before an answer | 2       | 1, 2 s                    |
//! | timeout (no byte for 10 s, or 20 s whole) | 1       | 1 s                       |
//! | anything else (401, 403, 404, TLS, …)     | 0       |                           |
//!
//! Every wait gets up to 1 s of random jitter, like Duo's official clients (which make 7 attempts
//! on 429 with the same 1→32 s schedule; see `docs/connector.md`). A `Retry-After` header, which
//! Duo does not send but proxies and gateways may, replaces the table's wait when longer, up to
//! 60 s. No wait starts that would end after the overall deadline: the sync stops with the last
//! failure instead.

use std::time::Duration;

/// Why an attempt may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// HTTP 429.
    RateLimited,
    /// HTTP 5xx.
    ServerError,
    /// No whole answer: the connection refused, reset or closed early.
    Transient,
    /// No whole answer in time.
    Timeout,
}

/// When and how long to retry. [`RetryPolicy::default`] is the table above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Waits after each 429; its length is the number of retries.
    pub rate_limited: Vec<Duration>,
    /// Waits after each 5xx.
    pub server_error: Vec<Duration>,
    /// Waits after a refused, reset or early-closed connection.
    pub transient: Vec<Duration>,
    /// Waits after a timeout: few, since each attempt already waited the timeout out.
    pub timeout: Vec<Duration>,
    /// Up to this much random time is added to every wait.
    pub jitter: Duration,
    /// A `Retry-After` longer than the table's wait is honoured up to this.
    pub retry_after_cap: Duration,
    /// One request (connect, send, whole answer) may take this long.
    pub request_timeout: Duration,
    /// The answer may pause this long between two reads (a stalled server).
    pub read_timeout: Duration,
    /// Connecting (TCP and TLS) may take this long.
    pub connect_timeout: Duration,
    /// The whole sync may take this long, waits included.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            rate_limited: seconds(&[1, 2, 4, 8, 16, 32]),
            server_error: seconds(&[1, 2]),
            transient: seconds(&[1, 2]),
            timeout: seconds(&[1]),
            jitter: Duration::from_secs(1),
            retry_after_cap: Duration::from_secs(60),
            // A 300-user page is about 350 KB and Duo answers in well under a second; these
            // bound a stalled or crawling answer without cutting a slow but moving link short.
            request_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(30 * 60),
        }
    }
}

fn seconds(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|&s| Duration::from_secs(s)).collect()
}

impl RetryPolicy {
    /// The table scaled down a thousandfold (1 s becomes 1 ms), for tests that exercise retries
    /// without waiting for them. Timeouts are kept short too.
    pub fn quick() -> Self {
        let scale = |list: &[Duration]| list.iter().map(|d| *d / 1000).collect();
        let default = Self::default();
        Self {
            rate_limited: scale(&default.rate_limited),
            server_error: scale(&default.server_error),
            transient: scale(&default.transient),
            timeout: scale(&default.timeout),
            jitter: Duration::from_millis(1),
            retry_after_cap: Duration::from_millis(50),
            request_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(2),
            deadline: Duration::from_secs(60),
        }
    }

    /// The wait before retry number `retry` (0-based) of an attempt that failed as `class`, or
    /// `None` when the table has no more retries. `retry_after` is the answer's header, if any.
    pub fn wait(&self, class: RetryClass, retry: usize, retry_after: Option<Duration>) -> Option<Duration> {
        let table = match class {
            RetryClass::RateLimited => &self.rate_limited,
            RetryClass::ServerError => &self.server_error,
            RetryClass::Transient => &self.transient,
            RetryClass::Timeout => &self.timeout,
        };
        let base = *table.get(retry)?;
        let base = match retry_after {
            Some(asked) if asked > base => asked.min(self.retry_after_cap).max(base),
            _ => base,
        };
        Some(base + self.jitter.mul_f64(rand::random::<f64>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_get_six_retries_on_duos_schedule() {
        let policy = RetryPolicy::default();
        let waits: Vec<Duration> = (0..10)
            .map_while(|n| policy.wait(RetryClass::RateLimited, n, None))
            .collect();
        assert_eq!(waits.len(), 6);
        for (wait, base) in waits.iter().zip([1, 2, 4, 8, 16, 32]) {
            assert!(
                *wait >= Duration::from_secs(base) && *wait < Duration::from_secs(base + 1),
                "{wait:?}"
            );
        }
    }

    #[test]
    fn retry_after_lengthens_a_wait_up_to_the_cap_and_never_shortens_it() {
        let policy = RetryPolicy {
            jitter: Duration::ZERO,
            ..RetryPolicy::default()
        };
        let wait = |after| policy.wait(RetryClass::RateLimited, 0, Some(Duration::from_secs(after)));
        assert_eq!(wait(5), Some(Duration::from_secs(5)));
        assert_eq!(wait(0), Some(Duration::from_secs(1)));
        assert_eq!(wait(3600), Some(Duration::from_secs(60)));
    }

    #[test]
    fn server_errors_and_transients_have_their_own_budgets() {
        let policy = RetryPolicy::default();
        assert!(policy.wait(RetryClass::ServerError, 1, None).is_some());
        assert!(policy.wait(RetryClass::ServerError, 2, None).is_none());
        assert!(policy.wait(RetryClass::Timeout, 0, None).is_some());
        assert!(policy.wait(RetryClass::Timeout, 1, None).is_none());
        assert!(policy.wait(RetryClass::Transient, 1, None).is_some());
        assert!(policy.wait(RetryClass::Transient, 2, None).is_none());
    }

    #[test]
    fn quick_keeps_the_shape_of_the_table() {
        let quick = RetryPolicy::quick();
        assert_eq!(quick.rate_limited.len(), 6);
        assert_eq!(quick.rate_limited[5], Duration::from_millis(32));
    }
}
