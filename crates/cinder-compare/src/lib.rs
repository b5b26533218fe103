//! Comparing two runs' outputs when they need not be bit-identical: GPU work (atomics,
//! reduction order, library algorithm choice) rounds differently from run to run, so a
//! re-execution of an honest job can differ from the provider's outputs in the last bits.
//!
//! [`compare_dirs`] compares two output directories file by file. Float data is compared
//! element-wise under a [`Tolerance`] (`|a - b| <= atol + rtol * |b|`, with at most
//! `max_mismatch_fraction` of the elements outside it), in three formats:
//! - `.npy` arrays (little-endian f2/f4/f8);
//! - `.safetensors` files: the same tensor names, each with the same dtype and shape, float
//!   tensors (F16, BF16, F32, F64) under the tolerance (each tensor on its own), every other
//!   tensor and the `__metadata__` exactly;
//! - raw little-endian f32/f16/bf16/f64 files whose paths match a [`RawLayout`] the job's
//!   spec declares, with the shape it declares (a file of another size is a mismatch).
//!
//! Integer and boolean data and every other file (text, JSON) are compared exactly. Shapes
//! and dtypes must agree; a file present on one side only is a mismatch; a file that does not
//! parse as its format says is a mismatch that names why, never a panic. NaN equals NaN only
//! where the rule says so (`nan_equal`); an infinity equals only the same infinity. A
//! tolerance looser than [`MAX_RTOL`] / [`MAX_ATOL`] / [`MAX_MISMATCH_FRACTION`] is refused: a
//! rule that accepts anything verifies nothing.
//!
//! `cinder-runner` re-exports this crate as `cinder_runner::compare`; it needs only `serde`,
//! `serde_json` and `thiserror`, so the fuzz target `compare_parsers` and `cinder-sim` build it
//! without the runner's network stack.

use std::{
    collections::{BTreeMap, BTreeSet},
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

/// How an element is stored: a float comparable under a tolerance, or anything else (compared
/// by its bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    F16,
    BF16,
    F32,
    F64,
    /// Integers, booleans, 8-bit floats: compared exactly, `n` bytes each.
    Exact(usize),
}

impl Elem {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Elem::F16 | Elem::BF16 => 2,
            Elem::F32 => 4,
            Elem::F64 => 8,
            Elem::Exact(n) => n,
        }
    }

    fn is_float(self) -> bool {
        !matches!(self, Elem::Exact(_))
    }

    /// One element (`bytes` of [`Elem::size`]) as f64; 0 for [`Elem::Exact`].
    fn decode(self, b: &[u8]) -> f64 {
        match self {
            Elem::F16 => f16_to_f64(u16::from_le_bytes([b[0], b[1]])),
            Elem::BF16 => f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16) as f64,
            Elem::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
            Elem::F64 => f64::from_le_bytes(b[..8].try_into().expect("8 bytes")),
            Elem::Exact(_) => 0.0,
        }
    }
}

/// A supported .npy dtype.
fn npy_elem(dtype: &str) -> Option<Elem> {
    Some(match dtype {
        "<f2" => Elem::F16,
        "<f4" => Elem::F32,
        "<f8" => Elem::F64,
        "|i1" | "|u1" | "|b1" => Elem::Exact(1),
        "<i2" | "<u2" => Elem::Exact(2),
        "<i4" | "<u4" => Elem::Exact(4),
        "<i8" | "<u8" => Elem::Exact(8),
        _ => return None,
    })
}

/// Bytes of `shape` elements of `size` bytes, `None` on overflow.
fn data_len(shape: &[usize], size: usize) -> Option<usize> {
    shape.iter().try_fold(size, |acc, d| acc.checked_mul(*d))
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
    let elem = npy_elem(&dtype).ok_or_else(|| NpyError::Dtype(dtype.clone()))?;
    let want =
        data_len(&shape, elem.size()).ok_or_else(|| NpyError::Header("shape overflows".into()))?;
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

/// A safetensors file's header: its tensors by name (sorted) and its `__metadata__`.
#[derive(Debug, Clone, PartialEq)]
pub struct SafeTensors {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: BTreeMap<String, String>,
    /// Offset of the byte buffer in the file.
    pub data_offset: usize,
}

/// One tensor of a safetensors file.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// safetensors' dtype name, e.g. `F32`.
    pub dtype: String,
    pub elem: Elem,
    pub shape: Vec<usize>,
    /// Its bytes in the buffer, `begin..end`.
    pub begin: usize,
    pub end: usize,
}

/// Largest safetensors header read (the reference implementation's bound).
pub const MAX_SAFETENSORS_HEADER: usize = 100_000_000;

