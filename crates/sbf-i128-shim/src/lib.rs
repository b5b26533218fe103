//! 128-bit integer libcalls for SBF programs built by `scripts/build-sbf.sh`.
//!
//! # Why this crate exists
//!
//! The SBF build uses Debian's rustc 1.96 for the front end and LLVM 23 (inside `sbpf-linker`)
//! for BPF code generation. The two disagree on how a 128-bit integer is *returned* on BPF:
//!
//! * rustc lowers `extern "C" fn(..) -> i128` (and the Rust ABI) on bpf with a hidden `sret`
//!   pointer, so the `compiler_builtins` versions of `__multi3`, `__udivti3`, ... that rustc
//!   compiles expect the caller to pass a pointer to the result slot;
//! * LLVM 23's BPF backend calls those same libcalls expecting the result *in registers*.
//!
//! Every `u128`/`i128` multiply or divide, and every overflow-checked `u64` multiply (which
//! LLVM widens to a 128-bit multiply, e.g. in `Rent::minimum_balance`), then calls a function
//! that writes its result through whatever happens to be in the first argument register:
//! silent memory corruption.
//!
//! Defining the libcalls with the `unadjusted` ABI makes rustc emit the plain LLVM signature
//! `i128 (i128, i128)`, which is exactly what LLVM's call sites expect. The definitions here
//! are strong symbols and win over the weak ones from `compiler_builtins`.
//!
//! # Layout
//!
//! The arithmetic is plain Rust on [`U128`] (two `u64` halves) and is compiled and unit-tested
//! on every target. It never uses 128-bit multiplication/division or overflow-checked `u64`
//! multiplication, since on bpf those would call back into these very functions. Only the thin
//! `extern "unadjusted"` wrappers are bpf-only.
//!
//! # Use
//!
//! ```toml
//! [target.'cfg(target_arch = "bpf")'.dependencies]
//! sbf-i128-shim = { path = "../../crates/sbf-i128-shim" }
//! ```
//! and in the program's `lib.rs`: `#[cfg(target_arch = "bpf")] use sbf_i128_shim as _;`
//!
//! Not covered: float <-> 128-bit conversions (`__fixdfti`, `__floattidf`, ...).
#![no_std]
#![cfg_attr(target_arch = "bpf", feature(abi_unadjusted))]
#![cfg_attr(target_arch = "bpf", allow(internal_features))]

/// A 128-bit value as two 64-bit halves (two's complement when read as signed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct U128 {
    pub lo: u64,
    pub hi: u64,
}

impl U128 {
    pub const ZERO: U128 = U128 { lo: 0, hi: 0 };

    #[inline(always)]
    pub const fn new(lo: u64, hi: u64) -> U128 {
        U128 { lo, hi }
    }

    /// Splits with constant shifts only (no libcall on any target).
    #[inline(always)]
    pub const fn from_u128(v: u128) -> U128 {
        U128 {
            lo: v as u64,
            hi: (v >> 64) as u64,
        }
    }

    #[inline(always)]
    pub const fn to_u128(self) -> u128 {
        ((self.hi as u128) << 64) | self.lo as u128
    }

    #[inline(always)]
    pub const fn from_i128(v: i128) -> U128 {
        U128::from_u128(v as u128)
    }

    #[inline(always)]
    pub const fn to_i128(self) -> i128 {
        self.to_u128() as i128
    }

    #[inline(always)]
    pub const fn is_zero(self) -> bool {
        self.lo == 0 && self.hi == 0
    }

    /// Sign bit when read as `i128`.
    #[inline(always)]
    pub const fn is_negative(self) -> bool {
        (self.hi as i64) < 0
    }
}

/// Unsigned `a < b`.
#[inline(always)]
pub const fn lt(a: U128, b: U128) -> bool {
    a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo)
}

/// Wrapping `a + b`.
#[inline(always)]
pub const fn add(a: U128, b: U128) -> U128 {
    let (lo, carry) = a.lo.overflowing_add(b.lo);
    U128::new(lo, a.hi.wrapping_add(b.hi).wrapping_add(carry as u64))
}

/// Wrapping `a - b`.
#[inline(always)]
pub const fn sub(a: U128, b: U128) -> U128 {
    let (lo, borrow) = a.lo.overflowing_sub(b.lo);
    U128::new(lo, a.hi.wrapping_sub(b.hi).wrapping_sub(borrow as u64))
}

