//! One training run on disk: `runs/<id>/` with recipe.toml, weights, checkpoint, history.csv,
//! the data snapshot (stems, splits, classes, mask hashes) and metrics.json.

use crate::ml::{Error, Result};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::data::Item;
use super::progress::EpochRecord;
use super::recipe::Recipe;
use super::start::{Provenance, Start, WeightsFile};
use crate::atomic::write_atomic;
use crate::project::label::now_rfc3339;
use crate::project::splits::Split;
use crate::table;

pub const RECIPE: &str = "recipe.toml";
/// The best weights (lowest validation loss), in burn's record format.
pub const WEIGHTS: &str = "weights.bpk";
pub const CHECKPOINT_MODEL: &str = "checkpoint/model.bpk";
pub const CHECKPOINT_OPTIMIZER: &str = "checkpoint/optimizer.bpk";
pub const CHECKPOINT_STATE: &str = "checkpoint/state.json";
pub const HISTORY: &str = "history.csv";
pub const SNAPSHOT: &str = "snapshot.csv";
/// The columns of the data snapshot.
const SNAPSHOT_COLUMNS: [&str; 4] = ["stem", "split", "class", "mask_hash"];
pub const METRICS: &str = "metrics.json";
pub const INFO: &str = "run.json";

/// Where a run stands (run.json).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunInfo {
    pub id: String,
    pub recipe: String,
    pub architecture: String,
    pub classes: Vec<String>,
    pub device: String,
    pub started_at: String,
    pub updated_at: String,
    pub status: RunStatus,
    pub epochs_done: usize,
    pub epochs_planned: usize,
    pub best_epoch: usize,
    /// What the weights started from, in words.
    pub initial_weights: String,
    /// The weights file it started from and its SHA-256 (absent: random weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_file: Option<WeightsFile>,
    /// Whether that file filled the whole backbone (absent in runs older than this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backbone_pretrained: Option<bool>,
    /// Where its first weights came from (absent in older runs: see `RunInfo::provenance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// Segmenters: the validation threshold maximising pixel F1.
    pub threshold: Option<f32>,
    /// Why a failed run failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a run stands, as `info.json` writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// A trainer holds it now.
    Training,
    /// All epochs ran.
    Finished,
    /// Validation loss stopped improving.
    EarlyStopped,
    /// The user cancelled; the last checkpoint can be resumed.
    Cancelled,
    /// Its trainer stopped without saying why (killed, crashed): resumable like a cancel.
    Interrupted,
    /// It failed (`error` says why).
    Failed,
}

