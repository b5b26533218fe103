//! A job's result: the hash of its output files (what the provider commits to on chain and a
//! verifier recomputes), the manifest that describes it, the crash-safe store, and the upload
//! to an object store.

mod store;
mod upload;

pub use store::{ResultStore, StoreError};
pub use upload::{upload_result, UploadError, UploadReport};

use crate::relpath;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    fs,
    io::Read,
    path::{Path, PathBuf},
};

/// Version of the manifest format.
pub const MANIFEST_VERSION: u32 = 1;

/// One output file, by its path relative to the output directory (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    /// 64 lowercase hex characters.
    pub sha256: String,
}

/// What a stored result is. Only `files` enter `result_hash`; logs and timings do not, so
/// honest machines agree on the hash of a deterministic job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub version: u32,
    /// The id the result is stored under: the job key (base58), or another name the worker
    /// chose (a verifier's re-run).
    pub job: String,
    #[serde(with = "crate::hexser")]
    pub result_hash: [u8; 32],
    /// Sorted bytewise by path.
    pub files: Vec<FileEntry>,
    /// "container" or "process".
    pub runtime: String,
    pub exit_code: i64,
    pub started_unix_ms: u64,
    pub finished_unix_ms: u64,
    /// Names of the log files stored beside the outputs (`stdout.log`, `stderr.log`).
    pub logs: Vec<String>,
}

/// Why an output directory cannot be hashed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("output {path} is a symbolic link; outputs must be regular files and directories")]
    Symlink { path: String },
    #[error("output {path} is not a regular file or directory (a fifo, socket or device)")]
    NotRegular { path: String },
    #[error("output path {path:?} is not UTF-8")]
    NonUtf8 { path: PathBuf },
    #[error("output path {path:?} is {reason}")]
    BadPath { path: String, reason: &'static str },
    #[error("reading output {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The result hash over these entries: sha256 of the lines `"{path} {size} {sha256}\n"` in
/// bytewise path order.
pub fn result_hash_of(files: &[FileEntry]) -> [u8; 32] {
    let mut sorted: Vec<&FileEntry> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut hasher = Sha256::new();
    for f in sorted {
        hasher.update(format!("{} {} {}\n", f.path, f.size, f.sha256));
    }
    hasher.finalize().into()
}

/// Hashes every file under `dir` (recursively): the result hash and the entries, sorted by
/// path. Symbolic links and special files are refused; empty directories add nothing; an
/// empty `dir` is allowed (the hash of no lines).
pub fn hash_outputs(dir: &Path) -> Result<([u8; 32], Vec<FileEntry>), OutputError> {
    let files = walk(dir, false)?;
    Ok((result_hash_of(&files), files))
}

/// The files under `dir`, hashed, sorted by path; with `sync`, each file and directory is
/// also fsynced (the store makes a result durable before it becomes visible).
pub(crate) fn walk(dir: &Path, sync: bool) -> Result<Vec<FileEntry>, OutputError> {
    let meta = fs::symlink_metadata(dir).map_err(|source| OutputError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    if meta.file_type().is_symlink() {
        return Err(OutputError::Symlink {
            path: dir.display().to_string(),
        });
    }
    let mut files = Vec::new();
    walk_into(dir, "", sync, &mut files)?;
    files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    Ok(files)
}

fn walk_into(
    dir: &Path,
    prefix: &str,
    sync: bool,
    out: &mut Vec<FileEntry>,
) -> Result<(), OutputError> {
    let io = |path: &str| {
        let path = path.to_string();
        move |source| OutputError::Io { path, source }
    };
    let shown = if prefix.is_empty() { "." } else { prefix };
    for entry in fs::read_dir(dir).map_err(io(shown))? {
        let entry = entry.map_err(io(shown))?;
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| OutputError::NonUtf8 { path: entry.path() })?;
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        if let Some(reason) = relpath::problem(&rel) {
            return Err(OutputError::BadPath { path: rel, reason });
        }
        let kind = entry.file_type().map_err(io(&rel))?;
        if kind.is_symlink() {
            return Err(OutputError::Symlink { path: rel });
        } else if kind.is_dir() {
            walk_into(&entry.path(), &rel, sync, out)?;
        } else if kind.is_file() {
            let (size, sha256) = hash_file(&entry.path(), sync).map_err(io(&rel))?;
            out.push(FileEntry {
                path: rel,
                size,
                sha256: hex::encode(sha256),
            });
        } else {
            return Err(OutputError::NotRegular { path: rel });
        }
    }
    if sync {
        fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(shown))?;
    }
    Ok(())
}

