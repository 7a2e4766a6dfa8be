"""pyspec blot_image against drizzle 2.2.0 ``blot_image``: bitwise equality.

Every interpolant with a well-defined reference result (nearest, linear,
poly3, poly5, lan3, lan5) on smooth and noisy images of several shapes (down
to 3x3), with identity, shifted, rotated, distorted and random pixel maps
partly outside the image, several ``iscale`` and ``fillval`` values, the
deprecated arguments, and a real HST frame with its SIP distortion.

Only the documented deliberate differences are excluded from the comparison
(spec drizzle.md 9): nearest where ``x >= nx - 0.5`` or ``y >= ny - 0.5``
(the reference reads past the row end), poly3 for ``y >= ny - 1`` and poly5
for ``y >= ny - 3`` (the reference mirrors the top edge wrongly; at integer
``y`` this shows only with non-finite data). sinc/lsinc have
undefined behaviour in the reference and are covered by unit tests only.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

drizzle_ref = pytest.importorskip("drizzle.resample")
drizzle_utils = pytest.importorskip("drizzle.utils")

from pyspec._blot import blot_image  # noqa: E402

INTERPS = ["nearest", "linear", "poly3", "poly5", "lan3", "lan5"]
SHAPES = [(3, 3), (4, 5), (5, 4), (6, 6), (17, 23), (40, 31), (64, 64)]


def ref_blot(data, pixmap, *args, **kwargs):
    """The reference, with the positions where it misbehaves (see
    ``excluded``) moved outside the image: its nearest reads a whole row past
    the end of the buffer for ``y >= ny - 0.5`` (segfaults on large images).
    Those pixels are not compared."""
    interp = kwargs.get("interp", args[6] if len(args) > 6 else "poly5")
    pixmap = np.array(pixmap, dtype=np.float64)
    pixmap[excluded(interp, pixmap, np.shape(data))] = -1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return drizzle_ref.blot_image(data, pixmap, *args, **kwargs)


def excluded(interp, pixmap, shape):
    """Mask of the output pixels where pyspec deliberately differs (positions
    inside the image only: outside ones get ``fillval`` in both)."""
    ny, nx = shape
    x = pixmap[..., 0].astype(np.float32)
    y = pixmap[..., 1].astype(np.float32)
    inside = (x >= 0) & (x < nx) & (y >= 0) & (y < ny)
    if interp == "nearest":
        return inside & ((x >= nx - 0.5) | (y >= ny - 0.5))
    if interp == "poly3":
        return inside & (y >= ny - 1)
    if interp == "poly5":
        return inside & (y >= ny - 3)
    return np.zeros(x.shape, dtype=bool)


def assert_blot_equal(new, ref, interp, pixmap, shape, min_compared=0.3):
    excl = excluded(interp, pixmap, shape)
    assert new.dtype == np.float32 and new.shape == ref.shape
    assert (~excl).mean() >= min_compared, "too few pixels compared"
    np.testing.assert_array_equal(new[~excl], ref[~excl])


def images(shape, seed):
    ny, nx = shape
    y, x = np.indices(shape)
    smooth = (np.sin(x / 3.0) * np.cos(y / 4.0) * 100 + 0.7 * x + 3).astype(np.float32)
    noise = np.random.default_rng(seed).normal(10.0, 5.0, shape).astype(np.float32)
    return {"smooth": smooth, "noise": noise}


def pixmaps(shape, seed):
    """Pixel maps (output -> data coordinates) covering the image and beyond it."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    oy, ox = max(ny, 8) + 3, max(nx, 8) + 5
    y, x = np.indices((oy, ox), dtype=np.float64)
    u, v = x * nx / ox, y * ny / oy
    cx, cy = nx / 2, ny / 2
    th = rng.uniform(0, 2 * np.pi)
    c, s = np.cos(th), np.sin(th)
    return {
        "identity": np.dstack([x, y])[:ny, :nx],
        "scaled": np.dstack([u, v]),
        "shift": np.dstack([u + rng.uniform(-2, 2), v + rng.uniform(-2, 2)]),
        "rotation": np.dstack(
            [cx + 1.1 * (c * (u - cx) - s * (v - cy)), cy + 1.1 * (s * (u - cx) + c * (v - cy))]
        ),
        "distortion": np.dstack(
            [u + 0.3 + 0.002 * u**2 - 0.001 * u * v, v - 0.4 + 0.0015 * v**2 + 0.001 * u]
        ),
        "random": np.dstack(
            [rng.uniform(-1, nx + 0.5, (oy, ox)), rng.uniform(-1, ny + 0.5, (oy, ox))]
        ),
    }


