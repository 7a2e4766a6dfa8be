//! Overlap area of a quadrilateral with output pixels (`boxer`, `sgarea`) and
//! the pixel-map interpolation behind the square kernel's corners
//! (`interpolate_point`, `pixel_corners`).
//!
//! * Any input (NaN, inf, huge): no panic.
//! * Finite, moderate vertices: the signed areas summed over a grid of output
//!   pixels covering the quadrilateral equal its (shoelace) signed area, and
//!   no single output pixel gets more than its own area (|A| <= 1 + eps): a
//!   quadrilateral's winding number is at most 1 in magnitude.
//! * Corners of a shrunken input pixel on an affine pixel map are the affine
//!   image of the shrunken square (both the interior and the edge formula).

#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ndarray::Array3;
use pyspec_core::drizzle::geometry::{
    boxer, interpolate_point, pixel_corners, sgarea, CornerWeights,
};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});

fn run(u: &mut Unstructured) -> Result<()> {
    match u.int_in_range(0u8..=3)? {
        0 => raw(u),
        1 | 2 => area_identity(u),
        _ => corners(u),
    }
}

/// Arbitrary bits everywhere: only "does not panic".
fn raw(u: &mut Unstructured) -> Result<()> {
    let mut x = [0.0f64; 4];
    let mut y = [0.0f64; 4];
    for k in 0..4 {
        x[k] = common::any_f64(u)?;
        y[k] = common::any_f64(u)?;
    }
    let ii = common::any_f64(u)?;
    let jj = common::any_f64(u)?;
    std::hint::black_box(boxer(ii, jj, &x, &y));
    for k in 0..4 {
        let n = (k + 1) % 4;
        std::hint::black_box(sgarea(x[k], y[k], x[n], y[n]));
    }
    Ok(())
}

/// Signed shoelace area with the orientation convention of `boxer`
/// (clockwise in a y-up frame is positive).
fn shoelace(x: &[f64; 4], y: &[f64; 4]) -> f64 {
    let mut s = 0.0;
    for k in 0..4 {
        let n = (k + 1) % 4;
        s += x[n] * y[k] - x[k] * y[n];
    }
    0.5 * s
}

fn area_identity(u: &mut Unstructured) -> Result<()> {
    // A centre somewhere in a 40x40 field and vertices within +-6 of it
    // (any shape: convex, concave, self-intersecting, degenerate).
    let cx = common::moderate_f64(u, 20.0)? + 20.0;
    let cy = common::moderate_f64(u, 20.0)? + 20.0;
    let size = match u.int_in_range(0u8..=3)? {
        0 => 1e-6,
        1 => 0.5,
        2 => 2.0,
        _ => 6.0,
    };
    let mut x = [0.0f64; 4];
    let mut y = [0.0f64; 4];
    for k in 0..4 {
        x[k] = cx + common::moderate_f64(u, size)?;
        y[k] = cy + common::moderate_f64(u, size)?;
    }
    let (xlo, xhi) = x
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let (ylo, yhi) = y
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let i0 = (xlo.floor() as i64) - 1;
    let i1 = (xhi.ceil() as i64) + 1;
    let j0 = (ylo.floor() as i64) - 1;
    let j1 = (yhi.ceil() as i64) + 1;
    let mut total = 0.0f64;
    let mut npix = 0usize;
    for jj in j0..=j1 {
        for ii in i0..=i1 {
            let a = boxer(ii as f64, jj as f64, &x, &y);
            assert!(
                a.is_finite(),
                "non-finite area {a} at ({ii},{jj}) for x={x:?} y={y:?}"
            );
            assert!(
                a.abs() <= 1.0 + 1e-9,
                "|area| {a} > 1 at ({ii},{jj}) for x={x:?} y={y:?}"
            );
            // a pixel that does not meet the bounding box gets nothing (up to
            // the rounding of the telescoping sum of clipped edge lengths)
            if (ii as f64) + 0.5 <= xlo
                || (ii as f64) - 0.5 >= xhi
                || (jj as f64) + 0.5 <= ylo
                || (jj as f64) - 0.5 >= yhi
            {
                assert!(
                    a.abs() <= 1e-12,
                    "area {a} at ({ii},{jj}) outside the box; x={x:?} y={y:?}"
                );
            }
            total += a;
            npix += 1;
        }
    }
    let want = shoelace(&x, &y);
    let tol = 1e-11 * (1.0 + npix as f64) + 1e-12 * want.abs();
    assert!(
        (total - want).abs() <= tol,
        "sum of pixel areas {total} != shoelace {want} (diff {}) for x={x:?} y={y:?}",
        total - want
    );
    Ok(())
}

