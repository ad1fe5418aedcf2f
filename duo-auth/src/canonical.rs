//! Canonical strings (§1.2), signing and verification.
//!
//! A [`Prepared`] request holds every canonical line but the host, so a server can try the host
//! spellings Duo's clients sign (with and without port, the configured name) without redoing the
//! parameter encoding or the SHA-512 hashes; the pieces are fed straight into the HMAC.

use std::borrow::Cow;

use hmac::Mac;
use sha2::{Digest as _, Sha512};

use crate::params::canon_params_into;
use crate::{Digest, Scheme, SignedParts, SigningKey};

/// SHA-512 of the empty string, hex: the body hash of every GET and the header hash when no
/// `X-Duo-*` header is sent, i.e. of most requests, so it is not recomputed.
const EMPTY_SHA512: HexSha512 = HexSha512(*b"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");

/// Length of a hex SHA-512.
const SHA512_HEX_LEN: usize = 128;

fn lower_hex(digest: &[u8]) -> HexSha512 {
    let digit = |nibble: u8| match nibble & 0xF {
        n @ 0..=9 => b'0' + n,
        n => b'a' + n - 10,
    };
    let mut out = [0u8; SHA512_HEX_LEN];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest) {
        pair.copy_from_slice(&[digit(byte >> 4), digit(*byte)]);
    }
    HexSha512(out)
}

fn hex_sha512_of_body(body: &[u8]) -> HexSha512 {
    if body.is_empty() {
        EMPTY_SHA512
    } else {
        lower_hex(&Sha512::digest(body))
    }
}

