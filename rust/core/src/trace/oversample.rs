//! Oversampling along the spatial axis (spec 8, 9): linear interpolation,
//! spline model plus interpolated residual, compact-source selection.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use std::collections::HashMap;

use super::fit::ColumnSpline;
use super::image::{compact_bands, high_slope, in_bands, model_rows};
use super::region::{native_dalpha, Region};

/// First new row and number of new rows of the old-row range
/// `[y_min, y_max]` (spec 8.1; numpy `arange(y_min·N, (y_max+1)·N, dtype=int32)`).
pub(crate) fn reindex(y_min: usize, y_max: usize, n: f64) -> (i64, usize) {
    let start = y_min as f64 * n;
    let stop = (y_max + 1) as f64 * n;
    let len = (stop - start).ceil();
    let len = if len.is_finite() && len > 0.0 {
        len as usize
    } else {
        0
    };
    (start.trunc() as i64, len)
}

/// Old-row coordinate of new row `k`: `k/N − (N−1)/(2N)`.
#[inline]
pub(crate) fn old_row(k: i64, n: f64) -> f64 {
    k as f64 / n - (n - 1.0) / (n * 2.0)
}

/// numpy `interp(x, xp, fp)` for increasing `xp` (constant extrapolation).
/// `xp` must not be empty.
#[cfg(test)]
pub(crate) fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    // j: largest index with xp[j] <= x (-1 if none)
    let j = xp.partition_point(|&v| v <= x);
    interp_at(x, xp, fp, j)
}

