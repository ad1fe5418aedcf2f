//! `duo-conformance run` as CI uses it: listing and selecting cases, reports, the ledger, and the
//! exit codes (0 every case passed, 1 a case failed, 2 the kit could not run).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{broken_collector_command, broken_connector_command, catalogue};

fn kit() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_duo-conformance"));
    // The repository root, as CI runs it.
    command.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    command.arg("run");
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("duo-conformance starts");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

#[test]
fn list_prints_every_case_and_runs_nothing() {
    let (code, stdout, _) = run(kit().arg("--list"));
    assert_eq!(code, 0);
    let cases = catalogue();
    for case in &cases {
        assert!(stdout.contains(&case.id), "{} not listed", case.id);
        assert!(
            stdout.contains(&case.must),
            "{}: MUST statement not listed",
            case.id
        );
    }
    assert!(stdout.ends_with(&format!("{} cases\n", cases.len())), "{stdout}");
}

#[test]
fn partitions_split_the_selection_without_overlap() {
    let ids = |k: &str| -> Vec<String> {
        let (code, stdout, _) = run(kit().args(["--list", "--category", "auth", "--partition", k]));
        assert_eq!(code, 0);
        stdout
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.starts_with("auth-"))
            .map(str::to_owned)
            .collect()
    };
    let (first, second) = (ids("1/2"), ids("2/2"));
    assert!(!first.is_empty() && !second.is_empty());
    assert!(first.iter().all(|id| !second.contains(id)));
    let auth = catalogue()
        .into_iter()
        .filter(|c| c.id.starts_with("auth-"))
        .count();
    assert_eq!(first.len() + second.len(), auth);
}

