//! Transposed convolution on the CPU (issue 17), the U-Net decoder's upsampling layer, as matrix
//! products around two rearrangements:
//!
//! - forward: `cols = Wᵀ·X` (`[out·k², in]·[in, pixels]`), then every column value is added to
//!   the output pixel its tap lands on (`scatter`);
//! - backward: the output gradient is read back at those same places (`gather`, one
//!   `[out·k², pixels]` matrix per image), which serves both gradients: `dX = W·G` and
//!   `dW = Σ X·Gᵀ`.
//!
//! burn's generic weight gradient runs as a convolution with the whole image as its kernel, a
//! thin product that uses a fraction of the vector units.

use rayon::prelude::*;

use super::pointwise::{Matrix, product};
use super::window::Window;

/// The shapes of one transposed convolution. `window` is seen from the output: output pixel
/// `grid·stride − padding + tap·dilation` receives input pixel `grid`.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub batch: usize,
    pub input: usize,
    pub output: usize,
    pub grid: [usize; 2],
    pub image: [usize; 2],
    pub window: Window,
}

impl Shape {
    /// The shape for input dims `[batch, in, h, w]` and weight dims `[in, out, kh, kw]`.
    pub fn new(x: [usize; 4], weight: [usize; 4], window: Window, padding_out: [usize; 2]) -> Self {
        let [batch, input, h, w] = x;
        let side = |axis: usize, grid: usize| {
            ((grid - 1) * window.stride[axis]
                + window.dilation[axis] * (window.kernel[axis] - 1)
                + padding_out[axis]
                + 1)
            .saturating_sub(2 * window.padding[axis])
        };
        Self {
            batch,
            input,
            output: weight[1],
            grid: [h, w],
            image: [side(0, h), side(1, w)],
            window,
        }
    }

    pub fn output_dims(&self) -> [usize; 4] {
        [self.batch, self.output, self.image[0], self.image[1]]
    }

    fn pixels(&self) -> usize {
        self.grid[0] * self.grid[1]
    }

    fn image_pixels(&self) -> usize {
        self.image[0] * self.image[1]
    }

    fn taps(&self) -> usize {
        self.window.kernel[0] * self.window.kernel[1]
    }

    /// Rows of the column matrix: one per output channel and tap.
    fn rows(&self) -> usize {
        self.output * self.taps()
    }

    /// For every tap: the (grid row, image row) pairs and the grid-column span it reaches.
    fn walk(&self, mut visit: impl FnMut(usize, usize, usize, Span)) {
        let w = &self.window;
        let [kh, kw] = w.kernel;
        for ky in 0..kh {
            let rows = w.span(0, ky, self.image[0], self.grid[0]);
            for kx in 0..kw {
                let cols = w.span(1, kx, self.image[1], self.grid[1]);
                if cols.is_empty() {
                    continue;
                }
                for (i, gy) in (rows.lo..rows.hi).enumerate() {
                    let iy = rows.first_input + i * w.stride[0];
                    visit(
                        ky * kw + kx,
                        gy,
                        iy,
                        Span {
                            lo: cols.lo,
                            len: cols.len(),
                            first: cols.first_input,
                        },
                    );
                }
            }
        }
    }
}

/// Grid columns `lo..lo+len` land on image columns `first`, then every stride-th.
#[derive(Clone, Copy)]
struct Span {
    lo: usize,
    len: usize,
    first: usize,
}

/// Adds each column value of one image (`cols`, `[out·k², pixels]`) to the output pixel its tap
/// lands on; `y` is `[out, image pixels]`. Channels in parallel.
fn scatter(shape: &Shape, cols: &[f32], y: &mut [f32]) {
    let (taps, pixels, gw, iw) = (shape.taps(), shape.pixels(), shape.grid[1], shape.image[1]);
    let stride = shape.window.stride[1];
    y.par_chunks_mut(shape.image_pixels())
        .enumerate()
        .for_each(|(c, y)| {
            shape.walk(|tap, gy, iy, s| {
                let row = &cols[(c * taps + tap) * pixels + gy * gw + s.lo..][..s.len];
                let out = y[iy * iw + s.first..].iter_mut().step_by(stride);
                out.zip(row).for_each(|(y, v)| *y += v);
            });
        });
}

/// The inverse reading: `cols[c·k² + tap][grid pixel]` = the output gradient where that tap of
/// that grid pixel landed (0 where it fell in the padding).
fn gather(shape: &Shape, dy: &[f32], cols: &mut [f32]) {
    let (taps, pixels, gw, iw) = (shape.taps(), shape.pixels(), shape.grid[1], shape.image[1]);
    let stride = shape.window.stride[1];
    cols.fill(0.0);
    cols.par_chunks_mut(taps * pixels)
        .enumerate()
        .for_each(|(c, cols)| {
            let dy = &dy[c * shape.image_pixels()..(c + 1) * shape.image_pixels()];
            shape.walk(|tap, gy, iy, s| {
                let row = &mut cols[tap * pixels + gy * gw + s.lo..][..s.len];
                let read = dy[iy * iw + s.first..].iter().step_by(stride);
                row.iter_mut().zip(read).for_each(|(d, v)| *d = *v);
            });
        });
}

/// `weights` `[in, out, kh, kw]` is, row-major, the matrix `[in, out·k²]`.
fn weights_matrix(shape: &Shape, weights: &[f32]) -> Matrix {
    Matrix::row_major(weights, shape.rows())
}

