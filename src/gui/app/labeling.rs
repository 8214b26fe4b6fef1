//! The app's side of labeling many images at once in Browse: the step is planned against the
//! open project (checked before anything is written), written in the background, and the index
//! is updated once the files are on disk.

use super::{App, Message, State, for_project};
use crate::gui::background::spawn;
use crate::gui::screens::browse;
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
    Failed(String, bool),
}

impl App {
    /// Plans and starts writing a Browse labeling step or its undo.
    pub(super) fn label_many(&mut self, action: browse::Action) -> Task<Message> {
        let State::Ready { project, .. } = &self.state else {
            return Task::none();
        };
        let root = project.root().to_path_buf();
        let planned = match action {
            browse::Action::Label(stems, change) => plan(project, &stems, &change),
            browse::Action::Restore(what, before) => {
                Ok((bulk::plan_restore(project, &before), what, None))
            }
            _ => return Task::none(),
        };
        let (writes, what, before) = match planned {
            Ok(p) => p,
            Err(e) => return Task::done(Message::Labeled(Written::Failed(e, false))),
        };
        let stream = spawn("label-many", move |send| {
            let written = match writes.write() {
                Ok(()) => match before {
                    Some(before) => Written::Applied(writes, what, before),
                    None => Written::Restored(writes, what),
                },
                Err(e) => Written::Failed(e.to_string(), before.is_none()),
            };
            send(written);
        });
        Task::run(stream, move |w| for_project(&root, Message::Labeled(w)))
    }

    /// A labeling write ended: the index follows the files, and Browse says so.
    pub(super) fn labeled(&mut self, written: Written) -> Task<Message> {
        let State::Ready {
            project, browse, ..
        } = &mut self.state
        else {
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
        browse.update(message, project);
        Task::none()
    }
}

type Planned = (Writes, String, Option<Vec<Before>>);

fn plan(
    project: &crate::project::Project,
    stems: &[String],
    change: &Change,
) -> Result<Planned, String> {
    if let Some(why) = project.read_only_reason() {
        return Err(why);
    }
    let (writes, before) = bulk::plan(project, stems, change).map_err(|e| e.to_string())?;
    let what = format!("{} on {} images", change.describe(), stems.len());
    Ok((writes, what, Some(before)))
}
