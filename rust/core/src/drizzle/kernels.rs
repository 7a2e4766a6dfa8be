//! The six drizzle kernels (spec drizzle.md section 5), written once: each
//! kernel reports the output rows one input pixel touches (for the band
//! partition) and enumerates its `(ii, jj, dow)` contributions within a band
//! of output rows in the reference order (`jj` ascending, then `ii`).

use super::geometry::{boxer, clip_range, nint, CornerWeights, PixmapRef};

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

/// A drizzle kernel: per-input-pixel geometry plus the enumeration of its
/// contributions. Implemented once per kernel so the accumulation loop is
/// monomorphised (no per-pixel dispatch).
pub(crate) trait KernelImpl: Sync {
    /// What is computed once per input pixel.
    type Geom;

    /// Geometry of input pixel `(i, j)` and the inclusive output row range it
    /// may touch (clipped to `out_ny` rows), or `None` when it contributes nothing.
    fn geometry(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(Self::Geom, (usize, usize))>;

    /// Enumerate the contributions `(ii, jj, dow)` of one input pixel with
    /// weight `w` to the output rows `[band_lo, band_hi]` (already intersected
    /// with the pixel's row range), `jj` ascending then `ii` ascending.
    fn contribute<F: FnMut(usize, usize, f32)>(
        &self,
        geom: &Self::Geom,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        sink: F,
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

    #[inline(always)]
    fn geometry(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(SquareGeom, (usize, usize))> {
        let (x, y) = pixmap.corners(i, j, self.h, &self.cw)?;
        if x.iter().chain(y.iter()).any(|v| !in_c_int_range(*v)) {
            return None;
        }
        let (ymin, ymax) = min_max(&y);
        let rows = clip_range(nint(ymin), nint(ymax), out_ny)?;
        let (xmin, xmax) = min_max(&x);
        let cols = clip_range(nint(xmin), nint(xmax), out_nx)?;
        let jaco = 0.5 * ((x[1] - x[3]) * (y[0] - y[2]) - (x[0] - x[2]) * (y[1] - y[3]));
        Some((SquareGeom { x, y, jaco, cols }, rows))
    }

    #[inline(always)]
    fn contribute<F: FnMut(usize, usize, f32)>(
        &self,
        g: &SquareGeom,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        _out_nx: usize,
        mut sink: F,
    ) {
        let wq = w as f64 / g.jaco;
        for jj in band_lo..=band_hi {
            let fjj = jj as f64;
            for ii in g.cols.0..=g.cols.1 {
                let a = boxer(ii as f64, fjj, &g.x, &g.y);
                if a != 0.0 {
                    sink(ii, jj, (a * wq) as f32);
                }
            }
        }
    }
}

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

/// Each input pixel goes to the output pixel containing its centre (5.2).
pub(crate) struct Point;

impl KernelImpl for Point {
    type Geom = usize;

    #[inline(always)]
    fn geometry(
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
    fn contribute<F: FnMut(usize, usize, f32)>(
        &self,
        ii: &usize,
        w: f32,
        band_lo: usize,
        _band_hi: usize,
        _out_nx: usize,
        mut sink: F,
    ) {
        sink(*ii, band_lo, w);
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
    fn geometry(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        _out_nx: usize,
        out_ny: usize,
    ) -> Option<(Center, (usize, usize))> {
        let c = center(pixmap, i, j)?;
        Some((
            c,
            clip_range(nint(c.y - self.pfo), nint(c.y + self.pfo), out_ny)?,
        ))
    }

    #[inline(always)]
    fn contribute<F: FnMut(usize, usize, f32)>(
        &self,
        c: &Center,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        mut sink: F,
    ) {
        let (x, y, pfo) = (c.x, c.y, self.pfo);
        let Some((ilo, ihi)) = clip_range(nint(x - pfo), nint(x + pfo), out_nx) else {
            return;
        };
        let wd = w as f64;
        for jj in band_lo..=band_hi {
            let fjj = jj as f64;
            let dy = (y + pfo).min(fjj + 0.5) - (y - pfo).max(fjj - 0.5);
            for ii in ilo..=ihi {
                let fii = ii as f64;
                let dx = (x + pfo).min(fii + 0.5) - (x - pfo).max(fii - 0.5);
                if dx > 0.0 && dy > 0.0 {
                    let ov = dx * dy;
                    sink(ii, jj, (ov * self.scale * wd) as f32);
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
}

impl Gaussian {
    pub(crate) fn new(pf: f64, psr: f64) -> Self {
        let pfo = (2.5 * pf / 2.3548 / psr).max(1.2 / psr);
        let ac = 1.0 / (pf * pf);
        let efac = 2.3548 * 2.3548 * psr * psr * ac / 2.0;
        let es = efac / std::f64::consts::PI;
        Gaussian { pfo, efac, es }
    }
}

impl KernelImpl for Gaussian {
    type Geom = Center;

    #[inline(always)]
    fn geometry(
        &self,
        pixmap: &PixmapRef,
        i: usize,
        j: usize,
        _out_nx: usize,
        out_ny: usize,
    ) -> Option<(Center, (usize, usize))> {
        let c = center(pixmap, i, j)?;
        Some((
            c,
            clip_range(nint(c.y - self.pfo), nint(c.y + self.pfo), out_ny)?,
        ))
    }

    #[inline(always)]
    fn contribute<F: FnMut(usize, usize, f32)>(
        &self,
        c: &Center,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        mut sink: F,
    ) {
        let (x, y, pfo) = (c.x, c.y, self.pfo);
        let Some((ilo, ihi)) = clip_range(nint(x - pfo), nint(x + pfo), out_nx) else {
            return;
        };
        let wd = w as f64;
        for jj in band_lo..=band_hi {
            let ddy = y - jj as f64;
            for ii in ilo..=ihi {
                let ddx = x - ii as f64;
                let r2 = ddx * ddx + ddy * ddy;
                let g = (self.es * (-r2 * self.efac).exp()) as f32;
                sink(ii, jj, (g as f64 * wd) as f32);
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

    #[inline(always)]
    fn geometry(
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
    fn contribute<F: FnMut(usize, usize, f32)>(
        &self,
        c: &Center,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        mut sink: F,
    ) {
        let (x, y, pfo, sdp) = (c.x, c.y, self.pfo, self.sdp);
        let Some((ilo, ihi)) =
            clip_range(floor_i(x - pfo).saturating_add(1), floor_i(x + pfo), out_nx)
        else {
            return;
        };
        let n = self.lut.len() as i64;
        let wd = w as f64;
        for jj in band_lo..=band_hi {
            let ky = nint(((y - jj as f64) * sdp).abs());
            if ky >= n {
                continue;
            }
            let ly = self.lut[ky as usize];
            for ii in ilo..=ihi {
                let kx = nint(((x - ii as f64) * sdp).abs());
                if kx >= n {
                    continue;
                }
                sink(ii, jj, (self.lut[kx as usize] * ly * wd) as f32);
            }
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
    v.abs() < 2_147_483_647.0
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

#[inline]
fn min_max(v: &[f64; 4]) -> (f64, f64) {
    // NaN-free inputs (checked by the caller): plain comparisons.
    let mut lo = v[0];
    let mut hi = v[0];
    for &x in &v[1..] {
        if x < lo {
            lo = x;
        }
        if x > hi {
            hi = x;
        }
    }
    (lo, hi)
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
