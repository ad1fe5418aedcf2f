//! The signature debugger behind `duo-mock explain-signature`: from what a client sent and the
//! skey, every canonical string and signature a server tries (each scheme, each host spelling),
//! which one matches the signature the client sent, and, when none does, the most likely reason.
//!
//! Pure: no I/O and no clock. The input is plain data (from the command line, a test, or a
//! customer's log), and [`explain`] signs through `duo-auth` only. The skey is never shown: the
//! explanation prints its length.
//!
//! ```
//! use mock_server::explain::{explain, ExplainInput, ParamsInput, SentSignature};
//! let input = ExplainInput {
//!     method: "GET".into(),
//!     host: "api-xxxxxxxx.duosecurity.com".into(),
//!     path: "/admin/v1/users".into(),
//!     params: ParamsInput::Query("limit=100&offset=0".into()),
//!     date: "Tue, 21 Aug 2012 17:29:18 -0000".into(),
//!     skey: "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep".into(),
//!     sent: Some(SentSignature::Hex("78a72df0eb19f020627e27b2d2d7afa2414615ea".into())),
//!     ..ExplainInput::default()
//! };
//! let explanation = explain(&input);
//! assert_eq!(explanation.matched().map(|(scheme, _)| scheme.name()), Some("v2-sha1"));
//! assert!(!explanation.to_string().contains("Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"));
//! ```

use std::fmt::{self, Write as _};

use duo_auth::{Digest, Param, Prepared, Scheme, SignedParts, SigningKey};

/// Every scheme, in the order the explanation shows them.
pub const SCHEMES: [Scheme; 6] = [
    Scheme::V1(Digest::Sha1),
    Scheme::V1(Digest::Sha512),
    Scheme::V2(Digest::Sha1),
    Scheme::V2(Digest::Sha512),
    Scheme::V4,
    Scheme::V5,
];

/// Length of a Duo secret key.
const SKEY_LEN: usize = 40;

/// The methods tried when the client may have signed another one than it sent.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The request parameters, as the client sent them or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamsInput {
    /// The raw query string as sent, without the `?` (`+` and `%20` both read as a space).
    Query(String),
    /// Decoded `key`, `value` pairs, in the order sent.
    Decoded(Vec<(String, String)>),
}

impl Default for ParamsInput {
    fn default() -> Self {
        Self::Query(String::new())
    }
}

/// The signature the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentSignature {
    /// The hex signature alone (surrounding whitespace is ignored).
    Hex(String),
    /// The whole `Authorization` header value, `Basic base64(ikey:signature)`.
    Authorization(String),
}

/// What a client sent, and the skey to check it with. Debug output never shows the skey.
#[derive(Clone, Default)]
pub struct ExplainInput {
    /// HTTP method.
    pub method: String,
    /// Host as the client used it, possibly with `:port` (a leading `https://` is ignored).
    pub host: String,
    /// Raw, still percent-encoded path; a `?query` on it is taken as the query.
    pub path: String,
    /// Query (or, for a form POST, the query only: the body carries the rest).
    pub params: ParamsInput,
    /// The `Date` header value; an `X-Duo-Date` among [`headers`](Self::headers) wins, as on the
    /// server.
    pub date: String,
    /// Raw body bytes.
    pub body: Vec<u8>,
    /// Headers sent: every `X-Duo-*` one (hashed by v5) and `Content-Type` (whether the body is a
    /// form); others are ignored. Without `Content-Type`, a body is taken for a form unless it
    /// looks like JSON.
    pub headers: Vec<(String, String)>,
    /// The server's configured API hostname, another host spelling it accepts.
    pub api_hostname: Option<String>,
    /// The secret key (never shown).
    pub skey: String,
    /// The signature to explain; without it every candidate is listed and nothing compared.
    pub sent: Option<SentSignature>,
}

impl fmt::Debug for ExplainInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExplainInput")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("params", &self.params)
            .field("date", &self.date)
            .field("body_len", &self.body.len())
            .field("headers", &self.headers)
            .field("api_hostname", &self.api_hostname)
            .field("skey_len", &self.skey.len())
            .field("sent", &self.sent)
            .finish()
    }
}

/// Why a host spelling is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostRole {
    /// The host as given, which had no port.
    AsGiven,
    /// The host as given, including its port (what Duo's Go, Java and C# clients sign).
    WithPort,
    /// The host as given without its port (what Duo's Python client signs).
    WithoutPort,
    /// The server's configured API hostname.
    ApiHostname,
}

impl fmt::Display for HostRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AsGiven => "as given",
            Self::WithPort => "as given, with its port",
            Self::WithoutPort => "without the port",
            Self::ApiHostname => "the configured API hostname",
        })
    }
}

