//! Least-squares cubic B-spline coefficients by row-sequential Givens QR
//! (spec adaptive_trace_model.md 6.3.2 and 13.5).
//!
//! The reduction follows FITPACK's order as used by
//! `scipy.interpolate.make_lsq_spline(method="qr")`: the packed design matrix
//! (four non-zero basis values per data row) is reduced row by row, each row
//! being rotated against the rows above it with LAPACK's `dlartg` rotation,
//! then the banded triangular system is back-substituted. Reproducing the
//! rotation order and formulas makes the coefficients bitwise equal to the
//! reference on the same knots and data.

/// Degree of the splines (cubic).
pub const K: usize = 3;

/// Index `l` of the knot interval with `t[l] <= x < t[l+1]`, clamped to
/// `[K, n-1]` where `n = t.len() - K - 1` (extrapolation uses the end
/// pieces; `x == t[n]` uses the last interval). `None` for NaN.
#[inline]
pub fn find_interval(t: &[f64], x: f64, prev: usize) -> Option<usize> {
    if x.is_nan() || t.len() < 2 * K + 2 {
        return None;
    }
    let n = t.len() - K - 1;
    let mut l = if K < prev && prev < n { prev } else { K };
    while l != K && x < t[l] {
        l -= 1;
    }
    l += 1;
    while l != n && x >= t[l] {
        l += 1;
    }
    Some(l - 1)
}

/// The `K + 1` non-zero cubic B-spline values at `x` on interval `ell`
/// (de Boor–Cox recursion with scipy's `_deBoor_D` operation order).
#[inline]
pub fn de_boor(t: &[f64], x: f64, ell: usize, h: &mut [f64; K + 1]) {
    *h = de_boor3(t, x, ell);
}

/// One step `w = hh/(xb − xa)`: returns `(w·(xb − x), w·(x − xa))`, or
/// `None` for a repeated knot (`xb == xa`).
#[inline(always)]
fn step(hh: f64, xa: f64, xb: f64, x: f64) -> Option<(f64, f64)> {
    if xb == xa {
        None
    } else {
        let w = hh / (xb - xa);
        Some((w * (xb - x), w * (x - xa)))
    }
}

/// Cubic de Boor–Cox recursion unrolled, values kept in registers. Same
/// operations, in the same order, as the generic recursion.
#[inline(always)]
fn de_boor3(t: &[f64], x: f64, l: usize) -> [f64; 4] {
    let (tm2, tm1, t0, t1, t2, t3) = (t[l - 2], t[l - 1], t[l], t[l + 1], t[l + 2], t[l + 3]);
    // j = 1
    let hh0 = 1.0;
    let mut h0 = 0.0;
    let mut h1 = 0.0;
    if let Some((a, b)) = step(hh0, t0, t1, x) {
        h0 += a;
        h1 = b;
    }
    // j = 2
    let (hh0, hh1) = (h0, h1);
    let mut h0 = 0.0;
    let mut h2 = 0.0;
    match step(hh0, tm1, t1, x) {
        Some((a, b)) => {
            h0 += a;
            h1 = b;
        }
        None => h1 = 0.0,
    }
    if let Some((a, b)) = step(hh1, t0, t2, x) {
        h1 += a;
        h2 = b;
    }
    // j = 3
    let (hh0, hh1, hh2) = (h0, h1, h2);
    let mut h0 = 0.0;
    let mut h3 = 0.0;
    match step(hh0, tm2, t1, x) {
        Some((a, b)) => {
            h0 += a;
            h1 = b;
        }
        None => h1 = 0.0,
    }
    match step(hh1, tm1, t2, x) {
        Some((a, b)) => {
            h1 += a;
            h2 = b;
        }
        None => h2 = 0.0,
    }
    if let Some((a, b)) = step(hh2, t0, t3, x) {
        h2 += a;
        h3 = b;
    }
    [h0, h1, h2, h3]
}

