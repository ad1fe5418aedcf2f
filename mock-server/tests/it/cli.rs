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
struct Served {
    child: Child,
    ready: Value,
    ready_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(scenario: &str, extra: &[&str]) -> Served {
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
    assert_eq!(integrations.len(), 3);
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
