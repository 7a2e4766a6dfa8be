//! PyO3 bindings of `pyspec-core`: array conversion, validation, GIL release
//! and error mapping only. No algorithm lives here.

use pyo3::exceptions::{PyMemoryError, PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;

mod blot;
mod drizzle;
mod pixmap;

/// Map a core error to the matching Python exception.
pub(crate) fn to_py(err: pyspec_core::Error) -> PyErr {
    use pyspec_core::Error as E;
    match err {
        E::Value(m) | E::Shape(m) => PyValueError::new_err(m),
        E::Type(m) => PyTypeError::new_err(m),
        E::Memory(m) => PyMemoryError::new_err(m),
        E::Io(e) => PyOSError::new_err(e.to_string()),
    }
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
    Ok(())
}
