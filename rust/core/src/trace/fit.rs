//! Column fits of one region: normalised data, column windows, B-spline
//! fits with the fallback chain, scale factors (spec 6.1-6.4, 14).

use ndarray::{Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use std::sync::Arc;

use super::params::FitConfig;
use super::region::{column_sums, nan_min_max, native_dalpha, threshold_test, trim_edges, xdisp};
use super::region::{Layout, Region, Threshold};
use crate::bspline::numeric::{pairwise_sum, sigma_clip_stats, ClipScratch};
use crate::bspline::{bspline_fit_with, BSpline, FitParams, FitWork};

/// The spline model of one column of a region.
#[derive(Debug, Clone)]
pub struct ColumnSpline {
    /// Column index (working frame, full image).
    pub column: usize,
    /// Spline of the normalised profile (shared by the columns that fell back to it).
    pub model: Arc<BSpline>,
    /// Scale factor (≈ the column sum of the region).
    pub scale: f64,
    /// Alpha range `(lo, hi)` (float32) over which the model is evaluated.
    pub bounds: (f32, f32),
    /// `true` when the column's own fit failed and an earlier model was reused.
    pub fallback: bool,
}

/// A column's resolved model: `(column, model, bounds, fallback)`.
type Chosen = (usize, Arc<BSpline>, (f32, f32), bool);

/// Columns per parallel task of the column fits.
const CHUNK: usize = 16;

/// Outcome of one `bspline_fit` call on a column window.
#[derive(Debug, Clone)]
enum Attempt {
    Fit(BSpline),
    Failed,
    Raised,
}

/// One finite `(alpha, z)` sample of a region, with its box position.
#[derive(Debug, Clone, Copy)]
struct Entry {
    a: f32,
    z: f32,
    row: u32,
    col: u32,
}

/// Order of the reference's window: a stable sort by alpha of the
/// row-major gather, i.e. by `(alpha, row, column)` (a total order here:
/// alphas are finite and positions unique).
#[inline]
fn entry_cmp(p: &Entry, q: &Entry) -> std::cmp::Ordering {
    p.a.partial_cmp(&q.a)
        .unwrap_or(std::cmp::Ordering::Equal)
        .then(p.row.cmp(&q.row))
        .then(p.col.cmp(&q.col))
}

/// The sorted samples of a column window `[lo, hi)` (box columns).
#[derive(Default)]
struct Window {
    lo: usize,
    hi: usize,
    entries: Vec<Entry>,
    add: Vec<Entry>,
    tmp: Vec<Entry>,
}

/// Per-thread scratch buffers.
#[derive(Default)]
struct Scratch {
    work: FitWork<f32>,
    win: Window,
    xs: Vec<f32>,
    zs: Vec<f32>,
}

/// Data of a region prepared for column fits.
struct Prepared<'a> {
    /// Trimmed flux (float32, box).
    d: Array2<f32>,
    /// Alpha (float32, box).
    a: ArrayView2<'a, f32>,
    /// Finite `(alpha, d/S)` samples of every box column, sorted.
    cols: Vec<Vec<Entry>>,
    c0: usize,
    nx: usize,
    lrange: usize,
    params: FitParams,
}

