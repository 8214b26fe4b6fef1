//! Model speed for `nerve-studio bench`: inference latency at batch 1 and the throughput of a
//! full training step (every layer trainable, Adam), per architecture, on the chosen device.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use serde::Serialize;

use crate::ml::data::Batch;
use crate::ml::infer::{batch_loss, to_vec};
use crate::ml::models::{Arch, ModelSpec, Output};
use crate::ml::recipe::Loss;

#[derive(Serialize)]
pub struct ModelResult {
    pub arch: &'static str,
    pub task: &'static str,
    pub batch: usize,
    pub size: usize,
    pub ms_per_batch: f64,
    pub images_per_s: f64,
}

/// Runs `f` once to warm up, then `repeats` times; the median in milliseconds.
fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..repeats)
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

pub fn infer(arch: Arch, size: usize, repeats: usize, device: &Device) -> ModelResult {
    let network = ModelSpec::new(arch).build(device).valid();
    let input = Tensor::<4>::random([1, 3, size, size], Distribution::Normal(0.0, 1.0), device);
    let ms = median_ms(repeats, || wait(network.forward(input.clone())));
    result(arch, "infer", 1, size, ms)
}

pub fn train(
    arch: Arch,
    size: usize,
    batch: usize,
    repeats: usize,
    device: &Device,
) -> ModelResult {
    let device = device.clone().autodiff();
    let mut network = ModelSpec::new(arch).build(&device);
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
    let classes: Tensor<1, Int> = Tensor::from_data(
        TensorData::new(
            (0..batch as i64).map(|i| i % 3).collect::<Vec<_>>(),
            [batch],
        ),
        &device,
    );
    let data = Batch {
        images,
        masks: Some(masks),
        classes,
    };
    let ms = median_ms(repeats, || {
        let loss = batch_loss(network.forward(data.images.clone()), &data, Loss::BceDice);
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        network = optimizer.step(1e-4, network.clone(), grads);
        std::hint::black_box(to_vec(loss.detach()));
    });
    result(arch, "train", batch, size, ms)
}

fn result(arch: Arch, task: &'static str, batch: usize, size: usize, ms: f64) -> ModelResult {
    ModelResult {
        arch: arch.id(),
        task,
        batch,
        size,
        ms_per_batch: ms,
        images_per_s: batch as f64 * 1e3 / ms,
    }
}
