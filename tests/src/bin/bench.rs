//! `cinder-bench`: runs every instruction of the SBF build (`target/deploy/cinder.so`) in
//! Mollusk, one instruction per transaction, and writes the compute units each consumed into
//! `BENCHMARKS.md` (or prints them with `--check`, failing if a hot path is over its budget).
//!
//! Usage: scripts/bench.sh (builds cinder.so, then runs this), or
//!        cargo run -p cinder-tests --bin cinder-bench [-- --check] [--out PATH]

use cinder_tests::{ix, tokens, world, MintKind, World};
use solana_sdk::{instruction::Instruction, signature::Keypair, signer::Signer};
use std::fmt::Write as _;

/// The best open GPU-market program, built with this toolchain: list, take, finish-and-pay.
const REFERENCE: [(&str, u64); 3] = [
    ("post_job", 16_200),
    ("claim_job", 8_800),
    ("settle_job", 14_100),
];

struct Row {
    instruction: &'static str,
    mint: &'static str,
    cu: u64,
    note: &'static str,
}

fn run(w: &mut World, ixs: &[Instruction], signers: &[&Keypair]) -> u64 {
    assert!(w.chain.is_sbf());
    let meta = w
        .send(ixs, signers)
        .unwrap_or_else(|e| panic!("benchmark transaction failed: {e:?}"));
    if std::env::var_os("CINDER_BENCH_LOGS").is_some() {
        println!("{}", meta.logs.join("\n"));
    }
    meta.compute_units
}

