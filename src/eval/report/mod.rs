//! An evaluation's outputs: metrics.json (every number), per_image.csv, and report.md (and the
//! same as report.html, for a double-click) with its PNG and SVG plots and a sheet of samples.

pub mod html;
pub mod markdown;
pub mod plots;
pub mod samples;

use crate::eval::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::classification::ClassificationMetrics;
use super::masks::Problem;
use super::segmentation::{ImageScores, SegmentationMetrics};
use crate::atomic::write_atomic;
use plots::plot;
pub use samples::Sample;

/// Loss and metric per epoch of a training run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TrainingCurve {
    pub metric_name: String,
    pub epochs: Vec<f64>,
    pub train_loss: Vec<f64>,
    pub val_loss: Vec<f64>,
    pub train_metric: Vec<f64>,
    pub val_metric: Vec<f64>,
}

/// One image's call, for the classification per-image table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Call {
    pub stem: String,
    pub truth: String,
    pub pred: String,
    pub correct: bool,
    /// Class probabilities in the order of `classes`, when given.
    pub p: Option<Vec<f64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PerImage {
    Segmentation(Vec<ImageScores>),
    Classification(Vec<Call>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Segmentation,
    Classification,
}

/// Everything one evaluation found; metrics.json is this, and `--json` prints it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub kind: Kind,
    /// What was evaluated: the command and its inputs (folders, table, project, run, split).
    pub source: BTreeMap<String, String>,
    pub images: usize,
    /// Files missing, unreadable, mismatched or adjusted, each with what is wrong.
    pub problems: Vec<Problem>,
    pub classification: Option<ClassificationMetrics>,
    pub segmentation: Option<SegmentationMetrics>,
    /// The training history of the run, when a run was evaluated.
    pub training: Option<TrainingCurve>,
    pub per_image: PerImage,
    /// The report folder and the files written there.
    pub report_dir: Option<PathBuf>,
    pub files: Vec<String>,
}

pub(crate) fn encode_png(image: &image::RgbImage) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Drawing(format!("PNG: {e}")))?;
    Ok(out.into_inner())
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<String> {
    let path = dir.join(name);
    write_atomic(&path, bytes).map_err(Error::file(&path))?;
    Ok(name.to_string())
}

/// Writes the whole report into `dir` (made if missing) and records its files in `eval`.
pub fn write(eval: &mut Evaluation, dir: &Path, samples: &[Sample]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(Error::file(dir))?;
    let mut files = vec![];
    let mut figures = markdown::Figures::default();
    if let Some(curve) = eval.training.as_ref().filter(|c| !c.epochs.is_empty()) {
        files.extend(plot!(dir, "training_curves", (1100, 420), |a| {
            plots::training_curves(a, curve)
        })?);
        figures.training = true;
    }
    if let Some(m) = &eval.classification {
        files.extend(plot!(dir, "confusion_matrix", (640, 520), |a| {
            plots::confusion(a, m)
        })?);
        figures.confusion = true;
        if m.roc.is_some() {
            files.extend(plot!(dir, "roc_curves", (700, 620), |a| plots::roc(a, m))?);
            figures.roc = true;
        }
    }
    if let Some(m) = &eval.segmentation {
        files.extend(plot!(dir, "pr_curve", (700, 560), |a| plots::pr_curve(
            a,
            &m.pr_curve
        ))?);
        let iou: Vec<f64> = match &eval.per_image {
            PerImage::Segmentation(s) => s.iter().map(|s| s.iou).collect(),
            PerImage::Classification(_) => vec![],
        };
        files.extend(plot!(dir, "iou_histogram", (700, 460), |a| {
            plots::iou_histogram(a, &iou, m.iou.mean)
        })?);
        figures.segmentation = true;
    }
    if !samples.is_empty() {
        files.push(samples::write_sheet(dir, "samples", samples)?);
        figures.samples = true;
    }
    files.push(write_file(
        dir,
        "per_image.csv",
        per_image_csv(eval).as_bytes(),
    )?);
    files.push("report.md".into());
    files.push("report.html".into());
    files.push("metrics.json".into());
    eval.report_dir = Some(dir.to_path_buf());
    eval.files = files;
    let md = markdown::render(eval, &figures);
    write_file(dir, "report.md", md.as_bytes())?;
    let title = md
        .lines()
        .next()
        .unwrap_or("Evaluation")
        .trim_start_matches("# ");
    write_file(
        dir,
        "report.html",
        html::from_markdown(title, &md).as_bytes(),
    )?;
    let json = serde_json::to_string_pretty(eval).expect("an evaluation serialises");
    write_file(dir, "metrics.json", json.as_bytes())?;
    Ok(())
}

fn per_image_csv(eval: &Evaluation) -> String {
    match &eval.per_image {
        PerImage::Segmentation(scores) => crate::table::to_text(
            &ImageScores::COLUMNS,
            scores.iter().map(ImageScores::fields),
        ),
        PerImage::Classification(calls) => {
            let classes = eval
                .classification
                .as_ref()
                .map(|m| m.classes.clone())
                .unwrap_or_default();
            let with_p = calls.iter().any(|c| c.p.is_some());
            let p_columns: Vec<String> = classes
                .iter()
                .map(|c| format!("p_{}", c.replace(' ', "_")))
                .filter(|_| with_p)
                .collect();
            let mut header = vec!["stem", "truth", "pred", "correct"];
            header.extend(p_columns.iter().map(String::as_str));
            let rows = calls.iter().map(|c| {
                let mut row = vec![
                    c.stem.clone(),
                    c.truth.clone(),
                    c.pred.clone(),
                    c.correct.to_string(),
                ];
                if let Some(p) = c.p.as_ref().filter(|_| with_p) {
                    row.extend(p.iter().map(|v| v.to_string()));
                }
                row
            });
            crate::table::to_text(&header, rows)
        }
    }
}
