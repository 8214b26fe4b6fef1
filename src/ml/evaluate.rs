//! `nerve-studio eval PROJECT --run RUN`: predicts the split with the run, then scores the
//! predictions against the project's truth with `eval` and writes the report into the run.

use crate::ml::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::device::ComputeDevice;
use super::models::Task;
use super::predict;
use super::run::RunDir;
use crate::eval::evaluate::{self, Output};
use crate::eval::labels;
use crate::eval::masks::{self, Matched};
use crate::eval::report::{Evaluation, TrainingCurve};
use crate::project::Project;
use crate::project::label::Status;
use crate::project::splits::Split;

/// The report folder of a run's evaluation on a split.
pub fn report_dir(project: &Path, run: &str, split: Option<Split>) -> PathBuf {
    project
        .join("runs")
        .join(run)
        .join(format!("eval-{}", split.map_or("all", Split::name)))
}

/// The run's history as curves.
pub fn training_curve(run: &RunDir, task: Task) -> TrainingCurve {
    let history = run.read_history();
    TrainingCurve {
        metric_name: match task {
            Task::Classify => "accuracy".into(),
            Task::Segment => "IoU at 0.5".into(),
        },
        epochs: history.iter().map(|e| e.epoch as f64).collect(),
        train_loss: history.iter().map(|e| e.train_loss).collect(),
        val_loss: history.iter().map(|e| e.val_loss).collect(),
        train_metric: history.iter().map(|e| e.train_metric).collect(),
        val_metric: history.iter().map(|e| e.val_metric).collect(),
    }
}

/// Predicts `split` with the run and evaluates it; `out` overrides the report folder.
pub fn evaluate_run(
    project_root: &Path,
    run_id: &str,
    split: Option<Split>,
    device: &ComputeDevice,
    out: Option<PathBuf>,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Evaluation> {
    let run = RunDir::open(project_root, run_id)?;
    let task = run.recipe()?.task();
    let prediction = predict::predict(project_root, run_id, split, device, &mut |d, t| {
        progress("predicting", d, t)
    })?;
    let project = Project::open_read_only(project_root)?;
    let mut source = BTreeMap::new();
    source.insert("command".into(), "eval PROJECT --run RUN".into());
    source.insert("project".into(), project_root.display().to_string());
    source.insert("run".into(), run.id.clone());
    source.insert("split".into(), prediction.split.clone());
    source.insert("device".into(), device.name.clone());
    source.insert(
        "predictions".into(),
        prediction.output.display().to_string(),
    );
    let photos = |stem: &str| project.get(stem).map(|e| project.image_path(e));
    let output = Output {
        dir: out.unwrap_or_else(|| report_dir(project_root, &run.id, split)),
        source,
        photos: Some(&photos),
        training: Some(training_curve(&run, task)),
    };
    match task {
        Task::Classify => {
            let table = labels::read_csv(
                &prediction.output.join("scores.csv"),
                labels::Scores::Probabilities,
            )?;
            Ok(evaluate::classification_report(table, output)?)
        }
        Task::Segment => {
            let threshold = f64::from(prediction.threshold.unwrap_or(0.5));
            let mask_class = project.manifest.match_class(&project.manifest.mask_class);
            // As the segmenter is trained and scored: labeled nerve images with a mask.
            let matched: Vec<Matched> = project
                .images()
                .iter()
                .filter(|e| split.is_none() || e.split == split)
                .filter(|e| matches!(e.label.status, Status::Labeled | Status::Reviewed))
                .filter(|e| e.has_mask)
                .filter(|e| {
                    e.label
                        .class
                        .as_deref()
                        .and_then(|c| project.manifest.match_class(c))
                        == mask_class
                })
                .map(|e| Matched {
                    stem: e.stem.clone(),
                    truth: project.mask_path(&e.stem),
                    predicted: prediction.output.join(format!("{}.png", e.stem)),
                })
                .collect();
            if matched.is_empty() {
                return Err(Error::invalid(
                    project_root,
                    format!(
                        "split {} has no labeled {} image with a mask to score",
                        prediction.split, project.manifest.mask_class
                    ),
                ));
            }
            let scored = masks::score(matched, vec![], threshold, false, &mut |d, t| {
                progress("scoring", d, t)
            })?;
            Ok(evaluate::segmentation_report(scored, threshold, output)?)
        }
    }
}

/// The split argument of the run commands: train, val, test or all.
pub fn parse_split(name: Option<&str>, default: Option<Split>) -> Result<Option<Split>> {
    match name {
        None => Ok(default),
        Some("all") => Ok(None),
        Some(s) => Split::from_name(s).map(Some).ok_or_else(|| {
            Error::request(format!("--split {s}: expected train, val, test or all"))
        }),
    }
}
