//! Flags and commands of `duo-mock`. Exit codes: 0 done, 1 the server failed, 2 bad usage or a
//! bad scenario file (nothing is served then). `explain-signature`: 0 a scheme matches (or no
//! signature was given), 1 none does, 2 bad usage.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{ArgGroup, Parser, Subcommand};
use mock_server::explain::{ExplainInput, ParamsInput, SentSignature, Verdict};
use mock_server::server::{self, ServerInfo};
use mock_server::{AppState, Scenario, StartOptions, TlsMode};

/// A fake Duo Admin API server for development, CI and reproducing customer failures.
#[derive(Debug, Parser)]
#[command(name = "duo-mock", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a scenario's tenant until Ctrl-C.
    Serve {
        /// Scenario file (TOML), e.g. scenarios/default.toml.
        #[arg(long)]
        scenario: PathBuf,
        /// Address to listen on; port 0 picks a free port (printed at start).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Serve HTTPS with a CA and certificate generated at start (CA path in the ready file).
        #[arg(long)]
        tls: bool,
        /// Serve HTTPS with this certificate chain (PEM) instead of a generated one.
        #[arg(long, requires = "key")]
        cert: Option<PathBuf>,
        /// Private key (PEM) for --cert.
        #[arg(long, requires = "cert")]
        key: Option<PathBuf>,
        /// Write the address and credentials here as JSON once the socket accepts.
        #[arg(long)]
        ready_file: Option<PathBuf>,
        /// Also append every request and its answer to this file, one JSON object a line.
        #[arg(long)]
        journal: Option<PathBuf>,
        /// Bytes of each request and answer body the journal keeps (0: none).
        #[arg(long, value_name = "N", default_value_t = mock_server::journal::DEFAULT_BODY_BYTES)]
        journal_bodies: usize,
        /// Requests kept in memory for the control API and the dashboard (the oldest go first).
        #[arg(long, value_name = "N", default_value_t = mock_server::journal::DEFAULT_CAPACITY)]
        journal_capacity: usize,
        /// Log every request, one line each (method, path, status, Duo code, integration,
        /// latency), and why a request was refused.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Print the routes the fake serves as Markdown (docs/endpoints.md is this output).
    Endpoints,
    /// Print a scenario's tenant as JSON, objects as the API returns them; with --logs, one log's
    /// events instead.
    Dump {
        /// Scenario file.
        #[arg(long)]
        scenario: PathBuf,
        /// Print this log's events (authentication, administrator, telephony, activity,
        /// offline_enrollment, trust_monitor), oldest first, as its newest endpoint lists them.
        #[arg(long, value_name = "TYPE", value_parser = mock_server::logs::LogKind::ALL.map(|k| k.name()))]
        logs: Option<String>,
        /// Start of the window, unix milliseconds (default: the retention's start).
        #[arg(long, requires = "logs")]
        mintime: Option<i64>,
        /// End of the window, unix milliseconds (default: now).
        #[arg(long, requires = "logs")]
        maxtime: Option<i64>,
        /// The server's now, unix milliseconds (default: this machine's clock plus the scenario's
        /// offset): what is visible and retained, for output that never changes.
        #[arg(long, requires = "logs")]
        now: Option<i64>,
        /// Dump this child account (`[[accounts]]`, by `account_id`) instead of the parent.
        #[arg(long, value_name = "ACCOUNT_ID", conflicts_with = "logs")]
        account: Option<String>,
    },
    /// Check scenario files; print each problem as file:line:column.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Explain a signature: every canonical string and signature a server tries (v1-sha1 … v5,
    /// each host spelling), which matches the client's, or why none does. The skey is never shown.
    ExplainSignature(Box<ExplainArgs>),
    /// Measure a Duo Admin API server with a read-only battery; write what it does and a
    /// scenario of the same shape (no names, e-mails, phone numbers or ids).
    Probe(Box<crate::cli_tools::ProbeArgs>),
    /// A recording signing proxy in front of a Duo Admin API server; on stop, a scrubbed
    /// scenario that `serve` replays.
    Record(Box<crate::cli_tools::RecordArgs>),
    /// Make scenarios from what was seen elsewhere (a connector's support bundle).
    Scenario {
        #[command(subcommand)]
        command: crate::cli_tools::ScenarioCommand,
    },
}

