//! What a customer's WAF, proxy or load balancer answers instead of Duo: built-in profiles with
//! the status, headers and kind of page each sends. The pages are written for this project; they
//! carry what a connector can observe (status, reason phrase, `Server` header, an HTML title).

use serde::Deserialize;

/// A built-in intermediary answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Intermediary {
    /// A Cloudflare-style WAF block: 403 HTML, `Server: cloudflare`, a `CF-RAY` id.
    Cloudflare403,
    /// An Akamai-style edge block: 403 HTML "Access Denied" with a reference number.
    Akamai403,
    /// A corporate proxy asking for credentials: 407 with `Proxy-Authenticate`.
    Proxy407,
    /// A load balancer whose upstream failed: 502 HTML, `Server: nginx`.
    Nginx502,
    /// A load balancer whose upstream timed out: 504 HTML, `Server: nginx`.
    Nginx504,
    /// A filtering proxy's block page sent with status 200.
    BlockPage200,
    /// 200 with an empty body.
    Empty200,
}

/// Status, headers and body of a canned answer.
#[derive(Debug, Clone)]
pub struct Canned {
    /// HTTP status.
    pub status: u16,
    /// Headers besides `Content-Length`.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

fn html(title: &str, text: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<p>{text}</p>\n</body>\n</html>\n"
    )
    .into_bytes()
}

impl TryFrom<String> for Intermediary {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Self::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
            format!(
                "unknown intermediary {name:?}; expected one of: {}",
                known.join(", ")
            )
        })
    }
}

impl Intermediary {
    /// Every profile, for docs and tests.
    pub const ALL: [Self; 7] = [
        Self::Cloudflare403,
        Self::Akamai403,
        Self::Proxy407,
        Self::Nginx502,
        Self::Nginx504,
        Self::BlockPage200,
        Self::Empty200,
    ];

    /// The profile's name as written in scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cloudflare403 => "cloudflare-403",
            Self::Akamai403 => "akamai-403",
            Self::Proxy407 => "proxy-407",
            Self::Nginx502 => "nginx-502",
            Self::Nginx504 => "nginx-504",
            Self::BlockPage200 => "block-page-200",
            Self::Empty200 => "empty-200",
        }
    }

    /// The answer; `seq` makes per-request ids (ray ids, references) differ.
    pub fn answer(self, seq: u64) -> Canned {
        let html_type = ("Content-Type".to_owned(), "text/html; charset=UTF-8".to_owned());
        let (status, headers, body) = match self {
            Self::Cloudflare403 => (
                403,
                vec![
                    html_type,
                    ("Server".to_owned(), "cloudflare".to_owned()),
                    (
                        "CF-RAY".to_owned(),
                        format!("{:016x}-IAD", 0x8f3a_0000_0000_0000_u64 ^ seq),
                    ),
                    (
                        "Cache-Control".to_owned(),
                        "private, max-age=0, no-store".to_owned(),
                    ),
                ],
                html(
                    "Attention Required! | Cloudflare",
                    "This request was blocked by the site's security rules (WAF). Ray ID shown in the CF-RAY header.",
                ),
            ),
            Self::Akamai403 => (
                403,
                vec![
                    html_type,
                    ("Server".to_owned(), "AkamaiGHost".to_owned()),
                    ("Mime-Version".to_owned(), "1.0".to_owned()),
                ],
                html(
                    "Access Denied",
                    &format!(
                        "You are not permitted to reach this resource. Reference #18.{seq:x}.1767225600.5b2c9e"
                    ),
                ),
            ),
            Self::Proxy407 => (
                407,
                vec![
                    html_type,
                    ("Server".to_owned(), "squid".to_owned()),
                    (
                        "Proxy-Authenticate".to_owned(),
                        "Basic realm=\"Corporate proxy\"".to_owned(),
                    ),
                ],
                html(
                    "407 Proxy Authentication Required",
                    "The corporate proxy needs credentials before it forwards this request.",
                ),
            ),
            Self::Nginx502 => (
                502,
                vec![html_type, ("Server".to_owned(), "nginx".to_owned())],
                html(
                    "502 Bad Gateway",
                    "The gateway received an invalid answer from the upstream server.",
                ),
            ),
            Self::Nginx504 => (
                504,
                vec![html_type, ("Server".to_owned(), "nginx".to_owned())],
                html(
                    "504 Gateway Time-out",
                    "The gateway did not get an answer from the upstream server in time.",
                ),
            ),
            Self::BlockPage200 => (
                200,
                vec![html_type],
                html(
                    "Web Page Blocked",
                    "Access to this site is blocked by your organization's internet usage policy.",
                ),
            ),
            Self::Empty200 => (200, vec![], Vec::new()),
        };
        Canned {
            status,
            headers,
            body,
        }
    }
}
