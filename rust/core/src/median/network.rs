//! Selection of order statistics for many pixels at once.
//!
//! The values of [`LANES`] neighbouring pixels are laid out
//! structure-of-arrays (`v[k][lane]` = value `k` of pixel `lane`) and put in
//! order by a sorting network (Batcher's odd-even merge sort), pruned to the
//! comparators that can change the ranks asked for. Every comparator is a
//! branch-free `min`/`max` over the lanes, which the compiler vectorises.
//! For long stacks ([`NETWORK_MAX`] values or more) a per-pixel quickselect
//! is used instead. Both give exactly the requested order statistic.

use crate::real::Real;

/// Number of pixels processed together.
pub(crate) const LANES: usize = 32;

/// Largest number of values per pixel ordered with a sorting network; above
/// this a per-pixel selection is used.
pub(crate) const NETWORK_MAX: usize = 96;

/// One lane block: value `k` of [`LANES`] pixels.
pub(crate) type Lane<T> = [T; LANES];

/// A comparator network that puts `n` values in ascending order at the ranks
/// it was built for.
#[derive(Debug, Clone)]
pub(crate) struct SortNet {
    n: usize,
    comps: Vec<(u32, u32)>,
}

impl SortNet {
    /// Network over `n` values that yields the correct values at every rank
    /// in `lo..=hi` (clamped to `n - 1`).
    pub(crate) fn new(n: usize, lo: usize, hi: usize) -> Self {
        let mut all = Vec::new();
        if n > 1 {
            let p = n.next_power_of_two();
            // Batcher's odd-even merge sort on p values; comparators that touch
            // a padding position (>= n, conceptually +inf) never move anything
            // and are dropped.
            let mut size = 1;
            while size < p {
                let mut k = size;
                while k >= 1 {
                    let mut j = k % size;
                    while j + k < p {
                        for i in 0..k.min(p - j - k) {
                            let a = i + j;
                            let b = i + j + k;
                            if a / (2 * size) == b / (2 * size) && b < n {
                                all.push((a as u32, b as u32));
                            }
                        }
                        j += 2 * k;
                    }
                    k /= 2;
                }
                size *= 2;
            }
        }
        // Backward pruning: keep a comparator only if one of its outputs is
        // needed later (by a kept comparator or as a requested rank).
        let mut needed = vec![false; n];
        let hi = hi.min(n.saturating_sub(1));
        for r in lo..=hi {
            if let Some(x) = needed.get_mut(r) {
                *x = true;
            }
        }
        let mut kept = Vec::with_capacity(all.len());
        for &(a, b) in all.iter().rev() {
            let (ia, ib) = (a as usize, b as usize);
            if needed[ia] || needed[ib] {
                needed[ia] = true;
                needed[ib] = true;
                kept.push((a, b));
            }
        }
        kept.reverse();
        SortNet { n, comps: kept }
    }

