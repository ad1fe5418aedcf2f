//! Sync runs over time, in one SQLite file: a row per run and the objects of every run.
//!
//! Each object keeps Duo's JSON as it came (`json` column), so [`SnapshotStore::load`] gives back
//! the recorded snapshot byte for byte; the few columns beside it (`username`, `status`, …) are
//! there to be queried with plain SQL across runs. The tables are described in
//! `connector/SNAPSHOT.md`. The schema is versioned with `PRAGMA user_version`: [`MIGRATIONS`]
//! takes a file from any older version to the current one, and a file of a newer version is
//! refused rather than half understood.
//!
//! ```no_run
//! # fn example(snapshot: &duo_connector::Snapshot) -> Result<(), duo_connector::Error> {
//! use duo_connector::sqlite::SnapshotStore;
//! let mut store = SnapshotStore::open(std::path::Path::new("runs.sqlite"))?;
//! let run = store.record(snapshot)?;
//! assert_eq!(store.load(run)?.users.len(), snapshot.users.len());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::objects::{AdminView, GroupView, UserView, read_admins, read_groups, read_users};
use crate::snapshot::{RawObject, Snapshot};

/// Migration `i` takes a database from `user_version` `i` to `i + 1`; the last one's result is
/// the current schema. A new version appends a migration and never edits an old one.
const MIGRATIONS: [&str; 2] = [
    r#"
CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    api_host       TEXT    NOT NULL,
    synced_at      TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    users          INTEGER NOT NULL,
    admins         INTEGER NOT NULL,
    "groups"       INTEGER NOT NULL
);
CREATE TABLE users (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    user_id     TEXT    NOT NULL,
    username    TEXT,
    status      TEXT,
    is_enrolled INTEGER,
    last_login  INTEGER,
    json        TEXT    NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX users_by_id ON users (run_id, user_id);
CREATE TABLE admins (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    admin_id TEXT    NOT NULL,
    name     TEXT,
    email    TEXT,
    role     TEXT,
    status   TEXT,
    json     TEXT    NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX admins_by_id ON admins (run_id, admin_id);
CREATE TABLE "groups" (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    group_id TEXT    NOT NULL,
    name     TEXT,
    json     TEXT    NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX groups_by_id ON "groups" (run_id, group_id);
CREATE TABLE group_member_lists (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    group_id TEXT    NOT NULL,
    members  INTEGER NOT NULL,
    PRIMARY KEY (run_id, group_id)
);
CREATE TABLE group_members (
    run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    group_id TEXT    NOT NULL,
    position INTEGER NOT NULL,
    user_id  TEXT    NOT NULL,
    PRIMARY KEY (run_id, group_id, position)
);
CREATE INDEX group_members_by_user ON group_members (run_id, user_id);
"#,
    // Version 2: syncs that failed, so that a gap in monitoring is on record with its cause.
    r#"
CREATE TABLE failed_runs (
    id          INTEGER PRIMARY KEY,
    api_host    TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    failed_at   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    endpoint    TEXT,
    http_status INTEGER,
    duo_code    INTEGER
);
CREATE INDEX failed_runs_by_host ON failed_runs (api_host, failed_at);
"#,
];

/// The `user_version` this crate writes and reads.
pub const DATABASE_VERSION: u32 = MIGRATIONS.len() as u32;

/// A SQLite file of sync runs.
#[derive(Debug)]
pub struct SnapshotStore {
    connection: Connection,
    /// For error messages: rusqlite's errors do not say which file.
    path: PathBuf,
}

/// A sync that failed, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedRun {
    /// Its id among failed runs (a sequence of its own: failed runs are not runs).
    pub id: i64,
    /// The API hostname the sync was of.
    pub api_host: String,
    /// When the sync started, RFC 3339 in UTC.
    pub started_at: String,
    /// When it failed.
    pub failed_at: String,
    /// The contract's `error.kind` (`rate_limited`, …), or `internal` for a fault of the connector.
    pub kind: String,
    /// The failure's message.
    pub message: String,
    /// The request path that failed, when one did.
    pub endpoint: Option<String>,
    /// The HTTP status of the last answer, when there was one.
    pub http_status: Option<u16>,
    /// Duo's error code, when the answer was Duo's.
    pub duo_code: Option<u32>,
}

/// One recorded run, without its objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// The run id [`SnapshotStore::record`] returned.
    pub id: i64,
    /// The snapshot's `api_host`.
    pub api_host: String,
    /// The snapshot's `synced_at`.
    pub synced_at: String,
    /// The snapshot's `schema_version`.
    pub schema_version: u32,
    /// How many users.
    pub users: u64,
    /// How many administrators.
    pub admins: u64,
    /// How many groups.
    pub groups: u64,
}

