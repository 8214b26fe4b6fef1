//! Classification metrics from true labels, predicted labels and (optionally) class
//! probabilities: the confusion matrix, one-vs-rest counts and rates per class, their macro,
//! micro and support-weighted averages, multiclass accuracy and MCC, and ROC/AUC.
//!
//! Definitions follow scikit-learn (`multilabel_confusion_matrix`, `precision_recall_fscore_support`,
//! `matthews_corrcoef`, `roc_curve`/`auc`) and the seed lab's `eva()` (seed-models.md §6.3). A
//! ratio whose denominator is zero is 0, as scikit-learn's `zero_division=0`; an MCC whose
//! denominator is zero is 0, as scikit-learn returns.

use serde::Serialize;

use super::roc::{self, RocCurve};

/// `matrix[truth][predicted]` counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confusion {
    pub matrix: Vec<Vec<u64>>,
}

impl Confusion {
    pub fn new(classes: usize) -> Self {
        Self {
            matrix: vec![vec![0; classes]; classes],
        }
    }

    pub fn from_pairs(classes: usize, pairs: impl IntoIterator<Item = (usize, usize)>) -> Self {
        let mut c = Self::new(classes);
        for (t, p) in pairs {
            c.add(t, p);
        }
        c
    }

    pub fn add(&mut self, truth: usize, predicted: usize) {
        self.matrix[truth][predicted] += 1;
    }

    pub fn classes(&self) -> usize {
        self.matrix.len()
    }

    pub fn total(&self) -> u64 {
        self.matrix.iter().flatten().sum()
    }

    /// Fraction of correct calls; 0 for no samples.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.classes()).map(|i| self.matrix[i][i]).sum();
        ratio(correct as f64, self.total() as f64)
    }

    /// One-vs-rest counts of class `k`.
    pub fn one_vs_rest(&self, k: usize) -> Counts {
        let n = self.classes();
        let tp = self.matrix[k][k];
        let fn_ = (0..n).map(|p| self.matrix[k][p]).sum::<u64>() - tp;
        let fp = (0..n).map(|t| self.matrix[t][k]).sum::<u64>() - tp;
        Counts {
            tp,
            tn: self.total() - tp - fn_ - fp,
            fp,
            fn_,
        }
    }

    /// The multiclass Matthews correlation coefficient (Gorodkin's R_K, as scikit-learn).
    pub fn mcc(&self) -> f64 {
        let n = self.classes();
        let s = self.total() as f64;
        let correct: f64 = (0..n).map(|i| self.matrix[i][i] as f64).sum();
        let t: Vec<f64> = (0..n)
            .map(|i| self.matrix[i].iter().sum::<u64>() as f64)
            .collect();
        let p: Vec<f64> = (0..n)
            .map(|j| (0..n).map(|i| self.matrix[i][j]).sum::<u64>() as f64)
            .collect();
        let tp_dot: f64 = t.iter().zip(&p).map(|(a, b)| a * b).sum();
        let cov_tp = correct * s - tp_dot;
        let cov_pp = s * s - p.iter().map(|v| v * v).sum::<f64>();
        let cov_tt = s * s - t.iter().map(|v| v * v).sum::<f64>();
        if cov_pp * cov_tt == 0.0 {
            return 0.0;
        }
        cov_tp / (cov_tt * cov_pp).sqrt()
    }
}

/// One-vs-rest counts of one class (or pooled over classes, for the micro average).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub tp: u64,
    pub tn: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl std::ops::Add for Counts {
    type Output = Counts;
    fn add(self, o: Counts) -> Counts {
        Counts {
            tp: self.tp + o.tp,
            tn: self.tn + o.tn,
            fp: self.fp + o.fp,
            fn_: self.fn_ + o.fn_,
        }
    }
}