/// Evaluate the spline `(t, c)` at `x` with extrapolation (scipy's
/// `BSpline.__call__` with `extrapolate=True`). NaN for NaN input or when the
/// knot vector is too short.
#[inline]
pub fn eval_one(t: &[f64], c: &[f64], x: f64, prev: &mut usize) -> f64 {
    match find_interval(t, x, *prev) {
        None => f64::NAN,
        Some(ell) => {
            *prev = ell;
            let mut h = [0.0; K + 1];
            de_boor(t, x, ell, &mut h);
            let mut out = 0.0;
            for (a, hv) in h.iter().enumerate() {
                match c.get(ell + a - K) {
                    Some(cv) => out += cv * hv,
                    None => return f64::NAN,
                }
            }
            out
        }
    }
}

/// LAPACK 3.10+ `dlartg`: `(c, s, r)` with `[c s; -s c]·[f; g] = [r; 0]`.
#[inline(always)]
pub fn dlartg(f: f64, g: f64) -> (f64, f64, f64) {
    const SAFMIN: f64 = f64::MIN_POSITIVE; // 2^-1022
    const SAFMAX: f64 = 1.0 / f64::MIN_POSITIVE; // 2^1022
    let rtmin = SAFMIN.sqrt();
    let rtmax = (SAFMAX / 2.0).sqrt();
    let f1 = f.abs();
    let g1 = g.abs();
    if g == 0.0 {
        (1.0, 0.0, f)
    } else if f == 0.0 {
        (0.0, 1.0f64.copysign(g), g1)
    } else if f1 > rtmin && f1 < rtmax && g1 > rtmin && g1 < rtmax {
        let d = (f * f + g * g).sqrt();
        let c = f1 / d;
        let r = d.copysign(f);
        let s = g / r;
        (c, s, r)
    } else {
        let u = SAFMAX.min(SAFMIN.max(f1).max(g1));
        let fs = f / u;
        let gs = g / u;
        let d = (fs * fs + gs * gs).sqrt();
        let c = fs.abs() / d;
        let r = d.copysign(f);
        let s = gs / r;
        (c, s, r * u)
    }
}

/// Why a least-squares solve did not produce coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LsqError {
    /// A check of `make_lsq_spline` failed (fewer than 4 points, unsorted or
    /// non-finite input, knots decreasing, data outside the base interval);
    /// the reference raises `ValueError`.
    Construction,
    /// Fewer data rows than coefficients: the reference reads outside its
    /// arrays (undefined behaviour); treated as a failed fit here.
    Underdetermined,
}

/// Least-squares solver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// FITPACK's row-sequential Givens rotations (LAPACK `dlartg`) and the
    /// de Boor–Cox basis with true divisions: bitwise equal to
    /// `scipy.interpolate.make_lsq_spline(method="qr")`.
    #[default]
    Givens,
    /// Householder reflections applied to the block of rows of each knot
    /// interval at once, and a basis using per-interval reciprocals of the
    /// knot differences. Orthogonal and backward stable like `Givens`, equal
    /// to it to rounding (about 1e-15 relative on well-conditioned data),
    /// several times faster (no square root or division per data row).
    Householder,
}

/// Reusable buffers of [`solve`].
#[derive(Debug, Default, Clone)]
pub struct LsqWork {
    /// Rows of the current interval block (Householder).
    blk: Vec<[f64; K + 2]>,
    /// Reciprocal knot differences per interval (Householder basis).
    recip: Vec<[f64; 6]>,
    /// Packed rows `[R_i0, R_i1, R_i2, R_i3, y_i]`, reduced in place.
    r: Vec<[f64; K + 2]>,
    /// Basis values of every data row (kept for evaluation at the data).
    pub basis: Vec<[f64; K + 1]>,
    /// Interval index of every data row.
    pub interval: Vec<usize>,
}

