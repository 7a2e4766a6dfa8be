//! Evaluation of the column models: compact-source mask (spec 7.1) and the
//! trace image without oversampling (spec 7).

use ndarray::{Array2, ArrayView2};

use super::fit::ColumnSpline;
use super::region::Region;

/// scipy `find_peaks` local maxima (a flat top reports its middle index;
/// the first and last samples never qualify; NaN never qualifies).
fn local_maxima(x: &[f64]) -> Vec<usize> {
    let mut out = Vec::new();
    let n = x.len();
    if n < 3 {
        return out;
    }
    let i_max = n - 1;
    let mut i = 1;
    while i < i_max {
        if x[i - 1] < x[i] {
            let mut ahead = i + 1;
            while ahead < i_max && x[ahead] == x[i] {
                ahead += 1;
            }
            if x[ahead] < x[i] {
                out.push((i + ahead - 1) / 2);
                i = ahead;
            }
        }
        i += 1;
    }
    out
}

/// numpy `linspace(first, last, nb + 1)` evaluated in float32.
fn linspace_f32(first: f32, last: f32, nb: usize) -> Vec<f32> {
    let delta = last - first;
    let div = nb as f32;
    let step = delta / div;
    let mut e: Vec<f32> = (0..=nb)
        .map(|j| {
            let jf = j as f32;
            if step == 0.0 {
                (jf / div) * delta + first
            } else {
                jf * step + first
            }
        })
        .collect();
    if let Some(l) = e.last_mut() {
        *l = last;
    }
    e
}

/// Alpha bands `(lo, hi]` of the compact sources of a region (spec 7.1):
/// peaks of the normalised histogram of the high-slope alphas `hs`.
///
/// The reference raises on a non-finite histogram range (undefined native
/// step); there is no compact source then.
pub(crate) fn compact_bands(
    hs: &[f32],
    dalpha: f32,
    nb: Option<usize>,
    pad: i64,
) -> Vec<(f64, f64)> {
    let Some(nb) = nb else {
        return Vec::new();
    };
    if hs.len() < 50 || nb == 0 {
        return Vec::new();
    }
    let q = (dalpha * nb as f32) / 4.0f32;
    let (mut first, mut last) = (-q, q);
    if !(first.is_finite() && last.is_finite()) || first > last {
        return Vec::new();
    }
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    let edges = linspace_f32(first, last, nb);
    if edges.windows(2).any(|w| w[0] >= w[1]) {
        return Vec::new();
    }
    let denom = last - first;
    let nbf = nb as f32;
    let mut counts = vec![0u64; nb];
    for &v in hs {
        if !(v >= first && v <= last) {
            continue;
        }
        let f = ((v - first) / denom) * nbf;
        let mut idx = (f as usize).min(nb);
        if idx == nb {
            idx -= 1;
        }
        if idx > 0 && v < edges[idx] {
            idx -= 1;
        }
        if v >= edges[idx + 1] && idx != nb - 1 {
            idx += 1;
        }
        counts[idx] += 1;
    }
    let total: u64 = counts.iter().sum();
    let mut hist: Vec<f64> = counts
        .iter()
        .zip(edges.windows(2))
        .map(|(&c, w)| (c as f64 / f64::from(w[1] - w[0])) / total as f64)
        .collect();
    let hmax = hist
        .iter()
        .copied()
        .filter(|v| !v.is_nan())
        .fold(f64::NAN, |m, v| if m.is_nan() || v > m { v } else { m });
    for h in hist.iter_mut() {
        *h /= hmax;
    }
    let pad_da = f64::from(pad as f32 * dalpha);
    let da = f64::from(dalpha);
    let q64 = f64::from(q);
    local_maxima(&hist)
        .into_iter()
        .filter(|&k| hist[k] >= 0.2)
        .map(|k| {
            let value = (k as f64 * da) / 2.0 - q64;
            (value - pad_da, value + pad_da)
        })
        .collect()
}

/// `true` when `a` lies in one of the bands `(lo, hi]`.
#[inline]
pub(crate) fn in_bands(a: f64, bands: &[(f64, f64)]) -> bool {
    bands.iter().any(|&(lo, hi)| a > lo && a <= hi)
}

