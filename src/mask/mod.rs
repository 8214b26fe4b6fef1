//! The nerve mask: one byte a pixel, strictly 0 (background) or 255 (nerve).

pub mod fill;
pub mod history;
mod io;
pub mod overlay;
pub mod polygon;
pub mod propagate;
pub mod raster;
pub mod trace;

pub use io::{MaskError, decode_mask_png, encode_mask_png, read_mask, write_mask};

pub const NERVE: u8 = 255;
pub const BACKGROUND: u8 = 0;

/// The one rule for reading a mask or probability byte as nerve: above the midpoint (a mask
/// saved by us is 0 or 255; a prediction PNG holds the probability times 255).
pub fn is_nerve(value: u8) -> bool {
    value > 127
}

/// A pixel rectangle in a mask (the part an edit may have changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    /// The pixels a brush of `radius` sweeping from `a` to `b` can reach, clipped to the mask.
    pub fn around(a: (f32, f32), b: (f32, f32), radius: f32, mask: &Mask) -> Rect {
        let clamp = |v: f32, max: u32| v.clamp(0.0, max as f32) as u32;
        let x0 = clamp((a.0.min(b.0) - radius - 1.0).floor(), mask.width());
        let y0 = clamp((a.1.min(b.1) - radius - 1.0).floor(), mask.height());
        let x1 = clamp((a.0.max(b.0) + radius + 1.0).ceil(), mask.width());
        let y1 = clamp((a.1.max(b.1) + radius + 1.0).ceil(), mask.height());
        Rect {
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Mask({}x{}, {} nerve px)",
            self.width,
            self.height,
            self.count()
        )
    }
}

impl Mask {
    pub fn empty(width: u32, height: u32) -> Self {
        Mask {
            width,
            height,
            data: vec![BACKGROUND; width as usize * height as usize],
        }
    }

    /// Builds a mask from any bytes: non-zero becomes nerve, so the result is always binary.
    pub fn from_nonzero(width: u32, height: u32, bytes: &[u8]) -> Self {
        assert_eq!(bytes.len(), width as usize * height as usize, "mask size");
        Mask {
            width,
            height,
            data: bytes
                .iter()
                .map(|&v| if v != 0 { NERVE } else { BACKGROUND })
                .collect(),
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The pixels for the tools of this module, which keep them binary.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        self.data[(y * self.width + x) as usize] != 0
    }

    pub fn set(&mut self, x: u32, y: u32, on: bool) {
        self.data[(y * self.width + x) as usize] = if on { NERVE } else { BACKGROUND };
    }

    /// Number of nerve pixels.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&v| v != 0).count()
    }

    pub fn is_empty(&self) -> bool {
        self.data.iter().all(|&v| v == 0)
    }

    /// Tight bounding box of the nerve pixels as (x, y, width, height).
    pub fn bounding_box(&self) -> Option<(u32, u32, u32, u32)> {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..self.height {
            let row = &self.data[(y * self.width) as usize..((y + 1) * self.width) as usize];
            if let Some(first) = row.iter().position(|&v| v != 0) {
                let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
                x0 = x0.min(first as u32);
                x1 = x1.max(last as u32);
                y0 = y0.min(y);
                y1 = y;
            }
        }
        (x0 != u32::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    }

    /// The sub-mask at (x, y, w, h); the rectangle must lie inside.
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Mask {
        let mut out = Mask::empty(w, h);
        for r in 0..h {
            let src = ((y + r) * self.width + x) as usize;
            out.data[(r * w) as usize..((r + 1) * w) as usize]
                .copy_from_slice(&self.data[src..src + w as usize]);
        }
        out
    }

    /// ORs `part` into this mask with its top-left at (x, y); parts outside are clipped.
    pub fn paste_union(&mut self, part: &Mask, x: i64, y: i64) {
        for r in 0..part.height as i64 {
            let ty = y + r;
            if ty < 0 || ty >= self.height as i64 {
                continue;
            }
            for c in 0..part.width as i64 {
                let tx = x + c;
                if tx < 0 || tx >= self.width as i64 {
                    continue;
                }
                if part.get(c as u32, r as u32) {
                    self.set(tx as u32, ty as u32, true);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_nonzero_is_binary_and_bbox_is_tight() {
        let m = Mask::from_nonzero(4, 3, &[0, 0, 0, 0, 0, 7, 1, 0, 0, 0, 200, 0]);
        assert!(m.as_bytes().iter().all(|&v| v == 0 || v == 255));
        assert_eq!(m.bounding_box(), Some((1, 1, 2, 2)));
        assert_eq!(Mask::empty(3, 3).bounding_box(), None);
        let c = m.crop(1, 1, 2, 2);
        assert_eq!(c.count(), 3);
        let mut back = Mask::empty(4, 3);
        back.paste_union(&c, 1, 1);
        assert_eq!(back, m);
    }
}