/// Apply the Givens rotation that annihilates `ri[0]` against `rj[0]` to the
/// pair of packed rows; row `i` is shifted left by one (its first element
/// is the annihilated one), the right-hand sides (index 4) are not shifted.
#[inline(always)]
fn rotate(rj: &mut [f64; K + 2], ri: &mut [f64; K + 2]) {
    let (c, s, rr) = dlartg(rj[0], ri[0]);
    rj[0] = rr;
    let (a1, a2, a3) = (rj[1], rj[2], rj[3]);
    let (b1, b2, b3) = (ri[1], ri[2], ri[3]);
    rj[1] = c * a1 + s * b1;
    ri[0] = -s * a1 + c * b1;
    rj[2] = c * a2 + s * b2;
    ri[1] = -s * a2 + c * b2;
    rj[3] = c * a3 + s * b3;
    ri[2] = -s * a3 + c * b3;
    ri[3] = 0.0;
    let (ay, by) = (rj[4], ri[4]);
    rj[4] = c * ay + s * by;
    ri[4] = -s * ay + c * by;
}

#[inline(always)]
fn is_zero(r: &[f64; K + 2]) -> bool {
    r[0] == 0.0 && r[1] == 0.0 && r[2] == 0.0 && r[3] == 0.0
}

/// Row-sequential Givens reduction (FITPACK order, scipy's `qr_reduce`):
/// row `i` is rotated against rows `offset[i] .. min(i, nc)` in turn, and
/// the remaining rotations are skipped once the row is entirely zero (they
/// are identities: `dlartg(f, 0) = (1, 0, f)`).
fn reduce(r: &mut [[f64; K + 2]], interval: &[usize], nc: usize) {
    for (i, &ell) in interval.iter().enumerate().skip(1) {
        let (head, tail) = r.split_at_mut(i);
        let Some(ri) = tail.first_mut() else { break };
        let jend = i.min(nc).min(head.len());
        let mut j = ell - K;
        while j < jend {
            if is_zero(ri) {
                break;
            }
            rotate(&mut head[j], ri);
            j += 1;
        }
    }
}

/// Least-squares cubic spline coefficients for knots `t` and data `(x, y)`
/// (unit weights), written to `coef` (`t.len() - 4` values).
///
/// On success `work.basis`/`work.interval` hold the basis values of every
/// data point, so the fit can be evaluated at the data without recomputing
/// them ([`eval_at_data`]).
pub fn solve(
    x: &[f64],
    y: &[f64],
    t: &[f64],
    work: &mut LsqWork,
    coef: &mut Vec<f64>,
    method: Method,
) -> Result<(), LsqError> {
    check(x, y, t)?;
    let nc = t.len() - K - 1;
    work.interval.clear();
    let mut ind = K;
    for &xv in x {
        ind = find_interval(t, xv, ind).ok_or(LsqError::Construction)?;
        work.interval.push(ind);
    }
    work.basis.clear();
    match method {
        Method::Givens => {
            work.basis.extend(
                x.iter()
                    .zip(&work.interval)
                    .map(|(&xv, &l)| de_boor3(t, xv, l)),
            );
        }
        Method::Householder => {
            reciprocals(t, &mut work.recip);
            for (&xv, &l) in x.iter().zip(&work.interval) {
                let rc = work.recip.get(l - K).ok_or(LsqError::Construction)?;
                work.basis.push(de_boor3_recip(t, xv, l, rc));
            }
        }
    }
    let eff = effective_method(method, &work.basis, &work.interval, nc);
    if eff != method {
        work.basis.clear();
        work.basis.extend(
            x.iter()
                .zip(&work.interval)
                .map(|(&xv, &l)| de_boor3(t, xv, l)),
        );
    }
    let method = eff;
    solve_with_basis(y, nc, work, coef, method);
    Ok(())
}

