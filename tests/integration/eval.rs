//! `nerve-studio eval masks` and `eval labels` on the committed fixtures: the documented JSON,
//! the values scikit-learn gives, the report's files, and problems named rather than skipped.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::{nerve_studio, ok};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

fn expected(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

fn close(got: &Value, want: &Value, what: &str) {
    let (g, w) = (got.as_f64().unwrap(), want.as_f64().unwrap());
    assert!((g - w).abs() < 1e-9, "{what}: {g} vs {w}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn assert_report(dir: &Path, files: &[&str]) {
    for file in files {
        let path = dir.join(file);
        assert!(path.is_file(), "{} missing", path.display());
        if file.ends_with(".png") {
            image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        if file.ends_with(".svg") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
                "{file}"
            );
        }
    }
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for file in files.iter().filter(|f| f.ends_with(".png")) {
        assert!(
            report.contains(&format!("({file})")),
            "report.md does not show {file}"
        );
    }
}

#[test]
fn eval_masks_gives_scikit_learns_values_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let m = fixtures().join("masks");
    let json = ok(&nerve_studio(
        &[
            "eval",
            "masks",
            "--truth",
            m.join("truth").to_str().unwrap(),
            "--pred",
            m.join("pred").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
        dir.path(),
    ));
    let want = expected("segmentation.json");
    assert_eq!(json["kind"], "segmentation");
    assert_eq!(json["images"], 9);
    assert_eq!(json["problems"].as_array().unwrap().len(), 0);
    let seg = &json["segmentation"];
    for key in ["iou", "dice", "precision", "recall", "f1"] {
        close(&seg[key]["mean"], &want["summaries"][key]["mean"], key);
        close(&seg[key]["sem"], &want["summaries"][key]["sem"], key);
        close(
            &seg[key]["ci95"][0],
            &want["summaries"][key]["ci95"][0],
            key,
        );
        close(
            &seg[key]["ci95"][1],
            &want["summaries"][key]["ci95"][1],
            key,
        );
    }
    assert!(seg["cl_dice"]["mean"].as_f64().unwrap() > 0.0);
    close(
        &seg["pr_curve"]["best"]["threshold"],
        &want["pr_curve"]["best"]["threshold"],
        "best threshold",
    );
    close(
        &seg["pr_curve"]["average_precision"],
        &want["pr_curve"]["average_precision"],
        "AP",
    );
    let rows = json["per_image"].as_array().unwrap();
    let empty = rows.iter().find(|r| r["stem"] == "empty_both").unwrap();
    assert_eq!(empty["iou"], 1.0, "both empty scores 1");
    assert_eq!(json["files"].as_array().unwrap().len(), 9);
    assert_report(
        &out,
        &[
            "pr_curve.png",
            "pr_curve.svg",
            "iou_histogram.png",
            "iou_histogram.svg",
            "samples.png",
            "per_image.csv",
            "metrics.json",
            "report.html",
        ],
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<img src=\"pr_curve.png\"") && html.contains("<table>"));
    let csv = std::fs::read_to_string(out.join("per_image.csv")).unwrap();
    assert_eq!(csv.lines().count(), 10);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(saved, json, "metrics.json is what --json printed");
}

#[test]
fn eval_masks_names_missing_unreadable_and_mismatched_files() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, pred) = (dir.path().join("truth"), dir.path().join("pred"));
    copy_dir(&fixtures().join("masks/truth"), &truth);
    copy_dir(&fixtures().join("masks/pred"), &pred);
    std::fs::remove_file(pred.join("frame_00.png")).unwrap();
    std::fs::write(pred.join("frame_01.png"), b"not a png").unwrap();
    image::GrayImage::new(10, 10)
        .save(pred.join("frame_02.png"))
        .unwrap();
    image::GrayImage::new(10, 10)
        .save(pred.join("extra.png"))
        .unwrap();
    let args = [
        "eval", "masks", "--truth", "truth", "--pred", "pred", "--json",
    ];
    let out = nerve_studio(&args, dir.path());
    let json = ok(&out);
    assert_eq!(json["images"], 6);
    let problems: Vec<String> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p["file"].as_str().unwrap(),
                p["problem"].as_str().unwrap()
            )
        })
        .collect();
    let has = |file: &str, text: &str| {
        problems
            .iter()
            .any(|p| p.contains(file) && p.contains(text))
    };
    assert!(has("truth/frame_00.png", "no prediction"), "{problems:?}");
    assert!(has("pred/frame_01.png", "cannot be read"), "{problems:?}");
    assert!(has("pred/frame_02.png", "10x10"), "{problems:?}");
    assert!(has("pred/extra.png", "no truth mask"), "{problems:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("frame_01.png"),
        "problems are printed too: {stderr}"
    );
    assert!(
        dir.path().join("pred-eval/report.md").is_file(),
        "default report folder"
    );
    let report = std::fs::read_to_string(dir.path().join("pred-eval/report.md")).unwrap();
    assert!(report.contains("## Problems (4)") && report.contains("extra.png"));

    // --resize scores the small prediction instead of leaving it out.
    let mut resized = args.to_vec();
    resized.push("--resize");
    let json = ok(&nerve_studio(&resized, dir.path()));
    assert_eq!(json["images"], 7);

    // Nothing matched, or no folder: a clear error and a failing exit.
    std::fs::create_dir(dir.path().join("other")).unwrap();
    image::GrayImage::new(4, 4)
        .save(dir.path().join("other/zzz.png"))
        .unwrap();
    let none = nerve_studio(
        &["eval", "masks", "--truth", "truth", "--pred", "other"],
        dir.path(),
    );
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no prediction in other"));
    let missing = nerve_studio(
        &["eval", "masks", "--truth", "nowhere", "--pred", "pred"],
        dir.path(),
    );
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere: not a folder"));
}

