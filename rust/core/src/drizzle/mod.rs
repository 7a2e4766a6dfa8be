//! Drizzle resampling (spec `drizzle.md`): the accumulator update of section
//! 4, the six kernels of section 5, the scan region of section 6, fill values
//! (section 7), context bitfields (section 8) and blot (section 9).
//!
//! Results are bitwise identical to the reference C implementation
//! (`drizzle` 2.2.0) and to themselves at any thread count: the output is cut
//! into bands of rows, every band visits the input in the reference order and
//! keeps only the contributions that fall inside it.

pub mod blot;
pub mod context;
pub mod geometry;
mod kernels;
pub mod scan;

use std::str::FromStr;

use ndarray::{ArrayView2, ArrayView3, ArrayViewMut2};
use rayon::prelude::*;

use geometry::PixmapRef;
pub use kernels::lanczos_lut;
use kernels::KernelImpl;

use crate::{Error, Result};

/// Drizzle kernel (spec 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Exact area overlap of the shrunken, distorted input pixel (flux conserving).
    Square,
    /// Each input pixel goes to the output pixel its centre falls in.
    Point,
    /// Axis-aligned square approximation of the input pixel.
    Turbo,
    /// Gaussian of FWHM `pixfrac` input pixels (not flux conserving).
    Gaussian,
    /// Lanczos window of order 2 (not flux conserving).
    Lanczos2,
    /// Lanczos window of order 3 (not flux conserving).
    Lanczos3,
}

impl Kernel {
    /// The kernel's name as the reference spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Square => "square",
            Kernel::Point => "point",
            Kernel::Turbo => "turbo",
            Kernel::Gaussian => "gaussian",
            Kernel::Lanczos2 => "lanczos2",
            Kernel::Lanczos3 => "lanczos3",
        }
    }

    /// Whether the kernel's footprint is scaled by the pixel scale ratio.
    pub fn uses_pixel_scale_ratio(&self) -> bool {
        matches!(
            self,
            Kernel::Turbo | Kernel::Gaussian | Kernel::Lanczos2 | Kernel::Lanczos3
        )
    }
}

impl FromStr for Kernel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "square" => Ok(Kernel::Square),
            "point" => Ok(Kernel::Point),
            "turbo" => Ok(Kernel::Turbo),
            "gaussian" => Ok(Kernel::Gaussian),
            "lanczos2" => Ok(Kernel::Lanczos2),
            "lanczos3" => Ok(Kernel::Lanczos3),
            _ => Err(Error::value(format!("Kernel '{s}' is not supported."))),
        }
    }
}

/// Parameters of one [`add_image`] call (the C driver's arguments, spec 3.4).
#[derive(Clone, Debug)]
pub struct AddImage {
    /// Kernel to use.
    pub kernel: Kernel,
    /// Pixel shrink factor; `<= 0.001` switches to the point kernel.
    pub pixfrac: f64,
    /// Effective multiplicative scale applied to the data (already divided
    /// by the exposure time for `in_units="counts"`). Must be positive and finite.
    pub iscale: f32,
    /// Multiplicative scale on the weights. Must be positive and finite.
    pub wtscale: f32,
    /// Output/input pixel scale ratio for turbo, gaussian and lanczos.
    /// `None` reproduces the reference estimate from the pixel map (which is
    /// the *inverse* of the intended ratio, spec 2.3).
    pub pscale_ratio: Option<f32>,
    /// First input column to use (inclusive).
    pub xmin: usize,
    /// Last input column (inclusive); `None`, `0` or beyond the image: the last column.
    pub xmax: Option<usize>,
    /// First input row to use (inclusive).
    pub ymin: usize,
    /// Last input row (inclusive); `None`, `0` or beyond the image: the last row.
    pub ymax: Option<usize>,
    /// Science fill value for output pixels whose weight is 0 after the call.
    pub fill: Option<f32>,
    /// Fill value for the `img2` outputs (only applied when `fill` is active).
    pub fill2: Option<f32>,
}

impl AddImage {
    /// Defaults of the reference: pixfrac 1, scales 1, ratio 1, whole image, no fill.
    pub fn new(kernel: Kernel) -> Self {
        AddImage {
            kernel,
            pixfrac: 1.0,
            iscale: 1.0,
            wtscale: 1.0,
            pscale_ratio: Some(1.0),
            xmin: 0,
            xmax: None,
            ymin: 0,
            ymax: None,
            fill: None,
            fill2: None,
        }
    }
}

