//! ROC curves and areas under them, as scikit-learn computes them: `roc_curve` (with its default
//! `drop_intermediate`), `auc` by the trapezoid rule, and the macro average of one-vs-rest curves
//! taken on the union of their false-positive rates with `np.interp`.

use serde::Serialize;

/// One ROC curve. The first point is (0, 0) at the threshold "above every score", which is
/// written as `null` in JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub thresholds: Vec<f64>,
    /// Area under the curve; `null` when the truth holds only one kind (no positives or no
    /// negatives), where the ROC is undefined.
    pub auc: Option<f64>,
}

/// The ROC of `scores` against `truth` (positive = true).
pub fn roc_curve(truth: &[bool], scores: &[f64]) -> RocCurve {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Descending score; a stable sort keeps ties together, as the counts below only look at the
    // last index of each distinct score.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut fps, mut tps, mut thresholds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0u64, 0u64);
    for (k, &i) in order.iter().enumerate() {
        if truth[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_score = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_score {
            fps.push(fp);
            tps.push(tp);
            thresholds.push(scores[i]);
        }
    }
    // Drop points collinear with their neighbours (scikit-learn's drop_intermediate).
    if fps.len() > 2 {
        let keep: Vec<usize> = (0..fps.len())
            .filter(|&k| {
                k == 0
                    || k == fps.len() - 1
                    || fps[k - 1] + fps[k + 1] != 2 * fps[k]
                    || tps[k - 1] + tps[k + 1] != 2 * tps[k]
            })
            .collect();
        fps = keep.iter().map(|&k| fps[k]).collect();
        tps = keep.iter().map(|&k| tps[k]).collect();
        thresholds = keep.iter().map(|&k| thresholds[k]).collect();
    }
    fps.insert(0, 0);
    tps.insert(0, 0);
    thresholds.insert(0, f64::INFINITY);
    let (p, n) = (tp as f64, fp as f64);
    let rate = |v: u64, total: f64| if total > 0.0 { v as f64 / total } else { 0.0 };
    let fpr: Vec<f64> = fps.iter().map(|&v| rate(v, n)).collect();
    let tpr: Vec<f64> = tps.iter().map(|&v| rate(v, p)).collect();
    let auc = (p > 0.0 && n > 0.0).then(|| auc(&fpr, &tpr));
    RocCurve {
        fpr,
        tpr,
        thresholds,
        auc,
    }
}

/// Area under a piecewise-linear curve by the trapezoid rule (x in order).
pub fn auc(x: &[f64], y: &[f64]) -> f64 {
    x.windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
        .sum::<f64>()
        .abs()
}

/// `np.interp(at, xp, fp)` for increasing `xp` that may repeat: at a repeated x it takes the
/// value of the last repeat (the top of a vertical ROC step), as NumPy does.
pub fn interp(at: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let n = xp.len();
    if at <= xp[0] {
        // NumPy: the last index whose x equals xp[0] when at == xp[0].
        let last = xp.iter().rposition(|&x| x == xp[0]).unwrap_or(0);
        return if at < xp[0] { fp[0] } else { fp[last] };
    }
    if at >= xp[n - 1] {
        return fp[n - 1];
    }
    // The last j with xp[j] <= at.
    let j = xp.partition_point(|&x| x <= at) - 1;
    if xp[j] == at {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    fp[j] + slope * (at - xp[j])
}

/// The macro-average ROC: every defined curve's TPR interpolated on the union of their FPRs,
/// averaged. `None` when no curve is defined.
pub fn macro_average(curves: &[&RocCurve]) -> Option<RocCurve> {
    let defined: Vec<&&RocCurve> = curves.iter().filter(|c| c.auc.is_some()).collect();
    if defined.is_empty() {
        return None;
    }
    let mut all: Vec<f64> = defined.iter().flat_map(|c| c.fpr.iter().copied()).collect();
    all.sort_by(f64::total_cmp);
    all.dedup();
    let tpr: Vec<f64> = all
        .iter()
        .map(|&x| {
            defined
                .iter()
                .map(|c| interp(x, &c.fpr, &c.tpr))
                .sum::<f64>()
                / defined.len() as f64
        })
        .collect();
    let area = auc(&all, &tpr);
    Some(RocCurve {
        thresholds: vec![],
        fpr: all,
        tpr,
        auc: Some(area),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_ranking_has_area_one_and_a_reversed_one_zero() {
        let truth = [false, false, true, true];
        let good = roc_curve(&truth, &[0.1, 0.4, 0.35, 0.8]);
        // The textbook example: AUC 0.75.
        assert_eq!(good.auc, Some(0.75));
        assert_eq!(roc_curve(&truth, &[0.1, 0.2, 0.8, 0.9]).auc, Some(1.0));
        assert_eq!(roc_curve(&truth, &[0.9, 0.8, 0.2, 0.1]).auc, Some(0.0));
        assert_eq!(roc_curve(&[true, true], &[0.2, 0.3]).auc, None);
        assert_eq!(good.thresholds[0], f64::INFINITY);
    }

    #[test]
    fn interp_takes_the_top_of_a_vertical_step() {
        let xp = [0.0, 0.0, 0.5, 0.5, 1.0];
        let fp = [0.0, 0.4, 0.6, 0.9, 1.0];
        assert_eq!(interp(0.0, &xp, &fp), 0.4);
        assert_eq!(interp(0.5, &xp, &fp), 0.9);
        assert!((interp(0.25, &xp, &fp) - 0.5).abs() < 1e-15);
        assert_eq!(interp(1.0, &xp, &fp), 1.0);
    }
}
