//! Fault rules: each kind of answer, each filter, the journal naming the rule, and located
//! mistakes in rules.

use std::time::Instant;

use mock_server::Scenario;
use mock_server::grants::Grant;
use mock_server::intermediary::Intermediary;
use serde_json::Value;

use crate::support::{Call, TestServer, spawn, spawn_tls};

const USERS: &str = "/admin/v1/users";

fn with_faults(rules: &str) -> Scenario {
    Scenario::builder()
        .users(5)
        .admins(2)
        .integration("main", &[Grant::ReadResource, Grant::Administrators])
        .integration("other", &[Grant::ReadResource])
        .toml(rules)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Date and Authorization of a v5-signed GET of `path` by the first integration, for the host
/// `127.0.0.1` (the plain-HTTP base URL's host).
fn signed_get_headers(s: &TestServer, path: &str) -> (String, String) {
    let integration = &s.server.info().integrations[0];
    let date = duo_auth::date::format_date(crate::support::now());
    let parts = duo_auth::SignedParts {
        date: &date,
        method: "GET",
        host: "127.0.0.1",
        path,
        params: &[],
        body: b"",
        duo_headers: &[],
    };
    let sig = duo_auth::sign(
        &duo_auth::SigningKey::new(integration.skey.as_bytes()),
        duo_auth::Scheme::V5,
        &parts,
    );
    (date, duo_auth::authorization_header(&integration.ikey, &sig))
}

async fn raw(s: &TestServer, path: &str) -> reqwest::Response {
    // A signed request whose answer is read raw (headers, bytes).
    let info = s.server.info();
    let (date, authorization) = signed_get_headers(s, path);
    s.http
        .get(format!("{}{path}", info.base_url))
        .header("Date", date)
        .header("Authorization", authorization)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_burst_of_429s_then_duo_answers_again() {
    let s = spawn(&with_faults(
        "[[faults]]\nname = \"burst\"\npath = \"/admin/v1/users\"\ncalls = [1, 3]\nduo_error = 42901\n",
    ))
    .await;
    for _ in 0..3 {
        let r = raw(&s, USERS).await;
        assert_eq!(r.status(), 429);
        assert!(
            r.headers().get("retry-after").is_none(),
            "Duo sends no Retry-After"
        );
        assert_eq!(
            r.text().await.expect("body"),
            r#"{"code":42901,"message":"Too Many Requests","stat":"FAIL"}"#
        );
    }
    s.get(USERS, "").await.ok();
    s.get("/admin/v1/admins", "").await.ok();
    let journal = s.server.state().journal().entries();
    let faults: Vec<Option<&str>> = journal.iter().map(|e| e.fault.as_deref()).collect();
    assert_eq!(faults, [Some("burst"), Some("burst"), Some("burst"), None, None]);
    assert_eq!(journal[0].duo_code, Some(42901));
}

#[tokio::test]
async fn retry_after_can_be_seconds_or_an_http_date() {
    let s = spawn(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\nduo_error = 42901\nretry_after_s = 7\n\
         [[faults]]\npath = \"/admin/v1/admins\"\nduo_error = 42901\nretry_after_s = 7\nretry_after_format = \"http-date\"\n",
    ))
    .await;
    let r = raw(&s, USERS).await;
    assert_eq!(r.headers()["retry-after"], "7");
    let r = raw(&s, "/admin/v1/admins").await;
    let date = r.headers()["retry-after"].to_str().expect("ascii").to_owned();
    assert!(date.ends_with(" GMT"), "{date}");
    let at = duo_auth::date::parse_date(&date).expect("an HTTP date");
    assert!((at - crate::support::now() - 7).abs() <= 2);
}

#[tokio::test]
async fn server_errors_and_any_duo_code() {
    let s = spawn(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\nduo_error = 50000\n\
         [[faults]]\npath = \"/admin/v1/admins\"\nduo_error = 40003\nmessage = \"Duplicate resource\"\n",
    ))
    .await;
    s.get(USERS, "").await.assert_fail(50000, "Internal server error");
    s.get("/admin/v1/admins", "")
        .await
        .assert_fail(40003, "Duplicate resource");
}

