//! numpy/astropy-compatible reductions (spec adaptive_trace_model.md 12, 13.3, 13.7).
//!
//! The reference computes its statistics with numpy on float32 or float64
//! arrays. Decisions of the algorithm (`<=`, `>`) compare against these
//! statistics, so they are reproduced here with numpy's exact arithmetic:
//!
//! * sums use numpy's pairwise summation (blocks of 128 with eight partial
//!   accumulators) in the element type;
//! * means and variances divide the element-type sum by the count in double
//!   precision and round back to the element type;
//! * medians average the two middle values in the element type;
//! * `arange` with scalar arguments has numpy's length and element formula.

pub use crate::real::Real;

/// numpy's pairwise sum of a contiguous array (`np.sum` / `np.add.reduce`).
///
/// Fewer than 8 elements are summed in order; up to 128 elements use eight
/// interleaved partial sums combined as `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))`
/// plus the remainder in order; longer arrays are split at `n/2` rounded down
/// to a multiple of 8 and the halves summed recursively.
pub fn pairwise_sum<T: Real>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        // numpy starts from -0.0 so that a sum of negative zeros stays -0.0.
        let mut res = -T::ZERO;
        for &v in a {
            res = res + v;
        }
        res
    } else if n <= 128 {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            let blk = &a[i..i + 8];
            for (acc, &v) in r.iter_mut().zip(blk) {
                *acc = *acc + v;
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[full..] {
            res = res + v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        let (lo, hi) = a.split_at(n2);
        pairwise_sum(lo) + pairwise_sum(hi)
    }
}

/// numpy's mean of a 1-D array: pairwise sum in `T`, divided by the count in
/// double precision and rounded to `T`. NaN for an empty slice.
pub fn mean<T: Real>(a: &[T]) -> T {
    if a.is_empty() {
        return T::NAN;
    }
    T::from_f64(pairwise_sum(a).to_f64() / a.len() as f64)
}

/// numpy's population standard deviation (`np.std`/`np.nanstd` with
/// `ddof=0`) of NaN-free data; `scratch` is reused for the deviations.
/// NaN for an empty slice.
pub fn std<T: Real>(a: &[T], scratch: &mut Vec<T>) -> T {
    if a.is_empty() {
        return T::NAN;
    }
    let avg = mean(a);
    scratch.clear();
    scratch.extend(a.iter().map(|&v| {
        let d = v - avg;
        d * d
    }));
    let var = T::from_f64(pairwise_sum(scratch).to_f64() / a.len() as f64);
    var.sqrt()
}

/// numpy's median of NaN-free data (the two middle values are added in `T`
/// and halved in double precision). Reorders `a`. NaN for an empty slice.
pub fn median_in_place<T: Real>(a: &mut [T]) -> T {
    let n = a.len();
    if n == 0 {
        return T::NAN;
    }
    let h = n / 2;
    let (left, mid, _) = a.select_nth_unstable_by(h, |x, y| x.total_cmp(y));
    let upper = *mid;
    if n % 2 == 1 {
        return upper;
    }
    let mut lower = left[0];
    for &v in left.iter() {
        if v.total_cmp(&lower).is_gt() {
            lower = v;
        }
    }
    T::from_f64((lower + upper).to_f64() / 2.0)
}

/// Median of NaN-free data without modifying it (copies into `scratch`).
pub fn median<T: Real>(a: &[T], scratch: &mut Vec<T>) -> T {
    scratch.clear();
    scratch.extend_from_slice(a);
    median_in_place(scratch)
}

/// `np.nanmedian`: median of the non-NaN values (infinite values take part,
/// as in numpy). NaN when every value is NaN.
pub fn nanmedian<T: Real>(a: &[T], scratch: &mut Vec<T>) -> T {
    scratch.clear();
    scratch.extend(a.iter().copied().filter(|v| !v.is_nan()));
    median_in_place(scratch)
}

/// Statistics returned by [`sigma_clip_stats`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipStats<T> {
    /// Mean of the retained values (NaN if none).
    pub mean: T,
    /// Median of the retained values (NaN if none).
    pub median: T,
    /// Population standard deviation of the retained values (NaN if none).
    pub std: T,
}

/// Reusable buffers for [`sigma_clip_stats`].
#[derive(Debug, Default, Clone)]
pub struct ClipScratch<T> {
    kept: Vec<T>,
    tmp: Vec<T>,
    next: Vec<T>,
}

/// astropy's `sigma_clipped_stats(v)` with its defaults (3σ both sides,
/// at most 5 iterations, median centre, population std), spec section 12.1.
///
/// Non-finite values are dropped first; each iteration keeps
/// `median − 3·std <= v <= median + 3·std` (bounds computed in `T`) and stops
/// when nothing was removed. An empty input gives NaN statistics.
pub fn sigma_clip_stats<T: Real>(values: &[T], s: &mut ClipScratch<T>) -> ClipStats<T> {
    s.kept.clear();
    s.kept
        .extend(values.iter().copied().filter(|v| v.is_finite()));
    sigma_clip_kept(s)
}

