"""Outlier-detection primitives of the JWST pipeline, Rust-backed.

Drop-in replacements, with the same names, arguments and results, for

* ``stcal.outlier_detection.utils``: :func:`abs_deriv` (``_abs_deriv``),
  :func:`flag_crs`, :func:`flag_resampled_crs`,
  :func:`compute_weight_threshold`, :func:`medfilt`;
* ``jwst.outlier_detection.tso``: :func:`moving_median_over_zeroth_axis`
  and :func:`compute_rolling_median` (array version);
* the numerics of ``jwst.outlier_detection.ifu.flag_outliers``:
  :func:`min_neighbour_diff`, :func:`nanpercentile` and :func:`ifu_flag`.

The element type follows numpy: float32 inputs are computed in float32
(the Python scalars are cast to float32), float64 in float64. Other real
dtypes are converted first (float16 to float32, integers and booleans to
float64, non-native byte order to native). Inputs are never modified.

Pixel convention: arrays are ``(row, column) = (y, x)``; pixel ``(x, y)`` is
0-based with integer coordinates at pixel centres. Data, errors and blots
are in the same surface-brightness unit; weights are dimensionless.

Every call releases the GIL, runs on the threads set by
:func:`pyspec.set_num_threads` and gives bitwise identical results for any
number of threads.

Deliberate differences from the reference (spec ``outlier_detection.md``
§12):

* Q14: ``moving_median_over_zeroth_axis`` with ``w = 2`` does not overwrite
  the whole cube with the last window's median; only the first plane is an
  edge copy.
* Q5: a float32 median (in :func:`medfilt`) of an odd number of values
  ``|x| > 1.7e38`` is ``x``, not ``±inf``.
* ``moving_median_over_zeroth_axis`` raises ``ValueError`` when ``w``
  exceeds the number of planes (the reference returns NaN or raises
  ``IndexError``).
* :func:`ifu_flag` raises ``ValueError`` for even kernel sizes (the
  reference's arrays would not broadcast); the step makes them odd first.

Replicated on purpose (spec §12): Q11, a NaN error counts as 0 in
:func:`flag_crs`; Q3, the rolling median propagates NaN; Q6/Q7, the IFU
cut flags about ``100 - threshold_percent`` % of the pixels and its median
filter pads with zeros.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from . import _core

__all__ = [
    "DO_NOT_USE",
    "OUTLIER",
    "IFUFlags",
    "abs_deriv",
    "compute_rolling_median",
    "compute_weight_threshold",
    "flag_crs",
    "flag_resampled_crs",
    "ifu_flag",
    "medfilt",
    "min_neighbour_diff",
    "moving_median_over_zeroth_axis",
    "nanpercentile",
]

log = logging.getLogger(__name__)

#: DQ bit DO_NOT_USE.
DO_NOT_USE = 1
#: DQ bit OUTLIER.
OUTLIER = 16


def _as_float(a: object, name: str) -> np.ndarray:
    """``a`` as a native float32/float64 array, following numpy's promotion."""
    arr = np.asarray(a)
    kind = arr.dtype.kind
    if kind == "f":
        if arr.dtype.itemsize < 4:
            arr = arr.astype(np.float32)
        elif arr.dtype.itemsize > 8:
            raise TypeError(f"'{name}': {arr.dtype} is not supported (use float32 or float64)")
    elif kind in "iub":
        arr = arr.astype(np.float64)
    else:
        raise TypeError(f"'{name}' must hold real numbers, got dtype {arr.dtype}")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def abs_deriv(array: np.ndarray) -> np.ndarray:
    """Absolute derivative image (``stcal.outlier_detection.utils._abs_deriv``).

    Parameters
    ----------
    array : numpy.ndarray
        2-D image ``B``.

    Returns
    -------
    numpy.ndarray
        ``D`` of the same shape and dtype: NaN where ``B`` is NaN; otherwise
        the largest ``|B[p] - B[q]|`` over the 4-connected neighbours ``q``
        that exist (a NaN difference never counts, nor an infinite one with
        the row above, as in the reference); 0 when none counts.
    """
    b = _as_float(array, "array")
    if b.ndim != 2:
        raise ValueError(f"abs_deriv needs a 2-D array, got shape {b.shape}")
    return _core.abs_deriv(b)


