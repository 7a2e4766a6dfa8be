"""pyspec.drizzle.Drizzle against drizzle 2.2.0: bitwise equality.

Every kernel, with and without data2/DQ, several accumulated images, inputs
partly outside the output, fill values, supplied output arrays, 100 inputs
in the context image, and the real HST frame drizzled from its SIP WCS onto
a north-up TAN grid.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

drizzle_ref = pytest.importorskip("drizzle.resample")
drizzle_utils = pytest.importorskip("drizzle.utils")

from pyspec import drizzle as pdz  # noqa: E402

KERNELS = ["square", "point", "turbo", "gaussian", "lanczos2", "lanczos3"]
OUT_NAMES = ("out_img", "out_wht", "out_ctx", "out_dq")


def distorted_pixmap(shape, seed, rot=0.15, scale=1.0, offset=(12.0, 9.0)):
    """A rotated, scaled, mildly non-linear (and slightly noisy) pixel map."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    y, x = np.indices(shape, dtype=np.float64)
    c, s = np.cos(rot), np.sin(rot)
    xc, yc = x - nx / 2, y - ny / 2
    X = scale * (c * x - s * y) + offset[0] + 2e-3 * xc**2 / nx - 1e-3 * xc * yc / ny
    Y = scale * (s * x + c * y) + offset[1] + 1.5e-3 * yc**2 / ny + 1e-3 * xc * yc / nx
    X += rng.normal(0.0, 2e-3, shape)
    Y += rng.normal(0.0, 2e-3, shape)
    return np.dstack([X, Y])


def run_both(ctor_kwargs, calls):
    """Run the same constructor and add_image calls on both implementations."""
    results = []
    for mod in (drizzle_ref, pdz):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = mod.Drizzle(**ctor_kwargs)
            rets = [d.add_image(*args, **kwargs) for args, kwargs in calls]
        results.append((d, rets))
    return results


def assert_same_outputs(ref, new, interior=None):
    for name in OUT_NAMES:
        a, b = getattr(ref, name), getattr(new, name)
        if a is None:
            assert b is None, name
            continue
        if interior is not None and a.ndim >= 2:
            a, b = a[..., interior[0], interior[1]], b[..., interior[0], interior[1]]
        assert a.dtype == b.dtype, name
        assert a.shape == b.shape, name
        np.testing.assert_array_equal(b, a, err_msg=name)
    if ref.out_img2 is not None:
        assert new.out_img2 is not None and len(new.out_img2) == len(ref.out_img2)
        for k, (a, b) in enumerate(zip(ref.out_img2, new.out_img2, strict=True)):
            np.testing.assert_array_equal(b, a, err_msg=f"out_img2[{k}]")
    assert new.total_exptime == ref.total_exptime
    assert new.ctx_id == ref.ctx_id


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(20261122)
    shape = (48, 56)
    data = rng.normal(10.0, 3.0, shape).astype(np.float32)
    data[5, 7] = 1e4  # a cosmic ray
    weight = rng.uniform(0.2, 1.5, shape).astype(np.float32)
    weight[10:12, 20:23] = 0.0
    var = rng.uniform(0.5, 2.0, shape).astype(np.float32)
    dq = rng.integers(0, 64, shape).astype(np.uint32)
    return {"data": data, "weight": weight, "var": var, "dq": dq, "shape": shape}


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("pixfrac", [1.0, 0.6])
def test_two_images_inside_output_bitwise_equal(inputs, kernel, pixfrac):
    pm1 = distorted_pixmap(inputs["shape"], 1)
    pm2 = distorted_pixmap(inputs["shape"], 2, rot=0.1, offset=(14.3, 8.6))
    calls = [
        ((inputs["data"], 1.0, pm1), {"weight_map": inputs["weight"], "pixfrac": pixfrac}),
        ((inputs["data"] * 2, 2.0, pm2), {"weight_map": inputs["weight"], "pixfrac": pixfrac}),
    ]
    (ref, r1), (new, _) = run_both({"kernel": kernel, "out_shape": (90, 96), "fillval": "0"}, calls)
    assert_same_outputs(ref, new)


