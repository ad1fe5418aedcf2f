//! The access-review evidence pack: from the runs recorded in SQLite, the review of one run
//! (Markdown, CSV, JSON), the access changes of a period (JSON Lines and Markdown), and a
//! `manifest.json` naming the tenant, the run, the connector's version, the counts and the
//! SHA-256 of every other file, so an auditor can tell the pack was not edited.
//!
//! The pack depends only on the file and the options: the review is judged as of the run's own
//! sync time, not the clock, so the same database and flags give the same bytes.
//!
//! ```no_run
//! # fn example() -> Result<(), duo_connector::Error> {
//! use duo_connector::{evidence, sqlite::SnapshotStore};
//! let store = SnapshotStore::open(std::path::Path::new("runs.sqlite"))?;
//! let options = evidence::EvidenceOptions {
//!     since: Some(evidence::parse_since("2026-01-01")?),
//!     ..evidence::EvidenceOptions::default()
//! };
//! let manifest = evidence::write_evidence(&store, std::path::Path::new("pack"), &options)?;
//! println!("{} changes since 2026-01-01", manifest.counts.changes);
//! # Ok(()) }
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::contract::write_whole;
use crate::diff::{diff, markdown_cell};
use crate::error::Error;
use crate::events::{AccessEvent, RunRef, events_of};
use crate::review::{DEFAULT_INACTIVE_DAYS, MfaCounts, ReviewOptions, review};
use crate::sqlite::{FailedRun, RunSummary, SnapshotStore};

/// The manifest's file name; every other file of the pack is listed in it.
pub const MANIFEST: &str = "manifest.json";

/// Which run, which period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceOptions {
    /// The run to review; `None`: the latest.
    pub run: Option<i64>,
    /// Changes from runs synced at or after this instant; `None`: from every recorded run.
    pub since: Option<Since>,
    /// The review's inactivity threshold, in days.
    pub inactive_days: u32,
}

impl Default for EvidenceOptions {
    fn default() -> Self {
        Self {
            run: None,
            since: None,
            inactive_days: DEFAULT_INACTIVE_DAYS,
        }
    }
}

/// The start of the period, as `--since` gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since {
    /// Unix seconds.
    pub unix: i64,
    /// RFC 3339 in UTC, to the second, as the manifest shows it.
    pub rfc3339: String,
}

/// Reads `--since`: a date (`2026-01-31`, midnight UTC) or an RFC 3339 time.
pub fn parse_since(text: &str) -> Result<Since, Error> {
    let text = text.trim();
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_owned()
    };
    let unix = unix_seconds(&full).ok_or_else(|| {
        Error::Config(format!(
            "--since {text:?} is not a date (2026-01-31) or an RFC 3339 time (2026-01-31T09:00:00Z)"
        ))
    })?;
    Ok(Since {
        unix,
        rfc3339: rfc3339(unix),
    })
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The tenant reviewed.
    pub api_host: String,
    /// The run reviewed.
    pub run: RunRef,
    /// `duo-connector`'s version.
    pub connector_version: String,
    /// The start of the period of the changes; `null`: every recorded run.
    pub since: Option<String>,
    /// The run the first comparison of the period started from; `null` when there was none.
    pub changes_from: Option<RunRef>,
    /// The review's inactivity threshold, in days.
    pub inactive_days: u32,
    /// What the pack holds, in numbers.
    pub counts: PackCounts,
    /// Every other file of the pack, with its size and SHA-256.
    pub files: Vec<PackFile>,
}

/// The numbers of a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackCounts {
    /// Users in the run.
    pub users: usize,
    /// Administrators in the run.
    pub admins: usize,
    /// Groups in the run.
    pub groups: usize,
    /// Users per MFA posture.
    pub mfa: MfaCounts,
    /// Active users with posture `none` or `sms_or_voice_only`.
    pub weak_mfa: usize,
    /// Users flagged `bypass` (by status or by group).
    pub bypass: usize,
    /// Consecutive pairs of runs compared for the changes.
    pub runs_compared: usize,
    /// Access changes in the period.
    pub changes: usize,
    /// Syncs that failed in the period.
    pub failed_runs: usize,
}

/// One file of the pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackFile {
    /// Its name in the pack's folder.
    pub name: String,
    /// Its size.
    pub bytes: usize,
    /// The SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

