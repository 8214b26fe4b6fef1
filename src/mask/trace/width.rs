//! The nerve's width at a node, from the band's brightness profile across it: the distance
//! between the points where the profile falls to [`EDGE`] of the way from the background to
//! its peak on each side. Widths are then smoothed along the path; a jump of more than
//! [`JUMP`] between neighbours is flagged.

/// Full-size pixels between nodes along a path.
pub const SPACING: f32 = 5.0;

/// Where a band's border is on its profile, as a share of the way from the background up to
/// the peak.
pub const EDGE: f32 = 0.33;

/// A width jump between two neighbouring nodes larger than this share is flagged.
pub const JUMP: f32 = 0.3;

/// The picture the widths are read from: luminance, lightly smoothed.
#[derive(Debug, Clone)]
pub struct Profile {
    pub width: u32,
    pub height: u32,
    grey: Vec<f32>,
}

impl Profile {
    pub fn new(grey: &[f32], width: u32, height: u32) -> Profile {
        Profile {
            width,
            height,
            grey: super::ridge::gaussian(grey, width as usize, height as usize, 1.0),
        }
    }

    /// Bilinear luminance at a full-size point (clamped to the picture).
    pub fn at(&self, x: f32, y: f32) -> f32 {
        let x = (x - 0.5).clamp(0.0, self.width as f32 - 1.0);
        let y = (y - 0.5).clamp(0.0, self.height as f32 - 1.0);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = (
            (x0 + 1).min(self.width as usize - 1),
            (y0 + 1).min(self.height as usize - 1),
        );
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let w = self.width as usize;
        let g = |x: usize, y: usize| self.grey[y * w + x];
        (g(x0, y0) * (1.0 - fx) + g(x1, y0) * fx) * (1.0 - fy)
            + (g(x0, y1) * (1.0 - fx) + g(x1, y1) * fx) * fy
    }

    /// The band's width at `at`, measured across `normal` (unit length); `scale` is the ridge
    /// scale there (full-size pixels), the fallback where the profile says nothing clear.
    pub fn width(&self, at: (f32, f32), normal: (f32, f32), scale: f32) -> f32 {
        let fallback = (2.5 * scale).clamp(2.0, 80.0);
        let reach = (4.0 * scale).clamp(12.0, 60.0);
        let step = 0.5;
        let n = (reach / step) as i32;
        let sample = |t: f32| self.at(at.0 + normal.0 * t, at.1 + normal.1 * t);
        let values: Vec<f32> = (-n..=n).map(|k| sample(k as f32 * step)).collect();
        let centre = n as usize;
        // The peak near the node (the click or the route may be a pixel or two off).
        let near = (scale.max(2.0) / step) as usize;
        let peak = (centre.saturating_sub(near)..=(centre + near).min(values.len() - 1))
            .max_by(|&a, &b| values[a].total_cmp(&values[b]))
            .unwrap_or(centre);
        let side = |range: &[f32]| {
            let mut v = range.to_vec();
            v.sort_by(f32::total_cmp);
            v[v.len() / 2]
        };
        let outer = (values.len() / 4).max(1);
        let (left_bg, right_bg) = (
            side(&values[..outer]),
            side(&values[values.len() - outer..]),
        );
        let top = values[peak];
        if top - left_bg.max(right_bg) < 0.02 {
            return fallback;
        }
        // Each edge is where the profile, going out from the peak, falls to a third of the
        // way from the background to the peak: a nerve is brighter in its middle than at its
        // border, so half the peak would cut it short, and a sharp band blurred by a pixel
        // crosses a third of the way within half a pixel of its edge.
        let edge = |background: f32, dir: isize| -> Option<f32> {
            let level = background + EDGE * (top - background);
            let mut i = peak as isize;
            while i + dir >= 0 && ((i + dir) as usize) < values.len() {
                let (a, b) = (values[i as usize], values[(i + dir) as usize]);
                if b < level {
                    let frac = (a - level) / (a - b).max(1e-6);
                    return Some(((i - centre as isize) as f32 + dir as f32 * frac) * step);
                }
                i += dir;
            }
            None
        };
        match (edge(left_bg, -1), edge(right_bg, 1)) {
            (Some(l), Some(r)) => (r - l).clamp(2.0, 80.0),
            _ => fallback,
        }
    }
}

