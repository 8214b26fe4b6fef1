//! The app's side of the Annotate screen: routing its messages, carrying out what it asks
//! (loads and saves on other threads), and the saves a closed Annotate screen leaves in flight.

use super::{App, Message, Screen, State, annotate_action, perform, save_task};
use crate::gui::screens::annotate::{self, SaveOutcome};
use iced::Task;

impl App {
    pub(super) fn annotate_message(&mut self, m: annotate::Message) -> Task<Message> {
        if let annotate::Message::Saved(o) = &m {
            self.settle_carried(o);
        }
        let State::Ready {
            project,
            browse,
            loader,
            annotate,
        } = &mut self.state
        else {
            return Task::none();
        };
        if let annotate::Message::Saved(o) = &m
            && o.result.is_ok()
        {
            project.record_saved(&o.stem, o.label.clone(), o.wrote_mask);
        }
        let Some(screen) = annotate.as_mut() else {
            return Task::none();
        };
        let actions = screen.update(m, project);
        let mut tasks = Vec::new();
        let mut left = None;
        for action in actions {
            if let annotate::Action::Back = action {
                // Leaving saves what is unsaved first; until those saves are known to
                // be on disk, the next Annotate screen shows them rather than the files.
                let current = screen.current().to_string();
                let mut edit = None;
                for job in screen.flush() {
                    if job.stem == current {
                        edit = Some((job.label.clone(), job.mask.clone()));
                    }
                    self.carried.insert(job.stem.clone(), (job.clone(), false));
                    tasks.push(save_task(job, project));
                }
                *annotate = None;
                browse.refresh(project);
                tasks.push(browse.reveal(project, current.clone()).map(Message::Browse));
                perform(browse.wanted_now(project), project, loader);
                left = Some((current, edit));
                break;
            }
            tasks.push(annotate_action(action, project, loader));
        }
        if let Some((stem, edit)) = left
            && self.annotate_from == Screen::Review
        {
            // Opened from Review: Esc goes back there, with the image scored again.
            self.screen = Screen::Review;
            tasks.push(self.review_edited(stem, edit));
        }
        Task::batch(tasks)
    }

    /// A save reported: a carried one (from a closed Annotate screen) is done, or failed and is
    /// kept to be written again; with no Annotate screen open the user is told.
    fn settle_carried(&mut self, o: &SaveOutcome) {
        let annotating = matches!(
            self.state,
            State::Ready {
                annotate: Some(_),
                ..
            }
        );
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