#[tokio::test]
async fn every_intermediary_profile_answers_html_not_duo_json() {
    let rules: String = Intermediary::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| format!("[[faults]]\npath = \"/p{i}\"\nintermediary = \"{}\"\n", p.name()))
        .collect();
    let s = spawn(&with_faults(&rules)).await;
    for (i, profile) in Intermediary::ALL.iter().enumerate() {
        let r = s
            .http
            .get(format!("{}/p{i}", s.server.base_url()))
            .send()
            .await
            .expect("request");
        let expected = profile.answer(0);
        assert_eq!(r.status().as_u16(), expected.status, "{}", profile.name());
        let server = r
            .headers()
            .get("server")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let body = r.text().await.expect("body");
        assert!(
            serde_json::from_str::<Value>(&body).is_err(),
            "{} must not be JSON",
            profile.name()
        );
        match profile {
            Intermediary::Cloudflare403 => {
                assert_eq!(server.as_deref(), Some("cloudflare"));
                assert!(body.contains("<title>Attention Required! | Cloudflare</title>"));
            }
            Intermediary::Akamai403 => assert_eq!(server.as_deref(), Some("AkamaiGHost")),
            Intermediary::Proxy407 => assert!(body.contains("407 Proxy Authentication Required")),
            Intermediary::Nginx502 | Intermediary::Nginx504 => assert_eq!(server.as_deref(), Some("nginx")),
            Intermediary::BlockPage200 => assert!(body.contains("<title>Web Page Blocked</title>")),
            Intermediary::Empty200 => assert!(body.is_empty()),
        }
    }
    let journal = s.server.state().journal().entries();
    assert!(journal.iter().all(|e| e.fault.is_some() && e.duo_code.is_none()));
}

#[tokio::test]
async fn custom_answers_take_status_headers_and_a_body_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("page.html"), "<html>custom block</html>").expect("write");
    let text = Scenario::builder()
        .toml("[[faults]]\nstatus = 451\nheaders = { \"Content-Type\" = \"text/html\", \"X-Block\" = \"policy-7\" }\nbody_file = \"page.html\"\n")
        .to_toml();
    let path = dir.path().join("custom.toml");
    std::fs::write(&path, text).expect("write");
    let s = spawn(&Scenario::load(&path).expect("loads")).await;
    let r = s
        .http
        .get(format!("{}/anything", s.server.base_url()))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 451);
    assert_eq!(r.headers()["x-block"], "policy-7");
    assert_eq!(r.text().await.expect("body"), "<html>custom block</html>");
}

#[tokio::test]
async fn malformed_answers() {
    let s = spawn(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ncalls = [1, 1]\nmalformed = \"invalid-json\"\n\
         [[faults]]\npath = \"/admin/v1/users\"\ncalls = [2, 2]\nmalformed = \"stat-not-ok\"\n\
         [[faults]]\npath = \"/admin/v1/users\"\ncalls = [3, 3]\nmalformed = \"missing-response\"\n\
         [[faults]]\npath = \"/admin/v1/users\"\ncalls = [4, 4]\nmalformed = \"truncated\"\n",
    ))
    .await;
    let invalid = s.get(USERS, "").await;
    assert_eq!((invalid.status, invalid.json.clone()), (200, Value::Null));
    assert_eq!(s.get(USERS, "").await.json["stat"], "ERROR");
    let missing = s.get(USERS, "").await;
    assert_eq!(missing.json, serde_json::json!({"stat": "OK"}));
    let truncated = s.get(USERS, "").await;
    let whole = s.get(USERS, "").await;
    assert_eq!(truncated.raw.len(), whole.raw.len() / 2);
    assert!(whole.raw.starts_with(&truncated.raw));
    assert!(truncated.json.is_null(), "a cut body is not JSON");
}

