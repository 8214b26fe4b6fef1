//! Whole evaluations: folders of masks or a table of class predictions in, an `Evaluation`
//! (with its report written) out. `ml::evaluate` feeds a trained run's predictions through the
//! same two functions.

use super::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::RgbImage;
use image::imageops::{self, FilterType};

use super::classification;
use super::labels::{self, LabelTable};
use super::masks::{self, Problem, Scored, read_map};
use super::report::{self, Call, Evaluation, Kind, PerImage, Sample, TrainingCurve, samples};
use super::segmentation::{self, ImageScores};

/// Where a sample's photo comes from: a folder of images by stem, or a lookup (a project).
pub type PhotoLookup<'a> = &'a dyn Fn(&str) -> Option<PathBuf>;

/// The photo with `stem` in `dir` (.png, .jpg, .jpeg).
pub fn photo_in(dir: &Path, stem: &str) -> Option<PathBuf> {
    ["png", "jpg", "jpeg", "PNG", "JPG", "JPEG"]
        .iter()
        .map(|e| dir.join(format!("{stem}.{e}")))
        .find(|p| p.is_file())
}

/// Options shared by the evaluations.
pub struct Output<'a> {
    pub dir: PathBuf,
    pub source: BTreeMap<String, String>,
    pub photos: Option<PhotoLookup<'a>>,
    pub training: Option<TrainingCurve>,
}

/// Sample size of each kind (right / wrong, best / worst).
const SAMPLES_EACH: usize = 4;

/// Scores matched masks and writes the report.
pub fn segmentation_report(scored: Scored, threshold: f64, output: Output) -> Result<Evaluation> {
    let metrics = segmentation::summarise(&scored.scores, &scored.histogram, threshold);
    let samples = segmentation_samples(&scored, threshold, output.photos);
    let mut eval = Evaluation {
        kind: Kind::Segmentation,
        source: output.source,
        images: scored.scores.len(),
        problems: scored.problems,
        classification: None,
        segmentation: Some(metrics),
        training: output.training,
        per_image: PerImage::Segmentation(scored.scores),
        report_dir: None,
        files: vec![],
    };
    report::write(&mut eval, &output.dir, &samples)?;
    Ok(eval)
}

/// `nerve-studio eval masks`.
pub fn masks(
    truth: &Path,
    predicted: &Path,
    threshold: f64,
    resize: bool,
    output: Output,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Evaluation> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(Error::Option(format!(
            "--threshold {threshold}: expected a probability from 0 to 1"
        )));
    }
    for dir in [truth, predicted] {
        if !dir.is_dir() {
            return Err(Error::invalid(dir, "not a folder"));
        }
    }
    let (matched, problems) = masks::match_folders(truth, predicted)?;
    let scored = masks::score(matched, problems, threshold, resize, progress)?;
    segmentation_report(scored, threshold, output)
}

/// `nerve-studio eval labels`; `softmax` passes the scores through a softmax first, as the
/// lab's notebook did.
pub fn labels(csv: &Path, softmax: bool, output: Output) -> Result<Evaluation> {
    let kind = if softmax {
        labels::Scores::Logits
    } else {
        labels::Scores::Probabilities
    };
    let mut table = labels::read_csv(csv, kind)?;
    if softmax {
        if table.scores().is_none() {
            return Err(Error::invalid(csv, "--softmax needs the p_<class> columns"));
        }
        table.softmax_scores();
    }
    classification_report(table, output)
}

/// Evaluates a predictions table and writes the report.
pub fn classification_report(table: LabelTable, output: Output) -> Result<Evaluation> {
    let truth: Vec<usize> = table.rows.iter().map(|r| r.truth).collect();
    let predicted: Vec<usize> = table.rows.iter().map(|r| r.predicted).collect();
    let scores = table.scores();
    let metrics = classification::evaluate(&table.classes, &truth, &predicted, scores.as_deref());
    let calls: Vec<Call> = table
        .rows
        .iter()
        .map(|r| Call {
            stem: r.stem.clone(),
            truth: table.classes[r.truth].clone(),
            pred: table.classes[r.predicted].clone(),
            correct: r.truth == r.predicted,
            p: r.scores.clone(),
        })
        .collect();
    let samples = classification_samples(&calls, output.photos);
    let mut eval = Evaluation {
        kind: Kind::Classification,
        source: output.source,
        images: calls.len(),
        problems: table.problems,
        classification: Some(metrics),
        segmentation: None,
        training: output.training,
        per_image: PerImage::Classification(calls),
        report_dir: None,
        files: vec![],
    };
    report::write(&mut eval, &output.dir, &samples)?;
    Ok(eval)
}

