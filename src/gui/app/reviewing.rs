//! The app's side of the Review screen: routing its messages, and what only the app can do for
//! it (opening an image in Annotate, recording the files a decision wrote, the export dialog).

use super::{App, Message, Screen, State};
use crate::gui::screens::review::{self, Request, Written};
use iced::Task;

impl App {
    pub(super) fn review_message(&mut self, m: review::Message) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            return Task::none();
        };
        let Some(screen) = screens.review.as_mut() else {
            return Task::none();
        };
        let action = screen.update(m, &ctx!(project, screens, self));
        self.perform(action, Message::Review, App::review_request)
    }

    pub(super) fn review_request(&mut self, request: Request) -> Task<Message> {
        match request {
            Request::Edit(stem) => self.open_annotate(stem, Screen::Review),
            Request::Written(w) => {
                self.record_written(w);
                Task::none()
            }
            Request::PickExport => {
                self.update(Message::Pick(crate::gui::dialogs::Purpose::LinkedExport))
            }
        }
    }

    /// A decision wrote an image's label (and perhaps its mask): the index and Browse follow.
    fn record_written(&mut self, w: Written) {
        let State::Ready { project, screens } = &mut self.state else {
            return;
        };
        project.record_saved(&w.stem, w.label, w.has_mask);
        if w.restored && !w.has_mask {
            project.record_no_mask(&w.stem);
        }
        screens.browse.refresh(project);
    }
}
