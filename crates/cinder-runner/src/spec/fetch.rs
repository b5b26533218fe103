//! Downloads specs and inputs over HTTP(S) (or from `file://` when the operator allows it),
//! bounded in size and time, and checks each against the hash it must have.

use super::{JobSpec, SpecError, MAX_SPEC_BYTES};
use bytes::Bytes;
use futures::{stream::BoxStream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use std::{
    path::{Path, PathBuf},
    time::Duration,
};
use tokio::io::AsyncWriteExt;

/// How far the fetcher goes for a spec or an input.
#[derive(Debug, Clone)]
pub struct FetcherConfig {
    /// Whether `file://` URIs are read (an operator's choice: they read the worker's disk).
    pub allow_file_uris: bool,
    /// TCP + TLS connection set-up.
    pub connect_timeout: Duration,
    /// A whole spec download.
    pub spec_timeout: Duration,
    /// Longest silence while an input streams.
    pub input_idle_timeout: Duration,
    /// A whole input download.
    pub input_timeout: Duration,
    /// Largest single input, in bytes.
    pub max_input_bytes: u64,
    /// Inputs downloaded at once.
    pub input_concurrency: usize,
}

impl Default for FetcherConfig {
    fn default() -> Self {
        FetcherConfig {
            allow_file_uris: false,
            connect_timeout: Duration::from_secs(10),
            spec_timeout: Duration::from_secs(30),
            input_idle_timeout: Duration::from_secs(60),
            input_timeout: Duration::from_secs(3600),
            max_input_bytes: 64 << 30,
            input_concurrency: 4,
        }
    }
}

/// Why a spec or an input could not be had as it must be.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{uri}: file:// URIs are disabled on this worker (allow_file_uris)")]
    FileUriNotAllowed { uri: String },
    #[error("{uri}: only http://, https:// and file:// URIs are fetched")]
    UnsupportedUri { uri: String },
    #[error("spec {uri} is unreachable: {reason}")]
    SpecUnreachable { uri: String, reason: String },
    #[error("spec bytes have sha256 {got}, but the job's spec hash is {expected}")]
    SpecHashMismatch { expected: String, got: String },
    #[error("spec is malformed: {0}")]
    SpecMalformed(#[from] SpecError),
    #[error("input {path} ({uri}) is unreachable: {reason}")]
    InputUnreachable {
        path: String,
        uri: String,
        reason: String,
    },
    #[error("input {path} is larger than this worker's limit of {max} bytes")]
    InputTooLarge { path: String, max: u64 },
    #[error("input {path} has sha256 {got}, but the spec says {expected}")]
    InputHashMismatch {
        path: String,
        expected: String,
        got: String,
    },
    #[error("input {path} could not be written: {reason}")]
    InputWrite { path: String, reason: String },
}

/// Fetches specs and inputs. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct Fetcher {
    cfg: FetcherConfig,
    http: reqwest::Client,
}

/// Why a URI could not be opened: refused outright, or tried and unreachable.
enum OpenError {
    Refused(FetchError),
    Unreachable(String),
}

/// A body being read: its announced length, if any, and its chunks.
struct Body {
    len: Option<u64>,
    chunks: BoxStream<'static, Result<Bytes, String>>,
}

impl Fetcher {
    /// Default limits; `file://` only if `allow_file_uris`.
    pub fn new(allow_file_uris: bool) -> Fetcher {
        Fetcher::with_config(FetcherConfig {
            allow_file_uris,
            ..FetcherConfig::default()
        })
    }

    pub fn with_config(cfg: FetcherConfig) -> Fetcher {
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .read_timeout(cfg.input_idle_timeout)
            .user_agent(concat!("cinder-runner/", env!("CARGO_PKG_VERSION")))
            .build()
            // Only fails when the TLS backend cannot start, which is a broken build.
            .expect("reqwest client with rustls");
        Fetcher { cfg, http }
    }

    pub fn config(&self) -> &FetcherConfig {
        &self.cfg
    }

