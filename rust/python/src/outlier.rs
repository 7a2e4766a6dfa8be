//! Bindings of `pyspec_core::outlier`: derivative image, outlier tests,
//! weight threshold, median filters and the IFU primitives. Every call
//! releases the GIL.

use ndarray::ArrayView2;
use numpy::{IntoPyArray, PyArray2, PyArray3, PyArrayDyn};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyspec_core::median::Real;
use pyspec_core::outlier::{self, ResampledCrParams};

use crate::median::map_err;
use crate::ro;

use crate::floats::{type_error, DynF, F2, F3};

fn dynf<'py>(arg: &str, obj: &Bound<'py, PyAny>) -> PyResult<DynF<'py>> {
    obj.extract::<DynF<'py>>()
        .map_err(|_| type_error(arg, obj, "numpy array"))
}

fn f2<'py>(arg: &str, obj: &Bound<'py, PyAny>) -> PyResult<F2<'py>> {
    obj.extract::<F2<'py>>()
        .map_err(|_| type_error(arg, obj, "2-D numpy array"))
}

fn abs_deriv_t<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    a: &Bound<'py, PyArray2<T>>,
) -> PyResult<Bound<'py, PyAny>> {
    let g = ro(a, "array")?;
    let v = g.as_array();
    let out = py.detach(|| outlier::abs_deriv(v)).map_err(map_err)?;
    Ok(out.into_pyarray(py).into_any())
}

/// Absolute derivative image of a float32/float64 2-D array.
#[pyfunction]
fn abs_deriv<'py>(py: Python<'py>, array: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    match f2("array", &array)? {
        F2::F32(a) => abs_deriv_t(py, &a),
        F2::F64(a) => abs_deriv_t(py, &a),
    }
}

fn flag_crs_t<'py, S, E, M>(
    py: Python<'py>,
    s: &Bound<'py, PyArrayDyn<S>>,
    e: &Bound<'py, PyArrayDyn<E>>,
    m: &Bound<'py, PyArrayDyn<M>>,
    snr: f64,
) -> PyResult<Bound<'py, PyAny>>
where
    S: Real + numpy::Element,
    E: Real + numpy::Element,
    M: Real + numpy::Element,
{
    let (gs, ge, gm) = (ro(s, "sci_data")?, ro(e, "sci_err")?, ro(m, "blot_data")?);
    let (vs, ve, vm) = (gs.as_array(), ge.as_array(), gm.as_array());
    let out = py
        .detach(|| outlier::flag_crs(vs, ve, vm, snr))
        .map_err(map_err)?;
    Ok(out.into_pyarray(py).into_any())
}

/// `|sci - median| > snr * nan_to_num(err)` with numpy broadcasting (up to 3-D).
#[pyfunction]
fn flag_crs<'py>(
    py: Python<'py>,
    sci_data: Bound<'py, PyAny>,
    sci_err: Bound<'py, PyAny>,
    blot_data: Bound<'py, PyAny>,
    snr: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let s = dynf("sci_data", &sci_data)?;
    let e = dynf("sci_err", &sci_err)?;
    let m = dynf("blot_data", &blot_data)?;
    macro_rules! go {
        ($($sv:ident, $ev:ident, $mv:ident);*) => {
            match (s, e, m) {
                $((DynF::$sv(s), DynF::$ev(e), DynF::$mv(m)) => flag_crs_t(py, &s, &e, &m, snr),)*
            }
        };
    }
    go!(F32, F32, F32; F32, F32, F64; F32, F64, F32; F32, F64, F64;
        F64, F32, F32; F64, F32, F64; F64, F64, F32; F64, F64, F64)
}

#[allow(clippy::too_many_arguments)]
fn flag_resampled_t<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    s: &Bound<'py, PyArray2<T>>,
    e: &Bound<'py, PyArray2<T>>,
    b: &Bound<'py, PyArray2<T>>,
    p: ResampledCrParams,
) -> PyResult<Bound<'py, PyAny>> {
    let (gs, ge, gb) = (ro(s, "sci_data")?, ro(e, "sci_err")?, ro(b, "blot_data")?);
    let (vs, ve, vb) = (gs.as_array(), ge.as_array(), gb.as_array());
    let out = py
        .detach(|| outlier::flag_resampled_crs(vs, ve, vb, &p))
        .map_err(map_err)?;
    Ok(out.into_pyarray(py).into_any())
}

