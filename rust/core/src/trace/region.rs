//! Regions of the region map, their collapsed cross-dispersion profile,
//! threshold test and edge trimming (spec adaptive_trace_model.md 6.1).

use ndarray::{Array2, ArrayView2, Zip};
use std::collections::BTreeMap;

use crate::bspline::numeric::{
    arange_into, nanmedian, pairwise_sum, sigma_clip_stats, ClipScratch,
};

/// Largest number of profile bins accepted (the reference would try to
/// allocate whatever `arange` asks for).
const MAX_PROFILE_BINS: usize = 10_000_000;

/// Bounding box of one region id (half-open row and column ranges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BBox {
    pub r0: usize,
    pub r1: usize,
    pub c0: usize,
    pub c1: usize,
}

impl BBox {
    pub fn rows(&self) -> usize {
        self.r1 - self.r0
    }
    pub fn cols(&self) -> usize {
        self.c1 - self.c0
    }
}

/// Sorted ids `> 0` of the region map with their bounding boxes.
pub(crate) fn region_boxes(map: ArrayView2<i32>) -> Vec<(i32, BBox)> {
    let mut boxes: BTreeMap<i32, BBox> = BTreeMap::new();
    for ((y, x), &id) in map.indexed_iter() {
        if id <= 0 {
            continue;
        }
        boxes
            .entry(id)
            .and_modify(|b| {
                b.r0 = b.r0.min(y);
                b.r1 = b.r1.max(y + 1);
                b.c0 = b.c0.min(x);
                b.c1 = b.c1.max(x + 1);
            })
            .or_insert(BBox {
                r0: y,
                r1: y + 1,
                c0: x,
                c1: x + 1,
            });
    }
    boxes.into_iter().collect()
}

/// One region cut out to its bounding box; NaN outside the region.
#[derive(Debug, Clone)]
pub(crate) struct Region {
    pub id: i32,
    pub bbox: BBox,
    /// Region membership inside the box.
    pub mask: Array2<bool>,
    /// Flux (float32), NaN outside the region.
    pub d: Array2<f32>,
    /// Alpha cast to float32, NaN outside the region.
    pub a: Array2<f32>,
}

impl Region {
    /// Cut region `id` (box `bbox`) out of the working-frame arrays.
    pub fn new(
        id: i32,
        bbox: BBox,
        map: ArrayView2<i32>,
        flux: ArrayView2<f32>,
        alpha: ArrayView2<f64>,
    ) -> Self {
        let sl = ndarray::s![bbox.r0..bbox.r1, bbox.c0..bbox.c1];
        let mask = map.slice(sl).mapv(|v| v == id);
        let mut d = Array2::from_elem((bbox.rows(), bbox.cols()), f32::NAN);
        let mut a = Array2::from_elem((bbox.rows(), bbox.cols()), f32::NAN);
        Zip::from(&mut d)
            .and(&mut a)
            .and(&mask)
            .and(flux.slice(sl))
            .and(alpha.slice(sl))
            .for_each(|d, a, &m, &f, &al| {
                if m {
                    *d = f;
                    *a = al as f32;
                }
            });
        Region {
            id,
            bbox,
            mask,
            d,
            a,
        }
    }

    /// A float32 cut-out of `arr` on this region (NaN outside).
    pub fn cut(&self, arr: ArrayView2<f32>) -> Array2<f32> {
        let b = self.bbox;
        let mut out = Array2::from_elem((b.rows(), b.cols()), f32::NAN);
        Zip::from(&mut out)
            .and(&self.mask)
            .and(arr.slice(ndarray::s![b.r0..b.r1, b.c0..b.c1]))
            .for_each(|o, &m, &v| {
                if m {
                    *o = v;
                }
            });
        out
    }
}

/// `|nanmedian(A[y+1, x] − A[y, x])|` in float32 (spec 2, "native step").
pub(crate) fn native_dalpha(a: ArrayView2<f32>) -> f32 {
    let (ny, _) = a.dim();
    let mut diffs = Vec::new();
    for y in 0..ny.saturating_sub(1) {
        let r0 = a.row(y);
        let r1 = a.row(y + 1);
        for (&p, &q) in r0.iter().zip(r1.iter()) {
            let d = q - p;
            if !d.is_nan() {
                diffs.push(d);
            }
        }
    }
    let mut tmp = Vec::new();
    nanmedian(&diffs, &mut tmp).abs()
}

/// `nanmin`, `nanmax` of a float32 array (NaN when all NaN).
pub(crate) fn nan_min_max(a: ArrayView2<f32>) -> (f32, f32) {
    let mut lo = f32::NAN;
    let mut hi = f32::NAN;
    for &v in a.iter() {
        if v.is_nan() {
            continue;
        }
        if lo.is_nan() || v < lo {
            lo = v;
        }
        if hi.is_nan() || v > hi {
            hi = v;
        }
    }
    (lo, hi)
}

