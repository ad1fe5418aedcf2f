//! Where to connect and with which keys: from flags or the contract's environment variables.

use std::fmt;
use std::path::PathBuf;

use duo_auth::{Digest, Scheme};

use crate::error::Error;
use crate::retry::RetryPolicy;

/// Environment variable with the API hostname (`host` or `host:port`, no scheme).
pub const ENV_API_HOST: &str = "DUO_API_HOST";
/// Environment variable with the integration key.
pub const ENV_IKEY: &str = "DUO_IKEY";
/// Environment variable with the secret key.
pub const ENV_SKEY: &str = "DUO_SKEY";
/// Environment variable with a PEM file of a CA to trust besides the system's.
pub const ENV_CA_CERT: &str = "DUO_CA_CERT";
/// Environment variable with the path the contract writes its result to.
pub const ENV_OUTPUT: &str = "DUO_OUTPUT";

/// A secret key. Debug and Display never show it; only the signer reads it.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps an skey.
    pub fn new(skey: impl Into<String>) -> Self {
        Self(skey.into())
    }

    /// The key's bytes, for keying the HMAC.
    pub(crate) fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How requests travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTPS: the only way to reach Duo.
    Https,
    /// Plain HTTP, for a local fake only (an explicit flag turns it on).
    PlainHttp,
}

/// Everything a client needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// `host` or `host:port`, no scheme; signed as given (lower-cased).
    pub api_host: String,
    /// Integration key of the Admin API application.
    pub ikey: String,
    /// Its secret key.
    pub skey: SecretKey,
    /// A PEM file of CA certificates to trust besides the system's roots.
    pub ca_cert: Option<PathBuf>,
    /// HTTPS, or plain HTTP for local use.
    pub transport: Transport,
    /// Signature scheme: v5 by default, v2 selectable.
    pub scheme: Scheme,
    /// When and how long to retry.
    pub retry: RetryPolicy,
    /// How many group-member lists are fetched at once.
    pub parallelism: usize,
    /// An HTTP proxy for HTTPS (`http://user:pass@proxy:3128`); `HTTPS_PROXY` works too.
    pub proxy: Option<String>,
}

impl Config {
    /// A configuration with the defaults: HTTPS, v5, Duo's retry schedule, 4 parallel reads.
    pub fn new(api_host: &str, ikey: &str, skey: SecretKey) -> Result<Self, Error> {
        let api_host = normalize_host(api_host)?;
        if ikey.trim().is_empty() {
            return Err(Error::Config("the integration key is empty".into()));
        }
        Ok(Self {
            api_host,
            ikey: ikey.trim().to_owned(),
            skey,
            ca_cert: None,
            transport: Transport::Https,
            scheme: Scheme::V5,
            retry: RetryPolicy::default(),
            parallelism: 4,
            proxy: None,
        })
    }

    /// The contract's configuration: `DUO_API_HOST`, `DUO_IKEY`, `DUO_SKEY`, optional `DUO_CA_CERT`.
    pub fn from_env() -> Result<Self, Error> {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| Error::Config(format!("{name} is not set")))
        };
        let mut config = Self::new(
            &var(ENV_API_HOST)?,
            &var(ENV_IKEY)?,
            SecretKey::new(var(ENV_SKEY)?),
        )?;
        config.ca_cert = std::env::var_os(ENV_CA_CERT)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Ok(config)
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> String {
        match self.transport {
            Transport::Https => format!("https://{}", self.api_host),
            Transport::PlainHttp => format!("http://{}", self.api_host),
        }
    }
}

/// Parses a signature scheme name: `v5`, `v2` (HMAC-SHA1, as Duo documents it), `v2-sha512`.
pub fn parse_scheme(name: &str) -> Result<Scheme, Error> {
    match name.to_ascii_lowercase().as_str() {
        "v5" => Ok(Scheme::V5),
        "v2" | "v2-sha1" => Ok(Scheme::V2(Digest::Sha1)),
        "v2-sha512" => Ok(Scheme::V2(Digest::Sha512)),
        other => Err(Error::Config(format!(
            "unknown signature scheme {other:?} (use v5, v2 or v2-sha512)"
        ))),
    }
}

/// Checks an API hostname: `host` or `host:port`, no scheme, no path.
fn normalize_host(raw: &str) -> Result<String, Error> {
    let host = raw.trim();
    if host.is_empty() {
        return Err(Error::Config("the API hostname is empty".into()));
    }
    if host.contains("://") {
        return Err(Error::Config(format!(
            "the API hostname {host:?} has a scheme; give only the host, like api-xxxxxxxx.duosecurity.com"
        )));
    }
    if host.contains(['/', '?', '#', '@', ' ']) {
        return Err(Error::Config(format!(
            "the API hostname {host:?} is not a host name; give only the host, like api-xxxxxxxx.duosecurity.com"
        )));
    }
    Ok(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_never_shows_in_debug_or_display() {
        let key = SecretKey::new("Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep");
        let config = Config::new("api-x.duosecurity.com", "DIWJ8X6AEYOR5OMC6TQ1", key.clone()).unwrap();
        for shown in [
            format!("{key:?}"),
            format!("{key}"),
            format!("{config:?}"),
            format!("{config:#?}"),
        ] {
            assert!(!shown.contains("Zh5e"), "{shown}");
        }
        assert!(format!("{config:?}").contains("DIWJ8X6AEYOR5OMC6TQ1"));
    }

    #[test]
    fn hosts_with_a_scheme_or_path_are_refused_and_ports_kept() {
        assert!(Config::new("https://api-x.duosecurity.com", "DI", SecretKey::new("s")).is_err());
        assert!(Config::new("api-x.duosecurity.com/admin", "DI", SecretKey::new("s")).is_err());
        let config = Config::new(" LocalHost:8443 ", "DI", SecretKey::new("s")).unwrap();
        assert_eq!(config.api_host, "localhost:8443");
        assert_eq!(config.base_url(), "https://localhost:8443");
    }

    #[test]
    fn scheme_names() {
        assert_eq!(parse_scheme("v5").unwrap(), Scheme::V5);
        assert_eq!(parse_scheme("V2").unwrap(), Scheme::V2(Digest::Sha1));
        assert_eq!(parse_scheme("v2-sha512").unwrap(), Scheme::V2(Digest::Sha512));
        assert!(parse_scheme("v4").is_err());
    }
}
