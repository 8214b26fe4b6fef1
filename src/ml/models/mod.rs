//! The architectures the lab uses, by their DESIGN.md ids, behind one `Network` type.

pub mod aspp;
pub mod classifier;
pub mod deeplab;
pub mod densenet;
pub mod double_unet;
pub mod fold;
pub mod layers;
pub mod mobilenet_v2;
pub mod mu_net;
pub mod resnet;
pub mod unet;

use std::fmt;

use burn::module::Module;
use burn::store::ModuleSnapshot;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use classifier::{BackboneKind, Classifier, toggle};
use deeplab::DeepLabV3Plus;
use double_unet::DoubleUNet;
use mu_net::MuNet;
use unet::UNetMobileNetV2;

/// Classify whole images, or segment nerve pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Classify,
    Segment,
}

impl Task {
    /// What a model of this task is called: "classifier" or "segmenter".
    pub fn role(self) -> &'static str {
        match self {
            Task::Classify => "classifier",
            Task::Segment => "segmenter",
        }
    }
}

/// An architecture id (DESIGN.md: `mobilenet_v2`, ..., `double_unet`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    MobilenetV2,
    Resnet50,
    Resnet101,
    Densenet169,
    Densenet201,
    UnetMobilenetV2,
    MuNet,
    #[serde(rename = "deeplabv3plus_mobilenet_v2")]
    Deeplabv3plusMobilenetV2,
    #[serde(rename = "deeplabv3plus_resnet50")]
    Deeplabv3plusResnet50,
    DoubleUnet,
}

impl Arch {
    pub const ALL: [Arch; 10] = [
        Arch::MobilenetV2,
        Arch::Resnet50,
        Arch::Resnet101,
        Arch::Densenet169,
        Arch::Densenet201,
        Arch::UnetMobilenetV2,
        Arch::MuNet,
        Arch::Deeplabv3plusMobilenetV2,
        Arch::Deeplabv3plusResnet50,
        Arch::DoubleUnet,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Arch::MobilenetV2 => "mobilenet_v2",
            Arch::Resnet50 => "resnet50",
            Arch::Resnet101 => "resnet101",
            Arch::Densenet169 => "densenet169",
            Arch::Densenet201 => "densenet201",
            Arch::UnetMobilenetV2 => "unet_mobilenet_v2",
            Arch::MuNet => "mu_net",
            Arch::Deeplabv3plusMobilenetV2 => "deeplabv3plus_mobilenet_v2",
            Arch::Deeplabv3plusResnet50 => "deeplabv3plus_resnet50",
            Arch::DoubleUnet => "double_unet",
        }
    }

    pub fn parse(id: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.id() == id)
    }

    pub fn task(self) -> Task {
        match self {
            Arch::MobilenetV2
            | Arch::Resnet50
            | Arch::Resnet101
            | Arch::Densenet169
            | Arch::Densenet201 => Task::Classify,
            _ => Task::Segment,
        }
    }

    /// Input sizes must be multiples of this (the deepest stride).
    pub fn size_multiple(self) -> usize {
        32
    }

    /// The path prefix of the part ImageNet weights fill: a classifier's backbone, a
    /// segmenter's encoder (DoubleU-Net's first, VGG-19 encoder).
    pub fn backbone_prefix(self) -> &'static str {
        match self.task() {
            Task::Classify => "backbone.",
            Task::Segment if self == Arch::DoubleUnet => "encoder1.",
            Task::Segment => "encoder.",
        }
    }

    /// Map a torchvision state-dict key to this network's parameter path (None: not ours).
    /// Classifier heads map to `head`; segmenter encoders take the backbone's keys.
    pub fn torchvision_key(self, key: &str) -> Option<String> {
        let head = |k: &str, prefixes: &[&str]| {
            prefixes
                .iter()
                .find_map(|p| k.strip_prefix(p).map(|leaf| format!("head.{leaf}")))
        };
        match self {
            Arch::MobilenetV2 => head(key, &["classifier.1."])
                .or_else(|| mobilenet_v2::torchvision_key(key, "backbone.")),
            Arch::Resnet50 | Arch::Resnet101 => {
                head(key, &["fc."]).or_else(|| resnet::torchvision_key(key, "backbone."))
            }
            Arch::Densenet169 | Arch::Densenet201 => {
                head(key, &["classifier."]).or_else(|| densenet::torchvision_key(key, "backbone."))
            }
            Arch::UnetMobilenetV2 | Arch::Deeplabv3plusMobilenetV2 => {
                mobilenet_v2::torchvision_key(key, "encoder.")
            }
            // MU-Net ends at block 13's expand layer, which it holds as `tail`.
            Arch::MuNet => mobilenet_v2::torchvision_key(key, "encoder.").map(|k| {
                k.replace(
                    &format!("encoder.blocks.{}.expand.", mu_net::BOTTOM_BLOCK),
                    "encoder.tail.",
                )
            }),
            Arch::Deeplabv3plusResnet50 => resnet::torchvision_key(key, "encoder."),
            Arch::DoubleUnet => double_unet::vgg19_key(key, "encoder1."),
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// What to build.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelSpec {
    pub arch: Arch,
    /// Classes of a classifier (ignored by segmenters, which have one nerve output).
    pub classes: usize,
    /// MobileNetV2 width multiplier (classifier only; MU-Net is fixed at 0.35).
    pub width: f64,
    pub dropout: f64,
}

impl ModelSpec {
    pub fn new(arch: Arch) -> Self {
        Self {
            arch,
            classes: 3,
            width: 1.0,
            dropout: 0.3,
        }
    }

    pub fn build(&self, device: &Device) -> Network {
        let classifier =
            |kind| Network::Classifier(Classifier::new(kind, self.classes, self.dropout, device));
        match self.arch {
            Arch::MobilenetV2 => classifier(BackboneKind::MobileNetV2 { width: self.width }),
            Arch::Resnet50 => classifier(BackboneKind::ResNet(resnet::Depth::D50)),
            Arch::Resnet101 => classifier(BackboneKind::ResNet(resnet::Depth::D101)),
            Arch::Densenet169 => classifier(BackboneKind::DenseNet(densenet::Depth::D169)),
            Arch::Densenet201 => classifier(BackboneKind::DenseNet(densenet::Depth::D201)),
            Arch::UnetMobilenetV2 => Network::UNet(UNetMobileNetV2::new(device)),
            Arch::MuNet => Network::MuNet(MuNet::new(device)),
            Arch::Deeplabv3plusMobilenetV2 => Network::DeepLab(DeepLabV3Plus::mobilenet_v2(device)),
            Arch::Deeplabv3plusResnet50 => Network::DeepLab(DeepLabV3Plus::resnet50(device)),
            Arch::DoubleUnet => Network::DoubleUNet(DoubleUNet::new(device)),
        }
    }
}

/// Any of the networks.
// One network exists at a time and its variants hold tensor handles, not tensors: boxing
// the larger variants would save nothing worth the indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    Classifier(Classifier),
    UNet(UNetMobileNetV2),
    MuNet(MuNet),
    DeepLab(DeepLabV3Plus),
    DoubleUNet(DoubleUNet),
}

