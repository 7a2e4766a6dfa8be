//! Pixel-map geometry shared by the kernels and the scan region: bilinear
//! interpolation of the pixel map (spec drizzle.md 5.1), the corners of a
//! shrunken input pixel, and the exact signed overlap area of a quadrilateral
//! with a unit output pixel.

use ndarray::ArrayView3;

/// C `round()`: halves go away from zero. Returns the rounded value as `f64`.
#[inline(always)]
pub fn nint_f64(v: f64) -> f64 {
    v.round()
}

/// `nint(v)` as an `i64`, saturating for huge or non-finite values (callers
/// clamp the result to the array before using it as an index). Exact C
/// `round()` semantics (half away from zero) without a libm call: for
/// `|v| < 2^52` the fractional part `v - trunc(v)` is computed exactly.
#[inline(always)]
pub fn nint(v: f64) -> i64 {
    if v.abs() < 4_503_599_627_370_496.0 {
        // SAFETY: |v| < 2^52, so its truncation fits an i64.
        let t: i64 = unsafe { v.to_int_unchecked() }; // truncation toward zero
        let frac = v - t as f64; // exact
        t + i64::from(frac >= 0.5) - i64::from(frac <= -0.5)
    } else if v.is_nan() {
        i64::MIN
    } else {
        v as i64 // integral already (or saturating)
    }
}

/// Inclusive index range `[max(lo, 0), min(hi, n - 1)]` as `usize`, or `None`
/// when it is empty. `lo`/`hi` are already-rounded integers (saturated).
#[inline(always)]
pub fn clip_range(lo: i64, hi: i64, n: usize) -> Option<(usize, usize)> {
    if n == 0 {
        return None;
    }
    let lo = lo.max(0);
    let hi = hi.min(n as i64 - 1);
    if lo > hi {
        None
    } else {
        Some((lo as usize, hi as usize))
    }
}

/// A contiguous `(ny, nx, 2)` pixel map for fast lookups in hot loops.
#[derive(Clone, Copy, Debug)]
pub struct PixmapRef<'a> {
    data: &'a [f64],
    /// Number of rows.
    pub ny: usize,
    /// Number of columns.
    pub nx: usize,
}

impl<'a> PixmapRef<'a> {
    /// Wrap a standard-layout pixel map; `None` if it is not contiguous.
    pub fn new(pixmap: &ArrayView3<'a, f64>) -> Option<Self> {
        let (ny, nx, two) = pixmap.dim();
        if two != 2 {
            return None;
        }
        let data = pixmap.to_slice()?;
        Some(PixmapRef { data, ny, nx })
    }

    /// `(X, Y)` of input pixel `(i, j)`.
    #[inline(always)]
    pub fn get(&self, i: usize, j: usize) -> (f64, f64) {
        let k = 2 * (j * self.nx + i);
        (self.data[k], self.data[k + 1])
    }