/// Size and sha256 of a file, read in 1 MiB chunks; a large one logs its progress every 15 s.
pub(crate) fn hash_file(path: &Path, sync: bool) -> std::io::Result<(u64, [u8; 32])> {
    const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(15);
    let mut file = fs::File::open(path)?;
    let total = file.metadata()?.len();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    let mut next_report = std::time::Instant::now() + PROGRESS_EVERY;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
        if std::time::Instant::now() >= next_report {
            next_report += PROGRESS_EVERY;
            tracing::info!(path = %path.display(), bytes = size, of = total, "hashing an output");
        }
    }
    if sync {
        file.sync_all()?;
    }
    Ok((size, hasher.finalize().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn result_hash_is_sha256_of_sorted_path_size_hash_lines() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("b/c")).unwrap();
        fs::create_dir_all(dir.path().join("empty")).unwrap();
        fs::write(dir.path().join("b/c/z.txt"), b"zz").unwrap();
        fs::write(dir.path().join("a.txt"), b"hello\n").unwrap();
        fs::write(dir.path().join("B.txt"), b"").unwrap();
        let (hash, files) = hash_outputs(dir.path()).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["B.txt", "a.txt", "b/c/z.txt"],
            "bytewise: upper case first"
        );
        let preimage = format!(
            "B.txt 0 {}\na.txt 6 {}\nb/c/z.txt 2 {}\n",
            sha(b""),
            sha(b"hello\n"),
            sha(b"zz")
        );
        assert_eq!(hash, <[u8; 32]>::from(Sha256::digest(preimage.as_bytes())));
        assert_eq!(files[1].size, 6);
    }

    #[test]
    fn an_empty_output_dir_hashes_to_sha256_of_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (hash, files) = hash_outputs(dir.path()).unwrap();
        assert!(files.is_empty());
        assert_eq!(hex::encode(hash), sha(b""));
    }

    #[test]
    fn symlinks_are_refused_wherever_they_are() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("d/link")).unwrap();
        let e = hash_outputs(dir.path()).unwrap_err();
        assert!(
            matches!(&e, OutputError::Symlink { path } if path == "d/link"),
            "{e}"
        );
        let linked_root = dir.path().join("root-link");
        std::os::unix::fs::symlink(dir.path().join("d"), &linked_root).unwrap();
        assert!(matches!(
            hash_outputs(&linked_root),
            Err(OutputError::Symlink { .. })
        ));
    }

    #[test]
    fn special_files_and_newline_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            hash_outputs(dir.path()),
            Err(OutputError::NotRegular { .. })
        ));
        fs::remove_file(&fifo).unwrap();
        fs::write(dir.path().join("x 1 abc\nforged"), b"").unwrap();
        assert!(matches!(
            hash_outputs(dir.path()),
            Err(OutputError::BadPath { .. })
        ));
    }

    #[test]
    fn result_hash_of_sorts_its_input() {
        let e = |p: &str| FileEntry {
            path: p.into(),
            size: 1,
            sha256: sha(b"x"),
        };
        assert_eq!(
            result_hash_of(&[e("b"), e("a")]),
            result_hash_of(&[e("a"), e("b")])
        );
        assert_ne!(result_hash_of(&[e("a")]), result_hash_of(&[e("b")]));
    }
}
