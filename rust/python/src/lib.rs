//! PyO3 bindings of `pyspec-core`: array conversion, validation, GIL release
//! and error mapping only. No algorithm lives here.

use numpy::{BorrowError, Element, PyArray, PyArrayMethods, PyReadonlyArray, PyReadwriteArray};
use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError};
use pyo3::prelude::*;

mod blot;
mod bspline;
mod drizzle;
mod floats;
mod median;
mod outlier;
mod pixmap;
mod trace;

/// Map a core error to the matching Python exception.
pub(crate) fn to_py(err: pyspec_core::Error) -> PyErr {
    use pyspec_core::Error as E;
    match err {
        E::Value(m) | E::Shape(m) => PyValueError::new_err(m),
        E::Type(m) => PyTypeError::new_err(m),
        E::Memory(m) => PyMemoryError::new_err(m),
        // keeps the OSError subclass (FileNotFoundError, PermissionError, ...)
        E::Io(e) => PyErr::from(e),
    }
}

/// Borrow `arr` read-only without panicking: an array that is mutably
/// borrowed elsewhere in the same call (e.g. passed both as input and as
/// output) gives a `ValueError` naming the argument.
pub(crate) fn ro<'py, T: Element, D: ndarray::Dimension>(
    arr: &Bound<'py, PyArray<T, D>>,
    name: &str,
) -> PyResult<PyReadonlyArray<'py, T, D>> {
    arr.try_readonly().map_err(|e| {
        PyValueError::new_err(format!(
            "'{name}' cannot be read: {e} (is it also passed as an output?)"
        ))
    })
}

/// Borrow `arr` for writing without panicking: a read-only array, or one
/// passed twice in the same call, gives a `ValueError` naming the argument.
pub(crate) fn rw<'py, T: Element, D: ndarray::Dimension>(
    arr: &Bound<'py, PyArray<T, D>>,
    name: &str,
) -> PyResult<PyReadwriteArray<'py, T, D>> {
    arr.try_readwrite().map_err(|e| match e {
        BorrowError::NotWriteable => {
            PyValueError::new_err(format!("'{name}' is read-only; it is updated in place."))
        }
        other => PyValueError::new_err(format!(
            "'{name}' cannot be written: {other} (the same array may not be passed twice)"
        )),
    })
}

/// Use `n` threads in every pyspec call (`0` = rayon's default, which
/// follows `RAYON_NUM_THREADS`).
#[pyfunction]
fn set_num_threads(n: usize) -> PyResult<()> {
    pyspec_core::parallel::set_num_threads(n).map_err(to_py)
}

/// Number of threads pyspec calls use.
#[pyfunction]
fn get_num_threads() -> usize {
    pyspec_core::parallel::get_num_threads()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    drizzle::register(m)?;
    blot::register(m)?;
    pixmap::register(m)?;
    median::register(m)?;
    outlier::register(m)?;
    bspline::register(m)?;
    trace::register(m)?;
    Ok(())
}
