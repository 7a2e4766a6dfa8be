//! Interpolation of values sampled on a sparse rectilinear grid of pixel
//! positions onto every integer pixel of a window (spec `drizzle.md` 2.2,
//! `stepsize > 1`).
//!
//! This is the fast path of pixel-map computation: a WCS is evaluated only at
//! the grid *nodes* and the full-resolution map is interpolated here.
//!
//! * [`Order::Linear`]: bilinear interpolation.
//! * [`Order::Cubic`]: the tensor product of 1-D interpolating cubic splines
//!   with not-a-knot end conditions (the interpolant that
//!   `scipy.interpolate.RectBivariateSpline(kx=3, ky=3, s=0)` builds). It is
//!   separable: each row of nodes is interpolated along x, then every output
//!   column along y, so the cost is a few multiply-adds per output pixel.
//!
//! Non-finite node values never poison the rest of the map. Along each row or
//! column of nodes the spline is fitted separately on every maximal run of
//! finite values (a cubic run needs at least 4 nodes). An output pixel that
//! cannot be interpolated from finite nodes only — its cell has a non-finite
//! corner, its run is too short, or it lies outside the hull of the nodes —
//! is set to NaN and reported in [`Interpolated::missing`], so that the
//! caller can evaluate it exactly.
//!
//! Pixel convention: 0-based, integer coordinates at pixel centres; arrays
//! are `(row, column) = (y, x)`; node coordinates are in the same pixel units.
//!
//! ```
//! use ndarray::Array3;
//! use pyspec_core::interp::{interpolate_grid, Order, Window};
//!
//! // f(x, y) = (2x + y, x - 3y) sampled every 4 pixels on a 9x9 window.
//! let nodes = [0.0, 4.0, 8.0];
//! let values = Array3::from_shape_fn((3, 3, 2), |(k, l, c)| {
//!     let (x, y) = (nodes[l], nodes[k]);
//!     if c == 0 { 2.0 * x + y } else { x - 3.0 * y }
//! });
//! let window = Window { x: 0..9, y: 0..9 };
//! let out = interpolate_grid(&nodes, &nodes, values.view(), Order::Linear, (10, 10), &window)
//!     .unwrap();
//! assert_eq!(out.values[[5, 3, 0]], 11.0);
//! assert_eq!(out.values[[5, 3, 1]], -12.0);
//! assert!(out.values[[9, 9, 0]].is_nan()); // outside the window
//! assert!(out.missing.is_empty());
//! ```

use std::ops::Range;

use ndarray::{s, Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut3};
use rayon::prelude::*;

use crate::{Error, Result};

/// Interpolation order of [`interpolate_grid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// Piecewise linear along each axis (bilinear).
    Linear,
    /// Interpolating cubic spline with not-a-knot end conditions along each axis.
    Cubic,
}

impl Order {
    /// The order from its polynomial degree: `1` (linear) or `3` (cubic).
    pub fn from_degree(degree: i64) -> Result<Self> {
        match degree {
            1 => Ok(Order::Linear),
            3 => Ok(Order::Cubic),
            _ => Err(Error::value(format!(
                "Interpolation order should be either 1 or 3, got {degree}."
            ))),
        }
    }

    /// Polynomial degree of the pieces (1 or 3).
    pub fn degree(&self) -> usize {
        match self {
            Order::Linear => 1,
            Order::Cubic => 3,
        }
    }

    /// Fewest consecutive finite nodes a 1-D piece needs.
    fn min_run(&self) -> usize {
        self.degree() + 1
    }
}

/// The integer pixels to fill: columns `x` and rows `y` (half-open ranges,
/// 0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Columns (pixel `x` coordinates) to fill.
    pub x: Range<usize>,
    /// Rows (pixel `y` coordinates) to fill.
    pub y: Range<usize>,
}

impl Window {
    /// Whether the window holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty() || self.y.is_empty()
    }
}

/// Result of [`interpolate_grid`].
#[derive(Clone, Debug)]
pub struct Interpolated {
    /// Interpolated values, shape `(ny, nx, ncomp)`; NaN outside the window
    /// and at the [`missing`](Self::missing) pixels.
    pub values: Array3<f64>,
    /// `(row, column)` of every window pixel that could not be interpolated
    /// from finite nodes (any component), in row-major order.
    pub missing: Vec<(usize, usize)>,
}

/// How one output pixel coordinate is obtained from the nodes of an axis.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stencil {
    /// Not inside the nodes' hull: cannot interpolate.
    Outside,
    /// Exactly on node `k`: take its value.
    Node(usize),
    /// Inside cell `[t_k, t_{k+1}]`: `a f_k + b f_{k+1} + c m_k + d m_{k+1}`
    /// (`m` = second derivatives; `c = d = 0` for linear).
    Cell {
        k: usize,
        a: f64,
        b: f64,
        c: f64,
        d: f64,
    },
}

/// Stencils of the integer pixel coordinates `range` on an axis with strictly
/// increasing `nodes`.
fn axis_stencils(nodes: &[f64], range: Range<usize>, order: Order) -> Vec<Stencil> {
    range
        .map(|p| {
            let p = p as f64;
            // Number of nodes <= p.
            let above = nodes.partition_point(|&t| t <= p);
            let Some(k) = above.checked_sub(1) else {
                return Stencil::Outside;
            };
            let (Some(&t0), t1) = (nodes.get(k), nodes.get(k + 1)) else {
                return Stencil::Outside;
            };
            if t0 == p {
                return Stencil::Node(k);
            }
            let Some(&t1) = t1 else {
                return Stencil::Outside;
            };
            let h = t1 - t0;
            let a = (t1 - p) / h;
            let b = (p - t0) / h;
            let (c, d) = match order {
                Order::Linear => (0.0, 0.0),
                Order::Cubic => {
                    let h2 = h * h / 6.0;
                    ((a * a * a - a) * h2, (b * b * b - b) * h2)
                }
            };
            Stencil::Cell { k, a, b, c, d }
        })
        .collect()
}