_abs_deriv = abs_deriv


def flag_crs(
    sci_data: np.ndarray, sci_err: np.ndarray, blot_data: np.ndarray, snr: float
) -> np.ndarray:
    """Single-threshold outlier test (``stcal.outlier_detection.utils.flag_crs``).

    Parameters
    ----------
    sci_data, sci_err, blot_data : numpy.ndarray
        Data ``S``, its error ``E`` and the reference ``M`` (median or blot),
        broadcast together as numpy does (at most 3 dimensions; e.g. a 2-D
        median against a ``(nints, ny, nx)`` cube).
    snr : float
        Threshold in units of ``E``.

    Returns
    -------
    numpy.ndarray of bool
        ``|S - M| > snr * nan_to_num(E)``. The difference is float64 when
        ``S`` or ``M`` is float64 (the TSO rolling median), float32
        otherwise; the threshold is computed in ``E``'s dtype. NaN in ``S``
        or ``M`` never flags; a NaN error counts as 0, so any nonzero
        difference flags there (replicated, spec Q11).
    """
    s = _as_float(sci_data, "sci_data")
    e = _as_float(sci_err, "sci_err")
    m = _as_float(blot_data, "blot_data")
    return _core.flag_crs(s, e, m, float(snr))


def flag_resampled_crs(
    sci_data: np.ndarray,
    sci_err: np.ndarray,
    blot_data: np.ndarray,
    snr1: float,
    snr2: float,
    scale1: float,
    scale2: float,
    backg: float,
) -> np.ndarray:
    """Two-threshold outlier test (``stcal.outlier_detection.utils.flag_resampled_crs``).

    Parameters
    ----------
    sci_data, sci_err : numpy.ndarray
        Data ``S`` and error ``E`` (broadcastable to the blot's shape).
    blot_data : numpy.ndarray
        2-D blotted median ``B``.
    snr1, snr2 : float
        Primary and secondary thresholds in units of ``E``.
    scale1, scale2 : float
        Multipliers of the derivative image ``D = abs_deriv(B)``.
    backg : float
        Background level added to ``B`` before comparing.

    Returns
    -------
    numpy.ndarray of bool
        With ``diff = |S - B - backg|`` and ``e = nan_to_num(E)``:
        ``diff > scale2*D + snr2*e`` and, at the pixel or one of its 8
        neighbours, ``diff > scale1*D + snr1*e``. Computed in the common
        dtype of the inputs (float32 for float32 data).
    """
    b = _as_float(blot_data, "blot_data")
    if b.ndim != 2:
        raise ValueError(f"blot_data must be 2-D, got shape {b.shape}")
    s = _as_float(sci_data, "sci_data")
    e = _as_float(sci_err, "sci_err")
    dt = np.result_type(s, e, b)
    try:
        s = np.broadcast_to(s.astype(dt, copy=False), b.shape)
        e = np.broadcast_to(e.astype(dt, copy=False), b.shape)
    except ValueError as exc:
        raise ValueError(
            f"sci_data {np.shape(sci_data)} and sci_err {np.shape(sci_err)} do not broadcast "
            f"to the blot's shape {b.shape}"
        ) from exc
    b = b.astype(dt, copy=False)
    return _core.flag_resampled_crs(
        s, e, b, float(snr1), float(snr2), float(scale1), float(scale2), float(backg)
    )


def compute_weight_threshold(weight: np.ndarray, maskpt: float) -> float:
    """Weight threshold of the median mask (``stcal.outlier_detection.utils.compute_weight_threshold``).

    Parameters
    ----------
    weight : numpy.ndarray
        Weight image or cube (any shape).
    maskpt : float
        Fraction of the clipped mean weight.

    Returns
    -------
    float
        ``maskpt`` times the mean (float64) of the finite non-zero weights
        after astropy-style sigma clipping (3 sigma about the median,
        population std, at most 5 iterations, computed in the weight's
        dtype). NaN when no weight is usable, which masks nothing.
    """
    w = _as_float(weight, "weight")
    return float(_core.compute_weight_threshold(w, float(maskpt)))