/// One host spelling the server tries, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpelling {
    /// The host line of the canonical string.
    pub host: String,
    /// Why it is tried (several when spellings coincide).
    pub roles: Vec<HostRole>,
}

impl HostSpelling {
    fn roles_text(&self) -> String {
        let roles: Vec<String> = self.roles.iter().map(ToString::to_string).collect();
        roles.join("; ")
    }
}

/// One scheme over one host spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Index into [`Explanation::hosts`].
    pub host: usize,
    /// The exact canonical string (LF-joined, no trailing LF).
    pub canonical: String,
    /// The signature, lower-case hex.
    pub signature: String,
    /// Whether it equals the sent signature (hex compared in either case).
    pub matches: bool,
}

/// One scheme over every host spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The scheme.
    pub scheme: Scheme,
    /// One entry per host spelling, in [`Explanation::hosts`] order.
    pub per_host: Vec<Signed>,
}

impl Candidate {
    /// The canonical string for the host spelling `host` (lower-cased), if it was tried.
    pub fn canonical(&self, host: &str) -> Option<&str> {
        let host = host.to_lowercase();
        self.per_host
            .iter()
            .find(|s| s.canonical.split('\n').nth(host_line(self.scheme)) == Some(host.as_str()))
            .map(|s| s.canonical.as_str())
    }
}

/// The signature the client sent, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The integration key, when an `Authorization` header was given.
    pub ikey: Option<String>,
    /// The signature, when one could be read.
    pub signature: Option<String>,
}

/// The outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No signature was given: the candidates are listed, nothing is compared.
    NotCompared,
    /// A candidate matches.
    Match {
        /// The scheme that matched (the first in the server's order, should several).
        scheme: Scheme,
        /// Index into [`Explanation::hosts`].
        host: usize,
        /// What else to know (the other spellings, a scheme the fake refuses by default, a date
        /// the server cannot read…).
        notes: Vec<String>,
    },
    /// Nothing matches; the most likely reason first.
    NoMatch {
        /// Reasons, most likely first.
        reasons: Vec<String>,
    },
}

/// Every candidate and the verdict; `Display` renders it for a terminal.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The host spellings tried, in the server's order.
    pub hosts: Vec<HostSpelling>,
    /// One per scheme, in [`SCHEMES`] order.
    pub candidates: Vec<Candidate>,
    /// The sent signature, when one was given.
    pub sent: Option<Sent>,
    /// The outcome.
    pub verdict: Verdict,
    /// Assumptions made and things the server would refuse before the signature.
    pub notes: Vec<String>,
    request: Resolved,
    skey_len: usize,
    date_unix: Option<i64>,
}

impl Explanation {
    /// The matching scheme and host spelling, if any.
    pub fn matched(&self) -> Option<(Scheme, &str)> {
        match &self.verdict {
            Verdict::Match { scheme, host, .. } => self.hosts.get(*host).map(|h| (*scheme, h.host.as_str())),
            _ => None,
        }
    }

    /// The candidate of `scheme`.
    pub fn candidate(&self, scheme: Scheme) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.scheme == scheme)
    }
}

/// The request as the server sees it.
#[derive(Debug, Clone)]
struct Resolved {
    method: String,
    path: String,
    query: Vec<Param>,
    /// The form body's pairs, when the body is a form (signed by v1/v2 only).
    form: Option<Vec<Param>>,
    date: String,
    body: Vec<u8>,
    duo_headers: Vec<(String, String)>,
}

impl Resolved {
    fn prepare(&self, scheme: Scheme) -> Prepared<'static> {
        let signs_form = matches!(scheme, Scheme::V1(_) | Scheme::V2(_));
        let all;
        let params: &[Param] = match (&self.form, signs_form) {
            (Some(form), true) => {
                all = [self.query.as_slice(), form.as_slice()].concat();
                &all
            }
            _ => &self.query,
        };
        let duo_headers: Vec<(&[u8], &[u8])> = self
            .duo_headers
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        Prepared::new(
            scheme,
            &SignedParts {
                date: &self.date,
                method: &self.method,
                host: "",
                path: &self.path,
                params,
                body: &self.body,
                duo_headers: &duo_headers,
            },
        )
        .into_owned()
    }

    /// The first of `schemes` (in order) whose signature over one of `hosts` is `sent`.
    fn first_match(
        &self,
        key: &SigningKey,
        hosts: &[String],
        schemes: &[Scheme],
        sent: &str,
    ) -> Option<Scheme> {
        schemes.iter().copied().find(|scheme| {
            let prepared = self.prepare(*scheme);
            hosts
                .iter()
                .any(|host| prepared.sign(key, host).eq_ignore_ascii_case(sent))
        })
    }
}

