//! `cinder-cu-trace`: where the compute units of the hot path go (issue 20). Runs post, claim,
//! submit and settle (SPL Token, in Mollusk, one instruction per transaction) on a build of
//! the program with its `cu-trace` feature, whose trace points (`cu_trace!`) log a label and
//! the units remaining, and on the plain build; splits each instruction into the segments
//! between its trace points, with the cross-program invocations made in each, and writes that
//! table into BENCHMARKS.md (its own section; `cinder-bench` keeps it).
//!
//! Usage: scripts/cu-trace.sh (builds both programs, then runs this), or
//!   cargo run -p cinder-tests --bin cinder-cu-trace -- --traced SO [--plain SO] [--out PATH]

use cinder_tests::{ix, MintKind, World};
use solana_sdk::signer::Signer;
use std::fmt::Write as _;

const HEADING: &str = "## Where the compute units go (`cu-trace`)";

/// One instruction's run: its logs and the units it consumed.
struct Run {
    name: &'static str,
    logs: Vec<String>,
    cu: u64,
}

/// Post, claim, submit (1 800 s billed) and settle one job on the program at `so`, as
/// `cinder-bench` measures them.
fn hot_path(so: &str) -> Vec<Run> {
    // SAFETY: single-threaded; the world below reads it once, when it loads the program.
    unsafe { std::env::set_var("CINDER_SO", so) };
    cinder_tests::deterministic_keys();
    let mut w = World::with_mint(true, MintKind::Legacy);
    let client = w.client.insecure_clone();
    let provider = w.provider.insecure_clone();
    let ct = w.client_token;
    let mut runs = Vec::new();
    let mut send = |w: &mut World,
                    name: &'static str,
                    ixs: &[solana_sdk::instruction::Instruction],
                    signers: &[&solana_sdk::signature::Keypair]| {
        let meta = w
            .send(ixs, signers)
            .unwrap_or_else(|e| panic!("{name} failed: {e:?}"));
        runs.push(Run {
            name,
            logs: meta.logs,
            cu: meta.compute_units,
        });
    };
    let (k, nonce) = w.next_job();
    let args = w.post_args(&k, nonce, 10, 3_600);
    send(
        &mut w,
        "post_job",
        &[ix::post_job(&k, &ct, args)],
        &[&client],
    );
    let claim = ix::claim_job(&k, &provider.pubkey());
    send(&mut w, "claim_job", &[claim], &[&provider]);
    w.warp(1_800);
    let submit = ix::submit_result(
        &k,
        &provider.pubkey(),
        [7; 32],
        1_800,
        "https://gpu.example.com/r/1",
    );
    send(&mut w, "submit_result", &[submit], &[&provider]);
    w.warp(600);
    let p = w.payees();
    send(&mut w, "settle_job", &[ix::settle_job(&k, &p)], &[]);
    runs
}

/// Part of an instruction: from the previous trace point (or the start) to `label`.
struct Segment {
    label: String,
    cu: u64,
    /// The programs invoked in it, with the units each consumed (builtins log none).
    cpis: Vec<String>,
}

fn program_name(id: &str) -> String {
    match id {
        "11111111111111111111111111111111" => "System".into(),
        "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA" => "SPL Token".into(),
        "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb" => "Token-2022".into(),
        id if id == cinder::ID.to_string() => "Cinder (self-CPI: the event)".into(),
        id => id.into(),
    }
}

