//! `nerve-studio predict`: a trained run over a split (or every image) writes its nerve
//! probability maps and class scores to `cache/predictions/<run>/`.

use crate::ml::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Predicts the images of `split` (all where `None`) with the run's weights.
pub fn predict(
    project_root: &Path,
    run_id: &str,
    split: Option<Split>,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PredictReport> {
    let which = |e: &ImageEntry| split.is_none() || e.split == split;
    let name = split.map_or("all", Split::name);
    let never = AtomicBool::new(false);
    predict_where(
        project_root,
        run_id,
        (name, &which),
        device,
        &never,
        progress,
    )
}

/// Predicts the images `which.1` accepts (`which.0` names them in messages and the report).
/// Setting `stop` ends it between batches with [`Error::Stopped`]; the maps written so far
/// stay in the cache, so the next prediction does not make them again.
pub fn predict_where(
    project_root: &Path,
    run_id: &str,
    which: (&str, &dyn Fn(&ImageEntry) -> bool),
    device: &ComputeDevice,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PredictReport> {
    let project = Project::open_read_only(project_root)?;
    let run = RunDir::open(project_root, run_id)?;
    let recipe = run.recipe()?;
    let info = run.info()?;
    let classes = info.classes.clone();
    let network = weights::load_for_inference(
        recipe.spec(classes.len()).build(&device.device),
        &run.file(run::WEIGHTS),
    )?;
    let entries: Vec<_> = project.images().iter().filter(|e| (which.1)(e)).collect();
    if entries.is_empty() {
        return Err(Error::invalid(
            project_root,
            format!("no images to predict (selection: {})", which.0),
        ));
    }
    let out = predictions_dir(project_root, &run.id);
    std::fs::create_dir_all(&out).map_err(Error::file(&out))?;
    let mut outputs = Outputs {
        mask_class: project
            .manifest
            .match_class(&project.manifest.mask_class)
            .and_then(|m| classes.iter().position(|c| c == m)),
        project: &project,
        task: recipe.task(),
        classes: &classes,
        size: recipe.image_size as u32,
        out: &out,
        score_rows: Vec::new(),
        truth_samples: Vec::new(),
        truth_probs: Vec::new(),
    };
    let chunk = 32;
    let total = entries.len();
    for (k, group) in entries.chunks(chunk).enumerate() {
        if stop.load(Ordering::Relaxed) {
            return Err(Error::Stopped);
        }
        let items = outputs.items(group);
        let refs: Vec<&Item> = items.iter().collect();
        let prepared = data::load(&project, &refs, outputs.size, false, &mut |_, _| {})?;
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
            outputs.take(entry, sample, p)?;
        }
        progress(((k + 1) * chunk).min(total), total);
    }
    let threshold = info.threshold.unwrap_or(0.5);
    let metrics = outputs.finish(threshold)?;
    Ok(PredictReport {
        run: run.id,
        split: which.0.to_string(),
        images: total,
        threshold: (recipe.task() == Task::Segment).then_some(threshold),
        labeled: outputs.truth_samples.len(),
        output: out,
        metrics,
    })
}

/// Whether an image's class counts as its truth.
fn labeled(e: &ImageEntry) -> bool {
    matches!(e.label.status, Status::Labeled | Status::Reviewed) && e.label.class.is_some()
}

/// What a prediction writes (probability maps, the scores table) and what it keeps to score.
struct Outputs<'a> {
    project: &'a Project,
    task: Task,
    classes: &'a [String],
    size: u32,
    out: &'a Path,
    /// The class whose images have nerve masks (segmenters are scored on those).
    mask_class: Option<usize>,
    score_rows: Vec<Vec<String>>,
    truth_samples: Vec<Prepared>,
    truth_probs: Vec<Vec<f32>>,
}

impl Outputs<'_> {
    /// The images of `group` as the data loader takes them (truth where they have it).
    fn items(&self, group: &[&ImageEntry]) -> Vec<Item> {
        group
            .iter()
            .map(|e| Item {
                stem: e.stem.clone(),
                split: e.split.unwrap_or(Split::Test),
                class: e
                    .label
                    .class
                    .as_deref()
                    .and_then(|c| self.project.manifest.match_class(c))
                    .and_then(|c| self.classes.iter().position(|k| k == c))
                    .unwrap_or(0),
                mask_hash: (self.task == Task::Segment && e.has_mask && labeled(e))
                    .then(String::new),
            })
            .collect()
    }

    /// One image's prediction: a scores row, or a full-size probability map.
    fn take(&mut self, entry: &ImageEntry, sample: &Prepared, p: &[f32]) -> Result<()> {
        let is_labeled = labeled(entry);
        match self.task {
            Task::Classify => {
                let pred = crate::eval::classification::argmax(p);
                let truth = if is_labeled {
                    self.classes[sample.class].as_str()
                } else {
                    ""
                };
                let mut row = vec![entry.stem.clone(), truth.into(), self.classes[pred].clone()];
                row.extend(p.iter().map(|v| format!("{v:.6}")));
                self.score_rows.push(row);
            }
            Task::Segment => {
                let full = self.project.image_path(entry);
                let (w, h) = image::image_dimensions(&full)
                    .map_err(Error::unreadable(&full, "not a readable image"))?;
                let map = full_size_map(p, self.size, w, h, &self.project.manifest.roi);
                let path = self.out.join(format!("{}.png", entry.stem));
                write_atomic(&path, &encode_gray_png(&map)).map_err(Error::file(&path))?;
            }
        }
        // Segmenters are scored on nerve images, as they are trained.
        let scored = match self.task {
            Task::Classify => true,
            Task::Segment => sample.mask.is_some() && Some(sample.class) == self.mask_class,
        };
        if is_labeled && scored {
            self.truth_samples.push(sample.clone());
            self.truth_probs.push(p.to_vec());
        }
        Ok(())
    }

    /// Writes the scores table (classifiers) and scores the labeled images.
    fn finish(&self, threshold: f32) -> Result<Option<SplitMetrics>> {
        if self.task == Task::Classify {
            let path = self.out.join("scores.csv");
            let p_columns: Vec<String> = self
                .classes
                .iter()
                .map(|c| {
                    format!(
                        "p_{}",
                        crate::project::manifest::class_key(c).replace(' ', "_")
                    )
                })
                .collect();
            let mut header = vec!["stem", "truth", "pred"];
            header.extend(p_columns.iter().map(String::as_str));
            let scores = crate::table::to_text(&header, self.score_rows.clone());
            write_atomic(&path, scores.as_bytes()).map_err(Error::file(&path))?;
        }
        let refs: Vec<&Prepared> = self.truth_samples.iter().collect();
        Ok((!refs.is_empty()).then(|| {
            infer::metrics(
                self.task,
                &refs,
                &self.truth_probs,
                self.classes.len(),
                Some(threshold),
            )
        }))
    }
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

pub(crate) fn encode_gray_png(img: &GrayImage) -> Vec<u8> {
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