/// The schemes a server tries for a signature of `len` hex characters, in its order.
fn server_order(len: usize) -> &'static [Scheme] {
    match len {
        40 => &[Scheme::V2(Digest::Sha1), Scheme::V1(Digest::Sha1)],
        128 => &[
            Scheme::V5,
            Scheme::V2(Digest::Sha512),
            Scheme::V4,
            Scheme::V1(Digest::Sha512),
        ],
        _ => &[],
    }
}

/// Index of the host line in a scheme's canonical string.
fn host_line(scheme: Scheme) -> usize {
    if matches!(scheme, Scheme::V1(_)) { 1 } else { 2 }
}

/// The role of each canonical line.
fn line_labels(scheme: Scheme) -> &'static [&'static str] {
    match scheme {
        Scheme::V1(_) => &["method", "host", "path", "params"],
        Scheme::V2(_) => &["date", "method", "host", "path", "params"],
        Scheme::V4 => &["date", "method", "host", "path", "query params", "body sha512"],
        Scheme::V5 => &[
            "date",
            "method",
            "host",
            "path",
            "query params",
            "body sha512",
            "x-duo-* sha512",
        ],
    }
}

fn scheme_blurb(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::V1(Digest::Sha1) => "legacy, HMAC-SHA1, no date",
        Scheme::V1(Digest::Sha512) => "legacy, HMAC-SHA512, no date",
        Scheme::V2(Digest::Sha1) => "documented, HMAC-SHA1",
        Scheme::V2(Digest::Sha512) => "HMAC-SHA512: Go, Node, C#, Python sig_version=2",
        Scheme::V4 => "HMAC-SHA512, body hash",
        Scheme::V5 => "HMAC-SHA512, body and X-Duo-* hashes: Python 5.x, Java",
    }
}

/// `host:8443` → `host`; `[::1]:8443` → `[::1]`; a host without a port is returned as is.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').and_then(|end| host.get(..=end)).unwrap_or(host);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Form decoding of one key or value: `+` is a space, `%XX` a byte, a broken escape kept.
fn form_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn looks_form_encoded(s: &str) -> bool {
    s.contains('+') || form_decode(s) != s
}

fn to_params(pairs: &[(String, String)]) -> Vec<Param> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

fn looks_like_json(body: &[u8]) -> bool {
    matches!(body.trim_ascii_start().first(), Some(b'{' | b'['))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What the input says, resolved as the server would read it.
struct Reading {
    request: Resolved,
    hosts: Vec<HostSpelling>,
    given_host: String,
    content_type: Option<String>,
    /// A query found on the path, raw.
    path_query: String,
    notes: Vec<String>,
}

fn read_input(input: &ExplainInput) -> Reading {
    let mut notes = Vec::new();

    let mut host = input.host.trim();
    for prefix in ["https://", "http://"] {
        if let Some(rest) = host.strip_prefix(prefix) {
            notes.push(format!(
                "the host's {prefix:?} prefix is not part of the host line"
            ));
            host = rest;
        }
    }
    let host = host.trim_end_matches('/').to_lowercase();
    let mut hosts: Vec<HostSpelling> = Vec::with_capacity(3);
    let mut add = |host: String, role: HostRole| {
        if host.is_empty() {
            return;
        }
        match hosts.iter_mut().find(|h| h.host == host) {
            Some(existing) => existing.roles.push(role),
            None => hosts.push(HostSpelling {
                host,
                roles: vec![role],
            }),
        }
    };
    let bare = strip_port(&host).to_owned();
    if bare == host {
        add(host.clone(), HostRole::AsGiven);
    } else {
        add(bare, HostRole::WithoutPort);
        add(host.clone(), HostRole::WithPort);
    }
    if let Some(api) = &input.api_hostname {
        add(api.trim().to_lowercase(), HostRole::ApiHostname);
    }

    let (path, path_query) = match input.path.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (input.path.clone(), None),
    };
    let mut query = Vec::new();
    if let Some(raw) = &path_query {
        notes.push(format!(
            "the path's \"?{raw}\" is the query: the path line is {path:?}"
        ));
        query.extend(duo_auth::params::parse_urlencoded(raw.as_bytes()));
    }
    match &input.params {
        ParamsInput::Query(raw) => {
            let raw = raw.strip_prefix('?').unwrap_or(raw);
            query.extend(duo_auth::params::parse_urlencoded(raw.as_bytes()));
        }
        ParamsInput::Decoded(pairs) => query.extend(to_params(pairs)),
    }

    let content_type = header(&input.headers, "content-type").map(|v| v.trim().to_owned());
    let form = if input.body.is_empty() {
        false
    } else if let Some(ct) = &content_type {
        ct.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    } else {
        let form = !looks_like_json(&input.body);
        notes.push(format!(
            "no Content-Type given: the body is taken for {} (give the header to be exact)",
            if form {
                "a form (application/x-www-form-urlencoded)"
            } else {
                "JSON"
            }
        ));
        form
    };
    let form = form.then(|| duo_auth::params::parse_urlencoded(&input.body));

    let duo_headers: Vec<(String, String)> = input
        .headers
        .iter()
        .filter(|(n, _)| n.trim().to_ascii_lowercase().starts_with("x-duo-"))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let date = match header(&duo_headers, "x-duo-date") {
        Some(duo_date) => {
            let duo_date = duo_date.to_owned();
            if !input.date.is_empty() && input.date != duo_date {
                notes.push(format!(
                    "both Date ({:?}) and X-Duo-Date ({duo_date:?}) given: the server signs X-Duo-Date",
                    input.date
                ));
            }
            duo_date
        }
        None => input.date.clone(),
    };

    Reading {
        request: Resolved {
            method: input.method.trim().to_owned(),
            path,
            query,
            form,
            date,
            body: input.body.clone(),
            duo_headers,
        },
        hosts,
        given_host: host,
        content_type,
        path_query: path_query.unwrap_or_default(),
        notes,
    }
}