/// numpy's interpolation step given `j` = the number of `xp` values `<= x`.
#[inline]
fn interp_at(x: f64, xp: &[f64], fp: &[f64], j: usize) -> f64 {
    let n = xp.len();
    if x.is_nan() {
        return x;
    }
    if n == 1 || j == 0 {
        return fp[0];
    }
    let j = j - 1;
    if j >= n - 1 || xp[j] == x {
        return fp[j.min(n - 1)];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let mut r = slope * (x - xp[j]) + fp[j];
    if r.is_nan() {
        r = slope * (x - xp[j + 1]) + fp[j + 1];
        if r.is_nan() && fp[j] == fp[j + 1] {
            r = fp[j];
        }
    }
    r
}

/// numpy `interp` at the old-row coordinates of the new rows
/// `k0 .. k0 + len` (increasing), walking `xp` once.
pub(crate) fn interp_rows(k0: i64, len: usize, n: f64, xp: &[f64], fp: &[f64], out: &mut Vec<f64>) {
    out.clear();
    let mut j = 0usize;
    for q in 0..len {
        let x = old_row(k0 + q as i64, n);
        while j < xp.len() && xp[j] <= x {
            j += 1;
        }
        out.push(interp_at(x, xp, fp, j));
    }
}

/// Rounds half to even and indexes a column of length `ny` like numpy
/// (negative indices wrap); `None` outside the column.
#[inline]
pub(crate) fn nearest_row(y: f64, ny: usize) -> Option<usize> {
    let r = y.round_ties_even();
    if !r.is_finite() {
        return None;
    }
    let mut i = r as i64;
    if i < 0 {
        i += ny as i64;
    }
    if i < 0 || i >= ny as i64 {
        None
    } else {
        Some(i as usize)
    }
}

/// First and last region row (full-image rows) of every box column, from
/// one row-major pass over the region mask.
pub(crate) fn region_rows(region: &Region) -> Vec<Option<(usize, usize)>> {
    let mut out: Vec<Option<(usize, usize)>> = vec![None; region.bbox.cols()];
    let r0 = region.bbox.r0;
    for (y, row) in region.mask.rows().into_iter().enumerate() {
        for (o, &m) in out.iter_mut().zip(row.iter()) {
            if m {
                let yy = r0 + y;
                *o = Some(match *o {
                    None => (yy, yy),
                    Some((a, _)) => (a, yy),
                });
            }
        }
    }
    out
}

/// Column-major copy of a box-shaped array (contiguous columns).
pub(crate) struct ColMajor {
    h: usize,
    data: Vec<f32>,
}

impl ColMajor {
    pub fn new(a: ArrayView2<f32>) -> Self {
        let (h, w) = a.dim();
        let mut data = vec![0.0f32; h * w];
        for (y, row) in a.rows().into_iter().enumerate() {
            for (x, &v) in row.iter().enumerate() {
                data[x * h + y] = v;
            }
        }
        Self { h, data }
    }

    pub fn col(&self, x: usize) -> &[f32] {
        &self.data[x * self.h..(x + 1) * self.h]
    }
}

/// Linear interpolation of one column of a region onto the new rows
/// (spec 8.2 step 3 / `linear_oversample`).
///
/// `vals` is the region's box column (NaN outside the region) and `rows`
/// the first/last region row of the column; returns the first new row and
/// the interpolated values, or `None` when the column has `require_ngood`
/// or fewer finite values.
#[allow(clippy::too_many_arguments)]
pub(crate) fn interp_column(
    vals: &[f32],
    r0: usize,
    rows: Option<(usize, usize)>,
    n: f64,
    require_ngood: usize,
    edge: usize,
    preserve_nan: bool,
    ny: usize,
    xp: &mut Vec<f64>,
    fp: &mut Vec<f64>,
) -> Option<(i64, Vec<f64>)> {
    xp.clear();
    fp.clear();
    for (y, &v) in vals.iter().enumerate() {
        if v.is_finite() {
            xp.push((r0 + y) as f64);
            fp.push(f64::from(v));
        }
    }
    if xp.len() <= require_ngood || xp.is_empty() {
        return None;
    }
    let (y_min, y_max) = rows?;
    let (k0, len) = reindex(y_min, y_max, n);
    let mut out = Vec::with_capacity(len);
    interp_rows(k0, len, n, xp, fp, &mut out);
    blank_edges(&mut out, edge);
    if preserve_nan {
        for (j, o) in out.iter_mut().enumerate() {
            let keep = nearest_row(old_row(k0 + j as i64, n), ny)
                .and_then(|r| r.checked_sub(r0))
                .and_then(|ry| vals.get(ry).copied())
                .is_some_and(|v| v.is_finite());
            if !keep {
                *o = f64::NAN;
            }
        }
    }
    Some((k0, out))
}

/// Set the first and last `edge` values to NaN.
pub(crate) fn blank_edges(v: &mut [f64], edge: usize) {
    let n = v.len();
    for (j, o) in v.iter_mut().enumerate() {
        if j < edge || j + edge >= n {
            *o = f64::NAN;
        }
    }
}

/// Oversampled values of one column of a region.
#[derive(Debug, Clone)]
pub(crate) struct ColOs {
    pub col: usize,
    pub k0: i64,
    pub lin: Vec<f64>,
    pub res: Option<Vec<f64>>,
    /// `(new row, alpha_os, scaled model)` of the in-bounds new rows.
    pub model: Vec<(usize, f64, f64)>,
}

/// Oversampled columns of one region and its compact-source bands.
#[derive(Debug, Clone, Default)]
pub(crate) struct RegionOs {
    pub cols: Vec<ColOs>,
    pub bands: Vec<(f64, f64)>,
}

/// Parameters of [`oversample_region`].
pub(crate) struct OsParams<'a> {
    pub n: f64,
    pub require_ngood: usize,
    pub slope_limit: f64,
    pub trim_ends: bool,
    pub pad: i64,
    pub bkpt_hist: Option<usize>,
    pub alpha_os: ArrayView2<'a, f64>,
    pub ny: usize,
}