/// Why a safetensors file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SafeTensorsError {
    #[error("truncated: {0}")]
    Truncated(&'static str),
    #[error("header of {0} bytes is larger than {MAX_SAFETENSORS_HEADER}")]
    HeaderTooLarge(u64),
    #[error("header: {0}")]
    Header(String),
    #[error("tensor {name:?}: dtype {dtype:?} is not a safetensors dtype")]
    Dtype { name: String, dtype: String },
    #[error("tensor {name:?}: {reason}")]
    Layout { name: String, reason: String },
    #[error("the tensors cover {covered} of the buffer's {len} bytes (gaps, overlaps or trailing bytes)")]
    Coverage { covered: usize, len: usize },
}

fn safetensors_elem(dtype: &str) -> Option<Elem> {
    Some(match dtype {
        "F16" => Elem::F16,
        "BF16" => Elem::BF16,
        "F32" => Elem::F32,
        "F64" => Elem::F64,
        "BOOL" | "U8" | "I8" | "F8_E4M3" | "F8_E5M2" => Elem::Exact(1),
        "U16" | "I16" => Elem::Exact(2),
        "U32" | "I32" => Elem::Exact(4),
        "U64" | "I64" => Elem::Exact(8),
        _ => return None,
    })
}

/// Parses a safetensors file (an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and `data_offsets` in the byte buffer that follows) and checks that
/// every tensor's bytes fit its dtype and shape and that the tensors tile the buffer exactly.
pub fn parse_safetensors(bytes: &[u8]) -> Result<SafeTensors, SafeTensorsError> {
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or(SafeTensorsError::Truncated("header length"))?;
    let n = u64::from_le_bytes(len_bytes);
    if n > MAX_SAFETENSORS_HEADER as u64 {
        return Err(SafeTensorsError::HeaderTooLarge(n));
    }
    let data_offset = 8 + n as usize;
    let header = bytes
        .get(8..data_offset)
        .ok_or(SafeTensorsError::Truncated("header"))?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| SafeTensorsError::Header(e.to_string()))?;
    let buffer = bytes.len() - data_offset;
    let mut tensors = BTreeMap::new();
    let mut metadata = BTreeMap::new();
    for (name, v) in header {
        if name == "__metadata__" {
            let m = v
                .as_object()
                .ok_or_else(|| SafeTensorsError::Header("__metadata__ is not an object".into()))?;
            for (k, v) in m {
                let s = v.as_str().ok_or_else(|| {
                    SafeTensorsError::Header(format!("__metadata__ {k:?} is not a string"))
                })?;
                metadata.insert(k.clone(), s.to_string());
            }
            continue;
        }
        let layout = |reason: String| SafeTensorsError::Layout {
            name: name.clone(),
            reason,
        };
        let info = v
            .as_object()
            .ok_or_else(|| layout("not an object".into()))?;
        let dtype = info
            .get("dtype")
            .and_then(|d| d.as_str())
            .ok_or_else(|| layout("no dtype".into()))?
            .to_string();
        let elem = safetensors_elem(&dtype).ok_or_else(|| SafeTensorsError::Dtype {
            name: name.clone(),
            dtype: dtype.clone(),
        })?;
        let usizes = |key: &str| -> Result<Vec<usize>, SafeTensorsError> {
            info.get(key)
                .and_then(|s| s.as_array())
                .ok_or_else(|| layout(format!("no {key} array")))?
                .iter()
                .map(|d| {
                    d.as_u64()
                        .and_then(|d| usize::try_from(d).ok())
                        .ok_or_else(|| layout(format!("{key} entry {d} is not a whole number")))
                })
                .collect()
        };
        let shape = usizes("shape")?;
        let offsets = usizes("data_offsets")?;
        let [begin, end] = offsets[..] else {
            return Err(layout("data_offsets is not [begin, end]".into()));
        };
        let want = data_len(&shape, elem.size()).ok_or_else(|| layout("shape overflows".into()))?;
        if begin > end || end > buffer {
            return Err(layout(format!(
                "data_offsets [{begin}, {end}] outside the {buffer}-byte buffer"
            )));
        }
        if end - begin != want {
            return Err(layout(format!(
                "{} bytes; {dtype} shape {shape:?} needs {want}",
                end - begin
            )));
        }
        tensors.insert(
            name.clone(),
            Tensor {
                dtype,
                elem,
                shape,
                begin,
                end,
            },
        );
    }
    // The tensors must tile the buffer: sorted by offset, each starts where the last ended.
    let mut spans: Vec<(usize, usize)> = tensors.values().map(|t| (t.begin, t.end)).collect();
    spans.sort_unstable();
    let covered = spans
        .iter()
        .try_fold(0usize, |at, &(b, e)| (b == at).then_some(e));
    if covered != Some(buffer) {
        return Err(SafeTensorsError::Coverage {
            covered: covered.unwrap_or(0),
            len: buffer,
        });
    }
    Ok(SafeTensors {
        tensors,
        metadata,
        data_offset,
    })
}

