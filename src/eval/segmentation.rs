//! Segmentation metrics on binary masks and probability maps.
//!
//! Per-image IoU and Dice follow the seed lab's formulas with smooth = 1e-15, so an image whose
//! truth and prediction are both empty scores 1 (seed-models.md §6.1).

const SMOOTH: f64 = 1e-15;

/// Pixel counts of one image's comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
}

/// Histograms of predicted probabilities for truly-nerve and truly-background pixels, for
/// choosing the binarisation threshold that maximises F1 (the MU-Net / SSBC method).
#[derive(Clone, Debug, PartialEq)]
pub struct ThresholdSearch {
    positives: Vec<u64>,
    negatives: Vec<u64>,
}

/// Probability bins of the threshold search (thresholds are multiples of 1/BINS).
const BINS: usize = 1000;

impl Default for ThresholdSearch {
    fn default() -> Self {
        Self {
            positives: vec![0; BINS + 1],
            negatives: vec![0; BINS + 1],
        }
    }
}

impl ThresholdSearch {
    pub fn add(&mut self, probability: f32, truth: bool) {
        let bin = ((probability.clamp(0.0, 1.0) * BINS as f32) as usize).min(BINS);
        if truth {
            self.positives[bin] += 1;
        } else {
            self.negatives[bin] += 1;
        }
    }

    /// The threshold t (predict nerve when p >= t) with the highest pixel F1, and that F1.
    /// With no positive pixels at all it returns 0.5 and F1 0.
    pub fn best(&self) -> (f32, f64) {
        let total_pos: u64 = self.positives.iter().sum();
        if total_pos == 0 {
            return (0.5, 0.0);
        }
        let mut best = (0.5f32, -1.0f64);
        // Sweep from the top: predicted positives are the bins at or above the threshold.
        let (mut tp, mut fp) = (0u64, 0u64);
        for bin in (1..=BINS).rev() {
            tp += self.positives[bin];
            fp += self.negatives[bin];
            let f1 = 2.0 * tp as f64 / (2 * tp + fp + (total_pos - tp)) as f64;
            if f1 > best.1 {
                best = (bin as f32 / BINS as f32, f1);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_empty_scores_one_and_disjoint_scores_zero() {
        let empty = Overlap::of([false; 4], [false; 4]);
        assert_eq!(empty.iou(), 1.0);
        assert_eq!(empty.dice(), 1.0);
        let disjoint = Overlap::of([true, false], [false, true]);
        assert!(disjoint.iou() < 1e-12);
        let half = Overlap::of([true, true, false, false], [true, false, true, false]);
        assert!((half.iou() - 1.0 / 3.0).abs() < 1e-12);
        assert!((half.dice() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn threshold_search_finds_the_gap_between_classes() {
        let mut search = ThresholdSearch::default();
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
}
