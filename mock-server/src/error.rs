//! The crate's one error type: what can go wrong loading a scenario or starting a server.
//!
//! Request-level failures are not here: they are Duo answers, rendered by [`crate::api_error`].

use std::path::PathBuf;

/// Everything the library can fail with, each variant saying what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file is malformed or inconsistent. Displayed as `file:line:column: message`,
    /// the form editors and CI logs turn into a link.
    #[error("{origin}:{line}:{column}: {message}")]
    Scenario {
        /// The file's path as given, or a name such as `<builder>` for scenarios built in code.
        origin: String,
        /// 1-based line of the offending value.
        line: usize,
        /// 1-based column (in characters) of the offending value.
        column: usize,
        /// What is wrong, in words.
        message: String,
    },
    /// Several mistakes in one scenario file, found in one run: each an [`Error::Scenario`], in
    /// file order, displayed one a line.
    #[error("{}", lines(.0))]
    ScenarioMistakes(Vec<Error>),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// TLS material could not be generated or loaded.
    #[error("TLS: {0}")]
    Tls(String),
    /// A support bundle cannot be read or reproduced (`scenario from-bundle`).
    #[error("support bundle: {0}")]
    Bundle(String),
    /// Another Duo Admin API server (probed or recorded) could not be reached or read.
    #[error("upstream: {0}")]
    Upstream(String),
    /// The server could not bind or serve.
    #[error("server: {0}")]
    Server(#[from] std::io::Error),
}

fn lines(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// One error for a scenario's mistakes: the mistake itself when there is one,
    /// [`Error::ScenarioMistakes`] when there are several.
    pub fn scenario_mistakes(mut errors: Vec<Error>) -> Self {
        if errors.len() == 1
            && let Some(error) = errors.pop()
        {
            return error;
        }
        Self::ScenarioMistakes(errors)
    }

    /// The located mistakes this error holds: itself for an [`Error::Scenario`], each of
    /// [`Error::ScenarioMistakes`], none otherwise.
    pub fn mistakes(&self) -> &[Error] {
        match self {
            Self::Scenario { .. } => std::slice::from_ref(self),
            Self::ScenarioMistakes(errors) => errors,
            _ => &[],
        }
    }

    /// An [`Error::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