/// Whether scipy's row-sequential reduction would end with a structurally
/// zero diagonal element of `R` (and so NaN coefficients: a failed fit in
/// the reference) on data with these basis-value patterns.
///
/// scipy uses the first `nc` data rows as the rows of `R` and rotates each
/// later row only against rows of lower index; with sparse data at the ends
/// of the knot range this can leave a coefficient without a pivot although
/// the least-squares problem has full rank (which the Householder solver
/// would solve). A row `i < nc` whose first coefficient lies beyond `i` is
/// also taken for the wrong coefficient. Both cases are detected here from
/// the zero/non-zero pattern of the rows (cancellation to an exact zero is
/// ignored), so that they can be solved the reference's way.
fn reference_breaks(basis: &[[f64; K + 1]], interval: &[usize], nc: usize) -> bool {
    let mut pat: Vec<u8> = basis
        .iter()
        .map(|h| {
            h.iter()
                .enumerate()
                .fold(0u8, |m, (l, &v)| if v != 0.0 { m | (1 << l) } else { m })
        })
        .collect();
    let m = pat.len();
    for i in 1..m {
        let o = interval[i] - K;
        if i < nc && o > i {
            return true;
        }
        let jend = i.min(nc);
        let mut p = pat[i];
        let mut j = o;
        while j < jend && p != 0 {
            let rj = pat[j];
            if p & 1 == 0 {
                // identity rotation, row i shifts
                p >>= 1;
            } else if rj & 1 == 0 {
                // rows exchange roles
                pat[j] = 1 | (p & 0b1110);
                p = (rj & 0b1110) >> 1;
            } else {
                let u = (rj | p) & 0b1110;
                pat[j] = 1 | u;
                p = u >> 1;
            }
            j += 1;
        }
        pat[i] = p;
    }
    pat.iter().take(nc).any(|&r| r & 1 == 0) || m < nc
}

/// A cheap sufficient condition for [`reference_breaks`] to be false: the
/// first point gives a pivot, rows 1-3 lie in the first knot interval with
/// four non-zero basis values, and every later interval holds at least one
/// row with four non-zero basis values (each such interval then supplies
/// the pivot of its last coefficient).
fn dense_enough(basis: &[[f64; K + 1]], interval: &[usize], nc: usize) -> bool {
    let full = |h: &[f64; K + 1]| h.iter().all(|&v| v != 0.0);
    let m = basis.len();
    if m < K + 1 || basis[0][0] == 0.0 {
        return false;
    }
    if (1..=K).any(|i| interval[i] != K || !full(&basis[i])) {
        return false;
    }
    let (mut cur, mut ok) = (K, true);
    for (h, &l) in basis.iter().zip(interval).skip(K + 1) {
        if l != cur {
            if !ok || l != cur + 1 {
                return false;
            }
            cur = l;
            ok = false;
        }
        ok = ok || full(h);
    }
    ok && cur + 1 == nc
}

/// The solver actually used: problems on which the reference's reduction
/// breaks down are solved the reference's way whatever `method` says.
fn effective_method(
    method: Method,
    basis: &[[f64; K + 1]],
    interval: &[usize],
    nc: usize,
) -> Method {
    if method == Method::Householder
        && !dense_enough(basis, interval, nc)
        && reference_breaks(basis, interval, nc)
    {
        Method::Givens
    } else {
        method
    }
}

/// [`solve`] reusing `work.basis`/`work.interval` of the same knots `t`,
/// keeping only the data rows where `keep` is true (a rejection step that
/// left the knots unchanged). `x`, `y` hold the kept values.
pub fn solve_subset(
    keep: &[bool],
    x: &[f64],
    y: &[f64],
    t: &[f64],
    work: &mut LsqWork,
    coef: &mut Vec<f64>,
    method: Method,
) -> Result<(), LsqError> {
    let nc = t.len() - K - 1;
    let mut k = 0;
    let n = keep.len().min(work.basis.len()).min(work.interval.len());
    for (i, &kp) in keep.iter().enumerate().take(n) {
        if kp {
            work.basis[k] = work.basis[i];
            work.interval[k] = work.interval[i];
            k += 1;
        }
    }
    work.basis.truncate(k);
    work.interval.truncate(k);
    if k != y.len() || k != x.len() || k < K + 1 || y.iter().any(|v| !v.is_finite()) {
        return Err(LsqError::Construction);
    }
    if k < nc {
        return Err(LsqError::Underdetermined);
    }
    if effective_method(method, &work.basis, &work.interval, nc) != method {
        return solve(x, y, t, work, coef, Method::Givens);
    }
    solve_with_basis(y, nc, work, coef, method);
    Ok(())
}

