//! `pyspec_core::drizzle::blot::blot` on arbitrary small inputs.
//!
//! * Never panics: any image size (including empty and 1-pixel images), data
//!   with NaN/inf, pixel maps with NaN (an error, reported before anything is
//!   written), inf, huge values and positions just inside/outside the image
//!   edges, every interpolant, arbitrary `iscale`, `sinscl`, `fillval`, and
//!   a transposed (non-contiguous) `data` view.
//! * 1 thread and 3 threads give the same output bit for bit.
//! * Positions outside the image get `fillval`; `nearest` returns one of the
//!   pixel values times `iscale`; `linear` stays within the data range (up to
//!   float32 rounding) for finite data.

#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ndarray::{Array2, Array3, ArrayView2};
use pyspec_core::drizzle::blot::{blot, Interp};

const INTERPS: [Interp; 8] = [
    Interp::Nearest,
    Interp::Linear,
    Interp::Poly3,
    Interp::Poly5,
    Interp::Sinc,
    Interp::Lsinc,
    Interp::Lan3,
    Interp::Lan5,
];

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});

/// A coordinate along an axis of `n` pixels: mostly inside or near the edges.
fn coord(u: &mut Unstructured, n: usize) -> Result<f64> {
    let nf = n as f64;
    Ok(match u.int_in_range(0u8..=9)? {
        0 => common::special_f64(u)?,
        1 => common::any_f64(u)?,
        // exactly on / just around the edges and the reference's asymmetric limits
        2 => *u.choose(&[
            -0.5,
            -1e-7,
            0.0,
            nf - 1.0,
            nf - 0.5,
            nf - 1e-7,
            nf,
            nf + 0.5,
        ])?,
        3 => nf - f64::from(f32::EPSILON) * nf.max(1.0),
        _ => u.int_in_range(-512i32..=(n as i32 + 4) * 64)? as f64 / 64.0 - 2.0,
    })
}

fn run(u: &mut Unstructured) -> Result<()> {
    let ny = u.int_in_range(0usize..=20)?;
    let nx = u.int_in_range(0usize..=20)?;
    let ony = u.int_in_range(0usize..=24)?;
    let onx = u.int_in_range(0usize..=24)?;
    let finite_data = u.arbitrary::<bool>()?;
    let mut dv = Vec::with_capacity(ny * nx);
    for _ in 0..ny * nx {
        dv.push(if finite_data {
            u.arbitrary::<i16>()? as f32 / 64.0
        } else {
            common::any_f32(u)?
        });
    }
    let data = Array2::from_shape_vec((ny, nx), dv).expect("shape");
    let transposed = u.arbitrary::<bool>()?;
    let mut pv = Vec::with_capacity(ony * onx * 2);
    for _ in 0..ony * onx {
        pv.push(coord(u, nx)?);
        pv.push(coord(u, ny)?);
    }
    let pm_shape = if u.int_in_range(0u8..=15)? == 0 {
        (ony, onx + 1, 2)
    } else {
        (ony, onx, 2)
    };
    if pm_shape.1 != onx {
        pv.resize(pm_shape.0 * pm_shape.1 * 2, 0.5);
    }
    let pixmap = Array3::from_shape_vec(pm_shape, pv).expect("shape");
    let interp = *u.choose(&INTERPS)?;
    let iscale = if u.int_in_range(0u8..=3)? == 0 {
        common::any_f32(u)?
    } else {
        1.0
    };
    let sinscl = if u.int_in_range(0u8..=3)? == 0 {
        common::any_f32(u)?
    } else {
        1.0
    };
    let fillval = common::any_f32(u)?;

    let t_owned;
    let dview: ArrayView2<f32> = if transposed {
        t_owned = data.t().to_owned();
        t_owned.t()
    } else {
        data.view()
    };
    let sentinel = 7.25f32;
    let go = || {
        let mut out = Array2::<f32>::from_elem((ony, onx), sentinel);
        let r = blot(
            dview,
            pixmap.view(),
            out.view_mut(),
            interp,
            iscale,
            sinscl,
            fillval,
        )
        .map_err(|e| e.to_string());
        (r, out)
    };
    let (one, three) = common::pools();
    let (ra, a) = one.install(go);
    let (rb, b) = three.install(go);
    assert_eq!(ra, rb, "result differs between 1 and 3 threads");
    assert!(
        a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits()),
        "output differs between 1 and 3 threads"
    );

    let has_nan = pixmap.iter().any(|v| v.is_nan());
    if has_nan && pm_shape.1 == onx && ony * onx > 0 {
        assert!(ra.is_err(), "NaN in the pixel map accepted");
    }
    if ra.is_err() {
        assert!(
            a.iter().all(|v| *v == sentinel),
            "output written although blot failed"
        );
        return Ok(());
    }
    let dmin = data.iter().cloned().fold(f32::INFINITY, f32::min);
    let dmax = data.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    for j in 0..ony {
        for i in 0..onx {
            let x = pixmap[[j, i, 0]] as f32;
            let y = pixmap[[j, i, 1]] as f32;
            let v = a[[j, i]];
            let inside = x >= 0.0 && (x as f64) < nx as f64 && y >= 0.0 && (y as f64) < ny as f64;
            if !inside {
                assert_eq!(
                    v.to_bits(),
                    fillval.to_bits(),
                    "outside ({x},{y}) not filled"
                );
                continue;
            }
            match interp {
                Interp::Nearest => {
                    assert!(
                        data.iter().any(|d| (d * iscale).to_bits() == v.to_bits()),
                        "nearest at ({x},{y}) gave {v}, not a pixel value"
                    );
                }
                Interp::Linear if finite_data && iscale == 1.0 => {
                    let tol = 1e-5 * dmax.abs().max(dmin.abs()).max(1.0);
                    assert!(
                        v >= dmin - tol && v <= dmax + tol,
                        "linear at ({x},{y}) gave {v} outside [{dmin}, {dmax}]"
                    );
                }
                _ => {}
            }
        }
    }
    Ok(())
}
