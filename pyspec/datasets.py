"""Deterministic synthetic data sets for the demo, the tests and the benchmarks.

Everything here is generated from a seed with :class:`numpy.random.Generator`,
so the same arguments always give bit-identical arrays, on any machine.

Pixel convention: arrays are ``(row, column) = (y, x)``; pixel ``(x, y)`` is
0-based with integer coordinates at pixel centres, so an image of shape
``(ny, nx)`` covers ``-0.5 .. nx-0.5`` by ``-0.5 .. ny-0.5``. WCS objects are
queried through their 0-based APE-14 ``*_values`` methods.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from astropy.wcs import WCS, Sip

__all__ = [
    "DO_NOT_USE",
    "SyntheticExposure",
    "dithered_imaging",
    "output_wcs_for",
]

log = logging.getLogger(__name__)

#: JWST DQ bit meaning "do not use this pixel".
DO_NOT_USE = 1

# Sky position of the synthetic field (GOODS-S-like; any position works).
_RA0 = 53.1625
_DEC0 = -27.7914

# Integer part of the dither pattern (reference-frame pixels); exposure 0 is
# the undithered reference. Exposures beyond the table draw random offsets.
_DITHER_PATTERN = ((0, 0), (7, 3), (-4, 8), (5, -6), (-8, -2), (2, 9), (9, 5), (-6, -7))

_BIG_DITHER = 10.0  # px, bound on |integer + sub-pixel dither| per axis
_MAX_ROT = 0.3  # deg, bound on the rotation between exposures


@dataclass(eq=False)
class SyntheticExposure:
    """One calibrated-like imaging exposure (the content of a JWST ``_cal`` file).

    The arrays are in count-rate surface-brightness units (``meta["bunit_data"]``,
    DN/s per detector pixel) and share the shape ``(ny, nx)``. The fields map
    onto a JWST ``ImageModel``: ``data``, ``err``, ``dq``, ``var_rnoise``,
    ``var_poisson``, ``meta.wcs`` (here an :class:`astropy.wcs.WCS`),
    ``meta.exposure.exposure_time`` and the entries of ``meta``.

    Attributes
    ----------
    data : ndarray of float32, ``(ny, nx)``
        Science image (DN/s): scene + sky + Poisson and read noise + cosmic rays.
    err : ndarray of float32
        Total 1-sigma uncertainty (DN/s), ``sqrt(var_rnoise + var_poisson)``.
    dq : ndarray of uint32
        Data quality; only :data:`DO_NOT_USE` (1) is set, on a few bad detector
        pixels (the same pixels in every exposure). Cosmic rays are *not*
        flagged: their true positions are in ``cr_mask``.
    var_rnoise : ndarray of float32
        Read-noise variance ((DN/s)^2).
    var_poisson : ndarray of float32
        Poisson variance ((DN/s)^2), from the measured signal clipped at 0.
    wcs : astropy.wcs.WCS
        TAN-SIP WCS of this exposure (``pixel_shape`` set).
    exptime : float
        Exposure time (s).
    cr_mask : ndarray of bool
        True where a cosmic ray was injected (ground truth for tests).
    truth : ndarray of float32
        Noise-free, cosmic-ray-free image (DN/s) of the scene plus sky.
    meta : dict
        Metadata: ``filename``, ``exposure_number``, ``group_id``,
        ``exposure_time``, ``measurement_time`` (s), ``bunit_data``,
        ``bunit_err``, ``background_level`` (DN/s), ``background_subtracted``,
        ``ra_ref``, ``dec_ref``, ``roll_ref`` (deg), ``v3yangle``, ``vparity``,
        ``pixel_scale`` (arcsec), ``pixelarea_steradians``, ``dither``
        (reference-frame pixels ``(dx, dy)``), ``rotation`` (deg, relative to
        exposure 0), ``read_noise`` (counts), ``gain`` (counts/DN),
        ``n_cosmic_rays`` (events), ``bad_pixels`` (``(x, y)`` list), ``seed``.
    """

    data: np.ndarray
    err: np.ndarray
    dq: np.ndarray
    var_rnoise: np.ndarray
    var_poisson: np.ndarray
    wcs: WCS
    exptime: float
    cr_mask: np.ndarray
    truth: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """Array shape ``(ny, nx)``."""
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    def footprint(self, samples_per_edge: int = 1) -> np.ndarray:
        """Sky positions of the outline of the detector.

        Parameters
        ----------
        samples_per_edge : int, default 1
            Points per edge; 1 gives the four outer pixel corners
            ``(-0.5, -0.5), (nx-0.5, -0.5), (nx-0.5, ny-0.5), (-0.5, ny-0.5)``
            (the jwst ``S_REGION`` convention); more also samples along the
            edges, which follows the distortion.

        Returns
        -------
        ndarray of float64, ``(4 * samples_per_edge, 2)``
            ``(ra, dec)`` in degrees, counter-clockwise in pixel space.
        """
        x, y = _outline(self.shape, samples_per_edge)
        ra, dec = self.wcs.pixel_to_world_values(x, y)
        return np.column_stack([ra, dec])


def _outline(shape: tuple[int, int], samples_per_edge: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates of the image outline (outer pixel corners and edges)."""
    ny, nx = shape
    k = max(int(samples_per_edge), 1)
    t = np.arange(k) / k
    x0, x1, y0, y1 = -0.5, nx - 0.5, -0.5, ny - 0.5
    xs = np.concatenate([x0 + t * (x1 - x0), np.full(k, x1), x1 - t * (x1 - x0), np.full(k, x0)])
    ys = np.concatenate([np.full(k, y0), y0 + t * (y1 - y0), np.full(k, y1), y1 - t * (y1 - y0)])
    return xs, ys


