"""The ``pyspec`` command line.

Usage::

    pyspec demo [--output DIR] [--n-exposures N] [--size N] [--kernel K]
                [--pixfrac F] [--pixel-scale-ratio R] [--threads N] [--seed S]

``python -m pyspec.cli ...`` is equivalent.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import math
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, get_num_threads, set_num_threads
from ._io import atomic_open, write_i2d
from .datasets import DO_NOT_USE, SyntheticExposure, dithered_imaging, output_wcs_for
from .drizzle import SUPPORTED_DRIZZLE_KERNELS, Drizzle

__all__ = ["build_parser", "main"]

log = logging.getLogger("pyspec.cli")  # not "__main__" under python -m


# --------------------------------------------------------------------- helpers
def _positive_int(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _nonnegative_int(text: str) -> int:
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {v}")
    return v


def _positive_float(text: str) -> float:
    v = float(text)
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return v


def _ivm_weight(exp: SyntheticExposure) -> np.ndarray:
    """jwst ``weight_type="ivm"``: ``1/var_rnoise`` (non-finite -> 0), 0 on DO_NOT_USE pixels."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.float32(1.0) / exp.var_rnoise.astype(np.float32)
    w[~np.isfinite(w)] = 0.0
    w[(exp.dq & DO_NOT_USE) != 0] = 0.0
    return w.astype(np.float32)


def _flux_check(
    exposures: Sequence[SyntheticExposure], sci: np.ndarray, wht: np.ndarray, psr: float
) -> tuple[float, float]:
    """Sky-subtracted total flux of the inputs (mean) and of the mosaic.

    Both in DN/s summed over input-pixel areas: the mosaic sum over pixels
    with ``wht > 0`` is multiplied by the output/input pixel area ratio
    ``psr**2``. Input sums skip ``DO_NOT_USE`` pixels. The synthetic sources
    all lie where every exposure overlaps, so the two agree to the noise,
    the cosmic rays near the edges and the pixel-area variation of the
    distortion (well under a percent for the square kernel).
    """
    sky = float(exposures[0].meta.get("background_level", 0.0))
    fin = []
    for e in exposures:
        good = (e.dq & DO_NOT_USE) == 0
        fin.append(float(np.sum(e.data[good], dtype=np.float64)) - sky * int(good.sum()))
    covered = wht > 0
    fout = (float(np.sum(sci[covered], dtype=np.float64)) - sky * int(covered.sum())) * psr**2
    return float(np.mean(fin)), fout


def _display_limits(img: np.ndarray) -> tuple[float, float, float]:
    """``(lo, hi, soft)`` for :func:`_stretch`: 3 sigma below the median, the
    99.9th percentile, and an asinh softening of one noise sigma (robust MAD),
    so that the sky noise shows as a faint texture and bright stars do not
    saturate."""
    finite = img[np.isfinite(img)]
    if finite.size == 0:
        return 0.0, 1.0, 0.1
    med = float(np.median(finite))
    sigma = 1.4826 * float(np.median(np.abs(finite - med)))
    hi = float(np.percentile(finite, 99.9))
    lo = med - 3.0 * sigma
    if not hi > lo:
        hi = lo + 1.0
    soft = max(sigma / (hi - lo), 1e-6)
    return lo, hi, soft


def _stretch(img: np.ndarray, lo: float, hi: float, soft: float) -> np.ndarray:
    """Asinh stretch of ``img`` from ``[lo, hi]`` to ``[0, 1]`` (NaN kept)."""
    v = np.clip((img - lo) / (hi - lo), 0.0, 1.0)
    return np.arcsinh(v / soft) / np.arcsinh(1.0 / soft)


def _inputs_per_pixel(con: np.ndarray | None, n_inputs: int) -> np.ndarray | None:
    """Number of set context bits per output pixel (inputs that contributed)."""
    if con is None:
        return None
    bits = con.view(np.uint32)
    count = np.zeros(con.shape[1:], dtype=np.int32)
    for p in range(bits.shape[0]):
        for k in range(min(32, max(n_inputs - 32 * p, 0))):
            count += ((bits[p] >> np.uint32(k)) & np.uint32(1)).astype(np.int32)
    return count


def _zoom_box(centre: tuple[float, float], half: int, shape: tuple[int, int]) -> tuple[int, ...]:
    """Integer box ``(x0, x1, y0, y1)`` (exclusive ends) of side ``2*half`` inside ``shape``."""
    ny, nx = shape
    x0 = int(np.clip(round(centre[0]) - half, 0, max(nx - 2 * half, 0)))
    y0 = int(np.clip(round(centre[1]) - half, 0, max(ny - 2 * half, 0)))
    return x0, min(x0 + 2 * half, nx), y0, min(y0 + 2 * half, ny)