#[tokio::test]
async fn drift_adds_fields_new_values_nulls_and_reorders() {
    let s = spawn(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ndrift = [\"extra-fields\", \"new-enum-values\", \"nulls\", \"reordered-keys\"]\n",
    ))
    .await;
    let a = s.get(USERS, "").await;
    let users = a.ok().as_array().expect("list");
    assert_eq!(users.len(), 5);
    for u in users {
        assert_eq!(u["status"], "quarantined");
        assert!(u["realname"].is_null() && u["email"].is_null());
        assert!(u.get("x_new_property").is_some());
        assert!(u["user_id"].is_string(), "ids are kept");
    }
    assert!(a.json.get("trace_id").is_some());
    assert!(
        a.raw.starts_with("{\"trace_id\""),
        "keys reversed: {}",
        &a.raw[..40]
    );
    assert!(a.raw.contains("{\"x_new_property\""));
}

#[tokio::test]
async fn filters_select_integration_method_window_and_probability() {
    let s = spawn(&with_faults(
        "[[faults]]\nintegration = \"other\"\nduo_error = 42901\n\
         [[faults]]\nmethod = \"POST\"\nduo_error = 50300\n\
         [[faults]]\npath = \"/admin/v1/admins\"\nafter_s = 3600\nduo_error = 42901\n\
         [[faults]]\npath = \"/admin/v1/groups\"\nuntil_s = 0\nduo_error = 42901\n\
         [[faults]]\nname = \"half\"\npath = \"/admin/v1/info/summary\"\nprobability = 0.5\nduo_error = 42901\n",
    ))
    .await;
    s.send(Call::get(USERS, "").signed_by("other"))
        .await
        .assert_fail(42901, "Too Many Requests");
    s.send(Call::get(USERS, "").signed_by("main")).await.ok();
    s.get("/admin/v1/admins", "").await.ok();
    s.get("/admin/v1/groups", "").await.ok();
    let mut fired = Vec::new();
    for _ in 0..200 {
        fired.push(s.get("/admin/v1/info/summary", "").await.status == 429);
    }
    let count = fired.iter().filter(|f| **f).count();
    assert!((60..140).contains(&count), "about half of 200 fired: {count}");
    // Seeded: a second server from the same scenario fires on the same calls.
    let again = spawn(&s.server.state().world().scenario.clone()).await;
    let mut fired_again = Vec::new();
    for _ in 0..200 {
        fired_again.push(again.get("/admin/v1/info/summary", "").await.status == 429);
    }
    assert_eq!(fired, fired_again);
}

#[tokio::test]
async fn a_delay_holds_the_answer_then_duo_answers() {
    let s = spawn(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ndelay_ms = 300\n",
    ))
    .await;
    let started = Instant::now();
    s.get(USERS, "").await.ok();
    assert!(started.elapsed().as_millis() >= 300);
    let entry = &s.server.state().journal().entries()[0];
    assert!(entry.latency_us >= 300_000);
    assert_eq!(entry.fault.as_deref(), Some("fault #1"));
}

/// Asserts that `rule`, appended to a valid scenario, is refused with `words`, located in it.
#[track_caller]
fn assert_located(rule: &str, words: &str) {
    let text = format!("{}\n{rule}", Scenario::builder().to_toml());
    let line = text.lines().position(|l| l == "[[faults]]").expect("rule") + 1;
    let message = Scenario::parse(&text, "f.toml").expect_err(rule).to_string();
    assert!(message.contains(words), "{message}");
    let at: usize = message
        .split(':')
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("line");
    assert!(
        (line..=line + 3).contains(&at),
        "{message} should point into the rule (line {line})"
    );
}

