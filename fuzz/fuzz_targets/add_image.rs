//! `pyspec_core::drizzle::add_image_with` on arbitrary small inputs.
//!
//! * Never panics: arbitrary shapes (including empty and mismatched ones),
//!   data/weights/pixel maps with NaN, inf, 1e30 and values just inside and
//!   beyond the C `int` range, arbitrary kernel, pixfrac, scales, box, fill
//!   values, context bit, `data2` list and DQ, outputs up to 64x64 (also as
//!   strided views). Errors are fine.
//! * The same call on a 1-thread and a 3-thread pool gives the same result,
//!   bit for bit (DESIGN principle 2), or the same error.
//! * For square/point/turbo/gaussian with input weights >= 0 (or NaN) the
//!   output weights are never negative, and an output pixel has weight > 0
//!   exactly where its context bit is set (or NaN, after a NaN weight). For square this is checked on
//!   non-degenerate affine pixel maps whose holes are NaN/inf (other maps can
//!   fold input pixels over, which gives negative overlap areas by design).
//! * Single calls without `data2`/DQ are compared bit for bit with a naive,
//!   sequential transcription of the spec (sections 4, 5 and 7) built on the
//!   public scalar geometry (`scan_region`, `pixel_corners`, `boxer`): this
//!   checks the optimised (SIMD, banded) kernels against the plain algorithm.
//! * With a fill value, every output pixel of weight 0 holds it afterwards;
//!   the output DQ only has bits of the input DQ; the context image only the
//!   bits of this call.

#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use ndarray::{s, Array2, Array3, ArrayView2};
use pyspec_core::drizzle::geometry::{boxer, clip_range, nint, pixel_corners, CornerWeights};
use pyspec_core::drizzle::scan::scan_region;
use pyspec_core::drizzle::{add_image_with, lanczos_lut, AddImage, Extra, Kernel, Outputs, Stats};

use common::MapKind;

// Set FUZZ_DEBUG=1 when replaying an artifact to print the decoded case.

const KERNELS: [Kernel; 6] = [
    Kernel::Square,
    Kernel::Point,
    Kernel::Turbo,
    Kernel::Gaussian,
    Kernel::Lanczos2,
    Kernel::Lanczos3,
];

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});

/// Everything one fuzz case needs, drawn up front.
#[derive(Debug)]
struct Case {
    ny: usize,
    nx: usize,
    data: Array2<f32>,
    data_transposed: bool,
    weight: Array2<f32>,
    weights_nonneg: bool,
    pixmap: Array3<f64>,
    map_kind: MapKind,
    clean_holes: bool,
    data2: Vec<Option<Array2<f32>>>,
    dq: Option<Array2<u32>>,
    params: Vec<AddImage>,
    out_shape: (usize, usize),
    wht_shape: (usize, usize),
    strided_out: bool,
    ctx_bits: Vec<Option<u32>>,
    img_init: f32,
}

/// Output arrays of one run (owned, standard layout).
#[derive(Debug)]
struct Out {
    img: Array2<f32>,
    wht: Array2<f32>,
    ctx: Array2<i32>,
    img2: Vec<Array2<f32>>,
    dq: Array2<u32>,
    results: Vec<std::result::Result<Stats, String>>,
}

