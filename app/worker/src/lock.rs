//! An exclusive lock on a worker's data directory while the worker runs: two workers on one
//! journal and one result store would each claim, run and submit the same jobs, and rewrite
//! each other's journal entries.

use std::{
    fs::{File, OpenOptions, TryLockError},
    io::Write,
    path::{Path, PathBuf},
};

/// Held for the worker's lifetime; the operating system releases it when the process ends,
/// however it ends (kill -9 included), so a restart is never locked out by a dead worker.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("data_dir {dir} is in use by another worker ({holder}): two workers on one journal would claim and submit the same jobs twice; stop the other worker or give this one its own data_dir")]
    InUse { dir: String, holder: String },
    #[error("data_dir {dir}: {reason}")]
    Io { dir: String, reason: String },
}

impl DataDirLock {
    /// Takes the lock on `dir/worker.lock` (creating `dir`), or says who holds it.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, LockError> {
        let io = |e: std::io::Error| LockError::Io {
            dir: dir.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join("worker.lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path)
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "pid unknown".into());
                return Err(LockError::InUse {
                    dir: dir.display().to_string(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        write!(file, "pid {}", std::process::id()).map_err(io)?;
        Ok(DataDirLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_worker_on_the_same_data_dir_is_refused_until_the_first_stops() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("worker");
        let first = DataDirLock::acquire(&data).expect("the first worker locks it");
        let e = DataDirLock::acquire(&data).unwrap_err();
        assert!(
            matches!(&e, LockError::InUse { holder, .. } if *holder == format!("pid {}", std::process::id())),
            "{e}"
        );
        assert!(e.to_string().contains("its own data_dir"), "{e}");
        // Another data_dir is free.
        let other = DataDirLock::acquire(&dir.path().join("other")).expect("another data_dir");
        drop(first);
        DataDirLock::acquire(&data).expect("free again once the first worker stopped");
        drop(other);
    }
}
