//! `duo-connector watch` and `evidence` as processes against the fake: changes made between runs
//! (through the fake's write endpoints and its control API) come out as the right events; failed
//! runs are recorded and change nothing else; rate limits stretch the schedule; SIGTERM and
//! kill -9 leave a consistent database; the evidence pack's manifest hashes its files.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duo_connector::events::AccessEvent;
use duo_connector::sqlite::SnapshotStore;
use mock_server::Scenario;
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{Fake, assert_equals_dump, assert_exit, scenario, spawn};

/// A Duo-shaped id: `prefix` and `name`, padded with zeros to 20 characters.
fn id(prefix: &str, name: &str) -> String {
    format!("{prefix}{:0<18}", name.to_uppercase())
}

/// A small tenant written out with fixed ids, so a variant of it loaded later keeps every id.
/// `changed` is the variant: Alice loses her token, Hank is promoted, Rita leaves, Ann arrives,
/// Break-glass goes into bypass.
fn tenant(changed: bool) -> String {
    let (alice_methods, hank_role, break_glass) = if changed {
        ("enrolled = false", "Administrator", "bypass")
    } else {
        ("phones = 0\ntokens = 1", "Help Desk", "active")
    };
    let users = [
        ("alice", alice_methods, r#"["Engineering"]"#),
        ("bob", "phones = 1", r#"["Sales"]"#),
        ("carol", "phones = 1", r#"["Engineering"]"#),
        ("dave", "phones = 1", "[]"),
        ("erin", "phones = 1", r#"["Engineering", "Sales"]"#),
    ]
    .map(|(name, methods, groups)| {
        format!(
            "[[users]]\nusername = \"{name}\"\nuser_id = \"{}\"\nstatus = \"active\"\n{methods}\ngroups = {groups}\n",
            id("DU", name)
        )
    })
    .join("\n");
    let mut admins = vec![("olivia", "Owner"), ("hank", hank_role)];
    admins.push(if changed {
        ("ann", "Security Analyst")
    } else {
        ("rita", "Read-only")
    });
    let admins = admins
        .iter()
        .map(|(name, role)| {
            format!(
                "[[admins]]\nname = \"{name}\"\nemail = \"{name}@acme.example\"\nadmin_id = \"{}\"\nrole = \"{role}\"\nstatus = \"Active\"\n",
                id("DE", name)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let groups = [
        ("Engineering", "active"),
        ("Sales", "active"),
        ("Break-glass", break_glass),
    ]
    .map(|(name, status)| {
        format!(
            "[[groups]]\nname = \"{name}\"\ngroup_id = \"{}\"\nstatus = \"{status}\"\n",
            id("DG", &name.replace('-', ""))
        )
    })
    .join("\n");
    format!(
        r#"description = "issue 18: a tenant watched while it changes"

[tenant]
api_hostname = "api-3fdf2348.duosecurity.com"
seed = 18
email_domain = "acme.example"

[[integrations]]
name = "monitor"
ikey = "DI29326ML64LG2TJF8CZ"
skey = "9CPVNPkNa1Hedcm4pMbXDuCL1mHoOsFaQfDPrAJ7"
grants = ["Grant read resource", "Grant write resource", "Grant administrators", "Grant read information"]

{groups}
{users}
{admins}"#
    )
}

/// A running `duo-connector watch`; killed (SIGKILL) if the test ends without stopping it.
struct Watch {
    child: Child,
    stderr: Arc<Mutex<String>>,
    /// Reads the stderr pipe; joined once the process has exited, so `stderr` then holds all of it.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    fn start(fake: &Fake, args: &[&str]) -> Self {
        let mut child = fake
            .connector(None)
            .arg("watch")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buffer) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Self {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit; the exit code and how long it took.
    async fn terminate(&mut self) -> (Option<i32>, Duration) {
        let signalled = Instant::now();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let code = self.wait_exit(Duration::from_secs(20)).await;
        (code, signalled.elapsed())
    }

    /// Waits up to `limit` for the process to end; its exit code.
    async fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The last lines may still be in the pipe: read them before anyone looks.
                if let Some(reader) = self.reader.take() {
                    reader.join().unwrap();
                }
                return status.code();
            }
            assert!(Instant::now() < deadline, "still running: {}", self.stderr());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL, as `kill -9`.
    fn kill_9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A number read from the database as another process sees it (0 when there is no such table yet).
fn count(database: &Path, sql: &str) -> i64 {
    let Ok(connection) = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return 0;
    };
    let _ = connection.busy_timeout(Duration::from_secs(5));
    connection.query_row(sql, [], |row| row.get(0)).unwrap_or(0)
}

/// Waits (up to 20 s) until `sql` counts at least `at_least`.
async fn wait_for(watch: &Watch, database: &Path, sql: &str, at_least: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(database, sql) < at_least {
        assert!(
            Instant::now() < deadline,
            "waiting for {sql} ≥ {at_least}: {}",
            watch.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const RUNS: &str = "SELECT COUNT(*) FROM runs";
const FAILED_RUNS: &str = "SELECT COUNT(*) FROM failed_runs";

fn read_events(path: &Path) -> Vec<AccessEvent> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// An event as the assertions compare it: kind, object, old, new.
type Essence = (String, Value, Value, Value);

/// The same events, in any order, none twice.
fn assert_same_events(seen: &[Essence], expected: &[Essence]) {
    for (i, event) in seen.iter().enumerate() {
        assert!(expected.contains(event), "unexpected: {event:?}");
        assert!(!seen[..i].contains(event), "twice: {event:?}");
    }
    for event in expected {
        assert!(seen.contains(event), "missing: {event:?}");
    }
}

fn essence(event: &AccessEvent) -> Essence {
    let object = serde_json::to_value(&event.object).unwrap();
    (
        event.kind.as_str().to_owned(),
        object,
        event.old.clone(),
        event.new.clone(),
    )
}

/// `PRAGMA integrity_check` is ok, and every recorded run loads whole, equal to `dump`.
fn assert_consistent(database: &Path, dump: &Value) -> usize {
    let connection = Connection::open(database).unwrap();
    let check: String = connection
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(connection);
    let store = SnapshotStore::open(database).unwrap();
    let runs = store.runs().unwrap();
    // The tenant did not change: the first run equals the dump, and every other run is the first,
    // byte for byte but for its time.
    let mut first: Option<Vec<u8>> = None;
    for run in &runs {
        let mut snapshot = store.load(run.id).unwrap();
        assert_eq!(snapshot.users.len() as u64, run.users, "run {}", run.id);
        snapshot.synced_at.clear();
        let bytes = snapshot.to_json();
        match &first {
            None => {
                assert_equals_dump(&snapshot, dump);
                first = Some(bytes);
            }
            Some(first) => assert!(*first == bytes, "run {} differs from the first", run.id),
        }
    }
    runs.len()
}

fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("runs.sqlite"), dir.join("events.jsonl"))
}

/// `watch --every EVERY` with a database and an events file in `dir`, and quick retries.
fn watch_with_events(fake: &Fake, dir: &Path, every: &str) -> (Watch, PathBuf, PathBuf) {
    let (database, events) = paths(dir);
    let args = [
        "--every",
        every,
        "--sqlite",
        database.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--quick-retries",
    ];
    (Watch::start(fake, &args), database, events)
}

#[tokio::test]
async fn changes_made_between_runs_come_out_as_events_and_in_the_evidence_pack() {
    let fake = spawn(&Scenario::parse(&tenant(false), "<test>").unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut watch, database, events) = watch_with_events(&fake, dir.path(), "1s");
    wait_for(&watch, &database, RUNS, 1).await;
    assert_eq!(
        std::fs::read_to_string(&events).unwrap(),
        "",
        "the first run has nothing to compare"
    );

    // Between runs: a variant of the tenant through the control API, then writes on top of it.
    fake.load(&tenant(true)).await;
    let created = fake
        .write("POST", "/admin/v1/users", &[("username", "newbie")], 0)
        .await;
    let newbie = created["user_id"].as_str().unwrap().to_owned();
    let (bob, carol, dave, erin) = (
        id("DU", "bob"),
        id("DU", "carol"),
        id("DU", "dave"),
        id("DU", "erin"),
    );
    let (engineering, sales) = (id("DG", "Engineering"), id("DG", "Sales"));
    fake.write(
        "POST",
        &format!("/admin/v1/users/{bob}"),
        &[("status", "disabled")],
        0,
    )
    .await;
    fake.write("DELETE", &format!("/admin/v1/users/{carol}"), &[], 0)
        .await;
    fake.write(
        "POST",
        &format!("/admin/v1/users/{dave}/groups"),
        &[("group_id", &sales)],
        0,
    )
    .await;
    fake.write(
        "DELETE",
        &format!("/admin/v1/users/{erin}/groups/{engineering}"),
        &[],
        0,
    )
    .await;

    wait_for(&watch, &database, RUNS, 2).await;
    let (code, _) = watch.terminate().await;
    assert_eq!(code, Some(0), "{}", watch.stderr());

    let user = |name: &str, user_id: &str| json!({"type": "user", "user_id": user_id, "username": name});
    let admin = |name: &str| json!({"type": "admin", "admin_id": id("DE", name), "name": name, "email": format!("{name}@acme.example")});
    let member = |group: &str, group_id: &str, name: &str| {
        json!({"type": "group_membership", "group_id": group_id, "group_name": group,
               "user_id": id("DU", name), "username": name})
    };
    let event = |kind: &str, object: Value, old: Value, new: Value| (kind.to_owned(), object, old, new);
    let carol_mfa = {
        // Carol's one phone is generated: a landline, or a smartphone with push or passcodes.
        let run_1 = SnapshotStore::open(&database).unwrap().load(1).unwrap();
        let raw = run_1.users.iter().find(|u| u.get().contains(&carol)).unwrap();
        let carol: Value = serde_json::from_str(raw.get()).unwrap();
        let capabilities = carol["phones"][0]["capabilities"].as_array().unwrap().clone();
        let app = capabilities.iter().any(|c| c == "push" || c == "mobile_otp");
        if app { "strong" } else { "sms_or_voice_only" }
    };
    let removed_carol = json!({"status": "active", "is_enrolled": true, "mfa": carol_mfa});
    let expected = [
        event(
            "user_added",
            user("newbie", &newbie),
            Value::Null,
            json!({"status": "active", "is_enrolled": false, "mfa": "none"}),
        ),
        event("user_removed", user("carol", &carol), removed_carol, Value::Null),
        event(
            "user_status_changed",
            user("bob", &bob),
            json!("active"),
            json!("disabled"),
        ),
        event(
            "user_enrollment_changed",
            user("alice", &id("DU", "alice")),
            json!(true),
            json!(false),
        ),
        event(
            "user_mfa_changed",
            user("alice", &id("DU", "alice")),
            json!("strong"),
            json!("none"),
        ),
        event(
            "admin_added",
            admin("ann"),
            Value::Null,
            json!({"role": "Security Analyst", "status": "Active"}),
        ),
        event(
            "admin_removed",
            admin("rita"),
            json!({"role": "Read-only", "status": "Active"}),
            Value::Null,
        ),
        event(
            "admin_role_changed",
            admin("hank"),
            json!("Help Desk"),
            json!("Administrator"),
        ),
        event(
            "group_status_changed",
            json!({"type": "group", "group_id": id("DG", "Breakglass"), "name": "Break-glass"}),
            json!("active"),
            json!("bypass"),
        ),
        event(
            "group_member_added",
            member("Sales", &sales, "dave"),
            json!(false),
            json!(true),
        ),
        event(
            "group_member_removed",
            member("Engineering", &engineering, "carol"),
            json!(true),
            json!(false),
        ),
        event(
            "group_member_removed",
            member("Engineering", &engineering, "erin"),
            json!(true),
            json!(false),
        ),
    ];

    let seen = read_events(&events);
    let store = SnapshotStore::open(&database).unwrap();
    let runs = store.runs().unwrap();
    // Every change landed between runs 1 and 2; later runs (if any) saw nothing new.
    for event in &seen {
        assert_eq!((event.old_run.id, event.new_run.id), (1, 2), "{event:?}");
        assert_eq!(event.old_run.synced_at, runs[0].synced_at);
        assert_eq!(event.new_run.synced_at, runs[1].synced_at);
        assert_eq!(event.api_host, fake.api_host());
    }
    let essences: Vec<Essence> = seen.iter().map(essence).collect();
    assert_same_events(&essences, &expected);
    assert!(
        watch.stderr().contains("12 access changes since run 1"),
        "{}",
        watch.stderr()
    );

    // The evidence pack of the last run recomputes the same changes from the stored runs, and its
    // manifest hashes every file.
    let pack = dir.path().join("pack");
    let out = fake
        .connector(None)
        .args([
            "evidence",
            "--sqlite",
            database.to_str().unwrap(),
            "--out",
            pack.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(pack.join("manifest.json")).unwrap()).unwrap();
    let last = runs.last().unwrap();
    assert_eq!(manifest["api_host"], fake.api_host());
    assert_eq!(
        manifest["run"],
        json!({"id": last.id, "synced_at": last.synced_at})
    );
    assert_eq!(manifest["connector_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["counts"]["users"], last.users);
    assert_eq!(manifest["counts"]["changes"], 12);
    let files = manifest["files"].as_array().unwrap();
    let mut listed: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    listed.sort_unstable();
    let mut on_disk: Vec<String> = std::fs::read_dir(&pack)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != "manifest.json")
        .collect();
    on_disk.sort_unstable();
    assert_eq!(listed, on_disk, "every file of the pack is in the manifest");
    for file in files {
        let bytes = std::fs::read(pack.join(file["name"].as_str().unwrap())).unwrap();
        let hash = format!("{:x}", Sha256::digest(&bytes));
        assert_eq!(file["sha256"], hash.as_str(), "{file}");
        assert_eq!(file["bytes"], bytes.len(), "{file}");
    }
    let recomputed: Vec<Essence> = read_events(&pack.join("changes.jsonl"))
        .iter()
        .map(essence)
        .collect();
    assert_same_events(&recomputed, &expected);
    let review: Value = serde_json::from_slice(&std::fs::read(pack.join("review.json")).unwrap()).unwrap();
    let bypass: Vec<&str> = review["bypass_group_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(bypass.is_empty(), "Break-glass has no members: {bypass:?}");
    assert_eq!(manifest["counts"]["mfa"], review["mfa_counts"]);
}

#[tokio::test]
async fn a_failed_run_is_recorded_alone_and_the_next_compares_with_the_last_good_one() {
    let fake = spawn(&Scenario::parse(&tenant(false), "<test>").unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut watch, database, events) = watch_with_events(&fake, dir.path(), "500ms");
    wait_for(&watch, &database, RUNS, 1).await;
    // Duo's clock jumps: the next runs fail with clock_skew. A write made meanwhile (signed for
    // the fake's clock) is seen by the first good run after, compared with run 1.
    fake.set_clock(3600).await;
    let bob = id("DU", "bob");
    fake.write(
        "POST",
        &format!("/admin/v1/users/{bob}"),
        &[("status", "bypass")],
        3600,
    )
    .await;
    wait_for(&watch, &database, FAILED_RUNS, 1).await;
    assert_eq!(count(&database, RUNS), 1, "a failed run is not a run");
    assert_eq!(std::fs::read_to_string(&events).unwrap(), "", "and has no events");
    fake.set_clock(0).await;
    wait_for(&watch, &database, RUNS, 2).await;
    let (code, _) = watch.terminate().await;
    assert_eq!(code, Some(0), "{}", watch.stderr());

    let store = SnapshotStore::open(&database).unwrap();
    let failed = store.failed_runs().unwrap();
    assert!(
        failed
            .iter()
            .all(|f| f.kind == "clock_skew" && f.http_status == Some(401)),
        "{failed:?}"
    );
    assert_eq!(failed[0].duo_code, Some(40105));
    assert!(failed[0].started_at <= failed[0].failed_at);
    let seen = read_events(&events);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].kind.as_str(), "user_status_changed");
    assert_eq!((&seen[0].old, &seen[0].new), (&json!("active"), &json!("bypass")));
    assert_eq!((seen[0].old_run.id, seen[0].new_run.id), (1, 2));
    assert!(watch.stderr().contains("clock_skew"), "{}", watch.stderr());
}

#[tokio::test]
async fn rate_limits_stretch_the_pause_and_every_failed_run_is_recorded() {
    let fake = spawn(&scenario("catalogue/d09-rate-limit-persistent.toml")).await;
    let dir = tempfile::tempdir().unwrap();
    let (database, _) = paths(dir.path());
    let started = Instant::now();
    let mut watch = Watch::start(
        &fake,
        &[
            "--every",
            "100ms",
            "--runs",
            "3",
            "--sqlite",
            database.to_str().unwrap(),
            "--quick-retries",
        ],
    );
    // With --runs, a watch whose last run failed exits 1.
    assert_eq!(
        watch.wait_exit(Duration::from_secs(30)).await,
        Some(1),
        "{}",
        watch.stderr()
    );
    let stderr = watch.stderr();
    let waits: Vec<&str> = stderr.lines().filter(|l| l.starts_with("next run in")).collect();
    assert_eq!(
        waits,
        [
            "next run in 200ms (stretched: rate limited)",
            "next run in 400ms (stretched: rate limited)"
        ],
        "{stderr}"
    );
    assert!(started.elapsed() >= Duration::from_millis(600));
    let store = SnapshotStore::open(&database).unwrap();
    assert!(store.runs().unwrap().is_empty());
    let failed = store.failed_runs().unwrap();
    assert_eq!(failed.len(), 3);
    assert!(
        failed
            .iter()
            .all(|f| f.kind == "rate_limited" && f.duo_code == Some(42901)),
        "{failed:?}"
    );
}

#[tokio::test]
async fn sigterm_between_runs_and_during_a_run_exits_0_with_every_finished_run_whole() {
    // The second admins request (run 2's) stalls for 30 s: a run in progress to stop.
    let stalled = format!(
        "{}\n[[faults]]\nname = \"stall\"\npath = \"/admin/v1/admins\"\ncalls = [2, 1000]\ndelay_ms = 30000\n",
        std::fs::read_to_string(crate::support::root().join("scenarios/default.toml")).unwrap()
    );
    let fake = spawn(&Scenario::parse(&stalled, "<test>").unwrap()).await;
    let dump = fake.dump().await;
    let dir = tempfile::tempdir().unwrap();
    let (database, _) = paths(dir.path());
    let db = database.to_str().unwrap();

    // Between runs: a 30 s pause is cut short.
    let mut watch = Watch::start(&fake, &["--every", "30s", "--sqlite", db]);
    wait_for(&watch, &database, RUNS, 1).await;
    let (code, took) = watch.terminate().await;
    assert_eq!(code, Some(0), "{}", watch.stderr());
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(
        watch.stderr().contains("stopped: 1 run recorded, 0 failed"),
        "{}",
        watch.stderr()
    );

    // During a run: the second run waits on the stalled answer when the signal comes.
    let mut watch = Watch::start(&fake, &["--every", "100ms", "--sqlite", db]);
    let users_read =
        |journal: &[(String, String, u16)]| journal.iter().filter(|(p, ..)| p == "/admin/v1/users").count();
    let deadline = Instant::now() + Duration::from_secs(20);
    // This process's first run (its admins read is the fake's second: stalled) is in progress
    // once its users list (two pages, as the first process's) was answered.
    while users_read(&fake.journal().await) < 4 {
        assert!(Instant::now() < deadline, "{}", watch.stderr());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, took) = watch.terminate().await;
    assert_eq!(code, Some(0), "{}", watch.stderr());
    assert!(
        took < Duration::from_secs(5),
        "stopped within seconds, not after the stall: {took:?}"
    );
    assert_eq!(
        assert_consistent(&database, &dump),
        1,
        "the stopped run left nothing"
    );
    assert_eq!(count(&database, FAILED_RUNS), 0);
}

#[tokio::test]
async fn kill_9_at_any_moment_leaves_every_finished_run_whole() {
    let fake = spawn(&scenario("default.toml")).await;
    let dump = fake.dump().await;
    let dir = tempfile::tempdir().unwrap();
    let (database, _) = paths(dir.path());
    let mut recorded = 0;
    // Back-to-back runs, killed at staggered moments: in a sync, in a transaction, between.
    for (round, after_ms) in [180u64, 260, 340, 220, 300].into_iter().enumerate() {
        let mut watch = Watch::start(&fake, &["--every", "1ms", "--sqlite", database.to_str().unwrap()]);
        if round == 0 {
            wait_for(&watch, &database, RUNS, 1).await;
        }
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        watch.kill_9();
        let runs = assert_consistent(&database, &dump);
        assert!(runs >= recorded, "no finished run lost: {runs} < {recorded}");
        recorded = runs;
    }
    assert!(recorded >= 2, "runs were recorded across the kills: {recorded}");
}
