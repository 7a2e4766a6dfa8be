"""pyspec.trace.fit_and_oversample: behaviour without the reference package."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import pyspec
from pyspec import trace as pt

DO_NOT_USE = 1
FLUX_ESTIMATED = 1 << 28


@pytest.fixture(scope="module")
def ifu(trace_exposure):
    return trace_exposure(oversample=(2.0, 3.0))


def test_trace_model_is_nan_outside_modelled_regions_and_data_unchanged(ifu, fit_trace):
    data_before = ifu.data.copy()
    res = fit_trace(ifu)
    assert res.trace_model.shape == ifu.data.shape
    assert res.trace_model.dtype == np.float32
    assert np.all(np.isnan(res.trace_model[ifu.regions == 0]))
    # the model exists only where it is used; spline_full covers more
    finite = np.isfinite(res.trace_model)
    assert finite.sum() > 100
    assert np.all(np.isfinite(res.spline_full[finite]))
    np.testing.assert_array_equal(res.trace_model[finite], res.spline_full[finite])
    # N = 1 returns the inputs untouched (and never modifies them)
    np.testing.assert_array_equal(res.data, ifu.data)
    assert res.data is not ifu.data
    np.testing.assert_array_equal(ifu.data, data_before)
    assert res.linear_interp is None and res.spline_residual is None


def test_model_follows_the_bright_trace(ifu, fit_trace):
    res = fit_trace(ifu, fit_threshold=0.0, slope_limit=0.0)
    used = np.isfinite(res.trace_model) & np.isfinite(ifu.data)
    peak = ifu.data[used] > 100
    ratio = res.trace_model[used][peak] / ifu.data[used][peak]
    assert abs(np.median(ratio) - 1.0) < 0.05


def test_faint_region_is_not_modelled_above_threshold(ifu, fit_trace):
    res = fit_trace(ifu, return_models=True)
    assert res.models[2] == {}
    assert len(res.models[1]) > 100
    res0 = fit_trace(ifu, fit_threshold=0.0, return_models=True)
    assert len(res0.models[2]) > 0


@pytest.mark.parametrize("n", [2.0, 3.0])
def test_nirspec_oversampling_multiplies_the_rows(ifu, fit_trace, n):
    res = fit_trace(ifu, oversample=n)
    ny, nx = ifu.data.shape
    shape = (int(np.ceil(ny * n)), nx)
    for name in (
        "data",
        "err",
        "var_rnoise",
        "var_poisson",
        "trace_model",
        "spline_full",
        "linear_interp",
        "spline_residual",
    ):
        assert getattr(res, name).shape == shape, name
    assert res.dq.shape == shape and res.dq.dtype == np.uint32
    assert res.regions.shape == shape and res.regions.dtype == np.int32
    assert res.var_flat is None


def test_miri_oversampling_multiplies_the_detector_columns(fit_trace):
    exp = pt.synthetic_exposure(
        (100, 160), 1, mode="MIR_LRS-FIXEDSLIT", rows_per_region=30, oversample=(2.0,)
    )
    assert exp.data.shape == (160, 100)
    res = fit_trace(exp, oversample=2.0)
    assert res.data.shape == (160, 200)
    # the oversampled region map repeats every detector column twice
    np.testing.assert_array_equal(res.regions[:, ::2], exp.regions)
    np.testing.assert_array_equal(res.regions[:, 1::2], exp.regions)


def test_flux_estimated_replaces_do_not_use_where_the_model_fills_a_nan(ifu, fit_trace):
    res = fit_trace(ifu, oversample=2.0, psf_optimal=True)
    nan_in = ~np.isfinite(ifu.data) & (ifu.regions > 0)
    # nearest input pixel of each new row: rows 2k and 2k+1 come from row k
    nan_os = np.repeat(nan_in, 2, axis=0)
    est = (res.dq & FLUX_ESTIMATED) > 0
    assert est.any()
    assert np.all(nan_os[est])
    assert np.all(np.isfinite(res.data[est]))
    assert np.all((res.dq[est] & DO_NOT_USE) == 0)
    # every NaN of the output is flagged DO_NOT_USE
    assert np.all(res.dq[np.isnan(res.data)] & DO_NOT_USE)


def test_psf_optimal_uses_the_model_wherever_it_exists(ifu, fit_trace):
    res = fit_trace(ifu, oversample=2.0, psf_optimal=True)
    full = np.isfinite(res.spline_full)
    np.testing.assert_array_equal(np.isfinite(res.trace_model), full)
    np.testing.assert_array_equal(res.data[full], res.spline_full[full])


def test_errors_are_interpolated_and_inflated(ifu, fit_trace):
    n = 2.0
    res = fit_trace(ifu, oversample=n, fit_threshold=1e9)  # no model: linear only
    infl = 0.23 * n + 0.77
    sel = np.isfinite(res.err) & (res.regions > 0)
    # interior rows of a smooth error image: close to the inflated input
    src = np.repeat(ifu.err, 2, axis=0)
    assert np.median(res.err[sel] / src[sel]) == pytest.approx(infl, rel=0.02)
    var_ratio = res.var_rnoise[sel] / np.repeat(ifu.var_rnoise, 2, axis=0)[sel]
    assert np.median(var_ratio) == pytest.approx(infl**2, rel=0.05)


def test_flux_density_divides_flux_by_n_and_variances_by_n_squared(ifu, fit_trace):
    a = fit_trace(ifu, oversample=2.0)
    b = fit_trace(ifu, oversample=2.0, flux_density=True)
    np.testing.assert_allclose(b.data, a.data / 2, rtol=1e-6)
    np.testing.assert_allclose(b.err, a.err / np.float32(2), rtol=1e-6)
    np.testing.assert_allclose(b.var_poisson, a.var_poisson / np.float32(4), rtol=1e-6)
    # the full model is not divided (as in the reference)
    np.testing.assert_array_equal(b.spline_full, a.spline_full)


def test_exact_and_fast_solvers_agree_to_float32_rounding(ifu, fit_trace):
    a = fit_trace(ifu, oversample=2.0)
    b = fit_trace(ifu, oversample=2.0, exact=True)
    for name in ("data", "trace_model", "spline_full"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
        np.testing.assert_allclose(x, y, rtol=2e-7, atol=1e-6 * np.nanmax(np.abs(y)))


def test_tso_cube_is_fitted_on_its_median_and_returned_unchanged(ifu):
    cube = np.stack([ifu.data, ifu.data * 1.01, ifu.data * 0.99])
    errs = np.stack([ifu.err] * 3)
    res = pt.fit_and_oversample(cube, errs, ifu.alpha, ifu.regions, mode="NRS_IFU")
    ref = pt.fit_and_oversample(ifu.data, ifu.err, ifu.alpha, ifu.regions, mode="NRS_IFU")
    assert res.trace_model.shape == ifu.data.shape
    np.testing.assert_array_equal(np.isfinite(res.trace_model), np.isfinite(ref.trace_model))
    assert res.data is cube or np.array_equal(res.data, cube, equal_nan=True)
    with pytest.raises(ValueError, match="not supported for TSO"):
        pt.fit_and_oversample(
            cube,
            errs,
            ifu.alpha,
            ifu.regions,
            mode="NRS_IFU",
            oversample=2.0,
            alpha_os=ifu.alpha_os[2.0],
        )


def test_region_with_all_nan_alpha_is_skipped_when_thresholds_are_off(ifu):
    # jwst raises (integer conversion of NaN); pyspec leaves the region unmodelled
    alpha = ifu.alpha.copy()
    alpha[ifu.regions == 3] = np.nan
    aos = ifu.alpha_os[2.0].copy()
    res = pt.fit_and_oversample(
        ifu.data,
        ifu.err,
        alpha,
        ifu.regions,
        mode="NRS_IFU",
        fit_threshold=0.0,
        oversample=2.0,
        alpha_os=aos,
        return_models=True,
    )
    assert res.models[3] == {}
    assert len(res.models[1]) > 0
    # the region is still oversampled, linearly
    reg3 = res.regions == 3
    assert np.all(np.isnan(res.spline_full[reg3]))
    assert np.isfinite(res.data[reg3]).mean() > 0.8


def test_region_with_a_single_row_does_not_raise():
    data = np.ones((5, 40), np.float32)
    regions = np.zeros((5, 40), np.int32)
    regions[2] = 1
    alpha = np.where(regions > 0, 0.0, np.nan)
    res = pt.fit_and_oversample(
        data, data, alpha, regions, mode="NRS_SLIT", fit_threshold=0.0, return_models=True
    )
    assert res.models[1] == {}
    assert np.all(np.isnan(res.trace_model))


def test_all_nan_exposure_gives_nan_outputs():
    shape = (40, 60)
    nan = np.full(shape, np.nan, np.float32)
    alpha = np.tile((np.arange(40.0) - 20)[:, None] * 0.1, (1, 60))
    regions = np.ones(shape, np.int32)
    aos = np.tile(pt.oversampled_rows(40, 2.0)[:, None] * 0.1 - 2.0, (1, 60))
    res = pt.fit_and_oversample(
        nan, nan, alpha, regions, mode="NRS_SLIT", oversample=2.0, alpha_os=aos
    )
    assert np.all(np.isnan(res.data)) and np.all(np.isnan(res.trace_model))
    assert np.all(res.dq & DO_NOT_USE)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "NIRCAM"}, "unknown mode"),
        ({"mode": "MIR_WFSS"}, "MIRI WFSS is not supported"),
        ({"mode": "NRS_IFU", "detector": "MIRIMAGE"}, "does not belong"),
        ({"mode": "NRS_IFU", "oversample": 2.0}, "alpha_os"),
        ({"mode": "NRS_IFU", "oversample": 0.0}, "oversample"),
        ({"mode": "NRS_IFU", "oversample": float("nan")}, "oversample"),
    ],
)
def test_invalid_parameters_raise_value_error(ifu, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pt.fit_and_oversample(ifu.data, ifu.err, ifu.alpha, ifu.regions, **kwargs)


def test_shape_mismatches_raise_value_error(ifu):
    with pytest.raises(ValueError, match="err has shape"):
        pt.fit_and_oversample(ifu.data, ifu.err[:-1], ifu.alpha, ifu.regions, mode="NRS_IFU")
    with pytest.raises(ValueError, match="alpha_os has shape"):
        pt.fit_and_oversample(
            ifu.data,
            ifu.err,
            ifu.alpha,
            ifu.regions,
            mode="NRS_IFU",
            oversample=2.0,
            alpha_os=ifu.alpha_os[3.0],
        )
    with pytest.raises(ValueError, match="region map is required"):
        pt.fit_and_oversample(ifu.data, ifu.err, ifu.alpha, None, mode="NRS_IFU")
    with pytest.raises(TypeError):
        pt.fit_and_oversample(ifu.data.astype(str), ifu.err, ifu.alpha, ifu.regions, mode="NRS_IFU")


def test_slit_region_map_defaults_to_finite_alpha():
    exp = pt.synthetic_exposure((100, 160), 1, mode="NRS_SLIT", rows_per_region=30)
    a = pt.fit_and_oversample(exp.data, exp.err, exp.alpha, None, mode="NRS_SLIT")
    b = pt.fit_and_oversample(exp.data, exp.err, exp.alpha, exp.regions, mode="NRS_SLIT")
    np.testing.assert_array_equal(a.trace_model, b.trace_model)


def test_column_order_follows_the_detector(ifu, fit_trace):
    # NRS1 fits left to right, NRS2 right to left: fallbacks differ, fits do not
    a = fit_trace(ifu, return_models=True, detector="NRS1")
    b = fit_trace(ifu, return_models=True, detector="NRS2")
    own_a = {c for c, m in a.models[1].items() if not m["fallback"]}
    own_b = {c for c, m in b.models[1].items() if not m["fallback"]}
    assert own_a == own_b


def test_oversampled_rows_maps_new_pixels_to_old_coordinates():
    np.testing.assert_allclose(pt.oversampled_rows(2, 2.0), [-0.25, 0.25, 0.75, 1.25])
    assert len(pt.oversampled_rows(5, 1.5)) == 8


def test_results_are_identical_with_one_and_two_threads(ifu, fit_trace):
    try:
        pyspec.set_num_threads(1)
        a = fit_trace(ifu, oversample=2.0)
        pyspec.set_num_threads(2)
        b = fit_trace(ifu, oversample=2.0)
    finally:
        pyspec.set_num_threads(0)
    for name in ("data", "err", "trace_model", "spline_full", "spline_residual"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.tobytes() == y.tobytes(), name


def test_columns_whose_fit_raises_are_reported_and_logged(caplog):
    # a one-column region of 9 rows: the window holds fewer than 10 points,
    # bspline_fit raises in the reference ("Spline fit failed at column 4")
    shape = (12, 10)
    alpha = np.tile((np.arange(12.0) - 6)[:, None] * 0.1, (1, 10))
    data = (100 * np.exp(-0.5 * (alpha / 0.15) ** 2) + 1).astype(np.float32)
    regions = np.zeros(shape, np.int32)
    regions[2:11, 4] = 1
    caplog.set_level(logging.WARNING, "pyspec.trace")
    res = pt.fit_and_oversample(
        data,
        np.ones(shape, np.float32),
        alpha,
        regions,
        mode="NRS_SLIT",
        fit_threshold=0.0,
        return_models=True,
    )
    assert res.failed_columns == {1: [4]}
    assert res.models[1] == {}
    assert "Spline fit failed" in caplog.text


def test_empty_arrays_give_empty_outputs():
    e = np.zeros((0, 0), np.float32)
    res = pt.fit_and_oversample(e, e, e.astype(float), e.astype(np.int32), mode="NRS_SLIT")
    assert res.trace_model.shape == (0, 0)
    res = pt.fit_and_oversample(
        e,
        e,
        e.astype(float),
        e.astype(np.int32),
        mode="MIR_MRS",
        oversample=2.0,
        alpha_os=np.zeros((0, 0)),
    )
    assert res.data.shape == (0, 0)


def test_absurd_oversampling_factor_raises_memory_error():
    d = np.ones((10, 10), np.float32)
    with pytest.raises(MemoryError, match="too large"):
        pt.fit_and_oversample(
            d,
            d,
            d.astype(float),
            np.ones((10, 10), np.int32),
            mode="NRS_SLIT",
            oversample=1e8,
            alpha_os=np.zeros((1, 1)),
        )


def test_downsampling_factor_below_one_is_accepted():
    d = np.ones((10, 10), np.float32)
    res = pt.fit_and_oversample(
        d,
        d,
        d.astype(float),
        np.ones((10, 10), np.int32),
        mode="NRS_SLIT",
        oversample=0.5,
        alpha_os=np.zeros((5, 10)),
    )
    assert res.data.shape == (5, 10)
    np.testing.assert_array_equal(res.data, 1.0)
