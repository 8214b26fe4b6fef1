//! The app's side of the Browse screen: routing its messages and carrying out its requests
//! (thumbnails, opening Annotate, labeling many images).

use super::{App, Message, Screen, State};
use crate::gui::screens::browse::{self, Request};
use crate::gui::thumbnails;
use iced::Task;

impl App {
    pub(super) fn browse_message(&mut self, m: browse::Message) -> Task<Message> {
        let State::Ready { project, screens } = &mut self.state else {
            return Task::none();
        };
        let action = screens.browse.update(m, &ctx!(project, screens, self));
        self.perform(action, Message::Browse, App::browse_request)
    }

    pub(super) fn browse_request(&mut self, request: Request) -> Task<Message> {
        match request {
            Request::Thumbnails(stems) => {
                self.want_thumbnails(stems);
                Task::none()
            }
            Request::Annotate(stem) => self.open_annotate(stem, Screen::Images),
            Request::Label(stems, change) => self.label_many(stems, change),
            Request::Restore(what, before) => self.restore_many(what, before),
        }
    }

    /// Loads the thumbnails of the images Browse has in view.
    pub(super) fn browse_thumbnails(&mut self) -> Task<Message> {
        let State::Ready { project, screens } = &self.state else {
            return Task::none();
        };
        let stems = screens.browse.in_view(project);
        self.want_thumbnails(stems);
        Task::none()
    }

    /// Asks the loader for those of `stems` (first shown first) not loaded yet.
    pub(super) fn want_thumbnails(&mut self, stems: Vec<String>) {
        let State::Ready { project, screens } = &mut self.state else {
            return;
        };
        let missing = screens.thumbnails.missing(&stems);
        screens.loader.want(
            missing
                .into_iter()
                .filter_map(|stem| {
                    project.get(&stem).map(|e| thumbnails::Request {
                        image: project.image_path(e),
                        stem,
                    })
                })
                .collect(),
        );
    }
}
