//! `duo-mock`'s commands that make scenarios from what was seen elsewhere: `probe` (a live
//! server measured), `record` (a live server's answers to a client, replayed), `scenario
//! from-bundle` (a connector's support bundle), and their flags.
//! Exit codes as `cli.rs`: 0 done, 1 the work failed, 2 bad usage or unreadable input.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand};
use mock_server::AppState;
use mock_server::probe::{self, ProbeOptions};
use mock_server::record::{self, Recorder};
use mock_server::server::{self, StartOptions, TlsMode};
use mock_server::upstream::{Keys, Target, Upstream};

/// Where the secret key comes from: an environment variable or a file, never the command line
/// (which the shell history and the process list keep).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("skey_source").args(["skey_env", "skey_file"])))]
pub(crate) struct SkeySource {
    /// Read the secret key from this environment variable.
    #[arg(long, value_name = "VAR")]
    skey_env: Option<String>,
    /// Read the secret key from this file (a trailing line break is dropped).
    #[arg(long, value_name = "FILE")]
    skey_file: Option<PathBuf>,
}

impl SkeySource {
    /// The keys, the secret read from where it was said to be.
    fn keys(&self, ikey: &str) -> anyhow::Result<Keys> {
        let skey = match (&self.skey_env, &self.skey_file) {
            (Some(var), _) => std::env::var(var)
                .with_context(|| format!("reading the skey from the environment variable {var}"))?,
            (None, Some(file)) => std::fs::read_to_string(file)
                .with_context(|| format!("reading the skey from {}", file.display()))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            (None, None) => anyhow::bail!("give the skey with --skey-env VAR or --skey-file FILE"),
        };
        if skey.is_empty() {
            anyhow::bail!("the skey is empty");
        }
        Ok(Keys::new(ikey, &skey))
    }
}

/// How to reach and sign for another Duo Admin API server (`probe`, `record`).
#[derive(Debug, Args)]
pub(crate) struct UpstreamAccess {
    #[command(flatten)]
    skey: SkeySource,
    /// A PEM file of CA certificates to trust besides the system's (a fake's CA).
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
    /// Plain HTTP (a local fake served without --tls; Duo speaks only HTTPS).
    #[arg(long)]
    plain_http: bool,
}

impl UpstreamAccess {
    /// The server at `host`, reached as these flags say.
    fn target(&self, host: &str) -> Target {
        Target {
            host: host.to_owned(),
            plain_http: self.plain_http,
            ca_cert: self.ca_cert.clone(),
        }
    }
}

/// `duo-mock probe`.
#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// Print where a probe's findings (DIR/probe.json) differ from the fake's defaults, and
    /// probe nothing.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["host", "ikey", "out"])]
    compare: Option<PathBuf>,
    /// The server: its API hostname, `host` or `host:port`.
    #[arg(long, required_unless_present = "compare")]
    host: Option<String>,
    /// The integration key of an Admin API application on it.
    #[arg(long, required_unless_present = "compare")]
    ikey: Option<String>,
    #[command(flatten)]
    access: UpstreamAccess,
    /// Where to write probe.json and scenario.toml (made if missing).
    #[arg(long, value_name = "DIR", required_unless_present = "compare")]
    out: Option<PathBuf>,
    /// Send at most this many requests.
    #[arg(long, default_value_t = probe::DEFAULT_MAX_REQUESTS)]
    max_requests: usize,
    /// Milliseconds between two requests (600: 100 a minute, half Duo's list budget).
    #[arg(long, default_value_t = 600)]
    pace_ms: u64,
    /// Seconds to wait for the server to close an idle connection (past the 32 s Duo's Python
    /// client sleeps between 429 retries).
    #[arg(long, default_value_t = 40)]
    idle_wait_s: u64,
}