/// Evaluate a 1-D piecewise interpolant at one stencil. `f` and `m` have one
/// entry per node; stencils come from [`axis_stencils`] on the same nodes, so
/// `k + 1 < f.len()` for every cell.
#[inline(always)]
fn eval_1d(s: &Stencil, f: &[f64], m: &[f64], order: Order) -> f64 {
    match *s {
        Stencil::Outside => f64::NAN,
        Stencil::Node(k) => f[k],
        Stencil::Cell { k, a, b, c, d } => match order {
            Order::Linear => a * f[k] + b * f[k + 1],
            Order::Cubic => a * f[k] + b * f[k + 1] + c * m[k] + d * m[k + 1],
        },
    }
}

/// Second derivatives at the nodes of the cubic interpolant of `(t, f)`,
/// spline by spline over every maximal run of finite `f`. Nodes with a
/// non-finite value or in a run shorter than 4 get NaN.
fn second_derivatives(t: &[f64], f: &[f64], m: &mut [f64]) {
    let n = f.len().min(t.len()).min(m.len());
    let mut i = 0;
    while i < n {
        if !f[i].is_finite() {
            m[i] = f64::NAN;
            i += 1;
            continue;
        }
        let start = i;
        while i < n && f[i].is_finite() {
            i += 1;
        }
        let (tr, fr, mr) = (&t[start..i], &f[start..i], &mut m[start..i]);
        match NotAKnot::new(tr) {
            Some(sys) => sys.solve(fr, mr),
            None => mr.fill(f64::NAN),
        }
    }
}

/// The not-a-knot cubic spline system of strictly increasing nodes `t`
/// (`n >= 4`), factorised once so that many data vectors can be solved for
/// their second derivatives `m` cheaply.
///
/// Unknowns `m_1 .. m_{n-2}` satisfy the interior equations
/// `h_{i-1} m_{i-1} + 2 (h_{i-1} + h_i) m_i + h_i m_{i+1} = 6 (s_i - s_{i-1})`
/// (`h_i = t_{i+1} - t_i`, `s_i` the slope of cell `i`). The not-a-knot
/// conditions (continuous third derivative at `t_1` and `t_{n-2}`) give
/// `m_0 = ((h_0 + h_1) m_1 - h_0 m_2) / h_1` and the mirror formula for
/// `m_{n-1}`; substituted into the first and last equations they leave a
/// strictly diagonally dominant tridiagonal system, factorised here for the
/// Thomas algorithm.
struct NotAKnot {
    /// `1 / h_i`, `i = 0 .. n-2`.
    inv_h: Vec<f64>,
    /// Sub-diagonal of the reduced system (entry 0 unused).
    sub: Vec<f64>,
    /// Thomas `c'_j` (modified super-diagonal).
    cp: Vec<f64>,
    /// `1 / (diag_j - sub_j c'_{j-1})`.
    inv_den: Vec<f64>,
    /// `m_0 = e[0] m_1 - e[1] m_2`, `m_{n-1} = e[2] m_{n-2} - e[3] m_{n-3}`.
    ends: [f64; 4],
}

impl NotAKnot {
    fn new(t: &[f64]) -> Option<Self> {
        let n = t.len();
        if n < Order::Cubic.min_run() {
            return None;
        }
        let h: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
        let nu = n - 2;
        let mut sub: Vec<f64> = (0..nu).map(|j| h[j]).collect();
        let mut diag: Vec<f64> = (0..nu).map(|j| 2.0 * (h[j] + h[j + 1])).collect();
        let mut sup: Vec<f64> = (0..nu).map(|j| h[j + 1]).collect();
        let (h0, h1) = (h[0], h[1]);
        diag[0] += h0 * (h0 + h1) / h1;
        sup[0] -= h0 * h0 / h1;
        let (hp, hl) = (h[n - 3], h[n - 2]);
        diag[nu - 1] += hl * (hp + hl) / hp;
        sub[nu - 1] -= hl * hl / hp;
        let mut cp = vec![0.0; nu];
        let mut inv_den = vec![0.0; nu];
        inv_den[0] = 1.0 / diag[0];
        cp[0] = sup[0] * inv_den[0];
        for j in 1..nu {
            inv_den[j] = 1.0 / (diag[j] - sub[j] * cp[j - 1]);
            cp[j] = sup[j] * inv_den[j];
        }
        Some(NotAKnot {
            inv_h: h.iter().map(|v| 1.0 / v).collect(),
            sub,
            cp,
            inv_den,
            ends: [(h0 + h1) / h1, h0 / h1, (hp + hl) / hp, hl / hp],
        })
    }

    /// Number of nodes.
    fn len(&self) -> usize {
        self.inv_h.len() + 1
    }

    /// [`solve`](Self::solve) for `lanes` data vectors at once: `f` and `m`
    /// are `(len, lanes)` row-major, one vector per column. The loops run
    /// over lanes innermost, so they vectorise and carry no serial latency.
    fn solve_lanes(&self, f: &[f64], m: &mut [f64], lanes: usize) {
        let n = self.len();
        if lanes == 0 || f.len() != n * lanes || m.len() != n * lanes {
            m.fill(f64::NAN);
            return;
        }
        let nu = n - 2;
        let row = |a: &[f64], i: usize| a[i * lanes..(i + 1) * lanes].to_vec();
        // Forward sweep into m rows 1..=nu; `s_prev` holds the slopes of
        // the previous cell, lane by lane.
        let mut s_prev: Vec<f64> = row(f, 1)
            .iter()
            .zip(&f[..lanes])
            .map(|(b, a)| (b - a) * self.inv_h[0])
            .collect();
        for j in 0..nu {
            let (ih, sub, iden) = (self.inv_h[j + 1], self.sub[j], self.inv_den[j]);
            let (done, rest) = m.split_at_mut((j + 1) * lanes);
            let r_prev = &done[j * lanes..];
            let r = &mut rest[..lanes];
            let f1 = &f[(j + 1) * lanes..(j + 2) * lanes];
            let f2 = &f[(j + 2) * lanes..(j + 3) * lanes];
            for q in 0..lanes {
                let s = (f2[q] - f1[q]) * ih;
                let rhs = 6.0 * (s - s_prev[q]);
                let rp = if j == 0 { 0.0 } else { r_prev[q] };
                r[q] = (rhs - sub * rp) * iden;
                s_prev[q] = s;
            }
        }
        // Back substitution.
        for j in (0..nu - 1).rev() {
            let cp = self.cp[j];
            let (lo, hi) = m.split_at_mut((j + 2) * lanes);
            let next = &hi[..lanes];
            for (v, w) in lo[(j + 1) * lanes..].iter_mut().zip(next) {
                *v -= cp * w;
            }
        }
        let e = self.ends;
        for q in 0..lanes {
            m[q] = e[0] * m[lanes + q] - e[1] * m[2 * lanes + q];
            let last = (n - 1) * lanes + q;
            m[last] = e[2] * m[last - lanes] - e[3] * m[last - 2 * lanes];
        }
    }

