//! The job spec: what a client asks a provider to run. JSON; its spec hash (on chain) is the
//! sha256 of its exact bytes, so the spec is parsed from the bytes that were hashed and never
//! re-serialised for hashing.

mod fetch;

pub use fetch::{is_internal, FetchError, Fetcher, FetcherConfig, IpNet};

use crate::relpath;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The only spec version this crate runs.
pub const SPEC_VERSION: u32 = 1;
/// Largest spec accepted, in bytes.
pub const MAX_SPEC_BYTES: usize = 64 * 1024;
/// Most inputs a spec may list.
pub const MAX_INPUTS: usize = 256;
/// Longest time limit a spec may ask for: 30 days.
pub const MAX_TIME_LIMIT_SECS: u32 = 30 * 24 * 3600;
/// Smallest memory limit accepted: below this nothing useful starts.
pub const MIN_MEMORY_LIMIT_MIB: u64 = 16;
/// Largest memory limit accepted: 16 TiB.
pub const MAX_MEMORY_LIMIT_MIB: u64 = 16 * 1024 * 1024;
/// Most whole GPUs a spec may ask for.
pub const MAX_GPUS: u32 = 64;

/// Environment names the runtimes set themselves; a spec may not set them.
pub const RESERVED_ENV: &[&str] = &["CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"];
/// Prefix of the runtime's own variables (CINDER_JOB, CINDER_INPUT_DIR, CINDER_OUTPUT_DIR).
pub const RESERVED_ENV_PREFIX: &str = "CINDER_";

/// How the job is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpecKind {
    /// In a container from an image pinned by digest or image id.
    Container,
    /// As a program the operator allow-listed by name.
    Process,
}

/// One input file: fetched from `uri`, checked against `sha256`, placed at `path` under the
/// job's input directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub uri: String,
    pub sha256: String,
    pub path: String,
    /// Its size in bytes, if the client states it: a worker checks its free disk against the
    /// inputs' total before claiming, and stops a download that runs past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl JobSpec {
    /// The inputs' total declared size, and how many inputs state none.
    pub fn declared_input_bytes(&self) -> (u64, usize) {
        self.inputs
            .iter()
            .fold((0u64, 0usize), |(total, unknown), i| match i.size {
                Some(n) => (total.saturating_add(n), unknown),
                None => (total, unknown + 1),
            })
    }
}

impl InputSpec {
    /// The expected sha256 as bytes (validated specs always have one).
    pub fn sha256_bytes(&self) -> Option<[u8; 32]> {
        crate::hexser::parse(&self.sha256)
    }
}

/// How a sampled job's re-execution is compared with the provider's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerifyMode {
    /// Byte-identical outputs (the default for a `deterministic` job).
    Exact,
    /// `.npy` float arrays element-wise within the tolerance, every other file exactly.
    Tolerance,
    /// Never re-executed.
    None,
}

/// The spec's `verify` section: the client's rule for judging a re-execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRule {
    pub mode: VerifyMode,
    #[serde(default)]
    pub rtol: f64,
    #[serde(default)]
    pub atol: f64,
    #[serde(default)]
    pub max_mismatch_fraction: f64,
    /// NaN equals NaN (otherwise a NaN never matches).
    #[serde(default)]
    pub nan_equal: bool,
    /// Output paths not compared (`*` any run of characters, `?` one): logs, timings, text
    /// summaries of numbers that are compared in their arrays. Whatever matches is the
    /// provider's to write as it likes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Raw little-endian float outputs (`f32`, `f16`, `bf16`, `f64`) by path pattern, with the
    /// shape each must have: compared under the tolerance like `.npy` arrays (`tolerance`
    /// mode only; without a layout such a file is compared exactly).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raw: Vec<crate::compare::RawLayout>,
}

/// Most `exclude` patterns (and most `raw` layouts) a rule may have, and the longest pattern.
pub const MAX_EXCLUDE_PATTERNS: usize = 64;
pub const MAX_EXCLUDE_PATTERN_LEN: usize = 256;

