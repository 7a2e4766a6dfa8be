//! Outlier-detection primitives (spec `outlier_detection.md` §4.3–4.5,
//! §5.3, §5.7–5.9): the derivative image, the single- and two-threshold
//! tests, the weight threshold of the median mask, the zero-padded median
//! filter, the TSO rolling median along time and the IFU neighbour-difference
//! and percentile primitives.
//!
//! Every function reproduces the numerics of the stcal/jwst function named
//! in its documentation (same element types, same order of operations) and
//! is bitwise identical for any number of threads: work is split over output
//! rows and every output value is computed by the same sequence of
//! operations whatever the split.
//!
//! ```
//! use ndarray::Array2;
//! use pyspec_core::outlier::{flag_resampled_crs, ResampledCrParams};
//!
//! let mut sci = Array2::<f32>::zeros((10, 10));
//! sci[[2, 3]] = 10.0; // a cosmic ray
//! let err = Array2::<f32>::ones((10, 10));
//! let blot = Array2::<f32>::zeros((10, 10));
//! let mask = flag_resampled_crs(sci.view(), err.view(), blot.view(), &ResampledCrParams::default()).unwrap();
//! assert!(mask[[2, 3]]);
//! assert_eq!(mask.iter().filter(|&&m| m).count(), 1);
//! ```

mod filters;
mod flags;
mod ifu;
mod threshold;

pub use filters::{medfilt, rolling_median};
pub use flags::{abs_deriv, flag_crs, flag_resampled_crs, ResampledCrParams};
pub use ifu::{ifu_flag, min_neighbour_diff, nanmedian_all, nanpercentile, IfuFlags, DO_NOT_USE};
pub use threshold::weight_threshold;
