//! Before any case runs: can the connector command run at all? `sh -c COMMAND` exits 127 when its
//! program is not found and 126 when it cannot be executed, and every case would then fail with
//! the same status. The program is found here the way `sh` finds it (a path with a `/` relative
//! to the current folder, else a builtin, a function or a file on `PATH`), so the kit says so once
//! and stops.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Shell words that start a compound command: the first program is not simply the first word.
const KEYWORDS: [&str; 12] = [
    "if", "then", "for", "while", "until", "case", "!", "{", "(", "function", "select", "time",
];

/// Checks that the program `command` starts can run: an [`Error::Connector`] saying why not.
/// A command whose program the shell only knows after expanding it (`$PYTHON x.py`, a loop…) is
/// left to run.
pub fn check_connector(command: &str) -> Result<()> {
    let Some(program) = program_word(command) else {
        return Ok(());
    };
    let problem = if program.contains('/') {
        file_problem(Path::new(&program), &program)
    } else if found_by_shell(&program) {
        None
    } else {
        Some(format!(
            "`{program}` was not found: it is no file, shell builtin or program on PATH (sh would \
             exit 127 in every case); give its path or install it"
        ))
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(Error::Connector {
            command: command.to_owned(),
            problem,
        }),
    }
}

/// Why the file at `path` cannot be run, if it cannot.
fn file_problem(path: &Path, program: &str) -> Option<String> {
    let here = std::env::current_dir()
        .map(|d| format!(" (relative to {})", d.display()))
        .unwrap_or_default();
    let relative = if path.is_absolute() { "" } else { here.as_str() };
    let Ok(metadata) = std::fs::metadata(path) else {
        return Some(format!(
            "`{program}` was not found: no such file{relative} (sh would exit 127 in every case)"
        ));
    };
    if metadata.is_dir() {
        return Some(format!(
            "`{program}` is a folder, not a program{relative} (sh would exit 126 in every case)"
        ));
    }
    use std::os::unix::fs::PermissionsExt as _;
    if metadata.permissions().mode() & 0o111 == 0 {
        return Some(format!(
            "`{program}` is not executable (sh would exit 126 in every case): `chmod +x {program}`, \
             or run it through its interpreter (`node {program}`, `python3 {program}`…)"
        ));
    }
    None
}

/// Whether `sh` knows `name` as a builtin, a function or a program on `PATH`.
fn found_by_shell(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", "command -v -- \"$1\" >/dev/null 2>&1", "sh", name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        // Without a shell to ask, the run itself will say what is wrong.
        .map_or(true, |status| status.success())
}

/// The program a shell command line starts, its quotes removed: the first word after variable
/// assignments (and `exec`). `None` when it cannot be known without running a shell (expansions,
/// compound commands, an empty line).
pub fn program_word(command: &str) -> Option<String> {
    let mut rest = command;
    loop {
        let (word, after) = next_word(rest)?;
        rest = after;
        if is_assignment(&word) || word.text == "exec" && !word.quoted {
            continue;
        }
        if word.expands || (!word.quoted && KEYWORDS.contains(&word.text.as_str())) {
            return None;
        }
        return Some(word.text);
    }
}

/// One shell word, unquoted.
struct Word {
    text: String,
    /// Some of it was quoted or escaped.
    quoted: bool,
    /// It holds an unquoted expansion or glob (`$`, a backquote, `*`, `?`, `[`, `~`), or a `$` or
    /// backquote in double quotes: its value is the shell's to compute.
    expands: bool,
    /// Where an unquoted `=` is, if one is.
    equals_at: Option<usize>,
}

fn is_assignment(word: &Word) -> bool {
    word.equals_at.is_some_and(|at| {
        let name = &word.text[..at];
        name.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The next word of `text` and what follows it; `None` at the end or at an operator.
fn next_word(text: &str) -> Option<(Word, &str)> {
    let text = text.trim_start_matches([' ', '\t']);
    let mut chars = text.char_indices().peekable();
    let mut word = Word {
        text: String::new(),
        quoted: false,
        expands: false,
        equals_at: None,
    };
    let mut end = text.len();
    while let Some((at, c)) = chars.next() {
        match c {
            ' ' | '\t' => {
                end = at;
                break;
            }
            ';' | '&' | '|' | '<' | '>' | '\n' | '(' | ')' if word.text.is_empty() && !word.quoted => {
                return None;
            }
            ';' | '&' | '|' | '<' | '>' | '\n' | ')' => {
                end = at;
                break;
            }
            '\'' => {
                word.quoted = true;
                for (_, q) in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.text.push(q);
                }
            }
            '"' => {
                word.quoted = true;
                while let Some((_, q)) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                if !matches!(escaped, '$' | '`' | '"' | '\\' | '\n') {
                                    word.text.push('\\');
                                }
                                word.text.push(escaped);
                            }
                        }
                        '$' | '`' => {
                            word.expands = true;
                            word.text.push(q);
                        }
                        _ => word.text.push(q),
                    }
                }
            }
            '\\' => {
                word.quoted = true;
                if let Some((_, escaped)) = chars.next() {
                    word.text.push(escaped);
                }
            }
            '$' | '`' | '*' | '?' | '[' | '~' => {
                word.expands = true;
                word.text.push(c);
            }
            '=' if word.equals_at.is_none() && !word.quoted => {
                word.equals_at = Some(word.text.len());
                word.text.push(c);
            }
            _ => word.text.push(c),
        }
    }
    if word.text.is_empty() && !word.quoted {
        return None;
    }
    Some((word, &text[end.min(text.len())..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_is_the_first_word_after_assignments_unquoted() {
        for (command, program) in [
            ("duo-connector sync", Some("duo-connector")),
            ("  node my-connector.js sync", Some("node")),
            ("'/opt/my tools/connector' sync", Some("/opt/my tools/connector")),
            (
                "\"/opt/my tools/connector\" sync",
                Some("/opt/my tools/connector"),
            ),
            ("/opt/my\\ tools/connector sync", Some("/opt/my tools/connector")),
            ("NODE_ENV=test DEBUG='a b' node x.js", Some("node")),
            ("exec ./connector", Some("./connector")),
            ("./connector;echo done", Some("./connector")),
            ("./connector>out.txt", Some("./connector")),
            ("A=1", None),
            ("$PYTHON adapter.py", None),
            ("\"$HOME/bin/connector\" sync", None),
            ("~/bin/connector", None),
            ("if true; then x; fi", None),
            ("(cd x && ./connector)", None),
            ("", None),
            ("   ", None),
        ] {
            assert_eq!(program_word(command).as_deref(), program, "{command:?}");
        }
    }

    #[test]
    fn a_missing_or_unrunnable_program_is_named_with_the_shells_status() {
        let error = check_connector("nonexistent-connector-cmd sync")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`nonexistent-connector-cmd` was not found") && error.contains("127"),
            "{error}"
        );
        let error = check_connector("/nonexistent/connector sync")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no such file") && error.contains("127"), "{error}");

        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("connector.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        let quoted = format!("'{}' sync", script.display());
        let error = check_connector(&quoted).unwrap_err().to_string();
        assert!(
            error.contains("is not executable") && error.contains("126"),
            "{error}"
        );
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        check_connector(&quoted).unwrap();
        let error = check_connector(&format!("'{}' sync", dir.path().display()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("is a folder"), "{error}");
    }

    #[test]
    fn builtins_programs_on_path_and_unknowable_commands_pass() {
        for command in [
            "sh -c 'exit 1'",
            "true",
            "exec env",
            "echo hi",
            "$UNSET_PROGRAM x",
        ] {
            check_connector(command).unwrap();
        }
    }
}