/// Two-threshold test against a blotted median (2-D, one dtype for all three arrays).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn flag_resampled_crs<'py>(
    py: Python<'py>,
    sci_data: Bound<'py, PyAny>,
    sci_err: Bound<'py, PyAny>,
    blot_data: Bound<'py, PyAny>,
    snr1: f64,
    snr2: f64,
    scale1: f64,
    scale2: f64,
    backg: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let p = ResampledCrParams {
        snr1,
        snr2,
        scale1,
        scale2,
        backg,
    };
    match (
        f2("sci_data", &sci_data)?,
        f2("sci_err", &sci_err)?,
        f2("blot_data", &blot_data)?,
    ) {
        (F2::F32(s), F2::F32(e), F2::F32(b)) => flag_resampled_t(py, &s, &e, &b, p),
        (F2::F64(s), F2::F64(e), F2::F64(b)) => flag_resampled_t(py, &s, &e, &b, p),
        _ => Err(PyTypeError::new_err(
            "sci_data, sci_err and blot_data must have the same dtype",
        )),
    }
}

/// Sigma-clipped mean of the finite non-zero weights times `maskpt`.
#[pyfunction]
fn compute_weight_threshold(
    py: Python<'_>,
    weight: Bound<'_, PyAny>,
    maskpt: f64,
) -> PyResult<f64> {
    match dynf("weight", &weight)? {
        DynF::F32(a) => {
            let g = ro(&a, "weight")?;
            let v = g.as_array();
            Ok(py.detach(|| outlier::weight_threshold(&v, maskpt)))
        }
        DynF::F64(a) => {
            let g = ro(&a, "weight")?;
            let v = g.as_array();
            Ok(py.detach(|| outlier::weight_threshold(&v, maskpt)))
        }
    }
}

fn medfilt_t<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    a: &Bound<'py, PyArrayDyn<T>>,
    k: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    let g = ro(a, "arr")?;
    let v = g.as_array();
    let out = py.detach(|| outlier::medfilt(v, k)).map_err(map_err)?;
    Ok(out.into_pyarray(py).into_any())
}

/// Zero-padded nan-median filter of a 1- to 3-D float32/float64 array.
#[pyfunction]
fn medfilt<'py>(
    py: Python<'py>,
    arr: Bound<'py, PyAny>,
    kern_size: Vec<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    match dynf("arr", &arr)? {
        DynF::F32(a) => medfilt_t(py, &a, &kern_size),
        DynF::F64(a) => medfilt_t(py, &a, &kern_size),
    }
}

fn rolling_t<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    a: &Bound<'py, PyArray3<T>>,
    w: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let g = ro(a, "x")?;
    let v = g.as_array();
    let out = py
        .detach(|| outlier::rolling_median(v, w))
        .map_err(map_err)?;
    Ok(out.into_pyarray(py).into_any())
}

/// Rolling median (float64) along axis 0 of a float32/float64 cube.
#[pyfunction]
fn rolling_median<'py>(
    py: Python<'py>,
    x: Bound<'py, PyAny>,
    w: usize,
) -> PyResult<Bound<'py, PyAny>> {
    match x.extract::<F3<'py>>() {
        Ok(F3::F32(a)) => rolling_t(py, &a, w),
        Ok(F3::F64(a)) => rolling_t(py, &a, w),
        Err(_) => Err(type_error("x", &x, "3-D numpy array")),
    }
}