/// Reciprocal knot differences of every interval `l` (index `l − 3`):
/// `1/(t[l+1]−t[l])`, `1/(t[l+1]−t[l−1])`, `1/(t[l+2]−t[l])`,
/// `1/(t[l+1]−t[l−2])`, `1/(t[l+2]−t[l−1])`, `1/(t[l+3]−t[l])`
/// (0 for a repeated knot).
fn reciprocals(t: &[f64], out: &mut Vec<[f64; 6]>) {
    out.clear();
    let n = t.len() - K - 1;
    let inv = |b: f64, a: f64| if b == a { 0.0 } else { 1.0 / (b - a) };
    for l in K..n {
        out.push([
            inv(t[l + 1], t[l]),
            inv(t[l + 1], t[l - 1]),
            inv(t[l + 2], t[l]),
            inv(t[l + 1], t[l - 2]),
            inv(t[l + 2], t[l - 1]),
            inv(t[l + 3], t[l]),
        ]);
    }
}

/// The cubic de Boor–Cox recursion with multiplications by precomputed
/// reciprocals (a zero reciprocal marks a repeated knot).
#[inline(always)]
fn de_boor3_recip(t: &[f64], x: f64, l: usize, r: &[f64; 6]) -> [f64; 4] {
    let (tm2, tm1, t0, t1, t2, t3) = (t[l - 2], t[l - 1], t[l], t[l + 1], t[l + 2], t[l + 3]);
    // j = 1
    let w = r[0];
    let (h0, h1) = (w * (t1 - x), w * (x - t0));
    // j = 2
    let w0 = h0 * r[1];
    let w1 = h1 * r[2];
    let g0 = w0 * (t1 - x);
    let g1 = w0 * (x - tm1) + w1 * (t2 - x);
    let g2 = w1 * (x - t0);
    // j = 3
    let w0 = g0 * r[3];
    let w1 = g1 * r[4];
    let w2 = g2 * r[5];
    [
        w0 * (t1 - x),
        w0 * (x - tm2) + w1 * (t2 - x),
        w1 * (x - tm1) + w2 * (t3 - x),
        w2 * (x - t0),
    ]
}

/// Checks of `make_lsq_spline` (and the row count).
fn check(x: &[f64], y: &[f64], t: &[f64]) -> Result<(), LsqError> {
    let m = x.len();
    if m < K + 1 || y.len() != m || t.len() < 2 * K + 2 {
        return Err(LsqError::Construction);
    }
    if t.iter().any(|v| !v.is_finite()) || y.iter().any(|v| !v.is_finite()) {
        return Err(LsqError::Construction);
    }
    if t.windows(2).any(|w| w[1] - w[0] < 0.0) {
        return Err(LsqError::Construction);
    }
    let nt = t.len();
    let (tb, te) = (t[K], t[nt - K]);
    let mut prevx = f64::NEG_INFINITY;
    for &xv in x {
        // also rejects NaN
        if !(xv >= tb && xv <= te && xv >= prevx) {
            return Err(LsqError::Construction);
        }
        prevx = xv;
    }
    if m < nt - K - 1 {
        return Err(LsqError::Underdetermined);
    }
    Ok(())
}

fn solve_with_basis(y: &[f64], nc: usize, work: &mut LsqWork, coef: &mut Vec<f64>, method: Method) {
    match method {
        Method::Givens => {
            work.r.clear();
            work.r.extend(
                work.basis
                    .iter()
                    .zip(y)
                    .map(|(h, &yv)| [h[0], h[1], h[2], h[3], yv]),
            );
            reduce(&mut work.r, &work.interval, nc);
        }
        Method::Householder => {
            reduce_blocks(
                &work.basis,
                &work.interval,
                y,
                nc,
                &mut work.r,
                &mut work.blk,
            );
        }
    }
    back_substitute(&work.r, nc, coef);
}