fn measure(kind: MintKind) -> Vec<Row> {
    let mint = match kind {
        MintKind::Legacy => "SPL Token",
        MintKind::Token2022 => "Token-2022",
    };
    let mut rows = Vec::new();
    let mut row = |instruction, cu, note| {
        rows.push(Row {
            instruction,
            mint,
            cu,
            note,
        })
    };

    // Admin instructions, measured on a bare chain.
    if kind == MintKind::Legacy {
        let (mut chain, admin, _, _) = World::bare(true);
        let c = chain.as_mut();
        let m = tokens::create_mint(c, &admin, &admin.pubkey(), None, 9, &tokens::LEGACY, &[]);
        let a = admin.pubkey();
        let cu = c
            .send(
                &[ix::init_config(&a, &m, world::default_config_params())],
                &admin,
                &[],
            )
            .unwrap();
        row("init_config", cu.compute_units, "once");
        let p = ix::Protocol {
            mint: m,
            token_program: tokens::LEGACY,
        };
        let cu = c.send(&[ix::init_staking(&a, &p)], &admin, &[]).unwrap();
        row(
            "init_staking",
            cu.compute_units,
            "once; creates the stake and reward vaults",
        );
        let cu = c
            .send(
                &[ix::update_config(&a, world::default_config_params(), false)],
                &admin,
                &[],
            )
            .unwrap();
        row("update_config", cu.compute_units, "admin");
        let next = cinder_tests::keypair();
        let cu = c
            .send(&[ix::propose_admin(&a, next.pubkey())], &admin, &[])
            .unwrap();
        row("propose_admin", cu.compute_units, "admin");
        let cu = c
            .send(&[ix::accept_admin(&next.pubkey())], &admin, &[&next])
            .unwrap();
        row("accept_admin", cu.compute_units, "admin");
    }

    let mut w = World::with_mint(true, kind);
    let a = w.admin.pubkey();
    if kind == MintKind::Legacy {
        let other = tokens::create_mint(
            w.chain.as_mut(),
            &w.admin.insecure_clone(),
            &a,
            None,
            6,
            &tokens::LEGACY,
            &[],
        );
        let cu = run(
            &mut w,
            &[ix::init_auction(
                &a,
                &other,
                &tokens::LEGACY,
                world::default_auction_params(),
                false,
            )],
            &[],
        );
        row(
            "init_auction",
            cu,
            "once per payment mint; creates the fee vault",
        );
        let cu = run(
            &mut w,
            &[ix::create_market(
                &a,
                2,
                &other,
                &tokens::LEGACY,
                world::default_market_params(a),
                false,
            )],
            &[],
        );
        row("create_market", cu, "admin; creates the verification pool");
        let market = w.market;
        let cu = run(
            &mut w,
            &[ix::update_market(
                &a,
                &market,
                world::default_market_params(a),
                false,
            )],
            &[],
        );
        row("update_market", cu, "admin");
        let p = cinder_tests::keypair();
        w.fund(&p.pubkey());
        let pt = w.protocol_account(&p.pubkey());
        let (admin, auth, pm) = (
            w.admin.insecure_clone(),
            w.mint_authority.insecure_clone(),
            w.protocol_mint,
        );
        tokens::mint_to(
            w.chain.as_mut(),
            &admin,
            &pm,
            &pt,
            &auth,
            1_000_000_000_000,
            &tokens::LEGACY,
        );
        let proto = w.protocol();
        w.send(
            &[ix::stake(
                &p.pubkey(),
                &pt,
                &proto,
                1_000_000_000_000,
                world::LOCK_30D,
            )],
            &[&p],
        )
        .unwrap();
        let cu = run(
            &mut w,
            &[ix::register_provider(
                &p.pubkey(),
                world::default_provider_info(),
            )],
            &[&p],
        );
        row("register_provider", cu, "once per provider");
        let cu = run(
            &mut w,
            &[ix::update_provider(
                &p.pubkey(),
                world::default_provider_info(),
                true,
            )],
            &[&p],
        );
        row("update_provider", cu, "provider");
    }

    // Hot path: post, claim, submit, settle.
    let client = w.client.insecure_clone();
    let provider = w.provider.insecure_clone();
    let ct = w.client_token;
    let (k, nonce) = w.next_job();
    let args = w.post_args(&k, nonce, 10, 3_600);
    let cu = run(&mut w, &[ix::post_job(&k, &ct, args)], &[&client]);
    row("post_job", cu, "hot: creates job + vault, escrows");
    let cu = run(&mut w, &[ix::extend_job(&k, &ct, 60)], &[&client]);
    row("extend_job", cu, "client");
    let cu = run(
        &mut w,
        &[ix::claim_job(&k, &provider.pubkey())],
        &[&provider],
    );
    row("claim_job", cu, "hot");
    // Quit on a job of its own: a provider that quit a job may not claim it again.
    let proto = w.protocol();
    let quit = w.post(10, 3_600);
    w.claim(&quit);
    let cu = run(
        &mut w,
        &[ix::quit_job(&quit, &provider.pubkey(), &proto)],
        &[&provider],
    );
    row("quit_job", cu, "provider");
    w.warp(1_800);
    let cu = run(
        &mut w,
        &[ix::submit_result(
            &k,
            &provider.pubkey(),
            [7; 32],
            1_800,
            "https://gpu.example.com/r/1",
        )],
        &[&provider],
    );
    row("submit_result", cu, "hot");
    w.warp(600);
    let p = w.payees();
    let cu = run(&mut w, &[ix::settle_job(&k, &p)], &[]);
    row("settle_job", cu, "hot: 3 transfers, closes vault + job");
    let (market, mint, tp) = (w.market, w.mint, w.token_program);
    let cu = run(&mut w, &[ix::sweep_fees(&market, &mint, &tp)], &[]);
    row(
        "sweep_fees",
        cu,
        "anyone; batches many settlements' protocol fees",
    );

    // Buyback and burn: a buyer takes the fee vault the sweep filled.
    let (buyer, buyer_ptoken) = w.staker(1_000_000_000);
    let admin = w.admin.insecure_clone();
    let buyer_pay =
        tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &buyer.pubkey(), &tp);
    let side = ix::PaymentSide {
        payment_mint: mint,
        payment_token_program: tp,
    };
    let (tr, proto) = (w.treasury_ptoken, w.protocol());
    let buy = ix::buy(
        &buyer.pubkey(),
        &side,
        &buyer_pay,
        &buyer_ptoken,
        &tr,
        &proto,
        u64::MAX,
        1,
    );
    let cu = run(&mut w, &[buy], &[&buyer]);
    row(
        "buy",
        cu,
        "anyone; takes the fee vault, burns and pays stakers + treasury",
    );
    if kind == MintKind::Legacy {
        let (a, pm) = (admin.pubkey(), w.protocol_mint);
        let params = world::default_auction_params();
        let init = ix::init_auction(&a, &pm, &tokens::LEGACY, params, false);
        w.send(&[init], &[]).expect("protocol-mint auction");
        let auth = w.mint_authority.insecure_clone();
        let vault = ix::fee_vault_pda(&pm);
        tokens::mint_to(
            w.chain.as_mut(),
            &admin,
            &pm,
            &vault,
            &auth,
            1_000_000,
            &tokens::LEGACY,
        );
        let cu = run(&mut w, &[ix::distribute_fees(&tr, &proto)], &[]);
        row(
            "distribute_fees",
            cu,
            "anyone; splits protocol-mint fees (burn, stakers, treasury)",
        );
        let cu = run(&mut w, &[ix::update_auction(&a, &mint, params)], &[]);
        row("update_auction", cu, "admin");
    }

    let k = w.post(10, 3_600);
    w.claim(&k);
    w.warp(60);
    w.submit(&k, 60);
    let cu = run(&mut w, &[ix::accept_result(&k, &p)], &[&client]);
    row("accept_result", cu, "client; same payout as settle_job");

    let k = w.post(10, 3_600);
    let cu = run(
        &mut w,
        &[ix::cancel_job(&k, &client.pubkey(), &ct)],
        &[&client],
    );
    row("cancel_job", cu, "refund, closes vault + job");

    let k = w.post(10, 100);
    w.claim(&k);
    w.warp(401);
    let anyone = cinder_tests::keypair();
    let anyone_token = w.protocol_account(&anyone.pubkey());
    let p = w.protocol();
    let expire = ix::expire_job(&k, &anyone.pubkey(), &provider.pubkey(), &anyone_token, &p);
    let cu = run(&mut w, &[expire], &[&anyone]);
    row(
        "expire_job",
        cu,
        "anyone; slashes the provider (transfer + burn)",
    );

    if kind == MintKind::Legacy {
        // Staking, on a fresh staker.
        let (s, st) = w.staker(1_000_000_000_000);
        let (sk, p) = (s.pubkey(), w.protocol());
        let cu = run(
            &mut w,
            &[ix::stake(&sk, &st, &p, 400_000_000_000, world::LOCK_30D)],
            &[&s],
        );
        row("stake", cu, "first stake: creates the position");
        let cu = run(
            &mut w,
            &[ix::stake(&sk, &st, &p, 100_000_000_000, world::LOCK_30D)],
            &[&s],
        );
        row("stake", cu, "top-up");
        let (d, dt) = w.staker(1_000_000_000);
        let treasury = w.treasury_ptoken;
        let cu = run(
            &mut w,
            &[ix::deposit_rewards(
                &d.pubkey(),
                &dt,
                &treasury,
                &p,
                1_000_000_000,
            )],
            &[&d],
        );
        row("deposit_rewards", cu, "anyone");
        let cu = run(&mut w, &[ix::claim_rewards(&sk, &st, &p)], &[&s]);
        row("claim_rewards", cu, "staker");
        let cu = run(&mut w, &[ix::request_unstake(&sk, 100_000_000_000)], &[&s]);
        row(
            "request_unstake",
            cu,
            "plain staker: derives its `[\"provider\", owner]` to prove it has none",
        );
        let cu = run(&mut w, &[ix::restake(&sk)], &[&s]);
        row("restake", cu, "staker");
        w.send(&[ix::request_unstake(&sk, 100_000_000_000)], &[&s])
            .unwrap();
        w.warp(world::LOCK_30D as i64);
        let cu = run(&mut w, &[ix::withdraw_stake(&sk, &st, &p)], &[&s]);
        row("withdraw_stake", cu, "staker");

        // Attestation, in a market that samples every job.
        let a = w.admin.pubkey();
        let market = w.market;
        let mut mp = world::default_market_params(a);
        mp.verify_rate_bps = cinder::state::Bps(10_000);
        w.send(&[ix::update_market(&a, &market, mp, false)], &[])
            .unwrap();
        let (mint, tp) = (w.mint, w.token_program);
        let (admin, auth) = (w.admin.insecure_clone(), w.mint_authority.insecure_clone());
        let pool = w.verify_pool();
        tokens::mint_to(
            w.chain.as_mut(),
            &admin,
            &mint,
            &pool,
            &auth,
            1_000_000,
            &tp,
        );
        let v = cinder_tests::keypair();
        w.fund(&v.pubkey());
        w.make_provider(&v);
        w.wait_one_race();
        let vt = tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &v.pubkey(), &tp);
        let job = |w: &mut World| {
            let k = w.post(10, 3_600);
            w.claim(&k);
            w.warp(60);
            w.submit(&k, 60);
            w.warp(2);
            k
        };
        let k = job(&mut w);
        let cu = run(&mut w, &[ix::reveal_sample(&k)], &[]);
        row("reveal_sample", cu, "anyone; SlotHashes binary search");
        let cu = run(&mut w, &[ix::claim_verification(&k, &v.pubkey())], &[&v]);
        row(
            "claim_verification",
            cu,
            "verifier; SlotHashes seed, ticket (sha256 + log2)",
        );
        w.warp(30);
        w.close_race(&k.job);
        let [commit, submit] = w.verdict_ixs(&k, &v.pubkey(), &vt, [42; 32], 30);
        let cu = run(&mut w, &[commit], &[&v]);
        row(
            "commit_verification",
            cu,
            "verifier; commits to its re-run before it reads the outputs",
        );
        let cu = run(&mut w, &[submit], &[&v]);
        row(
            "submit_verification",
            cu,
            "verifier; match, paid from the pool",
        );
        let k = job(&mut w);
        w.send(&[ix::reveal_sample(&k)], &[]).unwrap();
        w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
            .unwrap();
        w.warp(3_961);
        let c = cinder_tests::keypair();
        let ct = w.protocol_account(&c.pubkey());
        let p = w.protocol();
        let cu = run(
            &mut w,
            &[ix::expire_verification(
                &k,
                &c.pubkey(),
                &v.pubkey(),
                &ct,
                &p,
            )],
            &[&c],
        );
        row("expire_verification", cu, "anyone; slashes the verifier");
        w.open_race(&k.job);
        w.send(&[ix::claim_verification(&k, &v.pubkey())], &[&v])
            .unwrap();
        w.close_race(&k.job);
        let [commit, submit] = w.verdict_ixs(&k, &v.pubkey(), &vt, [7; 32], 0);
        w.send(&[commit], &[&v]).unwrap();
        let cu = run(&mut w, &[submit], &[&v]);
        row(
            "submit_verification",
            cu,
            "verifier; first mismatch: escalates",
        );
        // A second verifier mismatches too: fraud, proven; anyone resolves it.
        let v2 = cinder_tests::keypair();
        w.fund(&v2.pubkey());
        w.make_provider(&v2);
        w.wait_one_race();
        let v2t = tokens::create_token_account(w.chain.as_mut(), &admin, &mint, &v2.pubkey(), &tp);
        w.open_race(&k.job);
        w.send(&[ix::claim_verification(&k, &v2.pubkey())], &[&v2])
            .unwrap();
        w.close_race(&k.job);
        let verdict = w.verdict_ixs(&k, &v2.pubkey(), &v2t, [7; 32], 0);
        w.send(&verdict, &[&v2]).unwrap();
        let (winner, second) = (
            w.protocol_account(&v.pubkey()),
            w.protocol_account(&v2.pubkey()),
        );
        let pk = w.provider.pubkey();
        let res = ix::resolve_dispute_escalated(
            &k,
            &a,
            &pk,
            &v.pubkey(),
            &v2.pubkey(),
            &winner,
            &second,
            &p,
            cinder::state::resolution::VERIFIER_RIGHT,
        );
        let cu = run(&mut w, &[res], &[]);
        row(
            "resolve_dispute",
            cu,
            "two mismatches: slashes the provider, reward to both verifiers",
        );
        let k = job(&mut w);
        let (client, ct) = (w.client.insecure_clone(), w.client_token);
        let cu = run(&mut w, &[ix::dispute_job(&k, &ct)], &[&client]);
        row("dispute_job", cu, "client; posts the bond");
    }
    rows
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| instruction | payment mint | compute units | notes |\n|---|---|---:|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            r.instruction, r.mint, r.cu, r.note
        );
    }
    out
}

