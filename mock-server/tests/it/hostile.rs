//! Hostile requests over loopback, seeded and bounded: broken credentials, huge heads and
//! queries, invalid UTF-8 and NUL bytes in escapes, path traversal, unknown methods, absurd
//! paging, every log parameter gone wrong (times, cursors of each shape, filter lists of 10,000
//! values), invalid and deeply nested JSON, partial and stalled requests, malformed HTTP, and a
//! crowd of connections at once. The server must never panic, never answer 5xx unless a fault
//! rule asked, answer each request with Duo's envelope or a clean 4xx (or close it, where that is
//! the documented answer), give its memory back, and still serve a valid request at the end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use mock_server::grants::Grant;
use mock_server::{Scenario, ServerInfo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::support::{RawOutcome, TestServer, read_raw_answer, signed_raw, signed_raw_by, spawn};

/// The one seed: a failure names the case's index in its round, and the same seed replays it.
const SEED: u64 = 0x0d0e_6057_1e5e_ed06;
/// Rounds of cases; the first `WARM_UP_ROUNDS` bring the allocator to its working size (its
/// arenas and the runtime's task slabs grow over the first thousand requests or so), and memory
/// after the last round is compared with the most it held after those.
const ROUNDS: usize = 6;
const WARM_UP_ROUNDS: usize = 2;
const CASES_PER_ROUND: usize = 450;
/// Connections opened at once, each then sending a valid request, once per round.
const CROWD: usize = 300;
/// Hostile requests in flight at once.
const CONCURRENCY: usize = 48;
/// The scenario's header-read timeout: stalled requests are closed after it.
const HEADER_TIMEOUT: Duration = Duration::from_millis(400);
/// Longest wait for any answer (or close): well past the header-read timeout.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How much more memory the process may hold after the last round than after the warm-up:
/// allocator slack (measured: 2-4 MiB), well below what the 3,000 requests of the later rounds
/// would hold if each kept a connection's buffers (8-64 KiB each).
const RSS_SLACK_KIB: u64 = 12 * 1024;
/// Set in the child process that runs the requests (see the test).
const CHILD: &str = "DUO_MOCK_HOSTILE_CHILD";
/// The route a fault rule answers with a 500: the one 5xx that is asked for.
const FAULTED: &str = "/admin/v1/info/summary";

/// Panics anywhere in the process (the server's tasks included), counted by a hook.
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// An answer (or end of connection) a case accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// 200, `application/json`, `{"stat":"OK",…}`.
    Ok200,
    /// Duo's failure envelope, any 4xx.
    Duo4xx,
    /// Duo's failure envelope with this status.
    DuoStatus(u16),
    /// The HTTP layer's own refusal of malformed HTTP: one of these statuses, empty body.
    Bare(&'static [u16]),
    /// The connection closed (or reset) before a whole answer.
    Closed,
    /// The control API's refusal: 401 or 403 with `{"error": …}`.
    ControlRefusal,
    /// The fault rule's 500 50000 envelope.
    Faulted500,
    /// 200 with the logo: `image/png`, a PNG's signature.
    Png200,
}

/// How a case's bytes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Write, then read one answer.
    Exchange,
    /// Write, then close without reading.
    HangUp,
    /// Write, close the write side, then read.
    HalfClose,
    /// Write an incomplete head and wait: the server must close after its header-read timeout.
    Stall,
}

#[derive(Debug)]
struct Case {
    what: String,
    bytes: Vec<u8>,
    how: How,
    accept: Vec<Accept>,
}

impl Case {
    fn new(what: impl Into<String>, bytes: Vec<u8>, accept: &[Accept]) -> Self {
        Self {
            what: what.into(),
            bytes,
            how: How::Exchange,
            accept: accept.to_vec(),
        }
    }
}

/// Ids of real objects, so signed requests reach their handlers.
struct Ids {
    user: String,
    group: String,
    admin: String,
    integration: String,
    admin_unit: String,
    policy: String,
}

/// Safe (read-only) signed targets.
fn readable(rng: &mut ChaCha8Rng, ids: &Ids) -> String {
    let targets = [
        "/admin/v1/users?limit=3".to_owned(),
        format!("/admin/v1/users/{}", ids.user),
        format!("/admin/v1/users/{}/groups", ids.user),
        "/admin/v1/groups".to_owned(),
        format!("/admin/v2/groups/{}", ids.group),
        format!("/admin/v2/groups/{}/users?limit=2", ids.group),
        "/admin/v1/admins".to_owned(),
        format!("/admin/v1/admins/{}", ids.admin),
        "/admin/v1/settings".to_owned(),
        format!("/admin/v2/logs/authentication?{}&limit=3", recent_window()),
        "/admin/v1/logs/administrator?mintime=0".to_owned(),
        format!("/admin/v1/trust_monitor/events?{}&limit=2", recent_window()),
        "/admin/v1/info/authentication_attempts".to_owned(),
        "/admin/v1/phones?limit=3".to_owned(),
        "/admin/v1/tokens?type=h6&serial=1".to_owned(),
        "/admin/v1/webauthncredentials".to_owned(),
        format!("/admin/v1/users/{}/phones", ids.user),
        format!("/admin/v1/users/{}/tokens?limit=1", ids.user),
        format!("/admin/v1/users/{}/webauthncredentials", ids.user),
        "/admin/v1/u2ftokens?limit=2".to_owned(),
        format!("/admin/v1/users/{}/u2ftokens", ids.user),
        "/admin/v1/desktoptokens".to_owned(),
        "/admin/v1/bypass_codes?limit=4".to_owned(),
        format!("/admin/v1/users/{}/bypass_codes", ids.user),
        "/admin/v1/desktop_authenticators".to_owned(),
        format!("/admin/v1/users/{}/desktopauthenticators", ids.user),
        "/admin/v1/endpoints?offset=3".to_owned(),
        "/admin/v1/registered_devices?limit=2".to_owned(),
        "/admin/v2/passport/config".to_owned(),
        format!("/admin/v2/identity_verification/{}/status", ids.user),
        "/admin/v3/integrations".to_owned(),
        "/admin/v2/integrations?limit=2".to_owned(),
        "/admin/v1/integrations?offset=1".to_owned(),
        format!("/admin/v2/integrations/{}", ids.integration),
        format!("/admin/v3/integrations/{}", ids.integration),
        format!("/admin/v1/integrations/{}/skey", ids.integration),
        "/admin/v1/administrative_units".to_owned(),
        format!("/admin/v1/administrative_units/{}", ids.admin_unit),
        format!("/admin/v1/administrative_units?group_id={}", ids.group),
        "/admin/v1/admins/password_mgmt?limit=2".to_owned(),
        format!("/admin/v1/admins/{}/password_mgmt", ids.admin),
        "/admin/v1/admins/allowed_auth_methods".to_owned(),
        "/admin/v1/admins/activations".to_owned(),
        "/admin/v2/policies".to_owned(),
        "/admin/v2/policies/global".to_owned(),
        "/admin/v2/policies/summary".to_owned(),
        format!("/admin/v2/policies/{}", ids.policy),
        format!(
            "/admin/v2/policies/calculate?integration_key={}&user_id={}",
            ids.integration, ids.user
        ),
        "/admin/v1/billing/edition".to_owned(),
        "/admin/v1/billing/telephony_credits".to_owned(),
    ];
    targets[rng.random_range(0..targets.len())].clone()
}

