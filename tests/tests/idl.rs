//! The IDL (`idl/cinder.json`, written by `cinder-idl` and checked against the program in CI)
//! against the clients: every instruction has a builder in the Rust client and in the dApp's
//! TypeScript client, every account a TypeScript codec, every event a TypeScript decoder. A new
//! instruction, account or event without its client path fails here, naming what is missing.

use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn names(idl: &serde_json::Value, section: &str) -> Vec<String> {
    idl[section]
        .as_array()
        .unwrap_or_else(|| panic!("the IDL has no {section}"))
        .iter()
        .map(|x| x["name"].as_str().expect("a name").to_string())
        .collect()
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn camel(snake: &str) -> String {
    let p = pascal(snake);
    let mut c = p.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The IDL's entries of `section` for which `has` finds no client path.
fn missing(idl: &serde_json::Value, section: &str, has: impl Fn(&str) -> bool) -> Vec<String> {
    names(idl, section)
        .into_iter()
        .filter(|n| !has(n))
        .collect()
}

#[test]
fn every_instruction_account_and_event_of_the_idl_has_its_client_path() {
    let idl: serde_json::Value =
        serde_json::from_str(&read("idl/cinder.json")).expect("idl/cinder.json is JSON");
    assert_eq!(
        idl["address"],
        cinder::ID.to_string(),
        "the IDL's program id"
    );
    let rust_ix = read("crates/cinder-client/src/ix.rs");
    let ts_ix = read("app/web/src/client/ix.ts");
    let ts_accounts = read("app/web/src/client/accounts.ts");
    let ts_events = read("app/web/src/client/events.ts");
    let problems = [
        (
            "instructions without a Rust builder (crates/cinder-client/src/ix.rs)",
            missing(&idl, "instructions", |n| {
                rust_ix.contains(&format!("cinder::instruction::{} ", pascal(n)))
                    || rust_ix.contains(&format!("cinder::instruction::{} {{", pascal(n)))
                    || rust_ix.contains(&format!("cinder::instruction::{}{{", pascal(n)))
            }),
        ),
        (
            "instructions without a TypeScript builder (app/web/src/client/ix.ts)",
            missing(&idl, "instructions", |n| {
                ts_ix.contains(&format!("export async function {}(", camel(n)))
                    || ts_ix.contains(&format!("export function {}(", camel(n)))
            }),
        ),
        (
            "accounts without a TypeScript codec (app/web/src/client/accounts.ts)",
            missing(&idl, "accounts", |n| {
                ts_accounts.contains(&format!("export const get{n}Codec"))
            }),
        ),
        (
            "events without a TypeScript decoder (app/web/src/client/events.ts)",
            missing(&idl, "events", |n| {
                ts_events.contains(&format!("\n  {n}: ["))
            }),
        ),
    ];
    let report: Vec<String> = problems
        .iter()
        .filter(|(_, m)| !m.is_empty())
        .map(|(what, m)| format!("{what}: {}", m.join(", ")))
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
    // The IDL is the whole program: as many instructions as the program's dispatcher knows.
    let program = read("programs/cinder/src/lib.rs");
    let handlers = program.matches("    pub fn ").count();
    assert_eq!(
        names(&idl, "instructions").len(),
        handlers,
        "the IDL's instructions against the program's handlers (programs/cinder/src/lib.rs)"
    );
}
