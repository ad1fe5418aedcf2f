//! Properties: `verify(sign(x))` holds for any input under every scheme, changing any part the
//! scheme signs makes verification fail (and changing a part it does not sign does not), the
//! parameter line is sorted and decodes back, and dates round-trip.

use proptest::prelude::*;

use crate::date::{format_date, parse_date};
use crate::params::{canon_params, encode, parse_urlencoded};
use crate::{
    Digest, Param, Prepared, Scheme, SignedParts, SigningKey, authorization_header, parse_authorization,
    sign, verify,
};

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
    skey: Vec<u8>,
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

    fn sign(&self, scheme: Scheme) -> String {
        let key = SigningKey::new(&self.skey);
        self.with(|p| sign(&key, scheme, p))
    }

    fn verifies(&self, scheme: Scheme, signature: &str) -> bool {
        let key = SigningKey::new(&self.skey);
        self.with(|p| verify(&key, scheme, p, signature.as_bytes()))
    }
}

/// Unicode text, with empty strings over-represented because they are an edge of the encoding.
fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![1 => Just(String::new()), 4 => any::<String>()].prop_map(String::into_bytes)
}

fn params() -> impl Strategy<Value = Vec<Param>> {
    (prop::collection::vec((text(), text()), 0..6), any::<bool>()).prop_map(|(mut params, repeat)| {
        // Repeated keys are legal and sorted by value; make sure they occur.
        if let (true, Some((k, _))) = (repeat, params.first().cloned()) {
            params.push((k, b"again".to_vec()));
        }
        params
    })
}

fn request() -> impl Strategy<Value = Request> {
    (
        any::<i32>(),
        prop::sample::select(vec!["GET", "POST", "put", "Delete", "patch"]),
        "[a-zA-Z0-9.-]{1,30}(:[0-9]{1,5})?",
        "/[a-zA-Z0-9/%._~+-]{0,40}",
        params(),
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec(("[Xx]-[Dd][Uu][Oo]-[A-Za-z0-9-]{1,10}", "[ -~]{0,24}"), 0..4),
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(t, method, host, path, params, body, headers, skey)| Request {
            date: format_date(i64::from(t)),
            method: method.to_owned(),
            host,
            path,
            params,
            body,
            headers,
            skey,
        })
}

/// One change to a request, and which schemes sign the part it changes.
#[derive(Debug, Clone)]
enum Change {
    Date,
    Method,
    Host,
    Path,
    ParamKey(prop::sample::Index),
    ParamValue(prop::sample::Index),
    AddParam,
    RemoveParam(prop::sample::Index),
    Body,
    HeaderValue(prop::sample::Index),
    AddHeader,
}

fn change() -> impl Strategy<Value = (Change, String)> {
    let index = any::<prop::sample::Index>;
    (
        prop_oneof![
            Just(Change::Date),
            Just(Change::Method),
            Just(Change::Host),
            Just(Change::Path),
            index().prop_map(Change::ParamKey),
            index().prop_map(Change::ParamValue),
            Just(Change::AddParam),
            index().prop_map(Change::RemoveParam),
            Just(Change::Body),
            index().prop_map(Change::HeaderValue),
            Just(Change::AddHeader),
        ],
        "[a-z0-9]{1,4}",
    )
}

/// Applies `change` to `r`; `None` when the request has no such part (no params or headers).
fn apply(r: &Request, change: &Change, salt: &str) -> Option<Request> {
    let mut m = r.clone();
    match change {
        Change::Date => m.date = format_date(parse_date(&r.date)? + 1),
        Change::Method => {
            m.method = if r.method.eq_ignore_ascii_case("GET") {
                "POST"
            } else {
                "GET"
            }
            .to_owned();
        }
        Change::Host => m.host = format!("{salt}.{}", r.host),
        Change::Path => m.path = format!("{}/{salt}", r.path),
        Change::ParamKey(i) => m
            .params
            .get_mut(i.index(r.params.len().max(1)))?
            .0
            .extend(salt.bytes()),
        Change::ParamValue(i) => m
            .params
            .get_mut(i.index(r.params.len().max(1)))?
            .1
            .extend(salt.bytes()),
        Change::AddParam => m.params.push((salt.as_bytes().to_vec(), Vec::new())),
        Change::RemoveParam(i) => {
            if r.params.is_empty() {
                return None;
            }
            m.params.remove(i.index(r.params.len()));
        }
        Change::Body => m.body.extend(salt.bytes()),
        Change::HeaderValue(i) => m
            .headers
            .get_mut(i.index(r.headers.len().max(1)))?
            .1
            .push_str(salt),
        Change::AddHeader => m.headers.push((format!("X-Duo-Added-{salt}"), salt.to_owned())),
    }
    Some(m)
}