/// A safetensors file (tests, demos): `(name, dtype, shape, bytes)` laid out in order.
pub fn safetensors_file(tensors: &[(&str, &str, &[usize], &[u8])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        header.insert(
            name.to_string(),
            serde_json::json!({
                "dtype": dtype,
                "shape": shape,
                "data_offsets": [data.len(), data.len() + bytes.len()],
            }),
        );
        data.extend_from_slice(bytes);
    }
    let mut head = serde_json::to_vec(&header).expect("a JSON map");
    // The reference writer pads the header with spaces to a multiple of 8 bytes.
    while !head.len().is_multiple_of(8) {
        head.push(b' ');
    }
    let mut out = (head.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&head);
    out.extend_from_slice(&data);
    out
}

/// A raw float format of a spec's `verify.raw`: files whose path matches `pattern` hold
/// little-endian `dtype` elements of `shape` (row-major) and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayout {
    pub pattern: String,
    pub dtype: RawDtype,
    pub shape: Vec<usize>,
}

/// The element types a raw layout may declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawDtype {
    F16,
    Bf16,
    F32,
    F64,
}

/// Most elements a raw layout may declare (2^40: 4 TiB of f32, beyond any job's outputs).
pub const MAX_RAW_ELEMENTS: usize = 1 << 40;

impl RawLayout {
    pub fn elem(&self) -> Elem {
        match self.dtype {
            RawDtype::F16 => Elem::F16,
            RawDtype::Bf16 => Elem::BF16,
            RawDtype::F32 => Elem::F32,
            RawDtype::F64 => Elem::F64,
        }
    }

