//! The learning engine end to end: torchvision weights, training, cancel and resume, prediction.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nerve_studio::ml::device;
use nerve_studio::ml::models::{Arch, ModelSpec};
use nerve_studio::ml::progress::{StopReason, TrainEvent};
use nerve_studio::ml::recipe;
use nerve_studio::ml::train::{TrainRequest, train};
use nerve_studio::ml::weights::import_torchvision;

use crate::cli::{nerve_studio, ok};
use crate::support::small_demo;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torchvision")
        .join(name)
}

#[test]
fn torchvision_weights_give_torchvision_logits() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("mobilenet_v2_w035_logits.json")).unwrap(),
    )
    .unwrap();
    let expected: Vec<f64> = expected["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for file in ["mobilenet_v2_w035.safetensors", "mobilenet_v2_w035.pth"] {
        let dir = tempfile::tempdir().unwrap();
        let weights = fixture(file);
        let image = fixture("input.png");
        let out = ok(&nerve_studio(
            &[
                "model",
                "run",
                "--arch",
                "mobilenet_v2",
                "--width",
                "0.35",
                "--weights",
                weights.to_str().unwrap(),
                image.to_str().unwrap(),
                "--json",
            ],
            dir.path(),
        ));
        let logits: Vec<f64> = out[0]["logits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(logits.len(), 3);
        for (a, b) in logits.iter().zip(&expected) {
            assert!(
                (a - b).abs() < 1e-4,
                "{file}: {logits:?} vs torchvision {expected:?}"
            );
        }
    }
}

#[test]
fn the_import_report_says_what_loaded() {
    let mut spec = ModelSpec::new(Arch::MobilenetV2);
    spec.width = 0.35;
    let mut network = spec.build(&device::cpu().device);
    let report = import_torchvision(
        &mut network,
        Arch::MobilenetV2,
        &fixture("mobilenet_v2_w035.pth"),
    )
    .unwrap();
    assert_eq!(report.loaded, 314 - 52, "{}", report.summary());
    assert!(
        report.missing.is_empty() && report.unused.is_empty() && report.mismatched.is_empty(),
        "{}",
        report.summary()
    );

    // Width 1.0 against width-0.35 weights: shapes disagree, and the report says so.
    let mut wide = ModelSpec::new(Arch::MobilenetV2).build(&device::cpu().device);
    let report = import_torchvision(
        &mut wide,
        Arch::MobilenetV2,
        &fixture("mobilenet_v2_w035.pth"),
    )
    .unwrap();
    assert!(!report.mismatched.is_empty());
    assert!(report.summary().contains("of another shape"));

    // Not weights at all: a clear error naming the file.
    let err = import_torchvision(&mut wide, Arch::MobilenetV2, &fixture("input.png"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("input.png"), "{err}");
}

/// A safetensors file of zeros with the given keys and shapes.
pub fn zero_safetensors(keys: &serde_json::Map<String, serde_json::Value>, path: &Path) {
    let mut header = serde_json::Map::new();
    let mut offset = 0usize;
    for (name, shape) in keys {
        let shape: Vec<usize> = shape
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let bytes = shape.iter().product::<usize>()
            * if name.ends_with("num_batches_tracked") {
                8
            } else {
                4
            };
        let dtype = if name.ends_with("num_batches_tracked") {
            "I64"
        } else {
            "F32"
        };
        header.insert(name.clone(), serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes]}));
        offset += bytes;
    }
    let mut text = serde_json::to_string(&header).unwrap();
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut file = (text.len() as u64).to_le_bytes().to_vec();
    file.extend(text.as_bytes());
    file.resize(file.len() + offset, 0);
    std::fs::write(path, file).unwrap();
}

