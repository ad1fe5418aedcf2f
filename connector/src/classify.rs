//! Deciding what an answer means: Duo's success, Duo's error, or something that is not Duo at all.
//!
//! Pure functions over status, headers and body, so every case of the failure catalogue is a unit
//! test here. The client calls [`classify_answer`] for every HTTP answer and
//! [`classify_transport`] for every request that got no whole answer.

use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{ErrorKind, Failure};
use crate::retry::RetryClass;

/// What the client does with an attempt.
#[derive(Debug)]
pub enum Verdict {
    /// Duo answered `stat: OK` with a `response`.
    Success,
    /// Worth another attempt; `Failure` is reported if the retries run out.
    Retry {
        /// Which retry budget applies.
        class: RetryClass,
        /// The answer's `Retry-After`, if it had one.
        retry_after: Option<Duration>,
        /// What to report when no retry is left.
        failure: Failure,
    },
    /// Final.
    Fail(Failure),
}

/// One HTTP answer, as the classifier needs it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// Request path, for messages.
    pub endpoint: &'a str,
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// `Server`, if any (quoted for intermediaries).
    pub server: Option<&'a str>,
    /// `Retry-After` already parsed into a wait.
    pub retry_after: Option<Duration>,
    /// The answer's `Date`, as unix seconds.
    pub server_date: Option<i64>,
    /// This machine's clock when the answer came, unix seconds.
    pub local_now: i64,
    /// The body, whole.
    pub body: &'a [u8],
}

/// The envelope fields every Duo answer has; `code` is lenient (number or string) like Duo's Go
/// client.
#[derive(Deserialize)]
struct Envelope<'a> {
    stat: Option<&'a str>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
    #[serde(borrow)]
    code: Option<&'a RawValue>,
    message: Option<String>,
    message_detail: Option<String>,
}

/// The grant Duo wants for a path (names as in the Duo Admin Panel).
pub fn grant_for(endpoint: &str) -> &'static str {
    if endpoint.starts_with("/admin/v1/admins") {
        "Grant administrators"
    } else if endpoint.starts_with("/admin/v1/info") {
        "Grant read information"
    } else if endpoint.starts_with("/admin/v1/settings") {
        "Grant settings"
    } else if endpoint.contains("/logs/") {
        "Grant read log"
    } else {
        "Grant read resource"
    }
}

/// Where an owner turns a grant on.
pub fn where_to_grant(grant: &str) -> String {
    format!(
        "an owner turns it on in the Duo Admin Panel: Applications → the Admin API application → \
         Permissions → check \"{grant}\" → Save Changes"
    )
}

/// Classifies one whole HTTP answer.
pub fn classify_answer(answer: &Answer<'_>) -> Verdict {
    let status = answer.status;
    let envelope = serde_json::from_slice::<Envelope<'_>>(answer.body).ok();
    let duo_code = envelope.as_ref().and_then(|e| e.code).and_then(parse_code);
    match envelope {
        Some(Envelope {
            stat: Some("OK"),
            response: Some(_),
            ..
        }) if status == 200 => Verdict::Success,
        Some(
            ref e @ Envelope {
                stat: Some("FAIL"), ..
            },
        ) if duo_code.is_some() && status != 200 => {
            let code = duo_code.unwrap_or_default();
            let text = duo_text(code, e.message.as_deref(), e.message_detail.as_deref());
            duo_error(answer, code, &text)
        }
        _ if status == 200 => Verdict::Fail(not_a_duo_success(answer, envelope.is_some())),
        _ => not_duo(answer),
    }
}

