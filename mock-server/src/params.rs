//! Request parameters as the signature saw them: decoded query (and form body) pairs, in order.

use duo_auth::Param;

/// Decoded `key=value` pairs, raw bytes (`+` and `%20` both space), repeated keys kept. Held
/// in two buffers whatever the number of pairs: every request's parameters are parsed.
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// Every decoded key and value, back to back.
    bytes: Vec<u8>,
    /// Per pair, where its key ends and where its value ends in `bytes` (each key starts where
    /// the previous value ended).
    ends: Vec<(usize, usize)>,
}

impl Params {
    /// Decodes an `application/x-www-form-urlencoded` string (a query or a form body).
    pub fn parse(raw: &[u8]) -> Self {
        let mut params = Self {
            bytes: Vec::with_capacity(raw.len()),
            ends: Vec::new(),
        };
        params.push_from(raw);
        params
    }

    fn push_from(&mut self, raw: &[u8]) {
        for (key, value) in duo_auth::params::raw_pairs(raw) {
            duo_auth::params::decode_into(key, &mut self.bytes);
            let key_end = self.bytes.len();
            duo_auth::params::decode_into(value, &mut self.bytes);
            self.ends.push((key_end, self.bytes.len()));
        }
    }

    /// Appends the pairs of `other`.
    pub fn extend(&mut self, other: &Self) {
        for (key, value) in other.iter() {
            self.bytes.extend_from_slice(key);
            let key_end = self.bytes.len();
            self.bytes.extend_from_slice(value);
            self.ends.push((key_end, self.bytes.len()));
        }
    }

    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let mut start = 0;
        self.ends.iter().map(move |&(key_end, value_end)| {
            let key = self.bytes.get(start..key_end).unwrap_or_default();
            let value = self.bytes.get(key_end..value_end).unwrap_or_default();
            start = value_end;
            (key, value)
        })
    }

    /// The pairs as owned values (for canonicalizing a form).
    pub fn to_pairs(&self) -> Vec<Param> {
        self.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
    }

    /// The first value of `key`.
    pub fn first(&self, key: &str) -> Option<&[u8]> {
        self.iter().find(|(k, _)| *k == key.as_bytes()).map(|(_, v)| v)
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(k, _)| *k == key.as_bytes())
            .map(|(_, v)| v)
    }

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
    fn pairs_decode_in_order_and_extend() {
        let mut p = Params::parse(b"a=1&&b=x+y%21&a=2&c&=e&d=%zz");
        let pairs: Vec<(&[u8], &[u8])> = p.iter().collect();
        assert_eq!(
            pairs,
            [
                (&b"a"[..], &b"1"[..]),
                (b"b", b"x y!"),
                (b"a", b"2"),
                (b"c", b""),
                (b"", b"e"),
                (b"d", b"%zz")
            ]
        );
        assert_eq!(
            p.to_pairs(),
            duo_auth::params::parse_urlencoded(b"a=1&&b=x+y%21&a=2&c&=e&d=%zz")
        );
        assert_eq!((p.first("a"), p.first("z")), (Some(&b"1"[..]), None));
        assert_eq!(p.all("a").collect::<Vec<_>>(), [b"1", b"2"]);
        p.extend(&Params::parse(b"z=%26"));
        assert_eq!(p.first("z"), Some(&b"&"[..]));
        assert!(p.has("c") && !Params::parse(b"").has("c"));
    }

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
