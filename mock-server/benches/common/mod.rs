//! What the bench binaries share: reading `--name value` flags (cargo bench passes its own flags
//! too, so unknown ones are ignored).

/// The command line's flags.
#[derive(Debug)]
pub(crate) struct Flags(Vec<String>);

impl Flags {
    /// This process's arguments.
    pub(crate) fn from_env() -> Self {
        Self(std::env::args().collect())
    }

    /// The value after `name`, or `default`.
    pub(crate) fn get(&self, name: &str, default: &str) -> String {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }
}