/// Median-collapsed cross-dispersion profile (spec 6.1.1). The values are
/// float32 medians held in float64, as in the reference.
#[derive(Debug, Clone, Default)]
pub(crate) struct Profile {
    pub centres: Vec<f64>,
    pub flux: Vec<f64>,
    pub err: Vec<f64>,
    pub snr: Vec<f64>,
}

fn nan_fold(v: &[f64], better: impl Fn(f64, f64) -> bool) -> f64 {
    v.iter()
        .copied()
        .filter(|x| !x.is_nan())
        .fold(
            f64::NAN,
            |m, x| if m.is_nan() || better(x, m) { x } else { m },
        )
}

impl Profile {
    pub fn max_flux(&self) -> f64 {
        nan_fold(&self.flux, |a, b| a > b)
    }
    pub fn max_snr(&self) -> f64 {
        nan_fold(&self.snr, |a, b| a > b)
    }
    pub fn min_snr(&self) -> f64 {
        nan_fold(&self.snr, |a, b| a < b)
    }
}

#[inline]
fn is_valid(d: f32, e: f32, a: f32) -> bool {
    d.is_finite() && e.is_finite() && a.is_finite() && e > 0.0
}

/// Profile of `(d, e, a)`, or `None` when no pixel is valid (or, where the
/// reference raises, when the bin centres cannot be built: a region whose
/// native alpha step is zero or undefined).
pub(crate) fn xdisp(d: ArrayView2<f32>, e: ArrayView2<f32>, a: ArrayView2<f32>) -> Option<Profile> {
    let mut valid_any = false;
    Zip::from(d).and(e).and(a).for_each(|&dv, &ev, &av| {
        valid_any |= is_valid(dv, ev, av);
    });
    if !valid_any {
        return None;
    }
    let step = native_dalpha(a) / 2.0f32;
    let (amin, amax) = nan_min_max(a);
    let mut centres = Vec::new();
    if arange_into(amin, amax, step, &mut centres).is_err() || centres.len() > MAX_PROFILE_BINS {
        return None;
    }
    let nb = centres.len();
    let hs = f64::from(step / 2.0f32);
    let c0 = centres.first().copied().unwrap_or(0.0);
    // spacing of the bin centres (f32-rounded second value, spec 13.3)
    let stepd = match centres.get(1) {
        Some(&c1) if c1 > c0 => c1 - c0,
        _ => f64::from(step),
    };
    // (bin, flux, err, snr) of every member
    let mut members: Vec<(u32, f32, f32, f32)> = Vec::new();
    Zip::from(d).and(e).and(a).for_each(|&dv, &ev, &av| {
        if !is_valid(dv, ev, av) {
            return;
        }
        let snr = dv / ev;
        if !snr.is_finite() {
            return;
        }
        let x = f64::from(av);
        let kf = ((x - c0) / stepd).floor();
        if !kf.is_finite() {
            return;
        }
        let lo = (kf as i64 - 2).max(0);
        let hi = (kf as i64 + 2).min(nb as i64 - 1);
        for k in lo..=hi {
            let c = centres[k as usize];
            if x >= c - hs && x < c + hs {
                members.push((k as u32, dv, ev, snr));
            }
        }
    });
    members.sort_by_key(|m| m.0);
    let mut prof = Profile {
        centres,
        flux: vec![f64::NAN; nb],
        err: vec![f64::NAN; nb],
        snr: vec![f64::NAN; nb],
    };
    let mut tmp = Vec::new();
    let mut buf = Vec::new();
    for grp in members.chunk_by(|p, q| p.0 == q.0) {
        let kk = grp[0].0 as usize;
        buf.clear();
        buf.extend(grp.iter().map(|m| m.1));
        prof.flux[kk] = f64::from(nanmedian(&buf, &mut tmp));
        buf.clear();
        buf.extend(grp.iter().map(|m| m.2));
        prof.err[kk] = f64::from(nanmedian(&buf, &mut tmp));
        buf.clear();
        buf.extend(grp.iter().map(|m| m.3));
        prof.snr[kk] = f64::from(nanmedian(&buf, &mut tmp));
    }
    Some(prof)
}

/// Region thresholds (spec 5): a peak threshold on the profile flux, or an
/// SNR threshold on the profile SNR; neither = fit every region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Threshold {
    None,
    Peak(f64),
    Snr(f64),
}

/// `threshold_test` of spec 6.1.
pub(crate) fn threshold_test(p: Option<&Profile>, thr: Threshold) -> bool {
    match thr {
        Threshold::None => true,
        Threshold::Peak(t) => p.is_some_and(|p| p.max_flux() > t),
        Threshold::Snr(t) => p.is_some_and(|p| p.max_snr() > t),
    }
}

