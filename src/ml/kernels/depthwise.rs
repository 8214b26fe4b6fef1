//! Depthwise convolution on the CPU (issue 17): every channel convolved with its own small
//! kernel. Each channel plane is independent, so the planes are spread over the cores.
//!
//! A plane is first copied, zero-padded, into `stride²` phase planes (for stride 2: even rows
//! and even columns, even rows and odd columns, …). Every kernel tap then reads one phase plane
//! at a fixed offset, so the whole tap is one long multiply-add over the output plane, computed
//! on a grid as wide as the phase plane (the extra columns are dropped at the end). Short rows
//! (7 or 14 values deep in the network) would otherwise leave the vector units idle. The weight
//! gradient runs one channel per task over the whole batch, so no two tasks write the same value.

use rayon::prelude::*;

use super::Activation;
use super::lanes::{self, multiversion};
use super::window::Window;

/// The shapes of one depthwise convolution: batch, channels, input and output sides.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub batch: usize,
    pub channels: usize,
    pub input: [usize; 2],
    pub output: [usize; 2],
    pub window: Window,
}

impl Shape {
    pub fn new(dims: [usize; 4], window: Window) -> Self {
        let [batch, channels, h, w] = dims;
        Self {
            batch,
            channels,
            input: [h, w],
            output: [window.output(0, h), window.output(1, w)],
            window,
        }
    }

    fn input_plane(&self) -> usize {
        self.input[0] * self.input[1]
    }

    fn output_plane(&self) -> usize {
        self.output[0] * self.output[1]
    }

    fn taps(&self) -> usize {
        self.window.kernel[0] * self.window.kernel[1]
    }

    /// Planes per parallel task, so each task has a few thousand multiply-adds.
    fn planes_per_task(&self) -> usize {
        (8192 / (self.output_plane() * self.taps()).max(1)).max(1)
    }

    /// The phase-plane layout for this window.
    fn grid(&self) -> Grid {
        let w = &self.window;
        let phase = |axis: usize| {
            let padded = self.input[axis] + 2 * w.padding[axis];
            padded.div_ceil(w.stride[axis])
        };
        // The garbage columns of the last output rows read past the image: slack rows keep
        // the furthest tap's reads inside the buffer.
        let width = phase(1);
        let furthest = ((w.kernel[0] - 1) * w.dilation[0] / w.stride[0]) * width
            + (w.kernel[1] - 1) * w.dilation[1] / w.stride[1];
        let cells = self.output[0] * width;
        Grid {
            rows: phase(0).max((furthest + cells).div_ceil(width)),
            width,
            phases: w.stride[0] * w.stride[1],
            cells,
        }
    }

    /// For each tap: where its reads start among the phase planes, in cells.
    fn tap_offsets(&self, grid: &Grid) -> Vec<usize> {
        let w = &self.window;
        let [kh, kw] = w.kernel;
        let mut offsets = Vec::with_capacity(kh * kw);
        for ky in 0..kh {
            for kx in 0..kw {
                let (dy, dx) = (ky * w.dilation[0], kx * w.dilation[1]);
                let phase = (dy % w.stride[0]) * w.stride[1] + dx % w.stride[1];
                let offset = (dy / w.stride[0]) * grid.width + dx / w.stride[1];
                offsets.push(phase * grid.rows * grid.width + offset);
            }
        }
        offsets
    }
}

/// `stride²` zero-padded phase planes of `rows × width`, and the output computed on a grid of
/// `output rows × width` cells.
#[derive(Clone, Copy, Debug)]
struct Grid {
    rows: usize,
    width: usize,
    phases: usize,
    cells: usize,
}

impl Grid {
    fn len(&self) -> usize {
        self.phases * self.rows * self.width
    }

    /// Where input pixel `(iy, ix)` lives among the phase planes.
    #[inline(always)]
    fn cell(&self, shape: &Shape, iy: usize, ix: usize) -> usize {
        let w = &shape.window;
        let (py, px) = (iy + w.padding[0], ix + w.padding[1]);
        let phase = (py % w.stride[0]) * w.stride[1] + px % w.stride[1];
        (phase * self.rows + py / w.stride[0]) * self.width + px / w.stride[1]
    }

    /// Copies an input plane into its phase planes (`phases` must be zeroed where padding).
    #[inline(always)]
    fn split(&self, shape: &Shape, plane: &[f32], phases: &mut [f32]) {
        let sx = shape.window.stride[1];
        let cols = shape.input[1];
        for (iy, row) in plane.chunks_exact(cols).enumerate() {
            for px in 0..sx.min(cols) {
                let start = self.cell(shape, iy, px);
                let run = row.iter().skip(px).step_by(sx);
                phases[start..]
                    .iter_mut()
                    .zip(run)
                    .for_each(|(d, v)| *d = *v);
            }
        }
    }

