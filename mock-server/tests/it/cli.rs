//! The `duo-mock` binary: serve with a ready file, TLS, graceful stop; dump; validate; secrets
//! kept out of logs.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{root, scenario_path};

fn duo_mock() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_duo-mock"));
    command.current_dir(root());
    command
}

/// A `duo-mock serve` process, killed on drop.
pub(crate) struct Served {
    child: Child,
    pub(crate) ready: Value,
    ready_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `duo-mock serve` of a scenario under `scenarios/`, once its ready file is written.
pub(crate) fn serve(scenario: &str, extra: &[&str]) -> Served {
    let dir = tempfile::tempdir().expect("temp dir");
    let ready_path = dir.path().join("ready.json");
    let child = duo_mock()
        .arg("serve")
        .arg("--scenario")
        .arg(scenario_path(scenario))
        .arg("--ready-file")
        .arg(&ready_path)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("duo-mock starts");
    let started = Instant::now();
    let mut served = Served {
        child,
        ready: Value::Null,
        ready_path,
        _dir: dir,
    };
    while !served.ready_path.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no ready file within 30 s"
        );
        assert!(
            served.child.try_wait().expect("poll").is_none(),
            "duo-mock exited early"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = std::fs::read_to_string(&served.ready_path).expect("ready file");
    served.ready = serde_json::from_str(&text).expect("ready file is JSON");
    served
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll") {
            return status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no exit within 20 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read_all(stream: Option<impl std::io::Read>) -> String {
    let mut out = String::new();
    if let Some(mut s) = stream {
        let _ = s.read_to_string(&mut out);
    }
    out
}

#[tokio::test]
async fn serve_writes_the_ready_file_and_stops_cleanly_on_ctrl_c() {
    let journal_dir = tempfile::tempdir().expect("temp dir");
    let journal_path = journal_dir.path().join("journal.jsonl");
    let journal_arg = journal_path.to_str().expect("utf-8 path").to_owned();
    let mut served = serve("default.toml", &["--verbose", "--journal", &journal_arg]);
    let ready = served.ready.clone();
    let port = ready["port"].as_u64().expect("port");
    assert_eq!(ready["base_url"], format!("http://127.0.0.1:{port}"));
    assert_eq!(ready["api_host"], "api-3fdf2348.duosecurity.com");
    assert!(ready["ca_cert"].is_null());
    assert_eq!(
        ready["control_url"],
        format!("http://127.0.0.1:{port}/__duo-mock")
    );
    assert_eq!(ready["control_token"].as_str().map(str::len), Some(32));
    let integrations = ready["integrations"].as_array().expect("integrations");
    assert_eq!(integrations.len(), 6);
    assert_eq!(integrations[1]["name"], "no-admins");
    assert_eq!(
        integrations[1]["grants"],
        serde_json::json!(["Grant read information", "Grant read resource"])
    );

    // A signed request, a refused one and a forbidden one, so the log has something to say.
    let skey = integrations[0]["skey"].as_str().expect("skey").to_owned();
    let base = ready["base_url"].as_str().expect("url").to_owned();
    let client = reqwest::Client::new();
    let date = duo_auth::date::format_date(crate::support::now());
    for (ikey, key) in [
        (integrations[0]["ikey"].as_str().expect("ikey"), skey.as_str()),
        (integrations[0]["ikey"].as_str().expect("ikey"), "wrong"),
        (
            integrations[1]["ikey"].as_str().expect("ikey"),
            integrations[1]["skey"].as_str().expect("skey"),
        ),
    ] {
        let params = duo_auth::params::parse_urlencoded(b"");
        let parts = duo_auth::SignedParts {
            date: &date,
            method: "GET",
            host: "127.0.0.1",
            path: "/admin/v1/admins",
            params: &params,
            body: b"",
            duo_headers: &[],
        };
        let sig = duo_auth::sign(
            &duo_auth::SigningKey::new(key.as_bytes()),
            duo_auth::Scheme::V5,
            &parts,
        );
        let status = client
            .get(format!("{base}/admin/v1/admins"))
            .header("Date", &date)
            .header("Authorization", duo_auth::authorization_header(ikey, &sig))
            .send()
            .await
            .expect("request")
            .status();
        assert!([200, 401, 403].contains(&status.as_u16()));
    }

    interrupt(&served.child);
    let status = wait_exit(&mut served.child);
    assert!(status.success(), "graceful stop exits 0: {status:?}");
    assert!(
        !served.ready_path.exists(),
        "the ready file is removed at shutdown"
    );
    let stdout = read_all(served.child.stdout.take());
    let stderr = read_all(served.child.stderr.take());
    assert!(stdout.contains(&format!("http://127.0.0.1:{port}")), "{stdout}");
    assert_eq!(
        stdout.matches(&skey).count(),
        1,
        "the banner shows each test key once"
    );
    assert!(
        stderr.contains("Grant administrators"),
        "the log names the missing grant: {stderr}"
    );
    for i in integrations {
        let skey = i["skey"].as_str().expect("skey");
        assert!(!stderr.contains(skey), "no skey in logs");
    }
}

#[tokio::test]
async fn serve_with_tls_publishes_its_ca() {
    let served = serve("users-1.toml", &["--tls"]);
    let ca_path = served.ready["ca_cert"].as_str().expect("ca_cert path").to_owned();
    let base = served.ready["base_url"].as_str().expect("url").to_owned();
    assert!(base.starts_with("https://localhost:"));
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_path).expect("CA file")).expect("PEM");
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let ping: Value = client
        .get(format!("{base}/auth/v2/ping"))
        .send()
        .await
        .expect("TLS request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(ping["stat"], "OK");
    // Without the CA the certificate is not trusted.
    let untrusted = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .expect("client");
    assert!(
        untrusted
            .get(format!("{base}/auth/v2/ping"))
            .send()
            .await
            .is_err()
    );
}

#[test]
fn dump_is_stable_and_matches_the_library() {
    let run = || {
        let out = duo_mock()
            .args(["dump", "--scenario"])
            .arg(scenario_path("unicode.toml"))
            .output()
            .expect("dump runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let first = run();
    assert_eq!(first, run(), "byte-identical on every run");
    let value: Value = serde_json::from_slice(&first).expect("JSON");
    let library = crate::support::dump(&crate::support::scenario("unicode.toml"));
    for key in ["users", "admins", "groups", "group_members"] {
        assert_eq!(value[key], library[key], "{key}");
    }
    assert_eq!(value["integrations"][0]["name"], "access-review");
    assert!(value["integrations"][0]["skey"].is_string());
}

#[test]
fn validate_accepts_good_files_and_locates_bad_ones() {
    let ok = duo_mock()
        .arg("validate")
        .args([
            "scenarios/default.toml",
            "scenarios/empty.toml",
            "scenarios/unicode.toml",
        ])
        .output()
        .expect("validate runs");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));

    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[tenant]\napi_hostname = \"a\"\nseed = 1\n\n[[integrations]]\nname = \"x\"\nikey = \"DI1\"\nskey = \"s\"\ngrants = [\"Grant everything\"]\n",
    )
    .expect("write");
    for command in [
        vec!["validate"],
        vec!["serve", "--scenario"],
        vec!["dump", "--scenario"],
    ] {
        let out = duo_mock().args(&command).arg(&bad).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{command:?} exits 2 on a bad file");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = format!(
            "{}:9:11: \"Grant everything\" is not a Duo Admin API permission",
            bad.display()
        );
        assert!(stderr.starts_with(&expected), "{command:?}: {stderr}");
        assert!(
            out.stdout.is_empty() || command[0] == "validate",
            "nothing served"
        );
    }
    let missing = duo_mock()
        .args(["validate", "no/such/file.toml"])
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such/file.toml"));
}

