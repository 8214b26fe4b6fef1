//! Our own CPU kernels for the layers where burn's generic operations cost the most (issue 17):
//! depthwise convolution (forward and both gradients), batch norm in training with its
//! activation fused, and the activations themselves with a branch-free backward.
//!
//! They are a burn backend extension ([`NerveKernels`]) implemented for the CPU backend (Flex)
//! and for autodiff over it, with our own backward passes. The layers call the functions at the
//! bottom of this file, which route a tensor on any other device (a GPU) to burn's own
//! operations, so the networks are one code on every device. `tests.rs` compares every kernel
//! with the plain burn operation on random inputs, forward and gradients, to 1e-4.

mod activation;
mod autodiff;
mod batch_norm;
mod depthwise;
mod flex;
mod lanes;
mod pointwise;
#[cfg(test)]
mod tests;
mod transposed;
mod window;

pub use activation::Activation;
pub use window::Window;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::module::Param;
use burn::nn::BatchNorm;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::{Device, Tensor};

/// The operations with kernels of our own. Arguments after the tensors describe the geometry.
#[backend_extension(Flex, Autodiff)]
pub trait NerveKernels: Backend {
    /// Depthwise convolution: `weight` is `[channels, 1, kh, kw]`, one kernel per channel.
    fn depthwise_conv(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        window: Window,
    ) -> FloatTensor<Self>;

    /// `act(depthwise_conv(x, weight) + bias)` for inference, in one pass.
    fn depthwise_conv_fused(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        window: Window,
        act: Activation,
    ) -> FloatTensor<Self>;

    /// 1x1 convolution with stride 1 and no padding: `weight` is `[out, in, 1, 1]`.
    fn pointwise_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `act(pointwise_conv(x, weight) + bias)` for inference, in one pass.
    fn pointwise_conv_fused(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        act: Activation,
    ) -> FloatTensor<Self>;

    /// Transposed convolution without groups: `weight` is `[in, out, kh, kw]`, `window` its
    /// kernel, stride, padding and dilation, `padding_out` the rows and columns added at the end.
    fn conv_transpose(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        window: Window,
        padding_out: [usize; 2],
    ) -> FloatTensor<Self>;

    /// The batch mean and biased variance of each channel of `[n, c, h, w]`, as `[2, c]`. Not
    /// differentiable: the gradient through the statistics is part of [`Self::batch_norm_train`].
    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `act(γ·(x − μ)/σ + β)` with the batch's statistics `moments` (from
    /// [`Self::channel_moments`] of the same `x`); its backward differentiates through them.
    fn batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        moments: FloatTensor<Self>,
        epsilon: f64,
        act: Activation,
    ) -> FloatTensor<Self>;

    /// ReLU or ReLU6, whose backward reads the output instead of building masks.
    fn activate(x: FloatTensor<Self>, act: Activation) -> FloatTensor<Self>;
}

/// Whether `x` lives where our kernels run (burn's CPU backend, with or without autodiff).
/// `NERVE_STUDIO_KERNELS=burn` sends everything to burn's own operations instead, to compare
/// speed and accuracy with and without our kernels in one build.
fn ours<const D: usize>(x: &Tensor<D>) -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let enabled = *ENABLED
        .get_or_init(|| std::env::var("NERVE_STUDIO_KERNELS").map_or(true, |v| v != "burn"));
    enabled && x.device().inner() == Device::flex()
}

/// The window of `conv` if it is a depthwise convolution our kernels take: one input channel per
/// group, symmetric padding.
fn depthwise_window(conv: &Conv2d) -> Option<Window> {
    let [out, per_group, _, _] = conv.weight.dims();
    if conv.groups <= 1 || per_group != 1 || out != conv.groups {
        return None;
    }
    let padding = match conv.padding {
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        PaddingConfig2d::Valid => [0, 0],
        _ => return None,
    };
    Some(Window {
        kernel: conv.kernel_size,
        stride: conv.stride,
        padding,
        dilation: conv.dilation,
    })
}

/// Whether `conv` is a 1x1 convolution with stride 1 and no padding: a matrix product.
fn is_pointwise(conv: &Conv2d) -> bool {
    let unpadded = matches!(
        conv.padding,
        PaddingConfig2d::Valid | PaddingConfig2d::Explicit(0, 0, 0, 0)
    );
    conv.kernel_size == [1, 1] && conv.stride == [1, 1] && conv.groups == 1 && unpadded
}

/// Which of our convolution kernels serves `conv`, if any.
#[derive(Clone, Copy)]
enum Kernel {
    Depthwise(Window),
    Pointwise,
}