    /// Second derivatives `m` of the spline through values `f` (both of
    /// length [`len`](Self::len)).
    fn solve(&self, f: &[f64], m: &mut [f64]) {
        let n = self.len();
        if f.len() != n || m.len() != n {
            m.fill(f64::NAN);
            return;
        }
        let nu = n - 2;
        // Forward sweep, storing the intermediate solution in m[1..=nu].
        let mut s_prev = (f[1] - f[0]) * self.inv_h[0];
        let mut r_prev = 0.0;
        for j in 0..nu {
            let s = (f[j + 2] - f[j + 1]) * self.inv_h[j + 1];
            let rhs = 6.0 * (s - s_prev);
            r_prev = (rhs - self.sub[j] * r_prev) * self.inv_den[j];
            m[j + 1] = r_prev;
            s_prev = s;
        }
        // Back substitution.
        for j in (0..nu - 1).rev() {
            m[j + 1] -= self.cp[j] * m[j + 2];
        }
        let e = &self.ends;
        m[0] = e[0] * m[1] - e[1] * m[2];
        m[n - 1] = e[2] * m[n - 2] - e[3] * m[n - 3];
    }
}

/// Check that `nodes` are finite and strictly increasing.
fn check_nodes(nodes: &[f64], axis: &str) -> Result<()> {
    if let Some(bad) = nodes.iter().find(|v| !v.is_finite()) {
        return Err(Error::value(format!(
            "{axis} nodes must be finite, got {bad}"
        )));
    }
    if nodes.windows(2).any(|w| w[1] <= w[0]) {
        return Err(Error::value(format!(
            "{axis} nodes must be strictly increasing"
        )));
    }
    Ok(())
}

/// Branch-free form of an axis's stencils (for at least 2 nodes): every
/// pixel reads cell `k` (`k + 1 < n`) with weights `w`; pixels exactly on a
/// node are listed in `nodes` and patched with the node's value afterwards,
/// so that a non-finite neighbour cannot spoil them. Pixels outside the
/// nodes' hull get NaN weights.
struct FlatStencils {
    k: Vec<usize>,
    w: Vec<[f64; 4]>,
    /// `(pixel index, node index)` of the pixels on a node.
    nodes: Vec<(usize, usize)>,
}

impl FlatStencils {
    fn new(stencils: &[Stencil], n_nodes: usize) -> Option<Self> {
        if n_nodes < 2 {
            return None;
        }
        let mut flat = FlatStencils {
            k: Vec::with_capacity(stencils.len()),
            w: Vec::with_capacity(stencils.len()),
            nodes: Vec::new(),
        };
        for (i, s) in stencils.iter().enumerate() {
            let (k, w) = match *s {
                Stencil::Outside => (0, [f64::NAN; 4]),
                Stencil::Node(k) => {
                    flat.nodes.push((i, k));
                    if k + 1 < n_nodes {
                        (k, [1.0, 0.0, 0.0, 0.0])
                    } else {
                        (k.saturating_sub(1), [0.0, 1.0, 0.0, 0.0])
                    }
                }
                Stencil::Cell { k, a, b, c, d } => (k, [a, b, c, d]),
            };
            flat.k.push(k);
            flat.w.push(w);
        }
        Some(flat)
    }
}

/// Node rows `rows` of `values` (`(nyc, nxc, ncomp)`) interpolated along x
/// onto the window columns, written to `dst` as `(rows.len(), nxw * ncomp)`
/// row-major with the components interleaved like the output. For cubic,
/// `mx_t` holds the second x-derivatives at the nodes, transposed:
/// `(nxc, nyc * ncomp)`.
fn interpolate_rows(
    values: ArrayView3<'_, f64>,
    mx_t: Option<&Array2<f64>>,
    xs: &[Stencil],
    flat: Option<&FlatStencils>,
    order: Order,
    rows: Range<usize>,
    dst: &mut [f64],
) {
    let (_, nxc, ncomp) = values.dim();
    let width = xs.len() * ncomp;
    if width == 0 {
        return;
    }
    let mut f = vec![0.0; nxc];
    let mut m = vec![0.0; nxc];
    for (k, out) in rows.zip(dst.chunks_exact_mut(width)) {
        for c in 0..ncomp {
            for (fl, v) in f.iter_mut().zip(values.slice(s![k, .., c])) {
                *fl = *v;
            }
            if let Some(mx_t) = mx_t {
                for (ml, v) in m.iter_mut().zip(mx_t.column(k * ncomp + c)) {
                    *ml = *v;
                }
            }
            let out_c = out.iter_mut().skip(c).step_by(ncomp);
            let Some(fs) = flat else {
                for (v, st) in out_c.zip(xs) {
                    *v = eval_1d(st, &f, &m, order);
                }
                continue;
            };
            // `fs.k[i] + 1 < nxc` by construction (FlatStencils::new).
            match order {
                Order::Linear => {
                    for ((v, &j), w) in out_c.zip(&fs.k).zip(&fs.w) {
                        *v = w[0] * f[j] + w[1] * f[j + 1];
                    }
                }
                Order::Cubic => {
                    for ((v, &j), w) in out_c.zip(&fs.k).zip(&fs.w) {
                        *v = w[0] * f[j] + w[1] * f[j + 1] + w[2] * m[j] + w[3] * m[j + 1];
                    }
                }
            }
            for &(i, j) in &fs.nodes {
                out[i * ncomp + c] = f[j];
            }
        }
    }
}

