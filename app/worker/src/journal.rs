//! The worker's journal: an embedded SQLite database (WAL, synchronous=FULL) holding every job
//! the worker took on and every transaction it signed, written *before* the action it
//! records. After a crash (kill -9 at any point) the journal and the chain together say where
//! each job stands, so the worker resumes or quits it exactly once, never claims twice and
//! never loses a finished result.

use rusqlite::{params, Connection, OptionalExtension};
use std::{
    path::Path,
    sync::{Arc, Mutex},
};

/// Where a job stands for this worker. Stored as text; the order is the job's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The claim (or claim_verification) transaction is signed and may be on its way.
    Claiming,
    /// The chain says the job is ours; nothing of the run exists yet.
    Claimed,
    /// The run started (inputs fetched, process or container started).
    Running,
    /// Outputs hashed and stored; result_hash and billed seconds recorded. The result is safe.
    Ran,
    /// The submit (or submit_verification) transaction is signed.
    Submitting,
    /// The chain has our commitment (or verification).
    Submitted,
    /// Settled, refunded or otherwise closed on chain: nothing more to do.
    Done,
    /// Given back (quit) or abandoned: nothing more to do.
    Quit,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Claiming => "claiming",
            Step::Claimed => "claimed",
            Step::Running => "running",
            Step::Ran => "ran",
            Step::Submitting => "submitting",
            Step::Submitted => "submitted",
            Step::Done => "done",
            Step::Quit => "quit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "claiming" => Step::Claiming,
            "claimed" => Step::Claimed,
            "running" => Step::Running,
            "ran" => Step::Ran,
            "submitting" => Step::Submitting,
            "submitted" => Step::Submitted,
            "done" => Step::Done,
            "quit" => Step::Quit,
            _ => return None,
        })
    }

    pub fn is_final(self) -> bool {
        matches!(self, Step::Done | Step::Quit)
    }
}

/// Whether we run the job as its provider or re-run it as a verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Provider,
    Verifier,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::Verifier => "verifier",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "provider" => Some(Role::Provider),
            "verifier" => Some(Role::Verifier),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEntry {
    pub job: String,
    pub role: Role,
    pub step: Step,
    pub market: String,
    pub client: String,
    pub spec_hash: String,
    pub spec_uri: String,
    pub result_hash: Option<String>,
    pub billed_secs: Option<u32>,
    pub error: Option<String>,
    pub updated_at: i64,
}

/// A job (with this spec) the worker turned down or gave up on: a spec it could not fetch or
/// that failed its checks, an input that failed its hash, a run that failed, a claim that did
/// not land. The job is left alone until `until` (unix seconds); each repeat doubles the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub job: String,
    pub spec_hash: String,
    pub reason: String,
    /// How many times this job with this spec was refused.
    pub count: u32,
    pub until: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("journal: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("journal: job {job} is at step {have}, cannot go back to {want}")]
    Backwards {
        job: String,
        have: String,
        want: String,
    },
    #[error("journal: corrupt row for job {0}")]
    Corrupt(String),
}

