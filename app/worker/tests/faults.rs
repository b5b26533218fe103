//! The worker fault table of SECURITY.md, for real: bad specs are never claimed, bad inputs
//! and runaway jobs are quit with a reason, a worker killed with SIGKILL at each step of a
//! job resumes it exactly once after a restart, a flaky RPC node is retried through, and an
//! RPC outage during a claim or a submit never costs the work done, even one longer than the
//! worker waits for its node (the reconciler sends the result when the node is back).

mod common;

use cinder::{
    events::{JobClaimed, JobQuit, ResultSubmitted},
    state::JobState,
};
use cinder_worker::fault;
use common::*;
use sha2::{Digest, Sha256};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_spec_whose_bytes_do_not_match_its_hash_is_never_claimed() {
    let f = fixture(MarketOpts::default(), 1).await;
    let mut w = f.worker(0, &[]);
    let mut spec = f.process_spec("tampered", DETERMINISTIC, 60);
    // The client hashes its own copy; the host serves other bytes from the start, so the
    // worker can never have seen the true ones.
    let hashed = f.dir.path().join("tampered-original.json");
    std::fs::copy(&spec.path, &hashed).unwrap();
    spec.path = hashed;
    f.publish("tampered.json", b"{\"version\": 1, \"kind\": \"process\"}");
    let job = f.post(&spec).await;
    assert!(
        w.wait_log("not claiming", Duration::from_secs(30)).await,
        "{}",
        w.logs()
    );
    assert!(w.logs().contains("hash"), "{}", w.logs());
    // The refusal is journaled: a restarted worker does not fetch the spec again before its
    // time is up (5 min the first time), however often it rescans (every 2 s here).
    w.restart();
    assert!(
        w.wait_log(
            "refusals in force from the journal",
            Duration::from_secs(60)
        )
        .await,
        "{}",
        w.logs()
    );
    tokio::time::sleep(Duration::from_secs(8)).await;
    let logs = w.logs();
    let (_, after) = logs.split_once("---- restart ----").unwrap();
    assert!(
        !after.contains("not claiming"),
        "the restarted worker looked at the refused spec again: {after}"
    );
    let j = job_state(&job).await;
    assert_eq!(j, Some(JobState::Open), "still open, never claimed");
    assert_eq!(count_events::<JobClaimed>(&job).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_spec_that_cannot_be_fetched_is_never_claimed() {
    let f = fixture(MarketOpts::default(), 1).await;
    let w = f.worker(0, &[]);
    let mut spec = f.process_spec("unreachable", DETERMINISTIC, 60);
    spec.uri = "http://127.0.0.1:9/nothing.json".into();
    let job = f.post(&spec).await;
    assert!(
        w.wait_log("not claiming", Duration::from_secs(30)).await,
        "{}",
        w.logs()
    );
    assert_eq!(job_state(&job).await, Some(JobState::Open));
    assert_eq!(count_events::<JobClaimed>(&job).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_input_that_does_not_match_its_hash_quits_the_job_with_the_reason_on_chain() {
    let f = fixture(MarketOpts::default(), 1).await;
    let w = f.worker(0, &[]);
    let uri = f.publish("bad.in", b"the bytes the client meant");
    let spec = f.spec_from(
        "badinput",
        &serde_json::json!({
            "version": 1, "kind": "process", "command": ["sh", "-c", DETERMINISTIC], "env": {},
            "inputs": [{"uri": uri, "sha256": hex::encode(Sha256::digest(b"other bytes")), "path": "input.txt"}],
            "outputs": "/out", "gpus": 0, "min_vram_gib": 0, "time_limit_secs": 60, "deterministic": true
        }),
    );
    let job = f.post(&spec).await;
    assert!(
        w.wait_log("quitting job", Duration::from_secs(60)).await,
        "{}",
        w.logs()
    );
    wait_state(&job, Some(JobState::Open), Duration::from_secs(30)).await;
    let memo = quit_memo(&job).await; // waits for the quit in the history
    assert!(memo.contains("input"), "the client sees why: {memo}");
    assert_eq!(count_events::<JobQuit>(&job).await, 1);
    assert_eq!(count_events::<ResultSubmitted>(&job).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_over_its_time_limit_is_killed_with_its_children_and_quit() {
    let f = fixture(MarketOpts::default(), 1).await;
    let w = f.worker(0, &[]);
    let marker = f.dir.path().join("grandchild-alive");
    let script = format!("(sleep 30; touch {}) & sleep 30", marker.display());
    let spec = f.process_spec("slow", &script, 2);
    let job = f.post(&spec).await;
    assert!(
        w.wait_log("quitting job", Duration::from_secs(60)).await,
        "{}",
        w.logs()
    );
    wait_state(&job, Some(JobState::Open), Duration::from_secs(30)).await;
    let memo = quit_memo(&job).await;
    assert!(memo.contains("time limit"), "{memo}");
    // Nothing of the job survives the kill.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ps = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "ps -eo args | grep -c '[t]ouch {}' || true",
                marker.display()
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ps.stdout).trim(),
        "0",
        "the grandchild was killed too"
    );
    // And the worker does not take back the job it just gave up on.
    assert_eq!(count_events::<JobClaimed>(&job).await, 1);
}

/// kill -9 at each step of a job's life, then restart: the job is claimed once, submitted
/// once, settles, and its result is still served.
async fn killed_at(point: &'static str) {
    let f = fixture(MarketOpts::default(), 1).await;
    let mut w = f.worker(0, &[("CINDER_FAULT_PAUSE_AT", point)]);
    let spec = f.process_spec(point, DETERMINISTIC, 60);
    let job = f.post(&spec).await;
    assert!(
        w.wait_log(&format!("paused at {point}"), Duration::from_secs(90))
            .await,
        "never reached {point}: {}",
        w.logs()
    );
    w.kill9();
    w.restart();
    wait_state(&job, None, Duration::from_secs(240)).await;
    assert_eq!(
        count_events::<JobClaimed>(&job).await,
        1,
        "claimed once: {}",
        w.logs()
    );
    assert_eq!(
        count_events::<ResultSubmitted>(&job).await,
        1,
        "submitted once: {}",
        w.logs()
    );
    assert_eq!(
        count_events::<JobQuit>(&job).await,
        0,
        "resumed, not quit: {}",
        w.logs()
    );
    let out = f.dir.path().join("results");
    cinder_worker::cli::job_results(&ctx(&f.client), &job.to_string(), &out)
        .await
        .expect("the result survived the crash");
}

macro_rules! kill_tests {
    ($($name:ident => $point:literal),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            assert!(fault::POINTS.contains(&$point));
            killed_at($point).await;
        }
    )*};
}

kill_tests! {
    killed_after_signing_the_claim_resumes_exactly_once => "claim_signed",
    killed_after_the_claim_landed_resumes_exactly_once => "claimed",
    killed_mid_run_resumes_exactly_once => "run_started",
    killed_after_storing_the_result_resumes_exactly_once => "result_stored",
    killed_after_signing_the_submit_resumes_exactly_once => "submit_signed",
    killed_after_the_submit_landed_resumes_exactly_once => "submitted",
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flaky_rpc_node_is_retried_with_backoff_and_the_job_still_settles() {
    let f = fixture(MarketOpts::default(), 1).await;
    let proxy = proxy::flaky(&net().state.rpc_url).await;
    let mut w = f.worker(0, &[("CINDER_RPC_URL", &proxy.url)]);
    let spec = f.process_spec("flaky", DETERMINISTIC, 60);
    let job = f.post(&spec).await;
    wait_state(&job, None, Duration::from_secs(120)).await;
    assert!(proxy.faults() > 0, "the proxy injected faults");
    assert_eq!(count_events::<JobClaimed>(&job).await, 1);
    assert_eq!(count_events::<ResultSubmitted>(&job).await, 1);
    w.kill9();
}

/// The claim lands but its reply is lost and the node goes dark for 20 s (longer than the
/// RPC retries): the worker waits for the chain to answer, finds the claim its own, runs and
/// submits the job. Before issue 16 (point 5) it read the outage as a lost claim, journaled a
/// quit the chain never saw, and left the job to expire under its own stake.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_claim_that_lands_during_an_rpc_outage_is_run_not_abandoned() {
    let f = fixture(MarketOpts::default(), 1).await;
    let (proxy, outage) = proxy::outage(&net().state.rpc_url, Duration::from_secs(20), true).await;
    let mut w = f.worker(0, &[("CINDER_RPC_URL", &proxy.url)]);
    assert!(
        w.wait_log("worker ready", Duration::from_secs(60)).await,
        "{}",
        w.logs()
    );
    outage.arm(1);
    let spec = f.process_spec("outage", DETERMINISTIC, 60);
    let job = f.post(&spec).await;
    wait_state(&job, None, Duration::from_secs(240)).await;
    assert!(outage.happened(), "the claim went through the outage");
    assert!(
        w.wait_log("claim landed despite an error", Duration::from_secs(1))
            .await,
        "{}",
        w.logs()
    );
    assert_eq!(count_events::<JobClaimed>(&job).await, 1);
    assert_eq!(count_events::<ResultSubmitted>(&job).await, 1);
    assert_eq!(count_events::<JobQuit>(&job).await, 0, "{}", w.logs());
    w.kill9();
}

/// The submit never reaches the node, which then fails every call for 20 s (longer than the
/// RPC retries): the worker finds the job still waiting for its result and sends it again
/// while the deadline allows. Before issue 16 (point 6) it left the submit to the next
/// restart, and the job expired under its stake with the work done.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_submit_lost_in_an_rpc_outage_is_sent_again_before_the_deadline() {
    let f = fixture(MarketOpts::default(), 1).await;
    let (proxy, outage) = proxy::outage(&net().state.rpc_url, Duration::from_secs(20), false).await;
    let mut w = f.worker(0, &[("CINDER_RPC_URL", &proxy.url)]);
    assert!(
        w.wait_log("worker ready", Duration::from_secs(60)).await,
        "{}",
        w.logs()
    );
    outage.arm(2); // the claim goes through; the submit starts the outage
    let spec = f.process_spec("lost-submit", DETERMINISTIC, 60);
    let job = f.post(&spec).await;
    wait_state(&job, None, Duration::from_secs(240)).await;
    assert!(outage.happened(), "the submit went into the outage");
    assert!(
        w.wait_log("sending it again", Duration::from_secs(1)).await,
        "{}",
        w.logs()
    );
    assert_eq!(count_events::<ResultSubmitted>(&job).await, 1);
    assert_eq!(count_events::<JobQuit>(&job).await, 0, "{}", w.logs());
    w.kill9();
}

/// The same lost submit, but the node stays dark for 30 s and the worker is told to wait for it
/// only 2 s (`rpc_patience_secs`): the job's task gives up and leaves the entry at Submitting.
/// The reconciler (every 3 s here) re-drives the entry in the same process, without a restart:
/// it waits out the lost transaction's blockhash, finds the job still waiting for the result
/// and submits it. Before issue 16 (point 6) only a restart re-drove such an entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_submit_given_up_in_a_long_outage_is_sent_by_the_reconciler() {
    let f = fixture(MarketOpts::default(), 1).await;
    let (proxy, outage) = proxy::outage(&net().state.rpc_url, Duration::from_secs(30), false).await;
    let mut w = f.worker(
        0,
        &[
            ("CINDER_RPC_URL", &proxy.url),
            ("CINDER_RPC_PATIENCE_SECS", "2"),
            ("CINDER_RECONCILE_SECS", "3"),
        ],
    );
    assert!(
        w.wait_log("worker ready", Duration::from_secs(60)).await,
        "{}",
        w.logs()
    );
    outage.arm(2); // the claim goes through; the submit starts the outage
    let spec = f.process_spec("reconciled-submit", DETERMINISTIC, 60);
    let job = f.post(&spec).await;
    assert!(
        w.wait_log("the reconciler sends it", Duration::from_secs(120))
            .await,
        "the job's task gave up on the node: {}",
        w.logs()
    );
    wait_state(&job, None, Duration::from_secs(240)).await;
    assert!(outage.happened(), "the submit went into the outage");
    assert!(
        w.wait_log("recovering", Duration::from_secs(1)).await,
        "{}",
        w.logs()
    );
    assert_eq!(count_events::<ResultSubmitted>(&job).await, 1);
    assert_eq!(count_events::<JobQuit>(&job).await, 0, "{}", w.logs());
    w.kill9();
}

