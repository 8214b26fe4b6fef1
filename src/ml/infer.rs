//! Running a network over prepared images: probabilities, losses and the metrics of a split.

use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Device, Tensor};
use serde::Serialize;

use super::data::{self, Prepared};
use super::loss;
use super::models::{Network, Output, Task};
use super::recipe::{Loss, Normalisation};
use crate::eval::classification::{Confusion, argmax};
use crate::eval::segmentation::{Overlap, ScoreHistogram};

/// Per-image outputs: class probabilities, or the nerve probability map (row-major, S x S).
pub struct Probabilities {
    pub per_image: Vec<Vec<f32>>,
    /// Mean loss over the batches, when the samples had targets.
    pub loss: Option<f64>,
}

/// Turns a batch's output into per-image probabilities (the last mask channel for segmenters).
pub fn probabilities(output: Output) -> Vec<Vec<f32>> {
    match output {
        Output::Classes(logits) => {
            let [n, c] = logits.dims();
            let values = to_vec(softmax(logits, 1));
            (0..n)
                .map(|i| values[i * c..(i + 1) * c].to_vec())
                .collect()
        }
        Output::Masks(logits) => {
            let [n, k, h, w] = logits.dims();
            let last = logits.slice([0..n, k - 1..k, 0..h, 0..w]);
            let values = to_vec(sigmoid(last));
            let plane = h * w;
            (0..n)
                .map(|i| values[i * plane..(i + 1) * plane].to_vec())
                .collect()
        }
    }
}

pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float tensor")
}

/// The loss of one batch's output against its targets.
pub fn batch_loss(output: Output, batch: &data::Batch, kind: Loss) -> Tensor<1> {
    match output {
        Output::Classes(logits) => loss::classification(logits, batch.classes.clone()),
        Output::Masks(logits) => {
            let masks = batch.masks.clone().expect("segmenter batches carry masks");
            loss::segmentation(kind, logits, masks)
        }
    }
}

/// Runs an inference-mode network over samples in batches.
pub fn run(
    network: &Network,
    samples: &[&Prepared],
    batch_size: usize,
    normalisation: Normalisation,
    loss_kind: Option<Loss>,
    device: &Device,
) -> Probabilities {
    let mut per_image = Vec::with_capacity(samples.len());
    let (mut loss_sum, mut loss_n) = (0.0, 0usize);
    for chunk in samples.chunks(batch_size.max(1)) {
        let batch = data::batch(chunk, normalisation, None, device);
        let has_targets =
            chunk.iter().all(|s| s.mask.is_some()) || matches!(network, Network::Classifier(_));
        let output = network.forward(batch.images.clone());
        if let (Some(kind), true) = (loss_kind, has_targets) {
            let value = to_vec(batch_loss(output.clone(), &batch, kind))[0] as f64;
            loss_sum += value * chunk.len() as f64;
            loss_n += chunk.len();
        }
        per_image.extend(probabilities(output));
    }
    Probabilities {
        per_image,
        loss: (loss_n > 0).then(|| loss_sum / loss_n as f64),
    }
}

/// Accuracy, or mean IoU at 0.5, of a batch's probabilities against the batch's own targets.
pub fn batch_metric(probs: Vec<Vec<f32>>, batch: &data::Batch) -> f64 {
    let n = probs.len().max(1) as f64;
    match &batch.masks {
        Some(masks) => {
            let truth = to_vec(masks.clone());
            let plane = truth.len() / probs.len().max(1);
            probs
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let t = &truth[i * plane..(i + 1) * plane];
                    Overlap::of(t.iter().map(|&v| v > 0.5), p.iter().map(|&v| v >= 0.5)).iou()
                })
                .sum::<f64>()
                / n
        }
        None => {
            let classes: Vec<i64> = batch
                .classes
                .clone()
                .into_data()
                .convert::<i64>()
                .try_into_vec()
                .expect("class indices");
            probs
                .iter()
                .zip(classes)
                .filter(|(p, c)| argmax(p) as i64 == *c)
                .count() as f64
                / n
        }
    }
}

/// The headline metrics of predictions against their truth.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SplitMetrics {
    pub images: usize,
    /// Classifiers.
    pub accuracy: Option<f64>,
    /// Segmenters, at `threshold`: mean per-image IoU and Dice.
    pub mean_iou: Option<f64>,
    pub mean_dice: Option<f64>,
    pub threshold: Option<f32>,
    /// Segmenters: the pixel F1 at the threshold maximising it.
    pub best_pixel_f1: Option<f64>,
}

impl SplitMetrics {
    /// The number shown as "the" metric (accuracy or mean IoU).
    pub fn main(&self) -> f64 {
        self.accuracy.or(self.mean_iou).unwrap_or(0.0)
    }
}

/// Classifier accuracy, or segmenter IoU/Dice at `threshold` (`None`: choose the F1-optimal one).
pub fn metrics(
    task: Task,
    samples: &[&Prepared],
    probs: &[Vec<f32>],
    classes: usize,
    threshold: Option<f32>,
) -> SplitMetrics {
    let mut m = SplitMetrics {
        images: samples.len(),
        ..Default::default()
    };
    match task {
        Task::Classify => {
            let mut confusion = Confusion::new(classes);
            for (s, p) in samples.iter().zip(probs) {
                confusion.add(s.class, argmax(p));
            }
            m.accuracy = Some(confusion.accuracy());
        }
        Task::Segment => {
            let t = match threshold {
                Some(t) => t,
                None => {
                    let mut search = ScoreHistogram::default();
                    for (s, p) in samples.iter().zip(probs) {
                        let mask = s.mask.as_ref().expect("segmenter samples have masks");
                        for (&v, &truth) in p.iter().zip(mask.as_raw()) {
                            search.add(v, crate::mask::is_nerve(truth));
                        }
                    }
                    let (t, f1) = search.best();
                    m.best_pixel_f1 = Some(f1);
                    t
                }
            };
            let (iou, dice) = mean_overlap(samples, probs, t);
            m.mean_iou = Some(iou);
            m.mean_dice = Some(dice);
            m.threshold = Some(t);
        }
    }
    m
}

/// Mean per-image IoU and Dice at a threshold.
pub fn mean_overlap(samples: &[&Prepared], probs: &[Vec<f32>], threshold: f32) -> (f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0);
    }
    let (mut iou, mut dice) = (0.0, 0.0);
    for (s, p) in samples.iter().zip(probs) {
        let mask = s.mask.as_ref().expect("segmenter samples have masks");
        let o = Overlap::of(
            mask.as_raw().iter().map(|&v| crate::mask::is_nerve(v)),
            p.iter().map(|&v| v >= threshold),
        );
        iou += o.iou();
        dice += o.dice();
    }
    (iou / samples.len() as f64, dice / samples.len() as f64)
}
