//! The six drizzle kernels (spec drizzle.md section 5), written once: each
//! kernel reports the output rows one input pixel touches (for the band
//! partition) and enumerates its `(ii, jj, dow)` contributions within a band
//! of output rows in the reference order (`jj` ascending, then `ii`).

use super::geometry::{boxer, clip_range, nint, CornerWeights, PixmapRef};
use super::simd::{
    BandView, Baseline, GaussianPixel, Isa, LanczosPixel, QuadInfo, SquareFootprint, TurboPixel,
    C_INT_LIMIT, FOOTPRINT_MAX, LANE_DC, LANE_DR,
};

/// Lanczos look-up-table spacing.
pub const LANCZOS_DELTA: f64 = 0.003;

/// Lanczos look-up table of order `n` (spec 5.5): `ceil(n/delta) + 1` entries.
pub fn lanczos_lut(n: usize) -> Vec<f64> {
    let order = n as f64;
    // the table length is computed in single precision (3/0.003 is exactly 1000 in f32)
    let len = (n as f32 / LANCZOS_DELTA as f32).ceil() as usize + 1;
    let mut lut = vec![0.0f64; len];
    lut[0] = 1.0;
    for (k, v) in lut.iter_mut().enumerate().skip(1) {
        let x = k as f64 * LANCZOS_DELTA;
        if x <= order {
            let px = std::f64::consts::PI * x;
            let pxn = px / order;
            *v = px.sin() * pxn.sin() / (px * pxn);
        }
    }
    lut
}

/// Receives the weights `dow` of one input pixel's contributions (spec 4).
pub(crate) trait Sink {
    /// Output pixel `(ii, jj)` receives weight `dow`.
    fn one(&mut self, jj: usize, ii: usize, dow: f32);
    /// Direct access to the band outputs for the vector kernels; `None` when
    /// the update needs more than science, weight and context.
    fn band(&mut self) -> Option<BandView<'_>>;
}

/// A drizzle kernel: per-input-pixel geometry plus the enumeration of its
/// contributions. Implemented once per kernel so the accumulation loop is
/// monomorphised (no per-pixel dispatch).
pub(crate) trait KernelImpl: Sync {
    /// What is computed once per input pixel.
    type Geom;

    /// The point kernel: the accumulation uses its dedicated loop
    /// (`accumulate_point` in the parent module), same results.
    const IS_POINT: bool = false;

    /// The square kernel (the only one with an AVX-512 path).
    const IS_SQUARE: bool = false;

    /// The Gaussian kernel (the only one with an AVX2 + FMA path).
    const IS_GAUSSIAN: bool = false;

    /// A conservative y interval containing [`KernelImpl::y_extent`] of every
    /// pixel `first..=last` of input row `j`, all of which are `Some`; `None`
    /// when not available (the pre-pass then takes the pixels one by one).
    #[inline(always)]
    fn block_extent(
        &self,
        _pixmap: &PixmapRef,
        _j: usize,
        _first: usize,
        _last: usize,
    ) -> Option<(f64, f64)> {
        None
    }

    /// The contributions of one input pixel straight to a band's science,
    /// weight and context outputs (value `view.d`), when the kernel has such
    /// a vector path and it applies; `false` (nothing done) otherwise, and
    /// [`KernelImpl::contribute`] follows.
    ///
    /// # Safety
    /// The CPU must support the instruction set `S`.
    #[inline(always)]
    unsafe fn contribute_view<S: Isa>(
        &self,
        _geom: &Self::Geom,
        _w: f32,
        _band_lo: usize,
        _band_hi: usize,
        _view: &mut BandView,
    ) -> bool {
        false
    }

    /// `Some((pfo, scale))` for the turbo kernel (the accumulation then uses
    /// its dedicated loop, `accumulate_turbo` in the parent module).
    #[inline(always)]
    fn turbo_params(&self) -> Option<(f64, f64)> {
        None
    }

    /// `Some(e)` when [`KernelImpl::y_extent`] is the centre's `y -+ e`
    /// (`None` outside the C `int` range): the pre-pass then reads the map
    /// row directly.
    #[inline(always)]
    fn center_half_extent(&self) -> Option<f64> {
        None
    }

