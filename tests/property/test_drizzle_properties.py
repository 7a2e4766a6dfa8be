"""Hypothesis properties of pyspec.drizzle: flux conservation, identities,
non-negative weights, context semantics and thread-count invariance."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pyspec
from pyspec.drizzle import Drizzle

KERNELS = ["square", "point", "turbo", "gaussian", "lanczos2", "lanczos3"]
NONNEG_KERNELS = ["square", "point", "turbo", "gaussian"]


def affine_pixmap(shape, a, b, c, d, tx, ty):
    y, x = np.indices(shape, dtype=np.float64)
    return np.dstack([a * x + b * y + tx, c * x + d * y + ty])


def drizzle_once(data, pixmap, out_shape, **kw):
    kernel = kw.pop("kernel", "square")
    weight = kw.pop("weight_map", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = Drizzle(kernel=kernel, out_shape=out_shape, fillval="0")
        d.add_image(data, exptime=1.0, pixmap=pixmap, weight_map=weight, **kw)
    return d


images = st.integers(min_value=4, max_value=24).flatmap(
    lambda n: st.tuples(st.just(n), st.integers(min_value=4, max_value=24), st.integers(0, 2**31))
)


@given(
    shape=images,
    angle=st.floats(-np.pi, np.pi),
    scale=st.floats(0.5, 2.0),
    shear=st.floats(-0.3, 0.3),
    pixfrac=st.floats(0.2, 1.0),
    frac=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
def test_square_kernel_conserves_flux_for_affine_maps_inside_output(
    shape, angle, scale, shear, pixfrac, frac
):
    ny, nx, seed = shape
    rng = np.random.default_rng(seed)
    data = rng.uniform(0.0, 10.0, (ny, nx)).astype(np.float32)
    c, s = np.cos(angle), np.sin(angle)
    a, b = scale * c, -scale * s + shear
    cc, d = scale * s, scale * c
    if a * d - b * cc <= 0.05:  # orientation preserving, not degenerate
        return
    pm = affine_pixmap((ny, nx), a, b, cc, d, 0.0, 0.0)
    # place the whole footprint (with a margin) inside the output
    corners = pm.reshape(-1, 2)
    lo = corners.min(axis=0) - 3.0
    hi = corners.max(axis=0) + 3.0
    pm = pm - lo + np.array(frac)
    out_shape = (int(np.ceil(hi[1] - lo[1])) + 3, int(np.ceil(hi[0] - lo[0])) + 3)
    res = drizzle_once(data, pm, out_shape, pixfrac=pixfrac)
    total_in = float(np.sum(data, dtype=np.float64))
    total_out = float(np.sum(res.out_img.astype(np.float64) * res.out_wht))
    assert total_out == pytest.approx(total_in, rel=1e-5)
    assert float(np.sum(res.out_wht, dtype=np.float64)) == pytest.approx(ny * nx, rel=1e-5)


@given(shape=images, kernel=st.sampled_from(["square", "point", "turbo"]))
def test_identity_pixmap_with_pixfrac_one_returns_input(shape, kernel):
    ny, nx, seed = shape
    data = np.random.default_rng(seed).normal(5, 2, (ny, nx)).astype(np.float32)
    pm = affine_pixmap((ny, nx), 1, 0, 0, 1, 0, 0)
    res = drizzle_once(data, pm, (ny, nx), kernel=kernel)
    np.testing.assert_array_equal(res.out_img, data)
    np.testing.assert_array_equal(res.out_wht, np.ones_like(data))


@given(
    shape=images,
    kernel=st.sampled_from(["square", "point", "turbo"]),
    dx=st.integers(-3, 3),
    dy=st.integers(-3, 3),
)
def test_integer_shift_returns_shifted_input(shape, kernel, dx, dy):
    ny, nx, seed = shape
    data = np.random.default_rng(seed).normal(5, 2, (ny, nx)).astype(np.float32)
    pm = affine_pixmap((ny, nx), 1, 0, 0, 1, dx + 3, dy + 3)
    res = drizzle_once(data, pm, (ny + 6, nx + 6), kernel=kernel)
    np.testing.assert_array_equal(res.out_img[dy + 3 : dy + 3 + ny, dx + 3 : dx + 3 + nx], data)
    expected_wht = np.zeros((ny + 6, nx + 6), np.float32)
    expected_wht[dy + 3 : dy + 3 + ny, dx + 3 : dx + 3 + nx] = 1.0
    np.testing.assert_array_equal(res.out_wht, expected_wht)


@given(
    shape=images,
    kernel=st.sampled_from(NONNEG_KERNELS),
    noise=st.floats(0.0, 2.0),
    pixfrac=st.floats(0.01, 1.5),
)
def test_weights_are_never_negative(shape, kernel, noise, pixfrac):
    ny, nx, seed = shape
    rng = np.random.default_rng(seed)
    if kernel == "square":
        # a folded (self-intersecting) pixel footprint has a signed area of the
        # other sign, as in the reference; keep the map orientation preserving
        noise = min(noise, 0.04)
    pm = affine_pixmap((ny, nx), 1.1, 0.2, -0.1, 0.9, 2, 2) + rng.normal(0, noise, (ny, nx, 2))
    data = rng.normal(0, 1, (ny, nx)).astype(np.float32)
    weight = rng.uniform(0, 2, (ny, nx)).astype(np.float32)
    res = drizzle_once(
        data, pm, (ny + 6, nx + 6), kernel=kernel, weight_map=weight, pixfrac=pixfrac
    )
    assert np.all(res.out_wht >= 0)


@given(
    shape=images,
    kernel=st.sampled_from(NONNEG_KERNELS),
    n_images=st.integers(1, 5),
    zero_frac=st.floats(0, 0.5),
)
def test_context_bit_set_iff_input_contributed_positive_weight(shape, kernel, n_images, zero_frac):
    ny, nx, seed = shape
    rng = np.random.default_rng(seed)
    out_shape = (ny + 4, nx + 4)
    stack = Drizzle(kernel=kernel, out_shape=out_shape, fillval="0")
    singles = []
    for _k in range(n_images):
        pm = affine_pixmap((ny, nx), 1, 0.1, -0.1, 1, *rng.uniform(0, 4, 2))
        data = rng.normal(0, 1, (ny, nx)).astype(np.float32)
        weight = (rng.uniform(0, 1, (ny, nx)) >= zero_frac).astype(np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stack.add_image(data, exptime=1.0, pixmap=pm, weight_map=weight)
        singles.append(drizzle_once(data, pm, out_shape, kernel=kernel, weight_map=weight))
    for k, single in enumerate(singles):
        bit_set = (stack.out_ctx[0] & np.int32(1 << k)) != 0
        np.testing.assert_array_equal(bit_set, single.out_wht > 0)


@given(shape=images, kernel=st.sampled_from(KERNELS), threads=st.integers(2, 5))
def test_one_thread_equals_many_threads_bitwise(shape, kernel, threads):
    ny, nx, seed = shape
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 1, (ny, nx)).astype(np.float32)
    var = rng.uniform(1, 2, (ny, nx)).astype(np.float32)
    dq = rng.integers(0, 8, (ny, nx)).astype(np.uint32)
    pms = [
        affine_pixmap((ny, nx), 9.0, 3.0, -3.0, 9.0, *rng.uniform(3 * ny, 3 * ny + 8, 2))
        + rng.normal(0, 0.3, (ny, nx, 2))
        for _ in range(3)
    ]
    # large enough that the band partition of the output differs between thread counts
    out_shape = (ny * 13 + 20, nx * 13 + 20)
    results = []
    before = pyspec.get_num_threads()
    try:
        for n in (1, threads):
            pyspec.set_num_threads(n)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d = Drizzle(kernel=kernel, out_shape=out_shape, fillval="0")
                for pm in pms:
                    d.add_image(data, exptime=1.0, pixmap=pm, data2=[var], dq=dq, pixfrac=0.7)
            results.append(d)
    finally:
        pyspec.set_num_threads(0 if before == 0 else before)
    a, b = results
    for name in ("out_img", "out_wht", "out_ctx", "out_dq"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.out_img2[0], b.out_img2[0])
