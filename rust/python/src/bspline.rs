//! Bindings of `pyspec_core::bspline`.

use numpy::{PyArray1, ToPyArray};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyspec_core::bspline::{self, BSpline, FitParams, FitWork, Method, Stop};

use crate::{ro, to_py};

/// Result of `bspline_fit` handed to Python: knots, coefficients, the
/// `(rejected, kept)` history and the stop reason.
type FitOut<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Vec<(usize, usize)>,
    &'static str,
);

fn stop_name(s: Stop) -> &'static str {
    match s {
        Stop::NoFit => "no_fit",
        Stop::MaxIterations => "max_iterations",
        Stop::Converged => "converged",
        Stop::TooManyRejected => "too_many_rejected",
        Stop::FitFailed => "fit_failed",
    }
}

/// Least-squares cubic B-spline fit with rejection (spec 6.3).
///
/// `x` is float32 or float64 (the precision of the knot arithmetic);
/// `y` float32 or float64. Returns `None` when the fit fails, else
/// `(t, c, history, stop)`. Raises `ValueError` where the reference raises.
#[pyfunction]
#[pyo3(signature = (x, y, nbkpts, wrapsig_low, wrapsig_high, wrapiter, space_ratio, exact=true))]
#[allow(clippy::too_many_arguments)]
fn bspline_fit<'py>(
    py: Python<'py>,
    x: Bound<'py, PyAny>,
    y: Bound<'py, PyAny>,
    nbkpts: i64,
    wrapsig_low: f64,
    wrapsig_high: f64,
    wrapiter: i64,
    space_ratio: f64,
    exact: bool,
) -> PyResult<Option<FitOut<'py>>> {
    let params = FitParams {
        nbkpts,
        sigma_low: wrapsig_low,
        sigma_high: wrapsig_high,
        iterations: wrapiter,
        space_ratio,
        method: if exact {
            Method::Givens
        } else {
            Method::Householder
        },
    };
    let yv: Vec<f64> = if let Ok(a) = y.cast::<PyArray1<f64>>() {
        ro(a, "y")?.as_array().to_vec()
    } else if let Ok(a) = y.cast::<PyArray1<f32>>() {
        ro(a, "y")?
            .as_array()
            .iter()
            .map(|&v| f64::from(v))
            .collect()
    } else {
        return Err(PyTypeError::new_err(
            "y must be a 1-D float32 or float64 array",
        ));
    };
    let (res, hist, stop) = if let Ok(a) = x.cast::<PyArray1<f32>>() {
        let xv = ro(a, "x")?.as_array().to_vec();
        py.detach(|| {
            let mut w = FitWork::<f32>::new();
            let r = bspline::bspline_fit_with(&xv, &yv, &params, &mut w);
            (r, w.history, w.stop)
        })
    } else if let Ok(a) = x.cast::<PyArray1<f64>>() {
        let xv = ro(a, "x")?.as_array().to_vec();
        py.detach(|| {
            let mut w = FitWork::<f64>::new();
            let r = bspline::bspline_fit_with(&xv, &yv, &params, &mut w);
            (r, w.history, w.stop)
        })
    } else {
        return Err(PyTypeError::new_err(
            "x must be a 1-D float32 or float64 array",
        ));
    };
    Ok(res.map_err(to_py)?.map(|s| {
        (
            s.knots().to_pyarray(py),
            s.coefficients().to_pyarray(py),
            hist,
            stop_name(stop),
        )
    }))
}

/// Evaluate the cubic spline `(t, c)` at `x` (float64, any length) with
/// extrapolation, as `scipy.interpolate.BSpline(t, c, 3)(x)`.
#[pyfunction]
fn bspline_eval<'py>(
    py: Python<'py>,
    t: Bound<'py, PyArray1<f64>>,
    c: Bound<'py, PyArray1<f64>>,
    x: Bound<'py, PyArray1<f64>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let t = ro(&t, "t")?.as_array().to_vec();
    let c = ro(&c, "c")?.as_array().to_vec();
    let spline = BSpline::new(t, c).map_err(to_py)?;
    let xr = ro(&x, "x")?;
    let xv = xr.as_array();
    let out = py.detach(|| {
        let xs: Vec<f64> = xv.iter().copied().collect();
        let mut out = vec![0.0; xs.len()];
        spline.eval_slice(&xs, &mut out);
        out
    });
    Ok(out.to_pyarray(py))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bspline_fit, m)?)?;
    m.add_function(wrap_pyfunction!(bspline_eval, m)?)?;
    Ok(())
}
