"""Parity of pyspec.wcs with stcal.resample.utils / drizzle.utils (spec
drizzle.md 2.2, 2.3, 16.11) on the real NIRCam gwcs and HST SIP WCS."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from pyspec import wcs as pw

stcal_utils = pytest.importorskip("stcal.resample.utils")
drizzle_utils = pytest.importorskip("drizzle.utils")
asdf = pytest.importorskip("asdf")


@pytest.fixture(scope="module")
def nircam(shared_data):
    """(NIRCam gwcs, TAN output WCS at pixel-scale ratio 1)."""
    with asdf.open(shared_data / "nrcb5-wcs.asdf", lazy_load=False) as af:
        w = af["wcs"]
    w_to = WCS(fits.Header.fromtextfile(shared_data / "nrcb5_output_wcs_psr_1p0.hdr"))
    return w, w_to


@pytest.fixture(scope="module")
def hst(shared_data):
    """(HST ACS SIP WCS of j8bt06nyq_flt.fits, a rotated TAN grid over it)."""
    with fits.open(shared_data / "j8bt06nyq_flt.fits") as hdul:
        w = WCS(hdul["SCI"].header, hdul)
    w_to = WCS(naxis=2)
    w_to.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w_to.wcs.crval = w.wcs.crval
    w_to.wcs.crpix = [560.0, 540.0]
    rot = np.deg2rad(12.0)
    scale = 0.03 / 3600
    w_to.wcs.cd = scale * np.array([[-np.cos(rot), np.sin(rot)], [np.sin(rot), np.cos(rot)]])
    w_to.array_shape = (1100, 1100)
    return w, w_to


@pytest.fixture(scope="module")
def nircam_sip(shared_data):
    """(NIRCam SIP approximation, TAN output at pixel-scale ratio 1.2)."""
    w = WCS(fits.Header.fromtextfile(shared_data / "nrcb5_sip_wcs.hdr"))
    w_to = WCS(fits.Header.fromtextfile(shared_data / "nrcb5_output_wcs_psr_1p2.hdr"))
    return w, w_to


# Subarray of the NIRCam frame keeps the exact gwcs evaluations fast.
NIRCAM_SHAPE = (256, 2048)


def test_full_map_of_nircam_gwcs_is_bitwise_the_reference(nircam):
    w, w_to = nircam
    mine = pw.calc_pixmap(w, w_to, shape=NIRCAM_SHAPE)
    ref = drizzle_utils.calc_pixmap(w, w_to, shape=NIRCAM_SHAPE)
    assert mine.shape == ref.shape == (*NIRCAM_SHAPE, 2)
    np.testing.assert_array_equal(mine, ref)
    ref_stcal = stcal_utils.calc_pixmap(w, w_to, shape=NIRCAM_SHAPE)
    np.testing.assert_array_equal(mine, ref_stcal)


@pytest.mark.parametrize(("name", "shape"), [("hst", None), ("nircam_sip", (300, 2048))])
def test_full_map_of_sip_wcs_is_bitwise_the_reference(name, shape, request):
    w, w_to = request.getfixturevalue(name)
    mine = pw.calc_pixmap(w, w_to, shape=shape)
    ref = drizzle_utils.calc_pixmap(w, w_to, shape=shape)
    assert mine.shape == (*(shape or w.array_shape), 2)
    np.testing.assert_array_equal(mine, ref)


@pytest.mark.parametrize(("order", "tol"), [(1, 5e-4), (3, 1e-6)])
def test_stepsize_10_nircam_map_is_within_the_spec_accuracy(nircam, order, tol):
    w, w_to = nircam
    full = drizzle_utils.calc_pixmap(w, w_to, shape=NIRCAM_SHAPE)
    mine = pw.calc_pixmap(w, w_to, shape=NIRCAM_SHAPE, stepsize=10, order=order)
    err = np.max(np.abs(mine - full))
    assert err < tol, err
    # Same nodes and the same spline as stcal's stepsize path: agreement is
    # at the rounding level, far below the interpolation error.
    ref = stcal_utils.calc_pixmap(w, w_to, shape=NIRCAM_SHAPE, stepsize=10, order=order)
    np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-9)


@pytest.mark.parametrize("order", [1, 3])
def test_stepsize_10_hst_map_is_within_the_spec_accuracy(hst, order):
    w, w_to = hst
    full = drizzle_utils.calc_pixmap(w, w_to)
    mine = pw.calc_pixmap(w, w_to, stepsize=10, order=order)
    err = np.max(np.abs(mine - full))
    assert err < (1e-6 if order == 3 else 5e-3), err
    ref = stcal_utils.calc_pixmap(w, w_to, stepsize=10, order=order)
    np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-9)


def test_gwcs_bounding_box_inside_the_array_matches_the_reference(nircam):
    w, w_to = nircam
    saved = w.bounding_box
    try:
        w.bounding_box = ((10.3, 1500.6), (-0.5, 200.2))
        shape = (240, 1600)
        ref = drizzle_utils.calc_pixmap(w, w_to, shape=shape)
        mine = pw.calc_pixmap(w, w_to, shape=shape)
        np.testing.assert_array_equal(mine, ref)
        interp = pw.calc_pixmap(w, w_to, shape=shape, stepsize=10, order=3)
        np.testing.assert_array_equal(np.isnan(interp), np.isnan(ref))
        assert np.nanmax(np.abs(interp - ref)) < 1e-6
        assert w.bounding_box.bounding_box(order="F") == ((10.3, 1500.6), (-0.5, 200.2))
    finally:
        w.bounding_box = saved


def test_nan_nodes_do_not_force_a_full_evaluation_but_match_it(nircam):
    """A WCS that is NaN on part of its bounding box: stcal falls back to
    evaluating every pixel; pyspec interpolates the rest and agrees."""
    w, w_to = nircam

    class Holed:
        pixel_n_dim = 2
        world_n_dim = 2
        array_shape = (200, 600)
        bounding_box = None

        def pixel_to_world_values(self, x, y):
            ra, dec = w.pixel_to_world_values(x, y)
            hole = (x - 300.0) ** 2 + (y - 100.0) ** 2 < 60.0**2
            return np.where(hole, np.nan, ra), np.where(hole, np.nan, dec)

    wh = Holed()
    full = drizzle_utils.calc_pixmap(wh, w_to)
    ref = stcal_utils.calc_pixmap(wh, w_to, stepsize=10, order=3)
    mine = pw.calc_pixmap(wh, w_to, stepsize=10, order=3)
    np.testing.assert_array_equal(ref, full)  # the reference's fallback
    np.testing.assert_array_equal(np.isnan(mine), np.isnan(full))
    assert np.nanmax(np.abs(mine - full)) < 1e-6


@pytest.mark.parametrize("name", ["nircam", "hst", "nircam_sip"])
def test_pixel_scale_ratio_is_the_reference_estimate(name, request):
    w, w_to = request.getfixturevalue(name)
    assert pw.pixel_scale_ratio(w, w_to) == drizzle_utils.estimate_pixel_scale_ratio(w, w_to)
    args = ((100.0, 30.5), (2, 7))
    assert pw.pixel_scale_ratio(w, w_to, *args) == drizzle_utils.estimate_pixel_scale_ratio(
        w, w_to, *args
    )


def test_footprint_is_the_gwcs_footprint(nircam):
    w, _ = nircam
    np.testing.assert_array_equal(pw.footprint(w), w.footprint())
