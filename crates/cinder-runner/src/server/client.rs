//! The client side: download a job's results from its provider and check every byte
//! against the manifest, then recompute the result hash (which the caller compares with the
//! chain's commitment). The provider is not trusted: its manifest's paths are checked before
//! anything is written, and each file must have exactly the size and sha256 it claims.

use super::{
    auth_message, now_secs, results_resource, HEADER_CLIENT, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use crate::{
    relpath,
    results::{result_hash_of, FileEntry, Manifest},
};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::Duration,
};
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("{url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered {status}: {error}: {message}")]
    Refused {
        url: String,
        status: u16,
        error: String,
        message: String,
    },
    #[error("the provider's manifest is unusable: {0}")]
    BadManifest(String),
    #[error("{path}: expected {expected_size} bytes with sha256 {expected_sha256}, got {got_size} bytes with sha256 {got_sha256}")]
    FileMismatch {
        path: String,
        expected_size: u64,
        expected_sha256: String,
        got_size: u64,
        got_sha256: String,
    },
    #[error("the manifest claims result hash {claimed} but its files hash to {computed}")]
    ResultHashMismatch { claimed: String, computed: String },
    #[error("{path}: {reason}")]
    Io { path: PathBuf, reason: String },
}

/// Downloads the results of `job` from the provider at `endpoint` (e.g.
/// `http://host:8700`) into `dest_dir`, signing each request as `client` with `sign`
/// (ed25519 over [`auth_message`] of this endpoint's [`results_resource`] for `job`). Returns the result hash recomputed from the files.
pub async fn download_results(
    endpoint: &str,
    job: &str,
    client: &[u8; 32],
    sign: impl Fn(&[u8]) -> [u8; 64],
    dest_dir: &Path,
) -> Result<[u8; 32], DownloadError> {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| DownloadError::Unreachable {
            url: endpoint.to_string(),
            reason: e.to_string(),
        })?;
    let base = url::Url::parse(endpoint).map_err(|e| DownloadError::Unreachable {
        url: endpoint.to_string(),
        reason: format!("not a URL: {e}"),
    })?;
    let resource =
        results_resource(endpoint, job).map_err(|reason| DownloadError::Unreachable {
            url: endpoint.to_string(),
            reason,
        })?;
    let client_b58 = bs58::encode(client).into_string();
    let get = |segments: Vec<&str>| {
        let mut url = base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["v1", "jobs", job])
                .extend(segments);
        }
        let timestamp = now_secs();
        let signature = sign(&auth_message(&resource, timestamp));
        let request = http
            .get(url.clone())
            .header(HEADER_CLIENT, &client_b58)
            .header(HEADER_TIMESTAMP, timestamp.to_string())
            .header(HEADER_SIGNATURE, bs58::encode(signature).into_string());
        async move {
            let unreachable = |e: reqwest::Error| DownloadError::Unreachable {
                url: url.to_string(),
                reason: e.to_string(),
            };
            let response = request.send().await.map_err(unreachable)?;
            if response.status().is_success() {
                return Ok(response);
            }
            let status = response.status().as_u16();
            let body = read_limited(response, 64 * 1024).await.unwrap_or_default();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let text = |k: &str| body[k].as_str().unwrap_or("").to_string();
            Err(DownloadError::Refused {
                url: url.to_string(),
                status,
                error: text("error"),
                message: text("message"),
            })
        }
    };

    let manifest = read_limited(get(vec!["manifest"]).await?, MAX_MANIFEST_BYTES)
        .await
        .map_err(DownloadError::BadManifest)?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest).map_err(|e| DownloadError::BadManifest(e.to_string()))?;
    check_manifest(&manifest, job)?;
    tokio::fs::create_dir_all(dest_dir)
        .await
        .map_err(io_err(dest_dir))?;
    for entry in &manifest.files {
        let response = get(std::iter::once("files")
            .chain(entry.path.split('/'))
            .collect())
        .await?;
        receive(response, entry, dest_dir).await?;
    }
    let computed = result_hash_of(&manifest.files);
    if computed != manifest.result_hash {
        return Err(DownloadError::ResultHashMismatch {
            claimed: hex::encode(manifest.result_hash),
            computed: hex::encode(computed),
        });
    }
    Ok(computed)
}

/// Largest manifest read (≈ 100 000 files).
const MAX_MANIFEST_BYTES: usize = 32 << 20;

/// The whole body, or why not (too large, broken off).
async fn read_limited(response: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    let mut body = response.bytes_stream();
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        if out.len() > max {
            return Err(format!("more than {max} bytes"));
        }
    }
    Ok(out)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> DownloadError + '_ {
    move |e| DownloadError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Paths safe to write and unique, one file never another's directory, hashes well formed.
fn check_manifest(manifest: &Manifest, job: &str) -> Result<(), DownloadError> {
    let bad = |m: String| Err(DownloadError::BadManifest(m));
    if manifest.job != job {
        return bad(format!(
            "it is the manifest of {}, not of {job}",
            manifest.job
        ));
    }
    let mut paths = BTreeSet::new();
    for f in &manifest.files {
        if let Some(reason) = relpath::problem(&f.path) {
            return bad(format!("file path {:?} is {reason}", f.path));
        }
        if crate::hexser::parse(&f.sha256).is_none()
            || f.sha256.bytes().any(|b| b.is_ascii_uppercase())
        {
            return bad(format!(
                "file {:?} has sha256 {:?} (want 64 lowercase hex)",
                f.path, f.sha256
            ));
        }
        if !paths.insert(f.path.as_str()) {
            return bad(format!("file {:?} is listed twice", f.path));
        }
    }
    for p in &paths {
        let mut dirs = p.rmatch_indices('/').map(|(i, _)| &p[..i]);
        if let Some(dir) = dirs.find(|d| paths.contains(d)) {
            return bad(format!(
                "{dir:?} is listed as a file and as the directory of {p:?}"
            ));
        }
    }
    Ok(())
}

/// Streams one file to `dest_dir/<path>` via a temporary name; it is renamed into place only
/// when its size and sha256 are the manifest's, otherwise removed.
async fn receive(
    response: reqwest::Response,
    entry: &FileEntry,
    dest_dir: &Path,
) -> Result<(), DownloadError> {
    let target = dest_dir.join(&entry.path);
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(io_err(parent))?;
    }
    let partial = target.with_file_name(format!(
        ".{}.cinder-download",
        target
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    let result = async {
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(io_err(&partial))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| DownloadError::Unreachable {
                url: entry.path.clone(),
                reason: e.to_string(),
            })?;
            size += chunk.len() as u64;
            // Never store more than the manifest promised.
            if size > entry.size {
                break;
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(io_err(&partial))?;
        }
        file.flush().await.map_err(io_err(&partial))?;
        let got = hex::encode(hasher.finalize());
        if size != entry.size || got != entry.sha256 {
            return Err(DownloadError::FileMismatch {
                path: entry.path.clone(),
                expected_size: entry.size,
                expected_sha256: entry.sha256.clone(),
                got_size: size,
                got_sha256: got,
            });
        }
        tokio::fs::rename(&partial, &target)
            .await
            .map_err(io_err(&target))
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}
