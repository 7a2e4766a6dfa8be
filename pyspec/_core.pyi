"""Type stubs of ``pyspec._core``: the PyO3 bindings of the Rust crate ``pyspec-core``.

Every function releases the GIL while the Rust code runs, converts numpy
arrays without copying where they are contiguous, and raises ``ValueError``
(bad values, shapes, aliased or read-only outputs), ``TypeError`` (wrong
dtypes), ``MemoryError`` or ``OSError`` instead of crashing. Dtypes are
exact: the Python layer (``pyspec.drizzle`` etc.) converts user input first.
Pixel convention: arrays are ``(y, x)``; pixel centres at integers, 0-based.
"""

import os
from collections.abc import Sequence
from typing import Any, Literal, TypeAlias, TypeVar, final

import numpy as np
from numpy.typing import NDArray

# float32 or float64, the same for every argument (and the result) it annotates.
_Float = TypeVar("_Float", np.float32, np.float64)
# A float32 or float64 array (the dtype may differ from argument to argument).
_FloatArray: TypeAlias = NDArray[np.float32] | NDArray[np.float64]
# ``(rows, nsections, buffer_bytes, raised)`` of a median section layout.
_Layout: TypeAlias = tuple[int, int, int, bool]

def set_num_threads(n: int) -> None:
    """Use ``n`` threads in subsequent calls (0: rayon's default / RAYON_NUM_THREADS)."""

def get_num_threads() -> int:
    """Number of threads pyspec calls use."""

def add_image(
    data: NDArray[np.float32],
    weight: NDArray[np.float32],
    pixmap: NDArray[np.float64],
    out_img: NDArray[np.float32],
    out_wht: NDArray[np.float32],
    *,
    out_ctx: NDArray[np.int32] | None = None,
    ctx_plane: int = 0,
    ctx_bit: int = 0,
    data2: list[NDArray[np.float32] | None] | None = None,
    out_img2: list[NDArray[np.float32]] | None = None,
    dq: NDArray[np.uint32] | None = None,
    out_dq: NDArray[np.uint32] | None = None,
    kernel: str = "square",
    pixfrac: float = 1.0,
    iscale: float = 1.0,
    wtscale: float = 1.0,
    pscale_ratio: float | None = None,
    xmin: int = 0,
    xmax: int | None = None,
    ymin: int = 0,
    ymax: int | None = None,
    fill: float | None = None,
    fill2: float | None = None,
) -> tuple[int, int, str, float]:
    """Drizzle one image onto the outputs in place (spec drizzle.md 3-7).

    ``pixmap`` is ``(ny, nx, 2)``; ``out_ctx`` is ``(planes, ny_o, nx_o)`` and
    bit ``ctx_bit`` of plane ``ctx_plane`` is set where this input contributes
    positive weight. ``iscale`` is the effective data scale (already divided
    by the exposure time for count inputs). ``pscale_ratio=None`` reproduces
    the reference's estimate from the map. Returns ``(nmiss, nskip,
    kernel_used, pscale_ratio_used)``.
    """

def decode_context(context: NDArray[np.int32], x: int, y: int) -> list[int]:
    """Sorted ids ``32 p + k`` of the set bits at pixel ``(x, y)`` of a 3-D context image."""

def lanczos_lut(n: int) -> list[float]:
    """The Lanczos look-up table of order ``n`` with spacing 0.003 (spec 5.5)."""

def blot(
    data: NDArray[np.float32],
    pixmap: NDArray[np.float64],
    out: NDArray[np.float32],
    interp: str = "poly5",
    iscale: float = 1.0,
    sinscl: float = 1.0,
    fillval: float = 0.0,
) -> None:
    """Interpolate ``data`` at ``pixmap`` (shape ``out.shape + (2,)``) into ``out`` (spec 9)."""

