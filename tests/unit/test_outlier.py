"""pyspec.outlier primitives: semantics, bad input, thread independence, and
the ports of stcal's ``tests/outlier_detection/test_utils.py`` and jwst's
``test_algorithms.py``/``test_ifu.py`` numerics (spec §14)."""

from __future__ import annotations

import numpy as np
import pytest

import pyspec
from pyspec import outlier
from pyspec.outlier import (
    abs_deriv,
    compute_rolling_median,
    compute_weight_threshold,
    flag_crs,
    flag_resampled_crs,
    ifu_flag,
    medfilt,
    min_neighbour_diff,
    moving_median_over_zeroth_axis,
    nanpercentile,
)


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint8)


@pytest.fixture
def threads():
    yield
    pyspec.set_num_threads(0)


# --- abs_deriv -----------------------------------------------------------------


def _cross_convolve(a: np.ndarray) -> np.ndarray:
    """|a| convolved with a 3x3 cross (zero outside)."""
    p = np.pad(np.abs(a), 1)
    return p[1:-1, 1:-1] + p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]


@pytest.mark.parametrize("shape, diff", [([5, 7], 100), ([17, 13], -200)])
def test_abs_deriv_single_value(shape, diff):
    arr = np.zeros(shape)
    np.put(arr, arr.size // 2, diff)
    np.testing.assert_allclose(abs_deriv(arr), _cross_convolve(arr))


@pytest.mark.parametrize("nrows, ncols", [(5, 5), (7, 11), (17, 13)])
def test_abs_deriv_range(nrows, ncols):
    arr = np.arange(nrows * ncols).reshape(nrows, ncols)
    np.testing.assert_allclose(abs_deriv(arr), ncols)


def test_abs_deriv_nan():
    arr = np.arange(25, dtype=np.float32).reshape(5, 5)
    arr[2, 3] = np.nan
    d = abs_deriv(arr)
    assert np.isnan(d[2, 3]) and np.isnan(d).sum() == 1
    assert d.dtype == np.float32


def test_abs_deriv_keeps_float32_arithmetic():
    arr = np.array([[16777216.0, 16777217.0, 3.0]], dtype=np.float32)
    d = abs_deriv(arr)
    # float32(16777217) == 16777216, so the first difference is 0 in float32.
    assert d[0, 0] == 0.0 and d[0, 2] == np.float32(16777216.0) - np.float32(3.0)


def test_abs_deriv_rejects_non_2d():
    with pytest.raises(ValueError):
        abs_deriv(np.zeros((2, 3, 4)))
    with pytest.raises(TypeError):
        abs_deriv(np.zeros((3, 3), dtype=complex))


# --- flag_crs / flag_resampled_crs ---------------------------------------------------


def test_flag_crs():
    sci = np.zeros((10, 10), dtype=np.float32)
    err = np.ones_like(sci)
    blot = np.zeros_like(sci)
    sci[2, 3] = 10
    ys, xs = np.where(flag_crs(sci, err, blot, 1))
    np.testing.assert_equal(ys, 2)
    np.testing.assert_equal(xs, 3)


def test_flag_resampled_crs():
    sci = np.zeros((10, 10), dtype=np.float32)
    err = np.ones_like(sci)
    blot = np.zeros_like(sci)
    sci[2, 3] = 10
    ys, xs = np.where(flag_resampled_crs(sci, err, blot, 5, 4, 1.2, 0.7, 0.0))
    np.testing.assert_equal(ys, 2)
    np.testing.assert_equal(xs, 3)


def test_flag_crs_nan_error_flags_any_difference():
    # Q11 (replicated): nan_to_num(NaN) = 0.
    sci = np.array([[1e-3, 0.0, np.nan]], np.float32)
    err = np.full_like(sci, np.nan)
    blot = np.zeros_like(sci)
    np.testing.assert_array_equal(flag_crs(sci, err, blot, 5.0), [[True, False, False]])


def test_flag_crs_broadcasts_a_2d_median_over_a_cube():
    rng = np.random.default_rng(1)
    cube = rng.normal(size=(4, 6, 5)).astype(np.float32)
    err = np.full_like(cube, 0.5)
    med = np.median(cube, axis=0)
    got = flag_crs(cube, err, med, 1.0)
    assert got.shape == cube.shape
    np.testing.assert_array_equal(got, np.abs(cube - med) > np.float32(1.0) * err)


def test_flag_crs_with_a_float64_median_compares_in_float64():
    sci = np.array([[16777217.0]], np.float32)  # rounds to 16777216
    med = np.array([[16777216.5]])
    err = np.array([[0.1]], np.float32)
    assert flag_crs(sci, err, med, 1.0)[0, 0]  # |16777216 - 16777216.5| = 0.5 > 0.1


def test_flag_resampled_crs_flags_weak_neighbours_of_a_strong_hit():
    sci = np.zeros((7, 7), np.float32)
    err = np.ones_like(sci)
    blot = np.zeros_like(sci)
    sci[3, 3] = 10.0  # passes snr1 = 5
    sci[3, 4] = 4.5  # passes only snr2 = 4, next to a primary hit
    sci[0, 0] = 4.5  # passes only snr2, isolated
    mask = flag_resampled_crs(sci, err, blot, 5.0, 4.0, 1.2, 0.7, 0.0)
    assert mask[3, 3] and not mask[0, 0]
    # The neighbour: the derivative of a flat blot is 0, so only snr counts.
    assert mask[3, 4]


def test_flag_resampled_crs_background_is_added_to_the_blot():
    sci = np.full((5, 5), 3.0, np.float32)
    err = np.full_like(sci, 0.1)
    blot = np.zeros_like(sci)
    assert not flag_resampled_crs(sci, err, blot, 5, 4, 1.2, 0.7, 3.0).any()
    assert flag_resampled_crs(sci, err, blot, 5, 4, 1.2, 0.7, 0.0).all()


def test_flag_resampled_crs_bad_shapes():
    with pytest.raises(ValueError):
        flag_resampled_crs(np.zeros((3, 3)), np.zeros((3, 3)), np.zeros((3, 3, 3)), 5, 4, 1, 1, 0)
    with pytest.raises(ValueError):
        flag_resampled_crs(np.zeros((3, 4)), np.zeros((3, 3)), np.zeros((3, 3)), 5, 4, 1, 1, 0)
    with pytest.raises(ValueError):
        flag_crs(np.zeros((3, 4)), np.zeros((3, 3)), np.zeros((3, 4)), 5)


def test_empty_images_give_empty_masks():
    e = np.zeros((0, 5), np.float32)
    assert flag_resampled_crs(e, e, e, 5, 4, 1.2, 0.7, 0).shape == (0, 5)
    assert flag_crs(e, e, e, 5).shape == (0, 5)
    assert abs_deriv(e).shape == (0, 5)


# --- compute_weight_threshold ----------------------------------------------------------


@pytest.mark.parametrize(
    "shape, mean, maskpt, expected",
    [([5, 5], 11, 0.5, 5.5), ([5, 5], 11, 0.25, 2.75), ([3, 3, 3], 17, 0.5, 8.5)],
)
def test_compute_weight_threshold(shape, mean, maskpt, expected):
    arr = np.ones(shape, dtype=np.float32) * mean
    np.testing.assert_allclose(compute_weight_threshold(arr, maskpt), expected)


def test_compute_weight_threshold_outlier():
    arr = np.ones([7, 7, 7], dtype=np.float32) * 42
    arr[3, 3] = 9000
    np.testing.assert_allclose(compute_weight_threshold(arr, 0.5), 21)


def test_compute_weight_threshold_zeros():
    arr = np.zeros([10, 10], dtype=np.float32)
    arr[:5, :5] = 42
    np.testing.assert_allclose(compute_weight_threshold(arr, 0.5), 21)


def test_compute_weight_threshold_without_usable_weight_is_nan():
    assert np.isnan(compute_weight_threshold(np.zeros((4, 4), np.float32), 0.7))
    assert np.isnan(compute_weight_threshold(np.full((4, 4), np.inf, np.float32), 0.7))


def test_compute_weight_threshold_memory():
    """stcal test_compute_weight_threshold_memory, measured on the RSS (the
    Rust allocations are invisible to tracemalloc): less than 0.9x the array."""
    import ctypes
    import threading

    psutil = pytest.importorskip("psutil")
    arr = np.zeros([2000, 2000], dtype=np.float32)
    arr[:1000, :1000] = 42
    arr[10, 10] = 0
    arr[-10, -10] = np.nan
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            stop.wait(0.001)

    t = threading.Thread(target=poll)
    t.start()
    try:
        result = compute_weight_threshold(arr, 0.5)
    finally:
        stop.set()
        t.join()
    np.testing.assert_allclose(result, 21)
    assert peak[0] - base < 0.9 * arr.nbytes


def test_compute_weight_threshold_is_scale_invariant():
    rng = np.random.default_rng(5)
    w = rng.uniform(0.5, 1.5, (64, 64)).astype(np.float32)
    a = compute_weight_threshold(w, 0.7)
    b = compute_weight_threshold(w * np.float32(4.0), 0.7)
    assert b == pytest.approx(4 * a, rel=1e-6)


# --- medfilt ----------------------------------------------------------------------------


def _scipy_medfilt(arr, kern_size):
    signal = pytest.importorskip("scipy.signal")
    return signal.medfilt(arr, kern_size)


@pytest.mark.parametrize(
    "shape, kern_size",
    [
        ([7, 7], [3, 3]),
        ([7, 7], [3, 1]),
        ([7, 7], [1, 3]),
        ([7, 5], [3, 3]),
        ([5, 7], [3, 3]),
        ([42, 42], [7, 7]),
        ([42, 42], [7, 5]),
        ([42, 42], [5, 7]),
        ([42, 7, 5], [3, 3, 3]),
        ([5, 7, 42], [5, 5, 5]),
    ],
)
def test_medfilt_against_scipy(shape, kern_size):
    arr = np.arange(np.prod(shape), dtype="uint32").reshape(shape)
    np.testing.assert_allclose(medfilt(arr, kern_size), _scipy_medfilt(arr, kern_size))


@pytest.mark.parametrize(
    "arr, kern_size, expected",
    [([2, np.nan, 0], [3], [1, 1, 0]), ([np.nan, np.nan, np.nan], [3], [0, np.nan, 0])],
)
def test_medfilt_nan(arr, kern_size, expected):
    np.testing.assert_allclose(medfilt(arr, kern_size), expected)


def test_medfilt_even_kernel_grows_the_output_like_the_reference():
    assert medfilt(np.ones((5, 6)), [2, 3]).shape == (6, 6)


@pytest.mark.parametrize(
    "arr, k, exc",
    [
        (np.ones((3, 3)), [3], ValueError),
        (np.ones((3, 3)), [0, 3], ValueError),
        (np.ones((2, 2, 2, 2)), [1, 1, 1, 1], ValueError),
        (np.ones((0, 3)), [3, 3], ValueError),
        (np.ones((3, 3), dtype=complex), [3, 3], TypeError),
    ],
)
def test_medfilt_bad_input(arr, k, exc):
    with pytest.raises(exc):
        medfilt(arr, k)


# --- TSO rolling median -----------------------------------------------------------------


@pytest.mark.parametrize(
    "w, expected_time_axis",
    [
        (3, [1, 1, 2, 3, 4, 5, 6, 7, 8, 8]),
        (4, [1.5, 1.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 7.5]),
        (6, [2.5, 2.5, 2.5, 2.5, 3.5, 4.5, 5.5, 6.5, 6.5, 6.5]),
    ],
)
def test_rolling_median(w, expected_time_axis):
    arr = np.arange(10)[:, None, None] * np.ones((5, 5))[None]
    result = moving_median_over_zeroth_axis(arr, w)
    expected = np.array(expected_time_axis)[:, None, None] * np.ones((5, 5))[None]
    np.testing.assert_array_equal(result, expected)
    assert result.dtype == np.float64


def test_rolling_median_window_of_two_keeps_the_computed_planes():
    # Q14 (improved): the reference returns [8.5] * 10 here.
    arr = np.arange(10, dtype=np.float32)[:, None, None]
    got = moving_median_over_zeroth_axis(arr, 2)[:, 0, 0]
    np.testing.assert_array_equal(got, [0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5])


def test_rolling_median_propagates_nan_over_the_window():
    # Q3 (replicated): one NaN hides its pixel for every window containing it.
    arr = np.arange(10, dtype=np.float32)[:, None, None].copy()
    arr[5] = np.nan
    got = moving_median_over_zeroth_axis(arr, 3)[:, 0, 0]
    assert np.isnan(got[4:7]).all() and np.isfinite(got[[0, 1, 2, 3, 7, 8, 9]]).all()


def test_rolling_median_accepts_1d_and_2d_time_series():
    x = np.arange(10.0)
    np.testing.assert_array_equal(
        moving_median_over_zeroth_axis(x, 3), [1, 1, 2, 3, 4, 5, 6, 7, 8, 8]
    )
    assert moving_median_over_zeroth_axis(np.ones((10, 4)), 3).shape == (10, 4)


@pytest.mark.parametrize("w", [-1, 0, 1, 11])
def test_rolling_median_bad_window(w):
    with pytest.raises(ValueError):
        moving_median_over_zeroth_axis(np.ones((10, 2, 2)), w)


def test_compute_rolling_median_masks_low_weights_without_touching_the_input():
    data = np.arange(10, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32)
    wht = np.ones_like(data)
    wht[5, 0, 0] = 0
    before = data.copy()
    med = compute_rolling_median(data, wht, 0.7, w=3)
    np.testing.assert_array_equal(data, before)
    assert np.isnan(med[4:7, 0, 0]).all() and not np.isnan(med[:, 1, 1]).any()


# --- IFU primitives ------------------------------------------------------------------------


def test_neighbour_differences_compare_edges_with_zero():
    sci = np.array([[1.0, 4.0, np.nan, 10.0]], np.float32)
    np.testing.assert_array_equal(min_neighbour_diff(sci, 1), [[1.0, 3.0, np.nan, 10.0]])
    col = sci.T.copy()
    np.testing.assert_array_equal(min_neighbour_diff(col, 0), [[1.0], [3.0], [np.nan], [10.0]])


def test_min_neighbour_diff_takes_the_minimum_over_frames_and_masks_dq():
    a = np.array([[0.0, 5.0, 0.0]], np.float32)
    b = np.array([[0.0, 1.0, 0.0]], np.float32)
    np.testing.assert_array_equal(min_neighbour_diff([a, b], 1), [[0.0, 1.0, 0.0]])
    dq = [np.zeros((1, 3), np.uint32), np.array([[0, 1, 0]], np.uint32)]
    before = b.copy()
    np.testing.assert_array_equal(min_neighbour_diff([a, b], 1, dq=dq), [[0.0, 5.0, 0.0]])
    np.testing.assert_array_equal(b, before)


def test_min_neighbour_diff_bad_input():
    with pytest.raises(ValueError):
        min_neighbour_diff([], 1)
    with pytest.raises(ValueError):
        min_neighbour_diff([np.ones((2, 2)), np.ones((3, 2))], 1)
    with pytest.raises(ValueError):
        min_neighbour_diff(np.ones((2, 2)), 2)
    with pytest.raises(TypeError):
        min_neighbour_diff(np.ones((2, 2)), 1, dq=np.ones((2, 2)))


def test_nanpercentile_matches_numpy():
    rng = np.random.default_rng(2)
    a = rng.normal(size=1001)
    a[::7] = np.nan
    for q in (0, 0.1, 25, 50, 99.8, 100):
        assert nanpercentile(a, q) == np.nanpercentile(a, q)
    assert np.isnan(nanpercentile(np.full(3, np.nan), 50))
    with pytest.raises(ValueError):
        nanpercentile(a, 100.5)


@pytest.mark.parametrize("n, diffaxis, expected", [(100, 1, 20), (2048, 0, 23)])
def test_ifu_with_outliers_flag_count(n, diffaxis, expected):
    """jwst test_ifu_with_outliers numerics: two identical arange frames.

    MIRI (100x100, left/right neighbours) flags exactly 20 pixels, NIRSpec
    (2048x2048, above/below neighbours) 23.
    """
    d = np.arange(n * n, dtype=np.float32).reshape(n, n)
    minarr = min_neighbour_diff([d, d.copy()], diffaxis)
    r = ifu_flag(minarr, (7, 7), 99.8)
    assert r.mask.sum() == expected
    # Second check: minarr has no NaN, so it would add nothing.
    assert not np.isnan(minarr).any()


def test_ifu_flag_bad_kernel():
    with pytest.raises(ValueError, match="odd"):
        ifu_flag(np.ones((20, 20)), (6, 7))


def test_ifu_flag_small_frame_flags_nothing():
    r = ifu_flag(np.ones((8, 8)), (3, 3))
    assert np.isnan(r.pct) and not r.mask.any()


# --- threads ---------------------------------------------------------------------------


def test_every_primitive_is_thread_count_independent(threads):
    rng = np.random.default_rng(11)
    sci = rng.normal(size=(130, 90)).astype(np.float32)
    blot = sci + rng.normal(scale=0.1, size=sci.shape).astype(np.float32)
    sci[rng.random(sci.shape) < 0.01] += 30
    blot[rng.random(sci.shape) < 0.01] = np.nan
    err = np.full_like(sci, 0.1)
    cube = rng.normal(size=(30, 40, 50)).astype(np.float32)
    weight = rng.uniform(0.5, 1.5, sci.shape).astype(np.float32)

    def run():
        return [
            abs_deriv(blot),
            flag_crs(sci, err, blot, 5.0),
            flag_resampled_crs(sci, err, blot, 5.0, 4.0, 1.2, 0.7, 0.0),
            np.float64(compute_weight_threshold(weight, 0.7)),
            medfilt(blot, [7, 5]),
            moving_median_over_zeroth_axis(cube, 7),
            min_neighbour_diff([sci, blot], 1),
            ifu_flag(min_neighbour_diff([sci, blot], 0), (5, 5), 99.0).minnorm,
        ]

    pyspec.set_num_threads(1)
    one = run()
    pyspec.set_num_threads(2)
    two = run()
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(_bits(np.asarray(a)), _bits(np.asarray(b)))


def test_outlier_constants():
    assert outlier.DO_NOT_USE | outlier.OUTLIER == 17
