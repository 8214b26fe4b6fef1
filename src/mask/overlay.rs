//! The mask as the screen shows it: RGBA tiles of 256x256, nerve opaque in the overlay colour,
//! background transparent. A stroke rebuilds (and the GPU re-uploads) only the tiles it touched.

use super::{Mask, Rect};

pub const OVERLAY_TILE: u32 = 256;

/// The overlay tiles a rectangle touches, as (column, row).
pub fn tiles_touching(rect: Rect) -> impl Iterator<Item = (u32, u32)> {
    let (x0, y0) = (rect.x / OVERLAY_TILE, rect.y / OVERLAY_TILE);
    let x1 = (rect.x + rect.width.max(1) - 1) / OVERLAY_TILE;
    let y1 = (rect.y + rect.height.max(1) - 1) / OVERLAY_TILE;
    (y0..=y1).flat_map(move |ty| (x0..=x1).map(move |tx| (tx, ty)))
}

/// Every overlay tile of a mask.
pub fn all_tiles(mask: &Mask) -> impl Iterator<Item = (u32, u32)> {
    tiles_touching(Rect {
        x: 0,
        y: 0,
        width: mask.width(),
        height: mask.height(),
    })
}

/// The pixel rectangle of an overlay tile, clipped to the mask.
pub fn tile_bounds(mask: &Mask, (tx, ty): (u32, u32)) -> Rect {
    let (x, y) = (tx * OVERLAY_TILE, ty * OVERLAY_TILE);
    Rect {
        x,
        y,
        width: OVERLAY_TILE.min(mask.width() - x),
        height: OVERLAY_TILE.min(mask.height() - y),
    }
}

/// The one colour of nerve everywhere a mask is drawn: the Annotate overlay, the Review
/// pictures, the linked view and its export (the lab's linked tool drew nerve in this green).
pub const NERVE_GREEN: [u8; 3] = [0, 230, 64];

/// RGBA bytes of one tile: `color` where there is nerve, transparent elsewhere.
pub fn tile_rgba(mask: &Mask, tile: (u32, u32), color: [u8; 3]) -> (Rect, Vec<u8>) {
    let r = tile_bounds(mask, tile);
    let on = [color[0], color[1], color[2], 255];
    let mut out = vec![0u8; (r.width * r.height * 4) as usize];
    for y in 0..r.height {
        let row = &mask.as_bytes()[((r.y + y) * mask.width() + r.x) as usize..][..r.width as usize];
        let dst = &mut out[(y * r.width * 4) as usize..][..(r.width * 4) as usize];
        for (px, &v) in dst.chunks_exact_mut(4).zip(row) {
            if v != 0 {
                px.copy_from_slice(&on);
            }
        }
    }
    (r, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_mask_and_follow_its_pixels() {
        let mut m = Mask::empty(600, 300);
        m.set(300, 260, true);
        assert_eq!(all_tiles(&m).count(), 3 * 2);
        let (r, rgba) = tile_rgba(&m, (1, 1), [0, 255, 0]);
        assert_eq!((r.x, r.y, r.width, r.height), (256, 256, 256, 44));
        let i = ((260 - 256) * 256 + (300 - 256)) * 4;
        assert_eq!(&rgba[i..i + 4], &[0, 255, 0, 255]);
        assert_eq!(rgba.iter().filter(|&&b| b == 255).count(), 2);
        let t: Vec<_> = tiles_touching(Rect {
            x: 250,
            y: 10,
            width: 10,
            height: 10,
        })
        .collect();
        assert_eq!(t, [(0, 0), (1, 0)]);
    }
}
