//! Comparing two runs' outputs when they need not be bit-identical: GPU work (atomics,
//! reduction order, library algorithm choice) rounds differently from run to run, so a
//! re-execution of an honest job can differ from the provider's outputs in the last bits.
//!
//! [`compare_dirs`] compares two output directories file by file: `.npy` arrays of floats
//! element-wise under a [`Tolerance`] (`|a - b| <= atol + rtol * |b|`, with at most
//! `max_mismatch_fraction` of the elements outside it), integer and boolean arrays and every
//! other file exactly. Shapes and dtypes must agree; a file present on one side only is a
//! mismatch. NaN equals NaN only where the rule says so (`nan_equal`); an infinity equals only
//! the same infinity. A tolerance looser than [`MAX_RTOL`] / [`MAX_ATOL`] /
//! [`MAX_MISMATCH_FRACTION`] is refused: a rule that accepts anything verifies nothing.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

/// Largest relative tolerance accepted.
pub const MAX_RTOL: f64 = 0.1;
/// Largest absolute tolerance accepted.
pub const MAX_ATOL: f64 = 1.0;
/// Largest share of elements allowed outside the tolerance.
pub const MAX_MISMATCH_FRACTION: f64 = 0.01;

/// How close two float arrays must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
    pub max_mismatch_fraction: f64,
    pub nan_equal: bool,
}

impl Tolerance {
    /// Byte-identical arrays only.
    pub const EXACT: Tolerance = Tolerance {
        rtol: 0.0,
        atol: 0.0,
        max_mismatch_fraction: 0.0,
        nan_equal: true,
    };