def _pc_matrix(roll_deg: float) -> np.ndarray:
    """PC matrix of a north-up, east-left frame rotated by ``roll_deg`` (spec 11.5, vparity -1)."""
    a = math.radians(roll_deg)
    return np.array([[-math.cos(a), math.sin(a)], [math.sin(a), math.cos(a)]])


def _tan_wcs(
    crval: tuple[float, float],
    crpix0: tuple[float, float],
    scale_deg: float,
    roll_deg: float,
    shape: tuple[int, int],
) -> WCS:
    """Plain TAN WCS; ``crpix0`` is 0-based."""
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [float(crval[0]), float(crval[1])]
    w.wcs.crpix = [crpix0[0] + 1.0, crpix0[1] + 1.0]
    w.wcs.cdelt = [scale_deg, scale_deg]
    w.wcs.pc = _pc_matrix(roll_deg)
    w.wcs.cunit = ["deg", "deg"]
    w.wcs.radesys = "ICRS"
    w.wcs.set()
    w.pixel_shape = (int(shape[1]), int(shape[0]))
    return w


def _sip(shape: tuple[int, int], crpix1: tuple[float, float]) -> Sip:
    """A mild SIP distortion: about 0.3 % of the detector size at the corners.

    The quadratic terms make the pixel area vary by about +-1 % across the
    detector (linearly, so it averages out over the field).
    """
    ny, nx = shape
    h = 0.5 * max(nx, ny)
    c = 0.0012 * max(nx, ny) / (h * h)
    a = np.zeros((4, 4))
    b = np.zeros((4, 4))
    # a[p, q] is the coefficient of u**p * v**q (astropy's A_p_q layout).
    a[2, 0], a[1, 1], a[0, 2], a[3, 0], a[1, 2] = (
        0.6 * c,
        -1.0 * c,
        0.4 * c,
        0.3 * c / h,
        0.2 * c / h,
    )
    b[2, 0], b[1, 1], b[0, 2], b[0, 3], b[2, 1] = (
        0.5 * c,
        0.7 * c,
        -0.8 * c,
        0.3 * c / h,
        -0.2 * c / h,
    )
    return Sip(a, b, None, None, [crpix1[0], crpix1[1]])