/// The issue's file: a misspelled key (line 10), a string where an integer belongs (line 16) and
/// an unknown intermediary profile (line 20).
const THREE_MISTAKES: &str = r#"[tenant]
api_hostname = "api-1.duosecurity.com"
seed = 1

[generate]
users = 10
groups = 2

[[integrations]]
nmae = "main"
ikey = "DIAAAAAAAAAAAAAAAAAA"
skey = "s"
grants = ["Grant read resource"]

[options]
signature_window_s = "300"

[[faults]]
path = "/admin/v1/users"
intermediary = "cloudflare403"
"#;

/// `duo-mock ARGS FILE` on `text` written to `name` in a temporary folder: exit code, stderr
/// lines, the file's path, the folder (kept alive).
fn run_on(args: &[&str], name: &str, text: &str) -> (Option<i32>, Vec<String>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    let out = duo_mock().args(args).arg(&path).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(str::to_owned)
        .collect();
    (out.status.code(), stderr, path.display().to_string(), dir)
}

#[test]
fn validate_reports_every_mistake_in_one_run_in_file_order() {
    let (code, lines, file, _dir) = run_on(&["validate"], "three.toml", THREE_MISTAKES);
    assert_eq!(code, Some(2), "{lines:?}");
    assert_eq!(lines.len(), 3, "three mistakes, one a line: {lines:#?}");
    let expected = [
        ("10:1", "unknown field `nmae`", "did you mean `name`?"),
        (
            "16:22",
            "invalid type: string \"300\", expected an integer",
            "from 0 to 4294967295",
        ),
        (
            "20:16",
            "unknown intermediary \"cloudflare403\"",
            "did you mean `cloudflare-403`?",
        ),
    ];
    for (line, (place, what, hint)) in lines.iter().zip(expected) {
        assert!(line.starts_with(&format!("{file}:{place}: {what}")), "{line}");
        assert!(line.ends_with(hint), "{line}");
        assert!(!line.contains("u32"), "TOML's words, not Rust's: {line}");
    }
    // serve and dump give the same report, exit 2, and serve writes no ready file.
    let dir = tempfile::tempdir().expect("temp dir");
    let ready = dir.path().join("ready.json");
    let ready_arg = ready.display().to_string();
    for args in [
        vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ready-file",
            ready_arg.as_str(),
            "--scenario",
        ],
        vec!["dump", "--scenario"],
    ] {
        let (code, served, file, _dir) = run_on(&args, "three.toml", THREE_MISTAKES);
        assert_eq!(code, Some(2), "{args:?}: {served:?}");
        let prefix = format!("{file}:");
        let places: Vec<&str> = served
            .iter()
            .map(|l| {
                l.strip_prefix(&prefix)
                    .and_then(|r| r.split(": ").next())
                    .unwrap_or(l)
            })
            .collect();
        assert_eq!(places, ["10:1", "16:22", "20:16"], "{args:?}: {served:#?}");
    }
    assert!(!ready.exists(), "nothing served");
}

