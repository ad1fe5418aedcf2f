//! Parameters: decoding what arrived (`application/x-www-form-urlencoded`, `+` and `%20` both a
//! space) and Duo's canonical encoding (§1.3 of the API notes): every byte but `A-Z a-z 0-9 - . _ ~`
//! percent-encoded with upper-case hex, pairs sorted by encoded key then encoded value.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::Param;

/// Decodes a query string or form body into pairs, in order. Empty segments are skipped; a
/// segment without `=` has an empty value; an invalid `%` escape is kept literally.
pub fn parse_urlencoded(raw: &[u8]) -> Vec<Param> {
    raw_pairs(raw)
        .map(|(key, value)| {
            let (mut k, mut v) = (Vec::with_capacity(key.len()), Vec::with_capacity(value.len()));
            decode_into(key, &mut k);
            decode_into(value, &mut v);
            (k, v)
        })
        .collect()
}

/// The `key=value` segments of a query string or form body, still encoded, as
/// [`parse_urlencoded`] splits them.
pub fn raw_pairs(raw: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    raw.split(|b| *b == b'&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            let mut halves = segment.splitn(2, |b| *b == b'=');
            let key = halves.next().unwrap_or_default();
            let value = halves.next().unwrap_or_default();
            (key, value)
        })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Appends the decoded form of one key or value to `out` (`+` is a space, `%XX` a byte, an
/// invalid escape kept literally).
pub fn decode_into(raw: &[u8], out: &mut Vec<u8>) {
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        match b {
            b'+' => out.push(b' '),
            b'%' => match tail {
                [hi, lo, after @ ..] => match (hex_value(*hi), hex_value(*lo)) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi << 4) | lo);
                        rest = after;
                    }
                    // Clients never send a broken escape; keeping it literally (as Python's
                    // `unquote` does) is the lenient reading that cannot collide with a real one.
                    _ => out.push(b'%'),
                },
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// The upper-case hex digit of the low nibble.
fn hex_digit(nibble: u8) -> u8 {
    match nibble & 0xF {
        n @ 0..=9 => b'0' + n,
        n => b'A' + n - 10,
    }
}

/// The encoded form of `bytes`, one byte at a time, so pairs can be compared in encoded order
/// without encoding them first.
fn encoded_bytes(bytes: &[u8]) -> impl Iterator<Item = u8> + '_ {
    bytes.iter().flat_map(|&b| {
        let (first, len) = if is_unreserved(b) { (b, 1) } else { (b'%', 3) };
        [first, hex_digit(b >> 4), hex_digit(b)].into_iter().take(len)
    })
}

/// Appends Duo's canonical encoding of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len());
    for &b in bytes {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(hex_digit(b >> 4)));
            out.push(char::from(hex_digit(b)));
        }
    }
}

/// Duo's canonical encoding of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    encode_into(bytes, &mut out);
    out
}

/// Duo's order: by encoded key, then by encoded value. Encoding does not preserve byte order
/// (`.` stays `.` but `/` becomes `%2F`), so the comparison runs over the encoded bytes.
fn canonical_order(a: &Param, b: &Param) -> Ordering {
    encoded_bytes(&a.0)
        .cmp(encoded_bytes(&b.0))
        .then_with(|| encoded_bytes(&a.1).cmp(encoded_bytes(&b.1)))
}

/// Appends the canonical parameter line to `out` (see [`canon_params`]).
pub fn canon_params_into(params: &[Param], out: &mut String) {
    let mut sorted: Vec<&Param> = params.iter().collect();
    sorted.sort_unstable_by(|a, b| canonical_order(a, b));
    for (i, (key, value)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(key, out);
        out.push('=');
        encode_into(value, out);
    }
}

/// The canonical parameter line: `k=v` pairs, sorted by encoded key then encoded value, joined
/// with `&`; empty when there are no parameters.
pub fn canon_params(params: &[Param]) -> String {
    let mut out = String::with_capacity(params.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    canon_params_into(params, &mut out);
    out
}

/// The canonical parameter line of a raw query string: the query itself, borrowed, when it is
/// already canonical (what Duo's clients send for paging: `limit=300&offset=0`), else decoded and
/// re-encoded as [`canon_params`] does. Either way equal to
/// `canon_params(&parse_urlencoded(raw))`.
pub fn canonical_query(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(text) if is_canonical(raw) => Cow::Borrowed(text),
        _ => Cow::Owned(canon_params(&parse_urlencoded(raw))),
    }
}

