"""Pixel maps between two WCS, pixel-scale ratios and footprints.

Works with any APE-14 WCS (``gwcs.WCS``, ``astropy.wcs.WCS`` or any object
with ``pixel_to_world_values`` / ``world_to_pixel_values``), through the
0-based ``*_values`` methods, so no +-1 offsets appear anywhere. (A unitless
gwcs is evaluated through its forward transform without the bounding-box
test for points already known to be inside its bounding box: same values,
faster.)

Pixel convention: arrays are ``(row, column) = (y, x)``; pixel ``(x, y)`` is
0-based with integer coordinates at pixel centres; pixel ``(x, y)`` covers
``[x-0.5, x+0.5] x [y-0.5, y+0.5]``. A pixel map ``pixmap`` of shape
``(ny, nx, 2)`` gives, for pixel ``(x, y)`` of the "from" image, its position
``pixmap[y, x] = (X, Y)`` in "to" pixel coordinates (spec ``drizzle.md`` 2).

:func:`calc_pixmap` follows ``stcal.resample.utils.calc_pixmap`` (and
``drizzle.utils.calc_pixmap`` for ``stepsize=1``). Deliberate differences:

* The bounding box of ``wcs_from`` (unless disabled) is always honoured:
  pixels outside it are NaN, pixels inside are never NaN merely because a
  sparse-grid node could not be evaluated. With ``stepsize > 1`` the
  reference falls back to a full evaluation as soon as one node is
  non-finite; here only the pixels whose interpolation stencil touches a
  non-finite node are evaluated exactly, the rest is interpolated.
* With ``disable_bbox`` in ``("from", "both")`` and ``stepsize > 1`` the
  whole array is interpolated; the reference still restricts itself to the
  (disabled) bounding box and leaves NaN outside it.
* The interpolation runs in Rust (bilinear, or the tensor-product
  not-a-knot cubic spline that ``RectBivariateSpline(kx=3, ky=3)`` builds),
  in parallel, and the exact evaluation is done in chunks of rows to bound
  memory. Unknown ``disable_bbox`` values and ``order`` not in ``{1, 3}``
  raise :class:`ValueError` whatever the step size.
"""

from __future__ import annotations

import contextlib
import logging
import math
import numbers
import operator
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from astropy import units as u

from . import _core

__all__ = ["calc_pixmap", "footprint", "pixel_scale_ratio"]

log = logging.getLogger(__name__)

#: ``disable_bbox`` value -> (disable the "from" box, disable the "to" box).
_DISABLE_BBOX = {
    "to": (False, True),
    "from": (True, False),
    "both": (True, True),
    "none": (False, False),
}

#: Pixels per WCS call when evaluating exactly (bounds the temporaries a
#: gwcs pipeline allocates; results do not depend on it).
_CHUNK_PIXELS = 1 << 18

#: Windows whose larger side is at most this many pixels are evaluated
#: exactly even when ``stepsize > 1`` (as in stcal).
_MIN_INTERP_SIZE = 10

_DEG2RAD = math.pi / 180.0

Interval = tuple[float, float]


def _bounding_box(wcs: Any) -> tuple[Interval, ...] | None:
    """Bounding box of a WCS as ``((x_lo, x_hi), (y_lo, y_hi), ...)`` (``F``
    order, pixel units), or ``None``."""
    bbox = getattr(wcs, "bounding_box", None)
    if bbox is None:
        return None
    try:
        bbox = bbox.bounding_box(order="F")
    except AttributeError:
        bbox = tuple(bbox)
    arr = np.asarray(bbox, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"cannot interpret the bounding box {bbox!r}")
    if np.isnan(arr).any():
        raise ValueError(f"the bounding box {bbox!r} contains NaN")
    return tuple((float(lo), float(hi)) for lo, hi in arr)


@contextlib.contextmanager
def _bounding_boxes_removed(*wcs_list: Any) -> Iterator[None]:
    """Remove the bounding boxes of the given WCS objects for the duration of
    the block and restore the original objects afterwards (also on error)."""
    saved: list[tuple[Any, Any]] = []
    try:
        for wcs in wcs_list:
            bbox = getattr(wcs, "bounding_box", None)
            if bbox is not None:
                saved.append((wcs, bbox))
                wcs.bounding_box = None
        yield
    finally:
        for wcs, bbox in reversed(saved):
            wcs.bounding_box = bbox


