//! Least-squares cubic B-spline fits with iterative rejection
//! (spec adaptive_trace_model.md 6.3).
//!
//! [`bspline_fit`] reproduces `jwst.adaptive_trace_model.bspline.bspline_fit`:
//! a spacing filter that drops points following unusually large gaps, a gap
//! test that refuses to fit data with too little coverage for the requested
//! knot spacing, uniformly spaced interior knots (numpy `arange` semantics,
//! in the data's precision), an orthogonal (Givens QR) least-squares solve,
//! and iterative rejection of outliers. The result evaluates like
//! `scipy.interpolate.BSpline` ([`BSpline::eval`]).
//!
//! ```
//! use pyspec_core::bspline::{bspline_fit, FitParams};
//!
//! let x: Vec<f64> = (0..200).map(|i| i as f64 * 0.05).collect();
//! let y: Vec<f64> = x.iter().map(|v| (-(v - 5.0) * (v - 5.0)).exp()).collect();
//! let params = FitParams { nbkpts: 20, iterations: 1, ..FitParams::default() };
//! let spline = bspline_fit(&x, &y, &params).unwrap().expect("well-sampled data fit");
//! assert!((spline.eval(5.0) - 1.0).abs() < 1e-2);
//! ```

pub mod lsq;
pub mod numeric;

use crate::{Error, Result};
pub use lsq::Method;
use lsq::{LsqError, LsqWork, K};
use numeric::{arange_into, sigma_clip_stats, ClipScratch, Real};

/// A cubic B-spline `s(x) = Σ c_i B_i(x)` on a knot vector `t`, evaluated with
/// extrapolation of the end pieces (as `scipy.interpolate.BSpline`).
#[derive(Debug, Clone, PartialEq)]
pub struct BSpline {
    t: Vec<f64>,
    c: Vec<f64>,
}

impl BSpline {
    /// Degree of every spline of this module.
    pub const DEGREE: usize = K;

    /// Build a spline from knots and coefficients.
    ///
    /// Requires at least `2·(k+1) = 8` non-decreasing finite knots and at
    /// least `len(t) − 4` coefficients (extra coefficients are ignored, as in
    /// scipy).
    pub fn new(t: Vec<f64>, c: Vec<f64>) -> Result<Self> {
        if t.len() < 2 * (K + 1) {
            return Err(Error::value(format!(
                "a cubic B-spline needs at least {} knots, got {}",
                2 * (K + 1),
                t.len()
            )));
        }
        if t.iter().any(|v| !v.is_finite()) || t.windows(2).any(|w| w[1] < w[0]) {
            return Err(Error::value("knots must be finite and non-decreasing"));
        }
        let n = t.len() - K - 1;
        if c.len() < n {
            return Err(Error::value(format!(
                "need at least len(t) - 4 = {n} coefficients, got {}",
                c.len()
            )));
        }
        let mut c = c;
        c.truncate(n);
        Ok(Self { t, c })
    }

    /// Knot vector (float64), clamped: the first and last knots repeat four times.
    pub fn knots(&self) -> &[f64] {
        &self.t
    }

    /// Coefficients (`len(t) − 4` values).
    pub fn coefficients(&self) -> &[f64] {
        &self.c
    }

    /// Number of distinct knots minus one (= number of knot intervals), the
    /// `len(np.unique(t)) - 1` that sets the compact-source histogram binning.
    pub fn n_intervals(&self) -> usize {
        let mut n = 0usize;
        for w in self.t.windows(2) {
            if w[1] != w[0] {
                n += 1;
            }
        }
        n
    }

    /// Value at `x` (NaN for NaN input; outside `[t[3], t[n]]` the end
    /// polynomial pieces are extrapolated).
    pub fn eval(&self, x: f64) -> f64 {
        let mut prev = K;
        lsq::eval_one(&self.t, &self.c, x, &mut prev)
    }

    /// Values at every `x` (`out.len()` must equal `x.len()`; extra outputs
    /// are left untouched).
    pub fn eval_slice(&self, x: &[f64], out: &mut [f64]) {
        let mut prev = K;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = lsq::eval_one(&self.t, &self.c, v, &mut prev);
        }
    }

    /// Values at every `x` converted to double precision.
    pub fn eval_iter<'a, T: Real>(
        &'a self,
        x: impl IntoIterator<Item = T> + 'a,
    ) -> impl Iterator<Item = f64> + 'a {
        let mut prev = K;
        x.into_iter()
            .map(move |v| lsq::eval_one(&self.t, &self.c, v.to_f64(), &mut prev))
    }
}

