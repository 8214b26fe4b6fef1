//! The reviewer's decisions: accept a prediction as the truth (the mask it replaces is kept in
//! the run's review folder), flag an image with a comment, or send it to be edited; each is
//! recorded in `runs/<run>/review/decisions.json` for the review report.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::error::{Error, Result};
use super::table::{Review, score_row};
use crate::atomic::write_atomic;
use crate::mask::Mask;
use crate::project::label::{ImageLabel, MaskProvenance, Status, current_user, now_rfc3339};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The segmenter's mask became the truth.
    AcceptedMask,
    /// The classifier's call became the image's class.
    AcceptedClass,
    /// Marked for a second look, with a comment.
    Flagged,
    /// Sent to the Annotate screen to be corrected.
    Edited,
    /// An acceptance taken back (Ctrl+Z): the mask and label it replaced were restored.
    Undone,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::AcceptedMask => "accepted mask",
            Verdict::AcceptedClass => "accepted class",
            Verdict::Flagged => "flagged",
            Verdict::Edited => "edited",
            Verdict::Undone => "undone",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub stem: String,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    pub reviewer: String,
    pub at: String,
    /// The image's IoU and the classifier's call when the decision was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iou: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Decision {
    pub fn new(review: &Review, stem: &str, verdict: Verdict, comment: String) -> Decision {
        let row = review.row(stem);
        Decision {
            stem: stem.to_string(),
            verdict,
            comment,
            reviewer: current_user(),
            at: now_rfc3339(),
            iou: row.and_then(|r| r.iou()),
            call: row
                .and_then(|r| r.call())
                .map(|(c, p)| format!("{} ({p:.2})", review.class_name(c))),
            label: row
                .and_then(|r| r.truth)
                .map(|t| review.class_name(t).to_string()),
        }
    }
}

/// The review folder of a run.
pub fn review_dir(root: &Path, run: &str) -> PathBuf {
    root.join("runs").join(run).join("review")
}

pub fn log_path(root: &Path, run: &str) -> PathBuf {
    review_dir(root, run).join("decisions.json")
}

/// The decisions recorded so far (none when there is no log yet).
pub fn read_log(root: &Path, run: &str) -> Result<Vec<Decision>> {
    let path = log_path(root, run);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| Error::invalid(&path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::file(&path)(e)),
    }
}

/// Writes the whole log atomically. `generation` orders the writes of one window: a write
/// older than one already made is skipped, so a slow thread never puts back an older log.
pub fn write_log(root: &Path, run: &str, decisions: &[Decision], generation: u64) -> Result<()> {
    static LAST: Mutex<u64> = Mutex::new(0);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if generation < *last {
        return Ok(());
    }
    *last = generation;
    let path = log_path(root, run);
    let text = serde_json::to_string_pretty(decisions).expect("decisions serialise");
    write_atomic(&path, text.as_bytes()).map_err(Error::file(&path))
}

/// Adds `decision` to the log; earlier decisions on the same image stay (the log is the
/// image's whole history: flagged, then edited, then accepted…).
pub fn record(log: &mut Vec<Decision>, decision: Decision) {
    log.push(decision);
}

/// What accepting wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Accepted {
    pub stem: String,
    pub label: ImageLabel,
    pub has_mask: bool,
    /// Where the mask it replaced was kept.
    pub kept: Option<PathBuf>,
    pub take: Take,
    /// The mask written (0/255), when the mask was accepted.
    pub written: Option<image::GrayImage>,
    /// What the image was before, to undo the acceptance.
    pub before: Before,
}

/// An image's files before an acceptance: its label, and its mask file's bytes (`None`: it had
/// no mask), so undoing restores them byte for byte.
#[derive(Clone, Debug, PartialEq)]
pub struct Before {
    pub label: ImageLabel,
    pub mask: Option<Vec<u8>>,
}

/// The files an acceptance touches.
#[derive(Clone, Debug)]
pub struct AcceptPaths {
    pub mask: PathBuf,
    pub label: PathBuf,
    /// The segmenter's probability map, when there is a segmenter.
    pub prediction: Option<PathBuf>,
    /// Where a replaced mask is kept.
    pub keep_dir: PathBuf,
}

/// Which prediction becomes the truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Take {
    /// The segmenter's mask (provenance "predicted"); an unlabeled image becomes nerve.
    Mask,
    /// The classifier's call becomes the class; the mask is left as it is.
    Class,
}

impl Take {
    pub fn verdict(self) -> Verdict {
        match self {
            Take::Mask => Verdict::AcceptedMask,
            Take::Class => Verdict::AcceptedClass,
        }
    }
}

