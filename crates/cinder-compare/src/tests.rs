use super::*;

const TOL: Tolerance = Tolerance {
    rtol: 1e-5,
    atol: 1e-6,
    max_mismatch_fraction: 0.0,
    nan_equal: false,
};

/// A deterministic pseudo-random sequence (no dependency): xorshift.
fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

#[test]
fn the_npy_writer_and_parser_agree_and_numpys_bytes_parse() {
    let bytes = npy_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let n = parse_npy(&bytes).unwrap();
    assert_eq!(
        (n.dtype.as_str(), n.shape.as_slice(), n.data_offset),
        ("<f4", &[2usize, 3][..], 128)
    );
    assert_eq!(bytes.len(), 128 + 24);
    // The exact header numpy 2 writes for np.zeros(3, np.float32).
    let mut numpy =
        b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
            .to_vec();
    numpy.resize(10 + 0x76 - 1, b' ');
    numpy.push(b'\n');
    numpy.extend_from_slice(&[0u8; 12]);
    let n = parse_npy(&numpy).unwrap();
    assert_eq!((n.shape.as_slice(), n.data_offset), (&[3usize][..], 128));
}

#[test]
fn bad_npy_files_are_named_errors_never_panics() {
    let good = npy_f32(&[4], &[1.0; 4]);
    assert_eq!(parse_npy(b"hello world"), Err(NpyError::Magic));
    assert_eq!(parse_npy(&good[..8]), Err(NpyError::Truncated("header")));
    assert_eq!(parse_npy(&good[..30]), Err(NpyError::Truncated("header")));
    assert!(matches!(
        parse_npy(&good[..good.len() - 1]),
        Err(NpyError::Size {
            got: 15,
            want: 16,
            ..
        })
    ));
    let mut big = good.clone();
    big.push(0);
    assert!(matches!(parse_npy(&big), Err(NpyError::Size { .. })));
    let edit = |from: &[u8], to: &[u8]| {
        let mut b = good.clone();
        let at = b.windows(from.len()).position(|w| w == from).unwrap();
        b[at..at + from.len()].copy_from_slice(to);
        b
    };
    assert_eq!(
        parse_npy(&edit(b"<f4", b">f4")),
        Err(NpyError::Dtype(">f4".into()))
    );
    assert_eq!(parse_npy(&edit(b"False", b"True ")), Err(NpyError::Fortran));
    // Every prefix of a valid file is refused with an error.
    for cut in 0..good.len() {
        assert!(parse_npy(&good[..cut]).is_err(), "prefix {cut}");
    }
}

#[test]
fn noise_within_the_tolerance_matches_and_beyond_it_does_not() {
    let a = noise(10_000, 7);
    // Relative noise of 1e-6: within rtol 1e-5.
    let close: Vec<f32> = a.iter().map(|v| v * (1.0 + 1e-6)).collect();
    // One element off by 1e-3 relative: beyond.
    let mut one_off = a.clone();
    one_off[4321] *= 1.001;
    let pa = npy_f32(&[100, 100], &a);
    let v = compare_files("x.npy", &pa, &npy_f32(&[100, 100], &close), &TOL, &[]);
    assert!(v.matched, "{v:?}");
    assert!(v.max_abs > 0.0 && v.max_rel < 1e-5);
    let v = compare_files("x.npy", &pa, &npy_f32(&[100, 100], &one_off), &TOL, &[]);
    assert!(!v.matched, "{v:?}");
    assert!(v.detail.starts_with("1 of 10000"), "{}", v.detail);
    // Allowed when the rule lets 1 in 10,000 elements differ.
    let lenient = Tolerance {
        max_mismatch_fraction: 1e-4,
        ..TOL
    };
    assert!(compare_files("x.npy", &pa, &npy_f32(&[100, 100], &one_off), &lenient, &[]).matched);
    // Fabricated outputs of the right shape (zeros) never match.
    let zeros = npy_f32(&[100, 100], &[0.0; 10_000]);
    assert!(!compare_files("x.npy", &pa, &zeros, &TOL, &[]).matched);
}

