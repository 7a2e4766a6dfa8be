//! Frame-by-frame median computation, in memory or on disk under a memory
//! budget (spec `outlier_detection.md` §5.5, §8).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{s, Array2, ArrayView2};

use super::{nanmedian_frames_into, try_array2, try_filled};
use crate::real::Real;
use crate::{Error, Result};

/// How the rows of the frames are split into sections for the on-disk
/// median: at most `rows` rows of every frame are held at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionLayout {
    /// Rows per section (the last section holds the remainder).
    pub rows: usize,
    /// Number of sections, `ceil(ny / rows)`.
    pub nsections: usize,
    /// Total buffer in bytes the layout was derived from.
    pub buffer_bytes: usize,
    /// `true` when the requested buffer could not hold one row of every frame
    /// and was raised to that minimum (stcal's rule, with a warning).
    pub raised: bool,
}

impl SectionLayout {
    /// Layout under a hard memory budget: sections of
    /// `rows = min(ny, floor(budget / (n * nx * itemsize)))` rows.
    ///
    /// A budget that cannot hold one row of every frame is an
    /// [`Error::Value`].
    pub fn for_budget(
        n: usize,
        ny: usize,
        nx: usize,
        itemsize: usize,
        budget_bytes: usize,
    ) -> Result<Self> {
        let row_all = n
            .checked_mul(nx)
            .and_then(|v| v.checked_mul(itemsize))
            .ok_or_else(|| Error::value("frame size overflows"))?;
        if ny == 0 || row_all == 0 {
            return Ok(SectionLayout {
                rows: ny.max(1),
                nsections: usize::from(ny > 0 && nx > 0),
                buffer_bytes: budget_bytes,
                raised: false,
            });
        }
        let rows = (budget_bytes / row_all).min(ny);
        if rows == 0 {
            return Err(Error::value(format!(
                "memory budget of {budget_bytes} bytes cannot hold one row of every frame \
                 ({n} frames x {nx} columns x {itemsize} bytes = {row_all} bytes)"
            )));
        }
        Ok(SectionLayout {
            rows,
            nsections: ny.div_ceil(rows),
            buffer_bytes: budget_bytes,
            raised: false,
        })
    }

    /// Layout of `rows` rows per section (clamped to `ny`); `rows = 0` is an
    /// [`Error::Value`].
    pub fn with_rows(n: usize, ny: usize, nx: usize, itemsize: usize, rows: usize) -> Result<Self> {
        if rows == 0 {
            return Err(Error::value("a section must hold at least one row"));
        }
        let rows = rows.min(ny.max(1));
        let buffer_bytes = rows
            .saturating_mul(n)
            .saturating_mul(nx)
            .saturating_mul(itemsize);
        Ok(SectionLayout {
            rows,
            nsections: ny.div_ceil(rows),
            buffer_bytes,
            raised: false,
        })
    }

    /// Layout from stcal's `buffer_size` rule: `0` means one frame; the
    /// per-frame share `buffer_size / n` is divided into whole rows; a buffer
    /// too small for one row of every frame (including a negative one) is
    /// raised to `n * nx * itemsize` bytes and one row per section
    /// (`raised = true`).
    pub fn like_stcal(
        n: usize,
        ny: usize,
        nx: usize,
        itemsize: usize,
        buffer_size: i64,
    ) -> Result<Self> {
        if n == 0 {
            return Err(Error::value("the stack must hold at least one frame"));
        }
        let row_bytes = nx
            .checked_mul(itemsize)
            .ok_or_else(|| Error::value("frame size overflows"))?;
        let frame_bytes = row_bytes
            .checked_mul(ny)
            .ok_or_else(|| Error::value("frame size overflows"))?;
        let buffer = if buffer_size == 0 {
            frame_bytes as f64
        } else {
            buffer_size as f64
        };
        if ny == 0 || row_bytes == 0 {
            return Ok(SectionLayout {
                rows: ny.max(1),
                nsections: usize::from(ny > 0 && nx > 0),
                buffer_bytes: buffer.max(0.0) as usize,
                raised: false,
            });
        }
        // Python: int((buffer / n) // row_bytes) with float division.
        let per_frame = buffer / n as f64;
        let rb = row_bytes as f64;
        let mut q = (per_frame / rb).floor();
        if q * rb > per_frame {
            q -= 1.0;
        } else if (q + 1.0) * rb <= per_frame {
            q += 1.0;
        }
        if q < 1.0 {
            let raised = row_bytes.saturating_mul(n);
            return Ok(SectionLayout {
                rows: 1,
                nsections: ny,
                buffer_bytes: raised,
                raised: true,
            });
        }
        let rows = if q >= ny as f64 { ny } else { q as usize };
        Ok(SectionLayout {
            rows,
            nsections: ny.div_ceil(rows),
            buffer_bytes: buffer as usize,
            raised: false,
        })
    }
}

