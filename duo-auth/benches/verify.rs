//! Signature cost per request, as the server and connector pay it: full verification from raw
//! pieces (parse `Authorization`, canonicalize, HMAC, compare) of `GET /admin/v1/users?limit=300
//! &offset=0`, and signing. Goals: verify ≤ 1.5 µs for v2-SHA1 and ≤ 3 µs for v5; sign ≤ 2 µs.
//!
//! `cargo bench -p duo-auth --bench verify`

use criterion::{Criterion, criterion_group, criterion_main};
use duo_auth::{Digest, Prepared, Scheme, SignedParts, SigningKey};
use std::hint::black_box;

const DATE: &str = "Sat, 28 Nov 2026 05:55:57 -0000";
const SKEY: &str = "9CPVNPkNa1Hedcm4pMbXDuCL1mHoOsFaQfDPrAJ7";
const QUERY: &[u8] = b"limit=300&offset=0";

fn bench(c: &mut Criterion) {
    let key = SigningKey::new(SKEY.as_bytes());
    let params = duo_auth::params::parse_urlencoded(QUERY);
    let parts = SignedParts {
        date: DATE,
        method: "GET",
        host: "localhost",
        path: "/admin/v1/users",
        params: &params,
        body: b"",
        duo_headers: &[],
    };
    for scheme in [Scheme::V2(Digest::Sha1), Scheme::V2(Digest::Sha512), Scheme::V5] {
        let header =
            duo_auth::authorization_header("DI29326ML64LG2TJF8CZ", &duo_auth::sign(&key, scheme, &parts));
        c.bench_function(&format!("verify {}", scheme.name()), |b| {
            b.iter(|| {
                let credentials =
                    duo_auth::parse_authorization(black_box(header.as_bytes())).expect("header");
                let params = duo_auth::params::parse_urlencoded(black_box(QUERY));
                let received = SignedParts {
                    params: &params,
                    ..parts
                };
                let prepared = Prepared::new(scheme, &received);
                assert!(prepared.verify(&key, black_box("localhost"), credentials.signature()));
            });
        });
    }
    for scheme in [Scheme::V2(Digest::Sha1), Scheme::V5] {
        c.bench_function(&format!("sign {}", scheme.name()), |b| {
            b.iter(|| duo_auth::sign(&key, scheme, black_box(&parts)));
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
