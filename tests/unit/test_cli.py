"""The ``pyspec`` command line: ``pyspec demo``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from pyspec import _io
from pyspec.cli import main
from pyspec.datasets import DO_NOT_USE, dithered_imaging

pytest.importorskip("matplotlib")

TINY = ["--n-exposures", "2", "--size", "128", "--seed", "5"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--output", str(out), "--threads", "1", *TINY]) == 0
    return out


def test_demo_writes_fits_and_png_and_no_temporary_files(demo_dir):
    assert sorted(p.name for p in demo_dir.iterdir()) == ["mosaic_i2d.fits", "mosaic_preview.png"]
    assert (demo_dir / "mosaic_preview.png").read_bytes()[:8] == PNG_SIGNATURE


def test_demo_fits_has_sci_wht_con_and_the_output_wcs(demo_dir):
    with fits.open(demo_dir / "mosaic_i2d.fits") as hdul:
        hdul.verify("exception")
        assert [h.name for h in hdul] == ["PRIMARY", "SCI", "WHT", "CON"]
        prim = hdul[0].header
        assert prim["NINPUTS"] == 2 and prim["KERNEL"] == "square" and prim["DSEED"] == 5
        assert prim["CREATOR"].startswith("pyspec")
        sci, wht, con = hdul["SCI"].data, hdul["WHT"].data, hdul["CON"].data
        assert sci.dtype == np.dtype(">f4") and wht.dtype == np.dtype(">f4")
        assert con.dtype == np.dtype(">i4") and con.shape == (1, *sci.shape)
        assert wht.shape == sci.shape
        assert hdul["SCI"].header["BUNIT"] == "DN/s"
        w = WCS(hdul["SCI"].header)
        assert w.wcs.ctype[0] == "RA---TAN"
        # pixels with weight have data and a context bit from one of the 2 inputs
        covered = wht > 0
        assert covered.mean() > 0.5
        assert np.all(np.isfinite(sci[covered])) and np.all(np.isnan(sci[~covered]))
        assert np.array_equal(con[0] != 0, covered)
        assert np.all((con[0] & ~np.int32(0b11)) == 0)
        assert np.count_nonzero(con[0] == 0b11) > 0.5 * covered.sum()


def test_demo_mosaic_conserves_the_input_flux(demo_dir):
    exps = dithered_imaging(n_exposures=2, shape=(128, 128), seed=5)
    sky = exps[0].meta["background_level"]
    f_in = np.mean([np.sum(e.data[(e.dq & DO_NOT_USE) == 0] - sky, dtype=np.float64) for e in exps])
    with fits.open(demo_dir / "mosaic_i2d.fits") as hdul:
        sci, wht = hdul["SCI"].data, hdul["WHT"].data
        covered = wht > 0
        f_out = np.sum(sci[covered].astype(np.float64) - sky)
        assert hdul[0].header["FLUXOUT"] == pytest.approx(f_out, rel=1e-6)
    assert f_in > 0
    assert f_out == pytest.approx(f_in, rel=0.03)


def test_demo_result_does_not_depend_on_thread_count(demo_dir, tmp_path):
    assert main(["demo", "--output", str(tmp_path), "--threads", "2", *TINY]) == 0
    with (
        fits.open(demo_dir / "mosaic_i2d.fits") as a,
        fits.open(tmp_path / "mosaic_i2d.fits") as b,
    ):
        for name in ("SCI", "WHT", "CON"):
            np.testing.assert_array_equal(a[name].data, b[name].data)


def test_demo_prints_a_summary(tmp_path, capsys):
    args = ["demo", "-o", str(tmp_path), "--kernel", "turbo", "--pixfrac", "0.8", *TINY]
    assert main([*args, "--pixel-scale-ratio", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "2 synthetic exposures of 128 x 128" in out
    assert "kernel=turbo" in out and "pixfrac=0.8" in out
    assert "flux" in out and "ratio" in out
    with fits.open(tmp_path / "mosaic_i2d.fits") as hdul:
        assert hdul[0].header["PXSCLRT"] == 1.5
        assert hdul["SCI"].data.shape[0] < 128


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def broken_writeto(self, fileobj, *args, **kwargs):
        fileobj.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(_io.fits.HDUList, "writeto", broken_writeto)
    with pytest.raises(OSError, match="disk full"):
        main(["demo", "--output", str(tmp_path), *TINY])
    assert list(tmp_path.iterdir()) == []


def test_atomic_open_keeps_the_old_file_on_error(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), _io.atomic_open(target) as fh:
        fh.write(b"new, incomplete")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
    with _io.atomic_open(target) as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--kernel", "nope"],
        ["demo", "--pixfrac", "0"],
        ["demo", "--n-exposures", "0"],
        ["demo", "--size", "4"],
        ["demo", "--threads", "-1"],
        ["no-such-command"],
    ],
)
def test_bad_arguments_exit_with_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_no_command_prints_help_and_returns_2(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().err


def test_python_dash_m_runs_the_demo(tmp_path):
    root = Path(__file__).resolve().parents[2]
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyspec.cli",
            "demo",
            "--output",
            str(tmp_path / "out"),
            "--n-exposures",
            "2",
            "--size",
            "64",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "pyspec demo" in res.stdout
    assert (tmp_path / "out" / "mosaic_i2d.fits").is_file()
