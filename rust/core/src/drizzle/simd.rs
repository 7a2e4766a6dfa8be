//! Vector code of the drizzle kernels, bitwise equal to the scalar code.
//!
//! The [`Isa`] trait selects, at compile time of the accumulation loop, the
//! baseline code (any CPU) or the AVX2 code (runtime detection, see
//! `accumulate_dispatch` in the parent module). Every vector path performs the
//! reference's IEEE operations on the same operands lane by lane; branches
//! become selects. There is no fused multiply-add anywhere (no `fma` target
//! feature is enabled, and Rust does not contract `a * b + c`).
//!
//! * Square kernel overlap areas (below), 4 output pixels per step.
//! * The update rule on windows of 8 output pixels of a row, aligned to
//!   multiples of 8 so that consecutive input pixels, which hit overlapping
//!   output pixels, load exactly what the previous one stored (store-to-load
//!   forwarding); used by the square (footprints 1, 2 or 4 columns wide),
//!   turbo and Lanczos kernels.
//! * Square kernel corners and their bounds.
//!
//! ## Square kernel overlap areas
//!
//! The reference (`boxer`/`sgarea` in [`super::geometry`]) shifts every vertex
//! of the quadrilateral by the output pixel, `px = x - ii + 0.5`, and then runs
//! `sgarea` on each of the 4 edges. When those shifts are *exact* (see
//! [`shifts_exact`]) two things follow:
//!
//! 1. `px` can be formed as `x + (0.5 - ii)` (one operation, same value), and
//! 2. the edge differences `dx = px2 - px1`, `dy = py2 - py1` are the rounded
//!    differences of the *unshifted* vertices, so `dx`, `dy`, the slope
//!    `m = dy / dx`, the sign and the choice of the lower/upper end point are
//!    constants of the edge: one division per edge instead of one per edge and
//!    output pixel.
//!
//! Every remaining operation is the reference's operation on the same
//! operands, so each output pixel gets the identical area. The per-pixel work
//! is evaluated for several output pixels at once (SIMD lanes: `f64x4` with
//! AVX2, `f64x2` on the SSE2 baseline): the branches of `sgarea` that some
//! lane takes are computed and each lane's one is selected.

use super::geometry::{nint, CornerWeights};

/// Per-edge constants of a quadrilateral whose vertex shifts are exact.
/// Edge `e` runs from vertex `e` to vertex `(e + 1) % 4`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QuadEdges {
    /// Unshifted vertices (`x1`, `y1` of edge `e`).
    pub(crate) x: [f64; 4],
    pub(crate) y: [f64; 4],
    /// Unshifted second vertices (`x2`, `y2` of edge `e`: vertex `e + 1`).
    x2: [f64; 4],
    y2: [f64; 4],
    /// Unshifted x of the lower-x / upper-x end (`xlo`/`xhi` before clamping).
    xl: [f64; 4],
    xh: [f64; 4],
    /// `dx`, `dy` and `m = dy / dx` of each edge (shift invariant, see module doc).
    dx: [f64; 4],
    dy: [f64; 4],
    m: [f64; 4],
    /// `1 / dy` (rounded), for the exact FMA quotients of [`x86`]'s 8-lane
    /// areas (see `F64x8::div_by`); the AVX2-only constructor leaves it 0
    /// (its lanes divide).
    rdy: [f64; 4],
    /// `sgn` of the reference (`-1` when `dx < 0`).
    sgn: [f64; 4],
    /// `sgn * 0.5`.
    half: [f64; 4],
}

impl QuadEdges {
    /// Edge constants of the quadrilateral `P0..P3` (the `boxer` order).
    #[inline(always)]
    pub(crate) fn new(x: &[f64; 4], y: &[f64; 4]) -> Self {
        let x2 = [x[1], x[2], x[3], x[0]];
        let y2 = [y[1], y[2], y[3], y[0]];
        let mut q = QuadEdges {
            x: *x,
            y: *y,
            x2,
            y2,
            xl: [0.0; 4],
            xh: [0.0; 4],
            dx: [0.0; 4],
            dy: [0.0; 4],
            m: [0.0; 4],
            rdy: [0.0; 4],
            sgn: [0.0; 4],
            half: [0.0; 4],
        };
        for e in 0..4 {
            let dx = x2[e] - x[e];
            let dy = y2[e] - y[e];
            let neg = dx < 0.0;
            q.dx[e] = dx;
            q.dy[e] = dy;
            q.m[e] = dy / dx;
            q.rdy[e] = 1.0 / dy;
            q.xl[e] = if neg { x2[e] } else { x[e] };
            q.xh[e] = if neg { x[e] } else { x2[e] };
            q.sgn[e] = if neg { -1.0 } else { 1.0 };
            q.half[e] = if neg { -0.5 } else { 0.5 };
        }
        q
    }
}

/// Whether the reference's vertex shift `v - n + 0.5` is exact (and hence
/// equal to `v + (0.5 - n)`) for every vertex coordinate `v` in
/// `[vmin, vmax]` and every integer `n` in `[nint(vmin), nint(vmax)]` (the
/// output pixels a footprint can touch along that axis).
///
/// Proof sketch. Let `v > 0` with `2^E <= v < 2^(E+1)` and `u = 2^(E-52)` its
/// ulp. If `v < 2^52` then `u <= 1/2`, so `v`, `n` and `0.5` are all
/// multiples of `u`, hence so are `v - n` and `v - n + 0.5`. A multiple of `u`
/// whose magnitude is below `2^(E+1) = 2^53 u` is a double. The condition
/// `|v - n| + 0.5 <= v` bounds both `|v - n|` and `|v - n + 0.5|` by
/// `v < 2^(E+1)`: both results are representable, so both operations of the
/// reference are exact, and `v + (0.5 - n)` (with `0.5 - n` exact) rounds the
/// same exact value. Here `n >= nint(vmin) >= vmin - 0.5` and
/// `n <= nint(vmax) <= vmax + 0.5`, so `|v - n| <= (vmax - vmin) + 0.5`, and
/// it suffices that `(vmax - vmin) + 1 <= vmin`. The check
/// `fl(fl(vmax - vmin) + 1.5) <= vmin` implies it, because for `vmax < 2^40`
/// its two roundings err by less than `2^-11`.
#[inline(always)]
pub(crate) fn shifts_exact(vmin: f64, vmax: f64) -> bool {
    vmin > 0.0 && vmax < SHIFT_LIMIT && (vmax - vmin) + 1.5 <= vmin
}

/// Upper bound of the coordinates [`shifts_exact`] accepts (`2^40`).
const SHIFT_LIMIT: f64 = 1_099_511_627_776.0;

/// Largest magnitude (exclusive) of an output coordinate the kernels accept:
/// the reference casts `round(v)` to a C `int`.
pub(crate) const C_INT_LIMIT: f64 = 2_147_483_647.0;

/// What the square kernel needs of one input pixel's quadrilateral.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QuadInfo {
    /// Corners `P0..P3`.
    pub(crate) x: [f64; 4],
    pub(crate) y: [f64; 4],
    /// `nint` of the smallest and largest x, then of the smallest and largest y.
    pub(crate) bounds: [i64; 4],
    /// Signed area (spec 5.1).
    pub(crate) jaco: f64,
    /// [`shifts_exact`] holds along both axes.
    pub(crate) exact: bool,
}

impl QuadInfo {
    /// `None` when a corner coordinate is NaN or its `nint` does not fit a
    /// C `int` (see `kernels::in_c_int_range`).
    #[inline(always)]
    pub(crate) fn new(x: [f64; 4], y: [f64; 4]) -> Option<Self> {
        let mut ok = true;
        for k in 0..4 {
            ok &= x[k].abs() < C_INT_LIMIT;
            ok &= y[k].abs() < C_INT_LIMIT;
        }
        if !ok {
            return None;
        }
        let (xmin, xmax) = min_max(&x);
        let (ymin, ymax) = min_max(&y);
        let jaco = 0.5 * ((x[1] - x[3]) * (y[0] - y[2]) - (x[0] - x[2]) * (y[1] - y[3]));
        Some(QuadInfo {
            x,
            y,
            bounds: [nint(xmin), nint(xmax), nint(ymin), nint(ymax)],
            jaco,
            exact: shifts_exact(xmin, xmax) && shifts_exact(ymin, ymax),
        })
    }
}

#[inline(always)]
fn min_max(v: &[f64; 4]) -> (f64, f64) {
    // NaN-free inputs: plain comparisons (the sign of a zero bound is
    // irrelevant: nint(-0.0) == nint(0.0) and neither passes shifts_exact).
    let lo01 = if v[1] < v[0] { v[1] } else { v[0] };
    let lo23 = if v[3] < v[2] { v[3] } else { v[2] };
    let hi01 = if v[1] > v[0] { v[1] } else { v[0] };
    let hi23 = if v[3] > v[2] { v[3] } else { v[2] };
    (
        if lo23 < lo01 { lo23 } else { lo01 },
        if hi23 > hi01 { hi23 } else { hi01 },
    )
}

/// An instruction set for the square kernel's per-pixel work.
pub(crate) trait Isa {
    /// Overlap areas of 4 output pixels `(ii, jj) = (c0 + dc[k], r0 + dr[k])`
    /// given `sx0 = 0.5 - c0`, `sy0 = 0.5 - r0`: bitwise equal to
    /// `geometry::boxer(ii, jj, x, y)` (up to the sign of a zero), provided
    /// [`shifts_exact`] holds for the quadrilateral. The lane shifts
    /// `sx0 - dc[k] = 0.5 - ii` are exact (half-integers below `2^52`).
    ///
    /// # Safety
    /// The CPU must support the implementation's instruction set (checked by
    /// [`has_avx2`] before an `Avx2` caller is entered).
    unsafe fn quad_areas(
        q: &QuadEdges,
        sx0: f64,
        sy0: f64,
        dc: &[i32; 4],
        dr: &[i32; 4],
    ) -> [f64; 4];

    /// `QuadInfo::new(geometry::interior_corners(..))`, bitwise.
    ///
    /// # Safety
    /// As for [`Isa::quad_areas`].
    #[inline(always)]
    unsafe fn interior_quad(
        r0: &[f64; 6],
        r1: &[f64; 6],
        r2: &[f64; 6],
        w: &CornerWeights,
    ) -> Option<QuadInfo> {
        let (x, y) = super::geometry::interior_corners(r0, r1, r2, w);
        QuadInfo::new(x, y)
    }

    /// [`QuadEdges::new`], bitwise.
    ///
    /// # Safety
    /// As for [`Isa::quad_areas`].
    #[inline(always)]
    unsafe fn quad_edges(x: &[f64; 4], y: &[f64; 4]) -> QuadEdges {
        QuadEdges::new(x, y)
    }

    /// Every contribution of one square-kernel footprint (`nc` columns from
    /// `c0`, `nr` rows from band row `r0`; areas as [`Isa::quad_areas`],
    /// weights `f32(area * wq)`, nothing where the area is 0) to `band`;
    /// `false` when not implemented for this case (nothing done).
    ///
    /// # Safety
    /// As for [`Isa::quad_areas`].
    #[inline(always)]
    unsafe fn square_footprint(_band: &mut BandView, _q: &QuadEdges, _f: &SquareFootprint) -> bool {
        false
    }

    /// Every contribution of one Lanczos input pixel to `band`, bitwise as
    /// the scalar kernel; `false` when not implemented (nothing done).
    ///
    /// # Safety
    /// As for [`Isa::quad_areas`].
    #[inline(always)]
    unsafe fn lanczos(_band: &mut BandView, _p: &LanczosPixel) -> bool {
        false
    }

    /// As [`Isa::lanczos`] for the turbo kernel.
    ///
    /// # Safety
    /// As for [`Isa::quad_areas`].
    #[inline(always)]
    unsafe fn turbo(_band: &mut BandView, _p: &TurboPixel) -> bool {
        false
    }

    /// As [`Isa::lanczos`] for the Gaussian kernel (vector `exp` bitwise
    /// equal to libm's, see [`super::vexp`]).
    ///
    /// # Safety
    /// As for [`Isa::quad_areas`].
    #[inline(always)]
    unsafe fn gaussian(_band: &mut BandView, _p: &GaussianPixel) -> bool {
        false
    }
}

/// Direct access to one band's science, weight and context outputs for the
/// vector kernels (the data-only update rule), and the input value `d`;
/// with `full`, also the `data2` and DQ outputs (only the square kernel's
/// vector path handles those; the others decline such a view).
pub(crate) struct BandView<'a> {
    pub(crate) img: &'a mut [f32],
    pub(crate) wht: &'a mut [f32],
    pub(crate) ctx: Option<&'a mut [i32]>,
    /// First output row of the band and the output width.
    pub(crate) row0: usize,
    pub(crate) nx_o: usize,
    pub(crate) d: f32,
    pub(crate) ctx_mask: i32,
    pub(crate) full: Option<FullParts<'a>>,
}

impl BandView<'_> {
    /// Hint the CPU to fetch the science, weight and context values of the
    /// footprint of a pixel centred on output `(x, y)` with half-width
    /// `reach` (rows `trunc(y - reach + 0.5)` on, at most 8 of them, and the
    /// columns from `trunc(x - reach + 0.5)`, two cache lines) into the
    /// cache. The caller aims it [`PREFETCH_AHEAD`] input pixels ahead: a
    /// rotated input walks the output along a slanted line whose rows were
    /// last visited one input row earlier, too long ago to stay in L1/L2,
    /// and the hardware prefetchers do not follow such a path. No effect on
    /// results; positions outside the band (or NaN) are skipped.
    #[inline(always)]
    pub(crate) fn prefetch(&self, x: f64, y: f64, reach: f64) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            #[inline(always)]
            fn hint<T>(v: &[T], o: usize) {
                if let Some(p) = v.get(o) {
                    // SAFETY: prefetching has no architectural effect.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>((p as *const T).cast()) };
                }
            }
            let nx_o = self.nx_o;
            // `as` saturates (NaN -> 0); out-of-band positions fail the tests
            let c = (x - reach + 0.5) as isize;
            let r = (y - reach + 0.5) as isize - self.row0 as isize;
            if c < 0 || r < 0 || c as usize >= nx_o {
                return;
            }
            let nr = ((2.0 * reach).ceil() as usize + 1).min(8);
            let cw = ((2.0 * reach).ceil() as usize).min(nx_o - c as usize - 1);
            // a second cache line when the columns cross a 16-value boundary
            let ends: &[usize] = if (c as usize + cw) / 16 != c as usize / 16 {
                &[0, cw]
            } else {
                &[0]
            };
            for k in 0..nr {
                for &e in ends {
                    let o = (r as usize + k) * nx_o + c as usize + e;
                    hint(self.img, o);
                    hint(self.wht, o);
                    if let Some(ctx) = self.ctx.as_deref() {
                        hint(ctx, o);
                    }
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (x, y, reach);
    }
}

