//! The model registry: every training run of a project with what it learned from, how it
//! scored, whether the data has changed since (stale), which runs are active, comparing two
//! runs, and deleting one.

use crate::ml::{Error, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::data;
use super::models::Task;
use super::run::{self, RunDir, RunInfo};
use crate::atomic::write_atomic;
use crate::project::Project;
use crate::project::splits::Split;

/// The file naming the active classifier and segmenter (used by Review and pre-annotation).
pub const ACTIVE: &str = "active.json";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Active {
    pub classifier: Option<String>,
    pub segmenter: Option<String>,
}

/// How the project's data differs from what a run learned from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Staleness {
    /// Images whose mask changed since the run took its snapshot.
    pub masks_changed: usize,
    /// Images whose class changed.
    pub relabeled: usize,
    /// Images the run used that are no longer usable (unlabeled, flagged, deleted, ...).
    pub removed: usize,
    /// Images usable now that the run did not see.
    pub added: usize,
}

impl Staleness {
    pub fn total(&self) -> usize {
        self.masks_changed + self.relabeled + self.removed + self.added
    }
}

/// One row of the registry.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub info: RunInfo,
    /// Serialised "classify" or "segment".
    pub task: Task,
    /// Images in the run's data snapshot.
    pub snapshot_images: usize,
    /// Of those, the images it learned from (the train split) and validated on (val).
    pub trained_on: usize,
    pub validated_on: usize,
    pub stale: Staleness,
    /// Whether this is the active classifier or segmenter.
    pub active: bool,
    /// The run's own validation metrics (metrics.json), if it finished.
    pub validation: Option<serde_json::Value>,
    /// The headline numbers of its evaluations (eval-<split>/metrics.json), by split.
    pub evaluations: Vec<Headline>,
}

/// The main numbers of one evaluation, each with its 95% interval where there is one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Headline {
    pub split: String,
    pub images: usize,
    pub metrics: Vec<Metric>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metric {
    pub name: String,
    pub value: f64,
    pub ci95: Option<[f64; 2]>,
}