#[test]
fn shapes_dtypes_missing_files_and_other_files_are_mismatches() {
    let a = npy_f32(&[4], &[1.0; 4]);
    let v = compare_files("x.npy", &a, &npy_f32(&[2, 2], &[1.0; 4]), &TOL, &[]);
    assert!(!v.matched && v.detail.contains("[4]") && v.detail.contains("[2, 2]"));
    assert!(!compare_files("log.txt", b"a", b"b", &TOL, &[]).matched);
    assert!(compare_files("log.txt", b"a", b"a", &Tolerance::EXACT, &[]).matched);
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    fs::write(dir_a.path().join("x.npy"), &a).unwrap();
    fs::write(dir_b.path().join("x.npy"), &a).unwrap();
    assert!(
        compare_dirs(dir_a.path(), dir_b.path(), &TOL, &[], &[])
            .unwrap()
            .matched
    );
    fs::create_dir(dir_a.path().join("sub")).unwrap();
    fs::write(dir_a.path().join("sub/extra.txt"), b"x").unwrap();
    let v = compare_dirs(dir_a.path(), dir_b.path(), &TOL, &[], &[]).unwrap();
    assert!(!v.matched);
    let extra = v.files.iter().find(|f| f.path == "sub/extra.txt").unwrap();
    assert!(!extra.matched && extra.detail.contains("first side only"));
    assert!(v.files.iter().find(|f| f.path == "x.npy").unwrap().matched);
}

#[test]
fn nan_equals_nan_only_where_the_rule_says_and_infinities_exactly() {
    let nan = [f64::NAN, 1.0];
    assert!(!compare_floats(&nan, &nan, &TOL).0);
    let nan_ok = Tolerance {
        nan_equal: true,
        ..TOL
    };
    assert!(compare_floats(&nan, &nan, &nan_ok).0);
    assert!(!compare_floats(&[f64::NAN], &[1.0], &nan_ok).0);
    assert!(compare_floats(&[f64::INFINITY], &[f64::INFINITY], &TOL).0);
    assert!(!compare_floats(&[f64::INFINITY], &[f64::NEG_INFINITY], &TOL).0);
    assert!(!compare_floats(&[f64::INFINITY], &[1e308], &nan_ok).0);
}

#[test]
fn a_tolerance_that_accepts_anything_is_refused() {
    assert!(TOL.check().is_ok());
    for loose in [
        Tolerance { rtol: 0.5, ..TOL },
        Tolerance { atol: 10.0, ..TOL },
        Tolerance {
            max_mismatch_fraction: 0.5,
            ..TOL
        },
        Tolerance {
            rtol: f64::NAN,
            ..TOL
        },
        Tolerance { atol: -1.0, ..TOL },
    ] {
        assert!(
            matches!(loose.check(), Err(CompareError::LooseTolerance(_))),
            "{loose:?}"
        );
    }
    let d = tempfile::tempdir().unwrap();
    assert!(compare_dirs(
        d.path(),
        d.path(),
        &Tolerance { rtol: 1.0, ..TOL },
        &[],
        &[]
    )
    .is_err());
}

#[test]
fn excluded_files_are_not_compared_and_the_rest_still_are() {
    // The GPU run's finding: an honest job whose .npy arrays agree under the rule also
    // wrote a text summary of them ("%.6e" of their sum), which differs between runs; a
    // rule that does not exclude it calls the honest provider a cheater.
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let x = noise(1024, 3);
    let y: Vec<f32> = x.iter().map(|v| v + 1e-7).collect();
    fs::write(a.path().join("bins.npy"), npy_f32(&[1024], &x)).unwrap();
    fs::write(b.path().join("bins.npy"), npy_f32(&[1024], &y)).unwrap();
    fs::write(a.path().join("total.txt"), "1.234567e3\n").unwrap();
    fs::write(b.path().join("total.txt"), "1.234568e3\n").unwrap();
    let v = compare_dirs(a.path(), b.path(), &TOL, &[], &[]).unwrap();
    assert!(!v.matched, "the text file differs");
    let excl = ["*.txt".to_string()];
    let v = compare_dirs(a.path(), b.path(), &TOL, &excl, &[]).unwrap();
    assert!(v.matched, "{v:?}");
    assert!(v
        .files
        .iter()
        .any(|f| f.path == "total.txt" && f.detail.contains("excluded")));
    // Exclusion never hides a tampered array.
    fs::write(b.path().join("bins.npy"), npy_f32(&[1024], &[0.0; 1024])).unwrap();
    assert!(
        !compare_dirs(a.path(), b.path(), &TOL, &excl, &[])
            .unwrap()
            .matched
    );
}

