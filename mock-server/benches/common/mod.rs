//! What the bench binaries share: reading `--name value` flags (cargo bench passes its own flags
//! too, so unknown ones are ignored), and signing a request as a Duo client does.

use duo_auth::{Scheme, SignedParts, SigningKey};

/// The command line's flags.
#[derive(Debug)]
pub(crate) struct Flags(Vec<String>);

impl Flags {
    /// This process's arguments.
    pub(crate) fn from_env() -> Self {
        Self(std::env::args().collect())
    }

    /// The value after `name`, or `default`.
    pub(crate) fn get(&self, name: &str, default: &str) -> String {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }
}

/// The machine's clock, unix seconds.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A client's signature of `method path?query` (no body) for host `127.0.0.1` at unix time `at`:
/// the `Date` and `Authorization` header values.
pub(crate) fn signed_headers(
    (ikey, skey): (&str, &str),
    scheme: Scheme,
    method: &str,
    target: &str,
    at: i64,
) -> (String, String) {
    let date = duo_auth::date::format_date(at);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params = duo_auth::params::parse_urlencoded(query.as_bytes());
    let parts = SignedParts {
        date: &date,
        method,
        host: "127.0.0.1",
        path,
        params: &params,
        body: b"",
        duo_headers: &[],
    };
    let signature = duo_auth::sign(&SigningKey::new(skey.as_bytes()), scheme, &parts);
    let authorization = duo_auth::authorization_header(ikey, &signature);
    (date, authorization)
}
