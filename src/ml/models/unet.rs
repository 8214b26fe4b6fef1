//! The TensorFlow segmentation tutorial's U-Net on a MobileNetV2 encoder, as the nerve lab ran it
//! (seed-models.md §3): skips at the expand ReLUs of blocks 1, 3, 6 and 13, the bottom at block
//! 16's projection, pix2pix up blocks of 512/256/128/64 filters and a final transposed
//! convolution to two classes (background, nerve).

use burn::module::Module;
use burn::nn::conv::ConvTranspose2d;
use burn::tensor::{Device, Tensor};

use super::layers::{Norm, UpBlock, transposed};
use super::mobilenet_v2::{BLOCKS, MobileNetV2, MobileNetV2Config};

const SKIPS: [usize; 4] = [1, 3, 6, 13];
const FILTERS: [usize; 4] = [512, 256, 128, 64];
/// Background and nerve, as the lab's notebook (`OUTPUT_CHANNELS = 2`).
const CLASSES: usize = 2;

fn encoder_config() -> MobileNetV2Config {
    MobileNetV2Config {
        width: 1.0,
        blocks: BLOCKS,
        tail_expand: false,
        last_conv: false,
        final_project_bn: false,
        output_stride_16: false,
    }
}

#[derive(Module, Debug)]
pub struct UNetMobileNetV2 {
    pub encoder: MobileNetV2,
    pub up: Vec<UpBlock>,
    pub last: ConvTranspose2d,
}

impl UNetMobileNetV2 {
    pub fn new(device: &Device) -> Self {
        let config = encoder_config();
        let mut input = config.out_channels();
        let mut up = Vec::new();
        for (i, &f) in FILTERS.iter().enumerate() {
            up.push(UpBlock::new(input, f, Norm::Keras, device));
            input = f + config.expand_channels(SKIPS[SKIPS.len() - 1 - i]);
        }
        Self {
            encoder: config.init(Norm::Torch, device),
            up,
            last: transposed(input, CLASSES, true, device),
        }
    }

    /// Nerve logits `[batch, 1, H, W]`: the difference of the two class logits, so that its
    /// sigmoid is the softmax probability of "nerve".
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let (mut x, skips) = self.encoder.forward_taps(x, &SKIPS);
        for (up, skip) in self.up.iter().zip(skips.into_iter().rev()) {
            x = Tensor::cat(vec![up.forward(x), skip], 1);
        }
        let logits = crate::ml::kernels::conv_transpose(&self.last, x);
        let [n, _, h, w] = logits.dims();
        let background = logits.clone().slice([0..n, 0..1, 0..h, 0..w]);
        let nerve = logits.slice([0..n, 1..2, 0..h, 0..w]);
        nerve - background
    }
}