/// What the client sent, and where to read the skey (an env var or a file keeps it out of the
/// shell history).
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("skey_source").required(true).args(["skey_env", "skey_file", "skey"])))]
struct ExplainArgs {
    /// HTTP method, e.g. GET.
    #[arg(long)]
    method: String,
    /// Host as the client used it, e.g. api-xxxxxxxx.duosecurity.com or localhost:8443.
    #[arg(long)]
    host: String,
    /// Raw path as sent, e.g. /admin/v1/users (still percent-encoded).
    #[arg(long)]
    path: String,
    /// Raw query string as sent, e.g. 'limit=100&offset=0'.
    #[arg(long, conflicts_with = "params")]
    query: Option<String>,
    /// A decoded parameter (repeat for more), e.g. --param 'realname=First Last'.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// The Date header sent, e.g. 'Tue, 21 Aug 2012 17:29:18 -0000' (not needed with an
    /// X-Duo-Date --header, which the server prefers).
    #[arg(long)]
    date: Option<String>,
    /// Read the request body from this file (byte for byte).
    #[arg(long, value_name = "FILE", conflicts_with = "body_text")]
    body: Option<PathBuf>,
    /// The request body as text.
    #[arg(long, value_name = "TEXT")]
    body_text: Option<String>,
    /// A header sent (repeat for more): every X-Duo-* one, and Content-Type for a body.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The server's configured API hostname, one more host spelling to try.
    #[arg(long, value_name = "HOST")]
    api_hostname: Option<String>,
    /// Read the skey from this environment variable.
    #[arg(long, value_name = "VAR")]
    skey_env: Option<String>,
    /// Read the skey from this file (a trailing line break is dropped).
    #[arg(long, value_name = "FILE")]
    skey_file: Option<PathBuf>,
    /// The skey itself (lands in the shell history: prefer --skey-env or --skey-file).
    #[arg(long, value_name = "SKEY")]
    skey: Option<Redacted>,
    /// The signature the client sent, hex.
    #[arg(long, value_name = "HEX", conflicts_with = "authorization")]
    signature: Option<String>,
    /// The Authorization header the client sent, 'Basic …'.
    #[arg(long, value_name = "HEADER")]
    authorization: Option<String>,
}

/// A secret argument: its Debug output never shows it.
#[derive(Clone)]
struct Redacted(String);