/// Whether `raw` is its own canonical line: `k=v` segments joined by single `&`, each with one
/// `=`, every other byte unreserved or an upper-case `%XX` of a byte that must be escaped, and
/// the pairs in Duo's order.
fn is_canonical(raw: &[u8]) -> bool {
    let mut previous: Option<(&[u8], &[u8])> = None;
    if raw.is_empty() {
        return true;
    }
    for segment in raw.split(|b| *b == b'&') {
        let Some(equals) = segment.iter().position(|b| *b == b'=') else {
            return false;
        };
        let (key, value) = segment.split_at(equals);
        let value = value.get(1..).unwrap_or_default();
        if !is_encoded(key) || !is_encoded(value) {
            return false;
        }
        // Encoded bytes compare as their encodings do, which is Duo's order.
        if previous.is_some_and(|previous| previous > (key, value)) {
            return false;
        }
        previous = Some((key, value));
    }
    true
}

/// Whether `text` is exactly Duo's encoding of the bytes it stands for.
fn is_encoded(text: &[u8]) -> bool {
    let mut rest = text;
    loop {
        match rest {
            [] => return true,
            [b, tail @ ..] if is_unreserved(*b) => rest = tail,
            [
                b'%',
                hi @ (b'0'..=b'9' | b'A'..=b'F'),
                lo @ (b'0'..=b'9' | b'A'..=b'F'),
                tail @ ..,
            ] if !is_unreserved((hex_value(*hi).unwrap_or(0) << 4) | hex_value(*lo).unwrap_or(0)) => {
                rest = tail;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: &str, v: &str) -> Param {
        (k.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    #[test]
    fn plus_and_percent_20_both_decode_to_space_and_bad_escapes_stay() {
        assert_eq!(
            parse_urlencoded(b"a=x+y&b=x%20y&&c&d=100%&e=%zz%4&f=a=b&=g&%3D=%3d"),
            vec![
                pair("a", "x y"),
                pair("b", "x y"),
                pair("c", ""),
                pair("d", "100%"),
                pair("e", "%zz%4"),
                pair("f", "a=b"),
                pair("", "g"),
                pair("=", "="),
            ]
        );
        assert_eq!(parse_urlencoded(b"k=%e2%82%ac"), vec![pair("k", "€")]);
        assert_eq!(
            parse_urlencoded(b"k=%ff%00"),
            vec![(b"k".to_vec(), vec![0xFF, 0x00])]
        );
        assert_eq!(parse_urlencoded(b""), Vec::<Param>::new());
        assert_eq!(parse_urlencoded(b"&&"), Vec::<Param>::new());
    }

    #[test]
    fn encoding_keeps_only_unreserved_bytes() {
        assert_eq!(encode(b"a b+c*~/!'()"), "a%20b%2Bc%2A~%2F%21%27%28%29");
        assert_eq!(encode("é".as_bytes()), "%C3%A9");
        assert_eq!(encode(&[0x00, 0x0F, 0xFF]), "%00%0F%FF");
        let mut out = String::from("x=");
        encode_into(b"1 2", &mut out);
        assert_eq!(out, "x=1%202");
    }

    #[test]
    fn order_is_that_of_the_encoded_text_not_the_raw_bytes() {
        // Raw '.' (0x2E) sorts before '/' (0x2F), encoded '%2F' before '.'.
        assert_eq!(canon_params(&[pair("k", "."), pair("k", "/")]), "k=%2F&k=.");
        // Raw 'a-b' sorts before 'a~', and stays so encoded; '!' encodes to '%21' < '-'.
        assert_eq!(
            canon_params(&[pair("a~", "1"), pair("a-b", "2"), pair("a!", "3")]),
            "a%21=3&a-b=2&a~=1"
        );
        assert_eq!(canon_params(&[]), "");
        assert_eq!(canon_params(&[pair("", "")]), "=");
    }
}
