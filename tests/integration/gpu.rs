//! The wgpu code path: on a machine with no GPU it runs on Mesa's software Vulkan (CI installs
//! mesa-vulkan-drivers and sets NERVE_STUDIO_REQUIRE_WGPU=1, so it cannot silently skip there).

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Tensor};
use nerve_studio::ml::data::Batch;
use nerve_studio::ml::device::{self, DeviceChoice};
use nerve_studio::ml::infer::{batch_loss, to_vec};
use nerve_studio::ml::models::{Arch, ModelSpec, Output};
use nerve_studio::ml::recipe::Loss;

#[test]
fn a_forward_and_a_training_step_run_on_wgpu() {
    let gpu = match device::select(DeviceChoice::Gpu) {
        Ok(d) => d,
        Err(why) => {
            assert!(
                std::env::var_os("NERVE_STUDIO_REQUIRE_WGPU").is_none(),
                "wgpu path required here: {why}"
            );
            eprintln!("skipped: {why}");
            return;
        }
    };
    assert!(gpu.gpu);
    let cpu = device::cpu();
    // Same weights on both devices: build on the CPU, copy to the GPU.
    let network = ModelSpec::new(Arch::MuNet).build(&cpu.device).valid();
    let on_gpu = network.clone().to_device(&gpu.device);
    let x = Tensor::<4>::random([1, 3, 64, 64], Distribution::Normal(0.0, 1.0), &cpu.device);
    let (Output::Masks(a), Output::Masks(b)) = (
        network.forward(x.clone()),
        on_gpu.forward(x.to_device(&gpu.device)),
    ) else {
        panic!("MU-Net returns masks");
    };
    let (a, b) = (to_vec(a), to_vec(b));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst < 1e-3,
        "GPU and CPU differ by {worst} on {}",
        gpu.name
    );

    let train_device = gpu.device.clone().autodiff();
    let mut model = ModelSpec::new(Arch::MuNet).build(&train_device);
    let mut optimizer = AdamConfig::new().init();
    let images = Tensor::<4>::random(
        [2, 3, 64, 64],
        Distribution::Normal(0.0, 1.0),
        &train_device,
    );
    let masks = Tensor::<4>::random([2, 1, 64, 64], Distribution::Bernoulli(0.3), &train_device);
    let classes = Tensor::from_data(
        burn::tensor::TensorData::new(vec![0i64, 1], [2]),
        &train_device,
    );
    let batch = Batch {
        images,
        masks: Some(masks),
        classes,
    };
    let mut losses = Vec::new();
    for _ in 0..2 {
        let loss = batch_loss(model.forward(batch.images.clone()), &batch, Loss::BceDice);
        losses.push(to_vec(loss.clone().detach())[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-3, model, grads);
    }
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    assert!(
        losses[1] < losses[0],
        "one Adam step lowers the loss on the same batch: {losses:?}"
    );
}
