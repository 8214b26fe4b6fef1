//! Depthwise convolution on the CPU (issue 17): every channel convolved with its own small
//! kernel. Each channel plane is independent, so the planes are spread over the cores, and the
//! inner loops run along contiguous rows (vectorised where the stride is 1). The weight gradient
//! runs one channel per task over the whole batch, so no two tasks write the same value.

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

    /// Every (kernel tap, output row) pair that reaches inside the image, the same for every
    /// plane: computed once per call, then walked by plain loops (a closure would be compiled
    /// without the AVX2 of the kernel calling it).
    fn steps(&self) -> Vec<Step> {
        let w = &self.window;
        let [kh, kw] = w.kernel;
        let mut steps = Vec::new();
        for ky in 0..kh {
            let rows = w.span(0, ky, self.input[0], self.output[0]);
            for kx in 0..kw {
                let cols = w.span(1, kx, self.input[1], self.output[1]);
                if cols.is_empty() {
                    continue;
                }
                for (i, oy) in (rows.lo..rows.hi).enumerate() {
                    steps.push(Step {
                        output: oy * self.output[1] + cols.lo,
                        row: rows.first_input + i * w.stride[0],
                        first_input: cols.first_input,
                        len: cols.len(),
                        tap: ky * kw + kx,
                    });
                }
            }
        }
        steps
    }
}

/// One kernel tap on one output row: outputs `output..output+len` (indices in the plane) read
/// input row `row` from column `first_input`, then every stride-th column.
#[derive(Clone, Copy, Debug)]
struct Step {
    output: usize,
    row: usize,
    first_input: usize,
    len: usize,
    tap: usize,
}

/// An input plane with its columns grouped by their remainder modulo the column stride (for
/// stride 2: the even columns, then the odd ones), so that every kernel tap reads a contiguous
/// run and the loops vectorise. With stride 1 it is the plane itself.
struct Phases<'a> {
    values: std::borrow::Cow<'a, [f32]>,
    rows: usize,
    width: usize,
    stride: usize,
}

impl<'a> Phases<'a> {
    #[inline(always)]
    fn split(plane: &'a [f32], [rows, cols]: [usize; 2], stride: usize) -> Self {
        if stride == 1 {
            return Self {
                values: std::borrow::Cow::Borrowed(plane),
                rows,
                width: cols,
                stride,
            };
        }
        let width = cols.div_ceil(stride);
        let mut values = vec![0.0f32; stride * rows * width];
        for (r, row) in plane.chunks_exact(cols).enumerate() {
            for phase in 0..stride {
                let start = (phase * rows + r) * width;
                let run = row.iter().skip(phase).step_by(stride);
                values[start..start + width]
                    .iter_mut()
                    .zip(run)
                    .for_each(|(d, v)| *d = *v);
            }
        }
        Self {
            values: std::borrow::Cow::Owned(values),
            rows,
            width,
            stride,
        }
    }

    /// The `len` inputs a tap reads on input row `row`, from column `first` every stride.
    #[inline(always)]
    fn run(&self, row: usize, first: usize, len: usize) -> &[f32] {
        let start = ((first % self.stride) * self.rows + row) * self.width + first / self.stride;
        &self.values[start..start + len]
    }
}

/// An input-sized gradient accumulated phase by phase (see [`Phases`]), then put back in order.
struct PhaseGradient {
    values: Vec<f32>,
    rows: usize,
    cols: usize,
    width: usize,
    stride: usize,
}

impl PhaseGradient {
    #[inline(always)]
    fn new([rows, cols]: [usize; 2], stride: usize) -> Self {
        let width = cols.div_ceil(stride);
        Self {
            values: vec![0.0f32; stride * rows * width],
            rows,
            cols,
            width,
            stride,
        }
    }

    #[inline(always)]
    fn run(&mut self, row: usize, first: usize, len: usize) -> &mut [f32] {
        let start = ((first % self.stride) * self.rows + row) * self.width + first / self.stride;
        &mut self.values[start..start + len]
    }