fn draw(u: &mut Unstructured) -> Result<Case> {
    let ny = u.int_in_range(0usize..=10)?;
    let nx = u.int_in_range(0usize..=10)?;
    let ony = u.int_in_range(0usize..=64)?;
    let onx = u.int_in_range(0usize..=64)?;
    let n = ny * nx;

    let constant = u.arbitrary::<bool>()?;
    let c0 = common::any_f32(u)?;
    let mut dv = Vec::with_capacity(n);
    for _ in 0..n {
        dv.push(if constant { c0 } else { common::any_f32(u)? });
    }
    let data = Array2::from_shape_vec((ny, nx), dv).expect("shape");
    let data_transposed = u.arbitrary::<bool>()?;

    let weights_nonneg = u.int_in_range(0u8..=3)? != 0;
    let mut wv = Vec::with_capacity(n);
    let unit_weights = u.arbitrary::<bool>()?;
    for _ in 0..n {
        wv.push(if unit_weights {
            1.0
        } else if weights_nonneg {
            common::nonneg_f32(u)?
        } else {
            common::any_f32(u)?
        });
    }
    let weight = Array2::from_shape_vec((ny, nx), wv).expect("shape");

    let (mv, map_kind, finite_holes) = common::pixmap(u, ny, nx, ony, onx)?;
    let clean_holes = !finite_holes;
    let pixmap = Array3::from_shape_vec((ny, nx, 2), mv).expect("shape");

    let nd2 = u.int_in_range(0usize..=2)?;
    let mut data2 = Vec::new();
    for _ in 0..nd2 {
        data2.push(if u.int_in_range(0u8..=3)? == 0 {
            None
        } else {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(common::any_f32(u)?);
            }
            Some(Array2::from_shape_vec((ny, nx), v).expect("shape"))
        });
    }
    let dq = if u.arbitrary::<bool>()? {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(1u32 << u.int_in_range(0u32..=31)?);
        }
        Some(Array2::from_shape_vec((ny, nx), v).expect("shape"))
    } else {
        None
    };

    let ncalls = u.int_in_range(1usize..=2)?;
    let mut params = Vec::new();
    let mut ctx_bits = Vec::new();
    for _ in 0..ncalls {
        let mut p = AddImage::new(*u.choose(&KERNELS)?);
        p.pixfrac = match u.int_in_range(0u8..=7)? {
            0 => common::any_f64(u)?,
            1 => 0.7,
            2 => 0.001,
            3 => 0.0011,
            4 => u.int_in_range(1u16..=4000)? as f64 / 1000.0,
            _ => 1.0,
        };
        if u.int_in_range(0u8..=3)? == 0 {
            p.iscale = common::any_f32(u)?;
        }
        if u.int_in_range(0u8..=3)? == 0 {
            p.wtscale = common::any_f32(u)?;
        }
        p.pscale_ratio = match u.int_in_range(0u8..=4)? {
            0 => None,
            1 => Some(common::any_f32(u)?),
            2 => Some(u.int_in_range(1u16..=400)? as f32 / 100.0),
            _ => Some(1.0),
        };
        if u.int_in_range(0u8..=3)? == 0 {
            p.xmin = u.int_in_range(0usize..=12)?;
            p.ymin = u.int_in_range(0usize..=12)?;
            p.xmax = u.arbitrary::<Option<u8>>()?.map(|v| v as usize % 14);
            p.ymax = u.arbitrary::<Option<u8>>()?.map(|v| v as usize % 14);
        }
        p.fill = match u.int_in_range(0u8..=2)? {
            0 => Some(common::any_f32(u)?),
            _ => None,
        };
        p.fill2 = match u.int_in_range(0u8..=2)? {
            0 => Some(common::any_f32(u)?),
            _ => None,
        };
        params.push(p);
        ctx_bits.push(match u.int_in_range(0u8..=7)? {
            0 => None,
            1 => Some(u.int_in_range(0u32..=40)?),
            _ => Some(u.int_in_range(0u32..=31)?),
        });
    }
    let wht_shape = if u.int_in_range(0u8..=15)? == 0 {
        (ony, onx + 1)
    } else {
        (ony, onx)
    };
    Ok(Case {
        ny,
        nx,
        data,
        data_transposed,
        weight,
        weights_nonneg: weights_nonneg || unit_weights,
        pixmap,
        map_kind,
        clean_holes,
        data2,
        dq,
        params,
        out_shape: (ony, onx),
        wht_shape,
        strided_out: u.arbitrary::<bool>()?,
        ctx_bits,
        img_init: if u.arbitrary::<bool>()? {
            f32::NAN
        } else {
            0.0
        },
    })
}

/// Run every call of the case on the current rayon pool.
fn execute(case: &Case) -> Out {
    let (ony, onx) = case.out_shape;
    // Outputs live in wider arrays when `strided_out` (every other column).
    let step = if case.strided_out { 2 } else { 1 };
    let wide = |shape: (usize, usize)| (shape.0, shape.1 * step);
    let mut img = Array2::<f32>::from_elem(wide(case.out_shape), case.img_init);
    let mut wht = Array2::<f32>::zeros(wide(case.wht_shape));
    let mut ctx = Array2::<i32>::zeros(wide(case.out_shape));
    let mut img2: Vec<Array2<f32>> = case
        .data2
        .iter()
        .map(|_| Array2::zeros(wide(case.out_shape)))
        .collect();
    let mut dq = Array2::<u32>::zeros(wide(case.out_shape));

    let transposed;
    let data: ArrayView2<f32> = if case.data_transposed {
        transposed = case.data.t().to_owned();
        transposed.t()
    } else {
        case.data.view()
    };
    let extra = Extra {
        data2: case
            .data2
            .iter()
            .map(|d| d.as_ref().map(|a| a.view()))
            .collect(),
        dq: case.dq.as_ref().map(|a| a.view()),
    };
    let mut results = Vec::new();
    for (params, bit) in case.params.iter().zip(&case.ctx_bits) {
        let sl = s![.., ..;step];
        let mut out = Outputs::new(img.slice_mut(sl), wht.slice_mut(sl));
        if let Some(b) = bit {
            out.ctx = Some((ctx.slice_mut(sl), *b));
        }
        out.img2 = img2.iter_mut().map(|a| a.slice_mut(sl)).collect();
        if case.dq.is_some() {
            out.dq = Some(dq.slice_mut(sl));
        }
        let r = add_image_with(
            data,
            case.weight.view(),
            case.pixmap.view(),
            &extra,
            params,
            &mut out,
        );
        results.push(r.map_err(|e| e.to_string()));
    }
    let own = |a: &Array2<f32>| a.slice(s![.., ..;step]).to_owned();
    let _ = (ony, onx);
    Out {
        img: own(&img),
        wht: own(&wht),
        ctx: ctx.slice(s![.., ..;step]).to_owned(),
        img2: img2.iter().map(own).collect(),
        dq: dq.slice(s![.., ..;step]).to_owned(),
        results,
    }
}