/// Optional extra inputs: `data2` arrays (propagated as squared-weight
/// averages, e.g. variances) and a DQ array (bitwise OR of contributors).
#[derive(Clone, Debug, Default)]
pub struct Extra<'a> {
    /// One entry per `img2` output; `None` contributes zeros.
    pub data2: Vec<Option<ArrayView2<'a, f32>>>,
    /// Input data quality.
    pub dq: Option<ArrayView2<'a, u32>>,
}

/// Output arrays updated in place by [`add_image`]; all of one 2-D shape.
pub struct Outputs<'a> {
    /// Science (weighted mean of contributions).
    pub img: ArrayViewMut2<'a, f32>,
    /// Accumulated weight.
    pub wht: ArrayViewMut2<'a, f32>,
    /// Context plane and the bit (0..=31) to set where this input contributes.
    pub ctx: Option<(ArrayViewMut2<'a, i32>, u32)>,
    /// Outputs of `Extra::data2` (same length).
    pub img2: Vec<ArrayViewMut2<'a, f32>>,
    /// Output DQ (required when `Extra::dq` is given).
    pub dq: Option<ArrayViewMut2<'a, u32>>,
}

impl<'a> Outputs<'a> {
    /// Science and weight outputs only.
    pub fn new(img: ArrayViewMut2<'a, f32>, wht: ArrayViewMut2<'a, f32>) -> Self {
        Outputs {
            img,
            wht,
            ctx: None,
            img2: Vec::new(),
            dq: None,
        }
    }
}

/// What one [`add_image`] call did.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Input pixels of the `[xmin,xmax]x[ymin,ymax]` box not visited or with
    /// an invalid (NaN) footprint.
    pub nmiss: usize,
    /// Input rows of the box not visited.
    pub nskip: usize,
    /// Kernel actually used (point when `pixfrac <= 0.001`).
    pub kernel: Kernel,
    /// Pixel scale ratio used by the kernel (as float32).
    pub pscale_ratio: f32,
}

/// Drizzle one image onto the outputs with default extras (no `data2`, no DQ).
pub fn add_image(
    data: ArrayView2<f32>,
    weight: ArrayView2<f32>,
    pixmap: ArrayView3<f64>,
    params: &AddImage,
    out: &mut Outputs,
) -> Result<Stats> {
    add_image_with(data, weight, pixmap, &Extra::default(), params, out)
}

/// Drizzle one image (with optional `data2` arrays and DQ) onto the outputs.
///
/// `data`, `weight`, every `data2` entry and `dq` have the input shape
/// `(ny, nx)`; `pixmap` has shape `(ny, nx, 2)` and gives the output position
/// `(X, Y)` of every input pixel centre. Each output pixel receives its
/// contributions in the reference order, so results are bitwise equal to
/// drizzle 2.2.0 and independent of the thread count.
pub fn add_image_with(
    data: ArrayView2<f32>,
    weight: ArrayView2<f32>,
    pixmap: ArrayView3<f64>,
    extra: &Extra,
    params: &AddImage,
    out: &mut Outputs,
) -> Result<Stats> {
    let (ny, nx) = data.dim();
    let oshape = out.img.dim();
    check_inputs(&data, &weight, &pixmap, extra, params, out)?;

    let mut kernel = params.kernel;
    if params.pixfrac <= 0.001 {
        kernel = Kernel::Point;
    }
    let xmin = params.xmin;
    let ymin = params.ymin;
    let xmax = match params.xmax {
        Some(v) if v != 0 && v < nx => v,
        _ => nx - 1,
    };
    let ymax = match params.ymax {
        Some(v) if v != 0 && v < ny => v,
        _ => ny - 1,
    };
    if xmin >= xmax || ymin >= ymax {
        return Err(Error::value(format!(
            "Invalid input range: need xmin < xmax and ymin < ymax (got x {xmin}..{xmax}, y {ymin}..{ymax})."
        )));
    }
    let region = scan::scan_region(&pixmap, xmin, xmax, ymin, ymax, oshape)?;

    let psr: f32 = match params.pscale_ratio {
        Some(r) => r,
        None if kernel.uses_pixel_scale_ratio() => estimate_pscale_ratio(&pixmap, region.centroid)?,
        None => 1.0,
    };

    let (pf, psr64) = (params.pixfrac, psr as f64);
    let call = DrizzleCall {
        data,
        weight,
        pixmap,
        extra,
        params,
        region: &region,
    };
    let nmiss = crate::parallel::install(|| match kernel {
        Kernel::Square => call.run(&kernels::Square::new(pf), out),
        Kernel::Point => call.run(&kernels::Point, out),
        Kernel::Turbo => call.run(&kernels::Turbo::new(pf, psr64), out),
        Kernel::Gaussian => call.run(&kernels::Gaussian::new(pf, psr64), out),
        Kernel::Lanczos2 => call.run(&kernels::Lanczos::new(2, psr64), out),
        Kernel::Lanczos3 => call.run(&kernels::Lanczos::new(3, psr64), out),
    });

    let box_rows = ymax - ymin + 1;
    let visited_rows = region.rows.len();
    let box_pixels = box_rows * (xmax - xmin + 1);
    let visited: usize = region.rows.iter().map(|&(_, a, b)| b - a + 1).sum();
    Ok(Stats {
        nmiss: box_pixels - visited + nmiss,
        nskip: box_rows - visited_rows,
        kernel,
        pscale_ratio: psr,
    })
}

