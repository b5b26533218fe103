//! `cinder-idl`: the program's IDL, `idl/cinder.json`, built from the program itself by
//! compiling it with its `idl-build` feature (Anchor's own builder, `anchor-lang-idl`, as
//! `anchor idl build` does): every instruction, account (zero-copy layouts included), type,
//! event, error and constant, with their doc comments.
//!
//! Usage: cargo run -p cinder-tests --bin cinder-idl [-- --check] [--out PATH]
//!   (no flag)  write the IDL
//!   --check    write nothing; fail, saying what differs, if the committed IDL is not what the
//!              program builds (scripts/test.sh runs this in CI)

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("idl/cinder.json"));
    // The builder runs `cargo test --features idl-build` in the program's directory. It must
    // not inherit a lint wrapper that denies warnings (scripts/test.sh sets one), nor
    // RUSTUP_TOOLCHAIN (anchor-lang-idl 0.1.4 would pass it on as a literal "+{toolchain}").
    // SAFETY: single-threaded at this point.
    unsafe {
        for var in ["RUSTC_WORKSPACE_WRAPPER", "CLIPPY_ARGS", "RUSTUP_TOOLCHAIN"] {
            std::env::remove_var(var);
        }
    }
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(root.join("programs/cinder"))
        .skip_lint(true)
        .cargo_args(vec!["--locked".into()])
        .build()
        .unwrap_or_else(|e| {
            eprintln!("building the IDL failed: {e:#}");
            std::process::exit(1)
        });
    let fresh = serde_json::to_string_pretty(&idl).expect("the IDL serializes") + "\n";
    let counts = format!(
        "{} instructions, {} accounts, {} events, {} errors, {} types",
        idl.instructions.len(),
        idl.accounts.len(),
        idl.events.len(),
        idl.errors.len(),
        idl.types.len()
    );
    if check {
        let committed = std::fs::read_to_string(&out).unwrap_or_default();
        if committed != fresh {
            let tmp = std::env::temp_dir().join("cinder-idl.fresh.json");
            let _ = std::fs::write(&tmp, &fresh);
            let first = committed
                .lines()
                .zip(fresh.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| committed.lines().count().min(fresh.lines().count()));
            eprintln!(
                "{} is not the IDL the program builds (first difference at line {}; fresh copy: {}): run `cargo run -p cinder-tests --bin cinder-idl` and commit it",
                out.display(),
                first + 1,
                tmp.display()
            );
            std::process::exit(1);
        }
        println!("{}: up to date ({counts})", out.display());
    } else {
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).expect("create the IDL's directory");
        }
        std::fs::write(&out, &fresh).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
        println!("wrote {} ({counts})", out.display());
    }
}
