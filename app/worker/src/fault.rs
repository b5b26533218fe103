//! Fault injection for the crash tests: with `CINDER_FAULT_PAUSE_AT=<point>` the worker stops
//! at that point of a job's life (after journaling what it is about to do, before doing it, or
//! right after) and waits there forever, so a test can `kill -9` it at exactly that step and
//! check that the restart neither loses nor repeats anything. Only in builds with the
//! `fault-injection` feature (on by default, for the tests); the provider build
//! (`--no-default-features`) ignores the variable, and says so at start.

/// Every point a test can stop at, in a job's order.
pub const POINTS: &[&str] = &[
    "claim_signed",
    "claimed",
    "run_started",
    "result_stored",
    "submit_signed",
    "submitted",
];

const VAR: &str = "CINDER_FAULT_PAUSE_AT";

#[cfg(feature = "fault-injection")]
fn target() -> Option<&'static str> {
    static T: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    T.get_or_init(|| std::env::var(VAR).ok()).as_deref()
}

#[cfg(not(feature = "fault-injection"))]
fn target() -> Option<&'static str> {
    None
}

/// At start: a build without fault injection says that it ignores the variable.
pub fn announce() {
    if !cfg!(feature = "fault-injection") && std::env::var_os(VAR).is_some() {
        tracing::warn!("{VAR} is set but this build has no fault injection: ignored");
    }
}

/// Stops here forever if the test asked for this point.
pub async fn point(name: &'static str) {
    debug_assert!(POINTS.contains(&name), "unknown fault point {name}");
    if target() == Some(name) {
        tracing::warn!(
            point = name,
            "fault injection: paused (CINDER_FAULT_PAUSE_AT)"
        );
        eprintln!("cinder: fault injection: paused at {name}");
        std::future::pending::<()>().await;
    }
}

/// The same, for code that cannot await (the transaction observer).
pub fn point_blocking(name: &'static str) {
    debug_assert!(POINTS.contains(&name), "unknown fault point {name}");
    if target() == Some(name) {
        tracing::warn!(
            point = name,
            "fault injection: paused (CINDER_FAULT_PAUSE_AT)"
        );
        eprintln!("cinder: fault injection: paused at {name}");
        loop {
            std::thread::park();
        }
    }
}
