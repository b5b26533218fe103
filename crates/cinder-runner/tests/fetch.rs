//! Specs and inputs fetched from a real HTTP server on loopback, with the faults a provider
//! must survive: the server down, other bytes than hashed, errors, file:// when disallowed.

mod common;

use cinder_runner::{
    files::{serve_dir, Fault},
    spec::{is_internal, spec_hash, FetchError, Fetcher, FetcherConfig, IpNet, JobSpec, SpecError},
};
use common::sha256_hex;
use serde_json::json;
use std::{fs, net::SocketAddr};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A fetcher that may reach this machine's loopback network (where the test servers are).
fn lab(allow_file_uris: bool) -> Fetcher {
    Fetcher::with_config(FetcherConfig {
        allow_file_uris,
        internal_allowed: vec!["127.0.0.0/8".parse().unwrap()],
        ..FetcherConfig::default()
    })
}

/// A valid spec without inputs, served as `spec.json` on loopback (keep the directory alive).
async fn served_spec() -> (
    tempfile::TempDir,
    Vec<u8>,
    cinder_runner::files::StaticServer,
) {
    let dir = tempfile::tempdir().unwrap();
    let bytes = spec_bytes(json!([]));
    fs::write(dir.path().join("spec.json"), &bytes).unwrap();
    let host = serve_dir(dir.path().to_path_buf(), loopback())
        .await
        .unwrap();
    (dir, bytes, host)
}

fn spec_bytes(inputs: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "version": 1,
        "kind": "process",
        "command": ["sh", "-c", "true"],
        "inputs": inputs,
        "time_limit_secs": 60
    }))
    .unwrap()
}

#[tokio::test]
async fn a_spec_whose_bytes_match_its_hash_is_returned_with_those_bytes() {
    let (_dir, bytes, host) = served_spec().await;
    let (spec, got) = lab(false)
        .fetch_spec(&host.url("spec.json"), &spec_hash(&bytes))
        .await
        .unwrap();
    assert_eq!(got, bytes);
    assert_eq!(spec, JobSpec::parse(&bytes).unwrap());
}

#[tokio::test]
async fn a_spec_not_matching_its_hash_is_a_hash_mismatch() {
    let (_dir, bytes, host) = served_spec().await;
    let mut other = bytes.clone();
    other.push(b'\n');
    let e = lab(false)
        .fetch_spec(&host.url("spec.json"), &spec_hash(&other))
        .await
        .unwrap_err();
    match e {
        FetchError::SpecHashMismatch { expected, got } => {
            assert_eq!(expected, hex::encode(spec_hash(&other)));
            assert_eq!(got, sha256_hex(&bytes));
        }
        e => panic!("expected SpecHashMismatch, got {e}"),
    }
    // The server swapping the bytes is caught the same way.
    host.set_fault("spec.json", Fault::Bytes(b"{}".to_vec()));
    let e = lab(false)
        .fetch_spec(&host.url("spec.json"), &spec_hash(&bytes))
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::SpecHashMismatch { .. }), "{e}");
}

#[tokio::test]
async fn a_spec_on_a_closed_port_is_unreachable() {
    // Bind, learn the port, close: nothing listens there now.
    let port = std::net::TcpListener::bind(loopback())
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("http://127.0.0.1:{port}/spec.json");
    let e = lab(false).fetch_spec(&uri, &[0; 32]).await.unwrap_err();
    // What goes on chain names the URI, never the connection error (the provider's network).
    assert_eq!(e.public(), format!("spec {uri} is unreachable"));
    match e {
        FetchError::SpecUnreachable { uri: u, reason } => {
            assert_eq!(u, uri);
            assert!(reason.to_lowercase().contains("connect"), "{reason}");
        }
        e => panic!("expected SpecUnreachable, got {e}"),
    }
}

#[tokio::test]
async fn a_spec_answering_500_or_404_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let host = serve_dir(dir.path().to_path_buf(), loopback())
        .await
        .unwrap();
    host.set_fault("spec.json", Fault::Status(500));
    let e = lab(false)
        .fetch_spec(&host.url("spec.json"), &[0; 32])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::SpecUnreachable { reason, .. } if reason.contains("500")),
        "{e}"
    );
    let e = lab(false)
        .fetch_spec(&host.url("missing.json"), &[0; 32])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::SpecUnreachable { reason, .. } if reason.contains("404")),
        "{e}"
    );
}