/// Wrapping two's complement negation.
#[inline(always)]
pub const fn neg(a: U128) -> U128 {
    sub(U128::ZERO, a)
}

/// `|a|` of a signed value, as unsigned (`i128::MIN` gives 2^127).
#[inline(always)]
pub const fn unsigned_abs(a: U128) -> U128 {
    if a.is_negative() {
        neg(a)
    } else {
        a
    }
}

/// Full 64 x 64 -> 128-bit product from 32-bit pieces (only wrapping `u64` multiplies, which
/// are single BPF instructions; none of them can actually wrap).
#[inline(always)]
pub const fn mul_u64_wide(a: u64, b: u64) -> U128 {
    const M: u64 = 0xffff_ffff;
    let (a0, a1) = (a & M, a >> 32);
    let (b0, b1) = (b & M, b >> 32);
    let p00 = a0.wrapping_mul(b0);
    let p01 = a0.wrapping_mul(b1);
    let p10 = a1.wrapping_mul(b0);
    let p11 = a1.wrapping_mul(b1);
    // at most 3 * (2^32 - 1): no overflow
    let mid = (p00 >> 32) + (p01 & M) + (p10 & M);
    let lo = (p00 & M) | (mid << 32);
    let hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    U128::new(lo, hi)
}

/// Wrapping `a * b` (the same bits for signed and unsigned): `__multi3`.
#[inline(always)]
pub const fn mul(a: U128, b: U128) -> U128 {
    let p = mul_u64_wide(a.lo, b.lo);
    let cross =
        a.lo.wrapping_mul(b.hi)
            .wrapping_add(a.hi.wrapping_mul(b.lo));
    U128::new(p.lo, p.hi.wrapping_add(cross))
}

/// Unsigned `a * b` and whether it overflowed 128 bits.
pub const fn mul_overflowing_unsigned(a: U128, b: U128) -> (U128, bool) {
    if a.hi != 0 && b.hi != 0 {
        return (mul(a, b), true);
    }
    // at most one of the cross terms is non-zero
    let cross = if a.hi != 0 {
        mul_u64_wide(a.hi, b.lo)
    } else {
        mul_u64_wide(a.lo, b.hi)
    };
    let p = mul_u64_wide(a.lo, b.lo);
    let (hi, carry) = p.hi.overflowing_add(cross.lo);
    (U128::new(p.lo, hi), cross.hi != 0 || carry)
}

/// Signed `a * b` (wrapping) and whether it overflowed `i128`: `__muloti4`.
pub const fn mul_overflowing_signed(a: U128, b: U128) -> (U128, bool) {
    let (mag, overflow) = mul_overflowing_unsigned(unsigned_abs(a), unsigned_abs(b));
    let negative = a.is_negative() != b.is_negative();
    // |result| must be <= 2^127 - 1, or <= 2^127 when the result is negative
    let limit = if negative {
        U128::new(0, 1 << 63)
    } else {
        U128::new(u64::MAX, u64::MAX >> 1)
    };
    (mul(a, b), overflow || lt(limit, mag))
}

/// Number of leading zero bits of a non-zero `u64`, by binary search (no `ctlz`).
#[inline(always)]
const fn nlz(mut x: u64) -> u32 {
    let mut n = 0;
    if x >> 32 == 0 {
        n += 32;
        x <<= 32;
    }
    if x >> 48 == 0 {
        n += 16;
        x <<= 16;
    }
    if x >> 56 == 0 {
        n += 8;
        x <<= 8;
    }
    if x >> 60 == 0 {
        n += 4;
        x <<= 4;
    }
    if x >> 62 == 0 {
        n += 2;
        x <<= 2;
    }
    if x >> 63 == 0 {
        n += 1;
    }
    n
}