/// Spec 8.2 for one region.
pub(crate) fn oversample_region(region: &Region, cols: &[ColumnSpline], p: &OsParams) -> RegionOs {
    let edge = if p.n.is_finite() && p.n >= 1.0 {
        p.n.trunc() as usize
    } else {
        0
    };
    let by_col: HashMap<usize, &ColumnSpline> = cols.iter().map(|c| (c.column, c)).collect();
    let a = region.a.view();
    let c0 = region.bbox.c0;
    let r0 = region.bbox.r0;
    let ny_os = p.alpha_os.nrows();
    let (mut xp, mut fp) = (Vec::new(), Vec::new());
    let (mut rows, mut av32, mut av, mut f) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut hs = Vec::new();
    let mut out = Vec::new();
    let dcols = ColMajor::new(region.d.view());
    let yr = region_rows(region);
    for x in 0..region.bbox.cols() {
        let col = c0 + x;
        let dcol = dcols.col(x);
        let Some((k0, lin)) = interp_column(
            dcol,
            r0,
            yr[x],
            p.n,
            p.require_ngood,
            edge,
            true,
            p.ny,
            &mut xp,
            &mut fp,
        ) else {
            continue;
        };
        let len = lin.len();
        let mut c = ColOs {
            col,
            k0,
            lin,
            res: None,
            model: Vec::new(),
        };
        if let Some(cs) = by_col.get(&col) {
            model_rows(a, x, cs.bounds, &mut rows);
            av32.clear();
            av32.extend(rows.iter().map(|&y| a[[y, x]]));
            av.clear();
            av.extend(av32.iter().map(|&v| f64::from(v)));
            f.clear();
            f.resize(av.len(), 0.0);
            cs.model.eval_slice(&av, &mut f);
            // residual at the model rows, interpolated onto the new rows
            xp.clear();
            fp.clear();
            for (&y, &fv) in rows.iter().zip(&f) {
                let q = (f64::from(dcol[y]) - fv * cs.scale) as f32;
                if q.is_finite() {
                    xp.push((r0 + y) as f64);
                    fp.push(f64::from(q));
                }
            }
            // The reference raises when no residual is finite; NaN here.
            let mut res = Vec::with_capacity(len);
            if xp.is_empty() {
                res.resize(len, f64::NAN);
            } else {
                interp_rows(k0, len, p.n, &xp, &fp, &mut res);
            }
            blank_edges(&mut res, edge);
            c.res = Some(res);
            high_slope(&f, &av32, edge, p.slope_limit, &mut hs);
            // model at the oversampled alphas inside the bounds
            let (lo, hi) = (f64::from(cs.bounds.0), f64::from(cs.bounds.1));
            let mut inb: Vec<(usize, f64)> = Vec::new();
            for j in 0..len {
                let k = k0 + j as i64;
                if k < 0 || k as usize >= ny_os {
                    continue;
                }
                let ao = p.alpha_os[[k as usize, col]];
                if ao >= lo && ao <= hi {
                    inb.push((k as usize, ao));
                }
            }
            let aos: Vec<f64> = inb.iter().map(|v| v.1).collect();
            let mut o = vec![0.0; aos.len()];
            cs.model.eval_slice(&aos, &mut o);
            for v in o.iter_mut() {
                *v *= cs.scale;
            }
            if p.trim_ends && edge >= 1 {
                blank_edges(&mut o, edge);
            }
            c.model = inb
                .iter()
                .zip(&o)
                .map(|(&(k, ao), &v)| (k, ao, v))
                .collect();
        }
        out.push(c);
    }
    let bands = if p.slope_limit > 0.0 {
        compact_bands(&hs, native_dalpha(a), p.bkpt_hist, p.pad)
    } else {
        Vec::new()
    };
    RegionOs { cols: out, bands }
}

/// Accumulators of the oversampled images (float64, NaN-filled), merged
/// region by region in ascending id order (later regions overwrite).
pub(crate) struct OsImages {
    pub lin: Array2<f64>,
    pub res: Array2<f64>,
    pub full: Array2<f64>,
    pub used: Array2<f64>,
}

/// Columns per block of the parallel merges (each block has one writer).
const MERGE_COLS: usize = 64;

impl OsImages {
    pub fn new(shape: (usize, usize)) -> Self {
        Self {
            lin: Array2::from_elem(shape, f64::NAN),
            res: Array2::from_elem(shape, f64::NAN),
            full: Array2::from_elem(shape, f64::NAN),
            used: Array2::from_elem(shape, f64::NAN),
        }
    }

