//! Bindings of `pyspec_core::median`: the nan-median of a stack and the
//! frame-by-frame accumulator (in memory or on disk).

use std::path::PathBuf;
use std::sync::Mutex;

use ndarray::ArrayView2;
use numpy::{IntoPyArray, PyArray2, PyArray3};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyspec_core::median::{self, MedianAccumulator as CoreAcc, Real, SectionLayout};

use crate::{ro, to_py};

/// Map a core error, keeping the kind of I/O errors (FileNotFoundError,
/// PermissionError, IsADirectoryError, ...).
pub(crate) fn map_err(err: pyspec_core::Error) -> PyErr {
    match err {
        pyspec_core::Error::Io(e) => PyErr::from(e),
        other => to_py(other),
    }
}

use crate::floats::{type_error, F2 as Frame, F3 as Stack};

/// The `TypeError` of a stack or frame argument of the wrong type.
fn dtype_error(arg: &str, obj: &Bound<'_, PyAny>) -> PyErr {
    type_error(arg, obj, "numpy array of the right dimension")
}

fn median_of_stack<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    stack: &Bound<'py, PyArray3<T>>,
) -> PyResult<Bound<'py, PyAny>> {
    let guard = ro(stack, "stack")?;
    let view = guard.as_array();
    let out = py
        .detach(|| median::nanmedian_stack(view))
        .map_err(map_err)?;
    Ok(out.into_pyarray(py).into_any())
}

/// Per-pixel nan-median over axis 0 of a float32/float64 `(n, ny, nx)` stack.
#[pyfunction]
fn nanmedian_stack<'py>(py: Python<'py>, stack: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    match stack.extract::<Stack<'py>>() {
        Ok(Stack::F32(a)) => median_of_stack(py, &a),
        Ok(Stack::F64(a)) => median_of_stack(py, &a),
        Err(_) => Err(dtype_error("stack", &stack)),
    }
}

fn median_of_list<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    frames: &[Bound<'py, PyArray2<T>>],
    shape: (usize, usize),
) -> PyResult<Bound<'py, PyAny>> {
    let guards = frames
        .iter()
        .enumerate()
        .map(|(k, f)| ro(f, &format!("frames[{k}]")))
        .collect::<PyResult<Vec<_>>>()?;
    let views: Vec<ArrayView2<'_, T>> = guards.iter().map(|g| g.as_array()).collect();
    let out = py
        .detach(|| median::nanmedian_frames(&views, shape))
        .map_err(map_err)?;
    Ok(out.into_pyarray(py).into_any())
}

/// Per-pixel nan-median of a list of equally shaped 2-D frames of one dtype
/// (float32 or float64), without stacking them. `shape` is used when the
/// list is empty.
#[pyfunction]
#[pyo3(signature = (frames, shape=(0, 0), dtype="float32"))]
fn nanmedian_frames<'py>(
    py: Python<'py>,
    frames: Vec<Bound<'py, PyAny>>,
    shape: (usize, usize),
    dtype: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let want64 = match frames.first() {
        Some(f) => match f.extract::<Frame<'py>>() {
            Ok(Frame::F32(_)) => false,
            Ok(Frame::F64(_)) => true,
            Err(_) => return Err(dtype_error("frames[0]", f)),
        },
        None => dtype == "float64",
    };
    if want64 {
        let fr = frames
            .iter()
            .enumerate()
            .map(|(k, f)| {
                f.cast::<PyArray2<f64>>()
                    .cloned()
                    .map_err(|_| dtype_error(&format!("frames[{k}]"), f))
            })
            .collect::<PyResult<Vec<_>>>()?;
        median_of_list(py, &fr, shape)
    } else {
        let fr = frames
            .iter()
            .enumerate()
            .map(|(k, f)| {
                f.cast::<PyArray2<f32>>()
                    .cloned()
                    .map_err(|_| dtype_error(&format!("frames[{k}]"), f))
            })
            .collect::<PyResult<Vec<_>>>()?;
        median_of_list(py, &fr, shape)
    }
}

type LayoutTuple = (usize, usize, usize, bool);

fn layout_tuple(l: SectionLayout) -> LayoutTuple {
    (l.rows, l.nsections, l.buffer_bytes, l.raised)
}

/// Section layout from stcal's `buffer_size` rule:
/// `(rows, nsections, buffer_bytes, raised)`.
#[pyfunction]
fn median_layout_stcal(
    n: usize,
    ny: usize,
    nx: usize,
    itemsize: usize,
    buffer_size: i64,
) -> PyResult<LayoutTuple> {
    SectionLayout::like_stcal(n, ny, nx, itemsize, buffer_size)
        .map(layout_tuple)
        .map_err(map_err)
}

/// Section layout under a hard memory budget in bytes:
/// `(rows, nsections, buffer_bytes, raised)`; `ValueError` when the budget
/// cannot hold one row of every frame.
#[pyfunction]
fn median_layout_budget(
    n: usize,
    ny: usize,
    nx: usize,
    itemsize: usize,
    budget: usize,
) -> PyResult<LayoutTuple> {
    SectionLayout::for_budget(n, ny, nx, itemsize, budget)
        .map(layout_tuple)
        .map_err(map_err)
}

/// In-memory accumulator (`rows = None`) or on-disk one evaluated `rows`
/// rows at a time, built without the GIL.
fn build<T: Real>(
    py: Python<'_>,
    n: usize,
    ny: usize,
    nx: usize,
    rows: Option<usize>,
    tempdir: Option<&std::path::Path>,
) -> PyResult<CoreAcc<T>> {
    py.detach(|| match rows {
        None => CoreAcc::<T>::in_memory(n, ny, nx),
        Some(r) => SectionLayout::with_rows(n, ny, nx, T::BYTES, r)
            .and_then(|layout| CoreAcc::<T>::on_disk(n, ny, nx, layout, tempdir)),
    })
    .map_err(map_err)
}