#[test]
fn validate_suggests_spellings_names_toml_types_and_points_at_each_key() {
    let text = r#"[tenant]
api_hostname = "api-1.duosecurity.com"
seed = 1

[generate]
admnis = 3
enrolled = "most"

[[integrations]]
name = "main"
ikey = "DIAAAAAAAAAAAAAAAAAA"
skey = "s"
grants = ["Grant read resource"]

[[users]]
username = "a"
status = "Active"
phones = [1]

[[faults]]
path = "/admin/v1/users?offset=300"
duo_error = 42901
probability = 1.5

[[faults]]
path = "/admin/v1/groups"
status = 503
calls = [0, 2]
"#;
    let (code, lines, file, _dir) = run_on(&["validate"], "many.toml", text);
    assert_eq!(code, Some(2), "{lines:?}");
    let expected = [
        ("6:1", "unknown field `admnis`", "did you mean `admins`?"),
        ("7:12", "invalid type: string \"most\", expected a float", ""),
        (
            "17:10",
            "\"Active\" is not a user status",
            "did you mean `active`?",
        ),
        (
            "18:10",
            "invalid type: array, expected an integer from 0 to 4294967295",
            "",
        ),
        (
            "21:8",
            "path \"/admin/v1/users?offset=300\" holds a query",
            "query = { offset = \"300\" }",
        ),
        ("23:15", "probability must be between 0 and 1", ""),
        ("28:9", "calls ", "calls count from 1"),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (line, (place, what, hint)) in lines.iter().zip(expected) {
        assert!(line.starts_with(&format!("{file}:{place}: {what}")), "{line}");
        assert!(line.contains(hint), "{line} should say {hint:?}");
        for rust in ["u32", "u64", "i64", "f64", "sequence", "map"] {
            assert!(!line.contains(&format!("expected {rust}")), "{line}");
        }
    }
}

#[test]
fn ready_file_is_written_atomically_into_its_folder() {
    let served = serve("empty.toml", &[]);
    let dir = served.ready_path.parent().expect("dir");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");
    assert!(Path::new(&served.ready_path).exists());
}

/// A scenario file in a temporary folder, for `serve`, whose one integration has `SLOW_SKEY`
/// and whose `/admin/v1/users` answers after `delay_ms`.
fn slow_scenario(delay_ms: u64) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("slow.toml");
    std::fs::write(
        &path,
        format!(
            "[tenant]\napi_hostname = \"api-51000000.duosecurity.com\"\nseed = 3\n\n\
             [generate]\nusers = 2\n\n\
             [[integrations]]\nname = \"main\"\nikey = \"{SLOW_IKEY}\"\nskey = \"{SLOW_SKEY}\"\n\
             grants = [\"Grant read resource\"]\n\n\
             [[faults]]\nname = \"slow\"\npath = \"/admin/v1/users\"\ndelay_ms = {delay_ms}\n"
        ),
    )
    .expect("write scenario");
    let path = path.to_str().expect("UTF-8 path").to_owned();
    (dir, path)
}

