//! How much each pixel looks like the middle of a bright band (a nerve), at the scale that fits
//! it best: a multi-scale Hessian "vesselness" for bright ridges (Frangi's measure without the
//! background term), computed once when an image opens, on a copy at most [`MAX_SIDE`] pixels
//! wide (a nerve is wider than a few pixels at that size).

/// The longer side of the picture the ridge measure is computed on.
pub const MAX_SIDE: u32 = 800;

/// Ridge scales, in pixels of the reduced picture (Gaussian standard deviations).
const SIGMAS: [f32; 5] = [1.0, 1.6, 2.5, 4.0, 6.0];

/// Frangi's `beta`: how strongly a blob (both curvatures alike) is told from a ridge.
const BETA: f32 = 0.5;

/// The ridge measure of one picture.
#[derive(Debug, Clone)]
pub struct Ridge {
    /// Size of the reduced grid.
    pub width: u32,
    pub height: u32,
    /// Full-size pixels per grid cell.
    pub step: f32,
    /// Ridge strength per cell, 0 (no ridge) to 1 (as strong as the picture's strongest).
    pub strength: Vec<f32>,
    /// The scale (sigma, full-size pixels) where each cell's ridge was strongest.
    pub scale: Vec<f32>,
}

impl Ridge {
    /// The ridge measure of a grey picture (`grey`: row-major luminance in 0..1).
    pub fn of(grey: &[f32], width: u32, height: u32) -> Ridge {
        let step = (width.max(height) as f32 / MAX_SIDE as f32).max(1.0);
        let (w, h) = (
            ((width as f32 / step).round() as u32).max(1),
            ((height as f32 / step).round() as u32).max(1),
        );
        let small = shrink(grey, (width, height), (w, h));
        let (mut best, mut scale) = (vec![0f32; small.len()], vec![SIGMAS[0]; small.len()]);
        for &sigma in &SIGMAS {
            let blurred = gaussian(&small, w as usize, h as usize, sigma);
            for (i, v) in ridge_response(&blurred, w as usize, h as usize, sigma)
                .into_iter()
                .enumerate()
            {
                if v > best[i] {
                    best[i] = v;
                    scale[i] = sigma;
                }
            }
        }
        let top = percentile(&best, 0.995).max(1e-6);
        Ridge {
            width: w,
            height: h,
            step,
            strength: best.iter().map(|v| (v / top).min(1.0)).collect(),
            scale: scale.iter().map(|s| s * step).collect(),
        }
    }

    /// Blends in a segmenter's nerve probability (full-size, 0..1) where a model exists:
    /// the tracer then follows what the model calls nerve as much as what looks like a ridge.
    pub fn blend(&mut self, probability: &[f32], width: u32, height: u32) {
        let small = shrink(probability, (width, height), (self.width, self.height));
        for (s, p) in self.strength.iter_mut().zip(small) {
            *s = 0.5 * *s + 0.5 * p.clamp(0.0, 1.0);
        }
    }

    /// The grid cell of a full-size point (clamped to the grid).
    pub fn cell(&self, x: f32, y: f32) -> (u32, u32) {
        let cx = (x / self.step).floor().clamp(0.0, self.width as f32 - 1.0);
        let cy = (y / self.step).floor().clamp(0.0, self.height as f32 - 1.0);
        (cx as u32, cy as u32)
    }

    /// The full-size centre of a grid cell.
    pub fn centre(&self, (cx, cy): (u32, u32)) -> (f32, f32) {
        ((cx as f32 + 0.5) * self.step, (cy as f32 + 0.5) * self.step)
    }

    pub fn at(&self, (cx, cy): (u32, u32)) -> f32 {
        self.strength[(cy * self.width + cx) as usize]
    }

    pub fn scale_at(&self, (cx, cy): (u32, u32)) -> f32 {
        self.scale[(cy * self.width + cx) as usize]
    }
}