# poly5 on images smaller than 4 pixels: the reference reads outside the image
CASES = [(i, s) for i in INTERPS for s in SHAPES if not (i == "poly5" and min(s) < 4)]


@pytest.mark.parametrize(("interp", "shape"), CASES)
def test_interpolant_bitwise_equal_on_many_pixmaps(interp, shape):
    seed = 100 * INTERPS.index(interp) + SHAPES.index(shape)
    for dname, data in images(shape, seed).items():
        for pname, pm in pixmaps(shape, seed + 1).items():
            ref = ref_blot(data, pm, interp=interp, fillval=-1.0)
            new = blot_image(data, pm, interp=interp, fillval=-1.0)
            try:
                assert_blot_equal(new, ref, interp, pm, shape, min_compared=0.1)
            except AssertionError as err:
                raise AssertionError(f"{interp} {shape} {dname} {pname}: {err}") from None


@pytest.mark.parametrize("interp", INTERPS)
def test_non_finite_and_huge_data_bitwise_equal(interp):
    """Isolated inf and values beyond float32 max / 2 (where the reference's
    self-mirrored block rows -- the last one, and row 0 for poly5 near the
    bottom edge -- overflow), sampled on a quarter-pixel grid."""
    shape = (16, 15)
    data = np.random.default_rng(21).normal(0, 1, shape).astype(np.float32)
    data[0, 4] = 2e38
    data[0, 11] = -np.inf
    data[1, 0] = 3.3e38
    data[7, 7] = -2.5e38
    data[10, 2] = np.inf
    g = np.arange(-0.25, 15.5, 0.25)
    pm = np.dstack(np.meshgrid(g, g))
    new = blot_image(data, pm, interp=interp, fillval=-1.0)
    ref = ref_blot(data, pm, interp=interp, fillval=-1.0)
    assert not np.isfinite(ref).all()
    assert_blot_equal(new, ref, interp, pm, shape)


def test_default_interp_is_poly5():
    shape = (30, 30)
    data = images(shape, 3)["noise"]
    pm = pixmaps(shape, 4)["distortion"]
    assert_blot_equal(blot_image(data, pm), ref_blot(data, pm), "poly5", pm, shape)


@pytest.mark.parametrize("interp", INTERPS)
@pytest.mark.parametrize("iscale", [0.3, 1.7e-3, 12345.678, 3.0e30])
def test_iscale_bitwise_equal(interp, iscale):
    shape = (20, 24)
    data = images(shape, 5)["smooth"]
    pm = pixmaps(shape, 6)["rotation"]
    ref = ref_blot(data, pm, interp=interp, iscale=iscale)
    new = blot_image(data, pm, interp=interp, iscale=iscale)
    assert_blot_equal(new, ref, interp, pm, shape)


@pytest.mark.parametrize("fillval", [0.0, -7.5, np.nan, np.inf, 1e300, -3])
def test_fillval_bitwise_equal(fillval):
    shape = (12, 15)
    data = images(shape, 7)["noise"]
    pm = pixmaps(shape, 8)["shift"] + 4.0  # a good part falls outside
    ref = ref_blot(data, pm, interp="linear", fillval=fillval)
    new = blot_image(data, pm, interp="linear", fillval=fillval)
    with np.errstate(over="ignore"):
        fill32 = np.float32(fillval)
    outside = np.isnan(ref) if np.isnan(fill32) else ref == fill32
    assert outside.any()
    np.testing.assert_array_equal(new, ref)


def test_supplied_float32_out_img_is_filled_like_the_reference():
    shape = (16, 16)
    data = images(shape, 9)["smooth"]
    pm = pixmaps(shape, 10)["distortion"]
    out_ref = np.full(pm.shape[:2], 5.0, np.float32)
    out_new = out_ref.copy()
    r = ref_blot(data, pm, out_img=out_ref, interp="lan3", fillval=np.nan)
    n = blot_image(data, pm, out_img=out_new, interp="lan3", fillval=np.nan)
    assert r is out_ref and n is out_new
    np.testing.assert_array_equal(out_new, out_ref)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pix_ratio": 2.0},
        {"pix_ratio": 0.37},
        {"exptime": 3.0},
        {"exptime": 0.7, "pix_ratio": 0.3, "iscale": 0.1},
        {"output_pixel_shape": (23, 17)},
    ],
)
def test_deprecated_arguments_bitwise_equal(kwargs):
    shape = (14, 18)
    data = images(shape, 11)["noise"]
    pm = pixmaps(shape, 12)["scaled"]  # output shape (17, 23)
    ref = ref_blot(data, pm, interp="poly3", **kwargs)
    with pytest.warns(DeprecationWarning):
        new = blot_image(data, pm, interp="poly3", **kwargs)
    assert_blot_equal(new, ref, "poly3", pm, shape)


