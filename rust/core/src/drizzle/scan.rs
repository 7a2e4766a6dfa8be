//! Scan region (spec drizzle.md section 6): which input pixels a drizzle call
//! visits. PLACEHOLDER: valid box only (6.1), every row fully.

use ndarray::ArrayView3;

use crate::{Error, Result};

/// The input pixels to visit, row by row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanRegion {
    /// `(j, i_lo, i_hi)`: input row `j` (ascending) and its inclusive column range.
    pub rows: Vec<(usize, usize, usize)>,
    /// Centroid `(x, y)` of the scan polygon in input coordinates (used by the
    /// reference's pixel-scale-ratio estimate); `None` when nothing is visited.
    pub centroid: Option<(f64, f64)>,
}

/// Compute the scan region of an input box `[xmin, xmax] x [ymin, ymax]`
/// (inclusive, already clipped to the image) for an output of `out_shape =
/// (ny, nx)`.
pub fn scan_region(
    pixmap: &ArrayView3<f64>,
    xmin: usize,
    xmax: usize,
    ymin: usize,
    ymax: usize,
    out_shape: (usize, usize),
) -> Result<ScanRegion> {
    let _ = out_shape;
    let valid = |i: usize, j: usize| !pixmap[[j, i, 0]].is_nan() && !pixmap[[j, i, 1]].is_nan();
    let (mut imin, mut jmin) = (usize::MAX, usize::MAX);
    for j in ymin..=ymax {
        for i in xmin..=xmax {
            if valid(i, j) {
                if jmin == usize::MAX {
                    jmin = j;
                }
                imin = imin.min(i);
                break;
            }
        }
    }
    let too_few = || Error::value("No or too few valid pixels in the pixel map.");
    if jmin == usize::MAX {
        return Err(too_few());
    }
    let (mut imax, mut jmax) = (imin, jmin);
    let mut found_row = false;
    for j in (ymin..=ymax).rev() {
        for i in (xmin..=xmax).rev() {
            if valid(i, j) {
                if !found_row {
                    jmax = j;
                    found_row = true;
                }
                imax = imax.max(i);
                break;
            }
        }
    }
    if imin >= imax || jmin >= jmax {
        return Err(too_few());
    }
    Ok(ScanRegion {
        rows: (jmin..=jmax).map(|j| (j, imin, imax)).collect(),
        centroid: Some(((imin + imax) as f64 / 2.0, (jmin + jmax) as f64 / 2.0)),
    })
}
