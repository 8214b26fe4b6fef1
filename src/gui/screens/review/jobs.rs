//! The Review screen's background work: building the review, the pictures, the reviewer's
//! writes (on other threads; the app then records them in the open project), the report, the
//! comparison, and the linked view's playback and export. `perform` turns what an update wants
//! into that work, or into a request to the app.

use super::{Action, Job, Message, Panes, Request, Review, linked as linked_view};
use crate::gui::background::{Handover, job, spawn};
use crate::gui::screens::Context;
use crate::ml::device::{self, DeviceChoice};
use crate::project::{ImageLabel, Project};
use crate::review::decisions::{self, AcceptPaths, review_dir};
use crate::review::linked::{self, Linked};
use crate::review::{Error, Models, overlay, report, table};
use iced::Task;
use iced::widget::image::Handle;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

impl Review {
    pub(super) fn perform(&mut self, wanted: Job, ctx: &Context) -> Action {
        let root = ctx.root().to_path_buf();
        let choice = ctx.settings.device;
        match wanted {
            Job::None => Action::none(),
            Job::Many(jobs) => jobs
                .into_iter()
                .fold(Action::none(), |all, j| all.and(self.perform(j, ctx))),
            Job::List => Action::run(job(
                "registry",
                move || crate::ml::registry::list(&root),
                Message::Listed,
            )),
            Job::Build(models) => {
                let stop = self.builds.start();
                Action::run(build_task(root, models, choice, stop))
            }
            Job::Compare(id) => {
                let stop = self.comparing.start();
                Action::run(compare_task(root, id, choice, stop))
            }
            Job::Panes(stem) => Action::run(self.panes_task(stem, ctx.project)),
            Job::Accept(stem, take) => self.accept(stem, take, ctx),
            Job::Undo(accepted) => self.undo_task(*accepted, ctx),
            Job::Flag(stem, comment) => flag_task(stem, comment, ctx.project),
            Job::FocusComment => Action::run(iced::widget::operation::focus("review-comment")),
            Job::Edit(stem) => Action::request(Request::Edit(stem)),
            Job::WriteLog(run, log, generation) => Action::run(job(
                "review-log",
                move || decisions::write_log(&root, &run, &log, generation),
                Message::LogWritten,
            )),
            Job::Report(table, log) => Action::run(job(
                "review-report",
                move || report::write(&table, &log),
                Message::ReportWritten,
            )),
            Job::Linked(j) => self.linked_job(j, ctx),
            Job::Written(w) => Action::request(Request::Written(w)),
        }
    }

    /// The three pictures of `stem`, made on another thread.
    fn panes_task(&self, stem: String, project: &Project) -> Task<Message> {
        let (Some(t), Some(entry)) = (&self.table, project.get(&stem)) else {
            return Task::none();
        };
        let photo = project.image_path(entry);
        let truth = entry.has_mask.then(|| project.mask_path(&stem));
        let prediction = t.prediction_path(&stem);
        let threshold = t.threshold;
        let stream = spawn("review-panes", move |send| {
            send(
                match panes(stem.clone(), photo, truth, prediction, threshold) {
                    Ok(p) => Message::PanesReady(Handover::new(p)),
                    Err(e) => Message::PanesFailed(stem, e),
                },
            )
        });
        Task::run(stream, |m| m)
    }

    /// Writes the prediction as truth on another thread; the app records the files written.
    fn accept(&self, stem: String, take: decisions::Take, ctx: &Context) -> Action {
        let (Some(t), Some(entry)) = (&self.table, ctx.project.get(&stem)) else {
            return Action::none();
        };
        let Some(paths) = accept_paths(ctx.root(), ctx.project, t, &stem) else {
            return Action::none();
        };
        let label = entry.label.clone();
        // The row's new scores are worked out on the thread, on a copy of the table made there.
        let shared = std::sync::Arc::clone(t);
        Action::run(job(
            "review-accept",
            move || {
                let mut table = table::Review::clone(&shared);
                let a = decisions::accept(&table, &stem, &label, &paths, take)?;
                decisions::apply_accepted(&mut table, &a)?;
                let row = table
                    .row(&a.stem)
                    .cloned()
                    .ok_or_else(|| Error::image(&a.stem, "it left the review"))?;
                Ok((a, row))
            },
            |result| Message::Accepted(Handover::new(result)),
        ))
    }

