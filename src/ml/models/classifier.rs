//! The lab's classifiers: an ImageNet backbone, then global average pooling -> dropout ->
//! linear(classes), as the transfer-learning notebooks built them.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use super::densenet::{self, DenseNet};
use super::layers::{Norm, global_average};
use super::mobilenet_v2::{MobileNetV2, MobileNetV2Config};
use super::resnet::{self, ResNet};

// One network exists at a time and its variants hold tensor handles, not tensors: boxing
// the larger variants would save nothing worth the indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Backbone {
    MobileNet(MobileNetV2),
    ResNet(ResNet),
    DenseNet(DenseNet),
}

/// Which backbone, with its options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BackboneKind {
    MobileNetV2 { width: f64 },
    ResNet(resnet::Depth),
    DenseNet(densenet::Depth),
}

impl BackboneKind {
    pub fn out_channels(self) -> usize {
        match self {
            BackboneKind::MobileNetV2 { width } => MobileNetV2Config::classifier()
                .with_width(width)
                .out_channels(),
            BackboneKind::ResNet(_) => resnet::OUT_CHANNELS,
            BackboneKind::DenseNet(d) => d.out_channels(),
        }
    }

    fn init(self, device: &Device) -> Backbone {
        match self {
            BackboneKind::MobileNetV2 { width } => Backbone::MobileNet(
                MobileNetV2Config::classifier()
                    .with_width(width)
                    .init(Norm::Torch, device),
            ),
            BackboneKind::ResNet(d) => Backbone::ResNet(ResNet::new(d, false, device)),
            BackboneKind::DenseNet(d) => Backbone::DenseNet(DenseNet::new(d, device)),
        }
    }
}

impl Backbone {
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            Backbone::MobileNet(m) => m.forward(x),
            Backbone::ResNet(r) => r.forward(x),
            Backbone::DenseNet(d) => d.forward(x),
        }
    }

    /// The backbone as an ordered list of freezable units (stem, each block, the last layer),
    /// for the fine-tune point: units before it stay frozen in the second stage.
    pub fn units(&self) -> usize {
        match self {
            Backbone::MobileNet(m) => 1 + m.blocks.len() + usize::from(m.last.is_some()),
            Backbone::ResNet(r) => {
                1 + r.layer1.len() + r.layer2.len() + r.layer3.len() + r.layer4.len()
            }
            Backbone::DenseNet(d) => {
                2 + d.blocks.iter().map(|b| b.layers.len()).sum::<usize>() + d.transitions.len()
            }
        }
    }

    /// Freeze every unit before `from` and unfreeze the rest.
    pub fn unfreeze_from(self, from: usize) -> Self {
        let mut units = Units { next: 0, from };
        match self {
            Backbone::MobileNet(mut m) => {
                m.stem = units.one(m.stem);
                m.blocks = units.each(m.blocks);
                // MU-Net's tail belongs to the block it starts.
                m.tail = m.tail.map(|t| units.same(t));
                m.last = m.last.map(|l| units.one(l));
                Backbone::MobileNet(m)
            }
            Backbone::ResNet(mut r) => {
                r.conv1 = units.one(r.conv1);
                r.bn1 = units.same(r.bn1);
                r.layer1 = units.each(r.layer1);
                r.layer2 = units.each(r.layer2);
                r.layer3 = units.each(r.layer3);
                r.layer4 = units.each(r.layer4);
                Backbone::ResNet(r)
            }
            Backbone::DenseNet(mut d) => {
                d.conv0 = units.one(d.conv0);
                d.norm0 = units.same(d.norm0);
                let mut transitions = d.transitions.into_iter();
                let mut kept = Vec::new();
                for block in &mut d.blocks {
                    block.layers = units.each(std::mem::take(&mut block.layers));
                    if let Some(t) = transitions.next() {
                        kept.push(units.one(t));
                    }
                }
                d.transitions = kept;
                d.norm5 = units.one(d.norm5);
                Backbone::DenseNet(d)
            }
        }
    }
}

/// Numbers a backbone's freezable units in order and sets each one trainable from `from` on.
struct Units {
    next: usize,
    from: usize,
}

impl Units {
    /// The next unit.
    fn one<M: Module>(&mut self, module: M) -> M {
        self.next += 1;
        self.same(module)
    }

    /// Part of the unit just numbered.
    fn same<M: Module>(&self, module: M) -> M {
        toggle(module, self.next > self.from)
    }

    fn each<M: Module>(&mut self, modules: Vec<M>) -> Vec<M> {
        modules.into_iter().map(|m| self.one(m)).collect()
    }
}

pub fn toggle<M: Module>(module: M, trainable: bool) -> M {
    if trainable {
        module.unfreeze()
    } else {
        module.freeze()
    }
}

#[derive(Module, Debug)]
pub struct Classifier {
    pub backbone: Backbone,
    pub dropout: Dropout,
    pub head: Linear,
}

impl Classifier {
    pub fn new(kind: BackboneKind, classes: usize, dropout: f64, device: &Device) -> Self {
        Self {
            backbone: kind.init(device),
            dropout: DropoutConfig::new(dropout).init(),
            head: LinearConfig::new(kind.out_channels(), classes).init(device),
        }
    }

    /// Class logits `[batch, classes]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let features = global_average(self.backbone.forward(x));
        self.head.forward(self.dropout.forward(features))
    }
}
