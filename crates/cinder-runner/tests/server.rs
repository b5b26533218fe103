//! The results server over real HTTP: only the job's client, with a fresh signature over
//! this job, gets the results; browsers get CORS; the client side checks every byte.

mod common;

use cinder_runner::{
    results::{Manifest, ResultStore},
    runtime::RunReport,
    server::{self, auth_message, download_results, results_resource, ClientLookup, DownloadError},
};
use ed25519_dalek::{Signer, SigningKey};
use reqwest::StatusCode;
use std::{
    collections::HashMap,
    fs,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

/// Job → client, as the worker's journal would answer, and job → the verifier that has
/// committed on chain, as the worker's chain read would; `FAIL` answers an error.
struct Clients(HashMap<String, [u8; 32]>, HashMap<String, [u8; 32]>);

/// The committed verifier of the world's job.
const VERIFIER: [u8; 32] = [9; 32];

const FAIL: &str = "11111111111111111111111111111112";

#[async_trait::async_trait]
impl ClientLookup for Clients {
    async fn client_of(&self, job: &str) -> Result<Option<[u8; 32]>, String> {
        if job == FAIL {
            return Err("journal locked".into());
        }
        Ok(self.0.get(job).copied())
    }

    async fn verifier_of(&self, job: &str) -> Result<Option<[u8; 32]>, String> {
        Ok(self.1.get(job).copied())
    }
}

struct World {
    _tmp: tempfile::TempDir,
    store: ResultStore,
    base: String,
    job: String,
    client: SigningKey,
    manifest: Manifest,
}

fn key_b58(seed: u8) -> String {
    bs58::encode([seed; 32]).into_string()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A store with one result (two files), served on loopback, for a job whose client is
/// `client`; a second known job has no result.
async fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir_all(out.join("dir")).unwrap();
    fs::write(out.join("answer.txt"), b"42\n").unwrap();
    fs::write(out.join("dir/blob.bin"), vec![5u8; 300_000]).unwrap();
    let job = key_b58(7);
    let client = SigningKey::from_bytes(&[1; 32]);
    let store = ResultStore::open(tmp.path().join("results")).unwrap();
    let report = RunReport {
        runtime: "process".into(),
        exit_code: 0,
        started_unix_ms: 1,
        finished_unix_ms: 2,
        stdout_log: tmp.path().join("none"),
        stderr_log: tmp.path().join("none"),
    };
    let manifest = store.store(&job, &out, &report).unwrap();
    let verifier = SigningKey::from_bytes(&VERIFIER).verifying_key().to_bytes();
    let clients = Clients(
        HashMap::from([
            (job.clone(), client.verifying_key().to_bytes()),
            (key_b58(8), client.verifying_key().to_bytes()),
        ]),
        HashMap::from([(job.clone(), verifier)]),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = store.clone();
    let endpoint = base.clone();
    tokio::spawn(
        async move { server::serve(listener, served, Arc::new(clients), &endpoint).await },
    );
    World {
        _tmp: tmp,
        store,
        base,
        job,
        client,
        manifest,
    }
}

impl World {
    /// What a signature for `job` on this world's server names.
    fn resource(&self, job: &str) -> String {
        results_resource(&self.base, job).unwrap()
    }
}

/// A GET with the three headers: `key` signs the message for `resource` at `ts`.
async fn signed_get(url: &str, key: &SigningKey, resource: &str, ts: u64) -> reqwest::Response {
    let sig = key.sign(&auth_message(resource, ts)).to_bytes();
    reqwest::Client::new()
        .get(url)
        .header(
            "X-Cinder-Client",
            bs58::encode(key.verifying_key().to_bytes()).into_string(),
        )
        .header("X-Cinder-Timestamp", ts.to_string())
        .header("X-Cinder-Signature", bs58::encode(sig).into_string())
        .send()
        .await
        .unwrap()
}

async fn error_of(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let body: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (status, body["error"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn the_jobs_client_gets_the_manifest_and_the_bytes() {
    let w = world().await;
    let resp = signed_get(
        &format!("{}/v1/jobs/{}/manifest", w.base, w.job),
        &w.client,
        &w.resource(&w.job),
        now(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let got: Manifest = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(got, w.manifest);
    let resp = signed_get(
        &format!("{}/v1/jobs/{}/files/dir/blob.bin", w.base, w.job),
        &w.client,
        &w.resource(&w.job),
        now(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], "300000");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), vec![5u8; 300_000]);
    // A timestamp a little off either way is fine.
    let resp = signed_get(
        &format!("{}/v1/jobs/{}/files/answer.txt", w.base, w.job),
        &w.client,
        &w.resource(&w.job),
        now() - 250,
    )
    .await;
    assert_eq!(resp.bytes().await.unwrap(), &b"42\n"[..]);
    let health = reqwest::get(format!("{}/healthz", w.base)).await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn another_key_is_forbidden() {
    let w = world().await;
    let stranger = SigningKey::from_bytes(&[2; 32]);
    let resp = signed_get(
        &format!("{}/v1/jobs/{}/manifest", w.base, w.job),
        &stranger,
        &w.resource(&w.job),
        now(),
    )
    .await;
    assert_eq!(
        error_of(resp).await,
        (StatusCode::FORBIDDEN, "not_the_client".into())
    );
    let resp = signed_get(
        &format!("{}/v1/jobs/{}/files/answer.txt", w.base, w.job),
        &stranger,
        &w.resource(&w.job),
        now(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

/// Issue 17: the job's verifier reads the provider's outputs once it has committed on chain to
/// its own re-run; a verifier of a job without a commitment is refused like a stranger.
#[tokio::test]
async fn the_committed_verifier_reads_the_outputs_and_no_one_else_does() {
    let w = world().await;
    let verifier = SigningKey::from_bytes(&VERIFIER);
    let resp = signed_get(
        &format!("{}/v1/jobs/{}/files/answer.txt", w.base, w.job),
        &verifier,
        &w.resource(&w.job),
        now(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap(), &b"42\n"[..]);
    let dest = w._tmp.path().join("as-verifier");
    let hash = download_results(
        &w.base,
        &w.job,
        &verifier.verifying_key().to_bytes(),
        |m| verifier.sign(m).to_bytes(),
        &dest,
    )
    .await
    .expect("the committed verifier downloads");
    assert_eq!(hash, w.manifest.result_hash);
    // The other job has no committed verifier: the same key is refused there.
    let other = key_b58(8);
    let resp = signed_get(
        &format!("{}/v1/jobs/{other}/manifest", w.base),
        &verifier,
        &w.resource(&other),
        now(),
    )
    .await;
    assert_eq!(
        error_of(resp).await,
        (StatusCode::FORBIDDEN, "not_the_client".into())
    );
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_unauthorized() {
    let w = world().await;
    let url = format!("{}/v1/jobs/{}/manifest", w.base, w.job);
    // The future one has a margin: the server reads its clock a moment after the test.
    for ts in [now() - 301, now() + 310, 0] {
        let resp = signed_get(&url, &w.client, &w.resource(&w.job), ts).await;
        assert_eq!(
            error_of(resp).await,
            (StatusCode::UNAUTHORIZED, "stale_timestamp".into()),
            "ts {ts}"
        );
    }
}

#[tokio::test]
async fn a_signature_over_another_job_or_time_is_unauthorized() {
    let w = world().await;
    let url = format!("{}/v1/jobs/{}/manifest", w.base, w.job);
    let resp = signed_get(&url, &w.client, &w.resource(&key_b58(8)), now()).await;
    assert_eq!(
        error_of(resp).await,
        (StatusCode::UNAUTHORIZED, "bad_signature".into())
    );
    // Signed at one time, sent claiming another.
    let ts = now();
    let sig = w
        .client
        .sign(&auth_message(&w.resource(&w.job), ts - 1))
        .to_bytes();
    let resp = reqwest::Client::new()
        .get(&url)
        .header(
            "X-Cinder-Client",
            bs58::encode(w.client.verifying_key().to_bytes()).into_string(),
        )
        .header("X-Cinder-Timestamp", ts.to_string())
        .header("X-Cinder-Signature", bs58::encode(sig).into_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(resp).await,
        (StatusCode::UNAUTHORIZED, "bad_signature".into())
    );
}

/// A signature names the server it was made for: one a client gave another server (a
/// provider it was sent to, a proxy on the way) does not open this server's copy of the job,
/// and the refusal says what to sign.
#[tokio::test]
async fn a_signature_made_for_another_server_is_unauthorized() {
    let w = world().await;
    let url = format!("{}/v1/jobs/{}/manifest", w.base, w.job);
    let port = w.base.rsplit(':').next().unwrap();
    for elsewhere in [
        "https://gpu1.example.com".to_string(),
        format!("http://127.0.0.2:{port}"),
        format!("{}/other", w.base),
    ] {
        let resource = results_resource(&elsewhere, &w.job).unwrap();
        let resp = signed_get(&url, &w.client, &resource, now()).await;
        let body: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!(body["error"], "bad_signature", "{elsewhere}: {body}");
        let expected = format!("cinder-results:v2:{}/v1/jobs/{}:", w.base, w.job);
        assert!(
            body["message"].as_str().unwrap().contains(&expected),
            "{body}"
        );
    }
    // The same endpoint written differently is the same server.
    for same in [format!("{}/", w.base), w.base.replace("http://", "HTTP://")] {
        let resource = results_resource(&same, &w.job).unwrap();
        let resp = signed_get(&url, &w.client, &resource, now()).await;
        assert_eq!(resp.status(), 200, "{same}");
    }
}

#[test]
fn endpoints_are_named_as_browsers_name_them() {
    for (endpoint, base) in [
        ("https://GPU1.Example.com", "https://gpu1.example.com"),
        ("https://gpu1.example.com:443/", "https://gpu1.example.com"),
        (
            "http://gpu1.example.com:8950",
            "http://gpu1.example.com:8950",
        ),
        (
            "https://gpu1.example.com/cinder//",
            "https://gpu1.example.com/cinder",
        ),
        ("http://[::1]:8950", "http://[::1]:8950"),
    ] {
        assert_eq!(server::endpoint_base(endpoint).unwrap(), base, "{endpoint}");
    }
    for bad in [
        "gpu1.example.com",
        "ftp://gpu1.example.com",
        "file:///tmp",
        "",
    ] {
        assert!(server::endpoint_base(bad).is_err(), "{bad}");
    }
    assert_eq!(
        results_resource("https://gpu1.example.com/", "Job1").unwrap(),
        "https://gpu1.example.com/v1/jobs/Job1"
    );
}

#[tokio::test]
async fn missing_or_garbled_headers_are_unauthorized() {
    let w = world().await;
    let url = format!("{}/v1/jobs/{}/manifest", w.base, w.job);
    let at = now();
    let ts = at.to_string();
    let sig = bs58::encode(
        w.client
            .sign(&auth_message(&w.resource(&w.job), at))
            .to_bytes(),
    )
    .into_string();
    let client = bs58::encode(w.client.verifying_key().to_bytes()).into_string();
    let all = [
        ("X-Cinder-Client", client.as_str()),
        ("X-Cinder-Timestamp", ts.as_str()),
        ("X-Cinder-Signature", sig.as_str()),
    ];
    for missing in 0..3 {
        let mut req = reqwest::Client::new().get(&url);
        for (i, (k, v)) in all.iter().enumerate() {
            if i != missing {
                req = req.header(*k, *v);
            }
        }
        let resp = req.send().await.unwrap();
        assert_eq!(
            error_of(resp).await,
            (StatusCode::UNAUTHORIZED, "missing_signature".into()),
            "without {}",
            all[missing].0
        );
    }
    for (header, value, code) in [
        ("X-Cinder-Client", "not-base58-0OIl", "bad_client"),
        ("X-Cinder-Timestamp", "yesterday", "bad_timestamp"),
        ("X-Cinder-Signature", "abc", "bad_signature"),
    ] {
        let mut req = reqwest::Client::new().get(&url);
        for (k, v) in all {
            req = req.header(k, if k == header { value } else { v });
        }
        let resp = req.send().await.unwrap();
        assert_eq!(
            error_of(resp).await,
            (StatusCode::UNAUTHORIZED, code.into()),
            "{header}: {value}"
        );
    }
}

#[tokio::test]
async fn unknown_jobs_results_and_files_are_not_found() {
    let w = world().await;
    let unknown = key_b58(9);
    let resp = signed_get(
        &format!("{}/v1/jobs/{unknown}/manifest", w.base),
        &w.client,
        &w.resource(&unknown),
        now(),
    )
    .await;
    assert_eq!(
        error_of(resp).await,
        (StatusCode::NOT_FOUND, "unknown_job".into())
    );
    let no_result = key_b58(8);
    let resp = signed_get(
        &format!("{}/v1/jobs/{no_result}/manifest", w.base),
        &w.client,
        &w.resource(&no_result),
        now(),
    )
    .await;
    assert_eq!(
        error_of(resp).await,
        (StatusCode::NOT_FOUND, "no_result".into())
    );
    for path in [
        "missing.txt",
        "dir",
        "..%2Fmanifest.json",
        "dir/..%2F..%2Fmanifest.json",
    ] {
        let resp = signed_get(
            &format!("{}/v1/jobs/{}/files/{path}", w.base, w.job),
            &w.client,
            &w.resource(&w.job),
            now(),
        )
        .await;
        assert_eq!(
            error_of(resp).await,
            (StatusCode::NOT_FOUND, "no_such_file".into()),
            "{path}"
        );
    }
    let resp = signed_get(
        &format!("{}/v1/jobs/not-a-key/manifest", w.base),
        &w.client,
        &w.resource("not-a-key"),
        now(),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = signed_get(
        &format!("{}/v1/jobs/{FAIL}/manifest", w.base),
        &w.client,
        &w.resource(FAIL),
        now(),
    )
    .await;
    assert_eq!(
        error_of(resp).await,
        (StatusCode::SERVICE_UNAVAILABLE, "lookup_failed".into())
    );
}

#[tokio::test]
async fn browsers_get_cors_for_the_signed_headers() {
    let w = world().await;
    let url = format!("{}/v1/jobs/{}/manifest", w.base, w.job);
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET")
        .header(
            "Access-Control-Request-Headers",
            "x-cinder-client,x-cinder-timestamp,x-cinder-signature",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for name in [
        "x-cinder-client",
        "x-cinder-timestamp",
        "x-cinder-signature",
    ] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("GET"));
    // One timestamp for the message and the header: two calls to now() can
    // straddle a second and sign a different message than the one sent.
    let at = now();
    let sig = w
        .client
        .sign(&auth_message(&w.resource(&w.job), at))
        .to_bytes();
    let resp = reqwest::Client::new()
        .get(&url)
        .header("Origin", "https://app.example")
        .header(
            "X-Cinder-Client",
            bs58::encode(w.client.verifying_key().to_bytes()).into_string(),
        )
        .header("X-Cinder-Timestamp", at.to_string())
        .header("X-Cinder-Signature", bs58::encode(sig).into_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}

fn signer(key: &SigningKey) -> impl Fn(&[u8]) -> [u8; 64] + '_ {
    move |m| key.sign(m).to_bytes()
}

#[tokio::test]
async fn download_results_fetches_checks_and_returns_the_result_hash() {
    let w = world().await;
    let dest = tempfile::tempdir().unwrap();
    let pubkey = w.client.verifying_key().to_bytes();
    let hash = download_results(&w.base, &w.job, &pubkey, signer(&w.client), dest.path())
        .await
        .unwrap();
    let expected = common::expected_result_hash(&[
        ("answer.txt", b"42\n"),
        ("dir/blob.bin", &vec![5u8; 300_000]),
    ]);
    assert_eq!(hash, expected);
    assert_eq!(fs::read(dest.path().join("answer.txt")).unwrap(), b"42\n");
    assert_eq!(
        fs::read(dest.path().join("dir/blob.bin")).unwrap(),
        vec![5u8; 300_000]
    );

    // Someone else's key gets a refusal, not files.
    let stranger = SigningKey::from_bytes(&[3; 32]);
    let e = download_results(
        &w.base,
        &w.job,
        &stranger.verifying_key().to_bytes(),
        signer(&stranger),
        dest.path(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, DownloadError::Refused { status: 403, error, .. } if error == "not_the_client"),
        "{e}"
    );
}

#[tokio::test]
async fn download_results_detects_a_tampered_file_and_keeps_none_of_it() {
    let w = world().await;
    // The provider serves other bytes than it hashed.
    let stored = w.store.dir(&w.job).unwrap().join("files/dir/blob.bin");
    let mut bytes = fs::read(&stored).unwrap();
    bytes[1000] ^= 1;
    fs::write(&stored, &bytes).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let pubkey = w.client.verifying_key().to_bytes();
    let e = download_results(&w.base, &w.job, &pubkey, signer(&w.client), dest.path())
        .await
        .unwrap_err();
    match e {
        DownloadError::FileMismatch {
            path,
            expected_size,
            got_size,
            expected_sha256,
            got_sha256,
        } => {
            assert_eq!(path, "dir/blob.bin");
            assert_eq!((expected_size, got_size), (300_000, 300_000));
            assert_eq!(expected_sha256, common::sha256_hex(&vec![5u8; 300_000]));
            assert_eq!(got_sha256, common::sha256_hex(&bytes));
        }
        e => panic!("expected FileMismatch, got {e}"),
    }
    assert!(
        common::dir_is_empty(&dest.path().join("dir")),
        "neither the file nor a partial copy is kept"
    );
}

#[tokio::test]
async fn download_results_refuses_a_lying_or_escaping_manifest() {
    let w = world().await;
    let manifest_path = w.store.dir(&w.job).unwrap().join("manifest.json");
    let pubkey = w.client.verifying_key().to_bytes();

    let mut lying = w.manifest.clone();
    lying.result_hash = [0xEE; 32];
    fs::write(&manifest_path, serde_json::to_vec(&lying).unwrap()).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let e = download_results(&w.base, &w.job, &pubkey, signer(&w.client), dest.path())
        .await
        .unwrap_err();
    assert!(matches!(e, DownloadError::ResultHashMismatch { .. }), "{e}");

    let mut escaping = w.manifest.clone();
    escaping.files[0].path = "../escaped.txt".into();
    fs::write(&manifest_path, serde_json::to_vec(&escaping).unwrap()).unwrap();
    let dest = tempfile::tempdir().unwrap();
    let inner = dest.path().join("inner");
    let e = download_results(&w.base, &w.job, &pubkey, signer(&w.client), &inner)
        .await
        .unwrap_err();
    assert!(matches!(e, DownloadError::BadManifest(_)), "{e}");
    assert!(!dest.path().join("escaped.txt").exists());
}
