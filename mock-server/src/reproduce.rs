//! What a client saw on the wire, request by request, and the `[[faults]]` rules that make the
//! fake answer the same way: shared by `scenario from-bundle` (which knows an answer's shape) and
//! `record` (which has the answer itself).
//!
//! Answers are grouped by path pattern; each run of like refusals becomes one rule firing on the
//! same calls (`calls = [first, last]` among that pattern's calls), so a 500 on the second page
//! that a retry got past is a 500 on the second call again, and a refusal that lasted to the end
//! lasts to the end (`calls = [first]`).

use crate::intermediary::Intermediary;
use crate::scenario_writer::{ScenarioWriter, TomlValue};

/// What one request got.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Nothing to reproduce with a rule: Duo's success, or a refusal the scenario reproduces
    /// another way (keys, grants, clock).
    Normal,
    /// Duo's error envelope.
    Duo {
        /// HTTP status.
        status: u16,
        /// Duo's code.
        code: u32,
        /// Duo's message.
        message: Option<String>,
        /// `Retry-After`, as sent.
        retry_after: Option<String>,
    },
    /// Duo's 40104: the request's date was missing when it arrived (something removed it).
    DateRemoved,
    /// An answer that is not Duo's, or a malformed one.
    Page(Page),
    /// The connection was cut: reset, closed before any answer, or closed in the body.
    Cut {
        /// Reset (RST) rather than closed.
        reset: bool,
        /// The head came, the body was cut.
        mid_body: bool,
    },
    /// No answer in time; the request took this long before the client gave up.
    Timeout {
        /// Milliseconds waited.
        waited_ms: u64,
    },
}