def test_deprecated_arguments_positional_bitwise_equal():
    shape = (14, 18)
    data = images(shape, 13)["smooth"]
    pm = pixmaps(shape, 14)["scaled"]
    args = (data, pm, 1.3, 2.5, (23, 17), None, -2.0, 0.5, "linear")
    ref = ref_blot(*args)
    with pytest.warns(DeprecationWarning):
        new = blot_image(*args)
    np.testing.assert_array_equal(new, ref)


@pytest.mark.parametrize("interp", INTERPS)
def test_coordinates_rounding_to_the_next_sample_bitwise_equal(interp):
    """f32 positions just below an integer (the Everett fraction may round up)
    and exact integers, away from the excluded edges."""
    shape = (12, 13)
    data = images(shape, 15)["noise"]
    vals = np.array(
        [0, 0.99999994, 1, 1.9999999, 2.9999998, 3.9999998, 5.4999995, 6.5, 7.9999995],
        dtype=np.float32,
    ).astype(np.float64)
    xs, ys = np.meshgrid(vals, vals)
    pm = np.dstack([xs, ys])
    assert_blot_equal(
        blot_image(data, pm, interp=interp), ref_blot(data, pm, interp=interp), interp, pm, shape
    )


def test_nan_pixmap_and_bad_arguments_raise_like_the_reference():
    data = images((6, 6), 16)["noise"]
    pm = pixmaps((6, 6), 17)["scaled"]
    bad = pm.copy()
    bad[2, 1, 1] = np.nan
    with pytest.raises(Exception, match="NaN in pixmap"):
        ref_blot(data, bad, interp="linear")
    with pytest.raises(ValueError, match="NaN in pixmap"):
        blot_image(data, bad, interp="linear")
    for kwargs in ({"interp": "foo"}, {"iscale": 0.0}, {"iscale": -1.0}, {"iscale": 1e300}):
        with pytest.raises(Exception):  # noqa: B017 - the reference raises bare Exception
            ref_blot(data, pm, **kwargs)
        with pytest.raises(ValueError):
            blot_image(data, pm, **kwargs)


@pytest.fixture(scope="module")
def hst_blot_case(shared_data):
    """The real HST/ACS frame, and the positions in it of a north-up TAN grid
    overlapping its top-right corner (SIP distortion; part of the grid falls
    outside the frame)."""
    from astropy.io import fits
    from astropy.wcs import WCS

    with fits.open(shared_data / "j8bt06nyq_flt.fits") as hdul:
        sci = hdul["SCI"].data.astype(np.float32)
        in_wcs = WCS(hdul["SCI"].header, hdul)
    ny, nx = sci.shape
    ra, dec = in_wcs.pixel_to_world_values(nx - 60.0, ny - 60.0)
    scale = np.sqrt(np.abs(np.linalg.det(in_wcs.pixel_scale_matrix)))
    out_shape = (200, 240)
    out_wcs = WCS(naxis=2)
    out_wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    out_wcs.wcs.crval = [float(ra), float(dec)]
    out_wcs.wcs.crpix = [out_shape[1] / 2 + 0.5, out_shape[0] / 2 + 0.5]
    out_wcs.wcs.cd = [[-0.9 * scale, 0.0], [0.0, 0.9 * scale]]
    out_wcs.array_shape = out_shape
    pixmap = drizzle_utils.calc_pixmap(out_wcs, in_wcs)
    pixmap[np.isnan(pixmap)] = -1.0
    return sci, pixmap


@pytest.mark.parametrize("interp", INTERPS)
def test_real_hst_frame_sip_distortion_bitwise_equal(hst_blot_case, interp):
    sci, pm = hst_blot_case
    ref = ref_blot(sci, pm, interp=interp, fillval=np.nan)
    new = blot_image(sci, pm, interp=interp, fillval=np.nan)
    inside = np.isfinite(ref)
    assert 0.2 < inside.mean() < 0.9
    assert_blot_equal(new, ref, interp, pm, sci.shape)