    /// The interleaved `(X, Y)` pairs of map row `j` (empty if out of range).
    #[inline(always)]
    pub(crate) fn row(&self, j: usize) -> &'a [f64] {
        let st = 2 * self.nx;
        self.data.get(j * st..(j + 1) * st).unwrap_or(&[])
    }

    /// Component `c` (0 = X, 1 = Y) of input pixel `(i, j)`.
    #[inline(always)]
    pub fn at(&self, i: usize, j: usize, c: usize) -> f64 {
        self.data[2 * (j * self.nx + i) + c]
    }

    /// Bilinear interpolation at `(x, y)`; see [`interpolate_point`].
    #[inline]
    pub fn interpolate(&self, x: f64, y: f64) -> (f64, f64) {
        if self.nx < 2 || self.ny < 2 {
            return (f64::NAN, f64::NAN);
        }
        let (nx, ny) = (self.nx, self.ny);
        if x.fract() == 0.0 && y.fract() == 0.0 && x >= 0.0 && y >= 0.0 {
            let (ix, iy) = (x as usize, y as usize);
            if ix < nx && iy < ny {
                return self.get(ix, iy);
            }
        }
        if x.is_nan() || y.is_nan() {
            return (f64::NAN, f64::NAN);
        }
        let i0 = (x as i64).clamp(0, nx as i64 - 2) as usize;
        let j0 = (y as i64).clamp(0, ny as i64 - 2) as usize;
        let t = x - i0 as f64;
        let u = y - j0 as f64;
        let one_t = 1.0 - t;
        let one_u = 1.0 - u;
        let (x00, y00) = self.get(i0, j0);
        let (x10, y10) = self.get(i0 + 1, j0);
        let (x01, y01) = self.get(i0, j0 + 1);
        let (x11, y11) = self.get(i0 + 1, j0 + 1);
        (
            x00 * one_t * one_u + x10 * t * one_u + x01 * one_t * u + x11 * t * u,
            y00 * one_t * one_u + y10 * t * one_u + y01 * one_t * u + y11 * t * u,
        )
    }

    /// Corners of input pixel `(i, j)`; see [`pixel_corners`].
    ///
    /// The interior form works on `(X, Y)` pairs (the map's interleaved
    /// layout), with exactly the reference's products and left-to-right sums
    /// per component.
    #[inline(always)]
    pub fn corners(
        &self,
        i: usize,
        j: usize,
        h: f64,
        w: &CornerWeights,
    ) -> Option<([f64; 4], [f64; 4])> {
        let Some((r0, r1, r2)) = self.interior_rows(i, j) else {
            return self.corners_border(i, j, h);
        };
        nan_free(interior_corners(r0, r1, r2, w))
    }

    /// The `(X, Y)` pairs of columns `i-1..=i+1` of rows `j-1`, `j`, `j+1`
    /// when `(i, j)` is an interior pixel (spec 5.1), else `None`.
    #[inline(always)]
    pub(crate) fn interior_rows(
        &self,
        i: usize,
        j: usize,
    ) -> Option<(&'a [f64; 6], &'a [f64; 6], &'a [f64; 6])> {
        let nx = self.nx;
        if !(i > 0 && j > 0 && i + 2 < nx && j + 2 < self.ny) {
            return None;
        }
        let k0 = 2 * ((j - 1) * nx + i - 1);
        let st = 2 * nx;
        let row = |k: usize| -> Option<&'a [f64; 6]> { self.data.get(k..k + 6)?.try_into().ok() };
        Some((row(k0)?, row(k0 + st)?, row(k0 + 2 * st)?))
    }

    /// Corners of a pixel on the border of the map (extrapolating form).
    #[inline(never)]
    pub(crate) fn corners_border(
        &self,
        i: usize,
        j: usize,
        h: f64,
    ) -> Option<([f64; 4], [f64; 4])> {
        let mut xs = [0.0f64; 4];
        let mut ys = [0.0f64; 4];
        let (fi, fj) = (i as f64, j as f64);
        let pts = [
            (fi - h, fj + h),
            (fi + h, fj + h),
            (fi + h, fj - h),
            (fi - h, fj - h),
        ];
        for (k, &(xc, yc)) in pts.iter().enumerate() {
            let (px, py) = self.interpolate(xc, yc);
            xs[k] = px;
            ys[k] = py;
        }
        nan_free((xs, ys))
    }
}

/// The corners, unless one of their coordinates is NaN (spec 5.1: the input
/// pixel is then skipped).
#[inline(always)]
fn nan_free((xs, ys): ([f64; 4], [f64; 4])) -> Option<([f64; 4], [f64; 4])> {
    if xs.iter().chain(ys.iter()).any(|v| v.is_nan()) {
        None
    } else {
        Some((xs, ys))
    }
}

