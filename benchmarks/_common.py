"""Helpers shared by the benchmarks: best-of timing, peak memory, thread
counts, bitwise comparison and table printing.

Benchmarks time pyspec and the reference on the same inputs in the same run
and report ratios; absolute times on a shared machine mean little.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "PeakRSS",
    "available_cores",
    "best_of",
    "bitwise_equal",
    "describe_difference",
    "format_table",
    "pyspec_threads",
    "rss_mb",
]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def available_cores() -> int:
    """Number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def pyspec_threads(n: int) -> Iterator[None]:
    """Run the block with ``pyspec.set_num_threads(n)``; restore the default after."""
    import pyspec

    pyspec.set_num_threads(n)
    try:
        yield
    finally:
        pyspec.set_num_threads(0)


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls of ``fn`` and the last result."""
    best = float("inf")
    result = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _status_kb(key: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:  # pragma: no cover - not Linux
        return None
    return None


def rss_mb() -> float:
    """Current resident set size of this process (MiB)."""
    kb = _status_kb("VmRSS")
    if kb is not None:
        return kb / 1024
    import psutil  # pragma: no cover - not Linux

    return psutil.Process().memory_info().rss / 2**20


class PeakRSS:
    """Peak resident set size while a block runs.

    On Linux the kernel's high-water mark (``VmHWM``) is reset on entry by
    writing ``5`` to ``/proc/self/clear_refs``, so the peak is exact and does
    not depend on the GIL (the reference's C code holds it). Elsewhere a
    ``psutil`` sampling thread (every 2 ms) is used instead.

    Attributes after the block: ``start_mb`` (RSS on entry), ``peak_mb`` (peak
    RSS during the block) and ``extra_mb`` (``peak_mb - start_mb``).
    """

    def __init__(self) -> None:
        self.start_mb = 0.0
        self.peak_mb = 0.0
        self._kernel_hwm = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def extra_mb(self) -> float:
        return max(0.0, self.peak_mb - self.start_mb)

    def __enter__(self) -> PeakRSS:
        self.start_mb = rss_mb()
        try:
            _CLEAR_REFS.write_text("5")
            self._kernel_hwm = _status_kb("VmHWM") is not None
        except OSError:
            self._kernel_hwm = False
        if not self._kernel_hwm:
            import psutil

            proc = psutil.Process()
            self.peak_mb = self.start_mb

            def sample() -> None:
                while not self._stop.wait(0.002):
                    self.peak_mb = max(self.peak_mb, proc.memory_info().rss / 2**20)

            self._thread = threading.Thread(target=sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._kernel_hwm:
            kb = _status_kb("VmHWM")
            self.peak_mb = (kb or 0) / 1024
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self.peak_mb = max(self.peak_mb, rss_mb())


def bitwise_equal(a: Any, b: Any) -> bool:
    """Same dtype, shape and bytes (NaN payloads and signed zeros included).

    ``None`` equals only ``None``; lists compare element-wise.
    """
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return len(a) == len(b) and all(bitwise_equal(x, y) for x, y in zip(a, b, strict=True))
    a = np.asarray(a)
    b = np.asarray(b)
    return (
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
    )


def describe_difference(a: np.ndarray, b: np.ndarray) -> str:
    """Short description of how two arrays of one shape differ."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return f"shapes {a.shape} vs {b.shape}"
    if a.dtype.kind == "f":
        same = (a == b) | (np.isnan(a) & np.isnan(b))
    else:
        same = a == b
    bad = np.argwhere(~same)
    if bad.size == 0:
        return "equal values (different bits: NaN payload or signed zero)"
    msg = f"{len(bad)} pixels differ, first at {tuple(int(v) for v in bad[0])}"
    if a.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            d = np.abs(a.astype(np.float64) - b.astype(np.float64))[~same]
        finite = d[np.isfinite(d)]
        if finite.size:
            msg += f", max |diff| {finite.max():.3g}"
    lo = bad.min(axis=0)
    hi = bad.max(axis=0)
    msg += f", within rows {lo[-2]}..{hi[-2]}, cols {lo[-1]}..{hi[-1]}"
    return msg


def format_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str, str]],
) -> str:
    """Render rows as a fixed-width text table.

    ``columns`` holds ``(key, header, format)``, e.g. ``("t_ref", "ref s",
    ".3f")``; a format of ``""`` means ``str``. Missing values print as ``-``.
    The first column is left-aligned, the others right-aligned.
    """

    def cell(row: dict[str, Any], key: str, fmt: str) -> str:
        v = row.get(key)
        if v is None:
            return "-"
        if fmt:
            try:
                return format(v, fmt)
            except (TypeError, ValueError):
                return str(v)
        return str(v)

    cells = [[cell(r, k, f) for k, _, f in columns] for r in rows]
    heads = [h for _, h, _ in columns]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]

    def line(values: Sequence[str]) -> str:
        out = []
        for i, v in enumerate(values):
            out.append(v.ljust(widths[i]) if i == 0 else v.rjust(widths[i]))
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(heads), sep] + [line(c) for c in cells])