def interp_grid(
    x_nodes: NDArray[np.float64],
    y_nodes: NDArray[np.float64],
    values: NDArray[np.float64],
    order: int,
    x_range: tuple[int, int],
    y_range: tuple[int, int],
    out: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Interpolate a pixel map known on a sparse grid onto the integer grid.

    ``values`` is ``(len(y_nodes), len(x_nodes), 2)``; ``order`` 1 (bilinear)
    or 3 (not-a-knot cubic spline). Fills ``out[y_range, x_range]`` and
    returns the ``(y, x)`` indices of pixels whose stencil touched a
    non-finite node (to be evaluated exactly by the caller).
    """

# -- median (pyspec.median) --------------------------------------------------

def nanmedian_stack(stack: NDArray[_Float]) -> NDArray[_Float]:
    """Per-pixel nan-median over axis 0 of an ``(n, ny, nx)`` stack, ``(ny, nx)`` of its dtype."""

def nanmedian_frames(
    frames: Sequence[NDArray[np.float32]] | Sequence[NDArray[np.float64]],
    shape: tuple[int, int] = (0, 0),
    dtype: str = "float32",
) -> _FloatArray:
    """Per-pixel nan-median of equally shaped 2-D frames of one dtype, without stacking them.

    ``shape`` and ``dtype`` ("float32" or "float64") give the result of an
    empty list; otherwise the result has the frames' shape and dtype.
    """

def median_layout_stcal(n: int, ny: int, nx: int, itemsize: int, buffer_size: int) -> _Layout:
    """Section layout from stcal's ``buffer_size`` rule: ``(rows, nsections, buffer_bytes, raised)``."""

def median_layout_budget(n: int, ny: int, nx: int, itemsize: int, budget: int) -> _Layout:
    """Section layout under a hard memory budget in bytes (``ValueError`` if one row does not fit)."""

@final
class MedianAccumulator:
    """Frame-by-frame nan-median of ``n`` frames ``(ny, nx)``, in memory or on disk.

    ``rows=None`` keeps the frames in memory; otherwise they are streamed to a
    temporary file in ``tempdir`` (the system temporary directory when
    ``None``) and evaluated ``rows`` rows at a time. ``dtype`` is "float32" or
    "float64" (anything else: ``TypeError``). Thread-safe; every method
    releases the GIL.
    """

    def __init__(
        self,
        n: int,
        ny: int,
        nx: int,
        dtype: str = "float32",
        rows: int | None = None,
        tempdir: str | os.PathLike[str] | None = None,
    ) -> None: ...
    @property
    def dtype(self) -> Literal["float32", "float64"]:
        """Element type."""

    @property
    def appended(self) -> int:
        """Number of distinct frames appended so far."""

    @property
    def closed(self) -> bool:
        """``True`` once an on-disk accumulator has been evaluated or closed."""

    @property
    def layout(self) -> tuple[int, int] | None:
        """``(rows, nsections)`` of an on-disk accumulator, ``None`` in memory."""

    def next_slot(self, idx: int | None = None) -> int:
        """The slot ``append(_, idx)`` would use (``ValueError`` when out of range or full)."""

    def append(self, frame: _FloatArray, idx: int | None = None) -> int:
        """Store ``frame`` (exactly the accumulator's dtype and shape) at slot ``idx`` or the first free one.

        Returns the slot.
        """

    def evaluate(self) -> _FloatArray:
        """Nan-median ``(ny, nx)`` of the appended frames, of the accumulator's dtype.

        On disk this closes the accumulator.
        """

    def close(self) -> None:
        """Release the frames or the temporary file now; later use is an error."""

# -- outlier detection (pyspec.outlier) ---------------------------------------

def abs_deriv(array: NDArray[_Float]) -> NDArray[_Float]:
    """Absolute derivative image of a 2-D array (same shape and dtype)."""

def flag_crs(
    sci_data: _FloatArray, sci_err: _FloatArray, blot_data: _FloatArray, snr: float
) -> NDArray[np.bool_]:
    """``|sci - median| > snr * nan_to_num(err)`` with numpy broadcasting (up to 3-D, any float mix)."""

def flag_resampled_crs(
    sci_data: NDArray[_Float],
    sci_err: NDArray[_Float],
    blot_data: NDArray[_Float],
    snr1: float,
    snr2: float,
    scale1: float,
    scale2: float,
    backg: float,
) -> NDArray[np.bool_]:
    """Two-threshold test against a blotted median (2-D, one dtype for all three arrays)."""

def compute_weight_threshold(weight: _FloatArray, maskpt: float) -> float:
    """Sigma-clipped mean of the finite non-zero weights (any dimension) times ``maskpt``."""

def medfilt(arr: NDArray[_Float], kern_size: Sequence[int]) -> NDArray[_Float]:
    """Zero-padded nan-median filter of a 1- to 3-D array (one kernel size per axis)."""

def rolling_median(x: _FloatArray, w: int) -> NDArray[np.float64]:
    """Rolling median of window ``w`` (> 1) along axis 0 of a 3-D cube."""

def min_neighbour_diff(
    frames: Sequence[NDArray[np.float32]] | Sequence[NDArray[np.float64]],
    axis: int,
    dqs: Sequence[NDArray[np.uint32]] | None = None,
) -> NDArray[np.float64]:
    """Minimum over 2-D frames (at least one, one dtype) of the IFU neighbour differences along ``axis`` (0 or 1)."""

def nanmedian_all(a: _FloatArray) -> float:
    """``numpy.nanmedian`` over all elements of an array of any dimension."""

def nanpercentile(a: _FloatArray, q: float) -> float:
    """``numpy.nanpercentile(a, q)`` (linear method) over all elements; ``0 <= q <= 100``."""

def ifu_flag(
    minarr: NDArray[np.float64], k0: int, k1: int, threshold_percent: float
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64], float, float]:
    """IFU normalisation (odd ``(k0, k1)`` kernel) and percentile cut of a 2-D array.

    Returns ``(mask, normarr, minnorm, pct, nfloor)``.
    """

