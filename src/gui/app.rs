//! The application: which project is open, routing to the screen, and the background jobs
//! (opening, demo generation, import, thumbnails) whose events come back as messages.

use super::Launch;
use super::background::{Handover, spawn};
use super::dialogs::{self, Picked, Prompt, Purpose};
use super::recent::Recent;
use super::screens::annotate::{self, Annotate, ImageKey, LoadedImage, SaveJob, SaveOutcome};
use super::screens::browse::{self, Browse};
use super::screens::models::{self, Models};
use super::screens::review::{self, Review};
use super::screens::train::{self, Train};
use super::screens::welcome;
use super::thumbnails::{Loaded, Request, ThumbnailLoader};
use super::training::{self, Phase, Session};
use crate::project::demo::{self, DemoOptions};
use crate::project::exchange::{self, ImportFormat};
use crate::project::{Access, Project};
use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Length, Subscription, Task, Theme};
use std::path::{Path, PathBuf};

mod annotating;
mod jobs;
mod labeling;
mod reviewing;

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
    Ready {
        project: Box<Project>,
        browse: Box<Browse>,
        loader: ThumbnailLoader,
        /// The Annotate screen, over Browse, when an image is open.
        annotate: Option<Box<Annotate>>,
    },
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
    Train(train::Message),
    Models(models::Message),
    Review(review::Message),
    Training(u64, training::Update),
    Close(CloseChoice),
    Browse(browse::Message),
    Annotate(annotate::Message),
    /// The window's close button: save what is unsaved, then close.
    CloseRequested(iced::window::Id),
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
    PromptCancel,
    DismissNotice,
    /// The device training and inference will use (found on another thread at start).
    Compute(String),
    /// Another screen wrote an image's label (and perhaps its mask) on a background thread.
    Saved(String, crate::project::ImageLabel, bool),
    /// An image's label and mask were put back as they were (undo): whether it has a mask.
    Restored(String, crate::project::ImageLabel, bool),
    /// Browse's labeling of many images (or its undo) was written, or failed.
    Labeled(labeling::Written),
    /// What a background write of the project at this folder reported: dropped when another
    /// project is open by the time it arrives (its files were written; this window's index
    /// and screens describe another project).
    ForProject(PathBuf, Box<Message>),
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
    /// Events of older jobs are dropped (a generation counter).
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
    pub train: Train,
    pub models: Models,
    pub review: Review,
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
            train: Train::new(),
            models: Models::default(),
            review: Review::default(),
            training: None,
            jobs: 0,
            closing: None,
            carried: Default::default(),
            annotate_from: Screen::Images,
            prompt: None,
        };
        let task = app.open(path);
        (app, Task::batch([task, detect_compute()]))
    }

    /// Opens `path` in the background (generating the demo first when it is the missing default).
    pub fn open(&mut self, path: PathBuf) -> Task<Message> {
        self.generation += 1;
        let generation = self.generation;
        self.state = State::Busy {
            title: "Opening project".into(),
            detail: path.display().to_string(),
            progress: None,
        };
        let make_demo = !path.exists() && path == Path::new(DEMO_PROJECT);
        let stream = spawn("open-project", move |send| {
            if make_demo {
                let mut report = |done, total| {
                    send(JobEvent::Progress(
                        "Generating the demo project".into(),
                        done,
                        total,
                    ))
                };
                if let Err(e) = demo::generate(&path, &DemoOptions::default(), &mut report) {
                    return send(JobEvent::Failed(path, e.to_string()));
                }
            }
            send(reopen(path));
        });
        Task::run(stream, move |e| Message::Job(generation, e))
    }

    fn import(&mut self, format: ImportFormat, src: PathBuf) -> Task<Message> {
        let detail = src.display().to_string();
        // The import takes the project's lock itself.
        self.with_project_released("import", "Importing", detail, move |dest, send| {
            let mut report = |stage: &str, done, total| {
                send(JobEvent::Progress(
                    format!("Importing: {stage}"),
                    done,
                    total,
                ))
            };
            match exchange::import(format, &src, dest, &mut report) {
                Ok(r) => format!(
                    "Imported {} images ({} with masks) from {}",
                    r.images,
                    r.masks,
                    src.display()
                ),
                Err(e) => format!("Nothing was imported: {e}"),
            }
        })
    }

    /// Runs `job` on its own thread while the window lets go of the project (for jobs that take
    /// the project's lock to write): unsaved edits are written first, the window shows `title`
    /// and the job's progress, then the notice the job returns, and reopens the project.
    fn with_project_released(
        &mut self,
        name: &str,
        title: &str,
        detail: String,
        job: impl FnOnce(&Path, &dyn Fn(JobEvent)) -> String + Send + 'static,
    ) -> Task<Message> {
        if !matches!(self.state, State::Ready { .. }) {
            return Task::none();
        }
        let busy = State::Busy {
            title: title.into(),
            detail,
            progress: None,
        };
        let State::Ready {
            project, annotate, ..
        } = std::mem::replace(&mut self.state, busy)
        else {
            return Task::none();
        };
        let jobs = annotate.map(|mut s| s.flush()).unwrap_or_default();
        for job in last_saves(std::mem::take(&mut self.carried), jobs) {
            let _ = write_save(&job, &project);
        }
        let root = project.root().to_path_buf();
        drop(project);
        self.generation += 1;
        let generation = self.generation;
        let stream = spawn(name, move |send| {
            send(JobEvent::Notice(job(&root, send)));
            send(reopen(root));
        });
        Task::run(stream, move |e| Message::Job(generation, e))
    }

    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Job(g, _) | Message::Thumbnail(g, _) if g != self.generation => Task::none(),
            Message::Job(_, JobEvent::Progress(title, done, total)) => {
                if let State::Busy {
                    title: t, progress, ..
                } = &mut self.state
                {
                    *t = title;
                    *progress = Some((done, total));
                }
                Task::none()
            }
            Message::Job(_, JobEvent::Notice(n)) => {
                self.notice = Some(n);
                Task::none()
            }
            Message::Job(_, JobEvent::Failed(path, error)) => {
                self.state = State::Failed { path, error };
                Task::none()
            }
            Message::Job(_, JobEvent::Opened(handover)) => match handover.take() {
                Some(project) => self.show(project),
                None => Task::none(),
            },
            Message::Browse(m) => {
                let State::Ready {
                    project,
                    browse,
                    loader,
                    annotate,
                } = &mut self.state
                else {
                    return Task::none();
                };
                let action = browse.update(m, project);
                if matches!(
                    action,
                    browse::Action::Label(..) | browse::Action::Restore(..)
                ) {
                    return self.label_many(action);
                }
                let task = match &action {
                    browse::Action::Refiltered(_) => browse.scroll_to_top().map(Message::Browse),
                    browse::Action::Annotate(stem) => {
                        let carried = self.carried.values().cloned().collect();
                        let (screen, task) =
                            open_annotate(project, browse, loader, stem.clone(), carried);
                        *annotate = Some(screen);
                        self.annotate_from = Screen::Images;
                        task
                    }
                    _ => Task::none(),
                };
                perform(action, project, loader);
                task
            }
            Message::Annotate(m) => self.annotate_message(m),
            Message::CloseRequested(id) => {
                if self.training_active() {
                    self.closing = Some(Closing::Asking(id));
                    return Task::none();
                }
                self.close_now(id)
            }
            Message::Close(choice) => {
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
            Message::Show(screen) => self.show_screen(screen),
            Message::Train(m) => {
                let action = self.train.update(m);
                self.train_action(action)
            }
            Message::Models(m) => {
                let action = self.models.update(m);
                self.models_action(action)
            }
            Message::Review(m) => {
                let action = self.review.update(m);
                self.review_action(action)
            }
            Message::Training(id, update) => self.training_update(id, update),
            Message::Thumbnail(_, loaded) => {
                if let State::Ready { browse, .. } = &mut self.state {
                    browse.thumbnail_loaded(loaded.stem, loaded.pixels);
                }
                Task::none()
            }
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
                iced::widget::operation::focus(PROMPT_ID)
            }
            Message::PromptText(t) => {
                if let Some(p) = &mut self.prompt {
                    p.text = t;
                    p.error = None;
                }
                Task::none()
            }
            Message::PromptSubmit => {
                let Some(p) = &mut self.prompt else {
                    return Task::none();
                };
                match p.purpose.check(&p.text) {
                    Ok(path) => {
                        let purpose = p.purpose;
                        self.prompt = None;
                        self.chosen(purpose, path)
                    }
                    Err(e) => {
                        p.error = Some(e);
                        Task::none()
                    }
                }
            }
            Message::PromptCancel => {
                self.prompt = None;
                Task::none()
            }
            Message::Open(Some(path)) => {
                self.carried.clear();
                self.state = State::Busy {
                    title: "Opening project".into(),
                    detail: path.display().to_string(),
                    progress: None,
                };
                self.select = None;
                self.open(path)
            }
            Message::Import(format, Some(src)) => self.import(format, src),
            Message::Open(None) | Message::Import(_, None) => Task::none(),
            Message::DismissNotice => {
                self.notice = None;
                Task::none()
            }
            Message::Compute(name) => {
                self.compute = Some(name);
                Task::none()
            }
            Message::ForProject(root, message) => match self.root() {
                Some(open) if open == root => self.update(*message),
                _ => Task::none(),
            },
            Message::Saved(stem, label, has_mask) => self.written(&stem, label, has_mask, false),
            Message::Labeled(written) => self.labeled(written),
            Message::Restored(stem, label, has_mask) => self.written(&stem, label, has_mask, true),
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

    /// Another screen wrote an image's label and perhaps its mask (`restored`: the files were
    /// put back as they were, so "no mask" means the mask file is gone).
    fn written(
        &mut self,
        stem: &str,
        label: crate::project::ImageLabel,
        has_mask: bool,
        restored: bool,
    ) -> Task<Message> {
        if let State::Ready {
            project, browse, ..
        } = &mut self.state
        {
            project.record_saved(stem, label, has_mask);
            if restored && !has_mask {
                project.record_no_mask(stem);
            }
            browse.refresh(project);
        }
        Task::none()
    }

    /// A project finished opening: show Browse and start loading its first thumbnails.
    fn show(&mut self, project: Project) -> Task<Message> {
        let mut tasks = Vec::new();
        if self.remember {
            Recent::remember(project.root());
            self.recent = Recent::load().projects;
        }
        if let Some(first) = project.open_problems.first() {
            let more = match project.open_problems.len() {
                1 => String::new(),
                n => format!(" (and {} more; `nerve-studio info` lists them)", n - 1),
            };
            self.notice = Some(format!("{}: {}{more}", first.file, first.problem));
        }
        if let Access::ReadOnly { held_by } = project.access() {
            self.notice = Some(format!("Opened read-only: {}.", held_by.read_only_reason()));
        }
        let (loader, results) = ThumbnailLoader::new(project.cache_dir());
        let select = self.select.take();
        let (browse, action, scroll) = Browse::new(&project, select.clone());
        perform(action, &project, &loader);
        let annotate = match select.filter(|s| self.open_annotate && project.get(s).is_some()) {
            Some(stem) => {
                let carried = self.carried.values().cloned().collect();
                let (screen, task) = open_annotate(&project, &browse, &loader, stem, carried);
                tasks.push(task);
                Some(screen)
            }
            None => None,
        };
        self.state = State::Ready {
            project: Box::new(project),
            browse: Box::new(browse),
            loader,
            annotate,
        };
        let generation = self.generation;
        tasks.push(Task::run(results, move |l| {
            Message::Thumbnail(generation, l)
        }));
        tasks.push(scroll.map(Message::Browse));
        if self.screen != Screen::Images {
            tasks.push(self.show_screen(self.screen));
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

    pub fn subscription(&self) -> Subscription<Message> {
        let close = iced::window::close_requests().map(Message::CloseRequested);
        let ticks = match &self.state {
            State::Ready {
                annotate: Some(a), ..
            } if a.wants_ticks() => iced::time::every(std::time::Duration::from_millis(200))
                .map(|t| Message::Annotate(annotate::Message::Tick(t))),
            _ => Subscription::none(),
        };
        // Browse's keys (Shift/Ctrl+click, Ctrl+A, Esc, Ctrl+Z) while its grid is shown.
        let browse_keys = match &self.state {
            State::Ready { annotate: None, .. } if self.screen == Screen::Images => {
                iced::event::listen_with(|event, status, _| {
                    browse::Browse::key_event(event, status).map(Message::Browse)
                })
            }
            _ => Subscription::none(),
        };
        Subscription::batch([close, ticks, browse_keys])
    }

    pub fn view(&self) -> Element<'_, Message> {
        let body: Element<'_, Message> = match &self.state {
            State::Busy {
                title,
                detail,
                progress,
            } => welcome::busy(title.clone(), detail.clone(), *progress),
            State::Failed { path, error } => {
                welcome::failed(path, error, &self.recent, Message::OpenDialog, |p| {
                    Message::Open(Some(p))
                })
            }
            State::Ready { .. } if self.screen == Screen::Train => {
                self.train.view(self.training.as_ref()).map(Message::Train)
            }
            State::Ready { project, .. } if self.screen == Screen::Models => self
                .models
                .view(self.training_active(), project.is_read_only())
                .map(Message::Models),
            State::Ready { project, .. } if self.screen == Screen::Review => self
                .review
                .view(project.is_read_only())
                .map(Message::Review),
            State::Ready {
                project,
                browse,
                annotate: Some(screen),
                ..
            } => screen.view(project, browse).map(Message::Annotate),
            State::Ready {
                project, browse, ..
            } => browse.view(project).map(Message::Browse),
        };
        let mut page = column![self.toolbar()].spacing(8).padding(8);
        if let Some(closing) = self.closing {
            page = page.push(close_question(closing));
        }
        if let Some(p) = &self.prompt {
            page = page.push(prompt_bar(p));
        }
        if let Some(n) = &self.notice {
            page = page.push(
                container(
                    row![
                        text(n).size(14).width(Length::Fill),
                        button(text("Dismiss").size(13))
                            .style(button::secondary)
                            .on_press(Message::DismissNotice)
                    ]
                    .align_y(Alignment::Center)
                    .spacing(10),
                )
                .padding([6, 10])
                .style(container::warning),
            );
        }
        page.push(body).into()
    }

    fn toolbar(&self) -> Element<'_, Message> {
        let (name, path, read_only) = match &self.state {
            State::Ready { project, .. } => (
                project.manifest.name.clone(),
                project.root().display().to_string(),
                project.is_read_only(),
            ),
            _ => ("Nerve Studio".into(), String::new(), false),
        };
        let ready = matches!(self.state, State::Ready { .. });
        let import = |label: &'static str, f: ImportFormat| {
            button(text(label).size(13))
                .style(button::secondary)
                .on_press_maybe((ready && !read_only).then_some(Message::ImportDialog(f)))
        };
        let mut title = row![text(name).size(20)]
            .spacing(10)
            .align_y(Alignment::Center);
        if read_only {
            title = title.push(super::style::chip(
                "read-only",
                iced::Color::from_rgb8(0xF0, 0xAD, 0x4E),
            ));
        }
        title = title.push(text(path).size(12).style(super::style::muted));
        let compute = self
            .compute
            .as_deref()
            .unwrap_or("finding the compute device…");
        let tab = |label: &'static str, screen: Screen| {
            button(text(label).size(14))
                .style(if self.screen == screen {
                    button::primary
                } else {
                    button::text
                })
                .on_press_maybe(ready.then_some(Message::Show(screen)))
        };
        let training_active = self.training_active();
        let status: Element<'_, Message> = match self.training.as_ref() {
            Some(t) if training_active || t.phase == Phase::Paused => {
                let what = match (t.phase == Phase::Paused, t.batch) {
                    (true, _) => "Training paused".to_string(),
                    (false, Some(b)) => format!(
                        "Training: epoch {}/{} · {:.0} %",
                        b.epoch,
                        b.epochs,
                        b.fraction() * 100.0
                    ),
                    (false, None) => "Training: preparing".to_string(),
                };
                button(text(what).size(12))
                    .style(button::secondary)
                    .on_press(Message::Show(Screen::Train))
                    .into()
            }
            // Nothing trains: the device training and inference would use.
            _ => text(compute.replace("(R)", "").replace("(TM)", ""))
                .size(12)
                .style(super::style::muted)
                .wrapping(iced::widget::text::Wrapping::None)
                .into(),
        };
        // A fixed width: the badge's text changes every batch, and the tabs beside it must
        // not move between two clicks.
        let status = container(status)
            .width(Length::Fixed(STATUS_WIDTH))
            .align_x(Alignment::Center)
            .clip(true);
        row![
            title.width(Length::Fill),
            tab("Images", Screen::Images),
            tab("Train", Screen::Train),
            tab("Models", Screen::Models),
            tab("Review", Screen::Review),
            status,
            button(text("Open project…").size(13))
                .on_press_maybe((!training_active).then_some(Message::OpenDialog)),
            import("Import class folders…", ImportFormat::Folders),
            import("Import Supervisely…", ImportFormat::Supervisely),
            import("Import VOC…", ImportFormat::Voc),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
        .into()
    }
}