#[derive(Clone)]
pub struct Journal {
    conn: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    job          TEXT NOT NULL,
    role         TEXT NOT NULL,
    step         TEXT NOT NULL,
    market       TEXT NOT NULL,
    client       TEXT NOT NULL,
    spec_hash    TEXT NOT NULL,
    spec_uri     TEXT NOT NULL,
    result_hash  TEXT,
    billed_secs  INTEGER,
    error        TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (job, role)
);
CREATE TABLE IF NOT EXISTS txs (
    signature          TEXT PRIMARY KEY,
    job                TEXT,
    kind               TEXT NOT NULL,
    last_valid_height  INTEGER NOT NULL,
    signed_at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS txs_by_job ON txs(job, kind);
CREATE TABLE IF NOT EXISTS refusals (
    job        TEXT NOT NULL,
    spec_hash  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    count      INTEGER NOT NULL,
    until      INTEGER NOT NULL,
    PRIMARY KEY (job, spec_hash)
);
CREATE TABLE IF NOT EXISTS log (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    job   TEXT NOT NULL,
    role  TEXT NOT NULL,
    at    INTEGER NOT NULL,
    step  TEXT NOT NULL,
    note  TEXT NOT NULL
);
";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Journal {
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let conn = Connection::open(path).map_err(|source| JournalError::Open {
            path: path.display().to_string(),
            source,
        })?;
        // WAL + FULL: a committed step survives kill -9 and power loss.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let mut c = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut c)
    }

    /// Records a job we are about to claim (step Claiming). Returns false if the journal has
    /// it in progress (then nothing is written: never claim twice). A job we quit earlier
    /// (given back, expired, lost a race) may be claimed again: its entry starts over.
    pub fn begin(&self, e: &JobEntry) -> Result<bool, JournalError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let t = now();
            let have: Option<String> = tx
                .query_row(
                    "SELECT step FROM jobs WHERE job = ?1 AND role = ?2",
                    params![e.job, e.role.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            match have.as_deref().map(Step::parse) {
                None => {
                    tx.execute(
                        "INSERT INTO jobs (job, role, step, market, client, spec_hash, spec_uri,
                           created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                        params![
                            e.job,
                            e.role.as_str(),
                            Step::Claiming.as_str(),
                            e.market,
                            e.client,
                            e.spec_hash,
                            e.spec_uri,
                            t
                        ],
                    )?;
                }
                Some(Some(Step::Quit)) => {
                    tx.execute(
                        "UPDATE jobs SET step = ?3, result_hash = NULL, billed_secs = NULL,
                           error = NULL, spec_hash = ?4, spec_uri = ?5, updated_at = ?6
                         WHERE job = ?1 AND role = ?2",
                        params![
                            e.job,
                            e.role.as_str(),
                            Step::Claiming.as_str(),
                            e.spec_hash,
                            e.spec_uri,
                            t
                        ],
                    )?;
                }
                Some(_) => return Ok(false),
            }
            log_step(&tx, &e.job, e.role, Step::Claiming, "claim signed next")?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Moves a job forward to `step` (never backwards), with a note for the log.
    pub fn advance(
        &self,
        job: &str,
        role: Role,
        step: Step,
        note: &str,
    ) -> Result<(), JournalError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let have: Option<String> = tx
                .query_row(
                    "SELECT step FROM jobs WHERE job = ?1 AND role = ?2",
                    params![job, role.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            let have = have
                .as_deref()
                .and_then(Step::parse)
                .ok_or_else(|| JournalError::Corrupt(job.to_string()))?;
            if step < have && !step.is_final() {
                return Err(JournalError::Backwards {
                    job: job.into(),
                    have: have.as_str().into(),
                    want: step.as_str().into(),
                });
            }
            tx.execute(
                "UPDATE jobs SET step = ?3, updated_at = ?4 WHERE job = ?1 AND role = ?2",
                params![job, role.as_str(), step.as_str(), now()],
            )?;
            log_step(&tx, job, role, step, note)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Records the finished result (step Ran) in one transaction.
    pub fn record_result(
        &self,
        job: &str,
        role: Role,
        result_hash: &str,
        billed_secs: u32,
    ) -> Result<(), JournalError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE jobs SET step = ?3, result_hash = ?4, billed_secs = ?5, updated_at = ?6
                 WHERE job = ?1 AND role = ?2",
                params![
                    job,
                    role.as_str(),
                    Step::Ran.as_str(),
                    result_hash,
                    billed_secs,
                    now()
                ],
            )?;
            log_step(&tx, job, role, Step::Ran, &format!("result {result_hash}"))?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Ends a job with a reason (quit or abandoned).
    pub fn fail(
        &self,
        job: &str,
        role: Role,
        step: Step,
        reason: &str,
    ) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET step = ?3, error = ?4, updated_at = ?5 WHERE job = ?1 AND role = ?2",
                params![job, role.as_str(), step.as_str(), reason, now()],
            )?;
            log_step(c, job, role, step, reason)?;
            Ok(())
        })
    }

    /// A signed transaction, recorded before it is sent.
    pub fn record_tx(
        &self,
        signature: &str,
        job: Option<&str>,
        kind: &str,
        last_valid_height: u64,
    ) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO txs (signature, job, kind, last_valid_height, signed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![signature, job, kind, last_valid_height as i64, now()],
            )?;
            Ok(())
        })
    }

    /// Signatures recorded for a job's transactions of `kind`, oldest first.
    pub fn txs(&self, job: &str, kind: &str) -> Result<Vec<String>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT signature FROM txs WHERE job = ?1 AND kind = ?2 ORDER BY signed_at, rowid",
            )?;
            let rows = st
                .query_map(params![job, kind], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// The last block height at which a journaled signature can still land.
    pub fn last_valid_height(&self, signature: &str) -> Option<u64> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT last_valid_height FROM txs WHERE signature = ?1",
                params![signature],
                |r| r.get::<_, i64>(0),
            )
            .optional()?)
        })
        .ok()
        .flatten()
        .map(|v| v as u64)
    }

    pub fn get(&self, job: &str, role: Role) -> Result<Option<JobEntry>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(&format!("{SELECT} WHERE job = ?1 AND role = ?2"))?;
            let mut rows = st.query_map(params![job, role.as_str()], row)?;
            match rows.next() {
                Some(r) => Ok(Some(r??)),
                None => Ok(None),
            }
        })
    }

    /// Jobs not yet done or quit: what a restart must look at.
    pub fn open_jobs(&self) -> Result<Vec<JobEntry>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "{SELECT} WHERE step NOT IN ('done', 'quit') ORDER BY created_at"
            ))?;
            let rows = st.query_map([], row)?;
            rows.map(|r| r?).collect()
        })
    }

    /// Entries closed (done or quit) before `t` (unix seconds): what retention may prune.
    pub fn closed_before(&self, t: i64) -> Result<Vec<JobEntry>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(&format!(
                "{SELECT} WHERE step IN ('done', 'quit') AND updated_at < ?1 ORDER BY updated_at"
            ))?;
            let rows = st.query_map(params![t], row)?;
            rows.map(|r| r?).collect()
        })
    }

    /// Every job entry (for the results server's client lookup and the status command).
    pub fn all(&self) -> Result<Vec<JobEntry>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(&format!("{SELECT} ORDER BY created_at"))?;
            let rows = st.query_map([], row)?;
            rows.map(|r| r?).collect()
        })
    }

    /// Records a refusal of `job` with `spec_hash` at `at`: the first is in force for `base`
    /// seconds, each repeat for twice as long as the one before, never more than `max`. A job
    /// posted again with another spec is a new job to the worker.
    pub fn refuse(
        &self,
        job: &str,
        spec_hash: &str,
        reason: &str,
        at: i64,
        base: i64,
        max: i64,
    ) -> Result<Refusal, JournalError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let before: Option<i64> = tx
                .query_row(
                    "SELECT count FROM refusals WHERE job = ?1 AND spec_hash = ?2",
                    params![job, spec_hash],
                    |r| r.get(0),
                )
                .optional()?;
            let count = before
                .unwrap_or(0)
                .saturating_add(1)
                .clamp(1, u32::MAX as i64) as u32;
            // 2^32 doublings of even one second outlast any `max`.
            let period = base.saturating_mul(1i64 << (count - 1).min(32)).min(max);
            let until = at.saturating_add(period);
            tx.execute(
                "INSERT INTO refusals (job, spec_hash, reason, count, until)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (job, spec_hash)
                 DO UPDATE SET reason = ?3, count = ?4, until = ?5",
                params![job, spec_hash, reason, count as i64, until],
            )?;
            tx.commit()?;
            Ok(Refusal {
                job: job.into(),
                spec_hash: spec_hash.into(),
                reason: reason.into(),
                count,
                until,
            })
        })
    }

    /// Deletes the refusals that lapsed at or before `at`; how many. The worker forgets a
    /// refusal a day after it lapsed (its doubling starts over if the job comes back), so a
    /// client posting many bad jobs does not grow the journal without end.
    pub fn forget_refusals_lapsed_before(&self, at: i64) -> Result<usize, JournalError> {
        self.with(|c| Ok(c.execute("DELETE FROM refusals WHERE until <= ?1", params![at])?))
    }

    /// Refusals still in force at `at`, soonest to lapse first.
    pub fn refusals_in_force(&self, at: i64) -> Result<Vec<Refusal>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT job, spec_hash, reason, count, until FROM refusals
                 WHERE until > ?1 ORDER BY until",
            )?;
            let rows = st.query_map(params![at], |r| {
                Ok(Refusal {
                    job: r.get(0)?,
                    spec_hash: r.get(1)?,
                    reason: r.get(2)?,
                    count: r.get::<_, i64>(3)?.clamp(0, u32::MAX as i64) as u32,
                    until: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// The client of a job we ran (as provider or verifier).
    pub fn client_of(&self, job: &str) -> Result<Option<String>, JournalError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT client FROM jobs WHERE job = ?1 LIMIT 1",
                params![job],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// The step log of a job, oldest first: (unix time, step, note).
    pub fn history(&self, job: &str) -> Result<Vec<(i64, String, String)>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT at, step, note FROM log WHERE job = ?1 ORDER BY id")?;
            let rows = st
                .query_map(params![job], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }
}

const SELECT: &str = "SELECT job, role, step, market, client, spec_hash, spec_uri, result_hash,
    billed_secs, error, updated_at FROM jobs";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<JobEntry, JournalError>> {
    let job: String = r.get(0)?;
    let role: String = r.get(1)?;
    let step: String = r.get(2)?;
    let (Some(role), Some(step)) = (Role::parse(&role), Step::parse(&step)) else {
        return Ok(Err(JournalError::Corrupt(job)));
    };
    Ok(Ok(JobEntry {
        job,
        role,
        step,
        market: r.get(3)?,
        client: r.get(4)?,
        spec_hash: r.get(5)?,
        spec_uri: r.get(6)?,
        result_hash: r.get(7)?,
        billed_secs: r.get::<_, Option<i64>>(8)?.map(|v| v as u32),
        error: r.get(9)?,
        updated_at: r.get(10)?,
    }))
}

fn log_step(
    c: &Connection,
    job: &str,
    role: Role,
    step: Step,
    note: &str,
) -> Result<(), JournalError> {
    c.execute(
        "INSERT INTO log (job, role, at, step, note) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![job, role.as_str(), now(), step.as_str(), note],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(job: &str) -> JobEntry {
        JobEntry {
            job: job.into(),
            role: Role::Provider,
            step: Step::Claiming,
            market: "m".into(),
            client: "c".into(),
            spec_hash: "h".into(),
            spec_uri: "u".into(),
            result_hash: None,
            billed_secs: None,
            error: None,
            updated_at: 0,
        }
    }

    #[test]
    fn a_refusal_persists_doubles_on_each_repeat_up_to_the_cap_and_is_per_spec() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let j = Journal::open(&path).unwrap();
        let t = 1_000_000;
        let first = j
            .refuse("a", "h1", "spec unreachable", t, 300, 3_600)
            .unwrap();
        assert_eq!((first.count, first.until), (1, t + 300));
        assert_eq!(
            j.refuse("a", "h1", "again", t + 400, 300, 3_600)
                .unwrap()
                .until,
            t + 400 + 600
        );
        assert_eq!(
            j.refuse("a", "h1", "again", t, 300, 3_600).unwrap().until,
            t + 1_200
        );
        assert_eq!(
            j.refuse("a", "h1", "again", t, 300, 3_600).unwrap().until,
            t + 2_400
        );
        // 4,800 s would be next: capped at an hour.
        let capped = j.refuse("a", "h1", "input hash", t, 300, 3_600).unwrap();
        assert_eq!(
            (capped.count, capped.until, capped.reason.as_str()),
            (5, t + 3_600, "input hash")
        );
        // Repeats far past the cap never overflow: 1 s doubled 100 more times is the cap.
        let mut last = 0;
        for _ in 0..100 {
            last = j.refuse("a", "h1", "x", t, 1, 3_600).unwrap().until;
            assert!(last > t && last <= t + 3_600, "{last}");
        }
        assert_eq!(last, t + 3_600);
        // The same job with another spec is another job.
        assert_eq!(j.refuse("a", "h2", "bad", t, 300, 3_600).unwrap().count, 1);
        j.refuse("b", "h1", "claim failed", t - 400, 300, 3_600)
            .unwrap();
        drop(j);
        // It survives a restart; lapsed refusals are not in force.
        let j = Journal::open(&path).unwrap();
        let in_force: Vec<(String, String)> = j
            .refusals_in_force(t)
            .unwrap()
            .into_iter()
            .map(|r| (r.job, r.spec_hash))
            .collect();
        assert_eq!(
            in_force,
            vec![
                ("a".to_string(), "h2".to_string()),
                ("a".into(), "h1".into())
            ]
        );
        assert!(
            j.refusals_in_force(t + 3_600).unwrap().is_empty(),
            "until is exclusive"
        );
        // Forgetting lapsed refusals deletes exactly those, and a forgotten one starts over.
        let lapsed_first = j.refusals_in_force(t).unwrap()[0].until;
        assert_eq!(j.forget_refusals_lapsed_before(lapsed_first).unwrap(), 2);
        assert_eq!(j.refusals_in_force(t).unwrap().len(), 1);
        assert_eq!(j.forget_refusals_lapsed_before(t + 3_600).unwrap(), 1);
        assert_eq!(j.refuse("a", "h1", "back", t, 300, 3_600).unwrap().count, 1);
    }

    #[test]
    fn closed_entries_are_listed_by_when_they_closed() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.db")).unwrap();
        for job in ["open", "done", "quit"] {
            j.begin(&entry(job)).unwrap();
        }
        j.advance("done", Role::Provider, Step::Done, "settled")
            .unwrap();
        j.fail("quit", Role::Provider, Step::Quit, "gave it back")
            .unwrap();
        let later: Vec<String> = j
            .closed_before(now() + 10)
            .unwrap()
            .into_iter()
            .map(|e| e.job)
            .collect();
        assert_eq!(later.len(), 2);
        assert!(later.contains(&"done".to_string()) && later.contains(&"quit".to_string()));
        assert!(
            j.closed_before(now() - 3_600).unwrap().is_empty(),
            "closed just now"
        );
    }

    #[test]
    fn a_job_is_begun_once_and_only_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.db")).unwrap();
        assert!(j.begin(&entry("a")).unwrap());
        assert!(!j.begin(&entry("a")).unwrap(), "second begin refused");
        // A quit job may be claimed again later; a done one may not.
        j.begin(&entry("q")).unwrap();
        j.fail("q", Role::Provider, Step::Quit, "lost the race")
            .unwrap();
        assert!(j.begin(&entry("q")).unwrap(), "a quit job starts over");
        assert_eq!(
            j.get("q", Role::Provider).unwrap().unwrap().step,
            Step::Claiming
        );
        j.advance("q", Role::Provider, Step::Done, "settled")
            .unwrap();
        assert!(
            !j.begin(&entry("q")).unwrap(),
            "a done job is never claimed again"
        );
        j.advance("a", Role::Provider, Step::Claimed, "claimed")
            .unwrap();
        j.record_result("a", Role::Provider, "abcd", 42).unwrap();
        let e = j
            .advance("a", Role::Provider, Step::Running, "again")
            .unwrap_err();
        assert!(matches!(e, JournalError::Backwards { .. }), "{e}");
        let got = j.get("a", Role::Provider).unwrap().unwrap();
        assert_eq!(got.step, Step::Ran);
        assert_eq!(got.result_hash.as_deref(), Some("abcd"));
        assert_eq!(got.billed_secs, Some(42));
        // The same job as a verifier is a separate entry.
        let mut v = entry("a");
        v.role = Role::Verifier;
        assert!(j.begin(&v).unwrap());
        assert_eq!(j.open_jobs().unwrap().len(), 2);
        j.fail("a", Role::Verifier, Step::Quit, "input mismatch")
            .unwrap();
        assert_eq!(j.open_jobs().unwrap().len(), 1);
        let steps: Vec<_> = j.history("a").unwrap().into_iter().map(|h| h.1).collect();
        assert_eq!(steps, ["claiming", "claimed", "ran", "claiming", "quit"]);
    }

    #[test]
    fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("j.db");
        {
            let j = Journal::open(&p).unwrap();
            j.begin(&entry("b")).unwrap();
            j.record_tx("sig1", Some("b"), "claim", 99).unwrap();
            j.record_tx("sig1", Some("b"), "claim", 99).unwrap();
            j.record_tx("sig2", Some("b"), "claim", 150).unwrap();
        }
        let j = Journal::open(&p).unwrap();
        assert_eq!(j.open_jobs().unwrap()[0].step, Step::Claiming);
        assert_eq!(j.txs("b", "claim").unwrap(), ["sig1", "sig2"]);
        assert_eq!(j.client_of("b").unwrap().as_deref(), Some("c"));
        assert_eq!(j.client_of("zzz").unwrap(), None);
    }
}
