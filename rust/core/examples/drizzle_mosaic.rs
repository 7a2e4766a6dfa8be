//! Drizzle two dithered, rotated exposures onto one output grid with
//! `pyspec-core`, then decode the context image of one output pixel.
//!
//! Run with `cargo run --release -p pyspec-core --example drizzle_mosaic`.

use ndarray::{Array2, Array3};
use pyspec_core::drizzle::{add_image_with, context, AddImage, Extra, Kernel, Outputs};

/// Pixel map of a rotation by `theta` (radians) and a shift `(dx, dy)`.
fn rotated_pixmap(ny: usize, nx: usize, theta: f64, dx: f64, dy: f64) -> Array3<f64> {
    let (s, c) = theta.sin_cos();
    Array3::from_shape_fn((ny, nx, 2), |(j, i, k)| {
        let (x, y) = (i as f64, j as f64);
        if k == 0 {
            c * x - s * y + dx
        } else {
            s * x + c * y + dy
        }
    })
}

fn main() -> Result<(), pyspec_core::Error> {
    let (ny, nx) = (64, 64);
    let (out_ny, out_nx) = (96, 96);
    let data = Array2::from_shape_fn((ny, nx), |(j, i)| (i + j) as f32 * 0.1 + 5.0);
    let weight = Array2::<f32>::ones((ny, nx));

    let mut img = Array2::<f32>::zeros((out_ny, out_nx));
    let mut wht = Array2::<f32>::zeros((out_ny, out_nx));
    let mut ctx = Array3::<i32>::zeros((1, out_ny, out_nx));

    let mut params = AddImage::new(Kernel::Square);
    params.pixfrac = 0.8;
    params.fill = Some(f32::NAN);
    for (id, (theta, dx, dy)) in [(0.1, 20.0, 10.0), (0.12, 22.5, 11.25)]
        .into_iter()
        .enumerate()
    {
        let pixmap = rotated_pixmap(ny, nx, theta, dx, dy);
        let (plane, bit) = context::plane_and_bit(id);
        let mut out = Outputs {
            img: img.view_mut(),
            wht: wht.view_mut(),
            ctx: Some((ctx.index_axis_mut(ndarray::Axis(0), plane), bit)),
            img2: Vec::new(),
            dq: None,
        };
        let stats = add_image_with(
            data.view(),
            weight.view(),
            pixmap.view(),
            &Extra::default(),
            &params,
            &mut out,
        )?;
        println!(
            "image {id}: kernel {}, {} pixels missed",
            stats.kernel.name(),
            stats.nmiss
        );
    }
    let total_weight: f32 = wht.iter().sum();
    // square is flux conserving: each fully covered input pixel deposits its weight
    println!(
        "total weight {total_weight:.3} (2 x {} input pixels)",
        ny * nx
    );
    assert!((total_weight - 2.0 * (ny * nx) as f32).abs() < 0.1);
    println!(
        "inputs contributing to pixel (50, 50): {:?}",
        context::decode(&ctx.view(), 50, 50)?
    );
    Ok(())
}
