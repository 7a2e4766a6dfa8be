//! Binding of `pyspec_core::drizzle::blot::blot`.

use numpy::{PyArray2, PyArray3};
use pyo3::prelude::*;
use pyspec_core::drizzle::blot::{blot as core_blot, Interp};

use crate::{ro, rw, to_py};

/// Blot `data` into `out` (float32, shape `pixmap.shape[:2]`) in place at the
/// positions of `pixmap` (spec drizzle.md 9). `interp` is one of "nearest",
/// "linear", "poly3", "poly5", "sinc", "lsinc", "lan3", "lan5".
#[pyfunction]
#[pyo3(signature = (data, pixmap, out, interp="poly5", iscale=1.0, sinscl=1.0, fillval=0.0))]
#[allow(clippy::too_many_arguments)]
fn blot<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyArray2<f32>>,
    pixmap: &Bound<'py, PyArray3<f64>>,
    out: &Bound<'py, PyArray2<f32>>,
    interp: &str,
    iscale: f32,
    sinscl: f32,
    fillval: f32,
) -> PyResult<()> {
    let interp: Interp = interp.parse().map_err(to_py)?;
    let data = ro(data, "data")?;
    let pixmap = ro(pixmap, "pixmap")?;
    let mut out = rw(out, "out")?;
    let data_v = data.as_array();
    let pixmap_v = pixmap.as_array();
    let out_v = out.as_array_mut();
    py.detach(|| core_blot(data_v, pixmap_v, out_v, interp, iscale, sinscl, fillval))
        .map_err(to_py)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(blot, m)?)?;
    Ok(())
}
