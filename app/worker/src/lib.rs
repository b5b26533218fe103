//! Cinder's off-chain provider: the daemon (`cinder worker`) and the CLI that clients,
//! providers and keepers use. See the binary's `--help` and the README ("A provider").

pub mod cli;
pub mod config;
pub mod cranks;
pub mod daemon;
#[cfg(feature = "localnet")]
pub mod demo;
pub mod doctor;
pub mod exec;
pub mod fault;
pub mod journal;
#[cfg(feature = "localnet")]
pub mod localnet;
pub mod lock;
pub mod market;
pub mod telemetry;

/// Resolves on SIGUSR1: the operator asks the worker to drain (take nothing new, finish and
/// submit what it has, then stop) before an upgrade. Never resolves where there is no SIGUSR1.
pub async fn drain_signal() {
    #[cfg(unix)]
    {
        let mut usr1 =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
                .expect("installing the SIGUSR1 handler");
        usr1.recv().await;
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
