//! Modes and per-mode parameter tables (spec adaptive_trace_model.md 3.2, 4.2, 4.3).

use crate::bspline::Method;
use crate::{Error, Result};
use std::str::FromStr;

/// Observing mode, which selects the working-frame orientation and the
/// fitting/oversampling parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// NIRSpec IFU (30 slices, region map from the data model).
    NrsIfu,
    /// NIRSpec fixed slit (one region).
    NrsSlit,
    /// NIRSpec MOS slitlet (one region).
    NrsMos,
    /// MIRI MRS (region ids `100·channel + slice`); rotated working frame.
    MirMrs,
    /// MIRI LRS fixed slit; rotated working frame.
    MirLrsSlit,
    /// MIRI LRS slitless; rotated working frame.
    MirLrsSlitless,
}

impl Mode {
    /// `true` for MIRI modes: the dispersion runs along detector y, so the
    /// arrays are rotated by `rot90(k=1)` before fitting and back afterwards.
    pub fn rotates(self) -> bool {
        matches!(self, Mode::MirMrs | Mode::MirLrsSlit | Mode::MirLrsSlitless)
    }

    /// `true` for NIRSpec modes.
    pub fn is_nirspec(self) -> bool {
        matches!(self, Mode::NrsIfu | Mode::NrsSlit | Mode::NrsMos)
    }

    /// The reference's mode name (`"NRS_IFU"`, `"MIR_LRS_SLIT"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Mode::NrsIfu => "NRS_IFU",
            Mode::NrsSlit => "NRS_SLIT",
            Mode::NrsMos => "NRS_MOS",
            Mode::MirMrs => "MIR_MRS",
            Mode::MirLrsSlit => "MIR_LRS_SLIT",
            Mode::MirLrsSlitless => "MIR_LRS_SLITLESS",
        }
    }
}

impl FromStr for Mode {
    type Err = Error;
    /// Accepts the reference's mode names and exposure types
    /// (`"NRS_IFU"`, `"NRS_SLIT"`/`"NRS_FIXEDSLIT"`, `"NRS_MOS"`/`"NRS_MSASPEC"`,
    /// `"MIR_MRS"`, `"MIR_LRS_SLIT"`/`"MIR_LRS-FIXEDSLIT"`,
    /// `"MIR_LRS_SLITLESS"`/`"MIR_LRS-SLITLESS"`), case-insensitively.
    fn from_str(s: &str) -> Result<Self> {
        let u = s.trim().to_ascii_uppercase().replace('-', "_");
        Ok(match u.as_str() {
            "NRS_IFU" => Mode::NrsIfu,
            "NRS_SLIT" | "NRS_FIXEDSLIT" | "NRS_BRIGHTOBJ" => Mode::NrsSlit,
            "NRS_MOS" | "NRS_MSASPEC" => Mode::NrsMos,
            "MIR_MRS" => Mode::MirMrs,
            "MIR_LRS_SLIT" | "MIR_LRS_FIXEDSLIT" => Mode::MirLrsSlit,
            "MIR_LRS_SLITLESS" => Mode::MirLrsSlitless,
            "MIR_WFSS" => return Err(Error::value("MIRI WFSS is not supported.")),
            _ => {
                return Err(Error::value(format!(
                    "unknown mode {s:?}; expected one of NRS_IFU, NRS_SLIT, NRS_MOS, MIR_MRS, \
                     MIR_LRS-FIXEDSLIT, MIR_LRS-SLITLESS"
                )))
            }
        })
    }
}

/// Order in which the columns of a region are fitted (it decides which
/// earlier fit a failing column falls back to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnOrder {
    /// `0 → nx−1` (NIRSpec NRS1).
    Ascending,
    /// `nx−1 → 0` (other NIRSpec detectors, MIRI LRS).
    Descending,
    /// `0..=nx/2`, then `nx−1` down to `nx/2+1` (MIRI MRS).
    Split,
}

impl ColumnOrder {
    /// The column indices of an `nx`-column image in this order.
    pub fn columns(self, nx: usize) -> Vec<usize> {
        match self {
            ColumnOrder::Ascending => (0..nx).collect(),
            ColumnOrder::Descending => (0..nx).rev().collect(),
            ColumnOrder::Split => {
                let h = nx / 2;
                let mut v: Vec<usize> = (0..=h).filter(|&i| i < nx).collect();
                v.extend((h + 1..nx).rev());
                v
            }
        }
    }
}

/// Per-mode column-fit parameters (spec table 4.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitConfig {
    /// Column half-window: the window of column `i` is `[i−lrange, i+lrange)`.
    pub lrange: usize,
    /// Gap-test ratio ([`crate::bspline::FitParams::space_ratio`]).
    pub space_ratio: f64,
    /// Lower rejection threshold (σ).
    pub sigma_low: f64,
    /// Upper rejection threshold (σ).
    pub sigma_high: f64,
    /// Fit/reject iterations.
    pub fit_iter: i64,
    /// Number of knot intervals; `None` = automatic (`auto_bkpt_factor · n_α`).
    pub spline_bkpt: Option<i64>,
    /// A column is fitted only if it has more finite pixels than this;
    /// `None` = automatic (`auto_ngood_factor · n_α`).
    pub require_ngood: Option<i64>,
    /// Factor of the automatic knot count.
    pub auto_bkpt_factor: f64,
    /// Factor of the automatic minimum pixel count.
    pub auto_ngood_factor: f64,
    /// Column order of the fallback chain.
    pub order: ColumnOrder,
    /// Least-squares solver of the column fits.
    pub method: Method,
}

