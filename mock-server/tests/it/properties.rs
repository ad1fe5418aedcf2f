//! Property tests of the scenario parser: any mutation of a bundled scenario file (characters
//! deleted, inserted or replaced, lines swapped) either parses or fails with a located
//! `file:line:column` error, and never panics.

use mock_server::{Error, Scenario};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::support::scenario_path;

/// Files that between them use every table of the schema.
const FILES: [&str; 8] = [
    "default.toml",
    "unicode.toml",
    "catalogue/d07-networks-for-api-access.toml",
    "catalogue/d09-rate-limit-burst.toml",
    "catalogue/d11-proxy-needs-credentials.toml",
    "catalogue/d13-churn-during-paging.toml",
    "catalogue/d14-response-drift.toml",
    "catalogue/d15-slow-answer.toml",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Remove up to `len` characters from a position.
    Delete(Index, usize),
    /// Insert text at a position.
    Insert(Index, String),
    /// Replace the character at a position.
    Replace(Index, char),
    /// Swap two lines.
    SwapLines(Index, Index),
}

/// Text that means something to TOML or to the schema, and text that means nothing.
fn insertion() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "[",
            "]",
            "[[",
            "]]",
            "=",
            "\"",
            "'",
            "'''",
            "\"\"\"",
            "\n",
            "#",
            ".",
            ",",
            "{",
            "}",
            "\\",
            "\\u",
            "\0",
            "\r",
            "\t",
            " ",
            "é",
            "🦀",
            "\u{feff}",
            "-1",
            "0",
            "1e400",
            "nan",
            "inf",
            "99999999999999999999",
            "true",
            "1979-05-27T07:32:00Z",
            "[options.limits]\n",
            "[[faults]]\n",
            "[[integrations]]\n",
            "[generate]\nusers = 1\n",
            "[logs.authentication]\n",
            "[logs]\nv1_ties = \"cut\"\n",
            "per_day = -1\n",
            "hours = [1]\n",
            "seed = ",
            "connections = 0\n",
            "header_bytes = 1\n",
        ])
        .prop_map(str::to_owned),
        any::<char>().prop_map(String::from),
        "\\PC{0,12}",
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 1usize..8).prop_map(|(at, len)| Mutation::Delete(at, len)),
        3 => (any::<Index>(), insertion()).prop_map(|(at, text)| Mutation::Insert(at, text)),
        2 => (any::<Index>(), any::<char>()).prop_map(|(at, c)| Mutation::Replace(at, c)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    match mutation {
        Mutation::Delete(at, len) if !chars.is_empty() => {
            let start = at.index(chars.len());
            let end = (start + len).min(chars.len());
            chars.drain(start..end);
        }
        Mutation::Insert(at, inserted) => {
            let start = at.index(chars.len() + 1);
            chars.splice(start..start, inserted.chars());
        }
        Mutation::Replace(at, c) if !chars.is_empty() => {
            let i = at.index(chars.len());
            chars[i] = *c;
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
            return lines.join("\n");
        }
        _ => {}
    }
    chars.into_iter().collect()
}

/// Whether `error` is a scenario error at a real place of `text`, displayed as
/// `origin:line:column: message`.
fn located(error: &Error, text: &str, origin: &str) -> Result<(), String> {
    let Error::Scenario {
        origin: named,
        line,
        column,
        message,
    } = error
    else {
        return Err(format!("not a located scenario error: {error}"));
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(at) = line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return Err(format!("line {line} of a {}-line text: {error}", lines.len()));
    };
    if *column == 0 || *column > at.chars().count() + 1 {
        return Err(format!("column {column} of line {line} ({at:?}): {error}"));
    }
    if named != origin || message.is_empty() {
        return Err(format!("origin or message missing: {error}"));
    }
    if !error
        .to_string()
        .starts_with(&format!("{origin}:{line}:{column}: "))
    {
        return Err(format!("displayed without its place: {error}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1536))]

    #[test]
    fn a_mutated_scenario_parses_or_fails_at_a_place(
        file in prop::sample::select(FILES.to_vec()),
        mutations in prop::collection::vec(mutation(), 1..=4),
    ) {
        let path = scenario_path(file);
        let original = std::fs::read_to_string(&path).expect("bundled scenario");
        // Beside the original, so that the files it names (a logo) are found.
        let origin = path.display().to_string();
        prop_assert!(Scenario::parse(&original, &origin).is_ok(), "{} parses unmutated", file);
        let text = mutations.iter().fold(original, |text, m| apply(&text, m));
        let origin = path.with_file_name("mutant.toml").display().to_string();
        if let Err(error) = Scenario::parse(&text, &origin) {
            let verdict = located(&error, &text, &origin);
            prop_assert!(verdict.is_ok(), "{}\n--- text ---\n{}", verdict.unwrap_err(), text);
        }
    }

    /// Byte-level damage that leaves the file UTF-8 is the case above; damage that does not is
    /// refused by `Scenario::load` with an error naming the file.
    #[test]
    fn a_file_damaged_below_utf8_is_refused_naming_the_file(
        file in prop::sample::select(FILES.to_vec()),
        at in any::<Index>(),
        byte in 0x80u8..=0xff,
    ) {
        let mut bytes = std::fs::read(scenario_path(file)).expect("bundled scenario");
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("damaged.toml");
        std::fs::write(&path, &bytes).expect("write");
        match (std::str::from_utf8(&bytes), Scenario::load(&path)) {
            (Ok(text), Err(error)) => {
                let verdict = located(&error, text, &path.display().to_string());
                prop_assert!(verdict.is_ok(), "{}", verdict.unwrap_err());
            }
            (Ok(_), Ok(_)) => {}
            (Err(_), Ok(_)) => prop_assert!(false, "a file that is not UTF-8 was accepted"),
            (Err(_), Err(error)) => {
                prop_assert!(error.to_string().starts_with(&path.display().to_string()), "{}", error);
            }
        }
    }
}