/// `(u1:u0) / v` and `(u1:u0) % v` for `u1 < v` (so the quotient fits in 64 bits), with 32-bit
/// digits (Hacker's Delight `divlu`, Knuth algorithm D with two digits).
const fn div_128_by_64(u1: u64, u0: u64, v: u64) -> (u64, u64) {
    const B: u64 = 1 << 32;
    const M: u64 = B - 1;
    let s = nlz(v);
    let v = v << s; // normalised: top bit set
    let (vn1, vn0) = (v >> 32, v & M);
    let un32 = if s == 0 {
        u1
    } else {
        (u1 << s) | (u0 >> (64 - s))
    };
    let un10 = u0 << s;
    let (un1, un0) = (un10 >> 32, un10 & M);

    let mut q1 = un32 / vn1;
    let mut rhat = un32 - q1.wrapping_mul(vn1);
    while q1 >= B || q1.wrapping_mul(vn0) > (rhat << 32) + un1 {
        q1 -= 1;
        rhat += vn1;
        if rhat >= B {
            break;
        }
    }
    // true value is < v, so the wrapping arithmetic gives it exactly
    let un21 = (un32 << 32)
        .wrapping_add(un1)
        .wrapping_sub(q1.wrapping_mul(v));

    let mut q0 = un21 / vn1;
    let mut rhat = un21 - q0.wrapping_mul(vn1);
    while q0 >= B || q0.wrapping_mul(vn0) > (rhat << 32) + un0 {
        q0 -= 1;
        rhat += vn1;
        if rhat >= B {
            break;
        }
    }
    let r = (un21 << 32)
        .wrapping_add(un0)
        .wrapping_sub(q0.wrapping_mul(v))
        >> s;
    ((q1 << 32) | q0, r)
}

/// Unsigned `(n / d, n % d)`: `__udivti3` / `__umodti3`.
///
/// # Panics
/// When `d` is zero (Rust checks for zero before calling the libcall, so on bpf this only
/// aborts a caller that bypassed the check).
pub const fn udivmod(n: U128, d: U128) -> (U128, U128) {
    if d.hi == 0 {
        if d.lo == 0 {
            panic!("sbf-i128-shim: 128-bit division by zero");
        }
        if n.hi < d.lo {
            let (q, r) = div_128_by_64(n.hi, n.lo, d.lo);
            return (U128::new(q, 0), U128::new(r, 0));
        }
        let (q_hi, r_hi) = (n.hi / d.lo, n.hi % d.lo);
        let (q_lo, r) = div_128_by_64(r_hi, n.lo, d.lo);
        return (U128::new(q_lo, q_hi), U128::new(r, 0));
    }
    if lt(n, d) {
        return (U128::ZERO, n);
    }
    // d >= 2^64, so the quotient is < 2^64. Estimate it from the top 64 bits of the
    // normalised divisor (Hacker's Delight, "unsigned doubleword division").
    let s = nlz(d.hi); // 0..=63
    let v1 = if s == 0 {
        d.hi
    } else {
        (d.hi << s) | (d.lo >> (64 - s))
    };
    // n >> 1 keeps the partial quotient within 64 bits (n1.hi < 2^63 <= v1)
    let n1 = U128::new((n.lo >> 1) | (n.hi << 63), n.hi >> 1);
    let (q1, _) = div_128_by_64(n1.hi, n1.lo, v1);
    // undo the normalisation and the halving: q0 = (q1 << s) >> 63
    let mut q0 = q1 >> (63 - s);
    // q0 is now the quotient or one too large; make it correct or one too small
    q0 = q0.saturating_sub(1);
    let mut r = sub(n, mul(U128::new(q0, 0), d));
    if !lt(r, d) {
        q0 += 1;
        r = sub(r, d);
    }
    (U128::new(q0, 0), r)
}

/// Signed `(n / d, n % d)` truncating toward zero, wrapping for `i128::MIN / -1`:
/// `__divti3` / `__modti3`.
///
/// # Panics
/// When `d` is zero.
pub const fn idivmod(n: U128, d: U128) -> (U128, U128) {
    let (q, r) = udivmod(unsigned_abs(n), unsigned_abs(d));
    let q = if n.is_negative() != d.is_negative() {
        neg(q)
    } else {
        q
    };
    let r = if n.is_negative() { neg(r) } else { r };
    (q, r)
}

/// `a << (s mod 128)`: `__ashlti3`.
#[inline(always)]
pub const fn shl(a: U128, s: u32) -> U128 {
    let s = s & 127;
    if s == 0 {
        a
    } else if s >= 64 {
        U128::new(0, a.lo << (s - 64))
    } else {
        U128::new(a.lo << s, (a.hi << s) | (a.lo >> (64 - s)))
    }
}

