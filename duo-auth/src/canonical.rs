//! Canonical strings (§1.2), signing and verification.
//!
//! A [`Prepared`] request holds every canonical line but the host, so a server can try the host
//! spellings Duo's clients sign (with and without port, the configured name) without redoing the
//! parameter encoding or the SHA-512 hashes; the pieces are fed straight into the HMAC.

use hmac::Mac;
use sha2::{Digest as _, Sha512};

use crate::params::canon_params_into;
use crate::{Digest, Scheme, SignedParts, SigningKey};

/// SHA-512 of the empty string, hex: the body hash of every GET and the header hash when no
/// `X-Duo-*` header is sent, i.e. of most requests, so it is not recomputed.
const EMPTY_SHA512_HEX: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

/// Length of a hex SHA-512, for sizing buffers up front.
const SHA512_HEX_LEN: usize = 128;

fn push_lower_hex(out: &mut String, bytes: &[u8]) {
    let digit = |nibble: u8| {
        char::from(match nibble & 0xF {
            n @ 0..=9 => b'0' + n,
            n => b'a' + n - 10,
        })
    };
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b));
    }
}

fn push_body_hash(out: &mut String, body: &[u8]) {
    if body.is_empty() {
        out.push_str(EMPTY_SHA512_HEX);
    } else {
        push_lower_hex(out, &Sha512::digest(body));
    }
}

fn push_duo_headers_hash(out: &mut String, headers: &[(&[u8], &[u8])]) {
    if headers.is_empty() {
        out.push_str(EMPTY_SHA512_HEX);
        return;
    }
    let mut sorted: Vec<(Vec<u8>, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), *value))
        .collect();
    // Stable, so headers whose names differ only in case keep the order they arrived in; Duo's
    // Python client refuses such duplicates, so no client depends on another tie-break.
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
    push_lower_hex(out, &hasher.finalize());
}

/// Hex SHA-512 of a body (v4/v5 line 6), over the exact bytes.
pub fn body_hash_hex(body: &[u8]) -> String {
    let mut out = String::with_capacity(SHA512_HEX_LEN);
    push_body_hash(&mut out, body);
    out
}

/// Hex SHA-512 of the `X-Duo-*` header canon (v5 line 7): names lower-cased, sorted by name,
/// `name\0value\0name\0value…` with no trailing NUL; SHA-512("") when there are none.
pub fn duo_headers_hash_hex(headers: &[(&[u8], &[u8])]) -> String {
    let mut out = String::with_capacity(SHA512_HEX_LEN);
    push_duo_headers_hash(&mut out, headers);
    out
}

/// Everything in the canonical string except the host, computed once per request.
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
        let signs_date = !matches!(scheme, Scheme::V1(_));
        let signs_body = matches!(scheme, Scheme::V4 | Scheme::V5);
        let signs_headers = scheme == Scheme::V5;

        let mut head = String::with_capacity(parts.date.len() + parts.method.len() + 2);
        if signs_date {
            head.push_str(parts.date);
            head.push('\n');
        }
        // Unicode upper-casing, as Python's `str.upper()` does; identical for real (ASCII) methods.
        head.extend(parts.method.chars().flat_map(char::to_uppercase));
        head.push('\n');

        let params_len: usize = parts.params.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let hashes_len = (usize::from(signs_body) + usize::from(signs_headers)) * (SHA512_HEX_LEN + 1);
        let mut tail = String::with_capacity(2 + parts.path.len() + params_len + hashes_len);
        tail.push('\n');
        tail.push_str(parts.path);
        tail.push('\n');
        canon_params_into(parts.params, &mut tail);
        if signs_body {
            tail.push('\n');
            push_body_hash(&mut tail, parts.body);
        }
        if signs_headers {
            tail.push('\n');
            push_duo_headers_hash(&mut tail, parts.duo_headers);
        }
        Self { scheme, head, tail }
    }

    /// The scheme this request was prepared for.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The exact canonical string for `host` (LF-joined, no trailing LF).
    pub fn canonical_string(&self, host: &str) -> String {
        let host = host.to_lowercase();
        let mut out = String::with_capacity(self.head.len() + host.len() + self.tail.len());
        out.push_str(&self.head);
        out.push_str(&host);
        out.push_str(&self.tail);
        out
    }

    fn feed(&self, mac: &mut impl Mac, host: &str) {
        mac.update(self.head.as_bytes());
        // Every client lower-cases the host with its language's Unicode lower-casing; skip the
        // allocation for the usual already-lower-case ASCII name.
        if host.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
            mac.update(host.to_lowercase().as_bytes());
        } else {
            mac.update(host.as_bytes());
        }
        mac.update(self.tail.as_bytes());
    }

    fn tag_hex<M: Mac>(&self, mut mac: M, host: &str) -> String {
        self.feed(&mut mac, host);
        hex::encode(mac.finalize().into_bytes())
    }

    fn tag_matches<M: Mac>(&self, mut mac: M, host: &str, expected: &[u8]) -> bool {
        self.feed(&mut mac, host);
        // `verify_slice` compares in constant time and refuses a tag of the wrong length.
        mac.verify_slice(expected).is_ok()
    }

    /// The signature for `host`, lower-case hex.
    pub fn sign(&self, key: &SigningKey, host: &str) -> String {
        match self.scheme.digest() {
            Digest::Sha1 => self.tag_hex(key.sha1.clone(), host),
            Digest::Sha512 => self.tag_hex(key.sha512.clone(), host),
        }
    }

    /// Whether `signature_hex` (either case) is the signature for `host`. Wrong length or
    /// non-hex input is refused before any HMAC work; the tag comparison is constant-time.
    pub fn verify(&self, key: &SigningKey, host: &str, signature_hex: &[u8]) -> bool {
        match self.scheme.digest() {
            Digest::Sha1 => {
                let mut expected = [0u8; 20];
                hex::decode_to_slice(signature_hex, &mut expected).is_ok()
                    && self.tag_matches(key.sha1.clone(), host, &expected)
            }
            Digest::Sha512 => {
                let mut expected = [0u8; 64];
                hex::decode_to_slice(signature_hex, &mut expected).is_ok()
                    && self.tag_matches(key.sha512.clone(), host, &expected)
            }
        }
    }
}