/// Runs `probe` (or `probe --compare`).
pub(crate) fn probe(args: &ProbeArgs) -> ExitCode {
    if let Some(dir) = &args.compare {
        return match probe::read(dir) {
            Ok(report) => {
                print!("{}", probe::compare(&report));
                println!(
                    "What to send to improve the fake: {} (it holds no host, key, name, e-mail, phone number or id).",
                    dir.join("probe.json").display()
                );
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("duo-mock probe --compare: {error}");
                ExitCode::from(2)
            }
        };
    }
    let (Some(host), Some(ikey), Some(out)) = (&args.host, &args.ikey, &args.out) else {
        eprintln!("duo-mock probe: give --host, --ikey and --out (or --compare DIR)");
        return ExitCode::from(2);
    };
    let keys = match args.access.skey.keys(ikey) {
        Ok(keys) => keys,
        Err(error) => {
            eprintln!("duo-mock probe: {error:#}");
            return ExitCode::from(2);
        }
    };
    let options = ProbeOptions {
        target: args.access.target(host),
        keys,
        max_requests: args.max_requests,
        pace: Duration::from_millis(args.pace_ms),
        idle_bound: Duration::from_secs(args.idle_wait_s),
    };
    match run_probe(options, out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("duo-mock probe: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_probe(options: ProbeOptions, out: &Path) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(probe::run(options))?;
    probe::write(out, &report)?;
    let told = report.behaviours.iter().filter(|f| !f.value.is_null()).count();
    eprintln!(
        "probed {} behaviours ({told} told) with {} requests in {} s{}; wrote {} and {}",
        report.behaviours.len(),
        report.requests_sent,
        report.duration_s,
        report
            .stopped
            .as_deref()
            .map(|s| format!(" (stopped: {s})"))
            .unwrap_or_default(),
        out.join("probe.json").display(),
        out.join("scenario.toml").display()
    );
    Ok(())
}

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

fn from_bundle(file: &Path, out: &Path) -> anyhow::Result<()> {
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

/// `duo-mock record`.
#[derive(Debug, Args)]
pub(crate) struct RecordArgs {
    /// The server to forward to: its API hostname, `host` or `host:port`.
    #[arg(long)]
    upstream: String,
    /// The integration key of an Admin API application on it.
    #[arg(long)]
    ikey: String,
    #[command(flatten)]
    access: UpstreamAccess,
    /// Where to write scenario.toml and objects.json when stopped (made if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Serve HTTPS with a CA and certificate generated at start (CA path in the ready file).
    #[arg(long)]
    tls: bool,
    /// Write the address and the local test credentials here as JSON once the socket accepts.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Log every request.
    #[arg(short, long)]
    pub(crate) verbose: bool,
}

/// Runs `record` until Ctrl-C or SIGTERM (`POST /__duo-mock/record/stop` writes the files
/// earlier and ends the recording).
pub(crate) fn record(args: &RecordArgs) -> ExitCode {
    let keys = match args.access.skey.keys(&args.ikey) {
        Ok(keys) => keys,
        Err(error) => {
            eprintln!("duo-mock record: {error:#}");
            return ExitCode::from(2);
        }
    };
    match run_record(args, keys) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("duo-mock record: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_record(args: &RecordArgs, keys: Keys) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let upstream = Upstream::new(args.access.target(&args.upstream))?;
        let scenario = record::local_scenario(&args.upstream)?;
        let state = AppState::from_scenario(&scenario)?;
        let options = StartOptions {
            listen: args.listen,
            tls: if args.tls { TlsMode::Generate } else { TlsMode::Off },
        };
        let (listener, info, _) = server::prepare(&scenario, &options, state.control_token()).await?;
        let recorder = Arc::new(Recorder::new(upstream, keys, args.out.clone()));
        let app = record::app(state.clone(), Arc::clone(&recorder));
        println!("duo-mock record: forwarding to {} (signed with its own keys), writing {} when stopped", args.upstream, args.out.display());
        println!("  base URL:     {}", info.base_url);
        if let Some(ca) = &info.ca_cert {
            println!("  CA cert:      {}", ca.display());
        }
        // The local test keys, never the upstream ones: clients sign for the recorder with these.
        for i in &info.integrations {
            println!("  integration {:?}: ikey {} skey {}", i.name, i.ikey, i.skey);
        }
        println!("  dashboard:    {}", info.dashboard_url);
        println!(
            "  stop:         Ctrl-C or SIGTERM, or POST {}/record/stop (writes the files; exit with Ctrl-C)",
            info.control_url
        );
        let mut signals = crate::cli::Signals::listen();
        if let Some(path) = &args.ready_file {
            crate::cli::write_ready_file(path, &info)?;
        }
        let shutdown = async move { signals.recv().await };
        let served = server::run_app(listener, state, app, shutdown).await;
        let written = recorder.finish();
        if let Some(path) = &args.ready_file {
            let _ = std::fs::remove_file(path);
        }
        if let Some(ca) = &info.ca_cert {
            let _ = std::fs::remove_file(ca);
        }
        served.context("serving")?;
        let written = written?;
        eprintln!(
            "duo-mock record: {} exchanges; wrote {} ({} users, {} groups, {} admins, {} fault rules) and objects.json",
            recorder.exchanges(),
            args.out.join("scenario.toml").display(),
            written.users.0,
            written.groups.0,
            written.admins.0,
            written.faults
        );
        Ok(())
    })
}