/// View a slice of floats as its bytes.
fn as_bytes<T: Real>(s: &[T]) -> &[u8] {
    // SAFETY: `T` is `f32` or `f64` (the trait is sealed): plain data without
    // padding, so all `size_of_val(s)` bytes are initialised and belong to
    // the same allocation; `u8` has alignment 1. The borrow keeps `s` alive.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// View a mutable slice of floats as its bytes.
fn as_bytes_mut<T: Real>(s: &mut [T]) -> &mut [u8] {
    // SAFETY: as in `as_bytes`; moreover every bit pattern is a valid `f32`
    // or `f64`, so writing arbitrary bytes leaves valid values, and the
    // exclusive borrow of `s` is carried over to the byte view.
    unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The temporary file of an on-disk accumulator. On Unix its directory entry
/// is removed as soon as it is created (like Python's `TemporaryFile`), so
/// nothing is left behind whatever happens to the process; elsewhere it is
/// removed when dropped.
#[derive(Debug)]
struct TempFile {
    file: Option<File>,
    /// Path still to remove on drop (`None` once unlinked).
    path: Option<PathBuf>,
}

impl TempFile {
    fn create(dir: &Path) -> Result<Self> {
        let pid = std::process::id();
        let mut last_err = None;
        for _ in 0..64 {
            let seq = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let path = dir.join(format!("pyspec-median-{pid}-{seq}-{nanos:08x}.bin"));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    let mut tf = TempFile {
                        file: Some(file),
                        path: Some(path),
                    };
                    tf.unlink_early();
                    return Ok(tf);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
                Err(e) => {
                    return Err(Error::Io(std::io::Error::new(
                        e.kind(),
                        format!("cannot create a temporary file in '{}': {e}", dir.display()),
                    )))
                }
            }
        }
        Err(Error::Io(last_err.unwrap_or_else(|| {
            std::io::Error::other("no unique temporary file name")
        })))
    }

    #[cfg(unix)]
    fn unlink_early(&mut self) {
        if let Some(p) = &self.path {
            if std::fs::remove_file(p).is_ok() {
                self.path = None;
            }
        }
    }

    #[cfg(not(unix))]
    fn unlink_early(&mut self) {}

    fn file(&mut self) -> Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| Error::value("the temporary file is closed"))
    }

    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        let f = self.file()?;
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(bytes)?;
        Ok(())
    }

    fn read_at(&mut self, offset: u64, bytes: &mut [u8]) -> Result<()> {
        let f = self.file()?;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(bytes)?;
        Ok(())
    }

    /// Close the file and remove it if it still has a name.
    fn close(&mut self) {
        self.file = None;
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.close();
    }
}

#[derive(Debug)]
enum Store<T> {
    Memory(Vec<Option<Vec<T>>>),
    Disk {
        file: TempFile,
        layout: SectionLayout,
    },
    Closed,
}

/// Collects `n` frames of shape `(ny, nx)` and computes their per-pixel
/// nan-median (stcal's `MedianComputer`).
///
/// - **In memory**: each frame is copied on `append`; memory grows with the
///   frames appended (`n` frames at most) and `evaluate` adds the output.
/// - **On disk**: each frame is written to one temporary file (in the given
///   directory, or the system temporary directory) as soon as it is
///   appended; `evaluate` reads it back section by section
///   ([`SectionLayout`]) so that no more than `layout.rows` rows of every
///   frame are resident besides the output. The file never outlives the
///   accumulator: on Unix it has no name from the moment it is created; on
///   other systems it is removed on drop. After `evaluate` it is closed.
///
/// Both modes give bitwise identical results, equal to
/// [`super::nanmedian_stack`] of the appended frames. Frames are stored at
/// the slot given to `append` (or the first free one); slots never appended
/// are ignored, and appending to a used slot replaces its frame.
#[derive(Debug)]
pub struct MedianAccumulator<T: Real> {
    n: usize,
    ny: usize,
    nx: usize,
    written: Vec<bool>,
    store: Store<T>,
}

