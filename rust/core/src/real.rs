//! The floating-point element types every kernel accepts: `f32` and `f64`.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type of the reference arrays: `f32` or `f64`.
///
/// Arithmetic on a `Real` is done in that type, as numpy does for same-dtype
/// operands (the reference computes in the array dtype: float32 stays
/// float32). The trait is sealed.
pub trait Real:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Debug
    + PartialOrd
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + 'static
{
    /// Not a number.
    const NAN: Self;
    /// Positive infinity.
    const INFINITY: Self;
    /// Positive zero.
    const ZERO: Self;
    /// Largest finite value (what `numpy.nan_to_num` maps `+inf` to).
    const MAX: Self;
    /// Size of one element in bytes.
    const BYTES: usize;
    /// `true` for `f64`: arithmetic mixing this type with `f32` is done in
    /// `f64`, as numpy's type promotion does.
    const WIDE: bool;
    /// Name of the type as numpy spells it.
    const NAME: &'static str;

    /// `true` for NaN (`self != self`).
    fn is_nan(self) -> bool;
    /// `true` unless NaN or infinite.
    fn is_finite(self) -> bool;
    /// Absolute value.
    fn abs(self) -> Self;
    /// Correctly rounded square root in this type.
    fn sqrt(self) -> Self;
    /// Widen to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Narrow to `f32` (rounds to nearest for `f64`).
    fn to_f32(self) -> f32;
    /// Convert from `f64`, rounding to nearest (numpy's cast of a Python
    /// float).
    fn from_f64(x: f64) -> Self;
    /// Convert from `usize` (numpy's cast of an element count).
    fn from_usize(n: usize) -> Self;
    /// IEEE total order (used only to select order statistics of finite values).
    fn total_cmp(&self, other: &Self) -> std::cmp::Ordering;

    /// `(a + b) / 2` computed in `Self` (numpy's mean of the two middle values).
    #[inline(always)]
    fn half_sum(a: Self, b: Self) -> Self {
        (a + b) / Self::from_f64(2.0)
    }
    /// `numpy.nan_to_num`: NaN → 0, ±inf → ±largest finite value.
    #[inline(always)]
    fn nan_to_num(self) -> Self {
        if self.is_nan() {
            Self::ZERO
        } else if self == Self::INFINITY {
            Self::MAX
        } else if self == Self::ZERO - Self::INFINITY {
            Self::ZERO - Self::MAX
        } else {
            self
        }
    }
    /// The smaller of two non-NaN values (compiles to one `min` instruction).
    #[inline(always)]
    fn min_nn(a: Self, b: Self) -> Self {
        if b < a {
            b
        } else {
            a
        }
    }
    /// The larger of two non-NaN values (compiles to one `max` instruction).
    #[inline(always)]
    fn max_nn(a: Self, b: Self) -> Self {
        if b < a {
            a
        } else {
            b
        }
    }
}

macro_rules! impl_real {
    ($t:ty, $wide:expr, $name:expr) => {
        impl Real for $t {
            const NAN: Self = <$t>::NAN;
            const INFINITY: Self = <$t>::INFINITY;
            const ZERO: Self = 0.0;
            const MAX: Self = <$t>::MAX;
            const BYTES: usize = std::mem::size_of::<$t>();
            const WIDE: bool = $wide;
            const NAME: &'static str = $name;
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn to_f32(self) -> f32 {
                self as f32
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
            #[inline(always)]
            fn total_cmp(&self, other: &Self) -> std::cmp::Ordering {
                <$t>::total_cmp(self, other)
            }
        }
    };
}

impl_real!(f32, false, "float32");
impl_real!(f64, true, "float64");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_to_num_matches_numpy() {
        assert_eq!(f32::NAN.nan_to_num(), 0.0);
        assert_eq!(f32::INFINITY.nan_to_num(), f32::MAX);
        assert_eq!(f32::NEG_INFINITY.nan_to_num(), -f32::MAX);
        assert_eq!(2.5f64.nan_to_num(), 2.5);
    }

    #[test]
    fn half_sum_is_computed_in_the_element_type() {
        // 16777216 + 3 rounds to 16777220 in float32.
        assert_eq!(f32::half_sum(16_777_216.0, 3.0), 8_388_610.0);
        assert_eq!(f64::half_sum(16_777_216.0, 3.0), 8_388_609.5);
        assert!(f32::half_sum(f32::INFINITY, f32::NEG_INFINITY).is_nan());
    }
}
