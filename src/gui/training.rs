//! The training in progress: a job (one or two recipes) on its own thread, whose events come back
//! as messages and are folded here into what the Train screen shows. It lives in the app, not in
//! a screen, so it goes on while the technician browses and annotates.

use super::background::spawn;
use crate::eval::segmentation::Overlap;
use crate::ml::device::{self, DeviceChoice};
use crate::ml::job::{JobEvent, JobRequest, Step, run_job};
use crate::ml::progress::{BatchProgress, EpochRecord, EpochSample, StopReason, TrainEvent};
use crate::project::splits::Split;
use iced::Task;
use iced::widget::image::Handle;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the thread sends: the job's events, with epoch samples already turned into images.
#[derive(Debug, Clone)]
pub enum Update {
    Device(String),
    /// The epochs a resumed run had already trained.
    History(Vec<EpochRecord>),
    Job(JobEvent),
    Samples(usize, Vec<SampleView>),
}

/// One fixed validation image after an epoch: the input with the truth and the prediction.
#[derive(Debug, Clone)]
pub struct SampleView {
    pub stem: String,
    /// Segmenters: the input with the truth mask over it; classifiers: the input.
    pub truth: Handle,
    /// Segmenters: the input with the predicted mask (probability ≥ 0.5) over it.
    pub prediction: Option<Handle>,
    /// "truth nerve · called nerve (0.93)" or "IoU 0.71".
    pub caption: String,
    pub correct: bool,
}

#[derive(Debug, Clone)]
pub enum Phase {
    Running,
    /// Pause asked: the training stops at its next batch, keeping its last checkpoint.
    Pausing,
    Cancelling,
    /// Stopped by Pause; Resume continues from the last completed epoch.
    Paused,
    Finished,
    Cancelled,
    Failed(crate::ml::Error),
}

impl Phase {
    pub fn is_active(&self) -> bool {
        matches!(self, Phase::Running | Phase::Pausing | Phase::Cancelling)
    }
}

pub struct Session {
    pub id: u64,
    cancel: Arc<AtomicBool>,
    /// As asked at Start, for Resume.
    pub device_choice: DeviceChoice,
    pub reports: Vec<Split>,
    pub phase: Phase,
    pub device: Option<String>,
    /// (index, steps, name) of the training running.
    pub step: Option<(usize, usize, String)>,
    pub run: Option<String>,
    pub architecture: String,
    pub images: (usize, usize),
    /// What the weights started from, and what trains in the stage running.
    pub weights: String,
    pub stage: Option<String>,
    pub loading: Option<(usize, usize)>,
    pub batch: Option<BatchProgress>,
    pub validating: bool,
    pub report: Option<(String, usize, usize)>,
    /// The current run's epochs (a resumed run starts with its earlier ones).
    pub history: Vec<EpochRecord>,
    pub metric: &'static str,
    pub samples: Vec<SampleView>,
    pub sample_epoch: usize,
    /// What happened, newest last: runs finished, reports written, errors.
    pub log: Vec<String>,
    /// What Resume continues (a paused run, then the steps after it).
    pub remaining: Vec<Step>,
}

