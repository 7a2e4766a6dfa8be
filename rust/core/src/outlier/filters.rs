//! Median filters: the zero-padded nan-median filter of the IFU mode
//! (`stcal.outlier_detection.utils.medfilt`) and the rolling median along
//! time of the TSO mode (`jwst.outlier_detection.tso.moving_median_over_zeroth_axis`).

use ndarray::{
    s, Array3, ArrayD, ArrayView3, ArrayViewD, ArrayViewMut1, ArrayViewMut2, Axis, Ix3, IxDyn,
};
use rayon::prelude::*;

use crate::median::network::{self, Lane, SortNet, LANES, NETWORK_MAX};
use crate::median::{LaneMedian, Real};
use crate::{Error, Result};

/// Zero-padded nan-median filter (`stcal.outlier_detection.utils.medfilt`).
///
/// The array (1 to 3 dimensions) is padded with `k // 2` zeros on both
/// sides of every axis, and each output value is the nan-median of the
/// `kernel`-shaped window starting at the same padded index: for odd
/// kernels the window is centred on the pixel and the output has the
/// input's shape; an even kernel gives one more element along that axis (as
/// the reference). Padding zeros are values like any other; NaN is ignored;
/// an all-NaN window gives NaN. The median follows numpy (middle value, or
/// the `T` mean of the two middle values; a zero median is `+0.0`), without
/// the float32 overflow of spec §12 Q5. Parallel over output rows, bitwise
/// identical for any thread count.
pub fn medfilt<T: Real>(arr: ArrayViewD<'_, T>, kernel: &[usize]) -> Result<ArrayD<T>> {
    let nd = arr.ndim();
    if nd == 0 || nd > 3 {
        return Err(Error::shape(format!(
            "medfilt supports 1 to 3 dimensions, got {nd}"
        )));
    }
    if kernel.len() != nd {
        return Err(Error::value(format!(
            "kernel size has {} values for a {nd}-dimensional array",
            kernel.len()
        )));
    }
    if let Some(k) = kernel.iter().find(|&&k| k == 0) {
        return Err(Error::value(format!("kernel sizes must be >= 1, got {k}")));
    }
    if arr.is_empty() {
        return Err(Error::value("medfilt of an empty array"));
    }
    // View as 3-D with leading unit axes.
    let mut a = arr.view();
    let mut k3 = vec![1usize; 3 - nd];
    k3.extend_from_slice(kernel);
    while a.ndim() < 3 {
        a.insert_axis_inplace(Axis(0));
    }
    let a = a
        .into_dimensionality::<Ix3>()
        .map_err(|e| Error::shape(e.to_string()))?;
    let a = a.as_standard_layout();
    let d = a.dim();
    let dims = [d.0, d.1, d.2];
    let data: &[T] = a
        .as_slice()
        .ok_or_else(|| Error::value("internal: input not contiguous"))?;
    let mut o = [0usize; 3];
    for i in 0..3 {
        o[i] = (dims[i] + 2 * (k3[i] / 2) + 1)
            .checked_sub(k3[i])
            .filter(|&v| v > 0)
            .ok_or_else(|| Error::value("kernel larger than the padded array"))?;
    }
    let kk = k3[0]
        .checked_mul(k3[1])
        .and_then(|v| v.checked_mul(k3[2]))
        .filter(|&v| v <= 1 << 24)
        .ok_or_else(|| Error::value("kernel too large"))?;
    let total = o[0]
        .checked_mul(o[1])
        .and_then(|v| v.checked_mul(o[2]))
        .ok_or_else(|| Error::Memory("output too large".into()))?;
    let buf = crate::median::try_filled(total, T::NAN, "the filtered array")?;
    let mut out =
        Array3::from_shape_vec((o[0], o[1], o[2]), buf).map_err(|e| Error::shape(e.to_string()))?;
    let kern = LaneMedian::new(kk);
    let h = [k3[0] / 2, k3[1] / 2, k3[2] / 2];
    {
        let mut rows: ArrayViewMut2<'_, T> = out
            .view_mut()
            .into_shape_with_order((o[0] * o[1], o[2]))
            .map_err(|e| Error::shape(e.to_string()))?;
        crate::parallel::install(|| {
            rows.axis_iter_mut(Axis(0))
                .into_par_iter()
                .enumerate()
                .for_each_init(
                    || (vec![[T::INFINITY; LANES]; kk], Vec::<T>::new()),
                    |(v, col), (r, orow)| {
                        let (i0, i1) = (r / o[1], r % o[1]);
                        medfilt_row(data, dims, &k3, &h, i0, i1, orow, &kern, v, col);
                    },
                );
        });
    }
    out.into_shape_with_order(IxDyn(&o[3 - nd..]))
        .map_err(|e| Error::shape(e.to_string()))
}