/// The reference's estimate of the pixel scale ratio from the pixel map
/// (spec 2.3): `sqrt(|det J|)` of the map's finite differences at input
/// pixel `at` (the reference always ends up at `(0, 0)`, see
/// [`scan::ScanRegion::centroid`]). It is the *inverse* of the output/input
/// ratio it is meant to estimate. Errors when the estimate is NaN, as the
/// reference does.
pub fn estimate_pscale_ratio(pixmap: &ArrayView3<f64>, at: Option<(f64, f64)>) -> Result<f32> {
    let ny = pixmap.shape()[0];
    let nx = pixmap.shape()[1];
    let (cx, cy) = at.unwrap_or((0.0, 0.0));
    let i = (cx as i64).clamp(0, nx as i64 - 2) as usize;
    let j = (cy as i64).clamp(0, ny as i64 - 2) as usize;
    let p = |jj: usize, ii: usize, c: usize| pixmap[[jj, ii, c]];
    let x00 = p(j, i, 0);
    let y00 = p(j, i, 1);
    let x10 = p(j, i + 1, 0);
    let y10 = p(j, i + 1, 1);
    let x01 = p(j + 1, i, 0);
    let y01 = p(j + 1, i, 1);
    let r = (((x10 - x00) * (y01 - y00) - (y10 - y00) * (x01 - x00)).abs()).sqrt() as f32;
    if r.is_nan() {
        return Err(Error::value("Unable to estimate pscale_ratio"));
    }
    Ok(r)
}