/// A session nobody holds any more (replaced by a new one) stops its training at the next
/// batch; its run keeps its checkpoint and can be resumed like any paused run.
impl Drop for Session {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl Session {
    /// Starts `steps` on a thread; its events arrive as `(id, Update)`.
    pub fn start(
        id: u64,
        project: PathBuf,
        steps: Vec<Step>,
        device: DeviceChoice,
        reports: Vec<Split>,
        classes: Vec<String>,
    ) -> (Session, Task<(u64, Update)>) {
        let cancel = Arc::new(AtomicBool::new(false));
        let session = Session {
            id,
            cancel: cancel.clone(),
            device_choice: device,
            reports: reports.clone(),
            phase: Phase::Running,
            device: None,
            step: None,
            run: None,
            architecture: String::new(),
            images: (0, 0),
            weights: String::new(),
            stage: None,
            loading: None,
            batch: None,
            validating: false,
            report: None,
            history: Vec::new(),
            metric: "",
            samples: Vec::new(),
            sample_epoch: 0,
            log: Vec::new(),
            remaining: Vec::new(),
        };
        let stream = spawn("training", move |send| {
            let device = match device::select(device) {
                Ok(d) => d,
                Err(error) => {
                    send(Update::Job(JobEvent::Failed { error }));
                    send(Update::Job(JobEvent::Ended { remaining: steps }));
                    return;
                }
            };
            send(Update::Device(device.name.clone()));
            // A resumed run's curves start with its earlier epochs.
            if let Some(Step::Resume(run)) = steps.first() {
                let earlier = crate::ml::run::RunDir::open(&project, run)
                    .map(|r| r.read_history())
                    .unwrap_or_default();
                send(Update::History(earlier));
            }
            let request = JobRequest {
                project,
                steps,
                device,
                reports,
                cancel,
            };
            run_job(request, &mut |event| match event {
                JobEvent::Train(TrainEvent::Samples { epoch, samples }) => send(Update::Samples(
                    epoch,
                    samples.iter().map(|s| sample_view(s, &classes)).collect(),
                )),
                other => send(Update::Job(other)),
            });
        });
        (session, Task::run(stream, move |u| (id, u)))
    }

    /// Stops at the next batch, to be resumed later.
    pub fn pause(&mut self) {
        if matches!(self.phase, Phase::Running) {
            self.cancel.store(true, Ordering::Relaxed);
            self.phase = Phase::Pausing;
        }
    }

    /// Stops at the next batch for good (the run stays, cancelled, with its checkpoint).
    pub fn cancel(&mut self) {
        if self.phase.is_active() {
            self.cancel.store(true, Ordering::Relaxed);
            self.phase = Phase::Cancelling;
        } else if matches!(self.phase, Phase::Paused) {
            self.phase = Phase::Cancelled;
            self.remaining.clear();
        }
    }

    pub fn update(&mut self, update: Update) {
        match update {
            Update::Device(name) => self.device = Some(name),
            Update::History(earlier) => self.history = earlier,
            Update::Samples(epoch, samples) => {
                self.sample_epoch = epoch;
                self.samples = samples;
            }
            Update::Job(event) => self.job_event(event),
        }
    }

