//! `nerve-studio predict`: a trained run over a split (or every image) writes its nerve
//! probability maps and class scores to `cache/predictions/<run>/`.

use std::path::{Path, PathBuf};

use image::GrayImage;
use image::imageops::{self, FilterType};
use serde::Serialize;

use super::data::{self, Item, Prepared};
use super::device::ComputeDevice;
use super::infer::{self, SplitMetrics};
use super::models::Task;
use super::run::{self, RunDir};
use super::weights;
use crate::atomic::write_atomic;
use crate::project::label::Status;
use crate::project::splits::Split;
use crate::project::{ImageEntry, Project};

/// What a prediction wrote.
#[derive(Clone, Debug, Serialize)]
pub struct PredictReport {
    pub run: String,
    pub split: String,
    pub images: usize,
    /// Folder of probability maps (segmenters: `<stem>.png`, 0-255 at image resolution) and
    /// `scores.csv` (classifiers: stem,truth,pred,p_<class>...).
    pub output: PathBuf,
    /// The run's binarisation threshold (segmenters).
    pub threshold: Option<f32>,
    /// Against the truth of the labeled images among them (segmenters: the labeled nerve
    /// images, as they are trained); absent when there are none.
    pub metrics: Option<SplitMetrics>,
    pub labeled: usize,
}

pub fn predictions_dir(project: &Path, run: &str) -> PathBuf {
    project.join("cache").join("predictions").join(run)
}

pub fn predict(
    project_root: &Path,
    run_id: &str,
    split: Option<Split>,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PredictReport, String> {
    let which = |e: &ImageEntry| split.is_none() || e.split == split;
    let name = split.map_or("all", Split::name);
    predict_where(project_root, run_id, (name, &which), device, progress)
}

/// Predicts the images `which.1` accepts (`which.0` names them in messages and the report).
pub fn predict_where(
    project_root: &Path,
    run_id: &str,
    which: (&str, &dyn Fn(&ImageEntry) -> bool),
    device: &ComputeDevice,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PredictReport, String> {
    let project = Project::open_read_only(project_root).map_err(|e| e.to_string())?;
    let run = RunDir::open(project_root, run_id)?;
    let recipe = run.recipe()?;
    let info = run.info()?;
    let task = recipe.task();
    let classes = info.classes.clone();
    let network = weights::load_for_inference(
        recipe.spec(classes.len()).build(&device.device),
        &run.file(run::WEIGHTS),
    )?;
    let size = recipe.image_size as u32;

    let entries: Vec<_> = project.images().iter().filter(|e| (which.1)(e)).collect();
    if entries.is_empty() {
        return Err(format!(
            "{}: no images to predict (selection: {})",
            project_root.display(),
            which.0
        ));
    }
    let out = predictions_dir(project_root, &run.id);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    let mut scores = String::from("stem,truth,pred");
    for c in &classes {
        scores.push_str(&format!(
            ",p_{}",
            crate::project::manifest::class_key(c).replace(' ', "_")
        ));
    }
    scores.push('\n');
    let (mut truth_samples, mut truth_probs) = (Vec::new(), Vec::new());
    let threshold = info.threshold.unwrap_or(0.5);
    let mask_class = project
        .manifest
        .match_class(&project.manifest.mask_class)
        .and_then(|m| classes.iter().position(|c| c == m));
    let chunk = 32;
    let total = entries.len();
    for (k, group) in entries.chunks(chunk).enumerate() {
        let labeled = |e: &crate::project::ImageEntry| {
            matches!(e.label.status, Status::Labeled | Status::Reviewed) && e.label.class.is_some()
        };
        let items: Vec<Item> = group
            .iter()
            .map(|e| Item {
                stem: e.stem.clone(),
                split: e.split.unwrap_or(Split::Test),
                class: e
                    .label
                    .class
                    .as_deref()
                    .and_then(|c| project.manifest.match_class(c))
                    .and_then(|c| classes.iter().position(|k| k == c))
                    .unwrap_or(0),
                mask_hash: (task == Task::Segment && e.has_mask && labeled(e)).then(String::new),
            })
            .collect();
        let refs: Vec<&Item> = items.iter().collect();
        let prepared = data::load(&project, &refs, size, false, &mut |_, _| {})?;
        let sample_refs: Vec<&Prepared> = prepared.iter().collect();
        let probs = infer::run(
            &network,
            &sample_refs,
            recipe.batch_size,
            recipe.normalisation,
            None,
            &device.device,
        );
        for ((entry, sample), p) in group.iter().zip(&prepared).zip(&probs.per_image) {
            let is_labeled = labeled(entry);
            match task {
                Task::Classify => {
                    let pred = crate::eval::classification::argmax(p);
                    let truth = if is_labeled {
                        classes[sample.class].as_str()
                    } else {
                        ""
                    };
                    scores.push_str(&format!("{},{},{}", entry.stem, truth, classes[pred]));
                    for v in p {
                        scores.push_str(&format!(",{v:.6}"));
                    }
                    scores.push('\n');
                }
                Task::Segment => {
                    let full = project.image_path(entry);
                    let (w, h) = image::image_dimensions(&full)
                        .map_err(|e| format!("{}: {e}", full.display()))?;
                    let map = full_size_map(p, size, w, h, &project.manifest.roi);
                    let path = out.join(format!("{}.png", entry.stem));
                    write_atomic(&path, &encode_gray_png(&map))
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                }
            }
            // Segmenters are scored on nerve images, as they are trained.
            let scored = match task {
                Task::Classify => true,
                Task::Segment => sample.mask.is_some() && Some(sample.class) == mask_class,
            };
            if is_labeled && scored {
                truth_samples.push(sample.clone());
                truth_probs.push(p.to_vec());
            }
        }
        progress(((k + 1) * chunk).min(total), total);
    }
    if task == Task::Classify {
        let path = out.join("scores.csv");
        write_atomic(&path, scores.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let refs: Vec<&Prepared> = truth_samples.iter().collect();
    let metrics = (!refs.is_empty())
        .then(|| infer::metrics(task, &refs, &truth_probs, classes.len(), Some(threshold)));
    Ok(PredictReport {
        run: run.id,
        split: which.0.to_string(),
        images: total,
        output: out,
        threshold: (task == Task::Segment).then_some(threshold),
        metrics,
        labeled: refs.len(),
    })
}

/// Puts an S x S probability map back where the ROI crop came from, at the image's resolution.
fn full_size_map(
    p: &[f32],
    size: u32,
    width: u32,
    height: u32,
    roi: &crate::project::manifest::Roi,
) -> GrayImage {
    let small = GrayImage::from_raw(
        size,
        size,
        p.iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect(),
    )
    .expect("map size");
    let r = roi.to_pixels(width, height);
    let scaled = imageops::resize(&small, r.width, r.height, FilterType::Triangle);
    let mut full = GrayImage::new(width, height);
    imageops::replace(&mut full, &scaled, r.x as i64, r.y as i64);
    full
}

fn encode_gray_png(img: &GrayImage) -> Vec<u8> {
    // Probability maps are grey levels, not binary masks: encode them as they are.
    let mut bytes = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut bytes),
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::L8,
    )
    .expect("in-memory PNG encoding");
    bytes
}
