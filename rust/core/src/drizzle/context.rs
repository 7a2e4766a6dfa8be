//! Context bitfield images (spec drizzle.md section 8).
//!
//! A context image is an int32 array `(planes, ny, nx)`; bit `k` of plane `p`
//! set at `(y, x)` means input `32 p + k` contributed with positive weight.

use ndarray::ArrayView3;

use crate::{Error, Result};

/// Plane and bit of input id `id`: `(id / 32, id % 32)`.
pub fn plane_and_bit(id: usize) -> (usize, u32) {
    (id / 32, (id % 32) as u32)
}

/// Number of planes needed for ids `0..=max_id`.
pub fn planes_for(max_id: usize) -> usize {
    max_id / 32 + 1
}

/// Sorted ids of the inputs that contributed to pixel `(x, y)`.
pub fn decode(context: &ArrayView3<i32>, x: usize, y: usize) -> Result<Vec<usize>> {
    let (np, ny, nx) = context.dim();
    if x >= nx || y >= ny {
        return Err(Error::value(format!(
            "Pixel ({x}, {y}) is outside the context image of shape ({ny}, {nx})."
        )));
    }
    let mut ids = Vec::new();
    for p in 0..np {
        let v = context[[p, y, x]] as u32;
        for k in 0..32 {
            if v & (1u32 << k) != 0 {
                ids.push(32 * p + k);
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    #[test]
    fn decode_matches_reference_example() {
        let mut c = Array3::<i32>::zeros((3, 1, 1));
        c[[0, 0, 0]] = 36196864;
        c[[1, 0, 0]] = 67125536;
        c[[2, 0, 0]] = 8203;
        let ids = decode(&c.view(), 0, 0).unwrap();
        assert_eq!(
            ids,
            vec![9, 12, 14, 19, 21, 25, 37, 40, 46, 58, 64, 65, 67, 77]
        );
    }

    #[test]
    fn bit_31_is_the_sign_bit() {
        let (p, b) = plane_and_bit(63);
        assert_eq!((p, b), (1, 31));
        let v = (1u32 << b) as i32;
        assert!(v < 0);
        let mut c = Array3::<i32>::zeros((2, 1, 1));
        c[[1, 0, 0]] = v;
        assert_eq!(decode(&c.view(), 0, 0).unwrap(), vec![63]);
    }

    #[test]
    fn planes_grow_every_32_ids() {
        assert_eq!(planes_for(0), 1);
        assert_eq!(planes_for(31), 1);
        assert_eq!(planes_for(32), 2);
        assert_eq!(planes_for(99), 4);
    }
}