#[test]
fn mistakes_in_rules_are_located() {
    for (rule, words) in [
        (
            "[[faults]]\nduo_error = 42901\nintermediary = \"nginx-502\"\n",
            "takes one of",
        ),
        ("[[faults]]\npath = \"/x\"\n", "needs an action"),
        (
            "[[faults]]\nintegration = \"ghost\"\nduo_error = 42901\n",
            "\"ghost\" is not in this scenario",
        ),
        (
            "[[faults]]\nstatus = 200\nbody_file = \"no-such-page.html\"\n",
            "no-such-page.html",
        ),
        ("[[faults]]\nduo_error = 40099\n", "needs a message"),
        (
            "[[faults]]\nintermediary = \"squid-999\"\n",
            "unknown intermediary \"squid-999\"",
        ),
        ("[[faults]]\ncalls = [0, 2]\nduo_error = 42901\n", "count from 1"),
    ] {
        assert_located(rule, words);
    }
}

// Network faults: what the client sees on the wire.

/// A scenario whose user list is about 30 KB (for trickling) with `rules`.
fn with_network_faults(users: u32, rules: &str) -> Scenario {
    Scenario::builder()
        .users(users)
        .integration("main", &[Grant::ReadResource, Grant::Administrators])
        .toml(rules)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A signed GET of `path` as raw HTTP/1.1, signed for the host of the base URL.
fn signed_request(s: &TestServer, path: &str) -> String {
    let (date, authorization) = signed_get_headers(s, path);
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nDate: {date}\r\nAuthorization: {authorization}\r\n\r\n",
        s.server.info().port,
    )
}

/// Sends `request` on a new connection and reads until EOF or an error: the bytes received and
/// how the read ended.
async fn exchange(s: &TestServer, request: &str) -> (Vec<u8>, std::io::Result<()>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", s.port()))
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .expect("the server ends the connection");
    (received, read)
}

/// Head and body of a raw answer, and its `Content-Length`.
fn split_answer(raw: &[u8]) -> (String, &[u8], usize) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    (head, &raw[end + 4..], length)
}

#[tokio::test]
async fn a_reset_fault_resets_the_connection_before_any_byte() {
    let s = spawn(&with_faults(
        "[[faults]]\nname = \"rst\"\npath = \"/admin/v1/users\"\ncalls = [1, 1]\nnetwork = \"reset\"\n",
    ))
    .await;
    let (received, ended) = exchange(&s, &signed_request(&s, USERS)).await;
    assert!(received.is_empty(), "{}", String::from_utf8_lossy(&received));
    let error = ended.expect_err("a reset, not a clean end");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    // The server stays up: the next connection is answered.
    assert_eq!(s.get(USERS, "").await.ok().as_array().map(Vec::len), Some(5));
    let journal = s.server.state().journal().entries();
    assert_eq!(journal[0].fault.as_deref(), Some("rst"));
    assert_eq!(
        journal[0].status, 444,
        "never written: nginx's no-response status"
    );
    assert_eq!((journal[1].fault.as_deref(), journal[1].status), (None, 200));
}

#[tokio::test]
async fn a_close_before_answer_fault_ends_the_connection_with_no_byte() {
    let s = spawn(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ncalls = [1, 1]\nnetwork = \"close-before-answer\"\n",
    ))
    .await;
    let (received, ended) = exchange(&s, &signed_request(&s, USERS)).await;
    ended.expect("a clean end (FIN), not a reset");
    assert!(received.is_empty(), "{}", String::from_utf8_lossy(&received));
    // The server stays up: the next connection is answered.
    s.get(USERS, "").await.ok();
    let journal = s.server.state().journal().entries();
    assert_eq!(
        (journal[0].status, journal[0].fault.as_deref()),
        (444, Some("fault #1"))
    );
}

