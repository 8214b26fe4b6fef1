//! Training as the window and the command line run it: guarded (an error or a panic in training
//! marks the run failed and comes back as an error, never unwinding into the caller), followed
//! by the run's reports, and chained (a classifier, then a segmenter).

use crate::ml::{Error, Result};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::device::ComputeDevice;
use super::evaluate::evaluate_run;
use super::progress::{StopReason, TrainEvent};
use super::recipe::NamedRecipe;
use super::run::{self, RunDir};
use super::train::{TrainOutcome, TrainRequest, train};
use crate::project::label::now_rfc3339;
use crate::project::splits::Split;

/// Trains; an error or a panic after the run started marks it `failed` in run.json, with why.
pub fn train_guarded(
    request: TrainRequest,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<TrainOutcome> {
    let project = request.project.clone();
    guard(&project, |events| train(request, events), on_event)
}

/// Runs a training `f`, turning its panic into an error and marking its run failed on either.
fn guard<T>(
    project: &Path,
    f: impl FnOnce(&mut dyn FnMut(&TrainEvent)) -> Result<T>,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<T> {
    let mut started: Option<String> = None;
    let result = caught(|| {
        f(&mut |event| {
            if let TrainEvent::Started { run, .. } = event {
                started = Some(run.clone());
            }
            on_event(event)
        })
    });
    if let (Err(error), Some(run)) = (&result, &started) {
        mark_failed(project, run, error);
    }
    result
}

/// Runs `f`; a panic in it becomes the error "training stopped on an internal error: <message>".
fn caught<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        Err(Error::Internal(what.to_string()))
    })
}

/// Records in run.json that the run failed and why (best effort: the error is reported anyway).
fn mark_failed(project: &Path, run: &str, error: &Error) {
    let Ok(dir) = RunDir::open(project, run) else {
        return;
    };
    if let Ok(mut info) = dir.info() {
        info.status = super::run::RunStatus::Failed;
        info.error = Some(error.to_string());
        info.updated_at = now_rfc3339();
        let _ = dir.write_json(run::INFO, &info);
    }
}

