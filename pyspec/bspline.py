"""Least-squares cubic B-spline fits with iterative rejection.

A drop-in replacement for :func:`jwst.adaptive_trace_model.bspline.bspline_fit`
(jwst 3.0.0): same arguments, same knots (numpy ``arange`` semantics in the
precision of ``xvec``), same orthogonal (Givens QR) least-squares solution,
same rejection loop. The returned :class:`BSpline` evaluates like
:class:`scipy.interpolate.BSpline` without requiring scipy.

``exact=False`` selects a faster blocked-Householder least-squares solver
(equally orthogonal; coefficients equal to rounding).

Differences from the reference (documented deliberately):

* A fit whose coefficients are non-finite, or that has fewer data points than
  coefficients (the reference reads outside its arrays there), counts as a
  failed fit (``None`` on the first iteration, else the previous iteration's
  fit).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core

__all__ = ["BSpline", "bspline_fit"]

log = logging.getLogger(__name__)


class BSpline:
    """A cubic B-spline ``s(x) = sum_i c[i] B_i(x)`` on knots ``t``.

    Evaluates like ``scipy.interpolate.BSpline(t, c, 3)`` with
    ``extrapolate=True``: outside ``[t[3], t[-4]]`` the end polynomial pieces
    are extended; NaN input gives NaN.

    Parameters
    ----------
    t : array_like
        Knot vector (float64, non-decreasing, at least 8 values).
    c : array_like
        Coefficients (at least ``len(t) - 4`` values; extra ones are ignored).
    k : int, optional
        Degree; only 3 is supported.
    """

    def __init__(self, t: ArrayLike, c: ArrayLike, k: int = 3) -> None:
        if int(k) != 3:
            raise ValueError(f"only cubic splines (k=3) are supported, got k={k}")
        t = np.ascontiguousarray(t, dtype=np.float64)
        c = np.ascontiguousarray(c, dtype=np.float64)
        if t.ndim != 1 or c.ndim != 1:
            raise ValueError("t and c must be one-dimensional")
        if t.size < 8 or c.size < t.size - 4:
            raise ValueError(
                f"need at least 8 knots and len(t) - 4 coefficients (got {t.size}, {c.size})"
            )
        if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
            raise ValueError("knots must be finite and non-decreasing")
        self._t = t
        self._c = c
        self.t.flags.writeable = False
        self.c.flags.writeable = False

    @property
    def t(self) -> NDArray[np.float64]:
        """Knot vector (float64)."""
        return self._t

    @property
    def c(self) -> NDArray[np.float64]:
        """Spline coefficients (float64)."""
        return self._c

    @property
    def k(self) -> int:
        """Degree (always 3)."""
        return 3

    @property
    def extrapolate(self) -> bool:
        """Always ``True``: the end pieces are extended beyond the base interval."""
        return True

    def __call__(self, x: ArrayLike) -> NDArray[np.float64]:
        """Evaluate the spline at ``x``.

        Parameters
        ----------
        x : array_like
            Points (converted to float64), any shape.

        Returns
        -------
        ndarray
            float64 values of the same shape as ``x`` (0-d for a scalar).
        """
        xa = np.asarray(x, dtype=np.float64)
        flat = np.ascontiguousarray(xa.ravel())
        out = _core.bspline_eval(self._t, self._c, flat)
        return out.reshape(xa.shape)

    def __repr__(self) -> str:
        return f"BSpline(n_knots={self._t.size}, n_coef={self._c.size}, k=3)"

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, BSpline):
            return NotImplemented
        return np.array_equal(self._t, other._t) and np.array_equal(self._c, other._c)

    __hash__ = None  # type: ignore[assignment]


def bspline_fit(
    xvec: ArrayLike,
    yvec: ArrayLike,
    nbkpts: int = 50,
    wrapsig_low: float = 3.0,
    wrapsig_high: float = 3.0,
    wrapiter: int = 3,
    space_ratio: float = 1.2,
    verbose: bool = False,
    exact: bool = True,
) -> BSpline | None:
    """Fit a cubic B-spline to ``(xvec, yvec)`` with iterative rejection.

    Steps (spec ``adaptive_trace_model.md`` 6.3): drop non-finite pairs; drop
    points that follow a spacing larger than ``mean + 5 sigma`` of the
    sigma-clipped spacings (the first spacing is measured from zero); give up
    if the 10th largest spacing exceeds ``space_ratio`` times the knot
    spacing ``(max - min) / nbkpts``; then up to ``wrapiter`` times: place
    uniformly spaced interior knots, solve the least-squares problem by
    Givens QR, and reject points beyond ``-wrapsig_low`` / ``+wrapsig_high``
    standard deviations of the residuals (stopping when nothing is rejected,
    or keeping the current fit when fewer than 80 % of the points remain).

    Parameters
    ----------
    xvec : array_like
        Abscissae, sorted ascending. float32 input keeps the knot arithmetic
        in single precision, as the reference does; any other dtype is
        converted to float64.
    yvec : array_like
        Ordinates, same length (float32 or float64).
    nbkpts : int, optional
        Number of knot intervals.
    wrapsig_low, wrapsig_high : float, optional
        Rejection thresholds in standard deviations of the residuals.
    wrapiter : int, optional
        Maximum number of fit iterations.
    space_ratio : float, optional
        Largest allowed ratio of the 10th largest spacing to the knot spacing.
    verbose : bool, optional
        Log each rejection step at INFO level (``"Iter i Rejected r Kept k"``).
    exact : bool, optional
        ``True`` (default): FITPACK's row-sequential Givens rotations in the
        reference's order, so knots and coefficients are bitwise equal to
        jwst's. ``False``: blocked Householder reflections (faster, equal to
        rounding).

    Returns
    -------
    BSpline or None
        The fit of the last successful iteration, or ``None`` when the gap
        test or the first least-squares fit fails.

    Raises
    ------
    ValueError
        Where the reference raises: fewer than 10 finite pairs, no finite
        pair, or a zero/NaN knot spacing.
    """
    x = np.asarray(xvec)
    y = np.asarray(yvec)
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError("xvec and yvec must be one-dimensional")
    if x.shape != y.shape:
        raise ValueError(f"xvec and yvec differ in length ({x.size} vs {y.size})")
    if x.dtype != np.float32:
        x = x.astype(np.float64)
    if y.dtype != np.float32:
        y = y.astype(np.float64)
    res = _core.bspline_fit(
        np.ascontiguousarray(x),
        np.ascontiguousarray(y),
        int(nbkpts),
        float(wrapsig_low),
        float(wrapsig_high),
        int(wrapiter),
        float(space_ratio),
        exact=bool(exact),
    )
    if res is None:
        return None
    t, c, history, stop = res
    if verbose:
        for i, (nrej, nkeep) in enumerate(history):
            log.info("Iter %d Rejected %d Kept %d", i, nrej, nkeep)
        if stop == "too_many_rejected":
            log.info("Stopping iteration: too many points rejected")
    return BSpline(t, c)
