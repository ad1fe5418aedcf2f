//! The kit's one error type: what stops the kit itself from running (a bad case or ledger file, a
//! scenario that does not load, a connector that cannot be started). A connector failing a case
//! is not an error: it is a case result.

use std::path::PathBuf;

/// Everything the kit can fail with, each variant saying what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A case or ledger file is malformed or inconsistent: `file:line:column: message`.
    #[error("{origin}:{line}:{column}: {message}")]
    File {
        /// The file's path as given.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A case's scenario does not load, or the fake could not start.
    #[error("case {case}: {source}")]
    Fake {
        /// The case id.
        case: String,
        /// What the fake said.
        #[source]
        source: mock_server::Error,
    },
    /// The connector command could not be started at all.
    #[error("cannot start the connector `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connector command cannot run: its program is missing or not executable.
    #[error("the connector `{command}` cannot run: {problem}")]
    Connector {
        /// The command line.
        command: String,
        /// What is wrong, and what to do.
        problem: String,
    },
    /// A selection or option that cannot work (`--partition 3/2`, no case matched…).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A byte offset of `text` as a 1-based line and character column, as scenarios locate theirs.
pub(crate) use mock_server::scenario_check::line_column;

/// An [`Error::File`] at byte `offset` of `text`.
pub(crate) fn file_error(origin: &str, text: &str, offset: usize, message: impl Into<String>) -> Error {
    let (line, column) = line_column(text, offset);
    Error::File {
        origin: origin.to_owned(),
        line,
        column,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_character_columns() {
        let text = "a = 1\nzoë = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        // "zoë" is 4 bytes: the `=` is the 5th character.
        assert_eq!(line_column(text, 11), (2, 5));
        assert_eq!(line_column(text, 999), (3, 1));
    }
}