/// Explains a signature: every candidate, the match, or the most likely reason there is none.
pub fn explain(input: &ExplainInput) -> Explanation {
    let Reading {
        request,
        hosts,
        given_host,
        content_type,
        path_query,
        mut notes,
    } = read_input(input);
    let key = SigningKey::new(input.skey.as_bytes());

    let date_unix = duo_auth::date::parse_date(&request.date);
    let date_problem = date_unix.is_none().then(|| {
        format!(
            "the date {:?} does not parse: the server answers 401 40104 (Missing request timestamp) \
             before it looks at the signature",
            request.date
        )
    });
    if let Some(problem) = &date_problem {
        notes.push(problem.clone());
    }

    let (sent, sent_problem) = match &input.sent {
        None => (None, None),
        Some(SentSignature::Hex(hex)) => (
            Some(Sent {
                ikey: None,
                signature: Some(hex.trim().to_owned()),
            }),
            None,
        ),
        Some(SentSignature::Authorization(value)) => match duo_auth::parse_authorization(value.as_bytes()) {
            Ok(credentials) => (
                Some(Sent {
                    ikey: Some(credentials.ikey().to_owned()),
                    signature: Some(String::from_utf8_lossy(credentials.signature()).into_owned()),
                }),
                None,
            ),
            Err(error) => (
                Some(Sent {
                    ikey: None,
                    signature: None,
                }),
                Some(format!(
                    "{error}: the server answers 401 40101 before it looks at the signature"
                )),
            ),
        },
    };
    let sent_signature = sent.as_ref().and_then(|s| s.signature.as_deref());

    let host_names: Vec<String> = hosts.iter().map(|h| h.host.clone()).collect();
    let candidates: Vec<Candidate> = SCHEMES
        .iter()
        .map(|&scheme| {
            let prepared = request.prepare(scheme);
            let per_host = host_names
                .iter()
                .enumerate()
                .map(|(i, host)| {
                    let signature = prepared.sign(&key, host);
                    Signed {
                        host: i,
                        canonical: prepared.canonical_string(host),
                        matches: sent_signature.is_some_and(|s| s.eq_ignore_ascii_case(&signature)),
                        signature,
                    }
                })
                .collect();
            Candidate { scheme, per_host }
        })
        .collect();

    let verdict = match (sent_signature, sent_problem) {
        (_, Some(problem)) => Verdict::NoMatch {
            reasons: vec![problem],
        },
        (None, None) => Verdict::NotCompared,
        (Some(signature), None) => {
            let found = server_order(signature.len()).iter().find_map(|&scheme| {
                let candidate = candidates.iter().find(|c| c.scheme == scheme)?;
                candidate
                    .per_host
                    .iter()
                    .find(|s| s.matches)
                    .map(|s| (scheme, s.host))
            });
            match found {
                Some((scheme, host)) => Verdict::Match {
                    scheme,
                    host,
                    notes: match_notes(scheme, host, &hosts, &candidates, date_problem),
                },
                None => Verdict::NoMatch {
                    reasons: no_match_reasons(
                        &Context {
                            input,
                            request: &request,
                            key: &key,
                            hosts: &host_names,
                            given_host: &given_host,
                            content_type: content_type.as_deref(),
                            path_query: &path_query,
                        },
                        signature,
                        date_problem,
                    ),
                },
            }
        }
    };

    Explanation {
        hosts,
        candidates,
        sent,
        verdict,
        notes,
        request,
        skey_len: input.skey.chars().count(),
        date_unix,
    }
}