/// The last hour, as a v2 log's `mintime`/`maxtime` (ms).
fn recent_window() -> String {
    let now_ms = crate::support::now() * 1000;
    format!("mintime={}&maxtime={now_ms}", now_ms - 3_600_000)
}

/// Every log endpoint and info report.
const LOGS: [&str; 11] = [
    "/admin/v2/logs/authentication",
    "/admin/v1/logs/authentication",
    "/admin/v1/logs/administrator",
    "/admin/v1/logs/telephony",
    "/admin/v2/logs/telephony",
    "/admin/v2/logs/activity",
    "/admin/v1/logs/offline_enrollment",
    "/admin/v1/trust_monitor/events",
    "/admin/v1/info/authentication_attempts",
    "/admin/v1/info/user_authentication_attempts",
    "/admin/v1/info/telephony_credits_used",
];

/// Times that are not what a log wants: garbage, huge, negative, seconds for ms, too old.
fn absurd_time(rng: &mut ChaCha8Rng) -> String {
    let now_ms = crate::support::now() * 1000;
    match rng.random_range(0..14) {
        0 => String::new(),
        1 => "-1".to_owned(),
        2 => format!("-{now_ms}"),
        3 => "99999999999999999999999999".to_owned(),
        4 => "9".repeat(rng.random_range(19..400)),
        5 => (now_ms / 1000).to_string(),
        6 => (now_ms * 1000).to_string(),
        7 => (now_ms - 181 * 86_400_000).to_string(),
        8 => now_ms.to_string(),
        9 => "1e12".to_owned(),
        10 => "%00".to_owned(),
        11 => pick(rng, &BAD_UTF8).to_owned(),
        12 => "0000000000000".to_owned(),
        _ => (now_ms - rng.random_range(0..200 * 86_400_000_i64)).to_string(),
    }
}