impl RunStatus {
    /// The word shown and written ("early_stopped").
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Training => "training",
            RunStatus::Finished => "finished",
            RunStatus::EarlyStopped => "early_stopped",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }

    /// It ran to its end: its weights can be used and activated.
    pub fn completed(self) -> bool {
        matches!(self, RunStatus::Finished | RunStatus::EarlyStopped)
    }

    /// It stopped early and can continue from its checkpoint.
    pub fn resumable(self) -> bool {
        matches!(self, RunStatus::Cancelled | RunStatus::Interrupted)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<super::progress::StopReason> for RunStatus {
    fn from(reason: super::progress::StopReason) -> Self {
        use super::progress::StopReason;
        match reason {
            StopReason::Finished => RunStatus::Finished,
            StopReason::EarlyStopped => RunStatus::EarlyStopped,
            StopReason::Cancelled => RunStatus::Cancelled,
        }
    }
}

impl RunInfo {
    /// A new run's info, as it starts training.
    pub fn new(
        id: &str,
        recipe_name: &str,
        recipe: &Recipe,
        classes: &[String],
        device: &str,
        start: &Start,
    ) -> RunInfo {
        RunInfo {
            id: id.to_string(),
            recipe: recipe_name.to_string(),
            architecture: recipe.architecture.id().into(),
            classes: classes.to_vec(),
            device: device.to_string(),
            started_at: now_rfc3339(),
            updated_at: now_rfc3339(),
            status: RunStatus::Training,
            epochs_done: 0,
            epochs_planned: recipe.total_epochs(),
            best_epoch: 0,
            initial_weights: start.text.clone(),
            weights_file: start.file.clone(),
            backbone_pretrained: Some(start.pretrained),
            provenance: Some(start.provenance()),
            threshold: None,
            error: None,
        }
    }

    /// "started from mobilenet_v2-b0353104.pth (SHA-256 b0353104e3…)", for the registry.
    pub fn started_from(&self) -> String {
        match (&self.weights_file, self.provenance()) {
            (Some(f), provenance) => format!(
                "started from {}{} (SHA-256 {}…)",
                f.name,
                if provenance == Provenance::Pretrained {
                    ""
                } else {
                    ", partly"
                },
                f.sha256.get(..12).unwrap_or(&f.sha256)
            ),
            (None, Provenance::Random) => "started from random weights".into(),
            (None, _) => format!("started from {}", self.initial_weights),
        }
    }

    /// Where the run's first weights came from. Runs written before `provenance` say it with
    /// `backbone_pretrained`, and the oldest only in words ("random (…)").
    pub fn provenance(&self) -> Provenance {
        if let Some(p) = self.provenance {
            return p;
        }
        match (self.backbone_pretrained, &self.weights_file) {
            (Some(true), _) => Provenance::Pretrained,
            (Some(false), Some(_)) => Provenance::Partial,
            (Some(false), None) => Provenance::Random,
            (None, _) if self.initial_weights.starts_with("random") => Provenance::Random,
            (None, _) => Provenance::Pretrained,
        }
    }

    /// What the run started from, for a resume.
    pub fn start(&self) -> Start {
        Start {
            text: self.initial_weights.clone(),
            pretrained: self.provenance() == Provenance::Pretrained,
            file: self.weights_file.clone(),
        }
    }
}

/// Training state at the end of the last completed epoch (for resume).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CheckpointState {
    pub epoch: usize,
    pub best_val_loss: f64,
    pub best_epoch: usize,
    pub epochs_without_improvement: usize,
}

impl CheckpointState {
    /// Before the first epoch.
    pub fn new() -> CheckpointState {
        CheckpointState {
            epoch: 0,
            best_val_loss: f64::INFINITY,
            best_epoch: 0,
            epochs_without_improvement: 0,
        }
    }

    /// `epoch` ended with `val_loss`: whether it is the best so far (the first always is).
    pub fn record(&mut self, epoch: usize, val_loss: f64) -> bool {
        let best = val_loss < self.best_val_loss - 1e-9 || self.best_epoch == 0;
        if best {
            self.best_val_loss = val_loss;
            self.best_epoch = epoch;
            self.epochs_without_improvement = 0;
        } else {
            self.epochs_without_improvement += 1;
        }
        self.epoch = epoch;
        best
    }
}

impl Default for CheckpointState {
    fn default() -> Self {
        CheckpointState::new()
    }
}

#[derive(Clone, Debug)]
pub struct RunDir {
    pub id: String,
    pub path: PathBuf,
}

impl RunDir {
    pub fn create(project: &Path, recipe_name: &str) -> Result<RunDir> {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        let base = format!("{stamp}-{recipe_name}");
        let runs = project.join("runs");
        for n in 0..100 {
            let id = if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let path = runs.join(&id);
            if path.exists() {
                continue;
            }
            std::fs::create_dir_all(path.join("checkpoint")).map_err(Error::file(&path))?;
            return Ok(RunDir { id, path });
        }
        Err(Error::invalid(&runs, "too many runs started this second"))
    }

