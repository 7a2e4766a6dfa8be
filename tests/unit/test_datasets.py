"""pyspec.datasets: the synthetic dithered imaging set and its output WCS."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pyspec.datasets import DO_NOT_USE, dithered_imaging, output_wcs_for

SHAPE = (96, 128)  # (ny, nx), deliberately not square


@pytest.fixture(scope="module")
def exposures():
    return dithered_imaging(n_exposures=3, shape=SHAPE, seed=7)


def _same(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, f), getattr(b, f))
        for f in ("data", "err", "dq", "var_rnoise", "var_poisson", "cr_mask", "truth")
    ) and a.wcs.to_header(relax=True) == b.wcs.to_header(relax=True)


def test_same_seed_gives_bit_identical_exposures(exposures):
    again = dithered_imaging(n_exposures=3, shape=SHAPE, seed=7)
    assert all(_same(a, b) for a, b in zip(exposures, again, strict=True))


def test_different_seed_gives_different_data(exposures):
    other = dithered_imaging(n_exposures=1, shape=SHAPE, seed=8)
    assert not np.array_equal(exposures[0].data, other[0].data)


def test_first_exposures_do_not_depend_on_n_exposures(exposures):
    fewer = dithered_imaging(n_exposures=2, shape=SHAPE, seed=7)
    assert all(_same(a, b) for a, b in zip(fewer, exposures[:2], strict=True))


def test_arrays_have_the_requested_shape_and_dtypes(exposures):
    assert len(exposures) == 3
    for e in exposures:
        assert e.shape == SHAPE
        for name in ("data", "err", "var_rnoise", "var_poisson", "truth"):
            arr = getattr(e, name)
            assert arr.shape == SHAPE and arr.dtype == np.float32, name
            assert np.all(np.isfinite(arr)), name
        assert e.dq.shape == SHAPE and e.dq.dtype == np.uint32
        assert e.cr_mask.shape == SHAPE and e.cr_mask.dtype == np.bool_
        assert e.wcs.pixel_shape == (SHAPE[1], SHAPE[0])
        assert e.exptime > 0 and e.meta["exposure_time"] == e.exptime
        assert np.all(e.var_rnoise > 0) and np.all(e.var_poisson >= 0)
        np.testing.assert_allclose(e.err**2, e.var_rnoise + e.var_poisson, rtol=1e-5)


def test_dq_flags_only_a_few_shared_bad_pixels_as_do_not_use(exposures):
    first = exposures[0].dq
    assert set(np.unique(first).tolist()) == {0, DO_NOT_USE}
    assert 1 <= np.count_nonzero(first) <= 1e-3 * first.size + 3
    for e in exposures[1:]:
        np.testing.assert_array_equal(e.dq, first)
    # cosmic rays are not flagged in the DQ
    assert np.count_nonzero(first) < np.count_nonzero(exposures[0].cr_mask)


def test_cosmic_rays_are_where_the_mask_says():
    exps = dithered_imaging(n_exposures=2, shape=(256, 256), seed=3, cr_fraction=0.004)
    for e in exps:
        good = (e.dq & DO_NOT_USE) == 0
        assert 0.5 * 0.004 < e.cr_mask.mean() < 1.5 * 0.004
        excess = (e.data - e.truth).astype(np.float64)
        sigma = np.sqrt(np.clip(e.truth, 0, None) / e.exptime + e.var_rnoise)
        # every hit deposits >= 150 counts: far above the sky noise
        faint = e.cr_mask & good & (e.truth < 1.0)
        assert faint.sum() > 50
        assert np.all(excess[faint] > 0.25)
        # elsewhere the residual is plain noise
        clean = ~e.cr_mask & good
        z = excess[clean] / sigma[clean]
        assert abs(z.mean()) < 0.05 and 0.9 < z.std() < 1.1
        assert np.max(np.abs(z)) < 7.0


def test_no_cosmic_rays_when_fraction_is_zero():
    (e,) = dithered_imaging(n_exposures=1, shape=(64, 64), seed=1, cr_fraction=0.0)
    assert not e.cr_mask.any()


def test_every_source_lies_inside_every_exposure(exposures):
    sky = exposures[0].meta["background_level"]
    fluxes = [float(np.sum(e.truth.astype(np.float64) - sky)) for e in exposures]
    assert fluxes[0] > 0
    np.testing.assert_allclose(fluxes, fluxes[0], rtol=1e-4)


def test_exposures_are_dithered_by_a_few_subpixel_offsets_and_small_rotations(exposures):
    ref = exposures[0]
    ny, nx = ref.shape
    ra, dec = ref.wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2)
    offsets = []
    for e in exposures[1:]:
        x, y = e.wcs.world_to_pixel_values(ra, dec)
        d = np.array([x - (nx - 1) / 2, y - (ny - 1) / 2])
        offsets.append(d)
        assert 1.0 < np.hypot(*d) < 15.0
        # sub-pixel part: not an integer shift
        assert np.max(np.abs(d - np.round(d))) > 0.01
        pc0, pc = ref.wcs.wcs.get_pc(), e.wcs.wcs.get_pc()
        rot = math.degrees(math.atan2(pc[0, 1], pc[1, 1]) - math.atan2(pc0[0, 1], pc0[1, 1]))
        assert abs(rot) <= 0.3 + 1e-9
        assert rot == pytest.approx(e.meta["rotation"], abs=1e-9)
    assert not np.allclose(offsets[0], offsets[1])


def test_wcs_has_a_mild_sip_distortion(exposures):
    w = exposures[0].wcs
    assert w.wcs.ctype[0] == "RA---TAN-SIP" and w.sip is not None
    ny, nx = exposures[0].shape
    x = np.array([-0.5, nx - 0.5, nx - 0.5, -0.5])
    y = np.array([-0.5, -0.5, ny - 0.5, ny - 0.5])
    ra, dec = w.pixel_to_world_values(x, y)
    xl, yl = w.wcs_world2pix(ra, dec, 0)  # linear TAN only, no SIP
    shift = np.hypot(xl - x, yl - y)
    assert np.max(shift) > 0.05
    assert np.max(shift) < 0.01 * max(nx, ny)


def test_output_wcs_covers_every_footprint(exposures):
    out, (ny, nx) = output_wcs_for(exposures)
    assert out.pixel_shape == (nx, ny)
    xs, ys = [], []
    for e in exposures:
        fp = e.footprint(samples_per_edge=64)
        x, y = out.world_to_pixel_values(fp[:, 0], fp[:, 1])
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert np.all((x >= -0.5) & (x <= nx - 0.5))
    assert np.all((y >= -0.5) & (y <= ny - 0.5))
    # the lowest vertex lands on pixel coordinate 0, and the grid is tight
    corners = np.concatenate([e.footprint(8) for e in exposures])
    cx, cy = out.world_to_pixel_values(corners[:, 0], corners[:, 1])
    assert np.min(cx) == pytest.approx(0.0, abs=1e-6)
    assert np.min(cy) == pytest.approx(0.0, abs=1e-6)
    assert nx - 0.5 - np.max(cx) < 1.0 and ny - 0.5 - np.max(cy) < 1.0


def test_output_wcs_is_north_up_with_the_requested_scale(exposures):
    out, shape1 = output_wcs_for(exposures)
    assert out.wcs.ctype[0] == "RA---TAN" and out.sip is None
    np.testing.assert_allclose(out.wcs.get_pc(), [[-1.0, 0.0], [0.0, 1.0]], atol=1e-15)
    ra0, dec0 = out.pixel_to_world_values(10.0, 10.0)
    ra1, dec1 = out.pixel_to_world_values(10.0, 11.0)
    assert dec1 > dec0 and abs(ra1 - ra0) * math.cos(math.radians(dec0)) < 1e-3 * (dec1 - dec0)
    scale_in = exposures[0].meta["pixel_scale"] / 3600.0
    # measured over one pixel step from CRPIX, so the SIP adds ~1e-5
    assert out.wcs.cdelt[0] == pytest.approx(scale_in, rel=1e-4)

    out2, shape2 = output_wcs_for(exposures, pixel_scale_ratio=2.0)
    assert out2.wcs.cdelt[0] == pytest.approx(2.0 * out.wcs.cdelt[0], rel=1e-12)
    assert abs(shape2[0] - shape1[0] / 2) <= 1.5 and abs(shape2[1] - shape1[1] / 2) <= 1.5


def test_output_wcs_rotation_turns_the_grid(exposures):
    out, _ = output_wcs_for(exposures, rotation=30.0)
    a = math.radians(30.0)
    np.testing.assert_allclose(
        out.wcs.get_pc(), [[-math.cos(a), math.sin(a)], [math.sin(a), math.cos(a)]], atol=1e-15
    )


def test_invalid_arguments_raise():
    with pytest.raises(ValueError):
        dithered_imaging(n_exposures=0)
    with pytest.raises(ValueError):
        dithered_imaging(shape=(8, 8))
    with pytest.raises(ValueError):
        dithered_imaging(cr_fraction=0.9)
    with pytest.raises(ValueError):
        output_wcs_for([])