#[tokio::test]
async fn a_spec_matching_its_hash_but_invalid_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = br#"{"version": 1, "kind": "process", "command": [], "time_limit_secs": 5}"#;
    fs::write(dir.path().join("spec.json"), bytes).unwrap();
    let host = serve_dir(dir.path().to_path_buf(), loopback())
        .await
        .unwrap();
    let e = lab(false)
        .fetch_spec(&host.url("spec.json"), &spec_hash(bytes))
        .await
        .unwrap_err();
    assert!(
        matches!(e, FetchError::SpecMalformed(SpecError::EmptyCommand)),
        "{e}"
    );
}

#[tokio::test]
async fn a_spec_over_64_kib_is_refused_before_it_is_all_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = vec![b' '; 200 * 1024];
    fs::write(dir.path().join("spec.json"), &big).unwrap();
    let host = serve_dir(dir.path().to_path_buf(), loopback())
        .await
        .unwrap();
    let e = lab(false)
        .fetch_spec(&host.url("spec.json"), &spec_hash(&big))
        .await
        .unwrap_err();
    assert!(
        matches!(e, FetchError::SpecMalformed(SpecError::TooLarge { .. })),
        "{e}"
    );
}

#[tokio::test]
async fn file_uris_are_read_only_when_the_operator_allows_them() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = spec_bytes(json!([]));
    let path = dir.path().join("spec.json");
    fs::write(&path, &bytes).unwrap();
    let uri = format!("file://{}", path.display());
    let e = lab(false)
        .fetch_spec(&uri, &spec_hash(&bytes))
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::FileUriNotAllowed { .. }), "{e}");
    let (_, got) = lab(true)
        .fetch_spec(&uri, &spec_hash(&bytes))
        .await
        .unwrap();
    assert_eq!(got, bytes);
    let e = lab(true)
        .fetch_spec("ftp://x/spec", &[0; 32])
        .await
        .unwrap_err();
    assert!(matches!(e, FetchError::UnsupportedUri { .. }), "{e}");
}

#[tokio::test]
async fn inputs_land_at_their_paths_with_their_hashes() {
    let files = tempfile::tempdir().unwrap();
    fs::write(files.path().join("a.bin"), b"alpha").unwrap();
    fs::write(files.path().join("b.bin"), vec![7u8; 3 << 20]).unwrap();
    let host = serve_dir(files.path().to_path_buf(), loopback())
        .await
        .unwrap();
    let local = files.path().join("a.bin");
    let spec = JobSpec::parse(&spec_bytes(json!([
        {"uri": host.url("a.bin"), "sha256": sha256_hex(b"alpha"), "path": "a.txt"},
        {"uri": host.url("b.bin"), "sha256": sha256_hex(&vec![7u8; 3 << 20]), "path": "deep/dir/b.bin"},
        {"uri": format!("file://{}", local.display()), "sha256": sha256_hex(b"alpha"), "path": "local/a"},
    ])))
    .unwrap();
    let dest = tempfile::tempdir().unwrap();
    lab(true).fetch_inputs(&spec, dest.path()).await.unwrap();
    assert_eq!(fs::read(dest.path().join("a.txt")).unwrap(), b"alpha");
    assert_eq!(
        fs::read(dest.path().join("deep/dir/b.bin")).unwrap().len(),
        3 << 20
    );
    assert_eq!(fs::read(dest.path().join("local/a")).unwrap(), b"alpha");
    let names: Vec<_> = fs::read_dir(dest.path().join("deep/dir"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["b.bin"], "no partial file left beside it");
}

#[tokio::test]
async fn an_input_with_wrong_bytes_is_a_mismatch_and_its_partial_file_is_removed() {
    let files = tempfile::tempdir().unwrap();
    fs::write(files.path().join("data.bin"), b"the real data").unwrap();
    let host = serve_dir(files.path().to_path_buf(), loopback())
        .await
        .unwrap();
    host.set_fault("data.bin", Fault::Bytes(vec![0xAB; 1 << 20]));
    let spec = JobSpec::parse(&spec_bytes(json!([
        {"uri": host.url("data.bin"), "sha256": sha256_hex(b"the real data"), "path": "in/data.bin"}
    ])))
    .unwrap();
    let dest = tempfile::tempdir().unwrap();
    let e = lab(false)
        .fetch_inputs(&spec, dest.path())
        .await
        .unwrap_err();
    match e {
        FetchError::InputHashMismatch {
            path,
            expected,
            got,
        } => {
            assert_eq!(path, "in/data.bin");
            assert_eq!(expected, sha256_hex(b"the real data"));
            assert_eq!(got, sha256_hex(&vec![0xAB; 1 << 20]));
        }
        e => panic!("expected InputHashMismatch, got {e}"),
    }
    assert!(
        common::dir_is_empty(&dest.path().join("in")),
        "the mismatching download is removed"
    );
}

#[tokio::test]
async fn an_input_that_errors_is_unreachable_and_leaves_nothing() {
    let files = tempfile::tempdir().unwrap();
    let host = serve_dir(files.path().to_path_buf(), loopback())
        .await
        .unwrap();
    host.set_fault("x", Fault::Status(503));
    let spec = JobSpec::parse(&spec_bytes(json!([
        {"uri": host.url("x"), "sha256": sha256_hex(b""), "path": "x"}
    ])))
    .unwrap();
    let dest = tempfile::tempdir().unwrap();
    let e = lab(false)
        .fetch_inputs(&spec, dest.path())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::InputUnreachable { path, reason, .. } if path == "x" && reason.contains("503")),
        "{e}"
    );
    assert_eq!(
        e.public(),
        format!("input x ({}) is unreachable", host.url("x"))
    );
    assert!(common::dir_is_empty(dest.path()));
}