/// Second derivatives along axis 0 of the cubic interpolants of every column
/// ("lane") of `f` (`(n, lanes)`, node `i` of lane `q` at `f[i, q]`, nodes
/// `t`). Lanes that are entirely finite share one factorised system and are
/// solved together, vectorised across lanes; the others are split into
/// finite runs one by one ([`second_derivatives`]).
fn second_derivatives_axis0(t: &[f64], f: ArrayView2<'_, f64>) -> Array2<f64> {
    let (n, lanes) = f.dim();
    let f = f.as_standard_layout();
    let mut m = Array2::from_elem((n, lanes), f64::NAN);
    let (Some(fs), Some(sys)) = (f.as_slice(), NotAKnot::new(t)) else {
        // Fewer than 4 nodes: no cubic anywhere.
        return m;
    };
    if let Some(ms) = m.as_slice_mut() {
        sys.solve_lanes(fs, ms, lanes);
    }
    let mut bad = vec![false; lanes];
    for row in fs.chunks_exact(lanes.max(1)) {
        for (b, v) in bad.iter_mut().zip(row) {
            *b |= !v.is_finite();
        }
    }
    let mut fl = vec![0.0; n];
    let mut ml = vec![0.0; n];
    for (q, _) in bad.iter().enumerate().filter(|(_, &b)| b) {
        for (d, v) in fl.iter_mut().zip(f.column(q)) {
            *d = *v;
        }
        second_derivatives(t, &fl, &mut ml);
        m.column_mut(q)
            .assign(&ndarray::ArrayView1::from(ml.as_slice()));
    }
    m
}

/// `(nyc, nxc, ncomp)` node values as `(nxc, nyc * ncomp)`: lane `k * ncomp + c`
/// is row `k` of component `c`, so rows become columns for
/// [`second_derivatives_axis0`].
fn rows_as_lanes(values: ArrayView3<'_, f64>) -> Array2<f64> {
    let (nyc, nxc, ncomp) = values.dim();
    let mut t = Array2::zeros((nxc, nyc * ncomp));
    for ((k, l, c), v) in values.indexed_iter() {
        t[[l, k * ncomp + c]] = *v;
    }
    t
}

/// Interpolate values given on the grid of nodes `x_nodes` x `y_nodes` onto
/// every integer pixel of `window`, in a new array of `shape = (ny, nx)`.
///
/// See [`interpolate_grid_into`], which this allocates the output for; the
/// missing pixels are returned in [`Interpolated::missing`].
pub fn interpolate_grid(
    x_nodes: &[f64],
    y_nodes: &[f64],
    values: ArrayView3<'_, f64>,
    order: Order,
    shape: (usize, usize),
    window: &Window,
) -> Result<Interpolated> {
    let (ny, nx) = shape;
    let ncomp = values.dim().2;
    let total = ny
        .checked_mul(nx)
        .and_then(|v| v.checked_mul(ncomp))
        .filter(|&v| v <= isize::MAX as usize / std::mem::size_of::<f64>())
        .ok_or_else(|| {
            Error::Memory(format!(
                "output of shape ({ny}, {nx}, {ncomp}) is too large"
            ))
        })?;
    let mut buf: Vec<f64> = Vec::new();
    buf.try_reserve_exact(total).map_err(|_| {
        Error::Memory(format!(
            "cannot allocate an output of shape ({ny}, {nx}, {ncomp})"
        ))
    })?;
    buf.resize(total, f64::NAN);
    let mut out = Array3::from_shape_vec((ny, nx, ncomp), buf)
        .map_err(|e| Error::shape(format!("internal shape error: {e}")))?;
    let missing = interpolate_grid_into(x_nodes, y_nodes, values, order, window, out.view_mut())?;
    Ok(Interpolated {
        values: out,
        missing,
    })
}

/// Interpolate values given on the grid of nodes `x_nodes` x `y_nodes` onto
/// every integer pixel of `window`, writing every value of `out`.
///
/// `values` has shape `(y_nodes.len(), x_nodes.len(), ncomp)`: `values[k, l, c]`
/// is component `c` at pixel position `(x_nodes[l], y_nodes[k])`. `out` is a
/// C-contiguous `(ny, nx, ncomp)` array; on return it holds NaN outside the
/// window. Inside the window a pixel is interpolated only from finite nodes:
/// where that is impossible (non-finite corner, short run, outside the
/// nodes' hull, overflow) it is NaN and its `(row, column)` is returned, in
/// row-major order. A pixel exactly on a node takes the node's value.
///
/// Nodes must be finite and strictly increasing; the window must lie inside
/// `out`; every axis of a non-empty window needs at least one node. Runs in
/// the thread pool of [`crate::parallel`], parallel over output rows (so the
/// first touch of a freshly allocated `out` is parallel too); the result
/// does not depend on the thread count.
pub fn interpolate_grid_into(
    x_nodes: &[f64],
    y_nodes: &[f64],
    values: ArrayView3<'_, f64>,
    order: Order,
    window: &Window,
    mut out: ArrayViewMut3<'_, f64>,
) -> Result<Vec<(usize, usize)>> {
    let (nyc, nxc, ncomp) = values.dim();
    if nyc != y_nodes.len() || nxc != x_nodes.len() {
        return Err(Error::shape(format!(
            "node values have shape ({nyc}, {nxc}, {ncomp}) but there are {} y nodes and {} x nodes",
            y_nodes.len(),
            x_nodes.len()
        )));
    }
    check_nodes(x_nodes, "x")?;
    check_nodes(y_nodes, "y")?;
    let (ny, nx, nc_out) = out.dim();
    if nc_out != ncomp {
        return Err(Error::shape(format!(
            "output has {nc_out} components per pixel but the node values have {ncomp}"
        )));
    }
    for (r, n, axis) in [(&window.x, nx, "x"), (&window.y, ny, "y")] {
        if r.start > r.end || r.end > n {
            return Err(Error::value(format!(
                "{axis} window {}..{} does not fit an axis of length {n}",
                r.start, r.end
            )));
        }
    }
    if !window.is_empty() && (nxc == 0 || nyc == 0) {
        return Err(Error::value(
            "interpolation needs at least one node on each axis",
        ));
    }
    let buf = out
        .as_slice_mut()
        .ok_or_else(|| Error::Type("the output array must be C-contiguous".into()))?;
    Ok(crate::parallel::install(|| {
        fill(x_nodes, y_nodes, values, order, nx, window, buf)
    }))
}