#[derive(Debug)]
enum AnyAcc {
    F32(CoreAcc<f32>),
    F64(CoreAcc<f64>),
}

macro_rules! with_acc {
    ($acc:expr, $a:ident => $body:expr) => {
        match $acc {
            AnyAcc::F32($a) => $body,
            AnyAcc::F64($a) => $body,
        }
    };
}

/// Frame-by-frame nan-median, in memory (`rows=None`) or streamed to a
/// temporary file in `tempdir` (system temporary directory when `None`) and
/// evaluated `rows` rows at a time. Thread-safe; every method releases the GIL.
#[pyclass(frozen, module = "pyspec._core")]
struct MedianAccumulator {
    inner: Mutex<AnyAcc>,
    dtype: &'static str,
}

impl MedianAccumulator {
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, AnyAcc>> {
        self.inner
            .lock()
            .map_err(|_| PyValueError::new_err("the median accumulator is unusable after a panic"))
    }
}

#[pymethods]
impl MedianAccumulator {
    #[new]
    #[pyo3(signature = (n, ny, nx, dtype="float32", rows=None, tempdir=None))]
    fn new(
        py: Python<'_>,
        n: usize,
        ny: usize,
        nx: usize,
        dtype: &str,
        rows: Option<usize>,
        tempdir: Option<PathBuf>,
    ) -> PyResult<Self> {
        let dir = tempdir.as_deref();
        let (acc, name) = match dtype {
            "float32" => (AnyAcc::F32(build(py, n, ny, nx, rows, dir)?), "float32"),
            "float64" => (AnyAcc::F64(build(py, n, ny, nx, rows, dir)?), "float64"),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "unsupported dtype '{other}': the median supports float32 and float64"
                )))
            }
        };
        Ok(MedianAccumulator {
            inner: Mutex::new(acc),
            dtype: name,
        })
    }

    /// Element type, "float32" or "float64".
    #[getter]
    fn dtype(&self) -> &'static str {
        self.dtype
    }

    /// Number of distinct frames appended so far.
    #[getter]
    fn appended(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| Ok(with_acc!(&*self.lock()?, a => a.appended())))
    }

    /// `True` once an on-disk accumulator has been evaluated or closed.
    #[getter]
    fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        py.detach(|| Ok(with_acc!(&*self.lock()?, a => a.is_closed())))
    }

    /// `(rows, nsections)` of an on-disk accumulator, `None` in memory.
    #[getter]
    fn layout(&self, py: Python<'_>) -> PyResult<Option<(usize, usize)>> {
        py.detach(|| Ok(with_acc!(&*self.lock()?, a => a.layout().map(|l| (l.rows, l.nsections)))))
    }

    /// The slot `append(_, idx)` would use (ValueError when out of range or full).
    #[pyo3(signature = (idx=None))]
    fn next_slot(&self, py: Python<'_>, idx: Option<usize>) -> PyResult<usize> {
        py.detach(|| with_acc!(&*self.lock()?, a => a.next_slot(idx)).map_err(map_err))
    }

    /// Store `frame` (exactly the accumulator's dtype and frame shape) at
    /// slot `idx`, or the first free slot; returns the slot.
    #[pyo3(signature = (frame, idx=None))]
    fn append(
        &self,
        py: Python<'_>,
        frame: Bound<'_, PyAny>,
        idx: Option<usize>,
    ) -> PyResult<usize> {
        let parsed = frame
            .extract::<Frame<'_>>()
            .map_err(|_| dtype_error("data", &frame))?;
        match parsed {
            Frame::F32(f) => {
                let g = ro(&f, "data")?;
                let v = g.as_array();
                py.detach(|| match &mut *self.lock()? {
                    AnyAcc::F32(a) => a.append(v, idx).map_err(map_err),
                    AnyAcc::F64(_) => Err(PyValueError::new_err(
                        "data dtype float32 does not match the accumulator dtype float64",
                    )),
                })
            }
            Frame::F64(f) => {
                let g = ro(&f, "data")?;
                let v = g.as_array();
                py.detach(|| match &mut *self.lock()? {
                    AnyAcc::F64(a) => a.append(v, idx).map_err(map_err),
                    AnyAcc::F32(_) => Err(PyValueError::new_err(
                        "data dtype float64 does not match the accumulator dtype float32",
                    )),
                })
            }
        }
    }

    /// Nan-median of the appended frames. On disk this closes the accumulator.
    fn evaluate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        enum Out {
            F32(ndarray::Array2<f32>),
            F64(ndarray::Array2<f64>),
        }
        let out = py.detach(|| -> PyResult<Out> {
            match &mut *self.lock()? {
                AnyAcc::F32(a) => a.evaluate().map(Out::F32).map_err(map_err),
                AnyAcc::F64(a) => a.evaluate().map(Out::F64).map_err(map_err),
            }
        })?;
        Ok(match out {
            Out::F32(a) => a.into_pyarray(py).into_any(),
            Out::F64(a) => a.into_pyarray(py).into_any(),
        })
    }

    /// Release the frames or the temporary file now; later use is an error.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            with_acc!(&mut *self.lock()?, a => a.close());
            Ok(())
        })
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(nanmedian_stack, m)?)?;
    m.add_function(wrap_pyfunction!(nanmedian_frames, m)?)?;
    m.add_function(wrap_pyfunction!(median_layout_stcal, m)?)?;
    m.add_function(wrap_pyfunction!(median_layout_budget, m)?)?;
    m.add_class::<MedianAccumulator>()?;
    Ok(())
}
