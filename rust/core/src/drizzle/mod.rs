//! Drizzle resampling (spec `drizzle.md`): the accumulator update of section
//! 4, the six kernels of section 5, the scan region of section 6, fill values
//! (section 7), context bitfields (section 8) and blot (section 9).
//!
//! Results are bitwise identical to the reference C implementation
//! (`drizzle` 2.2.0) and to themselves at any thread count: the output is cut
//! into bands of rows, every band visits the input in the reference order and
//! keeps only the contributions that fall inside it.
//!
//! With several bands a parallel pre-pass finds, for every input row, the
//! column runs whose footprints may touch each band, from a cheap
//! conservative y extent per input pixel (`KernelImpl::y_extent`,
//! in blocks of pixels): a run may hold a few pixels that turn out not to
//! touch the band, never miss one. The accumulation loop is compiled twice,
//! for the baseline instruction set and for AVX2 (runtime detection); the
//! vector code is in the `simd` module.

pub mod blot;
pub mod context;
pub mod geometry;
mod kernels;
pub mod scan;
mod simd;
pub(crate) mod vexp;

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
    index: usize,
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

impl Band<'_> {
    /// The science/weight/context view of the band for the vector kernels
    /// (value `d` set per input pixel), and its DQ output.
    fn view(&mut self, nx_o: usize, ctx_mask: i32) -> (simd::BandView<'_>, Option<&mut [u32]>) {
        let view = simd::BandView {
            img: &mut *self.img,
            wht: &mut *self.wht,
            ctx: self.ctx.as_deref_mut(),
            row0: self.row0,
            nx_o,
            d: 0.0,
            ctx_mask,
            full: None,
        };
        (view, self.dq.as_deref_mut())
    }
}

/// Input pixels per band-range block of the pre-pass.
const PREPASS_BLOCK: usize = 8;

/// [`PREPASS_BLOCK`] of the square kernel's block extents.
const SQUARE_BLOCK: usize = 16;

/// [`PREPASS_BLOCK`] of the centre-based kernels (a multiple of 8).
const CENTER_BLOCK: usize = 32;

/// One input row of the pre-pass.
struct PrepassRow<'p, K> {
    prepared: &'p K,
    pixmap: &'p PixmapRef<'p>,
    bands: &'p BandMap,
    j: usize,
    cols: (usize, usize),
    out: (usize, usize),
}

impl<K: KernelImpl> PrepassRow<'_, K> {
    /// [`KernelImpl::row_extents`] then [`prepass_row`].
    #[inline(always)]
    fn run<const AVX2: bool>(&self, lo: &mut [f64], hi: &mut [f64]) -> (Vec<Run>, usize) {
        if let Some(e) = self.prepared.center_half_extent() {
            let (i0, i1) = self.cols;
            let xy = self
                .pixmap
                .row(self.j)
                .get(2 * i0..2 * (i1 + 1))
                .unwrap_or(&[]);
            return prepass_center_row::<AVX2>(self.bands, i0, xy, e);
        }
        if K::IS_SQUARE {
            return self.blockwise(lo, hi);
        }
        self.prepared
            .row_extents(self.pixmap, self.j, self.cols, self.out, lo, hi);
        prepass_row(self.bands, self.cols.0, lo, hi)
    }

    /// [`prepass_row`] block by block: a block whose
    /// [`KernelImpl::block_extent`] lies inside the output rows (so every
    /// pixel touches the output) takes that interval, the others their
    /// pixels' extents. The runs may grow by the block extents' slack, the
    /// count is the same.
    #[inline(always)]
    fn blockwise(&self, lo: &mut [f64], hi: &mut [f64]) -> (Vec<Run>, usize) {
        let (i0, i1) = self.cols;
        let mut runs = BlockRuns::new(self.bands, i0);
        let mut invalid = 0usize;
        let mut first = i0;
        while first <= i1 {
            let last = (first + SQUARE_BLOCK - 1).min(i1);
            let n = last - first + 1;
            if let Some((blo, bhi)) = self.prepared.block_extent(self.pixmap, self.j, first, last) {
                if blo >= 0.0 && bhi <= self.bands.ymax {
                    runs.push(blo, bhi, n);
                    first = last + 1;
                    continue;
                }
            }
            let (Some(l), Some(h)) = (lo.get_mut(..n), hi.get_mut(..n)) else {
                break;
            };
            self.prepared
                .row_extents(self.pixmap, self.j, (first, last), self.out, l, h);
            let (mut blo, mut bhi) = (f64::INFINITY, f64::NEG_INFINITY);
            for (&a, &b) in l.iter().zip(h.iter()) {
                let ok = self.bands.touches(a, b);
                invalid += usize::from(!ok);
                let a = if ok { a } else { f64::INFINITY };
                let b = if ok { b } else { f64::NEG_INFINITY };
                blo = if a < blo { a } else { blo };
                bhi = if b > bhi { b } else { bhi };
            }
            runs.push(blo, bhi, n);
            first = last + 1;
        }
        (runs.finish(), invalid)
    }

    /// [`PrepassRow::run`] compiled for the best instruction set of this CPU.
    fn run_dispatch(&self, lo: &mut [f64], hi: &mut [f64]) -> (Vec<Run>, usize) {
        #[cfg(target_arch = "x86_64")]
        if simd::has_avx2() {
            // SAFETY: AVX2 support was detected at run time.
            return unsafe { self.run_avx2(lo, hi) };
        }
        self.run::<false>(lo, hi)
    }

    /// [`PrepassRow::run`] with AVX2 code generation.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn run_avx2(&self, lo: &mut [f64], hi: &mut [f64]) -> (Vec<Run>, usize) {
        self.run::<true>(lo, hi)
    }
}