fn signs(scheme: Scheme, change: &Change) -> bool {
    match change {
        Change::Date => !matches!(scheme, Scheme::V1(_)),
        Change::Body => matches!(scheme, Scheme::V4 | Scheme::V5),
        Change::HeaderValue(_) | Change::AddHeader => scheme == Scheme::V5,
        Change::Method
        | Change::Host
        | Change::Path
        | Change::ParamKey(_)
        | Change::ParamValue(_)
        | Change::AddParam
        | Change::RemoveParam(_) => true,
    }
}

proptest! {
    #[test]
    fn verify_accepts_what_sign_produces(r in request()) {
        for scheme in SCHEMES {
            let sig = r.sign(scheme);
            prop_assert_eq!(sig.len(), if scheme.digest() == Digest::Sha1 { 40 } else { 128 });
            prop_assert!(sig.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            prop_assert!(r.verifies(scheme, &sig), "{}", scheme.name());
            prop_assert!(r.verifies(scheme, &sig.to_uppercase()), "{}", scheme.name());
        }
    }

    #[test]
    fn changing_a_signed_part_is_refused_and_an_unsigned_one_is_not(
        r in request(),
        (change, salt) in change(),
    ) {
        let Some(changed) = apply(&r, &change, &salt) else { return Ok(()) };
        for scheme in SCHEMES {
            let sig = r.sign(scheme);
            prop_assert_eq!(
                changed.verifies(scheme, &sig),
                !signs(scheme, &change),
                "{} {:?}",
                scheme.name(),
                change
            );
        }
    }

    #[test]
    // Not 0: HMAC zero-pads short keys, so `k` and `k\0` are the same key by design.
    fn another_key_or_scheme_does_not_verify(r in request(), extra in 1u8..=255) {
        let mut other = r.clone();
        other.skey.push(extra);
        for scheme in SCHEMES {
            let sig = r.sign(scheme);
            prop_assert!(!other.verifies(scheme, &sig), "{}", scheme.name());
            for other_scheme in SCHEMES.into_iter().filter(|s| *s != scheme) {
                prop_assert!(!r.verifies(other_scheme, &sig), "{} as {}", scheme.name(), other_scheme.name());
            }
        }
    }

    #[test]
    fn host_and_method_case_and_param_order_do_not_matter(r in request()) {
        let mut respelled = r.clone();
        respelled.host = r.host.to_uppercase();
        respelled.method = r.method.to_lowercase();
        respelled.params.reverse();
        for scheme in SCHEMES {
            prop_assert!(respelled.verifies(scheme, &r.sign(scheme)), "{}", scheme.name());
        }
    }

    #[test]
    fn a_prepared_request_verifies_for_each_host_spelling(r in request(), other in "[a-z]{1,10}") {
        let key = SigningKey::new(&r.skey);
        for scheme in SCHEMES {
            let sig = r.sign(scheme);
            r.with(|p| {
                let prepared = Prepared::new(scheme, &SignedParts { host: "ignored", ..*p });
                prop_assert_eq!(prepared.canonical_string(&r.host), crate::canonical_string(scheme, p));
                let wrong_host = format!("{other}.{}", r.host);
                prop_assert!(!prepared.verify(&key, &wrong_host, sig.as_bytes()));
                prop_assert!(prepared.verify(&key, &r.host, sig.as_bytes()));
                prop_assert_eq!(prepared.sign(&key, &r.host), sig.clone());
                Ok(())
            })?;
        }
    }

    #[test]
    fn a_raw_query_canonicalizes_as_its_decoded_pairs(
        raw in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            "[a-zA-Z0-9%=&+._~/-]{0,40}".prop_map(String::into_bytes),
            "([a-z]{1,3}=[a-zA-Z0-9._~-]{0,4}|[a-z]{1,3}=%[0-9A-Fa-f]{2}){0,4}(&[a-c]{1,2}=[0-9]{0,2}){0,3}"
                .prop_map(String::into_bytes),
        ],
        params in params(),
    ) {
        let expected = crate::params::canon_params(&crate::params::parse_urlencoded(&raw));
        let line = crate::params::canonical_query(&raw);
        prop_assert_eq!(line.as_ref(), expected.as_str());
        // A line that is already canonical is taken as it is.
        let line = crate::params::canon_params(&params);
        let again = crate::params::canonical_query(line.as_bytes());
        prop_assert!(matches!(again, std::borrow::Cow::Borrowed(_)), "{line:?} was re-encoded");
        prop_assert_eq!(again.as_ref(), line.as_str());
    }

    #[test]
    fn canonical_params_are_sorted_and_decode_back(params in params()) {
        let line = canon_params(&params);
        let mut sorted = params.clone();
        sorted.sort_by_key(|(k, v)| (encode(k), encode(v)));
        prop_assert_eq!(parse_urlencoded(line.as_bytes()), sorted);
        prop_assert!(line.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)));
        let pairs: Vec<(&str, &str)> = line
            .split('&')
            .filter(|s| !s.is_empty())
            .filter_map(|pair| pair.split_once('='))
            .collect();
        prop_assert_eq!(pairs.len(), params.len());
        prop_assert!(pairs.is_sorted());
    }

    #[test]
    fn plus_and_percent_20_are_the_same_space(words in prop::collection::vec("[a-zA-Z0-9%]{0,5}", 1..5)) {
        let plus = format!("k+{}={}", words.join("+"), words.join("+"));
        let pct = format!("k%20{}={}", words.join("%20"), words.join("%20"));
        let decoded = parse_urlencoded(plus.as_bytes());
        prop_assert_eq!(&decoded, &parse_urlencoded(pct.as_bytes()));
        prop_assert!(decoded.first().is_some_and(|(k, _)| k.starts_with(b"k ")));
    }

    #[test]
    fn dates_round_trip(t in -62_167_219_200i64..=253_402_300_799) {
        // 0000-01-01 to 9999-12-31: every four-digit year.
        prop_assert_eq!(parse_date(&format_date(t)), Some(t));
    }

    #[test]
    fn date_functions_never_panic(s in any::<String>(), t in any::<i64>()) {
        let _ = parse_date(&s);
        let _ = format_date(t);
    }

    #[test]
    fn dates_with_an_offset_denote_the_same_instant(
        t in 0i64..4_102_444_800,
        sign in prop::sample::select(vec!['+', '-']),
        hours in 0i64..=14,
        minutes in prop::sample::select(vec![0i64, 30, 45]),
    ) {
        let offset = if sign == '+' { 1 } else { -1 } * (hours * 3600 + minutes * 60);
        let local = format_date(t + offset);
        let with_zone = format!("{} {sign}{hours:02}{minutes:02}", local.trim_end_matches(" -0000"));
        prop_assert_eq!(parse_date(&with_zone), Some(t), "{}", with_zone);
    }

    #[test]
    fn parsers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let _ = parse_authorization(&bytes);
        let _ = parse_urlencoded(&bytes);
        let key = SigningKey::new(b"k");
        let parts = SignedParts {
            date: "", method: "", host: "", path: "", params: &[], body: &bytes, duo_headers: &[],
        };
        for scheme in SCHEMES {
            let _ = verify(&key, scheme, &parts, &bytes);
        }
    }

    #[test]
    fn authorization_round_trips(ikey in "[A-Za-z0-9]{1,30}", signature in "[!-~]{0,130}") {
        let parsed = parse_authorization(authorization_header(&ikey, &signature).as_bytes());
        let credentials = parsed.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(credentials.ikey(), ikey.as_str());
        prop_assert_eq!(credentials.signature(), signature.as_bytes());
    }
}