/// Writes the pack for `options` into `out` (made if missing) and returns its manifest. Files of
/// the same names are replaced, each whole; other files in `out` are left alone.
pub fn write_evidence(
    store: &SnapshotStore,
    out: &Path,
    options: &EvidenceOptions,
) -> Result<Manifest, Error> {
    let runs = store.runs()?;
    let chosen = match options.run {
        Some(id) => runs.iter().find(|r| r.id == id).ok_or_else(|| {
            Error::Config(format!(
                "run {id} is not recorded in this file (see its `runs` table)"
            ))
        })?,
        None => runs
            .last()
            .ok_or_else(|| Error::Config("no run is recorded in this file yet".to_owned()))?,
    };
    let snapshot = store.load(chosen.id)?;
    let run = RunRef::new(chosen.id, &chosen.synced_at);
    let summary = review(
        &snapshot,
        &ReviewOptions {
            inactive_days: options.inactive_days,
            // The run's own time: the pack is the same whenever it is made.
            now_unix: unix_seconds(&chosen.synced_at).unwrap_or_default(),
        },
    )?;

    let period = Period::of(&runs, chosen, options.since.as_ref());
    let mut events = Vec::new();
    let mut compared = Vec::new();
    if let Some((first, rest)) = period.runs.split_first() {
        let mut previous = (RunRef::new(first.id, &first.synced_at), store.load(first.id)?);
        for next in rest {
            let current = (RunRef::new(next.id, &next.synced_at), store.load(next.id)?);
            let changes = diff(&previous.1, &current.1)?;
            events.extend(events_of(&changes, &previous.0, &current.0));
            compared.push((previous.0, current.0.clone(), changes));
            previous = current;
        }
    }
    let failed: Vec<FailedRun> = store
        .failed_runs()?
        .into_iter()
        .filter(|f| f.api_host == chosen.api_host && period.holds(&f.failed_at))
        .collect();

    let mut changes_md = format!("# Access changes: {}\n\n", markdown_cell(&chosen.api_host));
    let _ = writeln!(changes_md, "- Up to run {} (synced at {})", run.id, run.synced_at);
    match &options.since {
        Some(since) => {
            let _ = writeln!(changes_md, "- Runs synced at or after {}", since.rfc3339);
        }
        None => changes_md.push_str("- Every recorded run\n"),
    }
    let with_changes = compared.iter().filter(|(.., c)| !c.is_empty()).count();
    let _ = writeln!(
        changes_md,
        "- {} of consecutive runs, {with_changes} with changes; {} in all",
        counted(compared.len(), "comparison"),
        counted(events.len(), "change")
    );
    let _ = write!(changes_md, "\n## Failed runs ({})\n\n", failed.len());
    if failed.is_empty() {
        changes_md.push_str("None.\n");
    } else {
        changes_md.push_str("| Failed run | Started | Failed | Kind | Message |\n|---|---|---|---|---|\n");
        for f in &failed {
            let _ = writeln!(
                changes_md,
                "| {} | {} | {} | {} | {} |",
                f.id,
                f.started_at,
                f.failed_at,
                f.kind,
                markdown_cell(&f.message)
            );
        }
    }
    for (old, new, changes) in compared.iter().filter(|(.., c)| !c.is_empty()) {
        let _ = write!(
            changes_md,
            "\n## Run {} ({}) against run {} ({})\n\n**Summary:** {}\n\n{}",
            new.id,
            new.synced_at,
            old.id,
            old.synced_at,
            changes.summary(),
            changes.render_markdown_table()
        );
    }
    let changes_jsonl: String = events.iter().map(AccessEvent::to_line).collect();

    let contents: [(&str, String); 5] = [
        ("review.md", summary.render_markdown()),
        ("review.csv", summary.render_csv()),
        ("review.json", summary.render_json()),
        ("changes.jsonl", changes_jsonl),
        ("changes.md", changes_md),
    ];
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut files = Vec::with_capacity(contents.len());
    for (name, text) in &contents {
        write_whole(&out.join(name), text.as_bytes())?;
        files.push(PackFile {
            name: (*name).to_owned(),
            bytes: text.len(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        });
    }
    let manifest = Manifest {
        api_host: chosen.api_host.clone(),
        run,
        connector_version: env!("CARGO_PKG_VERSION").to_owned(),
        since: options.since.as_ref().map(|s| s.rfc3339.clone()),
        changes_from: period.runs.first().map(|r| RunRef::new(r.id, &r.synced_at)),
        inactive_days: options.inactive_days,
        counts: PackCounts {
            users: summary.user_count,
            admins: summary.admin_count,
            groups: summary.group_count,
            mfa: summary.mfa_counts,
            weak_mfa: summary.weak_mfa.len(),
            bypass: summary.users.iter().filter(|u| u.bypass).count(),
            runs_compared: compared.len(),
            changes: events.len(),
            failed_runs: failed.len(),
        },
        files,
    };
    // A struct of strings and numbers always serializes.
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    write_whole(&out.join(MANIFEST), text.as_bytes())?;
    Ok(manifest)
}

/// The runs whose changes a pack reports: the chosen run's tenant's runs up to it, those synced
/// in the period, and the one before them to compare the first with.
struct Period<'a> {
    runs: Vec<&'a RunSummary>,
    since: Option<i64>,
    until: Option<i64>,
}