    fn job_event(&mut self, event: JobEvent) {
        match event {
            JobEvent::Step { index, steps, name } => {
                if index > 0 {
                    self.history.clear();
                    self.samples.clear();
                }
                self.step = Some((index, steps, name));
                self.batch = None;
                self.report = None;
            }
            JobEvent::Train(e) => self.train_event(e),
            JobEvent::Report { stage, done, total } => {
                self.report = Some((stage, done, total));
            }
            JobEvent::StepDone {
                run,
                reason,
                reports,
            } => {
                self.report = None;
                self.validating = false;
                let best = self.history.iter().max_by(|a, b| {
                    a.val_metric
                        .partial_cmp(&b.val_metric)
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                self.log.push(match (reason, best) {
                    (StopReason::Cancelled, _) => format!(
                        "Run {run} stopped after epoch {}; its checkpoint is kept.",
                        self.history.last().map_or(0, |r| r.epoch)
                    ),
                    (reason, Some(b)) => format!(
                        "Run {run} {}: validation {} {:.3} at its best.",
                        match reason {
                            StopReason::EarlyStopped => "stopped early (no more improvement)",
                            _ => "finished",
                        },
                        if self.metric == "iou" {
                            "IoU"
                        } else {
                            self.metric
                        },
                        b.val_metric
                    ),
                    (_, None) => format!("Run {run} finished."),
                });
                for (split, report) in reports {
                    self.log.push(match report {
                        Ok(path) => format!("{} report: {}", split.name(), path.display()),
                        Err(e) => format!("No {} report: {e}", split.name()),
                    });
                }
            }
            JobEvent::Failed { error } => {
                self.log.push(format!("Training failed: {error}"));
                self.phase = Phase::Failed(error);
            }
            JobEvent::Ended { remaining } => {
                self.loading = None;
                self.phase = match std::mem::replace(&mut self.phase, Phase::Finished) {
                    Phase::Failed(e) => Phase::Failed(e),
                    Phase::Pausing if !remaining.is_empty() => Phase::Paused,
                    Phase::Pausing | Phase::Cancelling => Phase::Cancelled,
                    _ if remaining.is_empty() => Phase::Finished,
                    _ => Phase::Cancelled,
                };
                self.remaining = if matches!(self.phase, Phase::Paused) {
                    remaining
                } else {
                    Vec::new()
                };
            }
        }
    }

    fn train_event(&mut self, event: TrainEvent) {
        match event {
            TrainEvent::Loading { done, total } => self.loading = Some((done, total)),
            TrainEvent::Started {
                run,
                architecture,
                train_images,
                val_images,
                weights,
                ..
            } => {
                self.loading = None;
                self.run = Some(run);
                self.architecture = architecture;
                self.images = (train_images, val_images);
                self.weights = weights;
            }
            TrainEvent::Stage {
                stage,
                training,
                total,
            } => self.stage = Some(crate::ml::progress::stage_text(stage, training, total)),
            TrainEvent::Batch(b) => {
                self.validating = false;
                self.batch = Some(b);
            }
            TrainEvent::Validating { .. } => self.validating = true,
            TrainEvent::Epoch { record, metric, .. } => {
                self.validating = false;
                self.metric = metric;
                self.history.retain(|r| r.epoch < record.epoch);
                self.history.push(record);
            }
            TrainEvent::Samples { .. } | TrainEvent::Finished { .. } => {}
        }
    }

    /// Takes the steps Resume continues with.
    pub fn take_remaining(&mut self) -> Vec<Step> {
        std::mem::take(&mut self.remaining)
    }
}

/// An epoch sample as images (built on the training thread, not the UI's).
fn sample_view(s: &EpochSample, classes: &[String]) -> SampleView {
    let n = (s.size * s.size) as usize;
    let rgba = |overlay: Option<&dyn Fn(usize) -> bool>| {
        let mut out = Vec::with_capacity(n * 4);
        for i in 0..n {
            let p = s.image.get(i * 3..i * 3 + 3).unwrap_or(&[0, 0, 0]);
            let on = overlay.is_some_and(|f| f(i));
            if on {
                // The lab's green, at 55 % over the image.
                let mix = |c: u8, g: u8| ((c as f32) * 0.45 + (g as f32) * 0.55) as u8;
                out.extend_from_slice(&[mix(p[0], 40), mix(p[1], 220), mix(p[2], 60), 255]);
            } else {
                out.extend_from_slice(&[p[0], p[1], p[2], 255]);
            }
        }
        Handle::from_rgba(s.size, s.size, out)
    };
    let name = |i: usize| classes.get(i).map_or("?", String::as_str);
    if s.probability_map.is_empty() {
        let p = s
            .probabilities
            .get(s.predicted_class)
            .copied()
            .unwrap_or(0.0);
        return SampleView {
            stem: s.stem.clone(),
            truth: rgba(None),
            prediction: None,
            caption: format!(
                "{} · called {} ({p:.2})",
                name(s.truth_class),
                name(s.predicted_class)
            ),
            correct: s.truth_class == s.predicted_class,
        };
    }
    let truth = |i: usize| {
        s.truth_mask
            .get(i)
            .is_some_and(|&v| crate::mask::is_nerve(v))
    };
    let called = |i: usize| {
        s.probability_map
            .get(i)
            .is_some_and(|&v| crate::mask::is_nerve(v))
    };
    let iou = Overlap::of((0..n).map(truth), (0..n).map(called)).iou();
    SampleView {
        stem: s.stem.clone(),
        truth: rgba(Some(&truth)),
        prediction: Some(rgba(Some(&called))),
        caption: format!("IoU {iou:.2}"),
        correct: iou >= 0.5,
    }
}
