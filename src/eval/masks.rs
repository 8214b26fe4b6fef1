//! Scoring folders of masks: truth masks against predicted masks (0/255 or probability PNGs),
//! matched by file stem. Files that are missing on one side, unreadable or of another size are
//! reported as problems, never skipped silently.

use super::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::GrayImage;
use image::imageops::{self, FilterType};
use serde::Serialize;

use super::segmentation::{ImageScores, MaskPair, ScoreHistogram, score_image};

/// A file the evaluation could not use as it is, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub file: PathBuf,
    pub problem: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.problem)
    }
}

/// A truth mask and the prediction for the same image.
#[derive(Clone, Debug, PartialEq)]
pub struct Matched {
    pub stem: String,
    pub truth: PathBuf,
    pub predicted: PathBuf,
}

/// Per-image scores (in stem order) and the pooled pixel histogram.
#[derive(Clone, Debug)]
pub struct Scored {
    pub matched: Vec<Matched>,
    pub scores: Vec<ImageScores>,
    pub histogram: ScoreHistogram,
    pub problems: Vec<Problem>,
}

const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Mask files of a folder by stem; several files with one stem are a problem.
fn list(dir: &Path, problems: &mut Vec<Problem>) -> Result<BTreeMap<String, PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(Error::file(dir))?;
    let mut out = BTreeMap::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !path.is_file() || !ext.is_some_and(|e| EXTENSIONS.contains(&e.as_str())) {
            continue;
        }
        let stem = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if let Some(first) = out.insert(stem.clone(), path.clone()) {
            problems.push(Problem {
                file: path,
                problem: format!("same stem as {}; only one is used", first.display()),
            });
        }
    }
    Ok(out)
}

/// Pairs the truth masks of `truth` with the predictions of `predicted` by stem.
pub fn match_folders(truth: &Path, predicted: &Path) -> Result<(Vec<Matched>, Vec<Problem>)> {
    let mut problems = vec![];
    let t = list(truth, &mut problems)?;
    let p = list(predicted, &mut problems)?;
    if t.is_empty() {
        return Err(Error::invalid(truth, "no mask images (.png, .jpg)"));
    }
    let mut matched = vec![];
    for (stem, path) in &t {
        match p.get(stem) {
            Some(pred) => matched.push(Matched {
                stem: stem.clone(),
                truth: path.clone(),
                predicted: pred.clone(),
            }),
            None => problems.push(Problem {
                file: path.clone(),
                problem: format!("no prediction with this stem in {}", predicted.display()),
            }),
        }
    }
    for (stem, path) in &p {
        if !t.contains_key(stem) {
            problems.push(Problem {
                file: path.clone(),
                problem: format!("no truth mask with this stem in {}", truth.display()),
            });
        }
    }
    if matched.is_empty() {
        return Err(Error::NothingMatched {
            truth: truth.to_path_buf(),
            predicted: predicted.to_path_buf(),
            truths: t.len(),
            predictions: p.len(),
        });
    }
    Ok((matched, problems))
}

/// Why a mask or probability map cannot be used (said of the file, as a `Problem`).
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    #[error("cannot be read: {0}")]
    Open(std::io::Error),
    #[error("cannot be read as an image: {0}")]
    Decode(image::ImageError),
}