/// The column runs `(band, i_lo, i_hi)` of one input row (pixels from `i0`,
/// y extents `lo`/`hi` as from [`KernelImpl::row_extents`]) and the number of
/// its pixels without any footprint ([`BandMap::of`] is `None`).
///
/// Blocks of [`PREPASS_BLOCK`] pixels share one band range: the runs grow by
/// at most a block at each end (a few per cent of extra footprints evaluated
/// by `accumulate`), and the per-band bookkeeping runs once per block.
#[inline(always)]
fn prepass_row(bands: &BandMap, i0: usize, lo: &[f64], hi: &[f64]) -> (Vec<Run>, usize) {
    let mut invalid = 0usize;
    let mut runs = BlockRuns::new(bands, i0);
    for (l, h) in lo.chunks(PREPASS_BLOCK).zip(hi.chunks(PREPASS_BLOCK)) {
        // (min lo, max hi) of the pixels that touch the output, and the
        // number that do not; written as plain reductions (no temporary
        // arrays: the compiler would fill them with masked stores)
        let (mut blo, mut bhi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (&a, &b) in l.iter().zip(h.iter()) {
            // == BandMap::of(..).is_some() (false for NaN)
            let ok = bands.touches(a, b);
            invalid += usize::from(!ok);
            let a = if ok { a } else { f64::INFINITY };
            let b = if ok { b } else { f64::NEG_INFINITY };
            blo = if a < blo { a } else { blo };
            bhi = if b > bhi { b } else { bhi };
        }
        runs.push(blo, bhi, l.len());
    }
    (runs.finish(), invalid)
}

/// [`prepass_row`] of a centre-based kernel (y extent `y -+ e` of the pixel
/// centre, `None` outside the C `int` range: `kernels::center_extent`)
/// straight from the map row `xy` (interleaved `(X, Y)` of the pixels from
/// `i0`), without the per-pixel extent arrays; full blocks with AVX2 when
/// `AVX2` (the caller is compiled for it). Same runs and count.
#[inline(always)]
fn prepass_center_row<const AVX2: bool>(
    bands: &BandMap,
    i0: usize,
    xy: &[f64],
    e: f64,
) -> (Vec<Run>, usize) {
    let mut invalid = 0usize;
    let mut runs = BlockRuns::new(bands, i0);
    for blk in xy.chunks(2 * CENTER_BLOCK) {
        #[cfg(target_arch = "x86_64")]
        if AVX2 && blk.len() == 2 * CENTER_BLOCK {
            let (mut blo, mut bhi) = (f64::INFINITY, f64::NEG_INFINITY);
            for part in blk.chunks_exact(16) {
                let Ok(b) = <&[f64; 16]>::try_from(part) else {
                    break;
                };
                // SAFETY: the caller is compiled with AVX2 (checked at run time).
                let (l, h, bad) = unsafe { simd::center_block(b, e, bands.ymax) };
                invalid += bad;
                blo = blo.min(l);
                bhi = bhi.max(h);
            }
            runs.push(blo, bhi, CENTER_BLOCK);
            continue;
        }
        let (mut blo, mut bhi) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in blk.chunks_exact(2) {
            let (x, y) = (p[0], p[1]);
            let (a, b) = (y - e, y + e);
            let ok = kernels::in_c_int_range(x) & kernels::in_c_int_range(y) & bands.touches(a, b);
            invalid += usize::from(!ok);
            let a = if ok { a } else { f64::INFINITY };
            let b = if ok { b } else { f64::NEG_INFINITY };
            blo = if a < blo { a } else { blo };
            bhi = if b > bhi { b } else { bhi };
        }
        runs.push(blo, bhi, blk.len() / 2);
    }
    (runs.finish(), invalid)
}

/// The band runs of one input row, built from the `(min lo, max hi,
/// length)` of its consecutive pixel blocks (the first starting at column
/// `i0`); a block with `min lo > max hi` touches nothing.
struct BlockRuns<'b> {
    bands: &'b BandMap,
    first_i: Vec<usize>,
    last_i: Vec<usize>,
    bmin: usize,
    bmax: usize,
    next: usize,
}