def _exposure_wcs(
    crval: tuple[float, float], scale_deg: float, roll_deg: float, shape: tuple[int, int]
) -> WCS:
    """TAN-SIP WCS with the reference pixel at the detector centre."""
    ny, nx = shape
    crpix1 = ((nx + 1) / 2.0, (ny + 1) / 2.0)  # FITS 1-based centre
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN-SIP", "DEC--TAN-SIP"]
    w.wcs.crval = [float(crval[0]), float(crval[1])]
    w.wcs.crpix = list(crpix1)
    w.wcs.cdelt = [scale_deg, scale_deg]
    w.wcs.pc = _pc_matrix(roll_deg)
    w.wcs.cunit = ["deg", "deg"]
    w.wcs.radesys = "ICRS"
    w.sip = _sip(shape, crpix1)
    w.wcs.set()
    w.pixel_shape = (nx, ny)
    return w


def _uniform_or_centre(rng: np.random.Generator, lo: float, hi: float, centre: float) -> float:
    """Uniform draw in ``[lo, hi]``, or ``centre`` when the range is empty (one draw either way)."""
    u = float(rng.uniform())
    return lo + u * (hi - lo) if hi > lo else centre


def _erf(v: np.ndarray) -> np.ndarray:
    return np.fromiter((math.erf(t) for t in v.tolist()), dtype=np.float64, count=v.size)


def _add_star(img: np.ndarray, x: float, y: float, flux: float, sigma: float) -> None:
    """Add a pixel-integrated circular Gaussian of total ``flux`` centred at ``(x, y)``."""
    ny, nx = img.shape
    r = int(math.ceil(5.0 * sigma)) + 1
    i0, i1 = max(int(round(x)) - r, 0), min(int(round(x)) + r + 1, nx)
    j0, j1 = max(int(round(y)) - r, 0), min(int(round(y)) + r + 1, ny)
    if i0 >= i1 or j0 >= j1:
        return
    s = sigma * math.sqrt(2.0)
    ex = _erf((np.arange(i0, i1 + 1) - 0.5 - x) / s)
    ey = _erf((np.arange(j0, j1 + 1) - 0.5 - y) / s)
    px = 0.5 * np.diff(ex)
    py = 0.5 * np.diff(ey)
    img[j0:j1, i0:i1] += flux * np.outer(py, px)


def _sersic_b(n: float) -> float:
    return 2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n)


def _add_galaxy(
    img: np.ndarray,
    x0: float,
    y0: float,
    jac: np.ndarray,
    gal: dict[str, float],
    oversample: int = 3,
) -> None:
    """Add an elliptical Sersic galaxy of total ``gal["flux"]``.

    The profile is tapered smoothly to zero at ``gal["extent"]`` effective
    radii, which lies inside the cutout, so the whole flux is deposited.

    ``jac`` maps detector pixel offsets from ``(x0, y0)`` to reference-frame
    pixel offsets (the local linearisation of the exposure's WCS), so the
    galaxy has the same shape on the sky in every exposure.
    """
    ny, nx = img.shape
    re, q, pa, n = gal["r_e"], gal["q"], gal["pa"], gal["n"]
    r = int(math.ceil(gal["extent"] * re))
    i0, i1 = max(int(round(x0)) - r, 0), min(int(round(x0)) + r + 1, nx)
    j0, j1 = max(int(round(y0)) - r, 0), min(int(round(y0)) + r + 1, ny)
    if i0 >= i1 or j0 >= j1:
        return
    sub = (np.arange(oversample) + 0.5) / oversample - 0.5
    xs = (np.arange(i0, i1)[:, None] + sub[None, :]).ravel() - x0
    ys = (np.arange(j0, j1)[:, None] + sub[None, :]).ravel() - y0
    dx = xs[None, :]
    dy = ys[:, None]
    u = jac[0, 0] * dx + jac[0, 1] * dy
    v = jac[1, 0] * dx + jac[1, 1] * dy
    cp, sp = math.cos(pa), math.sin(pa)
    a = cp * u + sp * v
    b = (-sp * u + cp * v) / q
    rr = np.sqrt(a * a + b * b) / re
    prof = np.exp(-_sersic_b(n) * (rr ** (1.0 / n) - 1.0))
    # smooth taper to 0 at ``extent`` effective radii: no truncation edge
    # (the de Vaucouleurs wings are still visible at 12 r_e)
    t = np.clip((rr - 0.4 * gal["extent"]) / (0.6 * gal["extent"]), 0.0, 1.0)
    prof *= 1.0 - t * t * (3.0 - 2.0 * t)
    prof = prof.reshape(j1 - j0, oversample, i1 - i0, oversample).sum(axis=(1, 3))
    total = prof.sum()
    if total > 0:
        img[j0:j1, i0:i1] += gal["flux"] * prof / total


