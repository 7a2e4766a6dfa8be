"""Drizzle benchmark: pyspec vs drizzle 2.2.0 on the same synthetic inputs.

Workload: 4 synthetic 2048 x 2048 float32 exposures (sky, noise, stars,
cosmic rays, a few NaN pixels under zero weight, an inverse-variance weight
map, DQ and three variance arrays), rotated by a few degrees relative to each
other, dithered, and with a mild polynomial distortion in the pixel map,
drizzled into one ~2300 x 2300 output (context image on, NaN fill; the
``drizzle.resample.Drizzle`` defaults). Every workload runs the complete
accumulation of the 4 exposures: constructor plus 4 ``add_image`` calls.

For each kernel the reference (``drizzle.resample.Drizzle``) and pyspec
(``pyspec.drizzle.Drizzle``) run on the same inputs in the same process,
interleaved, best of ``--repeat`` runs; pyspec at 1 thread and at all cores
(``pyspec.set_num_threads``). Outputs (science, weight, context, and the
``data2``/DQ outputs where used) must be bitwise equal to the reference's.
Peak memory is the increase of the process's peak RSS during one
accumulation over the RSS before it (the inputs are already loaded).

Run: ``python benchmarks/bench_drizzle.py`` (``--quick`` for a 1-run smoke
test on 1024 x 1024 inputs; ``--help`` for the options). Afterwards the
pixel-map benchmark (``benchmarks/bench_pixmap.py``) runs too, unless
``--no-pixmap``.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import inspect
import math
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PeakRSS,
    available_cores,
    best_of,
    bitwise_equal,
    describe_difference,
    format_table,
    pyspec_threads,
    rss_mb,
)

SEED = 20240917
N_EXPOSURES = 4
# Rotation (degrees) and dither (pixels, at 2048) of each exposure.
ANGLES = (0.0, 1.5, -2.0, 3.0)
DITHERS = ((0.0, 0.0), (5.3, 3.7), (-7.1, 9.2), (12.6, -6.3))
OUT_FACTOR = 2300 / 2048


@dataclass
class Exposure:
    """One synthetic exposure and its pixel map onto the output grid."""

    data: np.ndarray
    weight: np.ndarray
    dq: np.ndarray
    var: list[np.ndarray]
    pixmap: np.ndarray


@dataclass
class Workload:
    """One table row: a kernel and its options."""

    name: str
    kernel: str
    pixfrac: float = 1.0
    extras: bool = False  # 3 data2 arrays + DQ
    target_1t: float | None = None
    target_nt: float = 3.0
    results: dict[str, Any] = field(default_factory=dict)


WORKLOADS = [
    Workload("square", "square", target_1t=2.5, target_nt=4.5),
    Workload("square pixfrac 0.7", "square", pixfrac=0.7),
    Workload("square + 3 data2 + dq", "square", extras=True),
    Workload("point", "point"),
    Workload("turbo", "turbo"),
    Workload("gaussian", "gaussian"),
    Workload("lanczos2", "lanczos2"),
    Workload("lanczos3", "lanczos3"),
]


def _malloc_release_memory() -> None:
    """Make glibc return large freed blocks to the OS (mmap them), so that
    the peak-RSS measurement of one run is not hidden by memory the previous
    run left in the heap. Best effort: a no-op off glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 1 << 20)
        libc.mallopt(m_trim_threshold, 1 << 20)
    except (OSError, AttributeError):
        pass


