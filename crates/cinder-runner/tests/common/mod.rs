//! Shared by the integration tests: job requests, an independent result hash, and the Podman
//! socket (the container tests run real containers).
#![allow(dead_code)] // each test binary uses a part

use cinder_runner::{
    runtime::RunRequest,
    spec::{JobSpec, SpecKind},
};
use sha2::{Digest, Sha256};
use std::{
    path::{Path, PathBuf},
    time::Duration,
};

/// A job's directories under one temp dir.
pub struct JobDirs {
    pub root: tempfile::TempDir,
}

impl JobDirs {
    pub fn new() -> JobDirs {
        JobDirs {
            root: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Under `parent` (created), like a worker's job directories under its data_dir.
    pub fn new_in(parent: &Path) -> JobDirs {
        std::fs::create_dir_all(parent).expect("parent dir");
        JobDirs {
            root: tempfile::tempdir_in(parent).expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// A request for `spec`, with `in`, `out`, `work` and `logs` under the temp dir.
    pub fn request(&self, job: &str, spec: JobSpec) -> RunRequest {
        let limit = Duration::from_secs(spec.time_limit_secs as u64);
        RunRequest {
            job: job.to_string(),
            spec,
            input_dir: self.path("in"),
            output_dir: self.path("out"),
            work_dir: self.path("work"),
            log_dir: self.path("logs"),
            gpus: Vec::new(),
            time_limit: limit,
        }
    }
}

pub fn process_spec(command: &[&str], time_limit_secs: u32) -> JobSpec {
    JobSpec {
        version: 1,
        kind: SpecKind::Process,
        image: None,
        command: command.iter().map(|s| s.to_string()).collect(),
        env: Default::default(),
        inputs: Vec::new(),
        outputs: "/out".into(),
        gpus: 0,
        min_vram_gib: 0,
        time_limit_secs,
        memory_limit_mib: None,
        deterministic: true,
        verify: None,
    }
}

pub fn container_spec(image: &str, command: &[&str], time_limit_secs: u32) -> JobSpec {
    JobSpec {
        kind: SpecKind::Container,
        image: Some(image.to_string()),
        ..process_spec(command, time_limit_secs)
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The result hash of these (path, contents), computed here from the definition and not
/// with the crate's code: sha256 over `"{path} {size} {sha256}\n"`, bytewise path order.
pub fn expected_result_hash(files: &[(&str, &[u8])]) -> [u8; 32] {
    let mut files = files.to_vec();
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut preimage = String::new();
    for (path, bytes) in files {
        preimage.push_str(&format!("{path} {} {}\n", bytes.len(), sha256_hex(bytes)));
    }
    Sha256::digest(preimage.as_bytes()).into()
}

pub fn dir_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

/// The state letter of a process in /proc (`Z` for a zombie), or `None` when it is gone.
pub fn process_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the state follows the last ')'.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Whether this is a CI run (`CI=true` or `CI=1`): a test that cannot run panics with its
/// reason there instead of returning early, which would count as passed.
pub fn in_ci() -> bool {
    matches!(
        std::env::var("CI").as_deref(),
        Ok("true" | "TRUE" | "True" | "1")
    )
}

/// The Podman API socket, or `None` when container tests are to be skipped
/// (`CINDER_SKIP_CONTAINER_TESTS=1`, refused under CI). Without a socket and without that, the
/// test fails and says how to get one.
pub fn podman_socket(test: &str) -> Option<String> {
    let socket =
        std::env::var("CINDER_PODMAN_SOCKET").unwrap_or_else(|_| "/run/podman/podman.sock".into());
    let path = socket
        .strip_prefix("unix://")
        .unwrap_or(&socket)
        .to_string();
    if std::env::var("CINDER_SKIP_CONTAINER_TESTS").as_deref() == Ok("1") {
        assert!(
            !in_ci(),
            "{test}: CINDER_SKIP_CONTAINER_TESTS=1 under CI: the container tests may not be skipped in CI (unset it)"
        );
        eprintln!("{test}: skipped (CINDER_SKIP_CONTAINER_TESTS=1)");
        return None;
    }
    assert!(
        Path::new(&path).exists(),
        "{test}: no Podman API socket at {path}: run `sudo scripts/podman-setup.sh` (or point CINDER_PODMAN_SOCKET at one, or set CINDER_SKIP_CONTAINER_TESTS=1 to skip container tests)"
    );
    Some(socket)
}

/// The test image scripts/podman-setup.sh creates.
pub const TEST_IMAGE: &str = "localhost/cinder-busybox:latest";

/// The job both runtimes run in the tests: outputs from an input, a variable and a literal.
pub const SCRIPT: &str = r#"set -e
mkdir -p "$CINDER_OUTPUT_DIR/sub"
printf 'hello\n' > "$CINDER_OUTPUT_DIR/a.txt"
tr a-z A-Z < "$CINDER_INPUT_DIR/in.txt" > "$CINDER_OUTPUT_DIR/sub/upper.txt"
echo "$GREETING" > "$CINDER_OUTPUT_DIR/greeting.txt"
echo "to stdout"; echo "to stderr" >&2"#;
