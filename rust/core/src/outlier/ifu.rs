//! IFU-mode primitives (`jwst.outlier_detection.ifu.flag_outliers`, spec
//! §4.5): neighbour differences across the dispersion direction, their
//! minimum over exposures, normalisation by a local median, percentile cut.

use ndarray::{Array2, ArrayBase, ArrayView2, Data, Dimension};
use rayon::prelude::*;

use super::filters::medfilt;
use crate::median::network::{median_of, min_of, select};
use crate::median::Real;
use crate::{Error, Result};

/// DQ bit DO_NOT_USE.
pub const DO_NOT_USE: u32 = 1;

/// `numpy.fmin`: the non-NaN one of two values, NaN when both are.
#[inline(always)]
fn fmin(a: f64, b: f64) -> f64 {
    if a.is_nan() {
        b
    } else if b.is_nan() || a <= b {
        a
    } else {
        b
    }
}

/// Value of `sci` at `(y, x)` in float64, NaN where `dq` has DO_NOT_USE.
#[inline(always)]
fn val<T: Real>(
    sci: &ArrayView2<'_, T>,
    dq: Option<&ArrayView2<'_, u32>>,
    y: usize,
    x: usize,
) -> f64 {
    match dq {
        Some(d) if d[[y, x]] & DO_NOT_USE != 0 => f64::NAN,
        _ => sci[[y, x]].to_f64(),
    }
}

/// Neighbour difference of one row into `out` (fmin-combined with what is
/// there when `combine`).
fn diff_row<T: Real>(
    sci: &ArrayView2<'_, T>,
    dq: Option<&ArrayView2<'_, u32>>,
    axis: usize,
    y: usize,
    out: &mut [f64],
    combine: bool,
) {
    let (ny, nx) = sci.dim();
    for (x, o) in out.iter_mut().enumerate().take(nx) {
        let c = val(sci, dq, y, x);
        let (prev, next) = if axis == 1 {
            (
                if x > 0 { val(sci, dq, y, x - 1) } else { 0.0 },
                if x + 1 < nx {
                    val(sci, dq, y, x + 1)
                } else {
                    0.0
                },
            )
        } else {
            (
                if y > 0 { val(sci, dq, y - 1, x) } else { 0.0 },
                if y + 1 < ny {
                    val(sci, dq, y + 1, x)
                } else {
                    0.0
                },
            )
        };
        let d = fmin((c - prev).abs(), (c - next).abs());
        *o = if combine { fmin(*o, d) } else { d };
    }
}