/// Parameters of [`bspline_fit`] (the reference's keyword names in brackets).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitParams {
    /// Number of knot intervals `[nbkpts]` (default 50).
    pub nbkpts: i64,
    /// Lower rejection threshold in σ `[wrapsig_low]` (default 3).
    pub sigma_low: f64,
    /// Upper rejection threshold in σ `[wrapsig_high]` (default 3).
    pub sigma_high: f64,
    /// Maximum number of fit/reject iterations `[wrapiter]` (default 3; `<= 0`
    /// gives no fit).
    pub iterations: i64,
    /// Largest allowed ratio of the 10th largest data gap to the knot spacing
    /// `[space_ratio]` (default 1.2).
    pub space_ratio: f64,
    /// Least-squares solver (default [`Method::Givens`], bitwise equal to
    /// the reference).
    pub method: Method,
}

impl Default for FitParams {
    fn default() -> Self {
        Self {
            nbkpts: 50,
            sigma_low: 3.0,
            sigma_high: 3.0,
            iterations: 3,
            space_ratio: 1.2,
            method: Method::Givens,
        }
    }
}

/// How the rejection loop of the last [`bspline_fit_with`] call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stop {
    /// No iteration completed (gap test failed, or the first fit failed).
    #[default]
    NoFit,
    /// The iteration limit was reached.
    MaxIterations,
    /// An iteration rejected nothing.
    Converged,
    /// Fewer than 80 % of the points survived rejection; the last fit is kept.
    TooManyRejected,
    /// A later least-squares fit failed; the previous fit is kept.
    FitFailed,
}

/// Reusable buffers of [`bspline_fit_with`], plus a record of the last call.
#[derive(Debug, Default, Clone)]
pub struct FitWork<T> {
    xu: Vec<T>,
    yu: Vec<f64>,
    xs: Vec<T>,
    xd: Vec<f64>,
    yd: Vec<f64>,
    gaps: Vec<f64>,
    tmp: Vec<f64>,
    clip: ClipScratch<f64>,
    interior: Vec<f64>,
    t: Vec<f64>,
    c: Vec<f64>,
    last_t: Vec<f64>,
    last_c: Vec<f64>,
    fit: Vec<f64>,
    keep: Vec<bool>,
    lsq: LsqWork,
    /// `(rejected, kept)` after every rejection step of the last call.
    pub history: Vec<(usize, usize)>,
    /// How the last call ended.
    pub stop: Stop,
}

impl<T: Real> FitWork<T> {
    /// Empty buffers.
    pub fn new() -> Self {
        Self {
            xu: Vec::new(),
            yu: Vec::new(),
            xs: Vec::new(),
            xd: Vec::new(),
            yd: Vec::new(),
            gaps: Vec::new(),
            tmp: Vec::new(),
            clip: ClipScratch::default(),
            interior: Vec::new(),
            t: Vec::new(),
            c: Vec::new(),
            last_t: Vec::new(),
            last_c: Vec::new(),
            fit: Vec::new(),
            keep: Vec::new(),
            lsq: LsqWork::default(),
            history: Vec::new(),
            stop: Stop::NoFit,
        }
    }
}

/// Least-squares cubic B-spline fit with the spacing filter, gap test, knot
/// rule and iterative rejection of spec section 6.3.
///
/// `x` should be sorted ascending (the fit fails otherwise, as in the
/// reference); pairs with a non-finite member are ignored. Arithmetic that
/// the reference performs in the input precision (knot spacing, knot
/// positions) is performed in `T`, so `f32` input reproduces the reference on
/// float32 data.
///
/// Returns
/// * `Ok(Some(spline))`: the fit of the last successful iteration;
/// * `Ok(None)`: the gap test failed, or the first least-squares fit failed
///   (construction error, NaN in the fit, non-finite coefficients, or fewer
///   data points than coefficients);
/// * `Err(Error::Value)` where the reference raises: no finite pair, fewer
///   than 10 finite pairs, or a knot spacing of zero or NaN.
pub fn bspline_fit<T: Real, U: Real>(
    x: &[T],
    y: &[U],
    params: &FitParams,
) -> Result<Option<BSpline>> {
    bspline_fit_with(x, y, params, &mut FitWork::new())
}

