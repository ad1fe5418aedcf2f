//! The CONNECT proxy in front of the fake: tunnels, and refuses as corporate proxies do.

use std::net::SocketAddr;

use mock_server::proxy::{self, ProxyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{scenario, spawn};

async fn start_proxy(target: SocketAddr, config: ProxyConfig) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(proxy::run(listener, target, config, std::future::pending()));
    addr
}

/// Sends `head`, then (if tunnelled) a ping through the tunnel; returns everything read.
async fn exchange(proxy: SocketAddr, head: &str) -> String {
    let mut stream = TcpStream::connect(proxy).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).await.expect("read");
    let mut text = String::from_utf8_lossy(&answer[..n]).into_owned();
    if text.starts_with("HTTP/1.1 200") {
        stream
            .write_all(b"GET /auth/v2/ping HTTP/1.1\r\nHost: api-3fdf2348.duosecurity.com\r\nConnection: close\r\n\r\n")
            .await
            .expect("write through the tunnel");
        let mut rest = String::new();
        stream
            .read_to_string(&mut rest)
            .await
            .expect("read through the tunnel");
        text.push_str(&rest);
    } else {
        let mut rest = String::new();
        let _ = stream.read_to_string(&mut rest).await;
        text.push_str(&rest);
    }
    text
}

fn config(username: Option<&str>, password: Option<&str>, refuse: Option<u16>) -> ProxyConfig {
    ProxyConfig {
        username: username.map(str::to_owned),
        password: password.map(str::to_owned),
        refuse,
    }
}

const CONNECT: &str =
    "CONNECT api-3fdf2348.duosecurity.com:443 HTTP/1.1\r\nHost: api-3fdf2348.duosecurity.com:443\r\n";

#[tokio::test]
async fn an_open_proxy_tunnels_to_the_fake() {
    let s = spawn(&scenario("users-1.toml")).await;
    let target: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().expect("addr");
    let proxy = start_proxy(target, config(None, None, None)).await;
    let text = exchange(proxy, &format!("{CONNECT}\r\n")).await;
    assert!(
        text.starts_with("HTTP/1.1 200 Connection established\r\n\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\"stat\":\"OK\""),
        "the fake answered through the tunnel: {text}"
    );
}

#[tokio::test]
async fn an_authenticating_proxy_wants_basic_credentials() {
    let s = spawn(&scenario("users-1.toml")).await;
    let target: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().expect("addr");
    let proxy = start_proxy(target, config(Some("alice"), Some("s3cret"), None)).await;
    let refused = exchange(proxy, &format!("{CONNECT}\r\n")).await;
    assert!(
        refused.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"),
        "{refused}"
    );
    assert!(refused.contains("Proxy-Authenticate: Basic realm=\"Corporate proxy\""));
    let wrong = exchange(
        proxy,
        &format!("{CONNECT}Proxy-Authorization: Basic YWxpY2U6d3Jvbmc=\r\n\r\n"),
    )
    .await;
    assert!(wrong.starts_with("HTTP/1.1 407"), "{wrong}");
    // alice:s3cret
    let right = exchange(
        proxy,
        &format!("{CONNECT}Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"),
    )
    .await;
    assert!(
        right.starts_with("HTTP/1.1 200") && right.contains("\"stat\":\"OK\""),
        "{right}"
    );
}

#[tokio::test]
async fn a_policy_proxy_refuses_with_403_and_plain_requests_are_not_proxied() {
    let s = spawn(&scenario("users-1.toml")).await;
    let target: SocketAddr = format!("127.0.0.1:{}", s.port()).parse().expect("addr");
    let proxy = start_proxy(target, config(None, None, Some(403))).await;
    let refused = exchange(proxy, &format!("{CONNECT}\r\n")).await;
    assert!(refused.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{refused}");
    assert!(refused.contains("text/html"));
    let open = start_proxy(target, config(None, None, None)).await;
    let plain = exchange(
        open,
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )
    .await;
    assert!(plain.starts_with("HTTP/1.1 501"), "{plain}");
}

#[test]
fn proxy_tables_are_checked_and_located() {
    let text = mock_server::Scenario::builder().to_toml() + "\n[proxy]\nusername = \"alice\"\n";
    let error = mock_server::Scenario::parse(&text, "p.toml")
        .expect_err("half credentials")
        .to_string();
    let line = text.lines().position(|l| l == "[proxy]").expect("table") + 1;
    assert!(
        error.starts_with(&format!("p.toml:{line}:")) && error.contains("go together"),
        "{error}"
    );
}

#[tokio::test]
async fn serve_starts_the_scenarios_proxy_and_names_it_in_the_ready_info() {
    let sc = mock_server::Scenario::builder()
        .users(2)
        .toml("[options]\ntls = true\n[proxy]\nusername = \"u\"\npassword = \"p\"\n")
        .build()
        .expect("builds");
    let server = mock_server::MockServer::start(&sc, mock_server::StartOptions::default())
        .await
        .expect("starts");
    let proxy_url = server.info().proxy_url.clone().expect("a proxy_url");
    let ca = reqwest::Certificate::from_pem(server.ca_pem().expect("CA").as_bytes()).expect("pem");
    let client = |proxy: reqwest::Proxy| {
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca.clone())
            .proxy(proxy)
            .build()
            .expect("client")
    };
    let ping = format!("{}/auth/v2/ping", server.base_url());
    let without = client(reqwest::Proxy::all(&proxy_url).expect("proxy"))
        .get(&ping)
        .send()
        .await;
    assert!(
        format!("{without:?}").contains("ProxyAuthRequired"),
        "{without:?}"
    );
    let with = client(
        reqwest::Proxy::all(&proxy_url)
            .expect("proxy")
            .basic_auth("u", "p"),
    )
    .get(&ping)
    .send()
    .await
    .expect("through the proxy");
    assert_eq!(with.status(), 200);
    let plain = mock_server::MockServer::start(
        &crate::support::scenario("users-1.toml"),
        mock_server::StartOptions::default(),
    )
    .await
    .expect("starts");
    assert!(plain.info().proxy_url.is_none());
}
