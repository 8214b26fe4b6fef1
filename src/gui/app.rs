//! The application: which project is open, its screens, and the window's own jobs (opening,
//! demo generation, import, thumbnails, saves, training). `update` routes each message to its
//! screen and carries out what the screen asks (see `screens` for the shape every screen has);
//! the work itself lives in the submodules, one concern each.

use super::Launch;
use super::background::Handover;
use super::dialogs::{self, Picked, Prompt, Purpose};
use super::recent::Recent;
use super::screens::annotate::{self, Annotate, SaveJob};
use super::screens::browse::{self, Browse};
use super::screens::models::{self, Models};
use super::screens::review::{self, Review};
use super::screens::train::{self, Train};
use super::screens::{Action, Settings};
use super::thumbnails::{Loaded, ThumbnailLoader, Thumbnails};
use super::training::Session;
use crate::project::Project;
use crate::project::exchange::ImportFormat;
use iced::{Subscription, Task, Theme};
use std::path::{Path, PathBuf};

#[macro_use]
mod context {
    /// The read-only context of the open project's screens: `ctx!(project, screens, app)`,
    /// a macro so that the screen being updated can be borrowed mutably beside it.
    macro_rules! ctx {
        ($project:expr, $screens:expr, $app:expr) => {
            $crate::gui::screens::Context {
                project: $project,
                thumbnails: &$screens.thumbnails,
                settings: &$app.settings,
                training: $app.training.as_ref(),
            }
        };
    }
}

mod annotating;
mod browsing;
mod labeling;
mod opening;
mod reviewing;
mod training;
mod view;

pub use annotating::write_save;

/// Where the default project lives when nothing was opened before.
pub const DEMO_PROJECT: &str = "projects/demo";

pub enum State {
    /// A background job is opening, generating or importing; `progress` when it says.
    Busy {
        title: String,
        detail: String,
        progress: Option<(usize, usize)>,
    },
    Failed {
        path: PathBuf,
        error: String,
    },
    /// A project is open, with its screens (made afresh for every project opened).
    Ready {
        project: Box<Project>,
        screens: Box<Screens>,
    },
}

/// The screens of the open project and what they share.
pub struct Screens {
    pub thumbnails: Thumbnails,
    loader: ThumbnailLoader,
    pub browse: Browse,
    /// The Annotate screen, over Browse, when an image is open.
    pub annotate: Option<Annotate>,
    /// Train, Models and Review are made when first shown.
    pub train: Option<Train>,
    pub models: Option<Models>,
    pub review: Option<Review>,
}

/// The screens the toolbar's tabs switch between (Annotate opens over Images).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Images,
    Train,
    Models,
    Review,
}

/// The answers to "a training is running" when the window is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseChoice {
    /// Stop the training (its last epoch is kept) and close.
    StopTraining,
    /// Close, and let a background process continue the training.
    KeepTraining,
    /// Do not close.
    Stay,
}

/// Closing with a training running: the question, then the wait for the training to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    Asking(iced::window::Id),
    Stopping(iced::window::Id),
    HandingOver(iced::window::Id),
}

#[derive(Debug, Clone)]
pub enum Message {
    Job(u64, JobEvent),
    Show(Screen),
    Browse(browse::Message),
    Annotate(annotate::Message),
    Train(train::Message),
    Models(models::Message),
    Review(review::Message),
    Training(u64, crate::gui::training::Update),
    Close(CloseChoice),
    /// The window's close button: save what is unsaved, then close.
    CloseRequested(iced::window::Id),
    /// The last saves are written (or failed): the window closes.
    Closed(iced::window::Id),
    Thumbnail(u64, Loaded),
    OpenDialog,
    Open(Option<PathBuf>),
    ImportDialog(ImportFormat),
    Import(ImportFormat, Option<PathBuf>),
    /// Choose a path for `Purpose`: the system's dialog, or a path typed into the window.
    Pick(Purpose),
    Picked(Purpose, Picked),
    PromptText(String),
    PromptSubmit,
    /// The typed path, checked on another thread (it looks at the disk).
    PromptChecked(Purpose, Result<PathBuf, crate::gui::dialogs::PathProblem>),
    PromptCancel,
    DismissNotice,
    /// The device training and inference will use (found on another thread at start).
    Compute(String),
    /// The recent projects, read (and updated) on another thread.
    Recent(Vec<PathBuf>),
    /// Browse's labeling of many images (or its undo) was written, or failed.
    Labeled(labeling::Written),
    /// What a job of the project opened `generation`th reported: dropped when another
    /// project (or the same one, reopened) is open by the time it arrives, since the screens
    /// and index it would update are gone.
    ForProject(u64, Box<Message>),
}

/// Events of the background job that opens (or first makes) a project.
#[derive(Debug, Clone)]
pub enum JobEvent {
    Progress(String, usize, usize),
    Opened(Handover<Project>),
    Failed(PathBuf, String),
    /// A finished import: what to tell the user.
    Notice(String),
}