fn hex_sha512_of_headers(headers: &[(&[u8], &[u8])]) -> HexSha512 {
    if headers.is_empty() {
        return EMPTY_SHA512;
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
    lower_hex(&hasher.finalize())
}

/// Hex SHA-512 of a body (v4/v5 line 6), over the exact bytes.
pub fn body_hash_hex(body: &[u8]) -> String {
    hex_sha512_of_body(body).as_str().to_owned()
}

/// Hex SHA-512 of the `X-Duo-*` header canon (v5 line 7): names lower-cased, sorted by name,
/// `name\0value\0name\0value…` with no trailing NUL; SHA-512("") when there are none.
pub fn duo_headers_hash_hex(headers: &[(&[u8], &[u8])]) -> String {
    hex_sha512_of_headers(headers).as_str().to_owned()
}

/// Decodes hex (either case) into `out`, which it must fill exactly; `false` for anything else.
/// A table look-up per digit: the server decodes a 128-digit signature on every request.
fn decode_hex_exact(hex: &[u8], out: &mut [u8]) -> bool {
    const INVALID: u8 = 0xFF;
    #[allow(clippy::indexing_slicing)] // in bounds by construction, evaluated at compile time
    const TABLE: [u8; 256] = {
        let mut table = [INVALID; 256];
        let mut i = 0;
        while i < 10 {
            table[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            table[b'a' as usize + i] = 10 + i as u8;
            table[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        table
    };
    if hex.len() != out.len() * 2 {
        return false;
    }
    let mut invalid = 0u8;
    let value = |digit: u8| TABLE.get(usize::from(digit)).copied().unwrap_or(INVALID);
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let [hi, lo] = [
            value(pair.first().copied().unwrap_or(0)),
            value(pair.last().copied().unwrap_or(0)),
        ];
        invalid |= (hi | lo) & 0xF0;
        *byte = (hi << 4) | (lo & 0xF);
    }
    invalid == 0
}

/// Everything in the canonical string except the host, computed once per request. It borrows the
/// request's own pieces: preparing a GET whose method is upper-case and whose parameters arrived
/// in canonical form (see [`crate::params::canonical_query`]) allocates nothing, and signing
/// feeds the pieces straight into the keyed HMAC.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    scheme: Scheme,
    /// Line 1, or `None` for v1, which does not sign the date.
    date: Option<Cow<'a, str>>,
    /// Line 2, upper-case.
    method: Cow<'a, str>,
    /// Line 4.
    path: Cow<'a, str>,
    /// Line 5, the canonical parameter line.
    params: Cow<'a, str>,
    /// Line 6 (v4, v5): hex SHA-512 of the body.
    body_hash: Option<HexSha512>,
    /// Line 7 (v5): hex SHA-512 of the `X-Duo-*` headers.
    headers_hash: Option<HexSha512>,
}

/// A lower-case hex SHA-512, kept inline (no allocation per request).
#[derive(Clone, Copy)]
struct HexSha512([u8; SHA512_HEX_LEN]);

impl HexSha512 {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for HexSha512 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'a> Prepared<'a> {
    /// Canonicalizes `parts` for `scheme`; `parts.host` is ignored.
    pub fn new(scheme: Scheme, parts: &SignedParts<'a>) -> Self {
        let mut params = String::with_capacity(parts.params.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
        canon_params_into(parts.params, &mut params);
        Self::with_params_line(scheme, parts, Cow::Owned(params))
    }

    /// As [`Prepared::new`], with the canonical parameter line already made (for instance by
    /// [`crate::params::canonical_query`] from the raw query); `parts.params` is ignored.
    pub fn with_params_line(scheme: Scheme, parts: &SignedParts<'a>, params: Cow<'a, str>) -> Self {
        let signs_body = matches!(scheme, Scheme::V4 | Scheme::V5);
        let method = if parts.method.bytes().any(|b| !b.is_ascii_uppercase()) {
            Cow::Owned(parts.method.chars().flat_map(char::to_uppercase).collect())
        } else {
            Cow::Borrowed(parts.method)
        };
        Self {
            scheme,
            date: (!matches!(scheme, Scheme::V1(_))).then_some(Cow::Borrowed(parts.date)),
            method,
            path: Cow::Borrowed(parts.path),
            params,
            body_hash: signs_body.then(|| hex_sha512_of_body(parts.body)),
            headers_hash: (scheme == Scheme::V5).then(|| hex_sha512_of_headers(parts.duo_headers)),
        }
    }

    /// The same request, owning its pieces (to keep it past the borrowed parts).
    pub fn into_owned(self) -> Prepared<'static> {
        Prepared {
            scheme: self.scheme,
            date: self.date.map(|date| Cow::Owned(date.into_owned())),
            method: Cow::Owned(self.method.into_owned()),
            path: Cow::Owned(self.path.into_owned()),
            params: Cow::Owned(self.params.into_owned()),
            body_hash: self.body_hash,
            headers_hash: self.headers_hash,
        }
    }

    /// The scheme this request was prepared for.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The lines in order, the host given; `None` where this scheme has no line.
    fn lines<'s>(&'s self, host: &'s str) -> [Option<&'s [u8]>; 7] {
        [
            self.date.as_deref().map(str::as_bytes),
            Some(self.method.as_bytes()),
            Some(host.as_bytes()),
            Some(self.path.as_bytes()),
            Some(self.params.as_bytes()),
            self.body_hash.as_ref().map(|hash| hash.0.as_slice()),
            self.headers_hash.as_ref().map(|hash| hash.0.as_slice()),
        ]
    }

    /// The exact canonical string for `host` (LF-joined, no trailing LF).
    pub fn canonical_string(&self, host: &str) -> String {
        let host = host.to_lowercase();
        let lines: Vec<&[u8]> = self.lines(&host).into_iter().flatten().collect();
        String::from_utf8_lossy(&lines.join(&b'\n')).into_owned()
    }

    fn feed(&self, mac: &mut impl Mac, host: &str) {
        let lowered;
        let host = if host.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
            lowered = host.to_lowercase();
            lowered.as_str()
        } else {
            host
        };
        for (i, line) in self.lines(host).into_iter().flatten().enumerate() {
            if i > 0 {
                mac.update(b"\n");
            }
            mac.update(line);
        }
    }

    fn tag_hex<M: Mac>(&self, mut mac: M, host: &str) -> String {
        self.feed(&mut mac, host);
        hex::encode(mac.finalize().into_bytes())
    }

    fn tag_matches<M: Mac>(&self, mut mac: M, host: &str, expected: &[u8]) -> bool {
        self.feed(&mut mac, host);
        let tag = mac.finalize().into_bytes();
        // Constant time: every byte is compared, whatever differs first.
        tag.len() == expected.len()
            && tag
                .iter()
                .zip(expected)
                .fold(0u8, |differ, (a, b)| differ | (a ^ b))
                == 0
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
                decode_hex_exact(signature_hex, &mut expected)
                    && self.tag_matches(key.sha1.clone(), host, &expected)
            }
            Digest::Sha512 => {
                let mut expected = [0u8; 64];
                decode_hex_exact(signature_hex, &mut expected)
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
        let computed = hex::encode(Sha512::digest(b""));
        assert_eq!(lower_hex(&Sha512::digest(b"")).as_str(), computed);
        assert_eq!(EMPTY_SHA512.as_str(), computed);
        assert_eq!(body_hash_hex(b""), computed);
        assert_eq!(duo_headers_hash_hex(&[]), computed);
        assert_eq!(body_hash_hex(b"x"), hex::encode(Sha512::digest(b"x")));
    }

    #[test]
    fn hex_decoding_agrees_with_the_hex_crate_on_every_pair_of_bytes() {
        for hi in 0..=255u8 {
            for lo in 0..=255u8 {
                let (mut ours, mut theirs) = ([0u8; 2], [0u8; 2]);
                let input = [b'a', b'F', hi, lo];
                let accepted = decode_hex_exact(&input, &mut ours);
                assert_eq!(
                    accepted,
                    hex::decode_to_slice(input, &mut theirs).is_ok(),
                    "{input:?}"
                );
                if accepted {
                    assert_eq!(ours, theirs);
                }
            }
        }
        let mut two = [0u8; 2];
        assert!(!decode_hex_exact(b"abc", &mut two) && !decode_hex_exact(b"abcdef", &mut two));
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