fn same_f32(a: &Array2<f32>, b: &Array2<f32>) -> bool {
    a.dim() == b.dim()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

fn run(u: &mut Unstructured) -> Result<()> {
    let case = draw(u)?;
    if std::env::var_os("FUZZ_DEBUG").is_some() {
        eprintln!("{case:#?}");
    }
    let (one, three) = common::pools();
    let a = one.install(|| execute(&case));
    let b = three.install(|| execute(&case));

    // 1 thread == 3 threads, bit for bit (the ratio may be NaN: compare bits).
    let key = |o: &Out| -> Vec<std::result::Result<(usize, usize, Kernel, u32), String>> {
        o.results
            .iter()
            .map(|r| {
                r.clone()
                    .map(|s| (s.nmiss, s.nskip, s.kernel, s.pscale_ratio.to_bits()))
            })
            .collect()
    };
    assert_eq!(key(&a), key(&b), "results differ between 1 and 3 threads");
    assert!(
        same_f32(&a.img, &b.img),
        "out_img differs between 1 and 3 threads"
    );
    assert!(
        same_f32(&a.wht, &b.wht),
        "out_wht differs between 1 and 3 threads"
    );
    assert_eq!(a.ctx, b.ctx, "out_ctx differs between 1 and 3 threads");
    assert_eq!(a.dq, b.dq, "out_dq differs between 1 and 3 threads");
    for (x, y) in a.img2.iter().zip(&b.img2) {
        assert!(same_f32(x, y), "out_img2 differs between 1 and 3 threads");
    }

    let ok: Vec<&Stats> = a.results.iter().filter_map(|r| r.as_ref().ok()).collect();
    if ok.is_empty() {
        return Ok(());
    }
    if let ([Ok(st)], [p], [bit]) = (&a.results[..], &case.params[..], &case.ctx_bits[..]) {
        if case.data2.is_empty() && case.dq.is_none() {
            let (img, wht, ctx) = oracle(&case, p, st, bit.unwrap_or(0));
            for (k, (x, y)) in a.wht.iter().zip(wht.iter()).enumerate() {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "out_wht[{k}] = {x} but the naive drizzle gives {y}"
                );
            }
            for (k, (x, y)) in a.img.iter().zip(img.iter()).enumerate() {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "out_img[{k}] = {x} but the naive drizzle gives {y}"
                );
            }
            if bit.is_some() {
                assert_eq!(a.ctx, ctx, "out_ctx differs from the naive drizzle");
            }
        }
    }
    for (r, p) in a.results.iter().zip(&case.params) {
        if let Ok(st) = r {
            let want = if p.pixfrac <= 0.001 {
                Kernel::Point
            } else {
                p.kernel
            };
            assert_eq!(st.kernel, want, "kernel used");
        }
    }

    // Context bits: only those of successful calls.
    let mut allowed: i32 = 0;
    for ((r, bit), _) in a.results.iter().zip(&case.ctx_bits).zip(&case.params) {
        if let (Ok(_), Some(b)) = (r, bit) {
            allowed |= (1u32 << b) as i32;
        }
    }
    assert!(
        a.ctx.iter().all(|c| c & !allowed == 0),
        "context bits of no call"
    );

    // DQ only carries input bits.
    if let Some(dq) = &case.dq {
        let any = dq.iter().fold(0u32, |acc, v| acc | v);
        assert!(
            a.dq.iter().all(|v| v & !any == 0),
            "output DQ bit not in any input DQ"
        );
    }

    // Fill value of the last call where the weight is 0.
    if let (Some(Ok(_)), Some(p)) = (a.results.last(), case.params.last()) {
        if let Some(f) = p.fill {
            for (s, w) in a.img.iter().zip(a.wht.iter()) {
                if *w == 0.0 {
                    assert_eq!(s.to_bits(), f.to_bits(), "unfilled zero-weight pixel");
                }
            }
        }
    }

    // Non-negative weights for the non-negative kernels.
    let all_ok = a.results.iter().all(|r| r.is_ok());
    let nonneg_kernels = ok.iter().all(|st| {
        matches!(st.kernel, Kernel::Point | Kernel::Turbo | Kernel::Gaussian)
            || (st.kernel == Kernel::Square && case.map_kind == MapKind::Affine && case.clean_holes)
    });
    let scales_ok = case.params.iter().all(|p| p.wtscale > 0.0);
    if all_ok
        && nonneg_kernels
        && case.weights_nonneg
        && scales_ok
        && case.wht_shape == case.out_shape
    {
        for (k, w) in a.wht.iter().enumerate() {
            assert!(
                *w >= 0.0 || w.is_nan(),
                "negative output weight {w} at flat index {k}"
            );
        }
        if case.ctx_bits.iter().all(|b| b.is_some()) {
            for ((k, w), c) in a.wht.iter().enumerate().zip(a.ctx.iter()) {
                // a positive contribution sets the bit; a later NaN one
                // (NaN weight, or a NaN kernel value) can make the weight NaN
                assert!(
                    if *c != 0 {
                        *w > 0.0 || w.is_nan()
                    } else {
                        *w <= 0.0 || w.is_nan()
                    },
                    "weight {w} but context {c:#x} at flat index {k}"
                );
            }
        }
    }
    let _ = (case.ny, case.nx);
    Ok(())
}

