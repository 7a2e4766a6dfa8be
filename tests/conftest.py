"""Shared pytest configuration: Hypothesis profiles and the shared data dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Directory of the real data files (``../shared/data`` beside the checkout)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data directory not found: {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def trace_exposure():
    """Factory of the small synthetic exposure of the trace tests.

    ``trace_exposure(mode, oversample=..., **gen)`` calls
    :func:`pyspec.trace.synthetic_exposure` with the working-frame geometry
    shared by the unit and parity tests (120 x 200 pixels, three regions of
    30 rows; slit modes keep one); ``gen`` are its other keywords.
    """
    from pyspec import trace as pt

    def make(mode="NRS_IFU", *, oversample=(1.5, 2.0, 3.0), **gen):
        return pt.synthetic_exposure(
            (120, 200), 3, mode=mode, rows_per_region=30, oversample=oversample, **gen
        )

    return make


@pytest.fixture(scope="session")
def fit_trace():
    """``fit_trace(exp, **kw)``: :func:`pyspec.trace.fit_and_oversample` on a
    :class:`~pyspec.trace.SyntheticExposure` (its data, error, alpha, regions,
    DQ and variances, its mode and the ``alpha_os`` of the requested factor,
    unless ``kw`` gives them)."""
    from pyspec import trace as pt

    def fit(exp, **kw):
        kw.setdefault("mode", exp.mode)
        kw.setdefault("alpha_os", exp.alpha_os.get(float(kw.get("oversample", 1.0))))
        arrays = {"dq": exp.dq, "var_rnoise": exp.var_rnoise, "var_poisson": exp.var_poisson}
        return pt.fit_and_oversample(exp.data, exp.err, exp.alpha, exp.regions, **arrays, **kw)

    return fit
