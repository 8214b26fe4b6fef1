//! The window (iced 0.14). A thin shell over `project`: every file and decode runs elsewhere.

mod app;
pub mod background;
pub mod handover;
pub mod keys;
pub mod recent;
pub mod screens;
pub mod style;
pub mod thumbnails;
pub mod training;
pub mod viewport;
pub mod widgets;

pub use app::{
    App, CloseChoice, Closing, JobEvent, Message, Screen, State, load_image, write_save,
};
use std::path::PathBuf;

/// What the window opens on.
#[derive(Debug, Clone)]
pub struct Launch {
    /// A project folder; `None` means the last project, else `projects/demo` (made if missing).
    pub project: Option<PathBuf>,
    /// An image to select.
    pub image: Option<String>,
    /// Open `image` in the Annotate screen rather than selecting it in Browse.
    pub annotate: bool,
    /// Read and record the recent projects in the user's settings (off in tests).
    pub remember: bool,
    /// The screen shown once the project is open.
    pub screen: Screen,
}

impl Default for Launch {
    fn default() -> Self {
        Launch {
            project: None,
            image: None,
            annotate: false,
            remember: true,
            screen: Screen::Images,
        }
    }
}

pub fn run(launch: Launch) -> anyhow::Result<()> {
    iced::application(move || App::new(launch.clone()), App::update, App::view)
        .title(App::title)
        .subscription(App::subscription)
        .theme(App::theme)
        .window_size((1400.0, 900.0))
        // Closing saves unsaved edits first (see Message::CloseRequested).
        .exit_on_close_request(false)
        .run()
        .map_err(|e| anyhow::anyhow!("the window could not start: {e}"))
}