    /// Merge the regions in ascending id order (later regions overwrite;
    /// spec 8.2: the compact pixels of region r take the model written by
    /// region r). Every write is local to a column, so blocks of columns are
    /// merged in parallel with the same result.
    pub fn merge_all(&mut self, per: &[RegionOs], use_bands: bool) {
        let ny = self.lin.nrows();
        let blocks: Vec<_> = self
            .lin
            .axis_chunks_iter_mut(Axis(1), MERGE_COLS)
            .zip(self.res.axis_chunks_iter_mut(Axis(1), MERGE_COLS))
            .zip(self.full.axis_chunks_iter_mut(Axis(1), MERGE_COLS))
            .zip(self.used.axis_chunks_iter_mut(Axis(1), MERGE_COLS))
            .collect();
        blocks.into_par_iter().enumerate().for_each(
            |(b, (((mut lin, mut res), mut full), mut used))| {
                let a = b * MERGE_COLS;
                let e = a + lin.ncols();
                for r in per {
                    let start = r.cols.partition_point(|c| c.col < a);
                    for c in r.cols[start..].iter().take_while(|c| c.col < e) {
                        let x = c.col - a;
                        put_column(&mut lin, x, c.k0, &c.lin, ny);
                        if let Some(rv) = &c.res {
                            put_column(&mut res, x, c.k0, rv, ny);
                        }
                        for &(k, _, v) in &c.model {
                            full[[k, x]] = v;
                        }
                        if use_bands && !r.bands.is_empty() {
                            for &(k, ao, v) in &c.model {
                                if in_bands(ao, &r.bands) {
                                    used[[k, x]] = v;
                                }
                            }
                        }
                    }
                }
            },
        );
    }
}

/// Write `vals` into column `x` of `out` starting at new row `k0`.
fn put_column<T: Copy + FromF64, U: Copy + Into<f64>>(
    out: &mut ndarray::ArrayViewMut2<T>,
    x: usize,
    k0: i64,
    vals: &[U],
    ny: usize,
) {
    let mut col = out.column_mut(x);
    for (j, &v) in vals.iter().enumerate() {
        let k = k0 + j as i64;
        if k >= 0 && (k as usize) < ny {
            col[k as usize] = T::from_f64(v.into());
        }
    }
}

/// Conversion of interpolated values to the output element type.
pub(crate) trait FromF64 {
    fn from_f64(v: f64) -> Self;
}
impl FromF64 for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}
impl FromF64 for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

/// Scatter per-region column values (regions in ascending order, later
/// ones overwrite) into `out`, in parallel over blocks of columns.
pub(crate) fn scatter_columns(out: &mut Array2<f32>, per: &[Vec<(usize, i64, Vec<f64>)>]) {
    let ny = out.nrows();
    let blocks: Vec<_> = out.axis_chunks_iter_mut(Axis(1), MERGE_COLS).collect();
    blocks.into_par_iter().enumerate().for_each(|(b, mut blk)| {
        let a = b * MERGE_COLS;
        let e = a + blk.ncols();
        for cols in per {
            let start = cols.partition_point(|c| c.0 < a);
            for (col, k0, vals) in cols[start..].iter().take_while(|c| c.0 < e) {
                put_column(&mut blk, col - a, *k0, vals, ny);
            }
        }
    });
}