    /// The file's size in bytes, `None` when the shape has more than [`MAX_RAW_ELEMENTS`].
    pub fn bytes(&self) -> Option<usize> {
        data_len(&self.shape, 1)
            .filter(|n| *n <= MAX_RAW_ELEMENTS)
            .and_then(|n| n.checked_mul(self.elem().size()))
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

/// How two float sequences compared: within the rule, what was found, largest absolute and
/// relative difference.
type FloatVerdict = (bool, String, f64, f64);

/// Compares two float arrays' elements under `tol`.
pub fn compare_floats(a: &[f64], b: &[f64], tol: &Tolerance) -> FloatVerdict {
    compare_elems(a.iter().copied(), b.iter().copied(), tol)
}

/// Compares two equally long sequences of floats under `tol`.
fn compare_elems(
    a: impl Iterator<Item = f64>,
    b: impl Iterator<Item = f64>,
    tol: &Tolerance,
) -> FloatVerdict {
    let (mut n, mut outside, mut max_abs, mut max_rel) = (0usize, 0usize, 0f64, 0f64);
    for (x, y) in a.zip(b) {
        n += 1;
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
    let allowed = (tol.max_mismatch_fraction * n as f64).floor() as usize;
    (
        outside <= allowed,
        format!(
            "{outside} of {n} elements outside rtol {} atol {} (at most {allowed} allowed)",
            tol.rtol, tol.atol
        ),
        max_abs,
        max_rel,
    )
}

/// Compares two data buffers of the same element type and length: floats under `tol`,
/// anything else exactly.
fn compare_data(elem: Elem, a: &[u8], b: &[u8], tol: &Tolerance) -> FloatVerdict {
    if !elem.is_float() {
        let detail = if a == b { "same data" } else { "data differs" };
        return (a == b, format!("{detail} (compared exactly)"), 0.0, 0.0);
    }
    let n = elem.size();
    compare_elems(
        a.chunks_exact(n).map(|c| elem.decode(c)),
        b.chunks_exact(n).map(|c| elem.decode(c)),
        tol,
    )
}

/// Compares one file of each side: `.npy` and `.safetensors` by their names, a file whose
/// path matches one of the `raw` layouts (the first that does) as that layout, anything else
/// exactly.
pub fn compare_files(
    path: &str,
    a: &[u8],
    b: &[u8],
    tol: &Tolerance,
    raw: &[RawLayout],
) -> FileVerdict {
    let (matched, detail, max_abs, max_rel) = if a == b {
        (true, "identical".into(), 0.0, 0.0)
    } else if let Some(layout) = raw.iter().find(|l| pattern_matches(&l.pattern, path)) {
        compare_raw(layout, a, b, tol)
    } else if path.ends_with(".npy") {
        compare_npy(a, b, tol)
    } else if path.ends_with(".safetensors") {
        compare_safetensors(a, b, tol)
    } else {
        (false, "differs (compared exactly)".into(), 0.0, 0.0)
    };
    FileVerdict {
        path: path.to_string(),
        matched,
        detail,
        max_abs,
        max_rel,
    }
}

fn mismatch(detail: String) -> FloatVerdict {
    (false, detail, 0.0, 0.0)
}

fn compare_npy(a: &[u8], b: &[u8], tol: &Tolerance) -> FloatVerdict {
    let (na, nb) = match (parse_npy(a), parse_npy(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) => return mismatch(format!("first: {e}")),
        (_, Err(e)) => return mismatch(format!("second: {e}")),
    };
    if na.dtype != nb.dtype || na.shape != nb.shape {
        return mismatch(format!(
            "{} {:?} against {} {:?}",
            na.dtype, na.shape, nb.dtype, nb.shape
        ));
    }
    let elem = npy_elem(&na.dtype).expect("parse_npy accepts supported dtypes only");
    let (ok, detail, abs, rel) =
        compare_data(elem, &a[na.data_offset..], &b[nb.data_offset..], tol);
    match elem {
        Elem::Exact(_) => (ok, format!("{} {detail}", na.dtype), abs, rel),
        _ => (ok, detail, abs, rel),
    }
}

fn compare_raw(layout: &RawLayout, a: &[u8], b: &[u8], tol: &Tolerance) -> FloatVerdict {
    let want = layout.bytes();
    for (side, x) in [("first", a), ("second", b)] {
        if Some(x.len()) != want {
            return mismatch(format!(
                "{side}: {} bytes; raw {:?} shape {:?} needs {} (truncated or oversized)",
                x.len(),
                layout.dtype,
                layout.shape,
                want.map_or("more than the limit".into(), |w| w.to_string())
            ));
        }
    }
    compare_data(layout.elem(), a, b, tol)
}

fn compare_safetensors(a: &[u8], b: &[u8], tol: &Tolerance) -> FloatVerdict {
    let (sa, sb) = match (parse_safetensors(a), parse_safetensors(b)) {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) => return mismatch(format!("first: {e}")),
        (_, Err(e)) => return mismatch(format!("second: {e}")),
    };
    let names = |s: &SafeTensors| s.tensors.keys().cloned().collect::<BTreeSet<_>>();
    let (na, nb) = (names(&sa), names(&sb));
    if na != nb {
        let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| {
            x.difference(y).cloned().collect::<Vec<_>>()
        };
        return mismatch(format!(
            "tensors differ: {:?} on the first side only, {:?} on the second only",
            only(&na, &nb),
            only(&nb, &na)
        ));
    }
    if sa.metadata != sb.metadata {
        return mismatch("__metadata__ differs (compared exactly)".into());
    }
    let (mut max_abs, mut max_rel, mut bad) = (0f64, 0f64, Vec::new());
    for (name, ta) in &sa.tensors {
        let tb = &sb.tensors[name];
        if ta.dtype != tb.dtype || ta.shape != tb.shape {
            bad.push(format!(
                "{name:?}: {} {:?} against {} {:?}",
                ta.dtype, ta.shape, tb.dtype, tb.shape
            ));
            continue;
        }
        let (ok, detail, abs, rel) = compare_data(
            ta.elem,
            &a[sa.data_offset + ta.begin..sa.data_offset + ta.end],
            &b[sb.data_offset + tb.begin..sb.data_offset + tb.end],
            tol,
        );
        (max_abs, max_rel) = (max_abs.max(abs), max_rel.max(rel));
        if !ok {
            bad.push(format!("{name:?} ({}): {detail}", ta.dtype));
        }
    }
    let n = sa.tensors.len();
    if bad.is_empty() {
        (
            true,
            format!("{n} tensors within the rule"),
            max_abs,
            max_rel,
        )
    } else {
        (
            false,
            format!(
                "{} of {n} tensors outside the rule: {}",
                bad.len(),
                bad.join("; ")
            ),
            max_abs,
            max_rel,
        )
    }
}

/// Compares every file under `a` with the file at the same path under `b`, except those whose
/// relative path matches one of the `exclude` patterns (see [`pattern_matches`]): they are
/// listed as excluded and not compared. Files matching a `raw` layout are read as it says.
pub fn compare_dirs(
    a: &Path,
    b: &Path,
    tol: &Tolerance,
    exclude: &[String],
    raw: &[RawLayout],
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
            (Some(x), Some(y)) => compare_files(path, &x, &y, tol, raw),
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
mod tests;
