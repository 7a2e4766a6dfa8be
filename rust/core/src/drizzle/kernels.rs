//! The six drizzle kernels (spec drizzle.md section 5), written once: each
//! kernel reports the output rows one input pixel touches (for the band
//! partition) and enumerates its `(ii, jj, dow)` contributions within a band
//! of output rows in the reference order (`jj` ascending, then `ii`).

use ndarray::ArrayView3;

use super::geometry::{boxer, clip_range, nint, pixel_corners, CornerWeights};
use super::Kernel;

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

/// Per-call kernel constants.
pub(crate) enum Prepared {
    Square { h: f64, cw: CornerWeights },
    Point,
    Turbo { pfo: f64, scale: f64 },
    Gaussian { pfo: f64, efac: f64, es: f64 },
    Lanczos { pfo: f64, sdp: f64, lut: Vec<f64> },
}

/// Per-input-pixel geometry computed once per visit.
pub(crate) enum Geom {
    Square { x: [f64; 4], y: [f64; 4], wq_den: f64, cols: (usize, usize) },
    Center { x: f64, y: f64 },
}

impl Prepared {
    pub(crate) fn new(kernel: Kernel, pixfrac: f64, psr: f64) -> Self {
        let pf = pixfrac;
        match kernel {
            Kernel::Square => {
                let h = 0.5 * pf;
                Prepared::Square { h, cw: CornerWeights::new(h) }
            }
            Kernel::Point => Prepared::Point,
            Kernel::Turbo => {
                let ac = 1.0 / (pf * pf);
                Prepared::Turbo { pfo: pf / psr / 2.0, scale: ac * psr * psr }
            }
            Kernel::Gaussian => {
                let pfo = (2.5 * pf / 2.3548 / psr).max(1.2 / psr);
                let ac = 1.0 / (pf * pf);
                let efac = 2.3548 * 2.3548 * psr * psr * ac / 2.0;
                let es = efac / std::f64::consts::PI;
                Prepared::Gaussian { pfo, efac, es }
            }
            Kernel::Lanczos2 | Kernel::Lanczos3 => {
                let n = if matches!(kernel, Kernel::Lanczos2) { 2 } else { 3 };
                Prepared::Lanczos {
                    pfo: n as f64 / psr,
                    sdp: psr / LANCZOS_DELTA,
                    lut: lanczos_lut(n),
                }
            }
        }
    }

    /// Geometry of input pixel `(i, j)` and the inclusive output row range it
    /// may touch (clipped to `ny_o` rows), or `None` when it contributes nothing.
    #[inline]
    pub(crate) fn geometry(
        &self,
        pixmap: &ArrayView3<f64>,
        i: usize,
        j: usize,
        out_nx: usize,
        out_ny: usize,
    ) -> Option<(Geom, (usize, usize))> {
        match self {
            Prepared::Square { h, cw } => {
                let (x, y) = pixel_corners(pixmap, i, j, *h, cw)?;
                if x.iter().chain(y.iter()).any(|v| !in_c_int_range(*v)) {
                    return None;
                }
                let (ymin, ymax) = min_max(&y);
                let rows = clip_range(nint(ymin), nint(ymax), out_ny)?;
                let (xmin, xmax) = min_max(&x);
                let cols = clip_range(nint(xmin), nint(xmax), out_nx)?;
                let jaco = 0.5 * ((x[1] - x[3]) * (y[0] - y[2]) - (x[0] - x[2]) * (y[1] - y[3]));
                Some((Geom::Square { x, y, wq_den: jaco, cols }, rows))
            }
            _ => {
                let xo = pixmap[[j, i, 0]];
                let yo = pixmap[[j, i, 1]];
                if !in_c_int_range(xo) || !in_c_int_range(yo) {
                    return None;
                }
                let rows = match self {
                    Prepared::Point => {
                        let jj = nint(yo);
                        let ii = nint(xo);
                        if ii < 0 || ii >= out_nx as i64 {
                            return None;
                        }
                        clip_range(jj, jj, out_ny)?
                    }
                    Prepared::Turbo { pfo, .. } | Prepared::Gaussian { pfo, .. } => {
                        clip_range(nint(yo - pfo), nint(yo + pfo), out_ny)?
                    }
                    Prepared::Lanczos { pfo, .. } => clip_range(
                        floor_i(yo - pfo).saturating_add(1),
                        floor_i(yo + pfo),
                        out_ny,
                    )?,
                    Prepared::Square { .. } => unreachable_square(),
                };
                Some((Geom::Center { x: xo, y: yo }, rows))
            }
        }
    }

    /// Enumerate the contributions of one input pixel with weight `w` to the
    /// output rows `[band_lo, band_hi]` (already intersected with the pixel's
    /// row range) in the reference order.
    #[inline]
    pub(crate) fn contribute<F: FnMut(usize, usize, f32)>(
        &self,
        geom: &Geom,
        w: f32,
        band_lo: usize,
        band_hi: usize,
        out_nx: usize,
        mut sink: F,
    ) {
        match (self, geom) {
            (Prepared::Square { .. }, Geom::Square { x, y, wq_den, cols }) => {
                let wq = w as f64 / wq_den;
                for jj in band_lo..=band_hi {
                    let fjj = jj as f64;
                    for ii in cols.0..=cols.1 {
                        let a = boxer(ii as f64, fjj, x, y);
                        if a != 0.0 {
                            sink(ii, jj, (a * wq) as f32);
                        }
                    }
                }
            }
            (Prepared::Point, Geom::Center { x, .. }) => {
                // rows were already restricted to the single row nint(Y)
                let ii = nint(*x) as usize;
                sink(ii, band_lo, w);
            }
            (Prepared::Turbo { pfo, scale }, Geom::Center { x, y }) => {
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
                            sink(ii, jj, (ov * scale * wd) as f32);
                        }
                    }
                }
            }
            (Prepared::Gaussian { pfo, efac, es }, Geom::Center { x, y }) => {
                let Some((ilo, ihi)) = clip_range(nint(x - pfo), nint(x + pfo), out_nx) else {
                    return;
                };
                let wd = w as f64;
                for jj in band_lo..=band_hi {
                    let ddy = y - jj as f64;
                    for ii in ilo..=ihi {
                        let ddx = x - ii as f64;
                        let r2 = ddx * ddx + ddy * ddy;
                        let g = (es * (-r2 * efac).exp()) as f32;
                        sink(ii, jj, (g as f64 * wd) as f32);
                    }
                }
            }
            (Prepared::Lanczos { pfo, sdp, lut }, Geom::Center { x, y }) => {
                let Some((ilo, ihi)) =
                    clip_range(floor_i(x - pfo).saturating_add(1), floor_i(x + pfo), out_nx)
                else {
                    return;
                };
                let n = lut.len() as i64;
                let wd = w as f64;
                for jj in band_lo..=band_hi {
                    let ky = nint(((y - jj as f64) * sdp).abs());
                    if ky >= n {
                        continue;
                    }
                    let ly = lut[ky as usize];
                    for ii in ilo..=ihi {
                        let kx = nint(((x - ii as f64) * sdp).abs());
                        if kx >= n {
                            continue;
                        }
                        sink(ii, jj, (lut[kx as usize] * ly * wd) as f32);
                    }
                }
            }
            _ => {}
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
    let mut lo = v[0];
    let mut hi = v[0];
    for &x in &v[1..] {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    (lo, hi)
}

#[cold]
fn unreachable_square() -> (usize, usize) {
    (1, 0)
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