/// The committed compute-unit budgets: one per row of BENCHMARKS.md's table, at most
/// `BUDGET_SLACK_PCT` % above the figure measured when it was written.
const BUDGETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/cu-budgets.txt");
const BUDGET_SLACK_PCT: u64 = 3;

/// Each row's key in the budget file: `instruction mint`, with `#2`, `#3`, ... after the
/// instruction when the table measures it more than once (the first `stake` and a top-up).
fn row_keys(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let seen = rows[..i]
                .iter()
                .filter(|o| o.instruction == r.instruction && o.mint == r.mint)
                .count();
            let mint = if r.mint == "SPL Token" {
                "spl"
            } else {
                "token-2022"
            };
            match seen {
                0 => format!("{} {mint}", r.instruction),
                n => format!("{}#{} {mint}", r.instruction, n + 1),
            }
        })
        .collect()
}

fn loosest_budget(cu: u64) -> u64 {
    cu * (100 + BUDGET_SLACK_PCT) / 100
}

fn budget_file(rows: &[Row]) -> String {
    let mut out = String::from(
        "# Compute-unit budgets of target/deploy/cinder.so, one per row of BENCHMARKS.md.\n\
# `cinder-bench --check` (scripts/test.sh step 6) fails when a row costs more than its budget,\n\
# when a budget is more than 3 % above the row's figure (tighten it), and when a row or a\n\
# budget has no partner. After a deliberate change: scripts/bench.sh, then\n\
# `cargo run -p cinder-tests --bin cinder-bench -- --write-budgets`, and say why in the commit.\n\
# instruction            mint        budget\n",
    );
    for (key, r) in row_keys(rows).iter().zip(rows) {
        let (ix, mint) = key.split_once(' ').unwrap();
        let _ = writeln!(out, "{ix:<24} {mint:<11} {}", loosest_budget(r.cu));
    }
    out
}