/// Minimum over exposures of the neighbour differences of one detector
/// (`minarr` of `jwst.outlier_detection.ifu.flag_outliers`), in float64.
///
/// For each frame, pixels with DO_NOT_USE in the matching `dqs` entry are
/// NaN; along `axis` (1: left/right neighbours, MIRI; 0: above/below,
/// NIRSpec) `L = s[k] - s[k-1]` and `R = s[k] - s[k+1]` with `s[-1] = s[n] = 0`,
/// and the frame's difference is `fmin(|L|, |R|)`. The result is the
/// `fmin` over frames (NaN only where every frame gives NaN). A single frame
/// gives that frame's difference (`diffarr[j]`). The inputs are not modified.
pub fn min_neighbour_diff<T: Real>(
    frames: &[ArrayView2<'_, T>],
    dqs: Option<&[ArrayView2<'_, u32>]>,
    axis: usize,
) -> Result<Array2<f64>> {
    if axis > 1 {
        return Err(Error::value(format!("diffaxis must be 0 or 1, got {axis}")));
    }
    let first = frames
        .first()
        .ok_or_else(|| Error::value("at least one frame is required"))?;
    let (ny, nx) = first.dim();
    for (k, f) in frames.iter().enumerate() {
        if f.dim() != (ny, nx) {
            return Err(Error::shape(format!(
                "frame {k} has shape {:?}, expected {:?}",
                f.dim(),
                (ny, nx)
            )));
        }
    }
    if let Some(d) = dqs {
        if d.len() != frames.len() {
            return Err(Error::value(format!(
                "{} dq arrays for {} frames",
                d.len(),
                frames.len()
            )));
        }
        for (k, q) in d.iter().enumerate() {
            if q.dim() != (ny, nx) {
                return Err(Error::shape(format!(
                    "dq {k} has shape {:?}, expected {:?}",
                    q.dim(),
                    (ny, nx)
                )));
            }
        }
    }
    let mut out = crate::median::try_array2(ny, nx, f64::NAN, "the minimum difference")?;
    if ny == 0 || nx == 0 {
        return Ok(out);
    }
    let out_s = out
        .as_slice_mut()
        .ok_or_else(|| Error::value("internal: output not contiguous"))?;
    crate::parallel::install(|| {
        out_s.par_chunks_mut(nx).enumerate().for_each(|(y, o)| {
            for (k, f) in frames.iter().enumerate() {
                let dq = dqs.and_then(|d| d.get(k));
                diff_row(f, dq, axis, y, o, k > 0);
            }
        });
    });
    Ok(out)
}

/// `numpy.nanmedian` over all elements (NaN when there is none).
pub fn nanmedian_all<T: Real, S: Data<Elem = T>, D: Dimension>(a: &ArrayBase<S, D>) -> T {
    let mut v: Vec<T> = a.iter().copied().filter(|x| !x.is_nan()).collect();
    median_of(&mut v)
}

/// `numpy.nanpercentile(a, q)` over all elements with the default linear
/// method, operation for operation (virtual index `(n-1)·q/100`, numpy's
/// `_lerp`). NaN when every element is NaN; `q` outside `[0, 100]` is an
/// error.
pub fn nanpercentile<T: Real, S: Data<Elem = T>, D: Dimension>(
    a: &ArrayBase<S, D>,
    q: f64,
) -> Result<T> {
    if !(0.0..=100.0).contains(&q) {
        return Err(Error::value(format!(
            "Percentiles must be in the range [0, 100], got {q}"
        )));
    }
    let mut v: Vec<T> = a.iter().copied().filter(|x| !x.is_nan()).collect();
    Ok(percentile_of(&mut v, q))
}

/// Linear percentile of the NaN-free `v` (reordered).
fn percentile_of<T: Real>(v: &mut [T], q: f64) -> T {
    let n = v.len();
    if n == 0 {
        return T::NAN;
    }
    let qf = q / 100.0;
    let vi = (n - 1) as f64 * qf;
    let (prev, next, prev_f) = if vi >= (n - 1) as f64 {
        (n - 1, n - 1, -1.0)
    } else if vi < 0.0 {
        (0, 0, 0.0)
    } else {
        let p = vi.floor();
        (p as usize, p as usize + 1, p)
    };
    let gamma = vi - prev_f;
    let a = select(v, prev);
    let b = if next == prev {
        a
    } else {
        min_of(&v[prev + 1..])
    };
    let diff = b - a;
    let t = T::from_f64(gamma);
    if gamma >= 0.5 {
        b - diff * T::from_f64(1.0 - gamma)
    } else {
        a + diff * t
    }
}

/// Result of [`ifu_flag`].
#[derive(Debug, Clone)]
pub struct IfuFlags {
    /// Pixels flagged as outliers (`minnorm > pct`).
    pub mask: Array2<bool>,
    /// Local median of `minarr`, floored at `nfloor`.
    pub normarr: Array2<f64>,
    /// `minarr / normarr`.
    pub minnorm: Array2<f64>,
    /// The `threshold_percent` percentile of the central `minnorm`.
    pub pct: f64,
    /// `nanmedian(minarr) / 3`.
    pub nfloor: f64,
}

/// Normalisation and percentile cut of the IFU mode.
///
/// `normarr = medfilt(minarr, kernel)` (zero padding, [`medfilt`]), raised
/// to `nfloor = nanmedian(minarr) / 3` where smaller (NaN stays NaN);
/// `minnorm = minarr / normarr`; `pct` is the linear `threshold_percent`
/// percentile of `minnorm[4:ny-4, 4:nx-4]` (NaN when that box is empty or
/// all-NaN, and then nothing is flagged); `mask = minnorm > pct` over the
/// whole frame. Kernel sizes must be odd (the step raises even ones by 1).
pub fn ifu_flag(
    minarr: ArrayView2<'_, f64>,
    kernel: (usize, usize),
    threshold_percent: f64,
) -> Result<IfuFlags> {
    if kernel.0.is_multiple_of(2) || kernel.1.is_multiple_of(2) {
        return Err(Error::value(format!(
            "kernel sizes must be odd, got ({}, {}); the step increases an even size by 1",
            kernel.0, kernel.1
        )));
    }
    if !(0.0..=100.0).contains(&threshold_percent) {
        return Err(Error::value(format!(
            "threshold_percent must be in the range [0, 100], got {threshold_percent}"
        )));
    }
    let (ny, nx) = minarr.dim();
    let filtered = medfilt(minarr.into_dyn(), &[kernel.0, kernel.1])?;
    let mut normarr = filtered
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|e| Error::shape(e.to_string()))?;
    let nfloor = nanmedian_all(&minarr) / 3.0;
    normarr.mapv_inplace(|v| if v < nfloor { nfloor } else { v });
    let mut minnorm = minarr.to_owned();
    ndarray::Zip::from(&mut minnorm)
        .and(&normarr)
        .for_each(|m, &n| *m /= n);
    let pct = if ny > 8 && nx > 8 {
        let central = minnorm.slice(ndarray::s![4..ny - 4, 4..nx - 4]);
        let mut v: Vec<f64> = central.iter().copied().filter(|x| !x.is_nan()).collect();
        percentile_of(&mut v, threshold_percent)
    } else {
        f64::NAN
    };
    let mask = minnorm.mapv(|v| v > pct);
    Ok(IfuFlags {
        mask,
        normarr,
        minnorm,
        pct,
        nfloor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    #[test]
    fn neighbour_difference_rules() {
        let sci = array![[1.0f32, 4.0, f32::NAN, 10.0]];
        let d = min_neighbour_diff(&[sci.view()], None, 1).unwrap();
        // x=0: |1-0|=1, |1-4|=3 -> 1; x=1: |4-1|=3, NaN -> 3; x=2: NaN, NaN -> NaN;
        // x=3: NaN, |10-0| = 10 -> 10.
        assert_eq!(d[[0, 0]], 1.0);
        assert_eq!(d[[0, 1]], 3.0);
        assert!(d[[0, 2]].is_nan());
        assert_eq!(d[[0, 3]], 10.0);
        let dq = array![[0u32, 0, 0, 1]];
        let d = min_neighbour_diff(&[sci.view()], Some(&[dq.view()]), 1).unwrap();
        assert!(d[[0, 3]].is_nan());
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        let a = Array1::from(vec![1.0f64, 2.0, 3.0, 4.0, f64::NAN]);
        assert_eq!(nanpercentile(&a, 50.0).unwrap(), 2.5);
        assert_eq!(nanpercentile(&a, 100.0).unwrap(), 4.0);
        assert_eq!(nanpercentile(&a, 0.0).unwrap(), 1.0);
        assert_eq!(nanpercentile(&a, 75.0).unwrap(), 3.25);
        assert!(nanpercentile(&a, 101.0).is_err());
        let e = Array1::from(vec![f64::NAN]);
        assert!(nanpercentile(&e, 10.0).unwrap().is_nan());
    }
}