def _local_jacobian(w_exp: WCS, w_ref: WCS, x: float, y: float) -> np.ndarray:
    """d(reference pixel)/d(exposure pixel) at exposure pixel ``(x, y)``."""
    px = np.array([x, x + 1.0, x])
    py = np.array([y, y, y + 1.0])
    ra, dec = w_exp.pixel_to_world_values(px, py)
    rx, ry = w_ref.world_to_pixel_values(ra, dec)
    return np.array([[rx[1] - rx[0], rx[2] - rx[0]], [ry[1] - ry[0], ry[2] - ry[0]]])


def dithered_imaging(
    n_exposures: int = 4,
    shape: tuple[int, int] = (512, 512),
    seed: int = 0,
    cr_fraction: float = 0.002,
    *,
    exptime: float = 500.0,
    sky: float = 0.2,
    read_noise: float = 15.0,
    pixel_scale: float = 0.031,
    roll: float = 10.0,
    star_density: float = 120.0,
    n_galaxies: int = 2,
    psf_sigma: float = 1.0,
) -> list[SyntheticExposure]:
    """Dithered, distorted imaging exposures of one synthetic sky field.

    The scene (Gaussian-PSF stars with log-uniform fluxes, ``n_galaxies``
    Sersic galaxies, a constant sky) is fixed on the sky; each exposure sees
    it through its own TAN-SIP WCS: the same mild SIP distortion, a dither of
    a few pixels plus a random sub-pixel fraction, and a small rotation
    (exposure 0 is the undithered, unrotated reference). All sources lie in
    the area common to every exposure. Poisson and read noise are added,
    then cosmic rays (single pixels and short tracks). A few bad detector
    pixels (dead or hot, the same in every exposure) are flagged
    ``DO_NOT_USE`` in the DQ.

    Parameters
    ----------
    n_exposures : int, default 4
        Number of exposures (>= 1).
    shape : (int, int), default (512, 512)
        Detector shape ``(ny, nx)``; each side >= 16.
    seed : int, default 0
        Seed. The scene and exposure ``k`` depend only on ``seed`` (and the
        other parameters), not on ``n_exposures``: the first exposures of a
        larger set equal a smaller set.
    cr_fraction : float, default 0.002
        Approximate fraction of pixels hit by cosmic rays, in ``[0, 0.5]``.
    exptime : float, default 500.0
        Exposure time of every exposure (s).
    sky : float, default 0.2
        Sky background (DN/s per pixel), the same in every exposure.
    read_noise : float, default 15.0
        Read noise (counts per pixel; gain 1).
    pixel_scale : float, default 0.031
        Detector pixel scale at the reference pixel (arcsec).
    roll : float, default 10.0
        Position angle of the detector y axis east of north (deg) for
        exposure 0; the others differ by up to +-0.3 deg.
    star_density : float, default 120.0
        Stars per 512 x 512 pixels.
    n_galaxies : int, default 2
        Extended galaxies (alternating exponential disk and de Vaucouleurs).
    psf_sigma : float, default 1.0
        Gaussian PSF sigma (detector pixels).

    Returns
    -------
    list of SyntheticExposure
        One per exposure; arrays in DN/s, see :class:`SyntheticExposure`.
    """
    ny, nx = (int(shape[0]), int(shape[1]))
    if n_exposures < 1:
        raise ValueError(f"n_exposures must be >= 1, got {n_exposures}")
    if ny < 16 or nx < 16:
        raise ValueError(f"shape must be at least (16, 16), got {shape}")
    if not (0.0 <= cr_fraction <= 0.5):
        raise ValueError(f"cr_fraction must be in [0, 0.5], got {cr_fraction}")
    if not (exptime > 0 and pixel_scale > 0 and psf_sigma > 0):
        raise ValueError("exptime, pixel_scale and psf_sigma must be > 0")

    seqs = np.random.SeedSequence(seed).spawn(n_exposures + 2)
    scene_rng = np.random.default_rng(seqs[0])
    det_rng = np.random.default_rng(seqs[1])
    scale_deg = pixel_scale / 3600.0
    cx, cy = (nx - 1) / 2.0, (ny - 1) / 2.0
    ref = _tan_wcs((_RA0, _DEC0), (cx, cy), scale_deg, roll, (ny, nx))

    # ---- scene (reference-frame pixel coordinates -> sky)
    margin = _BIG_DITHER + math.radians(_MAX_ROT) * 0.75 * max(nx, ny) + 0.004 * max(nx, ny)
    margin += 5.0 * psf_sigma + 3.0
    lo_x, hi_x = margin, nx - 1 - margin
    lo_y, hi_y = margin, ny - 1 - margin
    if hi_x <= lo_x or hi_y <= lo_y:  # tiny images: use the central half
        lo_x, hi_x, lo_y, hi_y = nx / 4, 3 * nx / 4, ny / 4, 3 * ny / 4
    n_stars = max(int(round(star_density * nx * ny / 512.0**2)), 1)
    sx = scene_rng.uniform(lo_x, hi_x, n_stars)
    sy = scene_rng.uniform(lo_y, hi_y, n_stars)
    sflux = np.exp(scene_rng.uniform(math.log(50.0), math.log(5.0e4), n_stars))
    star_ra, star_dec = ref.pixel_to_world_values(sx, sy)

    galaxies = []
    size = min(nx, ny)
    for g in range(n_galaxies):
        disk = g % 2 == 0
        re = float(np.clip((0.03 if disk else 0.015) * size, 1.5, 60.0))
        extent = 8.0 if disk else 12.0
        half = extent * re
        gx = _uniform_or_centre(scene_rng, margin + half, nx - 1 - margin - half, cx)
        gy = _uniform_or_centre(scene_rng, margin + half, ny - 1 - margin - half, cy)
        gra, gdec = ref.pixel_to_world_values(gx, gy)
        galaxies.append(
            {
                "ra": float(gra),
                "dec": float(gdec),
                "flux": float(scene_rng.uniform(2.0e4, 1.0e5)),
                "r_e": re,
                "q": float(scene_rng.uniform(0.4, 0.8)),
                "pa": float(scene_rng.uniform(0.0, math.pi)),
                "n": 1.0 if disk else 4.0,
                "extent": extent,
            }
        )

    # ---- detector defects (shared by all exposures)
    n_bad = max(3, int(round(2.0e-5 * nx * ny)))
    flat = det_rng.choice(nx * ny, size=n_bad, replace=False)
    bad_y, bad_x = np.divmod(flat, nx)
    hot = det_rng.random(n_bad) < 0.5
    hot_value = det_rng.uniform(20.0, 200.0, n_bad)

    exposures = []
    for k in range(n_exposures):
        rng = np.random.default_rng(seqs[k + 2])
        if k == 0:
            dx = dy = drot = 0.0
        else:
            if k < len(_DITHER_PATTERN):
                ix, iy = _DITHER_PATTERN[k]
            else:
                ix, iy = (int(v) for v in rng.integers(-8, 9, 2))
            fx, fy = rng.uniform(0.0, 1.0, 2)
            dx, dy = (
                float(np.clip(ix + fx, -_BIG_DITHER, _BIG_DITHER)),
                float(np.clip(iy + fy, -_BIG_DITHER, _BIG_DITHER)),
            )
            drot = float(rng.uniform(-_MAX_ROT, _MAX_ROT))
        cra, cdec = ref.pixel_to_world_values(cx + dx, cy + dy)
        w = _exposure_wcs((float(cra), float(cdec)), scale_deg, roll + drot, (ny, nx))

        truth = np.full((ny, nx), sky, dtype=np.float64)
        xs, ys = w.world_to_pixel_values(star_ra, star_dec)
        for x, y, f in zip(xs.tolist(), ys.tolist(), sflux.tolist(), strict=True):
            _add_star(truth, x, y, f, psf_sigma)
        for gal in galaxies:
            gx, gy = w.world_to_pixel_values(gal["ra"], gal["dec"])
            jac = _local_jacobian(w, ref, float(gx), float(gy))
            _add_galaxy(truth, float(gx), float(gy), jac, gal)

        counts = rng.poisson(truth * exptime).astype(np.float64)
        counts += rng.normal(0.0, read_noise, (ny, nx))

        # cosmic rays: single pixels and short tracks, amplitude in counts
        cr_counts = np.zeros((ny, nx))
        lengths_p = np.array([0.5, 0.25, 0.15, 0.1])
        mean_len = float(np.dot(lengths_p, np.arange(1, 5)))
        n_cr = int(round(cr_fraction * nx * ny / mean_len))
        if n_cr:
            lengths = rng.choice(np.arange(1, 5), size=n_cr, p=lengths_p)
            x0 = rng.integers(0, nx, n_cr)
            y0 = rng.integers(0, ny, n_cr)
            ang = rng.uniform(0.0, 2.0 * math.pi, n_cr)
            amp = np.exp(rng.uniform(math.log(300.0), math.log(8000.0), n_cr))
            ev = np.repeat(np.arange(n_cr), lengths)
            t = np.arange(ev.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            px = np.rint(x0[ev] + t * np.cos(ang[ev])).astype(np.intp)
            py = np.rint(y0[ev] + t * np.sin(ang[ev])).astype(np.intp)
            inside = (px >= 0) & (px < nx) & (py >= 0) & (py < ny)
            frac = rng.uniform(0.5, 1.0, ev.size)
            np.add.at(cr_counts, (py[inside], px[inside]), (amp[ev] * frac)[inside])
        cr_mask = cr_counts > 0
        counts += cr_counts

        data = counts / exptime
        data[bad_y[~hot], bad_x[~hot]] = 0.0
        data[bad_y[hot], bad_x[hot]] = hot_value[hot]
        dq = np.zeros((ny, nx), dtype=np.uint32)
        dq[bad_y, bad_x] = DO_NOT_USE

        data32 = data.astype(np.float32)
        var_rnoise = np.full((ny, nx), (read_noise / exptime) ** 2, dtype=np.float32)
        var_poisson = (np.clip(data32, 0.0, None) / np.float32(exptime)).astype(np.float32)
        err = np.sqrt(var_rnoise + var_poisson).astype(np.float32)

        meta = {
            "filename": f"synthetic_{k + 1:03d}_cal.fits",
            "exposure_number": k + 1,
            "group_id": f"synthetic_{k + 1:03d}",
            "exposure_time": float(exptime),
            "measurement_time": float(exptime),
            "bunit_data": "DN/s",
            "bunit_err": "DN/s",
            "background_level": float(sky),
            "background_subtracted": False,
            "ra_ref": float(cra),
            "dec_ref": float(cdec),
            "roll_ref": float(roll + drot),
            "v3yangle": 0.0,
            "vparity": -1,
            "pixel_scale": float(pixel_scale),
            "pixelarea_steradians": float(math.radians(scale_deg) ** 2),
            "dither": (dx, dy),
            "rotation": drot,
            "read_noise": float(read_noise),
            "gain": 1.0,
            "n_cosmic_rays": n_cr,
            "bad_pixels": list(zip(bad_x.tolist(), bad_y.tolist(), strict=True)),
            "seed": seed,
        }
        exposures.append(
            SyntheticExposure(
                data=data32,
                err=err,
                dq=dq,
                var_rnoise=var_rnoise,
                var_poisson=var_poisson,
                wcs=w,
                exptime=float(exptime),
                cr_mask=cr_mask,
                truth=truth.astype(np.float32),
                meta=meta,
            )
        )
    log.debug(
        "dithered_imaging: %d exposures of %dx%d, %d stars, %d galaxies, seed %d",
        n_exposures,
        ny,
        nx,
        n_stars,
        n_galaxies,
        seed,
    )
    return exposures


def _unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra_r, dec_r = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec_r) * np.cos(ra_r), np.cos(dec_r) * np.sin(ra_r), np.sin(dec_r)])