fn match_notes(
    scheme: Scheme,
    host: usize,
    hosts: &[HostSpelling],
    candidates: &[Candidate],
    date_problem: Option<String>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let others: Vec<String> = candidates
        .iter()
        .filter(|c| c.scheme == scheme)
        .flat_map(|c| &c.per_host)
        .filter(|s| s.host != host && !s.matches)
        .filter_map(|s| hosts.get(s.host))
        .map(|h| format!("{:?} ({})", h.host, h.roles_text()))
        .collect();
    if let Some(matched) = hosts.get(host)
        && !others.is_empty()
    {
        let who = if matched.roles.contains(&HostRole::WithPort) {
            ": the client signed the host with its port, as Duo's Go, Java and C# clients do \
                 when given host:port (Duo's Python client signs it without)"
        } else if matched.roles.contains(&HostRole::WithoutPort) {
            ": the client signed the host without its port, as Duo's Python client does"
        } else {
            ""
        };
        notes.push(format!(
            "only this host spelling matches, not {}{who}",
            others.join(" nor ")
        ));
    }
    if matches!(scheme, Scheme::V1(_) | Scheme::V4) {
        notes.push(format!(
            "duo-mock refuses {} with 401 40112 unless the scenario sets accept_v1/accept_v4 \
             (whether Duo still takes it is unconfirmed)",
            scheme.name()
        ));
    }
    if let Some(problem) = date_problem {
        notes.push(format!("but {problem}"));
    }
    notes
}

/// What the slips are tried against.
struct Context<'a> {
    input: &'a ExplainInput,
    request: &'a Resolved,
    key: &'a SigningKey,
    hosts: &'a [String],
    given_host: &'a str,
    content_type: Option<&'a str>,
    path_query: &'a str,
}