/// A Duo error answer (`stat: FAIL` with a code), by code.
fn duo_error(answer: &Answer<'_>, code: u32, text: &str) -> Verdict {
    let endpoint = answer.endpoint;
    let failure = |kind, message: String| Failure {
        kind,
        message,
        endpoint: Some(endpoint.to_owned()),
        http_status: Some(answer.status),
        duo_code: Some(code),
        clock_offset_s: None,
        while_connecting: false,
    };
    match code {
        40102 => Verdict::Fail(failure(
            ErrorKind::InvalidCredentials,
            format!(
                "Duo refused the integration key ({text}): it is unknown, or it belongs to an application \
                 that is not an Admin API application (Auth API and Web SDK keys do not work here). Use \
                 the integration key of an Admin API application (Duo Admin Panel → Applications), and \
                 check that the Admin API is available on the account's plan."
            ),
        )),
        40103 => Verdict::Fail(failure(
            ErrorKind::InvalidSignature,
            format!(
                "Duo refused the request signature ({text}): the secret key does not belong to this \
                 integration key. Copy the secret key again from the Admin API application's page in the \
                 Duo Admin Panel; if it is right, something between this host and Duo changed the request."
            ),
        )),
        40105 => {
            let offset = answer.server_date.map(|server| server - answer.local_now);
            let how_far = match offset {
                Some(s) if s > 0 => format!("this machine's clock is {s} s behind Duo's"),
                Some(s) if s < 0 => format!("this machine's clock is {} s ahead of Duo's", -s),
                Some(_) => "Duo's Date header matches this machine's clock, so the request was delayed \
                            or its Date header was changed on the way"
                    .to_owned(),
                None => "Duo's answer had no Date header to compare with".to_owned(),
            };
            let mut f = failure(
                ErrorKind::ClockSkew,
                format!(
                    "Duo refused the request's timestamp ({text}): {how_far}. Duo accepts requests only \
                     within a few minutes of its own clock; synchronize this machine's clock (NTP)."
                ),
            );
            f.clock_offset_s = offset;
            Verdict::Fail(f)
        }
        40301 => {
            let grant = grant_for(endpoint);
            Verdict::Fail(failure(
                ErrorKind::PermissionDenied,
                format!(
                    "Duo refused access to {endpoint} ({text}): the Admin API application lacks the \
                     \"{grant}\" permission; {}. (Duo gives the same answer when this host's address is \
                     not in the application's \"Networks for API Access\".)",
                    where_to_grant(grant)
                ),
            ))
        }
        _ if code / 100 == 429 || answer.status == 429 => Verdict::Retry {
            class: RetryClass::RateLimited,
            retry_after: answer.retry_after,
            failure: failure(
                ErrorKind::RateLimited,
                format!(
                    "Duo still answered {} ({text}) after every retry: the Admin API application's rate \
                     limit is spent (it may be shared with other tools using the same application). Run \
                     the sync again later or less often.",
                    answer.status
                ),
            ),
        },
        _ if answer.status >= 500 => Verdict::Retry {
            class: RetryClass::ServerError,
            retry_after: answer.retry_after,
            failure: failure(
                ErrorKind::ServerError,
                format!(
                    "Duo answered {} ({text}) after every retry: a problem on Duo's side. Try again later \
                     and check https://status.duo.com.",
                    answer.status
                ),
            ),
        },
        _ => Verdict::Fail(failure(
            ErrorKind::Protocol,
            format!(
                "Duo says the request to {endpoint} was malformed ({} {text}). This is a connector bug \
                 (or a proxy that rewrites requests, for example one that drops the Date header); please \
                 report it with this message.",
                answer.status
            ),
        )),
    }
}

/// A 200 that is not Duo's `stat: OK` with a `response`.
fn not_a_duo_success(answer: &Answer<'_>, was_json: bool) -> Failure {
    let mut failure = if looks_like_html(answer) {
        blocked(answer, "answered 200 with an HTML page instead of Duo's JSON")
    } else if answer.body.iter().all(u8::is_ascii_whitespace) {
        blocked(answer, "answered 200 with an empty body instead of Duo's JSON")
    } else {
        let what = if was_json {
            "is JSON but not Duo's success envelope (no \"stat\": \"OK\" with a \"response\")"
        } else {
            "is not valid JSON (cut short or garbled)"
        };
        Failure::new(
            ErrorKind::Protocol,
            format!(
                "Duo's 200 answer to {} {what}: {}",
                answer.endpoint,
                excerpt(answer.body)
            ),
        )
    };
    failure.endpoint = Some(answer.endpoint.to_owned());
    failure.http_status = Some(answer.status);
    failure
}

/// An error answer that is not Duo's envelope: something in between answered.
fn not_duo(answer: &Answer<'_>) -> Verdict {
    let what = if answer.status == 407 {
        "is a proxy that wants credentials (407 Proxy Authentication Required)".to_owned()
    } else {
        format!("answered {} {}", answer.status, describe_body(answer))
    };
    let failure = blocked(answer, &what);
    match answer.status {
        429 => Verdict::Retry {
            class: RetryClass::RateLimited,
            retry_after: answer.retry_after,
            failure,
        },
        500.. => Verdict::Retry {
            class: RetryClass::ServerError,
            retry_after: answer.retry_after,
            failure,
        },
        _ => Verdict::Fail(failure),
    }
}