impl<'b> BlockRuns<'b> {
    #[inline(always)]
    fn new(bands: &'b BandMap, i0: usize) -> Self {
        let nb = bands.last + 1;
        BlockRuns {
            bands,
            first_i: vec![usize::MAX; nb],
            last_i: vec![0usize; nb],
            bmin: usize::MAX,
            bmax: 0,
            next: i0,
        }
    }

    #[inline(always)]
    fn push(&mut self, blo: f64, bhi: f64, len: usize) {
        let start = self.next;
        self.next += len;
        if blo > bhi {
            return;
        }
        let Some((b0, b1)) = self.bands.of(Some((blo, bhi))) else {
            return;
        };
        let last = start + len - 1;
        for b in b0..=b1 {
            if let (Some(f), Some(l)) = (self.first_i.get_mut(b), self.last_i.get_mut(b)) {
                if *f == usize::MAX {
                    *f = start;
                }
                *l = last;
            }
        }
        self.bmin = self.bmin.min(b0);
        self.bmax = self.bmax.max(b1);
    }

    #[inline(always)]
    fn finish(self) -> Vec<Run> {
        let mut runs = Vec::new();
        if self.bmin != usize::MAX {
            for b in self.bmin..=self.bmax {
                if self.first_i[b] != usize::MAX {
                    runs.push((b, self.first_i[b], self.last_i[b]));
                }
            }
        }
        runs
    }
}

/// Which bands of output rows a conservative y extent touches.
struct BandMap {
    inv_bh: f64,
    last: usize,
    ymax: f64,
}

impl BandMap {
    /// Whether `[lo - 1, hi + 1]` meets the output rows (false for NaN).
    #[inline(always)]
    fn touches(&self, lo: f64, hi: f64) -> bool {
        (hi + 1.0 >= 0.0) & (lo - 1.0 <= self.ymax)
    }

    fn new(bh: usize, nbands: usize, ny_o: usize) -> Self {
        BandMap {
            inv_bh: 1.0 / bh as f64,
            last: nbands.saturating_sub(1),
            ymax: ny_o as f64 - 0.5,
        }
    }

    /// The bands `[b0, b1]` containing every row in `[lo - 1, hi + 1]` of a
    /// [`KernelImpl::y_extent`], or `None` when that range misses the output
    /// (then the pixel has no footprint). `floor((lo - 1) / bh)` is at most
    /// the band of the lowest possible row because the rounding of the
    /// product errs by far less than the slack (`nint(lo) >= lo - 0.5`).
    #[inline(always)]
    fn of(&self, ext: Option<(f64, f64)>) -> Option<(usize, usize)> {
        let (lo, hi) = ext?;
        if !self.touches(lo, hi) {
            return None;
        }
        // truncation of a non-negative value is its floor
        let b0 = ((lo - 1.0) * self.inv_bh).max(0.0) as usize;
        let b1 = ((hi + 1.0) * self.inv_bh).max(0.0) as usize;
        Some((b0.min(self.last), b1.min(self.last)))
    }
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
    let bands = BandMap::new(bh, nbands, ny_o);

