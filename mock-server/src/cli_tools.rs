//! `duo-mock`'s commands that make scenarios from what was seen elsewhere: `scenario
//! from-bundle` (a connector's support bundle), and their flags. Exit codes as `cli.rs`: 0 done,
//! 1 the work failed, 2 bad usage or unreadable input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

/// `duo-mock scenario …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ScenarioCommand {
    /// Turn a connector's support bundle (duo-connector --support-bundle) into a scenario that
    /// fails the same connector the same way.
    FromBundle {
        /// The bundle (JSON, connector/SUPPORT-BUNDLE.md).
        file: PathBuf,
        /// Where to write the scenario.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a `scenario` subcommand.
pub(crate) fn scenario(command: ScenarioCommand) -> ExitCode {
    match command {
        ScenarioCommand::FromBundle { file, out } => match from_bundle(&file, &out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("duo-mock scenario from-bundle: {error:#}");
                ExitCode::from(2)
            }
        },
    }
}

fn from_bundle(file: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    let json = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let text = mock_server::bundle::scenario_from_bundle(&json, &file.display().to_string())?;
    std::fs::write(out, &text).with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {}: serve it with `duo-mock serve --scenario {}` and run the same connector against it",
        out.display(),
        out.display()
    );
    Ok(())
}