fn blocked(answer: &Answer<'_>, what: &str) -> Failure {
    let server = answer
        .server
        .map(|s| format!(" (Server: {s})"))
        .unwrap_or_default();
    Failure {
        kind: ErrorKind::BlockedByIntermediary,
        message: format!(
            "Something between this host and Duo refused the request to {}: it {what}{server}, which is \
             not an answer from Duo. A firewall, WAF or proxy is in the way: allow HTTPS (TCP 443) from \
             this host to the Duo API hostname (api-*.duosecurity.com), without TLS inspection.",
            answer.endpoint
        ),
        endpoint: Some(answer.endpoint.to_owned()),
        http_status: Some(answer.status),
        duo_code: None,
        clock_offset_s: None,
        while_connecting: false,
    }
}

fn looks_like_html(answer: &Answer<'_>) -> bool {
    let typed = answer
        .content_type
        .is_some_and(|t| t.to_ascii_lowercase().contains("html"));
    let text = String::from_utf8_lossy(answer.body.get(..512).unwrap_or(answer.body));
    typed || text.trim_start().starts_with('<')
}

fn describe_body(answer: &Answer<'_>) -> String {
    if looks_like_html(answer) {
        match html_title(answer.body) {
            Some(title) => format!("with an HTML page titled \"{title}\""),
            None => "with an HTML page".to_owned(),
        }
    } else if answer.body.iter().all(u8::is_ascii_whitespace) {
        "with an empty body".to_owned()
    } else {
        format!("with {}", excerpt(answer.body))
    }
}

/// The text of the page's `<title>`, trimmed and shortened.
pub fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower.get(start..)?.find('>')? + 1;
    let close = open_end + lower.get(open_end..)?.find("</title")?;
    let title: String = text
        .get(open_end..close)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!title.is_empty()).then(|| shorten(&title, 120))
}

/// The first bytes of a body, quoted, for a message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body.get(..200).unwrap_or(body));
    format!("{:?}", shorten(text.trim(), 120))
}

fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn parse_code(raw: &RawValue) -> Option<u32> {
    let text = raw.get().trim().trim_matches('"');
    text.parse().ok()
}

fn duo_text(code: u32, message: Option<&str>, detail: Option<&str>) -> String {
    match (message, detail) {
        (Some(m), Some(d)) => format!("{code} {m}: {d}"),
        (Some(m), None) => format!("{code} {m}"),
        _ => code.to_string(),
    }
}

/// What an answer's body was, told without keeping any of it: a support bundle records this
/// instead of the body (which may hold user data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyShape {
    /// Duo's success: `stat` `OK` with a `response`.
    DuoOk,
    /// Duo's error: `stat` `FAIL` with a code.
    DuoFail,
    /// JSON with `stat` `OK` and no `response`.
    StatOkWithoutResponse,
    /// JSON with a `stat` other than `OK` or `FAIL` (or `FAIL` without a code).
    OtherStat,
    /// JSON that is not Duo's envelope at all (no `stat`).
    OtherJson,
    /// An HTML page.
    Html,
    /// Nothing, or only white space.
    Empty,
    /// Not JSON (cut short, garbled, plain text).
    NotJson,
}

/// What a support bundle keeps of an answer's body: its shape, Duo's code and texts when it is
/// Duo's error, and the title when it is an HTML page. Never a byte of a success's `response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyFacts {
    /// What the body was.
    pub shape: BodyShape,
    /// Duo's `code`, for Duo's error.
    pub duo_code: Option<u32>,
    /// Duo's `message`, for Duo's error.
    pub duo_message: Option<String>,
    /// Duo's `message_detail`, for Duo's error.
    pub duo_message_detail: Option<String>,
    /// The `<title>` of an HTML page.
    pub html_title: Option<String>,
}

