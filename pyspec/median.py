"""Nan-median of image stacks, in memory or on disk under a memory budget.

A drop-in replacement for :mod:`stcal.outlier_detection.median` (stcal
1.20.0): :func:`nanmedian3D` and :class:`MedianComputer` have the same names,
arguments and results, bitwise. :func:`nanmedian` is the array-level entry
point.

Semantics of the median (per pixel, over axis 0 of an ``(n, ny, nx)`` stack,
exactly numpy's ``nanmedian``): NaN values are ignored (``±inf`` are
ordinary values); no value left gives NaN; an odd count gives the middle
value; an even count gives ``(a + b) / 2`` of the two middle values computed
in the stack's dtype (for float32, 16777216 and 3 give 8388610.0); a
``-inf``/``+inf`` middle pair gives NaN; a zero median is ``+0.0``.

Pixel convention: arrays are ``(row, column) = (y, x)``; pixel ``(x, y)`` is
0-based with integer coordinates at pixel centres. Sizes are in bytes.

Every call releases the GIL and runs on the threads set by
:func:`pyspec.set_num_threads`; results are bitwise identical for any
number of threads, and identical between the in-memory and on-disk modes.

Deliberate differences from the reference (spec ``outlier_detection.md``
§12):

* Q5: for an odd number of values, numpy's float32 median of ``|x| > 1.7e38``
  overflows to ``±inf`` (it computes ``(x + x) / 2``); pyspec returns ``x``.
* Q1: stcal's on-disk median raises ``IndexError`` once the number of
  appended frames reaches the number of sections (a buffer larger than one
  frame, or fewer rows than frames); pyspec accepts any buffer size.
* Q9: temporary files go to ``tempdir`` or, by default, the system
  temporary directory (stcal: the current directory). On POSIX systems the
  file is unlinked as soon as it is created, so nothing can be left behind,
  even if the process is killed; it is closed on success, on error, on
  :meth:`MedianComputer.close`, when the computer is garbage-collected and
  at interpreter exit.
* ``append(data, idx)`` honours ``idx`` on disk too (stcal ignores it and
  stacks frames in call order, which gives the same median); ``idx=None``
  takes the first free slot in both modes (stcal requires ``idx`` in
  memory). Slots never filled are left out of the median (stcal's
  in-memory buffer holds uninitialised values there).
* ``memory_budget`` (bytes) is a hard limit on what the on-disk mode holds
  besides its output: a budget that cannot hold one row of every frame is a
  ``ValueError``. With ``in_memory=True``, a budget smaller than the stack
  switches to the on-disk mode.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence
from os import PathLike
from typing import Any

import numpy as np

from . import _core

__all__ = ["MedianComputer", "nanmedian", "nanmedian3D"]

log = logging.getLogger(__name__)

_ONE_MB = 1 << 20


def _median_dtype(dtype: Any) -> np.dtype:
    """The float32/float64 dtype named by ``dtype`` (``TypeError`` otherwise)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"data type {dtype!r} not understood") from exc
    if dt.kind != "f" or dt.itemsize not in (4, 8):
        raise TypeError(f"unsupported dtype {dt}: the median supports float32 and float64")
    return dt.newbyteorder("=")


def _native(a: np.ndarray) -> np.ndarray:
    """``a`` in native byte order (a copy only when it is not)."""
    if not a.dtype.isnative:
        return a.astype(a.dtype.newbyteorder("="))
    return a


