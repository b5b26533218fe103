//! A small static file server (GET and HEAD) for hosting specs and inputs on loopback in the
//! demo and in tests, with faults to inject: a path can be made to answer an error status or
//! other bytes than the file's.

use axum::{
    body::Body,
    extract::{Path as UrlPath, State},
    http::{header, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use std::{
    collections::HashMap,
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};
use tokio_util::sync::CancellationToken;

/// What a path answers instead of its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status, empty body.
    Status(u16),
    /// These bytes, with status 200.
    Bytes(Vec<u8>),
    /// A 302 redirect to this URL.
    Redirect(String),
    /// These bytes, with status 200, streamed in chunks without a Content-Length.
    Chunked(Vec<u8>),
}

type Faults = Arc<Mutex<HashMap<String, Fault>>>;

#[derive(Clone)]
struct Shared {
    root: Arc<PathBuf>,
    faults: Faults,
}

/// A running file server; stops when dropped (or on [`StaticServer::shutdown`]).
#[derive(Debug)]
pub struct StaticServer {
    addr: SocketAddr,
    faults: Faults,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl StaticServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// From now on `path` (relative to the root, as in the URL) answers `fault`.
    pub fn set_fault(&self, path: &str, fault: Fault) {
        lock(&self.faults).insert(path.trim_start_matches('/').to_string(), fault);
    }

    pub fn clear_fault(&self, path: &str) {
        lock(&self.faults).remove(path.trim_start_matches('/'));
    }

    /// Stops serving and waits for the server task to end.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn lock(faults: &Faults) -> std::sync::MutexGuard<'_, HashMap<String, Fault>> {
    faults.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves the files under `root` on `addr` (port 0 picks a free one: see
/// [`StaticServer::addr`]). Paths with `..` or that leave `root` through a link are 404.
pub async fn serve_dir(root: PathBuf, addr: SocketAddr) -> std::io::Result<StaticServer> {
    let root = std::fs::canonicalize(&root)?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let faults: Faults = Arc::default();
    let app = Router::new()
        .route("/{*path}", get(serve_file))
        .with_state(Shared {
            root: Arc::new(root),
            faults: faults.clone(),
        });
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(stopped.cancelled_owned());
        if let Err(e) = server.await {
            tracing::warn!(error = %e, "static file server stopped");
        }
    });
    Ok(StaticServer {
        addr,
        faults,
        stop,
        task: Some(task),
    })
}

async fn serve_file(
    State(shared): State<Shared>,
    method: Method,
    UrlPath(path): UrlPath<String>,
) -> Response {
    let fault = lock(&shared.faults).get(&path).cloned();
    match fault {
        Some(Fault::Status(code)) => {
            return StatusCode::from_u16(code)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response()
        }
        Some(Fault::Bytes(bytes)) => return bytes.into_response(),
        Some(Fault::Chunked(bytes)) => {
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                bytes.chunks(1024).map(|c| Ok(c.to_vec())).collect();
            return axum::body::Body::from_stream(futures::stream::iter(chunks)).into_response();
        }
        Some(Fault::Redirect(to)) => {
            return (StatusCode::FOUND, [(axum::http::header::LOCATION, to)]).into_response()
        }
        None => {}
    }
    if path.split('/').any(|c| c == ".." || c.is_empty()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(full) = tokio::fs::canonicalize(shared.root.join(&path)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !full.starts_with(&*shared.root) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(file) = tokio::fs::File::open(&full).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(meta) = file.metadata().await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if !meta.is_file() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from_stream(tokio_util::io::ReaderStream::new(file))
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    response
}

/// Bytes an unprivileged process may still write on the file system that holds `path`
/// (`statvfs`: available blocks × fragment size; the root-reserved blocks do not count).
pub fn free_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: statvfs is plain data; zeroed is a valid value of it.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path that outlives the call, `st` a valid out pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)] // the field types differ between targets
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// Disk space the files under `path` take (allocated blocks, so a sparse file counts what it
/// really holds; hard links once per link; symlinks are not followed). Entries that vanish or
/// cannot be read while it walks are skipped: a running job changes its tree underneath.
pub fn used_bytes(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0u64;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        total = total.saturating_add(meta.blocks().saturating_mul(512));
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::used_bytes;

    #[test]
    fn used_bytes_counts_what_files_hold_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let base = used_bytes(dir.path());
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/data"), vec![1u8; 1 << 20]).unwrap();
        // A sparse file of 1 GiB holds (almost) nothing; a symlink to the data is not followed.
        let sparse = std::fs::File::create(dir.path().join("sparse")).unwrap();
        sparse.set_len(1 << 30).unwrap();
        std::os::unix::fs::symlink(dir.path().join("a/b/data"), dir.path().join("link")).unwrap();
        let used = used_bytes(dir.path()) - base;
        assert!((1 << 20..(1 << 20) + (64 << 10)).contains(&used), "{used}");
        assert_eq!(used_bytes(&dir.path().join("missing")), 0);
    }
}
