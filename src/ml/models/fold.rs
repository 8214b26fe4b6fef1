//! Batch norm folded into the convolution before it, for inference (issue 17): at inference a
//! batch norm is a fixed per-channel scale and shift, so `bn(conv(x))` equals one convolution
//! with scaled weights and a bias. That removes the batch norm's passes over every activation
//! (and their allocations) from predict, pre-annotation, Review and the linked view. Training
//! never sees a folded network: it needs the batch norm's statistics.

use burn::module::Param;
use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;

use super::Network;
use super::aspp::Aspp;
use super::classifier::Backbone;
use super::deeplab::DeepLabEncoder;
use super::layers::{ConvBn, UpBlock};
use super::mobilenet_v2::{InvertedResidual, MobileNetV2};
use super::mu_net::DoubleConv;

/// A batch norm at inference as a per-channel scale γ/√(σ²+ε) and shift β − μ·scale.
fn scale_and_shift(bn: &BatchNorm) -> (Tensor<1>, Tensor<1>) {
    let scale = bn
        .gamma
        .val()
        .div(bn.running_var.value().add_scalar(bn.epsilon).sqrt());
    let shift = bn
        .beta
        .val()
        .sub(bn.running_mean.value().mul(scale.clone()));
    (scale, shift)
}

/// `conv` with `bn` folded in: weights scaled per output channel, bias `b·scale + shift`.
fn fold(mut conv: Conv2d, bn: BatchNorm) -> Conv2d {
    let (scale, shift) = scale_and_shift(&bn);
    let channels = scale.dims()[0];
    let bias = match conv.bias.take() {
        Some(b) => b.val().mul(scale.clone()).add(shift),
        None => shift,
    };
    let weight = conv.weight.val().mul(scale.reshape([channels, 1, 1, 1]));
    conv.weight = Param::from_tensor(weight);
    conv.bias = Some(Param::from_tensor(bias));
    conv
}

impl UpBlock {
    /// The same block for inference: a transposed convolution's weights are `[in, out, k, k]`,
    /// so the per-output-channel scale applies along their second axis.
    pub fn folded(mut self) -> UpBlock {
        let Some(bn) = self.bn.take() else {
            return self;
        };
        let (scale, shift) = scale_and_shift(&bn);
        let channels = scale.dims()[0];
        let bias = match self.deconv.bias.take() {
            Some(b) => b.val().mul(scale.clone()).add(shift),
            None => shift,
        };
        let weight = self
            .deconv
            .weight
            .val()
            .mul(scale.reshape([1, channels, 1, 1]));
        self.deconv.weight = Param::from_tensor(weight);
        self.deconv.bias = Some(Param::from_tensor(bias));
        self
    }
}

impl ConvBn {
    /// The same layer for inference, its batch norm folded into its convolution.
    pub fn folded(self) -> ConvBn {
        match self.bn {
            None => self,
            Some(bn) => ConvBn {
                conv: fold(self.conv, bn),
                bn: None,
                act: self.act,
            },
        }
    }
}

impl InvertedResidual {
    fn folded(self) -> Self {
        Self {
            expand: self.expand.map(ConvBn::folded),
            depthwise: self.depthwise.folded(),
            project: self.project.folded(),
            residual: self.residual,
        }
    }
}

impl MobileNetV2 {
    pub fn folded(self) -> Self {
        Self {
            stem: self.stem.folded(),
            blocks: self
                .blocks
                .into_iter()
                .map(InvertedResidual::folded)
                .collect(),
            tail: self.tail.map(ConvBn::folded),
            last: self.last.map(ConvBn::folded),
        }
    }
}

impl Aspp {
    fn folded(self) -> Self {
        Self {
            pooling: self.pooling.folded(),
            branches: self.branches.into_iter().map(ConvBn::folded).collect(),
            project: self.project.folded(),
        }
    }
}

impl Network {
    /// For inference: batch norms folded where they follow a convolution of ours (every
    /// MobileNetV2 layer, MU-Net's decoder, DeepLab's ASPP and decoder). ResNet, DenseNet and
    /// VGG layers keep theirs. Call it on a network that will not train again.
    pub fn folded(self) -> Network {
        match self {
            Network::Classifier(mut c) => {
                if let Backbone::MobileNet(m) = c.backbone {
                    c.backbone = Backbone::MobileNet(m.folded());
                }
                Network::Classifier(c)
            }
            Network::UNet(mut m) => {
                m.encoder = m.encoder.folded();
                m.up = m.up.into_iter().map(UpBlock::folded).collect();
                Network::UNet(m)
            }
            Network::MuNet(mut m) => {
                m.encoder = m.encoder.folded();
                m.decoder = m
                    .decoder
                    .into_iter()
                    .map(|b| DoubleConv {
                        first: b.first.folded(),
                        second: b.second.folded(),
                    })
                    .collect();
                Network::MuNet(m)
            }
            Network::DeepLab(mut m) => {
                if let DeepLabEncoder::MobileNet(e) = m.encoder {
                    m.encoder = DeepLabEncoder::MobileNet(e.folded());
                }
                m.aspp = m.aspp.folded();
                m.low = m.low.folded();
                m.fuse = m.fuse.into_iter().map(ConvBn::folded).collect();
                Network::DeepLab(m)
            }
            Network::DoubleUNet(mut m) => {
                m.aspp1 = m.aspp1.folded();
                m.aspp2 = m.aspp2.folded();
                Network::DoubleUNet(m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Arch, ModelSpec, Output};
    use burn::module::Module;
    use burn::tensor::{Distribution, Tensor};

    use crate::ml::device;

    /// Every architecture gives the same outputs folded, to 1e-4 relative, with batch-norm
    /// statistics that are not the identity (as after training).
    #[test]
    fn folded_networks_compute_what_they_computed() {
        let device = device::cpu().device;
        for arch in [
            Arch::MobilenetV2,
            Arch::UnetMobilenetV2,
            Arch::MuNet,
            Arch::Deeplabv3plusMobilenetV2,
        ] {
            // A few training steps' worth of statistics: one forward in training mode.
            let training = device.clone().autodiff();
            let trainer = ModelSpec::new(arch).build(&training);
            let x = Tensor::<4>::random([2, 3, 64, 64], Distribution::Normal(0.5, 1.0), &device);
            drop(trainer.forward(x.clone().to_device(&training)));
            let network = trainer.valid();
            let plain = network.forward(x.clone());
            let folded = network.folded().forward(x);
            let values = |o: Output| match o {
                Output::Classes(t) => crate::ml::infer::to_vec(t),
                Output::Masks(t) => crate::ml::infer::to_vec(t),
            };
            let (a, b) = (values(plain), values(folded));
            let scale = a.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
            let worst = a
                .iter()
                .zip(&b)
                .map(|(p, q)| (p - q).abs() / scale)
                .fold(0f32, f32::max);
            assert!(
                worst < 1e-4,
                "{arch}: folded differs by {worst} of the output's scale"
            );
        }
    }
}
