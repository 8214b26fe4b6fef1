//! 1x1 convolution on the CPU (issue 17) as the matrix products it is: per image, the output is
//! `W·X` (`[out, in]·[in, pixels]`), the input gradient `Wᵀ·dY`, and the weight gradient
//! `Σ dY·Xᵀ` over the batch. burn's generic weight gradient runs it as a convolution whose kernel
//! is the whole image, which becomes a long matrix-vector product on one core.

use gemm::Parallelism;
use rayon::prelude::*;

use super::Activation;

/// The shapes of one 1x1 convolution.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub batch: usize,
    pub input: usize,
    pub output: usize,
    pub pixels: usize,
}

/// A matrix read in place: its first value and its row and column strides.
#[derive(Clone, Copy)]
pub(super) struct Matrix {
    at: *const f32,
    row: isize,
    col: isize,
    len: usize,
}

impl Matrix {
    /// `values` as a row-major matrix of `cols` columns.
    pub(super) fn row_major(values: &[f32], cols: usize) -> Self {
        Self {
            at: values.as_ptr(),
            row: cols as isize,
            col: 1,
            len: values.len(),
        }
    }

    /// The same values read as the transposed matrix.
    pub(super) fn transposed(self) -> Self {
        Self {
            row: self.col,
            col: self.row,
            ..self
        }
    }

    /// Whether an `rows × cols` matrix read this way stays inside the values.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || (rows - 1) as isize * self.row + (cols - 1) as isize * self.col < self.len as isize
    }
}

impl Shape {
    /// How the work is split: whole images per core when the batch has enough of them, else
    /// the product itself spread over the cores where it is big enough to gain from it.
    fn images_in_parallel(&self) -> bool {
        self.batch >= rayon::current_num_threads()
    }

    fn inner_parallelism(&self, m: usize, n: usize, k: usize) -> Parallelism {
        if !self.images_in_parallel() && m * n * k >= 48 * 48 * 48 {
            Parallelism::Rayon(0)
        } else {
            Parallelism::None
        }
    }
}

/// `dst (m×n, row-major) = lhs (m×k) · rhs (k×n)`, or `dst += …` when `accumulate`, spread
/// over the cores when it is big enough to gain from it.
pub(super) fn product(
    dims: [usize; 3],
    dst: &mut [f32],
    lhs: Matrix,
    rhs: Matrix,
    accumulate: bool,
) {
    let [m, n, k] = dims;
    let parallelism = if m * n * k >= 48 * 48 * 48 {
        Parallelism::Rayon(0)
    } else {
        Parallelism::None
    };
    product_with(dims, dst, lhs, rhs, accumulate, parallelism);
}