#[test]
fn eval_labels_gives_scikit_learns_values_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("old_model.csv");
    std::fs::copy(fixtures().join("labels.csv"), &csv).unwrap();
    let json = ok(&nerve_studio(
        &["eval", "labels", "--csv", "old_model.csv", "--json"],
        dir.path(),
    ));
    let want = &expected("classification.json")[0]["expected"];
    let m = &json["classification"];
    assert_eq!(json["kind"], "classification");
    assert_eq!(m["confusion"], want["confusion"]);
    close(&m["accuracy"], &want["accuracy"], "accuracy");
    close(&m["mcc"], &want["mcc"], "mcc");
    close(&m["micro_auc"], &want["micro_roc"]["auc"], "micro AUC");
    close(
        &m["macro_curve_auc"],
        &want["macro_roc"]["auc"],
        "area under the macro-average curve",
    );
    // scikit-learn's roc_auc_score(average="macro"): the mean of its per-class AUCs.
    let per_class: Vec<f64> = want["per_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["auc"].as_f64().unwrap())
        .collect();
    let sklearn_macro = per_class.iter().sum::<f64>() / per_class.len() as f64;
    assert!(
        (m["macro_auc"].as_f64().unwrap() - sklearn_macro).abs() < 1e-9,
        "macro AUC is scikit-learn's mean of the per-class AUCs"
    );
    close(
        &m["macro"]["f1_positive"],
        &want["averages"]["macro"]["f1"],
        "macro F1",
    );
    for (k, c) in want["per_class"].as_array().unwrap().iter().enumerate() {
        for key in [
            "sensitivity",
            "specificity",
            "ppv",
            "npv",
            "mcc",
            "auc",
            "f1_negative",
        ] {
            close(&m["per_class"][k][key], &c[key], key);
        }
        assert_eq!(m["per_class"][k]["fn"], c["fn"]);
    }
    assert_report(
        &dir.path().join("old_model-eval"),
        &[
            "roc_curves.png",
            "roc_curves.svg",
            "confusion_matrix.png",
            "confusion_matrix.svg",
            "per_image.csv",
        ],
    );

    // --softmax reproduces the lab's notebook, which took a softmax of the probabilities.
    let double = ok(&nerve_studio(
        &[
            "eval",
            "labels",
            "--csv",
            "old_model.csv",
            "--softmax",
            "--out",
            "double",
            "--json",
        ],
        dir.path(),
    ));
    let want_double = &want["double_softmax"];
    close(
        &double["classification"]["micro_auc"],
        &want_double["micro_auc"],
        "double-softmax micro AUC",
    );
    for k in 0..3 {
        close(
            &double["classification"]["per_class"][k]["auc"],
            &want_double["per_class_auc"][k],
            "double-softmax AUC",
        );
    }
    assert_eq!(
        double["classification"]["accuracy"], m["accuracy"],
        "calls are unchanged"
    );

    // A bad row names the file and the line.
    std::fs::write(&csv, "stem,truth,pred\na,nerve,tendon\nb,nerve\n").unwrap();
    let bad = nerve_studio(&["eval", "labels", "--csv", "old_model.csv"], dir.path());
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("old_model.csv line 3"), "{err}");
}
