//! Flags of `duo-conformance`. Exit codes: 0 every case passed (expected failures included), 1 a
//! case failed, 2 the kit itself could not run (bad flags, a bad case or ledger file, a connector
//! that cannot be started, an interrupted run).

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use conformance::case::{Case, Category, KIT_VERSION, bundled_root, load_catalogue};
use conformance::ledger::{CaseResult, Ledger};
use conformance::report::{ReportTarget, RunReport, Summary, count, id_width, terminal_line};
use conformance::runner::{RunEvent, RunOptions, run_cases};
use conformance::selection::{Partition, Selection};

/// The Duo connector conformance kit: runs a connector against the fake, case by case.
#[derive(Debug, Parser)]
#[command(name = "duo-conformance", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the cases (all of them unless told otherwise) and report each.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Print the selected cases (id, category, title, MUST statement) and run nothing.
    #[arg(long)]
    list: bool,
    /// Run this case; `*` and `?` match (repeatable).
    #[arg(long = "case", value_name = "ID_OR_GLOB")]
    cases: Vec<String>,
    /// Run the cases of this category (repeatable): sync, pagination, permissions,
    /// intermediaries, rate-limits, auth, server-errors, drift, logs.
    #[arg(long = "category", value_name = "CATEGORY", value_parser = parse_category)]
    categories: Vec<Category>,
    /// Leave out this case; `*` and `?` match (repeatable).
    #[arg(long, value_name = "ID_OR_GLOB")]
    exclude: Vec<String>,
    /// The connector under test, one shell command line following conformance/CONTRACT.md
    /// (default: the bundled `duo-connector sync`, next to this program).
    #[arg(long, value_name = "COMMAND")]
    connector: Option<String>,
    /// The log collector the logs cases run, one shell command line following
    /// conformance/CONTRACT-LOGS.md (default: --connector's command when given, else the bundled
    /// `duo-connector logs`).
    #[arg(long, value_name = "COMMAND")]
    collector: Option<String>,
    /// Write a report: junit=FILE, json=FILE, markdown=FILE or html=FILE (repeatable).
    #[arg(long = "report", value_name = "FORMAT=FILE")]
    reports: Vec<ReportTarget>,
    /// Cases run at once, each with its own fake on its own port (default: the CPU count).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Run the K-th of N shares of the selected cases, so CI can spread them over machines.
    #[arg(long, value_name = "K/N")]
    partition: Option<Partition>,
    /// The connector's expected-failure ledger (TOML): listed cases may fail, but must fail.
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Folder of case files (default: conformance/cases of the repository).
    #[arg(long, value_name = "DIR")]
    cases_dir: Option<PathBuf>,
    /// Repository root that scenario paths in cases are relative to (default: the current folder
    /// when it has scenarios/, else this kit's source tree).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Keep the output, stderr and request journal of every case that did not pass here.
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// Cut every case's deadline to at most this many seconds (quick runs; persistent-429
    /// and stall cases then fail on time).
    #[arg(long, value_name = "SECONDS")]
    max_deadline: Option<u64>,
}

fn parse_category(text: &str) -> Result<Category, String> {
    Category::from_name(text).ok_or_else(|| {
        format!(
            "unknown category {text:?} (categories: {})",
            Category::ALL.map(Category::as_str).join(", ")
        )
    })
}

pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let Command::Run(args) = cli.command;
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("duo-conformance: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn default_root() -> PathBuf {
    let here = PathBuf::from(".");
    if here.join("scenarios").is_dir() && here.join("conformance").is_dir() {
        here
    } else {
        bundled_root()
    }
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn bundled_connector(command: &str) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot locate duo-conformance itself")?;
    let connector = exe.with_file_name("duo-connector");
    if !connector.is_file() {
        bail!(
            "the bundled connector is not at {} — build it (`cargo build -p connector --bin duo-connector`, \
             with the same profile as duo-conformance) or name one with --connector",
            connector.display()
        );
    }
    Ok(format!("{} {command}", shell_quote(&connector.to_string_lossy())))
}

fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let root = args.root.clone().unwrap_or_else(default_root);
    let cases_dir = args
        .cases_dir
        .clone()
        .unwrap_or_else(|| root.join("conformance").join("cases"));
    let catalogue = load_catalogue(&cases_dir, &root)?;
    let selection = Selection {
        cases: args.cases.clone(),
        categories: args.categories.clone(),
        exclude: args.exclude.clone(),
        partition: args.partition,
    };
    let mut selected: Vec<Case> = selection.apply(&catalogue)?.into_iter().cloned().collect();
    if args.list {
        print_list(&selected);
        return Ok(ExitCode::SUCCESS);
    }
    // A connector is not a collector: a run that names only a connector and selects no case or
    // category leaves the logs cases out (they follow CONTRACT-LOGS.md).
    let chosen = !args.cases.is_empty() || !args.categories.is_empty();
    if !chosen && args.connector.is_some() && args.collector.is_none() {
        let before = selected.len();
        selected.retain(|c| c.logs.is_none());
        if selected.len() < before {
            println!(
                "{} left out: they run a log collector (--collector COMMAND, or --category logs)",
                count((before - selected.len()) as u64, "logs case", "logs cases")
            );
        }
    }
    let ledger = match &args.ledger {
        Some(path) => Ledger::load(path, &catalogue)?,
        None => Ledger::default(),
    };
    let logs_only = selected.iter().all(|c| c.logs.is_some());
    let any_logs = selected.iter().any(|c| c.logs.is_some());
    let collector = match (&args.collector, &args.connector) {
        (Some(command), _) if command.trim().is_empty() => bail!("--collector is empty"),
        (Some(command), _) => Some(command.clone()),
        (None, Some(_)) => None,
        (None, None) if any_logs => Some(bundled_connector("logs")?),
        (None, None) => None,
    };
    let connector = match &args.connector {
        Some(command) if !command.trim().is_empty() => command.clone(),
        Some(_) => bail!("--connector is empty"),
        // Only logs cases: the collector is the command under test.
        None if logs_only && collector.is_some() => collector.clone().unwrap_or_default(),
        None => bundled_connector("sync")?,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .max(1);
    // Before the header: a program that is missing or not executable is said once, not per case.
    conformance::preflight::check_connector(&connector)?;
    let options = RunOptions {
        connector: connector.clone(),
        collector: collector.clone(),
        jobs,
        max_deadline: args.max_deadline.map(Duration::from_secs),
        artifacts: args.artifacts.clone(),
    };
    println!(
        "duo-conformance {KIT_VERSION}: {} against `{connector}` ({jobs} at a time)",
        count(selected.len() as u64, "case", "cases")
    );
    let width = id_width(selected.iter().map(|c| c.id.len()));
    let mut progress = Progress::new(selected.len());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(jobs + 2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let runs = runtime.block_on(run_cases(&selected, &options, |event| match event {
        RunEvent::Started(id) => progress.started(id),
        RunEvent::Finished(run) => {
            progress.finished(&run.id);
            if let Some(case) = selected.iter().find(|c| c.id == run.id) {
                progress.print(&terminal_line(&ledger.judge(case, &run), width));
            }
        }
    }))?;
    progress.clear();
    let results: Vec<CaseResult> = selected
        .iter()
        .zip(&runs)
        .map(|(case, run)| ledger.judge(case, run))
        .collect();
    let report = RunReport {
        kit_version: KIT_VERSION,
        connector: &connector,
        results: &results,
    };
    let summary = Summary::of(&results);
    println!("{}", summary.line());
    if summary.failed > 0 {
        match &args.artifacts {
            None => println!(
                "To keep each failed case's output.json, stdout.txt, stderr.txt and request journal, run again with --artifacts DIR"
            ),
            Some(dir) => println!(
                "Each failed case's output, stdout, stderr and request journal are in {}/<case id>/",
                dir.display()
            ),
        }
    }
    for target in &args.reports {
        write_report(&target.path, &report.render(target.format))?;
    }
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_report(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write the report {}", path.display()))
}

fn print_list(cases: &[Case]) {
    let width = id_width(cases.iter().map(|c| c.id.len()));
    for category in Category::ALL {
        let in_category: Vec<&Case> = cases.iter().filter(|c| c.category == category).collect();
        if in_category.is_empty() {
            continue;
        }
        println!("{category}");
        for case in in_category {
            let rows = if case.rows.is_empty() {
                String::new()
            } else {
                format!(" [{}]", case.rows.join(", "))
            };
            println!(
                "  {:<width$}  {}{rows} (since {})",
                case.id, case.title, case.since
            );
            println!("  {:<width$}  {}", "", case.must);
        }
    }
    println!("{}", count(cases.len() as u64, "case", "cases"));
}

/// A one-line progress display on a terminal's stderr; silent otherwise.
struct Progress {
    total: usize,
    done: usize,
    running: Vec<String>,
    live: bool,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self {
            total,
            done: 0,
            running: Vec::new(),
            live: std::io::stderr().is_terminal(),
        }
    }

    fn started(&mut self, id: String) {
        self.running.push(id);
        self.draw();
    }

    fn finished(&mut self, id: &str) {
        self.running.retain(|r| r != id);
        self.done += 1;
    }

    /// Prints a result line above the progress line.
    fn print(&mut self, line: &str) {
        self.clear();
        println!("{line}");
        let _ = std::io::stdout().flush();
        self.draw();
    }

    fn draw(&self) {
        if self.live && self.done < self.total {
            let mut line = format!(
                "[{}/{}] running {}",
                self.done,
                self.total,
                self.running.join(", ")
            );
            if line.chars().count() > 100 {
                line = line.chars().take(99).collect::<String>() + "…";
            }
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
        }
    }

    fn clear(&self) {
        if self.live {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}