def make_exposures(n: int, seed: int = SEED) -> tuple[list[Exposure], tuple[int, int]]:
    """Deterministic synthetic exposures of ``n x n`` pixels and the output shape."""
    rng = np.random.default_rng(seed)
    out_n = int(round(n * OUT_FACTOR))
    s = n / 2048.0
    c = (n - 1) / 2.0
    co = (out_n - 1) / 2.0
    jj, ii = np.mgrid[0:n, 0:n].astype(np.float64)
    u = (ii - c) / c
    v = (jj - c) / c
    # mild polynomial distortion (a few pixels at the corners)
    dx = s * (2.5 * u * v + 1.5 * u * u - 1.0 * v * v + 0.4 * u**3)
    dy = s * (-2.0 * u * v + 1.2 * v * v + 0.8 * u * u - 0.3 * v**3)
    xd = ii - c + dx
    yd = jj - c + dy
    del u, v, dx, dy

    # one sky with stars, seen by every exposure in its own frame
    nstars = int(400 * s * s) + 20
    star_x = rng.uniform(-c * 1.1, c * 1.1, nstars)
    star_y = rng.uniform(-c * 1.1, c * 1.1, nstars)
    star_f = rng.lognormal(3.0, 1.2, nstars)

    exposures = []
    for k in range(N_EXPOSURES):
        th = math.radians(ANGLES[k])
        ct, st = math.cos(th), math.sin(th)
        ddx, ddy = DITHERS[k][0] * s, DITHERS[k][1] * s
        pixmap = np.empty((n, n, 2), dtype=np.float64)
        pixmap[..., 0] = co + ddx + ct * xd - st * yd
        pixmap[..., 1] = co + ddy + st * xd + ct * yd

        data = rng.normal(0.5, 0.05, (n, n)).astype(np.float32)
        # stars: input position = inverse rotation of the sky position (ignoring distortion)
        sx = ct * (star_x - ddx) + st * (star_y - ddy) + c
        sy = -st * (star_x - ddx) + ct * (star_y - ddy) + c
        r = 5
        yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
        for x0, y0, f in zip(sx, sy, star_f, strict=True):
            i0, j0 = int(round(x0)), int(round(y0))
            if r <= i0 < n - r and r <= j0 < n - r:
                g = f * np.exp(-((xx + i0 - x0) ** 2 + (yy + j0 - y0) ** 2) / (2 * 1.3**2))
                data[j0 - r : j0 + r + 1, i0 - r : i0 + r + 1] += g.astype(np.float32)
        var_rn = np.full((n, n), 0.0025, dtype=np.float32)
        var_p = (np.maximum(data, 0) * 0.01).astype(np.float32)
        var_flat = (data * data * 1e-4).astype(np.float32)
        weight = (1.0 / (var_rn + var_p)).astype(np.float32)
        dq = np.zeros((n, n), dtype=np.uint32)
        # cosmic rays and hot pixels: flagged, zero weight
        m = n * n // 1000
        idx = rng.integers(0, n * n, m)
        data.flat[idx] += rng.uniform(50, 500, m).astype(np.float32)
        dq.flat[idx] |= np.uint32(4)
        weight.flat[idx] = 0.0
        # a few NaN pixels (zero weight, DO_NOT_USE)
        nidx = rng.integers(0, n * n, max(1, n * n // 100000))
        data.flat[nidx] = np.nan
        dq.flat[nidx] |= np.uint32(1)
        weight.flat[nidx] = 0.0
        exposures.append(Exposure(data, weight, dq, [var_rn, var_p, var_flat], pixmap))
    return exposures, (out_n, out_n)


def accumulate(
    cls: type, wl: Workload, exposures: list[Exposure], out_shape: tuple[int, int]
) -> dict[str, Any]:
    """Drizzle every exposure with ``cls`` (reference or pyspec ``Drizzle``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = cls(kernel=wl.kernel, out_shape=out_shape)
        for e in exposures:
            d.add_image(
                e.data,
                exptime=1.0,
                pixmap=e.pixmap,
                data2=e.var if wl.extras else None,
                dq=e.dq if wl.extras else None,
                weight_map=e.weight,
                pixfrac=wl.pixfrac,
                pixel_scale_ratio=1.0,
            )
    out = {"sci": d.out_img, "wht": d.out_wht, "ctx": d.out_ctx}
    if wl.extras:
        out["img2"] = list(d.out_img2)
        out["dq"] = d.out_dq
    return out


def compare(ref: dict[str, Any], mine: dict[str, Any]) -> tuple[bool, list[str]]:
    """Bitwise comparison of every output; descriptions of the differences."""
    ok = True
    notes = []
    for key, a in ref.items():
        b = mine.get(key)
        if bitwise_equal(a, b):
            continue
        ok = False
        if isinstance(a, list):
            for k, (x, y) in enumerate(zip(a, b or [], strict=False)):
                if not bitwise_equal(x, y):
                    notes.append(f"{key}[{k}]: {describe_difference(x, y)}")
        else:
            notes.append(f"{key}: {describe_difference(a, b)}")
    return ok, notes


def interior_equal(ref: dict[str, Any], mine: dict[str, Any], margin: int) -> bool:
    """Bitwise equality away from the outermost ``margin`` rows/columns."""
    sl = (..., slice(margin, -margin), slice(margin, -margin))
    for key, a in ref.items():
        b = mine.get(key)
        pairs = zip(a, b, strict=True) if isinstance(a, list) else [(a, b)]
        for x, y in pairs:
            if not bitwise_equal(np.asarray(x)[sl], np.asarray(y)[sl]):
                return False
    return True


def run_workload(
    wl: Workload,
    exposures: list[Exposure],
    out_shape: tuple[int, int],
    repeat: int,
    nthreads: int,
) -> None:
    """Time one workload (interleaved runs) and check bitwise parity."""
    import drizzle.resample

    import pyspec.drizzle

    def timed(fn: Any) -> tuple[float, float, Any]:
        with PeakRSS() as mem:
            t, res = best_of(fn, 1)
        return t, mem.extra_mb, res

    ref_fn = lambda: accumulate(drizzle.resample.Drizzle, wl, exposures, out_shape)  # noqa: E731
    mine_fn = lambda: accumulate(pyspec.drizzle.Drizzle, wl, exposures, out_shape)  # noqa: E731
    t_ref = t_1 = t_n = float("inf")
    mem_ref = mem_mine = 0.0
    ref: dict[str, Any] = {}
    out_1: dict[str, Any] = {}
    out_n: dict[str, Any] = {}
    for _ in range(repeat):  # interleaved, so that machine load hits all alike
        ref = out_1 = out_n = {}  # free the previous run's outputs first
        t, m, ref = timed(ref_fn)
        t_ref, mem_ref = min(t_ref, t), max(mem_ref, m)
        with pyspec_threads(1):
            t, m, out_1 = timed(mine_fn)
        t_1, mem_mine = min(t_1, t), max(mem_mine, m)
        with pyspec_threads(nthreads):
            t, m, out_n = timed(mine_fn)
        t_n, mem_mine = min(t_n, t), max(mem_mine, m)
    ok1, notes1 = compare(ref, out_1)
    okn, notesn = compare(ref, out_n)
    same_threads = all(bitwise_equal(out_1[k], out_n[k]) for k in out_1)
    if ok1 and okn:
        equal = "yes"
    elif interior_equal(ref, out_1, 5) and interior_equal(ref, out_n, 5):
        equal = "interior only"
    else:
        equal = "NO"
    if not same_threads:
        equal += " (1T != NT!)"
    n_in = sum(e.data.size for e in exposures)
    wl.results = {
        "workload": wl.name,
        "t_ref": t_ref,
        "t_1": t_1,
        "t_n": t_n,
        "x_1": t_ref / t_1,
        "x_n": t_ref / t_n,
        "mpix_ref": n_in / t_ref / 1e6,
        "target": _target_text(wl, t_ref / t_1, t_ref / t_n),
        "mem_ref": mem_ref,
        "mem": mem_mine,
        "equal": equal,
        "notes": [f"1T {s}" for s in notes1] + [f"{nthreads}T {s}" for s in notesn],
    }


def _target_text(wl: Workload, x1: float, xn: float) -> str:
    parts = []
    good = True
    if wl.target_1t is not None:
        parts.append(f">={wl.target_1t:g} 1T")
        good &= x1 >= wl.target_1t
    parts.append(f">={wl.target_nt:g} NT")
    good &= xn >= wl.target_nt
    return ", ".join(parts) + (" ok" if good else " MISS")


def print_drizzle_table(
    workloads: list[Workload], n: int, out_shape: tuple[int, int], nthreads: int, repeat: int
) -> None:
    rows = [wl.results for wl in workloads if wl.results]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(
        f"\nDrizzle: {N_EXPOSURES} exposures of {n} x {n} (float32, rotated {ANGLES} deg, "
        f"dithered, distorted) -> {out_shape[0]} x {out_shape[1]}; best of {repeat}; "
        f"{nthreads} threads used for NT; load average now {load} (other processes on a "
        "shared machine inflate the times, the N-thread ones most)"
    )
    columns = [
        ("workload", "workload", ""),
        ("t_ref", "drizzle s", ".3f"),
        ("t_1", "pyspec 1T s", ".3f"),
        ("t_n", f"pyspec {nthreads}T s", ".3f"),
        ("x_1", "x 1T", ".2f"),
        ("x_n", f"x {nthreads}T", ".2f"),
        ("target", "target", ""),
        ("mpix_ref", "ref MPix/s", ".1f"),
        ("mem_ref", "ref peak MB", ".0f"),
        ("mem", "pyspec peak MB", ".0f"),
        ("equal", "bitwise equal", ""),
    ]
    print(format_table(rows, columns))
    print(
        "x: drizzle time / pyspec time (higher is better). peak MB: increase of the peak RSS "
        f"during one accumulation over the RSS before it ({rss_mb():.0f} MB with the inputs "
        "loaded). ref MPix/s: input pixels per second of drizzle 2.2.0."
    )
    for r in rows:
        for note in r["notes"][:6]:
            print(f"  {r['workload']}: {note}")


def run_pixmap_benchmark(quick: bool) -> None:
    """Run ``benchmarks/bench_pixmap.py``'s ``run()`` if it exists; print its rows."""
    path = Path(__file__).resolve().parent / "bench_pixmap.py"
    if not path.exists():
        print("\nPixel maps: benchmarks/bench_pixmap.py not found; skipped.")
        return
    spec = importlib.util.spec_from_file_location("bench_pixmap", path)
    if spec is None or spec.loader is None:
        print("\nPixel maps: cannot load benchmarks/bench_pixmap.py; skipped.")
        return
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    run = getattr(mod, "run", None)
    if run is None:
        print("\nPixel maps: benchmarks/bench_pixmap.py has no run(); skipped.")
        return
    kwargs = {}
    if quick:
        params = inspect.signature(run).parameters
        for name in ("repeat", "full_repeat"):
            if name in params:
                kwargs[name] = 1
    print("\nPixel maps (benchmarks/bench_pixmap.py):")
    try:
        rows = run(**kwargs)
    except Exception as exc:  # report, do not hide the drizzle table
        print(f"  failed: {type(exc).__name__}: {exc}")
        return
    printer = getattr(mod, "format_rows", None) or getattr(mod, "format_table", None)
    if printer is not None:
        print(printer(rows))
        return
    if not rows:
        print("  (no rows)")
        return
    keys = list(rows[0])
    fmt = {k: (".4g" if isinstance(rows[0][k], float) else "") for k in keys}
    print(format_table(rows, [(k, k, fmt[k]) for k in keys]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run on 1024 x 1024 inputs")
    parser.add_argument("--repeat", type=int, default=None, help="runs per workload (default 3)")
    parser.add_argument("--size", type=int, default=None, help="input size (default 2048)")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads of the N-thread runs (default: all)"
    )
    parser.add_argument(
        "--workloads",
        default=None,
        help="comma-separated subset, e.g. 'square,point' (names as in the table)",
    )
    parser.add_argument("--no-pixmap", action="store_true", help="skip the pixel-map benchmark")
    args = parser.parse_args(argv)

    repeat = args.repeat or (1 if args.quick else 3)
    n = args.size or (1024 if args.quick else 2048)
    nthreads = args.threads or available_cores()
    selected = WORKLOADS
    if args.workloads:
        names = {s.strip() for s in args.workloads.split(",")}
        selected = [w for w in WORKLOADS if w.name in names]
        unknown = names - {w.name for w in WORKLOADS}
        if unknown:
            parser.error(
                f"unknown workloads {sorted(unknown)}; known: {[w.name for w in WORKLOADS]}"
            )

    _malloc_release_memory()
    exposures, out_shape = make_exposures(n)
    for wl in selected:
        print(f"running {wl.name} ...", file=sys.stderr, flush=True)
        run_workload(wl, exposures, out_shape, repeat, nthreads)
    print_drizzle_table(selected, n, out_shape, nthreads, repeat)
    del exposures
    if not args.no_pixmap:
        run_pixmap_benchmark(args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
