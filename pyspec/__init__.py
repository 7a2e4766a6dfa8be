"""pyspec: fast, exact, parallel JWST drizzle resampling, outlier detection and
adaptive trace models, backed by the Rust crate ``pyspec-core``.

Pixel convention everywhere: arrays are ``(row, column) = (y, x)``; pixel
``(x, y)`` is 0-based with integer coordinates at pixel centres.
"""

from __future__ import annotations

from . import _core

__version__ = "0.1.0"

__all__ = ["get_num_threads", "set_num_threads", "__version__"]


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in every subsequent pyspec call.

    ``n = 0`` restores the default: rayon's global pool, whose size follows the
    ``RAYON_NUM_THREADS`` environment variable (else the number of cores).
    Results are bitwise identical whatever the thread count.
    """
    n = int(n)
    if n < 0:
        raise ValueError(f"number of threads must be >= 0, got {n}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Number of threads pyspec calls use."""
    return int(_core.get_num_threads())
