//! Reproducer (found while writing the fuzz targets): the public pixel-map
//! helpers `geometry::interpolate_point` and `geometry::pixel_corners` panic
//! (`clamp` with `min > max`: "min = 0, max = -1") on a pixel map with fewer
//! than 2 rows or 2 columns, including an empty one. `add_image` never calls
//! them with such maps (it rejects inputs smaller than 2x2 first) and
//! `scan::scan_region` returns an error for them, but as public functions they
//! should not panic on user-controlled shapes (DESIGN, Rust conventions).
//! Expected: `(NaN, NaN)` from `interpolate_point` (no point of such a map can
//! be interpolated bilinearly) and `None` from `pixel_corners`.
//!
//! (Fixed: too-small maps give NaN / None.)

use ndarray::Array3;
use pyspec_core::drizzle::geometry::{interpolate_point, pixel_corners, CornerWeights};

#[test]
fn pixel_map_helpers_do_not_panic_on_maps_smaller_than_two_by_two() {
    for (ny, nx) in [(1usize, 5usize), (5, 1), (1, 1), (0, 3), (3, 0)] {
        let pm = Array3::<f64>::from_elem((ny, nx, 2), 1.0);
        let v = pm.view();
        let (x, y) = interpolate_point(&v, 0.5, 0.5);
        assert!(x.is_nan() && y.is_nan(), "{ny}x{nx}: ({x}, {y})");
        if ny > 0 && nx > 0 {
            assert!(
                pixel_corners(&v, 0, 0, 0.5, &CornerWeights::new(0.5)).is_none(),
                "{ny}x{nx}"
            );
        }
    }
}