/// An answer that is not Duo's (or is malformed): what a rule must send back.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// HTTP status.
    pub status: u16,
    /// `Server`.
    pub server: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Retry-After`.
    pub retry_after: Option<String>,
    /// What the body was.
    pub shape: PageShape,
    /// The body itself, when it is known (a recording); else one is made from the shape.
    pub body: Option<String>,
}

/// The kind of body of a [`Page`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageShape {
    /// HTML, with its title.
    Html(Option<String>),
    /// Empty.
    Empty,
    /// Not JSON.
    NotJson,
    /// JSON but not Duo's envelope.
    OtherJson,
    /// `stat: OK` without `response`.
    StatOkWithoutResponse,
    /// A `stat` that is neither OK nor FAIL.
    OtherStat,
}

/// One request: its path as a rule's pattern (`*` for an id), and what it got.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// A fault rule's `path` pattern.
    pub path: String,
    /// What came back.
    pub seen: Seen,
    /// Where it came from, for the rule's comment (`request 3`).
    pub note: String,
}

impl Seen {
    /// The rule's action keys.
    fn action(&self) -> Option<Vec<(&'static str, TomlValue)>> {
        let mut keys: Vec<(&'static str, TomlValue)> = Vec::new();
        match self {
            Self::Normal => return None,
            Self::Duo {
                code,
                message,
                retry_after,
                ..
            } => {
                keys.push(("duo_error", (*code).into()));
                if let Some(message) = message {
                    keys.push(("message", message.as_str().into()));
                }
                if let Some(seconds) = retry_after.as_deref().and_then(|r| r.trim().parse::<u64>().ok()) {
                    keys.push(("retry_after_s", seconds.into()));
                }
            }
            Self::DateRemoved => keys.push(("rewrite_date", "remove".into())),
            Self::Page(page) => return Some(page.action()),
            Self::Cut { reset: true, .. } => keys.push(("network", "reset".into())),
            Self::Cut { mid_body: true, .. } => keys.push(("network", "close-mid-body".into())),
            Self::Cut { .. } => keys.push(("network", "close-before-answer".into())),
            Self::Timeout { waited_ms } => {
                // Twice what the client waited, and a second more: it gives up first again.
                keys.push(("delay_ms", (waited_ms.saturating_mul(2) + 1000).into()));
            }
        }
        Some(keys)
    }
}

impl Page {
    /// The built-in profile that sends exactly this status, `Server` and page title, if any.
    pub fn profile(&self) -> Option<Intermediary> {
        let title = match &self.shape {
            PageShape::Html(title) => title.as_deref(),
            PageShape::Empty => None,
            _ => return None,
        };
        Intermediary::ALL.into_iter().find(|p| {
            p.status() == self.status
                && p.server() == self.server.as_deref()
                && p.title() == title
                && self.body.is_none()
        })
    }

    fn action(&self) -> Vec<(&'static str, TomlValue)> {
        if let Some(profile) = self.profile() {
            return vec![("intermediary", profile.name().into())];
        }
        if self.status == 200 {
            let malformed = match self.shape {
                PageShape::NotJson => Some("invalid-json"),
                PageShape::StatOkWithoutResponse => Some("missing-response"),
                PageShape::OtherStat => Some("stat-not-ok"),
                _ => None,
            };
            if let (Some(malformed), None) = (malformed, &self.body) {
                return vec![("malformed", malformed.into())];
            }
        }
        let mut headers = Vec::new();
        for (name, value) in [
            ("Content-Type", &self.content_type),
            ("Server", &self.server),
            ("Retry-After", &self.retry_after),
        ] {
            if let Some(value) = value {
                headers.push((name.to_owned(), TomlValue::Text(value.clone())));
            }
        }
        let body = self.body.clone().unwrap_or_else(|| match &self.shape {
            PageShape::Html(title) => {
                let title = title.as_deref().unwrap_or("");
                format!(
                    "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n"
                )
            }
            PageShape::Empty => String::new(),
            PageShape::NotJson => "not JSON: reproduced from a support bundle".to_owned(),
            PageShape::OtherJson => "{\"error\":\"reproduced from a support bundle\"}".to_owned(),
            PageShape::StatOkWithoutResponse => "{\"stat\":\"OK\"}".to_owned(),
            PageShape::OtherStat => "{\"stat\":\"UNKNOWN\"}".to_owned(),
        });
        let mut keys = vec![("status", TomlValue::from(self.status))];
        if !headers.is_empty() {
            keys.push(("headers", TomlValue::Inline(headers)));
        }
        keys.push(("body", body.into()));
        keys
    }
}

/// Writes a `[[faults]]` rule for each run of like refusals in `exchanges`. `failed_at` is the
/// path pattern of the request the client finally failed on: a run that reaches its last call
/// there is left open-ended.
pub fn write_rules(writer: &mut ScenarioWriter, exchanges: &[Exchange], failed_at: Option<&str>) -> usize {
    let mut patterns: Vec<&str> = Vec::new();
    for e in exchanges {
        if !patterns.contains(&e.path.as_str()) {
            patterns.push(&e.path);
        }
    }
    let mut written = 0;
    for pattern in patterns {
        let calls: Vec<&Exchange> = exchanges.iter().filter(|e| e.path == pattern).collect();
        let mut i = 0;
        while i < calls.len() {
            let Some(action) = calls[i].seen.action() else {
                i += 1;
                continue;
            };
            let mut j = i;
            while j + 1 < calls.len() && calls[j + 1].seen.action().as_ref() == Some(&action) {
                j += 1;
            }
            let to_the_end = j + 1 == calls.len() && failed_at == Some(pattern);
            writer.array_table("faults");
            let notes: Vec<&str> = calls[i..=j].iter().map(|c| c.note.as_str()).collect();
            writer.comment(&format!("seen on {}", notes.join(", ")));
            writer.key(
                "name",
                format!(
                    "{pattern} as seen, calls {}{}",
                    i + 1,
                    if to_the_end { "+" } else { "" }
                ),
            );
            writer.key("path", pattern);
            writer.key("method", "GET");
            match (i, to_the_end) {
                (0, true) => {}
                // `[N]`: the Nth call and every later one, so a refusal that lasted keeps lasting.
                (_, true) => {
                    writer.key("calls", vec![i as u64 + 1]);
                }
                _ => {
                    writer.key("calls", vec![i as u64 + 1, j as u64 + 1]);
                }
            }
            for (key, value) in action {
                writer.key(key, value);
            }
            written += 1;
            i = j + 1;
        }
    }
    written
}

/// What metadata a list page carries when it holds the whole list (`options.metadata`): none
/// (`omit-on-single-page`), `next_offset: null` (`always-with-nulls`), or some (`always`).
pub fn metadata_mode_seen(page: &serde_json::Value) -> &'static str {
    match page.get("metadata") {
        None => "omit-on-single-page",
        Some(m) if m.get("next_offset").is_some_and(serde_json::Value::is_null) => "always-with-nulls",
        Some(_) => "always",
    }
}

/// A path with each id segment (`{user_id}`, or a Duo-shaped id) as `*`, for a rule's pattern.
pub fn path_pattern(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') || crate::model::is_duo_id(segment, segment.get(..2).unwrap_or("")) {
                "*"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duo(code: u32) -> Seen {
        Seen::Duo {
            status: (code / 100) as u16,
            code,
            message: None,
            retry_after: None,
        }
    }

    fn exchange(path: &str, seen: Seen) -> Exchange {
        Exchange {
            path: path.into(),
            seen,
            note: "request".into(),
        }
    }

    #[test]
    fn runs_of_refusals_become_rules_on_the_same_calls() {
        let exchanges = [
            exchange("/admin/v1/users", Seen::Normal),
            exchange("/admin/v1/users", duo(50000)),
            exchange("/admin/v1/users", Seen::Normal),
            exchange("/admin/v1/admins", duo(42901)),
            exchange("/admin/v1/admins", duo(42901)),
        ];
        let mut w = ScenarioWriter::new();
        assert_eq!(write_rules(&mut w, &exchanges, Some("/admin/v1/admins")), 2);
        let text = w.text();
        assert!(text.contains("calls = [2, 2]\nduo_error = 50000"), "{text}");
        let admins = text.split("[[faults]]").nth(2).unwrap();
        assert!(
            !admins.contains("\ncalls ="),
            "open-ended from the first call: {admins}"
        );
    }

    #[test]
    fn a_refusal_that_lasted_from_a_later_call_fires_from_that_call_on() {
        let exchanges = [
            exchange("/admin/v1/users", Seen::Normal),
            exchange("/admin/v1/users", duo(42901)),
            exchange("/admin/v1/users", duo(42901)),
        ];
        let mut w = ScenarioWriter::new();
        assert_eq!(write_rules(&mut w, &exchanges, Some("/admin/v1/users")), 1);
        let text = w.text();
        assert!(text.contains("calls = [2]\nduo_error = 42901"), "{text}");
    }

    #[test]
    fn a_page_with_a_profiles_status_server_and_title_is_that_profile() {
        let page = Page {
            status: 403,
            server: Some("cloudflare".into()),
            content_type: Some("text/html".into()),
            retry_after: None,
            shape: PageShape::Html(Some("Attention Required! | Cloudflare".into())),
            body: None,
        };
        assert_eq!(page.profile(), Some(Intermediary::Cloudflare403));
        let other = Page {
            server: Some("BigIP".into()),
            ..page
        };
        assert_eq!(other.profile(), None);
        let keys = other.action();
        assert!(keys.iter().any(|(k, _)| *k == "status"));
    }

    #[test]
    fn id_segments_become_wildcards() {
        assert_eq!(
            path_pattern("/admin/v2/groups/{group_id}/users"),
            "/admin/v2/groups/*/users"
        );
        assert_eq!(
            path_pattern("/admin/v1/users/DU0123456789ABCDEFGH"),
            "/admin/v1/users/*"
        );
        assert_eq!(path_pattern("/admin/v1/users"), "/admin/v1/users");
    }
}
