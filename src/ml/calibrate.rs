//! Batch norm statistics measured afresh before each validation. A running average (Keras'
//! 0.99, torchvision's 0.9) needs a hundred batches or more to forget its random start and to
//! catch up with weights that change every step; at a lab's data sizes (a few batches an
//! epoch) the validation of the first epochs then reads near zero while training goes well,
//! and the user concludes training is broken. So the weights being validated (and saved as
//! the best) carry the statistics of a batch of training images under those very weights.

use burn::module::Module;
use burn::tensor::Tensor;

use super::data::{self, Prepared};
use super::models::layers::with_momentum;
use super::models::{ModelSpec, Network};
use super::recipe::Normalisation;

/// Training images the statistics are measured on (at most; one forward pass, no gradients).
pub const IMAGES: usize = 16;

/// A copy of `network` (on the training device) whose trainable batch norms hold the
/// statistics of up to [`IMAGES`] of the `training` images, unaugmented; `configure` freezes
/// the same parts as the training does, so a frozen pretrained backbone keeps its ImageNet
/// statistics.
pub fn calibrated(
    network: &Network,
    spec: &ModelSpec,
    training: &[Prepared],
    normalisation: Normalisation,
    configure: impl FnOnce(Network) -> Network,
) -> Network {
    let measured: Vec<&Prepared> = chosen(training.len())
        .into_iter()
        .map(|i| &training[i])
        .collect();
    let device = network
        .devices()
        .into_iter()
        .next()
        .expect("a network has a device");
    let images: Tensor<4> = data::batch(&measured, normalisation, None, &device).images;
    let fresh = with_momentum(1.0, || spec.build(&images.device()));
    let fresh = configure(fresh.load_record(network.clone().into_record()));
    // In training mode each trainable batch norm replaces its running statistics with this
    // batch's (momentum 1); the output itself is not needed.
    drop(fresh.forward(images));
    fresh
}

/// Which of `n` training images to measure on: up to [`IMAGES`], spread over the set.
pub fn chosen(n: usize) -> Vec<usize> {
    let take = n.min(IMAGES);
    (0..take).map(|i| i * n / take.max(1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_spread_over_the_set() {
        assert_eq!(chosen(3), [0, 1, 2]);
        assert_eq!(chosen(32), (0..16).map(|i| i * 2).collect::<Vec<_>>());
        assert!(chosen(0).is_empty());
    }
}