/// `trim_edges` of spec 6.1.2: blank the noisy ends of the region in `d`.
pub(crate) fn trim_edges(d: &mut Array2<f32>, a: ArrayView2<f32>, p: &Profile) {
    let errs: Vec<f64> = p
        .snr
        .iter()
        .zip(&p.err)
        .filter(|(s, _)| s.is_finite())
        .map(|(_, &e)| e)
        .collect();
    if errs.is_empty() {
        return;
    }
    let st = sigma_clip_stats(&errs, &mut ClipScratch::default());
    let limit = st.mean + 5.0 * st.std;
    let bad: Vec<bool> = p
        .snr
        .iter()
        .zip(&p.err)
        .map(|(&s, &e)| s.abs() < 5.0 && e > limit)
        .collect();
    let nbad = bad.iter().filter(|&&b| b).count();
    if nbad == 0 || nbad == bad.len() {
        return;
    }
    let mut neg_max = f64::NAN;
    let mut pos_min = f64::NAN;
    for (&c, &b) in p.centres.iter().zip(&bad) {
        if !b {
            continue;
        }
        if c < 0.0 && (neg_max.is_nan() || c > neg_max) {
            neg_max = c;
        }
        if c > 0.0 && (pos_min.is_nan() || c < pos_min) {
            pos_min = c;
        }
    }
    Zip::from(d).and(a).for_each(|dv, &av| {
        let x = f64::from(av);
        if (!neg_max.is_nan() && x <= neg_max) || (!pos_min.is_nan() && x >= pos_min) {
            *dv = f32::NAN;
        }
    });
}

/// Memory layout of the reference's working-frame scratch arrays, which
/// decides the summation order of the column normaliser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Row-major (NIRSpec): column sums accumulate row by row.
    Rows,
    /// Column-major (MIRI, a rotated view): each column of `ny` rows is
    /// summed with numpy's pairwise summation; the region's box starts at
    /// row `r0`.
    Columns { ny: usize, r0: usize },
}

/// Column normaliser `S[x]` (spec 6.1 step 5): float32 sums of the region's
/// pixels (of the positive ones only when `positive_only`), in the
/// reference's order for `layout`.
pub(crate) fn column_sums(d: ArrayView2<f32>, positive_only: bool, layout: Layout) -> Vec<f32> {
    let (h, nx) = d.dim();
    match layout {
        Layout::Rows => {
            let mut s = vec![0.0f32; nx];
            for row in d.rows() {
                for (acc, &v) in s.iter_mut().zip(row.iter()) {
                    if positive_only {
                        if v > 0.0 {
                            *acc += v;
                        }
                    } else if !v.is_nan() {
                        *acc += v;
                    }
                }
            }
            s
        }
        Layout::Columns { ny, r0 } => {
            let mut col = vec![0.0f32; ny.max(r0 + h)];
            let mut out = Vec::with_capacity(nx);
            for x in 0..nx {
                let c = d.column(x);
                if positive_only {
                    // np.sum(where=d > 0): pairwise sums of the maximal runs
                    // of selected values, accumulated in order.
                    let mut acc = 0.0f32;
                    let mut run: Vec<f32> = Vec::new();
                    for &v in c.iter() {
                        if v > 0.0 {
                            run.push(v);
                        } else if !run.is_empty() {
                            acc += pairwise_sum(&run);
                            run.clear();
                        }
                    }
                    if !run.is_empty() {
                        acc += pairwise_sum(&run);
                    }
                    out.push(acc);
                } else {
                    // np.nansum(axis=0) over the full column, NaN -> 0
                    col.iter_mut().for_each(|v| *v = 0.0);
                    for (y, &v) in c.iter().enumerate() {
                        col[r0 + y] = if v.is_nan() { 0.0 } else { v };
                    }
                    out.push(pairwise_sum(&col[..ny.max(r0 + h)]));
                }
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn boxes_are_sorted_and_tight() {
        let m = array![[0, 2, 2], [1, 0, 2], [1, 1, 0]];
        let b = region_boxes(m.view());
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].0, 1);
        assert_eq!(
            b[0].1,
            BBox {
                r0: 1,
                r1: 3,
                c0: 0,
                c1: 2
            }
        );
        assert_eq!(
            b[1].1,
            BBox {
                r0: 0,
                r1: 2,
                c0: 1,
                c1: 3
            }
        );
    }

    #[test]
    fn native_step_is_median_row_difference() {
        let a = array![[0.0f32, 0.1], [0.5, 0.6], [1.0, f32::NAN]];
        assert_eq!(native_dalpha(a.view()), 0.5);
    }

    #[test]
    fn profile_peaks_at_the_source() {
        let (ny, nx) = (20, 5);
        let a = Array2::from_shape_fn((ny, nx), |(y, x)| y as f32 - 10.0 + 0.1 * x as f32);
        let d = Array2::from_shape_fn((ny, nx), |(y, _)| {
            (-((y as f32 - 10.0) / 2.0).powi(2)).exp()
        });
        let e = Array2::from_elem((ny, nx), 0.01f32);
        let p = xdisp(d.view(), e.view(), a.view()).unwrap();
        assert!(p.max_flux() > 0.9);
        assert!(p.centres.len() >= 2 * (ny - 1));
    }
}
