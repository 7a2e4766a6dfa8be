"""Unit tests of pyspec.wcs: pixel maps, pixel-scale ratios, footprints."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy import coordinates as coord
from astropy import units as u
from astropy.modeling import models
from astropy.wcs import WCS

import pyspec
from pyspec import wcs as pw

# ---------------------------------------------------------------- helpers


def tan_wcs(crpix=(50.0, 40.0), crval=(150.0, 2.0), scale=0.1 / 3600, rot=20.0, shape=None) -> WCS:
    """Astropy TAN WCS; ``crpix`` is 0-based."""
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crpix = [crpix[0] + 1, crpix[1] + 1]
    w.wcs.crval = list(crval)
    c, s = math.cos(math.radians(rot)), math.sin(math.radians(rot))
    w.wcs.cd = np.array([[-c, s], [s, c]]) * scale
    if shape is not None:
        w.array_shape = shape
    return w


def distorted_gwcs(bbox=None, shape=None):
    """gwcs with a smooth polynomial distortion in front of a TAN projection."""
    from gwcs import coordinate_frames as cf
    from gwcs import wcs as gw

    dx = models.Polynomial2D(3, c0_0=-50.0, c1_0=1.0, c0_1=0.01, c2_0=2e-5, c1_1=-1e-5, c0_3=3e-8)
    dy = models.Polynomial2D(3, c0_0=-40.0, c0_1=1.0, c1_0=-0.02, c0_2=1e-5, c3_0=-2e-8)
    distortion = models.Mapping((0, 1, 0, 1)) | (dx & dy)
    sky = (
        (models.Scale(0.1 / 3600) & models.Scale(0.1 / 3600))
        | models.Pix2Sky_TAN()
        | models.RotateNative2Celestial(150.0, 2.0, 180.0)
    )
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    world = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world", unit=(u.deg, u.deg))
    w = gw.WCS(forward_transform=distortion | sky, input_frame=detector, output_frame=world)
    if bbox is not None:
        w.bounding_box = bbox
    if shape is not None:
        w.array_shape = shape
    return w


class HoleWCS:
    """Duck-typed APE-14 WCS with a smooth distortion, NaN world coordinates
    on the half-plane ``x + 0.37 y > cut`` and an optional enforced bounding
    box (a tuple, as a plain object would have). Counts evaluated points."""

    pixel_n_dim = 2
    world_n_dim = 2

    def __init__(self, shape, cut=np.inf, bbox=None, spectral=False):
        self.array_shape = shape
        self.cut = cut
        self.bounding_box = bbox
        self.spectral = spectral
        self.world_n_dim = 3 if spectral else 2
        self.npoints = 0

    def pixel_to_world_values(self, x, y):
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        self.npoints += x.size
        a = x + 2e-4 * x * y + 3.0 * np.sin(y / 300.0)
        b = y - 1e-4 * x * x + 2.0 * np.cos(x / 400.0)
        bad = x + 0.37 * y > self.cut
        if self.bounding_box is not None:
            (x0, x1), (y0, y1) = self.bounding_box
            bad |= (x < x0) | (x > x1) | (y < y0) | (y > y1)
        a = np.where(bad, np.nan, a)
        b = np.where(bad, np.nan, b)
        if self.spectral:
            return a, b, 1.0 + 1e-3 * x
        return a, b


class AffineTo:
    """Destination WCS: an affine world -> pixel transform (2 or 3 world inputs)."""

    pixel_n_dim = 2

    def world_to_pixel_values(self, a, b, lam=None):
        x = 0.9 * a + 0.1 * b + 3.0
        y = -0.05 * a + 1.1 * b - 2.0
        if lam is not None:
            x = x + 100.0 * (lam - 1.0)
        return x, y


def exact_map(wcs_from, wcs_to, shape):
    y, x = np.indices(shape, dtype=float)
    world = wcs_from.pixel_to_world_values(x, y)
    return np.dstack(wcs_to.world_to_pixel_values(*world)[:2])


# ---------------------------------------------------------- calc_pixmap


@pytest.mark.parametrize(("stepsize", "order"), [(1, 1), (10, 1), (10, 3), (7.5, 3)])
def test_identity_wcs_gives_identity_map(stepsize, order):
    w = tan_wcs(shape=(60, 80))
    pm = pw.calc_pixmap(w, w, stepsize=stepsize, order=order)
    y, x = np.indices((60, 80), dtype=float)
    assert pm.shape == (60, 80, 2) and pm.dtype == np.float64
    np.testing.assert_allclose(pm[..., 0], x, atol=1e-8)
    np.testing.assert_allclose(pm[..., 1], y, atol=1e-8)


@pytest.mark.parametrize("stepsize", [1, 10])
def test_shifted_crpix_shifts_the_map(stepsize):
    w_from = tan_wcs(shape=(50, 70))
    w_to = tan_wcs(crpix=(50.0 + 12.25, 40.0 - 3.5))
    pm = pw.calc_pixmap(w_from, w_to, stepsize=stepsize, order=3)
    y, x = np.indices((50, 70), dtype=float)
    np.testing.assert_allclose(pm[..., 0], x + 12.25, atol=1e-8)
    np.testing.assert_allclose(pm[..., 1], y - 3.5, atol=1e-8)


def test_scaled_output_pixels_halve_the_coordinates():
    w_from = tan_wcs(shape=(40, 40))
    w_to = tan_wcs(crpix=(25.0, 20.0), scale=0.2 / 3600)
    pm = pw.calc_pixmap(w_from, w_to)
    assert pm[40 - 1, 40 - 1, 0] - pm[0, 0, 0] == pytest.approx(39 / 2, abs=1e-6)


@pytest.mark.parametrize(("stepsize", "order"), [(1, 1), (4, 1), (4, 3), (10, 3)])
def test_gwcs_bounding_box_gives_nan_outside_and_finite_inside(stepsize, order):
    bbox = ((3.2, 80.7), (5.5, 60.1))
    w_from = distorted_gwcs(bbox=bbox)
    w_to = tan_wcs()
    w_to_box = distorted_gwcs(bbox=((-0.5, 10.5), (-0.5, 10.5)))
    pm = pw.calc_pixmap(w_from, w_to, shape=(70, 90), stepsize=stepsize, order=order)
    inside = np.zeros((70, 90), bool)
    inside[6:61, 4:81] = True
    assert np.isfinite(pm[inside]).all()
    assert np.isnan(pm[~inside]).all()
    # "to" bounding boxes are disabled by default: positions far outside it stay finite.
    pm2 = pw.calc_pixmap(w_from, w_to_box, shape=(70, 90), stepsize=stepsize, order=order)
    assert np.isfinite(pm2[inside]).all()
    # Both boxes are restored.
    assert w_from.bounding_box.bounding_box(order="F") == bbox
    assert w_to_box.bounding_box.bounding_box(order="F") == ((-0.5, 10.5), (-0.5, 10.5))


def test_shape_comes_from_the_bounding_box_when_no_array_shape():
    w = distorted_gwcs(bbox=((-0.5, 29.5), (-0.5, 19.5)))
    assert pw.calc_pixmap(w, tan_wcs()).shape == (20, 30, 2)


@pytest.mark.parametrize("stepsize", [1, 5])
def test_disable_bbox_from_maps_pixels_outside_the_box(stepsize):
    w_from = distorted_gwcs(bbox=((10.0, 40.0), (10.0, 40.0)))
    pm = pw.calc_pixmap(w_from, tan_wcs(), shape=(50, 60), stepsize=stepsize, disable_bbox="from")
    assert np.isfinite(pm).all()
    ref = pw.calc_pixmap(w_from, tan_wcs(), shape=(50, 60), disable_bbox="both")
    np.testing.assert_allclose(pm, ref, atol=1e-3)
    assert w_from.bounding_box is not None
    pm = pw.calc_pixmap(w_from, tan_wcs(), shape=(50, 60), disable_bbox="none")
    assert np.isnan(pm[0, 0]).all() and np.isfinite(pm[20, 20]).all()


@pytest.mark.parametrize("order", [1, 3])
@pytest.mark.parametrize("bbox", [None, ((2.4, 350.0), (0.7, 230.2))])
def test_nan_region_of_the_wcs_is_reproduced_without_full_evaluation(order, bbox):
    shape = (240, 360)
    # Full map for reference (the NaN half-plane cuts through the grid).
    truth = exact_map(HoleWCS(shape, cut=250.0, bbox=bbox), AffineTo(), shape)
    w = HoleWCS(shape, cut=250.0, bbox=bbox)
    pm = pw.calc_pixmap(w, AffineTo(), stepsize=10, order=order)
    # Same NaN pixels as the full evaluation: nothing inside turned NaN
    # because a node fell in the NaN region, nothing NaN became finite.
    np.testing.assert_array_equal(np.isnan(pm), np.isnan(truth))
    assert np.isfinite(truth).mean() > 0.4
    err = np.nanmax(np.abs(pm - truth))
    assert err < (1e-6 if order == 3 else 0.05), err
    # Exactly evaluated: the NaN region (pixels there may hide finite
    # features between nodes) plus a thin band along the cut, not everything.
    n_nan = np.isnan(truth[..., 0]).sum()
    if bbox is not None:
        n_nan -= shape[0] * shape[1] - 230 * 348  # outside the box: never evaluated
    assert w.npoints < n_nan + 0.12 * shape[0] * shape[1]
    assert w.npoints < 0.6 * shape[0] * shape[1]


def test_stepsize_map_without_bad_nodes_evaluates_only_the_nodes():
    shape = (200, 300)
    w = HoleWCS(shape)
    pw.calc_pixmap(w, AffineTo(), stepsize=10, order=3)
    assert w.npoints == 30 * 20


def test_spectral_wcs_passes_all_world_outputs():
    shape = (60, 80)
    w = HoleWCS(shape, spectral=True)
    truth = exact_map(w, AffineTo(), shape)
    for stepsize, order in [(1, 1), (10, 3)]:
        pm = pw.calc_pixmap(w, AffineTo(), stepsize=stepsize, order=order)
        np.testing.assert_allclose(pm, truth, atol=1e-6)


def test_small_window_is_evaluated_exactly():
    w = HoleWCS((8, 10))
    pm = pw.calc_pixmap(w, AffineTo(), stepsize=10, order=3)
    np.testing.assert_array_equal(pm, exact_map(w, AffineTo(), (8, 10)))


def test_empty_shape_and_box_outside_the_array():
    assert pw.calc_pixmap(HoleWCS((0, 5)), AffineTo()).shape == (0, 5, 2)
    w = HoleWCS((20, 30), bbox=((100.0, 200.0), (0.0, 10.0)))
    pm = pw.calc_pixmap(w, AffineTo(), stepsize=10, order=3)
    assert pm.shape == (20, 30, 2) and np.isnan(pm).all()
    assert w.npoints == 0


def test_result_does_not_depend_on_thread_count():
    shape = (300, 400)
    maps = []
    try:
        for n in (1, 2):
            pyspec.set_num_threads(n)
            maps.append(pw.calc_pixmap(HoleWCS(shape, cut=350.0), AffineTo(), stepsize=10, order=3))
    finally:
        pyspec.set_num_threads(0)
    assert maps[0].tobytes() == maps[1].tobytes()


def test_order_3_beats_order_1_on_the_nircam_gwcs(shared_data):
    import asdf

    with asdf.open(shared_data / "nrcb5-wcs.asdf") as af:
        w = af["wcs"]
        w_to = tan_wcs(crpix=(1000.0, 1000.0), crval=tuple(w(1023.5, 1023.5)), scale=3.1e-5 / 1.0)
        shape = (300, 400)
        full = pw.calc_pixmap(w, w_to, shape=shape)
        err1 = np.max(np.abs(pw.calc_pixmap(w, w_to, shape=shape, stepsize=10, order=1) - full))
        err3 = np.max(np.abs(pw.calc_pixmap(w, w_to, shape=shape, stepsize=10, order=3) - full))
    assert np.isfinite(full).all()
    assert err3 < 1e-6, err3
    assert 1e-6 < err1 < 1e-3, err1
    assert err3 < err1 / 100


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"order": 2, "stepsize": 10}, ValueError),
        ({"order": 0}, ValueError),
        ({"order": "3"}, ValueError),
        ({"stepsize": 0}, ValueError),
        ({"stepsize": -3}, ValueError),
        ({"stepsize": float("nan")}, ValueError),
        ({"stepsize": "to"}, TypeError),
        ({"disable_bbox": "sometimes"}, ValueError),
        ({"disable_bbox": None}, ValueError),
        ({"shape": (10, 10, 2)}, ValueError),
        ({"shape": (-1, 10)}, ValueError),
        ({"shape": (10.5, 10)}, TypeError),
    ],
)
def test_bad_arguments_raise(kwargs, exc):
    with pytest.raises(exc):
        pw.calc_pixmap(tan_wcs(shape=(10, 10)), tan_wcs(), **kwargs)


def test_missing_shape_raises():
    with pytest.raises(ValueError, match="pixel_shape"):
        pw.calc_pixmap(tan_wcs(), tan_wcs())


def test_bounding_box_is_restored_after_an_error():
    class Failing(AffineTo):
        bounding_box = ((0.0, 1.0), (0.0, 1.0))

        def world_to_pixel_values(self, *world):
            raise RuntimeError("boom")

    w_to = Failing()
    w_to.bounding_box = ((0.0, 1.0), (0.0, 1.0))
    with pytest.raises(RuntimeError):
        pw.calc_pixmap(HoleWCS((20, 20)), w_to)
    assert w_to.bounding_box == ((0.0, 1.0), (0.0, 1.0))


# ----------------------------------------------------- pixel_scale_ratio


def test_pixel_scale_ratio_of_twice_larger_pixels_is_two():
    w_from = tan_wcs(shape=(100, 100))
    w_to = tan_wcs(scale=0.2 / 3600, shape=(50, 50))
    assert pw.pixel_scale_ratio(w_from, w_to) == pytest.approx(2.0, rel=1e-6)
    assert pw.pixel_scale_ratio(w_to, w_from, (10, 10), (3.5, 7)) == pytest.approx(0.5, rel=1e-6)


def test_pixel_scale_ratio_across_ra_zero():
    w_from = tan_wcs(crval=(0.0, 10.0), crpix=(0.0, 0.0))
    w_to = tan_wcs(crval=(0.0, 10.0), crpix=(0.0, 0.0), scale=0.3 / 3600)
    # refpix (0, 0) straddles RA = 0: the reference would return nonsense.
    assert pw.pixel_scale_ratio(w_from, w_to, (0, 0), (0, 0)) == pytest.approx(3.0, rel=1e-6)


def test_pixel_scale_ratio_rejects_bad_refpix():
    with pytest.raises(ValueError):
        pw.pixel_scale_ratio(tan_wcs(), tan_wcs(), refpix_from=(1, 2, 3))


# -------------------------------------------------------------- footprint


def test_footprint_corners_follow_the_pixel_convention():
    w = tan_wcs(shape=(40, 60))
    fp = pw.footprint(w)
    expect = np.column_stack(
        w.pixel_to_world_values([-0.5, -0.5, 59.5, 59.5], [-0.5, 39.5, 39.5, -0.5])
    )
    np.testing.assert_array_equal(fp, expect)
    fpc = pw.footprint(w, center=True)
    expect = np.column_stack(w.pixel_to_world_values([0, 0, 59, 59], [0, 39, 39, 0]))
    np.testing.assert_array_equal(fpc, expect)


def test_footprint_of_a_gwcs_matches_gwcs():
    w = distorted_gwcs(bbox=((-0.5, 99.5), (-0.5, 49.5)))
    np.testing.assert_allclose(pw.footprint(w), w.footprint(), rtol=0, atol=1e-12)
    assert w.bounding_box is not None