/// Logical `a >> (s mod 128)`: `__lshrti3`.
#[inline(always)]
pub const fn lshr(a: U128, s: u32) -> U128 {
    let s = s & 127;
    if s == 0 {
        a
    } else if s >= 64 {
        U128::new(a.hi >> (s - 64), 0)
    } else {
        U128::new((a.lo >> s) | (a.hi << (64 - s)), a.hi >> s)
    }
}

/// Arithmetic `a >> (s mod 128)`: `__ashrti3`.
#[inline(always)]
pub const fn ashr(a: U128, s: u32) -> U128 {
    let s = s & 127;
    let hi = a.hi as i64;
    if s == 0 {
        a
    } else if s >= 64 {
        U128::new((hi >> (s - 64)) as u64, (hi >> 63) as u64)
    } else {
        U128::new((a.lo >> s) | (a.hi << (64 - s)), (hi >> s) as u64)
    }
}

/// The libcalls LLVM 23 emits for 128-bit arithmetic on bpf, with the register-return
/// convention it expects (`unadjusted` = plain LLVM types, no sret pointer).
#[cfg(target_arch = "bpf")]
mod libcalls {
    use super::*;

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __multi3(a: i128, b: i128) -> i128 {
        mul(U128::from_i128(a), U128::from_i128(b)).to_i128()
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __udivti3(n: u128, d: u128) -> u128 {
        udivmod(U128::from_u128(n), U128::from_u128(d)).0.to_u128()
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __umodti3(n: u128, d: u128) -> u128 {
        udivmod(U128::from_u128(n), U128::from_u128(d)).1.to_u128()
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __divti3(n: i128, d: i128) -> i128 {
        idivmod(U128::from_i128(n), U128::from_i128(d)).0.to_i128()
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __modti3(n: i128, d: i128) -> i128 {
        idivmod(U128::from_i128(n), U128::from_i128(d)).1.to_i128()
    }

    /// # Safety
    /// `overflow` must be valid for a 4-byte write (LLVM passes a stack slot).
    #[unsafe(no_mangle)]
    pub unsafe extern "unadjusted" fn __muloti4(a: i128, b: i128, overflow: *mut i32) -> i128 {
        let (p, o) = mul_overflowing_signed(U128::from_i128(a), U128::from_i128(b));
        // SAFETY: see above
        unsafe { *overflow = o as i32 };
        p.to_i128()
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __ashlti3(a: i128, s: i32) -> i128 {
        shl(U128::from_i128(a), s as u32).to_i128()
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __lshrti3(a: u128, s: i32) -> u128 {
        lshr(U128::from_u128(a), s as u32).to_u128()
    }

    #[unsafe(no_mangle)]
    pub extern "unadjusted" fn __ashrti3(a: i128, s: i32) -> i128 {
        ashr(U128::from_i128(a), s as u32).to_i128()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// xorshift64*, deterministic
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// values of all magnitudes, biased toward the interesting shapes
        fn value(&mut self) -> u128 {
            let x = self.next();
            let y = self.next();
            match self.next() % 8 {
                0 => x as u128,
                1 => (x % 1000) as u128,
                2 => ((y as u128) << 64) | x as u128,
                3 => (((y >> (x % 64)) as u128) << 64) | x as u128,
                4 => u128::MAX >> (x % 128),
                5 => (1u128 << (x % 128))
                    .wrapping_add((y % 3) as u128)
                    .wrapping_sub(1),
                6 => (x as u128) << 32, // mid-range, stresses the 32-bit digit loop
                _ => (x as u128).wrapping_neg(), // negative when signed
            }
        }
    }

    fn edge_values() -> Vec<u128> {
        let mut v = Vec::new();
        for base in [
            0u128,
            1,
            2,
            3,
            7,
            10,
            1000,
            u32::MAX as u128,
            1 << 32,
            u64::MAX as u128,
            1 << 64,
            (1 << 64) + 1,
            (u64::MAX as u128) << 32,
            (u64::MAX as u128) << 64,
            1 << 96,
            1 << 126,
            i128::MAX as u128,
            i128::MIN as u128,
            u128::MAX,
            0x8000_0000_0000_0000_0000_0000_0000_0001,
            0x0000_0000_ffff_ffff_ffff_ffff_0000_0000,
            0x1234_5678_9abc_def0_0fed_cba9_8765_4321,
        ] {
            v.push(base);
            v.push(base.wrapping_sub(1));
            v.push(base.wrapping_add(1));
            v.push(base.wrapping_neg());
        }
        v
    }

    fn check_pair(a: u128, b: u128) {
        let (ua, ub) = (U128::from_u128(a), U128::from_u128(b));
        let (ia, ib) = (a as i128, b as i128);

        assert_eq!(
            mul(ua, ub).to_u128(),
            a.wrapping_mul(b),
            "mul {a:#x} {b:#x}"
        );
        let (p, o) = mul_overflowing_unsigned(ua, ub);
        assert_eq!(
            (p.to_u128(), o),
            a.overflowing_mul(b),
            "umulo {a:#x} {b:#x}"
        );
        let (p, o) = mul_overflowing_signed(ua, ub);
        assert_eq!((p.to_i128(), o), ia.overflowing_mul(ib), "smulo {ia} {ib}");
        assert_eq!(add(ua, ub).to_u128(), a.wrapping_add(b));
        assert_eq!(sub(ua, ub).to_u128(), a.wrapping_sub(b));
        assert_eq!(lt(ua, ub), a < b);

        if let (Some(nq), Some(nr)) = (a.checked_div(b), a.checked_rem(b)) {
            let (q, r) = udivmod(ua, ub);
            assert_eq!(
                (q.to_u128(), r.to_u128()),
                (nq, nr),
                "udivmod {a:#x} {b:#x}"
            );
            let (q, r) = idivmod(ua, ub);
            assert_eq!(
                (q.to_i128(), r.to_i128()),
                (ia.wrapping_div(ib), ia.wrapping_rem(ib)),
                "idivmod {ia} {ib}"
            );
        }

        let s = (b % 128) as u32;
        assert_eq!(shl(ua, s).to_u128(), a << s);
        assert_eq!(lshr(ua, s).to_u128(), a >> s);
        assert_eq!(ashr(ua, s).to_i128(), ia >> s);
    }

    #[test]
    fn edge_cases_match_native() {
        let edges = edge_values();
        for &a in &edges {
            for &b in &edges {
                check_pair(a, b);
            }
        }
    }

    #[test]
    fn pseudo_random_values_match_native() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..50_000 {
            let (a, b) = (rng.value(), rng.value());
            check_pair(a, b);
            check_pair(b, a);
        }
    }

    #[test]
    fn all_shift_amounts() {
        let mut rng = Rng(42);
        for _ in 0..64 {
            let a = rng.value();
            let ua = U128::from_u128(a);
            for s in 0..256u32 {
                let m = s % 128;
                assert_eq!(shl(ua, s).to_u128(), a << m);
                assert_eq!(lshr(ua, s).to_u128(), a >> m);
                assert_eq!(ashr(ua, s).to_i128(), (a as i128) >> m);
            }
        }
    }

    #[test]
    fn wide_u64_multiply_and_division_by_u64() {
        let mut rng = Rng(7);
        for _ in 0..20_000 {
            let (a, b) = (rng.next(), rng.next());
            assert_eq!(mul_u64_wide(a, b).to_u128(), a as u128 * b as u128);
            let d = rng.next() >> (rng.next() % 64);
            if let Some(hi) = rng.next().checked_rem(d) {
                let lo = rng.next();
                let n = ((hi as u128) << 64) | lo as u128;
                let (q, r) = div_128_by_64(hi, lo, d);
                assert_eq!((q as u128, r as u128), (n / d as u128, n % d as u128));
            }
        }
    }

    #[test]
    fn nlz_matches_leading_zeros() {
        for s in 0..64 {
            let x = 1u64 << s;
            assert_eq!(nlz(x), x.leading_zeros());
            assert_eq!(nlz(x | 1), (x | 1).leading_zeros());
            assert_eq!(nlz(u64::MAX >> s), s);
        }
    }

    #[test]
    #[should_panic(expected = "division by zero")]
    fn division_by_zero_panics() {
        udivmod(U128::new(1, 0), U128::ZERO);
    }
}
