//! Model speed for `nerve-studio bench`: inference latency at batch 1 and the throughput of a
//! full training step (every layer trainable, Adam), per architecture, on the chosen device.

use burn::tensor::Device;
use serde::Serialize;

use crate::ml::models::{Arch, ModelSpec};
use crate::ml::recipe::Loss;
use crate::ml::speed;

#[derive(Serialize)]
pub struct ModelResult {
    pub arch: &'static str,
    pub task: &'static str,
    pub batch: usize,
    pub size: usize,
    pub ms_per_batch: f64,
    pub images_per_s: f64,
}

pub fn infer(arch: Arch, size: usize, repeats: usize, device: &Device) -> ModelResult {
    let ms = speed::infer_ms(&ModelSpec::new(arch), size, 1, repeats, device);
    result(arch, "infer", 1, size, ms)
}

pub fn train(
    arch: Arch,
    size: usize,
    batch: usize,
    repeats: usize,
    device: &Device,
) -> ModelResult {
    let ms = speed::train_step_ms(
        &ModelSpec::new(arch),
        Loss::BceDice,
        size,
        batch,
        repeats,
        device,
    );
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
