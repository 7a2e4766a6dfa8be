//! The float32-or-float64 array arguments of the median and outlier
//! bindings, and the `TypeError` for anything else.

use numpy::{PyArray2, PyArray3, PyArrayDyn, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// A float32 or float64 array of any dimension.
#[derive(FromPyObject)]
pub(crate) enum DynF<'py> {
    F32(Bound<'py, PyArrayDyn<f32>>),
    F64(Bound<'py, PyArrayDyn<f64>>),
}

/// A float32 or float64 2-D array.
#[derive(FromPyObject)]
pub(crate) enum F2<'py> {
    F32(Bound<'py, PyArray2<f32>>),
    F64(Bound<'py, PyArray2<f64>>),
}

/// A float32 or float64 3-D array.
#[derive(FromPyObject)]
pub(crate) enum F3<'py> {
    F32(Bound<'py, PyArray3<f32>>),
    F64(Bound<'py, PyArray3<f64>>),
}

/// `TypeError: '<arg>' must be a float32 or float64 <what>, got <dtype and
/// dimensions of obj>`.
pub(crate) fn type_error(arg: &str, obj: &Bound<'_, PyAny>, what: &str) -> PyErr {
    let got = obj
        .cast::<PyUntypedArray>()
        .map(|a| format!("{} array of {} dimensions", a.dtype(), a.ndim()))
        .unwrap_or_else(|_| "not a numpy array".to_string());
    PyTypeError::new_err(format!(
        "'{arg}' must be a float32 or float64 {what}, got {got}"
    ))
}
