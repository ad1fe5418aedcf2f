//! Property tests of the scenario parser: any mutation of a bundled scenario file (characters
//! deleted, inserted or replaced, lines swapped) either parses or fails with a located
//! `file:line:column` error, and never panics. And of `account_id`: whatever a caller sends in
//! it, the answer is one account's own data or Duo's refusal, never another account's.

use mock_server::{Error, Scenario};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::support::scenario_path;

/// Files that between them use every table of the schema.
const FILES: [&str; 9] = [
    "default.toml",
    "msp.toml",
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
            "shared_phones = 2\n",
            "[options.max_limit]\nphones = 0\n",
            "user_webauthncredentials = -1\n",
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

/// Whether `error` holds scenario mistakes, each at a real place of `text` and displayed as
/// `origin:line:column: message`, in file order.
fn located(error: &Error, text: &str, origin: &str) -> Result<(), String> {
    let mistakes = error.mistakes();
    if mistakes.is_empty() {
        return Err(format!("not a located scenario error: {error}"));
    }
    for mistake in mistakes {
        located_one(mistake, text, origin)?;
    }
    let places: Vec<(usize, usize)> = mistakes
        .iter()
        .filter_map(|m| match m {
            Error::Scenario { line, column, .. } => Some((*line, *column)),
            _ => None,
        })
        .collect();
    if !places.is_sorted() {
        return Err(format!("mistakes out of file order: {error}"));
    }
    Ok(())
}

/// Whether `error` is one scenario mistake at a real place of `text`.
fn located_one(error: &Error, text: &str, origin: &str) -> Result<(), String> {
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

/// msp.toml served once for every case (on a runtime of its own), with each account's users as
/// the dump has them.
struct Msp {
    runtime: tokio::runtime::Runtime,
    server: crate::support::TestServer,
    /// The parent's users, then each child's (by account_id).
    parent_users: serde_json::Value,
    child_users: Vec<(String, serde_json::Value)>,
}

fn msp() -> &'static Msp {
    static MSP: std::sync::OnceLock<Msp> = std::sync::OnceLock::new();
    MSP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let scenario = crate::support::scenario("msp.toml");
        let server = runtime.block_on(crate::support::spawn(&scenario));
        let child_users = scenario
            .accounts
            .iter()
            .map(|a| {
                let dump = crate::support::dump(&scenario.child_scenario(a));
                (a.account_id.clone(), dump["users"].clone())
            })
            .collect();
        Msp {
            parent_users: crate::support::dump(&scenario)["users"].clone(),
            runtime,
            server,
            child_users,
        }
    })
}

/// `account_id` values: each child's, ids of no child, near misses, and any bytes at all.
fn account_id() -> impl Strategy<Value = Vec<u8>> {
    let children: Vec<Vec<u8>> = crate::support::scenario("msp.toml")
        .accounts
        .iter()
        .map(|a| a.account_id.clone().into_bytes())
        .collect();
    prop_oneof![
        prop::sample::select(children.clone()),
        "DA[A-Z0-9]{18}".prop_map(String::into_bytes),
        (prop::sample::select(children), any::<Index>(), any::<u8>()).prop_map(|(mut id, at, byte)| {
            let i = at.index(id.len());
            id[i] = byte;
            id
        }),
        prop::collection::vec(any::<u8>(), 0..48),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn any_account_id_reads_one_accounts_own_users_or_is_refused(
        id in account_id(),
        accounts_keys in any::<bool>(),
    ) {
        let msp = msp();
        let query = format!("account_id={}&limit=300", duo_auth::params::encode(&id));
        let signer = if accounts_keys { "msp-accounts" } else { "parent-admin" };
        let call = crate::support::Call::get("/admin/v1/users", &query).signed_by(signer);
        let answer = msp.runtime.block_on(msp.server.send(call));
        let child = msp.child_users.iter().find(|(child, _)| child.as_bytes() == id.as_slice());
        match (accounts_keys, child) {
            // Admin API keys read their own account, whatever account_id says.
            (false, _) => {
                prop_assert_eq!(answer.status, 200, "{}", answer.raw);
                prop_assert_eq!(&answer.json["response"], &msp.parent_users);
            }
            (true, Some((_, users))) => {
                prop_assert_eq!(answer.status, 200, "{}", answer.raw);
                prop_assert_eq!(&answer.json["response"], users);
            }
            (true, None) => {
                prop_assert!(
                    matches!(answer.status, 400 | 403),
                    "{} {}", answer.status, answer.raw
                );
                prop_assert_eq!(&answer.json["stat"], "FAIL");
                prop_assert!(!answer.raw.contains("user_id"), "{}", answer.raw);
            }
        }
    }
}
