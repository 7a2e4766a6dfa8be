//! Nan-median of image stacks, in memory and in sections on disk under a
//! memory budget (spec `outlier_detection.md` §5.4, §5.5, §8).
//!
//! [`nanmedian_stack`] is the per-pixel median over axis 0 of an
//! `(n, ny, nx)` stack, ignoring NaN, with the exact semantics of
//! `stcal.outlier_detection.median.nanmedian3D` (numpy's `nanmedian`):
//!
//! - NaN values are dropped; `±inf` are ordinary values;
//! - no value left: NaN;
//! - odd count: the middle value;
//! - even count: `(a + b) / 2` of the two middle values, computed in the
//!   element type (float32 stays float32: 16777216 and 3 give 8388610);
//! - a `-inf`/`+inf` middle pair gives NaN.
//!
//! One deliberate improvement over the reference (spec §12, Q5): for an odd
//! count numpy's masked-array path computes `(x + x) / 2` and so returns
//! `±inf` for `|x| > ~1.7e38` in float32; here the middle value itself is
//! returned. A zero median is always `+0.0`, as numpy's (which sums from a
//! `+0.0` start).
//!
//! The median is a selection, not a full sort: pixels are processed
//! [`network::LANES`] at a time through a pruned sorting network (a
//! per-pixel quickselect beyond 96 frames), and rows are distributed over the
//! thread pool of [`crate::parallel::install`]. Each output pixel depends only
//! on its own values, so the result is bitwise identical for any number of
//! threads.
//!
//! [`MedianAccumulator`] collects the frames one at a time, in memory or in a
//! temporary file, and evaluates the median section by section so that at
//! most a given memory budget is held besides the output.
//!
//! ```
//! use ndarray::Array3;
//! use pyspec_core::median::nanmedian_stack;
//!
//! let mut stack = Array3::<f32>::zeros((4, 2, 2));
//! for k in 0..4 {
//!     stack[[k, 0, 0]] = k as f32; // 0, 1, 2, 3 -> 1.5
//! }
//! stack[[3, 1, 1]] = f32::NAN; // 0, 0, 0 -> 0
//! let med = nanmedian_stack(stack.view()).unwrap();
//! assert_eq!(med[[0, 0]], 1.5);
//! assert_eq!(med[[1, 1]], 0.0);
//! ```

mod accumulator;
pub(crate) mod network;

pub use crate::real::Real;
pub use accumulator::{MedianAccumulator, SectionLayout};

use ndarray::{s, Array2, ArrayView2, ArrayView3, ArrayViewMut1, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::{Error, Result};
use network::{Lane, SortNet, LANES, NETWORK_MAX};

/// Allocate `len` copies of `value`, reporting an allocation failure as
/// [`Error::Memory`] instead of aborting.
pub(crate) fn try_filled<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| {
        Error::Memory(format!(
            "cannot allocate {what} ({len} elements of {} bytes)",
            std::mem::size_of::<T>()
        ))
    })?;
    v.resize(len, value);
    Ok(v)
}

/// Allocate an `(ny, nx)` array filled with `value` ([`Error::Memory`] on
/// failure).
pub(crate) fn try_array2<T: Clone>(
    ny: usize,
    nx: usize,
    value: T,
    what: &str,
) -> Result<Array2<T>> {
    let len = ny
        .checked_mul(nx)
        .ok_or_else(|| Error::Memory(format!("{what} of shape ({ny}, {nx}) is too large")))?;
    let v = try_filled(len, value, what)?;
    Array2::from_shape_vec((ny, nx), v).map_err(|e| Error::shape(e.to_string()))
}

/// Per-lane nan-median of `n` values: a sorting network for short stacks,
/// a quickselect per pixel for long ones.
pub(crate) struct LaneMedian {
    n: usize,
    net: Option<SortNet>,
}

impl LaneMedian {
    /// Kernel for `n` values per pixel, of which any number may be NaN.
    pub(crate) fn new(n: usize) -> Self {
        let net = (n <= NETWORK_MAX).then(|| SortNet::new(n, 0, n / 2));
        LaneMedian { n, net }
    }

    /// Number of values per pixel.
    pub(crate) fn len(&self) -> usize {
        self.n
    }