    /// Refuses a rule outside the bounds (or not a number).
    pub fn check(&self) -> Result<(), CompareError> {
        let ok = |v: f64, max: f64| v.is_finite() && (0.0..=max).contains(&v);
        if ok(self.rtol, MAX_RTOL)
            && ok(self.atol, MAX_ATOL)
            && ok(self.max_mismatch_fraction, MAX_MISMATCH_FRACTION)
        {
            Ok(())
        } else {
            Err(CompareError::LooseTolerance(*self))
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    #[error("tolerance {0:?} is looser than the bounds (rtol <= {MAX_RTOL}, atol <= {MAX_ATOL}, max_mismatch_fraction <= {MAX_MISMATCH_FRACTION})")]
    LooseTolerance(Tolerance),
    #[error("{path}: {reason}")]
    Io { path: String, reason: String },
}

/// A .npy array's header and raw data.
#[derive(Debug, Clone, PartialEq)]
pub struct Npy {
    /// numpy's dtype string, e.g. `<f4`.
    pub dtype: String,
    pub shape: Vec<usize>,
    /// Offset of the data in the file.
    pub data_offset: usize,
}

/// Why a .npy file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpyError {
    #[error("not a .npy file (no \\x93NUMPY magic)")]
    Magic,
    #[error("truncated: {0}")]
    Truncated(&'static str),
    #[error("header: {0}")]
    Header(String),
    #[error("dtype {0:?} is not supported (little-endian f2/f4/f8, i1-i8, u1-u8, b1)")]
    Dtype(String),
    #[error("fortran_order arrays are not supported")]
    Fortran,
    #[error("data is {got} bytes; shape {shape:?} of {dtype} needs {want}")]
    Size {
        got: usize,
        want: usize,
        shape: Vec<usize>,
        dtype: String,
    },
}

/// Bytes per element of a supported dtype, and whether it is a float.
fn dtype_info(dtype: &str) -> Option<(usize, bool)> {
    Some(match dtype {
        "<f2" => (2, true),
        "<f4" => (4, true),
        "<f8" => (8, true),
        "|i1" | "|u1" | "|b1" => (1, false),
        "<i2" | "<u2" => (2, false),
        "<i4" | "<u4" => (4, false),
        "<i8" | "<u8" => (8, false),
        _ => return None,
    })
}

/// Parses a .npy file's header (format versions 1 to 3) and checks the data's size.
pub fn parse_npy(bytes: &[u8]) -> Result<Npy, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(if bytes.len() < 6 || bytes.starts_with(b"\x93NUMPY") {
            NpyError::Truncated("header")
        } else {
            NpyError::Magic
        });
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        2 | 3 => return Err(NpyError::Truncated("header length")),
        v => return Err(NpyError::Header(format!("format version {v}"))),
    };
    let end = start
        .checked_add(len)
        .filter(|e| *e <= bytes.len())
        .ok_or(NpyError::Truncated("header"))?;
    let header = std::str::from_utf8(&bytes[start..end])
        .map_err(|_| NpyError::Header("not UTF-8".into()))?;
    let field = |key: &str| -> Result<&str, NpyError> {
        let at = header
            .find(&format!("'{key}':"))
            .ok_or_else(|| NpyError::Header(format!("no '{key}'")))?;
        Ok(header[at + key.len() + 3..].trim_start())
    };
    let descr = field("descr")?;
    let dtype = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| NpyError::Header("descr is not a string".into()))?
        .to_string();
    if field("fortran_order")?.starts_with("True") {
        return Err(NpyError::Fortran);
    }
    let shape_text = field("shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| NpyError::Header("shape is not a tuple".into()))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| NpyError::Header(format!("shape entry {s:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (size, _) = dtype_info(&dtype).ok_or_else(|| NpyError::Dtype(dtype.clone()))?;
    let want = shape
        .iter()
        .try_fold(size, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| NpyError::Header("shape overflows".into()))?;
    let got = bytes.len() - end;
    if got != want {
        return Err(NpyError::Size {
            got,
            want,
            shape,
            dtype,
        });
    }
    Ok(Npy {
        dtype,
        shape,
        data_offset: end,
    })
}

/// Elements of a float array's data as f64.
fn floats(dtype: &str, data: &[u8]) -> Vec<f64> {
    match dtype {
        "<f2" => data
            .chunks_exact(2)
            .map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        "<f4" => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        _ => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")))
            .collect(),
    }
}

/// IEEE 754 half precision to f64.
pub fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    sign * match exp {
        0 => frac * 2f64.powi(-24),
        31 if frac == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// How two files compared.
#[derive(Debug, Clone, PartialEq)]
pub struct FileVerdict {
    pub path: String,
    pub matched: bool,
    /// Why not, or what was compared ("identical", "3 of 1024 elements outside ...").
    pub detail: String,
    /// Largest absolute and relative difference of float arrays (0 elsewhere).
    pub max_abs: f64,
    pub max_rel: f64,
}

/// How two output directories compared: matched when every file did.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub matched: bool,
    pub files: Vec<FileVerdict>,
}

/// Compares two float arrays' elements under `tol`.
pub fn compare_floats(a: &[f64], b: &[f64], tol: &Tolerance) -> (bool, String, f64, f64) {
    let (mut outside, mut max_abs, mut max_rel) = (0usize, 0f64, 0f64);
    for (&x, &y) in a.iter().zip(b) {
        let ok = if x.is_nan() || y.is_nan() {
            tol.nan_equal && x.is_nan() && y.is_nan()
        } else if x.is_infinite() || y.is_infinite() {
            x == y
        } else {
            let d = (x - y).abs();
            max_abs = max_abs.max(d);
            if d > 0.0 {
                max_rel = max_rel.max(d / y.abs().max(f64::MIN_POSITIVE));
            }
            d <= tol.atol + tol.rtol * y.abs()
        };
        outside += usize::from(!ok);
    }
    let allowed = (tol.max_mismatch_fraction * a.len() as f64).floor() as usize;
    (
        outside <= allowed,
        format!(
            "{outside} of {} elements outside rtol {} atol {} (at most {allowed} allowed)",
            a.len(),
            tol.rtol,
            tol.atol
        ),
        max_abs,
        max_rel,
    )
}

/// Compares one file of each side.
pub fn compare_files(path: &str, a: &[u8], b: &[u8], tol: &Tolerance) -> FileVerdict {
    let verdict = |matched: bool, detail: String| FileVerdict {
        path: path.to_string(),
        matched,
        detail,
        max_abs: 0.0,
        max_rel: 0.0,
    };
    if a == b {
        return verdict(true, "identical".into());
    }
    if !path.ends_with(".npy") {
        return verdict(false, "differs (compared exactly)".into());
    }
    let (na, nb) = match (parse_npy(a), parse_npy(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) => return verdict(false, format!("first: {e}")),
        (_, Err(e)) => return verdict(false, format!("second: {e}")),
    };
    if na.dtype != nb.dtype || na.shape != nb.shape {
        return verdict(
            false,
            format!(
                "{} {:?} against {} {:?}",
                na.dtype, na.shape, nb.dtype, nb.shape
            ),
        );
    }
    match dtype_info(&na.dtype) {
        Some((_, true)) => {
            let (x, y) = (
                floats(&na.dtype, &a[na.data_offset..]),
                floats(&nb.dtype, &b[nb.data_offset..]),
            );
            let (matched, detail, max_abs, max_rel) = compare_floats(&x, &y, tol);
            FileVerdict {
                path: path.to_string(),
                matched,
                detail,
                max_abs,
                max_rel,
            }
        }
        _ => verdict(
            false,
            format!("{} data differs (compared exactly)", na.dtype),
        ),
    }
}

/// Compares every file under `a` with the file at the same path under `b`, except those whose
/// relative path matches one of the `exclude` patterns (see [`pattern_matches`]): they are
/// listed as excluded and not compared.
pub fn compare_dirs(
    a: &Path,
    b: &Path,
    tol: &Tolerance,
    exclude: &[String],
) -> Result<Verdict, CompareError> {
    tol.check()?;
    let (fa, fb) = (list(a)?, list(b)?);
    let mut files = Vec::new();
    for path in fa.union(&fb) {
        if exclude.iter().any(|p| pattern_matches(p, path)) {
            files.push(FileVerdict {
                path: path.clone(),
                matched: true,
                detail: "excluded by the rule (not compared)".into(),
                max_abs: 0.0,
                max_rel: 0.0,
            });
            continue;
        }
        let read = |root: &Path| -> Result<Option<Vec<u8>>, CompareError> {
            let p = root.join(path);
            if !p.exists() {
                return Ok(None);
            }
            fs::read(&p).map(Some).map_err(|e| CompareError::Io {
                path: p.display().to_string(),
                reason: e.to_string(),
            })
        };
        files.push(match (read(a)?, read(b)?) {
            (Some(x), Some(y)) => compare_files(path, &x, &y, tol),
            (x, _) => FileVerdict {
                path: path.clone(),
                matched: false,
                detail: format!(
                    "present on the {} side only",
                    if x.is_some() { "first" } else { "second" }
                ),
                max_abs: 0.0,
                max_rel: 0.0,
            },
        });
    }
    Ok(Verdict {
        matched: files.iter().all(|f| f.matched),
        files,
    })
}

/// Whether `path` (relative, `/`-separated) matches `pattern` as a whole: `*` stands for any
/// run of characters (`/` included), `?` for one character, anything else for itself.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), path.chars().collect());
    // Classic wildcard matching with one backtrack point (the last `*`).
    let (mut i, mut j, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while j < s.len() {
        if i < p.len() && (p[i] == '?' || p[i] == s[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(st) = star {
            i = st + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

/// Relative paths of the regular files under `root`.
fn list(root: &Path) -> Result<BTreeSet<String>, CompareError> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let rd = fs::read_dir(&dir).map_err(|e| CompareError::Io {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        for entry in rd.flatten() {
            let p = entry.path();
            let ft = entry.file_type().map_err(|e| CompareError::Io {
                path: p.display().to_string(),
                reason: e.to_string(),
            })?;
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                if let Ok(rel) = p.strip_prefix(root) {
                    out.insert(rel.to_string_lossy().into_owned());
                }
            }
        }
    }
    Ok(out)
}

/// A .npy file of little-endian f32s (tests, demos).
pub fn npy_f32(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // numpy pads the header with spaces to a multiple of 64 bytes, ending in a newline.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
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
        let v = compare_files("x.npy", &pa, &npy_f32(&[100, 100], &close), &TOL);
        assert!(v.matched, "{v:?}");
        assert!(v.max_abs > 0.0 && v.max_rel < 1e-5);
        let v = compare_files("x.npy", &pa, &npy_f32(&[100, 100], &one_off), &TOL);
        assert!(!v.matched, "{v:?}");
        assert!(v.detail.starts_with("1 of 10000"), "{}", v.detail);
        // Allowed when the rule lets 1 in 10,000 elements differ.
        let lenient = Tolerance {
            max_mismatch_fraction: 1e-4,
            ..TOL
        };
        assert!(compare_files("x.npy", &pa, &npy_f32(&[100, 100], &one_off), &lenient).matched);
        // Fabricated outputs of the right shape (zeros) never match.
        let zeros = npy_f32(&[100, 100], &[0.0; 10_000]);
        assert!(!compare_files("x.npy", &pa, &zeros, &TOL).matched);
    }

    #[test]
    fn shapes_dtypes_missing_files_and_other_files_are_mismatches() {
        let a = npy_f32(&[4], &[1.0; 4]);
        let v = compare_files("x.npy", &a, &npy_f32(&[2, 2], &[1.0; 4]), &TOL);
        assert!(!v.matched && v.detail.contains("[4]") && v.detail.contains("[2, 2]"));
        assert!(!compare_files("log.txt", b"a", b"b", &TOL).matched);
        assert!(compare_files("log.txt", b"a", b"a", &Tolerance::EXACT).matched);
        let dir_a = tempfile::tempdir().unwrap();
        let dir_b = tempfile::tempdir().unwrap();
        fs::write(dir_a.path().join("x.npy"), &a).unwrap();
        fs::write(dir_b.path().join("x.npy"), &a).unwrap();
        assert!(
            compare_dirs(dir_a.path(), dir_b.path(), &TOL, &[])
                .unwrap()
                .matched
        );
        fs::create_dir(dir_a.path().join("sub")).unwrap();
        fs::write(dir_a.path().join("sub/extra.txt"), b"x").unwrap();
        let v = compare_dirs(dir_a.path(), dir_b.path(), &TOL, &[]).unwrap();
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
        assert!(compare_dirs(d.path(), d.path(), &Tolerance { rtol: 1.0, ..TOL }, &[]).is_err());
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
        let v = compare_dirs(a.path(), b.path(), &TOL, &[]).unwrap();
        assert!(!v.matched, "the text file differs");
        let excl = ["*.txt".to_string()];
        let v = compare_dirs(a.path(), b.path(), &TOL, &excl).unwrap();
        assert!(v.matched, "{v:?}");
        assert!(v
            .files
            .iter()
            .any(|f| f.path == "total.txt" && f.detail.contains("excluded")));
        // Exclusion never hides a tampered array.
        fs::write(b.path().join("bins.npy"), npy_f32(&[1024], &[0.0; 1024])).unwrap();
        assert!(
            !compare_dirs(a.path(), b.path(), &TOL, &excl)
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
}
