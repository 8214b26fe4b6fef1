//! MobileNetV2 (Sandler et al. 2018), laid out as torchvision's `mobilenet_v2` so its state dicts
//! load: `stem` is `features.0`, `blocks.k` is `features.(k+1)` (= Keras `block_k`, with block 0
//! Keras' `expanded_conv`), and `last` is `features.18`.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::layers::{Act, ConvBn, ConvSpec, Norm, make_divisible};

/// (expansion t, output channels c, repeats n, first stride s), torchvision's table.
const SETTINGS: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// Number of inverted-residual blocks (Keras `expanded_conv`, `block_1` .. `block_16`).
pub const BLOCKS: usize = 17;

/// Where the encoder stops and how it is strided.
#[derive(Clone, Copy, Debug)]
pub struct MobileNetV2Config {
    /// Width multiplier (Keras alpha): 1.0, or 0.35 for MU-Net.
    pub width: f64,
    /// How many whole blocks to build (17 for all of them).
    pub blocks: usize,
    /// Also build the expand convolution of the next block and end at its ReLU6 (MU-Net's bottom
    /// `block_13_expand_relu`).
    pub tail_expand: bool,
    /// The final 1x1 convolution to 1280 channels (`features.18`), used by classifiers.
    pub last_conv: bool,
    /// Keep the batch norm after the final block's projection. The TF U-Net's bottom is
    /// `block_16_project`, the convolution before its batch norm.
    pub final_project_bn: bool,
    /// Output stride 16 instead of 32: block 13 keeps stride 1 and later blocks dilate by 2
    /// (DeepLabV3+).
    pub output_stride_16: bool,
}

impl MobileNetV2Config {
    pub fn classifier() -> Self {
        Self {
            width: 1.0,
            blocks: BLOCKS,
            tail_expand: false,
            last_conv: true,
            final_project_bn: true,
            output_stride_16: false,
        }
    }

    pub fn with_width(mut self, width: f64) -> Self {
        self.width = width;
        self
    }

    /// Channels of each block's expand output (`block_k_expand_relu`), by block index.
    pub fn expand_channels(&self, block: usize) -> usize {
        let (input, t) = self.block_shapes()[block];
        input * t
    }

    /// Output channels of the whole encoder.
    pub fn out_channels(&self) -> usize {
        if self.last_conv {
            make_divisible(1280.0 * self.width.max(1.0), 8)
        } else if self.tail_expand {
            self.expand_channels(self.blocks)
        } else {
            self.block_outputs()[self.blocks - 1]
        }
    }

    fn block_outputs(&self) -> Vec<usize> {
        SETTINGS
            .iter()
            .flat_map(|&(_, c, n, _)| {
                std::iter::repeat_n(make_divisible(c as f64 * self.width, 8), n)
            })
            .collect()
    }

    /// (input channels, expansion) of each block.
    fn block_shapes(&self) -> Vec<(usize, usize)> {
        let outputs = self.block_outputs();
        let mut input = make_divisible(32.0 * self.width, 8);
        let mut shapes = Vec::with_capacity(BLOCKS);
        let mut k = 0;
        for &(t, _, n, _) in &SETTINGS {
            for _ in 0..n {
                shapes.push((input, t));
                input = outputs[k];
                k += 1;
            }
        }
        shapes
    }

    fn strides(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::with_capacity(BLOCKS);
        for &(_, _, n, s) in &SETTINGS {
            for i in 0..n {
                out.push((if i == 0 { s } else { 1 }, 1));
            }
        }
        if self.output_stride_16 {
            out[13].0 = 1;
            for entry in out.iter_mut().skip(14) {
                entry.1 = 2;
            }
        }
        out
    }

    pub fn init(&self, norm: Norm, device: &Device) -> MobileNetV2 {
        let stem_channels = make_divisible(32.0 * self.width, 8);
        let stem = ConvBn::new(
            ConvSpec::new(3, stem_channels, 3).stride(2),
            norm,
            Act::Relu6,
            device,
        );
        let outputs = self.block_outputs();
        let shapes = self.block_shapes();
        let strides = self.strides();
        let blocks = (0..self.blocks)
            .map(|k| {
                let (input, t) = shapes[k];
                let (stride, dilation) = strides[k];
                let project_bn = self.final_project_bn || k + 1 < self.blocks || self.tail_expand;
                InvertedResidual::new(
                    input, outputs[k], t, stride, dilation, project_bn, norm, device,
                )
            })
            .collect();
        let tail = self.tail_expand.then(|| {
            let (input, t) = shapes[self.blocks];
            ConvBn::new(ConvSpec::new(input, input * t, 1), norm, Act::Relu6, device)
        });
        let last = self.last_conv.then(|| {
            let input = outputs[self.blocks - 1];
            ConvBn::new(
                ConvSpec::new(input, self.out_channels(), 1),
                norm,
                Act::Relu6,
                device,
            )
        });
        MobileNetV2 {
            stem,
            blocks,
            tail,
            last,
        }
    }
}

