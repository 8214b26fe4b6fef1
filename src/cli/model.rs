//! `nerve-studio model summary` (parameter counts) and `nerve-studio model run` (raw outputs of
//! an architecture with given weights, for checking against other tools).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use serde::Serialize;

use crate::ml::data::image_tensor;
use crate::ml::device::{self, DeviceChoice};
use crate::ml::infer::to_vec;
use crate::ml::models::{Arch, ModelSpec, Output, ParamCounts};
use crate::ml::recipe::{self, Normalisation};
use crate::ml::weights;

#[derive(Serialize)]
struct Summary {
    architecture: String,
    task: crate::ml::models::Task,
    recipe: Option<String>,
    classes: usize,
    #[serde(flatten)]
    counts: ParamCounts,
}

fn arch_or_recipe(name: &str) -> Result<(ModelSpec, Option<String>)> {
    if let Some(arch) = Arch::parse(name) {
        return Ok((ModelSpec::new(arch), None));
    }
    let named = recipe::load(name).map_err(|e| {
        let ids: Vec<&str> = Arch::ALL.iter().map(|a| a.id()).collect();
        anyhow!("{e}\n(architectures: {})", ids.join(", "))
    })?;
    Ok((named.recipe.spec(3), Some(named.name)))
}

pub fn summary(name: &str, classes: usize, json: bool) -> Result<()> {
    let (mut spec, recipe) = arch_or_recipe(name)?;
    spec.classes = classes;
    let network = spec.build(&device::cpu().device);
    let s = Summary {
        architecture: spec.arch.id().into(),
        task: spec.arch.task(),
        recipe,
        classes,
        counts: network.counts(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!("{} ({:?})", s.architecture, s.task);
        println!("  total parameters          {:>12}", group(s.counts.total));
        println!(
            "  trainable                 {:>12}",
            group(s.counts.trainable)
        );
        println!(
            "  non-trainable (BN stats)  {:>12}",
            group(s.counts.non_trainable)
        );
    }
    Ok(())
}

use crate::ml::progress::thousands as group;

#[derive(Serialize)]
struct RawOutput {
    image: String,
    input: [usize; 2],
    /// Classifiers: the logits.
    #[serde(skip_serializing_if = "Option::is_none")]
    logits: Option<Vec<f32>>,
    /// Segmenters: the nerve logit map's shape and statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    logit_map: Option<MapSummary>,
}

#[derive(Serialize)]
struct MapSummary {
    shape: [usize; 4],
    min: f32,
    max: f32,
    mean: f32,
    /// Fraction of pixels with a positive nerve logit (probability above 0.5).
    positive_fraction: f32,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[arg(long)]
    pub arch: String,
    #[arg(long, default_value_t = 3)]
    pub classes: usize,
    /// torchvision .pth / .safetensors, or a run's weights.bpk
    #[arg(long)]
    pub weights: PathBuf,
    pub images: Vec<PathBuf>,
    /// MobileNetV2 width multiplier of the weights (e.g. 0.35)
    #[arg(long, default_value_t = 1.0)]
    pub width: f64,
    /// Resize each image to SIZE x SIZE first (otherwise it runs at its own size)
    #[arg(long)]
    pub size: Option<u32>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceChoice,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RunArgs) -> Result<()> {
    let arch = Arch::parse(&args.arch).ok_or_else(|| {
        let ids: Vec<&str> = Arch::ALL.iter().map(|a| a.id()).collect();
        anyhow!(
            "--arch {}: unknown architecture (known: {})",
            args.arch,
            ids.join(", ")
        )
    })?;
    if args.images.is_empty() {
        return Err(anyhow!("give at least one IMAGE"));
    }
    let device = device::select(args.device).map_err(|e| anyhow!(e))?;
    let mut spec = ModelSpec::new(arch);
    spec.classes = args.classes;
    spec.width = args.width;
    let mut network = spec.build(&device.device);
    let is_ours = args.weights.extension().is_some_and(|e| e == "bpk");
    if is_ours {
        network = weights::load(network, &args.weights).map_err(|e| anyhow!(e))?;
    } else {
        let report = weights::import_torchvision(&mut network, arch, &args.weights)
            .map_err(|e| anyhow!(e))?;
        eprintln!("{}", report.summary());
    }
    let mut outputs = Vec::new();
    for path in &args.images {
        outputs.push(run_one(&network, arch, path, args.size, &device.device)?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outputs)?);
    } else {
        for o in &outputs {
            match (&o.logits, &o.logit_map) {
                (Some(l), _) => println!(
                    "{} ({}x{}): logits {:?}",
                    o.image, o.input[1], o.input[0], l
                ),
                (_, Some(m)) => println!(
                    "{} ({}x{}): logit map {:?} min {:.4} max {:.4} mean {:.4}, {:.1}% nerve",
                    o.image,
                    o.input[1],
                    o.input[0],
                    m.shape,
                    m.min,
                    m.max,
                    m.mean,
                    m.positive_fraction * 100.0
                ),
                _ => {}
            }
        }
    }
    Ok(())
}

fn run_one(
    network: &crate::ml::models::Network,
    arch: Arch,
    path: &Path,
    size: Option<u32>,
    device: &burn::tensor::Device,
) -> Result<RawOutput> {
    let img = crate::project::thumbnails::decode_image(path)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut rgb = img.to_rgb8();
    if let Some(s) = size {
        rgb = image::imageops::resize(&rgb, s, s, image::imageops::FilterType::Triangle);
    }
    let (w, h) = rgb.dimensions();
    let m = arch.size_multiple() as u32;
    if arch.task() == crate::ml::models::Task::Segment
        && (!w.is_multiple_of(m) || !h.is_multiple_of(m))
    {
        return Err(anyhow!(
            "{}: {w}x{h} is not a multiple of {m} on both sides; pass --size",
            path.display()
        ));
    }
    let input = image_tensor(&rgb, Normalisation::Imagenet, device);
    let mut out = RawOutput {
        image: path.display().to_string(),
        input: [h as usize, w as usize],
        logits: None,
        logit_map: None,
    };
    match network.forward(input) {
        Output::Classes(logits) => out.logits = Some(to_vec(logits)),
        Output::Masks(map) => {
            let shape = map.dims();
            let v = to_vec(map);
            let n = v.len().max(1) as f32;
            out.logit_map = Some(MapSummary {
                shape,
                min: v.iter().copied().fold(f32::INFINITY, f32::min),
                max: v.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                mean: v.iter().sum::<f32>() / n,
                positive_fraction: v.iter().filter(|&&x| x > 0.0).count() as f32 / n,
            });
        }
    }
    Ok(out)
}
