//! Input generators shared by the fuzz targets (included with `#[path]`).
//!
//! Everything is drawn from an [`Unstructured`] byte stream so that libFuzzer's
//! mutations map onto meaningful changes: a size, a kernel, a special value
//! (NaN, inf, 1e30, values just beyond the C `int` range, ...) at a chosen
//! position of a pixel map.

#![allow(dead_code)]

use std::sync::OnceLock;

use arbitrary::{Result, Unstructured};

/// Float64 values that have broken numerical code before.
pub const SPECIAL_F64: [f64; 22] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e30,
    -1e30,
    1e300,
    -1e300,
    f64::MAX,
    f64::MIN,
    3e9,
    -3e9,
    2147483647.0,
    -2147483648.0,
    2147483646.5,
    -2147483647.5,
    f64::MIN_POSITIVE,
    1e-300,
    -0.0,
    0.0,
    0.5,
    -0.5,
    4.5e15,
];

/// Float32 values that have broken numerical code before.
pub const SPECIAL_F32: [f32; 14] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    1e30,
    -1e30,
    f32::MAX,
    f32::MIN,
    f32::MIN_POSITIVE,
    1e-45,
    -0.0,
    0.0,
    1.0,
    -1.0,
    16777217.0,
];

/// A special f64 value.
pub fn special_f64(u: &mut Unstructured) -> Result<f64> {
    Ok(*u.choose(&SPECIAL_F64)?)
}

/// Any f64: raw bits, a special value, or a moderate number.
pub fn any_f64(u: &mut Unstructured) -> Result<f64> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => f64::from_bits(u.arbitrary()?),
        1 => special_f64(u)?,
        _ => moderate_f64(u, 100.0)?,
    })
}

/// A finite value in `[-scale, scale]`, quantized to 1/64 half of the time
/// (so that vertices land exactly on pixel edges and corners).
pub fn moderate_f64(u: &mut Unstructured, scale: f64) -> Result<f64> {
    let q: i32 = u.arbitrary()?;
    let t = q as f64 / i32::MAX as f64; // [-1, 1]
    let v = t * scale;
    Ok(if u.arbitrary::<bool>()? {
        (v * 64.0).round() / 64.0
    } else {
        v
    })
}

/// Any f32: raw bits, a special value, or a moderate number.
pub fn any_f32(u: &mut Unstructured) -> Result<f32> {
    Ok(match u.int_in_range(0u8..=3)? {
        0 => f32::from_bits(u.arbitrary()?),
        1 => *u.choose(&SPECIAL_F32)?,
        _ => (u.arbitrary::<i16>()? as f32) / 256.0,
    })
}

/// A non-negative (or NaN) f32 weight.
pub fn nonneg_f32(u: &mut Unstructured) -> Result<f32> {
    Ok(match u.int_in_range(0u8..=5)? {
        0 => f32::from_bits(u.arbitrary::<u32>()? & 0x7fff_ffff), // incl. +inf and NaN
        1 => 0.0,
        2 => 1.0,
        _ => (u.arbitrary::<u16>()? as f32) / 4096.0,
    })
}

/// A coefficient of an affine map, a multiple of 1/16 in `[-4, 4]`.
pub fn coef(u: &mut Unstructured) -> Result<f64> {
    Ok(u.int_in_range(-64i32..=64)? as f64 / 16.0)
}

/// How a pixel map is generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapKind {
    /// Non-degenerate affine map (`|det| >= 1/16`), orientation preserving
    /// or mirrored, possibly with NaN/inf/huge holes.
    Affine,
    /// Affine map plus a polynomial distortion and per-pixel jitter.
    Distorted,
    /// Every entry arbitrary.
    Arbitrary,
}

/// A pixel map `(ny, nx, 2)` as a flat row-major vector, how it was built, and
/// whether a hole with a *finite* special value (which distorts the map rather
/// than removing pixels) was put in.
pub fn pixmap(
    u: &mut Unstructured,
    ny: usize,
    nx: usize,
    out_ny: usize,
    out_nx: usize,
) -> Result<(Vec<f64>, MapKind, bool)> {
    let kind = match u.int_in_range(0u8..=7)? {
        0..=3 => MapKind::Affine,
        4..=5 => MapKind::Distorted,
        _ => MapKind::Arbitrary,
    };
    let mut m = vec![0.0f64; ny * nx * 2];
    // offsets around the output grid (may put the image partly or wholly off it)
    let span = (out_nx.max(out_ny) as f64 + 8.0).max(8.0);
    let x0 = moderate_f64(u, span)?;
    let y0 = moderate_f64(u, span)?;
    let (mut a, mut b, mut c, mut d) = (coef(u)?, coef(u)?, coef(u)?, coef(u)?);
    if (a * d - b * c).abs() < 1.0 / 16.0 {
        // keep the affine part non-degenerate: a rotation/scale/mirror
        let k = u.int_in_range(0u8..=3)?;
        (a, b, c, d) = match k {
            0 => (1.0, 0.0, 0.0, 1.0),
            1 => (-1.0, 0.0, 0.0, 1.0),
            2 => (0.0, 1.0, 1.0, 0.0),
            _ => (0.96875, -0.25, 0.25, 0.96875),
        };
    }
    match kind {
        MapKind::Affine | MapKind::Distorted => {
            let (q1, q2) = if kind == MapKind::Distorted {
                (moderate_f64(u, 0.01)?, moderate_f64(u, 0.01)?)
            } else {
                (0.0, 0.0)
            };
            let jitter = if kind == MapKind::Distorted {
                moderate_f64(u, 0.2)?
            } else {
                0.0
            };
            for j in 0..ny {
                for i in 0..nx {
                    let (fi, fj) = (i as f64, j as f64);
                    let k = 2 * (j * nx + i);
                    m[k] = x0 + a * fi + b * fj + q1 * fi * fj;
                    m[k + 1] = y0 + c * fi + d * fj + q2 * fi * fi;
                    if jitter != 0.0 {
                        let h = ((i * 7919 + j * 104_729) % 97) as f64 / 97.0 - 0.5;
                        m[k] += jitter * h;
                        m[k + 1] -= jitter * h;
                    }
                }
            }
        }
        MapKind::Arbitrary => {
            for v in m.iter_mut() {
                *v = any_f64(u)?;
            }
        }
    }
    // holes: NaN/inf/huge entries at arbitrary positions
    let nholes = u.int_in_range(0u8..=4)?;
    let mut finite_holes = false;
    if !m.is_empty() {
        for _ in 0..nholes {
            let k = u.int_in_range(0..=m.len() - 1)?;
            m[k] = special_f64(u)?;
            finite_holes |= m[k].is_finite();
        }
    }
    Ok((m, kind, finite_holes))
}

/// Dedicated thread pools (1 and 3 threads), built once per process.
pub fn pools() -> &'static (rayon::ThreadPool, rayon::ThreadPool) {
    static POOLS: OnceLock<(rayon::ThreadPool, rayon::ThreadPool)> = OnceLock::new();
    POOLS.get_or_init(|| {
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        (one, three)
    })
}

/// Bitwise equality of two f32 slices (NaN payloads included).
pub fn same_bits_f32(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}