async fn job_state(job: &anchor_lang::prelude::Pubkey) -> Option<JobState> {
    common::job(job).await.map(|j| j.state)
}

/// The memo of the job's quit transaction.
async fn quit_memo(job: &anchor_lang::prelude::Pubkey) -> String {
    let h = history(job, |h| {
        h.iter().any(|l| !l.events_of::<JobQuit>().is_empty())
    })
    .await;
    h.iter()
        .filter(|l| !l.events_of::<JobQuit>().is_empty())
        .flat_map(|l| l.logs.iter().filter(|m| m.contains("Memo")).cloned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A JSON-RPC proxy on loopback between the worker and the validator; a policy decides for
/// each request whether it is forwarded and what the worker gets back.
mod proxy {
    use axum::http::StatusCode;
    use std::{
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc, Mutex,
        },
        time::{Duration, Instant},
    };

    /// What the proxy does with one request.
    pub enum Action {
        Forward,
        /// Answers with this status without forwarding, after a stall.
        Fail(StatusCode, Duration),
        /// Forwards it (it takes effect on chain) but answers with this status: the reply is
        /// lost.
        ForwardAndLose(StatusCode),
    }

    /// Decides per request: its number (from 1) and its JSON body.
    pub type Policy = dyn Fn(usize, &[u8]) -> Action + Send + Sync;

    pub struct Proxy {
        pub url: String,
        faults: Arc<AtomicUsize>,
    }

    impl Proxy {
        /// Requests not forwarded, or whose reply was lost.
        pub fn faults(&self) -> usize {
            self.faults.load(Ordering::SeqCst)
        }
    }

    pub async fn start(upstream: &str, policy: Arc<Policy>) -> Proxy {
        let count = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (c, f, up) = (count, faults.clone(), upstream.to_string());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let http = reqwest::Client::new();
                let app = axum::Router::new().route(
                    "/",
                    axum::routing::post(move |body: axum::body::Bytes| {
                        let (c, f, up, http) = (c.clone(), f.clone(), up.clone(), http.clone());
                        let policy = policy.clone();
                        async move {
                            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
                            let lose = match policy(n, &body) {
                                Action::Forward => None,
                                Action::Fail(status, stall) => {
                                    f.fetch_add(1, Ordering::SeqCst);
                                    tokio::time::sleep(stall).await;
                                    return Err(status);
                                }
                                Action::ForwardAndLose(status) => Some(status),
                            };
                            let r = http
                                .post(&up)
                                .header("content-type", "application/json")
                                .body(body)
                                .send()
                                .await
                                .map_err(|_| StatusCode::BAD_GATEWAY)?;
                            let b = r.bytes().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
                            if let Some(status) = lose {
                                f.fetch_add(1, Ordering::SeqCst);
                                return Err(status);
                            }
                            Ok(([("content-type", "application/json")], b))
                        }
                    }),
                );
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(l, app).await.unwrap();
            });
        });
        Proxy {
            url: format!("http://{addr}"),
            faults,
        }
    }

    /// Every third request answered with an HTTP 500, every seventh with a 429, every
    /// eleventh stalled for a second before a 503.
    pub async fn flaky(upstream: &str) -> Proxy {
        let policy = |n: usize, _: &[u8]| match n {
            n if n % 11 == 0 => {
                Action::Fail(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(1))
            }
            n if n % 3 == 0 => Action::Fail(StatusCode::INTERNAL_SERVER_ERROR, Duration::ZERO),
            n if n % 7 == 0 => Action::Fail(StatusCode::TOO_MANY_REQUESTS, Duration::ZERO),
            _ => Action::Forward,
        };
        start(upstream, Arc::new(policy)).await
    }

    /// An outage switch: once armed, the `n`th `sendTransaction` from then on starts it: that
    /// transaction is forwarded with its reply lost (`lands`) or never forwarded, and the node
    /// then answers nothing but 503s for `length`.
    pub struct Outage {
        armed: AtomicUsize,
        down_until: Mutex<Option<Instant>>,
        length: Duration,
        lands: bool,
    }

    impl Outage {
        pub fn arm(&self, n: usize) {
            self.armed.store(n, Ordering::SeqCst);
        }

        /// Whether the outage happened.
        pub fn happened(&self) -> bool {
            self.down_until.lock().unwrap().is_some()
        }

        fn decide(&self, body: &[u8]) -> Action {
            let unavailable = StatusCode::SERVICE_UNAVAILABLE;
            let mut down = self.down_until.lock().unwrap();
            if down.is_some_and(|until| Instant::now() < until) {
                return Action::Fail(unavailable, Duration::ZERO);
            }
            let needle = b"\"sendTransaction\"";
            let sending = body.windows(needle.len()).any(|w| w == needle);
            let armed = self.armed.load(Ordering::SeqCst);
            if sending && armed > 0 {
                self.armed.store(armed - 1, Ordering::SeqCst);
                if armed == 1 {
                    *down = Some(Instant::now() + self.length);
                    return match self.lands {
                        true => Action::ForwardAndLose(unavailable),
                        false => Action::Fail(unavailable, Duration::ZERO),
                    };
                }
            }
            Action::Forward
        }
    }

    pub async fn outage(upstream: &str, length: Duration, lands: bool) -> (Proxy, Arc<Outage>) {
        let switch = Arc::new(Outage {
            armed: 0.into(),
            down_until: Mutex::new(None),
            length,
            lands,
        });
        let s = switch.clone();
        let proxy = start(upstream, Arc::new(move |_, body: &[u8]| s.decide(body))).await;
        (proxy, switch)
    }
}

/// The job's clock starts at the claim: a job whose spec allows a run as long as the whole
/// time from claim to deadline (no room to hash and submit) is not claimed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_whose_full_run_would_miss_its_deadline_is_never_claimed() {
    let f = fixture(MarketOpts::default(), 1).await;
    let w = f.worker(0, &[]);
    // Posted for up to 300 s; the spec allows a 295 s run.
    let job = f
        .post(&f.process_spec("too-long", DETERMINISTIC, 295))
        .await;
    assert!(
        w.wait_log("could not be submitted in time", Duration::from_secs(30))
            .await,
        "{}",
        w.logs()
    );
    assert_eq!(job_state(&job).await, Some(JobState::Open));
    assert_eq!(count_events::<JobClaimed>(&job).await, 0);
}
