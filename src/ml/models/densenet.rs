//! DenseNet169 and DenseNet201 (Huang et al. 2017) as torchvision builds them (growth 32,
//! bottleneck 4x, 64 initial features, transitions halving the channels).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use super::layers::{ConvSpec, Norm};
use crate::ml::kernels::{Activation, batch_norm_act};

/// DenseNet's pre-activation: batch norm, then ReLU, fused on the CPU.
fn bn_relu(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    batch_norm_act(bn, x, Activation::Relu)
}

const GROWTH: usize = 32;
const BOTTLENECK: usize = 4;
const INITIAL: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    D169,
    D201,
}

impl Depth {
    fn blocks(self) -> [usize; 4] {
        match self {
            Depth::D169 => [6, 12, 32, 32],
            Depth::D201 => [6, 12, 48, 32],
        }
    }

    /// Channels of the final feature map (1664 or 1920).
    pub fn out_channels(self) -> usize {
        let mut c = INITIAL;
        for (i, n) in self.blocks().iter().enumerate() {
            c += n * GROWTH;
            if i < 3 {
                c /= 2;
            }
        }
        c
    }
}

#[derive(Module, Debug)]
pub struct DenseLayer {
    pub norm1: BatchNorm,
    pub conv1: Conv2d,
    pub norm2: BatchNorm,
    pub conv2: Conv2d,
}

impl DenseLayer {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self.conv1.forward(bn_relu(&self.norm1, x.clone()));
        let y = self.conv2.forward(bn_relu(&self.norm2, y));
        Tensor::cat(vec![x, y], 1)
    }
}

#[derive(Module, Debug)]
pub struct DenseBlock {
    pub layers: Vec<DenseLayer>,
}

#[derive(Module, Debug)]
pub struct Transition {
    pub norm: BatchNorm,
    pub conv: Conv2d,
}

#[derive(Module, Debug)]
pub struct DenseNet {
    pub conv0: Conv2d,
    pub norm0: BatchNorm,
    pub blocks: Vec<DenseBlock>,
    pub transitions: Vec<Transition>,
    pub norm5: BatchNorm,
}

impl DenseNet {
    pub fn new(depth: Depth, device: &Device) -> Self {
        let norm = Norm::Torch;
        let conv0 = ConvSpec::new(3, INITIAL, 7).stride(2).conv(device);
        let mut channels = INITIAL;
        let mut blocks = Vec::new();
        let mut transitions = Vec::new();
        for (i, &n) in depth.blocks().iter().enumerate() {
            let layers = (0..n)
                .map(|j| {
                    let input = channels + j * GROWTH;
                    DenseLayer {
                        norm1: norm.batch_norm(input, device),
                        conv1: ConvSpec::new(input, BOTTLENECK * GROWTH, 1).conv(device),
                        norm2: norm.batch_norm(BOTTLENECK * GROWTH, device),
                        conv2: ConvSpec::new(BOTTLENECK * GROWTH, GROWTH, 3).conv(device),
                    }
                })
                .collect();
            blocks.push(DenseBlock { layers });
            channels += n * GROWTH;
            if i < 3 {
                transitions.push(Transition {
                    norm: norm.batch_norm(channels, device),
                    conv: ConvSpec::new(channels, channels / 2, 1).conv(device),
                });
                channels /= 2;
            }
        }
        Self {
            conv0,
            norm0: norm.batch_norm(INITIAL, device),
            blocks,
            transitions,
            norm5: norm.batch_norm(channels, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = bn_relu(&self.norm0, self.conv0.forward(x));
        let mut x = MaxPool2dConfig::new([3, 3])
            .with_strides([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init()
            .forward(x);
        for (i, block) in self.blocks.iter().enumerate() {
            x = block.layers.iter().fold(x, |x, layer| layer.forward(x));
            if let Some(t) = self.transitions.get(i) {
                x = t.conv.forward(bn_relu(&t.norm, x));
                x = AvgPool2dConfig::new([2, 2])
                    .with_strides([2, 2])
                    .init()
                    .forward(x);
            }
        }
        bn_relu(&self.norm5, x)
    }
}

/// The published DenseNet files keep torchvision's legacy names (`norm.1.weight`), which
/// torchvision renames to `norm1.weight` when it loads them: so do we.
fn modern_leaf(leaf: &str) -> String {
    for (legacy, modern) in [
        ("norm.1.", "norm1."),
        ("relu.1.", "relu1."),
        ("conv.1.", "conv1."),
        ("norm.2.", "norm2."),
        ("relu.2.", "relu2."),
        ("conv.2.", "conv2."),
    ] {
        if let Some(rest) = leaf.strip_prefix(legacy) {
            return format!("{modern}{rest}");
        }
    }
    leaf.to_string()
}

/// torchvision key (`features.denseblock3.denselayer7.conv1.weight`) -> this module's path.
pub fn torchvision_key(key: &str, prefix: &str) -> Option<String> {
    let rest = key.strip_prefix("features.")?;
    let (part, leaf) = rest.split_once('.')?;
    let number = |s: &str, p: &str| s.strip_prefix(p)?.parse::<usize>().ok().filter(|n| *n > 0);
    let mapped = if let Some(b) = number(part, "denseblock") {
        let (layer, leaf) = leaf.split_once('.')?;
        let l = number(layer, "denselayer")?;
        format!("blocks.{}.layers.{}.{}", b - 1, l - 1, modern_leaf(leaf))
    } else if let Some(t) = number(part, "transition") {
        format!("transitions.{}.{leaf}", t - 1)
    } else if matches!(part, "conv0" | "norm0" | "norm5") {
        format!("{part}.{leaf}")
    } else {
        return None;
    };
    Some(format!("{prefix}{mapped}"))
}
