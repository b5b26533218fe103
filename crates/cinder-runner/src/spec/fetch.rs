//! Downloads specs and inputs over HTTP(S) (or from `file://` when the operator allows it),
//! bounded in size and time, and checks each against the hash it must have.
//!
//! A job's URIs are the client's choice, so by default they may not point into the provider's
//! own network: loopback, private, link-local (the clouds' metadata service at
//! 169.254.169.254 among them) and other internal addresses are refused, whether named
//! directly, reached through a host name (checked on the addresses the connection actually
//! uses, so a name that later resolves elsewhere gains nothing) or through a redirect.

use super::{JobSpec, SpecError, MAX_SPEC_BYTES};
use bytes::Bytes;
use futures::{stream::BoxStream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};
use tokio::io::AsyncWriteExt;

/// How often a download still going says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// How far the fetcher goes for a spec or an input.
#[derive(Debug, Clone)]
pub struct FetcherConfig {
    /// Whether `file://` URIs are read (an operator's choice: they read the worker's disk).
    pub allow_file_uris: bool,
    /// Internal networks ([`is_internal`]) URIs may reach nevertheless: `127.0.0.0/8` for
    /// local testing, an operator's own input mirror; `0.0.0.0/0` and `::/0` allow all.
    pub internal_allowed: Vec<IpNet>,
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
            internal_allowed: Vec::new(),
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
    #[error("{uri}: {address} is an internal address (loopback, private or link-local); this worker does not fetch from its own network unless the operator allows it (fetch_internal_networks)")]
    InternalAddress { uri: String, address: String },
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
    #[error("input {path} is larger than the {declared} bytes its spec states")]
    InputOverDeclared { path: String, declared: u64 },
    #[error("input {path} has sha256 {got}, but the spec says {expected}")]
    InputHashMismatch {
        path: String,
        expected: String,
        got: String,
    },
    #[error("input {path} could not be written: {reason}")]
    InputWrite { path: String, reason: String },
}

impl FetchError {
    /// The error as the job's client may read it on chain: without the text of a connection
    /// error or the address a name resolved to, which describe the provider's own network.
    pub fn public(&self) -> String {
        match self {
            FetchError::SpecUnreachable { uri, .. } => format!("spec {uri} is unreachable"),
            FetchError::InputUnreachable { path, uri, .. } => {
                format!("input {path} ({uri}) is unreachable")
            }
            FetchError::InputWrite { path, .. } => {
                format!("input {path} could not be written on the provider's disk")
            }
            FetchError::InternalAddress { uri, .. } => {
                format!(
                    "{uri} points into the provider's own network, which it does not fetch from"
                )
            }
            other => other.to_string(),
        }
    }
}