/// One output row `(i0, i1, :)` of [`medfilt`]; `data` is the C-ordered
/// input of shape `dims`.
#[allow(clippy::too_many_arguments)]
fn medfilt_row<T: Real>(
    data: &[T],
    dims: [usize; 3],
    k: &[usize],
    h: &[usize; 3],
    i0: usize,
    i1: usize,
    mut orow: ArrayViewMut1<'_, T>,
    kern: &LaneMedian,
    v: &mut [Lane<T>],
    col: &mut Vec<T>,
) {
    let [d0, d1, d2] = dims;
    let o2 = orow.len();
    let mut res = [T::NAN; LANES];
    let mut c0 = 0;
    while c0 < o2 {
        let w = LANES.min(o2 - c0);
        let mut cnt = [0u32; LANES];
        let mut idx = 0;
        for da in 0..k[0] {
            let ia = (i0 + da).checked_sub(h[0]).filter(|&x| x < d0);
            for db in 0..k[1] {
                let ib = (i1 + db).checked_sub(h[1]).filter(|&x| x < d1);
                let row: &[T] = match (ia, ib) {
                    (Some(ia), Some(ib)) => data
                        .get((ia * d1 + ib) * d2..(ia * d1 + ib + 1) * d2)
                        .unwrap_or(&[]),
                    _ => &[],
                };
                for dc in 0..k[2] {
                    let Some(dst) = v.get_mut(idx) else { return };
                    idx += 1;
                    // Input column of lane l: c0 + l + dc - h2; lanes [lo, hi)
                    // fall inside the row, the others read padding zeros.
                    let start = (c0 + dc) as isize - h[2] as isize;
                    let lo = (-start).clamp(0, w as isize) as usize;
                    let hi = (row.len() as isize - start).clamp(lo as isize, w as isize) as usize;
                    dst[..lo].fill(T::ZERO);
                    if hi > lo {
                        let s0 = (start + lo as isize) as usize;
                        dst[lo..hi].copy_from_slice(&row[s0..s0 + (hi - lo)]);
                    }
                    dst[hi..w].fill(T::ZERO);
                    dst[w..].fill(T::INFINITY);
                    for l in 0..LANES {
                        let x = dst[l];
                        let nan = x.is_nan();
                        dst[l] = if nan { T::INFINITY } else { x };
                        cnt[l] += u32::from(!nan && l < w);
                    }
                }
            }
        }
        kern.finish(v, &cnt, col, &mut res);
        for (o, &r) in orow.slice_mut(s![c0..c0 + w]).iter_mut().zip(res.iter()) {
            *o = r;
        }
        c0 += w;
    }
}