/// The rates the lab reports for a two-class call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Rates {
    /// Recall, true-positive rate: TP / (TP + FN).
    pub sensitivity: f64,
    /// TN / (TN + FP).
    pub specificity: f64,
    /// Precision: TP / (TP + FP).
    pub ppv: f64,
    /// TN / (TN + FN).
    pub npv: f64,
    /// (TP + TN) / N.
    pub accuracy: f64,
    /// F1 of the positive class: 2TP / (2TP + FP + FN).
    pub f1_positive: f64,
    /// F1 of the negative class: 2TN / (2TN + FN + FP).
    pub f1_negative: f64,
    /// (TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN)); 0 when a factor is 0.
    pub mcc: f64,
}

impl Counts {
    pub fn rates(&self) -> Rates {
        let (tp, tn, fp, fn_) = (
            self.tp as f64,
            self.tn as f64,
            self.fp as f64,
            self.fn_ as f64,
        );
        let den = (tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_);
        Rates {
            sensitivity: ratio(tp, tp + fn_),
            specificity: ratio(tn, tn + fp),
            ppv: ratio(tp, tp + fp),
            npv: ratio(tn, tn + fn_),
            accuracy: ratio(tp + tn, tp + tn + fp + fn_),
            f1_positive: ratio(2.0 * tp, 2.0 * tp + fp + fn_),
            f1_negative: ratio(2.0 * tn, 2.0 * tn + fn_ + fp),
            mcc: if den == 0.0 {
                0.0
            } else {
                (tp * tn - fp * fn_) / den.sqrt()
            },
        }
    }
}

impl Rates {
    fn mean(all: &[Rates], weights: &[f64]) -> Rates {
        let total: f64 = weights.iter().sum();
        let avg = |f: fn(&Rates) -> f64| {
            ratio(
                all.iter().zip(weights).map(|(r, w)| f(r) * w).sum::<f64>(),
                total,
            )
        };
        Rates {
            sensitivity: avg(|r| r.sensitivity),
            specificity: avg(|r| r.specificity),
            ppv: avg(|r| r.ppv),
            npv: avg(|r| r.npv),
            accuracy: avg(|r| r.accuracy),
            f1_positive: avg(|r| r.f1_positive),
            f1_negative: avg(|r| r.f1_negative),
            mcc: avg(|r| r.mcc),
        }
    }
}

/// One class, one vs the rest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassStats {
    pub class: String,
    /// Images truly of this class.
    pub support: u64,
    #[serde(flatten)]
    pub counts: Counts,
    #[serde(flatten)]
    pub rates: Rates,
    /// One-vs-rest ROC area; `null` without probabilities or when the class is absent (or is
    /// every image), where it is undefined.
    pub auc: Option<f64>,
}

/// ROC curves: per class (one vs rest), micro (all one-hot cells pooled) and macro.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RocSet {
    pub per_class: Vec<RocCurve>,
    pub micro: RocCurve,
    /// `null` when no class has a defined curve.
    pub macro_average: Option<RocCurve>,
}

/// Everything the classification report holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassificationMetrics {
    pub classes: Vec<String>,
    pub images: u64,
    /// Rows: truth; columns: prediction; in the order of `classes`.
    pub confusion: Vec<Vec<u64>>,
    pub accuracy: f64,
    /// Multiclass MCC.
    pub mcc: f64,
    pub per_class: Vec<ClassStats>,
    /// Unweighted mean over classes.
    #[serde(rename = "macro")]
    pub macro_average: Rates,
    /// Counts pooled over classes, then the formulas.
    pub micro: Rates,
    /// Mean over classes weighted by support (scikit-learn's "weighted").
    pub weighted: Rates,
    /// `null` without class probabilities.
    pub roc: Option<RocSet>,
    pub micro_auc: Option<f64>,
    /// The mean of the per-class AUCs, as scikit-learn's `roc_auc_score(average="macro")`
    /// (classes whose AUC is undefined, with no positive or no negative image, left out).
    pub macro_auc: Option<f64>,
    /// The area under the macro-average ROC curve (every class's curve interpolated on the
    /// union of their false-positive rates, then averaged): the lab notebook's "macro AUC".
    pub macro_curve_auc: Option<f64>,
}

