//! The result store across restarts and crashes, and the upload to an object store.

mod common;

use cinder_runner::{
    results::{hash_outputs, upload_result, Manifest, ResultStore, UploadError},
    runtime::RunReport,
};
use std::{fs, path::Path};

fn finished_run(dir: &Path) -> (std::path::PathBuf, RunReport) {
    let out = dir.join("out");
    fs::create_dir_all(out.join("nested")).unwrap();
    fs::write(out.join("result.txt"), b"42\n").unwrap();
    fs::write(out.join("nested/data.bin"), vec![9u8; 100_000]).unwrap();
    fs::write(dir.join("stdout.log"), b"ran\n").unwrap();
    fs::write(dir.join("stderr.log"), b"").unwrap();
    let report = RunReport {
        runtime: "process".into(),
        exit_code: 0,
        started_unix_ms: 1_700_000_000_000,
        finished_unix_ms: 1_700_000_001_000,
        stdout_log: dir.join("stdout.log"),
        stderr_log: dir.join("stderr.log"),
    };
    (out, report)
}

#[test]
fn a_stored_result_survives_a_crash_and_a_leftover_temp_dir_is_cleaned() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("results");
    let (out, report) = finished_run(tmp.path());
    let expected = common::expected_result_hash(&[
        ("result.txt", b"42\n"),
        ("nested/data.bin", &vec![9u8; 100_000]),
    ]);
    let stored: Manifest = {
        let store = ResultStore::open(&root).unwrap();
        store.store("JobA", &out, &report).unwrap()
    };
    assert_eq!(stored.result_hash, expected);
    assert_eq!(stored.logs, ["stdout.log", "stderr.log"]);

    // A crash half way through storing a second result leaves its temp dir behind (this is
    // what the store writes before its final rename), and one half way through a removal.
    let half = root.join(".tmp-JobB-999-0");
    fs::create_dir_all(half.join("files")).unwrap();
    fs::write(half.join("files/partial"), b"half").unwrap();
    fs::create_dir_all(root.join(".trash-JobC-999-1/files")).unwrap();

    let reopened = ResultStore::open(&root).unwrap();
    assert!(!half.exists(), "the interrupted store is cleaned up");
    assert!(!root.join(".trash-JobC-999-1").exists());
    assert_eq!(reopened.list().unwrap(), ["JobA"]);
    assert_eq!(reopened.get("JobB").unwrap(), None);
    let manifest = reopened
        .get("JobA")
        .unwrap()
        .expect("the stored result survives");
    assert_eq!(manifest, stored);
    let (again, _) = hash_outputs(&reopened.dir("JobA").unwrap().join("files")).unwrap();
    assert_eq!(again, expected, "the stored files are the hashed ones");
}

#[tokio::test]
async fn a_stored_result_uploads_to_a_file_object_store() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, report) = finished_run(tmp.path());
    let store = ResultStore::open(tmp.path().join("results")).unwrap();
    let manifest = store.store("JobUp", &out, &report).unwrap();
    let bucket = tmp.path().join("bucket");
    fs::create_dir_all(&bucket).unwrap();
    let url = format!("file://{}/cinder", bucket.display());
    let sent = upload_result(&store, "JobUp", &url).await.unwrap();
    assert_eq!(sent.objects, 1 + 2 + 2, "manifest, two files, two logs");
    let up = bucket.join("cinder/JobUp");
    let uploaded: Manifest =
        serde_json::from_slice(&fs::read(up.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(uploaded, manifest);
    assert_eq!(fs::read(up.join("files/result.txt")).unwrap(), b"42\n");
    assert_eq!(
        fs::read(up.join("files/nested/data.bin")).unwrap(),
        vec![9u8; 100_000]
    );
    assert_eq!(fs::read(up.join("logs/stdout.log")).unwrap(), b"ran\n");
    let (hash, _) = hash_outputs(&up.join("files")).unwrap();
    assert_eq!(hash, manifest.result_hash);
    assert_eq!(
        sent.bytes,
        fs::metadata(up.join("manifest.json")).unwrap().len() + 3 + 100_000 + 4
    );

    let e = upload_result(&store, "Nope", &url).await.unwrap_err();
    assert!(matches!(e, UploadError::NotStored { .. }), "{e}");
    let e = upload_result(&store, "JobUp", "not a url")
        .await
        .unwrap_err();
    assert!(matches!(e, UploadError::BadUrl { .. }), "{e}");
}
