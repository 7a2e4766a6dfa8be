//! Derivative image and the single- and two-threshold outlier tests
//! (spec `outlier_detection.md` §5.7–5.9).

use ndarray::{Array2, Array3, ArrayD, ArrayView2, ArrayView3, ArrayViewD, Axis, IxDyn, Zip};
use rayon::prelude::*;

use crate::median::Real;
use crate::{Error, Result};

/// Derivative of one row: `out[x]` for row `cur`, with the rows above and
/// below when they exist (see [`abs_deriv`]).
#[inline]
fn deriv_row<T: Real>(up: Option<&[T]>, cur: &[T], down: Option<&[T]>, out: &mut [T]) {
    let nx = cur.len();
    for x in 0..nx.min(out.len()) {
        let c = cur[x];
        if c.is_nan() {
            out[x] = T::NAN;
            continue;
        }
        let mut d = T::ZERO;
        // The difference with the row above counts only when finite (an
        // infinite one is skipped); the other three count unless NaN.
        if let Some(u) = up {
            let t = (c - u[x]).abs();
            if t.is_finite() {
                d = t;
            }
        }
        if let Some(dn) = down {
            let t = (dn[x] - c).abs();
            if t > d {
                d = t;
            }
        }
        if x > 0 {
            let t = (c - cur[x - 1]).abs();
            if t > d {
                d = t;
            }
        }
        if x + 1 < nx {
            let t = (cur[x + 1] - c).abs();
            if t > d {
                d = t;
            }
        }
        out[x] = d;
    }
}

/// Contiguous copy of a 2-D view (borrowed when already C-contiguous).
fn standard<'a, T: Real>(a: &'a ArrayView2<'_, T>) -> std::borrow::Cow<'a, [T]> {
    match a.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(a.iter().copied().collect()),
    }
}

fn rows_of<T>(s: &[T], nx: usize, y: usize) -> &[T] {
    &s[y * nx..(y + 1) * nx]
}

/// Absolute derivative image (`stcal.outlier_detection.utils._abs_deriv`).
///
/// `D[p]` is NaN where `B[p]` is NaN; otherwise the largest `|B[p] - B[q]|`
/// over the 4-connected neighbours `q` that exist, where a NaN difference
/// never counts and an infinite difference with the row above does not
/// count either (the reference's `isfinite` mask on that one term); 0 when
/// nothing counts. Computed in `T`. Parallel over rows, bitwise identical for
/// any thread count.
pub fn abs_deriv<T: Real>(b: ArrayView2<'_, T>) -> Result<Array2<T>> {
    let (ny, nx) = b.dim();
    let mut out = crate::median::try_array2(ny, nx, T::ZERO, "the derivative image")?;
    if ny == 0 || nx == 0 {
        return Ok(out);
    }
    let bs = standard(&b);
    let bs: &[T] = &bs;
    let out_s = out
        .as_slice_mut()
        .ok_or_else(|| Error::value("internal: output not contiguous"))?;
    crate::parallel::install(|| {
        out_s.par_chunks_mut(nx).enumerate().for_each(|(y, o)| {
            let up = (y > 0).then(|| rows_of(bs, nx, y - 1));
            let down = (y + 1 < ny).then(|| rows_of(bs, nx, y + 1));
            deriv_row(up, rows_of(bs, nx, y), down, o);
        });
    });
    Ok(out)
}

/// Shape that numpy's broadcasting rules give for `shapes`.
pub(crate) fn broadcast_shape(shapes: &[&[usize]]) -> Result<Vec<usize>> {
    let nd = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1usize; nd];
    for s in shapes {
        let off = nd - s.len();
        for (i, &d) in s.iter().enumerate() {
            let o = &mut out[off + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return Err(Error::shape(format!(
                    "operands could not be broadcast together with shapes {:?}",
                    shapes
                )));
            }
        }
    }
    Ok(out)
}

/// Broadcast `a` to `shape` (at most 3 dimensions) and view it as 3-D.
fn as3<'a, T>(a: &'a ArrayViewD<'_, T>, shape: &[usize]) -> Result<ArrayView3<'a, T>> {
    let mut sh3 = vec![1usize; 3 - shape.len()];
    sh3.extend_from_slice(shape);
    let b = a.broadcast(IxDyn(shape)).ok_or_else(|| {
        Error::shape(format!(
            "cannot broadcast shape {:?} to {:?}",
            a.shape(),
            shape
        ))
    })?;
    let mut b = b;
    while b.ndim() < 3 {
        b.insert_axis_inplace(Axis(0));
    }
    b.into_dimensionality::<ndarray::Ix3>()
        .map_err(|e| Error::shape(e.to_string()))
}

