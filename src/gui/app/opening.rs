//! Opening a project (making the demo first when it is the missing default), importing into
//! it, and giving the project up for a job that writes it: all on other threads, with progress.

use super::annotating::{last_saves, write_save};
use super::{App, JobEvent, Message, Screen, Screens, State};
use crate::gui::background::{Handover, job, spawn};
use crate::gui::recent::Recent;
use crate::gui::screens::browse::Browse;
use crate::gui::thumbnails::{ThumbnailLoader, Thumbnails};
use crate::project::demo::{self, DemoOptions};
use crate::project::exchange::{self, ImportFormat};
use crate::project::{Access, Project};
use iced::Task;
use std::path::{Path, PathBuf};

impl App {
    /// Opens `path` in the background (generating the demo first when it is the missing default).
    pub fn open(&mut self, path: PathBuf) -> Task<Message> {
        self.generation += 1;
        let generation = self.generation;
        self.state = State::Busy {
            title: "Opening project".into(),
            detail: path.display().to_string(),
            progress: None,
        };
        let make_demo = !path.exists() && path == Path::new(super::DEMO_PROJECT);
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

    pub(super) fn job_event(&mut self, event: JobEvent) -> Task<Message> {
        match event {
            JobEvent::Progress(title, done, total) => {
                if let State::Busy {
                    title: t, progress, ..
                } = &mut self.state
                {
                    *t = title;
                    *progress = Some((done, total));
                }
                Task::none()
            }
            JobEvent::Notice(n) => {
                self.notice = Some(n);
                Task::none()
            }
            JobEvent::Failed(path, error) => {
                self.state = State::Failed { path, error };
                Task::none()
            }
            JobEvent::Opened(handover) => match handover.take() {
                Some(project) => self.opened(project),
                None => Task::none(),
            },
        }
    }

    pub(super) fn import(&mut self, format: ImportFormat, src: PathBuf) -> Task<Message> {
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
    /// the project's lock to write): the job's thread first writes the unsaved edits, the
    /// window shows `title` and the job's progress, then the notice the job returns, and
    /// reopens the project.
    pub(super) fn with_project_released(
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
        let State::Ready { project, screens } = std::mem::replace(&mut self.state, busy) else {
            return Task::none();
        };
        let open = screens.annotate.map(|mut s| s.flush()).unwrap_or_default();
        let saves = last_saves(std::mem::take(&mut self.carried), open);
        self.generation += 1;
        let generation = self.generation;
        let stream = spawn(name, move |send| {
            for save in &saves {
                if let Err(e) = write_save(save, &project) {
                    send(JobEvent::Notice(format!("{} is not saved: {e}", save.stem)));
                }
            }
            let root = project.root().to_path_buf();
            drop(project);
            send(JobEvent::Notice(job(&root, send)));
            send(reopen(root));
        });
        Task::run(stream, move |e| Message::Job(generation, e))
    }

    /// A project finished opening: its screens start afresh on Browse, loading what they show.
    fn opened(&mut self, project: Project) -> Task<Message> {
        // A job's notice (an import's outcome) stays unless opening has something to say.
        if let Some(n) = open_notice(&project) {
            self.notice = Some(n);
        }
        let remember = self.remember_task(project.root());
        let (loader, results) = ThumbnailLoader::new(project.cache_dir());
        let select = self.select.take();
        let thumbnails = Thumbnails::default();
        let ctx = crate::gui::screens::Context {
            project: &project,
            thumbnails: &thumbnails,
            settings: &self.settings,
            training: self.training.as_ref(),
        };
        let (browse, scroll) = Browse::new(&ctx, select.clone());
        let screens = Box::new(Screens {
            thumbnails,
            loader,
            browse,
            annotate: None,
            train: None,
            models: None,
            review: None,
        });
        let annotate = select.filter(|s| self.open_annotate && project.get(s).is_some());
        self.state = State::Ready {
            project: Box::new(project),
            screens,
        };
        let generation = self.generation;
        let mut tasks = vec![
            remember,
            Task::run(results, move |l| Message::Thumbnail(generation, l)),
            self.tagged(scroll, Message::Browse),
            self.browse_thumbnails(),
        ];
        if let Some(stem) = annotate {
            tasks.push(self.open_annotate(stem, Screen::Images));
        }
        if self.screen != Screen::Images {
            tasks.push(self.show_screen(self.screen));
        }
        Task::batch(tasks)
    }

    /// Records the project among the recent ones, on another thread.
    fn remember_task(&self, root: &Path) -> Task<Message> {
        if !self.remember {
            return Task::none();
        }
        let root = root.to_path_buf();
        job(
            "recent-projects",
            move || {
                Recent::remember(&root);
                Recent::load().projects
            },
            Message::Recent,
        )
    }
}

/// What to tell the user about a project just opened: read-only, or the first problem found.
fn open_notice(project: &Project) -> Option<String> {
    if let Access::ReadOnly { held_by } = project.access() {
        return Some(format!("Opened read-only: {}.", held_by.read_only_reason()));
    }
    let first = project.open_problems.first()?;
    let more = match project.open_problems.len() {
        1 => String::new(),
        n => format!(" (and {} more; `nerve-studio info` lists them)", n - 1),
    };
    Some(format!("{}: {}{more}", first.file, first.problem))
}

/// Opens the project at `root` (on a job's thread) and hands it to the window.
fn reopen(root: PathBuf) -> JobEvent {
    match Project::open(&root) {
        Ok(p) => JobEvent::Opened(Handover::new(p)),
        Err(e) => JobEvent::Failed(root, e.to_string()),
    }
}

/// Finds the device training will use (enumerating GPU adapters can take a moment).
pub(super) fn detect_compute() -> Task<Message> {
    job(
        "compute-device",
        || match crate::ml::device::select(crate::ml::device::DeviceChoice::Auto) {
            Ok(d) if d.gpu => format!("GPU: {}", d.name),
            Ok(d) => d.name,
            Err(e) => e.to_string(),
        },
        Message::Compute,
    )
}