#[tokio::test]
async fn an_input_over_the_size_limit_is_refused() {
    let files = tempfile::tempdir().unwrap();
    fs::write(files.path().join("big"), vec![1u8; 4096]).unwrap();
    let host = serve_dir(files.path().to_path_buf(), loopback())
        .await
        .unwrap();
    let spec = JobSpec::parse(&spec_bytes(json!([
        {"uri": host.url("big"), "sha256": sha256_hex(&[1u8; 4096]), "path": "big"}
    ])))
    .unwrap();
    let fetcher = Fetcher::with_config(FetcherConfig {
        internal_allowed: vec!["127.0.0.0/8".parse().unwrap()],
        max_input_bytes: 1000,
        ..Default::default()
    });
    let dest = tempfile::tempdir().unwrap();
    let e = fetcher.fetch_inputs(&spec, dest.path()).await.unwrap_err();
    assert!(
        matches!(e, FetchError::InputTooLarge { max: 1000, .. }),
        "{e}"
    );
    assert!(common::dir_is_empty(dest.path()));
}

/// A stated size bounds the download: more bytes than the spec says stop it (the Content-Length
/// already, or the stream); the stated size itself is fetched and checked as usual.
#[tokio::test]
async fn an_input_larger_than_its_stated_size_is_refused() {
    let files = tempfile::tempdir().unwrap();
    fs::write(files.path().join("big"), vec![1u8; 4096]).unwrap();
    let host = serve_dir(files.path().to_path_buf(), loopback())
        .await
        .unwrap();
    let with_size = |size: u64| {
        JobSpec::parse(&spec_bytes(json!([
            {"uri": host.url("big"), "sha256": sha256_hex(&[1u8; 4096]), "path": "big", "size": size}
        ])))
        .unwrap()
    };
    let dest = tempfile::tempdir().unwrap();
    let e = lab(false)
        .fetch_inputs(&with_size(4095), dest.path())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::InputOverDeclared { path, declared: 4095 } if path == "big"),
        "{e}"
    );
    assert!(common::dir_is_empty(dest.path()));
    // Streamed without a length, it is stopped as it passes the stated size (the check above
    // on the Content-Length only refuses earlier).
    host.set_fault("big", Fault::Chunked(vec![1u8; 4096]));
    let e = lab(false)
        .fetch_inputs(&with_size(100), dest.path())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::InputOverDeclared { declared: 100, .. }),
        "{e}"
    );
    host.clear_fault("big");
    lab(false)
        .fetch_inputs(&with_size(4096), dest.path())
        .await
        .unwrap();
    assert_eq!(fs::read(dest.path().join("big")).unwrap(), vec![1u8; 4096]);
}