/// Corners `P0..P3` of an interior pixel from the `(X, Y)` pairs of its 3x3
/// neighbourhood (rows `j-1`, `j`, `j+1`, see [`PixmapRef::interior_rows`]):
/// the premultiplied bilinear form of spec 5.1, sums left to right.
#[inline(always)]
pub(crate) fn interior_corners(
    r0: &[f64; 6],
    r1: &[f64; 6],
    r2: &[f64; 6],
    w: &CornerWeights,
) -> ([f64; 4], [f64; 4]) {
    // f[u][v] = pixmap[j-1+v, i-1+u] * weight(u, v), both components
    #[inline(always)]
    fn f(r: &[f64; 6], u: usize, wt: f64) -> [f64; 2] {
        [r[2 * u] * wt, r[2 * u + 1] * wt]
    }
    #[inline(always)]
    fn sum4(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> [f64; 2] {
        [a[0] + b[0] + c[0] + d[0], a[1] + b[1] + c[1] + d[1]]
    }
    let (f00, f10, f20) = (f(r0, 0, w.c), f(r0, 1, w.b), f(r0, 2, w.c));
    let (f01, f11, f21) = (f(r1, 0, w.b), f(r1, 1, w.a), f(r1, 2, w.b));
    let (f02, f12, f22) = (f(r2, 0, w.c), f(r2, 1, w.b), f(r2, 2, w.c));
    let p0 = sum4(f01, f11, f02, f12);
    let p1 = sum4(f11, f21, f12, f22);
    let p2 = sum4(f10, f20, f11, f21);
    let p3 = sum4(f00, f10, f01, f11);
    ([p0[0], p1[0], p2[0], p3[0]], [p0[1], p1[1], p2[1], p3[1]])
}

/// Bilinear interpolation (and extrapolation) of the pixel map at input
/// position `(x, y)`: the "other pixels" form of spec 5.1. When both
/// coordinates are integers inside the map the entry is returned exactly.
/// The map must have at least 2 rows and 2 columns. NaN propagates.
#[inline]
pub fn interpolate_point(pixmap: &ArrayView3<f64>, x: f64, y: f64) -> (f64, f64) {
    if pixmap.shape()[0] < 2 || pixmap.shape()[1] < 2 || pixmap.shape()[2] < 2 {
        // too small to interpolate (documented: NaN, never a panic)
        return (f64::NAN, f64::NAN);
    }
    let ny = pixmap.shape()[0];
    let nx = pixmap.shape()[1];
    if x.fract() == 0.0 && y.fract() == 0.0 && x >= 0.0 && y >= 0.0 {
        let (ix, iy) = (x as usize, y as usize);
        if ix < nx && iy < ny {
            return (pixmap[[iy, ix, 0]], pixmap[[iy, ix, 1]]);
        }
    }
    // trunc toward zero, then clamp; NaN/huge coordinates saturate.
    let i0 = (x as i64).clamp(0, nx as i64 - 2) as usize;
    let j0 = (y as i64).clamp(0, ny as i64 - 2) as usize;
    let t = x - i0 as f64;
    let u = y - j0 as f64;
    let one_t = 1.0 - t;
    let one_u = 1.0 - u;
    let mut out = [0.0f64; 2];
    for (c, o) in out.iter_mut().enumerate() {
        let m00 = pixmap[[j0, i0, c]];
        let m10 = pixmap[[j0, i0 + 1, c]];
        let m01 = pixmap[[j0 + 1, i0, c]];
        let m11 = pixmap[[j0 + 1, i0 + 1, c]];
        *o = m00 * one_t * one_u + m10 * t * one_u + m01 * one_t * u + m11 * t * u;
    }
    if x.is_nan() || y.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    (out[0], out[1])
}

/// Corners `P0..P3` (x and y arrays) of input pixel `(i, j)` shrunk by
/// `pixfrac`, mapped to the output frame (spec 5.1). `h = 0.5 * pixfrac`.
/// Returns `None` when any corner coordinate is NaN.
#[inline]
pub fn pixel_corners(
    pixmap: &ArrayView3<f64>,
    i: usize,
    j: usize,
    h: f64,
    w: &CornerWeights,
) -> Option<([f64; 4], [f64; 4])> {
    let ny = pixmap.shape()[0];
    let nx = pixmap.shape()[1];
    let mut xs = [0.0f64; 4];
    let mut ys = [0.0f64; 4];
    if i > 0 && j > 0 && i + 2 < nx && j + 2 < ny {
        for (c, out) in [&mut xs, &mut ys].into_iter().enumerate() {
            // f[u][v] = pixmap[j-1+v, i-1+u] * weight(u, v)
            let mut f = [[0.0f64; 3]; 3];
            for (u, fu) in f.iter_mut().enumerate() {
                for (v, fuv) in fu.iter_mut().enumerate() {
                    let wt = match (u == 1, v == 1) {
                        (true, true) => w.a,
                        (false, false) => w.c,
                        _ => w.b,
                    };
                    *fuv = pixmap[[j - 1 + v, i - 1 + u, c]] * wt;
                }
            }
            out[0] = f[0][1] + f[1][1] + f[0][2] + f[1][2];
            out[1] = f[1][1] + f[2][1] + f[1][2] + f[2][2];
            out[2] = f[1][0] + f[2][0] + f[1][1] + f[2][1];
            out[3] = f[0][0] + f[1][0] + f[0][1] + f[1][1];
        }
    } else {
        let (fi, fj) = (i as f64, j as f64);
        let pts = [
            (fi - h, fj + h),
            (fi + h, fj + h),
            (fi + h, fj - h),
            (fi - h, fj - h),
        ];
        for (k, &(xc, yc)) in pts.iter().enumerate() {
            let (px, py) = interpolate_point(pixmap, xc, yc);
            xs[k] = px;
            ys[k] = py;
        }
    }
    if xs.iter().chain(ys.iter()).any(|v| v.is_nan()) {
        None
    } else {
        Some((xs, ys))
    }
}

/// Premultiplied bilinear weights for the interior corner formula.
#[derive(Clone, Copy, Debug)]
pub struct CornerWeights {
    /// `(1-h)^2`
    pub a: f64,
    /// `(1-h) h`
    pub b: f64,
    /// `h^2`
    pub c: f64,
}

impl CornerWeights {
    /// Weights for half-size `h = 0.5 * pixfrac`.
    pub fn new(h: f64) -> Self {
        CornerWeights {
            a: (1.0 - h) * (1.0 - h),
            b: (1.0 - h) * h,
            c: h * h,
        }
    }
}

/// Signed area between the directed edge `(x1,y1)->(x2,y2)` and the x-axis,
/// restricted to the unit square `[0,1]^2`. Inputs must not be NaN (the
/// comparisons below are written for that case, like the reference's macros).
#[inline(always)]
pub fn sgarea(x1: f64, y1: f64, x2: f64, y2: f64) -> f64 {
    let dx = x2 - x1;
    let dy = y2 - y1;
    if dx == 0.0 {
        return 0.0;
    }
    let (sgn, mut xlo, mut xhi) = if dx < 0.0 {
        (-1.0, x2, x1)
    } else {
        (1.0, x1, x2)
    };
    if xlo >= 1.0 || xhi <= 0.0 {
        return 0.0;
    }
    if xlo < 0.0 {
        xlo = 0.0;
    }
    if xhi > 1.0 {
        xhi = 1.0;
    }
    let m = dy / dx;
    let mut ylo = y1 + m * (xlo - x1);
    let mut yhi = y1 + m * (xhi - x1);
    if ylo <= 0.0 && yhi <= 0.0 {
        return 0.0;
    }
    if ylo >= 1.0 && yhi >= 1.0 {
        return sgn * (xhi - xlo);
    }
    let det = x1 * y2 - y1 * x2;
    if ylo < 0.0 {
        ylo = 0.0;
        xlo = det / dy;
    }
    if yhi < 0.0 {
        yhi = 0.0;
        xhi = det / dy;
    }
    if ylo <= 1.0 && yhi <= 1.0 {
        return sgn * 0.5 * (xhi - xlo) * (yhi + ylo);
    }
    let xt = (dx + det) / dy;
    if ylo <= 1.0 {
        sgn * (0.5 * (xt - xlo) * (1.0 + ylo) + xhi - xt)
    } else {
        sgn * (0.5 * (xhi - xt) * (1.0 + yhi) + xt - xlo)
    }
}

/// Signed overlap area of the quadrilateral `(x[k], y[k])` (output
/// coordinates) with output pixel `(ii, jj)`, i.e. `[ii-0.5, ii+0.5] x
/// [jj-0.5, jj+0.5]`. Positive for clockwise-in-y-up (orientation
/// preserving) vertex order `P0..P3` of [`pixel_corners`].
#[inline(always)]
pub fn boxer(ii: f64, jj: f64, x: &[f64; 4], y: &[f64; 4]) -> f64 {
    let (x0, x1, x2, x3) = (
        x[0] - ii + 0.5,
        x[1] - ii + 0.5,
        x[2] - ii + 0.5,
        x[3] - ii + 0.5,
    );
    let (y0, y1, y2, y3) = (
        y[0] - jj + 0.5,
        y[1] - jj + 0.5,
        y[2] - jj + 0.5,
        y[3] - jj + 0.5,
    );
    let mut sum = 0.0;
    sum += sgarea(x0, y0, x1, y1);
    sum += sgarea(x1, y1, x2, y2);
    sum += sgarea(x2, y2, x3, y3);
    sum += sgarea(x3, y3, x0, y0);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    fn identity(ny: usize, nx: usize) -> Array3<f64> {
        let mut p = Array3::zeros((ny, nx, 2));
        for j in 0..ny {
            for i in 0..nx {
                p[[j, i, 0]] = i as f64;
                p[[j, i, 1]] = j as f64;
            }
        }
        p
    }

    #[test]
    fn nint_rounds_half_away_from_zero() {
        assert_eq!(nint(0.5), 1);
        assert_eq!(nint(-0.5), -1);
        assert_eq!(nint(2.5), 3);
        assert_eq!(nint(-2.5), -3);
        assert_eq!(nint(f64::NAN), i64::MIN);
        assert_eq!(nint(1e300), i64::MAX);
    }

    #[test]
    fn unit_square_fully_covered_has_area_one() {
        let x = [-0.5, 0.5, 0.5, -0.5];
        let y = [0.5, 0.5, -0.5, -0.5];
        assert_eq!(boxer(0.0, 0.0, &x, &y), 1.0);
        assert_eq!(boxer(1.0, 0.0, &x, &y), 0.0);
    }

    #[test]
    fn mirrored_quadrilateral_has_negative_area() {
        let x = [0.5, -0.5, -0.5, 0.5];
        let y = [0.5, 0.5, -0.5, -0.5];
        assert_eq!(boxer(0.0, 0.0, &x, &y), -1.0);
    }

    #[test]
    fn shifted_square_splits_area() {
        let x = [-0.25, 0.75, 0.75, -0.25];
        let y = [0.5, 0.5, -0.5, -0.5];
        assert!((boxer(0.0, 0.0, &x, &y) - 0.75).abs() < 1e-15);
        assert!((boxer(1.0, 0.0, &x, &y) - 0.25).abs() < 1e-15);
    }

    #[test]
    fn rotated_square_area_sums_to_one() {
        let th: f64 = 0.3;
        let (s, c) = th.sin_cos();
        let corners = [(-0.5, 0.5), (0.5, 0.5), (0.5, -0.5), (-0.5, -0.5)];
        let mut x = [0.0; 4];
        let mut y = [0.0; 4];
        for (k, &(a, b)) in corners.iter().enumerate() {
            x[k] = 3.2 + c * a - s * b;
            y[k] = 4.7 + s * a + c * b;
        }
        let mut total = 0.0;
        for jj in 0..10 {
            for ii in 0..10 {
                total += boxer(ii as f64, jj as f64, &x, &y);
            }
        }
        assert!((total - 1.0).abs() < 1e-14, "{total}");
    }

    /// drizzle#187: a quadrilateral with an edge exactly on the pixel
    /// boundary must not be counted twice.
    #[test]
    fn edge_on_pixel_boundary_counts_once() {
        let x = [0.5, 1.5, 1.5, 0.5];
        let y = [0.5, 0.5, -0.5, -0.5];
        assert_eq!(boxer(0.0, 0.0, &x, &y), 0.0);
        assert_eq!(boxer(1.0, 0.0, &x, &y), 1.0);
    }

    /// drizzle#189: vertices exactly on the corners of an output pixel and
    /// horizontal edges on its boundary.
    #[test]
    fn vertices_on_pixel_corners() {
        // A diamond whose vertices are the midpoints of the pixel edges.
        let x = [0.0, 0.5, 0.0, -0.5];
        let y = [0.5, 0.0, -0.5, 0.0];
        assert!((boxer(0.0, 0.0, &x, &y) - 0.5).abs() < 1e-15);
        // Triangle-like degenerate quadrilateral along the diagonal.
        let x = [-0.5, 0.5, 0.5, -0.5];
        let y = [0.5, 0.5, -0.5, 0.5];
        assert!((boxer(0.0, 0.0, &x, &y) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn interpolate_point_identity_and_extrapolation() {
        let p = identity(5, 6);
        let v = p.view();
        assert_eq!(interpolate_point(&v, 2.0, 3.0), (2.0, 3.0));
        assert_eq!(interpolate_point(&v, 2.25, 3.5), (2.25, 3.5));
        assert_eq!(interpolate_point(&v, -0.5, -0.5), (-0.5, -0.5));
        assert_eq!(interpolate_point(&v, 5.5, 4.5), (5.5, 4.5));
        let (a, b) = interpolate_point(&v, f64::NAN, 1.0);
        assert!(a.is_nan() && b.is_nan());
    }

    #[test]
    fn corners_interior_and_edge_forms_agree_on_identity() {
        let p = identity(6, 6);
        let v = p.view();
        let h = 0.5;
        let w = CornerWeights::new(h);
        for (i, j) in [(0usize, 0usize), (2, 2), (5, 5), (1, 3)] {
            let (xs, ys) = pixel_corners(&v, i, j, h, &w).unwrap();
            let fi = i as f64;
            let fj = j as f64;
            assert_eq!(xs, [fi - h, fi + h, fi + h, fi - h]);
            assert_eq!(ys, [fj + h, fj + h, fj - h, fj - h]);
        }
    }
}