    /// Puts back what an acceptance replaced, on another thread.
    fn undo_task(&self, accepted: decisions::Accepted, ctx: &Context) -> Action {
        let Some(t) = &self.table else {
            return Action::none();
        };
        let Some(paths) = accept_paths(ctx.root(), ctx.project, t, &accepted.stem) else {
            return Action::none();
        };
        Action::run(job(
            "review-undo",
            move || decisions::undo(&accepted, &paths).map(|has_mask| (accepted, has_mask)),
            |result| Message::Undone(Handover::new(result)),
        ))
    }

    /// An image opened from Review was edited and Annotate closed: its row is scored again
    /// against the mask just saved (`mask`, when it was edited), off the UI thread.
    pub fn edited_in_annotate(
        &self,
        stem: &str,
        label: ImageLabel,
        mask: Option<crate::mask::Mask>,
    ) -> Task<Message> {
        let Some(table) = &self.table else {
            return Task::none();
        };
        let (Some(row), prediction) = (table.row(stem).cloned(), table.prediction_path(stem))
        else {
            return Task::none();
        };
        let (classes, nerve, threshold) = (table.classes.clone(), table.nerve, table.threshold);
        job(
            "review-rescore",
            move || {
                let truth = mask.map(|m| {
                    image::GrayImage::from_raw(m.width(), m.height(), m.as_bytes().to_vec())
                        .expect("a mask's bytes fill its size")
                });
                decisions::rescore(row, &label, truth, prediction, &classes, nerve, threshold)
            },
            Message::Rescored,
        )
    }

    fn linked_job(&mut self, j: linked_view::Job, ctx: &Context) -> Action {
        let root = ctx.root().to_path_buf();
        let choice = ctx.settings.device;
        let to = |stream: std::pin::Pin<
            Box<dyn iced::futures::Stream<Item = linked_view::Message> + Send>,
        >| { Action::run(Task::run(stream, Message::Linked)) };
        match j {
            linked_view::Job::None => Action::none(),
            linked_view::Job::Experiments => {
                self.linked
                    .set_experiments(linked::experiments(ctx.project));
                Action::none()
            }
            linked_view::Job::Play {
                models,
                experiment,
                stop,
                run,
            } => to(Box::pin(spawn("linked-play", move |send| {
                let result = load(&root, &models, choice).and_then(|l| {
                    linked::play(&root, &l, &experiment, &stop, &mut |f, total| {
                        let frame = Handover::new(shown(f));
                        send(linked_view::Message::Frame(run, frame, total))
                    })
                });
                send(linked_view::Message::Done(run, result));
            }))),
            linked_view::Job::ExportDialog => Action::request(Request::PickExport),
            linked_view::Job::Export {
                models,
                experiment,
                to: out,
            } => to(Box::pin(spawn("linked-export", move |send| {
                let result = load(&root, &models, choice).and_then(|l| {
                    linked::export(&root, &l, &experiment, &out, &mut |d, t| {
                        send(linked_view::Message::ExportProgress(d, t))
                    })
                });
                send(linked_view::Message::Exported(result));
            }))),
        }
    }
}

/// Builds the review of `models` (predicting what is missing) with the decisions recorded,
/// reporting progress.
fn build_task(
    root: PathBuf,
    models: Models,
    choice: DeviceChoice,
    stop: Arc<AtomicBool>,
) -> Task<Message> {
    let stream = spawn("review-build", move |send| {
        let mut progress = |what: &str, d, t| send(Message::Progress(what.to_string(), d, t));
        let built = build(&root, &models, choice, &stop, &mut progress);
        send(Message::Built(Handover::new(built)));
    });
    Task::run(stream, |m| m)
}

