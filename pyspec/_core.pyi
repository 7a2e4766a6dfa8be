"""Type stubs of ``pyspec._core``: the PyO3 bindings of the Rust crate ``pyspec-core``.

Every function releases the GIL while the Rust code runs, converts numpy
arrays without copying where they are contiguous, and raises ``ValueError``
(bad values, shapes, aliased or read-only outputs), ``TypeError`` (wrong
dtypes), ``MemoryError`` or ``OSError`` instead of crashing. Dtypes are
exact: the Python layer (``pyspec.drizzle`` etc.) converts user input first.
Pixel convention: arrays are ``(y, x)``; pixel centres at integers, 0-based.
"""

import numpy as np
from numpy.typing import NDArray

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
