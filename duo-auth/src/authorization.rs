//! The `Authorization: Basic base64(ikey:signature)` header (§1.6).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::AuthError;

/// `Basic base64(ikey:signature)`.
pub fn authorization_header(ikey: &str, signature_hex: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{ikey}:{signature_hex}")))
}

/// The decoded credentials of an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    decoded: Vec<u8>,
    colon: usize,
}

impl Credentials {
    /// The integration key (before the first `:`), lossily decoded.
    pub fn ikey(&self) -> &str {
        std::str::from_utf8(self.decoded.get(..self.colon).unwrap_or_default()).unwrap_or("")
    }

    /// The signature as sent (after the first `:`), hex expected.
    pub fn signature(&self) -> &[u8] {
        self.decoded.get(self.colon + 1..).unwrap_or_default()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("ikey", &self.ikey())
            .finish_non_exhaustive()
    }
}

/// Parses an `Authorization` header value: `Basic` (any case), standard base64 (padded or not),
/// `ikey:signature` with a non-empty ikey.
pub fn parse_authorization(value: &[u8]) -> Result<Credentials, AuthError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| AuthError::NotBasic)?
        .trim();
    let (scheme, encoded) = text.split_once(' ').ok_or(AuthError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(AuthError::NotBasic);
    }
    let encoded = encoded.trim();
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| AuthError::BadBase64)?;
    let colon = decoded
        .iter()
        .position(|b| *b == b':')
        .ok_or(AuthError::NoColon)?;
    if colon == 0 {
        return Err(AuthError::EmptyIkey);
    }
    Ok(Credentials { decoded, colon })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_bad_headers_are_named() {
        let header = authorization_header("DIABC", "deadbeef");
        let creds = parse_authorization(header.as_bytes()).expect("parses");
        assert_eq!((creds.ikey(), creds.signature()), ("DIABC", &b"deadbeef"[..]));
        let unpadded = header.trim_end_matches('=').replace("Basic", "basic");
        assert_eq!(parse_authorization(unpadded.as_bytes()), Ok(creds));
        assert_eq!(parse_authorization(b"Bearer x"), Err(AuthError::NotBasic));
        assert_eq!(parse_authorization(b"Basic"), Err(AuthError::NotBasic));
        assert_eq!(parse_authorization(b"Basic !!!"), Err(AuthError::BadBase64));
        assert_eq!(parse_authorization(b"Basic Zm9vYmFy"), Err(AuthError::NoColon));
        assert_eq!(parse_authorization(b"Basic OmFi"), Err(AuthError::EmptyIkey));
        assert!(!format!("{:?}", parse_authorization(header.as_bytes())).contains("deadbeef"));
    }
}