/// Smooths widths along a path: a running median of five (which keeps a real step), then a
/// running mean of three. Returns the smoothed widths and, per node, whether the median widths
/// jump by more than [`JUMP`] from the node before.
pub fn smooth(widths: &[f32]) -> (Vec<f32>, Vec<bool>) {
    let n = widths.len();
    let median: Vec<f32> = (0..n)
        .map(|i| {
            let mut w: Vec<f32> = widths[i.saturating_sub(2)..(i + 3).min(n)].to_vec();
            w.sort_by(f32::total_cmp);
            w[w.len() / 2]
        })
        .collect();
    let jumps = (0..n)
        .map(|i| i > 0 && jump(median[i - 1], median[i]))
        .collect();
    let mean = (0..n)
        .map(|i| {
            let w = &median[i.saturating_sub(1)..(i + 2).min(n)];
            w.iter().sum::<f32>() / w.len() as f32
        })
        .collect();
    (mean, jumps)
}

/// Whether going from width `a` to `b` is a sudden change.
pub fn jump(a: f32, b: f32) -> bool {
    (a - b).abs() / a.min(b).max(1e-3) > JUMP
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bright vertical band of `width` at column `centre`, edges blurred by the picture.
    fn picture(width: f32, centre: f32) -> Profile {
        let (w, h) = (120u32, 40u32);
        let grey: Vec<f32> = (0..h)
            .flat_map(|_| {
                (0..w).map(move |x| {
                    if ((x as f32 + 0.5) - centre).abs() <= width / 2.0 {
                        0.75
                    } else {
                        0.35
                    }
                })
            })
            .collect();
        Profile::new(&grey, w, h)
    }

    #[test]
    fn the_width_of_a_band_is_measured_within_a_pixel() {
        for width in [4.0f32, 7.0, 12.0, 20.0, 31.0] {
            let p = picture(width, 60.0);
            // The band's true width in whole pixels, as its mask would have it.
            let pixels = (0..120)
                .filter(|&x| ((x as f32 + 0.5) - 60.0).abs() <= width / 2.0)
                .count() as f32;
            // Measured a little off-centre, as a click would be.
            let got = p.width((61.5, 20.0), (1.0, 0.0), width / 3.0);
            assert!(
                (got - pixels).abs() <= 1.0,
                "band of {pixels}: measured {got}"
            );
        }
    }

    #[test]
    fn a_flat_picture_falls_back_to_the_ridge_scale() {
        let flat = Profile::new(&vec![0.5; 100 * 20], 100, 20);
        assert_eq!(flat.width((50.0, 10.0), (1.0, 0.0), 3.0), 7.5);
    }

    #[test]
    fn smoothing_keeps_a_real_step_and_flags_it_but_not_noise() {
        let mut widths = vec![8.0, 8.4, 7.7, 8.2, 8.0, 7.9];
        widths.extend([14.0, 14.3, 13.8, 14.1, 14.0]);
        let (smoothed, jumps) = smooth(&widths);
        assert!((smoothed[2] - 8.0).abs() < 0.5);
        assert!((smoothed[9] - 14.0).abs() < 0.5);
        assert_eq!(jumps.iter().filter(|j| **j).count(), 1);
        assert!(jumps[6]);
        // A single wild measurement is noise: the median removes it, nothing is flagged.
        let (_, noisy) = smooth(&[8.0, 8.0, 20.0, 8.0, 8.0, 8.0]);
        assert!(noisy.iter().all(|j| !j));
    }
}
