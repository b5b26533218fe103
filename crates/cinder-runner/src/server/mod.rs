//! Serves stored results over HTTP to the job's client and to its verifier once that has
//! committed on chain to its own re-run ([`ClientLookup::verifier_of`]), and downloads them.
//!
//! A request carries `X-Cinder-Client` (base58 ed25519 public key), `X-Cinder-Timestamp`
//! (unix seconds) and `X-Cinder-Signature` (base58 signature over the exact bytes
//! `cinder-results:v2:{resource}:{timestamp}`, see [`auth_message`]); it is served when the
//! signature verifies, the timestamp is within [`MAX_CLOCK_SKEW_SECS`] of the server's
//! clock, and the key is the job's client, or its committed verifier, as [`ClientLookup`]
//! knows them. A browser dApp signs
//! the same message with a wallet's `signMessage`; CORS allows it from any origin.
//!
//! The resource ([`results_resource`]) is this server's public endpoint, as the provider
//! registered it on chain, and the job's path under it: `https://gpu1.example.com/v1/jobs/{job}`.
//! One signature therefore opens that job's manifest, files and logs on that server only: a
//! server the client was sent to (or anyone on the way) cannot replay it to another provider
//! for another job, or to this one for a job the signature did not name, within its
//! [`MAX_CLOCK_SKEW_SECS`]. One signature per job keeps a wallet user at one prompt.

mod client;

pub use client::{download_results, DownloadError};

use crate::results::ResultStore;
use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use ed25519_dalek::{Signature, VerifyingKey};
use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tower_http::cors::{Any, CorsLayer};

pub const HEADER_CLIENT: &str = "x-cinder-client";
pub const HEADER_TIMESTAMP: &str = "x-cinder-timestamp";
pub const HEADER_SIGNATURE: &str = "x-cinder-signature";
/// Largest accepted difference between a request's timestamp and the server's clock.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// The bytes a client signs to read `resource` (see [`results_resource`]) at `timestamp`
/// (unix seconds).
pub fn auth_message(resource: &str, timestamp: u64) -> Vec<u8> {
    format!("cinder-results:v2:{resource}:{timestamp}").into_bytes()
}

/// A results endpoint as signatures name it: the URL's origin (scheme, lower-case host, a
/// port other than the scheme's) and its path without trailing slashes, as WHATWG URL
/// parsers (the `url` crate, a browser's `URL`) normalise them. `http(s)` only.
pub fn endpoint_base(endpoint: &str) -> Result<String, String> {
    let url = url::Url::parse(endpoint).map_err(|e| format!("endpoint {endpoint:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "endpoint {endpoint:?} is not an http(s) URL with a host"
        ));
    }
    Ok(format!(
        "{}{}",
        url.origin().ascii_serialization(),
        url.path().trim_end_matches('/')
    ))
}

/// What one signature grants: job `job`'s results on the server at `endpoint`.
pub fn results_resource(endpoint: &str, job: &str) -> Result<String, String> {
    Ok(format!("{}/v1/jobs/{job}", endpoint_base(endpoint)?))
}

/// Who may read a job's results: its client, and its verifier once committed. The worker
/// answers from its journal and the chain.
#[async_trait::async_trait]
pub trait ClientLookup: Send + Sync + 'static {
    /// The client's public key, `None` for a job this worker does not know; `Err` when it
    /// cannot tell now (the request gets 503).
    async fn client_of(&self, job: &str) -> Result<Option<[u8; 32]>, String>;

    /// The job's verifier, only once it has committed on chain to its own re-run
    /// (`commit_verification`): before that it could copy the outputs and call them its own.
    /// `None` while there is no committed verifier. Asked only of requests the client did
    /// not sign.
    async fn verifier_of(&self, _job: &str) -> Result<Option<[u8; 32]>, String> {
        Ok(None)
    }
}

#[derive(Clone)]
struct AppState {
    store: ResultStore,
    lookup: Arc<dyn ClientLookup>,
    /// This server's public endpoint ([`endpoint_base`]): signatures must name it.
    base: Arc<str>,
}

/// An error answer: `{"error": code, "message": text}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.code, "message": self.message});
        (self.status, Json(body)).into_response()
    }
}

/// The results API, to mount in a server of one's own (see [`serve`]). `endpoint` is the
/// public URL clients reach it at (the provider's registered endpoint; behind a reverse proxy,
/// the proxy's URL): requests must be signed for it.
pub fn router(
    store: ResultStore,
    lookup: Arc<dyn ClientLookup>,
    endpoint: &str,
) -> Result<Router, String> {
    let base: Arc<str> = endpoint_base(endpoint)?.into();
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers([
            HeaderName::from_static(HEADER_CLIENT),
            HeaderName::from_static(HEADER_TIMESTAMP),
            HeaderName::from_static(HEADER_SIGNATURE),
        ])
        .expose_headers([header::CONTENT_LENGTH, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600));
    let router = Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/v1/jobs/{job}/manifest", get(manifest))
        .route("/v1/jobs/{job}/files/{*path}", get(file))
        .route("/v1/jobs/{job}/logs/{name}", get(log))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(cors)
        .with_state(AppState {
            store,
            lookup,
            base,
        });
    Ok(router)
}

