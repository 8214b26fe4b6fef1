//! The small pieces every architecture is built from: a convolution with its batch norm and
//! activation, and the two normalisation conventions (PyTorch and Keras) the seed models use.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

use crate::ml::kernels::{self, Activation};

/// Which framework's BatchNorm defaults a layer follows (seed-models.md §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    /// torchvision: eps 1e-5, momentum 0.1.
    Torch,
    /// Keras' epsilon 1e-3. Keras' moving average of 0.99 (burn momentum 0.01) is not kept: at
    /// a lab's data sizes (a few batches an epoch) its running statistics still hold their
    /// random start after several epochs, and a decoder trained from scratch then validates
    /// near IoU 0 while it trains well. The running statistics follow torchvision's 0.1.
    Keras,
}

thread_local! {
    /// A momentum every batch norm built on this thread takes instead of its framework's.
    static MOMENTUM: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
}

/// Builds with every batch norm's running statistics at `momentum` (1.0: the statistics of the
/// next batch alone, used to measure them afresh; see `ml::calibrate`).
pub fn with_momentum<T>(momentum: f64, build: impl FnOnce() -> T) -> T {
    MOMENTUM.set(Some(momentum));
    let built = build();
    MOMENTUM.set(None);
    built
}

impl Norm {
    pub fn batch_norm(self, channels: usize, device: &Device) -> BatchNorm {
        let config = BatchNormConfig::new(channels);
        let config = match self {
            Norm::Torch => config.with_epsilon(1e-5).with_momentum(0.1),
            Norm::Keras => config.with_epsilon(1e-3).with_momentum(0.1),
        };
        match MOMENTUM.get() {
            Some(m) => config.with_momentum(m),
            None => config,
        }
        .init(device)
    }
}

/// The activation after a convolution's batch norm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Act {
    #[default]
    None,
    Relu,
    Relu6,
}

impl Act {
    pub fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        kernels::activate(x, self.kernel())
    }

    fn kernel(self) -> Activation {
        match self {
            Act::None => Activation::None,
            Act::Relu => Activation::Relu,
            Act::Relu6 => Activation::Relu6,
        }
    }
}

/// How a convolution is shaped; `conv` turns it into a layer.
#[derive(Clone, Copy, Debug)]
pub struct ConvSpec {
    pub input: usize,
    pub output: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub groups: usize,
    pub bias: bool,
}

impl ConvSpec {
    pub fn new(input: usize, output: usize, kernel: usize) -> Self {
        Self {
            input,
            output,
            kernel,
            stride: 1,
            dilation: 1,
            groups: 1,
            bias: false,
        }
    }
    pub fn stride(mut self, stride: usize) -> Self {
        self.stride = stride;
        self
    }
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.dilation = dilation;
        self
    }
    pub fn depthwise(mut self) -> Self {
        self.groups = self.input;
        self
    }
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
    /// "Same" padding for odd kernels, symmetric as in PyTorch.
    pub fn conv(self, device: &Device) -> Conv2d {
        let pad = self.dilation * (self.kernel - 1) / 2;
        Conv2dConfig::new([self.input, self.output], [self.kernel, self.kernel])
            .with_stride([self.stride, self.stride])
            .with_dilation([self.dilation, self.dilation])
            .with_groups(self.groups)
            .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
            .with_bias(self.bias)
            .init(device)
    }
}

/// Convolution, optional batch norm, activation: torchvision's `Conv2dNormActivation`.
#[derive(Module, Debug)]
pub struct ConvBn {
    pub conv: Conv2d,
    pub bn: Option<BatchNorm>,
    #[module(skip)]
    pub act: Act,
}

impl ConvBn {
    pub fn new(spec: ConvSpec, norm: Norm, act: Act, device: &Device) -> Self {
        Self {
            conv: spec.conv(device),
            bn: Some(norm.batch_norm(spec.output, device)),
            act,
        }
    }

    /// A convolution with no batch norm after it (its activation still applies).
    pub fn plain(spec: ConvSpec, act: Act, device: &Device) -> Self {
        Self {
            conv: spec.conv(device),
            bn: None,
            act,
        }
    }

    /// On the CPU the depthwise convolution, the batch norm and the activation run our own
    /// kernels (`ml::kernels`), the activation fused into the layer before it.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match &self.bn {
            Some(bn) => {
                let x = kernels::conv_act(&self.conv, x, Activation::None);
                kernels::batch_norm_act(bn, x, self.act.kernel())
            }
            None => kernels::conv_act(&self.conv, x, self.act.kernel()),
        }
    }
}

/// The pix2pix `upsample` block: 3x3 transposed convolution with stride 2, batch norm, ReLU.
/// For inference the batch norm is folded into the convolution (`bn` is then `None`).
#[derive(Module, Debug)]
pub struct UpBlock {
    pub deconv: ConvTranspose2d,
    pub bn: Option<BatchNorm>,
}

impl UpBlock {
    pub fn new(input: usize, output: usize, norm: Norm, device: &Device) -> Self {
        Self {
            deconv: transposed(input, output, false, device),
            bn: Some(norm.batch_norm(output, device)),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = kernels::conv_transpose(&self.deconv, x);
        match &self.bn {
            Some(bn) => kernels::batch_norm_act(bn, x, Activation::Relu),
            None => kernels::activate(x, Activation::Relu),
        }
    }
}

/// A 3x3, stride-2 transposed convolution that exactly doubles height and width. It is shifted by
/// one pixel against TensorFlow's 'same' (seed-models.md §7.3), which does not matter when the
/// weights are learned here.
pub fn transposed(input: usize, output: usize, bias: bool, device: &Device) -> ConvTranspose2d {
    ConvTranspose2dConfig::new([input, output], [3, 3])
        .with_stride([2, 2])
        .with_padding([1, 1])
        .with_padding_out([1, 1])
        .with_bias(bias)
        .init(device)
}

/// Resize a feature map (nearest for U-Net decoders, bilinear half-pixel as Keras/`tf.image`).
pub fn resize(x: Tensor<4>, size: [usize; 2], mode: InterpolateMode) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    if [h, w] == size {
        return x;
    }
    interpolate(
        x,
        InterpolateOptions::new(mode)
            .with_align_corners(false)
            .with_output_size(size),
    )
}

/// Global average pooling to `[batch, channels]`.
pub fn global_average(x: Tensor<4>) -> Tensor<2> {
    let [n, c, _, _] = x.dims();
    x.mean_dim(3).mean_dim(2).reshape([n, c])
}

/// `_make_divisible` of both Keras and torchvision: round channels to a multiple of 8, never
/// dropping more than 10%.
pub fn make_divisible(value: f64, divisor: usize) -> usize {
    let d = divisor as f64;
    let mut rounded = ((value + d / 2.0) / d).floor() as usize * divisor;
    rounded = rounded.max(divisor);
    if (rounded as f64) < 0.9 * value {
        rounded += divisor;
    }
    rounded
}

#[cfg(test)]
mod tests {
    use super::make_divisible;

    #[test]
    fn channel_rounding_matches_keras_for_width_035() {
        assert_eq!(make_divisible(32.0 * 0.35, 8), 16);
        assert_eq!(make_divisible(16.0 * 0.35, 8), 8);
        assert_eq!(make_divisible(96.0 * 0.35, 8), 32);
        assert_eq!(make_divisible(320.0, 8), 320);
    }
}