    #[inline(always)]
    fn write_to(&self, plane: &mut [f32]) {
        for (r, row) in plane.chunks_exact_mut(self.cols).enumerate() {
            for phase in 0..self.stride {
                let start = (phase * self.rows + r) * self.width;
                let run = &self.values[start..start + self.width];
                let cells = row.iter_mut().skip(phase).step_by(self.stride);
                cells.zip(run).for_each(|(d, v)| *d = *v);
            }
        }
    }
}

#[inline(always)]
fn forward_plane_generic(
    shape: &Shape,
    steps: &[Step],
    x: &[f32],
    weights: &[f32],
    bias: f32,
    act: Activation,
    y: &mut [f32],
) {
    let x = Phases::split(x, shape.input, shape.window.stride[1]);
    y.fill(bias);
    for s in steps {
        let y = &mut y[s.output..s.output + s.len];
        lanes::axpy(y, weights[s.tap], x.run(s.row, s.first_input, s.len));
    }
    act.apply(y);
}

multiversion!(fn forward_plane(
    shape: &Shape,
    steps: &[Step],
    x: &[f32],
    weights: &[f32],
    bias: f32,
    act: Activation,
    y: &mut [f32],
) => forward_plane_generic);

#[inline(always)]
fn input_gradient_plane_generic(
    shape: &Shape,
    steps: &[Step],
    dy: &[f32],
    weights: &[f32],
    dx: &mut [f32],
) {
    let stride = shape.window.stride[1];
    if stride == 1 {
        let in_w = shape.input[1];
        for s in steps {
            let start = s.row * in_w + s.first_input;
            let dy = &dy[s.output..s.output + s.len];
            lanes::axpy(&mut dx[start..start + s.len], weights[s.tap], dy);
        }
        return;
    }
    let mut phases = PhaseGradient::new(shape.input, stride);
    for s in steps {
        let dy = &dy[s.output..s.output + s.len];
        lanes::axpy(phases.run(s.row, s.first_input, s.len), weights[s.tap], dy);
    }
    phases.write_to(dx);
}

multiversion!(fn input_gradient_plane(
    shape: &Shape,
    steps: &[Step],
    dy: &[f32],
    weights: &[f32],
    dx: &mut [f32],
) => input_gradient_plane_generic);

/// Adds one image's contribution to a channel's weight gradient, tap by tap.
#[inline(always)]
fn weight_gradient_plane_generic(
    shape: &Shape,
    steps: &[Step],
    x: &[f32],
    dy: &[f32],
    sums: &mut [f64],
) {
    let x = Phases::split(x, shape.input, shape.window.stride[1]);
    for s in steps {
        let dy = &dy[s.output..s.output + s.len];
        sums[s.tap] += lanes::dot(dy, x.run(s.row, s.first_input, s.len)) as f64;
    }
}

multiversion!(fn weight_gradient_plane(
    shape: &Shape,
    steps: &[Step],
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
    let steps = shape.steps();
    y.par_chunks_mut(out_plane)
        .with_min_len(shape.planes_per_task())
        .enumerate()
        .for_each(|(plane, y)| {
            let c = plane % shape.channels;
            forward_plane(
                shape,
                &steps,
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
    let steps = shape.steps();
    dx.par_chunks_mut(in_plane)
        .with_min_len(shape.planes_per_task())
        .enumerate()
        .for_each(|(plane, dx)| {
            let c = plane % shape.channels;
            input_gradient_plane(
                shape,
                &steps,
                &dy[plane * out_plane..(plane + 1) * out_plane],
                &weights[c * taps..(c + 1) * taps],
                dx,
            );
        });
    dx
}

/// The gradient with respect to the weights, `[channels, 1, kh, kw]`, summed over the batch.
/// Row sums are accumulated in f64 so that a batch of large images keeps f32 precision.
pub fn weight_gradient(shape: &Shape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (in_plane, out_plane, taps) = (shape.input_plane(), shape.output_plane(), shape.taps());
    let mut dw = vec![0.0f32; shape.channels * taps];
    let steps = shape.steps();
    dw.par_chunks_mut(taps).enumerate().for_each(|(c, dw)| {
        let mut sums = vec![0.0f64; taps];
        for n in 0..shape.batch {
            let plane = n * shape.channels + c;
            weight_gradient_plane(
                shape,
                &steps,
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
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2000) as f32 / 1000.0 - 1.0
            })
            .collect()
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
