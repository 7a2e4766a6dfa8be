//! Weight threshold of the median mask
//! (`stcal.outlier_detection.utils.compute_weight_threshold`, spec §5.3).
//!
//! numpy's reductions are reproduced operation for operation: its pairwise
//! summation (blocks of 8 partial sums, halving above 128 values), the
//! element-type arithmetic of `nanstd`, and the 8192-element buffering of a
//! float32 → float64 `mean`. The result is therefore, in practice, bitwise
//! equal to the reference's, and it never depends on the thread count: the
//! summation tree is fixed, only its two halves may run on different threads.

use ndarray::{ArrayBase, Data, Dimension};

use crate::median::network::median_of;
use crate::median::Real;

/// numpy's `pairwise_sum` over `f(0..n)`, accumulating in `A`.
fn pairwise<A: Real>(n: usize, f: &(impl Fn(usize) -> A + Sync), lo: usize) -> A {
    if n < 8 {
        let mut res = A::from_f64(-0.0); // numpy starts from -0.0
        for i in lo..lo + n {
            res = res + f(i);
        }
        res
    } else if n <= 128 {
        let mut r = [A::ZERO; 8];
        for (j, rj) in r.iter_mut().enumerate() {
            *rj = f(lo + j);
        }
        let mut i = 8;
        while i < n - (n % 8) {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj = *rj + f(lo + i + j);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res = res + f(lo + i);
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        let (a, b) = if n > (1 << 16) {
            rayon::join(|| pairwise(n2, f, lo), || pairwise(n - n2, f, lo + n2))
        } else {
            (pairwise(n2, f, lo), pairwise(n - n2, f, lo + n2))
        };
        a + b
    }
}

/// `numpy.sum(v)` of a contiguous array in its own type.
fn np_sum<T: Real>(v: &[T]) -> T {
    pairwise(v.len(), &|i| v[i], 0)
}

/// `numpy.nanstd(v)` (population, ddof = 0) of a NaN-free array, in `T`.
fn np_std<T: Real>(v: &[T]) -> T {
    let n = v.len();
    let avg = T::from_f64(np_sum(v).to_f64() / n as f64);
    let sq = pairwise(
        n,
        &|i| {
            let d = v[i] - avg;
            d * d
        },
        0,
    );
    T::from_f64(sq.to_f64() / n as f64).sqrt()
}

/// `numpy.mean(v, dtype="f8")`: float64 pairwise sums over buffers of 8192
/// elements when `T` is float32 (the cast is buffered), over the whole array
/// when it is already float64.
fn np_mean_f64<T: Real>(v: &[T]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let total = if T::WIDE {
        pairwise(n, &|i| v[i].to_f64(), 0)
    } else {
        let mut acc: Option<f64> = None;
        for chunk in v.chunks(8192) {
            let s = pairwise(chunk.len(), &|i| chunk[i].to_f64(), 0);
            acc = Some(match acc {
                Some(a) => a + s,
                None => s,
            });
        }
        acc.unwrap_or(0.0)
    };
    total / n as f64
}

/// Weight threshold of the median mask: the sigma-clipped (3σ about the
/// median, population std, at most 5 iterations, astropy's `sigma_clip` with
/// `axis=None`) mean of the finite, non-zero weights, times `maskpt`.
///
/// The median, the std and the clipping bounds are computed in `T` (float32
/// for float32 weights), the mean in `f64`. No usable weight gives NaN (a
/// NaN threshold masks nothing). Values are taken in C order, as numpy's
/// boolean indexing does.
pub fn weight_threshold<T: Real, S: Data<Elem = T> + Sync, D: Dimension>(
    weight: &ArrayBase<S, D>,
    maskpt: f64,
) -> f64 {
    crate::parallel::install(|| clipped_mean(weight, maskpt))
}

fn clipped_mean<T: Real, S: Data<Elem = T>, D: Dimension>(
    weight: &ArrayBase<S, D>,
    maskpt: f64,
) -> f64 {
    let mut v: Vec<T> = weight
        .iter()
        .copied()
        .filter(|&x| x.is_finite() && x != T::ZERO)
        .collect();
    let three = T::from_f64(3.0);
    let mut scratch: Vec<T> = Vec::with_capacity(v.len());
    for _ in 0..5 {
        if v.is_empty() {
            break;
        }
        let size = v.len();
        scratch.clear();
        scratch.extend_from_slice(&v);
        let cen = median_of(&mut scratch);
        let std = np_std(&v);
        let lo = cen - std * three;
        let hi = cen + std * three;
        v.retain(|&x| x >= lo && x <= hi);
        if v.len() == size {
            break;
        }
    }
    np_mean_f64(&v) * maskpt
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    #[test]
    fn constant_weight_gives_maskpt_times_it() {
        let a = Array2::<f32>::from_elem((5, 5), 11.0);
        assert_eq!(weight_threshold(&a, 0.5), 5.5);
        let a = Array3::<f32>::from_elem((3, 3, 3), 17.0);
        assert_eq!(weight_threshold(&a, 0.5), 8.5);
    }

    #[test]
    fn an_outlier_is_clipped_and_zeros_are_ignored() {
        let mut a = Array3::<f32>::from_elem((7, 7, 7), 42.0);
        for x in 0..7 {
            a[[3, 3, x]] = 9000.0;
        }
        assert_eq!(weight_threshold(&a, 0.5), 21.0);
        let mut b = Array2::<f32>::zeros((10, 10));
        for y in 0..5 {
            for x in 0..5 {
                b[[y, x]] = 42.0;
            }
        }
        assert_eq!(weight_threshold(&b, 0.5), 21.0);
    }

    #[test]
    fn no_usable_weight_gives_nan() {
        let a = Array2::<f32>::zeros((4, 4));
        assert!(weight_threshold(&a, 0.7).is_nan());
        let b = Array2::<f32>::from_elem((2, 2), f32::NAN);
        assert!(weight_threshold(&b, 0.7).is_nan());
    }

    #[test]
    fn pairwise_sum_small_cases() {
        let v: Vec<f32> = (0..300).map(|i| i as f32 * 0.1).collect();
        let direct: f64 = v.iter().map(|&x| x as f64).sum();
        assert!((np_sum(&v) as f64 - direct).abs() < 1e-2);
    }
}
