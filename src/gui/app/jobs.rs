//! The app's side of the Train and Models screens: the training session, the registry's
//! background work, pre-annotation, and closing the window while a training runs.

use super::{App, Closing, JobEvent, Message, Screen, State};
use crate::gui::background::spawn;
use crate::gui::handover;
use crate::gui::screens::models;
use crate::gui::screens::train::{self, Plans};
use crate::gui::training::{self, Phase, Session};
use crate::ml::device::DeviceChoice;
use crate::ml::job::{JobEvent as TrainingJob, Step};
use crate::ml::registry;
use crate::project::splits::Split;
use iced::Task;
use std::path::PathBuf;

/// Runs `f` on a thread of its own; its result comes back as the message `to` makes of it.
pub fn background<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
    to: impl Fn(T) -> Message + Send + 'static,
) -> Task<Message> {
    Task::run(spawn(name, move |send| send(f())), to)
}

/// Downloads an ImageNet file on a thread of its own, reporting progress to the Train screen.
fn download(
    source: crate::ml::imagenet::Source,
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Task<Message> {
    let file = source.file.clone();
    let job = spawn("imagenet-download", move |send| {
        use crate::ml::imagenet::{FetchError, fetch, store};
        let folder = store::folder();
        let result = folder
            .clone()
            .map_err(FetchError::Failed)
            .and_then(|folder| {
                fetch(&source, &folder, &cancel, &mut |t| {
                    send(train::Download::Progress(t))
                })
            });
        // What is on disk now: a cancelled or broken-off download keeps its bytes, a corrupt
        // one was deleted.
        let kept = folder.map_or(0, |f| store::partial(&f, &source).1);
        send(train::Download::Done(result, kept));
    });
    Task::run(job, move |news| {
        Message::Train(train::Message::Downloaded(file.clone(), news))
    })
}

/// A warm-up step and a timed step of the recipe on the chosen device (a device that fails to
/// start, or a network that does not fit its memory, is reported, not a crash).
fn measure_speed(
    key: &train::forecast::Key,
    recipe: &crate::ml::recipe::Recipe,
    classes: usize,
) -> Result<(crate::ml::forecast::StepTimes, String), String> {
    let device = crate::ml::device::select(key.device)?;
    let recipe = recipe.clone();
    let name = device.name.clone();
    std::panic::catch_unwind(move || crate::ml::forecast::measure(&recipe, classes, &device))
        .map(|t| (t, name))
        .map_err(|_| "the speed could not be measured on this device".to_string())
}

impl App {
    pub(super) fn root(&self) -> Option<PathBuf> {
        match &self.state {
            State::Ready { project, .. } => Some(project.root().to_path_buf()),
            _ => None,
        }
    }

    pub(super) fn show_screen(&mut self, screen: Screen) -> Task<Message> {
        if screen != Screen::Review {
            // Nobody watches the linked view from another screen: its playback stops.
            self.review.linked.halt();
        }
        self.screen = screen;
        match screen {
            Screen::Images => Task::none(),
            Screen::Train => {
                let action = self.train.shown();
                self.train_action(action)
            }
            Screen::Models => {
                let action = self.models.shown();
                self.models_action(action)
            }
            Screen::Review => {
                let action = self.review.shown();
                self.review_action(action)
            }
        }
    }

    pub(super) fn train_action(&mut self, action: train::Action) -> Task<Message> {
        let Some(root) = self.root() else {
            return Task::none();
        };
        match action {
            train::Action::None => Task::none(),
            train::Action::Plan => background(
                "plan-data",
                move || Plans::make(&root),
                |p| Message::Train(train::Message::Planned(p)),
            ),
            train::Action::Start {
                steps,
                device,
                reports,
            } => self.start_training(root, steps, device, reports),
            train::Action::Pause => {
                if let Some(s) = &mut self.training {
                    s.pause();
                }
                Task::none()
            }
            train::Action::Cancel => {
                if let Some(s) = &mut self.training {
                    s.cancel();
                }
                Task::none()
            }
            train::Action::Resume => {
                let Some(s) = self.training.as_mut().filter(|s| s.phase == Phase::Paused) else {
                    return Task::none();
                };
                let steps = s.take_remaining();
                let (device, reports) = (s.device_choice, s.reports.clone());
                self.start_training(root, steps, device, reports)
            }
            train::Action::ShowModels => self.show_screen(Screen::Models),
            train::Action::PickWeights(task) => {
                self.update(Message::Pick(crate::gui::dialogs::Purpose::Weights(task)))
            }
            train::Action::Download { source, cancel } => download(source, cancel),
            train::Action::Forecast {
                key,
                recipe,
                classes,
            } => {
                if self.training_active() {
                    let why =
                        "a training is running: the speed is measured once the device is free";
                    return Task::done(Message::Train(train::Message::Forecast(
                        key,
                        Err(why.into()),
                    )));
                }
                let back = key.clone();
                background(
                    "forecast",
                    move || measure_speed(&key, &recipe, classes),
                    move |r| Message::Train(train::Message::Forecast(back.clone(), r)),
                )
            }
        }
    }

    fn start_training(
        &mut self,
        root: PathBuf,
        steps: Vec<Step>,
        device: DeviceChoice,
        reports: Vec<Split>,
    ) -> Task<Message> {
        if self.training_active() || steps.is_empty() {
            return Task::none();
        }
        let classes = match &self.state {
            State::Ready { project, .. } => project.manifest.classes.clone(),
            _ => Vec::new(),
        };
        self.jobs += 1;
        let (session, task) = Session::start(self.jobs, root, steps, device, reports, classes);
        self.training = Some(session);
        task.map(|(id, u)| Message::Training(id, u))
    }

    pub(super) fn training_update(&mut self, id: u64, update: training::Update) -> Task<Message> {
        let Some(session) = self.training.as_mut().filter(|s| s.id == id) else {
            return Task::none();
        };
        let step_done = matches!(update, training::Update::Job(TrainingJob::StepDone { .. }));
        let ended = matches!(update, training::Update::Job(TrainingJob::Ended { .. }));
        session.update(update);
        if ended && let Some(task) = self.finish_closing() {
            return task;
        }
        if step_done && self.screen == Screen::Models {
            let action = self.models.shown();
            return self.models_action(action);
        }
        Task::none()
    }

    /// The training stopped while the window waits to close: hand it over if asked, then close.
    fn finish_closing(&mut self) -> Option<Task<Message>> {
        let closing = self.closing?;
        let id = match closing {
            Closing::Asking(_) => {
                // It ended by itself while the question was open: nothing to ask any more.
                self.closing = None;
                return None;
            }
            Closing::Stopping(id) => id,
            Closing::HandingOver(id) => {
                if let (Some(root), Some(s)) = (self.root(), self.training.as_mut())
                    && s.phase == Phase::Paused
                {
                    let steps = s.take_remaining();
                    match handover::start(&root, &steps, s.device_choice) {
                        Ok(log) => eprintln!(
                            "training continues in the background; its output: {}",
                            log.display()
                        ),
                        Err(e) => eprintln!("the training could not be continued: {e}"),
                    }
                }
                id
            }
        };
        Some(self.close_now(id))
    }

    /// Saves what is unsaved (quick, on this thread) and closes the window.
    pub(super) fn close_now(&mut self, id: iced::window::Id) -> Task<Message> {
        if let State::Ready {
            project, annotate, ..
        } = &mut self.state
        {
            let jobs = annotate.as_mut().map(|s| s.flush()).unwrap_or_default();
            for job in super::last_saves(std::mem::take(&mut self.carried), jobs) {
                let _ = super::write_save(&job, project);
            }
        }
        iced::window::close(id)
    }

    pub(super) fn models_action(&mut self, action: models::Action) -> Task<Message> {
        let Some(root) = self.root() else {
            return Task::none();
        };
        let to = Message::Models;
        match action {
            models::Action::None => Task::none(),
            models::Action::List => background(
                "registry",
                move || registry::list(&root),
                move |r| to(models::Message::Listed(r)),
            ),
            models::Action::Compare(a, b) => background(
                "compare-runs",
                move || registry::compare(&root, &a, &b),
                move |c| to(models::Message::Compared(c)),
            ),
            models::Action::Activate(id) => background(
                "activate-run",
                move || {
                    registry::activate(&root, &id)
                        .map(|kind| format!("Run {id} is now the active {kind}."))
                },
                move |r| to(models::Message::Done(r)),
            ),
            models::Action::Delete(id) => background(
                "delete-run",
                move || registry::delete(&root, &id, false).map(|_| format!("Run {id} deleted.")),
                move |r| to(models::Message::Done(r)),
            ),
            models::Action::Resume(id) => {
                self.screen = Screen::Train;
                let device = self.train.device;
                let plan = self.train.shown();
                let plan = self.train_action(plan);
                let start =
                    self.start_training(root, vec![Step::Resume(id)], device, vec![Split::Val]);
                Task::batch([plan, start])
            }
            models::Action::PreAnnotate => self.pre_annotate(),
        }
    }

    /// Pre-annotation writes labels and masks: like an import, the window lets go of the
    /// project (saving what is unsaved first), the job takes it, and the window reopens it.
    fn pre_annotate(&mut self) -> Task<Message> {
        let Some(run) = self
            .models
            .active(crate::ml::models::Task::Segment)
            .map(|r| r.id.clone())
        else {
            return Task::none();
        };
        let classifier = self
            .models
            .active(crate::ml::models::Task::Classify)
            .map(|r| r.id.clone());
        let device = self.train.device;
        self.screen = Screen::Images;
        let detail = format!("with run {run}");
        self.with_project_released("pre-annotate", "Predicting masks", detail, move |root, send| {
            let notice = crate::ml::device::select(device).and_then(|device| {
                crate::ml::preannotate::pre_annotate(
                    root,
                    &run,
                    classifier.as_deref(),
                    &device,
                    &mut |done, total| {
                        send(JobEvent::Progress("Predicting masks".into(), done, total))
                    },
                )
            });
            match notice {
                Ok(r) => format!(
                    "Run {} drew masks on {} of {} unlabeled images ({} showed no nerve{}); they \
                     are marked predicted: filter Browse by status Unlabeled to correct them.",
                    r.run,
                    r.filled,
                    r.predicted,
                    r.no_nerve_found,
                    r.classifier
                        .as_ref()
                        .map(|c| format!(
                            "; classifier {c} called {} other frames not nerve",
                            r.not_called_nerve
                        ))
                        .unwrap_or_default()
                ),
                Err(e) => format!("No masks were predicted: {e}"),
            }
        })
    }
}