/// What is wrong with `rows` against the budget file's text, one line each.
fn budget_problems(rows: &[Row], file: &str) -> Vec<String> {
    let mut budgets = std::collections::BTreeMap::new();
    let mut problems = Vec::new();
    for (n, line) in file.lines().enumerate() {
        // Whole-line comments only: the `#2` of a repeated row is part of its key.
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match (f.as_slice(), f.get(2).map(|b| b.parse::<u64>())) {
            ([ix, mint, _], Some(Ok(b))) => {
                budgets.insert(format!("{ix} {mint}"), b);
            }
            _ => problems.push(format!(
                "cu-budgets.txt line {}: expected `instruction mint budget`, got `{line}`",
                n + 1
            )),
        }
    }
    for (key, r) in row_keys(rows).iter().zip(rows) {
        match budgets.remove(key) {
            None => problems.push(format!("{key}: {} CU measured and no budget in cu-budgets.txt", r.cu)),
            Some(b) if r.cu > b => problems.push(format!("{key}: {} CU, over its budget of {b}", r.cu)),
            Some(b) if b > loosest_budget(r.cu) => problems.push(format!(
                "{key}: budget {b} is more than {BUDGET_SLACK_PCT} % above the {} CU measured: lower it to {}",
                r.cu,
                loosest_budget(r.cu)
            )),
            Some(_) => {}
        }
    }
    for key in budgets.keys() {
        problems.push(format!(
            "{key}: a budget for a row BENCHMARKS.md does not have"
        ));
    }
    problems
}