/// [`sigma_clip_stats`] of values supplied by an iterator.
pub fn sigma_clip_stats_iter<T: Real, I: IntoIterator<Item = T>>(
    values: I,
    s: &mut ClipScratch<T>,
) -> ClipStats<T> {
    s.kept.clear();
    s.kept.extend(values.into_iter().filter(|v| v.is_finite()));
    sigma_clip_kept(s)
}

fn sigma_clip_kept<T: Real>(s: &mut ClipScratch<T>) -> ClipStats<T> {
    let three = T::from_f64(3.0);
    for _ in 0..5 {
        let size = s.kept.len();
        if size == 0 {
            break;
        }
        let cen = median(&s.kept, &mut s.tmp);
        let sd = std(&s.kept, &mut s.tmp);
        let lo = cen - sd * three;
        let hi = cen + sd * three;
        s.next.clear();
        s.next
            .extend(s.kept.iter().copied().filter(|&v| v >= lo && v <= hi));
        std::mem::swap(&mut s.kept, &mut s.next);
        if s.kept.len() == size {
            break;
        }
    }
    ClipStats {
        mean: mean(&s.kept),
        median: median(&s.kept, &mut s.tmp),
        std: std(&s.kept, &mut s.tmp),
    }
}

/// Longest `arange` built (numpy would attempt any length that fits in
/// memory; beyond this the caller gets an error instead of an allocation
/// failure).
pub const MAX_ARANGE: f64 = 1e8;

/// Length of numpy's `arange(start, stop, step)` for scalar arguments of type
/// `T`: `ceil((stop − start) / step)` evaluated in `T`, at least 0.
///
/// Errors (as numpy raises) when the quotient is NaN or too large.
pub fn arange_len<T: Real>(start: T, stop: T, step: T) -> crate::Result<usize> {
    let q = ((stop - start) / step).to_f64();
    if q.is_nan() {
        return Err(crate::Error::value("arange: cannot compute length"));
    }
    let len = q.ceil();
    if len <= 0.0 {
        return Ok(0);
    }
    if len > MAX_ARANGE {
        return Err(crate::Error::value("arange: maximum allowed size exceeded"));
    }
    Ok(len as usize)
}

/// numpy's `arange(start, stop, step)` with scalar arguments of type `T`,
/// which yields a float64 array: element 0 is `start`, element 1 is
/// `start + step` rounded in `T`, element `j >= 2` is `b0 + j·(b1 − b0)` in
/// double precision (spec section 13.3).
pub fn arange_into<T: Real>(start: T, stop: T, step: T, out: &mut Vec<f64>) -> crate::Result<()> {
    let n = arange_len(start, stop, step)?;
    out.clear();
    if n == 0 {
        return Ok(());
    }
    let b0 = start.to_f64();
    out.push(b0);
    if n == 1 {
        return Ok(());
    }
    let b1 = (start + step).to_f64();
    out.push(b1);
    let delta = b1 - b0;
    for j in 2..n {
        out.push(b0 + j as f64 * delta);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_sequential_for_short_arrays() {
        let a = [1.0f32, 2.0, 3.0];
        assert_eq!(pairwise_sum(&a), 6.0);
        let e: [f32; 0] = [];
        assert_eq!(pairwise_sum(&e), 0.0);
    }

    #[test]
    fn median_of_even_count_averages_middle_values() {
        let mut a = [4.0f64, 1.0, 3.0, 2.0];
        assert_eq!(median_in_place(&mut a), 2.5);
        let mut b = [5.0f32, 1.0, 3.0];
        assert_eq!(median_in_place(&mut b), 3.0);
    }

    #[test]
    fn sigma_clip_drops_outlier_and_nonfinite() {
        let mut v: Vec<f64> = (0..20).map(|i| (i % 5) as f64).collect();
        v.push(1000.0);
        v.push(f64::NAN);
        let st = sigma_clip_stats(&v, &mut ClipScratch::default());
        assert_eq!(st.median, 2.0);
        assert_eq!(st.mean, 2.0);
        assert!((st.std - 2.0f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn sigma_clip_of_empty_is_nan() {
        let st = sigma_clip_stats::<f32>(&[], &mut ClipScratch::default());
        assert!(st.mean.is_nan() && st.median.is_nan() && st.std.is_nan());
    }

    #[test]
    fn arange_follows_numpy_length_rule() {
        let mut out = Vec::new();
        arange_into(0.0f64, 1.0, 0.25, &mut out).unwrap();
        assert_eq!(out, vec![0.0, 0.25, 0.5, 0.75]);
        assert!(arange_into(0.0f32, 0.0, 0.0, &mut out).is_err());
        arange_into(1.0f32, 0.0, 0.5, &mut out).unwrap();
        assert!(out.is_empty());
    }
}