/// `linear_oversample` of one region for an error array (no edge blanking,
/// no NaN preservation): `(column, first new row, values)`.
pub(crate) fn oversample_errors_region(
    region: &Region,
    e: ArrayView2<f32>,
    n: f64,
    require_ngood: usize,
    ny: usize,
) -> Vec<(usize, i64, Vec<f64>)> {
    let cut = ColMajor::new(region.cut(e).view());
    let yr = region_rows(region);
    let (mut xp, mut fp) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    for (x, &rows) in yr.iter().enumerate() {
        if let Some((k0, v)) = interp_column(
            cut.col(x),
            region.bbox.r0,
            rows,
            n,
            require_ngood,
            0,
            false,
            ny,
            &mut xp,
            &mut fp,
        ) {
            out.push((region.bbox.c0 + x, k0, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bspline::BSpline;

    #[test]
    fn reindex_tiles_old_rows_for_integer_factor() {
        assert_eq!(reindex(3, 5, 2.0), (6, 6));
        assert_eq!(old_row(6, 2.0), 2.75);
        assert_eq!(old_row(11, 2.0), 5.25);
        assert_eq!(reindex(1, 1, 1.5), (1, 2));
    }

    #[test]
    fn interp_extrapolates_constant_and_hits_nodes() {
        let xp = [1.0, 2.0, 4.0];
        let fp = [10.0, 20.0, 0.0];
        assert_eq!(interp(0.0, &xp, &fp), 10.0);
        assert_eq!(interp(5.0, &xp, &fp), 0.0);
        assert_eq!(interp(2.0, &xp, &fp), 20.0);
        assert_eq!(interp(3.0, &xp, &fp), 10.0);
        assert_eq!(interp(1.5, &xp, &fp), 15.0);
    }

    use super::super::region::{region_boxes, Region};
    use crate::bspline::{bspline_fit, FitParams};
    use ndarray::Array2;
    use std::sync::Arc;

    fn one_region(ny: usize, nx: usize) -> (Region, Array2<f64>) {
        let map = Array2::from_elem((ny, nx), 1i32);
        let alpha = Array2::from_shape_fn((ny, nx), |(y, _)| (y as f64 - ny as f64 / 2.0) * 0.1);
        let flux = Array2::from_shape_fn((ny, nx), |(y, _)| 1.0 + (y % 3) as f32);
        let (id, bbox) = region_boxes(map.view())[0];
        let r = Region::new(id, bbox, map.view(), flux.view(), alpha.view());
        (r, alpha)
    }

    fn model() -> Arc<BSpline> {
        let x: Vec<f64> = (0..100).map(|i| -1.0 + i as f64 * 0.02).collect();
        let p = FitParams {
            nbkpts: 10,
            iterations: 1,
            ..FitParams::default()
        };
        Arc::new(bspline_fit(&x, &vec![1.0; 100], &p).unwrap().unwrap())
    }

    #[test]
    fn spline_column_without_finite_residual_gets_nan_residual() {
        // the reference raises in np.interp (no finite residual pair)
        let (mut r, _) = one_region(20, 3);
        // column 1: data NaN on the model rows (alpha in [-0.3, 0.3]) only
        let (lo, hi) = (-0.3f32, 0.3f32);
        for y in 0..20 {
            let a = r.a[[y, 1]];
            if a >= lo && a <= hi {
                r.d[[y, 1]] = f32::NAN;
            }
        }
        let cols = vec![ColumnSpline {
            column: 1,
            model: model(),
            scale: 2.0,
            bounds: (lo, hi),
            fallback: true,
        }];
        let aos = Array2::from_shape_fn((40, 3), |(k, _)| (old_row(k as i64, 2.0) - 10.0) * 0.1);
        let p = OsParams {
            n: 2.0,
            require_ngood: 3,
            slope_limit: 0.1,
            trim_ends: true,
            pad: 2,
            bkpt_hist: Some(10),
            alpha_os: aos.view(),
            ny: 20,
        };
        let out = oversample_region(&r, &cols, &p);
        let c = out.cols.iter().find(|c| c.col == 1).unwrap();
        assert!(c.res.as_ref().unwrap().iter().all(|v| v.is_nan()));
        assert!(c.model.iter().any(|m| m.2.is_finite()));
    }

    #[test]
    fn model_whose_bounds_miss_the_column_is_skipped_in_the_trace_image() {
        // the reference raises (indexing an empty selection)
        let (r, _) = one_region(10, 2);
        let cols = vec![ColumnSpline {
            column: 0,
            model: model(),
            scale: 1.0,
            bounds: (5.0, 6.0),
            fallback: true,
        }];
        let (t, hs) = super::super::image::region_trace(&r, &cols, 0.1);
        assert!(t.iter().all(|v| v.is_nan()));
        assert!(hs.is_empty());
    }

    #[test]
    fn nearest_row_rounds_half_to_even() {
        assert_eq!(nearest_row(2.5, 10), Some(2));
        assert_eq!(nearest_row(3.5, 10), Some(4));
        assert_eq!(nearest_row(-0.25, 10), Some(0));
        assert_eq!(nearest_row(-1.0, 10), Some(9));
        assert_eq!(nearest_row(10.2, 10), None);
    }
}
