//! Request parameters as the signature saw them: decoded query (and form body) pairs, in order.

use duo_auth::Param;

/// Decoded `key=value` pairs, raw bytes (`+` and `%20` both space), repeated keys kept.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<Param>);

impl Params {
    /// Decodes an `application/x-www-form-urlencoded` string (a query or a form body).
    pub fn parse(raw: &[u8]) -> Self {
        Self(duo_auth::params::parse_urlencoded(raw))
    }

    /// Adds the pairs of `other` after these.
    pub fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    /// Every pair, in received order.
    pub fn pairs(&self) -> &[Param] {
        &self.0
    }

    /// The first value of `key`.
    pub fn first(&self, key: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(k, _)| k.as_slice() == key.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k.as_slice() == key.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// Whether `key` is present.
    pub fn has(&self, key: &str) -> bool {
        self.first(key).is_some()
    }

    /// The values of a list parameter: each value is either a JSON array of strings (what
    /// Duo's Python client sends, `["a", "b"]`) or one item (repeated keys). `None` when a value
    /// is not UTF-8 or looks like JSON but isn't a list of strings.
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for raw in self.all(key) {
            let text = std::str::from_utf8(raw).ok()?;
            if text.trim_start().starts_with('[') {
                out.extend(serde_json::from_str::<Vec<String>>(text).ok()?);
            } else {
                out.push(text.to_owned());
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_params_accept_json_strings_and_repeated_keys() {
        let p = Params::parse(b"user_id_list=%5B%22a%22%2C%20%22b%20c%22%5D");
        assert_eq!(
            p.list("user_id_list"),
            Some(vec!["a".to_owned(), "b c".to_owned()])
        );
        let p = Params::parse(b"username_list=a&username_list=b+c");
        assert_eq!(
            p.list("username_list"),
            Some(vec!["a".to_owned(), "b c".to_owned()])
        );
        let p = Params::parse(b"username_list=%5B1%5D");
        assert_eq!(p.list("username_list"), None);
        assert_eq!(Params::parse(b"x=1").list("username_list"), Some(vec![]));
    }
}