/// A log request with hostile parameters: absurd times, malformed cursors of each shape,
/// filter lists of thousands of values, garbage limits and sorts.
fn log_case(rng: &mut ChaCha8Rng, info: &ServerInfo) -> Case {
    use Accept::{Bare, Closed, Duo4xx, Ok200};
    let path = pick(rng, &LOGS);
    let now_ms = crate::support::now() * 1000;
    let (what, query) = match rng.random_range(0..4) {
        0 => {
            let (a, b) = (absurd_time(rng), absurd_time(rng));
            ("times", format!("mintime={a}&maxtime={b}"))
        }
        1 => {
            let txid = "5bea5c1e-682c-4f1d-b3f0-75fd31385bd5";
            let cursor = pick(
                rng,
                &[
                    "next_offset=1547486297000",
                    "next_offset=1547486297000%2C5bea5c1e-682c-4f1d-b3f0-75fd31385bd5",
                    "next_offset=1547486297000&next_offset=5bea5c1e-682c-4f1d-b3f0-75fd31385bd5",
                    "next_offset=%5B%221547486297000%22%2C%225bea5c1e%22%5D",
                    "next_offset=%5B",
                    "next_offset=-5%2Cx",
                    "next_offset=1%2C2%2C3",
                    "next_offset=99999999999999999999%2C5bea5c1e-682c-4f1d-b3f0-75fd31385bd5",
                    "next_offset=1547486297000%2Czzzzzzzz-682c-4f1d-b3f0-75fd31385bd5",
                    "next_offset=&next_offset=&next_offset=",
                    "offset=-1",
                    "offset=31229",
                    "offset=99999999999999999999999",
                    "offset=%FF",
                ],
            );
            let extra = if rng.random_bool(0.3) {
                format!("&next_offset={txid}")
            } else {
                String::new()
            };
            ("cursor", format!("{}&{cursor}{extra}", recent_window()))
        }
        2 => {
            let count = rng.random_range(1..=10_000);
            let key = pick(
                rng,
                &[
                    "users",
                    "groups",
                    "applications",
                    "results",
                    "factors",
                    "reasons",
                    "phone_numbers",
                    "tokens",
                    "event_types",
                ],
            );
            let list = if rng.random_bool(0.5) {
                (0..count)
                    .map(|i| format!("{key}=DU{i:018}"))
                    .collect::<Vec<_>>()
                    .join("&")
            } else {
                format!(
                    "{key}={}",
                    (0..count)
                        .map(|i| format!("v{i}"))
                        .collect::<Vec<_>>()
                        .join("%2C")
                )
            };
            // A long list meets the query or head limit: 400, 414 or 431, or a close.
            let accept: &[Accept] = &[Ok200, Duo4xx, Bare(&[414, 431]), Closed];
            return Case::new(
                format!("{count} values of {key} to {path}"),
                signed_raw(
                    info,
                    "GET",
                    &format!("{path}?{}&{list}", recent_window()),
                    "",
                    b"",
                ),
                accept,
            );
        }
        _ => {
            let limit = pick(rng, &ABSURD);
            let sort = pick(
                rng,
                &[
                    "ts:asc",
                    "ts:desc",
                    "asc",
                    "TS:DESC",
                    "",
                    "%00",
                    "ts:desc%2Cts:asc",
                ],
            );
            (
                "limit and sort",
                format!(
                    "mintime={}&maxtime={now_ms}&limit={limit}&sort={sort}&type=auth",
                    now_ms - 86_400_000
                ),
            )
        }
    };
    Case::new(
        format!("log {what}: {path}?{query}"),
        signed_raw(info, "GET", &format!("{path}?{query}"), "", b""),
        &[Ok200, Duo4xx],
    )
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn printable(rng: &mut ChaCha8Rng, len: usize) -> String {
    (0..len)
        .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
        .collect()
}

/// `GET /auth/v2/ping` with `extra` header lines.
fn ping_with(extra: &str) -> Vec<u8> {
    format!("GET /auth/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n").into_bytes()
}

const BAD_UTF8: [&str; 9] = [
    "%FF",
    "%FE%FF",
    "%C0%AF",
    "%E2%82",
    "%ED%A0%80",
    "%F4%90%80%80",
    "%80",
    "%C3%28",
    "%F0%28%8C%BC",
];

const ABSURD: [&str; 20] = [
    "-1",
    "0",
    "1",
    "300",
    "301",
    "1000000000",
    "18446744073709551615",
    "18446744073709551616",
    "999999999999999999",
    "9999999999999999999999999",
    "",
    "NaN",
    "0x10",
    "1e9",
    "%2B5",
    "%205",
    "5%20",
    "%D9%A3",
    "1.5",
    "00000000000000000000001",
];

const TRAVERSALS: [&str; 11] = [
    "/admin/v1/../../etc/passwd",
    "/admin/v1/users/..%2F..%2Fetc%2Fpasswd",
    "/admin/v1/users/../admins",
    "//admin/v1/users",
    "/admin/v1/users/%2e%2e",
    "/./admin/v1/users",
    "/admin/v1/users/./",
    "/admin/v1/users/%2e%2e%2f%2e%2e%2fadmins",
    "/admin/v1/users/..;/admins",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/admin/v1/users/%252e%252e%252f",
];

/// One hostile case, drawn from `rng`.
fn case(rng: &mut ChaCha8Rng, info: &ServerInfo, ids: &Ids) -> Case {
    use Accept::{Bare, Closed, ControlRefusal, Duo4xx, DuoStatus, Faulted500, Ok200};
    let json = "Content-Type: application/json\r\n";
    match rng.random_range(0..25) {
        0 => {
            let len = rng.random_range(0..120);
            let junk = printable(rng, len);
            let encoded = base64::engine::general_purpose::STANDARD.encode(junk.replace(':', ""));
            let value = match rng.random_range(0..5) {
                0 => format!("Basic {junk}"),
                1 => "Basic".to_owned(),
                2 => format!("Bearer {junk}"),
                3 => format!("Basic {encoded}"),
                _ => junk,
            };
            let date = duo_auth::date::format_date(crate::support::now());
            let bytes = format!(
                "GET /admin/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nDate: {date}\r\nAuthorization: {value}\r\n\r\n"
            );
            Case::new(
                format!("invalid Authorization {value:?}"),
                bytes.into_bytes(),
                &[DuoStatus(401)],
            )
        }
        1 => {
            let request = String::from_utf8(signed_raw(info, "GET", "/admin/v1/users?limit=5", "", b""))
                .expect("ASCII");
            let start = request.find("Authorization: ").expect("header") + "Authorization: ".len();
            let end = start + request[start..].find("\r\n").expect("line end");
            let cut = rng.random_range(start..end);
            let truncated = format!("{}{}", &request[..cut], &request[end..]);
            // Only the base64 padding cut: the same bytes decode, and the signature holds.
            let accept: &[Accept] = if request[cut..end].bytes().all(|b| b == b'=') {
                &[Ok200]
            } else {
                &[DuoStatus(401)]
            };
            Case::new(
                format!("Authorization truncated to {:?}", &request[start..cut]),
                truncated.into_bytes(),
                accept,
            )
        }
        2 => {
            let size = rng.random_range(65 * 1024..200 * 1024);
            // The server stops reading at the limit and may close before all is written.
            Case::new(
                format!("a {size}-byte header"),
                ping_with(&format!("X-Huge: {}\r\n", "h".repeat(size))),
                &[Bare(&[431]), Closed],
            )
        }
        3 => {
            let count = rng.random_range(101..400);
            let headers: String = (0..count).map(|i| format!("X-H{i}: v\r\n")).collect();
            Case::new(
                format!("{count} headers"),
                ping_with(&headers),
                &[Bare(&[431]), Closed],
            )
        }
        4 => {
            let size = rng.random_range(33 * 1024..60 * 1024);
            let target = format!("/admin/v1/users?username={}", "q".repeat(size));
            Case::new(
                format!("a {size}-byte query"),
                signed_raw(info, "GET", &target, "", b""),
                &[DuoStatus(400)],
            )
        }
        5 => {
            let size = rng.random_range(66 * 1024..100 * 1024);
            let target = format!("/admin/v1/users?username={}", "q".repeat(size));
            Case::new(
                format!("a {size}-byte query, over the head limit"),
                signed_raw(info, "GET", &target, "", b""),
                &[Bare(&[414, 431]), Closed],
            )
        }
        6 => {
            let bad = pick(rng, &BAD_UTF8);
            let target = match rng.random_range(0..15) {
                0 => format!("/admin/v1/users?username={bad}"),
                1 => format!("/admin/v1/users?{bad}={bad}"),
                2 => format!("/admin/v1/users/{bad}"),
                3 => format!("/admin/v1/groups/{bad}"),
                4 => format!("/admin/v2/groups/{}/users?limit={bad}", ids.group),
                5 => format!("/admin/v1/users?user_id_list={bad}&user_id_list=%5B%22{bad}%22%5D"),
                6 => format!("/admin/v1/phones?number={bad}&extension={bad}"),
                7 => format!("/admin/v1/tokens?type={bad}&serial={bad}"),
                8 => format!("/admin/v1/phones/{bad}"),
                9 => format!("/admin/v1/users/{bad}/webauthncredentials"),
                10 => format!("/admin/v1/users/{}/tokens?offset={bad}", ids.user),
                11 => format!("/admin/v1/groups?group_id_list={bad}&group_id_list=%5B%22{bad}%22%5D"),
                12 => format!("/admin/v2/identity_verification/{bad}/status"),
                13 => format!(
                    "/admin/v1/users/{}/verification_push_response?push_id={bad}",
                    ids.user
                ),
                _ => format!("/admin/v1/users?username_list=%5B%22{bad}%22%5D"),
            };
            Case::new(
                format!("invalid UTF-8 in {target}"),
                signed_raw(info, "GET", &target, "", b""),
                &[Ok200, Duo4xx],
            )
        }
        7 => {
            let target = pick(
                rng,
                &[
                    "/admin/v1/users?username=a%00b",
                    "/admin/v1/users/DU%00",
                    "/admin/v1/users?%00=%00",
                    "/admin/v1/groups?limit=1%00",
                    "/admin/v1/users?username_list=%5B%22%00%22%5D",
                    "/admin/v1/phones?number=%00&extension=%00",
                    "/admin/v1/tokens?serial=%00",
                    "/admin/v1/webauthncredentials/WA%00",
                    "/admin/v1/users/DU%00/phones",
                    "/admin/v1/u2ftokens/D2%00",
                    "/admin/v1/desktoptokens?limit=%00",
                    "/admin/v1/bypass_codes/%00",
                    "/admin/v1/users/DU%00/desktopauthenticators",
                    "/admin/v1/endpoints/EP%00?offset=%00",
                ],
            );
            Case::new(
                format!("escaped NUL in {target}"),
                signed_raw(info, "GET", target, "", b""),
                &[Ok200, Duo4xx],
            )
        }
        8 => {
            let bytes: &[u8] = match rng.random_range(0..3) {
                0 => b"GET /auth/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Nul: a\0b\r\n\r\n",
                1 => b"GET /admin/v1/users\0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                _ => b"GET /auth/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-\0: a\r\n\r\n",
            };
            Case::new("a raw NUL byte", bytes.to_vec(), &[Bare(&[400])])
        }
        9 => {
            let target = if rng.random_bool(0.2) {
                format!("/admin/v1/users/{}", "../".repeat(rng.random_range(1..200)))
            } else {
                pick(rng, &TRAVERSALS).to_owned()
            };
            Case::new(
                format!("traversal {target}"),
                signed_raw(info, "GET", &target, "", b""),
                &[Ok200, Duo4xx],
            )
        }
        10 => {
            let random: String = (0..rng.random_range(1..20))
                .map(|_| char::from(rng.random_range(b'A'..=b'Z')))
                .collect();
            let method = match pick(
                rng,
                &[
                    "FOO", "PROPFIND", "TRACE", "PATCH", "BREW", "get", "M-SEARCH", "OPTIONS", "random",
                ],
            ) {
                "random" if !["HEAD", "CONNECT"].contains(&random.as_str()) => random,
                "random" => "FOO".to_owned(),
                other => other.to_owned(),
            };
            let path = pick(
                rng,
                &[
                    "/admin/v1/users",
                    "/admin/v1/groups",
                    "/auth/v2/ping",
                    "/nowhere",
                    "/",
                ],
            );
            Case::new(
                format!("method {method} on {path}"),
                format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes(),
                &[Duo4xx],
            )
        }
        11 => {
            let line = pick(
                rng,
                &[
                    "GE T / HTTP/1.1",
                    "G\u{1}T / HTTP/1.1",
                    "(GET) / HTTP/1.1",
                    " / HTTP/1.1",
                    "GET / HTTP/9.9",
                ],
            );
            Case::new(
                format!("malformed request line {line:?}"),
                format!("{line}\r\nHost: 127.0.0.1\r\n\r\n").into_bytes(),
                &[Bare(&[400])],
            )
        }
        12 => {
            let list = pick(
                rng,
                &[
                    "/admin/v1/users",
                    "/admin/v1/groups",
                    "/admin/v1/admins",
                    "/admin/v1/phones",
                    "/admin/v1/tokens",
                    "/admin/v1/webauthncredentials",
                    "/admin/v1/u2ftokens",
                    "/admin/v1/desktoptokens",
                    "/admin/v1/bypass_codes",
                    "/admin/v1/desktop_authenticators",
                    "/admin/v1/endpoints",
                    "/admin/v1/registered_devices",
                ],
            );
            let (limit, offset) = (pick(rng, &ABSURD), pick(rng, &ABSURD));
            let mut target = format!("{list}?limit={limit}&offset={offset}");
            if rng.random_bool(0.3) {
                target.push_str(&format!(
                    "&limit={}&offset={}",
                    pick(rng, &ABSURD),
                    pick(rng, &ABSURD)
                ));
            }
            Case::new(
                format!("paging {target}"),
                signed_raw(info, "GET", &target, "", b""),
                &[Ok200, DuoStatus(400)],
            )
        }
        13 => {
            let depth = rng.random_range(1_000..50_000);
            let body = match rng.random_range(0..4) {
                0 => format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
                1 => format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)),
                2 => "[{".repeat(depth),
                _ => {
                    let raw: Vec<u8> = (0..rng.random_range(0..2048))
                        .map(|_| rng.random::<u8>())
                        .collect();
                    String::from_utf8_lossy(&raw).into_owned()
                }
            };
            let path = pick(rng, &["/admin/v1/users", "/admin/v1/groups"]);
            Case::new(
                format!("a {}-byte JSON body to {path} (depth {depth})", body.len()),
                signed_raw(info, "POST", path, json, body.as_bytes()),
                &[Duo4xx],
            )
        }
        14 => {
            let body = format!(
                "username={}&name={}&x=%ZZ",
                pick(rng, &BAD_UTF8),
                pick(rng, &BAD_UTF8)
            );
            let path = pick(rng, &["/admin/v1/users", "/admin/v1/groups"]);
            Case::new(
                format!("form {body:?} to {path}"),
                signed_raw(
                    info,
                    "POST",
                    path,
                    "Content-Type: application/x-www-form-urlencoded\r\n",
                    body.as_bytes(),
                ),
                &[Duo4xx],
            )
        }
        15 => {
            let length: u64 = rng.random_range(1_048_577..1_000_000_000_000);
            let head = String::from_utf8(signed_raw(info, "POST", "/admin/v1/users", json, b""))
                .expect("ASCII")
                .replace("Content-Length: 0\r\n", &format!("Content-Length: {length}\r\n"));
            Case::new(
                format!("a {length}-byte body announced"),
                head.into_bytes(),
                &[DuoStatus(413)],
            )
        }
        16 => partial(rng, info, ids),
        17 => {
            let (what, bytes, accept): (&str, Vec<u8>, &[Accept]) = match rng.random_range(0..8) {
                0 => {
                    let raw: Vec<u8> = (0..rng.random_range(1..4096)).map(|_| rng.random::<u8>()).collect();
                    ("random bytes", raw, &[Bare(&[400]), Closed])
                }
                1 => (
                    "an HTTP/2 preface",
                    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
                    &[Bare(&[400]), Closed],
                ),
                2 => {
                    let request = String::from_utf8(signed_raw(info, "GET", &readable(rng, ids), "", b""))
                        .expect("ASCII")
                        .replacen("HTTP/1.1", "HTTP/1.0", 1);
                    ("an HTTP/1.0 request", request.into_bytes(), &[Ok200])
                }
                3 => (
                    "two Content-Lengths",
                    b"POST /admin/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"
                        .to_vec(),
                    &[Bare(&[400])],
                ),
                4 => (
                    "Content-Length and Transfer-Encoding",
                    b"POST /admin/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                        .to_vec(),
                    &[Bare(&[400]), Duo4xx, Closed],
                ),
                5 => {
                    let head = String::from_utf8(signed_raw(info, "POST", "/admin/v1/users", json, b""))
                        .expect("ASCII")
                        .replace("Content-Length: 0\r\n", "Transfer-Encoding: chunked\r\n");
                    (
                        "an invalid chunk size",
                        format!("{head}zz\r\nabc\r\n0\r\n\r\n").into_bytes(),
                        &[DuoStatus(400), Closed],
                    )
                }
                6 => (
                    "an absolute-form target to another host",
                    b"GET http://evil.example/admin/v1/users HTTP/1.1\r\nHost: evil.example\r\n\r\n".to_vec(),
                    &[Duo4xx],
                ),
                _ => (
                    "an asterisk-form target",
                    b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec(),
                    &[Duo4xx, Bare(&[400])],
                ),
            };
            Case::new(what, bytes, accept)
        }
        18 => {
            let (method, route, token) = match rng.random_range(0..4) {
                0 => ("GET", "/journal", ""),
                1 => ("POST", "/reset", "X-Duo-Mock-Token: wrong\r\n"),
                2 => ("GET", "/dump", "X-Duo-Mock-Token: \r\n"),
                _ => ("DELETE", "/journal", ""),
            };
            Case::new(
                format!("control {method} {route} without the token"),
                format!("{method} /__duo-mock{route} HTTP/1.1\r\nHost: 127.0.0.1\r\n{token}\r\n")
                    .into_bytes(),
                &[ControlRefusal],
            )
        }
        19 => Case::new(
            "the faulted route",
            signed_raw(info, "GET", FAULTED, "", b""),
            &[Faulted500],
        ),
        20 => {
            let depth = rng.random_range(100..5_000);
            let target = format!("/admin/v1/users?username_list={}", "%5B".repeat(depth));
            Case::new(
                format!("a list parameter nested {depth} deep"),
                signed_raw(info, "GET", &target, "", b""),
                &[DuoStatus(400)],
            )
        }
        21 => log_case(rng, info),
        22 => account_case(rng, info, ids),
        23 => child_account_case(rng, info),
        _ => {
            let target = readable(rng, ids);
            Case::new(
                format!("valid {target}"),
                signed_raw(info, "GET", &target, "", b""),
                &[Ok200],
            )
        }
    }
}

