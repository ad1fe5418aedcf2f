//! Flags, output and exit codes of `duo-connector`; the work is in the library.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use duo_connector::client::{Client, ClientEvent, Observer};
use duo_connector::config::{self, Config, SecretKey, Transport};
use duo_connector::contract::{
    EXIT_FAILED, EXIT_OK, EXIT_USAGE, error_document, write_whole, write_whole_with,
};
use duo_connector::retry::RetryPolicy;
use duo_connector::support_bundle::{self, BundleContext, BundleRecorder, Outcome};
use duo_connector::sync::{SyncEvent, SyncObserver, SyncOptions};
use duo_connector::{Error, Snapshot, check, diff, evidence, logs, review, sqlite, watch};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Syncs Duo users, administrators and groups for access reviews.
#[derive(Debug, Parser)]
#[command(name = "duo-connector", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Request-level logs on stderr (-vv for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks the connection, the keys and the permission grants, one line per check.
    Check(CheckArgs),
    /// Reads every user, administrator, group and group member into a snapshot.
    Sync(SyncArgs),
    /// What changed in access between two snapshots.
    Diff {
        /// The earlier snapshot.
        old: PathBuf,
        /// The later snapshot.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// An access-review summary of a snapshot.
    Review {
        /// The snapshot.
        snapshot: PathBuf,
        /// Users whose last login is older than this many days are listed as inactive.
        #[arg(long, default_value_t = 90)]
        inactive_days: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReviewFormat::Table)]
        format: ReviewFormat,
    },
    /// Syncs on a schedule into SQLite, with an event for each access change; stops on SIGTERM.
    Watch(WatchArgs),
    /// Writes an access-review evidence pack from the runs recorded in SQLite.
    Evidence(EvidenceArgs),
    /// Appends Duo's settled log events to a JSON Lines file, each once, from a checkpoint per log
    /// type (conformance/CONTRACT-LOGS.md).
    Logs(LogsArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReviewFormat {
    Table,
    Markdown,
    Csv,
    Json,
}

#[derive(Debug, Args)]
struct Connection {
    /// API hostname, `host` or `host:port`, no scheme.
    #[arg(long, env = config::ENV_API_HOST)]
    api_host: Option<String>,
    /// Integration key of the Admin API application.
    #[arg(long, env = config::ENV_IKEY)]
    ikey: Option<String>,
    /// Secret key (prefer the environment variable: flags show in the process list).
    #[arg(long, env = config::ENV_SKEY, hide_env_values = true)]
    skey: Option<String>,
    /// PEM file of CA certificates to trust besides the system's.
    #[arg(long, env = config::ENV_CA_CERT)]
    ca_cert: Option<PathBuf>,
    /// HTTP proxy for HTTPS requests (`http://user:pass@host:port`); HTTPS_PROXY is read too.
    #[arg(long)]
    proxy: Option<String>,
    /// Plain HTTP instead of HTTPS: for a local fake only.
    #[arg(long)]
    plain_http: bool,
    /// Signature scheme: v5 (default), v2 (HMAC-SHA1, as Duo documents it) or v2-sha512.
    #[arg(long, default_value = "v5")]
    signature: String,
    /// Member lists read at once.
    #[arg(long, default_value_t = 4)]
    parallelism: usize,
    /// Give up after this many seconds, waits included.
    #[arg(long, default_value_t = 1800)]
    deadline_s: u64,
    /// A request times out when its whole answer takes longer than this [default: 20].
    #[arg(long)]
    timeout_s: Option<u64>,
    /// Retry waits in milliseconds instead of seconds (for tests against a local fake).
    #[arg(long, hide = true)]
    quick_retries: bool,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    connection: Connection,
    /// Also write a support bundle here (JSON, no secret and no user data; SUPPORT-BUNDLE.md).
    #[arg(long, value_name = "FILE")]
    support_bundle: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct SyncArgs {
    #[command(flatten)]
    connection: Connection,
    /// Also write a support bundle here, whatever the outcome (JSON, no secret and no user data;
    /// SUPPORT-BUNDLE.md).
    #[arg(long, value_name = "FILE")]
    support_bundle: Option<PathBuf>,
    /// Where to write the snapshot (or, on failure, the error document); stdout if not given.
    #[arg(long, short, env = config::ENV_OUTPUT)]
    output: Option<PathBuf>,
    /// Also record the run in this SQLite database.
    #[arg(long)]
    sqlite: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct WatchArgs {
    #[command(flatten)]
    connection: Connection,
    /// Time from one run's start to the next: `1h`, `15m`, `30s`, `500ms`.
    #[arg(long, value_parser = humantime::parse_duration)]
    every: Duration,
    /// The SQLite file every run (and every failed run) is recorded in.
    #[arg(long)]
    sqlite: PathBuf,
    /// Append access-change events to this file, one JSON object a line.
    #[arg(long)]
    events: Option<PathBuf>,
    /// Stop after this many runs, good or failed (default: until stopped).
    #[arg(long)]
    runs: Option<u64>,
}

#[derive(Debug, Args)]
struct LogsArgs {
    #[command(flatten)]
    connection: Connection,
    /// Comma list of log types: authentication, administrator, telephony, activity,
    /// offline_enrollment, trust_monitor.
    #[arg(long, env = "DUO_LOG_TYPES", default_value = "authentication")]
    log_types: String,
    /// Where a log type without a checkpoint starts: this many seconds back (at most 180 days).
    #[arg(long, env = "DUO_LOOKBACK_S", default_value_t = 86_400)]
    lookback_s: u64,
    /// Events can turn up this many seconds after they happened: nothing newer is asked for.
    #[arg(long, env = "DUO_SETTLE_S", default_value_t = 120)]
    settle_s: u64,
    /// The folder of the checkpoints (one file per log type; made if missing).
    #[arg(long, env = "DUO_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// The JSON Lines file events are appended to.
    #[arg(long, env = config::ENV_OUTPUT)]
    output: Option<PathBuf>,
    /// Where to write `{"status":"ok","events":N}` or `{"error":{…}}` at the end.
    #[arg(long, env = "DUO_RESULT")]
    result: Option<PathBuf>,
    /// Comma list of user ids: collect only these users' authentication events (Duo's `users`
    /// filter; the other logs are collected whole) [default: every user's].
    #[arg(long, env = "DUO_LOG_USERS", default_value = "")]
    users: String,
}

#[derive(Debug, Args)]
struct EvidenceArgs {
    /// The SQLite file `sync --sqlite` or `watch` recorded runs in.
    #[arg(long)]
    sqlite: PathBuf,
    /// The folder to write the pack in (made if missing).
    #[arg(long)]
    out: PathBuf,
    /// The run to review [default: the latest].
    #[arg(long)]
    run: Option<i64>,
    /// Access changes from runs synced at or after this date (`2026-01-31`, or RFC 3339 in UTC)
    /// [default: every recorded run].
    #[arg(long)]
    since: Option<String>,
    /// Users whose last login is older than this many days before the run are listed as inactive.
    #[arg(long, default_value_t = 90)]
    inactive_days: u32,
}

/// Parses flags and runs the command; the exit code follows the contract.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let code = runtime.block_on(run(cli));
    // A watch stopped mid-run may leave a name lookup on a blocking thread: exit without it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => run_check(args).await,
        Command::Sync(args) => run_sync(args).await,
        Command::Diff { old, new, format } => finish(run_diff(&old, &new, format)),
        Command::Review {
            snapshot,
            inactive_days,
            format,
        } => finish(run_review(&snapshot, inactive_days, format)),
        Command::Watch(args) => run_watch(args).await,
        Command::Evidence(args) => finish(run_evidence(&args)),
        Command::Logs(args) => run_logs(args).await,
    }
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn usage(error: &Error) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(EXIT_USAGE)
}

fn connect(connection: &Connection, observer: Option<Observer>) -> Result<(Config, Client), Error> {
    let missing =
        |what: &str, env: &str| Error::Config(format!("{what} is missing: give --{what} or set {env}"));
    let host = connection
        .api_host
        .as_deref()
        .ok_or_else(|| missing("api-host", config::ENV_API_HOST))?;
    let ikey = connection
        .ikey
        .as_deref()
        .ok_or_else(|| missing("ikey", config::ENV_IKEY))?;
    let skey = connection
        .skey
        .clone()
        .ok_or_else(|| missing("skey", config::ENV_SKEY))?;
    let mut config = Config::new(host, ikey, SecretKey::new(skey))?;
    config.ca_cert = connection.ca_cert.clone().filter(|p| !p.as_os_str().is_empty());
    if connection.plain_http {
        config.transport = Transport::PlainHttp;
    }
    config.scheme = config::parse_scheme(&connection.signature)?;
    config.proxy = connection.proxy.clone();
    config.parallelism = connection.parallelism.max(1);
    if connection.quick_retries {
        config.retry = RetryPolicy::quick();
    }
    config.retry.deadline = Duration::from_secs(connection.deadline_s);
    if let Some(seconds) = connection.timeout_s {
        config.retry.request_timeout = Duration::from_secs(seconds.max(1));
    }
    let client = Client::with_observer(&config, observer)?;
    Ok((config, client))
}

/// Writes the support bundle when one was asked for; a failure to write it is said, not fatal.
async fn write_bundle(
    path: Option<&Path>,
    recorder: &BundleRecorder,
    context: BundleContext<'_>,
    outcome: &Outcome<'_>,
) {
    if let Some(path) = path {
        match support_bundle::write(path, recorder, context, outcome).await {
            Ok(()) => eprintln!("support bundle written to {}", path.display()),
            Err(e) => eprintln!("error: {e}"),
        }
    }
}

async fn run_check(args: CheckArgs) -> ExitCode {
    let recorder = BundleRecorder::new();
    let observer = args.support_bundle.as_ref().map(|_| recorder.observer(None));
    let bundle = args.support_bundle.as_deref();
    match connect(&args.connection, observer) {
        Ok((config, client)) => {
            let report = check::check(&config, &client).await;
            print!("{}", report.render());
            let context = BundleContext {
                command: "check",
                config: Some(&config),
            };
            write_bundle(bundle, &recorder, context, &Outcome::Check(&report)).await;
            ExitCode::from(if report.ok() { EXIT_OK } else { EXIT_FAILED })
        }
        Err(e) => {
            let context = BundleContext {
                command: "check",
                config: None,
            };
            write_bundle(bundle, &recorder, context, &Outcome::Usage).await;
            usage(&e)
        }
    }
}

async fn run_sync(args: SyncArgs) -> ExitCode {
    let progress = Progress::new();
    let recorder = BundleRecorder::new();
    let bundle = args.support_bundle.as_deref();
    let observer = match bundle {
        Some(_) => recorder.observer(Some(progress.client_observer())),
        None => progress.client_observer(),
    };
    let (config, client) = match connect(&args.connection, Some(observer)) {
        Ok(connected) => connected,
        Err(e) => {
            let context = BundleContext {
                command: "sync",
                config: None,
            };
            write_bundle(bundle, &recorder, context, &Outcome::Usage).await;
            return usage(&e);
        }
    };
    let context = BundleContext {
        command: "sync",
        config: Some(&config),
    };
    let options = SyncOptions {
        parallelism: config.parallelism,
        observer: Some(progress.sync_observer()),
        ..SyncOptions::default()
    };
    let result = duo_connector::sync::sync(&client, &options).await;
    progress.finish();
    let stats = client.stats();
    let requests = stats.requests.load(std::sync::atomic::Ordering::Relaxed);
    let outcome = match &result {
        Ok(_) => Outcome::Synced,
        Err(e) => Outcome::Failed(e),
    };
    write_bundle(bundle, &recorder, context, &outcome).await;
    match result {
        Ok(snapshot) => {
            if let Err(e) = write_snapshot(&snapshot, args.output.as_deref(), args.sqlite.as_deref()) {
                eprintln!("error: {e:#}");
                return ExitCode::from(EXIT_FAILED);
            }
            eprintln!(
                "synced {} users, {} administrators, {} groups ({requests} requests)",
                snapshot.users.len(),
                snapshot.admins.len(),
                snapshot.groups.len()
            );
            ExitCode::from(EXIT_OK)
        }
        Err(Error::Failed(failure)) => {
            eprintln!("error: {}: {}", failure.kind, failure.message);
            if let Some(path) = &args.output
                && let Err(e) = write_whole(path, &error_document(&failure))
            {
                eprintln!("error: {e}");
            }
            ExitCode::from(EXIT_FAILED)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn write_snapshot(snapshot: &Snapshot, output: Option<&Path>, sqlite: Option<&Path>) -> anyhow::Result<()> {
    if let Some(path) = sqlite {
        let mut store = sqlite::SnapshotStore::open(path)?;
        let run = store.record(snapshot)?;
        eprintln!("recorded as run {run} in {}", path.display());
    }
    match output {
        Some(path) => write_whole_with(path, |out| snapshot.write_to(out))?,
        None => snapshot
            .write_to(std::io::BufWriter::new(std::io::stdout().lock()))
            .context("writing the snapshot to stdout")?,
    }
    Ok(())
}

fn run_diff(old: &Path, new: &Path, format: DiffFormat) -> anyhow::Result<()> {
    let changes = diff::diff(&Snapshot::read(old)?, &Snapshot::read(new)?)?;
    let text = match format {
        DiffFormat::Text => changes.render_text(),
        DiffFormat::Markdown => changes.render_markdown(),
        DiffFormat::Json => serde_json::to_string_pretty(&changes)? + "\n",
    };
    print!("{text}");
    Ok(())
}

fn run_review(path: &Path, inactive_days: u32, format: ReviewFormat) -> anyhow::Result<()> {
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let options = review::ReviewOptions {
        inactive_days,
        now_unix,
    };
    let summary = review::review(&Snapshot::read(path)?, &options)?;
    let text = match format {
        ReviewFormat::Table => summary.render_table(),
        ReviewFormat::Markdown => summary.render_markdown(),
        ReviewFormat::Csv => summary.render_csv(),
        ReviewFormat::Json => summary.render_json(),
    };
    print!("{text}");
    Ok(())
}

fn init_logs(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "duo_connector=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("DUO_CONNECTOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// A spinner on a terminal with objects, pages and retry waits; nothing when stderr is not one.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new() -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {pos} objects, {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
            ProgressBar::hidden()
        };
        bar.set_message("0 pages");
        Self { bar }
    }

    fn sync_observer(&self) -> SyncObserver {
        let bar = self.bar.clone();
        let pages = Arc::new(std::sync::atomic::AtomicU64::new(0));
        Arc::new(move |event| match event {
            SyncEvent::Phase(name) => bar.set_prefix(*name),
            SyncEvent::Page(items) => {
                bar.inc(*items as u64);
                let n = pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                bar.set_message(format!("{n} pages"));
            }
            SyncEvent::Groups(count) => bar.set_prefix(format!("group members of {count} groups")),
        })
    }

    fn client_observer(&self) -> Observer {
        let bar = self.bar.clone();
        Arc::new(move |event| {
            if let ClientEvent::RetryWait { path, class, wait } = event {
                bar.println(format!(
                    "waiting {:.1} s before retrying {path} ({class:?})",
                    wait.as_secs_f64()
                ));
            }
        })
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

async fn run_watch(args: WatchArgs) -> ExitCode {
    if args.every.is_zero() {
        eprintln!("error: --every must be longer than 0");
        return ExitCode::from(EXIT_USAGE);
    }
    let config = match connect(&args.connection, None) {
        Ok((config, _)) => config,
        Err(e) => return usage(&e),
    };
    // Installed before anything is synced or written: from here on a signal stops the watch
    // (between runs, or the run in progress) instead of killing the process.
    let stop = match stop_signal() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("error: cannot listen for signals: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let mut store = match sqlite::SnapshotStore::open(&args.sqlite) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let options = watch::WatchOptions {
        every: args.every,
        runs: args.runs,
        events: args.events.clone(),
        sync: SyncOptions {
            parallelism: config.parallelism,
            ..SyncOptions::default()
        },
        observer: Some(Arc::new(report_watch)),
    };
    match watch::watch(&config, &mut store, &options, stop).await {
        Ok(summary) => {
            eprintln!(
                "{}: {} recorded, {} failed",
                if summary.stopped { "stopped" } else { "done" },
                counted(usize::try_from(summary.recorded).unwrap_or(usize::MAX), "run"),
                summary.failed
            );
            let failed = !summary.stopped && summary.last_run_failed;
            ExitCode::from(if failed { EXIT_FAILED } else { EXIT_OK })
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// One line on stderr per run and per wait.
fn report_watch(event: &watch::WatchEvent) {
    match event {
        watch::WatchEvent::Started => {}
        watch::WatchEvent::Recorded {
            run,
            counts: (users, admins, groups),
            compared,
        } => {
            let changes = match compared {
                Some((old, count)) => format!("{} since run {}", counted(*count, "access change"), old.id),
                None => "the first run of this tenant in the file".to_owned(),
            };
            eprintln!(
                "run {} recorded: {users} users, {admins} administrators, {groups} groups; {changes}",
                run.id
            );
        }
        watch::WatchEvent::Failed(failed) => eprintln!(
            "run failed (failed run {}): {}: {}",
            failed.id, failed.kind, failed.message
        ),
        watch::WatchEvent::Waiting { wait, stretched } => {
            let wait = Duration::from_millis(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
            let why = if *stretched {
                " (stretched: rate limited)"
            } else {
                ""
            };
            eprintln!("next run in {}{why}", humantime::format_duration(wait));
        }
    }
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed by this call, so a signal that
/// comes before the future is first polled is kept for it rather than ending the process.
#[cfg(unix)]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

async fn run_logs(args: LogsArgs) -> ExitCode {
    let missing =
        |what: &str, env: &str| Error::Config(format!("{what} is missing: give --{what} or set {env}"));
    let (Some(state_dir), Some(output)) = (args.state_dir.clone(), args.output.clone()) else {
        return usage(&if args.state_dir.is_none() {
            missing("state-dir", "DUO_STATE_DIR")
        } else {
            missing("output", config::ENV_OUTPUT)
        });
    };
    let types = match logs::parse_types(&args.log_types) {
        Ok(types) => types,
        Err(e) => return usage(&e),
    };
    let (_, client) = match connect(&args.connection, None) {
        Ok(connected) => connected,
        Err(e) => return usage(&e),
    };
    let options = logs::LogsOptions {
        types,
        lookback: Duration::from_secs(args.lookback_s),
        settle: Duration::from_secs(args.settle_s),
        state_dir,
        output,
        users: args
            .users
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let (document, code) = match logs::collect(&client, &options).await {
        Ok(summary) => {
            let counts: Vec<String> = summary
                .per_type
                .iter()
                .map(|(name, n)| format!("{name} {n}"))
                .collect();
            eprintln!(
                "collected {} ({}; {} requests)",
                counted(usize::try_from(summary.events()).unwrap_or(usize::MAX), "event"),
                counts.join(", "),
                summary.requests
            );
            let document = format!("{{\"status\":\"ok\",\"events\":{}}}\n", summary.events());
            (document.into_bytes(), EXIT_OK)
        }
        Err(Error::Failed(failure)) => {
            eprintln!("error: {}: {}", failure.kind, failure.message);
            (error_document(&failure), EXIT_FAILED)
        }
        Err(e) => {
            eprintln!("error: {e}");
            let failure = duo_connector::Failure::new(duo_connector::ErrorKind::Sink, e.to_string());
            (error_document(&failure), EXIT_FAILED)
        }
    };
    if let Some(path) = &args.result
        && let Err(e) = write_whole(path, &document)
    {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_FAILED);
    }
    ExitCode::from(code)
}

fn run_evidence(args: &EvidenceArgs) -> anyhow::Result<()> {
    let store = sqlite::SnapshotStore::open(&args.sqlite)?;
    let options = evidence::EvidenceOptions {
        run: args.run,
        since: args.since.as_deref().map(evidence::parse_since).transpose()?,
        inactive_days: args.inactive_days,
    };
    let manifest = evidence::write_evidence(&store, &args.out, &options)?;
    eprintln!(
        "evidence of run {} ({}) written to {}: {} files, {}",
        manifest.run.id,
        manifest.run.synced_at,
        args.out.display(),
        manifest.files.len() + 1,
        counted(manifest.counts.changes, "access change")
    );
    Ok(())
}

/// `1 run`, `2 runs`.
fn counted(count: usize, noun: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{plural}")
}
