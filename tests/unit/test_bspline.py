"""pyspec.bspline: jwst's own bspline_fit test cases, ported, plus the
behaviour of the BSpline object and of the two least-squares solvers."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from pyspec.bspline import BSpline, bspline_fit

SOLVERS = [pytest.param(True, id="exact"), pytest.param(False, id="householder")]


def profile_1d(xvec, center_offset=0.0, amplitude=0.1, baseline=1.0, width=2.0):
    """The smooth Gaussian profile of jwst's test helpers."""
    center = np.nanmean(xvec)
    center += center_offset * center
    return amplitude * np.exp(-0.5 * ((xvec - center) / width) ** 2) + baseline


# --- ported from jwst/adaptive_trace_model/tests/test_bspline_fit.py -----------


@pytest.mark.parametrize("exact", SOLVERS)
def test_flat_data_is_reproduced_exactly(exact):
    xvec = np.arange(100, dtype=float)
    yvec = np.full(100, 1.0)
    spline = bspline_fit(xvec, yvec, exact=exact)
    np.testing.assert_allclose(spline(xvec), yvec)


@pytest.mark.parametrize("exact", SOLVERS)
def test_spikes_are_reproduced_approximately_with_many_knots(exact):
    xvec = np.arange(100, dtype=float)
    yvec = np.zeros(100, dtype=float)
    yvec[5::10] = 1
    spline = bspline_fit(xvec, yvec, nbkpts=90, wrapiter=1, exact=exact)
    np.testing.assert_allclose(spline(xvec), yvec, atol=0.3)


@pytest.mark.parametrize("exact", SOLVERS)
def test_smooth_profile_is_reproduced_with_default_knots(exact):
    xvec = np.arange(100, dtype=float)
    yvec = profile_1d(xvec)
    spline = bspline_fit(xvec, yvec, wrapiter=1, exact=exact)
    np.testing.assert_allclose(spline(xvec), yvec, rtol=1e-3)


@pytest.mark.parametrize("exact", SOLVERS)
def test_point_after_a_large_gap_is_dropped_by_the_spacing_filter(exact):
    xvec = np.arange(100, dtype=float)
    xvec[-1] = 1000
    yvec = profile_1d(xvec)
    spline = bspline_fit(xvec, yvec, wrapiter=1, exact=exact)
    np.testing.assert_allclose(spline(xvec[:-1]), yvec[:-1], rtol=1e-3)
    # the far point is outside the knot range: it was not fitted
    assert spline.t[-1] < 1000


def test_too_many_gaps_for_the_knot_spacing_gives_none():
    xvec = np.arange(0, 1000, 50, dtype=float)
    assert bspline_fit(xvec, profile_1d(xvec), wrapiter=1) is None


def test_ten_points_are_too_few_for_a_cubic_fit():
    xvec = np.arange(10, dtype=float)
    assert bspline_fit(xvec, np.zeros(10), wrapiter=1) is None


@pytest.mark.parametrize("exact", SOLVERS)
def test_nan_block_leaves_empty_knot_intervals_and_fails(exact):
    xvec = np.arange(100, dtype=float)
    yvec = np.zeros(100, dtype=float)
    yvec[10:50] = np.nan
    assert bspline_fit(xvec, yvec, wrapiter=1, exact=exact) is None


@pytest.mark.parametrize("exact", SOLVERS)
def test_outlier_and_neighbours_are_rejected_in_the_first_iteration(caplog, exact):
    caplog.set_level("INFO", "pyspec.bspline")
    xvec = np.arange(0, 100, dtype=float)
    yvec = profile_1d(xvec)
    yvec[10] = 10
    spline = bspline_fit(xvec, yvec, wrapiter=2, verbose=True, exact=exact)
    assert "Iter 0 Rejected 3 Kept 97" in caplog.text
    np.testing.assert_allclose(spline(xvec[2:9]), yvec[2:9], rtol=1e-3)
    np.testing.assert_allclose(spline(xvec[11:]), yvec[11:], rtol=1e-3)


