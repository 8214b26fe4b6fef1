//! Pre-annotation: a trained segmenter draws masks on the images nobody has labeled yet, marked
//! as predicted, for the technician to correct. Masks that exist are never touched.

use crate::ml::{Error, Result};
use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::device::ComputeDevice;
use super::models::Task;
use super::predict;
use super::run::RunDir;
use crate::mask::Mask;
use crate::project::label::{MaskProvenance, Status, current_user};
use crate::project::{ImageEntry, Project};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PreannotateReport {
    pub run: String,
    /// The classifier that chose the frames (only frames it calls nerve get a mask).
    pub classifier: Option<String>,
    /// Frames the classifier called something else, left without a mask.
    pub not_called_nerve: usize,
    /// Unlabeled images without a mask that were predicted.
    pub predicted: usize,
    /// Of those, the ones given a mask (the others showed no nerve).
    pub filled: usize,
    pub no_nerve_found: usize,
    /// Unlabeled images left alone because they already have a mask.
    pub kept_existing_masks: usize,
}

fn wanted(e: &ImageEntry) -> bool {
    e.label.status == Status::Unlabeled && !e.has_mask
}

impl PreannotateReport {
    /// What the window tells the user once the masks are drawn.
    pub fn describe(&self) -> String {
        let classifier = self
            .classifier
            .as_ref()
            .map(|c| {
                format!(
                    "; classifier {c} called {} other frames not nerve",
                    self.not_called_nerve
                )
            })
            .unwrap_or_default();
        format!(
            "Run {} drew masks on {} of {} unlabeled images ({} showed no nerve{classifier}); \
             they are marked predicted: filter Browse by status Unlabeled to correct them.",
            self.run, self.filled, self.predicted, self.no_nerve_found
        )
    }
}

/// Fills the masks of the unlabeled, unmasked images with the run's binarised prediction. With
/// a classifier (as the lab's linked tool), only the frames it calls nerve are drawn on.
pub fn pre_annotate(
    project_root: &Path,
    run_id: &str,
    classifier: Option<&str>,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PreannotateReport> {
    let run = RunDir::open(project_root, run_id)?;
    if run.recipe()?.task() != Task::Segment {
        return Err(Error::run(
            &run.id,
            "a classifier cannot draw masks; choose a segmenter run",
        ));
    }
    let mut project = Project::open(project_root)?;
    if let Some(why) = project.read_only_reason() {
        return Err(Error::invalid(project_root, why));
    }
    let mut report = PreannotateReport {
        run: run.id.clone(),
        kept_existing_masks: project
            .images()
            .iter()
            .filter(|e| e.label.status == Status::Unlabeled && e.has_mask)
            .count(),
        ..Default::default()
    };
    let mut targets: Vec<String> = project
        .images()
        .iter()
        .filter(|e| wanted(e))
        .map(|e| e.stem.clone())
        .collect();
    if targets.is_empty() {
        return Ok(report);
    }
    if let Some(classifier) = classifier {
        report.classifier = Some(classifier.to_string());
        let before = targets.len();
        let called = called_nerve(project_root, &project, classifier, device, progress)?;
        targets.retain(|s| called.contains(s));
        report.not_called_nerve = before - targets.len();
        if targets.is_empty() {
            return Ok(report);
        }
    }
    let chosen: std::collections::HashSet<String> = targets.iter().cloned().collect();
    let which = |e: &ImageEntry| wanted(e) && chosen.contains(&e.stem);
    let predicted = predict::predict_where(
        project_root,
        &run.id,
        ("unlabeled", &which),
        device,
        &AtomicBool::new(false),
        progress,
    )?;
    let threshold = predicted.threshold.unwrap_or(0.5);
    for stem in targets {
        let path = predicted.output.join(format!("{stem}.png"));
        report.predicted += 1;
        if draw(&mut project, &stem, &path, threshold, &run.id)? {
            report.filled += 1;
        } else {
            report.no_nerve_found += 1;
        }
    }
    Ok(report)
}

/// The unlabeled images the classifier run calls the mask class (nerve).
fn called_nerve(
    project_root: &Path,
    project: &Project,
    classifier: &str,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<std::collections::HashSet<String>> {
    let c = RunDir::open(project_root, classifier)?;
    c.recipe_for(Task::Classify)?;
    let scores = predict::predict_where(
        project_root,
        &c.id,
        ("unlabeled", &wanted),
        device,
        &AtomicBool::new(false),
        progress,
    )?;
    let table = crate::eval::labels::read_predictions(&scores.output.join("scores.csv"))?;
    let nerve = project
        .manifest
        .match_class(&project.manifest.mask_class)
        .map(str::to_string);
    Ok(table
        .into_iter()
        .filter(|(_, pred)| project.manifest.match_class(pred).map(str::to_string) == nerve)
        .map(|(stem, _)| stem)
        .collect())
}

/// Draws `stem`'s mask from its probability map at `path`, marked predicted by `run`; false
/// when the map shows no nerve (nothing is written then).
fn draw(project: &mut Project, stem: &str, path: &Path, threshold: f32, run: &str) -> Result<bool> {
    let map = image::open(path)
        .map_err(Error::unreadable(path, "not a readable probability map"))?
        .to_luma8();
    let called: Vec<u8> = map
        .iter()
        .map(|&v| u8::from(v as f32 / 255.0 >= threshold))
        .collect();
    if called.iter().all(|&v| v == 0) {
        return Ok(false);
    }
    let mask = Mask::from_nonzero(map.width(), map.height(), &called);
    project.save_mask(stem, &mask)?;
    let mut label = project
        .get(stem)
        .map(|e| e.label.clone())
        .unwrap_or_default();
    label.mask = Some(MaskProvenance::Predicted);
    if label.comment.is_empty() {
        label.comment = format!("mask predicted by run {run}");
    }
    label.touch(&current_user());
    project.save_label(stem, &label)?;
    Ok(true)
}
