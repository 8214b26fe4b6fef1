//! The app's side of labeling many images at once in Browse: the step is planned against the
//! open project (checked before anything is written), written in the background, and the index
//! is updated once the files are on disk.

use super::{App, Message, State};
use crate::gui::background::spawn;
use crate::gui::screens::browse;
use crate::project::ProjectError;
use crate::project::bulk::{self, Before, Change, Writes};
use iced::Task;

/// What a background labeling write reports.
#[derive(Debug, Clone)]
pub enum Written {
    /// A step: its description and the images as they were (for undo).
    Applied(Writes, String, Vec<Before>),
    /// An undo of the step described.
    Restored(Writes, String),
    /// Why a step (false) or an undo (true) was not written.
    Failed(ProjectError, bool),
}

impl App {
    /// Plans and starts writing a Browse labeling step: `change` on `stems`.
    pub(super) fn label_many(&mut self, stems: Vec<String>, change: Change) -> Task<Message> {
        let State::Ready { project, .. } = &self.state else {
            return Task::none();
        };
        match plan(project, &stems, &change) {
            Ok(planned) => self.write_many(planned),
            Err(e) => Task::done(Message::Labeled(Written::Failed(e, false))),
        }
    }

    /// Plans and starts writing the undo of a Browse labeling step.
    pub(super) fn restore_many(&mut self, what: String, before: Vec<Before>) -> Task<Message> {
        let State::Ready { project, .. } = &self.state else {
            return Task::none();
        };
        let writes = bulk::plan_restore(project, &before);
        self.write_many((writes, what, None))
    }

    fn write_many(&self, (writes, what, before): Planned) -> Task<Message> {
        let stream = spawn("label-many", move |send| {
            let written = match writes.write() {
                Ok(()) => match before {
                    Some(before) => Written::Applied(writes, what, before),
                    None => Written::Restored(writes, what),
                },
                Err(e) => Written::Failed(e, before.is_none()),
            };
            send(written);
        });
        self.tagged(Task::run(stream, |w| w), Message::Labeled)
    }

    /// A labeling write ended: the index follows the files, and Browse says so.
    pub(super) fn labeled(&mut self, written: Written) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            return Task::none();
        };
        let message = match written {
            Written::Applied(writes, what, before) => {
                writes.record(project);
                browse::Message::Applied(Ok((what, before)))
            }
            Written::Restored(writes, what) => {
                writes.record(project);
                browse::Message::Undone(Ok(what))
            }
            Written::Failed(e, false) => browse::Message::Applied(Err(e)),
            Written::Failed(e, true) => browse::Message::Undone(Err(e)),
        };
        let action = screens
            .browse
            .update(message, &ctx!(project, screens, self));
        self.perform(action, Message::Browse, |app, r| app.browse_request(r))
    }
}

type Planned = (Writes, String, Option<Vec<Before>>);

fn plan(
    project: &crate::project::Project,
    stems: &[String],
    change: &Change,
) -> Result<Planned, ProjectError> {
    if let Some(why) = project.read_only_reason() {
        return Err(ProjectError::ReadOnly(why));
    }
    let (writes, before) = bulk::plan(project, stems, change)?;
    let what = format!("{} on {} images", change.describe(), stems.len());
    Ok((writes, what, Some(before)))
}
