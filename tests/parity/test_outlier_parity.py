"""Parity of pyspec.outlier with stcal 1.20.0 / jwst 3.0.0 (spec §13):
bitwise for the derivative, the masks, the median filter, the rolling
median and the IFU arrays; relative 1e-6 for the weight threshold (observed
bitwise)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

su = pytest.importorskip("stcal.outlier_detection.utils")

# The reference warns about overflows and all-NaN slices on these inputs.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

from pyspec import outlier  # noqa: E402


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint8)


def _assert_bitwise(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(_bits(got), _bits(want))


def _scene(seed, shape=(64, 80), nan_frac=0.01, dtype=np.float32):
    """A blot with a source and a NaN sprinkling, data = blot + noise + CRs."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    y, x = np.mgrid[:ny, :nx]
    blot = 1.5 + 50 * np.exp(-((x - nx / 3) ** 2 + (y - ny / 2) ** 2) / 8.0)
    blot = blot.astype(dtype)
    err = np.full(shape, 0.05, dtype)
    sci = (blot + rng.normal(scale=0.05, size=shape)).astype(dtype)
    crs = rng.random(shape) < 0.01
    sci[crs] += rng.uniform(0.2, 1e4, crs.sum()).astype(dtype)
    blot[rng.random(shape) < nan_frac] = np.nan
    sci[rng.random(shape) < nan_frac] = np.nan
    err[rng.random(shape) < nan_frac / 2] = np.nan
    err[0, 0] = np.inf
    blot[1, 1] = np.inf
    return sci, err, blot


@pytest.mark.parametrize("seed", range(4))
def test_abs_deriv_parity(seed):
    _, _, blot = _scene(seed)
    blot[5, 5] = -np.inf
    _assert_bitwise(outlier.abs_deriv(blot), su._abs_deriv(blot))
    b64 = blot.astype(np.float64)
    _assert_bitwise(outlier.abs_deriv(b64), su._abs_deriv(b64))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("snr", [1.0, 3.3, 5.0])
def test_flag_crs_parity(seed, snr):
    sci, err, blot = _scene(seed)
    _assert_bitwise(outlier.flag_crs(sci, err, blot, snr), su.flag_crs(sci, err, blot, snr))


def test_flag_crs_parity_cube_with_broadcast_and_float64_median():
    rng = np.random.default_rng(7)
    cube = rng.normal(size=(12, 20, 24)).astype(np.float32)
    cube[rng.random(cube.shape) < 0.01] += 40
    err = np.full_like(cube, 0.8)
    err[0, 0, 0] = np.nan
    med2d = np.median(cube, axis=0).astype(np.float32)
    med2d[3, 3] = np.nan
    _assert_bitwise(outlier.flag_crs(cube, err, med2d, 5.0), su.flag_crs(cube, err, med2d, 5.0))
    med3d = rng.normal(size=cube.shape)  # float64, as the rolling median
    _assert_bitwise(outlier.flag_crs(cube, err, med3d, 2.0), su.flag_crs(cube, err, med3d, 2.0))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "params",
    [(5.0, 4.0, 1.2, 0.7, 0.0), (3.0, 2.5, 0.5, 0.3, 1.5), (5.0, 4.0, 1.2, 0.7, -0.3)],
)
def test_flag_resampled_crs_parity(seed, params):
    sci, err, blot = _scene(seed)
    got = outlier.flag_resampled_crs(sci, err, blot, *params)
    want = su.flag_resampled_crs(sci, err, blot, *params)
    _assert_bitwise(got, want)
    assert want.sum() > 0


def test_flag_resampled_crs_parity_float64():
    sci, err, blot = (a.astype(np.float64) for a in _scene(9))
    _assert_bitwise(
        outlier.flag_resampled_crs(sci, err, blot, 5, 4, 1.2, 0.7, 0.1),
        su.flag_resampled_crs(sci, err, blot, 5, 4, 1.2, 0.7, 0.1),
    )