impl<T: Real> MedianAccumulator<T> {
    fn check_shape(n: usize, ny: usize, nx: usize) -> Result<usize> {
        if n == 0 {
            return Err(Error::value(
                "the stack must hold at least one frame (full_shape[0] >= 1)",
            ));
        }
        ny.checked_mul(nx)
            .and_then(|v| v.checked_mul(T::BYTES))
            .filter(|v| v.checked_mul(n).is_some() && *v <= isize::MAX as usize)
            .ok_or_else(|| {
                Error::Memory(format!("a stack of shape ({n}, {ny}, {nx}) is too large"))
            })
    }

    /// Accumulator that keeps the frames in memory.
    pub fn in_memory(n: usize, ny: usize, nx: usize) -> Result<Self> {
        Self::check_shape(n, ny, nx)?;
        Ok(MedianAccumulator {
            n,
            ny,
            nx,
            written: vec![false; n],
            store: Store::Memory((0..n).map(|_| None).collect()),
        })
    }

    /// Accumulator that streams the frames to a temporary file in `tempdir`
    /// (the system temporary directory when `None`) and evaluates the median
    /// section by section according to `layout`.
    pub fn on_disk(
        n: usize,
        ny: usize,
        nx: usize,
        layout: SectionLayout,
        tempdir: Option<&Path>,
    ) -> Result<Self> {
        Self::check_shape(n, ny, nx)?;
        if layout.rows == 0 {
            return Err(Error::value("a section must hold at least one row"));
        }
        let dir = match tempdir {
            Some(d) => d.to_path_buf(),
            None => std::env::temp_dir(),
        };
        let file = TempFile::create(&dir)?;
        Ok(MedianAccumulator {
            n,
            ny,
            nx,
            written: vec![false; n],
            store: Store::Disk { file, layout },
        })
    }

    /// Number of frame slots.
    pub fn len(&self) -> usize {
        self.n
    }

    /// `true` if the accumulator has no frame slot (never: `n >= 1`).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Shape `(ny, nx)` of the frames.
    pub fn frame_shape(&self) -> (usize, usize) {
        (self.ny, self.nx)
    }

    /// Number of frames appended so far (distinct slots).
    pub fn appended(&self) -> usize {
        self.written.iter().filter(|&&w| w).count()
    }

    /// Section layout of an on-disk accumulator (`None` in memory).
    pub fn layout(&self) -> Option<SectionLayout> {
        match &self.store {
            Store::Disk { layout, .. } => Some(*layout),
            _ => None,
        }
    }

    /// `true` for an on-disk accumulator.
    pub fn is_on_disk(&self) -> bool {
        matches!(self.store, Store::Disk { .. })
    }