/// The toolbar's training badge / compute device, in pixels.
const STATUS_WIDTH: f32 = 270.0;

/// The typed-path field's widget id (focused when it appears).
const PROMPT_ID: &str = "typed-path";

/// Where the system has no file dialog: say so, and take a typed path.
fn prompt_bar(p: &Prompt) -> Element<'_, Message> {
    use iced::widget::text_input;
    let mut col = iced::widget::Column::new().spacing(6).push(
        text(format!(
            "{}: this system has no file dialog (it needs a desktop portal or zenity). \
             Type the path instead:",
            p.purpose.title()
        ))
        .size(14),
    );
    col = col.push(
        row![
            text_input("/path/to/…", &p.text)
                .id(PROMPT_ID)
                .on_input(Message::PromptText)
                .on_submit(Message::PromptSubmit)
                .size(14)
                .width(Length::Fill),
            button(text("OK").size(13)).on_press(Message::PromptSubmit),
            button(text("Cancel").size(13))
                .style(button::secondary)
                .on_press(Message::PromptCancel),
        ]
        .spacing(8)
        .align_y(Alignment::Center),
    );
    if let Some(e) = &p.error {
        col = col.push(text(e).size(13).style(text::danger));
    }
    container(col)
        .padding([8, 10])
        .width(Length::Fill)
        .style(container::warning)
        .into()
}

