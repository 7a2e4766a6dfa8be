//! Bindings of `pyspec_core::trace`.

use numpy::{IntoPyArray, PyArray1, PyArray2, ToPyArray};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyspec_core::trace::{self, Method, Mode, TraceInputs, TraceParams};

use crate::{ro, to_py};

/// One column model: `(column, t, c, scale, lo, hi, fallback)`.
type ColumnOut<'py> = (
    usize,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    f64,
    f32,
    f32,
    bool,
);

/// The adaptive trace model of one exposure (spec 5-9); see
/// `pyspec.trace.fit_and_oversample`. Returns a dict of output arrays
/// (and, with `with_models`, the column models of every region).
#[pyfunction]
#[pyo3(signature = (
    data, err, alpha, regions, *, mode, detector=None, grating=None, oversample=1.0,
    fit_threshold=10.0, slope_limit=0.1, psf_optimal=false, flux_density=false, dq=None,
    var_rnoise=None, var_poisson=None, var_flat=None, alpha_os=None, with_models=false,
    exact=false
))]
#[allow(clippy::too_many_arguments)]
fn trace_fit_and_oversample<'py>(
    py: Python<'py>,
    data: Bound<'py, PyArray2<f32>>,
    err: Bound<'py, PyArray2<f32>>,
    alpha: Bound<'py, PyArray2<f64>>,
    regions: Bound<'py, PyArray2<i32>>,
    mode: &str,
    detector: Option<String>,
    grating: Option<String>,
    oversample: f64,
    fit_threshold: f64,
    slope_limit: f64,
    psf_optimal: bool,
    flux_density: bool,
    dq: Option<Bound<'py, PyArray2<u32>>>,
    var_rnoise: Option<Bound<'py, PyArray2<f32>>>,
    var_poisson: Option<Bound<'py, PyArray2<f32>>>,
    var_flat: Option<Bound<'py, PyArray2<f32>>>,
    alpha_os: Option<Bound<'py, PyArray2<f64>>>,
    with_models: bool,
    exact: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let mode: Mode = mode.parse().map_err(to_py)?;
    let params = TraceParams {
        mode,
        detector,
        grating,
        oversample,
        fit_threshold,
        slope_limit,
        psf_optimal,
        flux_density,
        method: if exact {
            Method::Givens
        } else {
            Method::Householder
        },
    };
    let data = ro(&data, "data")?;
    let err = ro(&err, "err")?;
    let alpha = ro(&alpha, "alpha")?;
    let regions = ro(&regions, "regions")?;
    let dq = dq.as_ref().map(|a| ro(a, "dq")).transpose()?;
    let var_rnoise = var_rnoise
        .as_ref()
        .map(|a| ro(a, "var_rnoise"))
        .transpose()?;
    let var_poisson = var_poisson
        .as_ref()
        .map(|a| ro(a, "var_poisson"))
        .transpose()?;
    let var_flat = var_flat.as_ref().map(|a| ro(a, "var_flat")).transpose()?;
    let alpha_os = alpha_os.as_ref().map(|a| ro(a, "alpha_os")).transpose()?;
    let inputs = TraceInputs {
        data: data.as_array(),
        err: err.as_array(),
        alpha: alpha.as_array(),
        regions: regions.as_array(),
        dq: dq.as_ref().map(|a| a.as_array()),
        var_rnoise: var_rnoise.as_ref().map(|a| a.as_array()),
        var_poisson: var_poisson.as_ref().map(|a| a.as_array()),
        var_flat: var_flat.as_ref().map(|a| a.as_array()),
        alpha_os: alpha_os.as_ref().map(|a| a.as_array()),
    };
    let out = py
        .detach(|| trace::fit_and_oversample(&inputs, &params))
        .map_err(to_py)?;
    let d = PyDict::new(py);
    d.set_item("trace_model", out.trace_model.into_pyarray(py))?;
    d.set_item("data", out.data.into_pyarray(py))?;
    d.set_item("err", out.err.into_pyarray(py))?;
    d.set_item("dq", out.dq.into_pyarray(py))?;
    d.set_item("var_rnoise", out.var_rnoise.map(|a| a.into_pyarray(py)))?;
    d.set_item("var_poisson", out.var_poisson.map(|a| a.into_pyarray(py)))?;
    d.set_item("var_flat", out.var_flat.map(|a| a.into_pyarray(py)))?;
    d.set_item("regions", out.regions.into_pyarray(py))?;
    d.set_item("spline_full", out.spline_full.into_pyarray(py))?;
    d.set_item("spline_used", out.spline_used.into_pyarray(py))?;
    d.set_item(
        "linear_interp",
        out.linear_interp.map(|a| a.into_pyarray(py)),
    )?;
    d.set_item(
        "spline_residual",
        out.spline_residual.map(|a| a.into_pyarray(py)),
    )?;
    let failed: Vec<(i32, Vec<usize>)> = out
        .models
        .iter()
        .filter(|m| !m.failed_columns.is_empty())
        .map(|m| (m.id, m.failed_columns.clone()))
        .collect();
    d.set_item("failed_columns", failed)?;
    if with_models {
        let mut models: Vec<(i32, Vec<ColumnOut<'py>>)> = Vec::with_capacity(out.models.len());
        for m in &out.models {
            let cols = m
                .columns
                .iter()
                .map(|c| {
                    (
                        c.column,
                        c.model.knots().to_pyarray(py),
                        c.model.coefficients().to_pyarray(py),
                        c.scale,
                        c.bounds.0,
                        c.bounds.1,
                        c.fallback,
                    )
                })
                .collect();
            models.push((m.id, cols));
        }
        d.set_item("models", models)?;
    }
    Ok(d)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(trace_fit_and_oversample, m)?)?;
    Ok(())
}