const SLOW_IKEY: &str = "DISLOWANSWERS0000001";
const SLOW_SKEY: &str = "sl0wSecretKeyThatMustNeverBeLogged0000001";

/// A signed GET of `path` to `base`, signed with `skey` (v5, host 127.0.0.1).
pub(crate) fn signed_get(
    client: &reqwest::Client,
    base: &str,
    ikey: &str,
    skey: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    let date = duo_auth::date::format_date(crate::support::now());
    let params = duo_auth::params::parse_urlencoded(b"");
    let parts = duo_auth::SignedParts {
        date: &date,
        method: "GET",
        host: "127.0.0.1",
        path,
        params: &params,
        body: b"",
        duo_headers: &[],
    };
    let signature = duo_auth::sign(
        &duo_auth::SigningKey::new(skey.as_bytes()),
        duo_auth::Scheme::V5,
        &parts,
    );
    client
        .get(format!("{base}{path}"))
        .header("Date", date)
        .header("Authorization", duo_auth::authorization_header(ikey, &signature))
}

/// The process's log lines as they come, read on a thread.
fn log_lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead as _;
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a log line containing `needle`.
fn wait_for_line(lines: &std::sync::mpsc::Receiver<String>, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return,
            Ok(_) => {}
            Err(error) => panic!("no log line with {needle:?}: {error}"),
        }
    }
}

// Several threads: this one blocks on the process while the request runs on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_lets_the_request_in_flight_finish_then_removes_the_ready_file() {
    let (_dir, scenario) = slow_scenario(3000);
    let mut served = serve(&scenario, &[]);
    let lines = log_lines(&mut served.child);
    let base = served.ready["base_url"].as_str().expect("url").to_owned();
    let port = served.ready["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .expect("port");
    let slow = tokio::spawn(
        signed_get(
            &reqwest::Client::new(),
            &base,
            SLOW_IKEY,
            SLOW_SKEY,
            "/admin/v1/users",
        )
        .send(),
    );
    // The server is holding the request (the fault rule's delay) when the signal comes.
    wait_for_line(&lines, "fault rule fired");
    let interrupted = Instant::now();
    interrupt(&served.child);
    wait_for_line(&lines, "shutting down");
    // While it drains it accepts nothing new, and is still running.
    let refused = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Err(_) => break Instant::now(),
            Ok(_) => {
                assert!(interrupted.elapsed() < Duration::from_secs(2), "still accepting");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    assert!(
        served.child.try_wait().expect("poll").is_none(),
        "exited before draining"
    );
    let answer = slow
        .await
        .expect("task")
        .expect("the request in flight is answered");
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["response"].as_array().map(Vec::len), Some(2));
    let status = wait_exit(&mut served.child);
    assert!(status.success(), "graceful stop exits 0: {status:?}");
    assert!(
        !served.ready_path.exists(),
        "the ready file is removed at shutdown"
    );
    assert!(refused.duration_since(interrupted) < Duration::from_secs(2));
}