/// "A training is running": stop it, keep it going in the background, or stay.
fn close_question(closing: Closing) -> Element<'static, Message> {
    let body: Element<'static, Message> = match closing {
        Closing::Asking(_) => row![
            text("A training is running. Close the window and…")
                .size(14)
                .width(Length::Fill),
            button(text("Keep training in the background").size(13))
                .on_press(Message::Close(CloseChoice::KeepTraining)),
            button(text("Stop the training").size(13))
                .style(button::danger)
                .on_press(Message::Close(CloseChoice::StopTraining)),
            button(text("Don't close").size(13))
                .style(button::secondary)
                .on_press(Message::Close(CloseChoice::Stay)),
        ]
        .spacing(8)
        .align_y(Alignment::Center)
        .into(),
        Closing::Stopping(_) => text("Stopping the training after this batch, then closing…")
            .size(14)
            .into(),
        Closing::HandingOver(_) => text(
            "Handing the training over to a background process after this batch, then closing…",
        )
        .size(14)
        .into(),
    };
    container(body)
        .padding([8, 10])
        .width(Length::Fill)
        .style(container::warning)
        .into()
}

/// Opens the project at `root` (on a job's thread) and hands it to the window.
fn reopen(root: PathBuf) -> JobEvent {
    match Project::open(&root) {
        Ok(p) => JobEvent::Opened(Handover::new(p)),
        Err(e) => JobEvent::Failed(root, e.to_string()),
    }
}

