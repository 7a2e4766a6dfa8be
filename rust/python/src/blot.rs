//! Bindings of `pyspec_core::drizzle::blot` (to be written).
use pyo3::prelude::*;

pub(crate) fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
