"""Unit tests of pyspec blot_image (no reference package needed).

Pins the deliberate differences from drizzle 2.2.0 (nearest clamps at the
row end, poly3/poly5 mirror the top edge correctly, sinc is the intended
tapered sinc), thread-count independence, and input validation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pyspec
from pyspec._blot import blot_image

INTERPS = ["nearest", "linear", "poly3", "poly5", "sinc", "lsinc", "lan3", "lan5"]


def grid_pixmap(xs, ys):
    """Pixel map sampling every (x, y) of the two 1-D coordinate lists."""
    x, y = np.meshgrid(np.asarray(xs, np.float64), np.asarray(ys, np.float64))
    return np.dstack([x, y])


def ramp(shape, a=0.5, b=2.0, c=3.0):
    y, x = np.indices(shape)
    return (a * x + b * y + c).astype(np.float32)


# --- deliberate differences -------------------------------------------------


def test_nearest_clamps_to_the_last_column_instead_of_reading_the_next_row():
    data = np.arange(20, dtype=np.float32).reshape(4, 5) * 10
    pm = grid_pixmap([4.5, 4.75, 4.999], [1.0])
    out = blot_image(data, pm, interp="nearest")
    np.testing.assert_array_equal(out, [[data[1, 4]] * 3])  # not data[2, 0]


def test_nearest_clamps_to_the_last_row_and_last_pixel():
    data = np.arange(20, dtype=np.float32).reshape(4, 5) * 10
    out = blot_image(data, grid_pixmap([2.0, 4.6], [3.5, 3.9]), interp="nearest")
    np.testing.assert_array_equal(out, [[data[3, 2], data[3, 4]], [data[3, 2], data[3, 4]]])


def test_nearest_rounds_half_up():
    data = np.arange(20, dtype=np.float32).reshape(4, 5)
    out = blot_image(data, grid_pixmap([0.49, 0.5, 1.5, 2.4999], [0.5]), interp="nearest")
    np.testing.assert_array_equal(out, [[data[1, 0], data[1, 1], data[1, 2], data[1, 2]]])


@pytest.mark.parametrize("interp", ["poly3", "poly5"])
def test_poly_reproduces_a_linear_ramp_exactly_in_the_top_rows(interp):
    ny, nx = 9, 8
    data = ramp((ny, nx))
    # dyadic positions: every f32 operation on this integer ramp is exact
    xs = np.arange(0, nx, 0.25)
    ys = np.arange(ny - 4, ny, 0.125)  # the rows where the reference is wrong
    out = blot_image(data, grid_pixmap(xs, ys), interp=interp)
    x, y = np.meshgrid(xs, ys)
    np.testing.assert_array_equal(out, (0.5 * x + 2.0 * y + 3.0).astype(np.float32))


@pytest.mark.parametrize("interp", ["poly3", "poly5"])
def test_poly_reproduces_a_linear_ramp_at_arbitrary_positions_near_all_edges(interp):
    ny, nx = 7, 6
    data = ramp((ny, nx), a=-1.25, b=0.75, c=10.0)
    rng = np.random.default_rng(1)
    pm = np.dstack([rng.uniform(0, nx, (30, 30)), rng.uniform(0, ny, (30, 30))])
    out = blot_image(data, pm, interp=interp)
    x, y = pm[..., 0].astype(np.float32), pm[..., 1].astype(np.float32)
    np.testing.assert_allclose(out, -1.25 * x + 0.75 * y + 10.0, rtol=0, atol=5e-6)


@pytest.mark.parametrize("interp", ["poly3", "poly5"])
def test_poly_reproduces_a_quadratic_in_the_interior(interp):
    y, x = np.indices((12, 12))
    data = (0.25 * x**2 - 0.5 * x * y + y).astype(np.float32)
    xs = np.arange(3, 8, 0.25)
    out = blot_image(data, grid_pixmap(xs, xs), interp=interp)
    xx, yy = np.meshgrid(xs, xs)
    np.testing.assert_allclose(out, 0.25 * xx**2 - 0.5 * xx * yy + yy, atol=1e-5)


@pytest.mark.parametrize("interp", ["sinc", "lsinc"])
@pytest.mark.parametrize("sinscl", [1.0, 0.6, 2.5])
def test_sinc_reproduces_a_constant_image(interp, sinscl):
    data = np.full((20, 25), 3.25, np.float32)
    rng = np.random.default_rng(2)
    pm = np.dstack([rng.uniform(0, 25, (15, 15)), rng.uniform(0, 20, (15, 15))])
    out = blot_image(data, pm, interp=interp, sinscl=sinscl)
    np.testing.assert_allclose(out, 3.25, rtol=1e-6)


@pytest.mark.parametrize("interp", ["sinc", "lsinc", "linear", "poly3", "poly5", "nearest"])
def test_integer_positions_return_the_pixel_exactly(interp):
    data = np.random.default_rng(3).normal(0, 10, (9, 11)).astype(np.float32)
    y, x = np.indices(data.shape)
    out = blot_image(data, np.dstack([x, y]).astype(np.float64), interp=interp)
    np.testing.assert_array_equal(out, data)


def test_sinc_is_a_smooth_interpolant_and_lsinc_equals_sinc():
    y, x = np.indices((60, 60))
    data = (np.sin(x / 5.0) * np.cos(y / 6.0) * 100 + 200).astype(np.float32)
    yy, xx = np.indices((40, 40), dtype=np.float64)
    pm = np.dstack([xx + 10.3, yy + 10.6])
    truth = np.sin(pm[..., 0] / 5.0) * np.cos(pm[..., 1] / 6.0) * 100 + 200
    sinc = blot_image(data, pm, interp="sinc")
    np.testing.assert_allclose(sinc, truth, atol=0.02)
    np.testing.assert_array_equal(blot_image(data, pm, interp="lsinc"), sinc)


def test_lanczos_is_not_renormalised():
    data = np.ones((30, 30), np.float32)
    out = blot_image(data, grid_pixmap([15.3, 0.3], [15.6]), interp="lan3")
    assert 1e-3 < abs(out[0, 0] - 1.0) < 1e-2  # sub-percent error in the interior
    assert abs(out[0, 1] - 1.0) > 0.05  # clipped window at the edge


# --- geometry of the inside test, fill values, scaling -----------------------


@pytest.mark.parametrize("interp", INTERPS)
def test_inside_is_zero_to_n_with_half_pixel_asymmetry(interp):
    data = np.ones((4, 5), np.float32)
    xs = [-0.5, -1e-7, 0.0, 4.99, 5.0, np.inf, -np.inf, 1e300, -1e300]
    out = blot_image(data, grid_pixmap(xs, [1.0]), interp=interp, fillval=-9.0)
    inside = out[0] != -9.0
    np.testing.assert_array_equal(
        inside, [False, False, True, True, False, False, False, False, False]
    )


def test_iscale_multiplies_in_float32():
    data = np.full((5, 5), 3.0, np.float32)
    out = blot_image(data, grid_pixmap([1.0, 9.0], [1.0]), iscale=0.1, fillval=7.0, interp="linear")
    np.testing.assert_array_equal(out, [[np.float32(3.0) * np.float32(0.1), 7.0]])


def test_fillval_none_means_zero_and_large_fillval_overflows_to_inf():
    data = np.ones((3, 3), np.float32)
    pm = grid_pixmap([-2.0], [0.0])
    assert blot_image(data, pm, fillval=None)[0, 0] == 0.0
    assert blot_image(data, pm, fillval=1e300)[0, 0] == np.inf
    assert np.isnan(blot_image(data, pm, fillval=np.nan)[0, 0])


# --- threads ------------------------------------------------------------------


@pytest.mark.parametrize("interp", INTERPS)
def test_one_and_two_threads_bitwise_equal(interp):
    rng = np.random.default_rng(4)
    data = rng.normal(0, 1, (120, 130)).astype(np.float32)
    y, x = np.indices((150, 140), dtype=np.float64)
    pm = np.dstack([0.9 * x + 0.1 * y - 5 + 0.3 * np.sin(y / 7), 0.85 * y - 0.1 * x + 4])
    try:
        pyspec.set_num_threads(1)
        one = blot_image(data, pm, interp=interp)
        pyspec.set_num_threads(2)
        two = blot_image(data, pm, interp=interp)
    finally:
        pyspec.set_num_threads(0)
    np.testing.assert_array_equal(one, two)


# --- input validation and conversion ------------------------------------------


def test_nan_in_pixmap_raises_naming_the_position_and_writes_nothing():
    data = np.ones((6, 6), np.float32)
    pm = grid_pixmap(np.arange(4.0), np.arange(3.0))
    pm[2, 1, 1] = np.nan
    pm[2, 3, 0] = np.nan
    out = np.full((3, 4), 5.0, np.float32)
    with pytest.raises(ValueError, match=r"NaN in pixmap\[2, 1, 1\]"):
        blot_image(data, pm, out_img=out, interp="linear")
    np.testing.assert_array_equal(out, 5.0)


@pytest.mark.parametrize(
    ("pm_shape", "match"),
    [((3, 4), "3-D"), ((3, 4, 3), r"\(ny, nx, 2\)"), ((3, 4, 2, 1), "3-D")],
)
def test_wrong_pixmap_shape_raises(pm_shape, match):
    with pytest.raises(ValueError, match=match):
        blot_image(np.ones((5, 5), np.float32), np.zeros(pm_shape))


def test_data_must_be_two_dimensional():
    with pytest.raises(ValueError, match="2-D"):
        blot_image(np.ones((2, 5, 5), np.float32), np.zeros((3, 3, 2)))
    with pytest.raises(ValueError, match="2-D"):
        blot_image(np.ones(5, np.float32), np.zeros((3, 3, 2)))


@pytest.mark.parametrize(
    "dtype", [np.float64, np.int32, np.int16, np.uint8, ">f4", ">f8", np.float16]
)
def test_other_data_dtypes_are_converted(dtype):
    base = np.arange(30).reshape(5, 6).astype(np.float32)
    pm = grid_pixmap(np.arange(0, 5.5, 0.7), np.arange(0, 4.5, 0.6))
    want = blot_image(base, pm, interp="poly3")
    np.testing.assert_array_equal(blot_image(base.astype(dtype), pm, interp="poly3"), want)
    np.testing.assert_array_equal(
        blot_image(base, pm.astype(np.float32).astype(">f8"), interp="poly3"),
        blot_image(base, pm.astype(np.float32), interp="poly3"),
    )


def test_lists_and_strided_inputs_are_accepted():
    base = np.arange(48, dtype=np.float32).reshape(6, 8)
    pm = grid_pixmap([0.5, 2.25, 3.0], [1.5, 2.75])
    want = blot_image(base[:, ::2].copy(), pm, interp="lan3")
    np.testing.assert_array_equal(blot_image(base[:, ::2], pm, interp="lan3"), want)
    np.testing.assert_array_equal(
        blot_image(base[:, ::2].tolist(), pm.tolist(), interp="lan3"), want
    )


def test_complex_or_object_data_raise_type_error():
    with pytest.raises(TypeError):
        blot_image(np.ones((3, 3), complex), np.zeros((2, 2, 2)))
    with pytest.raises(TypeError):
        blot_image(np.array([["a", "b"], ["c", "d"]]), np.zeros((2, 2, 2)))


def test_out_img_float32_is_written_in_place_and_returned_even_when_strided():
    data = np.arange(25, dtype=np.float32).reshape(5, 5)
    pm = grid_pixmap([0.5, 1.5, 2.5], [1.0, 2.0])
    want = blot_image(data, pm, interp="linear")
    buf = np.zeros((2, 6), np.float32)
    view = buf[:, ::2]
    assert blot_image(data, pm, out_img=view, interp="linear") is view
    np.testing.assert_array_equal(buf[:, ::2], want)
    np.testing.assert_array_equal(buf[:, 1::2], 0.0)


def test_out_img_float64_receives_the_float32_result():
    data = np.arange(25, dtype=np.float32).reshape(5, 5)
    pm = grid_pixmap([0.3, 1.7], [1.1, 2.9])
    out = np.zeros((2, 2))
    assert blot_image(data, pm, out_img=out, interp="poly5") is out
    np.testing.assert_array_equal(out, blot_image(data, pm, interp="poly5").astype(np.float64))


def test_out_img_aliasing_data_reads_the_original_data():
    data = np.random.default_rng(5).normal(0, 1, (6, 6)).astype(np.float32)
    pm = grid_pixmap(np.arange(6) + 0.5, np.arange(6) + 0.25)
    want = blot_image(data.copy(), pm, interp="poly3")
    got = blot_image(data, pm, out_img=data, interp="poly3")
    assert got is data
    np.testing.assert_array_equal(data, want)


def test_bad_out_img_raises():
    data = np.ones((4, 4), np.float32)
    pm = np.zeros((2, 3, 2))
    ro = np.zeros((2, 3), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blot_image(data, pm, out_img=ro)
    with pytest.raises(ValueError, match="shape is not consistent"):
        blot_image(data, pm, out_img=np.zeros((3, 2), np.float32))
    with pytest.raises(TypeError, match="floating-point"):
        blot_image(data, pm, out_img=np.zeros((2, 3), np.int32))
    with pytest.raises(TypeError, match="ndarray"):
        blot_image(data, pm, out_img=[[0.0] * 3] * 2)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"interp": "foo"}, ValueError, "Unknown interp type 'foo'"),
        ({"interp": "LINEAR"}, ValueError, "Unknown interp type"),
        ({"interp": "spline3"}, ValueError, "not implemented"),
        ({"interp": None}, TypeError, "interp"),
        ({"iscale": 0.0}, ValueError, "iscale"),
        ({"iscale": -2.0}, ValueError, "iscale"),
        ({"iscale": np.nan}, ValueError, "iscale"),
        ({"iscale": 1e-50}, ValueError, "iscale"),  # 0 as float32
        ({"iscale": 1e300}, ValueError, "iscale"),  # inf as float32
        ({"iscale": "2"}, TypeError, "iscale"),
        ({"fillval": "INDEF"}, TypeError, "fillval"),
        ({"interp": "sinc", "sinscl": 0.0}, ValueError, "sinscl"),
        ({"interp": "lsinc", "sinscl": np.inf}, ValueError, "sinscl"),
        ({"pix_ratio": 0.0}, ValueError, "pix_ratio"),
        ({"exptime": 0.0}, ValueError, "iscale"),
    ],
)
def test_bad_arguments_raise(kwargs, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(exc, match=match):
            blot_image(np.ones((4, 4), np.float32), np.zeros((2, 2, 2)), **kwargs)


def test_sinscl_is_ignored_by_other_interpolants():
    data = np.arange(16, dtype=np.float32).reshape(4, 4)
    pm = grid_pixmap([1.5], [2.5])
    assert blot_image(data, pm, interp="linear", sinscl=np.nan)[0, 0] == np.float32(11.5)


def test_deprecated_arguments_warn_and_scale():
    data = np.full((4, 4), 2.0, np.float32)
    pm = grid_pixmap([1.0, 2.0], [1.0])
    with pytest.warns(DeprecationWarning, match="pix_ratio"):
        out = blot_image(data, pm, pix_ratio=2.0, interp="linear")
    np.testing.assert_array_equal(out, 0.5)
    with pytest.warns(DeprecationWarning, match="exptime"):
        out = blot_image(data, pm, exptime=3.0, interp="linear")
    np.testing.assert_array_equal(out, 6.0)
    with pytest.warns(DeprecationWarning, match="output_pixel_shape"):
        blot_image(data, pm, output_pixel_shape=(2, 1))
    with (
        pytest.warns(DeprecationWarning, match="output_pixel_shape"),
        pytest.raises(ValueError, match="Pixel map dimensions"),
    ):
        blot_image(data, pm, output_pixel_shape=(1, 2))


def test_no_warning_without_deprecated_arguments():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        blot_image(np.ones((3, 3), np.float32), np.zeros((2, 2, 2)))


# --- degenerate sizes -------------------------------------------------------------


@pytest.mark.parametrize("interp", INTERPS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 4), (3, 1), (2, 2), (3, 3)])
def test_tiny_images_give_finite_values_without_crashing(interp, shape):
    data = np.full(shape, 2.0, np.float32)
    rng = np.random.default_rng(6)
    pm = np.dstack([rng.uniform(-1, shape[1] + 1, (7, 7)), rng.uniform(-1, shape[0] + 1, (7, 7))])
    out = blot_image(data, pm, interp=interp, fillval=-1.0)
    inside = out != -1.0
    assert np.isfinite(out).all()
    if interp not in ("lan3", "lan5"):  # lanczos is not renormalised
        np.testing.assert_allclose(out[inside], 2.0, rtol=1e-6)


def test_empty_pixmap_gives_empty_output_and_empty_data_gives_fillval():
    out = blot_image(np.ones((3, 3), np.float32), np.zeros((0, 4, 2)))
    assert out.shape == (0, 4) and out.dtype == np.float32
    out = blot_image(np.ones((0, 3), np.float32), np.zeros((2, 2, 2)), fillval=4.0)
    np.testing.assert_array_equal(out, 4.0)
