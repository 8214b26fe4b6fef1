//! Curved bands (nerves, tendons, fascia strands) as distance fields around a Bezier centreline.

use super::random::Rng;

/// A cubic Bezier centreline in pixel coordinates.
#[derive(Debug, Clone, Copy)]
pub struct Curve {
    pub p: [(f32, f32); 4],
}

impl Curve {
    /// A curve that crosses the frame: enters on one side, leaves on another, with a bend.
    pub fn across(rng: &mut Rng, w: f32, h: f32, x_min: f32) -> Curve {
        let horizontal = rng.chance(0.6);
        let (a, d) = if horizontal {
            (
                (x_min - 0.05 * w, rng.range(0.1, 0.9) * h),
                (1.05 * w, rng.range(0.1, 0.9) * h),
            )
        } else {
            let xa = rng.range(x_min + 0.05 * w, 0.95 * w);
            let xd = (xa + rng.range(-0.3, 0.3) * w).clamp(x_min, w);
            ((xa, -0.05 * h), (xd, 1.05 * h))
        };
        let mid = |t: f32| (a.0 + (d.0 - a.0) * t, a.1 + (d.1 - a.1) * t);
        let bend = 0.25 * w.min(h);
        let (b, c) = (mid(0.33), mid(0.66));
        Curve {
            p: [
                a,
                (b.0 + rng.normal() * bend, b.1 + rng.normal() * bend),
                (c.0 + rng.normal() * bend, c.1 + rng.normal() * bend),
                d,
            ],
        }
    }

    pub fn shifted(&self, dx: f32, dy: f32, wobble: f32, rng: &mut Rng) -> Curve {
        let mut p = self.p;
        for (i, q) in p.iter_mut().enumerate() {
            let j = if i == 1 || i == 2 {
                wobble
            } else {
                wobble * 0.3
            };
            *q = (q.0 + dx + rng.normal() * j, q.1 + dy + rng.normal() * j);
        }
        Curve { p }
    }

    pub fn point(&self, t: f32) -> (f32, f32) {
        let u = 1.0 - t;
        let [a, b, c, d] = self.p;
        let (w0, w1, w2, w3) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
        (
            w0 * a.0 + w1 * b.0 + w2 * c.0 + w3 * d.0,
            w0 * a.1 + w1 * b.1 + w2 * c.1 + w3 * d.1,
        )
    }
}

/// For every pixel near the curve: the distance to the centreline and the position along it.
pub struct DistanceField {
    pub dist: Vec<f32>,
    pub along: Vec<f32>,
}

impl DistanceField {
    /// Computes the field within `reach` pixels of the curve (elsewhere: infinity).
    pub fn new(curve: &Curve, width: u32, height: u32, reach: f32) -> Self {
        const SEGMENTS: usize = 64;
        let n = width as usize * height as usize;
        let mut dist = vec![f32::INFINITY; n];
        let mut along = vec![0.0; n];
        let pts: Vec<(f32, f32)> = (0..=SEGMENTS)
            .map(|i| curve.point(i as f32 / SEGMENTS as f32))
            .collect();
        for i in 0..SEGMENTS {
            let (a, b) = (pts[i], pts[i + 1]);
            let (vx, vy) = (b.0 - a.0, b.1 - a.1);
            let len2 = (vx * vx + vy * vy).max(1e-6);
            let x0 = (a.0.min(b.0) - reach).floor().max(0.0) as i64;
            let x1 = (a.0.max(b.0) + reach).ceil().min(width as f32 - 1.0) as i64;
            let y0 = (a.1.min(b.1) - reach).floor().max(0.0) as i64;
            let y1 = (a.1.max(b.1) + reach).ceil().min(height as f32 - 1.0) as i64;
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                    let t = (((px - a.0) * vx + (py - a.1) * vy) / len2).clamp(0.0, 1.0);
                    let (dx, dy) = (px - a.0 - t * vx, py - a.1 - t * vy);
                    let d = (dx * dx + dy * dy).sqrt();
                    let k = y as usize * width as usize + x as usize;
                    if d < dist[k] {
                        dist[k] = d;
                        along[k] = (i as f32 + t) / SEGMENTS as f32;
                    }
                }
            }
        }
        DistanceField { dist, along }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_curve_distance_is_perpendicular_offset() {
        let c = Curve {
            p: [(0.0, 10.0), (10.0, 10.0), (20.0, 10.0), (30.0, 10.0)],
        };
        let f = DistanceField::new(&c, 30, 20, 6.0);
        let at = |x: usize, y: usize| f.dist[y * 30 + x];
        assert!((at(15, 10) - 0.5).abs() < 1e-3);
        assert!((at(15, 13) - 3.5).abs() < 1e-3);
        assert!(at(15, 19).is_infinite());
        assert!((f.along[10 * 30 + 15] - 0.5).abs() < 0.05);
    }
}
