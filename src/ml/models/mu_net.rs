//! MU-Net (SSBC 2020, seed-models.md §1): a width-0.35 MobileNetV2 encoder cut at block 13's
//! expand ReLU, skips at the raw input and blocks 1, 3 and 6, and a decoder of nearest
//! upsampling and two conv-BN-ReLU per level (64/48/32/16 filters), one sigmoid output.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::ops::InterpolateMode;
use burn::tensor::{Device, Tensor};

use super::layers::{Act, ConvBn, ConvSpec, Norm, resize};
use super::mobilenet_v2::{MobileNetV2, MobileNetV2Config};

const SKIPS: [usize; 3] = [1, 3, 6];
const FILTERS: [usize; 4] = [64, 48, 32, 16];
pub const WIDTH: f64 = 0.35;
/// The block whose expand ReLU is the bottom of the U.
pub const BOTTOM_BLOCK: usize = 13;

fn encoder_config() -> MobileNetV2Config {
    MobileNetV2Config {
        width: WIDTH,
        blocks: BOTTOM_BLOCK,
        tail_expand: true,
        last_conv: false,
        final_project_bn: true,
        output_stride_16: false,
    }
}

/// Two 3x3 convolutions (with bias, as Keras), each with batch norm and ReLU.
#[derive(Module, Debug)]
pub struct DoubleConv {
    pub first: ConvBn,
    pub second: ConvBn,
}

impl DoubleConv {
    pub fn new(input: usize, output: usize, device: &Device) -> Self {
        let spec = |i| ConvSpec::new(i, output, 3).bias(true);
        Self {
            first: ConvBn::new(spec(input), Norm::Keras, Act::Relu, device),
            second: ConvBn::new(spec(output), Norm::Keras, Act::Relu, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.second.forward(self.first.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct MuNet {
    pub encoder: MobileNetV2,
    pub decoder: Vec<DoubleConv>,
    pub head: Conv2d,
}

impl MuNet {
    pub fn new(device: &Device) -> Self {
        let config = encoder_config();
        let mut skip_channels: Vec<usize> =
            SKIPS.iter().map(|&b| config.expand_channels(b)).collect();
        skip_channels.insert(0, 3);
        let mut input = config.out_channels();
        let mut decoder = Vec::new();
        for (i, &f) in FILTERS.iter().enumerate() {
            decoder.push(DoubleConv::new(
                input + skip_channels[skip_channels.len() - 1 - i],
                f,
                device,
            ));
            input = f;
        }
        Self {
            encoder: config.init(Norm::Torch, device),
            decoder,
            head: ConvSpec::new(input, 1, 1).bias(true).conv(device),
        }
    }

    /// Nerve logits `[batch, 1, H, W]` (the sigmoid is applied by the loss and at prediction).
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let (mut x, mut skips) = self.encoder.forward_taps(input.clone(), &SKIPS);
        skips.insert(0, input);
        for (block, skip) in self.decoder.iter().zip(skips.into_iter().rev()) {
            let [_, _, h, w] = skip.dims();
            x = resize(x, [h, w], InterpolateMode::Nearest);
            x = block.forward(Tensor::cat(vec![x, skip], 1));
        }
        self.head.forward(x)
    }
}
