//! How long a network takes on a device, measured: a batch of inference and a full training step
//! (every layer trainable, Adam). `nerve-studio bench` reports these; the Train screen's
//! forecast multiplies them out over a run.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};

use super::data::Batch;
use super::infer::{batch_loss, to_vec};
use super::models::{ModelSpec, Output};
use super::recipe::Loss;

/// Runs `f` once to warm up (kernels compile, buffers are allocated), then `repeats` times; the
/// median in milliseconds.
pub fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

/// Forces the device to finish the work behind `output`.
fn wait(output: Output) {
    let t = match output {
        Output::Classes(l) => l.sum(),
        Output::Masks(m) => m.sum(),
    };
    std::hint::black_box(to_vec(t));
}

/// Milliseconds of one inference batch of `batch` images at `size` px (batch norms folded, as
/// every inference in the program runs).
pub fn infer_ms(
    spec: &ModelSpec,
    size: usize,
    batch: usize,
    repeats: usize,
    device: &Device,
) -> f64 {
    let network = spec.build(device).valid().folded();
    let input = Tensor::<4>::random(
        [batch, 3, size, size],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    median_ms(repeats, || wait(network.forward(input.clone())))
}

/// Milliseconds of one training step on a batch of `batch` images at `size` px.
pub fn train_step_ms(
    spec: &ModelSpec,
    loss: Loss,
    size: usize,
    batch: usize,
    repeats: usize,
    device: &Device,
) -> f64 {
    let device = device.clone().autodiff();
    let mut network = spec.build(&device);
    let mut optimizer = AdamConfig::new().init();
    let images = Tensor::<4>::random(
        [batch, 3, size, size],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    let masks = Tensor::<4>::random(
        [batch, 1, size, size],
        Distribution::Bernoulli(0.2),
        &device,
    );
    let classes = spec.classes.max(1) as i64;
    let classes: Tensor<1, Int> = Tensor::from_data(
        TensorData::new(
            (0..batch as i64).map(|i| i % classes).collect::<Vec<_>>(),
            [batch],
        ),
        &device,
    );
    let data = Batch {
        images,
        masks: Some(masks),
        classes,
    };
    median_ms(repeats, || {
        let loss = batch_loss(network.forward(data.images.clone()), &data, loss);
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        network = optimizer.step(1e-4, network.clone(), grads);
        std::hint::black_box(to_vec(loss.detach()));
    })
}
