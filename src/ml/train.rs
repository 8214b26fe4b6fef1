//! The training loop: two-stage transfer learning for classifiers, one stage for segmenters;
//! Adam; validation, early stopping and a checkpoint every epoch; resume; cancel at any batch.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};

use super::calibrate;
use super::data::{self, Item, Prepared};
use super::device::ComputeDevice;
use super::infer::{self, SplitMetrics};
use super::models::{Network, Task};
use super::progress::{BatchProgress, EpochRecord, EpochSample, StopReason, TrainEvent};
use super::recipe::{NamedRecipe, Recipe};
use super::run::{self, CheckpointState, RunDir, RunInfo};
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

pub fn train(
    request: TrainRequest,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<TrainOutcome, String> {
    let project = Project::open_read_only(&request.project).map_err(|e| e.to_string())?;
    let classes = project.manifest.classes.clone();

    let (run, recipe, recipe_name, items, resumed) = open_run(&request, &project)?;
    // Held until training returns: tells the registry the run is live, refuses a second trainer.
    let _lock = run.lock_for_training()?;
    let task = recipe.task();
    let size = recipe.image_size as u32;

    // Load the snapshot's images (decoded, cropped, resized; cached for next time).
    let train_items: Vec<&Item> = items.iter().filter(|i| i.split == Split::Train).collect();
    let val_items: Vec<&Item> = items.iter().filter(|i| i.split == Split::Val).collect();
    let all: Vec<&Item> = train_items
        .iter()
        .chain(val_items.iter())
        .copied()
        .collect();
    let total = all.len();
    // A resumed run must see its snapshot's masks; a new one records the masks it really read
    // (the technician may be saving masks while the images load).
    let mut loaded = data::load(&project, &all, size, resumed.is_some(), &mut |done, _| {
        on_event(&TrainEvent::Loading { done, total })
    })?;
    if resumed.is_none() {
        let mut items = items.clone();
        let by_stem: std::collections::HashMap<&str, &Prepared> = all
            .iter()
            .map(|i| i.stem.as_str())
            .zip(loaded.iter())
            .collect();
        for item in &mut items {
            if let Some(p) = by_stem.get(item.stem.as_str()) {
                item.mask_hash = p.mask_hash.clone();
            }
        }
        run.write_snapshot(&items)?;
    }
    let val_set: Vec<Prepared> = loaded.split_off(train_items.len());
    let train_set = loaded;

    // The network, on the training device.
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
    let pretrained = start.pretrained;
    let mut optimizer = AdamConfig::new().with_epsilon(1e-8).init();
    if resumed.is_some() {
        let path = run.file(run::CHECKPOINT_OPTIMIZER);
        optimizer = optimizer
            .load(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }

    let epochs = recipe.total_epochs();
    let (mut state, mut history) = match &resumed {
        Some((state, _)) => {
            let mut history = run.read_history();
            history.retain(|r| r.epoch <= state.epoch);
            (state.clone(), history)
        }
        None => (
            CheckpointState {
                epoch: 0,
                best_val_loss: f64::INFINITY,
                best_epoch: 0,
                epochs_without_improvement: 0,
            },
            Vec::new(),
        ),
    };
    let mut info = match &resumed {
        Some((_, info)) => RunInfo {
            status: "training".into(),
            updated_at: now_rfc3339(),
            device: request.device.name.clone(),
            error: None,
            ..info.clone()
        },
        None => RunInfo {
            id: run.id.clone(),
            recipe: recipe_name,
            architecture: recipe.architecture.id().into(),
            classes: classes.clone(),
            device: request.device.name.clone(),
            started_at: now_rfc3339(),
            updated_at: now_rfc3339(),
            status: "training".into(),
            epochs_done: 0,
            epochs_planned: epochs,
            best_epoch: 0,
            initial_weights: start.text.clone(),
            weights_file: start.file.clone(),
            backbone_pretrained: Some(start.pretrained),
            threshold: None,
            error: None,
        },
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

    let metric_name = match task {
        Task::Classify => "accuracy",
        Task::Segment => "iou",
    };
    // What validation scores by guessing; early stopping waits until a run beats it.
    let chance = chance_level(task, &val_set, classes.len());
    let batch_size = recipe.batch_size.min(train_set.len()).max(1);
    let batches = train_set.len().div_ceil(batch_size);
    let mut reason = StopReason::Finished;
    let mut stage = 0u8;
    let started = Instant::now();
    let mut images_seen = 0usize;
    'epochs: for epoch in state.epoch + 1..=epochs {
        let epoch_stage = if epoch <= recipe.epochs { 1 } else { 2 };
        if epoch_stage != stage {
            stage = epoch_stage;
            network = configure(network, &recipe, stage, pretrained);
            on_event(&TrainEvent::Stage {
                stage,
                training: network.training_now(),
                total: network.counts().trainable,
            });
        }
        // The second stage's lower rate protects pretrained features; random ones have none.
        let lr = if stage == 1 || !pretrained {
            recipe.learning_rate
        } else {
            recipe.learning_rate * 0.1
        };
        let epoch_start = Instant::now();
        let mut order: Vec<usize> = (0..train_set.len()).collect();
        let mut rng = Rng::fork(recipe.seed, epoch as u64);
        rng.shuffle(&mut order);
        let (mut loss_sum, mut metric_sum) = (0.0, 0.0);
        for (b, chunk) in order.chunks(batch_size).enumerate() {
            if request.cancel.load(Ordering::Relaxed) {
                reason = StopReason::Cancelled;
                break 'epochs;
            }
            let samples: Vec<&Prepared> = chunk.iter().map(|&i| &train_set[i]).collect();
            let batch = data::batch(
                &samples,
                recipe.normalisation,
                Some((&recipe.augment, &mut rng)),
                &device,
            );
            let output = network.forward(batch.images.clone());
            let probs = output.clone().detach();
            let loss = infer::batch_loss(output, &batch, recipe.loss);
            let grads = GradientsParams::from_grads(loss.backward(), &network);
            network = optimizer.step(lr, network, grads);
            let loss_value = infer::to_vec(loss.detach())[0] as f64;
            // Scored against the batch as augmented (a flipped image has a flipped mask).
            let metric = infer::batch_metric(infer::probabilities(probs), &batch);
            loss_sum += loss_value * samples.len() as f64;
            metric_sum += metric * samples.len() as f64;
            images_seen += samples.len();
            let speed = images_seen as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let remaining = (epochs - epoch) * train_set.len()
                + (train_set.len() - (b * batch_size + samples.len()));
            on_event(&TrainEvent::Batch(BatchProgress {
                epoch,
                epochs,
                stage,
                batch: b + 1,
                batches,
                loss: loss_value,
                images_per_s: speed,
                eta_s: remaining as f64 / speed.max(1e-9),
            }));
        }

        on_event(&TrainEvent::Validating { epoch });
        let valid = calibrate::calibrated(&network, &spec, &train_set, recipe.normalisation, |n| {
            configure(n, &recipe, stage, pretrained)
        })
        .valid();
        let val_refs: Vec<&Prepared> = val_set.iter().collect();
        let val = infer::run(
            &valid,
            &val_refs,
            batch_size,
            recipe.normalisation,
            Some(recipe.loss),
            &plain,
        );
        let val_metrics = infer::metrics(task, &val_refs, &val.per_image, classes.len(), Some(0.5));
        let val_loss = val.loss.unwrap_or(f64::NAN);
        let n = train_set.len().max(1) as f64;
        let record = EpochRecord {
            epoch,
            stage,
            learning_rate: lr,
            train_loss: loss_sum / n,
            val_loss,
            train_metric: metric_sum / n,
            val_metric: val_metrics.main(),
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        history.push(record.clone());
        run.write_history(&history)?;
        let best = val_loss < state.best_val_loss - 1e-9 || state.best_epoch == 0;
        if best {
            state.best_val_loss = val_loss;
            state.best_epoch = epoch;
            state.epochs_without_improvement = 0;
            weights::save(&valid, &run.file(run::WEIGHTS))?;
        } else {
            state.epochs_without_improvement += 1;
        }
        state.epoch = epoch;
        weights::save(&network, &run.file(run::CHECKPOINT_MODEL))?;
        let bytes = optimizer
            .into_bytes()
            .map_err(|e| format!("cannot encode the optimiser state: {e}"))?;
        run.write(run::CHECKPOINT_OPTIMIZER, &bytes)?;
        run.write_json(run::CHECKPOINT_STATE, &state)?;
        info.epochs_done = epoch;
        info.best_epoch = state.best_epoch;
        info.updated_at = now_rfc3339();
        run.write_json(run::INFO, &info)?;
        on_event(&TrainEvent::Epoch {
            record,
            metric: metric_name,
            best,
        });
        on_event(&TrainEvent::Samples {
            epoch,
            samples: epoch_samples(&val_items, &val_set, &val.per_image, task, size),
        });
        // A run that reached its last epoch finished, whatever its patience says.
        if recipe.early_stopping_patience > 0
            && epoch < epochs
            && state.epochs_without_improvement >= recipe.early_stopping_patience
            && learning_for(&history, chance) >= recipe.early_stopping_patience
        {
            reason = StopReason::EarlyStopped;
            break;
        }
    }

    // The best weights on the validation split: final metrics and the binarisation threshold.
    let metrics = if state.best_epoch > 0 && reason != StopReason::Cancelled {
        let best = weights::load_for_inference(spec.build(&plain), &run.file(run::WEIGHTS))?;
        let val_refs: Vec<&Prepared> = val_set.iter().collect();
        let val = infer::run(
            &best,
            &val_refs,
            batch_size,
            recipe.normalisation,
            None,
            &plain,
        );
        let m = infer::metrics(task, &val_refs, &val.per_image, classes.len(), None);
        run.write_json(
            run::METRICS,
            &serde_json::json!({ "split": "val", "best_epoch": state.best_epoch, "metrics": m }),
        )?;
        info.threshold = m.threshold;
        Some(m)
    } else {
        None
    };
    info.status = reason.name().into();
    info.updated_at = now_rfc3339();
    run.write_json(run::INFO, &info)?;
    on_event(&TrainEvent::Finished {
        run: run.id.clone(),
        reason,
        best_epoch: state.best_epoch,
        val_metric: metrics.as_ref().map_or(0.0, SplitMetrics::main),
    });
    Ok(TrainOutcome {
        run,
        info,
        reason,
        history,
        metrics,
    })
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

fn open_run(request: &TrainRequest, project: &Project) -> Result<Opened, String> {
    Ok(match &request.resume {
        Some(id) => {
            let run = RunDir::open(&request.project, id)?;
            let state: CheckpointState = run.read_json(run::CHECKPOINT_STATE).map_err(|_| {
                format!("{}: no completed epoch to resume from", run.path.display())
            })?;
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
                .map_err(|e| format!("{}: {e}", request.recipe.path.display()))?;
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
fn check_data(items: &[Item], task: Task, project: &std::path::Path) -> Result<(), String> {
    let count = |s| items.iter().filter(|i| i.split == s).count();
    let what = match task {
        Task::Classify => "labeled images",
        Task::Segment => "labeled images with masks",
    };
    if count(Split::Train) == 0 {
        return Err(format!(
            "{}: no {what} in the train split",
            project.display()
        ));
    }
    if count(Split::Val) == 0 {
        return Err(format!(
            "{}: no {what} in the val split (validation needs some)",
            project.display()
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