/// Serves the results API on `listener`, for clients that reach it at `endpoint`, until the
/// listener fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: ResultStore,
    lookup: Arc<dyn ClientLookup>,
    endpoint: &str,
) -> std::io::Result<()> {
    let router = router(store, lookup, endpoint).map_err(std::io::Error::other)?;
    axum::serve(listener, router).await
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request is signed by the job's client, recently.
async fn authorize(state: &AppState, headers: &HeaderMap, job: &str) -> Result<(), ApiError> {
    let job_key = bs58::decode(job).into_vec().ok().filter(|k| k.len() == 32);
    if job_key.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_job",
            format!("{job:?} is not a job key (base58, 32 bytes)"),
        ));
    }
    let (Some(client), Some(timestamp), Some(signature)) = (
        header(headers, HEADER_CLIENT),
        header(headers, HEADER_TIMESTAMP),
        header(headers, HEADER_SIGNATURE),
    ) else {
        return Err(ApiError::unauthorized(
            "missing_signature",
            format!(
                "send X-Cinder-Client, X-Cinder-Timestamp and X-Cinder-Signature: the job's client (or its committed verifier) key signs 'cinder-results:v2:<endpoint>/v1/jobs/{job}:<unix seconds>'"
            ),
        ));
    };
    let client: [u8; 32] = bs58::decode(client)
        .into_vec()
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "bad_client",
                "X-Cinder-Client is not a base58 32-byte public key",
            )
        })?;
    let timestamp: u64 = timestamp.parse().map_err(|_| {
        ApiError::unauthorized("bad_timestamp", "X-Cinder-Timestamp is not unix seconds")
    })?;
    let signature: [u8; 64] = bs58::decode(signature)
        .into_vec()
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "bad_signature",
                "X-Cinder-Signature is not a base58 64-byte signature",
            )
        })?;
    let now = now_secs();
    if now.abs_diff(timestamp) > MAX_CLOCK_SKEW_SECS {
        return Err(ApiError::unauthorized(
            "stale_timestamp",
            format!("timestamp {timestamp} is more than {MAX_CLOCK_SKEW_SECS} s from the server's clock ({now}): sign again with the current time"),
        ));
    }
    let key = VerifyingKey::from_bytes(&client).map_err(|_| {
        ApiError::unauthorized(
            "bad_client",
            "X-Cinder-Client is not a valid ed25519 public key",
        )
    })?;
    let resource = format!("{}/v1/jobs/{job}", state.base);
    key.verify_strict(
        &auth_message(&resource, timestamp),
        &Signature::from_bytes(&signature),
    )
    .map_err(|_| {
        ApiError::unauthorized(
            "bad_signature",
            format!("the signature does not verify over 'cinder-results:v2:{resource}:{timestamp}' with X-Cinder-Client: sign for this server's registered endpoint and this job"),
        )
    })?;
    match state.lookup.client_of(job).await {
        Err(e) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "lookup_failed",
            format!("cannot tell the client of {job} now: {e}"),
        )),
        Ok(None) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_job",
            format!("this worker has no job {job}"),
        )),
        Ok(Some(owner)) if owner == client => Ok(()),
        Ok(Some(_)) => match state.lookup.verifier_of(job).await {
            Ok(Some(verifier)) if verifier == client => Ok(()),
            Ok(_) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_the_client",
                format!("the key that signed is neither the client of {job} nor its verifier with a commitment on chain (a verifier sends commit_verification first)"),
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "lookup_failed",
                format!("cannot tell the verifier of {job} now: {e}"),
            )),
        },
    }
}

fn no_result(job: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_result",
        format!("no stored result for {job}"),
    )
}

async fn manifest(
    State(state): State<AppState>,
    Path(job): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &job).await?;
    let manifest = state
        .store
        .get(&job)
        .map_err(ApiError::internal)?
        .ok_or_else(|| no_result(&job))?;
    Ok(Json(manifest).into_response())
}

async fn file(
    State(state): State<AppState>,
    Path((job, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &job).await?;
    state
        .store
        .get(&job)
        .map_err(ApiError::internal)?
        .ok_or_else(|| no_result(&job))?;
    let (disk_path, _) = state
        .store
        .file(&job, &path)
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_file",
                format!("the result of {job} has no file {path:?}"),
            )
        })?;
    stream_file(&disk_path).await
}

async fn log(
    State(state): State<AppState>,
    Path((job, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, &job).await?;
    let disk_path = state
        .store
        .log(&job, &name)
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_log",
                format!("the result of {job} has no log {name:?}"),
            )
        })?;
    stream_file(&disk_path).await
}

async fn stream_file(path: &std::path::Path) -> Result<Response, ApiError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(ApiError::internal)?;
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Ok(response)
}