def _resolve_shape(
    wcs_from: Any, shape: Sequence[int] | None, bbox_from: tuple[Interval, ...] | None
) -> tuple[int, int]:
    """Pixel-map shape ``(ny, nx)``: ``shape``, else ``wcs_from.array_shape``,
    else ``ceil(upper + 0.5)`` of the bounding box (reversed to numpy order)."""
    if shape is None:
        shape = getattr(wcs_from, "array_shape", None)
        if shape is None and bbox_from is not None and len(bbox_from) > 1:
            shape = tuple(math.ceil(hi + 0.5) for _, hi in bbox_from[::-1])
    if shape is None:
        raise ValueError('The "from" WCS must have pixel_shape property set.')
    try:
        dims = tuple(operator.index(n) for n in shape)
    except TypeError as err:
        raise TypeError(f"shape must be a sequence of integers, got {shape!r}") from err
    if len(dims) != 2 or min(dims) < 0:
        raise ValueError(f"shape must be two non-negative integers (ny, nx), got {shape!r}")
    return dims[0], dims[1]


def _pixel_window(
    shape: tuple[int, int], bbox: tuple[Interval, ...] | None
) -> tuple[int, int, int, int]:
    """Inclusive integer pixel range ``(xmin, xmax, ymin, ymax)`` inside both
    the array and the bounding box (empty when ``xmax < xmin`` or
    ``ymax < ymin``)."""
    ny, nx = shape
    if bbox is None:
        return 0, nx - 1, 0, ny - 1
    if len(bbox) != 2:
        raise ValueError(f"a pixel map needs a 2-D bounding box, got {bbox!r}")
    (bx0, bx1), (by0, by1) = bbox
    # Clamp before ceil/floor so that infinite limits are harmless.
    xmin = max(0, math.ceil(min(max(bx0, -1.0), nx)))
    xmax = min(nx - 1, math.floor(max(min(bx1, float(nx)), -1.0)))
    ymin = max(0, math.ceil(min(max(by0, -1.0), ny)))
    ymax = min(ny - 1, math.floor(max(min(by1, float(ny)), -1.0)))
    return xmin, xmax, ymin, ymax


def _is_gwcs(wcs: Any) -> bool:
    gwcs = sys.modules.get("gwcs")
    return gwcs is not None and isinstance(wcs, getattr(gwcs, "WCS", ()))


