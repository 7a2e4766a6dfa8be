"""Bitwise parity of pyspec.median with stcal 1.20.0 (spec §5.4, §5.5, §13)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

stcal_median = pytest.importorskip("stcal.outlier_detection.median")

from pyspec.median import MedianComputer, nanmedian, nanmedian3D  # noqa: E402


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint8)


def _ref_nanmedian(st: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return stcal_median.nanmedian3D(st.copy())


def _random_stack(n, ny, nx, seed, nan_frac=0.05, dtype=np.float32):
    rng = np.random.default_rng(seed)
    st = (rng.normal(size=(n, ny, nx)) * rng.uniform(0.1, 100)).astype(dtype)
    st[rng.random(st.shape) < nan_frac] = np.nan
    return st


def _with_outliers(st, seed):
    rng = np.random.default_rng(seed + 1000)
    st = st.copy()
    hit = rng.random(st.shape) < 0.02
    st[hit] += rng.uniform(50, 1e5, hit.sum()).astype(st.dtype)
    st[:, 0, :3] = np.nan  # all-NaN pixels
    st[0, 1, 1], st[1, 1, 1] = np.inf, -np.inf
    st[2, 2, 2] = np.inf
    st[0, 3, 3] = -0.0
    # even counts whose float32 sum rounds (16777216 + 3)
    st[:, 4, 4] = np.nan
    st[0, 4, 4], st[1, 4, 4] = 16777216.0, 3.0
    return st


@pytest.mark.parametrize("n", [1, 2, 3, 8, 20, 31, 64, 100])
@pytest.mark.parametrize("kind", ["random", "outliers"])
def test_nanmedian_matches_nanmedian3D_bitwise(n, kind):
    st = _random_stack(n, 37, 45, seed=n, nan_frac=0.05 if n < 64 else 0.3)
    if kind == "outliers" and n >= 3:
        st = _with_outliers(st, n)
    ref = _ref_nanmedian(st)
    np.testing.assert_array_equal(_bits(nanmedian(st)), _bits(ref))
    np.testing.assert_array_equal(_bits(nanmedian3D(st)), _bits(ref))


@pytest.mark.parametrize("nan_frac", [0.0, 0.5, 0.95, 1.0])
def test_nanmedian_parity_for_any_nan_fraction(nan_frac):
    st = _random_stack(9, 20, 33, seed=3, nan_frac=nan_frac)
    np.testing.assert_array_equal(_bits(nanmedian(st)), _bits(_ref_nanmedian(st)))


def test_nanmedian_parity_float64():
    st = _with_outliers(_random_stack(11, 25, 30, seed=5, dtype=np.float64), 5)
    np.testing.assert_array_equal(_bits(nanmedian(st)), _bits(_ref_nanmedian(st)))


def test_in_memory_computer_parity():
    st = _with_outliers(_random_stack(8, 40, 33, seed=8), 8)
    ref = stcal_median.MedianComputer(st.shape, True)
    ours = MedianComputer(st.shape, True)
    for i, frame in enumerate(st):
        ref.append(frame, i)
        ours.append(frame, i)
    np.testing.assert_array_equal(_bits(ours.evaluate()), _bits(ref.evaluate()))


@pytest.mark.parametrize("buffer_size", [None, 1, 400, 2000, 40 * 33 * 4])
def test_on_disk_computer_parity(tmp_path, buffer_size):
    """Buffers that stcal supports (at most one frame, ny >= n): same layout, same bits."""
    st = _with_outliers(_random_stack(8, 40, 33, seed=9), 9)
    ref_dir = tmp_path / "ref"
    ours_dir = tmp_path / "ours"
    ref_dir.mkdir()
    ours_dir.mkdir()
    ref = stcal_median.MedianComputer(
        st.shape, False, buffer_size=buffer_size, tempdir=str(ref_dir)
    )
    ours = MedianComputer(st.shape, False, buffer_size=buffer_size, tempdir=ours_dir)
    assert ours.nsections == ref._median_computer.nsections
    assert ours.section_nrows == ref._median_computer.section_nrows
    for i, frame in enumerate(st):
        ref.append(frame, i)
        ours.append(frame, i)
    np.testing.assert_array_equal(_bits(ours.evaluate()), _bits(ref.evaluate()))
    assert list(ours_dir.iterdir()) == []


@pytest.mark.parametrize("buffer_size", [10**6, 10**9])
def test_on_disk_buffers_beyond_stcal_limits_match_its_in_memory_median(tmp_path, buffer_size):
    # stcal raises IndexError here (Q1); pyspec matches stcal's in-memory result.
    st = _with_outliers(_random_stack(12, 10, 33, seed=12), 12)
    ref = stcal_median.MedianComputer(st.shape, True)
    ours = MedianComputer(st.shape, False, buffer_size=buffer_size, tempdir=tmp_path)
    for i, frame in enumerate(st):
        ref.append(frame, i)
        ours.append(frame, i)
    np.testing.assert_array_equal(_bits(ours.evaluate()), _bits(ref.evaluate()))


def test_jwst_same_median_on_disk_case(tmp_path):
    """jwst test_same_median_on_disk: 400 B buffer, 21 one-row sections."""
    st = _random_stack(3, 21, 20, seed=21, nan_frac=0.0)
    st[:, 4, 9] = np.nan
    ref = stcal_median.MedianComputer(st.shape, False, buffer_size=400, tempdir=str(tmp_path))
    ours = MedianComputer(st.shape, False, buffer_size=400, tempdir=tmp_path)
    assert ours.nsections == ref._median_computer.nsections == 21
    for i, frame in enumerate(st):
        ref.append(frame, i)
        ours.append(frame, i)
    np.testing.assert_array_equal(_bits(ours.evaluate()), _bits(ref.evaluate()))
