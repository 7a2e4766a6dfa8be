//! # pyspec-core
//!
//! The numerical engine behind the `pyspec` Python package: bit-exact, parallel
//! re-implementations of the JWST pipeline's drizzle resampling (with context
//! bitfield images and blot), the outlier-detection primitives and the adaptive
//! trace model. Pure Rust: `ndarray` views in, owned arrays or caller-supplied
//! outputs out, `rayon` for parallelism.
//!
//! Pixel convention everywhere: arrays are `(row, column) = (y, x)`; pixel
//! `(x, y)` is 0-based with integer coordinates at pixel centres.
//!
//! Parallel results are bitwise identical to one-thread results: work is
//! partitioned over *output* rows and every output pixel receives its
//! contributions in the reference order whatever the thread count.
//!
//! ```
//! use ndarray::{Array2, Array3};
//! use pyspec_core::drizzle::{add_image, AddImage, Kernel, Outputs};
//!
//! // A 4x4 input drizzled with an identity pixel map onto a 4x4 output.
//! let data = Array2::<f32>::from_elem((4, 4), 2.0);
//! let weight = Array2::<f32>::ones((4, 4));
//! let mut pixmap = Array3::<f64>::zeros((4, 4, 2));
//! for j in 0..4 {
//!     for i in 0..4 {
//!         pixmap[[j, i, 0]] = i as f64;
//!         pixmap[[j, i, 1]] = j as f64;
//!     }
//! }
//! let mut img = Array2::<f32>::zeros((4, 4));
//! let mut wht = Array2::<f32>::zeros((4, 4));
//! let params = AddImage::new(Kernel::Square);
//! let mut out = Outputs::new(img.view_mut(), wht.view_mut());
//! add_image(data.view(), weight.view(), pixmap.view(), &params, &mut out).unwrap();
//! assert_eq!(img[[1, 1]], 2.0);
//! assert_eq!(wht[[1, 1]], 1.0);
//! ```

//!
//! ## Example: a two-exposure mosaic with a context image
//!
//! The program `examples/drizzle_mosaic.rs` (run it with `cargo run --release
//! -p pyspec-core --example drizzle_mosaic`), also compiled and run as a doc test:
//!
#![doc = concat!("```\n", include_str!("../examples/drizzle_mosaic.rs"), "\n```")]
#![deny(missing_docs)]

pub mod bspline;
pub mod drizzle;
pub mod error;
pub mod interp;
pub mod median;
pub mod outlier;
pub mod parallel;
/// The floating-point element types (`f32`, `f64`) shared by all kernels.
pub mod real;
pub mod trace;

pub use error::{Error, Result};