impl VerifyRule {
    /// The comparison this rule makes (exact for `exact` and `none`).
    pub fn tolerance(&self) -> crate::compare::Tolerance {
        match self.mode {
            VerifyMode::Tolerance => crate::compare::Tolerance {
                rtol: self.rtol,
                atol: self.atol,
                max_mismatch_fraction: self.max_mismatch_fraction,
                nan_equal: self.nan_equal,
            },
            _ => crate::compare::Tolerance::EXACT,
        }
    }
}

/// A job spec, as the client wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub version: u32,
    pub kind: SpecKind,
    /// Container jobs only: `name@sha256:<64 hex>` or `sha256:<64 hex>`, the hex being the
    /// image id or a manifest digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Container: the full command line (it replaces the image's entrypoint). Process:
    /// `command[0]` is the name of an allow-listed program, the rest its arguments.
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub inputs: Vec<InputSpec>,
    /// Container jobs: the absolute directory inside the container whose files are the
    /// result. Process jobs get `CINDER_OUTPUT_DIR` and this is ignored.
    #[serde(default = "default_outputs")]
    pub outputs: String,
    /// Whole GPUs wanted (0 for CPU-class markets).
    #[serde(default)]
    pub gpus: u32,
    #[serde(default)]
    pub min_vram_gib: u32,
    pub time_limit_secs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_mib: Option<u64>,
    /// The client says equal inputs give byte-equal outputs (so re-execution can check); the
    /// job then runs with the common frameworks' determinism switches set
    /// ([`JobSpec::determinism_env`]).
    #[serde(default)]
    pub deterministic: bool,
    /// How a re-execution is judged; absent: `exact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<VerifyRule>,
}

fn default_outputs() -> String {
    "/out".into()
}

/// Why a spec is refused. Each names the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("spec is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("spec is not valid JSON of the spec schema: {0}")]
    Json(String),
    #[error("spec version {got} is not supported (this worker runs version {SPEC_VERSION})")]
    UnsupportedVersion { got: u32 },
    #[error("time_limit_secs = {got}: must be between 1 and {MAX_TIME_LIMIT_SECS} (30 days)")]
    TimeLimit { got: u32 },
    #[error("memory_limit_mib = {got}: must be between {MIN_MEMORY_LIMIT_MIB} and {MAX_MEMORY_LIMIT_MIB}")]
    MemoryLimit { got: u64 },
    #[error("gpus = {got}: at most {MAX_GPUS}")]
    TooManyGpus { got: u32 },
    #[error("command is empty: give at least the program to run")]
    EmptyCommand,
    #[error("command[{index}] contains a NUL byte")]
    CommandNul { index: usize },
    #[error("a container job needs an image, pinned by digest (name@sha256:<64 hex>)")]
    ImageMissing,
    #[error("image {image:?} is not pinned: use name@sha256:<64 hex> (a digest or image id), never a tag alone")]
    ImageNotPinned { image: String },
    #[error("a process job has no image, but the spec names {image:?}")]
    ImageForProcess { image: String },
    #[error("outputs {path:?}: a container's output directory must be an absolute path without '..', other than '/'")]
    OutputsPath { path: String },
    #[error("{count} inputs; at most {max} are accepted")]
    TooManyInputs { count: usize, max: usize },
    #[error("input path {path:?} is {reason}: give a relative path inside the input directory")]
    InputPath { path: String, reason: &'static str },
    #[error("input paths {first:?} and {second:?} collide (the same file, or a file where a directory is needed)")]
    InputPathConflict { first: String, second: String },
    #[error("input {path:?}: sha256 {value:?} is not 64 hex characters")]
    InputHash { path: String, value: String },
    #[error("input {path:?}: uri {uri:?} must be http://, https:// or file://")]
    InputUri { path: String, uri: String },
    #[error("env key {key:?}: must match [A-Za-z_][A-Za-z0-9_]* (at most 256 bytes)")]
    EnvKey { key: String },
    #[error("env key {key:?} is set by the runtime; a spec may not set it")]
    EnvReserved { key: String },
    #[error("env {key:?}: value contains a NUL byte")]
    EnvValueNul { key: String },
    #[error("verify: {0}")]
    Verify(String),
}

