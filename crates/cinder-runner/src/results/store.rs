//! Finished results on disk, one directory per id:
//!
//! ```text
//! <root>/<id>/manifest.json
//! <root>/<id>/files/...        the outputs, as hashed
//! <root>/<id>/logs/stdout.log  (and stderr.log)
//! ```
//!
//! A result is assembled in `<root>/.tmp-*`, fsynced, then renamed into place and the root
//! fsynced: a crash leaves either the whole result or a temp directory, which `open`
//! removes. Removal renames to `<root>/.trash-*` first, for the same reason.

use super::{walk, Manifest, OutputError, MANIFEST_VERSION};
use crate::{relpath, runtime::RunReport};
use std::{
    fs, io,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

const TMP_PREFIX: &str = ".tmp-";
const TRASH_PREFIX: &str = ".trash-";
const MANIFEST: &str = "manifest.json";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "result id {id:?} is not usable as a directory name: use letters, digits, '.', '-', '_'"
    )]
    BadId { id: String },
    #[error("a result for {id} is already stored")]
    AlreadyStored { id: String },
    #[error("outputs of {id}: {source}")]
    Outputs {
        id: String,
        #[source]
        source: OutputError,
    },
    #[error("result store {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("manifest of {id} is unreadable: {reason}")]
    BadManifest { id: String, reason: String },
}

/// The store of finished results. Cheap to clone; every clone is the same store.
#[derive(Debug, Clone)]
pub struct ResultStore {
    root: Arc<PathBuf>,
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sync_dir(path: &Path) -> Result<(), StoreError> {
    fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(io_at(path))
}

/// A name no other store operation (in this or another process) uses at the same time.
fn unique(prefix: &str, id: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{id}-{}-{n}", std::process::id())
}

// Test-only crash points: a store interrupted at one of them leaves what a killed worker
// would.
#[cfg(test)]
thread_local! {
    static CRASH_AT: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

#[cfg(test)]
fn crash_point(name: &'static str) {
    if CRASH_AT.with(|c| c.get()) == Some(name) {
        panic!("simulated crash at {name}");
    }
}

#[cfg(not(test))]
fn crash_point(_: &'static str) {}

impl ResultStore {
    /// Opens (creating if needed) the store at `root`, and removes what an interrupted store
    /// or removal left behind.
    pub fn open(root: impl Into<PathBuf>) -> Result<ResultStore, StoreError> {
        let root: PathBuf = root.into();
        fs::create_dir_all(&root).map_err(io_at(&root))?;
        for entry in fs::read_dir(&root).map_err(io_at(&root))? {
            let entry = entry.map_err(io_at(&root))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TMP_PREFIX) || name.starts_with(TRASH_PREFIX) {
                tracing::info!(leftover = %name, "removing an interrupted result-store operation");
                let path = entry.path();
                fs::remove_dir_all(&path).map_err(io_at(&path))?;
            }
        }
        sync_dir(&root)?;
        Ok(ResultStore {
            root: Arc::new(root),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn check_id(id: &str) -> Result<(), StoreError> {
        let ok = !id.is_empty()
            && id.len() <= 128
            && !id.starts_with('.')
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if ok {
            Ok(())
        } else {
            Err(StoreError::BadId { id: id.to_string() })
        }
    }

    /// The directory of a stored result (whether or not it exists).
    pub fn dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        Self::check_id(id)?;
        Ok(self.root.join(id))
    }

    /// Moves a finished run's `output_dir` into the store under `id`, with its logs, and
    /// returns the manifest. The outputs are hashed as stored. On failure nothing is stored
    /// (and the outputs, already moved, are removed).
    pub fn store(
        &self,
        id: &str,
        output_dir: &Path,
        run: &RunReport,
    ) -> Result<Manifest, StoreError> {
        let final_dir = self.dir(id)?;
        if final_dir.exists() {
            return Err(StoreError::AlreadyStored { id: id.to_string() });
        }
        let tmp = self.root.join(unique(TMP_PREFIX, id));
        fs::create_dir(&tmp).map_err(io_at(&tmp))?;
        let result = self.assemble(id, output_dir, run, &tmp);
        let result = result.and_then(|manifest| {
            crash_point("before-rename");
            match fs::rename(&tmp, &final_dir) {
                Ok(()) => Ok(manifest),
                // Another store of the same id won the race.
                Err(e) if final_dir.join(MANIFEST).exists() => {
                    tracing::debug!(error = %e, id, "result stored concurrently");
                    Err(StoreError::AlreadyStored { id: id.to_string() })
                }
                Err(e) => Err(io_at(&final_dir)(e)),
            }
        });
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
            return result;
        }
        crash_point("before-root-sync");
        sync_dir(&self.root)?;
        result
    }

    fn assemble(
        &self,
        id: &str,
        output_dir: &Path,
        run: &RunReport,
        tmp: &Path,
    ) -> Result<Manifest, StoreError> {
        let files_dir = tmp.join("files");
        move_dir(id, output_dir, &files_dir)?;
        crash_point("after-move");
        let files = walk(&files_dir, true).map_err(|source| StoreError::Outputs {
            id: id.to_string(),
            source,
        })?;
        let logs_dir = tmp.join("logs");
        fs::create_dir(&logs_dir).map_err(io_at(&logs_dir))?;
        let mut logs = Vec::new();
        for (name, from) in [
            ("stdout.log", &run.stdout_log),
            ("stderr.log", &run.stderr_log),
        ] {
            let to = logs_dir.join(name);
            match fs::copy(from, &to) {
                Ok(_) => {
                    fs::File::open(&to)
                        .and_then(|f| f.sync_all())
                        .map_err(io_at(&to))?;
                    logs.push(name.to_string());
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_at(from)(e)),
            }
        }
        sync_dir(&logs_dir)?;
        crash_point("after-logs");
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            job: id.to_string(),
            result_hash: super::result_hash_of(&files),
            files,
            runtime: run.runtime.clone(),
            exit_code: run.exit_code,
            started_unix_ms: run.started_unix_ms,
            finished_unix_ms: run.finished_unix_ms,
            logs,
        };
        let path = tmp.join(MANIFEST);
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::BadManifest {
            id: id.to_string(),
            reason: e.to_string(),
        })?;
        write_synced(&path, &json)?;
        sync_dir(tmp)?;
        Ok(manifest)
    }

    /// The manifest of a stored result, or `None` when there is none.
    pub fn get(&self, id: &str) -> Result<Option<Manifest>, StoreError> {
        let path = self.dir(id)?.join(MANIFEST);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_at(&path)(e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::BadManifest {
                id: id.to_string(),
                reason: e.to_string(),
            })
    }

    /// Ids of every stored result, sorted.
    pub fn list(&self) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        for entry in fs::read_dir(&*self.root).map_err(io_at(&self.root))? {
            let entry = entry.map_err(io_at(&self.root))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if Self::check_id(&name).is_ok() && entry.path().join(MANIFEST).is_file() {
                ids.push(name);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Removes a stored result; `false` when there was none.
    pub fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let dir = self.dir(id)?;
        let trash = self.root.join(unique(TRASH_PREFIX, id));
        match fs::rename(&dir, &trash) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_at(&dir)(e)),
        }
        sync_dir(&self.root)?;
        fs::remove_dir_all(&trash).map_err(io_at(&trash))?;
        Ok(true)
    }