/// Naive sequential drizzle of one call (spec 4, 5.1-5.5, 7) with the public
/// scalar geometry; `st` tells the kernel and pixel scale ratio actually used.
fn oracle(
    case: &Case,
    p: &AddImage,
    st: &Stats,
    bit: u32,
) -> (Array2<f32>, Array2<f32>, Array2<i32>) {
    let (ony, onx) = case.out_shape;
    let mut img = Array2::<f32>::from_elem((ony, onx), case.img_init);
    let mut wht = Array2::<f32>::zeros((ony, onx));
    let mut ctx = Array2::<i32>::zeros((ony, onx));
    let (ny, nx) = (case.ny, case.nx);
    let xmax = match p.xmax {
        Some(v) if v != 0 && v < nx => v,
        _ => nx - 1,
    };
    let ymax = match p.ymax {
        Some(v) if v != 0 && v < ny => v,
        _ => ny - 1,
    };
    let pm = case.pixmap.view();
    let region = scan_region(&pm, p.xmin, xmax, p.ymin, ymax, (ony, onx)).expect("scan region");
    let mask = (1u32 << bit) as i32;
    let mut update = |ii: usize, jj: usize, d: f32, dow: f32| {
        if dow > 0.0 {
            ctx[[jj, ii]] |= mask;
        }
        if dow == 0.0 {
            return;
        }
        let vc = wht[[jj, ii]];
        let s = vc + dow;
        if vc == 0.0 {
            img[[jj, ii]] = d;
        } else {
            let num = img[[jj, ii]] * vc + dow * d;
            img[[jj, ii]] = (num as f64 / s as f64) as f32;
        }
        wht[[jj, ii]] = s;
    };
    let in_int = |v: f64| v.abs() < 2_147_483_647.0;
    let floor_i = |v: f64| {
        if v.is_nan() {
            i64::MIN
        } else {
            v.floor() as i64
        }
    };
    let (pf, psr) = (p.pixfrac, st.pscale_ratio as f64);
    let h = 0.5 * pf;
    let cw = CornerWeights::new(h);
    let lut = match st.kernel {
        Kernel::Lanczos2 => lanczos_lut(2),
        Kernel::Lanczos3 => lanczos_lut(3),
        _ => Vec::new(),
    };
    for &(j, i0, i1) in &region.rows {
        for i in i0..=i1 {
            let d = case.data[[j, i]] * p.iscale;
            let w = case.weight[[j, i]] * p.wtscale;
            let wd = w as f64;
            if st.kernel == Kernel::Square {
                let Some((x, y)) = pixel_corners(&pm, i, j, h, &cw) else {
                    continue;
                };
                if !x.iter().chain(y.iter()).all(|v| in_int(*v)) {
                    continue;
                }
                let mm = |v: &[f64; 4]| {
                    v.iter()
                        .fold((v[0], v[0]), |(a, b), &q| (a.min(q), b.max(q)))
                };
                let ((xlo, xhi), (ylo, yhi)) = (mm(&x), mm(&y));
                let (Some(rows), Some(cols)) = (
                    clip_range(nint(ylo), nint(yhi), ony),
                    clip_range(nint(xlo), nint(xhi), onx),
                ) else {
                    continue;
                };
                let jaco = 0.5 * ((x[1] - x[3]) * (y[0] - y[2]) - (x[0] - x[2]) * (y[1] - y[3]));
                let wq = wd / jaco;
                for jj in rows.0..=rows.1 {
                    for ii in cols.0..=cols.1 {
                        let a = boxer(ii as f64, jj as f64, &x, &y);
                        if a != 0.0 {
                            update(ii, jj, d, (a * wq) as f32);
                        }
                    }
                }
                continue;
            }
            let (xc, yc) = (case.pixmap[[j, i, 0]], case.pixmap[[j, i, 1]]);
            if !(in_int(xc) && in_int(yc)) {
                continue;
            }
            match st.kernel {
                Kernel::Point => {
                    let (ii, jj) = (nint(xc), nint(yc));
                    if ii >= 0 && ii < onx as i64 && jj >= 0 && jj < ony as i64 {
                        update(ii as usize, jj as usize, d, w);
                    }
                }
                Kernel::Turbo => {
                    let pfo = pf / psr / 2.0;
                    let scale = 1.0 / (pf * pf) * psr * psr;
                    let (Some(rows), Some(cols)) = (
                        clip_range(nint(yc - pfo), nint(yc + pfo), ony),
                        clip_range(nint(xc - pfo), nint(xc + pfo), onx),
                    ) else {
                        continue;
                    };
                    for jj in rows.0..=rows.1 {
                        let fj = jj as f64;
                        let dy = (yc + pfo).min(fj + 0.5) - (yc - pfo).max(fj - 0.5);
                        for ii in cols.0..=cols.1 {
                            let fi = ii as f64;
                            let dx = (xc + pfo).min(fi + 0.5) - (xc - pfo).max(fi - 0.5);
                            if dx > 0.0 && dy > 0.0 {
                                update(ii, jj, d, (dx * dy * scale * wd) as f32);
                            }
                        }
                    }
                }
                Kernel::Gaussian => {
                    let pfo = (2.5 * pf / 2.3548 / psr).max(1.2 / psr);
                    let ac = 1.0 / (pf * pf);
                    let efac = 2.3548 * 2.3548 * psr * psr * ac / 2.0;
                    let es = efac / std::f64::consts::PI;
                    let (Some(rows), Some(cols)) = (
                        clip_range(nint(yc - pfo), nint(yc + pfo), ony),
                        clip_range(nint(xc - pfo), nint(xc + pfo), onx),
                    ) else {
                        continue;
                    };
                    for jj in rows.0..=rows.1 {
                        let ddy = yc - jj as f64;
                        for ii in cols.0..=cols.1 {
                            let ddx = xc - ii as f64;
                            let r2 = ddx * ddx + ddy * ddy;
                            let g = (es * (-r2 * efac).exp()) as f32;
                            update(ii, jj, d, (g as f64 * wd) as f32);
                        }
                    }
                }
                Kernel::Lanczos2 | Kernel::Lanczos3 => {
                    let order = if st.kernel == Kernel::Lanczos2 {
                        2.0
                    } else {
                        3.0
                    };
                    let pfo = order / psr;
                    let sdp = psr / 0.003;
                    let n = lut.len() as i64;
                    let (Some(rows), Some(cols)) = (
                        clip_range(floor_i(yc - pfo).saturating_add(1), floor_i(yc + pfo), ony),
                        clip_range(floor_i(xc - pfo).saturating_add(1), floor_i(xc + pfo), onx),
                    ) else {
                        continue;
                    };
                    for jj in rows.0..=rows.1 {
                        let ky = nint(((yc - jj as f64) * sdp).abs());
                        if ky >= n {
                            continue;
                        }
                        for ii in cols.0..=cols.1 {
                            let kx = nint(((xc - ii as f64) * sdp).abs());
                            if kx >= n {
                                continue;
                            }
                            update(ii, jj, d, (lut[kx as usize] * lut[ky as usize] * wd) as f32);
                        }
                    }
                }
                Kernel::Square => {}
            }
        }
    }
    if let Some(f) = p.fill {
        for (s, w) in img.iter_mut().zip(wht.iter()) {
            if *w == 0.0 {
                *s = f;
            }
        }
    }
    (img, wht, ctx)
}