    let mut invalid_total = 0usize;
    let band_runs: Vec<Vec<Run>> = if nbands == 1 {
        vec![region.rows.clone()]
    } else {
        // For every visited input row, the column run touching each band.
        let per_row: Vec<(Vec<Run>, usize)> = region
            .rows
            .par_iter()
            .map_init(
                || (Vec::new(), Vec::new()),
                |(elo, ehi), &(j, i0, i1)| {
                    let n = i1 - i0 + 1;
                    elo.resize(n, 0.0);
                    ehi.resize(n, 0.0);
                    let row = PrepassRow {
                        prepared,
                        pixmap: &inp.pixmap,
                        bands: &bands,
                        j,
                        cols: (i0, i1),
                        out: (nx_o, ny_o),
                    };
                    row.run_dispatch(&mut elo[..n], &mut ehi[..n])
                },
            )
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
    let mut band_list: Vec<Band> = Vec::with_capacity(nbands);
    for (b, runs) in band_runs.into_iter().enumerate() {
        let (Some(img), Some(wht)) = (imgs.next(), whts.next()) else {
            break;
        };
        band_list.push(Band {
            index: b,
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
    let invalid_bands: usize = band_list
        .par_iter_mut()
        .map(|band| {
            let n = if full {
                accumulate_dispatch::<K, true>(prepared, inp, band, ctx_mask, nx_o, ny_o, &bands)
            } else {
                accumulate_dispatch::<K, false>(prepared, inp, band, ctx_mask, nx_o, ny_o, &bands)
            };
            if let Some(fill) = params.fill {
                fill_unweighted(band.img, band.wht, fill);
                if let Some(fill2) = params.fill2 {
                    for o in band.img2.iter_mut() {
                        fill_unweighted(o, band.wht, fill2);
                    }
                }
            }
            n
        })
        .sum();
    invalid_total + invalid_bands
}

/// `out[k] = fill` wherever `wht[k] == 0` (spec 7). Blocks of 32 weights
/// without a zero, the usual case, are passed over after one vector test,
/// reading only the weights.
fn fill_unweighted(out: &mut [f32], wht: &[f32], fill: f32) {
    const B: usize = 32;
    let mut oc = out.chunks_mut(B);
    for w in wht.chunks(B) {
        let Some(o) = oc.next() else {
            break;
        };
        // an or-reduction of the comparisons (vectorised; no early exit)
        let any_zero = w.iter().fold(false, |a, &v| a | (v == 0.0));
        if any_zero {
            for (s, &v) in o.iter_mut().zip(w) {
                if v == 0.0 {
                    *s = fill;
                }
            }
        }
    }
}

/// The outputs of one band and the values of one input pixel: applies the
/// update rule (spec 4) to the contributions a kernel hands over.
struct BandSink<'b, S, const FULL: bool> {
    img: &'b mut [f32],
    wht: &'b mut [f32],
    ctx: Option<&'b mut [i32]>,
    /// The `img2` band outputs as (pointer, length), derived once per band
    /// from its exclusive slices and the only access to them meanwhile.
    img2: &'b [(*mut f32, usize)],
    dq: Option<&'b mut [u32]>,
    row0: usize,
    nx_o: usize,
    d: f32,
    d2: &'b [f32],
    dq_in: u32,
    ctx_mask: i32,
    isa: std::marker::PhantomData<S>,
}

impl<S: simd::Isa, const FULL: bool> BandSink<'_, S, FULL> {
    /// The update of output pixel `o` (band-relative index).
    #[inline(always)]
    fn update(&mut self, o: usize, dow: f32) {
        if dow > 0.0 {
            if let Some(c) = self.ctx.as_deref_mut().and_then(|c| c.get_mut(o)) {
                *c |= self.ctx_mask;
            }
        }
        if dow == 0.0 {
            return;
        }
        let (Some(im), Some(wt)) = (self.img.get_mut(o), self.wht.get_mut(o)) else {
            return;
        };
        let d = self.d;
        let vc = *wt;
        let s = vc + dow;
        if vc == 0.0 {
            *im = d;
            if FULL {
                for (&(p2, n2), v) in self.img2.iter().zip(self.d2.iter()) {
                    if o < n2 {
                        // SAFETY: o < n2, the length of the band slice behind
                        // p2, which nothing else accesses meanwhile.
                        unsafe { *p2.add(o) = *v };
                    }
                }
                if let Some(q) = self.dq.as_deref_mut().and_then(|q| q.get_mut(o)) {
                    *q = self.dq_in;
                }
            }
        } else {
            // see `simd::update_segment_scalar` for the single-precision division
            *im = (*im * vc + dow * d) / s;
            if FULL {
                let vc2 = (vc * vc) as f64;
                let dow2 = (dow * dow) as f64;
                let s2 = s as f64 * s as f64;
                for (&(p2, n2), v) in self.img2.iter().zip(self.d2.iter()) {
                    if o < n2 {
                        // SAFETY: as above.
                        let t = unsafe { &mut *p2.add(o) };
                        *t = ((*t as f64 * vc2 + dow2 * *v as f64) / s2) as f32;
                    }
                }
                if let Some(q) = self.dq.as_deref_mut().and_then(|q| q.get_mut(o)) {
                    *q |= self.dq_in;
                }
            }
        }
        *wt = s;
    }
}

impl<S: simd::Isa, const FULL: bool> kernels::Sink for BandSink<'_, S, FULL> {
    #[inline(always)]
    fn one(&mut self, jj: usize, ii: usize, dow: f32) {
        let o = (jj - self.row0) * self.nx_o + ii;
        self.update(o, dow);
    }

    #[inline(always)]
    fn band(&mut self) -> Option<simd::BandView<'_>> {
        let full = if FULL {
            if self.d2.len() != self.img2.len() {
                return None;
            }
            Some(simd::FullParts {
                img2: self.img2,
                d2: self.d2,
                dq: self.dq.as_deref_mut(),
                dq_in: self.dq_in,
            })
        } else {
            None
        };
        Some(simd::BandView {
            img: &mut *self.img,
            wht: &mut *self.wht,
            ctx: self.ctx.as_deref_mut(),
            row0: self.row0,
            nx_o: self.nx_o,
            d: self.d,
            ctx_mask: self.ctx_mask,
            full,
        })
    }
}