@pytest.mark.parametrize("kernel", KERNELS)
def test_data2_and_dq_variant_bitwise_equal(inputs, kernel):
    pm1 = distorted_pixmap(inputs["shape"], 3)
    pm2 = distorted_pixmap(inputs["shape"], 4, rot=0.12, offset=(10.2, 11.7))
    d, v, q = inputs["data"], inputs["var"], inputs["dq"]
    calls = [
        ((d, 3.0, pm1), {"data2": [v, None, v * 2], "dq": q, "in_units": "counts", "iscale": 1.7}),
        ((d + 1, 1.5, pm2), {"data2": [v * 3, v, None], "dq": q >> 2, "pixfrac": 0.8}),
    ]
    (ref, _), (new, _) = run_both(
        {"kernel": kernel, "out_shape": (90, 96), "fillval": "-7", "fillval2": "-1"}, calls
    )
    assert_same_outputs(ref, new)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize(
    "offset",
    [(-20.3, 5.2), (60.4, -14.9), (15.5, 62.6), (-9.1, -11.4)],
    ids=["left", "right-bottom", "top", "bottom-left"],
)
def test_input_partly_outside_output_bitwise_equal(inputs, kernel, offset):
    pm = distorted_pixmap(inputs["shape"], 5, rot=0.3, offset=offset)
    calls = [((inputs["data"], 1.0, pm), {"weight_map": inputs["weight"]})]
    (ref, _), (new, _) = run_both({"kernel": kernel, "out_shape": (70, 80), "fillval": "0"}, calls)
    assert_same_outputs(ref, new)


@pytest.mark.parametrize("kernel", KERNELS)
def test_sub_box_and_nan_pixmap_bitwise_equal(inputs, kernel):
    pm = distorted_pixmap(inputs["shape"], 6)
    pm[20, 30] = np.nan
    pm[:3, :] = np.nan
    calls = [((inputs["data"], 1.0, pm), {"xmin": 4, "xmax": 50, "ymin": 2, "ymax": 40})]
    (ref, _), (new, _) = run_both({"kernel": kernel, "out_shape": (90, 96)}, calls)
    assert_same_outputs(ref, new)


@pytest.mark.parametrize("kernel", ["turbo", "gaussian", "lanczos3"])
@pytest.mark.parametrize("psr", [0.5, 1.3, None])
def test_pixel_scale_ratio_bitwise_equal(inputs, kernel, psr):
    pm = distorted_pixmap(inputs["shape"], 7, scale=0.8)
    calls = [((inputs["data"], 1.0, pm), {"pixel_scale_ratio": psr, "iscale": 0.64})]
    (ref, _), (new, _) = run_both({"kernel": kernel, "out_shape": (80, 80), "fillval": "0"}, calls)
    assert_same_outputs(ref, new)


@pytest.mark.parametrize("fillval", [None, "INDEF", "nan", "0", -1.11, " 3 "])
def test_fill_values_bitwise_equal(inputs, fillval):
    pm = distorted_pixmap(inputs["shape"], 8)
    calls = [((inputs["data"], 1.0, pm), {"weight_map": inputs["weight"]})]
    (ref, _), (new, _) = run_both({"out_shape": (90, 96), "fillval": fillval}, calls)
    assert ref.fillval == new.fillval
    assert_same_outputs(ref, new)


def test_supplied_output_arrays_continue_accumulating(inputs):
    pm = distorted_pixmap(inputs["shape"], 9)
    results = []
    for mod in (drizzle_ref, pdz):
        d0 = mod.Drizzle(out_shape=(90, 96), fillval="0")
        d0.add_image(inputs["data"], exptime=1.0, pixmap=pm)
        d = mod.Drizzle(
            out_img=d0.out_img.copy(),
            out_wht=d0.out_wht.copy(),
            out_ctx=d0.out_ctx.copy(),
            exptime=1.0,
            begin_ctx_id=1,
            fillval="0",
        )
        d.add_image(inputs["data"] * 3, exptime=2.0, pixmap=pm + 0.4)
        results.append(d)
    assert_same_outputs(*results)