fn no_match_reasons(context: &Context<'_>, sent: &str, date_problem: Option<String>) -> Vec<String> {
    let &Context {
        input,
        request,
        key,
        hosts,
        given_host,
        content_type,
        path_query,
    } = context;
    let mut reasons = Vec::new();
    let hex = !sent.is_empty() && sent.bytes().all(|b| b.is_ascii_hexdigit());
    let schemes = server_order(sent.len());
    if !hex || schemes.is_empty() {
        reasons.push(format!(
            "the sent signature is not a Duo signature: {} characters{}, where an HMAC-SHA1 is 40 hex \
             characters and an HMAC-SHA512 128",
            sent.chars().count(),
            if hex { "" } else { ", not all hex" }
        ));
        reasons.extend(date_problem);
        return reasons;
    }

    let mut found: Vec<String> = Vec::new();
    let mut check =
        |reason: String, request: &Resolved, key: &SigningKey, hosts: &[String], schemes: &[Scheme]| {
            if let Some(scheme) = request.first_match(key, hosts, schemes, sent) {
                found.push(format!(
                    "{reason} (that reproduces the sent signature under {})",
                    scheme.name()
                ));
            }
        };
    let v1_v2: Vec<Scheme> = schemes
        .iter()
        .copied()
        .filter(|s| matches!(s, Scheme::V1(_) | Scheme::V2(_)))
        .collect();
    let has_v5 = schemes.contains(&Scheme::V5);

    // The skey: stray whitespace on either side.
    let skey = input.skey.as_str();
    if skey.trim() != skey {
        check(
            format!(
                "the client signed with the skey trimmed of its surrounding whitespace ({} characters, \
                 {} given here): the key given, or the one the server holds, carries stray whitespace",
                skey.trim().chars().count(),
                skey.chars().count()
            ),
            request,
            &SigningKey::new(skey.trim().as_bytes()),
            hosts,
            schemes,
        );
    } else {
        for (suffix, name) in [("\n", "a line break"), ("\r\n", "a CR LF"), (" ", "a space")] {
            check(
                format!(
                    "the client signed with its skey followed by {name}: it read the key from a file or \
                     variable without trimming it"
                ),
                request,
                &SigningKey::new(format!("{skey}{suffix}").as_bytes()),
                hosts,
                schemes,
            );
        }
    }

    // The date: Date signed while X-Duo-Date was sent too.
    if !input.date.is_empty() && input.date != request.date {
        let mut other = request.clone();
        other.date.clone_from(&input.date);
        check(
            "the client signed its Date header, but when X-Duo-Date is sent too the server signs \
             X-Duo-Date"
                .to_owned(),
            &other,
            key,
            hosts,
            schemes,
        );
    }

    // Parameters: a literal `+`, or decoded values that are still encoded.
    let raw_query = match &input.params {
        ParamsInput::Query(raw) => format!("{path_query}&{raw}"),
        ParamsInput::Decoded(_) => path_query.to_owned(),
    };
    if raw_query.contains('+') {
        let mut other = request.clone();
        other.query = duo_auth::params::parse_urlencoded(raw_query.replace('+', "%2B").as_bytes());
        if let ParamsInput::Decoded(pairs) = &input.params {
            other.query.extend(to_params(pairs));
        }
        check(
            "the client sent a literal `+` in the query and signed it as a plus: a server reads `+` in \
             a query as a space, so a plus must be sent as %2B"
                .to_owned(),
            &other,
            key,
            hosts,
            schemes,
        );
    }
    if request.form.is_some() && input.body.contains(&b'+') {
        let mut other = request.clone();
        let body = String::from_utf8_lossy(&input.body).replace('+', "%2B");
        other.form = Some(duo_auth::params::parse_urlencoded(body.as_bytes()));
        check(
            "the client sent a literal `+` in the form body and signed it as a plus: a server reads `+` \
             as a space, so a plus must be sent as %2B"
                .to_owned(),
            &other,
            key,
            hosts,
            &v1_v2,
        );
    }
    if let ParamsInput::Decoded(pairs) = &input.params
        && pairs
            .iter()
            .any(|(k, v)| looks_form_encoded(k) || looks_form_encoded(v))
    {
        let decoded: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (form_decode(k), form_decode(v)))
            .collect();
        let mut other = request.clone();
        other.query = duo_auth::params::parse_urlencoded(path_query.as_bytes());
        other.query.extend(to_params(&decoded));
        check(
            "the parameters given look form-encoded (`+` for a space, or %XX): the client signed them \
             decoded; give decoded values (First Last, not First+Last), or the raw query string"
                .to_owned(),
            &other,
            key,
            hosts,
            schemes,
        );
    }

    // The form body: signed without being declared, or declared and not signed.
    match (&request.form, content_type) {
        (None, Some(ct)) if !input.body.is_empty() && !looks_like_json(&input.body) => {
            let mut other = request.clone();
            other.form = Some(duo_auth::params::parse_urlencoded(&input.body));
            check(
                format!(
                    "the client signed the body's form parameters, but sent Content-Type {ct:?}: the \
                     server reads body parameters only under application/x-www-form-urlencoded"
                ),
                &other,
                key,
                hosts,
                &v1_v2,
            );
        }
        (Some(_), _) => {
            let mut other = request.clone();
            other.form = None;
            check(
                "the client signed only the query parameters, leaving out the form body's (v1 and v2 \
                 sign both)"
                    .to_owned(),
                &other,
                key,
                hosts,
                &v1_v2,
            );
        }
        _ => {}
    }

    // The X-Duo-* headers of v5.
    if has_v5 && !request.duo_headers.is_empty() {
        let mut other = request.clone();
        other.duo_headers.clear();
        check(
            "the client left its X-Duo-* headers out of the v5 header hash (line 7 hashes every \
             X-Duo-* header sent)"
                .to_owned(),
            &other,
            key,
            hosts,
            &[Scheme::V5],
        );
        let without_date: Vec<(String, String)> = request
            .duo_headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("x-duo-date"))
            .cloned()
            .collect();
        if !without_date.is_empty() && without_date.len() < request.duo_headers.len() {
            other.duo_headers = without_date;
            check(
                "the client left X-Duo-Date out of the v5 header hash (it is an X-Duo-* header, so it \
                 is hashed)"
                    .to_owned(),
                &other,
                key,
                hosts,
                &[Scheme::V5],
            );
        }
    }

    // The host: `:443` signed but not sent.
    if !given_host.is_empty() && strip_port(given_host) == given_host {
        let with_port = format!("{given_host}:443");
        check(
            format!(
                "the client signed the host as {with_port:?}, but a server on the default port sees and \
                 signs {given_host:?}"
            ),
            request,
            key,
            std::slice::from_ref(&with_port),
            schemes,
        );
    }

    // The path: decoded or encoded differently from what was sent.
    let decoded_path = form_decode(&request.path.replace('+', "%2B"));
    if decoded_path != request.path {
        let mut other = request.clone();
        other.path.clone_from(&decoded_path);
        check(
            format!(
                "the client signed the path decoded ({decoded_path:?}) but sent it percent-encoded: the \
                 path line is the path exactly as sent"
            ),
            &other,
            key,
            hosts,
            schemes,
        );
    }
    let encoded_path: String = request
        .path
        .split('/')
        .map(|segment| duo_auth::params::encode(segment.as_bytes()))
        .collect::<Vec<_>>()
        .join("/");
    if encoded_path != request.path && encoded_path != decoded_path {
        let mut other = request.clone();
        other.path.clone_from(&encoded_path);
        check(
            format!(
                "the client signed the path percent-encoded ({encoded_path:?}) but sent it as given: the \
                 path line is the path exactly as sent"
            ),
            &other,
            key,
            hosts,
            schemes,
        );
    }

    // The method: a redirect turns a POST into a GET, for example.
    for method in METHODS {
        if method.eq_ignore_ascii_case(&request.method) {
            continue;
        }
        let mut other = request.clone();
        other.method = method.to_owned();
        check(
            format!(
                "the client signed a {method} but sent a {} (an HTTP redirect turns a POST into a GET, \
                 for example)",
                request.method.to_uppercase()
            ),
            &other,
            key,
            hosts,
            schemes,
        );
    }

    let length = match sent.len() {
        40 => "the sent signature has the length of an HMAC-SHA1 (40 hex characters): only v1-sha1 and \
               v2-sha1 can produce it (v4 and v5 always use SHA-512, 128 characters)"
            .to_owned(),
        _ => "the sent signature has the length of an HMAC-SHA512 (128 hex characters): v5, v2-sha512, \
              v4 or v1-sha512 can produce it"
            .to_owned(),
    };
    if !found.is_empty() {
        reasons.extend(found);
        reasons.push(length);
        reasons.extend(date_problem);
        return reasons;
    }
    reasons.push(
        "no scheme, host spelling or usual slip reproduces the sent signature: most likely the client \
         signed with another skey, or the request given here differs from what it signed (compare its \
         canonical string with the ones above, line by line)"
            .to_owned(),
    );
    reasons.push(
        "slips tried: skey with whitespace or a line break, Date vs X-Duo-Date, a literal `+` or \
         still-encoded parameters, the form body signed or not, X-Duo-* headers left out of v5, the \
         host signed with :443, the path encoded or decoded, another method"
            .to_owned(),
    );
    let skey_len = skey.chars().count();
    if skey_len != SKEY_LEN {
        reasons.push(format!(
            "the skey given is {skey_len} characters long; Duo's secret keys are {SKEY_LEN}"
        ));
    }
    if input.host.chars().any(char::is_uppercase) {
        reasons.push(
            "the host line is lower-cased: a client that signs the host as typed (like the upper-case \
             example in Duo's docs) cannot match"
                .to_owned(),
        );
    }
    let spaces = request
        .query
        .iter()
        .chain(request.form.iter().flatten())
        .any(|(k, v)| k.contains(&b' ') || v.contains(&b' '));
    if spaces {
        reasons.push(
            "a client that writes a space as `+` in its canonical string (instead of %20) cannot match"
                .to_owned(),
        );
    }
    reasons.push(length);
    reasons.extend(date_problem);
    reasons
}