/// The review of another segmenter, for the image-by-image comparison.
fn compare_task(
    root: PathBuf,
    id: String,
    choice: DeviceChoice,
    stop: Arc<AtomicBool>,
) -> Task<Message> {
    job(
        "review-compare",
        move || {
            let models = Models {
                segmenter: Some(id),
                classifier: None,
            };
            build(&root, &models, choice, &stop, &mut |_, _, _| {}).map(|b| b.0)
        },
        |built| Message::Compared(Handover::new(built)),
    )
}

/// Flags an image with the reviewer's comment, on another thread.
fn flag_task(stem: String, comment: String, project: &Project) -> Action {
    let Some(entry) = project.get(&stem) else {
        return Action::none();
    };
    let label = decisions::flag(&entry.label, &comment);
    let path = project.label_path(&stem);
    Action::run(job(
        "review-flag",
        move || {
            crate::project::write_label(&path, &label)
                .map(|()| (stem, label))
                .map_err(Error::from)
        },
        Message::Flagged,
    ))
}

/// Builds the review of `models` (predicting what is missing) with the decisions recorded.
fn build(
    root: &Path,
    models: &Models,
    choice: DeviceChoice,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(&str, usize, usize),
) -> Result<(table::Review, Vec<decisions::Decision>), Error> {
    let device = device::select(choice)?;
    let review = table::build(root, models, &device, stop, progress)?;
    let log = match models.primary() {
        Some(run) => decisions::read_log(root, run)?,
        None => Vec::new(),
    };
    Ok((review, log))
}

/// The three pictures of one image (run off the UI thread).
fn panes(
    stem: String,
    photo: PathBuf,
    truth: Option<PathBuf>,
    prediction: Option<PathBuf>,
    threshold: f64,
) -> Result<Panes, Error> {
    let rgb = crate::project::thumbnails::decode_image(&photo)?.to_rgb8();
    let truth = truth.map(|p| table::read_gray(&p)).transpose()?;
    let map = match prediction {
        Some(p) if p.exists() => Some(table::read_gray(&p)?),
        _ => None,
    };
    let size = rgb.dimensions();
    let images = overlay::panes(&rgb, truth.as_ref(), map.as_ref(), threshold)
        .map(|img| Handle::from_rgba(size.0, size.1, img.into_raw()));
    Ok(Panes { stem, size, images })
}

/// The files accepting (or undoing the acceptance of) `stem` touches.
fn accept_paths(
    root: &Path,
    project: &Project,
    table: &table::Review,
    stem: &str,
) -> Option<AcceptPaths> {
    let run = table.models.primary()?;
    Some(AcceptPaths {
        mask: project.mask_path(stem),
        label: project.label_path(stem),
        prediction: table.prediction_path(stem),
        keep_dir: review_dir(root, run).join("replaced-masks"),
    })
}

fn load(root: &Path, models: &Models, choice: DeviceChoice) -> Result<Linked, Error> {
    let segmenter = models
        .segmenter
        .as_deref()
        .ok_or_else(|| Error::Setup("choose a segmenter run".into()))?;
    Linked::load(
        root,
        models.classifier.as_deref(),
        segmenter,
        device::select(choice)?,
    )
}

fn shown(f: linked::Frame) -> linked_view::Shown {
    let (w, h) = f.picture.dimensions();
    let rgba = image::DynamicImage::ImageRgb8(f.picture).to_rgba8();
    linked_view::Shown {
        stem: f.stem,
        index: f.index,
        call: f.call,
        iou: f.iou,
        ms: f.ms,
        picture: Handle::from_rgba(w, h, rgba.into_raw()),
    }
}