/// Decodes a mask or probability map as 8-bit grey. A map holding only 0 and 1 is read as 0/255
/// (and says so in `note`).
/// The error is why the file cannot be used (it becomes a `Problem` of that file).
pub fn read_map(
    path: &Path,
    note: &mut Option<String>,
) -> std::result::Result<GrayImage, Unreadable> {
    let mut reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(Unreadable::Open)?;
    let limits = crate::project::limits::MAX_SIDE;
    reader.limits(crate::project::limits::decoder(limits, limits));
    let img = reader.decode().map_err(Unreadable::Decode)?;
    // A 16-bit 0/1 mask would scale to all zeros in 8 bits: look at its own values first.
    let wide = matches!(
        img.color(),
        image::ColorType::L16
            | image::ColorType::La16
            | image::ColorType::Rgb16
            | image::ColorType::Rgba16
    );
    let mut grey = if wide && img.to_luma16().iter().all(|&v| v <= 1) {
        let g = img.to_luma16();
        GrayImage::from_raw(g.width(), g.height(), g.iter().map(|&v| v as u8).collect())
            .expect("same size")
    } else {
        img.to_luma8()
    };
    let max = grey.iter().copied().max().unwrap_or(0);
    if max == 1 {
        grey.iter_mut().for_each(|v| *v *= 255);
        *note = Some(format!(
            "holds {}0/1 values; read as 0/255",
            if wide { "16-bit " } else { "" }
        ));
    }
    Ok(grey)
}

/// One image's scores, its probability histogram and notes; or why it is left out.
type One = std::result::Result<(ImageScores, ScoreHistogram, Vec<Problem>), Problem>;

/// Scores one truth and prediction (the prediction resized to the truth when `resize`).
fn score_pair(m: &Matched, threshold: f64, resize: bool) -> One {
    let mut notes = vec![];
    let read = |path: &Path, notes: &mut Vec<Problem>| {
        let mut note = None;
        let map = read_map(path, &mut note).map_err(|why| Problem {
            file: path.to_path_buf(),
            problem: why.to_string(),
        })?;
        if let Some(problem) = note {
            notes.push(Problem {
                file: path.to_path_buf(),
                problem,
            });
        }
        Ok::<_, Problem>(map)
    };
    let truth = read(&m.truth, &mut notes)?;
    let mut pred = read(&m.predicted, &mut notes)?;
    if pred.dimensions() != truth.dimensions() {
        let problem = format!(
            "{}x{}, but its truth {} is {}x{}",
            pred.width(),
            pred.height(),
            m.truth.display(),
            truth.width(),
            truth.height()
        );
        if !resize {
            return Err(Problem {
                file: m.predicted.clone(),
                problem: format!("{problem}; left out (--resize scales it)"),
            });
        }
        notes.push(Problem {
            file: m.predicted.clone(),
            problem: format!("{problem}; resized to the truth"),
        });
        pred = imageops::resize(&pred, truth.width(), truth.height(), FilterType::Triangle);
    }
    let mut histogram = ScoreHistogram::new(255);
    let pair = MaskPair {
        stem: &m.stem,
        width: truth.width() as usize,
        height: truth.height() as usize,
        truth: truth.as_raw(),
        predicted: pred.as_raw(),
    };
    let scores = score_image(&pair, threshold, &mut histogram);
    Ok((scores, histogram, notes))
}

/// Scores every matched pair at `threshold`. With `resize`, a prediction of another size is
/// resized to its truth (bilinear) and noted; without it, the pair is reported and left out.
pub fn score(
    matched: Vec<Matched>,
    mut problems: Vec<Problem>,
    threshold: f64,
    resize: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Scored> {
    let job = |m: &Matched| -> std::result::Result<One, std::convert::Infallible> {
        Ok(score_pair(m, threshold, resize))
    };
    let results = crate::project::parallel::try_map(&matched, job, progress)
        .unwrap_or_else(|never| match never {});
    let mut histogram = ScoreHistogram::new(255);
    let (mut kept, mut scores) = (vec![], vec![]);
    for (m, result) in matched.into_iter().zip(results) {
        match result {
            Ok((s, h, notes)) => {
                histogram.merge(&h);
                problems.extend(notes);
                scores.push(s);
                kept.push(m);
            }
            Err(p) => problems.push(p),
        }
    }
    if scores.is_empty() {
        return Err(Error::NothingScored(
            problems.iter().map(Problem::to_string).collect(),
        ));
    }
    Ok(Scored {
        matched: kept,
        scores,
        histogram,
        problems,
    })
}
