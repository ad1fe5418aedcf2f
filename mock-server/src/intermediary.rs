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

    /// The HTTP status it answers with.
    pub fn status(self) -> u16 {
        match self {
            Self::Cloudflare403 | Self::Akamai403 => 403,
            Self::Proxy407 => 407,
            Self::Nginx502 => 502,
            Self::Nginx504 => 504,
            Self::BlockPage200 | Self::Empty200 => 200,
        }
    }

    /// Its `Server` header, if it sends one.
    pub fn server(self) -> Option<&'static str> {
        match self {
            Self::Cloudflare403 => Some("cloudflare"),
            Self::Akamai403 => Some("AkamaiGHost"),
            Self::Proxy407 => Some("squid"),
            Self::Nginx502 | Self::Nginx504 => Some("nginx"),
            Self::BlockPage200 | Self::Empty200 => None,
        }
    }

    /// The `<title>` of its page (`None`: no page).
    pub fn title(self) -> Option<&'static str> {
        match self {
            Self::Cloudflare403 => Some("Attention Required! | Cloudflare"),
            Self::Akamai403 => Some("Access Denied"),
            Self::Proxy407 => Some("407 Proxy Authentication Required"),
            Self::Nginx502 => Some("502 Bad Gateway"),
            Self::Nginx504 => Some("504 Gateway Time-out"),
            Self::BlockPage200 => Some("Web Page Blocked"),
            Self::Empty200 => None,
        }
    }

    /// The answer; `seq` makes per-request ids (ray ids, references) differ.
    pub fn answer(self, seq: u64) -> Canned {
        let text = match self {
            Self::Cloudflare403 => {
                "This request was blocked by the site's security rules (WAF). Ray ID shown in the CF-RAY header."
                    .to_owned()
            }
            Self::Akamai403 => format!(
                "You are not permitted to reach this resource. Reference #18.{seq:x}.1767225600.5b2c9e"
            ),
            Self::Proxy407 => {
                "The corporate proxy needs credentials before it forwards this request.".to_owned()
            }
            Self::Nginx502 => "The gateway received an invalid answer from the upstream server.".to_owned(),
            Self::Nginx504 => "The gateway did not get an answer from the upstream server in time.".to_owned(),
            Self::BlockPage200 => {
                "Access to this site is blocked by your organization's internet usage policy.".to_owned()
            }
            Self::Empty200 => String::new(),
        };
        let mut headers = Vec::new();
        if self.title().is_some() {
            headers.push(("Content-Type".to_owned(), "text/html; charset=UTF-8".to_owned()));
        }
        if let Some(server) = self.server() {
            headers.push(("Server".to_owned(), server.to_owned()));
        }
        match self {
            Self::Cloudflare403 => {
                headers.push((
                    "CF-RAY".to_owned(),
                    format!("{:016x}-IAD", 0x8f3a_0000_0000_0000_u64 ^ seq),
                ));
                headers.push((
                    "Cache-Control".to_owned(),
                    "private, max-age=0, no-store".to_owned(),
                ));
            }
            Self::Akamai403 => headers.push(("Mime-Version".to_owned(), "1.0".to_owned())),
            Self::Proxy407 => headers.push((
                "Proxy-Authenticate".to_owned(),
                "Basic realm=\"Corporate proxy\"".to_owned(),
            )),
            _ => {}
        }
        let body = self.title().map(|title| html(title, &text)).unwrap_or_default();
        let status = self.status();
        Canned {
            status,
            headers,
            body,
        }
    }
}
