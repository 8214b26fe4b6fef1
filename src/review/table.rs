//! The review of a run: every image's truth beside the models' predictions, scored with `eval`,
//! and the queue of images to look at, worst first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use image::GrayImage;

use super::error::{Error, Result};
use crate::eval::classification::{ClassificationMetrics, evaluate};
use crate::eval::segmentation::{self, ImageScores, MaskPair, ScoreHistogram, SegmentationMetrics};
use crate::ml::device::ComputeDevice;
use crate::ml::models::Task;
use crate::ml::predict::{self, predictions_dir};
use crate::ml::run::{self, RunDir};
use crate::project::label::Status;
use crate::project::splits::Split;
use crate::project::{ImageEntry, Project};

/// Below this share of the image predicted nerve, the segmenter "found nothing".
pub const NOTHING_FOUND: f64 = 0.0005;

/// The runs under review: the segmenter, the classifier, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Models {
    pub segmenter: Option<String>,
    pub classifier: Option<String>,
}

impl Models {
    /// The run whose folder keeps the review's decisions and report.
    pub fn primary(&self) -> Option<&str> {
        self.segmenter.as_deref().or(self.classifier.as_deref())
    }
}

/// One image of the review.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub stem: String,
    pub split: Option<Split>,
    pub status: Status,
    /// The labeled class (an index into `Review::classes`); `None` when unlabeled.
    pub truth: Option<usize>,
    pub has_mask: bool,
    /// The classifier's class probabilities.
    pub probabilities: Option<Vec<f64>>,
    /// The share of the image the segmenter calls nerve at the run's threshold.
    pub predicted_share: Option<f64>,
    /// IoU, Dice, clDice… of a labeled nerve image with a mask against the segmenter.
    pub scores: Option<ImageScores>,
}

impl Row {
    /// The classifier's call and its probability.
    pub fn call(&self) -> Option<(usize, f64)> {
        let p = self.probabilities.as_ref()?;
        p.iter()
            .copied()
            .enumerate()
            .fold(None, |best: Option<(usize, f64)>, (i, v)| match best {
                Some((_, b)) if b >= v => best,
                _ => Some((i, v)),
            })
    }

    /// Whether the classifier's call differs from the label (`None`: unlabeled or no call).
    pub fn misclassified(&self) -> Option<bool> {
        Some(self.call()?.0 != self.truth?)
    }

    pub fn iou(&self) -> Option<f64> {
        self.scores.as_ref().map(|s| s.iou)
    }
}

/// How the queue is sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Order {
    /// Lowest IoU first (images without one last).
    #[default]
    WorstIou,
    /// Wrong calls first (the most confident first), then right calls least confident first.
    ClassifierDoubt,
    /// The label, the classifier and the segmenter disagreeing first.
    Disagreement,
}

impl Order {
    pub const ALL: [Order; 3] = [Order::WorstIou, Order::ClassifierDoubt, Order::Disagreement];
}

impl std::fmt::Display for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Order::WorstIou => "Worst IoU first",
            Order::ClassifierDoubt => "Classifier errors, then low confidence",
            Order::Disagreement => "Disagreements first",
        })
    }
}

/// Which images the queue shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub class: Option<usize>,
    pub split: Option<Split>,
    pub status: Option<Status>,
    /// A confusion-matrix cell: (labeled class, called class).
    pub cell: Option<(usize, usize)>,
}

/// Everything the Review screen shows of one run (or a segmenter and a classifier).
#[derive(Clone, Debug)]
pub struct Review {
    pub root: PathBuf,
    pub models: Models,
    pub classes: Vec<String>,
    /// The class whose images have masks (nerve).
    pub nerve: Option<usize>,
    /// The segmenter's binarisation threshold.
    pub threshold: f64,
    pub rows: Vec<Row>,
}

