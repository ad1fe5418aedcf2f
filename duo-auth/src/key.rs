//! The secret key, pre-keyed once: cloning a keyed HMAC state per request is cheaper than
//! re-deriving the inner and outer pads.

use std::fmt;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha512;

/// An skey ready to sign or verify. Its Debug output never shows the key.
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) sha1: Hmac<Sha1>,
    pub(crate) sha512: Hmac<Sha512>,
}

impl SigningKey {
    /// Keys HMAC-SHA1 and HMAC-SHA512 with `skey` (HMAC takes keys of any length).
    pub fn new(skey: &[u8]) -> Self {
        Self {
            sha1: <Hmac<Sha1> as Mac>::new_from_slice(skey).unwrap_or_else(|_| unreachable_key()),
            sha512: <Hmac<Sha512> as Mac>::new_from_slice(skey).unwrap_or_else(|_| unreachable_key()),
        }
    }
}

/// HMAC accepts keys of every length, so `new_from_slice` cannot fail; this keeps the code free
/// of a panic path anyway by keying with an empty key.
fn unreachable_key<M: Mac + hmac::digest::KeyInit>() -> M {
    <M as hmac::digest::KeyInit>::new(&Default::default())
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}