/// Per-mode oversampling parameters (spec table 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsConfig {
    /// Half-width (in native alpha steps) of the compact-source bands.
    pub pad: i64,
    /// Blank the outer `trunc(N)` oversampled spline values of every column.
    pub trim_ends: bool,
    /// A column is interpolated only if it has more finite pixels than this.
    pub require_ngood: usize,
}

/// Upper-cased detector name, checked against the instrument of `mode`.
pub fn check_detector(mode: Mode, detector: &str) -> Result<String> {
    let d = detector.trim().to_ascii_uppercase();
    let ok = if mode.is_nirspec() {
        d.starts_with("NRS")
    } else {
        d.starts_with("MIR")
    };
    if !ok {
        return Err(Error::value(format!(
            "detector {detector:?} does not belong to mode {}",
            mode.name()
        )));
    }
    Ok(d)
}

/// Default detector name of a mode (`"NRS1"` for NIRSpec, `"MIRIMAGE"` /
/// `"MIRIFUSHORT"` for MIRI).
pub fn default_detector(mode: Mode) -> &'static str {
    match mode {
        Mode::NrsIfu | Mode::NrsSlit | Mode::NrsMos => "NRS1",
        Mode::MirMrs => "MIRIFUSHORT",
        Mode::MirLrsSlit | Mode::MirLrsSlitless => "MIRIMAGE",
    }
}

impl FitConfig {
    /// Parameters of `mode` for `detector` (e.g. `"NRS1"`, `"NRS2"`,
    /// `"MIRIFUSHORT"`) and `grating` (only `"PRISM"` matters).
    pub fn for_mode(mode: Mode, detector: &str, grating: &str) -> Result<Self> {
        let d = check_detector(mode, detector)?;
        if mode.is_nirspec() {
            let prism = grating.trim().eq_ignore_ascii_case("PRISM");
            Ok(FitConfig {
                lrange: if prism { 10 } else { 50 },
                space_ratio: 1.6,
                sigma_low: 2.5,
                sigma_high: 2.5,
                fit_iter: 3,
                spline_bkpt: None,
                require_ngood: None,
                auto_bkpt_factor: if prism { 1.0 } else { 2.0 },
                auto_ngood_factor: if prism { 0.25 } else { 0.5 },
                order: if d == "NRS1" {
                    ColumnOrder::Ascending
                } else {
                    ColumnOrder::Descending
                },
                method: Method::default(),
            })
        } else {
            let (lrange, sig, iters, bkpt, order) = match mode {
                Mode::MirMrs => (50, 2.5, 3, 36, ColumnOrder::Split),
                Mode::MirLrsSlitless => (5, 3.0, 2, 60, ColumnOrder::Descending),
                _ => (5, 3.0, 3, 40, ColumnOrder::Descending),
            };
            Ok(FitConfig {
                lrange,
                space_ratio: 1.2,
                sigma_low: sig,
                sigma_high: sig,
                fit_iter: iters,
                spline_bkpt: Some(bkpt),
                require_ngood: Some(8),
                auto_bkpt_factor: 2.0,
                auto_ngood_factor: 0.5,
                order,
                method: Method::default(),
            })
        }
    }
}

impl OsConfig {
    /// Oversampling parameters of `mode`.
    pub fn for_mode(mode: Mode) -> Self {
        match mode {
            Mode::NrsIfu => OsConfig {
                pad: 2,
                trim_ends: true,
                require_ngood: 3,
            },
            Mode::NrsSlit | Mode::NrsMos => OsConfig {
                pad: 1,
                trim_ends: true,
                require_ngood: 3,
            },
            _ => OsConfig {
                pad: 3,
                trim_ends: false,
                require_ngood: 3,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrs_column_order_visits_each_column_once() {
        assert_eq!(ColumnOrder::Split.columns(7), vec![0, 1, 2, 3, 6, 5, 4]);
        assert_eq!(ColumnOrder::Split.columns(1), vec![0]);
        assert!(ColumnOrder::Split.columns(0).is_empty());
    }

    #[test]
    fn nirspec_prism_uses_short_window() {
        let c = FitConfig::for_mode(Mode::NrsIfu, "NRS2", "prism").unwrap();
        assert_eq!(c.lrange, 10);
        assert_eq!(c.order, ColumnOrder::Descending);
        assert!(FitConfig::for_mode(Mode::NrsIfu, "MIRIMAGE", "").is_err());
    }

    #[test]
    fn mode_names_parse() {
        assert_eq!(
            "MIR_LRS-FIXEDSLIT".parse::<Mode>().unwrap(),
            Mode::MirLrsSlit
        );
        assert_eq!("nrs_msaspec".parse::<Mode>().unwrap(), Mode::NrsMos);
        assert!("MIR_WFSS".parse::<Mode>().is_err());
    }
}