    /// `true` once an on-disk accumulator has been evaluated or closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.store, Store::Closed)
    }

    /// The slot `append(_, idx)` would use, or an error when it is out of
    /// range or every slot is used.
    pub fn next_slot(&self, idx: Option<usize>) -> Result<usize> {
        match idx {
            Some(i) if i < self.n => Ok(i),
            Some(i) => Err(Error::value(format!(
                "frame index {i} is out of range for {} frames",
                self.n
            ))),
            None => self.written.iter().position(|&w| !w).ok_or_else(|| {
                Error::value(format!("all {} frames have already been appended", self.n))
            }),
        }
    }

    /// Store `frame` at slot `idx` (the first free slot when `None`) and
    /// return the slot used.
    pub fn append(&mut self, frame: ArrayView2<'_, T>, idx: Option<usize>) -> Result<usize> {
        if frame.dim() != (self.ny, self.nx) {
            return Err(Error::shape(format!(
                "data shape {:?} does not match the expected frame shape {:?}",
                frame.dim(),
                (self.ny, self.nx)
            )));
        }
        let slot = self.next_slot(idx)?;
        let frame_len = self.ny * self.nx;
        match &mut self.store {
            Store::Closed => return Err(Error::value(
                "the median computer is closed (evaluated on disk, or closed); create a new one",
            )),
            Store::Memory(frames) => {
                let mut v = Vec::new();
                v.try_reserve_exact(frame_len).map_err(|_| {
                    Error::Memory(format!(
                        "cannot allocate frame {slot} ({frame_len} elements)"
                    ))
                })?;
                match frame.as_slice() {
                    Some(s) => v.extend_from_slice(s),
                    None => v.extend(frame.iter().copied()),
                }
                if let Some(dst) = frames.get_mut(slot) {
                    *dst = Some(v);
                }
            }
            Store::Disk { file, .. } => {
                let frame_bytes = (frame_len * T::BYTES) as u64;
                let base = slot as u64 * frame_bytes;
                match frame.as_slice() {
                    Some(s) => file.write_at(base, as_bytes(s))?,
                    None => {
                        let mut row_buf: Vec<T> = Vec::with_capacity(self.nx);
                        let row_bytes = (self.nx * T::BYTES) as u64;
                        for (y, row) in frame.outer_iter().enumerate() {
                            let off = base + y as u64 * row_bytes;
                            match row.as_slice() {
                                Some(s) => file.write_at(off, as_bytes(s))?,
                                None => {
                                    row_buf.clear();
                                    row_buf.extend(row.iter().copied());
                                    file.write_at(off, as_bytes(&row_buf))?;
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(w) = self.written.get_mut(slot) {
            *w = true;
        }
        Ok(slot)
    }

    /// Nan-median of the appended frames (all-NaN when none was appended).
    ///
    /// In memory the frames are kept and more may be appended afterwards.
    /// On disk the temporary file is read back section by section and then
    /// closed; the accumulator cannot be used again.
    pub fn evaluate(&mut self) -> Result<Array2<T>> {
        let (ny, nx) = (self.ny, self.nx);
        let slots: Vec<usize> = self
            .written
            .iter()
            .enumerate()
            .filter(|(_, &w)| w)
            .map(|(i, _)| i)
            .collect();
        match &mut self.store {
            Store::Closed => Err(Error::value(
                "the median computer is closed (evaluated on disk, or closed); create a new one",
            )),
            Store::Memory(frames) => {
                let views: Vec<ArrayView2<'_, T>> = slots
                    .iter()
                    .filter_map(|&i| frames.get(i).and_then(|f| f.as_ref()))
                    .map(|f| ArrayView2::from_shape((ny, nx), f.as_slice()))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| Error::shape(e.to_string()))?;
                super::nanmedian_frames(&views, (ny, nx))
            }
            Store::Disk { file, layout } => {
                let result = evaluate_on_disk(file, *layout, &slots, ny, nx);
                file.close();
                self.store = Store::Closed;
                result
            }
        }
    }

    /// Release the frames or the temporary file now. Further use is an error.
    pub fn close(&mut self) {
        if let Store::Disk { file, .. } = &mut self.store {
            file.close();
        }
        self.store = Store::Closed;
    }
}

fn evaluate_on_disk<T: Real>(
    file: &mut TempFile,
    layout: SectionLayout,
    slots: &[usize],
    ny: usize,
    nx: usize,
) -> Result<Array2<T>> {
    let mut out = try_array2(ny, nx, T::NAN, "the median frame")?;
    let m = slots.len();
    if m == 0 || ny == 0 || nx == 0 {
        return Ok(out);
    }
    let rows = layout.rows.clamp(1, ny);
    let mut buf: Vec<T> = try_filled(m * rows * nx, T::ZERO, "the section buffer")?;
    let frame_bytes = (ny * nx * T::BYTES) as u64;
    let row_bytes = (nx * T::BYTES) as u64;
    let mut y0 = 0;
    while y0 < ny {
        let h = rows.min(ny - y0);
        let sec = h * nx;
        for (j, &k) in slots.iter().enumerate() {
            let off = k as u64 * frame_bytes + y0 as u64 * row_bytes;
            file.read_at(off, as_bytes_mut(&mut buf[j * sec..(j + 1) * sec]))?;
        }
        let views: Vec<ArrayView2<'_, T>> = (0..m)
            .map(|j| ArrayView2::from_shape((h, nx), &buf[j * sec..(j + 1) * sec]))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::shape(e.to_string()))?;
        nanmedian_frames_into(&views, out.slice_mut(s![y0..y0 + h, ..]))?;
        y0 += h;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::median::nanmedian_stack;
    use ndarray::Array3;

    fn stack(n: usize, ny: usize, nx: usize) -> Array3<f32> {
        let mut st = Array3::<f32>::zeros((n, ny, nx));
        let mut seed = 99u64;
        for x in st.iter_mut() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = seed >> 33;
            *x = if r.is_multiple_of(13) {
                f32::NAN
            } else {
                (r % 10007) as f32 / 7.0
            };
        }
        st
    }

    #[test]
    fn stcal_layout_examples() {
        let l = SectionLayout::like_stcal(3, 21, 20, 4, 0).unwrap();
        assert_eq!((l.rows, l.nsections, l.buffer_bytes), (7, 3, 1680));
        let l = SectionLayout::like_stcal(20, 2048, 2048, 4, 0).unwrap();
        assert_eq!((l.rows, l.nsections), (102, 21));
        let l = SectionLayout::like_stcal(20, 2048, 2048, 4, 1 << 20).unwrap();
        assert_eq!((l.rows, l.nsections), (6, 342));
        let l = SectionLayout::like_stcal(3, 21, 20, 4, -1).unwrap();
        assert_eq!((l.rows, l.buffer_bytes, l.raised), (1, 240, true));
        let l = SectionLayout::like_stcal(3, 21, 20, 4, 400).unwrap();
        assert_eq!((l.rows, l.nsections, l.raised), (1, 21, false));
    }

    #[test]
    fn budget_smaller_than_one_row_is_rejected() {
        assert!(matches!(
            SectionLayout::for_budget(3, 21, 20, 4, 239),
            Err(Error::Value(_))
        ));
        let l = SectionLayout::for_budget(3, 21, 20, 4, 240).unwrap();
        assert_eq!((l.rows, l.nsections), (1, 21));
    }

    #[test]
    fn on_disk_equals_in_memory_for_any_layout() {
        let st = stack(7, 13, 11);
        let want = nanmedian_stack(st.view()).unwrap();
        let mut mem = MedianAccumulator::<f32>::in_memory(7, 13, 11).unwrap();
        for k in 0..7 {
            mem.append(st.index_axis(ndarray::Axis(0), k), Some(k))
                .unwrap();
        }
        let got = mem.evaluate().unwrap();
        assert!(got
            .iter()
            .zip(want.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        for rows in [1usize, 2, 5, 13, 100] {
            let layout = SectionLayout {
                rows,
                nsections: 13usize.div_ceil(rows),
                buffer_bytes: 0,
                raised: false,
            };
            let mut disk = MedianAccumulator::<f32>::on_disk(7, 13, 11, layout, None).unwrap();
            // Out of order, one frame through a non-contiguous view.
            for k in [3usize, 0, 6, 1, 5, 2] {
                disk.append(st.index_axis(ndarray::Axis(0), k), Some(k))
                    .unwrap();
            }
            let t = st.index_axis(ndarray::Axis(0), 4).t().to_owned();
            disk.append(t.t(), None).unwrap();
            let got = disk.evaluate().unwrap();
            assert!(
                got.iter()
                    .zip(want.iter())
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "rows={rows}"
            );
            assert!(disk.is_closed());
            assert!(disk.evaluate().is_err());
        }
    }

    #[test]
    fn append_checks_shape_and_range() {
        let mut acc = MedianAccumulator::<f32>::in_memory(2, 3, 4).unwrap();
        let bad = Array2::<f32>::zeros((4, 3));
        assert!(matches!(acc.append(bad.view(), None), Err(Error::Shape(_))));
        let ok = Array2::<f32>::zeros((3, 4));
        assert!(acc.append(ok.view(), Some(2)).is_err());
        acc.append(ok.view(), None).unwrap();
        acc.append(ok.view(), None).unwrap();
        assert!(acc.append(ok.view(), None).is_err());
        assert!(MedianAccumulator::<f32>::in_memory(0, 3, 4).is_err());
    }

    #[test]
    fn missing_tempdir_is_an_io_error() {
        let layout = SectionLayout::for_budget(2, 3, 4, 4, 1000).unwrap();
        let err = MedianAccumulator::<f32>::on_disk(
            2,
            3,
            4,
            layout,
            Some(Path::new("/nonexistent/pyspec")),
        )
        .unwrap_err();
        match err {
            Error::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn temporary_file_leaves_no_entry_in_the_directory() {
        let dir = std::env::temp_dir().join(format!("pyspec-acc-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        {
            let layout = SectionLayout::for_budget(2, 3, 4, 4, 1000).unwrap();
            let mut acc = MedianAccumulator::<f64>::on_disk(2, 3, 4, layout, Some(&dir)).unwrap();
            acc.append(Array2::<f64>::ones((3, 4)).view(), None)
                .unwrap();
            #[cfg(unix)]
            assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
    }
}