/// The segments of one instruction's logs: between its trace points, then from the last one
/// to the end (the handler's return and Anchor's exit).
fn segments(logs: &[String]) -> Vec<Segment> {
    let me = cinder::ID.to_string();
    let mut points: Vec<(String, u64)> = Vec::new();
    let mut segs: Vec<Segment> = Vec::new();
    let mut cpis: Vec<String> = Vec::new();
    let mut budget_and_used = None;
    let mut pending_label = None;
    let mut depth = 0usize;
    let mut inner: Option<String> = None;
    for line in logs {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Program", id, "invoke", level] => {
                depth = level.trim_matches(['[', ']']).parse().unwrap_or(depth);
                if depth == 2 {
                    inner = Some(id.to_string());
                    cpis.push(program_name(id));
                }
            }
            ["Program", id, "consumed", used, "of", budget, ..] => {
                let used: u64 = used.parse().unwrap_or(0);
                if *id == me && depth == 1 {
                    budget_and_used = Some((budget.parse::<u64>().unwrap_or(0), used));
                } else if depth == 2 && inner.as_deref() == Some(*id) {
                    if let Some(last) = cpis.last_mut() {
                        *last = format!("{} {used}", program_name(id));
                    }
                }
            }
            ["Program", _, "success"] | ["Program", _, "failed:", ..] => {
                depth = depth.saturating_sub(1);
            }
            ["Program", "log:", ..] if depth == 1 => {
                pending_label = Some(line["Program log: ".len()..].to_string());
            }
            ["Program", "consumption:", remaining, "units", "remaining"] => {
                if let (Some(label), Ok(r)) = (pending_label.take(), remaining.parse::<u64>()) {
                    points.push((label, r));
                    segs.push(Segment {
                        label: String::new(),
                        cu: 0,
                        cpis: std::mem::take(&mut cpis),
                    });
                }
            }
            _ => {}
        }
    }
    let (budget, used) = budget_and_used.expect("the instruction's consumed line");
    let mut before = budget;
    for (seg, (label, remaining)) in segs.iter_mut().zip(&points) {
        seg.label = label.clone();
        seg.cu = before - remaining;
        before = *remaining;
    }
    segs.push(Segment {
        label: "return and Anchor's exit".into(),
        cu: before - (budget - used),
        cpis,
    });
    segs
}