/// Rows (box-relative, ascending) of column `x` whose alpha is finite and in
/// `[lo, hi]`.
pub(crate) fn model_rows(
    a: ArrayView2<f32>,
    x: usize,
    (lo, hi): (f32, f32),
    rows: &mut Vec<usize>,
) {
    rows.clear();
    for (y, &v) in a.column(x).iter().enumerate() {
        if v.is_finite() && v >= lo && v <= hi {
            rows.push(y);
        }
    }
}

/// High-slope alphas of one column (spec 7 step 4 / 8.2 step 8): slopes
/// `|f[j] − f[j−1]|` (`|f[0]|` for the first), the first and last `edge`
/// slopes zeroed, alphas of slopes above `slope_limit` appended to `hs`.
pub(crate) fn high_slope(
    f: &[f64],
    alphas: &[f32],
    edge: usize,
    slope_limit: f64,
    hs: &mut Vec<f32>,
) {
    let n = f.len();
    let mut prev = 0.0;
    for (j, (&fv, &av)) in f.iter().zip(alphas).enumerate() {
        let sl = (fv - prev).abs();
        prev = fv;
        let zeroed = j < edge || j + edge >= n;
        if !zeroed && sl > slope_limit {
            hs.push(av);
        }
    }
}

/// Trace image of one region without oversampling (spec 7): the scaled
/// model on the box (NaN elsewhere) and the high-slope alphas.
pub(crate) fn region_trace(
    region: &Region,
    cols: &[ColumnSpline],
    slope_limit: f64,
) -> (Array2<f32>, Vec<f32>) {
    let a = region.a.view();
    let c0 = region.bbox.c0;
    let mut t = Array2::from_elem(region.a.dim(), f32::NAN);
    let mut hs = Vec::new();
    let mut rows = Vec::new();
    let mut av32 = Vec::new();
    let mut av = Vec::new();
    let mut f = Vec::new();
    for cs in cols {
        let x = cs.column - c0;
        model_rows(a, x, cs.bounds, &mut rows);
        if rows.is_empty() {
            // the reference raises (empty selection); skip the column
            continue;
        }
        av32.clear();
        av32.extend(rows.iter().map(|&y| a[[y, x]]));
        av.clear();
        av.extend(av32.iter().map(|&v| f64::from(v)));
        f.clear();
        f.resize(av.len(), 0.0);
        cs.model.eval_slice(&av, &mut f);
        let last = f.len() - 1;
        f[0] = f64::NAN;
        f[last] = f64::NAN;
        for (&y, &fv) in rows.iter().zip(&f) {
            t[[y, x]] = (cs.scale * fv) as f32;
        }
        high_slope(&f, &av32, 1, slope_limit, &mut hs);
    }
    (t, hs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plateau_peak_reports_middle_index() {
        assert_eq!(local_maxima(&[0.0, 1.0, 1.0, 1.0, 0.0]), vec![2]);
        assert_eq!(local_maxima(&[0.0, 1.0, 0.5, 2.0, 0.0]), vec![1, 3]);
        assert!(local_maxima(&[1.0, 0.0, 1.0]).is_empty());
        assert!(local_maxima(&[0.0, f64::NAN, 0.0]).is_empty());
    }

    #[test]
    fn compact_band_surrounds_a_concentrated_slope_population() {
        // 100 values inside one bin near +0.3, 20 spread over the range
        let mut hs: Vec<f32> = (0..100).map(|i| 0.31 + 0.0001 * i as f32).collect();
        hs.extend((0..20).map(|i| -0.9 + 0.09 * i as f32));
        let bands = compact_bands(&hs, 0.1, Some(40), 2);
        assert_eq!(bands.len(), 1);
        let (lo, hi) = bands[0];
        assert!(lo < 0.31 && hi > 0.32, "{lo} {hi}");
        assert!((hi - lo - 0.4).abs() < 1e-6);
        assert!(compact_bands(&hs[..40], 0.1, Some(40), 2).is_empty());
    }

    #[test]
    fn edge_slopes_are_ignored() {
        let f = [5.0, 5.0, 0.0, 5.0, 5.0];
        let a = [0.0f32, 1.0, 2.0, 3.0, 4.0];
        let mut hs = Vec::new();
        high_slope(&f, &a, 1, 0.1, &mut hs);
        assert_eq!(hs, vec![2.0, 3.0]);
    }
}