impl Review {
    pub fn row(&self, stem: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.stem == stem)
    }

    pub fn row_mut(&mut self, stem: &str) -> Option<&mut Row> {
        self.rows.iter_mut().find(|r| r.stem == stem)
    }

    /// Where the segmenter's probability map of `stem` is.
    pub fn prediction_path(&self, stem: &str) -> Option<PathBuf> {
        let run = self.models.segmenter.as_deref()?;
        Some(predictions_dir(&self.root, run).join(format!("{stem}.png")))
    }

    pub fn class_name(&self, i: usize) -> &str {
        self.classes.get(i).map_or("?", String::as_str)
    }

    /// Why the label, the classifier and the segmenter disagree on `row`, if they do, with a
    /// strength to sort by (larger: more striking).
    pub fn disagreement(&self, row: &Row) -> Option<(f64, String)> {
        let nerve = self.nerve?;
        let found = row.predicted_share.map(|s| s > NOTHING_FOUND);
        let share = row.predicted_share.unwrap_or(0.0);
        match (row.truth, found) {
            (Some(t), Some(true)) if t != nerve => {
                return Some((
                    2.0 + share,
                    format!(
                        "labeled {} but a mask was predicted ({:.1} % of the image)",
                        self.class_name(t),
                        share * 100.0
                    ),
                ));
            }
            (Some(t), Some(false)) if t == nerve => {
                return Some((3.0, "labeled nerve but no nerve was predicted".into()));
            }
            _ => {}
        }
        match (row.call(), found) {
            (Some((c, p)), Some(false)) if c == nerve => Some((
                1.0 + p,
                format!("the classifier calls nerve ({p:.2}) but the segmenter finds none"),
            )),
            (Some((c, p)), Some(true)) if c != nerve => Some((
                1.0 + share,
                format!(
                    "the segmenter finds nerve but the classifier calls {} ({p:.2})",
                    self.class_name(c)
                ),
            )),
            _ => None,
        }
    }

    pub fn accepts(&self, row: &Row, filter: &Filter) -> bool {
        (filter.class.is_none() || row.truth == filter.class)
            && (filter.split.is_none() || row.split == filter.split)
            && (filter.status.is_none() || Some(row.status) == filter.status)
            && filter
                .cell
                .is_none_or(|(t, c)| row.truth == Some(t) && row.call().map(|c| c.0) == Some(c))
    }

    /// The rows `filter` keeps, in `order` (ties by name): indices into `rows`.
    pub fn queue(&self, order: Order, filter: &Filter) -> Vec<usize> {
        let mut keep: Vec<usize> = (0..self.rows.len())
            .filter(|&i| self.accepts(&self.rows[i], filter))
            .collect();
        let key = |row: &Row| -> f64 {
            match order {
                Order::WorstIou => row.iou().unwrap_or(f64::INFINITY),
                Order::ClassifierDoubt => match (row.misclassified(), row.call()) {
                    (Some(true), Some((_, p))) => -1.0 - p,
                    (_, Some((_, p))) => p,
                    _ => f64::INFINITY,
                },
                Order::Disagreement => self.disagreement(row).map_or(f64::INFINITY, |(s, _)| -s),
            }
        };
        keep.sort_by(|&a, &b| {
            let (ra, rb) = (&self.rows[a], &self.rows[b]);
            key(ra)
                .total_cmp(&key(rb))
                .then_with(|| ra.stem.cmp(&rb.stem))
        });
        keep
    }

    /// The classifier's metrics over the labeled rows `filter` keeps (the cell ignored).
    pub fn classification(&self, filter: &Filter) -> Option<ClassificationMetrics> {
        let filter = Filter {
            cell: None,
            ..filter.clone()
        };
        let rows: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| self.accepts(r, &filter) && r.truth.is_some() && r.call().is_some())
            .collect();
        if rows.is_empty() {
            return None;
        }
        let truth: Vec<usize> = rows.iter().filter_map(|r| r.truth).collect();
        let called: Vec<usize> = rows.iter().filter_map(|r| r.call().map(|c| c.0)).collect();
        let scores: Vec<Vec<f64>> = rows
            .iter()
            .filter_map(|r| r.probabilities.clone())
            .collect();
        Some(evaluate(&self.classes, &truth, &called, Some(&scores)))
    }

    /// The segmenter's per-image summaries over the scored rows `filter` keeps.
    pub fn segmentation(&self, filter: &Filter) -> Option<SegmentationMetrics> {
        let scores: Vec<ImageScores> = self
            .rows
            .iter()
            .filter(|r| self.accepts(r, filter))
            .filter_map(|r| r.scores.clone())
            .collect();
        (!scores.is_empty())
            .then(|| segmentation::summarise(&scores, &ScoreHistogram::default(), self.threshold))
    }
}

