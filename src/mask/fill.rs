//! Region tools: flood fill of an enclosed area, fill holes, polygon / lasso, clear.

use super::{Mask, Rect, polygon};

/// Fills the 4-connected region of the pixel at `seed` (all pixels of its value reachable
/// without crossing the other value) with `on`. Returns the changed bounds.
pub fn flood_fill(mask: &mut Mask, seed: (u32, u32), on: bool) -> Option<Rect> {
    let (w, h) = (mask.width(), mask.height());
    if seed.0 >= w || seed.1 >= h || mask.get(seed.0, seed.1) == on {
        return None;
    }
    let from = mask.get(seed.0, seed.1);
    let mut bounds = Bounds::default();
    let mut stack = vec![seed];
    while let Some((x, y)) = stack.pop() {
        if mask.get(x, y) != from {
            continue;
        }
        // Fill the whole run of this row, then look above and below it.
        let mut left = x;
        while left > 0 && mask.get(left - 1, y) == from {
            left -= 1;
        }
        let mut right = x;
        while right + 1 < w && mask.get(right + 1, y) == from {
            right += 1;
        }
        for i in left..=right {
            mask.set(i, y, on);
        }
        bounds.add(left, y);
        bounds.add(right, y);
        for ny in [y.wrapping_sub(1), y + 1] {
            if ny >= h {
                continue;
            }
            let mut i = left;
            while i <= right {
                if mask.get(i, ny) == from {
                    stack.push((i, ny));
                    while i <= right && mask.get(i, ny) == from {
                        i += 1;
                    }
                }
                i += 1;
            }
        }
    }
    bounds.rect()
}

/// Makes nerve every background area that does not touch the image border.
pub fn fill_holes(mask: &mut Mask) -> Option<Rect> {
    let (w, h) = (mask.width(), mask.height());
    // Mark the background reachable from the border on a copy, then fill everything else.
    let mut outside = mask.clone();
    for x in 0..w {
        for y in [0, h - 1] {
            flood_fill(&mut outside, (x, y), true);
        }
    }
    for y in 0..h {
        for x in [0, w - 1] {
            flood_fill(&mut outside, (x, y), true);
        }
    }
    let mut bounds = Bounds::default();
    for y in 0..h {
        for x in 0..w {
            if !outside.get(x, y) {
                mask.set(x, y, true);
                bounds.add(x, y);
            }
        }
    }
    bounds.rect()
}

/// Adds (`on`) or subtracts the polygon or lasso through `points` (image pixels).
pub fn polygon(mask: &mut Mask, points: &[(f64, f64)], on: bool) -> Option<Rect> {
    if points.len() < 3 {
        return None;
    }
    let inside = polygon::rasterise(mask.width(), mask.height(), points, &[]);
    let mut bounds = Bounds::default();
    for (i, covered) in inside.into_iter().enumerate() {
        if covered {
            let (x, y) = (i as u32 % mask.width(), i as u32 / mask.width());
            mask.set(x, y, on);
            bounds.add(x, y);
        }
    }
    bounds.rect()
}

/// Removes every nerve pixel.
pub fn clear(mask: &mut Mask) -> Option<Rect> {
    let rect = mask.bounding_box().map(|(x, y, width, height)| Rect {
        x,
        y,
        width,
        height,
    });
    mask.bytes_mut().fill(super::BACKGROUND);
    rect
}

#[derive(Default)]
struct Bounds(Option<(u32, u32, u32, u32)>);

impl Bounds {
    fn add(&mut self, x: u32, y: u32) {
        self.0 = Some(match self.0 {
            None => (x, y, x, y),
            Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
        });
    }

    fn rect(&self) -> Option<Rect> {
        self.0.map(|(x0, y0, x1, y1)| Rect {
            x: x0,
            y: y0,
            width: x1 - x0 + 1,
            height: y1 - y0 + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::raster::stamp_segment;

    fn ring() -> Mask {
        // A closed square outline from (10,10) to (30,30), two pixels thick.
        let mut m = Mask::empty(40, 40);
        for (a, b) in [
            ((10.0, 10.0), (30.0, 10.0)),
            ((30.0, 10.0), (30.0, 30.0)),
            ((30.0, 30.0), (10.0, 30.0)),
            ((10.0, 30.0), (10.0, 10.0)),
        ] {
            stamp_segment(&mut m, a, b, 1.0, true);
        }
        m
    }

    #[test]
    fn flood_fill_stays_inside_an_enclosed_area() {
        let mut m = ring();
        let before = m.count();
        let r = flood_fill(&mut m, (20, 20), true).unwrap();
        assert!(m.get(20, 20) && m.get(12, 12) && !m.get(5, 5) && !m.get(35, 20));
        assert!(
            r.x >= 10 && r.x + r.width <= 31 && r.y >= 10 && r.y + r.height <= 31,
            "{r:?}"
        );
        assert_eq!(m.count() - before, (r.width * r.height) as usize);
        assert!(
            flood_fill(&mut m, (20, 20), true).is_none(),
            "filling nerve with nerve changes nothing"
        );
        // Filling the outside with nerve does not leak inside a hole of it.
        let mut o = ring();
        flood_fill(&mut o, (0, 0), true);
        assert!(!o.get(20, 20) && o.get(39, 39));
    }

    #[test]
    fn fill_holes_fills_enclosed_background_only() {
        let mut m = ring();
        let mut expected = m.clone();
        flood_fill(&mut expected, (20, 20), true);
        fill_holes(&mut m).unwrap();
        assert_eq!(m, expected);
        assert!(fill_holes(&mut m).is_none());
    }

    #[test]
    fn polygon_adds_and_subtracts() {
        let mut m = Mask::empty(20, 20);
        polygon(
            &mut m,
            &[(2.0, 2.0), (18.0, 2.0), (18.0, 18.0), (2.0, 18.0)],
            true,
        )
        .unwrap();
        assert_eq!(m.count(), 256);
        polygon(
            &mut m,
            &[(6.0, 6.0), (14.0, 6.0), (14.0, 14.0), (6.0, 14.0)],
            false,
        )
        .unwrap();
        assert_eq!(m.count(), 256 - 64);
        assert!(polygon(&mut m, &[(1.0, 1.0), (2.0, 2.0)], true).is_none());
        clear(&mut m).unwrap();
        assert!(m.is_empty());
    }
}