/// The reports a finished run gets, one per split under `runs/<id>/eval-<split>/`: the path of
/// each report.md, or why it could not be written (the run itself is saved either way). A
/// cancelled run, or one without a completed epoch, gets none.
pub fn write_reports(
    project: &Path,
    outcome: &TrainOutcome,
    splits: &[Split],
    device: &ComputeDevice,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Vec<(Split, Result<PathBuf>)> {
    if outcome.reason == StopReason::Cancelled || outcome.metrics.is_none() {
        return Vec::new();
    }
    splits
        .iter()
        .map(|&split| {
            let name = split.name();
            let report = caught(|| {
                evaluate_run(
                    project,
                    &outcome.run.id,
                    Some(split),
                    device,
                    None,
                    &mut |stage, d, t| progress(&format!("{name} report: {stage}"), d, t),
                )
            })
            .and_then(|eval| {
                eval.report_dir
                    .map(|d| d.join("report.md"))
                    .ok_or_else(|| Error::request("nothing to report"))
            });
            (split, report)
        })
        .collect()
}

/// One training of a job.
#[derive(Clone, Debug)]
pub enum Step {
    /// A new run of this recipe (with the user's settings applied), from these torchvision
    /// weights or from scratch.
    New(NamedRecipe, Option<PathBuf>),
    /// Continue this run from its last checkpoint.
    Resume(String),
}

/// Trainings run one after the other on one device, each followed by its reports.
pub struct JobRequest {
    pub project: PathBuf,
    pub steps: Vec<Step>,
    pub device: ComputeDevice,
    /// The splits each finished run is reported on.
    pub reports: Vec<Split>,
    /// Stops the current training at its next batch (its last checkpoint is kept).
    pub cancel: Arc<AtomicBool>,
}

#[derive(Clone, Debug)]
pub enum JobEvent {
    Step {
        index: usize,
        steps: usize,
        name: String,
    },
    Train(TrainEvent),
    /// Writing a finished run's reports.
    Report {
        stage: String,
        done: usize,
        total: usize,
    },
    /// A training ended (finished, stopped early or cancelled) and its reports were written.
    StepDone {
        run: String,
        reason: StopReason,
        reports: Vec<(Split, Result<PathBuf>)>,
    },
    /// A training failed; the job stops.
    Failed {
        error: Error,
    },
    /// The job is over: `remaining` are the steps not done (a cancelled run first, as a resume).
    Ended {
        remaining: Vec<Step>,
    },
}

/// Runs the steps in order until one is cancelled or fails.
pub fn run_job(request: JobRequest, on_event: &mut dyn FnMut(JobEvent)) {
    let steps = request.steps.len();
    let mut queue = request.steps.into_iter().enumerate();
    while let Some((index, step)) = queue.next() {
        let (recipe, weights, resume, name) = match step {
            Step::New(recipe, weights) => {
                let name = recipe.name.clone();
                (recipe, weights, None, name)
            }
            Step::Resume(run) => {
                match RunDir::open(&request.project, &run).and_then(|r| r.named_recipe()) {
                    Ok(recipe) => {
                        let name = format!("{} (resumed)", recipe.name);
                        (recipe, None, Some(run.clone()), name)
                    }
                    Err(error) => {
                        on_event(JobEvent::Failed { error });
                        break;
                    }
                }
            }
        };
        on_event(JobEvent::Step { index, steps, name });
        let outcome = train_guarded(
            TrainRequest {
                project: request.project.clone(),
                recipe,
                device: request.device.clone(),
                weights,
                resume,
                cancel: request.cancel.clone(),
            },
            &mut |e| on_event(JobEvent::Train(e.clone())),
        );
        let outcome = match outcome {
            Ok(o) => o,
            Err(error) => {
                on_event(JobEvent::Failed { error });
                break;
            }
        };
        let reports = write_reports(
            &request.project,
            &outcome,
            &request.reports,
            &request.device,
            &mut |stage, done, total| {
                on_event(JobEvent::Report {
                    stage: stage.to_string(),
                    done,
                    total,
                })
            },
        );
        if outcome.reason != StopReason::Cancelled {
            rank_unlabeled(&request.project, &outcome, &request.device, on_event);
        }
        on_event(JobEvent::StepDone {
            run: outcome.run.id.clone(),
            reason: outcome.reason,
            reports,
        });
        if outcome.reason == StopReason::Cancelled {
            let mut remaining = vec![Step::Resume(outcome.run.id)];
            remaining.extend(queue.map(|(_, s)| s));
            on_event(JobEvent::Ended { remaining });
            return;
        }
    }
    on_event(JobEvent::Ended {
        remaining: Vec::new(),
    });
}

/// After a segmenter is trained: its uncertainty about every unlabeled image, so Browse can
/// offer the most useful ones to label next (best effort: a failure only goes unranked).
fn rank_unlabeled(
    project: &Path,
    outcome: &TrainOutcome,
    device: &ComputeDevice,
    on_event: &mut dyn FnMut(JobEvent),
) {
    let segmenter = outcome
        .run
        .recipe()
        .is_ok_and(|r| r.task() == super::models::Task::Segment);
    if !segmenter {
        return;
    }
    let _ = super::uncertainty::rank(project, &outcome.run.id, device, &mut |done, total| {
        on_event(JobEvent::Report {
            stage: "ranking the unlabeled images".into(),
            done,
            total,
        })
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_training_is_an_error_and_marks_the_run_failed() {
        let dir = tempfile::tempdir().unwrap();
        let run = run::run_marked_training(dir.path());
        let mut seen = 0;
        let result: Result<()> = guard(
            dir.path(),
            |events| {
                events(&TrainEvent::Started {
                    run: run.id.clone(),
                    device: "cpu".into(),
                    architecture: "mu_net".into(),
                    train_images: 1,
                    val_images: 1,
                    epochs: 3,
                    weights: String::new(),
                    first_epoch: 1,
                });
                panic!("a tensor of the wrong shape");
            },
            &mut |_| seen += 1,
        );
        let error = result.unwrap_err().to_string();
        assert_eq!(
            error,
            "training stopped on an internal error: a tensor of the wrong shape"
        );
        assert_eq!(seen, 1);
        let info = run.info().unwrap();
        assert_eq!(info.status, crate::ml::run::RunStatus::Failed);
        assert_eq!(info.error.as_deref(), Some(error.as_str()));
        // An error before the run started touches no run.
        let early: Result<()> = guard(dir.path(), |_| Err(Error::request("no data")), &mut |_| {});
        assert_eq!(early.unwrap_err().to_string(), "no data");
    }
}