/// Predicts what is missing and scores every image: the review of `models`.
/// The one rule for whether an image's class is ground truth for the review: only labeled and
/// reviewed images count (a flagged or unlabeled image's class is a guess under question).
pub fn counts_as_truth(status: Status) -> bool {
    matches!(status, Status::Labeled | Status::Reviewed)
}

/// The classifier's probabilities per image, predicting first where its table lacks images.
fn classifier_scores(
    root: &Path,
    project: &Project,
    id: &str,
    device: &ComputeDevice,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<HashMap<String, Vec<f64>>> {
    let run = checked(root, id, Task::Classify)?;
    let csv = predictions_dir(root, &run.id).join("scores.csv");
    let table = read_scores(&csv, &run).unwrap_or_default();
    if project.images().iter().all(|e| table.contains_key(&e.stem)) {
        return Ok(table);
    }
    let all = |_: &ImageEntry| true;
    predict::predict_where(root, &run.id, ("all", &all), device, stop, &mut |d, t| {
        progress("Classifying", d, t)
    })?;
    read_scores(&csv, &run)
}

/// Predicts the segmenter's maps that are missing or older than its weights; its threshold.
fn segmenter_maps(
    root: &Path,
    project: &Project,
    id: &str,
    device: &ComputeDevice,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<f64> {
    let run = checked(root, id, Task::Segment)?;
    let threshold = f64::from(run.info()?.threshold.unwrap_or(0.5));
    let dir = predictions_dir(root, &run.id);
    let missing: std::collections::HashSet<String> = project
        .images()
        .iter()
        .filter(|e| !fresh(&dir.join(format!("{}.png", e.stem)), &run))
        .map(|e| e.stem.clone())
        .collect();
    if !missing.is_empty() {
        let which = |e: &ImageEntry| missing.contains(&e.stem);
        predict::predict_where(
            root,
            &run.id,
            ("review", &which),
            device,
            stop,
            &mut |d, t| progress("Segmenting", d, t),
        )?;
    }
    Ok(threshold)
}

/// Builds the review of `models`: predicts what is missing, then scores every image. Setting
/// `stop` ends it between its stages, prediction batches and images (whoever asked for it has
/// gone); the maps predicted so far stay cached for the next build.
pub fn build(
    root: &Path,
    models: &Models,
    device: &ComputeDevice,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<Review> {
    let stopped = || -> Result<()> {
        match stop.load(Ordering::Relaxed) {
            true => Err(Error::Stopped),
            false => Ok(()),
        }
    };
    if models.primary().is_none() {
        return Err(Error::Setup(
            "choose a segmenter or a classifier run to review".into(),
        ));
    }
    let project = Project::open_read_only(root)?;
    let classes = project.manifest.classes.clone();
    let nerve = project
        .manifest
        .match_class(&project.manifest.mask_class)
        .and_then(|m| classes.iter().position(|c| c == m));
    let class_of = |e: &ImageEntry| {
        e.label
            .class
            .as_deref()
            .and_then(|c| project.manifest.match_class(c))
            .and_then(|c| classes.iter().position(|k| k == c))
    };
    let labeled = |e: &ImageEntry| counts_as_truth(e.label.status);

    let probabilities = match &models.classifier {
        Some(id) => classifier_scores(root, &project, id, device, stop, progress)?,
        None => HashMap::new(),
    };
    stopped()?;
    let threshold = match &models.segmenter {
        Some(id) => segmenter_maps(root, &project, id, device, stop, progress)?,
        None => 0.5,
    };
    stopped()?;
    let review = Review {
        root: root.to_path_buf(),
        models: models.clone(),
        classes: classes.clone(),
        nerve,
        threshold,
        rows: Vec::new(),
    };
    let entries: Vec<&ImageEntry> = project.images().iter().collect();
    let rows = crate::project::parallel::try_map(
        &entries,
        |e| -> Result<Row> {
            stopped()?;
            let truth = class_of(e).filter(|_| labeled(e));
            let mut row = Row {
                stem: e.stem.clone(),
                split: e.split,
                status: e.label.status,
                truth,
                has_mask: e.has_mask,
                probabilities: probabilities.get(&e.stem).cloned(),
                predicted_share: None,
                scores: None,
            };
            if let Some(path) = review.prediction_path(&e.stem) {
                let map = read_gray(&path)?;
                let mask = (e.has_mask && truth.is_some() && truth == nerve)
                    .then(|| read_gray(&project.mask_path(&e.stem)))
                    .transpose()?;
                score_row(&mut row, &map, mask.as_ref(), threshold)?;
            }
            Ok(row)
        },
        &mut |d, t| progress("Scoring", d, t),
    )?;
    Ok(Review { rows, ..review })
}

/// Fills the row's predicted share and, with a truth mask, its scores.
pub fn score_row(
    row: &mut Row,
    map: &GrayImage,
    truth: Option<&GrayImage>,
    threshold: f64,
) -> Result<()> {
    let called = map
        .iter()
        .filter(|&&v| segmentation::called(v, threshold))
        .count();
    row.predicted_share = Some(called as f64 / (map.len().max(1)) as f64);
    row.scores = match truth {
        Some(t) if t.dimensions() != map.dimensions() => {
            return Err(Error::image(
                &row.stem,
                format!(
                    "the mask is {}x{} but the prediction is {}x{}",
                    t.width(),
                    t.height(),
                    map.width(),
                    map.height()
                ),
            ));
        }
        Some(t) => Some(segmentation::score_image(
            &MaskPair {
                stem: &row.stem,
                width: map.width() as usize,
                height: map.height() as usize,
                truth: t.as_raw(),
                predicted: map.as_raw(),
            },
            threshold,
            &mut ScoreHistogram::default(),
        )),
        None => None,
    };
    Ok(())
}

/// A mask or probability map as 8-bit grey, as written. (Not eval's `read_map`: it reads a
/// map whose highest level is 1 as a 0/1 mask, which a nearly empty probability map can be.)
pub fn read_gray(path: &Path) -> Result<GrayImage> {
    Ok(image::open(path).map_err(Error::picture(path))?.to_luma8())
}

/// The run, which must exist and do `task`.
fn checked(root: &Path, id: &str, task: Task) -> Result<RunDir> {
    let run = RunDir::open(root, id)?;
    run.recipe_for(task)?;
    if !run.file(run::WEIGHTS).exists() {
        return Err(Error::Setup(format!(
            "run {}: it has no trained weights yet",
            run.id
        )));
    }
    Ok(run)
}

/// Whether a cached prediction exists and is newer than the run's weights.
fn fresh(path: &Path, run: &RunDir) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(path), modified(&run.file(run::WEIGHTS))) {
        (Some(p), Some(w)) => p >= w,
        _ => false,
    }
}

/// `scores.csv` as written by `predict`: the probabilities per stem, in the run's class order;
/// a table older than the weights counts as missing.
fn read_scores(path: &Path, run: &RunDir) -> Result<HashMap<String, Vec<f64>>> {
    if !fresh(path, run) {
        return Ok(HashMap::new());
    }
    let t = crate::table::read(path)?;
    let mut out = HashMap::new();
    for row in &t.rows {
        let values: std::result::Result<Vec<f64>, _> =
            row.fields.iter().skip(3).map(|v| v.parse()).collect();
        match (row.fields.first(), values) {
            (Some(stem), Ok(p)) if !p.is_empty() => {
                out.insert(stem.clone(), p);
            }
            _ => {
                return Err(Error::invalid(
                    path,
                    format!("line {}: not stem,truth,pred,p…", row.line),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(stem: &str, truth: Option<usize>, p: Option<[f64; 3]>, share: Option<f64>) -> Row {
        Row {
            stem: stem.into(),
            split: Some(Split::Test),
            status: Status::Labeled,
            truth,
            has_mask: truth == Some(0),
            probabilities: p.map(|p| p.to_vec()),
            predicted_share: share,
            scores: None,
        }
    }

    fn review(rows: Vec<Row>) -> Review {
        Review {
            root: PathBuf::new(),
            models: Models::default(),
            classes: vec!["nerve".into(), "opening wound".into(), "tendon".into()],
            nerve: Some(0),
            threshold: 0.5,
            rows,
        }
    }

    #[test]
    fn worst_iou_comes_first_and_unscored_images_last() {
        let mut r = review(vec![
            row("a", Some(0), None, Some(0.1)),
            row("b", Some(0), None, Some(0.1)),
            row("c", Some(2), None, Some(0.0)),
        ]);
        let map = GrayImage::from_raw(2, 2, vec![255, 255, 0, 0]).unwrap();
        let half = GrayImage::from_raw(2, 2, vec![255, 0, 0, 0]).unwrap();
        let whole = GrayImage::from_raw(2, 2, vec![255, 255, 0, 0]).unwrap();
        score_row(&mut r.rows[0], &map, Some(&whole), 0.5).unwrap();
        score_row(&mut r.rows[1], &map, Some(&half), 0.5).unwrap();
        let order: Vec<&str> = r
            .queue(Order::WorstIou, &Filter::default())
            .into_iter()
            .map(|i| r.rows[i].stem.as_str())
            .collect();
        assert_eq!(order, ["b", "a", "c"]);
        assert!((r.rows[1].iou().unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(r.rows[0].predicted_share, Some(0.5));
    }

    #[test]
    fn wrong_confident_calls_first_then_doubtful_right_ones() {
        let r = review(vec![
            row("sure", Some(0), Some([0.9, 0.05, 0.05]), None),
            row("doubt", Some(0), Some([0.4, 0.3, 0.3]), None),
            row("wrong", Some(1), Some([0.8, 0.1, 0.1]), None),
            row("wrong-less", Some(2), Some([0.5, 0.1, 0.4]), None),
        ]);
        let q: Vec<&str> = r
            .queue(Order::ClassifierDoubt, &Filter::default())
            .into_iter()
            .map(|i| r.rows[i].stem.as_str())
            .collect();
        assert_eq!(q, ["wrong", "wrong-less", "doubt", "sure"]);
        let cell = Filter {
            cell: Some((1, 0)),
            ..Default::default()
        };
        assert_eq!(r.queue(Order::WorstIou, &cell), vec![2]);
        let m = r.classification(&Filter::default()).unwrap();
        assert_eq!(m.confusion[1][0], 1);
        assert_eq!(m.confusion[0][0], 2);
    }

    #[test]
    fn disagreements_name_what_disagrees() {
        let r = review(vec![
            row("agree", Some(0), Some([0.9, 0.05, 0.05]), Some(0.2)),
            row("tendon-masked", Some(2), Some([0.1, 0.1, 0.8]), Some(0.1)),
            row("nerve-empty", Some(0), Some([0.9, 0.05, 0.05]), Some(0.0)),
            row("models-differ", None, Some([0.1, 0.1, 0.8]), Some(0.3)),
        ]);
        assert!(r.disagreement(&r.rows[0]).is_none());
        assert!(
            r.disagreement(&r.rows[1])
                .unwrap()
                .1
                .contains("labeled tendon")
        );
        assert!(r.disagreement(&r.rows[2]).unwrap().1.contains("no nerve"));
        assert!(
            r.disagreement(&r.rows[3])
                .unwrap()
                .1
                .contains("calls tendon")
        );
        let q: Vec<&str> = r
            .queue(Order::Disagreement, &Filter::default())
            .into_iter()
            .map(|i| r.rows[i].stem.as_str())
            .collect();
        assert_eq!(
            q,
            ["nerve-empty", "tendon-masked", "models-differ", "agree"]
        );
    }
}