/// The account's routes (integrations, administrative units, admins' extras, policies, logo,
/// billing) with hostile ids, filters and paging.
fn account_case(rng: &mut ChaCha8Rng, info: &ServerInfo, ids: &Ids) -> Case {
    use Accept::{Duo4xx, DuoStatus, Ok200, Png200};
    let junk = |rng: &mut ChaCha8Rng| match rng.random_range(0..4) {
        0 => pick(rng, &BAD_UTF8).to_owned(),
        1 => pick(rng, &ABSURD).to_owned(),
        2 => "%00".to_owned(),
        _ => printable(rng, 30).replace(
            [
                '%', '#', ' ', '?', '&', '/', '\\', '"', '<', '>', '^', '`', '{', '|', '}',
            ],
            "x",
        ),
    };
    let (target, accept): (String, &[Accept]) = match rng.random_range(0..7) {
        0 => {
            let path = pick(
                rng,
                &[
                    "/admin/v3/integrations",
                    "/admin/v2/integrations",
                    "/admin/v1/integrations",
                    "/admin/v1/administrative_units",
                    "/admin/v1/admins/password_mgmt",
                    "/admin/v1/admins/activations",
                    "/admin/v2/policies",
                ],
            );
            let (limit, offset) = (junk(rng), junk(rng));
            (
                format!("{path}?limit={limit}&offset={offset}"),
                &[Ok200, DuoStatus(400)],
            )
        }
        1 => {
            let real = [ids.admin.as_str(), ids.group.as_str(), ids.integration.as_str()];
            let mut query = Vec::new();
            for _ in 0..rng.random_range(1..4) {
                let name = pick(rng, &["admin_id", "group_id", "integration_key"]);
                let value = if rng.random_bool(0.5) {
                    pick(rng, &real).to_owned()
                } else {
                    junk(rng)
                };
                query.push(format!("{name}={value}"));
            }
            (
                format!("/admin/v1/administrative_units?{}", query.join("&")),
                &[Ok200, DuoStatus(400)],
            )
        }
        2 => {
            let bad = junk(rng);
            let path = match rng.random_range(0..6) {
                0 => format!("/admin/v3/integrations/{bad}"),
                1 => format!("/admin/v2/integrations/{bad}"),
                2 => format!("/admin/v1/integrations/{bad}/skey"),
                3 => format!("/admin/v2/policies/{bad}"),
                4 => format!("/admin/v1/administrative_units/{bad}"),
                _ => format!("/admin/v1/admins/{bad}/password_mgmt"),
            };
            (path, &[Duo4xx])
        }
        3 => (format!("/admin/v1/logo?{}={}", junk(rng), junk(rng)), &[Png200]),
        6 => {
            let ikey = if rng.random_bool(0.5) {
                ids.integration.clone()
            } else {
                junk(rng)
            };
            let user = if rng.random_bool(0.5) {
                ids.user.clone()
            } else {
                junk(rng)
            };
            let query = match rng.random_range(0..4) {
                0 => format!("integration_key={ikey}"),
                1 => format!("user_id={user}"),
                2 => format!(
                    "user_id={user}&integration_key={ikey}&integration_key={}",
                    junk(rng)
                ),
                _ => format!("integration_key={ikey}&user_id={user}"),
            };
            (format!("/admin/v2/policies/calculate?{query}"), &[Ok200, Duo4xx])
        }
        4 => {
            let path = pick(
                rng,
                &[
                    "/admin/v1/billing/edition",
                    "/admin/v1/billing/telephony_credits",
                    "/admin/v2/policies/global",
                    "/admin/v2/policies/summary",
                    "/admin/v1/admins/allowed_auth_methods",
                ],
            );
            (format!("{path}?{}={}", junk(rng), junk(rng)), &[Ok200])
        }
        _ => (
            format!(
                "/admin/v3/integrations/{}?{}={}",
                ids.integration,
                junk(rng),
                junk(rng)
            ),
            &[Ok200],
        ),
    };
    Case::new(
        format!("account route {target}"),
        signed_raw(info, "GET", &target, "", b""),
        accept,
    )
}

