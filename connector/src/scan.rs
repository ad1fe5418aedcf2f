//! Reading one top-level string field out of a JSON object that serde_json already validated,
//! without parsing the rest: a sync only needs each object's id, and a second full parse of every
//! object cost more than downloading it.

use std::borrow::Cow;

/// The string value of the top-level field `key` of `object`, a JSON object that has already been
/// validated (a `RawValue`). `None` if the field is absent, not a string, or `object` is not an
/// object. Nested fields of the same name are never taken.
pub(crate) fn top_level_string<'a>(object: &'a str, key: &str) -> Option<Cow<'a, str>> {
    let bytes = object.as_bytes();
    let mut i = skip_whitespace(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_whitespace(bytes, i);
        if bytes.get(i) != Some(&b'"') {
            return None; // `}` of an empty object, or not what validation promised
        }
        let key_end = string_end(bytes, i)?;
        let this_key = object.get(i + 1..key_end - 1)?;
        i = skip_whitespace(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_whitespace(bytes, i + 1);
        let value_end = value_end(bytes, i)?;
        if this_key == key {
            return string_value(object.get(i..value_end)?);
        }
        i = skip_whitespace(bytes, value_end);
        match bytes.get(i) {
            Some(b',') => i += 1,
            _ => return None, // `}`: the field is not there
        }
    }
}

/// The text of `value`, a validated JSON value, if it is a string.
pub(crate) fn string_value(value: &str) -> Option<Cow<'_, str>> {
    match value.as_bytes().first() {
        Some(b'"') if !value.contains('\\') => value.get(1..value.len() - 1).map(Cow::Borrowed),
        // Escapes are rare in ids; let serde_json decode them exactly.
        Some(b'"') => serde_json::from_str::<String>(value).ok().map(Cow::Owned),
        _ => None,
    }
}

fn skip_whitespace(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Index just past the string that opens at `start` (a `"`). Strings are most of an object's
/// bytes, so the search for its end jumps with memchr instead of stepping byte by byte.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
        match bytes.get(i)? {
            b'"' => return Some(i + 1),
            _ => i += 2,
        }
    }
}

/// Index just past the value that starts at `start`.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match bytes.get(start)? {
        b'"' => string_end(bytes, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = start;
            while !matches!(
                bytes.get(i),
                None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            ) {
                i += 1;
            }
            Some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::*;

    #[test]
    fn finds_the_top_level_field_only() {
        let object = r#"{"groups":[{"user_id":"nested"}],"name":"a\"b","user_id":"DU123"}"#;
        assert_eq!(top_level_string(object, "user_id").as_deref(), Some("DU123"));
        assert_eq!(top_level_string(object, "name").as_deref(), Some("a\"b"));
        assert_eq!(
            top_level_string(r#"{"groups":[{"user_id":"nested"}]}"#, "user_id"),
            None
        );
        assert_eq!(top_level_string(r#"{"user_id":null}"#, "user_id"), None);
        assert_eq!(top_level_string(r#"{"user_id":7}"#, "user_id"), None);
        assert_eq!(top_level_string("{}", "user_id"), None);
        assert_eq!(top_level_string("[]", "user_id"), None);
        assert_eq!(
            top_level_string(" {\n \"user_id\" : \"DU\\u00e9\" } ", "user_id").as_deref(),
            Some("DUé")
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_\"\\\\é]{0,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        /// Whatever the object holds, the scan agrees with a full parse.
        #[test]
        fn agrees_with_serde_json(
            fields in prop::collection::btree_map("[a-z_\"\\\\é]{0,8}", json_value(), 0..8),
            id in prop::option::of(".*"),
            pretty in any::<bool>(),
        ) {
            let mut object: Map<String, Value> = fields.into_iter().collect();
            if let Some(id) = &id {
                object.insert("user_id".into(), Value::String(id.clone()));
            }
            let value = Value::Object(object);
            let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }.unwrap();
            let expected = value.get("user_id").and_then(Value::as_str).map(str::to_owned);
            prop_assert_eq!(top_level_string(&text, "user_id").map(Cow::into_owned), expected);
        }
    }
}
