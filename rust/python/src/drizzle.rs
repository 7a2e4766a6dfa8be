//! Bindings of `pyspec_core::drizzle::add_image_with` and `context::decode`.

use ndarray::Axis;
use numpy::{PyReadonlyArray2, PyReadonlyArray3, PyReadwriteArray2, PyReadwriteArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyspec_core::drizzle::{self, AddImage, Extra, Kernel, Outputs};

use crate::to_py;

/// Drizzle one image onto the output arrays in place (spec drizzle.md 3-7).
///
/// Returns `(nmiss, nskip, kernel_used, pixel_scale_ratio_used)`.
#[pyfunction]
#[pyo3(signature = (
    data, weight, pixmap, out_img, out_wht, *, out_ctx=None, ctx_plane=0, ctx_bit=0,
    data2=None, out_img2=None, dq=None, out_dq=None, kernel="square", pixfrac=1.0,
    iscale=1.0, wtscale=1.0, pscale_ratio=None, xmin=0, xmax=None, ymin=0, ymax=None,
    fill=None, fill2=None
))]
#[allow(clippy::too_many_arguments)]
fn add_image<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f32>,
    weight: PyReadonlyArray2<'py, f32>,
    pixmap: PyReadonlyArray3<'py, f64>,
    mut out_img: PyReadwriteArray2<'py, f32>,
    mut out_wht: PyReadwriteArray2<'py, f32>,
    out_ctx: Option<PyReadwriteArray3<'py, i32>>,
    ctx_plane: usize,
    ctx_bit: u32,
    data2: Option<Vec<Option<PyReadonlyArray2<'py, f32>>>>,
    out_img2: Option<Vec<PyReadwriteArray2<'py, f32>>>,
    dq: Option<PyReadonlyArray2<'py, u32>>,
    out_dq: Option<PyReadwriteArray2<'py, u32>>,
    kernel: &str,
    pixfrac: f64,
    iscale: f32,
    wtscale: f32,
    pscale_ratio: Option<f32>,
    xmin: usize,
    xmax: Option<usize>,
    ymin: usize,
    ymax: Option<usize>,
    fill: Option<f32>,
    fill2: Option<f32>,
) -> PyResult<(usize, usize, &'static str, f32)> {
    let kernel: Kernel = kernel.parse().map_err(to_py)?;
    let params = AddImage {
        kernel,
        pixfrac,
        iscale,
        wtscale,
        pscale_ratio,
        xmin,
        xmax,
        ymin,
        ymax,
        fill,
        fill2,
    };
    let data2 = data2.unwrap_or_default();
    let mut out_img2 = out_img2.unwrap_or_default();
    let mut out_ctx = out_ctx;
    let mut out_dq = out_dq;

    let data_v = data.as_array();
    let weight_v = weight.as_array();
    let pixmap_v = pixmap.as_array();
    let extra = Extra {
        data2: data2.iter().map(|d| d.as_ref().map(|a| a.as_array())).collect(),
        dq: dq.as_ref().map(|a| a.as_array()),
    };
    let ctx = match out_ctx.as_mut() {
        Some(c) => {
            let planes = c.as_array().shape()[0];
            if ctx_plane >= planes {
                return Err(PyValueError::new_err(format!(
                    "context plane {ctx_plane} does not exist (out_ctx has {planes} planes)"
                )));
            }
            Some((c.as_array_mut().index_axis_move(Axis(0), ctx_plane), ctx_bit))
        }
        None => None,
    };
    let mut outputs = Outputs {
        img: out_img.as_array_mut(),
        wht: out_wht.as_array_mut(),
        ctx,
        img2: out_img2.iter_mut().map(|a| a.as_array_mut()).collect(),
        dq: out_dq.as_mut().map(|a| a.as_array_mut()),
    };
    let stats = py
        .detach(|| drizzle::add_image_with(data_v, weight_v, pixmap_v, &extra, &params, &mut outputs))
        .map_err(to_py)?;
    Ok((stats.nmiss, stats.nskip, stats.kernel.name(), stats.pscale_ratio))
}

/// Sorted ids of the inputs whose bits are set at `(x, y)` of a 3-D context image.
#[pyfunction]
fn decode_context(py: Python<'_>, context: PyReadonlyArray3<'_, i32>, x: usize, y: usize) -> PyResult<Vec<usize>> {
    let v = context.as_array();
    py.detach(|| drizzle::context::decode(&v, x, y)).map_err(to_py)
}

/// Values of the Lanczos look-up table of order `n` (diagnostics and tests).
#[pyfunction]
fn lanczos_lut(n: usize) -> Vec<f64> {
    drizzle::lanczos_lut(n)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add_image, m)?)?;
    m.add_function(wrap_pyfunction!(decode_context, m)?)?;
    m.add_function(wrap_pyfunction!(lanczos_lut, m)?)?;
    Ok(())
}
