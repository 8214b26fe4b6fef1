//! Segmentation metrics on truth masks and probability (or binary) masks.
//!
//! Per image: IoU and Dice with the seed lab's smooth = 1e-15, so an image whose truth and
//! prediction are both empty scores 1 (seed-models.md §6.1); pixel precision, recall and F1
//! (both empty: 1, as IoU; otherwise a zero denominator gives 0); clDice. Over images: mean,
//! SEM and 95% t interval of each. Over all pixels: the precision-recall curve (as
//! scikit-learn's `precision_recall_curve`), the threshold that maximises F1, and the pixel
//! counts pooled at the evaluation threshold.

use serde::Serialize;

use super::classification::ratio;
use super::skeleton;
use super::stats::Summary;

const SMOOTH: f64 = 1e-15;

/// The rule for images without nerve, written into every report.
pub const EMPTY_RULE: &str = "an image whose truth and prediction are both empty scores 1 on \
    IoU, Dice, precision, recall, F1 and clDice; one empty and the other not scores 0";

/// Pixel counts of one image's comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Overlap {
    pub intersection: u64,
    pub truth: u64,
    pub predicted: u64,
}

impl Overlap {
    /// Compares two masks given as "is nerve" per pixel.
    pub fn of(
        truth: impl IntoIterator<Item = bool>,
        predicted: impl IntoIterator<Item = bool>,
    ) -> Self {
        let mut o = Overlap::default();
        for (t, p) in truth.into_iter().zip(predicted) {
            o.truth += t as u64;
            o.predicted += p as u64;
            o.intersection += (t && p) as u64;
        }
        o
    }

    pub fn iou(&self) -> f64 {
        let i = self.intersection as f64;
        (i + SMOOTH) / (self.truth as f64 + self.predicted as f64 - i + SMOOTH)
    }

    pub fn dice(&self) -> f64 {
        let i = self.intersection as f64;
        (2.0 * i + SMOOTH) / (self.truth as f64 + self.predicted as f64 + SMOOTH)
    }

    fn both_empty(&self) -> bool {
        self.truth == 0 && self.predicted == 0
    }

    pub fn precision(&self) -> f64 {
        if self.both_empty() {
            return 1.0;
        }
        ratio(self.intersection as f64, self.predicted as f64)
    }

    pub fn recall(&self) -> f64 {
        if self.both_empty() {
            return 1.0;
        }
        ratio(self.intersection as f64, self.truth as f64)
    }

    pub fn f1(&self) -> f64 {
        if self.both_empty() {
            return 1.0;
        }
        ratio(
            2.0 * self.intersection as f64,
            (self.truth + self.predicted) as f64,
        )
    }
}

impl std::ops::Add for Overlap {
    type Output = Overlap;
    fn add(self, o: Overlap) -> Overlap {
        Overlap {
            intersection: self.intersection + o.intersection,
            truth: self.truth + o.truth,
            predicted: self.predicted + o.predicted,
        }
    }
}

/// Counts of truly-nerve and truly-background pixels at each probability level, level `b` of
/// `levels` standing for probability b / levels. With 255 levels an 8-bit map is counted
/// exactly; training uses 1000 levels of its float probabilities.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreHistogram {
    positives: Vec<u64>,
    negatives: Vec<u64>,
}

/// The finest level count training uses for its float probabilities.
pub const FLOAT_LEVELS: usize = 1000;

impl Default for ScoreHistogram {
    fn default() -> Self {
        Self::new(FLOAT_LEVELS)
    }
}

impl ScoreHistogram {
    pub fn new(levels: usize) -> Self {
        Self {
            positives: vec![0; levels + 1],
            negatives: vec![0; levels + 1],
        }
    }

    fn levels(&self) -> usize {
        self.positives.len() - 1
    }

    /// Adds a float probability, at the level below it (so "level >= b" is "p >= b / levels").
    pub fn add(&mut self, probability: f32, truth: bool) {
        let levels = self.levels();
        let level = ((probability.clamp(0.0, 1.0) * levels as f32) as usize).min(levels);
        self.add_level(level, truth);
    }

    pub fn add_level(&mut self, level: usize, truth: bool) {
        if truth {
            self.positives[level] += 1;
        } else {
            self.negatives[level] += 1;
        }
    }

    pub fn merge(&mut self, other: &ScoreHistogram) {
        for (a, b) in self.positives.iter_mut().zip(&other.positives) {
            *a += b;
        }
        for (a, b) in self.negatives.iter_mut().zip(&other.negatives) {
            *a += b;
        }
    }