# -- B-splines (pyspec.bspline) -----------------------------------------------

def bspline_fit(
    x: _FloatArray,
    y: _FloatArray,
    nbkpts: int,
    wrapsig_low: float,
    wrapsig_high: float,
    wrapiter: int,
    space_ratio: float,
    exact: bool = True,
) -> (
    tuple[
        NDArray[np.float64],
        NDArray[np.float64],
        list[tuple[int, int]],
        Literal["no_fit", "max_iterations", "converged", "too_many_rejected", "fit_failed"],
    ]
    | None
):
    """Least-squares cubic B-spline fit with rejection of 1-D ``x``, ``y`` (spec 6.3).

    The dtype of ``x`` sets the precision of the knot arithmetic; ``exact``
    selects Givens rotations (else Householder). Returns ``None`` when the
    fit fails, else ``(t, c, history, stop)`` with ``history`` the
    ``(rejected, kept)`` counts of each iteration.
    """

def bspline_eval(
    t: NDArray[np.float64], c: NDArray[np.float64], x: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Evaluate the cubic spline ``(t, c)`` at 1-D ``x`` with extrapolation (scipy's ``BSpline(t, c, 3)(x)``)."""

# -- trace model (pyspec.trace) -----------------------------------------------

def trace_fit_and_oversample(
    data: NDArray[np.float32],
    err: NDArray[np.float32],
    alpha: NDArray[np.float64],
    regions: NDArray[np.int32],
    *,
    mode: str,
    detector: str | None = None,
    grating: str | None = None,
    oversample: float = 1.0,
    fit_threshold: float = 10.0,
    slope_limit: float = 0.1,
    psf_optimal: bool = False,
    flux_density: bool = False,
    dq: NDArray[np.uint32] | None = None,
    var_rnoise: NDArray[np.float32] | None = None,
    var_poisson: NDArray[np.float32] | None = None,
    var_flat: NDArray[np.float32] | None = None,
    alpha_os: NDArray[np.float64] | None = None,
    with_models: bool = False,
    exact: bool = False,
) -> dict[str, Any]:
    """The adaptive trace model of one 2-D exposure (spec 5-9); see ``pyspec.trace.fit_and_oversample``.

    ``mode`` is a mode name or exposure type (e.g. "NRS_IFU", "MIR_MRS").
    Returns a dict with the arrays ``trace_model``, ``data``, ``err``,
    ``spline_full``, ``spline_used`` (float32), ``dq`` (uint32), ``regions``
    (int32); ``var_rnoise``, ``var_poisson``, ``var_flat``,
    ``linear_interp``, ``spline_residual`` (float32 or ``None``);
    ``failed_columns``: ``list[(region, [columns])]``; and with
    ``with_models`` also ``models``: ``list[(region, [(column, t, c, scale,
    lo, hi, fallback)])]``.
    """
