//! The window (iced 0.14). A thin shell over `project`: every file and decode runs elsewhere.

mod app;
pub mod background;
pub mod bench;
pub mod dialogs;
pub mod error;
pub mod handover;
pub mod keys;
pub mod recent;
pub mod screens;
pub mod style;
pub mod thumbnails;
pub mod training;
pub mod viewport;
pub mod widgets;

pub use app::{App, CloseChoice, Closing, JobEvent, Message, Screen, Screens, State, write_save};
pub use screens::annotate::load_image;
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

/// Why no window can open here, if none can: on Linux and the BSDs a window needs an X11 or
/// Wayland display (`DISPLAY` or `WAYLAND_DISPLAY`), and without one the windowing library
/// would panic.
pub fn no_display_reason(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    if cfg!(any(target_os = "windows", target_os = "macos")) {
        return None;
    }
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
    (!set("DISPLAY") && !set("WAYLAND_DISPLAY")).then(|| {
        "there is no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is \
         set): run it on a desktop, over `ssh -X`, or under `xvfb-run`; every other command \
         (`nerve-studio --help`) works without one"
            .to_string()
    })
}

pub fn run(launch: Launch) -> anyhow::Result<()> {
    if let Some(why) = no_display_reason(|v| std::env::var(v).ok()) {
        anyhow::bail!(why);
    }
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
