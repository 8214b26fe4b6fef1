//! The app's side of the Annotate screen: opening it, routing its messages, writing its saves
//! on other threads, and the saves a closed Annotate screen leaves in flight.

use super::{App, Message, Screen, State};
use crate::gui::background::spawn;
use crate::gui::screens::annotate::{self, Annotate, Request, SaveJob, SaveOutcome};
use crate::project::{ImageLabel, Project};
use iced::Task;
use std::collections::HashMap;
use std::path::Path;

/// What Esc in Annotate leaves behind: the image shown, and its edit (label, mask) when it had
/// one waiting to be written.
type Left = (String, Option<(ImageLabel, Option<crate::mask::Mask>)>);

impl App {
    /// Opens the Annotate screen on `stem`, moving through Browse's order; Esc returns to
    /// `from`. An Annotate screen already open is left first (its edits are saved).
    pub(super) fn open_annotate(&mut self, stem: String, from: Screen) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            return Task::none();
        };
        let mut tasks = Vec::new();
        if let Some(mut open) = screens.annotate.take() {
            for job in open.flush() {
                self.carried.insert(job.stem.clone(), (job.clone(), false));
                tasks.push(save_task(job, project, self.generation));
            }
        }
        let carried = self.carried.values().cloned().collect();
        let order = screens.browse.order(project);
        let (screen, action) = Annotate::new(&ctx!(project, screens, self), order, stem, carried);
        screens.annotate = Some(screen);
        self.annotate_from = from;
        self.screen = Screen::Images;
        tasks.push(self.perform(action, Message::Annotate, App::annotate_request));
        Task::batch(tasks)
    }

    pub(super) fn annotate_message(&mut self, m: annotate::Message) -> Task<Message> {
        if let annotate::Message::Saved(o) = &m {
            self.settle_carried(o);
            if let (State::Ready { project, .. }, Ok(())) = (&mut self.state, &o.result) {
                project.record_saved(&o.stem, o.label.clone(), o.wrote_mask);
            }
        }
        let State::Ready { project, screens } = &mut self.state else {
            return Task::none();
        };
        let Some(screen) = screens.annotate.as_mut() else {
            return Task::none();
        };
        let action = screen.update(m, &ctx!(project, screens, self));
        self.perform(action, Message::Annotate, App::annotate_request)
    }

    fn annotate_request(&mut self, request: Request) -> Task<Message> {
        match request {
            Request::Save(job) => match &self.state {
                State::Ready { project, .. } => save_task(job, project, self.generation),
                _ => Task::none(),
            },
            Request::Thumbnails(stems) => {
                self.want_thumbnails(stems);
                Task::none()
            }
            Request::Back => self.leave_annotate(),
        }
    }

    /// Esc: the Annotate screen closes, saving what is unsaved first; until those saves are
    /// known to be on disk, the next Annotate screen shows them rather than the files.
    fn leave_annotate(&mut self) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            return Task::none();
        };
        let Some(mut screen) = screens.annotate.take() else {
            return Task::none();
        };
        let current = screen.current().to_string();
        let mut tasks = Vec::new();
        let mut edit = None;
        for job in screen.flush() {
            if job.stem == current {
                edit = Some((job.label.clone(), job.mask.clone()));
            }
            self.carried.insert(job.stem.clone(), (job.clone(), false));
            tasks.push(save_task(job, project, self.generation));
        }
        screens.browse.refresh(project);
        let reveal = screens.browse.reveal(project, current.clone());
        tasks.push(self.tagged(reveal, Message::Browse));
        tasks.push(self.browse_thumbnails());
        tasks.push(self.back_from_annotate((current, edit)));
        Task::batch(tasks)
    }

    /// Opened from Review: Esc goes back there, with the image scored again.
    fn back_from_annotate(&mut self, (stem, edit): Left) -> Task<Message> {
        if self.annotate_from != Screen::Review {
            return Task::none();
        }
        self.screen = Screen::Review;
        let (State::Ready { screens, .. }, Some((label, mask))) = (&self.state, edit) else {
            return Task::none();
        };
        let Some(review) = &screens.review else {
            return Task::none();
        };
        let task = review.edited_in_annotate(&stem, label, mask);
        self.tagged(task, Message::Review)
    }

    /// A save reported: a carried one (from a closed Annotate screen) is done, or failed and is
    /// kept to be written again; with no Annotate screen open the user is told.
    fn settle_carried(&mut self, o: &SaveOutcome) {
        let annotating =
            matches!(&self.state, State::Ready { screens, .. } if screens.annotate.is_some());
        let Some((_, failed)) = self
            .carried
            .get_mut(&o.stem)
            .filter(|(job, _)| job.revision == o.revision)
        else {
            return;
        };
        match &o.result {
            Ok(()) => drop(self.carried.remove(&o.stem)),
            Err(e) => {
                *failed = true;
                if !annotating {
                    self.notice = Some(format!(
                        "{} is not saved yet: {e}. The edits are kept in this window and \
                         written again when you next annotate.",
                        o.stem
                    ));
                }
            }
        }
    }
}

/// Writes `job` on another thread; its outcome comes back to the Annotate screen of the
/// project opened `generation`th.
fn save_task(job: SaveJob, project: &Project, generation: u64) -> Task<Message> {
    let (mask_path, label_path) = (project.mask_path(&job.stem), project.label_path(&job.stem));
    let stream = spawn("save", move |send| {
        let result = write_paths(&job, &mask_path, &label_path);
        send(annotate::Message::Saved(SaveOutcome {
            wrote_mask: job.mask.is_some(),
            stem: job.stem,
            revision: job.revision,
            label: job.label,
            result,
        }));
    });
    Task::run(stream, move |m| {
        Message::ForProject(generation, Box::new(Message::Annotate(m)))
    })
}

/// Writes a save job: the mask first, then the label that describes it; both atomically.
pub(super) fn write_paths(
    job: &SaveJob,
    mask_path: &Path,
    label_path: &Path,
) -> crate::project::Result<()> {
    if let Some(mask) = &job.mask {
        crate::mask::write_mask(mask_path, mask)?;
    }
    crate::project::write_label(label_path, &job.label)
}

/// What must be written before the project is let go (closing, an import): the saves carried
/// from a closed Annotate screen, then the open screen's, which are newer for the same image.
pub(super) fn last_saves(
    carried: HashMap<String, (SaveJob, bool)>,
    open: Vec<SaveJob>,
) -> Vec<SaveJob> {
    let mut jobs: Vec<SaveJob> = carried
        .into_values()
        .map(|(job, _)| job)
        .filter(|job| !open.iter().any(|o| o.stem == job.stem))
        .collect();
    jobs.extend(open);
    jobs
}

/// Writes a save job where it is called (on a job's thread: closing, an import).
pub fn write_save(job: &SaveJob, project: &Project) -> crate::project::Result<()> {
    write_paths(
        job,
        &project.mask_path(&job.stem),
        &project.label_path(&job.stem),
    )
}