/// The canonical string of `parts` under `scheme` (LF-joined, no trailing LF).
pub fn canonical_string(scheme: Scheme, parts: &SignedParts<'_>) -> String {
    Prepared::new(scheme, parts).canonical_string(parts.host)
}

/// Signs `parts` under `scheme`: lower-case hex.
pub fn sign(key: &SigningKey, scheme: Scheme, parts: &SignedParts<'_>) -> String {
    Prepared::new(scheme, parts).sign(key, parts.host)
}

/// Whether `signature_hex` (hex, either case) signs `parts` under `scheme`.
pub fn verify(key: &SigningKey, scheme: Scheme, parts: &SignedParts<'_>, signature_hex: &[u8]) -> bool {
    Prepared::new(scheme, parts).verify(key, parts.host, signature_hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_hash_constant_is_sha512_of_nothing() {
        let mut computed = String::new();
        push_lower_hex(&mut computed, &Sha512::digest(b""));
        assert_eq!(computed, EMPTY_SHA512_HEX);
        assert_eq!(body_hash_hex(b""), EMPTY_SHA512_HEX);
        assert_eq!(duo_headers_hash_hex(&[]), EMPTY_SHA512_HEX);
        assert_eq!(body_hash_hex(b"x"), hex::encode(Sha512::digest(b"x")));
    }

    #[test]
    fn header_hash_lower_cases_sorts_and_nul_joins() {
        let expected = hex::encode(Sha512::digest(b"x-duo-a\x001\x00x-duo-b\x002"));
        assert_eq!(
            duo_headers_hash_hex(&[(b"X-DUO-B", b"2"), (b"x-Duo-a", b"1")]),
            expected
        );
    }

    #[test]
    fn malformed_signatures_are_refused() {
        let key = SigningKey::new(b"k");
        let parts = SignedParts {
            date: "d",
            method: "GET",
            host: "h",
            path: "/",
            params: &[],
            body: b"",
            duo_headers: &[],
        };
        for scheme in [Scheme::V2(Digest::Sha1), Scheme::V5] {
            let good = sign(&key, scheme, &parts);
            assert!(verify(&key, scheme, &parts, good.as_bytes()));
            let mut not_hex = good.clone().into_bytes();
            not_hex[0] = b'g';
            for bad in [
                &b""[..],
                &good.as_bytes()[..good.len() - 1],
                &good.as_bytes()[..good.len() - 2],
                format!("{good}00").as_bytes(),
                &not_hex,
                "é".repeat(good.len() / 2).as_bytes(),
            ] {
                assert!(!verify(&key, scheme, &parts, bad), "{scheme:?} {bad:?}");
            }
        }
        // A SHA-512 signature is not a SHA-1 one and the other way round.
        let sha512 = sign(&key, Scheme::V2(Digest::Sha512), &parts);
        assert!(!verify(&key, Scheme::V2(Digest::Sha1), &parts, sha512.as_bytes()));
    }
}