#[tokio::test]
async fn a_close_mid_body_fault_sends_the_head_and_half_the_body() {
    let s = spawn(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ncalls = [1, 1]\nnetwork = \"close-mid-body\"\n",
    ))
    .await;
    let (received, ended) = exchange(&s, &signed_request(&s, USERS)).await;
    ended.expect("a clean end (FIN), not a reset");
    let (head, body, length) = split_answer(&received);
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let whole = s.get(USERS, "").await;
    assert_eq!(length, whole.raw.len(), "the real answer's Content-Length");
    assert_eq!(body.len(), length / 2, "half the body, then EOF");
    assert!(whole.raw.as_bytes().starts_with(body));
    // Over a kept-alive connection the journal shows the real status and the rule.
    let journal = s.server.state().journal().entries();
    assert_eq!(
        (journal[0].status, journal[0].fault.as_deref()),
        (200, Some("fault #1"))
    );
}

#[tokio::test]
async fn a_close_mid_body_fault_over_tls_cuts_the_plaintext_body() {
    let s = spawn_tls(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ncalls = [1, 1]\nnetwork = \"close-mid-body\"\n",
    ))
    .await;
    let url = format!("{}{USERS}", s.server.base_url());
    let call = |request: reqwest::RequestBuilder| {
        let info = s.server.info();
        let integration = &info.integrations[0];
        let date = duo_auth::date::format_date(crate::support::now());
        let params = duo_auth::params::parse_urlencoded(b"");
        let parts = duo_auth::SignedParts {
            date: &date,
            method: "GET",
            host: "localhost",
            path: USERS,
            params: &params,
            body: b"",
            duo_headers: &[],
        };
        let sig = duo_auth::sign(
            &duo_auth::SigningKey::new(integration.skey.as_bytes()),
            duo_auth::Scheme::V5,
            &parts,
        );
        request.header("Date", &date).header(
            "Authorization",
            duo_auth::authorization_header(&integration.ikey, &sig),
        )
    };
    let mut cut = call(s.http.get(&url)).send().await.expect("the head arrives");
    assert_eq!(cut.status(), 200);
    let length = usize::try_from(cut.content_length().expect("content-length")).expect("size");
    let mut received = 0;
    let ended = loop {
        match cut.chunk().await {
            Ok(Some(chunk)) => received += chunk.len(),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(ended.is_some(), "a short body is an error to the client");
    assert_eq!(received, length / 2);
    let whole = call(s.http.get(&url)).send().await.expect("answered");
    assert_eq!(whole.bytes().await.expect("whole body").len(), length);
}

#[tokio::test]
async fn a_trickle_fault_sends_the_real_answer_slowly() {
    // About 30 KB of users at 20,000 bytes per second: about 1.5 s.
    let s = spawn(&with_network_faults(
        30,
        "[[faults]]\npath = \"/admin/v1/users\"\ncalls = [2, 2]\nnetwork = \"trickle\"\ntrickle_bytes_per_s = 20000\n",
    ))
    .await;
    let query = "limit=30";
    let fast = Instant::now();
    let whole = s.get(USERS, query).await;
    let fast = fast.elapsed();
    assert!(
        (24_000..40_000).contains(&whole.raw.len()),
        "a body of about 30 KB: {}",
        whole.raw.len()
    );
    let started = Instant::now();
    let slow = s.get(USERS, query).await;
    let took = started.elapsed();
    assert_eq!(slow.raw, whole.raw, "the real answer, whole");
    assert!(
        took.as_millis() >= 1000,
        "trickled for at least a second: {took:?} (unfaulted {fast:?})"
    );
    assert!(took.as_millis() < 3000, "at about the rate asked: {took:?}");
    // The rule fired once; the server answers at full speed again.
    let started = Instant::now();
    s.get(USERS, query).await.ok();
    assert!(started.elapsed().as_millis() < 500);
    let journal = s.server.state().journal().entries();
    assert_eq!(journal[1].fault.as_deref(), Some("fault #1"));
}

#[tokio::test]
async fn a_trickle_starts_at_once_unlike_a_delay() {
    // Seven users (5 to 8 KB, by their phones and credentials) at 10,000 bytes per second:
    // writes of 1,000 bytes, 0.1 s apart.
    let s = spawn(&with_network_faults(
        7,
        "[[faults]]\npath = \"/admin/v1/users\"\nnetwork = \"trickle\"\ntrickle_bytes_per_s = 10000\n",
    ))
    .await;
    let started = Instant::now();
    let mut r = raw(&s, USERS).await;
    let head = started.elapsed();
    assert!(head.as_millis() < 300, "the head arrives at once: {head:?}");
    let mut pieces = Vec::new();
    while let Some(chunk) = r.chunk().await.expect("body") {
        pieces.push(chunk.len());
    }
    let total: usize = pieces.iter().sum();
    assert!(total > 4000, "{total}");
    assert!(
        pieces.len() >= 3 && pieces.iter().all(|n| *n < total / 2),
        "the body comes in small pieces: {pieces:?}"
    );
    assert!(started.elapsed().as_millis() >= 300, "{:?}", started.elapsed());
}

#[test]
fn network_faults_are_one_action_and_checked() {
    for (rule, words) in [
        (
            "[[faults]]\nnetwork = \"reset\"\nduo_error = 42901\n",
            "takes one of",
        ),
        (
            "[[faults]]\nnetwork = \"close-mid-body\"\nmalformed = \"truncated\"\n",
            "takes one of",
        ),
        (
            "[[faults]]\nnetwork = \"unplugged\"\n",
            "unknown variant `unplugged`",
        ),
        (
            "[[faults]]\nnetwork = \"reset\"\ntrickle_bytes_per_s = 100\n",
            "belongs to network = \"trickle\"",
        ),
        (
            "[[faults]]\nnetwork = \"trickle\"\ntrickle_bytes_per_s = 0\n",
            "at least 1",
        ),
    ] {
        assert_located(rule, words);
    }
    // With a delay, a network fault is still one action.
    let base = Scenario::builder().to_toml();
    let text = format!("{base}\n[[faults]]\ndelay_ms = 10\nnetwork = \"trickle\"\n");
    Scenario::parse(&text, "f.toml").expect("delay and network combine");
}

#[tokio::test]
async fn a_date_rewritten_in_the_path_is_missing_or_no_longer_signed() {
    let s = spawn(&with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\nrewrite_date = \"remove\"\n\
         [[faults]]\npath = \"/admin/v1/admins\"\nrewrite_date = \"reformat\"\n",
    ))
    .await;
    s.get(USERS, "")
        .await
        .assert_fail(40104, "Missing request timestamp");
    s.get("/admin/v1/admins", "")
        .await
        .assert_fail(40103, "Invalid signature in request credentials");
    // The same instant reformatted still reads as a valid date: only the signature broke.
    s.get("/admin/v1/groups", "").await.ok();
    let journal = s.server.state().journal().entries();
    assert_eq!(journal[1].fault.as_deref(), Some("fault #2"));
}

