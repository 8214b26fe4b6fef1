//! DoubleU-Net (Jha et al., CBMS 2020), the Keras model of the nerve lab (seed-models.md §4):
//! a VGG19 encoder, ASPP, a decoder of squeeze-and-excite conv blocks giving a first mask; the
//! input gated by that mask feeds a second U-Net whose decoder also sees the first encoder's skips.
//! Output: two nerve-logit channels (first and second network); the second is the prediction.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::ops::InterpolateMode;
use burn::tensor::{Device, Tensor};

use super::aspp::Aspp;
use super::layers::{Act, ConvBn, ConvSpec, Norm, global_average, resize};

/// VGG19's convolutions per block (torchvision `features` indices follow from it).
const VGG19: [usize; 5] = [2, 2, 4, 4, 4];
const VGG_CHANNELS: [usize; 5] = [64, 128, 256, 512, 512];
const DECODER: [usize; 4] = [256, 128, 64, 32];
const ENCODER2: [usize; 4] = [32, 64, 128, 256];
const ASPP_CHANNELS: usize = 64;
const SE_RATIO: usize = 8;

fn max_pool(x: Tensor<4>) -> Tensor<4> {
    MaxPool2dConfig::new([2, 2])
        .with_strides([2, 2])
        .init()
        .forward(x)
}

fn double(x: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    resize(x, [h * 2, w * 2], InterpolateMode::Bilinear)
}

/// VGG19's convolutional part (`features` of torchvision's `vgg19`), ReLU after each convolution.
#[derive(Module, Debug)]
pub struct Vgg19 {
    pub convs: Vec<Conv2d>,
}

impl Vgg19 {
    fn new(device: &Device) -> Self {
        let mut convs = Vec::new();
        let mut input = 3;
        for (n, c) in VGG19.iter().zip(VGG_CHANNELS) {
            for _ in 0..*n {
                convs.push(ConvSpec::new(input, c, 3).bias(true).conv(device));
                input = c;
            }
        }
        Self { convs }
    }

    /// The last output of blocks 1-4 (skips) and block 5's last convolution (no final pool).
    fn forward(&self, mut x: Tensor<4>) -> (Tensor<4>, Vec<Tensor<4>>) {
        let mut skips = Vec::new();
        let mut k = 0;
        for (b, n) in VGG19.iter().enumerate() {
            if b > 0 {
                x = max_pool(x);
            }
            for _ in 0..*n {
                x = relu(self.convs[k].forward(x));
                k += 1;
            }
            if b < 4 {
                skips.push(x.clone());
            }
        }
        (x, skips)
    }
}

/// torchvision `features.N` key -> `convs.k`.
pub fn vgg19_key(key: &str, prefix: &str) -> Option<String> {
    let rest = key.strip_prefix("features.")?;
    let (index, leaf) = rest.split_once('.')?;
    let index: usize = index.parse().ok()?;
    // torchvision interleaves ReLUs and pools: conv k sits at index 2k plus one per pool before it.
    let mut position = 0;
    let mut k = 0;
    for n in VGG19 {
        for _ in 0..n {
            if position == index {
                return Some(format!("{prefix}convs.{k}.{leaf}"));
            }
            position += 2;
            k += 1;
        }
        position += 1;
    }
    None
}

/// Squeeze and excite: channel weights from the global average (no biases, as the Keras code).
#[derive(Module, Debug)]
pub struct SqueezeExcite {
    pub reduce: Linear,
    pub expand: Linear,
}

impl SqueezeExcite {
    fn new(channels: usize, device: &Device) -> Self {
        let linear = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        Self {
            reduce: linear(channels, channels / SE_RATIO),
            expand: linear(channels / SE_RATIO, channels),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, _, _] = x.dims();
        let s = sigmoid(
            self.expand
                .forward(relu(self.reduce.forward(global_average(x.clone())))),
        );
        x * s.reshape([n, c, 1, 1])
    }
}

#[derive(Module, Debug)]
pub struct ConvBlock {
    pub first: ConvBn,
    pub second: ConvBn,
    pub se: SqueezeExcite,
}

impl ConvBlock {
    fn new(input: usize, output: usize, device: &Device) -> Self {
        let conv = |i| {
            ConvBn::new(
                ConvSpec::new(i, output, 3).bias(true),
                Norm::Keras,
                Act::Relu,
                device,
            )
        };
        Self {
            first: conv(input),
            second: conv(output),
            se: SqueezeExcite::new(output, device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.se.forward(self.second.forward(self.first.forward(x)))
    }
}

#[derive(Module, Debug)]
pub struct DoubleUNet {
    pub encoder1: Vgg19,
    pub aspp1: Aspp,
    pub decoder1: Vec<ConvBlock>,
    pub out1: Conv2d,
    pub encoder2: Vec<ConvBlock>,
    pub aspp2: Aspp,
    pub decoder2: Vec<ConvBlock>,
    pub out2: Conv2d,
}

impl DoubleUNet {
    pub fn new(device: &Device) -> Self {
        let skips1: Vec<usize> = VGG_CHANNELS[..4].iter().rev().copied().collect();
        let skips2: Vec<usize> = ENCODER2.iter().rev().copied().collect();
        let mut decoder1 = Vec::new();
        let mut decoder2 = Vec::new();
        let mut input1 = ASPP_CHANNELS;
        let mut input2 = ASPP_CHANNELS;
        for (i, &f) in DECODER.iter().enumerate() {
            decoder1.push(ConvBlock::new(input1 + skips1[i], f, device));
            decoder2.push(ConvBlock::new(input2 + skips1[i] + skips2[i], f, device));
            input1 = f;
            input2 = f;
        }
        let mut encoder2 = Vec::new();
        let mut input = 3;
        for &f in &ENCODER2 {
            encoder2.push(ConvBlock::new(input, f, device));
            input = f;
        }
        let head = |i| ConvSpec::new(i, 1, 1).bias(true).conv(device);
        Self {
            encoder1: Vgg19::new(device),
            aspp1: Aspp::new(VGG_CHANNELS[4], ASPP_CHANNELS, true, Norm::Keras, device),
            decoder1,
            out1: head(DECODER[3]),
            encoder2,
            aspp2: Aspp::new(ENCODER2[3], ASPP_CHANNELS, true, Norm::Keras, device),
            decoder2,
            out2: head(DECODER[3]),
        }
    }

    /// `[batch, 2, H, W]`: the first network's and the second network's nerve logits.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let (x, skips1) = self.encoder1.forward(input.clone());
        let mut x = self.aspp1.forward(x);
        for (block, skip) in self.decoder1.iter().zip(skips1.iter().rev()) {
            x = block.forward(Tensor::cat(vec![double(x), skip.clone()], 1));
        }
        let out1 = self.out1.forward(x);

        let mut x = input * sigmoid(out1.clone());
        let mut skips2 = Vec::new();
        for block in &self.encoder2 {
            x = block.forward(x);
            skips2.push(x.clone());
            x = max_pool(x);
        }
        let mut x = self.aspp2.forward(x);
        for (i, block) in self.decoder2.iter().enumerate() {
            let a = skips1[3 - i].clone();
            let b = skips2[3 - i].clone();
            x = block.forward(Tensor::cat(vec![double(x), a, b], 1));
        }
        Tensor::cat(vec![out1, self.out2.forward(x)], 1)
    }
}