/// The sha256 of a spec's exact bytes: the spec hash the chain commits to.
pub fn spec_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl JobSpec {
    /// Parses and validates spec bytes (the bytes whose sha256 is the spec hash).
    pub fn parse(bytes: &[u8]) -> Result<JobSpec, SpecError> {
        if bytes.len() > MAX_SPEC_BYTES {
            return Err(SpecError::TooLarge {
                size: bytes.len(),
                max: MAX_SPEC_BYTES,
            });
        }
        let spec: JobSpec =
            serde_json::from_slice(bytes).map_err(|e| SpecError::Json(e.to_string()))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Every rule a spec must meet before a worker claims its job.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.version != SPEC_VERSION {
            return Err(SpecError::UnsupportedVersion { got: self.version });
        }
        if self.time_limit_secs == 0 || self.time_limit_secs > MAX_TIME_LIMIT_SECS {
            return Err(SpecError::TimeLimit {
                got: self.time_limit_secs,
            });
        }
        if let Some(mib) = self.memory_limit_mib {
            if !(MIN_MEMORY_LIMIT_MIB..=MAX_MEMORY_LIMIT_MIB).contains(&mib) {
                return Err(SpecError::MemoryLimit { got: mib });
            }
        }
        if self.gpus > MAX_GPUS {
            return Err(SpecError::TooManyGpus { got: self.gpus });
        }
        self.validate_command()?;
        self.validate_image()?;
        self.validate_inputs()?;
        self.validate_env()?;
        self.validate_verify()
    }

    /// The environment a `deterministic` job runs with, the same for the provider's run and
    /// every re-run of job `job` (empty otherwise): `CINDER_DETERMINISTIC=1`; `CINDER_SEED`, a
    /// seed derived from the job key (`u32` of sha256("cinder-seed:" ‖ job), little-endian) for
    /// the job's own RNGs; and the switches frameworks read from the environment:
    /// `PYTHONHASHSEED=0`, `CUBLAS_WORKSPACE_CONFIG=:4096:8` (deterministic cuBLAS, which
    /// `torch.use_deterministic_algorithms(True)` requires), `NVIDIA_TF32_OVERRIDE=0` (no TF32
    /// in cuBLAS/cuDNN), `TF_DETERMINISTIC_OPS=1` and `TF_CUDNN_DETERMINISTIC=1` (TensorFlow),
    /// `XLA_FLAGS=--xla_gpu_deterministic_ops=true` (JAX). A framework variable the spec's `env`
    /// sets keeps the spec's value (`CINDER_*` are the runner's; a spec may not set them). What the environment cannot switch (PyTorch's
    /// `use_deterministic_algorithms`, seeding its generators) the job's code does; README,
    /// "Writing a job that verifies `exact`".
    pub fn determinism_env(&self, job: &str) -> Vec<(String, String)> {
        if !self.deterministic {
            return Vec::new();
        }
        let digest = Sha256::digest(format!("cinder-seed:{job}").as_bytes());
        let seed = u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]);
        [
            ("CINDER_DETERMINISTIC", "1".to_string()),
            ("CINDER_SEED", seed.to_string()),
            ("PYTHONHASHSEED", "0".into()),
            ("CUBLAS_WORKSPACE_CONFIG", ":4096:8".into()),
            ("NVIDIA_TF32_OVERRIDE", "0".into()),
            ("TF_DETERMINISTIC_OPS", "1".into()),
            ("TF_CUDNN_DETERMINISTIC", "1".into()),
            ("XLA_FLAGS", "--xla_gpu_deterministic_ops=true".into()),
        ]
        .into_iter()
        .filter(|(k, _)| !self.env.contains_key(*k))
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The rule a re-execution of this job is judged by.
    pub fn verify_rule(&self) -> VerifyRule {
        self.verify.clone().unwrap_or(VerifyRule {
            mode: VerifyMode::Exact,
            rtol: 0.0,
            atol: 0.0,
            max_mismatch_fraction: 0.0,
            nan_equal: false,
            exclude: Vec::new(),
            raw: Vec::new(),
        })
    }

    fn validate_verify(&self) -> Result<(), SpecError> {
        let Some(rule) = &self.verify else {
            return Ok(());
        };
        if rule.exclude.len() > MAX_EXCLUDE_PATTERNS {
            return Err(SpecError::Verify(format!(
                "{} exclude patterns; at most {MAX_EXCLUDE_PATTERNS}",
                rule.exclude.len()
            )));
        }
        if rule.raw.len() > MAX_EXCLUDE_PATTERNS {
            return Err(SpecError::Verify(format!(
                "{} raw layouts; at most {MAX_EXCLUDE_PATTERNS}",
                rule.raw.len()
            )));
        }
        let pattern_ok =
            |p: &str| !p.is_empty() && p.len() <= MAX_EXCLUDE_PATTERN_LEN && !p.contains('\0');
        for l in &rule.raw {
            if !pattern_ok(&l.pattern) {
                return Err(SpecError::Verify(format!(
                    "raw pattern {:?}: 1-{MAX_EXCLUDE_PATTERN_LEN} bytes, no NUL",
                    l.pattern
                )));
            }
            if l.shape.len() > 32 || l.bytes().is_none() {
                return Err(SpecError::Verify(format!(
                    "raw layout {:?}: shape {:?} has more than 32 dimensions or more than {} elements",
                    l.pattern,
                    l.shape,
                    crate::compare::MAX_RAW_ELEMENTS
                )));
            }
        }
        if !rule.raw.is_empty() && rule.mode != VerifyMode::Tolerance {
            return Err(SpecError::Verify(format!(
                "raw layouts apply to mode \"tolerance\" only, not {:?}",
                rule.mode
            )));
        }
        for p in &rule.exclude {
            if !pattern_ok(p) {
                return Err(SpecError::Verify(format!(
                    "exclude pattern {p:?}: 1-{MAX_EXCLUDE_PATTERN_LEN} bytes, no NUL"
                )));
            }
            if p.chars().all(|c| c == '*') {
                return Err(SpecError::Verify(format!(
                    "exclude pattern {p:?} excludes every output: nothing would be verified"
                )));
            }
        }
        let tolerances = [rule.rtol, rule.atol, rule.max_mismatch_fraction];
        match rule.mode {
            VerifyMode::Tolerance => rule
                .tolerance()
                .check()
                .map_err(|e| SpecError::Verify(e.to_string())),
            _ if tolerances.iter().any(|t| *t != 0.0) => Err(SpecError::Verify(format!(
                "rtol, atol and max_mismatch_fraction apply to mode \"tolerance\" only, not {:?}",
                rule.mode
            ))),
            _ => Ok(()),
        }
    }

    fn validate_command(&self) -> Result<(), SpecError> {
        if self.command.is_empty() || self.command[0].is_empty() {
            return Err(SpecError::EmptyCommand);
        }
        match self.command.iter().position(|a| a.contains('\0')) {
            Some(index) => Err(SpecError::CommandNul { index }),
            None => Ok(()),
        }
    }

    fn validate_image(&self) -> Result<(), SpecError> {
        match (self.kind, &self.image) {
            (SpecKind::Container, None) => Err(SpecError::ImageMissing),
            (SpecKind::Container, Some(image)) => {
                if ImagePin::parse(image).is_none() {
                    return Err(SpecError::ImageNotPinned {
                        image: image.clone(),
                    });
                }
                let out = &self.outputs;
                let escapes = out.split('/').any(|c| c == "..");
                if !out.starts_with('/') || out.trim_end_matches('/').is_empty() || escapes {
                    return Err(SpecError::OutputsPath { path: out.clone() });
                }
                Ok(())
            }
            (SpecKind::Process, Some(image)) => Err(SpecError::ImageForProcess {
                image: image.clone(),
            }),
            (SpecKind::Process, None) => Ok(()),
        }
    }

    fn validate_inputs(&self) -> Result<(), SpecError> {
        if self.inputs.len() > MAX_INPUTS {
            return Err(SpecError::TooManyInputs {
                count: self.inputs.len(),
                max: MAX_INPUTS,
            });
        }
        let mut seen = BTreeSet::new();
        for input in &self.inputs {
            if let Some(reason) = relpath::problem(&input.path) {
                return Err(SpecError::InputPath {
                    path: input.path.clone(),
                    reason,
                });
            }
            if input.sha256_bytes().is_none() {
                return Err(SpecError::InputHash {
                    path: input.path.clone(),
                    value: input.sha256.clone(),
                });
            }
            let scheme_ok = ["http://", "https://", "file://"]
                .iter()
                .any(|s| input.uri.len() > s.len() && input.uri[..s.len()].eq_ignore_ascii_case(s));
            if !scheme_ok {
                return Err(SpecError::InputUri {
                    path: input.path.clone(),
                    uri: input.uri.clone(),
                });
            }
            if !seen.insert(input.path.as_str()) {
                return Err(SpecError::InputPathConflict {
                    first: input.path.clone(),
                    second: input.path.clone(),
                });
            }
        }
        // A file where another input needs a directory cannot be written.
        for path in &seen {
            if let Some(dir) = ancestors(path).find(|a| seen.contains(a)) {
                return Err(SpecError::InputPathConflict {
                    first: dir.to_string(),
                    second: path.to_string(),
                });
            }
        }
        Ok(())
    }

    fn validate_env(&self) -> Result<(), SpecError> {
        for (key, value) in &self.env {
            let mut chars = key.chars();
            let first_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !first_ok || !rest_ok || key.len() > 256 {
                return Err(SpecError::EnvKey { key: key.clone() });
            }
            if key.starts_with(RESERVED_ENV_PREFIX) || RESERVED_ENV.contains(&key.as_str()) {
                return Err(SpecError::EnvReserved { key: key.clone() });
            }
            if value.contains('\0') {
                return Err(SpecError::EnvValueNul { key: key.clone() });
            }
        }
        Ok(())
    }
}

