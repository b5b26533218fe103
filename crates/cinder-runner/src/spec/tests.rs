use super::*;
use serde_json::{json, Value};

const HEX: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn container() -> Value {
    json!({
        "version": 1,
        "kind": "container",
        "image": format!("localhost/cinder-busybox@sha256:{HEX}"),
        "command": ["sh", "-c", "echo hi > /out/a"],
        "env": {"K": "V"},
        "inputs": [{"uri": "http://127.0.0.1:1/x", "sha256": HEX, "path": "data/x.bin"}],
        "outputs": "/out",
        "gpus": 1,
        "min_vram_gib": 0,
        "time_limit_secs": 600,
        "memory_limit_mib": 2048,
        "deterministic": true
    })
}

fn process() -> Value {
    json!({
        "version": 1,
        "kind": "process",
        "command": ["sh", "-c", "true"],
        "time_limit_secs": 1
    })
}

fn parse(v: &Value) -> Result<JobSpec, SpecError> {
    JobSpec::parse(&serde_json::to_vec(v).unwrap())
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

#[test]
fn a_full_container_spec_and_a_minimal_process_spec_parse() {
    let c = parse(&container()).unwrap();
    assert_eq!(c.kind, SpecKind::Container);
    assert_eq!(c.gpus, 1);
    assert_eq!(c.memory_limit_mib, Some(2048));
    assert_eq!(c.inputs[0].sha256_bytes().unwrap()[0], 0x9f);
    let p = parse(&process()).unwrap();
    assert_eq!(
        (p.kind, p.gpus, p.outputs.as_str()),
        (SpecKind::Process, 0, "/out")
    );
    assert!(p.env.is_empty() && p.inputs.is_empty() && !p.deterministic);
}

#[test]
fn spec_hash_is_sha256_of_the_exact_bytes() {
    assert_eq!(hex::encode(spec_hash(b"test")), HEX);
    let a = serde_json::to_vec(&process()).unwrap();
    let b = serde_json::to_vec_pretty(&process()).unwrap();
    assert_ne!(
        spec_hash(&a),
        spec_hash(&b),
        "formatting is part of the hash"
    );
}

#[test]
fn unknown_fields_and_bad_json_are_json_errors() {
    let e = parse(&with(process(), "network", json!(true))).unwrap_err();
    assert!(
        matches!(&e, SpecError::Json(m) if m.contains("network")),
        "{e}"
    );
    assert!(matches!(
        JobSpec::parse(b"{not json"),
        Err(SpecError::Json(_))
    ));
    assert!(matches!(
        parse(&with(process(), "kind", json!("vm"))),
        Err(SpecError::Json(_))
    ));
    let mut missing = process();
    missing.as_object_mut().unwrap().remove("time_limit_secs");
    assert!(matches!(parse(&missing), Err(SpecError::Json(_))));
}

#[test]
fn a_spec_over_64_kib_is_too_large() {
    let big = with(process(), "env", json!({"PAD": "x".repeat(MAX_SPEC_BYTES)}));
    assert!(matches!(
        parse(&big),
        Err(SpecError::TooLarge {
            max: MAX_SPEC_BYTES,
            ..
        })
    ));
}

#[test]
fn version_other_than_1_is_refused() {
    assert_eq!(
        parse(&with(process(), "version", json!(2))).unwrap_err(),
        SpecError::UnsupportedVersion { got: 2 }
    );
}

#[test]
fn time_limit_must_be_between_one_second_and_30_days() {
    for bad in [0, MAX_TIME_LIMIT_SECS + 1] {
        assert_eq!(
            parse(&with(process(), "time_limit_secs", json!(bad))).unwrap_err(),
            SpecError::TimeLimit { got: bad }
        );
    }
    assert!(parse(&with(
        process(),
        "time_limit_secs",
        json!(MAX_TIME_LIMIT_SECS)
    ))
    .is_ok());
}

#[test]
fn memory_limit_and_gpu_count_are_bounded() {
    assert_eq!(
        parse(&with(process(), "memory_limit_mib", json!(1))).unwrap_err(),
        SpecError::MemoryLimit { got: 1 }
    );
    assert_eq!(
        parse(&with(process(), "gpus", json!(65))).unwrap_err(),
        SpecError::TooManyGpus { got: 65 }
    );
}

#[test]
fn command_must_name_a_program() {
    assert_eq!(
        parse(&with(process(), "command", json!([]))).unwrap_err(),
        SpecError::EmptyCommand
    );
    assert_eq!(
        parse(&with(process(), "command", json!([""]))).unwrap_err(),
        SpecError::EmptyCommand
    );
    assert_eq!(
        parse(&with(process(), "command", json!(["sh", "a\u{0}b"]))).unwrap_err(),
        SpecError::CommandNul { index: 1 }
    );
}

#[test]
fn container_image_must_be_present_and_pinned() {
    let mut no_image = container();
    no_image.as_object_mut().unwrap().remove("image");
    assert_eq!(parse(&no_image).unwrap_err(), SpecError::ImageMissing);
    for image in [
        "localhost/cinder-busybox:latest",
        "busybox",
        "busybox@sha256:abc",
        "busybox@sha512:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ] {
        assert_eq!(
            parse(&with(container(), "image", json!(image))).unwrap_err(),
            SpecError::ImageNotPinned {
                image: image.into()
            },
            "{image}"
        );
    }
    let by_id = format!("sha256:{HEX}");
    assert!(parse(&with(container(), "image", json!(by_id))).is_ok());
    let with_tag = format!("docker.io/library/busybox:1.36@sha256:{HEX}");
    let pin = ImagePin::parse(&with_tag).unwrap();
    assert_eq!(pin.name.as_deref(), Some("docker.io/library/busybox:1.36"));
    assert_eq!(pin.to_string(), with_tag);
}

#[test]
fn a_process_spec_may_not_name_an_image() {
    let image = format!("x@sha256:{HEX}");
    assert_eq!(
        parse(&with(process(), "image", json!(image))).unwrap_err(),
        SpecError::ImageForProcess { image }
    );
}

#[test]
fn container_outputs_must_be_an_absolute_directory() {
    for out in ["out", "/", "//", "/out/../etc", ""] {
        assert_eq!(
            parse(&with(container(), "outputs", json!(out))).unwrap_err(),
            SpecError::OutputsPath { path: out.into() },
            "{out}"
        );
    }
    // Process jobs ignore `outputs`.
    assert!(parse(&with(process(), "outputs", json!("relative"))).is_ok());
}

fn input(path: &str) -> Value {
    json!({"uri": "https://example.invalid/f", "sha256": HEX, "path": path})
}

#[test]
fn at_most_max_inputs() {
    let many: Vec<Value> = (0..=MAX_INPUTS).map(|i| input(&format!("f{i}"))).collect();
    assert_eq!(
        parse(&with(process(), "inputs", json!(many))).unwrap_err(),
        SpecError::TooManyInputs {
            count: MAX_INPUTS + 1,
            max: MAX_INPUTS
        }
    );
}

#[test]
fn input_paths_must_stay_inside_the_input_dir() {
    for path in ["/etc/passwd", "../x", "a/../../x", "", "a//b", "a/./b"] {
        let e = parse(&with(process(), "inputs", json!([input(path)]))).unwrap_err();
        assert!(
            matches!(&e, SpecError::InputPath { path: p, .. } if p == path),
            "{path}: {e}"
        );
    }
}

#[test]
fn input_paths_may_not_collide() {
    let dup = parse(&with(process(), "inputs", json!([input("a"), input("a")]))).unwrap_err();
    assert_eq!(
        dup,
        SpecError::InputPathConflict {
            first: "a".into(),
            second: "a".into()
        }
    );
    let dir = parse(&with(
        process(),
        "inputs",
        json!([input("a/b/c"), input("a")]),
    ))
    .unwrap_err();
    assert_eq!(
        dir,
        SpecError::InputPathConflict {
            first: "a".into(),
            second: "a/b/c".into()
        }
    );
    assert!(parse(&with(
        process(),
        "inputs",
        json!([input("a/b"), input("a/c"), input("ab")])
    ))
    .is_ok());
}

#[test]
fn input_hash_must_be_64_hex() {
    let mut bad = input("x");
    bad["sha256"] = json!("zz");
    assert_eq!(
        parse(&with(process(), "inputs", json!([bad]))).unwrap_err(),
        SpecError::InputHash {
            path: "x".into(),
            value: "zz".into()
        }
    );
}

#[test]
fn input_uri_must_be_http_https_or_file() {
    for uri in ["ftp://h/x", "s3://b/k", "relative", "http://"] {
        let mut bad = input("x");
        bad["uri"] = json!(uri);
        assert_eq!(
            parse(&with(process(), "inputs", json!([bad]))).unwrap_err(),
            SpecError::InputUri {
                path: "x".into(),
                uri: uri.into()
            },
            "{uri}"
        );
    }
    let mut file = input("x");
    file["uri"] = json!("FILE:///srv/x");
    assert!(parse(&with(process(), "inputs", json!([file]))).is_ok());
}

#[test]
fn env_keys_are_identifiers_and_not_the_runtimes_own() {
    for key in ["", "1A", "A-B", "A B", "É"] {
        assert_eq!(
            parse(&with(process(), "env", json!({key: "v"}))).unwrap_err(),
            SpecError::EnvKey { key: key.into() },
            "{key:?}"
        );
    }
    for key in [
        "CINDER_JOB",
        "CINDER_OUTPUT_DIR",
        "CUDA_VISIBLE_DEVICES",
        "NVIDIA_VISIBLE_DEVICES",
    ] {
        assert_eq!(
            parse(&with(process(), "env", json!({key: "v"}))).unwrap_err(),
            SpecError::EnvReserved { key: key.into() }
        );
    }
    assert_eq!(
        parse(&with(process(), "env", json!({"K": "a\u{0}"}))).unwrap_err(),
        SpecError::EnvValueNul { key: "K".into() }
    );
    assert!(parse(&with(process(), "env", json!({"_x1": "v", "PATH": "/bin"}))).is_ok());
}

#[test]
fn the_verify_section_names_a_rule_and_bounds_its_tolerance() {
    let p = parse(&process()).unwrap();
    assert_eq!(p.verify_rule().mode, VerifyMode::Exact, "absent: exact");
    let t = parse(&with(
        process(),
        "verify",
        json!({"mode": "tolerance", "rtol": 1e-4, "atol": 0.1, "max_mismatch_fraction": 0.001}),
    ))
    .unwrap();
    let tol = t.verify_rule().tolerance();
    assert_eq!((tol.rtol, tol.atol, tol.nan_equal), (1e-4, 0.1, false));
    assert_eq!(
        parse(&with(process(), "verify", json!({"mode": "none"})))
            .unwrap()
            .verify_rule()
            .mode,
        VerifyMode::None
    );
    // A rule that accepts anything, tolerances on an exact rule, unknown modes and keys.
    let ex = parse(&with(
        process(),
        "verify",
        json!({"mode": "tolerance", "rtol": 1e-4, "exclude": ["*.txt", "logs/*"]}),
    ))
    .unwrap();
    assert_eq!(ex.verify_rule().exclude, ["*.txt", "logs/*"]);
    for bad in [
        json!({"mode": "exact", "exclude": ["*"]}),
        json!({"mode": "exact", "exclude": [""]}),
        json!({"mode": "exact", "exclude": ["x".repeat(257)]}),
        json!({"mode": "exact", "exclude": vec!["a"; 65]}),
        json!({"mode": "tolerance", "rtol": 0.5}),
        json!({"mode": "tolerance", "atol": 2.0}),
        json!({"mode": "tolerance", "max_mismatch_fraction": 0.2}),
        json!({"mode": "exact", "rtol": 1e-3}),
        // Raw layouts: tolerance mode only, a pattern, a shape of bounded size.
        json!({"mode": "exact", "raw": [{"pattern": "*.f32", "dtype": "f32", "shape": [4]}]}),
        json!({"mode": "tolerance", "raw": [{"pattern": "", "dtype": "f32", "shape": [4]}]}),
        json!({"mode": "tolerance", "raw": [{"pattern": "*.f32", "dtype": "f32", "shape": [1u64 << 40, 2]}]}),
        json!({"mode": "tolerance", "raw": [{"pattern": "*.f32", "dtype": "f32", "shape": vec![1; 33]}]}),
        json!({"mode": "tolerance", "raw": vec![json!({"pattern": "*.f32", "dtype": "f32", "shape": [1]}); 65]}),
    ] {
        let e = parse(&with(process(), "verify", bad.clone())).unwrap_err();
        assert!(matches!(e, SpecError::Verify(_)), "{bad}: {e}");
    }
    let raw = parse(&with(
        process(),
        "verify",
        json!({"mode": "tolerance", "rtol": 1e-3, "raw": [{"pattern": "out/*.bin", "dtype": "bf16", "shape": [8, 16]}]}),
    ))
    .unwrap()
    .verify_rule()
    .raw;
    assert_eq!(
        raw,
        [crate::compare::RawLayout {
            pattern: "out/*.bin".into(),
            dtype: crate::compare::RawDtype::Bf16,
            shape: vec![8, 16],
        }]
    );
    assert_eq!(raw[0].bytes(), Some(256));
    for bad in [
        json!({"mode": "roughly"}),
        json!({"mode": "exact", "slack": 1}),
        json!({"mode": "tolerance", "rtol": "big"}),
        json!({"mode": "tolerance", "raw": [{"pattern": "*.x", "dtype": "f8", "shape": [1]}]}),
        json!({"mode": "tolerance", "raw": [{"pattern": "*.x", "dtype": "f32", "shape": [-1]}]}),
        json!({"mode": "tolerance", "raw": [{"pattern": "*.x", "dtype": "f32", "shape": [1], "order": "F"}]}),
    ] {
        let e = parse(&with(process(), "verify", bad.clone())).unwrap_err();
        assert!(matches!(e, SpecError::Json(_)), "{bad}: {e}");
    }
}

#[test]
fn a_deterministic_job_gets_the_frameworks_switches_and_a_seed_of_its_own() {
    let off = parse(&process()).unwrap();
    assert!(
        off.determinism_env("JobA").is_empty(),
        "not deterministic: nothing added"
    );
    let on = parse(&with(process(), "deterministic", json!(true))).unwrap();
    let vars: BTreeMap<String, String> = on.determinism_env("JobA").into_iter().collect();
    assert_eq!(vars["CINDER_DETERMINISTIC"], "1");
    assert_eq!(vars["CUBLAS_WORKSPACE_CONFIG"], ":4096:8");
    assert_eq!(vars["NVIDIA_TF32_OVERRIDE"], "0");
    assert_eq!(vars["PYTHONHASHSEED"], "0");
    assert_eq!(vars["TF_DETERMINISTIC_OPS"], "1");
    assert_eq!(vars["XLA_FLAGS"], "--xla_gpu_deterministic_ops=true");
    // The seed: sha256("cinder-seed:JobA"), its first four bytes little-endian; the same for
    // every run of the job (provider and verifiers), another for another job.
    let d = Sha256::digest(b"cinder-seed:JobA");
    assert_eq!(
        vars["CINDER_SEED"],
        u32::from_le_bytes([d[0], d[1], d[2], d[3]]).to_string()
    );
    let other: BTreeMap<String, String> = on.determinism_env("JobB").into_iter().collect();
    assert_ne!(vars["CINDER_SEED"], other["CINDER_SEED"]);
    // What the spec sets itself is the spec's.
    let mut own = with(process(), "deterministic", json!(true));
    own["env"] = json!({"PYTHONHASHSEED": "42", "XLA_FLAGS": "--mine"});
    let own = parse(&own).unwrap();
    let env = own.determinism_env("JobA");
    assert!(
        !env.iter()
            .any(|(k, _)| k == "PYTHONHASHSEED" || k == "XLA_FLAGS"),
        "{env:?}"
    );
    assert_eq!(env.len(), 6);
    // CINDER_* stay the runner's: a spec may not set them.
    let mut seed = with(process(), "deterministic", json!(true));
    seed["env"] = json!({"CINDER_SEED": "42"});
    assert!(matches!(parse(&seed), Err(SpecError::EnvReserved { .. })));
}