/// A canonical line made visible: control characters escaped, trailing spaces flagged.
fn visible(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    let trailing = line.len() - line.trim_end_matches(' ').len();
    if trailing > 0 {
        let _ = write!(out, "   <- ends with {trailing} space(s)");
    }
    out
}

fn show_pairs(pairs: &[Param]) -> String {
    if pairs.is_empty() {
        return "(none)".to_owned();
    }
    let shown: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={:?}",
                String::from_utf8_lossy(k).escape_debug(),
                String::from_utf8_lossy(v)
            )
        })
        .collect();
    shown.join(", ")
}

fn short(signature: &str) -> String {
    match signature.get(..16) {
        Some(head) if signature.len() > 20 => format!("{head}..."),
        _ => signature.to_owned(),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.request;
        writeln!(f, "Request, as the server reads it")?;
        writeln!(f, "  method      {}", r.method.to_uppercase())?;
        writeln!(f, "  path        {}", visible(&r.path))?;
        writeln!(f, "  query       {}", show_pairs(&r.query))?;
        if let Some(form) = &r.form {
            writeln!(f, "  form body   {}   (signed by v1/v2 only)", show_pairs(form))?;
        }
        match self.date_unix {
            Some(unix) => writeln!(
                f,
                "  date        {:?}   (reads as {})",
                r.date,
                duo_auth::date::format_date(unix)
            )?,
            None => writeln!(f, "  date        {:?}   (DOES NOT PARSE)", r.date)?,
        }
        writeln!(
            f,
            "  body        {} bytes, sha512 {}",
            r.body.len(),
            short(&duo_auth::body_hash_hex(&r.body))
        )?;
        if r.duo_headers.is_empty() {
            writeln!(f, "  x-duo-*     (none)")?;
        } else {
            for (i, (name, value)) in r.duo_headers.iter().enumerate() {
                let label = if i == 0 { "x-duo-*" } else { "" };
                writeln!(f, "  {label:<11} {name}: {}", visible(value))?;
            }
        }
        writeln!(f, "  skey        {} characters (not shown)", self.skey_len)?;
        if let Some(sent) = &self.sent {
            if let Some(ikey) = &sent.ikey {
                writeln!(f, "  ikey        {ikey}")?;
            }
            match &sent.signature {
                Some(signature) => {
                    let kind = match signature.len() {
                        40 => "HMAC-SHA1: v1-sha1 or v2-sha1",
                        128 => "HMAC-SHA512: v5, v2-sha512, v4 or v1-sha512",
                        _ => "neither SHA-1 (40) nor SHA-512 (128)",
                    };
                    writeln!(
                        f,
                        "  sent        {}   ({} characters, {kind})",
                        visible(signature),
                        signature.chars().count()
                    )?;
                }
                None => writeln!(f, "  sent        (unreadable Authorization header)")?,
            }
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }

        writeln!(f)?;
        writeln!(f, "Host spellings tried (lower-cased)")?;
        let width = self
            .hosts
            .iter()
            .map(|h| h.host.chars().count())
            .max()
            .unwrap_or(0);
        for (i, host) in self.hosts.iter().enumerate() {
            writeln!(f, "  [{}] {:<width$}   ({})", i + 1, host.host, host.roles_text())?;
        }

        for candidate in &self.candidates {
            let scheme = candidate.scheme;
            writeln!(f)?;
            writeln!(f, "== {} ({})", scheme.name(), scheme_blurb(scheme))?;
            let Some(first) = candidate.per_host.first() else {
                writeln!(f, "  (no host given)")?;
                continue;
            };
            writeln!(f, "  canonical string for host [1], one line a row:")?;
            let labels = line_labels(scheme);
            for (n, line) in first.canonical.split('\n').enumerate() {
                let label = labels.get(n).copied().unwrap_or("?");
                writeln!(f, "  {:>3}  {label:<15}| {}", n + 1, visible(line))?;
            }
            if candidate.per_host.len() > 1 {
                writeln!(
                    f,
                    "  (for the other hosts only line {} changes)",
                    host_line(scheme) + 1
                )?;
            }
            writeln!(f, "  signatures:")?;
            for signed in &candidate.per_host {
                let mark = if signed.matches {
                    "   <== MATCHES THE SENT SIGNATURE"
                } else {
                    ""
                };
                writeln!(f, "    [{}] {}{mark}", signed.host + 1, signed.signature)?;
            }
        }

        writeln!(f)?;
        writeln!(f, "Summary (* = matches the sent signature)")?;
        let mut row = format!("  {:<10}", "scheme");
        for i in 0..self.hosts.len() {
            let _ = write!(row, "  {:<21}", format!("host [{}]", i + 1));
        }
        writeln!(f, "{}", row.trim_end())?;
        for candidate in &self.candidates {
            let mut row = format!("  {:<10}", candidate.scheme.name());
            for signed in &candidate.per_host {
                let mark = if signed.matches { " *" } else { "" };
                let _ = write!(row, "  {:<21}", format!("{}{mark}", short(&signed.signature)));
            }
            writeln!(f, "{}", row.trim_end())?;
        }

        writeln!(f)?;
        match &self.verdict {
            Verdict::NotCompared => {
                writeln!(
                    f,
                    "Verdict: no signature given (--signature or --authorization), nothing compared"
                )?;
            }
            Verdict::Match { scheme, host, notes } => {
                let spelling = self.hosts.get(*host);
                writeln!(
                    f,
                    "Verdict: MATCH: {} over host [{}] {:?} ({})",
                    scheme.name(),
                    host + 1,
                    spelling.map_or("", |h| h.host.as_str()),
                    spelling.map(HostSpelling::roles_text).unwrap_or_default()
                )?;
                for note in notes {
                    writeln!(f, "  - {note}")?;
                }
            }
            Verdict::NoMatch { reasons } => {
                let mut reasons = reasons.iter();
                match reasons.next() {
                    Some(first) => writeln!(f, "Verdict: NO MATCH: {first}")?,
                    None => writeln!(f, "Verdict: NO MATCH")?,
                }
                for reason in reasons {
                    writeln!(f, "  - {reason}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_reads_plus_and_escapes_and_keeps_broken_ones() {
        assert_eq!(form_decode("First+Last%21"), "First Last!");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert!(looks_form_encoded("a+b") && looks_form_encoded("a%20b"));
        assert!(!looks_form_encoded("a b") && !looks_form_encoded("100%"));
    }

    #[test]
    fn ports_are_stripped_from_names_and_ipv6() {
        assert_eq!(strip_port("localhost:8443"), "localhost");
        assert_eq!(strip_port("localhost"), "localhost");
        assert_eq!(strip_port("[::1]:443"), "[::1]");
        assert_eq!(strip_port("host:"), "host:");
    }

    #[test]
    fn visible_escapes_controls_and_flags_trailing_spaces() {
        assert_eq!(visible("a\tb\r"), "a\\tb\\r");
        assert_eq!(visible("x "), "x    <- ends with 1 space(s)");
    }
}