fn main() {
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: single-threaded at this point.
        unsafe { std::env::set_var("RUST_LOG", "error") };
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let traced =
        arg("--traced").expect("--traced PATH: a cinder.so built with --features cu-trace");
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let plain = arg("--plain").unwrap_or_else(|| format!("{root}/target/deploy/cinder.so"));
    let out = arg("--out").unwrap_or_else(|| format!("{root}/BENCHMARKS.md"));

    let traced_runs = hot_path(&traced);
    let plain_runs = hot_path(&plain);
    let mut table = String::from(
        "| instruction | segment (ends at the trace point) | compute units | programs invoked in it (units each consumed; builtins log none) |\n|---|---|---:|---|\n",
    );
    let mut overheads = Vec::new();
    let mut events = Vec::new();
    for (t, p) in traced_runs.iter().zip(&plain_runs) {
        let segs = segments(&t.logs);
        let points = segs.len() as u64 - 1;
        // Each trace point costs its log line and the units syscall; spread the traced build's
        // excess over its points.
        let per_point = t.cu.saturating_sub(p.cu) / points.max(1);
        overheads.push(per_point);
        for (i, s) in segs.iter().enumerate() {
            let label = if i == 0 {
                format!("entry, accounts deserialized and checked → `{}`", s.label)
            } else if i + 1 == segs.len() {
                s.label.clone()
            } else {
                format!("`{}`", s.label)
            };
            // Every segment but the last ends with one trace point.
            let net = if i + 1 == segs.len() {
                s.cu
            } else {
                s.cu.saturating_sub(per_point)
            };
            if s.label.ends_with("event emitted") {
                events.push((t.name, net));
            }
            let _ = writeln!(
                table,
                "| `{}` | {label} | {net} | {} |",
                t.name,
                s.cpis.join(", ")
            );
        }
        let _ = writeln!(
            table,
            "| `{}` | **total** (the plain build; traced: {}) | **{}** | |",
            t.name, t.cu, p.cu
        );
    }
    let event_total: u64 = events.iter().map(|(_, cu)| cu).sum();
    let lifecycle: u64 = plain_runs.iter().map(|r| r.cu).sum();
    let section = format!(
        "{HEADING}\n\n\
Written by `scripts/cu-trace.sh` (not CI: it builds the program twice); do not edit by hand. The \
hot path of `cinder-bench` (SPL Token) run on a build with the `cu-trace` feature, whose trace \
points (`cu_trace!` in the handlers) log a label and the units remaining, and on the plain build. \
A segment runs from the previous trace point (or the instruction's start) to the one named. Its \
units are net of the trace point itself, ≈ {} CU each (the traced build's excess over the plain \
one, spread over its points: {}). The programs invoked in a segment are listed with the units \
they consumed themselves; the caller also pays for each invocation (≈ 1k CU base, plus its \
accounts and data).\n\n{table}\n\
**What this says.** The event each hot instruction emits with `emit_cpi!` (a self-invocation \
carrying the event as instruction data, so that a log truncated by other instructions of the \
same transaction cannot lose it) costs {} CU across the four ({}), {:.0} % of the lifecycle's \
{lifecycle}. An `emit!` instead (one `sol_log_data` syscall: taking 150 CU each, its base cost \
and the event's bytes) would bring the lifecycle to ≈ {}, under the ≤ 35k goal of issue 20, \
at the price of events that a caller who \
pads its transaction's logs past the node's limit can hide from log readers (the dApp's \
settled-job history and the worker read these events). The next largest parts are account \
creation (the job and its vault: System plus `InitializeAccount3`) and the entry (Anchor's \
account deserialization and constraint checks).\n",
        overheads.iter().sum::<u64>() / overheads.len().max(1) as u64,
        overheads
            .iter()
            .zip(&traced_runs)
            .map(|(o, r)| format!("`{}` {o}", r.name))
            .collect::<Vec<_>>()
            .join(", "),
        event_total,
        events
            .iter()
            .map(|(n, cu)| format!("`{n}` {cu}"))
            .collect::<Vec<_>>()
            .join(", "),
        event_total as f64 * 100.0 / lifecycle as f64,
        lifecycle - event_total + 150 * events.len() as u64,
    );
    let old = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("read {out}: {e}"));
    let doc = match old.find(HEADING) {
        Some(start) => {
            let rest = &old[start + HEADING.len()..];
            let end = rest
                .find("\n## ")
                .map_or(old.len(), |i| start + HEADING.len() + i + 1);
            format!("{}{section}{}", &old[..start], &old[end..])
        }
        // After cinder-bench's tables (the first section it does not write).
        None => match old.find("\n## On a GPU") {
            Some(i) => format!("{}\n{section}{}", &old[..i + 1], &old[i + 1..]),
            None => format!("{}\n\n{section}", old.trim_end()),
        },
    };
    std::fs::write(&out, doc).unwrap_or_else(|e| panic!("write {out}: {e}"));
    print!("{section}");
    println!("wrote {out}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instructions_logs_split_at_its_trace_points_with_the_programs_each_part_invoked() {
        let me = cinder::ID.to_string();
        let logs: Vec<String> = [
            format!("Program {me} invoke [1]"),
            "Program log: post: accounts loaded".into(),
            "Program consumption: 1396747 units remaining".into(),
            "Program 11111111111111111111111111111111 invoke [2]".into(),
            "Program 11111111111111111111111111111111 success".into(),
            "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke [2]".into(),
            "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA consumed 233 of 1392183 compute units".into(),
            "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA success".into(),
            "Program log: post: vault created".into(),
            "Program consumption: 1391700 units remaining".into(),
            format!("Program {me} invoke [2]"),
            format!("Program {me} consumed 456 of 1384463 compute units"),
            format!("Program {me} success"),
            "Program log: post: event emitted".into(),
            "Program consumption: 1383783 units remaining".into(),
            format!("Program {me} consumed 16646 of 1400000 compute units"),
            format!("Program {me} success"),
        ]
        .into();
        let segs = segments(&logs);
        let got: Vec<(&str, u64, String)> = segs
            .iter()
            .map(|s| (s.label.as_str(), s.cu, s.cpis.join(", ")))
            .collect();
        assert_eq!(
            got,
            vec![
                ("post: accounts loaded", 3_253, String::new()),
                ("post: vault created", 5_047, "System, SPL Token 233".into()),
                (
                    "post: event emitted",
                    7_917,
                    "Cinder (self-CPI: the event) 456".into()
                ),
                ("return and Anchor's exit", 429, String::new()),
            ]
        );
        assert_eq!(
            segs.iter().map(|s| s.cu).sum::<u64>(),
            16_646,
            "the parts add up"
        );
    }
}