def output_wcs_for(
    exposures: Sequence[SyntheticExposure],
    pixel_scale_ratio: float = 1.0,
    rotation: float = 0.0,
    samples_per_edge: int = 8,
) -> tuple[WCS, tuple[int, int]]:
    """North-up TAN output WCS and shape that cover every exposure's footprint.

    A simple version of the jwst construction (spec/drizzle.md section 11):

    1. Footprints: each exposure's outline at the outer pixel corners
       ``-0.5 .. n-0.5`` (plus ``samples_per_edge - 1`` points along each
       edge, so a distorted edge that bulges outwards is covered too).
    2. Pixel scale: the first exposure's scale at its reference position
       (``sqrt(xscale * yscale)`` of unit steps), times ``pixel_scale_ratio``.
    3. Fiducial: the mid-range of the footprint vertices as unit vectors.
    4. Orientation: ``PC = [[-cos a, sin a], [sin a, cos a]]``, ``a =
       radians(rotation)``; ``rotation=0`` is north up, east left.
    5. Offset so the lowest footprint vertex lands on pixel coordinate 0 in
       each axis; shape ``ceil(dmax + 0.5)``, so the grid ``-0.5 .. n-0.5``
       always contains every vertex (jwst's ``int(dmax + 0.5)`` can cut up
       to one pixel).

    Parameters
    ----------
    exposures : sequence of SyntheticExposure
        Inputs (anything with ``wcs``, ``shape`` and ``footprint()`` works).
    pixel_scale_ratio : float, default 1.0
        Output / input linear pixel size.
    rotation : float, default 0.0
        Angle of the output y axis east of north (deg).
    samples_per_edge : int, default 8
        Outline points per edge (1 = corners only, as jwst).

    Returns
    -------
    wcs : astropy.wcs.WCS
        TAN WCS with ``pixel_shape`` set (``CRPIX`` 1-based as FITS).
    shape : (int, int)
        Output shape ``(ny, nx)``.
    """
    if len(exposures) == 0:
        raise ValueError("need at least one exposure")
    if not (pixel_scale_ratio > 0 and math.isfinite(pixel_scale_ratio)):
        raise ValueError(f"pixel_scale_ratio must be positive, got {pixel_scale_ratio}")

    verts = np.concatenate([e.footprint(samples_per_edge) for e in exposures])
    if not np.all(np.isfinite(verts)):
        raise ValueError("non-finite footprint vertex")

    # pixel scale of the first exposure at its reference position
    w0 = exposures[0].wcs
    crval0 = w0.wcs.crval
    px, py = w0.world_to_pixel_values(crval0[0], crval0[1])
    ra, dec = w0.pixel_to_world_values(np.array([px, px + 1.0, px]), np.array([py, py, py + 1.0]))
    vec = _unit_vectors(ra, dec)
    xs = math.atan2(np.linalg.norm(np.cross(vec[:, 0], vec[:, 1])), np.dot(vec[:, 0], vec[:, 1]))
    ys = math.atan2(np.linalg.norm(np.cross(vec[:, 0], vec[:, 2])), np.dot(vec[:, 0], vec[:, 2]))
    scale = math.degrees(math.sqrt(xs * ys)) * pixel_scale_ratio

    # fiducial: mid-range of the unit vectors
    uv = _unit_vectors(verts[:, 0], verts[:, 1])
    mid = 0.5 * (uv.max(axis=1) + uv.min(axis=1))
    ra_f = math.degrees(math.atan2(mid[1], mid[0])) % 360.0
    dec_f = math.degrees(math.atan2(mid[2], math.hypot(mid[0], mid[1])))

    native = _tan_wcs((ra_f, dec_f), (0.0, 0.0), scale, rotation, (1, 1))
    vx, vy = native.world_to_pixel_values(verts[:, 0], verts[:, 1])
    xmin, ymin = float(np.min(vx)), float(np.min(vy))
    nx = int(math.ceil(float(np.max(vx)) - xmin + 0.5))
    ny = int(math.ceil(float(np.max(vy)) - ymin + 0.5))
    if nx < 2 or ny < 2:
        raise ValueError(f"output grid too small: {(ny, nx)}")
    out = _tan_wcs((ra_f, dec_f), (-xmin, -ymin), scale, rotation, (ny, nx))
    return out, (ny, nx)
