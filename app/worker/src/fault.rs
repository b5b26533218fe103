//! Fault injection for the crash tests: with `CINDER_FAULT_PAUSE_AT=<point>` the worker stops
//! at that point of a job's life (after journaling what it is about to do, before doing it, or
//! right after) and waits there forever, so a test can `kill -9` it at exactly that step and
//! check that the restart neither loses nor repeats anything. Unset in production: a no-op.

use std::sync::OnceLock;

/// Every point a test can stop at, in a job's order.
pub const POINTS: &[&str] = &[
    "claim_signed",
    "claimed",
    "run_started",
    "result_stored",
    "submit_signed",
    "submitted",
];

fn target() -> Option<&'static str> {
    static T: OnceLock<Option<String>> = OnceLock::new();
    T.get_or_init(|| std::env::var("CINDER_FAULT_PAUSE_AT").ok())
        .as_deref()
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