/// Banded QR by Householder reflections, one knot interval at a time: the
/// rows of interval `l` touch coefficients `l−3..=l` only, and so do the
/// not yet final rows `l−3..=l` of `R`, so each interval is a small dense
/// `(4 + s) × 4` QR (plus right-hand side). `r` receives the `nc` rows of
/// `R` (band storage `r[j][q] = R[j, j+q]`, right-hand side at index 4).
fn reduce_blocks(
    basis: &[[f64; K + 1]],
    interval: &[usize],
    y: &[f64],
    nc: usize,
    r: &mut Vec<[f64; K + 2]>,
    blk: &mut Vec<[f64; K + 2]>,
) {
    r.clear();
    r.resize(nc, [0.0; K + 2]);
    let m = basis.len();
    let mut i = 0;
    while i < m {
        let ell = interval[i];
        let mut e = i + 1;
        while e < m && interval[e] == ell {
            e += 1;
        }
        let o = ell - K;
        blk.clear();
        blk.extend(
            basis[i..e]
                .iter()
                .zip(&y[i..e])
                .map(|(h, &yv)| [h[0], h[1], h[2], h[3], yv]),
        );
        householder_column::<0>(blk, r, o);
        householder_column::<1>(blk, r, o);
        householder_column::<2>(blk, r, o);
        householder_column::<3>(blk, r, o);
        i = e;
    }
}

/// Householder reflection of column `C` of the block (rows `blk`) and row
/// `o + C` of `R`, applied to the later columns and the right-hand side.
#[inline(always)]
fn householder_column<const C: usize>(blk: &mut [[f64; K + 2]], r: &mut [[f64; K + 2]], o: usize) {
    // one pass: squared norm of column C and its dot products with the
    // later columns and the right-hand side
    let mut ss = 0.0;
    let mut dots = [0.0f64; K + 2];
    for b in blk.iter() {
        let bc = b[C];
        ss += bc * bc;
        for k in C + 1..K + 2 {
            dots[k] += bc * b[k];
        }
    }
    if ss == 0.0 {
        return;
    }
    let Some(row) = r.get_mut(o + C) else { return };
    let d = row[0];
    let norm = (d * d + ss).sqrt();
    let alpha = if d >= 0.0 { -norm } else { norm };
    let v0 = d - alpha;
    let scale = 2.0 / (v0 * v0 + ss);
    let mut f = [0.0f64; K + 2];
    for k in C + 1..K + 2 {
        // index of R(o+C, o+k) in band storage (right-hand side at K+1)
        let q = if k <= K { k - C } else { K + 1 };
        f[k] = (v0 * row[q] + dots[k]) * scale;
        row[q] -= f[k] * v0;
    }
    row[0] = alpha;
    for b in blk.iter_mut() {
        let bc = b[C];
        for k in C + 1..K + 2 {
            b[k] -= f[k] * bc;
        }
    }
}

/// Banded back substitution (scipy's `fpback`).
fn back_substitute(r: &[[f64; K + 2]], nc: usize, coef: &mut Vec<f64>) {
    coef.clear();
    coef.resize(nc, 0.0);
    coef[nc - 1] = r[nc - 1][K + 1] / r[nc - 1][0];
    for i in (0..nc - 1).rev() {
        let nel = (K + 1).min(nc - i);
        let mut ssum = r[i][K + 1];
        for jj in 1..nel {
            ssum -= r[i][jj] * coef[i + jj];
        }
        coef[i] = ssum / r[i][0];
    }
}