/// Reads a photo, shrunk so its longer side is at most `side`.
fn small_photo(path: &Path, side: u32) -> Option<RgbImage> {
    let img = image::open(path).ok()?.to_rgb8();
    Some(shrink(&img, side))
}

fn shrink<P: image::Pixel + 'static>(
    img: &image::ImageBuffer<P, Vec<P::Subpixel>>,
    side: u32,
) -> image::ImageBuffer<P, Vec<P::Subpixel>> {
    let (w, h) = img.dimensions();
    let scale = (side as f64 / w.max(h) as f64).min(1.0);
    let (tw, th) = (
        ((w as f64 * scale).round() as u32).max(1),
        ((h as f64 * scale).round() as u32).max(1),
    );
    imageops::resize(img, tw, th, FilterType::Triangle)
}

/// The best and the worst images by IoU, truth and prediction drawn over the photo.
fn segmentation_samples(
    scored: &Scored,
    threshold: f64,
    photos: Option<PhotoLookup>,
) -> Vec<Sample> {
    let mut order: Vec<usize> = (0..scored.scores.len()).collect();
    order.sort_by(|&a, &b| scored.scores[b].iou.total_cmp(&scored.scores[a].iou));
    let best = order.iter().take(SAMPLES_EACH).copied();
    let worst = order.iter().rev().take(SAMPLES_EACH).rev().copied();
    let mut picked: Vec<usize> = best.collect();
    for k in worst {
        if !picked.contains(&k) {
            picked.push(k);
        }
    }
    let side = 480;
    picked
        .into_iter()
        .filter_map(|k| {
            let m = &scored.matched[k];
            let s: &ImageScores = &scored.scores[k];
            let mut note = None;
            let truth = shrink(&read_map(&m.truth, &mut note).ok()?, side);
            let pred = read_map(&m.predicted, &mut note).ok()?;
            let pred = imageops::resize(&pred, truth.width(), truth.height(), FilterType::Triangle);
            let called: Vec<bool> = pred
                .iter()
                .map(|&v| crate::eval::segmentation::called(v, threshold))
                .collect();
            let photo = photos
                .and_then(|f| f(&m.stem))
                .and_then(|p| small_photo(&p, side))
                .map(|p| imageops::resize(&p, truth.width(), truth.height(), FilterType::Triangle));
            Some(Sample {
                title: m.stem.clone(),
                detail: format!(
                    "IoU {:.3}, Dice {:.3}, clDice {:.3}",
                    s.iou, s.dice, s.cl_dice
                ),
                image: samples::mask_overlay(photo.as_ref(), &truth, &called),
                correct: s.iou >= 0.5,
            })
        })
        .collect()
}

/// Confident wrong calls and right calls spread over the table, when photos are at hand.
fn classification_samples(calls: &[Call], photos: Option<PhotoLookup>) -> Vec<Sample> {
    let Some(photos) = photos else { return vec![] };
    let confidence = |c: &Call| {
        c.p.as_ref()
            .map_or(0.0, |p| p.iter().copied().fold(0.0, f64::max))
    };
    let mut wrong: Vec<&Call> = calls.iter().filter(|c| !c.correct).collect();
    wrong.sort_by(|a, b| confidence(b).total_cmp(&confidence(a)));
    let right: Vec<&Call> = calls.iter().filter(|c| c.correct).collect();
    let step = (right.len() / SAMPLES_EACH).max(1);
    let right = right.into_iter().step_by(step).take(SAMPLES_EACH);
    right
        .chain(wrong.into_iter().take(SAMPLES_EACH))
        .filter_map(|c| {
            let photo = small_photo(&photos(&c.stem)?, 480)?;
            let p =
                c.p.as_ref()
                    .map_or(String::new(), |_| format!(", p {:.2}", confidence(c)));
            Some(Sample {
                title: format!("{} → {}", c.truth, c.pred),
                detail: format!("{}{p}", c.stem),
                image: photo,
                correct: c.correct,
            })
        })
        .collect()
}

/// A problem list as lines for the terminal.
pub fn problem_lines(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(Problem::to_string).collect()
}
