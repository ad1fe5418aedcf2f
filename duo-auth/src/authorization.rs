//! The `Authorization: Basic base64(ikey:signature)` header (§1.6).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::AuthError;

/// `Basic base64(ikey:signature)`, standard alphabet, padded, as every client sends it.
pub fn authorization_header(ikey: &str, signature_hex: &str) -> String {
    let mut credentials = String::with_capacity(ikey.len() + 1 + signature_hex.len());
    credentials.push_str(ikey);
    credentials.push(':');
    credentials.push_str(signature_hex);
    let mut out = String::with_capacity(6 + credentials.len().div_ceil(3) * 4);
    out.push_str("Basic ");
    STANDARD.encode_string(credentials, &mut out);
    out
}

/// The decoded credentials of an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `ikey:signature`, the ikey part always valid UTF-8 (see [`parse_authorization`]).
    decoded: Decoded,
    colon: usize,
}

/// Room for `ikey:signature` of any Duo key (20 + 1 + 128 bytes) with some to spare: the server
/// decodes one per request, without an allocation.
const INLINE_BYTES: usize = 192;

/// Decoded credentials: inline when they fit (always, for real keys), else on the heap.
#[derive(Clone)]
enum Decoded {
    Inline { bytes: [u8; INLINE_BYTES], len: usize },
    Heap(Vec<u8>),
}

impl Decoded {
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { bytes, len } => bytes.get(..*len).unwrap_or_default(),
            Self::Heap(bytes) => bytes,
        }
    }

    /// Standard base64, padded or not.
    fn from_base64(encoded: &[u8]) -> Option<Self> {
        if encoded.len() <= INLINE_BYTES / 3 * 4 {
            let mut bytes = [0u8; INLINE_BYTES];
            let len = STANDARD
                .decode_slice(encoded, &mut bytes)
                .or_else(|_| STANDARD_NO_PAD.decode_slice(encoded, &mut bytes))
                .ok()?;
            return Some(Self::Inline { bytes, len });
        }
        STANDARD
            .decode(encoded)
            .or_else(|_| STANDARD_NO_PAD.decode(encoded))
            .ok()
            .map(Self::Heap)
    }
}

impl PartialEq for Decoded {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Decoded {}

impl Credentials {
    /// The integration key (before the first `:`); invalid UTF-8 was replaced by U+FFFD, so a
    /// garbled ikey is still reported as an unknown ikey rather than as a malformed header.
    pub fn ikey(&self) -> &str {
        self.decoded
            .as_slice()
            .get(..self.colon)
            .and_then(|ikey| std::str::from_utf8(ikey).ok())
            .unwrap_or_default()
    }

    /// The signature exactly as sent (after the first `:`); hex expected but not checked.
    pub fn signature(&self) -> &[u8] {
        self.decoded
            .as_slice()
            .get(self.colon.saturating_add(1)..)
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("ikey", &self.ikey())
            .finish_non_exhaustive()
    }
}

/// Parses an `Authorization` header value: scheme `Basic` (any case), standard base64 (padded,
/// or unpadded for leniency), `ikey:signature` split at the first `:`, non-empty ikey.
pub fn parse_authorization(value: &[u8]) -> Result<Credentials, AuthError> {
    let value = value.trim_ascii();
    let space = value
        .iter()
        .position(|b| *b == b' ' || *b == b'\t')
        .ok_or(AuthError::NotBasic)?;
    let (scheme, encoded) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return Err(AuthError::NotBasic);
    }
    let encoded = encoded.trim_ascii();
    if encoded.is_empty() {
        return Err(AuthError::BadBase64);
    }
    let mut decoded = Decoded::from_base64(encoded).ok_or(AuthError::BadBase64)?;
    let mut colon = decoded
        .as_slice()
        .iter()
        .position(|b| *b == b':')
        .ok_or(AuthError::NoColon)?;
    if colon == 0 {
        return Err(AuthError::EmptyIkey);
    }
    let (ikey, signature) = decoded.as_slice().split_at(colon);
    if std::str::from_utf8(ikey).is_err() {
        let mut repaired = String::from_utf8_lossy(ikey).into_owned().into_bytes();
        colon = repaired.len();
        repaired.extend_from_slice(signature);
        decoded = Decoded::Heap(repaired);
    }
    Ok(Credentials { decoded, colon })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_in_any_case_padded_or_not() {
        let header = authorization_header("DIABC", "deadbeef");
        assert_eq!(header, "Basic RElBQkM6ZGVhZGJlZWY=");
        let creds = parse_authorization(header.as_bytes()).expect("parses");
        assert_eq!((creds.ikey(), creds.signature()), ("DIABC", &b"deadbeef"[..]));
        let unpadded = header.trim_end_matches('=').replace("Basic", "bAsIc");
        assert_eq!(parse_authorization(unpadded.as_bytes()), Ok(creds.clone()));
        let spaced = format!("  {}  ", header.replace(' ', "   "));
        assert_eq!(parse_authorization(spaced.as_bytes()), Ok(creds));
    }