// Faults that follow paging and callers: query, page, calls = [N], count_per.

fn paged_with_faults(rules: &str) -> Scenario {
    Scenario::builder()
        .users(5)
        .groups(5)
        .integration("main", &[Grant::ReadResource])
        .integration("other", &[Grant::ReadResource])
        .toml(rules)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_query_filter_needs_every_parameter_to_match_its_pattern() {
    let s = spawn(&paged_with_faults(
        "[[faults]]\nname = \"waf\"\npath = \"/admin/v1/users\"\nquery = { offset = \"4\", limit = \"*\" }\nintermediary = \"cloudflare-403\"\n\
         [[faults]]\npath = \"/admin/v1/groups\"\nquery = { offset = \"*0\" }\nduo_error = 50000\n",
    ))
    .await;
    s.get(USERS, "limit=2&offset=0").await.ok();
    s.get(USERS, "limit=2&offset=2").await.ok();
    assert_eq!(s.get(USERS, "limit=2&offset=4").await.status, 403);
    assert_eq!(
        s.get(USERS, "limit=1&offset=4").await.status,
        403,
        "* takes any limit"
    );
    // A listed parameter the request does not send never matches.
    s.get(USERS, "offset=4").await.ok();
    // `*0` matches 0, 10, 20… (decoded values), not 2.
    s.get("/admin/v1/groups", "limit=2&offset=0")
        .await
        .assert_fail(50000, "Internal server error");
    s.get("/admin/v1/groups", "limit=2&offset=2").await.ok();
    s.get("/admin/v1/groups", "").await.ok();
    let faults: Vec<Option<String>> = s
        .server
        .state()
        .journal()
        .entries()
        .into_iter()
        .map(|e| e.fault)
        .collect();
    assert_eq!(faults[2].as_deref(), Some("waf"));
    assert_eq!(faults[4], None);
}

#[tokio::test]
async fn page_3_is_the_third_distinct_offset_of_each_caller_or_of_the_server() {
    let s = spawn(&paged_with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\npage = 3\nduo_error = 50000\n\
         [[faults]]\npath = \"/admin/v1/groups\"\npage = 3\ncount_per = \"server\"\nduo_error = 50300\n",
    ))
    .await;
    let main = |q: &'static str| Call::get(USERS, q).signed_by("main");
    let other = |q: &'static str| Call::get(USERS, q).signed_by("other");
    s.send(main("limit=2&offset=0")).await.ok();
    s.send(main("limit=2&offset=2")).await.ok();
    // A retry of page 2 is page 2 again.
    s.send(main("limit=2&offset=2")).await.ok();
    s.send(main("limit=2&offset=4"))
        .await
        .assert_fail(50000, "Internal server error");
    // The retry of page 3 meets the fault again.
    s.send(main("limit=2&offset=4"))
        .await
        .assert_fail(50000, "Internal server error");
    // Another integration counts its own pages (a page rule's default), whatever page size it uses.
    s.send(other("limit=1&offset=0")).await.ok();
    s.send(other("limit=1&offset=1")).await.ok();
    s.send(other("limit=1&offset=2"))
        .await
        .assert_fail(50000, "Internal server error");
    // Counted for the server (`count_per = "server"`): main's two pages and other's first make three.
    let groups = "/admin/v1/groups";
    s.send(Call::get(groups, "limit=2&offset=0").signed_by("main"))
        .await
        .ok();
    s.send(Call::get(groups, "limit=2&offset=2").signed_by("main"))
        .await
        .ok();
    s.send(Call::get(groups, "limit=2&offset=0").signed_by("other"))
        .await
        .ok();
    s.send(Call::get(groups, "limit=2&offset=4").signed_by("other"))
        .await
        .assert_fail(50300, "Service Unavailable");
}