def test_hundred_inputs_grow_context_planes(inputs):
    pm = distorted_pixmap(inputs["shape"], 10)
    calls = [((inputs["data"] + k, 1.0, pm + 0.05 * k), {}) for k in range(100)]
    (ref, _), (new, _) = run_both({"out_shape": (90, 96), "max_ctx_id": 40}, calls)
    assert new.out_ctx.shape == (4, 90, 96)
    assert_same_outputs(ref, new)
    ys, xs = np.nonzero(new.out_wht > 0)
    pick = np.linspace(0, xs.size - 1, 7).astype(int)
    for a, b in zip(
        drizzle_utils.decode_context(ref.out_ctx, xs[pick], ys[pick]),
        pdz.decode_context(new.out_ctx, xs[pick], ys[pick]),
        strict=True,
    ):
        np.testing.assert_array_equal(b, a)


def test_disable_ctx_bitwise_equal(inputs):
    pm = distorted_pixmap(inputs["shape"], 11)
    calls = [((inputs["data"], 1.0, pm), {})]
    (ref, _), (new, _) = run_both({"out_shape": (90, 96), "disable_ctx": True}, calls)
    assert new.out_ctx is None and new.ctx_id is None
    assert_same_outputs(ref, new)


def test_decode_context_reference_example():
    ctx = np.zeros((3, 5, 6), np.int32)
    ctx[:, 1, 3] = [36196864, 67125536, 8203]
    ctx[:, 4, 2] = [537920000, 163856, 32865]
    ref = drizzle_utils.decode_context(ctx, [3, 2], [1, 4])
    new = pdz.decode_context(ctx, [3, 2], [1, 4])
    for a, b in zip(ref, new, strict=True):
        np.testing.assert_array_equal(b, a)


@pytest.fixture(scope="module")
def hst_frame(shared_data):
    from astropy.io import fits
    from astropy.wcs import WCS

    with fits.open(shared_data / "j8bt06nyq_flt.fits") as hdul:
        sci = hdul["SCI"].data.astype(np.float32)
        dq = hdul["DQ"].data.astype(np.uint32)
        in_wcs = WCS(hdul["SCI"].header, hdul)
    ny, nx = sci.shape
    ra, dec = in_wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2)
    scale = np.sqrt(np.abs(np.linalg.det(in_wcs.pixel_scale_matrix)))
    out_shape = (1400, 1400)
    out_wcs = WCS(naxis=2)
    out_wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    out_wcs.wcs.crval = [float(ra), float(dec)]
    out_wcs.wcs.crpix = [out_shape[1] / 2 + 0.5, out_shape[0] / 2 + 0.5]
    out_wcs.wcs.cd = [[-scale, 0.0], [0.0, scale]]  # north up, east left
    out_wcs.array_shape = out_shape
    pixmap = drizzle_utils.calc_pixmap(in_wcs, out_wcs)
    weight = (dq == 0).astype(np.float32)
    return sci, weight, dq, pixmap, out_shape


@pytest.mark.parametrize("kernel", ["square", "point", "turbo", "lanczos3"])
def test_real_hst_frame_sip_to_tan_bitwise_equal(hst_frame, kernel):
    sci, weight, dq, pixmap, out_shape = hst_frame
    calls = [((sci, 60.0, pixmap), {"weight_map": weight, "dq": dq, "pixfrac": 0.8})]
    (ref, _), (new, _) = run_both({"kernel": kernel, "out_shape": out_shape}, calls)
    assert np.count_nonzero(new.out_wht) > 500_000
    assert_same_outputs(ref, new)


@pytest.mark.parametrize("kernel", ["square", "turbo", "point"])
def test_edge_effects_dithered_images_inside_output_conserve_flux(kernel):
    """drizzle#182/#187: constant images drizzled with fractional dithers onto a
    larger output must deposit every input pixel's weight (no edge losses)."""
    n = 100
    ones = np.ones((n, n), np.float32)
    y, x = np.indices((n, n), dtype=np.float64)
    dithers = [(0.0, 0.0), (50.5, 100.0), (50.5, 200.333333333), (100.0, 300.0)]
    calls = [((ones, 1.0, np.dstack([x + 10 + dx, y + 10 + dy])), {}) for dx, dy in dithers]
    (ref, _), (new, _) = run_both(
        {"kernel": kernel, "out_shape": (420, 220), "fillval": "0"}, calls
    )
    assert_same_outputs(ref, new)
    assert float(np.sum(new.out_wht, dtype=np.float64)) == pytest.approx(4 * n * n, rel=1e-6)
    np.testing.assert_array_equal(new.out_img[new.out_wht > 0], 1.0)