/// `act(conv(x))`, through our depthwise or 1x1 kernels where they apply.
pub fn conv_act(conv: &Conv2d, x: Tensor<4>, act: Activation) -> Tensor<4> {
    let kernel = match depthwise_window(conv) {
        Some(window) => Kernel::Depthwise(window),
        None if is_pointwise(conv) => Kernel::Pointwise,
        None => return activate(conv.forward(x), act),
    };
    if !ours(&x) {
        return activate(conv.forward(x), act);
    }
    let (x, weight) = (x.into_dispatch(), conv.weight.val());
    let weight = weight.into_dispatch();
    match (&conv.bias, kernel) {
        // Inference: bias and activation in the same pass.
        (Some(bias), _) if !conv.weight.val().device().is_autodiff() => {
            let bias = bias.val().into_dispatch();
            Tensor::from_dispatch(match kernel {
                Kernel::Depthwise(w) => Dispatch::depthwise_conv_fused(x, weight, bias, w, act),
                Kernel::Pointwise => Dispatch::pointwise_conv_fused(x, weight, bias, act),
            })
        }
        (bias, _) => {
            let y = Tensor::<4>::from_dispatch(match kernel {
                Kernel::Depthwise(w) => Dispatch::depthwise_conv(x, weight, w),
                Kernel::Pointwise => Dispatch::pointwise_conv(x, weight),
            });
            activate(with_bias(y, bias), act)
        }
    }
}

/// `deconv(x)`, through our transposed-convolution kernel where it applies.
pub fn conv_transpose(deconv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    if deconv.groups != 1 || !ours(&x) {
        return deconv.forward(x);
    }
    let window = Window {
        kernel: deconv.kernel_size,
        stride: deconv.stride,
        padding: deconv.padding,
        dilation: deconv.dilation,
    };
    let y = Tensor::<4>::from_dispatch(Dispatch::conv_transpose(
        x.into_dispatch(),
        deconv.weight.val().into_dispatch(),
        window,
        deconv.padding_out,
    ));
    with_bias(y, &deconv.bias)
}

/// `y` plus a per-channel `bias`, if there is one.
fn with_bias(y: Tensor<4>, bias: &Option<Param<Tensor<1>>>) -> Tensor<4> {
    match bias {
        Some(b) => {
            let c = b.dims()[0];
            y.add(b.val().reshape([1, c, 1, 1]))
        }
        None => y,
    }
}

/// Reproducible test inputs in `[low, high)`: a xorshift sequence started from `seed`.
#[cfg(test)]
fn test_values(n: usize, seed: u32, [low, high]: [f32; 2]) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            low + (high - low) * (s % 10_000) as f32 / 10_000.0
        })
        .collect()
}

/// `act(bn(x))`: in training (an autodiff device and a batch norm that trains) with the batch's
/// statistics, updating the running ones as burn's `BatchNorm` does; otherwise with the running
/// statistics.
pub fn batch_norm_act(bn: &BatchNorm, x: Tensor<4>, act: Activation) -> Tensor<4> {
    let training = x.device().is_autodiff() && bn.training.is_enabled();
    if !(training && ours(&x)) {
        return activate(bn.forward(x), act);
    }
    let moments = Tensor::<2>::from_dispatch(Dispatch::channel_moments(
        x.clone().detach().into_dispatch(),
    ));
    let y = Tensor::<4>::from_dispatch(Dispatch::batch_norm_train(
        x.clone().into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
        moments.clone().into_dispatch(),
        bn.epsilon,
        act,
    ));
    let channels = moments.dims()[1];
    let device = x.device();
    let momentum = bn.momentum;
    let update = |running: Tensor<1>, row: usize| {
        let batch = moments
            .clone()
            .slice([row..row + 1, 0..channels])
            .reshape([channels]);
        running
            .to_device(&device)
            .mul_scalar(1.0 - momentum)
            .add(batch.mul_scalar(momentum))
            .detach()
    };
    bn.running_mean
        .update(update(bn.running_mean.value_sync(), 0));
    bn.running_var
        .update(update(bn.running_var.value_sync(), 1));
    y
}

/// `act(x)`.
pub fn activate<const D: usize>(x: Tensor<D>, act: Activation) -> Tensor<D> {
    if act == Activation::None {
        return x;
    }
    if !ours(&x) {
        return match act {
            Activation::Relu => burn::tensor::activation::relu(x),
            _ => burn::tensor::activation::relu6(x),
        };
    }
    Tensor::from_dispatch(Dispatch::activate(x.into_dispatch(), act))
}