/// [`bspline_fit`] with caller-supplied buffers (no allocation once warm
/// except the returned spline). `work.history`/`work.stop` describe the call.
pub fn bspline_fit_with<T: Real, U: Real>(
    x: &[T],
    y: &[U],
    params: &FitParams,
    w: &mut FitWork<T>,
) -> Result<Option<BSpline>> {
    w.history.clear();
    w.stop = Stop::NoFit;
    if x.len() != y.len() {
        return Err(Error::shape(format!(
            "x and y lengths differ ({} vs {})",
            x.len(),
            y.len()
        )));
    }
    // 1. finite pairs
    w.xu.clear();
    w.yu.clear();
    for (&a, &b) in x.iter().zip(y) {
        if a.is_finite() && b.is_finite() {
            w.xu.push(a);
            w.yu.push(b.to_f64());
        }
    }
    // 2. spacing filter (spacings in float64: numpy promotes the int prepend)
    w.gaps.clear();
    let mut prev = 0.0f64;
    for &a in &w.xu {
        let v = a.to_f64();
        w.gaps.push((v - prev).abs());
        prev = v;
    }
    let st = sigma_clip_stats(&w.gaps, &mut w.clip);
    w.xs.clear();
    w.yd.clear();
    if st.std.is_finite() {
        let limit = st.mean + 5.0 * st.std;
        for ((&a, &b), &g) in w.xu.iter().zip(&w.yu).zip(&w.gaps) {
            if g <= limit {
                w.xs.push(a);
                w.yd.push(b);
            }
        }
    } else {
        w.xs.extend_from_slice(&w.xu);
        w.yd.extend_from_slice(&w.yu);
    }
    // 3. gap test
    let nb = T::from_f64(params.nbkpts as f64);
    let (lo, hi) = min_max(&w.xs).ok_or_else(|| {
        Error::value("zero-size array to reduction operation maximum which has no identity")
    })?;
    let ks = (hi - lo) / nb;
    if w.gaps.len() < 10 {
        return Err(Error::value(format!(
            "kth(=-1) out of bounds ({})",
            w.gaps.len()
        )));
    }
    w.tmp.clear();
    w.tmp.extend_from_slice(&w.gaps);
    let idx = w.tmp.len() - 10;
    let (_, tenth, _) = w.tmp.select_nth_unstable_by(idx, |a, b| a.total_cmp(b));
    let tenth = *tenth;
    if tenth > (T::from_f64(params.space_ratio) * ks).to_f64() {
        return Ok(None);
    }
    // 4. fit / reject
    let norig = w.xs.len();
    let mut have_last = false;
    w.xd.clear();
    w.xd.extend(w.xs.iter().map(|v| v.to_f64()));
    let two = T::from_f64(2.0);
    for it in 0..params.iterations.max(0) {
        let (lo, hi) = min_max(&w.xs).ok_or_else(|| Error::value("no data left"))?;
        let ks = (hi - lo) / nb;
        let k0 = lo + ks / two;
        let k1 = hi - ks / two;
        arange_into(k0, k1, ks, &mut w.interior)?;
        let (xb, xe) = match (w.xd.first(), w.xd.last()) {
            (Some(&a), Some(&b)) => (a, b),
            _ => return Err(Error::value("no data left")),
        };
        w.t.clear();
        w.t.extend_from_slice(&[xb; K + 1]);
        w.t.extend_from_slice(&w.interior);
        w.t.extend_from_slice(&[xe; K + 1]);
        // A rejection step that kept the extreme points leaves the knots
        // unchanged: reuse the basis values of the kept rows.
        let solved = if it > 0 && w.t == w.last_t {
            lsq::solve_subset(
                &w.keep,
                &w.xd,
                &w.yd,
                &w.t,
                &mut w.lsq,
                &mut w.c,
                params.method,
            )
        } else {
            lsq::solve(&w.xd, &w.yd, &w.t, &mut w.lsq, &mut w.c, params.method)
        };
        match solved {
            Ok(()) => {}
            Err(LsqError::Construction) | Err(LsqError::Underdetermined) => {
                if have_last {
                    w.stop = Stop::FitFailed;
                }
                break;
            }
        }
        lsq::eval_at_data(&w.lsq, &w.c, &mut w.fit);
        if w.fit.iter().any(|v| v.is_nan()) || w.c.iter().any(|v| !v.is_finite()) {
            if have_last {
                w.stop = Stop::FitFailed;
            }
            break;
        }
        std::mem::swap(&mut w.last_t, &mut w.t);
        std::mem::swap(&mut w.last_c, &mut w.c);
        have_last = true;
        if it == params.iterations - 1 {
            w.stop = Stop::MaxIterations;
            break;
        }
        // residuals (float64) and population std
        w.tmp.clear();
        w.tmp
            .extend(w.yd.iter().zip(&w.fit).map(|(&yv, &fv)| yv - fv));
        let mut sq = std::mem::take(&mut w.gaps);
        let rms = numeric::std(&w.tmp, &mut sq);
        w.gaps = sq;
        let lo_lim = -params.sigma_low * rms;
        let hi_lim = params.sigma_high * rms;
        let nrej = w.tmp.iter().filter(|&&d| d < lo_lim || d > hi_lim).count();
        let nkeep = w.tmp.len() - nrej;
        w.history.push((nrej, nkeep));
        if (nkeep as f64) < 0.8 * norig as f64 {
            w.stop = Stop::TooManyRejected;
            break;
        } else if nrej == 0 {
            w.stop = Stop::Converged;
            break;
        }
        w.keep.clear();
        w.keep
            .extend(w.tmp.iter().map(|&d| !(d < lo_lim || d > hi_lim)));
        let mut k = 0;
        for i in 0..w.tmp.len() {
            if w.keep[i] {
                w.xs[k] = w.xs[i];
                w.xd[k] = w.xd[i];
                w.yd[k] = w.yd[i];
                k += 1;
            }
        }
        w.xs.truncate(k);
        w.xd.truncate(k);
        w.yd.truncate(k);
    }
    if !have_last {
        return Ok(None);
    }
    Ok(Some(BSpline {
        t: w.last_t.clone(),
        c: w.last_c.clone(),
    }))
}

