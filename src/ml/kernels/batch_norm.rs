//! Batch norm in training on the CPU (issue 17), with the activation after it fused in: the
//! statistics in two passes per channel, the normalisation in one, and the backward in two
//! (sums, then the input gradient), every pass spread over channels or planes.

use rayon::prelude::*;

use super::Activation;
use super::lanes::{self, multiversion};

/// The layout of a `[batch, channels, height·width]` activation.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub batch: usize,
    pub channels: usize,
    pub plane: usize,
}

impl Layout {
    pub fn new(dims: [usize; 4]) -> Self {
        Self {
            batch: dims[0],
            channels: dims[1],
            plane: dims[2] * dims[3],
        }
    }

    fn count(&self) -> usize {
        self.batch * self.plane
    }

    /// The planes of channel `c`, one per image of the batch.
    fn planes<'a>(&self, values: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> {
        let (channels, plane) = (self.channels, self.plane);
        (0..self.batch).map(move |n| {
            let start = (n * channels + c) * plane;
            &values[start..start + plane]
        })
    }

    fn planes_per_task(&self) -> usize {
        (16384 / self.plane.max(1)).max(1)
    }
}

/// The batch mean and biased variance of each channel, computed in f64.
pub fn moments(layout: &Layout, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let count = layout.count() as f64;
    (0..layout.channels)
        .into_par_iter()
        .map(|c| {
            let sum: f64 = layout.planes(x, c).map(|p| plane_sum(p) as f64).sum();
            let mean = (sum / count) as f32;
            let squares: f64 = layout
                .planes(x, c)
                .map(|p| plane_squares(p, mean) as f64)
                .sum();
            (mean, (squares / count) as f32)
        })
        .unzip()
}

/// What the forward pass keeps for the backward: per channel, the batch mean and 1/σ.
#[derive(Clone, Debug)]
pub struct Normalised {
    pub mean: Vec<f32>,
    pub inv_std: Vec<f32>,
}

impl Normalised {
    pub fn new(mean: Vec<f32>, variance: &[f32], epsilon: f64) -> Self {
        let inv_std = variance
            .iter()
            .map(|v| (1.0 / (*v as f64 + epsilon).sqrt()) as f32)
            .collect();
        Self { mean, inv_std }
    }
}

/// `act(γ·(x − μ)/σ + β)`.
pub fn forward(
    layout: &Layout,
    x: &[f32],
    stats: &Normalised,
    gamma: &[f32],
    beta: &[f32],
    act: Activation,
) -> Vec<f32> {
    let mut y = vec![0.0f32; x.len()];
    y.par_chunks_mut(layout.plane)
        .with_min_len(layout.planes_per_task())
        .zip(x.par_chunks(layout.plane))
        .enumerate()
        .for_each(|(plane, (y, x))| {
            let c = plane % layout.channels;
            let scale = gamma[c] * stats.inv_std[c];
            let shift = beta[c] - stats.mean[c] * scale;
            normalise_plane(x, scale, shift, act, y);
        });
    y
}

/// The gradients of [`forward`] with respect to x, γ and β, from the output's gradient `dy` and
/// the output `y` itself (which says where the activation clipped).
pub struct Gradients {
    pub input: Vec<f32>,
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

pub fn backward(
    layout: &Layout,
    x: &[f32],
    y: &[f32],
    mut dy: Vec<f32>,
    stats: &Normalised,
    gamma: &[f32],
    act: Activation,
) -> Gradients {
    act.gate_all(&mut dy, y);
    // Per channel: Σ dy and Σ dy·x̂.
    let (beta, gamma_grad): (Vec<f32>, Vec<f32>) = (0..layout.channels)
        .into_par_iter()
        .map(|c| {
            let (mean, inv_std) = (stats.mean[c], stats.inv_std[c]);
            let mut sum = 0.0f64;
            let mut dot = 0.0f64;
            for (g, x) in layout.planes(&dy, c).zip(layout.planes(x, c)) {
                sum += plane_sum(g) as f64;
                dot += plane_dot_about(g, x, mean) as f64;
            }
            (sum as f32, (dot * inv_std as f64) as f32)
        })
        .unzip();
    let count = layout.count() as f32;
    let mut input = dy;
    input
        .par_chunks_mut(layout.plane)
        .with_min_len(layout.planes_per_task())
        .zip(x.par_chunks(layout.plane))
        .enumerate()
        .for_each(|(plane, (g, x))| {
            let c = plane % layout.channels;
            let (mean, inv_std) = (stats.mean[c], stats.inv_std[c]);
            let scale = gamma[c] * inv_std;
            let mean_g = beta[c] / count;
            let mean_gx = gamma_grad[c] / count;
            input_gradient_plane(g, x, [mean, inv_std, scale, mean_g, mean_gx]);
        });
    Gradients {
        input,
        gamma: gamma_grad,
        beta,
    }
}

multiversion!(fn plane_sum(x: &[f32]) -> f32 => lanes::sum);
multiversion!(fn plane_squares(x: &[f32], mean: f32) -> f32 => lanes::squares_about);
multiversion!(fn plane_dot_about(g: &[f32], x: &[f32], mean: f32) -> f32 => lanes::dot_about);

#[inline(always)]
fn normalise_generic(x: &[f32], scale: f32, shift: f32, act: Activation, y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y = x * scale + shift;
    }
    act.apply(y);
}

