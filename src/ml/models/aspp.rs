//! Atrous spatial pyramid pooling (Chen et al. 2017): image pooling, a 1x1 branch and three
//! dilated 3x3 branches (rates 6, 12, 18), concatenated and projected.

use burn::module::Module;
use burn::tensor::ops::InterpolateMode;
use burn::tensor::{Device, Tensor};

use super::layers::{Act, ConvBn, ConvSpec, Norm, resize};

pub const RATES: [usize; 3] = [6, 12, 18];

#[derive(Module, Debug)]
pub struct Aspp {
    pub pooling: ConvBn,
    pub branches: Vec<ConvBn>,
    pub project: ConvBn,
}

impl Aspp {
    /// `pooling_bias`: DoubleU-Net's Keras ASPP has a bias on the image-pooling convolution,
    /// torchvision's DeepLab does not.
    pub fn new(
        input: usize,
        channels: usize,
        pooling_bias: bool,
        norm: Norm,
        device: &Device,
    ) -> Self {
        let branch = |spec: ConvSpec| ConvBn::new(spec, norm, Act::Relu, device);
        let mut branches = vec![branch(ConvSpec::new(input, channels, 1))];
        for rate in RATES {
            branches.push(branch(ConvSpec::new(input, channels, 3).dilation(rate)));
        }
        Self {
            pooling: branch(ConvSpec::new(input, channels, 1).bias(pooling_bias)),
            branches,
            project: branch(ConvSpec::new(channels * (RATES.len() + 2), channels, 1)),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        let pooled = self.pooling.forward(x.clone().mean_dim(3).mean_dim(2));
        let mut parts = vec![resize(pooled, [h, w], InterpolateMode::Nearest)];
        parts.extend(self.branches.iter().map(|b| b.forward(x.clone())));
        self.project.forward(Tensor::cat(parts, 1))
    }
}