/// Makes one of the models' predictions the truth of an image (see `Take`); the status becomes
/// reviewed. A mask it replaces is copied to `keep_dir` first. Nothing is written unless every
/// file was read.
pub fn accept(
    review: &Review,
    stem: &str,
    label: &ImageLabel,
    paths: &AcceptPaths,
    take: Take,
) -> Result<Accepted> {
    let row = review
        .row(stem)
        .ok_or_else(|| Error::image(stem, "not in this review"))?;
    let before = Before {
        label: label.clone(),
        mask: match std::fs::read(&paths.mask) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::file(&paths.mask)(e)),
        },
    };
    let mut label = label.clone();
    let mut kept = None;
    let mut written = None;
    let mut has_mask = before.mask.is_some();
    match take {
        Take::Class => {
            let (call, _) = row
                .call()
                .ok_or_else(|| Error::image(stem, "no classifier call to accept"))?;
            label.class = Some(review.class_name(call).to_string());
        }
        Take::Mask => {
            let map_path = paths
                .prediction
                .as_ref()
                .ok_or_else(|| Error::image(stem, "no segmenter prediction to accept"))?;
            let map = super::table::read_gray(map_path)?;
            let truth = image::GrayImage::from_fn(map.width(), map.height(), |x, y| {
                let on =
                    crate::eval::segmentation::called(map.get_pixel(x, y).0[0], review.threshold);
                image::Luma([if on { 255 } else { 0 }])
            });
            let mask = Mask::from_nonzero(truth.width(), truth.height(), truth.as_raw());
            if let Some(bytes) = &before.mask {
                let to = paths.keep_dir.join(format!("{stem}.png"));
                write_atomic(&to, bytes).map_err(Error::file(&to))?;
                kept = Some(to);
            }
            crate::mask::write_mask(&paths.mask, &mask)?;
            label.mask = Some(MaskProvenance::Predicted);
            has_mask = true;
            written = Some(truth);
            if label.class.is_none()
                && let Some(n) = review.nerve
            {
                label.class = Some(review.class_name(n).to_string());
            }
        }
    }
    label.status = Status::Reviewed;
    label.touch(&current_user());
    crate::project::write_label(&paths.label, &label)?;
    Ok(Accepted {
        stem: stem.to_string(),
        label,
        has_mask,
        kept,
        take,
        written,
        before,
    })
}

/// Takes an acceptance back: the mask file it replaced is written again byte for byte (or
/// removed, when the image had none) and the label restored. Returns whether a mask remains.
pub fn undo(accepted: &Accepted, paths: &AcceptPaths) -> Result<bool> {
    let before = &accepted.before;
    if accepted.take == Take::Mask {
        match &before.mask {
            Some(bytes) => write_atomic(&paths.mask, bytes).map_err(Error::file(&paths.mask))?,
            None => match std::fs::remove_file(&paths.mask) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::file(&paths.mask)(e)),
            },
        }
    }
    crate::project::write_label(&paths.label, &before.label)?;
    Ok(before.mask.is_some())
}

/// Updates the review's row after an acceptance: the label and truth, and, when the mask of a
/// nerve image is now the prediction, its scores against itself.
pub fn apply_accepted(review: &mut Review, accepted: &Accepted) -> Result<()> {
    let class = accepted
        .label
        .class
        .as_deref()
        .and_then(|c| review.classes.iter().position(|k| k == c));
    let (nerve, threshold) = (review.nerve, review.threshold);
    let Some(row) = review.row_mut(&accepted.stem) else {
        return Ok(());
    };
    row.truth = class.filter(|_| super::table::counts_as_truth(accepted.label.status));
    row.status = accepted.label.status;
    row.has_mask = accepted.has_mask;
    if let Some(mask) = accepted.written.as_ref().filter(|_| class == nerve) {
        score_row(row, mask, Some(mask), threshold)?;
    }
    Ok(())
}

/// An image's row after its label (and perhaps its mask, `truth`) changed outside the review,
/// e.g. in Annotate: the class and status follow the label, and a nerve image with a mask is
/// scored again against the segmenter's prediction.
pub fn rescore(
    mut row: super::table::Row,
    label: &ImageLabel,
    truth: Option<image::GrayImage>,
    prediction: Option<PathBuf>,
    classes: &[String],
    nerve: Option<usize>,
    threshold: f64,
) -> Result<super::table::Row> {
    row.truth = label
        .class
        .as_deref()
        .filter(|_| super::table::counts_as_truth(label.status))
        .and_then(|c| classes.iter().position(|k| k == c));
    row.status = label.status;
    row.has_mask = truth.is_some();
    if let Some(path) = prediction.filter(|p| p.exists()) {
        let map = super::table::read_gray(&path)?;
        let truth = truth
            .as_ref()
            .filter(|_| row.truth.is_some() && row.truth == nerve);
        score_row(&mut row, &map, truth, threshold)?;
    }
    Ok(row)
}

/// Flags an image: status flagged, the comment kept in its label.
pub fn flag(label: &ImageLabel, comment: &str) -> ImageLabel {
    let mut label = label.clone();
    label.status = Status::Flagged;
    if !comment.trim().is_empty() {
        label.comment = comment.trim().to_string();
    }
    label.touch(&current_user());
    label
}