/// Reads what [`BodyFacts`] keeps from a body and its `Content-Type`.
pub fn body_facts(content_type: Option<&str>, body: &[u8]) -> BodyFacts {
    let mut facts = BodyFacts {
        shape: BodyShape::NotJson,
        duo_code: None,
        duo_message: None,
        duo_message_detail: None,
        html_title: None,
    };
    let probe = Answer {
        endpoint: "",
        status: 0,
        content_type,
        server: None,
        retry_after: None,
        server_date: None,
        local_now: 0,
        body,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        facts.shape = BodyShape::Empty;
    } else if let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(body) {
        let code = envelope.code.and_then(parse_code);
        facts.shape = match (envelope.stat, envelope.response, code) {
            (Some("OK"), Some(_), _) => BodyShape::DuoOk,
            (Some("OK"), None, _) => BodyShape::StatOkWithoutResponse,
            (Some("FAIL"), _, Some(_)) => BodyShape::DuoFail,
            (Some(_), _, _) => BodyShape::OtherStat,
            (None, _, _) => BodyShape::OtherJson,
        };
        if facts.shape == BodyShape::DuoFail {
            facts.duo_code = code;
            facts.duo_message = envelope.message.map(|m| shorten(&m, 120));
            facts.duo_message_detail = envelope.message_detail.map(|m| shorten(&m, 120));
        }
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        facts.shape = BodyShape::OtherJson;
    } else if looks_like_html(&probe) {
        facts.shape = BodyShape::Html;
        facts.html_title = html_title(body);
    }
    facts
}

/// How a request that got no whole answer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The name did not resolve.
    Dns,
    /// Nothing listens there (connection refused).
    Refused,
    /// Connecting or waiting for the answer took too long.
    Timeout,
    /// The TLS handshake or the certificate failed.
    Tls,
    /// HTTPS was asked for and the server's first bytes were not TLS: a plain-HTTP server on the
    /// port (rustls reads its `HTTP/1.1 400` as a record of an invalid content type).
    NotTls,
    /// Plain HTTP was asked for (`--plain-http`) and the server answered with TLS.
    TlsOnPlainHttp,
    /// A proxy refused to open a tunnel.
    ProxyTunnel,
    /// The connection was reset or closed after it was made, before a whole answer.
    Cut,
}

impl TransportFailure {
    /// True for the failures that can only happen before a request is sent; a timeout or a cut
    /// connection can happen either way, which the caller knows.
    fn always_while_connecting(self) -> bool {
        !matches!(self, Self::Timeout | Self::Cut)
    }
}

/// Classifies a request that got no whole answer; `connecting` says the failure came while the
/// connection was being made (the HTTP client knows).
pub fn classify_transport(
    endpoint: &str,
    host: &str,
    failure: TransportFailure,
    connecting: bool,
    detail: &str,
) -> Verdict {
    let fail = |kind, message: String| Failure {
        while_connecting: connecting || failure.always_while_connecting(),
        ..Failure::new(kind, message).at(endpoint)
    };
    match failure {
        TransportFailure::Dns => Verdict::Fail(fail(
            ErrorKind::Network,
            format!(
                "The API hostname {host} does not resolve ({detail}). Check it against the Admin API \
                 application's page in the Duo Admin Panel (api-xxxxxxxx.duosecurity.com) and this \
                 host's DNS."
            ),
        )),
        TransportFailure::Refused => Verdict::Retry {
            class: RetryClass::Transient,
            retry_after: None,
            failure: fail(
                ErrorKind::Network,
                format!(
                    "Nothing accepted a connection to {host} ({detail}). Check the API hostname and that \
                     outbound HTTPS (TCP 443) is allowed."
                ),
            ),
        },
        TransportFailure::Timeout => Verdict::Retry {
            class: RetryClass::Timeout,
            retry_after: None,
            failure: fail(
                ErrorKind::Network,
                format!(
                    "The request to {host} timed out ({detail}). Check that outbound HTTPS (TCP 443) to \
                     Duo is allowed and not held by a proxy."
                ),
            ),
        },
        TransportFailure::Tls => Verdict::Fail(fail(
            ErrorKind::Tls,
            format!(
                "The TLS connection to {host} failed ({detail}). If a proxy inspects TLS on this network, \
                 exempt the Duo API hostname from inspection or give its CA with --ca-cert; otherwise \
                 check the hostname and this host's clock."
            ),
        )),
        TransportFailure::NotTls => Verdict::Fail(classify_not_tls(endpoint, host, detail, None)),
        TransportFailure::TlsOnPlainHttp => Verdict::Fail(fail(
            ErrorKind::Tls,
            format!(
                "The server at {host} answered a plain-HTTP request with TLS ({detail}): it speaks \
                 HTTPS, so --plain-http does not fit it. Run without --plain-http (for a fake served \
                 with --tls, trust its CA with --ca-cert)."
            ),
        )),
        TransportFailure::ProxyTunnel => Verdict::Fail(fail(
            ErrorKind::BlockedByIntermediary,
            format!(
                "The HTTP proxy refused to open a tunnel to {host} ({detail}), so Duo was never reached. \
                 Allow the Duo API hostname on the proxy, or give the proxy's credentials in HTTPS_PROXY."
            ),
        )),
        TransportFailure::Cut => Verdict::Retry {
            class: RetryClass::Transient,
            retry_after: None,
            failure: fail(
                ErrorKind::BlockedByIntermediary,
                format!(
                    "The connection to {host} was cut before a whole answer came ({detail}). Duo does not \
                     do this; a firewall, WAF or proxy between this host and Duo is the usual cause: \
                     allow HTTPS (TCP 443) from this host to the Duo API hostname."
                ),
            ),
        },
    }
}