impl<'a> Period<'a> {
    fn of(runs: &'a [RunSummary], chosen: &RunSummary, since: Option<&Since>) -> Self {
        let of_tenant: Vec<&RunSummary> = runs
            .iter()
            .filter(|r| r.api_host == chosen.api_host && r.id <= chosen.id)
            .collect();
        let first_in = match since {
            None => 0,
            // A time that cannot be read counts as in the period: evidence errs on showing more.
            Some(since) => of_tenant
                .iter()
                .position(|r| unix_seconds(&r.synced_at).is_none_or(|at| at >= since.unix))
                .unwrap_or(of_tenant.len()),
        };
        Self {
            runs: of_tenant[first_in.saturating_sub(1)..].to_vec(),
            since: since.map(|s| s.unix),
            until: unix_seconds(&chosen.synced_at),
        }
    }

    /// `stamp` (RFC 3339) falls in the period: at or after `since`, not after the chosen run.
    fn holds(&self, stamp: &str) -> bool {
        let Some(at) = unix_seconds(stamp) else {
            return true;
        };
        self.since.is_none_or(|since| at >= since) && self.until.is_none_or(|until| at <= until)
    }
}

/// `1 change`, `2 changes`.
fn counted(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

fn unix_seconds(rfc3339: &str) -> Option<i64> {
    let at = humantime::parse_rfc3339_weak(rfc3339).ok()?;
    let seconds = at.duration_since(UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(seconds).ok()
}

fn rfc3339(unix: i64) -> String {
    let at = UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(unix).unwrap_or_default());
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::test_snapshot as snapshot;

    fn user(id: &str, name: &str, status: &str) -> String {
        format!(r#"{{"user_id":"{id}","username":"{name}","status":"{status}","last_login":1767000000}}"#)
    }

    /// Four runs of one tenant a day apart (alice disabled on day 2, bob added on day 4) and one
    /// run of another tenant; a failure on day 3.
    fn store() -> (tempfile::TempDir, SnapshotStore) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SnapshotStore::open(&dir.path().join("runs.sqlite")).unwrap();
        let alice = |status| user("DU1", "alice", status);
        for (day, users) in [
            ("01", alice("active")),
            ("02", alice("disabled")),
            ("03", alice("disabled")),
            ("04", [alice("disabled"), user("DU2", "bob", "active")].join(",")),
        ] {
            store
                .record(&snapshot(&format!("2026-01-{day}T12:00:00Z"), &users, "", "", ""))
                .unwrap();
        }
        let mut other = snapshot("2026-01-04T13:00:00Z", "", "", "", "");
        other.api_host = "api-other.duosecurity.com".into();
        store.record(&other).unwrap();
        let failure = crate::Failure::new(crate::ErrorKind::Network, "refused");
        store
            .record_failure(
                "api-test.duosecurity.com",
                "2026-01-03T18:00:00Z",
                "2026-01-03T18:00:05Z",
                &failure.into(),
            )
            .unwrap();
        (dir, store)
    }

    #[test]
    fn since_reads_dates_and_times() {
        assert_eq!(parse_since("2026-01-31").unwrap().rfc3339, "2026-01-31T00:00:00Z");
        let time = parse_since("2026-01-31T07:30:00Z").unwrap();
        assert_eq!(
            (time.unix, time.rfc3339.as_str()),
            (1_769_844_600, "2026-01-31T07:30:00Z")
        );
        let error = parse_since("last tuesday").unwrap_err().to_string();
        assert!(error.contains("--since \"last tuesday\""), "{error}");
    }

    #[test]
    fn the_changes_of_the_period_come_from_consecutive_runs_of_the_tenant() {
        let (dir, store) = store();
        let out = dir.path().join("pack");
        let options = EvidenceOptions {
            run: Some(4),
            since: Some(parse_since("2026-01-03").unwrap()),
            ..EvidenceOptions::default()
        };
        let manifest = write_evidence(&store, &out, &options).unwrap();
        // Runs 3 and 4 are in the period; run 2 is the baseline of the first comparison.
        assert_eq!(
            manifest.changes_from,
            Some(RunRef::new(2, "2026-01-02T12:00:00Z"))
        );
        assert_eq!(manifest.counts.runs_compared, 2);
        assert_eq!(manifest.counts.failed_runs, 1);
        let lines = std::fs::read_to_string(out.join("changes.jsonl")).unwrap();
        let events: Vec<AccessEvent> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(events.len(), 1, "{lines}");
        assert_eq!(events[0].kind.as_str(), "user_added");
        assert_eq!((events[0].old_run.id, events[0].new_run.id), (3, 4));
        let markdown = std::fs::read_to_string(out.join("changes.md")).unwrap();
        assert!(
            markdown.contains("## Run 4 (2026-01-04T12:00:00Z) against run 3"),
            "{markdown}"
        );
        assert!(markdown.contains("| + | user bob (DU2) | added"), "{markdown}");
        assert!(markdown.contains("| 1 | 2026-01-03T18:00:00Z | 2026-01-03T18:00:05Z | network | refused |"));
        assert!(
            !markdown.contains("against run 2"),
            "no changes there: {markdown}"
        );

        // Every run: alice's status change on day 2 too; the other tenant's run is never compared.
        let all = write_evidence(
            &store,
            &out,
            &EvidenceOptions {
                run: Some(4),
                ..EvidenceOptions::default()
            },
        )
        .unwrap();
        assert_eq!((all.counts.runs_compared, all.counts.changes), (3, 2));
        assert_eq!(all.changes_from.unwrap().id, 1);
    }

    #[test]
    fn the_manifest_names_the_run_and_hashes_every_file_and_the_pack_is_reproducible() {
        let (dir, store) = store();
        let out = dir.path().join("pack");
        let manifest = write_evidence(&store, &out, &EvidenceOptions::default()).unwrap();
        // The latest run of the file is the other tenant's.
        assert_eq!(manifest.api_host, "api-other.duosecurity.com");
        assert_eq!(manifest.run.id, 5);
        assert_eq!(manifest.counts.runs_compared, 0);
        let text = std::fs::read_to_string(out.join(MANIFEST)).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["connector_version"], env!("CARGO_PKG_VERSION"));
        let names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "review.md",
                "review.csv",
                "review.json",
                "changes.jsonl",
                "changes.md"
            ]
        );
        for file in &manifest.files {
            let bytes = std::fs::read(out.join(&file.name)).unwrap();
            assert_eq!(file.bytes, bytes.len(), "{}", file.name);
            assert_eq!(file.sha256, hex::encode(Sha256::digest(&bytes)), "{}", file.name);
        }
        let before: Vec<Vec<u8>> = names
            .iter()
            .map(|n| std::fs::read(out.join(n)).unwrap())
            .collect();
        write_evidence(&store, &out, &EvidenceOptions::default()).unwrap();
        let after: Vec<Vec<u8>> = names
            .iter()
            .map(|n| std::fs::read(out.join(n)).unwrap())
            .collect();
        assert_eq!(before, after);
        assert_eq!(std::fs::read_to_string(out.join(MANIFEST)).unwrap(), text);
    }

    #[test]
    fn an_unknown_run_or_an_empty_file_is_a_clear_error() {
        let (dir, store) = store();
        let error = write_evidence(
            &store,
            dir.path(),
            &EvidenceOptions {
                run: Some(99),
                ..EvidenceOptions::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("run 99 is not recorded"), "{error}");
        let empty = SnapshotStore::open(&dir.path().join("empty.sqlite")).unwrap();
        let error = write_evidence(&empty, dir.path(), &EvidenceOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("no run is recorded"), "{error}");
    }
}
