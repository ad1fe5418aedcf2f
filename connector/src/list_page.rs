//! A Duo list answer read in one pass: the body is validated as JSON (accepting and refusing
//! exactly what serde_json does) and, on the way, the envelope's fields, each item of `response`
//! (as a byte range of the body) with its id, and `metadata` are found.
//!
//! serde_json read every page twice (once to classify the answer, once to capture the items as raw
//! JSON) and a third scan found each id in each item; those passes were most of what a sync cost
//! beyond downloading the pages. This reader vouches only for the plain shape Duo sends. Anything
//! unusual (an escaped or repeated envelope key, an escape in a message, an offset written as
//! `1e3`, bytes that are not UTF-8, a body that is not JSON) makes it step aside with `None`; the
//! client then classifies the answer and paging reads the page with serde_json, as before, so every
//! answer is accepted or refused, and every error worded, exactly as it was.

use std::ops::Range;

/// A page Duo answered `stat: OK` with a `response` list, as found in its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// Each item of `response`, in order.
    pub(crate) items: Vec<PageItem>,
    /// `metadata.total_objects` (a number or a numeric string), if given and not null.
    pub(crate) total_objects: Option<u64>,
    /// `metadata.next_offset`, if given and not null.
    pub(crate) next_offset: Option<u64>,
}

/// One item of a page's `response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageItem {
    /// The item's bytes in the body, without the whitespace around it (what a `RawValue` holds).
    pub(crate) object: Range<usize>,
    /// The value (any JSON type) of the item's first top-level field whose key is written exactly
    /// as the id field's name; `None` if there is none or the item is not an object.
    pub(crate) id: Option<Range<usize>>,
}

/// The envelope keys whose values the classifier or the paging reads: each may come only once,
/// because serde_json refuses a repeated field of a struct.
const KNOWN_KEYS: [&[u8]; 6] = [
    b"stat",
    b"response",
    b"code",
    b"message",
    b"message_detail",
    b"metadata",
];

/// Reads `body` as a Duo list answer whose items are identified by `id_key` (`user_id`).
///
/// `Some` only for a body serde_json would accept, that the classifier would call Duo's success
/// and paging would read with the same items and metadata; `None` for anything else, which the
/// caller then reads the slow, exact way.
pub(crate) fn read_list_page(body: &[u8], id_key: &str) -> Option<ListPage> {
    // Every byte is UTF-8, so below only ASCII bytes need looking at; serde_json checks the same
    // for each raw item and each key it reads.
    std::str::from_utf8(body).ok()?;
    let mut reader = Reader {
        bytes: body,
        at: 0,
        open: Vec::new(),
    };
    let page = reader.envelope(id_key.as_bytes())?;
    reader.skip_whitespace();
    (reader.at == body.len()).then_some(page)
}

/// Whether `bytes` is one JSON value with nothing but whitespace around it, as
/// `serde_json::from_slice::<&RawValue>` decides it: the same grammar, no depth limit (serde_json
/// skips a raw value without recursing), and UTF-8 throughout.
#[cfg(test)]
pub(crate) fn is_json(bytes: &[u8]) -> bool {
    if std::str::from_utf8(bytes).is_err() {
        return false;
    }
    let mut reader = Reader {
        bytes,
        at: 0,
        open: Vec::new(),
    };
    if reader.skip_value().is_none() {
        return false;
    }
    reader.skip_whitespace();
    reader.at == bytes.len()
}