/// HTTPS was asked for and the server did not answer with TLS ([`TransportFailure::NotTls`]).
/// `plain_answer` is what the same address answered to Duo's unsigned ping over plain HTTP, when
/// the client could ask. Always `tls`: no TLS connection could be made, and nothing refused the
/// request (it was never sent), so this must not read as a WAF's or a proxy's refusal.
pub fn classify_not_tls(
    endpoint: &str,
    host: &str,
    detail: &str,
    plain_answer: Option<&Answer<'_>>,
) -> Failure {
    let what_answered = match plain_answer {
        Some(answer) if is_duo_envelope(answer.body) => {
            "Asked over plain HTTP, it answers as Duo does, so it is a Duo API server without TLS, \
             such as a local fake served without --tls: run with --plain-http, or serve it over \
             HTTPS (duo-mock serve --tls) and trust its CA with --ca-cert."
                .to_owned()
        }
        Some(answer) => {
            let server = answer
                .server
                .map(|s| format!(" (Server: {s})"))
                .unwrap_or_default();
            format!(
                "Asked over plain HTTP, it answered {} {}{server}, not as Duo does. For a local fake \
                 served without TLS, run with --plain-http. Duo speaks only HTTPS, so on Duo's API \
                 hostname this is something on the way (a captive portal, a firewall's page) \
                 answering without TLS: allow HTTPS (TCP 443) from this host to the Duo API hostname.",
                answer.status,
                describe_body(answer)
            )
        }
        None => "For a local fake served without TLS, run with --plain-http, or serve it over HTTPS \
                 (duo-mock serve --tls) and trust its CA with --ca-cert. Duo speaks only HTTPS."
            .to_owned(),
    };
    Failure {
        while_connecting: true,
        ..Failure::new(
            ErrorKind::Tls,
            format!(
                "The server at {host} answered plain HTTP: use --plain-http or https. It does not \
                 speak TLS on that port, so no HTTPS connection could be made. {what_answered} (TLS \
                 handshake: {detail})"
            ),
        )
        .at(endpoint)
    }
}

