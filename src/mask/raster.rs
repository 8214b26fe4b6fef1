//! Brush and eraser: round stamps swept along the pointer's path, so a stroke is continuous at
//! any mouse speed (each segment between two pointer events is filled as a capsule).

use super::{Mask, Rect};

/// Paints (`on`) or erases the capsule of `radius` around the segment `a`-`b` (image pixels;
/// pixel (x, y) is covered when its centre lies within `radius` of the segment). Returns the
/// rectangle that may have changed, or `None` when the capsule misses the mask.
pub fn stamp_segment(
    mask: &mut Mask,
    a: (f32, f32),
    b: (f32, f32),
    radius: f32,
    on: bool,
) -> Option<Rect> {
    let radius = radius.max(0.5);
    let (w, h) = (mask.width() as f32, mask.height() as f32);
    let x0 = (a.0.min(b.0) - radius - 0.5).floor().max(0.0);
    let y0 = (a.1.min(b.1) - radius - 0.5).floor().max(0.0);
    let x1 = (a.0.max(b.0) + radius + 0.5).ceil().min(w);
    let y1 = (a.1.max(b.1) + radius + 0.5).ceil().min(h);
    if x0 >= x1 || y0 >= y1 {
        return None;
    }
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let len2 = vx * vx + vy * vy;
    let r2 = radius * radius;
    let value = if on { super::NERVE } else { super::BACKGROUND };
    let width = mask.width() as usize;
    let data = mask.bytes_mut();
    for y in y0 as usize..y1 as usize {
        let py = y as f32 + 0.5;
        let row = &mut data[y * width..(y + 1) * width];
        for (x, px) in row
            .iter_mut()
            .enumerate()
            .take(x1 as usize)
            .skip(x0 as usize)
        {
            let pxc = x as f32 + 0.5;
            let t = if len2 > 0.0 {
                (((pxc - a.0) * vx + (py - a.1) * vy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (dx, dy) = (pxc - a.0 - t * vx, py - a.1 - t * vy);
            if dx * dx + dy * dy <= r2 {
                *px = value;
            }
        }
    }
    Some(Rect {
        x: x0 as u32,
        y: y0 as u32,
        width: (x1 - x0) as u32,
        height: (y1 - y0) as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disc_covers_the_pixels_within_its_radius() {
        let mut m = Mask::empty(40, 40);
        stamp_segment(&mut m, (20.0, 20.0), (20.0, 20.0), 5.0, true).unwrap();
        // Pixel centres within 5 of (20, 20): a digital disc, symmetric, about pi r^2 pixels.
        assert!(
            (m.count() as f32 - std::f32::consts::PI * 25.0).abs() < 8.0,
            "{}",
            m.count()
        );
        assert!(m.get(19, 19) && m.get(20, 20) && m.get(15, 19) && m.get(24, 20));
        assert!(!m.get(14, 19) && !m.get(25, 25));
        for y in 0..40 {
            for x in 0..40 {
                assert_eq!(
                    m.get(x, y),
                    m.get(39 - x, 39 - y),
                    "not symmetric at {x},{y}"
                );
            }
        }
    }

    #[test]
    fn fast_strokes_leave_no_gaps() {
        let mut m = Mask::empty(500, 100);
        // Two pointer events 400 pixels apart: the whole band between them is painted.
        stamp_segment(&mut m, (50.0, 50.0), (450.0, 50.0), 3.0, true);
        for x in 48..452 {
            assert!(m.get(x, 50), "gap at x = {x}");
            assert!(m.get(x, 48) && m.get(x, 52));
        }
        assert!(!m.get(250, 54));
        let diagonal = {
            let mut d = Mask::empty(200, 200);
            stamp_segment(&mut d, (10.0, 10.0), (190.0, 190.0), 1.0, true);
            d
        };
        for i in 10..190 {
            assert!(diagonal.get(i, i), "diagonal gap at {i}");
        }
    }

    #[test]
    fn eraser_clears_and_output_stays_binary() {
        let mut m = Mask::empty(60, 60);
        stamp_segment(&mut m, (10.0, 30.0), (50.0, 30.0), 8.0, true);
        let rect = stamp_segment(&mut m, (30.0, 0.0), (30.0, 60.0), 4.0, false).unwrap();
        assert!(!m.get(30, 30) && m.get(20, 30) && m.get(40, 30));
        assert!(rect.x <= 26 && rect.x + rect.width >= 34);
        assert!(m.as_bytes().iter().all(|&v| v == 0 || v == 255));
    }

    #[test]
    fn strokes_off_the_image_are_clipped() {
        let mut m = Mask::empty(10, 10);
        assert!(stamp_segment(&mut m, (-50.0, -50.0), (-40.0, -40.0), 3.0, true).is_none());
        let r = stamp_segment(&mut m, (-5.0, 5.0), (15.0, 5.0), 2.0, true).unwrap();
        assert_eq!((r.x, r.width), (0, 10));
        assert_eq!(m.count(), 40);
    }
}