impl SnapshotStore {
    /// Opens (or creates) the file at `path`, bringing its schema up to date.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let fail = sqlite_error(path);
        let mut connection = Connection::open(path).map_err(&fail)?;
        // A reader or a second sync may hold the file for a moment; wait rather than fail.
        connection.busy_timeout(Duration::from_secs(10)).map_err(&fail)?;
        connection
            .pragma_update(None, "foreign_keys", true)
            .map_err(&fail)?;
        let found = migrate(&mut connection).map_err(&fail)?;
        if found > DATABASE_VERSION {
            return Err(Error::Config(format!(
                "{}: the database has schema version {found}, newer than this connector's \
                 {DATABASE_VERSION}; use a newer connector, or record into another file",
                path.display()
            )));
        }
        Ok(Self {
            connection,
            path: path.to_owned(),
        })
    }

    /// Records `snapshot` as a new run, all or nothing, and returns the run's id.
    pub fn record(&mut self, snapshot: &Snapshot) -> Result<i64, Error> {
        // Read every object before writing, so that a snapshot with an object lacking its id
        // fails without touching the file.
        let users = read_users(snapshot)?;
        let admins = read_admins(snapshot)?;
        let groups = read_groups(snapshot)?;
        let fail = sqlite_error(&self.path);
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&fail)?;
        let run_id = insert_run(&transaction, snapshot, &users, &admins, &groups).map_err(&fail)?;
        transaction.commit().map_err(&fail)?;
        Ok(run_id)
    }

    /// Records a sync that failed with `error`, in one transaction, and returns the record.
    /// Nothing else in the file changes. A classified failure keeps its kind and details; any
    /// other error (a fault of the connector itself) is recorded as kind `internal`.
    pub fn record_failure(
        &mut self,
        api_host: &str,
        started_at: &str,
        failed_at: &str,
        error: &Error,
    ) -> Result<FailedRun, Error> {
        let mut failed = match error.failure() {
            Some(f) => FailedRun {
                id: 0,
                api_host: api_host.to_owned(),
                started_at: started_at.to_owned(),
                failed_at: failed_at.to_owned(),
                kind: f.kind.as_str().to_owned(),
                message: f.message.clone(),
                endpoint: f.endpoint.clone(),
                http_status: f.http_status,
                duo_code: f.duo_code,
            },
            None => FailedRun {
                id: 0,
                api_host: api_host.to_owned(),
                started_at: started_at.to_owned(),
                failed_at: failed_at.to_owned(),
                kind: "internal".to_owned(),
                message: error.to_string(),
                endpoint: None,
                http_status: None,
                duo_code: None,
            },
        };
        self.connection
            .execute(
                "INSERT INTO failed_runs
                     (api_host, started_at, failed_at, kind, message, endpoint, http_status, duo_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    failed.api_host,
                    failed.started_at,
                    failed.failed_at,
                    failed.kind,
                    failed.message,
                    failed.endpoint,
                    failed.http_status,
                    failed.duo_code
                ],
            )
            .map_err(sqlite_error(&self.path))?;
        failed.id = self.connection.last_insert_rowid();
        Ok(failed)
    }

    /// Every failed run, oldest first.
    pub fn failed_runs(&self) -> Result<Vec<FailedRun>, Error> {
        self.select_all(
            "SELECT id, api_host, started_at, failed_at, kind, message, endpoint, http_status, duo_code
             FROM failed_runs ORDER BY id",
            |row| {
                Ok(FailedRun {
                    id: row.get(0)?,
                    api_host: row.get(1)?,
                    started_at: row.get(2)?,
                    failed_at: row.get(3)?,
                    kind: row.get(4)?,
                    message: row.get(5)?,
                    endpoint: row.get(6)?,
                    http_status: row.get(7)?,
                    duo_code: row.get(8)?,
                })
            },
        )
    }

    /// The latest run of `api_host`, if there is one.
    pub fn latest_run(&self, api_host: &str) -> Result<Option<RunSummary>, Error> {
        Ok(self
            .runs()?
            .into_iter()
            .rev()
            .find(|run| run.api_host == api_host))
    }

    /// Every recorded run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunSummary>, Error> {
        self.select_all(
            r#"SELECT id, api_host, synced_at, schema_version, users, admins, "groups"
               FROM runs ORDER BY id"#,
            |row| {
                Ok(RunSummary {
                    id: row.get(0)?,
                    api_host: row.get(1)?,
                    synced_at: row.get(2)?,
                    schema_version: row.get(3)?,
                    users: row.get(4)?,
                    admins: row.get(5)?,
                    groups: row.get(6)?,
                })
            },
        )
    }

    /// Every row `sql` selects (it takes no parameters), each read by `read`.
    fn select_all<T>(
        &self,
        sql: &str,
        read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, Error> {
        let query = || -> rusqlite::Result<Vec<T>> {
            let mut select = self.connection.prepare(sql)?;
            let rows = select.query_map([], read)?;
            rows.collect()
        };
        query().map_err(sqlite_error(&self.path))
    }

    /// The snapshot recorded as run `run_id`, with every object as Duo sent it and in Duo's order.
    pub fn load(&self, run_id: i64) -> Result<Snapshot, Error> {
        let fail = sqlite_error(&self.path);
        let run = self
            .connection
            .query_row(
                "SELECT api_host, synced_at, schema_version FROM runs WHERE id = ?1",
                [run_id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, u32>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(&fail)?;
        let Some((api_host, synced_at, schema_version)) = run else {
            return Err(Error::Snapshot {
                path: self.path.clone(),
                reason: format!("run {run_id} is not recorded here"),
            });
        };
        let users = self.load_objects("users", run_id)?;
        let admins = self.load_objects("admins", run_id)?;
        let groups = self.load_objects(r#""groups""#, run_id)?;
        let group_members = self.load_members(run_id).map_err(&fail)?;
        Ok(Snapshot {
            schema_version,
            api_host,
            synced_at,
            users,
            admins,
            groups,
            group_members,
        })
    }

    /// The `json` column of `table` for one run, in position order.
    fn load_objects(&self, table: &str, run_id: i64) -> Result<Vec<RawObject>, Error> {
        let texts = || -> rusqlite::Result<Vec<String>> {
            let mut select = self.connection.prepare(&format!(
                "SELECT json FROM {table} WHERE run_id = ?1 ORDER BY position"
            ))?;
            let rows = select.query_map([run_id], |row| row.get(0))?;
            rows.collect()
        };
        texts()
            .map_err(sqlite_error(&self.path))?
            .into_iter()
            .enumerate()
            .map(|(position, text)| {
                RawValue::from_string(text)
                    .map(RawObject::from)
                    .map_err(|e| Error::Snapshot {
                        path: self.path.clone(),
                        reason: format!("run {run_id}: {table} object {position} is not valid JSON: {e}"),
                    })
            })
            .collect()
    }

    fn load_members(&self, run_id: i64) -> rusqlite::Result<BTreeMap<String, Vec<String>>> {
        let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // The lists first: a group whose list was read and found empty is kept as an empty list.
        let mut lists = self
            .connection
            .prepare("SELECT group_id, members FROM group_member_lists WHERE run_id = ?1")?;
        for list in lists.query_map([run_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, usize>(1)?))
        })? {
            let (group_id, count) = list?;
            members.insert(group_id, Vec::with_capacity(count));
        }
        let mut rows = self.connection.prepare(
            "SELECT group_id, user_id FROM group_members WHERE run_id = ?1 ORDER BY group_id, position",
        )?;
        for row in rows.query_map([run_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })? {
            let (group_id, user_id) = row?;
            members.entry(group_id).or_default().push(user_id);
        }
        Ok(members)
    }
}

/// Applies the migrations a database lacks, in one transaction, and returns the version found.
fn migrate(connection: &mut Connection) -> rusqlite::Result<u32> {
    // Immediate: two processes creating the same new file must not both see version 0.
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: u32 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found < DATABASE_VERSION {
        for migration in MIGRATIONS.iter().skip(found as usize) {
            transaction.execute_batch(migration)?;
        }
        transaction.pragma_update(None, "user_version", DATABASE_VERSION)?;
    }
    transaction.commit()?;
    Ok(found)
}

fn insert_run(
    transaction: &Transaction<'_>,
    snapshot: &Snapshot,
    users: &[UserView],
    admins: &[AdminView],
    groups: &[GroupView],
) -> rusqlite::Result<i64> {
    transaction.execute(
        r#"INSERT INTO runs (api_host, synced_at, schema_version, users, admins, "groups")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6)"#,
        params![
            snapshot.api_host,
            snapshot.synced_at,
            snapshot.schema_version,
            users.len(),
            admins.len(),
            groups.len()
        ],
    )?;
    let run_id = transaction.last_insert_rowid();

    let mut insert = transaction.prepare(
        "INSERT INTO users (run_id, position, user_id, username, status, is_enrolled, last_login, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (position, (user, raw)) in users.iter().zip(&snapshot.users).enumerate() {
        insert.execute(params![
            run_id,
            position,
            user.user_id,
            user.username,
            user.status,
            user.is_enrolled,
            user.last_login,
            raw.get()
        ])?;
    }

    let mut insert = transaction.prepare(
        "INSERT INTO admins (run_id, position, admin_id, name, email, role, status, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for (position, (admin, raw)) in admins.iter().zip(&snapshot.admins).enumerate() {
        insert.execute(params![
            run_id,
            position,
            admin.admin_id,
            admin.name,
            admin.email,
            admin.role,
            admin.status,
            raw.get()
        ])?;
    }

    let mut insert = transaction.prepare(
        r#"INSERT INTO "groups" (run_id, position, group_id, name, json) VALUES (?1, ?2, ?3, ?4, ?5)"#,
    )?;
    for (position, (group, raw)) in groups.iter().zip(&snapshot.groups).enumerate() {
        insert.execute(params![run_id, position, group.group_id, group.name, raw.get()])?;
    }

    let mut insert_list = transaction
        .prepare("INSERT INTO group_member_lists (run_id, group_id, members) VALUES (?1, ?2, ?3)")?;
    let mut insert_member = transaction
        .prepare("INSERT INTO group_members (run_id, group_id, position, user_id) VALUES (?1, ?2, ?3, ?4)")?;
    for (group_id, members) in &snapshot.group_members {
        insert_list.execute(params![run_id, group_id, members.len()])?;
        for (position, user_id) in members.iter().enumerate() {
            insert_member.execute(params![run_id, group_id, position, user_id])?;
        }
    }
    Ok(run_id)
}

fn sqlite_error(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::diff::diff;

    use crate::snapshot::test_snapshot as snapshot;

    /// Duo's shapes with drift: unknown fields, nulls, a status of the wrong type, odd spacing and
    /// non-ASCII text, which must all come back exactly as recorded.
    fn drifted() -> Snapshot {
        let users = r#"{"user_id":"DU2","username":"zoë","status":"bypass","is_enrolled":false,"last_login":null,"groups":[{"group_id":"DG1","name":"Eng"}],"brand_new":{"nested":[1,2.50,null]}},
            {"user_id":"DU1", "username" : null, "status": 3, "last_login":1700000000, "realname":"A \"quoted\" \u00e9"}"#;
        let admins = r#"{"admin_id":"DE1","name":"Olivia","email":null,"role":"Owner","status":"Active","hardtoken":null,"admin_units":[]}"#;
        let groups = r#"{"group_id":"DG1","name":"Eng","desc":"","status":"Active","voice_enabled":false},
            {"group_id":"DG2","name":null}"#;
        let members = r#""DG1":["DU2","DU1"],"DG2":[]"#;
        snapshot("2026-01-01T00:00:00Z", users, admins, groups, members)
    }

    fn store() -> (tempfile::TempDir, SnapshotStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SnapshotStore::open(&dir.path().join("runs.sqlite")).unwrap();
        (dir, store)
    }

    fn raw_texts(objects: &[RawObject]) -> Vec<&str> {
        objects.iter().map(RawObject::get).collect()
    }

    #[test]
    fn a_recorded_snapshot_loads_back_byte_for_byte() {
        let (_dir, mut store) = store();
        let original = drifted();
        let run = store.record(&original).unwrap();
        let loaded = store.load(run).unwrap();
        assert_eq!(raw_texts(&loaded.users), raw_texts(&original.users));
        assert_eq!(raw_texts(&loaded.admins), raw_texts(&original.admins));
        assert_eq!(raw_texts(&loaded.groups), raw_texts(&original.groups));
        assert_eq!(loaded.group_members, original.group_members);
        assert_eq!(
            loaded.group_members["DG2"],
            Vec::<String>::new(),
            "an empty member list is kept"
        );
        assert_eq!(loaded.to_json(), original.to_json());
        assert!(diff(&original, &loaded).unwrap().is_empty());
    }

    #[test]
    fn the_query_columns_hold_the_fields_and_nulls_for_drift() {
        let (_dir, mut store) = store();
        let run = store.record(&drifted()).unwrap();
        let mut select = store
            .connection
            .prepare("SELECT user_id, username, status, is_enrolled, last_login FROM users WHERE run_id = ?1 ORDER BY position")
            .unwrap();
        type Row = (String, Option<String>, Option<String>, Option<bool>, Option<i64>);
        let rows: Vec<Row> = select
            .query_map([run], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            [
                (
                    "DU2".into(),
                    Some("zoë".into()),
                    Some("bypass".into()),
                    Some(false),
                    None
                ),
                ("DU1".into(), None, None, None, Some(1_700_000_000)),
            ]
        );
        let member_of_eng: Vec<String> = store
            .connection
            .prepare(
                "SELECT user_id FROM group_members WHERE run_id = ?1 AND group_id = 'DG1' ORDER BY position",
            )
            .unwrap()
            .query_map([run], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(member_of_eng, ["DU2", "DU1"]);
    }

    #[test]
    fn two_runs_are_listed_in_order_and_load_separately() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.sqlite");
        let first = drifted();
        let second = snapshot(
            "2026-02-01T00:00:00Z",
            r#"{"user_id":"DU9","username":"new"}"#,
            "",
            r#"{"group_id":"DG1","name":"Eng"}"#,
            r#""DG1":["DU9"]"#,
        );
        let (first_id, second_id) = {
            let mut store = SnapshotStore::open(&path).unwrap();
            (store.record(&first).unwrap(), store.record(&second).unwrap())
        };
        assert!(second_id > first_id);

        // Reopened: the runs are in the file, and the schema is not created twice.
        let store = SnapshotStore::open(&path).unwrap();
        let runs = store.runs().unwrap();
        assert_eq!(
            runs,
            [
                RunSummary {
                    id: first_id,
                    api_host: "api-test.duosecurity.com".into(),
                    synced_at: "2026-01-01T00:00:00Z".into(),
                    schema_version: 1,
                    users: 2,
                    admins: 1,
                    groups: 2,
                },
                RunSummary {
                    id: second_id,
                    api_host: "api-test.duosecurity.com".into(),
                    synced_at: "2026-02-01T00:00:00Z".into(),
                    schema_version: 1,
                    users: 1,
                    admins: 0,
                    groups: 1,
                },
            ]
        );
        assert_eq!(store.load(first_id).unwrap().to_json(), first.to_json());
        assert_eq!(store.load(second_id).unwrap().to_json(), second.to_json());
        let changes = diff(&store.load(first_id).unwrap(), &store.load(second_id).unwrap()).unwrap();
        assert_eq!(changes.users_added.len(), 1);
        assert_eq!(changes.users_removed.len(), 2);
    }

    #[test]
    fn a_snapshot_with_an_object_lacking_its_id_records_nothing() {
        let (_dir, mut store) = store();
        let bad = snapshot("t", r#"{"user_id":"DU1"}"#, "", r#"{"name":"no id"}"#, "");
        let error = store.record(&bad).unwrap_err().to_string();
        assert!(error.contains("groups[0] has no \"group_id\""), "{error}");
        assert!(store.runs().unwrap().is_empty());
    }

    #[test]
    fn an_unknown_run_is_an_error_naming_it() {
        let (_dir, store) = store();
        let error = store.load(42).unwrap_err().to_string();
        assert!(error.contains("run 42 is not recorded"), "{error}");
    }

    #[test]
    fn the_schema_version_is_set_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.sqlite");
        let store = SnapshotStore::open(&path).unwrap();
        let version: u32 = store
            .connection
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, DATABASE_VERSION);
        store.connection.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        let error = SnapshotStore::open(&path).unwrap_err().to_string();
        assert!(error.contains("schema version 99, newer than"), "{error}");
    }

    #[test]
    fn a_failed_run_is_recorded_with_its_error_and_touches_no_run() {
        let (_dir, mut store) = store();
        let run = store.record(&drifted()).unwrap();
        let mut failure = crate::Failure::new(crate::ErrorKind::RateLimited, "still 429 after 6 retries")
            .at("/admin/v1/users");
        failure.http_status = Some(429);
        failure.duo_code = Some(42901);
        let recorded = store
            .record_failure(
                "api-test.duosecurity.com",
                "2026-01-02T00:00:00Z",
                "2026-01-02T00:01:03Z",
                &failure.into(),
            )
            .unwrap();
        assert_eq!(store.failed_runs().unwrap(), std::slice::from_ref(&recorded));
        assert_eq!(
            recorded,
            FailedRun {
                id: 1,
                api_host: "api-test.duosecurity.com".into(),
                started_at: "2026-01-02T00:00:00Z".into(),
                failed_at: "2026-01-02T00:01:03Z".into(),
                kind: "rate_limited".into(),
                message: "still 429 after 6 retries".into(),
                endpoint: Some("/admin/v1/users".into()),
                http_status: Some(429),
                duo_code: Some(42901),
            }
        );
        assert_eq!(store.runs().unwrap().len(), 1);
        assert_eq!(
            store.latest_run("api-test.duosecurity.com").unwrap().unwrap().id,
            run
        );
        assert_eq!(store.latest_run("api-other.duosecurity.com").unwrap(), None);
    }

    #[test]
    fn a_version_1_file_is_upgraded_with_its_runs_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.sqlite");
        {
            // A file as the previous release wrote it: version 1's tables and one run.
            let connection = Connection::open(&path).unwrap();
            connection.execute_batch(MIGRATIONS[0]).unwrap();
            connection.pragma_update(None, "user_version", 1).unwrap();
            let mut store = SnapshotStore {
                connection,
                path: path.clone(),
            };
            store.record(&drifted()).unwrap();
        }
        let mut store = SnapshotStore::open(&path).unwrap();
        let version: u32 = store
            .connection
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 2);
        assert_eq!(store.load(1).unwrap().to_json(), drifted().to_json());
        let failure = crate::Failure::new(crate::ErrorKind::Network, "refused");
        store.record_failure("h", "t0", "t1", &failure.into()).unwrap();
        // An error that is not a classified failure is the connector's own fault.
        store
            .record_failure("h", "t1", "t2", &Error::Config("a member read stopped".into()))
            .unwrap();
        let failed = store.failed_runs().unwrap();
        assert_eq!(failed[0].endpoint, None);
        assert_eq!(
            (failed[1].kind.as_str(), failed[1].message.as_str()),
            ("internal", "invalid configuration: a member read stopped")
        );
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_an_sqlite_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(
            &path,
            "not a database, just text that is long enough to have a header",
        )
        .unwrap();
        let error = SnapshotStore::open(&path).unwrap_err();
        assert!(matches!(error, Error::Sqlite { .. }), "{error:?}");
        assert!(error.to_string().contains("notes.txt"), "{error}");
    }
}