/// True when `body` is Duo's envelope: `stat` `OK` with a `response`, or `FAIL` with a code.
fn is_duo_envelope(body: &[u8]) -> bool {
    match serde_json::from_slice::<Envelope<'_>>(body) {
        Ok(Envelope {
            stat: Some("OK"),
            response: Some(_),
            ..
        }) => true,
        Ok(Envelope {
            stat: Some("FAIL"),
            code,
            ..
        }) => code.and_then(parse_code).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer<'a>(status: u16, content_type: Option<&'a str>, body: &'a str) -> Answer<'a> {
        Answer {
            endpoint: "/admin/v1/users",
            status,
            content_type,
            server: None,
            retry_after: None,
            server_date: None,
            local_now: 1_000_000,
            body: body.as_bytes(),
        }
    }

    fn failure(verdict: Verdict) -> Failure {
        match verdict {
            Verdict::Fail(f) | Verdict::Retry { failure: f, .. } => f,
            Verdict::Success => panic!("expected a failure"),
        }
    }

    #[test]
    fn duo_success_is_success_and_duo_codes_map_to_kinds() {
        let ok = answer(200, Some("application/json"), r#"{"stat":"OK","response":[]}"#);
        assert!(matches!(classify_answer(&ok), Verdict::Success));
        for (status, code, kind) in [
            (401, 40102, ErrorKind::InvalidCredentials),
            (401, 40103, ErrorKind::InvalidSignature),
            (401, 40105, ErrorKind::ClockSkew),
            (403, 40301, ErrorKind::PermissionDenied),
            (401, 40101, ErrorKind::Protocol),
            (401, 40104, ErrorKind::Protocol),
            (400, 40002, ErrorKind::Protocol),
            (404, 40401, ErrorKind::Protocol),
            (429, 42901, ErrorKind::RateLimited),
            (500, 50000, ErrorKind::ServerError),
            (503, 50301, ErrorKind::ServerError),
        ] {
            let body = format!(r#"{{"code":{code},"message":"m","stat":"FAIL"}}"#);
            let f = failure(classify_answer(&answer(status, Some("application/json"), &body)));
            assert_eq!(
                (f.kind, f.duo_code, f.http_status),
                (kind, Some(code), Some(status)),
                "{code}"
            );
        }
    }

    #[test]
    fn a_string_code_is_read_like_a_number() {
        let body = r#"{"code":"40103","message":"Invalid signature in request credentials","stat":"FAIL"}"#;
        let f = failure(classify_answer(&answer(401, None, body)));
        assert_eq!(f.kind, ErrorKind::InvalidSignature);
    }

    #[test]
    fn permission_denied_names_the_grant_of_the_endpoint() {
        let body = r#"{"code":40301,"message":"Access forbidden","stat":"FAIL"}"#;
        let mut a = answer(403, None, body);
        a.endpoint = "/admin/v1/admins";
        let f = failure(classify_answer(&a));
        assert!(f.message.contains("\"Grant administrators\""), "{}", f.message);
        a.endpoint = "/admin/v2/groups/DGX/users";
        assert!(
            failure(classify_answer(&a))
                .message
                .contains("\"Grant read resource\"")
        );
    }

    #[test]
    fn clock_skew_says_how_far_and_which_way() {
        let body = r#"{"code":40105,"message":"Bad request timestamp","stat":"FAIL"}"#;
        let mut a = answer(401, None, body);
        a.server_date = Some(a.local_now + 3600);
        let f = failure(classify_answer(&a));
        assert_eq!(f.clock_offset_s, Some(3600));
        assert!(f.message.contains("3600 s behind"), "{}", f.message);
        a.server_date = Some(a.local_now - 900);
        let f = failure(classify_answer(&a));
        assert_eq!(f.clock_offset_s, Some(-900));
        assert!(f.message.contains("900 s ahead"), "{}", f.message);
    }

    #[test]
    fn pages_that_are_not_duos_are_blocked_by_an_intermediary_with_their_title() {
        let page = "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head></html>";
        let mut a = answer(403, Some("text/html; charset=UTF-8"), page);
        a.server = Some("cloudflare");
        let f = failure(classify_answer(&a));
        assert_eq!(f.kind, ErrorKind::BlockedByIntermediary);
        assert!(
            f.message.contains("Attention Required! | Cloudflare"),
            "{}",
            f.message
        );
        assert!(f.message.contains("cloudflare"));
        assert_eq!(f.duo_code, None);
        // A proxy's 407, a JSON error that is not Duo's, a gateway's 502 after retries.
        assert_eq!(
            failure(classify_answer(&answer(407, None, ""))).kind,
            ErrorKind::BlockedByIntermediary
        );
        let other_json = answer(403, Some("application/json"), r#"{"error":"forbidden"}"#);
        assert_eq!(
            failure(classify_answer(&other_json)).kind,
            ErrorKind::BlockedByIntermediary
        );
        let gateway = classify_answer(&answer(
            502,
            Some("text/html"),
            "<html><title>502 Bad Gateway</title>",
        ));
        assert!(matches!(
            gateway,
            Verdict::Retry {
                class: RetryClass::ServerError,
                ..
            }
        ));
        assert_eq!(failure(gateway).kind, ErrorKind::BlockedByIntermediary);
    }

    #[test]
    fn a_200_is_blocked_when_html_or_empty_and_protocol_when_bad_json() {
        let block = answer(
            200,
            Some("text/html"),
            "<html><title>Access denied</title></html>",
        );
        assert_eq!(
            failure(classify_answer(&block)).kind,
            ErrorKind::BlockedByIntermediary
        );
        assert_eq!(
            failure(classify_answer(&answer(200, None, ""))).kind,
            ErrorKind::BlockedByIntermediary
        );
        for body in [
            r#"{"stat":"OK","response":[{"user_id":"DU1"#,
            r#"{"stat":"FAIL","response":[]}"#,
            r#"{"stat":"OK"}"#,
            "not json",
        ] {
            let f = failure(classify_answer(&answer(200, Some("application/json"), body)));
            assert_eq!(f.kind, ErrorKind::Protocol, "{body}");
        }
    }

    #[test]
    fn titles_are_found_case_insensitively_and_shortened() {
        assert_eq!(
            html_title(b"<HTML><TITLE>\n  Blocked\n page </TITLE>").as_deref(),
            Some("Blocked page")
        );
        assert_eq!(html_title(b"<html><body>no title</body>"), None);
        let long = format!("<title>{}</title>", "é".repeat(300));
        assert_eq!(html_title(long.as_bytes()).unwrap().chars().count(), 121);
    }

    #[test]
    fn transport_failures_map_to_network_tls_or_blocked() {
        let kind = |f| failure(classify_transport("/p", "h", f, false, "d")).kind;
        assert_eq!(kind(TransportFailure::Dns), ErrorKind::Network);
        assert_eq!(kind(TransportFailure::Refused), ErrorKind::Network);
        assert_eq!(kind(TransportFailure::Timeout), ErrorKind::Network);
        assert_eq!(kind(TransportFailure::Tls), ErrorKind::Tls);
        assert_eq!(kind(TransportFailure::NotTls), ErrorKind::Tls);
        assert_eq!(kind(TransportFailure::TlsOnPlainHttp), ErrorKind::Tls);
        assert_eq!(
            kind(TransportFailure::ProxyTunnel),
            ErrorKind::BlockedByIntermediary
        );
        assert_eq!(kind(TransportFailure::Cut), ErrorKind::BlockedByIntermediary);
    }

    #[test]
    fn only_a_cut_or_a_timeout_after_connecting_is_a_failure_of_the_request() {
        let connecting = |f, while_connecting| {
            failure(classify_transport("/p", "h", f, while_connecting, "d")).while_connecting
        };
        for f in [TransportFailure::Timeout, TransportFailure::Cut] {
            assert!(!connecting(f, false), "{f:?}");
            assert!(connecting(f, true), "{f:?}");
        }
        for f in [
            TransportFailure::Dns,
            TransportFailure::Refused,
            TransportFailure::Tls,
            TransportFailure::NotTls,
            TransportFailure::TlsOnPlainHttp,
            TransportFailure::ProxyTunnel,
        ] {
            assert!(connecting(f, false), "{f:?}");
        }
        let duo = r#"{"code":40301,"message":"Access forbidden","stat":"FAIL"}"#;
        assert!(!failure(classify_answer(&answer(403, None, duo))).while_connecting);
        assert!(!failure(classify_answer(&answer(403, Some("text/html"), "<html>"))).while_connecting);
    }

    #[test]
    fn a_plain_http_server_is_tls_and_what_answered_over_plain_http_is_said() {
        let detail = "received corrupt message of type InvalidContentType";
        for plain in [
            None,
            Some(answer(200, None, r#"{"response":{"time":1},"stat":"OK"}"#)),
            Some(answer(
                401,
                None,
                r#"{"code":40101,"message":"Missing","stat":"FAIL"}"#,
            )),
            Some(answer(
                403,
                Some("text/html"),
                "<html><title>Blocked</title></html>",
            )),
        ] {
            let f = classify_not_tls("/admin/v1/users", "localhost:8443", detail, plain.as_ref());
            assert_eq!(f.kind, ErrorKind::Tls, "{}", f.message);
            assert!(f.while_connecting);
            assert_eq!((f.http_status, f.duo_code), (None, None));
            assert_eq!(f.endpoint.as_deref(), Some("/admin/v1/users"));
            assert!(
                f.message
                    .contains("localhost:8443 answered plain HTTP: use --plain-http or https"),
                "{}",
                f.message
            );
            assert!(f.message.contains(detail), "{}", f.message);
            assert!(!f.message.contains("WAF or proxy"), "{}", f.message);
            let is_duo = plain.as_ref().is_some_and(|a| a.status != 403);
            assert_eq!(f.message.contains("answers as Duo does"), is_duo, "{}", f.message);
            assert_eq!(
                f.message.contains("titled \"Blocked\""),
                plain.as_ref().is_some_and(|a| a.status == 403),
                "{}",
                f.message
            );
        }
    }
}
