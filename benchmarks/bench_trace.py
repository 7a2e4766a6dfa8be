"""Adaptive trace model benchmark: pyspec vs jwst 3.0.0, side by side.

Workload: a deterministic synthetic NIRSpec-IFU-like exposure of 2048 x 2048
pixels with 30 slices of 36 rows (``pyspec.trace.synthetic_exposure``): six
slices hold an undersampled, tilted point-source trace (above the fit
threshold), 23 only faint diffuse emission, one is empty; noise, NaNs, an
all-NaN column and a NaN block on a trace core.

Cases: ``oversample=1``, ``oversample=2`` and ``psf_optimal`` with
``oversample=2`` (every non-empty slice is fitted). The reference is jwst's
``fit_and_oversample`` minus the WCS work, driven through its array-level
functions exactly as the step orchestrates them. pyspec runs
``pyspec.trace.fit_and_oversample`` (default solver) at 1 thread and at every
available core; each pyspec time is the best of ``--repeat`` runs.

``--quick`` times jwst on a sample of slices only (two with a source, three
without) on the full image, and scales each class of slice to its count in
the exposure; the thresholds are computed from the whole exposure as in the
full run.

Run: ``python benchmarks/bench_trace.py [--quick] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakRSS, available_cores, best_of, format_table, pyspec_threads  # noqa: E402

SHAPE = (2048, 2048)
N_SLICES = 30
ROWS = 36
N_SOURCES = 6


def jwst_reference(exp, work_map, *, oversample=1.0, psf_optimal=False, stats_map=None):
    """jwst 3.0.0's NRS_IFU ``fit_and_oversample`` on arrays (no WCS), fitting
    and oversampling the regions of ``work_map``; global statistics and
    thresholds come from ``stats_map`` (default ``work_map``)."""
    from astropy.stats import sigma_clipped_stats
    from jwst.adaptive_trace_model import trace_model as tm

    stats_map = work_map if stats_map is None else stats_map
    fit_threshold, slope_limit = (0, 0) if psf_optimal else (10.0, 0.1)
    flux, err, alpha = exp.data, exp.err, exp.alpha
    ysize, xsize = flux.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mean, _, rms = sigma_clipped_stats(flux[stats_map > 0])
        mean = 0 if ~np.isfinite(mean) else mean
        rms = 0 if ~np.isfinite(rms) else rms
        restore = None
        if mean < 0:
            restore = mean
            flux = flux - mean
            mean = 0
        kw = tm._set_fit_kwargs("NRS_IFU", "NRS1", None, xsize)
        ids = np.unique(work_map[work_map > 0])
        if fit_threshold > 0:
            kw["peak_threshold"] = dict.fromkeys(ids, mean + fit_threshold * rms)
        else:
            kw["snr_threshold"] = None
        okw = tm._set_oversample_kwargs("NRS_IFU", "NRS1")
        splines = tm.fit_all_regions(flux, err, alpha, work_map, **kw)
        if oversample == 1:
            used, full = tm._trace_image(
                flux.shape, splines, work_map, alpha, slope_limit=slope_limit, pad=okw["pad"]
            )
            if restore is not None:
                used += restore
            return used
        _, oldy = tm._reindex(0, ysize - 1, scale=oversample)
        flux_os, used, *_ = tm.oversample_flux(
            flux,
            alpha,
            work_map,
            splines,
            oversample,
            exp.alpha_os[oversample],
            slope_limit=slope_limit,
            psf_optimal=psf_optimal,
            **okw,
        )
        near = np.round(oldy).astype(int)
        dq_os = exp.dq[near]
        est = ~np.isnan(flux_os) & ((dq_os & 1) > 0)
        dq_os[est] ^= 1
        dq_os[est] |= 1 << 28
        for name in ("err", "var_rnoise", "var_poisson"):
            e = getattr(exp, name)
            e = np.sqrt(e) if name.startswith("var") else e
            eo = tm.linear_oversample(
                e, work_map, oversample, okw["require_ngood"], edge_limit=0, preserve_nan=False
            )
            eo[~np.isfinite(e[near]) & ~est] = np.nan
            if name.startswith("var"):
                eo = eo**2
            tm._inflate_error(eo, name, oversample)
        if restore is not None:
            flux_os += restore
        return flux_os.astype(np.float32)


def run_pyspec(exp, *, oversample=1.0, psf_optimal=False):
    from pyspec import trace as pt

    return pt.fit_and_oversample(
        exp.data,
        exp.err,
        exp.alpha,
        exp.regions,
        mode="NRS_IFU",
        dq=exp.dq,
        var_rnoise=exp.var_rnoise,
        var_poisson=exp.var_poisson,
        oversample=oversample,
        psf_optimal=psf_optimal,
        alpha_os=exp.alpha_os.get(oversample),
    )


def time_jwst(exp, kw, quick: bool) -> tuple[float, str]:
    """jwst time for the whole exposure (measured, or scaled from a sample)."""
    if not quick:
        t0 = time.perf_counter()
        jwst_reference(exp, exp.regions, **kw)
        return time.perf_counter() - t0, "measured"
    ids = np.unique(exp.regions[exp.regions > 0])
    has_source = {int(r) for r in ids if np.nanmax(exp.data[exp.regions == r]) > 100}
    empty = {int(r) for r in ids if not np.isfinite(exp.data[exp.regions == r]).any()}
    classes = {
        "source": sorted(has_source),
        "diffuse": sorted(set(map(int, ids)) - has_source - empty),
        "empty": sorted(empty),
    }
    total = 0.0
    for members in classes.values():
        if not members:
            continue
        sample = members[:2] if len(members) <= 6 else members[:3]
        work = np.where(np.isin(exp.regions, sample), exp.regions, 0)
        t0 = time.perf_counter()
        jwst_reference(exp, work, stats_map=exp.regions, **kw)
        total += (time.perf_counter() - t0) * len(members) / len(sample)
    return total, "scaled from a slice sample"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="time jwst on a sample of slices")
    ap.add_argument("--repeat", type=int, default=3, help="pyspec runs per case (best of)")
    ap.add_argument("--no-reference", action="store_true", help="time pyspec only")
    args = ap.parse_args(argv)

    import pyspec
    from pyspec import trace as pt

    t0 = time.perf_counter()
    exp = pt.synthetic_exposure(
        SHAPE, N_SLICES, rows_per_region=ROWS, n_sources=N_SOURCES, oversample=(2.0,)
    )
    print(
        f"workload: {SHAPE[0]}x{SHAPE[1]} NRS_IFU, {N_SLICES} slices of {ROWS} rows, "
        f"{N_SOURCES} with a source (built in {time.perf_counter() - t0:.1f} s); "
        f"pyspec {pyspec.__version__}, {available_cores()} cores"
    )
    nthreads = max(available_cores(), 1)
    cases = [
        ("oversample=1", {"oversample": 1.0}),
        ("oversample=2", {"oversample": 2.0}),
        ("psf_optimal, oversample=2", {"oversample": 2.0, "psf_optimal": True}),
    ]
    rows = []
    for label, kw in cases:
        row: dict = {"case": label}
        with pyspec_threads(1):
            row["t1"], _ = best_of(lambda kw=kw: run_pyspec(exp, **kw), args.repeat)
        with pyspec_threads(nthreads):
            with PeakRSS() as mem:
                run_pyspec(exp, **kw)
            row["tn"], _ = best_of(lambda kw=kw: run_pyspec(exp, **kw), args.repeat)
        row["mem"] = mem.extra_mb
        if not args.no_reference:
            try:
                row["tref"], row["how"] = time_jwst(exp, kw, args.quick)
            except ImportError:
                row["how"] = "jwst not installed"
        if row.get("tref"):
            row["r1"] = row["tref"] / row["t1"]
            row["rn"] = row["tref"] / row["tn"]
        rows.append(row)
        print(f"  {label}: done", flush=True)
    print()
    print(
        format_table(
            rows,
            [
                ("case", "workload", ""),
                ("tref", "jwst s", ".1f"),
                ("t1", "pyspec 1 thr s", ".2f"),
                ("tn", f"pyspec {nthreads} thr s", ".2f"),
                ("r1", "ratio 1 thr", ".1f"),
                ("rn", f"ratio {nthreads} thr", ".1f"),
                ("mem", "peak MiB", ".0f"),
                ("how", "jwst time", ""),
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