/// Fetches specs and inputs. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct Fetcher {
    cfg: FetcherConfig,
    http: reqwest::Client,
    /// The addresses URIs may reach, shared with the client's resolver and redirect policy.
    guard: Guard,
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
    /// Default limits, internal addresses refused; `file://` only if `allow_file_uris`.
    pub fn new(allow_file_uris: bool) -> Fetcher {
        Fetcher::with_config(FetcherConfig {
            allow_file_uris,
            ..FetcherConfig::default()
        })
    }

    pub fn with_config(cfg: FetcherConfig) -> Fetcher {
        let mut http = reqwest::Client::builder()
            // Never the environment's HTTP(S)_PROXY: a proxy resolves names itself, past the
            // check of internal addresses below.
            .no_proxy()
            .connect_timeout(cfg.connect_timeout)
            .read_timeout(cfg.input_idle_timeout)
            .user_agent(concat!("cinder-runner/", env!("CARGO_PKG_VERSION")));
        let guard = Guard(Arc::new(cfg.internal_allowed.clone()));
        // Names resolve to the addresses allowed only; an address written in a redirect's URL
        // is checked before it is followed.
        let redirects = guard.clone();
        http = http
            .dns_resolver(guard.clone())
            .redirect(reqwest::redirect::Policy::custom(
                move |attempt| match redirects.literal(attempt.url()) {
                    Some(ip) => attempt.error(format!("redirect to internal address {ip}")),
                    None if attempt.previous().len() >= 10 => attempt.error("too many redirects"),
                    None => attempt.follow(),
                },
            ));
        let http = http
            .build()
            // Only fails when the TLS backend cannot start, which is a broken build.
            .expect("reqwest client with rustls");
        Fetcher { cfg, http, guard }
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
            // The worker's limit, and the size the spec states (if it states one).
            let too_large = |size: u64| match input.size {
                Some(declared) if size > declared => FetchError::InputOverDeclared {
                    path: path.clone(),
                    declared,
                },
                _ => FetchError::InputTooLarge {
                    path: path.clone(),
                    max: self.cfg.max_input_bytes,
                },
            };
            let limit = input.size.map_or(self.cfg.max_input_bytes, |d| {
                d.min(self.cfg.max_input_bytes)
            });
            if let Some(len) = body.len.filter(|l| *l > limit) {
                return Err(too_large(len));
            }
            let mut file = tokio::fs::File::create(&partial.path)
                .await
                .map_err(write_err)?;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            // A large input shows its progress in the log (hashed as it arrives).
            let total = body.len.or(input.size);
            let mut next_report = tokio::time::Instant::now() + PROGRESS_EVERY;
            while let Some(chunk) = body.chunks.next().await {
                let chunk = chunk.map_err(unreachable)?;
                size += chunk.len() as u64;
                if size > limit {
                    return Err(too_large(size));
                }
                hasher.update(&chunk);
                file.write_all(&chunk).await.map_err(write_err)?;
                if tokio::time::Instant::now() >= next_report {
                    next_report += PROGRESS_EVERY;
                    tracing::info!(path = %path, bytes = size, of = ?total, "downloading and hashing an input");
                }
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
                // Refused with its own error before any connection: an address in the URI,
                // or a name whose every address is internal. (The resolver filters again at
                // connect time.)
                let internal = |ip: IpAddr| {
                    OpenError::Refused(FetchError::InternalAddress {
                        uri: uri.to_string(),
                        address: ip.to_string(),
                    })
                };
                let guard = &self.guard;
                if let Some(ip) = guard.literal(&url) {
                    return Err(internal(ip));
                }
                if let Some(host) = url.host_str().filter(|_| url.domain().is_some()) {
                    let port = url.port_or_known_default().unwrap_or(0);
                    let addrs: Vec<IpAddr> = tokio::net::lookup_host((host, port))
                        .await
                        .map_err(|e| unreachable(format!("{host}: {e}")))?
                        .map(|a| a.ip())
                        .collect();
                    if let Some(ip) = addrs
                        .first()
                        .filter(|_| addrs.iter().all(|a| guard.blocks(*a)))
                    {
                        return Err(internal(*ip));
                    }
                }
                self.get(url).await
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

impl Fetcher {
    async fn get(&self, url: url::Url) -> Result<Body, OpenError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OpenError::Unreachable(error_chain(&e)))?;
        if !resp.status().is_success() {
            return Err(OpenError::Unreachable(format!("HTTP {}", resp.status())));
        }
        Ok(Body {
            len: resp.content_length(),
            chunks: resp.bytes_stream().map_err(|e| error_chain(&e)).boxed(),
        })
    }
}

/// Whether `ip` is inside some network rather than on the public internet: unspecified,
/// loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, with the
/// clouds' metadata service; fe80::/10), shared address space (100.64/10), 0/8, the IETF
/// protocol block (192.0.0/24), benchmarking (198.18/15), documentation ranges, multicast,
/// reserved (240/4) and broadcast; IPv4-mapped and -translated IPv6 forms by their IPv4.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // 64:ff9b::/96 (NAT64) carries an IPv4 address in its last 32 bits.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [_, _, _, _, _, _, hi, lo] = s;
                return is_internal(IpAddr::V4(Ipv4Addr::from(
                    (u32::from(hi) << 16) | u32::from(lo),
                )));
            }
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        }
    }
}

/// An IP network in CIDR form (`10.1.0.0/16`, `::1/128`; a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an IP network (e.g. 10.1.0.0/16 or ::1/128)");
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(IpNet {
            addr: addr.to_canonical(),
            prefix,
        })
    }
}

/// Which addresses a job's URIs may reach: public ones, and internal ones in an allowed network.
#[derive(Debug, Clone)]
struct Guard(Arc<Vec<IpNet>>);

impl Guard {
    fn blocks(&self, ip: IpAddr) -> bool {
        is_internal(ip) && !self.0.iter().any(|n| n.contains(ip))
    }

    /// The URL's host when it is a blocked address written out (no name to resolve).
    fn literal(&self, url: &url::Url) -> Option<IpAddr> {
        let ip = match url.host()? {
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
            url::Host::Domain(_) => return None,
        };
        self.blocks(ip).then_some(ip)
    }
}

/// The connection gets only a name's allowed addresses: a name that resolves (now, or by the
/// time of the connection) to a blocked internal address cannot reach it.
impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let guard = self.clone();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| !guard.blocks(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to internal addresses ({all:?}); this worker does not fetch from its own network").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
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
        // Unique per download: two downloads of one path (a job re-run while an abandoned
        // attempt still streams) never write into one file.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Partial {
            path: final_path
                .with_file_name(format!(".{name}.{}-{n}.cinder-partial", std::process::id())),
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