fn product_with(
    [m, n, k]: [usize; 3],
    dst: &mut [f32],
    lhs: Matrix,
    rhs: Matrix,
    accumulate: bool,
    parallelism: Parallelism,
) {
    assert!(dst.len() >= m * n && lhs.fits(m, k) && rhs.fits(k, n));
    // SAFETY: the assertion keeps every read inside the slices the matrices were made from,
    // which the caller's borrows keep alive, and every write inside `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.at,
            lhs.col,
            lhs.row,
            rhs.at,
            rhs.col,
            rhs.row,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Runs `per_image(image, output chunk)` over the batch, images in parallel where the shape
/// says so.
fn each_image(shape: &Shape, out: &mut [f32], per_image: impl Fn(usize, &mut [f32]) + Sync) {
    let size = out.len() / shape.batch.max(1);
    if shape.images_in_parallel() {
        out.par_chunks_mut(size)
            .enumerate()
            .for_each(|(n, o)| per_image(n, o));
    } else {
        out.chunks_mut(size)
            .enumerate()
            .for_each(|(n, o)| per_image(n, o));
    }
}

/// `y = act(W·x + bias)`, `weights` `[output, input]`.
pub fn forward(
    shape: &Shape,
    x: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    act: Activation,
) -> Vec<f32> {
    let Shape {
        input,
        output,
        pixels,
        ..
    } = *shape;
    let mut y = vec![0.0f32; shape.batch * output * pixels];
    let parallelism = shape.inner_parallelism(output, pixels, input);
    each_image(shape, &mut y, |n, y| {
        let x = &x[n * input * pixels..(n + 1) * input * pixels];
        product_with(
            [output, pixels, input],
            y,
            Matrix::row_major(weights, input),
            Matrix::row_major(x, pixels),
            false,
            parallelism,
        );
        for (c, plane) in y.chunks_exact_mut(pixels).enumerate() {
            if let Some(bias) = bias {
                plane.iter_mut().for_each(|v| *v += bias[c]);
            }
            act.apply(plane);
        }
    });
    y
}

/// `dx = Wᵀ·dy` per image.
pub fn input_gradient(shape: &Shape, dy: &[f32], weights: &[f32]) -> Vec<f32> {
    let Shape {
        input,
        output,
        pixels,
        ..
    } = *shape;
    let mut dx = vec![0.0f32; shape.batch * input * pixels];
    let parallelism = shape.inner_parallelism(input, pixels, output);
    each_image(shape, &mut dx, |n, dx| {
        let dy = &dy[n * output * pixels..(n + 1) * output * pixels];
        product_with(
            [input, pixels, output],
            dx,
            Matrix::row_major(weights, input).transposed(),
            Matrix::row_major(dy, pixels),
            false,
            parallelism,
        );
    });
    dx
}

/// `dW = Σₙ dyₙ·xₙᵀ`: each core sums its share of the images, then the shares are added.
pub fn weight_gradient(shape: &Shape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let Shape {
        batch,
        input,
        output,
        pixels,
    } = *shape;
    let shares = if shape.images_in_parallel() {
        rayon::current_num_threads().min(batch)
    } else {
        1
    };
    let parallelism = shape.inner_parallelism(output, input, pixels);
    let per_share = batch.div_ceil(shares);
    let partial = |share: usize| {
        let mut dw = vec![0.0f32; output * input];
        for n in share * per_share..((share + 1) * per_share).min(batch) {
            let x = &x[n * input * pixels..(n + 1) * input * pixels];
            let dy = &dy[n * output * pixels..(n + 1) * output * pixels];
            product_with(
                [output, input, pixels],
                &mut dw,
                Matrix::row_major(dy, pixels),
                Matrix::row_major(x, pixels).transposed(),
                n > share * per_share,
                parallelism,
            );
        }
        dw
    };
    (0..shares)
        .into_par_iter()
        .map(partial)
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            a
        })
        .unwrap_or_else(|| vec![0.0; output * input])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        super::super::test_values(n, seed, [-1.0, 1.0])
    }

    #[test]
    fn products_match_the_sums_they_stand_for() {
        for batch in [1, 3, 8] {
            let shape = Shape {
                batch,
                input: 5,
                output: 4,
                pixels: 6,
            };
            let x = values(batch * 5 * 6, 1);
            let w = values(4 * 5, 2);
            let dy = values(batch * 4 * 6, 3);
            let y = forward(&shape, &x, &w, None, Activation::None);
            let dx = input_gradient(&shape, &dy, &w);
            let dw = weight_gradient(&shape, &x, &dy);
            for n in 0..batch {
                for p in 0..6 {
                    for o in 0..4 {
                        let sum: f32 = (0..5).map(|i| w[o * 5 + i] * x[(n * 5 + i) * 6 + p]).sum();
                        assert!((y[(n * 4 + o) * 6 + p] - sum).abs() < 1e-5);
                    }
                    for i in 0..5 {
                        let sum: f32 = (0..4).map(|o| w[o * 5 + i] * dy[(n * 4 + o) * 6 + p]).sum();
                        assert!((dx[(n * 5 + i) * 6 + p] - sum).abs() < 1e-5);
                    }
                }
            }
            for o in 0..4 {
                for i in 0..5 {
                    let sum: f32 = (0..batch * 6)
                        .map(|np| {
                            let (n, p) = (np / 6, np % 6);
                            dy[(n * 4 + o) * 6 + p] * x[(n * 5 + i) * 6 + p]
                        })
                        .sum();
                    assert!((dw[o * 5 + i] - sum).abs() < 1e-4, "batch {batch}");
                }
            }
        }
    }
}