/// The mean of the defined values, `None` when there are none.
fn mean_defined(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let defined: Vec<f64> = values.flatten().collect();
    (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64)
}

/// Evaluates `truth[i]` vs `predicted[i]` (class indices) with optional per-image class
/// probabilities `scores[i][k]`.
pub fn evaluate(
    classes: &[String],
    truth: &[usize],
    predicted: &[usize],
    scores: Option<&[Vec<f64>]>,
) -> ClassificationMetrics {
    let k = classes.len();
    let confusion = Confusion::from_pairs(k, truth.iter().copied().zip(predicted.iter().copied()));
    let counts: Vec<Counts> = (0..k).map(|c| confusion.one_vs_rest(c)).collect();
    let rates: Vec<Rates> = counts.iter().map(Counts::rates).collect();
    let support: Vec<f64> = counts.iter().map(|c| (c.tp + c.fn_) as f64).collect();
    let roc = scores.map(|scores| {
        let per_class: Vec<RocCurve> = (0..k)
            .map(|c| {
                let t: Vec<bool> = truth.iter().map(|&t| t == c).collect();
                let s: Vec<f64> = scores.iter().map(|row| row[c]).collect();
                roc::roc_curve(&t, &s)
            })
            .collect();
        let t: Vec<bool> = truth
            .iter()
            .flat_map(|&t| (0..k).map(move |c| t == c))
            .collect();
        let s: Vec<f64> = scores.iter().flat_map(|row| row.iter().copied()).collect();
        let micro = roc::roc_curve(&t, &s);
        let refs: Vec<&RocCurve> = per_class.iter().collect();
        let macro_average = roc::macro_average(&refs);
        RocSet {
            per_class,
            micro,
            macro_average,
        }
    });
    let per_class = (0..k)
        .map(|c| ClassStats {
            class: classes[c].clone(),
            support: support[c] as u64,
            counts: counts[c],
            rates: rates[c],
            auc: roc.as_ref().and_then(|r| r.per_class[c].auc),
        })
        .collect();
    let pooled = counts.iter().copied().fold(Counts::default(), |a, b| a + b);
    ClassificationMetrics {
        classes: classes.to_vec(),
        images: confusion.total(),
        accuracy: confusion.accuracy(),
        mcc: confusion.mcc(),
        per_class,
        macro_average: Rates::mean(&rates, &vec![1.0; k]),
        micro: pooled.rates(),
        weighted: Rates::mean(&rates, &support),
        micro_auc: roc.as_ref().and_then(|r| r.micro.auc),
        macro_auc: roc
            .as_ref()
            .and_then(|r| mean_defined(r.per_class.iter().map(|c| c.auc))),
        macro_curve_auc: roc
            .as_ref()
            .and_then(|r| r.macro_average.as_ref().and_then(|m| m.auc)),
        roc,
        confusion: confusion.matrix,
    }
}

/// `num / den`, or 0 when `den` is 0.
pub fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 { 0.0 } else { num / den }
}