    /// Geometry of input pixel `(i, j)` and the inclusive output row range it
    /// may touch (clipped to `out_ny` rows), or `None` when it contributes nothing.
    ///
    /// # Safety
    /// The CPU must support the instruction set `S`.
    unsafe fn geometry<S: Isa>(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(Self::Geom, (usize, usize))>;

    /// A conservative output-y interval `[lo, hi]` (finite) of input pixel
    /// `(i, j)`: every output row [`KernelImpl::geometry`] reports lies in
    /// `[lo - 1, hi + 1]`. `None` only when `geometry` is `None`. Used for the
    /// band partition; the default is `geometry`'s exact row range.
    #[inline(always)]
    fn y_extent(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(f64, f64)> {
        geometry_rows(self, pixmap, i, j, out_nx, out_ny)
    }

    /// [`KernelImpl::y_extent`] of the pixels `i0..=i1` of input row `j`
    /// into `lo[i - i0]`, `hi[i - i0]`, bitwise; `NaN` in `lo` for `None`.
    /// Both slices have `i1 - i0 + 1` entries.
    #[inline(always)]
    fn row_extents(
        &self,
        pixmap: &PixmapRef,
        j: usize,
        (i0, i1): (usize, usize),
        (out_nx, out_ny): (usize, usize),
        lo: &mut [f64],
        hi: &mut [f64],
    ) {
        for ((i, l), h) in (i0..=i1).zip(lo.iter_mut()).zip(hi.iter_mut()) {
            (*l, *h) = self
                .y_extent(pixmap, i, j, out_nx, out_ny)
                .unwrap_or((f64::NAN, f64::NAN));
        }
    }

    /// Hand the contributions of one input pixel with weight `w` to the
    /// output rows `[band_lo, band_hi]` (already intersected with the pixel's
    /// row range) to `sink`. Every output pixel appears at most once per
    /// input pixel, so their order does not matter.
    ///
    /// # Safety
    /// The CPU must support the instruction set `S`.
    unsafe fn contribute<S: Isa, K: Sink>(
        &self,
        geom: &Self::Geom,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        sink: &mut K,
    );
}

/// Exact area overlap of the shrunken, distorted input pixel (spec 5.1).
pub(crate) struct Square {
    h: f64,
    cw: CornerWeights,
}

/// Corners, Jacobian and column range of one input pixel.
pub(crate) struct SquareGeom {
    x: [f64; 4],
    y: [f64; 4],
    jaco: f64,
    cols: (usize, usize),
    /// Every vertex shift of the footprint is exact: the fast path of
    /// [`super::simd`] applies; otherwise the reference `boxer`.
    exact: bool,
}

impl Square {
    pub(crate) fn new(pixfrac: f64) -> Self {
        let h = 0.5 * pixfrac;
        Square {
            h,
            cw: CornerWeights::new(h),
        }
    }
}

impl KernelImpl for Square {
    type Geom = SquareGeom;
    const IS_SQUARE: bool = true;

    /// The vector footprint path of [`Square::contribute`] (exact shifts,
    /// footprints up to 8 columns), on the band view.
    #[inline(always)]
    unsafe fn contribute_view<S: Isa>(
        &self,
        g: &SquareGeom,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        view: &mut BandView,
    ) -> bool {
        let (c0, c1) = g.cols;
        let nc = c1 - c0 + 1;
        if !g.exact || nc > 8 || nc * (band_hi - band_lo + 1) > FOOTPRINT_MAX {
            return false;
        }
        // SAFETY: the caller guarantees support for `S`.
        let q = unsafe { S::quad_edges(&g.x, &g.y) };
        // keeps the edge constants in memory (broadcast loads), see `contribute`
        let q = std::hint::black_box(&q);
        let f = SquareFootprint {
            sx0: 0.5 - c0 as f64,
            sy0: 0.5 - band_lo as f64,
            c0,
            r0: band_lo,
            nc,
            nr: band_hi - band_lo + 1,
            wq: w as f64 / g.jaco,
        };
        // SAFETY: the caller guarantees support for `S`.
        unsafe { S::square_footprint(view, q, &f) }
    }

    #[inline(always)]
    unsafe fn geometry<S: Isa>(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(SquareGeom, (usize, usize))> {
        let q = match pixmap.interior_rows(i, j) {
            // SAFETY: the caller guarantees support for `S`.
            Some((r0, r1, r2)) => unsafe { S::interior_quad(r0, r1, r2, &self.cw)? },
            None => {
                let (x, y) = pixmap.corners_border(i, j, self.h)?;
                QuadInfo::new(x, y)?
            }
        };
        let cols = clip_range(q.bounds[0], q.bounds[1], out_nx)?;
        let rows = clip_range(q.bounds[2], q.bounds[3], out_ny)?;
        Some((
            SquareGeom {
                x: q.x,
                y: q.y,
                jaco: q.jaco,
                cols,
                exact: q.exact,
            },
            rows,
        ))
    }

    /// For interior pixels and `pixfrac <= 2` the corners are convex
    /// combinations of the 3x3 neighbourhood of pixel centres (weights
    /// `(1-h)^2, (1-h)h, h^2 >= 0` summing to 1), so their y lies within the
    /// neighbourhood's y range up to a few ulps of rounding; with `nint` the
    /// rows lie within `[lo - 1, hi + 1]`. A non-finite y anywhere in the
    /// neighbourhood makes a corner NaN or infinite, so `geometry` is `None`
    /// then too. Other pixels: the exact rows.
    #[inline(always)]
    fn y_extent(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(f64, f64)> {
        if self.cheap_extent_applies(pixmap, j) && i >= 1 && i + 2 < pixmap.nx {
            let c = |k| column_y_range(pixmap, k, j);
            return neighbourhood_extent(c(i - 1), c(i), c(i + 1));
        }
        self.exact_extent(pixmap, i, j, out_nx, out_ny)
    }

    /// Interior pixels (see [`Square::y_extent`]) whose neighbourhoods are
    /// all finite: the y range of map rows `j-1..=j+1`, columns
    /// `first-1..=last+1`, widened by `1e-9 (1 + 2 max(|lo|, |hi|))`, which is
    /// at least each pixel's margin (its lo/hi lie between the range's), so
    /// every pixel's (rounded) extent lies inside.
    #[inline(always)]
    fn block_extent(
        &self,
        pixmap: &PixmapRef,
        j: usize,
        first: usize,
        last: usize,
    ) -> Option<(f64, f64)> {
        if !self.cheap_extent_applies(pixmap, j) || first < 1 || last + 3 > pixmap.nx {
            return None;
        }
        let (mut lo, mut hi, mut fin) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
        for jj in j - 1..=j + 1 {
            let row = pixmap.row(jj).get(2 * (first - 1)..2 * (last + 2))?;
            for p in row.chunks_exact(2) {
                let y = p[1];
                lo = if y < lo { y } else { lo };
                hi = if y > hi { y } else { hi };
                // x * 0 is 0 for finite x and NaN for infinite or NaN x
                fin += y * 0.0;
            }
        }
        if fin != 0.0 {
            return None;
        }
        let margin = 1e-9 * (1.0 + 2.0 * lo.abs().max(hi.abs()));
        Some((lo - margin, hi + margin))
    }

    /// [`Square::y_extent`] with a sliding window over the columns.
    #[inline(always)]
    fn row_extents(
        &self,
        pixmap: &PixmapRef,
        j: usize,
        (i0, i1): (usize, usize),
        (out_nx, out_ny): (usize, usize),
        lo: &mut [f64],
        hi: &mut [f64],
    ) {
        let nx = pixmap.nx;
        // interior columns: 1..=nx-3 (empty range when not applicable)
        let (a, b) = if self.cheap_extent_applies(pixmap, j) {
            (i0.max(1), i1.min(nx - 3))
        } else {
            (1, 0)
        };
        let mut exact = |i: usize| {
            if let (Some(l), Some(h)) = (lo.get_mut(i - i0), hi.get_mut(i - i0)) {
                (*l, *h) = self
                    .exact_extent(pixmap, i, j, out_nx, out_ny)
                    .unwrap_or((f64::NAN, f64::NAN));
            }
        };
        if a > b {
            (i0..=i1).for_each(exact);
            return;
        }
        (i0..a).for_each(&mut exact);
        ((b + 1)..=i1).for_each(&mut exact);
        let (Some(lo), Some(hi)) = (lo.get_mut(a - i0..=b - i0), hi.get_mut(a - i0..=b - i0))
        else {
            return;
        };
        // map columns a-1 ..= b+1 of rows j-1, j, j+1
        let cols = |jj: usize| pixmap.row(jj).get(2 * (a - 1)..2 * (b + 2)).unwrap_or(&[]);
        let (p0, p1, p2) = (cols(j - 1), cols(j), cols(j + 1));
        let mut it = p0
            .chunks_exact(2)
            .zip(p1.chunks_exact(2))
            .zip(p2.chunks_exact(2))
            .map(|((u, v), w)| column_y(u[1], v[1], w[1]));
        let (Some(mut c0), Some(mut c1)) = (it.next(), it.next()) else {
            return;
        };
        for ((l, h), c2) in lo.iter_mut().zip(hi.iter_mut()).zip(it) {
            (*l, *h) = neighbourhood_extent(c0, c1, c2).unwrap_or((f64::NAN, f64::NAN));
            c0 = c1;
            c1 = c2;
        }
    }

    #[inline(always)]
    unsafe fn contribute<S: Isa, K: Sink>(
        &self,
        g: &SquareGeom,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        _out_nx: usize,
        sink: &mut K,
    ) {
        let wq = w as f64 / g.jaco;
        let (c0, c1) = g.cols;
        let nc = c1 - c0 + 1;
        let total = nc * (band_hi - band_lo + 1);
        if g.exact && nc <= 8 && total <= FOOTPRINT_MAX {
            // Fast path: areas 4 output pixels at a time, in row-major order.
            // SAFETY: the caller guarantees support for `S`.
            let q = unsafe { S::quad_edges(&g.x, &g.y) };
            // Keeps the edge constants in memory (broadcast loads) instead
            // of hoisted, spilled vectors: most footprints are one chunk.
            let q = std::hint::black_box(&q);
            let sx0 = 0.5 - c0 as f64;
            let sy0 = 0.5 - band_lo as f64;
            if let Some(mut band) = sink.band() {
                let f = SquareFootprint {
                    sx0,
                    sy0,
                    c0,
                    r0: band_lo,
                    nc,
                    nr: band_hi - band_lo + 1,
                    wq,
                };
                // SAFETY: the caller guarantees support for `S`.
                if unsafe { S::square_footprint(&mut band, q, &f) } {
                    return;
                }
            }
            let (Some(dcs), Some(drs)) = (LANE_DC.get(nc - 1), LANE_DR.get(nc - 1)) else {
                return;
            };
            let mut k = 0;
            while k < total {
                let (Some(dc), Some(dr)) = (dcs.get(k..k + 4), drs.get(k..k + 4)) else {
                    return;
                };
                let (Ok(dc), Ok(dr)) = (<&[i32; 4]>::try_from(dc), <&[i32; 4]>::try_from(dr))
                else {
                    return;
                };
                let valid = (total - k).min(4);
                // SAFETY: the caller guarantees support for `S`.
                let a = unsafe { S::quad_areas(q, sx0, sy0, dc, dr) };
                for t in 0..valid {
                    if a[t] != 0.0 {
                        sink.one(
                            band_lo + dr[t] as usize,
                            c0 + dc[t] as usize,
                            (a[t] * wq) as f32,
                        );
                    }
                }
                k += 4;
            }
            return;
        }
        for jj in band_lo..=band_hi {
            let fjj = jj as f64;
            for ii in c0..=c1 {
                let a = boxer(ii as f64, fjj, &g.x, &g.y);
                if a != 0.0 {
                    sink.one(jj, ii, (a * wq) as f32);
                }
            }
        }
    }
}

impl Square {
    /// Whether the 3x3 bound of `y_extent` applies to row `j` (its interior
    /// columns): `pixfrac <= 2` and an interior row.
    #[inline(always)]
    fn cheap_extent_applies(&self, pixmap: &PixmapRef, j: usize) -> bool {
        self.h <= 1.0 && j > 0 && j + 2 < pixmap.ny && pixmap.nx >= 4
    }

    #[inline(always)]
    fn exact_extent(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(f64, f64)> {
        geometry_rows(self, pixmap, i, j, out_nx, out_ny)
    }
}

/// The exact output rows of [`KernelImpl::geometry`] (baseline code) as a
/// y extent: the default [`KernelImpl::y_extent`].
#[inline(always)]
fn geometry_rows<K: KernelImpl + ?Sized>(
    k: &K,
    pixmap: &PixmapRef,
    i: usize,
    j: usize,
    out_nx: usize,
    out_ny: usize,
) -> Option<(f64, f64)> {
    // SAFETY: the baseline instruction set is always available.
    let (_, (r0, r1)) = unsafe { k.geometry::<Baseline>(pixmap, i, j, out_nx, out_ny) }?;
    Some((r0 as f64, r1 as f64))
}

/// `(min, max, finite)` of the y of map column `k` in rows `j-1..=j+1`.
#[inline(always)]
fn column_y_range(pixmap: &PixmapRef, k: usize, j: usize) -> (f64, f64, f64) {
    let (_, y0) = pixmap.get(k, j - 1);
    let (_, y1) = pixmap.get(k, j);
    let (_, y2) = pixmap.get(k, j + 1);
    column_y(y0, y1, y2)
}

/// `(min, max, f)` of three y values, `f == 0` when all are finite (else NaN).
/// The min/max of NaN-free values do not depend on the comparison order (up
/// to the sign of a zero, which `neighbourhood_extent` cannot see).
#[inline(always)]
fn column_y(y0: f64, y1: f64, y2: f64) -> (f64, f64, f64) {
    let lo = if y1 < y0 { y1 } else { y0 };
    let lo = if y2 < lo { y2 } else { lo };
    let hi = if y1 > y0 { y1 } else { y0 };
    let hi = if y2 > hi { y2 } else { hi };
    // x * 0 is 0 for finite x and NaN for infinite or NaN x
    (lo, hi, y0 * 0.0 + y1 * 0.0 + y2 * 0.0)
}

/// The y extent of a 3x3 neighbourhood from its three column ranges, widened
/// by a margin far above the corners' rounding error; `None` if any y is not
/// finite.
#[inline(always)]
fn neighbourhood_extent(
    c0: (f64, f64, f64),
    c1: (f64, f64, f64),
    c2: (f64, f64, f64),
) -> Option<(f64, f64)> {
    if c0.2 + c1.2 + c2.2 != 0.0 {
        return None;
    }
    let lo = if c1.0 < c0.0 { c1.0 } else { c0.0 };
    let lo = if c2.0 < lo { c2.0 } else { lo };
    let hi = if c1.1 > c0.1 { c1.1 } else { c0.1 };
    let hi = if c2.1 > hi { c2.1 } else { hi };
    let margin = 1e-9 * (1.0 + lo.abs() + hi.abs());
    Some((lo - margin, hi + margin))
}

/// Columns per block of the scalar centre-based kernels' per-column factors.
const SEG: usize = 16;

/// Widest footprint (columns) and most output pixels of the lane tables.
/// Output position of an input pixel centre (all kernels but square).
#[derive(Clone, Copy)]
pub(crate) struct Center {
    x: f64,
    y: f64,
}

#[inline(always)]
fn center(pixmap: &PixmapRef, i: usize, j: usize) -> Option<Center> {
    let (x, y) = pixmap.get(i, j);
    if in_c_int_range(x) && in_c_int_range(y) {
        Some(Center { x, y })
    } else {
        None
    }
}

/// The outputs `nint(v - e)..=nint(v + e)` along an axis of `n` pixels
/// (clipped; `None` when empty): the footprint of the turbo and Gaussian
/// kernels (spec 5.3, 5.4).
#[inline(always)]
pub(crate) fn box_span(v: f64, e: f64, n: usize) -> Option<(usize, usize)> {
    clip_range(nint(v - e), nint(v + e), n)
}

/// [`KernelImpl::geometry`] of the turbo and Gaussian kernels: the centre of
/// input pixel `(i, j)` and its output rows [`box_span`] of half-width `e`.
#[inline(always)]
fn box_geometry(
    pixmap: &PixmapRef,
    i: usize,
    j: usize,
    e: f64,
    out_ny: usize,
) -> Option<(Center, (usize, usize))> {
    let c = center(pixmap, i, j)?;
    Some((c, box_span(c.y, e, out_ny)?))
}

/// [`KernelImpl::y_extent`] of the centre-based kernels, whose rows lie in
/// `[y - e, y + e]` widened by `nint`/`floor` (at most 1/2 resp. 1): the
/// centre's `y +- e` when the centre is usable, else `None` (then `geometry`
/// is `None` too).
#[inline(always)]
fn center_extent(pixmap: &PixmapRef, i: usize, j: usize, e: f64) -> Option<(f64, f64)> {
    let (x, y) = pixmap.get(i, j);
    if in_c_int_range(x) && in_c_int_range(y) {
        Some((y - e, y + e))
    } else {
        None
    }
}

/// [`center_extent`] of pixels `i0..=i1` of row `j` (see [`KernelImpl::row_extents`]).
#[inline(always)]
fn center_row_extents(
    pixmap: &PixmapRef,
    j: usize,
    (i0, i1): (usize, usize),
    e: f64,
    lo: &mut [f64],
    hi: &mut [f64],
) {
    let Some(row) = pixmap.row(j).get(2 * i0..2 * (i1 + 1)) else {
        return;
    };
    for ((xy, l), h) in row.chunks_exact(2).zip(lo.iter_mut()).zip(hi.iter_mut()) {
        let ok = in_c_int_range(xy[0]) & in_c_int_range(xy[1]);
        let y = xy[1];
        *l = if ok { y - e } else { f64::NAN };
        *h = if ok { y + e } else { f64::NAN };
    }
}

/// Implements the band-partition methods of [`KernelImpl`] for a
/// centre-based kernel with the given footprint half-height expression.
macro_rules! center_extents {
    ($e:expr) => {
        #[inline(always)]
        fn y_extent(
            &self,
            pixmap: &PixmapRef,
            i: usize,
            j: usize,
            _out_nx: usize,
            _out_ny: usize,
        ) -> Option<(f64, f64)> {
            #[allow(clippy::redundant_closure_call)]
            center_extent(pixmap, i, j, ($e)(self))
        }

        #[inline(always)]
        fn center_half_extent(&self) -> Option<f64> {
            #[allow(clippy::redundant_closure_call)]
            Some(($e)(self))
        }

        #[inline(always)]
        fn row_extents(
            &self,
            pixmap: &PixmapRef,
            j: usize,
            cols: (usize, usize),
            _out: (usize, usize),
            lo: &mut [f64],
            hi: &mut [f64],
        ) {
            #[allow(clippy::redundant_closure_call)]
            center_row_extents(pixmap, j, cols, ($e)(self), lo, hi)
        }
    };
}

/// Each input pixel goes to the output pixel containing its centre (5.2).
pub(crate) struct Point;

impl KernelImpl for Point {
    type Geom = usize;
    const IS_POINT: bool = true;

    center_extents!(|_: &Self| 0.0);

    #[inline(always)]
    unsafe fn geometry<S: Isa>(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(usize, (usize, usize))> {
        let c = center(pixmap, i, j)?;
        let ii = nint(c.x);
        if ii < 0 || ii >= out_nx as i64 {
            return None;
        }
        let jj = nint(c.y);
        Some((ii as usize, clip_range(jj, jj, out_ny)?))
    }

    #[inline(always)]
    unsafe fn contribute<S: Isa, K: Sink>(
        &self,
        ii: &usize,
        w: f32,
        band_lo: usize,
        _band_hi: usize,
        _out_nx: usize,
        sink: &mut K,
    ) {
        sink.one(band_lo, *ii, w);
    }
}

/// Axis-aligned box of half-width `pfo` output pixels (5.3).
pub(crate) struct Turbo {
    pfo: f64,
    scale: f64,
}

impl Turbo {
    pub(crate) fn new(pf: f64, psr: f64) -> Self {
        let ac = 1.0 / (pf * pf);
        Turbo {
            pfo: pf / psr / 2.0,
            scale: ac * psr * psr,
        }
    }
}

impl KernelImpl for Turbo {
    type Geom = Center;

    #[inline(always)]
    fn turbo_params(&self) -> Option<(f64, f64)> {
        Some((self.pfo, self.scale))
    }

    center_extents!(|k: &Self| k.pfo);

    #[inline(always)]
    unsafe fn geometry<S: Isa>(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        _out_nx: usize,
        out_ny: usize,
    ) -> Option<(Center, (usize, usize))> {
        box_geometry(pixmap, i, j, self.pfo, out_ny)
    }

    #[inline(always)]
    unsafe fn contribute<S: Isa, K: Sink>(
        &self,
        c: &Center,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        sink: &mut K,
    ) {
        let (x, y, pfo) = (c.x, c.y, self.pfo);
        let Some((ilo, ihi)) = box_span(x, pfo, out_nx) else {
            return;
        };
        let wd = w as f64;
        if let Some(mut band) = sink.band() {
            let p = TurboPixel {
                x,
                y,
                pfo,
                scale: self.scale,
                wd,
                cols: (ilo, ihi),
                rows: (band_lo, band_hi),
            };
            // SAFETY: the caller guarantees support for `S`.
            if unsafe { S::turbo(&mut band, &p) } {
                return;
            }
        }
        for jj in band_lo..=band_hi {
            let fjj = jj as f64;
            let dy = (y + pfo).min(fjj + 0.5) - (y - pfo).max(fjj - 0.5);
            for ii in ilo..=ihi {
                let fii = ii as f64;
                let dx = (x + pfo).min(fii + 0.5) - (x - pfo).max(fii - 0.5);
                if dx > 0.0 && dy > 0.0 {
                    let ov = dx * dy;
                    sink.one(jj, ii, (ov * self.scale * wd) as f32);
                }
            }
        }
    }
}

/// Truncated Gaussian of FWHM `pixfrac` input pixels (5.4).
pub(crate) struct Gaussian {
    pfo: f64,
    efac: f64,
    es: f64,
    /// The vector `exp` of this machine (bitwise libm), if any.
    exp: Option<super::vexp::Kind>,
}

impl Gaussian {
    pub(crate) fn new(pf: f64, psr: f64) -> Self {
        let pfo = (2.5 * pf / 2.3548 / psr).max(1.2 / psr);
        let ac = 1.0 / (pf * pf);
        let efac = 2.3548 * 2.3548 * psr * psr * ac / 2.0;
        let es = efac / std::f64::consts::PI;
        Gaussian {
            pfo,
            efac,
            es,
            exp: super::vexp::fast_exp_kind(),
        }
    }
}

impl KernelImpl for Gaussian {
    type Geom = Center;
    const IS_GAUSSIAN: bool = true;

    center_extents!(|k: &Self| k.pfo);

    #[inline(always)]
    unsafe fn geometry<S: Isa>(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        _out_nx: usize,
        out_ny: usize,
    ) -> Option<(Center, (usize, usize))> {
        box_geometry(pixmap, i, j, self.pfo, out_ny)
    }

    #[inline(always)]
    unsafe fn contribute<S: Isa, K: Sink>(
        &self,
        c: &Center,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        sink: &mut K,
    ) {
        let (x, y, pfo) = (c.x, c.y, self.pfo);
        let Some((ilo, ihi)) = box_span(x, pfo, out_nx) else {
            return;
        };
        let wd = w as f64;
        if self.exp.is_some() {
            if let Some(mut band) = sink.band() {
                let p = GaussianPixel {
                    x,
                    y,
                    es: self.es,
                    efac: self.efac,
                    wd,
                    cols: (ilo, ihi),
                    rows: (band_lo, band_hi),
                    exp: self.exp,
                };
                // SAFETY: the caller guarantees support for `S`.
                if unsafe { S::gaussian(&mut band, &p) } {
                    return;
                }
            }
        }
        for jj in band_lo..=band_hi {
            let ddy = y - jj as f64;
            for ii in ilo..=ihi {
                let ddx = x - ii as f64;
                let r2 = ddx * ddx + ddy * ddy;
                let g = (self.es * (-r2 * self.efac).exp()) as f32;
                sink.one(jj, ii, (g as f64 * wd) as f32);
            }
        }
    }
}

/// Lanczos window of order 2 or 3 via a look-up table (5.5).
pub(crate) struct Lanczos {
    pfo: f64,
    sdp: f64,
    lut: Vec<f64>,
}

impl Lanczos {
    pub(crate) fn new(order: usize, psr: f64) -> Self {
        Lanczos {
            pfo: order as f64 / psr,
            sdp: psr / LANCZOS_DELTA,
            lut: lanczos_lut(order),
        }
    }
}

impl KernelImpl for Lanczos {
    type Geom = Center;

    center_extents!(|k: &Self| k.pfo);

    #[inline(always)]
    unsafe fn geometry<S: Isa>(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        _out_nx: usize,
        out_ny: usize,
    ) -> Option<(Center, (usize, usize))> {
        let c = center(pixmap, i, j)?;
        let rows = clip_range(
            floor_i(c.y - self.pfo).saturating_add(1),
            floor_i(c.y + self.pfo),
            out_ny,
        )?;
        Some((c, rows))
    }

    #[inline(always)]
    unsafe fn contribute<S: Isa, K: Sink>(
        &self,
        c: &Center,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        sink: &mut K,
    ) {
        let (x, y, pfo, sdp) = (c.x, c.y, self.pfo, self.sdp);
        let Some((ilo, ihi)) =
            clip_range(floor_i(x - pfo).saturating_add(1), floor_i(x + pfo), out_nx)
        else {
            return;
        };
        let wd = w as f64;
        if let Some(mut band) = sink.band() {
            let p = LanczosPixel {
                x,
                y,
                sdp,
                wd,
                cols: (ilo, ihi),
                rows: (band_lo, band_hi),
                lut: &self.lut,
            };
            // SAFETY: the caller guarantees support for `S`.
            if unsafe { S::lanczos(&mut band, &p) } {
                return;
            }
        }
        let n = self.lut.len() as i64;
        let mut lx = [0.0f64; SEG];
        let mut live = [false; SEG];
        let mut ii0 = ilo;
        while ii0 <= ihi {
            let m = (ihi - ii0 + 1).min(SEG);
            // the table value of each column (the same for every row)
            for k in 0..m {
                let kx = nint(((x - (ii0 + k) as f64) * sdp).abs());
                live[k] = (0..n).contains(&kx);
                lx[k] = self.lut.get(kx.max(0) as usize).copied().unwrap_or(0.0);
            }
            for jj in band_lo..=band_hi {
                let ky = nint(((y - jj as f64) * sdp).abs());
                if ky >= n {
                    continue;
                }
                let ly = self.lut.get(ky.max(0) as usize).copied().unwrap_or(0.0);
                for k in 0..m {
                    // columns beyond the table contribute nothing
                    if live[k] {
                        sink.one(jj, ii0 + k, (lx[k] * ly * wd) as f32);
                    }
                }
            }
            ii0 += m;
        }
    }
}

/// Whether an output coordinate is finite and its `nint` fits a C `int`.
/// The reference casts `round(v)` to `int`; beyond that range the cast
/// overflows (x86: `INT_MIN`), which makes it skip the pixel in most cases and
/// produce meaningless overlap areas in the others. pyspec treats such a
/// coordinate like NaN: the input pixel is skipped.
#[inline(always)]
pub(crate) fn in_c_int_range(v: f64) -> bool {
    v.abs() < C_INT_LIMIT
}

#[inline]
fn floor_i(v: f64) -> i64 {
    let f = v.floor();
    if f.is_nan() {
        i64::MIN
    } else {
        f as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanczos_lut_sizes_match_reference() {
        assert_eq!(lanczos_lut(2).len(), 668);
        assert_eq!(lanczos_lut(3).len(), 1001);
        assert_eq!(lanczos_lut(5).len(), 1668);
        let lut = lanczos_lut(3);
        assert_eq!(lut[0], 1.0);
        // zero crossing at x = 1 (k = 333.33..) lies between entries
        assert!(lut[333] > 0.0 && lut[334] < 0.0);
        assert!(lut.last().unwrap().abs() < 1e-12);
    }
}
