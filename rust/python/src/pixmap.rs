//! Bindings of `pyspec_core::interp::interpolate_grid_into` (sparse
//! pixel-map interpolation, spec drizzle.md 2.2).

use numpy::{IntoPyArray, PyArray1, PyArray3, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyspec_core::interp::{self, Order, Window};

use crate::to_py;

/// Interpolate grid-node values onto every integer pixel of a window, in place.
///
/// `values[k, l, c]` is component `c` at pixel `(x_nodes[l], y_nodes[k])`.
/// Every value of `out` (C-contiguous, `(ny, nx, ncomp)`) is written: NaN
/// outside the half-open window `x_range` x `y_range` and at the window
/// pixels that cannot be interpolated from finite nodes, which are returned
/// (row-major) as `(missing_y, missing_x)`.
#[pyfunction]
#[pyo3(signature = (x_nodes, y_nodes, values, order, x_range, y_range, out))]
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn interp_grid<'py>(
    py: Python<'py>,
    x_nodes: PyReadonlyArray1<'py, f64>,
    y_nodes: PyReadonlyArray1<'py, f64>,
    values: PyReadonlyArray3<'py, f64>,
    order: i64,
    x_range: (usize, usize),
    y_range: (usize, usize),
    out: Bound<'py, PyArray3<f64>>,
) -> PyResult<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>)> {
    let order = Order::from_degree(order).map_err(to_py)?;
    let xn = x_nodes.as_array().to_vec();
    let yn = y_nodes.as_array().to_vec();
    let v = values.as_array();
    let window = Window {
        x: x_range.0..x_range.1,
        y: y_range.0..y_range.1,
    };
    // try_readwrite: a read-only or already borrowed `out` is an error, not a panic.
    let mut out = out
        .try_readwrite()
        .map_err(|e| PyValueError::new_err(format!("cannot write to `out`: {e}")))?;
    let out_v = out.as_array_mut();
    let missing = py
        .detach(|| interp::interpolate_grid_into(&xn, &yn, v, order, &window, out_v))
        .map_err(to_py)?;
    // Pixel indices fit in i64: they index an existing array.
    let (my, mx): (Vec<i64>, Vec<i64>) = missing.iter().map(|&(j, i)| (j as i64, i as i64)).unzip();
    Ok((my.into_pyarray(py), mx.into_pyarray(py)))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(interp_grid, m)?)?;
    Ok(())
}