@pytest.mark.parametrize("exact", SOLVERS)
def test_iteration_stops_when_too_many_points_are_rejected(caplog, exact):
    caplog.set_level("INFO", "pyspec.bspline")
    npt = 1000
    xvec = np.arange(0, npt, dtype=float)
    yvec = np.full(npt, 1.0)
    yvec[20::14] = 50
    yvec[3::25] = 40
    yvec[7::27] = 30
    yvec[10::29] = 20
    yvec[13::29] = 10
    spline = bspline_fit(xvec, yvec, wrapiter=10, verbose=True, exact=exact)
    assert "Iter 9" not in caplog.text
    assert "too many points rejected" in caplog.text
    assert np.mean(spline(xvec)) > 1.0


# --- behaviour of pyspec's implementation ---------------------------------------


def test_fewer_than_ten_points_raise_like_the_reference():
    with pytest.raises(ValueError, match="out of bounds"):
        bspline_fit(np.arange(9.0), np.zeros(9))
    with pytest.raises(ValueError):
        bspline_fit(np.array([np.nan] * 20), np.zeros(20))


def test_identical_abscissae_give_zero_knot_spacing_error():
    with pytest.raises(ValueError, match="arange"):
        bspline_fit(np.zeros(50), np.ones(50))


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="differ"):
        bspline_fit(np.arange(20.0), np.arange(21.0))


def test_float32_input_keeps_single_precision_knot_arithmetic():
    x = (np.arange(400, dtype=np.float32) - 200) * np.float32(0.013)
    y = np.exp(-(x.astype(float) ** 2)).astype(np.float32)
    s32 = bspline_fit(x, y, nbkpts=37, wrapiter=1)
    s64 = bspline_fit(x.astype(np.float64), y, nbkpts=37, wrapiter=1)
    # the second interior knot is the float32 sum k0 + ks for float32 data
    ks = np.float32(x[-1] - x[1]) / np.float32(37)
    k0 = x[1] + ks / np.float32(2)
    assert s32.t[5] == np.float64(np.float32(k0 + ks))
    assert not np.array_equal(s32.t, s64.t)


def test_bspline_evaluates_like_a_clamped_cubic_with_extrapolation():
    t = np.array([0, 0, 0, 0, 1, 2, 3, 3, 3, 3], dtype=float)
    c = np.array([1.0, 2.0, -1.0, 0.5, 3.0, 2.0])
    s = BSpline(t, c)
    assert s.k == 3 and s.extrapolate
    x = np.linspace(-0.5, 3.5, 17)
    vals = s(x)
    scipy_interp = pytest.importorskip("scipy.interpolate")
    np.testing.assert_allclose(vals, scipy_interp.BSpline(t, c, 3)(x), rtol=1e-14, atol=1e-14)
    assert s(1.5).shape == ()
    assert np.isnan(s(np.nan))
    assert s(np.zeros((2, 3))).shape == (2, 3)


def test_bspline_rejects_invalid_knots():
    with pytest.raises(ValueError):
        BSpline([0, 1, 2], [1.0])
    with pytest.raises(ValueError):
        BSpline([0, 0, 0, 0, 2, 1, 1, 1, 1], np.ones(5))
    with pytest.raises(ValueError):
        BSpline(np.zeros(8), np.ones(4), k=2)


def test_solvers_agree_to_rounding_on_noisy_data():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-3, 3, 2000)).astype(np.float32)
    y = (np.exp(-(x.astype(float) ** 2)) + rng.normal(0, 0.01, x.size)).astype(np.float32)
    a = bspline_fit(x, y, nbkpts=40, wrapsig_low=2.5, wrapsig_high=2.5)
    b = bspline_fit(x, y, nbkpts=40, wrapsig_low=2.5, wrapsig_high=2.5, exact=False)
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_allclose(b.c, a.c, rtol=1e-10, atol=1e-12)


def test_logging_is_silent_unless_verbose(caplog):
    caplog.set_level(logging.DEBUG, "pyspec.bspline")
    x = np.arange(200.0)
    bspline_fit(x, profile_1d(x, width=10.0))
    assert "Iter" not in caplog.text