// Several threads: this one blocks on the process while the request runs on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_exits_at_once() {
    let (_dir, scenario) = slow_scenario(60_000);
    let mut served = serve(&scenario, &[]);
    let lines = log_lines(&mut served.child);
    let base = served.ready["base_url"].as_str().expect("url").to_owned();
    let slow = tokio::spawn(
        signed_get(
            &reqwest::Client::new(),
            &base,
            SLOW_IKEY,
            SLOW_SKEY,
            "/admin/v1/users",
        )
        .send(),
    );
    wait_for_line(&lines, "fault rule fired");
    interrupt(&served.child);
    wait_for_line(&lines, "shutting down");
    // The second handler is installed right after that line; give it a moment to be polled.
    std::thread::sleep(Duration::from_millis(300));
    let second = Instant::now();
    interrupt(&served.child);
    let status = wait_exit(&mut served.child);
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "exited {:?} after the second Ctrl-C: it waited for the drain",
        second.elapsed()
    );
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(
        !served.ready_path.exists(),
        "the ready file is removed on the quick exit too"
    );
    assert!(
        slow.await.expect("task").is_err(),
        "the request in flight is cut, not answered"
    );
}

#[tokio::test]
async fn skeys_stay_out_of_trace_logs_the_journal_and_errors() {
    let (dir, scenario) = slow_scenario(0);
    let journal = dir.path().join("journal.jsonl");
    let mut child = duo_mock()
        .args(["serve", "--verbose", "--scenario", &scenario, "--ready-file"])
        .arg(dir.path().join("ready.json"))
        .arg("--journal")
        .arg(&journal)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("duo-mock starts");
    let started = Instant::now();
    while !dir.path().join("ready.json").exists() {
        assert!(started.elapsed() < Duration::from_secs(30), "no ready file");
        std::thread::sleep(Duration::from_millis(10));
    }
    let ready: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ready.json")).expect("ready"))
            .expect("JSON");
    let base = ready["base_url"].as_str().expect("url").to_owned();
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    // Right key, wrong keys (one a prefix of the real one), unknown ikey, and a client that
    // sends its skey as the Authorization password instead of a signature.
    for (ikey, key) in [
        (SLOW_IKEY, SLOW_SKEY),
        (SLOW_IKEY, "wrong"),
        (SLOW_IKEY, &SLOW_SKEY[..20]),
        ("DIUNKNOWN00000000000", SLOW_SKEY),
    ] {
        let response = signed_get(&client, &base, ikey, key, "/admin/v1/users")
            .send()
            .await
            .expect("request");
        statuses.push(response.status().as_u16());
    }
    let leaked = client
        .get(format!("{base}/admin/v1/users"))
        .header("Date", duo_auth::date::format_date(crate::support::now()))
        .header(
            "Authorization",
            duo_auth::authorization_header(SLOW_IKEY, SLOW_SKEY),
        )
        .send()
        .await
        .expect("request");
    statuses.push(leaked.status().as_u16());
    assert_eq!(statuses, [200, 401, 401, 401, 401]);
    // A control load that fails next to the skey.
    let bad = std::fs::read_to_string(&scenario)
        .expect("scenario")
        .replace("Grant read resource", "Grant everything");
    let refused = client
        .post(format!(
            "{}/load",
            ready["control_url"].as_str().expect("control url")
        ))
        .header(
            "X-Duo-Mock-Token",
            ready["control_token"].as_str().expect("token"),
        )
        .body(bad)
        .send()
        .await
        .expect("control request");
    assert_eq!(refused.status(), 400);
    let refusal = refused.text().await.expect("body");
    assert!(
        refusal.contains("Grant everything") && !refusal.contains(SLOW_SKEY),
        "{refusal}"
    );
    let control_journal = client
        .get(format!(
            "{}/journal",
            ready["control_url"].as_str().expect("control url")
        ))
        .header(
            "X-Duo-Mock-Token",
            ready["control_token"].as_str().expect("token"),
        )
        .send()
        .await
        .expect("control request")
        .text()
        .await
        .expect("body");

    interrupt(&child);
    assert!(wait_exit(&mut child).success());
    let stderr = read_all(child.stderr.take());
    let stdout = read_all(child.stdout.take());
    let journaled = std::fs::read_to_string(&journal).expect("journal file");
    assert_eq!(journaled.lines().count(), 5, "{journaled}");
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "logging at trace: {stderr}"
    );
    assert!(stderr.contains("refused"), "the refusals are logged: {stderr}");
    for (what, text) in [
        ("the log", &stderr),
        ("the journal file", &journaled),
        ("the control journal", &control_journal),
    ] {
        assert!(!text.contains(SLOW_SKEY), "the skey appears in {what}: {text}");
        assert!(
            !text.contains(&SLOW_SKEY[..20]),
            "part of the skey appears in {what}"
        );
    }
    assert_eq!(
        stdout.matches(SLOW_SKEY).count(),
        1,
        "the banner shows the test key once, by design"
    );
}

