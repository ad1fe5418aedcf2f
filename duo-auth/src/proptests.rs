//! Properties: `verify(sign(x))` holds for any input under every scheme, and changing any part
//! the scheme signs makes verification fail.

use proptest::prelude::*;

use crate::date::{format_date, parse_date};
use crate::params::{canon_params, parse_urlencoded};
use crate::{Digest, Param, Scheme, SignedParts, SigningKey, sign, verify};

const SCHEMES: [Scheme; 6] = [
    Scheme::V1(Digest::Sha1),
    Scheme::V1(Digest::Sha512),
    Scheme::V2(Digest::Sha1),
    Scheme::V2(Digest::Sha512),
    Scheme::V4,
    Scheme::V5,
];

#[derive(Debug, Clone)]
struct Request {
    date: String,
    method: String,
    host: String,
    path: String,
    params: Vec<Param>,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    skey: String,
}

impl Request {
    fn with<R>(&self, f: impl FnOnce(&SignedParts<'_>) -> R) -> R {
        let headers: Vec<(&[u8], &[u8])> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        f(&SignedParts {
            date: &self.date,
            method: &self.method,
            host: &self.host,
            path: &self.path,
            params: &self.params,
            body: &self.body,
            duo_headers: &headers,
        })
    }
}

fn param() -> impl Strategy<Value = Param> {
    (any::<String>(), any::<String>()).prop_map(|(k, v)| (k.into_bytes(), v.into_bytes()))
}

fn request() -> impl Strategy<Value = Request> {
    (
        any::<i32>(),
        prop::sample::select(vec!["GET", "POST", "put", "Delete"]),
        "[a-zA-Z0-9.-]{1,30}(:[0-9]{1,5})?",
        "/[a-zA-Z0-9/%._~-]{0,40}",
        prop::collection::vec(param(), 0..6),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::btree_map("X-[Dd][Uu][Oo]-[A-Za-z0-9]{1,8}", "[ -~]{0,20}", 0..4),
        "[ -~]{1,48}",
    )
        .prop_map(|(t, method, host, path, mut params, body, headers, skey)| {
            // A repeated key with another value, when there is one to repeat.
            if let Some((k, _)) = params.first().cloned() {
                params.push((k, b"again".to_vec()));
            }
            Request {
                date: format_date(i64::from(t)),
                method: method.to_owned(),
                host,
                path,
                params,
                body,
                headers: headers.into_iter().collect(),
                skey,
            }
        })
}

fn signs(scheme: Scheme, r: &Request) -> String {
    let key = SigningKey::new(r.skey.as_bytes());
    r.with(|p| sign(&key, scheme, p))
}

fn verifies(scheme: Scheme, r: &Request, signature: &str) -> bool {
    let key = SigningKey::new(r.skey.as_bytes());
    r.with(|p| verify(&key, scheme, p, signature.as_bytes()))
}

proptest! {
    #[test]
    fn verify_accepts_what_sign_produces(r in request()) {
        for scheme in SCHEMES {
            let sig = signs(scheme, &r);
            prop_assert_eq!(sig.len(), if scheme.digest() == Digest::Sha1 { 40 } else { 128 });
            prop_assert!(verifies(scheme, &r, &sig), "{}", scheme.name());
            prop_assert!(verifies(scheme, &r, &sig.to_uppercase()));
        }
    }

    #[test]
    fn changing_a_signed_part_is_refused(r in request(), which in 0usize..9, salt in "[a-z]{1,4}") {
        for scheme in SCHEMES {
            let sig = signs(scheme, &r);
            let mut m = r.clone();
            let signed = match which {
                0 => { m.date = format_date(parse_date(&r.date).unwrap_or(0) + 1); !matches!(scheme, Scheme::V1(_)) }
                1 => { m.method = if r.method.eq_ignore_ascii_case("GET") { "POST".into() } else { "GET".into() }; true }
                2 => { m.host = format!("{salt}.{}", r.host); true }
                3 => { m.path = format!("{}/{salt}", r.path); true }
                4 => { m.params.push((salt.clone().into_bytes(), b"1".to_vec())); true }
                5 => match m.params.first_mut() {
                    Some(first) => { first.1.extend_from_slice(salt.as_bytes()); true }
                    None => { m.params.push((salt.clone().into_bytes(), Vec::new())); true }
                },
                6 => { m.body.extend_from_slice(salt.as_bytes()); matches!(scheme, Scheme::V4 | Scheme::V5) }
                7 => { m.headers.push((format!("X-Duo-Zz{salt}"), "v".into())); scheme == Scheme::V5 }
                _ => match m.headers.first_mut() {
                    Some(h) => { h.1.push_str(&salt); scheme == Scheme::V5 }
                    None => { m.skey.push_str(&salt); true }
                },
            };
            prop_assert_eq!(verifies(scheme, &m, &sig), !signed, "{} part {}", scheme.name(), which);
        }
    }

    #[test]
    fn canonical_params_are_sorted_and_decode_back(params in prop::collection::vec(param(), 0..8)) {
        let line = canon_params(&params);
        let mut sorted = params.clone();
        sorted.sort_by_key(|(k, v)| (crate::params::encode(k), crate::params::encode(v)));
        prop_assert_eq!(parse_urlencoded(line.as_bytes()), sorted);
        let pairs: Vec<&str> = line.split('&').filter(|s| !s.is_empty()).collect();
        let mut again = pairs.clone();
        again.sort_by_key(|p| p.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())));
        prop_assert_eq!(pairs, again);
    }

    #[test]
    fn plus_and_percent_20_are_the_same_space(words in prop::collection::vec("[a-z]{1,5}", 1..5)) {
        let plus = format!("k={}", words.join("+"));
        let pct = format!("k={}", words.join("%20"));
        prop_assert_eq!(parse_urlencoded(plus.as_bytes()), parse_urlencoded(pct.as_bytes()));
    }

    #[test]
    fn dates_round_trip(t in -62_135_596_800i64..253_402_300_799) {
        prop_assert_eq!(parse_date(&format_date(t)), Some(t));
    }

    #[test]
    fn date_parsing_never_panics(s in any::<String>()) {
        let _ = parse_date(&s);
    }

    #[test]
    fn authorization_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        let _ = crate::parse_authorization(&bytes);
        let _ = parse_urlencoded(&bytes);
    }
}