    /// The precision-recall curve over the levels that occur.
    pub fn curve(&self) -> PrCurve {
        let levels = self.levels();
        let total_pos: u64 = self.positives.iter().sum();
        let (mut thresholds, mut precision, mut recall) = (vec![], vec![], vec![]);
        // Predicted positive: level >= threshold. Sweep from the top, then reverse.
        let (mut tp, mut fp) = (0u64, 0u64);
        for level in (0..=levels).rev() {
            if self.positives[level] + self.negatives[level] == 0 {
                continue;
            }
            tp += self.positives[level];
            fp += self.negatives[level];
            thresholds.push(level as f64 / levels as f64);
            precision.push(ratio(tp as f64, (tp + fp) as f64));
            recall.push(if total_pos == 0 {
                1.0
            } else {
                tp as f64 / total_pos as f64
            });
        }
        thresholds.reverse();
        precision.reverse();
        recall.reverse();
        PrCurve::new(thresholds, precision, recall)
    }

    /// The threshold with the highest pixel F1, and that F1; 0.5 and 0 without nerve pixels.
    pub fn best(&self) -> (f32, f64) {
        if self.positives.iter().sum::<u64>() == 0 {
            return (0.5, 0.0);
        }
        let best = self.curve().best;
        (best.threshold as f32, best.f1)
    }
}

/// The operating point of highest F1 on a precision-recall curve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct BestF1 {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// scikit-learn's `precision_recall_curve`: thresholds increasing, `precision` and `recall`
/// one longer, ending at precision 1, recall 0.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrCurve {
    pub thresholds: Vec<f64>,
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    /// The first (lowest-threshold) point of highest F1 = 2PR / (P + R).
    pub best: BestF1,
    /// Trapezoid area under precision over recall (the SSBC protocol's PR-AUC).
    pub auc: f64,
    /// Σ (R_n − R_{n+1}) P_n, as scikit-learn's `average_precision_score`.
    pub average_precision: f64,
}

impl PrCurve {
    fn new(thresholds: Vec<f64>, mut precision: Vec<f64>, mut recall: Vec<f64>) -> PrCurve {
        let mut best = BestF1::default();
        let mut best_f1 = -1.0;
        for k in 0..thresholds.len() {
            let (p, r) = (precision[k], recall[k]);
            let f1 = ratio(2.0 * p * r, p + r);
            if f1 > best_f1 {
                best_f1 = f1;
                best = BestF1 {
                    threshold: thresholds[k],
                    precision: p,
                    recall: r,
                    f1,
                };
            }
        }
        precision.push(1.0);
        recall.push(0.0);
        let auc = super::roc::auc(&recall, &precision);
        let average_precision = -(0..recall.len() - 1)
            .map(|k| (recall[k + 1] - recall[k]) * precision[k])
            .sum::<f64>();
        PrCurve {
            thresholds,
            precision,
            recall,
            best,
            auc,
            average_precision,
        }
    }
}

/// The scores of one image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImageScores {
    pub stem: String,
    #[serde(flatten)]
    pub overlap: Overlap,
    pub iou: f64,
    pub dice: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub cl_dice: f64,
}

impl ImageScores {
    /// The columns of `per_image.csv`.
    pub const COLUMNS: [&'static str; 10] = [
        "stem",
        "truth_pixels",
        "predicted_pixels",
        "intersection",
        "iou",
        "dice",
        "precision",
        "recall",
        "f1",
        "cl_dice",
    ];

    /// The image's `per_image.csv` row.
    pub fn fields(&self) -> Vec<String> {
        let o = &self.overlap;
        let mut f = vec![
            self.stem.clone(),
            o.truth.to_string(),
            o.predicted.to_string(),
            o.intersection.to_string(),
        ];
        f.extend(
            [
                self.iou,
                self.dice,
                self.precision,
                self.recall,
                self.f1,
                self.cl_dice,
            ]
            .map(|v| v.to_string()),
        );
        f
    }
}

/// One image's truth and prediction, as 8-bit maps of the same size.
pub struct MaskPair<'a> {
    pub stem: &'a str,
    pub width: usize,
    pub height: usize,
    /// Nerve where > 127 (0/255 masks).
    pub truth: &'a [u8],
    /// Probability × 255 (or 0/255).
    pub predicted: &'a [u8],
}

/// Whether a probability map's 8-bit level counts as nerve at `threshold`.
pub fn called(level: u8, threshold: f64) -> bool {
    level as f64 / 255.0 >= threshold
}