    /// Apply the network to `v[..n]` (NaN-free values), lane by lane, with
    /// the widest vector instructions the CPU offers (min and max are exact,
    /// so the result does not depend on the CPU).
    #[inline]
    pub(crate) fn apply<T: Real>(&self, v: &mut [Lane<T>]) {
        #[cfg(target_arch = "x86_64")]
        {
            if super::simd::has_avx2() {
                // SAFETY: the CPU supports AVX2 (checked just above), the only
                // precondition of a `#[target_feature(enable = "avx2")]` function.
                unsafe { self.apply_avx2(v) };
                return;
            }
        }
        self.apply_generic(v);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn apply_avx2<T: Real>(&self, v: &mut [Lane<T>]) {
        self.apply_generic(v);
    }

    #[inline(always)]
    fn apply_generic<T: Real>(&self, v: &mut [Lane<T>]) {
        let len = self.n.min(v.len());
        let v = &mut v[..len];
        for &(a, b) in &self.comps {
            let (lo, hi) = v.split_at_mut(b as usize);
            let (Some(x), Some(y)) = (lo.get_mut(a as usize), hi.first_mut()) else {
                continue;
            };
            for l in 0..LANES {
                let p = x[l];
                let q = y[l];
                x[l] = T::min_nn(p, q);
                y[l] = T::max_nn(p, q);
            }
        }
    }
}

/// Rank `k` (0-based, ascending) of the NaN-free slice `vals`, reordering it.
#[inline]
pub(crate) fn select<T: Real>(vals: &mut [T], k: usize) -> T {
    let (_, x, _) = vals.select_nth_unstable_by(k, |a, b| {
        a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
    });
    *x
}

/// Largest value of the NaN-free slice `vals` (`-inf` when empty).
#[inline]
pub(crate) fn max_of<T: Real>(vals: &[T]) -> T {
    vals.iter()
        .fold(T::ZERO - T::INFINITY, |m, &x| T::max_nn(m, x))
}

/// Smallest value of the NaN-free slice `vals` (`+inf` when empty).
#[inline]
pub(crate) fn min_of<T: Real>(vals: &[T]) -> T {
    vals.iter().fold(T::INFINITY, |m, &x| T::min_nn(m, x))
}

/// Median of the NaN-free slice `vals` with numpy's semantics: the middle
/// value for an odd count, the `T` mean `(a + b) / 2` of the two middle
/// values for an even count, NaN when empty; a zero result is `+0.0`.
/// Reorders `vals`.
#[inline]
pub(crate) fn median_of<T: Real>(vals: &mut [T]) -> T {
    let m = vals.len();
    if m == 0 {
        return T::NAN;
    }
    let k = m / 2;
    let b = select(vals, k);
    if m % 2 == 1 {
        b + T::ZERO
    } else {
        let a = max_of(&vals[..k]);
        T::half_sum(a, b) + T::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sort_lanes(net: &SortNet, vals: &[f32]) -> Vec<f32> {
        let mut v = vec![[0.0f32; LANES]; vals.len()];
        for (k, &x) in vals.iter().enumerate() {
            v[k] = [x; LANES];
        }
        net.apply(&mut v);
        v.iter().map(|l| l[0]).collect()
    }

    #[test]
    fn network_sorts_every_binary_input_up_to_twelve_values() {
        // 0-1 principle: a network sorts everything iff it sorts all 0/1 inputs.
        for n in 1..=12usize {
            let net = SortNet::new(n, 0, n - 1);
            for bits in 0u32..(1 << n) {
                let vals: Vec<f32> = (0..n).map(|i| ((bits >> i) & 1) as f32).collect();
                let got = sort_lanes(&net, &vals);
                let mut want = vals.clone();
                want.sort_by(|a, b| a.partial_cmp(b).unwrap());
                assert_eq!(got, want, "n={n} bits={bits:b}");
            }
        }
    }

    #[test]
    fn pruned_network_gives_the_requested_ranks() {
        let mut seed = 12345u64;
        for n in [13usize, 20, 25, 33, 49, 64, 95] {
            for (lo, hi) in [(0, n / 2), (n / 2, n / 2), ((n - 1) / 2, n / 2)] {
                let net = SortNet::new(n, lo, hi);
                for _ in 0..200 {
                    let vals: Vec<f32> = (0..n)
                        .map(|_| {
                            seed = seed
                                .wrapping_mul(6364136223846793005)
                                .wrapping_add(1442695040888963407);
                            ((seed >> 40) % 7) as f32
                        })
                        .collect();
                    let got = sort_lanes(&net, &vals);
                    let mut want = vals.clone();
                    want.sort_by(|a, b| a.partial_cmp(b).unwrap());
                    for r in lo..=hi {
                        assert_eq!(got[r], want[r], "n={n} rank {r}");
                    }
                }
            }
        }
    }

    #[test]
    fn median_of_follows_numpy_even_and_odd_rules() {
        assert!(median_of::<f32>(&mut []).is_nan());
        assert_eq!(median_of(&mut [3.0f32, 1.0, 2.0]), 2.0);
        assert_eq!(median_of(&mut [16_777_216.0f32, 3.0]), 8_388_610.0);
        assert_eq!(
            median_of(&mut [f32::INFINITY, 1.0, f32::NEG_INFINITY, 2.0]),
            1.5
        );
        assert!(median_of(&mut [f32::INFINITY, f32::NEG_INFINITY]).is_nan());
        // Q5 improved: no overflow of (x + x) / 2 for an odd count.
        assert_eq!(median_of(&mut [3e38f32]), 3e38);
    }
}
