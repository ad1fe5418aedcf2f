//! A corporate HTTP proxy in front of the fake (failure catalogue D11): it answers `CONNECT` with
//! a tunnel to the fake, or refuses as corporate proxies do — 407 when it wants credentials it did
//! not get, 403 when policy blocks the destination. Every tunnel leads to the fake, whatever host
//! the client names, so nothing leaves the machine.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;

/// The scenario's `[proxy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    /// With `password`: the Basic credentials the proxy wants (else 407).
    pub username: Option<String>,
    /// With `username`.
    pub password: Option<String>,
    /// Refuse every tunnel with this status: 403 (policy) or 407 (authentication).
    pub refuse: Option<u16>,
}

impl ProxyConfig {
    /// Checks the table.
    pub fn check(&self) -> Result<(), String> {
        if self.username.is_some() != self.password.is_some() {
            return Err("proxy username and password go together".into());
        }
        if self.refuse.is_some_and(|s| s != 403 && s != 407) {
            return Err("proxy refuse must be 403 or 407".into());
        }
        Ok(())
    }
}

fn page(status: u16, reason: &str, extra_headers: &str, text: &str) -> Vec<u8> {
    let body = format!(
        "<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1><p>{text}</p></body></html>\n"
    );
    format!(
        "HTTP/1.1 {status} {reason}\r\nServer: duo-mock-proxy\r\nContent-Type: text/html\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves proxy connections on `listener`, tunnelling to `target`, until `shutdown`.
pub async fn run(
    listener: TcpListener,
    target: SocketAddr,
    config: ProxyConfig,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let config = config.clone();
        tokio::spawn(async move {
            if let Err(error) = handle(stream, target, &config).await {
                tracing::debug!(%error, "proxy connection ended");
            }
        });
    }
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, usize)>> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some((buf, end + 4)));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let mut chunk = [0u8; 2048];
        let n = tokio::time::timeout(Duration::from_secs(15), stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no request head"))??;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

async fn handle(mut client: TcpStream, target: SocketAddr, config: &ProxyConfig) -> std::io::Result<()> {
    let Some((buf, head_len)) = read_head(&mut client).await? else {
        return Ok(());
    };
    let head = String::from_utf8_lossy(buf.get(..head_len).unwrap_or_default()).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let method = request_line.split(' ').next().unwrap_or_default();
    if !method.eq_ignore_ascii_case("CONNECT") {
        let answer = page(501, "Not Implemented", "", "This proxy only tunnels (CONNECT).");
        return client.write_all(&answer).await;
    }
    if config.refuse == Some(403) {
        let answer = page(
            403,
            "Forbidden",
            "",
            "Access to this destination is blocked by the proxy's policy.",
        );
        return client.write_all(&answer).await;
    }
    let authenticate = "Proxy-Authenticate: Basic realm=\"Corporate proxy\"\r\n";
    let wants_credentials = config.refuse == Some(407) || config.username.is_some();
    if wants_credentials {
        let expected = match (&config.username, &config.password, config.refuse) {
            (Some(user), Some(password), None) => {
                Some(base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
            }
            _ => None,
        };
        let sent = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authorization"))
            .map(|(_, value)| value.trim().to_owned());
        let accepted = match (expected, sent) {
            (Some(expected), Some(sent)) => sent.split_once(' ').is_some_and(|(scheme, creds)| {
                scheme.eq_ignore_ascii_case("basic") && creds.trim() == expected
            }),
            _ => false,
        };
        if !accepted {
            let answer = page(
                407,
                "Proxy Authentication Required",
                authenticate,
                "The proxy needs credentials before it opens a tunnel.",
            );
            return client.write_all(&answer).await;
        }
    }
    let mut upstream = TcpStream::connect(target).await?;
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    // Bytes the client sent after the head already belong to the tunnel.
    if let Some(rest) = buf.get(head_len..).filter(|r| !r.is_empty()) {
        upstream.write_all(rest).await?;
    }
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_are_checked() {
        let config = |username: Option<&str>, password: Option<&str>, refuse| ProxyConfig {
            username: username.map(str::to_owned),
            password: password.map(str::to_owned),
            refuse,
        };
        assert!(config(None, None, None).check().is_ok());
        assert!(config(Some("u"), Some("p"), None).check().is_ok());
        assert!(config(Some("u"), None, None).check().is_err());
        assert!(config(None, None, Some(500)).check().is_err());
        let answer =
            String::from_utf8(page(407, "Proxy Authentication Required", "X: y\r\n", "t")).expect("utf-8");
        let (head, body) = answer.split_once("\r\n\r\n").expect("head");
        assert!(head.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