#[test]
fn patterns_match_whole_paths() {
    for (p, path, m) in [
        ("*.txt", "total.txt", true),
        ("*.txt", "logs/run.txt", true),
        ("*.txt", "total.txt.npy", false),
        ("logs/*", "logs/a/b.log", true),
        ("logs/*", "out/logs/a", false),
        ("run-?.log", "run-1.log", true),
        ("run-?.log", "run-12.log", false),
        ("total.txt", "total.txt", true),
        ("total.txt", "a/total.txt", false),
        ("*a*b*", "xxaxxbxx", true),
        ("*a*b", "xxaxxbxxc", false),
    ] {
        assert_eq!(pattern_matches(p, path), m, "{p} vs {path}");
    }
}

#[test]
fn half_precision_decodes() {
    assert_eq!(f16_to_f64(0x3c00), 1.0);
    assert_eq!(f16_to_f64(0xc000), -2.0);
    assert_eq!(f16_to_f64(0x7c00), f64::INFINITY);
    assert!(f16_to_f64(0x7e00).is_nan());
    assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn bf16_bytes(v: &[f32]) -> Vec<u8> {
    v.iter()
        .flat_map(|x| ((x.to_bits() >> 16) as u16).to_le_bytes())
        .collect()
}

#[test]
fn safetensors_files_parse_and_bad_ones_are_named_errors() {
    let w = f32_bytes(&[1.0, 2.0, 3.0, 4.0]);
    let ids = [7u8, 0, 0, 0, 0, 0, 0, 0];
    let file = safetensors_file(&[("w", "F32", &[2, 2], &w), ("ids", "I64", &[1], &ids)]);
    let st = parse_safetensors(&file).unwrap();
    assert_eq!(st.tensors.len(), 2);
    let t = &st.tensors["w"];
    assert_eq!(
        (t.elem, t.shape.as_slice(), t.end - t.begin),
        (Elem::F32, &[2usize, 2][..], 16)
    );
    assert_eq!(st.tensors["ids"].elem, Elem::Exact(8));
    // The exact bytes the reference `safetensors.numpy.save({"x": np.zeros(2, np.float32)})`
    // writes: the header padded with spaces to a multiple of 8.
    let mut reference = 56u64.to_le_bytes().to_vec();
    reference
        .extend_from_slice(b"{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}");
    reference.resize(8 + 56, b' ');
    reference.extend_from_slice(&[0; 8]);
    assert_eq!(
        parse_safetensors(&reference).unwrap().tensors["x"].shape,
        [2]
    );

    // What the reference package writes (`safetensors.numpy.save`, safetensors 0.8.0 from PyPI, run once by hand) for
    // {"w": f32 [[1, 2], [3, 4]], "ids": i64 [7]} with metadata {"run": "2"}: metadata
    // first, tensors ordered by alignment then name, the header padded to 8 bytes.
    const REFERENCE: &str = "90000000000000007b225f5f6d657461646174615f5f223a7b2272756e223a2232227d2c22696473223a7b226474797065223a22493634222c227368617065223a5b315d2c22646174615f6f666673657473223a5b302c385d7d2c2277223a7b226474797065223a22463332222c227368617065223a5b322c325d2c22646174615f6f666673657473223a5b382c32345d7d7d202020202007000000000000000000803f000000400000404000008040";
    let reference: Vec<u8> = (0..REFERENCE.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&REFERENCE[i..i + 2], 16).unwrap())
        .collect();
    let st = parse_safetensors(&reference).unwrap();
    assert_eq!(st.metadata["run"], "2");
    assert_eq!((st.tensors["w"].begin, st.tensors["w"].end), (8, 24));
    assert_eq!(st.tensors["ids"].elem, Elem::Exact(8));
    let ours = safetensors_file(&[("w", "F32", &[2, 2], &f32_bytes(&[1.0, 2.0, 3.0, 4.0]))]);
    let theirs_w_only = compare_files("m.safetensors", &reference, &ours, &Tolerance::EXACT, &[]);
    assert!(!theirs_w_only.matched && theirs_w_only.detail.contains("[\"ids\"]"));

    let header = |json: &str, data: usize| {
        let mut f = (json.len() as u64).to_le_bytes().to_vec();
        f.extend_from_slice(json.as_bytes());
        f.resize(f.len() + data, 0);
        f
    };
    assert_eq!(
        parse_safetensors(&file[..5]),
        Err(SafeTensorsError::Truncated("header length"))
    );
    assert_eq!(
        parse_safetensors(&file[..20]),
        Err(SafeTensorsError::Truncated("header"))
    );
    assert_eq!(
        parse_safetensors(&u64::MAX.to_le_bytes()),
        Err(SafeTensorsError::HeaderTooLarge(u64::MAX))
    );
    assert!(matches!(
        parse_safetensors(&header("[1]", 0)),
        Err(SafeTensorsError::Header(_))
    ));
    assert!(matches!(
        parse_safetensors(&header(
            r#"{"x":{"dtype":"F99","shape":[1],"data_offsets":[0,4]}}"#,
            4
        )),
        Err(SafeTensorsError::Dtype { .. })
    ));
    for (json, data, why) in [
        (
            r#"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#,
            4,
            "needs 8",
        ),
        (
            r#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            2,
            "outside",
        ),
        (
            r#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#,
            4,
            "outside",
        ),
        (
            r#"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#,
            4,
            "whole number",
        ),
        (
            r#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#,
            4,
            "[begin, end]",
        ),
        (
            r#"{"x":{"dtype":"F32","data_offsets":[0,4]}}"#,
            4,
            "no shape",
        ),
        (
            r#"{"x":{"dtype":"U8","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}"#,
            4,
            "overflows",
        ),
    ] {
        match parse_safetensors(&header(json, data)) {
            Err(SafeTensorsError::Layout { reason, .. }) => {
                assert!(reason.contains(why), "{json}: {reason}")
            }
            other => panic!("{json}: {other:?}"),
        }
    }
    // Two tensors on the same bytes, a gap, and bytes no tensor owns.
    for (json, data) in [
        (
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            4,
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            8,
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            5,
        ),
    ] {
        assert!(
            matches!(
                parse_safetensors(&header(json, data)),
                Err(SafeTensorsError::Coverage { .. })
            ),
            "{json}"
        );
    }
    // Every prefix of a valid file is refused with an error.
    for cut in 0..file.len() {
        assert!(parse_safetensors(&file[..cut]).is_err(), "prefix {cut}");
    }
}