impl std::str::FromStr for Redacted {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { files } => validate(&files),
        Command::ExplainSignature(args) => explain_signature(*args),
        Command::Endpoints => {
            print!("{}", mock_server::routes::catalogue::markdown());
            ExitCode::SUCCESS
        }
        Command::Scenario { command } => crate::cli_tools::scenario(command),
        Command::Probe(args) => crate::cli_tools::probe(&args),
        Command::Record(args) => {
            init_logging(args.verbose);
            crate::cli_tools::record(&args)
        }
        Command::Dump {
            scenario,
            logs,
            mintime,
            maxtime,
            now,
            account,
        } => match load(&scenario) {
            Ok(scenario) => match logs {
                None => report(dump(&scenario, account.as_deref())),
                Some(kind) => report(dump_logs(&scenario, &kind, mintime, maxtime, now)),
            },
            Err(code) => code,
        },
        Command::Serve {
            scenario,
            listen,
            tls,
            cert,
            key,
            ready_file,
            journal,
            journal_bodies,
            journal_capacity,
            verbose,
        } => {
            init_logging(verbose);
            let Ok(parsed) = load(&scenario) else {
                return ExitCode::from(2);
            };
            let tls = match (cert, key, tls) {
                (Some(cert), Some(key), _) => TlsMode::Files { cert, key },
                (_, _, true) => TlsMode::Generate,
                _ => TlsMode::Off,
            };
            let recording = Recording {
                file: journal,
                body_bytes: journal_bodies,
                capacity: journal_capacity,
                log_requests: verbose,
            };
            report(serve(
                &recording,
                &parsed,
                &StartOptions { listen, tls },
                ready_file.as_deref(),
            ))
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("duo-mock: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads a scenario for `serve` and `dump`: every mistake reported as `validate` does, exit 2.
fn load(path: &Path) -> Result<Scenario, ExitCode> {
    match checked(path, false) {
        Ok(Some(scenario)) => Ok(scenario),
        Ok(None) => Err(ExitCode::from(2)),
        Err(error) => {
            eprintln!("{error}");
            Err(ExitCode::from(2))
        }
    }
}

/// Reads and checks a scenario, printing every mistake (one a line, in file order) to stderr.
/// When the file has mistakes, the tenant it gives without them is generated too, for the
/// mistakes only generation finds (a user in a group nobody made); `generate` generates it
/// even when there are none (`validate`; `serve` and `dump` generate it next anyway).
/// `Ok(None)`: mistakes were printed.
fn checked(path: &Path, generate: bool) -> mock_server::Result<Option<Scenario>> {
    let (scenario, mut mistakes) = Scenario::check_file(path)?;
    if let Some(scenario) = scenario.as_ref().filter(|_| generate || !mistakes.is_empty())
        && let Err(error) = mock_server::generate::build(scenario)
    {
        mistakes.push(error);
    }
    match scenario {
        Some(scenario) if mistakes.is_empty() => Ok(Some(scenario)),
        _ => {
            mistakes.sort_by_key(|e| match e {
                mock_server::Error::Scenario { line, column, .. } => (*line, *column),
                _ => (usize::MAX, usize::MAX),
            });
            for mistake in &mistakes {
                eprintln!("{mistake}");
            }
            Ok(None)
        }
    }
}

fn validate(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for file in files {
        match checked(file, true) {
            Ok(Some(_)) => println!("ok: {}", file.display()),
            Ok(None) => failed = true,
            Err(error) => {
                eprintln!("{error}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `explain-signature`: 0 a scheme matches (or nothing to compare), 1 none does, 2 bad usage.
fn explain_signature(args: ExplainArgs) -> ExitCode {
    match explain_input(args) {
        Ok(input) => {
            let explanation = mock_server::explain::explain(&input);
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "{explanation}");
            let _ = out.flush();
            match explanation.verdict {
                Verdict::Match { .. } | Verdict::NotCompared => ExitCode::SUCCESS,
                Verdict::NoMatch { .. } => ExitCode::FAILURE,
            }
        }
        Err(error) => {
            eprintln!("duo-mock explain-signature: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Reads the files and variables the arguments name; any failure is bad usage.
fn explain_input(args: ExplainArgs) -> anyhow::Result<ExplainInput> {
    let skey = match (args.skey_env, args.skey_file, args.skey) {
        (Some(var), _, _) => std::env::var(&var)
            .with_context(|| format!("reading the skey from the environment variable {var}"))?,
        (_, Some(file), _) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading the skey from {}", file.display()))?;
            text.trim_end_matches(['\r', '\n']).to_owned()
        }
        (_, _, Some(Redacted(skey))) => skey,
        (None, None, None) => anyhow::bail!("give the skey with --skey-env, --skey-file or --skey"),
    };
    if skey.is_empty() {
        anyhow::bail!("the skey is empty");
    }
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
                .filter(|(name, _)| !name.is_empty())
                .with_context(|| format!("--header {h:?} is not 'Name: value'"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let has_duo_date = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("x-duo-date"));
    let date = match args.date {
        Some(date) => date,
        None if has_duo_date => String::new(),
        None => anyhow::bail!("give the date with --date (or an X-Duo-Date --header)"),
    };
    let params = match args.query {
        Some(query) => ParamsInput::Query(query),
        None => ParamsInput::Decoded(
            args.params
                .iter()
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (p.clone(), String::new()),
                })
                .collect(),
        ),
    };
    let body = match (args.body, args.body_text) {
        (Some(file), _) => {
            std::fs::read(&file).with_context(|| format!("reading the body from {}", file.display()))?
        }
        (None, Some(text)) => text.into_bytes(),
        (None, None) => Vec::new(),
    };
    let sent = match (args.signature, args.authorization) {
        (Some(hex), _) => Some(SentSignature::Hex(hex)),
        (None, Some(header)) => Some(SentSignature::Authorization(header)),
        (None, None) => None,
    };
    Ok(ExplainInput {
        method: args.method,
        host: args.host,
        path: args.path,
        params,
        date,
        body,
        headers,
        api_hostname: args.api_hostname,
        skey,
        sent,
    })
}

fn dump(scenario: &Scenario, account: Option<&str>) -> anyhow::Result<()> {
    let child;
    let scenario = match account {
        None => scenario,
        Some(id) => {
            let account = scenario
                .accounts
                .iter()
                .find(|a| a.account_id == id)
                .with_context(|| format!("the scenario has no child account {id:?}"))?;
            child = scenario.child_scenario(account);
            &child
        }
    };
    let tenant = mock_server::generate::build(scenario)?;
    // A child has no integrations of its own: the parent's Accounts API keys reach it.
    let integrations = if account.is_some() {
        Vec::new()
    } else {
        server::IntegrationInfo::of(scenario)
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    mock_server::dump::write_dump(&tenant, &integrations, &mut out)?;
    out.flush()?;
    Ok(())
}

fn dump_logs(
    scenario: &Scenario,
    kind: &str,
    mintime: Option<i64>,
    maxtime: Option<i64>,
    now: Option<i64>,
) -> anyhow::Result<()> {
    let Some(kind) = mock_server::logs::LogKind::from_name(kind) else {
        let names: Vec<&str> = mock_server::logs::LogKind::ALL.iter().map(|k| k.name()).collect();
        anyhow::bail!("--logs {kind:?}: expected one of {}", names.join(", "));
    };
    let now_us = match now {
        Some(ms) => ms.saturating_mul(1000),
        None => {
            let real = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
            real.saturating_add(scenario.options.clock_offset_s.saturating_mul(1_000_000))
        }
    };
    let world = mock_server::state::World::build(scenario)?;
    let maxtime = maxtime.unwrap_or(now_us / 1000);
    let mintime = mintime.unwrap_or(maxtime - i64::from(world.logs.config().retention_days) * 86_400_000);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    world
        .logs
        .dump(&world, kind, mintime, maxtime, now_us, &mut out)?;
    out.flush()?;
    Ok(())
}

fn init_logging(verbose: bool) {
    use std::io::IsTerminal as _;
    let default = if verbose { "info,mock_server=debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour for a person at a terminal; a file or a pipe gets plain text (NO_COLOR turns it off
    // at a terminal too).
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}

/// What `serve` records of each request: the journal file, how much of each body, the log line.
struct Recording {
    file: Option<PathBuf>,
    body_bytes: usize,
    /// Entries kept in memory.
    capacity: usize,
    log_requests: bool,
}

fn serve(
    recording: &Recording,
    scenario: &Scenario,
    options: &StartOptions,
    ready_file: Option<&Path>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let started = Instant::now();
        let state = AppState::from_scenario(scenario)?;
        let journal = state.journal();
        journal.set_capacity(recording.capacity);
        if let Some(path) = &recording.file {
            journal.write_to(path)?;
        }
        journal.set_body_limit(recording.body_bytes);
        journal.set_log_requests(recording.log_requests);
        let world = state.world();
        let tenant = &world.tenant;
        let (listener, info, _) = server::prepare(scenario, options, state.control_token()).await?;
        print_banner(scenario, &info, tenant, started);
        if let Some(path) = ready_file {
            write_ready_file(path, &info)?;
        }
        let leftovers: Vec<PathBuf> = ready_file
            .map(Path::to_path_buf)
            .into_iter()
            .chain(info.ca_cert.clone())
            .collect();
        let shutdown = async move {
            wait_for_signal().await;
            tracing::info!("shutting down: draining requests in flight (Ctrl-C again to exit now)");
            tokio::spawn(async move {
                wait_for_signal().await;
                // Exiting at once still leaves nothing behind that says the fake is up.
                for path in &leftovers {
                    let _ = std::fs::remove_file(path);
                }
                std::process::exit(130);
            });
        };
        let served = server::run(listener, state, shutdown).await;
        if let Some(path) = ready_file {
            let _ = std::fs::remove_file(path);
        }
        if let Some(ca) = &info.ca_cert {
            let _ = std::fs::remove_file(ca);
        }
        served.context("serving")
    })
}

pub(crate) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn print_banner(
    scenario: &Scenario,
    info: &ServerInfo,
    tenant: &mock_server::store::Tenant,
    started: Instant,
) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "duo-mock: serving {} ({} users, {} admins, {} groups), ready in {} ms",
        scenario.origin,
        tenant.users.len(),
        tenant.admins.len(),
        tenant.groups.len(),
        started.elapsed().as_millis()
    );
    let _ = writeln!(out, "  base URL:     {}", info.base_url);
    let _ = writeln!(out, "  API hostname: {} (port {})", info.api_host, info.port);
    if let Some(proxy) = &info.proxy_url {
        let _ = writeln!(out, "  CONNECT proxy: {proxy}");
    }
    if let Some(ca) = &info.ca_cert {
        let _ = writeln!(out, "  CA cert:      {}", ca.display());
    }
    let _ = writeln!(
        out,
        "  control API:  {} (header X-Duo-Mock-Token: {})",
        info.control_url, info.control_token
    );
    let _ = writeln!(out, "  dashboard:    {}", info.dashboard_url);
    // The scenario's own test keys, printed once so a developer can paste them into a client.
    for (i, integration) in info.integrations.iter().zip(&scenario.integrations) {
        let _ = writeln!(out, "  integration {:?}: ikey {} skey {}", i.name, i.ikey, i.skey);
        if integration.kind == mock_server::scenario::IntegrationKind::AccountsApi {
            let _ = writeln!(
                out,
                "    Accounts API keys: POST /accounts/v1/account/list, and Admin API calls with account_id"
            );
        }
        let _ = writeln!(out, "    grants: {}", i.grants.join(", "));
    }
    for account in &info.accounts {
        let _ = writeln!(
            out,
            "  child account {:?}: account_id {} api_hostname {}",
            account.name, account.account_id, account.api_hostname
        );
    }
    // What makes this tenant misbehave, so that a surprising answer is not a mystery.
    if scenario.faults.is_empty() {
        let _ = writeln!(out, "  fault rules:  none");
    } else {
        let _ = writeln!(
            out,
            "  fault rules:  {} (the first that fires wins)",
            scenario.faults.len()
        );
        for (i, rule) in scenario.faults.iter().enumerate() {
            let name = rule.name.clone().unwrap_or_else(|| format!("fault #{}", i + 1));
            let _ = writeln!(out, "    {name:?}: {}", rule.describe());
        }
    }
    if scenario.churn.is_empty() {
        let _ = writeln!(out, "  churn:        none");
    } else {
        let count = scenario.churn.len();
        let _ = writeln!(
            out,
            "  churn:        {count} event{}",
            if count == 1 { "" } else { "s" }
        );
        for (i, event) in scenario.churn.iter().enumerate() {
            let name = event.name.clone().unwrap_or_else(|| format!("churn #{}", i + 1));
            let _ = writeln!(out, "    {name:?}: {}", event.describe());
        }
    }
    if scenario.changes.is_empty() {
        let _ = writeln!(out, "  changes:      none");
    } else {
        let count = scenario.changes.len();
        let _ = writeln!(
            out,
            "  changes:      {count} change{}",
            if count == 1 { "" } else { "s" }
        );
        for (i, change) in scenario.changes.iter().enumerate() {
            let name = change
                .name
                .clone()
                .unwrap_or_else(|| format!("change #{}", i + 1));
            let _ = writeln!(out, "    {name:?}: {}", change.describe());
        }
    }
    match &scenario.rate_limits {
        None => {
            let _ = writeln!(out, "  rate limits:  none");
        }
        Some(limits) => {
            let _ = writeln!(out, "  rate limits:  {}", limits.describe());
        }
    }
    let _ = out.flush();
}

/// Writes the ready file atomically: a temporary file in the same folder, then a rename.
pub(crate) fn write_ready_file(path: &Path, info: &ServerInfo) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("ready.json");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let json = serde_json::to_vec_pretty(info)?;
    std::fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
