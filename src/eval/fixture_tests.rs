//! The metrics against the values scikit-learn, SciPy and scikit-image give for the committed
//! fixtures (`tools/eval_fixtures.py` writes them), to 1e-9.

use serde_json::Value;

use super::classification::{self, Rates};
use super::roc::RocCurve;
use super::segmentation::{MaskPair, ScoreHistogram, score_image, summarise};
use super::skeleton::{cl_dice, cl_dice_of_skeletons, skeletonize};
use super::stats::student_t_quantile;

const TOLERANCE: f64 = 1e-9;

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/eval")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture JSON")
}

fn close(what: &str, got: f64, want: &Value) {
    let want = want
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: expected a number, fixture has {want}"));
    assert!((got - want).abs() <= TOLERANCE, "{what}: {got} vs {want}");
}

fn close_all(what: &str, got: &[f64], want: &Value) {
    let want = want
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not a list"));
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if w.is_null() {
            assert!(g.is_infinite(), "{what}[{i}]: {g} vs inf");
        } else {
            close(&format!("{what}[{i}]"), *g, w);
        }
    }
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn curve(what: &str, got: &RocCurve, want: &Value, thresholds: bool) {
    close_all(&format!("{what} fpr"), &got.fpr, &want["fpr"]);
    close_all(&format!("{what} tpr"), &got.tpr, &want["tpr"]);
    if thresholds {
        close_all(
            &format!("{what} thresholds"),
            &got.thresholds,
            &want["thresholds"],
        );
    }
}

/// Each class's counts, rates, AUC and ROC curve against scikit-learn's.
fn per_class(name: &str, m: &classification::ClassificationMetrics, e: &Value) {
    let roc = m.roc.as_ref().unwrap();
    for (k, want) in e["per_class"].as_array().unwrap().iter().enumerate() {
        let got = &m.per_class[k];
        let what = format!("{name} class {k}");
        for (field, value) in [
            ("tp", got.counts.tp),
            ("tn", got.counts.tn),
            ("fp", got.counts.fp),
            ("fn", got.counts.fn_),
        ] {
            assert_eq!(value, want[field].as_u64().unwrap(), "{what} {field}");
        }
        let r: &Rates = &got.rates;
        for (field, value) in [
            ("sensitivity", r.sensitivity),
            ("specificity", r.specificity),
            ("ppv", r.ppv),
            ("npv", r.npv),
            ("accuracy", r.accuracy),
            ("f1_positive", r.f1_positive),
            ("f1_negative", r.f1_negative),
            ("mcc", r.mcc),
        ] {
            close(&format!("{what} {field}"), value, &want[field]);
        }
        match (&want["auc"], got.auc) {
            (Value::Null, None) => {}
            (w, Some(a)) => {
                close(&format!("{what} auc"), a, w);
                curve(&what, &roc.per_class[k], &want["roc"], true);
            }
            (w, None) => panic!("{what}: AUC undefined here, {w} in scikit-learn"),
        }
    }
}

#[test]
fn classification_matches_scikit_learn() {
    for case in fixture("classification.json").as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let classes: Vec<String> = case["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().into())
            .collect();
        let scores: Vec<Vec<f64>> = case["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect()
            })
            .collect();
        let m = classification::evaluate(
            &classes,
            &usizes(&case["truth"]),
            &usizes(&case["pred"]),
            Some(&scores),
        );
        let e = &case["expected"];
        let confusion: Vec<Vec<u64>> = serde_json::from_value(e["confusion"].clone()).unwrap();
        assert_eq!(m.confusion, confusion, "{name}");
        close(&format!("{name} accuracy"), m.accuracy, &e["accuracy"]);
        close(&format!("{name} mcc"), m.mcc, &e["mcc"]);
        per_class(name, &m, e);
        let avg = &e["averages"];
        for (kind, rates) in [
            ("macro", &m.macro_average),
            ("micro", &m.micro),
            ("weighted", &m.weighted),
        ] {
            for (field, value) in [
                ("precision", rates.ppv),
                ("recall", rates.sensitivity),
                ("f1", rates.f1_positive),
            ] {
                close(&format!("{name} {kind} {field}"), value, &avg[kind][field]);
            }
        }
        let roc = m.roc.as_ref().unwrap();
        curve(&format!("{name} micro"), &roc.micro, &e["micro_roc"], true);
        close(
            &format!("{name} micro auc"),
            m.micro_auc.unwrap(),
            &e["micro_roc"]["auc"],
        );
        curve(
            &format!("{name} macro"),
            roc.macro_average.as_ref().unwrap(),
            &e["macro_roc"],
            false,
        );
        close(
            &format!("{name} macro auc"),
            m.macro_curve_auc.unwrap(),
            &e["macro_roc"]["auc"],
        );
    }
}

