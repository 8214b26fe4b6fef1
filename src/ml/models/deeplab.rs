//! DeepLabV3+ (Chen et al. 2018) at output stride 16 on a MobileNetV2 or ResNet50 encoder:
//! ASPP (rates 6/12/18, 256 channels), a decoder joining the stride-4 features (projected to 48
//! channels), two 3x3 convolutions and a 1x1 nerve logit, upsampled bilinearly to the input.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::ops::InterpolateMode;
use burn::tensor::{Device, Tensor};

use super::aspp::Aspp;
use super::layers::{Act, ConvBn, ConvSpec, Norm, resize};
use super::mobilenet_v2::{BLOCKS, MobileNetV2, MobileNetV2Config};
use super::resnet::{self, ResNet};

const ASPP_CHANNELS: usize = 256;
const LOW_CHANNELS: usize = 48;
/// MobileNetV2's stride-4 tap: block 3's expand ReLU (144 channels).
const MOBILENET_LOW_BLOCK: usize = 3;

// One network exists at a time and its variants hold tensor handles, not tensors: boxing
// the larger variants would save nothing worth the indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum DeepLabEncoder {
    MobileNet(MobileNetV2),
    ResNet(ResNet),
}

impl DeepLabEncoder {
    fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        match self {
            DeepLabEncoder::MobileNet(m) => {
                let (out, mut taps) = m.forward_taps(x, &[MOBILENET_LOW_BLOCK]);
                (out, taps.remove(0))
            }
            DeepLabEncoder::ResNet(r) => r.forward_low(x),
        }
    }
}

#[derive(Module, Debug)]
pub struct DeepLabV3Plus {
    pub encoder: DeepLabEncoder,
    pub aspp: Aspp,
    pub low: ConvBn,
    pub fuse: Vec<ConvBn>,
    pub head: Conv2d,
}

impl DeepLabV3Plus {
    pub fn mobilenet_v2(device: &Device) -> Self {
        let config = MobileNetV2Config {
            width: 1.0,
            blocks: BLOCKS,
            tail_expand: false,
            last_conv: false,
            final_project_bn: true,
            output_stride_16: true,
        };
        let encoder = DeepLabEncoder::MobileNet(config.init(Norm::Torch, device));
        Self::with_encoder(
            encoder,
            config.out_channels(),
            config.expand_channels(MOBILENET_LOW_BLOCK),
            device,
        )
    }

    pub fn resnet50(device: &Device) -> Self {
        let encoder = DeepLabEncoder::ResNet(ResNet::new(resnet::Depth::D50, true, device));
        Self::with_encoder(
            encoder,
            resnet::OUT_CHANNELS,
            resnet::LAYER1_CHANNELS,
            device,
        )
    }

    fn with_encoder(encoder: DeepLabEncoder, out: usize, low: usize, device: &Device) -> Self {
        let norm = Norm::Torch;
        let conv = |i, o, k| ConvBn::new(ConvSpec::new(i, o, k), norm, Act::Relu, device);
        Self {
            encoder,
            aspp: Aspp::new(out, ASPP_CHANNELS, false, norm, device),
            low: conv(low, LOW_CHANNELS, 1),
            fuse: vec![
                conv(ASPP_CHANNELS + LOW_CHANNELS, ASPP_CHANNELS, 3),
                conv(ASPP_CHANNELS, ASPP_CHANNELS, 3),
            ],
            head: ConvSpec::new(ASPP_CHANNELS, 1, 1).bias(true).conv(device),
        }
    }

    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = input.dims();
        let (x, low) = self.encoder.forward(input);
        let low = self.low.forward(low);
        let [_, _, lh, lw] = low.dims();
        let x = resize(self.aspp.forward(x), [lh, lw], InterpolateMode::Bilinear);
        let x = self
            .fuse
            .iter()
            .fold(Tensor::cat(vec![x, low], 1), |x, c| c.forward(x));
        resize(self.head.forward(x), [h, w], InterpolateMode::Bilinear)
    }
}