/// Finds the device training will use (enumerating GPU adapters can take a moment).
fn detect_compute() -> Task<Message> {
    let stream = spawn("compute-device", |send| {
        send(
            match crate::ml::device::select(crate::ml::device::DeviceChoice::Auto) {
                Ok(d) if d.gpu => format!("GPU: {}", d.name),
                Ok(d) => d.name,
                Err(e) => e,
            },
        )
    });
    Task::run(stream, Message::Compute)
}

/// Carries out a screen's wish.
/// The Annotate screen on `stem`, moving through Browse's order, and its first loads.
fn open_annotate(
    project: &Project,
    browse: &Browse,
    loader: &ThumbnailLoader,
    stem: String,
    carried: Vec<(SaveJob, bool)>,
) -> (Box<Annotate>, Task<Message>) {
    let (screen, actions) = Annotate::new(project, browse.order(project), stem, carried);
    let task = Task::batch(
        actions
            .into_iter()
            .map(|a| annotate_action(a, project, loader)),
    );
    (Box::new(screen), task)
}

/// Carries out what the Annotate screen asks for, on other threads.
fn annotate_action(
    action: annotate::Action,
    project: &Project,
    loader: &ThumbnailLoader,
) -> Task<Message> {
    match action {
        annotate::Action::Load(key) => {
            let Some(entry) = project.get(&key.stem) else {
                return Task::none();
            };
            let image_path = project.image_path(entry);
            let mask_path = entry.has_mask.then(|| project.mask_path(&key.stem));
            let stream = spawn("load-image", move |send| {
                send(load_image(&key, &image_path, mask_path.as_deref()))
            });
            Task::run(stream, Message::Annotate)
        }
        annotate::Action::Save(job) => save_task(job, project),
        annotate::Action::WantThumbnails(stems) => {
            perform(browse::Action::WantThumbnails(stems), project, loader);
            Task::none()
        }
        annotate::Action::Back => Task::none(),
        annotate::Action::Adjust(stem, rgba, (w, h), settings) => {
            let stream = spawn("view-adjust", move |send| {
                let handle = iced::widget::image::Handle::from_rgba(w, h, settings.apply(&rgba));
                send(annotate::Message::Adjusted(stem, settings, handle));
            });
            Task::run(stream, Message::Annotate)
        }
    }
}

