//! `bench --reference DIR`: the JSON lines the reference scripts print (TensorFlow/Keras,
//! PyTorch, ONNX Runtime and tract, `../shared/bench/`), set beside our own medians as ratios
//! against the best of TensorFlow and PyTorch, which is what issue 17 judges.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use super::bench_models::ModelResult;

/// One piece of work measured by us and by the references.
#[derive(Debug, Serialize, PartialEq)]
pub struct Ratio {
    /// The references' name for it, e.g. `classifier_infer_b1_224_ms`.
    pub work: String,
    pub ours_ms: f64,
    /// Milliseconds by framework: tensorflow, torch, ort, tract (those that printed one).
    pub references_ms: BTreeMap<String, f64>,
    /// Ours over the best of TensorFlow and PyTorch (below 1: we are faster).
    pub ratio_to_best_of_tf_torch: Option<f64>,
}

/// Every `{"bench": NAME, "value": MS}` line of the files in `dir` (other lines are the
/// scripts' headers, or an engine that could not run; they are skipped).
pub fn read(dir: &Path) -> Result<BTreeMap<String, f64>> {
    let mut values = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the reference folder", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("{}: not a text file", file.display()))?;
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if let (Some(name), Some(ms)) = (v["bench"].as_str(), v["value"].as_f64()) {
                values.insert(name.to_string(), ms);
            }
        }
    }
    anyhow::ensure!(
        !values.is_empty(),
        "{}: no {{\"bench\": NAME, \"value\": MS}} lines (run tf_reference.py and \
         torch_reference.py with their output saved there)",
        dir.display()
    );
    Ok(values)
}

/// Our results that the references also measured, with the ratios. `gpu`: compare with the
/// scripts' CUDA names (`cuda_torch_…`).
pub fn ratios(ours: &[ModelResult], references: &BTreeMap<String, f64>, gpu: bool) -> Vec<Ratio> {
    let mut out = Vec::new();
    for r in ours {
        let model = match r.arch {
            "mobilenet_v2" => "classifier",
            "unet_mobilenet_v2" => "unet",
            _ => continue,
        };
        let work = match r.task {
            "infer" => format!("{model}_infer_b{}_{}_ms", r.batch, r.size),
            _ => format!("{model}_train_step_b{}_{}_ms", r.batch, r.size),
        };
        let torch = if gpu { "cuda_torch" } else { "torch" };
        let mut found = BTreeMap::new();
        for (framework, key) in [
            ("tensorflow", work.clone()),
            ("torch", format!("{torch}_{work}")),
            ("ort", format!("ort_{work}")),
            ("tract", format!("tract_{work}")),
        ] {
            if let Some(&ms) = references.get(&key) {
                found.insert(framework.to_string(), ms);
            }
        }
        if found.is_empty() {
            continue;
        }
        let best = ["tensorflow", "torch"]
            .iter()
            .filter_map(|f| found.get(*f).copied())
            .reduce(f64::min);
        out.push(Ratio {
            work,
            ours_ms: r.ms_per_batch,
            references_ms: found,
            ratio_to_best_of_tf_torch: best.map(|b| r.ms_per_batch / b),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_lines_become_ratios() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tf.jsonl"),
            "{\"framework\": \"tensorflow 2.17\"}\n\
             {\"bench\": \"classifier_infer_b1_224_ms\", \"value\": 14.0}\n\
             {\"bench\": \"classifier_train_step_b8_224_ms\", \"value\": 328.0}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("torch.jsonl"),
            "{\"bench\": \"torch_classifier_infer_b1_224_ms\", \"value\": 16.0}\n\
             {\"bench\": \"ort_classifier_infer_b1_224_ms\", \"value\": 4.0}\n\
             {\"bench\": \"tract_unet_infer_b1_224_ms\", \"error\": \"unsupported\"}\n",
        )
        .unwrap();
        let refs = read(dir.path()).unwrap();
        assert_eq!(refs.len(), 4);
        let ours = [
            ModelResult {
                arch: "mobilenet_v2",
                task: "infer",
                batch: 1,
                size: 224,
                ms_per_batch: 28.0,
                images_per_s: 0.0,
            },
            ModelResult {
                arch: "mobilenet_v2",
                task: "train",
                batch: 4,
                size: 224,
                ms_per_batch: 900.0,
                images_per_s: 0.0,
            },
        ];
        let r = ratios(&ours, &refs, false);
        assert_eq!(
            r.len(),
            1,
            "a training step of batch 4 has no reference at batch 8"
        );
        assert_eq!(r[0].work, "classifier_infer_b1_224_ms");
        assert_eq!(r[0].ratio_to_best_of_tf_torch, Some(2.0));
        assert_eq!(r[0].references_ms["ort"], 4.0);
        assert!(read(&dir.path().join("missing")).is_err());
    }
}