/// How many input pixels ahead [`BandView::prefetch`] is aimed.
pub(crate) const PREFETCH_AHEAD: usize = 16;

/// The `data2` and DQ part of a [`BandView`]: the `img2` band slices (as
/// pointer and length: the band's exclusive slices, accessed only through
/// these pointers while the band is accumulated), the input pixel's `data2`
/// values (scaled, one per `img2`) and DQ value.
pub(crate) struct FullParts<'a> {
    pub(crate) img2: &'a [(*mut f32, usize)],
    pub(crate) d2: &'a [f32],
    pub(crate) dq: Option<&'a mut [u32]>,
    pub(crate) dq_in: u32,
}

/// One input pixel of a Lanczos kernel (spec 5.5): centre `(x, y)`, weight
/// `wd`, the clipped output columns `[ilo, ihi]` and rows `[rlo, rhi]`.
#[derive(Clone, Copy)]
pub(crate) struct LanczosPixel<'a> {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) sdp: f64,
    pub(crate) wd: f64,
    pub(crate) cols: (usize, usize),
    pub(crate) rows: (usize, usize),
    pub(crate) lut: &'a [f64],
}

/// One square-kernel footprint: output columns `c0 .. c0 + nc`, rows
/// `r0 .. r0 + nr` (absolute), `sx0 = 0.5 - c0`, `sy0 = 0.5 - r0`, and the
/// weight factor `wq` (weight / jacobian).
pub(crate) struct SquareFootprint {
    pub(crate) sx0: f64,
    pub(crate) sy0: f64,
    pub(crate) c0: usize,
    pub(crate) r0: usize,
    pub(crate) nc: usize,
    pub(crate) nr: usize,
    pub(crate) wq: f64,
}

/// Largest footprint (output pixels) of the square kernel's lane paths.
pub(crate) const FOOTPRINT_MAX: usize = 64;

/// `LANE_DC[nc - 1][f]`, `LANE_DR[nc - 1][f]`: column and row offsets of the
/// `f`-th output pixel (row-major) of a footprint `nc` columns wide; padded
/// by 4 entries so that every chunk of 4 lanes can be read.
pub(crate) static LANE_DC: [[i32; FOOTPRINT_MAX + 4]; 8] = lane_table(false);
pub(crate) static LANE_DR: [[i32; FOOTPRINT_MAX + 4]; 8] = lane_table(true);

const fn lane_table(rows: bool) -> [[i32; FOOTPRINT_MAX + 4]; 8] {
    let mut t = [[0i32; FOOTPRINT_MAX + 4]; 8];
    let mut nc = 1;
    while nc <= 8 {
        let mut f = 0;
        while f < FOOTPRINT_MAX + 4 {
            t[nc - 1][f] = if rows { f / nc } else { f % nc } as i32;
            f += 1;
        }
        nc += 1;
    }
    t
}

/// One input pixel of the turbo kernel (spec 5.3): box `[x - pfo, x + pfo]
/// x [y - pfo, y + pfo]`, `scale`, weight `wd`, clipped columns and rows.
#[derive(Clone, Copy)]
pub(crate) struct TurboPixel {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) pfo: f64,
    pub(crate) scale: f64,
    pub(crate) wd: f64,
    pub(crate) cols: (usize, usize),
    pub(crate) rows: (usize, usize),
}

/// One input pixel of the Gaussian kernel (spec 5.4): centre `(x, y)`,
/// weight `wd`, the constants `es`, `efac`, the clipped output columns and
/// rows, and the vector `exp` this machine can use (`None`: none).
#[derive(Clone, Copy)]
pub(crate) struct GaussianPixel {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) es: f64,
    pub(crate) efac: f64,
    pub(crate) wd: f64,
    pub(crate) cols: (usize, usize),
    pub(crate) rows: (usize, usize),
    pub(crate) exp: Option<super::vexp::Kind>,
}

/// The update rule (spec 4) of one output row segment for the science,
/// weight and context outputs: output pixel `k` (of `img`, `wht` and `ctx`,
/// each as long as `dows`) receives weight `dows[k]` and value `d`.
///
/// A zero weight leaves the pixel untouched. The science division is done in
/// single precision: rounding the correctly rounded double quotient of two
/// floats to float is the correctly rounded float quotient (53 >= 2*24 + 2),
/// so this equals the reference's `f32(f64(num) / f64(s))`.
#[inline(always)]
pub(crate) fn update_segment_scalar(
    img: &mut [f32],
    wht: &mut [f32],
    ctx: Option<&mut [i32]>,
    dows: &[f32],
    d: f32,
    ctx_mask: i32,
) {
    #[inline(always)]
    fn one(im: &mut f32, wt: &mut f32, dow: f32, d: f32) {
        if dow == 0.0 {
            return;
        }
        let vc = *wt;
        let s = vc + dow;
        *im = if vc == 0.0 {
            d
        } else {
            (*im * vc + dow * d) / s
        };
        *wt = s;
    }
    match ctx {
        Some(ctx) => {
            for (((im, wt), c), &dow) in img.iter_mut().zip(wht.iter_mut()).zip(ctx).zip(dows) {
                if dow > 0.0 {
                    *c |= ctx_mask;
                }
                one(im, wt, dow, d);
            }
        }
        None => {
            for ((im, wt), &dow) in img.iter_mut().zip(wht.iter_mut()).zip(dows) {
                one(im, wt, dow, d);
            }
        }
    }
}

/// Tests set this to run the baseline code on an AVX2 machine.
#[cfg(test)]
pub(crate) static FORCE_BASELINE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether the tests asked for the baseline (generic) code.
#[inline(always)]
pub(crate) fn force_baseline() -> bool {
    #[cfg(test)]
    return FORCE_BASELINE.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(test))]
    false
}

/// Whether the AVX2 implementation can be used on this CPU.
#[inline]
pub(crate) fn has_avx2() -> bool {
    #[cfg(test)]
    if FORCE_BASELINE.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    cpu_has_avx2()
}

/// Whether this CPU supports AVX2 (runtime detection).
#[inline]
pub(crate) fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The implementation every CPU of the target supports: `f64x2` lanes on
/// x86-64 (SSE2 is part of its baseline), plain scalar code elsewhere.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Baseline;

impl Isa for Baseline {
    #[inline(always)]
    unsafe fn quad_areas(
        q: &QuadEdges,
        sx0: f64,
        sy0: f64,
        dc: &[i32; 4],
        dr: &[i32; 4],
    ) -> [f64; 4] {
        let (sx, sy) = lane_shifts(sx0, sy0, dc, dr);
        let (sx, sy) = (&sx, &sy);
        #[cfg(target_arch = "x86_64")]
        {
            x86::areas_sse2(q, sx, sy)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            areas_scalar(q, sx, sy)
        }
    }
}

/// Tests set this to keep the AVX-512 code out on a machine that has it.
#[cfg(test)]
pub(crate) static FORCE_NO_AVX512: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether the [`Avx512`] implementation can be used on this CPU.
#[inline]
pub(crate) fn has_avx512() -> bool {
    #[cfg(test)]
    if FORCE_NO_AVX512.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    has_avx2() && cpu_has_avx512()
}

/// Whether this CPU supports AVX-512F (runtime detection).
#[inline]
pub(crate) fn cpu_has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The x86-64 vector code: `f64x4` lanes with AVX2; with `WIDE` the square
/// kernel's overlap areas on 8 lanes (AVX-512F), with `FMA` the Gaussian
/// kernel's `exp` replaying glibc's FMA build (AVX2 + FMA). Everything else
/// is the same code for the three instances.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
pub(crate) struct X86<const WIDE: bool, const FMA: bool>;

/// AVX2 only.
#[cfg(target_arch = "x86_64")]
pub(crate) type Avx2 = X86<false, false>;
/// AVX2 and the AVX-512 overlap areas (square kernel).
#[cfg(target_arch = "x86_64")]
pub(crate) type Avx512 = X86<true, false>;
/// AVX2 and the FMA `exp` (Gaussian kernel).
#[cfg(target_arch = "x86_64")]
pub(crate) type Avx2Fma = X86<false, true>;

#[cfg(target_arch = "x86_64")]
impl<const WIDE: bool, const FMA: bool> Isa for X86<WIDE, FMA> {
    #[inline(always)]
    unsafe fn quad_areas(
        q: &QuadEdges,
        sx0: f64,
        sy0: f64,
        dc: &[i32; 4],
        dr: &[i32; 4],
    ) -> [f64; 4] {
        x86::areas_avx2(q, sx0, sy0, dc, dr)
    }

    #[inline(always)]
    unsafe fn interior_quad(
        r0: &[f64; 6],
        r1: &[f64; 6],
        r2: &[f64; 6],
        w: &CornerWeights,
    ) -> Option<QuadInfo> {
        x86::interior_quad_avx2(r0, r1, r2, w)
    }

    #[inline(always)]
    unsafe fn quad_edges(x: &[f64; 4], y: &[f64; 4]) -> QuadEdges {
        x86::quad_edges_avx2::<WIDE>(x, y)
    }

    #[inline(always)]
    unsafe fn square_footprint(band: &mut BandView, q: &QuadEdges, f: &SquareFootprint) -> bool {
        if band.full.is_some() {
            return x86::square_footprint_full::<WIDE>(band, q, f);
        }
        x86::square_footprint_avx2::<WIDE>(band, q, f)
    }

    #[inline(always)]
    unsafe fn lanczos(band: &mut BandView, p: &LanczosPixel) -> bool {
        if band.full.is_some() || !x86::window_columns_fit(p.cols) {
            return false;
        }
        x86::lanczos_avx2(band, p);
        true
    }

    #[inline(always)]
    unsafe fn turbo(band: &mut BandView, p: &TurboPixel) -> bool {
        if band.full.is_some() {
            return false;
        }
        if x86::turbo4_avx2(band, p) {
            return true;
        }
        if !x86::window_columns_fit(p.cols) {
            return false;
        }
        x86::turbo_avx2(band, p);
        true
    }

    #[inline(always)]
    unsafe fn gaussian(band: &mut BandView, p: &GaussianPixel) -> bool {
        use super::vexp::Kind;
        let kind = if FMA { Kind::Fma } else { Kind::NoFma };
        band.full.is_none() && p.exp == Some(kind) && x86::gaussian_avx2::<FMA>(band, p)
    }
}

/// The lane shifts `sx0 - dc[k]`, `sy0 - dr[k]`.
#[inline(always)]
fn lane_shifts(sx0: f64, sy0: f64, dc: &[i32; 4], dr: &[i32; 4]) -> ([f64; 4], [f64; 4]) {
    let mut sx = [0.0; 4];
    let mut sy = [0.0; 4];
    for k in 0..4 {
        sx[k] = sx0 - dc[k] as f64;
        sy[k] = sy0 - dr[k] as f64;
    }
    (sx, sy)
}

/// Portable lane-by-lane version of the SIMD evaluation (same operations).
#[allow(dead_code)]
pub(crate) fn areas_scalar(q: &QuadEdges, sx: &[f64; 4], sy: &[f64; 4]) -> [f64; 4] {
    let mut out = [0.0f64; 4];
    for (k, o) in out.iter_mut().enumerate() {
        let mut sum = 0.0;
        for e in 0..4 {
            if q.dx[e] == 0.0 {
                continue;
            }
            sum += edge_area_scalar(q, e, sx[k], sy[k]);
        }
        *o = sum;
    }
    out
}

/// `sgarea` of edge `e` shifted by `(sx, sy)`, written like the lane code.
#[inline(always)]
fn edge_area_scalar(q: &QuadEdges, e: usize, sx: f64, sy: f64) -> f64 {
    let x1 = q.x[e] + sx;
    let x2 = q.x2[e] + sx;
    let y1 = q.y[e] + sy;
    let y2 = q.y2[e] + sy;
    let (xlo, xhi) = (q.xl[e] + sx, q.xh[e] + sx);
    if xlo >= 1.0 || xhi <= 0.0 {
        return 0.0;
    }
    let xlo = if xlo < 0.0 { 0.0 } else { xlo };
    let xhi = if xhi > 1.0 { 1.0 } else { xhi };
    let m = q.m[e];
    let ylo = y1 + m * (xlo - x1);
    let yhi = y1 + m * (xhi - x1);
    if ylo <= 0.0 && yhi <= 0.0 {
        return 0.0;
    }
    let sgn = q.sgn[e];
    if ylo >= 1.0 && yhi >= 1.0 {
        return sgn * (xhi - xlo);
    }
    let dy = q.dy[e];
    let det = x1 * y2 - y1 * x2;
    let (xlo, ylo) = if ylo < 0.0 {
        (det / dy, 0.0)
    } else {
        (xlo, ylo)
    };
    let (xhi, yhi) = if yhi < 0.0 {
        (det / dy, 0.0)
    } else {
        (xhi, yhi)
    };
    if ylo <= 1.0 && yhi <= 1.0 {
        return q.half[e] * (xhi - xlo) * (yhi + ylo);
    }
    let xt = (q.dx[e] + det) / dy;
    if ylo <= 1.0 {
        sgn * (0.5 * (xt - xlo) * (1.0 + ylo) + xhi - xt)
    } else {
        sgn * (0.5 * (xhi - xt) * (1.0 + yhi) + xt - xlo)
    }
}