    /// The inverse of [`Grid::split`]: gathers an input-shaped plane back from phase planes.
    #[inline(always)]
    fn merge(&self, shape: &Shape, phases: &[f32], plane: &mut [f32]) {
        let sx = shape.window.stride[1];
        let cols = shape.input[1];
        for (iy, row) in plane.chunks_exact_mut(cols).enumerate() {
            for px in 0..sx.min(cols) {
                let start = self.cell(shape, iy, px);
                let cells = row.iter_mut().skip(px).step_by(sx);
                cells.zip(&phases[start..]).for_each(|(d, v)| *d = *v);
            }
        }
    }
}

/// What every plane of one call shares: the shapes, the phase-plane layout and the taps' offsets.
struct Plan {
    shape: Shape,
    grid: Grid,
    offsets: Vec<usize>,
}

impl Plan {
    fn new(shape: &Shape) -> Self {
        let grid = shape.grid();
        Self {
            shape: *shape,
            grid,
            offsets: shape.tap_offsets(&grid),
        }
    }
}

#[inline(always)]
fn forward_plane_generic(
    plan: &Plan,
    x: &[f32],
    weights: &[f32],
    bias: f32,
    act: Activation,
    y: &mut [f32],
) {
    let (shape, grid) = (&plan.shape, &plan.grid);
    let mut phases = vec![0.0f32; grid.len()];
    grid.split(shape, x, &mut phases);
    let mut out = vec![bias; grid.cells];
    for (&offset, &w) in plan.offsets.iter().zip(weights) {
        lanes::axpy(&mut out, w, &phases[offset..offset + grid.cells]);
    }
    let cols = shape.output[1];
    for (y, out) in y.chunks_exact_mut(cols).zip(out.chunks_exact(grid.width)) {
        y.copy_from_slice(&out[..cols]);
    }
    act.apply(y);
}

multiversion!(fn forward_plane(
    plan: &Plan,
    x: &[f32],
    weights: &[f32],
    bias: f32,
    act: Activation,
    y: &mut [f32],
) => forward_plane_generic);

/// The output gradient laid out on the grid, zero in its extra columns.
#[inline(always)]
fn on_grid(shape: &Shape, grid: &Grid, dy: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0f32; grid.cells];
    let cols = shape.output[1];
    for (out, dy) in out.chunks_exact_mut(grid.width).zip(dy.chunks_exact(cols)) {
        out[..cols].copy_from_slice(dy);
    }
    out
}

#[inline(always)]
fn input_gradient_plane_generic(plan: &Plan, dy: &[f32], weights: &[f32], dx: &mut [f32]) {
    let (shape, grid) = (&plan.shape, &plan.grid);
    let dy = on_grid(shape, grid, dy);
    let mut phases = vec![0.0f32; grid.len()];
    for (&offset, &w) in plan.offsets.iter().zip(weights) {
        lanes::axpy(&mut phases[offset..offset + grid.cells], w, &dy);
    }
    grid.merge(shape, &phases, dx);
}

multiversion!(fn input_gradient_plane(
    plan: &Plan,
    dy: &[f32],
    weights: &[f32],
    dx: &mut [f32],
) => input_gradient_plane_generic);

/// Adds one image's contribution to a channel's weight gradient, tap by tap.
#[inline(always)]
fn weight_gradient_plane_generic(plan: &Plan, x: &[f32], dy: &[f32], sums: &mut [f64]) {
    let (shape, grid) = (&plan.shape, &plan.grid);
    let mut phases = vec![0.0f32; grid.len()];
    grid.split(shape, x, &mut phases);
    let dy = on_grid(shape, grid, dy);
    for (&offset, sum) in plan.offsets.iter().zip(sums.iter_mut()) {
        *sum += lanes::dot(&dy, &phases[offset..offset + grid.cells]) as f64;
    }
}

multiversion!(fn weight_gradient_plane(
    plan: &Plan,
    x: &[f32],
    dy: &[f32],
    sums: &mut [f64],
) => weight_gradient_plane_generic);

/// `y = act(depthwise(x, weights) + bias)`; `weights` is `[channels, 1, kh, kw]`.
pub fn forward(
    shape: &Shape,
    x: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
) -> Vec<f32> {
    let (in_plane, out_plane, taps) = (shape.input_plane(), shape.output_plane(), shape.taps());
    let mut y = vec![0.0f32; shape.batch * shape.channels * out_plane];
    let plan = Plan::new(shape);
    y.par_chunks_mut(out_plane)
        .with_min_len(shape.planes_per_task())
        .enumerate()
        .for_each(|(plane, y)| {
            let c = plane % shape.channels;
            forward_plane(
                &plan,
                &x[plane * in_plane..(plane + 1) * in_plane],
                &weights[c * taps..(c + 1) * taps],
                bias.map_or(0.0, |b| b[c]),
                act,
                y,
            );
        });
    y
}

/// The gradient with respect to the input, from the output's gradient `dy`.
pub fn input_gradient(shape: &Shape, dy: &[f32], weights: &[f32]) -> Vec<f32> {
    let (in_plane, out_plane, taps) = (shape.input_plane(), shape.output_plane(), shape.taps());
    let mut dx = vec![0.0f32; shape.batch * shape.channels * in_plane];
    let plan = Plan::new(shape);
    dx.par_chunks_mut(in_plane)
        .with_min_len(shape.planes_per_task())
        .enumerate()
        .for_each(|(plane, dx)| {
            let c = plane % shape.channels;
            input_gradient_plane(
                &plan,
                &dy[plane * out_plane..(plane + 1) * out_plane],
                &weights[c * taps..(c + 1) * taps],
                dx,
            );
        });
    dx
}

