//! What the dashboard reads of a journal entry, in one place: the entry's fields, and the
//! request's and answer's headers and bodies, with whether the signature held, where the journal
//! keeps them (`None` where it does not). A change of the journal's schema is a change here.

use crate::journal::JournalEntry;

/// One request and its answer, as the dashboard shows them.
#[derive(Debug, Clone)]
pub(super) struct RequestView {
    /// The journal's entry.
    pub(super) entry: JournalEntry,
    /// The request's headers (credentials left out or masked by the journal, and masked again
    /// here).
    pub(super) request_headers: Option<Vec<(String, String)>>,
    /// The first bytes of the request body, and its whole length.
    pub(super) request_body: Option<(String, u64)>,
    /// The ikey the request's `Authorization` carried.
    pub(super) ikey: Option<String>,
    /// The signature it carried, hex.
    pub(super) signature_hex: Option<String>,
    /// Whether the signature matched, when it was checked.
    pub(super) signature_valid: Option<bool>,
    /// The answer's headers.
    pub(super) response_headers: Option<Vec<(String, String)>>,
    /// The first bytes of the answer's body, and its whole length when known.
    pub(super) response_body: Option<(String, Option<u64>)>,
}

/// Headers the dashboard never shows a value of, whatever the journal kept: credentials.
const MASKED: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    crate::control::TOKEN_HEADER,
];

fn headers(map: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| {
            let masked = MASKED.iter().any(|m| name.eq_ignore_ascii_case(m));
            let value = if masked {
                "<redacted>".to_owned()
            } else {
                value.clone()
            };
            (name.clone(), value)
        })
        .collect()
}

impl From<JournalEntry> for RequestView {
    fn from(entry: JournalEntry) -> Self {
        Self {
            request_headers: Some(headers(&entry.request_headers)),
            request_body: entry
                .request_body
                .clone()
                .map(|body| (body, entry.request_body_bytes.unwrap_or_default())),
            ikey: entry.ikey.clone(),
            signature_hex: entry.signature_hex.clone(),
            signature_valid: entry.signature_valid,
            response_headers: Some(headers(&entry.response_headers)),
            response_body: (!entry.response_body.is_empty() || entry.response_body_bytes.is_some())
                .then(|| (entry.response_body.clone(), entry.response_body_bytes)),
            entry,
        }
    }
}

impl RequestView {
    /// The request header `name` (lower case), when headers are kept.
    pub(super) fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .as_ref()?
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked_whatever_the_journal_kept() {
        let mut entry = JournalEntry::default();
        for (name, value) in [("cookie", "a=b"), ("x-duo-mock-token", "t"), ("date", "now")] {
            entry.request_headers.insert(name.into(), value.into());
        }
        entry.request_body = Some("{\"a\"".into());
        entry.request_body_bytes = Some(300);
        let view = RequestView::from(entry);
        let headers = view.request_headers.unwrap();
        assert_eq!(
            headers,
            [
                ("cookie".to_owned(), "<redacted>".to_owned()),
                ("date".into(), "now".into()),
                ("x-duo-mock-token".into(), "<redacted>".into())
            ]
        );
        assert_eq!(view.request_body, Some(("{\"a\"".into(), 300)));
        assert_eq!(view.response_body, None);
    }
}