/// A child account asked wrong (or right): `account_id` garbage, another account's id, none, Admin
/// API keys on the Accounts API. Never a 5xx; a child's list only for its own id.
fn child_account_case(rng: &mut ChaCha8Rng, info: &ServerInfo) -> Case {
    use Accept::{Duo4xx, DuoStatus, Ok200};
    let accounts = info.integration("accounts").expect("Accounts API keys");
    let child = &info.accounts[0].account_id;
    // Not FAULTED: its fault rule answers before any account is read.
    let path = pick(
        rng,
        &[
            "/admin/v1/users",
            "/admin/v1/groups",
            "/admin/v1/admins",
            "/admin/v1/settings",
        ],
    );
    let (what, bytes, accept): (String, Vec<u8>, &[Accept]) = match rng.random_range(0..7) {
        0 => {
            let len = rng.random_range(0..60);
            let junk: String = printable(rng, len);
            let encoded = duo_auth::params::encode(junk.as_bytes());
            let target = format!("{path}?account_id={encoded}");
            (
                format!("account_id {junk:?}"),
                signed_raw_by(info, accounts, "GET", &target, "", b""),
                &[Duo4xx],
            )
        }
        1 => {
            let target = format!("{path}?account_id=DA%00{}%FF", &child[2..]);
            (
                "account_id with NUL and 0xFF".into(),
                signed_raw_by(info, accounts, "GET", &target, "", b""),
                &[DuoStatus(400)],
            )
        }
        2 => {
            let other = mock_server::model::random_id(rng, "DA");
            let target = format!("{path}?account_id={other}");
            (
                format!("another account's id {other}"),
                signed_raw_by(info, accounts, "GET", &target, "", b""),
                &[DuoStatus(403)],
            )
        }
        3 => (
            format!("Accounts API keys on {path} without account_id"),
            signed_raw_by(info, accounts, "GET", path, "", b""),
            &[DuoStatus(403)],
        ),
        4 => (
            "Admin API keys on the Accounts API".into(),
            signed_raw(info, "POST", "/accounts/v1/account/list", "", b""),
            &[DuoStatus(401)],
        ),
        5 => {
            let count = rng.random_range(2..2_000);
            let target = format!("{path}?{}", vec![format!("account_id={child}"); count].join("&"));
            (
                format!("account_id {count} times"),
                signed_raw_by(info, accounts, "GET", &target, "", b""),
                &[DuoStatus(400)],
            )
        }
        _ => {
            let target = format!("{path}?account_id={child}&limit=5");
            (
                format!("the child's {path}"),
                signed_raw_by(info, accounts, "GET", &target, "", b""),
                &[Ok200],
            )
        }
    };
    Case::new(what, bytes, accept)
}

