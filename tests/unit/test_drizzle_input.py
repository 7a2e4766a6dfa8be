"""Bad and unusual input to pyspec.drizzle: every case gives the reference's
result or a clear Python exception, never a crash or a silent garbage array."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pyspec import _core
from pyspec.drizzle import Drizzle, decode_context

SHAPE = (10, 12)


def identity(shape=SHAPE):
    y, x = np.indices(shape, dtype=np.float64)
    return np.dstack([x, y])


def data(shape=SHAPE):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


def run(kernel="square", out_shape=SHAPE, **kw):
    args = {"exptime": 1.0, "pixmap": identity()}
    args.update(kw)
    d = Drizzle(kernel=kernel, out_shape=out_shape, fillval="0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d.add_image(args.pop("data", data()), **args)
    return d


def test_float64_and_integer_inputs_are_converted_like_the_reference():
    ref = run()
    conv = run(data=data().astype(np.float64), weight_map=np.ones(SHAPE, np.int64))
    np.testing.assert_array_equal(conv.out_img, ref.out_img)
    np.testing.assert_array_equal(conv.out_wht, ref.out_wht)


def test_fortran_ordered_and_strided_inputs_give_the_same_result():
    ref = run()
    fortran = run(data=np.asfortranarray(data()), pixmap=np.asfortranarray(identity()))
    big = np.zeros((20, 24), np.float32)
    big[::2, ::2] = data()
    strided = run(data=big[::2, ::2])
    for d in (fortran, strided):
        np.testing.assert_array_equal(d.out_img, ref.out_img)
        np.testing.assert_array_equal(d.out_wht, ref.out_wht)


def test_read_only_inputs_are_accepted_and_not_modified():
    a = data()
    pm = identity()
    a.setflags(write=False)
    pm.setflags(write=False)
    d = run(data=a, pixmap=pm)
    np.testing.assert_array_equal(d.out_img, data())
    np.testing.assert_array_equal(a, data())


def test_inputs_are_not_modified():
    a, pm = data(), identity() + 0.3
    a0, pm0 = a.copy(), pm.copy()
    run(data=a, pixmap=pm, weight_map=np.ones(SHAPE, np.float32), dq=np.ones(SHAPE, np.uint16))
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(pm, pm0)


def test_read_only_output_image_raises_clear_error():
    out = np.zeros(SHAPE, np.float32)
    out.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        Drizzle(out_img=out)


def test_output_arrays_of_another_dtype_are_converted_like_the_reference():
    out_img = np.zeros(SHAPE, np.float64)
    d = Drizzle(out_img=out_img, out_wht=np.zeros(SHAPE, np.float64), fillval="0")
    d.add_image(data(), exptime=1.0, pixmap=identity())
    assert d.out_img.dtype == np.float32 and d.out_wht.dtype == np.float32
    np.testing.assert_array_equal(d.out_img, data())


def test_out_dq_of_wide_integer_type_raises_type_error():
    with pytest.raises(TypeError, match="out_dq"):
        Drizzle(out_dq=np.zeros(SHAPE, np.int64))
    with pytest.raises(TypeError, match="out_dq"):
        Drizzle(out_dq=np.zeros(SHAPE, np.float32))


def test_dq_of_wide_integer_type_raises_type_error():
    with pytest.raises(TypeError, match="'dq'"):
        run(dq=np.ones(SHAPE, np.int64))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pixmap": identity((10, 11))}, "pixmap"),
        ({"pixmap": np.zeros((10, 12, 3))}, "pixmap"),
        ({"weight_map": np.ones((10, 11), np.float32)}, "weight_map"),
        ({"dq": np.ones((9, 12), np.uint32)}, "'dq'"),
        ({"data2": np.ones((9, 12), np.float32)}, "data2"),
    ],
)
def test_mismatched_shapes_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


def test_output_shapes_must_agree():
    with pytest.raises(ValueError, match="Inconsistent"):
        Drizzle(out_shape=(5, 5), out_img=np.zeros((5, 6), np.float32))


@pytest.mark.parametrize("pm_value", [np.nan])
def test_all_nan_pixmap_raises_like_the_reference(pm_value):
    with pytest.raises(ValueError, match="too few valid pixels"):
        run(pixmap=np.full(SHAPE + (2,), pm_value))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e30, -1e30, np.nan])
@pytest.mark.parametrize("kernel", ["square", "point", "turbo", "gaussian", "lanczos3"])
def test_non_finite_or_huge_pixmap_entries_give_finite_output(bad, kernel):
    pm = identity()
    pm[:, 3] = bad
    d = run(kernel=kernel, pixmap=pm)
    assert np.all(np.isfinite(d.out_img))
    assert np.all(np.isfinite(d.out_wht))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e30, -1e30, np.nan])
@pytest.mark.parametrize("kernel", ["square", "point", "turbo"])
def test_non_finite_or_huge_pixmap_entries_drop_only_nearby_pixels(bad, kernel):
    pm = identity()
    pm[:, 3] = bad
    d = run(kernel=kernel, pixmap=pm)
    # the bad column receives nothing; columns away from it are exact
    assert d.out_wht[:, 3].max() == 0.0
    np.testing.assert_array_equal(d.out_img[:, 6:], data()[:, 6:])
    np.testing.assert_array_equal(d.out_wht[:, 6:], 1.0)


@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (1, 12), (10, 1)])
def test_empty_or_degenerate_inputs_raise_value_error(shape):
    with pytest.raises(ValueError, match="too few valid pixels"):
        Drizzle(out_shape=SHAPE).add_image(
            np.zeros(shape, np.float32), exptime=1.0, pixmap=np.zeros(shape + (2,))
        )


@pytest.mark.parametrize("pixfrac", [0.0, -1.0, 0.001])
def test_tiny_or_negative_pixfrac_switches_to_point_kernel_with_warning(pixfrac):
    d = Drizzle(out_shape=SHAPE, fillval="0")
    with pytest.warns(UserWarning, match="point"):
        d.add_image(data(), exptime=1.0, pixmap=identity() + 0.2, pixfrac=pixfrac)
    p = run(kernel="point", pixmap=identity() + 0.2)
    np.testing.assert_array_equal(d.out_img, p.out_img)


def test_nan_pixfrac_raises():
    with pytest.raises(ValueError, match="pixfrac"):
        run(pixfrac=np.nan)


@pytest.mark.parametrize("exptime", [0.0, -1.0])
def test_non_positive_exptime_raises(exptime):
    with pytest.raises(ValueError, match="exptime"):
        run(exptime=exptime)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"iscale": 0.0}, "iscale"),
        ({"iscale": np.inf}, "iscale"),
        ({"wht_scale": 0.0}, "weight scale"),
        ({"pixel_scale_ratio": 0.0, "kernel": "turbo"}, "pscale_ratio"),
        ({"in_units": "furlongs"}, "Unknown unit"),
        ({"xmin": 5, "xmax": 5}, "range"),
    ],
)
def test_invalid_parameters_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run(**kwargs)


def test_unknown_kernel_raises_value_error():
    with pytest.raises(ValueError, match="Kernel 'bilinear' is not supported"):
        Drizzle(kernel="bilinear")
    with pytest.raises(ValueError, match="not supported"):
        _core.add_image(
            data(), np.ones(SHAPE, np.float32), identity(), np.zeros(SHAPE, np.float32),
            np.zeros(SHAPE, np.float32), kernel="nope",
        )  # fmt: skip


def test_core_binding_rejects_wrong_dtypes_with_type_error():
    with pytest.raises(TypeError):
        _core.add_image(
            data().astype(np.float64), np.ones(SHAPE, np.float32), identity(),
            np.zeros(SHAPE, np.float32), np.zeros(SHAPE, np.float32),
        )  # fmt: skip


def test_core_binding_rejects_aliased_outputs():
    out = np.zeros(SHAPE, np.float32)
    with pytest.raises(Exception, match="(?i)borrow|alias|already"):
        _core.add_image(data(), np.ones(SHAPE, np.float32), identity(), out, out)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="non-negative"):
        Drizzle(exptime=-1.0)
    with pytest.raises(ValueError, match="Invalid context image ID"):
        Drizzle(begin_ctx_id=-1)
    with pytest.raises(ValueError, match="max_ctx_id"):
        Drizzle(begin_ctx_id=3, max_ctx_id=1)
    with pytest.raises(ValueError):
        Drizzle(fillval="not a number")


def test_shape_derived_from_pixmap_is_numpy_ordered():
    """The reference transposes this shape; pyspec uses (ny, nx) (documented)."""
    shape = (6, 15)
    y, x = np.indices(shape, dtype=np.float64)
    d = Drizzle(fillval="0")
    d.add_image(np.ones(shape, np.float32), exptime=1.0, pixmap=np.dstack([x + 3, y + 2]))
    assert d.out_img.shape == shape
    np.testing.assert_array_equal(d.out_wht, np.ones(shape, np.float32))


def test_decode_context_rejects_bad_arguments():
    ctx = np.zeros((1, 3, 3), np.int32)
    with pytest.raises(ValueError, match="3D"):
        decode_context(ctx[0], 0, 0)
    with pytest.raises(ValueError, match="equal length"):
        decode_context(ctx, [0, 1], [0])
    with pytest.raises(ValueError, match="integer"):
        decode_context(ctx, 0.5, 0)
    with pytest.raises(IndexError):
        decode_context(ctx, 5, 0)