fn corners(u: &mut Unstructured) -> Result<()> {
    let ny = u.int_in_range(2usize..=7)?;
    let nx = u.int_in_range(2usize..=7)?;
    let (mut m, _, _) = common::pixmap(u, ny, nx, 16, 16)?;
    let affine = u.arbitrary::<bool>()?;
    let (x0, y0, a, b, c, d) = (
        common::moderate_f64(u, 10.0)?,
        common::moderate_f64(u, 10.0)?,
        common::coef(u)?,
        common::coef(u)?,
        common::coef(u)?,
        common::coef(u)?,
    );
    if affine {
        for j in 0..ny {
            for i in 0..nx {
                let k = 2 * (j * nx + i);
                m[k] = x0 + a * i as f64 + b * j as f64;
                m[k + 1] = y0 + c * i as f64 + d * j as f64;
            }
        }
    }
    let map = Array3::from_shape_vec((ny, nx, 2), m).expect("shape");
    let v = map.view();
    // arbitrary points, including NaN/inf/huge and far extrapolation
    for _ in 0..4 {
        let px = common::any_f64(u)?;
        let py = common::any_f64(u)?;
        let (qx, qy) = interpolate_point(&v, px, py);
        if affine && px.abs() < 1e3 && py.abs() < 1e3 {
            let (ex, ey) = (x0 + a * px + b * py, y0 + c * px + d * py);
            assert!(
                (qx - ex).abs() <= 1e-9 * (1.0 + ex.abs()) && (qy - ey).abs() <= 1e-9 * (1.0 + ey.abs()),
                "interpolate_point({px}, {py}) = ({qx}, {qy}) on an affine map; expected ({ex}, {ey})"
            );
        }
    }
    let pf = match u.int_in_range(0u8..=3)? {
        0 => common::any_f64(u)?,
        1 => 1.0,
        2 => 0.7,
        _ => u.int_in_range(1u16..=4000)? as f64 / 1000.0,
    };
    let h = 0.5 * pf;
    let w = CornerWeights::new(h);
    let i = u.int_in_range(0..=nx - 1)?;
    let j = u.int_in_range(0..=ny - 1)?;
    let got = pixel_corners(&v, i, j, h, &w);
    if let Some((xs, ys)) = got {
        assert!(
            xs.iter().chain(ys.iter()).all(|q| !q.is_nan()),
            "NaN corner returned"
        );
        if affine && pf.is_finite() && pf.abs() <= 4.0 {
            let (fi, fj) = (i as f64, j as f64);
            let pts = [
                (fi - h, fj + h),
                (fi + h, fj + h),
                (fi + h, fj - h),
                (fi - h, fj - h),
            ];
            for (k, &(pxk, pyk)) in pts.iter().enumerate() {
                let (ex, ey) = (x0 + a * pxk + b * pyk, y0 + c * pxk + d * pyk);
                assert!(
                    (xs[k] - ex).abs() <= 1e-9 * (1.0 + ex.abs())
                        && (ys[k] - ey).abs() <= 1e-9 * (1.0 + ey.abs()),
                    "corner {k} of pixel ({i},{j}) pf={pf}: ({}, {}) expected ({ex}, {ey})",
                    xs[k],
                    ys[k]
                );
            }
            // the overlap areas over the output grid add up to the shrunken
            // pixel's signed area (= the square kernel's jacobian)
            if xs.iter().chain(ys.iter()).all(|q| q.abs() < 1e4) {
                let jaco =
                    0.5 * ((xs[1] - xs[3]) * (ys[0] - ys[2]) - (xs[0] - xs[2]) * (ys[1] - ys[3]));
                let (xlo, xhi) = (
                    xs.iter().cloned().fold(f64::MAX, f64::min),
                    xs.iter().cloned().fold(f64::MIN, f64::max),
                );
                let (ylo, yhi) = (
                    ys.iter().cloned().fold(f64::MAX, f64::min),
                    ys.iter().cloned().fold(f64::MIN, f64::max),
                );
                let mut total = 0.0;
                let mut npix = 0usize;
                for jj in (ylo.floor() as i64 - 1)..=(yhi.ceil() as i64 + 1) {
                    for ii in (xlo.floor() as i64 - 1)..=(xhi.ceil() as i64 + 1) {
                        total += boxer(ii as f64, jj as f64, &xs, &ys);
                        npix += 1;
                    }
                }
                assert!(
                    (total - jaco).abs() <= 1e-10 * (1.0 + npix as f64) + 1e-12 * jaco.abs(),
                    "overlap sum {total} != jacobian {jaco} for pixel ({i},{j}) pf={pf}"
                );
            }
        }
    }
    Ok(())
}
