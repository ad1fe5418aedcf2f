//! What the dashboard reads of a journal entry, in one place: the entry's fields, and the
//! request's and answer's headers and bodies, with whether the signature held, where the journal
//! keeps them (`None` where it does not). A change of the journal's schema is a change here.

use crate::journal::JournalEntry;

/// One request and its answer, as the dashboard shows them.
#[derive(Debug, Clone)]
pub(super) struct RequestView {
    /// The journal's entry.
    pub(super) entry: JournalEntry,
    /// The request's headers (secrets already left out or masked by the journal).
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

impl From<JournalEntry> for RequestView {
    fn from(entry: JournalEntry) -> Self {
        Self {
            entry,
            request_headers: None,
            request_body: None,
            ikey: None,
            signature_hex: None,
            signature_valid: None,
            response_headers: None,
            response_body: None,
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