/// The pre-pass reduction of 8 centre pixels with AVX2 (see
/// `x86::center_block_avx2`).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) unsafe fn center_block(xy: &[f64; 16], e: f64, ymax: f64) -> (f64, f64, usize) {
    x86::center_block_avx2(xy, e, ymax)
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::geometry::CornerWeights;
    use super::{QuadEdges, QuadInfo};
    use std::arch::x86_64::*;

    /// [`super::super::geometry::interior_corners`] with the `(X, Y)` pairs of
    /// two neighbouring columns per register: the same products, and the same
    /// left-to-right sums per component.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    unsafe fn interior_corners_avx2(
        r0: &[f64; 6],
        r1: &[f64; 6],
        r2: &[f64; 6],
        w: &CornerWeights,
    ) -> (__m256d, __m256d) {
        // SAFETY (loads): each row holds 6 f64; the loads read [0..4] and [2..6].
        let l0 = _mm256_loadu_pd(r0.as_ptr());
        let q0 = _mm256_loadu_pd(r0.as_ptr().add(2));
        let l1 = _mm256_loadu_pd(r1.as_ptr());
        let q1 = _mm256_loadu_pd(r1.as_ptr().add(2));
        let l2 = _mm256_loadu_pd(r2.as_ptr());
        let q2 = _mm256_loadu_pd(r2.as_ptr().add(2));
        // _mm256_set_pd lists the lanes from the highest down.
        let w_cb = _mm256_set_pd(w.b, w.b, w.c, w.c); // [c, c, b, b]
        let w_bc = _mm256_set_pd(w.c, w.c, w.b, w.b); // [b, b, c, c]
        let w_ba = _mm256_set_pd(w.a, w.a, w.b, w.b); // [b, b, a, a]
        let w_ab = _mm256_set_pd(w.b, w.b, w.a, w.a); // [a, a, b, b]
        let f_0010 = _mm256_mul_pd(l0, w_cb); // [f00 | f10]
        let f_1020 = _mm256_mul_pd(q0, w_bc); // [f10 | f20]
        let f_0111 = _mm256_mul_pd(l1, w_ba); // [f01 | f11]
        let f_1121 = _mm256_mul_pd(q1, w_ab); // [f11 | f21]
        let f_0212 = _mm256_mul_pd(l2, w_cb); // [f02 | f12]
        let f_1222 = _mm256_mul_pd(q2, w_bc); // [f12 | f22]
                                              // P0 = f01+f11+f02+f12, P1 = f11+f21+f12+f22
        let p01 = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(f_0111, f_1121), f_0212), f_1222);
        // P3 = f00+f10+f01+f11, P2 = f10+f20+f11+f21
        let p32 = _mm256_add_pd(_mm256_add_pd(_mm256_add_pd(f_0010, f_1020), f_0111), f_1121);
        let xs = _mm256_unpacklo_pd(p01, p32); // [X0, X3, X1, X2]
        let ys = _mm256_unpackhi_pd(p01, p32); // [Y0, Y3, Y1, Y2]
        let xs = _mm256_permute4x64_pd::<0x78>(xs); // lanes 0, 2, 3, 1
        let ys = _mm256_permute4x64_pd::<0x78>(ys);
        (xs, ys)
    }

    /// The update rule on the 8 output pixels at `img`, `wht` (and `ctx`)
    /// with weights `dow`: the single-precision operations of
    /// [`super::update_segment_scalar`] lane by lane, its branches as selects
    /// (a lane with weight 0 is stored back unchanged).
    ///
    /// # Safety
    /// The CPU must support AVX2; the pointers must be valid for 8 elements.
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn update_window(
        pi: *mut f32,
        pw: *mut f32,
        pc: Option<*mut i32>,
        dow: __m256,
        dv: __m256,
        cm: __m256i,
    ) {
        let zero = _mm256_setzero_ps();
        let vc = _mm256_loadu_ps(pw);
        let im = _mm256_loadu_ps(pi);
        let s = _mm256_add_ps(vc, dow);
        let num = _mm256_add_ps(_mm256_mul_ps(im, vc), _mm256_mul_ps(dow, dv));
        let q = _mm256_div_ps(num, s);
        let first = _mm256_cmp_ps::<_CMP_EQ_OQ>(vc, zero);
        let new_im = _mm256_blendv_ps(q, dv, first);
        // `dow == 0` leaves the pixel alone (NaN weights do update it)
        let live = _mm256_cmp_ps::<_CMP_NEQ_UQ>(dow, zero);
        // Full-width stores of the blended values: the compiler would turn
        // "store(blend(load(p), x))" into a masked store (slow on AMD, and it
        // defeats store-to-load forwarding for the next input pixel), so the
        // values pass through an empty asm block it cannot see through.
        let mut out_i = _mm256_blendv_ps(im, new_im, live);
        let mut out_w = _mm256_blendv_ps(vc, s, live);
        // SAFETY: empty asm; the registers are passed through unchanged.
        std::arch::asm!(
            "/* {0} {1} */",
            inout(ymm_reg) out_i,
            inout(ymm_reg) out_w,
            options(pure, nomem, nostack, preserves_flags)
        );
        _mm256_storeu_ps(pi, out_i);
        _mm256_storeu_ps(pw, out_w);
        if let Some(pc) = pc {
            let pc = pc as *mut __m256i;
            let pos = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GT_OQ>(dow, zero));
            let cv = _mm256_loadu_si256(pc);
            _mm256_storeu_si256(pc, _mm256_or_si256(cv, _mm256_and_si256(pos, cm)));
        }
    }

    /// The pre-pass reduction of 8 centre pixels (`xy`: their interleaved
    /// `(X, Y)`): `(min(y - e), max(y + e), n)` over the pixels with both
    /// coordinates in the C `int` range whose extent touches the output
    /// rows (`BandMap::touches` with `ymax`), `n` the number of the others.
    /// Minimum and maximum of NaN-free values in any order are exact.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    pub(super) unsafe fn center_block_avx2(xy: &[f64; 16], e: f64, ymax: f64) -> (f64, f64, usize) {
        let p = xy.as_ptr();
        // SAFETY (loads): 16 f64.
        let (v0, v1) = (_mm256_loadu_pd(p), _mm256_loadu_pd(p.add(4)));
        let (v2, v3) = (_mm256_loadu_pd(p.add(8)), _mm256_loadu_pd(p.add(12)));
        let lim = _mm256_set1_pd(super::C_INT_LIMIT);
        let sign = _mm256_set1_pd(-0.0);
        let (ev, one, ym) = (_mm256_set1_pd(e), _mm256_set1_pd(1.0), _mm256_set1_pd(ymax));
        let zero = _mm256_setzero_pd();
        let (xa, ya) = (_mm256_unpacklo_pd(v0, v1), _mm256_unpackhi_pd(v0, v1));
        let (xb, yb) = (_mm256_unpacklo_pd(v2, v3), _mm256_unpackhi_pd(v2, v3));
        let (a0, b0, m0) = center_part(xa, ya, lim, sign, ev, one, ym, zero);
        let (a1, b1, m1) = center_part(xb, yb, lim, sign, ev, one, ym, zero);
        let lo = _mm256_min_pd(a0, a1);
        let hi = _mm256_max_pd(b0, b1);
        let lo2 = _mm_min_pd(_mm256_castpd256_pd128(lo), _mm256_extractf128_pd::<1>(lo));
        let hi2 = _mm_max_pd(_mm256_castpd256_pd128(hi), _mm256_extractf128_pd::<1>(hi));
        let lo1 = _mm_min_sd(lo2, _mm_unpackhi_pd(lo2, lo2));
        let hi1 = _mm_max_sd(hi2, _mm_unpackhi_pd(hi2, hi2));
        let good = (m0 | (m1 << 4)).count_ones() as usize;
        (_mm_cvtsd_f64(lo1), _mm_cvtsd_f64(hi1), 8 - good)
    }

    /// One half of [`center_block_avx2`]: extents and validity mask of 4 pixels.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn center_part(
        x: __m256d,
        y: __m256d,
        lim: __m256d,
        sign: __m256d,
        ev: __m256d,
        one: __m256d,
        ym: __m256d,
        zero: __m256d,
    ) -> (__m256d, __m256d, i32) {
        let okx = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_andnot_pd(sign, x), lim);
        let oky = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_andnot_pd(sign, y), lim);
        let a = _mm256_sub_pd(y, ev);
        let b = _mm256_add_pd(y, ev);
        let t0 = _mm256_cmp_pd::<_CMP_GE_OQ>(_mm256_add_pd(b, one), zero);
        let t1 = _mm256_cmp_pd::<_CMP_LE_OQ>(_mm256_sub_pd(a, one), ym);
        let ok = _mm256_and_pd(_mm256_and_pd(okx, oky), _mm256_and_pd(t0, t1));
        let a = _mm256_blendv_pd(_mm256_set1_pd(f64::INFINITY), a, ok);
        let b = _mm256_blendv_pd(_mm256_set1_pd(f64::NEG_INFINITY), b, ok);
        (a, b, _mm256_movemask_pd(ok))
    }

    /// The Lanczos table index `nint(|x - ii| * sdp)` of the lanes' columns
    /// `ii` (as integral doubles). Plain functions, not closures, so that
    /// they are always inlined into the caller's AVX2 code (a closure that is
    /// not inlined is compiled without the target feature).
    #[inline(always)]
    unsafe fn lut_index(xv: __m256d, ii: __m256d, sdp: __m256d, absm: __m256d) -> __m256d {
        nint_nonneg(_mm256_and_pd(
            _mm256_mul_pd(_mm256_sub_pd(xv, ii), sdp),
            absm,
        ))
    }

    /// The overlap `min(hi, ii + 0.5) - max(lo, ii - 0.5)` of `[lo, hi]` with
    /// the lanes' pixel columns `ii`.
    #[inline(always)]
    unsafe fn box_overlap(lo: __m256d, hi: __m256d, ii: __m256d, half: __m256d) -> __m256d {
        _mm256_sub_pd(
            _mm256_min_pd(hi, _mm256_add_pd(ii, half)),
            _mm256_max_pd(lo, _mm256_sub_pd(ii, half)),
        )
    }

    /// `nint(v)` of non-negative, non-NaN lanes (as integral doubles):
    /// truncation plus the exact fraction test, like `geometry::nint`.
    #[inline(always)]
    unsafe fn nint_nonneg(v: __m256d) -> __m256d {
        let t = _mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(v);
        let up = _mm256_cmp_pd::<_CMP_GE_OQ>(_mm256_sub_pd(v, t), _mm256_set1_pd(0.5));
        _mm256_add_pd(t, _mm256_and_pd(up, _mm256_set1_pd(1.0)))
    }

    /// Whether output columns up to `ihi` (and the windows around them) fit
    /// the i32 lane arithmetic of [`column_mask`].
    #[inline(always)]
    pub(super) fn window_columns_fit((_, ihi): (usize, usize)) -> bool {
        ihi < (i32::MAX - 16) as usize
    }

    /// The 8-lane i32 mask of the lanes of window `ia..ia + 8` whose column
    /// lies in `[ilo, ihi]`.
    #[inline(always)]
    unsafe fn column_mask(ia: usize, (ilo, ihi): (usize, usize)) -> __m256i {
        let col = _mm256_add_epi32(
            _mm256_set1_epi32(ia as i32),
            _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0),
        );
        let before = _mm256_cmpgt_epi32(_mm256_set1_epi32(ilo as i32), col);
        let after = _mm256_cmpgt_epi32(col, _mm256_set1_epi32(ihi as i32));
        _mm256_xor_si256(_mm256_or_si256(before, after), _mm256_set1_epi32(-1))
    }

    /// The output columns of window `ia..ia + 8` as two f64 vectors.
    #[inline(always)]
    unsafe fn window_columns(ia: usize) -> (__m256d, __m256d) {
        let base = _mm256_set1_pd(ia as f64);
        (
            _mm256_add_pd(base, _mm256_set_pd(3.0, 2.0, 1.0, 0.0)),
            _mm256_add_pd(base, _mm256_set_pd(7.0, 6.0, 5.0, 4.0)),
        )
    }

    /// `f32` lanes of two f64 vectors (lanes 0-3, then 4-7), rounded like `as f32`.
    #[inline(always)]
    unsafe fn to_f32(lo: __m256d, hi: __m256d) -> __m256 {
        _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo))
    }

    /// Drive a centre-based kernel over windows of 8 output columns aligned
    /// to multiples of 8 in the output row, so that the next input pixel's
    /// loads find the data just stored at the same address and size
    /// (store-to-load forwarding; the window's other pixels are stored back
    /// unchanged, the band has a single writer):
    /// `col(ia)` computes what the window's columns share, `row(jj, &c)`
    /// the window's weights in output row `jj` (`None`: the row gets
    /// nothing). Lanes without a contribution must have weight 0. Windows
    /// that would leave the band fall back to the scalar update.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    unsafe fn windows<C, FC: FnMut(usize) -> C, FR: FnMut(usize, &C) -> Option<__m256>>(
        band: &mut super::BandView,
        (ilo, ihi): (usize, usize),
        (rlo, rhi): (usize, usize),
        mut col: FC,
        mut row: FR,
    ) {
        let len = band.img.len().min(band.wht.len());
        let len = match band.ctx.as_deref() {
            Some(c) => len.min(c.len()),
            None => len,
        };
        let dv = _mm256_set1_ps(band.d);
        let cm = _mm256_set1_epi32(band.ctx_mask);
        let mut ia = ilo & !7;
        while ia <= ihi {
            let c = col(ia);
            for jj in rlo..=rhi {
                let Some(dow) = row(jj, &c) else {
                    continue;
                };
                let o = (jj - band.row0) * band.nx_o + ia;
                if o + 8 <= len {
                    // SAFETY: o + 8 <= len <= the length of every output.
                    let pc = band.ctx.as_deref_mut().map(|c| c.as_mut_ptr().add(o));
                    update_window(
                        band.img.as_mut_ptr().add(o),
                        band.wht.as_mut_ptr().add(o),
                        pc,
                        dow,
                        dv,
                        cm,
                    );
                } else {
                    let mut w = [0.0f32; 8];
                    _mm256_storeu_ps(w.as_mut_ptr(), dow);
                    let end = len.min(o + 8);
                    if o < end {
                        let ctx = band.ctx.as_deref_mut().and_then(|c| c.get_mut(o..end));
                        super::update_segment_scalar(
                            &mut band.img[o..end],
                            &mut band.wht[o..end],
                            ctx,
                            &w[..end - o],
                            band.d,
                            band.ctx_mask,
                        );
                    }
                }
            }
            ia += 8;
        }
    }

    /// Weights `f32(area * wq)` (0 where the area is 0) of footprint pixels
    /// `k .. k + 4` (row-major; lanes past the footprint are garbage).
    ///
    /// # Safety
    /// The CPU must support AVX2; `f.nc` in `1..=8`, `k <= FOOTPRINT_MAX`.
    #[inline(always)]
    unsafe fn footprint_chunk<const WIDE: bool>(
        q: &QuadEdges,
        f: &super::SquareFootprint,
        k: usize,
        sx0: __m256d,
        sy0: __m256d,
        wq: __m256d,
    ) -> __m128 {
        // SAFETY (loads): the lane tables hold FOOTPRINT_MAX + 4 entries per width.
        let dc = super::LANE_DC[f.nc - 1].as_ptr().add(k);
        let dr = super::LANE_DR[f.nc - 1].as_ptr().add(k);
        let dcv = _mm256_cvtepi32_pd(_mm_loadu_si128(dc as *const __m128i));
        let drv = _mm256_cvtepi32_pd(_mm_loadu_si128(dr as *const __m128i));
        let (sx, sy) = (_mm256_sub_pd(sx0, dcv), _mm256_sub_pd(sy0, drv));
        let a = if WIDE && f.nc * f.nr <= k + 2 {
            // at most two output pixels left: one 8-lane pass
            lane_areas_wide2(q, sx, sy)
        } else if WIDE {
            lane_areas_wide(q, sx, sy)
        } else {
            lane_areas(q, F64x4(sx), F64x4(sy)).0
        };
        let prod = _mm256_mul_pd(a, wq);
        let nz = _mm256_cmp_pd::<_CMP_NEQ_UQ>(a, _mm256_setzero_pd());
        _mm256_cvtpd_ps(_mm256_and_pd(prod, nz))
    }

    /// The i32 lane mask of window `w` (lanes `t`) whose footprint column
    /// offset `8w + t - s` lies in `[0, nc)`.
    #[inline(always)]
    unsafe fn window_lane_mask(iota: __m256i, w: usize, s: usize, nc: usize) -> __m256i {
        let off = _mm256_add_epi32(iota, _mm256_set1_epi32(8 * w as i32 - s as i32));
        _mm256_and_si256(
            _mm256_cmpgt_epi32(off, _mm256_set1_epi32(-1)),
            _mm256_cmpgt_epi32(_mm256_set1_epi32(nc as i32), off),
        )
    }

    /// [`update_window`] of the 8 pixels from output column `col` of
    /// output row `row` (absolute) of `band`.
    ///
    /// # Safety
    /// The CPU must support AVX2; the window must lie inside every output
    /// of the band.
    #[inline(always)]
    unsafe fn footprint_row_update(
        band: &mut super::BandView,
        row: usize,
        col: usize,
        dow: __m256,
        dv: __m256,
        cm: __m256i,
    ) {
        let o = (row - band.row0) * band.nx_o + col;
        let pc = band.ctx.as_deref_mut().map(|x| x.as_mut_ptr().add(o));
        update_window(
            band.img.as_mut_ptr().add(o),
            band.wht.as_mut_ptr().add(o),
            pc,
            dow,
            dv,
            cm,
        );
    }

    /// [`super::Isa::square_footprint`]: the footprint's areas in chunks of 4
    /// f64 lanes (row-major), the weights `f32(area * wq)` (0 where the area
    /// is 0, which the reference skips), and for each footprint row the
    /// update of the one or two 8-column windows aligned to multiples of 8
    /// that hold its columns (each window lane takes its column's weight, the
    /// others 0). A single-chunk footprint keeps its weights in a register;
    /// larger ones pass through a small buffer. `false` (nothing done) when
    /// the footprint is wider than 8 columns or a window would leave the band.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    pub(super) unsafe fn square_footprint_avx2<const WIDE: bool>(
        band: &mut super::BandView,
        q: &QuadEdges,
        f: &super::SquareFootprint,
    ) -> bool {
        let (nc, nr) = (f.nc, f.nr);
        let total = nc * nr;
        if nc == 0
            || nc > 8
            || total > super::FOOTPRINT_MAX
            || !window_columns_fit((f.c0, f.c0 + nc))
        {
            return false;
        }
        let s = f.c0 & 7;
        let ia = f.c0 - s;
        let nwin = if s + nc > 8 { 2 } else { 1 };
        let len = band.img.len().min(band.wht.len());
        let len = match band.ctx.as_deref() {
            Some(x) => len.min(x.len()),
            None => len,
        };
        if f.r0 < band.row0 {
            return false;
        }
        let last_o = (f.r0 + nr - 1 - band.row0) * band.nx_o + ia;
        if last_o + 8 * nwin > len {
            return false;
        }
        let sx0 = _mm256_set1_pd(f.sx0);
        let sy0 = _mm256_set1_pd(f.sy0);
        let wq = _mm256_set1_pd(f.wq);
        let iota = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
        let dv = _mm256_set1_ps(band.d);
        let cm = _mm256_set1_epi32(band.ctx_mask);
        if total <= 4 && 4 % nc == 0 {
            let dow8 = _mm256_castps128_ps256(footprint_chunk::<WIDE>(q, f, 0, sx0, sy0, wq));
            for w in 0..nwin {
                let m = window_lane_mask(iota, w, s, nc);
                for r in 0..nr {
                    // lane t takes chunk lane r * nc + 8w + t - s
                    let off = (r * nc + 8 * w) as i32 - s as i32;
                    let idx = _mm256_add_epi32(iota, _mm256_set1_epi32(off));
                    let moved = _mm256_permutevar8x32_ps(dow8, idx);
                    footprint_row_update(
                        band,
                        f.r0 + r,
                        ia + 8 * w,
                        _mm256_and_ps(moved, _mm256_castsi256_ps(m)),
                        dv,
                        cm,
                    );
                }
            }
            return true;
        }
        // weights of footprint pixel k at buf[8 + k]; 8 zeros before, room after
        let mut buf = [0.0f32; super::FOOTPRINT_MAX + 24];
        let mut k = 0;
        while k < total {
            _mm_storeu_ps(
                buf.as_mut_ptr().add(8 + k),
                footprint_chunk::<WIDE>(q, f, k, sx0, sy0, wq),
            );
            k += 4;
        }
        for w in 0..nwin {
            let m = _mm256_castsi256_ps(window_lane_mask(iota, w, s, nc));
            for r in 0..nr {
                // SAFETY: 1 <= 8 + r * nc + 8w - s and the 8 floats end
                // before 8 + total + 16 <= buf.len().
                let v = _mm256_loadu_ps(buf.as_ptr().add(8 + r * nc + 8 * w - s));
                footprint_row_update(band, f.r0 + r, ia + 8 * w, _mm256_and_ps(v, m), dv, cm);
            }
        }
        true
    }

    /// [`super::Isa::square_footprint`] with the `data2` and DQ outputs
    /// (`band.full`): the weights as in [`square_footprint_avx2`], then per
    /// footprint row the full update ([`full_update4`]) of the one or two
    /// 4-column windows aligned to multiples of 4 that hold its columns.
    /// `false` (nothing done) for footprints wider than 4 columns or windows
    /// leaving any output.
    ///
    /// # Safety
    /// The CPU must support AVX2 (and AVX-512F when `WIDE`).
    #[inline(always)]
    pub(super) unsafe fn square_footprint_full<const WIDE: bool>(
        band: &mut super::BandView,
        q: &QuadEdges,
        f: &super::SquareFootprint,
    ) -> bool {
        let (nc, nr) = (f.nc, f.nr);
        let total = nc * nr;
        if nc == 0 || nc > 4 || total > super::FOOTPRINT_MAX || f.r0 < band.row0 {
            return false;
        }
        let s = f.c0 & 3;
        let ia = f.c0 - s;
        let nwin = if s + nc > 4 { 2 } else { 1 };
        let Some(full) = band.full.as_ref() else {
            return false;
        };
        let mut len = band.img.len().min(band.wht.len());
        if let Some(c) = band.ctx.as_deref() {
            len = len.min(c.len());
        }
        if let Some(d) = full.dq.as_deref() {
            len = len.min(d.len());
        }
        for &(_, l) in full.img2 {
            len = len.min(l);
        }
        if (f.r0 + nr - 1 - band.row0) * band.nx_o + ia + 4 * nwin > len {
            return false;
        }
        let sx0 = _mm256_set1_pd(f.sx0);
        let sy0 = _mm256_set1_pd(f.sy0);
        let wq = _mm256_set1_pd(f.wq);
        let iota = _mm_set_epi32(3, 2, 1, 0);
        // lanes t of window w whose footprint column offset 4w + t - s lies in [0, nc)
        if total <= 4 && 4 % nc == 0 {
            // one chunk: its weights stay in a register
            let dow4 = footprint_chunk::<WIDE>(q, f, 0, sx0, sy0, wq);
            for w in 0..nwin {
                let m = window4_lane_mask(iota, w, s, nc);
                for r in 0..nr {
                    // lane t takes chunk lane r * nc + 4w + t - s (mod 4; masked)
                    let idx =
                        _mm_add_epi32(iota, _mm_set1_epi32((r * nc + 4 * w) as i32 - s as i32));
                    let moved = _mm_permutevar_ps(dow4, idx);
                    full_update4(band, f.r0 + r, ia + 4 * w, _mm_and_ps(moved, m));
                }
            }
            return true;
        }
        // weights of footprint pixel k at buf[8 + k]; zeros around
        let mut buf = [0.0f32; super::FOOTPRINT_MAX + 24];
        let mut k = 0;
        while k < total {
            _mm_storeu_ps(
                buf.as_mut_ptr().add(8 + k),
                footprint_chunk::<WIDE>(q, f, k, sx0, sy0, wq),
            );
            k += 4;
        }
        for w in 0..nwin {
            let m = window4_lane_mask(iota, w, s, nc);
            for r in 0..nr {
                // SAFETY: 4 <= 8 + r * nc + 4w - s and the 4 floats end
                // before 8 + total + 8 <= buf.len().
                let v = _mm_loadu_ps(buf.as_ptr().add(8 + r * nc + 4 * w - s));
                full_update4(band, f.r0 + r, ia + 4 * w, _mm_and_ps(v, m));
            }
        }
        true
    }

    /// The f32 lane mask of 4-column window `w` (lanes `t`) whose footprint
    /// column offset `4w + t - s` lies in `[0, nc)`.
    #[inline(always)]
    unsafe fn window4_lane_mask(iota: __m128i, w: usize, s: usize, nc: usize) -> __m128 {
        let off = _mm_add_epi32(iota, _mm_set1_epi32(4 * w as i32 - s as i32));
        _mm_castsi128_ps(_mm_and_si128(
            _mm_cmpgt_epi32(off, _mm_set1_epi32(-1)),
            _mm_cmpgt_epi32(_mm_set1_epi32(nc as i32), off),
        ))
    }

    /// `v` unchanged, through an empty `asm` block the compiler cannot see
    /// through: keeps "store(blend(load(p), x))" a full-width store instead
    /// of a masked one (slow on AMD, and it defeats store-to-load
    /// forwarding for the next input pixel).
    #[inline(always)]
    unsafe fn opaque4(mut v: __m128) -> __m128 {
        // SAFETY: empty asm; the register is passed through unchanged.
        std::arch::asm!("/* {0} */", inout(xmm_reg) v, options(pure, nomem, nostack, preserves_flags));
        v
    }

    /// The update rule with `data2` and DQ (`BandSink::update` of the parent
    /// module) on the 4 output pixels from column `col` of output row `row`
    /// with weights `dow` (0: pixel untouched): science and weight in single
    /// precision, each `img2` as `f32((t vc^2 + dow^2 v) / s^2)` in double
    /// precision (`v` the input's value; the first contribution copies `v`),
    /// DQ overwritten by the first contribution and OR-ed afterwards, the
    /// context bit where `dow > 0`. Lanes are selected, never branched on.
    ///
    /// # Safety
    /// The CPU must support AVX2; the 4 pixels must lie inside every output
    /// of the band (`band.full` present).
    #[inline(always)]
    unsafe fn full_update4(band: &mut super::BandView, row: usize, col: usize, dow: __m128) {
        let o = (row - band.row0) * band.nx_o + col;
        let zero = _mm_setzero_ps();
        let dv = _mm_set1_ps(band.d);
        let pw = band.wht.as_mut_ptr().add(o);
        let pi = band.img.as_mut_ptr().add(o);
        let vc = _mm_loadu_ps(pw);
        let im = _mm_loadu_ps(pi);
        let s = _mm_add_ps(vc, dow);
        let num = _mm_add_ps(_mm_mul_ps(im, vc), _mm_mul_ps(dow, dv));
        let first = _mm_cmpeq_ps(vc, zero);
        let new_im = _mm_blendv_ps(_mm_div_ps(num, s), dv, first);
        let live = _mm_cmpneq_ps(dow, zero);
        // full-width stores (see `update_window`: no masked stores)
        _mm_storeu_ps(pi, opaque4(_mm_blendv_ps(im, new_im, live)));
        _mm_storeu_ps(pw, opaque4(_mm_blendv_ps(vc, s, live)));
        if let Some(c) = band.ctx.as_deref_mut() {
            let pc = c.as_mut_ptr().add(o) as *mut __m128i;
            let pos = _mm_castps_si128(_mm_cmpgt_ps(dow, zero));
            let cv = _mm_loadu_si128(pc);
            let cm = _mm_set1_epi32(band.ctx_mask);
            let out = _mm_castps_si128(opaque4(_mm_castsi128_ps(_mm_or_si128(
                cv,
                _mm_and_si128(pos, cm),
            ))));
            _mm_storeu_si128(pc, out);
        }
        let Some(full) = band.full.as_mut() else {
            return;
        };
        // masks and factors in double precision
        let firstd = _mm256_cmp_pd::<_CMP_EQ_OQ>(_mm256_cvtps_pd(vc), _mm256_setzero_pd());
        let vc2 = _mm256_cvtps_pd(_mm_mul_ps(vc, vc));
        let dow2 = _mm256_cvtps_pd(_mm_mul_ps(dow, dow));
        let sd = _mm256_cvtps_pd(s);
        let s2 = _mm256_mul_pd(sd, sd);
        for (k, &(p2, _)) in full.img2.iter().enumerate() {
            let v = full.d2.get(k).copied().unwrap_or(0.0);
            let vd = _mm256_set1_pd(v as f64);
            let pt = p2.add(o);
            let t = _mm_loadu_ps(pt);
            let td = _mm256_cvtps_pd(t);
            let q2 = _mm256_div_pd(
                _mm256_add_pd(_mm256_mul_pd(td, vc2), _mm256_mul_pd(dow2, vd)),
                s2,
            );
            let new_t = _mm256_cvtpd_ps(_mm256_blendv_pd(q2, vd, firstd));
            _mm_storeu_ps(pt, opaque4(_mm_blendv_ps(t, new_t, live)));
        }
        if let Some(dq) = full.dq.as_deref_mut() {
            let pq = dq.as_mut_ptr().add(o) as *mut __m128i;
            let old = _mm_loadu_si128(pq);
            let din = _mm_set1_epi32(full.dq_in as i32);
            let firsti = _mm_castps_si128(first);
            let new = _mm_blendv_epi8(_mm_or_si128(old, din), din, firsti);
            let out = _mm_blendv_epi8(old, new, _mm_castps_si128(live));
            _mm_storeu_si128(pq, _mm_castps_si128(opaque4(_mm_castsi128_ps(out))));
        }
    }

    /// The Lanczos kernel on 8-column windows ([`windows`]): per window the
    /// table values of the columns (`nint` of the scaled offset, gathered
    /// from the table), per row the weights `f32(L[kx] * L[ky] * w)`. Lanes
    /// outside `[ilo, ihi]` or with `kx >= N` get weight 0 (no contribution,
    /// as the scalar kernel's `continue`).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    pub(super) unsafe fn lanczos_avx2(band: &mut super::BandView, p: &super::LanczosPixel) {
        let n = p.lut.len();
        if n == 0 {
            return;
        }
        let nf = n as f64;
        let xv = _mm256_set1_pd(p.x);
        let sdp = _mm256_set1_pd(p.sdp);
        let wd = _mm256_set1_pd(p.wd);
        let absm = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
        windows(
            band,
            p.cols,
            p.rows,
            #[inline(always)]
            |ia: usize| {
                let (c_lo, c_hi) = window_columns(ia);
                let (klo, khi) = (
                    lut_index(xv, c_lo, sdp, absm),
                    lut_index(xv, c_hi, sdp, absm),
                );
                // table indices (clamped: lanes beyond the table are masked below)
                let last = _mm256_set1_pd(nf - 1.0);
                let i_lo = _mm256_cvttpd_epi32(_mm256_min_pd(klo, last));
                let i_hi = _mm256_cvttpd_epi32(_mm256_min_pd(khi, last));
                // SAFETY: indices are in 0..n (kx >= 0, clamped to n - 1).
                let lx_lo = _mm256_i32gather_pd::<8>(p.lut.as_ptr(), i_lo);
                let lx_hi = _mm256_i32gather_pd::<8>(p.lut.as_ptr(), i_hi);
                // kx < n, as 8 lanes of i32 (kx clamped to n first)
                let nv = _mm256_set1_pd(nf);
                let kc = _mm256_set_m128i(
                    _mm256_cvttpd_epi32(_mm256_min_pd(khi, nv)),
                    _mm256_cvttpd_epi32(_mm256_min_pd(klo, nv)),
                );
                let kin = _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), kc);
                let live = _mm256_castsi256_ps(_mm256_and_si256(column_mask(ia, p.cols), kin));
                (lx_lo, lx_hi, live)
            },
            #[inline(always)]
            |jj: usize, c: &(__m256d, __m256d, __m256)| {
                let ky = super::nint(((p.y - jj as f64) * p.sdp).abs());
                if !(0..n as i64).contains(&ky) {
                    return None;
                }
                let ly = _mm256_set1_pd(*p.lut.get(ky as usize)?);
                let d_lo = _mm256_mul_pd(_mm256_mul_pd(c.0, ly), wd);
                let d_hi = _mm256_mul_pd(_mm256_mul_pd(c.1, ly), wd);
                Some(_mm256_and_ps(to_f32(d_lo, d_hi), c.2))
            },
        );
    }

    /// The Gaussian kernel for footprints up to 4 columns wide: per output
    /// row the 4 lanes `ddx^2 + ddy^2` of columns `ilo..ilo + 4`, the vector
    /// `exp` of `-r2 * efac` (bitwise libm, `FMA` selecting the build),
    /// `g = f32(es * e)`, `dow = f32(f64(g) * wd)`, then the update of the
    /// one or two 8-column windows holding the row's columns (lanes of other
    /// columns 0). `false` (nothing done) when the footprint is wider or a
    /// window would leave the band.
    ///
    /// # Safety
    /// The CPU must support AVX2, and FMA when `FMA`.
    #[inline(always)]
    pub(super) unsafe fn gaussian_avx2<const FMA: bool>(
        band: &mut super::BandView,
        p: &super::GaussianPixel,
    ) -> bool {
        let ((ilo, ihi), (rlo, rhi)) = (p.cols, p.rows);
        let nc = ihi + 1 - ilo;
        if nc > 4 || !window_columns_fit(p.cols) || rlo < band.row0 {
            return false;
        }
        let s = ilo & 7;
        let ia = ilo - s;
        let nwin = if s + nc > 8 { 2 } else { 1 };
        let len = band.img.len().min(band.wht.len());
        let len = match band.ctx.as_deref() {
            Some(x) => len.min(x.len()),
            None => len,
        };
        if (rhi - band.row0) * band.nx_o + ia + 8 * nwin > len {
            return false;
        }
        let cols = _mm256_add_pd(
            _mm256_set1_pd(ilo as f64),
            _mm256_set_pd(3.0, 2.0, 1.0, 0.0),
        );
        let dx = _mm256_sub_pd(_mm256_set1_pd(p.x), cols);
        let dx2 = _mm256_mul_pd(dx, dx);
        let (neg, efac) = (_mm256_set1_pd(-0.0), _mm256_set1_pd(p.efac));
        let (es, wd) = (_mm256_set1_pd(p.es), _mm256_set1_pd(p.wd));
        let iota = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
        let dv = _mm256_set1_ps(band.d);
        let cm = _mm256_set1_epi32(band.ctx_mask);
        // per window: the lane moves and the mask of the footprint's columns
        let idx = [
            _mm256_add_epi32(iota, _mm256_set1_epi32(-(s as i32))),
            _mm256_add_epi32(iota, _mm256_set1_epi32(8 - s as i32)),
        ];
        let m = [
            _mm256_castsi256_ps(window_lane_mask(iota, 0, s, nc)),
            _mm256_castsi256_ps(window_lane_mask(iota, 1, s, nc)),
        ];
        for jj in rlo..=rhi {
            let ddy = p.y - jj as f64;
            let r2 = _mm256_add_pd(dx2, _mm256_set1_pd(ddy * ddy));
            let arg = _mm256_mul_pd(_mm256_xor_pd(r2, neg), efac);
            let e = if FMA {
                super::super::vexp::exp4_fma(arg)
            } else {
                super::super::vexp::exp4_nofma(arg)
            };
            let g = _mm256_cvtpd_ps(_mm256_mul_pd(es, e));
            let dow = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(g), wd));
            let dow8 = _mm256_castps128_ps256(dow);
            for w in 0..nwin {
                let moved = _mm256_permutevar8x32_ps(dow8, idx[w]);
                footprint_row_update(band, jj, ia + 8 * w, _mm256_and_ps(moved, m[w]), dv, cm);
            }
        }
        true
    }

    /// The turbo kernel for footprints up to 4 columns wide: the x overlaps
    /// of columns `ilo..ilo + 4` once (as in [`turbo_avx2`]), per output row
    /// the y overlap and the weights `f32(dx * dy * scale * w)` where both
    /// overlaps are `> 0` (0 elsewhere), placed into the one or two 8-column
    /// windows holding the row's columns. `false` (nothing done) when the
    /// footprint is wider or a window would leave the band.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    pub(super) unsafe fn turbo4_avx2(band: &mut super::BandView, p: &super::TurboPixel) -> bool {
        let ((ilo, ihi), (rlo, rhi)) = (p.cols, p.rows);
        let nc = ihi + 1 - ilo;
        if nc > 4 || !window_columns_fit(p.cols) || rlo < band.row0 {
            return false;
        }
        let s = ilo & 7;
        let ia = ilo - s;
        let nwin = if s + nc > 8 { 2 } else { 1 };
        let len = band.img.len().min(band.wht.len());
        let len = match band.ctx.as_deref() {
            Some(x) => len.min(x.len()),
            None => len,
        };
        if (rhi - band.row0) * band.nx_o + ia + 8 * nwin > len {
            return false;
        }
        let half = _mm256_set1_pd(0.5);
        let cols = _mm256_add_pd(
            _mm256_set1_pd(ilo as f64),
            _mm256_set_pd(3.0, 2.0, 1.0, 0.0),
        );
        let dx = _mm256_sub_pd(
            _mm256_min_pd(_mm256_set1_pd(p.x + p.pfo), _mm256_add_pd(cols, half)),
            _mm256_max_pd(_mm256_set1_pd(p.x - p.pfo), _mm256_sub_pd(cols, half)),
        );
        let live = _mm256_cmp_pd::<_CMP_GT_OQ>(dx, _mm256_setzero_pd());
        let (scale, wd) = (_mm256_set1_pd(p.scale), _mm256_set1_pd(p.wd));
        let iota = _mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0);
        let dv = _mm256_set1_ps(band.d);
        let cm = _mm256_set1_epi32(band.ctx_mask);
        let (y_hi, y_lo) = (p.y + p.pfo, p.y - p.pfo);
        // per window: the lane moves and the mask of the footprint's columns
        let idx = [
            _mm256_add_epi32(iota, _mm256_set1_epi32(-(s as i32))),
            _mm256_add_epi32(iota, _mm256_set1_epi32(8 - s as i32)),
        ];
        let m = [
            _mm256_castsi256_ps(window_lane_mask(iota, 0, s, nc)),
            _mm256_castsi256_ps(window_lane_mask(iota, 1, s, nc)),
        ];
        for jj in rlo..=rhi {
            let fjj = jj as f64;
            let dy = y_hi.min(fjj + 0.5) - y_lo.max(fjj - 0.5);
            if dy <= 0.0 || dy.is_nan() {
                continue;
            }
            let w = _mm256_mul_pd(
                _mm256_mul_pd(_mm256_mul_pd(dx, _mm256_set1_pd(dy)), scale),
                wd,
            );
            let dow8 = _mm256_castps128_ps256(_mm256_cvtpd_ps(_mm256_and_pd(w, live)));
            for w in 0..nwin {
                let moved = _mm256_permutevar8x32_ps(dow8, idx[w]);
                footprint_row_update(band, jj, ia + 8 * w, _mm256_and_ps(moved, m[w]), dv, cm);
            }
        }
        true
    }

    /// The turbo kernel on 8-column windows ([`windows`]): per window the x
    /// overlaps `min(x + pfo, ii + 0.5) - max(x - pfo, ii - 0.5)` (`minpd`
    /// and `maxpd` differ from `f64::min`/`max` at most in the sign of a zero
    /// result, and only overlaps `> 0` are used), per row the y overlap and
    /// the weights `f32(dx * dy * scale * w)` where both overlaps are `> 0`.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    pub(super) unsafe fn turbo_avx2(band: &mut super::BandView, p: &super::TurboPixel) {
        let half = _mm256_set1_pd(0.5);
        let hi_x = _mm256_set1_pd(p.x + p.pfo);
        let lo_x = _mm256_set1_pd(p.x - p.pfo);
        let sw = (_mm256_set1_pd(p.scale), _mm256_set1_pd(p.wd));
        let zero = _mm256_setzero_pd();
        windows(
            band,
            p.cols,
            p.rows,
            #[inline(always)]
            |ia: usize| {
                let (c_lo, c_hi) = window_columns(ia);
                let (dx_lo, dx_hi) = (
                    box_overlap(lo_x, hi_x, c_lo, half),
                    box_overlap(lo_x, hi_x, c_hi, half),
                );
                // lanes with dx > 0, as f32 lanes via the rounded mask values
                let live_x = to_f32(
                    _mm256_and_pd(
                        _mm256_cmp_pd::<_CMP_GT_OQ>(dx_lo, zero),
                        _mm256_set1_pd(1.0),
                    ),
                    _mm256_and_pd(
                        _mm256_cmp_pd::<_CMP_GT_OQ>(dx_hi, zero),
                        _mm256_set1_pd(1.0),
                    ),
                );
                let live = _mm256_and_ps(
                    _mm256_cmp_ps::<_CMP_GT_OQ>(live_x, _mm256_setzero_ps()),
                    _mm256_castsi256_ps(column_mask(ia, p.cols)),
                );
                (dx_lo, dx_hi, live)
            },
            #[inline(always)]
            |jj: usize, c: &(__m256d, __m256d, __m256)| {
                let fjj = jj as f64;
                let dy = (p.y + p.pfo).min(fjj + 0.5) - (p.y - p.pfo).max(fjj - 0.5);
                if dy <= 0.0 || dy.is_nan() {
                    return None;
                }
                let dy = _mm256_set1_pd(dy);
                let w_lo = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(c.0, dy), sw.0), sw.1);
                let w_hi = _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(c.1, dy), sw.0), sw.1);
                Some(_mm256_and_ps(to_f32(w_lo, w_hi), c.2))
            },
        );
    }

    /// `QuadInfo::new(interior_corners(..))` on vectors: the corner range
    /// test, min/max (`minpd`/`maxpd` pick one of two NaN-free operands, like
    /// the scalar comparisons up to the sign of a zero, which neither `nint`
    /// nor `shifts_exact` can see), `nint` as truncation plus the exact
    /// fraction test, the Jacobian with the scalar operation order.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    pub(super) unsafe fn interior_quad_avx2(
        r0: &[f64; 6],
        r1: &[f64; 6],
        r2: &[f64; 6],
        w: &CornerWeights,
    ) -> Option<QuadInfo> {
        let (xv, yv) = interior_corners_avx2(r0, r1, r2, w);
        let absm = _mm256_castsi256_pd(_mm256_set1_epi64x(i64::MAX));
        let lim = _mm256_set1_pd(super::C_INT_LIMIT);
        let okx = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_and_pd(xv, absm), lim);
        let oky = _mm256_cmp_pd::<_CMP_LT_OQ>(_mm256_and_pd(yv, absm), lim);
        if _mm256_movemask_pd(_mm256_and_pd(okx, oky)) != 15 {
            return None;
        }
        // [x0, y0, x2, y2] and [x1, y1, x3, y3]
        let a = _mm256_unpacklo_pd(xv, yv);
        let b = _mm256_unpackhi_pd(xv, yv);
        let mn = _mm256_min_pd(a, b);
        let mx = _mm256_max_pd(a, b);
        let mn = _mm256_min_pd(mn, _mm256_permute4x64_pd::<0x4e>(mn)); // [xmin, ymin, ..]
        let mx = _mm256_max_pd(mx, _mm256_permute4x64_pd::<0x4e>(mx)); // [xmax, ymax, ..]
        let lo = _mm256_castpd256_pd128(mn);
        let hi = _mm256_castpd256_pd128(mx);
        // [xmin, xmax, ymin, ymax]
        let bnd = _mm256_set_m128d(_mm_unpackhi_pd(lo, hi), _mm_unpacklo_pd(lo, hi));
        let t = _mm256_round_pd::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(bnd);
        let f = _mm256_sub_pd(bnd, t);
        let one = _mm256_set1_pd(1.0);
        let up = _mm256_and_pd(_mm256_cmp_pd::<_CMP_GE_OQ>(f, _mm256_set1_pd(0.5)), one);
        let dn = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(f, _mm256_set1_pd(-0.5)), one);
        let r = _mm256_sub_pd(_mm256_add_pd(t, up), dn);
        let ri = _mm256_cvttpd_epi32(r);
        let bounds = [
            _mm_cvtsi128_si32(ri) as i64,
            _mm_extract_epi32::<1>(ri) as i64,
            _mm_extract_epi32::<2>(ri) as i64,
            _mm_extract_epi32::<3>(ri) as i64,
        ];
        // shifts_exact for x (lane 0) and y (lane 1)
        let ok = _mm_and_pd(
            _mm_and_pd(
                _mm_cmpgt_pd(lo, _mm_setzero_pd()),
                _mm_cmplt_pd(hi, _mm_set1_pd(super::SHIFT_LIMIT)),
            ),
            _mm_cmple_pd(_mm_add_pd(_mm_sub_pd(hi, lo), _mm_set1_pd(1.5)), lo),
        );
        let exact = _mm_movemask_pd(ok) == 3;
        // jaco = 0.5 * ((x1 - x3)(y0 - y2) - (x0 - x2)(y1 - y3))
        let dxv = _mm256_sub_pd(xv, _mm256_permute4x64_pd::<0x4e>(xv)); // [x0-x2, x1-x3, ..]
        let dyv = _mm256_sub_pd(yv, _mm256_permute4x64_pd::<0x4e>(yv));
        let p = _mm256_castpd256_pd128(_mm256_mul_pd(dxv, _mm256_permute_pd::<0b0101>(dyv)));
        // p = [(x0-x2)(y1-y3), (x1-x3)(y0-y2)]
        let diff = _mm_sub_sd(_mm_unpackhi_pd(p, p), p);
        let jaco = 0.5 * _mm_cvtsd_f64(diff);
        let mut x = [0.0f64; 4];
        let mut y = [0.0f64; 4];
        _mm256_storeu_pd(x.as_mut_ptr(), xv);
        _mm256_storeu_pd(y.as_mut_ptr(), yv);
        Some(QuadInfo {
            x,
            y,
            bounds,
            jaco,
            exact,
        })
    }

    /// [`QuadEdges::new`] with the 4 edges in the 4 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    pub(super) unsafe fn quad_edges_avx2<const WIDE: bool>(
        x: &[f64; 4],
        y: &[f64; 4],
    ) -> QuadEdges {
        let xv = _mm256_loadu_pd(x.as_ptr());
        let yv = _mm256_loadu_pd(y.as_ptr());
        let x2 = _mm256_permute4x64_pd::<0x39>(xv); // x[e + 1]
        let y2 = _mm256_permute4x64_pd::<0x39>(yv);
        let dx = _mm256_sub_pd(x2, xv);
        let dy = _mm256_sub_pd(y2, yv);
        let m = _mm256_div_pd(dy, dx);
        let neg = _mm256_cmp_pd::<_CMP_LT_OQ>(dx, _mm256_setzero_pd());
        let xl = _mm256_blendv_pd(xv, x2, neg);
        let xh = _mm256_blendv_pd(x2, xv, neg);
        let sgn = _mm256_blendv_pd(_mm256_set1_pd(1.0), _mm256_set1_pd(-1.0), neg);
        let half = _mm256_blendv_pd(_mm256_set1_pd(0.5), _mm256_set1_pd(-0.5), neg);
        let mut q = QuadEdges {
            x: *x,
            y: *y,
            x2: [0.0; 4],
            y2: [0.0; 4],
            xl: [0.0; 4],
            xh: [0.0; 4],
            dx: [0.0; 4],
            dy: [0.0; 4],
            m: [0.0; 4],
            rdy: [0.0; 4],
            sgn: [0.0; 4],
            half: [0.0; 4],
        };
        _mm256_storeu_pd(q.x2.as_mut_ptr(), x2);
        _mm256_storeu_pd(q.y2.as_mut_ptr(), y2);
        _mm256_storeu_pd(q.xl.as_mut_ptr(), xl);
        _mm256_storeu_pd(q.xh.as_mut_ptr(), xh);
        _mm256_storeu_pd(q.dx.as_mut_ptr(), dx);
        _mm256_storeu_pd(q.dy.as_mut_ptr(), dy);
        _mm256_storeu_pd(q.m.as_mut_ptr(), m);
        if WIDE {
            // only the 8-lane areas use the reciprocals
            let rdy = _mm256_div_pd(_mm256_set1_pd(1.0), dy);
            _mm256_storeu_pd(q.rdy.as_mut_ptr(), rdy);
        }
        _mm256_storeu_pd(q.sgn.as_mut_ptr(), sgn);
        _mm256_storeu_pd(q.half.as_mut_ptr(), half);
        q
    }

    /// A lane mask (the result of a lane comparison).
    trait Mask: Copy {
        unsafe fn and(self, o: Self) -> Self;
        unsafe fn or(self, o: Self) -> Self;
        /// `!mask`
        unsafe fn not(self) -> Self;
        /// Whether any lane of the mask is set.
        unsafe fn any(self) -> bool;
    }

    /// The lane operations the area evaluation needs.
    trait Lanes: Copy {
        const N: usize;
        type M: Mask;
        unsafe fn splat(v: f64) -> Self;
        unsafe fn load(v: &[f64; 4]) -> Self;
        unsafe fn store(self, out: &mut [f64; 4]);
        unsafe fn add(self, o: Self) -> Self;
        unsafe fn sub(self, o: Self) -> Self;
        unsafe fn mul(self, o: Self) -> Self;
        unsafe fn div(self, o: Self) -> Self;
        /// `self / d` (correctly rounded, as [`Lanes::div`]) given `rd =
        /// 1 / d` rounded; lane types with FMA replace the division by
        /// multiplications (see `F64x8::div_by`).
        #[inline(always)]
        unsafe fn div_by(self, d: Self, rd: Self) -> Self {
            let _ = rd;
            self.div(d)
        }
        /// `self > o ? self : o` (x86 `maxpd`)
        unsafe fn max(self, o: Self) -> Self;
        /// `self < o ? self : o` (x86 `minpd`)
        unsafe fn min(self, o: Self) -> Self;
        /// Ordered, non-signalling `<` and `<=`.
        unsafe fn lt(self, o: Self) -> Self::M;
        unsafe fn le(self, o: Self) -> Self::M;
        /// `mask ? a : b`, lane by lane.
        unsafe fn select(mask: Self::M, a: Self, b: Self) -> Self;
        /// `mask ? 0 : a`.
        unsafe fn zero_where(mask: Self::M, a: Self) -> Self;
    }

    /// Masks of [`F64x4`]/[`F64x2`]: all-ones/all-zeros lanes of the same
    /// register type.
    #[derive(Clone, Copy)]
    struct VecMask<T>(T);

    impl Mask for VecMask<__m256d> {
        #[inline(always)]
        unsafe fn and(self, o: Self) -> Self {
            VecMask(_mm256_and_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn or(self, o: Self) -> Self {
            VecMask(_mm256_or_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn not(self) -> Self {
            let ones = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
            VecMask(_mm256_xor_pd(self.0, ones))
        }
        #[inline(always)]
        unsafe fn any(self) -> bool {
            _mm256_movemask_pd(self.0) != 0
        }
    }

    impl Mask for VecMask<__m128d> {
        #[inline(always)]
        unsafe fn and(self, o: Self) -> Self {
            VecMask(_mm_and_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn or(self, o: Self) -> Self {
            VecMask(_mm_or_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn not(self) -> Self {
            let ones = _mm_castsi128_pd(_mm_set1_epi64x(-1));
            VecMask(_mm_xor_pd(self.0, ones))
        }
        #[inline(always)]
        unsafe fn any(self) -> bool {
            _mm_movemask_pd(self.0) != 0
        }
    }

    #[derive(Clone, Copy)]
    struct F64x4(__m256d);

    impl Lanes for F64x4 {
        const N: usize = 4;
        type M = VecMask<__m256d>;
        #[inline(always)]
        unsafe fn splat(v: f64) -> Self {
            F64x4(_mm256_set1_pd(v))
        }
        #[inline(always)]
        unsafe fn load(v: &[f64; 4]) -> Self {
            // SAFETY: `v` holds 4 f64; unaligned load.
            F64x4(_mm256_loadu_pd(v.as_ptr()))
        }
        #[inline(always)]
        unsafe fn store(self, out: &mut [f64; 4]) {
            // SAFETY: `out` holds 4 f64; unaligned store.
            _mm256_storeu_pd(out.as_mut_ptr(), self.0)
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            F64x4(_mm256_add_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            F64x4(_mm256_sub_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            F64x4(_mm256_mul_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn div(self, o: Self) -> Self {
            F64x4(_mm256_div_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn max(self, o: Self) -> Self {
            F64x4(_mm256_max_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn min(self, o: Self) -> Self {
            F64x4(_mm256_min_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn lt(self, o: Self) -> Self::M {
            VecMask(_mm256_cmp_pd::<_CMP_LT_OQ>(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn le(self, o: Self) -> Self::M {
            VecMask(_mm256_cmp_pd::<_CMP_LE_OQ>(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn select(mask: Self::M, a: Self, b: Self) -> Self {
            F64x4(_mm256_blendv_pd(b.0, a.0, mask.0))
        }
        #[inline(always)]
        unsafe fn zero_where(mask: Self::M, a: Self) -> Self {
            F64x4(_mm256_andnot_pd(mask.0, a.0))
        }
    }

    /// Two lanes on the SSE2 baseline; a 4-lane call runs two halves.
    #[derive(Clone, Copy)]
    struct F64x2(__m128d);

    impl Lanes for F64x2 {
        const N: usize = 2;
        type M = VecMask<__m128d>;
        #[inline(always)]
        unsafe fn splat(v: f64) -> Self {
            F64x2(_mm_set1_pd(v))
        }
        #[inline(always)]
        unsafe fn load(v: &[f64; 4]) -> Self {
            // SAFETY: `v` holds 4 >= 2 f64; unaligned load of the first two.
            F64x2(_mm_loadu_pd(v.as_ptr()))
        }
        #[inline(always)]
        unsafe fn store(self, out: &mut [f64; 4]) {
            // SAFETY: `out` holds 4 >= 2 f64; unaligned store of the first two.
            _mm_storeu_pd(out.as_mut_ptr(), self.0)
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            F64x2(_mm_add_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            F64x2(_mm_sub_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            F64x2(_mm_mul_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn div(self, o: Self) -> Self {
            F64x2(_mm_div_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn max(self, o: Self) -> Self {
            F64x2(_mm_max_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn min(self, o: Self) -> Self {
            F64x2(_mm_min_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn lt(self, o: Self) -> Self::M {
            VecMask(_mm_cmplt_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn le(self, o: Self) -> Self::M {
            VecMask(_mm_cmple_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn select(mask: Self::M, a: Self, b: Self) -> Self {
            F64x2(_mm_or_pd(
                _mm_and_pd(mask.0, a.0),
                _mm_andnot_pd(mask.0, b.0),
            ))
        }
        #[inline(always)]
        unsafe fn zero_where(mask: Self::M, a: Self) -> Self {
            F64x2(_mm_andnot_pd(mask.0, a.0))
        }
    }

    /// The constants of edge `e` of a [`QuadEdges`] as lanes (all lanes
    /// equal for [`EdgeConst::splat`]; per-lane edges for the wide path).
    struct EdgeConst<V> {
        x: V,
        y: V,
        x2: V,
        y2: V,
        xl: V,
        xh: V,
        dx: V,
        dy: V,
        m: V,
        /// `1 / dy` (see [`Lanes::div_by`]).
        rdy: V,
        sgn: V,
        half: V,
    }

    impl<V: Lanes> EdgeConst<V> {
        #[inline(always)]
        unsafe fn splat(q: &QuadEdges, e: usize) -> Self {
            EdgeConst {
                x: V::splat(q.x[e]),
                y: V::splat(q.y[e]),
                x2: V::splat(q.x2[e]),
                y2: V::splat(q.y2[e]),
                xl: V::splat(q.xl[e]),
                xh: V::splat(q.xh[e]),
                dx: V::splat(q.dx[e]),
                dy: V::splat(q.dy[e]),
                m: V::splat(q.m[e]),
                rdy: V::splat(q.rdy[e]),
                sgn: V::splat(q.sgn[e]),
                half: V::splat(q.half[e]),
            }
        }
    }

    /// Lane-wise `sgarea` of edge `e` for the pixels with shifts `sx`, `sy`.
    ///
    /// Every needed branch of `sgarea` is evaluated and the taken one is
    /// selected lane by lane; the values computed on the other branches
    /// (possibly inf/NaN from a division by `dy == 0`) are discarded by the
    /// selects. The two branches that divide (an edge crossing the pixel's
    /// bottom, `ylo < 0` or `yhi < 0`, and one crossing its top, `ylo > 1` or
    /// `yhi > 1`) are only evaluated when a lane takes them. `max(xlo, 0)`
    /// equals the reference's `xlo < 0 ? 0 : xlo` because `xlo = x + (0.5 -
    /// ii)` is an exact sum and never `-0.0` (nor NaN); `min(xhi, 1)` likewise.
    #[inline(always)]
    unsafe fn edge_area<V: Lanes>(c: &EdgeConst<V>, sx: V, sy: V) -> V {
        let zero = V::splat(0.0);
        let one = V::splat(1.0);
        let x1 = c.x.add(sx);
        let y1 = c.y.add(sy);
        let xlo = c.xl.add(sx);
        let xhi = c.xh.add(sx);
        // xlo >= 1 || xhi <= 0 (no NaN)
        let reject = one.le(xlo).or(xhi.le(zero));
        let xlo = xlo.max(zero);
        let xhi = xhi.min(one);
        let m = c.m;
        let ylo = y1.add(m.mul(xlo.sub(x1)));
        let yhi = y1.add(m.mul(xhi.sub(x1)));
        // The reference's tests on (ylo, yhi), via their min and max (no NaN):
        // both <= 0 <=> max <= 0; both >= 1 <=> min >= 1; after an end below 0
        // is replaced by the cut (y = 0), "ylo <= 1 && yhi <= 1" fails exactly
        // when max > 1, and "ylo <= 1" is unchanged.
        let mn = ylo.min(yhi);
        let mx = ylo.max(yhi);
        let skip = reject.or(mx.le(zero));
        let above = one.le(mn);
        let partial = skip.or(above).not();
        let upl = partial.and(one.lt(mx)); // lanes leaving through the top
        let cutl = partial.and(mn.lt(zero)); // lanes with an end below the bottom
        let s = if upl.or(cutl).any() {
            let x2 = c.x2.add(sx);
            let y2 = c.y2.add(sy);
            let det = x1.mul(y2).sub(y1.mul(x2));
            let dy = c.dy;
            let num_t = c.dx.add(det);
            let (cut, xt) = if upl.and(cutl).any() {
                (det.div_by(dy, c.rdy), num_t.div_by(dy, c.rdy))
            } else {
                // No lane needs both quotients: one division serves both.
                let qt = V::select(upl, num_t, det).div_by(dy, c.rdy);
                (qt, qt)
            };
            let (mut xlo, mut ylo, mut xhi, mut yhi) = (xlo, ylo, xhi, yhi);
            if cutl.any() {
                let lneg = ylo.lt(zero);
                let hneg = yhi.lt(zero);
                xlo = V::select(lneg, cut, xlo);
                ylo = V::zero_where(lneg, ylo);
                xhi = V::select(hneg, cut, xhi);
                yhi = V::zero_where(hneg, yhi);
            }
            let inside = c.half.mul(xhi.sub(xlo)).mul(yhi.add(ylo));
            if upl.any() {
                // ylo <= 1 < yhi: sgn * (0.5 (xt - xlo)(1 + ylo) + xhi - xt)
                // else:           sgn * (0.5 (xhi - xt)(1 + yhi) + xt - xlo)
                let lo_in = ylo.le(one);
                let p = V::select(lo_in, xt, xhi);
                let r = V::select(lo_in, xlo, xt);
                let t = V::select(lo_in, ylo, yhi);
                let u = V::select(lo_in, xhi, xt);
                let v = V::select(lo_in, xt, xlo);
                let sgn = c.sgn;
                let up = sgn.mul(V::splat(0.5).mul(p.sub(r)).mul(one.add(t)).add(u).sub(v));
                V::select(one.lt(mx), up, inside)
            } else {
                inside
            }
        } else {
            c.half.mul(xhi.sub(xlo)).mul(yhi.add(ylo))
        };
        let full = c.sgn.mul(xhi.sub(xlo));
        let s = V::select(above, full, s);
        V::zero_where(skip, s)
    }

    /// Eight lanes with AVX-512F (comparisons give `k` mask registers).
    #[derive(Clone, Copy)]
    struct F64x8(__m512d);

    /// Masks of [`F64x8`].
    #[derive(Clone, Copy)]
    struct KMask(__mmask8);

    impl Mask for KMask {
        #[inline(always)]
        unsafe fn and(self, o: Self) -> Self {
            KMask(self.0 & o.0)
        }
        #[inline(always)]
        unsafe fn or(self, o: Self) -> Self {
            KMask(self.0 | o.0)
        }
        #[inline(always)]
        unsafe fn not(self) -> Self {
            KMask(!self.0)
        }
        #[inline(always)]
        unsafe fn any(self) -> bool {
            self.0 != 0
        }
    }

    impl Lanes for F64x8 {
        const N: usize = 8;
        type M = KMask;
        #[inline(always)]
        unsafe fn splat(v: f64) -> Self {
            F64x8(_mm512_set1_pd(v))
        }
        #[inline(always)]
        unsafe fn load(v: &[f64; 4]) -> Self {
            // SAFETY: `v` holds 4 f64; both halves get them.
            let h = _mm256_loadu_pd(v.as_ptr());
            F64x8(_mm512_insertf64x4::<1>(_mm512_castpd256_pd512(h), h))
        }
        #[inline(always)]
        unsafe fn store(self, out: &mut [f64; 4]) {
            // SAFETY: `out` holds 4 f64; the low half is stored.
            _mm256_storeu_pd(out.as_mut_ptr(), _mm512_castpd512_pd256(self.0))
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            F64x8(_mm512_add_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            F64x8(_mm512_sub_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            F64x8(_mm512_mul_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn div(self, o: Self) -> Self {
            F64x8(_mm512_div_pd(self.0, o.0))
        }
        /// The correctly rounded quotient `self / d` from `rd = RN(1 / d)`
        /// without a division: `q0 = a rd` is within 2 ulp of `a / d`; one
        /// Newton step `q1 = q0 + (a - d q0) rd` (fused) makes it faithful
        /// (within 1 ulp), and Markstein's theorem (if `y` is within half an
        /// ulp of `1/b` and `q` within one ulp of `a/b`, the remainder
        /// `a - bq` is exact and `RN(q + (a - bq) y) = RN(a/b)`; Handbook of
        /// Floating-Point Arithmetic, ch. on division by FMA) gives the
        /// rounded quotient from the second step. It holds without underflow
        /// or overflow: the square kernel only takes this path for
        /// quadrilaterals whose vertex shifts are exact ([`shifts_exact`]),
        /// where the shifted coordinates are multiples of `2^-52` below
        /// `2^32` in magnitude, so `|dy| >= 2^-52`, the dividends (`det`,
        /// `dx + det`) are 0 or multiples of `2^-104`, and every
        /// intermediate stays far inside the normal range. Lanes with
        /// `d == 0` (inf/NaN) are discarded by the caller, as with the
        /// division. Only the sign of a zero quotient can differ from the
        /// division, and no nonzero area depends on it (the results are only
        /// added, subtracted and multiplied).
        #[inline(always)]
        unsafe fn div_by(self, d: Self, rd: Self) -> Self {
            let (a, d, y) = (self.0, d.0, rd.0);
            let q0 = _mm512_mul_pd(a, y);
            let q1 = _mm512_fmadd_pd(_mm512_fnmadd_pd(d, q0, a), y, q0);
            F64x8(_mm512_fmadd_pd(_mm512_fnmadd_pd(d, q1, a), y, q1))
        }
        #[inline(always)]
        unsafe fn max(self, o: Self) -> Self {
            F64x8(_mm512_max_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn min(self, o: Self) -> Self {
            F64x8(_mm512_min_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn lt(self, o: Self) -> Self::M {
            KMask(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn le(self, o: Self) -> Self::M {
            KMask(_mm512_cmp_pd_mask::<_CMP_LE_OQ>(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn select(mask: Self::M, a: Self, b: Self) -> Self {
            F64x8(_mm512_mask_blend_pd(mask.0, b.0, a.0))
        }
        #[inline(always)]
        unsafe fn zero_where(mask: Self::M, a: Self) -> Self {
            F64x8(_mm512_maskz_mov_pd(!mask.0, a.0))
        }
    }

    /// [`lane_areas`] of 4 output pixels with 8 lanes: lanes 0-3 evaluate
    /// edge `2p` and lanes 4-7 edge `2p + 1` of the same 4 pixels (pass
    /// `p` = 0, 1), then the 4 per-edge results are summed in the
    /// reference's order `((e0 + e1) + e2) + e3` (from `0.0`). The lanes of
    /// an edge with `dx == 0` are set to 0 (the scalar code skips the edge;
    /// adding `+0.0` instead can only change the sign of a zero sum).
    ///
    /// # Safety
    /// The CPU must support AVX-512F (and AVX2).
    #[inline(always)]
    unsafe fn lane_areas_wide(q: &QuadEdges, sx: __m256d, sy: __m256d) -> __m256d {
        let (sx8, sy8) = (F64x8(both_halves(sx)), F64x8(both_halves(sy)));
        let r01 = edge_pair_area(q, 0, sx8, sy8);
        let r23 = edge_pair_area(q, 1, sx8, sy8);
        let mut sum = _mm256_add_pd(_mm256_setzero_pd(), _mm512_castpd512_pd256(r01));
        sum = _mm256_add_pd(sum, _mm512_extractf64x4_pd::<1>(r01));
        sum = _mm256_add_pd(sum, _mm512_castpd512_pd256(r23));
        _mm256_add_pd(sum, _mm512_extractf64x4_pd::<1>(r23))
    }

    /// [`lane_areas`] of the 2 output pixels in lanes 0 and 1 of `sx`, `sy`
    /// with one 8-lane pass: lanes 0-3 evaluate edges 0-3 of the first
    /// pixel, lanes 4-7 those of the second; each pixel's 4 edge values are
    /// then summed in the reference's order from `0.0` (lanes of an edge with
    /// `dx == 0` are 0, as in [`lane_areas_wide`]). Lanes 2 and 3 of the
    /// result are 0.
    ///
    /// # Safety
    /// The CPU must support AVX-512F (and AVX2).
    #[inline(always)]
    unsafe fn lane_areas_wide2(q: &QuadEdges, sx: __m256d, sy: __m256d) -> __m256d {
        // [s0 x 4 | s1 x 4]
        let spread = _mm512_set_epi64(1, 1, 1, 1, 0, 0, 0, 0);
        let sx8 = F64x8(_mm512_permutexvar_pd(spread, _mm512_castpd256_pd512(sx)));
        let sy8 = F64x8(_mm512_permutexvar_pd(spread, _mm512_castpd256_pd512(sy)));
        let c = EdgeConst {
            x: F64x8(both_halves(_mm256_loadu_pd(q.x.as_ptr()))),
            y: F64x8(both_halves(_mm256_loadu_pd(q.y.as_ptr()))),
            x2: F64x8(both_halves(_mm256_loadu_pd(q.x2.as_ptr()))),
            y2: F64x8(both_halves(_mm256_loadu_pd(q.y2.as_ptr()))),
            xl: F64x8(both_halves(_mm256_loadu_pd(q.xl.as_ptr()))),
            xh: F64x8(both_halves(_mm256_loadu_pd(q.xh.as_ptr()))),
            dx: F64x8(both_halves(_mm256_loadu_pd(q.dx.as_ptr()))),
            dy: F64x8(both_halves(_mm256_loadu_pd(q.dy.as_ptr()))),
            m: F64x8(both_halves(_mm256_loadu_pd(q.m.as_ptr()))),
            rdy: F64x8(both_halves(_mm256_loadu_pd(q.rdy.as_ptr()))),
            sgn: F64x8(both_halves(_mm256_loadu_pd(q.sgn.as_ptr()))),
            half: F64x8(both_halves(_mm256_loadu_pd(q.half.as_ptr()))),
        };
        let vertical = KMask(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(
            c.dx.0,
            _mm512_setzero_pd(),
        ));
        let r = F64x8::zero_where(vertical, edge_area(&c, sx8, sy8)).0;
        // lo = [a0 a1 a2 a3], hi = [b0 b1 b2 b3] (edge values of pixels a, b)
        let (lo, hi) = (_mm512_castpd512_pd256(r), _mm512_extractf64x4_pd::<1>(r));
        let u0 = _mm256_unpacklo_pd(lo, hi); // [a0 b0 | a2 b2]
        let u1 = _mm256_unpackhi_pd(lo, hi); // [a1 b1 | a3 b3]
        let mut sum = _mm_add_pd(_mm_setzero_pd(), _mm256_castpd256_pd128(u0));
        sum = _mm_add_pd(sum, _mm256_castpd256_pd128(u1));
        sum = _mm_add_pd(sum, _mm256_extractf128_pd::<1>(u0));
        sum = _mm_add_pd(sum, _mm256_extractf128_pd::<1>(u1));
        _mm256_zextpd128_pd256(sum)
    }

    /// `[h | h]`.
    #[inline(always)]
    unsafe fn both_halves(h: __m256d) -> __m512d {
        _mm512_insertf64x4::<1>(_mm512_castpd256_pd512(h), h)
    }

    /// Lanes `[a[2p] x 4 | a[2p + 1] x 4]` of an edge array.
    #[inline(always)]
    unsafe fn edge_pair(a: &[f64; 4], p: usize) -> F64x8 {
        let (e0, e1) = (2 * p as i64, 2 * p as i64 + 1);
        let idx = _mm512_set_epi64(e1, e1, e1, e1, e0, e0, e0, e0);
        // SAFETY: `a` holds 4 f64; the upper half is never selected.
        let v = _mm512_castpd256_pd512(_mm256_loadu_pd(a.as_ptr()));
        F64x8(_mm512_permutexvar_pd(idx, v))
    }

    /// `sgarea` of edges `2p` (lanes 0-3) and `2p + 1` (lanes 4-7), 0 in
    /// the lanes of an edge with `dx == 0`.
    #[inline(always)]
    unsafe fn edge_pair_area(q: &QuadEdges, p: usize, sx: F64x8, sy: F64x8) -> __m512d {
        let c = EdgeConst {
            x: edge_pair(&q.x, p),
            y: edge_pair(&q.y, p),
            x2: edge_pair(&q.x2, p),
            y2: edge_pair(&q.y2, p),
            xl: edge_pair(&q.xl, p),
            xh: edge_pair(&q.xh, p),
            dx: edge_pair(&q.dx, p),
            dy: edge_pair(&q.dy, p),
            m: edge_pair(&q.m, p),
            rdy: edge_pair(&q.rdy, p),
            sgn: edge_pair(&q.sgn, p),
            half: edge_pair(&q.half, p),
        };
        let vertical = KMask(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(
            c.dx.0,
            _mm512_setzero_pd(),
        ));
        F64x8::zero_where(vertical, edge_area(&c, sx, sy)).0
    }

    /// Sum of the lane-wise `sgarea` over the edges `P0->P1`, `P1->P2`,
    /// `P2->P3`, `P3->P0`, in that order (the reference's `sum += ...`).
    /// Edges with `dx == 0` are skipped: their `sgarea` is `0.0`, and adding a
    /// zero can only change the sign of a zero sum, which is never observed
    /// (an area of `±0` contributes nothing).
    #[inline(always)]
    unsafe fn lane_areas<V: Lanes>(q: &QuadEdges, sx: V, sy: V) -> V {
        let mut sum = V::splat(0.0);
        if q.dx[0] != 0.0 {
            sum = sum.add(edge_area(&EdgeConst::splat(q, 0), sx, sy));
        }
        if q.dx[1] != 0.0 {
            sum = sum.add(edge_area(&EdgeConst::splat(q, 1), sx, sy));
        }
        if q.dx[2] != 0.0 {
            sum = sum.add(edge_area(&EdgeConst::splat(q, 2), sx, sy));
        }
        if q.dx[3] != 0.0 {
            sum = sum.add(edge_area(&EdgeConst::splat(q, 3), sx, sy));
        }
        sum
    }

    #[inline(always)]
    unsafe fn areas<V: Lanes>(q: &QuadEdges, sx: &[f64; 4], sy: &[f64; 4]) -> [f64; 4] {
        let mut out = [0.0f64; 4];
        let a = lane_areas(q, V::load(sx), V::load(sy));
        a.store(&mut out);
        if V::N == 2 {
            let (sx2, sy2) = ([sx[2], sx[3], 0.0, 0.0], [sy[2], sy[3], 0.0, 0.0]);
            let mut hi = [0.0f64; 4];
            lane_areas(q, V::load(&sx2), V::load(&sy2)).store(&mut hi);
            out[2] = hi[0];
            out[3] = hi[1];
        }
        out
    }

    /// AVX2 lanes.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[inline(always)]
    pub(super) unsafe fn areas_avx2(
        q: &QuadEdges,
        sx0: f64,
        sy0: f64,
        dc: &[i32; 4],
        dr: &[i32; 4],
    ) -> [f64; 4] {
        // SAFETY (loads): `dc`, `dr` hold 4 i32.
        let dcv = _mm256_cvtepi32_pd(_mm_loadu_si128(dc.as_ptr() as *const __m128i));
        let drv = _mm256_cvtepi32_pd(_mm_loadu_si128(dr.as_ptr() as *const __m128i));
        let sx = _mm256_sub_pd(_mm256_set1_pd(sx0), dcv);
        let sy = _mm256_sub_pd(_mm256_set1_pd(sy0), drv);
        let mut out = [0.0f64; 4];
        lane_areas(q, F64x4(sx), F64x4(sy)).store(&mut out);
        out
    }

    /// SSE2 lanes (x86-64 baseline).
    #[inline(always)]
    pub(super) fn areas_sse2(q: &QuadEdges, sx: &[f64; 4], sy: &[f64; 4]) -> [f64; 4] {
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { areas::<F64x2>(q, sx, sy) }
    }

    /// [`lane_areas_wide`] compiled as a separate AVX-512 function, for the tests.
    #[cfg(test)]
    #[target_feature(enable = "avx2,avx512f")]
    pub(super) unsafe fn areas_avx512_fn(q: &QuadEdges, sx: &[f64; 4], sy: &[f64; 4]) -> [f64; 4] {
        let mut out = [0.0f64; 4];
        // SAFETY (loads/stores): 4 f64 each.
        let a = lane_areas_wide(
            q,
            _mm256_loadu_pd(sx.as_ptr()),
            _mm256_loadu_pd(sy.as_ptr()),
        );
        _mm256_storeu_pd(out.as_mut_ptr(), a);
        out
    }

    /// [`Lanes::div_by`] of [`F64x8`] (`a / d` from `RN(1 / d)`), for the tests.
    #[cfg(test)]
    #[target_feature(enable = "avx2,avx512f")]
    pub(super) unsafe fn div_by_avx512_fn(a: &[f64; 8], d: &[f64; 8]) -> [f64; 8] {
        let mut out = [0.0f64; 8];
        let rd = d.map(|v| 1.0 / v);
        // SAFETY (loads/stores): 8 f64 each.
        let (av, dv, rv) = (
            F64x8(_mm512_loadu_pd(a.as_ptr())),
            F64x8(_mm512_loadu_pd(d.as_ptr())),
            F64x8(_mm512_loadu_pd(rd.as_ptr())),
        );
        _mm512_storeu_pd(out.as_mut_ptr(), av.div_by(dv, rv).0);
        out
    }

    /// [`lane_areas_wide2`] (lanes 0 and 1) compiled as a separate AVX-512
    /// function, for the tests.
    #[cfg(test)]
    #[target_feature(enable = "avx2,avx512f")]
    pub(super) unsafe fn areas_avx512_two_fn(
        q: &QuadEdges,
        sx: &[f64; 4],
        sy: &[f64; 4],
    ) -> [f64; 4] {
        let mut out = [0.0f64; 4];
        // SAFETY (loads/stores): 4 f64 each.
        let a = lane_areas_wide2(
            q,
            _mm256_loadu_pd(sx.as_ptr()),
            _mm256_loadu_pd(sy.as_ptr()),
        );
        _mm256_storeu_pd(out.as_mut_ptr(), a);
        let b = lane_areas_wide2(
            q,
            _mm256_loadu_pd([sx[2], sx[3], 0.0, 0.0].as_ptr()),
            _mm256_loadu_pd([sy[2], sy[3], 0.0, 0.0].as_ptr()),
        );
        let mut hi = [0.0f64; 4];
        _mm256_storeu_pd(hi.as_mut_ptr(), b);
        out[2] = hi[0];
        out[3] = hi[1];
        out
    }

    /// [`areas_avx2`] compiled as a separate AVX2 function, for the tests.
    #[cfg(test)]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn areas_avx2_fn(
        q: &QuadEdges,
        sx0: f64,
        sy0: f64,
        dc: &[i32; 4],
        dr: &[i32; 4],
    ) -> [f64; 4] {
        areas_avx2(q, sx0, sy0, dc, dr)
    }
}

#[cfg(test)]
mod tests {
    use super::super::geometry::boxer;
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.unit()
        }
    }

    type AreasFn = fn(&QuadEdges, &[f64; 4], &[f64; 4]) -> [f64; 4];

    #[cfg(target_arch = "x86_64")]
    fn avx2(q: &QuadEdges, sx: &[f64; 4], sy: &[f64; 4]) -> [f64; 4] {
        assert!(cpu_has_avx2());
        let (sx0, sy0, dc, dr) = split(sx, sy);
        // SAFETY: AVX2 support was just checked.
        unsafe { x86::areas_avx2_fn(q, sx0, sy0, &dc, &dr) }
    }

    #[cfg(target_arch = "x86_64")]
    fn avx512(q: &QuadEdges, sx: &[f64; 4], sy: &[f64; 4]) -> [f64; 4] {
        assert!(cpu_has_avx2() && cpu_has_avx512());
        // SAFETY: AVX2 and AVX-512F support were just checked.
        unsafe { x86::areas_avx512_fn(q, sx, sy) }
    }

    #[cfg(target_arch = "x86_64")]
    fn avx512_two(q: &QuadEdges, sx: &[f64; 4], sy: &[f64; 4]) -> [f64; 4] {
        assert!(cpu_has_avx2() && cpu_has_avx512());
        // SAFETY: AVX2 and AVX-512F support were just checked.
        unsafe { x86::areas_avx512_two_fn(q, sx, sy) }
    }

    fn baseline(q: &QuadEdges, sx: &[f64; 4], sy: &[f64; 4]) -> [f64; 4] {
        let (sx0, sy0, dc, dr) = split(sx, sy);
        // SAFETY: the baseline instruction set is always available.
        unsafe { Baseline::quad_areas(q, sx0, sy0, &dc, &dr) }
    }

    /// Base shift and integer offsets of 4 lane shifts (half-integers).
    fn split(sx: &[f64; 4], sy: &[f64; 4]) -> (f64, f64, [i32; 4], [i32; 4]) {
        let sx0 = sx.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sy0 = sy.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let mut dc = [0; 4];
        let mut dr = [0; 4];
        for k in 0..4 {
            dc[k] = (sx0 - sx[k]) as i32;
            dr[k] = (sy0 - sy[k]) as i32;
            assert_eq!(sx0 - dc[k] as f64, sx[k]);
            assert_eq!(sy0 - dr[k] as f64, sy[k]);
        }
        (sx0, sy0, dc, dr)
    }

    fn candidates() -> Vec<(&'static str, AreasFn)> {
        let mut v: Vec<(&'static str, AreasFn)> =
            vec![("scalar", areas_scalar), ("baseline", baseline)];
        #[cfg(target_arch = "x86_64")]
        {
            v.push(("sse2", x86::areas_sse2));
            if cpu_has_avx2() {
                v.push(("avx2", avx2));
            }
            if cpu_has_avx2() && cpu_has_avx512() {
                v.push(("avx512", avx512));
                v.push(("avx512 two pixels", avx512_two));
            }
        }
        v
    }

    /// A random quadrilateral around `(cx, cy)`; vertices are sometimes
    /// snapped to pixel boundaries / centres / each other to hit the
    /// comparisons' edge cases.
    fn quad(rng: &mut Rng, cx: f64, cy: f64, size: f64) -> ([f64; 4], [f64; 4]) {
        let th = rng.range(0.0, std::f64::consts::TAU);
        let (s, c) = th.sin_cos();
        let base = [(-0.5, 0.5), (0.5, 0.5), (0.5, -0.5), (-0.5, -0.5)];
        let mut x = [0.0; 4];
        let mut y = [0.0; 4];
        let sxs = size * rng.range(0.2, 1.5);
        let sys = if rng.next().is_multiple_of(2) {
            -1.0
        } else {
            1.0
        } * size
            * rng.range(0.2, 1.5);
        for k in 0..4 {
            let (a, b) = base[k];
            let (a, b) = (a * sxs, b * sys);
            x[k] = cx + c * a - s * b + size * rng.range(-0.3, 0.3);
            y[k] = cy + s * a + c * b + size * rng.range(-0.3, 0.3);
            match rng.next() % 16 {
                0 => x[k] = (x[k] * 2.0).round() / 2.0,
                1 => y[k] = (y[k] * 2.0).round() / 2.0,
                2 => {
                    x[k] = x[k].round() + 0.5;
                    y[k] = y[k].round() - 0.5;
                }
                3 if k > 0 => x[k] = x[k - 1],
                4 if k > 0 => y[k] = y[k - 1],
                5 if k > 0 => {
                    x[k] = x[k - 1];
                    y[k] = y[k - 1];
                }
                _ => {}
            }
        }
        if rng.next().is_multiple_of(8) {
            // axis aligned
            let (x0, x1) = (cx - size * 0.5, cx + size * 0.5);
            let (y0, y1) = (cy - size * 0.5, cy + size * 0.5);
            x = [x0, x1, x1, x0];
            y = [y1, y1, y0, y0];
        }
        (x, y)
    }

    fn nint(v: f64) -> i64 {
        super::super::geometry::nint(v)
    }

    /// Every lane of every SIMD variant equals `boxer` bit for bit whenever
    /// `shifts_exact` accepts the footprint; checks millions of pixels of
    /// random (convex, concave, degenerate, snapped) quadrilaterals.
    #[test]
    fn simd_areas_equal_boxer_bitwise() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let fns = candidates();
        let mut checked = 0usize;
        let mut accepted = 0usize;
        for it in 0..120_000 {
            let cx = match it % 4 {
                0 => rng.range(0.0, 20.0),
                1 => rng.range(8.0, 3000.0),
                2 => rng.range(1e5, 1e7),
                _ => rng.range(-5.0, 50.0),
            };
            let cy = rng.range(0.0, 4000.0);
            let size = [0.3, 1.0, 1.0, 2.5, 7.0][(it % 5) as usize] * rng.range(0.5, 1.5);
            let (x, y) = quad(&mut rng, cx, cy, size);
            let Some(info) = QuadInfo::new(x, y) else {
                continue;
            };
            if !info.exact {
                continue;
            }
            accepted += 1;
            let c0 = info.bounds[0].max(0) as usize;
            let c1 = info.bounds[1].max(0) as usize;
            let r0 = info.bounds[2].max(0) as usize;
            let r1 = info.bounds[3].max(0) as usize;
            let q = QuadEdges::new(&x, &y);
            let pix: Vec<(usize, usize)> = (r0..=r1)
                .flat_map(|r| (c0..=c1).map(move |c| (r, c)))
                .collect();
            for chunk in pix.chunks(4) {
                // unused lanes repeat the first pixel
                let mut sx = [0.5 - chunk[0].1 as f64; 4];
                let mut sy = [0.5 - chunk[0].0 as f64; 4];
                for (k, &(r, c)) in chunk.iter().enumerate() {
                    sx[k] = 0.5 - c as f64;
                    sy[k] = 0.5 - r as f64;
                }
                for (name, f) in &fns {
                    let a = f(&q, &sx, &sy);
                    for (k, &(r, c)) in chunk.iter().enumerate() {
                        let want = boxer(c as f64, r as f64, &x, &y);
                        // the sign of a zero area is never observed
                        assert!(
                            a[k].to_bits() == want.to_bits() || (a[k] == 0.0 && want == 0.0),
                            "{name}: pixel ({c}, {r}) of {x:?} {y:?}: {} != {}",
                            a[k],
                            want
                        );
                    }
                }
                checked += chunk.len();
            }
        }
        assert!(accepted > 50_000, "{accepted}");
        assert!(checked > 500_000, "{checked}");
    }

    /// The division-free quotient of the 8-lane areas equals the division bit
    /// for bit on the operands the square kernel gives it (shifted vertex
    /// coordinates: multiples of an ulp >= 2^-52, below 2^32), including
    /// nearly horizontal edges (tiny `dy`) and short mantissas.
    #[test]
    fn fma_quotient_equals_division() {
        #[cfg(target_arch = "x86_64")]
        {
            if !(cpu_has_avx2() && cpu_has_avx512()) {
                return;
            }
            let mut rng = Rng(0x0dd_ba11_5eed_cafe);
            let mut checked = 0usize;
            for it in 0..400_000u64 {
                let mut a = [0.0f64; 8];
                let mut d = [0.0f64; 8];
                for k in 0..8 {
                    let base = rng.range(1.5, [4.0, 3000.0, 1e6, 1e9][(it % 4) as usize]);
                    let n = base.round();
                    let x1 = rng.range(base - 2.0, base + 2.0) - n + 0.5;
                    let y1 = rng.range(base - 2.0, base + 2.0) - n + 0.5;
                    let x2 = rng.range(base - 2.0, base + 2.0) - n + 0.5;
                    let y2 = match k % 3 {
                        0 => rng.range(base - 2.0, base + 2.0) - n + 0.5,
                        // nearly horizontal edge
                        1 => {
                            y1 + (rng.range(-500.0, 500.0)).round()
                                * 2f64.powi(-((rng.next() % 50) as i32))
                        }
                        // short mantissas
                        _ => (rng.range(-64.0, 64.0)).round() / 64.0,
                    };
                    let det = x1 * y2 - y1 * x2;
                    a[k] = if it % 2 == 0 { det } else { (x2 - x1) + det };
                    d[k] = y2 - y1;
                    if d[k] == 0.0 {
                        d[k] = 0.75;
                    }
                }
                // SAFETY: AVX-512F and AVX2 were detected above.
                let q = unsafe { x86::div_by_avx512_fn(&a, &d) };
                for k in 0..8 {
                    let want = a[k] / d[k];
                    assert!(
                        q[k].to_bits() == want.to_bits(),
                        "{} / {}: {} != {}",
                        a[k],
                        d[k],
                        q[k],
                        want
                    );
                    checked += 1;
                }
            }
            assert!(checked >= 3_000_000);
        }
    }

    /// The exactness condition itself: whenever `shifts_exact` holds, the
    /// reference's two-step shift is exact and equals the one-step form.
    #[test]
    fn accepted_shifts_are_exact() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let mut accepted = 0;
        for _ in 0..400_000 {
            let scale = [1.0, 10.0, 1e3, 1e6, 1e11][(rng.next() % 5) as usize];
            let v = rng.range(0.0, 1.0) * scale;
            let w = rng.range(0.5, 4.0);
            let (vmin, vmax) = (v, v + w * rng.unit());
            let n0 = nint(vmin).max(0) as usize;
            let n1 = nint(vmax).max(0) as usize;
            if !shifts_exact(vmin, vmax) {
                continue;
            }
            accepted += 1;
            for vv in [vmin, vmax] {
                for n in n0..=n1 {
                    let nf = n as f64;
                    let two = vv - nf + 0.5;
                    let one = vv + (0.5 - nf);
                    assert_eq!(two.to_bits(), one.to_bits(), "{vv} {n}");
                    // exactness: undoing the shift gives the vertex back
                    assert_eq!((two - 0.5) + nf, vv);
                    assert_eq!(vv - nf, two - 0.5);
                }
            }
        }
        assert!(accepted > 100_000);
        assert!(!shifts_exact(-3.0, -2.0));
        assert!(!shifts_exact(0.4, 1.2));
        assert!(shifts_exact(10.2, 11.3));
        assert!(!shifts_exact(2e12, 2e12 + 1.0));
    }
}