#[test]
fn safetensors_float_tensors_compare_under_the_rule_and_the_rest_exactly() {
    let x = noise(1000, 5);
    let close: Vec<f32> = x.iter().map(|v| v * (1.0 + 1e-6)).collect();
    let ids = [1u8, 2, 3, 4];
    let st = |w: &[f32], ids: &[u8], dtype: &str| {
        safetensors_file(&[
            ("w", dtype, &[10, 100], &f32_bytes(w)),
            ("ids", "U8", &[4], ids),
        ])
    };
    let a = st(&x, &ids, "F32");
    let v = compare_files("m.safetensors", &a, &st(&close, &ids, "F32"), &TOL, &[]);
    assert!(
        v.matched && v.max_rel > 0.0 && v.detail == "2 tensors within the rule",
        "{v:?}"
    );
    // An integer tensor differs by one: exact, so a mismatch.
    let v = compare_files(
        "m.safetensors",
        &a,
        &st(&close, &[1, 2, 3, 5], "F32"),
        &TOL,
        &[],
    );
    assert!(!v.matched && v.detail.contains("\"ids\""), "{v:?}");
    // A float tensor beyond the rule, a renamed dtype, a missing tensor, other metadata.
    let mut far = close.clone();
    far[17] += 1.0;
    let v = compare_files("m.safetensors", &a, &st(&far, &ids, "F32"), &TOL, &[]);
    assert!(
        !v.matched && v.detail.contains("1 of 1000 elements"),
        "{v:?}"
    );
    let v = compare_files("m.safetensors", &a, &st(&close, &ids, "I32"), &TOL, &[]);
    assert!(
        !v.matched && v.detail.contains("F32 [10, 100] against I32"),
        "{v:?}"
    );
    let only_w = safetensors_file(&[("w", "F32", &[10, 100], &f32_bytes(&x))]);
    let v = compare_files("m.safetensors", &a, &only_w, &TOL, &[]);
    assert!(
        !v.matched && v.detail.contains("[\"ids\"] on the first side only"),
        "{v:?}"
    );
    let mut meta = a.clone();
    let at = meta.windows(4).position(|w| w == b"{\"id").unwrap();
    meta.splice(
        at + 1..at + 1,
        b"\"__metadata__\":{\"run\":\"2\"},".iter().copied(),
    );
    let n = u64::from_le_bytes(meta[..8].try_into().unwrap()) + 27;
    meta[..8].copy_from_slice(&n.to_le_bytes());
    assert_eq!(parse_safetensors(&meta).unwrap().metadata["run"], "2");
    assert!(!compare_files("m.safetensors", &a, &meta, &TOL, &[]).matched);
    // A truncated file on either side is a mismatch that says so.
    let v = compare_files("m.safetensors", &a, &a[..a.len() - 1], &TOL, &[]);
    assert!(!v.matched && v.detail.starts_with("second: "), "{v:?}");
    // bf16 tensors decode as the top half of an f32.
    let b16 = |v: &[f32]| safetensors_file(&[("h", "BF16", &[v.len()], &bf16_bytes(v))]);
    assert!(
        compare_files(
            "h.safetensors",
            &b16(&[1.0, -2.5]),
            &b16(&[1.0, -2.5078125]),
            &Tolerance { rtol: 0.01, ..TOL },
            &[]
        )
        .matched
    );
    assert!(
        !compare_files(
            "h.safetensors",
            &b16(&[1.0, -2.5]),
            &b16(&[1.0, -3.0]),
            &Tolerance { rtol: 0.01, ..TOL },
            &[]
        )
        .matched
    );
}