/// Index of the largest score (the first on ties).
pub fn argmax(scores: &[f32]) -> usize {
    scores
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &s)| {
            if s > best.1 { (i, s) } else { best }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: usize) -> Vec<String> {
        ["nerve", "opening wound", "tendon", "other"][..k]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn accuracy_counts_the_diagonal() {
        let c = Confusion::from_pairs(3, [(0, 0), (1, 1), (2, 1), (2, 2)]);
        assert_eq!(c.accuracy(), 0.75);
        assert_eq!(Confusion::new(3).accuracy(), 0.0);
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
    }

    #[test]
    fn hand_computed_two_class_case() {
        // truth/pred: TP 3, FN 1, FP 2, TN 4 for class 0.
        let mut pairs = vec![(0, 0); 3];
        pairs.push((0, 1));
        pairs.extend([(1, 0); 2]);
        pairs.extend([(1, 1); 4]);
        let (t, p): (Vec<usize>, Vec<usize>) = pairs.into_iter().unzip();
        let m = evaluate(&names(2), &t, &p, None);
        let r = m.per_class[0].rates;
        assert_eq!(
            m.per_class[0].counts,
            Counts {
                tp: 3,
                tn: 4,
                fp: 2,
                fn_: 1
            }
        );
        assert_eq!((r.sensitivity, r.specificity), (0.75, 4.0 / 6.0));
        assert_eq!((r.ppv, r.npv, r.accuracy), (0.6, 0.8, 0.7));
        assert!((r.f1_positive - 6.0 / 9.0).abs() < 1e-15);
        assert!((r.f1_negative - 8.0 / 11.0).abs() < 1e-15);
        let mcc = (12.0 - 2.0) / (5.0f64 * 4.0 * 6.0 * 5.0).sqrt();
        assert!((r.mcc - mcc).abs() < 1e-15);
        // With two classes the multiclass MCC is the binary one.
        assert!((m.mcc - mcc).abs() < 1e-15);
    }

    #[test]
    fn the_seed_labs_published_test_result_is_reproduced() {
        // seed-models.md §6.4: MobileNetV2 #020 on the independent test set.
        let cm = [[2727u64, 113, 17], [189, 1485, 59], [259, 147, 743]];
        let mut t = vec![];
        let mut p = vec![];
        for (i, row) in cm.iter().enumerate() {
            for (j, &n) in row.iter().enumerate() {
                t.extend(std::iter::repeat_n(i, n as usize));
                p.extend(std::iter::repeat_n(j, n as usize));
            }
        }
        let m = evaluate(&names(3), &t, &p, None);
        let close = |a: f64, b: f64| (a - b).abs() < 5e-5;
        assert!(close(m.accuracy, 0.8634));
        assert!(close(m.mcc, 0.7784));
        assert!(close(m.macro_average.ppv, 0.8724));
        assert!(close(m.macro_average.sensitivity, 0.8193));
        assert!(close(m.macro_average.f1_positive, 0.8377));
        assert!(close(m.weighted.f1_positive, 0.8592));
        for (c, (sens, spec, ppv, npv)) in [
            (0.9545, 0.8446, 0.8589, 0.9493),
            (0.8569, 0.9351, 0.8510, 0.9379),
            (0.6466, 0.9834, 0.9072, 0.9175),
        ]
        .into_iter()
        .enumerate()
        {
            let r = m.per_class[c].rates;
            assert!(
                close(r.sensitivity, sens) && close(r.specificity, spec),
                "class {c}"
            );
            assert!(close(r.ppv, ppv) && close(r.npv, npv), "class {c}");
        }
        // Micro sensitivity = PPV = F1+ = accuracy.
        assert!((m.micro.sensitivity - m.accuracy).abs() < 1e-12);
        assert!((m.micro.ppv - m.accuracy).abs() < 1e-12);
    }

    #[test]
    fn degenerate_cases_give_defined_values() {
        // A class absent from truth and prediction, and every call the same class.
        let t = [0, 0, 1, 1];
        let p = [0, 0, 0, 0];
        let s = vec![vec![0.9, 0.05, 0.05]; 4];
        let m = evaluate(&names(3), &t, &p, Some(&s));
        assert_eq!(m.mcc, 0.0);
        assert_eq!(m.per_class[2].rates.sensitivity, 0.0);
        assert_eq!(m.per_class[2].auc, None);
        assert_eq!(m.per_class[1].rates.ppv, 0.0);
        assert!(m.macro_auc.is_some() && m.micro_auc.is_some());
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("NaN"));
        // No images at all.
        let empty = evaluate(&names(3), &[], &[], Some(&[]));
        assert_eq!(
            (empty.accuracy, empty.mcc, empty.macro_auc),
            (0.0, 0.0, None)
        );
    }
}