def nanmedian(stack: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """Per-pixel median over axis 0, ignoring NaN.

    Parameters
    ----------
    stack : numpy.ndarray or sequence of numpy.ndarray
        A float32 or float64 array of shape ``(n, ny, nx)``, or a sequence of
        ``n`` frames of shape ``(ny, nx)`` and one dtype (they are not
        stacked, so no copy is made). Values are in any unit; NaN marks
        missing data. The input is never modified.

    Returns
    -------
    numpy.ndarray
        The ``(ny, nx)`` median in the input dtype. Pixels with no finite or
        infinite value are NaN; a stack of zero frames gives an all-NaN
        frame.

    Raises
    ------
    ValueError
        If the stack is not 3-D, or the frames do not all have one 2-D shape.
    TypeError
        If the dtype is not float32 or float64.
    """
    if isinstance(stack, np.ndarray):
        if stack.ndim != 3:
            raise ValueError(f"stack must be 3-D (n, ny, nx), got shape {stack.shape}")
        _median_dtype(stack.dtype)
        return _core.nanmedian_stack(_native(stack))
    frames = [np.asarray(f) for f in stack]
    if not frames:
        raise ValueError(
            "cannot infer the frame shape of an empty sequence; pass an array of shape (0, ny, nx)"
        )
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise ValueError(f"all frames must have the same shape, got mixed shapes {sorted(shapes)}")
    shape = frames[0].shape
    if len(shape) != 2:
        raise ValueError(f"frames must be 2-D, got shape {shape}")
    dtypes = {f.dtype.newbyteorder("=") for f in frames}
    for dt in dtypes:
        _median_dtype(dt)
    common = np.result_type(*dtypes)
    frames = [_native(f).astype(common, copy=False) for f in frames]
    return _core.nanmedian_frames(frames, shape, common.name)


def nanmedian3D(cube: np.ndarray, overwrite_input: bool = True) -> np.ndarray:  # noqa: N802
    """Nan-median of a cube over axis 0 (``stcal.outlier_detection.median.nanmedian3D``).

    Parameters
    ----------
    cube : numpy.ndarray
        float32 or float64 array of shape ``(n, ny, nx)``.
    overwrite_input : bool, optional
        Accepted for compatibility; pyspec never modifies the input.

    Returns
    -------
    numpy.ndarray
        The ``(ny, nx)`` median in the cube's dtype (see :func:`nanmedian`).
    """
    del overwrite_input
    return nanmedian(np.asarray(cube))


class MedianComputer:
    """Frame-by-frame nan-median, in memory or on disk.

    Same API and results as ``stcal.outlier_detection.median.MedianComputer``
    (see the module docstring for the differences).

    Parameters
    ----------
    full_shape : tuple of int
        ``(n, ny, nx)``: the number of frames and the frame shape.
    in_memory : bool, optional
        Keep the frames in memory (default). ``False`` streams each frame to
        a temporary file as it is appended and evaluates the median section
        by section.
    buffer_size : int, optional
        stcal's total buffer for the on-disk median, in bytes; ``None`` or 0
        means one frame. It is divided into whole rows per frame; if it cannot
        hold one row of every frame it is raised to that (with a warning).
        Ignored in memory, and when ``memory_budget`` is given.
    dtype : str or numpy.dtype, optional
        ``"float32"`` (default) or ``"float64"``.
    tempdir : str or path-like, optional
        Directory of the temporary file; ``""`` (default) means the system
        temporary directory (``TMPDIR``). It must exist and be writable.
    memory_budget : int, optional
        Hard limit in bytes on the frame data the on-disk mode holds at once
        (its output frame excluded). Must be at least ``n * nx * itemsize``.
        In memory, a budget smaller than the whole stack switches to the
        on-disk mode.

    Raises
    ------
    ValueError
        Bad shape, negative sizes, zero frames, or a budget smaller than one
        row of every frame.
    TypeError
        Unsupported dtype.
    FileNotFoundError, PermissionError, NotADirectoryError
        ``tempdir`` does not exist, is not writable or is not a directory.
    """

    def __init__(
        self,
        full_shape: tuple[int, int, int],
        in_memory: bool = True,
        buffer_size: int | None = None,
        dtype: str | np.dtype = "float32",
        tempdir: str | PathLike[str] = "",
        memory_budget: int | None = None,
    ) -> None:
        shape = tuple(int(s) for s in full_shape)
        if len(shape) != 3:
            raise ValueError(
                f"Invalid input shape {tuple(full_shape)}; only three-dimensional data are supported."
            )
        if min(shape) < 0:
            raise ValueError(f"negative dimension in full_shape {shape}")
        if shape[0] == 0:
            raise ValueError("full_shape[0] must be >= 1: the median needs at least one frame")
        self.full_shape = shape
        self.in_memory = bool(in_memory)
        self.dtype = _median_dtype(dtype)
        self.buffer_size = 0 if buffer_size is None else int(buffer_size)
        self.tempdir = tempdir
        n, ny, nx = shape
        itemsize = self.dtype.itemsize
        if memory_budget is not None:
            memory_budget = int(memory_budget)
            if memory_budget < 0:
                raise ValueError(f"memory_budget must be >= 0 bytes, got {memory_budget}")
        self.memory_budget = memory_budget
        on_disk = not self.in_memory
        if self.in_memory and memory_budget is not None and n * ny * nx * itemsize > memory_budget:
            log.info(
                "The stack (%d bytes) exceeds memory_budget=%d bytes; computing the median on disk",
                n * ny * nx * itemsize,
                memory_budget,
            )
            on_disk = True
        self.nsections: int | None = None
        self.section_nrows: int | None = None
        if on_disk:
            if memory_budget is not None:
                rows, nsections, _, _ = _core.median_layout_budget(
                    n, ny, nx, itemsize, memory_budget
                )
            else:
                rows, nsections, buf, raised = _core.median_layout_stcal(
                    n, ny, nx, itemsize, self.buffer_size
                )
                if raised:
                    log.warning(
                        "Buffer size is too small to hold a single row. "
                        "Increasing buffer size to %s MB",
                        buf / _ONE_MB,
                    )
                self.buffer_size = buf
            self.nsections, self.section_nrows = nsections, rows
            directory = None if tempdir in ("", None) else str(tempdir)
            self._acc = _core.MedianAccumulator(
                n, ny, nx, self.dtype.name, rows=rows, tempdir=directory
            )
            log.info(
                "Computing median over %d groups in %d sections of %d rows "
                "with total memory buffer %s MB",
                n,
                nsections,
                rows,
                rows * n * nx * itemsize / _ONE_MB,
            )
        else:
            self._acc = _core.MedianAccumulator(n, ny, nx, self.dtype.name)
        self.on_disk = on_disk
        # Release the temporary file when this object is collected or at exit.
        self._finalizer = weakref.finalize(self, self._acc.close)

    @property
    def frame_shape(self) -> tuple[int, int]:
        """Shape ``(ny, nx)`` of every frame."""
        return self.full_shape[1], self.full_shape[2]

    @property
    def n_appended(self) -> int:
        """Number of distinct frames appended so far."""
        return int(self._acc.appended)

    def append(self, data: np.ndarray, idx: int | None = None) -> None:
        """Add one frame to the median.

        Parameters
        ----------
        data : numpy.ndarray
            Frame of shape ``full_shape[1:]``. On disk its dtype must be the
            computer's (as stcal); in memory it is cast to it.
        idx : int, optional
            Slot ``0 <= idx < n`` (negative values count from the end); the
            first free slot when omitted. Appending to a used slot replaces
            that frame.

        Raises
        ------
        ValueError
            Wrong shape or (on disk) dtype, or the median was already
            evaluated on disk.
        IndexError
            ``idx`` out of range, or all ``n`` frames already appended.
        """
        data = np.asarray(data)
        if data.shape != self.frame_shape:
            raise ValueError(
                f"Data shape {data.shape} does not match expected shape {self.frame_shape}."
            )
        if data.dtype.newbyteorder("=") != self.dtype:
            if self.on_disk:
                raise ValueError(
                    f"Data dtype {data.dtype} does not match expected dtype {self.dtype}."
                )
            if data.dtype.kind not in "fiub":
                raise TypeError(f"cannot store {data.dtype} data in a {self.dtype} median")
        data = _native(data).astype(self.dtype, copy=False)
        n = self.full_shape[0]
        if idx is not None:
            idx = int(idx)
            if idx < 0:
                idx += n
            if not 0 <= idx < n:
                raise IndexError(f"index {idx} is out of bounds for a stack of {n} frames")
        elif self.n_appended >= n:
            raise IndexError(f"Too many calls to append: all {n} frames have already been appended")
        self._acc.append(data, idx)

    def evaluate(self) -> np.ndarray:
        """Median of the frames appended so far.

        Returns
        -------
        numpy.ndarray
            ``(ny, nx)`` array of the computer's dtype. On disk the temporary
            file is then released and the computer cannot be used again.
        """
        return self._acc.evaluate()

    def close(self) -> None:
        """Release the frames or the temporary file now. Further use raises."""
        self._finalizer()

    def __enter__(self) -> MedianComputer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
