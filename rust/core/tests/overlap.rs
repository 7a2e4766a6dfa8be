//! Overlap-area edge cases: the numerical-instability cases behind drizzle
//! PR #191 / jwst#9599 (nearly vertical and nearly horizontal edges, vertices
//! on pixel boundaries) and the edge-effect flux losses of drizzle#182/#187.

use pyspec_core::drizzle::geometry::{boxer, sgarea};

/// Shoelace area of a quadrilateral.
fn shoelace(x: &[f64; 4], y: &[f64; 4]) -> f64 {
    let mut a = 0.0;
    for k in 0..4 {
        let n = (k + 1) % 4;
        a += x[k] * y[n] - x[n] * y[k];
    }
    -0.5 * a // P0..P3 is clockwise in a y-up frame
}

/// Sum of the overlap areas over every output pixel the quad can touch.
fn total_overlap(x: &[f64; 4], y: &[f64; 4]) -> f64 {
    let (x0, x1) = (
        x.iter().cloned().fold(f64::INFINITY, f64::min),
        x.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
    );
    let (y0, y1) = (
        y.iter().cloned().fold(f64::INFINITY, f64::min),
        y.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
    );
    let mut total = 0.0;
    for jj in (y0.round() as i64 - 1)..=(y1.round() as i64 + 1) {
        for ii in (x0.round() as i64 - 1)..=(x1.round() as i64 + 1) {
            let a = boxer(ii as f64, jj as f64, x, y);
            assert!(a.is_finite(), "non-finite area at ({ii}, {jj})");
            assert!(a.abs() <= 1.0 + 1e-12, "area {a} > 1 at ({ii}, {jj})");
            total += a;
        }
    }
    total
}

/// A unit pixel centred at (cx, cy), rotated by `th`, in the P0..P3 order.
fn pixel(cx: f64, cy: f64, th: f64, h: f64) -> ([f64; 4], [f64; 4]) {
    let (s, c) = th.sin_cos();
    let corners = [(-h, h), (h, h), (h, -h), (-h, -h)];
    let mut x = [0.0; 4];
    let mut y = [0.0; 4];
    for (k, (a, b)) in corners.iter().enumerate() {
        x[k] = cx + c * a - s * b;
        y[k] = cy + s * a + c * b;
    }
    (x, y)
}

#[test]
fn nearly_vertical_edges_give_stable_areas() {
    // jwst#9599: edges with |dx| ~ 1e-12..1e-17 made the old slope-based
    // formula blow up; the area must stay within [0, 1] and sum to the pixel.
    for &eps in &[1e-9, 1e-12, 1e-14, 1e-15, 1e-16, 1e-17, 0.0] {
        for &cx in &[10.0, 10.5, 10.25, 10.499_999_999_999] {
            let (x, y) = pixel(cx, 20.3, eps, 0.5);
            let total = total_overlap(&x, &y);
            assert!(
                (total - shoelace(&x, &y)).abs() < 1e-12,
                "eps {eps} cx {cx}: {total}"
            );
        }
    }
}

#[test]
fn nearly_horizontal_edges_give_stable_areas() {
    for &eps in &[1e-9, 1e-13, 1e-16, -1e-16, -1e-13] {
        for &cy in &[3.0, 3.5, 3.499_999_999_999_9, 2.500_000_000_000_1] {
            let (x, y) = pixel(7.2, cy, eps, 0.5);
            let total = total_overlap(&x, &y);
            assert!((total - 1.0).abs() < 1e-12, "eps {eps} cy {cy}: {total}");
        }
    }
}

#[test]
fn vertices_exactly_on_pixel_boundaries_and_corners() {
    // every vertex on a pixel corner: the pixel (0, 0) is covered exactly once
    let x = [-0.5, 0.5, 0.5, -0.5];
    let y = [0.5, 0.5, -0.5, -0.5];
    assert_eq!(boxer(0.0, 0.0, &x, &y), 1.0);
    for (ii, jj) in [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0), (1.0, 1.0)] {
        assert_eq!(boxer(ii, jj, &x, &y), 0.0, "neighbour ({ii}, {jj})");
    }
    // a pixel shifted by exactly half a pixel splits 50/50
    let (x, y) = pixel(0.5, 0.0, 0.0, 0.5);
    assert_eq!(boxer(0.0, 0.0, &x, &y), 0.5);
    assert_eq!(boxer(1.0, 0.0, &x, &y), 0.5);
}

#[test]
fn degenerate_and_mirrored_quads() {
    // zero-area quad: all areas 0
    let x = [1.0; 4];
    let y = [2.0; 4];
    assert_eq!(total_overlap(&x, &y), 0.0);
    // mirrored pixel: negative area of the same magnitude
    let (x, y) = pixel(4.3, 5.6, 0.3, 0.5);
    let xm = [x[1], x[0], x[3], x[2]];
    let ym = [y[1], y[0], y[3], y[2]];
    assert!((total_overlap(&xm, &ym) + 1.0).abs() < 1e-12);
}

#[test]
fn rotated_shrunken_pixels_conserve_area_at_any_phase() {
    let mut state = 12345u64;
    let mut rnd = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..2000 {
        let (cx, cy, th, pf) = (
            50.0 + 3.0 * rnd(),
            80.0 + 3.0 * rnd(),
            6.3 * rnd(),
            0.05 + 1.5 * rnd(),
        );
        let (x, y) = pixel(cx, cy, th, 0.5 * pf);
        let total = total_overlap(&x, &y);
        assert!(
            (total - pf * pf).abs() < 1e-12,
            "{cx} {cy} {th} {pf}: {total}"
        );
    }
}

#[test]
fn sgarea_edge_cases() {
    assert_eq!(sgarea(0.2, 0.3, 0.2, 0.9), 0.0); // vertical
    assert_eq!(sgarea(1.0, 0.5, 2.0, 0.5), 0.0); // right of the square
    assert_eq!(sgarea(-1.0, 0.5, 0.0, 0.5), 0.0); // left of the square
    assert_eq!(sgarea(0.0, -0.5, 1.0, -0.5), 0.0); // below
    assert_eq!(sgarea(0.0, 1.5, 1.0, 1.5), 1.0); // above: full column
    assert_eq!(sgarea(1.0, 1.5, 0.0, 1.5), -1.0); // reversed direction
    assert!((sgarea(0.0, 0.5, 1.0, 0.5) - 0.5).abs() < 1e-15);
}
