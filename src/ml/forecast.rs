//! Before Start, an honest forecast: a run's time from a measured warm-up on the chosen device
//! (not a guess), and a plain warning where the data or the weights promise weak results.

use serde::Serialize;

use super::device::ComputeDevice;
use super::recipe::Recipe;
use super::speed;

/// One training step and one validation batch of a recipe, measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepTimes {
    pub train_ms_per_batch: f64,
    pub val_ms_per_batch: f64,
}

/// Times one training step and one validation batch at the recipe's size and batch (after a
/// warm-up step of each, which compiles kernels and allocates).
pub fn measure(recipe: &Recipe, classes: usize, device: &ComputeDevice) -> StepTimes {
    let spec = recipe.spec(classes);
    let (size, batch) = (recipe.image_size, recipe.batch_size);
    StepTimes {
        train_ms_per_batch: speed::train_step_ms(
            &spec,
            recipe.loss,
            size,
            batch,
            1,
            &device.device,
        ),
        val_ms_per_batch: speed::infer_ms(&spec, size, batch, 1, &device.device),
    }
}

impl StepTimes {
    /// Seconds for `epochs` epochs over these images (every layer trainable: a frozen backbone
    /// makes the first stage faster, so this errs long).
    pub fn run_seconds(&self, train: usize, val: usize, batch: usize, epochs: usize) -> f64 {
        let batches = |n: usize| n.div_ceil(batch.max(1)) as f64;
        let epoch_ms =
            batches(train) * self.train_ms_per_batch + batches(val) * self.val_ms_per_batch;
        epochs as f64 * epoch_ms / 1e3
    }
}

/// Fewer training images than this, and a model learns little that holds on new images.
pub const FEW_IMAGES: usize = 100;

/// A warning where the data is small or the weights random, or None.
pub fn warning(train_images: usize, pretrained: bool) -> Option<String> {
    match (train_images < FEW_IMAGES, pretrained) {
        (true, false) => Some(format!(
            "From scratch on {train_images} images: expect weak results; ImageNet weights \
             recommended."
        )),
        (true, true) => Some(format!(
            "Only {train_images} training images: expect a rough model; label more for a \
             reliable one."
        )),
        (false, false) => Some(
            "From random weights: training takes longer and ends weaker than from ImageNet \
             weights."
                .into(),
        ),
        (false, true) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_batches_times_epochs() {
        let t = StepTimes {
            train_ms_per_batch: 100.0,
            val_ms_per_batch: 20.0,
        };
        // 42 train images in 6 batches of 8, 9 val images in 2: 640 ms an epoch.
        assert!((t.run_seconds(42, 9, 8, 10) - 6.4).abs() < 1e-9);
    }

    #[test]
    fn warnings_name_the_data_and_the_weights() {
        assert!(
            warning(37, false)
                .unwrap()
                .contains("From scratch on 37 images")
        );
        assert!(warning(37, true).unwrap().contains("37"));
        assert!(warning(500, false).unwrap().contains("random"));
        assert_eq!(warning(500, true), None);
    }
}