fn min_max<T: Real>(v: &[T]) -> Option<(T, T)> {
    let first = *v.first()?;
    let mut lo = first;
    let mut hi = first;
    for &a in v {
        if a < lo {
            lo = a;
        }
        if a > hi {
            hi = a;
        }
    }
    Some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_data_is_reproduced() {
        let x: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let y = vec![1.0; 100];
        let s = bspline_fit(&x, &y, &FitParams::default()).unwrap().unwrap();
        for &v in &x {
            assert!((s.eval(v) - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn too_few_points_raise_and_sparse_points_fail() {
        let x: Vec<f64> = (0..9).map(|i| i as f64).collect();
        assert!(bspline_fit(&x, &x, &FitParams::default()).is_err());
        let x: Vec<f64> = (0..20).map(|i| 50.0 * i as f64).collect();
        let p = FitParams {
            iterations: 1,
            ..FitParams::default()
        };
        assert_eq!(bspline_fit(&x, &x, &p).unwrap(), None);
    }

    #[test]
    fn knots_are_clamped_and_cover_the_data() {
        let x: Vec<f32> = (0..300).map(|i| -3.0 + i as f32 * 0.02).collect();
        let y: Vec<f32> = x.iter().map(|v| (-v * v).exp()).collect();
        let p = FitParams {
            nbkpts: 30,
            iterations: 1,
            ..FitParams::default()
        };
        let s = bspline_fit(&x, &y, &p).unwrap().unwrap();
        let t = s.knots();
        assert_eq!(&t[..4], &[t[0]; 4]);
        assert_eq!(&t[t.len() - 4..], &[t[t.len() - 1]; 4]);
        assert_eq!(s.coefficients().len(), t.len() - 4);
        // the first point (far from zero) is dropped by the spacing filter
        assert_eq!(t[0], f64::from(x[1]));
    }
}