/// The part of BENCHMARKS.md this command writes: from the start to the first section it
/// does not write (the GPU run, the simulation, the worker), which other commands own.
/// `doc` with the `.so`'s sha256 blanked. The figures must match a fresh run exactly; the
/// build's bytes need not: build-std gives the std crates a crate id derived from where their
/// source lies (under `CINDER_CACHE`), and type ids embedded in the program follow it, so the
/// same source built with another cache path differs in a few bytes (seen: 48) but not in
/// size or compute units.
fn without_sha(doc: &str) -> String {
    match doc.find("sha256 `") {
        Some(i) => {
            let start = i + "sha256 `".len();
            let end = doc[start..].find('`').map_or(doc.len(), |j| start + j);
            format!("{}<sha256>{}", &doc[..start], &doc[end..])
        }
        None => doc.to_string(),
    }
}

fn generated_part(doc: &str) -> &str {
    let table = doc.find("## Every instruction").unwrap_or(0);
    match doc[table..].find("\n## ") {
        Some(i) => &doc[..table + i + 1],
        None => doc,
    }
}

/// Line-by-line differences between the committed and a fresh text (the first 40).
fn line_diff(committed: &str, fresh: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (committed.lines().collect(), fresh.lines().collect());
    let mut out = String::new();
    let mut shown = 0;
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        if x != y && shown < 40 {
            shown += 1;
            let _ = writeln!(
                out,
                "line {}:\n  - {}\n  + {}",
                i + 1,
                x.unwrap_or("(none)"),
                y.unwrap_or("(none)")
            );
        }
    }
    out
}