    /// Medians of the lanes of `v[..n]`. NaN values must have been replaced
    /// by `+inf` and left out of `cnt` (the number of valid values per lane);
    /// the valid values then occupy the ranks `0..cnt` in order.
    #[inline(always)]
    pub(crate) fn finish<T: Real>(
        &self,
        v: &mut [Lane<T>],
        cnt: &[u32; LANES],
        col: &mut Vec<T>,
        out: &mut Lane<T>,
    ) {
        let n = self.n.min(v.len());
        let v = &mut v[..n];
        match &self.net {
            Some(net) => {
                net.apply(v);
                for l in 0..LANES {
                    let c = (cnt[l] as usize).min(n);
                    // `+ 0` turns a -0.0 median into +0.0, as numpy does.
                    out[l] = if c == 0 {
                        T::NAN
                    } else if c % 2 == 1 {
                        v[c / 2][l] + T::ZERO
                    } else {
                        T::half_sum(v[c / 2 - 1][l], v[c / 2][l]) + T::ZERO
                    };
                }
            }
            None => {
                for l in 0..LANES {
                    let c = (cnt[l] as usize).min(n);
                    if c == 0 {
                        out[l] = T::NAN;
                        continue;
                    }
                    col.clear();
                    col.extend(v.iter().map(|lane| lane[l]));
                    let k = c / 2;
                    let b = network::select(col, k);
                    out[l] = if c % 2 == 1 {
                        b + T::ZERO
                    } else {
                        T::half_sum(network::max_of(&col[..k]), b) + T::ZERO
                    };
                }
            }
        }
    }
}

/// Copy `src` into the first lanes of `dst`, replacing NaN by `+inf` and
/// counting the valid values; unused lanes get `+inf`.
#[inline(always)]
pub(crate) fn gather_slice<T: Real>(src: &[T], dst: &mut Lane<T>, cnt: &mut [u32; LANES]) {
    let w = src.len().min(LANES);
    for ((d, c), &x) in dst.iter_mut().zip(cnt.iter_mut()).zip(&src[..w]) {
        let nan = x.is_nan();
        *d = if nan { T::INFINITY } else { x };
        *c += u32::from(!nan);
    }
    for d in dst.iter_mut().skip(w) {
        *d = T::INFINITY;
    }
}

/// Scratch buffers of one worker.
struct Scratch<T> {
    v: Vec<Lane<T>>,
    col: Vec<T>,
    /// Copies of the rows of non-contiguous frames.
    rows: Vec<T>,
}

impl<T: Real> Scratch<T> {
    fn new(n: usize) -> Self {
        Scratch {
            v: vec![[T::INFINITY; LANES]; n],
            col: Vec::with_capacity(if n > NETWORK_MAX { n } else { 0 }),
            rows: Vec::new(),
        }
    }
}

/// Runtime CPU feature detection.
pub(crate) mod simd {
    /// `true` when the CPU supports AVX2.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub(crate) fn has_avx2() -> bool {
        std::arch::is_x86_feature_detected!("avx2")
    }
}