/// Luminance in 0..1 of an RGB(A) picture.
pub fn luminance(pixels: &[u8], channels: usize) -> Vec<f32> {
    pixels
        .chunks_exact(channels)
        .map(|p| (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0)
        .collect()
}

/// Box-averages `values` (row-major, `from` size) down to `to` (never larger).
pub fn shrink(values: &[f32], from: (u32, u32), to: (u32, u32)) -> Vec<f32> {
    if from == to {
        return values.to_vec();
    }
    let (fw, fh) = (from.0 as usize, from.1 as usize);
    let (tw, th) = (to.0 as usize, to.1 as usize);
    let mut out = vec![0f32; tw * th];
    for ty in 0..th {
        let (y0, y1) = (ty * fh / th, ((ty + 1) * fh / th).max(ty * fh / th + 1));
        for tx in 0..tw {
            let (x0, x1) = (tx * fw / tw, ((tx + 1) * fw / tw).max(tx * fw / tw + 1));
            let mut sum = 0f32;
            for y in y0..y1.min(fh) {
                sum += values[y * fw + x0..y * fw + x1.min(fw)].iter().sum::<f32>();
            }
            out[ty * tw + tx] = sum / ((y1 - y0) * (x1 - x0)) as f32;
        }
    }
    out
}

/// A separable Gaussian blur (edges repeat the border pixel).
pub fn gaussian(values: &[f32], w: usize, h: usize, sigma: f32) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / total).collect();
    let pass = |src: &[f32], horizontal: bool| {
        let mut out = vec![0f32; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0f32;
                for (k, weight) in kernel.iter().enumerate() {
                    let d = k as isize - radius;
                    let (sx, sy) = if horizontal {
                        ((x as isize + d).clamp(0, w as isize - 1) as usize, y)
                    } else {
                        (x, (y as isize + d).clamp(0, h as isize - 1) as usize)
                    };
                    acc += weight * src[sy * w + sx];
                }
                out[y * w + x] = acc;
            }
        }
        out
    };
    pass(&pass(values, true), false)
}

/// Bright-ridge strength at one scale: large where the picture curves down steeply across a
/// direction and little along it, scale-normalised (sigma squared) so scales compare.
fn ridge_response(blurred: &[f32], w: usize, h: usize, sigma: f32) -> Vec<f32> {
    let at = |x: usize, y: usize| blurred[y * w + x];
    let mut out = vec![0f32; w * h];
    if w < 3 || h < 3 {
        return out;
    }
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = at(x, y);
            let dxx = at(x + 1, y) - 2.0 * c + at(x - 1, y);
            let dyy = at(x, y + 1) - 2.0 * c + at(x, y - 1);
            let dxy =
                (at(x + 1, y + 1) - at(x + 1, y - 1) - at(x - 1, y + 1) + at(x - 1, y - 1)) / 4.0;
            let (across, along) = eigen(dxx, dxy, dyy);
            if across >= 0.0 {
                continue;
            }
            let blob = along / across;
            out[y * w + x] = sigma * sigma * -across * (-(blob * blob) / (2.0 * BETA * BETA)).exp();
        }
    }
    out
}

/// The eigenvalues of the symmetric 2x2 matrix [[a, b], [b, c]]: the one largest in magnitude
/// first.
fn eigen(a: f32, b: f32, c: f32) -> (f32, f32) {
    let mean = (a + c) / 2.0;
    let spread = (((a - c) / 2.0).powi(2) + b * b).sqrt();
    let (l1, l2) = (mean + spread, mean - spread);
    if l1.abs() >= l2.abs() {
        (l1, l2)
    } else {
        (l2, l1)
    }
}

fn percentile(values: &[f32], q: f32) -> f32 {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| *v > 0.0).collect();
    if sorted.is_empty() {
        return 0.0;
    }
    sorted.sort_by(f32::total_cmp);
    sorted[((sorted.len() - 1) as f32 * q) as usize]
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A bright horizontal band of `width` pixels at row `centre` on a mid-grey picture.
    pub fn band(w: u32, h: u32, centre: f32, width: f32) -> Vec<f32> {
        (0..h)
            .flat_map(|y| {
                (0..w).map(move |_| {
                    if ((y as f32 + 0.5) - centre).abs() <= width / 2.0 {
                        0.8
                    } else {
                        0.3
                    }
                })
            })
            .collect()
    }

    #[test]
    fn the_ridge_is_strongest_on_the_middle_of_a_bright_band() {
        let (w, h) = (120, 80);
        let r = Ridge::of(&band(w, h, 40.0, 8.0), w, h);
        let column = |y: u32| r.at((60, y));
        assert!(column(40) > 0.8, "{}", column(40));
        assert!(column(40) > 4.0 * column(20));
        assert!(column(40) > 4.0 * column(60));
        // A wider band is found at a larger scale.
        let wide = Ridge::of(&band(w, h, 40.0, 16.0), w, h);
        assert!(wide.scale_at((60, 40)) > r.scale_at((60, 40)));
    }

    #[test]
    fn a_large_picture_is_measured_on_a_reduced_grid_in_full_size_units() {
        let (w, h) = (1600, 400);
        let r = Ridge::of(&band(w, h, 200.0, 20.0), w, h);
        assert_eq!((r.width, r.height), (800, 200));
        assert_eq!(r.step, 2.0);
        let on = r.cell(400.0, 200.0);
        assert!(r.at(on) > 0.8);
        assert_eq!(r.centre(on), (401.0, 201.0));
    }
}