#[tokio::test]
async fn calls_with_one_number_fire_on_that_call_and_every_later_one() {
    let s = spawn(&paged_with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ncalls = [3]\nduo_error = 50000\n",
    ))
    .await;
    let statuses: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..6 {
            out.push(s.get(USERS, "").await.status);
        }
        out
    };
    assert_eq!(statuses, [200, 200, 500, 500, 500, 500]);
}

#[tokio::test]
async fn count_per_integration_gives_each_integration_its_own_count() {
    let s = spawn(&paged_with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ncalls = [1, 1]\ncount_per = \"integration\"\nduo_error = 42901\n\
         [[faults]]\npath = \"/admin/v1/groups\"\ncalls = [1, 1]\nduo_error = 42901\n",
    ))
    .await;
    for caller in ["main", "other"] {
        s.send(Call::get(USERS, "").signed_by(caller))
            .await
            .assert_fail(42901, "Too Many Requests");
        s.send(Call::get(USERS, "").signed_by(caller)).await.ok();
    }
    // Counted for the server, main's first call used the rule up: other never meets it.
    s.send(Call::get("/admin/v1/groups", "").signed_by("main"))
        .await
        .assert_fail(42901, "Too Many Requests");
    s.send(Call::get("/admin/v1/groups", "").signed_by("other"))
        .await
        .ok();
}