/// A request cut short: hung up on, half-closed, or stalled.
fn partial(rng: &mut ChaCha8Rng, info: &ServerInfo, ids: &Ids) -> Case {
    use Accept::{Bare, Closed, Duo4xx, DuoStatus};
    let post = rng.random_bool(0.5);
    let full = if post {
        signed_raw(
            info,
            "POST",
            "/admin/v1/groups",
            "Content-Type: application/json\r\n",
            br#"{"name": "never created: the body is cut"}"#,
        )
    } else {
        signed_raw(info, "GET", &readable(rng, ids), "", b"")
    };
    let head_end = full.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    let cut = rng.random_range(1..full.len());
    let in_head = cut < head_end;
    let mut case = Case::new(
        format!(
            "{} cut at byte {cut} of {} (head {head_end})",
            if post { "POST" } else { "GET" },
            full.len()
        ),
        full[..cut].to_vec(),
        &[],
    );
    match rng.random_range(0..3) {
        0 => case.how = How::HangUp,
        1 => {
            case.how = How::HalfClose;
            // A cut head is refused by the HTTP layer or closed; a cut body fails to read (400).
            case.accept = if in_head {
                vec![Closed, Bare(&[400])]
            } else {
                vec![DuoStatus(400), Closed]
            };
        }
        _ if in_head => {
            case.how = How::Stall;
            case.accept = vec![Closed];
        }
        _ => {
            // A head sent whole and a body that never ends: the body gets the same time as a
            // head, then Duo's 408.
            case.how = How::Exchange;
            case.accept = vec![DuoStatus(408)];
            case.what.push_str(", body stalled");
        }
    }
    if case.accept.is_empty() {
        case.accept = vec![Closed, Bare(&[400]), Duo4xx];
    }
    case
}

