//! Where the networks run: a real GPU through wgpu when there is one, else burn's CPU backend.
//! Software Vulkan (llvmpipe) is never picked automatically: it is far slower than the CPU
//! backend (DESIGN.md), and is only used when `--device gpu` asks for a GPU and nothing else is
//! there.

use crate::ml::{Error, Result};
use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceKind};
use serde::Serialize;

/// The user's choice (`--device auto|cpu|gpu`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Gpu,
}

/// A device with the name to show for it.
#[derive(Clone, Debug)]
pub struct ComputeDevice {
    pub device: Device,
    /// The adapter's name, e.g. "NVIDIA H100" or "CPU: AMD EPYC (16 threads)".
    pub name: String,
    pub gpu: bool,
}

/// One wgpu adapter as seen by the enumeration.
#[derive(Clone, Debug)]
pub struct Adapter {
    pub name: String,
    pub kind: wgpu::DeviceType,
    pub backend: wgpu::Backend,
}

/// Every adapter wgpu can see (none where no GPU driver is installed).
pub fn adapters() -> Vec<Adapter> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::PRIMARY,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY))
        .into_iter()
        .map(|a| {
            let info = a.get_info();
            Adapter {
                name: info.name,
                kind: info.device_type,
                backend: info.backend,
            }
        })
        .collect()
}

/// Picks the device for `choice`; `Err` says why a GPU was asked for and cannot be had.
pub fn select(choice: DeviceChoice) -> Result<ComputeDevice> {
    if choice == DeviceChoice::Cpu {
        return Ok(cpu());
    }
    let found = adapters();
    if let Some(device) = best_gpu(&found) {
        return Ok(device);
    }
    if choice == DeviceChoice::Auto {
        return Ok(cpu());
    }
    match found.iter().find(|a| a.kind == wgpu::DeviceType::Cpu) {
        Some(a) => Ok(ComputeDevice {
            device: Device::wgpu(DeviceKind::Cpu),
            name: format!("{} (software Vulkan, slower than --device cpu)", a.name),
            gpu: true,
        }),
        None => Err(Error::request(
            "no GPU found: wgpu sees no Vulkan, Metal or DX12 adapter on this machine \
                     (is a GPU driver installed?); use --device cpu or auto",
        )),
    }
}

/// The first discrete GPU, else the first integrated one (index 0 of its kind for burn).
fn best_gpu(found: &[Adapter]) -> Option<ComputeDevice> {
    [
        (wgpu::DeviceType::DiscreteGpu, DeviceKind::DiscreteGpu(0)),
        (
            wgpu::DeviceType::IntegratedGpu,
            DeviceKind::IntegratedGpu(0),
        ),
    ]
    .into_iter()
    .find_map(|(kind, burn_kind)| {
        let first = found.iter().find(|a| a.kind == kind)?;
        Some(ComputeDevice {
            device: Device::wgpu(burn_kind),
            name: format!("{} ({:?})", first.name, first.backend),
            gpu: true,
        })
    })
}

/// burn's CPU backend on all cores.
pub fn cpu() -> ComputeDevice {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    ComputeDevice {
        device: Device::flex(),
        name: format!("CPU: {} ({threads} threads)", cpu_model()),
        gpu: false,
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}