/// [`accumulate`] compiled for the best instruction set of this CPU.
fn accumulate_dispatch<K: KernelImpl, const FULL: bool>(
    prepared: &K,
    inp: &InputSet,
    band: &mut Band,
    ctx_mask: i32,
    nx_o: usize,
    ny_o: usize,
    bands: &BandMap,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if K::IS_SQUARE && simd::has_avx512() {
        // SAFETY: AVX-512F and AVX2 support were detected at run time.
        return unsafe {
            accumulate_avx512::<K, FULL>(prepared, inp, band, ctx_mask, nx_o, ny_o, bands)
        };
    }
    #[cfg(target_arch = "x86_64")]
    if K::IS_GAUSSIAN && simd::has_avx2() && vexp::fast_exp_kind() == Some(vexp::Kind::Fma) {
        // SAFETY: AVX2 and FMA support were detected at run time (the kind).
        return unsafe {
            accumulate_avx2_fma::<K, FULL>(prepared, inp, band, ctx_mask, nx_o, ny_o, bands)
        };
    }
    #[cfg(target_arch = "x86_64")]
    if simd::has_avx2() {
        // SAFETY: AVX2 support was detected at run time.
        return unsafe {
            accumulate_avx2::<K, FULL>(prepared, inp, band, ctx_mask, nx_o, ny_o, bands)
        };
    }
    // SAFETY: the baseline instruction set is always available.
    unsafe {
        accumulate::<K, FULL, simd::Baseline>(prepared, inp, band, ctx_mask, nx_o, ny_o, bands)
    }
}