#[test]
fn raw_files_are_read_as_their_declared_layout_and_other_sizes_are_mismatches() {
    let layout = |pattern: &str, dtype: RawDtype, shape: &[usize]| RawLayout {
        pattern: pattern.into(),
        dtype,
        shape: shape.to_vec(),
    };
    let raw = [
        layout("out/*.f32", RawDtype::F32, &[4, 25]),
        layout("*.bf16", RawDtype::Bf16, &[3]),
    ];
    let x = noise(100, 9);
    let close: Vec<f32> = x.iter().map(|v| v + 1e-7).collect();
    let (a, b) = (f32_bytes(&x), f32_bytes(&close));
    let v = compare_files("out/y.f32", &a, &b, &TOL, &raw);
    assert!(v.matched && v.detail.starts_with("0 of 100"), "{v:?}");
    // Without a layout (other path), the same bytes are compared exactly.
    assert!(!compare_files("y.f32", &a, &b, &TOL, &raw).matched);
    // Truncated and oversized files say which side and what the layout needs.
    let v = compare_files("out/y.f32", &a, &b[..396], &TOL, &raw);
    assert!(
        !v.matched && v.detail.contains("second: 396 bytes") && v.detail.contains("needs 400"),
        "{v:?}"
    );
    let mut long = a.clone();
    long.extend_from_slice(&[0; 4]);
    assert!(!compare_files("out/y.f32", &long, &b, &TOL, &raw).matched);
    // Fabricated data of the right size does not match.
    assert!(!compare_files("out/y.f32", &a, &[0; 400], &TOL, &raw).matched);
    let bf = |v: &[f32]| bf16_bytes(v);
    let loose = Tolerance { rtol: 0.01, ..TOL };
    assert!(
        compare_files(
            "a.bf16",
            &bf(&[1.0, 2.0, 3.0]),
            &bf(&[1.0, 2.0, 3.0078125]),
            &loose,
            &raw
        )
        .matched
    );
    assert!(
        !compare_files(
            "a.bf16",
            &bf(&[1.0, 2.0, 3.0]),
            &bf(&[1.0, 2.0, 3.5]),
            &loose,
            &raw
        )
        .matched
    );
    // f16, read through the same path.
    let f16 = |v: &[u16]| v.iter().flat_map(|h| h.to_le_bytes()).collect::<Vec<u8>>();
    let h = [layout("*.f16", RawDtype::F16, &[2])];
    assert!(
        compare_files(
            "a.f16",
            &f16(&[0x3c00, 0x4000]),
            &f16(&[0x3c01, 0x4000]),
            &Tolerance { rtol: 0.001, ..TOL },
            &h
        )
        .matched
    );
    // The directory comparison takes the layouts too.
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    fs::create_dir(da.path().join("out")).unwrap();
    fs::create_dir(db.path().join("out")).unwrap();
    fs::write(da.path().join("out/y.f32"), &a).unwrap();
    fs::write(db.path().join("out/y.f32"), &b).unwrap();
    assert!(
        compare_dirs(da.path(), db.path(), &TOL, &[], &raw)
            .unwrap()
            .matched
    );
    assert!(
        !compare_dirs(da.path(), db.path(), &TOL, &[], &[])
            .unwrap()
            .matched
    );
    // A layout beyond the element bound has no size: every file is a mismatch.
    let huge = layout("*.f32", RawDtype::F32, &[1 << 30, 1 << 11]);
    assert_eq!(huge.bytes(), None);
    assert!(!compare_files("z.f32", &a, &b, &TOL, &[huge]).matched);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Random finite values spanning many magnitudes.
    fn values() -> impl Strategy<Value = Vec<f32>> {
        prop::collection::vec(
            (-1e6f32..1e6f32, -20i32..20).prop_map(|(m, e)| m * 2f32.powi(e) / 1e6),
            1..300,
        )
    }

    /// The three float formats holding `v`: (path, bytes, raw layouts that apply).
    fn encodings(v: &[f32]) -> Vec<(&'static str, Vec<u8>, Vec<RawLayout>)> {
        vec![
            ("a.npy", npy_f32(&[v.len()], v), vec![]),
            (
                "a.safetensors",
                safetensors_file(&[("t", "F32", &[v.len()], &f32_bytes(v))]),
                vec![],
            ),
            (
                "a.raw",
                f32_bytes(v),
                vec![RawLayout {
                    pattern: "*.raw".into(),
                    dtype: RawDtype::F32,
                    shape: vec![v.len()],
                }],
            ),
        ]
    }

    const RULE: Tolerance = Tolerance {
        rtol: 1e-4,
        atol: 1e-6,
        max_mismatch_fraction: 0.0,
        nan_equal: false,
    };

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Noise well within the rule matches in every format.
        #[test]
        fn noise_within_the_rule_matches(v in values(), seed in any::<u64>()) {
            let n = noise(v.len(), seed);
            let w: Vec<f32> = v.iter().zip(&n).map(|(x, e)| x + x * e * 1e-5).collect();
            for ((p, a, raw), (_, b, _)) in encodings(&v).into_iter().zip(encodings(&w)) {
                let verdict = compare_files(p, &a, &b, &RULE, &raw);
                prop_assert!(verdict.matched, "{p}: {verdict:?}");
            }
        }

        /// One element moved beyond the rule is caught in every format.
        #[test]
        fn one_element_beyond_the_rule_is_caught(v in values(), at in any::<prop::sample::Index>(), by in 1e-3f32..1e3) {
            let mut w = v.clone();
            let i = at.index(v.len());
            w[i] += w[i].abs().max(1.0) * by;
            for ((p, a, raw), (_, b, _)) in encodings(&v).into_iter().zip(encodings(&w)) {
                let verdict = compare_files(p, &a, &b, &RULE, &raw);
                prop_assert!(!verdict.matched, "{p}: {verdict:?}");
            }
        }

        /// Another shape (one element more or fewer) never matches and never panics.
        #[test]
        fn another_shape_never_matches(v in values(), grow in any::<bool>()) {
            let mut w = v.clone();
            if grow { w.push(0.0) } else if w.len() > 1 { w.pop(); } else { w.push(1.0) }
            for ((p, a, raw), (_, b, _)) in encodings(&v).into_iter().zip(encodings(&w)) {
                prop_assert!(!compare_files(p, &a, &b, &RULE, &raw).matched, "{p}");
            }
        }

        /// Arbitrary bytes under any of the formats' names: a verdict, never a panic; a file
        /// always matches itself.
        #[test]
        fn arbitrary_bytes_get_a_verdict(a in prop::collection::vec(any::<u8>(), 0..200), b in prop::collection::vec(any::<u8>(), 0..200)) {
            let raw = [RawLayout { pattern: "*.raw".into(), dtype: RawDtype::F16, shape: vec![4] }];
            for p in ["x.npy", "x.safetensors", "x.raw", "x.txt"] {
                let _ = compare_files(p, &a, &b, &RULE, &raw);
                prop_assert!(compare_files(p, &a, &a, &RULE, &raw).matched);
            }
        }
    }
}
