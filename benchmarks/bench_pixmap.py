"""Pixel-map benchmark: the real JWST NIRCam gwcs (2048 x 2048) onto a TAN grid.

Times, best of several runs in one process:

* the full evaluation (every pixel through the gwcs): ``drizzle.utils.calc_pixmap``
  vs ``pyspec.wcs.calc_pixmap(stepsize=1)``;
* the sparse-grid path, ``stepsize=10`` with order 1 and 3:
  ``stcal.resample.utils.calc_pixmap`` vs ``pyspec.wcs.calc_pixmap`` at 1 and
  N threads,

and prints the ratios, the speed-up over the full evaluation and the maximum
error of each map against the full map (pixels). Peak memory is the peak of
numpy/Python allocations (``tracemalloc``) during one call.

Run: ``python benchmarks/bench_pixmap.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _load() -> tuple[Any, Any]:
    import asdf
    from astropy.io import fits
    from astropy.wcs import WCS

    with asdf.open(DATA / "nrcb5-wcs.asdf", lazy_load=False) as af:
        w = af["wcs"]
    w_to = WCS(fits.Header.fromtextfile(DATA / "nrcb5_output_wcs_psr_1p0.hdr"))
    return w, w_to


def _best(
    fns: dict[str, Callable[[], np.ndarray]], repeat: int
) -> dict[str, tuple[float, np.ndarray]]:
    """Best time and last result of each function, running them in turn
    (round robin) so that a noisy machine affects all of them alike."""
    best = {name: np.inf for name in fns}
    out: dict[str, np.ndarray] = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: (best[name], out[name]) for name in fns}


def _peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run(repeat: int = 7, full_repeat: int = 2) -> list[dict]:
    """Time every workload; one dict per table row (times in seconds)."""
    import drizzle.utils as drizzle_utils
    import stcal.resample.utils as stcal_utils

    import pyspec
    from pyspec import wcs as pw

    w, w_to = _load()
    nthreads = os.cpu_count() or 1

    def pyspec_at(threads: int, **kw: Any) -> Callable[[], np.ndarray]:
        def call() -> np.ndarray:
            pyspec.set_num_threads(threads)
            try:
                return pw.calc_pixmap(w, w_to, **kw)
            finally:
                pyspec.set_num_threads(0)

        return call

    res = _best(
        {
            "ref": lambda: drizzle_utils.calc_pixmap(w, w_to),
            "1": pyspec_at(1),
        },
        full_repeat,
    )
    t_full_ref, full = res["ref"]
    t_full_mine, full_mine = res["1"]
    rows = [
        {
            "workload": "full evaluation (stepsize 1)",
            "reference": "drizzle.utils.calc_pixmap",
            "t_ref": t_full_ref,
            "t_1": t_full_mine,
            "t_n": t_full_mine,  # the gwcs evaluation is serial Python
            "err_ref": 0.0,
            "err": float(np.nanmax(np.abs(full_mine - full))),
            "mem_ref": _peak_mb(lambda: drizzle_utils.calc_pixmap(w, w_to)),
            "mem": _peak_mb(lambda: pw.calc_pixmap(w, w_to)),
        }
    ]
    for order in (1, 3):
        kw = {"stepsize": 10, "order": order}
        res = _best(
            {
                "ref": lambda kw=kw: stcal_utils.calc_pixmap(w, w_to, **kw),
                "1": pyspec_at(1, **kw),
                "n": pyspec_at(nthreads, **kw),
            },
            repeat,
        )
        rows.append(
            {
                "workload": f"stepsize 10, order {order}",
                "reference": "stcal.resample.utils.calc_pixmap",
                "t_ref": res["ref"][0],
                "t_1": res["1"][0],
                "t_n": res["n"][0],
                "err_ref": float(np.max(np.abs(res["ref"][1] - full))),
                "err": float(np.max(np.abs(res["n"][1] - full))),
                "mem_ref": _peak_mb(lambda kw=kw: stcal_utils.calc_pixmap(w, w_to, **kw)),
                "mem": _peak_mb(lambda kw=kw: pw.calc_pixmap(w, w_to, **kw)),
            }
        )
    for r in rows:
        best = min(r["t_1"], r["t_n"])
        r["threads"] = nthreads
        r["speedup_vs_ref"] = r["t_ref"] / best
        r["speedup_vs_ref_full"] = t_full_ref / best
        r["speedup_vs_pyspec_full"] = t_full_mine / best
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per sparse workload")
    parser.add_argument("--full-repeat", type=int, default=2, help="runs of the full evaluation")
    args = parser.parse_args()
    rows = run(args.repeat, args.full_repeat)
    n = rows[0]["threads"]
    head = (
        f"{'workload':<29} {'ref s':>7} {'pyspec 1t':>9} {f'pyspec {n}t':>9} {'x ref':>6} "
        f"{'x full ref':>10} {'x full own':>10} {'ref err px':>10} {'err px':>8} "
        f"{'ref MB':>6} {'MB':>5}"
    )
    print("NIRCam nrcb5 gwcs, 2048 x 2048 -> TAN (nrcb5_output_wcs_psr_1p0)")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['workload']:<29} {r['t_ref']:7.4f} {r['t_1']:9.4f} {r['t_n']:9.4f} "
            f"{r['speedup_vs_ref']:6.2f} {r['speedup_vs_ref_full']:10.1f} "
            f"{r['speedup_vs_pyspec_full']:10.1f} {r['err_ref']:10.2e} {r['err']:8.2e} "
            f"{r['mem_ref']:6.0f} {r['mem']:5.0f}"
        )
    print(
        "x ref: reference time / best pyspec time; x full ref / x full own: full evaluation "
        "by the reference / by pyspec (stepsize 1) over the best pyspec time. "
        "MB: peak numpy/Python allocations (tracemalloc) of one call."
    )


if __name__ == "__main__":
    main()
