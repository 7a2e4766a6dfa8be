"""Adaptive trace models of 2-D spectral images, with optional oversampling.

Array-level re-implementation of :mod:`jwst.adaptive_trace_model` (jwst 3.0.0):
for every spectral region (IFU slice or slit) a cubic B-spline model of the
normalised spatial profile is fitted at every dispersion column, using the
data of a window of neighbouring columns (the trace tilt makes them sample
the profile at different sub-pixel phases). The set of models is the trace
model; with ``oversample = N != 1`` the image is resampled onto an ``N``
times finer spatial grid (spline model plus interpolated residual for bright
compact sources, linear interpolation elsewhere), together with the errors,
variances, DQ and region map.

Pixel convention: arrays are ``(row, column) = (y, x)`` in the detector
frame, 0-based, integer coordinates at pixel centres. NIRSpec data disperse
along x (columns); MIRI data disperse along y and are rotated internally
(``np.rot90``), so MIRI oversampling multiplies the number of *columns*.

Results agree with the reference to float32 rounding (spec
``adaptive_trace_model.md`` 13) and are bitwise identical for any number of
threads (:func:`pyspec.set_num_threads`).

Where the reference raises on degenerate input (spec 15), this module gives a
documented result instead:

* a region whose native alpha step is undefined (all alpha NaN, or a single
  row) is not modelled (the reference fails converting NaN to an integer);
* a scale factor with fewer than five usable rows uses all rows (the
  reference raises ``IndexError``);
* a modelled column without any finite residual gets a NaN residual (the
  reference raises in ``np.interp``);
* a modelled column whose alpha selection is empty is skipped.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from .bspline import BSpline

__all__ = [
    "MODES",
    "SyntheticExposure",
    "TraceResult",
    "fit_and_oversample",
    "oversampled_rows",
    "synthetic_exposure",
]

log = logging.getLogger(__name__)

#: Supported modes (the reference's exposure types are accepted too).
MODES = (
    "NRS_IFU",
    "NRS_SLIT",
    "NRS_MOS",
    "MIR_MRS",
    "MIR_LRS-FIXEDSLIT",
    "MIR_LRS-SLITLESS",
)

_ROTATED = {"MIR_MRS", "MIR_LRS_SLIT", "MIR_LRS_FIXEDSLIT", "MIR_LRS_SLITLESS"}


@dataclass
class TraceResult:
    """Outputs of :func:`fit_and_oversample` (detector frame).

    Attributes
    ----------
    trace_model : ndarray (float32)
        Spline model where it is used (compact sources, or everywhere a model
        exists when ``slope_limit <= 0`` / ``psf_optimal``), NaN elsewhere;
        shape of the output ``data``.
    data, err : ndarray (float32)
        Science data and error: oversampled when ``oversample != 1``,
        otherwise copies of the inputs.
    dq : ndarray (uint32)
        Data quality; when oversampling, NaN pixels replaced by the model get
        ``FLUX_ESTIMATED`` instead of ``DO_NOT_USE``.
    var_rnoise, var_poisson, var_flat : ndarray (float32) or None
        Variances (those given).
    regions : ndarray (int32)
        Region map (nearest-neighbour oversampled).
    spline_full : ndarray (float32)
        Spline model everywhere a model exists.
    spline_used : ndarray (float32)
        Spline model where used (equals ``trace_model``).
    linear_interp, spline_residual : ndarray (float32) or None
        Linear interpolation of the data and interpolated data-minus-model
        residual (``oversample != 1`` only).
    models : dict or None
        With ``return_models=True``: ``{region: {column: {"model": BSpline,
        "scale": float, "bounds": (lo, hi), "fallback": bool}}}`` in the
        working frame (rotated for MIRI), like the reference's spline table.
    failed_columns : dict
        ``{region: [columns]}`` whose spline fit raised in the reference
        (they reuse the previous model).
    """

    trace_model: NDArray[np.float32]
    data: NDArray[np.float32]
    err: NDArray[np.float32]
    dq: NDArray[np.uint32]
    var_rnoise: NDArray[np.float32] | None
    var_poisson: NDArray[np.float32] | None
    var_flat: NDArray[np.float32] | None
    regions: NDArray[np.int32]
    spline_full: NDArray[np.float32]
    spline_used: NDArray[np.float32]
    linear_interp: NDArray[np.float32] | None
    spline_residual: NDArray[np.float32] | None
    models: dict[int, dict[int, dict[str, Any]]] | None = None
    failed_columns: dict[int, list[int]] = field(default_factory=dict)


def oversampled_rows(n_rows: int, oversample: float) -> NDArray[np.float64]:
    """Original-pixel coordinate of every oversampled row or column.

    New index ``k`` maps to ``k / N - (N - 1) / (2 N)`` (N=2: -0.25, 0.25,
    0.75, ...), for ``k < ceil(n_rows * N)``. Use it to compute ``alpha_os``:
    for NIRSpec, alpha at detector ``(x, y = oversampled_rows(ny, N)[k])``;
    for MIRI (oversampled along x), alpha at detector
    ``(x = oversampled_rows(nx, N)[k], y)`` (exact for integer ``N``; for
    non-integer ``N`` the reference's rotated grid is used: column ``c`` of
    the output maps to ``nx - 1 - oversampled_rows(nx, N)[ceil(nx N) - 1 - c]``).

    Parameters
    ----------
    n_rows : int
        Number of original rows (pixels along the oversampled axis).
    oversample : float
        Oversampling factor ``N``.

    Returns
    -------
    ndarray
        float64 coordinates, length ``ceil(n_rows * N)``.
    """
    n = float(oversample)
    k = np.arange(int(np.ceil(n_rows * n)), dtype=np.int32)
    return k / n - (n - 1) / (n * 2)


def _f32(a: ArrayLike, name: str) -> NDArray[np.float32]:
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _opt_f32(a: ArrayLike | None, name: str) -> NDArray[np.float32] | None:
    return None if a is None else _f32(a, name)


def fit_and_oversample(
    data: ArrayLike,
    err: ArrayLike,
    alpha: ArrayLike,
    regions: ArrayLike | None,
    *,
    mode: str,
    detector: str | None = None,
    grating: str | None = None,
    oversample: float = 1.0,
    fit_threshold: float = 10.0,
    slope_limit: float = 0.1,
    psf_optimal: bool = False,
    dq: ArrayLike | None = None,
    var_rnoise: ArrayLike | None = None,
    var_poisson: ArrayLike | None = None,
    var_flat: ArrayLike | None = None,
    alpha_os: ArrayLike | None = None,
    flux_density: bool = False,
    exact: bool = False,
    return_models: bool = False,
) -> TraceResult:
    """Fit the adaptive trace model of a 2-D spectral image; optionally oversample.

    Parameters
    ----------
    data : array_like, shape (ny, nx) or (nint, ny, nx)
        Science data (converted to float32, the precision of JWST products and
        of the reference's arithmetic). A 3-D input (TSO) is fitted on its
        per-pixel nan-median over integrations; only ``oversample = 1`` is
        then allowed and the input data are returned unchanged.
    err : array_like
        Error, same shape as ``data``.
    alpha : array_like, shape (ny, nx)
        Spatial coordinate along the slit/slice (any unit, float64, NaN
        outside the regions), centred near 0 and monotonic along each
        spatial line.
    regions : array_like of int, shape (ny, nx), or None
        Region map (0 = no region, > 0 = region id). ``None`` (slit modes
        only) uses ``1`` where ``alpha`` is finite, as the reference does.
    mode : str
        ``"NRS_IFU"``, ``"NRS_SLIT"`` (fixed slit), ``"NRS_MOS"``,
        ``"MIR_MRS"``, ``"MIR_LRS-FIXEDSLIT"`` or ``"MIR_LRS-SLITLESS"``.
    detector : str, optional
        Detector name (``"NRS1"``, ``"NRS2"``, ``"MIRIFUSHORT"``, ...).
        NIRSpec columns are fitted left to right on NRS1 and right to left
        otherwise. Default ``"NRS1"`` / a MIRI detector.
    grating : str, optional
        ``"PRISM"`` selects the short NIRSpec column window.
    oversample : float, optional
        Oversampling factor ``N`` (1 = only compute ``trace_model``).
    fit_threshold : float, optional
        Signal threshold (sigma) for modelling a region; ``<= 0`` models
        every region.
    slope_limit : float, optional
        Compact-source threshold on the slope of the normalised model;
        ``<= 0`` uses the model wherever it exists.
    psf_optimal : bool, optional
        Model-only oversampling: ``fit_threshold = slope_limit = 0`` and no
        residual correction.
    dq : array_like of uint32, optional
        Data quality (zeros if absent).
    var_rnoise, var_poisson, var_flat : array_like, optional
        Variances, oversampled like the error (only those given).
    alpha_os : array_like, optional
        Alpha at the oversampled pixels in the output (detector) frame,
        shape ``(ceil(ny*N), nx)`` for NIRSpec and ``(ny, ceil(nx*N))`` for
        MIRI; required when ``oversample != 1`` (see
        :func:`oversampled_rows` for the pixel coordinates).
    flux_density : bool, optional
        Data are a flux density (e.g. MJy rather than MJy/sr): oversampled
        flux and errors are divided by ``N``, variances by ``N**2``.
    exact : bool, optional
        Solve the column least-squares problems with FITPACK's Givens
        rotations in the reference's order, which makes every model bitwise
        equal to jwst's (about 2.5 times slower). The default uses blocked
        Householder reflections: equally orthogonal and stable, equal to the
        reference to rounding (the float32 outputs agree to within an ulp
        except, rarely, where a rejection decision sits at a rounding
        boundary).
    return_models : bool, optional
        Also return the per-column spline models.

    Returns
    -------
    TraceResult
        Trace model, (oversampled) arrays and intermediate images.

    Raises
    ------
    ValueError
        Unknown mode, detector not matching the mode, shape mismatch,
        missing ``alpha_os`` for ``N != 1``, ``N`` not positive and finite,
        ``oversample != 1`` with 3-D data, or ``regions=None`` for an IFU mode.
    TypeError
        Non-numeric input arrays.
    """
    mode_key = str(mode).strip().upper().replace("-", "_")
    data_in = np.asarray(data)
    err_in = np.asarray(err)
    if data_in.ndim == 3:
        if float(oversample) != 1.0:
            raise ValueError("Oversampling is not supported for TSO data.")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            d2 = np.nanmedian(_f32(data_in, "data"), axis=0)
            e2 = np.nanmedian(_f32(err_in, "err"), axis=0)
    elif data_in.ndim == 2:
        d2, e2 = _f32(data_in, "data"), _f32(err_in, "err")
    else:
        raise ValueError(f"data must be 2-D or 3-D, got shape {data_in.shape}")
    if e2.shape != d2.shape:
        raise ValueError(f"err has shape {e2.shape}, expected {d2.shape}")
    a2 = np.ascontiguousarray(alpha, dtype=np.float64)
    if regions is None:
        if mode_key in ("NRS_IFU", "MIR_MRS"):
            raise ValueError(f"a region map is required for mode {mode}")
        r2 = np.isfinite(a2).astype(np.int32)
    else:
        r2 = np.ascontiguousarray(regions, dtype=np.int32)
    dq2 = None if dq is None else np.ascontiguousarray(dq, dtype=np.uint32)
    if dq2 is not None and dq2.ndim == 3:
        dq2 = np.ascontiguousarray(np.bitwise_or.reduce(dq2, axis=0))
    aos = None if alpha_os is None else np.ascontiguousarray(alpha_os, dtype=np.float64)
    variances = {
        "var_rnoise": _opt_f32(var_rnoise, "var_rnoise"),
        "var_poisson": _opt_f32(var_poisson, "var_poisson"),
        "var_flat": _opt_f32(var_flat, "var_flat"),
    }
    if data_in.ndim == 3:
        # TSO: only the trace model is computed; keep the inputs as they are.
        variances = dict.fromkeys(variances)
    out = _core.trace_fit_and_oversample(
        d2,
        e2,
        a2,
        r2,
        mode=str(mode),
        detector=detector,
        grating=grating,
        oversample=float(oversample),
        fit_threshold=float(fit_threshold),
        slope_limit=float(slope_limit),
        psf_optimal=bool(psf_optimal),
        flux_density=bool(flux_density),
        dq=dq2,
        alpha_os=aos,
        with_models=bool(return_models),
        exact=bool(exact),
        **variances,
    )
    failed = {int(r): [int(c) for c in cols] for r, cols in out.pop("failed_columns")}
    for r, cols in failed.items():
        log.warning(
            "Spline fit failed at %d column(s) of region %d (first: %d); "
            "the previous column's model is reused",
            len(cols),
            r,
            cols[0],
        )
    models = None
    if return_models:
        models = {}
        for rid, cols in out.pop("models"):
            models[int(rid)] = {
                int(col): {
                    "model": BSpline(t, c),
                    "scale": float(scale),
                    "bounds": (np.float32(lo), np.float32(hi)),
                    "fallback": bool(fb),
                }
                for col, t, c, scale, lo, hi, fb in cols
            }
    res = TraceResult(models=models, failed_columns=failed, **out)
    if data_in.ndim == 3:
        res.data = data_in
        res.err = err_in
        res.dq = np.asarray(dq) if dq is not None else np.zeros(data_in.shape, np.uint32)
        res.var_rnoise = None if var_rnoise is None else np.asarray(var_rnoise)
        res.var_poisson = None if var_poisson is None else np.asarray(var_poisson)
        res.var_flat = None if var_flat is None else np.asarray(var_flat)
    return res


@dataclass
class SyntheticExposure:
    """A deterministic 2-D spectral exposure for tests and benchmarks.

    Arrays are in the detector frame of ``mode``; ``alpha_os[N]`` holds the
    oversampled alpha for each factor requested.
    """

    mode: str
    data: NDArray[np.float32]
    err: NDArray[np.float32]
    var_rnoise: NDArray[np.float32]
    var_poisson: NDArray[np.float32]
    dq: NDArray[np.uint32]
    alpha: NDArray[np.float64]
    regions: NDArray[np.int32]
    alpha_os: dict[float, NDArray[np.float64]]


def synthetic_exposure(
    shape: tuple[int, int] = (200, 300),
    n_regions: int = 4,
    *,
    mode: str = "NRS_IFU",
    rows_per_region: int = 36,
    oversample: tuple[float, ...] = (2.0, 3.0),
    n_sources: int | None = None,
    background: float = 2.0,
    nod: bool = False,
    seed: int = 1,
) -> SyntheticExposure:
    """Build a deterministic NIRSpec-IFU-like exposure (or a slit / MIRI variant).

    The working frame (dispersion along columns) holds ``n_regions``
    horizontal bands of ``rows_per_region`` rows whose centre line is tilted
    and slightly curved, so that a point source at fixed ``alpha`` samples
    different sub-pixel phases in neighbouring columns. Contents, per region
    index ``k`` (0-based): an undersampled Gaussian point-source trace with a
    slow drift and a wavelength-dependent brightness, plus faint diffuse
    emission; region 1 is faint (diffuse only, below threshold); region 2
    has a trace that runs parallel to the rows over part of the image
    (exercising gap-test failures, retries and fallbacks); the last region
    of an exposure with at least 5 regions is empty (all NaN). Scattered NaN
    pixels (DO_NOT_USE), one all-NaN column and a NaN block on a trace core
    are added, then Gaussian noise.

    For MIRI modes the working frame is rotated back to the detector frame
    (``np.rot90(..., -1)``); for slit modes only the first region is kept.

    Parameters
    ----------
    shape : tuple of int
        Working-frame shape ``(n_spatial, n_dispersion)``.
    n_regions : int
        Number of bands (IFU-like modes).
    mode : str
        Mode whose geometry to mimic.
    rows_per_region : int
        Rows per band.
    oversample : tuple of float
        Factors for which ``alpha_os`` is computed.
    n_sources : int, optional
        Number of regions holding a point source (spread evenly; default:
        every region except region 1). The others hold diffuse emission only.
    background : float
        Level of the diffuse emission (a negative value exercises the
        mean-restoring path of the reference).
    nod : bool
        Add a negative copy of the trace (a nodded background subtraction)
        offset along the slit.
    seed : int
        Random seed.

    Returns
    -------
    SyntheticExposure
    """
    mode_key = str(mode).strip().upper().replace("-", "_")
    rng = np.random.default_rng(seed)
    ny, nx = shape
    slit = mode_key not in ("NRS_IFU", "MIR_MRS")
    nreg = 1 if slit else int(n_regions)
    pitch = ny / nreg
    x = np.arange(nx, dtype=np.float64)
    dalpha = 0.1  # alpha units per row
    half = rows_per_region / 2.0

    def centre_line(k: int, xv: NDArray[np.float64]) -> NDArray[np.float64]:
        # tilt ~ 1/37 px per column with curvature; region 2 flattens out
        base = (k + 0.5) * pitch
        # LRS fits use a +-5 column window: give it enough sub-pixel phases
        tilt = (0.11 if mode_key.startswith("MIR_LRS") else 0.027) + 0.0031 * k
        xn = xv / max(nx - 1, 1)
        if k == 2 and not slit:
            # slope 0 around xn = 0.35 (parallel to the rows there)
            return base + 6.0 * (xn - 0.35) ** 2 * (nx / 300.0)
        return base + tilt * (xv - nx / 2) + 2.5 * (xn - 0.5) ** 2

    def alpha_at(yv: NDArray[np.float64], xv: NDArray[np.float64]):
        a = np.full(np.broadcast(yv, xv).shape, np.nan)
        reg = np.zeros(a.shape, dtype=np.int32)
        for k in range(nreg):
            c = centre_line(k, xv)
            off = yv - c
            inside = (off >= -half) & (off < half)
            a = np.where(inside, -off * dalpha, a)
            reg = np.where(inside, k + 1, reg)
        return a, reg

    yy, xx = np.meshgrid(np.arange(ny, dtype=np.float64), x, indexing="ij")
    alpha, regions = alpha_at(yy, xx)
    if mode_key == "MIR_MRS":
        regions = np.where(regions > 0, 100 + regions, 0).astype(np.int32)

    if n_sources is None:
        with_source = {k for k in range(nreg) if slit or k != 1}
    else:
        step = nreg / max(int(n_sources), 1)
        with_source = {int(j * step) for j in range(min(int(n_sources), nreg))}
    flux = np.zeros((ny, nx))
    for k in range(nreg):
        inreg = regions % 100 == k + 1
        diffuse = background + 0.25 * abs(background) * np.sin(xx / 37.0 + k)
        src = np.zeros_like(flux)
        if k in with_source:
            a0 = 0.25 * dalpha * np.sin(xx / 211.0 + k) + 0.03 * (k - 1.5)
            sig = dalpha * (0.75 + 0.2 * xx / max(nx, 1))
            amp = 400.0 * (1.0 + 0.5 * np.cos(xx / 97.0 + 0.7 * k)) / (1.0 + 0.3 * k)
            src = amp * np.exp(-0.5 * ((alpha - a0) / sig) ** 2)
            if nod:
                src -= amp * np.exp(-0.5 * ((alpha - a0 - 8 * dalpha) / sig) ** 2)
        flux = np.where(inreg, diffuse + src, flux)
    var_rnoise = rng.uniform(3.0, 5.0, (ny, nx))
    noise = rng.normal(0.0, 1.0, flux.shape) * np.sqrt(var_rnoise + np.clip(flux, 0, None) * 0.05)
    data = flux + noise
    var_poisson = np.clip(data, 0, None) * 0.05
    err = np.sqrt(var_rnoise + var_poisson)
    data[regions == 0] = np.nan
    dq = np.zeros((ny, nx), dtype=np.uint32)
    # scattered NaNs, an all-NaN column, a NaN block on a trace core
    bad = rng.random((ny, nx)) < 0.004
    bad[:, nx // 3] = True
    if not slit or nreg == 1:
        c0 = centre_line(0, np.array([2.0 * nx / 3.0]))[0]
        r = int(round(c0))
        bad[max(r - 1, 0) : r + 2, int(2 * nx / 3) : int(2 * nx / 3) + 4] = True
    if nreg >= 5:
        bad[regions % 100 == nreg] = True
    data[bad] = np.nan
    dq[bad] |= 1
    dq[np.isnan(data) & (regions > 0)] |= 1
    alpha_os = {}
    for n in oversample:
        yo = oversampled_rows(ny, n)
        ao, _ = alpha_at(yo[:, None], x[None, :])
        alpha_os[float(n)] = ao
    if mode_key in _ROTATED:

        def det(a: NDArray[Any]) -> NDArray[Any]:
            return np.ascontiguousarray(np.rot90(a, -1))

        data, err, alpha, regions, dq = map(det, (data, err, alpha, regions, dq))
        var_rnoise, var_poisson = det(var_rnoise), det(var_poisson)
        alpha_os = {n: det(a) for n, a in alpha_os.items()}
    return SyntheticExposure(
        mode=str(mode),
        data=np.ascontiguousarray(data, dtype=np.float32),
        err=np.ascontiguousarray(err, dtype=np.float32),
        var_rnoise=np.ascontiguousarray(var_rnoise, dtype=np.float32),
        var_poisson=np.ascontiguousarray(var_poisson, dtype=np.float32),
        dq=dq,
        alpha=np.ascontiguousarray(alpha, dtype=np.float64),
        regions=np.ascontiguousarray(regions, dtype=np.int32),
        alpha_os=alpha_os,
    )