fn check_inputs(
    data: &ArrayView2<f32>,
    weight: &ArrayView2<f32>,
    pixmap: &ArrayView3<f64>,
    extra: &Extra,
    params: &AddImage,
    out: &Outputs,
) -> Result<()> {
    let (ny, nx) = data.dim();
    if ny < 2 || nx < 2 {
        return Err(Error::value("No or too few valid pixels in the pixel map."));
    }
    if weight.dim() != (ny, nx) {
        return Err(Error::shape(format!(
            "'weight_map' has shape {:?}; it must match the input data shape {:?}.",
            weight.shape(),
            data.shape()
        )));
    }
    if pixmap.dim() != (ny, nx, 2) {
        return Err(Error::shape(format!(
            "'pixmap' has shape {:?}; it must be (ny, nx, 2) = ({ny}, {nx}, 2) for input data of shape {:?}.",
            pixmap.shape(),
            data.shape()
        )));
    }
    for (k, d2) in extra.data2.iter().enumerate() {
        if let Some(d2) = d2 {
            if d2.dim() != (ny, nx) {
                return Err(Error::shape(format!(
                    "'data2[{k}]' has shape {:?}; it must match the input data shape {:?}.",
                    d2.shape(),
                    data.shape()
                )));
            }
        }
    }
    if extra.data2.len() != out.img2.len() {
        return Err(Error::value(format!(
            "Mismatch between the number of 'out_img2' images ({}) and the number of 'data2' images ({}).",
            out.img2.len(),
            extra.data2.len()
        )));
    }
    if let Some(dq) = &extra.dq {
        if dq.dim() != (ny, nx) {
            return Err(Error::shape(format!(
                "'dq' has shape {:?}; it must match the input data shape {:?}.",
                dq.shape(),
                data.shape()
            )));
        }
        if out.dq.is_none() {
            return Err(Error::value("An input 'dq' requires an output DQ array."));
        }
    }
    let oshape = out.img.dim();
    let same = |d: (usize, usize), name: &str| -> Result<()> {
        if d != oshape {
            Err(Error::shape(format!(
                "Output array '{name}' has shape {d:?}; it must match 'out_img' {oshape:?}."
            )))
        } else {
            Ok(())
        }
    };
    same(out.wht.dim(), "out_wht")?;
    if let Some((ctx, bit)) = &out.ctx {
        same(ctx.dim(), "out_ctx")?;
        if *bit > 31 {
            return Err(Error::value("Context bit must be in 0..=31."));
        }
    }
    for o in &out.img2 {
        same(o.dim(), "out_img2")?;
    }
    if let Some(o) = &out.dq {
        same(o.dim(), "out_dq")?;
    }
    if !params.pixfrac.is_finite() {
        return Err(Error::value("'pixfrac' must be a finite number."));
    }
    if !(params.iscale.is_finite() && params.iscale > 0.0) {
        return Err(Error::value("'iscale' must be a positive finite number."));
    }
    if !(params.wtscale.is_finite() && params.wtscale > 0.0) {
        return Err(Error::value(
            "'wht_scale' must be a positive finite number.",
        ));
    }
    if let Some(r) = params.pscale_ratio {
        if !(r.is_finite() && r > 0.0) {
            return Err(Error::value(
                "'pixel_scale_ratio' must be a positive finite number.",
            ));
        }
    }
    Ok(())
}

struct InputSet<'a> {
    nx: usize,
    data: &'a [f32],
    weight: &'a [f32],
    pixmap: PixmapRef<'a>,
    data2: Vec<Option<&'a [f32]>>,
    dq: Option<&'a [u32]>,
    iscale: f32,
    iscale2: f32,
    wtscale: f32,
}

/// `(j, i_lo, i_hi)`: an input row and an inclusive column run of it (or,
/// in the pre-pass, `(band, i_lo, i_hi)`).
type Run = (usize, usize, usize);

/// One band of output rows: contiguous row-major slices of every output.
struct Band<'o> {
    row0: usize,
    nrows: usize,
    img: &'o mut [f32],
    wht: &'o mut [f32],
    ctx: Option<&'o mut [i32]>,
    img2: Vec<&'o mut [f32]>,
    dq: Option<&'o mut [u32]>,
    /// `(j, i_lo, i_hi)` input runs touching this band, in reference order.
    runs: Vec<Run>,
}

fn band_height(ny_o: usize) -> usize {
    let threads = crate::parallel::get_num_threads().max(1);
    if threads == 1 {
        return ny_o.max(1); // one band: no pre-pass needed
    }
    // Enough bands for load balance, not so thin that pixels straddle many.
    (ny_o / (threads * 8)).clamp(16, 256)
}

/// A standard-layout view of `a`, copying only when it is not contiguous.
fn contiguous<'a, T: Clone, D: ndarray::Dimension>(
    a: ndarray::ArrayView<'a, T, D>,
) -> ndarray::CowArray<'a, T, D> {
    if a.is_standard_layout() {
        ndarray::CowArray::from(a)
    } else {
        ndarray::CowArray::from(a.as_standard_layout().into_owned())
    }
}

/// A contiguous copy of an output view that is not contiguous (copied back
/// after the call), or `None` when the view can be used directly.
fn staging<T: Copy>(v: &ArrayViewMut2<T>) -> Option<ndarray::Array2<T>> {
    if v.is_standard_layout() {
        None
    } else {
        Some(v.as_standard_layout().into_owned())
    }
}

fn slice_of<'b, T>(
    v: &'b mut ArrayViewMut2<T>,
    staged: &'b mut Option<ndarray::Array2<T>>,
) -> &'b mut [T] {
    match staged {
        Some(a) => a.as_slice_mut().unwrap_or(&mut []),
        None => v.as_slice_mut().unwrap_or(&mut []),
    }
}