/// Median of row `y` of every frame into `out`.
fn median_row<T: Real>(
    kern: &LaneMedian,
    frames: &[ArrayView2<'_, T>],
    y: usize,
    mut out: ArrayViewMut1<'_, T>,
    scratch: &mut Scratch<T>,
) {
    let nx = out.len();
    // Row `y` of every frame as a slice; rows that are not contiguous in
    // memory are copied once.
    scratch.rows.clear();
    for f in frames {
        let r = f.row(y);
        if r.as_slice().is_none() {
            scratch.rows.extend(r.iter().copied());
        }
    }
    let mut copied = scratch.rows.chunks_exact(nx.max(1));
    let rows: Vec<&[T]> = frames
        .iter()
        .map(|f| {
            let r = f.row(y);
            match r.to_slice() {
                Some(s) => s,
                None => copied.next().unwrap_or(&[]),
            }
        })
        .collect();
    let mut res = [T::NAN; LANES];
    let mut x0 = 0;
    while x0 < nx {
        let w = LANES.min(nx - x0);
        let mut cnt = [0u32; LANES];
        for (r, dst) in rows.iter().zip(scratch.v.iter_mut()) {
            gather_slice(r.get(x0..x0 + w).unwrap_or(&[]), dst, &mut cnt);
        }
        kern.finish(&mut scratch.v, &cnt, &mut scratch.col, &mut res);
        match out.as_slice_mut() {
            Some(o) => o[x0..x0 + w].copy_from_slice(&res[..w]),
            None => {
                for (o, &r) in out.slice_mut(s![x0..x0 + w]).iter_mut().zip(res.iter()) {
                    *o = r;
                }
            }
        }
        x0 += w;
    }
}

/// Nan-median over a list of equally shaped frames, written into `out`.
///
/// `out` must have the frames' shape. With no frame at all every output
/// pixel is NaN. Runs in the pool of [`crate::parallel::install`]; bitwise
/// identical for any number of threads.
pub fn nanmedian_frames_into<T: Real>(
    frames: &[ArrayView2<'_, T>],
    mut out: ArrayViewMut2<'_, T>,
) -> Result<()> {
    let shape = out.dim();
    for (k, f) in frames.iter().enumerate() {
        if f.dim() != shape {
            return Err(Error::shape(format!(
                "frame {k} has shape {:?}, expected {:?} (all frames must have the same shape)",
                f.dim(),
                shape
            )));
        }
    }
    if frames.is_empty() {
        out.fill(T::NAN);
        return Ok(());
    }
    let kern = LaneMedian::new(frames.len());
    crate::parallel::install(|| {
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each_init(
                || Scratch::new(kern.len()),
                |scratch, (y, row)| median_row(&kern, frames, y, row, scratch),
            );
    });
    Ok(())
}

/// Nan-median over a list of equally shaped frames (see
/// [`nanmedian_frames_into`]); `shape` is used when `frames` is empty.
pub fn nanmedian_frames<T: Real>(
    frames: &[ArrayView2<'_, T>],
    shape: (usize, usize),
) -> Result<Array2<T>> {
    let (ny, nx) = frames.first().map(|f| f.dim()).unwrap_or(shape);
    let mut out = try_array2(ny, nx, T::NAN, "the median frame")?;
    nanmedian_frames_into(frames, out.view_mut())?;
    Ok(out)
}

/// Per-pixel median over axis 0 of an `(n, ny, nx)` stack, ignoring NaN
/// (`stcal.outlier_detection.median.nanmedian3D`; see the module docs for
/// the exact semantics). The stack is not modified. A stack of zero frames
/// gives an all-NaN `(ny, nx)` frame.
pub fn nanmedian_stack<T: Real>(stack: ArrayView3<'_, T>) -> Result<Array2<T>> {
    let (_, ny, nx) = stack.dim();
    let frames: Vec<ArrayView2<'_, T>> = stack.outer_iter().collect();
    nanmedian_frames(&frames, (ny, nx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn reference_median(vals: &[f32]) -> f32 {
        let mut v: Vec<f32> = vals.iter().copied().filter(|x| !x.is_nan()).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let m = v.len();
        if m == 0 {
            f32::NAN
        } else if m % 2 == 1 {
            v[m / 2]
        } else {
            (v[m / 2 - 1] + v[m / 2]) / 2.0
        }
    }

    fn lcg(seed: &mut u64) -> u64 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *seed >> 33
    }

    #[test]
    fn stack_median_matches_sorting_for_short_and_long_stacks() {
        let mut seed = 7u64;
        for n in [1usize, 2, 3, 8, 20, 33, 96, 97, 130] {
            let (ny, nx) = (3, 37);
            let mut st = Array3::<f32>::zeros((n, ny, nx));
            for x in st.iter_mut() {
                let r = lcg(&mut seed);
                *x = if r.is_multiple_of(10) {
                    f32::NAN
                } else {
                    (r % 1000) as f32 * 0.37 - 100.0
                };
            }
            let med = nanmedian_stack(st.view()).unwrap();
            for y in 0..ny {
                for x in 0..nx {
                    let col: Vec<f32> = (0..n).map(|k| st[[k, y, x]]).collect();
                    let want = reference_median(&col);
                    let got = med[[y, x]];
                    assert!(
                        got.to_bits() == want.to_bits() || (got == want),
                        "n={n} got {got} want {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn zero_frames_give_nan_and_mixed_shapes_are_rejected() {
        let st = Array3::<f32>::zeros((0, 2, 3));
        let med = nanmedian_stack(st.view()).unwrap();
        assert_eq!(med.dim(), (2, 3));
        assert!(med.iter().all(|x| x.is_nan()));
        let a = Array2::<f32>::zeros((2, 3));
        let b = Array2::<f32>::zeros((3, 2));
        assert!(matches!(
            nanmedian_frames(&[a.view(), b.view()], (2, 3)),
            Err(Error::Shape(_))
        ));
    }

    #[test]
    fn non_contiguous_stacks_are_read_correctly() {
        let mut st = Array3::<f64>::zeros((5, 4, 6));
        for (i, x) in st.iter_mut().enumerate() {
            *x = (i * 7 % 11) as f64;
        }
        let t = st.view().reversed_axes(); // (6, 4, 5), Fortran order
        let med = nanmedian_stack(t).unwrap();
        let owned = t.to_owned();
        assert_eq!(med, nanmedian_stack(owned.view()).unwrap());
    }
}
