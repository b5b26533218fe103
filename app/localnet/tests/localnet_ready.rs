//! `Localnet::start` returns only when a client can use the chain: right after it, every
//! genesis program runs in the `confirmed` bank, the one clients simulate and read at.
//! (CI once saw a bootstrap's first mint fail with "Program is not deployed" because the
//! start had waited on the `processed` bank, a slot or two ahead.)

use cinder_localnet::{spl_programs, Localnet, Options};

#[test]
fn every_genesis_program_is_invocable_at_confirmed_when_start_returns() {
    // Several starts: the gap between the processed and the confirmed bank is a matter of
    // timing, so one start alone would rarely catch a wait on the wrong bank.
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = Options::new(dir.path().join("ledger"));
        opts.faucet = false;
        let net = Localnet::start(opts).expect("local chain");
        for id in spl_programs() {
            assert_eq!(
                net.invocable(&id),
                Some(true),
                "start {round}: {id} is not invocable at confirmed right after the start"
            );
        }
        net.shutdown();
    }
}