    #[test]
    fn long_credentials_are_decoded_like_short_ones() {
        for len in [0, 100, 170, 171, 172, 300, 1000] {
            let signature = "s".repeat(len);
            let header = authorization_header("DIABC", &signature);
            let creds = parse_authorization(header.as_bytes()).expect("parses");
            assert_eq!((creds.ikey(), creds.signature()), ("DIABC", signature.as_bytes()));
            let unpadded = parse_authorization(header.trim_end_matches('=').as_bytes()).expect("parses");
            assert_eq!(unpadded, creds, "{len}");
        }
    }

    #[test]
    fn the_signature_is_everything_after_the_first_colon() {
        let creds = parse_authorization(authorization_header("ik", "a:b:").as_bytes()).expect("parses");
        assert_eq!((creds.ikey(), creds.signature()), ("ik", &b"a:b:"[..]));
        let creds = parse_authorization(authorization_header("ik", "").as_bytes()).expect("parses");
        assert_eq!(creds.signature(), b"");
    }

    #[test]
    fn a_non_utf8_ikey_is_kept_as_an_unknown_ikey() {
        let header = format!("Basic {}", STANDARD.encode(b"D\xffI:abc"));
        let creds = parse_authorization(header.as_bytes()).expect("parses");
        assert_eq!((creds.ikey(), creds.signature()), ("D\u{fffd}I", &b"abc"[..]));
    }

    #[test]
    fn bad_headers_are_named() {
        assert_eq!(parse_authorization(b""), Err(AuthError::NotBasic));
        assert_eq!(parse_authorization(b"Bearer x"), Err(AuthError::NotBasic));
        assert_eq!(parse_authorization(b"Basic"), Err(AuthError::NotBasic));
        assert_eq!(
            parse_authorization(b"BasicZm9vOmJhcg=="),
            Err(AuthError::NotBasic)
        );
        assert_eq!(parse_authorization(b"Basic    "), Err(AuthError::NotBasic));
        assert_eq!(parse_authorization(b"Basic !!!"), Err(AuthError::BadBase64));
        assert_eq!(
            parse_authorization(b"Basic Zm9v OmJhcg=="),
            Err(AuthError::BadBase64)
        );
        assert_eq!(parse_authorization(b"Basic Zm9vYmFy"), Err(AuthError::NoColon));
        assert_eq!(parse_authorization(b"Basic OmFi"), Err(AuthError::EmptyIkey));
        for error in [
            AuthError::NotBasic,
            AuthError::BadBase64,
            AuthError::NoColon,
            AuthError::EmptyIkey,
        ] {
            assert!(error.to_string().contains("Authorization"), "{error}");
        }
    }

    #[test]
    fn debug_shows_the_ikey_but_not_the_signature() {
        let creds = parse_authorization(authorization_header("DIABC", "deadbeef").as_bytes());
        let shown = format!("{creds:?}");
        assert!(shown.contains("DIABC") && !shown.contains("deadbeef"), "{shown}");
    }
}