#[test]
fn skeys_stay_out_of_debug_output_and_scenario_errors() {
    let (_dir, path) = slow_scenario(0);
    let scenario = mock_server::Scenario::load(Path::new(&path)).expect("scenario");
    assert!(!format!("{scenario:?}").contains(SLOW_SKEY));
    assert!(!format!("{:?}", scenario.integrations).contains(SLOW_SKEY));
    let state = mock_server::AppState::from_scenario(&scenario).expect("state");
    assert!(!format!("{state:?}").contains(SLOW_SKEY));
    assert!(!format!("{:?}", mock_server::server::IntegrationInfo::of(&scenario)).contains(SLOW_SKEY));
    // Errors about the integration whose skey is on the line above.
    let text = std::fs::read_to_string(&path).expect("scenario");
    for bad in [
        text.replace("Grant read resource", "Grant everything"),
        text.replace("grants = ", "grant = "),
        text.replace(SLOW_IKEY, "DI-not-a-key"),
        text.replace("name = \"main\"\n", ""),
        format!(
            "{text}\n[[integrations]]\nname = \"again\"\nikey = \"{SLOW_IKEY}\"\nskey = \"{SLOW_SKEY}\"\ngrants = []\n"
        ),
    ] {
        let error = mock_server::Scenario::parse(&bad, "bad.toml").expect_err("a broken scenario");
        assert!(!error.to_string().contains(SLOW_SKEY), "{error}");
        assert!(!format!("{error:?}").contains(SLOW_SKEY), "{error:?}");
    }
}