/// The proper ancestors of a relative path: `a/b/c` → `a/b`, `a`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.rmatch_indices('/').map(move |(i, _)| &path[..i])
}

/// An image reference pinned to content: an optional name, and the 32 bytes of a `sha256:`
/// image id or manifest digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePin {
    /// The repository part (`localhost/cinder-busybox`), if any.
    pub name: Option<String>,
    /// 64 lowercase hex characters.
    pub hex: String,
}

impl ImagePin {
    /// `name@sha256:<64 hex>` or `sha256:<64 hex>`; `None` for anything else (tags included).
    pub fn parse(image: &str) -> Option<ImagePin> {
        let (name, digest) = match image.rsplit_once('@') {
            Some((name, digest)) => (Some(name), digest),
            None => (None, image),
        };
        let hex = digest.strip_prefix("sha256:")?;
        crate::hexser::parse(hex)?;
        let name = match name {
            Some(n) if n.is_empty() || n.contains(char::is_whitespace) => return None,
            Some(n) => Some(n.to_string()),
            None => None,
        };
        Some(ImagePin {
            name,
            hex: hex.to_ascii_lowercase(),
        })
    }

    /// `sha256:<hex>`, as engines write image ids and digests.
    pub fn digest(&self) -> String {
        format!("sha256:{}", self.hex)
    }
}

impl std::fmt::Display for ImagePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name}@sha256:{}", self.hex),
            None => write!(f, "sha256:{}", self.hex),
        }
    }
}

#[cfg(test)]
mod tests;