/// What a network returns for a batch.
#[derive(Clone)]
pub enum Output {
    /// Class logits `[batch, classes]`.
    Classes(Tensor<2>),
    /// Nerve logit maps `[batch, k, H, W]`; the last channel is the prediction (DoubleU-Net also
    /// returns its first network's map before it).
    Masks(Tensor<4>),
}

impl Output {
    /// The same values, cut from the autodiff graph.
    pub fn detach(self) -> Output {
        match self {
            Output::Classes(l) => Output::Classes(l.detach()),
            Output::Masks(m) => Output::Masks(m.detach()),
        }
    }
}

impl Network {
    pub fn forward(&self, x: Tensor<4>) -> Output {
        match self {
            Network::Classifier(c) => Output::Classes(c.forward(x)),
            Network::UNet(m) => Output::Masks(m.forward(x)),
            Network::MuNet(m) => Output::Masks(m.forward(x)),
            Network::DeepLab(m) => Output::Masks(m.forward(x)),
            Network::DoubleUNet(m) => Output::Masks(m.forward(x)),
        }
    }

    /// Freezes (or unfreezes) a segmenter's pretrained encoder; classifiers are left as they are.
    pub fn with_encoder_frozen(self, frozen: bool) -> Self {
        match self {
            Network::Classifier(c) => Network::Classifier(c),
            Network::UNet(mut m) => {
                m.encoder = toggle(m.encoder, !frozen);
                Network::UNet(m)
            }
            Network::MuNet(mut m) => {
                m.encoder = toggle(m.encoder, !frozen);
                Network::MuNet(m)
            }
            Network::DeepLab(mut m) => {
                m.encoder = toggle(m.encoder, !frozen);
                Network::DeepLab(m)
            }
            Network::DoubleUNet(mut m) => {
                m.encoder1 = toggle(m.encoder1, !frozen);
                Network::DoubleUNet(m)
            }
        }
    }

    /// Weights that take gradients now (a frozen backbone's do not).
    pub fn training_now(&self) -> usize {
        struct Count(usize);
        impl burn::module::ModuleVisitor for Count {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
                let t = param.val();
                if t.is_require_grad() {
                    self.0 += t.shape().num_elements();
                }
            }
        }
        let mut count = Count(0);
        self.visit(&mut count);
        count.0
    }

    /// Parameter counts; batch-norm running statistics are the non-trainable part.
    pub fn counts(&self) -> ParamCounts {
        let mut counts = ParamCounts::default();
        for t in self.collect(None, None, false) {
            let n = t.shape.num_elements();
            counts.total += n;
            if t.name.ends_with(".running_mean") || t.name.ends_with(".running_var") {
                counts.non_trainable += n;
            } else {
                counts.trainable += n;
            }
        }
        counts
    }
}

/// Parameter counts in Keras' sense: batch-norm statistics are non-trainable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ParamCounts {
    pub total: usize,
    pub trainable: usize,
    pub non_trainable: usize,
}

#[cfg(test)]
mod tests;