#[tokio::test]
async fn the_file_server_answers_head_and_refuses_escapes() {
    let files = tempfile::tempdir().unwrap();
    fs::write(files.path().join("f"), b"12345").unwrap();
    let host = serve_dir(files.path().to_path_buf(), loopback())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let head = http.head(host.url("f")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "5");
    let escape = http
        .get(format!("http://{}/%2e%2e/etc/passwd", host.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(escape.status(), 404);
    host.set_fault("f", Fault::Status(500));
    assert_eq!(http.get(host.url("f")).send().await.unwrap().status(), 500);
    host.clear_fault("f");
    assert_eq!(
        http.get(host.url("f"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
        &b"12345"[..]
    );
    host.shutdown().await;
}

/// A job's URIs are the client's: by default they may not reach the provider's own network,
/// whether the address is written out, behind a name, or behind a redirect.
#[tokio::test]
async fn uris_into_the_providers_own_network_are_refused_unless_allowed() {
    let (_dir, bytes, host) = served_spec().await;
    let port = host.addr().port();
    let hash = spec_hash(&bytes);
    let default = Fetcher::new(false);
    for (uri, address) in [
        (format!("http://127.0.0.1:{port}/spec.json"), "127.0.0.1"),
        (format!("http://localhost:{port}/spec.json"), ""),
        (
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "169.254.169.254",
        ),
        ("http://[::ffff:10.0.0.1]/x".to_string(), "::ffff:10.0.0.1"),
    ] {
        let e = default.fetch_spec(&uri, &hash).await.unwrap_err();
        match &e {
            FetchError::InternalAddress { address: a, .. } => {
                assert!(a.contains(address), "{uri}: {e}")
            }
            other => panic!("{uri}: {other}"),
        }
        assert!(e.to_string().contains("fetch_internal_networks"), "{e}");
        assert_eq!(
            e.public(),
            format!("{uri} points into the provider's own network, which it does not fetch from")
        );
    }
    // Allowed: only the network named. 127.0.0.1 may redirect to a public name, not to
    // 127.0.0.2 (loopback too, outside the allowed /32).
    let one = Fetcher::with_config(FetcherConfig {
        internal_allowed: vec!["127.0.0.1".parse().unwrap()],
        ..FetcherConfig::default()
    });
    let direct = format!("http://127.0.0.1:{port}/spec.json");
    assert_eq!(one.fetch_spec(&direct, &hash).await.unwrap().1, bytes);
    host.set_fault(
        "hop.json",
        Fault::Redirect(format!("http://127.0.0.2:{port}/spec.json")),
    );
    let e = one
        .fetch_spec(&format!("http://127.0.0.1:{port}/hop.json"), &hash)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::SpecUnreachable { reason, .. } if reason.contains("redirect to internal address 127.0.0.2")),
        "{e}"
    );
    host.set_fault("hop-home.json", Fault::Redirect(direct.clone()));
    let home = format!("http://127.0.0.1:{port}/hop-home.json");
    assert_eq!(
        one.fetch_spec(&home, &hash).await.unwrap().1,
        bytes,
        "a redirect inside the allowed network is followed"
    );
    // With 127.0.0.0/8 allowed the redirect to 127.0.0.2 is followed (and finds no server).
    let e = lab(false)
        .fetch_spec(&format!("http://127.0.0.1:{port}/hop.json"), &hash)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FetchError::SpecUnreachable { reason, .. } if reason.contains("connect") && !reason.contains("internal")),
        "{e}"
    );
}

#[test]
fn internal_addresses_are_classified_by_their_network() {
    for (ip, internal) in [
        ("8.8.8.8", false),
        ("1.1.1.1", false),
        ("2606:4700::1111", false),
        ("100.63.255.255", false),
        ("100.128.0.0", false),
        ("172.32.0.1", false),
        ("0.0.0.0", true),
        ("0.1.2.3", true),
        ("127.0.0.1", true),
        ("127.255.0.9", true),
        ("10.0.0.1", true),
        ("172.16.0.1", true),
        ("172.31.255.255", true),
        ("192.168.1.1", true),
        ("169.254.169.254", true),
        ("100.64.0.1", true),
        ("100.127.255.255", true),
        ("192.0.0.170", true),
        ("198.18.0.1", true),
        ("198.51.100.7", true),
        ("224.0.0.1", true),
        ("240.0.0.1", true),
        ("255.255.255.255", true),
        ("::", true),
        ("::1", true),
        ("fc00::1", true),
        ("fd12:3456::1", true),
        ("fe80::1", true),
        ("fec0::1", true),
        ("ff02::1", true),
        ("2001:db8::1", true),
        ("::ffff:127.0.0.1", true),
        ("::ffff:8.8.8.8", false),
        ("64:ff9b::a9fe:a9fe", true),
        ("64:ff9b::808:808", false),
    ] {
        assert_eq!(is_internal(ip.parse().unwrap()), internal, "{ip}");
    }
    let net: IpNet = "10.1.0.0/16".parse().unwrap();
    assert!(net.contains("10.1.255.1".parse().unwrap()));
    assert!(!net.contains("10.2.0.1".parse().unwrap()));
    assert!(
        net.contains("::ffff:10.1.0.9".parse().unwrap()),
        "IPv4-mapped"
    );
    let all: IpNet = "0.0.0.0/0".parse().unwrap();
    assert!(all.contains("169.254.169.254".parse().unwrap()));
    assert!(
        !all.contains("::1".parse().unwrap()),
        "an IPv4 network holds no IPv6 address"
    );
    let one: IpNet = "::1".parse().unwrap();
    assert!(one.contains("::1".parse().unwrap()) && !one.contains("::2".parse().unwrap()));
    for bad in [
        "10.0.0.0/33",
        "::/129",
        "10.0.0/8",
        "localhost",
        "10.0.0.0/-1",
    ] {
        assert!(bad.parse::<IpNet>().is_err(), "{bad}");
    }
}
