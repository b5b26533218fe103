//! The fetcher ignores the proxy variables of the worker's environment. A proxy resolves a
//! job's host names itself, past the fetcher's check of the addresses they resolve to, so an
//! `HTTP_PROXY` on a provider's host would let a spec or input URI reach its internal network.
//! Its own test binary: the variables are process-wide, and are set before any thread starts.

use cinder_runner::{
    files::serve_dir,
    spec::{spec_hash, Fetcher, FetcherConfig},
};
use std::io::ErrorKind;

#[test]
fn the_environments_proxy_is_never_used() {
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    for key in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        std::env::set_var(key, &proxy_url);
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let bytes = br#"{"version": 1, "kind": "process", "command": ["sh", "-c", "true"], "time_limit_secs": 60}"#;
        std::fs::write(dir.path().join("spec.json"), bytes).unwrap();
        let host = serve_dir(dir.path().to_path_buf(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let fetcher = Fetcher::with_config(FetcherConfig {
            internal_allowed: vec!["127.0.0.0/8".parse().unwrap()],
            ..FetcherConfig::default()
        });
        // The spec's URI names the host by a name only this machine resolves: a proxy would be
        // asked for it (a proxy is never bypassed for names other than NO_PROXY's).
        let uri = host.url("spec.json").replace("127.0.0.1", "localhost");
        let result = fetcher.fetch_spec(&uri, &spec_hash(bytes)).await;
        let proxied = match proxy.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("{e}"),
        };
        assert!(!proxied, "the fetch went through HTTP_PROXY ({result:?})");
        result.expect("fetched directly");
    });
}