impl Prepared<'_> {
    /// Box-column range `[lo, hi)` of the window of column `i`:
    /// `[max(i − lrange, 0), min(i + lrange, nx))` clipped to the box.
    fn range(&self, i: usize) -> (usize, usize) {
        let w = self.cols.len();
        let lo = i.saturating_sub(self.lrange).max(self.c0) - self.c0;
        let hi = (i + self.lrange).min(self.nx).min(self.c0 + w);
        let hi = hi.saturating_sub(self.c0).max(lo);
        (lo, hi)
    }

    /// Bring `win` to the window of column `i` (sliding from its previous
    /// range when they overlap), then copy the sorted alphas and values
    /// into `s.xs`, `s.zs`.
    fn gather(&self, i: usize, s: &mut Scratch) {
        let (lo, hi) = self.range(i);
        let win = &mut s.win;
        let overlap = !win.entries.is_empty() && lo < win.hi && hi > win.lo;
        if !overlap {
            win.entries.clear();
            for c in &self.cols[lo..hi] {
                win.entries.extend_from_slice(c);
            }
            win.entries.sort_unstable_by(entry_cmp);
        } else {
            if lo > win.lo || hi < win.hi {
                let (l, h) = (lo as u32, hi as u32);
                win.entries.retain(|e| e.col >= l && e.col < h);
            }
            win.add.clear();
            for c in (lo..win.lo.min(hi)).chain(win.hi.max(lo)..hi) {
                win.add.extend_from_slice(&self.cols[c]);
            }
            if !win.add.is_empty() {
                win.add.sort_unstable_by(entry_cmp);
                merge_into(&win.entries, &win.add, &mut win.tmp);
                std::mem::swap(&mut win.entries, &mut win.tmp);
            }
        }
        win.lo = lo;
        win.hi = hi;
        s.xs.clear();
        s.zs.clear();
        s.xs.extend(win.entries.iter().map(|e| e.a));
        s.zs.extend(win.entries.iter().map(|e| e.z));
    }

    fn attempt(&self, s: &mut Scratch, nbkpts: i64) -> Attempt {
        let p = FitParams {
            nbkpts,
            ..self.params
        };
        match bspline_fit_with(&s.xs, &s.zs, &p, &mut s.work) {
            Ok(Some(m)) => Attempt::Fit(m),
            Ok(None) => Attempt::Failed,
            Err(_) => Attempt::Raised,
        }
    }

    /// Bounds of the gathered window (min, max alpha).
    fn bounds(s: &Scratch) -> (f32, f32) {
        let lo = s.xs.first().copied().unwrap_or(f32::NAN);
        let hi = s.xs.last().copied().unwrap_or(f32::NAN);
        (lo, hi)
    }
}