/// Single-threshold test (`stcal.outlier_detection.utils.flag_crs`):
/// `|S - M| > snr * nan_to_num(E)`, with numpy's broadcasting of the three
/// arrays (at most 3 dimensions, e.g. a 2-D median against a cube).
///
/// Types follow numpy: the difference is computed in `f64` when `S` or `M`
/// is `f64` and in `f32` otherwise; the threshold is computed in `E`'s type
/// with `snr` cast to it (a Python float is "weak"). NaN in `S` or `M`
/// never flags; a NaN error counts as 0 (spec §12, Q11: any nonzero
/// difference flags). Bitwise identical for any thread count.
pub fn flag_crs<S: Real, E: Real, M: Real>(
    sci: ArrayViewD<'_, S>,
    err: ArrayViewD<'_, E>,
    median: ArrayViewD<'_, M>,
    snr: f64,
) -> Result<ArrayD<bool>> {
    let shape = broadcast_shape(&[sci.shape(), err.shape(), median.shape()])?;
    if shape.len() > 3 {
        return Err(Error::shape(format!(
            "flag_crs supports at most 3 dimensions, got shape {shape:?}"
        )));
    }
    let s3 = as3(&sci, &shape)?;
    let e3 = as3(&err, &shape)?;
    let m3 = as3(&median, &shape)?;
    let (d0, d1, d2) = s3.dim();
    let len = d0
        .checked_mul(d1)
        .and_then(|v| v.checked_mul(d2))
        .ok_or_else(|| Error::Memory(format!("broadcast shape {shape:?} is too large")))?;
    let buf = crate::median::try_filled(len, false, "the outlier mask")?;
    let mut out =
        Array3::from_shape_vec((d0, d1, d2), buf).map_err(|e| Error::shape(e.to_string()))?;
    let snr_e = E::from_f64(snr);
    crate::parallel::install(|| {
        Zip::from(&mut out)
            .and(&s3)
            .and(&e3)
            .and(&m3)
            .par_for_each(|o, &s, &e, &m| {
                let d = if S::WIDE || M::WIDE {
                    (s.to_f64() - m.to_f64()).abs()
                } else {
                    (s.to_f32() - m.to_f32()).abs() as f64
                };
                let t = (snr_e * e.nan_to_num()).to_f64();
                *o = d > t;
            });
    });
    out.into_shape_with_order(IxDyn(&shape))
        .map_err(|e| Error::shape(e.to_string()))
}

/// Parameters of [`flag_resampled_crs`] (the step's `snr` and `scale`
/// pairs and the background level).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResampledCrParams {
    /// Signal-to-noise threshold of the primary test.
    pub snr1: f64,
    /// Signal-to-noise threshold of the secondary test.
    pub snr2: f64,
    /// Derivative scale of the primary test.
    pub scale1: f64,
    /// Derivative scale of the secondary test.
    pub scale2: f64,
    /// Background added to the blot before comparing.
    pub backg: f64,
}

impl Default for ResampledCrParams {
    /// The step defaults: `snr = "5.0 4.0"`, `scale = "1.2 0.7"`, `backg = 0`.
    fn default() -> Self {
        ResampledCrParams {
            snr1: 5.0,
            snr2: 4.0,
            scale1: 1.2,
            scale2: 0.7,
            backg: 0.0,
        }
    }
}

