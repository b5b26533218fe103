//! The output comparator's parsers on arbitrary bytes: `.npy` and safetensors headers, raw
//! layouts, and whole-file comparisons under any rule within the bounds. Never a panic; a
//! parsed file's data lies inside the file; every file matches itself.
#![no_main]

use arbitrary::Arbitrary;
use cinder_compare::*;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    kind: u8,
    a: Vec<u8>,
    b: Vec<u8>,
    rtol: u16,
    atol: u16,
    fraction: u8,
    nan_equal: bool,
    shape: Vec<u16>,
    dtype: u8,
    /// A header (JSON for safetensors, a Python dict for .npy) framed as the format frames it,
    /// its length field off by `len_delta`, followed by `data`: reaches past the framing.
    header: String,
    len_delta: i8,
    data: Vec<u8>,
}

/// `header` and `data` framed as a safetensors file and as a .npy file.
fn framed(i: &Input) -> [Vec<u8>; 2] {
    let n = (i.header.len() as i64 + i64::from(i.len_delta)).max(0) as u64;
    let mut st = n.to_le_bytes().to_vec();
    st.extend_from_slice(i.header.as_bytes());
    st.extend_from_slice(&i.data);
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend_from_slice(&(n as u16).to_le_bytes());
    npy.extend_from_slice(i.header.as_bytes());
    npy.extend_from_slice(&i.data);
    [st, npy]
}

fuzz_target!(|i: Input| {
    let [st_file, npy_file] = framed(&i);
    for bytes in [&i.a, &st_file, &npy_file] {
        if let Ok(n) = parse_npy(bytes) {
            assert!(n.data_offset <= bytes.len());
        }
        if let Ok(st) = parse_safetensors(bytes) {
            for t in st.tensors.values() {
                assert!(t.begin <= t.end && st.data_offset + t.end <= bytes.len());
            }
        }
    }
    let tol = Tolerance {
        rtol: f64::from(i.rtol) / f64::from(u16::MAX) * MAX_RTOL,
        atol: f64::from(i.atol) / f64::from(u16::MAX) * MAX_ATOL,
        max_mismatch_fraction: f64::from(i.fraction) / 255.0 * MAX_MISMATCH_FRACTION,
        nan_equal: i.nan_equal,
    };
    assert!(tol.check().is_ok());
    let raw = [RawLayout {
        pattern: "*.raw".into(),
        dtype: [RawDtype::F16, RawDtype::Bf16, RawDtype::F32, RawDtype::F64][i.dtype as usize % 4],
        shape: i.shape.iter().map(|d| *d as usize).take(6).collect(),
    }];
    let path = ["x.npy", "x.safetensors", "x.raw", "x.json"][i.kind as usize % 4];
    let a = match path {
        "x.npy" => &npy_file,
        "x.safetensors" => &st_file,
        _ => &i.a,
    };
    let v = compare_files(path, a, &i.b, &tol, &raw);
    assert!(v.max_abs >= 0.0 && v.max_rel >= 0.0);
    assert!(compare_files(path, a, a, &tol, &raw).matched);
});
