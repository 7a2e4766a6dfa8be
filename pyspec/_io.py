"""Small file helpers: atomic writes and a minimal resampled-image FITS writer."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
from astropy.io import fits

__all__ = ["atomic_open", "write_i2d"]

_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open ``path`` for binary writing so that it appears complete or not at all.

    The content goes to a temporary file in the same directory (hidden name
    ``.<name>.<random>.tmp``), which is flushed, synced and renamed over
    ``path`` with :func:`os.replace` when the ``with`` block ends normally.
    On any exception (including ``KeyboardInterrupt``) the temporary file is
    removed and ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file; its directory must exist.

    Yields
    ------
    file object
        Binary file open for writing.
    """
    path = Path(path)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            # 0o666 & ~umask, like a normal open(); mkstemp would force 0o600.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        break
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_i2d(
    path: str | os.PathLike[str],
    sci: np.ndarray,
    wht: np.ndarray,
    con: np.ndarray | None,
    wcs_header: fits.Header,
    primary: Mapping[str, Any] | None = None,
    history: list[str] | None = None,
    bunit: str | None = None,
) -> None:
    """Write a resampled image as FITS (``SCI``, ``WHT``, ``CON`` extensions), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file name.
    sci : ndarray, ``(ny, nx)``
        Resampled science image (written as float32).
    wht : ndarray, ``(ny, nx)``
        Weight image (float32).
    con : ndarray of int32, ``(planes, ny, nx)`` or None
        Context bitfield image; omitted when None.
    wcs_header : astropy.io.fits.Header
        WCS keywords of the output grid (FITS 1-based ``CRPIX``), copied to
        ``SCI`` and ``WHT``.
    primary : mapping, optional
        Keywords for the primary header: ``{key: value}`` or
        ``{key: (value, comment)}``.
    history : list of str, optional
        ``HISTORY`` cards for the primary header.
    bunit : str, optional
        ``BUNIT`` of ``SCI``.
    """
    phdr = fits.Header()
    for key, value in (primary or {}).items():
        phdr[key] = value
    for line in history or []:
        phdr.add_history(line)
    hdus: list[fits.PrimaryHDU | fits.ImageHDU] = [fits.PrimaryHDU(header=phdr)]
    sci_hdr = wcs_header.copy()
    if bunit is not None:
        sci_hdr["BUNIT"] = bunit
    hdus.append(fits.ImageHDU(np.asarray(sci, dtype=np.float32), header=sci_hdr, name="SCI"))
    hdus.append(
        fits.ImageHDU(np.asarray(wht, dtype=np.float32), header=wcs_header.copy(), name="WHT")
    )
    if con is not None:
        hdus.append(fits.ImageHDU(np.asarray(con, dtype=np.int32), name="CON"))
    with atomic_open(path) as fh:
        fits.HDUList(hdus).writeto(fh)
