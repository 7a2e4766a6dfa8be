"""Hypothesis properties of pyspec.bspline and pyspec.trace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import pyspec
from pyspec import trace as pt
from pyspec.bspline import BSpline, bspline_fit


@given(
    n=st.integers(300, 3000),
    lo=st.floats(-5.0, 5.0),
    width=st.floats(0.5, 50.0),
    nbkpts=st.integers(4, 40),
    seed=st.integers(0, 2**32 - 1),
    exact=st.booleans(),
    f32=st.booleans(),
)
@settings(max_examples=25)
def test_fit_reproduces_exact_spline_data_on_its_knot_grid(n, lo, width, nbkpts, seed, exact, f32):
    rng = np.random.default_rng(seed)
    x = np.sort(lo + width * (np.arange(n) + rng.uniform(0.1, 0.9, n)) / n)
    x = x.astype(np.float32 if f32 else np.float64)
    # the knot grid bspline_fit builds for these abscissae
    grid = bspline_fit(x, np.zeros(n), nbkpts=nbkpts, wrapiter=1)
    assert grid is not None
    c = rng.normal(0.0, 1.0, grid.c.size)
    y = BSpline(grid.t, c)(x.astype(np.float64))
    # one iteration: with exact data the residuals are pure rounding noise
    fit = bspline_fit(x, y, nbkpts=nbkpts, wrapiter=1, exact=exact)
    np.testing.assert_array_equal(fit.t, grid.t)
    inside = (x >= grid.t[0]) & (x <= grid.t[-1])
    scale = np.max(np.abs(y))
    np.testing.assert_allclose(fit(x[inside].astype(np.float64)), y[inside], atol=1e-9 * scale)


def flat_exposure(ny, nx, r0, r1, value, errv):
    data = np.full((ny, nx), np.nan, np.float32)
    err = np.full((ny, nx), np.nan, np.float32)
    regions = np.zeros((ny, nx), np.int32)
    regions[r0:r1] = 1
    data[r0:r1] = value
    err[r0:r1] = errv
    alpha = np.where(regions > 0, (np.arange(ny)[:, None] - (r0 + r1) / 2) * 0.1, np.nan)
    alpha = np.broadcast_to(alpha, (ny, nx)).copy()
    return data, err, alpha, regions


@given(
    n=st.sampled_from([2, 3, 4]),
    value=st.floats(0.5, 1e4),
    errv=st.floats(0.01, 10.0),
    rows=st.integers(8, 30),
    r0=st.integers(0, 10),
    nx=st.integers(5, 60),
)
@settings(max_examples=30)
def test_oversampling_flat_data_preserves_the_mean_and_inflates_errors(
    n, value, errv, rows, r0, nx
):
    ny = r0 + rows + 5
    data, err, alpha, regions = flat_exposure(ny, nx, r0, r0 + rows, value, errv)
    y_os = pt.oversampled_rows(ny, n)
    aos = np.broadcast_to(((y_os - (2 * r0 + rows) / 2) * 0.1)[:, None], (y_os.size, nx)).copy()
    res = pt.fit_and_oversample(
        data, err, alpha, regions, mode="NRS_SLIT", oversample=n, alpha_os=aos
    )
    d = res.data[np.isfinite(res.data)]
    # the outer trunc(N) new rows of each column are blanked: N*rows - 2N remain
    assert d.size == nx * (n * rows - 2 * n)
    np.testing.assert_allclose(d.mean(dtype=np.float64), np.float32(value), rtol=1e-6)
    e = res.err[np.isfinite(res.err)]
    expect = np.float32(errv) * np.float32(0.23 * n + 0.77)
    np.testing.assert_allclose(e, expect, rtol=1e-6)


@given(
    seed=st.integers(0, 1000),
    n=st.sampled_from([1.0, 2.0, 3.0]),
    mode=st.sampled_from(["NRS_IFU", "MIR_MRS", "NRS_SLIT"]),
    psf=st.booleans(),
    exact=st.booleans(),
)
@settings(max_examples=12)
def test_one_thread_and_two_threads_give_bitwise_identical_results(seed, n, mode, psf, exact):
    nreg = 3 if mode in ("NRS_IFU", "MIR_MRS") else 1
    exp = pt.synthetic_exposure(
        (100, 150), nreg, mode=mode, rows_per_region=26, oversample=(2.0, 3.0), seed=seed
    )
    kw = dict(
        mode=mode,
        dq=exp.dq,
        var_rnoise=exp.var_rnoise,
        oversample=n,
        alpha_os=exp.alpha_os.get(n),
        psf_optimal=psf,
        exact=exact,
    )
    out = []
    try:
        for threads in (1, 2):
            pyspec.set_num_threads(threads)
            out.append(pt.fit_and_oversample(exp.data, exp.err, exp.alpha, exp.regions, **kw))
    finally:
        pyspec.set_num_threads(0)
    a, b = out
    for name in ("trace_model", "data", "err", "dq", "var_rnoise", "spline_full"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