/// Sends a request of `method` to `base` + `path`, unsigned; returns the status.
async fn unsigned(client: &reqwest::Client, method: &str, url: String) -> u16 {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    client
        .request(method, url)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn verbose_logs_one_plain_line_a_request_and_each_unserved_path_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = dir.path().join("journal.jsonl");
    let journal_arg = journal.to_str().expect("utf-8 path").to_owned();
    let mut served = serve(
        "default.toml",
        &["--verbose", "--journal", &journal_arg, "--journal-bodies", "16"],
    );
    let base = served.ready["base_url"].as_str().expect("url").to_owned();
    let access = &served.ready["integrations"][0];
    let (ikey, skey) = (
        access["ikey"].as_str().expect("ikey").to_owned(),
        access["skey"].as_str().expect("skey").to_owned(),
    );
    let client = reqwest::Client::new();
    let ok = signed_get(&client, &base, &ikey, &skey, "/admin/v1/users")
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 200);
    let mut statuses = Vec::new();
    for (method, path) in [
        ("GET", "/admin/v1/branding"),
        ("GET", "/admin/v1/branding"),
        ("GET", "/admin/v1/branding/DBAAAAAAAAAAAAAAAAA1"),
        ("GET", "/admin/v1/branding/DBAAAAAAAAAAAAAAAAA2"),
        ("PUT", "/admin/v1/users"),
        ("GET", "/admin/v1/users/DUAAAAAAAAAAAAAAAAA1"),
    ] {
        statuses.push(unsigned(&client, method, format!("{base}{path}")).await);
    }
    assert_eq!(statuses, [404, 404, 404, 404, 405, 401]);

    interrupt(&served.child);
    assert!(wait_exit(&mut served.child).success());
    let stderr = read_all(served.child.stderr.take());
    assert!(
        !stderr.contains('\u{1b}'),
        "no ANSI escapes in a log written to a pipe: {stderr:?}"
    );
    let requests: Vec<&str> = stderr.lines().filter(|l| l.contains(" -> ")).collect();
    assert_eq!(requests.len(), 7, "one line a request: {stderr}");
    for (line, wanted) in requests.iter().zip([
        "GET /admin/v1/users -> 200 integration=access-review latency=",
        "GET /admin/v1/branding -> 404 40401 integration=- latency=",
        "GET /admin/v1/branding -> 404 40401",
        "GET /admin/v1/branding/DBAAAAAAAAAAAAAAAAA1 -> 404 40401",
        "GET /admin/v1/branding/DBAAAAAAAAAAAAAAAAA2 -> 404 40401",
        "PUT /admin/v1/users -> 405 40501",
        "GET /admin/v1/users/DUAAAAAAAAAAAAAAAAA1 -> 401 40101",
    ]) {
        assert!(line.contains(wanted), "{line:?} lacks {wanted:?}");
    }
    assert!(requests[1].ends_with("not-implemented"), "{}", requests[1]);
    let warned = |key: &str| {
        stderr
            .lines()
            .filter(|l| l.contains("not implemented by the fake") && l.contains(&format!("{key}:")))
            .count()
    };
    assert_eq!(warned("GET /admin/v1/branding"), 1, "{stderr}");
    assert_eq!(
        warned("GET /admin/v1/branding/{id}"),
        1,
        "ids fold into one path: {stderr}"
    );
    assert_eq!(warned("PUT /admin/v1/users"), 1, "{stderr}");

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .expect("journal file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 7);
    let first = &lines[0];
    assert_eq!(first["response_body"].as_str().map(str::len), Some(16), "{first}");
    assert!(first["response_body_bytes"].as_u64().is_some_and(|n| n > 16));
    assert_eq!(first["signature_valid"], true);
    assert_eq!(first["request_headers"]["authorization"], serde_json::Value::Null);
    assert_eq!(
        lines[1]["response_headers"]["x-duo-mock-not-implemented"],
        "GET /admin/v1/branding"
    );
    let text = std::fs::read_to_string(&journal).expect("journal file");
    assert!(!text.contains(&skey), "no skey in the journal file");
}