#[test]
fn every_architecture_takes_its_torchvision_backbone() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (Arch::MobilenetV2, "mobilenet_v2"),
        (Arch::Resnet50, "resnet50"),
        (Arch::Resnet101, "resnet101"),
        (Arch::Densenet169, "densenet169"),
        (Arch::Densenet201, "densenet201"),
        (Arch::UnetMobilenetV2, "mobilenet_v2"),
        // MU-Net's encoder is a width-0.35 MobileNetV2: the parity fixture has one.
        (Arch::MuNet, "w035"),
        (Arch::Deeplabv3plusMobilenetV2, "mobilenet_v2"),
        (Arch::Deeplabv3plusResnet50, "resnet50"),
        (Arch::DoubleUnet, "vgg19"),
    ];
    for (arch, source) in cases {
        let path = if source == "w035" {
            fixture("mobilenet_v2_w035.safetensors")
        } else {
            let path = dir.path().join(format!("{source}.safetensors"));
            if !path.exists() {
                let keys: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(fixture(&format!("keys_{source}.json"))).unwrap(),
                )
                .unwrap();
                zero_safetensors(keys.as_object().unwrap(), &path);
            }
            path
        };
        let mut network = ModelSpec::new(arch).build(&device::cpu().device);
        let report = import_torchvision(&mut network, arch, &path).unwrap();
        assert!(report.loaded > 0, "{arch}: {}", report.summary());
        if arch.task() == nerve_studio::ml::models::Task::Classify {
            // Everything but the 1000-class ImageNet head loads.
            assert!(report.missing.is_empty(), "{arch}: {}", report.summary());
            assert_eq!(report.mismatched.len(), 2, "{arch}: {}", report.summary());
            assert!(
                report.mismatched.iter().all(|m| m.contains("head")),
                "{arch}: {}",
                report.summary()
            );
        } else {
            // The encoder loads; only decoder parts are left at their random start.
            assert!(report.mismatched.is_empty(), "{arch}: {}", report.summary());
            let encoder = if arch == Arch::DoubleUnet {
                "encoder1."
            } else {
                "encoder."
            };
            assert!(
                report.missing.iter().all(|m| !m.contains(encoder)),
                "{arch}: {}",
                report.summary()
            );
        }
    }
}

fn tiny_recipe(name: &str, size: usize, epochs: usize) -> recipe::NamedRecipe {
    let mut named = recipe::load(name).unwrap();
    named.recipe.image_size = size;
    named.recipe.batch_size = 8;
    named.recipe = named.recipe.with_total_epochs(epochs);
    named
}