pub fn read_active(project: &Path) -> Active {
    std::fs::read_to_string(project.join("runs").join(ACTIVE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn write_active(project: &Path, active: &Active) -> Result<()> {
    let path = project.join("runs").join(ACTIVE);
    let json = serde_json::to_string_pretty(active).expect("serialisable");
    write_atomic(&path, json.as_bytes()).map_err(Error::file(&path))
}

/// Reads the evaluations written in a run's folder (eval-<split>/metrics.json), test first.
fn evaluations(run: &RunDir) -> Vec<Headline> {
    let mut out = vec![];
    for split in ["test", "val", "train", "all"] {
        let path = run.path.join(format!("eval-{split}")).join("metrics.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(h) = headline_from_json(split, &value)
        {
            out.push(h);
        }
    }
    out
}

/// The same headline from a metrics.json (the registry reads reports as JSON, so a report of
/// an older version still lists).
fn headline_from_json(split: &str, v: &serde_json::Value) -> Option<Headline> {
    let images = v["images"].as_u64()? as usize;
    let mut metrics = vec![];
    let ci = |s: &serde_json::Value| {
        s["ci95"]
            .as_array()
            .and_then(|a| Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?]))
    };
    let seg = &v["segmentation"];
    if seg.is_object() {
        for (name, key) in [
            ("IoU", "iou"),
            ("Dice", "dice"),
            ("clDice", "cl_dice"),
            ("F1", "f1"),
        ] {
            metrics.push(Metric {
                name: name.into(),
                value: seg[key]["mean"].as_f64()?,
                ci95: ci(&seg[key]),
            });
        }
        if let Some(f1) = seg["pr_curve"]["best"]["f1"].as_f64() {
            metrics.push(Metric {
                name: "pixel F1 (best threshold)".into(),
                value: f1,
                ci95: None,
            });
        }
    }
    let cls = &v["classification"];
    if cls.is_object() {
        for (name, value) in [
            ("accuracy", cls["accuracy"].as_f64()),
            ("MCC", cls["mcc"].as_f64()),
            ("macro F1", cls["macro"]["f1_positive"].as_f64()),
            ("macro AUC", cls["macro_auc"].as_f64()),
        ] {
            if let Some(value) = value {
                metrics.push(Metric {
                    name: name.into(),
                    value,
                    ci95: None,
                });
            }
        }
    }
    Some(Headline {
        split: split.into(),
        images,
        metrics,
    })
}

/// How the project's current data differs from the run's snapshot.
fn staleness(now: &data::DataPlan, run: &RunDir, classes: &[String]) -> Staleness {
    let Ok(snapshot) = run.read_snapshot() else {
        return Staleness::default();
    };
    // The snapshot's class indices are the run's; compare by name.
    let now_items: HashMap<&str, &data::Item> =
        now.items.iter().map(|i| (i.stem.as_str(), i)).collect();
    let mut s = Staleness::default();
    for old in &snapshot {
        match now_items.get(old.stem.as_str()) {
            None => s.removed += 1,
            Some(new) => {
                if classes.get(old.class) != now.classes.get(new.class) {
                    s.relabeled += 1;
                } else if old.mask_hash != new.mask_hash {
                    s.masks_changed += 1;
                }
            }
        }
    }
    let seen: std::collections::HashSet<&str> = snapshot.iter().map(|i| i.stem.as_str()).collect();
    s.added = now
        .items
        .iter()
        .filter(|i| !seen.contains(i.stem.as_str()))
        .count();
    s
}

/// Every run of the project, newest first.
pub fn list(project_root: &Path) -> Result<Vec<RunSummary>> {
    let project = Project::open_read_only(project_root)?;
    let runs = project_root.join("runs");
    let Ok(entries) = std::fs::read_dir(&runs) else {
        return Ok(vec![]);
    };
    let active = read_active(project_root);
    let mut out = vec![];
    let mut ids: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join(run::INFO).is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids.reverse();
    let mut plans: HashMap<Task, data::DataPlan> = HashMap::new();
    for id in ids {
        let run = RunDir::open(project_root, &id)?;
        let (Ok(info), Ok(recipe)) = (run.live_info(), run.recipe()) else {
            continue;
        };
        let task = recipe.task();
        let snapshot = run.read_snapshot().unwrap_or_default();
        let in_split = |split| snapshot.iter().filter(|i| i.split == split).count();
        let (trained_on, validated_on) = (in_split(Split::Train), in_split(Split::Val));
        let snapshot_images = snapshot.len();
        // The current data, planned (and its masks hashed) once per task, not once per run.
        let now = plans
            .entry(task)
            .or_insert_with(|| data::plan(&project, task));
        let stale = staleness(now, &run, &info.classes);
        let validation = std::fs::read_to_string(run.file(run::METRICS))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        out.push(RunSummary {
            active: match task {
                Task::Classify => active.classifier.as_deref() == Some(id.as_str()),
                Task::Segment => active.segmenter.as_deref() == Some(id.as_str()),
            },
            task,
            evaluations: evaluations(&run),
            id,
            info,
            snapshot_images,
            trained_on,
            validated_on,
            stale,
            validation,
        });
    }
    Ok(out)
}

/// Makes `run` the active classifier or segmenter (by its task).
pub fn activate(project_root: &Path, run_id: &str) -> Result<&'static str> {
    let run = RunDir::open(project_root, run_id)?;
    let info = run.info()?;
    if !info.status.completed() {
        return Err(Error::run(
            &run.id,
            format!("it is {}, only a finished run can be active", info.status),
        ));
    }
    let mut active = read_active(project_root);
    let task = run.recipe()?.task();
    match task {
        Task::Classify => active.classifier = Some(run.id.clone()),
        Task::Segment => active.segmenter = Some(run.id.clone()),
    }
    write_active(project_root, &active)?;
    Ok(task.role())
}

/// Deletes a run's folder and its cached predictions; an active run stops being active. A run
/// that a process is training now is kept unless `force`.
pub fn delete(project_root: &Path, run_id: &str, force: bool) -> Result<PathBuf> {
    let run = RunDir::open(project_root, run_id)?;
    if run.is_training() && !force {
        return Err(Error::request(format!(
            "run {} is training now (in this or another window, or a headless train); stop it first, or use --force",
            run.id
        )));
    }
    let mut active = read_active(project_root);
    let before = active.clone();
    for slot in [&mut active.classifier, &mut active.segmenter] {
        if slot.as_deref() == Some(run.id.as_str()) {
            *slot = None;
        }
    }
    if active != before {
        write_active(project_root, &active)?;
    }
    // Rename first, so a half-deleted run is never listed.
    let trash = project_root
        .join("runs")
        .join(format!(".deleting-{}", run.id));
    std::fs::rename(&run.path, &trash).map_err(Error::file(&run.path))?;
    std::fs::remove_dir_all(&trash).map_err(Error::file(&trash))?;
    let predictions = super::predict::predictions_dir(project_root, &run.id);
    if predictions.exists() {
        let _ = std::fs::remove_dir_all(&predictions);
    }
    Ok(run.path)
}

/// One row of a comparison: the metric in both runs and the change from A to B.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    pub metric: String,
    pub a: f64,
    pub a_ci95: Option<[f64; 2]>,
    pub b: f64,
    pub b_ci95: Option<[f64; 2]>,
    pub delta: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub split: String,
    pub images_a: usize,
    pub images_b: usize,
    pub rows: Vec<Difference>,
}

/// Compares the evaluations of two runs on the same split (test if both have one, else val).
pub fn compare(project_root: &Path, a: &str, b: &str) -> Result<Comparison> {
    let (ra, rb) = (
        RunDir::open(project_root, a)?,
        RunDir::open(project_root, b)?,
    );
    let (ta, tb) = (ra.recipe()?.task(), rb.recipe()?.task());
    if ta != tb {
        return Err(Error::request(format!(
            "run {} is a {} and run {} a {}: compare runs of one kind",
            ra.id,
            ta.role(),
            rb.id,
            tb.role()
        )));
    }
    let (ea, eb) = (evaluations(&ra), evaluations(&rb));
    let Some((ha, hb)) = ea
        .iter()
        .find_map(|h| eb.iter().find(|o| o.split == h.split).map(|o| (h, o)))
    else {
        return Err(Error::request(format!(
            "runs {} and {} have no evaluation on a common split; run `nerve-studio eval {} --run RUN --split test` for each",
            ra.id,
            rb.id,
            project_root.display()
        )));
    };
    let rows = ha
        .metrics
        .iter()
        .filter_map(|ma| {
            let mb = hb.metrics.iter().find(|m| m.name == ma.name)?;
            Some(Difference {
                metric: ma.name.clone(),
                a: ma.value,
                a_ci95: ma.ci95,
                b: mb.value,
                b_ci95: mb.ci95,
                delta: mb.value - ma.value,
            })
        })
        .collect();
    Ok(Comparison {
        a: ra.id,
        b: rb.id,
        split: ha.split.clone(),
        images_a: ha.images,
        images_b: hb.images,
        rows,
    })
}
