//! Losses: cross-entropy for classes; per-pixel BCE, soft Dice, or both for nerve masks.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Int, Tensor};

use super::recipe::Loss;

/// Smoothing of the soft Dice in training (1, so an empty batch gives a defined gradient).
const DICE_SMOOTH: f64 = 1.0;

pub fn classification(logits: Tensor<2>, classes: Tensor<1, Int>) -> Tensor<1> {
    CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, classes)
}

/// Mean binary cross-entropy of logits against {0,1} targets (numerically stable form).
fn bce(logits: Tensor<4>, targets: Tensor<4>) -> Tensor<1> {
    let softplus = logits.clone().abs().neg().exp().log1p();
    (relu(logits.clone()) - logits * targets + softplus).mean()
}

/// 1 - Dice of the sigmoid probabilities, over the whole batch (as the seed lab computed it).
fn dice(logits: Tensor<4>, targets: Tensor<4>) -> Tensor<1> {
    let p = sigmoid(logits);
    let intersection = (p.clone() * targets.clone()).sum();
    let denominator = p.sum() + targets.sum();
    (intersection.mul_scalar(2.0).add_scalar(DICE_SMOOTH) / denominator.add_scalar(DICE_SMOOTH))
        .neg()
        .add_scalar(1.0)
}

/// The loss of nerve-logit maps `[n, k, H, W]` (each of the k outputs scored against the mask,
/// averaged: DoubleU-Net trains both its outputs).
pub fn segmentation(kind: Loss, logits: Tensor<4>, masks: Tensor<4>) -> Tensor<1> {
    let [n, k, h, w] = logits.dims();
    let mut total: Option<Tensor<1>> = None;
    for c in 0..k {
        let l = logits.clone().slice([0..n, c..c + 1, 0..h, 0..w]);
        let one = match kind {
            Loss::CrossEntropy => bce(l, masks.clone()),
            Loss::Dice => dice(l, masks.clone()),
            Loss::BceDice => bce(l.clone(), masks.clone()) + dice(l, masks.clone()),
        };
        total = Some(match total {
            Some(t) => t + one,
            None => one,
        });
    }
    total.expect("at least one output").div_scalar(k as f64)
}