/// `$name`: [`accumulate`] compiled with the target features `$features`
/// and the instruction set `$isa` (see the call sites for what each adds).
macro_rules! accumulate_with {
    ($(#[$doc:meta])* $name:ident, $features:literal, $isa:ty) => {
        $(#[$doc])*
        ///
        /// # Safety
        #[doc = concat!("The CPU must support ", $features, ".")]
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        unsafe fn $name<K: KernelImpl, const FULL: bool>(
            prepared: &K,
            inp: &InputSet,
            band: &mut Band,
            ctx_mask: i32,
            nx_o: usize,
            ny_o: usize,
            bands: &BandMap,
        ) -> usize {
            accumulate::<K, FULL, $isa>(prepared, inp, band, ctx_mask, nx_o, ny_o, bands)
        }
    };
}

accumulate_with!(
    /// [`accumulate`] with AVX2 code generation and lanes.
    accumulate_avx2,
    "avx2",
    simd::Avx2
);
accumulate_with!(
    /// [`accumulate`] with AVX-512 overlap areas (square kernel only: the
    /// other kernels gain nothing from it).
    accumulate_avx512,
    "avx2,avx512f",
    simd::Avx512
);
accumulate_with!(
    /// [`accumulate`] with AVX2 and FMA code generation (Gaussian kernel: the
    /// vector `exp` replaying glibc's FMA build). Rust never contracts
    /// `a * b + c` on its own, so enabling FMA changes no other operation.
    accumulate_avx2_fma,
    "avx2,fma",
    simd::Avx2Fma
);

/// Accumulate every contribution landing in `band`, in reference order.
/// `FULL` selects the data2 + DQ variant (same geometry). Returns the number
/// of visited pixels without a valid footprint that this band accounts for:
/// all of them when there is one band; otherwise those whose
/// [`KernelImpl::y_extent`] bands start with this band (the pre-pass counts
/// the pixels without a bound), so that each is counted exactly once.
///
/// # Safety
/// The CPU must support the instruction set `S`.
#[inline(always)]
unsafe fn accumulate<K: KernelImpl, const FULL: bool, S: simd::Isa>(
    prepared: &K,
    inp: &InputSet,
    band: &mut Band,
    ctx_mask: i32,
    nx_o: usize,
    ny_o: usize,
    bands: &BandMap,
) -> usize {
    // (the baseline switch of the tests also selects the generic loop)
    if K::IS_POINT && !FULL && !simd::force_baseline() {
        return accumulate_point(inp, band, ctx_mask, nx_o, ny_o, bands);
    }
    if let Some((pfo, scale)) = prepared.turbo_params() {
        if !FULL && !simd::force_baseline() {
            return accumulate_turbo::<S>(pfo, scale, inp, band, ctx_mask, nx_o, ny_o, bands);
        }
    }
    let row0 = band.row0;
    let miss = MissCount::new(band, ny_o);
    let row1 = row0 + band.nrows - 1;
    let nd2 = inp.data2.len();
    let mut d2 = vec![0.0f32; nd2];
    let mut invalid = 0usize;
    let runs = std::mem::take(&mut band.runs);
    let nx = inp.nx;
    // (pointer, length) of the img2 band slices; used instead of the slices
    // until the end of this function
    let img2_ptrs: Vec<(*mut f32, usize)> = band
        .img2
        .iter_mut()
        .map(|o| (o.as_mut_ptr(), o.len()))
        .collect();
    // the science/weight/context view of the band, made once (per pixel
    // only its value `d` changes); the sink below reborrows it
    let (mut view, mut dq_out) = band.view(nx_o, ctx_mask);
    for &(j, i0, i1) in &runs {
        for i in i0..=i1 {
            let Some((geom, (r0, r1))) = prepared.geometry::<S>(&inp.pixmap, i, j, nx_o, ny_o)
            else {
                invalid += usize::from(
                    miss.counts(bands, || prepared.y_extent(&inp.pixmap, i, j, nx_o, ny_o)),
                );
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
            if !FULL {
                view.d = d;
                if prepared.contribute_view::<S>(&geom, w, lo, hi, &mut view) {
                    continue;
                }
            }
            let mut sink = BandSink::<S, FULL> {
                img: &mut *view.img,
                wht: &mut *view.wht,
                ctx: view.ctx.as_deref_mut(),
                img2: &img2_ptrs,
                dq: dq_out.as_deref_mut(),
                row0,
                nx_o,
                d,
                d2: &d2,
                dq_in,
                ctx_mask,
                isa: std::marker::PhantomData,
            };
            prepared.contribute::<S, _>(&geom, w, lo, hi, nx_o, &mut sink);
        }
    }
    invalid
}

/// Which band counts an input pixel without a footprint, so that each is
/// counted exactly once: the only band, or else the band in which its
/// conservative y extent starts (pixels with no extent at all are counted by
/// the pre-pass).
#[derive(Clone, Copy)]
struct MissCount {
    single: bool,
    band: usize,
}

impl MissCount {
    fn new(band: &Band, ny_o: usize) -> Self {
        MissCount {
            single: band.row0 == 0 && band.nrows >= ny_o,
            band: band.index,
        }
    }

    /// Whether this band counts the pixel with y extent `ext()` (evaluated
    /// only with several bands).
    #[inline(always)]
    fn counts(self, bands: &BandMap, ext: impl FnOnce() -> Option<(f64, f64)>) -> bool {
        self.single || matches!(bands.of(ext()), Some((b0, _)) if b0 == self.band)
    }
}

/// The map, data and weight values of input run `(j, i0, i1)`.
#[inline(always)]
fn run_values<'a>(
    inp: &InputSet<'a>,
    (j, i0, i1): Run,
) -> Option<(&'a [f64], &'a [f32], &'a [f32])> {
    let nx = inp.nx;
    Some((
        inp.pixmap.row(j).get(2 * i0..2 * (i1 + 1))?,
        inp.data.get(j * nx + i0..=j * nx + i1)?,
        inp.weight.get(j * nx + i0..=j * nx + i1)?,
    ))
}

/// [`accumulate`] of the turbo kernel without `data2`/DQ: the same
/// contributions, updates and count of invalid pixels as the generic loop
/// with `kernels::Turbo` (half-width `pfo`, `scale`), with the band's output
/// view made once per call instead of once per input pixel.
///
/// # Safety
/// The CPU must support the instruction set `S`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn accumulate_turbo<S: simd::Isa>(
    pfo: f64,
    scale: f64,
    inp: &InputSet,
    band: &mut Band,
    ctx_mask: i32,
    nx_o: usize,
    ny_o: usize,
    bands: &BandMap,
) -> usize {
    let row0 = band.row0;
    let row1 = row0 + band.nrows - 1;
    let miss = MissCount::new(band, ny_o);
    let mut invalid = 0usize;
    let runs = std::mem::take(&mut band.runs);
    let (iscale, wtscale) = (inp.iscale, inp.wtscale);
    let (mut view, _) = band.view(nx_o, ctx_mask);
    for &run in &runs {
        let Some((pm, dr, wr)) = run_values(inp, run) else {
            continue;
        };
        for (k, ((xy, &dv), &wv)) in pm.chunks_exact(2).zip(dr).zip(wr).enumerate() {
            let (x, y) = (xy[0], xy[1]);
            if let Some(&[xa, ya, ..]) = pm.get(2 * (k + simd::PREFETCH_AHEAD)..) {
                view.prefetch(xa, ya, pfo);
            }
            let inr = kernels::in_c_int_range(x) && kernels::in_c_int_range(y);
            let rows = if inr {
                kernels::box_span(y, pfo, ny_o)
            } else {
                None
            };
            let Some((r0, r1)) = rows else {
                // no footprint
                invalid += usize::from(miss.counts(bands, || inr.then_some((y - pfo, y + pfo))));
                continue;
            };
            let (lo, hi) = (r0.max(row0), r1.min(row1));
            if lo > hi {
                continue;
            }
            let Some(cols) = kernels::box_span(x, pfo, nx_o) else {
                continue;
            };
            let d = dv * iscale;
            let wd = (wv * wtscale) as f64;
            view.d = d;
            let p = simd::TurboPixel {
                x,
                y,
                pfo,
                scale,
                wd,
                cols,
                rows: (lo, hi),
            };
            if S::turbo(&mut view, &p) {
                continue;
            }
            // the scalar kernel (`kernels::Turbo::contribute`), pixel by pixel
            for jj in lo..=hi {
                let fjj = jj as f64;
                let dy = (y + pfo).min(fjj + 0.5) - (y - pfo).max(fjj - 0.5);
                for ii in cols.0..=cols.1 {
                    let fii = ii as f64;
                    let dx = (x + pfo).min(fii + 0.5) - (x - pfo).max(fii - 0.5);
                    if dx > 0.0 && dy > 0.0 {
                        let dow = [(dx * dy * scale * wd) as f32];
                        let o = (jj - row0) * nx_o + ii;
                        let ctx = view.ctx.as_deref_mut().and_then(|c| c.get_mut(o..=o));
                        if let (Some(im), Some(wt)) =
                            (view.img.get_mut(o..=o), view.wht.get_mut(o..=o))
                        {
                            simd::update_segment_scalar(im, wt, ctx, &dow, d, ctx_mask);
                        }
                    }
                }
            }
        }
    }
    invalid
}

/// [`accumulate`] of the point kernel without `data2`/DQ: the same
/// contributions, updates and count of invalid pixels as the generic loop
/// with `kernels::Point` (geometry `None` unless both centre coordinates are
/// in C `int` range and `(nint(x), nint(y))` lies in the output), in one
/// tight loop per input run.
#[inline(always)]
fn accumulate_point(
    inp: &InputSet,
    band: &mut Band,
    ctx_mask: i32,
    nx_o: usize,
    ny_o: usize,
    bands: &BandMap,
) -> usize {
    let row0 = band.row0 as i64;
    let nrows = band.nrows as u64;
    let miss = MissCount::new(band, ny_o);
    let mut invalid = 0usize;
    let runs = std::mem::take(&mut band.runs);
    let (iscale, wtscale) = (inp.iscale, inp.wtscale);
    let img = &mut *band.img;
    let wht = &mut *band.wht;
    let mut ctx = band.ctx.as_deref_mut();
    for &run in &runs {
        let Some((pm, dr, wr)) = run_values(inp, run) else {
            continue;
        };
        for ((xy, &dv), &wv) in pm.chunks_exact(2).zip(dr).zip(wr) {
            let (x, y) = (xy[0], xy[1]);
            let inr = kernels::in_c_int_range(x) & kernels::in_c_int_range(y);
            let ii = geometry::nint(x);
            let jj = geometry::nint(y);
            let col_ok = inr & ((ii as u64) < nx_o as u64);
            let rel = jj.wrapping_sub(row0) as u64;
            if col_ok && rel < nrows {
                let o = rel as usize * nx_o + ii as usize;
                let dow = wv * wtscale;
                if dow > 0.0 {
                    if let Some(c) = ctx.as_deref_mut().and_then(|c| c.get_mut(o)) {
                        *c |= ctx_mask;
                    }
                }
                if dow == 0.0 {
                    continue;
                }
                let (Some(im), Some(wt)) = (img.get_mut(o), wht.get_mut(o)) else {
                    continue;
                };
                let d = dv * iscale;
                let vc = *wt;
                let s = vc + dow;
                *im = if vc == 0.0 {
                    d
                } else {
                    // see `simd::update_segment_scalar` for the single-precision division
                    (*im * vc + dow * d) / s
                };
                *wt = s;
            } else if !(col_ok && (jj as u64) < ny_o as u64) {
                // no footprint
                invalid += usize::from(miss.counts(bands, || inr.then_some((y, y))));
            }
        }
    }
    invalid
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
        }
    }

    /// All outputs of two drizzle calls (data only, then data2 + DQ) of
    /// `kernel` on a random rotated, scaled, distorted map.
    fn run_case(kernel: Kernel, seed: u64) -> Vec<Vec<u32>> {
        let mut rng = Rng(seed);
        let (ny, nx) = (41 + (seed % 7) as usize, 53 + (seed % 5) as usize);
        let th = rng.range(0.0, std::f64::consts::TAU);
        let sc = rng.range(0.35, 2.6);
        let dist = rng.range(0.0, 0.02);
        let (ox, oy) = (rng.range(-8.0, 12.0), rng.range(-8.0, 12.0));
        let (c, s) = (th.cos(), th.sin());
        let mut pm = Array3::<f64>::zeros((ny, nx, 2));
        for j in 0..ny {
            for i in 0..nx {
                let (u, v) = (i as f64 - nx as f64 / 2.0, j as f64 - ny as f64 / 2.0);
                pm[[j, i, 0]] = sc * (c * u - s * v) + 70.0 + ox + dist * u * v;
                pm[[j, i, 1]] = sc * (s * u + c * v) + 65.0 + oy + dist * u * u;
            }
        }
        if seed.is_multiple_of(3) {
            pm[[ny / 2, nx / 3, 0]] = f64::NAN;
        }
        let data = Array2::from_shape_fn((ny, nx), |(j, i)| ((i * 7 + j * 13) % 17) as f32 - 3.5);
        let mut weight = Array2::from_shape_fn((ny, nx), |(j, i)| 0.5 + ((i + 2 * j) % 5) as f32);
        weight[[3, 4]] = 0.0;
        let var = Array2::from_shape_fn((ny, nx), |(j, i)| 1.0 + ((i * j) % 3) as f32);
        let dq = Array2::from_shape_fn((ny, nx), |(j, i)| ((i + j) % 8) as u32);
        let oshape = (130, 140);
        let mut img = Array2::<f32>::zeros(oshape);
        let mut wht = Array2::<f32>::zeros(oshape);
        let mut ctx = Array2::<i32>::zeros(oshape);
        let mut img2 = Array2::<f32>::zeros(oshape);
        let mut oq = Array2::<u32>::zeros(oshape);
        let mut nmiss = Vec::new();
        let mut params = AddImage::new(kernel);
        params.pixfrac = rng.range(0.4, 1.6);
        params.pscale_ratio = Some(rng.range(0.6, 1.6) as f32);
        params.iscale = 1.3;
        {
            let mut out = Outputs::new(img.view_mut(), wht.view_mut());
            out.ctx = Some((ctx.view_mut(), 3));
            // a few pixels mapped far outside or to NaN: counted in nmiss
            let mut pm1 = pm.clone();
            pm1[[1, 2, 1]] = 1e12;
            pm1[[2, 5, 0]] = -40.0;
            pm1[[4, 1, 1]] = f64::NAN;
            let st = add_image(data.view(), weight.view(), pm1.view(), &params, &mut out).unwrap();
            nmiss.push(st.nmiss as u32);
        }
        {
            let extra = Extra {
                data2: vec![Some(var.view())],
                dq: Some(dq.view()),
            };
            let mut out = Outputs::new(img.view_mut(), wht.view_mut());
            out.ctx = Some((ctx.view_mut(), 4));
            out.img2 = vec![img2.view_mut()];
            out.dq = Some(oq.view_mut());
            pm += 0.37;
            add_image_with(
                data.view(),
                weight.view(),
                pm.view(),
                &extra,
                &params,
                &mut out,
            )
            .unwrap();
        }
        vec![
            nmiss,
            img.iter().map(|v| v.to_bits()).collect(),
            wht.iter().map(|v| v.to_bits()).collect(),
            ctx.iter().map(|&v| v as u32).collect(),
            img2.iter().map(|v| v.to_bits()).collect(),
            oq.iter().copied().collect(),
        ]
    }

    /// The AVX2 paths (vector overlap areas, window updates, vector Lanczos
    /// and turbo kernels) and, where the CPU has it, the AVX-512 overlap
    /// areas give bitwise the same outputs as the baseline (scalar
    /// reference) code, for every kernel, on 1 and 3 threads.
    #[test]
    fn avx2_and_baseline_outputs_are_bitwise_equal() {
        if !simd::cpu_has_avx2() {
            return;
        }
        use std::sync::atomic::Ordering::Relaxed;
        let kernels = [
            Kernel::Square,
            Kernel::Point,
            Kernel::Turbo,
            Kernel::Gaussian,
            Kernel::Lanczos2,
            Kernel::Lanczos3,
        ];
        for seed in 1..=24u64 {
            for &k in &kernels {
                // several bands (pre-pass, band clipping) on odd seeds
                crate::parallel::set_num_threads(if seed % 2 == 1 { 3 } else { 1 }).unwrap();
                let fast = run_case(k, seed * 7919);
                crate::parallel::set_num_threads(1).unwrap();
                if simd::cpu_has_avx512() {
                    // the AVX-512 areas (square) against the AVX2 ones
                    simd::FORCE_NO_AVX512.store(true, Relaxed);
                    let avx2 = run_case(k, seed * 7919);
                    simd::FORCE_NO_AVX512.store(false, Relaxed);
                    assert!(fast == avx2, "{k:?} seed {seed}: AVX-512 != AVX2");
                }
                simd::FORCE_BASELINE.store(true, Relaxed);
                let slow = run_case(k, seed * 7919);
                simd::FORCE_BASELINE.store(false, Relaxed);
                assert!(fast == slow, "{k:?} seed {seed}");
                assert!(
                    fast[2].iter().any(|&w| w != 0),
                    "{k:?} seed {seed}: nothing drizzled"
                );
            }
        }
        crate::parallel::set_num_threads(0).unwrap();
    }

    /// The AVX2 pre-pass block reduction of the centre kernels equals the
    /// scalar one (runs and invalid counts), NaN, huge and outside pixels included.
    #[test]
    fn center_prepass_avx2_equals_scalar() {
        if !simd::cpu_has_avx2() {
            return;
        }
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let bands = BandMap::new(37, 9, 300);
        for it in 0..20_000 {
            let n = 1 + (rng.next() % 40) as usize;
            let base = rng.range(-60.0, 360.0);
            let slope = rng.range(-3.0, 3.0);
            let mut xy = Vec::with_capacity(2 * n);
            for i in 0..n {
                let mut x = rng.range(-10.0, 400.0);
                let mut y = base + slope * i as f64 + rng.range(-2.0, 2.0);
                match rng.next() % 23 {
                    0 => x = f64::NAN,
                    1 => y = f64::NAN,
                    2 => y = 3e9,
                    3 => x = -3e9,
                    4 => y = f64::INFINITY,
                    _ => {}
                }
                xy.push(x);
                xy.push(y);
            }
            let e = [0.0, 0.5, 1.2, 3.0][it % 4];
            let i0 = (rng.next() % 50) as usize;
            let fast = prepass_center_row::<true>(&bands, i0, &xy, e);
            let slow = prepass_center_row::<false>(&bands, i0, &xy, e);
            assert_eq!(fast, slow, "iteration {it}");
        }
    }

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