multiversion!(fn normalise_plane(x: &[f32], scale: f32, shift: f32, act: Activation, y: &mut [f32])
    => normalise_generic);

/// `g ← γσ⁻¹·(g − mean(g) − x̂·mean(g·x̂))`, the constants per channel.
#[inline(always)]
fn input_gradient_generic(g: &mut [f32], x: &[f32], constants: [f32; 5]) {
    let [mean, inv_std, scale, mean_g, mean_gx] = constants;
    for (g, x) in g.iter_mut().zip(x) {
        let normalised = (x - mean) * inv_std;
        *g = scale * (*g - mean_g - normalised * mean_gx);
    }
}

multiversion!(fn input_gradient_plane(g: &mut [f32], x: &[f32], constants: [f32; 5])
    => input_gradient_generic);

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        super::super::test_values(n, seed, [-1.5, 2.5])
    }

    /// Σ dy·bn(x), in f64, for finite differences.
    fn objective(layout: &Layout, x: &[f32], gamma: &[f32], beta: &[f32], dy: &[f32]) -> f64 {
        let (mean, var) = moments(layout, x);
        let stats = Normalised::new(mean, &var, 1e-3);
        forward(layout, x, &stats, gamma, beta, Activation::None)
            .iter()
            .zip(dy)
            .map(|(y, g)| *y as f64 * *g as f64)
            .sum()
    }

    #[test]
    fn moments_are_the_batch_mean_and_biased_variance() {
        let layout = Layout::new([2, 1, 1, 2]);
        let (mean, var) = moments(&layout, &[1.0, 2.0, 3.0, 6.0]);
        assert_eq!(mean, vec![3.0]);
        assert!((var[0] - 3.5).abs() < 1e-6);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let layout = Layout::new([2, 3, 2, 3]);
        let n = 2 * 3 * 6;
        let x = values(n, 1);
        let gamma = values(3, 2);
        let beta = values(3, 3);
        let dy = values(n, 4);
        let (mean, var) = moments(&layout, &x);
        let stats = Normalised::new(mean, &var, 1e-3);
        let y = forward(&layout, &x, &stats, &gamma, &beta, Activation::None);
        let grads = backward(
            &layout,
            &x,
            &y,
            dy.clone(),
            &stats,
            &gamma,
            Activation::None,
        );
        let h = 1e-2f32;
        for i in 0..n {
            let (mut up, mut down) = (x.clone(), x.clone());
            up[i] += h;
            down[i] -= h;
            let numeric = (objective(&layout, &up, &gamma, &beta, &dy)
                - objective(&layout, &down, &gamma, &beta, &dy))
                / (2.0 * h as f64);
            assert!((grads.input[i] as f64 - numeric).abs() < 2e-2, "dx[{i}]");
        }
        for c in 0..3 {
            let (mut up, mut down) = (gamma.clone(), gamma.clone());
            up[c] += h;
            down[c] -= h;
            let numeric = (objective(&layout, &x, &up, &beta, &dy)
                - objective(&layout, &x, &down, &beta, &dy))
                / (2.0 * h as f64);
            assert!((grads.gamma[c] as f64 - numeric).abs() < 2e-2, "dγ[{c}]");
            let expected: f32 = layout.planes(&dy, c).flatten().sum();
            assert!((grads.beta[c] - expected).abs() < 1e-4, "dβ[{c}]");
        }
    }
}