#[test]
fn bad_selections_and_flags_exit_2() {
    let (code, _, stderr) = run(kit().args(["--case", "sync-nothing-like-this"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("matches no case"), "{stderr}");
    let (code, _, stderr) = run(kit().args(["--category", "everything"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown category"), "{stderr}");
    let (code, _, stderr) = run(kit().args(["--partition", "3/2", "--list"]));
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = run(kit().args(["--report", "xml=out.xml", "--list"]));
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_passing_run_exits_0_and_writes_every_report() {
    let dir = scratch("reports");
    let (junit, json, markdown, html) = (
        dir.join("r.xml"),
        dir.join("r.json"),
        dir.join("r.md"),
        dir.join("r.html"),
    );
    let (code, stdout, stderr) = run(kit()
        .args([
            "--case",
            "sync-1-user",
            "--case",
            "auth-wrong-skey",
            "--jobs",
            "2",
        ])
        .args(["--connector", &broken_connector_command("none")])
        .arg(format!("--report=junit={}", junit.display()))
        .arg(format!("--report=json={}", json.display()))
        .arg(format!("--report=markdown={}", markdown.display()))
        .arg(format!("--report=html={}", html.display())));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("✔ sync-1-user"), "{stdout}");
    assert!(stdout.ends_with("2 passed, 0 failed\n"), "{stdout}");

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        xml.matches("<testsuite ").count(),
        2,
        "one suite per category: {xml}"
    );
    assert!(xml.contains("<testcase classname=\"auth\" name=\"auth-wrong-skey: The right integration key with a wrong secret key\""));
    assert!(
        xml.contains("<testcase classname=\"sync\" name=\"sync-1-user: A tenant with exactly one user\"")
    );

    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        report["summary"],
        serde_json::json!({"passed": 2, "failed": 0, "skipped": 0, "expected_failures": 0})
    );
    assert_eq!(report["kit_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["cases"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["cases"][0]["id"], "auth-wrong-skey", "catalogue order");

    let md = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        md.starts_with("## Duo connector conformance: 2 passed, 0 failed"),
        "{md}"
    );

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert_eq!(page.matches("<tr class=\"case\"").count(), 2);
    assert!(!page.contains("<svg"), "passed cases draw no timeline");
}

#[test]
fn a_failing_case_exits_1_with_its_reason_and_keeps_its_artifacts() {
    let dir = scratch("artifacts");
    let html = scratch("artifacts-report").join("report.html");
    let (code, stdout, _) = run(kit()
        .args(["--case", "sync-301-users", "--case", "sync-1-user"])
        .args(["--connector", &broken_connector_command("ignores-paging")])
        .arg(format!("--report=html={}", html.display()))
        .arg("--artifacts")
        .arg(&dir));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("✖ sync-301-users"), "{stdout}");
    assert!(
        stdout.contains("snapshot differs from the tenant: users: 1 of 301 missing, first DU"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!(
            "1 passed, 1 failed\nEach failed case's output, stdout, stderr and request journal are in {}/<case id>/\n",
            dir.display()
        )),
        "{stdout}"
    );
    for kept in ["output.json", "stderr.txt", "journal.jsonl"] {
        assert!(dir.join("sync-301-users").join(kept).is_file(), "{kept} not kept");
    }
    assert!(!dir.join("sync-1-user").exists(), "a passing case leaves nothing");

    // The HTML report draws the failed case's requests: the one page it read, answered 200.
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<svg class=\"timeline\"").count(), 1, "{page}");
    assert!(
        page.contains("<rect class=\"bar s-2xx\" data-status=\"200\""),
        "{page}"
    );
    assert!(
        page.contains("GET /admin/v1/users?limit=300&amp;offset=0 → 200"),
        "{page}"
    );
}

#[test]
fn a_crashing_connector_shows_the_end_of_its_stderr_masked_and_points_to_artifacts() {
    let dir = scratch("crash");
    let skey_file = dir.join("skey");
    // A connector that dies as an uncaught exception does, after logging its request.
    let connector = format!(
        r#"printf %s "$DUO_SKEY" > '{}'
echo 'Traceback (most recent call last):' >&2
echo "  GET /admin/v1/users Authorization: Basic $(printf 'DIXX:%s' "$DUO_SKEY" | base64 | tr -d '\n')" >&2
echo "ValueError: cannot use key $DUO_SKEY" >&2
exit 1"#,
        skey_file.display()
    );
    let crash = |extra: &[&std::ffi::OsStr]| {
        run(kit()
            .args(["--case", "sync-1-user", "--connector", &connector])
            .args(extra))
    };
    let (code, stdout, _) = crash(&[]);
    assert_eq!(code, 1, "{stdout}");
    let skey = std::fs::read_to_string(&skey_file).unwrap();
    assert_eq!(skey.len(), 40, "the connector saw the key");
    assert!(
        stdout.contains(
            "    exited 1 but wrote nothing to DUO_OUTPUT\n    stderr (last 3 lines):\n      Traceback (most recent call last):\n        \
             GET /admin/v1/users Authorization: Basic [masked]\n      ValueError: cannot use key [masked]\n"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains(&skey), "the secret key is masked: {stdout}");
    assert_eq!(
        stdout.matches("--artifacts DIR").count(),
        1,
        "named once: {stdout}"
    );
    assert!(stdout.ends_with("run again with --artifacts DIR\n"), "{stdout}");

    let kept = dir.join("artifacts");
    let (code, stdout, _) = crash(&["--artifacts".as_ref(), kept.as_os_str()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(!stdout.contains("--artifacts DIR"), "{stdout}");
    let stderr = std::fs::read_to_string(kept.join("sync-1-user").join("stderr.txt")).unwrap();
    assert!(stderr.contains("ValueError: cannot use key [masked]"), "{stderr}");
    assert!(!stderr.contains(&skey), "the kept stderr is masked too: {stderr}");
}

#[test]
fn the_ledger_expects_listed_failures_and_refuses_stale_entries() {
    let dir = scratch("ledger");
    let ledger = dir.join("ledger.toml");
    std::fs::write(
        &ledger,
        "connector = \"a connector that ignores paging\"\n\n[[expected_failure]]\ncase = \"sync-301-users\"\nreason = \"reads one page\"\nfails_with = \"users: 1 of 301 missing\"\n",
    )
    .unwrap();
    let with = |breakage: &str| {
        run(kit()
            .args(["--case", "sync-301-users"])
            .args(["--connector", &broken_connector_command(breakage)])
            .arg("--ledger")
            .arg(&ledger))
    };
    let (code, stdout, _) = with("ignores-paging");
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.starts_with(&format!(
            "duo-conformance {}: 1 case against",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );
    assert!(stdout.contains("expected failure"), "{stdout}");
    assert!(
        stdout.ends_with("0 passed, 0 failed (1 expected failure)\n"),
        "{stdout}"
    );
    let (code, stdout, _) = with("none");
    assert_eq!(
        code, 1,
        "a ledger entry that no longer fails fails the run: {stdout}"
    );
    assert!(stdout.contains("remove the entry"), "{stdout}");

    std::fs::write(
        &ledger,
        "connector = \"x\"\n[[expected_failure]]\ncase = \"sync-302-users\"\nreason = \"r\"\n",
    )
    .unwrap();
    let (code, _, stderr) = with("none");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("ledger.toml:3:8: no case \"sync-302-users\" in the catalogue"),
        "{stderr}"
    );
}

#[test]
fn connectors_that_break_the_contract_fail_their_cases() {
    // A usage error (exit 2) and a command that does not exist (the shell's 127) are case
    // failures with the reason, not kit errors.
    let (code, stdout, _) = run(kit()
        .args(["--case", "sync-1-user"])
        .args(["--connector", &broken_connector_command("no-such-breakage")]));
    assert_eq!(code, 1);
    assert!(stdout.contains("exited 2 (a usage error"), "{stdout}");
    assert!(
        stdout.contains("unknown breakage"),
        "the connector's stderr is quoted: {stdout}"
    );
    // A program the line runs later that is missing: the shell's 127, named as such.
    let (code, stdout, _) = run(kit().args([
        "--case",
        "sync-1-user",
        "--connector",
        "sh -c 'nonexistent-inner-program sync'",
    ]));
    assert_eq!(code, 1);
    assert!(
        stdout.contains("exited with status 127: the shell did not find a command it was to run"),
        "{stdout}"
    );
    assert!(
        stdout.contains("nonexistent-inner-program: not found"),
        "{stdout}"
    );
}

#[test]
fn a_connector_that_cannot_start_is_named_once_before_any_case_runs() {
    for (connector, says) in [
        (
            "nonexistent-connector-cmd sync",
            "`nonexistent-connector-cmd` was not found: it is no file, shell builtin or program on PATH (sh would exit 127",
        ),
        (
            "/nonexistent/connector sync",
            "`/nonexistent/connector` was not found: no such file (sh would exit 127",
        ),
        // A file that exists but is not executable.
        (
            "conformance/CONTRACT.md sync",
            "`conformance/CONTRACT.md` is not executable (sh would exit 126",
        ),
    ] {
        let (code, stdout, stderr) = run(kit().args(["--category", "sync", "--connector", connector]));
        assert_eq!(code, 2, "the kit could not run: {stdout}{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert_eq!(stderr.matches("cannot run").count(), 1, "said once: {stderr}");
        assert!(stdout.is_empty(), "no case ran: {stdout}");
    }
}

#[test]
fn without_a_bundled_connector_the_kit_says_how_to_get_one() {
    // A copy of the kit in a folder without duo-connector beside it.
    let dir = scratch("lonely");
    let copy = dir.join("duo-conformance");
    std::fs::hard_link(env!("CARGO_BIN_EXE_duo-conformance"), &copy)
        .or_else(|_| std::fs::copy(env!("CARGO_BIN_EXE_duo-conformance"), &copy).map(|_| ()))
        .unwrap();
    let (code, _, stderr) = run(Command::new(&copy)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["run", "--case", "sync-1-user"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cargo build -p connector --bin duo-connector"),
        "{stderr}"
    );
}

#[test]
fn logs_cases_list_their_l_rows_and_run_alone_with_reports() {
    let (code, stdout, _) = run(kit().args(["--list", "--category", "logs"]));
    assert_eq!(code, 0);
    let logs: Vec<_> = catalogue().into_iter().filter(|c| c.logs.is_some()).collect();
    assert!(stdout.ends_with(&format!("{} cases\n", logs.len())), "{stdout}");
    assert!(
        stdout.contains("logs-sink-unwritable") && stdout.contains("[L1, L2]"),
        "{stdout}"
    );

    let dir = scratch("logs");
    let junit = dir.join("logs.xml");
    let json = dir.join("logs.json");
    let (code, stdout, stderr) = run(kit()
        .args([
            "--case",
            "logs-one-page",
            "--case",
            "logs-nothing-settled",
            "--collector",
        ])
        .arg(broken_collector_command("none"))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("json={}", json.display())));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    let junit = std::fs::read_to_string(junit).unwrap();
    assert!(
        junit.contains("logs-one-page") && junit.contains("\"logs\""),
        "{junit}"
    );
    let json = std::fs::read_to_string(json).unwrap();
    assert!(
        json.contains("\"category\":\"logs\"") || json.contains("\"category\": \"logs\""),
        "{json}"
    );
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    let one_page = document["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "logs-one-page")
        .unwrap();
    assert_eq!(one_page["rows"], serde_json::json!(["L16"]), "{json}");
    assert!(
        junit.contains("Ten minutes of authentication events, one page [L16]"),
        "{junit}"
    );

    // The same case against a collector that skips the settle time fails, naming the request.
    let (code, stdout, _) = run(kit()
        .args(["--case", "logs-one-page", "--collector"])
        .arg(broken_collector_command("ignores-settle")));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("L8: maxtime is") && stdout.contains("GET /admin/v2/logs/authentication?"),
        "{stdout}"
    );
}

#[test]
fn a_connector_alone_leaves_the_logs_cases_out() {
    let (code, stdout, _) = run(kit()
        .args(["--connector"])
        .arg(broken_connector_command("none"))
        .args([
            "--exclude",
            "sync-*",
            "--exclude",
            "pagination-*",
            "--exclude",
            "permissions-*",
        ])
        .args([
            "--exclude",
            "intermediaries-*",
            "--exclude",
            "rate-limits-*",
            "--exclude",
            "auth-*",
        ])
        .args(["--exclude", "server-errors-*", "--exclude", "drift-*"]));
    let logs = catalogue().iter().filter(|c| c.logs.is_some()).count();
    assert!(
        stdout.contains(&format!("{logs} logs cases left out")),
        "{code} {stdout}"
    );
    assert!(stdout.contains("0 passed"), "{stdout}");
}