def medfilt(arr: np.ndarray, kern_size: Sequence[int]) -> np.ndarray:
    """Zero-padded nan-median filter (``stcal.outlier_detection.utils.medfilt``).

    Parameters
    ----------
    arr : numpy.ndarray
        1-, 2- or 3-D array. Integer input is filtered in float64.
    kern_size : sequence of int
        Window size along each axis (``len(kern_size) == arr.ndim``);
        ``kern_size[0]`` sizes axis 0 (rows).

    Returns
    -------
    numpy.ndarray
        Nan-median of each window of the array padded with ``k // 2`` zeros
        on both sides (the zeros count as values; an all-NaN window gives
        NaN). Odd kernels keep the shape; an even one adds one element along
        its axis, as the reference.
    """
    a = _as_float(arr, "arr")
    k = [int(v) for v in kern_size]
    if len(k) != a.ndim:
        raise ValueError(f"kern_size {tuple(k)} does not match the array's {a.ndim} dimensions")
    return _core.medfilt(a, k)


def moving_median_over_zeroth_axis(x: np.ndarray, w: int) -> np.ndarray:
    """Rolling median along axis 0 (``jwst.outlier_detection.tso.moving_median_over_zeroth_axis``).

    Parameters
    ----------
    x : numpy.ndarray
        Array of at least one dimension; axis 0 is time (integrations).
    w : int
        Window width, ``2 <= w <= x.shape[0]``.

    Returns
    -------
    numpy.ndarray
        float64 array of ``x``'s shape. Plane ``s + w // 2`` is the median of
        planes ``s .. s + w - 1`` (NaN anywhere in the window gives NaN; an
        even window averages the two middle values in float64). The first
        ``w // 2`` planes copy the first computed one; the last ``w // 2``
        (odd ``w``) or ``w // 2 - 1`` (even ``w``) copy the last one.
    """
    a = _as_float(x, "x")
    w = int(w)
    if a.ndim == 0:
        raise ValueError("x must have at least one dimension")
    if w <= 1:
        raise ValueError("Rolling median window size must be greater than 1.")
    shape = a.shape
    cube = a.reshape(shape[0], 1, -1) if a.ndim != 3 else a
    return _core.rolling_median(cube, w).reshape(shape)


def compute_rolling_median(
    data: np.ndarray, weight: np.ndarray, weight_threshold: float, w: int = 25
) -> np.ndarray:
    """Rolling median of a TSO cube after masking low weights (``jwst.outlier_detection.tso.compute_rolling_median``).

    Parameters
    ----------
    data : numpy.ndarray
        ``(nints, ny, nx)`` science cube (not modified; the reference sets
        NaN in its copy).
    weight : numpy.ndarray
        Weights of the same shape.
    weight_threshold : float
        Voxels with ``weight < weight_threshold`` are set to NaN first.
    w : int, optional
        Window width (default 25).

    Returns
    -------
    numpy.ndarray
        float64 rolling median (see :func:`moving_median_over_zeroth_axis`).
    """
    d = _as_float(data, "data")
    wt = np.asarray(weight)
    if wt.shape != d.shape:
        raise ValueError(f"weight shape {wt.shape} does not match data shape {d.shape}")
    bad = np.less(wt, weight_threshold)
    if bad.any():
        d = d.copy()
        d[bad] = np.nan
    if w > d.shape[0]:
        raise ValueError("Window size must be less than the number of integrations.")
    return moving_median_over_zeroth_axis(d, w)