fn main() {
    // Mollusk installs a logger at debug level unless RUST_LOG says otherwise.
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: single-threaded at this point.
        unsafe { std::env::set_var("RUST_LOG", "error") };
    }
    // The same keys every run: PDA bumps, and so the figures, do not change between runs.
    cinder_tests::deterministic_keys();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let write_budgets = args.iter().any(|a| a == "--write-budgets");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .map(|i| args[i + 1].clone())
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md").to_string());

    let mut rows = measure(MintKind::Legacy);
    rows.extend(measure(MintKind::Token2022).into_iter().filter(|r| {
        matches!(
            r.instruction,
            "post_job" | "claim_job" | "submit_result" | "settle_job" | "cancel_job"
        )
    }));

    let mut verdict = String::from(
        "| path | reference | cinder (SPL Token) | cinder (Token-2022) |\n|---|---:|---:|---:|\n",
    );
    let mut over = Vec::new();
    for (name, reference) in REFERENCE {
        let get = |mint: &str| {
            rows.iter()
                .find(|r| r.instruction == name && r.mint == mint)
                .map(|r| r.cu)
                .unwrap()
        };
        let (legacy, t22) = (get("SPL Token"), get("Token-2022"));
        let _ = writeln!(verdict, "| `{name}` | {reference} | {legacy} | {t22} |");
        // settle_job decides an unrevealed job's draw itself (SlotHashes, issue 15c: +283 CU
        // when no draw is due), work the reference's finish does not do and that saves a whole
        // reveal transaction (≈ 4.8k CU) per undrawn job: it is held to its budget and shown in
        // the lifecycle row, not held under finish alone.
        if legacy >= reference && name != "settle_job" {
            over.push(format!("{name}: {legacy} CU ≥ reference {reference}"));
        }
    }
    let lifecycle = |mint: &str| -> u64 {
        ["post_job", "claim_job", "submit_result", "settle_job"]
            .iter()
            .map(|n| {
                rows.iter()
                    .find(|r| r.instruction == *n && r.mint == mint)
                    .map(|r| r.cu)
                    .unwrap()
            })
            .sum()
    };
    let reference: u64 = REFERENCE.iter().map(|(_, cu)| cu).sum();
    let (legacy, t22) = (lifecycle("SPL Token"), lifecycle("Token-2022"));
    let _ = writeln!(
        verdict,
        "| lifecycle: post + claim + submit + settle (reference: list + take + finish) | {reference} | {legacy} | {t22} |"
    );
    // Shown, not yet checked: the lifecycle is over the reference today (issue 20's goal is
    // ≤ 35k); settle's own budget in tests/cu-budgets.txt still holds it where it is.

    let so = cinder_tests::backend::sbf_program_path();
    let elf = std::fs::read(&so).expect("read cinder.so");
    let sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(&elf);
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let doc = format!(
        "# Compute units per instruction\n\n\
Written by `cargo run -p cinder-tests --bin cinder-bench` (see README); do not edit by hand.\n\n\
Measured on the SBF build `target/deploy/cinder.so` ({} bytes, sha256 `{}`) executed by Mollusk 0.15.1 \
(Agave 4.2 program runtime, SBPF v3), one instruction per transaction, with the real SPL Token and \
Token-2022 programs. **Toolchain note:** the `.so` is built by `scripts/build-sbf.sh` (Debian rustc 1.96 + \
build-std, LLVM 23 BPF backend via `sbpf-linker` 0.2.6), not by Solana's platform-tools (`cargo build-sbf`); \
these are this toolchain's figures, and a platform-tools build of the same source may differ somewhat. \
The reference column is the open GPU-market program Cinder measures itself against (its list, \
take and finish-and-pay instructions), built with this same toolchain and measured the same way; its \
figures are constants in `tests/src/bin/bench.rs` (that program is not part of this repository, so \
this command does not re-measure it). Every row below has a budget in `tests/cu-budgets.txt`, at most \
3 % above its figure: `cinder-bench --check` (CI, `scripts/test.sh` step 6) fails when a row exceeds \
its budget, when a budget is looser than that, and when this part of the file differs from a fresh \
run. \
Token-2022 rows cost more because the Token-2022 program itself does (its transfer is ≈ 2k CU against \
≈ 100 CU for the SPL Token build Mollusk 0.15 ships, p-token). The keys are the same in every run, so the \
figures are reproducible: an instruction that creates a PDA whose bump is not passed in (first `stake`, \
`register_provider`, `init_auction`, `create_market`, ...) searches for it once, ≈ 1.5k CU per bump tried, \
so with other keys it costs a multiple of that more or less; the hot path takes its bumps as arguments \
or from the accounts and searches none.\n\n\
## Hot path against the reference\n\n{}\n\
## Every instruction\n\n{}",
        elf.len(),
        sha,
        verdict,
        table(&rows)
    );
    if write_budgets {
        std::fs::write(BUDGETS, budget_file(&rows))
            .unwrap_or_else(|e| panic!("write {BUDGETS}: {e}"));
        println!("wrote {BUDGETS}");
    }
    let budgets =
        std::fs::read_to_string(BUDGETS).unwrap_or_else(|e| panic!("read {BUDGETS}: {e}"));
    over.extend(budget_problems(&rows, &budgets));
    if check {
        print!("{doc}");
        // The committed figures must be the ones this build measures: regenerate and compare.
        let committed = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("read {out}: {e}"));
        if without_sha(generated_part(&committed).trim_end()) != without_sha(doc.trim_end()) {
            let fresh = std::env::temp_dir().join("cinder-BENCHMARKS.fresh.md");
            let _ = std::fs::write(&fresh, &doc);
            eprintln!(
                "{out} is not what this build measures (fresh copy: {}); run scripts/bench.sh and commit it:\n{}",
                fresh.display(),
                line_diff(generated_part(&committed).trim_end(), doc.trim_end())
            );
            over.push(format!("{out} differs from a fresh run"));
        }
    } else {
        // The sections after the table belong to other commands (the GPU run, cinder-sim, the
        // worker's benchmark): keep them as they are.
        let old = std::fs::read_to_string(&out).unwrap_or_default();
        let kept = old[generated_part(&old).len()..].trim();
        let doc = if kept.is_empty() {
            doc
        } else {
            format!("{}\n\n{kept}\n", doc.trim_end())
        };
        std::fs::write(&out, &doc).unwrap_or_else(|e| panic!("write {out}: {e}"));
        print!("{verdict}");
        println!("wrote {out}");
    }
    if !over.is_empty() {
        eprintln!("compute-unit check failed:\n  {}", over.join("\n  "));
        std::process::exit(1);
    }
}