#[test]
fn student_t_matches_scipy() {
    for row in fixture("student_t.json").as_array().unwrap() {
        let df = row["df"].as_f64().unwrap();
        close(
            &format!("t(0.975, {df})"),
            student_t_quantile(0.975, df),
            &row["q975"],
        );
    }
}

fn read_png(path: &std::path::Path) -> (usize, usize, Vec<u8>) {
    let img = image::open(path).unwrap().to_luma8();
    (img.width() as usize, img.height() as usize, img.into_raw())
}

#[test]
fn segmentation_matches_scikit_learn_and_scipy() {
    let f = fixture("segmentation.json");
    let threshold = f["threshold"].as_f64().unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/masks");
    let mut histogram = ScoreHistogram::new(255);
    let mut scores = vec![];
    for want in f["per_image"].as_array().unwrap() {
        let stem = want["stem"].as_str().unwrap();
        let (w, h, truth) = read_png(&dir.join("truth").join(format!("{stem}.png")));
        let (_, _, predicted) = read_png(&dir.join("pred").join(format!("{stem}.png")));
        let pair = MaskPair {
            stem,
            width: w,
            height: h,
            truth: &truth,
            predicted: &predicted,
        };
        let s = score_image(&pair, threshold, &mut histogram);
        for (field, value) in [
            ("iou", s.iou),
            ("dice", s.dice),
            ("precision", s.precision),
            ("recall", s.recall),
            ("f1", s.f1),
        ] {
            close(&format!("{stem} {field}"), value, &want[field]);
        }
        scores.push(s);
    }
    let m = summarise(&scores, &histogram, threshold);
    for (field, s) in [
        ("iou", &m.iou),
        ("dice", &m.dice),
        ("precision", &m.precision),
        ("recall", &m.recall),
        ("f1", &m.f1),
    ] {
        let want = &f["summaries"][field];
        close(&format!("{field} mean"), s.mean, &want["mean"]);
        close(&format!("{field} std"), s.std, &want["std"]);
        close(&format!("{field} median"), s.median, &want["median"]);
        close(&format!("{field} sem"), s.sem.unwrap(), &want["sem"]);
        close_all(&format!("{field} ci95"), &s.ci95.unwrap(), &want["ci95"]);
    }
    let pr = &f["pr_curve"];
    close_all("pr precision", &m.pr_curve.precision, &pr["precision"]);
    close_all("pr recall", &m.pr_curve.recall, &pr["recall"]);
    close_all("pr thresholds", &m.pr_curve.thresholds, &pr["thresholds"]);
    close("pr auc", m.pr_curve.auc, &pr["auc"]);
    close(
        "average precision",
        m.pr_curve.average_precision,
        &pr["average_precision"],
    );
    for field in ["threshold", "f1", "precision", "recall"] {
        let got = match field {
            "threshold" => m.pr_curve.best.threshold,
            "f1" => m.pr_curve.best.f1,
            "precision" => m.pr_curve.best.precision,
            _ => m.pr_curve.best.recall,
        };
        close(&format!("best {field}"), got, &pr["best"][field]);
    }
}

#[test]
fn skeletons_and_cl_dice_match_the_reference() {
    let bools = |v: &Value| -> Vec<bool> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64() == Some(1))
            .collect()
    };
    for case in fixture("skeleton.json").as_array().unwrap() {
        let stem = case["stem"].as_str().unwrap();
        let (w, h) = (
            case["width"].as_u64().unwrap() as usize,
            case["height"].as_u64().unwrap() as usize,
        );
        let (truth, pred) = (bools(&case["truth"]), bools(&case["pred"]));
        // The paper's thinning, pixel for pixel as the independent Python version.
        assert_eq!(
            skeletonize(&truth, w, h),
            bools(&case["paper_truth"]),
            "{stem} truth skeleton"
        );
        assert_eq!(
            skeletonize(&pred, w, h),
            bools(&case["paper_pred"]),
            "{stem} predicted skeleton"
        );
        close(
            &format!("{stem} clDice"),
            cl_dice(&truth, &pred, w, h),
            &case["cl_dice_paper"],
        );
        // The formula on scikit-image's skeletons gives scikit-image's clDice...
        let formula = cl_dice_of_skeletons(
            &truth,
            &pred,
            &bools(&case["skimage_truth"]),
            &bools(&case["skimage_pred"]),
        );
        close(
            &format!("{stem} clDice (scikit-image skeletons)"),
            formula,
            &case["cl_dice_skimage"],
        );
        // ...and its adjusted thinning table moves clDice only a little.
        let skimage = case["cl_dice_skimage"].as_f64().unwrap();
        assert!(
            (cl_dice(&truth, &pred, w, h) - skimage).abs() < 0.05,
            "{stem}: clDice far from scikit-image's"
        );
    }
}