pub struct App {
    pub state: State,
    /// Counts the projects opened: events of older jobs are dropped.
    generation: u64,
    select: Option<String>,
    /// Open the selected image in the Annotate screen once the project is open.
    open_annotate: bool,
    notice: Option<String>,
    recent: Vec<PathBuf>,
    remember: bool,
    /// "GPU: <adapter>" or "CPU: <model>", once known.
    compute: Option<String>,
    pub screen: Screen,
    pub settings: Settings,
    /// The training of this window (running, paused or ended), whatever screen is shown.
    pub training: Option<Session>,
    jobs: u64,
    pub closing: Option<Closing>,
    /// Saves of a closed Annotate screen not yet known to be on disk (and whether they failed):
    /// the next Annotate screen shows them, not the older files, and retries the failed ones.
    carried: std::collections::HashMap<String, (SaveJob, bool)>,
    /// Where Esc in Annotate returns: Browse, or Review when Review opened the image.
    annotate_from: Screen,
    /// A path being typed, where the system has no file dialog.
    pub prompt: Option<Prompt>,
}

impl App {
    pub fn new(launch: Launch) -> (App, Task<Message>) {
        // The recent projects are read before the window shows (one small file): which project
        // to open depends on them.
        let recent = if launch.remember {
            Recent::load()
        } else {
            Recent::default()
        };
        let path = launch
            .project
            .or_else(|| recent.last().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from(DEMO_PROJECT));
        let mut app = App {
            state: State::Busy {
                title: "Opening".into(),
                detail: path.display().to_string(),
                progress: None,
            },
            generation: 0,
            select: launch.image,
            open_annotate: launch.annotate,
            notice: None,
            recent: recent.projects,
            remember: launch.remember,
            compute: None,
            screen: launch.screen,
            settings: Settings::default(),
            training: None,
            jobs: 0,
            closing: None,
            carried: Default::default(),
            annotate_from: Screen::Images,
            prompt: None,
        };
        let task = app.open(path);
        (app, Task::batch([task, opening::detect_compute()]))
    }

    /// The Annotate screen, while an image is open.
    pub fn annotate(&self) -> Option<&Annotate> {
        self.screens().and_then(|s| s.annotate.as_ref())
    }

    /// The Train screen, once shown.
    pub fn train(&self) -> Option<&Train> {
        self.screens().and_then(|s| s.train.as_ref())
    }

    /// The Models screen, once shown.
    pub fn models(&self) -> Option<&Models> {
        self.screens().and_then(|s| s.models.as_ref())
    }

    /// The Review screen, once shown.
    pub fn review(&self) -> Option<&Review> {
        self.screens().and_then(|s| s.review.as_ref())
    }

