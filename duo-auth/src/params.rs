//! Parameters: decoding what arrived (`application/x-www-form-urlencoded`, `+` and `%20` both a
//! space) and Duo's canonical encoding (§1.3 of the API notes): every byte but `A-Z a-z 0-9 - . _ ~`
//! percent-encoded with upper-case hex, pairs sorted by encoded key then encoded value.

use crate::Param;

/// Decodes a query string or form body into pairs, in order. Empty segments are skipped; a
/// segment without `=` has an empty value; an invalid `%` escape is kept literally.
pub fn parse_urlencoded(raw: &[u8]) -> Vec<Param> {
    raw.split(|b| *b == b'&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| match segment.iter().position(|b| *b == b'=') {
            Some(eq) => {
                let (key, rest) = segment.split_at(eq);
                (decode(key), decode(rest.get(1..).unwrap_or_default()))
            }
            None => (decode(segment), Vec::new()),
        })
        .collect()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_value);
                let lo = raw.get(i + 2).copied().and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends Duo's canonical encoding of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
}

/// Duo's canonical encoding of `bytes`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    encode_into(bytes, &mut out);
    out
}

/// The canonical parameter line: `k=v` pairs, sorted by encoded key then encoded value, joined
/// with `&`; empty when there are no parameters.
pub fn canon_params(params: &[Param]) -> String {
    let mut pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_and_percent_20_both_decode_to_space_and_bad_escapes_stay() {
        assert_eq!(
            parse_urlencoded(b"a=x+y&b=x%20y&&c&d=100%&e=%zz%4"),
            vec![
                (b"a".to_vec(), b"x y".to_vec()),
                (b"b".to_vec(), b"x y".to_vec()),
                (b"c".to_vec(), b"".to_vec()),
                (b"d".to_vec(), b"100%".to_vec()),
                (b"e".to_vec(), b"%zz%4".to_vec()),
            ]
        );
        assert_eq!(
            parse_urlencoded(b"k=%e2%82%ac"),
            vec![(b"k".to_vec(), "€".as_bytes().to_vec())]
        );
    }

    #[test]
    fn encoding_keeps_only_unreserved_bytes() {
        assert_eq!(encode(b"a b+c*~/!'()"), "a%20b%2Bc%2A~%2F%21%27%28%29");
        assert_eq!(encode("é".as_bytes()), "%C3%A9");
    }
}
