//! The training loop: two-stage transfer learning for classifiers, one stage for segmenters;
//! Adam; validation, early stopping and a checkpoint every epoch; resume; cancel at any batch.

use crate::ml::{Error, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;

use super::calibrate;
use super::data::{self, Item, Prepared};
use super::device::ComputeDevice;
use super::infer::{self, SplitMetrics};
use super::models::{ModelSpec, Network, Task};
use super::progress::{BatchProgress, EpochRecord, EpochSample, StopReason, TrainEvent};
use super::recipe::{NamedRecipe, Recipe};
use super::run::{self, CheckpointState, RunDir, RunInfo, RunStatus};
use super::start::{self, Start};
use super::weights;
use crate::project::Project;
use crate::project::demo::random::Rng;
use crate::project::label::now_rfc3339;
use crate::project::splits::Split;

/// Everything a training needs.
pub struct TrainRequest {
    pub project: PathBuf,
    /// The recipe (ignored when resuming: the run's own recipe is used).
    pub recipe: NamedRecipe,
    pub device: ComputeDevice,
    /// torchvision weights to start from.
    pub weights: Option<PathBuf>,
    /// Continue this run from its last checkpoint.
    pub resume: Option<String>,
    /// Set to stop at the next batch; the last checkpoint stays usable.
    pub cancel: Arc<AtomicBool>,
}

pub struct TrainOutcome {
    pub run: RunDir,
    pub info: RunInfo,
    pub reason: StopReason,
    pub history: Vec<EpochRecord>,
    /// Validation metrics of the best weights (absent when cancelled before any epoch).
    pub metrics: Option<SplitMetrics>,
}

/// Trains recipe `name` at `image_size` px for `epochs` epochs, batch 8, from random weights:
/// the small trainings of the benchmarks and tests.
pub fn train_small(
    project: &std::path::Path,
    name: &str,
    image_size: usize,
    epochs: usize,
    device: &ComputeDevice,
) -> Result<TrainOutcome> {
    let mut named = super::recipe::load(name)?;
    named.recipe.image_size = image_size;
    named.recipe.batch_size = 8;
    named.recipe = named.recipe.with_total_epochs(epochs);
    train(
        TrainRequest {
            project: project.to_path_buf(),
            recipe: named,
            device: device.clone(),
            weights: None,
            resume: None,
            cancel: Arc::new(AtomicBool::new(false)),
        },
        &mut |_| {},
    )
}

/// Trains a run: opens it (new, or resumed from its checkpoint), loads its data, then each
/// epoch trains, validates and writes a checkpoint, until the last epoch, early stopping or a
/// cancel; the best weights' validation metrics are written at the end.
pub fn train(request: TrainRequest, on_event: &mut dyn FnMut(&TrainEvent)) -> Result<TrainOutcome> {
    let project = Project::open_read_only(&request.project)?;
    let opened = open_run(&request, &project)?;
    // Held until training returns: tells the registry the run is live, refuses a second trainer.
    let _lock = opened.0.lock_for_training()?;
    let mut t = Training::start(&request, &project, opened, on_event)?;
    let mut reason = StopReason::Finished;
    for epoch in t.state.epoch + 1..=t.epochs {
        t.enter_stage(epoch, on_event);
        let Some(sums) = t.train_epoch(epoch, &request.cancel, on_event) else {
            reason = StopReason::Cancelled;
            break;
        };
        if t.validate_and_checkpoint(epoch, sums, on_event)? {
            reason = StopReason::EarlyStopped;
            break;
        }
    }
    t.finish(reason, on_event)
}

/// A training under way: the run, its data, the network and its optimiser, and where it is.
struct Training {
    run: RunDir,
    recipe: Recipe,
    spec: ModelSpec,
    task: Task,
    classes: usize,
    train_set: Vec<Prepared>,
    val_set: Vec<Prepared>,
    /// The snapshot entries of `val_set`, in the same order.
    val_items: Vec<Item>,
    /// The device, and the same device recording gradients.
    plain: Device,
    device: Device,
    /// The network being trained (taken out for the moment an optimiser step consumes it).
    network: Option<Network>,
    optimizer: ModuleOptimizer,
    pretrained: bool,
    state: CheckpointState,
    history: Vec<EpochRecord>,
    info: RunInfo,
    /// What validation scores by guessing; early stopping waits until a run beats it.
    chance: f64,
    batch_size: usize,
    epochs: usize,
    stage: u8,
    started: Instant,
    images_seen: usize,
}

/// What one epoch's batches added up to: the loss and metric, weighted by images.
struct EpochSums {
    loss: f64,
    metric: f64,
    lr: f64,
    started: Instant,
}

impl Training {
    /// Loads the data, builds the network (from the checkpoint, a weights file or random),
    /// writes the run's info and says `Started`.
    fn start(
        request: &TrainRequest,
        project: &Project,
        (run, recipe, recipe_name, items, resumed): Opened,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Result<Training> {
        let classes = project.manifest.classes.clone();
        let (train_set, val_set, val_items) =
            load_data(project, &run, &recipe, &items, resumed.is_some(), on_event)?;
        let plain = request.device.device.clone();
        let device = plain.clone().autodiff();
        let spec = recipe.spec(classes.len());
        let mut network = spec.build(&device);
        let start = match (&resumed, &request.weights) {
            (Some((_, info)), _) => {
                network = weights::load(network, &run.file(run::CHECKPOINT_MODEL))?;
                info.start()
            }
            (None, Some(path)) => start::from_file(&mut network, recipe.architecture, path)?,
            (None, None) => Start::random(),
        };
        let optimizer = optimizer_for(&run, resumed.is_some())?;
        let epochs = recipe.total_epochs();
        let (state, history) = progress_so_far(&run, &resumed);
        let info = match &resumed {
            Some((_, info)) => RunInfo {
                status: RunStatus::Training,
                updated_at: now_rfc3339(),
                device: request.device.name.clone(),
                error: None,
                ..info.clone()
            },
            None => RunInfo::new(
                &run.id,
                &recipe_name,
                &recipe,
                &classes,
                &request.device.name,
                &start,
            ),
        };
        run.write_json(run::INFO, &info)?;
        on_event(&TrainEvent::Started {
            run: run.id.clone(),
            device: request.device.name.clone(),
            architecture: recipe.architecture.id().into(),
            train_images: train_set.len(),
            val_images: val_set.len(),
            epochs,
            weights: start.text.clone(),
            first_epoch: state.epoch + 1,
        });
        Ok(Training {
            task: recipe.task(),
            chance: chance_level(recipe.task(), &val_set, classes.len()),
            batch_size: recipe.batch_size.min(train_set.len()).max(1),
            classes: classes.len(),
            run,
            recipe,
            spec,
            train_set,
            val_set,
            val_items,
            plain,
            device,
            network: Some(network),
            optimizer,
            pretrained: start.pretrained,
            state,
            history,
            info,
            epochs,
            stage: 0,
            started: Instant::now(),
            images_seen: 0,
        })
    }

    fn take_network(&mut self) -> Network {
        self.network
            .take()
            .expect("the network is in place between steps")
    }

    /// Classifiers train in two stages: the first `recipe.epochs` with the pretrained backbone
    /// frozen, then all of it (see `configure`).
    fn enter_stage(&mut self, epoch: usize, on_event: &mut dyn FnMut(&TrainEvent)) {
        let stage = if epoch <= self.recipe.epochs { 1 } else { 2 };
        if stage == self.stage {
            return;
        }
        self.stage = stage;
        let network = configure(self.take_network(), &self.recipe, stage, self.pretrained);
        on_event(&TrainEvent::Stage {
            stage,
            training: network.training_now(),
            total: network.counts().trainable,
        });
        self.network = Some(network);
    }

    /// One pass over the training images in a new random order; `None` when cancelled.
    fn train_epoch(
        &mut self,
        epoch: usize,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Option<EpochSums> {
        // The second stage's lower rate protects pretrained features; random ones have none.
        let lr = if self.stage == 1 || !self.pretrained {
            self.recipe.learning_rate
        } else {
            self.recipe.learning_rate * 0.1
        };
        let mut sums = EpochSums {
            loss: 0.0,
            metric: 0.0,
            lr,
            started: Instant::now(),
        };
        let mut order: Vec<usize> = (0..self.train_set.len()).collect();
        let mut rng = Rng::fork(self.recipe.seed, epoch as u64);
        rng.shuffle(&mut order);
        let batches = order.len().div_ceil(self.batch_size);
        for (b, chunk) in order.chunks(self.batch_size).enumerate() {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            let (loss, metric) = self.step(chunk, lr, &mut rng);
            sums.loss += loss * chunk.len() as f64;
            sums.metric += metric * chunk.len() as f64;
            self.images_seen += chunk.len();
            let speed = self.images_seen as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            let n = self.train_set.len();
            let remaining = (self.epochs - epoch) * n + (n - (b * self.batch_size + chunk.len()));
            on_event(&TrainEvent::Batch(BatchProgress {
                epoch,
                epochs: self.epochs,
                stage: self.stage,
                batch: b + 1,
                batches,
                loss,
                images_per_s: speed,
                eta_s: remaining as f64 / speed.max(1e-9),
            }));
        }
        Some(sums)
    }

    /// One optimiser step on the images `chunk` indexes; its loss and metric.
    fn step(&mut self, chunk: &[usize], lr: f64, rng: &mut Rng) -> (f64, f64) {
        let network = self.take_network();
        let samples: Vec<&Prepared> = chunk.iter().map(|&i| &self.train_set[i]).collect();
        let recipe = &self.recipe;
        let batch = data::batch(
            &samples,
            recipe.normalisation,
            Some((&recipe.augment, rng)),
            &self.device,
        );
        let output = network.forward(batch.images.clone());
        let probs = output.clone().detach();
        let loss = infer::batch_loss(output, &batch, recipe.loss);
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        self.network = Some(self.optimizer.step(lr, network, grads));
        let loss_value = infer::to_vec(loss.detach())[0] as f64;
        // Scored against the batch as augmented (a flipped image has a flipped mask).
        let metric = infer::batch_metric(infer::probabilities(probs), &batch);
        (loss_value, metric)
    }

    /// Validates the epoch's network, keeps it when it is the best so far, writes the
    /// checkpoint, the history and the info; whether training should stop early.
    fn validate_and_checkpoint(
        &mut self,
        epoch: usize,
        sums: EpochSums,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Result<bool> {
        on_event(&TrainEvent::Validating { epoch });
        let (recipe, stage, pretrained) = (&self.recipe, self.stage, self.pretrained);
        let network = self
            .network
            .as_ref()
            .expect("the network is in place between steps");
        let valid = calibrate::calibrated(
            network,
            &self.spec,
            &self.train_set,
            recipe.normalisation,
            |n| configure(n, recipe, stage, pretrained),
        )
        .valid();
        let val_refs: Vec<&Prepared> = self.val_set.iter().collect();
        let val = infer::run(
            &valid,
            &val_refs,
            self.batch_size,
            recipe.normalisation,
            Some(recipe.loss),
            &self.plain,
        );
        let val_metrics = infer::metrics(
            self.task,
            &val_refs,
            &val.per_image,
            self.classes,
            Some(0.5),
        );
        let val_loss = val.loss.unwrap_or(f64::NAN);
        let n = self.train_set.len().max(1) as f64;
        let record = EpochRecord {
            epoch,
            stage,
            learning_rate: sums.lr,
            train_loss: sums.loss / n,
            val_loss,
            train_metric: sums.metric / n,
            val_metric: val_metrics.main(),
            seconds: sums.started.elapsed().as_secs_f64(),
        };
        self.history.push(record.clone());
        self.run.write_history(&self.history)?;
        let best = self.state.record(epoch, val_loss);
        if best {
            weights::save(&valid, &self.run.file(run::WEIGHTS))?;
        }
        self.checkpoint(epoch)?;
        let metric = match self.task {
            Task::Classify => "accuracy",
            Task::Segment => "iou",
        };
        on_event(&TrainEvent::Epoch {
            record,
            metric,
            best,
        });
        let val_items: Vec<&Item> = self.val_items.iter().collect();
        let size = self.recipe.image_size as u32;
        on_event(&TrainEvent::Samples {
            epoch,
            samples: epoch_samples(&val_items, &self.val_set, &val.per_image, self.task, size),
        });
        // A run that reached its last epoch finished, whatever its patience says.
        let patience = self.recipe.early_stopping_patience;
        Ok(patience > 0
            && epoch < self.epochs
            && self.state.epochs_without_improvement >= patience
            && learning_for(&self.history, self.chance) >= patience)
    }

    /// Writes what resuming needs: the network, the optimiser, the state and the info.
    fn checkpoint(&mut self, epoch: usize) -> Result<()> {
        let network = self
            .network
            .as_ref()
            .expect("the network is in place between steps");
        weights::save(network, &self.run.file(run::CHECKPOINT_MODEL))?;
        let bytes = self.optimizer.into_bytes().map_err(|e| {
            Error::invalid(
                &self.run.file(run::CHECKPOINT_OPTIMIZER),
                format!("cannot encode the optimiser state: {e}"),
            )
        })?;
        self.run.write(run::CHECKPOINT_OPTIMIZER, &bytes)?;
        self.run.write_json(run::CHECKPOINT_STATE, &self.state)?;
        self.info.epochs_done = epoch;
        self.info.best_epoch = self.state.best_epoch;
        self.info.updated_at = now_rfc3339();
        self.run.write_json(run::INFO, &self.info)
    }

    /// The best weights on the validation split: final metrics and the binarisation
    /// threshold; the run's info says how it ended.
    fn finish(
        mut self,
        reason: StopReason,
        on_event: &mut dyn FnMut(&TrainEvent),
    ) -> Result<TrainOutcome> {
        let metrics = if self.state.best_epoch > 0 && reason != StopReason::Cancelled {
            Some(self.best_metrics()?)
        } else {
            None
        };
        if let Some(m) = &metrics {
            self.info.threshold = m.threshold;
        }
        self.info.status = reason.into();
        self.info.updated_at = now_rfc3339();
        self.run.write_json(run::INFO, &self.info)?;
        on_event(&TrainEvent::Finished {
            run: self.run.id.clone(),
            reason,
            best_epoch: self.state.best_epoch,
            val_metric: metrics.as_ref().map_or(0.0, SplitMetrics::main),
        });
        Ok(TrainOutcome {
            run: self.run,
            info: self.info,
            reason,
            history: self.history,
            metrics,
        })
    }

    fn best_metrics(&self) -> Result<SplitMetrics> {
        let best = weights::load_for_inference(
            self.spec.build(&self.plain),
            &self.run.file(run::WEIGHTS),
        )?;
        let val_refs: Vec<&Prepared> = self.val_set.iter().collect();
        let val = infer::run(
            &best,
            &val_refs,
            self.batch_size,
            self.recipe.normalisation,
            None,
            &self.plain,
        );
        let m = infer::metrics(self.task, &val_refs, &val.per_image, self.classes, None);
        self.run.write_json(
            run::METRICS,
            &serde_json::json!({ "split": "val", "best_epoch": self.state.best_epoch, "metrics": m }),
        )?;
        Ok(m)
    }
}

/// Adam, with its moments from the checkpoint when resuming.
fn optimizer_for(run: &RunDir, resumed: bool) -> Result<ModuleOptimizer> {
    let optimizer = AdamConfig::new().with_epsilon(1e-8).init();
    if !resumed {
        return Ok(optimizer);
    }
    let path = run.file(run::CHECKPOINT_OPTIMIZER);
    optimizer
        .load(&path)
        .map_err(Error::unreadable(&path, "not a readable optimiser state"))
}

/// The checkpoint state and the epochs recorded up to it (nothing yet for a new run).
fn progress_so_far(
    run: &RunDir,
    resumed: &Option<(CheckpointState, RunInfo)>,
) -> (CheckpointState, Vec<EpochRecord>) {
    match resumed {
        Some((state, _)) => {
            let mut history = run.read_history();
            history.retain(|r| r.epoch <= state.epoch);
            (state.clone(), history)
        }
        None => (CheckpointState::new(), Vec::new()),
    }
}

/// The training images, the validation images and their snapshot entries.
type Loaded = (Vec<Prepared>, Vec<Prepared>, Vec<Item>);

/// Loads the snapshot's training and validation images (decoded, cropped, resized; cached for
/// next time). A resumed run must see its snapshot's masks; a new one records the masks it
/// really read (the technician may be saving masks while the images load).
fn load_data(
    project: &Project,
    run: &RunDir,
    recipe: &Recipe,
    items: &[Item],
    resumed: bool,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<Loaded> {
    let train_items: Vec<&Item> = items.iter().filter(|i| i.split == Split::Train).collect();
    let val_items: Vec<&Item> = items.iter().filter(|i| i.split == Split::Val).collect();
    let all: Vec<&Item> = train_items
        .iter()
        .chain(val_items.iter())
        .copied()
        .collect();
    let total = all.len();
    let size = recipe.image_size as u32;
    let mut loaded = data::load(project, &all, size, resumed, &mut |done, _| {
        on_event(&TrainEvent::Loading { done, total })
    })?;
    if !resumed {
        let by_stem: std::collections::HashMap<&str, &Prepared> = all
            .iter()
            .map(|i| i.stem.as_str())
            .zip(loaded.iter())
            .collect();
        let mut items = items.to_vec();
        for item in &mut items {
            if let Some(p) = by_stem.get(item.stem.as_str()) {
                item.mask_hash = p.mask_hash.clone();
            }
        }
        run.write_snapshot(&items)?;
    }
    let val_set = loaded.split_off(train_items.len());
    let val_items = val_items.into_iter().cloned().collect();
    Ok((loaded, val_set, val_items))
}

/// The validation score of a model that learned nothing: for a classifier, the accuracy of
/// always calling the validation set's most frequent class; for a segmenter, the IoU of calling
/// every pixel nerve (the mean nerve share of the masks).
fn chance_level(task: Task, val: &[Prepared], classes: usize) -> f64 {
    if val.is_empty() {
        return 0.0;
    }
    match task {
        Task::Classify => {
            let mut counts = vec![0usize; classes.max(1)];
            for p in val {
                if let Some(c) = counts.get_mut(p.class) {
                    *c += 1;
                }
            }
            *counts.iter().max().unwrap_or(&0) as f64 / val.len() as f64
        }
        Task::Segment => {
            val.iter()
                .map(|p| {
                    p.mask.as_ref().map_or(0.0, |m| {
                        m.iter().filter(|&&v| crate::mask::is_nerve(v)).count() as f64
                            / m.len().max(1) as f64
                    })
                })
                .sum::<f64>()
                / val.len() as f64
        }
    }
}

/// A run to train: the recipe, name and data snapshot of the run being resumed (with its
/// checkpoint state and info), or a new run's folder with the request's recipe and the data as
/// planned now.
type Opened = (
    RunDir,
    Recipe,
    String,
    Vec<Item>,
    Option<(CheckpointState, RunInfo)>,
);

fn open_run(request: &TrainRequest, project: &Project) -> Result<Opened> {
    Ok(match &request.resume {
        Some(id) => {
            let run = RunDir::open(&request.project, id)?;
            let state: CheckpointState = run
                .read_json(run::CHECKPOINT_STATE)
                .map_err(|_| Error::invalid(&run.path, "no completed epoch to resume from"))?;
            let info = run.info()?;
            (
                run.clone(),
                run.recipe()?,
                info.recipe.clone(),
                run.read_snapshot()?,
                Some((state, info)),
            )
        }
        None => {
            let recipe = request.recipe.recipe.clone();
            recipe
                .validate()
                .map_err(|e| Error::invalid(&request.recipe.path, e))?;
            let plan = data::plan(project, recipe.task());
            check_data(&plan.items, recipe.task(), &request.project)?;
            let run = RunDir::create(&request.project, &request.recipe.name)?;
            run.write(run::RECIPE, recipe.to_toml().as_bytes())?;
            (run, recipe, request.recipe.name.clone(), plan.items, None)
        }
    })
}

/// How many epochs have passed since the validation score first beat guessing by a clear
/// margin (0 while it never has). Until then a run is still finding its way (a classifier
/// calling every image one class, a segmenter whose batch norm statistics still settle), and
/// its patience only starts counting then: early stopping would end it for nothing.
fn learning_for(history: &[EpochRecord], chance: f64) -> usize {
    const MARGIN: f64 = 0.02;
    match history.iter().position(|r| r.val_metric > chance + MARGIN) {
        Some(first) => history.len() - first,
        None => 0,
    }
}

/// Trainable parts for a stage: classifiers freeze a pretrained backbone in stage 1 and train it
/// from the fine-tune point in stage 2; segmenters freeze a pretrained encoder if the recipe says.
fn configure(network: Network, recipe: &Recipe, stage: u8, pretrained: bool) -> Network {
    match network {
        Network::Classifier(mut c) => {
            let from = match (stage, pretrained) {
                (_, false) => 0,
                (1, true) => usize::MAX,
                (_, true) => recipe.fine_tune_at,
            };
            c.backbone = c.backbone.unfreeze_from(from);
            Network::Classifier(c)
        }
        other => other.with_encoder_frozen(pretrained && recipe.freeze_encoder),
    }
}

/// The snapshot must have something to learn from and something to validate on.
fn check_data(items: &[Item], task: Task, project: &std::path::Path) -> Result<()> {
    let count = |s| items.iter().filter(|i| i.split == s).count();
    let what = match task {
        Task::Classify => "labeled images",
        Task::Segment => "labeled images with masks",
    };
    if count(Split::Train) == 0 {
        return Err(Error::invalid(
            project,
            format!("no {what} in the train split"),
        ));
    }
    if count(Split::Val) == 0 {
        return Err(Error::invalid(
            project,
            format!("no {what} in the val split (validation needs some)"),
        ));
    }
    Ok(())
}

/// How many fixed validation images are shown after every epoch.
pub const EPOCH_SAMPLES: usize = 4;

/// The predictions on the first few validation images (the same ones every epoch).
fn epoch_samples(
    items: &[&Item],
    prepared: &[Prepared],
    probabilities: &[Vec<f32>],
    task: Task,
    size: u32,
) -> Vec<EpochSample> {
    items
        .iter()
        .zip(prepared)
        .zip(probabilities)
        .take(EPOCH_SAMPLES)
        .map(|((item, sample), p)| match task {
            Task::Classify => EpochSample {
                stem: item.stem.clone(),
                truth_class: sample.class,
                predicted_class: crate::eval::classification::argmax(p),
                probabilities: p.clone(),
                size,
                image: sample.rgb.as_raw().clone(),
                probability_map: vec![],
                truth_mask: vec![],
            },
            Task::Segment => EpochSample {
                stem: item.stem.clone(),
                truth_class: sample.class,
                predicted_class: sample.class,
                probabilities: vec![],
                size,
                image: sample.rgb.as_raw().clone(),
                probability_map: p
                    .iter()
                    .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
                    .collect(),
                truth_mask: sample
                    .mask
                    .as_ref()
                    .map(|m| m.as_raw().clone())
                    .unwrap_or_default(),
            },
        })
        .collect()
}

#[cfg(test)]
mod chance_tests {
    use super::*;
    use image::{GrayImage, RgbImage};

    fn record(epoch: usize, val_metric: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            stage: 1,
            learning_rate: 1e-3,
            train_loss: 1.0,
            val_loss: 1.0,
            train_metric: 0.9,
            val_metric,
            seconds: 1.0,
        }
    }

    fn prepared(class: usize, nerve_pixels: u32) -> Prepared {
        let mut mask = GrayImage::new(10, 10);
        for x in 0..nerve_pixels {
            mask.put_pixel(x % 10, x / 10, image::Luma([255]));
        }
        Prepared {
            rgb: RgbImage::new(10, 10),
            mask: Some(mask),
            class,
            mask_hash: None,
        }
    }

    #[test]
    fn chance_is_the_majority_share_or_the_all_nerve_iou() {
        let val = [
            prepared(0, 10),
            prepared(0, 30),
            prepared(1, 0),
            prepared(2, 0),
        ];
        assert_eq!(chance_level(Task::Classify, &val, 3), 0.5);
        assert!((chance_level(Task::Segment, &val, 3) - 0.1).abs() < 1e-12);
        assert_eq!(chance_level(Task::Classify, &[], 3), 0.0);
    }

    #[test]
    fn early_stopping_waits_for_a_run_that_beats_guessing() {
        // Stuck at the majority share (every image called one class): not yet learned.
        let stuck: Vec<EpochRecord> = (1..=11).map(|e| record(e, 0.286)).collect();
        assert_eq!(learning_for(&stuck, 0.286), 0);
        // It starts learning at epoch 12: patience counts from there.
        let mut better = stuck.clone();
        better.push(record(12, 0.6));
        assert_eq!(learning_for(&better, 0.286), 1);
        better.extend((13..=20).map(|e| record(e, 0.7)));
        assert_eq!(learning_for(&better, 0.286), 9);
    }
}