/// A position in a body known to be UTF-8.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The closing bracket of each container `skip_value` is inside, innermost last: a stack on
    /// the heap, so a body nested a million deep is refused or accepted without recursion (as
    /// serde_json skips values), and reused so skipping a nested field allocates nothing.
    open: Vec<u8>,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Skips whitespace and then `byte`, which must come next.
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The envelope: `{"stat": "OK", "response": [...], "metadata": {...}, ...}`.
    fn envelope(&mut self, id_key: &[u8]) -> Option<ListPage> {
        self.expect(b'{')?;
        let mut seen = [false; KNOWN_KEYS.len()];
        let mut stat_ok = false;
        let mut items = None;
        let mut metadata = (None, None);
        self.skip_whitespace();
        if self.peek()? == b'}' {
            return None; // no stat, no response
        }
        loop {
            let key = self.plain_key()?;
            if let Some(known) = KNOWN_KEYS.iter().position(|k| *k == key)
                && std::mem::replace(&mut seen[known], true)
            {
                return None;
            }
            self.skip_whitespace();
            match key {
                b"stat" => {
                    let value = self.skip_value()?;
                    stat_ok = self.bytes.get(value)? == b"\"OK\"";
                }
                b"response" => items = Some(self.items(id_key)?),
                b"message" | b"message_detail" => {
                    // serde_json reads these into a `String`, which refuses some escapes (a lone
                    // surrogate) that skipping accepts: only plain strings and null are vouched for.
                    let value = self.bytes.get(self.skip_value()?)?;
                    let plain_string = value.first() == Some(&b'"') && !value.contains(&b'\\');
                    if value != b"null" && !plain_string {
                        return None;
                    }
                }
                b"metadata" => metadata = self.metadata()?,
                _ => {
                    self.skip_value()?;
                }
            }
            if self.end_of_member(b'}')? {
                break;
            }
        }
        let (total_objects, next_offset) = metadata;
        match (stat_ok, items) {
            (true, Some(items)) => Some(ListPage {
                items,
                total_objects,
                next_offset,
            }),
            _ => None,
        }
    }

    /// After a member of an object or array: `true` at its closing `close`, `false` after a comma.
    fn end_of_member(&mut self, close: u8) -> Option<bool> {
        self.skip_whitespace();
        match self.peek()? {
            b',' => {
                self.at += 1;
                Some(false)
            }
            byte if byte == close => {
                self.at += 1;
                Some(true)
            }
            _ => None,
        }
    }

    /// A key without escapes and its colon: the key's bytes. An escaped key (`"st\u0061t"`) means
    /// what it decodes to, which this reader leaves to serde_json.
    fn plain_key(&mut self) -> Option<&'a [u8]> {
        let key = self.key()?;
        let bytes = self.bytes.get(key)?;
        (!bytes.contains(&b'\\')).then_some(bytes)
    }

    /// A key and its colon: the range of the key's bytes between the quotes, escapes undecoded.
    fn key(&mut self) -> Option<Range<usize>> {
        self.skip_whitespace();
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.at + 1;
        self.skip_string()?;
        let key = start..self.at - 1;
        self.expect(b':')?;
        Some(key)
    }

    /// `response`: an array, each item's range and id.
    fn items(&mut self, id_key: &[u8]) -> Option<Vec<PageItem>> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(items);
        }
        loop {
            self.skip_whitespace();
            let item = if self.peek()? == b'{' {
                self.item_object(id_key)?
            } else {
                PageItem {
                    object: self.skip_value()?,
                    id: None,
                }
            };
            items.push(item);
            if self.end_of_member(b']')? {
                return Some(items);
            }
        }
    }

    /// An object item: its top-level fields read one by one, to find the id field's value.
    fn item_object(&mut self, id_key: &[u8]) -> Option<PageItem> {
        let start = self.at;
        self.at += 1; // `{`
        let mut id = None;
        self.skip_whitespace();
        if self.peek()? != b'}' {
            loop {
                let key = self.key()?;
                let value = self.skip_value()?;
                if id.is_none() && self.bytes.get(key)? == id_key {
                    id = Some(value);
                }
                if self.end_of_member(b'}')? {
                    break;
                }
            }
        } else {
            self.at += 1;
        }
        Some(PageItem {
            object: start..self.at,
            id,
        })
    }

    /// `metadata`: null (absent) or an object whose `total_objects` and `next_offset` are null, a
    /// plain non-negative integer, or a string holding one.
    fn metadata(&mut self) -> Option<(Option<u64>, Option<u64>)> {
        let mut found = (None, None);
        if self.peek()? != b'{' {
            let value = self.skip_value()?;
            return (self.bytes.get(value)? == b"null").then_some(found);
        }
        self.at += 1;
        self.skip_whitespace();
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(found);
        }
        let mut seen = (false, false);
        loop {
            let key = self.plain_key()?;
            let slot = match key {
                b"total_objects" if !std::mem::replace(&mut seen.0, true) => Some(&mut found.0),
                b"next_offset" if !std::mem::replace(&mut seen.1, true) => Some(&mut found.1),
                b"total_objects" | b"next_offset" => return None, // repeated
                _ => None,
            };
            let value = self.skip_value()?;
            if let Some(slot) = slot {
                *slot = lenient_number(self.bytes.get(value)?)?;
            }
            if self.end_of_member(b'}')? {
                return Some(found);
            }
        }
    }

    /// Skips one value (whitespace first) and checks it on the way; its range, without whitespace.
    /// Iterative, with `open` as the stack, as serde_json's `ignore_value` is.
    fn skip_value(&mut self) -> Option<Range<usize>> {
        self.skip_whitespace();
        let start = self.at;
        let base = self.open.len();
        loop {
            // A value starts here.
            self.skip_whitespace();
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' => {
                    self.at += 1;
                    self.skip_whitespace();
                    if self.peek()? == b'}' {
                        self.at += 1;
                    } else {
                        self.open.push(b'}');
                        self.key()?;
                        continue;
                    }
                }
                b'[' => {
                    self.at += 1;
                    self.skip_whitespace();
                    if self.peek()? == b']' {
                        self.at += 1;
                    } else {
                        self.open.push(b']');
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                _ => return None,
            }
            // A value ended: close what it ended, until a comma opens the next value.
            loop {
                let Some(&close) = self.open.get(base..).and_then(<[u8]>::last) else {
                    return Some(start..self.at);
                };
                if self.end_of_member(close)? {
                    self.open.pop();
                } else {
                    if close == b'}' {
                        self.key()?;
                    }
                    break;
                }
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A number as JSON writes it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn skip_number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return None; // a leading zero
                }
            }
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.one_or_more_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.one_or_more_digits()?;
        }
        Some(())
    }

    fn one_or_more_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.skip_digits();
        (self.at > start).then_some(())
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    /// Skips the string whose opening quote is at `self.at`: no control character in it, and
    /// every escape one of JSON's (`\u` with any four hex digits: serde_json checks surrogates only
    /// in strings it decodes).
    fn skip_string(&mut self) -> Option<()> {
        self.at += 1;
        loop {
            self.at = next_special_in_string(self.bytes, self.at)?;
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => {
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            let hex = self.bytes.get(self.at + 1..self.at + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a control character
            }
        }
    }
}