/// Evaluate coefficients `c` at the data of the last [`solve`] (same values
/// as evaluating the spline at those points).
pub fn eval_at_data(work: &LsqWork, c: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.extend(work.basis.iter().zip(&work.interval).map(|(h, &ell)| {
        let mut v = 0.0;
        for (a, hv) in h.iter().enumerate() {
            v += c[ell + a - K] * hv;
        }
        v
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain row-by-row reduction (scipy's loop, no skipping).
    fn reduce_plain(r: &mut [[f64; K + 2]], interval: &[usize], nc: usize) {
        for (i, &ell) in interval.iter().enumerate().take(r.len()).skip(1) {
            let mut j = ell - K;
            while j < i.min(nc) {
                let (head, tail) = r.split_at_mut(i);
                rotate(&mut head[j], &mut tail[0]);
                j += 1;
            }
        }
    }

    #[test]
    fn skipping_zero_rows_is_bitwise_equal_to_the_full_loop() {
        let mut seed = 7u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 1_000_003) as f64 / 1_000_003.0
        };
        for trial in 0..40 {
            let nint = 3 + trial % 17;
            let mut t = vec![0.0; 4];
            for k in 1..nint {
                t.push(k as f64 + 0.3 * (rnd() - 0.5));
            }
            t.extend([nint as f64; 4]);
            let m = 20 + trial * 13;
            let mut x: Vec<f64> = (0..m).map(|_| rnd() * nint as f64).collect();
            // clustered data with gaps for some trials
            if trial % 3 == 0 {
                x.iter_mut()
                    .for_each(|v| *v = (*v * 0.5).floor() * 2.0 + 0.3 * rnd());
            }
            x.push(0.0);
            x.push(nint as f64);
            x.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let y: Vec<f64> = x.iter().map(|v| (v * 1.3).sin() + 0.1 * rnd()).collect();
            let mut w = LsqWork::default();
            let mut c = Vec::new();
            if solve(&x, &y, &t, &mut w, &mut c, Method::Givens).is_err() {
                continue;
            }
            let nc = t.len() - K - 1;
            let mut r: Vec<[f64; K + 2]> = w
                .basis
                .iter()
                .zip(&y)
                .map(|(h, &yv)| [h[0], h[1], h[2], h[3], yv])
                .collect();
            reduce_plain(&mut r, &w.interval, nc);
            let mut c2 = Vec::new();
            back_substitute(&r, nc, &mut c2);
            for (a, b) in c.iter().zip(&c2) {
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "trial {trial}"
                );
            }
        }
    }

    #[test]
    fn dlartg_annihilates_second_component() {
        let (c, s, r) = dlartg(3.0, 4.0);
        assert!((r - 5.0).abs() < 1e-15);
        assert!((-s * 3.0 + c * 4.0).abs() < 1e-15);
        assert_eq!(dlartg(2.0, 0.0), (1.0, 0.0, 2.0));
        assert_eq!(dlartg(0.0, -2.0), (0.0, -1.0, 2.0));
    }

    #[test]
    fn basis_is_a_partition_of_unity() {
        let t = [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0];
        for &x in &[0.0, 0.3, 1.0, 2.5, 3.0] {
            let ell = find_interval(&t, x, K).unwrap();
            let mut h = [0.0; 4];
            de_boor(&t, x, ell, &mut h);
            assert!((h.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        }
    }

    #[test]
    fn solve_reproduces_a_cubic_polynomial() {
        let t = [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 3.0, 3.0];
        let x: Vec<f64> = (0..31).map(|i| i as f64 * 0.1).collect();
        let y: Vec<f64> = x.iter().map(|v| 1.0 - 2.0 * v + 0.5 * v * v * v).collect();
        let mut w = LsqWork::default();
        let mut c = Vec::new();
        solve(&x, &y, &t, &mut w, &mut c, Method::Givens).unwrap();
        let mut prev = K;
        for (&xv, &yv) in x.iter().zip(&y) {
            assert!((eval_one(&t, &c, xv, &mut prev) - yv).abs() < 1e-12);
        }
    }

    #[test]
    fn breakdown_of_the_reference_reduction_is_detected() {
        // 11 knot intervals on [0, 11]; dense data everywhere
        let t: Vec<f64> = [0.0; 3]
            .into_iter()
            .chain((0..=11).map(f64::from))
            .chain([11.0; 3])
            .collect();
        let nc = t.len() - K - 1;
        let mut x: Vec<f64> = (0..=1100).map(|i| i as f64 * 0.01).collect();
        let pats = |x: &[f64]| -> (Vec<[f64; 4]>, Vec<usize>) {
            let mut b = Vec::new();
            let mut iv = Vec::new();
            let mut l = K;
            for &xv in x {
                l = find_interval(&t, xv, l).unwrap();
                b.push(de_boor3(&t, xv, l));
                iv.push(l);
            }
            (b, iv)
        };
        let (b, iv) = pats(&x);
        assert!(dense_enough(&b, &iv, nc));
        assert!(!reference_breaks(&b, &iv, nc));
        // sparse end (points per interval 3,1,0,1,0,2,0,2 after x = 3): the
        // problem has full rank, but the reference's reduction runs out of
        // rows for the last pivots
        x.retain(|&v| v < 3.0);
        x.extend([3.2, 3.5, 3.8, 4.5, 6.5, 8.3, 8.7, 10.5, 11.0]);
        let (b, iv) = pats(&x);
        assert!(!dense_enough(&b, &iv, nc));
        assert!(reference_breaks(&b, &iv, nc));
        let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
        let mut w = LsqWork::default();
        let mut c = Vec::new();
        solve(&x, &y, &t, &mut w, &mut c, Method::Givens).unwrap();
        assert!(c.iter().any(|v| !v.is_finite()));
        // the Householder solver falls back to the reference's way here
        solve(&x, &y, &t, &mut w, &mut c, Method::Householder).unwrap();
        assert!(c.iter().any(|v| !v.is_finite()));
    }

    #[test]
    fn householder_agrees_with_givens_to_rounding() {
        let t: Vec<f64> = [0.0; 3]
            .into_iter()
            .chain((0..=12).map(|k| k as f64 * 0.5))
            .chain([6.0; 3])
            .collect();
        let x: Vec<f64> = (0..=600).map(|i| i as f64 * 0.01).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| (v * 1.7).sin() * (-0.1 * v).exp())
            .collect();
        let (mut w1, mut w2) = (LsqWork::default(), LsqWork::default());
        let (mut c1, mut c2) = (Vec::new(), Vec::new());
        solve(&x, &y, &t, &mut w1, &mut c1, Method::Givens).unwrap();
        solve(&x, &y, &t, &mut w2, &mut c2, Method::Householder).unwrap();
        for (a, b) in c1.iter().zip(&c2) {
            assert!((a - b).abs() <= 1e-13 * a.abs().max(1.0), "{a} {b}");
        }
        for (h1, h2) in w1.basis.iter().zip(&w2.basis) {
            for (a, b) in h1.iter().zip(h2) {
                assert!((a - b).abs() <= 1e-15);
            }
        }
    }

    #[test]
    fn solve_rejects_unsorted_and_out_of_range_data() {
        let t = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let mut w = LsqWork::default();
        let mut c = Vec::new();
        let y = [0.0; 5];
        assert_eq!(
            solve(
                &[0.0, 0.5, 0.2, 0.7, 1.0],
                &y,
                &t,
                &mut w,
                &mut c,
                Method::Givens
            ),
            Err(LsqError::Construction)
        );
        assert_eq!(
            solve(
                &[0.0, 0.5, 0.6, 0.7, 1.5],
                &y,
                &t,
                &mut w,
                &mut c,
                Method::Givens
            ),
            Err(LsqError::Construction)
        );
        assert_eq!(
            solve(
                &[0.0, 0.5, 0.6],
                &y[..3],
                &t,
                &mut w,
                &mut c,
                Method::Givens
            ),
            Err(LsqError::Construction)
        );
    }
}