#[tokio::test]
async fn count_per_connection_starts_over_on_a_new_connection() {
    let mut s = spawn(&paged_with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\ncalls = [1, 1]\ncount_per = \"connection\"\nduo_error = 50000\n",
    ))
    .await;
    for _ in 0..2 {
        // A new client: a new connection (each client keeps its connection alive).
        s.http = reqwest::Client::new();
        s.get(USERS, "").await.assert_fail(50000, "Internal server error");
        s.get(USERS, "").await.ok();
        s.get(USERS, "").await.ok();
    }
    let peers: std::collections::HashSet<Option<String>> = s
        .server
        .state()
        .journal()
        .entries()
        .into_iter()
        .map(|e| e.peer)
        .collect();
    assert_eq!(peers.len(), 2, "two connections: {peers:?}");
}

#[tokio::test]
async fn a_duo_error_without_a_message_takes_duos_text() {
    let s = spawn(&paged_with_faults(
        "[[faults]]\npath = \"/admin/v1/users\"\nduo_error = 40301\n\
         [[faults]]\npath = \"/admin/v1/groups\"\nduo_error = 40002\n",
    ))
    .await;
    s.get(USERS, "").await.assert_fail(40301, "Access forbidden");
    s.get("/admin/v1/groups", "")
        .await
        .assert_fail(40002, "Invalid request parameters");
}

#[test]
fn mistakes_in_paging_rules_are_located() {
    for (rule, words) in [
        ("[[faults]]\npage = 0\nduo_error = 42901\n", "page counts from 1"),
        (
            "[[faults]]\ncount_per = \"integration\"\nduo_error = 42901\n",
            "give one of them",
        ),
        (
            "[[faults]]\ncalls = [1, 2, 3]\nduo_error = 42901\n",
            "calls is [N]",
        ),
        ("[[faults]]\ncalls = [0]\nduo_error = 42901\n", "count from 1"),
        (
            "[[faults]]\ncount_per = \"user\"\ncalls = [2]\nduo_error = 42901\n",
            "unknown variant",
        ),
    ] {
        assert_located(rule, words);
    }
}

#[tokio::test]
async fn the_waf_after_page_2_example_blocks_each_integrations_third_page() {
    let s = spawn(&crate::support::scenario("examples/waf-after-page-2.toml")).await;
    for (caller, limit) in [("access-review", 300), ("hr-sync", 100)] {
        let page =
            |offset: u32| Call::get(USERS, &format!("limit={limit}&offset={offset}")).signed_by(caller);
        s.send(page(0)).await.ok();
        s.send(page(limit)).await.ok();
        let blocked = s.send(page(2 * limit)).await;
        assert_eq!(blocked.status, 403, "{caller}: {}", blocked.raw);
        assert_eq!(
            blocked.headers.get("server").map(String::as_str),
            Some("cloudflare")
        );
        assert_eq!(
            s.send(page(2 * limit)).await.status,
            403,
            "a retry is page 3 again"
        );
    }
}

#[tokio::test]
async fn the_offset_600_example_fails_twice_then_serves_the_page() {
    let s = spawn(&crate::support::scenario("examples/500-at-offset-600.toml")).await;
    s.get(USERS, "limit=300&offset=300").await.ok();
    for _ in 0..2 {
        s.get(USERS, "limit=300&offset=600")
            .await
            .assert_fail(50000, "Internal server error");
    }
    assert_eq!(
        s.get(USERS, "limit=300&offset=600")
            .await
            .ok()
            .as_array()
            .map(Vec::len),
        Some(300)
    );
}