    /// Finds a run by id (or a path to its folder).
    pub fn open(project: &Path, run: &str) -> Result<RunDir> {
        let direct = PathBuf::from(run);
        let path = if direct.join(INFO).is_file() {
            direct
        } else {
            project.join("runs").join(run)
        };
        if !path.join(INFO).is_file() {
            return Err(Error::invalid(
                &path,
                format!(
                    "no such run (runs are listed in {})",
                    project.join("runs").display()
                ),
            ));
        }
        let id = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(RunDir { id, path })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.file(name);
        write_atomic(&path, bytes).map_err(Error::file(&path))
    }

    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        self.write(
            name,
            serde_json::to_string_pretty(value)
                .expect("serialisable")
                .as_bytes(),
        )
    }

    pub fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<T> {
        let path = self.file(name);
        let text = std::fs::read_to_string(&path).map_err(Error::file(&path))?;
        serde_json::from_str(&text).map_err(|e| Error::invalid(&path, e))
    }

    /// run.json as it stands, except that a run marked training whose trainer is gone (killed,
    /// crashed, the machine restarted) says `interrupted`: nothing holds its training lock.
    pub fn live_info(&self) -> Result<RunInfo> {
        let mut info = self.info()?;
        if info.status == RunStatus::Training && !self.is_training() {
            info.status = RunStatus::Interrupted;
        }
        Ok(info)
    }

    /// Whether a process is training this run now (it holds the run's lock).
    pub fn is_training(&self) -> bool {
        crate::project::lock::current_holder(&self.path).is_some()
    }

    /// Takes the run's training lock for as long as the value lives (the OS drops it when the
    /// process dies); refused while another process trains the run.
    pub fn lock_for_training(&self) -> Result<crate::project::lock::ProjectLock> {
        use crate::project::lock::{LockAttempt, ProjectLock};
        match ProjectLock::try_acquire(&self.path) {
            Ok(LockAttempt::Acquired(lock)) => Ok(lock),
            Ok(LockAttempt::HeldBy(owner)) => Err(Error::request(format!(
                "run {} is being trained by {owner}; wait for it or stop it there",
                self.id
            ))),
            Err(e) => Err(Error::invalid(
                &self.path,
                format!("cannot lock the run: {e}"),
            )),
        }
    }

    pub fn info(&self) -> Result<RunInfo> {
        self.read_json(INFO)
    }

    /// The run's own recipe, named as it was trained (what a resume trains with).
    pub fn named_recipe(&self) -> Result<super::recipe::NamedRecipe> {
        Ok(super::recipe::NamedRecipe {
            name: self.info()?.recipe,
            path: self.file(RECIPE),
            recipe: self.recipe()?,
        })
    }

    /// The run's recipe, which must be for `task` ("run X: not a classifier" otherwise).
    pub fn recipe_for(&self, task: super::models::Task) -> Result<Recipe> {
        let recipe = self.recipe()?;
        if recipe.task() != task {
            return Err(Error::run(&self.id, format!("not a {}", task.role())));
        }
        Ok(recipe)
    }

    pub fn recipe(&self) -> Result<Recipe> {
        let path = self.file(RECIPE);
        let text = std::fs::read_to_string(&path).map_err(Error::file(&path))?;
        Recipe::parse(&text, &path)
    }

    pub fn write_snapshot(&self, items: &[Item]) -> Result<()> {
        let rows = items.iter().map(|i| {
            vec![
                i.stem.clone(),
                i.split.to_string(),
                i.class.to_string(),
                i.mask_hash.clone().unwrap_or_default(),
            ]
        });
        let text = table::to_text(&SNAPSHOT_COLUMNS, rows);
        self.write(SNAPSHOT, text.as_bytes())
    }

    pub fn read_snapshot(&self) -> Result<Vec<Item>> {
        let path = self.file(SNAPSHOT);
        let t = table::read(&path)?;
        t.rows
            .iter()
            .map(|row| {
                let bad = || {
                    Error::invalid(
                        &path,
                        format!("line {} is not {}", row.line, SNAPSHOT_COLUMNS.join(",")),
                    )
                };
                let [stem, split, class, hash] = &row.fields[..] else {
                    return Err(bad());
                };
                Ok(Item {
                    stem: stem.clone(),
                    split: Split::from_name(split).ok_or_else(bad)?,
                    class: class.parse().map_err(|_| bad())?,
                    mask_hash: (!hash.is_empty()).then(|| hash.clone()),
                })
            })
            .collect()
    }

    pub fn write_history(&self, history: &[EpochRecord]) -> Result<()> {
        let text = table::to_text(
            &EpochRecord::COLUMNS,
            history.iter().map(EpochRecord::fields),
        );
        self.write(HISTORY, text.as_bytes())
    }

    /// The epochs recorded so far (none when the file is missing or unreadable).
    pub fn read_history(&self) -> Vec<EpochRecord> {
        table::read(&self.file(HISTORY))
            .map(|t| {
                t.rows
                    .iter()
                    .filter_map(|r| EpochRecord::from_fields(&r.fields))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A run folder marked as training (as a killed trainer leaves it), for tests.
#[cfg(test)]
pub(crate) fn run_marked_training(project: &Path) -> RunDir {
    let run = RunDir::create(project, "mu_net").unwrap();
    let info = serde_json::json!({
        "id": run.id, "recipe": "mu_net", "architecture": "mu_net", "classes": [],
        "device": "cpu", "started_at": "", "updated_at": "", "status": "training",
        "epochs_done": 1, "epochs_planned": 3, "best_epoch": 1, "initial_weights": "random",
        "threshold": null
    });
    run.write_json(INFO, &info).unwrap();
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's info as an older version wrote it: `fields` added to the common ones.
    fn old_info(fields: serde_json::Value) -> RunInfo {
        let mut info = serde_json::json!({
            "id": "r", "recipe": "mu_net", "architecture": "mu_net", "classes": [],
            "device": "cpu", "started_at": "", "updated_at": "", "status": "early_stopped",
            "epochs_done": 1, "epochs_planned": 3, "best_epoch": 1, "threshold": null
        });
        info.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        serde_json::from_value(info).unwrap()
    }

    #[test]
    fn provenance_is_typed_and_older_runs_are_read_from_what_they_wrote() {
        let sha = serde_json::json!({ "name": "w.pth", "sha256": "ab" });
        let random = old_info(serde_json::json!({ "initial_weights": "random (He)" }));
        assert_eq!(random.provenance(), Provenance::Random);
        assert!(!random.start().pretrained);
        let file = old_info(serde_json::json!({ "initial_weights": "w.pth", "weights_file": sha }));
        assert_eq!(file.provenance(), Provenance::Pretrained);
        let partial = old_info(serde_json::json!({
            "initial_weights": "w.pth, partly", "weights_file": sha, "backbone_pretrained": false
        }));
        assert_eq!(partial.provenance(), Provenance::Partial);
        assert!(partial.started_from().contains(", partly"));
        // The field wins over the words: a sentence is never the source of truth any more.
        let typed = old_info(serde_json::json!({
            "initial_weights": "random-looking words", "provenance": "pretrained",
            "weights_file": sha
        }));
        assert_eq!(typed.provenance(), Provenance::Pretrained);
        assert_eq!(typed.status, RunStatus::EarlyStopped);
        assert!(typed.status.completed() && !typed.status.resumable());
        let back: RunInfo = serde_json::from_str(&serde_json::to_string(&typed).unwrap()).unwrap();
        assert_eq!(back.provenance, Some(Provenance::Pretrained));
    }

    #[test]
    fn a_run_marked_training_without_its_trainer_is_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_marked_training(dir.path());
        assert_eq!(run.live_info().unwrap().status, RunStatus::Interrupted);
        let lock = run.lock_for_training().unwrap();
        assert!(run.is_training());
        assert_eq!(run.live_info().unwrap().status, RunStatus::Training);
        assert!(
            run.lock_for_training()
                .unwrap_err()
                .to_string()
                .contains("is being trained by")
        );
        drop(lock);
        assert_eq!(run.live_info().unwrap().status, RunStatus::Interrupted);
    }
}