/// The gradient with respect to the weights, `[channels, 1, kh, kw]`, summed over the batch.
/// Per-image sums are accumulated in f64 so that a large batch keeps f32 precision.
pub fn weight_gradient(shape: &Shape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (in_plane, out_plane, taps) = (shape.input_plane(), shape.output_plane(), shape.taps());
    let mut dw = vec![0.0f32; shape.channels * taps];
    let plan = Plan::new(shape);
    dw.par_chunks_mut(taps).enumerate().for_each(|(c, dw)| {
        let mut sums = vec![0.0f64; taps];
        for n in 0..shape.batch {
            let plane = n * shape.channels + c;
            weight_gradient_plane(
                &plan,
                &x[plane * in_plane..(plane + 1) * in_plane],
                &dy[plane * out_plane..(plane + 1) * out_plane],
                &mut sums,
            );
        }
        for (dw, sum) in dw.iter_mut().zip(sums) {
            *dw = sum as f32;
        }
    });
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook loops, against which the fast ones are checked.
    fn naive(shape: &Shape, x: &[f32], w: &[f32]) -> Vec<f32> {
        let [h, wd] = shape.input;
        let [oh, ow] = shape.output;
        let win = shape.window;
        let [kh, kw] = win.kernel;
        let mut y = vec![0.0; shape.batch * shape.channels * oh * ow];
        for plane in 0..shape.batch * shape.channels {
            let c = plane % shape.channels;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = 0.0;
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (oy * win.stride[0] + ky * win.dilation[0]) as isize
                                - win.padding[0] as isize;
                            let ix = (ox * win.stride[1] + kx * win.dilation[1]) as isize
                                - win.padding[1] as isize;
                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < wd {
                                sum += w[c * kh * kw + ky * kw + kx]
                                    * x[plane * h * wd + iy as usize * wd + ix as usize];
                            }
                        }
                    }
                    y[plane * oh * ow + oy * ow + ox] = sum;
                }
            }
        }
        y
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        super::super::test_values(n, seed, [-1.0, 1.0])
    }

    fn shapes() -> Vec<Shape> {
        let window = |k: usize, s: usize, p: usize, d: usize| Window {
            kernel: [k, k],
            stride: [s, s],
            padding: [p, p],
            dilation: [d, d],
        };
        vec![
            Shape::new([2, 3, 7, 9], window(3, 1, 1, 1)),
            Shape::new([1, 4, 8, 8], window(3, 2, 1, 1)),
            Shape::new([2, 2, 7, 5], window(3, 2, 1, 1)),
            Shape::new([1, 2, 9, 9], window(3, 1, 2, 2)),
            Shape::new([1, 1, 1, 1], window(3, 1, 1, 1)),
            Shape::new([1, 2, 7, 9], window(3, 2, 0, 1)),
            Shape::new([2, 1, 8, 6], window(3, 1, 1, 3)),
            Shape::new([1, 2, 6, 6], window(5, 1, 2, 1)),
        ]
    }

    #[test]
    fn forward_matches_the_textbook_loops() {
        for shape in shapes() {
            let x = values(shape.batch * shape.channels * shape.input_plane(), 1);
            let w = values(shape.channels * shape.taps(), 2);
            let fast = forward(&shape, &x, &w, None, Activation::None);
            let slow = naive(&shape, &x, &w);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-5, "{shape:?}: {a} vs {b}");
            }
        }
    }

    /// Each gradient is checked against the definition: ⟨dy, conv(x, w)⟩ is linear in x and in
    /// w, so its derivative along a basis vector is one entry of the gradient.
    #[test]
    fn gradients_match_the_derivative_of_the_forward() {
        for shape in shapes() {
            let x = values(shape.batch * shape.channels * shape.input_plane(), 3);
            let w = values(shape.channels * shape.taps(), 4);
            let dy = values(shape.batch * shape.channels * shape.output_plane(), 5);
            let inner = |x: &[f32], w: &[f32]| -> f64 {
                naive(&shape, x, w)
                    .iter()
                    .zip(&dy)
                    .map(|(y, g)| (*y as f64) * (*g as f64))
                    .sum()
            };
            let dx = input_gradient(&shape, &dy, &w);
            for i in 0..x.len() {
                let mut e = vec![0.0; x.len()];
                e[i] = 1.0;
                assert!(
                    (dx[i] as f64 - inner(&e, &w)).abs() < 1e-4,
                    "{shape:?} dx[{i}]"
                );
            }
            let dw = weight_gradient(&shape, &x, &dy);
            for i in 0..w.len() {
                let mut e = vec![0.0; w.len()];
                e[i] = 1.0;
                assert!(
                    (dw[i] as f64 - inner(&x, &e)).abs() < 1e-4,
                    "{shape:?} dw[{i}]"
                );
            }
        }
    }
}