/// Decodes an image and its mask for the Annotate screen (run off the UI thread).
pub fn load_image(
    key: &ImageKey,
    image_path: &Path,
    mask_path: Option<&Path>,
) -> annotate::Message {
    let loaded = (|| -> Result<LoadedImage, String> {
        let rgba = crate::project::thumbnails::decode_image(image_path)?.to_rgba8();
        let (w, h) = rgba.dimensions();
        let mask = match mask_path {
            Some(p) => {
                let m = crate::mask::read_mask(p).map_err(|e| e.to_string())?;
                if (m.width(), m.height()) != (w, h) {
                    return Err(format!(
                        "{}: the mask is {}x{} but the image is {w}x{h}; fix or remove the mask file",
                        p.display(),
                        m.width(),
                        m.height()
                    ));
                }
                m
            }
            None => crate::mask::Mask::empty(w, h),
        };
        let rgba = std::sync::Arc::new(rgba.into_raw());
        Ok(LoadedImage {
            image: iced::widget::image::Handle::from_rgba(w, h, rgba.as_ref().clone()),
            rgba,
            size: (w, h),
            mask: std::sync::Arc::new(mask),
        })
    })();
    match loaded {
        Ok(l) => annotate::Message::Loaded(key.clone(), Handover::new(l)),
        Err(e) => annotate::Message::LoadFailed(key.clone(), e),
    }
}

