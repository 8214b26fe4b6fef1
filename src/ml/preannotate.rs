//! Pre-annotation: a trained segmenter draws masks on the images nobody has labeled yet, marked
//! as predicted, for the technician to correct. Masks that exist are never touched.

use std::path::Path;

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

/// Fills the masks of the unlabeled, unmasked images with the run's binarised prediction. With
/// a classifier (as the lab's linked tool), only the frames it calls nerve are drawn on.
pub fn pre_annotate(
    project_root: &Path,
    run_id: &str,
    classifier: Option<&str>,
    device: &ComputeDevice,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<PreannotateReport, String> {
    let run = RunDir::open(project_root, run_id)?;
    if run.recipe()?.task() != Task::Segment {
        return Err(format!(
            "run {}: a classifier cannot draw masks; choose a segmenter run",
            run.id
        ));
    }
    let mut project = Project::open(project_root).map_err(|e| e.to_string())?;
    if let Some(why) = project.read_only_reason() {
        return Err(format!("{}: {why}", project_root.display()));
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
        let c = RunDir::open(project_root, classifier)?;
        c.recipe_for(Task::Classify)?;
        report.classifier = Some(c.id.clone());
        let scores = predict::predict_where(
            project_root,
            &c.id,
            ("unlabeled", &wanted),
            device,
            progress,
        )?;
        let table = crate::eval::labels::read_predictions(&scores.output.join("scores.csv"))?;
        let nerve = project
            .manifest
            .match_class(&project.manifest.mask_class)
            .map(str::to_string);
        let called: std::collections::HashSet<String> = table
            .into_iter()
            .filter(|(_, pred)| project.manifest.match_class(pred).map(str::to_string) == nerve)
            .map(|(stem, _)| stem)
            .collect();
        let before = targets.len();
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
        progress,
    )?;
    let threshold = predicted.threshold.unwrap_or(0.5);
    let user = current_user();
    for stem in targets {
        let path = predicted.output.join(format!("{stem}.png"));
        let map = image::open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .to_luma8();
        let called: Vec<u8> = map
            .iter()
            .map(|&v| u8::from(v as f32 / 255.0 >= threshold))
            .collect();
        report.predicted += 1;
        if called.iter().all(|&v| v == 0) {
            report.no_nerve_found += 1;
            continue;
        }
        let mask = Mask::from_nonzero(map.width(), map.height(), &called);
        project.save_mask(&stem, &mask).map_err(|e| e.to_string())?;
        let mut label = project
            .get(&stem)
            .map(|e| e.label.clone())
            .unwrap_or_default();
        label.mask = Some(MaskProvenance::Predicted);
        label.comment = if label.comment.is_empty() {
            format!("mask predicted by run {}", run.id)
        } else {
            label.comment
        };
        label.touch(&user);
        project
            .save_label(&stem, &label)
            .map_err(|e| e.to_string())?;
        report.filled += 1;
    }
    Ok(report)
}