#[test]
fn training_can_be_cancelled_and_resumed() {
    let (_dir, project) = small_demo(40, 5);
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let mut events = Vec::new();
    let outcome = train(
        TrainRequest {
            project: project.clone(),
            recipe: tiny_recipe("mu_net", 64, 3),
            device: device::cpu(),
            weights: None,
            resume: None,
            cancel: cancel.clone(),
        },
        &mut |e| {
            if let TrainEvent::Batch(b) = e
                && b.epoch == 2
            {
                flag.store(true, Ordering::SeqCst);
            }
            events.push(e.clone());
        },
    )
    .unwrap();
    assert_eq!(outcome.reason, StopReason::Cancelled);
    assert_eq!(outcome.info.epochs_done, 1);
    assert!(events.iter().any(
        |e| matches!(e, TrainEvent::Started { weights, .. } if weights.contains("every layer trains"))
    ));
    assert!(events.iter().any(|e| matches!(e, TrainEvent::Epoch { .. })));
    // Every epoch shows the same few validation images' predictions beside their truth.
    let samples: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            TrainEvent::Samples { epoch, samples } => Some((*epoch, samples.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(samples.len(), 1, "one finished epoch before the cancel");
    let (epoch, shown) = &samples[0];
    assert_eq!(*epoch, 1);
    assert!(!shown.is_empty() && shown.len() <= 4);
    for s in shown {
        assert_eq!(s.size, 64);
        assert_eq!(s.probability_map.len(), 64 * 64);
        assert_eq!(s.truth_mask.len(), 64 * 64);
    }
    let run = outcome.run.path.clone();
    for file in [
        "recipe.toml",
        "weights.bpk",
        "history.csv",
        "snapshot.csv",
        "run.json",
        "checkpoint/state.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(info["status"], "cancelled");

    let resumed = train(
        TrainRequest {
            project: project.clone(),
            recipe: tiny_recipe("mu_net", 64, 3),
            device: device::cpu(),
            weights: None,
            resume: Some(outcome.run.id.clone()),
            cancel: Arc::new(AtomicBool::new(false)),
        },
        &mut |_| {},
    )
    .unwrap();
    assert_ne!(resumed.reason, StopReason::Cancelled);
    assert_eq!(resumed.run.id, outcome.run.id);
    let epochs: Vec<usize> = resumed.history.iter().map(|r| r.epoch).collect();
    assert_eq!(epochs, vec![1, 2, 3]);
    assert!(run.join("metrics.json").is_file());
}

#[test]
fn a_trained_run_predicts_the_same_after_reloading() {
    let (dir, project) = small_demo(40, 9);
    let p = project.to_str().unwrap();
    let out = ok(&nerve_studio(
        &[
            "train",
            p,
            "--recipe",
            "mu_net",
            "--image-size",
            "64",
            "--epochs",
            "2",
            "--batch-size",
            "8",
            "--device",
            "cpu",
            "--json",
        ],
        dir.path(),
    ));
    let run = out["run"].as_str().unwrap().to_string();
    let val_iou = out["metrics"]["mean_iou"].as_f64().unwrap();
    let threshold = out["metrics"]["threshold"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&val_iou));
    assert_eq!(out["info"]["threshold"].as_f64().unwrap(), threshold);
    // A finished run comes with its validation report.
    let val_report = Path::new(
        out["report"]
            .as_str()
            .expect("train --json names the report"),
    );
    assert!(val_report.ends_with("eval-val/report.md") && val_report.is_file());

    // The saved weights, reloaded by `predict`, give the validation figure training measured.
    let predicted = ok(&nerve_studio(
        &[
            "predict", p, "--run", &run, "--split", "val", "--device", "cpu", "--json",
        ],
        dir.path(),
    ));
    let iou = predicted["metrics"]["mean_iou"].as_f64().unwrap();
    assert!(
        (iou - val_iou).abs() < 1e-5,
        "reloaded {iou} vs trained {val_iou}"
    );
    let maps = Path::new(predicted["output"].as_str().unwrap());
    let first = std::fs::read_dir(maps)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let map = image::open(&first).unwrap();
    assert_eq!(
        (map.width(), map.height()),
        (192, 108),
        "maps are at image resolution"
    );

    // The run's evaluation: the same images, scored at image resolution, with its report.
    let eval = ok(&nerve_studio(
        &[
            "eval", p, "--run", &run, "--split", "val", "--device", "cpu", "--json",
        ],
        dir.path(),
    ));
    assert_eq!(eval["kind"], "segmentation");
    assert_eq!(eval["images"], predicted["labeled"]);
    assert_eq!(
        eval["segmentation"]["threshold"].as_f64().unwrap(),
        threshold
    );
    // Scored at image resolution, a weak model's IoU can differ much from the one measured at
    // the network's input size, so only consistency is checked here; the metrics themselves are
    // checked against scikit-learn in eval's tests.
    let mean = eval["segmentation"]["iou"]["mean"].as_f64().unwrap();
    let rows = eval["per_image"].as_array().unwrap();
    let recomputed =
        rows.iter().map(|r| r["iou"].as_f64().unwrap()).sum::<f64>() / rows.len() as f64;
    assert!((0.0..=1.0).contains(&mean) && (mean - recomputed).abs() < 1e-12);
    let report = Path::new(eval["report_dir"].as_str().unwrap());
    assert!(report.ends_with(format!("runs/{run}/eval-val")));
    for file in [
        "report.md",
        "metrics.json",
        "per_image.csv",
        "training_curves.png",
        "training_curves.svg",
        "pr_curve.png",
        "iou_histogram.svg",
        "samples.png",
    ] {
        assert!(report.join(file).is_file(), "{file} missing");
    }

    // Pre-annotation draws on the unlabeled images without a mask, marked as predicted, and
    // never touches a mask that exists.
    let unlabeled: Vec<String> = std::fs::read_dir(project.join("labels"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\"unlabeled\"")
        })
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(!unlabeled.is_empty(), "the demo has unlabeled images");
    let pre_annotate = || {
        ok(&nerve_studio(
            &[
                "predict",
                p,
                "--run",
                &run,
                "--pre-annotate",
                "--device",
                "cpu",
                "--json",
            ],
            dir.path(),
        ))
    };
    let filled = pre_annotate();
    assert_eq!(
        filled["predicted"].as_u64().unwrap() as usize,
        unlabeled.len()
    );
    let n = filled["filled"].as_u64().unwrap();
    assert_eq!(
        n + filled["no_nerve_found"].as_u64().unwrap(),
        unlabeled.len() as u64
    );
    for stem in &unlabeled {
        let has_mask = project.join("masks").join(format!("{stem}.png")).is_file();
        let label =
            std::fs::read_to_string(project.join("labels").join(format!("{stem}.json"))).unwrap();
        assert_eq!(has_mask, label.contains("\"predicted\""), "{stem}: {label}");
    }
    let again = pre_annotate();
    assert_eq!(again["filled"], 0);
    assert_eq!(again["kept_existing_masks"].as_u64().unwrap(), n);

    // The registry lists the run with its evaluation, and notices a mask edited since.
    let listed = ok(&nerve_studio(&["runs", "list", p, "--json"], dir.path()));
    let row = &listed["runs"][0];
    assert_eq!(row["id"], run.as_str());
    assert_eq!(row["stale"]["masks_changed"], 0);
    assert_eq!(row["evaluations"][0]["split"], "val");
    assert_eq!(row["evaluations"][0]["metrics"][0]["name"], "IoU");
    let snapshot =
        std::fs::read_to_string(project.join("runs").join(&run).join("snapshot.csv")).unwrap();
    let stem = snapshot.lines().nth(1).unwrap().split(',').next().unwrap();
    let mask_path = project.join("masks").join(format!("{stem}.png"));
    let mut mask = image::open(&mask_path).unwrap().to_luma8();
    for x in 0..20 {
        let v = mask.get_pixel(x, 0).0[0];
        mask.put_pixel(x, 0, image::Luma([255 - v]));
    }
    mask.save(&mask_path).unwrap();
    let listed = ok(&nerve_studio(&["runs", "list", p, "--json"], dir.path()));
    assert_eq!(listed["runs"][0]["stale"]["masks_changed"], 1);
    let same = ok(&nerve_studio(
        &["runs", "compare", p, &run, &run, "--json"],
        dir.path(),
    ));
    assert_eq!(same["split"], "val");
    assert!(
        same["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["delta"] == 0.0)
    );
    ok(&nerve_studio(&["runs", "activate", p, &run], dir.path()));
    let listed = ok(&nerve_studio(&["runs", "list", p, "--json"], dir.path()));
    assert_eq!(listed["runs"][0]["active"], true);
    ok(&nerve_studio(&["runs", "delete", p, &run], dir.path()));
    assert!(!project.join("runs").join(&run).exists());
    let active = std::fs::read_to_string(project.join("runs/active.json")).unwrap();
    assert!(
        !active.contains(&run),
        "a deleted run is no longer active: {active}"
    );

    // Bad input names the problem.
    let bad = nerve_studio(&["predict", p, "--run", "no-such-run"], dir.path());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no-such-run"));
}

#[test]
fn a_classifier_trains_in_two_stages_and_scores_its_images() {
    let (dir, project) = small_demo(40, 13);
    let p = project.to_str().unwrap();
    let out = ok(&nerve_studio(
        &[
            "train",
            p,
            "--recipe",
            "mobilenet_v2",
            "--image-size",
            "64",
            "--epochs",
            "3",
            "--device",
            "cpu",
            "--json",
        ],
        dir.path(),
    ));
    let stages: Vec<u64> = out["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stage"].as_u64().unwrap())
        .collect();
    assert_eq!(stages, vec![1, 2, 2]);
    let lrs: Vec<f64> = out["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["learning_rate"].as_f64().unwrap())
        .collect();
    // From random weights the second stage keeps the rate: only pretrained features need the
    // gentler one.
    assert_eq!(lrs[1], lrs[0]);
    let run = out["run"].as_str().unwrap();
    let predicted = ok(&nerve_studio(
        &["predict", p, "--run", run, "--json"],
        dir.path(),
    ));
    let scores = std::fs::read_to_string(
        Path::new(predicted["output"].as_str().unwrap()).join("scores.csv"),
    )
    .unwrap();
    assert!(
        scores.starts_with("stem,truth,pred,p_nerve,p_opening_wound,p_tendon"),
        "{scores}"
    );
    assert_eq!(scores.lines().count(), 41);

    // Evaluating the run on every image gives predict's accuracy, with ROC curves and samples.
    let eval = ok(&nerve_studio(
        &[
            "eval", p, "--run", run, "--split", "all", "--device", "cpu", "--json",
        ],
        dir.path(),
    ));
    assert_eq!(eval["kind"], "classification");
    let accuracy = eval["classification"]["accuracy"].as_f64().unwrap();
    assert!((accuracy - predicted["metrics"]["accuracy"].as_f64().unwrap()).abs() < 1e-9);
    assert_eq!(eval["training"]["epochs"].as_array().unwrap().len(), 3);
    let report = Path::new(eval["report_dir"].as_str().unwrap());
    for file in [
        "roc_curves.png",
        "confusion_matrix.svg",
        "samples.png",
        "training_curves.png",
    ] {
        assert!(report.join(file).is_file(), "{file} missing");
    }
}

#[test]
fn model_summary_prints_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&nerve_studio(
        &["model", "summary", "mu_net", "--json"],
        dir.path(),
    ));
    assert_eq!(out["total"], 416_209);
    assert_eq!(out["trainable"], 409_025);
    assert_eq!(out["non_trainable"], 7_184);
    let bad = nerve_studio(&["model", "summary", "alexnet"], dir.path());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("alexnet"));
}