def _box_patch(box: tuple[int, ...]) -> Any:
    """Outline of the pixel box ``(x0, x1, y0, y1)`` (exclusive ends)."""
    from matplotlib.patches import Rectangle

    x0, x1, y0, y1 = box
    return Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="#ffd166", lw=1.0)


def _write_preview(
    path: Path,
    exposure: SyntheticExposure,
    n_exposures: int,
    mosaic: np.ndarray,
    wht: np.ndarray,
    con: np.ndarray | None,
    pixmap: np.ndarray,
    outlines: list[np.ndarray],
    psr: float,
    title: str,
) -> None:
    """PNG preview, written atomically.

    Top row: input exposure 1 (detector frame), the mosaic (same asinh
    stretch), the weight map with the input footprints. Bottom row: the same
    sky region zoomed in the input and in the mosaic (cosmic rays visible),
    and the number of inputs per mosaic pixel decoded from the context image.
    """
    from matplotlib.figure import Figure

    lo, hi, soft = _display_limits(mosaic if np.isfinite(mosaic).any() else exposure.data)
    gray = _colormap("gray", bad="#1b2838")
    colors = ["#ff6f61", "#ffd166", "#06d6a0", "#4cc9f0", "#c77dff", "#f8961e"]
    ny, nx = exposure.shape
    oy, ox = mosaic.shape

    # a fixed layout: "constrained" would double the rendering time
    fig = Figure(figsize=(16.5, 11.0), dpi=100)
    fig.subplots_adjust(left=0.04, right=0.97, bottom=0.05, top=0.9, wspace=0.3, hspace=0.28)
    axes = fig.subplots(2, 3)
    img_kw: dict[str, Any] = {"origin": "lower", "cmap": gray, "vmin": 0, "vmax": 1}

    # zoom: a region around the input centre and the same sky in the mosaic
    half = max(min(64, nx // 4, ny // 4), 4)
    zin = _zoom_box(((nx - 1) / 2, (ny - 1) / 2), half, (ny, nx))
    cx, cy = (zin[0] + zin[1] - 1) / 2, (zin[2] + zin[3] - 1) / 2
    mx, my = pixmap[int(round(cy)), int(round(cx))]
    if not (np.isfinite(mx) and np.isfinite(my)):
        mx, my = (ox - 1) / 2, (oy - 1) / 2
    hout = max(int(round(half / psr)), 4)
    zout = _zoom_box((float(mx), float(my)), hout, (oy, ox))

    ax = axes[0, 0]
    ax.imshow(_stretch(exposure.data, lo, hi, soft), **img_kw)
    ax.add_patch(_box_patch(zin))
    ax.set_title(
        f"input 1 of {n_exposures}: {exposure.meta.get('filename', '')}\n"
        f"{nx} x {ny} px, detector frame (SIP-distorted)"
    )
    ax = axes[0, 1]
    ax.imshow(_stretch(mosaic, lo, hi, soft), **img_kw)
    ax.add_patch(_box_patch(zout))
    ax.set_title(f"drizzled mosaic\n{ox} x {oy} px, north up, east left")
    ax = axes[0, 2]
    im = ax.imshow(wht, origin="lower", cmap="viridis", interpolation="nearest")
    for k, xy in enumerate(outlines):
        closed = np.vstack([xy, xy[:1]])
        ax.plot(closed[:, 0], closed[:, 1], lw=0.8, color=colors[k % len(colors)])
    ax.set_xlim(-0.5, ox - 0.5)
    ax.set_ylim(-0.5, oy - 0.5)
    ax.set_title("weight (inverse read-noise variance)\ninput footprints outlined")
    fig.colorbar(im, ax=ax, shrink=0.8, label="weight")

    ext_in = (zin[0] - 0.5, zin[1] - 0.5, zin[2] - 0.5, zin[3] - 0.5)
    ext_out = (zout[0] - 0.5, zout[1] - 0.5, zout[2] - 0.5, zout[3] - 0.5)
    ax = axes[1, 0]
    crop = exposure.data[zin[2] : zin[3], zin[0] : zin[1]]
    ax.imshow(_stretch(crop, lo, hi, soft), extent=ext_in, interpolation="nearest", **img_kw)
    ax.set_title("input 1, zoom (cosmic rays are not yet removed)")
    ax = axes[1, 1]
    crop = mosaic[zout[2] : zout[3], zout[0] : zout[1]]
    ax.imshow(_stretch(crop, lo, hi, soft), extent=ext_out, interpolation="nearest", **img_kw)
    ax.set_title("mosaic, same sky region")
    ax = axes[1, 2]
    count = _inputs_per_pixel(con, n_exposures)
    if count is not None:
        cmap = _colormap("magma", bad="#1b2838").resampled(n_exposures + 1)
        im = ax.imshow(
            count,
            origin="lower",
            cmap=cmap,
            vmin=-0.5,
            vmax=n_exposures + 0.5,
            interpolation="nearest",
        )
        fig.colorbar(
            im,
            ax=ax,
            shrink=0.8,
            label="inputs",
            ticks=range(n_exposures + 1) if n_exposures <= 12 else None,
        )
        ax.set_title("inputs per mosaic pixel (from the context image CON)")
    else:
        ax.set_axis_off()
    for ax in axes.ravel():
        ax.set_xlabel("x [px]")
        ax.set_ylabel("y [px]")
    fig.suptitle(title)
    with atomic_open(path) as fh:
        fig.savefig(fh, format="png")


def _colormap(name: str, bad: str) -> Any:
    import matplotlib

    return matplotlib.colormaps[name].with_extremes(bad=bad)


# ------------------------------------------------------------------------ demo
def _cmd_demo(args: argparse.Namespace) -> int:
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    fits_path = out_dir / "mosaic_i2d.fits"
    png_path = out_dir / "mosaic_preview.png"
    try:
        import matplotlib  # noqa: F401

        have_mpl = True
    except ImportError:
        have_mpl = False

    previous_threads = get_num_threads()
    if args.threads is not None:
        set_num_threads(args.threads)
    try:
        return _run_demo(args, fits_path, png_path, have_mpl)
    finally:
        if args.threads is not None:
            set_num_threads(previous_threads)


def _run_demo(args: argparse.Namespace, fits_path: Path, png_path: Path, have_mpl: bool) -> int:
    from .wcs import calc_pixmap

    t_start = time.perf_counter()
    n = args.n_exposures
    size = args.size
    exposures = dithered_imaging(n_exposures=n, shape=(size, size), seed=args.seed)
    t_data = time.perf_counter()

    out_wcs, out_shape = output_wcs_for(exposures, pixel_scale_ratio=args.pixel_scale_ratio)
    psr = float(args.pixel_scale_ratio)
    pixmaps = [calc_pixmap(e.wcs, out_wcs, shape=e.shape) for e in exposures]
    t_pixmap = time.perf_counter()

    driz = Drizzle(kernel=args.kernel, fillval="NaN", out_shape=out_shape, max_ctx_id=n - 1)
    for e, pixmap in zip(exposures, pixmaps, strict=True):
        driz.add_image(
            e.data,
            exptime=e.exptime,
            pixmap=pixmap,
            weight_map=_ivm_weight(e),
            pixfrac=args.pixfrac,
            pixel_scale_ratio=psr,
            iscale=1.0,
        )
    t_driz = time.perf_counter()
    sci, wht, con = driz.out_img, driz.out_wht, driz.out_ctx
    assert sci is not None and wht is not None

    f_in, f_out = _flux_check(exposures, sci, wht, psr)
    threads = get_num_threads()
    bunit = str(exposures[0].meta["bunit_data"])
    primary: dict[str, Any] = {
        "ORIGIN": ("pyspec", "institution or software that wrote the file"),
        "CREATOR": (f"pyspec {__version__} demo", "software that created the file"),
        "DATE": (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
            "UTC date the file was written",
        ),
        "FILETYPE": ("resampled synthetic imaging", ""),
        "DATASET": ("pyspec.datasets.dithered_imaging", "input generator"),
        "DSEED": (args.seed, "dataset seed"),
        "DSIZE": (size, "[px] input size (square)"),
        "NINPUTS": (n, "number of input exposures"),
        "TEXPTIME": (float(driz.total_exptime), "[s] total exposure time"),
        "KERNEL": (args.kernel, "drizzle kernel"),
        "PIXFRAC": (args.pixfrac, "drizzle pixel fraction"),
        "PXSCLRT": (psr, "output/input pixel scale ratio"),
        "PIXSCALE": (exposures[0].meta["pixel_scale"] * psr, "[arcsec] output pixel scale"),
        "WHTTYPE": ("ivm", "weights: 1/var_rnoise, 0 on DO_NOT_USE"),
        "FILLVAL": ("NaN", "value of pixels with zero weight"),
        "NTHREADS": (threads, "pyspec threads"),
        "FLUXIN": (f_in, f"[{bunit} px] mean sky-subtracted input flux"),
        "FLUXOUT": (f_out, f"[{bunit} px] sky-subtracted mosaic flux"),
    }
    history = [f"pyspec demo, command: {' '.join(shlex.quote(a) for a in args.argv)}"]
    for k, e in enumerate(exposures):
        dx, dy = e.meta["dither"]
        history.append(
            f"input {k}: {e.meta['filename']} dither=({dx:.3f},{dy:.3f}) px "
            f"rot={e.meta['rotation']:+.4f} deg exptime={e.exptime:g} s"
        )
    history.append(f"numpy {np.__version__}")
    write_i2d(
        fits_path, sci, wht, con, out_wcs.to_header(), primary=primary, history=history, bunit=bunit
    )
    t_write = time.perf_counter()

    wrote = [str(fits_path)]
    if have_mpl:
        outlines = []
        for e in exposures:
            fp = e.footprint(samples_per_edge=8)
            ox, oy = out_wcs.world_to_pixel_values(fp[:, 0], fp[:, 1])
            outlines.append(np.column_stack([ox, oy]))
        title = (
            f"pyspec demo: {n} dithered exposures, kernel={args.kernel}, "
            f"pixfrac={args.pixfrac:g}, pixel scale ratio={psr:g}, seed={args.seed}"
        )
        _write_preview(png_path, exposures[0], n, sci, wht, con, pixmaps[0], outlines, psr, title)
        wrote.append(str(png_path))
    t_end = time.perf_counter()

    covered = float(np.mean(wht > 0)) * 100.0
    ratio = f_out / f_in if f_in != 0 else float("nan")
    oy, ox = out_shape
    print(f"pyspec demo: {n} synthetic exposures of {size} x {size} px (seed {args.seed})")
    print(
        f"  output    {ox} x {oy} px, {exposures[0].meta['pixel_scale'] * psr:.4f} arcsec/px, "
        f"{covered:.1f}% of pixels with weight > 0"
    )
    print(
        f"  drizzle   kernel={args.kernel} pixfrac={args.pixfrac:g} "
        f"pixel_scale_ratio={psr:g} threads={threads}"
    )
    print(
        f"  time      data {t_data - t_start:.2f} s, pixel maps {t_pixmap - t_data:.2f} s, "
        f"drizzle {t_driz - t_pixmap:.2f} s, write {t_end - t_driz:.2f} s, "
        f"total {t_end - t_start:.2f} s"
    )
    print(
        f"  flux      inputs {f_in:.6g} {bunit} px (mean, sky-subtracted), mosaic {f_out:.6g}, "
        f"ratio {ratio:.5f}"
    )
    if not have_mpl:
        print("  preview   skipped: matplotlib is not installed (pip install 'pyspec[demo]')")
    print(f"  wrote     {', '.join(wrote)}")
    log.debug("demo finished in %.2f s (fits %.2f s)", t_end - t_start, t_write - t_driz)
    return 0


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The ``pyspec`` argument parser (one subparser per command)."""
    parser = argparse.ArgumentParser(
        prog="pyspec",
        description="Fast, exact, parallel JWST drizzle resampling, outlier detection "
        "and adaptive trace models.",
    )
    parser.add_argument("--version", action="version", version=f"pyspec {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="drizzle a built-in synthetic dithered data set into a mosaic",
        description="Generate deterministic synthetic dithered exposures (stars, galaxies, "
        "SIP distortion, noise, cosmic rays), drizzle them onto a north-up grid with "
        "inverse read-noise variance weights, and write DIR/mosaic_i2d.fits "
        "(SCI, WHT, CON) and DIR/mosaic_preview.png.",
    )
    demo.add_argument("--output", "-o", default="out", metavar="DIR", help="output directory")
    demo.add_argument(
        "--n-exposures", type=_positive_int, default=4, metavar="N", help="number of exposures"
    )
    demo.add_argument(
        "--size", type=int, default=1024, metavar="N", help="input image size (N x N pixels)"
    )
    demo.add_argument(
        "--kernel",
        default="square",
        type=str.lower,
        choices=SUPPORTED_DRIZZLE_KERNELS,
        help="drizzle kernel",
    )
    demo.add_argument(
        "--pixfrac", type=_positive_float, default=1.0, metavar="F", help="drizzle pixfrac"
    )
    demo.add_argument(
        "--pixel-scale-ratio",
        type=_positive_float,
        default=1.0,
        metavar="R",
        help="output/input pixel scale ratio",
    )
    demo.add_argument(
        "--threads",
        type=_nonnegative_int,
        default=None,
        metavar="N",
        help="pyspec threads (0: RAYON_NUM_THREADS or all cores)",
    )
    demo.add_argument("--seed", type=int, default=0, metavar="S", help="dataset seed")
    demo.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``pyspec`` command; returns the process exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.command == "demo" and args.size < 16:
        parser.error(f"--size must be >= 16, got {args.size}")
    args.argv = ["pyspec", *argv]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.verbose:
        logging.getLogger("pyspec").setLevel(logging.INFO if args.verbose == 1 else logging.DEBUG)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # e.g. ``pyspec demo | head``: the files are written
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
