//! The app's side of the Train and Models screens: switching screens, the window's training
//! session, pre-annotation, and closing the window while a training runs.

use super::annotating::{last_saves, write_paths};
use super::{App, CloseChoice, Closing, JobEvent, Message, Screen, State};
use crate::gui::background::job;
use crate::gui::handover;
use crate::gui::screens::models::{self, Models};
use crate::gui::screens::review::Review;
use crate::gui::screens::train::{self, Train};
use crate::gui::screens::{Action, Context};
use crate::gui::training::{self, Phase, Session};
use crate::ml::device::DeviceChoice;
use crate::ml::job::{JobEvent as TrainingJob, Step};
use crate::project::splits::Split;
use iced::Task;

impl App {
    pub(super) fn root(&self) -> Option<std::path::PathBuf> {
        match &self.state {
            State::Ready { project, .. } => Some(project.root().to_path_buf()),
            _ => None,
        }
    }

    /// Shows a tab: its screen is made when first shown, and brought up to date after.
    pub(super) fn show_screen(&mut self, screen: Screen) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            self.screen = screen;
            return Task::none();
        };
        if screen != Screen::Review
            && let Some(review) = &mut screens.review
        {
            // Nobody watches the linked view from another screen: its playback stops.
            review.left();
        }
        self.screen = screen;
        let ctx = ctx!(project, screens, self);
        match screen {
            Screen::Images => Task::none(),
            Screen::Train => {
                let action = shown(&mut screens.train, &ctx, Train::new, |s, ctx| {
                    s.update(train::Message::RefreshData, ctx)
                });
                self.perform(action, Message::Train, App::train_request)
            }
            Screen::Models => {
                let action = shown(&mut screens.models, &ctx, Models::new, |s, ctx| {
                    s.update(models::Message::Refresh, ctx)
                });
                self.perform(action, Message::Models, App::models_request)
            }
            Screen::Review => {
                let action = shown(&mut screens.review, &ctx, Review::new, Review::shown);
                self.perform(action, Message::Review, App::review_request)
            }
        }
    }

    pub(super) fn train_message(&mut self, m: train::Message) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            return Task::none();
        };
        let Some(screen) = screens.train.as_mut() else {
            return Task::none();
        };
        let action = screen.update(m, &ctx!(project, screens, self));
        self.perform(action, Message::Train, App::train_request)
    }

    fn train_request(&mut self, request: train::Request) -> Task<Message> {
        match request {
            train::Request::Start {
                steps,
                device,
                reports,
            } => self.start_training(steps, device, reports),
            train::Request::Pause => {
                if let Some(s) = &mut self.training {
                    s.pause();
                }
                Task::none()
            }
            train::Request::Cancel => {
                if let Some(s) = &mut self.training {
                    s.cancel();
                }
                Task::none()
            }
            train::Request::Resume => {
                let Some(s) = self
                    .training
                    .as_mut()
                    .filter(|s| matches!(s.phase, Phase::Paused))
                else {
                    return Task::none();
                };
                let steps = s.take_remaining();
                let (device, reports) = (s.device_choice, s.reports.clone());
                self.start_training(steps, device, reports)
            }
            train::Request::ShowModels => self.show_screen(Screen::Models),
            train::Request::PickWeights(task) => {
                self.update(Message::Pick(crate::gui::dialogs::Purpose::Weights(task)))
            }
            train::Request::Device(device) => {
                self.settings.device = device;
                Task::none()
            }
        }
    }

    pub(super) fn models_message(&mut self, m: models::Message) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            return Task::none();
        };
        let Some(screen) = screens.models.as_mut() else {
            return Task::none();
        };
        let action = screen.update(m, &ctx!(project, screens, self));
        self.perform(action, Message::Models, App::models_request)
    }

    fn models_request(&mut self, request: models::Request) -> Task<Message> {
        match request {
            models::Request::Resume(id) => {
                let shown = self.show_screen(Screen::Train);
                let device = self.settings.device;
                let start = self.start_training(vec![Step::Resume(id)], device, vec![Split::Val]);
                Task::batch([shown, start])
            }
            models::Request::PreAnnotate {
                segmenter,
                classifier,
            } => self.pre_annotate(segmenter, classifier),
        }
    }

    fn start_training(
        &mut self,
        steps: Vec<Step>,
        device: DeviceChoice,
        reports: Vec<Split>,
    ) -> Task<Message> {
        let State::Ready { project, .. } = &self.state else {
            return Task::none();
        };
        if self.training_active() || steps.is_empty() {
            return Task::none();
        }
        let (root, classes) = (
            project.root().to_path_buf(),
            project.manifest.classes.clone(),
        );
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
            return self.show_screen(Screen::Models);
        }
        Task::none()
    }

    /// Pre-annotation writes labels and masks: like an import, the window lets go of the
    /// project (saving what is unsaved first), the job takes it, and the window reopens it.
    fn pre_annotate(&mut self, run: String, classifier: Option<String>) -> Task<Message> {
        let device = self.settings.device;
        self.screen = Screen::Images;
        let detail = format!("with run {run}");
        self.with_project_released(
            "pre-annotate",
            "Predicting masks",
            detail,
            move |root, send| {
                let predicted = crate::ml::device::select(device).and_then(|device| {
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
                match predicted {
                    Ok(r) => r.describe(),
                    Err(e) => format!("No masks were predicted: {e}"),
                }
            },
        )
    }

    pub(super) fn close_requested(&mut self, id: iced::window::Id) -> Task<Message> {
        if self.training_active() {
            self.closing = Some(Closing::Asking(id));
            return Task::none();
        }
        self.close_now(id)
    }

    pub(super) fn close_choice(&mut self, choice: CloseChoice) -> Task<Message> {
        let Some(Closing::Asking(id)) = self.closing else {
            return Task::none();
        };
        let Some(session) = self.training.as_mut().filter(|t| t.phase.is_active()) else {
            self.closing = None;
            return self.close_now(id);
        };
        self.closing = match choice {
            CloseChoice::Stay => None,
            CloseChoice::StopTraining => {
                session.cancel();
                Some(Closing::Stopping(id))
            }
            CloseChoice::KeepTraining => {
                session.pause();
                Some(Closing::HandingOver(id))
            }
        };
        Task::none()
    }

    /// The training stopped while the window waits to close: hand it over if asked, then close.
    fn finish_closing(&mut self) -> Option<Task<Message>> {
        let closing = self.closing?;
        let (id, handover) = match closing {
            Closing::Asking(_) => {
                // It ended by itself while the question was open: nothing to ask any more.
                self.closing = None;
                return None;
            }
            Closing::Stopping(id) => (id, None),
            Closing::HandingOver(id) => {
                let steps = match (self.root(), self.training.as_mut()) {
                    (Some(root), Some(s)) if matches!(s.phase, Phase::Paused) => {
                        Some((root, s.take_remaining(), s.device_choice))
                    }
                    _ => None,
                };
                (id, steps)
            }
        };
        let close = self.close_now(id);
        let Some((root, steps, device)) = handover else {
            return Some(close);
        };
        // The background process is started on a thread of its own, then the window closes.
        let start = job(
            "training-handover",
            move || match handover::start(&root, &steps, device) {
                Ok(log) => eprintln!(
                    "training continues in the background; its output: {}",
                    log.display()
                ),
                Err(e) => eprintln!("the training could not be continued: {e}"),
            },
            |()| (),
        );
        Some(start.discard().chain(close))
    }

    /// Writes what is unsaved on another thread, then closes the window.
    pub(super) fn close_now(&mut self, id: iced::window::Id) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            return iced::window::close(id);
        };
        let open = screens
            .annotate
            .as_mut()
            .map(|s| s.flush())
            .unwrap_or_default();
        let saves = last_saves(std::mem::take(&mut self.carried), open);
        let paths: Vec<_> = saves
            .into_iter()
            .map(|s| {
                let (mask, label) = (project.mask_path(&s.stem), project.label_path(&s.stem));
                (s, mask, label)
            })
            .collect();
        job(
            "last-saves",
            move || {
                for (save, mask, label) in &paths {
                    if let Err(e) = write_paths(save, mask, label) {
                        eprintln!("{} could not be saved: {e}", save.stem);
                    }
                }
            },
            move |()| Message::Closed(id),
        )
    }
}

/// A tab's screen as it is shown: made (with its first loads) the first time, brought up to
/// date (`again`) after.
fn shown<S, M: Send + 'static, R>(
    slot: &mut Option<S>,
    ctx: &Context,
    new: impl FnOnce(&Context) -> (S, Task<M>),
    again: impl FnOnce(&mut S, &Context) -> Action<M, R>,
) -> Action<M, R> {
    match slot {
        Some(screen) => again(screen, ctx),
        None => {
            let (screen, task) = new(ctx);
            *slot = Some(screen);
            Action::run(task)
        }
    }
}