/// Write every value of `out` (`(ny, nx, ncomp)` row-major): the window is
/// interpolated, the rest is NaN. Returns the missing pixels.
fn fill(
    x_nodes: &[f64],
    y_nodes: &[f64],
    values: ArrayView3<'_, f64>,
    order: Order,
    nx: usize,
    window: &Window,
    out: &mut [f64],
) -> Vec<(usize, usize)> {
    let ncomp = values.dim().2;
    if window.is_empty() || ncomp == 0 {
        out.par_chunks_mut(1 << 16).for_each(|c| c.fill(f64::NAN));
        return Vec::new();
    }
    let xs = axis_stencils(x_nodes, window.x.clone(), order);
    let flat = FlatStencils::new(&xs, x_nodes.len());
    let flat = flat.as_ref();
    let ys = axis_stencils(y_nodes, window.y.clone(), order);
    let nxw = xs.len();
    let x0 = window.x.start;

    // Second derivatives at the nodes (cubic): along x of every row (mx_t),
    // along y of every column (my), and along x of the rows of my (mxy_t).
    let (nyc, nxc, _) = values.dim();
    let derivs = match order {
        Order::Linear => None,
        Order::Cubic => {
            let mx_t = second_derivatives_axis0(x_nodes, rows_as_lanes(values).view());
            // (nyc, nxc * ncomp): every column of nodes is a lane.
            let columns = values
                .as_standard_layout()
                .into_owned()
                .into_shape_with_order((nyc, nxc * ncomp))
                .unwrap_or_else(|_| Array2::zeros((nyc, nxc * ncomp)));
            let my = second_derivatives_axis0(y_nodes, columns.view())
                .into_shape_with_order((nyc, nxc, ncomp))
                .unwrap_or_else(|_| Array3::zeros((nyc, nxc, ncomp)));
            let mxy_t = second_derivatives_axis0(x_nodes, rows_as_lanes(my.view()).view());
            Some((mx_t, my, mxy_t))
        }
    };

    // Bands of output rows, in parallel. A band interpolates the node rows
    // it needs along x (g: values, h: second y-derivatives) into small local
    // buffers; each output row is then a + b (+ c + d) combination of two
    // rows of g (and h). Every value is computed the same way whatever the
    // banding, so the result does not depend on the thread count.
    let width = nxw * ncomp;
    let row_len = nx * ncomp;
    // About 8 node rows per band (the band's first node row is also the
    // previous band's last: ~1/8 of the x work is repeated), at least 32 and
    // at most 1/16 of the rows so that the threads stay balanced.
    let spacing = window.y.len() / y_nodes.len().max(1) + 1;
    let band_rows = (8 * spacing).min(out.len() / row_len.max(1) / 16).max(32);
    let rows_missing: Vec<Vec<(usize, usize)>> = out
        .par_chunks_mut((band_rows * row_len).max(1))
        .enumerate()
        .map(|(band, chunk)| {
            let j0 = band * band_rows;
            let stencil = |j: usize| j.checked_sub(window.y.start).and_then(|i| ys.get(i));
            // Node rows used by the band's rows (stencils are monotone in j).
            let nrows = chunk.len() / row_len.max(1);
            let used = (j0..j0 + nrows)
                .filter_map(stencil)
                .filter_map(|s| match *s {
                    Stencil::Outside => None,
                    Stencil::Node(k) => Some((k, k)),
                    Stencil::Cell { k, .. } => Some((k, k + 1)),
                });
            let (k_lo, k_hi) =
                used.fold((usize::MAX, 0), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)));
            let krange = if k_lo <= k_hi { k_lo..k_hi + 1 } else { 0..0 };
            let mut g = vec![0.0; krange.len() * width];
            let mut h = Vec::new();
            match &derivs {
                None => interpolate_rows(values, None, &xs, flat, order, krange.clone(), &mut g),
                Some((mx_t, my, mxy_t)) => {
                    interpolate_rows(values, Some(mx_t), &xs, flat, order, krange.clone(), &mut g);
                    h = vec![0.0; krange.len() * width];
                    interpolate_rows(
                        my.view(),
                        Some(mxy_t),
                        &xs,
                        flat,
                        order,
                        krange.clone(),
                        &mut h,
                    );
                }
            }
            let g_row = |k: usize| &g[(k - krange.start) * width..(k - krange.start + 1) * width];
            let h_row = |k: usize| &h[(k - krange.start) * width..(k - krange.start + 1) * width];

            let mut missing = Vec::new();
            for (r, row) in chunk.chunks_exact_mut(row_len.max(1)).enumerate() {
                let j = j0 + r;
                let Some(s) = stencil(j) else {
                    row.fill(f64::NAN);
                    continue;
                };
                let (head, rest) = row.split_at_mut(x0 * ncomp);
                let (dst, tail) = rest.split_at_mut(width);
                head.fill(f64::NAN);
                tail.fill(f64::NAN);
                // A branch-free finiteness check fused into the loops.
                let bad = match *s {
                    Stencil::Outside => {
                        dst.fill(f64::NAN);
                        true
                    }
                    Stencil::Node(k) => {
                        dst.copy_from_slice(g_row(k));
                        dst.iter().fold(false, |acc, &v| acc | !v.is_finite())
                    }
                    Stencil::Cell { k, a, b, c, d } => {
                        let mut bad = false;
                        let (g0, g1) = (g_row(k), g_row(k + 1));
                        match order {
                            Order::Linear => {
                                for ((v, &p), &q) in dst.iter_mut().zip(g0).zip(g1) {
                                    *v = a * p + b * q;
                                    bad |= !v.is_finite();
                                }
                            }
                            Order::Cubic => {
                                let it = g0.iter().zip(g1).zip(h_row(k)).zip(h_row(k + 1));
                                for (v, (((&p, &q), &u), &w)) in dst.iter_mut().zip(it) {
                                    *v = a * p + b * q + c * u + d * w;
                                    bad |= !v.is_finite();
                                }
                            }
                        }
                        bad
                    }
                };
                if bad {
                    for (i, px) in dst.chunks_exact_mut(ncomp).enumerate() {
                        if px.iter().any(|v| !v.is_finite()) {
                            px.fill(f64::NAN);
                            missing.push((j, x0 + i));
                        }
                    }
                }
            }
            missing
        })
        .collect();

    rows_missing.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    fn grid(xn: &[f64], yn: &[f64], f: impl Fn(f64, f64) -> (f64, f64)) -> Array3<f64> {
        Array3::from_shape_fn((yn.len(), xn.len(), 2), |(k, l, c)| {
            let v = f(xn[l], yn[k]);
            if c == 0 {
                v.0
            } else {
                v.1
            }
        })
    }

    fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
        if n == 1 {
            return vec![a];
        }
        let step = (b - a) / (n - 1) as f64;
        let mut v: Vec<f64> = (0..n).map(|i| a + i as f64 * step).collect();
        v[n - 1] = b;
        v
    }

    fn max_err(out: &Interpolated, window: &Window, f: impl Fn(f64, f64) -> (f64, f64)) -> f64 {
        let mut e: f64 = 0.0;
        for j in window.y.clone() {
            for i in window.x.clone() {
                let (u, v) = f(i as f64, j as f64);
                e = e
                    .max((out.values[[j, i, 0]] - u).abs())
                    .max((out.values[[j, i, 1]] - v).abs());
            }
        }
        e
    }

    #[test]
    fn order_from_degree() {
        assert_eq!(Order::from_degree(1).unwrap(), Order::Linear);
        assert_eq!(Order::from_degree(3).unwrap(), Order::Cubic);
        for bad in [0, 2, 4, 5, -1] {
            assert!(Order::from_degree(bad).is_err());
        }
    }

    #[test]
    fn not_a_knot_reproduces_cubics_on_uneven_nodes() {
        let t = [0.0, 1.5, 2.0, 4.0, 7.5, 8.0, 11.0];
        let p = |x: f64| 0.3 * x * x * x - 2.0 * x * x + x - 5.0;
        let f: Vec<f64> = t.iter().map(|&x| p(x)).collect();
        let mut m = vec![0.0; t.len()];
        second_derivatives(&t, &f, &mut m);
        for (&x, &mm) in t.iter().zip(&m) {
            assert!((mm - (1.8 * x - 4.0)).abs() < 1e-10, "{x}: {mm}");
        }
        let st = axis_stencils(&t, 0..12, Order::Cubic);
        for (x, s) in st.iter().enumerate() {
            let v = eval_1d(s, &f, &m, Order::Cubic);
            assert!((v - p(x as f64)).abs() < 1e-10, "{x}: {v}");
        }
    }

    #[test]
    fn lanes_solve_like_single_vectors() {
        let t = [0.0, 1.0, 2.5, 3.0, 4.5, 7.0];
        let lanes = 5;
        let mut f = Array2::from_shape_fn((6, lanes), |(i, q)| ((i * 7 + q * 3) as f64).sin());
        f[[2, 3]] = f64::NAN;
        let m = second_derivatives_axis0(&t, f.view());
        for q in 0..lanes {
            let col: Vec<f64> = f.column(q).to_vec();
            let mut expect = vec![0.0; 6];
            second_derivatives(&t, &col, &mut expect);
            for (a, b) in m.column(q).iter().zip(&expect) {
                assert!(a.to_bits() == b.to_bits(), "lane {q}: {a} vs {b}");
            }
        }
        assert!(m.column(3).iter().all(|v| v.is_nan()));
        // Fewer than 4 nodes: NaN everywhere.
        let m = second_derivatives_axis0(&t[..3], f.slice(s![..3, ..]));
        assert!(m.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn four_nodes_give_the_single_cubic() {
        let t = [0.0, 1.0, 2.0, 3.0];
        let p = |x: f64| x * x * x - x;
        let f: Vec<f64> = t.iter().map(|&x| p(x)).collect();
        let mut m = vec![0.0; 4];
        second_derivatives(&t, &f, &mut m);
        let st = axis_stencils(&[0.0, 1.0, 2.0, 3.0], 0..4, Order::Cubic);
        assert_eq!(st[1], Stencil::Node(1));
        let s = Stencil::Cell {
            k: 1,
            a: 0.5,
            b: 0.5,
            c: -0.0625,
            d: -0.0625,
        };
        assert!((eval_1d(&s, &f, &m, Order::Cubic) - p(1.5)).abs() < 1e-12);
    }

    #[test]
    fn short_runs_are_nan_for_cubic() {
        let t: Vec<f64> = (0..9).map(|i| i as f64).collect();
        let f = [1.0, 2.0, 3.0, f64::NAN, 1.0, 2.0, 3.0, 4.0, f64::INFINITY];
        let mut m = vec![0.0; 9];
        second_derivatives(&t, &f, &mut m);
        assert!(m[..4].iter().all(|v| v.is_nan()));
        assert!(m[4..8].iter().all(|v| v.is_finite()));
        assert!(m[8].is_nan());
    }

    #[test]
    fn bilinear_is_exact_for_bilinear_functions() {
        let f = |x: f64, y: f64| (1.0 + 2.0 * x - 0.5 * y + 0.01 * x * y, 3.0 - x + 4.0 * y);
        let xn = linspace(2.0, 40.0, 7);
        let yn = linspace(1.0, 30.0, 5);
        let w = Window { x: 2..41, y: 1..31 };
        let out = interpolate_grid(
            &xn,
            &yn,
            grid(&xn, &yn, f).view(),
            Order::Linear,
            (33, 45),
            &w,
        )
        .unwrap();
        assert!(out.missing.is_empty());
        assert!(max_err(&out, &w, f) < 1e-12);
        assert!(out.values[[0, 5, 0]].is_nan());
        assert!(out.values[[5, 41, 1]].is_nan());
        assert_eq!(out.values.dim(), (33, 45, 2));
    }

    #[test]
    fn cubic_is_exact_for_bicubic_functions() {
        let f = |x: f64, y: f64| {
            (
                0.001 * x * x * x - 0.002 * y * y * y + 0.0001 * x * x * y * y * y + x,
                y - 0.03 * x * x * y + 1e-4 * x * x * x * y * y,
            )
        };
        let xn = linspace(0.0, 50.0, 8);
        let yn = linspace(3.0, 47.0, 6);
        let w = Window { x: 0..51, y: 3..48 };
        let out = interpolate_grid(
            &xn,
            &yn,
            grid(&xn, &yn, f).view(),
            Order::Cubic,
            (48, 51),
            &w,
        )
        .unwrap();
        assert!(out.missing.is_empty());
        let e = max_err(&out, &w, f);
        assert!(e < 1e-9, "{e}");
    }

    #[test]
    fn cubic_is_accurate_for_smooth_functions() {
        let f = |x: f64, y: f64| {
            (
                x + 3e-5 * (x - 500.0) * (y - 300.0) + 50.0 * (x / 700.0).sin(),
                y + 40.0 * (y / 900.0 + x / 1500.0).cos(),
            )
        };
        let xn = linspace(0.0, 999.0, 100);
        let yn = linspace(0.0, 799.0, 80);
        let w = Window {
            x: 0..1000,
            y: 0..800,
        };
        let v = grid(&xn, &yn, f);
        let cub = interpolate_grid(&xn, &yn, v.view(), Order::Cubic, (800, 1000), &w).unwrap();
        let lin = interpolate_grid(&xn, &yn, v.view(), Order::Linear, (800, 1000), &w).unwrap();
        let (ec, el) = (max_err(&cub, &w, f), max_err(&lin, &w, f));
        assert!(ec < 1e-7, "cubic {ec}");
        assert!(el < 1e-2 && el > 100.0 * ec, "linear {el} cubic {ec}");
    }

    #[test]
    fn nan_nodes_only_affect_their_neighbourhood() {
        let f = |x: f64, y: f64| (x + 0.001 * y * y, y - 0.002 * x * y);
        let xn = linspace(0.0, 99.0, 12);
        let yn = linspace(0.0, 89.0, 10);
        let mut v = grid(&xn, &yn, f);
        // Knock out node (row 4, column 6) in component 1 only.
        v[[4, 6, 1]] = f64::NAN;
        let w = Window {
            x: 0..100,
            y: 0..90,
        };
        for order in [Order::Linear, Order::Cubic] {
            let out = interpolate_grid(&xn, &yn, v.view(), order, (90, 100), &w).unwrap();
            assert!(!out.missing.is_empty());
            for &(j, i) in &out.missing {
                // Every missing pixel is near the bad node.
                assert!((i as f64 - xn[6]).abs() < 5.0 * 9.0, "{order:?} {i}");
                assert!((j as f64 - yn[4]).abs() < 5.0 * 9.9, "{order:?} {j}");
                assert!(out.values[[j, i, 0]].is_nan() && out.values[[j, i, 1]].is_nan());
            }
            let missing: std::collections::HashSet<_> = out.missing.iter().copied().collect();
            // Pixels touching the bad node through their own cell are missing.
            assert!(missing.contains(&(yn[4].round() as usize, xn[6].round() as usize)));
            let mut worst: f64 = 0.0;
            for j in 0..90 {
                for i in 0..100 {
                    if missing.contains(&(j, i)) {
                        continue;
                    }
                    let (a, b) = f(i as f64, j as f64);
                    worst = worst
                        .max((out.values[[j, i, 0]] - a).abs())
                        .max((out.values[[j, i, 1]] - b).abs());
                }
            }
            assert!(worst.is_finite());
            let tol = if order == Order::Cubic { 1e-9 } else { 0.05 };
            assert!(worst < tol, "{order:?} {worst}");
        }
    }

    #[test]
    fn pixels_on_nodes_take_node_values() {
        let xn = [0.0, 1.0, 2.0];
        let yn = [5.0];
        let v = Array3::from_shape_fn((1, 3, 2), |(_, l, c)| (l * 10 + c) as f64);
        let w = Window { x: 0..3, y: 5..6 };
        for order in [Order::Linear, Order::Cubic] {
            let out = interpolate_grid(&xn, &yn, v.view(), order, (7, 4), &w).unwrap();
            assert!(out.missing.is_empty(), "{order:?}");
            assert_eq!(out.values[[5, 2, 0]], 20.0);
            assert_eq!(out.values[[5, 1, 1]], 11.0);
            assert!(out.values[[4, 1, 1]].is_nan());
        }
        // One x node (the non-branch-free path) and three y nodes.
        let v = Array3::from_shape_fn((3, 1, 1), |(k, _, _)| k as f64 * 10.0);
        let w = Window { x: 2..3, y: 0..5 };
        for order in [Order::Linear, Order::Cubic] {
            let out =
                interpolate_grid(&[2.0], &[0.0, 2.0, 4.0], v.view(), order, (5, 4), &w).unwrap();
            assert_eq!(out.values[[2, 2, 0]], 10.0);
            if order == Order::Linear {
                assert!(out.missing.is_empty());
                assert_eq!(out.values[[3, 2, 0]], 15.0);
            } else {
                // Three nodes are too few for a cubic between them.
                assert_eq!(out.missing, vec![(1, 2), (3, 2)]);
            }
        }
    }

    #[test]
    fn uncovered_pixels_are_missing() {
        let xn = [2.0, 5.0];
        let yn = [0.0, 3.0];
        let v = Array3::from_elem((2, 2, 2), 1.0);
        let w = Window { x: 0..7, y: 0..4 };
        let out = interpolate_grid(&xn, &yn, v.view(), Order::Linear, (4, 7), &w).unwrap();
        let cols: Vec<usize> = out
            .missing
            .iter()
            .filter(|p| p.0 == 1)
            .map(|p| p.1)
            .collect();
        assert_eq!(cols, vec![0, 1, 6]);
        assert_eq!(out.missing.len(), 4 * 3);
        // Too few nodes for a cubic: everything between nodes is missing.
        let out = interpolate_grid(&xn, &yn, v.view(), Order::Cubic, (4, 7), &w).unwrap();
        assert_eq!(out.missing.len(), 4 * 7 - 4);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let e = Array3::<f64>::zeros((0, 0, 2));
        let empty = Window { x: 0..0, y: 0..0 };
        let out = interpolate_grid(&[], &[], e.view(), Order::Cubic, (0, 0), &empty).unwrap();
        assert_eq!(out.values.dim(), (0, 0, 2));
        let out = interpolate_grid(&[], &[], e.view(), Order::Cubic, (3, 2), &empty).unwrap();
        assert!(out.values.iter().all(|v| v.is_nan()));
        let w = Window { x: 0..2, y: 0..3 };
        assert!(interpolate_grid(&[], &[], e.view(), Order::Cubic, (3, 2), &w).is_err());
        let v = Array3::from_elem((2, 2, 2), f64::NAN);
        let out =
            interpolate_grid(&[0.0, 1.0], &[0.0, 2.0], v.view(), Order::Cubic, (3, 2), &w).unwrap();
        assert_eq!(out.missing.len(), 6);
        let v = Array3::from_elem((2, 2, 0), 1.0);
        let out = interpolate_grid(
            &[0.0, 1.0],
            &[0.0, 2.0],
            v.view(),
            Order::Linear,
            (3, 2),
            &w,
        )
        .unwrap();
        assert_eq!(out.values.dim(), (3, 2, 0));
        // Huge finite values overflow: reported missing, not garbage.
        let v = Array3::from_shape_fn(
            (4, 4, 1),
            |(k, l, _)| if (k + l) % 2 == 0 { 1e308 } else { -1e308 },
        );
        let n = [0.0, 2.0, 4.0, 6.0];
        let w = Window { x: 0..7, y: 0..7 };
        let out = interpolate_grid(&n, &n, v.view(), Order::Cubic, (7, 7), &w).unwrap();
        for &(j, i) in &out.missing {
            assert!(out.values[[j, i, 0]].is_nan());
        }
        assert!(out.values.iter().all(|v| v.is_nan() || v.is_finite()));
    }

    #[test]
    fn bad_arguments_are_errors() {
        let v = Array3::from_elem((2, 3, 2), 1.0);
        let w = Window { x: 0..3, y: 0..2 };
        let xn = [0.0, 1.0, 2.0];
        let yn = [0.0, 1.0];
        assert!(interpolate_grid(&xn, &yn, v.view(), Order::Linear, (2, 3), &w).is_ok());
        assert!(interpolate_grid(&yn, &xn, v.view(), Order::Linear, (2, 3), &w).is_err());
        assert!(
            interpolate_grid(&[0.0, 2.0, 1.0], &yn, v.view(), Order::Linear, (2, 3), &w).is_err()
        );
        assert!(
            interpolate_grid(&[0.0, 1.0, 1.0], &yn, v.view(), Order::Linear, (2, 3), &w).is_err()
        );
        assert!(interpolate_grid(
            &[0.0, f64::NAN, 2.0],
            &yn,
            v.view(),
            Order::Linear,
            (2, 3),
            &w
        )
        .is_err());
        assert!(interpolate_grid(&xn, &yn, v.view(), Order::Linear, (1, 3), &w).is_err());
        #[allow(clippy::reversed_empty_ranges)]
        let rev = Window { x: 2..1, y: 0..2 };
        assert!(interpolate_grid(&xn, &yn, v.view(), Order::Linear, (2, 3), &rev).is_err());
        let huge = interpolate_grid(&xn, &yn, v.view(), Order::Linear, (usize::MAX, 3), &w);
        assert!(matches!(huge, Err(Error::Memory(_))));
        let huge = interpolate_grid(&xn, &yn, v.view(), Order::Linear, (1 << 40, 1 << 20), &w);
        assert!(matches!(huge, Err(Error::Memory(_))));
        // Caller-supplied outputs: component count and layout are checked.
        let mut out = Array3::<f64>::zeros((2, 3, 3));
        assert!(
            interpolate_grid_into(&xn, &yn, v.view(), Order::Linear, &w, out.view_mut()).is_err()
        );
        let mut out = Array3::<f64>::zeros((2, 3, 2));
        assert!(
            interpolate_grid_into(&xn, &yn, v.view(), Order::Linear, &w, out.view_mut()).is_ok()
        );
        let mut big = Array3::<f64>::zeros((2, 6, 2));
        let strided = big.slice_mut(ndarray::s![.., ..;2, ..]);
        let r = interpolate_grid_into(&xn, &yn, v.view(), Order::Linear, &w, strided);
        assert!(matches!(r, Err(Error::Type(_))));
    }

    #[test]
    fn result_is_independent_of_thread_count() {
        let f = |x: f64, y: f64| (x.sin() * 100.0 + y, (x * y).sqrt());
        let xn = linspace(0.0, 299.0, 31);
        let yn = linspace(0.0, 199.0, 21);
        let mut v = grid(&xn, &yn, f);
        v[[7, 9, 0]] = f64::NAN;
        let w = Window {
            x: 0..300,
            y: 0..200,
        };
        for order in [Order::Linear, Order::Cubic] {
            let run = |n: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .unwrap();
                pool.install(|| {
                    interpolate_grid(&xn, &yn, v.view(), order, (200, 300), &w).unwrap()
                })
            };
            let (a, b) = (run(1), run(3));
            assert_eq!(a.missing, b.missing);
            assert!(a
                .values
                .iter()
                .zip(b.values.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits()));
        }
    }
}