def _ref_threshold(w, maskpt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return su.compute_weight_threshold(w, maskpt)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shape", [(7,), (100, 120), (300, 257), (5, 40, 40)])
def test_compute_weight_threshold_parity(seed, shape):
    rng = np.random.default_rng(seed)
    w = rng.gamma(4.0, 0.25, size=shape).astype(np.float32)
    w[rng.random(shape) < 0.1] = 0
    w[rng.random(shape) < 0.01] *= 50
    w[rng.random(shape) < 0.01] = np.nan
    for maskpt in (0.7, 0.5):
        got = outlier.compute_weight_threshold(w, maskpt)
        want = _ref_threshold(w, maskpt)
        assert got == pytest.approx(want, rel=1e-6)
        assert (w < got).sum() == (w < want).sum()


def test_compute_weight_threshold_parity_float64_and_dq_weights():
    rng = np.random.default_rng(3)
    w = rng.uniform(0.1, 3.0, (90, 110))
    assert outlier.compute_weight_threshold(w, 0.7) == pytest.approx(
        _ref_threshold(w, 0.7), rel=1e-12
    )
    good = (rng.random((6, 30, 30)) > 0.05).astype(np.float32)  # TSO/coron 0/1 weights
    assert outlier.compute_weight_threshold(good, 0.7) == _ref_threshold(good, 0.7)
    assert np.isnan(outlier.compute_weight_threshold(np.zeros((4, 4), np.float32), 0.7))
    assert np.isnan(_ref_threshold(np.zeros((4, 4), np.float32), 0.7))


def _ref_medfilt(a, k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return su.medfilt(a, k)


@pytest.mark.parametrize(
    "shape, k, dtype",
    [
        ((60, 50), (7, 7), np.float64),
        ((60, 50), (3, 5), np.float64),
        ((33, 47), (5, 3), np.float32),
        ((9, 30, 20), (3, 3, 3), np.float64),
        ((40,), (5,), np.float32),
        ((60, 50), (4, 3), np.float64),
    ],
)
def test_medfilt_parity(shape, k, dtype):
    rng = np.random.default_rng(len(shape) * 10 + k[0])
    a = rng.normal(size=shape).astype(dtype)
    a[rng.random(shape) < 0.1] = np.nan
    a[(slice(2, 9),) * len(shape)] = np.nan  # all-NaN windows in the interior
    _assert_bitwise(outlier.medfilt(a, k), _ref_medfilt(a, k))


jwst_tso = pytest.importorskip("jwst.outlier_detection.tso")


@pytest.mark.parametrize("w", [3, 4, 5, 7, 24, 25])
def test_rolling_median_parity(w):
    rng = np.random.default_rng(w)
    cube = rng.normal(size=(60, 12, 37)).astype(np.float32)
    cube[rng.random(cube.shape) < 0.002] = np.nan
    cube[10, 3, 3] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = jwst_tso.moving_median_over_zeroth_axis(cube, w)
    _assert_bitwise(outlier.moving_median_over_zeroth_axis(cube, w), want)


def test_tso_rolling_path_flags_like_the_reference():
    """TSO flow of spec §4.3 from the primitives: same mask as jwst's pieces."""
    rng = np.random.default_rng(50)
    data = (100 + rng.normal(size=(50, 16, 20))).astype(np.float32)
    err = np.ones_like(data)
    dq = np.zeros(data.shape, np.uint32)
    data[5, 7, 7] += 10  # a 10-sigma CR
    dq[rng.random(dq.shape) < 0.01] = 1
    wht = (dq & 1 == 0).astype(np.float32)
    thr = outlier.compute_weight_threshold(wht, 0.7)
    assert thr == _ref_threshold(wht, 0.7)
    masked = data.copy()
    masked[wht < thr] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_med = jwst_tso.moving_median_over_zeroth_axis(masked, 7)
    ours = outlier.compute_rolling_median(data, wht, thr, w=7)
    _assert_bitwise(ours, ref_med)
    mask = outlier.flag_crs(data, err, ours, 5.0)
    _assert_bitwise(mask, su.flag_crs(data, err, ref_med, 5.0))
    assert mask[5, 7, 7]


jwst_ifu = pytest.importorskip("jwst.outlier_detection.ifu")


def _ifu_models(n_models, shape, detector, seed):
    from stdatamodels.jwst import datamodels

    rng = np.random.default_rng(seed)
    base = np.arange(shape[0] * shape[1], dtype=np.float32).reshape(shape)
    models = []
    for _ in range(n_models):
        m = datamodels.IFUImageModel(shape)
        m.data = (base + rng.normal(scale=3.0, size=shape)).astype(np.float32)
        bad = rng.random(shape) < 0.002
        m.data[rng.random(shape) < 0.001] += 1e4  # transient in one exposure
        m.dq = np.where(bad, 1, 0).astype(np.uint32)
        m.err = np.ones(shape, np.float32)
        m.meta.instrument.detector = detector
        models.append(m)
    models[0].data[:, :4] = np.nan  # e.g. reference columns, NaN in every exposure
    models[1].data[:, :4] = np.nan
    return models


@pytest.mark.parametrize(
    "detector, diffaxis, second_check",
    [("MIRIFUSHORT", 1, False), ("MIRIFUSHORT", 1, True), ("NRS1", 0, False)],
)
def test_ifu_flag_outliers_parity(monkeypatch, detector, diffaxis, second_check):
    shape = (96, 110)
    captured = {}

    class _Opt:
        def update(self, *_):
            pass

    def capture(opt_info):
        captured["opt"] = opt_info
        return _Opt()

    monkeypatch.setattr(jwst_ifu, "create_optional_results_model", capture)
    monkeypatch.setattr(jwst_ifu, "_save_intermediate_output", lambda *a, **k: None)
    models = _ifu_models(2, shape, detector, seed=diffaxis)
    sci = [m.data.copy() for m in models]
    dqs = [m.dq.copy() for m in models]
    kern = np.array([7, 5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        jwst_ifu.flag_outliers(
            models,
            0,
            np.array([detector.lower()]),
            2,
            diffaxis,
            shape[1],
            shape[0],
            kern,
            99.8,
            True,
            second_check,
            None,
        )
    _, _, _, diffarr, minarr, normarr, minnorm = captured["opt"]

    for j in range(2):
        _assert_bitwise(outlier.min_neighbour_diff(sci[j], diffaxis, dq=dqs[j]), diffarr[j])
    ours_min = outlier.min_neighbour_diff(sci, diffaxis, dq=dqs)
    _assert_bitwise(ours_min, minarr)
    r = outlier.ifu_flag(ours_min, tuple(kern), 99.8)
    _assert_bitwise(r.normarr, normarr)
    _assert_bitwise(r.minnorm, minnorm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_pct = np.nanpercentile(minnorm[4:-4, 4:-4], 99.8)
    assert r.pct == ref_pct
    flagged = r.mask | (np.isnan(ours_min) if second_check else False)
    for j, m in enumerate(models):
        newly = ((m.dq & 16) != 0) & ((dqs[j] & 16) == 0)
        np.testing.assert_array_equal(newly, flagged)