/// Two-threshold test against a blotted median
/// (`stcal.outlier_detection.utils.flag_resampled_crs`).
///
/// With `e = nan_to_num(E)`, `D = abs_deriv(B)` and
/// `diff = |S - B - backg|`, all in `T` with the parameters cast to `T`:
/// `m1 = diff > scale1*D + snr1*e`, `m2 = diff > scale2*D + snr2*e`, and the
/// result is `dilate3x3(m1) & m2` (a pixel is flagged when it passes the
/// secondary test and it or one of its 8 neighbours passes the primary one).
/// All arrays must have the same 2-D shape. Row strips with a halo; bitwise
/// identical for any thread count.
pub fn flag_resampled_crs<T: Real>(
    sci: ArrayView2<'_, T>,
    err: ArrayView2<'_, T>,
    blot: ArrayView2<'_, T>,
    p: &ResampledCrParams,
) -> Result<Array2<bool>> {
    let (ny, nx) = blot.dim();
    if sci.dim() != (ny, nx) || err.dim() != (ny, nx) {
        return Err(Error::shape(format!(
            "sci_data {:?}, sci_err {:?} and blot_data {:?} must have the same shape",
            sci.dim(),
            err.dim(),
            blot.dim()
        )));
    }
    let mut out = crate::median::try_array2(ny, nx, false, "the outlier mask")?;
    if ny == 0 || nx == 0 {
        return Ok(out);
    }
    let (snr1, snr2) = (T::from_f64(p.snr1), T::from_f64(p.snr2));
    let (scale1, scale2) = (T::from_f64(p.scale1), T::from_f64(p.scale2));
    let backg = T::from_f64(p.backg);
    let bs = standard(&blot);
    let ss = standard(&sci);
    let es = standard(&err);
    let (bs, ss, es): (&[T], &[T], &[T]) = (&bs, &ss, &es);
    let len = ny * nx;
    let mut m1 = crate::median::try_filled(len, false, "the primary mask")?;
    let mut m2 = crate::median::try_filled(len, false, "the secondary mask")?;
    let out_s = out
        .as_slice_mut()
        .ok_or_else(|| Error::value("internal: output not contiguous"))?;
    crate::parallel::install(|| {
        m1.par_chunks_mut(nx)
            .zip(m2.par_chunks_mut(nx))
            .enumerate()
            .for_each_init(
                || vec![T::ZERO; nx],
                |deriv, (y, (r1, r2))| {
                    let up = (y > 0).then(|| rows_of(bs, nx, y - 1));
                    let down = (y + 1 < ny).then(|| rows_of(bs, nx, y + 1));
                    let b = rows_of(bs, nx, y);
                    deriv_row(up, b, down, deriv);
                    let s = rows_of(ss, nx, y);
                    let e = rows_of(es, nx, y);
                    for x in 0..nx {
                        let diff = (s[x] - b[x] - backg).abs();
                        let en = e[x].nan_to_num();
                        let d = deriv[x];
                        let t1 = scale1 * d + snr1 * en;
                        let t2 = scale2 * d + snr2 * en;
                        r1[x] = diff > t1;
                        r2[x] = diff > t2;
                    }
                },
            );
        let (m1, m2): (&[bool], &[bool]) = (&m1, &m2);
        out_s.par_chunks_mut(nx).enumerate().for_each(|(y, o)| {
            let y0 = y.saturating_sub(1);
            let y1 = (y + 1).min(ny - 1);
            let r2 = rows_of(m2, nx, y);
            for x in 0..nx {
                if !r2[x] {
                    continue;
                }
                let x0 = x.saturating_sub(1);
                let x1 = (x + 1).min(nx - 1);
                let mut hit = false;
                for yy in y0..=y1 {
                    let r1 = rows_of(m1, nx, yy);
                    hit |= r1[x0..=x1].iter().any(|&v| v);
                }
                o[x] = hit;
            }
        });
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn abs_deriv_of_a_ramp_is_the_row_step() {
        let (ny, nx) = (7usize, 11usize);
        let a = Array2::from_shape_fn((ny, nx), |(y, x)| (y * nx + x) as f32);
        let d = abs_deriv(a.view()).unwrap();
        assert!(d.iter().all(|&v| v == nx as f32));
    }

    #[test]
    fn abs_deriv_nan_and_inf_rules() {
        let a = array![
            [1.0f32, f32::NAN, 1.0],
            [1.0, 1.0, 1.0],
            [f32::INFINITY, 1.0, 1.0]
        ];
        let d = abs_deriv(a.view()).unwrap();
        assert!(d[[0, 1]].is_nan());
        assert_eq!(d.iter().filter(|v| v.is_nan()).count(), 1);
        // (1,0): the infinite difference with the row below counts.
        assert_eq!(d[[1, 0]], f32::INFINITY);
        // (2,0) is inf: the difference with the row above (inf) is skipped,
        // the one with its right neighbour is inf.
        assert_eq!(d[[2, 0]], f32::INFINITY);
        // (0,0): only finite neighbours; its right neighbour is NaN.
        assert_eq!(d[[0, 0]], 0.0);
    }

    #[test]
    fn flag_crs_broadcasts_a_median_over_a_cube() {
        let sci = Array3::<f32>::zeros((2, 3, 3));
        let mut sci = sci;
        sci[[1, 2, 0]] = 10.0;
        let err = Array3::<f32>::ones((2, 3, 3));
        let med = Array2::<f32>::zeros((3, 3));
        let m = flag_crs(
            sci.view().into_dyn(),
            err.view().into_dyn(),
            med.view().into_dyn(),
            1.0,
        )
        .unwrap();
        assert_eq!(m.shape(), &[2, 3, 3]);
        assert_eq!(m.iter().filter(|&&v| v).count(), 1);
        assert!(m[[1, 2, 0]]);
    }

    #[test]
    fn flag_crs_nan_error_counts_as_zero() {
        let sci = array![[1.0f32, 0.0]];
        let err = array![[f32::NAN, f32::NAN]];
        let med = array![[0.0f32, f32::NAN]];
        let m = flag_crs(
            sci.view().into_dyn(),
            err.view().into_dyn(),
            med.view().into_dyn(),
            5.0,
        )
        .unwrap();
        assert_eq!(m.iter().copied().collect::<Vec<_>>(), vec![true, false]);
    }

    #[test]
    fn flag_resampled_crs_flags_only_the_spike() {
        let mut sci = Array2::<f32>::zeros((10, 10));
        sci[[2, 3]] = 10.0;
        let err = Array2::<f32>::ones((10, 10));
        let blot = Array2::<f32>::zeros((10, 10));
        let m = flag_resampled_crs(
            sci.view(),
            err.view(),
            blot.view(),
            &ResampledCrParams::default(),
        )
        .unwrap();
        assert_eq!(m.iter().filter(|&&v| v).count(), 1);
        assert!(m[[2, 3]]);
    }

    #[test]
    fn broadcasting_rules() {
        assert_eq!(
            broadcast_shape(&[&[2, 3, 4], &[3, 4], &[1, 4]]).unwrap(),
            vec![2, 3, 4]
        );
        assert!(broadcast_shape(&[&[2, 3], &[3, 2]]).is_err());
    }
}
