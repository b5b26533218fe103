//! Structured logs (`tracing`, pretty or JSON, filtered by `RUST_LOG`/`CINDER_LOG`) and
//! Prometheus metrics served at `/metrics`.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global log subscriber once (later calls are no-ops).
pub fn init_logs(format: &str) {
    let filter = EnvFilter::try_from_env("CINDER_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,solana=warn,agave=warn,solana_metrics=off"));
    let registry = tracing_subscriber::registry().with(filter);
    let res = if format == "json" {
        registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
    } else {
        registry
            .with(fmt::layer().with_target(false).with_writer(std::io::stderr))
            .try_init()
    };
    let _ = res;
}

/// Logs to a file instead of the terminal (the demo keeps the terminal for progress bars).
pub fn init_logs_to_file(path: &std::path::Path) {
    let Ok(file) = std::fs::File::create(path) else {
        return init_logs("pretty");
    };
    let filter = EnvFilter::try_from_env("CINDER_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,solana=warn,agave=warn,solana_metrics=off"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            fmt::layer()
                .with_ansi(false)
                .with_target(false)
                .with_writer(std::sync::Mutex::new(file)),
        )
        .try_init();
}

/// Installs the Prometheus recorder (once) and returns its handle.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                ])
                .expect("static buckets")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder (a test harness) may already be installed: then keep ours
            // local; the handle still renders what this process records through it.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Serves `/metrics` until the process ends.
pub async fn serve_metrics(addr: SocketAddr) -> std::io::Result<()> {
    let handle = metrics_handle();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let h = handle.clone();
            async move { h.render() }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "metrics at /metrics");
    axum::serve(listener, app).await
}