#[test]
fn the_banner_shows_the_control_api_and_what_makes_the_tenant_misbehave() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("misbehaving.toml");
    std::fs::write(
        &path,
        "[tenant]\napi_hostname = \"api-51000000.duosecurity.com\"\nseed = 3\n\n\
         [generate]\nusers = 4\n\n\
         [[integrations]]\nname = \"main\"\nikey = \"DIMISBEHAVING0000001\"\nskey = \"misbehavingSecretKey00000000000000000001\"\n\
         grants = [\"Grant read resource\"]\n\n\
         [[faults]]\nname = \"burst\"\npath = \"/admin/v1/users\"\ncalls = [1, 2]\nduo_error = 42901\nretry_after_s = 5\n\n\
         [[faults]]\npath = \"/admin/v1/groups*\"\nmethod = \"GET\"\nintermediary = \"cloudflare-403\"\nprobability = 0.25\n\n\
         [[churn]]\nname = \"reorg\"\nafter_list_requests = 2\ndelete_users = 1\ncreate_users = 3\n\n\
         [[changes]]\nname = \"monday\"\nafter_s = 3600\nintegration = \"main\"\nremove_grants = [\"Grant read resource\"]\n\n\
         [rate_limits]\ntotal = 80\npage = 50\nburst = 5\n",
    )
    .expect("write scenario");
    let mut served = serve(path.to_str().expect("UTF-8 path"), &[]);
    let (url, token) = (
        served.ready["control_url"].as_str().expect("url").to_owned(),
        served.ready["control_token"].as_str().expect("token").to_owned(),
    );
    let dashboard = served.ready["dashboard_url"]
        .as_str()
        .expect("dashboard_url")
        .to_owned();
    assert_eq!(dashboard, format!("{url}/dashboard?token={token}"));
    interrupt(&served.child);
    assert!(wait_exit(&mut served.child).success());
    let stdout = read_all(served.child.stdout.take());
    let stderr = read_all(served.child.stderr.take());
    for wanted in [
        format!("control API:  {url} (header X-Duo-Mock-Token: {token})"),
        format!("dashboard:    {dashboard}\n"),
        "fault rules:  2".to_owned(),
        "\"burst\": any method /admin/v1/users, calls 1 to 2 -> Duo error 429 42901 with Retry-After 5 s"
            .to_owned(),
        "\"fault #2\": GET /admin/v1/groups*, probability 0.25 -> intermediary cloudflare-403".to_owned(),
        "churn:        1 event\n".to_owned(),
        "\"reorg\": after 2 list requests: delete 1 users, create 3 users".to_owned(),
        "changes:      1 change\n".to_owned(),
        "\"monday\": 3600 s after start: integration \"main\": remove \"Grant read resource\"".to_owned(),
        "rate limits:  per integration: every request 80/min, pages 50/min; burst 5".to_owned(),
    ] {
        assert!(stdout.contains(&wanted), "the banner lacks {wanted:?}:\n{stdout}");
    }
    assert!(
        !stderr.contains(" -> "),
        "without -v, no line a request: {stderr}"
    );

    let quiet = serve("users-1.toml", &[]);
    let mut quiet = quiet;
    interrupt(&quiet.child);
    assert!(wait_exit(&mut quiet.child).success());
    let stdout = read_all(quiet.child.stdout.take());
    for wanted in [
        "fault rules:  none",
        "churn:        none",
        "changes:      none",
        "rate limits:  none",
    ] {
        assert!(stdout.contains(wanted), "{wanted:?}:\n{stdout}");
    }
}

#[test]
fn an_msp_scenario_shows_its_children_in_the_banner_ready_file_and_dump() {
    let mut served = serve("msp.toml", &[]);
    let accounts = served.ready["accounts"].as_array().expect("accounts").clone();
    assert_eq!(accounts.len(), 3);
    interrupt(&served.child);
    assert!(wait_exit(&mut served.child).success());
    let stdout = read_all(served.child.stdout.take());
    assert!(
        stdout.contains(
            "Accounts API keys: POST /accounts/v1/account/list, and Admin API calls with account_id"
        ),
        "{stdout}"
    );
    for account in &accounts {
        let line = format!(
            "child account {}: account_id {} api_hostname {}",
            account["name"],
            account["account_id"].as_str().expect("id"),
            account["api_hostname"].as_str().expect("host")
        );
        assert!(stdout.contains(&line), "the banner lacks {line:?}:\n{stdout}");
    }
    // dump --account: the child's tenant, the same bytes each time, no integrations of its own.
    let id = accounts[0]["account_id"].as_str().expect("id");
    let dump = || {
        duo_mock()
            .args(["dump", "--account", id, "--scenario"])
            .arg(scenario_path("msp.toml"))
            .output()
            .expect("dump runs")
    };
    let (first, second) = (dump(), dump());
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(first.stdout, second.stdout);
    let child: Value = serde_json::from_slice(&first.stdout).expect("JSON");
    assert_eq!(child["users"].as_array().map(Vec::len), Some(60));
    assert_eq!(child["integrations"], serde_json::json!([]));
    let unknown = duo_mock()
        .args(["dump", "--account", "DA0000000000000000NO", "--scenario"])
        .arg(scenario_path("msp.toml"))
        .output()
        .expect("dump runs");
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no child account \"DA0000000000000000NO\""),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}
