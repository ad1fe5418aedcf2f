//! Scenario TOML written by the tools that make scenarios (`scenario from-bundle`, `probe`,
//! `record`): tables, keys and comments, every value quoted by the `toml` crate, and the text
//! parsed back as a scenario before anyone sees it.

use std::fmt::Write as _;

use crate::error::Result;
use crate::scenario::Scenario;

/// A scenario file being written, top to bottom.
#[derive(Debug, Default, Clone)]
pub struct ScenarioWriter {
    text: String,
}

/// A value as TOML writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum TomlValue {
    /// A string.
    Text(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An array.
    List(Vec<TomlValue>),
    /// An inline table, keys in the order given.
    Inline(Vec<(String, TomlValue)>),
}

impl TomlValue {
    fn to_toml(&self) -> toml::Value {
        match self {
            Self::Text(s) => toml::Value::String(s.clone()),
            Self::Int(i) => toml::Value::Integer(*i),
            Self::Float(f) => toml::Value::Float(*f),
            Self::Bool(b) => toml::Value::Boolean(*b),
            Self::List(items) => toml::Value::Array(items.iter().map(Self::to_toml).collect()),
            Self::Inline(pairs) => {
                toml::Value::Table(pairs.iter().map(|(k, v)| (k.clone(), v.to_toml())).collect())
            }
        }
    }
}

impl From<&str> for TomlValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}
impl From<String> for TomlValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}
impl From<bool> for TomlValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}
impl From<f64> for TomlValue {
    fn from(value: f64) -> Self {
        Self::Float(value)
    }
}
macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl From<$t> for TomlValue {
            fn from(value: $t) -> Self {
                Self::Int(i64::try_from(value).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_value!(i64, u64, u32, u16, usize);
impl<T: Into<TomlValue>> From<Vec<T>> for TomlValue {
    fn from(value: Vec<T>) -> Self {
        Self::List(value.into_iter().map(Into::into).collect())
    }
}

/// A bare key when TOML allows one, else quoted.
fn key_text(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        toml::Value::String(key.to_owned()).to_string()
    }
}

impl ScenarioWriter {
    /// An empty file.
    pub fn new() -> Self {
        Self::default()
    }

    /// `# text`, one comment line per line of `text`.
    pub fn comment(&mut self, text: &str) -> &mut Self {
        for line in text.lines() {
            if line.is_empty() {
                self.text.push_str("#\n");
            } else {
                let _ = writeln!(self.text, "# {line}");
            }
        }
        self
    }

    /// `key = value`.
    pub fn key(&mut self, key: &str, value: impl Into<TomlValue>) -> &mut Self {
        let _ = writeln!(self.text, "{} = {}", key_text(key), value.into().to_toml());
        self
    }

    /// `key = value` when there is a value.
    pub fn key_opt<V: Into<TomlValue>>(&mut self, key: &str, value: Option<V>) -> &mut Self {
        if let Some(value) = value {
            self.key(key, value);
        }
        self
    }

    /// A blank line and `[name]`.
    pub fn table(&mut self, name: &str) -> &mut Self {
        let _ = writeln!(self.text, "\n[{name}]");
        self
    }

    /// A blank line and `[[name]]`.
    pub fn array_table(&mut self, name: &str) -> &mut Self {
        let _ = writeln!(self.text, "\n[[{name}]]");
        self
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text, after checking it parses as a scenario (`origin` names it in errors; files
    /// beside it, such as `body_file`s, are looked for in `origin`'s folder).
    pub fn finish(self, origin: &str) -> Result<String> {
        Scenario::parse(&self.text, origin)?;
        Ok(self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_as_toml_and_the_text_is_a_scenario() {
        let mut w = ScenarioWriter::new();
        w.comment("made by a test\n\nsecond line")
            .key("description", "a \"quoted\" text\nover two lines")
            .table("tenant")
            .key("api_hostname", "api-00000000.duosecurity.com")
            .key("seed", 7_u64)
            .array_table("integrations")
            .key("name", "main")
            .key("ikey", "DIAAAAAAAAAAAAAAAAAA")
            .key("skey", "s".repeat(40))
            .key("grants", vec!["Grant read resource"])
            .array_table("faults")
            .key("status", 403_u16)
            .key(
                "headers",
                TomlValue::Inline(vec![("Content-Type".into(), "text/html".into())]),
            );
        let text = w.clone().finish("<test>").expect("a scenario");
        assert!(text.starts_with("# made by a test\n#\n# second line\n"), "{text}");
        let scenario = Scenario::parse(&text, "<test>").unwrap();
        assert_eq!(
            scenario.description.as_deref(),
            Some("a \"quoted\" text\nover two lines")
        );
        assert_eq!(scenario.faults[0].headers["Content-Type"], "text/html");
    }
}