/// A readable account of an outcome, body shortened.
fn describe(outcome: &RawOutcome) -> String {
    match outcome {
        RawOutcome::Answer(answer) => {
            let body = String::from_utf8_lossy(&answer.body);
            let shown: String = body.chars().take(200).collect();
            format!(
                "{} {:?} {shown:?}",
                answer.status,
                answer.header("content-type").unwrap_or("-")
            )
        }
        other => format!("{other:?}"),
    }
}

fn fits(accept: Accept, outcome: &RawOutcome) -> bool {
    let RawOutcome::Answer(answer) = outcome else {
        return accept == Accept::Closed && matches!(outcome, RawOutcome::Closed { .. });
    };
    match accept {
        Accept::Ok200 => {
            answer.status == 200
                && answer.header("content-type") == Some("application/json")
                && answer.json()["stat"] == "OK"
        }
        Accept::Duo4xx => (400..500).contains(&answer.status) && answer.is_duo_failure(),
        Accept::DuoStatus(status) => answer.status == status && answer.is_duo_failure(),
        Accept::Bare(statuses) => statuses.contains(&answer.status) && answer.body.is_empty(),
        Accept::Closed => false,
        Accept::ControlRefusal => matches!(answer.status, 401 | 403) && answer.json()["error"].is_string(),
        Accept::Faulted500 => {
            answer.status == 500 && answer.is_duo_failure() && answer.json()["code"] == 50000
        }
        Accept::Png200 => {
            answer.status == 200
                && answer.header("content-type") == Some("image/png")
                && answer.body.starts_with(b"\x89PNG\r\n\x1a\n")
        }
    }
}

/// Sends one case; `Err` says what was wrong with the answer.
async fn run(addr: SocketAddr, case: &Case) -> Result<(), String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // A write cut short by the server is part of some cases; the answer says the rest.
    let _ = stream.write_all(&case.bytes).await;
    let started = Instant::now();
    let outcome = match case.how {
        How::HangUp => return Ok(()),
        How::Exchange => read_raw_answer(&mut stream, ANSWER_WITHIN).await,
        How::HalfClose => {
            let _ = stream.shutdown().await;
            read_raw_answer(&mut stream, ANSWER_WITHIN).await
        }
        How::Stall => {
            let outcome = read_raw_answer(&mut stream, ANSWER_WITHIN).await;
            let waited = started.elapsed();
            if !matches!(outcome, RawOutcome::Closed { bytes: 0 })
                || waited + Duration::from_millis(100) < HEADER_TIMEOUT
            {
                return Err(format!(
                    "a stalled head must be closed, silently, after {HEADER_TIMEOUT:?}: got {} after {waited:?}",
                    describe(&outcome)
                ));
            }
            outcome
        }
    };
    if case.accept.iter().any(|a| fits(*a, &outcome)) {
        Ok(())
    } else {
        Err(format!("{} is none of {:?}", describe(&outcome), case.accept))
    }
}