    /// The on-disk path of an output file the manifest lists, with its entry.
    pub fn file(
        &self,
        id: &str,
        path: &str,
    ) -> Result<Option<(PathBuf, super::FileEntry)>, StoreError> {
        if relpath::problem(path).is_some() {
            return Ok(None);
        }
        let Some(manifest) = self.get(id)? else {
            return Ok(None);
        };
        let entry = manifest.files.into_iter().find(|f| f.path == path);
        Ok(entry.map(|e| (self.root.join(id).join("files").join(path), e)))
    }

    /// The on-disk path of a log file the manifest lists.
    pub fn log(&self, id: &str, name: &str) -> Result<Option<PathBuf>, StoreError> {
        let Some(manifest) = self.get(id)? else {
            return Ok(None);
        };
        Ok(manifest
            .logs
            .iter()
            .find(|l| *l == name)
            .map(|l| self.root.join(id).join("logs").join(l)))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    use io::Write;
    let mut f = fs::File::create(path).map_err(io_at(path))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io_at(path))
}

/// Renames `from` to `to`; across file systems, copies (refusing symlinks) and removes.
fn move_dir(id: &str, from: &Path, to: &Path) -> Result<(), StoreError> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            copy_tree(id, from, to)?;
            fs::remove_dir_all(from).map_err(io_at(from))
        }
        Err(e) => Err(io_at(from)(e)),
    }
}

