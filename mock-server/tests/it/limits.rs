//! Request limits (`[options.limits]`), each set small and crossed over real loopback HTTP: the
//! head, the query, the body (announced and chunked), the connection cap and the header-read
//! timeout, each with its documented answer, and the same request just under each limit served.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mock_server::Scenario;
use mock_server::limits::Limits;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::support::{Body, Call, RawOutcome, raw_exchange, read_raw_answer, signed_raw, spawn};

const USERS: &str = "/admin/v1/users";
const WAIT: Duration = Duration::from_secs(5);

fn small_limits(table: &str) -> Scenario {
    Scenario::builder()
        .users(3)
        .toml(&format!("[options.limits]\n{table}\n"))
        .build()
        .expect("scenario with limits")
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A ping with one `X-Padding` header of `padding` bytes.
fn padded_ping(padding: usize) -> Vec<u8> {
    format!(
        "GET /auth/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {}\r\n\r\n",
        "p".repeat(padding)
    )
    .into_bytes()
}

#[test]
fn defaults_are_the_documented_ones() {
    let limits = Scenario::builder().build().expect("scenario").options.limits;
    assert_eq!(limits, Limits::default());
    assert_eq!(
        (
            limits.header_bytes,
            limits.query_bytes,
            limits.body_bytes,
            limits.connections,
            limits.header_read_timeout_ms
        ),
        (64 * 1024, 32 * 1024, 1024 * 1024, 1024, 15_000)
    );
}

#[test]
fn bad_limits_are_located_in_the_scenario() {
    for (table, expected) in [
        (
            "header_bytes = 100",
            "options.limits.header_bytes must be at least 1024",
        ),
        ("connections = 0", "options.limits.connections must be at least 1"),
        (
            "header_read_timeout_ms = 0",
            "options.limits.header_read_timeout_ms must be at least 1",
        ),
        (
            "body_bytes = 4194304",
            "options.limits.body_bytes must be at most 2097152",
        ),
        ("headers_bytes = 2048", "unknown field `headers_bytes`"),
        ("connections = -1", "invalid value"),
    ] {
        let text = format!("{}\n[options.limits]\n{table}\n", Scenario::builder().to_toml());
        let error = Scenario::parse(&text, "limits.toml")
            .expect_err(table)
            .to_string();
        assert!(error.starts_with("limits.toml:"), "{error}");
        assert!(error.contains(expected), "{table}: {error}");
    }
}

#[tokio::test]
async fn a_head_over_header_bytes_is_431_and_one_under_is_served() {
    let s = spawn(&small_limits("header_bytes = 4096")).await;
    let under = raw_exchange(addr(s.port()), &padded_ping(3000), WAIT)
        .await
        .answer();
    assert_eq!(under.status, 200, "{under:?}");
    let over = raw_exchange(addr(s.port()), &padded_ping(5000), WAIT)
        .await
        .answer();
    assert_eq!(over.status, 431);
    assert!(over.body.is_empty(), "the HTTP layer's answer has no body");
    assert!(
        s.server
            .state()
            .journal()
            .entries()
            .iter()
            .all(|e| e.status != 431)
    );
}

#[tokio::test]
async fn a_query_over_query_bytes_is_duos_400_40002() {
    let s = spawn(&small_limits("query_bytes = 1024")).await;
    let long = format!("username={}", "u".repeat(1100));
    s.get(USERS, &long)
        .await
        .assert_fail(40002, "Invalid request parameters");
    // Refused before the signature is looked at: an unsigned request gets the same answer.
    let unsigned = raw_exchange(
        addr(s.port()),
        format!("GET {USERS}?{long} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes(),
        WAIT,
    )
    .await
    .answer();
    assert_eq!(unsigned.status, 400);
    assert!(unsigned.is_duo_failure(), "{unsigned:?}");
    let short = format!("username={}", "u".repeat(1000));
    assert_eq!(s.get(USERS, &short).await.ok(), &serde_json::json!([]));
}

#[tokio::test]
async fn a_body_over_body_bytes_is_413_41300_whether_announced_or_chunked() {
    let s = spawn(&small_limits("body_bytes = 1024")).await;
    let info = s.server.info();
    // Announced by Content-Length: answered from the head, before any body byte is read.
    let head = signed_raw(info, "POST", USERS, "Content-Type: application/json\r\n", b"");
    let announced = String::from_utf8(head)
        .expect("ASCII")
        .replace("Content-Length: 0\r\n", "Content-Length: 2048\r\n");
    let answer = raw_exchange(addr(s.port()), announced.as_bytes(), WAIT)
        .await
        .answer();
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.json(),
        serde_json::json!({"code": 41300, "message": "Request entity too large", "stat": "FAIL"})
    );
    assert!(answer.is_duo_failure());

    // Chunked: no length announced, counted while it is read (the signature is never checked).
    let chunked = format!(
        "POST {USERS} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n\
         400\r\n{chunk}\r\n400\r\n{chunk}\r\n0\r\n\r\n",
        chunk = "x".repeat(0x400)
    );
    let answer = raw_exchange(addr(s.port()), chunked.as_bytes(), WAIT)
        .await
        .answer();
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(answer.json()["code"], 41300);

    // Just under the limit the body is read and its signature checked: the request reaches the
    // grant check (the builder's integration has no write grant).
    let mut call = Call::get(USERS, "");
    call.method = "POST";
    call.body = Some(Body::Json(format!("{{\"x\":\"{}\"}}", "y".repeat(1000))));
    s.send(call).await.assert_fail(40301, "Access forbidden");
}

#[tokio::test]
async fn the_control_api_keeps_its_own_body_limit() {
    let s = spawn(&small_limits("body_bytes = 1024")).await;
    let info = s.server.info();
    let scenario = format!(
        "# {}\n{}",
        "padding ".repeat(200),
        Scenario::builder().users(2).to_toml()
    );
    assert!(scenario.len() > 1024);
    let loaded = s
        .http
        .post(format!("{}/load", info.control_url))
        .header("X-Duo-Mock-Token", &info.control_token)
        .body(scenario)
        .send()
        .await
        .expect("control request");
    assert_eq!(loaded.status(), 200);
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_get_503_and_are_closed() {
    let s = spawn(&small_limits("connections = 4")).await;
    let ping = b"GET /auth/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // Four kept-alive connections, each known to the server because it answered on it.
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(addr(s.port())).await.expect("connect");
        stream.write_all(ping).await.expect("write");
        assert_eq!(read_raw_answer(&mut stream, WAIT).await.answer().status, 200);
        held.push(stream);
    }
    let refused = raw_exchange(addr(s.port()), ping, WAIT).await.answer();
    assert_eq!(refused.status, 503);
    assert_eq!(
        refused.json(),
        serde_json::json!({"code": 50300, "message": "Service Unavailable", "stat": "FAIL"})
    );
    assert_eq!(refused.header("connection"), Some("close"));
    // A held connection still works; one given back frees a slot for a newcomer.
    held[0].write_all(ping).await.expect("write");
    assert_eq!(read_raw_answer(&mut held[0], WAIT).await.answer().status, 200);
    drop(held.pop());
    let started = Instant::now();
    loop {
        let answer = raw_exchange(addr(s.port()), ping, WAIT).await.answer();
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.status, 503);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the closed connection's slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_head_not_sent_within_the_timeout_closes_the_connection() {
    let s = spawn(&small_limits("header_read_timeout_ms = 300")).await;
    // Slow loris: a byte every 100 ms, each in time, the whole head never.
    let mut stream = TcpStream::connect(addr(s.port())).await.expect("connect");
    let started = Instant::now();
    let mut closed = false;
    for byte in b"GET /auth/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1234567890\r\n".iter() {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let outcome = if closed {
        RawOutcome::Closed { bytes: 0 }
    } else {
        read_raw_answer(&mut stream, WAIT).await
    };
    let elapsed = started.elapsed();
    assert!(matches!(outcome, RawOutcome::Closed { bytes: 0 }), "{outcome:?}");
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "closed after {elapsed:?}"
    );

    // An idle kept-alive connection is closed after the same time.
    let mut idle = TcpStream::connect(addr(s.port())).await.expect("connect");
    idle.write_all(b"GET /auth/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    assert_eq!(read_raw_answer(&mut idle, WAIT).await.answer().status, 200);
    let started = Instant::now();
    let outcome = read_raw_answer(&mut idle, WAIT).await;
    assert!(matches!(outcome, RawOutcome::Closed { bytes: 0 }), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // A head sent at once is served.
    let ping = raw_exchange(
        addr(s.port()),
        b"GET /auth/v2/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        WAIT,
    )
    .await
    .answer();
    assert_eq!(ping.status, 200);
}
