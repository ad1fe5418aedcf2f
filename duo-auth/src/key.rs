//! The secret key, pre-keyed once: cloning a keyed HMAC state per request is cheaper than
//! re-deriving the inner and outer pads from the skey every time.

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
    /// Keys HMAC-SHA1 and HMAC-SHA512 with the skey bytes.
    pub fn new(skey: &[u8]) -> Self {
        Self {
            sha1: keyed(skey),
            sha512: keyed(skey),
        }
    }
}

/// HMAC takes keys of any length (long ones are hashed, short ones padded) and hmac 0.12's
/// `new_from_slice` never fails; the fallback only keeps this crate free of a panic path of its
/// own and is dead code.
fn keyed<M: Mac + hmac::digest::KeyInit>(skey: &[u8]) -> M {
    <M as Mac>::new_from_slice(skey)
        .unwrap_or_else(|_| <M as hmac::digest::KeyInit>::new(&Default::default()))
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_show_the_key() {
        let skey = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
        let shown = format!("{:?}", SigningKey::new(skey.as_bytes()));
        assert_eq!(shown, "SigningKey(<redacted>)");
        assert!(!format!("{:#?}", SigningKey::new(skey.as_bytes())).contains("Zh5e"));
    }

    #[test]
    fn keys_of_every_length_work_including_longer_than_a_block() {
        let parts = crate::SignedParts {
            date: "d",
            method: "GET",
            host: "h",
            path: "/",
            params: &[],
            body: b"",
            duo_headers: &[],
        };
        let mut seen = std::collections::HashSet::new();
        for len in [0, 1, 40, 64, 65, 128, 129, 300] {
            let key = SigningKey::new(&vec![b'k'; len]);
            for scheme in [crate::Scheme::V2(crate::Digest::Sha1), crate::Scheme::V5] {
                let sig = crate::sign(&key, scheme, &parts);
                assert!(crate::verify(&key, scheme, &parts, sig.as_bytes()));
                assert!(seen.insert(sig), "key length {len} collides");
            }
        }
    }
}
