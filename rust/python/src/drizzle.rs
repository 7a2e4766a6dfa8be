//! Bindings of `pyspec_core::drizzle::add_image_with` and `context::decode`.

use ndarray::Axis;
use numpy::{PyArray2, PyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyspec_core::drizzle::{self, AddImage, Extra, Kernel, Outputs};

use crate::{ro, rw, to_py};

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
    data: Bound<'py, PyArray2<f32>>,
    weight: Bound<'py, PyArray2<f32>>,
    pixmap: Bound<'py, PyArray3<f64>>,
    out_img: Bound<'py, PyArray2<f32>>,
    out_wht: Bound<'py, PyArray2<f32>>,
    out_ctx: Option<Bound<'py, PyArray3<i32>>>,
    ctx_plane: usize,
    ctx_bit: u32,
    data2: Option<Vec<Option<Bound<'py, PyArray2<f32>>>>>,
    out_img2: Option<Vec<Bound<'py, PyArray2<f32>>>>,
    dq: Option<Bound<'py, PyArray2<u32>>>,
    out_dq: Option<Bound<'py, PyArray2<u32>>>,
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
    // Borrow every array without panicking (aliasing or read-only outputs
    // become ValueError); inputs first, then outputs.
    let data = ro(&data, "data")?;
    let weight = ro(&weight, "weight_map")?;
    let pixmap = ro(&pixmap, "pixmap")?;
    let data2 = data2
        .unwrap_or_default()
        .iter()
        .map(|d| d.as_ref().map(|a| ro(a, "data2")).transpose())
        .collect::<PyResult<Vec<_>>>()?;
    let dq = dq.as_ref().map(|a| ro(a, "dq")).transpose()?;
    let mut out_img = rw(&out_img, "out_img")?;
    let mut out_wht = rw(&out_wht, "out_wht")?;
    let mut out_ctx = out_ctx.as_ref().map(|a| rw(a, "out_ctx")).transpose()?;
    let mut out_img2 = out_img2
        .unwrap_or_default()
        .iter()
        .map(|a| rw(a, "out_img2"))
        .collect::<PyResult<Vec<_>>>()?;
    let mut out_dq = out_dq.as_ref().map(|a| rw(a, "out_dq")).transpose()?;

    let data_v = data.as_array();
    let weight_v = weight.as_array();
    let pixmap_v = pixmap.as_array();
    let extra = Extra {
        data2: data2
            .iter()
            .map(|d| d.as_ref().map(|a| a.as_array()))
            .collect(),
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
            Some((
                c.as_array_mut().index_axis_move(Axis(0), ctx_plane),
                ctx_bit,
            ))
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
        .detach(|| {
            drizzle::add_image_with(data_v, weight_v, pixmap_v, &extra, &params, &mut outputs)
        })
        .map_err(to_py)?;
    Ok((
        stats.nmiss,
        stats.nskip,
        stats.kernel.name(),
        stats.pscale_ratio,
    ))
}

/// Sorted ids of the inputs whose bits are set at `(x, y)` of a 3-D context image.
#[pyfunction]
fn decode_context(
    py: Python<'_>,
    context: Bound<'_, PyArray3<i32>>,
    x: usize,
    y: usize,
) -> PyResult<Vec<usize>> {
    let context = ro(&context, "context")?;
    let v = context.as_array();
    py.detach(|| drizzle::context::decode(&v, x, y))
        .map_err(to_py)
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