    fn screens(&self) -> Option<&Screens> {
        match &self.state {
            State::Ready { screens, .. } => Some(screens),
            _ => None,
        }
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Job(g, _) | Message::Thumbnail(g, _) | Message::ForProject(g, _)
                if g != self.generation =>
            {
                Task::none()
            }
            Message::ForProject(_, message) => self.update(*message),
            Message::Job(_, event) => self.job_event(event),
            Message::Browse(m) => self.browse_message(m),
            Message::Annotate(m) => self.annotate_message(m),
            Message::Train(m) => self.train_message(m),
            Message::Models(m) => self.models_message(m),
            Message::Review(m) => self.review_message(m),
            Message::Training(id, update) => self.training_update(id, update),
            Message::CloseRequested(id) => self.close_requested(id),
            Message::Close(choice) => self.close_choice(choice),
            Message::Closed(id) => iced::window::close(id),
            Message::Show(screen) => self.show_screen(screen),
            Message::Thumbnail(_, loaded) => {
                if let State::Ready { screens, .. } = &mut self.state {
                    screens.thumbnails.arrived(loaded);
                }
                Task::none()
            }
            Message::Labeled(written) => self.labeled(written),
            Message::Compute(name) => {
                self.compute = Some(name);
                Task::none()
            }
            Message::Recent(projects) => {
                self.recent = projects;
                Task::none()
            }
            Message::DismissNotice => {
                self.notice = None;
                Task::none()
            }
            other => self.dialog_message(other),
        }
    }

    /// The file dialogs, the typed-path bar, and what a chosen path starts.
    fn dialog_message(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::OpenDialog => self.update(Message::Pick(Purpose::OpenProject)),
            Message::ImportDialog(format) => self.update(Message::Pick(Purpose::Import(format))),
            Message::Pick(purpose) => {
                self.prompt = None;
                Task::perform(dialogs::show(purpose), move |p| Message::Picked(purpose, p))
            }
            Message::Picked(purpose, Picked::Chosen(path)) => self.chosen(purpose, path),
            Message::Picked(_, Picked::Cancelled) => Task::none(),
            Message::Picked(purpose, Picked::Unavailable) => {
                self.prompt = Some(Prompt::new(purpose));
                iced::widget::operation::focus(view::PROMPT_ID)
            }
            Message::PromptText(t) => {
                if let Some(p) = &mut self.prompt {
                    p.text = t;
                    p.error = None;
                }
                Task::none()
            }
            Message::PromptSubmit => self.prompt_submit(),
            Message::PromptChecked(purpose, checked) => self.prompt_checked(purpose, checked),
            Message::PromptCancel => {
                self.prompt = None;
                Task::none()
            }
            Message::Open(Some(path)) => {
                self.carried.clear();
                self.select = None;
                self.open(path)
            }
            Message::Import(format, Some(src)) => self.import(format, src),
            _ => Task::none(),
        }
    }

    /// OK on the typed path: it is checked off the UI thread (the check looks at the disk).
    fn prompt_submit(&mut self) -> Task<Message> {
        let Some(p) = &self.prompt else {
            return Task::none();
        };
        let (purpose, typed) = (p.purpose, p.text.clone());
        crate::gui::background::job(
            "check-path",
            move || purpose.check(&typed),
            move |checked| Message::PromptChecked(purpose, checked),
        )
    }

    /// The typed path was checked: it is used, or the bar says what is wrong with it.
    fn prompt_checked(
        &mut self,
        purpose: Purpose,
        checked: Result<PathBuf, crate::gui::dialogs::PathProblem>,
    ) -> Task<Message> {
        let Some(p) = self.prompt.as_mut().filter(|p| p.purpose == purpose) else {
            return Task::none();
        };
        match checked {
            Ok(path) => {
                self.prompt = None;
                self.chosen(purpose, path)
            }
            Err(e) => {
                p.error = Some(e);
                Task::none()
            }
        }
    }

    /// A path was chosen (in the dialog or typed) for `purpose`.
    fn chosen(&mut self, purpose: Purpose, path: PathBuf) -> Task<Message> {
        self.update(match purpose {
            Purpose::OpenProject => Message::Open(Some(path)),
            Purpose::Import(format) => Message::Import(format, Some(path)),
            Purpose::Weights(task) => Message::Train(train::Message::Weights(task, Some(path))),
            Purpose::LinkedExport => Message::Review(review::Message::Linked(
                review::linked::Message::Export(Some(path)),
            )),
        })
    }

    /// `task` of the open project's screens, its messages made app messages by `wrap` and
    /// tagged with the project: they are dropped if another project is open when they come.
    fn tagged<M: Send + 'static>(&self, task: Task<M>, wrap: fn(M) -> Message) -> Task<Message> {
        let generation = self.generation;
        task.map(move |m| Message::ForProject(generation, Box::new(wrap(m))))
    }

    /// Runs a screen's own work and carries out its requests, in order.
    fn perform<M: Send + 'static, R>(
        &mut self,
        action: Action<M, R>,
        wrap: fn(M) -> Message,
        mut request: impl FnMut(&mut App, R) -> Task<Message>,
    ) -> Task<Message> {
        let mut tasks = vec![self.tagged(action.task, wrap)];
        for r in action.requests {
            tasks.push(request(self, r));
        }
        Task::batch(tasks)
    }

    /// Whether this window's training is running (or stopping).
    pub fn training_active(&self) -> bool {
        self.training.as_ref().is_some_and(|t| t.phase.is_active())
    }

    /// The message shown above the screen (an import's outcome, read-only, problems found).
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn title(&self) -> String {
        match &self.state {
            State::Ready { project, .. } if project.is_read_only() => {
                format!("Nerve Studio — {} (read-only)", project.manifest.name)
            }
            State::Ready { project, .. } => format!("Nerve Studio — {}", project.manifest.name),
            _ => "Nerve Studio".into(),
        }
    }

    pub fn theme(&self) -> Theme {
        Theme::Dark
    }

    /// The window's close button, and the subscription of the screen shown.
    pub fn subscription(&self) -> Subscription<Message> {
        let close = iced::window::close_requests().map(Message::CloseRequested);
        let State::Ready { screens, .. } = &self.state else {
            return close;
        };
        // Annotate's autosave ticks run whatever tab is shown: edits must reach the disk.
        let annotate = screens
            .annotate
            .as_ref()
            .map_or_else(Subscription::none, |a| {
                a.subscription().map(Message::Annotate)
            });
        let shown = match self.screen {
            Screen::Images if screens.annotate.is_none() => {
                screens.browse.subscription().map(Message::Browse)
            }
            Screen::Images => Subscription::none(),
            Screen::Train => screens
                .train
                .as_ref()
                .map_or_else(Subscription::none, |s| s.subscription().map(Message::Train)),
            Screen::Models => screens
                .models
                .as_ref()
                .map_or_else(Subscription::none, |s| {
                    s.subscription().map(Message::Models)
                }),
            Screen::Review => screens
                .review
                .as_ref()
                .map_or_else(Subscription::none, |s| {
                    s.subscription().map(Message::Review)
                }),
        };
        Subscription::batch([close, annotate, shown])
    }
}
