//! Canonical strings (§1.2), signing and verification.
//!
//! A [`Prepared`] request holds every canonical line but the host, so a server can try the host
//! spellings Duo's clients sign (with and without port, the configured name) without redoing the
//! parameter encoding or the SHA-512 hashes; the pieces are fed straight into the HMAC.

use hmac::Mac;
use sha2::{Digest as _, Sha512};

use crate::params::canon_params;
use crate::{Digest, Scheme, SignedParts, SigningKey};

/// SHA-512 of the empty string, hex: the body hash of every GET and the header hash when no
/// `X-Duo-*` header is sent.
const EMPTY_SHA512_HEX: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

/// Hex SHA-512 of a body (v4/v5 line 6), over the exact bytes.
pub fn body_hash_hex(body: &[u8]) -> String {
    if body.is_empty() {
        EMPTY_SHA512_HEX.to_owned()
    } else {
        hex::encode(Sha512::digest(body))
    }
}

/// Hex SHA-512 of the `X-Duo-*` header canon (v5 line 7): names lower-cased, sorted by name,
/// `name\0value\0name\0value…` with no trailing NUL.
pub fn duo_headers_hash_hex(headers: &[(&[u8], &[u8])]) -> String {
    if headers.is_empty() {
        return EMPTY_SHA512_HEX.to_owned();
    }
    let mut sorted: Vec<(Vec<u8>, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), *value))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = Sha512::new();
    for (i, (name, value)) in sorted.iter().enumerate() {
        if i > 0 {
            hasher.update(b"\0");
        }
        hasher.update(name);
        hasher.update(b"\0");
        hasher.update(value);
    }
    hex::encode(hasher.finalize())
}

/// Everything in the canonical string except the host.
#[derive(Debug, Clone)]
pub struct Prepared {
    scheme: Scheme,
    /// The lines before the host, each followed by `\n`.
    head: String,
    /// `\n` and the lines after the host.
    tail: String,
}

impl Prepared {
    /// Canonicalizes `parts` for `scheme`; `parts.host` is ignored.
    pub fn new(scheme: Scheme, parts: &SignedParts<'_>) -> Self {
        let method = parts.method.to_ascii_uppercase();
        let head = match scheme {
            Scheme::V1(_) => format!("{method}\n"),
            Scheme::V2(_) | Scheme::V4 | Scheme::V5 => format!("{}\n{method}\n", parts.date),
        };
        let params = canon_params(parts.params);
        let mut tail = String::with_capacity(1 + parts.path.len() + 1 + params.len() + 260);
        tail.push('\n');
        tail.push_str(parts.path);
        tail.push('\n');
        tail.push_str(&params);
        if matches!(scheme, Scheme::V4 | Scheme::V5) {
            tail.push('\n');
            tail.push_str(&body_hash_hex(parts.body));
        }
        if scheme == Scheme::V5 {
            tail.push('\n');
            tail.push_str(&duo_headers_hash_hex(parts.duo_headers));
        }
        Self { scheme, head, tail }
    }

    /// The exact canonical string for `host` (LF-joined, no trailing LF).
    pub fn canonical_string(&self, host: &str) -> String {
        format!("{}{}{}", self.head, host.to_lowercase(), self.tail)
    }

    fn feed(&self, mac: &mut impl Mac, host: &str) {
        mac.update(self.head.as_bytes());
        if host.bytes().any(|b| b.is_ascii_uppercase()) || !host.is_ascii() {
            mac.update(host.to_lowercase().as_bytes());
        } else {
            mac.update(host.as_bytes());
        }
        mac.update(self.tail.as_bytes());
    }

    /// The signature for `host`, lower-case hex.
    pub fn sign(&self, key: &SigningKey, host: &str) -> String {
        match self.scheme.digest() {
            Digest::Sha1 => {
                let mut mac = key.sha1.clone();
                self.feed(&mut mac, host);
                hex::encode(mac.finalize().into_bytes())
            }
            Digest::Sha512 => {
                let mut mac = key.sha512.clone();
                self.feed(&mut mac, host);
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }

    /// Whether `signature_hex` (either case) is the signature for `host`; constant-time compare.
    pub fn verify(&self, key: &SigningKey, host: &str, signature_hex: &[u8]) -> bool {
        let mut expected = [0u8; 64];
        match self.scheme.digest() {
            Digest::Sha1 => {
                let Some(bytes) = decode_hex(signature_hex, &mut expected[..20]) else {
                    return false;
                };
                let mut mac = key.sha1.clone();
                self.feed(&mut mac, host);
                mac.verify_slice(bytes).is_ok()
            }
            Digest::Sha512 => {
                let Some(bytes) = decode_hex(signature_hex, &mut expected) else {
                    return false;
                };
                let mut mac = key.sha512.clone();
                self.feed(&mut mac, host);
                mac.verify_slice(bytes).is_ok()
            }
        }
    }
}

/// Decodes hex of exactly `out.len()` bytes (either case) into `out`.
fn decode_hex<'a>(hex: &[u8], out: &'a mut [u8]) -> Option<&'a [u8]> {
    if hex.len() != out.len() * 2 {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let digit = |c: u8| char::from(c).to_digit(16);
        let (hi, lo) = (digit(*pair.first()?)?, digit(*pair.get(1)?)?);
        *byte = u8::try_from(hi << 4 | lo).ok()?;
    }
    Some(out)
}

/// The canonical string of `parts` under `scheme`.
pub fn canonical_string(scheme: Scheme, parts: &SignedParts<'_>) -> String {
    Prepared::new(scheme, parts).canonical_string(parts.host)
}

/// Signs `parts` under `scheme`: lower-case hex.
pub fn sign(key: &SigningKey, scheme: Scheme, parts: &SignedParts<'_>) -> String {
    Prepared::new(scheme, parts).sign(key, parts.host)
}

/// Whether `signature_hex` signs `parts` under `scheme`.
pub fn verify(key: &SigningKey, scheme: Scheme, parts: &SignedParts<'_>, signature_hex: &[u8]) -> bool {
    Prepared::new(scheme, parts).verify(key, parts.host, signature_hex)
}