/// Merge two sorted runs into `out`.
fn merge_into(a: &[Entry], b: &[Entry], out: &mut Vec<Entry>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if entry_cmp(&b[j], &a[i]).is_lt() {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// Column models of one region (ascending column order) and the columns
/// whose fit raised in the reference (a warning there).
#[derive(Debug, Clone, Default)]
pub(crate) struct RegionFit {
    pub columns: Vec<ColumnSpline>,
    pub raised: Vec<usize>,
}

/// Fit every column of one region (spec 6.1 steps 1-6). `e` is the region's
/// error cut-out.
pub(crate) fn fit_region(
    region: &Region,
    e: ArrayView2<f32>,
    thr: Threshold,
    cfg: &FitConfig,
    nx: usize,
    layout: Layout,
) -> RegionFit {
    let a = region.a.view();
    let mut d = region.d.clone();
    let p = xdisp(d.view(), e, a);
    let below = RegionFit::default();
    if !threshold_test(p.as_ref(), thr) {
        return below;
    }
    let mut p = p;
    if let Some(prof) = &p {
        trim_edges(&mut d, a, prof);
        p = xdisp(d.view(), e, a);
        if !threshold_test(p.as_ref(), thr) {
            return below;
        }
    }
    let positive_only = p.as_ref().is_some_and(|p| p.min_snr() < -5.0);
    let layout = match layout {
        Layout::Rows => Layout::Rows,
        Layout::Columns { ny, .. } => Layout::Columns {
            ny,
            r0: region.bbox.r0,
        },
    };
    let s = column_sums(d.view(), positive_only, layout);
    fit_columns(d, a, &s, cfg, region.bbox.c0, nx)
}

/// `int(f32(factor) * n_alpha)`, `None` when not representable.
fn auto_count(factor: f64, n_alpha: f32) -> Option<i64> {
    let v = (factor as f32) * n_alpha;
    if v.is_finite() && v.abs() < 9.0e18 {
        Some(v.trunc() as i64)
    } else {
        None
    }
}

fn fit_columns(
    d: Array2<f32>,
    a: ArrayView2<f32>,
    s: &[f32],
    cfg: &FitConfig,
    c0: usize,
    nx: usize,
) -> RegionFit {
    let (mut bkpt, mut ngood_min) = (cfg.spline_bkpt, cfg.require_ngood);
    if bkpt.is_none() || ngood_min.is_none() {
        let (lo, hi) = nan_min_max(a);
        let n_alpha = (hi - lo) / native_dalpha(a);
        if bkpt.is_none() {
            bkpt = auto_count(cfg.auto_bkpt_factor, n_alpha);
        }
        if ngood_min.is_none() {
            ngood_min = auto_count(cfg.auto_ngood_factor, n_alpha);
        }
    }
    // The reference raises on a NaN/infinite automatic count (a region
    // without an alpha step); such a region gets no model here.
    let (Some(bkpt), Some(ngood_min)) = (bkpt, ngood_min) else {
        return RegionFit::default();
    };
    let (ny, w) = d.dim();
    let mut cols: Vec<Vec<Entry>> = vec![Vec::new(); w];
    for y in 0..ny {
        for (x, col) in cols.iter_mut().enumerate() {
            let av = a[[y, x]];
            let zv = d[[y, x]] / s[x];
            if av.is_finite() && zv.is_finite() {
                col.push(Entry {
                    a: av,
                    z: zv,
                    row: y as u32,
                    col: x as u32,
                });
            }
        }
    }
    for col in cols.iter_mut() {
        col.sort_unstable_by(entry_cmp);
    }
    let prep = Prepared {
        d,
        a,
        cols,
        c0,
        nx,
        lrange: cfg.lrange,
        params: FitParams {
            nbkpts: bkpt,
            sigma_low: cfg.sigma_low,
            sigma_high: cfg.sigma_high,
            iterations: cfg.fit_iter,
            space_ratio: cfg.space_ratio,
            method: cfg.method,
        },
    };
    // eligible columns, in fit order
    let eligible: Vec<usize> = cfg
        .order
        .columns(nx)
        .into_iter()
        .filter(|&i| i >= c0 && i < c0 + w)
        .filter(|&i| {
            let x = i - c0;
            let n = prep
                .d
                .column(x)
                .iter()
                .zip(prep.a.column(x).iter())
                .filter(|(dv, av)| dv.is_finite() && av.is_finite())
                .count() as i64;
            n > ngood_min
        })
        .collect();

    // Phase 1: primary attempts, in parallel over chunks of consecutive
    // columns (the window slides inside a chunk).
    let primary: Vec<(Attempt, (f32, f32))> = eligible
        .par_chunks(CHUNK)
        .map_init(Scratch::default, |sc, chunk| {
            chunk
                .iter()
                .map(|&i| {
                    prep.gather(i, sc);
                    let att = prep.attempt(sc, bkpt);
                    (att, Prepared::bounds(sc))
                })
                .collect::<Vec<_>>()
        })
        .flatten_iter()
        .collect();

    // Retries happen only while no earlier column succeeded: compute them
    // (in parallel) for the failed columns before the first primary success.
    let first_ok = primary
        .iter()
        .position(|(a, _)| matches!(a, Attempt::Fit(_)))
        .unwrap_or(primary.len());
    let retry: Vec<Option<Attempt>> = if bkpt > 3 {
        eligible[..first_ok]
            .par_iter()
            .zip(primary[..first_ok].par_iter())
            .map_init(Scratch::default, |sc, (&i, (att, _))| {
                if matches!(att, Attempt::Failed) {
                    prep.gather(i, sc);
                    Some(prep.attempt(sc, bkpt - 3))
                } else {
                    None
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    // Phase 2: the fallback chain, sequentially in fit order.
    let mut raised = Vec::new();
    let mut saved: Option<(Arc<BSpline>, (f32, f32))> = None;
    let mut chosen: Vec<Chosen> = Vec::new();
    for (k, (&i, (att, bounds))) in eligible.iter().zip(primary).enumerate() {
        let mut att = att;
        if matches!(att, Attempt::Failed) && saved.is_none() {
            if let Some(Some(r)) = retry.get(k) {
                att = r.clone();
            }
        }
        let pick = match att {
            Attempt::Fit(m) => Some((Arc::new(m), bounds, false)),
            Attempt::Failed => saved.clone().map(|(m, b)| (m, b, true)),
            Attempt::Raised => {
                raised.push(i);
                saved.clone().map(|(m, b)| (m, b, true))
            }
        };
        if let Some((m, b, fb)) = pick {
            saved = Some((m.clone(), b));
            chosen.push((i, m, b, fb));
        }
    }

    // Phase 3: scale factors, in parallel.
    let mut out: Vec<ColumnSpline> = chosen
        .par_iter()
        .map_init(ScaleScratch::default, |sc, (i, m, b, fb)| {
            let x = i - c0;
            let scale = column_scale(prep.d.column(x), prep.a.column(x), m, *b, sc);
            ColumnSpline {
                column: *i,
                model: m.clone(),
                scale,
                bounds: *b,
                fallback: *fb,
            }
        })
        .collect();
    out.sort_by_key(|c| c.column);
    raised.sort_unstable();
    RegionFit {
        columns: out,
        raised,
    }
}

/// Reusable buffers of the scale factor.
#[derive(Default)]
pub(crate) struct ScaleScratch {
    alpha: Vec<f64>,
    flux: Vec<f32>,
    fit: Vec<f64>,
    ratio: Vec<f64>,
    w: Vec<f64>,
    tmp: Vec<f64>,
    sel: Vec<f64>,
    clip: ClipScratch<f64>,
}

/// Scale factor of spec 6.4 from the column flux at the rows with finite
/// alpha inside `bounds`.
fn column_scale(
    flux: ArrayView1<f32>,
    alpha: ArrayView1<f32>,
    model: &BSpline,
    (lo, hi): (f32, f32),
    s: &mut ScaleScratch,
) -> f64 {
    s.alpha.clear();
    s.flux.clear();
    for (&f, &a) in flux.iter().zip(alpha.iter()) {
        if a.is_finite() && a >= lo && a <= hi {
            s.alpha.push(f64::from(a));
            s.flux.push(f);
        }
    }
    s.fit.clear();
    s.fit.resize(s.alpha.len(), 0.0);
    model.eval_slice(&s.alpha, &mut s.fit);
    scale_from_fit(s)
}

/// Weighted mean ratio `flux / fit` (spec 6.4 steps 1-6).
///
/// The reference needs at least five rows (it raises otherwise); with fewer,
/// every row takes part in the selection of the largest weights. No row at
/// all gives 0.
fn scale_from_fit(s: &mut ScaleScratch) -> f64 {
    s.ratio.clear();
    s.ratio
        .extend(s.flux.iter().zip(&s.fit).map(|(&f, &m)| f64::from(f) / m));
    s.w.clear();
    s.w.extend(s.ratio.iter().zip(&s.fit).map(|(&r, &m)| {
        if !r.is_finite() || r < 0.0 || m < 0.0 {
            0.0
        } else {
            m
        }
    }));
    if s.w.is_empty() {
        return 0.0;
    }
    // 5th largest weight
    s.tmp.clear();
    s.tmp.extend_from_slice(&s.w);
    let k = s.tmp.len().saturating_sub(5);
    let (_, w5, _) = s.tmp.select_nth_unstable_by(k, |p, q| p.total_cmp(q));
    let w5 = *w5;
    s.sel.clear();
    s.sel.extend(
        s.ratio
            .iter()
            .zip(&s.w)
            .filter(|(r, &wv)| wv >= w5 && r.is_finite())
            .map(|(&r, _)| r),
    );
    let st = sigma_clip_stats(&s.sel, &mut s.clip);
    let lim = 2.0 * st.std;
    for (wv, &r) in s.w.iter_mut().zip(s.ratio.iter()) {
        if (st.mean - r).abs() > lim {
            *wv = 0.0;
        }
    }
    // w /= nansum(w); scale = nansum(ratio * w)
    s.tmp.clear();
    s.tmp
        .extend(s.w.iter().map(|&v| if v.is_nan() { 0.0 } else { v }));
    let total = pairwise_sum(&s.tmp);
    s.tmp.clear();
    s.tmp
        .extend(s.ratio.iter().zip(s.w.iter()).map(|(&r, &wv)| {
            let p = r * (wv / total);
            if p.is_nan() {
                0.0
            } else {
                p
            }
        }));
    pairwise_sum(&s.tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_of_a_perfect_model_is_the_flux_ratio() {
        let fit = vec![0.1, 0.2, 0.4, 0.2, 0.1, 0.05];
        let flux = fit.iter().map(|&m| (3.0 * m) as f32).collect();
        let mut s = ScaleScratch {
            fit,
            flux,
            ..ScaleScratch::default()
        };
        let v = scale_from_fit(&mut s);
        assert!((v - 3.0).abs() < 1e-6);
    }

    #[test]
    fn scale_with_fewer_than_five_rows_uses_all_rows() {
        // the reference raises IndexError here (5th largest weight)
        let mut s = ScaleScratch {
            fit: vec![0.2, 0.5, 0.3],
            flux: vec![0.4, 1.0, 0.6],
            ..ScaleScratch::default()
        };
        let v = scale_from_fit(&mut s);
        assert!((v - 2.0).abs() < 1e-6, "{v}");
        let mut empty = ScaleScratch::default();
        assert_eq!(scale_from_fit(&mut empty), 0.0);
    }

    #[test]
    fn scale_with_no_usable_weight_is_zero() {
        let mut s = ScaleScratch {
            fit: vec![-1.0; 6],
            flux: vec![1.0; 6],
            ..ScaleScratch::default()
        };
        assert_eq!(scale_from_fit(&mut s), 0.0);
    }
}