/// The forward pass, `[batch, out, image]` (no bias: it is added by the caller).
pub fn forward(shape: &Shape, x: &[f32], weights: &[f32]) -> Vec<f32> {
    let (pixels, rows) = (shape.pixels(), shape.rows());
    let mut y = vec![0.0f32; shape.batch * shape.output * shape.image_pixels()];
    let mut cols = vec![0.0f32; rows * pixels];
    let per_image = shape.output * shape.image_pixels();
    for (n, y) in y.chunks_mut(per_image).enumerate() {
        let x = &x[n * shape.input * pixels..(n + 1) * shape.input * pixels];
        product(
            [rows, pixels, shape.input],
            &mut cols,
            weights_matrix(shape, weights).transposed(),
            Matrix::row_major(x, pixels),
            false,
        );
        scatter(shape, &cols, y);
    }
    y
}

/// Both gradients: with respect to the input (`[batch, in, grid]`) and the weights.
pub fn backward(shape: &Shape, x: &[f32], weights: &[f32], dy: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let (pixels, rows, input) = (shape.pixels(), shape.rows(), shape.input);
    let mut dx = vec![0.0f32; shape.batch * input * pixels];
    let mut dw = vec![0.0f32; input * rows];
    let mut cols = vec![0.0f32; rows * pixels];
    let per_image = shape.output * shape.image_pixels();
    for n in 0..shape.batch {
        gather(shape, &dy[n * per_image..(n + 1) * per_image], &mut cols);
        let x = &x[n * input * pixels..(n + 1) * input * pixels];
        product(
            [input, pixels, rows],
            &mut dx[n * input * pixels..(n + 1) * input * pixels],
            weights_matrix(shape, weights),
            Matrix::row_major(&cols, pixels),
            false,
        );
        product(
            [input, rows, pixels],
            &mut dw,
            Matrix::row_major(x, pixels),
            Matrix::row_major(&cols, pixels).transposed(),
            n > 0,
        );
    }
    (dx, dw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        super::super::test_values(n, seed, [-1.0, 1.0])
    }

    /// The definition: every input pixel, through every tap, adds to one output pixel.
    fn naive(shape: &Shape, x: &[f32], w: &[f32]) -> Vec<f32> {
        let [gh, gw] = shape.grid;
        let [ih, iw] = shape.image;
        let [kh, kw] = shape.window.kernel;
        let win = shape.window;
        let mut y = vec![0.0; shape.batch * shape.output * ih * iw];
        for n in 0..shape.batch {
            for ci in 0..shape.input {
                for co in 0..shape.output {
                    for gy in 0..gh {
                        for gx in 0..gw {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let oy = (gy * win.stride[0] + ky * win.dilation[0]) as isize
                                        - win.padding[0] as isize;
                                    let ox = (gx * win.stride[1] + kx * win.dilation[1]) as isize
                                        - win.padding[1] as isize;
                                    if oy < 0 || ox < 0 || oy >= ih as isize || ox >= iw as isize {
                                        continue;
                                    }
                                    let wv = w[((ci * shape.output + co) * kh + ky) * kw + kx];
                                    let xv = x[((n * shape.input + ci) * gh + gy) * gw + gx];
                                    y[((n * shape.output + co) * ih + oy as usize) * iw
                                        + ox as usize] += wv * xv;
                                }
                            }
                        }
                    }
                }
            }
        }
        y
    }

    fn shape(batch: usize, grid: [usize; 2], stride: usize) -> Shape {
        let window = Window {
            kernel: [3, 3],
            stride: [stride, stride],
            padding: [1, 1],
            dilation: [1, 1],
        };
        // burn's transposed size with padding_out = stride − 1: exactly `stride` times the grid.
        Shape {
            batch,
            input: 3,
            output: 2,
            grid,
            image: [grid[0] * stride, grid[1] * stride],
            window,
        }
    }

    #[test]
    fn forward_and_gradients_match_the_definition() {
        for s in [
            shape(2, [3, 4], 2),
            shape(1, [5, 5], 1),
            shape(3, [2, 3], 2),
        ] {
            let x = values(s.batch * s.input * s.pixels(), 1);
            let w = values(s.input * s.rows(), 2);
            let dy = values(s.batch * s.output * s.image_pixels(), 3);
            let y = forward(&s, &x, &w);
            let reference = naive(&s, &x, &w);
            for (a, b) in y.iter().zip(&reference) {
                assert!((a - b).abs() < 1e-4, "{s:?}: {a} vs {b}");
            }
            let inner = |x: &[f32], w: &[f32]| -> f64 {
                naive(&s, x, w)
                    .iter()
                    .zip(&dy)
                    .map(|(a, b)| (*a * *b) as f64)
                    .sum()
            };
            let (dx, dw) = backward(&s, &x, &w, &dy);
            for i in 0..x.len() {
                let mut e = vec![0.0; x.len()];
                e[i] = 1.0;
                assert!((dx[i] as f64 - inner(&e, &w)).abs() < 1e-3, "{s:?} dx[{i}]");
            }
            for i in 0..w.len() {
                let mut e = vec![0.0; w.len()];
                e[i] = 1.0;
                assert!((dw[i] as f64 - inner(&x, &e)).abs() < 1e-3, "{s:?} dw[{i}]");
            }
        }
    }
}