fn unstage<T: Copy>(v: &mut ArrayViewMut2<T>, staged: Option<ndarray::Array2<T>>) {
    if let Some(a) = staged {
        v.assign(&a);
    }
}

/// Split `s` (row-major, `nx` columns) into bands of `bh` rows.
fn split_rows<T>(s: &mut [T], nx: usize, bh: usize) -> Vec<&mut [T]> {
    s.chunks_mut((bh * nx).max(1)).collect()
}

/// The inputs of one drizzle call, run with a concrete kernel.
struct DrizzleCall<'a, 'x, 'e> {
    data: ArrayView2<'a, f32>,
    weight: ArrayView2<'a, f32>,
    pixmap: ArrayView3<'a, f64>,
    extra: &'e Extra<'x>,
    params: &'e AddImage,
    region: &'e scan::ScanRegion,
}

impl DrizzleCall<'_, '_, '_> {
    fn run<K: KernelImpl>(&self, kern: &K, out: &mut Outputs) -> usize {
        run_drizzle(
            kern,
            self.data,
            self.weight,
            self.pixmap,
            self.extra,
            self.params,
            self.region,
            out,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn run_drizzle<K: KernelImpl>(
    prepared: &K,
    data: ArrayView2<f32>,
    weight: ArrayView2<f32>,
    pixmap: ArrayView3<f64>,
    extra: &Extra,
    params: &AddImage,
    region: &scan::ScanRegion,
    out: &mut Outputs,
) -> usize {
    let data = contiguous(data);
    let weight = contiguous(weight);
    let pixmap = contiguous(pixmap);
    let data2: Vec<Option<ndarray::CowArray<f32, ndarray::Ix2>>> =
        extra.data2.iter().map(|d| d.map(contiguous)).collect();
    let dq = extra.dq.map(contiguous);
    let (Some(data_s), Some(weight_s)) = (data.as_slice(), weight.as_slice()) else {
        return 0;
    };
    let Some(pm) = PixmapRef::new(&pixmap.view()) else {
        return 0;
    };
    let inp = InputSet {
        nx: data.ncols(),
        data: data_s,
        weight: weight_s,
        pixmap: pm,
        data2: data2
            .iter()
            .map(|d| d.as_ref().and_then(|a| a.as_slice()))
            .collect(),
        dq: dq.as_ref().and_then(|a| a.as_slice()),
        iscale: params.iscale,
        iscale2: params.iscale * params.iscale,
        wtscale: params.wtscale,
    };
    let ctx_mask: i32 = match &out.ctx {
        Some((_, bit)) => (1u32 << bit) as i32,
        None => 0,
    };
    let (ny_o, nx_o) = out.img.dim();
    if ny_o == 0 || nx_o == 0 {
        return 0;
    }
    // Contiguous slices of every output (non-contiguous views are staged).
    let mut st_img = staging(&out.img);
    let mut st_wht = staging(&out.wht);
    let mut st_ctx = out.ctx.as_ref().and_then(|(c, _)| staging(c));
    let mut st_dq = out.dq.as_ref().and_then(staging);
    let mut st_img2: Vec<_> = out.img2.iter().map(staging).collect();
    let nmiss = {
        let outs = OutSlices {
            img: slice_of(&mut out.img, &mut st_img),
            wht: slice_of(&mut out.wht, &mut st_wht),
            ctx: out.ctx.as_mut().map(|(c, _)| slice_of(c, &mut st_ctx)),
            dq: out.dq.as_mut().map(|d| slice_of(d, &mut st_dq)),
            img2: out
                .img2
                .iter_mut()
                .zip(st_img2.iter_mut())
                .map(|(v, c)| slice_of(v, c))
                .collect(),
        };
        run_bands(prepared, &inp, region, params, ctx_mask, (ny_o, nx_o), outs)
    };
    unstage(&mut out.img, st_img);
    unstage(&mut out.wht, st_wht);
    if let Some((c, _)) = out.ctx.as_mut() {
        unstage(c, st_ctx);
    }
    if let Some(d) = out.dq.as_mut() {
        unstage(d, st_dq);
    }
    for (v, c) in out.img2.iter_mut().zip(st_img2) {
        unstage(v, c);
    }
    nmiss
}

struct OutSlices<'o> {
    img: &'o mut [f32],
    wht: &'o mut [f32],
    ctx: Option<&'o mut [i32]>,
    dq: Option<&'o mut [u32]>,
    img2: Vec<&'o mut [f32]>,
}

/// Pre-pass (parallel over input rows; skipped with a single band) + band
/// accumulation (parallel over bands). Returns the number of visited pixels
/// with no valid footprint.
fn run_bands<K: KernelImpl>(
    prepared: &K,
    inp: &InputSet,
    region: &scan::ScanRegion,
    params: &AddImage,
    ctx_mask: i32,
    (ny_o, nx_o): (usize, usize),
    outs: OutSlices,
) -> usize {
    let bh = band_height(ny_o);
    let nbands = ny_o.div_ceil(bh);

    let mut invalid_total = 0usize;
    let band_runs: Vec<Vec<Run>> = if nbands == 1 {
        vec![region.rows.clone()]
    } else {
        // For every visited input row, the column run touching each band.
        let per_row: Vec<(Vec<Run>, usize)> = region
            .rows
            .par_iter()
            .map(|&(j, i0, i1)| {
                let mut lo = vec![usize::MAX; nbands];
                let mut hi = vec![0usize; nbands];
                let (mut bmin, mut bmax) = (usize::MAX, 0usize);
                let mut invalid = 0usize;
                for i in i0..=i1 {
                    match prepared.geometry(&inp.pixmap, i, j, nx_o, ny_o) {
                        Some((_, (r0, r1))) => {
                            let (b0, b1) = (r0 / bh, r1 / bh);
                            for b in b0..=b1 {
                                lo[b] = lo[b].min(i);
                                hi[b] = hi[b].max(i);
                            }
                            bmin = bmin.min(b0);
                            bmax = bmax.max(b1);
                        }
                        None => invalid += 1,
                    }
                }
                let mut runs = Vec::new();
                if bmin != usize::MAX {
                    for b in bmin..=bmax {
                        if lo[b] != usize::MAX {
                            runs.push((b, lo[b], hi[b]));
                        }
                    }
                }
                (runs, invalid)
            })
            .collect();
        let mut band_runs = vec![Vec::new(); nbands];
        for (&(j, _, _), (runs, invalid)) in region.rows.iter().zip(per_row.iter()) {
            invalid_total += invalid;
            for &(b, l, h) in runs {
                band_runs[b].push((j, l, h));
            }
        }
        band_runs
    };

    let OutSlices {
        img,
        wht,
        ctx,
        dq,
        img2,
    } = outs;
    let mut imgs = split_rows(img, nx_o, bh).into_iter();
    let mut whts = split_rows(wht, nx_o, bh).into_iter();
    let mut ctxs = ctx.map(|c| split_rows(c, nx_o, bh).into_iter());
    let mut dqs = dq.map(|d| split_rows(d, nx_o, bh).into_iter());
    let mut img2s: Vec<_> = img2
        .into_iter()
        .map(|a| split_rows(a, nx_o, bh).into_iter())
        .collect();
    let mut bands: Vec<Band> = Vec::with_capacity(nbands);
    for (b, runs) in band_runs.into_iter().enumerate() {
        let (Some(img), Some(wht)) = (imgs.next(), whts.next()) else {
            break;
        };
        bands.push(Band {
            row0: b * bh,
            nrows: img.len() / nx_o,
            img,
            wht,
            ctx: ctxs.as_mut().and_then(|it| it.next()),
            img2: img2s.iter_mut().filter_map(|it| it.next()).collect(),
            dq: dqs.as_mut().and_then(|it| it.next()),
            runs,
        });
    }
    let full = !inp.data2.is_empty() || inp.dq.is_some();
    let counted = nbands == 1;
    let invalid_single: usize = bands
        .par_iter_mut()
        .map(|band| {
            let n = if full {
                accumulate::<K, true>(prepared, inp, band, ctx_mask, nx_o, ny_o)
            } else {
                accumulate::<K, false>(prepared, inp, band, ctx_mask, nx_o, ny_o)
            };
            if let Some(fill) = params.fill {
                for (s, w) in band.img.iter_mut().zip(band.wht.iter()) {
                    if *w == 0.0 {
                        *s = fill;
                    }
                }
                if let Some(fill2) = params.fill2 {
                    for o in band.img2.iter_mut() {
                        for (s, w) in o.iter_mut().zip(band.wht.iter()) {
                            if *w == 0.0 {
                                *s = fill2;
                            }
                        }
                    }
                }
            }
            n
        })
        .sum();
    if counted {
        invalid_single
    } else {
        invalid_total
    }
}

/// Accumulate every contribution landing in `band`, in reference order.
/// `FULL` selects the data2 + DQ variant (same geometry). Returns the number
/// of visited pixels without a valid footprint (meaningful for one band).
fn accumulate<K: KernelImpl, const FULL: bool>(
    prepared: &K,
    inp: &InputSet,
    band: &mut Band,
    ctx_mask: i32,
    nx_o: usize,
    ny_o: usize,
) -> usize {
    let row0 = band.row0;
    let row1 = row0 + band.nrows - 1;
    let nd2 = inp.data2.len();
    let mut d2 = vec![0.0f32; nd2];
    let mut invalid = 0usize;
    let runs = std::mem::take(&mut band.runs);
    let nx = inp.nx;
    for &(j, i0, i1) in &runs {
        for i in i0..=i1 {
            let Some((geom, (r0, r1))) = prepared.geometry(&inp.pixmap, i, j, nx_o, ny_o) else {
                invalid += 1;
                continue;
            };
            let lo = r0.max(row0);
            let hi = r1.min(row1);
            if lo > hi {
                continue;
            }
            let k = j * nx + i;
            let d = inp.data[k] * inp.iscale;
            let w = inp.weight[k] * inp.wtscale;
            let mut dq_in = 0u32;
            if FULL {
                for (slot, src) in d2.iter_mut().zip(inp.data2.iter()) {
                    *slot = match src {
                        Some(a) => a[k] * inp.iscale2,
                        None => 0.0,
                    };
                }
                if let Some(dq) = inp.dq {
                    dq_in = dq[k];
                }
            }
            let img = &mut *band.img;
            let wht = &mut *band.wht;
            let mut ctx = band.ctx.as_deref_mut();
            let img2 = &mut band.img2;
            let mut dq = band.dq.as_deref_mut();
            prepared.contribute(&geom, w, lo, hi, nx_o, |ii, jj, dow| {
                let o = (jj - row0) * nx_o + ii;
                if dow > 0.0 {
                    if let Some(c) = ctx.as_deref_mut() {
                        c[o] |= ctx_mask;
                    }
                }
                if dow == 0.0 {
                    return;
                }
                let vc = wht[o];
                let s = vc + dow;
                if vc == 0.0 {
                    img[o] = d;
                    if FULL {
                        for (out2, v) in img2.iter_mut().zip(d2.iter()) {
                            out2[o] = *v;
                        }
                        if let Some(q) = dq.as_deref_mut() {
                            q[o] = dq_in;
                        }
                    }
                } else {
                    let num = img[o] * vc + dow * d;
                    // == f32(f64(num) / f64(s)) of the reference: rounding a
                    // correctly rounded f64 quotient of two f32 values to f32
                    // is the correctly rounded f32 quotient (53 >= 2*24 + 2).
                    img[o] = num / s;
                    if FULL {
                        let vc2 = (vc * vc) as f64;
                        let dow2 = (dow * dow) as f64;
                        let s2 = s as f64 * s as f64;
                        for (out2, v) in img2.iter_mut().zip(d2.iter()) {
                            out2[o] = ((out2[o] as f64 * vc2 + dow2 * *v as f64) / s2) as f32;
                        }
                        if let Some(q) = dq.as_deref_mut() {
                            q[o] |= dq_in;
                        }
                    }
                }
                wht[o] = s;
            });
        }
    }
    invalid
}

#[cfg(test)]
mod tests {
    /// The science update divides in single precision; this is bitwise equal
    /// to the reference's division in double precision rounded to float.
    #[test]
    fn single_precision_division_equals_rounded_double_division() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            f32::from_bits((state >> 32) as u32)
        };
        let mut checked = 0;
        while checked < 2_000_000 {
            let (a, b) = (next(), next());
            if !a.is_finite() || !b.is_finite() || b == 0.0 {
                continue;
            }
            let single = a / b;
            let double = (a as f64 / b as f64) as f32;
            assert!(
                single.to_bits() == double.to_bits() || (single.is_nan() && double.is_nan()),
                "{a} / {b}"
            );
            checked += 1;
        }
    }
}