/// Scores one image at `threshold` (nerve where predicted / 255 >= threshold) and adds its
/// pixels to `histogram` (255 levels).
pub fn score_image(pair: &MaskPair, threshold: f64, histogram: &mut ScoreHistogram) -> ImageScores {
    let truth: Vec<bool> = pair
        .truth
        .iter()
        .map(|&v| crate::mask::is_nerve(v))
        .collect();
    let predicted: Vec<bool> = pair
        .predicted
        .iter()
        .map(|&v| called(v, threshold))
        .collect();
    for (&t, &p) in truth.iter().zip(pair.predicted) {
        histogram.add_level(p as usize, t);
    }
    let overlap = Overlap::of(truth.iter().copied(), predicted.iter().copied());
    ImageScores {
        stem: pair.stem.to_string(),
        overlap,
        iou: overlap.iou(),
        dice: overlap.dice(),
        precision: overlap.precision(),
        recall: overlap.recall(),
        f1: overlap.f1(),
        cl_dice: skeleton::cl_dice(&truth, &predicted, pair.width, pair.height),
    }
}

/// The pixels of every image pooled at the evaluation threshold.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Pooled {
    #[serde(flatten)]
    pub overlap: Overlap,
    pub iou: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Everything the segmentation report holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentationMetrics {
    pub images: usize,
    /// Nerve where probability >= threshold.
    pub threshold: f64,
    pub empty_rule: &'static str,
    pub iou: Summary,
    pub dice: Summary,
    pub precision: Summary,
    pub recall: Summary,
    pub f1: Summary,
    pub cl_dice: Summary,
    pub pooled: Pooled,
    /// Over all pixels of all images.
    pub pr_curve: PrCurve,
}

/// Summarises per-image scores and the pooled pixel histogram.
pub fn summarise(
    scores: &[ImageScores],
    histogram: &ScoreHistogram,
    threshold: f64,
) -> SegmentationMetrics {
    let column =
        |f: fn(&ImageScores) -> f64| Summary::of(&scores.iter().map(f).collect::<Vec<_>>());
    let overlap = scores
        .iter()
        .map(|s| s.overlap)
        .fold(Overlap::default(), |a, b| a + b);
    SegmentationMetrics {
        images: scores.len(),
        threshold,
        empty_rule: EMPTY_RULE,
        iou: column(|s| s.iou),
        dice: column(|s| s.dice),
        precision: column(|s| s.precision),
        recall: column(|s| s.recall),
        f1: column(|s| s.f1),
        cl_dice: column(|s| s.cl_dice),
        pooled: Pooled {
            overlap,
            iou: overlap.iou(),
            precision: overlap.precision(),
            recall: overlap.recall(),
            f1: overlap.f1(),
        },
        pr_curve: histogram.curve(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_empty_scores_one_and_disjoint_scores_zero() {
        let empty = Overlap::of([false; 4], [false; 4]);
        assert_eq!((empty.iou(), empty.dice(), empty.f1()), (1.0, 1.0, 1.0));
        assert_eq!((empty.precision(), empty.recall()), (1.0, 1.0));
        let disjoint = Overlap::of([true, false], [false, true]);
        assert!(disjoint.iou() < 1e-12);
        assert_eq!((disjoint.precision(), disjoint.f1()), (0.0, 0.0));
        let missed = Overlap::of([true, false], [false, false]);
        assert_eq!((missed.precision(), missed.recall()), (0.0, 0.0));
        let half = Overlap::of([true, true, false, false], [true, false, true, false]);
        assert!((half.iou() - 1.0 / 3.0).abs() < 1e-12);
        assert!((half.dice() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn threshold_search_finds_the_gap_between_classes() {
        let mut search = ScoreHistogram::default();
        for p in [0.1, 0.2, 0.25, 0.3] {
            search.add(p, false);
        }
        for p in [0.6, 0.7, 0.9] {
            search.add(p, true);
        }
        let (t, f1) = search.best();
        assert!(t > 0.3 && t <= 0.6, "threshold {t}");
        assert_eq!(f1, 1.0);
    }

    #[test]
    fn hand_computed_pr_curve() {
        // Scores (level/4) 1,2,3,4 with truth 0,1,0,1.
        let mut h = ScoreHistogram::new(4);
        for (level, truth) in [(1, false), (2, true), (3, false), (4, true)] {
            h.add_level(level, truth);
        }
        let c = h.curve();
        assert_eq!(c.thresholds, vec![0.25, 0.5, 0.75, 1.0]);
        assert_eq!(c.precision, vec![0.5, 2.0 / 3.0, 0.5, 1.0, 1.0]);
        assert_eq!(c.recall, vec![1.0, 1.0, 0.5, 0.5, 0.0]);
        assert_eq!(c.best.threshold, 0.5);
        assert!((c.best.f1 - 0.8).abs() < 1e-15);
        // AP = 0.5·1 + 0·(2/3) + 0.5·... = (1-1)·0.5 + (1-0.5)·(2/3) + 0 + (0.5-0)·1.
        assert!((c.average_precision - (0.5 * 2.0 / 3.0 + 0.5)).abs() < 1e-15);
    }
}
