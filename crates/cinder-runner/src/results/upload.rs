//! Pushing a stored result to an object store (`s3://bucket/prefix`, `file:///dir`, …), for
//! clients that fetch results from there instead of from the worker.

use super::ResultStore;
use object_store::{path::Path as ObjectPath, ObjectStore, PutMultipartOptions, WriteMultipart};
use std::path::Path;
use tokio::io::AsyncReadExt;

/// Chunk read from disk and sent as one part (S3 needs ≥ 5 MiB per part but the last).
const PART_BYTES: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{url:?} is not an object store URL (s3://bucket/prefix, file:///dir): {reason}")]
    BadUrl { url: String, reason: String },
    #[error("no stored result {id}")]
    NotStored { id: String },
    #[error(transparent)]
    Store(#[from] super::StoreError),
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("uploading {object}: {source}")]
    Put {
        object: String,
        #[source]
        source: object_store::Error,
    },
}

/// What was uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReport {
    /// `<prefix>/<id>` in the object store.
    pub prefix: String,
    pub objects: usize,
    pub bytes: u64,
}

/// Uploads stored result `id` to `<url>/<id>/`: `manifest.json`, `files/<path>` for each
/// output, `logs/<name>`. S3 credentials and region come from the `AWS_*` environment.
pub async fn upload_result(
    store: &ResultStore,
    id: &str,
    url: &str,
) -> Result<UploadReport, UploadError> {
    let bad_url = |reason: String| UploadError::BadUrl {
        url: url.to_string(),
        reason,
    };
    let parsed = url::Url::parse(url).map_err(|e| bad_url(e.to_string()))?;
    let aws_env = std::env::vars().filter(|(k, _)| k.starts_with("AWS_"));
    let (objects, base) =
        object_store::parse_url_opts(&parsed, aws_env).map_err(|e| bad_url(e.to_string()))?;
    let manifest = store
        .get(id)?
        .ok_or_else(|| UploadError::NotStored { id: id.to_string() })?;
    let dir = store.dir(id)?;
    let prefix = base.clone().join(id);
    let mut items: Vec<(String, std::path::PathBuf)> =
        vec![("manifest.json".into(), dir.join("manifest.json"))];
    for f in &manifest.files {
        items.push((format!("files/{}", f.path), dir.join("files").join(&f.path)));
    }
    for l in &manifest.logs {
        items.push((format!("logs/{l}"), dir.join("logs").join(l)));
    }
    let mut bytes = 0u64;
    for (name, path) in &items {
        let location = name.split('/').fold(prefix.clone(), |p, part| p.join(part));
        bytes += put_file(objects.as_ref(), &location, path).await?;
    }
    Ok(UploadReport {
        prefix: prefix.to_string(),
        objects: items.len(),
        bytes,
    })
}

/// Streams one file up as a multipart upload, a part at a time; aborted on failure.
async fn put_file(
    objects: &dyn ObjectStore,
    location: &ObjectPath,
    path: &Path,
) -> Result<u64, UploadError> {
    let put_err = |source| UploadError::Put {
        object: location.to_string(),
        source,
    };
    let read_err = |source| UploadError::Read {
        path: path.display().to_string(),
        source,
    };
    let upload = objects
        .put_multipart_opts(location, PutMultipartOptions::default())
        .await
        .map_err(put_err)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    let sent = async {
        let mut file = tokio::fs::File::open(path).await.map_err(read_err)?;
        let mut buf = vec![0u8; PART_BYTES];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buf).await.map_err(read_err)?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
            writer.wait_for_capacity(4).await.map_err(put_err)?;
            writer.write(&buf[..n]);
        }
    }
    .await;
    let total = match sent {
        Ok(total) => total,
        Err(e) => {
            let _ = writer.abort().await;
            return Err(e);
        }
    };
    writer.finish().await.map_err(put_err)?;
    Ok(total)
}