/// Rolling median along axis 0 of a `(nints, ny, nx)` cube
/// (`jwst.outlier_detection.tso.moving_median_over_zeroth_axis`), in `f64`.
///
/// For every start `s = 0..=nints-w`, plane `s + w/2` is the plain median of
/// planes `s..s+w` (NaN anywhere in the window gives NaN; an even window
/// averages the two middle values in `f64`; a zero median is `+0.0`).
/// Planes before the first computed one copy it; for odd `w` the last `w/2`
/// planes copy the last computed one, for even `w` the last `w/2 - 1` do.
/// Deliberate difference (spec §12 Q14): with `w = 2` the reference
/// overwrites every plane with the last window's median; here nothing is
/// copied at the end. `2 <= w <= nints` is required. Parallel over rows,
/// bitwise identical for any thread count.
pub fn rolling_median<T: Real>(cube: ArrayView3<'_, T>, w: usize) -> Result<Array3<f64>> {
    let (nt, ny, nx) = cube.dim();
    if w <= 1 {
        return Err(Error::value(
            "Rolling median window size must be greater than 1.",
        ));
    }
    if w > nt {
        return Err(Error::value(format!(
            "Window size must be less than the number of integrations (w={w}, nints={nt})."
        )));
    }
    let total = nt
        .checked_mul(ny)
        .and_then(|v| v.checked_mul(nx))
        .ok_or_else(|| Error::Memory("cube too large".into()))?;
    let buf = crate::median::try_filled(total, f64::NAN, "the rolling median")?;
    let mut out =
        Array3::from_shape_vec((nt, ny, nx), buf).map_err(|e| Error::shape(e.to_string()))?;
    let net = (w <= NETWORK_MAX).then(|| SortNet::new(w, (w - 1) / 2, w / 2));
    let hw = w / 2;
    let cube = cube.as_standard_layout();
    let data: &[T] = cube
        .as_slice()
        .ok_or_else(|| Error::value("internal: cube not contiguous"))?;
    crate::parallel::install(|| {
        out.axis_iter_mut(Axis(1))
            .into_par_iter()
            .enumerate()
            .for_each_init(
                || {
                    (
                        vec![[T::INFINITY; LANES]; nt],
                        vec![[T::INFINITY; LANES]; w],
                        Vec::<T>::new(),
                    )
                },
                |(series, v, col), (y, mut plane)| {
                    let mut x0 = 0;
                    while x0 < nx {
                        let lw = LANES.min(nx - x0);
                        for (t, dst) in series.iter_mut().enumerate() {
                            let off = (t * ny + y) * nx + x0;
                            let src = data.get(off..off + lw).unwrap_or(&[]);
                            dst[..src.len()].copy_from_slice(src);
                            dst[src.len()..].fill(T::ZERO);
                        }
                        for s0 in 0..=(nt - w) {
                            let mut has_nan = [false; LANES];
                            for (dst, src) in v.iter_mut().zip(&series[s0..s0 + w]) {
                                for l in 0..LANES {
                                    let x = src[l];
                                    let nan = x.is_nan();
                                    has_nan[l] |= nan;
                                    dst[l] = if nan { T::INFINITY } else { x };
                                }
                            }
                            let mut med = [f64::NAN; LANES];
                            match &net {
                                Some(net) => {
                                    net.apply(v);
                                    for (l, m) in med.iter_mut().enumerate() {
                                        *m = if w % 2 == 1 {
                                            v[w / 2][l].to_f64()
                                        } else {
                                            (v[w / 2 - 1][l].to_f64() + v[w / 2][l].to_f64()) / 2.0
                                        };
                                    }
                                }
                                None => {
                                    for (l, m) in med.iter_mut().enumerate() {
                                        col.clear();
                                        col.extend(v.iter().map(|lane| lane[l]));
                                        let b = network::select(col, w / 2).to_f64();
                                        *m = if w % 2 == 1 {
                                            b
                                        } else {
                                            (network::max_of(&col[..w / 2]).to_f64() + b) / 2.0
                                        };
                                    }
                                }
                            }
                            let t = s0 + hw;
                            for l in 0..lw {
                                plane[[t, x0 + l]] =
                                    if has_nan[l] { f64::NAN } else { med[l] + 0.0 };
                            }
                        }
                        x0 += lw;
                    }
                    // Edge fill.
                    let first = plane.row(hw).to_owned();
                    for t in 0..hw {
                        plane.row_mut(t).assign(&first);
                    }
                    let (src, from) = if w % 2 == 1 {
                        (nt - hw - 1, nt - hw)
                    } else {
                        (nt - hw, nt - hw + 1)
                    };
                    if from < nt {
                        let last = plane.row(src).to_owned();
                        for t in from..nt {
                            plane.row_mut(t).assign(&last);
                        }
                    }
                },
            );
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    fn ramp(nt: usize) -> Array3<f32> {
        Array3::from_shape_fn((nt, 2, 3), |(t, _, _)| t as f32)
    }

    #[test]
    fn rolling_median_edge_rules() {
        let cases: [(usize, Vec<f64>); 4] = [
            (3, vec![1., 1., 2., 3., 4., 5., 6., 7., 8., 8.]),
            (4, vec![1.5, 1.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 7.5]),
            (6, vec![2.5, 2.5, 2.5, 2.5, 3.5, 4.5, 5.5, 6.5, 6.5, 6.5]),
            // Q14 improved: w = 2 copies only the first plane.
            (2, vec![0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5]),
        ];
        for (w, want) in cases {
            let r = rolling_median(ramp(10).view(), w).unwrap();
            let got: Vec<f64> = (0..10).map(|t| r[[t, 1, 2]]).collect();
            assert_eq!(got, want, "w={w}");
        }
    }

    #[test]
    fn rolling_median_propagates_nan_and_averages_in_f64() {
        let mut c = Array3::<f32>::zeros((5, 1, 1));
        for (t, v) in [16_777_216.0f32, 3.0, 16_777_216.0, 3.0, 5.0]
            .iter()
            .enumerate()
        {
            c[[t, 0, 0]] = *v;
        }
        let r = rolling_median(c.view(), 4).unwrap();
        assert_eq!(r[[2, 0, 0]], 8_388_609.5);
        c[[1, 0, 0]] = f32::NAN;
        let r = rolling_median(c.view(), 3).unwrap();
        assert!(r[[1, 0, 0]].is_nan() && r[[2, 0, 0]].is_nan());
        assert!(rolling_median(c.view(), 1).is_err());
        assert!(rolling_median(c.view(), 6).is_err());
    }

    #[test]
    fn medfilt_zero_padding_and_nan() {
        let a = Array1::from(vec![2.0f64, f64::NAN, 0.0]);
        let r = medfilt(a.view().into_dyn(), &[3]).unwrap();
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![1.0, 1.0, 0.0]);
        let a = Array1::from(vec![f64::NAN; 3]);
        let r = medfilt(a.view().into_dyn(), &[3]).unwrap();
        let r: Vec<f64> = r.iter().copied().collect();
        assert_eq!(r[0], 0.0);
        assert!(r[1].is_nan());
        assert_eq!(r[2], 0.0);
    }

    #[test]
    fn medfilt_matches_brute_force_in_2d() {
        let a = Array2::from_shape_fn((9, 40), |(y, x)| ((y * 31 + x * 17) % 23) as f32);
        let r = medfilt(a.view().into_dyn(), &[3, 5]).unwrap();
        assert_eq!(r.shape(), &[9, 40]);
        for y in 0..9 {
            for x in 0..40 {
                let mut vals = Vec::new();
                for dy in 0..3 {
                    for dx in 0..5 {
                        let (yy, xx) = (y as isize + dy - 1, x as isize + dx - 2);
                        vals.push(if yy < 0 || xx < 0 || yy >= 9 || xx >= 40 {
                            0.0
                        } else {
                            a[[yy as usize, xx as usize]]
                        });
                    }
                }
                vals.sort_by(|p, q| p.partial_cmp(q).unwrap());
                assert_eq!(r[[y, x]], vals[7]);
            }
        }
    }
}
