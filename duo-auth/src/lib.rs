//! Duo request signing: canonical strings (v1, v2, v4, v5), HMAC-SHA1/SHA512 signatures and
//! their verification, `Authorization` headers, and the date formats Duo's clients send.
//!
//! Pure: no I/O and no clock; the caller passes the date. The server verifies with it and the
//! connector signs with it, so it is checked against Duo's published test vectors (`vectors.rs`)
//! rather than against itself.
//!
//! ```
//! use duo_auth::{Scheme, SignedParts, SigningKey};
//! let params = duo_auth::params::parse_urlencoded(b"limit=100&offset=0");
//! let parts = SignedParts {
//!     date: "Tue, 21 Aug 2012 17:29:18 -0000",
//!     method: "GET",
//!     host: "api-xxxxxxxx.duosecurity.com",
//!     path: "/admin/v1/users",
//!     params: &params,
//!     body: b"",
//!     duo_headers: &[],
//! };
//! let key = SigningKey::new(b"Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep");
//! let signature = duo_auth::sign(&key, Scheme::V5, &parts);
//! assert!(signature.starts_with("f5afcd661b744f29")); // vector F of the API notes
//! assert!(duo_auth::verify(&key, Scheme::V5, &parts, signature.as_bytes()));
//! ```
// The server feeds this crate hostile input, so panicking constructs are refused outside tests.
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

mod authorization;
mod canonical;
pub mod date;
mod key;
pub mod params;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod vectors;

pub use authorization::{Credentials, authorization_header, parse_authorization};
pub use canonical::{Prepared, body_hash_hex, canonical_string, duo_headers_hash_hex, sign, verify};
pub use key::SigningKey;

/// One decoded `key=value` pair, raw bytes (may be invalid UTF-8).
pub type Param = (Vec<u8>, Vec<u8>);

/// HMAC digest of v1/v2 signatures (v4 and v5 always use SHA-512).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Digest {
    /// HMAC-SHA1: 40 hex characters (what Duo's docs describe for v2).
    Sha1,
    /// HMAC-SHA512: 128 hex characters.
    Sha512,
}

/// A signature scheme: canonical-string version plus digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Legacy: method, host, path, params (no date).
    V1(Digest),
    /// Documented: date, method, host, path, params.
    V2(Digest),
    /// v2's lines plus the body hash; always HMAC-SHA512.
    V4,
    /// v4's lines plus the X-Duo header hash; always HMAC-SHA512 (default of Duo's Python client).
    V5,
}

impl Scheme {
    /// The HMAC digest used.
    pub fn digest(self) -> Digest {
        match self {
            Self::V1(d) | Self::V2(d) => d,
            Self::V4 | Self::V5 => Digest::Sha512,
        }
    }

    /// A short name: `v1-sha1`, `v2-sha512`, `v4`, `v5`…
    pub fn name(self) -> &'static str {
        match self {
            Self::V1(Digest::Sha1) => "v1-sha1",
            Self::V1(Digest::Sha512) => "v1-sha512",
            Self::V2(Digest::Sha1) => "v2-sha1",
            Self::V2(Digest::Sha512) => "v2-sha512",
            Self::V4 => "v4",
            Self::V5 => "v5",
        }
    }
}

/// What a signature covers, as sent or received. Lines marked raw are used byte for byte.
#[derive(Clone, Copy, Debug)]
pub struct SignedParts<'a> {
    /// Raw date header value (not signed by v1).
    pub date: &'a str,
    /// HTTP method; upper-cased in the canonical string.
    pub method: &'a str,
    /// Host; lower-cased in the canonical string.
    pub host: &'a str,
    /// Raw, still percent-encoded path.
    pub path: &'a str,
    /// Decoded parameters: for v1/v2 the query and form-body pairs, for v4/v5 the query's only.
    pub params: &'a [Param],
    /// Raw body bytes (hashed by v4/v5; never re-serialized).
    pub body: &'a [u8],
    /// Every `X-Duo-*` header as sent or received (hashed by v5).
    pub duo_headers: &'a [(&'a [u8], &'a [u8])],
}

/// What can be wrong with an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The scheme is not `Basic`.
    #[error("the Authorization header is not HTTP Basic")]
    NotBasic,
    /// The credentials are not valid base64.
    #[error("the Authorization credentials are not valid base64")]
    BadBase64,
    /// The decoded credentials have no `:` between ikey and signature.
    #[error("the Authorization credentials have no ':' between integration key and signature")]
    NoColon,
    /// The integration key is empty.
    #[error("the Authorization credentials have an empty integration key")]
    EmptyIkey,
}