fn min_diff_t<'py, T: Real + numpy::Element>(
    py: Python<'py>,
    frames: &[Bound<'py, PyArray2<T>>],
    dqs: Option<&[Bound<'py, PyArray2<u32>>]>,
    axis: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let fg = frames
        .iter()
        .map(|f| ro(f, "frames"))
        .collect::<PyResult<Vec<_>>>()?;
    let fv: Vec<ArrayView2<'_, T>> = fg.iter().map(|g| g.as_array()).collect();
    let dg = dqs
        .map(|d| d.iter().map(|q| ro(q, "dqs")).collect::<PyResult<Vec<_>>>())
        .transpose()?;
    let dv: Option<Vec<ArrayView2<'_, u32>>> = dg
        .as_ref()
        .map(|d| d.iter().map(|g| g.as_array()).collect());
    let out = py
        .detach(|| outlier::min_neighbour_diff(&fv, dv.as_deref(), axis))
        .map_err(map_err)?;
    Ok(out.into_pyarray(py).into_any())
}

/// Minimum over frames of the IFU neighbour differences along `axis` (float64).
#[pyfunction]
#[pyo3(signature = (frames, axis, dqs=None))]
fn min_neighbour_diff<'py>(
    py: Python<'py>,
    frames: Vec<Bound<'py, PyAny>>,
    axis: usize,
    dqs: Option<Vec<Bound<'py, PyArray2<u32>>>>,
) -> PyResult<Bound<'py, PyAny>> {
    let first = frames
        .first()
        .ok_or_else(|| PyValueError::new_err("at least one frame is required"))?;
    match f2("frames[0]", first)? {
        F2::F32(_) => {
            let fr = frames
                .iter()
                .map(|f| {
                    f.cast::<PyArray2<f32>>()
                        .cloned()
                        .map_err(|_| type_error("frames", f, "2-D array (all frames of one dtype)"))
                })
                .collect::<PyResult<Vec<_>>>()?;
            min_diff_t(py, &fr, dqs.as_deref(), axis)
        }
        F2::F64(_) => {
            let fr = frames
                .iter()
                .map(|f| {
                    f.cast::<PyArray2<f64>>()
                        .cloned()
                        .map_err(|_| type_error("frames", f, "2-D array (all frames of one dtype)"))
                })
                .collect::<PyResult<Vec<_>>>()?;
            min_diff_t(py, &fr, dqs.as_deref(), axis)
        }
    }
}

/// `numpy.nanmedian` over all elements, as a Python float.
#[pyfunction]
fn nanmedian_all(py: Python<'_>, a: Bound<'_, PyAny>) -> PyResult<f64> {
    match dynf("a", &a)? {
        DynF::F32(x) => {
            let g = ro(&x, "a")?;
            let v = g.as_array();
            Ok(py.detach(|| outlier::nanmedian_all(&v)).to_f64())
        }
        DynF::F64(x) => {
            let g = ro(&x, "a")?;
            let v = g.as_array();
            Ok(py.detach(|| outlier::nanmedian_all(&v)))
        }
    }
}

/// `numpy.nanpercentile(a, q)` (linear) over all elements, as a Python float.
#[pyfunction]
fn nanpercentile(py: Python<'_>, a: Bound<'_, PyAny>, q: f64) -> PyResult<f64> {
    match dynf("a", &a)? {
        DynF::F32(x) => {
            let g = ro(&x, "a")?;
            let v = g.as_array();
            py.detach(|| outlier::nanpercentile(&v, q))
                .map(|r| r.to_f64())
                .map_err(map_err)
        }
        DynF::F64(x) => {
            let g = ro(&x, "a")?;
            let v = g.as_array();
            py.detach(|| outlier::nanpercentile(&v, q)).map_err(map_err)
        }
    }
}

type IfuTuple<'py> = (
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    f64,
    f64,
);

/// IFU normalisation and percentile cut: `(mask, normarr, minnorm, pct, nfloor)`.
#[pyfunction]
fn ifu_flag<'py>(
    py: Python<'py>,
    minarr: Bound<'py, PyArray2<f64>>,
    k0: usize,
    k1: usize,
    threshold_percent: f64,
) -> PyResult<IfuTuple<'py>> {
    let g = ro(&minarr, "minarr")?;
    let v = g.as_array();
    let r = py
        .detach(|| outlier::ifu_flag(v, (k0, k1), threshold_percent))
        .map_err(map_err)?;
    Ok((
        r.mask.into_pyarray(py).into_any(),
        r.normarr.into_pyarray(py).into_any(),
        r.minnorm.into_pyarray(py).into_any(),
        r.pct,
        r.nfloor,
    ))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(abs_deriv, m)?)?;
    m.add_function(wrap_pyfunction!(flag_crs, m)?)?;
    m.add_function(wrap_pyfunction!(flag_resampled_crs, m)?)?;
    m.add_function(wrap_pyfunction!(compute_weight_threshold, m)?)?;
    m.add_function(wrap_pyfunction!(medfilt, m)?)?;
    m.add_function(wrap_pyfunction!(rolling_median, m)?)?;
    m.add_function(wrap_pyfunction!(min_neighbour_diff, m)?)?;
    m.add_function(wrap_pyfunction!(nanmedian_all, m)?)?;
    m.add_function(wrap_pyfunction!(nanpercentile, m)?)?;
    m.add_function(wrap_pyfunction!(ifu_flag, m)?)?;
    Ok(())
}