/// `CROWD` connections at once, each sending a valid request as soon as it is open (a head
/// waiting longer would meet the header-read timeout), all held open together before any
/// answer is read; every one must be served.
async fn crowd(addr: SocketAddr, info: &ServerInfo) -> Vec<String> {
    let barrier = Arc::new(tokio::sync::Barrier::new(CROWD));
    let request = Arc::new(signed_raw(info, "GET", "/admin/v1/users?limit=1", "", b""));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CROWD {
        let (barrier, request) = (barrier.clone(), request.clone());
        tasks.spawn(async move {
            let stream = TcpStream::connect(addr).await;
            let written = match stream {
                Ok(mut stream) => stream.write_all(&request).await.map(|()| stream),
                Err(error) => Err(error),
            };
            barrier.wait().await;
            let mut stream = written.map_err(|e| format!("crowd connect or write: {e}"))?;
            let outcome = read_raw_answer(&mut stream, ANSWER_WITHIN).await;
            if fits(Accept::Ok200, &outcome) {
                Ok(())
            } else {
                Err(format!("crowd request: {}", describe(&outcome)))
            }
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => failures.push(failure),
            Err(error) => failures.push(format!("crowd task: {error}")),
        }
    }
    failures
}

/// The process's resident memory, KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

fn hostile_scenario() -> Scenario {
    let text = Scenario::builder()
        .users(60)
        .groups(6)
        .admins(4)
        .generate("bypass_codes = 0.3\ndesktop_authenticators = 0.3\nendpoints = 0.3")
        .generate("registered_devices = 0.3")
        .generate("u2f = 0.2\ndesktop_tokens = 0.2\nshared_phones = 0.2")
        .integration(
            "main",
            &[
                Grant::ReadResource,
                Grant::WriteResource,
                Grant::Administrators,
                Grant::ReadInformation,
                Grant::Settings,
                Grant::ReadLog,
                Grant::Applications,
            ],
        )
        .toml(&format!(
            "[logs.authentication]\nper_day = 20000\nties = 0.1\n[logs.administrator]\n\
             [logs.telephony]\n[logs.activity]\n[logs.offline_enrollment]\n[logs.trust_monitor]\n\
             [options.limits]\nheader_read_timeout_ms = {}\n\n\
             [[faults]]\nname = \"asked-for-500\"\npath = \"{FAULTED}\"\nduo_error = 50000\n\n\
             [[admin_units]]\nname = \"unit\"\ngroups = [\"Engineering\"]\nintegrations = [\"main\"]\n\n\
             [[policies]]\nname = \"custom\"\nintegrations = [\"main\"]\n\n\
             [[integrations]]\nname = \"accounts\"\ntype = \"accounts-api\"\n\
             ikey = \"DIACCOUNTSAPIKEYS001\"\nskey = \"{}\"\n\
             grants = [\"Grant read resource\", \"Grant administrators\", \"Grant settings\"]\n\n\
             [[accounts]]\n[accounts.tenant]\napi_hostname = \"api-child001.duosecurity.com\"\nseed = 5\n\
             [accounts.generate]\nusers = 7\ngroups = 2\nadmins = 1\n",
            HEADER_TIMEOUT.as_millis(),
            "s".repeat(40)
        ))
        .to_toml()
        .replacen(
            "[tenant]\n",
            "[tenant]\nlogo = \"acme-logo.png\"\nbilling_api = true\n",
            1,
        );
    // Named as if beside the bundled scenarios, where the logo is.
    let origin = crate::support::root().join("scenarios/hostile.toml");
    Scenario::parse(&text, &origin.display().to_string()).expect("hostile scenario")
}

async fn first_id(s: &TestServer, path: &str, key: &str) -> String {
    s.get(path, "limit=1").await.ok()[0][key]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// The run itself, alone in its process.
async fn hostile_run() {
    let s = spawn(&hostile_scenario()).await;
    let info = s.server.info().clone();
    let addr = SocketAddr::from(([127, 0, 0, 1], info.port));
    let ids = Arc::new(Ids {
        user: first_id(&s, "/admin/v1/users", "user_id").await,
        group: first_id(&s, "/admin/v1/groups", "group_id").await,
        admin: first_id(&s, "/admin/v1/admins", "admin_id").await,
        integration: first_id(&s, "/admin/v3/integrations", "integration_key").await,
        admin_unit: first_id(&s, "/admin/v1/administrative_units", "admin_unit_id").await,
        policy: first_id(&s, "/admin/v2/policies", "policy_key").await,
    });
    let users_before = s.server.state().world().tenant.users.len();
    println!(
        "hostile: seed {SEED:#018x}, {ROUNDS} rounds of {CASES_PER_ROUND} cases and {CROWD} crowd connections"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let started = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    let mut rss = Vec::new();
    let mut sent = 0usize;
    for round in 0..ROUNDS {
        let cases: Vec<Arc<Case>> = (0..CASES_PER_ROUND)
            .map(|_| Arc::new(case(&mut rng, &info, &ids)))
            .collect();
        let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, case) in cases.iter().enumerate() {
            let permit = permits.clone().acquire_owned().await.expect("semaphore");
            let case = case.clone();
            tasks.spawn(async move {
                let verdict = run(addr, &case).await;
                drop(permit);
                verdict.map_err(|why| format!("round {round} case {index} ({}): {why}", case.what))
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(())) => {}
                Ok(Err(failure)) => failures.push(failure),
                Err(error) => failures.push(format!("round {round}: task: {error}")),
            }
        }
        failures.extend(
            crowd(addr, &info)
                .await
                .into_iter()
                .map(|f| format!("round {round}: {f}")),
        );
        sent += CASES_PER_ROUND + CROWD;
        // The journal keeps every request by design (up to its ring's size): not a leak.
        let journal = s.server.state().journal();
        for entry in journal.entries() {
            if entry.status >= 500 && entry.fault.as_deref() != Some("asked-for-500") {
                failures.push(format!("round {round}: journaled {entry:?}"));
            }
        }
        journal.clear();
        // Let connections the server is still closing go.
        tokio::time::sleep(Duration::from_millis(300)).await;
        rss.push(rss_kib());
        println!(
            "hostile: round {round} done after {:?}, VmRSS {} KiB",
            started.elapsed(),
            rss[round]
        );
    }
    let panics = PANICS.load(Ordering::SeqCst);
    assert_eq!(panics, 0, "the server panicked {panics} times (see above)");
    assert!(
        failures.is_empty(),
        "{} of {sent} hostile requests were answered wrongly (seed {SEED:#018x}):\n{}",
        failures.len(),
        failures.iter().take(25).cloned().collect::<Vec<_>>().join("\n")
    );
    let warm = rss[..WARM_UP_ROUNDS].iter().copied().max().unwrap_or_default();
    let last = rss[ROUNDS - 1];
    assert!(
        last <= warm + RSS_SLACK_KIB,
        "memory did not come back: VmRSS {warm} KiB after the warm-up, {last} KiB after the last round ({rss:?})"
    );
    assert_eq!(
        s.server.state().world().tenant.users.len(),
        users_before,
        "no hostile request created or deleted a user"
    );
    // And the server still serves.
    let users = s.get("/admin/v1/users", "limit=5").await;
    assert_eq!(users.ok().as_array().map(Vec::len), Some(5));
    println!("hostile: {sent} requests in {:?}", started.elapsed());
}

#[test]
fn hostile_requests_leave_the_server_whole() {
    if std::env::var_os(CHILD).is_some() {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(hostile_run());
        return;
    }
    // Alone in a fresh process: VmRSS is the whole process's, which the other tests of this
    // binary, running in parallel threads, would move; and a panic hook is process-wide.
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "hostile::hostile_requests_leave_the_server_whole",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        output.status.success(),
        "the hostile run failed: {}",
        output.status
    );
    assert!(stdout.contains("1 passed"), "the hostile run did not run");
}