/// An inverted residual: 1x1 expand, 3x3 depthwise, 1x1 linear projection.
#[derive(Module, Debug)]
pub struct InvertedResidual {
    pub expand: Option<ConvBn>,
    pub depthwise: ConvBn,
    pub project: ConvBn,
    #[module(skip)]
    pub residual: bool,
}

impl InvertedResidual {
    #[allow(clippy::too_many_arguments)]
    fn new(
        input: usize,
        output: usize,
        t: usize,
        stride: usize,
        dilation: usize,
        project_bn: bool,
        norm: Norm,
        device: &Device,
    ) -> Self {
        let hidden = input * t;
        let expand = (t != 1)
            .then(|| ConvBn::new(ConvSpec::new(input, hidden, 1), norm, Act::Relu6, device));
        let spec = ConvSpec::new(hidden, hidden, 3)
            .stride(stride)
            .dilation(dilation)
            .depthwise();
        let depthwise = ConvBn::new(spec, norm, Act::Relu6, device);
        let spec = ConvSpec::new(hidden, output, 1);
        let project = if project_bn {
            ConvBn::new(spec, norm, Act::None, device)
        } else {
            ConvBn::plain(spec, Act::None, device)
        };
        Self {
            expand,
            depthwise,
            project,
            residual: stride == 1 && input == output,
        }
    }

    /// The block's output, and its expand ReLU6 output (the Keras skip taps) when it has one.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Option<Tensor<4>>) {
        let expanded = self.expand.as_ref().map(|e| e.forward(x.clone()));
        let hidden = expanded.clone().unwrap_or_else(|| x.clone());
        let y = self.project.forward(self.depthwise.forward(hidden));
        let y = if self.residual { y + x } else { y };
        (y, expanded)
    }
}

#[derive(Module, Debug)]
pub struct MobileNetV2 {
    pub stem: ConvBn,
    pub blocks: Vec<InvertedResidual>,
    pub tail: Option<ConvBn>,
    pub last: Option<ConvBn>,
}

impl MobileNetV2 {
    /// Runs the encoder; returns its output and the expand ReLU6 outputs of the blocks in `taps`
    /// (in the order given).
    pub fn forward_taps(&self, x: Tensor<4>, taps: &[usize]) -> (Tensor<4>, Vec<Tensor<4>>) {
        let mut captured: Vec<Option<Tensor<4>>> = vec![None; taps.len()];
        let mut x = self.stem.forward(x);
        for (k, block) in self.blocks.iter().enumerate() {
            let (y, expanded) = block.forward(x);
            for (slot, _) in taps.iter().enumerate().filter(|(_, t)| **t == k) {
                captured[slot] = expanded.clone();
            }
            x = y;
        }
        if let Some(tail) = &self.tail {
            x = tail.forward(x);
        }
        if let Some(last) = &self.last {
            x = last.forward(x);
        }
        let taps = captured
            .into_iter()
            .map(|t| t.expect("tapped block has an expand layer"))
            .collect();
        (x, taps)
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_taps(x, &[]).0
    }
}

/// torchvision state-dict key -> this module's path, or None for keys it does not use.
pub fn torchvision_key(key: &str, prefix: &str) -> Option<String> {
    let rest = key.strip_prefix("features.")?;
    let (index, tail) = rest.split_once('.')?;
    let index: usize = index.parse().ok()?;
    let conv_bn = |tail: &str| -> Option<String> {
        let (part, leaf) = tail.split_once('.')?;
        Some(format!(
            "{}.{leaf}",
            if part == "0" { "conv" } else { "bn" }
        ))
    };
    let mapped = match index {
        0 => format!("stem.{}", conv_bn(tail)?),
        18 => format!("last.{}", conv_bn(tail)?),
        i => {
            let block = i - 1;
            let tail = tail.strip_prefix("conv.")?;
            let (part, rest) = tail.split_once('.')?;
            let part: usize = part.parse().ok()?;
            // Block 0 has no expand layer: its parts are shifted down by one.
            let part = if block == 0 { part + 1 } else { part };
            match part {
                0 => format!("blocks.{block}.expand.{}", conv_bn(rest)?),
                1 => format!("blocks.{block}.depthwise.{}", conv_bn(rest)?),
                2 => format!("blocks.{block}.project.conv.{rest}"),
                3 => format!("blocks.{block}.project.bn.{rest}"),
                _ => return None,
            }
        }
    };
    Some(format!("{prefix}{mapped}"))
}
