"""Hypothesis properties of pyspec.median (issue checks 3): agreement with a
float64 nan-median, frame-permutation invariance, thread-count independence,
and on-disk == in-memory for any buffer size."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pyspec
from pyspec.median import MedianComputer, nanmedian

VALUES = st.one_of(
    st.floats(width=32, allow_nan=True, allow_infinity=True),
    st.sampled_from([np.nan, 0.0, -0.0, 1.0, -1.0, 16777216.0, 3.0, 3e38, -3e38]),
)


@st.composite
def stacks(draw, max_n=24, max_side=9):
    n = draw(st.integers(0, max_n))
    ny = draw(st.integers(1, max_side))
    nx = draw(st.integers(1, max_side))
    return draw(hnp.arrays(np.float32, (n, ny, nx), elements=VALUES))


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


@given(stacks())
def test_median_equals_float64_nanmedian_rounded_unless_the_float32_average_rounds(stack):
    got = nanmedian(stack)
    n = stack.shape[0]
    if n == 0:
        assert np.isnan(got).all()
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want32 = np.nanmedian(stack.astype(np.float64), axis=0).astype(np.float32)
        # The two middle values a, b of every pixel (NaN sorts last) and
        # their float32 average, which is what an even count gives.
        srt = np.sort(stack, axis=0)
        cnt = (~np.isnan(stack)).sum(axis=0)
        hi = np.minimum(cnt // 2, n - 1)
        lo = np.maximum(cnt // 2 - 1, 0)
        a = np.take_along_axis(srt, lo[None], 0)[0]
        b = np.take_along_axis(srt, hi[None], 0)[0]
        avg32 = (a + b) / np.float32(2)
    even = (cnt > 0) & (cnt % 2 == 0)
    same = (avg32 == want32) | (np.isnan(avg32) & np.isnan(want32))
    differs = even & ~same
    np.testing.assert_array_equal(got[~differs], want32[~differs])  # NaN == NaN, -0 == +0
    np.testing.assert_array_equal(got[differs], avg32[differs])
    assert not np.signbit(got[got == 0]).any()


@given(stacks(max_n=12), st.randoms(use_true_random=False))
def test_permuting_frames_does_not_change_the_median(stack, rnd):
    perm = list(range(stack.shape[0]))
    rnd.shuffle(perm)
    np.testing.assert_array_equal(_bits(nanmedian(stack[perm])), _bits(nanmedian(stack)))


@pytest.fixture(scope="module")
def _restore_threads():
    yield
    pyspec.set_num_threads(0)


@given(stacks(max_n=30, max_side=40), st.integers(2, 4))
def test_one_thread_equals_n_threads(_restore_threads, stack, n_threads):
    pyspec.set_num_threads(1)
    one = nanmedian(stack)
    pyspec.set_num_threads(n_threads)
    many = nanmedian(stack)
    pyspec.set_num_threads(0)
    np.testing.assert_array_equal(_bits(one), _bits(many))


@given(
    stacks(max_n=10, max_side=12).filter(lambda s: s.shape[0] > 0),
    st.one_of(st.none(), st.integers(-10, 10), st.integers(0, 10**7)),
    st.booleans(),
)
def test_on_disk_equals_in_memory_for_any_buffer_size(
    tmp_path_factory, stack, buffer_size, use_budget
):
    tmp = tmp_path_factory.mktemp("med")
    n, ny, nx = stack.shape
    kwargs = {"buffer_size": buffer_size}
    if use_budget:
        rows = 1 if buffer_size is None else max(1, abs(buffer_size) % (ny + 1))
        kwargs = {"memory_budget": rows * n * nx * 4}
    disk = MedianComputer(stack.shape, False, tempdir=tmp, **kwargs)
    mem = MedianComputer(stack.shape, True)
    for i, frame in enumerate(stack):
        disk.append(frame, i)
        mem.append(frame, i)
    np.testing.assert_array_equal(_bits(disk.evaluate()), _bits(mem.evaluate()))
    assert list(tmp.iterdir()) == []