class _Mapper:
    """``wcs_to.world_to_pixel_values(*wcs_from.pixel_to_world_values(x, y))``
    for points known to lie inside the ``wcs_from`` bounding box, passing
    every world output of ``wcs_from`` (e.g. spectral WCS), a bounded number
    of points per WCS call.

    Build it inside the block where bounding boxes are disabled. A unitless
    gwcs ``wcs_from`` is evaluated through its forward transform, assembled
    once, without the bounding-box test: for points inside the box this is
    exactly what ``pixel_to_world_values`` computes, minus the NaN-masking of
    outside points and the per-call assembly of the transform (together ~30%
    of the evaluation time of a NIRCam gwcs at the sparse-grid sizes).
    """

    def __init__(self, wcs_from: Any, wcs_to: Any) -> None:
        self.wcs_from = wcs_from
        self.wcs_to = wcs_to
        self.transform = None
        if _is_gwcs(wcs_from) and getattr(wcs_from.output_frame, "naxes", 2) > 1:
            transform = wcs_from.forward_transform
            if transform is not None and not getattr(transform, "uses_quantity", True):
                self.transform = transform

    def _world(self, x: np.ndarray, y: np.ndarray) -> Sequence[np.ndarray]:
        if self.transform is not None:
            world = self.transform(x, y, with_bounding_box=False)
            if isinstance(world, (tuple, list)) and not any(
                isinstance(w, u.Quantity) for w in world
            ):
                return world
        world = self.wcs_from.pixel_to_world_values(x, y)
        return world if isinstance(world, (tuple, list)) else (world,)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pix = self.wcs_to.world_to_pixel_values(*self._world(x, y))
        if not isinstance(pix, (tuple, list)) or len(pix) < 2:
            raise ValueError("wcs_to.world_to_pixel_values must return two pixel coordinates")
        return np.asarray(pix[0], dtype=np.float64), np.asarray(pix[1], dtype=np.float64)

    def grid(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map the rectilinear grid ``xs`` x ``ys`` (result shape
        ``(len(ys), len(xs))``), in chunks of rows."""
        out_x = np.empty((ys.size, xs.size))
        out_y = np.empty((ys.size, xs.size))
        rows = max(1, _CHUNK_PIXELS // max(1, xs.size))
        for r0 in range(0, ys.size, rows):
            gx, gy = np.meshgrid(xs, ys[r0 : r0 + rows])
            out_x[r0 : r0 + rows], out_y[r0 : r0 + rows] = self(gx, gy)
        return out_x, out_y

    def points(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map scattered points (1-D arrays), in chunks."""
        out_x = np.empty(x.size)
        out_y = np.empty(x.size)
        for p0 in range(0, x.size, _CHUNK_PIXELS):
            sl = slice(p0, p0 + _CHUNK_PIXELS)
            out_x[sl], out_y[sl] = self(x[sl], y[sl])
        return out_x, out_y


def _check_args(stepsize: Any, order: Any, disable_bbox: Any) -> tuple[float, int, bool, bool]:
    if isinstance(stepsize, bool) or not isinstance(stepsize, numbers.Real):
        raise TypeError(f"stepsize must be a number >= 1, got {stepsize!r}")
    if not stepsize >= 1:
        raise ValueError(f"stepsize must be >= 1, got {stepsize!r}")
    if isinstance(order, bool) or not isinstance(order, numbers.Real) or order not in (1, 3):
        raise ValueError(f"Interpolation order should be either 1 or 3, got {order!r}.")
    if not isinstance(disable_bbox, str) or disable_bbox not in _DISABLE_BBOX:
        raise ValueError(
            f"disable_bbox must be one of {sorted(_DISABLE_BBOX)}, got {disable_bbox!r}"
        )
    dis_from, dis_to = _DISABLE_BBOX[disable_bbox]
    return float(stepsize), int(order), dis_from, dis_to


def calc_pixmap(
    wcs_from: Any,
    wcs_to: Any,
    shape: Sequence[int] | None = None,
    stepsize: float = 1,
    order: int = 1,
    disable_bbox: str = "to",
) -> np.ndarray:
    """Position of every ``wcs_from`` pixel centre in ``wcs_to`` pixel coordinates.

    Parameters
    ----------
    wcs_from : APE-14 WCS
        WCS of the image whose pixel grid is mapped ("input" of a drizzle,
        "output" of a blot). Its ``array_shape`` gives the map's shape unless
        ``shape`` is given; without either, the shape is ``ceil(upper + 0.5)``
        of its bounding box. All its world outputs are passed to ``wcs_to``
        (spectral WCS with three world outputs work).
    wcs_to : APE-14 WCS
        WCS of the destination pixel grid; same world units as ``wcs_from``.
    shape : tuple of int, optional
        ``(ny, nx)`` of the map (numpy order); overrides
        ``wcs_from.array_shape``.
    stepsize : float, optional
        Node spacing, in ``wcs_from`` pixels, of the sparse grid on which the
        WCS is evaluated when ``stepsize > 1``; the rest is interpolated. The
        grid has ``max(ceil(n / stepsize), min(10, n))`` equally spaced nodes
        on each axis of the ``n``-pixel bounding-box range, inclusive of both
        ends (as in stcal). ``1`` (default) evaluates every pixel exactly, as
        does any bounding-box range of at most 10 x 10 pixels.
    order : {1, 3}, optional
        Interpolation for ``stepsize > 1``: ``1`` bilinear, ``3`` the
        tensor-product not-a-knot interpolating cubic spline. On a real
        NIRCam gwcs with ``stepsize=10`` the error is ~3e-4 pixel for order 1
        and ~4e-9 pixel for order 3.
    disable_bbox : {"to", "from", "both", "none"}, optional
        Which bounding boxes to ignore during the computation (they are
        restored afterwards). Default ``"to"``: positions outside the
        destination frame stay finite; the ``wcs_from`` box is honoured.

    Returns
    -------
    pixmap : numpy.ndarray
        ``float64`` array of shape ``(ny, nx, 2)``: ``pixmap[y, x] = (X, Y)``,
        0-based "to" pixel coordinates of "from" pixel ``(x, y)`` (pixel
        centres at integer coordinates). NaN outside the active ``wcs_from``
        bounding box and wherever the WCS itself gives no value.

    Raises
    ------
    ValueError
        Shape cannot be determined or is invalid, ``stepsize < 1``, ``order``
        not 1 or 3, unknown ``disable_bbox``.
    TypeError
        ``shape`` or ``stepsize`` of the wrong type.

    Notes
    -----
    With ``stepsize > 1`` a pixel inside the bounding box is interpolated
    only from finite nodes. Pixels whose interpolation stencil touches a
    node where the WCS is NaN (or that a cubic cannot reach with at least 4
    consecutive finite nodes) are evaluated exactly instead, so the result
    is NaN only where the full evaluation is NaN, up to features smaller
    than the node spacing.

    As in the reference, a disabled bounding box is removed from the WCS
    object for the duration of the call (and restored, also on error): a WCS
    object shared between threads must not be used concurrently by calls
    that disable its box. ``wcs_from`` is not modified by the default
    ``disable_bbox="to"``.
    """
    stepsize, order, dis_from, dis_to = _check_args(stepsize, order, disable_bbox)
    bbox_from = _bounding_box(wcs_from)
    ny, nx = _resolve_shape(wcs_from, shape, bbox_from)
    xmin, xmax, ymin, ymax = _pixel_window((ny, nx), None if dis_from else bbox_from)
    width, height = xmax - xmin + 1, ymax - ymin + 1
    if width <= 0 or height <= 0:
        log.debug("calc_pixmap: no pixel of the (%d, %d) array is in the bounding box", ny, nx)
        return np.full((ny, nx, 2), np.nan)

    disabled = [w for w, off in ((wcs_from, dis_from), (wcs_to, dis_to)) if off]
    t0 = time.perf_counter()
    with _bounding_boxes_removed(*disabled):
        mapper = _Mapper(wcs_from, wcs_to)
        if stepsize == 1 or max(width, height) <= _MIN_INTERP_SIZE:
            full = (width, height) == (nx, ny)
            pixmap = np.empty((ny, nx, 2)) if full else np.full((ny, nx, 2), np.nan)
            xs = np.arange(xmin, xmax + 1, dtype=np.float64)
            ys = np.arange(ymin, ymax + 1, dtype=np.float64)
            window = pixmap[ymin : ymax + 1, xmin : xmax + 1]
            window[..., 0], window[..., 1] = mapper.grid(xs, ys)
            log.debug(
                "calc_pixmap: %d x %d pixels evaluated exactly in %.3f s",
                width,
                height,
                time.perf_counter() - t0,
            )
            return pixmap

        npts_x = max(math.ceil(width / stepsize), min(_MIN_INTERP_SIZE, width))
        npts_y = max(math.ceil(height / stepsize), min(_MIN_INTERP_SIZE, height))
        x_nodes = np.linspace(xmin, xmax, npts_x)
        y_nodes = np.linspace(ymin, ymax, npts_y)
        node_x, node_y = mapper.grid(x_nodes, y_nodes)
        t1 = time.perf_counter()
        # np.empty: numpy's allocator asks for huge pages; every value is
        # written (in parallel) by the Rust kernel.
        pixmap = np.empty((ny, nx, 2))
        miss_y, miss_x = _core.interp_grid(
            x_nodes,
            y_nodes,
            np.stack([node_x, node_y], axis=-1),
            order,
            (xmin, xmax + 1),
            (ymin, ymax + 1),
            pixmap,
        )
        t2 = time.perf_counter()
        if miss_x.size:
            ex, ey = mapper.points(miss_x.astype(np.float64), miss_y.astype(np.float64))
            pixmap[miss_y, miss_x, 0] = ex
            pixmap[miss_y, miss_x, 1] = ey
    log.debug(
        "calc_pixmap: %d x %d nodes (%.3f s), order-%d interpolation (%.3f s), "
        "%d of %d pixels evaluated exactly (%.3f s)",
        npts_x,
        npts_y,
        t1 - t0,
        order,
        t2 - t1,
        miss_x.size,
        width * height,
        time.perf_counter() - t2,
    )
    return pixmap


def _pixel_scale(wcs: Any, refpix: Sequence[float] | np.ndarray | None) -> float:
    """Square root of the sky area (steradians) of the unit pixel centred at
    ``refpix`` (spec 2.3), in radians."""
    if refpix is None:
        bbox = _bounding_box(wcs)
        if bbox is not None:
            ref = np.array([0.5 * (lo + hi) for lo, hi in bbox])
        elif getattr(wcs, "pixel_shape", None):
            ref = np.array([(n - 1) // 2 for n in wcs.pixel_shape], dtype=np.float64)
        else:
            ref = np.zeros(wcs.pixel_n_dim)
    else:
        ref = np.asarray(refpix, dtype=np.float64)
    if ref.shape != (2,):
        raise ValueError(f"reference pixel must be (x, y), got {refpix!r}")
    # Corners 1..4: (-,-), (-,+), (+,+), (+,-) around refpix, one WCS call
    # each with scalar arguments as in the reference (a vectorised call may
    # differ in the last bit, which the area's cancellation amplifies ~1e5x).
    lon: list[float] = []
    lat: list[float] = []
    for offset in ([-0.5, -0.5], [-0.5, 0.5], [0.5, 0.5], [0.5, -0.5]):
        world = wcs.pixel_to_world_values(*(ref + offset))
        lon.append(float(world[0]))
        lat.append(float(world[1]))

    def dlon(a: float, b: float) -> float:
        # Longitude difference; unwrapped only across the 0/360 cut, so that
        # the usual case is bitwise the reference's plain difference.
        d = a - b
        if d > 180.0:
            d -= 360.0
        elif d < -180.0:
            d += 360.0
        return d

    s = [math.sin(_DEG2RAD * p) for p in lat]
    area = _DEG2RAD * abs(
        0.5 * (dlon(lon[3], lon[1]) * (s[0] - s[2]) + dlon(lon[0], lon[2]) * (s[1] - s[3]))
    )
    return math.sqrt(area)


def pixel_scale_ratio(
    wcs_from: Any,
    wcs_to: Any,
    refpix_from: Sequence[float] | np.ndarray | None = None,
    refpix_to: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Estimated ratio of the ``wcs_to`` pixel size to the ``wcs_from`` pixel size.

    Same estimate as ``drizzle.utils.estimate_pixel_scale_ratio`` (spec
    ``drizzle.md`` 2.3): each pixel scale is the square root of the sky area
    of a unit pixel centred at its reference pixel, from its four corners.

    Parameters
    ----------
    wcs_from, wcs_to : APE-14 WCS
        Celestial WCS (the first two world outputs are longitude and latitude
        in degrees).
    refpix_from, refpix_to : sequence of float, optional
        ``(x, y)`` reference pixel (0-based, centre at integer) of each WCS.
        Default: centre of the bounding box, else ``(n - 1) // 2`` of
        ``pixel_shape``, else ``(0, 0)``.

    Returns
    -------
    float
        ``scale(wcs_to) / scale(wcs_from)`` (linear, dimensionless): > 1 when
        the destination pixels are larger. NaN if a WCS gives no world
        coordinates at its reference pixel.

    Notes
    -----
    Longitude differences crossing the 0/360 degree cut are unwrapped (the
    reference gives a meaningless value there); otherwise the result is the
    reference's.
    """
    ratio = _pixel_scale(wcs_to, refpix_to) / _pixel_scale(wcs_from, refpix_from)
    if not math.isfinite(ratio):
        log.warning("pixel_scale_ratio: non-finite estimate %r", ratio)
    return ratio


def footprint(wcs: Any, shape: Sequence[int] | None = None, center: bool = False) -> np.ndarray:
    """World coordinates of the four corners of an image.

    Parameters
    ----------
    wcs : APE-14 WCS
        The image's WCS.
    shape : tuple of int, optional
        ``(ny, nx)``; default: the bounding box of ``wcs`` if it has one,
        else ``wcs.array_shape``.
    center : bool, optional
        ``False`` (default): the outer pixel corners, e.g. ``(-0.5, -0.5)``
        and ``(nx - 0.5, ny - 0.5)`` (the convention of jwst ``S_REGION``,
        spec 11.1). ``True``: the centres of the corner pixels, ``(0, 0)``
        ... ``(nx - 1, ny - 1)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(4, n_world)``, clockwise from the bottom-left corner as in
        ``gwcs.WCS.footprint``: ``(x0, y0), (x0, y1), (x1, y1), (x1, y0)``;
        for a celestial WCS the columns are RA, Dec in degrees. Evaluated
        with the bounding box disabled.
    """
    if shape is None and (bbox := _bounding_box(wcs)) is not None:
        if len(bbox) != 2:
            raise ValueError(f"a footprint needs a 2-D bounding box, got {bbox!r}")
        (x0, x1), (y0, y1) = bbox
    else:
        ny, nx = _resolve_shape(wcs, shape, None)
        x0, x1, y0, y1 = -0.5, nx - 0.5, -0.5, ny - 0.5
    if center:
        x0, x1, y0, y1 = math.ceil(x0), math.floor(x1), math.ceil(y0), math.floor(y1)
    x = np.array([x0, x0, x1, x1], dtype=np.float64)
    y = np.array([y0, y1, y1, y0], dtype=np.float64)
    with _bounding_boxes_removed(wcs):
        world = wcs.pixel_to_world_values(x, y)
    if not isinstance(world, (tuple, list)):
        world = (world,)
    return np.column_stack([np.asarray(w, dtype=np.float64) for w in world])