fn save_task(job: SaveJob, project: &Project) -> Task<Message> {
    let (mask_path, label_path) = (project.mask_path(&job.stem), project.label_path(&job.stem));
    let root = project.root().to_path_buf();
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
    Task::run(stream, move |m| for_project(&root, Message::Annotate(m)))
}

/// Writes a save job: the mask first, then the label that describes it; both atomically.
fn write_paths(job: &SaveJob, mask_path: &Path, label_path: &Path) -> Result<(), String> {
    if let Some(mask) = &job.mask {
        crate::mask::write_mask(mask_path, mask).map_err(|e| e.to_string())?;
    }
    crate::project::write_label(label_path, &job.label).map_err(|e| e.to_string())
}

/// `message`, to be handled only while the project at `root` is the one open.
pub(super) fn for_project(root: &Path, message: Message) -> Message {
    Message::ForProject(root.to_path_buf(), Box::new(message))
}

/// What must be written before the project is let go (closing, an import): the saves carried
/// from a closed Annotate screen, then the open screen's, which are newer for the same image.
fn last_saves(
    carried: std::collections::HashMap<String, (SaveJob, bool)>,
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

/// Writes a save job synchronously (the last save when the window closes).
pub fn write_save(job: &SaveJob, project: &Project) -> Result<(), String> {
    write_paths(
        job,
        &project.mask_path(&job.stem),
        &project.label_path(&job.stem),
    )
}

fn perform(action: browse::Action, project: &Project, loader: &ThumbnailLoader) {
    match action {
        browse::Action::None
        | browse::Action::Annotate(_)
        | browse::Action::Label(..)
        | browse::Action::Restore(..) => {}
        browse::Action::WantThumbnails(stems) | browse::Action::Refiltered(stems) => loader.want(
            stems
                .into_iter()
                .filter_map(|s| {
                    project.get(&s).map(|e| Request {
                        image: project.image_path(e),
                        stem: s,
                    })
                })
                .collect(),
        ),
    }
}