fn copy_tree(id: &str, from: &Path, to: &Path) -> Result<(), StoreError> {
    fs::create_dir(to).map_err(io_at(to))?;
    for entry in fs::read_dir(from).map_err(io_at(from))? {
        let entry = entry.map_err(io_at(from))?;
        let kind = entry.file_type().map_err(io_at(&entry.path()))?;
        let target = to.join(entry.file_name());
        let path = entry.path().display().to_string();
        let refused = |source| StoreError::Outputs {
            id: id.to_string(),
            source,
        };
        if kind.is_symlink() {
            return Err(refused(OutputError::Symlink { path }));
        } else if kind.is_dir() {
            copy_tree(id, &entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target).map_err(io_at(&entry.path()))?;
        } else {
            return Err(refused(OutputError::NotRegular { path }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(dir: &Path) -> RunReport {
        fs::write(dir.join("stdout.log"), b"out\n").unwrap();
        RunReport {
            runtime: "process".into(),
            exit_code: 0,
            started_unix_ms: 1,
            finished_unix_ms: 2,
            stdout_log: dir.join("stdout.log"),
            stderr_log: dir.join("stderr.log"),
        }
    }

    fn outputs(dir: &Path) -> PathBuf {
        let out = dir.join("out");
        fs::create_dir_all(out.join("sub")).unwrap();
        fs::write(out.join("a"), b"A").unwrap();
        fs::write(out.join("sub/b"), b"B").unwrap();
        out
    }

    #[test]
    fn a_stored_result_has_its_files_logs_and_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let out = outputs(tmp.path());
        let (expected, _) = super::super::hash_outputs(&out).unwrap();
        let store = ResultStore::open(tmp.path().join("results")).unwrap();
        let m = store.store("job1", &out, &report(tmp.path())).unwrap();
        assert!(!out.exists(), "outputs are moved, not copied");
        assert_eq!(m.result_hash, expected);
        assert_eq!(m.logs, ["stdout.log"], "a missing stderr log is not listed");
        assert_eq!(store.get("job1").unwrap(), Some(m.clone()));
        let (path, entry) = store.file("job1", "sub/b").unwrap().unwrap();
        assert_eq!((fs::read(path).unwrap(), entry.size), (b"B".to_vec(), 1));
        assert!(store
            .file("job1", "../job1/manifest.json")
            .unwrap()
            .is_none());
        assert!(store.file("job1", "missing").unwrap().is_none());
        let log = store.log("job1", "stdout.log").unwrap().unwrap();
        assert_eq!(fs::read(log).unwrap(), b"out\n");
        assert!(store.log("job1", "stderr.log").unwrap().is_none());
        assert!(matches!(
            store.store("job1", &outputs(tmp.path()), &report(tmp.path())),
            Err(StoreError::AlreadyStored { .. })
        ));
        assert_eq!(store.list().unwrap(), ["job1"]);
        assert!(store.remove("job1").unwrap());
        assert!(!store.remove("job1").unwrap());
        assert_eq!(store.get("job1").unwrap(), None);
    }

    #[test]
    fn ids_that_could_escape_the_store_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let store = ResultStore::open(tmp.path()).unwrap();
        for id in ["", "../x", "a/b", ".tmp-x", "x y"] {
            assert!(
                matches!(store.get(id), Err(StoreError::BadId { .. })),
                "{id}"
            );
        }
        assert!(store.dir("AbC123.verify").is_ok());
    }

    #[test]
    fn outputs_with_a_symlink_are_not_stored() {
        let tmp = tempfile::tempdir().unwrap();
        let out = outputs(tmp.path());
        std::os::unix::fs::symlink("/etc/hostname", out.join("link")).unwrap();
        let store = ResultStore::open(tmp.path().join("r")).unwrap();
        let e = store.store("j", &out, &report(tmp.path())).unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::Outputs {
                    source: OutputError::Symlink { .. },
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(store.get("j").unwrap(), None);
        assert_eq!(
            fs::read_dir(store.root()).unwrap().count(),
            0,
            "no temp dir left"
        );
    }

    /// A crash at any step leaves the result whole or absent, never half, and the next open
    /// cleans up.
    #[test]
    fn a_crash_at_any_step_leaves_the_result_whole_or_absent() {
        for (point, survives) in [
            ("after-move", false),
            ("after-logs", false),
            ("before-rename", false),
            ("before-root-sync", true),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().join("results");
            let out = outputs(tmp.path());
            let (expected, _) = super::super::hash_outputs(&out).unwrap();
            let run = report(tmp.path());
            let crashed = std::panic::catch_unwind(|| {
                let store = ResultStore::open(&root).unwrap();
                CRASH_AT.with(|c| c.set(Some(point)));
                let _ = store.store("job", &out, &run);
            });
            CRASH_AT.with(|c| c.set(None));
            assert!(crashed.is_err(), "{point}: the crash point was not reached");
            let reopened = ResultStore::open(&root).unwrap();
            let leftovers: Vec<_> = fs::read_dir(&root)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            match reopened.get("job").unwrap() {
                Some(m) => {
                    assert!(survives, "{point}: a result appeared");
                    assert_eq!(m.result_hash, expected);
                    let (again, _) =
                        super::super::hash_outputs(&reopened.dir("job").unwrap().join("files"))
                            .unwrap();
                    assert_eq!(again, expected, "{point}: stored files differ");
                    assert_eq!(leftovers, ["job"]);
                }
                None => {
                    assert!(!survives, "{point}: the result was lost");
                    assert!(leftovers.is_empty(), "{point}: left {leftovers:?}");
                }
            }
        }
    }
}