/// The index of the first `"`, `\` or control character at or after `from`, 8 bytes at a time
/// (strings are most of a page's bytes); `None` if there is none.
fn next_special_in_string(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH_BITS: u64 = ONES << 7;
    let rest = bytes.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // Mycroft's test for a zero byte, applied to `word < 0x20`, `word ^ '"'` and
        // `word ^ '\\'`: the lowest flagged byte is exact (bytes above it may be flagged falsely).
        let control = word.wrapping_sub(ONES * 0x20) & !word;
        let quote = word ^ (ONES * u64::from(b'"'));
        let quote = quote.wrapping_sub(ONES) & !quote;
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let backslash = backslash.wrapping_sub(ONES) & !backslash;
        let found = (control | quote | backslash) & HIGH_BITS;
        if found != 0 {
            return Some(from + offset + (found.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| from + offset + i)
}

/// `total_objects` or `next_offset` as paging reads it: null, a plain non-negative integer (one
/// that surely fits a u64), or an escape-free string holding one (Duo's Go client accepts both).
/// `None` for anything else, which the serde_json path refuses or reads.
fn lenient_number(value: &[u8]) -> Option<Option<u64>> {
    match value.first()? {
        b'n' => Some(None),
        b'0'..=b'9' if value.len() <= 19 && value.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(value).ok()?.parse().ok().map(Some)
        }
        b'"' if !value.contains(&b'\\') => {
            let text = std::str::from_utf8(value.get(1..value.len() - 1)?).ok()?;
            text.trim().parse().ok().map(Some)
        }
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;
    use serde_json::value::RawValue;

    use super::*;

    fn serde_accepts(bytes: &[u8]) -> bool {
        serde_json::from_slice::<&RawValue>(bytes).is_ok()
    }

    #[track_caller]
    fn agrees(text: &[u8]) {
        assert_eq!(
            is_json(text),
            serde_accepts(text),
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }

    #[test]
    fn the_nasty_cases_are_decided_as_serde_json_decides_them() {
        let cases: &[&[u8]] = &[
            b"",
            b" ",
            b"null",
            b" true ",
            b"nul",
            b"nulll",
            b"truex",
            // numbers
            b"0",
            b"-0",
            b"01",
            b"-01",
            b"-",
            b"1.",
            b".5",
            b"1.5",
            b"1e",
            b"1e+",
            b"1E-7",
            b"1e07",
            b"+1",
            b"[1,]",
            b"[,1]",
            b"[1 2]",
            b"123456789012345678901234567890",
            b"-1.0e+400",
            // strings and escapes
            br#""""#,
            br#""a\"b""#,
            br#""\/\b\f\n\r\t\\""#,
            br#""\x""#,
            br#""\u00e9""#,
            br#""\u00E""#,
            br#""\u00g0""#,
            br#""\ud800""#,
            br#""\udc00\ud800""#,
            br#""\ud83d\ude00""#,
            b"\"tab\there\"",
            b"\"nl\nhere\"",
            b"\"del\x7fhere\"",
            b"\"\\",
            b"\"abc",
            "\"é ü 𝄞\"".as_bytes(),
            // invalid UTF-8, in and out of strings
            b"\"\xff\"",
            b"\"\xc3\"",
            b"\"\xed\xa0\x80\"",
            b"[1]\xff",
            b"\xef\xbb\xbf{}",
            // objects
            b"{}",
            b"{ }",
            br#"{"a":1}"#,
            br#"{"a":1,}"#,
            br#"{"a" 1}"#,
            br#"{a:1}"#,
            br#"{"a":1 "b":2}"#,
            br#"{"a":1}}"#,
            br#"{"a":[1,{"b":[]}],"c":{"d":null}}"#,
            br#"{"a":1,"a":2}"#,
            // trailing garbage
            b"{} {}",
            b"{}x",
            b"{} \n\t\r",
            b"{}\x0c",
            b"[]]",
        ];
        for case in cases {
            agrees(case);
        }
    }

    #[test]
    fn depth_is_unlimited_as_for_serde_json_raw_values() {
        let deep = |n: usize| [vec![b'['; n], vec![b']'; n]].concat();
        agrees(&deep(200));
        agrees(&deep(100_000));
        assert!(is_json(&deep(100_000)));
        let unclosed = [vec![b'['; 100_000], vec![b']'; 99_999]].concat();
        agrees(&unclosed);
        let objects = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
        agrees(objects.as_bytes());
    }

    #[test]
    fn the_string_search_finds_every_special_byte_at_every_position() {
        for len in 0..40 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x00, 0x1f] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    assert_eq!(next_special_in_string(&bytes, 0), Some(at));
                    // Bytes above it that look special to the word test do not move it.
                    if at + 1 < len {
                        bytes[at + 1] = 0x20;
                        assert_eq!(next_special_in_string(&bytes, 0), Some(at));
                    }
                }
                let high = vec![0xe9; len];
                assert_eq!(next_special_in_string(&high, at), None);
            }
        }
    }

    #[test]
    fn a_plain_page_is_read_with_its_items_ids_and_metadata() {
        let body = br#" {"stat":"OK","response":[{"user_id":"DU1","x":[1,{"user_id":"no"}]}, 7 ,{"x":1},{}],
            "metadata":{"total_objects":"4","next_offset":300,"prev_offset":null}} "#;
        let page = read_list_page(body, "user_id").unwrap();
        let texts: Vec<&[u8]> = page.items.iter().map(|i| &body[i.object.clone()]).collect();
        assert_eq!(
            texts,
            [
                &br#"{"user_id":"DU1","x":[1,{"user_id":"no"}]}"#[..],
                b"7",
                br#"{"x":1}"#,
                b"{}"
            ]
        );
        let ids: Vec<Option<&[u8]>> = page
            .items
            .iter()
            .map(|i| i.id.clone().map(|r| &body[r]))
            .collect();
        assert_eq!(ids, [Some(&br#""DU1""#[..]), None, None, None]);
        assert_eq!((page.total_objects, page.next_offset), (Some(4), Some(300)));
    }

    #[test]
    fn anything_unusual_is_left_to_serde_json() {
        let left = [
            r#"{"stat":"OK","response":[],"stat":"OK"}"#,
            r#"{"st\u0061t":"OK","response":[]}"#,
            r#"{"stat":"\u004fK","response":[]}"#,
            r#"{"stat":"FAIL","response":[]}"#,
            r#"{"stat":"OK","response":null}"#,
            r#"{"stat":"OK","response":{}}"#,
            r#"{"stat":"OK"}"#,
            r#"{"stat":"OK","response":[],"message":"a\nb"}"#,
            r#"{"stat":"OK","response":[],"message":7}"#,
            r#"{"stat":"OK","response":[],"metadata":[]}"#,
            r#"{"stat":"OK","response":[],"metadata":{"next_offset":1e3}}"#,
            r#"{"stat":"OK","response":[],"metadata":{"next_offset":-1}}"#,
            r#"{"stat":"OK","response":[],"metadata":{"next_offset":"x"}}"#,
            r#"{"stat":"OK","response":[],"metadata":{"next_offset":1,"next_offset":2}}"#,
            r#"{"stat":"OK","response":[],"metadata":{"next_offset":18446744073709551615}}"#,
            r#"{"stat":"OK","response":[]} x"#,
            "{\"stat\":\"OK\",\"response\":[],\"x\":\"\u{0}\"}",
        ];
        for body in left {
            assert_eq!(read_list_page(body.as_bytes(), "user_id"), None, "{body}");
        }
        let not_utf8 = b"{\"stat\":\"OK\",\"response\":[],\"x\":\"\xff\"}";
        assert_eq!(read_list_page(not_utf8, "user_id"), None);
    }

    /// JSON texts: values of every kind, strings with escapes and non-ASCII, whitespace between
    /// tokens.
    pub(crate) fn json_text() -> impl Strategy<Value = String> {
        let ws = prop_oneof![Just(""), Just(""), Just(" "), Just("\n\t "), Just("\r")];
        let string = prop_oneof![
            "[a-z_é ]{0,6}".prop_map(|s| format!("\"{s}\"")),
            r#"(\\["\\/bfnrt]|\\u[0-9a-fA-F]{4}|\\ud83d\\ude00|\\udc00|[a-z𝄞])*"#
                .prop_map(|s| format!("\"{s}\"")),
        ];
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?",
            string.clone(),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                (prop::collection::vec((ws.clone(), inner.clone(), ws.clone()), 0..5)).prop_map(|items| {
                    let items: Vec<String> =
                        items.into_iter().map(|(a, v, b)| format!("{a}{v}{b}")).collect();
                    format!("[{}]", items.join(","))
                }),
                (prop::collection::vec((string.clone(), ws.clone(), inner), 0..5)).prop_map(|fields| {
                    let fields: Vec<String> = fields
                        .into_iter()
                        .map(|(k, w, v)| format!("{k}{w}:{w}{v}"))
                        .collect();
                    format!("{{{}}}", fields.join(","))
                }),
            ]
        })
    }

    /// Bytes that matter to a JSON reader, for mutations.
    const INTERESTING: &[u8] = b"\"\\{}[],:0123-+.eEu nt\t\n\x00\x1f\x7f\xc3\xa9\xff";

    /// `text` with up to three bytes inserted, replaced or removed, or cut short.
    pub(crate) fn mutated(text: Vec<u8>, edits: Vec<(usize, usize, u8)>, cut: Option<usize>) -> Vec<u8> {
        let mut bytes = text;
        for (at, how, byte) in edits {
            let at = if bytes.is_empty() { 0 } else { at % bytes.len() };
            let byte = INTERESTING[usize::from(byte) % INTERESTING.len()];
            match how % 3 {
                0 => bytes.insert(at, byte),
                1 if !bytes.is_empty() => bytes[at] = byte,
                _ if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                _ => {}
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Any JSON text, as written, is accepted by both.
        #[test]
        fn valid_json_is_accepted_like_serde_json(text in json_text()) {
            prop_assert_eq!(is_json(text.as_bytes()), serde_accepts(text.as_bytes()), "{}", text);
        }

        /// JSON texts with a few bytes changed are accepted or refused as serde_json does.
        #[test]
        fn mutated_json_is_decided_like_serde_json(
            text in json_text(),
            edits in prop::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 1..4),
            cut in prop::option::of(any::<usize>()),
        ) {
            let bytes = mutated(text.into_bytes(), edits, cut);
            prop_assert_eq!(is_json(&bytes), serde_accepts(&bytes), "{:?}", String::from_utf8_lossy(&bytes));
        }

        /// Short strings over JSON's own alphabet: mostly invalid, decided alike.
        #[test]
        fn json_alphabet_soup_is_decided_like_serde_json(
            bytes in prop::collection::vec(prop::sample::select(INTERESTING.to_vec()), 0..12),
        ) {
            prop_assert_eq!(is_json(&bytes), serde_accepts(&bytes), "{:?}", String::from_utf8_lossy(&bytes));
        }
    }
}