def min_neighbour_diff(
    frames: np.ndarray | Sequence[np.ndarray],
    diffaxis: int,
    dq: np.ndarray | Sequence[np.ndarray] | None = None,
) -> np.ndarray:
    """Minimum over exposures of the IFU neighbour differences (``minarr``).

    Parameters
    ----------
    frames : numpy.ndarray or sequence of numpy.ndarray
        One detector's science frames: a 2-D frame, an ``(n, ny, nx)``
        stack or a sequence of 2-D frames.
    diffaxis : int
        1 for neighbours left and right (MIRI, dispersion along y), 0 for
        neighbours above and below (NIRSpec).
    dq : numpy.ndarray or sequence of numpy.ndarray, optional
        DQ arrays matching ``frames``; pixels with DO_NOT_USE count as NaN
        (the inputs are not modified).

    Returns
    -------
    numpy.ndarray
        float64 ``(ny, nx)``: for each frame ``fmin(|s[k]-s[k-1]|,
        |s[k]-s[k+1]|)`` along ``diffaxis`` with zeros beyond the edges
        (so the edge value is compared with 0), then the ``fmin`` over
        frames; NaN only where every frame gives NaN.
    """
    if isinstance(frames, np.ndarray) and frames.ndim in (2, 3):
        fl = [frames] if frames.ndim == 2 else list(frames)
    else:
        fl = list(frames)
    fl = [_as_float(f, "frames") for f in fl]
    if not fl:
        raise ValueError("at least one frame is required")
    if any(f.ndim != 2 for f in fl):
        raise ValueError("frames must be 2-D")
    common = np.result_type(*fl)
    fl = [f.astype(common, copy=False) for f in fl]
    dql = None
    if dq is not None:
        if isinstance(dq, np.ndarray) and dq.ndim in (2, 3):
            dql = [dq] if dq.ndim == 2 else list(dq)
        else:
            dql = list(dq)
        dql = [np.asarray(q) for q in dql]
        for q in dql:
            if q.dtype.kind not in "iub":
                raise TypeError(f"dq must be an integer array, got {q.dtype}")
        dql = [np.asarray(q, dtype=np.uint32) for q in dql]
    return _core.min_neighbour_diff(fl, int(diffaxis), dql)


def nanpercentile(a: np.ndarray, q: float) -> float:
    """``numpy.nanpercentile(a, q)`` over all elements (linear interpolation).

    Parameters
    ----------
    a : numpy.ndarray
        Values (NaN ignored).
    q : float
        Percentile in ``[0, 100]``.

    Returns
    -------
    float
        The percentile, computed in ``a``'s dtype with numpy's formulas; NaN
        when every value is NaN.
    """
    return float(_core.nanpercentile(_as_float(a, "a"), float(q)))


class IFUFlags(NamedTuple):
    """Result of :func:`ifu_flag`."""

    #: Pixels flagged as outliers (``minnorm > pct``), bool ``(ny, nx)``.
    mask: np.ndarray
    #: Local median of ``minarr`` raised to ``nfloor``.
    normarr: np.ndarray
    #: ``minarr / normarr``.
    minnorm: np.ndarray
    #: The ``threshold_percent`` percentile of ``minnorm[4:ny-4, 4:nx-4]``.
    pct: float
    #: ``nanmedian(minarr) / 3``.
    nfloor: float


def ifu_flag(
    minarr: np.ndarray, kern_size: Sequence[int] = (7, 7), threshold_percent: float = 99.8
) -> IFUFlags:
    """Normalisation and percentile cut of the IFU mode (``flag_outliers``).

    Parameters
    ----------
    minarr : numpy.ndarray
        Minimum neighbour differences from :func:`min_neighbour_diff`.
    kern_size : sequence of two int, optional
        Odd median-filter size; the first number sizes axis 0 (rows).
    threshold_percent : float, optional
        Percentile of the cut (default 99.8).

    Returns
    -------
    IFUFlags
        ``normarr = max(medfilt(minarr, kern_size), nfloor)`` (NaN stays NaN)
        with ``nfloor = nanmedian(minarr) / 3``; ``minnorm = minarr /
        normarr``; ``pct`` the linear percentile of the central
        ``minnorm[4:ny-4, 4:nx-4]``; ``mask = minnorm > pct``. About
        ``100 - threshold_percent`` % of the pixels are flagged even in
        clean data (replicated, spec Q6).
    """
    m = np.asarray(_as_float(minarr, "minarr"), dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"minarr must be 2-D, got shape {m.shape}")
    k = [int(v) for v in kern_size]
    if len(k) != 2:
        raise ValueError(f"kern_size must have two values, got {tuple(k)}")
    mask, normarr, minnorm, pct, nfloor = _core.ifu_flag(m, k[0], k[1], float(threshold_percent))
    return IFUFlags(mask, normarr, minnorm, float(pct), float(nfloor))