    /// Downloads a spec, checks that its sha256 is `expected`, and parses and validates it.
    /// Returns the spec and its exact bytes.
    pub async fn fetch_spec(
        &self,
        uri: &str,
        expected: &[u8; 32],
    ) -> Result<(JobSpec, Vec<u8>), FetchError> {
        let unreachable = |reason: String| FetchError::SpecUnreachable {
            uri: uri.to_string(),
            reason,
        };
        let read = async {
            let mut body = self.open(uri).await.map_err(|e| match e {
                OpenError::Refused(e) => e,
                OpenError::Unreachable(reason) => unreachable(reason),
            })?;
            let too_large = |size: u64| {
                FetchError::SpecMalformed(SpecError::TooLarge {
                    size: size as usize,
                    max: MAX_SPEC_BYTES,
                })
            };
            if let Some(len) = body.len.filter(|&l| l > MAX_SPEC_BYTES as u64) {
                return Err(too_large(len));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = body.chunks.next().await {
                bytes.extend_from_slice(&chunk.map_err(unreachable)?);
                if bytes.len() > MAX_SPEC_BYTES {
                    return Err(too_large(bytes.len() as u64));
                }
            }
            Ok(bytes)
        };
        let bytes = tokio::time::timeout(self.cfg.spec_timeout, read)
            .await
            .map_err(|_| {
                unreachable(format!(
                    "no complete answer within {:?}",
                    self.cfg.spec_timeout
                ))
            })??;
        let got = super::spec_hash(&bytes);
        if &got != expected {
            return Err(FetchError::SpecHashMismatch {
                expected: hex::encode(expected),
                got: hex::encode(got),
            });
        }
        let spec = JobSpec::parse(&bytes)?;
        Ok((spec, bytes))
    }

    /// Downloads every input of `spec` into `dest_dir` (at its relative path), hashing while
    /// it streams to disk. A file whose hash does not match is removed, as is any partial
    /// download; inputs completed before a failure stay.
    pub async fn fetch_inputs(&self, spec: &JobSpec, dest_dir: &Path) -> Result<(), FetchError> {
        spec.validate()?;
        // The futures are built eagerly: a stream that maps with a borrowing closure is not
        // provably `Send` for every lifetime, which a spawned worker task requires.
        let downloads: Vec<_> = spec
            .inputs
            .iter()
            .map(|input| self.fetch_input(input, dest_dir))
            .collect();
        futures::stream::iter(downloads)
            .buffer_unordered(self.cfg.input_concurrency.max(1))
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn fetch_input(
        &self,
        input: &super::InputSpec,
        dest_dir: &Path,
    ) -> Result<(), FetchError> {
        let path = input.path.clone();
        let expected = input.sha256_bytes().ok_or_else(|| SpecError::InputHash {
            path: path.clone(),
            value: input.sha256.clone(),
        })?;
        let final_path = dest_dir.join(&input.path);
        let write_err = |e: std::io::Error| FetchError::InputWrite {
            path: path.clone(),
            reason: e.to_string(),
        };
        if let Some(parent) = final_path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(write_err)?;
        }
        let partial = Partial::new(&final_path);
        let unreachable = |reason: String| FetchError::InputUnreachable {
            path: path.clone(),
            uri: input.uri.clone(),
            reason,
        };
        let download = async {
            let mut body = self.open(&input.uri).await.map_err(|e| match e {
                OpenError::Refused(e) => e,
                OpenError::Unreachable(reason) => unreachable(reason),
            })?;
            let too_large = || FetchError::InputTooLarge {
                path: path.clone(),
                max: self.cfg.max_input_bytes,
            };
            if body.len.is_some_and(|l| l > self.cfg.max_input_bytes) {
                return Err(too_large());
            }
            let mut file = tokio::fs::File::create(&partial.path)
                .await
                .map_err(write_err)?;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            while let Some(chunk) = body.chunks.next().await {
                let chunk = chunk.map_err(unreachable)?;
                size += chunk.len() as u64;
                if size > self.cfg.max_input_bytes {
                    return Err(too_large());
                }
                hasher.update(&chunk);
                file.write_all(&chunk).await.map_err(write_err)?;
            }
            // No fsync: after a crash the worker fetches its inputs again.
            file.flush().await.map_err(write_err)?;
            Ok(<[u8; 32]>::from(hasher.finalize()))
        };
        let got = tokio::time::timeout(self.cfg.input_timeout, download)
            .await
            .map_err(|_| {
                unreachable(format!("not complete within {:?}", self.cfg.input_timeout))
            })??;
        if got != expected {
            return Err(FetchError::InputHashMismatch {
                path,
                expected: hex::encode(expected),
                got: hex::encode(got),
            });
        }
        partial.commit(&final_path).await.map_err(write_err)
    }

    /// Opens `uri` for reading.
    async fn open(&self, uri: &str) -> Result<Body, OpenError> {
        let unreachable = OpenError::Unreachable;
        let unsupported = || {
            OpenError::Refused(FetchError::UnsupportedUri {
                uri: uri.to_string(),
            })
        };
        let url = url::Url::parse(uri).map_err(|_| unsupported())?;
        match url.scheme() {
            "http" | "https" => {
                let resp = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| unreachable(error_chain(&e)))?;
                if !resp.status().is_success() {
                    return Err(unreachable(format!("HTTP {}", resp.status())));
                }
                Ok(Body {
                    len: resp.content_length(),
                    chunks: resp.bytes_stream().map_err(|e| error_chain(&e)).boxed(),
                })
            }
            "file" if !self.cfg.allow_file_uris => {
                Err(OpenError::Refused(FetchError::FileUriNotAllowed {
                    uri: uri.to_string(),
                }))
            }
            "file" => {
                let path: PathBuf = url
                    .to_file_path()
                    .map_err(|_| unreachable("not a local absolute path".into()))?;
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| unreachable(format!("{}: {e}", path.display())))?;
                let len = file.metadata().await.ok().map(|m| m.len());
                Ok(Body {
                    len,
                    chunks: tokio_util::io::ReaderStream::new(file)
                        .map_err(|e| e.to_string())
                        .boxed(),
                })
            }
            _ => Err(unsupported()),
        }
    }
}

/// "error: cause: cause", since reqwest's Display alone hides why a connection failed.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A download in progress beside its final path; removed unless committed, also when the
/// download is dropped half way (a failed sibling input, a cancelled job).
struct Partial {
    path: PathBuf,
    committed: bool,
}

impl Partial {
    fn new(final_path: &Path) -> Partial {
        let name = final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Partial {
            path: final_path.with_file_name(format!(".{name}.cinder-partial")),
            committed: false,
        }
    }

    async fn commit(mut self, final_path: &Path) -> std::io::Result<()> {
        tokio::fs::rename(&self.path, final_path).await?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
