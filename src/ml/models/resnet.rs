//! ResNet50 and ResNet101 (He et al. 2016, torchvision's v1.5: the stride sits on the 3x3
//! convolution). Field names are torchvision's (`conv1`, `bn1`, `layer1.0.conv1`, ...), so only
//! `downsample.0/1` and the `fc` head need renaming on import.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::layers::{Act, ConvBn, ConvSpec, Norm};

/// Which ResNet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    D50,
    D101,
}

impl Depth {
    fn layers(self) -> [usize; 4] {
        match self {
            Depth::D50 => [3, 4, 6, 3],
            Depth::D101 => [3, 4, 23, 3],
        }
    }
}

pub const OUT_CHANNELS: usize = 2048;
/// Channels of `layer1`'s output (stride 4), DeepLabV3+'s low-level features.
pub const LAYER1_CHANNELS: usize = 256;

#[derive(Module, Debug)]
pub struct Bottleneck {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub conv3: Conv2d,
    pub bn3: BatchNorm,
    pub downsample: Option<ConvBn>,
}

impl Bottleneck {
    fn new(input: usize, width: usize, stride: usize, dilation: usize, device: &Device) -> Self {
        let norm = Norm::Torch;
        let output = width * 4;
        let downsample = (stride != 1 || input != output).then(|| {
            ConvBn::new(
                ConvSpec::new(input, output, 1).stride(stride),
                norm,
                Act::None,
                device,
            )
        });
        Self {
            conv1: ConvSpec::new(input, width, 1).conv(device),
            bn1: norm.batch_norm(width, device),
            conv2: ConvSpec::new(width, width, 3)
                .stride(stride)
                .dilation(dilation)
                .conv(device),
            bn2: norm.batch_norm(width, device),
            conv3: ConvSpec::new(width, output, 1).conv(device),
            bn3: norm.batch_norm(output, device),
            downsample,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(d) => d.forward(x.clone()),
            None => x.clone(),
        };
        let y = relu(self.bn1.forward(self.conv1.forward(x)));
        let y = relu(self.bn2.forward(self.conv2.forward(y)));
        let y = self.bn3.forward(self.conv3.forward(y));
        relu(y + identity)
    }
}

#[derive(Module, Debug)]
pub struct ResNet {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub layer1: Vec<Bottleneck>,
    pub layer2: Vec<Bottleneck>,
    pub layer3: Vec<Bottleneck>,
    pub layer4: Vec<Bottleneck>,
}

impl ResNet {
    /// `output_stride_16` dilates `layer4` instead of striding it (DeepLabV3+).
    pub fn new(depth: Depth, output_stride_16: bool, device: &Device) -> Self {
        let counts = depth.layers();
        let mut input = 64;
        let mut dilation = 1;
        let mut make = |i: usize, width: usize, stride: usize, dilate: bool| {
            let previous = dilation;
            let stride = if dilate {
                dilation *= stride;
                1
            } else {
                stride
            };
            (0..counts[i])
                .map(|b| {
                    let block = if b == 0 {
                        Bottleneck::new(input, width, stride, previous, device)
                    } else {
                        Bottleneck::new(input, width, 1, dilation, device)
                    };
                    input = width * 4;
                    block
                })
                .collect::<Vec<_>>()
        };
        let layer1 = make(0, 64, 1, false);
        let layer2 = make(1, 128, 2, false);
        let layer3 = make(2, 256, 2, false);
        let layer4 = make(3, 512, 2, output_stride_16);
        let conv1 = ConvSpec::new(3, 64, 7).stride(2).conv(device);
        Self {
            conv1,
            bn1: Norm::Torch.batch_norm(64, device),
            layer1,
            layer2,
            layer3,
            layer4,
        }
    }

    /// The final feature map and `layer1`'s output.
    pub fn forward_low(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let x = relu(self.bn1.forward(self.conv1.forward(x)));
        let x = MaxPool2dConfig::new([3, 3])
            .with_strides([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init()
            .forward(x);
        let run = |x: Tensor<4>, layer: &[Bottleneck]| layer.iter().fold(x, |x, b| b.forward(x));
        let low = run(x, &self.layer1);
        let x = run(low.clone(), &self.layer2);
        let x = run(x, &self.layer3);
        (run(x, &self.layer4), low)
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_low(x).0
    }
}

/// torchvision key -> this module's path.
pub fn torchvision_key(key: &str, prefix: &str) -> Option<String> {
    if !(key.starts_with("conv1.") || key.starts_with("bn1.") || key.starts_with("layer")) {
        return None;
    }
    let key = key
        .replace(".downsample.0.", ".downsample.conv.")
        .replace(".downsample.1.", ".downsample.bn.");
    Some(format!("{prefix}{key}"))
}
